/* workspace.h — the buffers one fit, evaluate or predict call needs (engine-internal): sized
 * once for the largest batch, with the thread pool and the BLAS held at 1 thread; nothing is
 * allocated per batch. The sequencing that uses them is in train.c. */
#ifndef HOOD_ENGINE_WORKSPACE_H
#define HOOD_ENGINE_WORKSPACE_H

#include "model.h"
#include "parallel.h"

#include <stdbool.h>
#include <stddef.h>

/* Evaluate and predict run the forward pass over fixed blocks of INFERENCE_BLOCK samples from
 * sample 0, whatever batch size the caller names: a BLAS may round a column differently in calls
 * of different widths (OpenBLAS's AVX-512 kernels do), so fixed blocks give every sample the same
 * call at any batch size, and evaluate/predict the same bits (hood.h, Determinism). */
enum { INFERENCE_BLOCK = 128 };

/* Columns of one inference block for `samples` samples: INFERENCE_BLOCK, or fewer. */
size_t hood__inference_block(size_t samples);

/* Every buffer a run needs, in one block sized once for the largest batch: nothing is
 * allocated per batch. */
typedef struct hood__workspace {
    float *block;
    float **A;        /* A[l]: layer l's outputs (out_l x batch); forward keeps them for backward */
    float *Z;         /* the output layer's pre-activations (the fused losses need the logits) */
    float *Xb;        /* gathered batch inputs (features x batch), training only */
    bool Xb_whole;    /* Xb holds every training sample widened from 8-bit codes, in storage
                         order (a whole batch's epochs widen once; validation clears it) */
    float *Yb;        /* gathered batch labels (label_width x batch), training only */
    float *d[2];      /* backward ping-pong: dZ of one layer, dX of the next (max units x batch) */
    float **keep;     /* keep[l]: what layer l's forward keeps for its backward (layer.h) */
    float *scratch;   /* shared by the layers' forward/backward (conv2d's columns) */
    size_t scratch_floats;
    size_t *perm;     /* the epoch's sample order, training only */
    hood__pool *pool; /* the model's threads (NULL: 1), started once per fit/evaluate/predict */
    bool blas_held;   /* the BLAS runs 1 thread until hood__workspace_free releases it */
} hood__workspace;

/* Sizes the buffers for batches of up to `batch` columns; with train_samples > 0 also the
 * training buffers (gathered batch, gradients scratch, permutation). */
hood_status hood__workspace_init(hood__workspace *ws, const hood_model *model, size_t batch,
                                 size_t label_width, size_t train_samples);
/* Frees everything and gives the BLAS its host's thread setting back. */
void hood__workspace_free(hood__workspace *ws);

#endif
