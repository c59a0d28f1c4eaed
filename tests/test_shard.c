/* test_shard.c — data-parallel fit and evaluate (hood_shard) with an in-process all-reduce: 2,
 * 3 and 4 simulated workers run as threads against one process's fit on the same data; uneven
 * shards, workers holding none of a batch or only validation samples, an all-reduce failure,
 * divergence on one worker, one worker's failed check, shards that do not tile the data.
 * Not the MPI transport (tests/mpi/test_mpi.sh drives mpirun). */
#include "check_main.h"

#include "model.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_WORKERS = 4, D = 5, CLASSES = 3, G = 53 };

/* The fake transport: every worker copies its floats into its slot, waits for all, then sums
 * the slots in rank order (so every worker gets bit-identical sums, as MPI promises). */
typedef struct fake_world {
    size_t workers;
    pthread_barrier_t barrier;
    float *slot[MAX_WORKERS];
    size_t capacity;
    int fail_at_call; /* > 0: that call (1-based) returns HOOD_EIO on every worker */
    int calls[MAX_WORKERS];
} fake_world;

typedef struct worker {
    fake_world *world;
    size_t rank;
    hood_shard shard;
    hood_model *model;
    hood_dataset *data;
    const hood_fit_options *opts;
    hood_status status;
    char message[512];
} worker;

static hood_status fake_allreduce(void *user, float *values, size_t count)
{
    worker *w = user;
    fake_world *fw = w->world;
    if (count > fw->capacity)
        return HOOD_ENOMEM; /* same count on every worker, so every worker returns here */
    if (fw->fail_at_call > 0 && ++fw->calls[w->rank] == fw->fail_at_call)
        return HOOD_EIO;
    memcpy(fw->slot[w->rank], values, count * sizeof(float));
    pthread_barrier_wait(&fw->barrier);
    for (size_t i = 0; i < count; i++) {
        float s = 0.0f;
        for (size_t r = 0; r < fw->workers; r++)
            s += fw->slot[r][i];
        values[i] = s;
    }
    pthread_barrier_wait(&fw->barrier);
    return HOOD_OK;
}

/* n samples: a 3-class problem in D features, deterministic spread. */
static void make_data(float *x, int32_t *y, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        y[j] = (int32_t)((j * 7) % CLASSES);
        for (size_t i = 0; i < D; i++)
            x[j * D + i] =
                (i == (size_t)y[j] ? 1.2f : 0.0f) + 0.7f * (float)sin(0.41 * (double)(j * D + i));
    }
}

static hood_dataset *columns(const float *x, const int32_t *y, size_t first, size_t n)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, D, n), HOOD_OK);
    memcpy(hood_dataset_x_mutable(ds), x + first * D, n * D * sizeof(float));
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y + first, CLASSES), HOOD_OK);
    return ds;
}

static hood_model *make_model_act(hood_activation hidden)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, D), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 7, hidden, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, CLASSES, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    opt.learning_rate = 0.01f;
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 1234),
                     HOOD_OK);
    return m;
}

static hood_model *make_model(void)
{
    return make_model_act(HOOD_ACT_TANH);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    w->status = hood_model_fit(w->model, w->data, w->opts);
    strncpy(w->message, hood_last_error(), sizeof w->message - 1);
    return NULL;
}

/* Sets up P workers holding [first[r], first[r] + len[r]) of the G samples (free_workers). */
static void setup_workers(fake_world *fw, worker *ws, size_t P, const size_t *first,
                          const size_t *len, const float *x, const int32_t *y,
                          const hood_fit_options *base, hood_fit_options *opts)
{
    memset(fw, 0, sizeof *fw);
    fw->workers = P;
    hood_model *probe = make_model();
    fw->capacity = hood_model_num_params(probe) + HOOD__GRAD_EXTRAS;
    hood_model_free(probe);
    ck_assert_int_eq(pthread_barrier_init(&fw->barrier, NULL, (unsigned)P), 0);
    for (size_t r = 0; r < P; r++) {
        fw->slot[r] = malloc(fw->capacity * sizeof(float));
        ck_assert(fw->slot[r] != NULL);
        opts[r] = *base;
        ws[r] = (worker){.world = fw, .rank = r, .opts = &opts[r]};
        ws[r].shard = (hood_shard){
            .global_samples = G, .first = first[r], .allreduce = fake_allreduce, .user = &ws[r]};
        opts[r].shard = &ws[r].shard;
        ws[r].model = make_model();
        ws[r].data = columns(x, y, first[r], len[r]);
    }
}

/* Fits every worker, each on its own thread, and waits for all. */
static void launch_workers(worker *ws, size_t P)
{
    pthread_t tid[MAX_WORKERS];
    for (size_t r = 0; r < P; r++)
        ck_assert_int_eq(pthread_create(&tid[r], NULL, run_worker, &ws[r]), 0);
    for (size_t r = 0; r < P; r++)
        pthread_join(tid[r], NULL);
}

static void run_workers(fake_world *fw, worker *ws, size_t P, const size_t *first,
                        const size_t *len, const float *x, const int32_t *y,
                        const hood_fit_options *base, hood_fit_options *opts)
{
    setup_workers(fw, ws, P, first, len, x, y, base, opts);
    launch_workers(ws, P);
}

static void free_workers(fake_world *fw, worker *ws, size_t P)
{
    for (size_t r = 0; r < P; r++) {
        hood_model_free(ws[r].model);
        hood_dataset_free(ws[r].data);
        free(fw->slot[r]);
    }
    pthread_barrier_destroy(&fw->barrier);
}

static void base_options(hood_fit_options *o)
{
    hood_fit_options_init(o);
    o->epochs = 4;
    o->batch_size = 8;
    o->seed = 99;
    o->validation_split = 0.25;
}

/* Largest |a - b| / max(|b|, 0.01) over the parameter arena: relative, except that weights
 * below 0.01 in magnitude are held to 1e-7 absolute (a float rounding unit of the O(1)
 * weights; summation order alone moves a near-zero weight by more than 1e-5 of itself). */
static double max_rel(const hood_model *a, const hood_model *b)
{
    double worst = 0.0;
    for (size_t i = 0; i < a->num_params; i++) {
        double d = fabs((double)a->params[i] - (double)b->params[i]);
        double s = fmax(fabs((double)b->params[i]), 1e-2);
        if (d / s > worst)
            worst = d / s;
    }
    return worst;
}

/* One process's fit vs. the shard layout: same weights within 1e-5 relative on every worker,
 * every worker with the same (bit-identical) weights and the same history as one process. */
static void check_layout(size_t P, const size_t *first, const size_t *len)
{
    float x[G * D];
    int32_t y[G];
    make_data(x, y, G);
    hood_fit_options base;
    base_options(&base);

    hood_model *single = make_model();
    hood_dataset *all = columns(x, y, 0, G);
    ck_assert_int_eq(hood_model_fit(single, all, &base), HOOD_OK);

    fake_world fw;
    worker ws[MAX_WORKERS];
    hood_fit_options opts[MAX_WORKERS];
    run_workers(&fw, ws, P, first, len, x, y, &base, opts);
    for (size_t r = 0; r < P; r++) {
        ck_assert_msg(ws[r].status == HOOD_OK, "worker %zu: %s", r, ws[r].message);
        double rel = max_rel(ws[r].model, single);
        ck_assert_msg(rel < 1e-5, "worker %zu of %zu: weights differ by %g relative", r, P, rel);
        ck_assert_int_eq(memcmp(ws[r].model->params, ws[0].model->params,
                                ws[0].model->num_params * sizeof(float)),
                         0);
        ck_assert_uint_eq(hood_model_history_length(ws[r].model), 4);
        for (size_t e = 0; e < 4; e++) {
            const hood_epoch_log *a = hood_model_history(ws[r].model, e);
            const hood_epoch_log *b = hood_model_history(single, e);
            ck_assert(a->has_validation && b->has_validation);
            ck_assert_double_eq_tol(a->loss, b->loss, 1e-5 * b->loss);
            ck_assert_double_eq_tol(a->val_loss, b->val_loss, 1e-5 * b->val_loss);
            ck_assert_double_eq(a->accuracy, b->accuracy);
            ck_assert_double_eq(a->val_accuracy, b->val_accuracy);
            ck_assert_uint_eq(a->samples, b->samples);
        }
    }
    /* the run moved the weights at all (a fit that trained nothing would also "match") */
    hood_model *fresh = make_model();
    ck_assert(max_rel(fresh, single) > 1e-2);
    hood_model_free(fresh);
    free_workers(&fw, ws, P);
    hood_model_free(single);
    hood_dataset_free(all);
}

static void even_layout(size_t P)
{
    size_t first[MAX_WORKERS], len[MAX_WORKERS];
    for (size_t r = 0; r < P; r++)
        hood_shard_range(G, r, P, &first[r], &len[r]);
    check_layout(P, first, len);
}

START_TEST(two_workers_equal_one_process)
{
    even_layout(2);
}
END_TEST

START_TEST(three_uneven_workers_equal_one_process)
{
    size_t first, len; /* 53 in 3: 17, 18, 18 */
    hood_shard_range(G, 0, 3, &first, &len);
    ck_assert_uint_eq(len, 17);
    even_layout(3);
}
END_TEST

/* Worker 0 holds 3 samples (most batches have none of them), worker 1 holds 36, worker 2 the
 * rest of the training samples and some validation ones, worker 3 only validation samples
 * (G = 53, split 0.25: training is [0, 40), validation [40, 53)). */
START_TEST(workers_without_samples_of_a_batch)
{
    size_t first[4] = {0, 3, 39, 45}, len[4] = {3, 36, 6, 8};
    check_layout(4, first, len);
}
END_TEST

START_TEST(evaluate_shard_equals_evaluate)
{
    float x[G * D];
    int32_t y[G];
    make_data(x, y, G);
    hood_model *m = make_model();
    hood_dataset *all = columns(x, y, 0, G);
    double loss1, acc1;
    ck_assert_int_eq(hood_model_evaluate(m, all, 8, &loss1, &acc1), HOOD_OK);
    /* one worker through the shard path: same sums, one all-reduce of itself */
    fake_world fw = {.workers = 1, .capacity = 64};
    ck_assert_int_eq(pthread_barrier_init(&fw.barrier, NULL, 1), 0);
    float slot[64];
    fw.slot[0] = slot;
    worker w = {.world = &fw, .rank = 0};
    hood_shard shard = {.global_samples = G, .allreduce = fake_allreduce, .user = &w};
    double loss2, acc2;
    ck_assert_int_eq(hood_model_evaluate_shard(m, all, 8, &shard, &loss2, &acc2), HOOD_OK);
    ck_assert_double_eq_tol(loss2, loss1, 1e-7 * loss1);
    ck_assert_double_eq(acc2, acc1);
    /* a shard claiming more samples than the workers hold is refused */
    shard.global_samples = G + 1;
    ck_assert_int_eq(hood_model_evaluate_shard(m, all, 8, &shard, &loss2, &acc2), HOOD_EMPI);
    pthread_barrier_destroy(&fw.barrier);
    hood_model_free(m);
    hood_dataset_free(all);
}
END_TEST

START_TEST(allreduce_failure_stops_fit)
{
    float x[G * D];
    int32_t y[G];
    make_data(x, y, G);
    hood_fit_options base;
    base_options(&base);
    fake_world fw;
    worker ws[2];
    hood_fit_options opts[2];
    size_t first[2] = {0, 26}, len[2] = {26, 27};
    setup_workers(&fw, ws, 2, first, len, x, y, &base, opts);
    /* call 1 is the handshake, 2 and 3 the first two steps: the third call fails everywhere */
    fw.fail_at_call = 3;
    launch_workers(ws, 2);
    for (size_t r = 0; r < 2; r++) {
        ck_assert_int_eq(ws[r].status, HOOD_EIO);
        ck_assert_msg(strstr(ws[r].message, "all-reduce") != NULL, "%s", ws[r].message);
        /* one step was applied: the position says so, and no epoch finished */
        ck_assert_uint_eq(ws[r].model->position.batch, 1);
        ck_assert_uint_eq(hood_model_epochs_done(ws[r].model), 0);
    }
    free_workers(&fw, ws, 2);
}
END_TEST

/* Worker 1 holds a sample whose hidden layer overflows to NaN: its loss is NaN at the batch holding
 * it; both workers must stop at that same step with HOOD_EDIVERGED, neither waiting for the other.
 */
START_TEST(divergence_on_one_worker_stops_all)
{
    float x[G * D];
    int32_t y[G];
    make_data(x, y, G);
    /* linear hidden units with every weight 10: that sample's hidden values are inf, and the
     * output kernel's zeros and opposite signs make its logits NaN; the other samples' hidden
     * values stay below 100 in magnitude */
    x[30 * D + 0] = 3e38f;
    hood_fit_options base;
    base_options(&base);
    base.validation_split = 0.0;
    size_t first[2] = {0, 26}, len[2] = {26, 27};
    fake_world fw;
    worker ws[2];
    hood_fit_options opts[2];
    /* fixed weights so the overflow does not depend on the initialiser */
    float kernel[D * 7], kernel2[7 * CLASSES];
    for (size_t i = 0; i < D * 7; i++)
        kernel[i] = 10.0f;
    for (size_t i = 0; i < 7 * CLASSES; i++)
        kernel2[i] = (float)(i % CLASSES) - 1.0f;
    setup_workers(&fw, ws, 2, first, len, x, y, &base, opts);
    for (size_t r = 0; r < 2; r++) {
        hood_model_free(ws[r].model);
        ws[r].model = make_model_act(HOOD_ACT_LINEAR);
        ck_assert_int_eq(hood_model_set_kernel(ws[r].model, 0, kernel), HOOD_OK);
        ck_assert_int_eq(hood_model_set_kernel(ws[r].model, 1, kernel2), HOOD_OK);
    }
    launch_workers(ws, 2);
    for (size_t r = 0; r < 2; r++)
        ck_assert_msg(ws[r].status == HOOD_EDIVERGED, "worker %zu: %d %s", r, ws[r].status,
                      ws[r].message);
    ck_assert_msg(strstr(ws[1].message, "this worker") != NULL, "%s", ws[1].message);
    ck_assert_msg(strstr(ws[0].message, "another worker") != NULL, "%s", ws[0].message);
    /* same step on both: same position, same weights */
    ck_assert_uint_eq(ws[0].model->position.batch, ws[1].model->position.batch);
    ck_assert_int_eq(
        memcmp(ws[0].model->params, ws[1].model->params, ws[0].model->num_params * sizeof(float)),
        0);
    free_workers(&fw, ws, 2);
}
END_TEST

/* A worker whose own checks fail (wrong feature count) returns its error; the others learn of
 * it in the handshake and return HOOD_EMPI instead of waiting. Shards that do not tile the data
 * are refused on every worker. */
START_TEST(failed_check_and_bad_tiling_stop_all)
{
    float x[G * D];
    int32_t y[G];
    make_data(x, y, G);
    hood_fit_options base;
    base_options(&base);
    fake_world fw;
    worker ws[3];
    hood_fit_options opts[3];
    size_t first[3], len[3];
    for (size_t r = 0; r < 3; r++)
        hood_shard_range(G, r, 3, &first[r], &len[r]);
    /* a NaN feature on worker 2 only */
    x[50 * D] = NAN;
    run_workers(&fw, ws, 3, first, len, x, y, &base, opts);
    ck_assert_int_eq(ws[0].status, HOOD_EMPI);
    ck_assert_int_eq(ws[1].status, HOOD_EMPI);
    ck_assert_msg(ws[2].status == HOOD_EDATA, "%d %s", ws[2].status, ws[2].message);
    ck_assert(strstr(ws[0].message, "another worker") != NULL);
    free_workers(&fw, ws, 3);
    make_data(x, y, G);

    /* two workers both claiming [0, 26): 52 samples held, 53 said */
    size_t f2[2] = {0, 0}, l2[2] = {26, 26};
    run_workers(&fw, ws, 2, f2, l2, x, y, &base, opts);
    for (size_t r = 0; r < 2; r++)
        ck_assert_msg(ws[r].status == HOOD_EMPI, "%d %s", ws[r].status, ws[r].message);
    free_workers(&fw, ws, 2);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("shard");
    TCase *tc = tcase_create("shard");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, two_workers_equal_one_process);
    tcase_add_test(tc, three_uneven_workers_equal_one_process);
    tcase_add_test(tc, workers_without_samples_of_a_batch);
    tcase_add_test(tc, evaluate_shard_equals_evaluate);
    tcase_add_test(tc, allreduce_failure_stops_fit);
    tcase_add_test(tc, divergence_on_one_worker_stops_all);
    tcase_add_test(tc, failed_check_and_bad_tiling_stop_all);
    suite_add_tcase(s, tc);
    return s;
}
