/* model_file.c — the .hood model file: a fixed binary prefix (magic, version, lengths), a
 * human-readable text header (architecture, loss, optimizer and its state, training position,
 * history, preprocessing, class names), float32 weights and optimizer state, and a CRC-32 over
 * everything; written atomically. The layout is docs/model-format.md. This file is the binary
 * frame and the arrays; the text header is model_header.c's. Not the .npz weights (weights.c).
 * Assumes a little-endian host, as npy.c does. */
#include "model_file.h"
#include "model_header.h"

#include "atomic.h"
#include "error.h"
#include "input.h"
#include "model.h"
#include "optimizer.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hood's model file code assumes a little-endian host"
#endif

/* PNG-style magic: the high byte catches 7-bit transfers, CR LF catches newline conversion,
 * 0x1a stops DOS `type`. */
static const unsigned char MAGIC[8] = {0x89, 'H', 'O', 'O', 'D', '\r', '\n', 0x1a};
enum { PREFIX_BYTES = 24, CRC_BYTES = 4 };

/* ---- CRC-32 (IEEE 802.3, reflected 0xEDB88320), zlib's crc32 ---------------------------- */

typedef struct crc32_ctx {
    uint32_t value;
} crc32_ctx;

static void crc32_init(crc32_ctx *c)
{
    c->value = (uint32_t)crc32_z(0, Z_NULL, 0);
}

static void crc32_update(crc32_ctx *c, const void *data, size_t n)
{
    if (n > 0)
        c->value = (uint32_t)crc32_z(c->value, data, n);
}

static uint32_t crc32_final(const crc32_ctx *c)
{
    return c->value;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ---- saving -------------------------------------------------------------------------------- */

static bool write_crc(FILE *f, crc32_ctx *crc, const void *data, size_t n)
{
    crc32_update(crc, data, n);
    return n == 0 || fwrite(data, 1, n, f) == n;
}

/* HOOD_EDATA naming the first layer with a weight that is not finite (or the optimizer
 * state): "PATH: refusing to save: layer 1 has a weight that is NaN". */
static hood_status non_finite(const hood_model *model, const char *path, const char *what)
{
    for (size_t l = 0, at = 0; l < model->num_layers; l++) {
        const hood__layer *layer = &model->layers[l];
        size_t count = hood__layer_kernel_floats(layer) + hood__layer_bias_floats(layer);
        for (size_t i = at; i < at + count; i++)
            if (!isfinite(model->params[i]))
                return hood__fail(HOOD_EDATA, "%s: %s: layer %zu has a weight that is %s", path,
                                  what, l, isnan(model->params[i]) ? "NaN" : "infinite");
        at += count;
    }
    return hood__fail(HOOD_EDATA, "%s: %s: the optimizer state is not finite", path, what);
}

/* What a model must be to be saved: layers, and finite weights and optimizer state. */
static hood_status save_check(const hood_model *model, const char *path)
{
    if (model->num_layers == 0)
        return hood__fail(HOOD_EINVAL, "%s: the model has no layers; nothing to save", path);
    if (model->compiled && !hood__model_params_finite(model))
        return non_finite(model, path, "refusing to save");
    return HOOD_OK;
}

/* The whole file (prefix, header, weights, optimizer state, CRC) to f; the one writer of both
 * the file and the in-memory copy, so they are the same bytes. */
static hood_status write_model(const hood_model *model, const char *path, FILE *f)
{
    hood__header_text header = {0};
    hood__model_header_write(&header, model);
    if (header.failed) {
        free(header.data);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory writing the header", path);
    }
    if (header.len > UINT32_MAX) {
        free(header.data);
        return hood__fail(HOOD_EINVAL, "%s: the header is over 4 GiB", path);
    }
    size_t slots = model->optimizer_dropped ? 0 : model->opt_slots;
    size_t values = model->compiled ? model->num_params * (1 + slots) + model->num_state : 0;
    uint64_t total = (uint64_t)PREFIX_BYTES + header.len + 4 * (uint64_t)values + CRC_BYTES;
    unsigned char prefix[PREFIX_BYTES];
    memcpy(prefix, MAGIC, sizeof MAGIC);
    put_u32(prefix + 8, HOOD__MODEL_FORMAT_VERSION);
    put_u32(prefix + 12, (uint32_t)header.len);
    put_u64(prefix + 16, total);

    crc32_ctx crc;
    crc32_init(&crc);
    bool ok =
        write_crc(f, &crc, prefix, sizeof prefix) && write_crc(f, &crc, header.data, header.len);
    if (ok && model->compiled) {
        ok = write_crc(f, &crc, model->params, model->num_params * sizeof(float));
        if (ok && slots > 0)
            ok = write_crc(f, &crc, model->opt_state, model->num_params * slots * sizeof(float));
        if (ok && model->num_state > 0)
            ok = write_crc(f, &crc, model->state, model->num_state * sizeof(float));
    }
    unsigned char trailer[CRC_BYTES];
    put_u32(trailer, crc32_final(&crc));
    ok = ok && fwrite(trailer, 1, sizeof trailer, f) == sizeof trailer;
    free(header.data);
    return ok ? HOOD_OK : hood__fail(HOOD_EIO, "%s: write failed", path);
}

hood_status hood_model_save(const hood_model *model, const char *path)
{
    hood__clear_error();
    if (model == NULL || path == NULL)
        return hood__fail(HOOD_EINVAL, "save: NULL argument");
    hood_status st = save_check(model, path);
    if (st != HOOD_OK)
        return st;
    hood__atomic_file *file = NULL;
    if ((st = hood__atomic_open(&file, path)) != HOOD_OK)
        return st;
    if ((st = write_model(model, path, hood__atomic_stream(file))) != HOOD_OK) {
        hood__atomic_abort(file);
        return st;
    }
    return hood__atomic_commit(file);
}

hood_status hood_model_save_to_buffer(const hood_model *model, void **data, size_t *size)
{
    hood__clear_error();
    if (data != NULL)
        *data = NULL;
    if (size != NULL)
        *size = 0;
    if (model == NULL || data == NULL || size == NULL)
        return hood__fail(HOOD_EINVAL, "save to buffer: NULL argument");
    const char *name = "(buffer)";
    hood_status st = save_check(model, name);
    if (st != HOOD_OK)
        return st;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return hood__fail(HOOD_ENOMEM, "%s: out of memory", name);
    st = write_model(model, name, f);
    if (fclose(f) != 0 && st == HOOD_OK)
        st = hood__fail(HOOD_ENOMEM, "%s: out of memory", name);
    if (st != HOOD_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = len;
    return HOOD_OK;
}

static bool architecture_params(const hood_model *m, size_t *out)
{
    size_t sum = 0, w;
    for (size_t i = 0; i < m->num_layers; i++) {
        const hood__layer *l = &m->layers[i];
        size_t rows = l->kind == HOOD_LAYER_CONV2D ? l->kh * l->kw * l->ic : l->in;
        if (l->kind == HOOD_LAYER_DENSE || l->kind == HOOD_LAYER_CONV2D) {
            if (hood__mul_overflows(rows, l->oc, &w) || w > SIZE_MAX - sum)
                return false;
            sum += w;
        }
        size_t bias = hood__layer_bias_floats(l) + (l->kind == HOOD_LAYER_BATCH_NORMALIZATION
                                                        ? l->oc /* gamma */
                                                        : 0);
        if (bias > SIZE_MAX - sum)
            return false;
        sum += bias;
    }
    *out = sum;
    return true;
}

static hood_status parse_into(const unsigned char *b, size_t len, const char *name,
                              hood__parsed_header *ps)
{
    size_t head = len < sizeof MAGIC ? len : sizeof MAGIC;
    if (memcmp(b, MAGIC, head) != 0)
        return hood__fail(HOOD_EFORMAT, "%s: not a hood model file (wrong magic bytes)", name);
    if (len < PREFIX_BYTES + CRC_BYTES)
        return hood__fail(HOOD_EFORMAT, "%s: truncated: %zu bytes, too short for a hood model",
                          name, len);
    uint32_t version = get_u32(b + 8);
    if (version != HOOD__MODEL_FORMAT_VERSION && version != HOOD__MODEL_FORMAT_VERSION_DENSE)
        return hood__fail(
            HOOD_EFORMAT, "%s: model file format version %u; this hood reads versions %d and %d",
            name, (unsigned)version, HOOD__MODEL_FORMAT_VERSION_DENSE, HOOD__MODEL_FORMAT_VERSION);
    uint32_t header_len = get_u32(b + 12);
    uint64_t total = get_u64(b + 16);
    if (total != (uint64_t)len)
        return hood__fail(HOOD_EFORMAT, "%s: %s: the file has %zu bytes, its header says %llu",
                          name, (uint64_t)len < total ? "truncated" : "trailing bytes", len,
                          (unsigned long long)total);
    crc32_ctx crc;
    crc32_init(&crc);
    crc32_update(&crc, b, len - CRC_BYTES);
    uint32_t want = get_u32(b + len - CRC_BYTES), got = crc32_final(&crc);
    if (want != got)
        return hood__fail(HOOD_EFORMAT,
                          "%s: checksum mismatch (stored %08x, computed %08x): the file is "
                          "corrupted",
                          name, (unsigned)want, (unsigned)got);
    if ((size_t)header_len > len - PREFIX_BYTES - CRC_BYTES)
        return hood__fail(HOOD_EFORMAT, "%s: the header length %u runs past the end", name,
                          (unsigned)header_len);

    hood_status parsed_st =
        hood__model_header_parse((const char *)b + PREFIX_BYTES, header_len, version, name, ps);
    if (parsed_st != HOOD_OK)
        return parsed_st;

    size_t need = 0, values = 0, binary = len - PREFIX_BYTES - CRC_BYTES - header_len;
    size_t state = ps->compiled ? hood_model_num_state(ps->model) : 0;
    if (ps->compiled) {
        if (!architecture_params(ps->model, &need) || hood__mul_overflows(need, ps->slots, &values))
            return hood__fail(HOOD_EFORMAT, "%s: the architecture's size overflows", name);
    }
    /* 0 optimizer values for an optimizer that keeps some: the state was dropped on save
     * (hood_model_drop_optimizer_state); it starts at zero, as before a first step. */
    bool dropped = ps->compiled && values > 0 && ps->counts.optimizer_values == 0;
    if (dropped)
        values = 0;
    if (ps->counts.params != need || ps->counts.optimizer_values != values ||
        ps->counts.state != state)
        return hood__fail(HOOD_EFORMAT,
                          "%s: the header counts %zu parameters, %zu optimizer values and %zu "
                          "state values, the architecture has %zu, %zu and %zu",
                          name, ps->counts.params, ps->counts.optimizer_values, ps->counts.state,
                          need, values, state);
    if (binary % 4 != 0 || need + values < need || need + values + state < state ||
        binary / 4 != need + values + state)
        return hood__fail(HOOD_EFORMAT, "%s: %zu bytes of weights, expected %zu floats", name,
                          binary, need + values + state);
    hood_model *m = ps->model;
    if (ps->compiled) {
        /* compile_raw starts a model over: keep the history parsed into it */
        size_t history_length = m->history_length;
        hood_status st = hood__model_compile_raw(m, ps->loss, &ps->opt, ps->seed);
        if (st == HOOD_ENOMEM)
            return st;
        if (st != HOOD_OK) /* e.g. a loss the output layer cannot take: the bytes are wrong */
            return hood__fail_prefix(HOOD_EFORMAT, "%s: the stored model does not compile: ", name);
        m->history_length = history_length;
        const unsigned char *data = b + PREFIX_BYTES + header_len;
        memcpy(m->params, data, need * sizeof(float));
        if (values > 0)
            memcpy(m->opt_state, data + need * sizeof(float), values * sizeof(float));
        if (state > 0)
            memcpy(m->state, data + (need + values) * sizeof(float), state * sizeof(float));
        m->opt_step = dropped ? 0 : ps->step;
        m->optimizer_dropped = dropped;
    }
    m->position = ps->position;
    m->has_fit_record = ps->has_fit;
    m->fit_record = ps->fit;
    /* A weight that is not finite is refused on load as on save: it can only give NaN. */
    if (ps->compiled && !hood__model_params_finite(m))
        return non_finite(m, name, "cannot use");
    return HOOD_OK;
}

hood_status hood__model_parse(const void *bytes, size_t len, hood_model **out, const char *name)
{
    if (out == NULL)
        return hood__fail(HOOD_EINVAL, "model parse: NULL output");
    *out = NULL;
    if (bytes == NULL && len > 0)
        return hood__fail(HOOD_EINVAL, "model parse: NULL bytes");
    if (name == NULL)
        name = "(memory)";
    hood__parsed_header ps;
    memset(&ps, 0, sizeof ps);
    hood_status st = parse_into(bytes == NULL ? (const unsigned char *)"" : bytes, len, name, &ps);
    if (st != HOOD_OK) {
        hood_model_free(ps.model);
        return st;
    }
    out[0] = ps.model;
    return HOOD_OK;
}

hood_status hood_model_load(const char *path, hood_model **out)
{
    hood__clear_error();
    if (out == NULL || path == NULL)
        return hood__fail(HOOD_EINVAL, "load: NULL argument");
    *out = NULL;
    /* A regular file only (a FIFO or /dev/zero is refused), read in one buffer of the size
     * fstat gave: a file growing meanwhile cannot make it grow. */
    FILE *f;
    uint64_t size;
    hood_status st = hood__input_fopen(path, &f, &size);
    if (st != HOOD_OK)
        return st;
    unsigned char *buf = size <= SIZE_MAX - 1 ? malloc((size_t)size + 1) : NULL;
    if (buf == NULL) {
        fclose(f);
        return hood__fail(HOOD_ENOMEM, "%s: out of memory for its %llu bytes", path,
                          (unsigned long long)size);
    }
    size_t len = fread(buf, 1, (size_t)size, f);
    bool error = ferror(f) != 0;
    fclose(f);
    if (error) {
        free(buf);
        return hood__fail(HOOD_EIO, "%s: read failed", path);
    }
    st = hood__model_parse(buf, len, out, path);
    free(buf);
    return st;
}

hood_status hood_model_load_from_buffer(hood_model **out, const void *data, size_t size)
{
    hood__clear_error();
    if (out == NULL || (data == NULL && size > 0))
        return hood__fail(HOOD_EINVAL, "load from buffer: NULL argument");
    return hood__model_parse(data, size, out, "(buffer)");
}
