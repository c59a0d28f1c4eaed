/* predict_output.c — `hood predict -o FILE` (predict_output.h): the whole output as data.
 *   .npy   float32 (n, units), as Keras' model.predict returns it
 *   .csv   input,class,<one column per unit: the class names, or y0..; "output" for 1 unit>
 *   .json  {"units": u, "class_names": [...] | null, "predictions":
 *           [{"input": "...", "class": "cat" | 1 | null, "output": [...]}, ...]}
 * Floats in CSV/JSON are printed with 9 significant digits (they read back to the same
 * float32). Every file is written through hood_output (atomic). */
#include "predict_output.h"

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool predict_output_format(const char *path, predict_format *out)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return false;
    if (strcasecmp(dot, ".npy") == 0)
        *out = PREDICT_NPY;
    else if (strcasecmp(dot, ".csv") == 0)
        *out = PREDICT_CSV;
    else if (strcasecmp(dot, ".json") == 0)
        *out = PREDICT_JSON;
    else
        return false;
    return true;
}

bool predict_output_add(predict_output *o, const char *input, const float *y)
{
    if (o->count == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        float *values = realloc(o->values, cap * o->units * sizeof *values);
        if (values == NULL)
            return false;
        o->values = values;
        char **inputs = realloc(o->inputs, cap * sizeof *inputs);
        if (inputs == NULL)
            return false;
        o->inputs = inputs;
        o->cap = cap;
    }
    if ((o->inputs[o->count] = strdup(input)) == NULL)
        return false;
    memcpy(o->values + o->count * o->units, y, o->units * sizeof *y);
    o->count++;
    return true;
}

void predict_output_free(predict_output *o)
{
    for (size_t i = 0; i < o->count; i++)
        free(o->inputs[i]);
    free(o->inputs);
    free(o->values);
    memset(o, 0, sizeof *o);
}

/* The printed class of output y, or -1 for a regression output. */
static long class_of(const predict_output *o, const float *y, bool binary, bool regression)
{
    if (regression)
        return -1;
    if (binary)
        return y[0] >= 0.5f ? 1 : 0;
    size_t best = 0;
    for (size_t i = 1; i < o->units; i++)
        if (y[i] > y[best])
            best = i;
    return (long)best;
}

static void put_csv_text(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_json_text(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* Class k's name, or NULL when the model has none for it. */
static const char *class_name(const hood_model *model, long k)
{
    return k >= 0 ? hood_model_class_name(model, (size_t)k) : NULL;
}

static void write_csv(FILE *f, const predict_output *o, const hood_model *model, bool binary,
                      bool regression)
{
    fputs("input,class", f);
    for (size_t i = 0; i < o->units; i++) {
        fputc(',', f);
        const char *name = o->units > 1 ? hood_model_class_name(model, i) : NULL;
        if (o->units == 1)
            fputs("output", f);
        else if (name != NULL)
            put_csv_text(f, name);
        else
            fprintf(f, "y%zu", i);
    }
    fputc('\n', f);
    for (size_t j = 0; j < o->count; j++) {
        const float *y = o->values + j * o->units;
        put_csv_text(f, o->inputs[j]);
        fputc(',', f);
        long k = class_of(o, y, binary, regression);
        const char *name = class_name(model, k);
        if (name != NULL)
            put_csv_text(f, name);
        else if (k >= 0)
            fprintf(f, "%ld", k);
        for (size_t i = 0; i < o->units; i++)
            fprintf(f, ",%.9g", (double)y[i]);
        fputc('\n', f);
    }
}

static void write_json(FILE *f, const predict_output *o, const hood_model *model, bool binary,
                       bool regression)
{
    size_t k = hood_model_num_classes(model);
    fprintf(f, "{\"units\": %zu, \"class_names\": ", o->units);
    if (k == 0 || hood_model_class_name(model, 0) == NULL) {
        fputs("null", f);
    } else {
        fputc('[', f);
        for (size_t i = 0; i < k; i++) {
            fputs(i ? ", " : "", f);
            put_json_text(f, hood_model_class_name(model, i));
        }
        fputc(']', f);
    }
    fputs(", \"predictions\": [", f);
    for (size_t j = 0; j < o->count; j++) {
        const float *y = o->values + j * o->units;
        fputs(j ? ",\n  {\"input\": " : "\n  {\"input\": ", f);
        put_json_text(f, o->inputs[j]);
        fputs(", \"class\": ", f);
        long c = class_of(o, y, binary, regression);
        const char *name = class_name(model, c);
        if (name != NULL)
            put_json_text(f, name);
        else if (c >= 0)
            fprintf(f, "%ld", c);
        else
            fputs("null", f);
        fputs(", \"output\": [", f);
        for (size_t i = 0; i < o->units; i++)
            fprintf(f, "%s%.9g", i ? ", " : "", (double)y[i]);
        fputs("]}", f);
    }
    fputs(o->count ? "\n]}\n" : "]}\n", f);
}

int predict_output_write(const char *cmd, const predict_output *o, const hood_model *model,
                         bool binary, bool regression)
{
    if (o->format == PREDICT_NPY) {
        if (o->count == 0)
            return cli_fail(cmd, "%s: no predictions to write", o->path);
        hood_dataset *ds = NULL; /* (n, units) float32: the bytes of units x n column-major */
        hood_status st = hood_dataset_wrap(&ds, o->values, o->units, o->count);
        if (st == HOOD_OK)
            st = hood_dataset_save_npy(ds, o->path);
        hood_dataset_free(ds);
        return st == HOOD_OK ? CLI_OK : cli_fail_status(cmd, st);
    }
    cli_atomic file;
    if (!cli_atomic_open(cmd, &file, o->path))
        return CLI_FAIL;
    if (o->format == PREDICT_CSV)
        write_csv(file.stream, o, model, binary, regression);
    else
        write_json(file.stream, o, model, binary, regression);
    if (!cli_atomic_finish(cmd, &file) || !cli_atomic_rename(cmd, &file))
        return CLI_FAIL;
    return CLI_OK;
}
