/* test_train.c — fit / evaluate / predict: learning (XOR, a separable set), batch-size
 * invariance of the gradient, determinism, batching, validation, early stopping, callbacks and
 * resume, the divergence guard, and every error fit reports. */
#include "check_main.h"

#include "error.h"
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static hood_dataset *dataset(size_t d, size_t n, const float *x, const int32_t *labels,
                             hood_label_mode mode, size_t classes)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, d, n), HOOD_OK);
    memcpy(hood_dataset_x_mutable(ds), x, d * n * sizeof(float));
    if (labels != NULL)
        ck_assert_int_eq(hood_dataset_set_labels(ds, mode, labels, classes), HOOD_OK);
    return ds;
}

static hood_model *model2(size_t in, size_t hidden, hood_activation hact, size_t out,
                          hood_activation oact, hood_loss loss, hood_optimizer_kind kind, float lr,
                          uint64_t seed)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, in), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, hidden, hact, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, out, oact, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, kind);
    if (lr > 0.0f)
        opt.learning_rate = lr;
    ck_assert_int_eq(hood_model_compile(m, loss, &opt, seed), HOOD_OK);
    return m;
}

/* A 3-class problem of n samples in 4 features: class = which of three directions the point
 * leans to, with a deterministic pseudo-random spread. */
static hood_dataset *blobs(size_t n)
{
    float *x = malloc(4 * n * sizeof(float));
    int32_t *y = malloc(n * sizeof(int32_t));
    ck_assert(x != NULL && y != NULL);
    for (size_t j = 0; j < n; j++) {
        int c = (int)(j % 3);
        y[j] = c;
        for (int i = 0; i < 4; i++)
            x[j * 4 + i] = (i == c ? 1.5f : 0.0f) + 0.6f * (float)sin(0.37 * (double)(j * 4 + i));
    }
    hood_dataset *ds = dataset(4, n, x, y, HOOD_LABELS_INT, 3);
    free(x);
    free(y);
    return ds;
}

static hood_model *blob_model(hood_optimizer_kind kind, uint64_t seed)
{
    return model2(4, 6, HOOD_ACT_TANH, 3, HOOD_ACT_SOFTMAX,
                  HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, kind, 0.0f, seed);
}

START_TEST(xor_reaches_full_accuracy)
{
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const int32_t y[4] = {0, 1, 1, 0};
    hood_dataset *ds = dataset(2, 4, x, y, HOOD_LABELS_BINARY, 2);
    hood_model *m = model2(2, 8, HOOD_ACT_TANH, 1, HOOD_ACT_SIGMOID, HOOD_LOSS_BINARY_CROSSENTROPY,
                           HOOD_OPT_ADAM, 0.05f, 1);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 300;
    fo.batch_size = 4;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    double loss, acc;
    ck_assert_int_eq(hood_model_evaluate(m, ds, 0, &loss, &acc), HOOD_OK);
    ck_assert_double_eq(acc, 1.0);
    ck_assert_double_lt(loss, 0.1);
    ck_assert_uint_eq(hood_model_history_length(m), 300);
    ck_assert_double_eq(hood_model_history(m, 299)->accuracy, 1.0);
    float out[4];
    ck_assert_int_eq(hood_model_predict(m, x, 4, 3, out), HOOD_OK);
    ck_assert(out[0] < 0.5f && out[1] > 0.5f && out[2] > 0.5f && out[3] < 0.5f);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(separable_reaches_99_percent)
{
    /* 400 points on a sin/cos spiral-free cloud; label = x0 + 2 x1 > 0.1, points within 0.05 of
     * the line pushed off it so the classes are separable with a margin. */
    enum { N = 400 };
    float x[2 * N];
    int32_t y[N];
    for (int j = 0; j < N; j++) {
        float a = (float)sin(1.3 * j), b = (float)cos(0.7 * j + 0.2);
        float s = a + 2.0f * b - 0.1f;
        if (fabsf(s) < 0.05f)
            b += s >= 0 ? 0.05f : -0.05f;
        x[2 * j] = a;
        x[2 * j + 1] = b;
        y[j] = a + 2.0f * b - 0.1f > 0.0f;
    }
    hood_dataset *ds = dataset(2, N, x, y, HOOD_LABELS_BINARY, 2);
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, 2), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 1, HOOD_ACT_SIGMOID, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    opt.learning_rate = 0.05f;
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &opt, 3), HOOD_OK);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 60;
    fo.batch_size = 16;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    double acc;
    ck_assert_int_eq(hood_model_evaluate(m, ds, 64, NULL, &acc), HOOD_OK);
    ck_assert_double_ge(acc, 0.99);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(gradient_is_batch_size_invariant)
{
    /* mean gradient over 10 samples == sum over batches (4, 4, 2) of size * batch gradient / 10 */
    hood_dataset *ds = blobs(10);
    hood_model *m = blob_model(HOOD_OPT_SGD, 4);
    const float *X = hood_dataset_x(ds), *Y = hood_dataset_labels(ds);
    size_t n = m->num_params;
    double full_loss = 0.0, split_loss = 0.0;
    ck_assert_int_eq(hood__model_batch_gradient(m, X, Y, 1, 10, 10.0f, &full_loss), HOOD_OK);
    double *full = malloc(n * sizeof(double)), *sum = calloc(n, sizeof(double));
    ck_assert(full != NULL && sum != NULL);
    for (size_t i = 0; i < n; i++)
        full[i] = m->grads[i];
    const size_t starts[3] = {0, 4, 8}, sizes[3] = {4, 4, 2};
    for (int b = 0; b < 3; b++) {
        ck_assert_int_eq(hood__model_batch_gradient(m, X + starts[b] * 4, Y + starts[b], 1,
                                                    sizes[b], (float)sizes[b], &split_loss),
                         HOOD_OK);
        for (size_t i = 0; i < n; i++)
            sum[i] += (double)sizes[b] * m->grads[i] / 10.0;
    }
    double norm = 0.0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(fabs(full[i] - sum[i]) <= 1e-6 + 1e-5 * fabs(full[i]), "param %zu: %g vs %g",
                      i, full[i], sum[i]);
        norm += fabs(full[i]);
    }
    ck_assert_double_gt(norm, 1e-3);
    ck_assert_double_le(fabs(full_loss - split_loss), 1e-5 * full_loss);
    free(full);
    free(sum);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

static hood_model *fit_blobs(hood_dataset *ds, uint64_t compile_seed, uint64_t shuffle_seed,
                             hood_optimizer_kind kind)
{
    hood_model *m = blob_model(kind, compile_seed);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 3;
    fo.batch_size = 4;
    fo.seed = shuffle_seed;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    return m;
}

START_TEST(fit_is_deterministic)
{
    hood_dataset *ds = blobs(30);
    hood_model *a = fit_blobs(ds, 1, 7, HOOD_OPT_ADAM), *b = fit_blobs(ds, 1, 7, HOOD_OPT_ADAM);
    hood_model *c = fit_blobs(ds, 2, 7, HOOD_OPT_ADAM), *d = fit_blobs(ds, 1, 8, HOOD_OPT_ADAM);
    size_t bytes = a->num_params * sizeof(float);
    ck_assert_int_eq(memcmp(a->params, b->params, bytes), 0);
    ck_assert_int_eq(memcmp(a->opt_state, b->opt_state, 2 * bytes), 0);
    ck_assert_int_ne(memcmp(a->params, c->params, bytes), 0); /* other initial weights */
    ck_assert_int_ne(memcmp(a->params, d->params, bytes), 0); /* other shuffles */
    ck_assert_double_eq(hood_model_history(a, 2)->loss, hood_model_history(b, 2)->loss);
    ck_assert_uint_eq(a->opt_step, 3 * 8); /* ceil(30 / 4) = 8 updates per epoch */
    hood_model_free(a);
    hood_model_free(b);
    hood_model_free(c);
    hood_model_free(d);
    hood_dataset_free(ds);
}
END_TEST

typedef struct batch_record {
    size_t calls, num_batches, last_batch;
    size_t stop_epoch, stop_batch; /* stop when (epoch, batch) matches; SIZE_MAX never */
    float *snapshot;               /* weights after each batch */
    const hood_model *model;
} batch_record;

static int on_batch(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                    double accuracy)
{
    batch_record *r = user;
    r->calls++;
    r->num_batches = num_batches;
    r->last_batch = batch;
    ck_assert(isfinite(loss) && accuracy >= 0.0 && accuracy <= 1.0);
    if (r->snapshot != NULL)
        memcpy(r->snapshot, r->model->params, r->model->num_params * sizeof(float));
    return epoch == r->stop_epoch && batch == r->stop_batch;
}

START_TEST(partial_last_batch_is_kept)
{
    hood_dataset *ds = blobs(10);
    hood_model *m = blob_model(HOOD_OPT_SGD, 1);
    batch_record rec = {.stop_epoch = SIZE_MAX, .stop_batch = SIZE_MAX};
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.batch_size = 4;
    fo.on_batch_end = on_batch;
    fo.user = &rec;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    ck_assert_uint_eq(rec.calls, 3); /* 4 + 4 + 2 */
    ck_assert_uint_eq(rec.num_batches, 3);
    ck_assert_uint_eq(rec.last_batch, 2);
    const hood_epoch_log *log = hood_model_history(m, 0);
    ck_assert_uint_eq(log->samples, 10);
    ck_assert_uint_eq(log->epoch, 0);
    ck_assert_uint_eq(m->opt_step, 3);
    ck_assert(!log->has_validation);
    /* the phases are timed and fit inside the epoch */
    ck_assert(log->gather_seconds >= 0 && log->forward_seconds > 0 && log->backward_seconds > 0 &&
              log->update_seconds >= 0);
    ck_assert_double_ge(log->seconds, log->gather_seconds + log->forward_seconds +
                                          log->backward_seconds + log->update_seconds);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(epoch_loss_is_sample_weighted_mean)
{
    /* lr tiny enough that the weights barely move: the epoch's loss is the mean of the 10
     * per-sample losses, whatever the batching (4, 4, 2 weighted by size). */
    hood_dataset *ds = blobs(10);
    hood_model *m = model2(4, 6, HOOD_ACT_TANH, 3, HOOD_ACT_SOFTMAX,
                           HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_OPT_SGD, 1e-9f, 9);
    double before;
    ck_assert_int_eq(hood_model_evaluate(m, ds, 3, &before, NULL), HOOD_OK);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.batch_size = 4;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    ck_assert_double_le(fabs(hood_model_history(m, 0)->loss - before), 1e-6);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

static void expect_fit_error(hood_model *m, const hood_dataset *ds, const hood_fit_options *fo,
                             hood_status status, const char *words)
{
    hood__clear_error();
    ck_assert_int_eq(hood_model_fit(m, ds, fo), status);
    ck_assert_msg(strstr(hood_last_error(), words) != NULL, "'%s' lacks '%s'", hood_last_error(),
                  words);
}

START_TEST(fit_errors_are_reported)
{
    hood_dataset *ds = blobs(12);
    hood_model *m = blob_model(HOOD_OPT_SGD, 1);
    hood_fit_options fo;
    hood_fit_options_init(&fo);

    /* dimension mismatch: 5 features for a 4-input model */
    float x5[10] = {0};
    int32_t y2[2] = {0, 1};
    hood_dataset *wide = dataset(5, 2, x5, y2, HOOD_LABELS_INT, 3);
    expect_fit_error(m, wide, &fo, HOOD_ESHAPE, "dimension mismatch");
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "5 features"));

    /* zero sizes */
    fo.batch_size = 0;
    expect_fit_error(m, ds, &fo, HOOD_EINVAL, "batch_size");
    hood_fit_options_init(&fo);
    fo.epochs = 0;
    expect_fit_error(m, ds, &fo, HOOD_EINVAL, "epochs");
    hood_fit_options_init(&fo);
    fo.validation_split = 1.0;
    expect_fit_error(m, ds, &fo, HOOD_EINVAL, "validation_split");
    fo.validation_split = 0.01; /* ceil(12 * 0.99) = 12: nothing left to validate */
    expect_fit_error(m, ds, &fo, HOOD_EINVAL, "validation");
    hood_fit_options_init(&fo);

    /* empty data cannot even be made; predict of 0 samples is refused */
    hood_dataset *empty = NULL;
    ck_assert_int_eq(hood_dataset_create(&empty, 4, 0), HOOD_EINVAL);
    float out[3];
    ck_assert_int_eq(hood_model_predict(m, x5, 0, 0, out), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "no samples"));

    /* NaN / Inf in the inputs */
    float xn[8] = {0, 1, 2, 3, 4, NAN, 6, 7};
    hood_dataset *nan_ds = dataset(4, 2, xn, y2, HOOD_LABELS_INT, 3);
    expect_fit_error(m, nan_ds, &fo, HOOD_EDATA, "NaN");
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "sample 1"));
    xn[5] = INFINITY;
    ck_assert_int_eq(hood_model_predict(m, xn, 2, 0, out), HOOD_EDATA);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "not finite"));

    /* no labels */
    hood_dataset *unlabelled = dataset(4, 2, x5, NULL, HOOD_LABELS_NONE, 0);
    expect_fit_error(m, unlabelled, &fo, HOOD_EINVAL, "no labels");

    /* labels out of range for the output layer, and one-hot labels for sparse CCE */
    int32_t y5[2] = {0, 4};
    hood_dataset *five = dataset(4, 2, x5, y5, HOOD_LABELS_INT, 5);
    ck_assert_int_ne(hood_model_fit(m, five, &fo), HOOD_OK);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "class"));
    hood_dataset *hot = dataset(4, 2, x5, y2, HOOD_LABELS_CATEGORICAL, 3);
    expect_fit_error(m, hot, &fo, HOOD_ESHAPE, "integer labels");

    /* an output layer that does not fit the loss: BCE over 3 softmax units with class labels */
    hood_model *bce = model2(4, 6, HOOD_ACT_TANH, 3, HOOD_ACT_SOFTMAX,
                             HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_OPT_SGD, 0.0f, 1);
    expect_fit_error(bce, ds, &fo, HOOD_ESHAPE, "binary_crossentropy");

    /* not compiled */
    hood_model *raw = NULL;
    ck_assert_int_eq(hood_model_create(&raw, 4), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(raw, 3, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    expect_fit_error(raw, ds, &fo, HOOD_EINVAL, "not compiled");
    ck_assert_int_eq(hood_model_evaluate(raw, ds, 0, NULL, NULL), HOOD_EINVAL);
    ck_assert_int_eq(hood_model_predict(raw, x5, 1, 0, out), HOOD_EINVAL);

    /* nothing trained through all of that */
    ck_assert_uint_eq(hood_model_history_length(m), 0);
    ck_assert_uint_eq(m->opt_step, 0);
    hood_model_free(raw);
    hood_model_free(bce);
    hood_dataset_free(hot);
    hood_dataset_free(five);
    hood_dataset_free(unlabelled);
    hood_dataset_free(nan_ds);
    hood_dataset_free(wide);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(validation_split_takes_the_last_samples)
{
    /* 10 samples, split 0.3: Keras trains on ceil(10 * 0.7) = 7, validates on the last 3
     * (before shuffling). val_loss equals evaluate on a dataset of exactly those 3 columns. */
    hood_dataset *ds = blobs(10);
    hood_model *m = blob_model(HOOD_OPT_ADAM, 2);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.batch_size = 2;
    fo.validation_split = 0.3;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    const hood_epoch_log *log = hood_model_history(m, 0);
    ck_assert_uint_eq(log->samples, 7);
    ck_assert(log->has_validation);
    hood_dataset *tail = dataset(4, 3, hood_dataset_x(ds) + 7 * 4, NULL, HOOD_LABELS_NONE, 0);
    int32_t y[3];
    for (int j = 0; j < 3; j++)
        y[j] = (int32_t)hood_dataset_labels(ds)[7 + j];
    ck_assert_int_eq(hood_dataset_set_labels(tail, HOOD_LABELS_INT, y, 3), HOOD_OK);
    double loss, acc;
    ck_assert_int_eq(hood_model_evaluate(m, tail, 2, &loss, &acc), HOOD_OK);
    ck_assert_double_eq(loss, log->val_loss);
    ck_assert_double_eq(acc, log->val_accuracy);

    /* explicit validation data wins over the split: all 10 samples train */
    hood_model *m2 = blob_model(HOOD_OPT_ADAM, 2);
    fo.validation_data = tail;
    ck_assert_int_eq(hood_model_fit(m2, ds, &fo), HOOD_OK);
    ck_assert_uint_eq(hood_model_history(m2, 0)->samples, 10);
    ck_assert_int_eq(hood_model_evaluate(m2, tail, 2, &loss, NULL), HOOD_OK);
    ck_assert_double_eq(loss, hood_model_history(m2, 0)->val_loss);
    hood_model_free(m2);
    hood_dataset_free(tail);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

typedef struct epoch_record {
    size_t calls, stop_after;
    float *first_epoch_weights; /* weights at the end of the fit's first epoch */
} epoch_record;

static int on_epoch(void *user, hood_model *model, const hood_epoch_log *log)
{
    epoch_record *r = user;
    if (r->calls == 0 && r->first_epoch_weights != NULL)
        memcpy(r->first_epoch_weights, model->params, model->num_params * sizeof(float));
    r->calls++;
    ck_assert_uint_eq(log->epoch + 1, hood_model_history_length(model));
    return r->calls == r->stop_after;
}

START_TEST(early_stopping_stops_and_restores)
{
    /* min_delta 10 on the loss: only the first epoch counts as an improvement (from +inf), so
     * with patience 2 the fit stops after its third epoch and, at the end of the fit, goes back
     * to the first epoch's weights. */
    hood_dataset *ds = blobs(12);
    hood_model *m = blob_model(HOOD_OPT_ADAM, 3);
    float *first = malloc(m->num_params * sizeof(float));
    ck_assert_ptr_nonnull(first);
    epoch_record rec = {.stop_after = SIZE_MAX, .first_epoch_weights = first};
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 20;
    fo.batch_size = 4;
    fo.early_stopping = true;
    fo.monitor = HOOD_MONITOR_LOSS;
    fo.patience = 2;
    fo.min_delta = 10.0;
    fo.restore_best_weights = true;
    fo.on_epoch_end = on_epoch;
    fo.user = &rec;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    ck_assert_uint_eq(hood_model_history_length(m), 3);
    ck_assert_uint_eq(hood_model_epochs_done(m), 3);
    ck_assert_int_eq(memcmp(first, m->params, m->num_params * sizeof(float)), 0);
    /* without restore the last epoch's weights stay */
    hood_model *k = blob_model(HOOD_OPT_ADAM, 3);
    fo.restore_best_weights = false;
    rec.calls = 0;
    ck_assert_int_eq(hood_model_fit(k, ds, &fo), HOOD_OK);
    ck_assert_uint_eq(hood_model_history_length(k), 3);
    ck_assert_int_ne(memcmp(first, k->params, k->num_params * sizeof(float)), 0);
    /* Keras 3 restores at the end of training even when it never stopped early: patience 100
     * runs all 4 epochs, then the first (best) epoch's weights come back. */
    hood_model *r = blob_model(HOOD_OPT_ADAM, 3);
    fo.restore_best_weights = true;
    fo.patience = 100;
    fo.epochs = 4;
    rec.calls = 0;
    ck_assert_int_eq(hood_model_fit(r, ds, &fo), HOOD_OK);
    ck_assert_uint_eq(hood_model_history_length(r), 4);
    ck_assert_int_eq(memcmp(first, r->params, r->num_params * sizeof(float)), 0);
    hood_model_free(r);
    free(first);
    hood_model_free(k);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(early_stopping_waits_while_improving)
{
    /* full-batch gradient descent on a small problem: the loss falls every epoch, so even
     * patience 0 runs all epochs; val_loss is monitored and falls back to loss (no validation). */
    hood_dataset *ds = blobs(12);
    hood_model *m = blob_model(HOOD_OPT_SGD, 3);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 8;
    fo.batch_size = 12;
    fo.early_stopping = true;
    fo.patience = 0;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    ck_assert_uint_eq(hood_model_history_length(m), 8);
    for (size_t e = 1; e < 8; e++)
        ck_assert_double_lt(hood_model_history(m, e)->loss, hood_model_history(m, e - 1)->loss);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(epoch_callback_stops_cleanly)
{
    hood_dataset *ds = blobs(12);
    hood_model *m = blob_model(HOOD_OPT_SGD, 3);
    epoch_record rec = {.stop_after = 2};
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 10;
    fo.on_epoch_end = on_epoch;
    fo.user = &rec;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    ck_assert_uint_eq(rec.calls, 2);
    ck_assert_uint_eq(hood_model_history_length(m), 2);
    ck_assert_uint_eq(hood_model_epochs_done(m), 2);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(batch_stop_then_continue_is_identical)
{
    /* Uninterrupted: 3 epochs of 3 batches. Interrupted: stop after epoch 1's second batch
     * (HOOD_ESTOPPED), then continue for the 2 remaining epochs: same weights, optimizer state
     * and history, bit for bit. */
    hood_dataset *ds = blobs(10);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 3;
    fo.batch_size = 4;
    fo.seed = 99;
    fo.validation_split = 0.2;
    hood_model *whole = blob_model(HOOD_OPT_ADAM, 5);
    ck_assert_int_eq(hood_model_fit(whole, ds, &fo), HOOD_OK);

    hood_model *parts = blob_model(HOOD_OPT_ADAM, 5);
    batch_record rec = {.stop_epoch = 1, .stop_batch = 1};
    fo.on_batch_end = on_batch;
    fo.user = &rec;
    ck_assert_int_eq(hood_model_fit(parts, ds, &fo), HOOD_ESTOPPED);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "epoch 2, batch 2"));
    ck_assert_uint_eq(hood_model_epochs_done(parts), 1);
    ck_assert_uint_eq(hood_model_history_length(parts), 1);
    ck_assert_uint_eq(parts->position.batch, 2);

    /* a different batch size cannot continue a stopped epoch */
    fo.batch_size = 3;
    expect_fit_error(parts, ds, &fo, HOOD_EINVAL, "same settings");
    fo.batch_size = 4;
    fo.epochs = 2;
    rec.stop_epoch = SIZE_MAX;
    ck_assert_int_eq(hood_model_fit(parts, ds, &fo), HOOD_OK);
    ck_assert_uint_eq(hood_model_epochs_done(parts), 3);
    ck_assert_int_eq(memcmp(whole->params, parts->params, whole->num_params * sizeof(float)), 0);
    ck_assert_int_eq(
        memcmp(whole->opt_state, parts->opt_state, 2 * whole->num_params * sizeof(float)), 0);
    ck_assert_uint_eq(whole->opt_step, parts->opt_step);
    ck_assert_uint_eq(hood_model_history_length(parts), 3);
    for (size_t e = 0; e < 3; e++) {
        ck_assert_double_eq(hood_model_history(whole, e)->loss, hood_model_history(parts, e)->loss);
        ck_assert_double_eq(hood_model_history(whole, e)->val_loss,
                            hood_model_history(parts, e)->val_loss);
        ck_assert_uint_eq(hood_model_history(parts, e)->samples, 8);
    }
    hood_model_free(whole);
    hood_model_free(parts);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(divergence_is_caught_and_rolled_back)
{
    /* MSE on a linear output with lr 1e15: the weights blow up within a few batches. fit
     * returns HOOD_EDIVERGED naming epoch and batch, and the weights are those after the last
     * good batch (the callback's snapshot), all finite. */
    enum { N = 16 };
    float x[2 * N];
    float y[N];
    for (int j = 0; j < N; j++) {
        x[2 * j] = (float)j;
        x[2 * j + 1] = (float)(N - j);
        y[j] = 100.0f * (float)j;
    }
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 2, N), HOOD_OK);
    memcpy(hood_dataset_x_mutable(ds), x, sizeof x);
    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_CATEGORICAL, y, 1, 0), HOOD_OK);
    hood_model *m = model2(2, 4, HOOD_ACT_LINEAR, 1, HOOD_ACT_LINEAR, HOOD_LOSS_MEAN_SQUARED_ERROR,
                           HOOD_OPT_SGD, 1e15f, 1);
    float *snap = malloc(m->num_params * sizeof(float));
    ck_assert_ptr_nonnull(snap);
    memcpy(snap, m->params, m->num_params * sizeof(float));
    batch_record rec = {
        .stop_epoch = SIZE_MAX, .stop_batch = SIZE_MAX, .snapshot = snap, .model = m};
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 50;
    fo.batch_size = 4;
    fo.on_batch_end = on_batch;
    fo.user = &rec;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_EDIVERGED);
    const char *msg = hood_last_error();
    ck_assert_ptr_nonnull(strstr(msg, "training diverged at epoch 1, batch"));
    ck_assert_ptr_nonnull(strstr(msg, "lower learning rate"));
    ck_assert_int_eq(memcmp(snap, m->params, m->num_params * sizeof(float)), 0);
    ck_assert(hood__model_params_finite(m));
    free(snap);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(evaluate_and_predict_batching)
{
    hood_dataset *ds = blobs(11);
    hood_model *m = blob_model(HOOD_OPT_SGD, 6);
    double l1, l2, a1, a2;
    ck_assert_int_eq(hood_model_evaluate(m, ds, 3, &l1, &a1), HOOD_OK);
    ck_assert_int_eq(hood_model_evaluate(m, ds, 100, &l2, &a2), HOOD_OK);
    ck_assert_double_le(fabs(l1 - l2), 1e-6 * l2);
    ck_assert_double_eq(a1, a2);
    float p1[33], p2[33];
    ck_assert_int_eq(hood_model_predict(m, hood_dataset_x(ds), 11, 4, p1), HOOD_OK);
    ck_assert_int_eq(hood_model_predict(m, hood_dataset_x(ds), 11, 0, p2), HOOD_OK);
    double loss = 0.0;
    for (int j = 0; j < 11; j++) {
        float colsum = p1[3 * j] + p1[3 * j + 1] + p1[3 * j + 2];
        ck_assert_double_le(fabs(colsum - 1.0), 1e-5); /* softmax columns */
        for (int i = 0; i < 3; i++)
            ck_assert_double_le(fabs(p1[3 * j + i] - p2[3 * j + i]), 1e-6);
        loss -= log(p1[3 * j + (int)hood_dataset_labels(ds)[j]]);
    }
    /* evaluate's loss is the mean over samples of -log p(label) */
    ck_assert_double_le(fabs(loss / 11.0 - l1), 1e-5);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(threads_setting_keeps_results)
{
    /* 2 BLAS threads give the same training result as 1 on these shapes (hood picks the split;
     * determinism is promised per thread count, so compare within a tolerance). */
    hood_dataset *ds = blobs(30);
    hood_model *a = blob_model(HOOD_OPT_SGD, 1), *b = blob_model(HOOD_OPT_SGD, 1);
    ck_assert_int_eq(hood_model_set_threads(b, 2), HOOD_OK);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 2;
    ck_assert_int_eq(hood_model_fit(a, ds, &fo), HOOD_OK);
    ck_assert_int_eq(hood_model_fit(b, ds, &fo), HOOD_OK);
    for (size_t i = 0; i < a->num_params; i++)
        ck_assert_double_le(fabs(a->params[i] - b->params[i]), 1e-5);
    hood_model_free(a);
    hood_model_free(b);
    hood_dataset_free(ds);
}
END_TEST

static hood_status identity_allreduce(void *user, float *values, size_t count)
{
    (void)user;
    (void)values;
    (void)count;
    return HOOD_OK;
}

/* A full batch fit (batch_size = the samples) uses X in place, in storage order, with or
 * without shuffle; a one-worker shard still gathers each batch in the shuffled order. Both are
 * the same sums in another order: equal to rounding, and the in-place path repeats its bits. */
static hood_model *fit_full_batch(hood_dataset *ds, hood_optimizer_kind kind, bool sharded,
                                  bool shuffle)
{
    hood_model *m = blob_model(kind, 3);
    hood_shard shard = {
        .global_samples = hood_dataset_samples(ds), .first = 0, .allreduce = identity_allreduce};
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 4;
    fo.batch_size = hood_dataset_samples(ds);
    fo.seed = 5;
    fo.shard = sharded ? &shard : NULL;
    fo.shuffle = shuffle;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    return m;
}

START_TEST(full_batch_in_place_matches_gathered)
{
    hood_dataset *ds = blobs(30);
    hood_optimizer_kind kinds[] = {HOOD_OPT_SGD, HOOD_OPT_ADAM};
    for (size_t k = 0; k < 2; k++) {
        hood_model *a = fit_full_batch(ds, kinds[k], false, true);
        hood_model *b = fit_full_batch(ds, kinds[k], false, false); /* storage order either way */
        hood_model *g = fit_full_batch(ds, kinds[k], true, true), *u = blob_model(kinds[k], 3);
        ck_assert_int_eq(memcmp(a->params, b->params, a->num_params * sizeof(float)), 0);
        ck_assert_double_eq(hood_model_history(a, 3)->loss, hood_model_history(b, 3)->loss);
        double moved = 0.0;
        for (size_t i = 0; i < a->num_params; i++) {
            ck_assert_double_le(fabs(a->params[i] - g->params[i]), 1e-5);
            moved += fabs(a->params[i] - u->params[i]);
        }
        ck_assert_double_gt(moved, 1e-3); /* the fits trained */
        ck_assert_double_le(fabs(hood_model_history(a, 3)->loss - hood_model_history(g, 3)->loss),
                            1e-5);
        hood_model_free(a);
        hood_model_free(b);
        hood_model_free(g);
        hood_model_free(u);
    }
    hood_dataset_free(ds);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("train");
    TCase *learn = tcase_create("learning");
    tcase_set_timeout(learn, 60);
    tcase_add_test(learn, xor_reaches_full_accuracy);
    tcase_add_test(learn, separable_reaches_99_percent);
    tcase_add_test(learn, gradient_is_batch_size_invariant);
    tcase_add_test(learn, fit_is_deterministic);
    suite_add_tcase(s, learn);
    TCase *fit = tcase_create("fit");
    tcase_set_timeout(fit, 30);
    tcase_add_test(fit, partial_last_batch_is_kept);
    tcase_add_test(fit, epoch_loss_is_sample_weighted_mean);
    tcase_add_test(fit, fit_errors_are_reported);
    tcase_add_test(fit, validation_split_takes_the_last_samples);
    tcase_add_test(fit, early_stopping_stops_and_restores);
    tcase_add_test(fit, early_stopping_waits_while_improving);
    tcase_add_test(fit, epoch_callback_stops_cleanly);
    tcase_add_test(fit, batch_stop_then_continue_is_identical);
    tcase_add_test(fit, divergence_is_caught_and_rolled_back);
    tcase_add_test(fit, evaluate_and_predict_batching);
    tcase_add_test(fit, threads_setting_keeps_results);
    tcase_add_test(fit, full_batch_in_place_matches_gathered);
    suite_add_tcase(s, fit);
    return s;
}
