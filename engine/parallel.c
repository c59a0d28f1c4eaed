/* parallel.c — the persistent worker pool behind hood's own split of the products over threads
 * (each thread calls a single-threaded sgemm on its share; dense.c decides the shares). It is
 * a fork-join of fixed width, not a queue: every run gives each thread exactly one share. */
#define _POSIX_C_SOURCE 200809L
#include "parallel.h"

#include "error.h"
#include "gemm.h"
#include "matrix.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* How long a thread spins on the shared counters before it sleeps on a condition variable.
 * A batch issues several runs a few microseconds apart: a futex wake-up costs 5-50 µs on a
 * loaded machine, about the length of a whole share, so the threads spin through the short gaps
 * (~20-40 µs of pause instructions) and sleep through the long ones (loss, update, between
 * epochs). */
enum { SPIN_ROUNDS = 4000 };

struct hood__pool {
    int threads;
    pthread_t *workers; /* threads - 1 of them */
    int started;        /* workers actually created (for a partial failure) */
    pthread_mutex_t mutex;
    pthread_cond_t start; /* a new generation, or stop */
    pthread_cond_t done;  /* pending reached 0 */
    /* The task of the current generation: written by the caller before it bumps generation
     * (release) and read by the workers after they see the new value (acquire). */
    hood__task_fn fn;
    void *arg;
    atomic_uint generation;
    atomic_int pending; /* worker shares of this generation not yet finished */
    atomic_bool stop;
    int saved_blas_threads;
    float *scratch;
    size_t scratch_floats;
};

typedef struct worker_arg {
    hood__pool *pool;
    int index;
} worker_arg;

int hood__threads_resolve(int requested)
{
    if (requested == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        return cores > 0 ? (cores > 1024 ? 1024 : (int)cores) : 1;
    }
    return requested < 1 ? 1 : requested;
}

static void *worker_main(void *p)
{
    worker_arg wa = *(worker_arg *)p;
    free(p);
    hood__pool *pool = wa.pool;
    unsigned seen = 0;
    for (;;) {
        unsigned gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        for (int i = 0; i < SPIN_ROUNDS && gen == seen && !atomic_load(&pool->stop); i++) {
            CPU_RELAX();
            gen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        }
        if (gen == seen) {
            /* The caller bumps generation under the mutex, so checking it under the mutex
             * before waiting cannot miss a wake-up. */
            pthread_mutex_lock(&pool->mutex);
            while ((gen = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->start, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (gen == seen) /* stop */
            return NULL;
        seen = gen;
        pool->fn(pool->arg, wa.index, pool->threads);
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mutex);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->mutex);
        }
    }
}

static void stop_workers(hood__pool *pool)
{
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->stop, true);
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 0; i < pool->started; i++)
        pthread_join(pool->workers[i], NULL);
    pool->started = 0;
}

hood_status hood__pool_create(hood__pool **out, int threads)
{
    *out = NULL;
    if (threads <= 1)
        return HOOD_OK;
    hood__pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return hood__fail(HOOD_ENOMEM, "thread pool: out of memory");
    pool->threads = threads;
    pool->workers = calloc((size_t)threads - 1, sizeof *pool->workers);
    if (pool->workers == NULL) {
        free(pool);
        return hood__fail(HOOD_ENOMEM, "thread pool: out of memory for %d threads", threads);
    }
    atomic_init(&pool->generation, 0u);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->stop, false);
    if (pthread_mutex_init(&pool->mutex, NULL) != 0) {
        free(pool->workers);
        free(pool);
        return hood__fail(HOOD_ENOMEM, "thread pool: cannot create a mutex");
    }
    if (pthread_cond_init(&pool->start, NULL) != 0) {
        pthread_mutex_destroy(&pool->mutex);
        free(pool->workers);
        free(pool);
        return hood__fail(HOOD_ENOMEM, "thread pool: cannot create a condition variable");
    }
    if (pthread_cond_init(&pool->done, NULL) != 0) {
        pthread_cond_destroy(&pool->start);
        pthread_mutex_destroy(&pool->mutex);
        free(pool->workers);
        free(pool);
        return hood__fail(HOOD_ENOMEM, "thread pool: cannot create a condition variable");
    }
    /* Before any worker exists: the workers call sgemm concurrently, and OpenBLAS's own
     * threads would then oversubscribe the cores (2x slower, TOOLCHAIN.md §7). */
    pool->saved_blas_threads = hood__blas_threads();
    hood__blas_set_threads(1);
    for (int i = 0; i < threads - 1; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa != NULL)
            *wa = (worker_arg){.pool = pool, .index = i + 1};
        if (wa == NULL || pthread_create(&pool->workers[i], NULL, worker_main, wa) != 0) {
            /* the thread did not start, so wa is still ours */
            free(wa);
            hood__pool_free(pool);
            return hood__fail(HOOD_ENOMEM, "thread pool: cannot start thread %d of %d", i + 2,
                              threads);
        }
        pool->started++;
    }
    *out = pool;
    return HOOD_OK;
}

void hood__pool_free(hood__pool *pool)
{
    if (pool == NULL)
        return;
    stop_workers(pool);
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->start);
    pthread_mutex_destroy(&pool->mutex);
    if (pool->saved_blas_threads > 0)
        hood__blas_set_threads(pool->saved_blas_threads);
    hood__matrix_free(pool->scratch);
    free(pool->workers);
    free(pool);
}

int hood__pool_threads(const hood__pool *pool)
{
    return pool == NULL ? 1 : pool->threads;
}

void hood__pool_run(hood__pool *pool, hood__task_fn fn, void *arg)
{
    if (pool == NULL) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->pending, pool->threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add_explicit(&pool->generation, 1u, memory_order_release);
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->mutex);

    fn(arg, 0, pool->threads);

    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (atomic_load_explicit(&pool->pending, memory_order_acquire) == 0)
            return;
        CPU_RELAX();
    }
    pthread_mutex_lock(&pool->mutex);
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) != 0)
        pthread_cond_wait(&pool->done, &pool->mutex);
    pthread_mutex_unlock(&pool->mutex);
}

hood_status hood__pool_reserve(hood__pool *pool, size_t floats)
{
    if (pool == NULL || floats <= pool->scratch_floats)
        return HOOD_OK;
    float *s = hood__matrix_alloc(floats, 1);
    if (s == NULL)
        return hood__fail(HOOD_ENOMEM, "thread pool: out of memory for %zu floats of scratch",
                          floats);
    hood__matrix_free(pool->scratch);
    pool->scratch = s;
    pool->scratch_floats = floats;
    return HOOD_OK;
}

float *hood__pool_scratch(const hood__pool *pool, size_t *floats)
{
    if (floats != NULL)
        *floats = pool == NULL ? 0 : pool->scratch_floats;
    return pool == NULL ? NULL : pool->scratch;
}
