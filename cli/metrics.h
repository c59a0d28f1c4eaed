/* metrics.h — `--metrics`, `--class-weight` and `--confusion-matrix` for train and evaluate:
 * parsing the lists, computing Keras' metrics over a model's predictions on a dataset (through
 * hood_metrics_compute) and printing them. Not the arithmetic (engine/metrics.c). */
#ifndef HOOD_CLI_METRICS_H
#define HOOD_CLI_METRICS_H

#include "hood.h"

#include <stdbool.h>
#include <stdio.h>

/* Which of --metrics accuracy,precision,recall,auc were asked for. */
enum { CLI_METRIC_ACCURACY = 1, CLI_METRIC_PRECISION = 2, CLI_METRIC_RECALL = 4,
       CLI_METRIC_AUC = 8 };

/* Parses the comma list into *mask; false after a usage message naming the bad name. */
bool cli_metrics_parse(const char *cmd, const char *list, unsigned *mask);
/* Keras' metrics of model on columns [first, first + count) of ds (labels as the loss wants). */
hood_status cli_metrics_of(const hood_model *model, const hood_dataset *ds, size_t first,
                           size_t count, hood_metrics *out);
/* " - precision: 0.5000 - recall: 0.2500 - auc: 0.7500" (prefix "val_" for validation) for
 * the asked metrics other than accuracy (already on every line); "" for none. */
void cli_metrics_format(char *buf, size_t size, unsigned mask, const char *prefix,
                        const hood_metrics *m);
/* The asked metrics as JSON members (", \"precision\": ..."), full precision. */
void cli_metrics_json(FILE *out, unsigned mask, const hood_metrics *m);

/* --class-weight balanced | C:W,C:W...: *weights (malloc'd, *count entries, the classes not
 * named weigh 1) for ds's labels and a model of `classes` classes; false after a message
 * (a usage error for a bad list, a data error for balanced on a class without samples). */
bool cli_class_weight_parse(const char *cmd, const char *text, bool *balanced);
bool cli_class_weights(const char *cmd, const char *text, const hood_dataset *ds, size_t classes,
                       float **weights, size_t *count);

/* --confusion-matrix: the matrix (rows true, columns predicted, class names when the model has
 * them) and sklearn's classification_report, on stdout; or with json the members
 * "confusion_matrix" and "report" appended to an open JSON object. */
int cli_print_confusion(const char *cmd, const hood_model *model, const hood_dataset *ds,
                        bool json);

/* The evaluation line "loss: ... - accuracy: ... - precision: ..." (or the JSON object with
 * the metrics as members) and, with confusion, the matrix and report after it. */
int cli_print_evaluation_metrics(const char *cmd, const char *path, const hood_model *model,
                                 const hood_dataset *ds, double loss, double accuracy,
                                 unsigned mask, bool confusion, bool json);

/* hood train --metrics: each epoch's metrics on the training columns [0, n_train) of train and
 * on validation columns [val_first, val_first + n_val) of val, kept by epoch for --history. */
typedef struct cli_train_metrics {
    unsigned mask;
    const hood_dataset *train, *val; /* val NULL: no validation */
    size_t n_train, val_first, n_val;
    size_t epochs;                   /* capacity of the logs: epochs 0 .. epochs-1 */
    hood_metrics *train_log, *val_log;
    bool *logged;
    char line[128], val_line[128]; /* the last epoch's " - precision: ..." (val_...) */
} cli_train_metrics;

/* false (out of memory, message printed) or true; a zero mask allocates nothing. */
bool cli_train_metrics_init(const char *cmd, cli_train_metrics *tm, unsigned mask, size_t epochs);
void cli_train_metrics_free(cli_train_metrics *tm);
/* After an epoch (fit's on_epoch_end): computes, logs and formats tm->line; false after a
 * message. */
bool cli_train_metrics_epoch(const char *cmd, cli_train_metrics *tm, const hood_model *model,
                             size_t epoch);
/* --history: ",precision,...,val_precision,..." after the other columns, then each row's
 * values (empty for epochs not measured in this run). */
void cli_train_metrics_header(FILE *f, const cli_train_metrics *tm);
void cli_train_metrics_row(FILE *f, const cli_train_metrics *tm, size_t epoch);

#endif
