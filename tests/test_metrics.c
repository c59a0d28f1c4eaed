/* test_metrics.c — Keras' metrics (accuracy, Precision, Recall, 200-threshold ROC AUC),
 * scikit-learn's confusion matrix, classification report and balanced class weights against
 * numbers scikit-learn computed (scripts/golden-metrics), and class_weight in the loss: the
 * weighted sum, its gradient by central differences, and through hood_model_fit. */
#include "activation.h"
#include "check_main.h"
#include "loss.h"

#include <math.h>
#include <string.h>

/* ---- scripts/golden-metrics output, pasted ------------------------------------------------ */
static const float BIN_PRED[] = {0.896984935, 0.771356761, 0.0728643239, 0.786432147, 0.766331673, 0.927135706, 0.826633155, 0.163316578, 0.248743713, 0.0678391978, 0.937185943, 0.77638191, 0.595477402, 0.801507533, 0.00251256279, 0.605527639};
static const float BIN_Y[] = {0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0};
static const double BIN_ACC = 0.4375, BIN_PRECISION = 0.45454545454545453, BIN_RECALL = 0.625, BIN_AUC = 0.40625;
static const uint64_t BIN_CM[] = {2, 6, 3, 5};
static const double BIN_REPORT[][3] = {{0.40000000000000002, 0.25, 0.30769230769230771}, {0.45454545454545453, 0.625, 0.52631578947368418}, {0.42727272727272725, 0.4375, 0.41700404858299595}, {0.42727272727272725, 0.4375, 0.41700404858299595}};
static const float CAT_PRED[] = {0.32914573, 0.816582918, 0.520100474, 0.0728643239, 0.94723618, 0.444723606, 0.615577877, 0.600502491, 0.836683393, 0.128140703, 0.309045225, 0.0829145759, 0.846733689, 0.545226157, 0.248743713, 0.610552788, 0.228643209, 0.0628140718, 0.198492467, 0.942211032, 0.153266326, 0.103015073, 0.932160795, 0.907035172, 0.0276381914, 0.831658304, 0.660804033, 0.655778885, 0.861809075, 0.298994988, 0.510050237, 0.0125628142, 0.70603013, 0.0477386937, 0.997487426, 0.5};
static const float CAT_Y[] = {1, 0, 2, 1, 0, 1, 0, 2, 0, 0, 2, 2};
static const double CAT_ACC = 0.41666666666666669, CAT_PRECISION = 0.31578947368421051, CAT_RECALL = 0.5, CAT_AUC = 0.51736111111111116;
static const uint64_t CAT_CM[] = {1, 4, 0, 1, 2, 0, 0, 2, 2};
static const double CAT_REPORT[][3] = {{0.5, 0.20000000000000001, 0.28571428571428575}, {0.25, 0.66666666666666663, 0.36363636363636365}, {1, 0.5, 0.66666666666666663}, {0.58333333333333337, 0.45555555555555555, 0.4386724386724386}, {0.60416666666666663, 0.41666666666666669, 0.43217893217893222}};
static const float BAL_Y[] = {0, 0, 0, 0, 0, 1, 1, 2, 0, 1, 0};
static const float BAL_W[] = {0.523809552, 1.22222221, 3.66666675};

/* ------------------------------------------------------------------------------------------ */

static void check_report(const uint64_t *cm, size_t k, const double (*want)[3])
{
    hood_class_scores got[8];
    ck_assert_int_eq(hood_classification_report(cm, k, got), HOOD_OK);
    for (size_t r = 0; r < k + 2; r++) {
        ck_assert_double_eq_tol(got[r].precision, want[r][0], 1e-6);
        ck_assert_double_eq_tol(got[r].recall, want[r][1], 1e-6);
        ck_assert_double_eq_tol(got[r].f1, want[r][2], 1e-6);
    }
}

START_TEST(binary_metrics_match_sklearn)
{
    hood_metrics m;
    ck_assert_int_eq(hood_metrics_compute(BIN_PRED, 1, BIN_Y, 1, 16, &m), HOOD_OK);
    ck_assert_str_eq(hood_last_error(), "");
    ck_assert_double_eq_tol(m.accuracy, BIN_ACC, 1e-6);
    ck_assert_double_eq_tol(m.precision, BIN_PRECISION, 1e-6);
    ck_assert_double_eq_tol(m.recall, BIN_RECALL, 1e-6);
    ck_assert_double_eq_tol(m.auc, BIN_AUC, 1e-6);
    uint64_t cm[4];
    ck_assert_int_eq(hood_confusion_matrix(BIN_PRED, 1, BIN_Y, 1, 16, 2, cm), HOOD_OK);
    ck_assert_mem_eq(cm, BIN_CM, sizeof cm);
    check_report(cm, 2, BIN_REPORT);
}
END_TEST

START_TEST(categorical_metrics_match_sklearn)
{
    /* Integer labels, and the same labels one-hot: Keras' Precision/Recall/AUC see every
     * output value as one binary problem either way. */
    float onehot[36] = {0};
    for (size_t j = 0; j < 12; j++)
        onehot[j * 3 + (size_t)CAT_Y[j]] = 1.0f;
    for (int form = 0; form < 2; form++) {
        const float *y = form == 0 ? CAT_Y : onehot;
        size_t w = form == 0 ? 1 : 3;
        hood_metrics m;
        ck_assert_int_eq(hood_metrics_compute(CAT_PRED, 3, y, w, 12, &m), HOOD_OK);
        ck_assert_double_eq_tol(m.accuracy, CAT_ACC, 1e-6);
        ck_assert_double_eq_tol(m.precision, CAT_PRECISION, 1e-6);
        ck_assert_double_eq_tol(m.recall, CAT_RECALL, 1e-6);
        ck_assert_double_eq_tol(m.auc, CAT_AUC, 1e-6);
        uint64_t cm[9];
        ck_assert_int_eq(hood_confusion_matrix(CAT_PRED, 3, y, w, 12, 3, cm), HOOD_OK);
        ck_assert_mem_eq(cm, CAT_CM, sizeof cm);
        check_report(cm, 3, CAT_REPORT);
    }
}
END_TEST

START_TEST(auc_uses_200_thresholds)
{
    /* A positive at 0.501 and a negative at 0.502 fall between the same two thresholds
     * (99/199 and 100/199): Keras' AUC counts them as a tie (0.5) where the exact AUC is 0. */
    const float p[2] = {0.501f, 0.502f}, y[2] = {1.0f, 0.0f};
    hood_metrics m;
    ck_assert_int_eq(hood_metrics_compute(p, 1, y, 1, 2, &m), HOOD_OK);
    ck_assert_double_eq_tol(m.auc, 0.5, 1e-12);
    /* one threshold apart: ordered, so 0 */
    const float q[2] = {0.40f, 0.60f};
    ck_assert_int_eq(hood_metrics_compute(q, 1, y, 1, 2, &m), HOOD_OK);
    ck_assert_double_eq_tol(m.auc, 0.0, 1e-12);
    ck_assert_double_eq_tol(m.precision, 0.0, 1e-12); /* the one predicted positive is wrong */
    /* no positives at all: divide_no_nan gives 0 */
    const float none[2] = {0.0f, 0.0f};
    ck_assert_int_eq(hood_metrics_compute(q, 1, none, 1, 2, &m), HOOD_OK);
    ck_assert_double_eq_tol(m.recall, 0.0, 1e-12);
}
END_TEST

START_TEST(bad_metric_inputs_fail_with_a_message)
{
    const float p[3] = {0.2f, 0.3f, 0.5f}, y[1] = {7.0f};
    hood_metrics m;
    uint64_t cm[9];
    ck_assert_int_eq(hood_metrics_compute(p, 3, y, 1, 1, &m), HOOD_EDATA);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "sample 0"));
    ck_assert_int_eq(hood_confusion_matrix(p, 3, y, 1, 1, 3, cm), HOOD_EDATA);
    ck_assert_int_eq(hood_metrics_compute(p, 3, y, 2, 1, &m), HOOD_ESHAPE);
    ck_assert_int_eq(hood_metrics_compute(NULL, 3, y, 1, 1, &m), HOOD_EINVAL);
}
END_TEST

START_TEST(balanced_weights_match_sklearn)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 1, 11), HOOD_OK);
    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_INT, BAL_Y, 1, 3), HOOD_OK);
    float w[3];
    ck_assert_int_eq(hood_class_weights_balanced(ds, 3, w), HOOD_OK);
    for (int c = 0; c < 3; c++)
        ck_assert_float_eq_tol(w[c], BAL_W[c], 1e-6f);
    /* a class with no samples has no balanced weight */
    float w4[4];
    ck_assert_int_eq(hood_class_weights_balanced(ds, 4, w4), HOOD_EDATA);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "class 3 has no samples"));
    hood_dataset_free(ds);
}
END_TEST

/* A batch of 4 sigmoid BCE samples with class weights {1, 3}: the total is the hand-weighted
 * sum of the unweighted per-sample losses, each dZ column the unweighted one times its weight. */
START_TEST(weighted_loss_is_the_weighted_sum)
{
    const float Z[4] = {0.3f, -1.2f, 2.0f, 0.1f}, Y[4] = {1, 0, 0, 1}, cw[2] = {1.0f, 3.0f};
    float A[4], Zk[4], dz0[4], dz1[4];
    memcpy(A, Z, sizeof A);
    hood__activation_forward(HOOD_ACT_SIGMOID, A, Zk, NULL, 1, 4);
    double want = 0.0;
    for (int j = 0; j < 4; j++) {
        double one = 0.0;
        hood__loss_batch(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, Z + j, A + j, Y + j, 1,
                         1, 1, 4.0f, dz0 + j, &one, NULL);
        want += cw[(int)Y[j]] * one;
        dz0[j] *= cw[(int)Y[j]];
    }
    double got = 0.0;
    hood__loss_batch_weighted(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, Z, A, Y, 1, 1, 4,
                              4.0f, dz1, &got, NULL, cw, 2);
    ck_assert_double_eq_tol(got, want, 1e-12);
    for (int j = 0; j < 4; j++)
        ck_assert_float_eq_tol(dz1[j], dz0[j], 1e-7f);
    /* sum(w * l) differs from the unweighted sum here (the weighted class has loss) */
    double plain = 0.0;
    hood__loss_batch(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_SIGMOID, Z, A, Y, 1, 1, 4, 4.0f, NULL,
                     &plain, NULL);
    ck_assert(fabs(plain - got) > 0.1);
}
END_TEST

/* dL/dZ of the class-weighted loss against central differences (softmax + SCCE and one-hot
 * CCE, sigmoid + BCE), weights {0.5, 2, 3}; tolerance as test_loss.c's gradient check. */
START_TEST(weighted_gradient_matches_central_differences)
{
    enum { UNITS = 3, BATCH = 4, N = UNITS * BATCH };
    const hood_loss losses[3] = {HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
                                 HOOD_LOSS_CATEGORICAL_CROSSENTROPY, HOOD_LOSS_BINARY_CROSSENTROPY};
    const hood_activation acts[3] = {HOOD_ACT_SOFTMAX, HOOD_ACT_SOFTMAX, HOOD_ACT_SIGMOID};
    const float cw[3] = {0.5f, 2.0f, 3.0f};
    const size_t cls[BATCH] = {2, 0, 1, 2};
    hood_loss loss = losses[_i];
    hood_activation act = acts[_i];
    size_t width = loss == HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : UNITS;
    float Z[N], Y[N], A[N], Zk[N], dZ[N];
    for (int i = 0; i < N; i++)
        Z[i] = (float)sin(1.7 * i + 0.3) * 1.5f;
    for (int j = 0; j < BATCH; j++)
        for (size_t i = 0; i < width; i++)
            Y[i + j * width] = width == 1 ? (float)cls[j] : (float)(i == cls[j]);
    memcpy(A, Z, sizeof A);
    hood__activation_forward(act, A, Zk, NULL, UNITS, BATCH);
    double base = 0.0;
    hood__loss_batch_weighted(loss, act, Zk, A, Y, width, UNITS, BATCH, 4.0f, dZ, &base, NULL, cw,
                              3);
    const float h = 1e-3f;
    for (int k = 0; k < N; k++) {
        double value[2];
        for (int side = 0; side < 2; side++) {
            float Zp[N];
            memcpy(Zp, Z, sizeof Zp);
            Zp[k] = Z[k] + (side == 0 ? h : -h);
            memcpy(A, Zp, sizeof A);
            hood__activation_forward(act, A, Zk, NULL, UNITS, BATCH);
            value[side] = 0.0;
            hood__loss_batch_weighted(loss, act, Zk, A, Y, width, UNITS, BATCH, 4.0f, NULL,
                                      &value[side], NULL, cw, 3);
        }
        double step = (double)(Z[k] + h) - (double)(Z[k] - h);
        double numeric = (value[0] - value[1]) / step / 4.0;
        ck_assert_msg(fabs(numeric - dZ[k]) <= 5e-4 + 1e-3 * fabs(numeric),
                      "loss %d element %d: analytic %.7g numeric %.7g", (int)loss, k, dZ[k],
                      numeric);
    }
}
END_TEST

/* Through hood_model_fit: one batch of all 8 samples, so the epoch's loss is the weighted mean
 * sum(w_i l_i) / n at the initial weights, l_i computed by hand from hood_model_predict. */
START_TEST(fit_reports_the_class_weighted_loss)
{
    const float X[16] = {0.1f, 0.9f, 0.8f, 0.2f, 0.5f, 0.4f, 0.3f, 0.7f,
                         0.6f, 0.6f, 0.9f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
    const float Y[8] = {0, 1, 1, 0, 0, 1, 0, 0};
    const float cw[2] = {0.25f, 4.0f};
    hood_dataset *ds = NULL;
    hood_model *m = NULL;
    ck_assert_int_eq(hood_dataset_wrap(&ds, X, 2, 8), HOOD_OK);
    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_BINARY, Y, 1, 2), HOOD_OK);
    ck_assert_int_eq(hood_model_create(&m, 2), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 1, HOOD_ACT_SIGMOID, true), HOOD_OK);
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &cfg, 5), HOOD_OK);
    float p[8];
    ck_assert_int_eq(hood_model_predict(m, X, 8, 8, p), HOOD_OK);
    double want = 0.0;
    for (int j = 0; j < 8; j++) {
        double pj = p[j];
        want += cw[(int)Y[j]] * -(Y[j] * log(pj) + (1 - Y[j]) * log(1 - pj));
    }
    want /= 8.0;
    hood_fit_options fit;
    hood_fit_options_init(&fit);
    fit.batch_size = 8;
    fit.class_weights = cw;
    fit.num_class_weights = 2;
    ck_assert_int_eq(hood_model_fit(m, ds, &fit), HOOD_OK);
    ck_assert_double_eq_tol(hood_model_history(m, 0)->loss, want, 1e-5);
    /* a negative weight is refused, naming it */
    const float bad[2] = {1.0f, -1.0f};
    fit.class_weights = bad;
    ck_assert_int_eq(hood_model_fit(m, ds, &fit), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "class weight 1"));
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *golden = tcase_create("golden");
    tcase_set_timeout(golden, 60);
    tcase_add_test(golden, binary_metrics_match_sklearn);
    tcase_add_test(golden, categorical_metrics_match_sklearn);
    tcase_add_test(golden, auc_uses_200_thresholds);
    tcase_add_test(golden, bad_metric_inputs_fail_with_a_message);
    tcase_add_test(golden, balanced_weights_match_sklearn);
    suite_add_tcase(s, golden);
    TCase *weights = tcase_create("class_weight");
    tcase_set_timeout(weights, 60);
    tcase_add_test(weights, weighted_loss_is_the_weighted_sum);
    tcase_add_loop_test(weights, weighted_gradient_matches_central_differences, 0, 3);
    tcase_add_test(weights, fit_reports_the_class_weighted_loss);
    suite_add_tcase(s, weights);
    return s;
}
