/* early_stop.h — Keras' EarlyStopping for one fit call and the fit record (early_stop.c); the
 * fit loop (train.c) is its one caller. Not public API. */
#ifndef HOOD_EARLY_STOP_H
#define HOOD_EARLY_STOP_H

#include "model.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct hood__early_stop {
    bool enabled, maximize, restore;
    hood_monitor monitor;
    double best, min_delta;
    size_t wait, patience;
    float *best_params; /* copy of the parameter arena at the best epoch (restore only) */
    size_t best_epoch, stopped_epoch; /* 1-based, for the fit record; 0: none yet */
} hood__early_stop;

/* The state for opts (disabled unless opts->early_stopping); with restore_best_weights, a copy
 * of the parameter arena. HOOD_ENOMEM when that copy does not fit. */
hood_status hood__early_stop_init(hood__early_stop *es, const hood_model *model,
                                  const hood_fit_options *opts);
void hood__early_stop_free(hood__early_stop *es);
/* Keras 3 semantics: an improvement is better than the best by more than min_delta; after
 * `patience` epochs in a row without one (and not on the fit's first epoch) training stops.
 * The best epoch's weights are kept aside (the first epoch's count as best until one improves)
 * and come back when the fit ends (hood__early_stop_finish). Returns true to stop. */
bool hood__early_stop_update(hood__early_stop *es, hood_model *model, const hood_epoch_log *log,
                             size_t epoch_in_fit);
/* Keras' on_train_end: with restore_best_weights the best epoch's weights come back whether or
 * not training stopped early. Only for a fit that ended (not one paused by the batch callback,
 * whose next fit must continue from the current weights). */
void hood__early_stop_finish(const hood__early_stop *es, hood_model *model, size_t epochs_trained);
/* The settings fit knows into the model's record (validation_split only when fit splits: with
 * validation data the caller's own split, if it set one, stays), and a fresh outcome. */
void hood__fit_record_start(hood_model *model, const hood_fit_options *opts);

#endif
