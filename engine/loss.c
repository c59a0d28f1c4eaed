/* loss.c — the four Keras losses over a batch: per-sample values (added in double to the
 * caller's running total, one sample at a time), the gradient with respect to the output
 * layer's pre-activations Z, and the accuracy count, in one pass over the columns. It does not
 * reduce over epochs or weight samples; train.c does. */
#include "loss.h"

#include "activation.h"
#include "error.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Keras' backend epsilon(): the clip bound for probabilities and the guard inside BCE's logs. */
static const float LOSS_EPSILON = 1e-7f;

static const char *loss_name(hood_loss loss)
{
    switch (loss) {
    case HOOD_LOSS_BINARY_CROSSENTROPY:
        return "binary_crossentropy";
    case HOOD_LOSS_CATEGORICAL_CROSSENTROPY:
        return "categorical_crossentropy";
    case HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        return "sparse_categorical_crossentropy";
    case HOOD_LOSS_MEAN_SQUARED_ERROR:
        return "mean_squared_error";
    }
    return "unknown loss";
}

static const char *mode_name(hood_label_mode mode)
{
    switch (mode) {
    case HOOD_LABELS_INT:
        return "integer";
    case HOOD_LABELS_CATEGORICAL:
        return "categorical";
    case HOOD_LABELS_BINARY:
        return "binary";
    case HOOD_LABELS_NONE:
        return "no";
    }
    return "unknown";
}

static const char *plural(size_t n)
{
    return n == 1 ? "" : "s";
}

hood_status hood__loss_check(hood_loss loss, hood_activation out_act, size_t units,
                             hood_label_mode mode, size_t label_width, size_t num_classes)
{
    const char *name = loss_name(loss);
    if (loss > HOOD_LOSS_MEAN_SQUARED_ERROR)
        return hood__fail(HOOD_EINVAL, "loss: unknown loss %d", (int)loss);
    if (out_act > HOOD_ACT_SOFTMAX)
        return hood__fail(HOOD_EINVAL, "loss: unknown output activation %d", (int)out_act);
    if (units == 0)
        return hood__fail(HOOD_ESHAPE, "%s: the output layer has no units", name);
    if (mode == HOOD_LABELS_NONE || label_width == 0)
        return hood__fail(HOOD_EINVAL, "%s: the data has no labels", name);
    /* Keras accepts it, but a softmax over one unit is the constant 1: nothing can be learnt. */
    if (out_act == HOOD_ACT_SOFTMAX && units == 1)
        return hood__fail(HOOD_EINVAL,
                          "%s: a softmax output with 1 unit always outputs 1; use sigmoid for "
                          "one unit or one unit per class with softmax",
                          name);
    switch (loss) {
    case HOOD_LOSS_BINARY_CROSSENTROPY:
        /* Integer labels of two classes are the 0/1 targets of a single sigmoid unit. */
        if (mode == HOOD_LABELS_INT && units == 1 && label_width == 1 && num_classes <= 2)
            return HOOD_OK;
        if (mode == HOOD_LABELS_INT)
            return hood__fail(HOOD_ESHAPE,
                              "%s needs labels of 0/1 per output unit: output has %zu unit%s, "
                              "labels are integer classes (%zu classes); use "
                              "sparse_categorical_crossentropy with one unit per class",
                              name, units, plural(units), num_classes);
        if (label_width != units)
            return hood__fail(HOOD_ESHAPE,
                              "%s needs one label value per output unit: output has %zu unit%s, "
                              "labels have %zu value%s per sample",
                              name, units, plural(units), label_width, plural(label_width));
        return HOOD_OK;
    case HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        /* Binary labels are stored as the class index 0/1, so they are integer labels too. */
        if ((mode != HOOD_LABELS_INT && mode != HOOD_LABELS_BINARY) || label_width != 1)
            return hood__fail(HOOD_ESHAPE,
                              "%s needs integer labels (one class index per sample): labels are "
                              "%s with %zu value%s per sample; use categorical_crossentropy for "
                              "one-hot labels",
                              name, mode_name(mode), label_width, plural(label_width));
        if (mode == HOOD_LABELS_BINARY && num_classes < 2)
            num_classes = 2;
        if (units < 2 || num_classes > units)
            return hood__fail(HOOD_ESHAPE,
                              "%s needs integer labels and an output layer with one unit per "
                              "class: output has %zu unit%s, labels have %zu classes",
                              name, units, plural(units), num_classes);
        return HOOD_OK;
    case HOOD_LOSS_CATEGORICAL_CROSSENTROPY:
        if (mode != HOOD_LABELS_CATEGORICAL)
            return hood__fail(HOOD_ESHAPE,
                              "%s needs one-hot (categorical) labels: labels are %s; use "
                              "sparse_categorical_crossentropy for class indices",
                              name, mode_name(mode));
        if (label_width != units)
            return hood__fail(HOOD_ESHAPE,
                              "%s needs an output layer with one unit per class: output has %zu "
                              "unit%s, labels have %zu classes",
                              name, units, plural(units), label_width);
        return HOOD_OK;
    case HOOD_LOSS_MEAN_SQUARED_ERROR:
        if (label_width != units)
            return hood__fail(HOOD_ESHAPE,
                              "%s needs one target value per output unit: output has %zu unit%s, "
                              "labels have %zu value%s per sample",
                              name, units, plural(units), label_width, plural(label_width));
        return HOOD_OK;
    }
    return hood__fail(HOOD_EINVAL, "loss: unknown loss %d", (int)loss);
}

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* The class index stored in a label (an exact float), or units when it is not a valid index
 * below units. */
static size_t label_index(float y, size_t units)
{
    if (!(y >= 0.0f) || y != floorf(y) || (double)y >= (double)units)
        return units;
    return (size_t)y;
}

/* log(sum(exp(z))) of one column, max-subtracted. */
static double log_sum_exp(const float *z, size_t units)
{
    float max = z[0];
    for (size_t i = 1; i < units; i++)
        if (z[i] > max)
            max = z[i];
    double sum = 0.0;
    for (size_t i = 0; i < units; i++)
        sum += exp((double)z[i] - max);
    return max + log(sum);
}

/* One sample whose loss has no fused form: the loss of A's column, dL/dA written into dz (when
 * not NULL, already divided by scale), then turned into dL/dZ through the activation. */
static double generic_column(hood_loss loss, hood_activation act, const float *a, const float *y,
                             size_t units, double inv_scale, float *dz)
{
    double value = 0.0;
    switch (loss) {
    case HOOD_LOSS_BINARY_CROSSENTROPY: {
        /* Keras: p = clip(a, eps, 1-eps); -(y log(p + eps) + (1-y) log(1 - p + eps)), mean
         * over units. The clip's gradient is zero outside [eps, 1-eps]. */
        double g = inv_scale / (double)units;
        for (size_t i = 0; i < units; i++) {
            double p = clampf(a[i], LOSS_EPSILON, 1.0f - LOSS_EPSILON);
            double t = y[i];
            value -= t * log(p + LOSS_EPSILON) + (1.0 - t) * log(1.0 - p + LOSS_EPSILON);
            if (dz != NULL) {
                bool inside = a[i] >= LOSS_EPSILON && a[i] <= 1.0f - LOSS_EPSILON;
                dz[i] = inside ? (float)(g * (-t / (p + LOSS_EPSILON) +
                                              (1.0 - t) / (1.0 - p + LOSS_EPSILON)))
                               : 0.0f;
            }
        }
        value /= (double)units;
        break;
    }
    case HOOD_LOSS_CATEGORICAL_CROSSENTROPY: {
        /* Keras: q = a / sum(a); c = clip(q, eps, 1-eps); -sum(y log c). Through the
         * normalisation, dL/da_k = (g_k - sum_i g_i q_i) / S with g_i = dL/dq_i. */
        double s = 0.0;
        for (size_t i = 0; i < units; i++)
            s += a[i];
        double gq = 0.0;
        for (size_t i = 0; i < units; i++) {
            float q = (float)(a[i] / s);
            double c = clampf(q, LOSS_EPSILON, 1.0f - LOSS_EPSILON);
            value -= (double)y[i] * log(c);
            if (dz != NULL) {
                bool inside = q >= LOSS_EPSILON && q <= 1.0f - LOSS_EPSILON;
                double g = inside ? -(double)y[i] / c : 0.0;
                dz[i] = (float)g; /* g_k for now; finished below */
                gq += g * q;
            }
        }
        if (dz != NULL)
            for (size_t i = 0; i < units; i++)
                dz[i] = (float)((dz[i] - gq) / s * inv_scale);
        break;
    }
    case HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY: {
        /* Keras: c = clip(a, eps, 1-eps), then softmax cross-entropy on log(c), which is
         * -log(c_t / sum(c)); dL/dc_k = 1/sum(c) - [k == t]/c_t. */
        size_t t = label_index(y[0], units);
        double s = 0.0;
        for (size_t i = 0; i < units; i++)
            s += clampf(a[i], LOSS_EPSILON, 1.0f - LOSS_EPSILON);
        /* An out-of-range label (loss_check and the dataset rule it out) poisons the loss with
         * NaN rather than reading outside the column. */
        double ct = t < units ? clampf(a[t], LOSS_EPSILON, 1.0f - LOSS_EPSILON) : NAN;
        value = log(s) - log(ct);
        if (dz != NULL)
            for (size_t i = 0; i < units; i++) {
                bool inside = a[i] >= LOSS_EPSILON && a[i] <= 1.0f - LOSS_EPSILON;
                double g = 1.0 / s - (i == t ? 1.0 / ct : 0.0);
                dz[i] = inside ? (float)(g * inv_scale) : 0.0f;
            }
        break;
    }
    case HOOD_LOSS_MEAN_SQUARED_ERROR: {
        double g = 2.0 * inv_scale / (double)units;
        for (size_t i = 0; i < units; i++) {
            double d = (double)a[i] - y[i];
            value += d * d;
            if (dz != NULL)
                dz[i] = (float)(g * d);
        }
        value /= (double)units;
        break;
    }
    }
    if (dz != NULL)
        hood__activation_backward(act, dz, dz, a, units, 1);
    return value;
}

void hood__loss_batch(hood_loss loss, hood_activation out_act, const float *Z, const float *A,
                      const float *Y, size_t label_width, size_t units, size_t batch, float scale,
                      float *dZ, double *loss_sum, size_t *correct)
{
    hood__loss_batch_weighted(loss, out_act, Z, A, Y, label_width, units, batch, scale, dZ,
                              loss_sum, correct, NULL, 0);
}

size_t hood__label_class(const float *y, size_t label_width)
{
    if (label_width > 1)
        return hood__argmax(y, label_width);
    /* Keras rounds the label (np.round) before looking its weight up */
    float r = nearbyintf(y[0]);
    return r >= 0.0f && r < 4294967296.0f ? (size_t)r : SIZE_MAX;
}

void hood__loss_batch_weighted(hood_loss loss, hood_activation out_act, const float *Z,
                               const float *A, const float *Y, size_t label_width, size_t units,
                               size_t batch, float scale, float *dZ, double *loss_sum,
                               size_t *correct, const float *class_weights,
                               size_t num_class_weights)
{
    const double inv_scale = 1.0 / (double)scale;
    const bool sparse = loss == HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    const bool fused_sigmoid = loss == HOOD_LOSS_BINARY_CROSSENTROPY && out_act == HOOD_ACT_SIGMOID;
    const bool fused_softmax =
        out_act == HOOD_ACT_SOFTMAX && (sparse || loss == HOOD_LOSS_CATEGORICAL_CROSSENTROPY);
    /* The caller's total itself, sample after sample: a sum over several batches is then the
     * same bits however the samples were cut into batches (a batch subtotal added at the end
     * would round differently for every batch size). */
    double total = loss_sum != NULL ? *loss_sum : 0.0;
    size_t right = 0;
    for (size_t j = 0; j < batch; j++) {
        /* Z is only read by the fused forms; other callers may pass NULL. */
        const float *z = Z != NULL ? Z + j * units : NULL;
        const float *a = A + j * units, *y = Y + j * label_width;
        float *dz = dZ != NULL ? dZ + j * units : NULL;
        double value = 0.0;
        if (fused_sigmoid) {
            /* Keras' logits form (sigmoid_cross_entropy_with_logits): finite for any z, and
             * its gradient is exactly sigma(z) - y. Mean over units. */
            double g = inv_scale / (double)units;
            for (size_t i = 0; i < units; i++) {
                double zi = z[i], t = y[i];
                value += fmax(zi, 0.0) - zi * t + log1p(exp(-fabs(zi)));
                if (dz != NULL)
                    dz[i] = (float)(((double)a[i] - t) * g);
            }
            value /= (double)units;
        } else if (fused_softmax) {
            /* -sum(y log softmax(z)) with log softmax(z) = z - logsumexp(z); its gradient is
             * sum(y) p - y, i.e. p - onehot for one-hot or integer labels. */
            double lse = log_sum_exp(z, units);
            if (sparse) {
                size_t t = label_index(y[0], units);
                value = t < units ? lse - z[t] : NAN;
                if (dz != NULL)
                    for (size_t i = 0; i < units; i++)
                        dz[i] = (float)(((double)a[i] - (i == t ? 1.0 : 0.0)) * inv_scale);
            } else {
                double ysum = 0.0;
                for (size_t i = 0; i < units; i++) {
                    value -= (double)y[i] * ((double)z[i] - lse);
                    ysum += y[i];
                }
                if (dz != NULL)
                    for (size_t i = 0; i < units; i++)
                        dz[i] = (float)((ysum * a[i] - y[i]) * inv_scale);
            }
        } else {
            value = generic_column(loss, out_act, a, y, units, inv_scale, dz);
        }
        if (class_weights != NULL) {
            /* Keras' sample weight: the sample's loss and so its whole gradient, scaled */
            size_t c = hood__label_class(y, label_width);
            float w = c < num_class_weights ? class_weights[c] : 1.0f;
            value *= (double)w;
            if (dz != NULL)
                for (size_t i = 0; i < units; i++)
                    dz[i] *= w;
        }
        total += value;

        /* Keras' "accuracy": sparse labels compare the argmax with the index; one output unit
         * thresholds at 0.5; otherwise argmax against the label's argmax. */
        if (sparse)
            right += hood__argmax(a, units) == label_index(y[0], units);
        else if (units == 1)
            right += (a[0] > 0.5f) == (y[0] > 0.5f);
        else
            right += hood__argmax(a, units) == hood__argmax(y, label_width < units ? label_width : units);
    }
    if (loss_sum != NULL)
        *loss_sum = total;
    if (correct != NULL)
        *correct += right;
}
