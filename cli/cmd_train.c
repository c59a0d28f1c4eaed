/* cmd_train.c — `hood train DATA -o MODEL`: the run — load the data, build and compile the
 * Sequential(Dense...) model (or resume a checkpoint), fit, save atomically, then --history and
 * --evaluate; checkpoints and SIGINT/SIGTERM. Not the command line (train_args.c), the progress
 * lines (progress.c) or the training itself (hood_model_fit). */
#include "common.h"
#include "data.h"
#include "outputs.h"
#include "progress.h"
#include "signals.h"
#include "train_args.h"
#ifdef HOOD_MPI
#include "hood_mpi.h"
#endif

#include <stdlib.h>
#include <string.h>

static const char *const CMD = "train";

/* ---- the fit callbacks ------------------------------------------------------------------- */

typedef struct train_run {
    cli_epoch_progress progress;
    const char *checkpoint;
    size_t checkpoint_every;
    bool checkpoint_failed;
} train_run;

static int on_batch_end(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                        double accuracy)
{
    train_run *run = user;
    cli_epoch_progress_batch(&run->progress, epoch, batch, num_batches, loss, accuracy);
    /* Stop after this batch: fit returns HOOD_ESTOPPED with the weights after it. */
    return cli_signal_received() != 0;
}

static int on_epoch_end(void *user, hood_model *model, const hood_epoch_log *log)
{
    train_run *run = user;
    cli_epoch_progress_epoch(&run->progress, log);
    if (run->checkpoint != NULL && (log->epoch + 1) % run->checkpoint_every == 0) {
        if (!cli_stdout_ready()) { /* a failing run replaces nothing; main() says why */
            run->checkpoint_failed = true;
            return 1;
        }
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
    for (size_t i = 0; st == HOOD_OK && i < n; i++)
        st = hood_model_add_dense(model, spec.units[i], spec.acts[i], true);
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
    int rc = load_data(a->evaluate, &in, &ds, NULL);
    if (rc == CLI_OK)
        rc = cli_check_width(CMD, a->evaluate, ds, hood_model_input_features(model));
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
    cli_print_evaluation(loss, acc, hood_dataset_samples(ds), a->json);
    return CLI_OK;
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

/* ---- the run ----------------------------------------------------------------------------- */

/* What the run holds; train_state_free releases it. */
typedef struct train_state {
    train_args *a;
    hood_ingest_options *in; /* the dataset flags' ingest options */
    bool folder;             /* DATA is an image folder */
    double split;            /* --validation-split */
    hood_model *model;
    hood_dataset *train, *val, *extra_val, *eval_ds;
    const char **names; /* a resumed model's class names, for the ingest */
    cli_atomic history;
} train_state;

static void train_state_free(train_state *s)
{
    cli_atomic_discard(&s->history);
    hood_model_free(s->model);
    hood_dataset_free(s->train);
    hood_dataset_free(s->val);
    hood_dataset_free(s->extra_val);
    hood_dataset_free(s->eval_ds);
    free(s->names);
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
    int rc = load_data(s->a->val_data, &vin, &s->extra_val, NULL);
    free(vnames);
    return rc;
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
    int rc = load_data(a->data, in, &s->train, folder_split ? &s->val : NULL);
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
        if (st == HOOD_OK && s->folder)
            st = hood_model_set_preprocess(s->model, &s->in->image);
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

/* Stopped by SIGINT/SIGTERM after a whole batch: keeps the state if asked to; 128 + sig. */
static int stopped_by_signal(const train_args *a, const hood_model *model, int sig)
{
    if (a->checkpoint != NULL) {
        hood_status cst = hood_model_save(model, a->checkpoint);
        if (cst != HOOD_OK)
            cli_fail_status(CMD, cst);
        else
            fprintf(stderr, "hood train: stopped by signal %d; checkpoint in %s\n", sig,
                    a->checkpoint);
    } else {
        fprintf(stderr, "hood train: stopped by signal %d; nothing saved\n", sig);
    }
    return 128 + sig;
}

/* Fits the epochs still to do (none when a resumed checkpoint is complete). */
static int run_fit(train_state *s)
{
    const train_args *a = s->a;
    size_t done_epochs = hood_model_epochs_done(s->model);
    if (done_epochs >= a->epochs)
        return CLI_OK;
    train_run run;
    memset(&run, 0, sizeof run);
    cli_epoch_progress_init(&run.progress, a->verbose, a->epochs);
    run.checkpoint = a->checkpoint;
    run.checkpoint_every = a->checkpoint_every;

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
    fit.on_epoch_end = on_epoch_end;
    fit.on_batch_end = on_batch_end;
    fit.user = &run;
#ifdef HOOD_MPI
    hood_shard shard;
    if (cli_mpi_active()) {
        int rc = cli_mpi_prepare(CMD, s->model, s->train, &shard);
        if (rc != CLI_OK)
            return rc;
        fit.shard = &shard;
    }
#endif
    hood_status st = hood_model_fit(s->model, s->train, &fit);
    cli_epoch_progress_finish(&run.progress);
    int sig = cli_signal_received();
    if (sig != 0)
        return stopped_by_signal(a, s->model, sig);
    if (run.checkpoint_failed)
        return CLI_FAIL;
    if (st != HOOD_OK)
        return cli_fail_data(CMD, a->data, st);
    return CLI_OK;
}

/* The history is complete on disk before the model is saved, and renamed into place only
 * after the model is; --evaluate's result is printed and standard output flushed before
 * either: a failure anywhere (a full disk under stdout too) leaves both outputs as they were. */
static int save_outputs(train_state *s)
{
    const train_args *a = s->a;
    if (a->history != NULL && !write_history(&s->history, s->model, a->history))
        return CLI_FAIL;
#ifdef HOOD_MPI
    if (cli_mpi_rank() != 0)
        return CLI_OK; /* rank 0 saves (and evaluates) */
#endif
    int rc = s->eval_ds != NULL ? evaluate_after(a, s->model, s->eval_ds) : CLI_OK;
    if (rc != CLI_OK || !cli_stdout_ready())
        return CLI_FAIL;
    hood_status st = hood_model_save(s->model, a->out);
    if (st != HOOD_OK)
        return cli_fail_status(CMD, st);
    if (a->history != NULL && !cli_atomic_rename(CMD, &s->history))
        return CLI_FAIL;
    return CLI_OK;
}

static int run(train_args *a, cli_dataset_flags *flags)
{
    const cli_named_path outs[] = {{"-o", a->out}, {"--history", a->history},
                                   {"--checkpoint", a->checkpoint}};
    const cli_named_path ins[] = {{"DATA", a->data},
                                  {"--validation-data", a->val_data},
                                  {"--evaluate", a->evaluate},
                                  {"--init-weights", a->init_weights},
                                  {"--labels", flags->ingest.labels_file}};
    int distinct = cli_check_distinct(CMD, outs, 3, ins, 5);
    if (distinct != CLI_OK)
        return distinct;
    if (!cli_check_writable(CMD, a->out) ||
        (a->history != NULL && !cli_check_writable(CMD, a->history)) ||
        (a->checkpoint != NULL && !cli_check_writable(CMD, a->checkpoint)))
        return CLI_FAIL;
#ifdef HOOD_MPI
    if (cli_mpi_rank() != 0)
        a->history = a->checkpoint = NULL; /* rank 0 alone writes; its model is every rank's */
#endif
    /* From here a signal only sets a flag: the current batch finishes, then we save. */
    cli_signals_install();

    train_state s;
    memset(&s, 0, sizeof s);
    s.a = a;
    s.in = &flags->ingest;
    int rc = load_inputs(&s);
    int sig = rc == CLI_OK ? cli_signal_received() : 0;
    if (sig != 0) {
        /* Stopped while reading the data: nothing was trained, so nothing is saved. */
        fprintf(stderr, "hood train: stopped by signal %d before training; nothing saved\n", sig);
        rc = 128 + sig;
    }
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
