/* layer.h — the one interface every layer kind implements: its output shape from its input's,
 * the sizes model.c carves the arenas from, and forward/backward over a batch of columns (one
 * sample per column, HWC inside it). The kinds live in dense.c, conv2d.c, pool.c, dropout.c and
 * batchnorm.c; layer.c dispatches on the kind (and does Flatten). Not public API. */
#ifndef HOOD_LAYER_H
#define HOOD_LAYER_H

#include "hood.h"
#include "parallel.h"

#include <stdint.h>

typedef struct hood__layer {
    hood_layer_kind kind;
    size_t in, out;      /* values per sample in and out */
    hood_activation act; /* Dense, Conv2D; linear for the others */
    bool use_bias;
    /* Shapes: an image is (h, w, c) HWC; a flat vector is (1, 1, values) with image false. */
    bool in_image, out_image;
    size_t ih, iw, ic, oh, ow, oc;
    size_t units;                /* Dense units, Conv2D filters */
    size_t kh, kw, sh, sw;       /* Conv2D kernel, pooling window; strides */
    size_t pad_top, pad_left;    /* 'same' padding before the first row/column (TF's rule) */
    bool same;
    float rate;                  /* Dropout */
    float momentum, epsilon;     /* BatchNormalization */
    /* Views into the model's arenas once compiled. W, b: Dense/Conv2D kernel and bias,
     * BatchNormalization gamma and beta; dW, db their gradients. state: non-trainable values
     * (BatchNormalization: moving mean, then moving variance, oc floats each). */
    float *W, *b, *dW, *db;
    float *state;
} hood__layer;

/* What a layer's forward/backward may use besides its arguments. */
typedef struct hood__layer_ctx {
    hood__pool *pool;      /* the model's threads (NULL: the caller alone) */
    float *scratch;        /* shared by all layers, hood__layer_scratch_floats of the largest */
    size_t scratch_floats;
    float *keep;           /* this layer's own: hood__layer_keep_floats, kept forward -> backward */
    bool training;         /* fit's batches: dropout drops, batchnorm uses and updates statistics */
    uint64_t seed, step;   /* dropout's stream: the compile seed and the optimizer step */
    size_t index;          /* the layer's place in the model */
} hood__layer_ctx;

/* Sets the layer's input shape and computes its output shape (in, out, oh, ow, oc, padding);
 * HOOD_ESHAPE/HOOD_EINVAL with a message naming "layer INDEX (kind)" when the shape does not
 * fit or the settings are out of range. */
hood_status hood__layer_resolve(hood__layer *l, size_t index, bool in_image, size_t ih, size_t iw,
                                size_t ic);
/* Floats of the kernel (W) and bias (b) in the parameter arena (0 for parameter-free kinds),
 * of the non-trainable state, and of the parameters all together (W then b). */
size_t hood__layer_kernel_floats(const hood__layer *l);
size_t hood__layer_bias_floats(const hood__layer *l);
size_t hood__layer_state_floats(const hood__layer *l);
/* Initial values of the state and of parameters that are not a kernel drawn by an
 * initializer (BatchNormalization's gamma = 1); called by compile after the arenas are zeroed. */
void hood__layer_init_values(hood__layer *l);
/* Floats this layer keeps from forward to backward for batches up to `batch`. */
size_t hood__layer_keep_floats(const hood__layer *l, size_t batch);
/* Floats of shared scratch forward/backward need at batches up to `batch` (bounded: Conv2D
 * chunks its batch, hood__conv2d_chunk). */
size_t hood__layer_scratch_floats(const hood__layer *l, size_t batch);

/* Y (out x batch) = the layer applied to X (in x batch, ld = ldx); Z_keep (out x batch), when
 * not NULL, gets the values before the activation (the fused losses need the output layer's
 * logits; kinds without activation copy Y). Training mode may update l->state (batchnorm's
 * moving statistics: the arena the view points to, not the layer struct). */
void hood__layer_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y, float *Z_keep,
                         const float *X, size_t ldx, size_t batch);
/* From dZ (out x batch) = dL/d(the values before the activation), with X and Y as forward saw
 * and made them: dW, db (overwritten) and, when dX is not NULL, dX (in x batch, ld in). The
 * caller turns dL/dY into dZ (hood__activation_backward) for layers with an activation. */
void hood__layer_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                          const float *dZ, const float *X, size_t ldx, const float *Y,
                          size_t batch);

/* ---- The kinds (each in its file; the dispatch above calls them) ---------------------- */

/* conv2d.c: samples per chunk so that the column matrix stays within HOOD__CONV_COLS_BUDGET
 * floats (at least 1 sample), and the floats of one chunk's columns. */
/* 1 MB: a chunk's columns are still in L2/L3 when the sgemm reads them right after im2col
 * writes them (16 MB, the earlier budget, went through DRAM: the cnn bench's b128 epoch took
 * 11 % more CPU). */
enum { HOOD__CONV_COLS_BUDGET = 1 << 18 };
/* Threads a Conv2D splits its samples over (at most): the scratch holds a dW partial (F x K)
 * for each share but the first, after the columns. */
enum { HOOD__CONV_SHARES = 8 };
size_t hood__conv2d_chunk(const hood__layer *l, size_t batch);
size_t hood__conv2d_scratch_floats(const hood__layer *l, size_t batch);
void hood__conv2d_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y,
                          float *Z_keep, const float *X, size_t batch);
void hood__conv2d_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                           const float *dZ, const float *X, size_t batch);
/* pool.c: max / average windows and the global average. */
void hood__pool2d_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y,
                          const float *X, size_t batch);
void hood__pool2d_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                           const float *dY, const float *X, const float *Y, size_t batch);
/* dropout.c */
void hood__dropout_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y,
                           const float *X, size_t batch);
void hood__dropout_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                            const float *dY, size_t batch);
/* batchnorm.c */
void hood__batchnorm_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y,
                             const float *X, size_t batch);
void hood__batchnorm_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                              const float *dY, const float *X, size_t batch);

#endif
