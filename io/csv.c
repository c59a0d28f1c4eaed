/* csv.c — the seed's CSV rows (x1,...,xd then the label columns) written and read: shortest
 * round-trip floats (bit-exact float32 both ways, locale-independent, no printf/strtod on the
 * hot path), streaming two-pass reader with errors naming file, line and column.
 * Not a general CSV library: no quoting, no other separators. The reader is csv_read.c.
 *
 * The format, as written: one row per sample, features then labels (INT: the class index as an
 * integer; CATEGORICAL: k columns; BINARY: one 0/1 column; NONE: no label column), '\n' line
 * ends; with a header, first a "# hood: ..." line when the dataset has preprocessing or class
 * names, then "x1,...,xd,y" ("y0,...,yk-1" for CATEGORICAL, no y for NONE).
 * As read (csv_read.c): '\n' or "\r\n" line ends; blank lines skipped (line numbers in messages
 * still count them); '#' lines before the first row are comments ("# hood:" parsed); spaces and
 * tabs around a field ignored; a number is [+-]digits[.digits][e[+-]digits] (numpy's and
 * Python's output; no hex, no thousands separators); NaN, Inf and values beyond float32 are
 * errors. A first row in exactly hood's header form is a header (it holds no number, so no
 * data row is dropped) and says which columns are labels; any other non-numeric first row is
 * a header only when asked for, else an error with a hint. Labels otherwise: the caller's
 * expected feature count, or label_column -1 = the last label_columns columns, -2 or mode NONE
 * = none, i >= 0 = columns i..i+k-1; INT labels must be whole numbers 0..2^24-1, BINARY in
 * [0, 1]; one INT column read as CATEGORICAL is one-hot encoded. */
#include "csv.h"

#include "atomic.h"
#include "dataset.h"
#include "error.h"
#include "preprocess_text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Decimal <-> float32.
 * ------------------------------------------------------------------------------------------- */

/* 10^k for k in -50..60; the literals are converted correctly rounded by the compiler, and exact
 * for 0..22 (the only ones the exact fast path relies on). */
static const double pow10_table[] = {
    1e-50, 1e-49, 1e-48, 1e-47, 1e-46, 1e-45, 1e-44, 1e-43, 1e-42, 1e-41, 1e-40, 1e-39, 1e-38,
    1e-37, 1e-36, 1e-35, 1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29, 1e-28, 1e-27, 1e-26, 1e-25,
    1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12,
    1e-11, 1e-10, 1e-9,  1e-8,  1e-7,  1e-6,  1e-5,  1e-4,  1e-3,  1e-2,  1e-1,  1e0,   1e1,
    1e2,   1e3,   1e4,   1e5,   1e6,   1e7,   1e8,   1e9,   1e10,  1e11,  1e12,  1e13,  1e14,
    1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21,  1e22,  1e23,  1e24,  1e25,  1e26,  1e27,
    1e28,  1e29,  1e30,  1e31,  1e32,  1e33,  1e34,  1e35,  1e36,  1e37,  1e38,  1e39,  1e40,
    1e41,  1e42,  1e43,  1e44,  1e45,  1e46,  1e47,  1e48,  1e49,  1e50,  1e51,  1e52,  1e53,
    1e54,  1e55,  1e56,  1e57,  1e58,  1e59,  1e60,
};
static double pow10d(int k)
{
    return pow10_table[k + 50];
}

static const uint64_t pow10_int[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

/* w * 10^k correctly rounded to float, when that can be decided cheaply: w and 10^|k| are exact
 * doubles, so one multiply or divide gives the correctly rounded double d; rounding d to float
 * is then correct unless d lies exactly halfway between two floats (the only case where
 * rounding twice can differ from rounding once). Within these bounds d is a normal float's
 * magnitude (1e-22 .. 9e37), so "halfway" is: the 29 mantissa bits below float precision are
 * exactly 1000...0. Returns 0 when undecided. w > 0. */
static int fast_decimal(uint64_t w, int k, float *out)
{
    if (w > (1ull << 53) || k < -22 || k > 22)
        return 0;
    double d = (double)w;
    d = k < 0 ? d / pow10d(-k) : d * pow10d(k);
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    if ((bits & 0x1FFFFFFFu) == 0x10000000u)
        return 0;
    *out = (float)d;
    return 1;
}

/* The slow, always-correct path: strtof on "<digits>e<exp>", a form with no radix character,
 * so the locale cannot change its meaning. Returns 0, or 4 when beyond the float range. */
static int slow_decimal(const char *digits, size_t ndigits, long exp10, float *out)
{
    char buf[256];
    if (ndigits > 201)
        ndigits = 201; /* 200 digits and a sticky one decide any float32 rounding */
    memcpy(buf, digits, ndigits);
    snprintf(buf + ndigits, sizeof buf - ndigits, "e%ld", exp10);
    errno = 0;
    float f = strtof(buf, NULL);
    if (isinf(f))
        return 4;
    *out = f;
    return 0;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int word_is(const char *p, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)p[i]) != word[i])
            return 0;
    return 1;
}

int hood__csv_parse_float(const char *text, size_t len, float *out)
{
    const char *p = text, *end = text + len;
    int negative = 0;
    if (p < end && (*p == '-' || *p == '+'))
        negative = *p++ == '-';
    const char *after_sign = p;
    /* value = D * 10^(exp10 - frac_digits), D = the significant digits (first non-zero on).
     * The first 19 go into w; up to 200 are kept for the slow path, the rest only as a sticky
     * non-zero flag (which is all correct rounding needs of them). */
    char digits[201];
    size_t ndigits = 0, seen_digits = 0;
    long frac_digits = 0;
    int sticky = 0, in_fraction = 0;
    uint64_t w = 0;
    for (;; p++) {
        if (p < end && *p == '.' && !in_fraction) {
            in_fraction = 1;
            continue;
        }
        if (p >= end || *p < '0' || *p > '9')
            break;
        seen_digits++;
        frac_digits += in_fraction && frac_digits < 100000000;
        if (ndigits == 0 && *p == '0')
            continue;
        if (ndigits < 19)
            w = w * 10 + (uint64_t)(*p - '0');
        if (ndigits < 200)
            digits[ndigits] = *p;
        else
            sticky |= *p != '0';
        ndigits += ndigits < 1000000000;
    }
    if (seen_digits == 0) {
        size_t rest = (size_t)(end - after_sign);
        if (word_is(after_sign, rest, "nan"))
            return 2;
        if (word_is(after_sign, rest, "inf") || word_is(after_sign, rest, "infinity"))
            return 3;
        return 1;
    }
    long exp10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int exp_negative = 0;
        if (p < end && (*p == '-' || *p == '+'))
            exp_negative = *p++ == '-';
        if (p == end || *p < '0' || *p > '9')
            return 1;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (exp10 < 100000000) /* saturate: such values are 0 or out of range anyway */
                exp10 = exp10 * 10 + (*p - '0');
        if (exp_negative)
            exp10 = -exp10;
    }
    if (p != end)
        return 1;
    float f = 0.0f;
    if (ndigits > 0) {
        long e = exp10 - frac_digits; /* value = D * 10^e */
        if (ndigits > 19 || e < -22 || e > 22 || !fast_decimal(w, (int)e, &f)) {
            size_t kept = ndigits < 200 ? ndigits : 200;
            long kept_exp = e + (long)(ndigits - kept);
            if (sticky) {
                digits[kept++] = '1';
                kept_exp--;
            }
            int rc = slow_decimal(digits, kept, kept_exp, &f);
            if (rc != 0)
                return rc;
        }
    }
    *out = negative ? -f : f;
    return 0;
}

/* Writes the digits of r (nd of them) at out. */
static void put_digits(char *out, uint64_t r, size_t nd)
{
    for (size_t i = nd; i-- > 0;) {
        out[i] = (char)('0' + r % 10);
        r /= 10;
    }
}

/* r * 10^k (r has no trailing zeros) in the shorter of plain and scientific notation. */
static size_t emit_decimal(char *out, uint64_t r, int k)
{
    size_t nd = 1;
    while (nd < 20 && r >= pow10_int[nd])
        nd++;
    int e = k + (int)nd - 1; /* scientific exponent */
    size_t plain = k >= 0 ? nd + (size_t)k : e >= 0 ? nd + 1 : (size_t)(1 - e) + nd;
    size_t sci = nd + (nd > 1) + 4;
    char *p = out;
    if (plain <= sci) {
        if (k >= 0) {
            put_digits(p, r, nd);
            memset(p + nd, '0', (size_t)k);
            return nd + (size_t)k;
        }
        if (e >= 0) {
            size_t whole = (size_t)e + 1;
            put_digits(p + 1, r, nd); /* then slide the integer part left over the gap */
            memmove(p, p + 1, whole);
            p[whole] = '.';
            return nd + 1;
        }
        p[0] = '0';
        p[1] = '.';
        memset(p + 2, '0', (size_t)(-e - 1));
        put_digits(p + 2 + (-e - 1), r, nd);
        return plain;
    }
    put_digits(p + 1, r, nd);
    p[0] = p[1];
    size_t n = 1;
    if (nd > 1) {
        p[1] = '.';
        n = nd + 1;
    }
    p[n++] = 'e';
    p[n++] = e < 0 ? '-' : '+';
    int a = e < 0 ? -e : e;
    p[n++] = (char)('0' + a / 10);
    p[n++] = (char)('0' + a % 10);
    return n;
}

size_t hood__csv_format_float(float x, char *out)
{
    size_t n = 0;
    if (signbit(x))
        out[n++] = '-';
    float a = fabsf(x);
    if (a == 0.0f) {
        out[n++] = '0';
        return n;
    }
    /* e10 = floor(log10(a)): estimated from the binary exponent, then corrected. */
    int e2;
    frexp((double)a, &e2);
    int e10 = (int)floor((e2 - 1) * 0.30102999566398120);
    if ((double)a >= pow10d(e10 + 1))
        e10++;
    else if ((double)a < pow10d(e10))
        e10--;
    /* The nearest p-digit decimal for p = 9, 8, ...: 9 digits always read back; the last p that
     * still reads back to a is the shortest (a p-digit decimal that works implies the nearer
     * (p+1)-digit one does; only at a power of two, where the interval is lopsided, can this
     * stop one digit early). The check is exact (fast_decimal or strtof), so the output always
     * round-trips. Typical data needs 7-9 digits: two or three checks. */
    uint64_t best_r = 0;
    int best_k = 0;
    for (int p = 9; p >= 1; p--) {
        int k = e10 - p + 1;
        double scaled = (double)a * pow10d(-k);
        uint64_t r = (uint64_t)(scaled + 0.5);
        if (r == 0)
            break;
        if (r >= pow10_int[p]) { /* 9.96 -> 10: one digit more, same value */
            r /= 10;
            k++;
        }
        float back;
        if (!fast_decimal(r, k, &back)) {
            char digits[24];
            size_t nd = 1;
            while (nd < 20 && r >= pow10_int[nd])
                nd++;
            put_digits(digits, r, nd);
            if (slow_decimal(digits, nd, k, &back) != 0)
                break;
        }
        if (back != a)
            break;
        best_r = r;
        best_k = k;
    }
    if (best_r != 0) {
        while (best_r % 10 == 0) {
            best_r /= 10;
            best_k++;
        }
        return n + emit_decimal(out + n, best_r, best_k);
    }
    /* Not reached for finite floats: 9 significant digits always round-trip. Be safe anyway. */
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%.9e", (double)a);
    for (int i = 0; i < len && n < HOOD_CSV_FLOAT_MAX; i++)
        out[n++] = buf[i] == ',' ? '.' : buf[i];
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * Writing.
 * ------------------------------------------------------------------------------------------- */

/* Shortest text per float bits, direct-mapped: image data has 256 distinct values, so nearly
 * every value after the first row is a 16-byte copy. */
enum { CACHE_BITS = 12, CACHE_SIZE = 1 << CACHE_BITS, OUT_CAPACITY = 1 << 20 };

typedef struct csv_writer {
    FILE *stream;
    const char *path;
    char *buf; /* OUT_CAPACITY bytes, flushed when fewer than 64 remain */
    size_t used;
    uint32_t key[CACHE_SIZE];
    uint8_t len[CACHE_SIZE]; /* 0: empty slot */
    char text[CACHE_SIZE][HOOD_CSV_FLOAT_MAX];
} csv_writer;

static hood_status writer_flush(csv_writer *w)
{
    if (w->used > 0 && fwrite(w->buf, 1, w->used, w->stream) != w->used)
        return hood__fail(HOOD_EIO, "%s: write failed", w->path);
    w->used = 0;
    return HOOD_OK;
}

static hood_status writer_reserve(csv_writer *w, size_t n)
{
    return OUT_CAPACITY - w->used < n ? writer_flush(w) : HOOD_OK;
}

static void put_float(csv_writer *w, float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint32_t slot = (bits * 2654435761u) >> (32 - CACHE_BITS);
    if (w->key[slot] != bits || w->len[slot] == 0) {
        w->len[slot] = (uint8_t)hood__csv_format_float(x, w->text[slot]);
        w->key[slot] = bits;
    }
    memcpy(w->buf + w->used, w->text[slot], HOOD_CSV_FLOAT_MAX);
    w->used += w->len[slot];
}

static void put_uint(csv_writer *w, uint64_t v)
{
    size_t nd = 1;
    while (nd < 20 && v >= pow10_int[nd])
        nd++;
    put_digits(w->buf + w->used, v, nd);
    w->used += nd;
}

static void put_char(csv_writer *w, char c)
{
    w->buf[w->used++] = c;
}

static hood_status write_header(csv_writer *w, size_t d, hood_label_mode mode, size_t width)
{
    hood_status status = HOOD_OK;
    for (size_t i = 0; i < d && status == HOOD_OK; i++) {
        if ((status = writer_reserve(w, 32)) != HOOD_OK)
            break;
        put_char(w, 'x');
        put_uint(w, i + 1);
        put_char(w, ',');
    }
    if (mode == HOOD_LABELS_INT || mode == HOOD_LABELS_BINARY) {
        put_char(w, 'y');
        put_char(w, ',');
    } else if (mode == HOOD_LABELS_CATEGORICAL) {
        for (size_t i = 0; i < width && status == HOOD_OK; i++) {
            if ((status = writer_reserve(w, 32)) != HOOD_OK)
                break;
            put_char(w, 'y');
            put_uint(w, i);
            put_char(w, ',');
        }
    }
    if (status == HOOD_OK)
        w->buf[w->used - 1] = '\n';
    return status;
}

/* "# hood: height=.. width=.. ... class_names=a,b" when the dataset knows how its columns were
 * made or what its classes are called: the line every hood reader parses and skips. */
static hood_status write_hood_line(csv_writer *w, const hood_dataset *ds)
{
    hood_preprocess pp;
    bool has_pp = hood_dataset_preprocess(ds, &pp);
    bool has_names = hood_dataset_class_name(ds, 0) != NULL;
    if (!has_pp && !has_names)
        return HOOD_OK;
    if (fputs("# hood:", w->stream) == EOF)
        return hood__fail(HOOD_EIO, "%s: write failed", w->path);
    if (has_pp) {
        char text[HOOD_PREPROCESS_TEXT_MAX];
        hood__preprocess_format(&pp, text);
        if (fprintf(w->stream, " %s", text) < 0)
            return hood__fail(HOOD_EIO, "%s: write failed", w->path);
    }
    for (size_t i = 0; has_names && hood_dataset_class_name(ds, i) != NULL; i++) {
        char *e = hood__name_escape(hood_dataset_class_name(ds, i));
        if (e == NULL)
            return hood__fail(HOOD_ENOMEM, "%s: out of memory", w->path);
        int rc = fprintf(w->stream, "%s%s", i == 0 ? " class_names=" : ",", e);
        free(e);
        if (rc < 0)
            return hood__fail(HOOD_EIO, "%s: write failed", w->path);
    }
    if (fputc('\n', w->stream) == EOF)
        return hood__fail(HOOD_EIO, "%s: write failed", w->path);
    return HOOD_OK;
}

static hood_status write_rows(csv_writer *w, const hood_dataset *ds)
{
    size_t d = hood_dataset_features(ds), n = hood_dataset_samples(ds);
    hood_label_mode mode = hood_dataset_label_mode(ds);
    size_t width = hood_dataset_label_width(ds);
    const float *x = hood_dataset_x(ds), *y = hood_dataset_labels(ds);
    hood_status status = HOOD_OK;
    for (size_t j = 0; j < n; j++) {
        const float *column = x + j * d;
        for (size_t i = 0; i < d; i++) {
            if (!isfinite(column[i]))
                return hood__fail(HOOD_EDATA,
                                  "%s: sample %zu, feature %zu is %s; CSV holds only "
                                  "finite numbers",
                                  w->path, j, i, isnan(column[i]) ? "NaN" : "infinite");
            if (OUT_CAPACITY - w->used < 64 && (status = writer_flush(w)) != HOOD_OK)
                return status;
            put_float(w, column[i]);
            w->buf[w->used++] = ',';
        }
        for (size_t i = 0; i < width; i++) {
            float v = y[j * width + i];
            if (!isfinite(v))
                return hood__fail(HOOD_EDATA, "%s: label of sample %zu is not finite", w->path, j);
            if (OUT_CAPACITY - w->used < 64 && (status = writer_flush(w)) != HOOD_OK)
                return status;
            if (mode == HOOD_LABELS_INT && v >= 0 && v < 1.8e19f && v == floorf(v))
                put_uint(w, (uint64_t)v);
            else
                put_float(w, v);
            w->buf[w->used++] = ',';
        }
        w->buf[w->used - 1] = '\n';
    }
    return writer_flush(w);
}

void hood_csv_options_init(hood_csv_options *opts)
{
    memset(opts, 0, sizeof *opts); /* fields added later start at 0 too */
    opts->struct_size = sizeof *opts;
    opts->header = false;
    opts->label_column = -1;
    opts->label_columns = 1;
    opts->label_mode = HOOD_LABELS_INT;
    opts->labels_from_header = true;
}

hood_status hood__csv_options_read(hood_csv_options *dst, const hood_csv_options *src,
                                   const char *what)
{
    if (src == NULL) {
        hood_csv_options_init(dst);
        return HOOD_OK;
    }
    return hood__options_read(dst, sizeof *dst, HOOD__END(hood_csv_options, features), src,
                              what, "hood_csv_options");
}

/* Writes ds into file (opened here from path when NULL): committed when opened here, else
 * finished for the caller (discarded on failure). */
static hood_status save_csv(const hood_dataset *ds, const char *path, hood_output *file,
                            const hood_csv_options *opts)
{
    hood_csv_options given;
    hood_status status = hood__csv_options_read(&given, opts, path);
    csv_writer *w = status == HOOD_OK ? calloc(1, sizeof *w) : NULL;
    char *buf = status == HOOD_OK ? malloc(OUT_CAPACITY) : NULL;
    if (status == HOOD_OK && (w == NULL || buf == NULL))
        status = hood__fail(HOOD_ENOMEM, "%s: out of memory for the CSV writer", path);
    bool borrowed = file != NULL;
    if (status == HOOD_OK && !borrowed)
        status = hood__atomic_open(&file, path);
    if (status == HOOD_OK) {
        w->buf = buf;
        w->path = path;
        w->stream = hood__atomic_stream(file);
        if (w->stream == NULL)
            status = hood__fail(HOOD_EINVAL, "%s: the output was finished before", path);
        if (status == HOOD_OK && given.header)
            status = write_hood_line(w, ds);
        if (status == HOOD_OK && given.header)
            status = write_header(w, hood_dataset_features(ds), hood_dataset_label_mode(ds),
                                  hood_dataset_label_width(ds));
        if (status == HOOD_OK)
            status = write_rows(w, ds);
        if (!borrowed && status == HOOD_OK)
            status = hood__atomic_commit(file);
        else if (!borrowed)
            hood__atomic_abort(file);
        else if (status == HOOD_OK)
            status = hood_output_finish(file);
    }
    if (borrowed && status != HOOD_OK)
        hood__output_discard(file);
    free(buf);
    free(w);
    return status;
}

hood_status hood_dataset_save_csv(const hood_dataset *ds, const char *path,
                                  const hood_csv_options *opts)
{
    hood__clear_error();
    if (ds == NULL || path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_save_csv: dataset or path is NULL");
    return save_csv(ds, path, NULL, opts);
}

hood_status hood__csv_write_to(const hood_dataset *ds, hood_output *file,
                               const hood_csv_options *opts)
{
    return save_csv(ds, hood__output_path(file), file, opts);
}
