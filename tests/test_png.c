/* test_png.c — the PNG pixel fast path (io/png.c) against libspng's own decode: every colour
 * type and bit depth, interlaced or not, with and without tRNS, each filter type, odd sizes,
 * through the whole pipeline in every colour mode; and what it must decline (bad CRC, a bad
 * filter byte, split or short zlib streams) so libspng keeps the last word. PNGs are written
 * here by libspng's encoder and by hand (zlib), so no fixture or Python is needed. */
#include "check_main.h"

#include "error.h"
#include "hood.h"
#include "image.h"
#include "png.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spng.h>
#include <zlib.h>

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* Encodes raw rows (SPNG_FMT_PNG layout) with libspng, one filter choice; returns malloc'd. */
static uint8_t *encode(size_t *n, const uint8_t *raw, size_t rawlen, uint32_t w, uint32_t h,
                       int color_type, int depth, int interlace, int filters, bool trns)
{
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1), 0);
    struct spng_ihdr ihdr = {w, h, (uint8_t)depth, (uint8_t)color_type, 0, 0, (uint8_t)interlace};
    ck_assert_int_eq(spng_set_ihdr(ctx, &ihdr), 0);
    if (color_type == SPNG_COLOR_TYPE_INDEXED) {
        struct spng_plte plte = {.n_entries = 1u << depth};
        for (unsigned i = 0; i < plte.n_entries; i++)
            plte.entries[i] = (struct spng_plte_entry){(uint8_t)i, (uint8_t)(255 - i),
                                                       (uint8_t)(i * 7), 255};
        ck_assert_int_eq(spng_set_plte(ctx, &plte), 0);
    }
    if (trns) {
        struct spng_trns t = {0};
        unsigned top = (1u << depth) - 1;
        t.gray = (uint16_t)(top / 3);
        t.red = (uint16_t)(top / 5), t.green = (uint16_t)(top / 7), t.blue = (uint16_t)(top / 2);
        t.n_type3_entries = 1u << (depth < 8 ? depth : 8);
        for (unsigned i = 0; i < t.n_type3_entries; i++)
            t.type3_alpha[i] = (uint8_t)(i * 37);
        ck_assert_int_eq(spng_set_trns(ctx, &t), 0);
    }
    ck_assert_int_eq(spng_set_option(ctx, SPNG_FILTER_CHOICE, filters), 0);
    int rc = spng_encode_image(ctx, raw, rawlen, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    ck_assert_msg(rc == 0, "encode: %s", spng_strerror(rc));
    int err = 0;
    uint8_t *png = spng_get_png_buffer(ctx, n, &err);
    ck_assert_msg(png != NULL && err == 0, "encode buffer: %s", spng_strerror(err));
    spng_ctx_free(ctx);
    return png;
}

/* Decodes bytes through the whole pipeline at the image's own size (exact pixels) and at an
 * odd smaller size, with and without the fast path; the columns must be the same bits. */
static void pipeline_equal(const uint8_t *png, size_t n, size_t w, size_t h, const char *what)
{
    const hood_color_mode modes[] = {HOOD_COLOR_GRAYSCALE, HOOD_COLOR_GRAYSCALE, HOOD_COLOR_RGB,
                                     HOOD_COLOR_RGBA};
    const int32_t backgrounds[] = {HOOD_ALPHA_IGNORE, 0x3366CC, HOOD_ALPHA_IGNORE,
                                   HOOD_ALPHA_IGNORE};
    const size_t sizes[][2] = {{h, w}, {h > 2 ? h / 2 + 1 : h, w > 2 ? w / 2 + 1 : w}};
    for (int m = 0; m < 4; m++) {
        for (int s = 0; s < 2; s++) {
            hood_preprocess pp;
            hood_preprocess_init(&pp);
            pp.height = sizes[s][0];
            pp.width = sizes[s][1];
            pp.color_mode = modes[m];
            pp.alpha_background = backgrounds[m];
            size_t d = pp.height * pp.width * hood_color_mode_channels(modes[m]);
            float *a = malloc(d * sizeof(float)), *b = malloc(d * sizeof(float));
            ck_assert(a != NULL && b != NULL);
            hood__image_decoder *fast, *spng;
            ck_assert_int_eq(hood__image_decoder_create(&fast, &pp, 0, NULL), HOOD_OK);
            ck_assert_int_eq(hood__image_decoder_create(&spng, &pp, HOOD__IMAGE_SPNG_PIXELS, NULL),
                             HOOD_OK);
            hood_status sa = hood__image_decode_bytes(fast, "f.png", png, n, a);
            hood_status sb = hood__image_decode_bytes(spng, "f.png", png, n, b);
            ck_assert_msg(sa == HOOD_OK && sb == HOOD_OK, "%s: %s", what, hood_last_error());
            ck_assert_msg(memcmp(a, b, d * sizeof(float)) == 0, "%s: mode %d size %d differs",
                          what, m, s);
            hood__image_decoder_free(fast);
            hood__image_decoder_free(spng);
            free(a);
            free(b);
        }
    }
}

/* The fast path alone on an eligible PNG equals libspng's decode in the same layout. */
static void rows_equal_spng(const uint8_t *png, size_t n, size_t w, size_t h, int color_type,
                            const char *what)
{
    spng_ctx *ctx = spng_ctx_new(0);
    ck_assert_int_eq(spng_set_png_buffer(ctx, png, n), 0);
    int fmt = color_type == 0 ? SPNG_FMT_G8 : color_type == 2 ? SPNG_FMT_RGB8 : SPNG_FMT_RGBA8;
    size_t len;
    ck_assert_int_eq(spng_decoded_image_size(ctx, fmt, &len), 0);
    uint8_t *want = malloc(len);
    ck_assert_int_eq(spng_decode_image(ctx, want, len, fmt, 0), 0);
    spng_ctx_free(ctx);
    hood__png_rows pr = {0};
    uint8_t *got = NULL;
    size_t cap = 0;
    int bands = 0;
    hood_status st;
    ck_assert_msg(hood__png_rows_decode(&pr, png, n, w, h, color_type, false, &got, &cap, &bands,
                                        &st) == 1,
                  "%s: declined", what);
    int ch = color_type == 0 ? 1 : color_type == 4 ? 2 : color_type == 2 ? 3 : 4;
    ck_assert_int_eq(bands, ch);
    for (size_t i = 0; i < w * h; i++) {
        if (color_type == 4) { /* libspng gives grey+alpha as RGBA */
            ck_assert_msg(got[2 * i] == want[4 * i] && got[2 * i + 1] == want[4 * i + 3],
                          "%s: pixel %zu", what, i);
        } else {
            ck_assert_msg(memcmp(got + i * (size_t)ch, want + i * (size_t)ch, (size_t)ch) == 0,
                          "%s: pixel %zu", what, i);
        }
    }
    hood__png_rows_release(&pr);
    free(got);
    free(want);
}

START_TEST(every_kind_equals_libspng)
{
    ck_assert_int_eq(hood__vips_start(), HOOD_OK);
    static const struct {
        int type, depth;
    } kinds[] = {{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1},
                 {3, 2}, {3, 4}, {3, 8}, {4, 8}, {4, 16}, {6, 8}, {6, 16}};
    static const int filters[] = {SPNG_FILTER_CHOICE_NONE, SPNG_FILTER_CHOICE_SUB,
                                  SPNG_FILTER_CHOICE_UP,   SPNG_FILTER_CHOICE_AVG,
                                  SPNG_FILTER_CHOICE_PAETH, SPNG_FILTER_CHOICE_ALL};
    static const uint32_t widths[] = {1, 3, 33}, heights[] = {1, 17};
    uint32_t seed = 12345;
    size_t eligible = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int type = kinds[k].type, depth = kinds[k].depth;
        int ch = type == 0 || type == 3 ? 1 : type == 4 ? 2 : type == 2 ? 3 : 4;
        for (size_t wi = 0; wi < 3; wi++) {
            for (size_t hi = 0; hi < 2; hi++) {
                uint32_t w = widths[wi], h = heights[hi];
                size_t rowbytes = ((size_t)w * (size_t)ch * (size_t)depth + 7) / 8;
                uint8_t *raw = malloc(rowbytes * h);
                for (size_t i = 0; i < rowbytes * h; i++) /* noise, and flat runs for ties */
                    raw[i] = (i / 5) % 3 == 0 ? (uint8_t)(i / 17) : (uint8_t)lcg(&seed);
                for (int il = 0; il < 2; il++) {
                    for (size_t f = 0; f < 6; f++) {
                        for (int trns = 0; trns < 2; trns++) {
                            if (trns && (type == 4 || type == 6))
                                continue; /* no tRNS with an alpha channel */
                            char what[96];
                            snprintf(what, sizeof what, "type %d depth %d %ux%u interlace %d "
                                     "filters %d trns %d", type, depth, w, h, il, filters[f], trns);
                            size_t n;
                            uint8_t *png = encode(&n, raw, rowbytes * h, w, h, type, depth, il,
                                                  filters[f], trns);
                            pipeline_equal(png, n, w, h, what);
                            if (depth == 8 && !il && !trns && type != 3) {
                                rows_equal_spng(png, n, w, h, type, what);
                                eligible++;
                            }
                            free(png);
                        }
                    }
                }
                free(raw);
            }
        }
    }
    ck_assert_uint_eq(eligible, 4 * 3 * 2 * 6);
}
END_TEST

/* --- PNGs written by hand: the stream cases libspng's encoder never makes -------------------- */

static size_t put_chunk(uint8_t *out, const char *type, const uint8_t *data, size_t len)
{
    out[0] = (uint8_t)(len >> 24), out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8), out[3] = (uint8_t)len;
    memcpy(out + 4, type, 4);
    if (len > 0)
        memcpy(out + 8, data, len);
    uint32_t crc = (uint32_t)crc32(0, out + 4, (uInt)(4 + len));
    out[8 + len] = (uint8_t)(crc >> 24), out[9 + len] = (uint8_t)(crc >> 16);
    out[10 + len] = (uint8_t)(crc >> 8), out[11 + len] = (uint8_t)crc;
    return 12 + len;
}

enum { HW = 19, HH = 7, RAWLEN = HH * (HW * 3 + 1) };

/* An 8-bit RGB HW x HH PNG of the given scanlines (filter bytes included): the zlib stream
 * plus extra bytes split over `parts` IDATs, a tEXt between the first two when `gap`, IEND
 * unless `no_iend`. */
static size_t hand_png(uint8_t *out, const uint8_t *scanlines, size_t rawlen, int parts,
                       const uint8_t *extra, size_t extra_len, bool gap, bool no_iend)
{
    uint8_t z[4096];
    uLongf zlen = sizeof z;
    ck_assert_int_eq(compress2(z, &zlen, scanlines, rawlen, 6), Z_OK);
    ck_assert(zlen + extra_len <= sizeof z);
    if (extra_len > 0)
        memcpy(z + zlen, extra, extra_len);
    zlen += extra_len;
    size_t n = 0;
    memcpy(out, "\x89PNG\r\n\x1a\n", 8), n = 8;
    uint8_t ihdr[13] = {0, 0, 0, HW, 0, 0, 0, HH, 8, 2, 0, 0, 0};
    n += put_chunk(out + n, "IHDR", ihdr, 13);
    size_t at = 0;
    for (int p = 0; p < parts; p++) {
        size_t len = p == parts - 1 ? zlen - at : zlen / (size_t)parts;
        n += put_chunk(out + n, "IDAT", z + at, len);
        at += len;
        if (gap && p == 0)
            n += put_chunk(out + n, "tEXt", (const uint8_t *)"k\0v", 3);
    }
    if (!no_iend)
        n += put_chunk(out + n, "IEND", NULL, 0);
    return n;
}

static int rows_result(const uint8_t *png, size_t n)
{
    hood__png_rows pr = {0};
    uint8_t *px = NULL;
    size_t cap = 0;
    int bands = 0;
    hood_status st;
    int r = hood__png_rows_decode(&pr, png, n, HW, HH, 2, false, &px, &cap, &bands, &st);
    hood__png_rows_release(&pr);
    free(px);
    return r;
}

/* Both decoders give the same status, and the same column when they succeed. */
static void same_outcome(const uint8_t *png, size_t n, const char *what)
{
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    pp.height = HH;
    pp.width = HW;
    float a[HW * HH], b[HW * HH];
    char msg_a[512];
    hood__image_decoder *fast, *spng;
    ck_assert_int_eq(hood__image_decoder_create(&fast, &pp, 0, NULL), HOOD_OK);
    ck_assert_int_eq(hood__image_decoder_create(&spng, &pp, HOOD__IMAGE_SPNG_PIXELS, NULL),
                     HOOD_OK);
    hood_status sa = hood__image_decode_bytes(fast, "h.png", png, n, a);
    snprintf(msg_a, sizeof msg_a, "%s", hood_last_error());
    hood_status sb = hood__image_decode_bytes(spng, "h.png", png, n, b);
    ck_assert_msg(sa == sb, "%s: status %d vs %d (%s / %s)", what, sa, sb, msg_a,
                  hood_last_error());
    if (sa == HOOD_OK)
        ck_assert_msg(memcmp(a, b, sizeof a) == 0, "%s: columns differ", what);
    else
        ck_assert_msg(strcmp(msg_a, hood_last_error()) == 0 && strstr(msg_a, "h.png: ") == msg_a,
                      "%s: '%s' vs '%s'", what, msg_a, hood_last_error());
    hood__image_decoder_free(fast);
    hood__image_decoder_free(spng);
}

START_TEST(declines_what_it_must)
{
    ck_assert_int_eq(hood__vips_start(), HOOD_OK);
    uint8_t raw[RAWLEN], png[8192];
    uint32_t seed = 99;
    for (size_t y = 0; y < HH; y++) {
        raw[y * (HW * 3 + 1)] = (uint8_t)(y % 5); /* filters 0..4 */
        for (size_t i = 1; i <= HW * 3; i++)
            raw[y * (HW * 3 + 1) + i] = (uint8_t)lcg(&seed);
    }
    size_t n = hand_png(png, raw, RAWLEN, 1, NULL, 0, false, false);
    ck_assert_int_eq(rows_result(png, n), 1);
    same_outcome(png, n, "plain");
    n = hand_png(png, raw, RAWLEN, 3, NULL, 0, false, false);
    ck_assert_int_eq(rows_result(png, n), 1); /* IDATs joined */
    same_outcome(png, n, "three IDATs");

    /* declined: the file still decodes (or fails) exactly as through libspng */
    /* (libspng refuses this one and hands it to libvips, whose verdict is not the same on
     * every call: only that the fast path declines is checked) */
    n = hand_png(png, raw, RAWLEN, 2, NULL, 0, true, false);
    ck_assert_int_eq(rows_result(png, n), 0);
    n = hand_png(png, raw, RAWLEN, 1, NULL, 0, false, true);
    ck_assert_int_eq(rows_result(png, n), 0);
    same_outcome(png, n, "no IEND");
    n = hand_png(png, raw, RAWLEN, 1, (const uint8_t *)"junk", 4, false, false);
    ck_assert_int_eq(rows_result(png, n), 0);
    same_outcome(png, n, "bytes after the zlib stream");
    n = hand_png(png, raw, RAWLEN, 1, NULL, 0, false, false);
    png[n - 1] ^= 1; /* IEND's CRC: the pixels are whole, the file is not */
    ck_assert_int_eq(rows_result(png, n), 0);
    same_outcome(png, n, "IEND's CRC");
    /* damaged pixel data fails the same way every time, naming the file */
    n = hand_png(png, raw, RAWLEN - 1, 1, NULL, 0, false, false);
    ck_assert_int_eq(rows_result(png, n), 0);
    same_outcome(png, n, "one byte short");
    ck_assert_str_eq(hood_last_error(), "h.png: corrupt PNG: IDAT stream too short");
    raw[2 * (HW * 3 + 1)] = 5; /* no such filter */
    n = hand_png(png, raw, RAWLEN, 1, NULL, 0, false, false);
    ck_assert_int_eq(rows_result(png, n), 0);
    same_outcome(png, n, "filter 5");
    ck_assert_msg(strstr(hood_last_error(), "h.png: corrupt PNG: ") == hood_last_error(), "%s",
                  hood_last_error());
    raw[2 * (HW * 3 + 1)] = 4;
    n = hand_png(png, raw, RAWLEN, 1, NULL, 0, false, false);
    png[n - 12 - 6] ^= 0x40; /* a byte of the Adler-32 (IDAT's payload end): CRC now wrong */
    ck_assert_int_eq(rows_result(png, n), 0);
    same_outcome(png, n, "bad CRC");
    /* the same damage with the CRC made right: Adler-32 catches it */
    size_t idat_len = (size_t)png[33] << 24 | (size_t)png[34] << 16 | (size_t)png[35] << 8 |
                      png[36];
    uint32_t crc = (uint32_t)crc32(0, png + 37, (uInt)(4 + idat_len));
    for (int k = 0; k < 4; k++)
        png[41 + idat_len + (size_t)k] = (uint8_t)(crc >> (24 - 8 * k));
    ck_assert_int_eq(rows_result(png, n), 0);
    same_outcome(png, n, "bad Adler-32");
}
END_TEST

/* Each unfilter against a byte-at-a-time reference (PNG spec 9.2-9.4) on random rows. */
START_TEST(unfilter_matches_the_spec)
{
    uint32_t seed = 7;
    for (size_t bpp = 1; bpp <= 8; bpp++) {
        for (uint8_t f = 0; f <= 4; f++) {
            enum { N = 96 };
            uint8_t prev[N], row[N], want[N];
            for (size_t i = 0; i < N; i++)
                prev[i] = (uint8_t)lcg(&seed), row[i] = (uint8_t)lcg(&seed);
            for (size_t i = 0; i < N; i++) {
                int a = i >= bpp ? want[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
                int pred = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2
                           : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                want[i] = (uint8_t)(row[i] + pred);
            }
            ck_assert(hood__png_unfilter(f, row, prev, N, bpp));
            ck_assert_msg(memcmp(row, want, N) == 0, "filter %u bpp %zu", f, bpp);
        }
    }
    uint8_t row[4] = {0}, prev[4] = {0};
    ck_assert(!hood__png_unfilter(5, row, prev, 4, 1));
}
END_TEST

/* Two Paeth rows at once give what two single rows give, at every pixel size and width. */
START_TEST(paeth_pairs_equal_single_rows)
{
    uint32_t seed = 11;
    for (size_t bpp = 1; bpp <= 8; bpp++) {
        for (size_t px = 1; px <= 9; px++) {
            size_t n = px * bpp;
            uint8_t prev[72], r0[72], r1[72], s0[72], s1[72];
            for (size_t i = 0; i < n; i++) {
                prev[i] = (uint8_t)lcg(&seed);
                r0[i] = s0[i] = (uint8_t)lcg(&seed);
                r1[i] = s1[i] = i % 7 < 3 ? 0 : (uint8_t)lcg(&seed); /* runs: ties */
            }
            hood__png_unfilter_paeth2(r0, r1, prev, n, bpp);
            ck_assert(hood__png_unfilter(4, s0, prev, n, bpp));
            ck_assert(hood__png_unfilter(4, s1, s0, n, bpp));
            ck_assert_msg(memcmp(r0, s0, n) == 0 && memcmp(r1, s1, n) == 0,
                          "bpp %zu, %zu pixels", bpp, px);
        }
    }
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("png");
    TCase *tc = tcase_create("png");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, unfilter_matches_the_spec);
    tcase_add_test(tc, paeth_pairs_equal_single_rows);
    tcase_add_test(tc, every_kind_equals_libspng);
    tcase_add_test(tc, declines_what_it_must);
    suite_add_tcase(s, tc);
    return s;
}
