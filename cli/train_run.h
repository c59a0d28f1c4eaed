/* train_run.h — `hood train`'s fit callbacks (progress, checkpoints, Keras' learning-rate
 * schedules, ReduceLROnPlateau and ModelCheckpoint(save_best_only)) and the history CSV. Not the
 * run itself (cmd_train.c) nor the schedules' arithmetic (lr_schedule.c). */
#ifndef HOOD_CLI_TRAIN_RUN_H
#define HOOD_CLI_TRAIN_RUN_H

#include "common.h"
#include "lr_schedule.h"
#include "metrics.h"
#include "progress.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct train_run {
    cli_epoch_progress progress;
    const char *checkpoint;
    size_t checkpoint_every;
    bool checkpoint_failed;
    cli_train_metrics *metrics; /* --metrics, or NULL */
    bool metrics_failed;
    /* Keras callbacks: the schedule (NULL: none) and the rate set last, per epoch in rates
     * (NaN: not this run's); ModelCheckpoint(save_best_only) to best_out. */
    hood_model *model;
    lr_schedule *schedule;
    double rate, *rates;
    size_t num_rates;
    hood_monitor monitor;
    const char *best_out;
    double best, split;
    size_t best_epoch; /* 1-based; 0: nothing saved yet */
    int verbose;
} train_run;

/* hood_fit_options.on_batch_end / on_epoch_end with a train_run as user. */
int train_run_on_batch_end(void *user, size_t epoch, size_t batch, size_t num_batches,
                           double loss, double accuracy);
int train_run_on_epoch_end(void *user, hood_model *model, const hood_epoch_log *log);
/* Monitor names as --monitor spells them. */
const char *train_monitor_name(hood_monitor m);

/* Writes the history CSV (epoch,loss,accuracy,val_loss,val_accuracy,seconds, the --metrics
 * columns, learning_rate) to the finished-but-not-renamed file; rates: the learning rate per
 * epoch (NaN: unknown, an epoch of an earlier run), or NULL. */
bool train_write_history(cli_atomic *file, const hood_model *model, const char *path,
                         const cli_train_metrics *tm, const double *rates, size_t num_rates);

#endif
