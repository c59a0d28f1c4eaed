/* dense.c — one Dense layer over a batch: the sgemm calls and the fused bias + activation.
 * It owns no memory (parameters, gradients and activations are views the model hands in) and
 * allocates nothing; it does not know about losses or optimizers. */
#include "dense.h"

#include "activation.h"
#include "gemm.h"

void hood__dense_forward(const hood__dense *layer, float *A, float *Z_keep, const float *X,
                         size_t ldx, size_t batch)
{
    const size_t out = layer->out, in = layer->in;
    /* Z (out x batch, ld out) = W (out x in, ld out) · X (in x batch, ld ldx), written into A,
     * which the activation then turns into act(Z + b) in place. */
    hood__sgemm(false, false, out, batch, in, 1.0f, layer->W, out, X, ldx, 0.0f, A, out);
    hood__activation_forward(layer->act, A, Z_keep, layer->use_bias ? layer->b : NULL, out, batch);
}

void hood__dense_backward(const hood__dense *layer, float *dX, const float *dZ, const float *X,
                          size_t ldx, size_t batch)
{
    const size_t out = layer->out, in = layer->in;
    /* dW (out x in, ld out) = dZ (out x batch, ld out) · Xᵀ (batch x in; X is in x batch, ld ldx)
     */
    hood__sgemm(false, true, out, in, batch, 1.0f, dZ, out, X, ldx, 0.0f, layer->dW, out);
    if (layer->use_bias && layer->db != NULL) {
        /* db (out) = row sums of dZ: column by column, so dZ is read once, in order. */
        float *db = layer->db;
        for (size_t i = 0; i < out; i++)
            db[i] = 0.0f;
        for (size_t j = 0; j < batch; j++) {
            const float *dz = dZ + j * out;
            for (size_t i = 0; i < out; i++)
                db[i] += dz[i];
        }
    }
    if (dX != NULL)
        /* dX (in x batch, ld in) = Wᵀ (in x out; W is out x in, ld out) · dZ (out x batch, ld out)
         */
        hood__sgemm(true, false, in, batch, out, 1.0f, layer->W, out, dZ, out, 0.0f, dX, in);
}
