/* image.c — one image file to one matrix column. Decoding: libspng for PNG and libjpeg-turbo
 * for JPEG (the fast path: thread-safe, no per-image object machinery), libvips for every other
 * format and for anything the fast path declines (EXIF-rotated or CMYK JPEGs, PNGs with an eXIf
 * chunk, files the fast path cannot decode, so libvips has the last word and gives the reason).
 * Then, in C, on 8-bit pixels: EXIF orientation, colour conversion, crop/pad to the aspect
 * ratio, resampling, and u8 -> float through a table straight into the column.
 * Not the folder scan (ingest.c). */
#include "image.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <spng.h>
#include <vips/vips.h>

/* Pillow's fixed-point precision for 8-bit resampling: 32 bits minus 8 for the pixel value and
 * 2 of headroom for kernels whose negative lobes push partial sums past 255. */
enum { PRECISION_BITS = 32 - 8 - 2 };

/* libjpeg reports errors through a callback that must not return: jump back to the decoder. */
typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    bool warned; /* a corrupt-data warning: libvips (fail_on truncated) decides instead */
} jpeg_failure;

struct hood__image_decoder {
    hood_preprocess pp;
    size_t channels;
    unsigned flags;
    pthread_mutex_t *vips_lock;
    float table[256]; /* u8 -> float: (float)k / 255.0f, or (float)k for raw values */
    /* Grow-only scratch: sized by the largest image seen, never per image. */
    uint8_t *file;
    size_t file_cap;
    uint8_t *pixels; /* decoded, bands x (1 or 2 bytes) per pixel */
    size_t pixels_cap;
    uint8_t *turned; /* after EXIF orientation */
    size_t turned_cap;
    uint8_t *color; /* converted to the output channels, 8-bit */
    size_t color_cap;
    uint8_t *padded; /* pad_to_aspect_ratio canvas */
    size_t padded_cap;
    uint8_t *hpass; /* horizontal resampling pass */
    size_t hpass_cap;
    int32_t *coef_x, *coef_y; /* fixed-point kernel weights per output position */
    size_t coef_x_cap, coef_y_cap;
    size_t *bounds_x, *bounds_y; /* first input index and count per output position */
    size_t bounds_x_cap, bounds_y_cap;
    int32_t *acc; /* one output row of the vertical pass */
    size_t acc_cap;
    struct jpeg_decompress_struct jpeg;
    jpeg_failure jpeg_err;
    bool jpeg_ready;
    size_t fast_count, vips_count;
    const char *corrupt_reason; /* libspng's message for a FAST_CORRUPT file (static text) */
    uint64_t max_pixels;        /* larger images are refused before their pixels are decoded */
};

/* A decoded image before conversion: bands 1 (grey), 2 (grey+alpha), 3 (RGB), 4 (RGBA or CMYK),
 * 5 (CMYK+alpha); 8-bit or 16-bit host order. */
typedef struct raw_image {
    const uint8_t *data;
    size_t width, height;
    int bands;
    bool wide;
    bool cmyk;
    int orientation; /* EXIF 1..8 */
} raw_image;

/* Outcome of the fast path: done, or hand the file to libvips. */
/* FAST_CORRUPT: the file is damaged beyond doubt (its compressed pixel data does not inflate, or
 * a critical chunk's CRC is wrong), so it fails here with libspng's reason instead of going to
 * libvips: libvips 8.14's PNG loader accepts such a file in 10-30 % of calls whatever its
 * fail_on (measured: `vips copy bad.png[fail_on=error]` 10 of 40), so the same folder would
 * skip or ingest it at random. */
typedef enum fast_result { FAST_DONE, FAST_DECLINED, FAST_CORRUPT } fast_result;

/* --- small helpers ---------------------------------------------------------------------- */

static hood_status grow(void *buffer, size_t *capacity, size_t need, const char *what)
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

static hood_status mul3(size_t a, size_t b, size_t c, size_t *out)
{
    size_t ab;
    if (hood__mul_overflows(a, b, &ab) || hood__mul_overflows(ab, c, out))
        return hood__fail(HOOD_ENOMEM, "an image of %zu x %zu x %zu does not fit in memory", a, b,
                          c);
    return HOOD_OK;
}

size_t hood_color_mode_channels(hood_color_mode mode)
{
    switch (mode) {
    case HOOD_COLOR_GRAYSCALE:
        return 1;
    case HOOD_COLOR_RGB:
        return 3;
    case HOOD_COLOR_RGBA:
        return 4;
    }
    return 0;
}

void hood_preprocess_init(hood_preprocess *pp)
{
    memset(pp, 0, sizeof *pp);
    pp->height = 256;
    pp->width = 256;
    pp->color_mode = HOOD_COLOR_GRAYSCALE;
    pp->interpolation = HOOD_INTERP_BILINEAR;
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

/* --- libvips start-up --------------------------------------------------------------------- */

/* vips_init is not safe to race; pthread_once makes the first caller do it. The flag and
 * result are write-once process state, the one exception to "no global mutable state". */
static pthread_once_t vips_once = PTHREAD_ONCE_INIT;
static int vips_start_failed;

static void vips_start_once(void)
{
    vips_start_failed = VIPS_INIT("hood") != 0;
}

hood_status hood__vips_start(void)
{
    pthread_once(&vips_once, vips_start_once);
    if (vips_start_failed)
        return hood__fail(HOOD_EUNSUPPORTED, "libvips failed to start: %s", vips_error_buffer());
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
    dec->pp = *pp;
    dec->channels = hood_color_mode_channels(pp->color_mode);
    dec->flags = flags;
    dec->vips_lock = vips_lock;
    dec->max_pixels = HOOD__IMAGE_MAX_PIXELS;
    /* (float)k / 255.0f is bit-exact with NumPy's x.astype(float32) / 255 (PERF-NOTES). */
    for (int k = 0; k < 256; k++)
        dec->table[k] = pp->raw_values ? (float)k : (float)k / 255.0f;
    *out = dec;
    return HOOD_OK;
}

void hood__image_decoder_free(hood__image_decoder *dec)
{
    if (dec == NULL)
        return;
    if (dec->jpeg_ready)
        jpeg_destroy_decompress(&dec->jpeg);
    free(dec->file);
    free(dec->pixels);
    free(dec->turned);
    free(dec->color);
    free(dec->padded);
    free(dec->hpass);
    free(dec->coef_x);
    free(dec->coef_y);
    free(dec->bounds_x);
    free(dec->bounds_y);
    free(dec->acc);
    free(dec);
}

void hood__image_decoder_set_max_pixels(hood__image_decoder *dec, uint64_t max_pixels)
{
    dec->max_pixels = max_pixels;
}

void hood__image_decoder_counts(const hood__image_decoder *dec, size_t *fast, size_t *vips)
{
    if (fast != NULL)
        *fast = dec->fast_count;
    if (vips != NULL)
        *vips = dec->vips_count;
}

/* --- formats by content ------------------------------------------------------------------- */

typedef enum image_format {
    FORMAT_UNKNOWN,
    FORMAT_PNG,
    FORMAT_JPEG,
    FORMAT_GIF,
    FORMAT_BMP,
    FORMAT_WEBP,
    FORMAT_TIFF
} image_format;

/* The formats Keras' image_dataset_from_directory accepts, told apart by their magic bytes;
 * anything else is refused even if a libvips loader would take it (SVG, PDF, PPM, ...). */
static image_format sniff(const uint8_t *b, size_t n)
{
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return FORMAT_PNG;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return FORMAT_JPEG;
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return FORMAT_GIF;
    if (n >= 2 && b[0] == 'B' && b[1] == 'M')
        return FORMAT_BMP;
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return FORMAT_WEBP;
    if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0))
        return FORMAT_TIFF;
    return FORMAT_UNKNOWN;
}

/* --- EXIF orientation (JPEG APP1) ---------------------------------------------------------- */

static unsigned read16(const uint8_t *p, bool big)
{
    return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t read32(const uint8_t *p, bool big)
{
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Orientation tag (0x0112) of IFD0 in an APP1 "Exif\0\0" payload; 1 when absent or damaged,
 * as libvips treats an unreadable tag. */
static int exif_orientation(const uint8_t *data, size_t size)
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

/* --- fast path: PNG through libspng --------------------------------------------------------- */

static fast_result png_fast(hood__image_decoder *dec, const uint8_t *bytes, size_t size,
                            raw_image *im, hood_status *status)
{
    *status = HOOD_OK;
    spng_ctx *ctx = spng_ctx_new(0);
    if (ctx == NULL)
        return FAST_DECLINED;
    fast_result result = FAST_DECLINED;
    struct spng_ihdr ihdr;
    struct spng_exif exif;
    struct spng_trns trns;
    /* Chunk limits keep a hostile file from making libspng buffer huge ancillary chunks. */
    if (spng_set_png_buffer(ctx, bytes, size) != 0 ||
        spng_set_chunk_limits(ctx, (size_t)64 << 20, (size_t)64 << 20) != 0 ||
        spng_get_ihdr(ctx, &ihdr) != 0)
        goto done;
    /* An eXIf chunk may carry an orientation: libvips applies it. */
    if (spng_get_exif(ctx, &exif) == 0)
        goto done;
    /* Too large: libvips reads the header again and gives the message. */
    if ((uint64_t)ihdr.width * ihdr.height > dec->max_pixels)
        goto done;
    bool has_trns = spng_get_trns(ctx, &trns) == 0;
    int fmt, bands;
    bool wide = ihdr.bit_depth == 16;
    /* libspng 0.7 converts every PNG to RGBA8/RGBA16 and 8-bit grey to G8; its GA formats
     * refuse most inputs. Plain grey and RGB keep their band count (the fast common cases);
     * everything else (alpha, tRNS, palette, 16-bit) goes through RGBA. */
    if (ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE && !has_trns && !wide) {
        fmt = SPNG_FMT_G8;
        bands = 1;
    } else if ((ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR ||
                ihdr.color_type == SPNG_COLOR_TYPE_INDEXED) &&
               !has_trns && !wide) {
        fmt = SPNG_FMT_RGB8;
        bands = 3;
    } else {
        fmt = wide ? SPNG_FMT_RGBA16 : SPNG_FMT_RGBA8;
        bands = 4;
    }
    size_t len;
    if (spng_decoded_image_size(ctx, fmt, &len) != 0)
        goto done;
    *status = grow(&dec->pixels, &dec->pixels_cap, len, "decoded pixels");
    if (*status != HOOD_OK)
        goto done;
    int rc = spng_decode_image(ctx, dec->pixels, len, fmt, SPNG_DECODE_TRNS);
    if (rc == SPNG_EIDAT_STREAM || rc == SPNG_EZLIB || rc == SPNG_ECHUNK_CRC) {
        dec->corrupt_reason = spng_strerror(rc);
        result = FAST_CORRUPT;
        goto done;
    }
    if (rc != 0)
        goto done;
    im->data = dec->pixels;
    im->width = ihdr.width;
    im->height = ihdr.height;
    im->bands = bands;
    im->wide = wide;
    im->cmyk = false;
    im->orientation = 1;
    result = FAST_DONE;
done:
    spng_ctx_free(ctx);
    return result;
}

/* --- fast path: JPEG through libjpeg-turbo ------------------------------------------------ */

static void jpeg_error_exit(j_common_ptr cinfo)
{
    jpeg_failure *failure = (jpeg_failure *)cinfo->err;
    longjmp(failure->jump, 1);
}

static void jpeg_emit_message(j_common_ptr cinfo, int level)
{
    /* level -1 is a corrupt-data warning (e.g. premature end of file). */
    if (level < 0)
        ((jpeg_failure *)cinfo->err)->warned = true;
}

/* Integer shrink-on-load factor (1, 2, 4, 8) that keeps the region we resample at least as
 * large as the output on both axes, so shrinking never forces an upscale afterwards. */
static int jpeg_shrink_for(const hood_preprocess *pp, size_t w, size_t h);

/* After jpeg_read_header: decompresses at the shrink-on-load scale into dec->pixels. Runs
 * under jpeg_fast's setjmp; its locals live in this frame, so longjmp cannot clobber them. */
static fast_result jpeg_read_pixels(hood__image_decoder *dec, raw_image *im, hood_status *status)
{
    struct jpeg_decompress_struct *cinfo = &dec->jpeg;
    cinfo->out_color_space = cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    cinfo->scale_num = 1;
    cinfo->scale_denom =
        (unsigned)jpeg_shrink_for(&dec->pp, cinfo->image_width, cinfo->image_height);
    jpeg_calc_output_dimensions(cinfo);
    if ((uint64_t)cinfo->output_width * cinfo->output_height > dec->max_pixels) {
        jpeg_abort_decompress(cinfo);
        return FAST_DECLINED;
    }
    jpeg_start_decompress(cinfo);
    size_t w = cinfo->output_width, h = cinfo->output_height;
    int bands = cinfo->output_components;
    size_t len = 0;
    *status = mul3(w, h, (size_t)bands, &len);
    if (*status == HOOD_OK)
        *status = grow(&dec->pixels, &dec->pixels_cap, len, "decoded pixels");
    if (*status != HOOD_OK) {
        jpeg_abort_decompress(cinfo);
        return FAST_DECLINED;
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = dec->pixels + (size_t)cinfo->output_scanline * w * (size_t)bands;
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_decompress(cinfo);
    if (dec->jpeg_err.warned)
        return FAST_DECLINED;
    im->data = dec->pixels;
    im->width = w;
    im->height = h;
    im->bands = bands;
    im->wide = false;
    im->cmyk = false;
    im->orientation = 1;
    return FAST_DONE;
}

static fast_result jpeg_fast(hood__image_decoder *dec, const uint8_t *bytes, size_t size,
                             raw_image *im, hood_status *status)
{
    *status = HOOD_OK;
    struct jpeg_decompress_struct *cinfo = &dec->jpeg;
    if (!dec->jpeg_ready) {
        cinfo->err = jpeg_std_error(&dec->jpeg_err.mgr);
        dec->jpeg_err.mgr.error_exit = jpeg_error_exit;
        dec->jpeg_err.mgr.emit_message = jpeg_emit_message;
        if (setjmp(dec->jpeg_err.jump))
            return FAST_DECLINED;
        jpeg_create_decompress(cinfo);
        dec->jpeg_ready = true;
    }
    dec->jpeg_err.warned = false;
    if (setjmp(dec->jpeg_err.jump)) {
        jpeg_abort_decompress(cinfo);
        return FAST_DECLINED;
    }
    jpeg_mem_src(cinfo, bytes, (unsigned long)size);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0) {
            /* libvips reads the first Exif APP1 only; so do we. */
            if (exif_orientation(m->data, m->data_length) != 1) {
                jpeg_abort_decompress(cinfo);
                return FAST_DECLINED;
            }
            break;
        }
    }
    if (cinfo->num_components != 1 && cinfo->num_components != 3) {
        jpeg_abort_decompress(cinfo); /* CMYK / YCCK: libvips undoes Adobe's inversion */
        return FAST_DECLINED;
    }
    return jpeg_read_pixels(dec, im, status);
}

/* --- libvips path -------------------------------------------------------------------------- */

/* Builds a loader operation without the operation cache: cached loaders would pin decoded
 * images, and hood must not change libvips' process-wide cache settings behind its host's
 * back. Returns the output image (a new reference) or NULL with libvips' error set. */
static VipsImage *vips_load(const char *loader, VipsBlob *blob, int shrink)
{
    VipsOperation *op = vips_operation_new(loader);
    if (op == NULL)
        return NULL;
    VipsImage *out = NULL;
    if (vips_object_set(VIPS_OBJECT(op), "buffer", blob, NULL) != 0)
        goto done;
    /* A truncated file is an unreadable file, not a half-black image. */
    if (vips_object_set(VIPS_OBJECT(op), "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL) != 0)
        goto done;
    if (shrink > 1 && vips_object_set(VIPS_OBJECT(op), "shrink", shrink, NULL) != 0)
        goto done;
    if (vips_object_build(VIPS_OBJECT(op)) != 0)
        goto done;
    g_object_get(op, "out", &out, NULL);
done:
    vips_object_unref_outputs(VIPS_OBJECT(op));
    g_object_unref(op);
    return out;
}

/* Fails naming the file with libvips' reason, less its trailing newline; some failures (a
 * truncated 16-bit PNG) leave libvips' error buffer empty, and a message must still say what
 * is wrong. */
static hood_status vips_fail(const char *name)
{
    const char *reason = vips_error_buffer();
    size_t len = reason != NULL ? strlen(reason) : 0;
    while (len > 0 && (reason[len - 1] == '\n' || reason[len - 1] == ' '))
        len--;
    if (len == 0)
        return hood__fail(HOOD_EFORMAT, "%s: libvips cannot decode it (corrupt or truncated)",
                          name);
    return hood__fail(HOOD_EFORMAT, "%s: libvips: %.*s", name, (int)len, reason);
}

/* Decodes with libvips into dec->pixels. Caller holds the vips lock. On failure the message is
 * libvips' own reason. */
static hood_status vips_decode_locked(hood__image_decoder *dec, const char *name,
                                      image_format format, const uint8_t *bytes, size_t size,
                                      raw_image *im)
{
    const char *loader = vips_foreign_find_load_buffer(bytes, size);
    if (loader == NULL) {
        vips_error_clear();
        return hood__fail(HOOD_EFORMAT, "%s: no libvips loader for this %s file", name,
                          format == FORMAT_BMP ? "BMP" : "image");
    }
    VipsBlob *blob = vips_blob_new(NULL, bytes, size);
    VipsImage *image = NULL;
    VipsRegion *region = NULL;
    hood_status status = HOOD_OK;
    VipsOperation *probe = vips_operation_new(loader);
    if (probe == NULL) {
        status = vips_fail(name);
        goto done;
    }
    bool untrusted = (vips_operation_get_flags(probe) & VIPS_OPERATION_UNTRUSTED) != 0;
    g_object_unref(probe);
    if (untrusted && (dec->flags & HOOD__IMAGE_BLOCK_UNTRUSTED)) {
        status = hood__fail(HOOD_EUNSUPPORTED,
                            "%s: the libvips loader %s is marked untrusted and is blocked", name,
                            loader);
        goto done;
    }
    image = vips_load(loader, blob, 1);
    if (image != NULL && format == FORMAT_JPEG) {
        /* Shrink-on-load as the fast path does, from the header the first build read; the
         * region is chosen on the displayed (rotated) image. */
        int o = 1;
        if (vips_image_get_typeof(image, VIPS_META_ORIENTATION) != 0 &&
            vips_image_get_int(image, VIPS_META_ORIENTATION, &o) != 0)
            o = 1;
        bool swap = o >= 5 && o <= 8;
        int shrink = jpeg_shrink_for(&dec->pp, (size_t)(swap ? image->Ysize : image->Xsize),
                                     (size_t)(swap ? image->Xsize : image->Ysize));
        if (shrink > 1) {
            g_object_unref(image);
            image = vips_load(loader, blob, shrink);
        }
    }
    if (image == NULL) {
        status = vips_fail(name);
        goto done;
    }
    if ((uint64_t)image->Xsize * (uint64_t)image->Ysize > dec->max_pixels) {
        status = hood__fail(HOOD_EUNSUPPORTED,
                            "%s: image of %d x %d pixels is larger than the %llu-pixel limit", name,
                            image->Xsize, image->Ysize, (unsigned long long)dec->max_pixels);
        goto done;
    }
    int bands = image->Bands;
    bool cmyk = image->Type == VIPS_INTERPRETATION_CMYK && (bands == 4 || bands == 5);
    if (image->BandFmt != VIPS_FORMAT_UCHAR && image->BandFmt != VIPS_FORMAT_USHORT) {
        status = hood__fail(HOOD_EUNSUPPORTED, "%s: unsupported pixel format %s", name,
                            vips_enum_nick(VIPS_TYPE_BAND_FORMAT, image->BandFmt));
        goto done;
    }
    if (bands < 1 || (bands > 4 && !cmyk)) {
        status = hood__fail(HOOD_EUNSUPPORTED, "%s: unsupported image with %d bands", name, bands);
        goto done;
    }
    size_t w = (size_t)image->Xsize, h = (size_t)image->Ysize;
    size_t line = (size_t)VIPS_IMAGE_SIZEOF_LINE(image), len = 0;
    if (hood__mul_overflows(line, h, &len)) {
        status = hood__fail(HOOD_ENOMEM, "%s: %zu x %zu image does not fit in memory", name, w, h);
        goto done;
    }
    if ((status = grow(&dec->pixels, &dec->pixels_cap, len, "decoded pixels")) != HOOD_OK)
        goto done;
    region = vips_region_new(image);
    VipsRect all = {0, 0, image->Xsize, image->Ysize};
    if (region == NULL || vips_region_prepare(region, &all) != 0) {
        status = vips_fail(name);
        goto done;
    }
    for (size_t y = 0; y < h; y++)
        memcpy(dec->pixels + y * line, VIPS_REGION_ADDR(region, 0, (int)y), line);
    int orientation = 1;
    if (vips_image_get_typeof(image, VIPS_META_ORIENTATION) != 0 &&
        vips_image_get_int(image, VIPS_META_ORIENTATION, &orientation) != 0)
        orientation = 1;
    im->data = dec->pixels;
    im->width = w;
    im->height = h;
    im->bands = bands;
    im->wide = image->BandFmt == VIPS_FORMAT_USHORT;
    im->cmyk = cmyk;
    im->orientation = orientation >= 1 && orientation <= 8 ? orientation : 1;
done:
    if (status != HOOD_OK)
        vips_error_clear();
    if (region != NULL)
        g_object_unref(region);
    if (image != NULL)
        g_object_unref(image);
    vips_area_unref(VIPS_AREA(blob));
    return status;
}

static hood_status vips_decode(hood__image_decoder *dec, const char *name, image_format format,
                               const uint8_t *bytes, size_t size, raw_image *im)
{
    if (dec->vips_lock != NULL)
        pthread_mutex_lock(dec->vips_lock);
    hood_status status = vips_decode_locked(dec, name, format, bytes, size, im);
    if (dec->vips_lock != NULL)
        pthread_mutex_unlock(dec->vips_lock);
    return status;
}

/* --- geometry --------------------------------------------------------------------------- */

/* The region of a w x h source that is resampled to the output: Keras' smart_resize centre
 * crop (crop_to_aspect_ratio), the padded canvas (pad_to_aspect_ratio, image centred on black),
 * or the whole image. For padding, x0/y0 are where the image sits on the canvas. */
typedef struct box {
    size_t x0, y0, w, h;
} box;

static box region_for(const hood_preprocess *pp, size_t w, size_t h)
{
    box b = {0, 0, w, h};
    /* 64-bit products: image and target sides are < 2^31 here, so they cannot overflow. */
    uint64_t W = pp->width, H = pp->height;
    if (pp->crop_to_aspect_ratio) {
        uint64_t ch = (uint64_t)w * H / W, cw = (uint64_t)h * W / H;
        b.h = ch < h ? (size_t)ch : h;
        b.w = cw < w ? (size_t)cw : w;
        if (b.h == 0)
            b.h = 1;
        if (b.w == 0)
            b.w = 1;
        b.y0 = (h - b.h) / 2;
        b.x0 = (w - b.w) / 2;
    } else if (pp->pad_to_aspect_ratio) {
        uint64_t ph = (uint64_t)w * H / W, pw = (uint64_t)h * W / H;
        b.h = ph > h ? (size_t)ph : h;
        b.w = pw > w ? (size_t)pw : w;
        b.y0 = (b.h - h) / 2;
        b.x0 = (b.w - w) / 2;
    }
    return b;
}

static int jpeg_shrink_for(const hood_preprocess *pp, size_t w, size_t h)
{
    box b = region_for(pp, w, h);
    for (int s = 8; s > 1; s /= 2)
        /* and never below 1 pixel: padding can make the region far larger than the image
         * (a 10762 x 1 JPEG shrunk by 8 is 0 pixels high, which libvips aborts on) */
        if ((uint64_t)s * pp->width <= b.w && (uint64_t)s * pp->height <= b.h && (size_t)s <= w &&
            (size_t)s <= h)
            return s;
    return 1;
}

/* --- orientation and colour -------------------------------------------------------------- */

/* Applies EXIF orientation o (2..8) to im, into dec->turned. */
static hood_status orient(hood__image_decoder *dec, raw_image *im)
{
    int o = im->orientation;
    size_t px = (size_t)im->bands * (im->wide ? 2 : 1);
    size_t w = im->width, h = im->height, len = 0;
    hood_status status = mul3(w, h, px, &len);
    if (status == HOOD_OK)
        status = grow(&dec->turned, &dec->turned_cap, len, "rotated pixels");
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
            memcpy(dec->turned + (y * ow + x) * px, im->data + (sy * w + sx) * px, px);
        }
    }
    im->data = dec->turned;
    im->width = ow;
    im->height = oh;
    im->orientation = 1;
    return HOOD_OK;
}

/* 16 -> 8 bits keeping the [0,1] range: round(v / 257). */
static inline unsigned narrow16(unsigned v)
{
    return (v + 128) / 257;
}

/* Pillow's convert('L'): ITU-R 601 luma in 16-bit fixed point on the 8-bit values. */
static inline uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
}

/* Flattens value v with alpha a onto black: round(v * a / 255). */
static inline unsigned over_black(unsigned v, unsigned a)
{
    return (v * a + 127) / 255;
}

/* Converts im to 8-bit with the output's channels into out (w*h*channels). Grey is replicated
 * for RGB(A); alpha is flattened onto black for grayscale and RGB, kept for RGBA (255 when the
 * source has none); CMYK becomes RGB as (255-c)(255-k)/255, without ICC profiles. */
static void convert(uint8_t *out, const raw_image *im, hood_color_mode mode)
{
    size_t n = im->width * im->height;
    int bands = im->bands;
    const uint8_t *p8 = im->data;
    const uint16_t *p16 = (const uint16_t *)(const void *)im->data;
    for (size_t i = 0; i < n; i++) {
        unsigned v[5] = {0};
        for (int c = 0; c < bands; c++)
            v[c] = im->wide ? narrow16(p16[i * (size_t)bands + (size_t)c])
                            : p8[i * (size_t)bands + (size_t)c];
        unsigned r, g, b, a = 255;
        if (im->cmyk) {
            r = ((255 - v[0]) * (255 - v[3]) + 127) / 255;
            g = ((255 - v[1]) * (255 - v[3]) + 127) / 255;
            b = ((255 - v[2]) * (255 - v[3]) + 127) / 255;
            if (bands == 5)
                a = v[4];
        } else if (bands <= 2) {
            r = g = b = v[0];
            if (bands == 2)
                a = v[1];
        } else {
            r = v[0], g = v[1], b = v[2];
            if (bands == 4)
                a = v[3];
        }
        if (mode == HOOD_COLOR_RGBA) {
            out[4 * i] = (uint8_t)r, out[4 * i + 1] = (uint8_t)g, out[4 * i + 2] = (uint8_t)b;
            out[4 * i + 3] = (uint8_t)a;
            continue;
        }
        if (a != 255)
            r = over_black(r, a), g = over_black(g, a), b = over_black(b, a);
        if (mode == HOOD_COLOR_GRAYSCALE) {
            out[i] = luma(r, g, b);
        } else {
            out[3 * i] = (uint8_t)r, out[3 * i + 1] = (uint8_t)g, out[3 * i + 2] = (uint8_t)b;
        }
    }
}

/* The common 8-bit RGB -> grey case without the general loop's branches. */
static void convert_rgb8_gray(uint8_t *out, const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = luma(in[3 * i], in[3 * i + 1], in[3 * i + 2]);
}

/* --- resampling ------------------------------------------------------------------------- */
/* Kernels, as Pillow's Image.resize defines them (so Pillow is the reference the tests use):
 *   nearest   the source pixel under the output pixel's centre, floor((x + 0.5) * scale)
 *   bilinear  triangle filter, support 1
 *   bicubic   Keys cubic with a = -0.5, support 2
 *   lanczos3  sinc(x) sinc(x/3), support 3
 *   area      box filter, support 1/2 (an exact block mean for integer downscales)
 * On downscaling the kernel is widened by the scale factor (antialiasing), as Pillow does and
 * unlike Keras' default tf.image.resize(antialias=False). Separable: a horizontal pass rounded
 * to 8 bits, then a vertical pass; weights normalised per output pixel, in fixed point with
 * PRECISION_BITS fractional bits and round-half-up, clamped to 0..255. */

static double filter_box(double x)
{
    return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
}

static double filter_triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double filter_bicubic(double x)
{
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

static double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double filter_lanczos3(double x)
{
    return x >= -3.0 && x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
}

typedef struct kernel {
    double (*fn)(double);
    double support;
} kernel;

static kernel kernel_for(hood_interpolation interp)
{
    switch (interp) {
    case HOOD_INTERP_AREA:
        return (kernel){filter_box, 0.5};
    case HOOD_INTERP_BICUBIC:
        return (kernel){filter_bicubic, 2.0};
    case HOOD_INTERP_LANCZOS3:
        return (kernel){filter_lanczos3, 3.0};
    default:
        return (kernel){filter_triangle, 1.0};
    }
}

/* Weights mapping in_size inputs to out_size outputs: for output i, inputs bounds[2i] ..
 * bounds[2i] + bounds[2i+1] - 1 with weights coef[i*ksize ..]. */
static hood_status precompute(size_t in_size, size_t out_size, kernel k, int32_t **coef,
                              size_t *coef_cap, size_t **bounds, size_t *bounds_cap,
                              size_t *ksize_out)
{
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = k.support * filterscale;
    double ss = 1.0 / filterscale; /* multiplied, not divided: Pillow's rounding */
    size_t ksize = (size_t)ceil(support) * 2 + 1, count, bytes;
    if (hood__mul_overflows(ksize, out_size, &count) ||
        hood__mul_overflows(count, sizeof(int32_t), &bytes))
        return hood__fail(HOOD_ENOMEM, "resampling %zu -> %zu does not fit in memory", in_size,
                          out_size);
    hood_status status = grow(coef, coef_cap, bytes, "resampling weights");
    if (status == HOOD_OK)
        status = grow(bounds, bounds_cap, out_size * 2 * sizeof(size_t), "resampling bounds");
    if (status != HOOD_OK)
        return status;
    for (size_t i = 0; i < out_size; i++) {
        double center = ((double)i + 0.5) * scale;
        double lo = center - support + 0.5, hi = center + support + 0.5;
        size_t xmin = lo < 0.0 ? 0 : (size_t)lo;
        size_t xmax = hi > (double)in_size ? in_size : (size_t)hi;
        if (xmax < xmin)
            xmax = xmin;
        size_t n = xmax - xmin;
        if (n > ksize)
            n = ksize;
        double ww = 0.0;
        int32_t *kk = *coef + i * ksize;
        /* First pass: the sum; second pass: normalised fixed-point weights. */
        for (size_t x = 0; x < n; x++)
            ww += k.fn(((double)(x + xmin) - center + 0.5) * ss);
        for (size_t x = 0; x < ksize; x++) {
            double w = 0.0;
            if (x < n) {
                w = k.fn(((double)(x + xmin) - center + 0.5) * ss);
                if (ww != 0.0)
                    w /= ww;
            }
            double fixed = w * (double)(1 << PRECISION_BITS);
            kk[x] = (int32_t)(w < 0 ? fixed - 0.5 : fixed + 0.5);
        }
        (*bounds)[2 * i] = xmin;
        (*bounds)[2 * i + 1] = n;
    }
    *ksize_out = ksize;
    return HOOD_OK;
}

/* Sums are int32 as in Pillow: normalised weights have |sum| <= ~1.3 (Lanczos lobes), so
 * 255 * 1.3 * 2^22 + 2^21 stays below 2^31. */
static inline uint8_t clip8(int32_t ss)
{
    int32_t v = ss >> PRECISION_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Nearest-neighbour source index per output position, accumulated as Pillow's affine scaler
 * does (start at scale/2, add scale per step), so both agree at exact .5 boundaries. */
static hood_status nearest_index(size_t in_size, size_t out_size, size_t **idx, size_t *cap)
{
    hood_status status = grow(idx, cap, out_size * 2 * sizeof(size_t), "resampling bounds");
    if (status != HOOD_OK)
        return status;
    double scale = (double)in_size / (double)out_size, pos = scale * 0.5;
    for (size_t i = 0; i < out_size; i++, pos += scale) {
        size_t v = (size_t)pos;
        (*idx)[i] = v < in_size ? v : in_size - 1;
    }
    return HOOD_OK;
}

/* Resamples a w x h region (row stride `stride` bytes, c channels, 8-bit) to the output size,
 * writing floats through dec->table into column (HWC). */
static hood_status resample(hood__image_decoder *dec, const uint8_t *src, size_t stride, size_t w,
                            size_t h, float *column)
{
    const size_t W = dec->pp.width, H = dec->pp.height, C = dec->channels;
    const float *table = dec->table;
    if (w == W && h == H) { /* no resampling: exact pixels */
        for (size_t y = 0; y < H; y++) {
            const uint8_t *row = src + y * stride;
            float *out = column + y * W * C;
            for (size_t i = 0; i < W * C; i++)
                out[i] = table[row[i]];
        }
        return HOOD_OK;
    }
    hood_status status;
    if (dec->pp.interpolation == HOOD_INTERP_NEAREST) {
        if ((status = nearest_index(w, W, &dec->bounds_x, &dec->bounds_x_cap)) != HOOD_OK ||
            (status = nearest_index(h, H, &dec->bounds_y, &dec->bounds_y_cap)) != HOOD_OK)
            return status;
        for (size_t y = 0; y < H; y++) {
            const uint8_t *row = src + dec->bounds_y[y] * stride;
            float *out = column + y * W * C;
            for (size_t x = 0; x < W; x++)
                for (size_t c = 0; c < C; c++)
                    out[x * C + c] = table[row[dec->bounds_x[x] * C + c]];
        }
        return HOOD_OK;
    }
    kernel k = kernel_for(dec->pp.interpolation);
    size_t kx = 0, ky = 0;
    /* Horizontal pass only when the width changes (as Pillow), over every source row. */
    const uint8_t *vsrc = src;
    size_t vstride = stride;
    if (w != W) {
        if ((status = precompute(w, W, k, &dec->coef_x, &dec->coef_x_cap, &dec->bounds_x,
                                 &dec->bounds_x_cap, &kx)) != HOOD_OK)
            return status;
        size_t len = 0;
        if ((status = mul3(h, W, C, &len)) != HOOD_OK ||
            (status = grow(&dec->hpass, &dec->hpass_cap, len, "resampling buffer")) != HOOD_OK)
            return status;
        for (size_t y = 0; y < h; y++) {
            const uint8_t *row = src + y * stride;
            uint8_t *out = dec->hpass + y * W * C;
            for (size_t x = 0; x < W; x++) {
                const int32_t *kk = dec->coef_x + x * kx;
                size_t x0 = dec->bounds_x[2 * x], n = dec->bounds_x[2 * x + 1];
                const uint8_t *in = row + x0 * C;
                for (size_t c = 0; c < C; c++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (size_t i = 0; i < n; i++)
                        ss += (int32_t)in[i * C + c] * kk[i];
                    out[x * C + c] = clip8(ss);
                }
            }
        }
        vsrc = dec->hpass;
        vstride = W * C;
    }
    if (h == H) {
        for (size_t y = 0; y < H; y++)
            for (size_t i = 0; i < W * C; i++)
                column[y * W * C + i] = table[vsrc[y * vstride + i]];
        return HOOD_OK;
    }
    if ((status = precompute(h, H, k, &dec->coef_y, &dec->coef_y_cap, &dec->bounds_y,
                             &dec->bounds_y_cap, &ky)) != HOOD_OK)
        return status;
    /* Row by row (tap outer, pixels inner): contiguous reads the compiler vectorises, into
     * one accumulator row. */
    size_t row_len = W * C;
    if ((status = grow(&dec->acc, &dec->acc_cap, row_len * sizeof(int32_t), "resampling row")) !=
        HOOD_OK)
        return status;
    int32_t *acc = dec->acc;
    for (size_t y = 0; y < H; y++) {
        const int32_t *kk = dec->coef_y + y * ky;
        size_t y0 = dec->bounds_y[2 * y], n = dec->bounds_y[2 * y + 1];
        for (size_t i = 0; i < row_len; i++)
            acc[i] = 1 << (PRECISION_BITS - 1);
        for (size_t j = 0; j < n; j++) {
            const uint8_t *in = vsrc + (y0 + j) * vstride;
            int32_t k = kk[j];
            for (size_t i = 0; i < row_len; i++)
                acc[i] += (int32_t)in[i] * k;
        }
        float *out = column + y * row_len;
        for (size_t i = 0; i < row_len; i++)
            out[i] = table[clip8(acc[i])];
    }
    return HOOD_OK;
}

/* --- the pipeline ------------------------------------------------------------------------- */

static hood_status finish(hood__image_decoder *dec, raw_image *im, float *column)
{
    hood_status status;
    if (im->orientation != 1 && (status = orient(dec, im)) != HOOD_OK)
        return status;
    const size_t C = dec->channels;
    size_t w = im->width, h = im->height, len = 0;
    const uint8_t *pix;
    /* Already in the output's layout: no conversion copy. */
    if (!im->wide && !im->cmyk && (size_t)im->bands == C) {
        pix = im->data;
    } else {
        if ((status = mul3(w, h, C, &len)) != HOOD_OK ||
            (status = grow(&dec->color, &dec->color_cap, len, "converted pixels")) != HOOD_OK)
            return status;
        if (!im->wide && !im->cmyk && im->bands == 3 && C == 1)
            convert_rgb8_gray(dec->color, im->data, w * h);
        else
            convert(dec->color, im, dec->pp.color_mode);
        pix = dec->color;
    }
    box b = region_for(&dec->pp, w, h);
    if (dec->pp.pad_to_aspect_ratio && (b.w != w || b.h != h)) {
        /* The canvas is what gets resampled, so it is held to the decoded-image limit: a
         * 159-byte 60000 x 1 PNG padded to a square would need 3.6 G pixels. */
        if ((uint64_t)b.w * (uint64_t)b.h > dec->max_pixels)
            return hood__fail(HOOD_EUNSUPPORTED,
                              "padded to the output's aspect ratio, the %zu x %zu image would be "
                              "%zu x %zu pixels, more than the %llu-pixel limit",
                              w, h, b.w, b.h, (unsigned long long)dec->max_pixels);
        if ((status = mul3(b.w, b.h, C, &len)) != HOOD_OK ||
            (status = grow(&dec->padded, &dec->padded_cap, len, "padded pixels")) != HOOD_OK)
            return status;
        memset(dec->padded, 0, len);
        for (size_t y = 0; y < h; y++)
            memcpy(dec->padded + ((y + b.y0) * b.w + b.x0) * C, pix + y * w * C, w * C);
        return resample(dec, dec->padded, b.w * C, b.w, b.h, column);
    }
    return resample(dec, pix + (b.y0 * w + b.x0) * C, w * C, b.w, b.h, column);
}

hood_status hood__image_decode_bytes(hood__image_decoder *dec, const char *name,
                                     const uint8_t *bytes, size_t size, float *column)
{
    if (size == 0)
        return hood__fail(HOOD_EFORMAT, "%s: empty file (0 bytes)", name);
    image_format format = sniff(bytes, size);
    if (format == FORMAT_UNKNOWN)
        return hood__fail(HOOD_EFORMAT,
                          "%s: not a PNG, JPEG, GIF, BMP, WebP or TIFF image (unknown content)",
                          name);
    raw_image im;
    hood_status status = HOOD_OK;
    fast_result fast = FAST_DECLINED;
    if (!(dec->flags & HOOD__IMAGE_VIPS_ONLY)) {
        if (format == FORMAT_PNG)
            fast = png_fast(dec, bytes, size, &im, &status);
        else if (format == FORMAT_JPEG)
            fast = jpeg_fast(dec, bytes, size, &im, &status);
        if (status != HOOD_OK)
            return status;
    }
    if (fast == FAST_CORRUPT)
        return hood__fail(HOOD_EFORMAT, "%s: corrupt PNG: %s", name, dec->corrupt_reason);
    if (fast == FAST_DONE) {
        dec->fast_count++;
    } else {
        if ((status = vips_decode(dec, name, format, bytes, size, &im)) != HOOD_OK)
            return status;
        dec->vips_count++;
    }
    if (im.width == 0 || im.height == 0 || im.width > INT32_MAX || im.height > INT32_MAX)
        return hood__fail(HOOD_EFORMAT, "%s: image of %zu x %zu pixels", name, im.width, im.height);
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
            (status = grow(&dec->file, &dec->file_cap, used < 65536 ? 65536 : used * 2,
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
    if (path == NULL || column == NULL)
        return hood__fail(HOOD_EINVAL, "hood_image_load: path or column is NULL");
    hood_status status = hood__vips_start();
    if (status != HOOD_OK)
        return status;
    hood__image_decoder *dec;
    if ((status = hood__image_decoder_create(&dec, pp, 0, NULL)) != HOOD_OK)
        return status;
    status = hood__image_decode_file(dec, path, column);
    hood__image_decoder_free(dec);
    return status;
}
