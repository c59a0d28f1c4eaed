/* model.c — the Sequential model: its layers, compile (one parameter, gradient and optimizer
 * arena each, carved per layer from a size table, weights drawn from the seed), weight get/set,
 * and what the model remembers about its data. Training lives in train.c, files in io/. */
#include "model.h"

#include "dataset.h"
#include "error.h"
#include "init.h"
#include "loss.h"
#include "matrix.h"
#include "optimizer.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

hood_status hood_model_create(hood_model **out, size_t input_features)
{
    hood__clear_error();
    if (out == NULL)
        return hood__fail(HOOD_EINVAL, "model: output pointer is NULL");
    *out = NULL;
    if (input_features == 0)
        return hood__fail(HOOD_EINVAL, "model: input_features must be > 0");
    hood_model *model = calloc(1, sizeof *model);
    if (model == NULL)
        return hood__fail(HOOD_ENOMEM, "model: out of memory");
    model->input_features = input_features;
    model->threads = 1;
    atomic_init(&model->interrupt, 0);
    atomic_init(&model->running, 0);
    hood_optimizer_config_init(&model->opt, HOOD_OPT_SGD);
    *out = model;
    return HOOD_OK;
}

static void free_arenas(hood_model *model)
{
    hood__matrix_free(model->params);
    hood__matrix_free(model->grads);
    hood__matrix_free(model->opt_state);
    hood__matrix_free(model->params_next);
    hood__matrix_free(model->opt_state_next);
    hood__matrix_free(model->state);
    model->state = NULL;
    model->num_state = 0;
    model->params = model->grads = model->opt_state = NULL;
    model->params_next = model->opt_state_next = NULL;
    model->num_params = 0;
    model->opt_slots = 0;
    for (size_t i = 0; i < model->num_layers; i++) {
        hood__layer *l = &model->layers[i];
        l->W = l->b = l->dW = l->db = l->state = NULL;
    }
    model->compiled = false;
}

static void free_class_names(hood_model *model)
{
    for (size_t i = 0; i < model->num_classes; i++)
        free(model->class_names[i]);
    free(model->class_names);
    model->class_names = NULL;
    model->num_classes = 0;
}

void hood_model_free(hood_model *model)
{
    if (model == NULL)
        return;
    free_arenas(model);
    free_class_names(model);
    free(model->layers);
    free(model->inits);
    free(model->history);
    free(model);
}

hood_status hood__model_add_layer(hood_model *model, const hood__layer *layer)
{
    hood__clear_error();
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "model: NULL model");
    if (model->compiled)
        return hood__fail(HOOD_EINVAL,
                          "model: already compiled; add layers before hood_model_compile");
    if ((unsigned)layer->act > (unsigned)HOOD_ACT_SOFTMAX)
        return hood__fail(HOOD_EINVAL, "model: layer %zu: unknown activation %d", model->num_layers,
                          (int)layer->act);
    if (model->num_layers == model->layers_capacity) {
        size_t cap = model->layers_capacity ? 2 * model->layers_capacity : 4;
        hood__layer *layers = realloc(model->layers, cap * sizeof *layers);
        if (layers == NULL)
            return hood__fail(HOOD_ENOMEM, "model: out of memory adding a layer");
        model->layers = layers;
        hood_initializer *inits = realloc(model->inits, cap * sizeof *inits);
        if (inits == NULL)
            return hood__fail(HOOD_ENOMEM, "model: out of memory adding a layer");
        model->inits = inits;
        model->layers_capacity = cap;
    }
    hood__layer l = *layer;
    l.W = l.b = l.dW = l.db = l.state = NULL;
    size_t i = model->num_layers;
    hood_status st;
    if (i == 0)
        st = hood__layer_resolve(&l, i, model->input_image,
                                 model->input_image ? model->input_h : 1,
                                 model->input_image ? model->input_w : 1,
                                 model->input_image ? model->input_c : model->input_features);
    else {
        const hood__layer *prev = &model->layers[i - 1];
        st = hood__layer_resolve(&l, i, prev->out_image, prev->oh, prev->ow, prev->oc);
    }
    if (st != HOOD_OK)
        return st;
    model->layers[i] = l;
    model->inits[i] = HOOD_INIT_GLOROT_UNIFORM;
    model->num_layers++;
    return HOOD_OK;
}

hood_status hood_model_add_dense(hood_model *model, size_t units, hood_activation act,
                                 bool use_bias)
{
    hood__clear_error();
    if (model != NULL && units == 0)
        return hood__fail(HOOD_EINVAL, "model: layer %zu: units must be > 0", model->num_layers);
    hood__layer l = {.kind = HOOD_LAYER_DENSE, .units = units, .act = act, .use_bias = use_bias};
    return hood__model_add_layer(model, &l);
}

hood_status hood_model_set_input_shape(hood_model *model, size_t height, size_t width,
                                       size_t channels)
{
    hood__clear_error();
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "model: NULL model");
    size_t pixels, values;
    if (height == 0 || width == 0 || channels == 0 ||
        hood__mul_overflows(height, width, &pixels) ||
        hood__mul_overflows(pixels, channels, &values) || values != model->input_features)
        return hood__fail(HOOD_ESHAPE,
                          "model: input shape %zu x %zu x %zu does not make the model's %zu "
                          "input features",
                          height, width, channels, model->input_features);
    if (model->num_layers > 0 &&
        (!model->input_image || model->input_h != height || model->input_w != width ||
         model->input_c != channels))
        return hood__fail(HOOD_EINVAL, "model: set the input shape before adding layers");
    model->input_image = true;
    model->input_h = height;
    model->input_w = width;
    model->input_c = channels;
    return HOOD_OK;
}

static hood_status add_window(hood_model *model, hood_layer_kind kind, size_t kh, size_t kw,
                              size_t sh, size_t sw, bool same)
{
    hood__layer l = {.kind = kind, .kh = kh, .kw = kw, .sh = sh ? sh : kh, .sw = sw ? sw : kw,
                     .same = same};
    return hood__model_add_layer(model, &l);
}

hood_status hood_model_add_conv2d(hood_model *model, size_t filters, size_t kernel_h,
                                  size_t kernel_w, size_t stride_h, size_t stride_w,
                                  bool same_padding, hood_activation act, bool use_bias)
{
    hood__clear_error();
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "model: NULL model");
    if (filters == 0)
        return hood__fail(HOOD_EINVAL, "model: layer %zu (conv2d): filters must be > 0",
                          model->num_layers);
    if (act == HOOD_ACT_SOFTMAX)
        return hood__fail(HOOD_EINVAL,
                          "model: layer %zu (conv2d): softmax over a feature map is not "
                          "supported; put it on a Dense layer",
                          model->num_layers);
    hood__layer l = {.kind = HOOD_LAYER_CONV2D, .units = filters, .kh = kernel_h, .kw = kernel_w,
                     .sh = stride_h ? stride_h : 1, .sw = stride_w ? stride_w : 1,
                     .same = same_padding, .act = act, .use_bias = use_bias};
    return hood__model_add_layer(model, &l);
}

hood_status hood_model_add_max_pooling2d(hood_model *model, size_t pool_h, size_t pool_w,
                                         size_t stride_h, size_t stride_w, bool same_padding)
{
    hood__clear_error();
    return add_window(model, HOOD_LAYER_MAX_POOLING2D, pool_h, pool_w, stride_h, stride_w,
                      same_padding);
}

hood_status hood_model_add_average_pooling2d(hood_model *model, size_t pool_h, size_t pool_w,
                                             size_t stride_h, size_t stride_w, bool same_padding)
{
    hood__clear_error();
    return add_window(model, HOOD_LAYER_AVERAGE_POOLING2D, pool_h, pool_w, stride_h, stride_w,
                      same_padding);
}

hood_status hood_model_add_global_average_pooling2d(hood_model *model)
{
    hood__clear_error();
    hood__layer l = {.kind = HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D};
    return hood__model_add_layer(model, &l);
}

hood_status hood_model_add_flatten(hood_model *model)
{
    hood__clear_error();
    hood__layer l = {.kind = HOOD_LAYER_FLATTEN};
    return hood__model_add_layer(model, &l);
}

hood_status hood_model_add_dropout(hood_model *model, float rate)
{
    hood__clear_error();
    if (model != NULL && !(rate >= 0.0f && rate < 1.0f))
        return hood__fail(HOOD_EINVAL, "model: layer %zu (dropout): rate must be in [0, 1)",
                          model->num_layers);
    hood__layer l = {.kind = HOOD_LAYER_DROPOUT, .rate = rate};
    return hood__model_add_layer(model, &l);
}

hood_status hood_model_add_batch_normalization(hood_model *model, float momentum, float epsilon)
{
    hood__clear_error();
    if (model != NULL && !(momentum >= 0.0f && momentum <= 1.0f && epsilon > 0.0f &&
                           isfinite(epsilon)))
        return hood__fail(HOOD_EINVAL,
                          "model: layer %zu (batch_normalization): momentum must be in [0, 1] "
                          "and epsilon > 0",
                          model->num_layers);
    hood__layer l = {.kind = HOOD_LAYER_BATCH_NORMALIZATION, .momentum = momentum,
                     .epsilon = epsilon};
    return hood__model_add_layer(model, &l);
}

hood_status hood_model_set_initializer(hood_model *model, size_t layer, hood_initializer init)
{
    hood__clear_error();
    if (model == NULL || layer >= model->num_layers)
        return hood__fail(HOOD_EINVAL, "model: no layer %zu (the model has %zu)", layer,
                          model == NULL ? (size_t)0 : model->num_layers);
    if ((unsigned)init > (unsigned)HOOD_INIT_ZEROS)
        return hood__fail(HOOD_EINVAL, "model: layer %zu: unknown initializer %d", layer,
                          (int)init);
    model->inits[layer] = init;
    return HOOD_OK;
}

size_t hood__model_layer_offset(const hood_model *model, size_t layer)
{
    size_t offset = 0;
    for (size_t i = 0; i < layer; i++)
        offset += hood__layer_kernel_floats(&model->layers[i]) +
                  hood__layer_bias_floats(&model->layers[i]);
    return offset;
}

/* The size table: parameters of each layer, checked for overflow since a model file can ask
 * for any shape. */
static hood_status count_params(const hood_model *model, size_t *total, size_t *state)
{
    size_t sum = 0, states = 0;
    for (size_t i = 0; i < model->num_layers; i++) {
        const hood__layer *l = &model->layers[i];
        size_t w, k = l->kind == HOOD_LAYER_CONV2D ? l->kh * l->kw * l->ic : l->in;
        size_t rows = l->kind == HOOD_LAYER_DENSE || l->kind == HOOD_LAYER_CONV2D ? l->oc : 0;
        size_t bias = hood__layer_bias_floats(l);
        if (hood__mul_overflows(rows, k, &w) || w > SIZE_MAX - sum || bias > SIZE_MAX - sum - w)
            return hood__fail(HOOD_ENOMEM, "model: layer %zu: %zu x %zu parameters overflow", i,
                              rows, k);
        sum += hood__layer_kernel_floats(l) + bias;
        states += hood__layer_state_floats(l);
    }
    *state = states;
    /* Arenas are float arrays: their byte size must fit too. */
    size_t bytes;
    if (hood__mul_overflows(sum, sizeof(float) * 4, &bytes))
        return hood__fail(HOOD_ENOMEM, "model: %zu parameters do not fit in memory", sum);
    *total = sum;
    return HOOD_OK;
}

/* The layers' W, b, dW, db: views into the current arenas, from the size table. */
static void point_views(hood_model *model)
{
    size_t offset = 0;
    size_t state = 0;
    for (size_t i = 0; i < model->num_layers; i++) {
        hood__layer *l = &model->layers[i];
        size_t kernel = hood__layer_kernel_floats(l), bias = hood__layer_bias_floats(l);
        l->W = kernel ? model->params + offset : NULL;
        l->dW = kernel ? model->grads + offset : NULL;
        offset += kernel;
        l->b = bias ? model->params + offset : NULL;
        l->db = bias ? model->grads + offset : NULL;
        offset += bias;
        l->state = hood__layer_state_floats(l) ? model->state + state : NULL;
        state += hood__layer_state_floats(l);
    }
}

void hood__model_swap_arenas(hood_model *model)
{
    float *p = model->params;
    model->params = model->params_next;
    model->params_next = p;
    float *s = model->opt_state;
    model->opt_state = model->opt_state_next;
    model->opt_state_next = s;
    point_views(model);
}

void hood__model_arenas_written(hood_model *model)
{
    model->step_bounds.valid = false;
}

hood_status hood__model_compile_raw(hood_model *model, hood_loss loss,
                                    const hood_optimizer_config *opt, uint64_t seed)
{
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "compile: NULL model");
    if (model->num_layers == 0)
        return hood__fail(HOOD_EINVAL, "compile: the model has no layers");
    model->optimizer_dropped = false;
    if ((unsigned)loss > (unsigned)HOOD_LOSS_MEAN_SQUARED_ERROR)
        return hood__fail(HOOD_EINVAL, "compile: unknown loss %d", (int)loss);
    hood_status st = hood__optimizer_check(opt);
    if (st != HOOD_OK)
        return hood__fail_prefix(st, "compile: ");
    const hood__layer *last = &model->layers[model->num_layers - 1];
    /* The labels are not known yet: check against the labels this loss would want, so an
     * output layer that can never fit (softmax over 1 unit, sparse CCE over 1 unit) fails here
     * rather than at fit. */
    bool one = last->out == 1;
    hood_label_mode mode = loss == HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? HOOD_LABELS_INT
                           : loss == HOOD_LOSS_BINARY_CROSSENTROPY && one    ? HOOD_LABELS_BINARY
                                                                          : HOOD_LABELS_CATEGORICAL;
    size_t width = mode == HOOD_LABELS_CATEGORICAL ? last->out : 1;
    st = hood__loss_check(loss, last->act, last->out, mode, width, one ? 2 : last->out);
    if (st != HOOD_OK)
        return hood__fail_prefix(st, "compile: ");
    size_t n = 0, n_state = 0;
    if ((st = count_params(model, &n, &n_state)) != HOOD_OK)
        return st;
    size_t slots = hood__optimizer_slots(opt);
    /* The arenas (weights twice, gradients, optimizer state twice) must fit in this machine's
     * memory: refuse before allocating, as ingest does, rather than leave it to an overcommitting
     * malloc and an OOM kill while the weights are initialised. */
    size_t floats = 0, bytes = 0;
    if (hood__mul_overflows(n, 3 + 2 * slots, &floats) ||
        hood__mul_overflows(floats, sizeof(float), &bytes))
        return hood__fail(HOOD_ENOMEM, "compile: %zu parameters overflow the address space", n);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && bytes / (size_t)page > (size_t)pages)
        return hood__fail(HOOD_ENOMEM,
                          "compile: %zu parameters need %zu MB for weights, gradients and "
                          "optimizer state, more than this machine's %zu MB of memory",
                          n, bytes >> 20, ((size_t)pages * (size_t)page) >> 20);

    /* Recompiling starts over (new weights, fresh optimizer, empty history), as building a new
     * Keras model would. */
    free_arenas(model);
    model->history_length = 0;
    memset(&model->position, 0, sizeof model->position);
    model->opt_step = 0;
    model->has_fit_record = false;

    model->params = hood__matrix_alloc(n, 1);
    model->params_next = hood__matrix_alloc(n, 1);
    /* + HOOD__GRAD_EXTRAS: a sharded fit appends its step's loss and counts so that one
     * all-reduce carries them with the gradients (train.c). */
    model->grads = hood__matrix_alloc(n + HOOD__GRAD_EXTRAS, 1);
    model->opt_state = slots > 0 ? hood__matrix_alloc(n, slots) : NULL;
    model->opt_state_next = slots > 0 ? hood__matrix_alloc(n, slots) : NULL;
    model->state = n_state > 0 ? hood__matrix_alloc(n_state, 1) : NULL;
    if (model->params == NULL || model->params_next == NULL || model->grads == NULL ||
        (slots > 0 && (model->opt_state == NULL || model->opt_state_next == NULL)) ||
        (n_state > 0 && model->state == NULL)) {
        free_arenas(model);
        return hood__fail(HOOD_ENOMEM, "compile: out of memory for %zu parameters", n);
    }
    memset(model->params, 0, n * sizeof(float));
    memset(model->grads, 0, n * sizeof(float));
    if (slots > 0)
        memset(model->opt_state, 0, n * slots * sizeof(float));
    if (n_state > 0)
        memset(model->state, 0, n_state * sizeof(float));
    model->num_params = n;
    model->num_state = n_state;
    model->opt_slots = slots;

    point_views(model);
    for (size_t i = 0; i < model->num_layers; i++)
        hood__layer_init_values(&model->layers[i]);
    model->loss = loss;
    model->opt = *opt;
    model->seed = seed;
    model->compiled = true;
    return HOOD_OK;
}

hood_status hood_model_compile(hood_model *model, hood_loss loss, const hood_optimizer_config *opt,
                               uint64_t seed)
{
    hood__clear_error();
    hood_optimizer_config cfg;
    hood_status st = hood__optimizer_config_read(&cfg, opt, "compile");
    if (st != HOOD_OK)
        return st;
    if ((st = hood__model_compile_raw(model, loss, &cfg, seed)) != HOOD_OK)
        return st;
    /* One stream for the whole model, drawn layer by layer in order: the weights depend only
     * on the seed and the architecture. Biases stay zero (Keras' default). */
    hood_rng rng;
    hood__rng_seed(&rng, seed);
    for (size_t i = 0; i < model->num_layers; i++) {
        hood__layer *l = &model->layers[i];
        if (l->kind == HOOD_LAYER_DENSE)
            st = hood__init_kernel(model->inits[i], l->W, l->out, l->in, &rng);
        else if (l->kind == HOOD_LAYER_CONV2D)
            st = hood__init_conv_kernel(model->inits[i], l->W, l->oc, l->kh * l->kw * l->ic,
                                        l->kh * l->kw, &rng);
        if (st != HOOD_OK) {
            free_arenas(model);
            return hood__fail_prefix(st, "compile: layer %zu: ", i);
        }
    }
    return HOOD_OK;
}

hood_status hood_model_set_threads(hood_model *model, int threads)
{
    hood__clear_error();
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "model: NULL model");
    if (threads < 0)
        return hood__fail(HOOD_EINVAL, "model: threads must be >= 0 (got %d)", threads);
    model->threads = threads;
    return HOOD_OK;
}

int hood_model_threads(const hood_model *model)
{
    return model->threads;
}
size_t hood_model_input_features(const hood_model *model)
{
    return model->input_features;
}
bool hood_model_input_shape(const hood_model *model, size_t *height, size_t *width,
                           size_t *channels)
{
    bool image = model->input_image;
    if (height != NULL)
        *height = image ? model->input_h : 0;
    if (width != NULL)
        *width = image ? model->input_w : 0;
    if (channels != NULL)
        *channels = image ? model->input_c : 0;
    return image;
}
size_t hood_model_num_layers(const hood_model *model)
{
    return model->num_layers;
}

size_t hood_model_layer_units(const hood_model *model, size_t layer)
{
    if (layer >= model->num_layers)
        return 0;
    const hood__layer *l = &model->layers[layer];
    return l->kind == HOOD_LAYER_DENSE || l->kind == HOOD_LAYER_CONV2D ? l->units : l->out;
}

hood_status hood_model_layer_info(const hood_model *model, size_t layer, hood_layer_info *out)
{
    hood__clear_error();
    if (model == NULL || out == NULL || layer >= model->num_layers)
        return hood__fail(HOOD_EINVAL, "model: no layer %zu (the model has %zu)", layer,
                          model == NULL ? (size_t)0 : model->num_layers);
    const hood__layer *l = &model->layers[layer];
    *out = (hood_layer_info){
        .kind = l->kind,
        .image = l->out_image,
        .height = l->oh,
        .width = l->ow,
        .channels = l->oc,
        .params = hood__layer_kernel_floats(l) + hood__layer_bias_floats(l),
        .non_trainable = hood__layer_state_floats(l),
        .activation = l->act,
        .use_bias = l->use_bias,
        .units = hood_model_layer_units(model, layer),
        .kernel_h = l->kh,
        .kernel_w = l->kw,
        .stride_h = l->sh,
        .stride_w = l->sw,
        .same_padding = l->same,
        .rate = l->rate,
        .momentum = l->momentum,
        .epsilon = l->epsilon,
    };
    return HOOD_OK;
}

size_t hood_model_num_state(const hood_model *model)
{
    size_t n = 0;
    for (size_t i = 0; i < model->num_layers; i++)
        n += hood__layer_state_floats(&model->layers[i]);
    return n;
}

hood_activation hood_model_layer_activation(const hood_model *model, size_t layer)
{
    return layer < model->num_layers ? model->layers[layer].act : HOOD_ACT_LINEAR;
}

bool hood_model_layer_use_bias(const hood_model *model, size_t layer)
{
    return layer < model->num_layers && model->layers[layer].use_bias;
}

size_t hood_model_output_units(const hood_model *model)
{
    return model->num_layers ? model->layers[model->num_layers - 1].out : 0;
}

size_t hood_model_num_params(const hood_model *model)
{
    size_t n = 0;
    /* Counted from the architecture so an uncompiled model reports it too (Keras' summary). */
    for (size_t i = 0; i < model->num_layers; i++)
        n += hood__layer_kernel_floats(&model->layers[i]) +
             hood__layer_bias_floats(&model->layers[i]);
    return n;
}

bool hood_model_is_compiled(const hood_model *model)
{
    return model->compiled;
}
hood_loss hood_model_loss(const hood_model *model)
{
    return model->loss;
}
hood_status hood_model_optimizer(const hood_model *model, hood_optimizer_config *out)
{
    hood__clear_error();
    size_t size;
    hood_status st = hood__options_size(out, sizeof *out, HOOD__END(hood_optimizer_config, epsilon),
                                        "optimizer", "hood_optimizer_config", &size);
    if (st != HOOD_OK)
        return st;
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "optimizer: NULL model");
    memcpy(out, &model->opt, size);
    memcpy(out, &size, sizeof size); /* what this library wrote */
    return HOOD_OK;
}

float hood_model_get_learning_rate(const hood_model *model)
{
    return model == NULL ? 0.0f : model->opt.learning_rate;
}

hood_status hood_model_set_learning_rate(hood_model *model, float learning_rate)
{
    hood__clear_error();
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "set_learning_rate: NULL model");
    if (!(learning_rate > 0.0f) || !isfinite(learning_rate))
        return hood__fail(HOOD_EINVAL, "set_learning_rate: the learning rate must be > 0 and "
                                       "finite, got %g", (double)learning_rate);
    /* The optimizer reads it at every step (train.c): the next batch uses it. */
    model->opt.learning_rate = learning_rate;
    return HOOD_OK;
}

hood_status hood_model_drop_optimizer_state(hood_model *model)
{
    hood__clear_error();
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "drop_optimizer_state: NULL model");
    if (!model->compiled)
        return hood__fail(HOOD_EINVAL, "drop_optimizer_state: the model is not compiled");
    size_t count = model->num_params * model->opt_slots;
    if (count > 0) {
        memset(model->opt_state, 0, count * sizeof(float));
        memset(model->opt_state_next, 0, count * sizeof(float));
    }
    model->opt_step = 0;
    model->optimizer_dropped = true;
    hood__model_arenas_written(model);
    return HOOD_OK;
}

void hood_model_interrupt(const hood_model *model)
{
    /* Only an atomic store: safe in a signal handler. The model is const to every call that
     * runs while this may come; the flag is control state, not the model's content. */
    if (model != NULL)
        atomic_store(&((hood_model *)model)->interrupt, 1);
}

void hood__model_call_begin(const hood_model *model)
{
    atomic_fetch_add(&((hood_model *)model)->running, 1);
}

void hood__model_call_end(const hood_model *model)
{
    hood_model *m = (hood_model *)model;
    if (atomic_fetch_sub(&m->running, 1) == 1)
        atomic_store(&m->interrupt, 0);
}

bool hood__model_interrupted(const hood_model *model)
{
    return atomic_load(&((hood_model *)model)->interrupt) != 0;
}

static hood_status check_layer(const hood_model *model, size_t layer, const void *buf,
                               const char *what)
{
    if (model == NULL || buf == NULL)
        return hood__fail(HOOD_EINVAL, "%s: NULL argument", what);
    if (!model->compiled)
        return hood__fail(HOOD_EINVAL,
                          "%s: the model is not compiled (weights exist after "
                          "hood_model_compile)",
                          what);
    if (layer >= model->num_layers)
        return hood__fail(HOOD_EINVAL, "%s: no layer %zu (the model has %zu)", what, layer,
                          model->num_layers);
    return HOOD_OK;
}

/* Keras' kernel (in, out) in C order is element [i][o] at i*out + o; the column-major
 * out x in W holds W(o, i) at o + i*out: the same bytes, so get/set are copies. */
hood_status hood_model_get_kernel(const hood_model *model, size_t layer, float *kernel)
{
    hood__clear_error();
    hood_status st = check_layer(model, layer, kernel, "get_kernel");
    if (st != HOOD_OK)
        return st;
    const hood__layer *l = &model->layers[layer];
    if (l->W == NULL)
        return hood__fail(HOOD_EINVAL, "get_kernel: layer %zu (%s) has no weights", layer,
                          hood_layer_kind_snake(l->kind));
    memcpy(kernel, l->W, hood__layer_kernel_floats(l) * sizeof(float));
    return HOOD_OK;
}

hood_status hood_model_set_kernel(hood_model *model, size_t layer, const float *kernel)
{
    hood__clear_error();
    hood_status st = check_layer(model, layer, kernel, "set_kernel");
    if (st != HOOD_OK)
        return st;
    hood__layer *l = &model->layers[layer];
    if (l->W == NULL)
        return hood__fail(HOOD_EINVAL, "set_kernel: layer %zu (%s) has no weights", layer,
                          hood_layer_kind_snake(l->kind));
    memcpy(l->W, kernel, hood__layer_kernel_floats(l) * sizeof(float));
    hood__model_arenas_written(model);
    return HOOD_OK;
}

hood_status hood_model_get_bias(const hood_model *model, size_t layer, float *bias)
{
    hood__clear_error();
    hood_status st = check_layer(model, layer, bias, "get_bias");
    if (st != HOOD_OK)
        return st;
    const hood__layer *l = &model->layers[layer];
    if (l->b == NULL)
        return hood__fail(HOOD_EINVAL, "get_bias: layer %zu has no bias", layer);
    memcpy(bias, l->b, hood__layer_bias_floats(l) * sizeof(float));
    return HOOD_OK;
}

hood_status hood_model_set_bias(hood_model *model, size_t layer, const float *bias)
{
    hood__clear_error();
    hood_status st = check_layer(model, layer, bias, "set_bias");
    if (st != HOOD_OK)
        return st;
    hood__layer *l = &model->layers[layer];
    if (l->b == NULL)
        return hood__fail(HOOD_EINVAL, "set_bias: layer %zu has no bias", layer);
    memcpy(l->b, bias, hood__layer_bias_floats(l) * sizeof(float));
    hood__model_arenas_written(model);
    return HOOD_OK;
}

hood_status hood_model_set_preprocess(hood_model *model, const hood_preprocess *pp)
{
    hood__clear_error();
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "model: NULL model");
    if (pp == NULL) {
        model->has_preprocess = false;
        return HOOD_OK;
    }
    hood_preprocess given;
    hood_status st = hood__preprocess_read(&given, pp, "model: preprocess");
    if (st != HOOD_OK)
        return st;
    pp = &given;
    if ((unsigned)pp->color_mode > (unsigned)HOOD_COLOR_RGBA ||
        (unsigned)pp->interpolation > (unsigned)HOOD_INTERP_AREA)
        return hood__fail(HOOD_EINVAL, "model: preprocess: unknown color mode or interpolation");
    size_t pixels, values;
    if (pp->height == 0 || pp->width == 0 || hood__mul_overflows(pp->height, pp->width, &pixels) ||
        hood__mul_overflows(pixels, hood_color_mode_channels(pp->color_mode), &values))
        return hood__fail(HOOD_EINVAL, "model: preprocess: image size %zu x %zu is not valid",
                          pp->height, pp->width);
    if (values != model->input_features)
        return hood__fail(HOOD_ESHAPE,
                          "model: preprocess: %zu x %zu x %zu = %zu values per image, but the "
                          "model takes %zu input features",
                          pp->height, pp->width, hood_color_mode_channels(pp->color_mode), values,
                          model->input_features);
    size_t channels = hood_color_mode_channels(pp->color_mode);
    if (model->input_image && (model->input_h != pp->height || model->input_w != pp->width ||
                               model->input_c != channels))
        return hood__fail(HOOD_ESHAPE,
                          "model: preprocess: images of %zu x %zu x %zu, but the model's input "
                          "shape is %zu x %zu x %zu",
                          pp->height, pp->width, channels, model->input_h, model->input_w,
                          model->input_c);
    if (!model->input_image && model->num_layers == 0) {
        model->input_image = true;
        model->input_h = pp->height;
        model->input_w = pp->width;
        model->input_c = channels;
    }
    model->preprocess = *pp;
    model->has_preprocess = true;
    return HOOD_OK;
}

bool hood_model_preprocess(const hood_model *model, hood_preprocess *out)
{
    hood__clear_error();
    if (!model->has_preprocess || out == NULL)
        return model->has_preprocess;
    size_t size;
    if (hood__options_size(out, sizeof *out, HOOD__PREPROCESS_FIRST, "model: preprocess",
                           "hood_preprocess", &size) != HOOD_OK)
        return false;
    memcpy(out, &model->preprocess, size);
    memcpy(out, &size, sizeof size); /* what this library wrote */
    return true;
}

hood_status hood_model_set_class_names(hood_model *model, const char *const *names, size_t count)
{
    hood__clear_error();
    if (model == NULL || (names == NULL && count > 0))
        return hood__fail(HOOD_EINVAL, "model: class names: NULL argument");
    char **copy = NULL;
    if (count > 0) {
        if ((copy = calloc(count, sizeof *copy)) == NULL)
            return hood__fail(HOOD_ENOMEM, "model: class names: out of memory");
        for (size_t i = 0; i < count; i++) {
            if (names[i] == NULL || (copy[i] = strdup(names[i])) == NULL) {
                for (size_t j = 0; j < i; j++)
                    free(copy[j]);
                free(copy);
                return names[i] == NULL
                           ? hood__fail(HOOD_EINVAL, "model: class name %zu is NULL", i)
                           : hood__fail(HOOD_ENOMEM, "model: class names: out of memory");
            }
        }
    }
    free_class_names(model);
    model->class_names = copy;
    model->num_classes = count;
    return HOOD_OK;
}

size_t hood_model_num_classes(const hood_model *model)
{
    return model->num_classes;
}

const char *hood_model_class_name(const hood_model *model, size_t i)
{
    return i < model->num_classes ? model->class_names[i] : NULL;
}

size_t hood_model_history_length(const hood_model *model)
{
    return model->history_length;
}

const hood_epoch_log *hood_model_history(const hood_model *model, size_t epoch)
{
    return epoch < model->history_length ? &model->history[epoch] : NULL;
}

size_t hood_model_epochs_done(const hood_model *model)
{
    return model->position.epochs_done;
}

size_t hood_model_batches_done(const hood_model *model)
{
    return model->position.batch;
}

bool hood_model_fit_record(const hood_model *model, hood_fit_record *out)
{
    if (model == NULL || !model->has_fit_record) {
        if (out != NULL)
            memset(out, 0, sizeof *out);
        return false;
    }
    if (out != NULL)
        *out = model->fit_record;
    return true;
}

hood_status hood_model_set_fit_record(hood_model *model, const hood_fit_record *record)
{
    hood__clear_error();
    if (model == NULL || record == NULL)
        return hood__fail(HOOD_EINVAL, "set_fit_record: NULL argument");
    if (record->batch_size == 0 || record->threads < 0 ||
        !(record->validation_split >= 0.0 && record->validation_split < 1.0) ||
        (record->restored_best && record->best_epoch == 0))
        return hood__fail(HOOD_EINVAL, "set_fit_record: batch_size must be > 0, threads >= 0, "
                                       "validation_split in [0, 1), and a restored best epoch "
                                       "named");
    model->fit_record = *record;
    model->has_fit_record = true;
    return HOOD_OK;
}

size_t hood_model_weights_epoch(const hood_model *model)
{
    if (model->has_fit_record && model->fit_record.restored_best)
        return model->fit_record.best_epoch;
    return model->position.epochs_done;
}

hood_status hood__model_push_history(hood_model *model, const hood_epoch_log *log)
{
    if (model->history_length == model->history_capacity) {
        size_t cap = model->history_capacity ? 2 * model->history_capacity : 16;
        hood_epoch_log *h = realloc(model->history, cap * sizeof *h);
        if (h == NULL)
            return hood__fail(HOOD_ENOMEM, "model: out of memory growing the history");
        model->history = h;
        model->history_capacity = cap;
    }
    model->history[model->history_length++] = *log;
    return HOOD_OK;
}

bool hood__model_params_finite(const hood_model *model)
{
    int bad = 0;
    for (size_t i = 0; i < model->num_params; i++)
        bad |= !isfinite(model->params[i]);
    for (size_t i = 0; i < model->num_params * model->opt_slots; i++)
        bad |= !isfinite(model->opt_state[i]);
    return bad == 0;
}
