/* signals.h — what SIGINT/SIGTERM do to a `hood` command, phase by phase: where the work has a
 * stop hook (decoding's progress callback, training's batch callback) the signal is recorded
 * and the command stops there and keeps what it can; anywhere else (scanning, reading a CSV or
 * .npz, writing an output) nothing worth keeping is in flight, so the process removes the
 * temporaries of the outputs it is writing and exits 128 + signal at once. Not the saving of
 * an interrupted run (cmd_train.c) and not library code. */
#ifndef HOOD_CLI_SIGNALS_H
#define HOOD_CLI_SIGNALS_H

#include <stdbool.h>

/* Installs the SIGINT/SIGTERM handlers of `hood CMD`, in the exit-at-once mode (which prints
 * "hood CMD: stopped by SIGINT; nothing written"). */
void cli_signals_install(const char *cmd);
/* defer true: a signal is only recorded (the command polls cli_signal_received and stops at
 * its next hook); a second signal exits at once. defer false: a signal exits at once. */
void cli_signals_defer(bool defer);
/* While an output is being written atomically to `path` ("<path>.tmp.XXXXXX", or a command's
 * own "<path>.tmp.PID"), an exit at once removes those temporaries first (up to 4 paths;
 * false when the folder cannot be opened). cli_signals_unguard_all forgets them. */
bool cli_signals_guard(const char *path);
void cli_signals_unguard_all(void);
/* The signal received so far (0 if none). */
int cli_signal_received(void);
/* "SIGINT", "SIGTERM" or "signal N". */
const char *cli_signal_name(int sig);

#endif
