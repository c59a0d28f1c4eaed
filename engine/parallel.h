/* parallel.h — a small persistent pool of pthreads that runs the `threads` shares of one task
 * (any thread may run any share; the caller starts with share 0 and takes the shares no worker
 * has started) and waits for all of them, plus the per-thread scratch the split products need.
 * Created once per fit/evaluate/predict, never per batch; not a general task queue. */
#ifndef HOOD_PARALLEL_H
#define HOOD_PARALLEL_H

#include "hood.h"

#include <stddef.h>
#include <stdint.h>

typedef struct hood__pool hood__pool;

/* One share of a task: `index` in [0, count). Which thread runs a share is not fixed (the
 * caller takes a share no worker has claimed), so a share's result must depend on index and
 * count only — never on the thread — for a run to give the same bits whoever runs it. */
typedef void (*hood__task_fn)(void *arg, int index, int count);

/* A pool of `threads` threads in all (threads - 1 workers plus the caller); threads < 1 means
 * 1. With more than one thread the BLAS is set to 1 thread until hood__pool_free restores the
 * previous count, since the pool calls sgemm from every thread (docs/build-notes.md §4). *out is
 * NULL for 1 thread: every function here takes a NULL pool as "run on the caller alone". */
hood_status hood__pool_create(hood__pool **out, int threads);
/* Stops and joins the workers, restores the BLAS thread count; NULL is a no-op. */
void hood__pool_free(hood__pool *pool);
/* Threads in the pool, caller included (1 for NULL): the count every run's shares are split
 * into, whatever the policy below. */
int hood__pool_threads(const hood__pool *pool);
/* Runs fn(arg, i, n) exactly once for every i in [0, n), n = hood__pool_threads(pool), and
 * returns when every share has finished. Not reentrant: fn must not call hood__pool_run on the
 * same pool; one caller thread per pool. */
void hood__pool_run(hood__pool *pool, hood__task_fn fn, void *arg);

/* Who runs the shares. ADAPTIVE (the default) measures, step by step (hood__pool_step_begin/
 * end around each training batch), whether offering the shares to the workers or running them
 * all on the caller is faster, and does the faster, trying the other way now and then (on a
 * machine whose other processes keep the workers off the cores, 2 threads must never be slower
 * than 1). Runs outside steps go the way of the last step. SHARED always offers the shares to
 * the workers, CALLER always runs them on the caller; both exist for tests and measurements.
 * The shares are the same in every policy, so are the results, bit for bit. */
typedef enum hood__pool_policy {
    HOOD__POOL_ADAPTIVE,
    HOOD__POOL_SHARED,
    HOOD__POOL_CALLER
} hood__pool_policy;
/* Sets the policy for the next runs and starts ADAPTIVE's measurements afresh (no-op on a NULL
 * pool). */
void hood__pool_set_policy(hood__pool *pool, hood__pool_policy policy);
/* Bracket one unit of repeated, like-sized work (a training batch: its gather, products and
 * update) so ADAPTIVE can compare the two ways by the time per step. No-ops on a NULL pool;
 * called by the pool's caller thread only. */
void hood__pool_step_begin(hood__pool *pool);
void hood__pool_step_end(hood__pool *pool);
/* The clock ADAPTIVE times steps by (monotonic nanoseconds; NULL: the real CLOCK_MONOTONIC).
 * For tests: with a clock they drive, ADAPTIVE's choices depend on the times they give, never
 * on how busy the machine is. No-op on a NULL pool. */
typedef uint64_t (*hood__clock_fn)(void *user);
void hood__pool_set_clock(hood__pool *pool, hood__clock_fn clock, void *user);

/* Counts since the pool was created (all zero for NULL). */
typedef struct hood__pool_stats {
    unsigned long long runs;        /* hood__pool_run calls */
    unsigned long long caller_runs; /* runs whose shares all ran on the caller without offering
                                       them to the workers (CALLER, or ADAPTIVE's choice) */
    unsigned long long shares;      /* shares run, every thread together */
    unsigned long long stolen;      /* shares other than 0 that the caller ran in shared runs */
    unsigned long long steps;       /* hood__pool_step_end calls */
    unsigned long long switches;    /* times ADAPTIVE changed the way it prefers */
} hood__pool_stats;
void hood__pool_get_stats(const hood__pool *pool, hood__pool_stats *out);

/* Makes the pool's scratch at least `floats` floats (64-byte aligned; contents undefined).
 * Called when buffers are sized (start of a fit), never per batch. */
hood_status hood__pool_reserve(hood__pool *pool, size_t floats);
/* The scratch (NULL for a NULL pool or before any reserve) and its size in floats. */
float *hood__pool_scratch(const hood__pool *pool, size_t *floats);
/* Boundary i of T shares of [0, s) in steps of `step`: s * i / T rounded to the nearest
 * multiple of step, at most s (s itself for i >= T). Share i is [band(i), band(i + 1)). The one
 * band rule: dense.c's split products and matrix.c's pooled gather both cut by it, so a thread
 * gathers the input rows it then multiplies. Depends on (s, step, i, T) only. */
size_t hood__band_at(size_t s, size_t step, int i, int T);
/* The step of the input-feature bands (dense.c's K split, matrix.c's gather): 64 floats, whole
 * cache lines, so no two threads ever write one line. */
enum { HOOD__INPUT_BAND_STEP = 64 };
/* The threads `requested` means: 0 is one per online core, otherwise itself (at least 1). */
int hood__threads_resolve(int requested);

#endif
