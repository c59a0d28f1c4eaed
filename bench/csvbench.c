/* csvbench.c — the `csv` workload: the seed's data set (1,027 rows of 22,500 values and the
 * label) written with hood_dataset_save_csv and read back with hood_dataset_load_csv; the read
 * must give the identical floats and labels before any time counts. The write includes hood's
 * fsync + rename (the atomic-write promise); numpy.savetxt in the peer does neither.
 * Not a peer: bench/peers/csv_numpy.py does the same with numpy.savetxt/loadtxt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "hood.h"

static bench_result *add(bench_results *out, const char *variant, int threads)
{
    char name[32];
    snprintf(name, sizeof name, "csv/%s", variant);
    bench_result *r = bench_results_add(out, "csv", name);
    if (r != NULL) {
        r->kind = BENCH_CSV;
        r->threads = threads;
        snprintf(r->variant, sizeof r->variant, "%s", variant);
    }
    return r;
}

static bool same_data(const hood_dataset *a, const hood_dataset *b, char *why, size_t len)
{
    size_t d = hood_dataset_features(a), n = hood_dataset_samples(a);
    if (hood_dataset_features(b) != d || hood_dataset_samples(b) != n) {
        snprintf(why, len, "read back %zu x %zu, wrote %zu x %zu", hood_dataset_features(b),
                 hood_dataset_samples(b), d, n);
        return false;
    }
    if (memcmp(hood_dataset_x(a), hood_dataset_x(b), d * n * sizeof(float)) != 0) {
        snprintf(why, len, "read-back X differs from the written X");
        return false;
    }
    const float *ya = hood_dataset_labels(a), *yb = hood_dataset_labels(b);
    for (size_t j = 0; ya != NULL && yb != NULL && j < n; j++) {
        if (ya[j] != yb[j]) {
            snprintf(why, len, "row %zu: label %g read back as %g", j + 1, (double)ya[j],
                     (double)yb[j]);
            return false;
        }
    }
    if (yb == NULL) {
        snprintf(why, len, "labels lost");
        return false;
    }
    return true;
}

int bench_csv(const bench_options *o, bench_results *out)
{
    bench_result *w = add(out, "write", 1), *rd = add(out, "read", 1);
    if (w == NULL || rd == NULL)
        return -1;
    const size_t d = 150 * 150, n = 1027;
    hood_dataset *ds = NULL;
    int32_t *labels = malloc(n * sizeof *labels);
    if (labels == NULL || hood_dataset_create(&ds, d, n) != HOOD_OK) {
        snprintf(w->what, sizeof w->what, "seed data: %s", hood_last_error());
        free(labels);
        return -1;
    }
    bench_seed_data(hood_dataset_x_mutable(ds), labels, n);
    hood_status st = hood_dataset_set_labels(ds, HOOD_LABELS_BINARY, labels, 2);
    free(labels);
    char path[1024];
    snprintf(path, sizeof path, "%s/hood-bench-%ld.csv", o->tmp_dir, (long)getpid());
    hood_csv_options co;
    hood_csv_options_init(&co);
    size_t reps = o->repeat ? o->repeat : 3;
    if (reps > BENCH_MAX_EPOCHS)
        reps = BENCH_MAX_EPOCHS;
    double wt[BENCH_MAX_EPOCHS], rt[BENCH_MAX_EPOCHS];
    struct stat sb = {0};
    for (size_t i = 0; st == HOOD_OK && i < reps; i++) {
        double t0 = bench_now();
        st = hood_dataset_save_csv(ds, path, &co);
        wt[i] = bench_now() - t0;
        if (st != HOOD_OK)
            break;
        if (stat(path, &sb) != 0) {
            snprintf(w->what, sizeof w->what, "%.200s: written but cannot stat", path);
            break;
        }
        hood_dataset *back = NULL;
        t0 = bench_now();
        st = hood_dataset_load_csv(path, &co, &back);
        rt[i] = bench_now() - t0;
        if (st != HOOD_OK)
            break;
        if (i == 0) {
            char why[200];
            bool ok = same_data(ds, back, why, sizeof why);
            if (ok)
                snprintf(why, sizeof why,
                         "%zu rows x %zu columns, %.1f MB, read back bit-identical", n, d + 1,
                         (double)sb.st_size / 1e6);
            w->ok = rd->ok = ok;
            snprintf(w->what, sizeof w->what, "%s", why);
            snprintf(rd->what, sizeof rd->what, "%s", why);
        }
        hood_dataset_free(back);
        if (!w->ok)
            break;
    }
    if (st != HOOD_OK) {
        w->ok = rd->ok = false;
        snprintf(w->what, sizeof w->what, "%s", hood_last_error());
        snprintf(rd->what, sizeof rd->what, "%s", w->what);
    }
    unlink(path); /* results and data stay out of the tree and out of /tmp */
    hood_dataset_free(ds);
    if (!w->ok)
        return 0;
    w->seconds = bench_stats_of(wt, reps);
    rd->seconds = bench_stats_of(rt, reps);
    w->io_bytes = rd->io_bytes = (double)sb.st_size;
    w->count = rd->count = n;
    w->matrix_bytes = rd->matrix_bytes = 4.0 * (double)d * (double)n;
    w->peak_rss_mb = rd->peak_rss_mb = bench_peak_rss_mb();
    return 0;
}
