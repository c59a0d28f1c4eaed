/* resample.c — pixel arithmetic, the Pillow way: colour conversion to the output's channels
 * (Pillow's 'L' luma), the crop/pad region (Keras' smart_resize), and separable fixed-point
 * resampling written through a u8 -> float table into the column. No library calls, no
 * decoding, no files (decode.c and image.c). */
#include "resample.h"

#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The integer loops are built twice on x86-64 with GCC, plain and for AVX2, and the loader
 * picks one by the CPU (function multiversioning): the sums are exact integers, so both give the
 * same bytes; AVX2 widens the u8 -> int32 multiply-adds the compiler vectorises. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__) /* TSan instruments the resolver, run before TSan starts */
#define SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SIMD_CLONES
#endif

/* Pillow's fixed-point precision for 8-bit resampling: 32 bits minus 8 for the pixel value and
 * 2 of headroom for kernels whose negative lobes push partial sums past 255. */
enum { PRECISION_BITS = 32 - 8 - 2 };

void hood__resampler_init(hood__resampler *rs, const hood_preprocess *pp)
{
    memset(rs, 0, sizeof *rs);
    rs->width = pp->width;
    rs->height = pp->height;
    rs->channels = hood_color_mode_channels(pp->color_mode);
    rs->interpolation = pp->interpolation;
    /* (float)k / 255.0f is bit-exact with NumPy's x.astype(float32) / 255 (docs/performance.md). */
    for (int k = 0; k < 256; k++)
        rs->table[k] = pp->raw_values ? (float)k : (float)k / 255.0f;
}

void hood__resampler_release(hood__resampler *rs)
{
    free(rs->hpass);
    free(rs->coef_x);
    free(rs->coef_y);
    free(rs->bounds_x);
    free(rs->bounds_y);
    free(rs->acc);
    free(rs->premul);
    free(rs->coef16);
}

/* --- geometry --------------------------------------------------------------------------- */

hood__region hood__region_for(const hood_preprocess *pp, size_t w, size_t h)
{
    hood__region b = {0, 0, w, h};
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

int hood__jpeg_shrink_for(const hood_preprocess *pp, size_t w, size_t h)
{
    if (!pp->jpeg_draft)
        return 1; /* Pillow decodes the whole JPEG; shrink-on-load is opt-in */
    hood__region b = hood__region_for(pp, w, h);
    for (int s = 8; s > 1; s /= 2)
        /* and never below 1 pixel: padding can make the region far larger than the image
         * (a 10762 x 1 JPEG shrunk by 8 is 0 pixels high, which libvips aborts on) */
        if ((uint64_t)s * pp->width <= b.w && (uint64_t)s * pp->height <= b.h && (size_t)s <= w &&
            (size_t)s <= h)
            return s;
    return 1;
}

/* --- colour ---------------------------------------------------------------------------- */

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

/* Composites value v with alpha a over background value bg: round((v a + bg (255 - a)) / 255)
 * (over black, bg = 0, this is what hood did before alpha_background existed). */
static inline unsigned over(unsigned v, unsigned a, unsigned bg)
{
    return (v * a + bg * (255 - a) + 127) / 255;
}

void hood__convert_pixels(uint8_t *out, const hood__raw_image *im, hood_color_mode mode,
                          int32_t background)
{
    const bool composite = background != HOOD_ALPHA_IGNORE;
    const unsigned bg_r = ((uint32_t)background >> 16) & 255,
                   bg_g = ((uint32_t)background >> 8) & 255, bg_b = (uint32_t)background & 255;
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
        /* Pillow's convert("L") and convert("RGB") drop alpha; compositing is opt-in. */
        if (composite && a != 255)
            r = over(r, a, bg_r), g = over(g, a, bg_g), b = over(b, a, bg_b);
        if (mode == HOOD_COLOR_GRAYSCALE) {
            out[i] = luma(r, g, b);
        } else {
            out[3 * i] = (uint8_t)r, out[3 * i + 1] = (uint8_t)g, out[3 * i + 2] = (uint8_t)b;
        }
    }
}

/* The clones are static, behind plain wrappers: a cloned function's resolver would be
 * exported whatever the visibility (tests/abi checks the exported list). */
SIMD_CLONES static void rgb8_gray(uint8_t *out, const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = luma(in[3 * i], in[3 * i + 1], in[3 * i + 2]);
}

SIMD_CLONES static void rgba8_gray(uint8_t *out, const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = luma(in[4 * i], in[4 * i + 1], in[4 * i + 2]);
}

void hood__convert_rgb8_gray(uint8_t *out, const uint8_t *in, size_t n)
{
    rgb8_gray(out, in, n);
}

void hood__convert_rgba8_gray(uint8_t *out, const uint8_t *in, size_t n)
{
    rgba8_gray(out, in, n);
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
    /* Up to 8 taps are stored as 8, the extra weights 0: hpass_gray8's fixed count. */
    if (ksize < 8)
        ksize = 8;
    if (hood__mul_overflows(ksize, out_size, &count) ||
        hood__mul_overflows(count, sizeof(int32_t), &bytes))
        return hood__fail(HOOD_ENOMEM, "resampling %zu -> %zu does not fit in memory", in_size,
                          out_size);
    hood_status status = hood__grow(coef, coef_cap, bytes, "resampling weights");
    if (status == HOOD_OK)
        status = hood__grow(bounds, bounds_cap, out_size * 2 * sizeof(size_t), "resampling bounds");
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

/* Grey rows through a kernel stored as 8 taps (weights past the true count are 0). With SSE2,
 * each 22-bit weight is split as w = hi * 2^11 + lo (0 <= lo < 2^11), both halves 16-bit, so
 * pmaddwd's exact 16 x 16 -> 32-bit products give sum(in * w) = 2^11 sum(in * hi) + sum(in * lo):
 * the integers Pillow adds, summed in another order (the true sum fits in int32, so lanes that
 * wrap on the way still end exact). An output whose 8-byte window would run past the row's end
 * sums its true count in plain C. */
static hood_status hpass_gray8(hood__resampler *rs, const uint8_t *src, size_t stride, size_t w,
                               size_t h, size_t W)
{
    const int32_t *coef = rs->coef_x;
    const size_t *bounds = rs->bounds_x;
#if defined(__SSE2__)
    hood_status status = hood__grow(&rs->coef16, &rs->coef16_cap, W * 16 * sizeof(int16_t),
                                    "resampling weights");
    if (status != HOOD_OK)
        return status;
    int16_t *split = rs->coef16;
    for (size_t i = 0; i < W * 8; i++) {
        split[(i / 8) * 16 + i % 8] = (int16_t)(coef[i] >> 11); /* arithmetic: floor */
        split[(i / 8) * 16 + 8 + i % 8] = (int16_t)(coef[i] & 2047);
    }
    const __m128i zero = _mm_setzero_si128();
#endif
    for (size_t y = 0; y < h; y++) {
        const uint8_t *row = src + y * stride;
        uint8_t *o = rs->hpass + y * W;
        for (size_t x = 0; x < W; x++) {
            size_t x0 = bounds[2 * x], n = bounds[2 * x + 1];
            const uint8_t *in = row + x0;
            uint32_t ss = 1u << (PRECISION_BITS - 1);
#if defined(__SSE2__)
            if (x0 + 8 <= w) {
                __m128i px = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(const void *)in),
                                               zero);
                const __m128i *k = (const __m128i *)(const void *)(split + x * 16);
                __m128i sum = _mm_add_epi32(
                    _mm_slli_epi32(_mm_madd_epi16(px, _mm_loadu_si128(k)), 11),
                    _mm_madd_epi16(px, _mm_loadu_si128(k + 1)));
                sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(1, 0, 3, 2)));
                sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(2, 3, 0, 1)));
                o[x] = clip8((int32_t)(ss + (uint32_t)_mm_cvtsi128_si32(sum)));
                continue;
            }
#endif
            const int32_t *kk = coef + x * 8;
            for (size_t i = 0; i < n; i++)
                ss += (uint32_t)((int32_t)in[i] * kk[i]);
            o[x] = clip8((int32_t)ss);
        }
    }
    return HOOD_OK;
}

/* Nearest-neighbour source index per output position, accumulated as Pillow's affine scaler
 * does (start at scale/2, add scale per step), so both agree at exact .5 boundaries. */
static hood_status nearest_index(size_t in_size, size_t out_size, size_t **idx, size_t *cap)
{
    hood_status status = hood__grow(idx, cap, out_size * 2 * sizeof(size_t), "resampling bounds");
    if (status != HOOD_OK)
        return status;
    double scale = (double)in_size / (double)out_size, pos = scale * 0.5;
    for (size_t i = 0; i < out_size; i++, pos += scale) {
        size_t v = (size_t)pos;
        (*idx)[i] = v < in_size ? v : in_size - 1;
    }
    return HOOD_OK;
}

/* Pillow resizes RGBA with premultiplied alpha (Image.resize converts to 'RGBa' and back), so
 * transparent pixels' colours do not bleed into their neighbours. Its rounding: multiply as
 * MULDIV255 (rgbA2rgba), divide truncating and clipped (rgba2rgbA), alpha 0 and 255 unchanged. */
static hood_status premultiply(hood__resampler *rs, const uint8_t **src, size_t *stride, size_t w,
                               size_t h)
{
    size_t len = 0;
    hood_status status = hood__mul3(w, h, 4, &len);
    if (status == HOOD_OK)
        status = hood__grow(&rs->premul, &rs->premul_cap, len, "premultiplied pixels");
    if (status != HOOD_OK)
        return status;
    for (size_t y = 0; y < h; y++) {
        const uint8_t *in = *src + y * *stride;
        uint8_t *out = rs->premul + y * w * 4;
        for (size_t x = 0; x < w * 4; x += 4) {
            unsigned a = in[x + 3];
            for (size_t c = 0; c < 3; c++) {
                unsigned t = in[x + c] * a + 128;
                out[x + c] = (uint8_t)(((t >> 8) + t) >> 8);
            }
            out[x + 3] = (uint8_t)a;
        }
    }
    *src = rs->premul;
    *stride = w * 4;
    return HOOD_OK;
}

/* One output row of n 8-bit values to floats; premultiplied RGBA is divided back first. */
static void emit_row(const hood__resampler *rs, bool premultiplied, const uint8_t *row, float *out,
                     size_t n)
{
    const float *table = rs->table;
    if (!premultiplied) {
        for (size_t i = 0; i < n; i++)
            out[i] = table[row[i]];
        return;
    }
    for (size_t i = 0; i + 4 <= n; i += 4) {
        unsigned a = row[i + 3];
        for (size_t c = 0; c < 3; c++) {
            unsigned v = row[i + c];
            if (a != 0 && a != 255) {
                v = 255 * v / a;
                v = v > 255 ? 255 : v;
            }
            out[i + c] = table[v];
        }
        out[i + 3] = table[a];
    }
}

SIMD_CLONES static hood_status resample(hood__resampler *rs, const uint8_t *src, size_t stride,
                                        size_t w, size_t h, float *column)
{
    const size_t W = rs->width, H = rs->height, C = rs->channels;
    const float *table = rs->table;
    bool premultiplied = false;
    if (C == 4 && rs->interpolation != HOOD_INTERP_NEAREST && (w != W || h != H)) {
        hood_status status = premultiply(rs, &src, &stride, w, h);
        if (status != HOOD_OK)
            return status;
        premultiplied = true;
    }
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
    if (rs->interpolation == HOOD_INTERP_NEAREST) {
        if ((status = nearest_index(w, W, &rs->bounds_x, &rs->bounds_x_cap)) != HOOD_OK ||
            (status = nearest_index(h, H, &rs->bounds_y, &rs->bounds_y_cap)) != HOOD_OK)
            return status;
        for (size_t y = 0; y < H; y++) {
            const uint8_t *row = src + rs->bounds_y[y] * stride;
            float *out = column + y * W * C;
            for (size_t x = 0; x < W; x++)
                for (size_t c = 0; c < C; c++)
                    out[x * C + c] = table[row[rs->bounds_x[x] * C + c]];
        }
        return HOOD_OK;
    }
    kernel k = kernel_for(rs->interpolation);
    size_t kx = 0, ky = 0;
    /* Horizontal pass only when the width changes (as Pillow), over every source row. */
    const uint8_t *vsrc = src;
    size_t vstride = stride;
    if (w != W) {
        if ((status = precompute(w, W, k, &rs->coef_x, &rs->coef_x_cap, &rs->bounds_x,
                                 &rs->bounds_x_cap, &kx)) != HOOD_OK)
            return status;
        size_t len = 0;
        if ((status = hood__mul3(h, W, C, &len)) != HOOD_OK ||
            (status = hood__grow(&rs->hpass, &rs->hpass_cap, len, "resampling buffer")) != HOOD_OK)
            return status;
        for (size_t y = 0; y < h && !(C == 1 && kx == 8); y++) {
            const uint8_t *row = src + y * stride;
            uint8_t *out = rs->hpass + y * W * C;
            for (size_t x = 0; x < W; x++) {
                const int32_t *kk = rs->coef_x + x * kx;
                size_t x0 = rs->bounds_x[2 * x], n = rs->bounds_x[2 * x + 1];
                const uint8_t *in = row + x0 * C;
                for (size_t c = 0; c < C; c++) {
                    int32_t ss = 1 << (PRECISION_BITS - 1);
                    for (size_t i = 0; i < n; i++)
                        ss += (int32_t)in[i * C + c] * kk[i];
                    out[x * C + c] = clip8(ss);
                }
            }
        }
        if (C == 1 && kx == 8 && (status = hpass_gray8(rs, src, stride, w, h, W)) != HOOD_OK)
            return status;
        vsrc = rs->hpass;
        vstride = W * C;
    }
    if (h == H) {
        for (size_t y = 0; y < H; y++)
            emit_row(rs, premultiplied, vsrc + y * vstride, column + y * W * C, W * C);
        return HOOD_OK;
    }
    if ((status = precompute(h, H, k, &rs->coef_y, &rs->coef_y_cap, &rs->bounds_y,
                             &rs->bounds_y_cap, &ky)) != HOOD_OK)
        return status;
    /* Row by row (tap outer, pixels inner): contiguous reads the compiler vectorises, into
     * one accumulator row. */
    size_t row_len = W * C;
    if ((status = hood__grow(&rs->acc, &rs->acc_cap, row_len * sizeof(int32_t),
                             "resampling row")) != HOOD_OK)
        return status;
    int32_t *acc = rs->acc;
    for (size_t y = 0; y < H; y++) {
        const int32_t *kk = rs->coef_y + y * ky;
        size_t y0 = rs->bounds_y[2 * y], n = rs->bounds_y[2 * y + 1];
        for (size_t i = 0; i < row_len; i++)
            acc[i] = 1 << (PRECISION_BITS - 1);
        for (size_t j = 0; j < n; j++) {
            const uint8_t *in = vsrc + (y0 + j) * vstride;
            int32_t k = kk[j];
            for (size_t i = 0; i < row_len; i++)
                acc[i] += (int32_t)in[i] * k;
        }
        float *out = column + y * row_len;
        if (premultiplied) {
            /* Rounded to 8 bits in place (byte i is written after int i/4 <= i was read), then
             * divided back: Pillow unpremultiplies the 8-bit result. */
            uint8_t *row8 = (uint8_t *)acc;
            for (size_t i = 0; i < row_len; i++)
                row8[i] = clip8(acc[i]);
            emit_row(rs, true, row8, out, row_len);
        } else {
            for (size_t i = 0; i < row_len; i++)
                out[i] = table[clip8(acc[i])];
        }
    }
    return HOOD_OK;
}

hood_status hood__resample(hood__resampler *rs, const uint8_t *src, size_t stride, size_t w,
                           size_t h, float *column)
{
    return resample(rs, src, stride, w, h, column);
}
