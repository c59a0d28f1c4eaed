/* test_ingest.c — image_dataset_from_directory and hood_image_load: pixels, colours, class
 * order, the split rule, labels, bad files, errors, the fast path against libvips, and each
 * resampling kernel against Pillow's (tests/data/ingest/resize-reference.txt). Fixtures are
 * written by libvips into a fresh temporary folder per test. */
#define _GNU_SOURCE /* nftw's FTW_PHYS / FTW_DEPTH */
#include "check_main.h"

#include "dataset.h"
#include "error.h"
#include "hood.h"
#include "image.h"
#include "ingest.h"
#include "resample.h"
#include "rng.h"

#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>

/* --- fixture helpers ------------------------------------------------------------------------ */

static char tmp_root[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void setup_dir(void)
{
    ck_assert_int_eq(hood__vips_start(), HOOD_OK);
    snprintf(tmp_root, sizeof tmp_root, "/tmp/hood-ingest-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_root));
}

static void teardown_dir(void)
{
    if (tmp_root[0])
        if (getenv("HOOD_TEST_KEEP") == NULL) /* keep the fixtures to inspect a failure */
            nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tmp_root[0] = '\0';
}

/* tmp_root/rel, in a static buffer per call slot (enough for one expression). */
static const char *at(const char *rel)
{
    static char buf[8][512];
    static int slot;
    slot = (slot + 1) % 8;
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", tmp_root, rel);
    return buf[slot];
}

static void mkdirs(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp_root, rel);
    for (char *p = path + strlen(tmp_root) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    mkdir(path, 0755);
}

static void write_bytes(const char *rel, const void *data, size_t n)
{
    FILE *f = fopen(at(rel), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static VipsImage *make_image(const void *pixels, int w, int h, int bands, VipsBandFormat fmt)
{
    size_t bytes = (size_t)w * (size_t)h * (size_t)bands * (fmt == VIPS_FORMAT_USHORT ? 2 : 1);
    VipsImage *im = vips_image_new_from_memory_copy(pixels, bytes, w, h, bands, fmt);
    ck_assert_ptr_nonnull(im);
    if (fmt == VIPS_FORMAT_USHORT)
        im->Type = bands <= 2 ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_RGB16;
    else
        im->Type = bands <= 2 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
    return im;
}

static void save_png(const char *rel, const uint8_t *pixels, int w, int h, int bands)
{
    VipsImage *im = make_image(pixels, w, h, bands, VIPS_FORMAT_UCHAR);
    ck_assert_msg(vips_pngsave(im, at(rel), NULL) == 0, "%s", vips_error_buffer());
    g_object_unref(im);
}

static void save_jpeg(const char *rel, const uint8_t *pixels, int w, int h, int bands, int q)
{
    VipsImage *im = make_image(pixels, w, h, bands, VIPS_FORMAT_UCHAR);
    ck_assert_msg(vips_jpegsave(im, at(rel), "Q", q, NULL) == 0, "%s", vips_error_buffer());
    g_object_unref(im);
}

/* A tiny grey PNG with constant value v. */
static void grey_png(const char *rel, uint8_t v)
{
    uint8_t px[4] = {v, v, v, v};
    save_png(rel, px, 2, 2, 1);
}

/* Deterministic photo-like pixels: smooth gradients plus texture. */
static void photo_pixels(uint8_t *px, int w, int h, int bands, int seed)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < bands; c++)
                px[((size_t)y * w + x) * bands + c] =
                    (uint8_t)((x * (3 + c) + y * (5 + seed) + ((x * y + seed * 7) % 23) * 4 +
                               c * 60) %
                              256);
}

typedef struct messages {
    char lines[64][600];
    int count;
} messages;

static void on_message(void *user, const char *text)
{
    messages *m = user;
    if (m->count < 64)
        snprintf(m->lines[m->count++], sizeof m->lines[0], "%s", text);
}

static void opts_for(hood_ingest_options *o, size_t h, size_t w, hood_color_mode mode, messages *m)
{
    hood_ingest_options_init(o);
    o->image.height = h;
    o->image.width = w;
    o->image.color_mode = mode;
    o->shuffle = false;
    if (m != NULL) {
        memset(m, 0, sizeof *m);
        o->on_message = on_message;
        o->user = m;
    }
}

static hood_dataset *ingest_ok(const char *dir, const hood_ingest_options *o)
{
    hood_dataset *ds = NULL;
    hood_status s = hood_dataset_from_directory(dir, o, &ds, NULL);
    ck_assert_msg(s == HOOD_OK, "ingest failed: %s", hood_last_error());
    ck_assert_ptr_nonnull(ds);
    return ds;
}

static hood_status ingest_err(const char *dir, const hood_ingest_options *o)
{
    hood_dataset *ds = NULL;
    hood_status s = hood_dataset_from_directory(dir, o, &ds, NULL);
    ck_assert_ptr_null(ds);
    return s;
}

/* Basename of sample j's path. */
static const char *base(const hood_dataset *ds, size_t j)
{
    const char *p = hood_dataset_path(ds, j);
    ck_assert_ptr_nonnull(p);
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* --- exact pixels and colours ------------------------------------------------------------- */

START_TEST(exact_pixels_at_target_size)
{
    uint8_t px[12];
    for (int i = 0; i < 12; i++)
        px[i] = (uint8_t)(i * 23 + 1);
    mkdirs("d/a");
    save_png("d/a/x.png", px, 4, 3, 1);
    hood_ingest_options o;
    opts_for(&o, 3, 4, HOOD_COLOR_GRAYSCALE, NULL);
    hood_dataset *ds = ingest_ok(at("d"), &o);
    ck_assert_uint_eq(hood_dataset_features(ds), 12);
    const float *x = hood_dataset_x(ds);
    for (int i = 0; i < 12; i++)
        ck_assert_msg(x[i] == (float)px[i] / 255.0f, "pixel %d: %g", i, (double)x[i]);
    size_t h, w, c;
    hood_dataset_image_shape(ds, &h, &w, &c);
    ck_assert_uint_eq(h, 3);
    ck_assert_uint_eq(w, 4);
    ck_assert_uint_eq(c, 1);
    hood_dataset_free(ds);
    /* raw values: 0..255 */
    o.image.raw_values = true;
    ds = ingest_ok(at("d"), &o);
    for (int i = 0; i < 12; i++)
        ck_assert(hood_dataset_x(ds)[i] == (float)px[i]);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(rgb_column_is_hwc)
{
    uint8_t px[3 * 2 * 3];
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
            for (int c = 0; c < 3; c++)
                px[(y * 3 + x) * 3 + c] = (uint8_t)(100 * c + 10 * y + x);
    mkdirs("d/a");
    save_png("d/a/x.png", px, 3, 2, 3);
    hood_ingest_options o;
    opts_for(&o, 2, 3, HOOD_COLOR_RGB, NULL);
    o.image.raw_values = true;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    const float *x = hood_dataset_x(ds);
    ck_assert_uint_eq(hood_dataset_features(ds), 18);
    ck_assert(x[(1 * 3 + 2) * 3 + 1] == 112.0f); /* y=1, x=2, c=1 */
    ck_assert(x[(0 * 3 + 1) * 3 + 2] == 201.0f);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(nearest_2x_downscale)
{
    uint8_t px[8 * 6];
    for (int i = 0; i < 48; i++)
        px[i] = (uint8_t)(i * 5);
    mkdirs("d/a");
    save_png("d/a/x.png", px, 8, 6, 1);
    hood_ingest_options o;
    opts_for(&o, 3, 4, HOOD_COLOR_GRAYSCALE, NULL);
    o.image.interpolation = HOOD_INTERP_NEAREST;
    o.image.raw_values = true;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    const float *x = hood_dataset_x(ds);
    /* The pixel under each output centre: source (2x+1, 2y+1). */
    for (int y = 0; y < 3; y++)
        for (int xx = 0; xx < 4; xx++)
            ck_assert_msg(x[y * 4 + xx] == (float)px[(2 * y + 1) * 8 + 2 * xx + 1], "(%d,%d)", xx,
                          y);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(luma_of_known_colours)
{
    uint8_t px[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 200, 30};
    mkdirs("d/a");
    save_png("d/a/x.png", px, 5, 1, 3);
    hood_ingest_options o;
    opts_for(&o, 1, 5, HOOD_COLOR_GRAYSCALE, NULL);
    o.image.raw_values = true;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    const float *x = hood_dataset_x(ds);
    ck_assert(x[0] == 76.0f);
    ck_assert(x[1] == 150.0f);
    ck_assert(x[2] == 29.0f);
    ck_assert(x[3] == 255.0f);
    /* (19595*10 + 38470*200 + 7471*30 + 32768) >> 16 = 124 */
    ck_assert(x[4] == 124.0f);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(sixteen_bit_scales_to_same_range)
{
    uint16_t px[4] = {0, 65535, 257 * 100, 32896};
    mkdirs("d/a");
    VipsImage *im = make_image(px, 4, 1, 1, VIPS_FORMAT_USHORT);
    ck_assert(vips_pngsave(im, at("d/a/x.png"), "bitdepth", 16, NULL) == 0);
    g_object_unref(im);
    uint16_t rgb[6] = {65535, 0, 0, 0, 0, 65535};
    im = make_image(rgb, 2, 1, 3, VIPS_FORMAT_USHORT);
    ck_assert(vips_pngsave(im, at("d/b/y.png"), "bitdepth", 16, NULL) == 0 ||
              (mkdirs("d/b"), vips_pngsave(im, at("d/b/y.png"), "bitdepth", 16, NULL) == 0));
    g_object_unref(im);
    hood_ingest_options o;
    opts_for(&o, 1, 4, HOOD_COLOR_GRAYSCALE, NULL);
    o.class_names = (const char *const[]){"a"};
    o.num_class_names = 1;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    const float *x = hood_dataset_x(ds);
    ck_assert(x[0] == 0.0f);
    ck_assert(x[1] == 1.0f);
    ck_assert(x[2] == 100.0f / 255.0f);
    ck_assert(x[3] == 128.0f / 255.0f); /* round(32896 / 257) = 128 */
    hood_dataset_free(ds);
    opts_for(&o, 1, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.class_names = (const char *const[]){"b"};
    o.num_class_names = 1;
    o.image.raw_values = true;
    ds = ingest_ok(at("d"), &o);
    ck_assert(hood_dataset_x(ds)[0] == 76.0f); /* 16-bit red: narrowed, then luma */
    ck_assert(hood_dataset_x(ds)[1] == 29.0f);
    hood_dataset_free(ds);
}
END_TEST

/* Decodes one file with a fresh decoder (fast path allowed) into col (raw values) and asserts
 * which path took it. */
static void decode_raw(const char *rel, size_t h, size_t w, hood_color_mode mode, bool want_fast,
                       float *col)
{
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    pp.height = h;
    pp.width = w;
    pp.color_mode = mode;
    pp.raw_values = true;
    hood__image_decoder *dec;
    ck_assert_int_eq(hood__image_decoder_create(&dec, &pp, 0, NULL), HOOD_OK);
    ck_assert_msg(hood__image_decode_file(dec, at(rel), col) == HOOD_OK, "%s", hood_last_error());
    size_t fast, vips;
    hood__image_decoder_counts(dec, &fast, &vips);
    ck_assert_msg(fast == (size_t)want_fast && vips == (size_t)!want_fast,
                  "%s: decoded by %s, not by %s", rel, fast ? "the fast path" : "libvips",
                  want_fast ? "the fast path" : "libvips");
    hood__image_decoder_free(dec);
}

START_TEST(sixteen_bit_rounds_alike_on_both_paths)
{
    /* round(v / 257), i.e. (v + 128) / 257: values where it differs from v >> 8 (0 0 0 1 1 255
     * 255 255) and from floor(v / 257) (0 0 0 1 1 254 254 254), with both sides of the .5
     * boundaries 128/129, 385/386 and 65406/65407. */
    const uint16_t v[8] = {128, 129, 255, 385, 386, 65400, 65406, 65407};
    const float want[8] = {0, 1, 1, 1, 2, 254, 254, 255};
    mkdirs("s");
    VipsImage *im = make_image(v, 4, 2, 1, VIPS_FORMAT_USHORT);
    ck_assert(vips_pngsave(im, at("s/g16.png"), "bitdepth", 16, NULL) == 0);
    ck_assert_msg(vips_tiffsave(im, at("s/g16.tif"), NULL) == 0, "%s", vips_error_buffer());
    g_object_unref(im);
    uint16_t rgb[24];
    for (int i = 0; i < 24; i++)
        rgb[i] = v[(i / 3 + i % 3) % 8]; /* each channel its own value */
    im = make_image(rgb, 4, 2, 3, VIPS_FORMAT_USHORT);
    ck_assert(vips_pngsave(im, at("s/rgb16.png"), "bitdepth", 16, NULL) == 0);
    ck_assert_msg(vips_tiffsave(im, at("s/rgb16.tif"), NULL) == 0, "%s", vips_error_buffer());
    g_object_unref(im);
    float col[24];
    for (int fast = 1; fast >= 0; fast--) {
        decode_raw(fast ? "s/g16.png" : "s/g16.tif", 2, 4, HOOD_COLOR_GRAYSCALE, fast, col);
        for (int i = 0; i < 8; i++)
            ck_assert_msg(col[i] == want[i], "%s grey %d: %g", fast ? "png" : "tiff", i,
                          (double)col[i]);
        decode_raw(fast ? "s/rgb16.png" : "s/rgb16.tif", 2, 4, HOOD_COLOR_RGB, fast, col);
        for (int i = 0; i < 24; i++)
            ck_assert_msg(col[i] == want[(i / 3 + i % 3) % 8], "%s rgb %d: %g",
                          fast ? "png" : "tiff", i, (double)col[i]);
    }
}
END_TEST

START_TEST(alpha_flattened_onto_black)
{
    uint8_t px[] = {200, 100, 50, 128, 255, 255, 255, 0, 10, 20, 30, 255};
    mkdirs("d/a");
    save_png("d/a/x.png", px, 3, 1, 4);
    hood_ingest_options o;
    opts_for(&o, 1, 3, HOOD_COLOR_RGB, NULL);
    o.image.raw_values = true;
    o.image.alpha_background = 0x000000; /* asked for; the default drops alpha as Pillow */
    hood_dataset *ds = ingest_ok(at("d"), &o);
    const float *x = hood_dataset_x(ds);
    /* round(v * a / 255): 200*128/255 = 100.39 -> 100, 100*128/255 = 50.2 -> 50, 25.1 -> 25 */
    float want_rgb[] = {100, 50, 25, 0, 0, 0, 10, 20, 30};
    for (int i = 0; i < 9; i++)
        ck_assert_msg(x[i] == want_rgb[i], "rgb %d: %g", i, (double)x[i]);
    hood_dataset_free(ds);
    o.image.color_mode = HOOD_COLOR_GRAYSCALE;
    ds = ingest_ok(at("d"), &o);
    x = hood_dataset_x(ds);
    ck_assert(x[0] == (float)((19595 * 100 + 38470 * 50 + 7471 * 25 + 32768) >> 16));
    ck_assert(x[1] == 0.0f);
    hood_dataset_free(ds);
    o.image.color_mode = HOOD_COLOR_RGBA;
    ds = ingest_ok(at("d"), &o);
    x = hood_dataset_x(ds);
    for (int i = 0; i < 12; i++)
        ck_assert(x[i] == (float)px[i]);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(grey_alpha_and_grey_to_rgba)
{
    uint8_t ga[] = {200, 255, 200, 51};
    mkdirs("d/a");
    save_png("d/a/x.png", ga, 2, 1, 2);
    hood_ingest_options o;
    opts_for(&o, 1, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.image.raw_values = true;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    ck_assert(hood_dataset_x(ds)[0] == 200.0f);
    ck_assert(hood_dataset_x(ds)[1] == 200.0f); /* Pillow's LA -> L drops alpha */
    hood_dataset_free(ds);
    o.image.alpha_background = 0x000000;
    ds = ingest_ok(at("d"), &o);
    ck_assert(hood_dataset_x(ds)[1] == 40.0f); /* 200 * 51 / 255 */
    hood_dataset_free(ds);
    o.image.alpha_background = 0xFFFFFF;
    ds = ingest_ok(at("d"), &o);
    ck_assert(hood_dataset_x(ds)[1] == 244.0f); /* (200 * 51 + 255 * 204) / 255 = 244 */
    hood_dataset_free(ds);
    o.image.alpha_background = HOOD_ALPHA_IGNORE;
    o.image.color_mode = HOOD_COLOR_RGBA;
    ds = ingest_ok(at("d"), &o);
    float want[] = {200, 200, 200, 255, 200, 200, 200, 51};
    for (int i = 0; i < 8; i++)
        ck_assert(hood_dataset_x(ds)[i] == want[i]);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(palette_png)
{
    uint8_t px[4 * 2 * 3] = {255, 0, 0, 0,   255, 0, 0, 0,   255, 255, 255, 255,
                             0,   0, 0, 255, 0,   0, 0, 255, 0,   0,   0,   255};
    mkdirs("d/a");
    VipsImage *im = make_image(px, 4, 2, 3, VIPS_FORMAT_UCHAR);
    ck_assert_msg(
        vips_pngsave(im, at("d/a/p.png"), "palette", TRUE, "dither", 0.0, "Q", 100, NULL) == 0,
        "%s", vips_error_buffer());
    g_object_unref(im);
    /* The file really is palette-based: colour type 3 in IHDR (byte 25). */
    FILE *f = fopen(at("d/a/p.png"), "rb");
    uint8_t head[26];
    ck_assert_uint_eq(fread(head, 1, 26, f), 26);
    fclose(f);
    ck_assert_uint_eq(head[25], 3);
    hood_ingest_options o;
    opts_for(&o, 2, 4, HOOD_COLOR_RGB, NULL);
    o.image.raw_values = true;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    for (int i = 0; i < 24; i++)
        ck_assert_msg(hood_dataset_x(ds)[i] == (float)px[i], "%d", i);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(cmyk_tiff_converted)
{
    /* c, m, y, k = (0,0,0,0) white, (255,0,0,0) cyan, (0,0,0,128) grey */
    uint8_t px[] = {0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 128};
    mkdirs("d/a");
    VipsImage *im = vips_image_new_from_memory_copy(px, sizeof px, 3, 1, 4, VIPS_FORMAT_UCHAR);
    im->Type = VIPS_INTERPRETATION_CMYK;
    ck_assert_msg(vips_tiffsave(im, at("d/a/c.tif"), NULL) == 0, "%s", vips_error_buffer());
    g_object_unref(im);
    hood_ingest_options o;
    opts_for(&o, 1, 3, HOOD_COLOR_RGB, NULL);
    o.image.raw_values = true;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    float want[] = {255, 255, 255, 0, 255, 255, 127, 127, 127}; /* 255*127/255 */
    for (int i = 0; i < 9; i++)
        ck_assert_msg(hood_dataset_x(ds)[i] == want[i], "%d: %g", i, (double)hood_dataset_x(ds)[i]);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(gif_first_frame)
{
    /* Two 4x2 frames stacked: frame 0 is black/white, frame 1 all grey. */
    uint8_t px[4 * 4 * 3];
    for (int i = 0; i < 8; i++)
        memset(px + 3 * i, i % 2 ? 255 : 0, 3);
    memset(px + 24, 128, 24);
    mkdirs("d/a");
    VipsImage *im = make_image(px, 4, 4, 3, VIPS_FORMAT_UCHAR);
    vips_image_set_int(im, "page-height", 2);
    ck_assert_msg(vips_gifsave(im, at("d/a/anim.gif"), NULL) == 0, "%s", vips_error_buffer());
    g_object_unref(im);
    hood_ingest_options o;
    opts_for(&o, 2, 4, HOOD_COLOR_GRAYSCALE, NULL);
    o.image.raw_values = true;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(hood_dataset_x(ds)[i] == (i % 2 ? 255.0f : 0.0f), "%d", i);
    hood_dataset_free(ds);
}
END_TEST

/* Eight RGB colours (a 4 x 2 image) and their Pillow convert('L') values, worked by hand from
 * (19595 R + 38470 G + 7471 B + 32768) >> 16 and checked against Pillow 9.4. */
static const uint8_t known_rgb[8 * 3] = {255, 0,   0,  0, 255, 0, 0,   0,  255, 255, 255, 255,
                                         10,  200, 30, 0, 0,   0, 128, 64, 32,  1,   2,   3};
static const uint8_t known_luma[8] = {76, 150, 29, 255, 124, 0, 79, 2};

/* Grayscale, scaled: x[i] must be the table value of known_luma[i] exactly. */
static void assert_known_luma(const char *dir)
{
    hood_ingest_options o;
    opts_for(&o, 2, 4, HOOD_COLOR_GRAYSCALE, NULL);
    hood_dataset *ds = ingest_ok(dir, &o);
    ck_assert_uint_eq(hood_dataset_features(ds), 8);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(hood_dataset_x(ds)[i] == (float)known_luma[i] / 255.0f, "pixel %d: %g", i,
                      (double)hood_dataset_x(ds)[i] * 255.0);
    hood_dataset_free(ds);
}

/* DIR's one image, ingested as raw RGB, is known_rgb exactly. */
static void assert_known_rgb(const char *dir)
{
    hood_ingest_options o;
    opts_for(&o, 2, 4, HOOD_COLOR_RGB, NULL);
    o.image.raw_values = true;
    hood_dataset *ds = ingest_ok(dir, &o);
    for (int i = 0; i < 24; i++)
        ck_assert_msg(hood_dataset_x(ds)[i] == (float)known_rgb[i], "%d", i);
    hood_dataset_free(ds);
}

START_TEST(webp_lossless_exact_luma)
{
    mkdirs("d/a");
    VipsImage *im = make_image(known_rgb, 4, 2, 3, VIPS_FORMAT_UCHAR);
    ck_assert_msg(vips_webpsave(im, at("d/a/x.webp"), "lossless", TRUE, NULL) == 0, "%s",
                  vips_error_buffer());
    g_object_unref(im);
    assert_known_luma(at("d"));
    assert_known_rgb(at("d"));
}
END_TEST

START_TEST(webp_animation_first_frame)
{
    /* 4 x 4 with page-height 2: frame 0 the known colours, frame 1 their inverse. */
    uint8_t px[2 * 24];
    memcpy(px, known_rgb, 24);
    for (int i = 0; i < 24; i++)
        px[24 + i] = (uint8_t)(255 - known_rgb[i]);
    mkdirs("d/a");
    VipsImage *im = make_image(px, 4, 4, 3, VIPS_FORMAT_UCHAR);
    vips_image_set_int(im, "page-height", 2);
    ck_assert_msg(vips_webpsave(im, at("d/a/anim.webp"), "lossless", TRUE, NULL) == 0, "%s",
                  vips_error_buffer());
    g_object_unref(im);
    /* The file really is an animation of two frames (two ANMF chunks). */
    FILE *f = fopen(at("d/a/anim.webp"), "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t bytes[4096];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    ck_assert_uint_lt(n, sizeof bytes);
    int frames = 0;
    for (size_t i = 0; i + 4 <= n; i++)
        frames += memcmp(bytes + i, "ANMF", 4) == 0;
    ck_assert_int_eq(frames, 2);
    assert_known_luma(at("d"));
}
END_TEST

START_TEST(rgb_tiff_exact_pixels)
{
    mkdirs("d/a");
    VipsImage *im = make_image(known_rgb, 4, 2, 3, VIPS_FORMAT_UCHAR);
    ck_assert_msg(vips_tiffsave(im, at("d/a/x.tif"), "compression",
                                VIPS_FOREIGN_TIFF_COMPRESSION_LZW, NULL) == 0,
                  "%s", vips_error_buffer());
    g_object_unref(im);
    assert_known_luma(at("d"));
    assert_known_rgb(at("d"));
}
END_TEST

START_TEST(format_by_content_not_extension)
{
    mkdirs("d/a");
    grey_png("d/a/really-a-png.jpg", 77);
    uint8_t px[4] = {9, 9, 9, 9};
    save_jpeg("d/a/really-a-jpeg.PNG", px, 2, 2, 1, 100);
    mkdirs("d/b");
    grey_png("d/b/ignored.txt", 1); /* not an allowed extension: not even counted */
    grey_png("d/b/ok.TIFF", 1);     /* a PNG named .TIFF: counted and loaded by content */
    hood_ingest_options o;
    messages m;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, &m);
    o.image.raw_values = true;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    ck_assert_str_eq(m.lines[0], "Found 3 files belonging to 2 classes.");
    ck_assert_uint_eq(hood_dataset_samples(ds), 3);
    ck_assert(hood_dataset_x(ds)[0] == 9.0f); /* really-a-jpeg.PNG sorts first ('j' < 'p') */
    ck_assert(hood_dataset_x(ds)[4] == 77.0f);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(exif_orientation_applied)
{
    /* Displayed image D is 4 wide x 2 high; stored rotated (2 wide x 4 high) with orientation
     * 6 ("rotate 90 clockwise to display"). Stored S(x, y) = D(y, 1 - x)... built below from D
     * by the inverse rotation. Blocks are flat, so JPEG q100 keeps them within a few levels. */
    uint8_t disp[2 * 4] = {0, 80, 160, 240, 40, 120, 200, 255};
    /* Scale up 8x so every value is an 8x8 flat block (JPEG-friendly). */
    int s = 8, dw = 4 * s, dh = 2 * s;
    uint8_t big[32 * 16], stored[16 * 32];
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++)
            big[y * dw + x] = disp[(y / s) * 4 + x / s];
    /* orientation 6: display(x, y) = stored(y, sh - 1 - x) with stored w = dh, h = dw */
    int sw = dh, sh = dw;
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++)
            stored[(sh - 1 - x) * sw + y] = big[y * dw + x];
    mkdirs("d/a");
    VipsImage *im = make_image(stored, sw, sh, 1, VIPS_FORMAT_UCHAR);
    vips_image_set_int(im, VIPS_META_ORIENTATION, 6);
    ck_assert(vips_jpegsave(im, at("d/a/r.jpg"), "Q", 100, NULL) == 0);
    g_object_unref(im);
    hood_ingest_options o;
    opts_for(&o, 16, 32, HOOD_COLOR_GRAYSCALE, NULL);
    o.image.raw_values = true;
    o.image.exif_transpose = true;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    const float *x = hood_dataset_x(ds);
    for (int y = 0; y < dh; y++)
        for (int xx = 0; xx < dw; xx++)
            ck_assert_msg(fabsf(x[y * dw + xx] - big[y * dw + xx]) <= 3.0f, "(%d,%d) %g vs %d", xx,
                          y, (double)x[y * dw + xx], big[y * dw + xx]);
    hood_dataset_free(ds);
    /* By default the pixels are as stored (Pillow's open, Keras): the 16 x 32 stored image
     * resized to 32 x 16 keeps stored row 0's values in its first row, not the display's. */
    o.image.exif_transpose = false;
    o.image.height = (size_t)sh;
    o.image.width = (size_t)sw;
    ds = ingest_ok(at("d"), &o);
    x = hood_dataset_x(ds);
    for (int i = 0; i < sw * sh; i++)
        ck_assert_msg(fabsf(x[i] - stored[i]) <= 3.0f, "stored %d: %g vs %d", i, (double)x[i],
                      stored[i]);
    hood_dataset_free(ds);
}
END_TEST

/* Where stored pixel (sx, sy) of a sw x sh file appears on the display for EXIF orientation o,
 * from the tag's definition (which visual side stored row 0 and column 0 become), not from
 * image.c's inverse mapping. */
static void displayed_at(int o, int sx, int sy, int sw, int sh, int *x, int *y)
{
    switch (o) {
    case 2: /* row 0 at the top, column 0 on the right: mirrored */
        *x = sw - 1 - sx, *y = sy;
        break;
    case 3: /* row 0 at the bottom, column 0 on the right: turned 180 */
        *x = sw - 1 - sx, *y = sh - 1 - sy;
        break;
    default: /* 8: row 0 on the left, column 0 at the bottom: turned 90 clockwise to store */
        ck_assert_int_eq(o, 8);
        *x = sy, *y = sw - 1 - sx;
        break;
    }
}

/* Stores a displayed 4 x 2 grid of flat 8 x 8 colour blocks (eight distinct colours, so every
 * orientation gives a different picture) as a JPEG tagged with orientation o, and checks that
 * the RGB column is the displayed grid. JPEG q100 without chroma subsampling (libvips' default
 * at Q >= 90) keeps each flat block within 1 level of its colour (measured, as Pillow's
 * exif_transpose of these files also gives); 3 allows for another libjpeg build, while a wrong
 * orientation puts a block where some channel is >= 80 levels off. */
static void check_orientation(int o)
{
    const uint8_t colour[8][3] = {{250, 10, 10},  {10, 250, 10},  {10, 10, 250},   {250, 250, 10},
                                  {10, 250, 250}, {250, 10, 250}, {128, 128, 128}, {40, 90, 200}};
    enum { S = 8, DW = 4 * S, DH = 2 * S };
    static uint8_t disp[DH * DW * 3], stored[DH * DW * 3];
    for (int y = 0; y < DH; y++)
        for (int x = 0; x < DW; x++)
            memcpy(disp + (y * DW + x) * 3, colour[(y / S) * 4 + x / S], 3);
    bool swap = o >= 5;
    int sw = swap ? DH : DW, sh = swap ? DW : DH;
    for (int sy = 0; sy < sh; sy++)
        for (int sx = 0; sx < sw; sx++) {
            int x, y;
            displayed_at(o, sx, sy, sw, sh, &x, &y);
            ck_assert(x >= 0 && x < DW && y >= 0 && y < DH);
            memcpy(stored + (sy * sw + sx) * 3, disp + (y * DW + x) * 3, 3);
        }
    mkdirs("d/a");
    VipsImage *im = make_image(stored, sw, sh, 3, VIPS_FORMAT_UCHAR);
    vips_image_set_int(im, VIPS_META_ORIENTATION, o);
    ck_assert(vips_jpegsave(im, at("d/a/o.jpg"), "Q", 100, NULL) == 0);
    g_object_unref(im);
    hood_ingest_options opt;
    opts_for(&opt, DH, DW, HOOD_COLOR_RGB, NULL);
    opt.image.raw_values = true;
    opt.image.exif_transpose = true;
    hood_dataset *ds = ingest_ok(at("d"), &opt);
    const float *x = hood_dataset_x(ds);
    for (int i = 0; i < DH * DW * 3; i++)
        ck_assert_msg(fabsf(x[i] - disp[i]) <= 3.0f, "orientation %d: (%d,%d) channel %d: %g vs %d",
                      o, i / 3 % DW, i / 3 / DW, i % 3, (double)x[i], disp[i]);
    hood_dataset_free(ds);
}

START_TEST(exif_orientation_2_mirrors)
{
    check_orientation(2);
}
END_TEST

START_TEST(exif_orientation_3_turns_180)
{
    check_orientation(3);
}
END_TEST

START_TEST(exif_orientation_8_turns_90_anticlockwise)
{
    check_orientation(8);
}
END_TEST

/* A 2 x 2 24-bit BMP (bottom-up rows, BGR, rows padded to 4 bytes) of the RGB pixels given
 * top row first. */
static void write_bmp(const char *rel, const uint8_t rgb[12])
{
    uint8_t b[54 + 16] = {'B', 'M', 70, 0, 0, 0, 0, 0, 0, 0,  54, 0, 0, 0, 40, 0,  0, 0, 2,
                          0,   0,   0,  2, 0, 0, 0, 1, 0, 24, 0,  0, 0, 0, 0,  16, 0, 0, 0};
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++)
            for (int c = 0; c < 3; c++)
                b[54 + (1 - y) * 8 + x * 3 + c] = rgb[(y * 2 + x) * 3 + (2 - c)];
    write_bytes(rel, b, sizeof b);
}

START_TEST(bmp_through_libvips_and_block_untrusted)
{
    const uint8_t rgb[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
    mkdirs("d/a");
    write_bmp("d/a/x.bmp", rgb);
    hood_ingest_options o;
    messages m;
    opts_for(&o, 2, 2, HOOD_COLOR_RGB, &m);
    o.image.raw_values = true;
    /* libvips reads BMP only through its ImageMagick module, absent under VIPSHOME=/nonexistent
     * (the valgrind setup): then only the blocking half below is checked. */
    bool have_magick = vips_type_find("VipsOperation", "magickload_buffer") != 0;
    if (have_magick) {
        hood_dataset *ds = ingest_ok(at("d"), &o);
        for (int i = 0; i < 12; i++)
            ck_assert_msg(hood_dataset_x(ds)[i] == (float)rgb[i], "%d: %g", i,
                          (double)hood_dataset_x(ds)[i]);
        hood_dataset_free(ds);
    }
    o.block_untrusted = true;
    o.strict = true;
    ck_assert_int_ne(ingest_err(at("d"), &o), HOOD_OK);
    ck_assert_msg(strstr(hood_last_error(), "x.bmp") != NULL &&
                      strstr(hood_last_error(),
                             have_magick ? "is marked untrusted" : "no libvips loader") != NULL,
                  "%s", hood_last_error());
}
END_TEST

/* --- scan order and labels ---------------------------------------------------------------- */

START_TEST(class_order_is_byte_order)
{
    const char *dirs[] = {"d/a", "d/B", "d/2", "d/10"};
    for (int i = 0; i < 4; i++) {
        mkdirs(dirs[i]);
        char rel[64];
        snprintf(rel, sizeof rel, "%s/img.png", dirs[i]);
        grey_png(rel, (uint8_t)(i + 1));
    }
    hood_ingest_options o;
    messages m;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, &m);
    hood_dataset *ds = ingest_ok(at("d"), &o);
    ck_assert_str_eq(m.lines[0], "Found 4 files belonging to 4 classes.");
    ck_assert_int_eq(m.count, 1);
    const char *want[] = {"10", "2", "B", "a"};
    for (size_t k = 0; k < 4; k++) {
        ck_assert_str_eq(hood_dataset_class_name(ds, k), want[k]);
        ck_assert(hood_dataset_labels(ds)[k] == (float)k);
    }
    ck_assert(hood_dataset_x(ds)[0] == 4.0f / 255.0f); /* "10" was written 4th */
    hood_dataset_free(ds);
}
END_TEST

START_TEST(hidden_and_top_level_skipped)
{
    mkdirs("d/a/.sub");
    mkdirs("d/.hiddenclass");
    mkdirs("d/b");
    grey_png("d/a/x.png", 1);
    grey_png("d/a/.h.png", 2);
    grey_png("d/a/.sub/y.png", 3);
    grey_png("d/.hiddenclass/z.png", 4);
    grey_png("d/top.png", 5);
    grey_png("d/b/w.png", 6);
    hood_ingest_options o;
    messages m;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, &m);
    hood_dataset *ds = ingest_ok(at("d"), &o);
    ck_assert_str_eq(m.lines[0], "Found 2 files belonging to 2 classes.");
    ck_assert_str_eq(base(ds, 0), "x.png");
    ck_assert_str_eq(base(ds, 1), "w.png");
    hood_dataset_free(ds);
}
END_TEST

START_TEST(nested_folders_in_keras_walk_order)
{
    mkdirs("d/c/sub/deeper");
    mkdirs("d/c/sub-x");
    grey_png("d/c/z.png", 1);
    grey_png("d/c/a.png", 2);
    grey_png("d/c/sub/b.png", 3);
    grey_png("d/c/sub-x/c.png", 4);
    grey_png("d/c/sub/deeper/d.png", 5);
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    hood_dataset *ds = ingest_ok(at("d"), &o);
    /* sorted(os.walk): folders by whole path ("c/sub" < "c/sub-x" < "c/sub/deeper", as '-' <
     * '/'), files sorted within each folder. */
    const char *want[] = {"a.png", "z.png", "b.png", "c.png", "d.png"};
    ck_assert_uint_eq(hood_dataset_samples(ds), 5);
    for (size_t j = 0; j < 5; j++)
        ck_assert_str_eq(base(ds, j), want[j]);
    hood_dataset_free(ds);
}
END_TEST

#define PINNED_TRAINING "f4.png f0.png f5.png f1.png f6.png f9.png f2.png f3.png "
#define PINNED_VALIDATION "f7.png f8.png "

/* Ten files f0..f9 in two classes (f0-f4 in "a", f5-f9 in "b"). */
static void ten_files(void)
{
    mkdirs("d/a");
    mkdirs("d/b");
    for (int i = 0; i < 10; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "d/%s/f%d.png", i < 5 ? "a" : "b", i);
        grey_png(rel, (uint8_t)(i * 10));
    }
}

static void names_of(const hood_dataset *ds, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t j = 0; j < hood_dataset_samples(ds); j++) {
        strncat(out, base(ds, j), cap - strlen(out) - 1);
        strncat(out, " ", cap - strlen(out) - 1);
    }
}

START_TEST(keras_split_rule_for_seed)
{
    ten_files();
    hood_ingest_options o;
    messages m;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, &m);
    o.shuffle = true;
    o.has_seed = true;
    o.seed = 1337;
    o.validation_split = 0.25; /* floor(2.5) = 2 validation files */
    o.subset = HOOD_SUBSET_BOTH;
    hood_dataset *tr = NULL, *va = NULL;
    ck_assert_int_eq(hood_dataset_from_directory(at("d"), &o, &tr, &va), HOOD_OK);
    ck_assert_str_eq(m.lines[0], "Found 10 files belonging to 2 classes.");
    ck_assert_str_eq(m.lines[1], "Using 8 files for training.");
    ck_assert_str_eq(m.lines[2], "Using 2 files for validation.");
    /* The shuffled order is hood__rng_permutation(seed 1337) of the sorted list; the last two
     * files are validation. */
    size_t perm[10];
    hood_rng rng;
    hood__rng_seed(&rng, 1337);
    hood__rng_permutation(&rng, perm, 10);
    char want[256] = "", got[256];
    for (int i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%zu.png ", perm[i]);
        strcat(want, name);
    }
    names_of(tr, got, sizeof got);
    ck_assert_str_eq(got, want);
    ck_assert_str_eq(got, PINNED_TRAINING);
    names_of(va, got, sizeof got);
    ck_assert_str_eq(got, PINNED_VALIDATION);
    /* labels follow their files */
    for (size_t j = 0; j < 8; j++) {
        int f = base(tr, j)[1] - '0';
        ck_assert(hood_dataset_labels(tr)[j] == (f < 5 ? 0.0f : 1.0f));
        ck_assert(hood_dataset_x(tr)[j * 4] == (float)(f * 10) / 255.0f);
    }
    hood_dataset_free(tr);
    hood_dataset_free(va);
    /* the single subsets are the same files */
    o.subset = HOOD_SUBSET_VALIDATION;
    memset(&m, 0, sizeof m);
    hood_dataset *v2 = ingest_ok(at("d"), &o);
    ck_assert_str_eq(m.lines[1], "Using 2 files for validation.");
    names_of(v2, got, sizeof got);
    ck_assert_str_eq(got, PINNED_VALIDATION);
    hood_dataset_free(v2);
    o.subset = HOOD_SUBSET_TRAINING;
    hood_dataset *t2 = ingest_ok(at("d"), &o);
    names_of(t2, got, sizeof got);
    ck_assert_str_eq(got, PINNED_TRAINING);
    hood_dataset_free(t2);
}
END_TEST

START_TEST(split_without_shuffle_takes_the_last_files)
{
    ten_files();
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.has_seed = true;
    o.validation_split = 0.3;
    o.subset = HOOD_SUBSET_VALIDATION;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    char got[256];
    names_of(ds, got, sizeof got);
    ck_assert_str_eq(got, "f7.png f8.png f9.png ");
    hood_dataset_free(ds);
}
END_TEST

START_TEST(split_option_errors)
{
    ten_files();
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.shuffle = true;
    o.validation_split = 0.2;
    o.subset = HOOD_SUBSET_TRAINING;
    o.has_seed = false; /* a drawn seed, asked for (the default is seed 0) */
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL); /* no seed */
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "seed"));
    o.has_seed = true;
    o.subset = HOOD_SUBSET_ALL;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL); /* split without subset */
    o.validation_split = 0;
    o.subset = HOOD_SUBSET_VALIDATION;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL); /* subset without split */
    o.validation_split = 1.0;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL);
    o.validation_split = 0.05; /* floor(0.5) = 0 validation files */
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL);
    o.validation_split = 0.2;
    o.subset = HOOD_SUBSET_BOTH;
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_from_directory(at("d"), &o, &ds, NULL), HOOD_EINVAL);
}
END_TEST

START_TEST(shuffle_is_seeded)
{
    ten_files();
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.shuffle = true;
    o.has_seed = true;
    o.seed = 7;
    hood_dataset *a = ingest_ok(at("d"), &o), *b = ingest_ok(at("d"), &o);
    char na[256], nb[256];
    names_of(a, na, sizeof na);
    names_of(b, nb, sizeof nb);
    ck_assert_str_eq(na, nb);
    ck_assert_str_ne(na, "f0.png f1.png f2.png f3.png f4.png f5.png f6.png f7.png f8.png f9.png ");
    hood_dataset_free(a);
    hood_dataset_free(b);
}
END_TEST

START_TEST(label_modes)
{
    ten_files();
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.label_mode = HOOD_LABELS_CATEGORICAL;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    ck_assert_uint_eq(hood_dataset_label_width(ds), 2);
    ck_assert(hood_dataset_labels(ds)[0] == 1.0f && hood_dataset_labels(ds)[1] == 0.0f);
    ck_assert(hood_dataset_labels(ds)[18] == 0.0f && hood_dataset_labels(ds)[19] == 1.0f);
    hood_dataset_free(ds);
    o.label_mode = HOOD_LABELS_BINARY;
    ds = ingest_ok(at("d"), &o);
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_BINARY);
    ck_assert(hood_dataset_labels(ds)[4] == 0.0f && hood_dataset_labels(ds)[5] == 1.0f);
    hood_dataset_free(ds);
    o.label_mode = HOOD_LABELS_NONE;
    grey_png("d/top.png", 3); /* label_mode none walks the whole tree, as Keras' labels=None */
    messages m;
    o.on_message = on_message;
    o.user = &m;
    memset(&m, 0, sizeof m);
    ds = ingest_ok(at("d"), &o);
    ck_assert_str_eq(m.lines[0], "Found 11 files.");
    ck_assert_ptr_null(hood_dataset_labels(ds));
    ck_assert_str_eq(base(ds, 0), "top.png"); /* the top folder's files come first */
    hood_dataset_free(ds);
    mkdirs("d/c");
    grey_png("d/c/q.png", 1);
    o.label_mode = HOOD_LABELS_BINARY;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "exactly 2 classes"));
}
END_TEST

START_TEST(class_names_subset_and_unknown)
{
    ten_files();
    mkdirs("d/c");
    grey_png("d/c/q.png", 1);
    hood_ingest_options o;
    messages m;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, &m);
    const char *names[] = {"c", "a"};
    o.class_names = names;
    o.num_class_names = 2;
    hood_dataset *ds = ingest_ok(at("d"), &o);
    ck_assert_str_eq(m.lines[0], "Found 6 files belonging to 2 classes.");
    ck_assert_str_eq(hood_dataset_class_name(ds, 0), "c");
    ck_assert_str_eq(hood_dataset_class_name(ds, 1), "a");
    ck_assert_str_eq(base(ds, 0), "q.png");
    ck_assert(hood_dataset_labels(ds)[0] == 0.0f && hood_dataset_labels(ds)[1] == 1.0f);
    hood_dataset_free(ds);
    const char *bad[] = {"a", "nope"};
    o.class_names = bad;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "'nope'"));
}
END_TEST

START_TEST(labels_file)
{
    ten_files();
    FILE *f = fopen(at("labels.csv"), "w");
    fputs("b/f9.png,3\na/f0.png,0\r\n\na/f1.png,1\n", f);
    fclose(f);
    hood_ingest_options o;
    messages m;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, &m);
    o.labels_file = at("labels.csv");
    hood_dataset *ds = ingest_ok(at("d"), &o);
    ck_assert_str_eq(m.lines[0], "Found 3 files belonging to 4 classes.");
    ck_assert_uint_eq(hood_dataset_samples(ds), 3);
    ck_assert_str_eq(base(ds, 0), "f0.png");
    ck_assert_str_eq(base(ds, 2), "f9.png");
    ck_assert(hood_dataset_labels(ds)[2] == 3.0f);
    hood_dataset_free(ds);
    const char *bad[] = {"a/f0.png\n", "a/f0.png,x\n", "a/missing.png,1\n",
                         "a/f0.png,1\na/f0.png,2\n", "../d/a/f0.png,1\n"};
    for (int i = 0; i < 5; i++) {
        f = fopen(at("labels.csv"), "w");
        fputs(bad[i], f);
        fclose(f);
        ck_assert_int_ne(ingest_err(at("d"), &o), HOOD_OK);
        ck_assert_msg(strstr(hood_last_error(), "labels.csv") != NULL, "%d: %s", i,
                      hood_last_error());
    }
}
END_TEST

/* --- bad files ----------------------------------------------------------------------------- */

static void bad_files(void)
{
    mkdirs("d/a");
    grey_png("d/a/good1.png", 10);
    grey_png("d/a/good2.png", 20);
    write_bytes("d/a/empty.png", "", 0);
    write_bytes("d/a/text.jpg", "hello, not an image\n", 20);
    /* a PNG cut in half */
    uint8_t px[64 * 64];
    photo_pixels(px, 64, 64, 1, 1);
    save_png("d/a/whole.png", px, 64, 64, 1);
    FILE *f = fopen(at("d/a/whole.png"), "rb");
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    remove(at("d/a/whole.png"));
    write_bytes("d/a/truncated.png", buf, n / 2);
}

START_TEST(skip_unreadable_files_with_messages)
{
    bad_files();
    hood_ingest_options o;
    messages m;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, &m);
    o.threads = 1; /* this thread decodes the bad files too */
    hood_dataset *ds = ingest_ok(at("d"), &o);
    ck_assert_str_eq(hood_last_error(), ""); /* skips are reported, not this call's error */
    ck_assert_uint_eq(hood_dataset_samples(ds), 2);
    ck_assert_str_eq(base(ds, 0), "good1.png");
    ck_assert_str_eq(base(ds, 1), "good2.png");
    ck_assert(hood_dataset_x(ds)[4] == 20.0f / 255.0f);
    ck_assert(hood_dataset_labels(ds)[1] == 0.0f);
    ck_assert_int_eq(m.count, 6);
    ck_assert_str_eq(m.lines[0], "Found 5 files belonging to 1 classes.");
    /* one class: a warning naming it (issue 13) */
    ck_assert_msg(strstr(m.lines[1], "Warning: found 1 class: a in ") == m.lines[1], "%s",
                  m.lines[1]);
    /* one line per file, in file order, naming it and why */
    ck_assert_msg(strstr(m.lines[2], "Skipped ") == m.lines[2] &&
                      strstr(m.lines[2], "empty.png: empty file") != NULL,
                  "%s", m.lines[2]);
    ck_assert_msg(strstr(m.lines[3], "text.jpg: not a PNG, JPEG") != NULL, "%s", m.lines[3]);
    ck_assert_msg(strstr(m.lines[4], "truncated.png: libvips: ") != NULL, "%s", m.lines[4]);
    ck_assert_str_eq(m.lines[5], "Skipped 3 unreadable files.");
    hood_dataset_free(ds);
}
END_TEST

START_TEST(strict_fails_on_first_unreadable)
{
    bad_files();
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.strict = true;
    o.threads = 2;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EFORMAT);
    ck_assert_msg(strstr(hood_last_error(), "d/a/empty.png") != NULL, "%s", hood_last_error());
}
END_TEST

START_TEST(all_unreadable_is_an_error)
{
    mkdirs("d/a");
    write_bytes("d/a/x.png", "junk", 4);
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EFORMAT);
}
END_TEST

/* --- errors -------------------------------------------------------------------------------- */

START_TEST(folder_errors)
{
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    mkdirs("empty");
    ck_assert_int_eq(ingest_err(at("empty"), &o), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "no class sub-folders"));
    mkdirs("noimg/a");
    write_bytes("noimg/a/readme.txt", "x", 1);
    ck_assert_int_eq(ingest_err(at("noimg"), &o), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "no images found"));
    mkdirs("oneempty/a");
    mkdirs("oneempty/b");
    grey_png("oneempty/a/x.png", 1);
    ck_assert_int_eq(ingest_err(at("oneempty"), &o), HOOD_EINVAL);
    ck_assert_msg(strstr(hood_last_error(), "oneempty/b: class folder has no images") != NULL, "%s",
                  hood_last_error());
    ck_assert_int_eq(ingest_err(at("does-not-exist"), &o), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "does-not-exist"));
    write_bytes("afile", "x", 1);
    ck_assert_int_eq(ingest_err(at("afile"), &o), HOOD_EIO);
}
END_TEST

START_TEST(symlink_loop_with_follow_links)
{
    mkdirs("d/a/sub");
    grey_png("d/a/x.png", 1);
    ck_assert_int_eq(symlink("..", at("d/a/sub/loop")), 0);
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    hood_dataset *ds = ingest_ok(at("d"), &o); /* not followed: fine */
    ck_assert_uint_eq(hood_dataset_samples(ds), 1);
    hood_dataset_free(ds);
    o.follow_links = true;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL);
    ck_assert_msg(strstr(hood_last_error(), "symbolic link loop") != NULL, "%s", hood_last_error());
    /* a linked class folder is a class either way (Keras' isdir follows links) */
    mkdirs("e/real");
    grey_png("e/real/y.png", 2);
    ck_assert_int_eq(symlink("real", at("e/link")), 0);
    o.follow_links = false;
    ds = ingest_ok(at("e"), &o);
    ck_assert_uint_eq(hood_dataset_samples(ds), 2);
    ck_assert_str_eq(hood_dataset_class_name(ds, 0), "link");
    hood_dataset_free(ds);
}
END_TEST

START_TEST(size_errors)
{
    ten_files();
    hood_ingest_options o;
    opts_for(&o, 0, 2, HOOD_COLOR_GRAYSCALE, NULL);
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL);
    o.image.height = 2;
    o.image.width = 0;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL);
    /* 10 files x 2^20 x 2^20 x 4 floats = 176 TB (the largest sides allowed): more than any
     * machine has, refused from the machine's memory size before allocating */
    o.image.height = (size_t)1 << 20;
    o.image.width = (size_t)1 << 20;
    o.image.color_mode = HOOD_COLOR_RGBA;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_ENOMEM);
    ck_assert_msg(strstr(hood_last_error(), "more than this machine") != NULL, "%s",
                  hood_last_error());
    o.image.height = (size_t)1 << 40;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_ENOMEM);
    o.image.height = 2;
    o.image.width = 2;
    o.image.crop_to_aspect_ratio = true;
    o.image.pad_to_aspect_ratio = true;
    ck_assert_int_eq(ingest_err(at("d"), &o), HOOD_EINVAL);
}
END_TEST

/* A decoder to 8 x 8 grayscale with the default options (both paths). */
static hood__image_decoder *grey_decoder_8x8(void)
{
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    pp.height = pp.width = 8;
    hood__image_decoder *dec = NULL;
    ck_assert_int_eq(hood__image_decoder_create(&dec, &pp, 0, NULL), HOOD_OK);
    return dec;
}

START_TEST(pixel_limit_refuses_before_decoding)
{
    uint8_t px[96 * 80];
    photo_pixels(px, 96, 80, 1, 5);
    mkdirs("p");
    save_png("p/x.png", px, 96, 80, 1);
    save_jpeg("p/x.jpg", px, 96, 80, 1, 90);
    float col[64];
    hood__image_decoder *dec = grey_decoder_8x8();
    hood__image_decoder_set_max_pixels(dec, 96 * 80 - 1);
    ck_assert_int_eq(hood__image_decode_file(dec, at("p/x.png"), col), HOOD_EUNSUPPORTED);
    ck_assert_msg(strstr(hood_last_error(), "x.png: image of 96 x 80 pixels is larger") != NULL,
                  "%s", hood_last_error());
    /* a JPEG counts as its header says, shrink-on-load or not (96 x 80 at 1/8 is 12 x 10) */
    ck_assert_int_eq(hood__image_decode_file(dec, at("p/x.jpg"), col), HOOD_EUNSUPPORTED);
    ck_assert_msg(strstr(hood_last_error(), "x.jpg: image of 96 x 80 pixels is larger") != NULL,
                  "%s", hood_last_error());
    hood__image_decoder_free(dec);
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    pp.height = pp.width = 8;
    pp.jpeg_draft = true;
    for (unsigned flags = 0; flags <= HOOD__IMAGE_VIPS_ONLY; flags++) {
        ck_assert_int_eq(hood__image_decoder_create(&dec, &pp, flags, NULL), HOOD_OK);
        hood__image_decoder_set_max_pixels(dec, 96 * 80 - 1);
        ck_assert_int_eq(hood__image_decode_file(dec, at("p/x.jpg"), col), HOOD_EUNSUPPORTED);
        ck_assert_msg(strstr(hood_last_error(), "96 x 80 pixels is larger") != NULL, "%s",
                      hood_last_error());
        size_t fast = 9, vips = 9;
        hood__image_decoder_counts(dec, &fast, &vips);
        ck_assert_uint_eq(fast + vips, 0); /* refused, not decoded by either path */
        hood__image_decoder_set_max_pixels(dec, 96 * 80);
        ck_assert_int_eq(hood__image_decode_file(dec, at("p/x.jpg"), col), HOOD_OK);
        hood__image_decoder_free(dec);
    }
    ck_assert_int_eq(hood__image_decoder_create(&dec, &pp, 0, NULL), HOOD_OK);
    hood__image_decoder_set_max_pixels(dec, 96 * 80);
    ck_assert_int_eq(hood__image_decode_file(dec, at("p/x.png"), col), HOOD_OK);
    hood__image_decoder_free(dec);
}
END_TEST

/* A PNG whose compressed pixels are damaged fails every time with libspng's reason: it is never
 * handed to libvips, whose loader accepts such a file in 10-30 % of calls (so a folder's file
 * would be skipped or ingested at random). */
START_TEST(png_corrupt_data_fails_every_time)
{
    uint8_t px[40 * 30 * 3];
    photo_pixels(px, 40, 30, 3, 9);
    mkdirs("c");
    save_png("c/good.png", px, 40, 30, 3);
    uint8_t bytes[16384];
    FILE *f = fopen(at("c/good.png"), "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    ck_assert(n > 0 && n < sizeof bytes);
    size_t idat = 0;
    for (size_t i = 8; i + 8 <= n && idat == 0; i++)
        if (memcmp(bytes + i, "IDAT", 4) == 0)
            idat = i;
    ck_assert_msg(idat >= 12, "no IDAT chunk");
    size_t len = (size_t)bytes[idat - 4] << 24 | (size_t)bytes[idat - 3] << 16 |
                 (size_t)bytes[idat - 2] << 8 | bytes[idat - 1];
    ck_assert(idat + 4 + len + 4 <= n);
    bytes[idat + 4 + len / 2] ^= 0x5a; /* the middle of the compressed pixels */
    write_bytes("c/bad.png", bytes, n);

    float col[64];
    hood__image_decoder *dec = grey_decoder_8x8();
    ck_assert_int_eq(hood__image_decode_file(dec, at("c/good.png"), col), HOOD_OK);
    for (int round = 0; round < 60; round++) {
        ck_assert_int_eq(hood__image_decode_file(dec, at("c/bad.png"), col), HOOD_EFORMAT);
        ck_assert_msg(strstr(hood_last_error(), "bad.png: corrupt PNG: ") != NULL, "%s",
                      hood_last_error());
    }
    hood__image_decoder_free(dec);
}
END_TEST

START_TEST(labels_parser_on_bytes)
{
    size_t files = 0, classes = 0;
    const char ok[] = "b/y.png,1\na,b/x.png,4\r\n\n";
    ck_assert_int_eq(
        hood__labels_parse_bytes((const uint8_t *)ok, strlen(ok), "l", &files, &classes), HOOD_OK);
    ck_assert_uint_eq(files, 2);
    ck_assert_uint_eq(classes, 5);
    const char nul[] = "a/x\0.png,0\n";
    ck_assert_int_eq(
        hood__labels_parse_bytes((const uint8_t *)nul, sizeof nul - 1, "l", &files, &classes),
        HOOD_EFORMAT);
    ck_assert_str_eq(hood_last_error(), "l: line 1: contains a NUL byte");
    ck_assert_int_eq(hood__labels_parse_bytes((const uint8_t *)"", 0, "l", &files, &classes),
                     HOOD_EINVAL);
    const char big[] = "x.png,16777216\n";
    ck_assert_int_eq(
        hood__labels_parse_bytes((const uint8_t *)big, strlen(big), "l", &files, &classes),
        HOOD_EFORMAT);
}
END_TEST

/* --- fast path against libvips ---------------------------------------------------------------- */

/* The fixture's bytes (small files only: at most cap). */
static size_t read_fixture(const char *rel, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(at(rel), "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, cap, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_uint_lt(n, cap);
    return n;
}

/* Asserts the PNG fixture really is the kind a test means: IHDR bit depth and colour type
 * (bytes 24 and 25), and whether it has a tRNS chunk. */
static void assert_png_kind(const char *rel, int depth, int color_type, bool trns)
{
    static uint8_t b[1 << 16];
    size_t n = read_fixture(rel, b, sizeof b);
    ck_assert_uint_gt(n, 33);
    ck_assert_msg(b[24] == depth && b[25] == color_type, "%s: depth %d, colour type %d", rel, b[24],
                  b[25]);
    bool found = false;
    for (size_t i = 0; i + 4 <= n; i++)
        found |= memcmp(b + i, "tRNS", 4) == 0;
    ck_assert_msg(found == trns, "%s: tRNS %s", rel, found ? "present" : "absent");
}

/* PNG's CRC-32 (ISO 3309, reflected 0xEDB88320), bit by bit: fixtures are tiny. */
static uint32_t png_crc(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* libvips never writes tRNS for grey or RGB PNGs (only for palettes), so this splices a tRNS
 * chunk with the given payload (one 16-bit sample per channel, big-endian) right after the
 * IHDR of a PNG libvips wrote: a valid PNG whose pixels equal to that colour are transparent. */
static void add_trns(const char *rel, const uint8_t *payload, size_t len)
{
    static uint8_t in[1 << 16], out[(1 << 16) + 64];
    size_t n = read_fixture(rel, in, sizeof in);
    ck_assert_uint_gt(n, 33);
    ck_assert(memcmp(in + 12, "IHDR", 4) == 0);
    memcpy(out, in, 33); /* signature (8) + IHDR chunk (4 + 4 + 13 + 4) */
    uint8_t *c = out + 33;
    c[0] = 0, c[1] = 0, c[2] = 0, c[3] = (uint8_t)len;
    memcpy(c + 4, "tRNS", 4);
    memcpy(c + 8, payload, len);
    uint32_t crc = png_crc(c + 4, 4 + len);
    for (int k = 0; k < 4; k++)
        c[8 + len + (size_t)k] = (uint8_t)(crc >> (24 - 8 * k));
    size_t chunk = 12 + len;
    memcpy(out + 33 + chunk, in + 33, n - 33);
    write_bytes(rel, out, n + chunk);
}

static void decode_both(const char *path, const hood_preprocess *pp, size_t d, float *fast,
                        float *vips, size_t *fast_count)
{
    hood__image_decoder *a, *b;
    ck_assert_int_eq(hood__image_decoder_create(&a, pp, 0, NULL), HOOD_OK);
    ck_assert_int_eq(hood__image_decoder_create(&b, pp, HOOD__IMAGE_VIPS_ONLY, NULL), HOOD_OK);
    ck_assert_msg(hood__image_decode_file(a, path, fast) == HOOD_OK, "%s", hood_last_error());
    ck_assert_msg(hood__image_decode_file(b, path, vips) == HOOD_OK, "%s", hood_last_error());
    size_t f, v;
    hood__image_decoder_counts(a, &f, NULL);
    hood__image_decoder_counts(b, NULL, &v);
    ck_assert_uint_eq(v, 1);
    *fast_count += f;
    ck_assert_msg(memcmp(fast, vips, d * sizeof(float)) == 0, "%s: paths differ", path);
    hood__image_decoder_free(a);
    hood__image_decoder_free(b);
}

START_TEST(fast_path_equals_libvips)
{
    enum { W = 96, H = 80 };
    static uint8_t px[W * H * 4];
    mkdirs("f");
    const char *files[24];
    int nf = 0;
    photo_pixels(px, W, H, 1, 1);
    save_png("f/g.png", px, W, H, 1), files[nf++] = "f/g.png";
    save_jpeg("f/g.jpg", px, W, H, 1, 90), files[nf++] = "f/g.jpg";
    photo_pixels(px, W, H, 2, 2);
    save_png("f/ga.png", px, W, H, 2), files[nf++] = "f/ga.png";
    photo_pixels(px, W, H, 3, 3);
    save_png("f/rgb.png", px, W, H, 3), files[nf++] = "f/rgb.png";
    save_jpeg("f/rgb.jpg", px, W, H, 3, 90), files[nf++] = "f/rgb.jpg";
    save_jpeg("f/rgb100.jpg", px, W, H, 3, 100), files[nf++] = "f/rgb100.jpg";
    VipsImage *im = make_image(px, W, H, 3, VIPS_FORMAT_UCHAR);
    ck_assert(vips_pngsave(im, at("f/inter.png"), "interlace", TRUE, NULL) == 0);
    files[nf++] = "f/inter.png";
    ck_assert(vips_pngsave(im, at("f/pal.png"), "palette", TRUE, NULL) == 0);
    files[nf++] = "f/pal.png";
    ck_assert(vips_jpegsave(im, at("f/prog.jpg"), "interlace", TRUE, NULL) == 0);
    files[nf++] = "f/prog.jpg";
    g_object_unref(im);
    photo_pixels(px, W, H, 4, 4);
    save_png("f/rgba.png", px, W, H, 4), files[nf++] = "f/rgba.png";
    static uint16_t px16[W * H * 3];
    for (size_t i = 0; i < (size_t)W * H * 3; i++)
        px16[i] = (uint16_t)(i * 2654435761u >> 16);
    im = make_image(px16, W, H, 3, VIPS_FORMAT_USHORT);
    ck_assert(vips_pngsave(im, at("f/rgb16.png"), "bitdepth", 16, NULL) == 0);
    g_object_unref(im);
    files[nf++] = "f/rgb16.png";

    /* The PNG kinds libspng decodes through other formats or transforms (decode.c png_fast):
     * grey of 1, 2 and 4 bits (unpacked and scaled to 8), 16-bit grey (RGBA16), and tRNS
     * transparency on a palette, on grey and on RGB (RGBA8 with SPNG_DECODE_TRNS). */
    photo_pixels(px, W, H, 1, 5);
    im = make_image(px, W, H, 1, VIPS_FORMAT_UCHAR);
    static const char *low[] = {"f/g1.png", "f/g2.png", "f/g4.png"};
    for (int k = 0; k < 3; k++) {
        ck_assert(vips_pngsave(im, at(low[k]), "bitdepth", 1 << k, NULL) == 0);
        assert_png_kind(low[k], 1 << k, 0, false);
        files[nf++] = low[k];
    }
    ck_assert(vips_pngsave(im, at("f/gtrns.png"), NULL) == 0);
    g_object_unref(im);
    add_trns("f/gtrns.png", (const uint8_t[]){0, px[0]}, 2); /* px[0]'s grey is transparent */
    assert_png_kind("f/gtrns.png", 8, 0, true);
    files[nf++] = "f/gtrns.png";
    im = make_image(px16, W, H, 1, VIPS_FORMAT_USHORT);
    ck_assert(vips_pngsave(im, at("f/g16.png"), "bitdepth", 16, NULL) == 0);
    ck_assert(vips_pngsave(im, at("f/g16trns.png"), "bitdepth", 16, NULL) == 0);
    g_object_unref(im);
    assert_png_kind("f/g16.png", 16, 0, false);
    files[nf++] = "f/g16.png";
    add_trns("f/g16trns.png", (const uint8_t[]){(uint8_t)(px16[0] >> 8), (uint8_t)px16[0]}, 2);
    assert_png_kind("f/g16trns.png", 16, 0, true);
    files[nf++] = "f/g16trns.png";
    photo_pixels(px, W, H, 3, 6);
    save_png("f/rgbtrns.png", px, W, H, 3);
    add_trns("f/rgbtrns.png", (const uint8_t[]){0, px[0], 0, px[1], 0, px[2]}, 6);
    assert_png_kind("f/rgbtrns.png", 8, 2, true);
    files[nf++] = "f/rgbtrns.png";
    photo_pixels(px, W, H, 4, 7); /* alpha varies over 0..255: the palette needs tRNS */
    im = make_image(px, W, H, 4, VIPS_FORMAT_UCHAR);
    ck_assert(vips_pngsave(im, at("f/paltrns.png"), "palette", TRUE, NULL) == 0);
    g_object_unref(im);
    assert_png_kind("f/paltrns.png", 8, 3, true);
    files[nf++] = "f/paltrns.png";
    ck_assert_int_le(nf, (int)(sizeof files / sizeof files[0]));

    /* full size, half (JPEG shrink-on-load 2), and an odd size with every mode */
    const size_t sizes[][2] = {{H, W}, {H / 2, W / 2}, {37, 29}, {H / 4, W / 4}};
    const hood_color_mode modes[] = {HOOD_COLOR_GRAYSCALE, HOOD_COLOR_RGB, HOOD_COLOR_RGBA};
    static float a[W * H * 4], b[W * H * 4];
    size_t fast_count = 0, total = 0;
    for (size_t s = 0; s < 4; s++) {
        for (size_t m = 0; m < 3; m++) {
            hood_preprocess pp;
            hood_preprocess_init(&pp);
            pp.height = sizes[s][0];
            pp.width = sizes[s][1];
            pp.color_mode = modes[m];
            size_t d = pp.height * pp.width * hood_color_mode_channels(modes[m]);
            for (int i = 0; i < nf; i++, total++)
                decode_both(at(files[i]), &pp, d, a, b, &fast_count);
        }
    }
    /* every file above is one the fast path takes */
    ck_assert_uint_eq(fast_count, total);
}
END_TEST

START_TEST(threads_give_the_same_matrix)
{
    mkdirs("d/a");
    mkdirs("d/b");
    uint8_t px[60 * 50 * 3];
    for (int i = 0; i < 40; i++) {
        char rel[32];
        photo_pixels(px, 60, 50, 3, i);
        snprintf(rel, sizeof rel, "d/%c/p%02d.%s", i % 2 ? 'a' : 'b', i, i % 3 ? "png" : "jpg");
        if (i % 3)
            save_png(rel, px, 60, 50, 3);
        else
            save_jpeg(rel, px, 60, 50, 3, 90);
    }
    hood_ingest_options o;
    opts_for(&o, 25, 30, HOOD_COLOR_GRAYSCALE, NULL);
    o.threads = 1;
    hood_dataset *one = ingest_ok(at("d"), &o);
    o.threads = 4;
    hood_dataset *four = ingest_ok(at("d"), &o);
    size_t n = hood_dataset_samples(one) * hood_dataset_features(one);
    ck_assert_uint_eq(hood_dataset_samples(four), 40);
    ck_assert(memcmp(hood_dataset_x(one), hood_dataset_x(four), n * sizeof(float)) == 0);
    hood_dataset_free(one);
    hood_dataset_free(four);
}
END_TEST

/* --- resampling against Pillow --------------------------------------------------------------- */

static hood_interpolation interp_named(const char *name)
{
    if (strcmp(name, "nearest") == 0)
        return HOOD_INTERP_NEAREST;
    if (strcmp(name, "bicubic") == 0)
        return HOOD_INTERP_BICUBIC;
    if (strcmp(name, "lanczos3") == 0)
        return HOOD_INTERP_LANCZOS3;
    if (strcmp(name, "area") == 0)
        return HOOD_INTERP_AREA;
    ck_assert_str_eq(name, "bilinear");
    return HOOD_INTERP_BILINEAR;
}

/* Runs every case of the fixture whose filter is `filter` (or every case when NULL); the
 * stated tolerance is 1 level of 255 (max |hood - Pillow| <= 1) on every value. Returns the
 * number of cases. */
static int check_against_pillow(const char *filter, int *max_diff_out)
{
    enum { W0 = 37, H0 = 29 };
    uint8_t src[W0 * H0 * 3];
    for (int y = 0; y < H0; y++)
        for (int x = 0; x < W0; x++)
            for (int c = 0; c < 3; c++)
                src[(y * W0 + x) * 3 + c] =
                    (uint8_t)((7 * x + 13 * y + 101 * c + 9 * ((x * y) % 17)) % 256);
    mkdirs("r");
    save_png("r/src.png", src, W0, H0, 3);
    const char *root = getenv("HOOD_SOURCE_ROOT");
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/ingest/resize-reference.txt", root ? root : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char name[128], mode[16], filt[16], geom[16];
    size_t w, h;
    int cases = 0, max_diff = 0;
    static float column[45 * 35 * 3];
    while (fscanf(f, " case %127s %15s %15s %zu %zu %15s", name, mode, filt, &w, &h, geom) == 6) {
        bool rgb = strcmp(mode, "rgb") == 0;
        size_t d = w * h * (rgb ? 3 : 1);
        ck_assert_uint_le(d, sizeof column / sizeof column[0]);
        hood_preprocess pp;
        hood_preprocess_init(&pp);
        pp.width = w;
        pp.height = h;
        pp.color_mode = rgb ? HOOD_COLOR_RGB : HOOD_COLOR_GRAYSCALE;
        pp.interpolation = interp_named(filt);
        pp.crop_to_aspect_ratio = strcmp(geom, "crop") == 0;
        pp.pad_to_aspect_ratio = strcmp(geom, "pad") == 0;
        pp.raw_values = true;
        bool run = filter == NULL || strcmp(filter, filt) == 0;
        if (run)
            ck_assert_msg(hood_image_load(at("r/src.png"), &pp, column) == HOOD_OK, "%s",
                          hood_last_error());
        for (size_t i = 0; i < d; i++) {
            int want;
            ck_assert_int_eq(fscanf(f, "%d", &want), 1);
            if (!run)
                continue;
            int diff = abs((int)column[i] - want);
            ck_assert_msg(diff <= 1, "%s value %zu: hood %g, Pillow %d", name, i, (double)column[i],
                          want);
            max_diff = diff > max_diff ? diff : max_diff;
        }
        cases += run;
    }
    fclose(f);
    if (max_diff_out)
        *max_diff_out = max_diff;
    return cases;
}

START_TEST(resize_matches_pillow)
{
    static const char *filters[] = {"nearest", "bilinear", "bicubic", "lanczos3", "area"};
    int max_diff;
    int cases = check_against_pillow(filters[_i], &max_diff);
    ck_assert_int_ge(cases, 3);
}
END_TEST

START_TEST(resize_matches_pillow_exactly_overall)
{
    /* Measured: hood's kernels reproduce Pillow 9.4's integer output exactly on this fixture
     * (the 1-level tolerance above is headroom for libm differences in sin()). */
    int max_diff;
    ck_assert_int_eq(check_against_pillow(NULL, &max_diff), 18);
    ck_assert_int_eq(max_diff, 0);
}
END_TEST

/* --- progress and the single-image API -------------------------------------------------------- */

typedef struct progress {
    size_t calls, last_done, last_total, finals, first_done;
    bool monotonic;
    size_t stop_after; /* return non-zero on this call (0: never) */
    pthread_t thread;  /* every call must come from the ingesting thread */
    bool other_thread;
} progress;

static int on_progress(void *user, size_t done, size_t total)
{
    progress *p = user;
    if (done < p->last_done)
        p->monotonic = false;
    if (p->calls == 0)
        p->first_done = done;
    if (!pthread_equal(pthread_self(), p->thread))
        p->other_thread = true;
    p->calls++;
    p->finals += done == total;
    p->last_done = done;
    p->last_total = total;
    return p->stop_after != 0 && p->calls >= p->stop_after;
}

START_TEST(progress_counts_files)
{
    ten_files();
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.on_progress = on_progress;
    for (int threads = 1; threads <= 3; threads += 2) {
        progress p = {.monotonic = true, .thread = pthread_self()};
        o.user = &p;
        o.threads = threads;
        hood_dataset *ds = ingest_ok(at("d"), &o);
        /* (0, 10) once the scan is done, then from this thread only, ending with (10, 10)
         * exactly once: the CLI's line neither skips nor repeats the end. */
        ck_assert_uint_eq(p.first_done, 0);
        ck_assert_uint_eq(p.last_done, 10);
        ck_assert_uint_eq(p.last_total, 10);
        ck_assert_uint_eq(p.finals, 1);
        ck_assert(p.monotonic);
        ck_assert(!p.other_thread);
        hood_dataset_free(ds);
    }
}
END_TEST

/* A non-zero return stops the ingest: HOOD_ESTOPPED, no dataset. */
START_TEST(progress_stops_ingest)
{
    ten_files();
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.on_progress = on_progress;
    for (size_t stop_after = 1; stop_after <= 2; stop_after++) {
        progress p = {.monotonic = true, .thread = pthread_self(), .stop_after = stop_after};
        o.user = &p;
        o.threads = 2;
        hood_dataset *ds = (hood_dataset *)1;
        ck_assert_int_eq(hood_dataset_from_directory(at("d"), &o, &ds, NULL), HOOD_ESTOPPED);
        ck_assert_ptr_null(ds);
        ck_assert_uint_eq(p.calls, stop_after); /* never called again once it said stop */
        ck_assert(strstr(hood_last_error(), "stopped") != NULL);
    }
}
END_TEST

START_TEST(image_load_and_defaults)
{
    hood_ingest_options o;
    hood_ingest_options_init(&o);
    ck_assert_uint_eq(o.image.height, 256);
    ck_assert_uint_eq(o.image.width, 256);
    ck_assert_int_eq(o.image.color_mode, HOOD_COLOR_GRAYSCALE);
    ck_assert_int_eq(o.image.interpolation, HOOD_INTERP_BILINEAR);
    ck_assert(o.shuffle);
    ck_assert_int_eq(o.label_mode, HOOD_LABELS_INT);
    ck_assert_uint_eq(hood_color_mode_channels(HOOD_COLOR_RGB), 3);
    ck_assert_uint_eq(hood_color_mode_channels(HOOD_COLOR_RGBA), 4);
    mkdirs("i");
    uint8_t px[] = {0, 51, 102, 255};
    save_png("i/x.png", px, 2, 2, 1);
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    pp.height = 2;
    pp.width = 2;
    float col[4];
    ck_assert_int_eq(hood_image_load(at("i/x.png"), &pp, col), HOOD_OK);
    ck_assert(col[1] == 51.0f / 255.0f && col[3] == 1.0f);
    ck_assert_int_eq(hood_image_load(at("i/none.png"), &pp, col), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "i/none.png"));
}
END_TEST

/* --- Pillow's pixels by default; bombs ------------------------------------------------------- */

/* A decoder for h x w grayscale raw values with the given JPEG draft setting and flags. */
static hood__image_decoder *decoder_for(size_t h, size_t w, hood_color_mode mode, bool draft,
                                        unsigned flags)
{
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    pp.height = h;
    pp.width = w;
    pp.color_mode = mode;
    pp.raw_values = true;
    pp.jpeg_draft = draft;
    hood__image_decoder *dec = NULL;
    ck_assert_int_eq(hood__image_decoder_create(&dec, &pp, flags, NULL), HOOD_OK);
    return dec;
}

/* A 1200 x 896 JPEG read at 75 x 100: by default the whole file is decoded and resampled (as
 * Pillow's open + convert + resize), on the fast path and through libvips alike; --jpeg-draft's
 * shrink-on-load (1/8 here) gives other pixels. */
START_TEST(large_jpeg_is_decoded_whole_by_default)
{
    enum { W = 1200, H = 896, OW = 100, OH = 75 };
    static uint8_t px[W * H * 3], grey[W * H];
    photo_pixels(px, W, H, 3, 4);
    mkdirs("j");
    save_jpeg("j/big.jpg", px, W, H, 3, 90);
    /* Reference: the full-size grey pixels (an identity resample), then the resampler. */
    static float full[W * H], want[OW * OH], got[OW * OH];
    hood__image_decoder *dec = decoder_for(H, W, HOOD_COLOR_GRAYSCALE, false, 0);
    ck_assert_int_eq(hood__image_decode_file(dec, at("j/big.jpg"), full), HOOD_OK);
    hood__image_decoder_free(dec);
    for (size_t i = 0; i < (size_t)W * H; i++)
        grey[i] = (uint8_t)full[i];
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    pp.height = OH;
    pp.width = OW;
    pp.raw_values = true;
    hood__resampler rs;
    hood__resampler_init(&rs, &pp);
    ck_assert_int_eq(hood__resample(&rs, grey, W, W, H, want), HOOD_OK);
    hood__resampler_release(&rs);
    for (unsigned flags = 0; flags <= HOOD__IMAGE_VIPS_ONLY; flags++) {
        dec = decoder_for(OH, OW, HOOD_COLOR_GRAYSCALE, false, flags);
        ck_assert_int_eq(hood__image_decode_file(dec, at("j/big.jpg"), got), HOOD_OK);
        for (int i = 0; i < OW * OH; i++)
            ck_assert_msg(got[i] == want[i], "%s: pixel %d: %g vs %g", flags ? "libvips" : "fast",
                          i, (double)got[i], (double)want[i]);
        hood__image_decoder_free(dec);
        dec = decoder_for(OH, OW, HOOD_COLOR_GRAYSCALE, true, flags);
        ck_assert_int_eq(hood__image_decode_file(dec, at("j/big.jpg"), got), HOOD_OK);
        float worst = 0;
        for (int i = 0; i < OW * OH; i++)
            worst = fmaxf(worst, fabsf(got[i] - want[i]));
        ck_assert_msg(worst >= 2.0f, "--jpeg-draft: max difference %g", (double)worst);
        hood__image_decoder_free(dec);
    }
}
END_TEST

/* Grayscale and rgb drop alpha (Pillow's convert("L") / convert("RGB"), TF's decode_png with
 * fewer channels); rgba keeps it and resizes premultiplied, as Pillow's resize does (the
 * values below are Pillow 9.4's for this 4 x 1 image resized to 2 x 1). */
START_TEST(alpha_ignored_by_default_rgba_premultiplied)
{
    uint8_t px[] = {200, 100, 50, 255, 0, 0, 0, 0, 10, 20, 30, 128, 250, 250, 250, 64};
    mkdirs("d/a");
    save_png("d/a/x.png", px, 4, 1, 4);
    float col[8];
    hood__image_decoder *dec = decoder_for(1, 4, HOOD_COLOR_GRAYSCALE, false, 0);
    ck_assert_int_eq(hood__image_decode_file(dec, at("d/a/x.png"), col), HOOD_OK);
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = px + 4 * i;
        ck_assert(col[i] == (float)((19595 * p[0] + 38470 * p[1] + 7471 * p[2] + 32768) >> 16));
    }
    hood__image_decoder_free(dec);
    const float want_l[] = {56, 115}, want_rgb[] = {87, 46, 26, 111, 116, 120},
                want_rgba[] = {171, 87, 47, 128, 90, 96, 102, 82};
    hood_color_mode modes[] = {HOOD_COLOR_GRAYSCALE, HOOD_COLOR_RGB, HOOD_COLOR_RGBA};
    const float *wants[] = {want_l, want_rgb, want_rgba};
    for (int m = 0; m < 3; m++) {
        dec = decoder_for(1, 2, modes[m], false, 0);
        ck_assert_int_eq(hood__image_decode_file(dec, at("d/a/x.png"), col), HOOD_OK);
        size_t c = hood_color_mode_channels(modes[m]);
        for (size_t i = 0; i < 2 * c; i++)
            ck_assert_msg(col[i] == wants[m][i], "mode %d value %zu: %g vs %g", m, i,
                          (double)col[i], (double)wants[m][i]);
        hood__image_decoder_free(dec);
    }
}
END_TEST

/* The bytes of a small JPEG written by libvips (interlaced: progressive). */
static size_t small_jpeg(const char *rel, bool progressive, uint8_t *buf, size_t cap)
{
    uint8_t px[16 * 16];
    photo_pixels(px, 16, 16, 1, 2);
    VipsImage *im = make_image(px, 16, 16, 1, VIPS_FORMAT_UCHAR);
    ck_assert(vips_jpegsave(im, at(rel), "Q", 90, "interlace", progressive, NULL) == 0);
    g_object_unref(im);
    return read_fixture(rel, buf, cap);
}

static void decode_refused(const char *rel, const char *reason)
{
    for (int draft = 0; draft <= 1; draft++)
        for (unsigned flags = 0; flags <= HOOD__IMAGE_VIPS_ONLY; flags++) {
            hood__image_decoder *dec = decoder_for(8, 8, HOOD_COLOR_GRAYSCALE, draft, flags);
            float col[64];
            ck_assert_int_eq(hood__image_decode_file(dec, at(rel), col), HOOD_EUNSUPPORTED);
            ck_assert_msg(strstr(hood_last_error(), reason) != NULL, "%s", hood_last_error());
            size_t fast = 9, vips = 9;
            hood__image_decoder_counts(dec, &fast, &vips);
            ck_assert_uint_eq(fast + vips, 0); /* refused before either decoder ran */
            hood__image_decoder_free(dec);
        }
}

/* A 16 x 16 JPEG whose frame header is patched to claim 65500 x 65500 (334 bytes or so): refused
 * on the header's size on both paths, with or without shrink-on-load (which once let it through
 * as a 8188 x 8188 image of grey), and by the ingest under --strict. */
START_TEST(jpeg_claiming_65500_squared_refused_on_every_path)
{
    uint8_t b[4096];
    mkdirs("b/a");
    size_t n = small_jpeg("b/a/small.jpg", false, b, sizeof b);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < n && sof == 0; i++)
        if (b[i] == 0xFF && (b[i + 1] == 0xC0 || b[i + 1] == 0xC1 || b[i + 1] == 0xC2))
            sof = i;
    ck_assert_uint_gt(sof, 0);
    b[sof + 5] = 0xFF, b[sof + 6] = 0xDC; /* height 65500 */
    b[sof + 7] = 0xFF, b[sof + 8] = 0xDC; /* width 65500 */
    write_bytes("b/a/bomb.jpg", b, n);
    remove(at("b/a/small.jpg"));
    decode_refused("b/a/bomb.jpg", "65500 x 65500 pixels is larger than the");
    hood_ingest_options o;
    opts_for(&o, 8, 8, HOOD_COLOR_GRAYSCALE, NULL);
    o.strict = true;
    o.image.jpeg_draft = true;
    ck_assert_int_eq(ingest_err(at("b"), &o), HOOD_EFORMAT);
    ck_assert_msg(strstr(hood_last_error(), "bomb.jpg: image of 65500 x 65500") != NULL, "%s",
                  hood_last_error());
}
END_TEST

/* A progressive JPEG with 1100 empty AC scans spliced in before EOI: refused before decoding
 * (no pass over the blocks per scan, no second decode by libvips); 900 are not refused for
 * their number. */
static size_t scan_bomb(const char *rel, int scans, uint8_t *out, size_t cap)
{
    uint8_t b[4096];
    size_t n = small_jpeg(rel, true, b, sizeof b);
    ck_assert(n >= 4 && b[n - 2] == 0xFF && b[n - 1] == 0xD9);
    /* SOS: 1 component (id 1, tables 0/0), Ss 1, Se 63, Ah 0, Al 0, no entropy-coded data. */
    static const uint8_t sos[] = {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3F, 0x00};
    size_t len = n - 2 + (size_t)scans * sizeof sos + 2;
    ck_assert_uint_le(len, cap);
    memcpy(out, b, n - 2);
    for (int i = 0; i < scans; i++)
        memcpy(out + n - 2 + (size_t)i * sizeof sos, sos, sizeof sos);
    out[len - 2] = 0xFF, out[len - 1] = 0xD9;
    write_bytes(rel, out, len);
    return len;
}

START_TEST(jpeg_scan_bomb_refused_before_decoding)
{
    static uint8_t b[16384];
    mkdirs("s");
    scan_bomb("s/bomb.jpg", 1100, b, sizeof b);
    decode_refused("s/bomb.jpg", "more than 1000 scans");
    scan_bomb("s/many.jpg", 900, b, sizeof b);
    hood__image_decoder *dec = decoder_for(8, 8, HOOD_COLOR_GRAYSCALE, false, 0);
    float col[64];
    hood__image_decode_file(dec, at("s/many.jpg"), col); /* may decode or fail as corrupt */
    ck_assert_msg(strstr(hood_last_error(), "scans") == NULL, "%s", hood_last_error());
    hood__image_decoder_free(dec);
}
END_TEST

/* A labels file may name classes 0..65535 (the CSV reader's one-hot limit), not more: a 70-byte
 * file once asked for 16,777,216 one-hot classes for 6 images (a 384 MB matrix). */
START_TEST(labels_file_class_limit)
{
    size_t files = 0, classes = 0;
    const char ok[] = "x.png,65535\n";
    ck_assert_int_eq(
        hood__labels_parse_bytes((const uint8_t *)ok, strlen(ok), "l", &files, &classes), HOOD_OK);
    ck_assert_uint_eq(classes, 65536);
    const char big[] = "x.png,65536\n";
    ck_assert_int_eq(
        hood__labels_parse_bytes((const uint8_t *)big, strlen(big), "l", &files, &classes),
        HOOD_EFORMAT);
    ck_assert_str_eq(hood_last_error(), "l: line 1: label '65536' is not a class index 0..65535 "
                                        "(at most 65536 classes, the CSV reader's one-hot limit)");
    mkdirs("l/a");
    grey_png("l/a/x.png", 9);
    write_bytes("labels.txt", "a/x.png,16777215\n", 17);
    hood_ingest_options o;
    opts_for(&o, 2, 2, HOOD_COLOR_GRAYSCALE, NULL);
    o.labels_file = at("labels.txt");
    o.label_mode = HOOD_LABELS_CATEGORICAL;
    ck_assert_int_eq(ingest_err(at("l"), &o), HOOD_EFORMAT);
    ck_assert_msg(strstr(hood_last_error(), "at most 65536 classes") != NULL, "%s",
                  hood_last_error());
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("ingest");
    TCase *tc = tcase_create("ingest");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, exact_pixels_at_target_size);
    tcase_add_test(tc, rgb_column_is_hwc);
    tcase_add_test(tc, nearest_2x_downscale);
    tcase_add_test(tc, luma_of_known_colours);
    tcase_add_test(tc, sixteen_bit_scales_to_same_range);
    tcase_add_test(tc, sixteen_bit_rounds_alike_on_both_paths);
    tcase_add_test(tc, alpha_flattened_onto_black);
    tcase_add_test(tc, grey_alpha_and_grey_to_rgba);
    tcase_add_test(tc, palette_png);
    tcase_add_test(tc, cmyk_tiff_converted);
    tcase_add_test(tc, gif_first_frame);
    tcase_add_test(tc, webp_lossless_exact_luma);
    tcase_add_test(tc, webp_animation_first_frame);
    tcase_add_test(tc, rgb_tiff_exact_pixels);
    tcase_add_test(tc, format_by_content_not_extension);
    tcase_add_test(tc, exif_orientation_applied);
    tcase_add_test(tc, exif_orientation_2_mirrors);
    tcase_add_test(tc, exif_orientation_3_turns_180);
    tcase_add_test(tc, exif_orientation_8_turns_90_anticlockwise);
    tcase_add_test(tc, bmp_through_libvips_and_block_untrusted);
    tcase_add_test(tc, class_order_is_byte_order);
    tcase_add_test(tc, hidden_and_top_level_skipped);
    tcase_add_test(tc, nested_folders_in_keras_walk_order);
    tcase_add_test(tc, keras_split_rule_for_seed);
    tcase_add_test(tc, split_without_shuffle_takes_the_last_files);
    tcase_add_test(tc, split_option_errors);
    tcase_add_test(tc, shuffle_is_seeded);
    tcase_add_test(tc, label_modes);
    tcase_add_test(tc, class_names_subset_and_unknown);
    tcase_add_test(tc, labels_file);
    tcase_add_test(tc, skip_unreadable_files_with_messages);
    tcase_add_test(tc, strict_fails_on_first_unreadable);
    tcase_add_test(tc, all_unreadable_is_an_error);
    tcase_add_test(tc, folder_errors);
    tcase_add_test(tc, symlink_loop_with_follow_links);
    tcase_add_test(tc, size_errors);
    tcase_add_test(tc, pixel_limit_refuses_before_decoding);
    tcase_add_test(tc, png_corrupt_data_fails_every_time);
    tcase_add_test(tc, labels_parser_on_bytes);
    tcase_add_test(tc, fast_path_equals_libvips);
    tcase_add_test(tc, threads_give_the_same_matrix);
    tcase_add_loop_test(tc, resize_matches_pillow, 0, 5);
    tcase_add_test(tc, resize_matches_pillow_exactly_overall);
    tcase_add_test(tc, progress_counts_files);
    tcase_add_test(tc, progress_stops_ingest);
    tcase_add_test(tc, image_load_and_defaults);
    tcase_add_test(tc, large_jpeg_is_decoded_whole_by_default);
    tcase_add_test(tc, alpha_ignored_by_default_rgba_premultiplied);
    tcase_add_test(tc, jpeg_claiming_65500_squared_refused_on_every_path);
    tcase_add_test(tc, jpeg_scan_bomb_refused_before_decoding);
    tcase_add_test(tc, labels_file_class_limit);
    suite_add_tcase(s, tc);
    return s;
}
