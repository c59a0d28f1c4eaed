/* metrics.c — metrics over predictions and labels: Keras' accuracy, Precision, Recall and AUC
 * (200 thresholds, ROC, trapezoids), scikit-learn's confusion matrix and classification report,
 * and compute_class_weight("balanced"). Pure arithmetic on given arrays; no model, no files. */
#include "hood.h"

#include "error.h"
#include "loss.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* keras.metrics.AUC's default num_thresholds and its epsilon around 0 and 1. */
enum { AUC_THRESHOLDS = 200 };

/* The true class of a label column (see hood.h), or SIZE_MAX when it names none. */
static size_t true_class(const float *y, size_t label_width, size_t units)
{
    if (label_width > 1)
        return hood__argmax(y, label_width);
    if (units == 1)
        return y[0] > 0.5f;
    if (!(y[0] >= 0.0f) || y[0] != floorf(y[0]) || y[0] >= 4294967296.0f)
        return SIZE_MAX;
    return (size_t)y[0];
}

static size_t predicted_class(const float *p, size_t units)
{
    return units == 1 ? (size_t)(p[0] > 0.5f) : hood__argmax(p, units);
}

/* How many of Keras' thresholds (-1e-7, 1/199, ..., 198/199, 1 + 1e-7) p is above. */
static size_t thresholds_below(float p)
{
    const double T = AUC_THRESHOLDS - 1;
    double v = p;
    if (!(v > -1e-7))
        return 0;
    if (v > 1.0 + 1e-7)
        return AUC_THRESHOLDS;
    /* above threshold i (1..198) when v > i/199, i.e. for i < v*199 */
    double c = ceil(v * T);
    if (c < 1.0)
        c = 1.0;
    if (c > T)
        c = T;
    return (size_t)c;
}

static double ratio(double a, double b)
{
    return b > 0.0 ? a / b : 0.0;
}

hood_status hood_metrics_compute(const float *pred, size_t units, const float *labels,
                                 size_t label_width, size_t samples, hood_metrics *out)
{
    hood__clear_error();
    if (out == NULL || pred == NULL || labels == NULL || units == 0 || label_width == 0)
        return hood__fail(HOOD_EINVAL, "metrics: NULL array or zero width");
    memset(out, 0, sizeof *out);
    if (label_width != 1 && label_width != units)
        return hood__fail(HOOD_ESHAPE,
                          "metrics: labels have %zu values per sample, the output %zu units",
                          label_width, units);
    /* pos[c] / neg[c]: positive / negative values above exactly c thresholds */
    uint64_t pos[AUC_THRESHOLDS + 1] = {0}, neg[AUC_THRESHOLDS + 1] = {0};
    uint64_t tp = 0, fp = 0, fn = 0, right = 0;
    for (size_t j = 0; j < samples; j++) {
        const float *p = pred + j * units, *y = labels + j * label_width;
        size_t t = true_class(y, label_width, units);
        if (t == SIZE_MAX || (units > 1 && t >= units))
            return hood__fail(HOOD_EDATA, "metrics: sample %zu: label %g is not a class below %zu",
                              j, (double)y[0], units);
        right += predicted_class(p, units) == t;
        for (size_t i = 0; i < units; i++) {
            bool truth = label_width == units ? y[i] != 0.0f : i == t;
            bool positive = p[i] > 0.5f;
            tp += truth && positive;
            fp += !truth && positive;
            fn += truth && !positive;
            (truth ? pos : neg)[thresholds_below(p[i])]++;
        }
    }
    out->accuracy = ratio((double)right, (double)samples);
    out->precision = ratio((double)tp, (double)(tp + fp));
    out->recall = ratio((double)tp, (double)(tp + fn));
    /* TP(i), FP(i): values above threshold i = those above more than i thresholds */
    double P = 0.0, N = 0.0;
    for (size_t c = 0; c <= AUC_THRESHOLDS; c++) {
        P += (double)pos[c];
        N += (double)neg[c];
    }
    double tp_i = P - (double)pos[0], fp_i = N - (double)neg[0], auc = 0.0;
    for (size_t i = 0; i + 1 < AUC_THRESHOLDS; i++) {
        double tp_next = tp_i - (double)pos[i + 1], fp_next = fp_i - (double)neg[i + 1];
        auc += (ratio(fp_i, N) - ratio(fp_next, N)) * (ratio(tp_i, P) + ratio(tp_next, P)) / 2.0;
        tp_i = tp_next;
        fp_i = fp_next;
    }
    out->auc = auc;
    return HOOD_OK;
}

hood_status hood_confusion_matrix(const float *pred, size_t units, const float *labels,
                                  size_t label_width, size_t samples, size_t classes,
                                  uint64_t *matrix)
{
    hood__clear_error();
    if (pred == NULL || labels == NULL || matrix == NULL || units == 0 || label_width == 0 ||
        classes < 2 || classes > 65536)
        return hood__fail(HOOD_EINVAL, "confusion matrix: NULL array, zero width or classes "
                                       "not in 2..65536");
    if (label_width != 1 && label_width != units)
        return hood__fail(HOOD_ESHAPE,
                          "confusion matrix: labels have %zu values per sample, the output %zu "
                          "units",
                          label_width, units);
    memset(matrix, 0, classes * classes * sizeof *matrix);
    for (size_t j = 0; j < samples; j++) {
        size_t t = true_class(labels + j * label_width, label_width, units);
        size_t p = predicted_class(pred + j * units, units);
        if (t >= classes || p >= classes)
            return hood__fail(HOOD_EDATA,
                              "confusion matrix: sample %zu: class %s is not below %zu", j,
                              t >= classes ? "label" : "predicted", classes);
        matrix[t * classes + p]++;
    }
    return HOOD_OK;
}

hood_status hood_classification_report(const uint64_t *matrix, size_t classes,
                                       hood_class_scores *out)
{
    hood__clear_error();
    if (matrix == NULL || out == NULL || classes == 0)
        return hood__fail(HOOD_EINVAL, "classification report: NULL array or no classes");
    uint64_t total = 0;
    hood_class_scores macro = {0}, weighted = {0};
    for (size_t c = 0; c < classes; c++) {
        uint64_t tp = matrix[c * classes + c], row = 0, col = 0;
        for (size_t k = 0; k < classes; k++) {
            row += matrix[c * classes + k];
            col += matrix[k * classes + c];
        }
        hood_class_scores *s = &out[c];
        s->precision = ratio((double)tp, (double)col);
        s->recall = ratio((double)tp, (double)row);
        s->f1 = ratio(2.0 * s->precision * s->recall, s->precision + s->recall);
        s->support = row;
        total += row;
        macro.precision += s->precision;
        macro.recall += s->recall;
        macro.f1 += s->f1;
        weighted.precision += s->precision * (double)row;
        weighted.recall += s->recall * (double)row;
        weighted.f1 += s->f1 * (double)row;
    }
    macro.precision /= (double)classes;
    macro.recall /= (double)classes;
    macro.f1 /= (double)classes;
    weighted.precision = ratio(weighted.precision, (double)total);
    weighted.recall = ratio(weighted.recall, (double)total);
    weighted.f1 = ratio(weighted.f1, (double)total);
    macro.support = weighted.support = total;
    out[classes] = macro;
    out[classes + 1] = weighted;
    return HOOD_OK;
}

hood_status hood_class_weights_balanced(const hood_dataset *data, size_t classes, float *weights)
{
    hood__clear_error();
    if (data == NULL || weights == NULL || classes == 0)
        return hood__fail(HOOD_EINVAL, "class weights: NULL dataset or array, or no classes");
    const float *y = hood_dataset_labels(data);
    size_t n = hood_dataset_samples(data), w = hood_dataset_label_width(data);
    if (y == NULL)
        return hood__fail(HOOD_EINVAL, "class weights: the data has no labels");
    uint64_t *count = calloc(classes, sizeof *count);
    if (count == NULL)
        return hood__fail(HOOD_ENOMEM, "class weights: out of memory");
    hood_status st = HOOD_OK;
    for (size_t j = 0; j < n && st == HOOD_OK; j++) {
        size_t c = hood__label_class(y + j * w, w);
        if (c >= classes)
            st = hood__fail(HOOD_EDATA, "class weights: sample %zu: label is not a class below %zu",
                            j, classes);
        else
            count[c]++;
    }
    for (size_t c = 0; c < classes && st == HOOD_OK; c++) {
        if (count[c] == 0)
            st = hood__fail(HOOD_EDATA, "class weights: class %zu has no samples", c);
        else
            weights[c] = (float)((double)n / ((double)classes * (double)count[c]));
    }
    free(count);
    return st;
}
