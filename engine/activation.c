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

/* tanh through one double exp: (1 - e)/(1 + e) with e = exp(-2|z|). glibc's tanhf goes through
 * the slow expm1f (10 ns here against 5); in double the cancellation in 1 - e costs at most
 * 1e-16 / 2|z|, so the float result is within one ulp (the tests check that against double
 * tanh over [-12, 12]; a sweep of 1.8M points found it correctly rounded everywhere). Below 1e-4,
 * tanh z = z to within z^2/3 < half an ulp; above 9.1, tanh z rounds to +-1. A NaN fails both tests
 * and stays NaN through exp. */
static inline float tanh_fast(float z)
{
    float a = fabsf(z);
    if (a < 1e-4f)
        return z;
    if (a > 9.1f)
        return copysignf(1.0f, z);
    double e = exp(-2.0 * (double)a);
    return copysignf((float)((1.0 - e) / (1.0 + e)), z);
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

/* One pass per column: bias add, the logits copy and the element-wise activation together, so
 * the sgemm output is read and written once. The common hidden-layer case (bias, no copy) gets
 * its own branch-free loop. */
#define FUSED_COLUMN(expr)                                                                         \
    do {                                                                                           \
        if (b != NULL && keep == NULL) {                                                           \
            for (size_t i = 0; i < units; i++) {                                                   \
                float v = z[i] + b[i];                                                             \
                z[i] = (expr);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            for (size_t i = 0; i < units; i++) {                                                   \
                float v = b != NULL ? z[i] + b[i] : z[i];                                          \
                if (keep != NULL)                                                                  \
                    keep[i] = v;                                                                   \
                z[i] = (expr);                                                                     \
            }                                                                                      \
        }                                                                                          \
    } while (0)

void hood__activation_forward(hood_activation act, float *Z, float *Z_keep, const float *b,
                              size_t units, size_t batch)
{
    for (size_t j = 0; j < batch; j++) {
        float *z = Z + j * units;
        float *keep = Z_keep != NULL ? Z_keep + j * units : NULL;
        switch (act) {
        case HOOD_ACT_LINEAR:
            FUSED_COLUMN(v);
            break;
        case HOOD_ACT_RELU:
            /* v < 0 rather than v > 0: a NaN stays NaN, so divergence stays visible. */
            FUSED_COLUMN(v < 0.0f ? 0.0f : v);
            break;
        case HOOD_ACT_TANH:
            FUSED_COLUMN(tanh_fast(v));
            break;
        case HOOD_ACT_SIGMOID:
            FUSED_COLUMN(sigmoidf(v));
            break;
        case HOOD_ACT_SOFTMAX:
            FUSED_COLUMN(v);
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
        /* Keras/TF: the derivative at 0 is 0 (A > 0 is false there). dA is loaded
         * unconditionally so GCC turns the select into a vector compare-and-mask (measured:
         * relu backward was 10 % of an F-MNIST batch-128 epoch as a branchy scalar loop). */
        for (size_t i = 0; i < count; i++) {
            float d = dA[i];
            dZ[i] = A[i] > 0.0f ? d : 0.0f;
        }
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
