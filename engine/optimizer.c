/* optimizer.c — Keras 3's update rules, in float32 as Keras computes them, as one flat loop over
 * the whole parameter arena. Each rule is one inline function per element shared by the step and
 * by the read-only finiteness probe, so the probe predicts the step bit for bit. */
#include "optimizer.h"

#include "error.h"

#include <math.h>

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

/* Plain SGD: w -= g * lr. */
static inline float sgd_w(const step_consts *c, float w, float g)
{
    return w - g * c->lr;
}

/* SGD with momentum (Keras): m = -g * lr + m * momentum; w += m, or with Nesterov
 * w += -g * lr + m * momentum using the updated m. */
static inline void momentum_elem(const step_consts *c, float *w, float *m, float g)
{
    float step = -g * c->lr;
    float m_new = step + *m * c->momentum;
    *m = m_new;
    *w = c->nesterov ? *w + (step + m_new * c->momentum) : *w + m_new;
}

/* Adam (Keras 3): m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); w -= m * alpha / (sqrt(v) + eps).
 * Algebraically m = b1 m + (1 - b1) g; this is the order Keras rounds in. */
static inline void adam_elem(const step_consts *c, float *w, float *m, float *v, float g)
{
    float m_new = *m + (g - *m) * c->one_minus_b1;
    float v_new = *v + (g * g - *v) * c->one_minus_b2;
    *m = m_new;
    *v = v_new;
    *w = *w - (m_new * c->alpha) / (sqrtf(v_new) + c->epsilon);
}

/* RMSprop (Keras 3, not centered): v = rho v + (1 - rho) g^2; increment = lr g / sqrt(v + eps)
 * (epsilon inside the root, as keras/optimizers/rmsprop.py); with momentum
 * mom = momentum * mom + increment, w -= mom; else w -= increment. */
static inline void rmsprop_elem(const step_consts *c, float *w, float *v, float *mom, float g)
{
    float v_new = c->rho * *v + c->one_minus_rho * (g * g);
    float increment = (c->lr * g) / sqrtf(v_new + c->epsilon);
    *v = v_new;
    if (mom != NULL) {
        float mom_new = c->momentum * *mom + increment;
        *mom = mom_new;
        *w = *w - mom_new;
    } else {
        *w = *w - increment;
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

bool hood__optimizer_step_is_finite(const hood_optimizer_config *cfg, uint64_t t, const float *w,
                                    const float *g, const float *state, size_t n)
{
    step_consts c = consts_for(cfg, t + 1);
    /* The flag is OR-ed rather than returned early so the loop stays branch-free. */
    int bad = 0;
    switch (cfg->kind) {
    case HOOD_OPT_SGD:
        if (cfg->momentum > 0.0f) {
            for (size_t i = 0; i < n; i++) {
                float wi = w[i], mi = state[i];
                momentum_elem(&c, &wi, &mi, g[i]);
                bad |= !isfinite(wi) | !isfinite(mi);
            }
        } else {
            for (size_t i = 0; i < n; i++)
                bad |= !isfinite(sgd_w(&c, w[i], g[i]));
        }
        break;
    case HOOD_OPT_ADAM:
        for (size_t i = 0; i < n; i++) {
            float wi = w[i], mi = state[i], vi = state[n + i];
            adam_elem(&c, &wi, &mi, &vi, g[i]);
            bad |= !isfinite(wi) | !isfinite(mi) | !isfinite(vi);
        }
        break;
    case HOOD_OPT_RMSPROP: {
        bool has_mom = cfg->momentum > 0.0f;
        for (size_t i = 0; i < n; i++) {
            float wi = w[i], vi = state[i], momi = has_mom ? state[n + i] : 0.0f;
            rmsprop_elem(&c, &wi, &vi, has_mom ? &momi : NULL, g[i]);
            bad |= !isfinite(wi) | !isfinite(vi) | !isfinite(momi);
        }
        break;
    }
    }
    return bad == 0;
}

void hood__optimizer_step(const hood_optimizer_config *cfg, uint64_t *t, float *w, const float *g,
                          float *state, size_t n)
{
    *t += 1;
    step_consts c = consts_for(cfg, *t);
    switch (cfg->kind) {
    case HOOD_OPT_SGD:
        if (cfg->momentum > 0.0f) {
            for (size_t i = 0; i < n; i++)
                momentum_elem(&c, &w[i], &state[i], g[i]);
        } else {
            for (size_t i = 0; i < n; i++)
                w[i] = sgd_w(&c, w[i], g[i]);
        }
        break;
    case HOOD_OPT_ADAM: {
        float *m = state, *v = state + n;
        for (size_t i = 0; i < n; i++)
            adam_elem(&c, &w[i], &m[i], &v[i], g[i]);
        break;
    }
    case HOOD_OPT_RMSPROP: {
        float *v = state, *mom = cfg->momentum > 0.0f ? state + n : NULL;
        for (size_t i = 0; i < n; i++)
            rmsprop_elem(&c, &w[i], &v[i], mom != NULL ? &mom[i] : NULL, g[i]);
        break;
    }
    }
}
