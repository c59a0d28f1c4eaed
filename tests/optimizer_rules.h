/* optimizer_rules.h — the six optimizer rule shapes the optimizer tests run every case under
 * (test_optimizer, test_step_in_place), numbered 0-5. Test code only. */
#ifndef HOOD_TEST_OPTIMIZER_RULES_H
#define HOOD_TEST_OPTIMIZER_RULES_H

#include "hood.h"

/* 0 SGD, 1 SGD momentum 0.9, 2 Nesterov 0.9, 3 Adam, 4 RMSprop, 5 RMSprop momentum 0.9; Keras'
 * defaults otherwise. */
static inline void rule_config(int r, hood_optimizer_config *cfg)
{
    static const hood_optimizer_kind kind[6] = {HOOD_OPT_SGD,  HOOD_OPT_SGD,     HOOD_OPT_SGD,
                                                HOOD_OPT_ADAM, HOOD_OPT_RMSPROP, HOOD_OPT_RMSPROP};
    hood_optimizer_config_init(cfg, kind[r]);
    cfg->momentum = (r == 1 || r == 2 || r == 5) ? 0.9f : 0.0f;
    cfg->nesterov = r == 2;
}

#endif
