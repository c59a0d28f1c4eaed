/* cmd_dataset.c — `hood dataset DIR -o OUT`: an image folder (one sub-folder per class) into the
 * seed's CSV rows or a NumPy .npz, as Keras' image_dataset_from_directory would load it.
 * Not the ingest itself (io/ingest.c); this file maps flags to hood_ingest_options. */
#include "common.h"
#include "data.h"
#include "data_args.h"
#include "outputs.h"
#include "signals.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const CMD = "dataset";

static void print_help(void)
{
    printf("Usage: hood dataset DIR -o OUT [OPTIONS]\n"
           "Ingests DIR (one sub-folder per class, as Keras' image_dataset_from_directory) into\n"
           "one matrix and writes it to OUT, whose extension picks the format:\n"
           "  .csv  the seed's rows x1,...,xn,y (one-hot labels as k columns)\n"
           "  .npz  x float32 (n, d), y int32 (n,) or float32 (n, k), class_names, and\n"
           "        preprocess (\"key=value\" strings: image size, colour mode, ...)\n"
           "  .npy  x alone\n"
           "SIGINT/SIGTERM stops it at once (exit 130/143), with OUT as it was and no temporary.\n\n"
           "Options:\n"
           "  -o, --output OUT            the file to write (atomically; required)\n"
           "      --subset SUBSET         with --validation-split: training, validation or\n"
           "                              both (writes OUT's halves: x.train.npz, x.val.npz,\n"
           "                              both or neither: each is written whole before either\n"
           "                              is placed; if the second cannot be placed, a new first\n"
           "                              half is removed again, one that replaced an old file\n"
           "                              stays, and the error says so. Without O_TMPFILE (some\n"
           "                              network and FUSE file systems) SIGKILL can leave\n"
           "                              OUT-half.tmp.XXXXXX, and anywhere a SIGKILL between the\n"
           "                              two placings can leave only the new training half)\n"
           "      --header                CSV: write a header row x1,...,xn,y (y0,...,yk-1\n"
           "                              for one-hot labels) after a line \"# hood: height=..\n"
           "                              width=.. color_mode=.. ... class_names=a,b\" that hood\n"
           "                              train, evaluate and predict read back\n"
           "      --compress              .npz: deflate the members, as numpy.savez_compressed\n"
           "                              (smaller, slower to write and read; any .npz loads)\n"
           "      --threads N             decoding threads (default 0: one per core)\n"
           "  -h, --help                  this help\n\n");
    fputs(cli_dataset_help, stdout);
}

/* ".npz", ".csv" or ".npy" of path, or NULL. */
static const char *known_extension(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot == NULL || (slash != NULL && dot < slash))
        return NULL;
    if (strcmp(dot, ".csv") == 0 || strcmp(dot, ".npz") == 0 || strcmp(dot, ".npy") == 0)
        return dot;
    return NULL;
}

/* "x.npz" + ".train" -> "x.train.npz". */
static char *half_name(const char *path, const char *ext, const char *tag)
{
    size_t stem = strlen(path) - strlen(ext);
    size_t len = stem + strlen(tag) + strlen(ext) + 1;
    char *out = malloc(len);
    if (out != NULL)
        snprintf(out, len, "%.*s%s%s", (int)stem, path, tag, ext);
    return out;
}

static hood_status save_as(const hood_dataset *ds, const char *path, const char *ext,
                           const hood_csv_options *csv, bool compress)
{
    if (strcmp(ext, ".csv") == 0)
        return hood_dataset_save_csv(ds, path, csv);
    if (strcmp(ext, ".npz") == 0)
        return compress ? hood_dataset_save_npz_compressed(ds, path)
                        : hood_dataset_save_npz(ds, path);
    return hood_dataset_save_npy(ds, path);
}

/* Both halves reach their names together or not at all: each is written whole into its own
 * output (an unnamed O_TMPFILE temporary where the file system has one: nothing in the folder,
 * even after SIGKILL), and only when both are complete are they committed (linked into place),
 * the training half first. When the second commit fails, a training half that was new is
 * removed again; one that replaced an older file stays replaced, and the message says so.
 * (A SIGKILL in the instant between the two commits can leave the new training half beside the
 * old or no validation half: two files cannot be swapped in at once.) */
static int save_both(const hood_dataset *train, const hood_dataset *val, const char *out,
                     const char *ext, const hood_csv_options *csv, bool compress)
{
    char *names[2] = {half_name(out, ext, ".train"), half_name(out, ext, ".val")};
    hood_output *outs[2] = {NULL, NULL};
    const hood_dataset *parts[2] = {train, val};
    unsigned flags = compress ? HOOD_WRITE_NPZ_COMPRESSED : 0;
    int rc = CLI_FAIL;
    if (names[0] == NULL || names[1] == NULL) {
        cli_fail(CMD, "%s: out of memory", out);
        goto done;
    }
    for (int i = 0; i < 2; i++) {
        hood_status st = hood_output_open(&outs[i], names[i]);
        if (st == HOOD_OK)
            st = hood_dataset_write(parts[i], outs[i], csv, flags);
        if (st != HOOD_OK) {
            cli_fail_status(CMD, st);
            goto done;
        }
    }
    struct stat before;
    bool train_existed = lstat(names[0], &before) == 0;
    hood_status st = hood_output_commit(outs[0]);
    outs[0] = NULL;
    if (st != HOOD_OK) {
        cli_fail_status(CMD, st);
        goto done;
    }
    st = hood_output_commit(outs[1]);
    outs[1] = NULL;
    if (st != HOOD_OK) {
        if (!train_existed && unlink(names[0]) == 0)
            cli_fail(CMD, "%s; nothing written", hood_last_error());
        else
            cli_fail(CMD, "%s; %s was written already", hood_last_error(), names[0]);
        goto done;
    }
    rc = CLI_OK;
done:
    for (int i = 0; i < 2; i++) {
        hood_output_abort(outs[i]);
        free(names[i]);
    }
    return rc;
}

/* "OUT: N samples x D values, K classes" (both halves' names and sizes with --subset both). */
static void print_summary(const hood_dataset *ds, const hood_dataset *val, const char *out,
                          const char *ext)
{
    if (val != NULL) {
        char *tn = half_name(out, ext, ".train"), *vn = half_name(out, ext, ".val");
        printf("%s: %zu samples, %s: %zu samples, %zu values each", tn ? tn : out,
               hood_dataset_samples(ds), vn ? vn : out, hood_dataset_samples(val),
               hood_dataset_features(ds));
        free(tn);
        free(vn);
    } else {
        printf("%s: %zu samples x %zu values", out, hood_dataset_samples(ds),
               hood_dataset_features(ds));
    }
    size_t k = hood_dataset_num_classes(ds);
    if (k > 0)
        printf(", %zu class%s", k, k == 1 ? "" : "es");
    putchar('\n');
    if (k > 0 && hood_dataset_class_name(ds, 0) != NULL) { /* the label of each class */
        fputs("Classes:", stdout);
        for (size_t i = 0; i < k; i++)
            printf("%s %zu %s", i > 0 ? "," : "", i, hood_dataset_class_name(ds, i));
        putchar('\n');
    }
}

/* The output (or both halves) may not be the labels file it is made from, and each half must
 * be writable (not a folder) before the ingest, not after it. */
static int check_outputs(const char *out, const char *ext, const hood_ingest_options *in)
{
    bool both = in->subset == HOOD_SUBSET_BOTH;
    char *tn = both ? half_name(out, ext, ".train") : NULL;
    char *vn = both ? half_name(out, ext, ".val") : NULL;
    if (both && (tn == NULL || vn == NULL)) {
        free(tn);
        free(vn);
        return cli_fail(CMD, "%s: out of memory", out);
    }
    const cli_named_path outs[2] = {{"-o", both ? tn : out}, {"-o", both ? vn : NULL}};
    const cli_named_path ins[1] = {{"--labels", in->labels_file}};
    int rc = cli_check_distinct(CMD, outs, 2, ins, 1);
    if (rc == CLI_OK && both && !(cli_check_writable(CMD, tn) && cli_check_writable(CMD, vn)))
        rc = CLI_FAIL;
    free(tn);
    free(vn);
    return rc;
}

/* The outputs a signal must not leave half-written: OUT, or its two halves. */
static bool guard_outputs(const char *out, const char *ext, bool both)
{
    if (!both)
        return cli_signals_guard(out);
    bool ok = true;
    const char *tags[2] = {".train", ".val"};
    for (int i = 0; i < 2 && ok; i++) {
        char *name = half_name(out, ext, tags[i]);
        ok = name != NULL && cli_signals_guard(name);
        free(name);
    }
    return ok;
}

/* The ingest and the write, with the signal handling of each phase: scanning and writing
 * have no stop hook, so a signal there removes the output's temporaries and exits at once
 * (signals.h); decoding stops through the progress callback. */
static int ingest_and_save(const char *dir, const hood_ingest_options *in, const char *out,
                           const char *ext, const hood_csv_options *csv, bool compress, bool quiet,
                           hood_dataset **ds, hood_dataset **val)
{
    cli_signals_install(CMD);
    hood_status st =
        hood_dataset_from_directory(dir, in, ds, in->subset == HOOD_SUBSET_BOTH ? val : NULL);
    cli_signals_defer(false);
    int sig = cli_signal_received();
    if (sig != 0) {
        fprintf(stderr, "hood dataset: stopped by %s; nothing written\n", cli_signal_name(sig));
        return 128 + sig;
    }
    if (st != HOOD_OK)
        return cli_fail_status(CMD, st);
    /* The files say how their rows were made, so a model trained on them can read a new image
     * the same way (the .npz 'preprocess' member, the CSV's "# hood:" line). */
    st = hood_dataset_set_preprocess(*ds, &in->image);
    if (st == HOOD_OK && *val != NULL)
        st = hood_dataset_set_preprocess(*val, &in->image);
    if (st != HOOD_OK)
        return cli_fail_status(CMD, st);
    /* The summary is printed, and standard output flushed, before any output replaces a
     * file: a failing stdout (a full disk, a closed pipe) fails the command with nothing
     * replaced. */
    if (!quiet)
        print_summary(*ds, *val, out, ext);
    if (!cli_stdout_ready())
        return CLI_FAIL; /* main() reports the failed standard output */
    if (!guard_outputs(out, ext, in->subset == HOOD_SUBSET_BOTH))
        return cli_fail(CMD, "%s: cannot open its folder", out);
    int rc;
    if (in->subset == HOOD_SUBSET_BOTH) {
        rc = save_both(*ds, *val, out, ext, csv, compress);
    } else {
        st = save_as(*ds, out, ext, csv, compress);
        rc = st == HOOD_OK ? CLI_OK : cli_fail_status(CMD, st);
    }
    cli_signals_unguard_all();
    return rc;
}

int hood_cli_dataset(int argc, char **argv)
{
    enum { OPT_HEADER = 1, OPT_THREADS = 2, OPT_COMPRESS = 3 };
    struct option opts[64] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {"header", no_argument, NULL, OPT_HEADER},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"compress", no_argument, NULL, OPT_COMPRESS},
    };
    cli_options_append(opts, 5, cli_dataset_options);

    cli_dataset_flags flags;
    cli_dataset_flags_init(&flags);
    hood_csv_options csv;
    hood_csv_options_init(&csv);
    const char *out = NULL;
    bool compress = false;
    int rc = CLI_FAIL;
    hood_dataset *ds = NULL, *val = NULL;

    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        int handled = cli_dataset_flag(CMD, &flags, c, optarg);
        if (handled < 0) {
            rc = CLI_USAGE; /* a bad value */
            goto done;
        }
        if (handled > 0)
            continue;
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'h':
            print_help();
            rc = CLI_OK;
            goto done;
        case OPT_HEADER:
            csv.header = true;
            break;
        case OPT_COMPRESS:
            compress = true;
            break;
        case OPT_THREADS:
            if (!cli_parse_int(CMD, "threads", optarg, 0, 1024, &flags.ingest.threads)) {
                rc = CLI_USAGE;
                goto done;
            }
            break;
        default:
            rc = cli_usage_getopt(CMD, c, optopt, argv[optind - 1]);
            goto done;
        }
    }
    if (optind != argc - 1) {
        rc = cli_usage(CMD, optind >= argc ? "missing the image folder DIR"
                                           : "expected one folder DIR, got more operands");
        goto done;
    }
    if (out == NULL) {
        rc = cli_usage(CMD, "missing -o OUT");
        goto done;
    }
    const char *dir = argv[optind];
    const char *ext = known_extension(out);
    if (ext == NULL) {
        rc = cli_fail(CMD, "%s: unknown output format (use .csv, .npz or .npy)", out);
        goto done;
    }
    if (compress && strcmp(ext, ".npz") != 0) {
        rc = cli_usage(CMD, "--compress applies to .npz output only");
        goto done;
    }
    hood_ingest_options *in = &flags.ingest;
    if (flags.subset_given && in->subset != HOOD_SUBSET_ALL && !flags.split_given) {
        rc = cli_usage(CMD, "--subset needs --validation-split");
        goto done;
    }
    if (flags.split_given && in->validation_split > 0 && !flags.subset_given) {
        rc = cli_usage(CMD, "--validation-split needs --subset training, validation or both");
        goto done;
    }
    if (in->validation_split > 0 && in->shuffle && !in->has_seed) {
        rc = cli_usage(CMD, "--validation-split with shuffling needs --seed N (the training and "
                            "validation runs must shuffle alike, as in Keras)");
        goto done;
    }
    in->has_seed = true; /* seed 0 unless --seed: a plain shuffle repeats exactly */
    if (!cli_is_directory(dir)) {
        rc = cli_fail(CMD, "%s: not a folder", dir);
        goto done;
    }
    if ((rc = check_outputs(out, ext, in)) != CLI_OK)
        goto done;
    rc = CLI_FAIL;
    if (!cli_check_writable(CMD, out))
        goto done;

    rc = ingest_and_save(dir, in, out, ext, &csv, compress, flags.quiet, &ds, &val);
done:
    hood_dataset_free(ds);
    hood_dataset_free(val);
    cli_dataset_flags_free(&flags);
    return rc;
}
