/* init.h — kernel initialisers as Keras defines them, drawn from an explicit hood_rng. */
#ifndef HOOD_INIT_H
#define HOOD_INIT_H

#include "hood.h"
#include "rng.h"

/* Fills W (out x in, column-major; fan_in = in, fan_out = out). glorot_uniform: U(±sqrt(6/(in+
 * out))); he_uniform: U(±sqrt(6/in)); he_normal: truncated normal, stddev sqrt(2/in)/.8796...
 * (Keras truncates at 2 stddev); orthogonal: Q of the QR of a Gaussian matrix (LAPACKE),
 * sign-corrected by diag(R); zeros. HOOD_ENOMEM/HOOD_EINVAL with a message on failure. */
hood_status hood__init_kernel(hood_initializer init, float *W, size_t out, size_t in,
                              hood_rng *rng);
/* A Conv2D kernel W (filters x rows, rows = kh·kw·in: Keras' (kh, kw, in, out) bytes) with
 * Keras' fans: fan_in = rows, fan_out = receptive (kh·kw) · filters. */
hood_status hood__init_conv_kernel(hood_initializer init, float *W, size_t filters, size_t rows,
                                   size_t receptive, hood_rng *rng);

#endif
