/* error.c — the per-thread error message behind hood_last_error, and hood_strerror.
 * The only thread-local state in hood; nothing here prints. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
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
