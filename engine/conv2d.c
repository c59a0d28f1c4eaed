/* conv2d.c — Keras' Conv2D over a batch of HWC columns as im2col + one sgemm per product:
 * cols (kh·kw·C x B·OH·OW) from the batch, Y = W · cols (already the next layer's HWC columns:
 * filters fastest, then width, height, sample), dW = dZ · colsᵀ and dX = col2im(Wᵀ · dZ).
 * A 1x1 stride-1 kernel multiplies the input directly. The batch goes in chunks so the column
 * matrix stays within HOOD__CONV_COLS_BUDGET floats. Owns no memory; allocates nothing. */
#include "layer.h"

#include "activation.h"
#include "dense.h"

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

size_t hood__conv2d_scratch_floats(const hood__layer *l, size_t batch)
{
    if (direct(l) || batch == 0)
        return 0;
    return hood__conv2d_chunk(l, batch) * col_rows(l) * l->oh * l->ow;
}

/* cols (K x count·OH·OW, K = kh·kw·C; row (ky·kw + kx)·C + c, column (b·OH + oy)·OW + ox) from
 * samples X (in x count): zero where the window lies in the padding. */
static void im2col(const hood__layer *l, float *cols, const float *X, size_t count)
{
    const size_t C = l->ic, K = col_rows(l), run = C * sizeof(float);
    float *col = cols;
    for (size_t b = 0; b < count; b++) {
        const float *x = X + b * l->in;
        for (size_t oy = 0; oy < l->oh; oy++) {
            for (size_t ox = 0; ox < l->ow; ox++, col += K) {
                float *dst = col;
                for (size_t ky = 0; ky < l->kh; ky++) {
                    /* iy = oy·sh + ky - pad_top, outside [0, ih) in the padding */
                    size_t iy = oy * l->sh + ky;
                    bool row_in = iy >= l->pad_top && iy - l->pad_top < l->ih;
                    for (size_t kx = 0; kx < l->kw; kx++, dst += C) {
                        size_t ix = ox * l->sw + kx;
                        if (row_in && ix >= l->pad_left && ix - l->pad_left < l->iw)
                            memcpy(dst, x + ((iy - l->pad_top) * l->iw + ix - l->pad_left) * C,
                                   run);
                        else
                            memset(dst, 0, run);
                    }
                }
            }
        }
    }
}

/* dX (in x count) = the sum, over every column of dcols, of its values put back where im2col
 * took them (padding dropped). */
static void col2im(const hood__layer *l, float *dX, const float *dcols, size_t count)
{
    const size_t C = l->ic, K = col_rows(l);
    memset(dX, 0, l->in * count * sizeof(float));
    const float *col = dcols;
    for (size_t b = 0; b < count; b++) {
        float *dx = dX + b * l->in;
        for (size_t oy = 0; oy < l->oh; oy++) {
            for (size_t ox = 0; ox < l->ow; ox++, col += K) {
                const float *src = col;
                for (size_t ky = 0; ky < l->kh; ky++) {
                    size_t iy = oy * l->sh + ky;
                    bool row_in = iy >= l->pad_top && iy - l->pad_top < l->ih;
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

void hood__conv2d_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y,
                          float *Z_keep, const float *X, size_t batch)
{
    const size_t F = l->oc, K = col_rows(l), pixels = l->oh * l->ow;
    const size_t chunk = hood__conv2d_chunk(l, batch);
    for (size_t b0 = 0; b0 < batch; b0 += chunk) {
        size_t count = batch - b0 < chunk ? batch - b0 : chunk, n = count * pixels;
        const float *cols = X + b0 * l->in;
        if (!direct(l)) {
            im2col(l, ctx->scratch, X + b0 * l->in, count);
            cols = ctx->scratch;
        }
        /* Y (F x n, ld F) = W (F x K, ld F) · cols (K x n, ld K) */
        hood__pool_sgemm(ctx->pool, false, false, F, n, K, 1.0f, l->W, F, cols, K, 0.0f,
                         Y + b0 * l->out, F);
    }
    /* act(Y + b) over F x (batch·OH·OW): the bias is per filter, whatever the pixel */
    hood__activation_forward(l->act, Y, Z_keep, l->use_bias ? l->b : NULL, F, batch * pixels);
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
    for (size_t b0 = 0; b0 < batch; b0 += chunk) {
        size_t count = batch - b0 < chunk ? batch - b0 : chunk, n = count * pixels;
        const float *dz = dZ + b0 * l->out;
        const float *cols = X + b0 * l->in;
        if (!direct(l)) {
            im2col(l, ctx->scratch, X + b0 * l->in, count);
            cols = ctx->scratch;
        }
        /* dW (F x K) (+)= dZ (F x n) · colsᵀ (n x K): the first chunk overwrites */
        hood__pool_sgemm(ctx->pool, false, true, F, K, n, 1.0f, dz, F, cols, K,
                         b0 == 0 ? 0.0f : 1.0f, l->dW, F);
        if (dX == NULL)
            continue;
        if (direct(l)) {
            /* dX (C x n) = Wᵀ (C x F) · dZ (F x n) */
            hood__pool_sgemm(ctx->pool, true, false, K, n, F, 1.0f, l->W, F, dz, F, 0.0f,
                             dX + b0 * l->in, K);
        } else {
            /* dcols (K x n) = Wᵀ (K x F) · dZ (F x n), into the scratch the columns used */
            hood__pool_sgemm(ctx->pool, true, false, K, n, F, 1.0f, l->W, F, dz, F, 0.0f,
                             ctx->scratch, K);
            col2im(l, dX + b0 * l->in, ctx->scratch, count);
        }
    }
}
