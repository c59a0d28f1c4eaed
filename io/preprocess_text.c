/* preprocess_text.c — hood_preprocess as "key=value" words (preprocess_text.h): one table row
 * per field, so a new field of hood_preprocess is one line here and every file that carries
 * the preprocessing (.npz, CSV) gains it. Not the model file's own line (model_file.c). */
#include "preprocess_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum field_kind { F_SIZE, F_BOOL, F_COLOR, F_INTERP, F_ALPHA } field_kind;

typedef struct field {
    const char *key;
    field_kind kind;
    size_t offset;
} field;

/* The preprocessing fields, in the order they are written. Add a field here. */
static const field fields[] = {
    {"height", F_SIZE, offsetof(hood_preprocess, height)},
    {"width", F_SIZE, offsetof(hood_preprocess, width)},
    {"color_mode", F_COLOR, offsetof(hood_preprocess, color_mode)},
    {"interpolation", F_INTERP, offsetof(hood_preprocess, interpolation)},
    {"crop_to_aspect_ratio", F_BOOL, offsetof(hood_preprocess, crop_to_aspect_ratio)},
    {"pad_to_aspect_ratio", F_BOOL, offsetof(hood_preprocess, pad_to_aspect_ratio)},
    {"raw_values", F_BOOL, offsetof(hood_preprocess, raw_values)},
    {"jpeg_draft", F_BOOL, offsetof(hood_preprocess, jpeg_draft)},
    {"exif_transpose", F_BOOL, offsetof(hood_preprocess, exif_transpose)},
    {"alpha_background", F_ALPHA, offsetof(hood_preprocess, alpha_background)},
};
enum { NUM_FIELDS = sizeof fields / sizeof fields[0] };

static const char *const color_names[] = {"grayscale", "rgb", "rgba"};
static const char *const interp_names[] = {"bilinear", "nearest", "bicubic", "lanczos3", "area"};

_Static_assert(sizeof(hood_color_mode) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(hood_interpolation) == sizeof(int), "enums are stored as int");

size_t hood__preprocess_format(const hood_preprocess *pp, char *out)
{
    const char *base = (const char *)pp;
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NUM_FIELDS; i++) {
        const field *f = &fields[i];
        size_t cap = HOOD_PREPROCESS_TEXT_MAX - n;
        int k = 0, w = 0;
        switch (f->kind) {
        case F_SIZE: {
            size_t v;
            memcpy(&v, base + f->offset, sizeof v);
            w = snprintf(out + n, cap, "%s%s=%zu", i ? " " : "", f->key, v);
            break;
        }
        case F_BOOL: {
            bool v;
            memcpy(&v, base + f->offset, sizeof v);
            w = snprintf(out + n, cap, "%s%s=%d", i ? " " : "", f->key, v ? 1 : 0);
            break;
        }
        case F_COLOR:
        case F_INTERP: {
            memcpy(&k, base + f->offset, sizeof k);
            const char *const *names = f->kind == F_COLOR ? color_names : interp_names;
            int count = f->kind == F_COLOR ? 3 : 5;
            w = snprintf(out + n, cap, "%s%s=%s", i ? " " : "", f->key,
                         k >= 0 && k < count ? names[k] : "unknown");
            break;
        }
        case F_ALPHA: { /* "ignore", or the background as #RRGGBB */
            int32_t v;
            memcpy(&v, base + f->offset, sizeof v);
            if (v == HOOD_ALPHA_IGNORE)
                w = snprintf(out + n, cap, "%s%s=ignore", i ? " " : "", f->key);
            else
                w = snprintf(out + n, cap, "%s%s=#%06X", i ? " " : "", f->key,
                             (unsigned)v & 0xFFFFFFu);
            break;
        }
        }
        if (w < 0 || (size_t)w >= cap)
            break; /* not reached: the table's words are far shorter than the buffer */
        n += (size_t)w;
    }
    return n;
}

static int pick(const char *v, size_t len, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == len && memcmp(v, names[i], len) == 0)
            return i;
    return -1;
}

int hood__preprocess_parse(const char *word, size_t len, hood_preprocess *pp)
{
    const char *eq = memchr(word, '=', len);
    if (eq == NULL)
        return 0;
    size_t klen = (size_t)(eq - word), vlen = len - klen - 1;
    const char *v = eq + 1;
    char *base = (char *)pp;
    for (size_t i = 0; i < NUM_FIELDS; i++) {
        const field *f = &fields[i];
        if (strlen(f->key) != klen || memcmp(word, f->key, klen) != 0)
            continue;
        switch (f->kind) {
        case F_SIZE: {
            size_t x = 0;
            if (vlen == 0 || vlen > 7)
                return -1;
            for (size_t j = 0; j < vlen; j++) {
                if (v[j] < '0' || v[j] > '9')
                    return -1;
                x = x * 10 + (size_t)(v[j] - '0');
            }
            if (x == 0 || x > 65535)
                return -1;
            memcpy(base + f->offset, &x, sizeof x);
            return 1;
        }
        case F_BOOL: {
            if (vlen != 1 || (v[0] != '0' && v[0] != '1'))
                return -1;
            bool b = v[0] == '1';
            memcpy(base + f->offset, &b, sizeof b);
            return 1;
        }
        case F_COLOR:
        case F_INTERP: {
            int k = f->kind == F_COLOR ? pick(v, vlen, color_names, 3)
                                       : pick(v, vlen, interp_names, 5);
            if (k < 0)
                return -1;
            memcpy(base + f->offset, &k, sizeof k);
            return 1;
        }
        case F_ALPHA: {
            int32_t a = 0;
            if (vlen == 6 && memcmp(v, "ignore", 6) == 0) {
                a = HOOD_ALPHA_IGNORE;
            } else {
                if (vlen != 7 || v[0] != '#')
                    return -1;
                for (size_t j = 1; j < 7; j++) {
                    char c = v[j];
                    int d = c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                   : -1;
                    if (d < 0)
                        return -1;
                    a = a * 16 + d;
                }
            }
            memcpy(base + f->offset, &a, sizeof a);
            return 1;
        }
        }
    }
    return 0;
}

char *hood__name_escape(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(3 * len + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= ' ' || *p == ',' || *p == '%' || *p == '=' || *p == 0x7f)
            n += (size_t)sprintf(out + n, "%%%02X", *p);
        else
            out[n++] = (char)*p;
    }
    out[n] = '\0';
    return out;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

char *hood__name_unescape(const char *s, size_t len, bool *bad)
{
    *bad = false;
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            out[n++] = s[i];
            continue;
        }
        int hi = i + 2 < len ? hex_digit(s[i + 1]) : -1;
        int lo = i + 2 < len ? hex_digit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            *bad = true;
            return NULL;
        }
        out[n++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[n] = '\0';
    return out;
}
