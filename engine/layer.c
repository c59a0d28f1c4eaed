/* layer.c — the layer interface's dispatch: each kind's output shape and sizes, and forward/
 * backward handed to the kind's file (dense.c, conv2d.c, pool.c, dropout.c, batchnorm.c).
 * Flatten is here: the column already is the flat vector, so it is a copy. No arithmetic of its
 * own beyond shapes; no allocation. */
#include "layer.h"

#include "dense.h"
#include "error.h"

#include <string.h>

static const char *const KIND_NAMES[][2] = {
    {"Dense", "dense"},
    {"Conv2D", "conv2d"},
    {"MaxPooling2D", "max_pooling2d"},
    {"AveragePooling2D", "average_pooling2d"},
    {"GlobalAveragePooling2D", "global_average_pooling2d"},
    {"Flatten", "flatten"},
    {"Dropout", "dropout"},
    {"BatchNormalization", "batch_normalization"},
};

const char *hood_layer_kind_name(hood_layer_kind kind)
{
    return (unsigned)kind <= (unsigned)HOOD_LAYER_BATCH_NORMALIZATION ? KIND_NAMES[kind][0] : "?";
}

const char *hood_layer_kind_snake(hood_layer_kind kind)
{
    return (unsigned)kind <= (unsigned)HOOD_LAYER_BATCH_NORMALIZATION ? KIND_NAMES[kind][1] : "?";
}

/* One spatial dimension of a window: TensorFlow's rule. valid: floor((in - k) / s) + 1 (needs
 * in >= k); same: ceil(in / s), padding total max((out - 1) * s + k - in, 0), the smaller half
 * before. false when the window does not fit. */
static bool window_dim(size_t in, size_t k, size_t s, bool same, size_t *out, size_t *pad_before)
{
    if (same) {
        *out = (in + s - 1) / s;
        size_t need = (*out - 1) * s + k;
        *pad_before = need > in ? (need - in) / 2 : 0;
        return true;
    }
    *pad_before = 0;
    if (in < k)
        return false;
    *out = (in - k) / s + 1;
    return true;
}

static hood_status resolve_window(hood__layer *l, size_t index)
{
    const char *name = hood_layer_kind_snake(l->kind);
    if (!l->in_image)
        return hood__fail(HOOD_ESHAPE,
                          "layer %zu (%s): needs an image input (height, width, channels), got a "
                          "flat vector of %zu values (set the model's input shape, or put image "
                          "layers before Dense/Flatten)",
                          index, name, l->in);
    if (l->kh == 0 || l->kw == 0 || l->sh == 0 || l->sw == 0 || l->kh > 65536 || l->kw > 65536 ||
        l->sh > 65536 || l->sw > 65536)
        return hood__fail(HOOD_EINVAL, "layer %zu (%s): window and strides must be 1..65536",
                          index, name);
    if (!window_dim(l->ih, l->kh, l->sh, l->same, &l->oh, &l->pad_top) ||
        !window_dim(l->iw, l->kw, l->sw, l->same, &l->ow, &l->pad_left))
        return hood__fail(HOOD_ESHAPE,
                          "layer %zu (%s): a %zux%zu window does not fit the %zux%zu input with "
                          "padding 'valid' (use 'same' or a smaller window)",
                          index, name, l->kh, l->kw, l->ih, l->iw);
    l->out_image = true;
    return HOOD_OK;
}

hood_status hood__layer_resolve(hood__layer *l, size_t index, bool in_image, size_t ih, size_t iw,
                                size_t ic)
{
    l->in_image = in_image;
    l->ih = ih;
    l->iw = iw;
    l->ic = ic;
    l->in = ih * iw * ic;
    l->out_image = false;
    l->oh = l->ow = 1;
    hood_status st = HOOD_OK;
    switch (l->kind) {
    case HOOD_LAYER_DENSE:
        l->oc = l->units;
        break;
    case HOOD_LAYER_CONV2D:
        st = resolve_window(l, index);
        l->oc = l->units;
        break;
    case HOOD_LAYER_MAX_POOLING2D:
    case HOOD_LAYER_AVERAGE_POOLING2D:
        st = resolve_window(l, index);
        l->oc = ic;
        break;
    case HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D:
        if (!in_image)
            return hood__fail(HOOD_ESHAPE, "layer %zu (global_average_pooling2d): needs an image "
                                           "input, got a flat vector", index);
        l->oc = ic;
        break;
    case HOOD_LAYER_FLATTEN:
        l->oc = l->in;
        break;
    case HOOD_LAYER_DROPOUT:
    case HOOD_LAYER_BATCH_NORMALIZATION:
        l->out_image = in_image;
        l->oh = ih;
        l->ow = iw;
        l->oc = ic;
        break;
    }
    if (st != HOOD_OK)
        return st;
    size_t pixels, out;
    if (hood__mul_overflows(l->oh, l->ow, &pixels) || hood__mul_overflows(pixels, l->oc, &out))
        return hood__fail(HOOD_ESHAPE, "layer %zu (%s): the output shape overflows", index,
                          hood_layer_kind_snake(l->kind));
    l->out = out;
    return HOOD_OK;
}

size_t hood__layer_kernel_floats(const hood__layer *l)
{
    switch (l->kind) {
    case HOOD_LAYER_DENSE:
        return l->in * l->out;
    case HOOD_LAYER_CONV2D:
        return l->kh * l->kw * l->ic * l->oc;
    case HOOD_LAYER_BATCH_NORMALIZATION:
        return l->oc; /* gamma */
    default:
        return 0;
    }
}

size_t hood__layer_bias_floats(const hood__layer *l)
{
    switch (l->kind) {
    case HOOD_LAYER_DENSE:
    case HOOD_LAYER_CONV2D:
        return l->use_bias ? l->oc : 0;
    case HOOD_LAYER_BATCH_NORMALIZATION:
        return l->oc; /* beta */
    default:
        return 0;
    }
}

size_t hood__layer_state_floats(const hood__layer *l)
{
    return l->kind == HOOD_LAYER_BATCH_NORMALIZATION ? 2 * l->oc : 0;
}

void hood__layer_init_values(hood__layer *l)
{
    if (l->kind != HOOD_LAYER_BATCH_NORMALIZATION)
        return;
    for (size_t c = 0; c < l->oc; c++) {
        if (l->W != NULL)
            l->W[c] = 1.0f; /* gamma */
        if (l->state != NULL)
            l->state[l->oc + c] = 1.0f; /* moving variance */
    }
}

size_t hood__layer_keep_floats(const hood__layer *l, size_t batch)
{
    switch (l->kind) {
    case HOOD_LAYER_DROPOUT:
        return l->out * batch; /* the mask, scaled */
    case HOOD_LAYER_BATCH_NORMALIZATION:
        return 2 * l->oc; /* the batch's mean and 1 / sqrt(var + epsilon) */
    default:
        return 0;
    }
}

size_t hood__layer_scratch_floats(const hood__layer *l, size_t batch)
{
    return l->kind == HOOD_LAYER_CONV2D ? hood__conv2d_scratch_floats(l, batch) : 0;
}

void hood__layer_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y, float *Z_keep,
                         const float *X, size_t ldx, size_t batch)
{
    switch (l->kind) {
    case HOOD_LAYER_DENSE:
        hood__dense_forward_pool(ctx->pool, l, Y, Z_keep, X, ldx, batch);
        return;
    case HOOD_LAYER_CONV2D:
        hood__conv2d_forward(ctx, l, Y, Z_keep, X, batch);
        return;
    case HOOD_LAYER_MAX_POOLING2D:
    case HOOD_LAYER_AVERAGE_POOLING2D:
    case HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D:
        hood__pool2d_forward(ctx, l, Y, X, batch);
        break;
    case HOOD_LAYER_FLATTEN:
        memcpy(Y, X, l->out * batch * sizeof(float));
        break;
    case HOOD_LAYER_DROPOUT:
        hood__dropout_forward(ctx, l, Y, X, batch);
        break;
    case HOOD_LAYER_BATCH_NORMALIZATION:
        hood__batchnorm_forward(ctx, l, Y, X, batch);
        break;
    }
    /* no activation: the "logits" are the output */
    if (Z_keep != NULL)
        memcpy(Z_keep, Y, l->out * batch * sizeof(float));
}

void hood__layer_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                          const float *dZ, const float *X, size_t ldx, const float *Y,
                          size_t batch)
{
    switch (l->kind) {
    case HOOD_LAYER_DENSE:
        hood__dense_backward_pool(ctx->pool, l, dX, dZ, X, ldx, batch);
        return;
    case HOOD_LAYER_CONV2D:
        hood__conv2d_backward(ctx, l, dX, dZ, X, batch);
        return;
    case HOOD_LAYER_MAX_POOLING2D:
    case HOOD_LAYER_AVERAGE_POOLING2D:
    case HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D:
        if (dX != NULL)
            hood__pool2d_backward(ctx, l, dX, dZ, X, Y, batch);
        return;
    case HOOD_LAYER_FLATTEN:
        if (dX != NULL)
            memcpy(dX, dZ, l->in * batch * sizeof(float));
        return;
    case HOOD_LAYER_DROPOUT:
        if (dX != NULL)
            hood__dropout_backward(ctx, l, dX, dZ, batch);
        return;
    case HOOD_LAYER_BATCH_NORMALIZATION:
        hood__batchnorm_backward(ctx, l, dX, dZ, X, batch);
        return;
    }
}
