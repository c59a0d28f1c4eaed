/* workspace.c — one block of buffers per fit/evaluate/predict call, sized once for the largest
 * batch (overflow-checked: the batch comes from the caller), the worker pool, and the BLAS held
 * at 1 thread while they live. Not the sequencing (train.c). */
#include "workspace.h"

#include "dense.h"
#include "error.h"
#include "gemm.h"
#include "layer.h"
#include "matrix.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { ALIGN_FLOATS = 16 /* 64 bytes */ };

size_t hood__inference_block(size_t samples)
{
    return samples < INFERENCE_BLOCK ? samples : INFERENCE_BLOCK;
}


static size_t round_up(size_t n)
{
    return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

void hood__workspace_free(hood__workspace *ws)
{
    hood__matrix_free(ws->block);
    free(ws->A);
    free(ws->keep);
    free(ws->perm);
    hood__pool_free(ws->pool);
    if (ws->blas_held)
        hood__blas_release();
    memset(ws, 0, sizeof *ws);
}

/* The worker pool for the model's thread count and the scratch its split products need at
 * batches up to `batch` (parallel.h, dense.h). */
static hood_status workspace_pool(hood__workspace *ws, const hood_model *model, size_t batch)
{
    /* The BLAS always runs 1 thread: the model's threads are the pool, which splits each product
     * itself (OpenBLAS's own threads are 2-7x slower than 1 on these skinny shapes,
     * docs/performance.md). The host's setting comes back in hood__workspace_free, whatever the call
     * returns. */
    hood__blas_hold();
    ws->blas_held = true;
    int threads = hood__threads_resolve(model->threads);
    hood_status st = hood__pool_create(&ws->pool, threads);
    size_t most = 0;
    for (size_t l = 0; st == HOOD_OK && l < model->num_layers; l++) {
        if (model->layers[l].kind != HOOD_LAYER_DENSE)
            continue;
        size_t f = hood__dense_scratch_floats(&model->layers[l], batch, threads);
        most = f > most ? f : most;
    }
    return st == HOOD_OK ? hood__pool_reserve(ws->pool, most) : st;
}

hood_status hood__workspace_init(hood__workspace *ws, const hood_model *model, size_t batch,
                                  size_t label_width, size_t train_samples)
{
    memset(ws, 0, sizeof *ws);
    size_t L = model->num_layers, max_units = 0, total = 0, sz;
    bool training = train_samples > 0;
    /* Each term is checked: batch comes from the caller. */
#define ADD_BUF(rows)                                                                              \
    do {                                                                                           \
        if (hood__mul_overflows((rows), batch, &sz) || round_up(sz) < sz ||                        \
            total > SIZE_MAX / 8 - round_up(sz))                                                   \
            goto too_big;                                                                          \
        total += round_up(sz);                                                                     \
    } while (0)
    size_t scratch = 0;
    for (size_t l = 0; l < L; l++) {
        ADD_BUF(model->layers[l].out);
        if (model->layers[l].out > max_units)
            max_units = model->layers[l].out;
        /* keep: per batch column or fixed; added as whole buffers (rows x 1) */
        size_t k = hood__layer_keep_floats(&model->layers[l], batch);
        if (round_up(k) < k || total > SIZE_MAX / 8 - round_up(k))
            goto too_big;
        total += round_up(k);
        size_t f = hood__layer_scratch_floats(&model->layers[l], batch);
        scratch = f > scratch ? f : scratch;
    }
    if (round_up(scratch) < scratch || total > SIZE_MAX / 8 - round_up(scratch))
        goto too_big;
    total += round_up(scratch);
    ADD_BUF(model->layers[L - 1].out);
    if (training) {
        ADD_BUF(model->input_features);
        ADD_BUF(label_width);
        ADD_BUF(max_units);
        ADD_BUF(max_units);
    }
#undef ADD_BUF
    ws->block = hood__matrix_alloc(total, 1);
    ws->A = malloc(L * sizeof *ws->A);
    ws->keep = malloc(L * sizeof *ws->keep);
    if (training && train_samples <= SIZE_MAX / sizeof(size_t))
        ws->perm = malloc(train_samples * sizeof *ws->perm);
    if (ws->block == NULL || ws->A == NULL || ws->keep == NULL ||
        (training && ws->perm == NULL)) {
        hood__workspace_free(ws);
        return hood__fail(HOOD_ENOMEM, "out of memory for batches of %zu samples", batch);
    }
    float *p = ws->block;
    for (size_t l = 0; l < L; l++) {
        ws->A[l] = p;
        p += round_up(model->layers[l].out * batch);
        ws->keep[l] = p;
        p += round_up(hood__layer_keep_floats(&model->layers[l], batch));
    }
    ws->scratch = p;
    ws->scratch_floats = scratch;
    p += round_up(scratch);
    ws->Z = p;
    p += round_up(model->layers[L - 1].out * batch);
    if (training) {
        ws->Xb = p;
        p += round_up(model->input_features * batch);
        ws->Yb = p;
        p += round_up(label_width * batch);
        ws->d[0] = p;
        p += round_up(max_units * batch);
        ws->d[1] = p;
    }
    hood_status st = workspace_pool(ws, model, batch);
    if (st != HOOD_OK)
        hood__workspace_free(ws);
    return st;
too_big:
    return hood__fail(HOOD_ENOMEM, "batches of %zu samples do not fit in memory", batch);
}
