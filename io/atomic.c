/* atomic.c — hood_output: an unnamed temporary (O_TMPFILE) or a named one beside the target,
 * fsync, then link/rename over the target, so an existing file is replaced whole or not at all,
 * even if the process is killed mid-write. The one writer of every file hood makes (library and
 * CLI), with one mode rule. Not a lock: two writers of one path race, the last rename wins. */
#define _GNU_SOURCE /* O_TMPFILE, linkat's AT_EMPTY_PATH */
#include "atomic.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct hood_output {
    FILE *stream; /* NULL once finished */
    int fd;       /* an unnamed temporary's descriptor (for the link), else -1 */
    char *target;
    char *dir;  /* target's folder */
    char *temp; /* the named temporary (fallback), or the unnamed one's link name; NULL once
                   renamed or removed */
    int error;  /* errno of a failed finish: commit reports it again */
};

static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* Six name characters: random (getrandom, or the clock, pid and address mixed when it fails),
 * so names rarely collide; O_EXCL (or link's EEXIST) makes a collision a retry, not a bug. */
static void temp_suffix(char *out, unsigned attempt, const void *salt)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 20 ^
            (uint64_t)(uintptr_t)salt ^ attempt;
        v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9u; /* splitmix64's finaliser */
        v = (v ^ (v >> 27)) * 0x94d049bb133111ebu;
        v ^= v >> 31;
    }
    for (int i = 0; i < 6; i++, v /= 62)
        out[i] = digits[v % 62];
}

/* "<path>.tmp.XXXXXX", its last component cut to NAME_MAX: a legal 255-byte name stays legal
 * with the suffix (the cut keeps the folder, so the temporary is beside the target). */
static char *temp_name(const char *path)
{
    enum { SUFFIX = sizeof ".tmp.XXXXXX" - 1 };
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash != NULL ? (size_t)(slash + 1 - path) : 0;
    size_t base = strlen(path) - dir_len;
    if (base > NAME_MAX - SUFFIX)
        base = NAME_MAX - SUFFIX;
    char *temp = malloc(dir_len + base + SUFFIX + 1);
    if (temp != NULL) {
        memcpy(temp, path, dir_len + base);
        memcpy(temp + dir_len + base, ".tmp.XXXXXX", SUFFIX + 1);
    }
    return temp;
}

/* Fills the XXXXXX of file->temp afresh. */
static void new_temp_suffix(hood_output *file, unsigned attempt)
{
    temp_suffix(file->temp + strlen(file->temp) - 6, attempt, file);
}

/* The named fallback: open(O_CREAT | O_EXCL, 0666): the kernel applies the umask (or the
 * folder's default ACL) exactly as for a plain fopen, without hood reading or changing the
 * process-wide umask (umask() is a write, and hood runs inside other programs' threads). */
static int create_named(hood_output *file)
{
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        new_temp_suffix(file, attempt);
        int fd = open(file->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* An unnamed temporary in the target's folder (same mode rule: O_TMPFILE applies the umask as
 * O_CREAT does), or -1 with errno when the file system or kernel has none (EOPNOTSUPP, EISDIR
 * or EINVAL from kernels without O_TMPFILE). It is used only when /proc can name it for the
 * link; otherwise the fallback. */
static int create_unnamed(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (access(proc, F_OK) != 0) {
        close(fd);
        errno = EOPNOTSUPP;
        return -1;
    }
    return fd;
#else
    (void)dir;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

static bool unnamed_unsupported(int err)
{
    return err == EOPNOTSUPP || err == EISDIR || err == EINVAL || err == ENOSYS;
}

hood_status hood__output_open_mode(hood_output **out, const char *path, bool allow_unnamed)
{
    hood__clear_error();
    if (out == NULL)
        return hood__fail(HOOD_EINVAL, "hood_output_open: out is NULL");
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return hood__fail(HOOD_EINVAL, "output path is empty");
    hood_output *file = calloc(1, sizeof *file);
    if (file != NULL)
        file->fd = -1;
    if (file == NULL || (file->target = strdup(path)) == NULL ||
        (file->dir = parent_dir(path)) == NULL || (file->temp = temp_name(path)) == NULL) {
        hood_output_abort(file);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    }
    int fd = -1, err = EOPNOTSUPP;
    if (allow_unnamed) {
        fd = create_unnamed(file->dir);
        err = fd < 0 ? errno : 0;
    }
    if (fd >= 0) {
        file->fd = fd;
        fd = dup(fd); /* the stream's own: finishing closes it, the link needs file->fd */
        err = fd < 0 ? errno : 0;
    } else if (unnamed_unsupported(err)) {
        fd = create_named(file);
        err = fd < 0 ? errno : 0;
    }
    if (fd < 0) {
        free(file->temp); /* nothing was created under it */
        file->temp = NULL;
        hood_output_abort(file);
        return hood__fail(HOOD_EIO, "%s: cannot create: %s", path, strerror(err));
    }
    if (file->fd >= 0) {
        free(file->temp); /* no name until the commit */
        file->temp = NULL;
    }
    /* Replacing a file keeps its mode, as writing it in place with fopen would. */
    struct stat existing;
    if (stat(path, &existing) == 0 && S_ISREG(existing.st_mode))
        (void)fchmod(fd, existing.st_mode & 07777);
    file->stream = fdopen(fd, "wb");
    if (file->stream == NULL) {
        close(fd);
        hood_output_abort(file);
        return hood__fail(HOOD_EIO, "%s: cannot open for writing", path);
    }
    *out = file;
    return HOOD_OK;
}

hood_status hood_output_open(hood_output **out, const char *path)
{
    hood__clear_error();
    return hood__output_open_mode(out, path, true);
}

bool hood__output_is_unnamed(const hood_output *file)
{
    return file != NULL && file->fd >= 0;
}

const char *hood__output_path(const hood_output *file)
{
    return file->target;
}

/* The temporary goes (closed, and unlinked when named); err is what commit reports later. */
static void discard(hood_output *file, int err)
{
    file->error = err;
    if (file->stream != NULL)
        fclose(file->stream);
    file->stream = NULL;
    if (file->fd >= 0) {
        close(file->fd); /* an unnamed temporary vanishes with its last descriptor */
        file->fd = -1;
    }
    if (file->temp != NULL)
        unlink(file->temp);
    free(file->temp);
    file->temp = NULL;
}

void hood__output_discard(hood_output *file)
{
    if (file != NULL && file->error == 0)
        discard(file, ECANCELED);
}

FILE *hood_output_stream(hood_output *file)
{
    return file != NULL ? file->stream : NULL;
}

hood_status hood_output_finish(hood_output *file)
{
    hood__clear_error();
    if (file == NULL)
        return hood__fail(HOOD_EINVAL, "hood_output_finish: file is NULL");
    if (file->error != 0)
        return hood__fail(HOOD_EIO, "%s: cannot write: %s", file->target, strerror(file->error));
    if (file->stream == NULL)
        return HOOD_OK; /* finished before */
    int err = ferror(file->stream) ? EIO : 0;
    if (err == 0 && fflush(file->stream) != 0)
        err = errno;
    if (err == 0 && fsync(fileno(file->stream)) != 0)
        err = errno;
    if (fclose(file->stream) != 0 && err == 0)
        err = errno;
    file->stream = NULL;
    if (err == 0)
        return HOOD_OK;
    discard(file, err);
    return hood__fail(HOOD_EIO, "%s: cannot write: %s", file->target, strerror(err));
}

/* Gives the unnamed temporary a name: through /proc (any user), else AT_EMPTY_PATH (needs
 * CAP_DAC_READ_SEARCH). */
static int link_unnamed(int fd, const char *name)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    int err = errno;
    if (err == EEXIST)
        return -1;
#ifdef AT_EMPTY_PATH
    if (linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH) == 0)
        return 0;
#endif
    errno = err;
    return -1;
}

/* The unnamed temporary becomes path: linked straight to it when path does not exist (no
 * temporary name ever appears), else linked to a short unique name beside it and renamed
 * over it. */
static int commit_unnamed(hood_output *file)
{
    if (link_unnamed(file->fd, file->target) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    if ((file->temp = temp_name(file->target)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        new_temp_suffix(file, attempt);
        if (link_unnamed(file->fd, file->temp) == 0)
            return rename(file->temp, file->target);
        if (errno != EEXIST)
            break;
    }
    int err = errno;
    free(file->temp); /* not linked: nothing to remove */
    file->temp = NULL;
    errno = err;
    return -1;
}

hood_status hood_output_commit(hood_output *file)
{
    hood__clear_error();
    if (file == NULL)
        return hood__fail(HOOD_EINVAL, "hood_output_commit: file is NULL");
    hood_status status = hood_output_finish(file);
    int rc = 0;
    if (status == HOOD_OK)
        rc = file->fd >= 0 ? commit_unnamed(file) : rename(file->temp, file->target);
    if (status == HOOD_OK && rc != 0) {
        int err = errno;
        status = hood__fail(HOOD_EIO, "%s: cannot write: %s", file->target, strerror(err));
    }
    if (status != HOOD_OK) {
        hood_output_abort(file);
        return status;
    }
    free(file->temp); /* renamed: the name is the target's now */
    file->temp = NULL;
    /* The rename is durable only once the folder's entry is on disk. */
    int dfd = open(file->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    hood_output_abort(file);
    return HOOD_OK;
}

void hood_output_abort(hood_output *file)
{
    if (file == NULL)
        return;
    if (file->stream != NULL)
        fclose(file->stream);
    if (file->fd >= 0)
        close(file->fd);
    if (file->temp != NULL)
        unlink(file->temp);
    free(file->temp);
    free(file->dir);
    free(file->target);
    free(file);
}
