/* machine.c — what the harness records about the machine and the process: CPU, cores, BLAS
 * and its kernel, the clock, peak RSS, and the min/median/max of repeated timings.
 * Not a benchmark: facts only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "gemm.h"
#include "hood.h"

void bench_machine_get(bench_machine *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->cpu, sizeof m->cpu, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "model name", 10) == 0) {
                const char *v = strchr(line, ':');
                if (v != NULL) {
                    v++;
                    while (*v == ' ' || *v == '\t')
                        v++;
                    snprintf(m->cpu, sizeof m->cpu, "%.*s", (int)strcspn(v, "\n"), v);
                }
                break;
            }
        }
        fclose(f); /* read-only: nothing to lose on a failed close */
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    m->cores = cores > 0 ? (int)cores : 1;
    /* One tiny product first: BLIS 0.9.0 aborts when its kernel set is queried (as the
     * description does) before anything initialised it and BLIS_ARCH_TYPE is set. */
    float a = 1, b = 1, c = 0;
    hood__sgemm(false, false, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1);
    snprintf(m->blas, sizeof m->blas, "%s", hood__blas_description());
    const char *ct = getenv("OPENBLAS_CORETYPE");
    snprintf(m->coretype, sizeof m->coretype, "%s", ct != NULL ? ct : "");
    const char *ba = getenv("BLIS_ARCH_TYPE");
    snprintf(m->blis_arch, sizeof m->blis_arch, "%s", ba != NULL ? ba : "");
    snprintf(m->hood_version, sizeof m->hood_version, "%s", hood_version_string());
    double load[1];
    m->loadavg = getloadavg(load, 1) == 1 ? load[0] : -1;
}

double bench_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ru_maxrss is in KiB on Linux. Each workload runs in its own forked process, so this is the
 * workload's own peak (plus the few MB the harness itself holds). */
double bench_peak_rss_mb(void)
{
    struct rusage self, kids;
    double mb = 0;
    if (getrusage(RUSAGE_SELF, &self) == 0)
        mb = (double)self.ru_maxrss / 1024.0;
    if (getrusage(RUSAGE_CHILDREN, &kids) == 0 && (double)kids.ru_maxrss / 1024.0 > mb)
        mb = (double)kids.ru_maxrss / 1024.0;
    return mb;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_stats bench_stats_of(const double *v, size_t n)
{
    bench_stats s = {0, 0, 0};
    double sorted[BENCH_MAX_EPOCHS];
    if (n == 0)
        return s;
    if (n > BENCH_MAX_EPOCHS)
        n = BENCH_MAX_EPOCHS;
    memcpy(sorted, v, n * sizeof *v);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    s.min = sorted[0];
    s.max = sorted[n - 1];
    s.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    return s;
}

bench_result *bench_results_add(bench_results *rs, const char *workload, const char *name)
{
    if (rs->n >= BENCH_MAX_RESULTS)
        return NULL;
    bench_result *r = &rs->r[rs->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->workload, sizeof r->workload, "%s", workload);
    snprintf(r->name, sizeof r->name, "%s", name);
    return r;
}

bool bench_parse_count(const char *prog, const char *flag, const char *text, size_t lo, size_t hi,
                       size_t *out)
{
    /* strtoull takes "-1" and " 7": only plain digits are a count. */
    bool digits = text[0] != '\0' && strspn(text, "0123456789") == strlen(text);
    errno = 0;
    unsigned long long v = digits ? strtoull(text, NULL, 10) : 0;
    if (!digits || errno == ERANGE || v < lo || v > hi) {
        if (prog != NULL)
            fprintf(stderr, "%s: %s: '%s' is not a number from %zu to %zu\n", prog, flag, text, lo,
                    hi);
        return false;
    }
    *out = (size_t)v;
    return true;
}
