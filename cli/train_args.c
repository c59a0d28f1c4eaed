/* train_args.c — `hood train`'s command line: the help, the options table, getopt_long into a
 * train_args, the usage checks between options, and --layers/--loss/--optimizer/--initializer
 * parsed for the model. Not the run (cmd_train.c): nothing here reads data or writes files. */
#include "train_args.h"

#include "common.h"
#include "data.h"

#include <stdlib.h>
#include <string.h>

static const char *const CMD = "train";

static void print_help(void)
{
    printf(
        "Usage: hood train DATA -o MODEL --layers SPEC [OPTIONS]\n"
        "Builds a Sequential stack of Dense layers, compiles it, fits it to DATA and saves it\n"
        "(atomically) to MODEL. DATA is an image folder (one sub-folder per class; the dataset\n"
        "flags below apply and the preprocessing and class names are stored in the model), a\n"
        ".npz (x, y, class_names) or a .csv (rows x1,...,xn,y).\n\n"
        "Model:\n"
        "  -o, --output MODEL          the model file to write (required; replaced only when\n"
        "                              the run succeeds; -o, --history and --checkpoint must\n"
        "                              be three different files, none of them a data input)\n"
        "      --layers SPEC           units:activation,... e.g. 10:tanh,1:sigmoid; activations\n"
        "                              linear, relu, tanh, sigmoid, softmax (required)\n"
        "      --initializer NAME      glorot_uniform (default), he_normal, he_uniform,\n"
        "                              orthogonal, zeros\n"
        "      --loss NAME             binary_crossentropy, categorical_crossentropy,\n"
        "                              sparse_categorical_crossentropy, mean_squared_error\n"
        "                              (default from the output layer: 1 sigmoid unit -> binary;\n"
        "                              softmax -> sparse categorical, or categorical with one-hot\n"
        "                              labels; otherwise mean squared error)\n"
        "      --optimizer NAME        sgd, adam or rmsprop (default rmsprop, as Keras)\n"
        "      --learning-rate F       default 0.01 for sgd, 0.001 for adam and rmsprop\n"
        "      --momentum F            sgd, rmsprop (default 0)\n"
        "      --nesterov              sgd: Nesterov momentum\n"
        "      --init-weights FILE     start from the kernels and biases of FILE.npz\n"
        "                              (as written by hood export-weights)\n"
        "Fit:\n"
        "      --epochs N              epochs in total (default 1)\n"
        "      --batch-size N          default 32 (the last partial batch is kept)\n"
        "      --no-shuffle            keep the sample order (default: a new order each epoch)\n"
        "      --seed N                weights, shuffling and folder split (default 0; a\n"
        "                              folder's --validation-split needs it unless\n"
        "                              --no-shuffle)\n"
        "      --validation-split F    hold out the last F of DATA for validation\n"
        "      --validation-data FILE  validate on FILE (folder, .npz or .csv) instead\n"
        "      --early-stopping N      stop after N epochs without improvement\n"
        "      --monitor NAME          val_loss (default), loss, val_accuracy, accuracy\n"
        "      --min-delta F           smallest change that counts as improvement (default 0)\n"
        "      --restore-best          end with the best epoch's weights\n"
        "      --history FILE.csv      epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
        "                              (epoch counts from 0 as Keras' CSVLogger)\n"
        "      --evaluate FILE         after training, evaluate the model on FILE and print\n"
        "                              loss and accuracy (with --json: full precision)\n"
        "      --json                  print the --evaluate result as JSON\n"
        "      --threads N             hood's worker threads for products and decoding (0: one\n"
        "                              per core; default 1; the BLAS itself runs on one)\n"
        "      --verbose 0|1|2         1 (default): a progress bar on a terminal, one line per\n"
        "                              epoch otherwise; 2: one line per epoch; 0: silent\n"
        "Checkpoints:\n"
        "      --checkpoint FILE       save the whole training state (weights, optimizer,\n"
        "                              position, history) to FILE every N epochs and on\n"
        "                              SIGINT/SIGTERM (then exit 130/143 after the batch)\n"
        "      --checkpoint-every N    epochs between checkpoints (default 1)\n"
        "      --resume FILE           continue from a checkpoint up to --epochs in total; the\n"
        "                              architecture, loss and optimizer come from FILE (give the\n"
        "                              same DATA, --seed and --batch-size as the first run)\n"
        "  -h, --help                  this help\n\n");
    fputs(cli_dataset_help, stdout);
}

/* ---- the options -------------------------------------------------------------------------- */

enum {
    OPT_LAYERS = 1,
    OPT_LOSS,
    OPT_OPTIMIZER,
    OPT_LR,
    OPT_MOMENTUM,
    OPT_NESTEROV,
    OPT_EPOCHS,
    OPT_BATCH,
    OPT_VAL_DATA,
    OPT_EARLY,
    OPT_MONITOR,
    OPT_MIN_DELTA,
    OPT_RESTORE,
    OPT_INIT_WEIGHTS,
    OPT_HISTORY,
    OPT_THREADS,
    OPT_VERBOSE,
    OPT_CHECKPOINT,
    OPT_CHECKPOINT_EVERY,
    OPT_RESUME,
    OPT_INITIALIZER,
    OPT_EVALUATE,
    OPT_JSON,
};

static const struct option train_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"layers", required_argument, NULL, OPT_LAYERS},
    {"loss", required_argument, NULL, OPT_LOSS},
    {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
    {"learning-rate", required_argument, NULL, OPT_LR},
    {"momentum", required_argument, NULL, OPT_MOMENTUM},
    {"nesterov", no_argument, NULL, OPT_NESTEROV},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"batch-size", required_argument, NULL, OPT_BATCH},
    {"validation-data", required_argument, NULL, OPT_VAL_DATA},
    {"early-stopping", required_argument, NULL, OPT_EARLY},
    {"monitor", required_argument, NULL, OPT_MONITOR},
    {"min-delta", required_argument, NULL, OPT_MIN_DELTA},
    {"restore-best", no_argument, NULL, OPT_RESTORE},
    {"init-weights", required_argument, NULL, OPT_INIT_WEIGHTS},
    {"history", required_argument, NULL, OPT_HISTORY},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"verbose", required_argument, NULL, OPT_VERBOSE},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"checkpoint-every", required_argument, NULL, OPT_CHECKPOINT_EVERY},
    {"resume", required_argument, NULL, OPT_RESUME},
    {"initializer", required_argument, NULL, OPT_INITIALIZER},
    {"evaluate", required_argument, NULL, OPT_EVALUATE},
    {"json", no_argument, NULL, OPT_JSON},
    {NULL, 0, NULL, 0},
};

static bool parse_monitor(const char *arg, hood_monitor *out)
{
    static const char *const names_m[] = {"val_loss", "loss", "val_accuracy", "accuracy"};
    int k = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(arg, names_m[i]) == 0)
            k = i;
    if (k < 0) {
        cli_fail(CMD, "--monitor: expected val_loss, loss, val_accuracy or accuracy, got '%s'",
                 arg);
        return false;
    }
    *out = (hood_monitor)k;
    return true;
}

/* One train option (not -h, not a dataset flag): 1 stored, 0 bad value (message printed),
 * -1 not a train option. */
static int set_option(train_args *a, int c, const char *arg)
{
    bool ok = true;
    switch (c) {
    case 'o':
        a->out = arg;
        break;
    case OPT_LAYERS:
        a->layers = arg;
        break;
    case OPT_LOSS:
        a->loss = arg;
        break;
    case OPT_OPTIMIZER:
        a->optimizer = arg;
        break;
    case OPT_LR:
        ok = cli_parse_double(CMD, "learning-rate", arg, 0.0, true, 1e6, &a->lr);
        a->has_lr = true;
        break;
    case OPT_MOMENTUM:
        ok = cli_parse_double(CMD, "momentum", arg, 0.0, false, 0.999999, &a->momentum);
        a->has_momentum = true;
        break;
    case OPT_NESTEROV:
        a->nesterov = true;
        break;
    case OPT_EPOCHS:
        ok = cli_parse_size(CMD, "epochs", arg, 1, &a->epochs);
        break;
    case OPT_BATCH:
        ok = cli_parse_size(CMD, "batch-size", arg, 1, &a->batch);
        break;
    case OPT_VAL_DATA:
        a->val_data = arg;
        break;
    case OPT_EARLY:
        ok = cli_parse_size(CMD, "early-stopping", arg, 0, &a->patience);
        a->early = true;
        break;
    case OPT_MONITOR:
        ok = parse_monitor(arg, &a->monitor);
        break;
    case OPT_MIN_DELTA:
        ok = cli_parse_double(CMD, "min-delta", arg, 0.0, false, 1e30, &a->min_delta);
        break;
    case OPT_RESTORE:
        a->restore_best = true;
        break;
    case OPT_INIT_WEIGHTS:
        a->init_weights = arg;
        break;
    case OPT_HISTORY:
        a->history = arg;
        break;
    case OPT_THREADS:
        ok = cli_parse_int(CMD, "threads", arg, 0, 1024, &a->threads);
        a->has_threads = true;
        break;
    case OPT_VERBOSE:
        ok = cli_parse_int(CMD, "verbose", arg, 0, 2, &a->verbose);
        break;
    case OPT_CHECKPOINT:
        a->checkpoint = arg;
        break;
    case OPT_CHECKPOINT_EVERY:
        ok = cli_parse_size(CMD, "checkpoint-every", arg, 1, &a->checkpoint_every);
        break;
    case OPT_RESUME:
        a->resume = arg;
        break;
    case OPT_INITIALIZER:
        a->initializer = arg;
        break;
    case OPT_EVALUATE:
        a->evaluate = arg;
        break;
    case OPT_JSON:
        a->json = true;
        break;
    default:
        return -1;
    }
    return ok ? 1 : 0;
}

/* getopt_long over argv: false when the run must not go on (*rc says the exit status). */
static bool parse_options(int argc, char **argv, train_args *a, cli_dataset_flags *flags, int *rc)
{
    struct option opts[80];
    size_t count = cli_options_append(opts, 0, train_options);
    cli_options_append(opts, count, cli_dataset_options);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int handled = cli_dataset_flag(CMD, flags, c, optarg);
        if (handled < 0)
            return false;
        if (handled > 0)
            continue;
        if (c == 'h') {
            print_help();
            *rc = CLI_OK;
            return false;
        }
        int set = set_option(a, c, optarg);
        if (set < 0)
            *rc = cli_usage_getopt(CMD, c, optopt, argv[optind - 1]);
        if (set <= 0)
            return false;
    }
    return true;
}

/* The checks between options and operands, before any data is read: CLI_OK or the status. */
static int check_args(int argc, char **argv, const train_args *a, const cli_dataset_flags *flags)
{
    if (optind != argc - 1)
        return cli_usage(CMD, optind >= argc ? "missing DATA (a folder, .npz or .csv)"
                                             : "expected one DATA operand, got more");
    if (a->out == NULL)
        return cli_usage(CMD, "missing -o MODEL");
    if (a->layers == NULL && a->resume == NULL)
        return cli_usage(CMD, "missing --layers (e.g. --layers 10:tanh,1:sigmoid)");
    if (flags->subset_given)
        return cli_usage(CMD, "--subset is for hood dataset; train splits with --validation-split");
    if (a->resume != NULL && a->init_weights != NULL)
        return cli_usage(CMD, "--resume and --init-weights exclude each other");
    const char *data = argv[optind];
    /* A folder is split by its shuffled file list, as hood dataset (Keras' rule): the same
     * --seed must be given. A file is split by fit, which holds out its last rows unshuffled
     * (Keras' model.fit), and --validation-data replaces the split: no seed needed there. */
    const hood_ingest_options *in = &flags->ingest;
    if (in->validation_split > 0 && in->shuffle && !in->has_seed && a->val_data == NULL &&
        cli_is_directory(data))
        return cli_usage(CMD, "--validation-split on a folder with shuffling needs --seed N (the "
                              "training and validation files must shuffle alike, as in Keras)");
    return CLI_OK;
}

bool train_args_parse(int argc, char **argv, train_args *a, cli_dataset_flags *flags, int *rc)
{
    memset(a, 0, sizeof *a);
    a->epochs = 1;
    a->batch = 32;
    a->verbose = 1;
    a->checkpoint_every = 1;
    a->monitor = HOOD_MONITOR_VAL_LOSS;
    *rc = CLI_FAIL;
    if (!parse_options(argc, argv, a, flags, rc))
        return false;
    if ((*rc = check_args(argc, argv, a, flags)) != CLI_OK)
        return false;
    a->data = argv[optind];
    flags->ingest.has_seed = true; /* seed 0 unless --seed: weights and shuffles repeat exactly */
    /* Every model option is checked before any data is read, so a typo fails at once. */
    if (a->resume == NULL) {
        train_model_spec spec;
        *rc = train_model_spec_parse(a, &spec);
        train_model_spec_free(&spec);
        if (*rc != CLI_OK)
            return false;
    }
    return true;
}

/* ---- the model options ------------------------------------------------------------------- */

static int parse_layers(const char *spec, size_t **units, hood_activation **acts, size_t *count)
{
    size_t n = 0;
    char **items = cli_split_commas(spec, &n);
    *units = malloc(n * sizeof **units);
    *acts = malloc(n * sizeof **acts);
    if (items == NULL || *units == NULL || *acts == NULL) {
        free(items);
        return cli_fail(CMD, "--layers: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        char *colon = strchr(items[i], ':');
        const char *act_name = colon != NULL ? colon + 1 : "linear";
        if (colon != NULL)
            *colon = '\0';
        char *end = NULL;
        unsigned long long u = 0;
        if (items[i][0] >= '0' && items[i][0] <= '9')
            u = strtoull(items[i], &end, 10);
        if (end == NULL || *end != '\0' || u == 0 || u > 1000000) {
            int rc =
                cli_fail(CMD, "--layers: layer %zu: expected units from 1 to 1000000, got '%s'",
                         i + 1, items[i]);
            free(items);
            return rc;
        }
        (*units)[i] = (size_t)u;
        if (hood_activation_parse(act_name, &(*acts)[i]) != HOOD_OK) {
            int rc = cli_fail(CMD,
                              "--layers: layer %zu: unknown activation '%s' (linear, relu, tanh, "
                              "sigmoid, softmax)",
                              i + 1, act_name);
            free(items);
            return rc;
        }
    }
    free(items);
    *count = n;
    return CLI_OK;
}

int train_model_spec_parse(const train_args *a, train_model_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->optimizer = HOOD_OPT_RMSPROP;
    spec->initializer = HOOD_INIT_GLOROT_UNIFORM;
    if (a->layers != NULL) {
        int rc = parse_layers(a->layers, &spec->units, &spec->acts, &spec->count);
        if (rc != CLI_OK)
            return rc;
    }
    if (a->loss != NULL) {
        if (hood_loss_parse(a->loss, &spec->loss) != HOOD_OK)
            return cli_fail(CMD,
                            "--loss: unknown loss '%s' (binary_crossentropy, "
                            "categorical_crossentropy, sparse_categorical_crossentropy, "
                            "mean_squared_error)",
                            a->loss);
        spec->has_loss = true;
    }
    if (a->optimizer != NULL && hood_optimizer_parse(a->optimizer, &spec->optimizer) != HOOD_OK)
        return cli_fail(CMD, "--optimizer: unknown optimizer '%s' (sgd, adam, rmsprop)",
                        a->optimizer);
    if (a->initializer != NULL &&
        hood_initializer_parse(a->initializer, &spec->initializer) != HOOD_OK)
        return cli_fail(CMD,
                        "--initializer: unknown initializer '%s' (glorot_uniform, he_normal, "
                        "he_uniform, orthogonal, zeros)",
                        a->initializer);
    return CLI_OK;
}

void train_model_spec_free(train_model_spec *spec)
{
    free(spec->units);
    free(spec->acts);
    spec->units = NULL;
    spec->acts = NULL;
}
