/* early_stop.c — Keras' EarlyStopping for one fit call (the monitor, patience, the best epoch's
 * weights kept aside and restored) and the fit record it reports into. Not the fit loop
 * (train.c), which calls these once per epoch and once at the end. */
#include "early_stop.h"

#include "error.h"
#include "matrix.h"

#include <math.h>
#include <string.h>

hood_status hood__early_stop_init(hood__early_stop *es, const hood_model *model,
                                  const hood_fit_options *opts)
{
    *es = (hood__early_stop){
        .enabled = opts->early_stopping,
        .maximize =
            opts->monitor == HOOD_MONITOR_VAL_ACCURACY || opts->monitor == HOOD_MONITOR_ACCURACY,
        .restore = opts->early_stopping && opts->restore_best_weights,
        .monitor = opts->monitor,
        .min_delta = opts->min_delta,
        .patience = opts->patience,
    };
    es->best = es->maximize ? -INFINITY : INFINITY;
    if (es->restore && (es->best_params = hood__matrix_alloc(model->num_params, 1)) == NULL)
        return hood__fail(HOOD_ENOMEM, "fit: out of memory for the best weights copy");
    return HOOD_OK;
}

void hood__early_stop_free(hood__early_stop *es)
{
    hood__matrix_free(es->best_params);
    es->best_params = NULL;
}

static double monitor_value(hood_monitor monitor, const hood_epoch_log *log)
{
    /* Without validation, val_* falls back to the training value (hood.h). */
    switch (monitor) {
    case HOOD_MONITOR_VAL_LOSS:
        return log->has_validation ? log->val_loss : log->loss;
    case HOOD_MONITOR_LOSS:
        return log->loss;
    case HOOD_MONITOR_VAL_ACCURACY:
        return log->has_validation ? log->val_accuracy : log->accuracy;
    case HOOD_MONITOR_ACCURACY:
        return log->accuracy;
    }
    return log->loss;
}

bool hood__early_stop_update(hood__early_stop *es, hood_model *model, const hood_epoch_log *log,
                             size_t epoch_in_fit)
{
    double current = monitor_value(es->monitor, log);
    if (epoch_in_fit == 0) {
        es->best_epoch = log->epoch + 1;
        if (es->restore)
            memcpy(es->best_params, model->params, model->num_params * sizeof(float));
    }
    es->wait++;
    bool improved =
        es->maximize ? current - es->min_delta > es->best : current + es->min_delta < es->best;
    if (improved) {
        es->best = current;
        es->best_epoch = log->epoch + 1;
        es->wait = 0;
        if (es->restore)
            memcpy(es->best_params, model->params, model->num_params * sizeof(float));
        return false;
    }
    if (es->wait >= es->patience && epoch_in_fit > 0) {
        es->stopped_epoch = log->epoch + 1;
        return true;
    }
    return false;
}

void hood__early_stop_finish(const hood__early_stop *es, hood_model *model, size_t epochs_trained)
{
    hood_fit_record *rec = &model->fit_record;
    if (!es->enabled || epochs_trained == 0)
        return;
    rec->stopped_epoch = es->stopped_epoch;
    rec->best_epoch = es->best_epoch;
    if (es->restore) {
        memcpy(model->params, es->best_params, model->num_params * sizeof(float));
        rec->restored_best = true;
    }
}

void hood__fit_record_start(hood_model *model, const hood_fit_options *opts)
{
    hood_fit_record *rec = &model->fit_record;
    double split = opts->validation_data != NULL && model->has_fit_record ? rec->validation_split
                   : opts->validation_data != NULL                        ? 0.0
                                                                          : opts->validation_split;
    *rec = (hood_fit_record){
        .epochs = model->position.epochs_done + opts->epochs,
        .batch_size = opts->batch_size,
        .shuffle = opts->shuffle,
        .seed = opts->seed,
        .threads = model->threads,
        .validation_split = split,
    };
    model->has_fit_record = true;
}
