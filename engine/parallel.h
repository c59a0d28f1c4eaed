/* parallel.h — a small persistent pool of pthreads that runs one task on every thread (the
 * caller is thread 0) and waits for all of them, plus the per-thread scratch the split products
 * need. Created once per fit/evaluate/predict, never per batch; not a general task queue. */
#ifndef HOOD_PARALLEL_H
#define HOOD_PARALLEL_H

#include "hood.h"

#include <stddef.h>

typedef struct hood__pool hood__pool;

/* One share of a task: `index` in [0, count); the caller runs index 0. */
typedef void (*hood__task_fn)(void *arg, int index, int count);

/* A pool of `threads` threads in all (threads - 1 workers plus the caller); threads < 1 means
 * 1. With more than one thread the BLAS is set to 1 thread until hood__pool_free restores the
 * previous count, since the pool calls sgemm from every thread (TOOLCHAIN.md §7). *out is NULL
 * for 1 thread: every function here takes a NULL pool as "run on the caller alone". */
hood_status hood__pool_create(hood__pool **out, int threads);
/* Stops and joins the workers, restores the BLAS thread count; NULL is a no-op. */
void hood__pool_free(hood__pool *pool);
/* Threads in the pool, caller included (1 for NULL). */
int hood__pool_threads(const hood__pool *pool);
/* Runs fn(arg, i, n) once for every i in [0, n), n = hood__pool_threads(pool), i = 0 on the
 * calling thread; returns when every share has finished. Not reentrant: fn must not call
 * hood__pool_run on the same pool. */
void hood__pool_run(hood__pool *pool, hood__task_fn fn, void *arg);
/* Makes the pool's scratch at least `floats` floats (64-byte aligned; contents undefined).
 * Called when buffers are sized (start of a fit), never per batch. */
hood_status hood__pool_reserve(hood__pool *pool, size_t floats);
/* The scratch (NULL for a NULL pool or before any reserve) and its size in floats. */
float *hood__pool_scratch(const hood__pool *pool, size_t *floats);
/* The threads `requested` means: 0 is one per online core, otherwise itself (at least 1). */
int hood__threads_resolve(int requested);

#endif
