/* weights.c — a model's weights as a NumPy .npz in Keras' shapes and get_weights() order, named
 * by layer index i: Dense kernel_i (in, out) and bias_i (out,); Conv2D kernel_i (kh, kw, in,
 * out) and bias_i; BatchNormalization gamma_i, beta_i, moving_mean_i, moving_variance_i (c,).
 * Layers without a bias have no bias_i; layers without weights have no members. Loading checks
 * every shape before changing anything. Not the model file (model_file.c); npy.c is the .npz. */
#include "hood.h"

#include "error.h"
#include "model.h"
#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One array of a layer's weights: its member name, shape and where it lives. */
typedef struct member {
    char name[48];
    size_t shape[4], ndim, count;
    float *data;
} member;

/* The layer's arrays in Keras' order; returns how many (at most 4). */
static size_t layer_members(const hood_model *model, size_t i, member out[4])
{
    const hood__layer *l = &model->layers[i];
    size_t n = 0;
    if (l->kind == HOOD_LAYER_BATCH_NORMALIZATION) {
        static const char *const names[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
        float *where[4] = {l->W, l->b, l->state, l->state + l->oc};
        for (; n < 4; n++) {
            out[n] = (member){.shape = {l->oc}, .ndim = 1, .count = l->oc, .data = where[n]};
            snprintf(out[n].name, sizeof out[n].name, "%s_%zu", names[n], i);
        }
        return n;
    }
    if (l->kind != HOOD_LAYER_DENSE && l->kind != HOOD_LAYER_CONV2D)
        return 0;
    /* The column-major out x rows W is the C-order (.., out) array's bytes. */
    out[n] = l->kind == HOOD_LAYER_DENSE
                 ? (member){.shape = {l->in, l->oc}, .ndim = 2}
                 : (member){.shape = {l->kh, l->kw, l->ic, l->oc}, .ndim = 4};
    out[n].count = hood__layer_kernel_floats(l);
    out[n].data = l->W;
    snprintf(out[n].name, sizeof out[n].name, "kernel_%zu", i);
    n++;
    if (l->use_bias) {
        out[n] = (member){.shape = {l->oc}, .ndim = 1, .count = l->oc, .data = l->b};
        snprintf(out[n].name, sizeof out[n].name, "bias_%zu", i);
        n++;
    }
    return n;
}

static hood_status need_compiled(const hood_model *model, const char *path)
{
    if (model == NULL || path == NULL)
        return hood__fail(HOOD_EINVAL, "weights: NULL argument");
    if (!model->compiled)
        return hood__fail(HOOD_EINVAL,
                          "%s: the model is not compiled (weights exist after hood_model_compile)",
                          path);
    return HOOD_OK;
}

hood_status hood_model_save_weights_npz(const hood_model *model, const char *path)
{
    hood__clear_error();
    hood_status st = need_compiled(model, path);
    if (st != HOOD_OK)
        return st;
    hood__npz_writer *w = NULL;
    if ((st = hood__npz_writer_open(&w, path)) != HOOD_OK)
        return st;
    for (size_t i = 0; i < model->num_layers; i++) {
        member mem[4];
        size_t n = layer_members(model, i, mem);
        for (size_t k = 0; k < n && st == HOOD_OK; k++)
            st = hood__npz_writer_add(w, mem[k].name, HOOD_DTYPE_F32, mem[k].shape, mem[k].ndim,
                                      sizeof(float), mem[k].data);
        if (st != HOOD_OK) {
            hood__npz_writer_abort(w);
            return st;
        }
    }
    return hood__npz_writer_commit(w);
}

/* Reads member `name`, checks its shape is exactly `shape` (ndim dims) and converts it to
 * float32 into *out (malloc'd). */
static hood_status read_member(hood__npz_reader *r, const char *path, const char *name,
                               const size_t *shape, size_t ndim, float **out)
{
    hood__array a;
    memset(&a, 0, sizeof a);
    hood_status st = hood__npz_reader_get(r, name, &a);
    if (st != HOOD_OK)
        return st;
    bool same = a.ndim == ndim && a.dtype != HOOD_DTYPE_UNICODE;
    for (size_t k = 0; same && k < ndim; k++)
        same = a.shape[k] == shape[k];
    if (!same) {
        char got[128] = "", want[64];
        size_t used = 0;
        for (size_t k = 0; k < a.ndim && used < sizeof got; k++) {
            int n = snprintf(got + used, sizeof got - used, "%s%zu", k ? ", " : "", a.shape[k]);
            used += n > 0 ? (size_t)n : 0;
        }
        size_t wl = 0;
        for (size_t k = 0; k < ndim && wl < sizeof want; k++) {
            int n = snprintf(want + wl, sizeof want - wl, "%s%zu", k ? ", " : "(", shape[k]);
            wl += n > 0 ? (size_t)n : 0;
        }
        if (wl < sizeof want)
            snprintf(want + wl, sizeof want - wl, "%s)", ndim == 1 ? "," : "");
        hood__array_release(&a);
        return hood__fail(HOOD_ESHAPE, "%s: %s has shape (%s%s), the model expects %s", path, name,
                          got, a.ndim == 1 ? "," : "", want);
    }
    st = hood__array_to_f32(&a, name, out);
    hood__array_release(&a);
    if (st != HOOD_OK)
        return hood__fail_prefix(st, "%s: ", path);
    return HOOD_OK;
}

hood_status hood_model_load_weights_npz(hood_model *model, const char *path)
{
    hood__clear_error();
    hood_status st = need_compiled(model, path);
    if (st != HOOD_OK)
        return st;
    hood__npz_reader *r = NULL;
    if ((st = hood__npz_reader_open(&r, path)) != HOOD_OK)
        return st;
    /* All arrays are read and checked into one staging copy of the arenas first (parameters,
     * then the moving statistics), so a bad file leaves the model as it was. */
    size_t total = model->num_params + model->num_state;
    float *staged = malloc((total ? total : 1) * sizeof(float));
    if (staged == NULL) {
        hood__npz_reader_close(r);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    }
    /* Keras' np.savez("w.npz", *model.get_weights()) names the arrays arr_0, arr_1, ... in
     * get_weights' order, which is layer_members' order: read those by position when the file
     * has them and not hood's names. */
    member first[4];
    size_t first_count = 0;
    for (size_t i = 0; i < model->num_layers && first_count == 0; i++)
        first_count = layer_members(model, i, first);
    bool positional = first_count > 0 && !hood__npz_reader_has(r, first[0].name) &&
                      hood__npz_reader_has(r, "arr_0");
    size_t position = 0;
    for (size_t i = 0; i < model->num_layers && st == HOOD_OK; i++) {
        member mem[4];
        size_t n = layer_members(model, i, mem);
        for (size_t k = 0; k < n && st == HOOD_OK; k++) {
            float *values = NULL;
            if (positional)
                snprintf(mem[k].name, sizeof mem[k].name, "arr_%zu", position++);
            st = read_member(r, path, mem[k].name, mem[k].shape, mem[k].ndim, &values);
            /* where this array sits in the staging copy: its arena offset */
            size_t at = mem[k].data >= model->params && mem[k].data < model->params +
                                                                          model->num_params
                            ? (size_t)(mem[k].data - model->params)
                            : model->num_params + (size_t)(mem[k].data - model->state);
            if (st == HOOD_OK)
                memcpy(staged + at, values, mem[k].count * sizeof(float));
            free(values);
        }
    }
    char extra[32];
    if (positional)
        snprintf(extra, sizeof extra, "arr_%zu", position);
    else
        snprintf(extra, sizeof extra, "kernel_%zu", model->num_layers);
    if (st == HOOD_OK && hood__npz_reader_has(r, extra))
        st = hood__fail(HOOD_ESHAPE, "%s: has %s but the model has %zu %s", path, extra,
                        positional ? position : model->num_layers,
                        positional ? "weight arrays" : "layers");
    hood__npz_reader_close(r);
    if (st == HOOD_OK) {
        memcpy(model->params, staged, model->num_params * sizeof(float));
        hood__model_arenas_written(model);
        if (model->num_state > 0)
            memcpy(model->state, staged + model->num_params, model->num_state * sizeof(float));
    }
    free(staged);
    return st;
}
