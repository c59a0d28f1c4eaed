/* error.c — the per-thread error message behind hood_last_error, and hood_strerror.
 * The only thread-local state in hood; nothing here prints. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HOOD_ERROR_CAPACITY = 1024 };

static _Thread_local char last_error[HOOD_ERROR_CAPACITY];

hood_status hood__fail(hood_status status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return status;
}

hood_status hood__fail_prefix(hood_status status, const char *fmt, ...)
{
    char previous[HOOD_ERROR_CAPACITY];
    memcpy(previous, last_error, sizeof previous);
    va_list args;
    va_start(args, fmt);
    int used = vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    if (used >= 0 && (size_t)used < sizeof last_error)
        snprintf(last_error + used, sizeof last_error - (size_t)used, "%s", previous);
    return status;
}

void hood__clear_error(void) { last_error[0] = '\0'; }

hood_status hood__options_copy(void *dst, size_t own, size_t first, const void *src, size_t given,
                               size_t struct_size, const char *what, const char *type)
{
    if (given < first || given > ((size_t)-1) / 2)
        return hood__fail(HOOD_EINVAL, "%s: %s.struct_size is %zu; call %s_init first", what,
                          type, struct_size, type);
    if (given > own) {
        /* A caller built against a newer hood: the fields this library does not know must be
         * at their defaults, zero bytes (docs/abi.md), or the call would ask for something this
         * library cannot do. */
        const unsigned char *tail = (const unsigned char *)src + own;
        for (size_t i = 0; i < given - own; i++)
            if (tail[i] != 0)
                return hood__fail(HOOD_EINVAL,
                                  "%s: %s.struct_size is %zu, this libhood %s knows %zu bytes "
                                  "of it, and the newer fields are set; use a newer libhood",
                                  what, type, struct_size, HOOD_VERSION_STRING,
                                  struct_size - (given - own));
        given = own;
    }
    if (dst != NULL) {
        memcpy(dst, src, given);
        memset((unsigned char *)dst + given, 0, own - given);
    }
    return HOOD_OK;
}

hood_status hood__options_size(const void *src, size_t own, size_t first, const char *what,
                               const char *type, size_t *size)
{
    *size = 0;
    if (src == NULL)
        return hood__fail(HOOD_EINVAL, "%s: the %s is NULL", what, type);
    size_t given;
    memcpy(&given, src, sizeof given);
    hood_status st = hood__options_copy(NULL, own, first, src, given, given, what, type);
    *size = given < own ? given : own;
    return st;
}

hood_status hood__options_read(void *dst, size_t own, size_t first, const void *src,
                               const char *what, const char *type)
{
    size_t size;
    hood_status st = hood__options_size(src, own, first, what, type, &size);
    if (st != HOOD_OK)
        return st;
    memcpy(dst, src, size);
    memset((unsigned char *)dst + size, 0, own - size);
    memcpy(dst, &own, sizeof own);
    return HOOD_OK;
}

void hood_free(void *p) { free(p); }

const char *hood_last_error(void) { return last_error; }

const char *hood_strerror(hood_status status)
{
    switch (status) {
    case HOOD_OK: return "success";
    case HOOD_EINVAL: return "invalid argument";
    case HOOD_ENOMEM: return "out of memory";
    case HOOD_EIO: return "input/output error";
    case HOOD_EFORMAT: return "malformed file";
    case HOOD_ESHAPE: return "shape mismatch";
    case HOOD_EDATA: return "unusable data";
    case HOOD_EDIVERGED: return "training diverged";
    case HOOD_ESTOPPED: return "stopped";
    case HOOD_EUNSUPPORTED: return "not supported";
    case HOOD_EMPI: return "distributed run failed";
    }
    return "unknown status";
}

const char *hood_version_string(void)
{
    return HOOD_VERSION_STRING;
}

int hood_version_number(void)
{
    return HOOD_VERSION_NUMBER;
}
