/* optimizer.c — Keras 3's update rules, in float32 as Keras computes them, as one flat loop over
 * the whole parameter arena, written out of place (old arena in, new arena out) so a step that
 * would make a value non-finite can be dropped without touching the weights. */
#include "optimizer.h"

#include "error.h"
#include "parallel.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* Adam's and RMSprop's loops vectorize only when the build says sqrtf need not set errno
 * (-fno-math-errno; their arguments are >= 0 by construction); SGD's always do. Each rule is
 * written as the scalar formula; step_range below compiles it for the CPU's widest vectors. */
/* Arena loops run in blocks of BLOCK elements: at -O2 GCC vectorizes a loop only when its trip
 * count is a known multiple of the vector width, which a fixed-size inner loop is. */
enum { BLOCK = 64 };

/* The scalars one step needs, worked out once per step. */
typedef struct step_consts {
    float lr, momentum, one_minus_b1, one_minus_b2, rho, one_minus_rho, epsilon, alpha;
    bool nesterov;
} step_consts;

static step_consts consts_for(const hood_optimizer_config *cfg, uint64_t t_new)
{
    step_consts c = {
        .lr = cfg->learning_rate,
        .momentum = cfg->momentum,
        .one_minus_b1 = 1.0f - cfg->beta_1,
        .one_minus_b2 = 1.0f - cfg->beta_2,
        .rho = cfg->rho,
        .one_minus_rho = 1.0f - cfg->rho,
        .epsilon = cfg->epsilon,
        .nesterov = cfg->nesterov,
        .alpha = 0.0f,
    };
    if (cfg->kind == HOOD_OPT_ADAM) {
        /* Keras: alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t). Worked in double and rounded
         * once: for large t, float pow would lose the bias correction's last bits. */
        double t = (double)t_new;
        double b1t = pow((double)cfg->beta_1, t), b2t = pow((double)cfg->beta_2, t);
        c.alpha = (float)((double)cfg->learning_rate * sqrt(1.0 - b2t) / (1.0 - b1t));
    }
    return c;
}

/* Values below FLT_MIN become 0. A state value decays geometrically while its gradient is zero
 * (a dead ReLU unit, an input pixel that is always black): m by beta_1 or the momentum each
 * step, v by beta_2 or rho, and within a few hundred steps it is subnormal, where x86 float
 * arithmetic runs ~100x slower (measured: Adam over 235k parameters 2.4 ms per step with half
 * the state subnormal, 0.5 ms without). TensorFlow, under Keras, flushes subnormals to zero on
 * CPU for the same reason; done here per value so it is portable and deterministic. */
static inline float ftz(float x)
{
    /* On the bits, branch-free so the loops still vectorize: a zero exponent field (zero or
     * subnormal) keeps only the sign; NaN and infinities (exponent all ones) pass unchanged, so
     * the divergence guard still sees them. */
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    uint32_t keep = 0u - (uint32_t)((u & 0x7f800000u) != 0);
    u &= keep | 0x80000000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Plain SGD: w -= g * lr. */
static inline float sgd_w(const step_consts *c, float w, float g)
{
    return w - g * c->lr;
}

/* SGD with momentum (Keras): m = -g * lr + m * momentum; w += m, or with Nesterov
 * w += -g * lr + m * momentum using the updated m. */
static inline void momentum_elem(const step_consts *c, bool nesterov, float *w, float *m, float g)
{
    float step = -g * c->lr;
    float m_new = ftz(step + *m * c->momentum);
    *m = m_new;
    *w = ftz(nesterov ? *w + (step + m_new * c->momentum) : *w + m_new);
}

/* Adam (Keras 3): m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); w -= m * alpha / (sqrt(v) + eps).
 * Algebraically m = b1 m + (1 - b1) g; this is the order Keras rounds in. */
static inline void adam_elem(const step_consts *c, float *w, float *m, float *v, float g)
{
    float m_new = ftz(*m + (g - *m) * c->one_minus_b1);
    float v_new = ftz(*v + (g * g - *v) * c->one_minus_b2);
    *m = m_new;
    *v = v_new;
    *w = ftz(*w - (m_new * c->alpha) / (sqrtf(v_new) + c->epsilon));
}

/* RMSprop (Keras 3, not centered): v = rho v + (1 - rho) g^2; increment = lr g / sqrt(v + eps)
 * (epsilon inside the root, as keras/optimizers/rmsprop.py); with momentum
 * mom = momentum * mom + increment, w -= mom; else w -= increment. */
static inline void rmsprop_elem(const step_consts *c, bool with_mom, float *w, float *v, float *mom,
                                float g)
{
    float v_new = ftz(c->rho * *v + c->one_minus_rho * (g * g));
    float increment = (c->lr * g) / sqrtf(v_new + c->epsilon);
    *v = v_new;
    if (with_mom) {
        float mom_new = ftz(c->momentum * *mom + increment);
        *mom = mom_new;
        *w = ftz(*w - mom_new);
    } else {
        *w = ftz(*w - increment);
    }
}

/* One kernel per rule over n elements: new weights and state from the old ones into separate
 * output arrays (restrict: they never overlap the inputs), returning non-zero when any new value
 * is not finite. Called with n = BLOCK (then vectorized) and once for the tail; the flag is
 * OR-ed so the loop has no early exit. */
static inline int sgd_run(const step_consts *c, const float *restrict w, const float *restrict g,
                          float *restrict w_out, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float wi = sgd_w(c, w[i], ftz(g[i]));
        bad |= !isfinite(wi);
        w_out[i] = wi;
    }
    return bad;
}

static inline int momentum_run(const step_consts *c, bool nesterov, const float *restrict w,
                               const float *restrict m, const float *restrict g,
                               float *restrict w_out, float *restrict m_out, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], mi = m[i];
        momentum_elem(c, nesterov, &wi, &mi, ftz(g[i]));
        bad |= !isfinite(wi) | !isfinite(mi);
        w_out[i] = wi;
        m_out[i] = mi;
    }
    return bad;
}

static inline int adam_run(const step_consts *c, const float *restrict w, const float *restrict m,
                           const float *restrict v, const float *restrict g, float *restrict w_out,
                           float *restrict m_out, float *restrict v_out, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], mi = m[i], vi = v[i];
        adam_elem(c, &wi, &mi, &vi, ftz(g[i]));
        bad |= !isfinite(wi) | !isfinite(mi) | !isfinite(vi);
        w_out[i] = wi;
        m_out[i] = mi;
        v_out[i] = vi;
    }
    return bad;
}

static inline int rmsprop_run(const step_consts *c, bool with_mom, const float *restrict w,
                              const float *restrict v, const float *restrict mom,
                              const float *restrict g, float *restrict w_out, float *restrict v_out,
                              float *restrict mom_out, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], vi = v[i], momi = with_mom ? mom[i] : 0.0f;
        rmsprop_elem(c, with_mom, &wi, &vi, &momi, ftz(g[i]));
        bad |= !isfinite(wi) | !isfinite(vi) | !isfinite(momi);
        w_out[i] = wi;
        v_out[i] = vi;
        if (with_mom)
            mom_out[i] = momi;
    }
    return bad;
}

size_t hood__optimizer_slots(const hood_optimizer_config *cfg)
{
    switch (cfg->kind) {
    case HOOD_OPT_SGD:
        return cfg->momentum > 0.0f ? 1 : 0;
    case HOOD_OPT_ADAM:
        return 2;
    case HOOD_OPT_RMSPROP:
        return cfg->momentum > 0.0f ? 2 : 1;
    }
    return 0;
}

static bool unit_interval_open(float x)
{
    return isfinite(x) && x >= 0.0f && x < 1.0f;
}

hood_status hood__optimizer_check(const hood_optimizer_config *cfg)
{
    if (cfg == NULL)
        return hood__fail(HOOD_EINVAL, "optimizer: configuration is NULL");
    if (cfg->kind != HOOD_OPT_SGD && cfg->kind != HOOD_OPT_ADAM && cfg->kind != HOOD_OPT_RMSPROP)
        return hood__fail(HOOD_EINVAL, "optimizer: unknown kind %d", (int)cfg->kind);
    if (!isfinite(cfg->learning_rate) || cfg->learning_rate <= 0.0f)
        return hood__fail(HOOD_EINVAL, "optimizer: learning_rate must be > 0 (got %g)",
                          (double)cfg->learning_rate);
    if (cfg->kind != HOOD_OPT_ADAM && !unit_interval_open(cfg->momentum))
        return hood__fail(HOOD_EINVAL, "optimizer: momentum must be in [0, 1) (got %g)",
                          (double)cfg->momentum);
    if (cfg->kind == HOOD_OPT_ADAM &&
        (!unit_interval_open(cfg->beta_1) || !unit_interval_open(cfg->beta_2)))
        return hood__fail(HOOD_EINVAL,
                          "optimizer: beta_1 and beta_2 must be in [0, 1) (got %g, %g)",
                          (double)cfg->beta_1, (double)cfg->beta_2);
    if (cfg->kind == HOOD_OPT_RMSPROP && !unit_interval_open(cfg->rho))
        return hood__fail(HOOD_EINVAL, "optimizer: rho must be in [0, 1) (got %g)",
                          (double)cfg->rho);
    if (cfg->kind != HOOD_OPT_SGD && (!isfinite(cfg->epsilon) || cfg->epsilon <= 0.0f))
        return hood__fail(HOOD_EINVAL, "optimizer: epsilon must be > 0 (got %g)",
                          (double)cfg->epsilon);
    return HOOD_OK;
}

/* One step over elements [lo, hi) of the arena (slot s of the state at + s * n). Compiled once
 * per instruction set (SSE2 everywhere; AVX2 and AVX-512 where the CPU has them, picked once at
 * load time): the baseline x86-64 build vectorises these loops 4 floats wide only. Every clone
 * rounds exactly as the scalar formula: each operation is one IEEE float operation (add, mul,
 * div, sqrt: correctly rounded at any vector width), and C11 mode (-std=c11) keeps GCC from
 * contracting a * b + c into an FMA (-ffp-contract=off), so the bits are the same on every
 * path and at every split (test_optimizer compares each rule against a scalar reference). */
/* Not under a sanitizer: the clones are picked by an IFUNC resolver that the dynamic loader runs
 * while relocating libhood.so, before a sanitizer's runtime is up (a ThreadSanitizer libhood.so
 * crashed there at load). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&      \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define STEP_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define STEP_CLONES
#endif

typedef struct step_task {
    const hood_optimizer_config *cfg;
    step_consts c;
    const float *w, *g, *state;
    float *w_out, *state_out;
    size_t n;       /* elements stepped */
    size_t stride;  /* state slot s at state + s * stride */
    atomic_int bad; /* OR of every share's flag */
} step_task;

STEP_CLONES
static int step_range(const step_task *a, size_t lo, size_t hi)
{
    const hood_optimizer_config *cfg = a->cfg;
    const step_consts c = a->c;
    const size_t n = hi - lo;
    const float *w = a->w + lo, *g = a->g + lo;
    float *w_out = a->w_out + lo;
    const float *m = a->state != NULL ? a->state + lo : NULL;
    const float *v = a->state != NULL ? a->state + a->stride + lo : NULL;
    float *m_out = a->state_out != NULL ? a->state_out + lo : NULL;
    float *v_out = a->state_out != NULL ? a->state_out + a->stride + lo : NULL;
    int bad = 0;
    size_t full = n - n % BLOCK;
    /* The arena in blocks of BLOCK, then the tail; `call_at(offset, count)` is one kernel call
     * with constant flags, so each loop below vectorizes. */
#define OVER_ARENA(call_at)                                                                        \
    do {                                                                                           \
        for (size_t i = 0; i < full; i += BLOCK)                                                   \
            bad |= call_at(i, BLOCK);                                                              \
        if (full < n)                                                                              \
            bad |= call_at(full, n - full);                                                        \
    } while (0)
    switch (cfg->kind) {
    case HOOD_OPT_SGD:
        if (cfg->momentum <= 0.0f) {
#define AT(o, k) sgd_run(&c, w + (o), g + (o), w_out + (o), (k))
            OVER_ARENA(AT);
#undef AT
        } else if (cfg->nesterov) {
#define AT(o, k) momentum_run(&c, true, w + (o), m + (o), g + (o), w_out + (o), m_out + (o), (k))
            OVER_ARENA(AT);
#undef AT
        } else {
#define AT(o, k) momentum_run(&c, false, w + (o), m + (o), g + (o), w_out + (o), m_out + (o), (k))
            OVER_ARENA(AT);
#undef AT
        }
        break;
    case HOOD_OPT_ADAM:
#define AT(o, k)                                                                                   \
    adam_run(&c, w + (o), m + (o), v + (o), g + (o), w_out + (o), m_out + (o), v_out + (o), (k))
        OVER_ARENA(AT);
#undef AT
        break;
    case HOOD_OPT_RMSPROP:
        /* slot 0 is v, slot 1 (with momentum) the momentum */
        if (cfg->momentum > 0.0f) {
#define AT(o, k)                                                                                   \
    rmsprop_run(&c, true, w + (o), m + (o), v + (o), g + (o), w_out + (o), m_out + (o),            \
                v_out + (o), (k))
            OVER_ARENA(AT);
#undef AT
        } else {
#define AT(o, k)                                                                                   \
    rmsprop_run(&c, false, w + (o), m + (o), NULL, g + (o), w_out + (o), m_out + (o), NULL, (k))
            OVER_ARENA(AT);
#undef AT
        }
        break;
    }
#undef OVER_ARENA
    return bad;
}

/* Share `index` of `count`: a band of the arena in whole 64-byte lines (16 floats), so two
 * threads never write one line; elementwise, so any split gives the same bits. */
static void step_share(void *arg, int index, int count)
{
    step_task *a = arg;
    size_t lo = hood__band_at(a->n, 16, index, count), hi = hood__band_at(a->n, 16, index + 1, count);
    if (lo < hi && step_range(a, lo, hi) != 0)
        atomic_fetch_or_explicit(&a->bad, 1, memory_order_relaxed);
}

/* Below this many elements per thread a pool run costs more than it saves: the caller alone. */
enum { MIN_SHARE = 8192 };

bool hood__optimizer_step_slice_pool(hood__pool *pool, const hood_optimizer_config *cfg, uint64_t t,
                                     const float *w, const float *g, const float *state,
                                     float *w_out, float *state_out, size_t stride, size_t n)
{
    step_task a = {.cfg = cfg,
                   .c = consts_for(cfg, t + 1),
                   .w = w,
                   .g = g,
                   .state = state,
                   .w_out = w_out,
                   .state_out = state_out,
                   .n = n,
                   .stride = stride};
    atomic_init(&a.bad, 0);
    if (pool == NULL || n < (size_t)hood__pool_threads(pool) * MIN_SHARE)
        return step_range(&a, 0, n) == 0;
    hood__pool_run(pool, step_share, &a);
    return atomic_load_explicit(&a.bad, memory_order_relaxed) == 0;
}

bool hood__optimizer_step_pool(hood__pool *pool, const hood_optimizer_config *cfg, uint64_t t,
                               const float *w, const float *g, const float *state, float *w_out,
                               float *state_out, size_t n)
{
    return hood__optimizer_step_slice_pool(pool, cfg, t, w, g, state, w_out, state_out, n, n);
}

bool hood__optimizer_step_slice(const hood_optimizer_config *cfg, uint64_t t, const float *w,
                                const float *g, const float *state, float *w_out, float *state_out,
                                size_t stride, size_t count)
{
    return hood__optimizer_step_slice_pool(NULL, cfg, t, w, g, state, w_out, state_out, stride,
                                           count);
}

bool hood__optimizer_step(const hood_optimizer_config *cfg, uint64_t t, const float *w,
                          const float *g, const float *state, float *w_out, float *state_out,
                          size_t n)
{
    return hood__optimizer_step_pool(NULL, cfg, t, w, g, state, w_out, state_out, n);
}
