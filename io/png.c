/* png.c — the PNG pixel fast path (png.h): walks the chunks checking every CRC, inflates the
 * joined IDAT payloads in one call (libdeflate, Adler-32 checked), unfilters each scanline in
 * place (SSE2 Paeth for 3- and 4-byte pixels) and writes the row out, as luma when asked.
 * Not the header or ancillary chunks (libspng, decode.c) and no other PNG kind. */
#include "png.h"

#include "resample.h"

#include <libdeflate.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void hood__png_rows_release(hood__png_rows *pr)
{
    if (pr->inflater != NULL)
        libdeflate_free_decompressor(pr->inflater);
    free(pr->idat);
    free(pr->raw);
    free(pr->zero);
    memset(pr, 0, sizeof *pr);
}

/* --- unfiltering ----------------------------------------------------------------------------- */

static inline uint8_t paeth_predict(int a, int b, int c)
{
    int pa = b - c, pb = a - c, pc = pa + pb;
    pa = pa < 0 ? -pa : pa;
    pb = pb < 0 ? -pb : pb;
    pc = pc < 0 ? -pc : pc;
    if (pa <= pb && pa <= pc)
        return (uint8_t)a;
    return (uint8_t)(pb <= pc ? b : c);
}

#if defined(__SSE2__)
/* One pixel of bpp (3 or 4) bytes as eight 16-bit lanes. */
static inline __m128i load_pixel(const uint8_t *p, size_t bpp)
{
    /* Built in a register: a 3-byte memcpy into a stack word then a 4-byte load stalls on
     * store forwarding (measured: most of the unfiltering time). */
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    if (bpp == 4)
        v |= (uint32_t)p[3] << 24;
    return _mm_unpacklo_epi8(_mm_cvtsi32_si128((int)v), _mm_setzero_si128());
}

static inline __m128i abs16(__m128i x)
{
    return _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x));
}

static inline __m128i select16(__m128i mask, __m128i yes, __m128i no)
{
    return _mm_or_si128(_mm_and_si128(mask, yes), _mm_andnot_si128(mask, no));
}

/* Paeth on whole pixels at once (libpng's filter_sse2_intrinsics.c method): the channels of a
 * pixel are independent, so one pixel's worth of lanes replaces bpp scalar predictions. */
static inline void store_pixel(uint8_t *p, __m128i x, size_t bpp)
{
    uint32_t v = (uint32_t)_mm_cvtsi128_si32(_mm_packus_epi16(x, x));
    for (size_t k = 0; k < bpp; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

/* One Paeth step: the filtered pixel x plus the prediction from left a, above b, upper-left c. */
static inline __m128i paeth_step(__m128i x, __m128i a, __m128i b, __m128i c)
{
    __m128i pa = _mm_sub_epi16(b, c), pb = _mm_sub_epi16(a, c);
    __m128i pc = abs16(_mm_add_epi16(pa, pb));
    pa = abs16(pa);
    pb = abs16(pb);
    __m128i least = _mm_min_epi16(pc, _mm_min_epi16(pa, pb));
    __m128i pred = select16(_mm_cmpeq_epi16(least, pa), a,
                            select16(_mm_cmpeq_epi16(least, pb), b, c));
    /* bytewise add: each lane's high byte stays 0, its low byte wraps mod 256 */
    return _mm_add_epi8(x, pred);
}

static inline __attribute__((always_inline)) void paeth_sse2(uint8_t *row, const uint8_t *prev,
                                                              size_t n, size_t bpp)
{
    __m128i a = _mm_setzero_si128(), c = a;
    for (size_t i = 0; i + bpp <= n; i += bpp) {
        __m128i b = load_pixel(prev + i, bpp);
        a = paeth_step(load_pixel(row + i, bpp), a, b, c);
        store_pixel(row + i, a, bpp);
        c = b;
    }
}

/* Two Paeth rows at once, the second a pixel behind the first (its pixel i needs the first's
 * i - 1 and i): each row's pixels form one long dependency chain (a pixel's left neighbour is
 * the previous result), so two chains side by side keep the core busy twice as long a time. */
static inline __attribute__((always_inline)) void paeth2_sse2(uint8_t *row0, uint8_t *row1,
                                                               const uint8_t *prev, size_t n,
                                                               size_t bpp)
{
    const __m128i zero = _mm_setzero_si128();
    __m128i a0 = zero, c0 = zero, a1 = zero, c1 = zero;
    for (size_t i = 0; i + bpp <= n; i += bpp) {
        __m128i b0 = load_pixel(prev + i, bpp);
        __m128i up = a0; /* row0's pixel i - bpp: above row1's pixel i - bpp */
        a0 = paeth_step(load_pixel(row0 + i, bpp), a0, b0, c0);
        store_pixel(row0 + i, a0, bpp);
        c0 = b0;
        if (i > 0) {
            a1 = paeth_step(load_pixel(row1 + i - bpp, bpp), a1, up, c1);
            store_pixel(row1 + i - bpp, a1, bpp);
            c1 = up;
        }
    }
    if (n >= bpp) /* row1's last pixel */
        store_pixel(row1 + n - bpp, paeth_step(load_pixel(row1 + n - bpp, bpp), a1, a0, c1),
                    bpp);
}
#endif

void hood__png_unfilter_paeth2(uint8_t *row0, uint8_t *row1, const uint8_t *prev, size_t n,
                               size_t bpp)
{
#if defined(__SSE2__)
    if (bpp == 3) {
        paeth2_sse2(row0, row1, prev, n, 3);
        return;
    }
    if (bpp == 4) {
        paeth2_sse2(row0, row1, prev, n, 4);
        return;
    }
#endif
    hood__png_unfilter(4, row0, prev, n, bpp);
    hood__png_unfilter(4, row1, row0, n, bpp);
}

bool hood__png_unfilter(uint8_t filter, uint8_t *row, const uint8_t *prev, size_t n, size_t bpp)
{
    size_t lead = bpp < n ? bpp : n; /* the first pixel has no left neighbour (a = c = 0) */
    switch (filter) {
    case 0:
        return true;
    case 1:
        for (size_t i = bpp; i < n; i++)
            row[i] = (uint8_t)(row[i] + row[i - bpp]);
        return true;
    case 2:
        for (size_t i = 0; i < n; i++)
            row[i] = (uint8_t)(row[i] + prev[i]);
        return true;
    case 3:
        for (size_t i = 0; i < lead; i++)
            row[i] = (uint8_t)(row[i] + (prev[i] >> 1));
        for (size_t i = bpp; i < n; i++)
            row[i] = (uint8_t)(row[i] + ((row[i - bpp] + prev[i]) >> 1));
        return true;
    case 4:
#if defined(__SSE2__)
        /* constant bpp, so the 3- and 4-byte copies compile to moves, not memcpy calls */
        if (bpp == 3) {
            paeth_sse2(row, prev, n, 3);
            return true;
        }
        if (bpp == 4) {
            paeth_sse2(row, prev, n, 4);
            return true;
        }
#endif
        for (size_t i = 0; i < lead; i++)
            row[i] = (uint8_t)(row[i] + prev[i]);
        for (size_t i = bpp; i < n; i++)
            row[i] = (uint8_t)(row[i] + paeth_predict(row[i - bpp], prev[i], prev[i - bpp]));
        return true;
    default:
        return false;
    }
}

/* --- chunks and inflate ---------------------------------------------------------------------- */

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Finds the zlib stream: every chunk's CRC right, the IDATs consecutive, IEND reached. Points
 * *z at the one IDAT's payload or at the payloads joined in pr->idat. Returns 1, 0 (declined)
 * or -1 (out of memory, *status set). */
static int idat_stream(hood__png_rows *pr, const uint8_t *bytes, size_t size, const uint8_t **z,
                       size_t *zlen, hood_status *status)
{
    size_t pos = 8, first = 0, total = 0, count = 0;
    bool after_idat = false, iend = false;
    while (!iend && size - pos >= 12) {
        size_t len = be32(bytes + pos);
        if (len > 0x7FFFFFFF || len > size - pos - 12)
            return 0;
        const uint8_t *type = bytes + pos + 4;
        if ((uint32_t)libdeflate_crc32(0, type, 4 + len) != be32(type + 4 + len))
            return 0;
        if (memcmp(type, "IDAT", 4) == 0) {
            if (after_idat)
                return 0;
            if (count++ == 0)
                first = pos;
            total += len;
        } else if (count > 0) {
            after_idat = true;
        }
        iend = memcmp(type, "IEND", 4) == 0;
        pos += 12 + len;
    }
    if (!iend || count == 0)
        return 0;
    if (count == 1) {
        *z = bytes + first + 8;
        *zlen = total;
        return 1;
    }
    if ((*status = hood__grow(&pr->idat, &pr->idat_cap, total, "PNG data")) != HOOD_OK)
        return -1;
    size_t used = 0;
    for (pos = first; count > 0; count--) {
        size_t len = be32(bytes + pos);
        memcpy(pr->idat + used, bytes + pos + 8, len);
        used += len;
        pos += 12 + len;
    }
    *z = pr->idat;
    *zlen = total;
    return 1;
}

/* --- the decode ------------------------------------------------------------------------------ */

/* One unfiltered row of n pixels of ch channels to its output: copied, or luma (ch 3, 4), or the
 * grey of grey+alpha (ch 2). */
static void emit(uint8_t *out, const uint8_t *row, size_t n, size_t ch, bool gray)
{
    if (!gray || ch == 1)
        memcpy(out, row, n * ch);
    else if (ch == 2)
        for (size_t i = 0; i < n; i++)
            out[i] = row[2 * i];
    else if (ch == 3)
        hood__convert_rgb8_gray(out, row, n);
    else
        hood__convert_rgba8_gray(out, row, n);
}

int hood__png_rows_decode(hood__png_rows *pr, const uint8_t *bytes, size_t size, size_t width,
                          size_t height, int color_type, bool gray, uint8_t **pixels,
                          size_t *pixels_cap, int *bands, hood_status *status)
{
    *status = HOOD_OK;
    size_t ch = color_type == 0 ? 1 : color_type == 4 ? 2 : color_type == 2 ? 3 : 4;
    if (color_type != 0 && color_type != 2 && color_type != 4 && color_type != 6)
        return 0;
    size_t out_bands = gray ? 1 : ch, rowbytes = 0, rawlen = 0, outlen = 0;
    if ((*status = hood__mul3(width, ch, 1, &rowbytes)) != HOOD_OK ||
        (*status = hood__mul3(rowbytes + 1, height, 1, &rawlen)) != HOOD_OK ||
        (*status = hood__mul3(width, height, out_bands, &outlen)) != HOOD_OK)
        return -1;
    const uint8_t *z = NULL;
    size_t zlen = 0;
    int found = idat_stream(pr, bytes, size, &z, &zlen, status);
    if (found != 1)
        return found;
    if (pr->inflater == NULL && (pr->inflater = libdeflate_alloc_decompressor()) == NULL) {
        *status = hood__fail(HOOD_ENOMEM, "out of memory for a PNG inflater");
        return -1;
    }
    size_t zero_cap = pr->zero_cap;
    if ((*status = hood__grow(&pr->raw, &pr->raw_cap, rawlen, "PNG scanlines")) != HOOD_OK ||
        (*status = hood__grow(&pr->zero, &pr->zero_cap, rowbytes, "PNG scanlines")) != HOOD_OK ||
        (*status = hood__grow(pixels, pixels_cap, outlen, "decoded pixels")) != HOOD_OK)
        return -1;
    if (pr->zero_cap != zero_cap)
        memset(pr->zero, 0, pr->zero_cap);
    /* Exactly rawlen bytes from exactly zlen: a short, long or trailing stream is declined. */
    size_t in_used = 0;
    if (libdeflate_zlib_decompress_ex(pr->inflater, z, zlen, pr->raw, rawlen, &in_used, NULL) !=
            LIBDEFLATE_SUCCESS ||
        in_used != zlen)
        return 0;
    const uint8_t *prev = pr->zero;
    for (size_t y = 0; y < height; y++) {
        uint8_t *line = pr->raw + y * (rowbytes + 1), *next = line + rowbytes + 1;
        if (y + 1 < height && line[0] == 4 && next[0] == 4) { /* photos: nearly every row */
            hood__png_unfilter_paeth2(line + 1, next + 1, prev, rowbytes, ch);
            emit(*pixels + y * width * out_bands, line + 1, width, ch, gray);
            line = next;
            y++;
        } else if (!hood__png_unfilter(line[0], line + 1, prev, rowbytes, ch)) {
            return 0;
        }
        emit(*pixels + y * width * out_bands, line + 1, width, ch, gray);
        prev = line + 1;
    }
    *bands = (int)out_bands;
    return 1;
}
