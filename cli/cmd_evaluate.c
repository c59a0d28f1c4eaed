/* cmd_evaluate.c — `hood evaluate MODEL DATA`: model.evaluate(X, y) — the loss and accuracy of a
 * saved model on a folder (ingested the way the model's preprocessing says), .npz or .csv. */
#include "common.h"
#include "data.h"
#include "data_args.h"
#include "metrics.h"
#include "progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const CMD = "evaluate";

static void print_help(void)
{
    printf("Usage: hood evaluate MODEL DATA [OPTIONS]\n"
           "Prints the loss and accuracy of MODEL on DATA, as Keras' model.evaluate:\n"
           "  loss: 0.3120 - accuracy: 0.8750\n"
           "DATA is an image folder (one sub-folder per class; the model's preprocessing and\n"
           "class order are applied), a .npz or a .csv.\n\n"
           "Options:\n"
           "      --json              {\"loss\": ..., \"accuracy\": ...} at full precision\n"
           "      --metrics LIST      also Keras' metrics: accuracy,precision,recall,auc (binary\n"
           "                          decisions at 0.5 on every output value, one-hot for\n"
           "                          integer labels of a softmax; auc: keras.metrics.AUC,\n"
           "                          200 thresholds, ROC): \" - precision: 0.8000 - ...\"\n"
           "      --confusion-matrix  the confusion matrix (rows: true class, with the model's\n"
           "                          class names) and scikit-learn's classification_report\n"
           "                          (per-class precision, recall, F1, support; macro and\n"
           "                          weighted averages); with --json, members of the object\n"
           "      --batch-size N      accepted for Keras' signature (default 32); hood evaluates\n"
           "                          in fixed blocks of 128 samples, the same bits at any size\n"
           "      --threads N         hood's worker threads for products and decoding (0: one\n"
           "                          per core; default 1; the BLAS itself runs on one)\n"
           "      --validation-split F --subset training|validation [--seed N] [--no-shuffle]\n"
           "                          score only that part of DATA: for a folder, exactly the\n"
           "                          files hood dataset / hood train hold out (or keep) with\n"
           "                          the same split, seed and shuffle (default seed 0); for a\n"
           "                          file, the last F of its rows (or the rest), as train's split\n"
           "      --block-untrusted   refuse libvips loaders marked untrusted\n"
           "      --quiet             no \"Found N files\" message\n"
           "  -h, --help              this help\n\n");
    fputs(cli_csv_help, stdout);
}

typedef struct evaluate_args {
    const char *model_path, *data;
    bool json, quiet, block, has_threads;
    size_t batch;
    int threads;
    cli_csv_flags csv;
    double split;       /* --validation-split (0: score all of DATA) */
    hood_subset subset; /* --subset: training or validation */
    uint64_t seed;
    bool shuffle;
    unsigned metrics; /* --metrics (CLI_METRIC_* bits) */
    bool confusion;   /* --confusion-matrix */
} evaluate_args;

/* getopt_long over argv: false when the command must stop (*rc says the exit status). */
static bool parse_args(int argc, char **argv, evaluate_args *a, int *rc)
{
    enum { OPT_JSON = 1, OPT_BATCH, OPT_THREADS, OPT_BLOCK, OPT_QUIET, OPT_SPLIT, OPT_SUBSET,
           OPT_SEED, OPT_NO_SHUFFLE, OPT_METRICS, OPT_CONFUSION };
    struct option opts[24] = {
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, OPT_JSON},
        {"batch-size", required_argument, NULL, OPT_BATCH},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"block-untrusted", no_argument, NULL, OPT_BLOCK},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"validation-split", required_argument, NULL, OPT_SPLIT},
        {"subset", required_argument, NULL, OPT_SUBSET},
        {"seed", required_argument, NULL, OPT_SEED},
        {"no-shuffle", no_argument, NULL, OPT_NO_SHUFFLE},
        {"metrics", required_argument, NULL, OPT_METRICS},
        {"confusion-matrix", no_argument, NULL, OPT_CONFUSION},
    };
    cli_options_append(opts, 12, cli_csv_options);
    memset(a, 0, sizeof *a);
    a->shuffle = true;
    a->batch = 32;
    a->threads = 1;
    *rc = CLI_USAGE; /* every failure below is a bad option or value */
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        int csv = cli_csv_flag(CMD, &a->csv, c, optarg);
        if (csv < 0)
            return false;
        if (csv > 0)
            continue;
        switch (c) {
        case 'h':
            print_help();
            *rc = CLI_OK;
            return false;
        case OPT_JSON:
            a->json = true;
            break;
        case OPT_BATCH:
            if (!cli_parse_size(CMD, "batch-size", optarg, 1, &a->batch))
                return false;
            break;
        case OPT_THREADS:
            if (!cli_parse_int(CMD, "threads", optarg, 0, 1024, &a->threads))
                return false;
            a->has_threads = true;
            break;
        case OPT_BLOCK:
            a->block = true;
            setenv("VIPS_BLOCK_UNTRUSTED", "1", 1);
            break;
        case OPT_QUIET:
            a->quiet = true;
            break;
        case OPT_SPLIT:
            if (!cli_parse_double(CMD, "validation-split", optarg, 0.0, false, 0.999999, &a->split))
                return false;
            break;
        case OPT_SUBSET:
            if (strcmp(optarg, "training") == 0)
                a->subset = HOOD_SUBSET_TRAINING;
            else if (strcmp(optarg, "validation") == 0)
                a->subset = HOOD_SUBSET_VALIDATION;
            else {
                *rc = cli_usage(CMD, "--subset: expected training or validation, got '%s'",
                                optarg);
                return false;
            }
            break;
        case OPT_SEED:
            if (!cli_parse_u64(CMD, "seed", optarg, &a->seed))
                return false;
            break;
        case OPT_NO_SHUFFLE:
            a->shuffle = false;
            break;
        case OPT_METRICS:
            if (!cli_metrics_parse(CMD, optarg, &a->metrics)) {
                *rc = CLI_USAGE;
                return false;
            }
            break;
        case OPT_CONFUSION:
            a->confusion = true;
            break;
        default:
            *rc = cli_usage_getopt(CMD, c, optopt, argv[optind - 1]);
            return false;
        }
    }
    if (argc - optind != 2) {
        *rc = cli_usage(CMD, "expected MODEL and DATA, got %d operand%s", argc - optind,
                        argc - optind == 1 ? "" : "s");
        return false;
    }
    if ((a->split > 0) != (a->subset != HOOD_SUBSET_ALL)) {
        *rc = cli_usage(CMD, a->split > 0 ? "--validation-split needs --subset training or "
                                            "validation"
                                          : "--subset needs --validation-split F > 0");
        return false;
    }
    a->model_path = argv[optind];
    a->data = argv[optind + 1];
    return true;
}

/* DATA as the model saw its training data: a folder with the model's preprocessing and class
 * order (one-hot labels for categorical cross-entropy), or a .npz/.csv. */
static int load_data(const evaluate_args *a, const hood_model *model, hood_dataset **ds)
{
    if (!cli_is_directory(a->data)) {
        /* A headerless CSV's labels: the columns beyond the model's input. */
        hood_status st =
            cli_load_data_file(a->data, &a->csv, hood_model_input_features(model), ds);
        return st == HOOD_OK ? CLI_OK : cli_fail_status(CMD, st);
    }
    cli_ingest_progress progress = {0};
    hood_ingest_options in;
    hood_ingest_options_init(&in);
    in.has_seed = true;
    /* A split takes the files the other commands' split takes: shuffled with the seed (Keras'
     * image_dataset_from_directory), then the last part held out. */
    in.shuffle = a->split > 0 && a->shuffle;
    in.seed = a->seed;
    in.validation_split = a->split;
    in.subset = a->subset;
    in.block_untrusted = a->block;
    in.threads = a->has_threads ? a->threads : 0;
    in.on_message = a->quiet ? NULL : cli_print_message;
    progress.draw = !a->quiet && isatty(STDERR_FILENO);
    in.on_progress = cli_print_progress;
    in.user = &progress;
    const char **names = calloc(hood_model_num_classes(model) + 1, sizeof *names);
    if (names == NULL)
        return cli_fail(CMD, "out of memory");
    cli_ingest_from_model(&in, model, names);
    if (hood_model_loss(model) == HOOD_LOSS_CATEGORICAL_CROSSENTROPY)
        in.label_mode = HOOD_LABELS_CATEGORICAL;
    hood_status st = hood_dataset_from_directory(a->data, &in, ds, NULL);
    free(names);
    return st == HOOD_OK ? CLI_OK : cli_fail_status(CMD, st);
}

/* A file's part as train's split makes it (Keras' fit: the last ceil-complement of the rows,
 * unshuffled): a new dataset over a copy of those columns and labels, replacing *ds. */
static int file_part(const evaluate_args *a, hood_dataset **ds)
{
    size_t n = hood_dataset_samples(*ds), d = hood_dataset_features(*ds);
    double at = ceil((double)n * (1.0 - a->split));
    size_t n_train = at <= 0.0 ? 0 : at >= (double)n ? n : (size_t)at;
    size_t first = a->subset == HOOD_SUBSET_VALIDATION ? n_train : 0;
    size_t count = a->subset == HOOD_SUBSET_VALIDATION ? n - n_train : n_train;
    if (count == 0)
        return cli_fail(CMD, "%s: --validation-split %g of %zu rows leaves no %s rows", a->data,
                        a->split, n, a->subset == HOOD_SUBSET_VALIDATION ? "validation"
                                                                          : "training");
    hood_dataset *part = NULL;
    hood_status st = hood_dataset_create(&part, d, count);
    if (st == HOOD_OK) {
        memcpy(hood_dataset_x_mutable(part), hood_dataset_x(*ds) + first * d,
               count * d * sizeof(float));
        size_t w = hood_dataset_label_width(*ds);
        if (hood_dataset_labels(*ds) != NULL)
            st = hood_dataset_set_label_values(part, hood_dataset_label_mode(*ds),
                                               hood_dataset_labels(*ds) + first * w, w,
                                               hood_dataset_num_classes(*ds));
    }
    if (st != HOOD_OK) {
        hood_dataset_free(part);
        return cli_fail_data(CMD, a->data, st);
    }
    hood_dataset_free(*ds);
    *ds = part;
    return CLI_OK;
}

int hood_cli_evaluate(int argc, char **argv)
{
    evaluate_args a;
    int rc = CLI_FAIL;
    if (!parse_args(argc, argv, &a, &rc))
        return rc;

    hood_model *model = NULL;
    hood_dataset *ds = NULL;
    hood_status st = hood_model_load(a.model_path, &model);
    if (st != HOOD_OK) {
        rc = cli_fail_status(CMD, st);
        if (cli_hint_swapped(CMD, a.model_path, a.data))
            rc = CLI_USAGE;
        goto done;
    }
    if (a.has_threads && (st = hood_model_set_threads(model, a.threads)) != HOOD_OK) {
        rc = cli_fail_status(CMD, st);
        goto done;
    }
    rc = load_data(&a, model, &ds);
    if (rc == CLI_OK && a.split > 0 && !cli_is_directory(a.data))
        rc = file_part(&a, &ds);
    if (rc == CLI_OK)
        rc = cli_check_width(CMD, a.data, ds, hood_model_input_features(model));
    if (rc == CLI_OK)
        rc = cli_check_labels(CMD, a.data, ds, model);
    if (rc != CLI_OK)
        goto done;
    double loss = 0, accuracy = 0;
    st = cli_labels_for_loss(ds, model, a.data);
    if (st == HOOD_OK)
        st = hood_model_evaluate(model, ds, a.batch, &loss, &accuracy);
    if (st != HOOD_OK) {
        rc = cli_fail_data(CMD, a.data, st);
        goto done;
    }
    if (a.metrics == 0 && !a.confusion) {
        cli_print_evaluation(loss, accuracy, hood_dataset_samples(ds), a.json);
        rc = CLI_OK;
    } else {
        rc = cli_print_evaluation_metrics(CMD, a.data, model, ds, loss, accuracy, a.metrics,
                                            a.confusion, a.json);
    }
done:
    hood_dataset_free(ds);
    hood_model_free(model);
    return rc;
}
