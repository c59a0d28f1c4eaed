/* dataset.c — the in-memory dataset: X (features x samples, column-major, owned or borrowed,
 * float32 or 8-bit codes with the one widening rule), labels (label_width x samples floats),
 * class names, source paths, image shape. It does not read or write files; io/ does. */
#include "dataset.h"

#include "error.h"
#include "matrix.h"
#include "parallel.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct hood_dataset {
    size_t features, samples;
    const float *x;
    float *x_owned; /* == x when the dataset owns X, NULL when it wraps caller memory */
    /* 8-bit storage: x and x_owned are NULL, codes holds X and value = code / divisor;
     * widened is hood_dataset_x's float copy, made once on first call (set atomically: const
     * readers may race to make it, one copy wins). */
    const uint8_t *codes;
    uint8_t *codes_owned; /* == codes when the dataset owns them, NULL when it wraps them */
    float divisor;
    _Atomic(float *) widened;
    hood_label_mode label_mode;
    size_t label_width, num_classes;
    float *labels;
    char **class_names;
    size_t num_class_names;
    char **paths;
    size_t height, width, channels;
    size_t shard_first, global_samples; /* global_samples 0: not a shard */
    hood_preprocess preprocess;         /* how images became the columns, when has_preprocess */
    bool has_preprocess;
};

static hood_status dataset_new(hood_dataset **out, size_t features, size_t samples)
{
    *out = NULL;
    if (features == 0 || samples == 0)
        return hood__fail(HOOD_EINVAL,
                          "dataset needs at least one feature and one sample "
                          "(got %zu features x %zu samples)",
                          features, samples);
    hood_dataset *ds = calloc(1, sizeof *ds);
    if (ds == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory for a dataset");
    ds->features = features;
    ds->samples = samples;
    ds->label_mode = HOOD_LABELS_NONE;
    *out = ds;
    return HOOD_OK;
}

hood_status hood_dataset_create(hood_dataset **out, size_t features, size_t samples)
{
    hood__clear_error();
    hood_status status = dataset_new(out, features, samples);
    if (status != HOOD_OK)
        return status;
    size_t count, bytes;
    if (hood__mul_overflows(features, samples, &count) ||
        hood__mul_overflows(count, sizeof(float), &bytes)) {
        hood_dataset_free(*out);
        *out = NULL;
        return hood__fail(HOOD_ENOMEM, "a %zu x %zu float matrix does not fit in memory", features,
                          samples);
    }
    /* calloc: the pages of a large matrix are mapped zeroed and touched only when filled. */
    (*out)->x_owned = calloc(count, sizeof(float));
    if ((*out)->x_owned == NULL) {
        hood_dataset_free(*out);
        *out = NULL;
        return hood__fail(HOOD_ENOMEM, "cannot allocate a %zu x %zu float matrix (%zu bytes)",
                          features, samples, bytes);
    }
    (*out)->x = (*out)->x_owned;
    return HOOD_OK;
}

hood_status hood_dataset_wrap(hood_dataset **out, const float *x, size_t features, size_t samples)
{
    hood__clear_error();
    if (x == NULL) {
        *out = NULL;
        return hood__fail(HOOD_EINVAL, "hood_dataset_wrap: x is NULL");
    }
    hood_status status = dataset_new(out, features, samples);
    if (status == HOOD_OK)
        (*out)->x = x;
    return status;
}

static void free_strings(char **strings, size_t count)
{
    if (strings == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

void hood_dataset_free(hood_dataset *ds)
{
    if (ds == NULL)
        return;
    free(ds->x_owned);
    free(ds->codes_owned);
    free(atomic_load(&ds->widened));
    free(ds->labels);
    free_strings(ds->class_names, ds->num_class_names);
    free_strings(ds->paths, ds->samples);
    free(ds);
}

size_t hood_dataset_features(const hood_dataset *ds)
{
    return ds->features;
}
size_t hood_dataset_samples(const hood_dataset *ds)
{
    return ds->samples;
}
/* A new float32 copy of the codes (NULL when it cannot be allocated, with the message). */
static float *widen_all(const hood_dataset *ds)
{
    size_t count = ds->features * ds->samples; /* checked when the codes were allocated */
    float *x = malloc(count * sizeof(float));
    if (x == NULL) {
        hood__fail(HOOD_ENOMEM, "cannot allocate the float32 copy of a %zu x %zu 8-bit matrix",
                   ds->features, ds->samples);
        return NULL;
    }
    for (size_t k = 0; k < count; k++)
        x[k] = hood__pixel_widen(ds->codes[k], ds->divisor);
    return x;
}

const float *hood_dataset_x(const hood_dataset *ds)
{
    if (ds->codes == NULL)
        return ds->x;
    /* Not hood__clear_error: the call cannot fail in the common case and has no status. */
    hood_dataset *own = (hood_dataset *)ds; /* the cache alone changes, atomically */
    float *have = atomic_load(&own->widened);
    if (have != NULL)
        return have;
    float *mine = widen_all(ds);
    if (mine == NULL)
        return NULL;
    if (atomic_compare_exchange_strong(&own->widened, &have, mine))
        return mine;
    free(mine); /* another thread's copy won: the same bits */
    return have;
}

float *hood_dataset_x_mutable(hood_dataset *ds)
{
    if (ds->codes != NULL && ds->codes_owned == NULL)
        return NULL; /* wrapped codes: the caller's, as a wrapped float X */
    if (ds->codes != NULL) {
        float *x = atomic_load(&ds->widened);
        if (x == NULL && (x = widen_all(ds)) == NULL)
            return NULL;
        atomic_store(&ds->widened, NULL);
        free(ds->codes_owned);
        ds->codes = ds->codes_owned = NULL;
        ds->x = ds->x_owned = x;
    }
    return ds->x_owned;
}

hood_pixel_storage hood_dataset_storage(const hood_dataset *ds)
{
    return ds->codes != NULL ? HOOD_PIXELS_U8 : HOOD_PIXELS_FLOAT;
}

const uint8_t *hood_dataset_x_u8(const hood_dataset *ds, float *divisor)
{
    if (divisor != NULL)
        *divisor = ds->codes != NULL ? ds->divisor : 0.0f;
    return ds->codes;
}

size_t hood_dataset_x_bytes(const hood_dataset *ds)
{
    size_t count = ds->features * ds->samples;
    if (ds->codes == NULL)
        return ds->x_owned != NULL ? count * sizeof(float) : 0;
    return (ds->codes_owned != NULL ? count : 0) + (atomic_load(&((hood_dataset *)ds)->widened) != NULL ? count * sizeof(float)
                                                                          : 0);
}

hood_status hood__dataset_create_u8(hood_dataset **out, size_t features, size_t samples,
                                    float divisor)
{
    hood__clear_error();
    hood_status status = dataset_new(out, features, samples);
    if (status != HOOD_OK)
        return status;
    size_t count;
    if (hood__mul_overflows(features, samples, &count) ||
        count > SIZE_MAX / sizeof(float) /* hood_dataset_x may widen it */ ||
        ((*out)->codes_owned = calloc(count, 1)) == NULL) {
        hood_dataset_free(*out);
        *out = NULL;
        return hood__fail(HOOD_ENOMEM, "cannot allocate a %zu x %zu 8-bit matrix", features,
                          samples);
    }
    (*out)->codes = (*out)->codes_owned;
    (*out)->divisor = divisor;
    return HOOD_OK;
}

hood_status hood_dataset_wrap_u8(hood_dataset **out, const uint8_t *codes, size_t features,
                                 size_t samples, float divisor)
{
    hood__clear_error();
    *out = NULL;
    if (codes == NULL)
        return hood__fail(HOOD_EINVAL, "hood_dataset_wrap_u8: codes is NULL");
    if (!isfinite(divisor) || divisor <= 0.0f)
        return hood__fail(HOOD_EINVAL,
                          "hood_dataset_wrap_u8: divisor must be a finite number > 0 (got %g)",
                          (double)divisor);
    size_t count;
    if (hood__mul_overflows(features, samples, &count) || count > SIZE_MAX / sizeof(float))
        return hood__fail(HOOD_EINVAL, "hood_dataset_wrap_u8: a %zu x %zu matrix is too large",
                          features, samples);
    hood_status status = dataset_new(out, features, samples);
    if (status != HOOD_OK)
        return status;
    (*out)->codes = codes;
    (*out)->divisor = divisor;
    return HOOD_OK;
}

uint8_t *hood__dataset_u8_mutable(hood_dataset *ds)
{
    return ds->codes_owned;
}

hood__xsource hood__dataset_xsource(const hood_dataset *ds)
{
    return (hood__xsource){.f = ds->codes == NULL ? ds->x : NULL,
                           .u8 = ds->codes,
                           .divisor = ds->divisor,
                           .rows = ds->features};
}

hood__xsource hood__xsource_from(hood__xsource x, size_t first)
{
    if (x.f != NULL)
        x.f += first * x.rows;
    else
        x.u8 += first * x.rows;
    return x;
}

/* Widens n codes into floats: the loop the compiler vectorises (engine builds at -O3), cloned
 * for AVX2 and AVX-512 as optimizer.c's steps are (and not under a sanitizer, for the same
 * reason): 4 floats wide at baseline, the division takes half the gather's time. A division is
 * correctly rounded at any vector width, so every clone gives the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&      \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define WIDEN_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define WIDEN_CLONES
#endif

WIDEN_CLONES static void widen_run(float *restrict dst, const uint8_t *restrict src, size_t n,
                                   float divisor)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = hood__pixel_widen(src[i], divisor);
}

const float *hood__xsource_columns(const hood__xsource *x, size_t first, size_t count, float *buf)
{
    if (x->f != NULL)
        return x->f + first * x->rows;
    widen_run(buf, x->u8 + first * x->rows, count * x->rows, x->divisor);
    return buf;
}

/* Below this many values a gather is a few microseconds: not worth a hand-off (matrix.c's). */
enum { MIN_SPLIT_GATHER = 1 << 16, GATHER_STEP = HOOD__INPUT_BAND_STEP };

typedef struct u8_gather {
    float *dst;
    const hood__xsource *x;
    const size_t *index;
    size_t count;
} u8_gather;

static void u8_gather_share(void *arg, int i, int T)
{
    const u8_gather *g = arg;
    size_t rows = g->x->rows;
    /* the same row bands as the float gather (matrix.c): each thread widens the rows it then
     * multiplies */
    size_t r0 = hood__band_at(rows, GATHER_STEP, i, T);
    size_t r1 = hood__band_at(rows, GATHER_STEP, i + 1, T);
    if (r1 <= r0)
        return;
    for (size_t j = 0; j < g->count; j++)
        widen_run(g->dst + j * rows + r0, g->x->u8 + g->index[j] * rows + r0, r1 - r0,
                  g->x->divisor);
}

void hood__xsource_gather_pool(hood__pool *pool, float *dst, const hood__xsource *x,
                               const size_t *index, size_t count)
{
    if (x->f != NULL) {
        hood__matrix_gather_cols_pool(pool, dst, x->f, x->rows, index, count);
        return;
    }
    u8_gather g = {dst, x, index, count};
    if (hood__pool_threads(pool) < 2 || x->rows * count < MIN_SPLIT_GATHER ||
        x->rows < 2 * GATHER_STEP)
        u8_gather_share(&g, 0, 1);
    else
        hood__pool_run(pool, u8_gather_share, &g);
}
hood_label_mode hood_dataset_label_mode(const hood_dataset *ds)
{
    return ds->label_mode;
}
size_t hood_dataset_label_width(const hood_dataset *ds)
{
    return ds->label_width;
}
const float *hood_dataset_labels(const hood_dataset *ds)
{
    return ds->labels;
}
size_t hood_dataset_num_classes(const hood_dataset *ds)
{
    return ds->num_classes;
}

/* Replaces the labels with a new zeroed width x samples block. */
static hood_status reset_labels(hood_dataset *ds, hood_label_mode mode, size_t width,
                                size_t num_classes)
{
    float *labels = NULL;
    if (width > 0) {
        size_t count;
        if (hood__mul_overflows(width, ds->samples, &count) ||
            (labels = calloc(count, sizeof(float))) == NULL)
            return hood__fail(HOOD_ENOMEM, "cannot allocate %zu x %zu labels", width, ds->samples);
    }
    free(ds->labels);
    ds->labels = labels;
    ds->label_mode = mode;
    ds->label_width = width;
    ds->num_classes = num_classes;
    return HOOD_OK;
}

hood_status hood_dataset_set_labels(hood_dataset *ds, hood_label_mode mode, const int32_t *labels,
                                    size_t num_classes)
{
    hood__clear_error();
    if (mode == HOOD_LABELS_NONE)
        return reset_labels(ds, mode, 0, 0);
    if (labels == NULL)
        return hood__fail(HOOD_EINVAL, "labels are NULL");
    if (num_classes == 0 || num_classes > (1u << 24))
        return hood__fail(HOOD_EINVAL, "number of classes must be 1..16777216, got %zu",
                          num_classes);
    if (mode == HOOD_LABELS_BINARY && num_classes != 2)
        return hood__fail(HOOD_EINVAL, "binary labels need exactly 2 classes, got %zu",
                          num_classes);
    if (mode != HOOD_LABELS_INT && mode != HOOD_LABELS_CATEGORICAL && mode != HOOD_LABELS_BINARY)
        return hood__fail(HOOD_EINVAL, "unknown label mode %d", (int)mode);
    for (size_t j = 0; j < ds->samples; j++)
        if (labels[j] < 0 || (size_t)labels[j] >= num_classes)
            return hood__fail(HOOD_EDATA, "label of sample %zu is %d, outside 0..%zu", j,
                              (int)labels[j], num_classes - 1);
    size_t width = mode == HOOD_LABELS_CATEGORICAL ? num_classes : 1;
    hood_status status = reset_labels(ds, mode, width, num_classes);
    if (status != HOOD_OK)
        return status;
    for (size_t j = 0; j < ds->samples; j++) {
        if (mode == HOOD_LABELS_CATEGORICAL)
            ds->labels[j * width + (size_t)labels[j]] = 1.0f;
        else
            ds->labels[j] = (float)labels[j];
    }
    return HOOD_OK;
}

hood_status hood_dataset_set_label_values(hood_dataset *ds, hood_label_mode mode, const float *y,
                                          size_t width, size_t num_classes)
{
    hood__clear_error();
    if (mode == HOOD_LABELS_NONE)
        return reset_labels(ds, mode, 0, 0);
    if (y == NULL || width == 0)
        return hood__fail(HOOD_EINVAL, "label values are NULL or of width 0");
    if ((mode == HOOD_LABELS_INT || mode == HOOD_LABELS_BINARY) && width != 1)
        return hood__fail(HOOD_ESHAPE, "%s labels have one value per sample, got %zu",
                          mode == HOOD_LABELS_INT ? "int" : "binary", width);
    if (mode == HOOD_LABELS_CATEGORICAL && num_classes != 0 && num_classes != width)
        return hood__fail(HOOD_ESHAPE, "categorical labels of width %zu for %zu classes", width,
                          num_classes);
    for (size_t j = 0; j < ds->samples; j++) {
        for (size_t i = 0; i < width; i++) {
            float v = y[j * width + i];
            if (!isfinite(v))
                return hood__fail(HOOD_EDATA, "label of sample %zu is not finite", j);
            if (mode == HOOD_LABELS_INT &&
                (v < 0 || v != floorf(v) || (num_classes != 0 && v >= (float)num_classes)))
                return hood__fail(HOOD_EDATA, "label of sample %zu is %g, not a class index", j,
                                  (double)v);
        }
    }
    size_t classes = num_classes;
    if (mode == HOOD_LABELS_CATEGORICAL)
        classes = width;
    else if (mode == HOOD_LABELS_BINARY)
        classes = 2;
    hood_status status = reset_labels(ds, mode, width, classes);
    if (status != HOOD_OK)
        return status;
    memcpy(ds->labels, y, width * ds->samples * sizeof(float));
    if (mode == HOOD_LABELS_INT && classes == 0) {
        float top = 0;
        for (size_t j = 0; j < ds->samples; j++)
            top = ds->labels[j] > top ? ds->labels[j] : top;
        ds->num_classes = (size_t)top + 1;
    }
    return HOOD_OK;
}

hood_status hood_dataset_set_class_names(hood_dataset *ds, const char *const *names, size_t count)
{
    hood__clear_error();
    if (count > 0 && names == NULL)
        return hood__fail(HOOD_EINVAL, "class names are NULL");
    if (ds->num_classes != 0 && count != 0 && count != ds->num_classes)
        return hood__fail(HOOD_ESHAPE, "%zu class names for %zu classes", count, ds->num_classes);
    char **copy = count > 0 ? calloc(count, sizeof *copy) : NULL;
    if (count > 0 && copy == NULL)
        return hood__fail(HOOD_ENOMEM, "out of memory for class names");
    for (size_t i = 0; i < count; i++) {
        if (names[i] == NULL || (copy[i] = strdup(names[i])) == NULL) {
            free_strings(copy, count);
            return hood__fail(names[i] == NULL ? HOOD_EINVAL : HOOD_ENOMEM,
                              "class name %zu is NULL or cannot be copied", i);
        }
    }
    free_strings(ds->class_names, ds->num_class_names);
    ds->class_names = copy;
    ds->num_class_names = count;
    if (ds->num_classes == 0)
        ds->num_classes = count;
    return HOOD_OK;
}

const char *hood_dataset_class_name(const hood_dataset *ds, size_t i)
{
    return i < ds->num_class_names ? ds->class_names[i] : NULL;
}

const char *hood_dataset_path(const hood_dataset *ds, size_t j)
{
    return ds->paths != NULL && j < ds->samples ? ds->paths[j] : NULL;
}

hood_status hood_dataset_set_preprocess(hood_dataset *ds, const hood_preprocess *pp)
{
    hood__clear_error();
    if (ds == NULL)
        return hood__fail(HOOD_EINVAL, "dataset: NULL dataset");
    if (pp == NULL) {
        ds->has_preprocess = false;
        return HOOD_OK;
    }
    size_t channels = hood_color_mode_channels(pp->color_mode), pixels, values;
    if (channels == 0 || (unsigned)pp->interpolation > (unsigned)HOOD_INTERP_AREA)
        return hood__fail(HOOD_EINVAL, "preprocess: unknown color mode or interpolation");
    if (pp->height == 0 || pp->width == 0 || hood__mul_overflows(pp->height, pp->width, &pixels) ||
        hood__mul_overflows(pixels, channels, &values) || values != ds->features)
        return hood__fail(HOOD_ESHAPE,
                          "preprocess: images of %zu x %zu x %zu values, but the samples have %zu",
                          pp->height, pp->width, channels, ds->features);
    ds->preprocess = *pp;
    ds->has_preprocess = true;
    if (ds->height == 0) /* flat rows of images (a .npz or CSV by hood dataset): their shape */
        hood__dataset_set_image_shape(ds, pp->height, pp->width, channels);
    return HOOD_OK;
}

bool hood_dataset_preprocess(const hood_dataset *ds, hood_preprocess *out)
{
    if (ds->has_preprocess && out != NULL)
        *out = ds->preprocess;
    return ds->has_preprocess;
}

void hood_dataset_image_shape(const hood_dataset *ds, size_t *height, size_t *width,
                              size_t *channels)
{
    if (height != NULL)
        *height = ds->height;
    if (width != NULL)
        *width = ds->width;
    if (channels != NULL)
        *channels = ds->channels;
}

hood_status hood_dataset_check_finite(const hood_dataset *ds)
{
    hood__clear_error();
    for (size_t j = 0; ds->codes == NULL && j < ds->samples; j++) { /* codes widen finite */
        const float *column = ds->x + j * ds->features;
        for (size_t i = 0; i < ds->features; i++)
            if (!isfinite(column[i]))
                return hood__fail(HOOD_EDATA, "sample %zu, feature %zu is %s", j, i,
                                  isnan(column[i]) ? "NaN" : "infinite");
    }
    for (size_t k = 0; k < ds->label_width * ds->samples; k++)
        if (!isfinite(ds->labels[k]))
            return hood__fail(HOOD_EDATA, "label of sample %zu is not finite", k / ds->label_width);
    return HOOD_OK;
}

void hood__dataset_take_paths(hood_dataset *ds, char **paths)
{
    free_strings(ds->paths, ds->samples);
    ds->paths = paths;
}

void hood__dataset_set_image_shape(hood_dataset *ds, size_t height, size_t width, size_t channels)
{
    ds->height = height;
    ds->width = width;
    ds->channels = channels;
}

void hood__dataset_set_shard(hood_dataset *ds, size_t first, size_t global_samples)
{
    ds->shard_first = first;
    ds->global_samples = global_samples;
}

void hood_dataset_shard_info(const hood_dataset *ds, size_t *first, size_t *global_samples)
{
    if (first != NULL)
        *first = ds->global_samples != 0 ? ds->shard_first : 0;
    if (global_samples != NULL)
        *global_samples = ds->global_samples != 0 ? ds->global_samples : ds->samples;
}

/* The one colour mode -> channel count mapping (the engine's preprocess check, io's decoder,
 * resampler and ingest all ask it); 0 for an unknown mode, which the preprocess checks refuse. */
size_t hood_color_mode_channels(hood_color_mode mode)
{
    switch (mode) {
    case HOOD_COLOR_GRAYSCALE:
        return 1;
    case HOOD_COLOR_RGB:
        return 3;
    case HOOD_COLOR_RGBA:
        return 4;
    }
    return 0;
}

void hood_shard_range(size_t total, size_t index, size_t count, size_t *first, size_t *length)
{
    if (count <= 1 || index >= count) {
        *first = 0;
        *length = count <= 1 ? total : 0;
        return;
    }
    /* floor(index * total / count) without overflowing index * total */
    size_t begin = index * (total / count) + index * (total % count) / count;
    size_t end = (index + 1) * (total / count) + (index + 1) * (total % count) / count;
    *first = begin;
    *length = end - begin;
}

hood_status hood__dataset_truncate(hood_dataset *ds, size_t samples)
{
    bool owned = ds->x_owned != NULL || ds->codes_owned != NULL;
    if (!owned || samples == 0 || samples > ds->samples)
        return hood__fail(HOOD_EINVAL, "cannot truncate a dataset of %zu samples to %zu%s",
                          ds->samples, samples, !owned ? " (it wraps caller memory)" : "");
    if (ds->paths != NULL)
        for (size_t j = samples; j < ds->samples; j++) {
            free(ds->paths[j]);
            ds->paths[j] = NULL;
        }
    /* Shrinking never fails in glibc, but if it does the old (larger) block is still valid.
     * A float copy of codes (hood_dataset_x) keeps its size: its first columns are still X. */
    if (ds->codes_owned != NULL) {
        uint8_t *codes = realloc(ds->codes_owned, ds->features * samples);
        if (codes != NULL)
            ds->codes = ds->codes_owned = codes;
        ds->samples = samples;
        return HOOD_OK;
    }
    float *x = realloc(ds->x_owned, ds->features * samples * sizeof(float));
    if (x != NULL)
        ds->x_owned = x;
    ds->x = ds->x_owned;
    ds->samples = samples;
    return HOOD_OK;
}
