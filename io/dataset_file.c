/* dataset_file.c — datasets as files: .npz (x, y, class_names) and .npy (x alone) on top of
 * npy.c, and hood_dataset_save/load choosing .csv/.npz/.npy by extension. The formats
 * themselves live in npy.c and csv.c; every write goes through io/atomic.h there.
 *
 * A worker's shard (hood_csv_options.shard_index/count) is read as x's and y's rows only (npy.c's
 * row reads): no worker ever holds the whole of either. The rest of y streams past a visitor, so
 * every worker decides the label mode and class count from all the labels, as one process.
 *
 * A dataset .npz holds x float32 (n, d) C order (X's bytes), y int32 (n,) for INT labels or
 * float32 (n, k) for CATEGORICAL and (n, 1) for BINARY (Keras' shape for binary targets), and
 * class_names '<U…' (k,) when the dataset has names, and preprocess '<U…' (m,) when it says how
 * its columns were made from images: one "key=value" word per field (preprocess_text.c), so
 * numpy.load reads every member without pickle. Reading is wider: see read_labels. */
#include "dataset_file.h"

#include "atomic.h"
#include "csv.h"
#include "dataset.h"
#include "error.h"
#include "preprocess_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------------------------------
 * Reading.
 * ------------------------------------------------------------------------------------------- */

hood_status hood__dataset_from_x_array(const hood__array *x, const char *name, hood_dataset **out)
{
    *out = NULL;
    if (x->ndim < 2 || x->ndim > 4)
        return hood__fail(HOOD_ESHAPE,
                          "%s: x has %zu dimensions; expected (n, d), (n, h, w) or "
                          "(n, h, w, c)",
                          name, x->ndim);
    size_t n = x->shape[0], d = 1;
    for (size_t k = 1; k < x->ndim; k++)
        d *= x->shape[k]; /* no overflow: the whole count was checked when x was read */
    if (n == 0 || d == 0)
        return hood__fail(HOOD_ESHAPE, "%s: x is empty (%zu samples of %zu features)", name, n, d);
    float *converted = NULL;
    const float *values = x->data;
    if (x->dtype != HOOD_DTYPE_F32) {
        hood_status status = hood__array_to_f32(x, name, &converted);
        if (status != HOOD_OK)
            return status;
        values = converted;
    }
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < d; i++) {
            float v;
            memcpy(&v, values + j * d + i, sizeof v);
            if (!isfinite(v)) {
                free(converted);
                return hood__fail(HOOD_EDATA, "%s: x[%zu, %zu] is %s; datasets must be finite",
                                  name, j, i, isnan(v) ? "NaN" : "infinite");
            }
        }
    hood_status status = hood_dataset_create(out, d, n);
    if (status == HOOD_OK) {
        memcpy(hood_dataset_x_mutable(*out), values, n * d * sizeof(float));
        if (x->ndim == 3)
            hood__dataset_set_image_shape(*out, x->shape[1], x->shape[2], 1);
        else if (x->ndim == 4)
            hood__dataset_set_image_shape(*out, x->shape[1], x->shape[2], x->shape[3]);
    }
    free(converted);
    return status;
}

/* What the label mode needs to know about every label of the file, gathered as y streams past
 * (hood__npz_reader_read_rows_visit): a worker holds only its rows, yet decides as one process. */
typedef struct label_stats {
    const char *name;
    hood__dtype dtype;
    size_t n, width;
    bool fortran;
    bool all_01, all_unit, all_whole;
    float top;
    bool has_bad; /* the first value that is not a whole number >= 0 (for INT's message) */
    size_t bad_sample;
    float bad_value;
    hood_status status; /* the first conversion or non-finite error */
} label_stats;

static void label_visit(void *user, const void *elements, size_t e0, size_t count)
{
    label_stats *st = user;
    for (size_t i = 0; i < count && st->status == HOOD_OK; i++) {
        size_t e = e0 + i, sample = st->fortran ? e % st->n : e / st->width;
        float v;
        st->status = hood__element_to_f32(st->dtype, elements, i, st->name, e, &v);
        if (st->status != HOOD_OK)
            return;
        if (!isfinite(v)) {
            st->status =
                hood__fail(HOOD_EDATA, "%s: y of sample %zu is not finite", st->name, sample);
            return;
        }
        bool whole = v >= 0.0f && v == floorf(v) && v < 16777216.0f;
        st->all_01 = st->all_01 && (v == 0.0f || v == 1.0f);
        st->all_unit = st->all_unit && v >= 0.0f && v <= 1.0f;
        st->all_whole = st->all_whole && whole;
        st->top = v > st->top ? v : st->top;
        if (!whole && (!st->has_bad || sample < st->bad_sample)) {
            st->has_bad = true;
            st->bad_sample = sample;
            st->bad_value = v;
        }
    }
}

/* Labels from y: an integer dtype -> INT; float (n, k>1) -> CATEGORICAL; float (n,) or (n, 1)
 * -> BINARY when every value is 0 or 1 (or a fraction in [0, 1]), INT when every value is a
 * whole number >= 0. classes: the number of class names (0 if none). y's rows [first, first +
 * samples of ds) are read; its other rows only pass through label_visit, so the mode and the
 * class count are the whole file's and every worker of a sharded read decides as one process. */
static hood_status read_labels(hood_dataset *ds, hood__npz_reader *r, size_t classes, size_t first,
                               size_t global_samples, const char *name)
{
    size_t n = global_samples, length = hood_dataset_samples(ds);
    hood__array y;
    hood_status status = hood__npz_reader_peek(r, "y", &y);
    if (status != HOOD_OK)
        return status;
    if (y.dtype == HOOD_DTYPE_UNICODE)
        return hood__fail(HOOD_EFORMAT, "%s: y is a string array; expected numbers", name);
    if (y.ndim < 1 || y.ndim > 2 || y.shape[0] != n)
        return hood__fail(HOOD_ESHAPE, "%s: y has shape %s%zu%s; x has %zu samples", name,
                          y.ndim == 0 ? "() " : "(", y.ndim > 0 ? y.shape[0] : 0,
                          y.ndim == 2   ? ", ...)"
                          : y.ndim == 1 ? ",)"
                                        : "",
                          n);
    size_t width = y.ndim == 2 ? y.shape[1] : 1;
    if (width == 0)
        return hood__fail(HOOD_ESHAPE, "%s: y has no label columns", name);
    bool integer_dtype =
        y.dtype == HOOD_DTYPE_I32 || y.dtype == HOOD_DTYPE_I64 || y.dtype == HOOD_DTYPE_U8;
    if (integer_dtype && width != 1)
        return hood__fail(HOOD_ESHAPE, "%s: integer y must be (n,) or (n, 1), not (n, %zu)", name,
                          width);
    /* no overflow: length x width elements are part of y, whose byte count was checked */
    size_t bytes = length * width * y.item_size;
    y.data = malloc(bytes > 0 ? bytes : 1);
    if (y.data == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for %zu labels", name, length);
    label_stats st = {.name = name,
                      .dtype = y.dtype,
                      .n = n,
                      .width = width,
                      .fortran = y.fortran_order && y.ndim == 2,
                      .all_01 = true,
                      .all_unit = true,
                      .all_whole = true,
                      .status = HOOD_OK};
    status =
        hood__npz_reader_read_rows_visit(r, "y", first, length, y.data, bytes, label_visit, &st);
    if (status == HOOD_OK)
        status = st.status;
    y.shape[0] = length;
    float *v = NULL;
    if (status == HOOD_OK)
        status = hood__array_to_f32(&y, name, &v);
    hood__array_release(&y);
    if (status != HOOD_OK)
        return status;
    hood_label_mode mode;
    if (integer_dtype)
        mode = HOOD_LABELS_INT;
    else if (width > 1)
        mode = HOOD_LABELS_CATEGORICAL;
    else if (st.all_01 || (st.all_unit && !st.all_whole))
        mode = HOOD_LABELS_BINARY;
    else
        mode = HOOD_LABELS_INT;
    if (mode == HOOD_LABELS_INT && !st.all_whole)
        status = hood__fail(HOOD_EDATA, "%s: y[%zu] = %g is not a class index", name, st.bad_sample,
                            (double)st.bad_value);
    else if (mode == HOOD_LABELS_INT && classes > 0 && st.top >= (float)classes)
        status = hood__fail(HOOD_EDATA, "%s: label %g but only %zu class names", name,
                            (double)st.top, classes);
    if (status == HOOD_OK) {
        /* INT without names: the class count from the whole file's largest label, not this
         * shard's, so every worker builds the same output layer. */
        size_t want = mode == HOOD_LABELS_INT      ? (classes > 0 ? classes : (size_t)st.top + 1)
                      : mode == HOOD_LABELS_BINARY ? 2
                                                   : width;
        status = hood_dataset_set_label_values(ds, mode, v, width, want);
        if (status != HOOD_OK)
            status = hood__fail_prefix(status, "%s: ", name);
    }
    free(v);
    return status;
}

/* Appends code point c as UTF-8; returns bytes written (0: not a Unicode scalar value). */
static size_t utf8_put(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c >= 0xD800 && c <= 0xDFFF)
        return 0;
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12);
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    if (c > 0x10FFFF)
        return 0;
    out[0] = (char)(0xF0 | c >> 18);
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Decodes one UTF-8 sequence at s (NUL-terminated); returns its length, 0 when invalid. */
static size_t utf8_get(const unsigned char *s, uint32_t *c)
{
    if (s[0] < 0x80) {
        *c = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (n == 0 || s[0] > 0xF4)
        return 0;
    uint32_t v = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *c = v;
    return n;
}

static hood_status read_class_names(hood_dataset *ds, const hood__array *a, const char *name)
{
    if (a->dtype != HOOD_DTYPE_UNICODE || a->ndim != 1)
        return hood__fail(HOOD_EFORMAT, "%s: class_names must be a 1-D unicode array", name);
    size_t count = a->shape[0], units = a->item_size / 4;
    size_t cap;
    if (hood__mul_overflows(units, 4, &cap) || cap > ((size_t)-1) - 1)
        return hood__fail(HOOD_ENOMEM, "%s: class names too long", name);
    char **names = calloc(count > 0 ? count : 1, sizeof *names);
    char *text = malloc(cap + 1);
    hood_status status = names != NULL && text != NULL
                             ? HOOD_OK
                             : hood__fail(HOOD_ENOMEM, "%s: out of memory", name);
    for (size_t i = 0; i < count && status == HOOD_OK; i++) {
        const unsigned char *item = (const unsigned char *)a->data + i * a->item_size;
        size_t len = 0, used = units;
        while (used > 0) { /* numpy pads with NUL code points; they are not part of the name */
            uint32_t c;
            memcpy(&c, item + 4 * (used - 1), 4);
            if (c != 0)
                break;
            used--;
        }
        for (size_t u = 0; u < used && status == HOOD_OK; u++) {
            uint32_t c;
            memcpy(&c, item + 4 * u, 4);
            size_t n = c == 0 ? 0 : utf8_put(c, text + len);
            if (n == 0)
                status = hood__fail(HOOD_EFORMAT,
                                    "%s: class name %zu holds an invalid code "
                                    "point U+%04X",
                                    name, i, (unsigned)c);
            len += n;
        }
        text[len] = '\0';
        if (status == HOOD_OK && (names[i] = strdup(text)) == NULL)
            status = hood__fail(HOOD_ENOMEM, "%s: out of memory", name);
    }
    if (status == HOOD_OK) {
        status = hood_dataset_set_class_names(ds, (const char *const *)names, count);
        if (status != HOOD_OK)
            status = hood__fail_prefix(status, "%s: ", name);
    }
    for (size_t i = 0; names != NULL && i < count; i++)
        free(names[i]);
    free(names);
    free(text);
    return status;
}

/* The 'preprocess' member: a 1-D unicode array of ASCII "key=value" words. */
static hood_status read_preprocess(hood_dataset *ds, const hood__array *a, const char *name)
{
    if (a->dtype != HOOD_DTYPE_UNICODE || a->ndim != 1)
        return hood__fail(HOOD_EFORMAT, "%s: preprocess must be a 1-D unicode array", name);
    size_t count = a->shape[0], units = a->item_size / 4;
    char word[128];
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    for (size_t i = 0; i < count; i++) {
        const unsigned char *item = (const unsigned char *)a->data + i * a->item_size;
        size_t len = 0;
        for (size_t u = 0; u < units; u++) {
            uint32_t c;
            memcpy(&c, item + 4 * u, 4);
            if (c == 0)
                break;
            if (c < 0x21 || c > 0x7e || len + 1 >= sizeof word)
                return hood__fail(HOOD_EFORMAT,
                                  "%s: preprocess word %zu is not a short key=value word", name,
                                  i);
            word[len++] = (char)c;
        }
        word[len] = '\0';
        int rc = hood__preprocess_parse(word, len, &pp);
        if (rc <= 0)
            return hood__fail(HOOD_EFORMAT, "%s: preprocess: %s '%s'%s", name,
                              rc == 0 ? "unknown field" : "bad value in", word,
                              rc == 0 ? " (written by a newer hood?)" : "");
    }
    hood_status status = hood_dataset_set_preprocess(ds, &pp);
    return status == HOOD_OK ? HOOD_OK : hood__fail_prefix(status, "%s: ", name);
}

/* An array file: a member of an opened .npz, or a .npy at path. */
typedef struct array_file {
    hood__npz_reader *npz; /* NULL: a .npy */
    const char *path;
} array_file;

static hood_status file_peek(const array_file *f, const char *member, hood__array *out)
{
    return f->npz != NULL ? hood__npz_reader_peek(f->npz, member, out)
                          : hood__npy_peek(f->path, out);
}

static hood_status file_rows(const array_file *f, const char *member, size_t first, size_t count,
                             void *dst, size_t bytes)
{
    return f->npz != NULL ? hood__npz_reader_read_rows(f->npz, member, first, count, dst, bytes)
                          : hood__npy_read_rows(f->path, first, count, dst, bytes);
}

/* n x d of x from its header (the same checks as hood__dataset_from_x_array). */
static hood_status x_geometry(const hood__array *x, const char *name, size_t *n, size_t *d)
{
    if (x->ndim < 2 || x->ndim > 4)
        return hood__fail(HOOD_ESHAPE,
                          "%s: x has %zu dimensions; expected (n, d), (n, h, w) or "
                          "(n, h, w, c)",
                          name, x->ndim);
    *n = x->shape[0];
    *d = 1;
    for (size_t k = 1; k < x->ndim; k++)
        *d *= x->shape[k]; /* no overflow: the whole byte count was checked on the header */
    if (*n == 0 || *d == 0)
        return hood__fail(HOOD_ESHAPE, "%s: x is empty (%zu samples of %zu features)", name, *n,
                          *d);
    return HOOD_OK;
}

/* Rows [first, first + length) of x (n rows) into a new dataset: float32 x is read straight
 * into the dataset's X, any other dtype through one buffer of those rows. Only the rows are
 * ever in memory. */
static hood_status x_rows(const array_file *f, const hood__array *x, size_t first, size_t length,
                          const char *name, hood_dataset **out)
{
    size_t n = 0, d = 0;
    hood_status status = x_geometry(x, name, &n, &d);
    if (status != HOOD_OK)
        return status;
    hood_dataset *ds = NULL;
    if ((status = hood_dataset_create(&ds, d, length)) != HOOD_OK)
        return hood__fail_prefix(status, "%s: ", name);
    float *X = hood_dataset_x_mutable(ds);
    if (x->dtype == HOOD_DTYPE_F32) {
        status = file_rows(f, "x", first, length, X, length * d * sizeof(float));
    } else {
        size_t bytes;
        hood__array part = *x;
        part.shape[0] = length;
        float *converted = NULL;
        if (hood__mul_overflows(length * d, x->item_size, &bytes) ||
            (part.data = malloc(bytes > 0 ? bytes : 1)) == NULL)
            status = hood__fail(HOOD_ENOMEM, "%s: out of memory for %zu rows of x", name, length);
        else if ((status = file_rows(f, "x", first, length, part.data, bytes)) == HOOD_OK &&
                 (status = hood__array_to_f32(&part, name, &converted)) == HOOD_OK)
            memcpy(X, converted, length * d * sizeof(float));
        free(converted);
        hood__array_release(&part);
    }
    for (size_t j = 0; status == HOOD_OK && j < length; j++)
        for (size_t i = 0; i < d; i++)
            if (!isfinite(X[j * d + i])) {
                status = hood__fail(HOOD_EDATA, "%s: x[%zu, %zu] is %s; datasets must be finite",
                                    name, first + j, i, isnan(X[j * d + i]) ? "NaN" : "infinite");
                break;
            }
    if (status != HOOD_OK) {
        hood_dataset_free(ds);
        return status;
    }
    if (x->ndim == 3)
        hood__dataset_set_image_shape(ds, x->shape[1], x->shape[2], 1);
    else if (x->ndim == 4)
        hood__dataset_set_image_shape(ds, x->shape[1], x->shape[2], x->shape[3]);
    *out = ds;
    return HOOD_OK;
}

/* x (and, in an .npz, y and class_names) of f as shard `index` of `count` (count 0 or 1: every
 * row): x's and y's rows only (class_names, k strings, whole). */
static hood_status dataset_rows(const array_file *f, const char *name, size_t index, size_t count,
                                hood_dataset **out)
{
    *out = NULL;
    hood__array x;
    hood_status status = file_peek(f, "x", &x);
    size_t n = 0, d = 0, first = 0, length = 0;
    if (status == HOOD_OK)
        status = x_geometry(&x, name, &n, &d);
    if (status != HOOD_OK)
        return status;
    bool sharded = count > 1;
    if (!sharded) {
        length = n;
    } else if (index >= count) {
        return hood__fail(HOOD_EINVAL, "%s: shard index %zu is not below the shard count %zu", name,
                          index, count);
    } else {
        hood_shard_range(n, index, count, &first, &length);
        if (length == 0)
            return hood__fail(HOOD_EINVAL, "%s: shard %zu of %zu holds none of the %zu samples",
                              name, index, count, n);
    }
    hood_dataset *ds = NULL;
    if ((status = x_rows(f, &x, first, length, name, &ds)) != HOOD_OK)
        return status;
    hood__array names;
    memset(&names, 0, sizeof names);
    bool has_names = f->npz != NULL && hood__npz_reader_has(f->npz, "class_names");
    if (has_names)
        status = hood__npz_reader_get(f->npz, "class_names", &names);
    if (status == HOOD_OK && f->npz != NULL && hood__npz_reader_has(f->npz, "y"))
        status = read_labels(ds, f->npz, has_names ? names.shape[0] : 0, first, n, name);
    if (status == HOOD_OK && has_names)
        status = read_class_names(ds, &names, name);
    hood__array_release(&names);
    if (status == HOOD_OK && f->npz != NULL && hood__npz_reader_has(f->npz, "preprocess")) {
        hood__array pp;
        status = hood__npz_reader_get(f->npz, "preprocess", &pp);
        if (status == HOOD_OK)
            status = read_preprocess(ds, &pp, name);
        hood__array_release(&pp);
    }
    if (status != HOOD_OK) {
        hood_dataset_free(ds);
        return status;
    }
    if (sharded)
        hood__dataset_set_shard(ds, first, n);
    *out = ds;
    return HOOD_OK;
}

hood_status hood__dataset_from_npz(hood__npz_reader *r, const char *name, hood_dataset **out)
{
    array_file f = {r, name};
    return dataset_rows(&f, name, 0, 1, out);
}

/* The .npz at path as shard index of count (count 0 or 1: whole). */
static hood_status load_npz_rows(const char *path, size_t index, size_t count, hood_dataset **out)
{
    *out = NULL;
    hood__npz_reader *r;
    hood_status status = hood__npz_reader_open(&r, path);
    if (status != HOOD_OK)
        return status;
    array_file f = {r, path};
    status = dataset_rows(&f, path, index, count, out);
    hood__npz_reader_close(r);
    return status;
}

hood_status hood_dataset_load_npz(const char *path, hood_dataset **out)
{
    hood__clear_error();
    *out = NULL;
    if (path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_load_npz: path is NULL");
    return load_npz_rows(path, 0, 1, out);
}

hood_status hood_dataset_load_npy(const char *path, hood_dataset **out)
{
    hood__clear_error();
    *out = NULL;
    if (path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_load_npy: path is NULL");
    array_file f = {NULL, path};
    return dataset_rows(&f, path, 0, 1, out);
}

/* ---------------------------------------------------------------------------------------------
 * Writing.
 * ------------------------------------------------------------------------------------------- */

/* class_names as a '<U{longest}' array: count x units code points, NUL-padded. */
static hood_status names_to_ucs4(const hood_dataset *ds, const char *path, size_t *count,
                                 size_t *units, uint32_t **out)
{
    *out = NULL;
    *count = 0;
    *units = 0;
    while (hood_dataset_class_name(ds, *count) != NULL)
        (*count)++;
    if (*count == 0)
        return HOOD_OK;
    size_t longest = 1;
    for (size_t i = 0; i < *count; i++) {
        size_t len = strlen(hood_dataset_class_name(ds, i)); /* code points <= bytes */
        longest = len > longest ? len : longest;
    }
    size_t total;
    if (hood__mul_overflows(*count, longest, &total) ||
        (*out = calloc(total, sizeof **out)) == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for class names", path);
    size_t used_units = 1;
    for (size_t i = 0; i < *count; i++) {
        const unsigned char *s = (const unsigned char *)hood_dataset_class_name(ds, i);
        size_t u = 0;
        while (*s != '\0') {
            uint32_t c;
            size_t n = utf8_get(s, &c);
            if (n == 0) {
                free(*out);
                *out = NULL;
                return hood__fail(HOOD_EINVAL, "%s: class name %zu is not valid UTF-8", path, i);
            }
            (*out)[i * longest + u++] = c;
            s += n;
        }
        used_units = u > used_units ? u : used_units;
    }
    /* Re-pack to the longest name in code points (numpy's own choice of width). */
    if (used_units < longest)
        for (size_t i = 0; i < *count; i++)
            memmove(*out + i * used_units, *out + i * longest, used_units * sizeof **out);
    *units = used_units;
    return HOOD_OK;
}

/* The dataset's preprocessing as '<U…' words (count x units code points); *count 0 when it
 * has none. */
static hood_status preprocess_to_ucs4(const hood_dataset *ds, const char *path, size_t *count,
                                      size_t *units, uint32_t **out)
{
    *out = NULL;
    *count = 0;
    *units = 1;
    hood_preprocess pp;
    if (!hood_dataset_preprocess(ds, &pp))
        return HOOD_OK;
    char text[HOOD_PREPROCESS_TEXT_MAX];
    size_t len = hood__preprocess_format(&pp, text);
    size_t words = 1, longest = 0, cur = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == ' ') {
            longest = cur > longest ? cur : longest;
            words += i < len;
            cur = 0;
        } else {
            cur++;
        }
    }
    if ((*out = calloc(words * longest, sizeof **out)) == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
    size_t w = 0, u = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') {
            w++;
            u = 0;
        } else {
            (*out)[w * longest + u++] = (unsigned char)text[i];
        }
    }
    *count = words;
    *units = longest;
    return HOOD_OK;
}

/* x, y, class_names and preprocess as .npy members, stored or (compress) deflated; into file
 * (the caller's output: finished, or discarded on failure) or, when NULL, to path. */
static hood_status save_npz(const hood_dataset *ds, const char *path, hood_output *file,
                            bool compress)
{
    size_t n = hood_dataset_samples(ds), d = hood_dataset_features(ds);
    size_t width = hood_dataset_label_width(ds);
    hood_label_mode mode = hood_dataset_label_mode(ds);
    const float *labels = hood_dataset_labels(ds);
    int32_t *ints = NULL;
    uint32_t *names = NULL, *words = NULL;
    size_t name_count = 0, name_units = 0, word_count = 0, word_units = 0;
    hood_status status = names_to_ucs4(ds, path, &name_count, &name_units, &names);
    if (status == HOOD_OK)
        status = preprocess_to_ucs4(ds, path, &word_count, &word_units, &words);
    if (status == HOOD_OK && mode == HOOD_LABELS_INT) {
        ints = malloc(n * sizeof *ints);
        if (ints == NULL)
            status = hood__fail(HOOD_ENOMEM, "%s: out of memory", path);
        for (size_t j = 0; ints != NULL && j < n; j++)
            ints[j] = (int32_t)labels[j];
    }
    hood__npz_writer *w = NULL;
    if (status == HOOD_OK)
        status = file != NULL ? hood__npz_writer_open_on(&w, file) : hood__npz_writer_open(&w, path);
    else
        hood__output_discard(file);
    if (status == HOOD_OK && compress)
        hood__npz_writer_compress(w);
    if (status == HOOD_OK) {
        size_t xshape[2] = {n, d};
        status = hood__npz_writer_add(w, "x", HOOD_DTYPE_F32, xshape, 2, sizeof(float),
                                      hood_dataset_x(ds));
    }
    if (status == HOOD_OK && mode == HOOD_LABELS_INT) {
        size_t yshape[1] = {n};
        status = hood__npz_writer_add(w, "y", HOOD_DTYPE_I32, yshape, 1, sizeof(int32_t), ints);
    } else if (status == HOOD_OK && mode != HOOD_LABELS_NONE) {
        size_t yshape[2] = {n, width};
        status = hood__npz_writer_add(w, "y", HOOD_DTYPE_F32, yshape, 2, sizeof(float), labels);
    }
    if (status == HOOD_OK && name_count > 0) {
        size_t nshape[1] = {name_count};
        status = hood__npz_writer_add(w, "class_names", HOOD_DTYPE_UNICODE, nshape, 1,
                                      4 * name_units, names);
    }
    if (status == HOOD_OK && word_count > 0) {
        size_t pshape[1] = {word_count};
        status = hood__npz_writer_add(w, "preprocess", HOOD_DTYPE_UNICODE, pshape, 1,
                                      4 * word_units, words);
    }
    if (status == HOOD_OK)
        status = hood__npz_writer_commit(w);
    else
        hood__npz_writer_abort(w);
    free(ints);
    free(names);
    free(words);
    return status;
}

hood_status hood_dataset_save_npz(const hood_dataset *ds, const char *path)
{
    hood__clear_error();
    if (ds == NULL || path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_save_npz: dataset or path is NULL");
    return save_npz(ds, path, NULL, false);
}

hood_status hood_dataset_save_npz_compressed(const hood_dataset *ds, const char *path)
{
    hood__clear_error();
    if (ds == NULL || path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_save_npz_compressed: dataset or path is NULL");
    return save_npz(ds, path, NULL, true);
}

hood_status hood_dataset_save_npy(const hood_dataset *ds, const char *path)
{
    hood__clear_error();
    if (ds == NULL || path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_save_npy: dataset or path is NULL");
    size_t shape[2] = {hood_dataset_samples(ds), hood_dataset_features(ds)};
    return hood__npy_write(path, HOOD_DTYPE_F32, shape, 2, sizeof(float), hood_dataset_x(ds));
}

/* ---------------------------------------------------------------------------------------------
 * Dispatch on the extension (case-insensitive).
 * ------------------------------------------------------------------------------------------- */

typedef enum file_kind { KIND_UNKNOWN, KIND_CSV, KIND_NPZ, KIND_NPY } file_kind;

static file_kind kind_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash != NULL ? slash : path, '.');
    if (dot == NULL)
        return KIND_UNKNOWN;
    if (strcasecmp(dot, ".csv") == 0)
        return KIND_CSV;
    if (strcasecmp(dot, ".npz") == 0)
        return KIND_NPZ;
    if (strcasecmp(dot, ".npy") == 0)
        return KIND_NPY;
    return KIND_UNKNOWN;
}

hood_status hood_dataset_save(const hood_dataset *ds, const char *path,
                              const hood_csv_options *opts)
{
    hood__clear_error();
    if (ds == NULL || path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_save: dataset or path is NULL");
    switch (kind_of(path)) {
    case KIND_CSV:
        return hood_dataset_save_csv(ds, path, opts);
    case KIND_NPZ:
        return hood_dataset_save_npz(ds, path);
    case KIND_NPY:
        return hood_dataset_save_npy(ds, path);
    case KIND_UNKNOWN:
        break;
    }
    return hood__fail(HOOD_EINVAL, "%s: unknown dataset file extension (use .csv, .npz or .npy)",
                      path);
}

hood_status hood_dataset_write(const hood_dataset *ds, hood_output *out,
                               const hood_csv_options *opts, unsigned flags)
{
    hood__clear_error();
    if (out == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_write: out is NULL");
    const char *path = hood__output_path(out);
    hood_status status = HOOD_OK;
    if (ds == NULL)
        status = hood__fail(HOOD_EINVAL, "%s: hood_dataset_write: dataset is NULL", path);
    else if ((flags & ~(unsigned)HOOD_WRITE_NPZ_COMPRESSED) != 0)
        status = hood__fail(HOOD_EINVAL, "%s: hood_dataset_write: unknown flags 0x%x", path,
                            flags);
    if (status != HOOD_OK) {
        hood__output_discard(out);
        return status;
    }
    size_t shape[2] = {hood_dataset_samples(ds), hood_dataset_features(ds)};
    switch (kind_of(path)) {
    case KIND_CSV:
        return hood__csv_write_to(ds, out, opts);
    case KIND_NPZ:
        return save_npz(ds, path, out, (flags & HOOD_WRITE_NPZ_COMPRESSED) != 0);
    case KIND_NPY:
        return hood__npy_write_to(out, HOOD_DTYPE_F32, shape, 2, sizeof(float),
                                  hood_dataset_x(ds));
    case KIND_UNKNOWN:
        break;
    }
    hood__output_discard(out);
    return hood__fail(HOOD_EINVAL, "%s: unknown dataset file extension (use .csv, .npz or .npy)",
                      path);
}

hood_status hood_dataset_load(const char *path, const hood_csv_options *opts, hood_dataset **out)
{
    hood__clear_error();
    *out = NULL;
    if (path == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_load: path is NULL");
    hood_csv_options given;
    hood_status st = hood__csv_options_read(&given, opts, path);
    if (st != HOOD_OK)
        return st;
    /* A worker's shard is read as rows: no format here ever holds the whole x. */
    size_t index = given.shard_index, count = given.shard_count;
    switch (kind_of(path)) {
    case KIND_CSV:
        return hood_dataset_load_csv(path, opts, out); /* shards while streaming */
    case KIND_NPZ:
        return load_npz_rows(path, index, count, out);
    case KIND_NPY: {
        array_file f = {NULL, path};
        return dataset_rows(&f, path, index, count, out);
    }
    case KIND_UNKNOWN:
        break;
    }
    return hood__fail(HOOD_EINVAL, "%s: unknown dataset file extension (use .csv, .npz or .npy)",
                      path);
}
