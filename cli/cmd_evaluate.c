/* cmd_evaluate.c — `hood evaluate MODEL DATA`: model.evaluate(X, y) — the loss and accuracy of a
 * saved model on a folder (ingested the way the model's preprocessing says), .npz or .csv. */
#include "common.h"
#include "data.h"
#include "progress.h"

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
           "      --batch-size N      accepted for Keras' signature (default 32); hood evaluates\n"
           "                          in fixed blocks of 128 samples, the same bits at any size\n"
           "      --threads N         hood's worker threads for products and decoding (0: one\n"
           "                          per core; default 1; the BLAS itself runs on one)\n"
           "      --block-untrusted   refuse libvips loaders marked untrusted\n"
           "      --quiet             no \"Found N files\" message\n"
           "  -h, --help              this help\n");
}

typedef struct evaluate_args {
    const char *model_path, *data;
    bool json, quiet, block, has_threads;
    size_t batch;
    int threads;
} evaluate_args;

/* getopt_long over argv: false when the command must stop (*rc says the exit status). */
static bool parse_args(int argc, char **argv, evaluate_args *a, int *rc)
{
    enum { OPT_JSON = 1, OPT_BATCH, OPT_THREADS, OPT_BLOCK, OPT_QUIET };
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, OPT_JSON},
        {"batch-size", required_argument, NULL, OPT_BATCH},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"block-untrusted", no_argument, NULL, OPT_BLOCK},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->batch = 32;
    a->threads = 1;
    *rc = CLI_FAIL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
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
    a->model_path = argv[optind];
    a->data = argv[optind + 1];
    return true;
}

/* DATA as the model saw its training data: a folder with the model's preprocessing and class
 * order (one-hot labels for categorical cross-entropy), or a .npz/.csv. */
static int load_data(const evaluate_args *a, const hood_model *model, hood_dataset **ds)
{
    if (!cli_is_directory(a->data)) {
        hood_status st = cli_load_data_file(a->data, ds);
        return st == HOOD_OK ? CLI_OK : cli_fail_status(CMD, st);
    }
    cli_ingest_progress progress = {0};
    hood_ingest_options in;
    hood_ingest_options_init(&in);
    in.has_seed = true;
    in.shuffle = false;
    in.block_untrusted = a->block;
    in.threads = a->has_threads ? a->threads : 0;
    in.on_message = a->quiet ? NULL : cli_print_message;
    in.on_progress = a->quiet || !isatty(STDERR_FILENO) ? NULL : cli_print_progress;
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
        goto done;
    }
    if (a.has_threads && (st = hood_model_set_threads(model, a.threads)) != HOOD_OK) {
        rc = cli_fail_status(CMD, st);
        goto done;
    }
    rc = load_data(&a, model, &ds);
    if (rc == CLI_OK)
        rc = cli_check_width(CMD, a.data, ds, hood_model_input_features(model));
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
    cli_print_evaluation(loss, accuracy, hood_dataset_samples(ds), a.json);
    rc = CLI_OK;
done:
    hood_dataset_free(ds);
    hood_model_free(model);
    return rc;
}
