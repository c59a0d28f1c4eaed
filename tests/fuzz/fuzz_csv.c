/* fuzz_csv.c — libFuzzer target for the CSV reader (hood__csv_parse_buffer) and the float text
 * conversions. The first input byte picks the reader options, so every layout is reached:
 *   bit 0 header; bits 1-2 label mode (INT, CATEGORICAL, BINARY, NONE); bits 3-4 label column
 *   (0: last, 1: none, 2: index 0, 3: index 1); bit 5: 3 label columns instead of 1;
 *   bits 6-7 sharding (0: none, 1: shard 0 of 2, 2: shard 1 of 2, 3: shard 2 of 3).
 * Checks: no crash or sanitizer report; a dataset read is finite; every float of it formats to
 * text that parses back to the same bits. */
#include "csv.h"
#include "hood.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(float x)
{
    char text[HOOD_CSV_FLOAT_MAX];
    size_t n = hood__csv_format_float(x, text);
    float back;
    if (n > HOOD_CSV_FLOAT_MAX || hood__csv_parse_float(text, n, &back) != 0 ||
        memcmp(&back, &x, sizeof x) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hood_csv_options opts;
    hood_csv_options_init(&opts);
    if (size > 0) {
        uint8_t b = data[0];
        static const long columns[4] = {-1, -2, 0, 1};
        opts.header = b & 1;
        opts.label_mode = (hood_label_mode)((b >> 1) & 3);
        opts.label_column = columns[(b >> 3) & 3];
        opts.label_columns = (b & 0x20) ? 3 : 1;
        static const size_t shard_index[4] = {0, 0, 1, 2}, shard_count[4] = {0, 2, 2, 3};
        opts.shard_index = shard_index[b >> 6];
        opts.shard_count = shard_count[b >> 6];
        data++;
        size--;
    }
    hood_dataset *ds = NULL;
    if (hood__csv_parse_buffer((const char *)data, size, &opts, "fuzz.csv", &ds) == HOOD_OK) {
        if (hood_dataset_check_finite(ds) != HOOD_OK)
            abort();
        size_t count = hood_dataset_features(ds) * hood_dataset_samples(ds);
        for (size_t k = 0; k < count && k < 4096; k++)
            check_round_trip(hood_dataset_x(ds)[k]);
        hood_dataset_free(ds);
    }
    /* any 4 bytes are a float: finite ones must survive text and back */
    if (size >= 4) {
        float x;
        memcpy(&x, data, sizeof x);
        if (x - x == 0.0f)
            check_round_trip(x);
    }
    return 0;
}
