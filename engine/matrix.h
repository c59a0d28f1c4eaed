/* matrix.h — column-major float helpers: aligned allocation and gathering shuffled samples
 * (columns) into a contiguous batch buffer. */
#ifndef HOOD_MATRIX_H
#define HOOD_MATRIX_H

#include "parallel.h"

#include <stdbool.h>
#include <stddef.h>

/* 64-byte aligned, uninitialised; NULL on failure or when rows*cols*4 overflows. Free with
 * hood__matrix_free. */
float *hood__matrix_alloc(size_t rows, size_t cols);
void hood__matrix_free(float *m);
/* Whether all n floats are finite (the divergence guard's check of new weights: AVX-512 where
 * the CPU has it, 4x the compiler's SSE loop on 200k floats). */
bool hood__matrix_all_finite(const float *p, size_t n);
/* dst (cols x rows, ld = cols) = srcᵀ (src: rows x cols, ld = rows). With AVX-512 and cols <=
 * 16 (the fused first layer's dW, dense.c) in 16 x 16 register blocks, ~3x the scalar copy. */
void hood__matrix_transpose(float *restrict dst, const float *restrict src, size_t rows,
                            size_t cols);
/* dst (rows x count, ld = rows) = columns index[0..count) of src (rows x ?, ld = rows). */
void hood__matrix_gather_cols(float *dst, const float *src, size_t rows, const size_t *index,
                              size_t count);
/* The same gather split over the pool's threads by rows (each thread copies its band of rows
 * of every column, bands in steps of 64 floats so no two threads write one cache line): the
 * same bytes as hood__matrix_gather_cols. Small gathers run on the caller. */
void hood__matrix_gather_cols_pool(hood__pool *pool, float *dst, const float *src, size_t rows,
                                   const size_t *index, size_t count);

#endif
