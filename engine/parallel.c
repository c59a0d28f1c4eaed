/* parallel.c — the persistent worker pool behind hood's own split of the products over threads
 * (each share calls a single-threaded sgemm; dense.c decides the shares). A fork-join of fixed
 * width, not a queue: every run has exactly `threads` shares, claimed by whoever gets there
 * first, and the caller never waits on a share that no worker has started. */
#define _POSIX_C_SOURCE 200809L
#include "parallel.h"

#include "error.h"
#include "gemm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* Why the pool looks the way it does (measured on the 2-core machines, seed model batch 32):
 * with every share bound to its thread, one busy process at nice 19 made 2 threads 1.7x slower
 * than 1 (41 vs 24 ms per epoch), and a loaded machine 3x: a worker that had gone to sleep, or
 * was descheduled, held its share until the scheduler ran it again (up to a time slice), while
 * the caller waited. So:
 * - a share is claimed, not assigned: the caller runs share 0, then every share no worker has
 *   started; a late worker finds nothing left and goes back to waiting;
 * - waiting threads spin (pause) for a bounded time before they sleep on a condition variable:
 *   the gaps between a batch's runs are microseconds, and each sleep costs a wake-up that, with
 *   another process on the core, can take a whole time slice; sched_yield would hand the core to
 *   exactly that process;
 * - even so, on a loaded machine the workers may not get a core when they are needed (or, with
 *   the kernel's per-session group scheduling, take CPU from the caller): ADAPTIVE (parallel.h)
 *   times steps run both ways and keeps the faster. Estimating from one way alone did not work:
 *   with both threads on one core each share runs half as fast, so the caller's own share time
 *   overstates what it would take alone. */
enum {
    WORKER_SPIN_NS = 500000, /* a worker sleeps after 0.5 ms without a run */
    CALLER_SPIN_NS = 200000, /* the caller sleeps after 0.2 ms waiting for started shares */
    CLOCK_EVERY = 32,        /* pauses (~30 ns each here) between clock reads while spinning */
    /* ADAPTIVE: the preferred way for EXPLOIT_MIN steps, then the other for EXPLORE steps;
     * while the other stays clearly slower the preferred way's window doubles up to
     * EXPLOIT_MAX (so trying the slower way costs under 1 % of the steps), and the preference
     * changes when the other was faster by more than 1/MARGIN. */
    EXPLORE = 8,
    EXPLORE_MAX = 256,
    EXPLOIT_MIN = 16,
    EXPLOIT_MAX = 1024,
    MARGIN = 32,
    SLOWER = 8, /* the other way is "clearly slower" above 1 + 1/SLOWER of the preferred */
};
/* A try of the other way lasts at least this long (up to EXPLORE_MAX steps) unless it is
 * clearly slower: several scheduler slices. Beside a busy process a worker just woken runs at
 * once (the scheduler favours a waking thread) and falls behind only later in the slice, so
 * 8 short steps of sharing (Fashion-MNIST b32: 3 ms) looked faster than they were, and the pool
 * went back to sharing every time it tried (2 threads 0.8x of 1 beside a nice-0 process). */
static const uint64_t EXPLORE_MIN_NS = 20000000;

/* ADAPTIVE's state, the caller's alone. */
typedef struct adaptive {
    bool shared_best; /* the way preferred so far */
    bool exploring;   /* the current window runs the other way */
    unsigned left;    /* steps left in the window, the uncounted first one included */
    unsigned exploit_len;
    bool counted;        /* the window's first step has gone by */
    uint64_t step_start; /* 0: not inside a step */
    uint64_t sum[2];     /* [exploring]: nanoseconds of the counted steps */
    unsigned count[2];
} adaptive;

struct hood__pool {
    /* Read by everyone, written only at creation. */
    int threads;
    pthread_t *workers; /* threads - 1 of them */
    int started;        /* workers actually created (for a partial failure) */
    pthread_mutex_t mutex;
    pthread_cond_t wake; /* workers sleep here: a new run, or stop */
    pthread_cond_t done; /* the caller sleeps here: the run's last share finished */
    /* The current run's task: written by the caller before it publishes the run in `state`
     * (release); read by a worker only after it claimed a share of that run (acquire), so the
     * caller, which waits for every share, never rewrites them under a reader. */
    hood__task_fn fn;
    void *arg;
    /* generation << 32 | shares claimed. One word, so a claim is one compare-and-swap that
     * fails when the run it was meant for is over (a worker that woke late never claims a share
     * of a later run with the earlier run's task). */
    _Alignas(64) atomic_uint_least64_t state;
    _Alignas(64) atomic_int finished; /* shares of the current run that have returned */
    atomic_int sleepers;              /* workers asleep (or about to be) on `wake` */
    atomic_bool caller_asleep;        /* the caller sleeps (or is about to) on `done` */
    /* The caller runs its shares alone (ADAPTIVE's caller-only way): a spinning worker goes to
     * sleep at once instead of spinning out WORKER_SPIN_NS on a core the caller, or another
     * process, needs. */
    atomic_bool solo;
    atomic_bool stop;
    /* The caller's own: generation, policy and its bookkeeping, counters. */
    _Alignas(64) uint32_t generation;
    hood__pool_policy policy;
    adaptive ad;
    hood__pool_stats stats;
    hood__clock_fn clock; /* ADAPTIVE's step timer (NULL: now_ns) */
    void *clock_user;
    float *scratch;
    size_t scratch_floats;
};

typedef struct worker_arg {
    hood__pool *pool;
} worker_arg;

int hood__threads_resolve(int requested)
{
    if (requested == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        return cores > 0 ? (cores > 1024 ? 1024 : (int)cores) : 1;
    }
    return requested < 1 ? 1 : requested;
}

size_t hood__band_at(size_t s, size_t step, int i, int T)
{
    if (i >= T)
        return s;
    size_t b = (size_t)((double)s * i / T);
    b = (b + step / 2) / step * step;
    return b > s ? s : b;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t state_generation(uint64_t s)
{
    return (uint32_t)(s >> 32);
}

/* Claims the next unstarted share of run `gen`: its index, or -1 when that run has none left
 * or is over. */
static int claim(hood__pool *pool, uint32_t gen)
{
    uint64_t s = atomic_load_explicit(&pool->state, memory_order_acquire);
    for (;;) {
        if (state_generation(s) != gen || (uint32_t)s >= (uint32_t)pool->threads)
            return -1;
        if (atomic_compare_exchange_weak_explicit(&pool->state, &s, s + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return (int)(uint32_t)s;
    }
}

/* Marks one share of the current run finished; the last one wakes a sleeping caller. The
 * caller sets caller_asleep before it re-checks `finished` (both sequentially consistent), so
 * either it sees this share's count or this sees it asleep. */
static void finish_share(hood__pool *pool)
{
    if (atomic_fetch_add(&pool->finished, 1) + 1 == pool->threads &&
        atomic_load(&pool->caller_asleep)) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_signal(&pool->done);
        pthread_mutex_unlock(&pool->mutex);
    }
}

/* Waits for a run newer than `seen`: its generation, or `seen` itself on stop. */
static uint32_t wait_for_run(hood__pool *pool, uint32_t seen)
{
    uint64_t start = 0;
    for (unsigned i = 1;; i++) {
        uint32_t gen = state_generation(atomic_load_explicit(&pool->state, memory_order_acquire));
        if (gen != seen || atomic_load_explicit(&pool->stop, memory_order_relaxed))
            return gen;
        if (atomic_load_explicit(&pool->solo, memory_order_relaxed))
            break;
        CPU_RELAX();
        if (i % CLOCK_EVERY == 0) {
            uint64_t t = now_ns();
            if (start == 0)
                start = t;
            else if (t - start > WORKER_SPIN_NS)
                break;
        }
    }
    /* The caller publishes a run, then looks at `sleepers` (both sequentially consistent):
     * either it sees this sleeper and broadcasts under the mutex, or this sees the run. */
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add(&pool->sleepers, 1);
    uint32_t gen;
    while ((gen = state_generation(atomic_load(&pool->state))) == seen && !atomic_load(&pool->stop))
        pthread_cond_wait(&pool->wake, &pool->mutex);
    atomic_fetch_sub(&pool->sleepers, 1);
    pthread_mutex_unlock(&pool->mutex);
    return gen;
}

static void *worker_main(void *p)
{
    worker_arg wa = *(worker_arg *)p;
    free(p);
    hood__pool *pool = wa.pool;
    uint32_t seen = 0;
    for (;;) {
        uint32_t gen = wait_for_run(pool, seen);
        if (atomic_load(&pool->stop))
            return NULL;
        seen = gen;
        int i;
        while ((i = claim(pool, gen)) >= 0) {
            pool->fn(pool->arg, i, pool->threads);
            finish_share(pool);
        }
    }
}

static void stop_workers(hood__pool *pool)
{
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->stop, true);
    pthread_cond_broadcast(&pool->wake);
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
    void *mem = NULL;
    /* aligned: the shared counters sit on cache lines of their own */
    if (posix_memalign(&mem, 64, sizeof(hood__pool)) != 0)
        return hood__fail(HOOD_ENOMEM, "thread pool: out of memory");
    hood__pool *pool = mem;
    memset(pool, 0, sizeof *pool);
    pool->threads = threads;
    hood__pool_set_policy(pool, HOOD__POOL_ADAPTIVE);
    pool->workers = calloc((size_t)threads - 1, sizeof *pool->workers);
    if (pool->workers == NULL) {
        free(pool);
        return hood__fail(HOOD_ENOMEM, "thread pool: out of memory for %d threads", threads);
    }
    atomic_init(&pool->state, 0u);
    atomic_init(&pool->finished, 0);
    atomic_init(&pool->sleepers, 0);
    atomic_init(&pool->caller_asleep, false);
    atomic_init(&pool->stop, false);
    if (pthread_mutex_init(&pool->mutex, NULL) != 0) {
        free(pool->workers);
        free(pool);
        return hood__fail(HOOD_ENOMEM, "thread pool: cannot create a mutex");
    }
    if (pthread_cond_init(&pool->wake, NULL) != 0) {
        pthread_mutex_destroy(&pool->mutex);
        free(pool->workers);
        free(pool);
        return hood__fail(HOOD_ENOMEM, "thread pool: cannot create a condition variable");
    }
    if (pthread_cond_init(&pool->done, NULL) != 0) {
        pthread_cond_destroy(&pool->wake);
        pthread_mutex_destroy(&pool->mutex);
        free(pool->workers);
        free(pool);
        return hood__fail(HOOD_ENOMEM, "thread pool: cannot create a condition variable");
    }
    /* Before any worker exists: the workers call sgemm concurrently, and OpenBLAS's own
     * threads would then oversubscribe the cores (2x slower, docs/build-notes.md §4). */
    hood__blas_hold();
    for (int i = 0; i < threads - 1; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa != NULL)
            *wa = (worker_arg){.pool = pool};
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
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mutex);
    hood__blas_release();
    free(pool->scratch);
    free(pool->workers);
    free(pool);
}

int hood__pool_threads(const hood__pool *pool)
{
    return pool == NULL ? 1 : pool->threads;
}

/* Starts a window of `len` counted steps. A window that offers shares to the workers after
 * one that did not leaves its first step uncounted: the workers may have gone to sleep. */
static void adaptive_window(adaptive *ad, bool exploring, unsigned len)
{
    bool was_shared = ad->exploring ? !ad->shared_best : ad->shared_best;
    ad->exploring = exploring;
    bool shared = ad->exploring ? !ad->shared_best : ad->shared_best;
    ad->counted = !(shared && !was_shared);
    ad->left = len + (ad->counted ? 0 : 1);
}

void hood__pool_set_policy(hood__pool *pool, hood__pool_policy policy)
{
    if (pool == NULL)
        return;
    pool->policy = policy;
    memset(&pool->ad, 0, sizeof pool->ad);
    pool->ad.shared_best = true;
    pool->ad.exploit_len = EXPLOIT_MIN;
    pool->ad.left = EXPLOIT_MIN + 1; /* the first step, with the workers starting, uncounted */
}

void hood__pool_get_stats(const hood__pool *pool, hood__pool_stats *out)
{
    if (pool == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = pool->stats;
}

void hood__pool_set_clock(hood__pool *pool, hood__clock_fn clock, void *user)
{
    if (pool == NULL)
        return;
    pool->clock = clock;
    pool->clock_user = user;
}

static uint64_t step_clock(const hood__pool *pool)
{
    return pool->clock != NULL ? pool->clock(pool->clock_user) : now_ns();
}

void hood__pool_step_begin(hood__pool *pool)
{
    if (pool != NULL && pool->policy == HOOD__POOL_ADAPTIVE)
        pool->ad.step_start = step_clock(pool);
}

void hood__pool_step_end(hood__pool *pool)
{
    if (pool == NULL)
        return;
    pool->stats.steps++;
    adaptive *ad = &pool->ad;
    if (pool->policy != HOOD__POOL_ADAPTIVE || ad->step_start == 0)
        return;
    uint64_t took = step_clock(pool) - ad->step_start;
    ad->step_start = 0;
    if (ad->counted) {
        ad->sum[ad->exploring] += took;
        ad->count[ad->exploring]++;
    }
    ad->counted = true;
    /* Trying the other way ends early once it is clearly slower (half over the preferred way's
     * mean after one step, a quarter after two): on a quiet machine that is every try of the
     * caller-only way, which would otherwise cost EXPLORE steps at half speed each time. */
    bool clearly_slower = false;
    if (ad->exploring && ad->count[1] > 0 && ad->count[0] > 0) {
        uint64_t best = ad->sum[0] * ad->count[1];
        clearly_slower =
            ad->sum[1] * ad->count[0] > best + (ad->count[1] == 1 ? best / 2 : best / 4);
    }
    if (clearly_slower)
        ad->left = 1;
    else if (ad->left == 1 && ad->exploring && ad->count[1] < EXPLORE_MAX &&
             ad->sum[1] < EXPLORE_MIN_NS)
        ad->left++; /* too short a try to judge by */
    if (--ad->left > 0)
        return;
    if (!ad->exploring) {
        adaptive_window(ad, true, EXPLORE);
        return;
    }
    /* Compare mean step times: sum[1] / count[1] against sum[0] / count[0] (the preferred way's
     * window just before), cross-multiplied. */
    uint64_t other = ad->sum[1] * ad->count[0], best = ad->sum[0] * ad->count[1];
    bool faster = other<best - best / MARGIN, slower = other> best + best / SLOWER;
    if (ad->count[0] == 0 || ad->count[1] == 0) {
        /* nothing to compare (cannot happen with the windows above) */
    } else if (faster || (!slower && !ad->shared_best)) {
        /* Change; a tie goes to sharing: with the workers absent it costs nothing (the caller
         * takes their shares), and it gains as soon as they are back. */
        ad->shared_best = !ad->shared_best;
        ad->exploit_len = EXPLOIT_MIN;
        pool->stats.switches++;
    } else if (slower) {
        /* The other way is clearly slower: try it less often. */
        ad->exploit_len = ad->exploit_len >= EXPLOIT_MAX / 2 ? EXPLOIT_MAX : 2 * ad->exploit_len;
    } else {
        /* A tie (sharing preferred, the workers absent): trying costs nothing, keep trying. */
        ad->exploit_len = EXPLOIT_MIN;
    }
    ad->sum[0] = ad->sum[1] = 0;
    ad->count[0] = ad->count[1] = 0;
    adaptive_window(ad, false, ad->exploit_len);
}

/* Whether this run offers its shares to the workers. */
static bool run_shared(const hood__pool *pool)
{
    switch (pool->policy) {
    case HOOD__POOL_SHARED:
        return true;
    case HOOD__POOL_CALLER:
        return false;
    case HOOD__POOL_ADAPTIVE:
        break;
    }
    return pool->ad.exploring ? !pool->ad.shared_best : pool->ad.shared_best;
}

void hood__pool_run(hood__pool *pool, hood__task_fn fn, void *arg)
{
    if (pool == NULL) {
        fn(arg, 0, 1);
        return;
    }
    const int T = pool->threads;
    pool->stats.runs++;
    pool->stats.shares += (unsigned long long)T;
    if (!run_shared(pool)) {
        /* The same shares in index order: the same bits as a shared run. */
        atomic_store_explicit(&pool->solo, true, memory_order_relaxed);
        pool->stats.caller_runs++;
        for (int i = 0; i < T; i++)
            fn(arg, i, T);
        return;
    }

    pool->fn = fn;
    pool->arg = arg;
    atomic_store_explicit(&pool->solo, false, memory_order_relaxed);
    atomic_store_explicit(&pool->finished, 0, memory_order_relaxed);
    uint32_t gen = ++pool->generation;
    /* Published with share 0 already claimed: the caller's. */
    atomic_store(&pool->state, (uint64_t)gen << 32 | 1u);
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mutex);
    }

    fn(arg, 0, T);
    finish_share(pool);
    int own = 1, i;
    while ((i = claim(pool, gen)) >= 0) {
        fn(arg, i, T);
        finish_share(pool);
        own++;
    }
    pool->stats.stolen += (unsigned long long)(own - 1);

    /* Every share is claimed; wait for those the workers are running. */
    uint64_t spin_start = now_ns();
    for (unsigned k = 1; atomic_load_explicit(&pool->finished, memory_order_acquire) < T; k++) {
        CPU_RELAX();
        if (k % CLOCK_EVERY == 0 && now_ns() - spin_start > CALLER_SPIN_NS) {
            pthread_mutex_lock(&pool->mutex);
            atomic_store(&pool->caller_asleep, true);
            while (atomic_load(&pool->finished) < T)
                pthread_cond_wait(&pool->done, &pool->mutex);
            atomic_store(&pool->caller_asleep, false);
            pthread_mutex_unlock(&pool->mutex);
            break;
        }
    }
}

hood_status hood__pool_reserve(hood__pool *pool, size_t floats)
{
    if (pool == NULL || floats <= pool->scratch_floats)
        return HOOD_OK;
    /* 64-byte aligned like matrix.c's buffers (this room sits below matrix.c, whose pooled
     * gather uses the pool) */
    void *s = NULL;
    if (floats > SIZE_MAX / sizeof(float) || posix_memalign(&s, 64, floats * sizeof(float)) != 0)
        return hood__fail(HOOD_ENOMEM, "thread pool: out of memory for %zu floats of scratch",
                          floats);
    free(pool->scratch);
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
