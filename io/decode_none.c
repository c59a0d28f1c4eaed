/* decode_none.c — the decoder of a libhood built without image support (-Dimages=disabled):
 * it takes decode.c's place so that every image call (hood_image_load, hood_dataset_from_directory)
 * fails with HOOD_EUNSUPPORTED and a message, while datasets, CSV/.npy/.npz and models work.
 * No image library is linked; nothing here decodes. */
#include "decode.h"

#include "error.h"
#include "image.h"

#define NO_IMAGES                                                                                  \
    "this libhood was built without image support (meson -Dimages=disabled): no libvips, "      \
    "libspng or libjpeg"

hood_status hood__vips_start(void)
{
    return hood__fail(HOOD_EUNSUPPORTED, NO_IMAGES);
}

hood_status hood__raw_decoder_create(hood__raw_decoder **out, const hood_preprocess *pp,
                                     unsigned flags, pthread_mutex_t *vips_lock)
{
    (void)pp, (void)flags, (void)vips_lock;
    *out = NULL;
    return hood__fail(HOOD_EUNSUPPORTED, NO_IMAGES);
}

void hood__raw_decoder_free(hood__raw_decoder *dec)
{
    (void)dec;
}

void hood__raw_decoder_set_max_pixels(hood__raw_decoder *dec, uint64_t max_pixels)
{
    (void)dec, (void)max_pixels;
}

void hood__raw_decoder_counts(const hood__raw_decoder *dec, size_t *fast, size_t *vips)
{
    (void)dec;
    *fast = 0;
    *vips = 0;
}

hood_status hood__raw_decode(hood__raw_decoder *dec, const char *name, const uint8_t *bytes,
                             size_t size, hood__raw_image *im)
{
    (void)dec, (void)bytes, (void)size, (void)im;
    return hood__fail(HOOD_EUNSUPPORTED, "%s: " NO_IMAGES, name);
}
