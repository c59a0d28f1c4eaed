/* lr_schedule.h — `hood train`'s learning-rate schedules (--lr-schedule exponential|cosine) and
 * ReduceLROnPlateau (--reduce-lr-on-plateau), with Keras' formulas; applied by cmd_train.c's fit
 * callbacks through hood_model_set_learning_rate. Not the optimizer (the library's). */
#ifndef HOOD_CLI_LR_SCHEDULE_H
#define HOOD_CLI_LR_SCHEDULE_H

#include "hood.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum { LR_NONE = 0, LR_EXPONENTIAL, LR_COSINE } lr_schedule_kind;

typedef struct lr_schedule {
    lr_schedule_kind kind;
    double decay_steps; /* > 0 */
    double rate;        /* exponential: the decay rate (> 0) */
    double alpha;       /* cosine: the floor as a fraction of the initial rate, [0, 1] */
    double initial;     /* the initial learning rate (set by the run) */
    /* ReduceLROnPlateau (Keras 3: min_delta 1e-4, cooldown 0, min_lr 0) */
    bool plateau;
    double factor;   /* (0, 1) */
    size_t patience; /* epochs without improvement before the rate is multiplied by factor */
    bool maximize;   /* an accuracy monitor */
    double best;
    size_t wait;
    bool has_best;
} lr_schedule;

/* "exponential:DECAY_STEPS:RATE" or "cosine:DECAY_STEPS[:ALPHA]" into s; false after printing
 * "hood train: --lr-schedule: ..." (a usage error). */
bool lr_schedule_parse(const char *text, lr_schedule *s);
/* "FACTOR:PATIENCE" into s's plateau fields; false after printing the message. */
bool lr_plateau_parse(const char *text, lr_schedule *s);
/* The scheduled rate at optimizer step `step` (steps done so far), in double: Keras'
 * ExponentialDecay (staircase=False) initial * rate^(step / decay_steps), or CosineDecay
 * (without warmup) initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
 * decay_steps)) + alpha). */
double lr_schedule_rate(const lr_schedule *s, double step);
/* ReduceLROnPlateau at an epoch's end with the monitored value: the new rate (current *
 * factor after `patience` epochs without an improvement of more than 1e-4), else current. */
double lr_plateau_update(lr_schedule *s, double monitored, double current);

#endif
