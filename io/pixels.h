/* pixels.h — what the image rooms (decode.c, exif.c, resample.c, image.c) pass each other: a
 * decoded image in a pixel buffer, grow-only scratch buffers and checked buffer sizes.
 * No library calls and no decoding or resampling here. */
#ifndef HOOD_PIXELS_H
#define HOOD_PIXELS_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* A decoded image before conversion: bands 1 (grey), 2 (grey+alpha), 3 (RGB), 4 (RGBA or CMYK),
 * 5 (CMYK+alpha); 8-bit or 16-bit host order. */
typedef struct hood__raw_image {
    const uint8_t *data;
    size_t width, height;
    int bands;
    bool wide;
    bool cmyk;
    int orientation; /* EXIF 1..8 */
} hood__raw_image;

/* Grows *buffer (a pointer to a malloc'd pointer) to at least need bytes, by a quarter more so
 * a run of growing images reallocates rarely; what names the buffer in the message. */
static inline hood_status hood__grow(void *buffer, size_t *capacity, size_t need, const char *what)
{
    void **p = buffer;
    if (need <= *capacity)
        return HOOD_OK;
    size_t cap = need + need / 4;
    if (cap < need)
        cap = need;
    void *bigger = realloc(*p, cap);
    if (bigger == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory for %s (%zu bytes)", what, need);
    *p = bigger;
    *capacity = cap;
    return HOOD_OK;
}

/* *out = a * b * c (an image's bytes: width, height, bytes per pixel), or HOOD_ENOMEM. */
static inline hood_status hood__mul3(size_t a, size_t b, size_t c, size_t *out)
{
    size_t ab;
    if (hood__mul_overflows(a, b, &ab) || hood__mul_overflows(ab, c, out))
        return hood__fail(HOOD_ENOMEM, "an image of %zu x %zu x %zu does not fit in memory", a, b,
                          c);
    return HOOD_OK;
}

#endif
