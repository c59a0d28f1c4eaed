/* hood-bench.c — the benchmark harness: runs named workloads (seed, fmnist, ingest-photos,
 * ingest-fmnist, csv, limits), each in its own forked process so its peak RSS is its own,
 * checks every result before it reports a time, prints a table, writes JSON and an SVG plot.
 * Not the comparison: scripts/bench-compare runs this and the peers and compares them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "gemm.h"
#include "hood.h"

/* cnn last: run by name only (minutes per epoch at batch 32), not in the default set */
static const char *const all_workloads[] = {"limits", "seed",          "fmnist",       "csv",
                                            "ingest-photos", "ingest-fmnist", "cnn"};
#define N_ALL (sizeof all_workloads / sizeof all_workloads[0])

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: hood-bench [options] [WORKLOAD...]\n"
        "workloads: seed fmnist ingest-photos ingest-fmnist csv limits (default: all)\n"
        "           cnn (by name only: conv 32, 64 3x3 + maxpool, dense 128, 10 on fmnist)\n"
        "  --threads N        hood's threads (BLAS and ingest), default 1\n"
        "  --epochs N         training epochs including one warm-up (default per workload)\n"
        "  --samples N        fmnist, cnn: train on the first N samples only (default all 60000)\n"
        "  --variant V        training variant only (b32, full, b128); repeatable\n"
        "  --repeat N         ingest and csv repetitions (default 3)\n"
        "  --json FILE        write the results as JSON ('-' for stdout)\n"
        "  --plot FILE.svg    per-epoch time and loss curves\n"
        "  --photos DIR       ingest-photos folder (default data/photos; scripts/make-photos)\n"
        "  --fmnist-dir DIR   Fashion-MNIST PNG class folders (default data/fashion-mnist/train)\n"
        "  --idx-dir DIR      Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)\n"
        "  --tmpdir DIR       where the csv workload writes its file (default $TMPDIR or /tmp)\n"
        "  --no-limits        skip the peak/bandwidth/sgemm measurements behind the bounds\n"
        "  --no-fork          run every workload in this process (for profilers)\n"
        "  --jpeg-draft       ingest with JPEG shrink-on-load (default: Pillow-exact pixels)\n"
        "  --optimizer NAME   training workloads' optimizer: sgd (default, as the peers), adam,\n"
        "                     rmsprop (Keras' default learning rates)\n"
        "  --pixel-storage S  seed, fmnist: X as float (default, as the peers' float32 arrays) or\n"
        "                     u8 (8-bit codes widened per batch, as hood keeps ingested images)\n");
}

typedef int (*workload_fn)(const char *name, const bench_options *o, const char *const *train,
                           size_t n_train, bench_results *out);

static int run_one(const char *name, const bench_options *o, const char *const *train,
                   size_t n_train, bench_results *out)
{
    if (strcmp(name, "limits") == 0)
        return bench_limits(o, train, n_train, out);
    if (strcmp(name, "seed") == 0 || strcmp(name, "fmnist") == 0 || strcmp(name, "cnn") == 0)
        return bench_train(name, o, out);
    if (strcmp(name, "csv") == 0)
        return bench_csv(o, out);
    return bench_ingest(name, o, out);
}

static bool read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t got = read(fd, p, len);
        if (got <= 0)
            return false;
        p += got;
        len -= (size_t)got;
    }
    return true;
}

static bool write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t put = write(fd, p, len);
        if (put <= 0)
            return false;
        p += put;
        len -= (size_t)put;
    }
    return true;
}

/* Runs one workload in a child process; its result records come back through a pipe. */
static void run_forked(const char *name, const bench_options *o, const char *const *train,
                       size_t n_train, bench_results *out, bench_results *scratch)
{
    int fds[2];
    fflush(NULL);
    if (pipe(fds) != 0) {
        run_one(name, o, train, n_train, out);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        scratch->n = 0;
        run_one(name, o, train, n_train, scratch);
        bool ok = write_full(fds[1], &scratch->n, sizeof scratch->n) &&
                  write_full(fds[1], scratch->r, scratch->n * sizeof scratch->r[0]);
        _exit(ok ? 0 : 3);
    }
    close(fds[1]);
    size_t n = 0;
    bool ok = pid > 0 && read_full(fds[0], &n, sizeof n) && n <= BENCH_MAX_RESULTS;
    for (size_t i = 0; ok && i < n; i++) {
        bench_result *r = bench_results_add(out, "", "");
        ok = r != NULL && read_full(fds[0], r, sizeof *r);
    }
    close(fds[0]);
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        bench_result *r = bench_results_add(out, name, name);
        if (r != NULL) {
            r->kind = BENCH_LIMIT;
            snprintf(r->what, sizeof r->what, "the %s workload's process died (%s %d)", name,
                     WIFSIGNALED(status) ? "signal" : "status",
                     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
    }
}

/* Fills the bounds of the training results from what `limits` measured. */
static void apply_limits(bench_results *rs)
{
    double peak = 0, bw = 0;
    for (size_t i = 0; i < rs->n; i++) {
        if (strcmp(rs->r[i].name, "limits/sgemm 2048^3") == 0)
            peak = rs->r[i].value;
        if (strcmp(rs->r[i].name, "limits/read bandwidth") == 0)
            bw = rs->r[i].value;
    }
    for (size_t i = 0; i < rs->n; i++) {
        bench_result *r = &rs->r[i];
        if (r->kind != BENCH_TRAIN || r->n_epochs < 2)
            continue;
        double tf = peak > 0 ? r->flops / (peak * 1e9) : 0;
        double tb = bw > 0 ? r->bytes / (bw * 1e9) : 0;
        r->bound_s = tf > tb ? tf : tb;
        char key[80];
        snprintf(key, sizeof key, "limits/%s sgemm epoch", r->name);
        for (size_t j = 0; j < rs->n; j++)
            if (strcmp(rs->r[j].name, key) == 0)
                r->sgemm_s = rs->r[j].value / 1e3;
    }
}

/* What the command line asks for. */
typedef struct bench_args {
    bench_options o;
    const char *json, *plot;
    bool limits, fork_each;
    const char *wanted[N_ALL]; /* the workloads to run after `limits`, in order */
    size_t n_wanted;
    bool explicit_limits; /* `limits` runs even with --no-limits */
    const char *train[2]; /* the training workloads whose shapes `limits` measures */
    size_t n_train;
} bench_args;

/* The options into *a: -1 to go on, otherwise the exit status (0 after --help). */
static int parse_options(int argc, char **argv, bench_args *a)
{
    bench_options *o = &a->o;
    enum { O_FMNIST = 256, O_IDX, O_TMP, O_NOLIM, O_NOFORK, O_PHOTOS, O_DRAFT, O_SAMPLES, O_OPT, O_STORAGE };
    static const struct option longs[] = {{"threads", required_argument, NULL, 't'},
                                          {"epochs", required_argument, NULL, 'e'},
                                          {"variant", required_argument, NULL, 'v'},
                                          {"repeat", required_argument, NULL, 'r'},
                                          {"json", required_argument, NULL, 'j'},
                                          {"plot", required_argument, NULL, 'p'},
                                          {"photos", required_argument, NULL, O_PHOTOS},
                                          {"fmnist-dir", required_argument, NULL, O_FMNIST},
                                          {"idx-dir", required_argument, NULL, O_IDX},
                                          {"tmpdir", required_argument, NULL, O_TMP},
                                          {"no-limits", no_argument, NULL, O_NOLIM},
                                          {"no-fork", no_argument, NULL, O_NOFORK},
                                          {"jpeg-draft", no_argument, NULL, O_DRAFT},
                                          {"samples", required_argument, NULL, O_SAMPLES},
                                          {"optimizer", required_argument, NULL, O_OPT},
                                          {"pixel-storage", required_argument, NULL, O_STORAGE},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int c;
    size_t count;
    while ((c = getopt_long(argc, argv, "t:e:v:r:j:p:h", longs, NULL)) != -1) {
        switch (c) {
        case 't':
            if (!bench_parse_count("hood-bench", "--threads", optarg, 1, 256, &count))
                return 2;
            o->threads = (int)count;
            break;
        case 'e':
            if (!bench_parse_count("hood-bench", "--epochs", optarg, 2, BENCH_MAX_EPOCHS,
                                   &o->epochs))
                return 2;
            break;
        case 'r':
            if (!bench_parse_count("hood-bench", "--repeat", optarg, 1, BENCH_MAX_EPOCHS,
                                   &o->repeat))
                return 2;
            break;
        case 'v':
            if (o->n_variants == sizeof o->variants / sizeof o->variants[0]) {
                fprintf(stderr, "hood-bench: --variant: at most %zu\n", o->n_variants);
                return 2;
            }
            o->variants[o->n_variants++] = optarg;
            break;
        case 'j':
            a->json = optarg;
            break;
        case 'p':
            a->plot = optarg;
            break;
        case O_PHOTOS:
            o->photos_dir = optarg;
            break;
        case O_FMNIST:
            o->fmnist_dir = optarg;
            break;
        case O_IDX:
            o->idx_dir = optarg;
            break;
        case O_TMP:
            o->tmp_dir = optarg;
            break;
        case O_NOLIM:
            a->limits = false;
            break;
        case O_NOFORK:
            a->fork_each = false;
            break;
        case O_DRAFT:
            o->jpeg_draft = true;
            break;
        case O_SAMPLES:
            if (!bench_parse_count("hood-bench", "--samples", optarg, 1, 1000000, &o->samples))
                return 2;
            break;
        case O_OPT:
            if (strcmp(optarg, "sgd") == 0)
                o->optimizer = HOOD_OPT_SGD;
            else if (strcmp(optarg, "adam") == 0)
                o->optimizer = HOOD_OPT_ADAM;
            else if (strcmp(optarg, "rmsprop") == 0)
                o->optimizer = HOOD_OPT_RMSPROP;
            else {
                fprintf(stderr, "hood-bench: --optimizer: sgd, adam or rmsprop (got '%s')\n",
                        optarg);
                return 2;
            }
            break;
        case O_STORAGE:
            if (strcmp(optarg, "float") != 0 && strcmp(optarg, "u8") != 0) {
                fprintf(stderr, "hood-bench: --pixel-storage: float or u8 (got '%s')\n", optarg);
                return 2;
            }
            o->x_u8 = strcmp(optarg, "u8") == 0;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

/* The WORKLOAD operands into a->wanted, and the training shapes `limits` measures: -1 to go
 * on, otherwise the exit status. */
static int pick_workloads(int argc, char **argv, bench_args *a)
{
    for (int i = optind; i < argc; i++) {
        size_t k = 0;
        while (k < N_ALL && strcmp(argv[i], all_workloads[k]) != 0)
            k++;
        if (k == N_ALL) {
            fprintf(stderr, "hood-bench: unknown workload '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
        a->explicit_limits |= k == 0;
        if (k != 0 && a->n_wanted < N_ALL)
            a->wanted[a->n_wanted++] = all_workloads[k];
    }
    if (optind == argc) {
        a->explicit_limits = true;
        for (size_t k = 1; k < N_ALL - 1; k++)
            a->wanted[a->n_wanted++] = all_workloads[k];
    }
    /* the training workloads whose shapes `limits` measures */
    for (size_t i = 0; i < a->n_wanted; i++)
        if (bench_train_spec_find(a->wanted[i]) != NULL)
            a->train[a->n_train++] = a->wanted[i];
    if (a->explicit_limits && a->n_train == 0 && optind != argc) {
        a->train[a->n_train++] = "seed";
        a->train[a->n_train++] = "fmnist";
    }
    return -1;
}

/* Runs the workloads (`limits` first), then prints the table and writes JSON and SVG. */
static int run(const bench_args *a)
{
    const bench_options *o = &a->o;
    bench_results *rs = calloc(1, sizeof *rs), *scratch = calloc(1, sizeof *scratch);
    if (rs == NULL || scratch == NULL) {
        fprintf(stderr, "hood-bench: out of memory\n");
        return 1;
    }
    bench_machine m;
    bench_machine_get(&m);
    fprintf(stderr, "hood-bench: hood %s, %s, %d cores, %s%s%s, %d thread%s\n", m.hood_version,
            m.cpu, m.cores, m.blas, m.coretype[0] ? ", OPENBLAS_CORETYPE=" : "", m.coretype,
            o->threads, o->threads == 1 ? "" : "s");
    if (a->explicit_limits || (a->limits && a->n_train > 0)) {
        fprintf(stderr, "hood-bench: limits...\n");
        if (a->fork_each)
            run_forked("limits", o, a->train, a->n_train, rs, scratch);
        else
            run_one("limits", o, a->train, a->n_train, rs);
    }
    for (size_t i = 0; i < a->n_wanted; i++) {
        fprintf(stderr, "hood-bench: %s...\n", a->wanted[i]);
        if (a->fork_each)
            run_forked(a->wanted[i], o, a->train, a->n_train, rs, scratch);
        else
            run_one(a->wanted[i], o, a->train, a->n_train, rs);
    }
    apply_limits(rs);
    bench_print_table(a->json != NULL && strcmp(a->json, "-") == 0 ? stderr : stdout, rs);
    int status = 0;
    for (size_t i = 0; i < rs->n; i++)
        if (!rs->r[i].ok)
            status = 1;
    if (a->json != NULL && bench_write_json(a->json, &m, o->threads, rs) != 0)
        status = 1;
    if (a->plot != NULL && bench_write_svg(a->plot, rs) != 0)
        status = 1;
    free(rs);
    free(scratch);
    return status;
}

int main(int argc, char **argv)
{
    bench_args a;
    memset(&a, 0, sizeof a);
    a.o.threads = 1;
    a.o.photos_dir = "data/photos";
    a.o.fmnist_dir = "data/fashion-mnist/train";
    a.o.idx_dir = "/usr/share/datasets/fashion-mnist";
    a.o.tmp_dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    a.limits = true;
    a.fork_each = true;
    int status = parse_options(argc, argv, &a);
    if (status < 0)
        status = pick_workloads(argc, argv, &a);
    return status < 0 ? run(&a) : status;
}
