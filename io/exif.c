/* exif.c — EXIF orientation: reads the Orientation tag from a JPEG's APP1 payload (the fast path
 * declines a rotated JPEG to libvips on it) and turns decoded pixels upright for orientations
 * 2..8. Not a general EXIF parser, and no decoding or library calls. */
#include "exif.h"

#include <string.h>

static unsigned read16(const uint8_t *p, bool big)
{
    return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t read32(const uint8_t *p, bool big)
{
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int hood__exif_orientation(const uint8_t *data, size_t size)
{
    if (size < 6 + 8 || memcmp(data, "Exif\0\0", 6) != 0)
        return 1;
    const uint8_t *tiff = data + 6;
    size_t n = size - 6;
    bool big;
    if (memcmp(tiff, "MM\0*", 4) == 0)
        big = true;
    else if (memcmp(tiff, "II*\0", 4) == 0)
        big = false;
    else
        return 1;
    uint32_t ifd = read32(tiff + 4, big);
    if (ifd > n || n - ifd < 2)
        return 1;
    unsigned count = read16(tiff + ifd, big);
    for (unsigned i = 0; i < count; i++) {
        size_t at = (size_t)ifd + 2 + (size_t)i * 12;
        if (at + 12 > n)
            return 1;
        if (read16(tiff + at, big) == 0x0112 && read16(tiff + at + 2, big) == 3) {
            unsigned v = read16(tiff + at + 8, big);
            return v >= 1 && v <= 8 ? (int)v : 1;
        }
    }
    return 1;
}

hood_status hood__exif_turn_upright(hood__raw_image *im, uint8_t **turned, size_t *cap)
{
    int o = im->orientation;
    size_t px = (size_t)im->bands * (im->wide ? 2 : 1);
    size_t w = im->width, h = im->height, len = 0;
    hood_status status = hood__mul3(w, h, px, &len);
    if (status == HOOD_OK)
        status = hood__grow(turned, cap, len, "rotated pixels");
    if (status != HOOD_OK)
        return status;
    bool swap = o >= 5;
    size_t ow = swap ? h : w, oh = swap ? w : h;
    for (size_t y = 0; y < oh; y++) {
        for (size_t x = 0; x < ow; x++) {
            size_t sx, sy;
            switch (o) {
            case 2:
                sx = w - 1 - x, sy = y;
                break;
            case 3:
                sx = w - 1 - x, sy = h - 1 - y;
                break;
            case 4:
                sx = x, sy = h - 1 - y;
                break;
            case 5:
                sx = y, sy = x;
                break;
            case 6:
                sx = y, sy = h - 1 - x;
                break;
            case 7:
                sx = w - 1 - y, sy = h - 1 - x;
                break;
            default:
                sx = w - 1 - y, sy = x;
                break; /* 8 */
            }
            memcpy(*turned + (y * ow + x) * px, im->data + (sy * w + sx) * px, px);
        }
    }
    im->data = *turned;
    im->width = ow;
    im->height = oh;
    im->orientation = 1;
    return HOOD_OK;
}
