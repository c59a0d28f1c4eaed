/* fuzz_model.c — libFuzzer target for the .hood model-file parser (hood__model_parse), then for
 * what a loaded model is used for: accessors, predict, and a one-epoch fit that resumes from
 * the training position the file claims. Not a round-trip test: saving needs a file system.
 * Each input is parsed twice: as it is (magic, version, length and CRC checks), and with its
 * total length and CRC-32 rewritten to match, so mutations reach the text header and weights
 * instead of all dying at the checksum. */
#include "hood.h"
#include "model_file.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file layout (docs/model-format.md): 8 magic bytes, u32 version, u32 header length, u64
 * total length, the header, the weights, then a CRC-32 of everything before it. */
enum { PREFIX_BYTES = 24, CRC_BYTES = 4 };
static const unsigned char MAGIC[8] = {0x89, 'H', 'O', 'O', 'D', '\r', '\n', 0x1a};

/* Bounds for the work done on a parsed model: big-but-valid headers are legal, but fuzzing
 * time is better spent on parsing than on multiplying large matrices. */
enum { MAX_FEATURES = 4096, MAX_PARAMS = 1 << 16, MAX_SAMPLES = 3 };

/* zlib's CRC-32 (reflected 0xEDB88320), bitwise: inputs are small. */
static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t v = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        v ^= p[i];
        for (int k = 0; k < 8; k++)
            v = (v & 1u) ? (v >> 1) ^ 0xEDB88320u : v >> 1;
    }
    return v ^ 0xFFFFFFFFu;
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Labels of the shape the model's loss wants, so fit gets past its label checks. */
static hood_status set_labels(hood_dataset *ds, const hood_model *model, size_t n)
{
    size_t out = hood_model_output_units(model);
    float y[MAX_SAMPLES * 16];
    switch (hood_model_loss(model)) {
    case HOOD_LOSS_BINARY_CROSSENTROPY:
        for (size_t j = 0; j < n; j++)
            y[j] = (float)(j & 1);
        return hood_dataset_set_label_values(ds, HOOD_LABELS_BINARY, y, 1, 2);
    case HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        for (size_t j = 0; j < n; j++)
            y[j] = (float)(j % out);
        return hood_dataset_set_label_values(ds, HOOD_LABELS_INT, y, 1, out);
    default:
        if (out > 16)
            return HOOD_EINVAL;
        for (size_t j = 0; j < n * out; j++)
            y[j] = (j % out) == (j / out) % out ? 1.0f : 0.0f;
        return hood_dataset_set_label_values(ds, HOOD_LABELS_CATEGORICAL, y, out, out);
    }
}

static void use_model(hood_model *model)
{
    size_t layers = hood_model_num_layers(model), d = hood_model_input_features(model);
    for (size_t i = 0; i < layers; i++) {
        (void)hood_model_layer_units(model, i);
        (void)hood_model_layer_activation(model, i);
        (void)hood_model_layer_use_bias(model, i);
    }
    for (size_t e = 0; e < hood_model_history_length(model); e++)
        if (hood_model_history(model, e) == NULL)
            abort();
    for (size_t c = 0; c < hood_model_num_classes(model); c++)
        if (hood_model_class_name(model, c) == NULL)
            abort();
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    if (hood_model_preprocess(model, &pp) &&
        pp.height * pp.width * hood_color_mode_channels(pp.color_mode) != d)
        abort(); /* the parser promised the stored preprocessing matches the input width */
    if (!hood_model_is_compiled(model) || d > MAX_FEATURES ||
        hood_model_num_params(model) > MAX_PARAMS)
        return;

    size_t out = hood_model_output_units(model);
    size_t widest = d;
    for (size_t i = 0; i < layers; i++)
        if (hood_model_layer_units(model, i) > widest)
            widest = hood_model_layer_units(model, i);
    if (widest > MAX_FEATURES)
        return;
    float *buf = calloc(widest * widest + widest, sizeof *buf);
    float *x = calloc(d * MAX_SAMPLES, sizeof *x);
    float *y = calloc(out * MAX_SAMPLES, sizeof *y);
    if (buf != NULL && x != NULL && y != NULL) {
        for (size_t i = 0; i < layers; i++) {
            (void)hood_model_get_kernel(model, i, buf);
            if (hood_model_layer_use_bias(model, i))
                (void)hood_model_get_bias(model, i, buf);
        }
        for (size_t k = 0; k < d * MAX_SAMPLES; k++)
            x[k] = (float)(k % 7) * 0.25f - 0.5f;
        (void)hood_model_predict(model, x, MAX_SAMPLES, 2, y);

        /* One epoch from the stored position: a claimed mid-epoch position must be refused
         * or continued, never trusted into an out-of-range batch. */
        hood_dataset *ds = NULL;
        if (hood_dataset_wrap(&ds, x, d, MAX_SAMPLES) == HOOD_OK &&
            set_labels(ds, model, MAX_SAMPLES) == HOOD_OK) {
            hood_fit_options fit;
            hood_fit_options_init(&fit);
            fit.epochs = 1;
            fit.batch_size = 2;
            (void)hood_model_fit(model, ds, &fit);
        }
        hood_dataset_free(ds);
    }
    free(buf);
    free(x);
    free(y);
}

static void parse_and_use(const uint8_t *data, size_t size)
{
    hood_model *model = NULL;
    if (hood__model_parse(data, size, &model, "fuzz.hood") == HOOD_OK) {
        if (model == NULL)
            abort();
        use_model(model);
    } else if (model != NULL || hood_last_error()[0] == '\0') {
        abort(); /* a failure must leave no model and say why */
    }
    hood_model_free(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_and_use(data, size);
    if (size < PREFIX_BYTES + CRC_BYTES || memcmp(data, MAGIC, sizeof MAGIC) != 0)
        return 0;
    unsigned char *fixed = malloc(size);
    if (fixed == NULL)
        return 0;
    memcpy(fixed, data, size);
    put_le(fixed + 16, (uint64_t)size, 8);
    put_le(fixed + size - CRC_BYTES, crc32_of(fixed, size - CRC_BYTES), 4);
    if (memcmp(fixed, data, size) != 0)
        parse_and_use(fixed, size);
    free(fixed);
    return 0;
}
