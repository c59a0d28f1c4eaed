/* cmd_evaluate.c — `hood evaluate MODEL DATA`: model.evaluate(X, y) — the loss and accuracy of a
 * saved model on a folder (ingested the way the model's preprocessing says), .npz or .csv. */
#include "common.h"

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
           "      --threads N         BLAS and decoding threads (0: one per core; default 1)\n"
           "      --block-untrusted   refuse libvips loaders marked untrusted\n"
           "      --quiet             no \"Found N files\" message\n"
           "  -h, --help              this help\n");
}

int hood_cli_evaluate(int argc, char **argv)
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
    bool json = false, quiet = false, block = false, has_threads = false;
    size_t batch = 32;
    int threads = 1;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_help();
            return CLI_OK;
        case OPT_JSON:
            json = true;
            break;
        case OPT_BATCH:
            if (!cli_parse_size(CMD, "batch-size", optarg, 1, &batch))
                return CLI_FAIL;
            break;
        case OPT_THREADS:
            if (!cli_parse_int(CMD, "threads", optarg, 0, 1024, &threads))
                return CLI_FAIL;
            has_threads = true;
            break;
        case OPT_BLOCK:
            block = true;
            setenv("VIPS_BLOCK_UNTRUSTED", "1", 1);
            break;
        case OPT_QUIET:
            quiet = true;
            break;
        default:
            return cli_usage_getopt(CMD, c, optopt, argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage(CMD, "expected MODEL and DATA, got %d operand%s", argc - optind,
                         argc - optind == 1 ? "" : "s");
    const char *model_path = argv[optind], *data = argv[optind + 1];

    hood_model *model = NULL;
    hood_dataset *ds = NULL;
    const char **names = NULL;
    cli_dataset_flags progress; /* only its progress-line timer is used */
    memset(&progress, 0, sizeof progress);
    int rc = CLI_FAIL;
    hood_status st = hood_model_load(model_path, &model);
    if (st != HOOD_OK) {
        rc = cli_fail_status(CMD, st);
        goto done;
    }
    if (has_threads && (st = hood_model_set_threads(model, threads)) != HOOD_OK) {
        rc = cli_fail_status(CMD, st);
        goto done;
    }
    if (cli_is_directory(data)) {
        hood_ingest_options in;
        hood_ingest_options_init(&in);
        in.has_seed = true;
        in.shuffle = false;
        in.block_untrusted = block;
        in.threads = has_threads ? threads : 0;
        in.on_message = quiet ? NULL : cli_print_message;
        in.on_progress = quiet || !isatty(STDERR_FILENO) ? NULL : cli_print_progress;
        in.user = &progress;
        names = calloc(hood_model_num_classes(model) + 1, sizeof *names);
        if (names == NULL) {
            rc = cli_fail(CMD, "out of memory");
            goto done;
        }
        cli_ingest_from_model(&in, model, names);
        if (hood_model_loss(model) == HOOD_LOSS_CATEGORICAL_CROSSENTROPY)
            in.label_mode = HOOD_LABELS_CATEGORICAL;
        st = hood_dataset_from_directory(data, &in, &ds, NULL);
    } else {
        st = cli_load_data_file(data, &ds);
    }
    if (st != HOOD_OK) {
        rc = cli_fail_status(CMD, st);
        goto done;
    }
    rc = cli_check_width(CMD, data, ds, hood_model_input_features(model));
    if (rc != CLI_OK)
        goto done;
    double loss = 0, accuracy = 0;
    st = cli_labels_for_loss(ds, hood_model_loss(model), data);
    if (st == HOOD_OK)
        st = hood_model_evaluate(model, ds, batch, &loss, &accuracy);
    if (st != HOOD_OK) {
        rc = cli_fail_data(CMD, data, st);
        goto done;
    }
    if (json)
        printf("{\"loss\": %.17g, \"accuracy\": %.17g, \"samples\": %zu}\n", loss, accuracy,
               hood_dataset_samples(ds));
    else
        printf("loss: %.4f - accuracy: %.4f\n", loss, accuracy);
    rc = CLI_OK;
done:
    hood_dataset_free(ds);
    hood_model_free(model);
    free(names);
    return rc;
}
