/* dataset.h — the parts of hood_dataset that io/ fills in but users do not set: source paths
 * and image shape. Not public API. */
#ifndef HOOD_DATASET_H
#define HOOD_DATASET_H

#include "hood.h"

/* Takes ownership of paths (samples strings, each malloc'd, and the malloc'd array). */
void hood__dataset_take_paths(hood_dataset *ds, char **paths);
void hood__dataset_set_image_shape(hood_dataset *ds, size_t height, size_t width, size_t channels);
/* Keeps the first `samples` columns (and their labels and paths) of an owning dataset, giving
 * the rest of X's memory back; 0 < samples <= current. HOOD_EINVAL for a wrapped dataset. */
hood_status hood__dataset_truncate(hood_dataset *ds, size_t samples);
/* Records that ds holds global samples [first, first + samples) of global_samples. */
void hood__dataset_set_shard(hood_dataset *ds, size_t first, size_t global_samples);
/* Label value of sample j, element i (no checks: i < label_width, j < samples). */
static inline float hood__dataset_label(const hood_dataset *ds, size_t i, size_t j)
{
    return hood_dataset_labels(ds)[j * hood_dataset_label_width(ds) + i];
}

#endif
