/* weights.c — a model's weights as a NumPy .npz in Keras' shapes: kernel_0 (in, out), bias_0
 * (out,), kernel_1, ... (layers without a bias have no bias_i). Loading checks every shape
 * before changing anything. Not the model file (model_file.c); the .npz code is npy.c. */
#include "hood.h"

#include "error.h"
#include "model.h"
#include "npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        const hood__dense *l = &model->layers[i];
        char name[32];
        /* The column-major out x in W is the C-order (in, out) array's bytes. */
        size_t kshape[2] = {l->in, l->out};
        snprintf(name, sizeof name, "kernel_%zu", i);
        st = hood__npz_writer_add(w, name, HOOD_DTYPE_F32, kshape, 2, sizeof(float), l->W);
        if (st == HOOD_OK && l->use_bias) {
            size_t bshape[1] = {l->out};
            snprintf(name, sizeof name, "bias_%zu", i);
            st = hood__npz_writer_add(w, name, HOOD_DTYPE_F32, bshape, 1, sizeof(float), l->b);
        }
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
        if (ndim == 2)
            snprintf(want, sizeof want, "(%zu, %zu)", shape[0], shape[1]);
        else
            snprintf(want, sizeof want, "(%zu,)", shape[0]);
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
    /* All arrays are read and checked into one staging copy of the arena first, so a bad file
     * leaves the model as it was. */
    float *staged = malloc(model->num_params * sizeof(float));
    if (staged == NULL) {
        hood__npz_reader_close(r);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    }
    size_t offset = 0;
    for (size_t i = 0; i < model->num_layers && st == HOOD_OK; i++) {
        const hood__dense *l = &model->layers[i];
        char name[32];
        float *values = NULL;
        size_t kshape[2] = {l->in, l->out};
        snprintf(name, sizeof name, "kernel_%zu", i);
        st = read_member(r, path, name, kshape, 2, &values);
        if (st == HOOD_OK) {
            memcpy(staged + offset, values, l->in * l->out * sizeof(float));
            offset += l->in * l->out;
        }
        free(values);
        values = NULL;
        if (st == HOOD_OK && l->use_bias) {
            size_t bshape[1] = {l->out};
            snprintf(name, sizeof name, "bias_%zu", i);
            st = read_member(r, path, name, bshape, 1, &values);
            if (st == HOOD_OK) {
                memcpy(staged + offset, values, l->out * sizeof(float));
                offset += l->out;
            }
            free(values);
        }
    }
    char extra[32];
    snprintf(extra, sizeof extra, "kernel_%zu", model->num_layers);
    if (st == HOOD_OK && hood__npz_reader_has(r, extra))
        st = hood__fail(HOOD_ESHAPE, "%s: has %s but the model has %zu layers", path, extra,
                        model->num_layers);
    hood__npz_reader_close(r);
    if (st == HOOD_OK)
        memcpy(model->params, staged, model->num_params * sizeof(float));
    free(staged);
    return st;
}
