/* test_init.c — kernel initialisers: Glorot/He bounds and variances, He-normal truncation,
 * orthogonality of the orthogonal initialiser in all three shapes, reproducibility, zeros,
 * and the error paths. */
#include "check_main.h"
#include "error.h"
#include "init.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *kernel(size_t out, size_t in)
{
    float *W = malloc(out * in * sizeof *W);
    ck_assert_ptr_nonnull(W);
    for (size_t i = 0; i < out * in; i++)
        W[i] = NAN; /* every element must be written */
    return W;
}

static void moments(const float *W, size_t n, double *mean, double *var, double *maxabs)
{
    double s = 0, s2 = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert(isfinite(W[i]));
        s += W[i];
        s2 += (double)W[i] * W[i];
        m = fmax(m, fabs(W[i]));
    }
    *mean = s / (double)n;
    *var = s2 / (double)n - *mean * *mean;
    *maxabs = m;
}

START_TEST(glorot_uniform_bounds_and_variance)
{
    /* out 200 x in 300: limit sqrt(6/500) = 0.10954; variance limit^2/3 = 2/(in+out) = 0.004.
     * 60k draws: the variance's relative standard error is ~0.5 %; allow 3 %. */
    size_t out = 200, in = 300, n = out * in;
    float *W = kernel(out, in);
    hood_rng rng;
    hood__rng_seed(&rng, 1);
    ck_assert_int_eq(hood__init_kernel(HOOD_INIT_GLOROT_UNIFORM, W, out, in, &rng), HOOD_OK);
    double mean, var, maxabs, limit = sqrt(6.0 / 500.0);
    moments(W, n, &mean, &var, &maxabs);
    ck_assert_msg(maxabs <= limit && maxabs > 0.999 * limit, "max %g limit %g", maxabs, limit);
    ck_assert_double_eq_tol(var, 2.0 / 500.0, 0.03 * 2.0 / 500.0);
    ck_assert_double_eq_tol(mean, 0.0, 0.002);
    free(W);
}
END_TEST

START_TEST(he_uniform_bounds_and_variance)
{
    size_t out = 100, in = 400, n = out * in;
    float *W = kernel(out, in);
    hood_rng rng;
    hood__rng_seed(&rng, 2);
    ck_assert_int_eq(hood__init_kernel(HOOD_INIT_HE_UNIFORM, W, out, in, &rng), HOOD_OK);
    double mean, var, maxabs, limit = sqrt(6.0 / 400.0);
    moments(W, n, &mean, &var, &maxabs);
    ck_assert(maxabs <= limit && maxabs > 0.999 * limit);
    ck_assert_double_eq_tol(var, 2.0 / 400.0, 0.03 * 2.0 / 400.0);
    free(W);
}
END_TEST

START_TEST(he_normal_stddev_and_truncation)
{
    /* Keras: truncated normal with stddev sqrt(2/in) / 0.87962566, cut at 2 of those stddevs;
     * after truncation the standard deviation is sqrt(2/in). 40k draws: allow 3 %. */
    size_t out = 100, in = 400, n = out * in;
    float *W = kernel(out, in);
    hood_rng rng;
    hood__rng_seed(&rng, 3);
    ck_assert_int_eq(hood__init_kernel(HOOD_INIT_HE_NORMAL, W, out, in, &rng), HOOD_OK);
    double mean, var, maxabs;
    moments(W, n, &mean, &var, &maxabs);
    double sigma = sqrt(2.0 / 400.0) / 0.87962566103423978;
    ck_assert_msg(maxabs <= 2.0 * sigma * (1 + 1e-6), "max %g > 2 sigma %g", maxabs, 2 * sigma);
    ck_assert_msg(maxabs > 1.99 * sigma, "max %g: the tail near 2 sigma is missing", maxabs);
    ck_assert_double_eq_tol(sqrt(var), sqrt(2.0 / 400.0), 0.03 * sqrt(2.0 / 400.0));
    free(W);
}
END_TEST

/* max |G - I| where G is the Gram matrix of W's rows (rows = true) or columns. */
static double gram_error(const float *W, size_t out, size_t in, bool rows)
{
    size_t k = rows ? out : in;
    double worst = 0.0;
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++) {
            double dot = 0.0;
            if (rows)
                for (size_t i = 0; i < in; i++)
                    dot += (double)W[a + i * out] * W[b + i * out];
            else
                for (size_t o = 0; o < out; o++)
                    dot += (double)W[o + a * out] * W[o + b * out];
            worst = fmax(worst, fabs(dot - (a == b ? 1.0 : 0.0)));
        }
    return worst;
}

/* Loop index: 0 square 64 x 64, 1 in > out (out 20 x in 50), 2 in < out (out 50 x in 20).
 * Keras' (in, out) kernel has orthonormal columns when in >= out, i.e. W (out x in, the same
 * bytes) has orthonormal rows; orthonormal columns when in < out. Float rounding of a unit
 * vector's entries gives Gram errors ~1e-7; allow 1e-5. */
START_TEST(orthogonal_is_orthonormal)
{
    static const size_t shapes[3][2] = {{64, 64}, {20, 50}, {50, 20}};
    size_t out = shapes[_i][0], in = shapes[_i][1];
    float *W = kernel(out, in);
    hood_rng rng;
    hood__rng_seed(&rng, 4);
    ck_assert_int_eq(hood__init_kernel(HOOD_INIT_ORTHOGONAL, W, out, in, &rng), HOOD_OK);
    double err = gram_error(W, out, in, in >= out);
    ck_assert_msg(err < 1e-5, "out %zu in %zu: |QᵀQ - I| = %g", out, in, err);
    if (out == in) {
        double err_cols = gram_error(W, out, in, false);
        ck_assert_msg(err_cols < 1e-5, "square: columns off by %g", err_cols);
    }
    /* Not the identity or a permutation of it: a Gaussian QR spreads mass over all entries. */
    double maxabs = 0.0;
    for (size_t i = 0; i < out * in; i++)
        maxabs = fmax(maxabs, fabs(W[i]));
    ck_assert_double_lt(maxabs, 0.9);
    free(W);
}
END_TEST

START_TEST(same_seed_same_weights)
{
    static const hood_initializer inits[4] = {HOOD_INIT_GLOROT_UNIFORM, HOOD_INIT_HE_NORMAL,
                                              HOOD_INIT_HE_UNIFORM, HOOD_INIT_ORTHOGONAL};
    for (int k = 0; k < 4; k++) {
        float *a = kernel(7, 11), *b = kernel(7, 11), *c = kernel(7, 11);
        hood_rng r1, r2, r3;
        hood__rng_seed(&r1, 42);
        hood__rng_seed(&r2, 42);
        hood__rng_seed(&r3, 43);
        ck_assert_int_eq(hood__init_kernel(inits[k], a, 7, 11, &r1), HOOD_OK);
        ck_assert_int_eq(hood__init_kernel(inits[k], b, 7, 11, &r2), HOOD_OK);
        ck_assert_int_eq(hood__init_kernel(inits[k], c, 7, 11, &r3), HOOD_OK);
        ck_assert_msg(memcmp(a, b, 77 * sizeof *a) == 0, "init %d not reproducible", k);
        ck_assert_msg(memcmp(a, c, 77 * sizeof *a) != 0, "init %d ignores the seed", k);
        /* The generator advanced: a second kernel from the same rng differs. */
        ck_assert_int_eq(hood__init_kernel(inits[k], b, 7, 11, &r1), HOOD_OK);
        ck_assert(memcmp(a, b, 77 * sizeof *a) != 0);
        free(a);
        free(b);
        free(c);
    }
}
END_TEST

START_TEST(zeros_and_errors)
{
    float *W = kernel(3, 4);
    hood_rng rng;
    hood__rng_seed(&rng, 5);
    hood_rng before = rng;
    ck_assert_int_eq(hood__init_kernel(HOOD_INIT_ZEROS, W, 3, 4, &rng), HOOD_OK);
    for (int i = 0; i < 12; i++)
        ck_assert(W[i] == 0.0f && !signbit(W[i]));
    ck_assert(memcmp(&before, &rng, sizeof rng) == 0); /* zeros draws nothing */
    hood__clear_error();
    ck_assert_int_eq(hood__init_kernel(HOOD_INIT_GLOROT_UNIFORM, W, 0, 4, &rng), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "in, out >= 1"));
    ck_assert_int_eq(hood__init_kernel((hood_initializer)99, W, 3, 4, &rng), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "unknown initializer"));
    free(W);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("init");
    TCase *tc = tcase_create("init");
    /* Check's default 4 s is too short for the statistical loops under ASan on a busy CI. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, glorot_uniform_bounds_and_variance);
    tcase_add_test(tc, he_uniform_bounds_and_variance);
    tcase_add_test(tc, he_normal_stddev_and_truncation);
    tcase_add_loop_test(tc, orthogonal_is_orthonormal, 0, 3);
    tcase_add_test(tc, same_seed_same_weights);
    tcase_add_test(tc, zeros_and_errors);
    suite_add_tcase(s, tc);
    return s;
}
