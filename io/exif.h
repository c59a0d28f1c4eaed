/* exif.h — EXIF orientation: the Orientation tag read from a JPEG's APP1 payload, and pixels
 * turned upright for it. Pure arithmetic on bytes and pixel buffers: no library calls, no
 * decoding (decode.c finds the APP1 marker; libvips reads the tag itself for other formats). */
#ifndef HOOD_EXIF_H
#define HOOD_EXIF_H

#include "pixels.h"

/* Orientation tag (0x0112) of IFD0 in an APP1 "Exif\0\0" payload; 1 when absent or damaged,
 * as libvips treats an unreadable tag. */
int hood__exif_orientation(const uint8_t *data, size_t size);

/* Applies im->orientation (2..8) to im, into the grow-only scratch *turned (capacity *cap);
 * afterwards im describes the upright image in *turned, with orientation 1. */
hood_status hood__exif_turn_upright(hood__raw_image *im, uint8_t **turned, size_t *cap);

#endif
