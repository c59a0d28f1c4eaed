/* atomic.c — temp file + fsync + rename, so an existing file at the target path is replaced
 * whole or not at all, even if the process is killed mid-write. */
#include "atomic.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hood__atomic_file {
    FILE *stream;
    char *target;
    char *temp;
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

hood_status hood__atomic_open(hood__atomic_file **out, const char *path)
{
    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return hood__fail(HOOD_EINVAL, "output path is empty");
    hood__atomic_file *file = calloc(1, sizeof *file);
    size_t len = strlen(path);
    if (file == NULL || (file->target = strdup(path)) == NULL ||
        (file->temp = malloc(len + sizeof ".tmp.XXXXXX")) == NULL) {
        hood__atomic_abort(file);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    }
    memcpy(file->temp, path, len);
    memcpy(file->temp + len, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    int fd = mkstemp(file->temp);
    if (fd < 0) {
        int err = errno;
        free(file->temp);
        file->temp = NULL;
        hood__atomic_abort(file);
        return hood__fail(HOOD_EIO, "%s: cannot create: %s", path, strerror(err));
    }
    /* mkstemp makes the file 0600: keep the mode of the file being replaced, or give a new one
     * the usual 0644 (reading umask is not thread-safe, and hood runs inside other programs). */
    struct stat existing;
    (void)fchmod(fd, stat(path, &existing) == 0 ? (existing.st_mode & 07777) : 0644);
    file->stream = fdopen(fd, "wb");
    if (file->stream == NULL) {
        close(fd);
        hood__atomic_abort(file);
        return hood__fail(HOOD_EIO, "%s: cannot open for writing", path);
    }
    *out = file;
    return HOOD_OK;
}

FILE *hood__atomic_stream(hood__atomic_file *file) { return file->stream; }

hood_status hood__atomic_commit(hood__atomic_file *file)
{
    hood_status status = HOOD_OK;
    int failed = ferror(file->stream) != 0;
    int err = failed ? EIO : 0;
    if (!failed && fflush(file->stream) != 0) {
        failed = 1;
        err = errno;
    }
    if (!failed && fsync(fileno(file->stream)) != 0) {
        failed = 1;
        err = errno;
    }
    if (fclose(file->stream) != 0 && !failed) {
        failed = 1;
        err = errno;
    }
    file->stream = NULL;
    if (!failed && rename(file->temp, file->target) != 0) {
        failed = 1;
        err = errno;
    }
    if (failed) {
        status = hood__fail(HOOD_EIO, "%s: cannot write: %s", file->target, strerror(err));
        hood__atomic_abort(file);
        return status;
    }
    /* The rename is durable only once the folder's entry is on disk. */
    char *dir = parent_dir(file->target);
    if (dir != NULL) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(file->temp);
    file->temp = NULL;
    hood__atomic_abort(file);
    return status;
}

void hood__atomic_abort(hood__atomic_file *file)
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
