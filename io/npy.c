/* npy.c — NumPy .npy arrays and .npz archives (zip of STORED .npy members), read and written by
 * hood's own code: a strict .npy header parser, byte-order and Fortran-order conversion, CRC-32
 * checked on read and written on write, ZIP64 both ways, row ranges of the first axis (a
 * worker's shard) read without the rest of the array. Not a general zip library: deflated
 * members (numpy.savez_compressed) are refused with a clear message; no encryption, no multi-disk.
 * Assumes a little-endian host (checked at compile time). */
#include "npy.h"

#include "atomic.h"
#include "error.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hood's .npy code assumes a little-endian host"
#endif

/* ---------------------------------------------------------------------------------------------
 * CRC-32 (zip's polynomial 0xEDB88320), slicing by 8. The table lives in the reader/writer object
 * (no global state); building it costs ~2k shifts, nothing next to a file open.
 * ------------------------------------------------------------------------------------------- */

typedef struct crc_table {
    uint32_t t[8][256];
} crc_table;

static void crc_init(crc_table *c)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t v = i;
        for (int k = 0; k < 8; k++)
            v = (v & 1) ? (v >> 1) ^ 0xEDB88320u : v >> 1;
        c->t[0][i] = v;
    }
    for (int s = 1; s < 8; s++)
        for (uint32_t i = 0; i < 256; i++)
            c->t[s][i] = (c->t[s - 1][i] >> 8) ^ c->t[0][c->t[s - 1][i] & 0xFF];
}

/* crc is the running value before the final inversion (start with 0xFFFFFFFF). */
static uint32_t crc_update(const crc_table *c, uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n >= 8) {
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
        uint32_t hi =
            (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        crc = c->t[7][lo & 0xFF] ^ c->t[6][(lo >> 8) & 0xFF] ^ c->t[5][(lo >> 16) & 0xFF] ^
              c->t[4][lo >> 24] ^ c->t[3][hi & 0xFF] ^ c->t[2][(hi >> 8) & 0xFF] ^
              c->t[1][(hi >> 16) & 0xFF] ^ c->t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        crc = c->t[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return crc;
}

/* ---------------------------------------------------------------------------------------------
 * Little-endian fields.
 * ------------------------------------------------------------------------------------------- */

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const unsigned char *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}
static unsigned char *put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    return p + 2;
}
static unsigned char *put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}
static unsigned char *put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 8;
}

/* ---------------------------------------------------------------------------------------------
 * A byte source: a file or a caller's buffer (the fuzz targets need no files). Reads are
 * positioned, so the zip directory and the members can be visited in any order.
 * ------------------------------------------------------------------------------------------- */

typedef struct source {
    FILE *file;               /* NULL for a buffer */
    const unsigned char *mem; /* the buffer */
    uint64_t len;             /* total bytes */
} source;

/* Reads n bytes at offset; a short read is a truncated file (EFORMAT naming what). */
static hood_status source_read(const source *s, uint64_t offset, void *buf, size_t n,
                               const char *name, const char *what)
{
    if (offset > s->len || n > s->len - offset)
        return hood__fail(HOOD_EFORMAT,
                          "%s: truncated: %s needs %zu bytes at offset %llu, the "
                          "file has %llu",
                          name, what, n, (unsigned long long)offset, (unsigned long long)s->len);
    if (n == 0)
        return HOOD_OK;
    if (s->file == NULL) {
        memcpy(buf, s->mem + offset, n);
        return HOOD_OK;
    }
    if (offset > (uint64_t)LLONG_MAX || fseeko(s->file, (off_t)offset, SEEK_SET) != 0 ||
        fread(buf, 1, n, s->file) != n)
        return hood__fail(HOOD_EIO, "%s: read error (%s)", name, what);
    return HOOD_OK;
}

static hood_status source_open_file(source *s, const char *path)
{
    memset(s, 0, sizeof *s);
    s->file = fopen(path, "rb");
    if (s->file == NULL)
        return hood__fail(HOOD_EIO, "%s: cannot open for reading", path);
    off_t end;
    if (fseeko(s->file, 0, SEEK_END) != 0 || (end = ftello(s->file)) < 0) {
        fclose(s->file);
        s->file = NULL;
        return hood__fail(HOOD_EIO, "%s: cannot determine the file size", path);
    }
    s->len = (uint64_t)end;
    return HOOD_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Arrays.
 * ------------------------------------------------------------------------------------------- */

void hood__array_release(hood__array *array)
{
    if (array == NULL)
        return;
    free(array->data);
    array->data = NULL;
}

size_t hood__array_count(const hood__array *array)
{
    size_t count = 1;
    for (size_t k = 0; k < array->ndim; k++)
        count *= array->shape[k]; /* checked against overflow when the array was made */
    return count;
}

hood_status hood__element_to_f32(hood__dtype dtype, const void *data, size_t i, const char *what,
                                 size_t index, float *out)
{
    double v = 0;
    int64_t iv = 0;
    switch (dtype) {
    case HOOD_DTYPE_F32:
        memcpy(out, (const float *)data + i, sizeof(float));
        return HOOD_OK;
    case HOOD_DTYPE_F64:
        memcpy(&v, (const double *)data + i, sizeof v);
        if (isfinite(v) && fabs(v) > (double)3.4028234663852886e38)
            return hood__fail(HOOD_EDATA, "%s: element %zu is %g, outside the float32 range", what,
                              index, v);
        *out = (float)v;
        return HOOD_OK;
    case HOOD_DTYPE_I32: {
        int32_t x;
        memcpy(&x, (const int32_t *)data + i, sizeof x);
        iv = x;
        break;
    }
    case HOOD_DTYPE_I64:
        memcpy(&iv, (const int64_t *)data + i, sizeof iv);
        break;
    case HOOD_DTYPE_U8:
        iv = ((const unsigned char *)data)[i];
        break;
    case HOOD_DTYPE_UNICODE:
        return hood__fail(HOOD_EFORMAT, "%s: is a string array, expected numbers", what);
    }
    /* An integer float32 cannot hold exactly (|v| > 2^24, odd) would silently change. */
    float f = (float)iv;
    if (iv < -(INT64_C(1) << 40) || iv > (INT64_C(1) << 40) || (int64_t)f != iv)
        return hood__fail(HOOD_EDATA, "%s: element %zu is %lld, which float32 cannot hold exactly",
                          what, index, (long long)iv);
    *out = f;
    return HOOD_OK;
}

hood_status hood__array_to_f32(const hood__array *array, const char *what, float **out)
{
    *out = NULL;
    if (array->dtype == HOOD_DTYPE_UNICODE)
        return hood__fail(HOOD_EFORMAT, "%s: is a string array, expected numbers", what);
    size_t count = hood__array_count(array);
    float *values = malloc(count > 0 ? count * sizeof(float) : 1);
    if (values == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for %zu floats", what, count);
    for (size_t i = 0; i < count; i++) {
        hood_status status =
            hood__element_to_f32(array->dtype, array->data, i, what, i, &values[i]);
        if (status != HOOD_OK) {
            free(values);
            return status;
        }
    }
    *out = values;
    return HOOD_OK;
}

/* ---------------------------------------------------------------------------------------------
 * The .npy header: magic, version, length, then a Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * parsed strictly: exactly these three keys, each once; nothing but spaces after the '}'.
 * ------------------------------------------------------------------------------------------- */

typedef struct npy_header {
    hood__dtype dtype;
    size_t item_size;
    bool swap; /* big-endian data: swap each element (each code point for strings) */
    bool fortran_order;
    size_t ndim;
    size_t shape[HOOD_NPY_MAX_DIMS];
    size_t count;
    size_t data_bytes;
    size_t prefix_bytes; /* magic + version + length + dict: where the data starts */
} npy_header;

/* The array's description from its header (dtype, shape, item size); the data is the caller's. */
static void describe_array(const npy_header *h, hood__array *out)
{
    out->dtype = h->dtype;
    out->ndim = h->ndim;
    memcpy(out->shape, h->shape, sizeof h->shape);
    out->item_size = h->item_size;
}

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

typedef struct cursor {
    const char *p, *end;
} cursor;

static void skip_spaces(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool take(cursor *c, char ch)
{
    skip_spaces(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A quoted Python string without escapes into buf; false if malformed or too long. */
static bool take_string(cursor *c, char *buf, size_t cap)
{
    skip_spaces(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return false;
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\' || n + 1 >= cap)
            return false;
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return false;
    c->p++;
    buf[n] = '\0';
    return true;
}

static bool take_word(cursor *c, const char *word)
{
    skip_spaces(c);
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return false;
    c->p += n;
    return true;
}

static hood_status parse_descr(const char *descr, const char *name, npy_header *h)
{
    char order = descr[0];
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return hood__fail(HOOD_EFORMAT, "%s: unsupported dtype '%s' (expected e.g. '<f4')", name,
                          descr);
    const char *t = descr + 1;
    if (t[0] == 'U' && t[1] >= '1' && t[1] <= '9') {
        size_t n = 0;
        for (const char *q = t + 1; *q != '\0'; q++) {
            if (*q < '0' || *q > '9' || n > ((size_t)-1 / 4 - 9) / 10)
                return hood__fail(HOOD_EFORMAT, "%s: bad string dtype '%s'", name, descr);
            n = n * 10 + (size_t)(*q - '0');
        }
        if (order == '|')
            return hood__fail(HOOD_EFORMAT, "%s: bad string dtype '%s'", name, descr);
        h->dtype = HOOD_DTYPE_UNICODE;
        h->item_size = 4 * n;
        h->swap = order == '>';
        return HOOD_OK;
    }
    static const struct {
        const char *code;
        hood__dtype dtype;
        size_t size;
    } known[] = {{"f4", HOOD_DTYPE_F32, 4}, {"f8", HOOD_DTYPE_F64, 8}, {"i4", HOOD_DTYPE_I32, 4},
                 {"i8", HOOD_DTYPE_I64, 8}, {"u1", HOOD_DTYPE_U8, 1},  {"b1", HOOD_DTYPE_U8, 1}};
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        if (strcmp(t, known[k].code) != 0)
            continue;
        if (order == '|' && known[k].size != 1)
            return hood__fail(HOOD_EFORMAT, "%s: bad dtype '%s'", name, descr);
        h->dtype = known[k].dtype;
        h->item_size = known[k].size;
        h->swap = order == '>' && known[k].size > 1;
        return HOOD_OK;
    }
    return hood__fail(HOOD_EFORMAT,
                      "%s: unsupported dtype '%s' (hood reads float32/64, int32/64, uint8, bool "
                      "and unicode arrays)",
                      name, descr);
}

static hood_status parse_shape(cursor *c, const char *name, npy_header *h)
{
    if (!take(c, '('))
        return hood__fail(HOOD_EFORMAT, "%s: header: 'shape' is not a tuple", name);
    h->ndim = 0;
    bool comma_after_last = false;
    for (;;) {
        skip_spaces(c);
        if (take(c, ')'))
            break;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return hood__fail(HOOD_EFORMAT, "%s: header: bad 'shape' tuple", name);
        if (h->ndim == HOOD_NPY_MAX_DIMS)
            return hood__fail(HOOD_EFORMAT, "%s: more than %d dimensions", name, HOOD_NPY_MAX_DIMS);
        size_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            size_t digit = (size_t)(*c->p - '0');
            if (v > ((size_t)-1 - digit) / 10)
                return hood__fail(HOOD_EFORMAT, "%s: header: a dimension overflows", name);
            v = v * 10 + digit;
            c->p++;
        }
        h->shape[h->ndim++] = v;
        comma_after_last = take(c, ',');
        if (!comma_after_last) {
            if (!take(c, ')'))
                return hood__fail(HOOD_EFORMAT, "%s: header: bad 'shape' tuple", name);
            break;
        }
    }
    /* Python: "(5)" is the integer 5, not a tuple; numpy always writes "(5,)". */
    if (h->ndim == 1 && !comma_after_last)
        return hood__fail(HOOD_EFORMAT, "%s: header: 'shape' (n) is not a tuple", name);
    return HOOD_OK;
}

/* Parses the dict text (len bytes) into h. */
static hood_status parse_dict(const char *text, size_t len, const char *name, npy_header *h)
{
    cursor c = {text, text + len};
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    if (!take(&c, '{'))
        return hood__fail(HOOD_EFORMAT, "%s: header is not a dict", name);
    for (;;) {
        if (take(&c, '}'))
            break;
        char key[32];
        if (!take_string(&c, key, sizeof key) || !take(&c, ':'))
            return hood__fail(HOOD_EFORMAT, "%s: header: malformed dict", name);
        hood_status status = HOOD_OK;
        if (strcmp(key, "descr") == 0 && !seen_descr) {
            char descr[32];
            skip_spaces(&c);
            if (c.p < c.end && *c.p == '[')
                return hood__fail(HOOD_EFORMAT, "%s: structured dtypes are not supported", name);
            if (!take_string(&c, descr, sizeof descr))
                return hood__fail(HOOD_EFORMAT, "%s: header: bad 'descr'", name);
            status = parse_descr(descr, name, h);
            seen_descr = true;
        } else if (strcmp(key, "fortran_order") == 0 && !seen_fortran) {
            if (take_word(&c, "True"))
                h->fortran_order = true;
            else if (take_word(&c, "False"))
                h->fortran_order = false;
            else
                return hood__fail(HOOD_EFORMAT, "%s: header: 'fortran_order' is not True/False",
                                  name);
            seen_fortran = true;
        } else if (strcmp(key, "shape") == 0 && !seen_shape) {
            status = parse_shape(&c, name, h);
            seen_shape = true;
        } else {
            return hood__fail(HOOD_EFORMAT, "%s: header: unexpected or repeated key '%s'", name,
                              key);
        }
        if (status != HOOD_OK)
            return status;
        if (!take(&c, ',')) {
            if (!take(&c, '}'))
                return hood__fail(HOOD_EFORMAT, "%s: header: malformed dict", name);
            break;
        }
    }
    skip_spaces(&c);
    if (c.p != c.end)
        return hood__fail(HOOD_EFORMAT, "%s: header: unexpected text after the dict", name);
    if (!seen_descr || !seen_fortran || !seen_shape)
        return hood__fail(HOOD_EFORMAT, "%s: header lacks '%s'", name,
                          !seen_descr     ? "descr"
                          : !seen_fortran ? "fortran_order"
                                          : "shape");
    size_t count = 1;
    for (size_t k = 0; k < h->ndim; k++)
        if (hood__mul_overflows(count, h->shape[k], &count))
            return hood__fail(HOOD_EFORMAT, "%s: shape is too large", name);
    if (hood__mul_overflows(count, h->item_size, &h->data_bytes))
        return hood__fail(HOOD_EFORMAT, "%s: shape is too large", name);
    h->count = count;
    return HOOD_OK;
}

/* Reads and parses the header at `base` of src; crc (may be NULL) is updated over its bytes. */
static hood_status npy_read_header(const source *src, uint64_t base, uint64_t len, const char *name,
                                   const crc_table *table, uint32_t *crc, npy_header *h)
{
    memset(h, 0, sizeof *h);
    unsigned char pre[12];
    if (len < 10)
        return hood__fail(HOOD_EFORMAT, "%s: not a .npy file (%llu bytes)", name,
                          (unsigned long long)len);
    hood_status status = source_read(src, base, pre, 10, name, ".npy header");
    if (status != HOOD_OK)
        return status;
    if (memcmp(pre, npy_magic, 6) != 0)
        return hood__fail(HOOD_EFORMAT, "%s: not a .npy file (bad magic)", name);
    unsigned major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return hood__fail(HOOD_EFORMAT, "%s: unsupported .npy version %u.%u", name, major, minor);
    size_t fixed = major == 1 ? 10 : 12;
    if (fixed > len)
        return hood__fail(HOOD_EFORMAT, "%s: truncated .npy header", name);
    if (major > 1 &&
        (status = source_read(src, base + 10, pre + 10, 2, name, ".npy header")) != HOOD_OK)
        return status;
    size_t dict_len = major == 1 ? get16(pre + 8) : get32(pre + 8);
    if (dict_len > len - fixed)
        return hood__fail(HOOD_EFORMAT, "%s: truncated .npy header (%zu bytes announced)", name,
                          dict_len);
    char *dict = malloc(dict_len + 1);
    if (dict == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for the header", name);
    status = source_read(src, base + fixed, dict, dict_len, name, ".npy header");
    if (status == HOOD_OK) {
        dict[dict_len] = '\0';
        if (memchr(dict, '\0', dict_len) != NULL)
            status = hood__fail(HOOD_EFORMAT, "%s: header contains a NUL byte", name);
        else
            status = parse_dict(dict, dict_len, name, h);
    }
    if (status == HOOD_OK && table != NULL) {
        *crc = crc_update(table, *crc, pre, fixed);
        *crc = crc_update(table, *crc, dict, dict_len);
    }
    free(dict);
    h->prefix_bytes = fixed + dict_len;
    return status;
}

static void swap_elements(unsigned char *data, size_t bytes, size_t unit)
{
    for (size_t i = 0; i + unit <= bytes; i += unit)
        for (size_t a = 0, b = unit - 1; a < b; a++, b--) {
            unsigned char t = data[i + a];
            data[i + a] = data[i + b];
            data[i + b] = t;
        }
}

/* Fortran order -> C order: walks the destination in C order with a multi-index, keeping the
 * matching Fortran offset incrementally (no division per element). */
static hood_status fortran_to_c(npy_header *h, unsigned char **data, const char *name)
{
    if (h->ndim < 2 || h->count == 0)
        return HOOD_OK;
    unsigned char *dst = malloc(h->data_bytes);
    if (dst == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory to reorder a Fortran-order array", name);
    size_t stride[HOOD_NPY_MAX_DIMS], index[HOOD_NPY_MAX_DIMS] = {0};
    stride[0] = h->item_size;
    for (size_t k = 1; k < h->ndim; k++)
        stride[k] = stride[k - 1] * h->shape[k - 1];
    size_t src_off = 0;
    for (size_t i = 0; i < h->count; i++) {
        memcpy(dst + i * h->item_size, *data + src_off, h->item_size);
        for (size_t k = h->ndim; k-- > 0;) {
            if (++index[k] < h->shape[k]) {
                src_off += stride[k];
                break;
            }
            index[k] = 0;
            src_off -= stride[k] * (h->shape[k] - 1);
        }
    }
    free(*data);
    *data = dst;
    return HOOD_OK;
}

/* The data after the header fills the rest of the len bytes exactly. */
static hood_status npy_check_data_size(const npy_header *h, uint64_t len, const char *name)
{
    uint64_t available = len - h->prefix_bytes;
    if (available < h->data_bytes)
        return hood__fail(HOOD_EFORMAT,
                          "%s: truncated: the shape needs %zu data bytes, the file has %llu", name,
                          h->data_bytes, (unsigned long long)available);
    if (available > h->data_bytes)
        return hood__fail(HOOD_EFORMAT, "%s: %llu unexpected bytes after the data", name,
                          (unsigned long long)(available - h->data_bytes));
    return HOOD_OK;
}

/* One .npy of exactly len bytes at base of src. crc (may be NULL) receives the CRC-32 of all of
 * its bytes, for the .npz caller to compare. */
static hood_status npy_read_from(const source *src, uint64_t base, uint64_t len, const char *name,
                                 const crc_table *table, uint32_t *crc, hood__array *out)
{
    memset(out, 0, sizeof *out);
    npy_header h;
    uint32_t running = 0xFFFFFFFFu;
    hood_status status = npy_read_header(src, base, len, name, table, &running, &h);
    if (status == HOOD_OK)
        status = npy_check_data_size(&h, len, name);
    if (status != HOOD_OK)
        return status;
    unsigned char *data = malloc(h.data_bytes > 0 ? h.data_bytes : 1);
    if (data == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for %zu bytes", name, h.data_bytes);
    status = source_read(src, base + h.prefix_bytes, data, h.data_bytes, name, "array data");
    if (status == HOOD_OK && table != NULL)
        running = crc_update(table, running, data, h.data_bytes);
    if (status == HOOD_OK && h.swap)
        swap_elements(data, h.data_bytes, h.dtype == HOOD_DTYPE_UNICODE ? 4 : h.item_size);
    if (status == HOOD_OK && h.fortran_order)
        status = fortran_to_c(&h, &data, name);
    if (status != HOOD_OK) {
        free(data);
        return status;
    }
    describe_array(&h, out);
    out->data = data;
    if (crc != NULL)
        *crc = running ^ 0xFFFFFFFFu;
    return HOOD_OK;
}

hood_status hood__npy_read(const char *path, hood__array *out)
{
    memset(out, 0, sizeof *out);
    source src;
    hood_status status = source_open_file(&src, path);
    if (status != HOOD_OK)
        return status;
    status = npy_read_from(&src, 0, src.len, path, NULL, NULL, out);
    fclose(src.file);
    return status;
}

hood_status hood__npy_parse_buffer(const void *bytes, size_t len, const char *name,
                                   hood__array *out)
{
    source src = {NULL, bytes, len};
    return npy_read_from(&src, 0, len, name, NULL, NULL, out);
}

/* ---------------------------------------------------------------------------------------------
 * Row ranges: rows [first, first + count) of the first axis (a worker's shard) without the rest
 * of the array ever in memory. A .npy is read at those rows only (C order: one read; Fortran
 * order: one read per column). An .npz member is streamed whole through one fixed buffer, its
 * CRC-32 computed over every byte as hood__npz_reader_get does, and only the rows are kept:
 * a partial read could not check the CRC, and streaming costs reading, not memory.
 * ------------------------------------------------------------------------------------------- */

enum { ROWS_CHUNK_BYTES = 1 << 20 };

/* Where the rows go: the header's geometry and the caller's C-order destination. */
typedef struct row_plan {
    const npy_header *h;
    size_t n, first, count;
    size_t row_items;                   /* elements per row: shape[1] x ... */
    size_t c_stride[HOOD_NPY_MAX_DIMS]; /* C-order element stride of dims 1.. within a row */
    bool fortran;                       /* Fortran order with 2+ dimensions */
    unsigned char *dst;
} row_plan;

/* Within a row, the C-order position of Fortran column k (k counts dims 1.., dim 1 fastest). */
static size_t fortran_column_to_c(const row_plan *p, size_t k)
{
    size_t pos = 0;
    for (size_t m = 1; m < p->h->ndim; m++) {
        pos += (k % p->h->shape[m]) * p->c_stride[m];
        k /= p->h->shape[m];
    }
    return pos;
}

/* Elements [e0, e0 + elems) of the file's data (file order) are in buf: copy the wanted ones
 * to their C-order places in dst. */
static void rows_scatter(const row_plan *p, size_t e0, const unsigned char *buf, size_t elems)
{
    size_t item = p->h->item_size, end = e0 + elems;
    if (!p->fortran) {
        size_t lo = p->first * p->row_items, hi = lo + p->count * p->row_items;
        size_t a = e0 > lo ? e0 : lo, b = end < hi ? end : hi;
        if (a < b)
            memcpy(p->dst + (a - lo) * item, buf + (a - e0) * item, (b - a) * item);
        return;
    }
    /* Fortran order: element e is row e % n of column e / n. */
    for (size_t e = e0; e < end;) {
        size_t k = e / p->n, j = e % p->n;
        size_t col_end = (k + 1) * p->n < end ? (k + 1) * p->n : end;
        size_t a = j > p->first ? j : p->first;
        size_t b =
            j + (col_end - e) < p->first + p->count ? j + (col_end - e) : p->first + p->count;
        if (a < b) {
            size_t pos = fortran_column_to_c(p, k);
            for (size_t r = a; r < b; r++)
                memcpy(p->dst + ((r - p->first) * p->row_items + pos) * item,
                       buf + (e - e0 + (r - j)) * item, item);
        }
        e = col_end;
    }
}

/* How a stream of the whole data treats each chunk besides keeping the rows. */
typedef struct rows_pass {
    const crc_table *table; /* not NULL: the CRC-32 of every byte into *crc */
    uint32_t *crc;
    size_t swap_unit; /* not 0: swap each chunk to native order (before scatter and visit) */
    hood__npy_visit_fn visit;
    void *user;
} rows_pass;

/* Reads elements [e0, e0 + elems) of the data at `data` through buf (cap elements) into their
 * places, doing what pass says with each chunk (pass may be NULL). */
static hood_status rows_stream(const source *src, uint64_t data, const row_plan *p, size_t e0,
                               size_t elems, unsigned char *buf, size_t cap, const char *name,
                               const rows_pass *pass)
{
    size_t item = p->h->item_size;
    while (elems > 0) {
        size_t take = elems < cap ? elems : cap;
        hood_status status =
            source_read(src, data + (uint64_t)e0 * item, buf, take * item, name, "array data");
        if (status != HOOD_OK)
            return status;
        if (pass != NULL && pass->table != NULL)
            *pass->crc = crc_update(pass->table, *pass->crc, buf, take * item);
        if (pass != NULL && pass->swap_unit > 0)
            swap_elements(buf, take * item, pass->swap_unit);
        rows_scatter(p, e0, buf, take);
        if (pass != NULL && pass->visit != NULL)
            pass->visit(pass->user, buf, e0, take);
        e0 += take;
        elems -= take;
    }
    return HOOD_OK;
}

/* Rows [first, first + count) of the .npy of len bytes at base of src into dst (dst_bytes must
 * be exactly their size). table not NULL: stream every byte and give the CRC-32 in *crc. visit
 * not NULL: stream every element (native order) through it too. */
static hood_status npy_read_rows_from(const source *src, uint64_t base, uint64_t len,
                                      const char *name, const crc_table *table, uint32_t *crc,
                                      size_t first, size_t count, void *dst, size_t dst_bytes,
                                      hood__npy_visit_fn visit, void *user)
{
    npy_header h;
    uint32_t running = 0xFFFFFFFFu;
    hood_status status = npy_read_header(src, base, len, name, table, &running, &h);
    if (status == HOOD_OK)
        status = npy_check_data_size(&h, len, name);
    if (status != HOOD_OK)
        return status;
    if (h.ndim == 0)
        return hood__fail(HOOD_ESHAPE, "%s: a 0-d array has no rows", name);
    row_plan p = {.h = &h,
                  .n = h.shape[0],
                  .first = first,
                  .count = count,
                  .row_items = 1,
                  .fortran = h.fortran_order && h.ndim >= 2,
                  .dst = dst};
    for (size_t m = h.ndim; m-- > 1;) {
        p.c_stride[m] = p.row_items;
        if (hood__mul_overflows(p.row_items, h.shape[m], &p.row_items))
            return hood__fail(HOOD_EFORMAT, "%s: shape is too large", name);
    }
    size_t row_bytes, want;
    if (hood__mul_overflows(p.row_items, h.item_size, &row_bytes) ||
        hood__mul_overflows(row_bytes, count, &want))
        return hood__fail(HOOD_EFORMAT, "%s: shape is too large", name);
    if (first > p.n || count > p.n - first)
        return hood__fail(HOOD_EINVAL, "%s: rows [%zu, %zu) asked of an array of %zu rows", name,
                          first, first + count, p.n);
    if (want != dst_bytes || (want > 0 && dst == NULL))
        return hood__fail(HOOD_EINVAL, "%s: %zu rows are %zu bytes, the buffer holds %zu", name,
                          count, want, dst_bytes);
    uint64_t data = base + h.prefix_bytes;
    size_t unit = h.dtype == HOOD_DTYPE_UNICODE ? 4 : h.item_size;
    bool whole = table != NULL || visit != NULL; /* every byte passes through the buffer */
    if (!whole && !p.fortran) {
        status =
            source_read(src, data + (uint64_t)first * row_bytes, dst, want, name, "array rows");
    } else if (h.count > 0) {
        size_t cap = ROWS_CHUNK_BYTES / h.item_size > 0 ? ROWS_CHUNK_BYTES / h.item_size : 1;
        size_t needed = whole ? h.count : count;
        cap = cap < needed ? cap : needed;
        unsigned char *buf = malloc(cap > 0 ? cap * h.item_size : 1);
        if (buf == NULL)
            return hood__fail(HOOD_ENOMEM, "%s: out of memory for a read buffer", name);
        rows_pass pass = {table, &running, h.swap ? unit : 0, visit, user};
        if (whole) /* the CRC-32 (and visit) see every byte; chunks swapped as they come */
            status = rows_stream(src, data, &p, 0, h.count, buf, cap, name, &pass);
        else /* Fortran order: each column's rows */
            for (size_t k = 0; k < p.row_items && status == HOOD_OK; k++)
                status = rows_stream(src, data, &p, k * p.n + first, count, buf, cap, name, NULL);
        free(buf);
    }
    if (status != HOOD_OK)
        return status;
    if (h.swap && !(whole && h.count > 0))
        swap_elements(dst, want, unit);
    if (crc != NULL)
        *crc = running ^ 0xFFFFFFFFu;
    return HOOD_OK;
}

/* The header of the .npy of len bytes at base of src, as an array without data. */
static hood_status npy_peek_from(const source *src, uint64_t base, uint64_t len, const char *name,
                                 hood__array *out)
{
    memset(out, 0, sizeof *out);
    npy_header h;
    hood_status status = npy_read_header(src, base, len, name, NULL, NULL, &h);
    if (status == HOOD_OK)
        status = npy_check_data_size(&h, len, name);
    if (status != HOOD_OK)
        return status;
    describe_array(&h, out);
    out->fortran_order = h.fortran_order;
    return HOOD_OK;
}

hood_status hood__npy_peek(const char *path, hood__array *out)
{
    memset(out, 0, sizeof *out);
    source src;
    hood_status status = source_open_file(&src, path);
    if (status != HOOD_OK)
        return status;
    status = npy_peek_from(&src, 0, src.len, path, out);
    fclose(src.file);
    return status;
}

hood_status hood__npy_read_rows(const char *path, size_t first, size_t count, void *dst,
                                size_t dst_bytes)
{
    source src;
    hood_status status = source_open_file(&src, path);
    if (status != HOOD_OK)
        return status;
    status = npy_read_rows_from(&src, 0, src.len, path, NULL, NULL, first, count, dst, dst_bytes,
                                NULL, NULL);
    fclose(src.file);
    return status;
}

/* ---------------------------------------------------------------------------------------------
 * Writing a .npy: header padded so the data starts on a 64-byte boundary, as numpy does.
 * ------------------------------------------------------------------------------------------- */

typedef struct npy_prefix {
    unsigned char *bytes; /* malloc'd */
    size_t len;
    size_t data_bytes;
} npy_prefix;

static hood_status npy_make_prefix(const char *name, hood__dtype dtype, const size_t *shape,
                                   size_t ndim, size_t item_size, npy_prefix *out)
{
    memset(out, 0, sizeof *out);
    char descr[32];
    size_t want = 0;
    switch (dtype) {
    case HOOD_DTYPE_F32:
        strcpy(descr, "<f4");
        want = 4;
        break;
    case HOOD_DTYPE_F64:
        strcpy(descr, "<f8");
        want = 8;
        break;
    case HOOD_DTYPE_I32:
        strcpy(descr, "<i4");
        want = 4;
        break;
    case HOOD_DTYPE_I64:
        strcpy(descr, "<i8");
        want = 8;
        break;
    case HOOD_DTYPE_U8:
        strcpy(descr, "|u1");
        want = 1;
        break;
    case HOOD_DTYPE_UNICODE:
        if (item_size == 0 || item_size % 4 != 0)
            return hood__fail(HOOD_EINVAL,
                              "%s: string item size %zu is not a positive multiple "
                              "of 4",
                              name, item_size);
        snprintf(descr, sizeof descr, "<U%zu", item_size / 4);
        want = item_size;
        break;
    default:
        return hood__fail(HOOD_EINVAL, "%s: unknown dtype %d", name, (int)dtype);
    }
    if (item_size != want)
        return hood__fail(HOOD_EINVAL, "%s: item size %zu does not match dtype %s", name, item_size,
                          descr);
    if (ndim > HOOD_NPY_MAX_DIMS || (ndim > 0 && shape == NULL))
        return hood__fail(HOOD_EINVAL, "%s: bad shape (%zu dimensions)", name, ndim);
    size_t count = 1;
    for (size_t k = 0; k < ndim; k++)
        if (hood__mul_overflows(count, shape[k], &count))
            return hood__fail(HOOD_EINVAL, "%s: shape is too large", name);
    if (hood__mul_overflows(count, item_size, &out->data_bytes))
        return hood__fail(HOOD_EINVAL, "%s: shape is too large", name);

    /* 8 dims x 20 digits + punctuation fits easily. */
    char dict[320];
    int n =
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (size_t k = 0; k < ndim; k++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%zu", k > 0 ? ", " : "", shape[k]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    size_t dict_len = (size_t)n;
    /* Version 1 (16-bit length) always suffices here; the total is padded to 64 with spaces and
     * ends with '\n'. */
    size_t total = 10 + dict_len + 1;
    total = (total + 63) / 64 * 64;
    out->bytes = malloc(total);
    if (out->bytes == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", name);
    memcpy(out->bytes, npy_magic, 6);
    out->bytes[6] = 1;
    out->bytes[7] = 0;
    put16(out->bytes + 8, (uint16_t)(total - 10));
    memcpy(out->bytes + 10, dict, dict_len);
    memset(out->bytes + 10 + dict_len, ' ', total - 10 - dict_len - 1);
    out->bytes[total - 1] = '\n';
    out->len = total;
    return HOOD_OK;
}

static hood_status write_all(FILE *f, const void *data, size_t n, const char *path)
{
    if (n > 0 && fwrite(data, 1, n, f) != n)
        return hood__fail(HOOD_EIO, "%s: write failed", path);
    return HOOD_OK;
}

hood_status hood__npy_write(const char *path, hood__dtype dtype, const size_t *shape, size_t ndim,
                            size_t item_size, const void *data)
{
    npy_prefix prefix;
    hood_status status = npy_make_prefix(path, dtype, shape, ndim, item_size, &prefix);
    if (status != HOOD_OK)
        return status;
    if (data == NULL && prefix.data_bytes > 0) {
        free(prefix.bytes);
        return hood__fail(HOOD_EINVAL, "%s: data is NULL", path);
    }
    hood__atomic_file *file;
    status = hood__atomic_open(&file, path);
    if (status == HOOD_OK) {
        FILE *f = hood__atomic_stream(file);
        status = write_all(f, prefix.bytes, prefix.len, path);
        if (status == HOOD_OK)
            status = write_all(f, data, prefix.data_bytes, path);
        if (status == HOOD_OK)
            status = hood__atomic_commit(file);
        else
            hood__atomic_abort(file);
    }
    free(prefix.bytes);
    return status;
}

/* ---------------------------------------------------------------------------------------------
 * .npz writing: each member is a local header, the .npy bytes and nothing else (the CRC is
 * computed over the data first, so no data descriptor is needed); then the central directory.
 * ZIP64 fields appear only when a size or offset needs them (or when forced, for tests).
 * ------------------------------------------------------------------------------------------- */

enum {
    ZIP_LOCAL_SIG = 0x04034b50,
    ZIP_CENTRAL_SIG = 0x02014b50,
    ZIP_END_SIG = 0x06054b50,
    ZIP64_END_SIG = 0x06064b50,
    ZIP64_LOCATOR_SIG = 0x07064b50,
    ZIP_DOS_DATE = 0x0021, /* 1980-01-01: fixed, so the same data gives the same bytes */
};

typedef struct npz_entry {
    char *name; /* with ".npy" */
    uint32_t crc;
    uint64_t size;
    uint64_t offset;
} npz_entry;

struct hood__npz_writer {
    hood__atomic_file *file;
    FILE *stream;
    char *path;
    uint64_t offset; /* bytes written so far */
    npz_entry *entries;
    size_t count, capacity;
    bool force_zip64;
    crc_table crc;
};

hood_status hood__npz_writer_open(hood__npz_writer **out, const char *path)
{
    *out = NULL;
    hood__npz_writer *w = calloc(1, sizeof *w);
    if (w == NULL || (w->path = strdup(path != NULL ? path : "")) == NULL) {
        free(w);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path != NULL ? path : "");
    }
    hood_status status = hood__atomic_open(&w->file, path);
    if (status != HOOD_OK) {
        free(w->path);
        free(w);
        return status;
    }
    w->stream = hood__atomic_stream(w->file);
    crc_init(&w->crc);
    *out = w;
    return HOOD_OK;
}

void hood__npz_writer_force_zip64(hood__npz_writer *w)
{
    w->force_zip64 = true;
}

static hood_status npz_write(hood__npz_writer *w, const void *data, size_t n)
{
    hood_status status = write_all(w->stream, data, n, w->path);
    if (status == HOOD_OK)
        w->offset += n;
    return status;
}

hood_status hood__npz_writer_add(hood__npz_writer *w, const char *name, hood__dtype dtype,
                                 const size_t *shape, size_t ndim, size_t item_size,
                                 const void *data)
{
    size_t name_len = name != NULL ? strlen(name) : 0;
    if (name_len == 0 || name_len > 1000 || strchr(name, '/') != NULL)
        return hood__fail(HOOD_EINVAL, "%s: bad member name", w->path);
    for (size_t i = 0; i < w->count; i++)
        if (strncmp(w->entries[i].name, name, name_len) == 0 &&
            strcmp(w->entries[i].name + name_len, ".npy") == 0)
            return hood__fail(HOOD_EINVAL, "%s: member '%s' added twice", w->path, name);
    if (w->count == w->capacity) {
        size_t capacity = w->capacity > 0 ? 2 * w->capacity : 8;
        npz_entry *grown = realloc(w->entries, capacity * sizeof *grown);
        if (grown == NULL)
            return hood__fail(HOOD_ENOMEM, "%s: out of memory", w->path);
        w->entries = grown;
        w->capacity = capacity;
    }
    npy_prefix prefix;
    hood_status status = npy_make_prefix(w->path, dtype, shape, ndim, item_size, &prefix);
    if (status != HOOD_OK)
        return status;
    if (data == NULL && prefix.data_bytes > 0) {
        free(prefix.bytes);
        return hood__fail(HOOD_EINVAL, "%s: data of '%s' is NULL", w->path, name);
    }
    npz_entry *e = &w->entries[w->count];
    e->name = malloc(name_len + 5);
    if (e->name == NULL) {
        free(prefix.bytes);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", w->path);
    }
    memcpy(e->name, name, name_len);
    memcpy(e->name + name_len, ".npy", 5);
    w->count++;
    e->size = (uint64_t)prefix.len + prefix.data_bytes;
    e->offset = w->offset;
    uint32_t crc = crc_update(&w->crc, 0xFFFFFFFFu, prefix.bytes, prefix.len);
    e->crc = crc_update(&w->crc, crc, data, prefix.data_bytes) ^ 0xFFFFFFFFu;

    bool zip64 = w->force_zip64 || e->size >= 0xFFFFFFFFu;
    unsigned char local[30 + 20], *p = local;
    p = put32(p, ZIP_LOCAL_SIG);
    p = put16(p, zip64 ? 45 : 20); /* version needed: 4.5 for ZIP64 */
    p = put16(p, 0);               /* flags */
    p = put16(p, 0);               /* stored */
    p = put16(p, 0);               /* time */
    p = put16(p, ZIP_DOS_DATE);
    p = put32(p, e->crc);
    p = put32(p, zip64 ? 0xFFFFFFFFu : (uint32_t)e->size);
    p = put32(p, zip64 ? 0xFFFFFFFFu : (uint32_t)e->size);
    p = put16(p, (uint16_t)(name_len + 4));
    p = put16(p, zip64 ? 20 : 0);
    if (zip64) {
        p = put16(p, 0x0001);
        p = put16(p, 16);
        p = put64(p, e->size);
        p = put64(p, e->size);
    }
    status = npz_write(w, local, 30);
    if (status == HOOD_OK)
        status = npz_write(w, e->name, name_len + 4);
    if (status == HOOD_OK)
        status = npz_write(w, local + 30, (size_t)(p - local) - 30);
    if (status == HOOD_OK)
        status = npz_write(w, prefix.bytes, prefix.len);
    if (status == HOOD_OK)
        status = npz_write(w, data, prefix.data_bytes);
    free(prefix.bytes);
    return status;
}

static void npz_writer_free(hood__npz_writer *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->entries[i].name);
    free(w->entries);
    free(w->path);
    free(w);
}

hood_status hood__npz_writer_commit(hood__npz_writer *w)
{
    hood_status status = HOOD_OK;
    uint64_t cd_offset = w->offset;
    for (size_t i = 0; i < w->count && status == HOOD_OK; i++) {
        const npz_entry *e = &w->entries[i];
        bool big_size = w->force_zip64 || e->size >= 0xFFFFFFFFu;
        bool big_offset = w->force_zip64 || e->offset >= 0xFFFFFFFFu;
        size_t name_len = strlen(e->name);
        unsigned char head[46], extra[4 + 24], *p = head;
        p = put32(p, ZIP_CENTRAL_SIG);
        p = put16(p, 3 << 8 | 45); /* made by: Unix, 4.5 */
        p = put16(p, (big_size || big_offset) ? 45 : 20);
        p = put16(p, 0);
        p = put16(p, 0);
        p = put16(p, 0);
        p = put16(p, ZIP_DOS_DATE);
        p = put32(p, e->crc);
        p = put32(p, big_size ? 0xFFFFFFFFu : (uint32_t)e->size);
        p = put32(p, big_size ? 0xFFFFFFFFu : (uint32_t)e->size);
        p = put16(p, (uint16_t)name_len);
        unsigned char *q = extra + 4;
        if (big_size) {
            q = put64(q, e->size); /* uncompressed, then compressed, as the spec orders them */
            q = put64(q, e->size);
        }
        if (big_offset)
            q = put64(q, e->offset);
        size_t extra_len = (big_size || big_offset) ? (size_t)(q - extra) : 0;
        if (extra_len > 0) {
            put16(extra, 0x0001);
            put16(extra + 2, (uint16_t)(extra_len - 4));
        }
        p = put16(p, (uint16_t)extra_len);
        p = put16(p, 0);                       /* comment */
        p = put16(p, 0);                       /* disk */
        p = put16(p, 0);                       /* internal attributes */
        p = put32(p, (uint32_t)0100644 << 16); /* a regular file, rw-r--r-- */
        p = put32(p, big_offset ? 0xFFFFFFFFu : (uint32_t)e->offset);
        status = npz_write(w, head, 46);
        if (status == HOOD_OK)
            status = npz_write(w, e->name, name_len);
        if (status == HOOD_OK)
            status = npz_write(w, extra, extra_len);
    }
    uint64_t cd_size = w->offset - cd_offset;
    bool zip64 =
        w->force_zip64 || w->count >= 0xFFFF || cd_offset >= 0xFFFFFFFFu || cd_size >= 0xFFFFFFFFu;
    if (status == HOOD_OK && zip64) {
        uint64_t end64_offset = w->offset;
        unsigned char end64[56 + 20], *p = end64;
        p = put32(p, ZIP64_END_SIG);
        p = put64(p, 44); /* size of the rest of this record */
        p = put16(p, 3 << 8 | 45);
        p = put16(p, 45);
        p = put32(p, 0);
        p = put32(p, 0);
        p = put64(p, w->count);
        p = put64(p, w->count);
        p = put64(p, cd_size);
        p = put64(p, cd_offset);
        p = put32(p, ZIP64_LOCATOR_SIG);
        p = put32(p, 0);
        p = put64(p, end64_offset);
        p = put32(p, 1);
        status = npz_write(w, end64, (size_t)(p - end64));
    }
    if (status == HOOD_OK) {
        unsigned char end[22], *p = end;
        p = put32(p, ZIP_END_SIG);
        p = put16(p, 0);
        p = put16(p, 0);
        p = put16(p, zip64 ? 0xFFFF : (uint16_t)w->count);
        p = put16(p, zip64 ? 0xFFFF : (uint16_t)w->count);
        p = put32(p, zip64 ? 0xFFFFFFFFu : (uint32_t)cd_size);
        p = put32(p, zip64 ? 0xFFFFFFFFu : (uint32_t)cd_offset);
        p = put16(p, 0);
        status = npz_write(w, end, sizeof end);
    }
    if (status == HOOD_OK)
        status = hood__atomic_commit(w->file);
    else
        hood__atomic_abort(w->file);
    npz_writer_free(w);
    return status;
}

void hood__npz_writer_abort(hood__npz_writer *w)
{
    if (w == NULL)
        return;
    hood__atomic_abort(w->file);
    npz_writer_free(w);
}

/* ---------------------------------------------------------------------------------------------
 * .npz reading: End of Central Directory (ZIP64 when its fields say so) -> central directory ->
 * each member's local header on request. Sizes come from the central directory, so members
 * written with data descriptors (sizes 0 in the local header) read the same.
 * ------------------------------------------------------------------------------------------- */

typedef struct npz_member {
    char *name; /* as stored */
    uint16_t flags, method;
    uint32_t crc;
    uint64_t compressed, size, local_offset;
} npz_member;

struct hood__npz_reader {
    source src;
    char *path;
    npz_member *members;
    size_t count;
    bool crc_ready; /* the table is built on the first member read, not on open */
    crc_table crc;
};

void hood__npz_reader_close(hood__npz_reader *r)
{
    if (r == NULL)
        return;
    if (r->src.file != NULL)
        fclose(r->src.file);
    for (size_t i = 0; i < r->count; i++)
        free(r->members[i].name);
    free(r->members);
    free(r->path);
    free(r);
}

/* The ZIP64 extra field (id 1) holds, in this order, only the values whose 32-bit field is
 * 0xFFFFFFFF: uncompressed size, compressed size, local header offset. */
static hood_status read_zip64_extra(const unsigned char *extra, size_t len, npz_member *m,
                                    bool need_size, bool need_compressed, bool need_offset,
                                    const char *path)
{
    while (len >= 4) {
        uint16_t id = get16(extra), size = get16(extra + 2);
        if ((size_t)size > len - 4)
            break;
        if (id == 0x0001) {
            const unsigned char *q = extra + 4;
            size_t left = size;
            if (need_size) {
                if (left < 8)
                    break;
                m->size = get64(q);
                q += 8;
                left -= 8;
            }
            if (need_compressed) {
                if (left < 8)
                    break;
                m->compressed = get64(q);
                q += 8;
                left -= 8;
            }
            if (need_offset) {
                if (left < 8)
                    break;
                m->local_offset = get64(q);
            }
            return HOOD_OK;
        }
        extra += 4 + size;
        len -= 4 + size;
    }
    if (!need_size && !need_compressed && !need_offset)
        return HOOD_OK;
    return hood__fail(HOOD_EFORMAT, "%s: member '%s': missing or short ZIP64 extra field", path,
                      m->name);
}

static hood_status npz_read_directory(hood__npz_reader *r)
{
    const char *path = r->path;
    const source *src = &r->src;
    if (src->len < 22)
        return hood__fail(HOOD_EFORMAT, "%s: not a .npz (zip) file: %llu bytes", path,
                          (unsigned long long)src->len);
    size_t tail_len = src->len < 22 + 65535 ? (size_t)src->len : 22 + 65535;
    unsigned char *tail = malloc(tail_len);
    if (tail == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    uint64_t tail_start = src->len - tail_len;
    hood_status status = source_read(src, tail_start, tail, tail_len, path, "zip directory end");
    if (status != HOOD_OK) {
        free(tail);
        return status;
    }
    /* The last End of Central Directory record whose comment ends exactly at the end of file. */
    size_t end = (size_t)-1;
    for (size_t i = tail_len - 22 + 1; i-- > 0;) {
        if (get32(tail + i) == ZIP_END_SIG && i + 22 + get16(tail + i + 20) == tail_len) {
            end = i;
            break;
        }
    }
    if (end == (size_t)-1) {
        free(tail);
        if (src->len >= 6) {
            unsigned char magic[6];
            if (source_read(src, 0, magic, 6, path, "magic") == HOOD_OK &&
                memcmp(magic, npy_magic, 6) == 0)
                return hood__fail(HOOD_EFORMAT, "%s: is a .npy file, not a .npz archive", path);
        }
        return hood__fail(HOOD_EFORMAT,
                          "%s: not a .npz (zip) file, or truncated: no end of "
                          "central directory",
                          path);
    }
    const unsigned char *e = tail + end;
    uint64_t end_offset = tail_start + end;
    uint64_t entries = get16(e + 10), cd_size = get32(e + 12), cd_offset = get32(e + 16);
    if (get16(e + 4) != 0 || get16(e + 6) != 0) {
        free(tail);
        return hood__fail(HOOD_EFORMAT, "%s: multi-disk zip archives are not supported", path);
    }
    bool zip64 = entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu;
    free(tail);
    uint64_t cd_limit = end_offset;
    if (zip64) {
        unsigned char loc[20], rec[56];
        if (end_offset < 20)
            return hood__fail(HOOD_EFORMAT, "%s: ZIP64 locator missing", path);
        status = source_read(src, end_offset - 20, loc, 20, path, "ZIP64 locator");
        if (status != HOOD_OK)
            return status;
        if (get32(loc) != ZIP64_LOCATOR_SIG)
            return hood__fail(HOOD_EFORMAT, "%s: ZIP64 locator missing", path);
        uint64_t rec_offset = get64(loc + 8);
        if (rec_offset > end_offset - 20 || end_offset - 20 - rec_offset < 56)
            return hood__fail(HOOD_EFORMAT, "%s: bad ZIP64 end of central directory offset", path);
        status = source_read(src, rec_offset, rec, 56, path, "ZIP64 end of central directory");
        if (status != HOOD_OK)
            return status;
        if (get32(rec) != ZIP64_END_SIG)
            return hood__fail(HOOD_EFORMAT, "%s: bad ZIP64 end of central directory", path);
        entries = get64(rec + 32);
        cd_size = get64(rec + 40);
        cd_offset = get64(rec + 48);
        cd_limit = rec_offset;
    }
    if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
        return hood__fail(HOOD_EFORMAT,
                          "%s: central directory lies outside the file "
                          "(truncated?)",
                          path);
    if (entries > cd_size / 46)
        return hood__fail(HOOD_EFORMAT, "%s: %llu entries cannot fit a %llu-byte directory", path,
                          (unsigned long long)entries, (unsigned long long)cd_size);
    unsigned char *cd = malloc(cd_size > 0 ? (size_t)cd_size : 1);
    r->members = calloc(entries > 0 ? (size_t)entries : 1, sizeof *r->members);
    if (cd == NULL || r->members == NULL) {
        free(cd);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for the zip directory", path);
    }
    status = source_read(src, cd_offset, cd, (size_t)cd_size, path, "central directory");
    size_t pos = 0;
    for (uint64_t i = 0; i < entries && status == HOOD_OK; i++) {
        if (cd_size - pos < 46 || get32(cd + pos) != ZIP_CENTRAL_SIG) {
            status = hood__fail(HOOD_EFORMAT, "%s: corrupt central directory entry %llu", path,
                                (unsigned long long)i);
            break;
        }
        const unsigned char *h = cd + pos;
        size_t name_len = get16(h + 28), extra_len = get16(h + 30), comment_len = get16(h + 32);
        if (cd_size - pos - 46 < name_len + extra_len + comment_len) {
            status = hood__fail(HOOD_EFORMAT, "%s: corrupt central directory entry %llu", path,
                                (unsigned long long)i);
            break;
        }
        npz_member *m = &r->members[r->count];
        m->name = malloc(name_len + 1);
        if (m->name == NULL) {
            status = hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
            break;
        }
        memcpy(m->name, h + 46, name_len);
        m->name[name_len] = '\0';
        r->count++;
        m->flags = get16(h + 8);
        m->method = get16(h + 10);
        m->crc = get32(h + 16);
        m->compressed = get32(h + 20);
        m->size = get32(h + 24);
        m->local_offset = get32(h + 42);
        status =
            read_zip64_extra(h + 46 + name_len, extra_len, m, m->size == 0xFFFFFFFFu,
                             m->compressed == 0xFFFFFFFFu, m->local_offset == 0xFFFFFFFFu, path);
        pos += 46 + name_len + extra_len + comment_len;
    }
    free(cd);
    return status;
}

static hood_status npz_reader_start(hood__npz_reader *r, hood__npz_reader **out)
{
    hood_status status = npz_read_directory(r);
    if (status != HOOD_OK) {
        hood__npz_reader_close(r);
        return status;
    }
    *out = r;
    return HOOD_OK;
}

hood_status hood__npz_reader_open(hood__npz_reader **out, const char *path)
{
    *out = NULL;
    hood__npz_reader *r = calloc(1, sizeof *r);
    if (r == NULL || (r->path = strdup(path)) == NULL) {
        free(r);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    }
    hood_status status = source_open_file(&r->src, path);
    if (status != HOOD_OK) {
        hood__npz_reader_close(r);
        return status;
    }
    return npz_reader_start(r, out);
}

hood_status hood__npz_reader_open_buffer(hood__npz_reader **out, const void *bytes, size_t len,
                                         const char *name)
{
    *out = NULL;
    hood__npz_reader *r = calloc(1, sizeof *r);
    if (r == NULL || (r->path = strdup(name)) == NULL) {
        free(r);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", name);
    }
    r->src.mem = bytes;
    r->src.len = len;
    return npz_reader_start(r, out);
}

/* The member stored as name + ".npy" (or as name exactly); NULL when absent. */
static const npz_member *find_member(const hood__npz_reader *r, const char *name)
{
    size_t len = strlen(name);
    if (len >= 4 && strcmp(name + len - 4, ".npy") == 0)
        len -= 4;
    for (size_t i = 0; i < r->count; i++) {
        const char *stored = r->members[i].name;
        if (strncmp(stored, name, len) == 0 &&
            (strcmp(stored + len, ".npy") == 0 || stored[len] == '\0'))
            return &r->members[i];
    }
    return NULL;
}

bool hood__npz_reader_has(const hood__npz_reader *r, const char *name)
{
    return find_member(r, name) != NULL;
}

size_t hood__npz_reader_count(const hood__npz_reader *r)
{
    return r->count;
}

const char *hood__npz_reader_name(const hood__npz_reader *r, size_t i)
{
    return i < r->count ? r->members[i].name : NULL;
}

/* The stored member `name` and where its .npy bytes start, after the checks every read makes;
 * what (cap bytes) receives "path: member name" for messages. */
static hood_status npz_locate(hood__npz_reader *r, const char *name, const npz_member **out,
                              uint64_t *data_offset, char *what, size_t cap)
{
    const npz_member *m = find_member(r, name);
    if (m == NULL)
        return hood__fail(HOOD_EFORMAT, "%s: no array '%s' in the archive", r->path, name);
    snprintf(what, cap, "%s: member %s", r->path, m->name);
    if (m->flags & 1)
        return hood__fail(HOOD_EUNSUPPORTED, "%s: is encrypted", what);
    if (m->method == 8)
        return hood__fail(HOOD_EUNSUPPORTED,
                          "%s: compressed .npz not supported; save it with numpy.savez, not "
                          "numpy.savez_compressed",
                          what);
    if (m->method != 0)
        return hood__fail(HOOD_EUNSUPPORTED, "%s: zip compression method %u not supported", what,
                          (unsigned)m->method);
    if (m->compressed != m->size)
        return hood__fail(HOOD_EFORMAT, "%s: stored member with different sizes", what);
    unsigned char local[30];
    hood_status status = source_read(&r->src, m->local_offset, local, 30, what, "local header");
    if (status != HOOD_OK)
        return status;
    if (get32(local) != ZIP_LOCAL_SIG)
        return hood__fail(HOOD_EFORMAT, "%s: bad local header", what);
    uint64_t data = m->local_offset + 30 + get16(local + 26) + get16(local + 28);
    if (data > r->src.len || m->size > r->src.len - data)
        return hood__fail(HOOD_EFORMAT, "%s: truncated: %llu bytes of data announced", what,
                          (unsigned long long)m->size);
    if (!r->crc_ready) {
        crc_init(&r->crc);
        r->crc_ready = true;
    }
    *out = m;
    *data_offset = data;
    return HOOD_OK;
}

static hood_status npz_check_crc(const npz_member *m, uint32_t crc, const char *what)
{
    if (crc == m->crc)
        return HOOD_OK;
    return hood__fail(HOOD_EFORMAT,
                      "%s: CRC-32 mismatch (stored %08x, data %08x): the file is corrupt", what,
                      (unsigned)m->crc, (unsigned)crc);
}

hood_status hood__npz_reader_get(hood__npz_reader *r, const char *name, hood__array *out)
{
    memset(out, 0, sizeof *out);
    const npz_member *m;
    uint64_t data;
    char what[512];
    hood_status status = npz_locate(r, name, &m, &data, what, sizeof what);
    if (status != HOOD_OK)
        return status;
    uint32_t crc = 0;
    status = npy_read_from(&r->src, data, m->size, what, &r->crc, &crc, out);
    if (status == HOOD_OK && (status = npz_check_crc(m, crc, what)) != HOOD_OK)
        hood__array_release(out);
    return status;
}

hood_status hood__npz_reader_peek(hood__npz_reader *r, const char *name, hood__array *out)
{
    memset(out, 0, sizeof *out);
    const npz_member *m;
    uint64_t data;
    char what[512];
    hood_status status = npz_locate(r, name, &m, &data, what, sizeof what);
    if (status != HOOD_OK)
        return status;
    return npy_peek_from(&r->src, data, m->size, what, out);
}

hood_status hood__npz_reader_read_rows(hood__npz_reader *r, const char *name, size_t first,
                                       size_t count, void *dst, size_t dst_bytes)
{
    return hood__npz_reader_read_rows_visit(r, name, first, count, dst, dst_bytes, NULL, NULL);
}

hood_status hood__npz_reader_read_rows_visit(hood__npz_reader *r, const char *name, size_t first,
                                             size_t count, void *dst, size_t dst_bytes,
                                             hood__npy_visit_fn visit, void *user)
{
    const npz_member *m;
    uint64_t data;
    char what[512];
    hood_status status = npz_locate(r, name, &m, &data, what, sizeof what);
    if (status != HOOD_OK)
        return status;
    uint32_t crc = 0;
    status = npy_read_rows_from(&r->src, data, m->size, what, &r->crc, &crc, first, count, dst,
                                dst_bytes, visit, user);
    if (status == HOOD_OK)
        status = npz_check_crc(m, crc, what);
    return status;
}
