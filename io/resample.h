/* resample.h — the pixel arithmetic between a decoded image and its column: colour conversion
 * (Pillow's luma), the crop/pad region, and Pillow-exact resampling with u8 -> float scaling.
 * Pure arithmetic on pixel buffers: no library calls, no decoding, no files. */
#ifndef HOOD_RESAMPLE_H
#define HOOD_RESAMPLE_H

#include "hood.h"
#include "pixels.h"

/* The output size and kernel of one preprocess, the u8 -> float table, and grow-only scratch
 * (the horizontal pass, filter weights and bounds, one accumulator row). One per thread. */
typedef struct hood__resampler {
    size_t width, height, channels; /* the output */
    hood_interpolation interpolation;
    float table[256]; /* u8 -> float: (float)k / 255.0f, or (float)k for raw values */
    uint8_t *hpass;   /* horizontal resampling pass */
    size_t hpass_cap;
    int32_t *coef_x, *coef_y; /* fixed-point kernel weights per output position */
    size_t coef_x_cap, coef_y_cap;
    size_t *bounds_x, *bounds_y; /* first input index and count per output position */
    size_t bounds_x_cap, bounds_y_cap;
    int32_t *acc; /* one output row of the vertical pass */
    size_t acc_cap;
    uint8_t *premul; /* RGBA with premultiplied alpha, as Pillow resizes it */
    size_t premul_cap;
    int16_t *coef16; /* grey 8-tap weights split in 16-bit halves (resample.c hpass_gray8) */
    size_t coef16_cap;
} hood__resampler;

/* pp must have passed hood__preprocess_check; no allocation (scratch grows on first use). */
void hood__resampler_init(hood__resampler *rs, const hood_preprocess *pp);
/* Frees the scratch; rs itself is the caller's. */
void hood__resampler_release(hood__resampler *rs);

/* Resamples a w x h region (row stride `stride` bytes, rs->channels channels, 8-bit) to the
 * output size, writing floats through rs->table into column (HWC). RGBA is resampled with
 * premultiplied alpha (except nearest), as Pillow's resize does. */
hood_status hood__resample(hood__resampler *rs, const uint8_t *src, size_t stride, size_t w,
                           size_t h, float *column);

/* Converts im to 8-bit with mode's channels into out (w*h*channels). Grey is replicated for
 * RGB(A); for grayscale and RGB alpha is dropped (background HOOD_ALPHA_IGNORE, as Pillow's
 * convert) or composited over background 0xRRGGBB; RGBA keeps it (255 when the source has
 * none); CMYK becomes RGB as (255-c)(255-k)/255, without ICC profiles. */
void hood__convert_pixels(uint8_t *out, const hood__raw_image *im, hood_color_mode mode,
                          int32_t background);
/* The common 8-bit RGB -> grey case without the general loop's branches. */
void hood__convert_rgb8_gray(uint8_t *out, const uint8_t *in, size_t n);
/* The same from 8-bit RGBA, alpha dropped (Pillow's convert('L')). */
void hood__convert_rgba8_gray(uint8_t *out, const uint8_t *in, size_t n);

/* The region of a w x h source that is resampled to the output: Keras' smart_resize centre
 * crop (crop_to_aspect_ratio), the padded canvas (pad_to_aspect_ratio, image centred on black),
 * or the whole image. For padding, x0/y0 are where the image sits on the canvas. */
typedef struct hood__region {
    size_t x0, y0, w, h;
} hood__region;
hood__region hood__region_for(const hood_preprocess *pp, size_t w, size_t h);

/* Integer shrink-on-load factor (1, 2, 4, 8) for a w x h JPEG that keeps the region we resample
 * at least as large as the output on both axes, so shrinking never forces an upscale; always 1
 * unless pp->jpeg_draft. */
int hood__jpeg_shrink_for(const hood_preprocess *pp, size_t w, size_t h);

#endif
