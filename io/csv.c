/* csv.c — the seed's CSV rows (x1,...,xd then the label columns) written and read: shortest
 * round-trip floats (bit-exact float32 both ways, locale-independent, no printf/strtod on the
 * hot path), streaming two-pass reader with errors naming file, line and column.
 * Not a general CSV library: no quoting, no other separators.
 *
 * The format, as written: one row per sample, features then labels (INT: the class index as an
 * integer; CATEGORICAL: k columns; BINARY: one 0/1 column; NONE: no label column), '\n' line
 * ends, an optional header "x1,...,xd,y" ("y0,...,yk-1" for CATEGORICAL).
 * As read: '\n' or "\r\n" line ends; blank lines skipped (line numbers in messages still count
 * them); spaces and tabs around a field ignored; a number is [+-]digits[.digits][e[+-]digits]
 * (numpy's and Python's output; no hex, no thousands separators); NaN, Inf and values beyond
 * float32 are errors. The header is skipped only when asked for: a non-numeric first row is not
 * guessed to be a header (a column named "1" would make that ambiguous) but fails with a hint to
 * ask for one. Labels: label_column -1 = the last label_columns columns, -2 or mode NONE = none,
 * i >= 0 = columns i..i+k-1; INT labels must be whole numbers 0..2^24-1, BINARY in [0, 1]; one
 * INT column read as CATEGORICAL is one-hot encoded. */
#include "csv.h"

#include "atomic.h"
#include "dataset.h"
#include "error.h"
#include "input.h"

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
    opts->header = false;
    opts->label_column = -1;
    opts->label_columns = 1;
    opts->label_mode = HOOD_LABELS_INT;
}

hood_status hood_dataset_save_csv(const hood_dataset *ds, const char *path,
                                  const hood_csv_options *opts)
{
    if (ds == NULL || path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_save_csv: dataset or path is NULL");
    hood_csv_options defaults;
    if (opts == NULL) {
        hood_csv_options_init(&defaults);
        opts = &defaults;
    }
    csv_writer *w = calloc(1, sizeof *w);
    char *buf = malloc(OUT_CAPACITY);
    if (w == NULL || buf == NULL) {
        free(w);
        free(buf);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for the CSV writer", path);
    }
    w->buf = buf;
    w->path = path;
    hood__atomic_file *file;
    hood_status status = hood__atomic_open(&file, path);
    if (status == HOOD_OK) {
        w->stream = hood__atomic_stream(file);
        if (opts->header)
            status = write_header(w, hood_dataset_features(ds), hood_dataset_label_mode(ds),
                                  hood_dataset_label_width(ds));
        if (status == HOOD_OK)
            status = write_rows(w, ds);
        if (status == HOOD_OK)
            status = hood__atomic_commit(file);
        else
            hood__atomic_abort(file);
    }
    free(buf);
    free(w);
    return status;
}

/* ---------------------------------------------------------------------------------------------
 * Reading: two passes over the lines (count, then parse straight into the dataset), each
 * streaming through one buffer that grows only to hold the longest line — never quadratic, and
 * peak memory is the dataset plus about two lines.
 * ------------------------------------------------------------------------------------------- */

typedef struct line_reader {
    const char *name;
    FILE *file;      /* NULL: reading mem */
    const char *mem; /* the whole text (memory mode) */
    size_t mem_len;
    char *buf; /* file mode: bytes [start, end) not yet returned */
    size_t capacity, start, end;
    uint64_t size, left; /* file mode: the size fstat gave, and what this pass has not read */
    bool eof;
    size_t line; /* 1-based number of the line last returned */
} line_reader;

static hood_status lines_rewind(line_reader *lr)
{
    lr->start = lr->end = 0;
    lr->eof = false;
    lr->line = 0;
    lr->left = lr->size;
    if (lr->file != NULL && fseek(lr->file, 0, SEEK_SET) != 0)
        return hood__fail(HOOD_EIO, "%s: cannot rewind", lr->name);
    return HOOD_OK;
}

/* The next line without its '\n' (and '\r'); *more is false at the end of the text. */
static hood_status lines_next(line_reader *lr, const char **text, size_t *len, bool *more)
{
    *more = false;
    if (lr->file == NULL) {
        if (lr->start >= lr->mem_len)
            return HOOD_OK;
        const char *p = lr->mem + lr->start;
        const char *nl = memchr(p, '\n', lr->mem_len - lr->start);
        size_t n = nl != NULL ? (size_t)(nl - p) : lr->mem_len - lr->start;
        lr->start += n + (nl != NULL);
        *text = p;
        *len = n;
    } else {
        char *nl;
        for (;;) {
            nl = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);
            if (nl != NULL || lr->eof)
                break;
            /* Keep the partial line; grow when it fills half the buffer, so each refill reads
             * at least half a buffer and the copying stays linear. */
            size_t partial = lr->end - lr->start;
            memmove(lr->buf, lr->buf + lr->start, partial);
            lr->start = 0;
            lr->end = partial;
            if (partial >= HOOD_CSV_LINE_MAX)
                return hood__fail(HOOD_EFORMAT, "%s: line %zu is over %d MiB: not a CSV row",
                                  lr->name, lr->line + 1, HOOD_CSV_LINE_MAX >> 20);
            if (partial > lr->capacity / 2 && lr->capacity < (size_t)HOOD_CSV_LINE_MAX + 2) {
                /* up to the longest line and its "\r\n": the buffer never passes ~1 GiB */
                size_t grown_cap = 2 * lr->capacity;
                if (grown_cap > (size_t)HOOD_CSV_LINE_MAX + 2)
                    grown_cap = (size_t)HOOD_CSV_LINE_MAX + 2;
                char *grown = realloc(lr->buf, grown_cap);
                if (grown == NULL)
                    return hood__fail(HOOD_ENOMEM, "%s: out of memory for line %zu", lr->name,
                                      lr->line + 1);
                lr->buf = grown;
                lr->capacity = grown_cap;
            }
            /* Never past the size fstat gave: a file that grows is read as it was. */
            size_t want = lr->capacity - lr->end;
            if (want > lr->left)
                want = (size_t)lr->left;
            size_t got = want > 0 ? fread(lr->buf + lr->end, 1, want, lr->file) : 0;
            lr->left -= got;
            if (got == 0) {
                if (ferror(lr->file))
                    return hood__fail(HOOD_EIO, "%s: read error", lr->name);
                lr->eof = true;
            }
            lr->end += got;
        }
        if (lr->start >= lr->end)
            return HOOD_OK;
        size_t n = nl != NULL ? (size_t)(nl - (lr->buf + lr->start)) : lr->end - lr->start;
        *text = lr->buf + lr->start;
        *len = n;
        lr->start += n + (nl != NULL);
    }
    if (*len > 0 && (*text)[*len - 1] == '\r')
        (*len)--;
    lr->line++;
    *more = true;
    return HOOD_OK;
}

static bool is_blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t')
            return false;
    return true;
}

static size_t count_fields(const char *text, size_t len)
{
    size_t n = 1;
    for (const char *p = text; (p = memchr(p, ',', len - (size_t)(p - text))) != NULL; p++)
        n++;
    return n;
}

/* A field quoted in a message: at most 40 bytes, non-printing bytes as '?'. */
static void quote_field(const char *text, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < cap && i < 40; i++)
        out[n++] = text[i] >= 32 && text[i] < 127 ? text[i] : '?';
    if (len > 40 && n + 4 < cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

typedef struct csv_layout {
    size_t columns;     /* fields per row */
    size_t label_first; /* first label column */
    size_t label_width; /* label columns (0: none) */
    size_t features;
    size_t rows;
    size_t first_data_line;
    size_t keep_first, keep_rows; /* the rows this worker keeps (all unless sharded) */
    size_t rows_total;
} csv_layout;

/* Pass 1: rows, columns, and where the labels are. */
static hood_status csv_scan(line_reader *lr, const hood_csv_options *opts, csv_layout *lay)
{
    memset(lay, 0, sizeof *lay);
    const char *text = NULL;
    size_t len = 0, header_columns = 0, header_line = 0;
    bool more, header_pending = opts->header;
    hood_status status;
    while ((status = lines_next(lr, &text, &len, &more)) == HOOD_OK && more) {
        if (is_blank(text, len))
            continue;
        if (header_pending) {
            header_pending = false;
            header_columns = count_fields(text, len);
            header_line = lr->line;
            continue;
        }
        if (lay->rows == 0) {
            lay->columns = count_fields(text, len);
            lay->first_data_line = lr->line;
        }
        lay->rows++;
    }
    if (status != HOOD_OK)
        return status;
    if (lay->rows == 0 && header_line == 0)
        return hood__fail(HOOD_EFORMAT, "%s: empty file: no rows", lr->name);
    if (lay->rows == 0)
        return hood__fail(HOOD_EFORMAT,
                          "%s: header-only file: line %zu is the header and no data "
                          "rows follow",
                          lr->name, header_line);
    if (header_line != 0 && header_columns != lay->columns)
        return hood__fail(HOOD_EFORMAT,
                          "%s: line %zu: the header has %zu columns, the data rows "
                          "(line %zu) have %zu",
                          lr->name, header_line, header_columns, lay->first_data_line,
                          lay->columns);
    size_t width =
        opts->label_mode == HOOD_LABELS_NONE || opts->label_column == -2 ? 0 : opts->label_columns;
    if (width == 0 && opts->label_mode != HOOD_LABELS_NONE && opts->label_column != -2)
        return hood__fail(HOOD_EINVAL,
                          "%s: label_columns is 0 (use label_column -2 or label "
                          "mode NONE for no labels)",
                          lr->name);
    if (width > 1 && opts->label_mode != HOOD_LABELS_CATEGORICAL)
        return hood__fail(HOOD_EINVAL, "%s: %zu label columns need the categorical label mode",
                          lr->name, width);
    if (width > 0) {
        if (opts->label_column == -1) {
            if (width >= lay->columns)
                return hood__fail(HOOD_EFORMAT,
                                  "%s: line %zu: %zu columns leave no feature "
                                  "next to %zu label columns",
                                  lr->name, lay->first_data_line, lay->columns, width);
            lay->label_first = lay->columns - width;
        } else if (opts->label_column >= 0) {
            size_t first = (size_t)opts->label_column;
            if (first >= lay->columns || width > lay->columns - first || width >= lay->columns)
                return hood__fail(HOOD_EFORMAT,
                                  "%s: line %zu: label columns %zu..%zu do not fit "
                                  "%zu columns with a feature left",
                                  lr->name, lay->first_data_line, first + 1, first + width,
                                  lay->columns);
            lay->label_first = first;
        } else {
            return hood__fail(HOOD_EINVAL,
                              "%s: label_column %ld (use -1 last, -2 none, or a "
                              "0-based index)",
                              lr->name, opts->label_column);
        }
    }
    lay->label_width = width;
    lay->features = lay->columns - width;
    return HOOD_OK;
}

/* Pass 2: every field into X (column j = row j) or the label block. Every row is parsed, kept
 * or not, so each shard of a sharded read sees the same errors and the same largest label
 * (*top, so every worker counts the same classes); rows outside the shard go to scratch. */
static hood_status csv_fill(line_reader *lr, const hood_csv_options *opts, const csv_layout *lay,
                            float *x, float *y, float *scratch, float *top)
{
    const char *text = NULL;
    size_t len = 0, row = 0;
    bool more, header_pending = opts->header;
    bool whole = opts->label_mode == HOOD_LABELS_INT ||
                 (opts->label_mode == HOOD_LABELS_CATEGORICAL && lay->label_width == 1);
    hood_status status;
    char quoted[64];
    while ((status = lines_next(lr, &text, &len, &more)) == HOOD_OK && more) {
        if (is_blank(text, len))
            continue;
        if (header_pending) {
            header_pending = false;
            continue;
        }
        if (row == lay->rows)
            return hood__fail(HOOD_EIO, "%s: the file changed while it was read", lr->name);
        bool keep = row >= lay->keep_first && row - lay->keep_first < lay->keep_rows;
        float *xrow = keep ? x + (row - lay->keep_first) * lay->features : scratch;
        float *yrow = y == NULL ? NULL
                      : keep    ? y + (row - lay->keep_first) * lay->label_width
                                : scratch + lay->features;
        const char *p = text, *end = text + len;
        size_t col = 0;
        for (;; col++) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma != NULL ? comma : end;
            if (col == lay->columns)
                return hood__fail(HOOD_EFORMAT,
                                  "%s: line %zu: %zu fields, expected %zu (as on "
                                  "line %zu)",
                                  lr->name, lr->line, count_fields(text, len), lay->columns,
                                  lay->first_data_line);
            const char *a = p, *b = stop;
            while (a < b && (*a == ' ' || *a == '\t'))
                a++;
            while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
                b--;
            float v = 0;
            int rc = hood__csv_parse_float(a, (size_t)(b - a), &v);
            if (rc != 0) {
                quote_field(a, (size_t)(b - a), quoted, sizeof quoted);
                const char *why = rc == 2   ? "is NaN; CSV data must be finite"
                                  : rc == 3 ? "is infinite; CSV data must be finite"
                                  : rc == 4 ? "is beyond the float32 range"
                                  : a == b  ? "is empty, expected a number"
                                            : "is not a number";
                return hood__fail(rc == 1 ? HOOD_EFORMAT : HOOD_EDATA,
                                  "%s: line %zu, column %zu: '%s' %s%s", lr->name, lr->line,
                                  col + 1, quoted, why,
                                  rc == 1 && row == 0 && !opts->header
                                      ? " (if the first row is a header, ask for one)"
                                      : "");
            }
            if (col >= lay->label_first && col < lay->label_first + lay->label_width) {
                if (whole && (v < 0 || v != floorf(v) || v >= 16777216.0f)) {
                    quote_field(a, (size_t)(b - a), quoted, sizeof quoted);
                    return hood__fail(HOOD_EDATA,
                                      "%s: line %zu, column %zu: label '%s' is not a "
                                      "class index (a whole number 0..16777215)",
                                      lr->name, lr->line, col + 1, quoted);
                }
                if (opts->label_mode == HOOD_LABELS_BINARY && (v < 0 || v > 1)) {
                    quote_field(a, (size_t)(b - a), quoted, sizeof quoted);
                    return hood__fail(HOOD_EDATA,
                                      "%s: line %zu, column %zu: binary label '%s' "
                                      "is outside [0, 1]",
                                      lr->name, lr->line, col + 1, quoted);
                }
                yrow[col - lay->label_first] = v;
                *top = v > *top ? v : *top;
            } else {
                xrow[col < lay->label_first ? col : col - lay->label_width] = v;
            }
            if (comma == NULL)
                break;
            p = comma + 1;
        }
        if (col + 1 != lay->columns)
            return hood__fail(HOOD_EFORMAT,
                              "%s: line %zu: %zu fields, expected %zu (as on line %zu)", lr->name,
                              lr->line, col + 1, lay->columns, lay->first_data_line);
        row++;
    }
    if (status == HOOD_OK && row != lay->rows)
        return hood__fail(HOOD_EIO, "%s: the file changed while it was read", lr->name);
    return status;
}

static hood_status csv_read(line_reader *lr, const hood_csv_options *opts, hood_dataset **out)
{
    *out = NULL;
    hood_csv_options defaults;
    if (opts == NULL) {
        hood_csv_options_init(&defaults);
        opts = &defaults;
    }
    csv_layout lay;
    hood_status status = csv_scan(lr, opts, &lay);
    if (status != HOOD_OK)
        return status;
    lay.keep_first = 0;
    lay.keep_rows = lay.rows;
    lay.rows_total = lay.rows;
    bool sharded = opts->shard_count > 1;
    if (sharded) {
        if (opts->shard_index >= opts->shard_count)
            return hood__fail(HOOD_EINVAL, "%s: shard index %zu is not below the shard count %zu",
                              lr->name, opts->shard_index, opts->shard_count);
        hood_shard_range(lay.rows, opts->shard_index, opts->shard_count, &lay.keep_first,
                         &lay.keep_rows);
        if (lay.keep_rows == 0)
            return hood__fail(HOOD_EINVAL, "%s: shard %zu of %zu holds none of the %zu rows",
                              lr->name, opts->shard_index, opts->shard_count, lay.rows);
    }
    hood_dataset *ds = NULL;
    float *y = NULL, *scratch = NULL, top = 0;
    size_t y_count = 0;
    if ((status = hood_dataset_create(&ds, lay.features, lay.keep_rows)) != HOOD_OK)
        return status;
    if (lay.label_width > 0 && (hood__mul_overflows(lay.label_width, lay.keep_rows, &y_count) ||
                                (y = malloc(y_count * sizeof *y)) == NULL))
        status = hood__fail(HOOD_ENOMEM, "%s: out of memory for %zu x %zu labels", lr->name,
                            lay.keep_rows, lay.label_width);
    if (status == HOOD_OK && sharded &&
        (scratch = malloc((lay.features + lay.label_width) * sizeof *scratch)) == NULL)
        status = hood__fail(HOOD_ENOMEM, "%s: out of memory", lr->name);
    if (status == HOOD_OK)
        status = lines_rewind(lr);
    if (status == HOOD_OK)
        status = csv_fill(lr, opts, &lay, hood_dataset_x_mutable(ds), y, scratch, &top);
    free(scratch);
    lay.rows = lay.keep_rows; /* from here on: the rows this dataset holds */
    if (status == HOOD_OK && lay.label_width > 0) {
        hood_label_mode mode = opts->label_mode;
        if (mode == HOOD_LABELS_CATEGORICAL && lay.label_width == 1) {
            /* One column of class indices asked for as categorical: one-hot encode them. */
            int32_t *index = malloc(lay.rows * sizeof *index);
            size_t classes = (size_t)top + 1; /* over all rows, so every shard agrees */
            if (classes > HOOD_CSV_MAX_ONE_HOT) {
                /* A few bytes of text must not ask for rows x 16M floats (found by fuzz_csv). */
                status = hood__fail(HOOD_EDATA,
                                    "%s: label %.0f would one-hot encode %zu "
                                    "classes, more than %d; read the labels as INT",
                                    lr->name, (double)top, classes, HOOD_CSV_MAX_ONE_HOT);
            } else if (index == NULL) {
                status = hood__fail(HOOD_ENOMEM, "%s: out of memory", lr->name);
            } else {
                for (size_t j = 0; j < lay.rows; j++)
                    index[j] = (int32_t)y[j];
                status = hood_dataset_set_labels(ds, mode, index, classes);
            }
            free(index); /* every branch: the cap's error branch leaked it (fuzz_csv) */
        } else {
            size_t classes = mode == HOOD_LABELS_BINARY        ? 2
                             : mode == HOOD_LABELS_CATEGORICAL ? lay.label_width
                                                               : (size_t)top + 1;
            status = hood_dataset_set_label_values(ds, mode, y, lay.label_width, classes);
        }
        if (status != HOOD_OK)
            status = hood__fail_prefix(status, "%s: ", lr->name);
    }
    free(y);
    if (status == HOOD_OK && sharded)
        hood__dataset_set_shard(ds, lay.keep_first, lay.rows_total);
    if (status != HOOD_OK) {
        hood_dataset_free(ds);
        return status;
    }
    *out = ds;
    return HOOD_OK;
}

hood_status hood__csv_parse_buffer(const char *bytes, size_t len, const hood_csv_options *opts,
                                   const char *name, hood_dataset **out)
{
    line_reader lr = {.name = name, .mem = bytes, .mem_len = len};
    return csv_read(&lr, opts, out);
}

hood_status hood_dataset_load_csv(const char *path, const hood_csv_options *opts,
                                  hood_dataset **out)
{
    *out = NULL;
    if (path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_load_csv: path is NULL");
    line_reader lr = {.name = path, .capacity = 4 << 20};
    hood_status opened = hood__input_fopen(path, &lr.file, &lr.size);
    if (opened != HOOD_OK)
        return opened;
    lr.left = lr.size;
    lr.buf = malloc(lr.capacity);
    hood_status status = lr.buf != NULL
                             ? csv_read(&lr, opts, out)
                             : hood__fail(HOOD_ENOMEM, "%s: out of memory for the reader", path);
    free(lr.buf);
    fclose(lr.file);
    return status;
}
