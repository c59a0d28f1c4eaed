/* conv2d.c — Keras' Conv2D over a batch of HWC columns as im2col + one sgemm per product:
 * cols (kh·kw·C x B·OH·OW) from the batch, Y = W · cols (already the next layer's HWC columns:
 * filters fastest, then width, height, sample), dW = dZ · colsᵀ and dX = col2im(Wᵀ · dZ).
 * A 1x1 stride-1 kernel multiplies the input directly. The batch goes in chunks so the column
 * matrix stays within HOOD__CONV_COLS_BUDGET floats, each chunk's samples split over the pool's
 * threads (dW's partials added in a fixed order). Owns no memory; allocates nothing. */
#include "layer.h"

#include "activation.h"
#include "dense.h"
#include "gemm.h"

#include <string.h>

/* The input itself is the column matrix: a 1x1 kernel, stride 1, nothing padded. */
static bool direct(const hood__layer *l)
{
    return l->kh == 1 && l->kw == 1 && l->sh == 1 && l->sw == 1;
}

static size_t col_rows(const hood__layer *l)
{
    return l->kh * l->kw * l->ic;
}

size_t hood__conv2d_chunk(const hood__layer *l, size_t batch)
{
    size_t per_sample = col_rows(l) * l->oh * l->ow;
    size_t chunk = per_sample > 0 ? HOOD__CONV_COLS_BUDGET / per_sample : batch;
    if (chunk < 1)
        chunk = 1;
    return chunk < batch ? chunk : batch;
}

static size_t cols_floats(const hood__layer *l, size_t batch);

size_t hood__conv2d_scratch_floats(const hood__layer *l, size_t batch)
{
    if (batch == 0)
        return 0;
    return cols_floats(l, batch) + (HOOD__CONV_SHARES - 1) * l->oc * col_rows(l);
}

/* n floats from src to dst. Up to 8 (a first layer's window row: kw·C = 3 for 3x3 over one
 * channel) as a fixed-size copy the compiler inlines: a libc memcpy call per 12 bytes cost more
 * than the copying (the cnn bench's profile). */
static inline void copy_floats(float *restrict dst, const float *restrict src, size_t n)
{
    switch (n) {
#define COPY_CASE(k)                                                                               \
    case k:                                                                                        \
        memcpy(dst, src, (k) * sizeof(float));                                                     \
        return;
        COPY_CASE(1)
        COPY_CASE(2)
        COPY_CASE(3)
        COPY_CASE(4)
        COPY_CASE(5)
        COPY_CASE(6)
        COPY_CASE(7)
        COPY_CASE(8)
#undef COPY_CASE
    default:
        memcpy(dst, src, n * sizeof(float));
    }
}

/* cols (K x count·OH·OW, K = kh·kw·C; row (ky·kw + kx)·C + c, column (b·OH + oy)·OW + ox) from
 * samples X (in x count): zero where the window lies in the padding. A window row inside the
 * input is kw·C consecutive floats of X (HWC), copied at once. */
/* noinline here and on col2im: their own symbols in a profile (scripts/bench-compare's split);
 * one call per chunk and share, so the call costs nothing */
__attribute__((noinline)) static void im2col(const hood__layer *l, float *cols, const float *X,
                                             size_t count)
{
    const size_t C = l->ic, K = col_rows(l), run = C * sizeof(float);
    float *col = cols;
    for (size_t b = 0; b < count; b++) {
        const float *x = X + b * l->in;
        for (size_t oy = 0; oy < l->oh; oy++) {
            for (size_t ox = 0; ox < l->ow; ox++, col += K) {
                float *dst = col;
                /* ix = ox·sw + kx - pad_left: the whole row inside when both ends are */
                size_t left = ox * l->sw;
                bool cols_in = left >= l->pad_left && left + l->kw - l->pad_left <= l->iw;
                for (size_t ky = 0; ky < l->kh; ky++, dst += l->kw * C) {
                    /* iy = oy·sh + ky - pad_top, outside [0, ih) in the padding */
                    size_t iy = oy * l->sh + ky;
                    bool row_in = iy >= l->pad_top && iy - l->pad_top < l->ih;
                    if (!row_in) {
                        memset(dst, 0, l->kw * run);
                        continue;
                    }
                    const float *src = x + (iy - l->pad_top) * l->iw * C;
                    if (cols_in) {
                        copy_floats(dst, src + (left - l->pad_left) * C, l->kw * C);
                        continue;
                    }
                    for (size_t kx = 0; kx < l->kw; kx++) {
                        size_t ix = left + kx;
                        if (ix >= l->pad_left && ix - l->pad_left < l->iw)
                            copy_floats(dst + kx * C, src + (ix - l->pad_left) * C, C);
                        else
                            memset(dst + kx * C, 0, run);
                    }
                }
            }
        }
    }
}

/* dX (in x count) = the sum, over every column of dcols, of its values put back where im2col
 * took them (padding dropped). */
__attribute__((noinline)) static void col2im(const hood__layer *l, float *dX, const float *dcols,
                                             size_t count)
{
    const size_t C = l->ic, K = col_rows(l);
    memset(dX, 0, l->in * count * sizeof(float));
    const float *col = dcols;
    for (size_t b = 0; b < count; b++) {
        float *dx = dX + b * l->in;
        for (size_t oy = 0; oy < l->oh; oy++) {
            for (size_t ox = 0; ox < l->ow; ox++, col += K) {
                const float *src = col;
                size_t left = ox * l->sw;
                bool cols_in = left >= l->pad_left && left + l->kw - l->pad_left <= l->iw;
                for (size_t ky = 0; ky < l->kh; ky++) {
                    size_t iy = oy * l->sh + ky;
                    bool row_in = iy >= l->pad_top && iy - l->pad_top < l->ih;
                    if (row_in && cols_in) {
                        /* the window row inside the input: kw·C consecutive floats of dx, one
                         * loop (the same additions in the same order) */
                        size_t at = ((iy - l->pad_top) * l->iw + left - l->pad_left) * C;
                        float *restrict d = dx + at;
                        const float *restrict s = src;
                        for (size_t j = 0; j < l->kw * C; j++)
                            d[j] += s[j];
                        src += l->kw * C;
                        continue;
                    }
                    for (size_t kx = 0; kx < l->kw; kx++, src += C) {
                        size_t ix = ox * l->sw + kx;
                        if (!row_in || ix < l->pad_left || ix - l->pad_left >= l->iw)
                            continue;
                        float *d = dx + ((iy - l->pad_top) * l->iw + ix - l->pad_left) * C;
                        for (size_t c = 0; c < C; c++)
                            d[c] += src[c];
                    }
                }
            }
        }
    }
}

/* One chunk of the batch, split over the pool by samples: share i takes samples [s0, s1) of
 * the chunk (hood__band_at), puts their columns in its own part of the scratch (the columns of
 * samples s0.. start at s0·K·OH·OW) and multiplies them alone, so forward, dX and the columns
 * need no reduction. dW: share 0 accumulates into l->dW, share i > 0 into its partial
 * (F x K, after the columns in the scratch); conv2d_backward adds the partials in share order
 * at the end, so a thread count gives the same bits every run. */
typedef struct conv_task {
    const hood__layer_ctx *ctx;
    const hood__layer *l;
    size_t batch;     /* the whole batch (where the dW partials start in the scratch) */
    size_t b0, count; /* the chunk: samples b0 .. b0 + count of the batch */
    int shares;       /* shares that take samples (the others do nothing) */
    float *Y, *Z_keep;
    const float *X, *dZ;
    float *dX;
    float beta; /* dW: 0 for the first chunk (overwrite), 1 after */
} conv_task;

static size_t cols_floats(const hood__layer *l, size_t batch)
{
    return direct(l) ? 0 : hood__conv2d_chunk(l, batch) * col_rows(l) * l->oh * l->ow;
}

/* The dW partial of share i > 0: after the chunk's columns in the scratch. */
static float *partial_at(const hood__layer_ctx *ctx, const hood__layer *l, size_t batch, int i)
{
    return ctx->scratch + cols_floats(l, batch) + (size_t)(i - 1) * l->oc * col_rows(l);
}

/* Shares that take samples: the pool's threads, at most HOOD__CONV_SHARES, and only as many
 * as the scratch has dW partials for (a scratch sized without them: 1). */
static int conv_shares(const hood__layer_ctx *ctx, const hood__layer *l, size_t batch)
{
    int T = hood__pool_threads(ctx->pool);
    T = T < HOOD__CONV_SHARES ? T : HOOD__CONV_SHARES;
    size_t partial = l->oc * col_rows(l);
    while (T > 1 && ctx->scratch_floats < cols_floats(l, batch) + (size_t)(T - 1) * partial)
        T--;
    return T;
}

static void forward_share(void *arg, int i, int T)
{
    (void)T;
    const conv_task *t = arg;
    const hood__layer *l = t->l;
    if (i >= t->shares)
        return;
    size_t s0 = hood__band_at(t->count, 1, i, t->shares);
    size_t s1 = hood__band_at(t->count, 1, i + 1, t->shares);
    if (s1 == s0)
        return;
    const size_t F = l->oc, K = col_rows(l), pixels = l->oh * l->ow, n = (s1 - s0) * pixels;
    const float *x = t->X + (t->b0 + s0) * l->in, *cols = x;
    if (!direct(l)) {
        float *own = t->ctx->scratch + s0 * K * pixels;
        im2col(l, own, x, s1 - s0);
        cols = own;
    }
    size_t first = (t->b0 + s0) * l->out;
    /* Y (F x n, ld F) = W (F x K, ld F) · cols (K x n, ld K), then act(Y + b) over its columns:
     * the bias is per filter, whatever the pixel */
    hood__sgemm(false, false, F, n, K, 1.0f, l->W, F, cols, K, 0.0f, t->Y + first, F);
    hood__activation_forward(l->act, t->Y + first, t->Z_keep ? t->Z_keep + first : NULL,
                             l->use_bias ? l->b : NULL, F, n);
}

void hood__conv2d_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y,
                          float *Z_keep, const float *X, size_t batch)
{
    const size_t chunk = hood__conv2d_chunk(l, batch);
    conv_task t = {.ctx = ctx, .l = l, .shares = conv_shares(ctx, l, batch), .Y = Y, .Z_keep = Z_keep,
                   .X = X};
    for (size_t b0 = 0; b0 < batch; b0 += chunk) {
        t.b0 = b0;
        t.count = batch - b0 < chunk ? batch - b0 : chunk;
        hood__pool_run(ctx->pool, forward_share, &t);
    }
}

static void backward_share(void *arg, int i, int T)
{
    (void)T;
    const conv_task *t = arg;
    const hood__layer *l = t->l;
    if (i >= t->shares)
        return;
    size_t s0 = hood__band_at(t->count, 1, i, t->shares);
    size_t s1 = hood__band_at(t->count, 1, i + 1, t->shares);
    const size_t F = l->oc, K = col_rows(l), pixels = l->oh * l->ow, n = (s1 - s0) * pixels;
    float *dW = i == 0 ? l->dW : partial_at(t->ctx, l, t->batch, i);
    if (s1 == s0) {
        if (t->beta == 0.0f)
            memset(dW, 0, F * K * sizeof(float));
        return;
    }
    const float *x = t->X + (t->b0 + s0) * l->in, *cols = x;
    const float *dz = t->dZ + (t->b0 + s0) * l->out;
    float *own = t->ctx->scratch + s0 * K * pixels;
    if (!direct(l)) {
        im2col(l, own, x, s1 - s0);
        cols = own;
    }
    /* dW (F x K) (+)= dZ (F x n) · colsᵀ (n x K) */
    hood__sgemm(false, true, F, K, n, 1.0f, dz, F, cols, K, t->beta, dW, F);
    if (t->dX == NULL)
        return;
    float *dx = t->dX + (t->b0 + s0) * l->in;
    if (direct(l)) {
        /* dX (C x n) = Wᵀ (C x F) · dZ (F x n) */
        hood__sgemm(true, false, K, n, F, 1.0f, l->W, F, dz, F, 0.0f, dx, K);
    } else {
        /* dcols (K x n) = Wᵀ (K x F) · dZ (F x n), into the share's columns */
        hood__sgemm(true, false, K, n, F, 1.0f, l->W, F, dz, F, 0.0f, own, K);
        col2im(l, dx, own, s1 - s0);
    }
}

void hood__conv2d_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                           const float *dZ, const float *X, size_t batch)
{
    const size_t F = l->oc, K = col_rows(l), pixels = l->oh * l->ow;
    if (l->use_bias && l->db != NULL) {
        memset(l->db, 0, F * sizeof(float));
        for (size_t p = 0; p < batch * pixels; p++)
            for (size_t f = 0; f < F; f++)
                l->db[f] += dZ[p * F + f];
    }
    const size_t chunk = hood__conv2d_chunk(l, batch);
    conv_task t = {.ctx = ctx, .l = l, .batch = batch, .shares = conv_shares(ctx, l, batch), .X = X,
                   .dZ = dZ, .dX = dX};
    for (size_t b0 = 0; b0 < batch; b0 += chunk) {
        t.b0 = b0;
        t.count = batch - b0 < chunk ? batch - b0 : chunk;
        t.beta = b0 == 0 ? 0.0f : 1.0f;
        hood__pool_run(ctx->pool, backward_share, &t);
    }
    /* dW += the partials, share 1's first */
    for (int i = 1; i < t.shares; i++) {
        const float *q = partial_at(ctx, l, batch, i);
        for (size_t j = 0; j < F * K; j++)
            l->dW[j] += q[j];
    }
}
