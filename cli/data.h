/* data.h — DATA operands of train, evaluate and predict: loading a matrix file, checking its
 * width against a model, repeating a model's preprocessing for a folder, and putting labels in
 * the form the model's loss needs. Not the dataset flags (data_args.h) and not the formats. */
#ifndef HOOD_CLI_DATA_H
#define HOOD_CLI_DATA_H

#include "hood.h"

#include <stdbool.h>

#include <getopt.h>

bool cli_is_directory(const char *path);

/* --header and --label-columns K: how every command that reads CSV DATA finds its labels. */
typedef struct cli_csv_flags {
    bool header;            /* --header: the first row is a header, whatever it says */
    bool has_label_columns; /* --label-columns given */
    size_t label_columns;   /* K: 0 none, 1 a class index, k > 1 one-hot columns */
} cli_csv_flags;
/* Long options of cli_csv_flags; their `val`s are CLI_CSV_OPT_BASE and up (above the dataset
 * flags' range, below none). */
enum { CLI_CSV_OPT_BASE = 1100 };
extern const struct option cli_csv_options[]; /* terminated by a zero entry */
extern const char cli_csv_help[];
/* getopt value c when it is a CSV flag: 1 handled, 0 not a CSV flag, -1 bad value (printed). */
int cli_csv_flag(const char *cmd, cli_csv_flags *flags, int c, const char *arg);
/* CSV reading options from the flags; features: the width the caller expects (a model's input,
 * 0 unknown), which decides the labels of a headerless CSV when no --label-columns does. */
void cli_csv_options_from(hood_csv_options *opts, const cli_csv_flags *flags, size_t features);
/* Loads a .npz, .npy or .csv file (CSV as cli_csv_options_from says; flags may be NULL). */
hood_status cli_load_data_file(const char *path, const cli_csv_flags *flags, size_t features,
                               hood_dataset **out);
/* Checks the dataset has width `features` (the model's input): a message naming path if not. */
int cli_check_width(const char *cmd, const char *path, const hood_dataset *ds, size_t features);
/* Checks the dataset's label columns fit the model: one (a class index or a 0/1 value) or one
 * per output unit; a message naming path if not (so a CSV's width that the model cannot
 * resolve fails before any work). */
int cli_check_labels(const char *cmd, const char *path, const hood_dataset *ds,
                     const hood_model *model);
/* Ingest options that repeat a model's preprocessing and class names (for evaluate/predict). */
void cli_ingest_from_model(hood_ingest_options *opts, const hood_model *model,
                           const char **names_buf);
/* Puts a dataset's labels in the form the model's loss needs: categorical cross-entropy wants
 * one-hot rows, so class indices (a CSV's last column, a folder's int labels) are expanded to
 * the model's class count (its output units; more when a label is larger, which the loss
 * check then refuses naming both). */
hood_status cli_labels_for_loss(hood_dataset *ds, const hood_model *model, const char *path);

#endif
