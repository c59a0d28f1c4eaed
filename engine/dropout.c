/* dropout.c — Keras' Dropout(rate) as inverted dropout: in training each value is kept with
 * probability 1 - rate and scaled by 1 / (1 - rate), the mask (scale or 0) kept for backward;
 * in inference a copy. The mask comes from a stream of (compile seed, layer, optimizer step), so
 * a run repeats itself and a resumed run draws the same masks. No allocation. */
#include "layer.h"

#include "rng.h"

#include <string.h>

void hood__dropout_forward(const hood__layer_ctx *ctx, const hood__layer *l, float *Y,
                           const float *X, size_t batch)
{
    const size_t n = l->out * batch;
    if (!ctx->training) {
        memcpy(Y, X, n * sizeof(float));
        return;
    }
    hood_rng rng;
    /* one stream per layer and step: the layer's index goes into the seed, the step is the
     * stream, so no other layer's or step's draws shift this one */
    hood__rng_seed_stream(&rng, ctx->seed ^ (0x9E3779B97F4A7C15ull * (ctx->index + 1)),
                          ctx->step);
    const float scale = 1.0f / (1.0f - l->rate);
    const double rate = (double)l->rate;
    float *mask = ctx->keep;
    for (size_t i = 0; i < n; i++) {
        mask[i] = hood__rng_uniform(&rng) >= rate ? scale : 0.0f;
        Y[i] = X[i] * mask[i];
    }
}

void hood__dropout_backward(const hood__layer_ctx *ctx, const hood__layer *l, float *dX,
                            const float *dY, size_t batch)
{
    const size_t n = l->out * batch;
    const float *mask = ctx->keep;
    for (size_t i = 0; i < n; i++)
        dX[i] = dY[i] * mask[i];
}
