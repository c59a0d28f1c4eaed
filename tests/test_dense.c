/* test_dense.c — one Dense layer: forward by hand, dW/db/dX against central differences for
 * every activation, the no-bias and first-layer (dX NULL) paths, an empty batch; and the
 * matrix helpers the batches are built with (aligned allocation, exact column gather, the
 * finiteness check of new weights). */
#include "activation.h"
#include "check_main.h"
#include "dense.h"
#include "matrix.h"
#include "rng.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

START_TEST(forward_by_hand)
{
    /* W (2 x 3) = [1 2 3; -1 0 1], b = [0.5, -0.5], X (3 x 2, ld 4: one padding row) with
     * columns [1,1,1] and [2,0,-1]. Z = [6.5 -0.5; -0.5 -3.5]; relu keeps [6.5 0; 0 0]. */
    float W[6] = {1, -1, 2, 0, 3, 1}, b[2] = {0.5f, -0.5f};
    const float X[8] = {1, 1, 1, 99, 2, 0, -1, 99};
    hood__dense layer = {.in = 3, .out = 2, .act = HOOD_ACT_RELU, .use_bias = true, .W = W, .b = b};
    float A[4], Z[4];
    hood__dense_forward(&layer, A, Z, X, 4, 2);
    const float z_want[4] = {6.5f, -0.5f, -0.5f, -3.5f}, a_want[4] = {6.5f, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq(Z[i], z_want[i]);
        ck_assert_float_eq(A[i], a_want[i]);
    }
    /* Without bias b is never read (NULL is fine). */
    layer.use_bias = false;
    layer.b = NULL;
    layer.act = HOOD_ACT_LINEAR;
    hood__dense_forward(&layer, A, NULL, X, 4, 2);
    const float nobias[4] = {6, 0, -1, -3};
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(A[i], nobias[i]);
}
END_TEST

enum { IN = 5, OUT = 3, BATCH = 4, LDX = IN + 2 };

/* L = sum R ⊙ act(W X + b), so dL/dA = R; evaluated in double from the float forward. */
static double dense_objective(const hood__dense *layer, const float *X, const float *R)
{
    float A[OUT * BATCH];
    hood__dense_forward(layer, A, NULL, X, LDX, BATCH);
    double sum = 0.0;
    for (int i = 0; i < OUT * BATCH; i++)
        sum += (double)R[i] * A[i];
    return sum;
}

/* Central difference of dense_objective in one float parameter p (step h = 1e-3, the step
 * actually taken in float is used as the divisor). */
static double numeric_derivative(const hood__dense *layer, const float *X, const float *R, float *p)
{
    const float h = 1e-3f, saved = *p;
    *p = saved + h;
    double up = dense_objective(layer, X, R);
    float hi = *p;
    *p = saved - h;
    double down = dense_objective(layer, X, R);
    float lo = *p;
    *p = saved;
    return (up - down) / ((double)hi - (double)lo);
}

/* Budget: |R| <= 1, |x| <= 1, |w| <= 0.5: the objective is a sum of 12 terms of order 1, its
 * float rounding ~12 * 6e-8 = 7e-7, over 2h = 2e-3 gives 4e-4 worst case (typically far less);
 * truncation h^2/6 |L'''| <= 1e-6. Tolerance 1e-3 + 1e-3 |g|. Pre-activations are kept at
 * least 0.02 away from relu's kink, which a 1e-3 step moves by at most 1e-3. */
static void check_close(double numeric, float analytic, const char *what, int act, int index)
{
    ck_assert_msg(fabs(numeric - analytic) <= 1e-3 + 1e-3 * fabs(numeric),
                  "act %d %s[%d]: analytic %.7g numeric %.7g", act, what, index, analytic, numeric);
}

START_TEST(backward_matches_central_differences)
{
    static const hood_activation acts[5] = {HOOD_ACT_LINEAR, HOOD_ACT_RELU, HOOD_ACT_TANH,
                                            HOOD_ACT_SIGMOID, HOOD_ACT_SOFTMAX};
    hood_activation act = acts[_i];
    hood_rng rng;
    hood__rng_seed_stream(&rng, 17, (uint64_t)_i);
    float W[OUT * IN], b[OUT], X[LDX * BATCH], R[OUT * BATCH];
    float dW[OUT * IN], db[OUT], dX[IN * BATCH], A[OUT * BATCH], Z[OUT * BATCH];
    float dZ[OUT * BATCH];
    hood__dense layer = {
        .in = IN, .out = OUT, .act = act, .use_bias = true, .W = W, .b = b, .dW = dW, .db = db};
    /* Redraw until every pre-activation is clear of relu's kink (a handful of tries). */
    for (int attempt = 0;; attempt++) {
        ck_assert_int_lt(attempt, 1000);
        for (int i = 0; i < OUT * IN; i++)
            W[i] = (float)(hood__rng_uniform(&rng) - 0.5);
        for (int i = 0; i < OUT; i++)
            b[i] = (float)(0.4 * hood__rng_uniform(&rng) - 0.2);
        for (int i = 0; i < LDX * BATCH; i++)
            X[i] = (float)(2.0 * hood__rng_uniform(&rng) - 1.0);
        hood__dense_forward(&layer, A, Z, X, LDX, BATCH);
        bool clear = true;
        for (int i = 0; i < OUT * BATCH; i++)
            clear = clear && fabsf(Z[i]) > 0.02f;
        if (clear)
            break;
    }
    for (int i = 0; i < OUT * BATCH; i++)
        R[i] = (float)(2.0 * hood__rng_uniform(&rng) - 1.0);
    /* dZ from dA = R through the activation, as train.c does for hidden layers. */
    hood__activation_backward(act, dZ, R, A, OUT, BATCH);
    for (int i = 0; i < OUT * IN; i++)
        dW[i] = NAN; /* overwritten, not accumulated */
    for (int i = 0; i < OUT; i++)
        db[i] = NAN;
    hood__dense_backward(&layer, dX, dZ, X, LDX, BATCH);

    double largest_w = 0, largest_b = 0, largest_x = 0;
    for (int i = 0; i < OUT * IN; i++) {
        check_close(numeric_derivative(&layer, X, R, &W[i]), dW[i], "dW", (int)act, i);
        largest_w = fmax(largest_w, fabs(dW[i]));
    }
    for (int i = 0; i < OUT; i++) {
        check_close(numeric_derivative(&layer, X, R, &b[i]), db[i], "db", (int)act, i);
        largest_b = fmax(largest_b, fabs(db[i]));
    }
    for (int j = 0; j < BATCH; j++)
        for (int i = 0; i < IN; i++) {
            /* dX is in x batch with ld = in; X has ld LDX. */
            check_close(numeric_derivative(&layer, X, R, &X[i + j * LDX]), dX[i + j * IN], "dX",
                        (int)act, i + j * IN);
            largest_x = fmax(largest_x, fabs(dX[i + j * IN]));
        }
    ck_assert_msg(largest_w > 1e-2 && largest_x > 1e-2, "act %d: gradient (near) zero", (int)act);
    /* Softmax's bias gradient sums to zero over units per column only when dA is constant;
     * with random R it is non-zero for every activation. */
    ck_assert_msg(largest_b > 1e-3, "act %d: db (near) zero", (int)act);
}
END_TEST

START_TEST(first_layer_and_no_bias_paths)
{
    /* dX NULL (the first layer) must give the same dW/db; without bias db is left alone. */
    hood_rng rng;
    hood__rng_seed(&rng, 8);
    float W[OUT * IN], b[OUT], X[LDX * BATCH], dZ[OUT * BATCH];
    float dW1[OUT * IN], db1[OUT], dX[IN * BATCH], dW2[OUT * IN], db2[OUT];
    for (int i = 0; i < OUT * IN; i++)
        W[i] = (float)hood__rng_normal(&rng);
    for (int i = 0; i < LDX * BATCH; i++)
        X[i] = (float)hood__rng_normal(&rng);
    for (int i = 0; i < OUT * BATCH; i++)
        dZ[i] = (float)hood__rng_normal(&rng);
    hood__dense layer = {.in = IN,
                         .out = OUT,
                         .act = HOOD_ACT_TANH,
                         .use_bias = true,
                         .W = W,
                         .b = b,
                         .dW = dW1,
                         .db = db1};
    hood__dense_backward(&layer, dX, dZ, X, LDX, BATCH);
    layer.dW = dW2;
    layer.db = db2;
    hood__dense_backward(&layer, NULL, dZ, X, LDX, BATCH);
    ck_assert(memcmp(dW1, dW2, sizeof dW1) == 0);
    ck_assert(memcmp(db1, db2, sizeof db1) == 0);
    /* db = row sums of dZ. */
    for (int i = 0; i < OUT; i++) {
        double sum = 0.0;
        for (int j = 0; j < BATCH; j++)
            sum += dZ[i + j * OUT];
        ck_assert_double_eq_tol(db1[i], sum, 1e-5);
    }
    layer.use_bias = false;
    layer.b = NULL;
    layer.db = NULL;
    hood__dense_backward(&layer, NULL, dZ, X, LDX, BATCH);
    ck_assert(memcmp(dW1, dW2, sizeof dW1) == 0);
}
END_TEST

START_TEST(empty_batch_gives_zero_gradients)
{
    /* A batch of 0 samples (k = 0 in dW = dZ · Xᵀ): gradients are the empty sum, exactly 0. */
    float W[6] = {1, 2, 3, 4, 5, 6}, b[2] = {1, 1}, dW[6], db[2];
    for (int i = 0; i < 6; i++)
        dW[i] = NAN;
    db[0] = db[1] = NAN;
    hood__dense layer = {.in = 3,
                         .out = 2,
                         .act = HOOD_ACT_SIGMOID,
                         .use_bias = true,
                         .W = W,
                         .b = b,
                         .dW = dW,
                         .db = db};
    const float dummy = 0.0f;
    hood__dense_backward(&layer, NULL, &dummy, &dummy, 3, 0);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(dW[i], 0.0f);
    ck_assert_float_eq(db[0], 0.0f);
    ck_assert_float_eq(db[1], 0.0f);
}
END_TEST

START_TEST(matrix_alloc_is_aligned_and_checks_overflow)
{
    float *m = hood__matrix_alloc(7, 13);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq((uintptr_t)m % 64, 0);
    for (int i = 0; i < 7 * 13; i++)
        m[i] = (float)i; /* the whole block is writable (ASan/valgrind would object) */
    hood__matrix_free(m);
    float *empty = hood__matrix_alloc(0, 5);
    ck_assert_ptr_nonnull(empty);
    hood__matrix_free(empty);
    hood__matrix_free(NULL);
    ck_assert_ptr_null(hood__matrix_alloc(SIZE_MAX / 2, 3));
    ck_assert_ptr_null(hood__matrix_alloc(SIZE_MAX / 8 + 1, 2));
}
END_TEST

START_TEST(gather_cols_is_exact)
{
    enum { ROWS = 5, COLS = 9 };
    float src[ROWS * COLS], dst[ROWS * 6];
    for (int i = 0; i < ROWS * COLS; i++)
        src[i] = (float)i * 0.37f - 3.0f;
    src[2 * ROWS + 1] = NAN; /* bits are copied, not computed */
    const size_t index[6] = {8, 0, 2, 2, 5, 7};
    hood__matrix_gather_cols(dst, src, ROWS, index, 6);
    ck_assert(memcmp(dst + 0 * ROWS, src + 8 * ROWS, ROWS * sizeof(float)) == 0);
    ck_assert(memcmp(dst + 1 * ROWS, src + 0 * ROWS, ROWS * sizeof(float)) == 0);
    ck_assert(memcmp(dst + 2 * ROWS, src + 2 * ROWS, ROWS * sizeof(float)) == 0);
    ck_assert(memcmp(dst + 3 * ROWS, src + 2 * ROWS, ROWS * sizeof(float)) == 0);
    ck_assert(memcmp(dst + 4 * ROWS, src + 5 * ROWS, ROWS * sizeof(float)) == 0);
    ck_assert(memcmp(dst + 5 * ROWS, src + 7 * ROWS, ROWS * sizeof(float)) == 0);
    ck_assert(isnan(dst[2 * ROWS + 1]));
}
END_TEST

START_TEST(all_finite_finds_every_non_finite)
{
    static const size_t sizes[] = {0, 1, 15, 16, 17, 33, 200001};
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    float *p = hood__matrix_alloc(200001, 1);
    ck_assert_ptr_nonnull(p);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        for (size_t i = 0; i < n; i++) /* finite extremes: max, denormal, -0 */
            p[i] = i % 4 == 0 ? FLT_MAX : i % 4 == 1 ? -1e-40f : i % 4 == 2 ? -0.0f : -FLT_MAX;
        ck_assert(hood__matrix_all_finite(p, n));
        /* one bad value at the start, inside the vector body, and in the tail */
        const size_t at[3] = {0, n / 2, n - 1};
        for (size_t a = 0; n > 0 && a < 3; a++)
            for (int b = 0; b < 3; b++) {
                float keep = p[at[a]];
                p[at[a]] = bad[b];
                ck_assert_msg(!hood__matrix_all_finite(p, n), "n %zu, at %zu, %g", n, at[a],
                              (double)bad[b]);
                p[at[a]] = keep;
            }
        ck_assert(hood__matrix_all_finite(p, n));
    }
    hood__matrix_free(p);
}
END_TEST

/* Every shape the register blocks take (1 to 16 columns, and 17, past them) with rows in whole
 * blocks, a tail and fewer than one block: each element lands where the definition says, bits
 * copied (a NaN payload included), and nothing past dst's end is written. */
START_TEST(transpose_is_exact)
{
    static const size_t row_counts[] = {1, 15, 16, 17, 48, 53};
    for (size_t cols = 1; cols <= 17; cols++)
        for (size_t k = 0; k < sizeof row_counts / sizeof *row_counts; k++) {
            const size_t rows = row_counts[k], n = rows * cols;
            float *src = hood__matrix_alloc(n, 1), *dst = hood__matrix_alloc(n + 16, 1);
            ck_assert(src != NULL && dst != NULL);
            for (size_t i = 0; i < n; i++)
                src[i] = (float)i + 0.25f;
            src[n / 2] = -NAN;
            for (size_t i = 0; i < n + 16; i++)
                dst[i] = -7.0f;
            hood__matrix_transpose(dst, src, rows, cols);
            for (size_t q = 0; q < rows; q++)
                for (size_t r = 0; r < cols; r++) {
                    const float *got = &dst[r + q * cols], *want = &src[q + r * rows];
                    ck_assert_msg(memcmp(got, want, sizeof(float)) == 0,
                                  "%zu x %zu: (%zu, %zu) = %g, want %g", rows, cols, q, r,
                                  (double)*got, (double)*want);
                }
            for (size_t i = n; i < n + 16; i++)
                ck_assert_float_eq(dst[i], -7.0f);
            hood__matrix_free(src);
            hood__matrix_free(dst);
        }
}
END_TEST

/* Wide layers above the BLAS's small-matrix size, whose products dense.c cuts into bands of
 * rows where the BLAS has small-matrix kernels (Fashion-MNIST's 784 -> 256 and 256 -> 128 at
 * batch 32; 500 -> 200 at batch 20, whose bands are uneven; one sample): Z, dW, dX and the
 * SGD-folded W against the double-accumulating reference, within a bound from |W|·|X|. */
static void assert_near(const float *got, const double *want, const double *scale, size_t n,
                        const char *what, size_t in, size_t out, size_t batch)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs((double)got[i] - want[i]) <= 1e-5 * scale[i] + 1e-30,
                      "%zu -> %zu, batch %zu: %s[%zu] = %.9g, reference %.9g", in, out, batch, what,
                      i, (double)got[i], want[i]);
}

/* out (m x n) = op(A) · op(B) in double, and scale = |op(A)| · |op(B)|. */
static void reference(bool ta, bool tb, size_t m, size_t n, size_t k, const float *A, size_t lda,
                      const float *B, size_t ldb, double *out, double *scale)
{
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < m; i++) {
            double sum = 0.0, abs = 0.0;
            for (size_t p = 0; p < k; p++) {
                double a = ta ? A[p + i * lda] : A[i + p * lda];
                double b = tb ? B[j + p * ldb] : B[p + j * ldb];
                sum += a * b;
                abs += fabs(a * b);
            }
            out[i + j * m] = sum;
            scale[i + j * m] = abs;
        }
}

START_TEST(wide_products_match_the_reference)
{
    static const size_t shapes[][3] = {
        {784, 256, 32}, {256, 128, 32}, {500, 200, 20}, {784, 256, 1}};
    size_t in = shapes[_i][0], out = shapes[_i][1], B = shapes[_i][2], ldx = in + 5;
    hood_rng rng;
    hood__rng_seed(&rng, 40 + (uint64_t)_i);
    float *W = hood__matrix_alloc(out * in, 1), *X = hood__matrix_alloc(ldx * B, 1);
    float *dZ = hood__matrix_alloc(out * B, 1), *dW = hood__matrix_alloc(out * in, 1);
    float *A = hood__matrix_alloc(out * B, 1), *Zk = hood__matrix_alloc(out * B, 1);
    float *dX = hood__matrix_alloc(in * B, 1), *Wn = hood__matrix_alloc(out * in, 1);
    float b[256], db[256];
    double *want = malloc(out * in * sizeof *want), *scale = malloc(out * in * sizeof *scale);
    double *wantx = malloc(in * B * sizeof *wantx), *scalex = malloc(in * B * sizeof *scalex);
    for (size_t i = 0; i < out * in; i++)
        W[i] = (float)(0.1 * hood__rng_normal(&rng));
    for (size_t i = 0; i < ldx * B; i++)
        X[i] = (float)hood__rng_normal(&rng);
    for (size_t i = 0; i < out * B; i++)
        dZ[i] = (float)hood__rng_normal(&rng);
    for (size_t i = 0; i < out; i++)
        b[i] = 0.0f;
    hood__dense layer = {.in = in,
                         .out = out,
                         .act = HOOD_ACT_LINEAR,
                         .use_bias = true,
                         .W = W,
                         .b = b,
                         .dW = dW,
                         .db = db};
    hood__dense_forward(&layer, A, Zk, X, ldx, B);
    reference(false, false, out, B, in, W, out, X, ldx, want, scale);
    assert_near(A, want, scale, out * B, "Z", in, out, B);
    hood__dense_backward(&layer, dX, dZ, X, ldx, B);
    reference(false, true, out, in, B, dZ, out, X, ldx, want, scale);
    assert_near(dW, want, scale, out * in, "dW", in, out, B);
    reference(true, false, in, B, out, W, out, dZ, out, wantx, scalex);
    assert_near(dX, wantx, scalex, in * B, "dX", in, out, B);
    /* W - lr·dZ·Xᵀ in one call with beta = 1: against W - lr·(reference dW) */
    const float lr = 0.5f;
    ck_assert(hood__dense_backward_sgd_pool(NULL, &layer, Wn, lr, dZ, X, ldx, B));
    reference(false, true, out, in, B, dZ, out, X, ldx, want, scale);
    for (size_t i = 0; i < out * in; i++) {
        want[i] = (double)W[i] - lr * want[i];
        scale[i] = fabs((double)W[i]) + lr * scale[i];
    }
    assert_near(Wn, want, scale, out * in, "SGD-folded W", in, out, B);
    float *bufs[] = {W, X, dZ, dW, A, Zk, dX, Wn};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        hood__matrix_free(bufs[i]);
    free(want);
    free(scale);
    free(wantx);
    free(scalex);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("dense");
    TCase *tc = tcase_create("dense");
    /* Check's default 4 s is too short for the statistical loops under ASan on a busy CI. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, forward_by_hand);
    tcase_add_loop_test(tc, backward_matches_central_differences, 0, 5);
    tcase_add_test(tc, first_layer_and_no_bias_paths);
    tcase_add_test(tc, empty_batch_gives_zero_gradients);
    tcase_add_loop_test(tc, wide_products_match_the_reference, 0, 4);
    suite_add_tcase(s, tc);
    TCase *mat = tcase_create("matrix");
    tcase_add_test(mat, matrix_alloc_is_aligned_and_checks_overflow);
    tcase_add_test(mat, gather_cols_is_exact);
    tcase_add_test(mat, all_finite_finds_every_non_finite);
    tcase_add_test(mat, transpose_is_exact);
    suite_add_tcase(s, mat);
    return s;
}
