/* train_run.c — `hood train`'s fit callbacks: the progress lines, periodic checkpoints, the
 * learning-rate schedule applied after each batch, ReduceLROnPlateau and --save-best after each
 * epoch; and the history CSV. Not the run (cmd_train.c) nor the schedule formulas. */
#include "train_run.h"

#include "outputs.h"
#include "signals.h"

#include <float.h>
#include <math.h>

static const char *const CMD = "train";

/* The value --monitor watches in an epoch's log (val_* falls back to the training value when
 * there is no validation, as the library's early stopping). */
static double monitored(hood_monitor m, const hood_epoch_log *log)
{
    bool val = log->has_validation;
    if (m == HOOD_MONITOR_VAL_LOSS || m == HOOD_MONITOR_LOSS)
        return val && m == HOOD_MONITOR_VAL_LOSS ? log->val_loss : log->loss;
    return val && m == HOOD_MONITOR_VAL_ACCURACY ? log->val_accuracy : log->accuracy;
}

const char *train_monitor_name(hood_monitor m)
{
    static const char *const names[] = {"val_loss", "loss", "val_accuracy", "accuracy"};
    return (unsigned)m < 4 ? names[m] : "?";
}

static bool set_rate(train_run *run, double rate)
{
    run->rate = rate;
    /* the library takes > 0: CosineDecay's alpha 0 ends at 0, which the smallest float is */
    float r = rate > (double)FLT_MIN ? (float)rate : FLT_MIN;
    hood_status st = hood_model_set_learning_rate(run->model, r);
    if (st != HOOD_OK)
        cli_fail_status(CMD, st);
    return st == HOOD_OK;
}

/* Keras' callbacks at an epoch's end: the rate into the log (before ReduceLROnPlateau changes
 * it, as Keras logs it), the plateau, and the best model saved atomically to -o. */
static int keras_callbacks(train_run *run, hood_model *model, const hood_epoch_log *log)
{
    if (log->epoch < run->num_rates)
        run->rates[log->epoch] = run->rate;
    double v = monitored(run->monitor, log);
    if (run->schedule != NULL && run->schedule->plateau) {
        double next = lr_plateau_update(run->schedule, v, run->rate);
        if (next != run->rate) {
            if (run->verbose > 0)
                printf("Epoch %zu: ReduceLROnPlateau reducing learning rate to %g.\n",
                       log->epoch + 1, next);
            if (!set_rate(run, next))
                return 1;
        }
    }
    if (run->best_out == NULL)
        return 0;
    bool maximize =
        run->monitor == HOOD_MONITOR_ACCURACY || run->monitor == HOOD_MONITOR_VAL_ACCURACY;
    if (run->best_epoch > 0 && !(maximize ? v > run->best : v < run->best))
        return 0;
    hood_fit_record rec; /* the weights are this epoch's, the best so far: hood info says so */
    hood_model_fit_record(model, &rec);
    rec.best_epoch = log->epoch + 1;
    rec.restored_best = false;
    if (run->split > 0)
        rec.validation_split = run->split;
    hood_status st = hood_model_set_fit_record(model, &rec);
    if (st == HOOD_OK && !cli_stdout_ready()) {
        run->checkpoint_failed = true;
        return 1;
    }
    if (st == HOOD_OK)
        st = hood_model_save(model, run->best_out);
    if (st != HOOD_OK) {
        cli_fail_status(CMD, st);
        run->checkpoint_failed = true;
        return 1;
    }
    run->best = v;
    run->best_epoch = log->epoch + 1;
    return 0;
}

int train_run_on_batch_end(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                           double accuracy)
{
    train_run *run = user;
    cli_epoch_progress_batch(&run->progress, epoch, batch, num_batches, loss, accuracy);
    /* the rate of the next batch: the schedule at the optimizer steps done */
    if (run->schedule != NULL && run->schedule->kind != LR_NONE &&
        !set_rate(run, lr_schedule_rate(run->schedule,
                                        (double)epoch * (double)num_batches + (double)batch + 1)))
        return 1;
    /* Stop after this batch: fit returns HOOD_ESTOPPED with the weights after it. */
    return cli_signal_received() != 0;
}

int train_run_on_epoch_end(void *user, hood_model *model, const hood_epoch_log *log)
{
    train_run *run = user;
    if (run->metrics != NULL) {
        if (!cli_train_metrics_epoch(CMD, run->metrics, model, log->epoch)) {
            run->metrics_failed = true;
            return 1;
        }
        run->progress.extra = run->metrics->line;
        run->progress.val_extra = run->metrics->val_line;
    }
    run->progress.learning_rate = run->rate;
    cli_epoch_progress_epoch(&run->progress, log);
    if (keras_callbacks(run, model, log) != 0)
        return 1;
    if (run->checkpoint != NULL && (log->epoch + 1) % run->checkpoint_every == 0) {
        if (!cli_stdout_ready()) { /* a failing run replaces nothing; main() says why */
            run->checkpoint_failed = true;
            return 1;
        }
        hood_status st = hood_model_save(model, run->checkpoint);
        if (st != HOOD_OK) {
            cli_fail_status(CMD, st);
            run->checkpoint_failed = true;
            return 1;
        }
    }
    return 0;
}

static void put_value(FILE *f, bool has, double v)
{
    fputc(',', f);
    if (has)
        fprintf(f, "%.9g", v);
}

/* rates: the learning rate per epoch (NaN: unknown, an epoch of an earlier run), or NULL. */
bool train_write_history(cli_atomic *file, const hood_model *model, const char *path,
                         const cli_train_metrics *tm, const double *rates, size_t num_rates)
{
    if (!cli_atomic_open(CMD, file, path))
        return false;
    FILE *f = file->stream;
    fprintf(f, "epoch,loss,accuracy,val_loss,val_accuracy,seconds");
    cli_train_metrics_header(f, tm);
    fprintf(f, ",learning_rate\n");
    for (size_t i = 0; i < hood_model_history_length(model); i++) {
        const hood_epoch_log *e = hood_model_history(model, i);
        fprintf(f, "%zu", e->epoch);
        put_value(f, true, e->loss);
        put_value(f, true, e->accuracy);
        put_value(f, e->has_validation, e->val_loss);
        put_value(f, e->has_validation, e->val_accuracy);
        put_value(f, true, e->seconds);
        cli_train_metrics_row(f, tm, i);
        double rate = rates != NULL && e->epoch < num_rates ? rates[e->epoch] : NAN;
        put_value(f, !isnan(rate), rate);
        fputc('\n', f);
    }
    return cli_atomic_finish(CMD, file);
}
