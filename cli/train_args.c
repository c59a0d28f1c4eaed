/* train_args.c — `hood train`'s command line: the help, the options table, getopt_long into a
 * train_args, the usage checks between options, and --layers/--loss/--optimizer/--initializer
 * parsed for the model. Not the run (cmd_train.c): nothing here reads data or writes files. */
#include "train_args.h"

#include "common.h"
#include "data.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

static const char *const CMD = "train";

static void print_help(void)
{
    printf(
        "Usage: hood train DATA -o MODEL --layers SPEC [OPTIONS]\n"
        "Builds a Sequential stack of layers, compiles it, fits it to DATA and saves it\n"
        "(atomically) to MODEL. DATA is an image folder (one sub-folder per class; the dataset\n"
        "flags below apply and the preprocessing and class names are stored in the model), a\n"
        ".npz (x, y, class_names) or a .csv (rows x1,...,xn,y).\n\n"
        "Model:\n"
        "  -o, --output MODEL          the model file to write (required; replaced only when\n"
        "                              the run succeeds; -o, --history and --checkpoint must\n"
        "                              be three different files, none of them a data input)\n"
        "      --layers SPEC           units:activation,... e.g. 10:tanh,1:sigmoid; activations\n"
        "                              linear, relu, tanh, sigmoid, softmax (required).\n"
        "                              Image layers (image data: a folder, an .npz x of\n"
        "                              shape (n, h, w, c), or the files hood dataset writes,\n"
        "                              whose preprocessing gives the image shape); a Dense\n"
        "                              item after them flattens:\n"
        "                                conv:FILTERS:KxK[:ACT][:same|valid][:sN][:nobias]\n"
        "                                maxpool[:N|HxW][:sN][:same]   avgpool[...]   gap\n"
        "                                flatten   dropout:RATE   batchnorm[:MOMENTUM[:EPS]]\n"
        "                              e.g. conv:32:3x3:relu,maxpool:2,conv:64:3x3:relu,\n"
        "                              maxpool:2,flatten,dropout:0.5,128:relu,10:softmax\n"
        "                              ('same' is TensorFlow's rule; sN: strides N, sHxW)\n"
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
        "                              (as written by hood export-weights, or Keras'\n"
        "                              np.savez(F, *model.get_weights()): arr_0, arr_1, ...)\n"
        "Fit:\n"
        "      --epochs N              epochs in total (default 1); 0 builds and saves the model\n"
        "                              untrained (with --init-weights: given weights packaged)\n"
        "      --batch-size N          default 32 (the last partial batch is kept)\n"
        "      --no-shuffle            keep the sample order (default: a new order each epoch)\n"
        "      --seed N                weights, shuffling and folder split (default 0; a\n"
        "                              folder's --validation-split needs it unless\n"
        "                              --no-shuffle)\n"
        "      --validation-split F    hold out the last F of DATA for validation\n"
        "      --validation-data FILE  validate on FILE (folder, .npz or .csv) instead\n"
        "      --early-stopping N      stop after N epochs without improvement (prints\n"
        "                              Keras' \"Epoch 10: early stopping\" line)\n"
        "      --monitor NAME          val_loss (default), loss, val_accuracy, accuracy\n"
        "                              (val_* needs validation data)\n"
        "      --min-delta F           smallest change that counts as improvement (default 0)\n"
        "      --restore-best          end with the best epoch's weights\n"
        "      --history FILE.csv      epoch,loss,accuracy,val_loss,val_accuracy,seconds,\n"
        "                              learning_rate (epoch counts from 0 as Keras' CSVLogger;\n"
        "                              hood plot draws it)\n"
        "      --metrics LIST          also Keras' metrics accuracy,precision,recall,auc on the\n"
        "                              epoch lines (and val_* ones), the --history columns and\n"
        "                              --evaluate (see hood evaluate --help); measured with the\n"
        "                              weights at each epoch's end, on the training and the\n"
        "                              validation part\n"
        "      --class-weight W        Keras' class_weight: balanced (n_samples / (n_classes *\n"
        "                              count), sklearn's) or CLASS:WEIGHT,... (e.g. 0:1,1:3;\n"
        "                              others weigh 1): each training sample's loss and\n"
        "                              gradient scaled by its class's weight\n"
        "      --evaluate FILE         after training, evaluate the model on FILE and print\n"
        "                              loss and accuracy (with --json: full precision)\n"
        "      --json                  print the --evaluate result as JSON\n"
        "      --lr-schedule SPEC      Keras' schedules over optimizer steps (batches):\n"
        "                              exponential:DECAY_STEPS:RATE (ExponentialDecay:\n"
        "                              lr * RATE^(step/DECAY_STEPS)) or\n"
        "                              cosine:DECAY_STEPS[:ALPHA] (CosineDecay, ALPHA default 0)\n"
        "      --reduce-lr-on-plateau FACTOR:PATIENCE\n"
        "                              ReduceLROnPlateau on --monitor: the rate times FACTOR\n"
        "                              after PATIENCE epochs without an improvement > 1e-4;\n"
        "                              with a schedule or this, the rate is in the epoch lines\n"
        "                              and --history's learning_rate column\n"
        "      --save-best             ModelCheckpoint(save_best_only): MODEL is rewritten\n"
        "                              (atomically) whenever --monitor improves, and is the\n"
        "                              best epoch's model at the end (hood info says so)\n"
        "      --plot FILE.svg         the learning curves (loss, accuracy, val_*) per epoch\n"
        "      --no-optimizer-state    save MODEL without the optimizer's state, for inference\n"
        "                              (Keras' include_optimizer=False; a later fit restarts the\n"
        "                              optimizer; --checkpoint files keep it)\n"
        "      --threads N             hood's worker threads for products and decoding (0: one\n"
        "                              per core; default 1; the BLAS itself runs on one)\n"
        "      --verbose 0|1|2         1 (default): a progress bar on a terminal, one line per\n"
        "                              epoch otherwise; 2: one line per epoch; 0: silent\n"
        "Interrupts and checkpoints:\n"
        "  SIGINT/SIGTERM finishes the batch, saves the model as of it to MODEL (marked\n"
        "  interrupted), prints the command that resumes it and exits 130/143.\n"
        "      --checkpoint FILE       save the whole training state (weights, optimizer,\n"
        "                              position, history) to FILE every N epochs and on\n"
        "                              SIGINT/SIGTERM instead (MODEL is then untouched)\n"
        "      --checkpoint-every N    epochs between checkpoints (default 1)\n"
        "      --resume FILE           continue from a checkpoint or an interrupted model;\n"
        "                              architecture, optimizer and fit settings (epochs, batch\n"
        "                              size, seed, shuffle, threads, split) come from FILE, so\n"
        "                              only DATA and -o are needed; --epochs may set a new\n"
        "                              total, any other flag must agree with FILE\n"
        "  -h, --help                  this help\n\n");
    fputs(cli_csv_help, stdout);
    fputs("\n", stdout);
    fputs(cli_dataset_help, stdout);
    fputs("The image preprocessing flags (--image-size, --color-mode, --interpolation,\n"
          "--crop-to-aspect-ratio, --pad-to-aspect-ratio, --raw-values, --jpeg-draft,\n"
          "--exif-transpose, --alpha-background) apply to a folder only: a .npz or CSV written\n"
          "by hood dataset carries its own, which the model keeps.\n",
          stdout);
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
    OPT_METRICS,
    OPT_CLASS_WEIGHT,
    /* Keras callbacks (issue 13) */
    OPT_LR_SCHEDULE,
    OPT_REDUCE_LR,
    OPT_SAVE_BEST,
    OPT_PLOT,
    OPT_NO_OPT_STATE,
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
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"class-weight", required_argument, NULL, OPT_CLASS_WEIGHT},
    {"lr-schedule", required_argument, NULL, OPT_LR_SCHEDULE},
    {"reduce-lr-on-plateau", required_argument, NULL, OPT_REDUCE_LR},
    {"save-best", no_argument, NULL, OPT_SAVE_BEST},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"no-optimizer-state", no_argument, NULL, OPT_NO_OPT_STATE},
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
        ok = cli_parse_size(CMD, "epochs", arg, 0, &a->epochs);
        a->has_epochs = true;
        break;
    case OPT_BATCH:
        ok = cli_parse_size(CMD, "batch-size", arg, 1, &a->batch);
        a->has_batch = true;
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
    case OPT_METRICS:
        ok = cli_metrics_parse(CMD, arg, &a->metrics);
        break;
    case OPT_CLASS_WEIGHT: {
        bool balanced;
        ok = cli_class_weight_parse(CMD, arg, &balanced);
        a->class_weight = arg;
        break;
    }
    case OPT_LR_SCHEDULE:
        ok = lr_schedule_parse(arg, &a->schedule);
        break;
    case OPT_REDUCE_LR:
        ok = lr_plateau_parse(arg, &a->schedule);
        break;
    case OPT_SAVE_BEST:
        a->save_best = true;
        break;
    case OPT_PLOT:
        a->plot = arg;
        break;
    case OPT_NO_OPT_STATE:
        a->no_opt_state = true;
        break;
    default:
        return -1;
    }
    return ok ? 1 : 0;
}

/* getopt_long over argv: false when the run must not go on (*rc says the exit status). */
static bool parse_options(int argc, char **argv, train_args *a, cli_dataset_flags *flags, int *rc)
{
    /* The dataset flags that say how an image becomes a column: a file made by hood dataset
     * has its own, so giving one with a file DATA is a usage error (check_args). */
    static const char *const preprocess_flags[] = {
        "image-size", "color-mode", "interpolation",  "crop-to-aspect-ratio", "pad-to-aspect-ratio",
        "raw-values", "jpeg-draft", "exif-transpose", "alpha-background"};
    struct option opts[96];
    size_t count = cli_options_append(opts, 0, train_options);
    count = cli_options_append(opts, count, cli_csv_options);
    cli_options_append(opts, count, cli_dataset_options);
    opterr = 0;
    optind = 1;
    int c, index = -1;
    while ((c = getopt_long(argc, argv, ":o:h", opts, &index)) != -1) {
        int handled = cli_csv_flag(CMD, &a->csv, c, optarg);
        if (handled == 0)
            handled = cli_dataset_flag(CMD, flags, c, optarg);
        if (handled < 0) {
            *rc = CLI_USAGE; /* a bad value is a usage error, as a bad option */
            return false;
        }
        for (size_t i = 0;
             handled > 0 && index >= 0 && i < sizeof preprocess_flags / sizeof preprocess_flags[0];
             i++)
            if (a->preprocess_flag == NULL && strcmp(opts[index].name, preprocess_flags[i]) == 0)
                a->preprocess_flag = preprocess_flags[i];
        index = -1;
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
        else if (set == 0)
            *rc = CLI_USAGE;
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
    if (a->schedule.kind != LR_NONE && a->schedule.plateau)
        return cli_usage(CMD, "--lr-schedule and --reduce-lr-on-plateau exclude each other (Keras "
                              "cannot change a scheduled rate either)");
    const char *data = argv[optind];
    bool folder = cli_is_directory(data);
    if (a->preprocess_flag != NULL && !folder)
        return cli_usage(CMD,
                         "--%s applies to an image folder; %s is a file, whose preprocessing "
                         "was fixed when it was made (hood dataset stores it in the file)",
                         a->preprocess_flag, data);
    if ((a->csv.header || a->csv.has_label_columns) && folder)
        return cli_usage(CMD, "--%s applies to CSV files; %s is a folder",
                         a->csv.header ? "header" : "label-columns", data);
    const hood_ingest_options *in = &flags->ingest;
    /* Keras warns that val_* is unavailable and early stopping then does nothing; hood refuses
     * rather than quietly monitoring something else. A resumed run may have a stored split
     * (checked once the checkpoint is read). */
    bool val_monitor =
        a->monitor == HOOD_MONITOR_VAL_LOSS || a->monitor == HOOD_MONITOR_VAL_ACCURACY;
    const char *monitoring = a->early              ? "--early-stopping"
                             : a->save_best        ? "--save-best"
                             : a->schedule.plateau ? "--reduce-lr-on-plateau"
                                                   : NULL;
    if (monitoring != NULL && val_monitor && a->resume == NULL && a->val_data == NULL &&
        in->validation_split == 0)
        return cli_usage(CMD,
                         "%s monitors %s, which needs validation data "
                         "(--validation-split or --validation-data); or --monitor loss",
                         monitoring,
                         a->monitor == HOOD_MONITOR_VAL_LOSS ? "val_loss" : "val_accuracy");
    /* A folder is split by its shuffled file list, as hood dataset (Keras' rule): the same
     * --seed must be given. A file is split by fit, which holds out its last rows unshuffled
     * (Keras' model.fit), and --validation-data replaces the split: no seed needed there. */
    if (in->validation_split > 0 && in->shuffle && !in->has_seed && a->val_data == NULL && folder)
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
    a->argc = argc;
    a->argv = argv;
    *rc = CLI_FAIL;
    if (!parse_options(argc, argv, a, flags, rc))
        return false;
    if ((*rc = check_args(argc, argv, a, flags)) != CLI_OK)
        return false;
    a->data = argv[optind];
    a->has_seed = flags->ingest.has_seed;
    flags->ingest.has_seed = true; /* seed 0 unless --seed: weights and shuffles repeat exactly */
    /* Every model option is checked before any data is read, so a typo fails at once. */
    if (a->resume == NULL) {
        train_model_spec spec;
        *rc = train_model_spec_parse(a, &spec);
        train_model_spec_free(&spec);
        if (*rc != CLI_OK) {
            *rc = CLI_USAGE; /* a bad --layers/--loss/... value */
            return false;
        }
    }
    return true;
}

/* ---- the model options ------------------------------------------------------------------- */

/* "3" or "3x5" into two sizes from 1 to 65536. */
static bool parse_hw(const char *s, size_t *h, size_t *w)
{
    char *end = NULL;
    if (s[0] < '0' || s[0] > '9')
        return false;
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (*end == 'x') {
        const char *t = end + 1;
        if (t[0] < '0' || t[0] > '9')
            return false;
        b = strtoul(t, &end, 10);
    }
    if (*end != '\0' || a == 0 || b == 0 || a > 65536 || b > 65536)
        return false;
    *h = a;
    *w = b;
    return true;
}

/* The options after a conv's kernel or a pool's window: an activation (conv), same|valid,
 * sN or sHxW (strides), nobias (conv). false (with *what naming it) on anything else. */
static bool parse_window_options(char **opt, size_t n, hood_layer_info *l, bool conv)
{
    for (size_t k = 0; k < n; k++) {
        const char *o = opt[k];
        if (strcmp(o, "same") == 0 || strcmp(o, "valid") == 0)
            l->same_padding = o[1] == 'a';
        else if (o[0] == 's' && parse_hw(o + 1, &l->stride_h, &l->stride_w))
            continue;
        else if (conv && strcmp(o, "nobias") == 0)
            l->use_bias = false;
        else if (!conv || hood_activation_parse(o, &l->activation) != HOOD_OK)
            return false;
    }
    return true;
}

/* s without its leading and trailing blanks (cut in place): "10:tanh, 1:sigmoid" reads as
 * written. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        s[--len] = '\0';
    return s;
}

/* A Dense item written without its colon ("10tanh") or the wrong way round ("tanh:10"): the
 * message says what was probably meant. */
static int dense_hint(size_t index, const char *kind, char *const *parts, size_t n)
{
    hood_activation act;
    char *end = NULL;
    unsigned long long u = strtoull(kind, &end, 10);
    if (kind[0] >= '0' && kind[0] <= '9' && end != kind && *end != '\0' && n == 1 &&
        hood_activation_parse(end, &act) == HOOD_OK)
        return cli_usage(CMD, "--layers: layer %zu: '%s': did you mean %llu:%s?", index, kind, u,
                         end);
    if (n == 2 && hood_activation_parse(kind, &act) == HOOD_OK && parts[1][0] >= '0' &&
        parts[1][0] <= '9' && strtoull(parts[1], &end, 10) > 0 && *end == '\0')
        return cli_usage(CMD, "--layers: layer %zu: '%s:%s': did you mean %s:%s?", index, kind,
                         parts[1], parts[1], kind);
    return CLI_OK;
}

/* One item of --layers (help: LAYERS_GRAMMAR). The item is split at ':' in place. */
static int parse_layer_item(char *item, size_t index, hood_layer_info *l)
{
    char *parts[8];
    size_t n = 0;
    for (char *p = item; n < 8;) {
        parts[n++] = p;
        char *colon = strchr(p, ':');
        if (colon == NULL)
            break;
        *colon = '\0';
        p = colon + 1;
    }
    for (size_t k = 0; k < n; k++)
        parts[k] = trim(parts[k]);
    if (dense_hint(index, parts[0], parts, n) != CLI_OK)
        return CLI_USAGE;
    memset(l, 0, sizeof *l);
    l->use_bias = true;
    const char *kind = parts[0];
    bool ok = true;
    if (kind[0] >= '0' && kind[0] <= '9') {
        char *end = NULL;
        unsigned long long u = strtoull(kind, &end, 10);
        if (*end != '\0' || u == 0 || u > 1000000 || n > 2)
            return cli_fail(CMD, "--layers: layer %zu: expected units from 1 to 1000000, got '%s'",
                            index, kind);
        l->kind = HOOD_LAYER_DENSE;
        l->units = (size_t)u;
        if (n == 2 && hood_activation_parse(parts[1], &l->activation) != HOOD_OK)
            return cli_fail(CMD,
                            "--layers: layer %zu: unknown activation '%s' (linear, relu, tanh, "
                            "sigmoid, softmax)",
                            index, parts[1]);
        return CLI_OK;
    }
    if (strcmp(kind, "conv") == 0) {
        char *end = NULL;
        unsigned long long f =
            n >= 3 && parts[1][0] >= '0' && parts[1][0] <= '9' ? strtoull(parts[1], &end, 10) : 0;
        l->kind = HOOD_LAYER_CONV2D;
        l->units = (size_t)f;
        ok = f > 0 && f <= 65536 && *end == '\0' &&
             parse_hw(parts[2], &l->kernel_h, &l->kernel_w) &&
             parse_window_options(parts + 3, n - 3, l, true);
    } else if (strcmp(kind, "maxpool") == 0 || strcmp(kind, "avgpool") == 0) {
        l->kind = kind[0] == 'm' ? HOOD_LAYER_MAX_POOLING2D : HOOD_LAYER_AVERAGE_POOLING2D;
        l->kernel_h = l->kernel_w = 2;
        size_t first = 1;
        if (n > 1 && parts[1][0] >= '0' && parts[1][0] <= '9') {
            ok = parse_hw(parts[1], &l->kernel_h, &l->kernel_w);
            first = 2;
        }
        ok = ok && parse_window_options(parts + first, n - first, l, false);
    } else if (strcmp(kind, "gap") == 0 || strcmp(kind, "flatten") == 0) {
        l->kind = kind[0] == 'g' ? HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D : HOOD_LAYER_FLATTEN;
        ok = n == 1;
    } else if (strcmp(kind, "dropout") == 0) {
        char *end = NULL;
        l->kind = HOOD_LAYER_DROPOUT;
        l->rate = n == 2 ? strtof(parts[1], &end) : -1.0f;
        ok = end != NULL && end != parts[1] && *end == '\0' && l->rate >= 0.0f && l->rate < 1.0f;
    } else if (strcmp(kind, "batchnorm") == 0) {
        l->kind = HOOD_LAYER_BATCH_NORMALIZATION;
        l->momentum = 0.99f;
        l->epsilon = 1e-3f;
        char *end = NULL;
        if (n >= 2) {
            l->momentum = strtof(parts[1], &end);
            ok = end != parts[1] && *end == '\0';
        }
        if (ok && n >= 3) {
            l->epsilon = strtof(parts[2], &end);
            ok = end != parts[2] && *end == '\0';
        }
        ok = ok && n <= 3;
    } else {
        return cli_fail(CMD,
                        "--layers: layer %zu: unknown layer '%s' (UNITS[:ACT], conv, maxpool, "
                        "avgpool, gap, flatten, dropout, batchnorm)",
                        index, kind);
    }
    if (!ok)
        return cli_fail(CMD,
                        "--layers: layer %zu: bad %s (conv:FILTERS:KxK[:ACT][:same][:sN]"
                        "[:nobias], maxpool[:N][:sN][:same], avgpool..., gap, flatten, "
                        "dropout:RATE, batchnorm[:MOMENTUM[:EPSILON]])",
                        index, kind);
    return CLI_OK;
}

static int parse_layers(const char *spec, train_model_spec *out)
{
    size_t n = 0;
    char **items = cli_split_commas(spec, &n);
    out->units = malloc(n * sizeof *out->units);
    out->acts = malloc(n * sizeof *out->acts);
    out->layers = malloc(n * sizeof *out->layers);
    if (items == NULL || out->units == NULL || out->acts == NULL || out->layers == NULL) {
        free(items);
        return cli_fail(CMD, "--layers: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        int rc = parse_layer_item(items[i], i + 1, &out->layers[i]);
        if (rc != CLI_OK) {
            free(items);
            return rc;
        }
        out->units[i] = out->layers[i].units;
        out->acts[i] = out->layers[i].activation;
    }
    free(items);
    out->count = n;
    return CLI_OK;
}

hood_status train_model_spec_add_layers(const train_model_spec *spec, hood_model *model)
{
    hood_status st = HOOD_OK;
    for (size_t i = 0; st == HOOD_OK && i < spec->count; i++) {
        const hood_layer_info *l = &spec->layers[i];
        switch (l->kind) {
        case HOOD_LAYER_DENSE:
            st = hood_model_add_dense(model, l->units, l->activation, true);
            break;
        case HOOD_LAYER_CONV2D:
            st = hood_model_add_conv2d(model, l->units, l->kernel_h, l->kernel_w, l->stride_h,
                                       l->stride_w, l->same_padding, l->activation, l->use_bias);
            break;
        case HOOD_LAYER_MAX_POOLING2D:
            st = hood_model_add_max_pooling2d(model, l->kernel_h, l->kernel_w, l->stride_h,
                                              l->stride_w, l->same_padding);
            break;
        case HOOD_LAYER_AVERAGE_POOLING2D:
            st = hood_model_add_average_pooling2d(model, l->kernel_h, l->kernel_w, l->stride_h,
                                                  l->stride_w, l->same_padding);
            break;
        case HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D:
            st = hood_model_add_global_average_pooling2d(model);
            break;
        case HOOD_LAYER_FLATTEN:
            st = hood_model_add_flatten(model);
            break;
        case HOOD_LAYER_DROPOUT:
            st = hood_model_add_dropout(model, l->rate);
            break;
        case HOOD_LAYER_BATCH_NORMALIZATION:
            st = hood_model_add_batch_normalization(model, l->momentum, l->epsilon);
            break;
        }
    }
    return st;
}

int train_model_spec_parse(const train_args *a, train_model_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->optimizer = HOOD_OPT_RMSPROP;
    spec->initializer = HOOD_INIT_GLOROT_UNIFORM;
    if (a->layers != NULL) {
        int rc = parse_layers(a->layers, spec);
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
    free(spec->layers);
    spec->units = NULL;
    spec->acts = NULL;
    spec->layers = NULL;
}
