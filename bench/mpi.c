/* mpi.c — hood-bench-mpi: the seed and fmnist training workloads of hood-bench, run under
 * mpirun as data-parallel training (issue 7): per-epoch time, the all-reduce's time and bytes
 * per step next to the backward pass's time per step, and a bare all-reduce of the same size
 * timed alone (the transport's cost without any wait for a slower rank). Rank 0 prints a table
 * and writes JSON. Not the scaling verdict: scripts/bench-compare --mpi runs np = 1 and 2 and
 * divides. With one rank it runs the plain single-process fit (the reference). Built with
 * -Dbench=true when MPI is found. */
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "hood.h"
#include "ranks_sum.h"

/* The all-reduce hood's fit calls, timed. The gradient step's call carries the whole gradient
 * arena (plus a few sums); the handshake's and validation's carry only the sums. */
typedef struct timed_reduce {
    ranks_sum *sum; /* the same sum as `mpirun hood train` (cli/ranks_sum.c), or --wait's */
    size_t params;
    double step_s;            /* time inside the gradient calls */
    size_t steps, step_count; /* gradient calls; floats per gradient call */
    double other_s;
    size_t other_calls;
} timed_reduce;

static hood_status allreduce(void *user, float *values, size_t count)
{
    timed_reduce *t = user;
    double start = MPI_Wtime();
    int rc = ranks_sum_values(t->sum, values, count);
    double took = MPI_Wtime() - start;
    if (count >= t->params) {
        t->step_s += took;
        t->steps++;
        t->step_count = count;
    } else {
        t->other_s += took;
        t->other_calls++;
    }
    return rc == MPI_SUCCESS ? HOOD_OK : HOOD_EMPI;
}

/* Per epoch: the all-reduce's share, read at each epoch's end. */
typedef struct epoch_marks {
    timed_reduce *t;
    double last_s, step_s[BENCH_MAX_EPOCHS], cpu_last, cpu[BENCH_MAX_EPOCHS];
    size_t last_steps, steps[BENCH_MAX_EPOCHS], n;
} epoch_marks;

static int on_epoch(void *user, hood_model *model, const hood_epoch_log *log)
{
    (void)model;
    (void)log;
    epoch_marks *m = user;
    double now = bench_cpu_now();
    if (m->n < BENCH_MAX_EPOCHS) {
        m->step_s[m->n] = m->t->step_s - m->last_s;
        m->steps[m->n] = m->t->steps - m->last_steps;
        m->cpu[m->n] = now - m->cpu_last;
        m->n++;
    }
    m->last_s = m->t->step_s;
    m->last_steps = m->t->steps;
    m->cpu_last = now;
    return 0;
}

/* This rank's hood_shard_range of the whole data set, as a dataset of its own. */
static hood_status take_shard(const hood_dataset *all, int rank, int size, hood_dataset **out,
                              size_t *first)
{
    size_t n = hood_dataset_samples(all), d = hood_dataset_features(all), len;
    hood_shard_range(n, (size_t)rank, (size_t)size, first, &len);
    hood_dataset *part = NULL;
    hood_status st = hood_dataset_create(&part, d, len);
    if (st != HOOD_OK)
        return st;
    memcpy(hood_dataset_x_mutable(part), hood_dataset_x(all) + *first * d, len * d * sizeof(float));
    size_t w = hood_dataset_label_width(all);
    st = hood_dataset_set_label_values(part, hood_dataset_label_mode(all),
                                       hood_dataset_labels(all) + *first * w, w,
                                       hood_dataset_num_classes(all));
    if (st != HOOD_OK) {
        hood_dataset_free(part);
        return st;
    }
    *out = part;
    return HOOD_OK;
}

/* The mean seconds of one bare sum of count floats, the fit's way (after warm-up calls). */
static double bare_allreduce(size_t count, int reps, ranks_sum *sum)
{
    float *buf = calloc(count, sizeof *buf);
    if (buf == NULL)
        return -1;
    for (int i = 0; i < 5; i++)
        ranks_sum_values(sum, buf, count);
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    for (int i = 0; i < reps; i++)
        ranks_sum_values(sum, buf, count);
    double took = (MPI_Wtime() - start) / reps;
    free(buf);
    MPI_Allreduce(MPI_IN_PLACE, &took, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return took;
}

typedef struct run_result {
    bool ok;
    char what[256];
    size_t epochs, batch, steps;
    double seconds[BENCH_MAX_EPOCHS], loss[BENCH_MAX_EPOCHS];
    double backward[BENCH_MAX_EPOCHS], forward[BENCH_MAX_EPOCHS], reduce[BENCH_MAX_EPOCHS];
    double reduce_min[BENCH_MAX_EPOCHS], cpu[BENCH_MAX_EPOCHS];
    size_t step_count;
    double bare_s, median_s;
    size_t median_epoch;
    ranks_sum_way way; /* as taken */
} run_result;

static double median_of(const double *v, size_t n)
{
    bench_stats s = bench_stats_of(v, n);
    return s.median;
}

static void run_variant(const bench_train_spec *s, size_t vi, const hood_dataset *ds, size_t first,
                        size_t global_n, int rank, int size, int threads, size_t epochs,
                        ranks_sum_way way, run_result *r)
{
    memset(r, 0, sizeof *r);
    r->batch = s->batches[vi] > global_n ? global_n : s->batches[vi];
    timed_reduce t = {.params = 0};
    for (size_t l = 0, in = s->input; l < s->n_layers; in = s->units[l], l++)
        t.params += in * s->units[l] + s->units[l];
    /* collective, so on every rank whatever happens next; + 64: the step's sums */
    if (ranks_sum_create(&t.sum, MPI_COMM_WORLD, way, t.params + 64) != MPI_SUCCESS)
        MPI_Abort(MPI_COMM_WORLD, 1);
    r->way = ranks_sum_taken(t.sum);
    hood_model *m = NULL;
    hood_status st = bench_train_model(s, threads, HOOD_OPT_SGD, &m);
    epoch_marks marks = {.t = &t};
    if (st == HOOD_OK) {
        hood_shard shard = {
            .global_samples = global_n, .first = first, .allreduce = allreduce, .user = &t};
        hood_fit_options fo;
        hood_fit_options_init(&fo);
        fo.epochs = epochs;
        fo.batch_size = r->batch;
        fo.shuffle = true;
        fo.seed = 1;
        fo.on_epoch_end = on_epoch;
        fo.user = &marks;
        fo.shard = size > 1 ? &shard : NULL;
        marks.cpu_last = bench_cpu_now();
        st = hood_model_fit(m, ds, &fo);
    }
    /* every rank learns whether every rank's fit worked */
    int bad = st != HOOD_OK, any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_bad) {
        snprintf(r->what, sizeof r->what, "fit failed: %s",
                 bad ? hood_last_error() : "on another rank");
        hood_model_free(m);
        ranks_sum_free(t.sum);
        return;
    }
    size_t h = hood_model_history_length(m);
    r->epochs = h < BENCH_MAX_EPOCHS ? h : BENCH_MAX_EPOCHS;
    for (size_t e = 0; e < r->epochs; e++) {
        const hood_epoch_log *l = hood_model_history(m, e);
        /* hood's backward time of a sharded step includes its all-reduce: take it out */
        double reduce = e < marks.n ? marks.step_s[e] : 0;
        double v[5] = {l->seconds, l->backward_seconds - reduce, l->forward_seconds, reduce,
                       e < marks.n ? marks.cpu[e] : 0};
        double vmax[5], reduce_min;
        /* an epoch lasts as long as its slowest rank; the all-reduce's least time over the
         * ranks is the closest to the transport's own cost (the others include waiting) */
        MPI_Reduce(v, vmax, 5, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        MPI_Reduce(&v[3], &reduce_min, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
        r->seconds[e] = vmax[0];
        r->backward[e] = vmax[1];
        r->forward[e] = vmax[2];
        r->reduce[e] = vmax[3];
        r->reduce_min[e] = reduce_min;
        r->cpu[e] = vmax[4];
        r->loss[e] = l->loss;
    }
    r->steps = (global_n + r->batch - 1) / r->batch;
    r->step_count = t.step_count > 0 ? t.step_count : t.params;
    hood_model_free(m);
    r->bare_s = size > 1 ? bare_allreduce(r->step_count, 200, t.sum) : 0;
    ranks_sum_free(t.sum);
    if (rank != 0)
        return;
    double secs[BENCH_MAX_EPOCHS];
    for (size_t e = 1; e < r->epochs; e++)
        secs[e - 1] = r->seconds[e];
    r->median_s = r->epochs > 1 ? median_of(secs, r->epochs - 1) : r->seconds[0];
    r->median_epoch = r->epochs > 1 ? 1 : 0;
    for (size_t e = 1; e < r->epochs; e++)
        if (fabs(r->seconds[e] - r->median_s) < fabs(r->seconds[r->median_epoch] - r->median_s))
            r->median_epoch = e;
    bool finite = true;
    for (size_t e = 0; e < r->epochs; e++)
        finite &= isfinite(r->loss[e]) != 0;
    r->ok = finite && r->epochs >= 2 &&
            (strcmp(s->variants[vi], "full") == 0 || r->loss[r->epochs - 1] < r->loss[0]);
    snprintf(r->what, sizeof r->what, "loss %.4f -> %.4f%s", r->loss[0], r->loss[r->epochs - 1],
             r->ok ? "" : " (CHECK FAILED)");
}

static void write_json(FILE *f, const bench_train_spec *s, size_t vi, const run_result *r, int size,
                       int threads, size_t global_n, const bench_machine *mc, bool comma)
{
    size_t e = r->median_epoch;
    double steps = (double)r->steps;
    fprintf(f,
            "%s{\"schema\": \"hood-bench-mpi/1\", \"workload\": \"%s\", \"variant\": \"%s\", "
            "\"np\": %d, \"threads\": %d, \"sum\": \"%s\", \"batch\": %zu, \"samples\": %zu, "
            "\"ok\": %s, "
            "\"what\": \"%s\",\n \"cpu\": \"%s\", \"cores\": %d, \"loadavg\": %.2f, "
            "\"params\": %zu, \"allreduce_floats\": %zu, \"gradient_bytes_per_step\": %zu, "
            "\"steps_per_epoch\": %zu, \"flops_per_epoch\": %.6g,\n \"epoch_s_median\": %.6f, "
            "\"median_epoch\": %zu, \"allreduce_s_per_step\": %.9f, "
            "\"allreduce_min_rank_s_per_step\": %.9f, \"bare_allreduce_s\": %.9f, "
            "\"backward_s_per_step\": %.9f, \"forward_s_per_step\": %.9f,\n \"epochs\": [",
            comma ? ",\n" : "", s->name, s->variants[vi], size, threads, ranks_sum_way_name(r->way),
            r->batch, global_n, r->ok ? "true" : "false", r->what, mc->cpu, mc->cores, mc->loadavg,
            bench_train_params(s), r->step_count, 4 * r->step_count, r->steps,
            bench_train_flops(s, global_n), r->median_s, e, r->reduce[e] / steps,
            r->reduce_min[e] / steps, r->bare_s, r->backward[e] / steps, r->forward[e] / steps);
    for (size_t k = 0; k < r->epochs; k++)
        fprintf(f,
                "%s{\"seconds\": %.6f, \"loss\": %.6f, \"backward_s\": %.6f, \"forward_s\": %.6f, "
                "\"allreduce_s\": %.6f, \"allreduce_min_rank_s\": %.6f, \"cpu_s\": %.6f}",
                k ? ", " : "", r->seconds[k], r->loss[k], r->backward[k], r->forward[k],
                r->reduce[k], r->reduce_min[k], r->cpu[k]);
    fprintf(f, "]}");
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mpirun -np N hood-bench-mpi [options] seed|fmnist\n"
               "  --threads N      BLAS threads per rank (default 1)\n"
               "  --epochs N       epochs including one warm-up (default: the workload's)\n"
               "  --variant V      b32, full (seed), b32, b128 (fmnist); repeatable; default all\n"
               "  --idx-dir DIR    Fashion-MNIST IDX files (default "
               "/usr/share/datasets/fashion-mnist)\n"
               "  --json FILE      rank 0 writes the results as a JSON array\n"
               "  --wait W         the sum over the ranks: shared (default, as hood train: an MPI\n"
               "                   shared window on one node, else poll), poll (MPI_Iallreduce,\n"
               "                   tested and napped on) or spin (MPI_Allreduce)\n");
}

/* What the command line asks for. */
typedef struct mpi_args {
    bench_options o;
    const char *json;
    ranks_sum_way way;         /* --wait shared (default), poll or spin */
    const bench_train_spec *s; /* the workload */
} mpi_args;

/* The options and the workload operand into *a: -1 to go on, otherwise the exit status (0
 * after --help). Only rank 0 says what is wrong; every rank sees the same arguments and
 * stops. */
static int parse_args(int argc, char **argv, int rank, mpi_args *a)
{
    bench_options *o = &a->o;
    static const struct option longs[] = {
        {"threads", required_argument, NULL, 't'}, {"epochs", required_argument, NULL, 'e'},
        {"variant", required_argument, NULL, 'v'}, {"idx-dir", required_argument, NULL, 'i'},
        {"json", required_argument, NULL, 'j'},    {"wait", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *prog = rank == 0 ? "hood-bench-mpi" : NULL;
    bool bad_args = false;
    size_t count = 1;
    int c;
    while ((c = getopt_long(argc, argv, "t:e:v:j:h", longs, NULL)) != -1) {
        switch (c) {
        case 't':
            bad_args |= !bench_parse_count(prog, "--threads", optarg, 1, 256, &count);
            o->threads = (int)count;
            break;
        case 'e':
            bad_args |=
                !bench_parse_count(prog, "--epochs", optarg, 2, BENCH_MAX_EPOCHS, &o->epochs);
            break;
        case 'v':
            if (o->n_variants == sizeof o->variants / sizeof o->variants[0]) {
                if (prog != NULL)
                    fprintf(stderr, "%s: --variant: at most %zu\n", prog, o->n_variants);
                bad_args = true;
                break;
            }
            o->variants[o->n_variants++] = optarg;
            break;
        case 'i':
            o->idx_dir = optarg;
            break;
        case 'j':
            a->json = optarg;
            break;
        case 'w': {
            static const ranks_sum_way ways[] = {RANKS_SUM_SHARED, RANKS_SUM_POLL, RANKS_SUM_SPIN};
            size_t k = 0;
            while (k < 3 && strcmp(optarg, ranks_sum_way_name(ways[k])) != 0)
                k++;
            if (k == 3) {
                if (prog != NULL)
                    fprintf(stderr, "%s: --wait: shared, poll or spin (got '%s')\n", prog, optarg);
                bad_args = true;
            } else {
                a->way = ways[k];
            }
            break;
        }
        case 'h':
            if (rank == 0)
                usage(stdout);
            return 0;
        default:
            if (rank == 0)
                usage(stderr);
            return 2;
        }
    }
    if (bad_args)
        return 2;
    a->s = optind + 1 == argc ? bench_train_spec_find(argv[optind]) : NULL;
    if (a->s == NULL) {
        if (rank == 0)
            usage(stderr);
        return 2;
    }
    return -1;
}

/* This rank's share of the workload's data. */
typedef struct rank_data {
    hood_dataset *part;
    void *owned_x; /* the samples part borrows, when it is the whole set */
    size_t first, global_n;
} rank_data;

/* Every rank makes the whole set and keeps its shard (the bench's data are generated or read
 * from IDX, not ingested: hood train's sharded ingest is tested in tests/mpi). Returns 0, or 1
 * on every rank when any rank failed (each says why). */
static int load_rank_data(const mpi_args *a, int rank, int size, rank_data *d)
{
    char err[256] = "";
    hood_dataset *all = NULL;
    int bad = bench_train_load(a->s, &a->o, &all, &d->owned_x, err, sizeof err) != 0;
    if (!bad) {
        d->global_n = hood_dataset_samples(all);
        if (size > 1) {
            bad = take_shard(all, rank, size, &d->part, &d->first) != HOOD_OK;
            if (bad)
                snprintf(err, sizeof err, "shard: %s", hood_last_error());
            hood_dataset_free(all);
            free(d->owned_x);
            d->owned_x = NULL;
            all = NULL;
        } else {
            d->part = all;
        }
    }
    int any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_bad) {
        fprintf(stderr, "hood-bench-mpi: rank %d: %s\n", rank, bad ? err : "another rank failed");
        return 1;
    }
    return 0;
}

/* Runs each wanted variant on every rank; rank 0 prints the table and writes the JSON.
 * Returns rank 0's status (1 when a check failed or the JSON could not be written). */
static int run_variants(const mpi_args *a, const rank_data *d, int rank, int size, size_t epochs,
                        const bench_machine *mc)
{
    const bench_train_spec *s = a->s;
    FILE *f = NULL;
    if (rank == 0) {
        fprintf(stderr, "hood-bench-mpi: %s, np %d, %d thread%s per rank, wait %s, %s, load %.2f\n",
                s->name, size, a->o.threads, a->o.threads == 1 ? "" : "s",
                ranks_sum_way_name(a->way), mc->cpu, mc->loadavg);
        printf("%-12s %3s %5s %10s %12s %12s %12s %12s %10s  %s\n", "run", "np", "batch", "epoch s",
               "allred/step", "bare allred", "backw/step", "forw/step", "grad KB", "check");
        if (a->json != NULL &&
            (f = strcmp(a->json, "-") == 0 ? stdout : fopen(a->json, "w")) != NULL)
            fprintf(f, "[");
        else if (a->json != NULL)
            fprintf(stderr, "hood-bench-mpi: cannot write %s\n", a->json);
    }
    int status = 0;
    bool comma = false;
    for (size_t vi = 0; vi < 2; vi++) {
        if (!bench_variant_wanted(&a->o, s->variants[vi]))
            continue;
        run_result *r = calloc(1, sizeof *r);
        if (r == NULL)
            MPI_Abort(MPI_COMM_WORLD, 1);
        run_variant(s, vi, d->part, d->first, d->global_n, rank, size, a->o.threads, epochs, a->way,
                    r);
        if (rank == 0) {
            size_t e = r->median_epoch;
            double steps = (double)(r->steps > 0 ? r->steps : 1);
            char name[40];
            snprintf(name, sizeof name, "%s/%s", s->name, s->variants[vi]);
            printf("%-12s %3d %5zu %10.4f %9.1f us %9.1f us %9.1f us %9.1f us %10.1f  %s\n", name,
                   size, r->batch, r->median_s, 1e6 * r->reduce[e] / steps, 1e6 * r->bare_s,
                   1e6 * r->backward[e] / steps, 1e6 * r->forward[e] / steps,
                   4.0 * (double)r->step_count / 1024, r->what);
            if (!r->ok)
                status = 1;
            if (f != NULL) {
                write_json(f, s, vi, r, size, a->o.threads, d->global_n, mc, comma);
                comma = true;
            }
        }
        free(r);
    }
    if (f != NULL) {
        fprintf(f, "]\n");
        if (f != stdout && fclose(f) != 0) {
            fprintf(stderr, "hood-bench-mpi: writing %s failed\n", a->json);
            status = 1;
        }
    }
    return status;
}

int main(int argc, char **argv)
{
    ranks_sum_prefer_ring(); /* as hood train */
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    mpi_args a;
    memset(&a, 0, sizeof a);
    a.o.threads = 1;
    a.way = RANKS_SUM_SHARED;
    a.o.idx_dir = "/usr/share/datasets/fashion-mnist";
    int status = parse_args(argc, argv, rank, &a);
    if (status >= 0) {
        MPI_Finalize();
        return status;
    }
    size_t epochs = a.o.epochs ? a.o.epochs : a.s->default_epochs;
    epochs = epochs < 2 ? 2 : epochs > BENCH_MAX_EPOCHS ? BENCH_MAX_EPOCHS : epochs;
    bench_machine mc;
    bench_machine_get(&mc);
    rank_data d;
    memset(&d, 0, sizeof d);
    if (load_rank_data(&a, rank, size, &d) != 0) {
        MPI_Finalize();
        return 1;
    }
    status = run_variants(&a, &d, rank, size, epochs, &mc);
    hood_dataset_free(d.part);
    free(d.owned_x);
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return status;
}
