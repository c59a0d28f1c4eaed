/* activation.c — the five activations, fused with the bias add in one pass over the sgemm
 * output, and their backward from the stored output A. It does not know about losses: the
 * exact sigmoid+BCE / softmax+CE shortcuts live in loss.c. */
#include "activation.h"

#include <math.h>

/* Overflow-free logistic: exp() only ever sees a non-positive argument, so a large |z| gives
 * exactly 0 or 1 rather than inf/inf. */
static inline float sigmoidf(float z)
{
    if (z >= 0.0f)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* One column of softmax in place: max-subtracted so exp() never overflows. The sum is double:
 * with thousands of units the float sum would lose the small terms. */
static void softmax_column(float *z, size_t units)
{
    float max = z[0];
    for (size_t i = 1; i < units; i++)
        if (z[i] > max)
            max = z[i];
    double sum = 0.0;
    for (size_t i = 0; i < units; i++) {
        z[i] = expf(z[i] - max);
        sum += z[i];
    }
    float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < units; i++)
        z[i] *= inv;
}

void hood__activation_forward(hood_activation act, float *Z, float *Z_keep, const float *b,
                              size_t units, size_t batch)
{
    for (size_t j = 0; j < batch; j++) {
        float *z = Z + j * units;
        float *keep = Z_keep != NULL ? Z_keep + j * units : NULL;
        /* Bias and (when asked) the logits copy in the same sweep as the activation; each
         * branch is one loop the compiler can vectorise. */
        if (b != NULL)
            for (size_t i = 0; i < units; i++)
                z[i] += b[i];
        if (keep != NULL)
            for (size_t i = 0; i < units; i++)
                keep[i] = z[i];
        switch (act) {
        case HOOD_ACT_LINEAR:
            break;
        case HOOD_ACT_RELU:
            /* z < 0 rather than z > 0: a NaN stays NaN, so divergence stays visible. */
            for (size_t i = 0; i < units; i++)
                z[i] = z[i] < 0.0f ? 0.0f : z[i];
            break;
        case HOOD_ACT_TANH:
            for (size_t i = 0; i < units; i++)
                z[i] = tanhf(z[i]);
            break;
        case HOOD_ACT_SIGMOID:
            for (size_t i = 0; i < units; i++)
                z[i] = sigmoidf(z[i]);
            break;
        case HOOD_ACT_SOFTMAX:
            if (units > 0)
                softmax_column(z, units);
            break;
        }
    }
}

void hood__activation_backward(hood_activation act, float *dZ, const float *dA, const float *A,
                               size_t units, size_t batch)
{
    size_t count = units * batch;
    switch (act) {
    case HOOD_ACT_LINEAR:
        if (dZ != dA)
            for (size_t i = 0; i < count; i++)
                dZ[i] = dA[i];
        break;
    case HOOD_ACT_RELU:
        /* Keras/TF: the derivative at 0 is 0 (A > 0 is false there). */
        for (size_t i = 0; i < count; i++)
            dZ[i] = A[i] > 0.0f ? dA[i] : 0.0f;
        break;
    case HOOD_ACT_TANH:
        for (size_t i = 0; i < count; i++)
            dZ[i] = dA[i] * (1.0f - A[i] * A[i]);
        break;
    case HOOD_ACT_SIGMOID:
        for (size_t i = 0; i < count; i++)
            dZ[i] = dA[i] * A[i] * (1.0f - A[i]);
        break;
    case HOOD_ACT_SOFTMAX:
        /* Jacobian-vector product per column: dz_i = a_i (da_i - sum_k da_k a_k). The dot is
         * taken before any write, so dZ may alias dA. */
        for (size_t j = 0; j < batch; j++) {
            const float *a = A + j * units, *da = dA + j * units;
            float *dz = dZ + j * units;
            double dot = 0.0;
            for (size_t i = 0; i < units; i++)
                dot += (double)da[i] * a[i];
            for (size_t i = 0; i < units; i++)
                dz[i] = a[i] * (float)(da[i] - dot);
        }
        break;
    }
}
