/* loss.h — loss values and output gradients with Keras numerics; the output activation's
 * derivative is folded in here (exactly, for sigmoid+BCE and softmax+CE), so train.c starts
 * backward from dZ of the last layer. Also the accuracy metric. */
#ifndef HOOD_LOSS_H
#define HOOD_LOSS_H

#include "hood.h"

/* Whether an output layer (activation, units) and labels (mode, width, classes) fit the loss;
 * HOOD_ESHAPE/HOOD_EINVAL with a message naming what does not fit. BCE: label width == units
 * (INT labels of <= 2 classes fit a single unit); SCCE: INT (or BINARY) labels, width 1, and
 * units >= 2 and classes <= units; CCE: CATEGORICAL labels, width == units; MSE: width == units.
 * Any activation is allowed (as in Keras) except softmax over a single unit (constant 1). */
hood_status hood__loss_check(hood_loss loss, hood_activation out_act, size_t units,
                             hood_label_mode mode, size_t label_width, size_t num_classes);

/* For one batch: A = act(Z) outputs and Z its pre-activations (units x batch), Y the labels
 * (label_width x batch).
 *   *loss_sum  += each sample's loss (double), one sample at a time in column order, so a
 *                 total carried over consecutive batches is the same bits at any batch size
 *   *correct   += samples predicted right (sigmoid/1 unit: A > 0.5 vs Y > 0.5; else argmax)
 *   dZ (units x batch), if not NULL, = d(sum of per-sample losses)/dZ / scale: pass the batch
 *   size (Keras' batch mean) or the global batch size when the batch is split over workers.
 * BCE with a sigmoid output uses the logits form (max(z,0) - z*y + log1p(exp(-|z|))) and
 * dZ = sigma(z) - y; other BCE clips A to [1e-7, 1-1e-7] and uses Keras' -(y log(p+1e-7) +
 * (1-y) log(1-p+1e-7)). CCE/SCCE with softmax use log-softmax of Z and dZ = A - onehot.
 * Without softmax, CCE divides A by its column sum then clips (Keras), SCCE clips then takes
 * -log(a_t / sum a) (Keras' softmax of log(clip(A))); the activation's derivative is applied.
 * BCE and MSE are means over units. Z is read only by the fused forms (NULL otherwise);
 * loss_sum and correct may be NULL. SCCE labels are class indices below units (loss_check and
 * the dataset ensure it; an out-of-range index gives a NaN loss, never an out-of-bounds read).
 * Accuracy: SCCE compares argmax(A) with the index; one unit thresholds A and Y at 0.5; else
 * argmax(A) against argmax(Y) (first maximum on ties). */
void hood__loss_batch(hood_loss loss, hood_activation out_act, const float *Z, const float *A,
                      const float *Y, size_t label_width, size_t units, size_t batch, float scale,
                      float *dZ, double *loss_sum, size_t *correct);
/* hood__loss_batch with Keras' class_weight: each sample's loss (into *loss_sum) and its dZ
 * column are multiplied by class_weights[c], c = argmax of a one-hot label (label_width > 1)
 * or the rounded label value; 1 for c >= num_class_weights. NULL class_weights: unweighted. */
void hood__loss_batch_weighted(hood_loss loss, hood_activation out_act, const float *Z,
                               const float *A, const float *Y, size_t label_width, size_t units,
                               size_t batch, float scale, float *dZ, double *loss_sum,
                               size_t *correct, const float *class_weights,
                               size_t num_class_weights);
/* The class a label column names for class_weight (see above). */
size_t hood__label_class(const float *y, size_t label_width);

/* Index of the largest of v[0..n) (the first on ties), as accuracy and the metrics count a
 * prediction's class. */
static inline size_t hood__argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

#endif
