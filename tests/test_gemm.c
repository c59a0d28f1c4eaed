/* test_gemm.c — the sgemm wrapper against the double-accumulating reference: every transpose
 * combination, odd sizes, padded leading dimensions, alpha/beta, the size-0 edges, and the
 * reference itself against a product worked by hand. */
#include "check_main.h"
#include "gemm.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *random_floats(hood_rng *rng, size_t n)
{
    float *v = malloc((n > 0 ? n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(2.0 * hood__rng_uniform(rng) - 1.0);
    return v;
}

/* One random product of op(A) (m x k) and op(B) (k x n) with leading dimensions padded by
 * 0..3, checked element by element against the reference within the classical bound for a
 * float dot product of length k: |error| <= (k + 2) u (|alpha| (|A||B|)_ij + |beta c_ij|),
 * u = 2^-24, with |A||B| computed by the reference on absolute values. The padding rows of C
 * must come back untouched. */
static void check_product(hood_rng *rng, bool ta, bool tb, size_t m, size_t n, size_t k,
                          float alpha, float beta)
{
    size_t a_rows = ta ? k : m, a_cols = ta ? m : k;
    size_t b_rows = tb ? n : k, b_cols = tb ? k : n;
    size_t lda = a_rows + hood__rng_below(rng, 4), ldb = b_rows + hood__rng_below(rng, 4);
    size_t ldc = m + hood__rng_below(rng, 4);
    if (lda == 0)
        lda = 1;
    if (ldb == 0)
        ldb = 1;
    if (ldc == 0)
        ldc = 1;
    float *A = random_floats(rng, lda * a_cols), *B = random_floats(rng, ldb * b_cols);
    float *C = random_floats(rng, ldc * n), *R = malloc((ldc * n + 1) * sizeof *R);
    float *absA = malloc((lda * a_cols + 1) * sizeof *absA);
    float *absB = malloc((ldb * b_cols + 1) * sizeof *absB);
    float *bound = calloc(m * n + 1, sizeof *bound);
    ck_assert(R != NULL && absA != NULL && absB != NULL && bound != NULL);
    for (size_t i = 0; i < lda * a_cols; i++)
        absA[i] = fabsf(A[i]);
    for (size_t i = 0; i < ldb * b_cols; i++)
        absB[i] = fabsf(B[i]);
    memcpy(R, C, ldc * n * sizeof *C);
    float *C0 = malloc((ldc * n + 1) * sizeof *C0);
    ck_assert_ptr_nonnull(C0);
    memcpy(C0, C, ldc * n * sizeof *C);

    hood__sgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    hood__sgemm_reference(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, R, ldc);
    hood__sgemm_reference(ta, tb, m, n, k, 1.0f, absA, lda, absB, ldb, 0.0f, bound, m);

    const double u = ldexp(1.0, -24);
    for (size_t j = 0; j < n; j++) {
        for (size_t i = 0; i < m; i++) {
            double c = C[i + j * ldc], r = R[i + j * ldc];
            double tol = (double)(k + 2) * u *
                             (fabs(alpha) * bound[i + j * m] + fabs(beta * C0[i + j * ldc])) +
                         1e-30;
            ck_assert_msg(fabs(c - r) <= tol,
                          "%c%c m=%zu n=%zu k=%zu C(%zu,%zu) = %.9g, reference %.9g (tol %.3g)",
                          ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, i, j, c, r, tol);
        }
        for (size_t i = m; i < ldc; i++)
            ck_assert_msg(C[i + j * ldc] == C0[i + j * ldc], "padding row %zu changed", i);
    }
    free(A);
    free(B);
    free(C);
    free(R);
    free(C0);
    free(absA);
    free(absB);
    free(bound);
}

/* Check's loop index picks the transpose pair: 0 NN, 1 NT, 2 TN, 3 TT. */
START_TEST(random_sizes_match_reference)
{
    bool ta = (_i & 2) != 0, tb = (_i & 1) != 0;
    hood_rng rng;
    hood__rng_seed_stream(&rng, 2024, (uint64_t)_i);
    static const float alphas[] = {1.0f, -0.5f, 2.25f};
    static const float betas[] = {0.0f, 1.0f, -1.5f};
    for (int trial = 0; trial < 60; trial++) {
        size_t m = 1 + hood__rng_below(&rng, 67), n = 1 + hood__rng_below(&rng, 67);
        size_t k = 1 + hood__rng_below(&rng, 67);
        check_product(&rng, ta, tb, m, n, k, alphas[trial % 3], betas[(trial / 3) % 3]);
    }
    /* The 1-sized edges: vectors and a scalar. */
    check_product(&rng, ta, tb, 1, 1, 1, 1.0f, 0.0f);
    check_product(&rng, ta, tb, 1, 37, 1, 1.0f, 1.0f);
    check_product(&rng, ta, tb, 41, 1, 53, -1.0f, 0.5f);
    check_product(&rng, ta, tb, 1, 1, 300, 1.0f, 0.0f);
}
END_TEST

/* The shapes of the seed model's first layer: forward 10 x 32 x 22500 (NN), backward
 * dW 10 x 22500 x 32 (NT) and dX 22500 x 32 x 10 (TN). */
START_TEST(seed_model_shapes_match_reference)
{
    hood_rng rng;
    hood__rng_seed(&rng, 77);
    check_product(&rng, false, false, 10, 32, 22500, 1.0f, 0.0f);
    check_product(&rng, false, true, 10, 22500, 32, 1.0f, 0.0f);
    check_product(&rng, true, false, 22500, 32, 10, 1.0f, 0.0f);
}
END_TEST

START_TEST(reference_matches_hand_product)
{
    /* [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50], column-major. */
    const float A[4] = {1, 3, 2, 4}, B[4] = {5, 7, 6, 8};
    const float want[4] = {19, 43, 22, 50};
    float C[4], R[4];
    hood__sgemm_reference(false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, R, 2);
    hood__sgemm(false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq(R[i], want[i]);
        ck_assert_float_eq(C[i], want[i]);
    }
    /* Aᵀ · B = [1 3; 2 4] · [5 6; 7 8] = [26 30; 38 44]; alpha 2, beta 1 on C = 1. */
    const float want_t[4] = {53, 77, 61, 89};
    for (int i = 0; i < 4; i++)
        C[i] = R[i] = 1.0f;
    hood__sgemm_reference(true, false, 2, 2, 2, 2.0f, A, 2, B, 2, 1.0f, R, 2);
    hood__sgemm(true, false, 2, 2, 2, 2.0f, A, 2, B, 2, 1.0f, C, 2);
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq(R[i], want_t[i]);
        ck_assert_float_eq(C[i], want_t[i]);
    }
}
END_TEST

START_TEST(beta_zero_overwrites_nan)
{
    /* BLAS semantics: with beta = 0, C is output only, so NaN (or garbage) in it must not
     * survive. Callers rely on this to skip zeroing their output buffers. */
    const float A[6] = {1, 2, 3, 4, 5, 6}, B[3] = {1, 1, 1};
    float C[2] = {NAN, NAN}, R[2] = {NAN, NAN};
    hood__sgemm(false, false, 2, 1, 3, 1.0f, A, 2, B, 3, 0.0f, C, 2);
    hood__sgemm_reference(false, false, 2, 1, 3, 1.0f, A, 2, B, 3, 0.0f, R, 2);
    ck_assert_float_eq(C[0], 9.0f);
    ck_assert_float_eq(C[1], 12.0f);
    ck_assert_float_eq(R[0], 9.0f);
    ck_assert_float_eq(R[1], 12.0f);
}
END_TEST

START_TEST(size_zero_edges)
{
    float C[6] = {1, 2, 3, 4, 5, 6};
    const float A[1] = {7}, B[1] = {8};
    /* m = 0 or n = 0: nothing to write (C may even be NULL). */
    hood__sgemm(false, false, 0, 3, 2, 1.0f, A, 1, B, 2, 0.0f, NULL, 1);
    hood__sgemm(false, false, 2, 0, 2, 1.0f, A, 2, B, 2, 0.0f, NULL, 2);
    hood__sgemm(true, true, 0, 0, 0, 1.0f, NULL, 1, NULL, 1, 0.0f, NULL, 1);
    /* k = 0 (an empty batch in dW = dZ · Xᵀ): C = beta · C, with ld 0-sized operands. */
    hood__sgemm(false, true, 2, 3, 0, 1.0f, NULL, 2, NULL, 3, 0.5f, C, 2);
    const float halved[6] = {0.5f, 1, 1.5f, 2, 2.5f, 3};
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(C[i], halved[i]);
    C[3] = NAN;
    hood__sgemm(false, false, 2, 3, 0, 1.0f, NULL, 2, NULL, 1, 0.0f, C, 2);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(C[i], 0.0f);
    /* alpha = 0: C = beta · C without reading A or B. */
    float D[2] = {2, 4};
    hood__sgemm(false, false, 2, 1, 5, 0.0f, NULL, 2, NULL, 5, -1.0f, D, 2);
    ck_assert_float_eq(D[0], -2.0f);
    ck_assert_float_eq(D[1], -4.0f);
    float E[2] = {2, 4};
    hood__sgemm_reference(false, false, 2, 1, 0, 1.0f, NULL, 2, NULL, 1, 3.0f, E, 2);
    ck_assert_float_eq(E[0], 6.0f);
    ck_assert_float_eq(E[1], 12.0f);
}
END_TEST

/* First in the suite, so it is the process's first BLAS call even with CK_FORK=no: BLIS 0.9.0
 * aborts when its kernel set is queried before initialisation and BLIS_ARCH_TYPE is set
 * (3 = haswell, valid on any AVX2 machine; OpenBLAS ignores the variable). */
START_TEST(description_as_first_call)
{
    setenv("BLIS_ARCH_TYPE", "3", 0);
    const char *d = hood__blas_description();
    ck_assert_ptr_nonnull(d);
    ck_assert_int_gt((int)strlen(d), 4);
}
END_TEST

START_TEST(thread_setting_and_description)
{
    int before = hood__blas_threads();
    hood__blas_set_threads(1);
    int now = hood__blas_threads();
    /* OpenBLAS and BLIS report what was set; a generic CBLAS has no thread API and says 0. */
    ck_assert_msg(now == 1 || (now == 0 && before == 0), "threads %d after setting 1", now);
    if (before > 0) {
        hood__blas_set_threads(before);
        ck_assert_int_eq(hood__blas_threads(), before);
    }
    const char *d = hood__blas_description();
    ck_assert_ptr_nonnull(d);
    ck_assert_msg(strncmp(d, "OpenBLAS ", 9) == 0 || strncmp(d, "BLIS ", 5) == 0 ||
                      strcmp(d, "CBLAS") == 0,
                  "description '%s'", d);
    /* OpenBLAS and BLIS name the kernel set chosen at run time: "(Haswell)", "(zen3)". */
    if (strcmp(d, "CBLAS") != 0)
        ck_assert_msg(strchr(d, '(') != NULL && d[strlen(d) - 1] == ')', "'%s'", d);
}
END_TEST

/* The products run with the BLAS at 1 thread, as hood always runs it (train.c): OpenBLAS's own
 * threads synchronise in code ThreadSanitizer does not see, which made the -Db_sanitize=thread
 * run report false races in sgemm_beta. thread_setting_and_description sets its own counts. */
static void blas_one_thread(void)
{
    hood__blas_set_threads(1);
}

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("gemm");
    tcase_add_checked_fixture(tc, blas_one_thread, NULL);
    tcase_set_timeout(tc, 120); /* 20-50 s under ASan on a busy machine */
    tcase_add_test(tc, description_as_first_call);
    tcase_add_loop_test(tc, random_sizes_match_reference, 0, 4);
    tcase_add_test(tc, seed_model_shapes_match_reference);
    tcase_add_test(tc, reference_matches_hand_product);
    tcase_add_test(tc, beta_zero_overwrites_nan);
    tcase_add_test(tc, size_zero_edges);
    tcase_add_test(tc, thread_setting_and_description);
    suite_add_tcase(s, tc);
    return s;
}
