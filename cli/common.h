/* common.h — what the `hood` sub-commands share: error and usage reporting, option-value
 * parsing, the dataset flags of `hood dataset`/`hood train`, loading DATA operands, and an
 * atomic file writer. The CLI uses include/hood.h only; nothing here is library API. */
#ifndef HOOD_CLI_COMMON_H
#define HOOD_CLI_COMMON_H

#include "hood.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit codes: 0 success, 1 a bad input or a failed operation, 2 a usage error. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Sub-commands: argv[0] is the command name ("train"); each returns the process exit code. */
int hood_cli_dataset(int argc, char **argv);
int hood_cli_train(int argc, char **argv);
int hood_cli_evaluate(int argc, char **argv);
int hood_cli_predict(int argc, char **argv);
int hood_cli_info(int argc, char **argv);
int hood_cli_export_weights(int argc, char **argv);

/* Prints "hood CMD: MESSAGE" on stderr as one line; returns CLI_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "hood CMD: MESSAGE" as exactly one line (newlines inside become spaces). */
void cli_put_line(FILE *out, const char *cmd, const char *message);
/* Prints "hood CMD: PATH: <hood_last_error()>": for fit/evaluate, whose messages name no file. */
int cli_fail_data(const char *cmd, const char *path, hood_status status);
/* Prints "hood CMD: <hood_last_error()>" (or the status text when the message is empty). */
int cli_fail_status(const char *cmd, hood_status status);
/* Prints "hood CMD: MESSAGE" and "Try 'hood CMD --help'." on stderr; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The getopt_long failure (unknown option, missing argument) as a usage error. */
int cli_usage_getopt(const char *cmd, int c, int optopt_value, const char *arg);

/* Option values. Each returns false after printing "hood CMD: --OPT: what is wrong". */
bool cli_parse_size(const char *cmd, const char *opt, const char *text, size_t min, size_t *out);
bool cli_parse_u64(const char *cmd, const char *opt, const char *text, uint64_t *out);
bool cli_parse_int(const char *cmd, const char *opt, const char *text, int min, int max, int *out);
/* A finite number in [min, max] (min_open: strictly greater than min). */
bool cli_parse_double(const char *cmd, const char *opt, const char *text, double min, bool min_open,
                      double max, double *out);
/* Splits "a,b,c" into a NULL-terminated array of strings (one allocation; free() it). */
char **cli_split_commas(const char *text, size_t *count);

/* ---- dataset flags (hood dataset, hood train with a folder) ---------------------------- */

/* Long options the dataset flags use; their `val`s are >= CLI_DATASET_OPT_BASE. */
enum { CLI_DATASET_OPT_BASE = 1000 };
extern const struct option cli_dataset_options[]; /* terminated by a zero entry */
/* Help lines for the dataset flags. */
extern const char cli_dataset_help[];

typedef struct cli_dataset_flags {
    hood_ingest_options ingest;
    char **class_names; /* from --class-names; owned */
    bool subset_given, split_given, quiet;
    double last_progress; /* when the ingest progress line was last drawn */
} cli_dataset_flags;

void cli_dataset_flags_init(cli_dataset_flags *flags);
void cli_dataset_flags_free(cli_dataset_flags *flags);
/* Handles getopt value c when it is a dataset flag: returns 1 (handled), 0 (not a dataset
 * flag), -1 (bad value: message printed). */
int cli_dataset_flag(const char *cmd, cli_dataset_flags *flags, int c, const char *arg);
/* Appends dataset options to opts (capacity in entries); returns the new count. */
size_t cli_options_append(struct option *opts, size_t count, const struct option *more);

/* Ingest messages ("Found N files belonging to K classes.") go to stderr unless quiet. */
void cli_print_message(void *user, const char *message);
/* "Decoding images: 1200/60000" on stderr, redrawn in place, when stderr is a terminal
 * (user is the cli_dataset_flags). */
void cli_print_progress(void *user, size_t done, size_t total);

/* ---- DATA operands ------------------------------------------------------------------------ */

bool cli_is_directory(const char *path);
/* Loads a .npz, .npy or .csv file (CSV: last column is the label). */
hood_status cli_load_data_file(const char *path, hood_dataset **out);
/* Checks the dataset has width `features` (the model's input): a message naming path if not. */
int cli_check_width(const char *cmd, const char *path, const hood_dataset *ds, size_t features);
/* Ingest options that repeat a model's preprocessing and class names (for evaluate/predict). */
void cli_ingest_from_model(hood_ingest_options *opts, const hood_model *model,
                           const char **names_buf);
/* Puts a dataset's labels in the form the model's loss needs: categorical cross-entropy wants
 * one-hot rows, so class indices (a CSV's last column, a folder's int labels) are expanded. */
hood_status cli_labels_for_loss(hood_dataset *ds, hood_loss loss, const char *path);

/* ---- output files ------------------------------------------------------------------------- */

/* Fails with "PATH: cannot write: REASON" unless path's folder exists and is writable, so a
 * long run does not end with nowhere to put its result. */
bool cli_check_writable(const char *cmd, const char *path);

/* A file written to "<path>.tmp.XXXXXX" and renamed over path only on commit: the library's
 * hood_output (same mode rule as every file hood writes), with the CLI's messages. */
typedef struct cli_atomic {
    FILE *stream;
    hood_output *output;
} cli_atomic;
bool cli_atomic_open(const char *cmd, cli_atomic *file, const char *path);
/* Flushes, fsyncs and closes the temporary (not renamed yet). */
bool cli_atomic_finish(const char *cmd, cli_atomic *file);
/* Renames the finished temporary over path and fsyncs the folder. */
bool cli_atomic_rename(const char *cmd, cli_atomic *file);
/* Removes the temporary (if any) and frees; the target stays as it was. */
void cli_atomic_discard(cli_atomic *file);

/* ---- signals ------------------------------------------------------------------------------ */

/* Installs SIGINT/SIGTERM handlers that only record the signal (one-shot: a second signal
 * kills as usual). */
void cli_signals_install(void);
/* The signal received so far (0 if none). */
int cli_signal_received(void);

/* "(None, 10)"-style and thousands-separated numbers for `hood info`. */
void cli_format_thousands(char *buf, size_t size, size_t value);

#endif
