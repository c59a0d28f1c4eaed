/* test_conv_reference.c — the image layers against a small double-precision reimplementation
 * (Conv2D with TF padding, max/average/global pooling, Flatten, Dense, BatchNormalization,
 * MSE and softmax + sparse crossentropy): hood's float forward must match it, and hood's
 * analytic gradients central differences of its loss taken in double. Not a speed or a
 * Keras-file test (test_conv.c, test_layers_file.c). */
#include "check_main.h"

#include "layer.h"
#include "model.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The reference network ----------------------------------------------------------- */

typedef enum { R_CONV, R_MAX, R_AVG, R_GAP, R_FLAT, R_DENSE, R_BN } rkind;

/* BatchNormalization's settings in every case (hood's arithmetic takes epsilon as a float). */
#define BN_MOMENTUM 0.99f
#define BN_EPSILON 1e-3f

typedef struct rlayer {
    rkind kind;
    size_t units, kh, kw, sh, sw; /* conv filters / dense units; window; strides */
    bool same, bias;
    hood_activation act;
} rlayer;

typedef struct rnet {
    const char *name;
    size_t h, w, c;
    size_t n;
    rlayer L[8];
    bool scce; /* sparse categorical crossentropy on a softmax output; else MSE */
} rnet;

/* One layer's resolved shapes and where its parameters sit in the arena. */
typedef struct rshape {
    size_t ih, iw, ic, oh, ow, oc, pad_top, pad_left, kernel, bias, off, state;
} rshape;

/* Deliberate mistakes, to see the checks fail (set only by test_checks_can_fail): the extra
 * padding row/column before instead of after; average pools dividing by the whole window. */
static bool wrong_pad, avg_counts_pad;

/* TensorFlow's rule for one dimension: valid floor((in - k) / s) + 1; same ceil(in / s) with
 * the padding total max((out - 1) s + k - in, 0) split smaller half first. */
static void ref_window(size_t in, size_t k, size_t s, bool same, size_t *out, size_t *pad)
{
    if (same) {
        *out = (in + s - 1) / s;
        size_t need = (*out - 1) * s + k;
        *pad = need > in ? (need - in + (wrong_pad ? 1 : 0)) / 2 : 0;
    } else {
        *out = (in - k) / s + 1;
        *pad = 0;
    }
}

/* Shapes of every layer; returns the parameter count (W then b per layer, in order) and
 * *states the state count (BatchNormalization's moving mean then variance). */
static size_t ref_resolve(const rnet *net, rshape *S, size_t *states)
{
    size_t h = net->h, w = net->w, c = net->c, off = 0;
    *states = 0;
    for (size_t i = 0; i < net->n; i++) {
        const rlayer *l = &net->L[i];
        rshape *s = &S[i];
        memset(s, 0, sizeof *s);
        s->ih = h, s->iw = w, s->ic = c, s->off = off, s->state = *states;
        switch (l->kind) {
        case R_CONV:
        case R_MAX:
        case R_AVG:
            ref_window(h, l->kh, l->sh, l->same, &s->oh, &s->pad_top);
            ref_window(w, l->kw, l->sw, l->same, &s->ow, &s->pad_left);
            s->oc = l->kind == R_CONV ? l->units : c;
            if (l->kind == R_CONV) {
                s->kernel = l->kh * l->kw * c * l->units;
                s->bias = l->bias ? l->units : 0;
            }
            break;
        case R_GAP:
            s->oh = s->ow = 1, s->oc = c;
            break;
        case R_FLAT:
            s->oh = s->ow = 1, s->oc = h * w * c;
            break;
        case R_DENSE:
            s->oh = s->ow = 1, s->oc = l->units;
            s->kernel = h * w * c * l->units;
            s->bias = l->bias ? l->units : 0;
            break;
        case R_BN:
            s->oh = h, s->ow = w, s->oc = c;
            s->kernel = s->bias = c; /* gamma, beta */
            *states += 2 * c;
            break;
        }
        off += s->kernel + s->bias;
        h = s->oh, w = s->ow, c = s->oc;
    }
    return off;
}

static double ref_act(hood_activation act, double z)
{
    switch (act) {
    case HOOD_ACT_RELU:
        return z > 0 ? z : 0;
    case HOOD_ACT_TANH:
        return tanh(z);
    case HOOD_ACT_SIGMOID:
        return 1.0 / (1.0 + exp(-z));
    default:
        return z;
    }
}

/* y (oh x ow x oc, HWC) = act(conv(x) + b); the kernel in Keras' (kh, kw, in, out) order. */
static void ref_conv(const rlayer *l, const rshape *s, const double *W, const double *b,
                     const double *x, double *y)
{
    const size_t C = s->ic, F = s->oc;
    for (size_t oy = 0; oy < s->oh; oy++)
        for (size_t ox = 0; ox < s->ow; ox++)
            for (size_t f = 0; f < F; f++) {
                double z = b ? b[f] : 0.0;
                for (size_t ky = 0; ky < l->kh; ky++) {
                    long iy = (long)(oy * l->sh + ky) - (long)s->pad_top;
                    if (iy < 0 || iy >= (long)s->ih)
                        continue;
                    for (size_t kx = 0; kx < l->kw; kx++) {
                        long ix = (long)(ox * l->sw + kx) - (long)s->pad_left;
                        if (ix < 0 || ix >= (long)s->iw)
                            continue;
                        const double *xp = x + ((size_t)iy * s->iw + (size_t)ix) * C;
                        const double *wp = W + (ky * l->kw + kx) * C * F + f;
                        for (size_t c = 0; c < C; c++)
                            z += wp[c * F] * xp[c];
                    }
                }
                y[(oy * s->ow + ox) * F + f] = ref_act(l->act, z);
            }
}

/* Max or average over the window's real values (padding never wins a max nor counts). */
static void ref_pool(const rlayer *l, const rshape *s, const double *x, double *y)
{
    for (size_t oy = 0; oy < s->oh; oy++)
        for (size_t ox = 0; ox < s->ow; ox++)
            for (size_t c = 0; c < s->ic; c++) {
                double acc = l->kind == R_MAX ? -INFINITY : 0.0;
                size_t count = 0;
                for (size_t ky = 0; ky < l->kh; ky++)
                    for (size_t kx = 0; kx < l->kw; kx++) {
                        long iy = (long)(oy * l->sh + ky) - (long)s->pad_top;
                        long ix = (long)(ox * l->sw + kx) - (long)s->pad_left;
                        if (iy < 0 || iy >= (long)s->ih || ix < 0 || ix >= (long)s->iw)
                            continue;
                        double v = x[((size_t)iy * s->iw + (size_t)ix) * s->ic + c];
                        acc = l->kind == R_MAX ? fmax(acc, v) : acc + v;
                        count++;
                    }
                if (avg_counts_pad)
                    count = l->kh * l->kw;
                y[(oy * s->ow + ox) * s->ic + c] = l->kind == R_MAX ? acc : acc / (double)count;
            }
}

/* y = one parameter-free or weighted layer on one sample x. */
static void ref_layer(const rlayer *l, const rshape *s, const double *P, const double *x,
                      double *y)
{
    const double *W = P + s->off, *b = s->bias ? P + s->off + s->kernel : NULL;
    size_t in = s->ih * s->iw * s->ic, outn = s->oh * s->ow * s->oc;
    switch (l->kind) {
    case R_CONV:
        ref_conv(l, s, W, b, x, y);
        break;
    case R_MAX:
    case R_AVG:
        ref_pool(l, s, x, y);
        break;
    case R_GAP:
        for (size_t c = 0; c < s->ic; c++) {
            double sum = 0.0;
            for (size_t p = 0; p < s->ih * s->iw; p++)
                sum += x[p * s->ic + c];
            y[c] = sum / (double)(s->ih * s->iw);
        }
        break;
    case R_FLAT:
        memcpy(y, x, in * sizeof(double));
        break;
    case R_DENSE: { /* W out x in, column-major (Keras' (in, out) row-major) */
        double top = -INFINITY, sum = 0.0;
        for (size_t o = 0; o < outn; o++) {
            double z = b ? b[o] : 0.0;
            for (size_t k = 0; k < in; k++)
                z += W[o + k * outn] * x[k];
            y[o] = l->act == HOOD_ACT_SOFTMAX ? z : ref_act(l->act, z);
            top = fmax(top, z);
        }
        if (l->act == HOOD_ACT_SOFTMAX) {
            for (size_t o = 0; o < outn; o++)
                sum += (y[o] = exp(y[o] - top));
            for (size_t o = 0; o < outn; o++)
                y[o] /= sum;
        }
        break;
    }
    case R_BN:
        break; /* over the batch: ref_batchnorm */
    }
}

/* BatchNormalization over the batch's positions per channel: the batch's mean and biased
 * variance in training, the moving statistics (state: mean then variance) otherwise. */
static void ref_batchnorm(const rshape *s, const double *P, const double *state, bool training,
                          const double *X, double *Y, size_t batch)
{
    const size_t C = s->ic, n = batch * s->ih * s->iw;
    const double *gamma = P + s->off, *beta = P + s->off + C;
    for (size_t c = 0; c < C; c++) {
        double mean = state[c], var = state[C + c];
        if (training) {
            mean = var = 0.0;
            for (size_t p = 0; p < n; p++)
                mean += X[p * C + c];
            mean /= (double)n;
            for (size_t p = 0; p < n; p++)
                var += (X[p * C + c] - mean) * (X[p * C + c] - mean);
            var /= (double)n;
        }
        double inv = 1.0 / sqrt(var + (double)BN_EPSILON);
        for (size_t p = 0; p < n; p++)
            Y[p * C + c] = gamma[c] * (X[p * C + c] - mean) * inv + beta[c];
    }
}

/* Out (units x batch) = the network on the batch X; buf0, buf1: scratch of the largest
 * layer's values x batch. */
static void ref_forward(const rnet *net, const rshape *S, const double *P, const double *state,
                        bool training, const double *X, size_t batch, double *out,
                        double *buf0, double *buf1)
{
    const double *x = X;
    double *bufs[2] = {buf0, buf1};
    for (size_t i = 0; i < net->n; i++) {
        const rshape *s = &S[i];
        double *y = bufs[i % 2];
        size_t in = s->ih * s->iw * s->ic, outn = s->oh * s->ow * s->oc;
        if (net->L[i].kind == R_BN)
            ref_batchnorm(s, P, state + s->state, training, x, y, batch);
        else
            for (size_t j = 0; j < batch; j++)
                ref_layer(&net->L[i], s, P, x + j * in, y + j * outn);
        x = y;
    }
    const rshape *last = &S[net->n - 1];
    memcpy(out, x, last->oh * last->ow * last->oc * batch * sizeof(double));
}

/* The reference model bound to one batch (double copies of hood's inputs and labels). */
typedef struct rcase {
    const rnet *net;
    rshape S[8];
    size_t np, ns, d, units, lw, batch, big; /* lw: label width (1 for scce) */
    double *X, *Y, *out, *b0, *b1, *state;
} rcase;

/* Sum over the batch of each sample's loss in training mode (hood's loss_sum): MSE the
 * mean over the outputs; sparse crossentropy -log(c_t / sum c) with c the outputs clipped to
 * [1e-7, 1 - 1e-7] as Keras does (hood's fused form takes the logits; the clip never binds
 * in these cases). */
static double ref_loss(rcase *rc, const double *P)
{
    ref_forward(rc->net, rc->S, P, rc->state, true, rc->X, rc->batch, rc->out, rc->b0, rc->b1);
    double sum = 0.0;
    const double lo = (double)1e-7f, hi = (double)(1.0f - 1e-7f);
    for (size_t j = 0; j < rc->batch; j++) {
        const double *a = rc->out + j * rc->units, *y = rc->Y + j * rc->lw;
        double v = 0.0;
        if (rc->net->scce) {
            for (size_t i = 0; i < rc->units; i++)
                v += fmin(fmax(a[i], lo), hi);
            v = log(v) - log(fmin(fmax(a[(size_t)y[0]], lo), hi));
        } else {
            for (size_t i = 0; i < rc->units; i++)
                v += (a[i] - y[i]) * (a[i] - y[i]);
            v /= (double)rc->units;
        }
        sum += v;
    }
    return sum;
}

/* ---- hood's side ------------------------------------------------------------------------ */

static void fill(float *x, size_t n, uint64_t seed, float scale)
{
    hood_rng rng;
    hood__rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((hood__rng_uniform(&rng) * 2.0 - 1.0) * scale);
}

static hood_model *build(const rnet *net, uint64_t seed)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, net->h * net->w * net->c), HOOD_OK);
    ck_assert_int_eq(hood_model_set_input_shape(m, net->h, net->w, net->c), HOOD_OK);
    for (size_t i = 0; i < net->n; i++) {
        const rlayer *l = &net->L[i];
        hood_status st = HOOD_EINVAL;
        switch (l->kind) {
        case R_CONV:
            st = hood_model_add_conv2d(m, l->units, l->kh, l->kw, l->sh, l->sw, l->same, l->act,
                                       l->bias);
            break;
        case R_MAX:
            st = hood_model_add_max_pooling2d(m, l->kh, l->kw, l->sh, l->sw, l->same);
            break;
        case R_AVG:
            st = hood_model_add_average_pooling2d(m, l->kh, l->kw, l->sh, l->sw, l->same);
            break;
        case R_GAP:
            st = hood_model_add_global_average_pooling2d(m);
            break;
        case R_FLAT:
            st = hood_model_add_flatten(m);
            break;
        case R_DENSE:
            st = hood_model_add_dense(m, l->units, l->act, l->bias);
            break;
        case R_BN:
            st = hood_model_add_batch_normalization(m, BN_MOMENTUM, BN_EPSILON);
            break;
        }
        ck_assert_int_eq(st, HOOD_OK);
    }
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    hood_loss loss = net->scce ? HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY
                               : HOOD_LOSS_MEAN_SQUARED_ERROR;
    ck_assert_int_eq(hood_model_compile(m, loss, &opt, seed), HOOD_OK);
    /* non-zero biases; kernels scaled to fan-in so activations stay in their curved range */
    fill(m->params, m->num_params, seed + 99, 0.3f);
    for (size_t l = 0; l < m->num_layers; l++) {
        hood__layer *ly = &m->layers[l];
        size_t k = hood__layer_kernel_floats(ly);
        if (k > 0)
            fill(ly->W, k, seed + 7 + l, (float)(1.5 / sqrt((double)k / ly->oc)));
    }
    return m;
}

/* Tolerances: the float forward within FWD_REL of the double one (relative to the larger of
 * the value and the output's largest magnitude times 0.1); the analytic float gradient
 * within GRAD_REL of the double central difference plus GRAD_ABS times the largest gradient. */
#define FWD_REL 1e-5
#define GRAD_REL 1e-3
#define GRAD_ABS 1e-5

/* What check_net found: outputs and gradients outside the tolerance, and the loss. */
typedef struct rfound {
    size_t fwd_bad, grad_bad;
    bool loss_bad;
} rfound;

/* Forward check, loss check and gradient check of one network; `poke` >= 0 perturbs that
 * analytic gradient entry first (to see the check fail). Asserts every kernel and bias
 * gradient non-zero; returns the mismatches (the caller asserts on them). */
static rfound check_net(const rnet *net, uint64_t seed, size_t batch, long poke)
{
    rfound found = {0};
    rcase rc = {.net = net, .batch = batch};
    rc.np = ref_resolve(net, rc.S, &rc.ns);
    hood_model *m = build(net, seed);
    ck_assert_uint_eq(m->num_params, rc.np);
    ck_assert_uint_eq(m->num_state, rc.ns);
    rc.d = net->h * net->w * net->c;
    rc.units = hood_model_output_units(m);
    rc.lw = net->scce ? 1 : rc.units;
    const rshape *last = &rc.S[net->n - 1];
    ck_assert_uint_eq(rc.units, last->oh * last->ow * last->oc);
    rc.big = rc.d;
    for (size_t i = 0; i < net->n; i++)
        if (rc.S[i].oh * rc.S[i].ow * rc.S[i].oc > rc.big)
            rc.big = rc.S[i].oh * rc.S[i].ow * rc.S[i].oc;
    rc.big *= batch;
    float *X = malloc(rc.d * batch * sizeof(float)), *Y = malloc(rc.lw * batch * sizeof(float));
    float *pred = malloc(rc.units * batch * sizeof(float));
    rc.X = malloc(rc.d * batch * sizeof(double));
    rc.Y = malloc(rc.lw * batch * sizeof(double));
    rc.out = malloc(rc.big * sizeof(double));
    rc.b0 = malloc(rc.big * sizeof(double));
    rc.b1 = malloc(rc.big * sizeof(double));
    rc.state = malloc((rc.ns + 1) * sizeof(double));
    double *P = malloc(rc.np * sizeof(double));
    float *g = malloc(rc.np * sizeof(float));
    fill(X, rc.d * batch, seed + 1, 1.0f);
    fill(Y, rc.lw * batch, seed + 2, 1.0f);
    for (size_t i = 0; i < rc.d * batch; i++)
        rc.X[i] = X[i];
    for (size_t i = 0; i < rc.lw * batch; i++) /* scce: classes from the uniform draw */
        rc.Y[i] = Y[i] = net->scce ? floorf((Y[i] + 1.0f) * 0.5f * (float)rc.units) : Y[i];
    for (size_t i = 0; i < rc.np; i++)
        P[i] = m->params[i];
    for (size_t i = 0; i < rc.ns; i++) /* the moving statistics predict normalises with */
        rc.state[i] = m->state[i];

    /* 1. forward: hood's predict (inference) against the reference */
    ck_assert_int_eq(hood_model_predict(m, X, batch, batch, pred), HOOD_OK);
    ref_forward(net, rc.S, P, rc.state, false, rc.X, batch, rc.out, rc.b0, rc.b1);
    double fwd = 0.0;
    for (size_t j = 0; j < batch; j++) {
        const double *r = rc.out + j * rc.units;
        double top = 0.0;
        for (size_t i = 0; i < rc.units; i++)
            top = fmax(top, fabs(r[i]));
        for (size_t i = 0; i < rc.units; i++) {
            double err = fabs((double)pred[j * rc.units + i] - r[i]);
            double rel = err / fmax(fabs(r[i]), 1e-1 * top);
            fwd = fmax(fwd, rel);
            if (rel > FWD_REL && found.fwd_bad++ < 3)
                fprintf(stderr, "%s: sample %zu output %zu: hood %.9g reference %.9g\n",
                        net->name, j, i, (double)pred[j * rc.units + i], r[i]);
        }
    }

    /* 2. the loss and the analytic gradient of one batch */
    double loss = 0.0, want = ref_loss(&rc, P);
    ck_assert_int_eq(hood__model_batch_gradient(m, X, Y, rc.lw, batch, 1.0f, &loss), HOOD_OK);
    found.loss_bad = !(fabs(loss - want) <= FWD_REL * fabs(want));
    if (found.loss_bad)
        fprintf(stderr, "%s: loss %.9g reference %.9g\n", net->name, loss, want);
    memcpy(g, m->grads, rc.np * sizeof(float));

    /* each kernel and each bias gradient is non-zero */
    double gmax = 0.0;
    for (size_t l = 0; l < net->n; l++) {
        const rshape *s = &rc.S[l];
        double mk = 0.0, mb = 0.0;
        for (size_t i = 0; i < s->kernel; i++)
            mk = fmax(mk, fabs(g[s->off + i]));
        for (size_t i = 0; i < s->bias; i++)
            mb = fmax(mb, fabs(g[s->off + s->kernel + i]));
        ck_assert_msg(s->kernel == 0 || mk > 0.0, "%s: layer %zu kernel gradient all zeros",
                      net->name, l);
        ck_assert_msg(s->bias == 0 || mb > 0.0, "%s: layer %zu bias gradient all zeros",
                      net->name, l);
        gmax = fmax(gmax, fmax(mk, mb));
    }
    if (poke >= 0 && (size_t)poke < rc.np) /* twice the tolerance */
        g[poke] += (float)(2.0 * (GRAD_REL * fabs(g[poke]) + GRAD_ABS * gmax));

    /* 3. central differences in double of the reference loss, every parameter */
    double grad = 0.0;
    for (size_t i = 0; i < rc.np; i++) {
        double keep = P[i], h = 1e-6 * fmax(1.0, fabs(keep));
        P[i] = keep + h;
        double up = ref_loss(&rc, P);
        P[i] = keep - h;
        double down = ref_loss(&rc, P);
        P[i] = keep;
        double num = (up - down) / (2.0 * h), err = fabs(num - (double)g[i]);
        grad = fmax(grad, err / (fabs(num) + GRAD_ABS / GRAD_REL * gmax));
        if (err > GRAD_REL * fabs(num) + GRAD_ABS * gmax) {
            if (found.grad_bad++ < 5)
                fprintf(stderr, "%s: param %zu: analytic %.9g reference %.9g\n", net->name, i,
                        (double)g[i], num);
        }
    }
    fprintf(stderr, "%s: forward error %.3g, gradient error %.3g (of the tolerance's scale)\n",
            net->name, fwd, grad);
    free(X), free(Y), free(pred), free(P), free(g);
    free(rc.X), free(rc.Y), free(rc.out), free(rc.b0), free(rc.b1), free(rc.state);
    hood_model_free(m);
    return found;
}

static void check_clean(const rnet *net, uint64_t seed, size_t batch)
{
    rfound f = check_net(net, seed, batch, -1);
    ck_assert_msg(f.fwd_bad == 0, "%s: %zu outputs differ from the double reference", net->name,
                  f.fwd_bad);
    ck_assert_msg(!f.loss_bad, "%s: the loss differs from the double reference", net->name);
    ck_assert_msg(f.grad_bad == 0, "%s: %zu gradients differ from the double reference",
                  net->name, f.grad_bad);
}

/* ---- The cases ------------------------------------------------------------------------ */

#define CONV(f, kh, kw, s, same, bias, act) {R_CONV, f, kh, kw, s, s, same, bias, act}
#define MAXP(k, s, same) {R_MAX, 0, k, k, s, s, same, false, HOOD_ACT_LINEAR}
#define AVGP(k, s, same) {R_AVG, 0, k, k, s, s, same, false, HOOD_ACT_LINEAR}
#define GAP {R_GAP, 0, 0, 0, 0, 0, false, false, HOOD_ACT_LINEAR}
#define FLAT {R_FLAT, 0, 0, 0, 0, 0, false, false, HOOD_ACT_LINEAR}
#define DENSE(u, act) {R_DENSE, u, 0, 0, 0, 0, false, true, act}
#define BN {R_BN, 0, 0, 0, 0, 0, false, false, HOOD_ACT_LINEAR}

/* Conv2D alone (its output is the model's output): stride 1 and 2, valid and same, odd and
 * even sizes, bias on and off. */
static const rnet CONV_NETS[] = {
    {"conv 5x5 s1 valid bias", 5, 5, 2, 1, {CONV(3, 3, 3, 1, false, true, HOOD_ACT_TANH)}, false},
    {"conv 5x5 s2 same nobias", 5, 5, 2, 1, {CONV(3, 3, 3, 2, true, false, HOOD_ACT_TANH)}, false},
    {"conv 7x7 s2 valid nobias", 7, 7, 3, 1, {CONV(2, 3, 2, 2, false, false, HOOD_ACT_LINEAR)}, false},
    {"conv 7x7 s1 same bias", 7, 7, 1, 1, {CONV(2, 4, 3, 1, true, true, HOOD_ACT_SIGMOID)}, false},
    {"conv 6x6 s1 same nobias", 6, 6, 2, 1, {CONV(3, 3, 3, 1, true, false, HOOD_ACT_TANH)}, false},
    {"conv 6x6 s2 valid bias", 6, 6, 2, 1, {CONV(2, 2, 3, 2, false, true, HOOD_ACT_TANH)}, false},
    {"conv 8x8 s2 same bias", 8, 8, 2, 1, {CONV(2, 3, 3, 2, true, true, HOOD_ACT_LINEAR)}, false},
    {"conv 8x8 s1 valid nobias", 8, 8, 1, 1, {CONV(3, 2, 2, 1, false, false, HOOD_ACT_TANH)}, false},
    {"conv 6x6 1x1 s1", 6, 6, 3, 1, {CONV(2, 1, 1, 1, false, true, HOOD_ACT_TANH)}, false},
    {"conv 7x7 1x1 s2 same", 7, 7, 2, 1, {CONV(2, 1, 1, 2, true, false, HOOD_ACT_TANH)}, false},
};

/* Pooling behind a conv (so the pool's dX reaches the conv's dW), and global average. */
static const rnet POOL_NETS[] = {
    {"max 2 valid 6x6", 6, 6, 2, 2, {CONV(2, 2, 2, 1, true, true, HOOD_ACT_TANH), MAXP(2, 2, false)}, false},
    {"max 3/2 same 7x7", 7, 7, 2, 2, {CONV(2, 3, 3, 1, true, true, HOOD_ACT_TANH), MAXP(3, 2, true)}, false},
    {"max 2 same 5x5", 5, 5, 1, 2, {CONV(3, 3, 3, 1, true, false, HOOD_ACT_TANH), MAXP(2, 2, true)}, false},
    {"max 3/1 valid 8x8", 8, 8, 1, 2, {CONV(2, 3, 3, 1, false, true, HOOD_ACT_LINEAR), MAXP(3, 1, false)}, false},
    {"avg 2 valid 8x8", 8, 8, 2, 2, {CONV(2, 3, 3, 1, true, true, HOOD_ACT_TANH), AVGP(2, 2, false)}, false},
    {"avg 2 same 7x7", 7, 7, 2, 2, {CONV(2, 3, 3, 1, true, false, HOOD_ACT_TANH), AVGP(2, 2, true)}, false},
    {"avg 3/2 same 6x6", 6, 6, 1, 2, {CONV(3, 2, 2, 1, true, true, HOOD_ACT_TANH), AVGP(3, 2, true)}, false},
    {"avg 3/2 valid 5x5", 5, 5, 2, 2, {CONV(2, 2, 2, 1, true, true, HOOD_ACT_SIGMOID), AVGP(3, 2, false)}, false},
    {"gap 7x6", 7, 6, 2, 2, {CONV(3, 3, 3, 2, true, true, HOOD_ACT_TANH), GAP}, false},
    {"gap 6x6 then dense", 6, 6, 2, 3,
     {CONV(4, 3, 3, 1, false, true, HOOD_ACT_RELU), GAP, DENSE(3, HOOD_ACT_LINEAR)}, false},
};

/* Stacked: conv -> pool -> conv -> flatten -> dense (the second conv's dX feeds the first's dW). */
static const rnet STACK_NETS[] = {
    {"stack 8x8 max", 8, 8, 2, 5,
     {CONV(3, 3, 3, 1, true, true, HOOD_ACT_TANH), MAXP(2, 2, false),
      CONV(4, 3, 3, 1, false, false, HOOD_ACT_TANH), FLAT, DENSE(3, HOOD_ACT_LINEAR)}, false},
    {"stack 9x7 avg s2", 9, 7, 1, 5,
     {CONV(3, 3, 3, 2, true, false, HOOD_ACT_RELU), AVGP(2, 1, true),
      CONV(2, 2, 2, 1, true, true, HOOD_ACT_TANH), FLAT, DENSE(4, HOOD_ACT_TANH)}, false},
    /* BatchNormalization (training mode) on images and on flat vectors; softmax + sparse
     * categorical crossentropy */
    {"stack bn softmax 8x7", 8, 7, 2, 7,
     {CONV(3, 3, 3, 1, true, false, HOOD_ACT_TANH), BN, MAXP(2, 2, true), FLAT,
      DENSE(6, HOOD_ACT_TANH), BN, DENSE(4, HOOD_ACT_SOFTMAX)}, true},
    {"gap softmax 6x6 s2", 6, 6, 3, 3,
     {CONV(4, 3, 3, 2, true, true, HOOD_ACT_RELU), GAP, DENSE(3, HOOD_ACT_SOFTMAX)}, true},
};

START_TEST(test_conv_alone)
{
    check_clean(&CONV_NETS[_i], 100 + (uint64_t)_i, 3);
}
END_TEST

START_TEST(test_pooling)
{
    check_clean(&POOL_NETS[_i], 200 + (uint64_t)_i, 3);
}
END_TEST

START_TEST(test_stacked)
{
    check_clean(&STACK_NETS[_i], 300 + (uint64_t)_i, 4);
}
END_TEST

/* Each check catches a mistake: one analytic gradient entry off by twice the tolerance (the
 * first conv's kernel in a stack, reached only through the second conv's dX), the reference
 * padding the wrong side, average pools counting the padding. */
START_TEST(test_checks_can_fail)
{
    for (long poke = 0; poke < 200; poke += 37) {
        rfound f = check_net(&STACK_NETS[0], 300, 4, poke);
        ck_assert_uint_eq(f.fwd_bad, 0);
        ck_assert_uint_eq(f.grad_bad, 1);
    }
    const rnet *odd_pads[] = {&CONV_NETS[3], &POOL_NETS[2]};
    wrong_pad = true;
    for (size_t i = 0; i < 2; i++) {
        rfound f = check_net(odd_pads[i], 1, 2, -1);
        ck_assert_msg(f.fwd_bad > 0 && f.loss_bad, "%s: wrong padding not seen", odd_pads[i]->name);
    }
    wrong_pad = false;
    avg_counts_pad = true;
    rfound f = check_net(&POOL_NETS[5], 1, 2, -1);
    ck_assert_msg(f.fwd_bad > 0, "average pool counting the padding not seen");
    avg_counts_pad = false;
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("conv_reference");
    TCase *tc = tcase_create("reference");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_conv_alone, 0, (int)(sizeof CONV_NETS / sizeof CONV_NETS[0]));
    tcase_add_loop_test(tc, test_pooling, 0, (int)(sizeof POOL_NETS / sizeof POOL_NETS[0]));
    tcase_add_loop_test(tc, test_stacked, 0, (int)(sizeof STACK_NETS / sizeof STACK_NETS[0]));
    tcase_add_test(tc, test_checks_can_fail);
    suite_add_tcase(s, tc);
    return s;
}
