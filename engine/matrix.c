/* matrix.c — aligned float buffers and the gather of shuffled samples (columns) into one
 * contiguous batch buffer. Not a matrix type: matrices are plain float arrays with sizes. */
#include "matrix.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

/* 64 bytes: one cache line, and the widest vector load (AVX-512) never straddles two lines. */
enum { MATRIX_ALIGN = 64 };

float *hood__matrix_alloc(size_t rows, size_t cols)
{
    size_t count, bytes;
    if (hood__mul_overflows(rows, cols, &count) ||
        hood__mul_overflows(count, sizeof(float), &bytes))
        return NULL;
    void *p = NULL;
    /* posix_memalign(0 bytes) may return NULL or a unique pointer; ask for one line instead so
     * a 0 x n matrix is still a valid, freeable, non-NULL buffer. */
    if (posix_memalign(&p, MATRIX_ALIGN, bytes > 0 ? bytes : MATRIX_ALIGN) != 0)
        return NULL;
    return p;
}

void hood__matrix_free(float *m)
{
    free(m);
}

void hood__matrix_gather_cols(float *dst, const float *src, size_t rows, const size_t *index,
                              size_t count)
{
    for (size_t j = 0; j < count; j++)
        memcpy(dst + j * rows, src + index[j] * rows, rows * sizeof(float));
}
