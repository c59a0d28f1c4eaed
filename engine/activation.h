/* activation.h — activations applied column-wise to a layer's pre-activations, fused with the
 * bias add; backward works from the stored output A, so forward keeps A only. */
#ifndef HOOD_ACTIVATION_H
#define HOOD_ACTIVATION_H

#include "hood.h"

/* In place on Z (units x batch, ld = units): Z = act(Z + b), b (units) may be NULL.
 * When Z_keep is not NULL it first receives Z + b (the logits the fused losses need).
 * Softmax is column-wise and max-subtracted. */
void hood__activation_forward(hood_activation act, float *Z, float *Z_keep, const float *b,
                              size_t units, size_t batch);
/* dZ = dL/dZ from dA = dL/dA and the output A = act(Z) (all units x batch). dZ may alias dA.
 * Softmax: dZ = A * (dA - sum(dA * A)) per column. */
void hood__activation_backward(hood_activation act, float *dZ, const float *dA, const float *A,
                               size_t units, size_t batch);

#endif
