/* dataset_file.h — the dataset file room's internal entry points: a dataset from an opened .npz
 * (files or memory, for the fuzz targets). Not public API. */
#ifndef HOOD_DATASET_FILE_H
#define HOOD_DATASET_FILE_H

#include "hood.h"
#include "npy.h"

/* x, and y / class_names when present, of an opened archive into a new dataset. */
hood_status hood__dataset_from_npz(hood__npz_reader *r, const char *name, hood_dataset **out);
/* A dataset without labels from one array (x alone, as in a .npy). */
hood_status hood__dataset_from_x_array(const hood__array *x, const char *name,
                                       hood_dataset **out);

#endif
