/* model_file.h — the .hood model file's in-memory parser, for the fuzz target and tests; files
 * go through hood_model_save / hood_model_load (include/hood.h). Format: docs/model-format.md.
 * Not public API. */
#ifndef HOOD_MODEL_FILE_H
#define HOOD_MODEL_FILE_H

#include "hood.h"

#include <stddef.h>

/* Parses a whole .hood file held in memory; `name` is used in messages (the file's path). On
 * failure *out is NULL and the status says why (HOOD_EFORMAT for bad bytes). */
hood_status hood__model_parse(const void *bytes, size_t len, hood_model **out, const char *name);

#endif
