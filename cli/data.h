/* data.h — DATA operands of train, evaluate and predict: loading a matrix file, checking its
 * width against a model, repeating a model's preprocessing for a folder, and putting labels in
 * the form the model's loss needs. Not the dataset flags (data_args.h) and not the formats. */
#ifndef HOOD_CLI_DATA_H
#define HOOD_CLI_DATA_H

#include "hood.h"

#include <stdbool.h>

bool cli_is_directory(const char *path);
/* Loads a .npz, .npy or .csv file (CSV: last column is the label). */
hood_status cli_load_data_file(const char *path, hood_dataset **out);
/* Checks the dataset has width `features` (the model's input): a message naming path if not. */
int cli_check_width(const char *cmd, const char *path, const hood_dataset *ds, size_t features);
/* Ingest options that repeat a model's preprocessing and class names (for evaluate/predict). */
void cli_ingest_from_model(hood_ingest_options *opts, const hood_model *model,
                           const char **names_buf);
/* Puts a dataset's labels in the form the model's loss needs: categorical cross-entropy wants
 * one-hot rows, so class indices (a CSV's last column, a folder's int labels) are expanded to
 * the model's class count (its output units; more when a label is larger, which the loss
 * check then refuses naming both). */
hood_status cli_labels_for_loss(hood_dataset *ds, const hood_model *model, const char *path);

#endif
