/* signals.c — the SIGINT/SIGTERM handler of signals.h: records the signal, or (outside a phase
 * with a stop hook) removes the guarded outputs' temporaries and _exits 128 + signal, using
 * only async-signal-safe calls. Not what a command does once it is stopped (cmd_train.c). */
#include "signals.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { MAX_GUARDS = 4, PREFIX_MAX = 512 };

/* The one piece of global mutable state in hood: a signal handler can reach nothing else.
 * received_signal is written by the handler; the rest is set up by the main thread before the
 * phase it concerns and only read by the handler. */
static volatile sig_atomic_t received_signal = 0;
static volatile sig_atomic_t deferring = 0;

typedef struct guard {
    int dir_fd;               /* the output's folder, opened beforehand */
    char prefix[PREFIX_MAX];  /* "<name>.tmp." */
    size_t prefix_len;
} guard;

static guard guards[MAX_GUARDS];
static volatile sig_atomic_t num_guards = 0;
static char exit_line[128]; /* "hood CMD: stopped by signal; nothing written\n" less the name */
static size_t exit_len;
static char pid_text[24]; /* getpid() in decimal, for the commands' own "<path>.tmp.PID" */
static size_t pid_len;

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A temporary of this process's output: "<prefix>XXXXXX" (io/atomic.c's six random
 * characters), "<prefix>PID" or "<prefix>PID.tmp.XXXXXX" (a command's own temporary name). */
static bool is_temporary(const guard *g, const char *name)
{
    if (strncmp(name, g->prefix, g->prefix_len) != 0)
        return false;
    const char *rest = name + g->prefix_len;
    size_t len = strlen(rest);
    if (len == 6) {
        for (size_t i = 0; i < 6; i++)
            if (!is_alnum(rest[i]))
                return false;
        return true;
    }
    if (strncmp(rest, pid_text, pid_len) != 0)
        return false;
    rest += pid_len;
    return rest[0] == '\0' || (strncmp(rest, ".tmp.", 5) == 0 && strlen(rest) == 11);
}

/* Raw getdents64 over a folder opened before the signal: opendir/readdir are not
 * async-signal-safe, the system calls are. */
struct dirent64_raw {
    unsigned long long ino;
    long long off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static void remove_temporaries(void)
{
#ifdef SYS_getdents64
    char buf[4096] __attribute__((aligned(8)));
    for (int i = 0; i < num_guards; i++) {
        const guard *g = &guards[i];
        if (lseek(g->dir_fd, 0, SEEK_SET) != 0)
            continue;
        for (;;) {
            long got = syscall(SYS_getdents64, g->dir_fd, buf, sizeof buf);
            if (got <= 0)
                break;
            for (long at = 0; at < got;) {
                const struct dirent64_raw *e = (const struct dirent64_raw *)(buf + at);
                if (is_temporary(g, e->name))
                    (void)unlinkat(g->dir_fd, e->name, 0);
                at += e->reclen;
            }
        }
    }
#endif
}

static void on_signal(int sig)
{
    int first = received_signal == 0;
    received_signal = sig;
    if (deferring && first)
        return;
    remove_temporaries();
    const char *name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
    (void)!write(STDERR_FILENO, exit_line, exit_len);
    (void)!write(STDERR_FILENO, name, strlen(name));
    (void)!write(STDERR_FILENO, "; nothing written\n", 18);
    _exit(128 + sig);
}

void cli_signals_install(const char *cmd)
{
    snprintf(exit_line, sizeof exit_line, "hood %s: stopped by ", cmd);
    exit_len = strlen(exit_line);
    snprintf(pid_text, sizeof pid_text, "%ld", (long)getpid());
    pid_len = strlen(pid_text);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT); /* one handler at a time */
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

void cli_signals_defer(bool defer)
{
    deferring = defer ? 1 : 0;
}

bool cli_signals_guard(const char *path)
{
    if (num_guards >= MAX_GUARDS)
        return false;
    guard *g = &guards[num_guards];
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    char dir[4096];
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int n = snprintf(g->prefix, sizeof g->prefix, "%s.tmp.", base);
    if (n < 0 || (size_t)n >= sizeof g->prefix)
        return false;
    g->prefix_len = (size_t)n;
    g->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (g->dir_fd < 0)
        return false;
    num_guards = num_guards + 1; /* the handler sees the guard only once it is complete */
    return true;
}

void cli_signals_unguard_all(void)
{
    int n = num_guards;
    num_guards = 0;
    for (int i = 0; i < n; i++)
        close(guards[i].dir_fd);
}

int cli_signal_received(void)
{
    return (int)received_signal;
}

const char *cli_signal_name(int sig)
{
    static char other[32];
    if (sig == SIGINT)
        return "SIGINT";
    if (sig == SIGTERM)
        return "SIGTERM";
    snprintf(other, sizeof other, "signal %d", sig);
    return other;
}
