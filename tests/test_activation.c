/* test_activation.c — the fused bias + activation forward (golden values, stability at large
 * |z|, the logits copy) and the backward from the stored output against central differences. */
#include "activation.h"
#include "check_main.h"
#include "rng.h"

#include <math.h>
#include <string.h>

static const hood_activation all_acts[5] = {HOOD_ACT_LINEAR, HOOD_ACT_RELU, HOOD_ACT_TANH,
                                            HOOD_ACT_SIGMOID, HOOD_ACT_SOFTMAX};

START_TEST(softmax_golden_and_shift_invariant)
{
    /* softmax([1,2,3]) = e^(i-3) / (e^-2 + e^-1 + 1) = 0.0900306, 0.2447285, 0.6652410. */
    const double want[3] = {0.09003057317038046, 0.24472847105479764, 0.6652409557748219};
    float Z[6] = {1, 2, 3, 1000, 1001, 1002};
    hood__activation_forward(HOOD_ACT_SOFTMAX, Z, NULL, NULL, 3, 2);
    for (int j = 0; j < 2; j++) {
        double sum = 0.0;
        for (int i = 0; i < 3; i++) {
            ck_assert_double_eq_tol(Z[i + 3 * j], want[i], 1e-6);
            sum += Z[i + 3 * j];
        }
        ck_assert_double_eq_tol(sum, 1.0, 1e-6);
    }
    /* Column-wise: each column is normalised on its own; -inf-like gaps give exact 0 and 1. */
    float W[4] = {0, -200, 5, 5};
    hood__activation_forward(HOOD_ACT_SOFTMAX, W, NULL, NULL, 2, 2);
    ck_assert_float_eq(W[0], 1.0f);
    ck_assert_float_eq(W[1], 0.0f);
    ck_assert_float_eq(W[2], 0.5f);
    ck_assert_float_eq(W[3], 0.5f);
}
END_TEST

START_TEST(bias_add_and_logits_copy)
{
    /* units 2, batch 3; b = [1, -2]. */
    float Z[6] = {0, 0, 1, 1, -3, 4};
    float keep[6];
    const float b[2] = {1, -2};
    hood__activation_forward(HOOD_ACT_RELU, Z, keep, b, 2, 3);
    const float logits[6] = {1, -2, 2, -1, -2, 2};
    const float relu[6] = {1, 0, 2, 0, 0, 2};
    for (int i = 0; i < 6; i++) {
        ck_assert_float_eq(keep[i], logits[i]);
        ck_assert_float_eq(Z[i], relu[i]);
    }
    /* Linear with bias is the affine map itself; without bias (b NULL) it is the identity. */
    float L[2] = {0.5f, 0.25f};
    hood__activation_forward(HOOD_ACT_LINEAR, L, NULL, b, 2, 1);
    ck_assert_float_eq(L[0], 1.5f);
    ck_assert_float_eq(L[1], -1.75f);
    hood__activation_forward(HOOD_ACT_LINEAR, L, NULL, NULL, 2, 1);
    ck_assert_float_eq(L[0], 1.5f);
}
END_TEST

START_TEST(sigmoid_and_tanh_are_stable)
{
    float Z[7] = {0, 2, -2, 50, -50, 200, -200};
    hood__activation_forward(HOOD_ACT_SIGMOID, Z, NULL, NULL, 7, 1);
    ck_assert_float_eq(Z[0], 0.5f);
    ck_assert_double_eq_tol(Z[1], 0.8807970779778823, 1e-7);
    ck_assert_double_eq_tol(Z[2], 0.11920292202211755, 1e-7);
    ck_assert_float_eq(Z[3], 1.0f);
    ck_assert_double_eq_tol(Z[4], 1.9287498479639178e-22, 1e-28);
    ck_assert_float_eq(Z[5], 1.0f);
    ck_assert_float_eq(Z[6], 0.0f);
    float T[4] = {0, 1, -1, 100};
    hood__activation_forward(HOOD_ACT_TANH, T, NULL, NULL, 2, 2);
    ck_assert_float_eq(T[0], 0.0f);
    ck_assert_double_eq_tol(T[1], 0.7615941559557649, 1e-7);
    ck_assert_double_eq_tol(T[2], -0.7615941559557649, 1e-7);
    ck_assert_float_eq(T[3], 1.0f);
}
END_TEST

START_TEST(relu_backward_is_zero_at_zero)
{
    /* Keras' ReLU gradient at exactly 0 is 0; NaN inputs stay NaN forward. */
    float Z[3] = {0.0f, -1.0f, NAN};
    hood__activation_forward(HOOD_ACT_RELU, Z, NULL, NULL, 3, 1);
    ck_assert_float_eq(Z[0], 0.0f);
    ck_assert_float_eq(Z[1], 0.0f);
    ck_assert(isnan(Z[2]));
    const float A[2] = {0.0f, 3.0f}, dA[2] = {5.0f, 7.0f};
    float dZ[2];
    hood__activation_backward(HOOD_ACT_RELU, dZ, dA, A, 2, 1);
    ck_assert_float_eq(dZ[0], 0.0f);
    ck_assert_float_eq(dZ[1], 7.0f);
}
END_TEST

START_TEST(tanh_is_within_one_ulp)
{
    /* tanh goes through one double exp rather than tanhf; over a sweep of [-12, 12] (every
     * 7e-5, plus the branch edges 1e-4 and 9.1 and tiny values) it must be within one ulp of
     * the double tanh rounded to float, odd, exactly +-1 in the tails, NaN for NaN. */
    enum { CHUNK = 1024 };
    float z[CHUNK];
    long checked = 0;
    for (double start = -12.0; start < 12.0; start += CHUNK * 7e-5) {
        for (int i = 0; i < CHUNK; i++)
            z[i] = (float)(start + i * 7e-5);
        float a[CHUNK];
        for (int i = 0; i < CHUNK; i++)
            a[i] = z[i];
        hood__activation_forward(HOOD_ACT_TANH, a, NULL, NULL, CHUNK, 1);
        for (int i = 0; i < CHUNK; i++) {
            float want = (float)tanh((double)z[i]);
            float ulp = nextafterf(fabsf(want), 2.0f) - fabsf(want);
            ck_assert_msg(fabsf(a[i] - want) <= ulp, "tanh(%.9g) = %.9g, want %.9g", z[i], a[i],
                          want);
            checked++;
        }
    }
    ck_assert_int_gt(checked, 300000);
    float edge[10] = {1e-4f,
                      nextafterf(1e-4f, 0),
                      -1e-4f,
                      9.1f,
                      nextafterf(9.1f, 10),
                      1e-30f,
                      -0.0f,
                      20.0f,
                      -20.0f,
                      NAN};
    float out[10];
    memcpy(out, edge, sizeof out);
    hood__activation_forward(HOOD_ACT_TANH, out, NULL, NULL, 10, 1);
    for (int i = 0; i < 6; i++) {
        float want = (float)tanh((double)edge[i]);
        ck_assert_msg(fabsf(out[i] - want) <= nextafterf(fabsf(want), 2.0f) - fabsf(want),
                      "tanh(%.9g) = %.9g, want %.9g", edge[i], out[i], want);
    }
    ck_assert(out[6] == 0.0f && signbit(out[6]));
    ck_assert_float_eq(out[7], 1.0f);
    ck_assert_float_eq(out[8], -1.0f);
    ck_assert(isnan(out[9]));
}
END_TEST

/* Loss used for the numerical check: L = sum_ij R_ij act(Z + b)_ij, so dL/dA = R. */
static double weighted_output(hood_activation act, const float *Z, const float *b, const float *R,
                              size_t units, size_t batch)
{
    float A[32];
    for (size_t i = 0; i < units * batch; i++)
        A[i] = Z[i];
    hood__activation_forward(act, A, NULL, b, units, batch);
    double sum = 0.0;
    for (size_t i = 0; i < units * batch; i++)
        sum += (double)R[i] * A[i];
    return sum;
}

/* Central differences with step h = 1e-2 in z. Truncation error is h^2/6 |f'''| <= 2e-5 for
 * these activations and |R| <= 1; float rounding of each evaluation (about 1e-7 on sums of
 * order 1) adds 1e-7 / h = 1e-5; so 2e-4 absolute is a bound with a margin of 5. */
START_TEST(backward_matches_central_differences)
{
    hood_activation act = all_acts[_i];
    enum { UNITS = 4, BATCH = 3, N = UNITS * BATCH };
    hood_rng rng;
    hood__rng_seed_stream(&rng, 5, (uint64_t)_i);
    float Z[N], R[N], b[UNITS], A[N], dZ[N];
    for (int i = 0; i < N; i++) {
        /* Keep |z + b| >= 0.1 so relu's kink is never inside the +-h interval. */
        double z = 0.1 + 1.4 * hood__rng_uniform(&rng);
        Z[i] = (float)(hood__rng_uniform(&rng) < 0.5 ? -z : z);
        R[i] = (float)(2.0 * hood__rng_uniform(&rng) - 1.0);
    }
    for (int i = 0; i < UNITS; i++)
        b[i] = 0.0f;
    for (int i = 0; i < N; i++)
        A[i] = Z[i];
    hood__activation_forward(act, A, NULL, b, UNITS, BATCH);
    hood__activation_backward(act, dZ, R, A, UNITS, BATCH);
    const float h = 1e-2f;
    double largest = 0.0;
    for (int i = 0; i < N; i++) {
        float saved = Z[i];
        Z[i] = saved + h;
        double up = weighted_output(act, Z, b, R, UNITS, BATCH);
        Z[i] = saved - h;
        double down = weighted_output(act, Z, b, R, UNITS, BATCH);
        Z[i] = saved;
        double numeric = (up - down) / (2.0 * (double)h);
        ck_assert_msg(fabs(numeric - dZ[i]) < 2e-4, "act %d element %d: analytic %.7g numeric %.7g",
                      (int)act, i, dZ[i], numeric);
        largest = fmax(largest, fabs(dZ[i]));
    }
    ck_assert_msg(largest > 1e-2, "act %d: gradient is all (near) zero", (int)act);
    /* dZ may alias dA. */
    float inplace[N];
    for (int i = 0; i < N; i++)
        inplace[i] = R[i];
    hood__activation_backward(act, inplace, inplace, A, UNITS, BATCH);
    for (int i = 0; i < N; i++)
        ck_assert_float_eq(inplace[i], dZ[i]);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("activation");
    TCase *tc = tcase_create("activation");
    /* Check's default 4 s is too short for the statistical loops under ASan on a busy CI. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, softmax_golden_and_shift_invariant);
    tcase_add_test(tc, bias_add_and_logits_copy);
    tcase_add_test(tc, sigmoid_and_tanh_are_stable);
    tcase_add_test(tc, relu_backward_is_zero_at_zero);
    tcase_add_test(tc, tanh_is_within_one_ulp);
    tcase_add_loop_test(tc, backward_matches_central_differences, 0, 5);
    suite_add_tcase(s, tc);
    return s;
}
