/* input.c — opening an input file safely: O_NONBLOCK so a FIFO cannot block open(), fstat so
 * only a regular file is read (its size known and fixed up front), then blocking reads again.
 * Not a reader: the formats (csv.c, zip.c, model_file.c, scan.c) read what this opens. */
#include "input.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a non-regular file is, for the message. */
static const char *kind_of(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISDIR(mode))
        return "a folder";
    return "not a plain file";
}

hood_status hood__input_open(const char *path, int *fd_out, uint64_t *size)
{
    *fd_out = -1;
    *size = 0;
    if (path == NULL || path[0] == '\0')
        return hood__fail(HOOD_EINVAL, "input path is empty");
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return hood__fail(HOOD_EIO, "%s: cannot open for reading: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return hood__fail(HOOD_EIO, "%s: cannot open for reading: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hood__fail(HOOD_EIO, "%s: is %s, not a regular file", path, kind_of(st.st_mode));
    }
    /* A regular file never blocks; clear the flag anyway so reads behave as plain ones. */
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    *fd_out = fd;
    *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    return HOOD_OK;
}

hood_status hood__input_fopen(const char *path, FILE **out, uint64_t *size)
{
    *out = NULL;
    int fd;
    hood_status status = hood__input_open(path, &fd, size);
    if (status != HOOD_OK)
        return status;
    FILE *f = fdopen(fd, "rb");
    if (f == NULL) {
        int err = errno;
        close(fd);
        return hood__fail(HOOD_ENOMEM, "%s: cannot open for reading: %s", path, strerror(err));
    }
    *out = f;
    return HOOD_OK;
}
