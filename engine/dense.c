/* dense.c — one Dense layer over a batch: the sgemm calls, their split over the worker pool's
 * threads (each thread one single-threaded sgemm on its share), and the fused bias +
 * activation. It owns no memory (parameters, gradients, activations and the pool's scratch are
 * handed in) and allocates nothing; it does not know about losses, and of optimizers only the
 * first layer's fused step (its kernel's update applied band by band as dW is made). */
#include "dense.h"

#include "activation.h"
#include "gemm.h"
#include "matrix.h"
#include "optimizer.h"

#include <math.h>
#include <string.h>

/* ---- Splitting one product over the pool ------------------------------------------------
 *
 * The cost model (deterministic, from the shape alone, so the same thread count always makes
 * the same choice and the same bits): a product smaller than MIN_SPLIT_FLOPS runs as one call
 * on the caller — a hand-off to a spinning worker costs ~1-5 µs, about what 2^20 flops take in
 * these skinny sgemms (10-20 GFLOP/s measured by `hood-bench limits`). Otherwise split the
 * dimension that leaves each thread the fewest floats to touch (its share of A, B and C, plus
 * the partial sums it writes and the caller adds when K is split), among the splits whose shares
 * are at least one micro-kernel wide: rows of C in steps of 16 (OpenBLAS Haswell's sgemm
 * unroll), columns in steps of 4, K in steps of 64. Ties go to rows, then columns, and K must
 * win by a tenth: row and column shares give each element the 1-thread arithmetic, K does
 * not. */
enum { MIN_SPLIT_FLOPS = 1 << 20, STEP_M = 16, STEP_N = 4, STEP_K = HOOD__INPUT_BAND_STEP };

/* A layer whose inputs split (in >= 2 * STEP_K) gives each thread one band of input features
 * for the whole step: it gathers those rows of X (matrix.c uses the same bands), multiplies them
 * in forward (K split), computes those columns of dW (or folds them into W) and those rows of
 * dX. Each thread then reads and writes the same W columns and X rows in every product of a
 * step, and only the small out x batch partial sums cross between cores. (The caller always
 * has band 0; with 2 threads the worker, when it claims a share, always gets band 1; with 3 or
 * more the workers claim bands in arrival order — parallel.c.) Splitting forward by
 * rows instead, as the cost model alone would for Fashion-MNIST (a tie), gave no gain over 1
 * thread in training (batch 32: 1,144 vs 1,125 ms per epoch; each core read the half of W the
 * other had just written) although 1.5x faster on a hot cache; with the bands, 2 threads took
 * 683-724 ms against 1,007-1,073 on 1 (hood-bench fmnist, chrt -f 10, 2 rounds). The cost model
 * still decides whether a product splits at all, and how for layers with fewer inputs. */

typedef enum split_kind { SPLIT_NONE, SPLIT_M, SPLIT_N, SPLIT_K } split_kind;

/* OpenBLAS (with its small-matrix kernels, as Debian's 0.3.21 is built) multiplies without
 * packing either operand when m·n·k <= 10^6. A narrow layer's forward (the seed model: m = 10
 * units, n = 32 samples, k = 22500 inputs) is far above that, and packing X cost about as much
 * as the product: cut k into bands under that size, each added into C (beta = 1 after the
 * first). Measured: 0.21 ms against 0.37 at batch 32, 0.83 against 2.0 at 128, 13-29 against
 * 25-47 at 1027 (docs/performance.md). Other BLAS libraries get the same calls, a little more
 * call overhead. The bands are fixed by the shape, so the bits repeat. */
enum { SMALL_MNK = 1000000, BAND_M_MAX = 16, BAND_K_MAX = 2048 };

static size_t k_band(size_t m, size_t n, size_t k)
{
    if (m > BAND_M_MAX || n == 0 || m * n > SMALL_MNK / STEP_K)
        return k;
    size_t band = SMALL_MNK / (m * n) / STEP_K * STEP_K;
    band = band > BAND_K_MAX ? BAND_K_MAX : band;
    return band >= k ? k : band;
}

/* Wider layers (Fashion-MNIST's 256 and 128 units at batch 32: m·n·k = 1-6.4 million) are cut
 * into bands of C's rows instead, each under SMALL_MNK and its own call, where the BLAS has
 * those kernels (hood__blas_small_kernels): forward 256 x 32 x 784 took 117 µs in bands of 32
 * rows against 148 in one call, dW 256 x 784 x 32 120 against 141, the 128-unit layer's 18-19
 * against 24 (Cooperlake and SkylakeX kernels; Haswell's ran 1.5x slower in bands, and the TN
 * product dX gained nothing, so neither is cut). Each element of C is still one call's dot
 * product over all of k; the bands are fixed by the shape, so the bits repeat. */
enum { BAND_ROWS_MIN = 32 };

static size_t row_band(bool ta, size_t m, size_t n, size_t k)
{
    if (ta || m < 2 * BAND_ROWS_MIN || (double)m * (double)n * (double)k <= SMALL_MNK ||
        !hood__blas_small_kernels())
        return m;
    size_t most = SMALL_MNK / (n * k) / STEP_M * STEP_M;
    if (most < BAND_ROWS_MIN)
        return m;
    /* equal bands, in whole micro-kernel steps */
    size_t bands = (m + most - 1) / most;
    size_t band = ((m + bands - 1) / bands + STEP_M - 1) / STEP_M * STEP_M;
    return band > most ? most : band;
}

/* hood__sgemm's contract, in k_band's bands of the inner dimension (a narrow layer) or
 * row_band's bands of C (a wider one), or one call. */
static void sgemm_banded(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha,
                         const float *A, size_t lda, const float *B, size_t ldb, float beta,
                         float *C, size_t ldc)
{
    size_t band = k_band(m, n, k), rows = band >= k ? row_band(ta, m, n, k) : m;
    if (rows < m) {
        for (size_t i0 = 0; i0 < m; i0 += rows) /* op(A) = A (not ta): rows i0.. at A + i0 */
            hood__sgemm(ta, tb, m - i0 < rows ? m - i0 : rows, n, k, alpha, A + i0, lda, B, ldb,
                        beta, C + i0, ldc);
        return;
    }
    if (band >= k) {
        hood__sgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    for (size_t p0 = 0; p0 < k; p0 += band) {
        size_t kb = k - p0 < band ? k - p0 : band;
        /* op(A)(:, p0..) and op(B)(p0.., :) */
        const float *a = ta ? A + p0 : A + p0 * lda;
        const float *b = tb ? B + p0 * ldb : B + p0;
        hood__sgemm(ta, tb, m, n, kb, alpha, a, lda, b, ldb, p0 == 0 ? beta : 1.0f, C, ldc);
    }
}

typedef struct product {
    bool ta, tb;
    size_t m, n, k;
    float alpha;
    const float *A;
    size_t lda;
    const float *B;
    size_t ldb;
    float beta;
    float *C;
    size_t ldc;
    split_kind split;
    bool banded;    /* each call in sgemm_banded's bands: the dense layers' products */
    size_t step;    /* shares are multiples of this */
    float *partial; /* K split: threads - 1 blocks of m x n (ld m) */
} product;

static split_kind choose_split(size_t m, size_t n, size_t k, int T)
{
    double flops = 2.0 * (double)m * (double)n * (double)k;
    if (T < 2 || flops < (double)MIN_SPLIT_FLOPS)
        return SPLIT_NONE;
    double t = (double)T, best = 0.0;
    split_kind kind = SPLIT_NONE;
    double dm = (double)m, dn = (double)n, dk = (double)k;
    if (m >= 2 * STEP_M) {
        double c = dm / t * dk + dk * dn + dm / t * dn;
        kind = SPLIT_M;
        best = c;
    }
    if (n >= 2 * STEP_N) {
        double c = dm * dk + dk * dn / t + dm * dn / t;
        if (kind == SPLIT_NONE || c < best) {
            kind = SPLIT_N;
            best = c;
        }
    }
    if (k >= 2 * STEP_K) {
        /* its A and B shares, C written, and the reduction reading every partial; chosen only
         * when clearly ahead (by a tenth), since the caller adds the partials alone and the
         * sums are no longer the 1-thread bits */
        double c = dm * dk / t + dk / t * dn + 2.0 * dm * dn;
        if (kind == SPLIT_NONE || 1.1 * c < best) {
            kind = SPLIT_K;
            best = c;
        }
    }
    return kind;
}

/* hood__sgemm's signature: the call each share makes, plain or in bands. */
typedef void gemm_fn(bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, const float *A,
                     size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc);

static void product_share(void *arg, int i, int T)
{
    const product *p = arg;
    gemm_fn *gemm = p->banded ? sgemm_banded : hood__sgemm;
    switch (p->split) {
    case SPLIT_NONE:
        if (i == 0)
            gemm(p->ta, p->tb, p->m, p->n, p->k, p->alpha, p->A, p->lda, p->B, p->ldb, p->beta,
                 p->C, p->ldc);
        return;
    case SPLIT_M: {
        size_t i0 = hood__band_at(p->m, p->step, i, T), i1 = hood__band_at(p->m, p->step, i + 1, T);
        /* rows i0..i1 of op(A): A + i0 (stored m x k) or A + i0 * lda (stored k x m) */
        const float *a = p->ta ? p->A + i0 * p->lda : p->A + i0;
        gemm(p->ta, p->tb, i1 - i0, p->n, p->k, p->alpha, a, p->lda, p->B, p->ldb, p->beta,
             p->C + i0, p->ldc);
        return;
    }
    case SPLIT_N: {
        size_t j0 = hood__band_at(p->n, p->step, i, T), j1 = hood__band_at(p->n, p->step, i + 1, T);
        /* columns j0..j1 of op(B): B + j0 * ldb (stored k x n) or B + j0 (stored n x k) */
        const float *b = p->tb ? p->B + j0 : p->B + j0 * p->ldb;
        gemm(p->ta, p->tb, p->m, j1 - j0, p->k, p->alpha, p->A, p->lda, b, p->ldb, p->beta,
             p->C + j0 * p->ldc, p->ldc);
        return;
    }
    case SPLIT_K: {
        size_t p0 = hood__band_at(p->k, p->step, i, T), p1 = hood__band_at(p->k, p->step, i + 1, T);
        const float *a = p->ta ? p->A + p0 : p->A + p0 * p->lda;
        const float *b = p->tb ? p->B + p0 * p->ldb : p->B + p0;
        if (i == 0)
            gemm(p->ta, p->tb, p->m, p->n, p1 - p0, p->alpha, a, p->lda, b, p->ldb, p->beta, p->C,
                 p->ldc);
        else
            gemm(p->ta, p->tb, p->m, p->n, p1 - p0, p->alpha, a, p->lda, b, p->ldb, 0.0f,
                 p->partial + (size_t)(i - 1) * p->m * p->n, p->m);
        return;
    }
    }
}

/* C = alpha op(A) op(B) + beta C (hood__sgemm's contract), split over the pool: by `inputs`
 * (the layer's input features, in bands of STEP_K) when that is not SPLIT_NONE and the product
 * is large enough, else as the cost model says. */
static void pool_sgemm(hood__pool *pool, split_kind inputs, bool banded, bool ta, bool tb, size_t m,
                       size_t n, size_t k, float alpha, const float *A, size_t lda, const float *B,
                       size_t ldb, float beta, float *C, size_t ldc)
{
    int T = hood__pool_threads(pool);
    product p = {ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, SPLIT_NONE, banded, 0, NULL};
    p.split = choose_split(m, n, k, T);
    if (p.split != SPLIT_NONE && inputs != SPLIT_NONE)
        p.split = inputs;
    p.step = p.split == SPLIT_M ? STEP_M : p.split == SPLIT_N ? STEP_N : STEP_K;
    if (inputs != SPLIT_NONE && p.split == inputs)
        p.step = STEP_K;
    if (p.split == SPLIT_K) {
        size_t have;
        p.partial = hood__pool_scratch(pool, &have);
        /* Not reserved (a caller that skipped hood__dense_scratch_floats): split rows or
         * columns instead, or not at all. */
        if (p.partial == NULL || have < (size_t)(T - 1) * m * n) {
            p.split = m >= 2 * STEP_M ? SPLIT_M : n >= 2 * STEP_N ? SPLIT_N : SPLIT_NONE;
            p.step = p.split == SPLIT_M ? STEP_M : STEP_N;
        }
    }
    if (p.split == SPLIT_NONE) {
        product_share(&p, 0, 1);
        return;
    }
    hood__pool_run(pool, product_share, &p);
    if (p.split == SPLIT_K) {
        /* C += partials, thread 1's first, always in that order: the same bits every run. */
        for (int t = 1; t < T; t++) {
            const float *q = p.partial + (size_t)(t - 1) * m * n;
            for (size_t j = 0; j < n; j++)
                for (size_t r = 0; r < m; r++)
                    C[r + j * ldc] += q[r + j * m];
        }
    }
}

void hood__pool_sgemm(hood__pool *pool, bool ta, bool tb, size_t m, size_t n, size_t k,
                      float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                      float beta, float *C, size_t ldc)
{
    pool_sgemm(pool, SPLIT_NONE, false, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Whether the layer's products split by input-feature bands (see STEP_K above). */
static bool splits_inputs(const hood__dense *layer)
{
    return layer->in >= 2 * STEP_K;
}

size_t hood__dense_scratch_floats(const hood__dense *layer, size_t batch, int threads)
{
    /* Only a K split needs scratch: forward's Z (out x batch) is the one product with K = in
     * large beside out x batch; the backward products split rows or columns. */
    split_kind forward = choose_split(layer->out, batch, layer->in, threads);
    if (threads < 2 || forward == SPLIT_NONE || (forward != SPLIT_K && !splits_inputs(layer)))
        return 0;
    return (size_t)(threads - 1) * layer->out * batch;
}

/* ---- The layer ---------------------------------------------------------------------------- */

void hood__dense_forward_pool(hood__pool *pool, const hood__dense *layer, float *A, float *Z_keep,
                              const float *X, size_t ldx, size_t batch)
{
    const size_t out = layer->out, in = layer->in;
    /* Z (out x batch, ld out) = W (out x in, ld out) · X (in x batch, ld ldx), written into A,
     * which the activation then turns into act(Z + b) in place. */
    pool_sgemm(pool, splits_inputs(layer) ? SPLIT_K : SPLIT_NONE, true, false, false, out, batch,
               in, 1.0f, layer->W, out, X, ldx, 0.0f, A, out);
    hood__activation_forward(layer->act, A, Z_keep, layer->use_bias ? layer->b : NULL, out, batch);
}

/* db (out) = row sums of dZ (out x batch): column by column, so dZ is read once, in order. */
static void bias_gradient(float *db, const float *dZ, size_t out, size_t batch)
{
    for (size_t i = 0; i < out; i++)
        db[i] = 0.0f;
    for (size_t j = 0; j < batch; j++) {
        const float *dz = dZ + j * out;
        for (size_t i = 0; i < out; i++)
            db[i] += dz[i];
    }
}

void hood__dense_backward_pool(hood__pool *pool, const hood__dense *layer, float *dX,
                               const float *dZ, const float *X, size_t ldx, size_t batch)
{
    const size_t out = layer->out, in = layer->in;
    /* dW (out x in, ld out) = dZ (out x batch, ld out) · Xᵀ (batch x in; X is in x batch,
     * ld ldx) */
    pool_sgemm(pool, splits_inputs(layer) ? SPLIT_N : SPLIT_NONE, true, false, true, out, in, batch,
               1.0f, dZ, out, X, ldx, 0.0f, layer->dW, out);
    if (layer->use_bias && layer->db != NULL)
        bias_gradient(layer->db, dZ, out, batch);
    if (dX != NULL)
        /* dX (in x batch, ld in) = Wᵀ (in x out; W is out x in, ld out) · dZ (out x batch,
         * ld out) */
        pool_sgemm(pool, splits_inputs(layer) ? SPLIT_M : SPLIT_NONE, false, true, false, in, batch,
                   out, 1.0f, layer->W, out, dZ, out, 0.0f, dX, in);
}

void hood__dense_forward(const hood__dense *layer, float *A, float *Z_keep, const float *X,
                         size_t ldx, size_t batch)
{
    hood__dense_forward_pool(NULL, layer, A, Z_keep, X, ldx, batch);
}

void hood__dense_backward(const hood__dense *layer, float *dX, const float *dZ, const float *X,
                          size_t ldx, size_t batch)
{
    hood__dense_backward_pool(NULL, layer, dX, dZ, X, ldx, batch);
}

/* ---- Plain SGD folded into dW ------------------------------------------------------------- */

enum { MAX_FOLD_SHARES = 64 };

typedef struct sgd_fold {
    const hood__dense *layer;
    float *W_out;
    float lr;
    const float *dZ, *X;
    size_t ldx, batch;
    int threads;
    int bad[MAX_FOLD_SHARES]; /* per share: a new weight is not finite (one int each, written by its
                                 owner) */
} sgd_fold;

static void sgd_fold_share(void *arg, int i, int T)
{
    sgd_fold *f = arg;
    const hood__dense *l = f->layer;
    const size_t out = l->out, in = l->in;
    /* Columns j0..j1 of W (the inputs), each a contiguous run of `out` floats. */
    size_t j0 = hood__band_at(in, STEP_K, i, T), j1 = hood__band_at(in, STEP_K, i + 1, T);
    float *w = f->W_out + j0 * out;
    memcpy(w, l->W + j0 * out, (j1 - j0) * out * sizeof(float));
    /* W_out (out x share) = -lr · dZ (out x batch) · X[j0..j1, :]ᵀ + W_out */
    sgemm_banded(false, true, out, j1 - j0, f->batch, -f->lr, f->dZ, out, f->X + j0, f->ldx, 1.0f,
                 w, out);
    f->bad[i] = !hood__matrix_all_finite(w, (j1 - j0) * out);
}

bool hood__dense_backward_sgd_pool(hood__pool *pool, const hood__dense *layer, float *W_out,
                                   float lr, const float *dZ, const float *X, size_t ldx,
                                   size_t batch)
{
    sgd_fold f = {.layer = layer,
                  .W_out = W_out,
                  .lr = lr,
                  .dZ = dZ,
                  .X = X,
                  .ldx = ldx,
                  .batch = batch,
                  .threads = hood__pool_threads(pool)};
    /* Split the input bands only when the dW product itself would split them. */
    bool split = f.threads <= MAX_FOLD_SHARES && splits_inputs(layer) &&
                 choose_split(layer->out, layer->in, batch, f.threads) != SPLIT_NONE;
    if (split)
        hood__pool_run(pool, sgd_fold_share, &f);
    else
        sgd_fold_share(&f, 0, 1);
    if (layer->use_bias && layer->db != NULL)
        bias_gradient(layer->db, dZ, layer->out, batch);
    int bad = 0;
    for (int i = 0; i < (split ? f.threads : 1); i++)
        bad |= f.bad[i];
    return bad == 0;
}

/* ---- The first layer's kernel gradient fused with the optimizer step ----------------------
 *
 * For out <= 16 OpenBLAS runs dW = dZ · Xᵀ (M = out) on a 16-row micro-kernel mostly idle; as
 * dWᵀ = X · dZᵀ (M = in) the same product ran 1.3x faster at batch 32 and 1.5x at 1027 on the
 * seed model (22500 -> 10). Each band of FUSE_FLOATS gradient values is made, transposed and
 * stepped on the stack, in L1/L2: the gradient never goes to memory (writing it to the arena's
 * dW as well cost 3-10 % of the seed model's epoch). Computing dW directly (M = out) instead of
 * transposing was 1.3 ms per seed epoch slower at batch 32 with OpenBLAS's small-matrix kernel;
 * the transpose in registers (hood__matrix_transpose) costs ~0.6 ms of an epoch (perf). */
enum { FUSE_OUT_MAX = 16, FUSE_FLOATS = 8192 };

bool hood__dense_fuses_step(const hood__dense *layer)
{
    return layer->out <= FUSE_OUT_MAX && layer->dW != NULL;
}

typedef struct step_fold {
    const hood__dense *layer;
    const hood_optimizer_config *cfg;
    uint64_t t;
    const float *state;
    float *W_out, *state_out;
    size_t stride;
    const float *dZ, *X;
    size_t ldx, batch;
    int bad[MAX_FOLD_SHARES];
    hood__arena_max max[MAX_FOLD_SHARES]; /* per share: the maxima of what it wrote */
} step_fold;

static void step_fold_share(void *arg, int i, int T)
{
    step_fold *f = arg;
    const hood__dense *l = f->layer;
    const size_t out = l->out, cols = FUSE_FLOATS / out;
    size_t j0 = hood__band_at(l->in, STEP_K, i, T), j1 = hood__band_at(l->in, STEP_K, i + 1, T);
    float gt[FUSE_FLOATS]; /* dWᵀ of the band (c x out, ld c) */
    float g[FUSE_FLOATS];  /* dW of the band (out x c, ld out) */
    int bad = 0;
    hood__arena_max mx = {0.0f, {0.0f, 0.0f}};
    for (size_t a = j0; a < j1; a += cols) {
        size_t c = j1 - a < cols ? j1 - a : cols, at = a * out;
        /* gt (c x out) = X[a .. a+c, :] (c x batch, ld ldx) · dZᵀ (batch x out; dZ is out x
         * batch, ld out) */
        hood__sgemm(false, true, c, out, f->batch, 1.0f, f->X + a, f->ldx, f->dZ, out, 0.0f, gt, c);
        hood__matrix_transpose(g, gt, c, out);
        bad |= !hood__optimizer_step_max(NULL, f->cfg, f->t, l->W + at, g,
                                         f->state != NULL ? f->state + at : NULL, f->W_out + at,
                                         f->state_out != NULL ? f->state_out + at : NULL, f->stride,
                                         c * out, &mx);
    }
    f->bad[i] = bad;
    f->max[i] = mx;
}

bool hood__dense_backward_step_pool(hood__pool *pool, const hood__dense *layer,
                                    const hood_optimizer_config *cfg, uint64_t t,
                                    const float *state, float *W_out, float *state_out,
                                    size_t stride, const float *dZ, const float *X, size_t ldx,
                                    size_t batch, hood__arena_max *max)
{
    step_fold f = {.layer = layer,
                   .cfg = cfg,
                   .t = t,
                   .state = state,
                   .W_out = W_out,
                   .state_out = state_out,
                   .stride = stride,
                   .dZ = dZ,
                   .X = X,
                   .ldx = ldx,
                   .batch = batch};
    int T = hood__pool_threads(pool);
    bool split = T <= MAX_FOLD_SHARES && splits_inputs(layer) &&
                 choose_split(layer->out, layer->in, batch, T) != SPLIT_NONE;
    if (split)
        hood__pool_run(pool, step_fold_share, &f);
    else
        step_fold_share(&f, 0, 1);
    if (layer->use_bias && layer->db != NULL)
        bias_gradient(layer->db, dZ, layer->out, batch);
    int bad = 0;
    for (int i = 0; i < (split ? T : 1); i++) {
        bad |= f.bad[i];
        if (max != NULL) {
            /* NaN only where bad is set; the caller uses the maxima of a finite step */
            max->w = f.max[i].w > max->w ? f.max[i].w : max->w;
            for (int s = 0; s < 2; s++)
                max->s[s] = f.max[i].s[s] > max->s[s] ? f.max[i].s[s] : max->s[s];
        }
    }
    return bad == 0;
}
