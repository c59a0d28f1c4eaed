/* cmd_train.c — `hood train DATA -o MODEL`: Sequential(Dense...) + compile + fit, as the seed's
 * create_model() and model.fit() do, then an atomic save. Also checkpoints, resume, the
 * progress bar, --history and SIGINT/SIGTERM. The training itself is hood_model_fit's. */
#include "common.h"
#ifdef HOOD_MPI
#include "hood_mpi.h"
#endif

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
        "  -o, --output MODEL          the model file to write (required)\n"
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
        "      --threads N             BLAS and decoding threads (0: one per core; default 1)\n"
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

/* ---- the run's state, shared with the callbacks ------------------------------------------- */

typedef struct train_run {
    int verbose;
    bool tty;
    size_t total_epochs;
    const char *checkpoint;
    size_t checkpoint_every;
    bool checkpoint_failed;
    double epoch_start, last_draw;
    size_t last_epoch_seen;
    size_t batches;
} train_run;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void format_duration(char *buf, size_t size, double seconds, size_t steps)
{
    double per_step = steps > 0 ? seconds / (double)steps : 0.0;
    if (per_step >= 1.0)
        snprintf(buf, size, "%.0fs %.0fs/step", seconds, per_step);
    else if (per_step >= 1e-3)
        snprintf(buf, size, "%.0fs %.0fms/step", seconds, per_step * 1e3);
    else
        snprintf(buf, size, "%.0fs %.0fus/step", seconds, per_step * 1e6);
}

static void draw_bar(const train_run *run, size_t done, size_t total, double elapsed, double loss,
                     double accuracy)
{
    enum { WIDTH = 20 };
    size_t fill = total > 0 ? done * WIDTH / total : WIDTH;
    char timing[64];
    format_duration(timing, sizeof timing, elapsed, done);
    printf("\r%zu/%zu ", done, total);
    for (size_t i = 0; i < WIDTH; i++)
        fputs(i < fill ? "\xe2\x94\x81" : " ", stdout); /* U+2501, Keras' bar glyph */
    printf(" %s - accuracy: %.4f - loss: %.4f\x1b[K", timing, accuracy, loss);
    (void)run;
    fflush(stdout);
}

static int on_batch_end(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                        double accuracy)
{
    train_run *run = user;
    double t = now_seconds();
    if (epoch != run->last_epoch_seen) {
        /* First batch of an epoch (or of a resumed epoch). */
        run->last_epoch_seen = epoch;
        run->epoch_start = t;
        run->last_draw = 0;
        if (run->verbose == 1 && run->tty)
            printf("Epoch %zu/%zu\n", epoch + 1, run->total_epochs);
    }
    run->batches = num_batches;
    if (run->verbose == 1 && run->tty && (t - run->last_draw > 0.05 || batch + 1 == num_batches)) {
        draw_bar(run, batch + 1, num_batches, t - run->epoch_start, loss, accuracy);
        run->last_draw = t;
    }
    /* Stop after this batch: fit returns HOOD_ESTOPPED with the weights after it. */
    return cli_signal_received() != 0;
}

static int on_epoch_end(void *user, hood_model *model, const hood_epoch_log *log)
{
    train_run *run = user;
    char timing[64];
    format_duration(timing, sizeof timing, log->seconds, run->batches);
    if (run->verbose == 1 && run->tty) {
        printf("\r%zu/%zu ", run->batches, run->batches);
        for (int i = 0; i < 20; i++)
            fputs("\xe2\x94\x81", stdout);
        printf(" %s - accuracy: %.4f - loss: %.4f", timing, log->accuracy, log->loss);
    } else if (run->verbose >= 1) {
        printf("Epoch %zu/%zu - %zu/%zu - %s - accuracy: %.4f - loss: %.4f", log->epoch + 1,
               run->total_epochs, run->batches, run->batches, timing, log->accuracy, log->loss);
    }
    if (run->verbose >= 1) {
        if (log->has_validation)
            printf(" - val_accuracy: %.4f - val_loss: %.4f", log->val_accuracy, log->val_loss);
        printf(run->tty && run->verbose == 1 ? "\x1b[K\n" : "\n");
        fflush(stdout);
    }
    run->last_epoch_seen = (size_t)-1;
    if (run->checkpoint != NULL && (log->epoch + 1) % run->checkpoint_every == 0) {
        hood_status st = hood_model_save(model, run->checkpoint);
        if (st != HOOD_OK) {
            cli_fail_status(CMD, st);
            run->checkpoint_failed = true;
            return 1;
        }
    }
    return 0;
}

/* ---- the model --------------------------------------------------------------------------- */

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

static hood_loss default_loss(hood_activation out_act, size_t out_units, hood_label_mode mode)
{
    if (out_act == HOOD_ACT_SIGMOID)
        return HOOD_LOSS_BINARY_CROSSENTROPY;
    if (out_act == HOOD_ACT_SOFTMAX || out_units > 1)
        return mode == HOOD_LABELS_CATEGORICAL ? HOOD_LOSS_CATEGORICAL_CROSSENTROPY
                                               : HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    return HOOD_LOSS_MEAN_SQUARED_ERROR;
}

/* Copies a dataset's class names into the model (folders and .npz have them; CSV does not). */
static hood_status copy_class_names(hood_model *model, const hood_dataset *ds)
{
    size_t k = hood_dataset_num_classes(ds);
    if (k == 0 || hood_dataset_class_name(ds, 0) == NULL)
        return HOOD_OK;
    const char **names = malloc(k * sizeof *names);
    if (names == NULL)
        return HOOD_ENOMEM;
    for (size_t i = 0; i < k; i++)
        names[i] = hood_dataset_class_name(ds, i);
    hood_status st = hood_model_set_class_names(model, names, k);
    free(names);
    return st;
}

/* ---- history file ------------------------------------------------------------------------ */

static void put_value(FILE *f, bool has, double v)
{
    fputc(',', f);
    if (has)
        fprintf(f, "%.9g", v);
}

static bool write_history(cli_atomic *file, const hood_model *model, const char *path)
{
    if (!cli_atomic_open(CMD, file, path))
        return false;
    FILE *f = file->stream;
    fprintf(f, "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n");
    for (size_t i = 0; i < hood_model_history_length(model); i++) {
        const hood_epoch_log *e = hood_model_history(model, i);
        fprintf(f, "%zu", e->epoch);
        put_value(f, true, e->loss);
        put_value(f, true, e->accuracy);
        put_value(f, e->has_validation, e->val_loss);
        put_value(f, e->has_validation, e->val_accuracy);
        put_value(f, true, e->seconds);
        fputc('\n', f);
    }
    return cli_atomic_finish(CMD, file);
}

/* ---- main --------------------------------------------------------------------------------- */

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

typedef struct train_args {
    const char *out, *layers, *loss, *optimizer, *val_data, *init_weights, *history;
    const char *checkpoint, *resume, *initializer, *evaluate;
    bool has_lr, has_momentum, nesterov, json;
    double lr, momentum;
    size_t epochs, batch;
    bool early;
    size_t patience;
    hood_monitor monitor;
    double min_delta;
    bool restore_best;
    int threads;
    bool has_threads;
    int verbose;
    size_t checkpoint_every;
} train_args;

/* Loads DATA (or validation data) as a dataset: a folder through the ingest options, a file
 * by its extension. */
static int load_data(const char *path, const hood_ingest_options *ingest, hood_dataset **out,
                     hood_dataset **val_out)
{
    hood_status st;
    if (cli_is_directory(path)) {
        st = hood_dataset_from_directory(path, ingest, out, val_out);
    } else {
        hood_csv_options csv; /* a file is sharded by rows as a folder by files */
        hood_csv_options_init(&csv);
        csv.shard_index = ingest->shard_index;
        csv.shard_count = ingest->shard_count;
        st = hood_dataset_load(path, &csv, out);
    }
    return st == HOOD_OK ? CLI_OK : cli_fail_status(CMD, st);
}

/* Checks every model option before any data is read, so a typo fails at once. */
static int check_model_args(const train_args *a)
{
    size_t *units = NULL, n = 0;
    hood_activation *acts = NULL;
    int rc = a->layers != NULL ? parse_layers(a->layers, &units, &acts, &n) : CLI_OK;
    free(units);
    free(acts);
    hood_loss loss;
    hood_optimizer_kind kind;
    hood_initializer init;
    if (rc == CLI_OK && a->loss != NULL && hood_loss_parse(a->loss, &loss) != HOOD_OK)
        rc = cli_fail(CMD,
                      "--loss: unknown loss '%s' (binary_crossentropy, categorical_crossentropy, "
                      "sparse_categorical_crossentropy, mean_squared_error)",
                      a->loss);
    if (rc == CLI_OK && a->optimizer != NULL &&
        hood_optimizer_parse(a->optimizer, &kind) != HOOD_OK)
        rc =
            cli_fail(CMD, "--optimizer: unknown optimizer '%s' (sgd, adam, rmsprop)", a->optimizer);
    if (rc == CLI_OK && a->initializer != NULL &&
        hood_initializer_parse(a->initializer, &init) != HOOD_OK)
        rc = cli_fail(CMD,
                      "--initializer: unknown initializer '%s' (glorot_uniform, he_normal, "
                      "he_uniform, orthogonal, zeros)",
                      a->initializer);
    return rc;
}

static int build_model(const train_args *a, const hood_dataset *train, uint64_t seed,
                       hood_model **out)
{
    size_t *units = NULL, n = 0;
    hood_activation *acts = NULL;
    hood_model *model = NULL;
    int rc = parse_layers(a->layers, &units, &acts, &n);
    if (rc != CLI_OK)
        goto done;
    hood_loss loss = default_loss(acts[n - 1], units[n - 1], hood_dataset_label_mode(train));
    if (a->loss != NULL && hood_loss_parse(a->loss, &loss) != HOOD_OK) {
        rc = cli_fail(CMD,
                      "--loss: unknown loss '%s' (binary_crossentropy, categorical_crossentropy, "
                      "sparse_categorical_crossentropy, mean_squared_error)",
                      a->loss);
        goto done;
    }
    hood_optimizer_kind kind = HOOD_OPT_RMSPROP;
    if (a->optimizer != NULL && hood_optimizer_parse(a->optimizer, &kind) != HOOD_OK) {
        rc =
            cli_fail(CMD, "--optimizer: unknown optimizer '%s' (sgd, adam, rmsprop)", a->optimizer);
        goto done;
    }
    hood_initializer init = HOOD_INIT_GLOROT_UNIFORM;
    if (a->initializer != NULL && hood_initializer_parse(a->initializer, &init) != HOOD_OK) {
        rc = cli_fail(CMD,
                      "--initializer: unknown initializer '%s' (glorot_uniform, he_normal, "
                      "he_uniform, orthogonal, zeros)",
                      a->initializer);
        goto done;
    }
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, kind);
    if (a->has_lr)
        opt.learning_rate = (float)a->lr;
    if (a->has_momentum)
        opt.momentum = (float)a->momentum;
    opt.nesterov = a->nesterov;

    hood_status st = hood_model_create(&model, hood_dataset_features(train));
    for (size_t i = 0; st == HOOD_OK && i < n; i++)
        st = hood_model_add_dense(model, units[i], acts[i], true);
    for (size_t i = 0; st == HOOD_OK && i < n && init != HOOD_INIT_GLOROT_UNIFORM; i++)
        st = hood_model_set_initializer(model, i, init);
    if (st == HOOD_OK)
        st = hood_model_compile(model, loss, &opt, seed);
    if (st != HOOD_OK) {
        /* The model is what --layers (and --loss) describe: name the option the user can
         * change ("--layers 1000000:relu,...: compile: out of memory for ... parameters"). */
        rc = cli_fail_data(CMD, "--layers", st);
        goto done;
    }
    if (a->init_weights != NULL &&
        (st = hood_model_load_weights_npz(model, a->init_weights)) != HOOD_OK) {
        rc = cli_fail_status(CMD, st);
        goto done;
    }
    *out = model;
    model = NULL;
done:
    hood_model_free(model);
    free(units);
    free(acts);
    return rc;
}

/* Loads --evaluate's data as the model sees it (its preprocessing and class order) and checks
 * it fits the model: done before training, so a bad file fails the command before anything is
 * trained or saved. */
static int load_evaluate(const train_args *a, const hood_model *model, hood_dataset **out)
{
    hood_dataset *ds = NULL;
    hood_ingest_options in;
    hood_ingest_options_init(&in);
    in.has_seed = true;
    size_t k = hood_model_num_classes(model);
    const char **names = calloc(k + 1, sizeof *names);
    if (names == NULL)
        return cli_fail(CMD, "out of memory");
    cli_ingest_from_model(&in, model, names);
    if (hood_model_loss(model) == HOOD_LOSS_CATEGORICAL_CROSSENTROPY)
        in.label_mode = HOOD_LABELS_CATEGORICAL;
    int rc = load_data(a->evaluate, &in, &ds, NULL);
    if (rc == CLI_OK)
        rc = cli_check_width(CMD, a->evaluate, ds, hood_model_input_features(model));
    if (rc == CLI_OK) {
        hood_status st = cli_labels_for_loss(ds, hood_model_loss(model), a->evaluate);
        if (st != HOOD_OK)
            rc = cli_fail_data(CMD, a->evaluate, st);
    }
    free(names);
    if (rc != CLI_OK) {
        hood_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return CLI_OK;
}

/* Evaluates the trained model on the data load_evaluate checked, and prints the result. */
static int evaluate_after(const train_args *a, hood_model *model, const hood_dataset *ds)
{
    double loss = 0, acc = 0;
    hood_status st = hood_model_evaluate(model, ds, a->batch, &loss, &acc);
    if (st != HOOD_OK)
        return cli_fail_data(CMD, a->evaluate, st);
    if (a->json)
        printf("{\"loss\": %.17g, \"accuracy\": %.17g, \"samples\": %zu}\n", loss, acc,
               hood_dataset_samples(ds));
    else
        printf("loss: %.4f - accuracy: %.4f\n", loss, acc);
    return CLI_OK;
}

int hood_cli_train(int argc, char **argv)
{
    struct option opts[80] = {
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
    };
    cli_options_append(opts, 25, cli_dataset_options);

    train_args a;
    memset(&a, 0, sizeof a);
    a.epochs = 1;
    a.batch = 32;
    a.verbose = 1;
    a.checkpoint_every = 1;
    a.monitor = HOOD_MONITOR_VAL_LOSS;
    cli_dataset_flags flags;
    cli_dataset_flags_init(&flags);
    int rc = CLI_FAIL;
    hood_dataset *train = NULL, *val = NULL, *extra_val = NULL, *eval_ds = NULL;
    hood_model *model = NULL;
    const char **names = NULL;
    cli_atomic history;
    memset(&history, 0, sizeof history);

    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        int handled = cli_dataset_flag(CMD, &flags, c, optarg);
        if (handled < 0)
            goto done;
        if (handled > 0)
            continue;
        bool ok = true;
        switch (c) {
        case 'o':
            a.out = optarg;
            break;
        case 'h':
            print_help();
            rc = CLI_OK;
            goto done;
        case OPT_LAYERS:
            a.layers = optarg;
            break;
        case OPT_LOSS:
            a.loss = optarg;
            break;
        case OPT_OPTIMIZER:
            a.optimizer = optarg;
            break;
        case OPT_LR:
            ok = cli_parse_double(CMD, "learning-rate", optarg, 0.0, true, 1e6, &a.lr);
            a.has_lr = true;
            break;
        case OPT_MOMENTUM:
            ok = cli_parse_double(CMD, "momentum", optarg, 0.0, false, 0.999999, &a.momentum);
            a.has_momentum = true;
            break;
        case OPT_NESTEROV:
            a.nesterov = true;
            break;
        case OPT_EPOCHS:
            ok = cli_parse_size(CMD, "epochs", optarg, 1, &a.epochs);
            break;
        case OPT_BATCH:
            ok = cli_parse_size(CMD, "batch-size", optarg, 1, &a.batch);
            break;
        case OPT_VAL_DATA:
            a.val_data = optarg;
            break;
        case OPT_EARLY:
            ok = cli_parse_size(CMD, "early-stopping", optarg, 0, &a.patience);
            a.early = true;
            break;
        case OPT_MONITOR: {
            static const char *const names_m[] = {"val_loss", "loss", "val_accuracy", "accuracy"};
            int k = -1;
            for (int i = 0; i < 4; i++)
                if (strcmp(optarg, names_m[i]) == 0)
                    k = i;
            if (k < 0) {
                cli_fail(CMD,
                         "--monitor: expected val_loss, loss, val_accuracy or accuracy, got '%s'",
                         optarg);
                goto done;
            }
            a.monitor = (hood_monitor)k;
            break;
        }
        case OPT_MIN_DELTA:
            ok = cli_parse_double(CMD, "min-delta", optarg, 0.0, false, 1e30, &a.min_delta);
            break;
        case OPT_RESTORE:
            a.restore_best = true;
            break;
        case OPT_INIT_WEIGHTS:
            a.init_weights = optarg;
            break;
        case OPT_HISTORY:
            a.history = optarg;
            break;
        case OPT_THREADS:
            ok = cli_parse_int(CMD, "threads", optarg, 0, 1024, &a.threads);
            a.has_threads = true;
            break;
        case OPT_VERBOSE:
            ok = cli_parse_int(CMD, "verbose", optarg, 0, 2, &a.verbose);
            break;
        case OPT_CHECKPOINT:
            a.checkpoint = optarg;
            break;
        case OPT_CHECKPOINT_EVERY:
            ok = cli_parse_size(CMD, "checkpoint-every", optarg, 1, &a.checkpoint_every);
            break;
        case OPT_RESUME:
            a.resume = optarg;
            break;
        case OPT_INITIALIZER:
            a.initializer = optarg;
            break;
        case OPT_EVALUATE:
            a.evaluate = optarg;
            break;
        case OPT_JSON:
            a.json = true;
            break;
        default:
            rc = cli_usage_getopt(CMD, c, optopt, argv[optind - 1]);
            goto done;
        }
        if (!ok)
            goto done;
    }
    if (optind != argc - 1) {
        rc = cli_usage(CMD, optind >= argc ? "missing DATA (a folder, .npz or .csv)"
                                           : "expected one DATA operand, got more");
        goto done;
    }
    if (a.out == NULL) {
        rc = cli_usage(CMD, "missing -o MODEL");
        goto done;
    }
    if (a.layers == NULL && a.resume == NULL) {
        rc = cli_usage(CMD, "missing --layers (e.g. --layers 10:tanh,1:sigmoid)");
        goto done;
    }
    if (flags.subset_given) {
        rc = cli_usage(CMD, "--subset is for hood dataset; train splits with --validation-split");
        goto done;
    }
    if (a.resume != NULL && a.init_weights != NULL) {
        rc = cli_usage(CMD, "--resume and --init-weights exclude each other");
        goto done;
    }
    const char *data = argv[optind];
    /* A folder is split by its shuffled file list, as hood dataset (Keras' rule): the same
     * --seed must be given. A file is split by fit, which holds out its last rows unshuffled
     * (Keras' model.fit), and --validation-data replaces the split: no seed needed there. */
    if (flags.ingest.validation_split > 0 && flags.ingest.shuffle && !flags.ingest.has_seed &&
        a.val_data == NULL && cli_is_directory(data)) {
        rc = cli_usage(CMD, "--validation-split on a folder with shuffling needs --seed N (the "
                            "training and validation files must shuffle alike, as in Keras)");
        goto done;
    }
    flags.ingest.has_seed = true; /* seed 0 unless --seed: weights and shuffles repeat exactly */
    if (a.resume == NULL && (rc = check_model_args(&a)) != CLI_OK)
        goto done;
    rc = CLI_FAIL;
    if (!cli_check_writable(CMD, a.out) ||
        (a.history != NULL && !cli_check_writable(CMD, a.history)) ||
        (a.checkpoint != NULL && !cli_check_writable(CMD, a.checkpoint)))
        goto done;
#ifdef HOOD_MPI
    if (cli_mpi_rank() != 0)
        a.history = a.checkpoint = NULL; /* rank 0 alone writes; its model is every rank's */
#endif
    /* From here a signal only sets a flag: the current batch finishes, then we save. */
    cli_signals_install();

    /* Resuming: the model (architecture, optimizer state, position, history) is the checkpoint. */
    if (a.resume != NULL) {
        hood_status st = hood_model_load(a.resume, &model);
        if (st != HOOD_OK) {
            rc = cli_fail_status(CMD, st);
            goto done;
        }
    }

    /* The data. A folder is ingested with the dataset flags (a resumed model's stored
     * preprocessing and class order win, so the columns mean what they meant). */
    hood_ingest_options *in = &flags.ingest;
    if (a.has_threads)
        in->threads = a.threads;
#ifdef HOOD_MPI
    cli_mpi_shard_ingest(in); /* this rank's files or rows (and validation data's) */
#endif
    bool folder = cli_is_directory(data);
    if (model != NULL) {
        size_t k = hood_model_num_classes(model);
        names = calloc(k + 1, sizeof *names);
        if (names == NULL) {
            rc = cli_fail(CMD, "out of memory");
            goto done;
        }
        cli_ingest_from_model(in, model, names);
    }
    bool folder_split = folder && in->validation_split > 0 && a.val_data == NULL;
    in->subset = folder_split ? HOOD_SUBSET_BOTH : HOOD_SUBSET_ALL;
    double split = in->validation_split;
    if (!folder_split)
        in->validation_split = 0;
    rc = load_data(data, in, &train, folder_split ? &val : NULL);
    if (rc != CLI_OK)
        goto done;
    if (a.val_data != NULL) {
        hood_ingest_options vin = *in;
        vin.subset = HOOD_SUBSET_ALL;
        vin.validation_split = 0;
        vin.on_message = NULL;
        /* Validation folders must label classes as the training data does. */
        size_t k = hood_dataset_num_classes(train);
        const char **vnames = calloc(k + 1, sizeof *vnames);
        if (vnames == NULL) {
            rc = cli_fail(CMD, "out of memory");
            goto done;
        }
        size_t named = 0;
        for (size_t i = 0; i < k; i++)
            named += (vnames[i] = hood_dataset_class_name(train, i)) != NULL;
        if (k > 0 && named == k) {
            vin.class_names = vnames;
            vin.num_class_names = k;
        }
        rc = load_data(a.val_data, &vin, &extra_val, NULL);
        free(vnames);
        if (rc != CLI_OK)
            goto done;
    }

    if (cli_signal_received() != 0) {
        /* Stopped while reading the data: nothing was trained, so nothing is saved. */
        fprintf(stderr, "hood train: stopped by signal %d before training; nothing saved\n",
                cli_signal_received());
        rc = 128 + cli_signal_received();
        goto done;
    }
    if (model == NULL) {
        rc = build_model(&a, train, in->seed, &model);
        if (rc != CLI_OK)
            goto done;
        hood_status st = copy_class_names(model, train);
        if (st == HOOD_OK && folder)
            st = hood_model_set_preprocess(model, &in->image);
        if (st != HOOD_OK) {
            rc = cli_fail_status(CMD, st);
            goto done;
        }
    }
    rc = cli_check_width(CMD, data, train, hood_model_input_features(model));
    if (rc == CLI_OK && extra_val != NULL)
        rc = cli_check_width(CMD, a.val_data, extra_val, hood_model_input_features(model));
    if (rc != CLI_OK)
        goto done;
    hood_loss loss = hood_model_loss(model);
    hood_status st = cli_labels_for_loss(train, loss, data);
    if (st == HOOD_OK && val != NULL)
        st = cli_labels_for_loss(val, loss, data);
    if (st == HOOD_OK && extra_val != NULL)
        st = cli_labels_for_loss(extra_val, loss, a.val_data);
    if (st == HOOD_OK && a.has_threads)
        st = hood_model_set_threads(model, a.threads);
    if (st != HOOD_OK) {
        rc = cli_fail_status(CMD, st);
        goto done;
    }
    if (a.evaluate != NULL && (rc = load_evaluate(&a, model, &eval_ds)) != CLI_OK)
        goto done;

    size_t done_epochs = hood_model_epochs_done(model);
    train_run run;
    memset(&run, 0, sizeof run);
    run.verbose = a.verbose;
    run.tty = isatty(STDOUT_FILENO) != 0;
    run.total_epochs = a.epochs;
    run.checkpoint = a.checkpoint;
    run.checkpoint_every = a.checkpoint_every;
    run.last_epoch_seen = (size_t)-1;

    if (done_epochs < a.epochs) {
        hood_fit_options fit;
        hood_fit_options_init(&fit);
        fit.epochs = a.epochs - done_epochs;
        fit.batch_size = a.batch;
        fit.shuffle = in->shuffle;
        fit.seed = in->seed;
        fit.validation_data = extra_val != NULL ? extra_val : val;
        if (!folder && fit.validation_data == NULL)
            fit.validation_split = split; /* a file: fit holds out its last part, as Keras */
        fit.early_stopping = a.early;
        fit.monitor = a.monitor;
        fit.patience = a.patience;
        fit.min_delta = a.min_delta;
        fit.restore_best_weights = a.restore_best;
        fit.on_epoch_end = on_epoch_end;
        fit.on_batch_end = on_batch_end;
        fit.user = &run;
#ifdef HOOD_MPI
        hood_shard shard;
        if (cli_mpi_active()) {
            if ((rc = cli_mpi_prepare(CMD, model, train, &shard)) != CLI_OK)
                goto done;
            fit.shard = &shard;
        }
#endif
        st = hood_model_fit(model, train, &fit);
        if (run.verbose == 1 && run.tty && run.last_epoch_seen != (size_t)-1)
            putchar('\n'); /* end a bar cut short */
        int sig = cli_signal_received();
        if (sig != 0) {
            /* Stopped by SIGINT/SIGTERM after a whole batch: keep the state if asked to. */
            if (a.checkpoint != NULL) {
                hood_status cst = hood_model_save(model, a.checkpoint);
                if (cst != HOOD_OK)
                    cli_fail_status(CMD, cst);
                else
                    fprintf(stderr, "hood train: stopped by signal %d; checkpoint in %s\n", sig,
                            a.checkpoint);
            } else {
                fprintf(stderr, "hood train: stopped by signal %d; nothing saved\n", sig);
            }
            rc = 128 + sig;
            goto done;
        }
        if (run.checkpoint_failed) {
            rc = CLI_FAIL;
            goto done;
        }
        if (st != HOOD_OK) {
            rc = cli_fail_data(CMD, data, st);
            goto done;
        }
    }

    /* The history is complete on disk before the model is saved, and renamed into place only
     * after the model is: a failure anywhere leaves both outputs as they were. */
    if (a.history != NULL && !write_history(&history, model, a.history)) {
        rc = CLI_FAIL;
        goto done;
    }
#ifdef HOOD_MPI
    if (cli_mpi_rank() != 0)
        goto done; /* rc is CLI_OK: rank 0 saves (and evaluates) */
#endif
    st = hood_model_save(model, a.out);
    if (st != HOOD_OK) {
        rc = cli_fail_status(CMD, st);
        goto done;
    }
    if (a.history != NULL && !cli_atomic_rename(CMD, &history)) {
        rc = CLI_FAIL;
        goto done;
    }
    rc = eval_ds != NULL ? evaluate_after(&a, model, eval_ds) : CLI_OK;
done:
    cli_atomic_discard(&history);
    hood_model_free(model);
    hood_dataset_free(train);
    hood_dataset_free(val);
    hood_dataset_free(extra_val);
    hood_dataset_free(eval_ds);
    free(names);
    cli_dataset_flags_free(&flags);
    return rc;
}
