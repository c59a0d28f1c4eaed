/* test_loss.c — losses with Keras numerics: hand-worked values (sigmoid+BCE logits form, the
 * clipped forms, softmax cross-entropy, MSE), accuracy counts, which output layers fit which
 * loss, and dL/dZ against central differences for every activation x loss pair. */
#include "activation.h"
#include "check_main.h"
#include "error.h"
#include "loss.h"
#include "rng.h"

#include <math.h>
#include <string.h>

static const hood_activation all_acts[5] = {HOOD_ACT_LINEAR, HOOD_ACT_RELU, HOOD_ACT_TANH,
                                            HOOD_ACT_SIGMOID, HOOD_ACT_SOFTMAX};
static const hood_loss all_losses[4] = {
    HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_LOSS_CATEGORICAL_CROSSENTROPY,
    HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_LOSS_MEAN_SQUARED_ERROR};

START_TEST(sigmoid_bce_logits_golden)
{
    /* Per sample: max(z,0) - z y + log(1 + e^-|z|). z = 0: log 2 for either label; z = 2:
     * log1p(e^-2) = 0.126928 when right, 2.126928 when wrong; z = +-50: 50 when wrong and
     * log1p(e^-50) = 1.93e-22 when right, finite where a naive log(sigmoid) gives inf. */
    const float z[10] = {0, 0, 2, 2, -2, -2, 50, 50, -50, -50};
    const float y[10] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    const double l2 = 0.6931471805599453, small = 0.12692801104297263, big = 2.1269280110429727;
    const double want[10] = {
        l2, l2, big, small, small, big, 50.0, 1.9287498479639178e-22, 1.9287498479639178e-22, 50.0};
    for (int j = 0; j < 10; j++) {
        float a = z[j], dz = NAN;
        hood__activation_forward(HOOD_ACT_SIGMOID, &a, NULL, NULL, 1, 1);
        double sum = 0.0;
        size_t correct = 0;
        hood__loss_batch(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, &z[j], &a, &y[j], 1, 1, 1,
                         1.0f, &dz, &sum, &correct);
        ck_assert_msg(isfinite(sum) && fabs(sum - want[j]) <= 1e-6 * fmax(1.0, want[j]),
                      "z=%g y=%g: loss %.9g, want %.9g", z[j], y[j], sum, want[j]);
        ck_assert_double_eq_tol(dz, 1.0 / (1.0 + exp(-(double)z[j])) - y[j], 1e-7);
    }
    /* The batch: the sum of the per-sample values, gradient divided by scale, accuracy by the
     * 0.5 threshold (z = 0 gives 0.5, which is not > 0.5, so class 0). */
    float a[10], dz[10];
    memcpy(a, z, sizeof a);
    hood__activation_forward(HOOD_ACT_SIGMOID, a, NULL, NULL, 1, 10);
    double sum = 0.0;
    size_t correct = 0;
    hood__loss_batch(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, z, a, y, 1, 1, 10, 10.0f, dz,
                     &sum, &correct);
    ck_assert_double_eq_tol(sum, 2 * l2 + 2 * big + 2 * small + 100.0, 1e-5);
    ck_assert_uint_eq(correct, 5); /* z=0,y=0; z=2,y=1; z=-2,y=0; z=50,y=1; z=-50,y=0 */
    ck_assert_double_eq_tol(dz[2], (0.8807970779778823 - 0.0) / 10.0, 1e-7);
}
END_TEST

START_TEST(bce_clips_a_linear_output)
{
    /* Keras: p = clip(a, 1e-7, 1 - 1e-7); -(y log(p + 1e-7) + (1 - y) log(1 - p + 1e-7)), in
     * float32. a = 0, y = 1: -log(2e-7) = 15.4249; a = 1, y = 0: 1 - p is 1.1920929e-7 in
     * float, so -log(2.1920929e-7) = 15.3332; the right answers cost ~0 (1e-7 level). The
     * clip stops the gradient outside [1e-7, 1 - 1e-7]. */
    const float a[4] = {0, 0, 1, 1}, y[4] = {0, 1, 0, 1};
    const double want[4] = {0.0, 15.424948470398375, 15.333232139227172, 0.0};
    for (int j = 0; j < 4; j++) {
        double sum = 0.0;
        float dz = NAN;
        hood__loss_batch(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_LINEAR, &a[j], &a[j], &y[j], 1, 1,
                         1, 1.0f, &dz, &sum, NULL);
        ck_assert_msg(fabs(sum - want[j]) < 1e-5, "a=%g y=%g: %.9g want %.9g", a[j], y[j], sum,
                      want[j]);
        ck_assert_float_eq(dz, 0.0f);
    }
    /* Inside the clip: a = 0.25, y = 1: -log(0.25 + 1e-7) and d/da = -1/(0.25 + 1e-7). */
    const float q = 0.25f, one = 1.0f;
    double sum = 0.0;
    float dz;
    hood__loss_batch(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_LINEAR, &q, &q, &one, 1, 1, 1, 1.0f,
                     &dz, &sum, NULL);
    ck_assert_double_eq_tol(sum, -log(0.25 + 1e-7), 1e-6);
    ck_assert_double_eq_tol(dz, -1.0 / (0.25 + 1e-7), 1e-4);
}
END_TEST

START_TEST(softmax_cross_entropy_golden)
{
    /* Z = [1,2,3], class 2: loss = logsumexp(Z) - 3 = log(e^-2 + e^-1 + 1) = 0.4076059644;
     * dZ = softmax - onehot. The same through one-hot CCE. */
    float Z[3] = {1, 2, 3}, A[3] = {1, 2, 3};
    hood__activation_forward(HOOD_ACT_SOFTMAX, A, NULL, NULL, 3, 1);
    const float index = 2.0f, onehot[3] = {0, 0, 1};
    float dz_sparse[3], dz_cat[3];
    double sparse = 0.0, cat = 0.0;
    size_t right_sparse = 0, right_cat = 0;
    hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, Z, A, &index, 1,
                     3, 1, 1.0f, dz_sparse, &sparse, &right_sparse);
    hood__loss_batch(HOOD_LOSS_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, Z, A, onehot, 3, 3, 1,
                     1.0f, dz_cat, &cat, &right_cat);
    ck_assert_double_eq_tol(sparse, 0.40760596444438, 1e-6);
    ck_assert_double_eq_tol(cat, 0.40760596444438, 1e-6);
    const double p[3] = {0.09003057317038046, 0.24472847105479764, 0.6652409557748219};
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq_tol(dz_sparse[i], p[i] - onehot[i], 1e-6);
        ck_assert_double_eq_tol(dz_cat[i], p[i] - onehot[i], 1e-6);
    }
    ck_assert_uint_eq(right_sparse, 1);
    ck_assert_uint_eq(right_cat, 1);
    /* Logits 200 apart: softmax underflows to exactly 0 for the label, but the log-softmax
     * form still gives the exact, finite loss 200. */
    float Zbig[2] = {200, 0}, Abig[2] = {200, 0};
    hood__activation_forward(HOOD_ACT_SOFTMAX, Abig, NULL, NULL, 2, 1);
    const float label1 = 1.0f;
    double big = 0.0;
    hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, Zbig, Abig,
                     &label1, 1, 2, 1, 1.0f, NULL, &big, NULL);
    ck_assert_double_eq_tol(big, 200.0, 1e-9);
}
END_TEST

START_TEST(cce_normalises_non_softmax_output)
{
    /* Keras' own docstring example: a = [.9,.05,.05], y = [1,0,0] gives -log(0.9) = 0.10536.
     * Unnormalised a = [.2,.2,.4] is divided by its sum first: -log(0.5) = 0.693147. */
    const float a[6] = {0.9f, 0.05f, 0.05f, 0.2f, 0.2f, 0.4f};
    const float y[6] = {1, 0, 0, 0, 0, 1};
    double sum = 0.0;
    size_t right = 0;
    hood__loss_batch(HOOD_LOSS_CATEGORICAL_CROSSENTROPY, HOOD_ACT_LINEAR, a, a, y, 3, 3, 2, 1.0f,
                     NULL, &sum, &right);
    ck_assert_double_eq_tol(sum, 0.10536051565782628 + 0.6931471805599453, 1e-6);
    ck_assert_uint_eq(right, 2);
    /* SCCE on probabilities: clip, then softmax cross-entropy of log(clip(a)), which is
     * -log(a_t / sum a): for [.2,.2,.4] and class 2, log 2. */
    const float t = 2.0f;
    double s2 = 0.0;
    hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_LINEAR, a + 3, a + 3, &t,
                     1, 3, 1, 1.0f, NULL, &s2, NULL);
    ck_assert_double_eq_tol(s2, 0.6931471805599453, 1e-6);
}
END_TEST

START_TEST(mse_golden)
{
    /* a = [1, 2], y = [0, 4]: ((1)^2 + (-2)^2) / 2 units = 2.5; dZ (linear) = 2 (a - y) / units
     * / scale = [1, -2] / 2 with scale 2. */
    const float a[2] = {1, 2}, y[2] = {0, 4};
    float dz[2];
    double sum = 0.0;
    hood__loss_batch(HOOD_LOSS_MEAN_SQUARED_ERROR, HOOD_ACT_LINEAR, a, a, y, 2, 2, 1, 2.0f, dz,
                     &sum, NULL);
    ck_assert_double_eq_tol(sum, 2.5, 1e-12);
    ck_assert_float_eq(dz[0], 0.5f);
    ck_assert_float_eq(dz[1], -1.0f);
    /* loss_sum accumulates: a second call adds to it. */
    hood__loss_batch(HOOD_LOSS_MEAN_SQUARED_ERROR, HOOD_ACT_LINEAR, a, a, y, 2, 2, 1, 2.0f, NULL,
                     &sum, NULL);
    ck_assert_double_eq_tol(sum, 5.0, 1e-12);
}
END_TEST

START_TEST(accuracy_counts)
{
    /* argmax vs integer label (ties go to the first index, as NumPy's argmax). */
    const float A[12] = {0.1f, 0.7f, 0.2f, 0.5f, 0.5f, 0.0f, 0.3f, 0.3f, 0.4f, 0.9f, 0.05f, 0.05f};
    const float idx[4] = {1, 1, 2, 1};
    size_t correct = 7; /* accumulates */
    hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_LINEAR, A, A, idx, 1, 3, 4,
                     4.0f, NULL, NULL, &correct);
    ck_assert_uint_eq(correct, 7 + 2);
    /* argmax vs one-hot */
    const float onehot[12] = {0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1};
    correct = 0;
    hood__loss_batch(HOOD_LOSS_CATEGORICAL_CROSSENTROPY, HOOD_ACT_LINEAR, A, A, onehot, 3, 3, 4,
                     4.0f, NULL, NULL, &correct);
    ck_assert_uint_eq(correct, 3);
    /* One unit: prediction > 0.5 against label > 0.5 (MSE regression targets too). */
    const float p[5] = {0.2f, 0.5f, 0.51f, 0.9f, 0.7f}, t[5] = {0, 1, 1, 0, 1};
    correct = 0;
    hood__loss_batch(HOOD_LOSS_MEAN_SQUARED_ERROR, HOOD_ACT_LINEAR, p, p, t, 1, 1, 5, 5.0f, NULL,
                     NULL, &correct);
    ck_assert_uint_eq(correct, 3);
}
END_TEST

START_TEST(batch_split_is_exact)
{
    /* Samples are independent: one call over 6 columns and two calls over 2 + 4 give the same
     * bits for dZ, and the loss sums agree; doubling scale halves dZ exactly. */
    enum { UNITS = 4, BATCH = 6, N = UNITS * BATCH };
    hood_rng rng;
    hood__rng_seed(&rng, 404);
    float Z[N], A[N], K[N], labels[BATCH], whole[N], parts[N], half[N];
    for (int i = 0; i < N; i++)
        A[i] = Z[i] = (float)hood__rng_normal(&rng);
    for (int j = 0; j < BATCH; j++)
        labels[j] = (float)hood__rng_below(&rng, UNITS);
    hood__activation_forward(HOOD_ACT_SOFTMAX, A, K, NULL, UNITS, BATCH);
    double all = 0.0, split = 0.0;
    size_t right_all = 0, right_split = 0;
    hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, K, A, labels, 1,
                     UNITS, BATCH, 6.0f, whole, &all, &right_all);
    hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, K, A, labels, 1,
                     UNITS, 2, 6.0f, parts, &split, &right_split);
    hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, K + 2 * UNITS,
                     A + 2 * UNITS, labels + 2, 1, UNITS, 4, 6.0f, parts + 2 * UNITS, &split,
                     &right_split);
    ck_assert(memcmp(whole, parts, sizeof whole) == 0);
    ck_assert_double_eq_tol(all, split, 1e-12 * all);
    ck_assert_uint_eq(right_all, right_split);
    hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, K, A, labels, 1,
                     UNITS, BATCH, 12.0f, half, NULL, NULL);
    for (int i = 0; i < N; i++)
        ck_assert_float_eq(half[i] * 2.0f, whole[i]);
}
END_TEST

START_TEST(out_of_range_label_is_nan_not_a_crash)
{
    /* loss_check and the dataset rule this out; if it happens anyway the loss says so. */
    float Z[3] = {1, 2, 3}, A[3] = {1, 2, 3}, dz[3];
    hood__activation_forward(HOOD_ACT_SOFTMAX, A, NULL, NULL, 3, 1);
    const float bad[3] = {3.0f, -1.0f, 0.5f};
    for (int k = 0; k < 3; k++) {
        double sum = 0.0;
        hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, Z, A, &bad[k],
                         1, 3, 1, 1.0f, dz, &sum, NULL);
        ck_assert_msg(isnan(sum), "label %g gave loss %g", bad[k], sum);
        sum = 0.0;
        hood__loss_batch(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_LINEAR, A, A, &bad[k],
                         1, 3, 1, 1.0f, dz, &sum, NULL);
        ck_assert(isnan(sum));
    }
}
END_TEST

START_TEST(loss_check_accepts_fitting_outputs)
{
    ck_assert_int_eq(hood__loss_check(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, 1,
                                      HOOD_LABELS_BINARY, 1, 2),
                     HOOD_OK);
    ck_assert_int_eq(
        hood__loss_check(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, 1, HOOD_LABELS_INT, 1, 2),
        HOOD_OK);
    ck_assert_int_eq(hood__loss_check(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, 4,
                                      HOOD_LABELS_CATEGORICAL, 4, 4),
                     HOOD_OK);
    ck_assert_int_eq(hood__loss_check(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX,
                                      10, HOOD_LABELS_INT, 1, 10),
                     HOOD_OK);
    /* More units than classes is allowed (Keras trains the spare units towards 0). */
    ck_assert_int_eq(hood__loss_check(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX,
                                      12, HOOD_LABELS_INT, 1, 10),
                     HOOD_OK);
    ck_assert_int_eq(hood__loss_check(HOOD_LOSS_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, 10,
                                      HOOD_LABELS_CATEGORICAL, 10, 10),
                     HOOD_OK);
    ck_assert_int_eq(
        hood__loss_check(HOOD_LOSS_MEAN_SQUARED_ERROR, HOOD_ACT_LINEAR, 1, HOOD_LABELS_INT, 1, 0),
        HOOD_OK);
}
END_TEST

static void expect_rejection(hood_loss loss, hood_activation act, size_t units,
                             hood_label_mode mode, size_t width, size_t classes, hood_status status,
                             const char *needle)
{
    hood__clear_error();
    hood_status got = hood__loss_check(loss, act, units, mode, width, classes);
    ck_assert_int_eq(got, status);
    ck_assert_msg(strstr(hood_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  hood_last_error(), needle);
}

START_TEST(loss_check_names_what_does_not_fit)
{
    expect_rejection(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SIGMOID, 1,
                     HOOD_LABELS_INT, 1, 10, HOOD_ESHAPE,
                     "sparse_categorical_crossentropy needs integer labels and an output layer "
                     "with one unit per class: output has 1 unit, labels have 10 classes");
    expect_rejection(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, 10,
                     HOOD_LABELS_CATEGORICAL, 10, 10, HOOD_ESHAPE, "labels are categorical");
    expect_rejection(HOOD_LOSS_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, 10, HOOD_LABELS_INT, 1,
                     10, HOOD_ESHAPE, "needs one-hot");
    expect_rejection(HOOD_LOSS_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SOFTMAX, 5,
                     HOOD_LABELS_CATEGORICAL, 10, 10, HOOD_ESHAPE,
                     "output has 5 units, labels have 10 classes");
    expect_rejection(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, 1, HOOD_LABELS_INT, 1, 3,
                     HOOD_ESHAPE, "(3 classes)");
    expect_rejection(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, 2, HOOD_LABELS_BINARY, 1, 2,
                     HOOD_ESHAPE, "output has 2 units, labels have 1 value per sample");
    expect_rejection(HOOD_LOSS_MEAN_SQUARED_ERROR, HOOD_ACT_LINEAR, 3, HOOD_LABELS_CATEGORICAL, 2,
                     2, HOOD_ESHAPE, "output has 3 units, labels have 2 values");
    expect_rejection(HOOD_LOSS_MEAN_SQUARED_ERROR, HOOD_ACT_LINEAR, 1, HOOD_LABELS_NONE, 0, 0,
                     HOOD_EINVAL, "no labels");
    expect_rejection(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SOFTMAX, 1, HOOD_LABELS_BINARY, 1, 2,
                     HOOD_EINVAL, "softmax output with 1 unit");
    expect_rejection(HOOD_LOSS_MEAN_SQUARED_ERROR, HOOD_ACT_LINEAR, 0, HOOD_LABELS_BINARY, 1, 2,
                     HOOD_ESHAPE, "no units");
    expect_rejection((hood_loss)17, HOOD_ACT_LINEAR, 1, HOOD_LABELS_BINARY, 1, 2, HOOD_EINVAL,
                     "unknown loss");
}
END_TEST

/* dL/dZ for every activation x loss pair at a 3-unit output, batch 4, scale 4 (Keras' batch
 * mean), against central differences of the float forward (activation + loss) in z with
 * h = 1e-3. Z is drawn where no clip or kink is within reach: z in [0.2, 0.8] (so linear,
 * relu and tanh outputs are probabilities away from the 1e-7 clip) or [-2, 2] for sigmoid
 * and softmax. Error budget: truncation h^2/6 |L'''| with |L'''| <= 2/0.2^3 = 250 for the
 * logs gives 4e-5; float rounding of the loss (~1e-7 relative on values of order 1, summed
 * over 4 samples, divided by scale) over 2h adds ~1e-4. Tolerance 5e-4 + 1e-3 |g|. */
START_TEST(loss_gradient_matches_central_differences)
{
    hood_activation act = all_acts[_i % 5];
    hood_loss loss = all_losses[_i / 5];
    enum { UNITS = 3, BATCH = 4, N = UNITS * BATCH };
    hood_rng rng;
    hood__rng_seed_stream(&rng, 31, (uint64_t)_i);
    float Z[N], Y[N], A[N], Zk[N], dZ[N];
    size_t width = loss == HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : UNITS;
    hood_label_mode mode = loss == HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? HOOD_LABELS_INT
                           : loss == HOOD_LOSS_CATEGORICAL_CROSSENTROPY ? HOOD_LABELS_CATEGORICAL
                                                                        : HOOD_LABELS_BINARY;
    ck_assert_int_eq(hood__loss_check(loss, act, UNITS, mode, width, UNITS), HOOD_OK);
    bool wide = act == HOOD_ACT_SIGMOID || act == HOOD_ACT_SOFTMAX;
    for (int i = 0; i < N; i++)
        Z[i] = wide ? (float)(4.0 * hood__rng_uniform(&rng) - 2.0)
                    : (float)(0.2 + 0.6 * hood__rng_uniform(&rng));
    for (int j = 0; j < BATCH; j++) {
        size_t cls = (size_t)hood__rng_below(&rng, UNITS);
        if (width == 1) {
            Y[j] = (float)cls;
            continue;
        }
        for (int i = 0; i < UNITS; i++) {
            if (loss == HOOD_LOSS_MEAN_SQUARED_ERROR)
                Y[i + j * UNITS] = (float)(2.0 * hood__rng_uniform(&rng) - 1.0);
            else if (loss == HOOD_LOSS_BINARY_CROSSENTROPY)
                Y[i + j * UNITS] = i == 2 ? 0.3f : (float)hood__rng_below(&rng, 2); /* soft too */
            else
                Y[i + j * UNITS] = (size_t)i == cls ? 1.0f : 0.0f;
        }
    }
    const float scale = (float)BATCH;
    memcpy(A, Z, sizeof A);
    hood__activation_forward(act, A, Zk, NULL, UNITS, BATCH);
    double base = 0.0;
    hood__loss_batch(loss, act, Zk, A, Y, width, UNITS, BATCH, scale, dZ, &base, NULL);
    ck_assert(isfinite(base));

    const float h = 1e-3f;
    double largest = 0.0;
    for (int k = 0; k < N; k++) {
        double value[2];
        for (int side = 0; side < 2; side++) {
            float Zp[N];
            memcpy(Zp, Z, sizeof Zp);
            Zp[k] = Z[k] + (side == 0 ? h : -h);
            memcpy(A, Zp, sizeof A);
            hood__activation_forward(act, A, Zk, NULL, UNITS, BATCH);
            value[side] = 0.0;
            hood__loss_batch(loss, act, Zk, A, Y, width, UNITS, BATCH, scale, NULL, &value[side],
                             NULL);
        }
        /* The step actually taken in float: (Z+h) - (Z-h) rounded. */
        double step = (double)(Z[k] + h) - (double)(Z[k] - h);
        double numeric = (value[0] - value[1]) / step / scale;
        ck_assert_msg(fabs(numeric - dZ[k]) <= 5e-4 + 1e-3 * fabs(numeric),
                      "act %d loss %d element %d: analytic %.7g numeric %.7g", (int)act, (int)loss,
                      k, dZ[k], numeric);
        largest = fmax(largest, fabs(dZ[k]));
    }
    ck_assert_msg(largest > 1e-2, "act %d loss %d: gradient is (near) zero", (int)act, (int)loss);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("loss");
    TCase *golden = tcase_create("golden");
    tcase_set_timeout(golden, 60);
    tcase_add_test(golden, sigmoid_bce_logits_golden);
    tcase_add_test(golden, bce_clips_a_linear_output);
    tcase_add_test(golden, softmax_cross_entropy_golden);
    tcase_add_test(golden, cce_normalises_non_softmax_output);
    tcase_add_test(golden, mse_golden);
    tcase_add_test(golden, accuracy_counts);
    tcase_add_test(golden, batch_split_is_exact);
    tcase_add_test(golden, out_of_range_label_is_nan_not_a_crash);
    suite_add_tcase(s, golden);
    TCase *check = tcase_create("check");
    tcase_set_timeout(check, 60);
    tcase_add_test(check, loss_check_accepts_fitting_outputs);
    tcase_add_test(check, loss_check_names_what_does_not_fit);
    suite_add_tcase(s, check);
    TCase *grad = tcase_create("gradient");
    tcase_set_timeout(grad, 60);
    tcase_add_loop_test(grad, loss_gradient_matches_central_differences, 0, 20);
    suite_add_tcase(s, grad);
    return s;
}
