/* pool.c — Keras' MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D over a batch of HWC
 * columns, as direct loops (no products). With 'same' padding a window counts only the input
 * values it covers (TensorFlow's rule). Max pooling's backward finds the window's maximum again
 * from the input and output (the first in scan order on ties) rather than keeping indices. The
 * batch's samples are split over the pool's threads. */
#include "layer.h"

#include <math.h>
#include <string.h>

/* The input rows [*y0, *y1) and columns [*x0, *x1) window (oy, ox) covers. */
static void window(const hood__layer *l, size_t oy, size_t ox, size_t *y0, size_t *y1, size_t *x0,
                   size_t *x1)
{
    size_t top = oy * l->sh, left = ox * l->sw; /* in padded coordinates */
    *y0 = top > l->pad_top ? top - l->pad_top : 0;
    *x0 = left > l->pad_left ? left - l->pad_left : 0;
    size_t ye = top + l->kh, xe = left + l->kw;
    *y1 = ye > l->pad_top ? ye - l->pad_top : 0;
    *x1 = xe > l->pad_left ? xe - l->pad_left : 0;
    if (*y1 > l->ih)
        *y1 = l->ih;
    if (*x1 > l->iw)
        *x1 = l->iw;
}

static void global_average_forward(const hood__layer *l, float *Y, const float *X, size_t batch)
{
    const size_t C = l->ic, pixels = l->ih * l->iw;
    for (size_t b = 0; b < batch; b++) {
        float *y = Y + b * C;
        const float *x = X + b * l->in;
        memset(y, 0, C * sizeof(float));
        for (size_t p = 0; p < pixels; p++)
            for (size_t c = 0; c < C; c++)
                y[c] += x[p * C + c];
        for (size_t c = 0; c < C; c++)
            y[c] /= (float)pixels;
    }
}

enum { MAX_BLOCK = 256 }; /* channels per block of the max backward's running rest */

/* Max pooling whose windows tile the input without overlap or padding (stride = window, 'valid',
 * the usual 2x2): every input value lies in at most one window, so dX is written once with `=`
 * (the window's maximum gets dY, the others 0) and only the rows and columns no window covers
 * are zeroed; the general path zeroes all of dX first and adds into it, twice the traffic over
 * a large, memory-bound array. Same first-in-scan-order rule and the same bits. Forward
 * skips the window clipping. */
static bool tiles(const hood__layer *l)
{
    return l->kind == HOOD_LAYER_MAX_POOLING2D && l->sh == l->kh && l->sw == l->kw &&
           l->pad_top == 0 && l->pad_left == 0 && l->oh * l->kh <= l->ih &&
           l->ow * l->kw <= l->iw && l->ic <= MAX_BLOCK;
}

static void max_tiled_forward(const hood__layer *l, float *restrict y, const float *restrict x)
{
    const size_t C = l->ic, row = l->iw * C;
    for (size_t oy = 0; oy < l->oh; oy++)
        for (size_t ox = 0; ox < l->ow; ox++) {
            float *out = y + (oy * l->ow + ox) * C;
            for (size_t c = 0; c < C; c++)
                out[c] = -INFINITY;
            for (size_t ky = 0; ky < l->kh; ky++)
                for (size_t kx = 0; kx < l->kw; kx++) {
                    const float *in = x + (oy * l->kh + ky) * row + (ox * l->kw + kx) * C;
                    for (size_t c = 0; c < C; c++)
                        out[c] = in[c] > out[c] ? in[c] : out[c];
                }
        }
}

/* noinline here and on backward_samples: their own symbols in a profile (scripts/bench-compare's
 * split); one call per share */
__attribute__((noinline)) static void forward_samples(const hood__layer *l, float *Y,
                                                      const float *X, size_t batch)
{
    if (l->kind == HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D) {
        global_average_forward(l, Y, X, batch);
        return;
    }
    if (tiles(l)) {
        for (size_t b = 0; b < batch; b++)
            max_tiled_forward(l, Y + b * l->out, X + b * l->in);
        return;
    }
    const size_t C = l->ic;
    const bool is_max = l->kind == HOOD_LAYER_MAX_POOLING2D;
    for (size_t b = 0; b < batch; b++) {
        const float *x = X + b * l->in;
        float *y = Y + b * l->out;
        for (size_t oy = 0; oy < l->oh; oy++) {
            for (size_t ox = 0; ox < l->ow; ox++) {
                float *out = y + (oy * l->ow + ox) * C;
                size_t y0, y1, x0, x1;
                window(l, oy, ox, &y0, &y1, &x0, &x1);
                for (size_t c = 0; c < C; c++)
                    out[c] = is_max ? -INFINITY : 0.0f;
                for (size_t iy = y0; iy < y1; iy++)
                    for (size_t ix = x0; ix < x1; ix++) {
                        const float *in = x + (iy * l->iw + ix) * C;
                        if (is_max) {
                            for (size_t c = 0; c < C; c++)
                                out[c] = in[c] > out[c] ? in[c] : out[c];
                        } else {
                            for (size_t c = 0; c < C; c++)
                                out[c] += in[c];
                        }
                    }
                if (!is_max) {
                    float count = (float)((y1 - y0) * (x1 - x0));
                    for (size_t c = 0; c < C; c++)
                        out[c] /= count;
                }
            }
        }
    }
}

/* The window's share of dY (C values) to every input it covers. */
static void average_window(const hood__layer *l, float *dx, const float *dy, size_t y0, size_t y1,
                           size_t x0, size_t x1)
{
    const size_t C = l->ic;
    float share = 1.0f / (float)((y1 - y0) * (x1 - x0));
    for (size_t iy = y0; iy < y1; iy++)
        for (size_t ix = x0; ix < x1; ix++) {
            float *d = dx + (iy * l->iw + ix) * C;
            for (size_t c = 0; c < C; c++)
                d[c] += dy[c] * share;
        }
}

/* dY (C values) to the window's maximum of each channel: the first input in scan order equal
 * to the output. The window is scanned position by position with the channels contiguous (in
 * blocks of MAX_BLOCK): `rest` starts as dY and goes to zero at the channel's first hit, so the
 * later ties add nothing, without a branch. */
static void hit_block(float *restrict d, float *restrict rest, const float *restrict x,
                      const float *restrict y, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        /* a 0/1 factor, not a ?: (GCC keeps a float ?: scalar, trapping compares) */
        float add = (float)(x[c] == y[c]) * rest[c];
        d[c] += add;
        rest[c] -= add;
    }
}

static void max_window(const hood__layer *l, float *dx, const float *dy, const float *x,
                       const float *y, size_t y0, size_t y1, size_t x0, size_t x1)
{
    const size_t C = l->ic;
    float rest[MAX_BLOCK];
    for (size_t c0 = 0; c0 < C; c0 += MAX_BLOCK) {
        size_t n = C - c0 < MAX_BLOCK ? C - c0 : MAX_BLOCK;
        memcpy(rest, dy + c0, n * sizeof(float));
        for (size_t iy = y0; iy < y1; iy++)
            for (size_t ix = x0; ix < x1; ix++) {
                size_t at = (iy * l->iw + ix) * C + c0;
                hit_block(dx + at, rest, x + at, y + c0, n);
            }
    }
}

static void max_tiled_sample(const hood__layer *l, float *restrict dx, const float *restrict dy,
                             const float *restrict x, const float *restrict y)
{
    const size_t C = l->ic, row = l->iw * C;
    float rest[MAX_BLOCK];
    for (size_t oy = 0; oy < l->oh; oy++) {
        for (size_t ox = 0; ox < l->ow; ox++) {
            const size_t o = (oy * l->ow + ox) * C;
            memcpy(rest, dy + o, C * sizeof(float));
            for (size_t ky = 0; ky < l->kh; ky++)
                for (size_t kx = 0; kx < l->kw; kx++) {
                    size_t at = (oy * l->kh + ky) * row + (ox * l->kw + kx) * C;
                    for (size_t c = 0; c < C; c++) {
                        float put = (float)(x[at + c] == y[o + c]) * rest[c];
                        dx[at + c] = put + 0.0f; /* 0 + put as the general path: no -0 */
                        rest[c] -= put;
                    }
                }
        }
        /* the columns right of the last window, on this window row */
        size_t covered = l->ow * l->kw * C;
        for (size_t ky = 0; ky < l->kh && covered < row; ky++)
            memset(dx + (oy * l->kh + ky) * row + covered, 0, (row - covered) * sizeof(float));
    }
    /* the rows under the last window row */
    size_t done = l->oh * l->kh * row;
    memset(dx + done, 0, (l->in - done) * sizeof(float));
}

__attribute__((noinline)) static void backward_samples(const hood__layer *l, float *dX,
                                                       const float *dY, const float *X,
                                                       const float *Y, size_t batch)
{
    const size_t C = l->ic;
    if (tiles(l)) {
        for (size_t b = 0; b < batch; b++)
            max_tiled_sample(l, dX + b * l->in, dY + b * l->out, X + b * l->in, Y + b * l->out);
        return;
    }
    memset(dX, 0, l->in * batch * sizeof(float));
    if (l->kind == HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D) {
        const size_t pixels = l->ih * l->iw;
        for (size_t b = 0; b < batch; b++)
            for (size_t p = 0; p < pixels; p++)
                for (size_t c = 0; c < C; c++)
                    dX[b * l->in + p * C + c] = dY[b * C + c] / (float)pixels;
        return;
    }
    const bool is_max = l->kind == HOOD_LAYER_MAX_POOLING2D;
    for (size_t b = 0; b < batch; b++) {
        const float *x = X + b * l->in;
        float *dx = dX + b * l->in;
        for (size_t oy = 0; oy < l->oh; oy++) {
            for (size_t ox = 0; ox < l->ow; ox++) {
                size_t o = b * l->out + (oy * l->ow + ox) * C;
                size_t y0, y1, x0, x1;
                window(l, oy, ox, &y0, &y1, &x0, &x1);
                if (is_max)
                    max_window(l, dx, dY + o, x, Y + o, y0, y1, x0, x1);
                else
                    average_window(l, dx, dY + o, y0, y1, x0, x1);
            }
        }
    }
}

/* The samples split over the pool (hood__band_at): every sample is computed alone, so the bits
 * are the same at any thread count. */
typedef struct pool_task {
    const hood__layer *l;
    float *Y, *dX;
    const float *X, *Yc, *dY;
    size_t batch;
} pool_task;

static void forward_share(void *arg, int i, int T)
{
    const pool_task *t = arg;
    size_t s0 = hood__band_at(t->batch, 1, i, T), s1 = hood__band_at(t->batch, 1, i + 1, T);
    if (s1 > s0)
        forward_samples(t->l, t->Y + s0 * t->l->out, t->X + s0 * t->l->in, s1 - s0);
}

static void backward_share(void *arg, int i, int T)
{
    const pool_task *t = arg;
    const hood__layer *l = t->l;
    size_t s0 = hood__band_at(t->batch, 1, i, T), s1 = hood__band_at(t->batch, 1, i + 1, T);
    if (s1 > s0)
        backward_samples(l, t->dX + s0 * l->in, t->dY + s0 * l->out, t->X + s0 * l->in,
                         t->Yc + s0 * l->out, s1 - s0);
}

void hood__pool2d_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y,
                          const float *X, size_t batch)
{
    pool_task t = {.l = l, .Y = Y, .X = X, .batch = batch};
    hood__pool_run(ctx->pool, forward_share, &t);
}

void hood__pool2d_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                           const float *dY, const float *X, const float *Y, size_t batch)
{
    pool_task t = {.l = l, .dX = dX, .X = X, .Yc = Y, .dY = dY, .batch = batch};
    hood__pool_run(ctx->pool, backward_share, &t);
}
