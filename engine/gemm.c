/* gemm.c — the one room that includes cblas.h: the column-major sgemm wrapper every product in
 * hood goes through, a plain-C double-accumulating reference for the tests, and the BLAS
 * thread setting. It is not a GEMM implementation of its own; speed comes from the BLAS. */
#include "gemm.h"

#include <cblas.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(HOOD_BLAS_BLIS)
/* BLIS's own prototypes (blis.h) cannot share a translation unit with lapacke.h
 * (docs/build-notes.md §2), so declare the six we call. dim_t is BLIS's 64-bit gint_t; arch_t is an
 * enum, passed as an int. */
int64_t bli_thread_get_num_threads(void);
void bli_thread_set_num_threads(int64_t value);
char *bli_info_get_version_str(void);
void bli_init(void);
int bli_arch_query_id(void);
char *bli_arch_string(int id);
#endif

static size_t max1(size_t x)
{
    return x > 0 ? x : 1;
}

/* C = beta * C over an m x n block, with BLAS' convention that beta == 0 overwrites (so NaN or
 * uninitialised memory in C never leaks through a 0 * C). */
static void scale_c(size_t m, size_t n, float beta, float *C, size_t ldc)
{
    if (beta == 1.0f)
        return;
    for (size_t j = 0; j < n; j++) {
        float *c = C + j * ldc;
        if (beta == 0.0f)
            for (size_t i = 0; i < m; i++)
                c[i] = 0.0f;
        else
            for (size_t i = 0; i < m; i++)
                c[i] *= beta;
    }
}

void hood__sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                 const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                 size_t ldc)
{
    if (m == 0 || n == 0)
        return;
    /* An empty sum: BLAS would do the same, but some implementations reject ld < 1 for the
     * k-sized dimension, and there is nothing to multiply anyway. */
    if (k == 0 || alpha == 0.0f) {
        scale_c(m, n, beta, C, ldc);
        return;
    }
    /* cblas takes int sizes. Leading dimensions beyond INT_MAX (a column of 2^31 floats) cannot
     * be expressed at all: multiply those in plain C rather than truncate. */
    if (lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX) {
        hood__sgemm_reference(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    /* Sizes beyond INT_MAX are split into blocks: rows of C, columns of C, and k (accumulating
     * with beta = 1 after the first block). Never taken for real layer sizes. */
    const size_t step = (size_t)INT_MAX;
    for (size_t i0 = 0; i0 < m; i0 += step) {
        size_t mb = m - i0 < step ? m - i0 : step;
        for (size_t j0 = 0; j0 < n; j0 += step) {
            size_t nb = n - j0 < step ? n - j0 : step;
            for (size_t p0 = 0; p0 < k; p0 += step) {
                size_t kb = k - p0 < step ? k - p0 : step;
                /* op(A)(i, p) is A[i + p*lda] (no trans) or A[p + i*lda] (trans). */
                const float *a = trans_a ? A + p0 + i0 * lda : A + i0 + p0 * lda;
                /* op(B)(p, j) is B[p + j*ldb] (no trans) or B[j + p*ldb] (trans). */
                const float *b = trans_b ? B + j0 + p0 * ldb : B + p0 + j0 * ldb;
                float *c = C + i0 + j0 * ldc;
                cblas_sgemm(CblasColMajor, trans_a ? CblasTrans : CblasNoTrans,
                            trans_b ? CblasTrans : CblasNoTrans, (int)mb, (int)nb, (int)kb, alpha,
                            a, (int)max1(lda), b, (int)max1(ldb), p0 == 0 ? beta : 1.0f, c,
                            (int)max1(ldc));
            }
        }
    }
}

void hood__sgemm_reference(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                           const float *A, size_t lda, const float *B, size_t ldb, float beta,
                           float *C, size_t ldc)
{
    for (size_t j = 0; j < n; j++) {
        for (size_t i = 0; i < m; i++) {
            double sum = 0.0;
            for (size_t p = 0; p < k; p++) {
                double a = trans_a ? A[p + i * lda] : A[i + p * lda];
                double b = trans_b ? B[j + p * ldb] : B[p + j * ldb];
                sum += a * b;
            }
            double c = beta == 0.0f ? 0.0 : (double)beta * C[i + j * ldc];
            C[i + j * ldc] = (float)((double)alpha * sum + c);
        }
    }
}

void hood__blas_set_threads(int threads)
{
    if (threads < 1)
        threads = 1;
#if defined(HOOD_BLAS_OPENBLAS)
    openblas_set_num_threads(threads);
#elif defined(HOOD_BLAS_BLIS)
    bli_thread_set_num_threads(threads);
#else
    (void)threads; /* generic CBLAS has no thread API: its own default applies */
#endif
}

int hood__blas_threads(void)
{
#if defined(HOOD_BLAS_OPENBLAS)
    return openblas_get_num_threads();
#elif defined(HOOD_BLAS_BLIS)
    int64_t n = bli_thread_get_num_threads();
    /* BLIS answers -1 until a thread count has been set (BLIS_NUM_THREADS unset). */
    return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
#else
    return 0;
#endif
}

long hood__blas_threads_save(void)
{
#if defined(HOOD_BLAS_OPENBLAS)
    return openblas_get_num_threads();
#elif defined(HOOD_BLAS_BLIS)
    return (long)bli_thread_get_num_threads();
#else
    return 0;
#endif
}

void hood__blas_threads_restore(long saved)
{
#if defined(HOOD_BLAS_OPENBLAS)
    if (saved >= 1 && saved <= INT_MAX)
        openblas_set_num_threads((int)saved);
#elif defined(HOOD_BLAS_BLIS)
    /* -1 too: BLIS's own "not set", which sets only the count (never the per-loop ways) */
    bli_thread_set_num_threads((int64_t)saved);
#else
    (void)saved;
#endif
}

const char *hood__blas_description(void)
{
    /* Thread-local like error.c's message: the text is the same for every call in a process,
     * but a shared buffer written by two threads at once would be a data race. */
    static _Thread_local char text[160];
#if defined(HOOD_BLAS_OPENBLAS)
    /* openblas_get_config(): "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64";
     * keep its first two words and add the kernel actually selected at run time. */
    const char *config = openblas_get_config();
    const char *core = openblas_get_corename();
    if (config == NULL)
        config = "OpenBLAS";
    int words = 0;
    size_t len = 0;
    while (config[len] != '\0' && len < 64) {
        if (config[len] == ' ' && ++words == 2)
            break;
        len++;
    }
    snprintf(text, sizeof text, "%.*s (%s)", (int)len, config, core != NULL ? core : "unknown");
#elif defined(HOOD_BLAS_BLIS)
    /* The kernel set matters: Debian's BLIS 0.9.0 does not know Zen 5 and falls back to its
     * 8x slower "generic" kernels unless BLIS_ARCH_TYPE is set (docs/performance.md). */
    /* BLIS 0.9.0 aborts when the kernel set is queried before anything initialised it and
     * BLIS_ARCH_TYPE is set; bli_init() is idempotent and thread-safe. */
    bli_init();
    snprintf(text, sizeof text, "BLIS %s (%s)", bli_info_get_version_str(),
             bli_arch_string(bli_arch_query_id()));
#else
    snprintf(text, sizeof text, "CBLAS");
#endif
    return text;
}

bool hood__blas_small_kernels(void)
{
#if defined(HOOD_BLAS_OPENBLAS)
    /* a process-wide constant (the kernel is chosen when OpenBLAS loads), asked per product:
     * 0 = not asked yet, 1 = no, 2 = yes */
    static atomic_int known;
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k == 0) {
        const char *core = openblas_get_corename();
        bool yes =
            core != NULL && (strcmp(core, "SkylakeX") == 0 || strcmp(core, "Cooperlake") == 0);
        k = yes ? 2 : 1;
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k == 2;
#else
    return false;
#endif
}

/* The one process-wide state hood keeps, because the BLAS's thread setting is process-wide. */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t holders;
static long held_saved;

void hood__blas_hold(void)
{
    pthread_mutex_lock(&hold_lock);
    if (holders++ == 0) {
        held_saved = hood__blas_threads_save();
        hood__blas_set_threads(1);
    }
    pthread_mutex_unlock(&hold_lock);
}

void hood__blas_release(void)
{
    pthread_mutex_lock(&hold_lock);
    if (holders > 0 && --holders == 0)
        hood__blas_threads_restore(held_saved);
    pthread_mutex_unlock(&hold_lock);
}
