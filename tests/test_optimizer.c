/* test_optimizer.c — one and two hand-worked steps of every Keras update rule on a 2-parameter
 * problem, the divergence probe, option checks, and the Keras names and defaults (names.c). */
#include "check_main.h"
#include "optimizer_rules.h"

#include "error.h"
#include "optimizer.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The problem: L(w) = 0.5 w0 - w1, a linear loss whose gradient is the constant g = (0.5, -1)
 * at every w, so the second step uses the same g. Start at w = (1, -2). */
static const float G[2] = {0.5f, -1.0f};

#define ASSERT_NEAR(a, b, tol) ck_assert_double_le(fabs((double)(a) - (double)(b)), (tol))

static void run_steps(const hood_optimizer_config *cfg, int steps, float *w, float *state,
                      uint64_t *t)
{
    w[0] = 1.0f;
    w[1] = -2.0f;
    memset(state, 0, 4 * sizeof(float));
    *t = 0;
    for (int i = 0; i < steps; i++) {
        /* out of place, as the model runs it: new arrays, then they become current */
        float w_out[2], state_out[4] = {0};
        ck_assert(hood__optimizer_step(cfg, *t, w, G, state, w_out, state_out, 2));
        memcpy(w, w_out, sizeof w_out);
        memcpy(state, state_out, sizeof state_out);
        *t += 1;
    }
}

START_TEST(sgd_plain_step)
{
    /* w -= lr g with lr 0.1: (1 - 0.05, -2 + 0.1) = (0.95, -1.9); no state. */
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    cfg.learning_rate = 0.1f;
    ck_assert_uint_eq(hood__optimizer_slots(&cfg), 0);
    float w[2], state[4];
    uint64_t t;
    run_steps(&cfg, 1, w, state, &t);
    ASSERT_NEAR(w[0], 0.95, 1e-7);
    ASSERT_NEAR(w[1], -1.9, 1e-7);
    ck_assert_uint_eq(t, 1);
}
END_TEST

START_TEST(sgd_momentum_two_steps)
{
    /* lr 0.1, momentum 0.9, m = 0:
     *   step 1: m = -lr g = (-0.05, 0.1);            w = (0.95, -1.9)
     *   step 2: m = -lr g + 0.9 m = (-0.095, 0.19);  w = (0.855, -1.71) */
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    cfg.learning_rate = 0.1f;
    cfg.momentum = 0.9f;
    ck_assert_uint_eq(hood__optimizer_slots(&cfg), 1);
    float w[2], state[4];
    uint64_t t;
    run_steps(&cfg, 1, w, state, &t);
    ASSERT_NEAR(w[0], 0.95, 1e-7);
    ASSERT_NEAR(w[1], -1.9, 1e-7);
    ASSERT_NEAR(state[0], -0.05, 1e-8);
    ASSERT_NEAR(state[1], 0.1, 1e-8);
    run_steps(&cfg, 2, w, state, &t);
    ASSERT_NEAR(w[0], 0.855, 2e-7);
    ASSERT_NEAR(w[1], -1.71, 2e-7);
    ASSERT_NEAR(state[0], -0.095, 1e-8);
    ASSERT_NEAR(state[1], 0.19, 1e-7);
}
END_TEST

START_TEST(sgd_nesterov_two_steps)
{
    /* lr 0.1, momentum 0.9, Nesterov: w += -lr g + 0.9 m_new
     *   step 1: m = (-0.05, 0.1);    w = 1 - 0.05 - 0.045 = 0.905,   -2 + 0.1 + 0.09 = -1.81
     *   step 2: m = (-0.095, 0.19);  w = 0.905 - 0.05 - 0.0855 = 0.7695,
     *                                    -1.81 + 0.1 + 0.171 = -1.539 */
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    cfg.learning_rate = 0.1f;
    cfg.momentum = 0.9f;
    cfg.nesterov = true;
    float w[2], state[4];
    uint64_t t;
    run_steps(&cfg, 1, w, state, &t);
    ASSERT_NEAR(w[0], 0.905, 1e-7);
    ASSERT_NEAR(w[1], -1.81, 1e-7);
    run_steps(&cfg, 2, w, state, &t);
    ASSERT_NEAR(w[0], 0.7695, 2e-7);
    ASSERT_NEAR(w[1], -1.539, 2e-7);
}
END_TEST

START_TEST(adam_step_t1)
{
    /* lr 0.1, b1 0.9, b2 0.999, eps 1e-7, t = 1:
     *   m = 0.1 g = (0.05, -0.1);  v = 0.001 g^2 = (0.00025, 0.001)
     *   alpha = lr sqrt(1 - 0.999) / (1 - 0.9) = 0.1 * 0.0316228 / 0.1 = 0.0316228
     *   w0 -= 0.0316228 * 0.05 / (0.0158114 + 1e-7) = 0.0999994 -> 0.9000006
     *   w1 -= 0.0316228 * -0.1 / (0.0316228 + 1e-7) = -0.0999997 -> -1.9000003
     * (the first Adam step moves each weight by about lr sign(g)) */
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_ADAM);
    cfg.learning_rate = 0.1f;
    ck_assert_uint_eq(hood__optimizer_slots(&cfg), 2);
    float w[2], state[4];
    uint64_t t;
    run_steps(&cfg, 1, w, state, &t);
    ASSERT_NEAR(w[0], 0.9000006, 3e-7);
    ASSERT_NEAR(w[1], -1.9000003, 3e-7);
    ASSERT_NEAR(state[0], 0.05, 1e-7); /* 1 - 0.9f rounds to 0.10000002 */ /* m */
    ASSERT_NEAR(state[1], -0.1, 1e-7);
    ASSERT_NEAR(state[2], 0.00025, 1e-8); /* v; 1 - 0.999f = 0.00100005 */
    ASSERT_NEAR(state[3], 0.001, 5e-8);
    ck_assert_uint_eq(t, 1);
}
END_TEST

START_TEST(adam_step_t2)
{
    /* t = 2 with the same g:
     *   m = 0.9 * 0.05 + 0.1 * 0.5 = 0.095;   v = 0.999 * 0.00025 + 0.001 * 0.25 = 0.00049975
     *   alpha = 0.1 sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.1 * 0.0447102 / 0.19 = 0.0235317
     *   w0 -= 0.0235317 * 0.095 / (0.0223552 + 1e-7) = 0.0999996 -> 0.8000011
     *   w1: m = -0.19, v = 0.001999, same arithmetic -> -1.8000005 */
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_ADAM);
    cfg.learning_rate = 0.1f;
    float w[2], state[4];
    uint64_t t;
    run_steps(&cfg, 2, w, state, &t);
    ASSERT_NEAR(w[0], 0.8000011, 4e-7);
    ASSERT_NEAR(w[1], -1.8000005, 4e-7);
    ASSERT_NEAR(state[0], 0.095, 1e-7);
    ASSERT_NEAR(state[2], 0.00049975, 1e-8);
    ck_assert_uint_eq(t, 2);
}
END_TEST

START_TEST(rmsprop_two_steps)
{
    /* lr 0.01, rho 0.9, eps 1e-7 inside the root (Keras 3):
     *   step 1: v = 0.1 g^2 = (0.025, 0.1)
     *           w0 -= 0.01 * 0.5 / sqrt(0.0250001) = 0.0316227 -> 0.9683773
     *           w1 -= 0.01 * -1 / sqrt(0.1000001) = -0.0316228 -> -1.9683772
     *   step 2: v = 0.9 * 0.025 + 0.1 * 0.25 = 0.0475
     *           w0 -= 0.005 / sqrt(0.0475001) = 0.0229416 -> 0.9454357 */
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_RMSPROP);
    cfg.learning_rate = 0.01f;
    ck_assert_uint_eq(hood__optimizer_slots(&cfg), 1);
    float w[2], state[4];
    uint64_t t;
    run_steps(&cfg, 1, w, state, &t);
    ASSERT_NEAR(w[0], 0.9683773, 2e-7);
    ASSERT_NEAR(w[1], -1.9683772, 2e-7);
    ASSERT_NEAR(state[0], 0.025, 3e-8);
    run_steps(&cfg, 2, w, state, &t);
    ASSERT_NEAR(w[0], 0.9454357, 3e-7);
    ASSERT_NEAR(w[1], -1.9454357, 3e-7);
    ASSERT_NEAR(state[1], 0.19, 1e-7);
}
END_TEST

START_TEST(rmsprop_momentum_step)
{
    /* momentum 0.5: mom = 0.5 mom + increment. Step 1 mom = increment (w as plain RMSprop);
     * step 2: mom0 = 0.5 * 0.0316227 + 0.0229416 = 0.0387529 -> w0 = 0.9683773 - 0.0387529. */
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_RMSPROP);
    cfg.learning_rate = 0.01f;
    cfg.momentum = 0.5f;
    ck_assert_uint_eq(hood__optimizer_slots(&cfg), 2);
    float w[2], state[4];
    uint64_t t;
    run_steps(&cfg, 2, w, state, &t);
    ASSERT_NEAR(w[0], 0.9683773 - 0.0387529, 3e-7);
}
END_TEST

START_TEST(step_refuses_non_finite_results)
{
    /* w = 3e38, g = -1e38, lr 10: w - g lr = 3e38 + 1e39 overflows float. The step says so and
     * the inputs are untouched (it writes only its outputs); a NaN or infinite gradient is
     * refused too; a normal step passes. */
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    cfg.learning_rate = 10.0f;
    float w[2] = {3e38f, 1.0f}, g[2] = {-1e38f, 0.0f}, state[4] = {0};
    float w_out[2], state_out[4];
    ck_assert(!hood__optimizer_step(&cfg, 0, w, g, state, w_out, state_out, 2));
    ck_assert(w[0] == 3e38f && w[1] == 1.0f);
    g[0] = NAN;
    ck_assert(!hood__optimizer_step(&cfg, 0, w, g, state, w_out, state_out, 2));
    g[0] = 1.0f;
    ck_assert(hood__optimizer_step(&cfg, 0, w, g, state, w_out, state_out, 2));
    ck_assert(w_out[0] == 3e38f - 10.0f && w_out[1] == 1.0f);
    hood_optimizer_config_init(&cfg, HOOD_OPT_ADAM);
    g[0] = INFINITY;
    ck_assert(!hood__optimizer_step(&cfg, 0, w, g, state, w_out, state_out, 2));
    ck_assert(state[0] == 0.0f && state[2] == 0.0f);
    /* a gradient whose square overflows makes Adam's v infinite: refused as well */
    g[0] = 1e20f;
    ck_assert(!hood__optimizer_step(&cfg, 0, w, g, state, w_out, state_out, 2));
}
END_TEST

START_TEST(subnormals_are_flushed_to_zero)
{
    /* A zero gradient decays m by the momentum: 1e-38 * 0.5 is subnormal and becomes exactly
     * 0 (x86 arithmetic on subnormals is ~100x slower); normal values are untouched; an
     * infinite gradient still makes the step refuse (NaN/Inf pass the flush). */
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    cfg.momentum = 0.5f;
    float w[2] = {1e-39f, 2.0f}, g[2] = {0.0f, 0.0f}, m[2] = {1e-38f, 4.0f};
    float w_out[2], m_out[2];
    ck_assert(hood__optimizer_step(&cfg, 0, w, g, m, w_out, m_out, 2));
    ck_assert(m_out[0] == 0.0f && w_out[0] == 0.0f);
    ck_assert(m_out[1] == 2.0f && w_out[1] == 4.0f); /* m = 0.5 * 4; w = 2 + m */
    hood_optimizer_config_init(&cfg, HOOD_OPT_ADAM);
    float s[4] = {1e-38f, 0.0f, 1e-38f, 0.0f}, s_out[4];
    ck_assert(hood__optimizer_step(&cfg, 0, w, g, s, w_out, s_out, 2));
    ck_assert(s_out[0] == 0.0f && s_out[2] == 0.0f); /* m * 0.9 and v * 0.999: subnormal */
    g[1] = -INFINITY;
    ck_assert(!hood__optimizer_step(&cfg, 0, w, g, s, w_out, s_out, 2));
}
END_TEST

START_TEST(long_arena_matches_element_by_element)
{
    /* 133 elements = two blocks of 64 plus a tail of 5: the blocked loop gives exactly the
     * bits of running each element alone (n = 1), for every rule. */
    enum { N = 133 };
    hood_optimizer_kind kinds[3] = {HOOD_OPT_SGD, HOOD_OPT_ADAM, HOOD_OPT_RMSPROP};
    for (int k = 0; k < 3; k++) {
        hood_optimizer_config cfg;
        hood_optimizer_config_init(&cfg, kinds[k]);
        cfg.momentum = kinds[k] == HOOD_OPT_ADAM ? 0.0f : 0.9f;
        cfg.nesterov = true;
        size_t slots = hood__optimizer_slots(&cfg);
        float w[N], g[N], state[2 * N], w_out[N], state_out[2 * N];
        for (int i = 0; i < N; i++) {
            w[i] = (float)sin(i);
            g[i] = (float)cos(3.0 * i);
            state[i] = 0.01f * (float)i;
            state[N + i] = 0.02f * (float)i;
        }
        ck_assert(hood__optimizer_step(&cfg, 3, w, g, state, w_out, state_out, N));
        for (int i = 0; i < N; i++) {
            float wi, si[2], s_in[2] = {state[i], state[N + i]};
            ck_assert(hood__optimizer_step(&cfg, 3, &w[i], &g[i], s_in, &wi, si, 1));
            ck_assert_msg(wi == w_out[i], "kind %d element %d", k, i);
            ck_assert(slots < 1 || si[0] == state_out[i]);
            ck_assert(slots < 2 || si[1] == state_out[N + i]);
            ck_assert(wi != w[i]); /* every weight moved */
        }
    }
}
END_TEST

/* A plain scalar reference of each rule, written from Keras' formulas in the order optimizer.c
 * rounds them, one element at a time (no blocks, no vectors, no pool): the optimized step must
 * give exactly its bits. */
static float ref_ftz(float x)
{
    return (x != 0.0f && fabsf(x) < FLT_MIN) ? copysignf(0.0f, x) : x;
}

static void ref_step(const hood_optimizer_config *cfg, uint64_t t, size_t n, const float *w,
                     const float *g, const float *state, float *w_out, float *state_out)
{
    float alpha = 0.0f;
    if (cfg->kind == HOOD_OPT_ADAM) {
        double tt = (double)(t + 1);
        double b1t = pow((double)cfg->beta_1, tt), b2t = pow((double)cfg->beta_2, tt);
        alpha = (float)((double)cfg->learning_rate * sqrt(1.0 - b2t) / (1.0 - b1t));
    }
    for (size_t i = 0; i < n; i++) {
        float gi = ref_ftz(g[i]), wi = w[i];
        if (cfg->kind == HOOD_OPT_SGD && cfg->momentum <= 0.0f) {
            w_out[i] = wi - gi * cfg->learning_rate;
        } else if (cfg->kind == HOOD_OPT_SGD) {
            float step = -gi * cfg->learning_rate;
            float m = ref_ftz(step + state[i] * cfg->momentum);
            state_out[i] = m;
            w_out[i] = ref_ftz(cfg->nesterov ? wi + (step + m * cfg->momentum) : wi + m);
        } else if (cfg->kind == HOOD_OPT_ADAM) {
            float m = state[i], v = state[n + i];
            m = ref_ftz(m + (gi - m) * (1.0f - cfg->beta_1));
            v = ref_ftz(v + (gi * gi - v) * (1.0f - cfg->beta_2));
            state_out[i] = m;
            state_out[n + i] = v;
            w_out[i] = ref_ftz(wi - (m * alpha) / (sqrtf(v) + cfg->epsilon));
        } else {
            float v = ref_ftz(cfg->rho * state[i] + (1.0f - cfg->rho) * (gi * gi));
            float inc = (cfg->learning_rate * gi) / sqrtf(v + cfg->epsilon);
            state_out[i] = v;
            if (cfg->momentum > 0.0f) {
                float mom = ref_ftz(cfg->momentum * state[n + i] + inc);
                state_out[n + i] = mom;
                w_out[i] = ref_ftz(wi - mom);
            } else {
                w_out[i] = ref_ftz(wi - inc);
            }
        }
    }
}

/* An arena of n values over many magnitudes (some subnormal, some zero) from a fixed LCG. */
static void fill_arena(float *x, size_t n, uint32_t seed, bool nonneg)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        int e = (int)(seed >> 24) % 60 - 45; /* 2^-45 .. 2^14 */
        float f = ldexpf(1.0f + (float)(seed & 0xffff) / 65536.0f, e);
        if (seed % 97 == 0)
            f = 1e-40f; /* subnormal */
        if (seed % 89 == 0)
            f = 0.0f;
        x[i] = (!nonneg && (seed & 0x800000u)) ? -f : f;
    }
}

/* The arenas a step comparison needs: w and g (n floats), the state st (2n), and two outputs,
 * (w1, s1) and (w2, s2). */
typedef struct arenas {
    float *w, *g, *st, *w1, *s1, *w2, *s2;
} arenas;

static arenas arenas_alloc(size_t n)
{
    arenas a = {malloc(n * sizeof(float)),     malloc(n * sizeof(float)),
                malloc(2 * n * sizeof(float)), malloc(n * sizeof(float)),
                malloc(2 * n * sizeof(float)), malloc(n * sizeof(float)),
                malloc(2 * n * sizeof(float))};
    ck_assert(a.w && a.g && a.st && a.w1 && a.s1 && a.w2 && a.s2);
    return a;
}

/* w, g and st from fill_arena with seeds seed, seed + 1, seed + 2 (st non-negative). */
static void arenas_fill(const arenas *a, size_t n, uint32_t seed)
{
    fill_arena(a->w, n, seed, false);
    fill_arena(a->g, n, seed + 1, false);
    fill_arena(a->st, 2 * n, seed + 2, true);
}

static void arenas_free(arenas *a)
{
    float *all[] = {a->w, a->g, a->st, a->w1, a->s1, a->w2, a->s2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        free(all[i]);
}

START_TEST(step_matches_scalar_reference_bit_for_bit)
{
    /* Every rule, several steps t, arena lengths around the block and vector widths: the
     * optimized step (whatever vector width the CPU picks) equals the scalar reference exactly. */
    static const size_t lens[] = {1, 15, 16, 17, 64, 65, 1000, 4099};
    enum { MAXN = 4099 };
    arenas a = arenas_alloc(MAXN);
    float *w = a.w, *g = a.g, *st = a.st, *w1 = a.w1, *s1 = a.s1, *w2 = a.w2, *s2 = a.s2;
    for (int r = 0; r < 6; r++) {
        hood_optimizer_config cfg;
        rule_config(r, &cfg);
        size_t slots = hood__optimizer_slots(&cfg);
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            size_t n = lens[li];
            fill_arena(w, n, 11u + (uint32_t)r, false);
            fill_arena(g, n, 23u + (uint32_t)li, false);
            fill_arena(st, n, 37u, r != 1 && r != 2); /* v >= 0 (Adam's m may be any sign) */
            fill_arena(st + n, n, 41u, r != 5);
            for (uint64_t t = 0; t < 3; t++) {
                memset(s1, 0, 2 * n * sizeof *s1);
                memset(s2, 0, 2 * n * sizeof *s2);
                ref_step(&cfg, t * 7, n, w, g, st, w1, s1);
                ck_assert(hood__optimizer_step(&cfg, t * 7, w, g, st, w2, s2, n));
                ck_assert_msg(memcmp(w1, w2, n * sizeof *w1) == 0, "rule %d n %zu: weights", r, n);
                ck_assert_msg(memcmp(s1, s2, slots * n * sizeof *s1) == 0, "rule %d n %zu: state",
                              r, n);
            }
        }
    }
    arenas_free(&a);
}
END_TEST

START_TEST(pool_step_equals_one_thread_bit_for_bit)
{
    /* The update cut over 2 and 3 threads (workers or the caller running every share) gives the
     * bits of the 1-thread step, and the divergence flag from any band reaches the caller. */
    enum { N = 100003 };
    arenas a = arenas_alloc(N);
    arenas_fill(&a, N, 5u);
    float *w = a.w, *g = a.g, *st = a.st, *w1 = a.w1, *s1 = a.s1, *w2 = a.w2, *s2 = a.s2;
    static const hood__pool_policy policies[2] = {HOOD__POOL_SHARED, HOOD__POOL_CALLER};
    for (int T = 2; T <= 3; T++) {
        for (int p = 0; p < 2; p++) {
            hood__pool *pool = NULL;
            ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
            hood__pool_set_policy(pool, policies[p]);
            for (int r = 0; r < 6; r++) {
                hood_optimizer_config cfg;
                rule_config(r, &cfg);
                size_t slots = hood__optimizer_slots(&cfg);
                memset(s1, 0, 2 * N * sizeof *s1);
                memset(s2, 0xff, 2 * N * sizeof *s2);
                ck_assert(hood__optimizer_step(&cfg, 4, w, g, st, w1, s1, N));
                ck_assert(hood__optimizer_step_pool(pool, &cfg, 4, w, g, st, w2, s2, N));
                ck_assert_msg(memcmp(w1, w2, N * sizeof *w1) == 0, "T %d rule %d: weights", T, r);
                ck_assert_msg(memcmp(s1, s2, slots * N * sizeof *s1) == 0, "T %d rule %d: state",
                              T, r);
                /* a non-finite gradient in the last band is refused */
                float keep = g[N - 3];
                g[N - 3] = INFINITY;
                ck_assert(!hood__optimizer_step_pool(pool, &cfg, 4, w, g, st, w2, s2, N));
                g[N - 3] = keep;
            }
            hood__pool_stats stats;
            hood__pool_get_stats(pool, &stats);
            ck_assert_uint_eq(stats.runs, 12); /* the step went through the pool */
            hood__pool_free(pool);
        }
    }
    arenas_free(&a);
}
END_TEST

/* The largest |x| of n floats, in double. */
static double abs_max(const float *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fabs((double)x[i]) > m ? fabs((double)x[i]) : m;
    return m;
}

START_TEST(in_place_step_matches_guarded_bit_for_bit)
{
    /* The in-place step (outputs = inputs) gives exactly the guarded out-of-place step's bits for
     * every rule, alone and over 2 and 3 threads, and the guarded step's maxima are those of
     * what it wrote. */
    enum { N = 100003 };
    arenas a = arenas_alloc(N);
    arenas_fill(&a, N, 15u);
    float *w = a.w, *g = a.g, *st = a.st, *w1 = a.w1, *s1 = a.s1, *w2 = a.w2, *s2 = a.s2;
    for (int T = 1; T <= 3; T++) {
        hood__pool *pool = NULL;
        if (T > 1)
            ck_assert_int_eq(hood__pool_create(&pool, T), HOOD_OK);
        for (int r = 0; r < 6; r++) {
            hood_optimizer_config cfg;
            rule_config(r, &cfg);
            size_t slots = hood__optimizer_slots(&cfg);
            memset(s1, 0, 2 * N * sizeof *s1);
            hood__arena_max mx = {0.0f, {0.0f, 0.0f}};
            ck_assert(hood__optimizer_step_max(pool, &cfg, 6, w, g, st, w1, s1, N, N, &mx));
            memcpy(w2, w, N * sizeof *w2);
            memcpy(s2, st, 2 * N * sizeof *s2);
            ck_assert(hood__optimizer_step_max(pool, &cfg, 6, w2, g, s2, w2, s2, N, N, NULL));
            ck_assert_msg(memcmp(w1, w2, N * sizeof *w1) == 0, "T %d rule %d: weights", T, r);
            ck_assert_msg(memcmp(s1, s2, slots * N * sizeof *s1) == 0, "T %d rule %d: state", T, r);
            ck_assert_double_eq(mx.w, abs_max(w1, N));
            ck_assert_double_eq(mx.s[0], slots > 0 ? abs_max(s1, N) : 0.0);
            ck_assert_double_eq(mx.s[1], slots > 1 ? abs_max(s1 + N, N) : 0.0);
            ck_assert(mx.w > 0.0f && (slots == 0 || mx.s[0] > 0.0f));
        }
        hood__pool_free(pool);
    }
    arenas_free(&a);
}
END_TEST

/* A float of magnitude 10^e (e uniform in [lo, hi)) from an LCG, signed unless nonneg. */
static float draw(uint32_t *seed, int lo, int hi, bool nonneg)
{
    *seed = *seed * 1664525u + 1013904223u;
    double e = lo + (hi - lo) * (double)(*seed >> 8) / 16777216.0;
    float f = (float)pow(10.0, e);
    return (!nonneg && (*seed & 1u)) ? -f : f;
}

START_TEST(safe_bound_covers_the_step)
{
    /* Whenever hood__optimizer_safe says a step is safe (from the exact maxima and gradient
     * bound), the step is finite and its new maxima stay within the bounds it gave; over
     * magnitudes up to 10^38, so both answers come up often. Settings vary too (a tiny
     * epsilon, a large learning rate). */
    enum { N = 256, TRIALS = 600 };
    float w[N], g[N], st[2 * N], w_out[N], s_out[2 * N];
    uint32_t seed = 99u;
    int safe = 0, unsafe = 0;
    for (int trial = 0; trial < TRIALS; trial++) {
        hood_optimizer_config cfg;
        rule_config(trial % 6, &cfg);
        if (trial % 5 == 1)
            cfg.learning_rate = draw(&seed, -4, 8, true);
        if (trial % 7 == 2 && cfg.kind != HOOD_OPT_SGD)
            cfg.epsilon = draw(&seed, -30, -7, true);
        int top_w = (int)(seed % 40), top_g = (int)((seed >> 8) % 40),
            top_s = (int)((seed >> 16) % 40);
        for (int i = 0; i < N; i++) {
            w[i] = draw(&seed, -20, top_w - 1, false);
            g[i] = draw(&seed, -20, top_g - 1, false);
            st[i] = draw(&seed, -20, top_s - 1, cfg.kind == HOOD_OPT_RMSPROP);
            st[N + i] = draw(&seed, -20, top_s - 1, cfg.kind == HOOD_OPT_ADAM);
        }
        hood__arena_max now = {(float)abs_max(w, N),
                               {(float)abs_max(st, N), (float)abs_max(st + N, N)}};
        hood__arena_max next;
        uint64_t t = seed % 1000;
        if (!hood__optimizer_safe(&cfg, t, &now, abs_max(g, N), &next)) {
            unsafe++;
            continue;
        }
        safe++;
        size_t slots = hood__optimizer_slots(&cfg);
        ck_assert_msg(hood__optimizer_step(&cfg, t, w, g, st, w_out, s_out, N), "trial %d", trial);
        ck_assert_msg(abs_max(w_out, N) <= next.w, "trial %d: w %g > %g", trial, abs_max(w_out, N),
                      (double)next.w);
        ck_assert(slots < 1 || abs_max(s_out, N) <= next.s[0]);
        ck_assert(slots < 2 || abs_max(s_out + N, N) <= next.s[1]);
    }
    ck_assert_int_gt(safe, TRIALS / 5);
    ck_assert_int_gt(unsafe, TRIALS / 5);
}
END_TEST

START_TEST(safe_refuses_large_values)
{
    /* Small everything is safe; a weight, a gradient or a state value past the margin (1e30 for
     * values, 1e15 for gradients of the rules that square them) is not, nor a NaN; the state
     * alone can make a step unsafe. An unsafe step may still be finite: the guarded step then
     * takes it (here Adam with v = 1e31). */
    hood__arena_max small = {1.0f, {1e-3f, 1e-6f}};
    for (int r = 0; r < 6; r++) {
        hood_optimizer_config cfg;
        rule_config(r, &cfg);
        size_t slots = hood__optimizer_slots(&cfg);
        ck_assert_msg(hood__optimizer_safe(&cfg, 3, &small, 10.0, NULL), "rule %d", r);
        hood__arena_max big_w = small;
        big_w.w = 1e31f;
        ck_assert(!hood__optimizer_safe(&cfg, 3, &big_w, 10.0, NULL));
        ck_assert(!hood__optimizer_safe(&cfg, 3, &small, 1e31, NULL));
        ck_assert(!hood__optimizer_safe(&cfg, 3, &small, NAN, NULL));
        if (cfg.kind != HOOD_OPT_SGD)
            ck_assert(!hood__optimizer_safe(&cfg, 3, &small, 1e16, NULL));
        for (size_t s = 0; s < slots; s++) {
            hood__arena_max big_s = small;
            big_s.s[s] = 1e31f;
            ck_assert_msg(!hood__optimizer_safe(&cfg, 3, &big_s, 10.0, NULL), "rule %d slot %zu", r,
                          s);
            big_s.s[s] = NAN;
            ck_assert(!hood__optimizer_safe(&cfg, 3, &big_s, 10.0, NULL));
        }
    }
    hood_optimizer_config adam;
    hood_optimizer_config_init(&adam, HOOD_OPT_ADAM);
    hood__arena_max big_v = {1.0f, {1e-3f, 1e31f}};
    ck_assert(!hood__optimizer_safe(&adam, 0, &big_v, 1.0, NULL));
    float w[2] = {1.0f, -1.0f}, g[2] = {0.5f, -0.5f}, st[4] = {1e-3f, 0.0f, 1e31f, 0.0f};
    float w_out[2], s_out[4];
    ck_assert(hood__optimizer_step(&adam, 0, w, g, st, w_out, s_out, 2));
    /* and with m near FLT_MAX, v = 0 and g = 0 the step overflows (m alpha / eps): refused */
    st[0] = 3e38f;
    st[2] = 0.0f;
    g[0] = 0.0f;
    ck_assert(!hood__optimizer_step(&adam, 0, w, g, st, w_out, s_out, 2));
}
END_TEST

START_TEST(config_check_rejects_bad_values)
{
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    ck_assert_int_eq(hood__optimizer_check(&cfg), HOOD_OK);
    cfg.learning_rate = 0.0f;
    ck_assert_int_eq(hood__optimizer_check(&cfg), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "learning_rate"));
    cfg.learning_rate = NAN;
    ck_assert_int_eq(hood__optimizer_check(&cfg), HOOD_EINVAL);
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    cfg.momentum = 1.0f;
    ck_assert_int_eq(hood__optimizer_check(&cfg), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "momentum"));
    hood_optimizer_config_init(&cfg, HOOD_OPT_ADAM);
    cfg.beta_2 = 1.5f;
    ck_assert_int_eq(hood__optimizer_check(&cfg), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "beta"));
    hood_optimizer_config_init(&cfg, HOOD_OPT_RMSPROP);
    cfg.epsilon = 0.0f;
    ck_assert_int_eq(hood__optimizer_check(&cfg), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "epsilon"));
    cfg.epsilon = 1e-7f;
    cfg.kind = (hood_optimizer_kind)7;
    ck_assert_int_eq(hood__optimizer_check(&cfg), HOOD_EINVAL);
}
END_TEST

START_TEST(config_defaults_are_keras)
{
    hood_optimizer_config cfg;
    hood_optimizer_config_init(&cfg, HOOD_OPT_SGD);
    ck_assert(cfg.kind == HOOD_OPT_SGD && cfg.learning_rate == 0.01f && cfg.momentum == 0.0f &&
              !cfg.nesterov);
    hood_optimizer_config_init(&cfg, HOOD_OPT_ADAM);
    ck_assert(cfg.learning_rate == 0.001f && cfg.beta_1 == 0.9f && cfg.beta_2 == 0.999f &&
              cfg.epsilon == 1e-7f);
    hood_optimizer_config_init(&cfg, HOOD_OPT_RMSPROP);
    ck_assert(cfg.learning_rate == 0.001f && cfg.rho == 0.9f && cfg.momentum == 0.0f &&
              cfg.epsilon == 1e-7f);
    hood_fit_options fo;
    memset(&fo, 0xff, sizeof fo);
    hood_fit_options_init(&fo);
    ck_assert_uint_eq(fo.epochs, 1);
    ck_assert_uint_eq(fo.batch_size, 32);
    ck_assert(fo.shuffle && !fo.early_stopping && fo.validation_data == NULL);
    ck_assert(fo.monitor == HOOD_MONITOR_VAL_LOSS && fo.patience == 0 && fo.min_delta == 0.0);
    ck_assert(fo.on_epoch_end == NULL && fo.on_batch_end == NULL);
}
END_TEST

START_TEST(names_round_trip)
{
    for (int a = HOOD_ACT_LINEAR; a <= HOOD_ACT_SOFTMAX; a++) {
        hood_activation back;
        ck_assert_int_eq(hood_activation_parse(hood_activation_name(a), &back), HOOD_OK);
        ck_assert_int_eq(back, a);
    }
    for (int l = HOOD_LOSS_BINARY_CROSSENTROPY; l <= HOOD_LOSS_MEAN_SQUARED_ERROR; l++) {
        hood_loss back;
        ck_assert_int_eq(hood_loss_parse(hood_loss_name(l), &back), HOOD_OK);
        ck_assert_int_eq(back, l);
    }
    for (int k = HOOD_OPT_SGD; k <= HOOD_OPT_RMSPROP; k++) {
        hood_optimizer_kind back;
        ck_assert_int_eq(hood_optimizer_parse(hood_optimizer_name(k), &back), HOOD_OK);
        ck_assert_int_eq(back, k);
    }
    for (int i = HOOD_INIT_GLOROT_UNIFORM; i <= HOOD_INIT_ZEROS; i++) {
        hood_initializer back;
        ck_assert_int_eq(hood_initializer_parse(hood_initializer_name(i), &back), HOOD_OK);
        ck_assert_int_eq(back, i);
    }
    ck_assert_str_eq(hood_activation_name(HOOD_ACT_RELU), "relu");
    ck_assert_str_eq(hood_loss_name(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY),
                     "sparse_categorical_crossentropy");
    ck_assert_str_eq(hood_optimizer_name(HOOD_OPT_ADAM), "adam");
    ck_assert_str_eq(hood_initializer_name(HOOD_INIT_GLOROT_UNIFORM), "glorot_uniform");
}
END_TEST

START_TEST(names_parse_case_and_errors)
{
    hood_activation act;
    ck_assert_int_eq(hood_activation_parse("TanH", &act), HOOD_OK);
    ck_assert_int_eq(act, HOOD_ACT_TANH);
    hood_loss loss;
    ck_assert_int_eq(hood_loss_parse("MSE", &loss), HOOD_OK);
    ck_assert_int_eq(loss, HOOD_LOSS_MEAN_SQUARED_ERROR);
    hood_optimizer_kind kind;
    ck_assert_int_eq(hood_optimizer_parse("RMSprop", &kind), HOOD_OK);
    ck_assert_int_eq(kind, HOOD_OPT_RMSPROP);
    ck_assert_int_eq(hood_activation_parse("gelu", &act), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "unknown activation 'gelu'"));
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "softmax"));
    ck_assert_int_eq(hood_optimizer_parse("adamw", &kind), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "adamw"));
    ck_assert_int_eq(hood_loss_parse(NULL, &loss), HOOD_EINVAL);
    hood_initializer init;
    ck_assert_int_eq(hood_initializer_parse("glorot", &init), HOOD_EINVAL);
    ck_assert_str_eq(hood_activation_name((hood_activation)42), "unknown");
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("optimizer");
    TCase *tc = tcase_create("steps");
    tcase_add_test(tc, sgd_plain_step);
    tcase_add_test(tc, sgd_momentum_two_steps);
    tcase_add_test(tc, sgd_nesterov_two_steps);
    tcase_add_test(tc, adam_step_t1);
    tcase_add_test(tc, adam_step_t2);
    tcase_add_test(tc, rmsprop_two_steps);
    tcase_add_test(tc, rmsprop_momentum_step);
    tcase_add_test(tc, step_refuses_non_finite_results);
    tcase_add_test(tc, subnormals_are_flushed_to_zero);
    tcase_add_test(tc, long_arena_matches_element_by_element);
    tcase_add_test(tc, step_matches_scalar_reference_bit_for_bit);
    tcase_add_test(tc, pool_step_equals_one_thread_bit_for_bit);
    tcase_add_test(tc, in_place_step_matches_guarded_bit_for_bit);
    tcase_add_test(tc, safe_bound_covers_the_step);
    tcase_add_test(tc, safe_refuses_large_values);
    suite_add_tcase(s, tc);
    TCase *cfg = tcase_create("config");
    tcase_add_test(cfg, config_check_rejects_bad_values);
    tcase_add_test(cfg, config_defaults_are_keras);
    tcase_add_test(cfg, names_round_trip);
    tcase_add_test(cfg, names_parse_case_and_errors);
    suite_add_tcase(s, cfg);
    return s;
}
