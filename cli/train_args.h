/* train_args.h — `hood train`'s command line: the options table and help, getopt_long into a
 * train_args, the checks between options (usage errors, exit 2) and the parse of the model
 * options (--layers, --loss, --optimizer, --initializer). Not the run (cmd_train.c). */
#ifndef HOOD_CLI_TRAIN_ARGS_H
#define HOOD_CLI_TRAIN_ARGS_H

#include "data.h"
#include "data_args.h"
#include "hood.h"
#include "lr_schedule.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct train_args {
    const char *data; /* the DATA operand */
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
    cli_csv_flags csv;           /* --header, --label-columns: CSV DATA and validation data */
    const char *preprocess_flag; /* the first image preprocessing flag given (--image-size...) */
    bool has_epochs, has_batch, has_seed; /* given on the command line (--resume checks) */
    int argc;                   /* the command line, for the resume command printed on a stop */
    char **argv;
    unsigned metrics;          /* --metrics (CLI_METRIC_* bits of cli/metrics.h) */
    const char *class_weight;  /* --class-weight balanced|C:W,... (checked at parse) */
    /* Keras callbacks (issue 13): schedules, ModelCheckpoint(save_best_only), curves */
    lr_schedule schedule; /* --lr-schedule, --reduce-lr-on-plateau */
    bool save_best;       /* --save-best: -o is the best epoch's model by --monitor */
    const char *plot;     /* --plot FILE.svg: the learning curves */
    bool no_opt_state;    /* --no-optimizer-state: -o without the optimizer's state */
} train_args;

/* Parses argv (argv[0] is "train") into *a and the dataset flags into *flags (initialised by
 * the caller, who frees them), and checks the options agree and name a valid model. Returns
 * true when the run should go on; otherwise a message (or the help) is printed and *rc is the
 * exit status. */
bool train_args_parse(int argc, char **argv, train_args *a, cli_dataset_flags *flags, int *rc);

/* The model the options describe: layer widths and activations, and the names given. */
typedef struct train_model_spec {
    size_t *units;         /* count entries; owned */
    hood_activation *acts; /* count entries; owned */
    hood_layer_info *layers; /* count entries (kind and settings); owned */
    size_t count;
    bool has_loss; /* --loss given (otherwise the output layer decides) */
    hood_loss loss;
    hood_optimizer_kind optimizer; /* default rmsprop, as Keras */
    hood_initializer initializer;  /* default glorot_uniform */
} train_model_spec;

/* Parses --layers (when given), --loss, --optimizer and --initializer; on a bad value prints
 * "hood train: --OPT: ..." and returns CLI_FAIL. Free the spec either way. */
int train_model_spec_parse(const train_args *a, train_model_spec *spec);
void train_model_spec_free(train_model_spec *spec);
/* Appends the spec's layers to model (whose input shape is set first for image layers); the
 * model's status and message name the layer that does not fit. */
hood_status train_model_spec_add_layers(const train_model_spec *spec, hood_model *model);

#endif
