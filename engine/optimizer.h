/* optimizer.h — the Keras update rules (SGD with momentum/Nesterov, Adam, RMSprop) as one flat
 * loop over the model's whole parameter arena. Knows nothing of layers; not public API. */
#ifndef HOOD_OPTIMIZER_H
#define HOOD_OPTIMIZER_H

#include "hood.h"

#include <stdint.h>

/* Per-parameter state arrays the config needs, each as long as the parameter arena:
 * SGD 0 (1 with momentum: m), Adam 2 (m, v), RMSprop 1 (v; 2 with momentum: v, mom). */
size_t hood__optimizer_slots(const hood_optimizer_config *cfg);
/* HOOD_EINVAL with a message naming the field when a setting is out of Keras' range. */
hood_status hood__optimizer_check(const hood_optimizer_config *cfg);
/* Whether applying the step to w (n floats) with gradient g would leave every weight finite,
 * given g and state; reads only (the divergence guard calls it before hood__optimizer_step so a
 * refused step leaves the weights as they were). *t is the step count before this step. */
bool hood__optimizer_step_is_finite(const hood_optimizer_config *cfg, uint64_t t, const float *w,
                                    const float *g, const float *state, size_t n);
/* One update of w (n floats) from g: *t += 1 (Adam's bias correction uses the new t), state is
 * slots * n floats, slot s at state + s * n, zero before the first step. */
void hood__optimizer_step(const hood_optimizer_config *cfg, uint64_t *t, float *w, const float *g,
                          float *state, size_t n);

#endif
