/* test_step_in_place.c — the optimizer step written in place when it is proved finite (train.c
 * batch_update, optimizer.h hood__optimizer_safe): the same bits as the guarded out-of-place
 * step in the fused first layer and in whole fits, and a diverging step still refused with the
 * weights of before the batch. The rules' arithmetic itself is test_optimizer's. */
#include "check_main.h"
#include "optimizer_rules.h"

#include "dense.h"
#include "matrix.h"
#include "model.h"
#include "optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f - 0.5f;
}

START_TEST(fused_in_place_matches_out_of_place)
{
    /* The first layer's fused gradient + step (several bands of inputs) written in place gives
     * the out-of-place bits, for every rule at 1-3 threads; the out-of-place call leaves W and
     * the state alone. */
    enum { IN = 2000, OUT = 10, B = 32, N = IN * OUT, STRIDE = N + 21 };
    float *W = hood__matrix_alloc(N, 1), *W0 = hood__matrix_alloc(N, 1);
    float *X = hood__matrix_alloc(IN, B), *dZ = hood__matrix_alloc(OUT, B);
    float *st = hood__matrix_alloc(2 * STRIDE, 1), *st0 = hood__matrix_alloc(2 * STRIDE, 1);
    float *W1 = hood__matrix_alloc(N, 1), *st1 = hood__matrix_alloc(2 * STRIDE, 1);
    float *dW = hood__matrix_alloc(N, 1);
    ck_assert(W && W0 && X && dZ && st && st0 && W1 && st1 && dW);
    uint32_t seed = 5u;
    for (size_t i = 0; i < N; i++)
        W0[i] = 0.1f * lcg(&seed);
    for (size_t i = 0; i < (size_t)IN * B; i++)
        X[i] = lcg(&seed) + 0.5f;
    for (size_t i = 0; i < (size_t)OUT * B; i++)
        dZ[i] = 0.1f * lcg(&seed);
    for (size_t i = 0; i < 2 * STRIDE; i++)
        st0[i] = 1e-3f * fabsf(lcg(&seed));
    float b[OUT] = {0}, db[OUT];
    for (int T = 1; T <= 3; T++) {
        hood__pool *pool = NULL;
        ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
        for (int r = 0; r < 6; r++) {
            hood_optimizer_config cfg;
            rule_config(r, &cfg);
            size_t slots = hood__optimizer_slots(&cfg);
            memcpy(W, W0, N * sizeof(float));
            memcpy(st, st0, 2 * STRIDE * sizeof(float));
            hood__dense layer = {.in = IN,
                                 .out = OUT,
                                 .act = HOOD_ACT_LINEAR,
                                 .use_bias = true,
                                 .W = W,
                                 .b = b,
                                 .dW = dW,
                                 .db = db};
            ck_assert(hood__dense_fuses_step(&layer));
            hood__arena_max mx = {0.0f, {0.0f, 0.0f}};
            ck_assert(hood__dense_backward_step_pool(pool, &layer, &cfg, 7, slots ? st : NULL, W1,
                                                     slots ? st1 : NULL, STRIDE, dZ, X, IN, B,
                                                     &mx));
            ck_assert_int_eq(memcmp(W, W0, N * sizeof(float)), 0);
            ck_assert_int_eq(memcmp(st, st0, 2 * STRIDE * sizeof(float)), 0);
            ck_assert(mx.w > 0.0f);
            ck_assert(hood__dense_backward_step_pool(pool, &layer, &cfg, 7, slots ? st : NULL, W,
                                                     slots ? st : NULL, STRIDE, dZ, X, IN, B,
                                                     NULL));
            ck_assert_msg(memcmp(W, W1, N * sizeof(float)) == 0, "T %d rule %d: kernel", T, r);
            for (size_t s = 0; s < slots; s++)
                ck_assert_msg(memcmp(st + s * STRIDE, st1 + s * STRIDE, N * sizeof(float)) == 0,
                              "T %d rule %d: slot %zu", T, r, s);
            ck_assert(memcmp(W, W0, N * sizeof(float)) != 0);
        }
        hood__pool_free(pool);
    }
    float *bufs[] = {W, W0, X, dZ, st, st0, W1, st1, dW};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        hood__matrix_free(bufs[i]);
}
END_TEST

/* 3 classes in D features, n samples; sample `odd` (if < n) gets feature 0 = big. */
static hood_dataset *data(size_t d, size_t n, size_t odd, float big)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, d, n), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert_ptr_nonnull(y);
    uint32_t seed = 11u;
    for (size_t j = 0; j < n; j++) {
        y[j] = (int32_t)(j % 3);
        for (size_t i = 0; i < d; i++)
            x[j * d + i] = lcg(&seed) + (i == (size_t)y[j] ? 1.0f : 0.0f);
    }
    if (odd < n)
        x[odd * d] = big;
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 3), HOOD_OK);
    free(y);
    return ds;
}

/* d -> hidden (relu) -> 3 (softmax): hidden <= 16 fuses the first layer's step (dense.h). */
static hood_model *model(size_t d, size_t hidden, const hood_optimizer_config *cfg, int threads)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, d), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, hidden, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, cfg, 21),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_set_threads(m, threads), HOOD_OK);
    return m;
}

static int keep_going(void *user, hood_model *m, const hood_epoch_log *log)
{
    (void)user, (void)m, (void)log;
    return 0;
}

START_TEST(fit_in_place_matches_guarded)
{
    /* One batch per epoch: with an epoch callback every step is guarded (the callback may
     * change the weights, so the bounds start anew), without one every step after the first is
     * in place. Same weights, state and history bits either way, fused (8 units) or not (24),
     * every rule, 1-3 threads. The arenas swap once per guarded step, so after 6 epochs the
     * guarded run holds its first arena again and the in-place run the other one. */
    enum { D = 300, N = 96, EPOCHS = 6 };
    hood_dataset *ds = data(D, N, N, 0.0f);
    for (int r = 0; r < 6; r++)
        for (size_t hidden = 8; hidden <= 24; hidden += 16)
            for (int T = 1; T <= 3; T++) {
                hood_optimizer_config cfg;
                rule_config(r, &cfg);
                hood_model *a = model(D, hidden, &cfg, T), *b = model(D, hidden, &cfg, T);
                const float *a0 = a->params, *b0 = b->params;
                hood_fit_options fo;
                hood_fit_options_init(&fo);
                fo.epochs = EPOCHS;
                fo.batch_size = N;
                fo.on_epoch_end = keep_going;
                ck_assert_int_eq(hood_model_fit(a, ds, &fo), HOOD_OK);
                fo.on_epoch_end = NULL;
                ck_assert_int_eq(hood_model_fit(b, ds, &fo), HOOD_OK);
                ck_assert_msg(a->params == a0, "rule %d: a guarded step was skipped", r);
                /* (plain SGD on a wide first layer folds into its sgemm, out of place) */
                bool folded = r == 0 && hidden > 16;
                ck_assert_msg((b->params != b0) != folded, "rule %d: no step ran in place", r);
                ck_assert_msg(memcmp(a->params, b->params, a->num_params * sizeof(float)) == 0,
                              "rule %d hidden %zu T %d: weights", r, hidden, T);
                size_t values = a->opt_slots * a->num_params;
                ck_assert(values == 0 ||
                          memcmp(a->opt_state, b->opt_state, values * sizeof(float)) == 0);
                for (size_t e = 0; e < EPOCHS; e++)
                    ck_assert(hood_model_history(a, e)->loss == hood_model_history(b, e)->loss);
                hood_model_free(a);
                hood_model_free(b);
            }
    hood_dataset_free(ds);
}
END_TEST

typedef struct snap {
    const hood_model *model;
    float *params;      /* after the last batch */
    const float *where; /* model->params after each batch */
    size_t batches, in_place;
} snap;

static int on_batch(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                    double accuracy)
{
    (void)epoch, (void)batch, (void)num_batches, (void)loss, (void)accuracy;
    snap *s = user;
    s->in_place += s->batches > 0 && s->where == s->model->params;
    s->where = s->model->params;
    s->batches++;
    memcpy(s->params, s->model->params, s->model->num_params * sizeof(float));
    return 0;
}

START_TEST(diverging_gradient_is_refused_after_in_place_steps)
{
    /* Sample 40 (the third batch of 16, no shuffle) has a feature of 1e25: its gradient's
     * square overflows Adam's v. The two batches before it step in place (the second at least),
     * the third is not proved safe, its guarded step finds v infinite: HOOD_EDIVERGED, with the
     * weights of after batch 2. Unfused (24 units: the gradient is read) and fused (8 units:
     * max |x| bounds it, so this fit never steps in place). */
    enum { D = 20, N = 64 };
    hood_dataset *ds = data(D, N, 40, 1e25f);
    for (size_t hidden = 8; hidden <= 24; hidden += 16) {
        hood_optimizer_config cfg;
        rule_config(3, &cfg);
        hood_model *m = model(D, hidden, &cfg, 1);
        snap s = {.model = m, .params = malloc(m->num_params * sizeof(float))};
        ck_assert_ptr_nonnull(s.params);
        hood_fit_options fo;
        hood_fit_options_init(&fo);
        fo.epochs = 2;
        fo.batch_size = 16;
        fo.shuffle = false;
        fo.on_batch_end = on_batch;
        fo.user = &s;
        ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_EDIVERGED);
        ck_assert_ptr_nonnull(strstr(hood_last_error(), "epoch 1, batch 3 of 4"));
        ck_assert_uint_eq(s.batches, 2);
        ck_assert_uint_eq(s.in_place, hidden > 16 ? 1 : 0);
        ck_assert_int_eq(memcmp(s.params, m->params, m->num_params * sizeof(float)), 0);
        ck_assert(hood__model_params_finite(m));
        free(s.params);
        hood_model_free(m);
    }
    hood_dataset_free(ds);
}
END_TEST

typedef struct poke {
    size_t at;    /* a kernel weight's index */
    int slot;     /* the state slot to set */
    float value;  /* after epoch 1 */
    float *after; /* the weights the callback left */
} poke;

static int set_state(void *user, hood_model *m, const hood_epoch_log *log)
{
    poke *p = user;
    if (log->epoch == 0) {
        m->opt_state[(size_t)p->slot * m->num_params + p->at] = p->value;
        memcpy(p->after, m->params, m->num_params * sizeof(float));
    }
    return 0;
}

START_TEST(large_state_is_guarded)
{
    /* The epoch callback sets one optimizer state value of the fused first kernel (the model is
     * the callback's to change): the next step must not run in place on the old bounds.
     * Adam's m = 3e38 with v = 0 and a zero gradient (a feature that is always 0) overflows
     * m alpha / eps: refused, the weights as the callback left them. v = 1e31 alone is past the
     * bound yet finite: the guarded step takes it and the fit goes on. */
    enum { D = 20, N = 64 };
    hood_dataset *ds = data(D, N, N, 0.0f);
    float *x = hood_dataset_x_mutable(ds);
    for (size_t j = 0; j < N; j++)
        x[j * D + D - 1] = 0.0f; /* input D-1 is always 0: its kernel column's gradient too */
    for (int big_v = 0; big_v <= 1; big_v++) {
        hood_optimizer_config cfg;
        rule_config(3, &cfg);
        hood_model *m = model(D, 8, &cfg, 1);
        poke p = {.at = (D - 1) * 8 + 3, /* W[3, D-1]: out x in, column-major */
                  .slot = big_v ? 1 : 0,
                  .value = big_v ? 1e31f : 3e38f,
                  .after = malloc(m->num_params * sizeof(float))};
        ck_assert_ptr_nonnull(p.after);
        hood_fit_options fo;
        hood_fit_options_init(&fo);
        fo.epochs = 3;
        fo.batch_size = 16;
        fo.on_epoch_end = set_state;
        fo.user = &p;
        hood_status st = hood_model_fit(m, ds, &fo);
        if (big_v) {
            ck_assert_int_eq(st, HOOD_OK);
            ck_assert_uint_eq(hood_model_history_length(m), 3);
        } else {
            ck_assert_int_eq(st, HOOD_EDIVERGED);
            ck_assert_ptr_nonnull(strstr(hood_last_error(), "epoch 2, batch 1 of 4"));
            ck_assert_int_eq(memcmp(p.after, m->params, m->num_params * sizeof(float)), 0);
        }
        ck_assert(hood__model_params_finite(m));
        free(p.after);
        hood_model_free(m);
    }
    hood_dataset_free(ds);
}
END_TEST

/* A batch callback that writes the weights through the public API (here: the same kernel back)
 * after batch 2: the step after it is guarded (out of place: the arenas swap), the ones after
 * that in place again, for a fused and an unfused first layer. */
typedef struct rewrite {
    hood_model *model;
    float *kernel;
    size_t batches;
    const float *where[8]; /* model->params after each batch */
} rewrite;

static int rewrite_kernel(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                          double accuracy)
{
    (void)epoch, (void)batch, (void)num_batches, (void)loss, (void)accuracy;
    rewrite *w = user;
    if (w->batches < 8)
        w->where[w->batches] = w->model->params;
    if (w->batches++ == 1) {
        ck_assert_int_eq(hood_model_get_kernel(w->model, 0, w->kernel), HOOD_OK);
        ck_assert_int_eq(hood_model_set_kernel(w->model, 0, w->kernel), HOOD_OK);
    }
    return 0;
}

START_TEST(public_weight_writes_guard_the_next_step)
{
    enum { D = 20, N = 96 };
    hood_dataset *ds = data(D, N, N, 0.0f);
    for (size_t hidden = 8; hidden <= 24; hidden += 16) {
        hood_optimizer_config cfg;
        rule_config(3, &cfg);
        hood_model *m = model(D, hidden, &cfg, 1);
        rewrite w = {.model = m, .kernel = malloc(D * hidden * sizeof(float))};
        ck_assert_ptr_nonnull(w.kernel);
        hood_fit_options fo;
        hood_fit_options_init(&fo);
        fo.epochs = 1;
        fo.batch_size = 16; /* 6 batches */
        fo.shuffle = false;
        fo.on_batch_end = rewrite_kernel;
        fo.user = &w;
        ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
        ck_assert_uint_eq(w.batches, 6);
        /* batch 1 guarded (no bounds yet), 2 in place; the write after 2: batch 3 guarded,
         * 4-6 in place */
        ck_assert_msg(w.where[1] == w.where[0], "%zu units: batch 2 was not in place", hidden);
        ck_assert_msg(w.where[2] != w.where[1],
                      "%zu units: the step after set_kernel ran in "
                      "place on the old bounds",
                      hidden);
        for (int b = 3; b < 6; b++)
            ck_assert_msg(w.where[b] == w.where[2], "%zu units: batch %d not in place", hidden,
                          b + 1);
        free(w.kernel);
        hood_model_free(m);
    }
    hood_dataset_free(ds);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("step_in_place");
    TCase *tc = tcase_create("in_place");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fused_in_place_matches_out_of_place);
    tcase_add_test(tc, fit_in_place_matches_guarded);
    tcase_add_test(tc, diverging_gradient_is_refused_after_in_place_steps);
    tcase_add_test(tc, large_state_is_guarded);
    tcase_add_test(tc, public_weight_writes_guard_the_next_step);
    suite_add_tcase(s, tc);
    return s;
}
