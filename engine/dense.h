/* dense.h — one Dense layer over a batch: Z = W·X + b, A = act(Z), and its backward. W is
 * out x in column-major (Keras' (in, out) kernel bytes); parameters and gradients are views
 * into the model's arenas. Forward keeps A (and Z of the output layer) for backward. */
#ifndef HOOD_DENSE_H
#define HOOD_DENSE_H

#include "hood.h"

typedef struct hood__dense {
    size_t in, out;
    hood_activation act;
    bool use_bias;
    float *W, *b;   /* views into the parameter arena; b NULL without bias */
    float *dW, *db; /* views into the gradient arena */
} hood__dense;

/* A (out x batch) = act(W (out x in) · X (in x batch, ld = ldx) + b); Z_keep (out x batch) gets
 * the pre-activations when not NULL. */
void hood__dense_forward(const hood__dense *layer, float *A, float *Z_keep, const float *X,
                         size_t ldx, size_t batch);
/* From dZ (out x batch): dW = dZ · Xᵀ, db = row sums of dZ (both overwritten), and, when dX is
 * not NULL, dX (in x batch) = Wᵀ · dZ. The first layer passes dX = NULL. */
void hood__dense_backward(const hood__dense *layer, float *dX, const float *dZ, const float *X,
                          size_t ldx, size_t batch);

#endif
