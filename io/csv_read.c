/* csv_read.c — the reader of the CSV room: hood_dataset_load_csv and the in-memory parse, two
 * streaming passes (lay out, then fill the dataset), "# hood:" lines, hood's header form and
 * where the labels are (hood.h, hood_csv_options). The format and the writer are in csv.c;
 * numbers are parsed by csv.c's hood__csv_parse_float. */
#include "csv.h"

#include "dataset.h"
#include "error.h"
#include "input.h"
#include "preprocess_text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    hood_label_mode mode; /* how the labels are stored (NONE with label_width > 0: dropped) */
    size_t features;
    size_t rows;
    size_t first_data_line;
    size_t skip_lines; /* lines 1..skip_lines are comments and the header, not data */
    bool has_header;
    size_t keep_first, keep_rows; /* the rows this worker keeps (all unless sharded) */
    size_t rows_total;
    /* From a "# hood:" line. */
    bool has_pp;
    hood_preprocess pp;
    char **names; /* num_names malloc'd strings, owned */
    size_t num_names;
} csv_layout;

static void layout_free(csv_layout *lay)
{
    for (size_t i = 0; i < lay->num_names; i++)
        free(lay->names[i]);
    free(lay->names);
    lay->names = NULL;
    lay->num_names = 0;
}

/* The text of one field, spaces and tabs around it dropped. */
static void field_trim(const char **a, const char **b)
{
    while (*a < *b && (**a == ' ' || **a == '\t'))
        (*a)++;
    while (*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t'))
        (*b)--;
}

/* [a, b) is prefix followed by the decimal number n (no sign, no leading zero). */
static bool is_name_number(const char *a, const char *b, char prefix, size_t n)
{
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%c%zu", prefix, n);
    return (size_t)(b - a) == (size_t)len && memcmp(a, buf, (size_t)len) == 0;
}

/* The label columns a header in hood's form names: "x1,...,xd" then nothing (0), "y" (1) or
 * "y0,...,yk-1" (k); -1 when the row is not in that form. */
static long hood_header_labels(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    size_t xs = 0, ys = 0;
    bool single_y = false;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *a = p, *b = comma != NULL ? comma : end;
        field_trim(&a, &b);
        if (ys == 0 && !single_y && is_name_number(a, b, 'x', xs + 1))
            xs++;
        else if (xs > 0 && ys == 0 && !single_y && b - a == 1 && *a == 'y')
            single_y = true;
        else if (xs > 0 && !single_y && is_name_number(a, b, 'y', ys))
            ys++;
        else
            return -1;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return single_y ? 1 : (long)ys;
}

/* A "# hood: word word ..." line: the preprocessing and class names of the data below. */
static hood_status parse_hood_line(const char *text, size_t len, csv_layout *lay,
                                   const char *name, size_t line)
{
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    const char *p = text + 7, *end = text + len; /* after "# hood:" */
    bool any_pp = false;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t')
            p++;
        size_t wl = (size_t)(p - w);
        if (wl == 0)
            break;
        if (wl > 12 && memcmp(w, "class_names=", 12) == 0) {
            layout_free(lay);
            size_t count = 1;
            for (const char *q = w + 12; q < p; q++)
                count += *q == ',';
            if ((lay->names = calloc(count, sizeof *lay->names)) == NULL)
                return hood__fail(HOOD_ENOMEM, "%s: out of memory", name);
            const char *q = w + 12;
            for (size_t i = 0; i < count; i++) {
                const char *c = memchr(q, ',', (size_t)(p - q));
                const char *stop = c != NULL ? c : p;
                bool bad = false;
                lay->names[i] = stop > q ? hood__name_unescape(q, (size_t)(stop - q), &bad) : NULL;
                if (lay->names[i] == NULL)
                    return hood__fail(bad || stop == q ? HOOD_EFORMAT : HOOD_ENOMEM,
                                      "%s: line %zu: class name %zu is %s", name, line, i + 1,
                                      stop == q ? "empty" : bad ? "badly escaped" : "too long");
                lay->num_names = i + 1;
                q = stop + 1;
            }
            continue;
        }
        int rc = hood__preprocess_parse(w, wl, &pp);
        if (rc <= 0) {
            char quoted[64];
            quote_field(w, wl, quoted, sizeof quoted);
            return hood__fail(HOOD_EFORMAT, "%s: line %zu: '# hood:' %s '%s'%s", name, line,
                              rc == 0 ? "has an unknown word" : "has a bad value in", quoted,
                              rc == 0 ? " (written by a newer hood?)" : "");
        }
        any_pp = true;
    }
    lay->has_pp = any_pp;
    lay->pp = pp;
    return HOOD_OK;
}

/* Which columns are labels, and how they are stored: from a hood header, the caller's expected
 * feature count, or the options (in that order; see hood.h). */
static hood_status csv_labels(const hood_csv_options *opts, long header_labels, csv_layout *lay,
                              const char *name)
{
    long width = -1;
    bool explicit_none = opts->label_mode == HOOD_LABELS_NONE || opts->label_column == -2;
    if (opts->labels_from_header && header_labels >= 0) {
        width = header_labels;
    } else if (opts->labels_from_header && opts->features > 0 && opts->label_column == -1) {
        if (opts->features > lay->columns)
            return hood__fail(HOOD_ESHAPE,
                              "%s: line %zu: %zu columns, fewer than the %zu features expected",
                              name, lay->first_data_line, lay->columns, opts->features);
        width = (long)(lay->columns - opts->features);
    }
    if (width >= 0) {
        if ((size_t)width >= lay->columns)
            return hood__fail(HOOD_EFORMAT, "%s: line %zu: %zu columns leave no feature",
                              name, lay->first_data_line, lay->columns);
        lay->label_width = (size_t)width;
        lay->label_first = lay->columns - (size_t)width;
        lay->mode = width == 0 || explicit_none ? HOOD_LABELS_NONE
                    : width > 1                 ? HOOD_LABELS_CATEGORICAL
                                                : opts->label_mode;
        lay->features = lay->columns - (size_t)width;
        return HOOD_OK;
    }
    lay->mode = opts->label_mode;
    size_t want = explicit_none ? 0 : opts->label_columns;
    if (want == 0 && !explicit_none)
        return hood__fail(HOOD_EINVAL,
                          "%s: label_columns is 0 (use label_column -2 or label "
                          "mode NONE for no labels)",
                          name);
    if (want > 1 && opts->label_mode != HOOD_LABELS_CATEGORICAL)
        return hood__fail(HOOD_EINVAL, "%s: %zu label columns need the categorical label mode",
                          name, want);
    if (header_labels >= 0 && (size_t)header_labels != want)
        return hood__fail(HOOD_EFORMAT,
                          "%s: the header names %ld label column%s, but %zu %s asked for", name,
                          header_labels, header_labels == 1 ? "" : "s", want,
                          want == 1 ? "was" : "were");
    if (want > 0) {
        if (opts->label_column == -1) {
            if (want >= lay->columns)
                return hood__fail(HOOD_EFORMAT,
                                  "%s: line %zu: %zu columns leave no feature "
                                  "next to %zu label columns",
                                  name, lay->first_data_line, lay->columns, want);
            lay->label_first = lay->columns - want;
        } else if (opts->label_column >= 0) {
            size_t first = (size_t)opts->label_column;
            if (first >= lay->columns || want > lay->columns - first || want >= lay->columns)
                return hood__fail(HOOD_EFORMAT,
                                  "%s: line %zu: label columns %zu..%zu do not fit "
                                  "%zu columns with a feature left",
                                  name, lay->first_data_line, first + 1, first + want,
                                  lay->columns);
            lay->label_first = first;
        } else {
            return hood__fail(HOOD_EINVAL,
                              "%s: label_column %ld (use -1 last, -2 none, or a "
                              "0-based index)",
                              name, opts->label_column);
        }
    }
    lay->label_width = want;
    lay->features = lay->columns - want;
    return HOOD_OK;
}

/* Pass 1: comments, the header, rows, columns, and where the labels are. */
static hood_status csv_scan(line_reader *lr, const hood_csv_options *opts, csv_layout *lay)
{
    memset(lay, 0, sizeof *lay);
    const char *text = NULL;
    size_t len = 0, header_columns = 0, header_line = 0;
    long header_labels = -1;
    bool more;
    hood_status status;
    while ((status = lines_next(lr, &text, &len, &more)) == HOOD_OK && more) {
        if (is_blank(text, len))
            continue;
        if (lay->rows == 0 && header_line == 0 && text[0] == '#') {
            lay->skip_lines = lr->line;
            if (len >= 7 && memcmp(text, "# hood:", 7) == 0 &&
                (status = parse_hood_line(text, len, lay, lr->name, lr->line)) != HOOD_OK)
                return status;
            continue;
        }
        if (lay->rows == 0 && header_line == 0) {
            header_labels = hood_header_labels(text, len);
            if (opts->header || header_labels >= 0) {
                header_columns = count_fields(text, len);
                header_line = lay->skip_lines = lr->line;
                lay->has_header = true;
                continue;
            }
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
    return csv_labels(opts, header_labels, lay, lr->name);
}

/* Pass 2: every field into X (column j = row j) or the label block. Every row is parsed, kept
 * or not, so each shard of a sharded read sees the same errors and the same largest label
 * (*top, so every worker counts the same classes); rows outside the shard go to scratch. */
static hood_status csv_fill(line_reader *lr, const csv_layout *lay, float *x, float *y,
                            float *scratch, float *top)
{
    const char *text = NULL;
    size_t len = 0, row = 0;
    bool more;
    bool whole = lay->mode == HOOD_LABELS_INT ||
                 (lay->mode == HOOD_LABELS_CATEGORICAL && lay->label_width == 1);
    hood_status status;
    char quoted[64];
    while ((status = lines_next(lr, &text, &len, &more)) == HOOD_OK && more) {
        if (lr->line <= lay->skip_lines || is_blank(text, len))
            continue;
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
            field_trim(&a, &b);
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
                                  rc == 1 && row == 0 && !lay->has_header
                                      ? " (if the first row is a header, ask for one: "
                                        "--header)"
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
                if (lay->mode == HOOD_LABELS_BINARY && (v < 0 || v > 1)) {
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

/* The labels read (y: label_width x rows, largest value top) stored as lay->mode says, and the
 * class names of a "# hood:" line beside them. */
static hood_status csv_set_labels(hood_dataset *ds, const csv_layout *lay, const float *y, float top,
                                  const char *name)
{
    hood_status status = HOOD_OK;
    hood_label_mode mode = lay->mode;
    size_t names = lay->num_names;
    if (lay->label_width > 0 && mode != HOOD_LABELS_NONE) {
        if (mode == HOOD_LABELS_CATEGORICAL && lay->label_width == 1) {
            /* One column of class indices asked for as categorical: one-hot encode them. */
            size_t classes = (size_t)top + 1; /* over all rows, so every shard agrees */
            classes = names > classes ? names : classes;
            int32_t *index = malloc(lay->rows * sizeof *index);
            if (classes > HOOD_CSV_MAX_ONE_HOT) {
                /* A few bytes of text must not ask for rows x 16M floats (found by fuzz_csv). */
                status = hood__fail(HOOD_EDATA,
                                    "%s: label %.0f would one-hot encode %zu "
                                    "classes, more than %d; read the labels as INT",
                                    name, (double)top, classes, HOOD_CSV_MAX_ONE_HOT);
            } else if (index == NULL) {
                status = hood__fail(HOOD_ENOMEM, "%s: out of memory", name);
            } else {
                for (size_t j = 0; j < lay->rows; j++)
                    index[j] = (int32_t)y[j];
                status = hood_dataset_set_labels(ds, mode, index, classes);
            }
            free(index); /* every branch: the cap's error branch leaked it (fuzz_csv) */
        } else {
            size_t classes = mode == HOOD_LABELS_BINARY        ? 2
                             : mode == HOOD_LABELS_CATEGORICAL ? lay->label_width
                                                               : (size_t)top + 1;
            if (mode == HOOD_LABELS_INT && names > classes)
                classes = names; /* the last classes may have no rows here */
            status = hood_dataset_set_label_values(ds, mode, y, lay->label_width, classes);
        }
        if (status != HOOD_OK)
            return hood__fail_prefix(status, "%s: ", name);
    }
    if (names > 0) {
        size_t k = hood_dataset_num_classes(ds);
        if (k != 0 && k != names)
            return hood__fail(HOOD_EDATA, "%s: the '# hood:' line names %zu classes, the labels "
                                          "have %zu",
                              name, names, k);
        status = hood_dataset_set_class_names(ds, (const char *const *)lay->names, names);
        if (status != HOOD_OK)
            return hood__fail_prefix(status, "%s: ", name);
    }
    if (lay->has_pp && (status = hood_dataset_set_preprocess(ds, &lay->pp)) != HOOD_OK)
        return hood__fail_prefix(status, "%s: '# hood:' line: ", name);
    return HOOD_OK;
}

/* Pass 2 and the dataset, once csv_scan has laid the file out. */
static hood_status csv_build(line_reader *lr, const hood_csv_options *opts, csv_layout *lay,
                             hood_dataset **out)
{
    lay->keep_first = 0;
    lay->keep_rows = lay->rows;
    lay->rows_total = lay->rows;
    bool sharded = opts->shard_count > 1;
    if (sharded) {
        if (opts->shard_index >= opts->shard_count)
            return hood__fail(HOOD_EINVAL, "%s: shard index %zu is not below the shard count %zu",
                              lr->name, opts->shard_index, opts->shard_count);
        hood_shard_range(lay->rows, opts->shard_index, opts->shard_count, &lay->keep_first,
                         &lay->keep_rows);
        if (lay->keep_rows == 0)
            return hood__fail(HOOD_EINVAL, "%s: shard %zu of %zu holds none of the %zu rows",
                              lr->name, opts->shard_index, opts->shard_count, lay->rows);
    }
    hood_dataset *ds = NULL;
    float *y = NULL, *scratch = NULL, top = 0;
    size_t y_count = 0;
    hood_status status = hood_dataset_create(&ds, lay->features, lay->keep_rows);
    if (status != HOOD_OK)
        return status;
    if (lay->label_width > 0 &&
        (hood__mul_overflows(lay->label_width, lay->keep_rows, &y_count) ||
         (y = malloc(y_count * sizeof *y)) == NULL))
        status = hood__fail(HOOD_ENOMEM, "%s: out of memory for %zu x %zu labels", lr->name,
                            lay->keep_rows, lay->label_width);
    if (status == HOOD_OK && sharded &&
        (scratch = malloc((lay->features + lay->label_width) * sizeof *scratch)) == NULL)
        status = hood__fail(HOOD_ENOMEM, "%s: out of memory", lr->name);
    if (status == HOOD_OK)
        status = lines_rewind(lr);
    if (status == HOOD_OK)
        status = csv_fill(lr, lay, hood_dataset_x_mutable(ds), y, scratch, &top);
    free(scratch);
    lay->rows = lay->keep_rows; /* from here on: the rows this dataset holds */
    if (status == HOOD_OK)
        status = csv_set_labels(ds, lay, y, top, lr->name);
    free(y);
    if (status == HOOD_OK && sharded)
        hood__dataset_set_shard(ds, lay->keep_first, lay->rows_total);
    if (status != HOOD_OK) {
        hood_dataset_free(ds);
        return status;
    }
    *out = ds;
    return HOOD_OK;
}

static hood_status csv_read(line_reader *lr, const hood_csv_options *opts, hood_dataset **out)
{
    *out = NULL;
    hood_csv_options given;
    hood_status status = hood__csv_options_read(&given, opts, lr->name);
    if (status != HOOD_OK)
        return status;
    opts = &given;
    csv_layout lay;
    status = csv_scan(lr, opts, &lay);
    if (status == HOOD_OK)
        status = csv_build(lr, opts, &lay, out);
    layout_free(&lay);
    return status;
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
    hood__clear_error();
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
