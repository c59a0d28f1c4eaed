/* scan.h — the folder scan of an ingest: which files, with which labels and class names, in
 * Keras' order, shuffled and split by the seed, cut to this worker's shard. Not the decoding
 * (ingest.c runs the decoders over the plan this gives). Not public API. */
#ifndef HOOD_SCAN_H
#define HOOD_SCAN_H

#include "error.h"
#include "hood.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The files one ingest decodes, in column order: part 0 (training, validation or all) then
 * part 1 (validation, with subset both). Everything in it is owned by the plan. */
typedef struct hood__ingest_plan {
    char **paths;    /* total full paths (dir/relative) */
    int32_t *labels; /* total class indices (0 with label_mode none) */
    size_t total;    /* count[0] + count[1] */
    size_t count[2]; /* this worker's columns of each part */
    /* With shards: each part's whole (all workers) file count, and this worker's first file in
     * it; without, part_first is 0 and part_total is count. */
    size_t part_first[2], part_total[2];
    bool sharded;
    char **classes; /* class folder names (NULL with a labels file or label_mode none) */
    size_t num_classes;
} hood__ingest_plan;

/* Scans dir as opts say (class folders, a labels file, or every image with label_mode none),
 * checks the classes, shuffles and splits with Keras' rule, takes this worker's shard, and says
 * what it found through opts->on_message. opts must have passed the ingest's option checks.
 * On failure *plan still needs hood__ingest_plan_release. */
hood_status hood__ingest_plan_make(const char *dir, const hood_ingest_options *opts,
                                   hood__ingest_plan *plan);
/* Frees what the plan still owns (paths moved out are NULL); safe on a zeroed plan. */
void hood__ingest_plan_release(hood__ingest_plan *plan);

/* Frees n strings and the array; s may be NULL. */
void hood__strings_free(char **s, size_t n);

/* Formats one line for opts->on_message (nothing when it is NULL): the library never prints. */
void hood__ingest_message(const hood_ingest_options *opts, const char *fmt, ...) HOOD_PRINTF(2, 3);

#endif
