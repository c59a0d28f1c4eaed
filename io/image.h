/* image.h — one image file to one matrix column: read the bytes, decode (decode.c: libspng /
 * libjpeg-turbo fast path, libvips for everything else), turn upright, convert colours,
 * crop/pad, resample, scale to float (exif.c, resample.c). What ingest, predict and the fuzz
 * target use. Not public API (hood_image_load in hood.h is); the folder scan is scan.c. */
#ifndef HOOD_IMAGE_H
#define HOOD_IMAGE_H

#include "hood.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One decoder's reusable state: grow-only scratch buffers (file bytes, decoded pixels,
 * converted pixels, the horizontal pass, filter coefficients) and the libjpeg context. One per
 * thread; nothing in it is shared. */
typedef struct hood__image_decoder hood__image_decoder;

enum {
    /* Never use the libspng / libjpeg-turbo fast path: every file goes through libvips (tests
     * use it to prove both paths give the same matrix). */
    HOOD__IMAGE_VIPS_ONLY = 1u << 0,
    /* Refuse libvips loaders flagged untrusted (ImageMagick for BMP, ...). */
    HOOD__IMAGE_BLOCK_UNTRUSTED = 1u << 1,
    /* Decode PNG pixels with libspng only, never png.c's row path (tests compare the two). */
    HOOD__IMAGE_SPNG_PIXELS = 1u << 2,
};

/* pp is copied. vips_lock, when not NULL, is held around every libvips call: libvips is
 * measured slower (and was seen to crash) when two threads of one process drive it at once,
 * so concurrent decoders serialise their (rare) libvips work on it. */
hood_status hood__image_decoder_create(hood__image_decoder **out, const hood_preprocess *pp,
                                       unsigned flags, pthread_mutex_t *vips_lock);
void hood__image_decoder_free(hood__image_decoder *dec);

/* Reads path and writes its height*width*channels floats (HWC) into column. On failure the
 * thread's message (hood_last_error) is "PATH: reason" and column may be partly written. */
hood_status hood__image_decode_file(hood__image_decoder *dec, const char *path, float *column);
/* The same from bytes already in memory (the fuzz target uses it); name is for messages. */
hood_status hood__image_decode_bytes(hood__image_decoder *dec, const char *name,
                                     const uint8_t *bytes, size_t size, float *column);

/* Images with more pixels than this (as their header claims, whatever JPEG shrink-on-load
 * would make of them) are refused before their pixels are decoded, on every path: a 1 KB file
 * can claim a 100,000 x 100,000 image. */
#define HOOD__IMAGE_MAX_PIXELS ((uint64_t)1 << 27)
/* JPEGs with more scans than this are refused before decoding (libjpeg-turbo's djpeg
 * -maxscans; real progressive files have about 10): each scan is a pass over every block. */
#define HOOD__JPEG_MAX_SCANS 1000
void hood__image_decoder_set_max_pixels(hood__image_decoder *dec, uint64_t max_pixels);

/* How many images decoder took through the fast path and through libvips (tests, bench). */
void hood__image_decoder_counts(const hood__image_decoder *dec, size_t *fast, size_t *vips);

/* Checks pp (sizes non-zero, d = h*w*c fits, enums in range, not both crop and pad) and gives
 * the column length. */
hood_status hood__preprocess_check(const hood_preprocess *pp, size_t *features);

/* Initialises libvips once for the process (idempotent; call from the thread that calls into
 * hood before any decoder runs). Defined in decode.c, with the rest of the libvips code. */
hood_status hood__vips_start(void);

#endif
