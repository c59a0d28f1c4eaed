/* signals.c — the SIGINT/SIGTERM flag of signals.h: a handler that records the signal and
 * nothing else. Not what the command does once it is stopped (cmd_train.c). */
#include "signals.h"

#include <signal.h>
#include <string.h>

/* The one piece of global mutable state in hood: a signal handler can reach nothing else.
 * Written only by the handler, read by the training callbacks. */
static volatile sig_atomic_t received_signal = 0;

static void on_signal(int sig)
{
    received_signal = sig;
}

void cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESETHAND: a second Ctrl-C kills at once, for a user who will not wait the batch. */
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_signal_received(void)
{
    return (int)received_signal;
}
