/* data_args.h — the dataset flags that `hood dataset` and `hood train` share (--image-size,
 * --color-mode, ..., as Keras' image_dataset_from_directory), parsed into hood_ingest_options.
 * Not the loading of DATA operands (data.h) and not the ingest itself (io/). */
#ifndef HOOD_CLI_DATA_ARGS_H
#define HOOD_CLI_DATA_ARGS_H

#include "hood.h"
#include "progress.h"

#include <getopt.h>
#include <stdbool.h>

/* Long options the dataset flags use; their `val`s are >= CLI_DATASET_OPT_BASE. */
enum { CLI_DATASET_OPT_BASE = 1000 };
extern const struct option cli_dataset_options[]; /* terminated by a zero entry */
/* Help lines for the dataset flags. */
extern const char cli_dataset_help[];

typedef struct cli_dataset_flags {
    hood_ingest_options ingest;
    char **class_names; /* from --class-names; owned */
    bool subset_given, split_given, quiet;
    cli_ingest_progress progress; /* the ingest's user: the "Decoding images" line's timer */
    bool shuffle_given;           /* --shuffle or --no-shuffle (train --resume checks it) */
} cli_dataset_flags;

void cli_dataset_flags_init(cli_dataset_flags *flags);
void cli_dataset_flags_free(cli_dataset_flags *flags);
/* Handles getopt value c when it is a dataset flag: returns 1 (handled), 0 (not a dataset
 * flag), -1 (bad value: message printed). */
int cli_dataset_flag(const char *cmd, cli_dataset_flags *flags, int c, const char *arg);
/* Appends dataset options to opts (capacity in entries); returns the new count. */
size_t cli_options_append(struct option *opts, size_t count, const struct option *more);

#endif
