/* bench.h — the harness's shared types: one fixed-size result record per measured figure (so a
 * forked workload can send its results to the parent through a pipe as plain bytes), the
 * options, and the workload entry points. Internal to bench/; not part of libhood. */
#ifndef HOOD_BENCH_H
#define HOOD_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hood.h"

#define BENCH_MAX_EPOCHS 64
#define BENCH_MAX_RESULTS 64

typedef enum bench_kind { BENCH_TRAIN, BENCH_INGEST, BENCH_CSV, BENCH_LIMIT } bench_kind;

typedef struct bench_epoch {
    double seconds, loss, gather, forward, backward, update;
    double cpu; /* process CPU seconds (all threads): on a loaded machine, 1-thread CPU time
                 * is what the wall time would be without the contention */
} bench_epoch;

typedef struct bench_stats {
    double min, median, max;
} bench_stats;

typedef struct bench_result {
    char name[64];     /* "seed/b32", "ingest-photos", "csv/write", "limits/sgemm 2048^3" */
    char workload[24]; /* "seed", "fmnist", "ingest-photos", "ingest-fmnist", "csv", "limits" */
    char variant[16];  /* "b32", "full", "b128", "write", "read", ... */
    bench_kind kind;
    int threads;
    bool ok;        /* the result check passed */
    char what[256]; /* what the check saw, or what went wrong */
    double peak_rss_mb;
    /* train */
    bool x_u8; /* X held as 8-bit codes */
    size_t batch, samples, n_epochs; /* n_epochs includes the warm-up epoch 0 */
    bench_epoch epochs[BENCH_MAX_EPOCHS];
    bench_stats epoch_s;   /* over the epochs after the warm-up */
    bench_stats epoch_cpu; /* the same epochs' CPU seconds */
    double split[4];       /* gather, forward, backward, update: median epoch's seconds */
    double flops, bytes;   /* per epoch: exact FLOPs; the bytes the lower bound counts */
    double bound_s;        /* max(flops / peak, bytes / bandwidth); 0 when not measured */
    double sgemm_s;        /* the epoch's sgemm calls alone (limits); 0 when not measured */
    /* ingest, csv */
    size_t count;        /* images or rows */
    double io_bytes;     /* source bytes decoded (ingest) or file bytes (csv) */
    double matrix_bytes; /* the matrix the run produced */
    bench_stats seconds; /* per repetition */
    /* limits */
    double value;
    char unit[16]; /* "GFLOP/s", "GB/s", "ms" */
} bench_result;

typedef struct bench_results {
    size_t n;
    bench_result r[BENCH_MAX_RESULTS];
} bench_results;

typedef struct bench_options {
    int threads;             /* hood's threads (BLAS and ingest) */
    size_t epochs;           /* training epochs including the warm-up; 0 = the workload's default */
    size_t repeat;           /* ingest and csv repetitions */
    size_t samples;          /* fmnist, cnn: the first N training samples only; 0 = all */
    const char *variants[8]; /* training variants to run; none = all */
    size_t n_variants;
    const char *photos_dir, *fmnist_dir, *idx_dir, *tmp_dir;
    bool jpeg_draft; /* ingest with JPEG shrink-on-load (hood_preprocess.jpeg_draft) */
    int optimizer;   /* training workloads' hood_optimizer_kind (default SGD, as the peers) */
    bool x_u8;       /* training workloads hold X as 8-bit codes (hood_dataset_wrap_u8), as an
                        ingest of their images would; default float32, as the peers' arrays */
    /* measured by `limits`, used for the lower bounds (0 = unknown) */
    double peak_gflops, bandwidth_gbs;
} bench_options;

/* A training workload's shape: layer widths and activations, loss, samples, variants. */
typedef struct bench_train_spec {
    const char *name;
    size_t input, n_layers, units[4];
    int act[4]; /* hood_activation */
    int loss;   /* hood_loss */
    size_t samples;
    const char *variants[2];
    size_t batches[2];
    size_t default_epochs;
    /* cnn: 28x28x1 input, conv units[0] 3x3 relu, maxpool 2, conv units[1] 3x3 relu, maxpool 2,
     * flatten, dropout 0.5, dense units[2] relu, dense units[3] softmax (n_layers counts the
     * conv and dense layers only) */
    bool cnn;
} bench_train_spec;

const bench_train_spec *bench_train_spec_find(const char *name);
bool bench_variant_wanted(const bench_options *o, const char *variant);
/* Exact FLOPs of one epoch of n samples (see train.c for the formula). */
double bench_train_flops(const bench_train_spec *s, size_t n);
size_t bench_train_params(const bench_train_spec *s);

/* train.c's pieces, shared with the MPI harness (mpi.c). The workload's whole data set, float32
 * or (o->x_u8) 8-bit codes: a dataset that may wrap *owned_x (free it after the dataset);
 * returns 0 or -1 with err. */
int bench_train_load(const bench_train_spec *s, const bench_options *o, hood_dataset **out,
                     void **owned_x, char *err, size_t err_len);
/* The workload's model, compiled with Keras' SGD and init seed 42, at `threads` threads. */
hood_status bench_train_model(const bench_train_spec *s, int threads, int optimizer,
                              hood_model **out);

/* data.c: the synthetic seed set (identical to bench/peers/common.py) and Fashion-MNIST. */
/* X: 22500 x n column-major in [0,1] (8-bit levels / 255); labels n values 0/1. */
int bench_seed_data(float *X, int32_t *labels, size_t n);
/* Reads the gzip'd IDX training set from dir: *X (784 x n, /255) and *labels (n); malloc'd. */
int bench_fmnist_idx(const char *dir, float **X, int32_t **labels, size_t *n, char *err,
                     size_t err_len);

/* Sum of the IDX training bytes / 255 (streamed; no big allocation), -1 on error. */
double bench_fmnist_idx_sum(const char *dir, size_t *n);

/* Workloads: append their results; return 0, or -1 when the workload could not run at all
 * (the reason is in the last result's `what`). */
int bench_train(const char *workload, const bench_options *o, bench_results *out);
int bench_ingest(const char *workload, const bench_options *o, bench_results *out);
int bench_csv(const bench_options *o, bench_results *out);
int bench_limits(const bench_options *o, const char *const *workloads, size_t n_workloads,
                 bench_results *out);

/* machine.c */
typedef struct bench_machine {
    char cpu[128];
    int cores;
    char blas[160];
    char coretype[32], blis_arch[32];
    char hood_version[32];
    double loadavg; /* 1-minute load average at the start: a shared machine's noise, recorded */
} bench_machine;
void bench_machine_get(bench_machine *m);
double bench_now(void);
double bench_cpu_now(void); /* this process's CPU seconds, all threads */
double bench_peak_rss_mb(void);
bench_stats bench_stats_of(const double *v, size_t n);
bench_result *bench_results_add(bench_results *rs, const char *workload, const char *name);
/* Parses a command-line count of PROG's FLAG: digits only, LO..HI; on anything else prints
 * "PROG: FLAG: ..." to stderr (unless PROG is NULL: MPI ranks other than 0) and returns false
 * (a typo must not silently run a different benchmark). */
bool bench_parse_count(const char *prog, const char *flag, const char *text, size_t lo, size_t hi,
                       size_t *out);

/* report.c */
/* f: stdout, or stderr when the JSON goes to stdout */
void bench_print_table(FILE *f, const bench_results *rs);
int bench_write_json(const char *path, const bench_machine *m, int threads,
                     const bench_results *rs);
int bench_write_svg(const char *path, const bench_results *rs);

#endif
