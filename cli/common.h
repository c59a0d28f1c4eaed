/* common.h — what every `hood` sub-command shares: the exit codes, error and usage reporting,
 * option-value parsing and an atomic file writer. The dataset flags, DATA operands, the stop
 * flag and progress lines have headers of their own (data_args.h, data.h, signals.h,
 * progress.h). The CLI uses include/hood.h only; nothing here is library API. */
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
int hood_cli_plot(int argc, char **argv);

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
/* After MODEL failed to load: when DATA is the .hood file and MODEL is not, prints "hood CMD:
 * did you mean: hood CMD DATA MODEL?" and returns true (the caller exits CLI_USAGE). */
bool cli_hint_swapped(const char *cmd, const char *model, const char *data);
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
/* Renames the finished temporary over path and fsyncs the folder; first flushes standard
 * output and, when that fails, discards the file instead (cli_stdout_ready, outputs.h). */
bool cli_atomic_rename(const char *cmd, cli_atomic *file);
/* Removes the temporary (if any) and frees; the target stays as it was. */
void cli_atomic_discard(cli_atomic *file);

#endif
