/* dense.h — one Dense layer over a batch: Z = W·X + b, A = act(Z), and its backward. W is
 * out x in column-major (Keras' (in, out) kernel bytes); parameters and gradients are views
 * into the model's arenas. Forward keeps A (and Z of the output layer) for backward. */
#ifndef HOOD_DENSE_H
#define HOOD_DENSE_H

#include "hood.h"
#include "layer.h"
#include "optimizer.h"
#include "parallel.h"

/* A Dense layer is a hood__layer of kind HOOD_LAYER_DENSE: in, out, act, use_bias, W, b, dW,
 * db are the fields it uses. */
typedef hood__layer hood__dense;

/* A (out x batch) = act(W (out x in) · X (in x batch, ld = ldx) + b); Z_keep (out x batch) gets
 * the pre-activations when not NULL. */
void hood__dense_forward(const hood__dense *layer, float *A, float *Z_keep, const float *X,
                         size_t ldx, size_t batch);
/* From dZ (out x batch): dW = dZ · Xᵀ, db = row sums of dZ (both overwritten), and, when dX is
 * not NULL, dX (in x batch) = Wᵀ · dZ. The first layer passes dX = NULL. */
void hood__dense_backward(const hood__dense *layer, float *dX, const float *dZ, const float *X,
                          size_t ldx, size_t batch);

/* The same two steps with every product split over the pool's threads where dense.c's cost
 * model says a split is faster (a NULL pool or a small product: one sgemm call on the caller).
 * Splits of rows or columns of the result give each element the 1-thread inner product (the
 * same bits where the BLAS computes an element alike whatever the call's shape, which
 * OpenBLAS's SkylakeX kernels do not always: hood.h, Determinism); a split of the inner
 * dimension (K: the 22,500 inputs of the seed model's forward) adds per-thread partial sums in a
 * fixed order, so results match 1 thread to float rounding and repeat bit for bit at the same
 * thread count. Needs hood__pool_reserve(pool, hood__dense_scratch_floats(...)) beforehand. */
void hood__dense_forward_pool(hood__pool *pool, const hood__dense *layer, float *A, float *Z_keep,
                              const float *X, size_t ldx, size_t batch);
void hood__dense_backward_pool(hood__pool *pool, const hood__dense *layer, float *dX,
                               const float *dZ, const float *X, size_t ldx, size_t batch);
/* Plain SGD folded into the weight gradient, for a layer whose dX is not needed (the first):
 * W_out (out x in) = W - lr · dZ · Xᵀ in one sgemm per thread (C = W_out after a copy of W,
 * alpha = -lr, beta = 1), so dW is never written nor read back; db is computed as in backward
 * (the bias goes through the optimizer). Returns false when a new weight is not finite (the
 * divergence guard; W is untouched either way). Equals W - lr·dW up to float rounding (the
 * sgemm adds lr·dZ·Xᵀ to W inside its accumulation; the optimizer rounds dW first). */
bool hood__dense_backward_sgd_pool(hood__pool *pool, const hood__dense *layer, float *W_out,
                                   float lr, const float *dZ, const float *X, size_t ldx,
                                   size_t batch);
/* Whether hood__dense_backward_step_pool takes this layer: out <= 16, where the kernel gradient
 * runs 1.3-1.5x faster as dWᵀ = X · dZᵀ than as dW = dZ · Xᵀ (docs/performance.md). */
bool hood__dense_fuses_step(const hood__dense *layer);
/* The first layer's backward fused with the optimizer's step on its kernel, for a layer whose
 * dX is not needed and hood__dense_fuses_step: in bands of inputs that stay in cache, dWᵀ
 * (band x out) = X[band, :] · dZᵀ, transposed into dW, then the optimizer's step on that band
 * of the kernel (hood__optimizer_step_slice: W at layer->W, its state at `state`, slot stride
 * `stride`, into W_out and state_out). db as in backward (the bias goes through the optimizer
 * with the rest of the arena). False when a new value is not finite (W untouched either way,
 * unless stepped in place: W_out == layer->W and state_out == state, which the caller may ask
 * only after hood__optimizer_safe). `max` (NULL: not wanted) is raised to the maxima of the new
 * kernel and its state (hood__optimizer_step_max). dW is neither written nor read: each band's
 * gradient lives on the stack. */
bool hood__dense_backward_step_pool(hood__pool *pool, const hood__dense *layer,
                                    const hood_optimizer_config *cfg, uint64_t t,
                                    const float *state, float *W_out, float *state_out,
                                    size_t stride, const float *dZ, const float *X, size_t ldx,
                                    size_t batch, hood__arena_max *max);
/* C (m x n) = alpha op(A) op(B) + beta C (hood__sgemm's contract) split over the pool as the
 * cost model says (NULL pool: one call); for the other kinds' products (conv2d.c). */
void hood__pool_sgemm(hood__pool *pool, bool ta, bool tb, size_t m, size_t n, size_t k,
                      float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                      float beta, float *C, size_t ldc);
/* Scratch floats the pool needs for this layer's split products at batches up to `batch`. */
size_t hood__dense_scratch_floats(const hood__dense *layer, size_t batch, int threads);

#endif
