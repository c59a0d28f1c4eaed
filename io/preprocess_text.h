/* preprocess_text.h — hood_preprocess as "key=value" words, the one place that spells each
 * field (the CSV "# hood:" line and the .npz 'preprocess' member both use it), and the
 * %XX escaping of names inside such words. Not public API; not the pixels (image.c). */
#ifndef HOOD_PREPROCESS_TEXT_H
#define HOOD_PREPROCESS_TEXT_H

#include "hood.h"

#include <stdbool.h>
#include <stddef.h>

/* Longest text hood__preprocess_format writes, NUL included. */
enum { HOOD_PREPROCESS_TEXT_MAX = 512 };

/* Every field of pp as "key=value" words separated by one space ("height=150 width=150
 * color_mode=grayscale ..."), NUL-terminated in out (HOOD_PREPROCESS_TEXT_MAX bytes);
 * returns the length. */
size_t hood__preprocess_format(const hood_preprocess *pp, char *out);
/* One "key=value" word (len bytes) into pp: 1 stored, 0 the key is not a preprocessing field,
 * -1 the value is not valid for the key. Fields no word names keep their value (start from
 * hood_preprocess_init: files written before a field existed read as its default). */
int hood__preprocess_parse(const char *word, size_t len, hood_preprocess *pp);

/* s with bytes <= ' ', ',', '%', '=' and 0x7f as %XX, NUL-terminated into a malloc'd string
 * (NULL: out of memory). */
char *hood__name_escape(const char *s);
/* Undoes hood__name_escape on [s, s+len) into a malloc'd string; NULL on a bad escape (or %00)
 * or out of memory (*bad says which). */
char *hood__name_unescape(const char *s, size_t len, bool *bad);

#endif
