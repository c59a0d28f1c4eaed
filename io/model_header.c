/* model_header.c — the text header of the .hood file (docs/model-format.md): written from a
 * model (architecture, loss, optimizer, training position, history, fit record, preprocessing,
 * class names, counts) and read back, line by line and field by field, into a new model plus
 * its compile settings. Not the binary prefix, the arrays or the CRC (model_file.c). */
#include "model_header.h"

#include "error.h"
#include "optimizer.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text header: writing ----------------------------------------------------------------- */

typedef hood__header_text text;

static void text_printf(text *t, const char *fmt, ...) HOOD_PRINTF(2, 3);

static void text_printf(text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(t->data == NULL ? NULL : t->data + t->len,
                          t->data == NULL ? 0 : t->cap - t->len, fmt, args);
        va_end(args);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if (t->data != NULL && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap - t->len <= (size_t)n)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (grown == NULL) {
            t->failed = true;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
}

/* The locale's decimal point may not be '.' when hood runs inside a program that called
 * setlocale: numbers are written and read with '.' whatever the locale. */
static char locale_point(void)
{
    const struct lconv *lc = localeconv();
    return lc != NULL && lc->decimal_point != NULL && lc->decimal_point[0] != '\0'
               ? lc->decimal_point[0]
               : '.';
}

/* The shortest %g that reads back to the same value (0.001, not 0.00100000005): %.9g always
 * round-trips a float, %.17g a double. Formatted in the current locale, so strtod reads it. */
static void text_number(text *t, const char *key, double v, bool is_float)
{
    char buf[64];
    for (int digits = is_float ? 6 : 15; digits <= (is_float ? 9 : 17); digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        double back = strtod(buf, NULL);
        if (is_float ? (float)back == (float)v : back == v)
            break;
    }
    char point = locale_point();
    if (point != '.')
        for (char *p = buf; *p != '\0'; p++)
            if (*p == point)
                *p = '.';
    text_printf(t, " %s=%s", key, buf);
}

/* Class names are one token: bytes <= ' ', '%', '=' and 0x7f become %XX. */
static void text_escaped(text *t, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= ' ' || *p == '%' || *p == '=' || *p == 0x7f)
            text_printf(t, "%%%02X", *p);
        else
            text_printf(t, "%c", *p);
    }
}

static const char *const color_names[] = {"grayscale", "rgb", "rgba"};
static const char *const interp_names[] = {"bilinear", "nearest", "bicubic", "lanczos3", "area"};

void hood__model_header_write(hood__header_text *t, const hood_model *m)
{
    text_printf(t, "hood-model %d\n", HOOD__MODEL_FORMAT_VERSION);
    text_printf(t, "input_features %zu\n", m->input_features);
    if (m->input_image)
        text_printf(t, "input_shape %zu %zu %zu\n", m->input_h, m->input_w, m->input_c);
    else
        text_printf(t, "input_shape %zu\n", m->input_features);
    text_printf(t, "layers %zu\n", m->num_layers);
    for (size_t i = 0; i < m->num_layers; i++) {
        const hood__layer *l = &m->layers[i];
        /* every field on every line (those a kind does not use are 0), one parser for all */
        text_printf(t,
                    "layer %zu kind=%s units=%zu activation=%s use_bias=%d initializer=%s "
                    "kernel=%zux%zu strides=%zux%zu padding=%s",
                    i, hood_layer_kind_snake(l->kind), l->units, hood_activation_name(l->act),
                    l->use_bias ? 1 : 0, hood_initializer_name(m->inits[i]), l->kh, l->kw, l->sh,
                    l->sw, l->same ? "same" : "valid");
        text_number(t, "rate", l->rate, true);
        text_number(t, "momentum", l->momentum, true);
        text_number(t, "epsilon", l->epsilon, true);
        text_printf(t, "\n");
    }
    text_printf(t, "compiled %d\n", m->compiled ? 1 : 0);
    if (m->compiled) {
        const hood_optimizer_config *o = &m->opt;
        text_printf(t, "loss %s\n", hood_loss_name(m->loss));
        text_printf(t, "optimizer %s", hood_optimizer_name(o->kind));
        text_number(t, "learning_rate", o->learning_rate, true);
        text_number(t, "momentum", o->momentum, true);
        text_printf(t, " nesterov=%d", o->nesterov ? 1 : 0);
        text_number(t, "beta_1", o->beta_1, true);
        text_number(t, "beta_2", o->beta_2, true);
        text_number(t, "rho", o->rho, true);
        text_number(t, "epsilon", o->epsilon, true);
        text_printf(t, "\noptimizer_state step=%llu slots=%zu\n", (unsigned long long)m->opt_step,
                    m->opt_slots);
        text_printf(t, "seed %llu\n", (unsigned long long)m->seed);
    }
    const hood__train_position *p = &m->position;
    text_printf(t,
                "position epochs_done=%zu batch=%zu batch_size=%zu train_samples=%zu shuffle=%d "
                "shuffle_seed=%llu samples=%zu correct=%zu",
                p->epochs_done, p->batch, p->batch_size, p->train_samples, p->shuffle ? 1 : 0,
                (unsigned long long)p->shuffle_seed, p->samples, p->correct);
    text_number(t, "loss_sum", p->loss_sum, false);
    text_number(t, "seconds", p->seconds, false);
    text_number(t, "gather_seconds", p->gather_seconds, false);
    text_number(t, "forward_seconds", p->forward_seconds, false);
    text_number(t, "backward_seconds", p->backward_seconds, false);
    text_number(t, "update_seconds", p->update_seconds, false);
    text_printf(t, "\n");
    if (m->has_preprocess) {
        const hood_preprocess *pp = &m->preprocess;
        text_printf(t,
                    "preprocess height=%zu width=%zu color_mode=%s interpolation=%s "
                    "crop_to_aspect_ratio=%d pad_to_aspect_ratio=%d raw_values=%d "
                    "jpeg_draft=%d exif_transpose=%d alpha_background=%ld\n",
                    pp->height, pp->width, color_names[pp->color_mode],
                    interp_names[pp->interpolation], pp->crop_to_aspect_ratio ? 1 : 0,
                    pp->pad_to_aspect_ratio ? 1 : 0, pp->raw_values ? 1 : 0, pp->jpeg_draft ? 1 : 0,
                    pp->exif_transpose ? 1 : 0, (long)pp->alpha_background);
    }
    text_printf(t, "classes %zu\n", m->num_classes);
    for (size_t i = 0; i < m->num_classes; i++) {
        text_printf(t, "class %zu ", i);
        text_escaped(t, m->class_names[i]);
        text_printf(t, "\n");
    }
    text_printf(t, "history %zu\n", m->history_length);
    for (size_t e = 0; e < m->history_length; e++) {
        const hood_epoch_log *h = &m->history[e];
        text_printf(t, "epoch %zu", h->epoch);
        text_number(t, "loss", h->loss, false);
        text_number(t, "accuracy", h->accuracy, false);
        text_printf(t, " has_validation=%d", h->has_validation ? 1 : 0);
        text_number(t, "val_loss", h->val_loss, false);
        text_number(t, "val_accuracy", h->val_accuracy, false);
        text_number(t, "seconds", h->seconds, false);
        text_number(t, "gather_seconds", h->gather_seconds, false);
        text_number(t, "forward_seconds", h->forward_seconds, false);
        text_number(t, "backward_seconds", h->backward_seconds, false);
        text_number(t, "update_seconds", h->update_seconds, false);
        text_printf(t, " samples=%zu\n", h->samples);
    }
    if (m->has_fit_record) { /* optional: files from before it read as "no record" */
        const hood_fit_record *f = &m->fit_record;
        text_printf(t, "fit epochs=%zu batch_size=%zu shuffle=%d seed=%llu threads=%d", f->epochs,
                    f->batch_size, f->shuffle ? 1 : 0, (unsigned long long)f->seed, f->threads);
        text_number(t, "validation_split", f->validation_split, false);
        text_printf(t, " interrupted=%d stopped_epoch=%zu best_epoch=%zu restored_best=%d\n",
                    f->interrupted ? 1 : 0, f->stopped_epoch, f->best_epoch,
                    f->restored_best ? 1 : 0);
    }
    text_printf(t, "params %zu\n", m->compiled ? m->num_params : (size_t)0);
    text_printf(t, "optimizer_values %zu\n",
                m->compiled && !m->optimizer_dropped ? m->num_params * m->opt_slots : 0);
    text_printf(t, "state %zu\n", m->compiled ? m->num_state : (size_t)0);
    text_printf(t, "end\n");
}

/* ---- text header: reading ------------------------------------------------------------------ */

enum { MAX_TOKENS = 24 };

typedef struct token {
    const char *s;
    size_t len;
} token;

typedef struct reader {
    const char *p, *end;
    const char *name; /* for messages */
    size_t line_no;
    token tok[MAX_TOKENS];
    size_t ntok;
    uint32_t
        version; /* the prefix's: HOOD__MODEL_FORMAT_VERSION_DENSE or HOOD__MODEL_FORMAT_VERSION */
} reader;

static hood_status bad(const reader *r, const char *what)
{
    return hood__fail(HOOD_EFORMAT, "%s: header line %zu: %s", r->name, r->line_no, what);
}

/* Splits the next line into space-separated tokens; HOOD_EFORMAT at the end of the header. */
static hood_status next_line(reader *r)
{
    if (r->p >= r->end)
        return hood__fail(HOOD_EFORMAT, "%s: the header ends early (after line %zu)", r->name,
                          r->line_no);
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    if (nl == NULL)
        return hood__fail(HOOD_EFORMAT, "%s: header line %zu has no end", r->name, r->line_no + 1);
    r->line_no++;
    r->ntok = 0;
    const char *s = r->p;
    while (s < nl) {
        while (s < nl && *s == ' ')
            s++;
        if (s == nl)
            break;
        const char *e = s;
        while (e < nl && *e != ' ')
            e++;
        if (r->ntok == MAX_TOKENS)
            return bad(r, "too many fields");
        r->tok[r->ntok++] = (token){s, (size_t)(e - s)};
        s = e;
    }
    r->p = nl + 1;
    return HOOD_OK;
}

static bool tok_is(const token *t, const char *s)
{
    return t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

/* The next line must start with `key` and have exactly `fields` more tokens. */
static hood_status expect(reader *r, const char *key, size_t fields)
{
    hood_status st = next_line(r);
    if (st != HOOD_OK)
        return st;
    if (r->ntok == 0 || !tok_is(&r->tok[0], key)) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected '%s'", key);
        return bad(r, msg);
    }
    if (r->ntok != fields + 1) {
        char msg[96];
        snprintf(msg, sizeof msg, "'%s' needs %zu field%s", key, fields, fields == 1 ? "" : "s");
        return bad(r, msg);
    }
    return HOOD_OK;
}

static bool copy_token(const char *s, size_t len, char *buf, size_t cap)
{
    if (len == 0 || len >= cap)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return true;
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    char buf[32];
    if (!copy_token(s, len, buf, sizeof buf))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] < '0' || buf[i] > '9' || v > (UINT64_MAX - (uint64_t)(buf[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(buf[i] - '0');
    }
    *out = v;
    return true;
}

static bool parse_size(const char *s, size_t len, size_t *out)
{
    uint64_t v;
    if (!parse_u64(s, len, &v) || v > SIZE_MAX)
        return false;
    *out = (size_t)v;
    return true;
}

static bool parse_double(const char *s, size_t len, double *out)
{
    char buf[64];
    if (!copy_token(s, len, buf, sizeof buf))
        return false;
    char point = locale_point();
    if (point != '.')
        for (char *p = buf; *p != '\0'; p++)
            if (*p == '.')
                *p = point;
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end == buf || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* Value of `key=` among tokens [from, ntok) of the current line. */
static hood_status field(const reader *r, size_t from, const char *key, token *out)
{
    size_t klen = strlen(key);
    for (size_t i = from; i < r->ntok; i++) {
        const token *t = &r->tok[i];
        if (t->len > klen && memcmp(t->s, key, klen) == 0 && t->s[klen] == '=') {
            *out = (token){t->s + klen + 1, t->len - klen - 1};
            return HOOD_OK;
        }
    }
    char msg[96];
    snprintf(msg, sizeof msg, "missing field '%s'", key);
    return bad(r, msg);
}

static hood_status field_size(const reader *r, size_t from, const char *key, size_t *out)
{
    token v;
    hood_status st = field(r, from, key, &v);
    if (st != HOOD_OK)
        return st;
    if (!parse_size(v.s, v.len, out)) {
        char msg[96];
        snprintf(msg, sizeof msg, "'%s' is not a count", key);
        return bad(r, msg);
    }
    return HOOD_OK;
}

static hood_status field_u64(const reader *r, size_t from, const char *key, uint64_t *out)
{
    token v;
    hood_status st = field(r, from, key, &v);
    if (st != HOOD_OK)
        return st;
    if (!parse_u64(v.s, v.len, out))
        return bad(r, "a field is not a whole number");
    return HOOD_OK;
}

static hood_status field_bool(const reader *r, size_t from, const char *key, bool *out)
{
    size_t v = 0;
    hood_status st = field_size(r, from, key, &v);
    if (st != HOOD_OK)
        return st;
    if (v > 1)
        return bad(r, "a flag is not 0 or 1");
    *out = v == 1;
    return HOOD_OK;
}

static hood_status field_double(const reader *r, size_t from, const char *key, double *out)
{
    token v;
    hood_status st = field(r, from, key, &v);
    if (st != HOOD_OK)
        return st;
    if (!parse_double(v.s, v.len, out)) {
        char msg[96];
        snprintf(msg, sizeof msg, "'%s' is not a number", key);
        return bad(r, msg);
    }
    return HOOD_OK;
}

static hood_status field_float(const reader *r, size_t from, const char *key, float *out)
{
    double v = 0.0;
    hood_status st = field_double(r, from, key, &v);
    if (st == HOOD_OK)
        *out = (float)v;
    return st;
}

/* A name field (e.g. activation=tanh) looked up in a table or through a parse function. */
static hood_status field_word(const reader *r, size_t from, const char *key, char *buf, size_t cap)
{
    token v;
    hood_status st = field(r, from, key, &v);
    if (st != HOOD_OK)
        return st;
    if (!copy_token(v.s, v.len, buf, cap))
        return bad(r, "a name is too long");
    return HOOD_OK;
}

static int table_index(const char *const *table, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i], s) == 0)
            return (int)i;
    return -1;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

/* Undoes text_escaped into a malloc'd string; NULL on a bad escape (or no memory). */
static char *unescape(const token *t)
{
    char *s = malloc(t->len + 1);
    if (s == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->s[i] == '%') {
            int hi = i + 2 < t->len ? hex_digit(t->s[i + 1]) : -1;
            int lo = i + 2 < t->len ? hex_digit(t->s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(s);
                return NULL;
            }
            s[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            s[n++] = t->s[i];
        }
    }
    s[n] = '\0';
    return s;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        hood_status try_st_ = (expr);                                                              \
        if (try_st_ != HOOD_OK)                                                                    \
            return try_st_;                                                                        \
    } while (0)

typedef hood__header_counts header_counts;

static hood_status parse_optimizer(reader *r, hood_optimizer_config *o)
{
    TRY(next_line(r));
    if (r->ntok != 9 || !tok_is(&r->tok[0], "optimizer"))
        return bad(r, "expected 'optimizer' with 8 fields");
    char kind[32];
    if (!copy_token(r->tok[1].s, r->tok[1].len, kind, sizeof kind) ||
        hood_optimizer_parse(kind, &o->kind) != HOOD_OK)
        return bad(r, "unknown optimizer");
    TRY(field_float(r, 2, "learning_rate", &o->learning_rate));
    TRY(field_float(r, 2, "momentum", &o->momentum));
    TRY(field_bool(r, 2, "nesterov", &o->nesterov));
    TRY(field_float(r, 2, "beta_1", &o->beta_1));
    TRY(field_float(r, 2, "beta_2", &o->beta_2));
    TRY(field_float(r, 2, "rho", &o->rho));
    TRY(field_float(r, 2, "epsilon", &o->epsilon));
    if (hood__optimizer_check(o) != HOOD_OK)
        return bad(r, "optimizer settings out of range");
    return HOOD_OK;
}

static hood_status parse_position(reader *r, hood__train_position *p)
{
    TRY(next_line(r));
    if (r->ntok != 15 || !tok_is(&r->tok[0], "position"))
        return bad(r, "expected 'position' with 14 fields");
    TRY(field_size(r, 1, "epochs_done", &p->epochs_done));
    TRY(field_size(r, 1, "batch", &p->batch));
    TRY(field_size(r, 1, "batch_size", &p->batch_size));
    TRY(field_size(r, 1, "train_samples", &p->train_samples));
    TRY(field_bool(r, 1, "shuffle", &p->shuffle));
    TRY(field_u64(r, 1, "shuffle_seed", &p->shuffle_seed));
    TRY(field_size(r, 1, "samples", &p->samples));
    TRY(field_size(r, 1, "correct", &p->correct));
    TRY(field_double(r, 1, "loss_sum", &p->loss_sum));
    TRY(field_double(r, 1, "seconds", &p->seconds));
    TRY(field_double(r, 1, "gather_seconds", &p->gather_seconds));
    TRY(field_double(r, 1, "forward_seconds", &p->forward_seconds));
    TRY(field_double(r, 1, "backward_seconds", &p->backward_seconds));
    TRY(field_double(r, 1, "update_seconds", &p->update_seconds));
    if (p->correct > p->samples || (p->batch > 0 && p->batch_size == 0))
        return bad(r, "inconsistent training position");
    return HOOD_OK;
}

static hood_status parse_epoch(reader *r, size_t e, hood_epoch_log *h)
{
    TRY(next_line(r));
    if (r->ntok != 13 || !tok_is(&r->tok[0], "epoch"))
        return bad(r, "expected 'epoch' with 12 fields");
    if (!parse_size(r->tok[1].s, r->tok[1].len, &h->epoch))
        return bad(r, "bad epoch number");
    (void)e;
    TRY(field_double(r, 2, "loss", &h->loss));
    TRY(field_double(r, 2, "accuracy", &h->accuracy));
    TRY(field_bool(r, 2, "has_validation", &h->has_validation));
    TRY(field_double(r, 2, "val_loss", &h->val_loss));
    TRY(field_double(r, 2, "val_accuracy", &h->val_accuracy));
    TRY(field_double(r, 2, "seconds", &h->seconds));
    TRY(field_double(r, 2, "gather_seconds", &h->gather_seconds));
    TRY(field_double(r, 2, "forward_seconds", &h->forward_seconds));
    TRY(field_double(r, 2, "backward_seconds", &h->backward_seconds));
    TRY(field_double(r, 2, "update_seconds", &h->update_seconds));
    TRY(field_size(r, 2, "samples", &h->samples));
    return HOOD_OK;
}

/* "3x5" into two sizes. */
static hood_status field_pair(const reader *r, const char *key, size_t *a, size_t *b)
{
    token t;
    TRY(field(r, 2, key, &t));
    const char *x = memchr(t.s, 'x', t.len);
    if (x == NULL || !parse_size(t.s, (size_t)(x - t.s), a) ||
        !parse_size(x + 1, t.len - (size_t)(x - t.s) - 1, b))
        return bad(r, "a kernel or strides field is not HxW");
    return HOOD_OK;
}

/* A version 2 layer line: every kind's fields, checked by the model as an API call would. */
static hood_status parse_layer(reader *r, hood_model *m, size_t i)
{
    size_t index;
    char kind_name[48], act_name[32], init_name[32], padding[8];
    hood__layer l;
    memset(&l, 0, sizeof l);
    TRY(expect(r, "layer", 12));
    if (!parse_size(r->tok[1].s, r->tok[1].len, &index) || index != i)
        return bad(r, "layers out of order");
    TRY(field_word(r, 2, "kind", kind_name, sizeof kind_name));
    TRY(field_size(r, 2, "units", &l.units));
    TRY(field_word(r, 2, "activation", act_name, sizeof act_name));
    TRY(field_bool(r, 2, "use_bias", &l.use_bias));
    TRY(field_word(r, 2, "initializer", init_name, sizeof init_name));
    TRY(field_pair(r, "kernel", &l.kh, &l.kw));
    TRY(field_pair(r, "strides", &l.sh, &l.sw));
    TRY(field_word(r, 2, "padding", padding, sizeof padding));
    TRY(field_float(r, 2, "rate", &l.rate));
    TRY(field_float(r, 2, "momentum", &l.momentum));
    TRY(field_float(r, 2, "epsilon", &l.epsilon));
    int kind = -1;
    for (int k = 0; k <= (int)HOOD_LAYER_BATCH_NORMALIZATION; k++)
        if (strcmp(kind_name, hood_layer_kind_snake((hood_layer_kind)k)) == 0)
            kind = k;
    hood_initializer init;
    if (kind < 0)
        return bad(r, "unknown layer kind");
    if (hood_activation_parse(act_name, &l.act) != HOOD_OK)
        return bad(r, "unknown activation");
    if (hood_initializer_parse(init_name, &init) != HOOD_OK)
        return bad(r, "unknown initializer");
    if (strcmp(padding, "same") != 0 && strcmp(padding, "valid") != 0)
        return bad(r, "padding is not 'same' or 'valid'");
    l.kind = (hood_layer_kind)kind;
    l.same = strcmp(padding, "same") == 0;
    /* the same checks as the API's add calls */
    hood_status st;
    switch (l.kind) {
    case HOOD_LAYER_DENSE:
        st = hood_model_add_dense(m, l.units, l.act, l.use_bias);
        break;
    case HOOD_LAYER_CONV2D:
        st = hood_model_add_conv2d(m, l.units, l.kh, l.kw, l.sh, l.sw, l.same, l.act, l.use_bias);
        break;
    case HOOD_LAYER_MAX_POOLING2D:
        st = hood_model_add_max_pooling2d(m, l.kh, l.kw, l.sh, l.sw, l.same);
        break;
    case HOOD_LAYER_AVERAGE_POOLING2D:
        st = hood_model_add_average_pooling2d(m, l.kh, l.kw, l.sh, l.sw, l.same);
        break;
    case HOOD_LAYER_GLOBAL_AVERAGE_POOLING2D:
        st = hood_model_add_global_average_pooling2d(m);
        break;
    case HOOD_LAYER_FLATTEN:
        st = hood_model_add_flatten(m);
        break;
    case HOOD_LAYER_DROPOUT:
        st = hood_model_add_dropout(m, l.rate);
        break;
    default:
        st = hood_model_add_batch_normalization(m, l.momentum, l.epsilon);
        break;
    }
    if (st == HOOD_ENOMEM)
        return st;
    if (st != HOOD_OK) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s", hood_last_error());
        return bad(r, msg);
    }
    m->inits[i] = init;
    return HOOD_OK;
}

/* The optional "fit" line (the current one): the fit record. */
static hood_status parse_fit(reader *r, hood_fit_record *f)
{
    size_t threads;
    if (r->ntok != 11)
        return bad(r, "expected 'fit' with 10 fields");
    TRY(field_size(r, 1, "epochs", &f->epochs));
    TRY(field_size(r, 1, "batch_size", &f->batch_size));
    TRY(field_bool(r, 1, "shuffle", &f->shuffle));
    TRY(field_u64(r, 1, "seed", &f->seed));
    TRY(field_size(r, 1, "threads", &threads));
    TRY(field_double(r, 1, "validation_split", &f->validation_split));
    TRY(field_bool(r, 1, "interrupted", &f->interrupted));
    TRY(field_size(r, 1, "stopped_epoch", &f->stopped_epoch));
    TRY(field_size(r, 1, "best_epoch", &f->best_epoch));
    TRY(field_bool(r, 1, "restored_best", &f->restored_best));
    if (threads > 1024 || f->batch_size == 0 || !(f->validation_split >= 0.0) ||
        !(f->validation_split < 1.0) || (f->restored_best && f->best_epoch == 0))
        return bad(r, "fit settings out of range");
    f->threads = (int)threads;
    return HOOD_OK;
}

typedef hood__parsed_header parsed;

/* The header after the classes: history, the optional fit record, the counts and "end". */
static hood_status parse_tail(reader *r, parsed *out)
{
    hood_model *m = out->model;
    size_t count;
    TRY(expect(r, "history", 1));
    if (!parse_size(r->tok[1].s, r->tok[1].len, &count) || count > (size_t)(r->end - r->p))
        return bad(r, "history must be a count that fits the header");
    for (size_t e = 0; e < count; e++) {
        hood_epoch_log h;
        memset(&h, 0, sizeof h);
        TRY(parse_epoch(r, e, &h));
        TRY(hood__model_push_history(m, &h));
    }
    TRY(next_line(r));
    if (r->ntok > 0 && tok_is(&r->tok[0], "fit")) {
        TRY(parse_fit(r, &out->fit));
        out->has_fit = true;
        TRY(next_line(r));
    }
    if (r->ntok != 2 || !tok_is(&r->tok[0], "params"))
        return bad(r, "expected 'params' and a count");
    if (!parse_size(r->tok[1].s, r->tok[1].len, &out->counts.params))
        return bad(r, "params is not a count");
    TRY(expect(r, "optimizer_values", 1));
    if (!parse_size(r->tok[1].s, r->tok[1].len, &out->counts.optimizer_values))
        return bad(r, "optimizer_values is not a count");
    if (r->version != HOOD__MODEL_FORMAT_VERSION_DENSE) {
        TRY(expect(r, "state", 1));
        if (!parse_size(r->tok[1].s, r->tok[1].len, &out->counts.state))
            return bad(r, "state is not a count");
    }
    TRY(expect(r, "end", 0));
    if (r->p != r->end)
        return bad(r, "text after 'end'");
    return HOOD_OK;
}

/* The "preprocess" line (8 fields, or 11 since jpeg_draft / exif_transpose / alpha_background)
 * into m. */
static hood_status parse_preprocess(reader *r, hood_model *m)
{
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    char color[16], interp[16];
    TRY(field_size(r, 1, "height", &pp.height));
    TRY(field_size(r, 1, "width", &pp.width));
    TRY(field_word(r, 1, "color_mode", color, sizeof color));
    TRY(field_word(r, 1, "interpolation", interp, sizeof interp));
    TRY(field_bool(r, 1, "crop_to_aspect_ratio", &pp.crop_to_aspect_ratio));
    TRY(field_bool(r, 1, "pad_to_aspect_ratio", &pp.pad_to_aspect_ratio));
    TRY(field_bool(r, 1, "raw_values", &pp.raw_values));
    if (r->ntok == 11) {
        size_t background = 0;
        TRY(field_bool(r, 1, "jpeg_draft", &pp.jpeg_draft));
        TRY(field_bool(r, 1, "exif_transpose", &pp.exif_transpose));
        token v;
        TRY(field(r, 1, "alpha_background", &v));
        if (v.len == 2 && memcmp(v.s, "-1", 2) == 0)
            pp.alpha_background = HOOD_ALPHA_IGNORE;
        else if (parse_size(v.s, v.len, &background) && background <= 0xFFFFFF)
            pp.alpha_background = (int32_t)background;
        else
            return bad(r, "alpha_background is not -1 or a colour 0..0xFFFFFF");
    } else {
        /* A file written before these fields existed: its model saw hood's pixels of
         * then (shrink-on-load, EXIF applied, alpha over black), so predict repeats them. */
        pp.jpeg_draft = true;
        pp.exif_transpose = true;
        pp.alpha_background = 0x000000;
    }
    int c = table_index(color_names, 3, color), k = table_index(interp_names, 5, interp);
    if (c < 0 || k < 0)
        return bad(r, "unknown color mode or interpolation");
    pp.color_mode = (hood_color_mode)c;
    pp.interpolation = (hood_interpolation)k;
    if (hood_model_set_preprocess(m, &pp) != HOOD_OK)
        return bad(r, "preprocess does not match input_features");
    return HOOD_OK;
}

static hood_status parse_header(reader *r, parsed *out)
{
    size_t version, d, n_layers, count, shape[3] = {0, 0, 0};
    TRY(expect(r, "hood-model", 1));
    if (!parse_size(r->tok[1].s, r->tok[1].len, &version) || version != r->version)
        return bad(r, "header version is not the file's");
    TRY(expect(r, "input_features", 1));
    if (!parse_size(r->tok[1].s, r->tok[1].len, &d) || d == 0)
        return bad(r, "input_features must be a count > 0");
    TRY(next_line(r));
    if (r->ntok < 2 || r->ntok > 4 || !tok_is(&r->tok[0], "input_shape"))
        return bad(r, "expected 'input_shape' with 1 to 3 sizes");
    for (size_t k = 0; r->ntok == 4 && k < 3; k++)
        if (!parse_size(r->tok[k + 1].s, r->tok[k + 1].len, &shape[k]))
            return bad(r, "input_shape is not three sizes");
    TRY(expect(r, "layers", 1));
    /* Each layer takes a header line, so a count beyond the header's size is a lie. */
    if (!parse_size(r->tok[1].s, r->tok[1].len, &n_layers) || n_layers == 0 ||
        n_layers > (size_t)(r->end - r->p))
        return bad(r, "layers must be a count > 0 that fits the header");
    TRY(hood_model_create(&out->model, d));
    hood_model *m = out->model;
    if (shape[0] > 0 && hood_model_set_input_shape(m, shape[0], shape[1], shape[2]) != HOOD_OK)
        return bad(r, "input_shape does not make input_features");
    for (size_t i = 0; i < n_layers && version != HOOD__MODEL_FORMAT_VERSION_DENSE; i++)
        TRY(parse_layer(r, m, i));
    for (size_t i = 0; i < n_layers && version == HOOD__MODEL_FORMAT_VERSION_DENSE; i++) {
        size_t index, units;
        bool use_bias;
        char act_name[32], init_name[32];
        hood_activation act;
        hood_initializer init;
        TRY(expect(r, "layer", 5));
        if (!parse_size(r->tok[1].s, r->tok[1].len, &index) || index != i)
            return bad(r, "layers out of order");
        TRY(field_size(r, 2, "units", &units));
        TRY(field_word(r, 2, "activation", act_name, sizeof act_name));
        TRY(field_bool(r, 2, "use_bias", &use_bias));
        TRY(field_word(r, 2, "initializer", init_name, sizeof init_name));
        if (units == 0)
            return bad(r, "a layer has 0 units");
        if (hood_activation_parse(act_name, &act) != HOOD_OK)
            return bad(r, "unknown activation");
        if (hood_initializer_parse(init_name, &init) != HOOD_OK)
            return bad(r, "unknown initializer");
        TRY(hood_model_add_dense(m, units, act, use_bias));
        m->inits[i] = init;
    }
    TRY(expect(r, "compiled", 1));
    size_t compiled;
    if (!parse_size(r->tok[1].s, r->tok[1].len, &compiled) || compiled > 1)
        return bad(r, "compiled is not 0 or 1");
    out->compiled = compiled == 1;
    if (out->compiled) {
        char loss_name[48];
        TRY(expect(r, "loss", 1));
        if (!copy_token(r->tok[1].s, r->tok[1].len, loss_name, sizeof loss_name) ||
            hood_loss_parse(loss_name, &out->loss) != HOOD_OK)
            return bad(r, "unknown loss");
        hood_optimizer_config_init(&out->opt, HOOD_OPT_SGD);
        TRY(parse_optimizer(r, &out->opt));
        TRY(expect(r, "optimizer_state", 2));
        TRY(field_u64(r, 1, "step", &out->step));
        TRY(field_size(r, 1, "slots", &out->slots));
        if (out->slots != hood__optimizer_slots(&out->opt))
            return bad(r, "optimizer_state slots do not match the optimizer");
        TRY(expect(r, "seed", 1));
        if (!parse_u64(r->tok[1].s, r->tok[1].len, &out->seed))
            return bad(r, "seed is not a whole number");
    }
    TRY(parse_position(r, &out->position));

    TRY(next_line(r));
    if ((r->ntok == 8 || r->ntok == 11) && tok_is(&r->tok[0], "preprocess")) {
        TRY(parse_preprocess(r, m));
        TRY(next_line(r));
    }
    if (r->ntok != 2 || !tok_is(&r->tok[0], "classes") ||
        !parse_size(r->tok[1].s, r->tok[1].len, &count) || count > (size_t)(r->end - r->p))
        return bad(r, "expected 'classes' and a count that fits the header");
    if (count > 0) {
        m->class_names = calloc(count, sizeof *m->class_names);
        if (m->class_names == NULL)
            return hood__fail(HOOD_ENOMEM, "%s: out of memory for %zu class names", r->name, count);
        for (size_t i = 0; i < count; i++) {
            size_t index;
            TRY(expect(r, "class", 2));
            if (!parse_size(r->tok[1].s, r->tok[1].len, &index) || index != i)
                return bad(r, "classes out of order");
            if ((m->class_names[i] = unescape(&r->tok[2])) == NULL)
                return bad(r, "bad class name escape");
            m->num_classes = i + 1;
        }
    }
    return parse_tail(r, out);
}

/* Parameters the architecture needs, or false when that overflows. */

hood_status hood__model_header_parse(const char *text, size_t len, uint32_t version,
                                     const char *name, hood__parsed_header *out)
{
    reader r = {.p = text, .end = text + len, .name = name, .version = version};
    return parse_header(&r, out);
}
