/* signals.h — `hood train`'s stop flag: SIGINT/SIGTERM recorded, so the current batch ends and
 * the state is saved before the exit. Not the saving (cmd_train.c) and not library code. */
#ifndef HOOD_CLI_SIGNALS_H
#define HOOD_CLI_SIGNALS_H

/* Installs SIGINT/SIGTERM handlers that only record the signal (one-shot: a second signal
 * kills as usual). */
void cli_signals_install(void);
/* The signal received so far (0 if none). */
int cli_signal_received(void);

#endif
