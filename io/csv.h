/* csv.h — the CSV room's internal entry points: parsing from memory (fuzz targets, tests) and
 * the float <-> text conversions the writer and reader share. Not public API (include/hood.h
 * has hood_dataset_save_csv / hood_dataset_load_csv). */
#ifndef HOOD_CSV_H
#define HOOD_CSV_H

#include "hood.h"

/* Parses len bytes of CSV text as hood_dataset_load_csv parses a file; name is used in messages
 * as the path would be. opts may be NULL (defaults). */
hood_status hood__csv_parse_buffer(const char *bytes, size_t len, const hood_csv_options *opts,
                                   const char *name, hood_dataset **out);

/* hood_dataset_save_csv into a caller's open output (its path names the file in messages):
 * finished, not committed; discarded on failure (io/atomic.h). */
hood_status hood__csv_write_to(const hood_dataset *ds, hood_output *file,
                               const hood_csv_options *opts);
/* The caller's options into *dst (docs/abi.md); NULL gives the defaults. */
hood_status hood__csv_options_read(hood_csv_options *dst, const hood_csv_options *src,
                                   const char *what);

/* Most classes a single label column read as CATEGORICAL may one-hot encode into. */
enum { HOOD_CSV_MAX_ONE_HOT = 65536 };

/* Longest text hood__csv_format_float writes ("-1.2345678e-38" is 14). */
enum { HOOD_CSV_FLOAT_MAX = 16 };
/* The longest line the reader takes (header or row): 1 GiB, a row of 100 million values at
 * ten bytes each; beyond it the file is no CSV of samples, and the buffer stops growing. */
enum { HOOD_CSV_LINE_MAX = 1 << 30 };

/* Writes the shortest decimal that reads back (correctly rounded, as strtof or numpy does) to
 * exactly x's bits; no NUL; returns the length. x must be finite. Locale-independent. */
size_t hood__csv_format_float(float x, char *out);
/* Parses [text, text+len) as a decimal float, correctly rounded; locale-independent. Returns 0,
 * or 1 not a number, 2 NaN, 3 infinite, 4 beyond the float32 range. */
int hood__csv_parse_float(const char *text, size_t len, float *out);

#endif
