/* test_parallel.c — the worker pool (every share runs exactly once per run under every policy,
 * stolen shares included, ADAPTIVE leaving workers that do not pay, clean shutdown, BLAS thread
 * count restored), the split products (2, 3 and 4 threads against 1 on the seed and
 * Fashion-MNIST shapes and odd sizes), the split gather (same bytes), the folded SGD step of
 * the first layer against the unfolded one, the same bits under every policy, and whole fits
 * (same threads twice: same bits). */
#include "check_main.h"
#include "dense.h"
#include "gemm.h"
#include "matrix.h"
#include "optimizer.h"
#include "parallel.h"
#include "rng.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { RUNS = 2000, MAX_T = 8 };

static const hood__pool_policy POLICIES[] = {HOOD__POOL_ADAPTIVE, HOOD__POOL_SHARED,
                                             HOOD__POOL_CALLER};

typedef struct counter {
    atomic_int hits[MAX_T];
    atomic_int bad_count;  /* runs where a share saw a thread count other than the pool's */
    atomic_int off_caller; /* shares run by a thread other than the caller */
    pthread_t caller;
    int expect;
} counter;

static void count_share(void *arg, int i, int n)
{
    counter *c = arg;
    if (n != c->expect || i < 0 || i >= n)
        atomic_fetch_add(&c->bad_count, 1);
    else
        atomic_fetch_add(&c->hits[i], 1);
    if (!pthread_equal(pthread_self(), c->caller))
        atomic_fetch_add(&c->off_caller, 1);
}

START_TEST(pool_runs_every_share_once)
{
    for (size_t p = 0; p < sizeof POLICIES / sizeof *POLICIES; p++) {
        for (int T = 1; T <= 4; T++) {
            hood__pool *pool;
            ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
            ck_assert_int_eq(hood__pool_threads(pool), T);
            ck_assert(T == 1 ? pool == NULL : pool != NULL);
            hood__pool_set_policy(pool, POLICIES[p]);
            counter c = {.expect = T, .caller = pthread_self()};
            for (int r = 0; r < RUNS; r++) {
                hood__pool_run(pool, count_share, &c);
                /* Every share of run r has finished when run returns: exactly r + 1 hits. */
                for (int i = 0; i < T; i++)
                    ck_assert_int_eq(atomic_load(&c.hits[i]), r + 1);
            }
            ck_assert_int_eq(atomic_load(&c.bad_count), 0);
            for (int i = T; i < MAX_T; i++)
                ck_assert_int_eq(atomic_load(&c.hits[i]), 0);
            /* CALLER: every share on the calling thread (it runs the workers' shares). */
            if (POLICIES[p] == HOOD__POOL_CALLER || T == 1)
                ck_assert_int_eq(atomic_load(&c.off_caller), 0);
            hood__pool_stats st;
            hood__pool_get_stats(pool, &st);
            ck_assert_uint_eq(st.runs, T == 1 ? 0 : RUNS);
            ck_assert_uint_eq(st.shares, T == 1 ? 0 : (unsigned long long)RUNS * T);
            if (POLICIES[p] == HOOD__POOL_CALLER && T > 1)
                ck_assert_uint_eq(st.caller_runs, RUNS);
            if (POLICIES[p] == HOOD__POOL_SHARED)
                ck_assert_uint_eq(st.caller_runs, 0);
            hood__pool_free(pool);
        }
    }
}
END_TEST

/* Shares of two alternating tasks with uneven, random lengths, and idle gaps that let the
 * workers fall asleep: a worker that wakes late must find its run over (never run a share of
 * the next run with the old task), and the caller takes the shares no worker has started. */
typedef struct tagged {
    atomic_int hits[MAX_T];
    atomic_int stolen_seen; /* shares other than 0 run on the caller */
    pthread_t caller;
    unsigned spin_ns[MAX_T];
} tagged;

static void busy_ns(unsigned ns)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < (long)ns);
}

static void tagged_share(void *arg, int i, int n)
{
    (void)n;
    tagged *t = arg;
    busy_ns(t->spin_ns[i]);
    if (i != 0 && pthread_equal(pthread_self(), t->caller))
        atomic_fetch_add(&t->stolen_seen, 1);
    atomic_fetch_add(&t->hits[i], 1);
}

START_TEST(pool_shares_stolen_run_exactly_once)
{
    hood_rng rng;
    hood__rng_seed(&rng, 31);
    for (int T = 2; T <= 4; T++) {
        hood__pool *pool;
        ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
        hood__pool_set_policy(pool, HOOD__POOL_SHARED);
        tagged a = {.caller = pthread_self()}, b = {.caller = pthread_self()};
        const int runs = 600;
        for (int r = 0; r < runs; r++) {
            tagged *t = r % 2 ? &b : &a;
            for (int i = 0; i < T; i++)
                t->spin_ns[i] = (unsigned)(hood__rng_uniform(&rng) * 20000.0);
            /* Every 10th run after a pause well beyond the workers' spin (0.5 ms): they sleep,
             * and share 0 is instant, so the caller reaches their shares first. */
            if (r % 10 == 0) {
                usleep(3000);
                t->spin_ns[0] = 0;
            }
            hood__pool_run(pool, tagged_share, t);
            for (int i = 0; i < T; i++)
                ck_assert_int_eq(atomic_load(&t->hits[i]), r / 2 + 1);
            const tagged *other = r % 2 ? &a : &b;
            for (int i = 0; i < T; i++)
                ck_assert_int_eq(atomic_load(&other->hits[i]), (r + 1) / 2);
        }
        hood__pool_stats st;
        hood__pool_get_stats(pool, &st);
        ck_assert_uint_eq(st.shares, (unsigned long long)runs * T);
        /* The pool's count of stolen shares is what the shares saw. Whether the caller steals
         * at all depends on how fast the workers wake, i.e. on the machine's load, so the test
         * asserts what must hold either way: every share ran exactly once (above), and the
         * count agrees with what the shares saw. */
        ck_assert_uint_eq(st.stolen, (unsigned long long)(atomic_load(&a.stolen_seen) +
                                                          atomic_load(&b.stolen_seen)));
        hood__pool_free(pool);
    }
}
END_TEST

/* A share that sleeps: the caller must wait for it even after its own spin gives up. */
static void slow_share(void *arg, int i, int n)
{
    (void)n;
    if (i == 1)
        usleep(20000);
    atomic_fetch_add((atomic_int *)arg, 1);
}

START_TEST(pool_waits_for_slow_shares_and_sleeping_workers)
{
    hood__pool *pool;
    ck_assert_int_eq(hood__pool_create(&pool, 2), HOOD_OK);
    hood__pool_set_policy(pool, HOOD__POOL_SHARED);
    atomic_int done = 0;
    for (int r = 0; r < 5; r++) {
        hood__pool_run(pool, slow_share, &done);
        ck_assert_int_eq(atomic_load(&done), 2 * (r + 1));
        /* Long enough for the worker to stop spinning and sleep on the condition variable. */
        usleep(10000);
    }
    hood__pool_free(pool);
}
END_TEST

/* ADAPTIVE's choices under a clock the test drives: a step costs `shared_ns` when its run was
 * offered to the workers and `caller_ns` when it ran on the caller alone, whatever it really
 * took, so the outcome cannot depend on how busy the machine is. The clock starts at 1 s (a
 * step start of 0 means "not in a step"). */
typedef struct fake_clock {
    uint64_t now;
} fake_clock;

static uint64_t fake_now(void *user)
{
    return ((fake_clock *)user)->now;
}

static void no_work(void *arg, int i, int n)
{
    (void)arg, (void)i, (void)n;
}

static void adaptive_steps(hood__pool *pool, fake_clock *clock, int steps, uint64_t shared_ns,
                           uint64_t caller_ns)
{
    for (int s = 0; s < steps; s++) {
        hood__pool_stats before, after;
        hood__pool_get_stats(pool, &before);
        hood__pool_step_begin(pool);
        hood__pool_run(pool, no_work, NULL);
        hood__pool_get_stats(pool, &after);
        clock->now += after.caller_runs > before.caller_runs ? caller_ns : shared_ns;
        hood__pool_step_end(pool);
    }
}

START_TEST(adaptive_keeps_the_faster_way)
{
    enum { STEPS = 120, MS = 1000000 };
    hood__pool *pool;
    ck_assert_int_eq(hood__pool_create(&pool, 2), HOOD_OK);
    fake_clock clock = {.now = 1000000000u};
    hood__pool_set_clock(pool, fake_now, &clock);

    /* Workers that do not pay (30 ms a shared step, 5 ms on the caller): ADAPTIVE starts
     * shared, tries the caller, changes to it and stays there most of the time. */
    adaptive_steps(pool, &clock, STEPS, 30 * MS, 5 * MS);
    hood__pool_stats st;
    hood__pool_get_stats(pool, &st);
    ck_assert_uint_eq(st.steps, STEPS);
    ck_assert_uint_eq(st.runs, STEPS);
    ck_assert_uint_ge(st.switches, 1);
    ck_assert_uint_ge(st.caller_runs, 3 * STEPS / 4);

    /* Workers that pay (5 ms shared, 30 ms on the caller): it stays shared and tries the caller
     * ever more rarely (one step per window, the windows doubling). */
    hood__pool_set_policy(pool, HOOD__POOL_ADAPTIVE); /* measurements start afresh */
    hood__pool_stats st0;
    hood__pool_get_stats(pool, &st0);
    adaptive_steps(pool, &clock, STEPS, 5 * MS, 30 * MS);
    hood__pool_get_stats(pool, &st);
    ck_assert_uint_eq(st.switches, st0.switches);
    ck_assert_uint_le(st.caller_runs - st0.caller_runs, STEPS / 20);
    ck_assert_uint_ge(st.caller_runs - st0.caller_runs, 1); /* it does try */

    /* Forcing a policy takes effect at once. */
    hood__pool_set_policy(pool, HOOD__POOL_SHARED);
    hood__pool_get_stats(pool, &st0);
    adaptive_steps(pool, &clock, 10, 30 * MS, 5 * MS);
    hood__pool_get_stats(pool, &st);
    ck_assert_uint_eq(st.caller_runs, st0.caller_runs);
    hood__pool_free(pool);
    /* NULL pools take the step and clock calls too. */
    hood__pool_set_clock(NULL, fake_now, &clock);
    hood__pool_step_begin(NULL);
    hood__pool_step_end(NULL);
    hood__pool_set_policy(NULL, HOOD__POOL_CALLER);
    hood__pool_get_stats(NULL, &st);
    ck_assert_uint_eq(st.runs + st.steps, 0);
}
END_TEST

/* Beside a busy process a worker just woken gets a core at once and falls behind only later:
 * the first 12 steps of a run of shared steps take 0.3 ms, later ones 2 ms; on the caller alone
 * a step takes 0.4 ms. A try of sharing must last long enough to see that (EXPLORE_MIN_NS):
 * 8 steps of it looked faster than the caller, and the pool went back to sharing every time. */
START_TEST(adaptive_is_not_fooled_by_a_fast_start)
{
    enum { STEPS = 4000, US = 1000 };
    hood__pool *pool;
    ck_assert_int_eq(hood__pool_create(&pool, 2), HOOD_OK);
    fake_clock clock = {.now = 1000000000u};
    hood__pool_set_clock(pool, fake_now, &clock);
    unsigned shared_run = 0;
    for (int s = 0; s < STEPS; s++) {
        hood__pool_stats before, after;
        hood__pool_get_stats(pool, &before);
        hood__pool_step_begin(pool);
        hood__pool_run(pool, no_work, NULL);
        hood__pool_get_stats(pool, &after);
        bool shared = after.caller_runs == before.caller_runs;
        shared_run = shared ? shared_run + 1 : 0;
        clock.now += !shared ? 400 * US : shared_run <= 12 ? 300 * US : 2000 * US;
        hood__pool_step_end(pool);
    }
    hood__pool_stats st;
    hood__pool_get_stats(pool, &st);
    /* the caller alone nearly always: sharing costs 2 ms a step once it has settled */
    ck_assert_msg(st.caller_runs >= 9 * STEPS / 10, "%llu of %d steps on the caller alone",
                  (unsigned long long)st.caller_runs, STEPS);
    hood__pool_free(pool);
}
END_TEST

START_TEST(pool_create_free_restores_blas_threads)
{
    hood__pool_free(NULL); /* no-op */
    int before = hood__blas_threads();
    for (int r = 0; r < 50; r++) {
        hood__pool *pool;
        ck_assert_int_eq(hood__pool_create(&pool, 2 + r % 3), HOOD_OK);
        /* The BLAS runs 1 thread while the pool calls it from every thread (0: no API). */
        int during = hood__blas_threads();
        ck_assert(during == 1 || during == 0);
        ck_assert_int_eq(hood__pool_reserve(pool, 1000), HOOD_OK);
        size_t have;
        ck_assert_ptr_nonnull(hood__pool_scratch(pool, &have));
        ck_assert_uint_ge(have, 1000);
        hood__pool_free(pool);
        ck_assert_int_eq(hood__blas_threads(), before);
    }
    size_t none;
    ck_assert_ptr_null(hood__pool_scratch(NULL, &none));
    ck_assert_uint_eq(none, 0);
    ck_assert_int_eq(hood__threads_resolve(0), (int)sysconf(_SC_NPROCESSORS_ONLN));
    ck_assert_int_eq(hood__threads_resolve(-3), 1);
    ck_assert_int_eq(hood__threads_resolve(3), 3);
}
END_TEST

/* ---- split products against 1 thread ------------------------------------------------------ */

static float *random_floats(hood_rng *rng, size_t n, double scale)
{
    float *p = hood__matrix_alloc(n, 1);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((2.0 * hood__rng_uniform(rng) - 1.0) * scale);
    return p;
}

/* |got - want| <= 1e-5 * (sum of |terms|) + 1e-30 elementwise: the bound a different
 * summation order of `terms` float products can move a float sum (well above n * eps with
 * n <= 22,500 only when the terms cancel, which the absolute sum accounts for). The reference's
 * absolute sums come from the double-accumulating reference gemm on |A| and |B|. */
static void assert_close(const float *got, const float *want, const float *abs_sum, size_t n,
                         const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double tol = 1e-5 * (double)abs_sum[i] + 1e-30;
        if (fabs((double)got[i] - (double)want[i]) > tol)
            ck_abort_msg("%s: element %zu: %.9g vs %.9g (tolerance %.3g)", what, i, (double)got[i],
                         (double)want[i], tol);
    }
}

static float *absolute(const float *p, size_t n)
{
    float *a = hood__matrix_alloc(n, 1);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < n; i++)
        a[i] = fabsf(p[i]);
    return a;
}

typedef struct shape {
    size_t in, out, batch;
} shape;

/* Seed model layer 1 and 2, Fashion-MNIST's three layers at batch 32 and 128, odd sizes. */
static const shape SHAPES[] = {
    {22500, 10, 32}, {10, 1, 32},     {784, 256, 32}, {256, 128, 32}, {128, 10, 32},
    {784, 256, 128}, {256, 128, 128}, {22500, 10, 1}, {22500, 10, 3}, {22501, 10, 33},
    {4097, 33, 3},   {333, 77, 33},   {1001, 129, 1},
};

/* Forward and backward of one layer with `T` threads against the same calls with no pool. */
static void check_shape(const shape *s, int T)
{
    hood_rng rng;
    hood__rng_seed(&rng, 1000 + s->in + 7 * s->out + 13 * s->batch);
    const size_t in = s->in, out = s->out, B = s->batch, ldx = in + 3;
    float *W = random_floats(&rng, in * out, 0.05), *b = random_floats(&rng, out, 0.1);
    float *X = random_floats(&rng, ldx * B, 1.0), *dZ = random_floats(&rng, out * B, 1.0);
    float *dW1 = hood__matrix_alloc(in * out, 1), *dWT = hood__matrix_alloc(in * out, 1);
    float db1[512], dbT[512];
    float *A1 = hood__matrix_alloc(out * B, 1), *AT = hood__matrix_alloc(out * B, 1);
    float *Z1 = hood__matrix_alloc(out * B, 1), *ZT = hood__matrix_alloc(out * B, 1);
    float *dX1 = hood__matrix_alloc(in * B, 1), *dXT = hood__matrix_alloc(in * B, 1);
    ck_assert(out <= 512);
    hood__dense layer = {.in = in,
                         .out = out,
                         .act = HOOD_ACT_TANH,
                         .use_bias = true,
                         .W = W,
                         .b = b,
                         .dW = dW1,
                         .db = db1};

    hood__dense_forward(&layer, A1, Z1, X, ldx, B);
    hood__dense_backward(&layer, dX1, dZ, X, ldx, B);

    hood__pool *pool;
    ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
    ck_assert_int_eq(hood__pool_reserve(pool, hood__dense_scratch_floats(&layer, B, T)), HOOD_OK);
    layer.dW = dWT;
    layer.db = dbT;
    for (int rep = 0; rep < 3; rep++) {
        hood__dense_forward_pool(pool, &layer, AT, ZT, X, ldx, B);
        hood__dense_backward_pool(pool, &layer, dXT, dZ, X, ldx, B);
    }
    hood__pool_free(pool);

    /* Tolerances from |W|·|X| (forward), |dZ|·|X|ᵀ (dW), |W|ᵀ·|dZ| (dX). */
    float *aW = absolute(W, in * out), *aX = absolute(X, ldx * B), *adZ = absolute(dZ, out * B);
    float *sumZ = hood__matrix_alloc(out * B, 1), *sumW = hood__matrix_alloc(in * out, 1);
    float *sumX = hood__matrix_alloc(in * B, 1);
    hood__sgemm_reference(false, false, out, B, in, 1.0f, aW, out, aX, ldx, 0.0f, sumZ, out);
    hood__sgemm_reference(false, true, out, in, B, 1.0f, adZ, out, aX, ldx, 0.0f, sumW, out);
    hood__sgemm_reference(true, false, in, B, out, 1.0f, aW, out, adZ, out, 0.0f, sumX, in);
    assert_close(ZT, Z1, sumZ, out * B, "forward Z");
    assert_close(AT, A1, sumZ, out * B, "forward A"); /* tanh is 1-Lipschitz */
    assert_close(dWT, dW1, sumW, in * out, "dW");
    assert_close(dXT, dX1, sumX, in * B, "dX");
    for (size_t i = 0; i < out; i++)
        ck_assert_float_eq(dbT[i], db1[i]); /* same loop on the caller either way */

    float *bufs[] = {W,  b,   X,   dZ, dW1, dWT, A1,   AT,   Z1,
                     ZT, dX1, dXT, aW, aX,  adZ, sumZ, sumW, sumX};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        hood__matrix_free(bufs[i]);
}

START_TEST(split_products_match_one_thread_2)
{
    for (size_t i = 0; i < sizeof SHAPES / sizeof *SHAPES; i++)
        check_shape(&SHAPES[i], 2);
}
END_TEST

START_TEST(split_products_match_one_thread_3_and_4)
{
    for (size_t i = 0; i < sizeof SHAPES / sizeof *SHAPES; i++) {
        check_shape(&SHAPES[i], 3);
        check_shape(&SHAPES[i], 4);
    }
}
END_TEST

START_TEST(cost_model_splits_seed_forward_over_k)
{
    /* Layers with >= 128 inputs split them in forward (K: partial sums, one out x batch block
     * per extra thread); a product under 2^20 flops or a narrow layer does not split. */
    hood__dense seed = {.in = 22500, .out = 10}, fm = {.in = 784, .out = 256};
    ck_assert_uint_eq(hood__dense_scratch_floats(&seed, 32, 2), 320);
    ck_assert_uint_eq(hood__dense_scratch_floats(&seed, 32, 3), 640);
    ck_assert_uint_eq(hood__dense_scratch_floats(&seed, 32, 1), 0);
    ck_assert_uint_eq(hood__dense_scratch_floats(&fm, 32, 2), 256 * 32);
    hood__dense tiny = {.in = 128, .out = 10}, narrow = {.in = 100, .out = 1000};
    ck_assert_uint_eq(hood__dense_scratch_floats(&tiny, 32, 2), 0);   /* 82 kflop */
    ck_assert_uint_eq(hood__dense_scratch_floats(&narrow, 32, 2), 0); /* splits rows */
}
END_TEST

START_TEST(split_k_without_scratch_still_correct)
{
    /* A pool without reserved scratch falls back to another split or one call. */
    shape s = {22500, 10, 32};
    hood_rng rng;
    hood__rng_seed(&rng, 5);
    float *W = random_floats(&rng, s.in * s.out, 0.05), *X = random_floats(&rng, s.in * s.batch, 1);
    float Z1[320], Z2[320];
    hood__dense layer = {.in = s.in, .out = s.out, .act = HOOD_ACT_LINEAR, .W = W};
    hood__dense_forward(&layer, Z1, NULL, X, s.in, s.batch);
    hood__pool *pool;
    ck_assert_int_eq(hood__pool_create(&pool, 2), HOOD_OK);
    hood__dense_forward_pool(pool, &layer, Z2, NULL, X, s.in, s.batch);
    hood__pool_free(pool);
    for (int i = 0; i < 320; i++)
        ck_assert_float_eq_tol(Z2[i], Z1[i], 1e-3f);
    hood__matrix_free(W);
    hood__matrix_free(X);
}
END_TEST

START_TEST(split_gather_same_bytes)
{
    static const size_t rows_list[] = {1, 3, 33, 784, 22500, 22501, 70001};
    hood_rng rng;
    hood__rng_seed(&rng, 9);
    for (int T = 1; T <= 3; T++) {
        hood__pool *pool;
        ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
        for (size_t r = 0; r < sizeof rows_list / sizeof *rows_list; r++) {
            size_t rows = rows_list[r], n = 40, count = 33;
            float *src = random_floats(&rng, rows * n, 1.0);
            float *a = hood__matrix_alloc(rows, count), *b = hood__matrix_alloc(rows, count);
            size_t index[33];
            for (size_t j = 0; j < count; j++)
                index[j] = (j * 7 + 3) % n;
            hood__matrix_gather_cols(a, src, rows, index, count);
            memset(b, 0xff, rows * count * sizeof(float));
            hood__matrix_gather_cols_pool(pool, b, src, rows, index, count);
            ck_assert_int_eq(memcmp(a, b, rows * count * sizeof(float)), 0);
            hood__matrix_free(src);
            hood__matrix_free(a);
            hood__matrix_free(b);
        }
        hood__pool_free(pool);
    }
}
END_TEST

/* One layer's step (gather, forward, backward, folded SGD) with T threads under `policy`:
 * every output, concatenated, into `out` (dX, dW, db, A, Z, W_out, the gathered batch). */
static void layer_step_bits(const shape *s, int T, hood__pool_policy policy, float *out)
{
    hood_rng rng;
    hood__rng_seed(&rng, 500 + s->in);
    const size_t in = s->in, o = s->out, B = s->batch, n = B + 5;
    float *src = random_floats(&rng, in * n, 1.0), *W = random_floats(&rng, in * o, 0.05);
    float *b = random_floats(&rng, o, 0.1), *dZ = random_floats(&rng, o * B, 1.0);
    size_t index[64];
    ck_assert_uint_le(B, 64);
    for (size_t j = 0; j < B; j++)
        index[j] = (j * 5 + 2) % n;
    float *X = out, *A = X + in * B, *Z = A + o * B, *dX = Z + o * B, *dW = dX + in * B;
    float *db = dW + in * o, *W_out = db + o;
    hood__dense layer = {.in = in,
                         .out = o,
                         .act = HOOD_ACT_TANH,
                         .use_bias = true,
                         .W = W,
                         .b = b,
                         .dW = dW,
                         .db = db};
    hood__pool *pool;
    ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
    ck_assert_int_eq(hood__pool_reserve(pool, hood__dense_scratch_floats(&layer, B, T)), HOOD_OK);
    hood__pool_set_policy(pool, policy);
    /* ADAPTIVE: steps, so its choice may change between them; three rounds either way. */
    for (int rep = 0; rep < 3; rep++) {
        hood__pool_step_begin(pool);
        hood__matrix_gather_cols_pool(pool, X, src, in, index, B);
        hood__dense_forward_pool(pool, &layer, A, Z, X, in, B);
        hood__dense_backward_pool(pool, &layer, dX, dZ, X, in, B);
        ck_assert(hood__dense_backward_sgd_pool(pool, &layer, W_out, 0.01f, dZ, X, in, B));
        hood__pool_step_end(pool);
    }
    hood__pool_free(pool);
    float *bufs[] = {src, W, b, dZ};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        hood__matrix_free(bufs[i]);
}

START_TEST(every_policy_gives_the_same_bits)
{
    /* The shares, not the threads that run them, decide the arithmetic: shared with the
     * workers, all on the caller, or as the adaptive policy chooses, the same bits. */
    static const shape shapes[] = {{22500, 10, 32}, {784, 256, 32}, {256, 128, 64}, {333, 77, 33}};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        const shape *s = &shapes[k];
        size_t floats = 2 * s->in * s->batch + 2 * s->out * s->batch + 2 * s->in * s->out + s->out;
        for (int T = 2; T <= 3; T++) {
            float *want = hood__matrix_alloc(floats, 1);
            ck_assert_ptr_nonnull(want);
            layer_step_bits(s, T, HOOD__POOL_SHARED, want);
            for (size_t p = 0; p < sizeof POLICIES / sizeof *POLICIES; p++) {
                float *got = hood__matrix_alloc(floats, 1);
                ck_assert_ptr_nonnull(got);
                memset(got, 0xff, floats * sizeof(float));
                layer_step_bits(s, T, POLICIES[p], got);
                ck_assert_msg(memcmp(got, want, floats * sizeof(float)) == 0,
                              "%zu -> %zu, batch %zu, %d threads, policy %d: other bits", s->in,
                              s->out, s->batch, T, (int)POLICIES[p]);
                hood__matrix_free(got);
            }
            hood__matrix_free(want);
        }
    }
}
END_TEST

/* ---- folded SGD ---------------------------------------------------------------------------- */

static void check_fold(const shape *s, int T)
{
    hood_rng rng;
    hood__rng_seed(&rng, 77 + s->in);
    const size_t in = s->in, out = s->out, B = s->batch;
    float *W = random_floats(&rng, in * out, 0.05), *X = random_floats(&rng, in * B, 1.0);
    float *dZ = random_floats(&rng, out * B, 1.0), *dW = hood__matrix_alloc(in * out, 1);
    float *want = hood__matrix_alloc(in * out, 1), *got = hood__matrix_alloc(in * out, 1);
    float b[16] = {0}, db_want[16], db_got[16];
    const float lr = 0.01f;
    hood__dense layer = {.in = in,
                         .out = out,
                         .act = HOOD_ACT_LINEAR,
                         .use_bias = true,
                         .W = W,
                         .b = b,
                         .dW = dW,
                         .db = db_want};
    /* Unfolded: dW by sgemm, then the optimizer's plain SGD step. */
    hood__dense_backward(&layer, NULL, dZ, X, in, B);
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    cfg.learning_rate = lr;
    ck_assert(hood__optimizer_step(&cfg, 0, W, dW, NULL, want, NULL, in * out));
    /* Folded, with T threads. */
    hood__pool *pool;
    ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
    layer.db = db_got;
    float *W_before = hood__matrix_alloc(in * out, 1);
    memcpy(W_before, W, in * out * sizeof(float));
    ck_assert(hood__dense_backward_sgd_pool(pool, &layer, got, lr, dZ, X, in, B));
    ck_assert_int_eq(memcmp(W, W_before, in * out * sizeof(float)), 0); /* W untouched */
    /* Rounding of W - lr·dW (1 ulp each way of |W| + lr|dW|) plus lr times the sum's
     * reordering bound (1e-5 of |dZ|·|X|ᵀ, as assert_close). */
    float *adZ = absolute(dZ, out * B), *aX = absolute(X, in * B);
    float *sumW = hood__matrix_alloc(in * out, 1);
    hood__sgemm_reference(false, true, out, in, B, 1.0f, adZ, out, aX, in, 0.0f, sumW, out);
    for (size_t i = 0; i < in * out; i++) {
        double tol = 2.5e-7 * (fabs((double)W[i]) + lr * fabs((double)dW[i])) +
                     1e-5 * lr * (double)sumW[i] + 1e-30;
        if (fabs((double)got[i] - (double)want[i]) > tol)
            ck_abort_msg("fold %zu x %zu b%zu T%d: element %zu: %.9g vs %.9g", out, in, B, T, i,
                         (double)got[i], (double)want[i]);
    }
    for (size_t i = 0; i < out; i++)
        ck_assert_float_eq(db_got[i], db_want[i]);
    /* The step really moved the weights (the test can fail if the fold did nothing). */
    size_t moved = 0;
    for (size_t i = 0; i < in * out; i++)
        moved += got[i] != W[i];
    ck_assert_uint_gt(moved, in * out / 2);
    /* A non-finite gradient input: false, and W still untouched. */
    dZ[0] = INFINITY;
    ck_assert(!hood__dense_backward_sgd_pool(pool, &layer, got, lr, dZ, X, in, B));
    ck_assert_int_eq(memcmp(W, W_before, in * out * sizeof(float)), 0);
    hood__pool_free(pool);
    float *bufs[] = {W, X, dZ, dW, want, got, W_before, adZ, aX, sumW};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        hood__matrix_free(bufs[i]);
}

START_TEST(folded_sgd_equals_unfolded)
{
    static const shape fold_shapes[] = {{22500, 10, 32}, {784, 16, 32}, {333, 7, 3}, {1, 1, 1}};
    for (size_t i = 0; i < sizeof fold_shapes / sizeof *fold_shapes; i++)
        for (int T = 1; T <= 3; T++)
            check_fold(&fold_shapes[i], T);
}
END_TEST

/* The first layer's kernel gradient fused with the optimizer step (dense.h) against the
 * unfused pair (hood__dense_backward, then hood__optimizer_step on that kernel) for one rule:
 * the kernel sits at the start of a longer arena (slot stride `stride`) with non-zero state, so
 * a wrong slot offset shows. The gradient differs by the sum's order only (1e-5 relative of
 * |dZ|·|X|ᵀ); each rule's step is scale-free or linear in it, so the results are close. */
static void check_fused_step(const shape *s, int T, hood_optimizer_kind kind)
{
    hood_rng rng;
    hood__rng_seed(&rng, 91 + s->in);
    const size_t in = s->in, out = s->out, B = s->batch, n = in * out, stride = n + 37;
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, kind);
    const size_t slots = hood__optimizer_slots(&cfg);
    float *W = random_floats(&rng, n, 0.05), *X = random_floats(&rng, in * B, 1.0);
    float *dZ = random_floats(&rng, out * B, 1.0), *dW = hood__matrix_alloc(n, 1);
    float *state = random_floats(&rng, 2 * stride, 0.01);
    for (size_t i = 0; i < 2 * stride; i++)
        state[i] = fabsf(state[i]); /* Adam's slot 1 and RMSprop's slot 0 are v >= 0 */
    float *want = hood__matrix_alloc(n, 1), *got = hood__matrix_alloc(n, 1);
    float *state_got = hood__matrix_alloc(2 * stride, 1);
    float *dW_want = hood__matrix_alloc(n, 1), *W_before = hood__matrix_alloc(n, 1);
    float *v_want = hood__matrix_alloc(slots * n + 1, 1);
    memcpy(W_before, W, n * sizeof(float));
    float b[16] = {0}, db[16];
    hood__dense layer = {.in = in,
                         .out = out,
                         .act = HOOD_ACT_LINEAR,
                         .use_bias = true,
                         .W = W,
                         .b = b,
                         .dW = dW_want,
                         .db = db};
    hood__dense_backward(&layer, NULL, dZ, X, in, B);
    /* the unfused step, on the kernel's state copied into an arena of its own (stride n), into
     * want and sw */
    for (size_t k = 0; k < slots; k++)
        memcpy(v_want + k * n, state + k * stride, n * sizeof(float));
    float *sw = hood__matrix_alloc(slots * n + 1, 1);
    ck_assert(hood__optimizer_step(&cfg, 4, W, dW_want, v_want, want, sw, n));
    hood__pool *pool;
    ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
    for (size_t i = 0; i < n; i++)
        dW[i] = -7.0f; /* not written: the bands' gradients stay on the stack */
    layer.dW = dW;
    ck_assert(hood__dense_backward_step_pool(pool, &layer, &cfg, 4, slots ? state : NULL, got,
                                             slots ? state_got : NULL, stride, dZ, X, in, B, NULL));
    ck_assert_int_eq(memcmp(W, W_before, n * sizeof(float)), 0); /* W untouched */
    size_t moved = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_float_eq(dW[i], -7.0f);
        if (fabs((double)got[i] - want[i]) > 1e-6 + 1e-6 * fabs((double)want[i]))
            ck_abort_msg("fused %zu x %zu b%zu T%d kind %d: W %zu: %.9g vs %.9g", out, in, B, T,
                         (int)kind, i, (double)got[i], (double)want[i]);
        for (size_t k = 0; k < slots; k++) {
            /* A slot's new value can be a small difference of large terms (m = b1 m + (1-b1) g
             * cancelling), so its bound scales with the gradient too: the gradient's last bits
             * depend on the BLAS kernel (OpenBLAS's Haswell kernel moved one m by 3.7e-4 of
             * itself). A wrong slot offset moves it by the state itself (~1e-2). */
            double a = state_got[k * stride + i], e = sw[k * n + i];
            if (fabs(a - e) > 1e-4 * (fabs(e) + fabs((double)dW_want[i])) + 1e-9)
                ck_abort_msg("fused kind %d: slot %zu element %zu: %.9g vs %.9g", (int)kind, k, i,
                             a, e);
        }
        moved += got[i] != W[i];
    }
    ck_assert_uint_gt(moved, n / 2);
    /* A non-finite gradient input: false, and W still untouched. */
    dZ[0] = INFINITY;
    ck_assert(!hood__dense_backward_step_pool(pool, &layer, &cfg, 4, slots ? state : NULL, got,
                                              slots ? state_got : NULL, stride, dZ, X, in, B,
                                              NULL));
    ck_assert_int_eq(memcmp(W, W_before, n * sizeof(float)), 0);
    hood__pool_free(pool);
    float *bufs[] = {W, X, dZ, dW, state, want, got, state_got, dW_want, W_before, v_want, sw};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        hood__matrix_free(bufs[i]);
}

START_TEST(fused_step_equals_unfused)
{
    static const shape shapes[] = {{22500, 10, 32}, {784, 16, 32}, {333, 7, 3}, {1, 1, 1}};
    static const hood_optimizer_kind kinds[] = {HOOD_OPT_SGD, HOOD_OPT_ADAM, HOOD_OPT_RMSPROP};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        for (int T = 1; T <= 3; T++)
            for (size_t k = 0; k < 3; k++)
                check_fused_step(&shapes[i], T, kinds[k]);
}
END_TEST

/* A narrow layer's forward runs in bands of its inputs (dense.c, k_band) added into Z, alone and
 * in each thread's share: against the double-accumulating reference, 1 to 3 threads. */
START_TEST(banded_forward_matches_reference)
{
    static const shape shapes[] = {
        {22500, 10, 32}, {22501, 10, 33}, {5000, 3, 1027}, {4097, 16, 128}, {300, 1, 5}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const shape *s = &shapes[i];
        hood_rng rng;
        hood__rng_seed(&rng, 555 + i);
        const size_t in = s->in, out = s->out, B = s->batch, ldx = in + 1;
        float *W = random_floats(&rng, in * out, 0.05), *X = random_floats(&rng, ldx * B, 1.0);
        float *A = hood__matrix_alloc(out * B, 1), *want = hood__matrix_alloc(out * B, 1);
        float *aW = absolute(W, in * out), *aX = absolute(X, ldx * B);
        float *sumZ = hood__matrix_alloc(out * B, 1);
        hood__sgemm_reference(false, false, out, B, in, 1.0f, W, out, X, ldx, 0.0f, want, out);
        hood__sgemm_reference(false, false, out, B, in, 1.0f, aW, out, aX, ldx, 0.0f, sumZ, out);
        hood__dense layer = {.in = in, .out = out, .act = HOOD_ACT_LINEAR, .W = W};
        for (int T = 1; T <= 3; T++) {
            hood__pool *pool;
            ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
            ck_assert_int_eq(hood__pool_reserve(pool, hood__dense_scratch_floats(&layer, B, T)),
                             HOOD_OK);
            hood__dense_forward_pool(pool, &layer, A, NULL, X, ldx, B);
            assert_close(A, want, sumZ, out * B, "banded forward");
            hood__pool_free(pool);
        }
        float *bufs[] = {W, X, A, want, aW, aX, sumZ};
        for (size_t k = 0; k < sizeof bufs / sizeof *bufs; k++)
            hood__matrix_free(bufs[k]);
    }
}
END_TEST

/* ---- whole fits ----------------------------------------------------------------------------- */

/* A seed-like model (d inputs → 10 tanh → 1 sigmoid, BCE, SGD) trained for 3 epochs with the
 * given threads; returns its flat weights (kernel 0, bias 0, kernel 1, bias 1). */
static float *fit_weights(size_t d, size_t n, int threads, hood_optimizer_kind kind, size_t *count)
{
    hood_dataset *ds;
    ck_assert_int_eq(hood_dataset_create(&ds, d, n), HOOD_OK);
    float *X = hood_dataset_x_mutable(ds);
    int32_t *labels = malloc(n * sizeof *labels);
    ck_assert_ptr_nonnull(labels);
    hood_rng rng;
    hood__rng_seed(&rng, 4242);
    for (size_t j = 0; j < n; j++) {
        labels[j] = (int32_t)(j % 2);
        for (size_t i = 0; i < d; i++)
            X[i + j * d] =
                (float)hood__rng_uniform(&rng) * 0.8f + (labels[j] && i % 3 == 0 ? 0.2f : 0.0f);
    }
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_BINARY, labels, 2), HOOD_OK);
    free(labels);
    hood_model *m;
    ck_assert_int_eq(hood_model_create(&m, d), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 10, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 1, HOOD_ACT_SIGMOID, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, kind);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &opt, 11), HOOD_OK);
    ck_assert_int_eq(hood_model_set_threads(m, threads), HOOD_OK);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 3;
    fo.batch_size = 32;
    fo.seed = 3;
    fo.validation_split = 0.1;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    size_t total = d * 10 + 10 + 10 + 1, off = 0;
    float *w = malloc(total * sizeof *w);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(hood_model_get_kernel(m, 0, w), HOOD_OK);
    off += d * 10;
    ck_assert_int_eq(hood_model_get_bias(m, 0, w + off), HOOD_OK);
    off += 10;
    ck_assert_int_eq(hood_model_get_kernel(m, 1, w + off), HOOD_OK);
    off += 10;
    ck_assert_int_eq(hood_model_get_bias(m, 1, w + off), HOOD_OK);
    /* Training happened: the loss fell. */
    ck_assert(hood_model_history(m, 2)->loss < hood_model_history(m, 0)->loss);
    hood_model_free(m);
    hood_dataset_free(ds);
    *count = total;
    return w;
}

START_TEST(same_threads_twice_same_bits)
{
    static const hood_optimizer_kind kinds[] = {HOOD_OPT_SGD, HOOD_OPT_ADAM};
    for (size_t k = 0; k < 2; k++) {
        for (int T = 1; T <= 2; T++) {
            size_t n1, n2;
            float *a = fit_weights(4099, 300, T, kinds[k], &n1);
            float *b = fit_weights(4099, 300, T, kinds[k], &n2);
            ck_assert_uint_eq(n1, n2);
            ck_assert_int_eq(memcmp(a, b, n1 * sizeof(float)), 0);
            free(a);
            free(b);
        }
    }
}
END_TEST

START_TEST(two_threads_close_to_one)
{
    /* 1 vs 2 threads differ only by the K split's summation order (a few ulp per step), which
     * 3 epochs of SGD keep far below 1e-3 of the weights' scale. */
    size_t n1, n2;
    float *a = fit_weights(22500, 200, 1, HOOD_OPT_SGD, &n1);
    float *b = fit_weights(22500, 200, 2, HOOD_OPT_SGD, &n2);
    ck_assert_uint_eq(n1, n2);
    double max_diff = 0.0;
    for (size_t i = 0; i < n1; i++)
        max_diff = fmax(max_diff, fabs((double)a[i] - (double)b[i]));
    ck_assert_msg(max_diff < 1e-4, "max |w1 - w2| = %g", max_diff);
    free(a);
    free(b);
}
END_TEST

/* The 1-thread references run with OpenBLAS at 1 thread: its own threads synchronise in code
 * ThreadSanitizer does not see (false races in the -Db_sanitize=thread run), and 1 thread is
 * what the pool runs BLAS at anyway. */
static void blas_one_thread(void)
{
    hood__blas_set_threads(1);
}

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("parallel");
    TCase *pool = tcase_create("pool");
    tcase_set_timeout(pool, 60);
    tcase_add_test(pool, pool_runs_every_share_once);
    tcase_add_test(pool, pool_shares_stolen_run_exactly_once);
    tcase_add_test(pool, adaptive_keeps_the_faster_way);
    tcase_add_test(pool, adaptive_is_not_fooled_by_a_fast_start);
    tcase_add_test(pool, pool_waits_for_slow_shares_and_sleeping_workers);
    tcase_add_test(pool, pool_create_free_restores_blas_threads);
    suite_add_tcase(s, pool);
    TCase *split = tcase_create("split");
    tcase_set_timeout(split, 120);
    tcase_add_checked_fixture(split, blas_one_thread, NULL);
    tcase_add_test(split, split_products_match_one_thread_2);
    tcase_add_test(split, split_products_match_one_thread_3_and_4);
    tcase_add_test(split, cost_model_splits_seed_forward_over_k);
    tcase_add_test(split, split_k_without_scratch_still_correct);
    tcase_add_test(split, split_gather_same_bytes);
    tcase_add_test(split, folded_sgd_equals_unfolded);
    tcase_add_test(split, fused_step_equals_unfused);
    tcase_add_test(split, banded_forward_matches_reference);
    tcase_add_test(split, every_policy_gives_the_same_bits);
    suite_add_tcase(s, split);
    TCase *fit = tcase_create("fit");
    tcase_set_timeout(fit, 120);
    tcase_add_checked_fixture(fit, blas_one_thread, NULL);
    tcase_add_test(fit, same_threads_twice_same_bits);
    tcase_add_test(fit, two_threads_close_to_one);
    suite_add_tcase(s, fit);
    return s;
}
