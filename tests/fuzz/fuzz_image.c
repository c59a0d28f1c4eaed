/* fuzz_image.c — libFuzzer target for image ingest of arbitrary bytes: hood__image_decode_bytes
 * (format sniffing, the libspng / libjpeg-turbo fast path, libvips for the rest and for what the
 * fast path declines, then orientation, colour conversion, crop/pad and resampling) into a
 * column. The first byte picks the preprocessing so every stage is reached. */
#include "hood.h"
#include "image.h"

#include <stdint.h>
#include <stdlib.h>

#include <vips/vips.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (hood__vips_start() != HOOD_OK)
        abort();
    /* The loaders hood builds bypass the operation cache; this keeps anything else libvips does
     * from accumulating across millions of inputs. */
    vips_cache_set_max(0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t knob = data[0];
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    static const size_t sides[4] = {1, 7, 16, 33};
    pp.height = sides[knob & 3];
    pp.width = sides[(knob >> 2) & 3];
    pp.color_mode = (hood_color_mode)((knob >> 4) % 3);
    pp.interpolation = (hood_interpolation)((knob >> 6) + (knob & 1));
    pp.crop_to_aspect_ratio = (knob & 0x10) != 0 && (knob & 0x20) == 0;
    pp.pad_to_aspect_ratio = (knob & 0x20) != 0 && (knob & 0x10) == 0;
    static float column[33 * 33 * 4];
    hood__image_decoder *dec;
    if (hood__image_decoder_create(&dec, &pp, (knob & 0x80) ? HOOD__IMAGE_BLOCK_UNTRUSTED : 0,
                                   NULL) != HOOD_OK)
        return 0;
    /* Small enough that a header claiming a huge image cannot exhaust the fuzzer's memory. */
    hood__image_decoder_set_max_pixels(dec, (uint64_t)1 << 22);
    hood__image_decode_bytes(dec, "fuzz.img", data + 1, size - 1, column);
    hood__image_decoder_free(dec);
    return 0;
}
