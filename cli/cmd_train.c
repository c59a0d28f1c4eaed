/* cmd_train.c — `hood train DATA -o MODEL`: the run — load the data, build and compile the
 * Sequential(Dense...) model (or resume a checkpoint), fit, save atomically, then --history and
 * --evaluate; checkpoints and SIGINT/SIGTERM. Not the command line (train_args.c), the progress
 * lines (progress.c) or the training itself (hood_model_fit). */
#include "common.h"
#include "data.h"
#include "metrics.h"
#include "lr_schedule.h"
#include "outputs.h"
#include "plot.h"
#include "progress.h"
#include "signals.h"
#include "train_args.h"
#include "train_run.h"
#ifdef HOOD_MPI
#include "hood_mpi.h"
#endif

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const CMD = "train";

/* ---- the model --------------------------------------------------------------------------- */

static hood_loss default_loss(hood_activation out_act, size_t out_units, hood_label_mode mode)
{
    if (out_act == HOOD_ACT_SIGMOID)
        return HOOD_LOSS_BINARY_CROSSENTROPY;
    if (out_act == HOOD_ACT_SOFTMAX || out_units > 1)
        return mode == HOOD_LABELS_CATEGORICAL ? HOOD_LOSS_CATEGORICAL_CROSSENTROPY
                                               : HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    return HOOD_LOSS_MEAN_SQUARED_ERROR;
}

/* Copies a dataset's class names into the model (folders, .npz and a CSV's "# hood:" line). */
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

/* Loads DATA (or validation data) as a dataset: a folder through the ingest options, a file
 * by its extension (a CSV's labels as --header/--label-columns, its own header, or the
 * expected width `features` say; 0: unknown). */
static int load_data(const char *path, const hood_ingest_options *ingest,
                     const cli_csv_flags *flags, size_t features, hood_dataset **out,
                     hood_dataset **val_out)
{
    hood_status st;
    if (cli_is_directory(path)) {
        st = hood_dataset_from_directory(path, ingest, out, val_out);
    } else {
        hood_csv_options csv; /* a file is sharded by rows as a folder by files */
        cli_csv_options_from(&csv, flags, features);
        csv.shard_index = ingest->shard_index;
        csv.shard_count = ingest->shard_count;
        st = hood_dataset_load(path, &csv, out);
    }
    cli_signals_defer(false); /* the progress callback deferred them while decoding */
    int sig = cli_signal_received();
    if (sig != 0) {
        fprintf(stderr, "hood train: stopped by %s before training; nothing written\n",
                cli_signal_name(sig));
        return 128 + sig;
    }
    return st == HOOD_OK ? CLI_OK : cli_fail_status(CMD, st);
}

static int build_model(const train_args *a, const hood_dataset *train, uint64_t seed,
                       hood_model **out)
{
    train_model_spec spec;
    hood_model *model = NULL;
    int rc = train_model_spec_parse(a, &spec);
    if (rc != CLI_OK)
        goto done;
    size_t n = spec.count;
    hood_loss loss = spec.has_loss ? spec.loss
                                   : default_loss(spec.acts[n - 1], spec.units[n - 1],
                                                  hood_dataset_label_mode(train));
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, spec.optimizer);
    if (a->has_lr)
        opt.learning_rate = (float)a->lr;
    if (a->has_momentum)
        opt.momentum = (float)a->momentum;
    opt.nesterov = a->nesterov;

    hood_initializer init = spec.initializer;
    hood_status st = hood_model_create(&model, hood_dataset_features(train));
    size_t h, w, c; /* image layers need the input's image shape */
    hood_dataset_image_shape(train, &h, &w, &c);
    if (st == HOOD_OK && h > 0 && w > 0 && c > 0)
        st = hood_model_set_input_shape(model, h, w, c);
    if (st == HOOD_OK)
        st = train_model_spec_add_layers(&spec, model);
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
    train_model_spec_free(&spec);
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
    int rc = load_data(a->evaluate, &in, &a->csv, hood_model_input_features(model), &ds, NULL);
    if (rc == CLI_OK)
        rc = cli_check_width(CMD, a->evaluate, ds, hood_model_input_features(model));
    if (rc == CLI_OK)
        rc = cli_check_labels(CMD, a->evaluate, ds, model);
    if (rc == CLI_OK) {
        hood_status st = cli_labels_for_loss(ds, model, a->evaluate);
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
    return cli_print_evaluation_metrics(CMD, a->evaluate, model, ds, loss, acc, a->metrics, false,
                                        a->json);
}

/* ---- the run ----------------------------------------------------------------------------- */

/* What the run holds; train_state_free releases it. */
typedef struct train_state {
    train_args *a;
    const cli_dataset_flags *flags;
    hood_ingest_options *in; /* the dataset flags' ingest options */
    bool folder;             /* DATA is an image folder */
    double split;            /* --validation-split */
    hood_model *model;
    hood_dataset *train, *val, *extra_val, *eval_ds;
    const char **names; /* a resumed model's class names, for the ingest */
    cli_atomic history;
    cli_train_metrics metrics; /* --metrics per epoch */
    double *rates;       /* the learning rate per epoch of this run (NaN: not this run's) */
    size_t best_epoch;   /* --save-best: the epoch whose model -o holds; 0: none written */
} train_state;

static void train_state_free(train_state *s)
{
    cli_atomic_discard(&s->history);
    cli_train_metrics_free(&s->metrics);
    hood_model_free(s->model);
    hood_dataset_free(s->train);
    hood_dataset_free(s->val);
    hood_dataset_free(s->extra_val);
    hood_dataset_free(s->eval_ds);
    free(s->names);
    free(s->rates);
}

/* --validation-data, ingested as DATA was but whole, and labelled in the training data's
 * class order. */
static int load_validation_data(train_state *s)
{
    hood_ingest_options vin = *s->in;
    vin.subset = HOOD_SUBSET_ALL;
    vin.validation_split = 0;
    vin.on_message = NULL;
    /* Validation folders must label classes as the training data does. */
    size_t k = hood_dataset_num_classes(s->train);
    const char **vnames = calloc(k + 1, sizeof *vnames);
    if (vnames == NULL)
        return cli_fail(CMD, "out of memory");
    size_t named = 0;
    for (size_t i = 0; i < k; i++)
        named += (vnames[i] = hood_dataset_class_name(s->train, i)) != NULL;
    if (k > 0 && named == k) {
        vin.class_names = vnames;
        vin.num_class_names = k;
    }
    int rc = load_data(s->a->val_data, &vin, &s->a->csv, hood_dataset_features(s->train),
                       &s->extra_val, NULL);
    free(vnames);
    /* The columns beyond the training width are labels: as many as the training data has. */
    size_t want = hood_dataset_label_width(s->train);
    size_t have = rc == CLI_OK ? hood_dataset_label_width(s->extra_val) : want;
    if (have != want && !(have == 1 && want > 1)) /* class indices are expanded later */
        rc = cli_fail(CMD, "%s: %zu values per sample with %zu label column%s, but %s has %zu "
                           "values and %zu label column%s",
                      s->a->val_data,
                      hood_dataset_features(s->extra_val) + have, have, have == 1 ? "" : "s",
                      s->a->data, hood_dataset_features(s->train), want, want == 1 ? "" : "s");
    return rc;
}

/* "a, b, c" into buf (cut with "..." when long). */
static void join_names(char *buf, size_t size, const char *const *names, size_t k)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < k && used + 4 < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i > 0 ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= size - used) {
            snprintf(buf + (size > 4 ? size - 4 : 0), 4, "...");
            return;
        }
        used += (size_t)w;
    }
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A resumed model's classes against the data's: a file's class names must be the model's, in
 * order; a folder's class sub-folders must be the model's classes (without --class-names, which
 * picks them). Labels would otherwise silently mean other classes. */
static int check_resumed_classes(const train_state *s)
{
    size_t k = hood_model_num_classes(s->model);
    if (k == 0 || hood_model_class_name(s->model, 0) == NULL || s->flags->class_names != NULL)
        return CLI_OK;
    const char **mine = calloc(k, sizeof *mine), **theirs = NULL;
    size_t n = 0;
    bool same = true;
    if (mine == NULL)
        return cli_fail(CMD, "out of memory");
    for (size_t i = 0; i < k; i++)
        mine[i] = hood_model_class_name(s->model, i);
    DIR *dir = s->folder ? opendir(s->a->data) : NULL;
    if (s->folder && dir != NULL) {
        struct dirent *e;
        theirs = calloc(4096, sizeof *theirs);
        while (theirs != NULL && n < 4096 && (e = readdir(dir)) != NULL) {
            char path[8192];
            struct stat st;
            snprintf(path, sizeof path, "%s/%s", s->a->data, e->d_name);
            if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                theirs[n++] = strdup(e->d_name);
        }
        closedir(dir);
        if (theirs != NULL)
            qsort(theirs, n, sizeof *theirs, compare_names);
        const char **sorted = malloc(k * sizeof *sorted);
        if (sorted != NULL && theirs != NULL) {
            memcpy(sorted, mine, k * sizeof *sorted);
            qsort(sorted, k, sizeof *sorted, compare_names);
            same = n == k;
            for (size_t i = 0; same && i < k; i++)
                same = theirs[i] != NULL && strcmp(theirs[i], sorted[i]) == 0;
        }
        free(sorted);
    } else if (!s->folder && hood_dataset_class_name(s->train, 0) != NULL) {
        n = hood_dataset_num_classes(s->train);
        theirs = calloc(n + 1, sizeof *theirs);
        for (size_t i = 0; theirs != NULL && i < n; i++)
            theirs[i] = strdup(hood_dataset_class_name(s->train, i));
        same = n == k;
        for (size_t i = 0; same && theirs != NULL && i < k; i++)
            same = theirs[i] != NULL && strcmp(theirs[i], mine[i]) == 0;
    }
    int rc = CLI_OK;
    if (!same) {
        char a[1024], b[1024];
        join_names(a, sizeof a, (const char *const *)theirs, n);
        join_names(b, sizeof b, mine, k);
        rc = cli_fail(CMD, "%s: its classes (%s) differ from %s's (%s)", s->a->data, a,
                      s->a->resume, b);
    }
    for (size_t i = 0; theirs != NULL && i < n; i++)
        free((void *)theirs[i]);
    free(theirs);
    free(mine);
    return rc;
}

/* "--batch-size 64 conflicts with ck.hood's batch size 32": a usage error naming both. */
static int conflict(const train_state *s, const char *flag, const char *given, const char *what,
                    const char *stored)
{
    return cli_usage(CMD, "%s %s conflicts with %s's %s %s (a resumed run keeps its settings; "
                          "leave the flag out)",
                     flag, given, s->a->resume, what, stored);
}

/* The optimizer and loss flags given with --resume must be the checkpoint's. */
static int resume_model_flags(train_state *s)
{
    train_args *a = s->a;
    char given[64], stored[64];
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    if (hood_model_optimizer(s->model, &opt) != HOOD_OK)
        return cli_fail_status(CMD, HOOD_EINVAL);
    hood_optimizer_kind kind;
    if (a->optimizer != NULL && hood_optimizer_parse(a->optimizer, &kind) == HOOD_OK &&
        kind != opt.kind)
        return conflict(s, "--optimizer", a->optimizer, "optimizer", hood_optimizer_name(opt.kind));
    if (a->has_lr && (float)a->lr != opt.learning_rate) {
        snprintf(given, sizeof given, "%g", a->lr);
        snprintf(stored, sizeof stored, "%g", (double)opt.learning_rate);
        return conflict(s, "--learning-rate", given, "learning rate", stored);
    }
    if (a->has_momentum && (float)a->momentum != opt.momentum) {
        snprintf(given, sizeof given, "%g", a->momentum);
        snprintf(stored, sizeof stored, "%g", (double)opt.momentum);
        return conflict(s, "--momentum", given, "momentum", stored);
    }
    if (a->nesterov && !opt.nesterov)
        return conflict(s, "--nesterov", "", "nesterov", "false");
    hood_loss loss;
    if (a->loss != NULL && hood_loss_parse(a->loss, &loss) == HOOD_OK &&
        loss != hood_model_loss(s->model))
        return conflict(s, "--loss", a->loss, "loss", hood_loss_name(hood_model_loss(s->model)));
    return CLI_OK;
}

/* --resume: the checkpoint's fit settings fill every flag not given; a flag given with another
 * value is a usage error naming both. --epochs may raise the total (Keras' fit(epochs=,
 * initial_epoch=)). */
static int resume_settings(train_state *s)
{
    train_args *a = s->a;
    hood_ingest_options *in = s->in;
    int rc = resume_model_flags(s);
    hood_fit_record rec;
    if (rc != CLI_OK || !hood_model_fit_record(s->model, &rec))
        return rc; /* a file from before the record: the flags say it all, as they did */
    char given[64], stored[64];
    if (a->has_batch && a->batch != rec.batch_size) {
        snprintf(given, sizeof given, "%zu", a->batch);
        snprintf(stored, sizeof stored, "%zu", rec.batch_size);
        return conflict(s, "--batch-size", given, "batch size", stored);
    }
    if (s->flags->shuffle_given && in->shuffle != rec.shuffle)
        return conflict(s, in->shuffle ? "--shuffle" : "--no-shuffle", "", "shuffle",
                        rec.shuffle ? "on" : "off");
    if (a->has_seed && in->seed != rec.seed) {
        snprintf(given, sizeof given, "%llu", (unsigned long long)in->seed);
        snprintf(stored, sizeof stored, "%llu", (unsigned long long)rec.seed);
        return conflict(s, "--seed", given, "seed", stored);
    }
    if (a->has_threads && a->threads != rec.threads) {
        snprintf(given, sizeof given, "%d", a->threads);
        snprintf(stored, sizeof stored, "%d", rec.threads);
        return conflict(s, "--threads", given, "threads", stored);
    }
    if (s->flags->split_given && in->validation_split != rec.validation_split) {
        snprintf(given, sizeof given, "%g", in->validation_split);
        snprintf(stored, sizeof stored, "%g", rec.validation_split);
        return conflict(s, "--validation-split", given, "validation split", stored);
    }
    if (!a->has_epochs)
        a->epochs = rec.epochs;
    a->batch = rec.batch_size;
    in->shuffle = rec.shuffle;
    in->seed = rec.seed;
    a->threads = rec.threads;
    a->has_threads = true;
    in->validation_split = rec.validation_split;
    bool val_monitor = a->monitor == HOOD_MONITOR_VAL_LOSS || a->monitor == HOOD_MONITOR_VAL_ACCURACY;
    if (a->early && val_monitor && a->val_data == NULL && rec.validation_split == 0)
        return cli_usage(CMD, "--early-stopping monitors %s, which needs validation data "
                              "(--validation-data; %s has no validation split); or --monitor loss",
                         a->monitor == HOOD_MONITOR_VAL_LOSS ? "val_loss" : "val_accuracy",
                         a->resume);
    return CLI_OK;
}

/* The checkpoint (with --resume) and the data. A folder is ingested with the dataset flags
 * (a resumed model's stored preprocessing and class order win, so the columns mean what
 * they meant). */
static int load_inputs(train_state *s)
{
    const train_args *a = s->a;
    hood_ingest_options *in = s->in;
    /* Resuming: the model (architecture, optimizer state, position, history) is the
     * checkpoint. */
    if (a->resume != NULL) {
        hood_status st = hood_model_load(a->resume, &s->model);
        if (st != HOOD_OK)
            return cli_fail_status(CMD, st);
        int rc = resume_settings(s);
        if (rc != CLI_OK)
            return rc;
    }
    if (a->has_threads)
        in->threads = a->threads;
#ifdef HOOD_MPI
    cli_mpi_shard_ingest(in); /* this rank's files or rows (and validation data's) */
#endif
    s->folder = cli_is_directory(a->data);
    if (s->model != NULL) {
        size_t k = hood_model_num_classes(s->model);
        s->names = calloc(k + 1, sizeof *s->names);
        if (s->names == NULL)
            return cli_fail(CMD, "out of memory");
        cli_ingest_from_model(in, s->model, s->names);
    }
    bool folder_split = s->folder && in->validation_split > 0 && a->val_data == NULL;
    in->subset = folder_split ? HOOD_SUBSET_BOTH : HOOD_SUBSET_ALL;
    s->split = in->validation_split;
    if (!folder_split)
        in->validation_split = 0;
    /* A resumed model's classes are checked before a folder's long ingest, after a file's load;
     * its width decides a headerless CSV's labels, as evaluate's does. */
    size_t features = s->model != NULL ? hood_model_input_features(s->model) : 0;
    int rc = s->model != NULL && s->folder ? check_resumed_classes(s) : CLI_OK;
    if (rc == CLI_OK)
        rc = load_data(a->data, in, &a->csv, features, &s->train, folder_split ? &s->val : NULL);
    if (rc == CLI_OK && s->model != NULL && !s->folder)
        rc = check_resumed_classes(s);
    if (rc == CLI_OK && a->val_data != NULL)
        rc = load_validation_data(s);
    return rc;
}

/* The model built from the options (or the resumed one) made ready for the data: class
 * names and preprocessing stored, widths checked, labels in the loss's form, threads,
 * --evaluate's data loaded. */
static int prepare_model(train_state *s)
{
    const train_args *a = s->a;
    int rc;
    if (s->model == NULL) {
        rc = build_model(a, s->train, s->in->seed, &s->model);
        if (rc != CLI_OK)
            return rc;
        hood_status st = copy_class_names(s->model, s->train);
        hood_preprocess pp; /* a file made by hood dataset says how its images became rows */
        if (st == HOOD_OK && s->folder)
            st = hood_model_set_preprocess(s->model, &s->in->image);
        else if (st == HOOD_OK && hood_dataset_preprocess(s->train, &pp))
            st = hood_model_set_preprocess(s->model, &pp);
        if (st != HOOD_OK)
            return cli_fail_status(CMD, st);
    }
    size_t features = hood_model_input_features(s->model);
    rc = cli_check_width(CMD, a->data, s->train, features);
    if (rc == CLI_OK && s->extra_val != NULL)
        rc = cli_check_width(CMD, a->val_data, s->extra_val, features);
    if (rc != CLI_OK)
        return rc;
    hood_status st = cli_labels_for_loss(s->train, s->model, a->data);
    if (st == HOOD_OK && s->val != NULL)
        st = cli_labels_for_loss(s->val, s->model, a->data);
    if (st == HOOD_OK && s->extra_val != NULL)
        st = cli_labels_for_loss(s->extra_val, s->model, a->val_data);
    if (st == HOOD_OK && a->has_threads)
        st = hood_model_set_threads(s->model, a->threads);
    if (st != HOOD_OK)
        return cli_fail_status(CMD, st);
    if (a->evaluate != NULL)
        return load_evaluate(a, s->model, &s->eval_ds);
    return CLI_OK;
}

/* The command that resumes a stopped run: this one's arguments (shell-quoted), any --resume
 * replaced by `--resume FILE`. Every flag given must agree with the file, and does. */
static void print_resume_command(const train_args *a, const char *file)
{
    fputs("hood train: resume with: hood", stderr);
    for (int i = 0; i < a->argc; i++) {
        const char *arg = a->argv[i];
        if (strcmp(arg, "--resume") == 0 && i + 1 < a->argc) {
            i++;
            continue;
        }
        if (strncmp(arg, "--resume=", 9) == 0)
            continue;
        const char *words[2] = {arg, NULL};
        if (i == a->argc - 1) {
            words[1] = "--resume";
        }
        for (int w = 0; w < 2 && words[w] != NULL; w++) {
            const char *p = words[w];
            bool plain = p[0] != '\0' && strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
                                                   "VWXYZ0123456789_./:=,@%+-") == strlen(p);
            fputc(' ', stderr);
            if (plain) {
                fputs(p, stderr);
                continue;
            }
            fputc('\'', stderr);
            for (; *p != '\0'; p++)
                fputs(*p == '\'' ? "'\\''" : (char[]){*p, '\0'}, stderr);
            fputc('\'', stderr);
        }
    }
    fprintf(stderr, " %s\n", file);
}

/* Stopped by SIGINT/SIGTERM after a whole batch: the state as of that batch goes to the one
 * place that keeps work (the checkpoint with --checkpoint, else -o, marked interrupted), with
 * the command that resumes it; 128 + sig. */
static int stopped_by_signal(train_state *s, int sig)
{
    const train_args *a = s->a;
    const char *dest = a->checkpoint != NULL ? a->checkpoint : a->out;
    if (a->checkpoint == NULL && s->best_epoch > 0) { /* ModelCheckpoint's file stays */
        fprintf(stderr, "hood train: stopped by %s; %s keeps the best epoch's model (epoch %zu)\n",
                cli_signal_name(sig), a->out, s->best_epoch);
        return 128 + sig;
    }
    hood_fit_record rec;
    hood_model_fit_record(s->model, &rec);
    rec.interrupted = true;
    rec.validation_split = s->split;
    hood_status st = hood_model_set_fit_record(s->model, &rec);
    if (st == HOOD_OK) /* a second signal exits at once, without a temporary (run_fit) */
        st = hood_model_save(s->model, dest);
    if (st != HOOD_OK) {
        cli_fail_status(CMD, st);
        return 128 + sig;
    }
    size_t epoch = hood_model_epochs_done(s->model), batch = hood_model_batches_done(s->model);
    if (batch > 0)
        fprintf(stderr, "hood train: stopped by %s in epoch %zu/%zu after batch %zu; ",
                cli_signal_name(sig), epoch + 1, a->epochs, batch);
    else
        fprintf(stderr, "hood train: stopped by %s after epoch %zu/%zu; ", cli_signal_name(sig),
                epoch, a->epochs);
    if (a->checkpoint != NULL)
        fprintf(stderr, "checkpoint in %s (%s untouched)\n", dest, a->out);
    else
        fprintf(stderr, "saved the model as of that %s to %s, marked interrupted\n",
                batch > 0 ? "batch" : "epoch", dest);
    print_resume_command(a, dest);
    return 128 + sig;
}

/* Keras' EarlyStopping lines (verbose > 0), after a fit that ended. */
static void print_early_stopping(const train_args *a, const hood_model *model)
{
    hood_fit_record rec;
    if (!a->early || a->verbose == 0 || !hood_model_fit_record(model, &rec))
        return;
    if (rec.stopped_epoch > 0)
        printf("Epoch %zu: early stopping\n", rec.stopped_epoch);
    if (rec.restored_best)
        printf("Restoring model weights from the end of the best epoch: %zu.\n", rec.best_epoch);
    fflush(stdout);
}

/* --metrics and --class-weight: which columns are training and validation (a file's split is
 * fit's: the last part held out), and the class weights (balanced: of the training part);
 * *weights is the caller's to free. */
static int prepare_metrics_and_weights(train_state *s, const hood_fit_options *fit,
                                       float **weights, size_t *count)
{
    const train_args *a = s->a;
    size_t n = hood_dataset_samples(s->train), n_train = n;
    if (fit->validation_split > 0) {
        double at = ceil((double)n * (1.0 - fit->validation_split));
        n_train = at <= 0.0 ? 0 : at >= (double)n ? n : (size_t)at;
    }
    *weights = NULL;
    *count = 0;
    if (a->metrics != 0) {
        if (!cli_train_metrics_init(CMD, &s->metrics, a->metrics, a->epochs))
            return CLI_FAIL;
        cli_train_metrics *tm = &s->metrics;
        tm->train = s->train;
        tm->n_train = n_train;
        tm->val = fit->validation_data != NULL ? fit->validation_data
                  : n_train < n                ? s->train
                                               : NULL;
        tm->val_first = fit->validation_data != NULL ? 0 : n_train;
        tm->n_val = fit->validation_data != NULL ? hood_dataset_samples(fit->validation_data)
                                                 : n - n_train;
    }
    if (a->class_weight == NULL)
        return CLI_OK;
    size_t units = hood_model_output_units(s->model), k = units == 1 ? 2 : units;
    hood_dataset *part = NULL;
    hood_status st = HOOD_OK;
    if (n_train < n) { /* balanced counts the training rows only */
        size_t w = hood_dataset_label_width(s->train);
        st = hood_dataset_wrap(&part, hood_dataset_x(s->train), hood_dataset_features(s->train),
                               n_train);
        if (st == HOOD_OK)
            st = hood_dataset_set_label_values(part, hood_dataset_label_mode(s->train),
                                               hood_dataset_labels(s->train), w,
                                               hood_dataset_num_classes(s->train));
    }
    bool ok = st == HOOD_OK &&
              cli_class_weights(CMD, a->class_weight, part != NULL ? part : s->train, k, weights,
                                count);
    hood_dataset_free(part);
    if (st != HOOD_OK)
        return cli_fail_data(CMD, a->data, st);
    return ok ? CLI_OK : CLI_FAIL;
}

/* Fits the epochs still to do (none when a resumed checkpoint is complete). */
static int run_fit(train_state *s)
{
    train_args *a = s->a;
    size_t done_epochs = hood_model_epochs_done(s->model);
    if (done_epochs >= a->epochs)
        return CLI_OK;
    train_run run;
    memset(&run, 0, sizeof run);
    cli_epoch_progress_init(&run.progress, a->verbose, a->epochs);
    run.checkpoint = a->checkpoint;
    run.checkpoint_every = a->checkpoint_every;
    run.model = s->model;
    run.monitor = a->monitor;
    run.verbose = a->verbose;
    run.split = s->split;
    run.best_out = a->save_best ? a->out : NULL;
    run.rate = hood_model_get_learning_rate(s->model);
    s->rates = malloc(a->epochs * sizeof *s->rates);
    if (s->rates == NULL)
        return cli_fail(CMD, "out of memory");
    for (size_t i = 0; i < a->epochs; i++)
        s->rates[i] = NAN;
    run.rates = s->rates;
    run.num_rates = a->epochs;
    if (a->schedule.kind != LR_NONE || a->schedule.plateau) {
        /* the schedule starts from --learning-rate or the optimizer's default (a resumed
         * model's stored rate is already the scheduled one) */
        hood_optimizer_config opt;
        hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
        hood_model_optimizer(s->model, &opt);
        hood_optimizer_config_init(&opt, opt.kind);
        a->schedule.initial = a->has_lr ? a->lr : (double)opt.learning_rate;
        a->schedule.maximize =
            a->monitor == HOOD_MONITOR_ACCURACY || a->monitor == HOOD_MONITOR_VAL_ACCURACY;
        if (done_epochs == 0 && hood_model_batches_done(s->model) == 0)
            run.rate = a->schedule.initial;
        run.schedule = &a->schedule;
        run.progress.show_learning_rate = true;
    }

    hood_fit_options fit;
    hood_fit_options_init(&fit);
    fit.epochs = a->epochs - done_epochs;
    fit.batch_size = a->batch;
    fit.shuffle = s->in->shuffle;
    fit.seed = s->in->seed;
    fit.validation_data = s->extra_val != NULL ? s->extra_val : s->val;
    if (!s->folder && fit.validation_data == NULL)
        fit.validation_split = s->split; /* a file: fit holds out its last part, as Keras */
    fit.early_stopping = a->early;
    fit.monitor = a->monitor;
    fit.patience = a->patience;
    fit.min_delta = a->min_delta;
    fit.restore_best_weights = a->restore_best;
    fit.on_epoch_end = train_run_on_epoch_end;
    fit.on_batch_end = train_run_on_batch_end;
    fit.user = &run;
    float *class_weights = NULL;
    int mrc = prepare_metrics_and_weights(s, &fit, &class_weights, &fit.num_class_weights);
    if (mrc != CLI_OK)
        return mrc;
    fit.class_weights = class_weights;
    run.metrics = a->metrics != 0 ? &s->metrics : NULL;
#ifdef HOOD_MPI
    hood_shard shard;
    if (cli_mpi_active()) {
        int rc = cli_mpi_prepare(CMD, s->model, s->train, &shard);
        if (rc != CLI_OK) {
            free(class_weights);
            return rc;
        }
        fit.shard = &shard;
    }
#endif
    /* Training stops at a batch's end (on_batch_end polls the flag); the model is kept. A
     * second signal exits at once, and a checkpoint (or the stopped model) being written then
     * leaves no temporary. */
    cli_signals_defer(true);
    cli_signals_guard(a->out);
    if (a->checkpoint != NULL)
        cli_signals_guard(a->checkpoint);
    hood_status st = hood_model_fit(s->model, s->train, &fit);
    free(class_weights);
    cli_epoch_progress_finish(&run.progress);
    s->best_epoch = run.best_epoch;
    int sig = cli_signal_received();
    int rc = sig != 0 ? stopped_by_signal(s, sig) : CLI_OK;
    cli_signals_unguard_all();
    if (sig != 0)
        return rc;
    cli_signals_defer(false);
    if (run.checkpoint_failed || run.metrics_failed)
        return CLI_FAIL;
    if (st != HOOD_OK)
        return cli_fail_data(CMD, a->data, st);
    if (s->split > 0 && fit.validation_data != NULL) {
        /* a folder's split happened before fit: the record says it */
        hood_fit_record rec;
        hood_model_fit_record(s->model, &rec);
        rec.validation_split = s->split;
        if ((st = hood_model_set_fit_record(s->model, &rec)) != HOOD_OK)
            return cli_fail_status(CMD, st);
    }
    print_early_stopping(a, s->model);
    return CLI_OK;
}

/* The model to path; with --no-optimizer-state without its optimizer state (Keras'
 * include_optimizer=False). */
static hood_status save_model(hood_model *model, const char *path, bool no_opt_state)
{
    hood_status st = no_opt_state ? hood_model_drop_optimizer_state(model) : HOOD_OK;
    return st == HOOD_OK ? hood_model_save(model, path) : st;
}

/* --save-best with --no-optimizer-state: the best epoch's file, written during training with
 * its state (the run still needed it), is rewritten without. */
static hood_status drop_optimizer_state_of(const char *path)
{
    hood_model *best = NULL;
    hood_status st = hood_model_load(path, &best);
    if (st == HOOD_OK)
        st = save_model(best, path, true);
    hood_model_free(best);
    return st;
}

/* The history is complete on disk before the model is saved, and renamed into place only
 * after the model is; --evaluate's result is printed and standard output flushed before
 * either: a failure anywhere (a full disk under stdout too) leaves both outputs as they were. */
static int save_outputs(train_state *s)
{
    const train_args *a = s->a;
    /* A signal while writing removes the temporaries and exits: the old files stay whole. */
    cli_signals_guard(a->out);
    if (a->history != NULL)
        cli_signals_guard(a->history);
    if (a->history != NULL &&
        !train_write_history(&s->history, s->model, a->history, &s->metrics, s->rates,
                             s->rates ? a->epochs : 0))
        return CLI_FAIL;
#ifdef HOOD_MPI
    if (cli_mpi_rank() != 0)
        return CLI_OK; /* rank 0 saves (and evaluates) */
#endif
    int rc = s->eval_ds != NULL ? evaluate_after(a, s->model, s->eval_ds) : CLI_OK;
    if (rc != CLI_OK || !cli_stdout_ready())
        return CLI_FAIL;
    /* --save-best: -o already holds the best epoch's model (ModelCheckpoint's file) */
    hood_status st = s->best_epoch > 0 ? HOOD_OK : save_model(s->model, a->out, a->no_opt_state);
    if (st == HOOD_OK && s->best_epoch > 0 && a->no_opt_state)
        st = drop_optimizer_state_of(a->out);
    if (st != HOOD_OK)
        return cli_fail_status(CMD, st);
    if (a->history != NULL && !cli_atomic_rename(CMD, &s->history))
        return CLI_FAIL;
    if (a->plot != NULL && !cli_plot_model(CMD, a->plot, s->model))
        return CLI_FAIL;
    if (s->best_epoch > 0 && a->verbose > 0)
        printf("Saved the best epoch's model (epoch %zu by %s) to %s\n", s->best_epoch,
               train_monitor_name(a->monitor), a->out);
    cli_signals_unguard_all();
    return CLI_OK;
}

static int run(train_args *a, cli_dataset_flags *flags)
{
    const cli_named_path outs[] = {{"-o", a->out},
                                   {"--history", a->history},
                                   {"--checkpoint", a->checkpoint},
                                   {"--plot", a->plot}};
    const cli_named_path ins[] = {{"DATA", a->data},
                                  {"--validation-data", a->val_data},
                                  {"--evaluate", a->evaluate},
                                  {"--init-weights", a->init_weights},
                                  {"--labels", flags->ingest.labels_file}};
    int distinct = cli_check_distinct(CMD, outs, 4, ins, 5);
    if (distinct != CLI_OK)
        return distinct;
    if (!cli_check_writable(CMD, a->out) ||
        (a->history != NULL && !cli_check_writable(CMD, a->history)) ||
        (a->checkpoint != NULL && !cli_check_writable(CMD, a->checkpoint)) ||
        (a->plot != NULL && !cli_check_writable(CMD, a->plot)))
        return CLI_FAIL;
#ifdef HOOD_MPI
    if (cli_mpi_rank() != 0) {
        a->history = a->checkpoint = NULL; /* rank 0 alone writes; its model is every rank's */
        a->save_best = false;
    }
#endif
    /* Reading data and writing outputs exit at once on a signal (nothing to keep); decoding
     * and training stop at their hooks (signals.h). */
    cli_signals_install(CMD);

    train_state s;
    memset(&s, 0, sizeof s);
    s.a = a;
    s.flags = flags;
    s.in = &flags->ingest;
    int rc = load_inputs(&s);
    if (rc == CLI_OK)
        rc = prepare_model(&s);
    if (rc == CLI_OK)
        rc = run_fit(&s);
    if (rc == CLI_OK)
        rc = save_outputs(&s);
    train_state_free(&s);
    return rc;
}

int hood_cli_train(int argc, char **argv)
{
    train_args a;
    cli_dataset_flags flags;
    cli_dataset_flags_init(&flags);
    int rc = CLI_FAIL;
    if (train_args_parse(argc, argv, &a, &flags, &rc))
        rc = run(&a, &flags);
    cli_dataset_flags_free(&flags);
    return rc;
}
