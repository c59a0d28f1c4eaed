/* progress.h — what `hood` prints while it works and when it is done: the ingest's messages and
 * "Decoding images: N/M" line (dataset, train, evaluate), train's Keras-style progress bar and
 * epoch lines, and the "loss: ... - accuracy: ..." result of evaluate and train --evaluate.
 * Not error messages (common.h) and not the data or the training themselves. */
#ifndef HOOD_CLI_PROGRESS_H
#define HOOD_CLI_PROGRESS_H

#include "hood.h"

#include <stdbool.h>
#include <stddef.h>

/* ---- ingest ------------------------------------------------------------------------------- */

/* The "Decoding images" line's state: zero it before the ingest, then set draw. */
typedef struct cli_ingest_progress {
    double last_draw; /* when the line was last drawn */
    bool draw;        /* draw the line (stderr is a terminal and not --quiet) */
} cli_ingest_progress;

/* hood_ingest_options.on_message: "Found N files belonging to K classes." and skip messages,
 * one line each on stderr. */
void cli_print_message(void *user, const char *message);
/* hood_ingest_options.on_progress (user is a cli_ingest_progress): with draw, "Decoding
 * images: 1200/60000" on stderr, redrawn in place at most every 0.1 s. Always installed: it
 * puts the signals in deferred mode and stops the ingest (non-zero) once SIGINT/SIGTERM came;
 * the command then calls cli_signals_defer(false) and exits 128 + signal. */
int cli_print_progress(void *user, size_t done, size_t total);

/* ---- training ----------------------------------------------------------------------------- */

/* Keras' fit(verbose=...) output on stdout: 1 on a terminal, "Epoch 2/10" and a bar redrawn
 * in place, finished with the epoch's figures; 1 elsewhere and 2, one line per epoch; 0
 * nothing. */
typedef struct cli_epoch_progress {
    int verbose;
    bool tty; /* stdout is a terminal */
    size_t total_epochs;
    double epoch_start, last_draw;
    size_t last_epoch_seen; /* (size_t)-1 between epochs */
    size_t batches;         /* of the current epoch */
    const char *extra;      /* --metrics: after the next epoch line's training figures, */
    const char *val_extra;  /* and after its validation figures; or NULL */
    bool show_learning_rate; /* a schedule is on: " - learning_rate: 1.0000e-03" */
    double learning_rate;
} cli_epoch_progress;

void cli_epoch_progress_init(cli_epoch_progress *p, int verbose, size_t total_epochs);
/* After each batch (fit's on_batch_end): the epoch header and the bar. */
void cli_epoch_progress_batch(cli_epoch_progress *p, size_t epoch, size_t batch, size_t num_batches,
                              double loss, double accuracy);
/* After each epoch (fit's on_epoch_end): the epoch's line, with validation when it has one. */
void cli_epoch_progress_epoch(cli_epoch_progress *p, const hood_epoch_log *log);
/* After fit: ends a bar that a stop cut short. */
void cli_epoch_progress_finish(const cli_epoch_progress *p);

/* ---- evaluation --------------------------------------------------------------------------- */

/* "loss: 0.3120 - accuracy: 0.8750", or with json the full-precision
 * {"loss": ..., "accuracy": ..., "samples": N}, on stdout. */
void cli_print_evaluation(double loss, double accuracy, size_t samples, bool json);

#endif
