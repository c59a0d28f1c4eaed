/* gemm.h — the one room that calls cblas: a column-major sgemm wrapper, a plain-C reference
 * for tests, and the BLAS thread setting. Everything else multiplies through here. */
#ifndef HOOD_GEMM_H
#define HOOD_GEMM_H

#include <stdbool.h>
#include <stddef.h>

/* C (m x n) = alpha * op(A) * op(B) + beta * C, all column-major; op(A) is m x k, op(B) k x n.
 * trans_a: op(A) = A^T (A stored k x m, lda >= k); else A stored m x k, lda >= m. Same for B.
 * BLAS conventions: beta == 0 overwrites C (NaN in C does not survive); m or n == 0 touches
 * nothing; k == 0 or alpha == 0 gives C = beta * C without reading A or B (they may be NULL). */
void hood__sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                 const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                 size_t ldc);
/* The same product in plain C with double accumulation; the tests' reference. */
void hood__sgemm_reference(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                           const float *A, size_t lda, const float *B, size_t ldb, float beta,
                           float *C, size_t ldc);
/* Threads the BLAS library uses for the next calls (OpenBLAS/BLIS process-wide setting; values
 * below 1 mean 1; a generic CBLAS has no thread API and ignores it). Not clamped to the CPU
 * count. On 2 cores OpenBLAS with 2 threads is 2-8x slower than 1 on the seed model's skinny
 * shapes (docs/performance.md): the caller chooses. */
void hood__blas_set_threads(int threads);
/* The current BLAS thread count; 0 when unknown (generic CBLAS). */
int hood__blas_threads(void);
/* The BLAS thread setting exactly as found, for hood__blas_threads_restore: OpenBLAS's count,
 * BLIS's (-1 while nobody set one: BLIS then follows BLIS_NUM_THREADS and its ways), 0 for a
 * CBLAS without a thread API. Every public call that sets the BLAS to 1 thread saves it first
 * and restores it on every return path, so a host's own BLAS use is left as it was. */
long hood__blas_threads_save(void);
void hood__blas_threads_restore(long saved);
/* The BLAS at 1 thread for as long as any hood call holds it: the first holder saves the
 * host's setting, the last one to release puts it back, so calls running at once on several
 * threads never restore each other's value out of order (nor change it under a running one). */
void hood__blas_hold(void);
void hood__blas_release(void);
/* "OpenBLAS 0.3.21 (Haswell)" (the kernel selected at run time), "BLIS 0.9.0" or "CBLAS": for
 * bench reports. Points to a per-thread buffer, valid until the next call on that thread. */
const char *hood__blas_description(void);
/* Whether the BLAS multiplies small products (m·n·k <= 10^6) without packing for the NN and NT
 * layouts: OpenBLAS's SkylakeX and Cooperlake kernels (Debian's 0.3.21 is built with them).
 * Decided once per process from the kernel OpenBLAS picked; false for other kernels and BLAS
 * libraries, where cutting a product into such bands only adds calls (Haswell: 1.5x slower). */
bool hood__blas_small_kernels(void);

#endif
