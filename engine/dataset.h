/* dataset.h — the parts of hood_dataset that io/ fills in but users do not set: source paths
 * and image shape. Not public API. */
#ifndef HOOD_DATASET_H
#define HOOD_DATASET_H

#include "hood.h"

#include <stdint.h>

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

/* --- 8-bit pixel storage (hood.h hood_pixel_storage) ------------------------------------- */

/* The one widening rule: every float hood makes from an 8-bit code, in the gather, evaluate,
 * hood_dataset_x and ingest's own check. (float)k / 255.0f is the value ingest writes with float
 * storage (io/resample.c's table), so both storages give the same bits. */
static inline float hood__pixel_widen(uint8_t code, float divisor)
{
    return (float)code / divisor;
}

/* A dataset owning zeroed 8-bit codes (features x samples); divisor 255 or 1. */
hood_status hood__dataset_create_u8(hood_dataset **out, size_t features, size_t samples,
                                    float divisor);
/* The writable codes of an 8-bit dataset (NULL for a float one): io/ingest.c fills them. */
uint8_t *hood__dataset_u8_mutable(hood_dataset *ds);

/* Where X's columns are, for the engine's readers (train.c): float columns (f) or 8-bit codes
 * (u8, widened by hood__pixel_widen with divisor); exactly one of f and u8 is set. */
typedef struct hood__xsource {
    const float *f;
    const uint8_t *u8;
    float divisor;
    size_t rows; /* features: the column length */
} hood__xsource;

hood__xsource hood__dataset_xsource(const hood_dataset *ds);
/* The same source from column `first` on. */
hood__xsource hood__xsource_from(hood__xsource x, size_t first);
/* dst (rows x count) = columns index[0 .. count) of x, widened; split over the pool's threads
 * by the bands of hood__matrix_gather_cols_pool (the same bytes at any thread count). */
struct hood__pool;
void hood__xsource_gather_pool(struct hood__pool *pool, float *dst, const hood__xsource *x,
                               const size_t *index, size_t count);
/* Columns [first, first + count) as floats: x's own memory when it is float, else widened into
 * buf (rows x count floats). */
const float *hood__xsource_columns(const hood__xsource *x, size_t first, size_t count, float *buf);

#endif
