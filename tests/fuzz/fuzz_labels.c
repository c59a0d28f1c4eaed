/* fuzz_labels.c — libFuzzer target for the labels-list file of image ingest
 * ("relative/path,label" lines): hood__labels_parse_bytes, syntax only (no file lookups). */
#include "hood.h"
#include "ingest.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t files, classes;
    hood__labels_parse_bytes(data, size, "fuzz-labels.csv", &files, &classes);
    return 0;
}
