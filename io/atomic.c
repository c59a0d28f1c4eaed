/* atomic.c — hood_output: temp file + fsync + rename, so an existing file at the target path is
 * replaced whole or not at all, even if the process is killed mid-write. The one writer of every
 * file hood makes (library and CLI), with one mode rule. Not a lock: two writers of one path
 * race, the last rename wins. */
#include "atomic.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct hood_output {
    FILE *stream; /* NULL once finished */
    char *target;
    char *temp; /* NULL once renamed or removed */
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

/* Six name characters after "<path>.tmp.": random (getrandom, or the clock, pid and address
 * mixed when it fails), so names rarely collide; O_EXCL makes a collision a retry, not a bug. */
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

/* Creates the temporary with open(O_CREAT | O_EXCL, 0666): the kernel applies the umask (or the
 * folder's default ACL) exactly as for a plain fopen, without hood reading or changing the
 * process-wide umask (umask() is a write, and hood runs inside other programs' threads). */
static int create_temp(hood_output *file, size_t len)
{
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        temp_suffix(file->temp + len + sizeof ".tmp." - 1, attempt, file);
        int fd = open(file->temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

hood_status hood_output_open(hood_output **out, const char *path)
{
    hood__clear_error();
    if (out == NULL)
        return hood__fail(HOOD_EINVAL, "hood_output_open: out is NULL");
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return hood__fail(HOOD_EINVAL, "output path is empty");
    hood_output *file = calloc(1, sizeof *file);
    size_t len = strlen(path);
    if (file == NULL || (file->target = strdup(path)) == NULL ||
        (file->temp = malloc(len + sizeof ".tmp.XXXXXX")) == NULL) {
        hood_output_abort(file);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    }
    memcpy(file->temp, path, len);
    memcpy(file->temp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = create_temp(file, len);
    if (fd < 0) {
        int err = errno;
        free(file->temp);
        file->temp = NULL;
        hood_output_abort(file);
        return hood__fail(HOOD_EIO, "%s: cannot create: %s", path, strerror(err));
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
    file->error = err;
    unlink(file->temp);
    free(file->temp);
    file->temp = NULL;
    return hood__fail(HOOD_EIO, "%s: cannot write: %s", file->target, strerror(err));
}

hood_status hood_output_commit(hood_output *file)
{
    hood__clear_error();
    if (file == NULL)
        return hood__fail(HOOD_EINVAL, "hood_output_commit: file is NULL");
    hood_status status = hood_output_finish(file);
    if (status == HOOD_OK && rename(file->temp, file->target) != 0) {
        int err = errno;
        status = hood__fail(HOOD_EIO, "%s: cannot write: %s", file->target, strerror(err));
    }
    if (status != HOOD_OK) {
        hood_output_abort(file);
        return status;
    }
    free(file->temp);
    file->temp = NULL;
    /* The rename is durable only once the folder's entry is on disk. */
    char *dir = parent_dir(file->target);
    if (dir != NULL) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
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
    if (file->temp != NULL)
        unlink(file->temp);
    free(file->temp);
    free(file->target);
    free(file);
}
