/* gemm.h — the one room that calls cblas: a column-major sgemm wrapper, a plain-C reference
 * for tests, and the BLAS thread setting. Everything else multiplies through here. */
#ifndef HOOD_GEMM_H
#define HOOD_GEMM_H

#include <stdbool.h>
#include <stddef.h>

/* C (m x n) = alpha * op(A) * op(B) + beta * C, all column-major; op(A) is m x k, op(B) k x n.
 * trans_a: op(A) = A^T (A stored k x m, lda >= k); else A stored m x k, lda >= m. Same for B. */
void hood__sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                 const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                 size_t ldc);
/* The same product in plain C with double accumulation; the tests' reference. */
void hood__sgemm_reference(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                           const float *A, size_t lda, const float *B, size_t ldb, float beta,
                           float *C, size_t ldc);
/* Threads the BLAS library uses for the next calls (OpenBLAS/BLIS process-wide setting). */
void hood__blas_set_threads(int threads);
int hood__blas_threads(void);
/* "OpenBLAS 0.3.21 (Haswell)" or "BLIS" or "CBLAS": for bench reports. */
const char *hood__blas_description(void);

#endif
