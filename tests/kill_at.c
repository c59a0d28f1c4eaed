/* kill_at.c — a test-only LD_PRELOAD shim that signals its own process at an exact moment of a
 * training run, so tests/cli/test_kill_resume.sh interrupts runs where it means to on any
 * machine under any load, instead of hoping a timed kill lands there. Not part of libhood.
 *
 * HOOD_TEST_KILL_AT=POINT:N signals the process at the Nth such moment (N >= 1):
 *   sgemm  just before the Nth cblas_sgemm call: anywhere inside a training step;
 *   fsync  just before a temporary's data is synced (written, not yet durable or linked);
 *   link   just before a temporary is linked (synced) into place.
 * A temporary is a descriptor whose /proc name is an unnamed O_TMPFILE ("... (deleted)") or a
 * named hood temporary (".tmp." in its name). HOOD_TEST_SIGNAL=INT|TERM sends that signal to
 * the process (which goes on running, as after a user's Ctrl-C) instead of SIGKILL. Before the
 * signal, one line "POINT PATH" (or "sgemm N") is appended to the file HOOD_TEST_KILL_LOG names.
 * With N = 0 nothing is signalled and, at exit, "POINT COUNT" (the moments seen) is logged.
 * Without HOOD_TEST_KILL_AT the shim only forwards the calls. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_long moments_seen;
static atomic_ullong last_inode; /* a temporary linked in two calls is one moment */

/* N when POINT is the configured point, -1 when it is not. */
static long configured_moment(const char *point)
{
    const char *spec = getenv("HOOD_TEST_KILL_AT");
    size_t len = strlen(point);
    if (spec == NULL || strncmp(spec, point, len) != 0 || spec[len] != ':')
        return -1;
    return atol(spec + len + 1);
}

static void log_line(const char *point, const char *what)
{
    const char *log = getenv("HOOD_TEST_KILL_LOG");
    if (log == NULL)
        return;
    int out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (out >= 0) {
        dprintf(out, "%s %s\n", point, what);
        close(out);
    }
}

/* Counts one moment of POINT; at the configured one, logs WHAT and signals the process. */
static void moment(const char *point, const char *what)
{
    long n = configured_moment(point);
    if (n < 0)
        return;
    long seen = atomic_fetch_add(&moments_seen, 1) + 1;
    if (n == 0 || seen != n)
        return;
    log_line(point, what);
    const char *name = getenv("HOOD_TEST_SIGNAL");
    int sig = SIGKILL;
    if (name != NULL && strcmp(name, "INT") == 0)
        sig = SIGINT;
    else if (name != NULL && strcmp(name, "TERM") == 0)
        sig = SIGTERM;
    kill(getpid(), sig); /* process-directed: any thread may take a handled signal */
}

__attribute__((destructor)) static void log_count(void)
{
    static const char *points[] = {"sgemm", "fsync", "link"};
    for (size_t i = 0; i < sizeof points / sizeof *points; i++)
        if (configured_moment(points[i]) == 0) {
            char count[32];
            snprintf(count, sizeof count, "%ld", atomic_load(&moments_seen));
            log_line(points[i], count);
        }
}

/* A moment of POINT when fd is a new temporary of an atomic write. */
static void temporary_moment(const char *point, int fd)
{
    char proc[64], name[4096];
    struct stat st;
    if (configured_moment(point) < 0)
        return;
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(proc, name, sizeof name - 1);
    if (n <= 0 || fstat(fd, &st) != 0)
        return;
    name[n] = '\0';
    if (strstr(name, " (deleted)") == NULL && strstr(name, ".tmp.") == NULL)
        return;
    if (atomic_exchange(&last_inode, (unsigned long long)st.st_ino) == st.st_ino)
        return;
    moment(point, name);
}

int fsync(int fd)
{
    int (*real_fsync)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    temporary_moment("fsync", fd);
    return real_fsync(fd);
}

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
    int (*real_linkat)(int, const char *, int, const char *, int) =
        (int (*)(int, const char *, int, const char *, int))dlsym(RTLD_NEXT, "linkat");
    if ((flags & AT_EMPTY_PATH) && oldpath[0] == '\0')
        temporary_moment("link", olddirfd);
    else if (strncmp(oldpath, "/proc/self/fd/", 14) == 0)
        temporary_moment("link", atoi(oldpath + 14));
    return real_linkat(olddirfd, oldpath, newdirfd, newpath, flags);
}

int rename(const char *oldpath, const char *newpath)
{
    int (*real_rename)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    /* The named-temporary path (no O_TMPFILE): its "link" moment is the rename. */
    if (strstr(oldpath, ".tmp.") != NULL && configured_moment("link") >= 0) {
        int fd = open(oldpath, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            temporary_moment("link", fd);
            close(fd);
        }
    }
    return real_rename(oldpath, newpath);
}

/* cblas_sgemm's C ABI: its enums are passed as int. */
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    void (*real_sgemm)(int, int, int, int, int, int, float, const float *, int, const float *,
                       int, float, float *, int) =
        (void (*)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                  float, float *, int))dlsym(RTLD_NEXT, "cblas_sgemm");
    if (configured_moment("sgemm") >= 0) {
        char what[32];
        snprintf(what, sizeof what, "%ld", atomic_load(&moments_seen) + 1);
        moment("sgemm", what);
    }
    real_sgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
