/* model_header.h — the text header of the .hood file (model_header.c): written from a model,
 * read back into a new model and its compile settings. The binary prefix, the arrays and the
 * CRC around it are model_file.c's. Not public API. */
#ifndef HOOD_MODEL_HEADER_H
#define HOOD_MODEL_HEADER_H

#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Version 2 (hood 0.2) stores the layer list of every kind and the moving statistics; version 1
 * files (Dense layers only) still load. */
enum { HOOD__MODEL_FORMAT_VERSION = 2, HOOD__MODEL_FORMAT_VERSION_DENSE = 1 };

/* A growing text buffer; failed is set (and the text incomplete) when memory ran out. */
typedef struct hood__header_text {
    char *data;
    size_t len, cap;
    bool failed;
} hood__header_text;

/* Appends m's header (the current format version) to t; the caller frees t->data. */
void hood__model_header_write(hood__header_text *t, const hood_model *m);

/* What the header says beyond the model itself: the counts the binary part must match. */
typedef struct hood__header_counts {
    size_t params, optimizer_values, state;
} hood__header_counts;

/* The architecture and everything else in the header, into a new (uncompiled) model plus the
 * compile settings; the caller compiles and fills the arenas. */
typedef struct hood__parsed_header {
    hood_model *model;
    bool compiled;
    hood_loss loss;
    hood_optimizer_config opt;
    uint64_t seed, step;
    size_t slots;
    hood__train_position position;
    hood__header_counts counts;
    bool has_fit;
    hood_fit_record fit;
} hood__parsed_header;

/* Parses the len bytes of text (a file's header of format `version`) into *out, which owns the
 * new model (out->model, also on failure: the caller frees it). HOOD_EFORMAT names `name` and
 * the header line. */
hood_status hood__model_header_parse(const char *text, size_t len, uint32_t version,
                                     const char *name, hood__parsed_header *out);

#endif
