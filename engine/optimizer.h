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
 * model keeps two arenas and swaps them, so a refused step leaves the old arena untouched
 * (hood__optimizer_step_max also steps in place, when hood__optimizer_safe has proved it may).
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

/* Upper bounds on an arena's magnitudes: max |w| and max |state slot s| (0 for absent slots). */
typedef struct hood__arena_max {
    float w, s[2];
} hood__arena_max;

/* The step of hood__optimizer_step_slice_pool, written either out of place (outputs disjoint
 * from the inputs) or in place (w_out == w and state_out == state: only after
 * hood__optimizer_safe, since a non-finite value could not be refused then). Both give the
 * same bits (the same element formulas). `max` (NULL: not wanted) is raised to the largest
 * |value| the out-of-place step writes to w_out and to each state slot (NaN above every
 * number), so slices add up; the in-place step leaves it alone (no checks, no maxima: its
 * speed is the point; bounds after it come from hood__optimizer_safe). */
bool hood__optimizer_step_max(hood__pool *pool, const hood_optimizer_config *cfg, uint64_t t,
                              const float *w, const float *g, const float *state, float *w_out,
                              float *state_out, size_t stride, size_t count, hood__arena_max *max);
/* Whether a step (t steps taken before it) from an arena within `now` with gradients
 * |g| <= g_max provably makes only finite values: every value and intermediate of the rule's
 * formula bounded, in double, below 1e30 (FLT_MAX is 3.4e38). False for NaN bounds. When true,
 * *next (NULL: not wanted) gets bounds on the arena after the step (the in-place step measures
 * none: the caller carries these from step to step). */
bool hood__optimizer_safe(const hood_optimizer_config *cfg, uint64_t t, const hood__arena_max *now,
                          double g_max, hood__arena_max *next);
/* max |x[i]| over n floats (NaN when one is NaN, infinity when one is infinite). */
float hood__optimizer_abs_max(const float *x, size_t n);

#endif
