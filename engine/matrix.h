/* matrix.h — column-major float helpers: aligned allocation and gathering shuffled samples
 * (columns) into a contiguous batch buffer. */
#ifndef HOOD_MATRIX_H
#define HOOD_MATRIX_H

#include <stddef.h>

/* 64-byte aligned, uninitialised; NULL on failure or when rows*cols*4 overflows. Free with
 * hood__matrix_free. */
float *hood__matrix_alloc(size_t rows, size_t cols);
void hood__matrix_free(float *m);
/* dst (rows x count, ld = rows) = columns index[0..count) of src (rows x ?, ld = rows). */
void hood__matrix_gather_cols(float *dst, const float *src, size_t rows, const size_t *index,
                              size_t count);

#endif
