/* fuzz_npz.c — libFuzzer target for the .npz reader from memory: the zip directory (ZIP64
 * included), every member's local header, .npy bytes and CRC-32, and the dataset built from
 * x, y and class_names. */
#include "dataset_file.h"
#include "hood.h"
#include "npy.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hood__npz_reader *r = NULL;
    if (hood__npz_reader_open_buffer(&r, data, size, "fuzz.npz") != HOOD_OK)
        return 0;
    for (size_t i = 0; i < hood__npz_reader_count(r); i++) {
        hood__array a;
        if (hood__npz_reader_get(r, hood__npz_reader_name(r, i), &a) == HOOD_OK)
            hood__array_release(&a);
    }
    hood_dataset *ds = NULL;
    if (hood__dataset_from_npz(r, "fuzz.npz", &ds) == HOOD_OK)
        hood_dataset_free(ds);
    hood__npz_reader_close(r);
    return 0;
}
