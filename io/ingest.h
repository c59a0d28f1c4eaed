/* ingest.h — the parts of the folder ingest that other rooms reach without a folder: the
 * labels-file parser on bytes (for its fuzz target; defined in scan.c). Not public API. */
#ifndef HOOD_INGEST_H
#define HOOD_INGEST_H

#include "hood.h"

#include <stddef.h>
#include <stdint.h>

/* Parses a labels file ("relative/path,label" lines) held in memory, checking its syntax only
 * (no file is looked up); gives the number of files and classes. name is for messages. */
hood_status hood__labels_parse_bytes(const uint8_t *bytes, size_t size, const char *name,
                                     size_t *num_files, size_t *num_classes);

#endif
