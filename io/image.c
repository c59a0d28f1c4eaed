/* image.c — one image file to one matrix column: read the file, decode it (decode.c), turn it
 * upright (exif.c), convert its colours, crop or pad it to the output's aspect ratio and
 * resample it into the column (resample.c); plus the preprocess options that say how. Not the
 * decoders or the pixel arithmetic themselves, and not the folder scan (scan.c, ingest.c). */
#include "image.h"

#include "decode.h"
#include "error.h"
#include "exif.h"
#include "resample.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hood__image_decoder {
    hood_preprocess pp;
    size_t channels;
    hood__raw_decoder *raw; /* bytes -> pixels */
    hood__resampler rs;     /* region -> column */
    /* Grow-only scratch: sized by the largest image seen, never per image. */
    uint8_t *file;
    size_t file_cap;
    uint8_t *turned; /* after EXIF orientation */
    size_t turned_cap;
    uint8_t *color; /* converted to the output channels, 8-bit */
    size_t color_cap;
    uint8_t *padded; /* pad_to_aspect_ratio canvas */
    size_t padded_cap;
    uint64_t max_pixels; /* the pad canvas is held to the decoded-image limit too */
};

void hood_preprocess_init(hood_preprocess *pp)
{
    memset(pp, 0, sizeof *pp);
    pp->struct_size = sizeof *pp;
    pp->height = 256;
    pp->width = 256;
    pp->color_mode = HOOD_COLOR_GRAYSCALE;
    pp->interpolation = HOOD_INTERP_BILINEAR;
    pp->alpha_background = HOOD_ALPHA_IGNORE;
}

hood_status hood__preprocess_check(const hood_preprocess *pp, size_t *features)
{
    if (pp == NULL)
        return hood__fail(HOOD_EINVAL, "image preprocessing options are NULL");
    if (pp->height == 0 || pp->width == 0)
        return hood__fail(HOOD_EINVAL, "image_size must be at least 1 x 1, got %zu x %zu",
                          pp->height, pp->width);
    size_t channels = hood_color_mode_channels(pp->color_mode);
    if (channels == 0)
        return hood__fail(HOOD_EINVAL, "unknown color_mode %d", (int)pp->color_mode);
    if ((unsigned)pp->interpolation > (unsigned)HOOD_INTERP_AREA)
        return hood__fail(HOOD_EINVAL, "unknown interpolation %d", (int)pp->interpolation);
    if (pp->alpha_background != HOOD_ALPHA_IGNORE &&
        (pp->alpha_background < 0 || pp->alpha_background > 0xFFFFFF))
        return hood__fail(HOOD_EINVAL, "alpha_background must be -1 (ignore) or 0xRRGGBB, got %ld",
                          (long)pp->alpha_background);
    if (pp->crop_to_aspect_ratio && pp->pad_to_aspect_ratio)
        return hood__fail(HOOD_EINVAL,
                          "crop_to_aspect_ratio and pad_to_aspect_ratio cannot both be set");
    size_t d, bytes;
    /* The column is indexed with int32 kernel bounds elsewhere; keep each side sane too. */
    if (pp->height > (1u << 20) || pp->width > (1u << 20) ||
        hood__mul_overflows(pp->height, pp->width, &d) || hood__mul_overflows(d, channels, &d) ||
        hood__mul_overflows(d, sizeof(float), &bytes))
        return hood__fail(HOOD_ENOMEM, "image_size %zu x %zu x %zu does not fit in memory",
                          pp->height, pp->width, channels);
    if (features != NULL)
        *features = d;
    return HOOD_OK;
}

/* --- decoder lifetime --------------------------------------------------------------------- */

hood_status hood__image_decoder_create(hood__image_decoder **out, const hood_preprocess *pp,
                                       unsigned flags, pthread_mutex_t *vips_lock)
{
    *out = NULL;
    hood_status status = hood__preprocess_check(pp, NULL);
    if (status != HOOD_OK)
        return status;
    hood__image_decoder *dec = calloc(1, sizeof *dec);
    if (dec == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory for an image decoder");
    if ((status = hood__raw_decoder_create(&dec->raw, pp, flags, vips_lock)) != HOOD_OK) {
        free(dec);
        return status;
    }
    dec->pp = *pp;
    dec->channels = hood_color_mode_channels(pp->color_mode);
    dec->max_pixels = HOOD__IMAGE_MAX_PIXELS;
    hood__resampler_init(&dec->rs, pp);
    *out = dec;
    return HOOD_OK;
}

void hood__image_decoder_free(hood__image_decoder *dec)
{
    if (dec == NULL)
        return;
    hood__raw_decoder_free(dec->raw);
    hood__resampler_release(&dec->rs);
    free(dec->file);
    free(dec->turned);
    free(dec->color);
    free(dec->padded);
    free(dec);
}

void hood__image_decoder_set_max_pixels(hood__image_decoder *dec, uint64_t max_pixels)
{
    dec->max_pixels = max_pixels;
    hood__raw_decoder_set_max_pixels(dec->raw, max_pixels);
}

void hood__image_decoder_counts(const hood__image_decoder *dec, size_t *fast, size_t *vips)
{
    hood__raw_decoder_counts(dec->raw, fast, vips);
}

/* --- the pipeline ------------------------------------------------------------------------- */

/* The decoded image to the column: upright, the output's channels, cropped or padded to the
 * output's aspect ratio, resampled. */
static hood_status finish(hood__image_decoder *dec, hood__raw_image *im, float *column)
{
    hood_status status;
    if (dec->pp.exif_transpose && im->orientation != 1 &&
        (status = hood__exif_turn_upright(im, &dec->turned, &dec->turned_cap)) != HOOD_OK)
        return status;
    const size_t C = dec->channels;
    size_t w = im->width, h = im->height, len = 0;
    const uint8_t *pix;
    /* Already in the output's layout: no conversion copy. */
    if (!im->wide && !im->cmyk && (size_t)im->bands == C) {
        pix = im->data;
    } else {
        if ((status = hood__mul3(w, h, C, &len)) != HOOD_OK ||
            (status = hood__grow(&dec->color, &dec->color_cap, len, "converted pixels")) != HOOD_OK)
            return status;
        if (!im->wide && !im->cmyk && im->bands == 3 && C == 1)
            hood__convert_rgb8_gray(dec->color, im->data, w * h);
        else
            hood__convert_pixels(dec->color, im, dec->pp.color_mode, dec->pp.alpha_background);
        pix = dec->color;
    }
    hood__region b = hood__region_for(&dec->pp, w, h);
    if (dec->pp.pad_to_aspect_ratio && (b.w != w || b.h != h)) {
        /* The canvas is what gets resampled, so it is held to the decoded-image limit: a
         * 159-byte 60000 x 1 PNG padded to a square would need 3.6 G pixels. */
        if ((uint64_t)b.w * (uint64_t)b.h > dec->max_pixels)
            return hood__fail(HOOD_EUNSUPPORTED,
                              "padded to the output's aspect ratio, the %zu x %zu image would be "
                              "%zu x %zu pixels, more than the %llu-pixel limit",
                              w, h, b.w, b.h, (unsigned long long)dec->max_pixels);
        if ((status = hood__mul3(b.w, b.h, C, &len)) != HOOD_OK ||
            (status = hood__grow(&dec->padded, &dec->padded_cap, len, "padded pixels")) != HOOD_OK)
            return status;
        memset(dec->padded, 0, len);
        for (size_t y = 0; y < h; y++)
            memcpy(dec->padded + ((y + b.y0) * b.w + b.x0) * C, pix + y * w * C, w * C);
        return hood__resample(&dec->rs, dec->padded, b.w * C, b.w, b.h, column);
    }
    return hood__resample(&dec->rs, pix + (b.y0 * w + b.x0) * C, w * C, b.w, b.h, column);
}

hood_status hood__image_decode_bytes(hood__image_decoder *dec, const char *name,
                                     const uint8_t *bytes, size_t size, float *column)
{
    hood__raw_image im;
    hood_status status = hood__raw_decode(dec->raw, name, bytes, size, &im);
    if (status != HOOD_OK)
        return status;
    status = finish(dec, &im, column);
    if (status != HOOD_OK)
        return hood__fail_prefix(status, "%s: ", name);
    return HOOD_OK;
}

hood_status hood__image_decode_file(hood__image_decoder *dec, const char *path, float *column)
{
    /* Plain open/read: no stdio buffer or fstat per file (small files are syscall-bound).
     * O_NONBLOCK: a FIFO named like an image reads as empty instead of hanging the ingest. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return hood__fail(HOOD_EIO, "%s: cannot open: %s", path, strerror(errno));
    hood_status status = HOOD_OK;
    size_t used = 0;
    /* Read to EOF with a growing buffer: no stat/read race. */
    for (;;) {
        if (used == dec->file_cap &&
            (status = hood__grow(&dec->file, &dec->file_cap, used < 65536 ? 65536 : used * 2,
                                 "file bytes")) != HOOD_OK)
            break;
        ssize_t got = read(fd, dec->file + used, dec->file_cap - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && errno != EAGAIN) {
            status = hood__fail(HOOD_EIO, "%s: read error: %s", path, strerror(errno));
            break;
        }
        if (got <= 0)
            break;
        used += (size_t)got;
    }
    close(fd); /* read-only: a failed close loses nothing */
    if (status != HOOD_OK)
        return status;
    return hood__image_decode_bytes(dec, path, dec->file, used, column);
}

hood_status hood_image_load(const char *path, const hood_preprocess *pp, float *column)
{
    hood__clear_error();
    if (path == NULL || column == NULL)
        return hood__fail(HOOD_EINVAL, "hood_image_load: path or column is NULL");
    hood_preprocess given;
    hood_status status = hood__preprocess_read(&given, pp, "hood_image_load");
    if (status != HOOD_OK)
        return status;
    pp = &given;
    status = hood__vips_start();
    if (status != HOOD_OK)
        return status;
    hood__image_decoder *dec;
    if ((status = hood__image_decoder_create(&dec, pp, 0, NULL)) != HOOD_OK)
        return status;
    status = hood__image_decode_file(dec, path, column);
    hood__image_decoder_free(dec);
    return status;
}
