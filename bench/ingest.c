/* ingest.c — the ingest workloads (`ingest-photos`, `ingest-fmnist`): a whole folder through
 * hood_dataset_from_directory, repeated, after checking the matrix (shape, label counts, value
 * range; Fashion-MNIST's exact IDX sum; the photos' column means against full-size luma).
 * Not a peer: bench/peers/ingest_{pillow,torchvision}.py do the same folders. */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "hood.h"

typedef struct ingest_spec {
    const char *name;
    size_t height, width;
    double src_bytes; /* full-size source pixels x bands: "MB/s decoded" counts these */
    size_t src_side;  /* source images are src_side x src_side */
} ingest_spec;

static const ingest_spec ispecs[] = {
    {"ingest-photos", 150, 150, 300.0 * 300.0 * 3.0, 300},
    {"ingest-fmnist", 28, 28, 28.0 * 28.0, 28},
};

static bool image_name(const char *n)
{
    static const char *const exts[] = {".bmp", ".gif", ".jpeg", ".jpg", ".png"};
    if (n[0] == '.')
        return false;
    const char *dot = strrchr(n, '.');
    if (dot == NULL)
        return false;
    char low[8];
    size_t len = strlen(dot);
    if (len >= sizeof low)
        return false;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)dot[i]);
    low[len] = '\0';
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcmp(low, exts[i]) == 0)
            return true;
    return false;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Files per class folder, counted independently of hood (the check's reference). */
static int count_files(const char *root, size_t *counts, size_t max_classes, size_t *classes)
{
    DIR *d = opendir(root);
    if (d == NULL)
        return -1;
    char names[64][256];
    size_t k = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && k < 64) {
        char p[4096];
        struct stat sb;
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%.3800s/%.255s", root, e->d_name);
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            snprintf(names[k++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    /* byte order, as Keras sorts class folders */
    qsort(names, k, sizeof names[0], cmp_name);
    for (size_t c = 0; c < k && c < max_classes; c++) {
        char p[4096];
        snprintf(p, sizeof p, "%.3800s/%.255s", root, names[c]);
        counts[c] = 0;
        DIR *cd = opendir(p);
        if (cd == NULL)
            return -1;
        while ((e = readdir(cd)) != NULL)
            counts[c] += image_name(e->d_name);
        closedir(cd);
    }
    *classes = k < max_classes ? k : max_classes;
    return 0;
}

static void check(const ingest_spec *sp, const bench_options *o, const char *dir,
                  const hood_dataset *ds, bench_result *r)
{
    size_t counts[64], classes = 0, total = 0;
    size_t d = sp->height * sp->width, n = hood_dataset_samples(ds);
    char why[200] = "";
    if (count_files(dir, counts, 64, &classes) != 0)
        snprintf(why, sizeof why, "cannot list %s", dir);
    for (size_t c = 0; c < classes; c++)
        total += counts[c];
    if (!why[0] && (hood_dataset_features(ds) != d || n != total))
        snprintf(why, sizeof why, "matrix %zu x %zu, expected %zu x %zu", hood_dataset_features(ds),
                 n, d, total);
    /* labels: the count per class must match the folders */
    const float *y = hood_dataset_labels(ds);
    size_t got[64] = {0};
    for (size_t j = 0; !why[0] && y != NULL && j < n; j++) {
        size_t c = (size_t)y[j];
        if (y[j] < 0 || c >= classes)
            snprintf(why, sizeof why, "sample %zu has label %g", j, (double)y[j]);
        else
            got[c]++;
    }
    for (size_t c = 0; !why[0] && c < classes; c++)
        if (got[c] != counts[c])
            snprintf(why, sizeof why, "class %zu has %zu samples, folder has %zu files", c, got[c],
                     counts[c]);
    const float *X = hood_dataset_x(ds);
    double sum = 0;
    for (size_t i = 0; !why[0] && i < d * n; i++) {
        if (!(X[i] >= 0.0f && X[i] <= 1.0f)) {
            snprintf(why, sizeof why, "value %g at %zu outside [0, 1]", (double)X[i], i);
            break;
        }
        sum += X[i];
    }
    int len = snprintf(r->what, sizeof r->what, "%zu x %zu, sum %.1f", d, n, sum);
    if (!why[0] && strcmp(sp->name, "ingest-fmnist") == 0) {
        size_t idx_n = 0;
        double ref = bench_fmnist_idx_sum(o->idx_dir, &idx_n);
        if (ref >= 0 && idx_n == n && fabs(sum - ref) > 1e-6 * ref)
            snprintf(why, sizeof why, "sum %.3f != IDX sum %.3f", sum, ref);
        else if (len > 0 && (size_t)len < sizeof r->what)
            snprintf(r->what + len, sizeof r->what - (size_t)len, " (IDX sum %.1f%s)", ref,
                     idx_n == n ? "" : ", other sample count: not compared");
    } else if (!why[0]) {
        /* every 100th column's mean against the same file's full-size luma mean */
        hood_preprocess full;
        hood_preprocess_init(&full);
        full.height = full.width = sp->src_side;
        float *col = malloc(sp->src_side * sp->src_side * sizeof *col);
        double worst = 0;
        for (size_t j = 0; col != NULL && !why[0] && j < n; j += 100) {
            const char *path = hood_dataset_path(ds, j);
            if (path == NULL || hood_image_load(path, &full, col) != HOOD_OK) {
                snprintf(why, sizeof why, "cannot reload sample %zu: %s", j, hood_last_error());
                break;
            }
            double a = 0, b = 0;
            for (size_t i = 0; i < sp->src_side * sp->src_side; i++)
                a += col[i];
            for (size_t i = 0; i < d; i++)
                b += X[j * d + i];
            a /= (double)(sp->src_side * sp->src_side);
            b /= (double)d;
            worst = fabs(a - b) > worst ? fabs(a - b) : worst;
        }
        free(col);
        if (!why[0] && worst > 0.02)
            snprintf(why, sizeof why, "a column mean differs from its full-size mean by %.3f",
                     worst);
        else if (len > 0 && (size_t)len < sizeof r->what)
            snprintf(r->what + len, sizeof r->what - (size_t)len,
                     ", max |column mean - full-size mean| %.4f", worst);
    }
    r->ok = !why[0];
    if (why[0])
        snprintf(r->what, sizeof r->what, "%s", why);
}

int bench_ingest(const char *workload, const bench_options *o, bench_results *out)
{
    const ingest_spec *sp = strcmp(workload, "ingest-photos") == 0 ? &ispecs[0] : &ispecs[1];
    const char *dir = sp == &ispecs[0] ? o->photos_dir : o->fmnist_dir;
    bench_result *r = bench_results_add(out, workload, workload);
    if (r == NULL)
        return -1;
    r->kind = BENCH_INGEST;
    r->threads = o->threads;
    hood_ingest_options io;
    hood_ingest_options_init(&io);
    io.image.height = sp->height;
    io.image.width = sp->width;
    io.image.color_mode = HOOD_COLOR_GRAYSCALE;
    io.image.jpeg_draft = o->jpeg_draft;
    io.shuffle = false; /* file order: the check compares with the folders */
    io.threads = o->threads;
    io.strict = true; /* a skipped file would make the timing lie */
    size_t reps = o->repeat ? o->repeat : 3;
    if (reps > BENCH_MAX_EPOCHS)
        reps = BENCH_MAX_EPOCHS;
    double times[BENCH_MAX_EPOCHS];
    for (size_t i = 0; i < reps; i++) {
        hood_dataset *ds = NULL;
        double t0 = bench_now();
        hood_status st = hood_dataset_from_directory(dir, &io, &ds, NULL);
        times[i] = bench_now() - t0;
        if (st != HOOD_OK) {
            snprintf(r->what, sizeof r->what, "%s: %s", dir, hood_last_error());
            return -1;
        }
        if (i == 0) {
            check(sp, o, dir, ds, r); /* the check comes first; a failed one stops the timing */
            r->count = hood_dataset_samples(ds);
            r->matrix_bytes = 4.0 * (double)hood_dataset_features(ds) * (double)r->count;
        }
        hood_dataset_free(ds);
        if (!r->ok)
            return 0;
    }
    r->seconds = bench_stats_of(times, reps);
    r->io_bytes = sp->src_bytes * (double)r->count;
    r->peak_rss_mb = bench_peak_rss_mb();
    return 0;
}
