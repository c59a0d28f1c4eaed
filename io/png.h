/* png.h — the PNG pixel fast path: a non-interlaced 8-bit grey, grey+alpha, RGB or RGBA PNG's
 * IDAT chunks inflated whole (libdeflate), unfiltered row by row and, for a greyscale output,
 * turned into Pillow's luma on the way. Not the header, ancillary chunks or other PNG kinds
 * (libspng in decode.c reads and validates those first, and decodes whatever this declines). */
#ifndef HOOD_PNG_H
#define HOOD_PNG_H

#include "pixels.h"

/* One thread's grow-only scratch and inflater; zero-initialised, released by
 * hood__png_rows_release. */
typedef struct hood__png_rows {
    struct libdeflate_decompressor *inflater;
    uint8_t *idat; /* the IDAT payloads joined, when there are several */
    size_t idat_cap;
    uint8_t *raw; /* inflated scanlines, unfiltered in place */
    size_t raw_cap;
    uint8_t *zero; /* the all-zero row above the first */
    size_t zero_cap;
} hood__png_rows;

void hood__png_rows_release(hood__png_rows *pr);

/* The PNG in bytes (size) whose IHDR libspng has read: width x height, colour type 0, 2, 4 or 6,
 * bit depth 8, not interlaced, no tRNS. Decodes it into *pixels (grown as needed) as 1, 2, 3 or
 * 4 bands, or as 1 band of Pillow's luma when gray is set (alpha dropped, as convert('L')).
 * Returns 1 when done, 0 when it declines (any CRC, chunk-order or zlib anomaly: libspng then
 * decodes the file and gives its reason), -1 with *status set on out-of-memory. Stricter than
 * libspng by construction: it never accepts a file that libspng would refuse for its pixels. */
int hood__png_rows_decode(hood__png_rows *pr, const uint8_t *bytes, size_t size, size_t width,
                          size_t height, int color_type, bool gray, uint8_t **pixels,
                          size_t *pixels_cap, int *bands, hood_status *status);

/* Unfilters one scanline in place: filter 0-4, bpp bytes per pixel, n bytes, prev the
 * unfiltered row above (zeros for the first). Returns false on an unknown filter type. */
bool hood__png_unfilter(uint8_t filter, uint8_t *row, const uint8_t *prev, size_t n, size_t bpp);
/* Two consecutive Paeth rows (row1 below row0) at once: the same bytes as two calls above. */
void hood__png_unfilter_paeth2(uint8_t *row0, uint8_t *row1, const uint8_t *prev, size_t n,
                               size_t bpp);

#endif
