/* fuzz_npy.c — libFuzzer target for the .npy parser (hood__npy_parse_buffer) and the
 * conversions a dataset load applies to what it returns (to float32, x as a dataset). */
#include "dataset_file.h"
#include "hood.h"
#include "npy.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hood__array a;
    if (hood__npy_parse_buffer(data, size, "fuzz.npy", &a) != HOOD_OK)
        return 0;
    float *values = NULL;
    if (hood__array_to_f32(&a, "fuzz.npy", &values) == HOOD_OK)
        free(values);
    hood_dataset *ds = NULL;
    if (hood__dataset_from_x_array(&a, "fuzz.npy", &ds) == HOOD_OK)
        hood_dataset_free(ds);
    hood__array_release(&a);
    return 0;
}
