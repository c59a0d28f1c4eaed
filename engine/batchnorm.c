/* batchnorm.c — Keras' BatchNormalization over the last axis (channels of HWC columns, the
 * features of flat ones): in training the batch's mean and biased variance normalise, and the
 * moving statistics follow them (moving = moving · momentum + batch · (1 - momentum)); in
 * inference the moving statistics normalise. Sums run in double, a block of channels at a time
 * so the columns are read in order. No allocation. */
#include "layer.h"

#include <math.h>
#include <string.h>

enum { BLOCK = 64 };

/* out[c] = Σ over the n positions of f(x[p·C + c]) for the channels [c0, c0 + m), with
 * f(v) = v when center is NULL, else (v - center[c])². */
static void channel_sums(double *out, const float *x, size_t n, size_t C, size_t c0, size_t m,
                         const float *center)
{
    for (size_t k = 0; k < m; k++)
        out[k] = 0.0;
    for (size_t p = 0; p < n; p++) {
        const float *v = x + p * C + c0;
        for (size_t k = 0; k < m; k++) {
            double d = center != NULL ? (double)v[k] - (double)center[c0 + k] : (double)v[k];
            out[k] += center != NULL ? d * d : d;
        }
    }
}

void hood__batchnorm_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y,
                             const float *X, size_t batch)
{
    const size_t C = l->oc, n = batch * l->oh * l->ow;
    float *mean = ctx->keep, *invstd = ctx->keep + C;
    const float *gamma = l->W, *beta = l->b;
    if (ctx->training) {
        double sums[BLOCK];
        for (size_t c0 = 0; c0 < C; c0 += BLOCK) {
            size_t m = C - c0 < BLOCK ? C - c0 : BLOCK;
            channel_sums(sums, X, n, C, c0, m, NULL);
            for (size_t k = 0; k < m; k++)
                mean[c0 + k] = (float)(sums[k] / (double)n);
            channel_sums(sums, X, n, C, c0, m, mean);
            for (size_t k = 0; k < m; k++) {
                size_t c = c0 + k;
                double var = sums[k] / (double)n;
                invstd[c] = (float)(1.0 / sqrt(var + (double)l->epsilon));
                /* the moving statistics: an update of the state arena, not of the layer */
                l->state[c] = l->state[c] * l->momentum + mean[c] * (1.0f - l->momentum);
                l->state[C + c] =
                    l->state[C + c] * l->momentum + (float)var * (1.0f - l->momentum);
            }
        }
    } else {
        for (size_t c = 0; c < C; c++) {
            mean[c] = l->state[c];
            invstd[c] = (float)(1.0 / sqrt((double)l->state[C + c] + (double)l->epsilon));
        }
    }
    for (size_t p = 0; p < n; p++) {
        const float *x = X + p * C;
        float *y = Y + p * C;
        for (size_t c = 0; c < C; c++)
            y[c] = gamma[c] * ((x[c] - mean[c]) * invstd[c]) + beta[c];
    }
}

void hood__batchnorm_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                              const float *dY, const float *X, size_t batch)
{
    const size_t C = l->oc, n = batch * l->oh * l->ow;
    const float *mean = ctx->keep, *invstd = ctx->keep + C, *gamma = l->W;
    float *dgamma = l->dW, *dbeta = l->db;
    double sg[BLOCK], sb[BLOCK];
    for (size_t c0 = 0; c0 < C; c0 += BLOCK) {
        size_t m = C - c0 < BLOCK ? C - c0 : BLOCK;
        for (size_t k = 0; k < m; k++)
            sg[k] = sb[k] = 0.0;
        /* dbeta = Σ dy, dgamma = Σ dy · x̂ */
        for (size_t p = 0; p < n; p++) {
            const float *x = X + p * C + c0, *dy = dY + p * C + c0;
            for (size_t k = 0; k < m; k++) {
                double xhat = ((double)x[k] - mean[c0 + k]) * invstd[c0 + k];
                sb[k] += dy[k];
                sg[k] += dy[k] * xhat;
            }
        }
        for (size_t k = 0; k < m; k++) {
            dgamma[c0 + k] = (float)sg[k];
            dbeta[c0 + k] = (float)sb[k];
        }
        if (dX == NULL)
            continue;
        /* dx = γ · invstd / n · (n · dy - dbeta - x̂ · dgamma) */
        for (size_t p = 0; p < n; p++) {
            const float *x = X + p * C + c0, *dy = dY + p * C + c0;
            float *dx = dX + p * C + c0;
            for (size_t k = 0; k < m; k++) {
                size_t c = c0 + k;
                double xhat = ((double)x[k] - mean[c]) * invstd[c];
                dx[k] = (float)((double)gamma[c] * invstd[c] / (double)n *
                                ((double)n * dy[k] - sb[k] - xhat * sg[k]));
            }
        }
    }
}
