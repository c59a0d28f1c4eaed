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

/* The same function spelt as a select: GCC 12 vectorizes the in-place loops ~10 % faster with it
 * (AVX-512: a mask test and a masked and) but not the guarded loops with their max reductions
 * (5x slower, scalar), so each kernel says which spelling it uses (`flush`); the bits are
 * ftz's. */
static inline float ftz_select(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    u = (u & 0x7f800000u) != 0 ? u : u & 0x80000000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

typedef float (*flush_fn)(float);

/* Plain SGD: w -= g * lr. */
static inline float sgd_w(const step_consts *c, float w, float g)
{
    return w - g * c->lr;
}

/* SGD with momentum (Keras): m = -g * lr + m * momentum; w += m, or with Nesterov
 * w += -g * lr + m * momentum using the updated m. */
static inline void momentum_elem(const step_consts *c, flush_fn flush, bool nesterov, float *w,
                                 float *m, float g)
{
    float step = -g * c->lr;
    float m_new = flush(step + *m * c->momentum);
    *m = m_new;
    *w = flush(nesterov ? *w + (step + m_new * c->momentum) : *w + m_new);
}

/* Adam (Keras 3): m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); w -= m * alpha / (sqrt(v) + eps).
 * Algebraically m = b1 m + (1 - b1) g; this is the order Keras rounds in. */
static inline void adam_elem(const step_consts *c, flush_fn flush, float *w, float *m, float *v,
                             float g)
{
    float m_new = flush(*m + (g - *m) * c->one_minus_b1);
    float v_new = flush(*v + (g * g - *v) * c->one_minus_b2);
    *m = m_new;
    *v = v_new;
    *w = flush(*w - (m_new * c->alpha) / (sqrtf(v_new) + c->epsilon));
}

/* RMSprop (Keras 3, not centered): v = rho v + (1 - rho) g^2; increment = lr g / sqrt(v + eps)
 * (epsilon inside the root, as keras/optimizers/rmsprop.py); with momentum
 * mom = momentum * mom + increment, w -= mom; else w -= increment. */
static inline void rmsprop_elem(const step_consts *c, flush_fn flush, bool with_mom, float *w,
                                float *v, float *mom, float g)
{
    float v_new = flush(c->rho * *v + c->one_minus_rho * (g * g));
    float increment = (c->lr * g) / sqrtf(v_new + c->epsilon);
    *v = v_new;
    if (with_mom) {
        float mom_new = flush(c->momentum * *mom + increment);
        *mom = mom_new;
        *w = flush(*w - mom_new);
    } else {
        *w = flush(*w - increment);
    }
}

/* The largest |x| seen, on the bits: a float's magnitude bits order as unsigned integers, and
 * infinities and NaN (exponent all ones) above every finite value, so one integer max (which
 * vectorizes) gives both the maximum and the divergence guard's answer. */
enum { NONFINITE_BITS = 0x7f800000u };

static inline uint32_t abs_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u & 0x7fffffffu;
}

static inline uint32_t max_bits(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

/* Two kernels per rule over n elements, both on the element formulas above (so both give the
 * same bits): the guarded one out of place (restrict: outputs never overlap inputs), raising
 * mx[0..2] to the largest |new w|, |new slot 0|, |new slot 1| (abs_bits: the maxima the next
 * step's proof starts from, and the divergence guard); the in-place one (_ip) with neither,
 * for steps proved finite (hood__optimizer_safe): no check is the point, since the maxima cost
 * about a third of Adam's loop (their reduction at each block's end). Called with n = BLOCK
 * (then vectorized) and once for the tail. */
static inline void sgd_run(const step_consts *c, const float *restrict w, const float *restrict g,
                           float *restrict w_out, size_t n, uint32_t *mx)
{
    uint32_t mw = 0;
    for (size_t i = 0; i < n; i++) {
        float wi = sgd_w(c, w[i], ftz(g[i]));
        mw = max_bits(mw, abs_bits(wi));
        w_out[i] = wi;
    }
    mx[0] = max_bits(mx[0], mw);
}

static inline void sgd_run_ip(const step_consts *c, float *restrict w, const float *restrict g,
                              size_t n)
{
    for (size_t i = 0; i < n; i++)
        w[i] = sgd_w(c, w[i], ftz_select(g[i]));
}

static inline void momentum_run(const step_consts *c, bool nesterov, const float *restrict w,
                                const float *restrict m, const float *restrict g,
                                float *restrict w_out, float *restrict m_out, size_t n,
                                uint32_t *mx)
{
    uint32_t mw = 0, mm = 0;
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], mi = m[i];
        momentum_elem(c, ftz, nesterov, &wi, &mi, ftz(g[i]));
        mw = max_bits(mw, abs_bits(wi));
        mm = max_bits(mm, abs_bits(mi));
        w_out[i] = wi;
        m_out[i] = mi;
    }
    mx[0] = max_bits(mx[0], mw);
    mx[1] = max_bits(mx[1], mm);
}

static inline void momentum_run_ip(const step_consts *c, bool nesterov, float *restrict w,
                                   float *restrict m, const float *restrict g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], mi = m[i];
        momentum_elem(c, ftz_select, nesterov, &wi, &mi, ftz_select(g[i]));
        w[i] = wi;
        m[i] = mi;
    }
}

static inline void adam_run(const step_consts *c, const float *restrict w, const float *restrict m,
                            const float *restrict v, const float *restrict g, float *restrict w_out,
                            float *restrict m_out, float *restrict v_out, size_t n, uint32_t *mx)
{
    uint32_t mw = 0, mm = 0, mv = 0;
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], mi = m[i], vi = v[i];
        adam_elem(c, ftz, &wi, &mi, &vi, ftz(g[i]));
        mw = max_bits(mw, abs_bits(wi));
        mm = max_bits(mm, abs_bits(mi));
        mv = max_bits(mv, abs_bits(vi));
        w_out[i] = wi;
        m_out[i] = mi;
        v_out[i] = vi;
    }
    mx[0] = max_bits(mx[0], mw);
    mx[1] = max_bits(mx[1], mm);
    mx[2] = max_bits(mx[2], mv);
}

static inline void adam_run_ip(const step_consts *c, float *restrict w, float *restrict m,
                               float *restrict v, const float *restrict g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], mi = m[i], vi = v[i];
        adam_elem(c, ftz_select, &wi, &mi, &vi, ftz_select(g[i]));
        w[i] = wi;
        m[i] = mi;
        v[i] = vi;
    }
}

static inline void rmsprop_run(const step_consts *c, bool with_mom, const float *restrict w,
                               const float *restrict v, const float *restrict mom,
                               const float *restrict g, float *restrict w_out,
                               float *restrict v_out, float *restrict mom_out, size_t n,
                               uint32_t *mx)
{
    uint32_t mw = 0, mv = 0, mm = 0;
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], vi = v[i], momi = with_mom ? mom[i] : 0.0f;
        rmsprop_elem(c, ftz, with_mom, &wi, &vi, &momi, ftz(g[i]));
        mw = max_bits(mw, abs_bits(wi));
        mv = max_bits(mv, abs_bits(vi));
        mm = max_bits(mm, abs_bits(momi));
        w_out[i] = wi;
        v_out[i] = vi;
        if (with_mom)
            mom_out[i] = momi;
    }
    mx[0] = max_bits(mx[0], mw);
    mx[1] = max_bits(mx[1], mv);
    mx[2] = max_bits(mx[2], mm);
}

static inline void rmsprop_run_ip(const step_consts *c, bool with_mom, float *restrict w,
                                  float *restrict v, float *restrict mom, const float *restrict g,
                                  size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], vi = v[i], momi = with_mom ? mom[i] : 0.0f;
        rmsprop_elem(c, ftz_select, with_mom, &wi, &vi, &momi, ftz_select(g[i]));
        w[i] = wi;
        v[i] = vi;
        if (with_mom)
            mom[i] = momi;
    }
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
    size_t slots;
    const float *w, *g, *state;
    float *w_out, *state_out;
    size_t n;           /* elements stepped */
    size_t stride;      /* state slot s at state + s * stride */
    bool in_place;      /* w_out == w and state_out == state */
    atomic_uint max[3]; /* abs_bits maxima of every share's new w, slot 0, slot 1 */
} step_task;

STEP_CLONES
static void step_range(const step_task *a, size_t lo, size_t hi, uint32_t *mx)
{
    const hood_optimizer_config *cfg = a->cfg;
    const step_consts c = a->c;
    const size_t n = hi - lo;
    const float *w = a->w + lo, *g = a->g + lo;
    float *w_out = a->w_out + lo;
    const float *m = a->slots > 0 ? a->state + lo : NULL;
    const float *v = a->slots > 1 ? a->state + a->stride + lo : NULL;
    float *m_out = a->slots > 0 ? a->state_out + lo : NULL;
    float *v_out = a->slots > 1 ? a->state_out + a->stride + lo : NULL;
    size_t full = n - n % BLOCK;
    /* The arena in blocks of BLOCK, then the tail; `call_at(offset, count)` is one kernel call
     * with constant flags, so each loop below vectorizes. In place, w_out == w (and so on). */
#define OVER_ARENA(call_at)                                                                        \
    do {                                                                                           \
        for (size_t i = 0; i < full; i += BLOCK)                                                   \
            call_at(i, BLOCK);                                                                     \
        if (full < n)                                                                              \
            call_at(full, n - full);                                                               \
    } while (0)
#define RULE(guarded, own)                                                                         \
    do {                                                                                           \
        if (a->in_place)                                                                           \
            OVER_ARENA(own);                                                                       \
        else                                                                                       \
            OVER_ARENA(guarded);                                                                   \
    } while (0)
    switch (cfg->kind) {
    case HOOD_OPT_SGD:
        if (cfg->momentum <= 0.0f) {
#define AT(o, k) sgd_run(&c, w + (o), g + (o), w_out + (o), (k), mx)
#define IP(o, k) sgd_run_ip(&c, w_out + (o), g + (o), (k))
            RULE(AT, IP);
#undef AT
#undef IP
        } else if (cfg->nesterov) {
#define AT(o, k)                                                                                   \
    momentum_run(&c, true, w + (o), m + (o), g + (o), w_out + (o), m_out + (o), (k), mx)
#define IP(o, k) momentum_run_ip(&c, true, w_out + (o), m_out + (o), g + (o), (k))
            RULE(AT, IP);
#undef AT
#undef IP
        } else {
#define AT(o, k)                                                                                   \
    momentum_run(&c, false, w + (o), m + (o), g + (o), w_out + (o), m_out + (o), (k), mx)
#define IP(o, k) momentum_run_ip(&c, false, w_out + (o), m_out + (o), g + (o), (k))
            RULE(AT, IP);
#undef AT
#undef IP
        }
        break;
    case HOOD_OPT_ADAM:
#define AT(o, k)                                                                                   \
    adam_run(&c, w + (o), m + (o), v + (o), g + (o), w_out + (o), m_out + (o), v_out + (o), (k), mx)
#define IP(o, k) adam_run_ip(&c, w_out + (o), m_out + (o), v_out + (o), g + (o), (k))
        RULE(AT, IP);
#undef AT
#undef IP
        break;
    case HOOD_OPT_RMSPROP:
        /* slot 0 is v, slot 1 (with momentum) the momentum */
        if (cfg->momentum > 0.0f) {
#define AT(o, k)                                                                                   \
    rmsprop_run(&c, true, w + (o), m + (o), v + (o), g + (o), w_out + (o), m_out + (o),            \
                v_out + (o), (k), mx)
#define IP(o, k) rmsprop_run_ip(&c, true, w_out + (o), m_out + (o), v_out + (o), g + (o), (k))
            RULE(AT, IP);
#undef AT
#undef IP
        } else {
#define AT(o, k)                                                                                   \
    rmsprop_run(&c, false, w + (o), m + (o), NULL, g + (o), w_out + (o), m_out + (o), NULL, (k), mx)
#define IP(o, k) rmsprop_run_ip(&c, false, w_out + (o), m_out + (o), NULL, g + (o), (k))
            RULE(AT, IP);
#undef AT
#undef IP
        }
        break;
    }
#undef RULE
#undef OVER_ARENA
}

static void raise_max(atomic_uint *to, uint32_t bits)
{
    unsigned cur = atomic_load_explicit(to, memory_order_relaxed);
    while (bits > cur && !atomic_compare_exchange_weak_explicit(
                             to, &cur, bits, memory_order_relaxed, memory_order_relaxed))
        ;
}

/* Share `index` of `count`: a band of the arena in whole 64-byte lines (16 floats), so two
 * threads never write one line; elementwise, so any split gives the same bits. */
static void step_share(void *arg, int index, int count)
{
    step_task *a = arg;
    size_t lo = hood__band_at(a->n, 16, index, count), hi = hood__band_at(a->n, 16, index + 1, count);
    uint32_t mx[3] = {0, 0, 0};
    if (lo < hi)
        step_range(a, lo, hi, mx);
    for (int s = 0; s < 3; s++)
        raise_max(&a->max[s], mx[s]);
}

/* Below this many elements per thread a pool run costs more than it saves: the caller alone. */
enum { MIN_SHARE = 8192 };

static float bits_float(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

bool hood__optimizer_step_max(hood__pool *pool, const hood_optimizer_config *cfg, uint64_t t,
                              const float *w, const float *g, const float *state, float *w_out,
                              float *state_out, size_t stride, size_t n, hood__arena_max *max)
{
    step_task a = {.cfg = cfg,
                   .c = consts_for(cfg, t + 1),
                   .slots = hood__optimizer_slots(cfg),
                   .w = w,
                   .g = g,
                   .state = state,
                   .w_out = w_out,
                   .state_out = state_out,
                   .n = n,
                   .stride = stride,
                   .in_place = w_out == w};
    uint32_t mx[3] = {0, 0, 0};
    if (pool == NULL || n < (size_t)hood__pool_threads(pool) * MIN_SHARE) {
        step_range(&a, 0, n, mx);
    } else {
        for (int s = 0; s < 3; s++)
            atomic_init(&a.max[s], 0);
        hood__pool_run(pool, step_share, &a);
        for (int s = 0; s < 3; s++)
            mx[s] = atomic_load_explicit(&a.max[s], memory_order_relaxed);
    }
    if (max != NULL) {
        /* raised, never lowered: a caller adds slices up; NaN bits stay the largest */
        float *to[3] = {&max->w, &max->s[0], &max->s[1]};
        for (int s = 0; s < 3; s++)
            *to[s] = bits_float(max_bits(abs_bits(*to[s]), mx[s]));
    }
    return max_bits(max_bits(mx[0], mx[1]), mx[2]) < NONFINITE_BITS;
}

bool hood__optimizer_step_slice_pool(hood__pool *pool, const hood_optimizer_config *cfg, uint64_t t,
                                     const float *w, const float *g, const float *state,
                                     float *w_out, float *state_out, size_t stride, size_t n)
{
    return hood__optimizer_step_max(pool, cfg, t, w, g, state, w_out, state_out, stride, n, NULL);
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

/* Cloned per instruction set like the step (the SSE2 baseline has no unsigned max: 3x slower);
 * static, so no clone or resolver is exported. */
STEP_CLONES
static uint32_t abs_max_bits(const float *x, size_t n)
{
    uint32_t mx = 0;
    size_t full = n - n % BLOCK;
    for (size_t o = 0; o < full; o += BLOCK) {
        uint32_t m = 0;
        for (size_t i = 0; i < BLOCK; i++)
            m = max_bits(m, abs_bits(x[o + i]));
        mx = max_bits(mx, m);
    }
    for (size_t i = full; i < n; i++)
        mx = max_bits(mx, abs_bits(x[i]));
    return mx;
}

float hood__optimizer_abs_max(const float *x, size_t n)
{
    return bits_float(abs_max_bits(x, n));
}

/* The in-place step's proof. Every bound is worked in double and must stay under SAFE_LIMIT,
 * 3.4e8 times below FLT_MAX: each is an upper bound on the magnitude of a value or an
 * intermediate of the element formulas above (ftz only lowers magnitudes), raised by ROUNDING
 * for the few float roundings on the way (each at most 2^-24 relative: a handful of them stay
 * under 1e-6). Then no operation can overflow, and with finite inputs (the maxima and g_max
 * below the limit) no new value can be infinite or NaN. The divisions: Adam's divisor
 * sqrt(v) + eps >= eps and RMSprop's sqrt(v + eps) >= sqrt(eps) (1 - 2^-24), rounding being
 * monotone, with eps > 0 (hood__optimizer_check). Adam's m and v are convex combinations of the
 * old value and g (g^2), so they do not grow beyond max(old, g) (max(old, g^2)). */
#define SAFE_LIMIT 1e30
#define ROUNDING (1.0 + 1e-5)

static bool under(const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(b[i] <= SAFE_LIMIT)) /* NaN too */
            return false;
    return true;
}

bool hood__optimizer_safe(const hood_optimizer_config *cfg, uint64_t t, const hood__arena_max *now,
                          double g_max, hood__arena_max *next)
{
    const step_consts c = consts_for(cfg, t + 1);
    const double W = now->w, S0 = now->s[0], S1 = now->s[1], G = g_max;
    const double lr = c.lr, F = ROUNDING;
    double w_new = 0.0, s0_new = 0.0, s1_new = 0.0;
    bool ok = false;
    switch (cfg->kind) {
    case HOOD_OPT_SGD:
        if (cfg->momentum <= 0.0f) {
            double step = F * G * lr;
            w_new = F * (W + step);
            double b[] = {G, W, step, w_new};
            ok = under(b, 4);
        } else {
            /* m' = -g lr + m momentum; w' = w + m' or w + (-g lr + m' momentum) */
            double step = F * G * lr;
            s0_new = F * (step + S0 * c.momentum);
            w_new = F * (W + step + s0_new * c.momentum + s0_new);
            double b[] = {G, W, S0, step, s0_new, w_new};
            ok = under(b, 6);
        }
        break;
    case HOOD_OPT_ADAM: {
        /* m' = m + (g - m)(1 - b1), v' = v + (g^2 - v)(1 - b2), w' = w - m' alpha / (sqrt(v') +
         * eps) */
        double g2 = F * G * G;
        s0_new = F * (S0 > G ? S0 : G);
        s1_new = F * (S1 > g2 ? S1 : g2);
        double num = F * s0_new * fabs((double)c.alpha), q = F * num / (double)c.epsilon;
        w_new = F * (W + q);
        double b[] = {G,      W,      S0,  S1, F * (G + S0), F * (g2 + S1),
                      s0_new, s1_new, num, q,  w_new,        c.epsilon};
        ok = under(b, 12);
        break;
    }
    case HOOD_OPT_RMSPROP: {
        /* v' = rho v + (1 - rho) g^2; inc = lr g / sqrt(v' + eps); mom' = momentum mom + inc;
         * w' = w - mom' (or w - inc) */
        double g2 = F * G * G;
        s0_new = F * (c.rho * S0 + c.one_minus_rho * g2);
        double num = F * lr * G, inc = F * num / sqrt((double)c.epsilon);
        s1_new = cfg->momentum > 0.0f ? F * (c.momentum * S1 + inc) : 0.0;
        w_new = F * (W + inc + s1_new);
        double b[] = {G, W, S0, S1, g2, s0_new, F * (s0_new + c.epsilon), num, inc, s1_new, w_new};
        ok = under(b, 11);
        break;
    }
    }
    if (ok && next != NULL)
        *next = (hood__arena_max){(float)w_new, {(float)s0_new, (float)s1_new}};
    return ok;
}
