/* matrix.c — aligned float buffers and the gather of shuffled samples (columns) into one
 * contiguous batch buffer. Not a matrix type: matrices are plain float arrays with sizes. */
#include "matrix.h"

#include "error.h"

#include <math.h>
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

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* x - x is 0 for a finite x and NaN for an infinite or NaN one. */
__attribute__((target("avx512f"))) static bool all_finite_avx512(const float *p, size_t n)
{
    const __m512 zero = _mm512_setzero_ps();
    __mmask16 ok = 0xffff;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(p + i);
        ok &= _mm512_cmp_ps_mask(_mm512_sub_ps(v, v), zero, _CMP_EQ_OQ);
    }
    bool finite = ok == 0xffff;
    for (; i < n; i++)
        finite &= isfinite(p[i]) != 0;
    return finite;
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/* Rows q0 .. q0+15 of src (rows x cols, ld rows; cols <= 16) to dst's columns q0 .. q0+15 (cols
 * floats each): src's columns are loaded as 16 vectors (zero past cols) and transposed in
 * registers: pairs of floats, then pairs of pairs, then 128-bit lanes twice; each result's
 * first cols floats are one masked store. */
__attribute__((target("avx512f"))) static void
transpose_block16(float *restrict dst, const float *restrict src, size_t rows, size_t cols)
{
    __m512 r[16], t[16];
    for (size_t j = 0; j < 16; j++)
        r[j] = j < cols ? _mm512_loadu_ps(src + j * rows) : _mm512_setzero_ps();
    for (int i = 0; i < 8; i++) { /* t: float pairs of src columns 2i, 2i+1 */
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) { /* r[4i+j], lane l: column 4i..4i+3 of src row 4l+j */
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    const __mmask16 keep = (__mmask16)((1u << cols) - 1u);
    for (int j = 0; j < 4; j++) { /* src row 4l+j: lane l of r[j], r[4+j], r[8+j], r[12+j] */
        __m512 ab_lo = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44);
        __m512 ab_hi = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xee);
        __m512 cd_lo = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44);
        __m512 cd_hi = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xee);
        _mm512_mask_storeu_ps(dst + (size_t)j * cols, keep,
                              _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88));
        _mm512_mask_storeu_ps(dst + (size_t)(4 + j) * cols, keep,
                              _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xdd));
        _mm512_mask_storeu_ps(dst + (size_t)(8 + j) * cols, keep,
                              _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88));
        _mm512_mask_storeu_ps(dst + (size_t)(12 + j) * cols, keep,
                              _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xdd));
    }
}
#endif

void hood__matrix_transpose(float *restrict dst, const float *restrict src, size_t rows,
                            size_t cols)
{
    size_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (cols <= 16 && __builtin_cpu_supports("avx512f"))
        for (; done + 16 <= rows; done += 16)
            transpose_block16(dst + done * cols, src + done, rows, cols);
#endif
    for (size_t q = done; q < rows; q++)
        for (size_t r = 0; r < cols; r++)
            dst[r + q * cols] = src[q + r * rows];
}

bool hood__matrix_all_finite(const float *p, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f"))
        return all_finite_avx512(p, n);
#endif
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= !isfinite(p[i]);
    return bad == 0;
}

void hood__matrix_gather_cols(float *dst, const float *src, size_t rows, const size_t *index,
                              size_t count)
{
    for (size_t j = 0; j < count; j++)
        memcpy(dst + j * rows, src + index[j] * rows, rows * sizeof(float));
}

/* Below this many floats a gather is a few microseconds: not worth a hand-off. */
enum { MIN_SPLIT_GATHER = 1 << 16, GATHER_STEP = HOOD__INPUT_BAND_STEP };

typedef struct gather_task {
    float *dst;
    const float *src;
    size_t rows, count;
    const size_t *index;
} gather_task;

static void gather_share(void *arg, int i, int T)
{
    const gather_task *g = arg;
    /* the bands of dense.c's K split of the forward product: each thread gathers the rows it
     * then multiplies */
    size_t r0 = hood__band_at(g->rows, GATHER_STEP, i, T);
    size_t r1 = hood__band_at(g->rows, GATHER_STEP, i + 1, T);
    if (r1 <= r0)
        return;
    for (size_t j = 0; j < g->count; j++)
        memcpy(g->dst + j * g->rows + r0, g->src + g->index[j] * g->rows + r0,
               (r1 - r0) * sizeof(float));
}

void hood__matrix_gather_cols_pool(hood__pool *pool, float *dst, const float *src, size_t rows,
                                   const size_t *index, size_t count)
{
    gather_task g = {dst, src, rows, count, index};
    if (hood__pool_threads(pool) < 2 || rows * count < MIN_SPLIT_GATHER || rows < 2 * GATHER_STEP)
        gather_share(&g, 0, 1);
    else
        hood__pool_run(pool, gather_share, &g);
}
