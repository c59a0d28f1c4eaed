/* progress.c — the ingest's "Decoding images" line, train's Keras-style progress bar and epoch
 * lines, and the evaluation result line: every byte `hood` prints about work in progress or
 * its figures. Not the work itself (the callers pass what to show) and not error messages. */
#include "progress.h"

#include "signals.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- ingest ------------------------------------------------------------------------------- */

void cli_print_message(void *user, const char *message)
{
    (void)user;
    fprintf(stderr, "%s\n", message);
}

int cli_print_progress(void *user, size_t done, size_t total)
{
    cli_ingest_progress *progress = user;
    /* Decoding has a stop hook (this callback): from here a signal is only recorded. */
    cli_signals_defer(true);
    if (progress->draw) {
        double now = now_seconds();
        /* A redraw every 0.1 s is smooth enough and costs nothing next to decoding; the
         * ingest's last call is (total, total), once. */
        if (done >= total || now - progress->last_draw >= 0.1) {
            progress->last_draw = now;
            fprintf(stderr, "\rDecoding images: %zu/%zu\x1b[K%s", done, total,
                    done >= total ? "\n" : "");
            fflush(stderr);
        }
    }
    return cli_signal_received() != 0;
}

/* ---- training ----------------------------------------------------------------------------- */

enum { BAR_WIDTH = 20 };

static void format_duration(char *buf, size_t size, double seconds, size_t steps)
{
    double per_step = steps > 0 ? seconds / (double)steps : 0.0;
    if (per_step >= 1.0)
        snprintf(buf, size, "%.0fs %.0fs/step", seconds, per_step);
    else if (per_step >= 1e-3)
        snprintf(buf, size, "%.0fs %.0fms/step", seconds, per_step * 1e3);
    else
        snprintf(buf, size, "%.0fs %.0fus/step", seconds, per_step * 1e6);
}

/* "\r12/40 ━━━━━━       0s 2ms/step - accuracy: 0.5000 - loss: 0.6931", the line not ended. */
static void put_bar(size_t done, size_t total, const char *timing, double loss, double accuracy)
{
    size_t fill = total > 0 ? done * BAR_WIDTH / total : BAR_WIDTH;
    printf("\r%zu/%zu ", done, total);
    for (size_t i = 0; i < BAR_WIDTH; i++)
        fputs(i < fill ? "\xe2\x94\x81" : " ", stdout); /* U+2501, Keras' bar glyph */
    printf(" %s - accuracy: %.4f - loss: %.4f", timing, accuracy, loss);
}

void cli_epoch_progress_init(cli_epoch_progress *p, int verbose, size_t total_epochs)
{
    *p = (cli_epoch_progress){0};
    p->verbose = verbose;
    p->tty = isatty(STDOUT_FILENO) != 0;
    p->total_epochs = total_epochs;
    p->last_epoch_seen = (size_t)-1;
}

void cli_epoch_progress_batch(cli_epoch_progress *p, size_t epoch, size_t batch, size_t num_batches,
                              double loss, double accuracy)
{
    double t = now_seconds();
    if (epoch != p->last_epoch_seen) {
        /* First batch of an epoch (or of a resumed epoch). */
        p->last_epoch_seen = epoch;
        p->epoch_start = t;
        p->last_draw = 0;
        if (p->verbose == 1 && p->tty)
            printf("Epoch %zu/%zu\n", epoch + 1, p->total_epochs);
    }
    p->batches = num_batches;
    if (p->verbose == 1 && p->tty && (t - p->last_draw > 0.05 || batch + 1 == num_batches)) {
        char timing[64];
        format_duration(timing, sizeof timing, t - p->epoch_start, batch + 1);
        put_bar(batch + 1, num_batches, timing, loss, accuracy);
        fputs("\x1b[K", stdout);
        fflush(stdout);
        p->last_draw = t;
    }
}

void cli_epoch_progress_epoch(cli_epoch_progress *p, const hood_epoch_log *log)
{
    char timing[64];
    format_duration(timing, sizeof timing, log->seconds, p->batches);
    if (p->verbose == 1 && p->tty) {
        put_bar(p->batches, p->batches, timing, log->loss, log->accuracy);
    } else if (p->verbose >= 1) {
        printf("Epoch %zu/%zu - %zu/%zu - %s - accuracy: %.4f - loss: %.4f", log->epoch + 1,
               p->total_epochs, p->batches, p->batches, timing, log->accuracy, log->loss);
    }
    if (p->verbose >= 1) {
        if (p->extra != NULL)
            fputs(p->extra, stdout);
        if (log->has_validation)
            printf(" - val_accuracy: %.4f - val_loss: %.4f", log->val_accuracy, log->val_loss);
        if (p->val_extra != NULL)
            fputs(p->val_extra, stdout);
        if (p->show_learning_rate)
            printf(" - learning_rate: %.4e", p->learning_rate);
        printf(p->tty && p->verbose == 1 ? "\x1b[K\n" : "\n");
        fflush(stdout);
    }
    p->last_epoch_seen = (size_t)-1;
}

void cli_epoch_progress_finish(const cli_epoch_progress *p)
{
    if (p->verbose == 1 && p->tty && p->last_epoch_seen != (size_t)-1)
        putchar('\n'); /* end a bar cut short */
}

/* ---- evaluation --------------------------------------------------------------------------- */

void cli_print_evaluation(double loss, double accuracy, size_t samples, bool json)
{
    if (json)
        printf("{\"loss\": %.17g, \"accuracy\": %.17g, \"samples\": %zu}\n", loss, accuracy,
               samples);
    else
        printf("loss: %.4f - accuracy: %.4f\n", loss, accuracy);
}
