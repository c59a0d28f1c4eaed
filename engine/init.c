/* init.c — Keras' kernel initialisers (glorot_uniform, he_normal, he_uniform, orthogonal,
 * zeros) drawn from an explicit hood_rng. Biases are not its business (they start at zero).
 * Orthogonal is the one that allocates: a QR factorisation through LAPACKE, done in double. */
#include "init.h"

#include "error.h"

#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Keras' truncated normal keeps draws within 2 stddev; dividing by the stddev of a standard
 * normal truncated to [-2, 2] gives the requested variance after truncation. */
static const double TRUNCATED_NORMAL_STDDEV = 0.87962566103423978;

static void fill_uniform(float *W, size_t count, double limit, hood_rng *rng)
{
    for (size_t i = 0; i < count; i++)
        W[i] = (float)((2.0 * hood__rng_uniform(rng) - 1.0) * limit);
}

static double truncated_normal(hood_rng *rng)
{
    for (;;) {
        double x = hood__rng_normal(rng);
        if (fabs(x) <= 2.0)
            return x;
    }
}

/* W (out x in) from the Q of a Gaussian G = QR, as Keras' Orthogonal does for the (in, out)
 * kernel: G is max x min, Q's columns are sign-corrected by diag(R) so the distribution is
 * uniform (Haar), and Q is transposed when in < out. W's bytes are the Keras kernel, so W has
 * orthonormal rows when in >= out and orthonormal columns otherwise. */
static hood_status fill_orthogonal(float *W, size_t out, size_t in, hood_rng *rng)
{
    size_t rows = in > out ? in : out, cols = in > out ? out : in, count;
    if (rows > INT32_MAX || hood__mul_overflows(rows, cols, &count) ||
        count > (size_t)-1 / sizeof(double))
        return hood__fail(HOOD_ENOMEM, "orthogonal initializer: a %zu x %zu kernel is too large",
                          in, out);
    double *q = malloc(count * sizeof *q);
    double *tau = malloc(cols * sizeof *tau);
    if (q == NULL || tau == NULL) {
        free(q);
        free(tau);
        return hood__fail(HOOD_ENOMEM, "orthogonal initializer: out of memory for a %zu x %zu QR",
                          rows, cols);
    }
    for (size_t i = 0; i < count; i++)
        q[i] = hood__rng_normal(rng);
    lapack_int m = (lapack_int)rows, n = (lapack_int)cols;
    lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, m, n, q, m, tau);
    if (info != 0) {
        free(q);
        free(tau);
        return hood__fail(HOOD_EINVAL, "orthogonal initializer: LAPACKE_dgeqrf failed (info %d)",
                          (int)info);
    }
    /* dorgqr overwrites R, so keep the signs of its diagonal first; W (rows*cols >= cols
     * floats, written last) is the scratch, so orthogonal allocates nothing more. */
    size_t ldq = rows;
    for (size_t j = 0; j < cols; j++)
        W[j] = q[j + j * ldq] < 0.0 ? -1.0f : 1.0f;
    info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, m, n, n, q, m, tau);
    if (info != 0) {
        free(q);
        free(tau);
        return hood__fail(HOOD_EINVAL, "orthogonal initializer: LAPACKE_dorgqr failed (info %d)",
                          (int)info);
    }
    for (size_t j = 0; j < cols; j++) {
        double sign = W[j];
        for (size_t i = 0; i < rows; i++)
            q[i + j * ldq] *= sign;
    }
    if (in < out) {
        /* Q is out x in with orthonormal columns: the (in, out) kernel is Qᵀ, whose row-major
         * bytes are exactly Q column-major, i.e. W = Q. */
        for (size_t i = 0; i < count; i++)
            W[i] = (float)q[i];
    } else {
        /* Q is in x out: the (in, out) kernel is Q itself; W(o, i) = kernel[i][o] = Q(i, o). */
        for (size_t i = 0; i < in; i++)
            for (size_t o = 0; o < out; o++)
                W[o + i * out] = (float)q[i + o * ldq];
    }
    free(q);
    free(tau);
    return HOOD_OK;
}

hood_status hood__init_kernel(hood_initializer init, float *W, size_t out, size_t in, hood_rng *rng)
{
    size_t count;
    if (out == 0 || in == 0)
        return hood__fail(HOOD_EINVAL, "initializer: a kernel needs in, out >= 1 (got %zu x %zu)",
                          in, out);
    if (hood__mul_overflows(out, in, &count))
        return hood__fail(HOOD_ENOMEM, "initializer: a %zu x %zu kernel is too large", in, out);
    switch (init) {
    case HOOD_INIT_GLOROT_UNIFORM:
        fill_uniform(W, count, sqrt(6.0 / ((double)in + (double)out)), rng);
        return HOOD_OK;
    case HOOD_INIT_HE_UNIFORM:
        fill_uniform(W, count, sqrt(6.0 / (double)in), rng);
        return HOOD_OK;
    case HOOD_INIT_HE_NORMAL: {
        double stddev = sqrt(2.0 / (double)in) / TRUNCATED_NORMAL_STDDEV;
        for (size_t i = 0; i < count; i++)
            W[i] = (float)(truncated_normal(rng) * stddev);
        return HOOD_OK;
    }
    case HOOD_INIT_ORTHOGONAL:
        return fill_orthogonal(W, out, in, rng);
    case HOOD_INIT_ZEROS:
        memset(W, 0, count * sizeof *W);
        return HOOD_OK;
    }
    return hood__fail(HOOD_EINVAL, "initializer: unknown initializer %d", (int)init);
}

hood_status hood__init_conv_kernel(hood_initializer init, float *W, size_t filters, size_t rows,
                                   size_t receptive, hood_rng *rng)
{
    /* Keras' fans for a (kh, kw, in, out) kernel: fan_in = kh·kw·in (the rows of W), fan_out =
     * kh·kw·out; only glorot uses fan_out, the others are the dense rule over rows. */
    if (init != HOOD_INIT_GLOROT_UNIFORM || filters == 0 || rows == 0)
        return hood__init_kernel(init, W, filters, rows, rng);
    fill_uniform(W, filters * rows,
                 sqrt(6.0 / ((double)rows + (double)receptive * (double)filters)), rng);
    return HOOD_OK;
}
