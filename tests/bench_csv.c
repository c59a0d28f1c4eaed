/* bench_csv.c — CSV write and read throughput on the seed's shape (1,027 samples x 22,500
 * features): k/255 pixel values, then random floats. Checks the round trip is bit-exact first,
 * then reports MB/s (file bytes / CPU seconds of the process; writes include the fsync
 * and rename). Not built by
 * meson (the bench harness will fold it in); build and run with:
 *   cc -O2 -std=c11 -Iinclude tests/bench_csv.c BUILD/libhood.so -o /tmp/bench_csv -lm && \
 *   LD_LIBRARY_PATH=BUILD /tmp/bench_csv [DIR]      (DIR defaults to /dev/shm) */
#define _POSIX_C_SOURCE 200809L
#include "hood.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* CPU time of this process: on a shared, loaded machine wall time says more about the
 * neighbours than about the code (the CSV code is single-threaded). */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int run(const char *label, hood_dataset *ds, const char *path)
{
    double best_w = 1e30, best_r = 1e30;
    struct stat st;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        if (hood_dataset_save_csv(ds, path, NULL) != HOOD_OK) {
            fprintf(stderr, "save: %s\n", hood_last_error());
            return 1;
        }
        double t1 = now();
        hood_dataset *back = NULL;
        if (hood_dataset_load_csv(path, NULL, &back) != HOOD_OK) {
            fprintf(stderr, "load: %s\n", hood_last_error());
            return 1;
        }
        double t2 = now();
        size_t count = hood_dataset_features(ds) * hood_dataset_samples(ds);
        if (memcmp(hood_dataset_x(ds), hood_dataset_x(back), count * sizeof(float)) != 0 ||
            memcmp(hood_dataset_labels(ds), hood_dataset_labels(back),
                   hood_dataset_samples(ds) * sizeof(float)) != 0) {
            fprintf(stderr, "%s: round trip is not bit-exact\n", label);
            return 1;
        }
        hood_dataset_free(back);
        best_w = t1 - t0 < best_w ? t1 - t0 : best_w;
        best_r = t2 - t1 < best_r ? t2 - t1 : best_r;
    }
    stat(path, &st);
    double mb = (double)st.st_size / 1e6;
    printf("%-14s %7.1f MB  write %6.1f MB/s (%.3f s)  read %6.1f MB/s (%.3f s)  best of 3 (CPU time)\n",
           label, mb, mb / best_w, best_w, mb / best_r, best_r);
    remove(path);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/dev/shm";
    char path[512];
    snprintf(path, sizeof path, "%s/hood-bench.csv", dir);
    const size_t d = 22500, n = 1027;
    hood_dataset *ds = NULL;
    if (hood_dataset_create(&ds, d, n) != HOOD_OK)
        return 1;
    float *x = hood_dataset_x_mutable(ds);
    int32_t *y = malloc(n * sizeof *y);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t k = 0; k < d * n; k++)
        x[k] = (float)(next(&s) % 256) / 255.0f;
    for (size_t j = 0; j < n; j++)
        y[j] = (int32_t)(next(&s) % 2);
    hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 2);
    int rc = run("k/255", ds, path);
    /* random floats: standard normal (Box-Muller), the kind of values a feature matrix holds */
    for (size_t k = 0; k < d * n; k++) {
        double u1 = ((double)(next(&s) >> 11) + 1.0) / 9007199254740993.0;
        double u2 = (double)(next(&s) >> 11) / 9007199254740992.0;
        x[k] = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
    rc |= run("normal floats", ds, path);
    hood_dataset_free(ds);
    free(y);
    return rc;
}
