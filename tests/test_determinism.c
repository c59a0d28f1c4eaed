/* test_determinism.c — what hood promises about bits (include/hood.h, "Determinism"):
 * evaluate and predict do not depend on the batch size, and no public call leaves the BLAS
 * thread count other than it found it. Not the pool's or the kernels' own tests. */
#include "check_main.h"

#include "gemm.h"
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IN = 12, HIDDEN = 8, OUT = 4, N = 101 };

/* A model whose forward pass is exact in float whatever the BLAS kernel or the order of its
 * sums: weights in quarters, biases in eighths, inputs in eighths of at most 2, and relu between
 * (every product and partial sum is a multiple of 2^-7 far below 2^24 of them). Its outputs are
 * then the same bits at any batch size on any machine, so what is left to vary with the batch
 * size is hood's own reduction of the per-sample losses, the thing under test. */
static hood_model *exact_model(int threads)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, IN), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, HIDDEN, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, OUT, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 1),
                     HOOD_OK);
    float k0[IN * HIDDEN], b0[HIDDEN], k1[HIDDEN * OUT], b1[OUT];
    for (int i = 0; i < IN * HIDDEN; i++)
        k0[i] = (float)((i * 7) % 9 - 4) / 4.0f;
    for (int i = 0; i < HIDDEN; i++)
        b0[i] = (float)(i % 5 - 2) / 8.0f;
    for (int i = 0; i < HIDDEN * OUT; i++)
        k1[i] = (float)((i * 5) % 7 - 3) / 4.0f;
    for (int i = 0; i < OUT; i++)
        b1[i] = (float)(i % 3 - 1) / 8.0f;
    ck_assert_int_eq(hood_model_set_kernel(m, 0, k0), HOOD_OK);
    ck_assert_int_eq(hood_model_set_bias(m, 0, b0), HOOD_OK);
    ck_assert_int_eq(hood_model_set_kernel(m, 1, k1), HOOD_OK);
    ck_assert_int_eq(hood_model_set_bias(m, 1, b1), HOOD_OK);
    ck_assert_int_eq(hood_model_set_threads(m, threads), HOOD_OK);
    return m;
}

static hood_dataset *exact_data(void)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, IN, N), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    int32_t y[N];
    for (int j = 0; j < N; j++) {
        for (int i = 0; i < IN; i++)
            x[j * IN + i] = (float)((j * 5 + i * 11 + j * i) % 33 - 16) / 8.0f;
        y[j] = (j * 3 + j / 7) % OUT;
    }
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, OUT), HOOD_OK);
    return ds;
}

START_TEST(evaluate_and_predict_do_not_depend_on_the_batch_size)
{
    static const size_t batches[] = {1, 7, 16, 32, N, 0 /* default */, 1000};
    hood_dataset *ds = exact_data();
    for (int threads = 1; threads <= 2; threads++) {
        hood_model *m = exact_model(threads);
        double loss0, acc0;
        float *p0 = malloc(OUT * N * sizeof(float)), *p = malloc(OUT * N * sizeof(float));
        ck_assert(p0 != NULL && p != NULL);
        ck_assert_int_eq(hood_model_evaluate(m, ds, 1, &loss0, &acc0), HOOD_OK);
        ck_assert_int_eq(hood_model_predict(m, hood_dataset_x(ds), N, 1, p0), HOOD_OK);
        /* the loss is a real mean of varied values, not a constant that sums alike anyhow */
        ck_assert(loss0 > 0.1 && acc0 > 0.0 && acc0 < 1.0);
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
            double loss, acc;
            ck_assert_int_eq(hood_model_evaluate(m, ds, batches[b], &loss, &acc), HOOD_OK);
            /* the same bits, not merely close */
            ck_assert_msg(memcmp(&loss, &loss0, sizeof loss) == 0,
                          "threads %d, batch %zu: loss %.17g, at batch 1 %.17g", threads,
                          batches[b], loss, loss0);
            ck_assert_msg(memcmp(&acc, &acc0, sizeof acc) == 0, "batch %zu: accuracy differs",
                          batches[b]);
            ck_assert_int_eq(hood_model_predict(m, hood_dataset_x(ds), N, batches[b], p), HOOD_OK);
            ck_assert_int_eq(memcmp(p, p0, OUT * N * sizeof(float)), 0);
        }
        free(p0);
        free(p);
        hood_model_free(m);
    }
    hood_dataset_free(ds);
}
END_TEST

/* The same promise where the BLAS does round: glorot weights on varied data, products wide and
 * deep enough that a kernel's rounding depends on the call's width (OpenBLAS's AVX-512 kernels
 * give other last bits to some columns at other widths), over more than one inference block. */
START_TEST(evaluate_and_predict_bits_hold_on_any_blas)
{
    enum { WIDE_IN = 300, WIDE_HIDDEN = 67, WIDE_OUT = 5, WIDE_N = 333 };
    static const size_t batches[] = {1, 7, 16, 32, 129, WIDE_N};
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, WIDE_IN, WIDE_N), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    int32_t y[WIDE_N];
    uint32_t state = 12345u;
    for (size_t i = 0; i < (size_t)WIDE_IN * WIDE_N; i++) {
        state = state * 1664525u + 1013904223u;
        x[i] = (float)(state >> 8) / 16777216.0f - 0.5f;
    }
    for (int j = 0; j < WIDE_N; j++)
        y[j] = j % WIDE_OUT;
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, WIDE_OUT), HOOD_OK);
    for (int threads = 1; threads <= 2; threads++) {
        hood_model *m = NULL;
        ck_assert_int_eq(hood_model_create(&m, WIDE_IN), HOOD_OK);
        ck_assert_int_eq(hood_model_add_dense(m, WIDE_HIDDEN, HOOD_ACT_TANH, true), HOOD_OK);
        ck_assert_int_eq(hood_model_add_dense(m, WIDE_OUT, HOOD_ACT_SOFTMAX, true), HOOD_OK);
        hood_optimizer_config opt;
        hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
        ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 3),
                         HOOD_OK);
        ck_assert_int_eq(hood_model_set_threads(m, threads), HOOD_OK);
        size_t count = (size_t)WIDE_OUT * WIDE_N;
        float *p0 = malloc(count * sizeof(float)), *p = malloc(count * sizeof(float));
        ck_assert(p0 != NULL && p != NULL);
        double loss0, acc0;
        ck_assert_int_eq(hood_model_evaluate(m, ds, 32, &loss0, &acc0), HOOD_OK);
        ck_assert_int_eq(hood_model_predict(m, x, WIDE_N, 32, p0), HOOD_OK);
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
            double loss, acc;
            ck_assert_int_eq(hood_model_evaluate(m, ds, batches[b], &loss, &acc), HOOD_OK);
            ck_assert_msg(memcmp(&loss, &loss0, sizeof loss) == 0,
                          "threads %d, batch %zu: loss %.17g, at batch 32 %.17g", threads,
                          batches[b], loss, loss0);
            ck_assert(memcmp(&acc, &acc0, sizeof acc) == 0);
            ck_assert_int_eq(hood_model_predict(m, x, WIDE_N, batches[b], p), HOOD_OK);
            ck_assert_msg(memcmp(p, p0, count * sizeof(float)) == 0,
                          "threads %d, batch %zu: predictions differ from batch 32's", threads,
                          batches[b]);
        }
        free(p0);
        free(p);
        hood_model_free(m);
    }
    hood_dataset_free(ds);
}
END_TEST

/* ---- The BLAS thread count ------------------------------------------------------------------ */

typedef struct seen {
    int during;     /* the BLAS thread count inside fit, from the batch callback */
    size_t stop_at; /* batch at which the callback stops fit (SIZE_MAX: never) */
} seen;

static int on_batch(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                    double accuracy)
{
    (void)epoch, (void)num_batches, (void)loss, (void)accuracy;
    seen *s = user;
    s->during = hood__blas_threads();
    return batch == s->stop_at;
}

/* A one-worker all-reduce: the sum over one worker is its own values. */
static hood_status allreduce_alone(void *user, float *values, size_t count)
{
    (void)user, (void)values, (void)count;
    return HOOD_OK;
}

#define EXPECT_BLAS_THREADS(n, what)                                                               \
    ck_assert_msg(hood__blas_threads() == (n),                                                     \
                  "%s (model threads %d): the BLAS runs %d threads "                               \
                  "after it, %d before",                                                           \
                  (what), threads, hood__blas_threads(), (n))

START_TEST(public_calls_leave_the_blas_threads_as_found)
{
    int before = hood__blas_threads();
    hood__blas_set_threads(2);
    hood_dataset *ds = exact_data();
    for (int threads = 1; threads <= 2; threads++) {
        hood_model *m = exact_model(threads);
        seen s = {.during = -1, .stop_at = SIZE_MAX};
        hood_fit_options fo;
        hood_fit_options_init(&fo);
        fo.epochs = 2;
        fo.batch_size = 16;
        fo.validation_split = 0.2;
        fo.on_batch_end = on_batch;
        fo.user = &s;
        ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
        EXPECT_BLAS_THREADS(2, "fit");
        /* inside, hood runs the BLAS at 1 thread (its own pool splits the products) */
        ck_assert_int_eq(s.during, 1);
        s.stop_at = 1;
        ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_ESTOPPED);
        EXPECT_BLAS_THREADS(2, "fit stopped by its callback");
        fo.batch_size = 0; /* refused before any work */
        ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_EINVAL);
        EXPECT_BLAS_THREADS(2, "fit refused");
        double loss, acc;
        ck_assert_int_eq(hood_model_evaluate(m, ds, 7, &loss, &acc), HOOD_OK);
        EXPECT_BLAS_THREADS(2, "evaluate");
        hood_shard shard = {.global_samples = N, .first = 0, .allreduce = allreduce_alone};
        ck_assert_int_eq(hood_model_evaluate_shard(m, ds, 7, &shard, &loss, &acc), HOOD_OK);
        EXPECT_BLAS_THREADS(2, "evaluate_shard");
        float out[OUT * N];
        ck_assert_int_eq(hood_model_predict(m, hood_dataset_x(ds), N, 5, out), HOOD_OK);
        EXPECT_BLAS_THREADS(2, "predict");
        hood_model_free(m);
        m = exact_model(threads); /* not the one stopped inside an epoch */
        fo.batch_size = 16;
        fo.validation_split = 0.0;
        fo.on_batch_end = NULL;
        fo.shard = &shard;
        ck_assert_msg(hood_model_fit(m, ds, &fo) == HOOD_OK, "%s", hood_last_error());
        EXPECT_BLAS_THREADS(2, "sharded fit");
        hood_model_free(m);
    }
    hood_dataset_free(ds);
    hood__blas_set_threads(before);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("determinism");
    TCase *batch = tcase_create("batch_size");
    tcase_set_timeout(batch, 60);
    tcase_add_test(batch, evaluate_and_predict_do_not_depend_on_the_batch_size);
    tcase_add_test(batch, evaluate_and_predict_bits_hold_on_any_blas);
    suite_add_tcase(s, batch);
    TCase *blas = tcase_create("blas_threads");
    tcase_set_timeout(blas, 60);
    /* Only a BLAS whose thread count can be set and read back (OpenBLAS, BLIS built with
     * threads); a generic CBLAS has no such API, so there is nothing to leave as found. */
    int before = hood__blas_threads();
    hood__blas_set_threads(2);
    bool settable = hood__blas_threads() == 2;
    hood__blas_set_threads(before > 0 ? before : 1);
    if (settable)
        tcase_add_test(blas, public_calls_leave_the_blas_threads_as_found);
    else
        fprintf(stderr,
                "test_determinism: SKIP blas_threads: this BLAS (%s) cannot set and "
                "read back its thread count\n",
                hood__blas_description());
    suite_add_tcase(s, blas);
    return s;
}
