/* data.c — the benchmark's training data: the synthetic stand-in for the seed's 1,027
 * Horses-or-Humans images (generated exactly as bench/peers/common.py does, so hood and its
 * peers train on the same pixels), and Fashion-MNIST read straight from Debian's IDX files.
 * Not an ingest path: the ingest workloads go through hood_dataset_from_directory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench.h"

#define SIDE 150
#define SEED_DATA_SEED 0x5EEDull
#define PI 3.14159265358979323846

/* splitmix64: one independent stream per sample, trivially identical in Python. */
static uint64_t sm_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double sm_uniform(uint64_t *s)
{
    return (double)(sm_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Each sample: a smooth random image (three separable cosine waves around 0.5) plus the class
 * pattern (0: horizontal stripes, 1: a Gaussian blob at a random place), clipped, quantised to
 * 8-bit levels and divided by 255 in float as an ingest does. The order of the random draws
 * is part of the contract with common.py's seed_data(). */
int bench_seed_data(float *X, int32_t *labels, size_t n)
{
    double t[SIDE], img[SIDE * SIDE], cx[SIDE], cy[SIDE];
    for (size_t i = 0; i < SIDE; i++)
        t[i] = (double)i / SIDE;
    for (size_t j = 0; j < n; j++) {
        uint64_t s = SEED_DATA_SEED + ((uint64_t)j << 32);
        int label = (int)(sm_next(&s) >> 63);
        for (size_t p = 0; p < SIDE * SIDE; p++)
            img[p] = 0.5;
        for (int k = 0; k < 3; k++) {
            double fx = 1.0 + 4.0 * sm_uniform(&s), fy = 1.0 + 4.0 * sm_uniform(&s);
            double px = 2.0 * PI * sm_uniform(&s), py = 2.0 * PI * sm_uniform(&s);
            double a = 0.1 + 0.1 * sm_uniform(&s);
            for (size_t i = 0; i < SIDE; i++) {
                cx[i] = cos(2.0 * PI * fx * t[i] + px);
                cy[i] = cos(2.0 * PI * fy * t[i] + py);
            }
            for (size_t r = 0; r < SIDE; r++)
                for (size_t c = 0; c < SIDE; c++)
                    img[r * SIDE + c] += a * (cy[r] * cx[c]);
        }
        double amp = 0.15 + 0.1 * sm_uniform(&s);
        double bx = 0.3 + 0.4 * sm_uniform(&s), by = 0.3 + 0.4 * sm_uniform(&s);
        for (size_t i = 0; i < SIDE; i++) {
            if (label == 0) {
                cy[i] = cos(2.0 * PI * 8.0 * t[i]);
            } else {
                cx[i] = exp(-((t[i] - bx) * (t[i] - bx)) / (2 * 0.15 * 0.15));
                cy[i] = exp(-((t[i] - by) * (t[i] - by)) / (2 * 0.15 * 0.15));
            }
        }
        float *col = X + j * (size_t)(SIDE * SIDE);
        for (size_t r = 0; r < SIDE; r++) {
            for (size_t c = 0; c < SIDE; c++) {
                double v = img[r * SIDE + c] + (label == 0 ? amp * cy[r] : amp * (cy[r] * cx[c]));
                v = v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v);
                col[r * SIDE + c] = (float)floor(v * 255.0 + 0.5) / 255.0f;
            }
        }
        labels[j] = label;
    }
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads a whole gzip file; *len bytes, malloc'd. */
static unsigned char *gz_slurp(const char *path, size_t *len, char *err, size_t err_len)
{
    gzFile f = gzopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "%s: cannot open", path);
        return NULL;
    }
    size_t cap = 1u << 20, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf != NULL) {
        if (n == cap) {
            unsigned char *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t want = cap - n > (1u << 30) ? (1u << 30) : cap - n;
        int got = gzread(f, buf + n, (unsigned)want);
        if (got < 0) {
            snprintf(err, err_len, "%s: gzip read error", path);
            free(buf);
            gzclose(f);
            return NULL;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    gzclose(f);
    if (buf == NULL)
        snprintf(err, err_len, "%s: out of memory", path);
    *len = n;
    return buf;
}

int bench_fmnist_idx(const char *dir, float **X, int32_t **labels, size_t *n, char *err,
                     size_t err_len)
{
    char ipath[1024], lpath[1024];
    snprintf(ipath, sizeof ipath, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(lpath, sizeof lpath, "%s/train-labels-idx1-ubyte.gz", dir);
    size_t ilen = 0, llen = 0;
    unsigned char *img = gz_slurp(ipath, &ilen, err, err_len);
    if (img == NULL)
        return -1;
    unsigned char *lab = gz_slurp(lpath, &llen, err, err_len);
    if (lab == NULL) {
        free(img);
        return -1;
    }
    int rc = -1;
    if (ilen < 16 || be32(img) != 2051 || be32(img + 8) != 28 || be32(img + 12) != 28) {
        snprintf(err, err_len, "%s: not a 28x28 IDX image file", ipath);
    } else if (llen < 8 || be32(lab) != 2049 || be32(lab + 4) != be32(img + 4)) {
        snprintf(err, err_len, "%s: not an IDX label file matching the images", lpath);
    } else {
        size_t count = be32(img + 4);
        if (ilen - 16 < count * 784 || llen - 8 < count) {
            snprintf(err, err_len, "%s: truncated", ipath);
        } else {
            *X = malloc(count * 784 * sizeof(float));
            *labels = malloc(count * sizeof(int32_t));
            if (*X == NULL || *labels == NULL) {
                free(*X);
                free(*labels);
                snprintf(err, err_len, "fmnist: out of memory");
            } else {
                for (size_t i = 0; i < count * 784; i++)
                    (*X)[i] = (float)img[16 + i] / 255.0f;
                for (size_t j = 0; j < count; j++)
                    (*labels)[j] = lab[8 + j];
                *n = count;
                rc = 0;
            }
        }
    }
    free(img);
    free(lab);
    return rc;
}

double bench_fmnist_idx_sum(const char *dir, size_t *n)
{
    /* Streams through a small buffer: the ingest check must not raise the peak RSS it reports. */
    char path[1024];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
    gzFile f = gzopen(path, "rb");
    if (f == NULL)
        return -1;
    unsigned char buf[1 << 16];
    uint64_t total = 0;
    size_t bytes = 0;
    int got;
    if (gzread(f, buf, 16) != 16 || be32(buf) != 2051) {
        gzclose(f);
        return -1;
    }
    *n = be32(buf + 4);
    while ((got = gzread(f, buf, sizeof buf)) > 0) {
        for (int i = 0; i < got; i++)
            total += buf[i];
        bytes += (size_t)got;
    }
    gzclose(f);
    if (got < 0 || bytes != *n * 784)
        return -1;
    return (double)total / 255.0;
}
