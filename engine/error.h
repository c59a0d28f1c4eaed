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
/* Clears the thread's message: every public entry point calls it first, so a call that
 * succeeds leaves hood_last_error() empty (hood.h, Conventions). */
void hood__clear_error(void);

/* The end of member m of struct type t: the size of the first released layout is
 * HOOD__END(t, last member then). */
#define HOOD__END(t, m) (offsetof(t, m) + sizeof(((t *)0)->m))
/* Reads a caller's options struct (one of the five with a leading `size_t struct_size`, see
 * docs/abi.md) into dst, `own` bytes long:
 *   - struct_size 0 or below `first` (the end of the first released layout's last field):
 *     HOOD_EINVAL "WHAT: TYPE.struct_size is N; call TYPE_init first";
 *   - struct_size above `own` (a newer caller): accepted only when the bytes past `own` are all
 *     zero (fields this library does not know, at their defaults), else HOOD_EINVAL naming both
 *     sizes;
 *   - otherwise the first min(struct_size, own) bytes are copied and the rest of dst zeroed:
 *     a field appended after the first release defaults to zero bytes (docs/abi.md), so a field
 *     the caller's struct lacks gets its default. dst->struct_size becomes `own`. */
hood_status hood__options_read(void *dst, size_t own, size_t first, const void *src,
                               const char *what, const char *type);
/* The check alone: *size gets how many bytes of src to read, or of an out-argument to write. */
hood_status hood__options_size(const void *src, size_t own, size_t first, const char *what,
                               const char *type, size_t *size);
/* The rules for `given` bytes at src that are not a whole struct (the part of
 * hood_ingest_options after its nested hood_preprocess); messages name struct_size. */
hood_status hood__options_copy(void *dst, size_t own, size_t first, const void *src, size_t given,
                               size_t struct_size, const char *what, const char *type);
/* engine/names.c: the two engine option structs, read as hood__options_read says. */
hood_status hood__optimizer_config_read(hood_optimizer_config *dst,
                                        const hood_optimizer_config *src, const char *what);
hood_status hood__fit_options_read(hood_fit_options *dst, const hood_fit_options *src,
                                   const char *what);
/* The first released hood_preprocess ends at raw_values. hood_preprocess_init lives in io
 * (image.c); reading one needs no defaults (docs/abi.md), so the engine reads it too. */
#define HOOD__PREPROCESS_FIRST HOOD__END(hood_preprocess, alpha_background)
static inline hood_status hood__preprocess_read(hood_preprocess *dst, const hood_preprocess *src,
                                                const char *what)
{
    return hood__options_read(dst, sizeof *dst, HOOD__PREPROCESS_FIRST, src, what,
                              "hood_preprocess");
}

/* *out = a * b; returns non-zero (leaving *out untouched) when that overflows size_t. */
static inline int hood__mul_overflows(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a)
        return 1;
    *out = a * b;
    return 0;
}

#endif
