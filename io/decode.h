/* decode.h — image bytes to decoded pixels: the format told by content, libspng for PNG and
 * libjpeg-turbo for JPEG (the fast path), libvips for every other format and as the last word.
 * Not orientation, colour conversion or resampling (exif.c, resample.c); not files (image.c). */
#ifndef HOOD_DECODE_H
#define HOOD_DECODE_H

#include "hood.h"
#include "pixels.h"

#include <pthread.h>

/* One thread's decoding state: the libjpeg context, the decoded-pixels scratch, the fast/libvips
 * counts and the pixel limit. Nothing in it is shared. */
typedef struct hood__raw_decoder hood__raw_decoder;

/* pp (copied) chooses the JPEG shrink-on-load factor; flags and vips_lock are as for
 * hood__image_decoder_create (image.h). The pixel limit starts at HOOD__IMAGE_MAX_PIXELS. */
hood_status hood__raw_decoder_create(hood__raw_decoder **out, const hood_preprocess *pp,
                                     unsigned flags, pthread_mutex_t *vips_lock);
void hood__raw_decoder_free(hood__raw_decoder *dec);
void hood__raw_decoder_set_max_pixels(hood__raw_decoder *dec, uint64_t max_pixels);
void hood__raw_decoder_counts(const hood__raw_decoder *dec, size_t *fast, size_t *vips);

/* Decodes bytes (a PNG, JPEG, GIF, BMP, WebP or TIFF by its magic bytes) into *im, whose data
 * points into dec's scratch until the next call; im->orientation is still to be applied. On
 * failure the message is "name: reason". */
hood_status hood__raw_decode(hood__raw_decoder *dec, const char *name, const uint8_t *bytes,
                             size_t size, hood__raw_image *im);

#endif
