/* test_threads.c — hood_model_predict and hood_model_evaluate on one const model from 4 threads
 * at once give the bits of a single-threaded run (hood.h "Threads"), with the model's own
 * worker pools too, and the host's BLAS thread setting comes back after overlapping calls.
 * Meant to run under ThreadSanitizer as well (scripts/test's tsan stage). Not fit's threads
 * (test_parallel.c). */
#include "check_main.h"

#include "gemm.h"

#include <hood.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FEATURES = 20, CLASSES = 5, SAMPLES = 700, CALLERS = 4, ROUNDS = 6 };

typedef struct fixture {
    hood_model *model;
    hood_dataset *data;
    float *want_out; /* CLASSES x SAMPLES, single-threaded */
    double want_loss, want_accuracy;
} fixture;

static void fixture_make(fixture *f, int model_threads)
{
    ck_assert_int_eq(hood_dataset_create(&f->data, FEATURES, SAMPLES), HOOD_OK);
    float *x = hood_dataset_x_mutable(f->data);
    int32_t y[SAMPLES];
    uint32_t s = 11;
    for (size_t j = 0; j < SAMPLES; j++) {
        float sum = 0;
        for (size_t i = 0; i < FEATURES; i++) {
            s = s * 1664525u + 1013904223u;
            x[j * FEATURES + i] = (float)(s >> 8) / 16777216.0f - 0.5f;
            sum += x[j * FEATURES + i] * (float)(i % 3);
        }
        y[j] = (int32_t)((size_t)(sum * 4.0f + 40.0f) % CLASSES);
    }
    ck_assert_int_eq(hood_dataset_set_labels(f->data, HOOD_LABELS_INT, y, CLASSES), HOOD_OK);
    ck_assert_int_eq(hood_model_create(&f->model, FEATURES), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(f->model, 48, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(f->model, 24, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(f->model, CLASSES, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    ck_assert_int_eq(
        hood_model_compile(f->model, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 5),
        HOOD_OK);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 2;
    ck_assert_int_eq(hood_model_fit(f->model, f->data, &fo), HOOD_OK);
    ck_assert_int_eq(hood_model_set_threads(f->model, model_threads), HOOD_OK);

    f->want_out = malloc(CLASSES * SAMPLES * sizeof(float));
    ck_assert_int_eq(
        hood_model_predict(f->model, hood_dataset_x(f->data), SAMPLES, 32, f->want_out),
        HOOD_OK);
    ck_assert_int_eq(
        hood_model_evaluate(f->model, f->data, 32, &f->want_loss, &f->want_accuracy), HOOD_OK);
}

static void fixture_free(fixture *f)
{
    free(f->want_out);
    hood_model_free(f->model);
    hood_dataset_free(f->data);
}

typedef struct caller {
    const fixture *f;
    pthread_t thread;
    int mismatches, failures;
    char message[256];
} caller;

/* Only reads f: the model and data are shared as const, as a host would share them. */
static void *call_many(void *arg)
{
    caller *c = arg;
    const hood_model *model = c->f->model;
    float *out = malloc(CLASSES * SAMPLES * sizeof(float));
    for (int r = 0; r < ROUNDS && out != NULL; r++) {
        double loss = 0, accuracy = 0;
        /* different batch sizes: the same bits all the same (fixed inference blocks) */
        if (hood_model_predict(model, hood_dataset_x(c->f->data), SAMPLES, (size_t)(1 + 37 * r),
                               out) != HOOD_OK ||
            hood_model_evaluate(model, c->f->data, 64, &loss, &accuracy) != HOOD_OK) {
            c->failures++;
            snprintf(c->message, sizeof c->message, "%s", hood_last_error());
            continue;
        }
        if (memcmp(out, c->f->want_out, CLASSES * SAMPLES * sizeof(float)) != 0 ||
            memcmp(&loss, &c->f->want_loss, sizeof loss) != 0 ||
            memcmp(&accuracy, &c->f->want_accuracy, sizeof accuracy) != 0)
            c->mismatches++;
    }
    if (out == NULL)
        c->failures++;
    free(out);
    return NULL;
}

static void run_callers(const fixture *f)
{
    caller callers[CALLERS];
    memset(callers, 0, sizeof callers);
    for (int i = 0; i < CALLERS; i++) {
        callers[i].f = f;
        ck_assert_int_eq(pthread_create(&callers[i].thread, NULL, call_many, &callers[i]), 0);
    }
    for (int i = 0; i < CALLERS; i++)
        ck_assert_int_eq(pthread_join(callers[i].thread, NULL), 0);
    for (int i = 0; i < CALLERS; i++) {
        ck_assert_msg(callers[i].failures == 0, "caller %d: %s", i, callers[i].message);
        ck_assert_msg(callers[i].mismatches == 0, "caller %d: %d of %d rounds differ", i,
                      callers[i].mismatches, ROUNDS);
    }
}

START_TEST(predict_and_evaluate_from_four_threads_equal_one)
{
    fixture f;
    fixture_make(&f, 1);
    run_callers(&f);
    fixture_free(&f);
}
END_TEST

START_TEST(with_the_models_own_pools_too)
{
    fixture f;
    fixture_make(&f, 2); /* each call starts its own pool of 2 */
    run_callers(&f);
    fixture_free(&f);
}
END_TEST

START_TEST(the_hosts_blas_setting_comes_back)
{
    if (hood__blas_threads() == 0)
        return; /* a generic CBLAS: no thread setting to keep */
    fixture f;
    fixture_make(&f, 2);
    hood__blas_set_threads(2);
    int host = hood__blas_threads(); /* 2, or what this BLAS makes of it */
    run_callers(&f);
    ck_assert_int_eq(hood__blas_threads(), host);
    hood__blas_set_threads(1);
    fixture_free(&f);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, predict_and_evaluate_from_four_threads_equal_one);
    tcase_add_test(tc, with_the_models_own_pools_too);
    tcase_add_test(tc, the_hosts_blas_setting_comes_back);
    suite_add_tcase(s, tc);
    return s;
}
