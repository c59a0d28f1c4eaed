/* predict_output.h — `hood predict -o FILE`: every prediction kept whole (n x units outputs and
 * the input each came from) and written atomically as .npy, .csv or .json. Not the printed
 * lines (cmd_predict.c). */
#ifndef HOOD_CLI_PREDICT_OUTPUT_H
#define HOOD_CLI_PREDICT_OUTPUT_H

#include "hood.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum predict_format { PREDICT_NPY, PREDICT_CSV, PREDICT_JSON } predict_format;

typedef struct predict_output {
    const char *path;
    predict_format format;
    size_t units;
    size_t count, cap;
    float *values; /* units x count, column j = prediction j */
    char **inputs; /* count strings: a path or "FILE[row]" */
} predict_output;

/* The format of path by its extension; false when it is none of .npy, .csv, .json. */
bool predict_output_format(const char *path, predict_format *out);
/* Appends one prediction (units values) for input; false when out of memory. */
bool predict_output_add(predict_output *o, const char *input, const float *y);
/* Writes the predictions to o->path atomically: CLI_OK, or CLI_FAIL with the message printed.
 * The class column (CSV, JSON) is the printed class: 1 sigmoid unit -> p >= 0.5; several
 * units -> the largest (lower index on ties); a one-unit linear output has none. */
int predict_output_write(const char *cmd, const predict_output *o, const hood_model *model,
                         bool binary, bool regression);
void predict_output_free(predict_output *o);

#endif
