/* optimizer.h — the Keras update rules (SGD with momentum/Nesterov, Adam, RMSprop) as one flat
 * loop over the model's whole parameter arena. Knows nothing of layers; not public API. */
#ifndef HOOD_OPTIMIZER_H
#define HOOD_OPTIMIZER_H

#include "hood.h"
#include "parallel.h"

#include <stdbool.h>
#include <stdint.h>

/* Per-parameter state arrays the config needs, each as long as the parameter arena:
 * SGD 0 (1 with momentum: m), Adam 2 (m, v), RMSprop 1 (v; 2 with momentum: v, mom). */
size_t hood__optimizer_slots(const hood_optimizer_config *cfg);
/* HOOD_EINVAL with a message naming the field when a setting is out of Keras' range. */
hood_status hood__optimizer_check(const hood_optimizer_config *cfg);
/* One update: w_out (n floats) and state_out (slots * n floats, slot s at + s * n) = the step
 * from w, gradient g and state (zero before the first step); t is the number of steps taken
 * before this one (Adam's bias correction uses t + 1). Outputs must not overlap inputs: the
 * model keeps two arenas and swaps them, so a refused step leaves the old arena untouched.
 * Returns false when any new weight or state value is not finite (the divergence guard). */
bool hood__optimizer_step(const hood_optimizer_config *cfg, uint64_t t, const float *w,
                          const float *g, const float *state, float *w_out, float *state_out,
                          size_t n);
/* The same step with the arena cut in equal bands over the pool's threads (NULL, or an arena
 * too short to pay for a pool run: the caller alone). Elementwise, so the bits are the same as
 * hood__optimizer_step's at any thread count. */
bool hood__optimizer_step_pool(hood__pool *pool, const hood_optimizer_config *cfg, uint64_t t,
                               const float *w, const float *g, const float *state, float *w_out,
                               float *state_out, size_t n);
/* The step (pooled, or not) over one slice of an arena of `stride` elements: w, g and w_out
 * point at the slice's first element, state and state_out at its element in slot 0 (slot s at
 * + s * stride); count elements. The same bits as the whole arena's step for those elements
 * (elementwise). */
bool hood__optimizer_step_slice_pool(hood__pool *pool, const hood_optimizer_config *cfg, uint64_t t,
                                     const float *w, const float *g, const float *state,
                                     float *w_out, float *state_out, size_t stride, size_t count);
bool hood__optimizer_step_slice(const hood_optimizer_config *cfg, uint64_t t, const float *w,
                                const float *g, const float *state, float *w_out, float *state_out,
                                size_t stride, size_t count);

#endif
