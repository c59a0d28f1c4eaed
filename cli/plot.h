/* plot.h — learning curves as an SVG written by hood (no Python): loss and accuracy per epoch
 * with their val_* curves, axes, ticks and a legend; for `hood train --plot` and `hood plot`.
 * Not a general plotting library: two fixed panels, written atomically (cli_atomic_*). */
#ifndef HOOD_CLI_PLOT_H
#define HOOD_CLI_PLOT_H

#include "hood.h"

#include <stdbool.h>
#include <stddef.h>

/* One history: n epochs (1-based on the x axis); a missing value is NaN. */
typedef struct cli_plot_history {
    size_t n;
    double *epoch; /* 0-based, as Keras' CSVLogger */
    double *loss, *accuracy, *val_loss, *val_accuracy;
} cli_plot_history;

/* Allocates the five columns for n epochs, all NaN; false when out of memory. */
bool cli_plot_history_alloc(cli_plot_history *h, size_t n);
void cli_plot_history_free(cli_plot_history *h);
/* Writes the SVG atomically to path; false after printing "hood CMD: ..." */
bool cli_plot_write(const char *cmd, const char *path, const cli_plot_history *h);
/* The model's history drawn to path (hood train --plot). */
bool cli_plot_model(const char *cmd, const char *path, const hood_model *model);

#endif
