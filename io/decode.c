/* decode.c — image bytes to decoded pixels. The format is told by content; libspng decodes PNG
 * and libjpeg-turbo JPEG (the fast path: thread-safe, no per-image object machinery), libvips
 * every other format and anything the fast path declines (CMYK JPEGs, EXIF-rotated files when
 * exif_transpose asks, files the fast path cannot decode, so libvips has the last word and gives
 * the reason) but not a bomb it refused (too many pixels or scans). Not what happens to the
 * pixels afterwards (exif.c, resample.c, image.c). */
#include "decode.h"

#include "exif.h"
#include "image.h"
#include "png.h"
#include "resample.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>
#include <vips/vips.h>

/* libjpeg reports errors through a callback that must not return: jump back to the decoder. */
typedef struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    bool warned;    /* a corrupt-data warning: libvips (fail_on truncated) decides instead */
    bool too_many;  /* the progress monitor stopped a file past HOOD__JPEG_MAX_SCANS scans */
} jpeg_failure;

struct hood__raw_decoder {
    hood_preprocess pp; /* for the JPEG shrink-on-load factor */
    unsigned flags;
    pthread_mutex_t *vips_lock;
    uint8_t *pixels; /* decoded, bands x (1 or 2 bytes) per pixel; grow-only */
    size_t pixels_cap;
    struct jpeg_decompress_struct jpeg;
    jpeg_failure jpeg_err;
    struct jpeg_progress_mgr jpeg_progress; /* counts scans as libjpeg reads them */
    bool jpeg_ready;
    hood__png_rows png; /* the PNG pixel fast path's scratch and inflater */
    size_t fast_count, vips_count;
    const char *corrupt_reason; /* libspng's message for a FAST_CORRUPT file (static text) */
    uint64_t max_pixels;        /* larger images are refused before their pixels are decoded */
};

/* Outcome of the fast path: done, or hand the file to libvips; FAST_REFUSED: a bomb (more
 * pixels or scans than the limits), failed here with *status set and never given to libvips,
 * so a refused file costs one header read, not two decodes. */
/* FAST_CORRUPT: the file is damaged beyond doubt (its compressed pixel data does not inflate or
 * ends short, a scanline filter is unknown, or a CRC is wrong), so it fails here with libspng's
 * reason instead of going to libvips: libvips 8.14's PNG loader accepts such a file in 10-30 %
 * of calls whatever its fail_on (measured: `vips copy bad.png[fail_on=error]` 10 of 40), so
 * the same folder would skip or ingest it at random. */
typedef enum fast_result { FAST_DONE, FAST_DECLINED, FAST_CORRUPT, FAST_REFUSED } fast_result;

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

hood_status hood__raw_decoder_create(hood__raw_decoder **out, const hood_preprocess *pp,
                                     unsigned flags, pthread_mutex_t *vips_lock)
{
    hood__raw_decoder *dec = calloc(1, sizeof *dec);
    *out = dec;
    if (dec == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory for an image decoder");
    dec->pp = *pp;
    dec->flags = flags;
    dec->vips_lock = vips_lock;
    dec->max_pixels = HOOD__IMAGE_MAX_PIXELS;
    return HOOD_OK;
}

void hood__raw_decoder_free(hood__raw_decoder *dec)
{
    if (dec == NULL)
        return;
    if (dec->jpeg_ready)
        jpeg_destroy_decompress(&dec->jpeg);
    hood__png_rows_release(&dec->png);
    free(dec->pixels);
    free(dec);
}

void hood__raw_decoder_set_max_pixels(hood__raw_decoder *dec, uint64_t max_pixels)
{
    dec->max_pixels = max_pixels;
}

void hood__raw_decoder_counts(const hood__raw_decoder *dec, size_t *fast, size_t *vips)
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

/* --- limits read from the header, before any pixel is decoded ------------------------------- */

/* The message for an image over the pixel limit (the caller prefixes nothing: name is added by
 * hood__raw_decode's caller chain through the status message). */
static hood_status too_large(const hood__raw_decoder *dec, uint64_t w, uint64_t h)
{
    return hood__fail(HOOD_EUNSUPPORTED,
                      "image of %llu x %llu pixels is larger than the %llu-pixel limit (its header "
                      "claims it; refused before decoding)",
                      (unsigned long long)w, (unsigned long long)h,
                      (unsigned long long)dec->max_pixels);
}

/* Counts a JPEG's scans (SOS markers) up to EOI by walking its marker segments and skipping
 * each scan's entropy-coded data; stops once past limit. A progressive file may hold thousands
 * of empty scans, each a pass over every coefficient block: a 1 KB file can take seconds. */
static size_t jpeg_count_scans(const uint8_t *b, size_t n, size_t limit)
{
    size_t i = 2, scans = 0;
    while (i + 1 < n && scans <= limit) {
        if (b[i] != 0xFF || b[i + 1] == 0xFF) { /* stray byte or fill byte */
            i++;
            continue;
        }
        unsigned m = b[i + 1];
        i += 2;
        if (m == 0xD9) /* EOI: libjpeg reads no further */
            break;
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) /* no length field */
            continue;
        if (i + 2 > n)
            break;
        size_t len = (size_t)b[i] << 8 | b[i + 1];
        if (len < 2)
            break;
        i += len;
        if (m != 0xDA)
            continue;
        scans++;
        /* The scan's data ends at the first 0xFF that is not stuffing (FF 00) or RSTn. */
        while (i + 1 < n) {
            const uint8_t *ff = memchr(b + i, 0xFF, n - i - 1);
            if (ff == NULL) {
                i = n;
                break;
            }
            i = (size_t)(ff - b);
            unsigned next = b[i + 1];
            if (next != 0x00 && !(next >= 0xD0 && next <= 0xD7))
                break;
            i += 2;
        }
    }
    return scans;
}

/* --- fast path: PNG through libspng --------------------------------------------------------- */

static fast_result png_fast(hood__raw_decoder *dec, const uint8_t *bytes, size_t size,
                            hood__raw_image *im, hood_status *status)
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
    if ((uint64_t)ihdr.width * ihdr.height > dec->max_pixels) {
        *status = too_large(dec, ihdr.width, ihdr.height);
        result = FAST_REFUSED;
        goto done;
    }
    /* An eXIf chunk may carry an orientation: libvips applies it when asked to. */
    if (dec->pp.exif_transpose && spng_get_exif(ctx, &exif) == 0)
        goto done;
    bool has_trns = spng_get_trns(ctx, &trns) == 0;
    int fmt, bands;
    bool wide = ihdr.bit_depth == 16;
    /* The common kinds (8-bit grey, grey+alpha, RGB, RGBA, not interlaced) skip libspng's
     * per-byte unfiltering and its RGBA detour (png.c), and go straight to luma when the output
     * is grey and alpha is dropped anyway; png.c declines anything odd back to libspng. */
    bool alpha = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
                 ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA;
    if (!(dec->flags & HOOD__IMAGE_SPNG_PIXELS) && ihdr.bit_depth == 8 &&
        ihdr.interlace_method == 0 && !has_trns &&
        ihdr.color_type != SPNG_COLOR_TYPE_INDEXED) {
        bool gray = dec->pp.color_mode == HOOD_COLOR_GRAYSCALE &&
                    (!alpha || dec->pp.alpha_background == HOOD_ALPHA_IGNORE);
        int done = hood__png_rows_decode(&dec->png, bytes, size, ihdr.width, ihdr.height,
                                         ihdr.color_type, gray, &dec->pixels, &dec->pixels_cap,
                                         &bands, status);
        if (done < 0)
            goto done;
        if (done == 1) {
            wide = false;
            goto decoded;
        }
    }
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
    *status = hood__grow(&dec->pixels, &dec->pixels_cap, len, "decoded pixels");
    if (*status != HOOD_OK)
        goto done;
    int rc = spng_decode_image(ctx, dec->pixels, len, fmt, SPNG_DECODE_TRNS);
    /* A short pixel stream or an unknown scanline filter is as certain as a broken one, and
     * libvips takes those at random too (measured: 3 of 40 calls). */
    if (rc == SPNG_EIDAT_STREAM || rc == SPNG_EZLIB || rc == SPNG_ECHUNK_CRC ||
        rc == SPNG_EIDAT_TOO_SHORT || rc == SPNG_EFILTER) {
        dec->corrupt_reason = spng_strerror(rc);
        result = FAST_CORRUPT;
        goto done;
    }
    if (rc != 0)
        goto done;
decoded:
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

/* Called by libjpeg as it reads: stops a file past the scan limit (djpeg's -maxscans). The
 * marker walk in hood__raw_decode refuses such files first; this holds if the two disagree. */
static void jpeg_progress(j_common_ptr cinfo)
{
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > HOOD__JPEG_MAX_SCANS) {
        jpeg_failure *failure = (jpeg_failure *)cinfo->err;
        failure->too_many = true;
        longjmp(failure->jump, 1);
    }
}

/* After jpeg_read_header: decompresses at the shrink-on-load scale into dec->pixels. Runs
 * under jpeg_fast's setjmp; its locals live in this frame, so longjmp cannot clobber them. */
static fast_result jpeg_read_pixels(hood__raw_decoder *dec, hood__raw_image *im,
                                    hood_status *status)
{
    struct jpeg_decompress_struct *cinfo = &dec->jpeg;
    cinfo->out_color_space = cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    cinfo->scale_num = 1;
    cinfo->scale_denom =
        (unsigned)hood__jpeg_shrink_for(&dec->pp, cinfo->image_width, cinfo->image_height);
    jpeg_calc_output_dimensions(cinfo);
    jpeg_start_decompress(cinfo);
    size_t w = cinfo->output_width, h = cinfo->output_height;
    int bands = cinfo->output_components;
    size_t len = 0;
    *status = hood__mul3(w, h, (size_t)bands, &len);
    if (*status == HOOD_OK)
        *status = hood__grow(&dec->pixels, &dec->pixels_cap, len, "decoded pixels");
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

static fast_result jpeg_fast(hood__raw_decoder *dec, const uint8_t *bytes, size_t size,
                             hood__raw_image *im, hood_status *status)
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
        dec->jpeg_progress.progress_monitor = jpeg_progress;
        cinfo->progress = &dec->jpeg_progress;
        dec->jpeg_ready = true;
    }
    dec->jpeg_err.warned = false;
    dec->jpeg_err.too_many = false;
    if (setjmp(dec->jpeg_err.jump)) {
        jpeg_abort_decompress(cinfo);
        if (dec->jpeg_err.too_many) {
            *status = hood__fail(HOOD_EUNSUPPORTED, "JPEG has more than %d scans (refused)",
                                 HOOD__JPEG_MAX_SCANS);
            return FAST_REFUSED;
        }
        return FAST_DECLINED;
    }
    jpeg_mem_src(cinfo, bytes, (unsigned long)size);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, dec->pp.exif_transpose ? 0xFFFF : 0);
    jpeg_read_header(cinfo, TRUE);
    /* The limit holds on the header's size, whatever shrink-on-load would make of it. */
    if ((uint64_t)cinfo->image_width * cinfo->image_height > dec->max_pixels) {
        *status = too_large(dec, cinfo->image_width, cinfo->image_height);
        jpeg_abort_decompress(cinfo);
        return FAST_REFUSED;
    }
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0) {
            /* libvips reads the first Exif APP1 only; so do we. */
            if (hood__exif_orientation(m->data, m->data_length) != 1) {
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
static hood_status vips_decode_locked(hood__raw_decoder *dec, const char *name, image_format format,
                                      const uint8_t *bytes, size_t size, hood__raw_image *im)
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
    /* The first build reads the header only (libvips decodes on demand). */
    image = vips_load(loader, blob, 1);
    if (image != NULL &&
        (uint64_t)image->Xsize * (uint64_t)image->Ysize > dec->max_pixels) {
        status = hood__fail_prefix(too_large(dec, (uint64_t)image->Xsize, (uint64_t)image->Ysize),
                                   "%s: ", name);
        goto done;
    }
    int orientation = 1;
    if (image != NULL && dec->pp.exif_transpose &&
        vips_image_get_typeof(image, VIPS_META_ORIENTATION) != 0 &&
        vips_image_get_int(image, VIPS_META_ORIENTATION, &orientation) != 0)
        orientation = 1;
    if (image != NULL && format == FORMAT_JPEG) {
        /* Shrink-on-load (only with jpeg_draft) as the fast path does, from the header the
         * first build read; the region is chosen on the displayed (rotated) image. */
        bool swap = orientation >= 5 && orientation <= 8;
        int shrink = hood__jpeg_shrink_for(&dec->pp, (size_t)(swap ? image->Ysize : image->Xsize),
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
    if ((status = hood__grow(&dec->pixels, &dec->pixels_cap, len, "decoded pixels")) != HOOD_OK)
        goto done;
    region = vips_region_new(image);
    VipsRect all = {0, 0, image->Xsize, image->Ysize};
    if (region == NULL || vips_region_prepare(region, &all) != 0) {
        status = vips_fail(name);
        goto done;
    }
    for (size_t y = 0; y < h; y++)
        memcpy(dec->pixels + y * line, VIPS_REGION_ADDR(region, 0, (int)y), line);
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

static hood_status vips_decode(hood__raw_decoder *dec, const char *name, image_format format,
                               const uint8_t *bytes, size_t size, hood__raw_image *im)
{
    if (dec->vips_lock != NULL)
        pthread_mutex_lock(dec->vips_lock);
    hood_status status = vips_decode_locked(dec, name, format, bytes, size, im);
    if (dec->vips_lock != NULL)
        pthread_mutex_unlock(dec->vips_lock);
    return status;
}

/* --- the loader chosen by content ----------------------------------------------------------- */

hood_status hood__raw_decode(hood__raw_decoder *dec, const char *name, const uint8_t *bytes,
                             size_t size, hood__raw_image *im)
{
    if (size == 0)
        return hood__fail(HOOD_EFORMAT, "%s: empty file (0 bytes)", name);
    image_format format = sniff(bytes, size);
    if (format == FORMAT_UNKNOWN)
        return hood__fail(HOOD_EFORMAT,
                          "%s: not a PNG, JPEG, GIF, BMP, WebP or TIFF image (unknown content)",
                          name);
    if (format == FORMAT_JPEG &&
        jpeg_count_scans(bytes, size, HOOD__JPEG_MAX_SCANS) > HOOD__JPEG_MAX_SCANS)
        return hood__fail(HOOD_EUNSUPPORTED,
                          "%s: JPEG has more than %d scans (a scan bomb; refused before decoding)",
                          name, HOOD__JPEG_MAX_SCANS);
    hood_status status = HOOD_OK;
    fast_result fast = FAST_DECLINED;
    if (!(dec->flags & HOOD__IMAGE_VIPS_ONLY)) {
        if (format == FORMAT_PNG)
            fast = png_fast(dec, bytes, size, im, &status);
        else if (format == FORMAT_JPEG)
            fast = jpeg_fast(dec, bytes, size, im, &status);
        if (fast == FAST_REFUSED)
            return hood__fail_prefix(status, "%s: ", name);
        if (status != HOOD_OK)
            return status;
    }
    if (fast == FAST_CORRUPT)
        return hood__fail(HOOD_EFORMAT, "%s: corrupt PNG: %s", name, dec->corrupt_reason);
    if (fast == FAST_DONE) {
        dec->fast_count++;
    } else {
        if ((status = vips_decode(dec, name, format, bytes, size, im)) != HOOD_OK)
            return status;
        dec->vips_count++;
    }
    if (im->width == 0 || im->height == 0 || im->width > INT32_MAX || im->height > INT32_MAX)
        return hood__fail(HOOD_EFORMAT, "%s: image of %zu x %zu pixels", name, im->width,
                          im->height);
    return HOOD_OK;
}
