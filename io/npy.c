/* npy.c — NumPy .npy arrays, read and written by hood's own code: a strict header parser,
 * byte-order and Fortran-order conversion, row ranges of the first axis (a worker's shard) read
 * without the rest of the array, from a file, a buffer or an .npz member. Not the .npz archive
 * (npz.c) nor the zip container (zip.c: directory, ZIP64, deflate, CRC-32). Assumes a
 * little-endian host (checked at compile time). */
#include "npy.h"

#include "atomic.h"
#include "error.h"
#include "zip.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hood's .npy code assumes a little-endian host"
#endif

/* ---------------------------------------------------------------------------------------------
 * Where a .npy's bytes come from: a file or buffer read at any offset, or an .npz member read
 * front to back (inflated when deflated; its CRC-32 checked by io/zip.c once all is read).
 * ------------------------------------------------------------------------------------------- */

typedef struct npy_input {
    const hood__source *src; /* a .npy at base of src, or NULL for ... */
    uint64_t base;
    hood__zip_member *member; /* ... an .npz member */
    uint64_t len;             /* bytes of the .npy */
    const char *name;         /* for messages */
} npy_input;

static hood_status input_read(const npy_input *in, uint64_t offset, void *buf, size_t n,
                              const char *what)
{
    if (in->member != NULL)
        return hood__zip_member_read(in->member, offset, buf, n, what);
    return hood__source_read(in->src, in->base + offset, buf, n, in->name, what);
}

/* A size read from a file must fit this machine's memory before it is allocated (a compressed
 * member can declare any size), as ingest and compile check theirs. */
static hood_status check_memory(size_t bytes, const char *name)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && bytes / (size_t)page > (size_t)pages)
        return hood__fail(HOOD_ENOMEM,
                          "%s: the array needs %zu MB, more than this machine's %zu MB of memory",
                          name, bytes >> 20, ((size_t)pages * (size_t)page) >> 20);
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

/* Reads and parses the header at the start of in. */
static hood_status npy_read_header(const npy_input *in, npy_header *h)
{
    const char *name = in->name;
    uint64_t len = in->len;
    memset(h, 0, sizeof *h);
    unsigned char pre[12];
    if (len < 10)
        return hood__fail(HOOD_EFORMAT, "%s: not a .npy file (%llu bytes)", name,
                          (unsigned long long)len);
    hood_status status = input_read(in, 0, pre, 10, ".npy header");
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
    if (major > 1 && (status = input_read(in, 10, pre + 10, 2, ".npy header")) != HOOD_OK)
        return status;
    size_t dict_len = major == 1 ? hood__get16(pre + 8) : hood__get32(pre + 8);
    if (dict_len > len - fixed)
        return hood__fail(HOOD_EFORMAT, "%s: truncated .npy header (%zu bytes announced)", name,
                          dict_len);
    char *dict = malloc(dict_len + 1);
    if (dict == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for the header", name);
    status = input_read(in, fixed, dict, dict_len, ".npy header");
    if (status == HOOD_OK) {
        dict[dict_len] = '\0';
        if (memchr(dict, '\0', dict_len) != NULL)
            status = hood__fail(HOOD_EFORMAT, "%s: header contains a NUL byte", name);
        else
            status = parse_dict(dict, dict_len, name, h);
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

/* The whole .npy of in (every byte read, so an .npz member's CRC-32 can be checked after). */
static hood_status npy_read_from(const npy_input *in, hood__array *out)
{
    memset(out, 0, sizeof *out);
    npy_header h;
    const char *name = in->name;
    hood_status status = npy_read_header(in, &h);
    if (status == HOOD_OK)
        status = npy_check_data_size(&h, in->len, name);
    if (status == HOOD_OK)
        status = check_memory(h.data_bytes, name);
    if (status != HOOD_OK)
        return status;
    unsigned char *data = malloc(h.data_bytes > 0 ? h.data_bytes : 1);
    if (data == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for %zu bytes", name, h.data_bytes);
    status = input_read(in, h.prefix_bytes, data, h.data_bytes, "array data");
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
    return HOOD_OK;
}

hood_status hood__npy_read(const char *path, hood__array *out)
{
    memset(out, 0, sizeof *out);
    hood__source src;
    hood_status status = hood__source_open_file(&src, path);
    if (status != HOOD_OK)
        return status;
    npy_input in = {&src, 0, NULL, src.len, path};
    status = npy_read_from(&in, out);
    hood__source_close(&src);
    return status;
}

hood_status hood__npy_parse_buffer(const void *bytes, size_t len, const char *name,
                                   hood__array *out)
{
    hood__source src = {NULL, bytes, len};
    npy_input in = {&src, 0, NULL, len, name};
    return npy_read_from(&in, out);
}

/* ---------------------------------------------------------------------------------------------
 * Row ranges: rows [first, first + count) of the first axis (a worker's shard) without the rest
 * of the array ever in memory. A .npy is read at those rows only (C order: one read; Fortran
 * order: one read per column). An .npz member is streamed whole through one fixed buffer (and
 * inflated on the way when deflated), its CRC-32 checked over every byte as hood__npz_reader_get
 * does, and only the rows are kept: a partial read could not check the CRC, a deflated member
 * cannot be entered in the middle, and streaming costs reading, not memory.
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
    size_t swap_unit; /* not 0: swap each chunk to native order (before scatter and visit) */
    hood__npy_visit_fn visit;
    void *user;
} rows_pass;

/* Reads elements [e0, e0 + elems) of the data at `data` through buf (cap elements) into their
 * places, doing what pass says with each chunk (pass may be NULL). */
static hood_status rows_stream(const npy_input *in, uint64_t data, const row_plan *p, size_t e0,
                               size_t elems, unsigned char *buf, size_t cap, const rows_pass *pass)
{
    size_t item = p->h->item_size;
    while (elems > 0) {
        size_t take = elems < cap ? elems : cap;
        hood_status status =
            input_read(in, data + (uint64_t)e0 * item, buf, take * item, "array data");
        if (status != HOOD_OK)
            return status;
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

/* Rows [first, first + count) of the .npy of in into dst (dst_bytes must be exactly their size).
 * An .npz member, or visit not NULL, streams every byte (visit sees every element, native
 * order); a .npy file or buffer is read at the rows only. */
static hood_status npy_read_rows_from(const npy_input *in, size_t first, size_t count, void *dst,
                                      size_t dst_bytes, hood__npy_visit_fn visit, void *user)
{
    npy_header h;
    const char *name = in->name;
    hood_status status = npy_read_header(in, &h);
    if (status == HOOD_OK)
        status = npy_check_data_size(&h, in->len, name);
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
    uint64_t data = h.prefix_bytes;
    size_t unit = h.dtype == HOOD_DTYPE_UNICODE ? 4 : h.item_size;
    bool whole = in->member != NULL || visit != NULL; /* every byte passes through the buffer */
    if (!whole && !p.fortran) {
        status = input_read(in, data + (uint64_t)first * row_bytes, dst, want, "array rows");
    } else if (h.count > 0) {
        size_t cap = ROWS_CHUNK_BYTES / h.item_size > 0 ? ROWS_CHUNK_BYTES / h.item_size : 1;
        size_t needed = whole ? h.count : count;
        cap = cap < needed ? cap : needed;
        unsigned char *buf = malloc(cap > 0 ? cap * h.item_size : 1);
        if (buf == NULL)
            return hood__fail(HOOD_ENOMEM, "%s: out of memory for a read buffer", name);
        rows_pass pass = {h.swap ? unit : 0, visit, user};
        if (whole) /* the CRC-32 (and visit) see every byte; chunks swapped as they come */
            status = rows_stream(in, data, &p, 0, h.count, buf, cap, &pass);
        else /* Fortran order: each column's rows */
            for (size_t k = 0; k < p.row_items && status == HOOD_OK; k++)
                status = rows_stream(in, data, &p, k * p.n + first, count, buf, cap, NULL);
        free(buf);
    }
    if (status != HOOD_OK)
        return status;
    if (h.swap && !(whole && h.count > 0))
        swap_elements(dst, want, unit);
    return HOOD_OK;
}

/* The header of the .npy of len bytes at base of src, as an array without data. */
static hood_status npy_peek_from(const npy_input *in, hood__array *out)
{
    memset(out, 0, sizeof *out);
    npy_header h;
    hood_status status = npy_read_header(in, &h);
    if (status == HOOD_OK)
        status = npy_check_data_size(&h, in->len, in->name);
    if (status != HOOD_OK)
        return status;
    describe_array(&h, out);
    out->fortran_order = h.fortran_order;
    return HOOD_OK;
}

hood_status hood__npy_peek(const char *path, hood__array *out)
{
    memset(out, 0, sizeof *out);
    hood__source src;
    hood_status status = hood__source_open_file(&src, path);
    if (status != HOOD_OK)
        return status;
    npy_input in = {&src, 0, NULL, src.len, path};
    status = npy_peek_from(&in, out);
    hood__source_close(&src);
    return status;
}

hood_status hood__npy_read_rows(const char *path, size_t first, size_t count, void *dst,
                                size_t dst_bytes)
{
    hood__source src;
    hood_status status = hood__source_open_file(&src, path);
    if (status != HOOD_OK)
        return status;
    npy_input in = {&src, 0, NULL, src.len, path};
    status = npy_read_rows_from(&in, first, count, dst, dst_bytes, NULL, NULL);
    hood__source_close(&src);
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
    hood__put16(out->bytes + 8, (uint16_t)(total - 10));
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

/* Writes the .npy into file (opened here from path when NULL): committed when opened here,
 * else finished for the caller (discarded on failure). */
static hood_status npy_write(const char *path, hood_output *file, hood__dtype dtype,
                             const size_t *shape, size_t ndim, size_t item_size, const void *data)
{
    npy_prefix prefix;
    hood_status status = npy_make_prefix(path, dtype, shape, ndim, item_size, &prefix);
    if (status == HOOD_OK && data == NULL && prefix.data_bytes > 0) {
        free(prefix.bytes);
        status = hood__fail(HOOD_EINVAL, "%s: data is NULL", path);
    }
    if (status != HOOD_OK) {
        hood__output_discard(file);
        return status;
    }
    bool borrowed = file != NULL;
    if (!borrowed)
        status = hood__atomic_open(&file, path);
    if (status == HOOD_OK) {
        FILE *f = hood__atomic_stream(file);
        if (f == NULL)
            status = hood__fail(HOOD_EINVAL, "%s: the output was finished before", path);
        if (status == HOOD_OK)
            status = write_all(f, prefix.bytes, prefix.len, path);
        if (status == HOOD_OK)
            status = write_all(f, data, prefix.data_bytes, path);
        if (borrowed && status == HOOD_OK)
            status = hood_output_finish(file);
        else if (borrowed)
            hood__output_discard(file);
        else if (status == HOOD_OK)
            status = hood__atomic_commit(file);
        else
            hood__atomic_abort(file);
    }
    free(prefix.bytes);
    return status;
}

hood_status hood__npy_write(const char *path, hood__dtype dtype, const size_t *shape, size_t ndim,
                            size_t item_size, const void *data)
{
    return npy_write(path, NULL, dtype, shape, ndim, item_size, data);
}

hood_status hood__npy_write_to(hood_output *file, hood__dtype dtype, const size_t *shape,
                               size_t ndim, size_t item_size, const void *data)
{
    return npy_write(hood__output_path(file), file, dtype, shape, ndim, item_size, data);
}

/* ---------------------------------------------------------------------------------------------
 * A .npy inside an .npz member (io/npz.c opens the member and checks its CRC-32 after).
 * ------------------------------------------------------------------------------------------- */

static npy_input member_input(hood__zip_member *m)
{
    return (npy_input){NULL, 0, m, hood__zip_member_size(m), hood__zip_member_what(m)};
}

hood_status hood__npy_read_member(hood__zip_member *m, hood__array *out)
{
    npy_input in = member_input(m);
    return npy_read_from(&in, out);
}

hood_status hood__npy_peek_member(hood__zip_member *m, hood__array *out)
{
    npy_input in = member_input(m);
    return npy_peek_from(&in, out);
}

hood_status hood__npy_read_rows_member(hood__zip_member *m, size_t first, size_t count, void *dst,
                                       size_t dst_bytes, hood__npy_visit_fn visit, void *user)
{
    npy_input in = member_input(m);
    return npy_read_rows_from(&in, first, count, dst, dst_bytes, visit, user);
}

hood_status hood__npy_header_bytes(const char *name, hood__dtype dtype, const size_t *shape,
                                   size_t ndim, size_t item_size, unsigned char **bytes,
                                   size_t *len, size_t *data_bytes)
{
    npy_prefix prefix;
    hood_status status = npy_make_prefix(name, dtype, shape, ndim, item_size, &prefix);
    *bytes = prefix.bytes;
    *len = prefix.len;
    *data_bytes = prefix.data_bytes;
    return status;
}
