/* limits.c — the `limits` workload: what this machine can do at all, measured here and now:
 * sgemm GFLOP/s on a large square (the peak the FLOP bound divides by), read bandwidth (the
 * byte bound), each training workload's own sgemm shapes, and an "sgemm-only epoch" (the
 * epoch's products alone, in both kernel layouts) that training epochs are compared with.
 * Uses the engine's gemm wrapper (engine/gemm.h), the one door to cblas. Not a training run. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "gemm.h"

static float *rand_buf(size_t count, uint32_t seed)
{
    float *p = malloc(count * sizeof *p);
    for (size_t i = 0; p != NULL && i < count; i++) {
        seed = seed * 1664525u + 1013904223u; /* values in [-0.5, 0.5): no denormals, no NaN */
        p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

/* GFLOP/s of C (m x n) = op(A)·op(B), k deep: the best of 3 rounds of >= 0.1 s each. */
static double gemm_gflops(bool ta, bool tb, size_t m, size_t n, size_t k)
{
    float *A = rand_buf(m * k, 1), *B = rand_buf(k * n, 2), *C = rand_buf(m * n, 3);
    double best = 0;
    if (A != NULL && B != NULL && C != NULL) {
        size_t lda = ta ? k : m, ldb = tb ? n : k;
        hood__sgemm(ta, tb, m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C, m); /* warm-up */
        for (int round = 0; round < 3; round++) {
            size_t calls = 0;
            double t0 = bench_now(), t;
            do {
                hood__sgemm(ta, tb, m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C, m);
                calls++;
                t = bench_now() - t0;
            } while (t < 0.1 || calls < 3);
            double g = 2.0 * (double)m * (double)n * (double)k * (double)calls / t / 1e9;
            best = g > best ? g : best;
        }
    }
    free(A);
    free(B);
    free(C);
    return best;
}

typedef struct bw_job {
    const uint64_t *p;
    size_t n;
    uint64_t sum;
} bw_job;

static void *bw_read(void *arg)
{
    bw_job *j = arg;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= j->n; i += 4) {
        s0 += j->p[i];
        s1 += j->p[i + 1];
        s2 += j->p[i + 2];
        s3 += j->p[i + 3];
    }
    for (; i < j->n; i++)
        s0 += j->p[i];
    j->sum = s0 + s1 + s2 + s3; /* kept so the reads cannot be optimised away */
    return NULL;
}

/* Read bandwidth, GB/s: `threads` threads summing disjoint slices of a 512 MB buffer. */
static double bandwidth_gbs(int threads)
{
    const size_t bytes = (size_t)512 << 20, n = bytes / sizeof(uint64_t);
    uint64_t *buf = malloc(bytes);
    if (buf == NULL)
        return 0;
    memset(buf, 1, bytes); /* fault every page in before timing */
    if (threads < 1)
        threads = 1;
    if (threads > 16)
        threads = 16;
    double best = 0;
    volatile uint64_t sink = 0;
    for (int round = 0; round < 5; round++) {
        bw_job jobs[16];
        pthread_t tid[16];
        bool started[16] = {false};
        size_t slice = n / (size_t)threads;
        double t0 = bench_now();
        for (int t = 0; t < threads; t++) {
            jobs[t].p = buf + slice * (size_t)t;
            jobs[t].n = t == threads - 1 ? n - slice * (size_t)t : slice;
            if (t > 0)
                started[t] = pthread_create(&tid[t], NULL, bw_read, &jobs[t]) == 0;
        }
        for (int t = 0; t < threads; t++)
            if (!started[t]) /* slice 0, and any slice whose thread did not start */
                bw_read(&jobs[t]);
        for (int t = 1; t < threads; t++)
            if (started[t])
                pthread_join(tid[t], NULL);
        double dt = bench_now() - t0;
        for (int t = 0; t < threads; t++)
            sink += jobs[t].sum;
        best = (double)bytes / dt / 1e9 > best ? (double)bytes / dt / 1e9 : best;
    }
    (void)sink;
    free(buf);
    return best;
}

static void add_limit(bench_results *out, const char *name, double value, const char *unit,
                      int threads, const char *what)
{
    bench_result *r = bench_results_add(out, "limits", name);
    if (r == NULL)
        return;
    r->kind = BENCH_LIMIT;
    r->threads = threads;
    r->value = value;
    r->ok = value > 0;
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    snprintf(r->what, sizeof r->what, "%s", what);
}

/* One epoch of a workload's products alone (n samples in batches of B), in one of two kernel
 * layouts: W (out x in, Keras' kernel bytes: forward NN, dW NT, dX TN) or K = Wᵀ stored in x out
 * (each unit's weights contiguous: forward TN, dK NT, dX NN). Median of 3 epochs, seconds. */
static double sgemm_epoch(const bench_train_spec *s, size_t n, size_t B, bool transposed)
{
    size_t dims[5];
    dims[0] = s->input;
    for (size_t i = 0; i < s->n_layers; i++)
        dims[i + 1] = s->units[i];
    float *W[4] = {0}, *G[4] = {0}, *A[5] = {0}, *D[5] = {0};
    bool ok = true;
    for (size_t i = 0; i <= s->n_layers; i++) {
        A[i] = rand_buf(dims[i] * B, 10 + (uint32_t)i);
        D[i] = rand_buf(dims[i] * B, 20 + (uint32_t)i);
        ok &= A[i] != NULL && D[i] != NULL;
        if (i < s->n_layers) {
            W[i] = rand_buf(dims[i] * dims[i + 1], 30 + (uint32_t)i);
            G[i] = rand_buf(dims[i] * dims[i + 1], 40 + (uint32_t)i);
            ok &= W[i] != NULL && G[i] != NULL;
        }
    }
    double times[3] = {0, 0, 0};
    for (int e = 0; ok && e < 3; e++) {
        double t0 = bench_now();
        for (size_t start = 0; start < n; start += B) {
            size_t b = n - start < B ? n - start : B;
            for (size_t i = 0; i < s->n_layers; i++) {
                size_t in = dims[i], out = dims[i + 1];
                if (transposed) /* Z (out x b) = Kᵀ (out x in) · X (in x b) */
                    hood__sgemm(true, false, out, b, in, 1.0f, W[i], in, A[i], in, 0.0f, A[i + 1],
                                out);
                else /* Z (out x b) = W (out x in) · X (in x b) */
                    hood__sgemm(false, false, out, b, in, 1.0f, W[i], out, A[i], in, 0.0f, A[i + 1],
                                out);
            }
            for (size_t i = s->n_layers; i-- > 0;) {
                size_t in = dims[i], out = dims[i + 1];
                if (transposed) /* dK (in x out) = X (in x b) · dZᵀ (b x out) */
                    hood__sgemm(false, true, in, out, b, 1.0f, A[i], in, D[i + 1], out, 0.0f, G[i],
                                in);
                else /* dW (out x in) = dZ (out x b) · Xᵀ (b x in) */
                    hood__sgemm(false, true, out, in, b, 1.0f, D[i + 1], out, A[i], in, 0.0f, G[i],
                                out);
                if (i == 0)
                    continue;   /* the first layer needs no dX */
                if (transposed) /* dX (in x b) = K (in x out) · dZ (out x b) */
                    hood__sgemm(false, false, in, b, out, 1.0f, W[i], in, D[i + 1], out, 0.0f, D[i],
                                in);
                else /* dX (in x b) = Wᵀ (in x out) · dZ (out x b) */
                    hood__sgemm(true, false, in, b, out, 1.0f, W[i], out, D[i + 1], out, 0.0f, D[i],
                                in);
            }
        }
        times[e] = bench_now() - t0;
    }
    for (size_t i = 0; i <= s->n_layers; i++) {
        free(A[i]);
        free(D[i]);
        if (i < s->n_layers) {
            free(W[i]);
            free(G[i]);
        }
    }
    return ok ? bench_stats_of(times, 3).median : 0;
}

static void workload_limits(const bench_train_spec *s, const bench_options *o, bench_results *out)
{
    for (size_t vi = 0; vi < 2; vi++) {
        if (!bench_variant_wanted(o, s->variants[vi]))
            continue;
        size_t n = s->samples, B = s->batches[vi] < n ? s->batches[vi] : n;
        char name[64], what[256];
        /* the per-call rate of each product in W layout, at this batch size */
        size_t in = s->input;
        for (size_t i = 0; i < s->n_layers; i++) {
            size_t u = s->units[i];
            snprintf(name, sizeof name, "limits/%s/%s L%zu fwd %zux%zux%zu", s->name,
                     s->variants[vi], i + 1, u, B, in);
            snprintf(what, sizeof what, "Z (%zu x %zu) = W (%zu x %zu) · X, NN", u, B, u, in);
            add_limit(out, name, gemm_gflops(false, false, u, B, in), "GFLOP/s", o->threads, what);
            snprintf(name, sizeof name, "limits/%s/%s L%zu dW %zux%zux%zu", s->name,
                     s->variants[vi], i + 1, u, in, B);
            snprintf(what, sizeof what, "dW (%zu x %zu) = dZ · Xᵀ, NT, k = %zu", u, in, B);
            add_limit(out, name, gemm_gflops(false, true, u, in, B), "GFLOP/s", o->threads, what);
            if (i > 0) {
                snprintf(name, sizeof name, "limits/%s/%s L%zu dX %zux%zux%zu", s->name,
                         s->variants[vi], i + 1, in, B, u);
                snprintf(what, sizeof what, "dX (%zu x %zu) = Wᵀ · dZ, TN, k = %zu", in, B, u);
                add_limit(out, name, gemm_gflops(true, false, in, B, u), "GFLOP/s", o->threads,
                          what);
            }
            in = u;
        }
        double tw = sgemm_epoch(s, n, B, false), tk = sgemm_epoch(s, n, B, true);
        snprintf(name, sizeof name, "limits/%s/%s sgemm epoch", s->name, s->variants[vi]);
        snprintf(what, sizeof what,
                 "the epoch's products alone: W out x in %.1f ms, K in x out %.1f ms; the faster",
                 tw * 1e3, tk * 1e3);
        add_limit(out, name, (tw < tk ? tw : tk) * 1e3, "ms", o->threads, what);
    }
}

int bench_limits(const bench_options *o, const char *const *workloads, size_t n_workloads,
                 bench_results *out)
{
    hood__blas_set_threads(o->threads);
    add_limit(out, "limits/sgemm 2048^3", gemm_gflops(false, false, 2048, 2048, 2048), "GFLOP/s",
              o->threads, "C = A·B, all 2048 x 2048, NN: the FLOP bound's peak");
    add_limit(out, "limits/read bandwidth", bandwidth_gbs(o->threads), "GB/s", o->threads,
              "sum of a 512 MB buffer: the byte bound's bandwidth");
    for (size_t i = 0; i < n_workloads; i++) {
        const bench_train_spec *s = bench_train_spec_find(workloads[i]);
        if (s != NULL && !s->cnn) /* the dense shapes only */
            workload_limits(s, o, out);
    }
    return 0;
}
