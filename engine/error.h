/* error.h — how hood reports failure: the function that detects a problem formats one line
 * into the calling thread's message buffer and returns the status; callers pass it up.
 * Not public API (include/hood.h is). */
#ifndef HOOD_ERROR_H
#define HOOD_ERROR_H

#include "hood.h"

#include <stddef.h>

#if defined(__GNUC__)
#define HOOD_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define HOOD_PRINTF(fmt_index, first_arg)
#endif

/* Formats the thread's error message and returns status, so a failure is one line:
 *   return hood__fail(HOOD_EFORMAT, "%s: line %zu: expected a number", path, line); */
hood_status hood__fail(hood_status status, const char *fmt, ...) HOOD_PRINTF(2, 3);
/* Prefixes the current message ("loading model.hood: " + old message); returns status. */
hood_status hood__fail_prefix(hood_status status, const char *fmt, ...) HOOD_PRINTF(2, 3);
/* Clears the thread's message (called by nothing on success paths; for tests). */
void hood__clear_error(void);

/* *out = a * b; returns non-zero (leaving *out untouched) when that overflows size_t. */
static inline int hood__mul_overflows(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a)
        return 1;
    *out = a * b;
    return 0;
}

#endif
