/* test_model_file.c — the .hood model file and the .npz weights: full round trips (weights,
 * optimizer state, history, position, preprocess, class names), training continued after a
 * load, and every way a file can be bad (truncated, bit-flipped, foreign, wrong version,
 * inconsistent header) plus refusals that leave an existing file untouched. */
#include "check_main.h"

#include "error.h"
#include "model.h"
#include "model_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/hood-model-file-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void path_in_tmp(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_all(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* CRC-32 as zlib computes it, bit by bit: the test's own reference. */
static uint32_t crc32_ref(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void fix_crc(unsigned char *b, size_t len)
{
    uint32_t c = crc32_ref(b, len - 4);
    for (int i = 0; i < 4; i++)
        b[len - 4 + i] = (unsigned char)(c >> (8 * i));
}

static hood_dataset *blobs(size_t n)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 4, n), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert_ptr_nonnull(y);
    for (size_t j = 0; j < n; j++) {
        y[j] = (int32_t)(j % 3);
        for (int i = 0; i < 4; i++)
            x[j * 4 + i] =
                (i == y[j] ? 1.5f : 0.0f) + 0.6f * (float)sin(0.37 * (double)(j * 4 + i));
    }
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 3), HOOD_OK);
    free(y);
    return ds;
}

static hood_model *new_model(hood_optimizer_kind kind, size_t hidden, uint64_t seed)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, 4), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, hidden, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, kind);
    if (kind == HOOD_OPT_SGD) {
        opt.momentum = 0.9f;
        opt.nesterov = true;
    }
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, seed),
                     HOOD_OK);
    return m;
}

static int stop_at(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                   double accuracy)
{
    (void)num_batches;
    (void)loss;
    (void)accuracy;
    const size_t *when = user;
    return epoch == when[0] && batch == when[1];
}

static void fit_opts(hood_fit_options *fo, size_t epochs)
{
    hood_fit_options_init(fo);
    fo->epochs = epochs;
    fo->batch_size = 4;
    fo->seed = 17;
    fo->validation_split = 0.25;
}

static void assert_same_model(const hood_model *a, const hood_model *b)
{
    ck_assert_uint_eq(a->input_features, b->input_features);
    ck_assert_uint_eq(a->num_layers, b->num_layers);
    for (size_t i = 0; i < a->num_layers; i++) {
        ck_assert_uint_eq(a->layers[i].in, b->layers[i].in);
        ck_assert_uint_eq(a->layers[i].out, b->layers[i].out);
        ck_assert_int_eq(a->layers[i].act, b->layers[i].act);
        ck_assert_int_eq(a->layers[i].use_bias, b->layers[i].use_bias);
        ck_assert_int_eq(a->inits[i], b->inits[i]);
    }
    ck_assert_int_eq(a->compiled, b->compiled);
    if (a->compiled) {
        ck_assert_int_eq(a->loss, b->loss);
        ck_assert_int_eq(memcmp(&a->opt, &b->opt, sizeof a->opt), 0);
        ck_assert_uint_eq(a->seed, b->seed);
        ck_assert_uint_eq(a->num_params, b->num_params);
        ck_assert_int_eq(memcmp(a->params, b->params, a->num_params * sizeof(float)), 0);
        ck_assert_uint_eq(a->opt_slots, b->opt_slots);
        ck_assert_int_eq(
            memcmp(a->opt_state, b->opt_state, a->num_params * a->opt_slots * sizeof(float)), 0);
        ck_assert_uint_eq(a->opt_step, b->opt_step);
    }
    ck_assert_int_eq(memcmp(&a->position, &b->position, sizeof a->position), 0);
    ck_assert_uint_eq(a->history_length, b->history_length);
    for (size_t e = 0; e < a->history_length; e++)
        ck_assert_int_eq(memcmp(&a->history[e], &b->history[e], sizeof a->history[e]), 0);
    ck_assert_int_eq(a->has_preprocess, b->has_preprocess);
    if (a->has_preprocess)
        ck_assert_int_eq(memcmp(&a->preprocess, &b->preprocess, sizeof a->preprocess), 0);
    ck_assert_uint_eq(a->num_classes, b->num_classes);
    for (size_t i = 0; i < a->num_classes; i++)
        ck_assert_str_eq(a->class_names[i], b->class_names[i]);
}

START_TEST(round_trip_keeps_everything)
{
    make_tmpdir();
    hood_dataset *ds = blobs(20);
    hood_model *m = new_model(HOOD_OPT_ADAM, 5, 3);
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    pp.height = 2;
    pp.width = 2;
    pp.color_mode = HOOD_COLOR_GRAYSCALE;
    pp.interpolation = HOOD_INTERP_LANCZOS3;
    pp.pad_to_aspect_ratio = true;
    ck_assert_int_eq(hood_model_set_preprocess(m, &pp), HOOD_OK);
    const char *names[3] = {"T-shirt/top", "with space & 100%", "\xc3\xa9t\xc3\xa9=summer"};
    ck_assert_int_eq(hood_model_set_class_names(m, names, 3), HOOD_OK);
    /* two whole epochs, then stop inside the third so the position has running sums */
    hood_fit_options fo;
    fit_opts(&fo, 5);
    size_t when[2] = {2, 1};
    fo.on_batch_end = stop_at;
    fo.user = when;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_ESTOPPED);
    ck_assert_uint_gt(m->position.batch, 0);
    char path[128];
    path_in_tmp(path, sizeof path, "m.hood");
    ck_assert_int_eq(hood_model_save(m, path), HOOD_OK);
    hood_model *back = NULL;
    ck_assert_int_eq(hood_model_load(path, &back), HOOD_OK);
    assert_same_model(m, back);
    ck_assert_str_eq(hood_model_class_name(back, 2), "\xc3\xa9t\xc3\xa9=summer");
    /* the header is readable text */
    size_t len;
    unsigned char *bytes = read_all(path, &len);
    bytes[len - 1] = '\0';
    ck_assert_ptr_nonnull(strstr((char *)bytes + 24, "layer 0 kind=dense units=5 activation=tanh"));
    ck_assert_ptr_nonnull(strstr((char *)bytes + 24, "loss sparse_categorical_crossentropy"));
    ck_assert_ptr_nonnull(strstr((char *)bytes + 24, "with%20space%20&%20100%25"));
    free(bytes);
    hood_model_free(back);
    hood_model_free(m);
    hood_dataset_free(ds);
    remove_tmpdir();
}
END_TEST

START_TEST(continue_after_load_is_identical)
{
    /* 3 epochs straight == 1 epoch + stop mid-epoch 2 + save/load + the rest, for SGD with
     * Nesterov momentum (its m must travel through the file) and for Adam. */
    make_tmpdir();
    hood_dataset *ds = blobs(18);
    hood_optimizer_kind kinds[2] = {HOOD_OPT_SGD, HOOD_OPT_ADAM};
    for (int k = 0; k < 2; k++) {
        hood_model *whole = new_model(kinds[k], 5, 8);
        hood_fit_options fo;
        fit_opts(&fo, 3);
        ck_assert_int_eq(hood_model_fit(whole, ds, &fo), HOOD_OK);

        hood_model *part = new_model(kinds[k], 5, 8);
        size_t when[2] = {1, 1};
        fo.on_batch_end = stop_at;
        fo.user = when;
        ck_assert_int_eq(hood_model_fit(part, ds, &fo), HOOD_ESTOPPED);
        char path[128];
        path_in_tmp(path, sizeof path, "part.hood");
        ck_assert_int_eq(hood_model_save(part, path), HOOD_OK);
        hood_model_free(part);
        hood_model *loaded = NULL;
        ck_assert_int_eq(hood_model_load(path, &loaded), HOOD_OK);
        ck_assert_uint_eq(hood_model_epochs_done(loaded), 1);
        fit_opts(&fo, 2);
        ck_assert_int_eq(hood_model_fit(loaded, ds, &fo), HOOD_OK);
        ck_assert_int_eq(memcmp(whole->params, loaded->params, whole->num_params * sizeof(float)),
                         0);
        ck_assert_uint_eq(whole->opt_step, loaded->opt_step);
        ck_assert_uint_eq(hood_model_history_length(loaded), 3);
        for (size_t e = 0; e < 3; e++)
            ck_assert_double_eq(whole->history[e].loss, loaded->history[e].loss);
        hood_model_free(loaded);
        hood_model_free(whole);
    }
    hood_dataset_free(ds);
    remove_tmpdir();
}
END_TEST

START_TEST(dropped_optimizer_state_is_not_saved)
{
    /* Keras' include_optimizer=False: an Adam model's file without its moments is smaller by
     * exactly the state, loads with the same weights and predictions, a zero state and step 0,
     * and trains on from there like a model whose optimizer starts afresh. */
    make_tmpdir();
    hood_dataset *ds = blobs(18);
    hood_model *m = new_model(HOOD_OPT_ADAM, 5, 8);
    hood_fit_options fo;
    fit_opts(&fo, 2);
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    char full[128], lean[128];
    path_in_tmp(full, sizeof full, "full.hood");
    path_in_tmp(lean, sizeof lean, "lean.hood");
    ck_assert_int_eq(hood_model_save(m, full), HOOD_OK);
    ck_assert_uint_gt(m->opt_step, 0);
    ck_assert_int_eq(hood_model_drop_optimizer_state(m), HOOD_OK);
    ck_assert_uint_eq(m->opt_step, 0);
    ck_assert_int_eq(hood_model_save(m, lean), HOOD_OK);
    size_t full_len, lean_len;
    unsigned char *a = read_all(full, &full_len), *b = read_all(lean, &lean_len);
    size_t state_bytes = m->num_params * m->opt_slots * sizeof(float);
    ck_assert_uint_gt(state_bytes, 0);
    /* the header's "optimizer_values N" and "step N" lines shrink by a few digits too */
    ck_assert_uint_lt(lean_len, full_len - state_bytes + 1);
    ck_assert_uint_gt(lean_len + 64, full_len - state_bytes);
    free(a);
    free(b);

    hood_model *loaded = NULL;
    ck_assert_int_eq(hood_model_load(lean, &loaded), HOOD_OK);
    ck_assert_int_eq(memcmp(m->params, loaded->params, m->num_params * sizeof(float)), 0);
    ck_assert_uint_eq(loaded->opt_step, 0);
    for (size_t i = 0; i < m->num_params * m->opt_slots; i++)
        ck_assert(loaded->opt_state[i] == 0.0f);
    /* the next fit runs like the in-memory model's (its state was dropped the same way) */
    fit_opts(&fo, 1);
    fo.validation_split = 0;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    ck_assert_int_eq(hood_model_fit(loaded, ds, &fo), HOOD_OK);
    ck_assert_int_eq(memcmp(m->params, loaded->params, m->num_params * sizeof(float)), 0);
    ck_assert_uint_gt(loaded->opt_step, 0);
    /* once it trained, a save carries the state again */
    ck_assert_int_eq(hood_model_save(loaded, lean), HOOD_OK);
    b = read_all(lean, &lean_len);
    ck_assert_uint_gt(lean_len, full_len - 64);
    free(b);
    hood_model_free(loaded);
    hood_model_free(m);
    hood_dataset_free(ds);
    remove_tmpdir();
}
END_TEST

START_TEST(uncompiled_model_round_trips)
{
    make_tmpdir();
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, 7), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_RELU, false), HOOD_OK);
    ck_assert_int_eq(hood_model_set_initializer(m, 0, HOOD_INIT_HE_NORMAL), HOOD_OK);
    char path[128];
    path_in_tmp(path, sizeof path, "raw.hood");
    ck_assert_int_eq(hood_model_save(m, path), HOOD_OK);
    hood_model *back = NULL;
    ck_assert_int_eq(hood_model_load(path, &back), HOOD_OK);
    assert_same_model(m, back);
    ck_assert(!hood_model_is_compiled(back));
    hood_model_free(back);
    hood_model_free(m);
    remove_tmpdir();
}
END_TEST

static void expect_load_error(const char *path, const char *words)
{
    hood_model *m = (hood_model *)1;
    hood__clear_error();
    ck_assert_int_eq(hood_model_load(path, &m), HOOD_EFORMAT);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(hood_last_error(), words) != NULL, "'%s' lacks '%s'", hood_last_error(),
                  words);
    ck_assert_msg(strstr(hood_last_error(), path) != NULL, "'%s' does not name the file",
                  hood_last_error());
}

/* A small trained model saved to "good.hood"; returns its bytes. */
static unsigned char *good_file(char *path, size_t cap, size_t *len)
{
    hood_dataset *ds = blobs(12);
    hood_model *m = new_model(HOOD_OPT_ADAM, 4, 1);
    hood_fit_options fo;
    fit_opts(&fo, 2);
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    path_in_tmp(path, cap, "good.hood");
    ck_assert_int_eq(hood_model_save(m, path), HOOD_OK);
    hood_model_free(m);
    hood_dataset_free(ds);
    return read_all(path, len);
}

START_TEST(truncated_files_are_rejected)
{
    make_tmpdir();
    char good[128], bad[128];
    size_t len;
    unsigned char *bytes = good_file(good, sizeof good, &len);
    path_in_tmp(bad, sizeof bad, "bad.hood");
    const size_t cuts[6] = {0, 5, 20, 40, len / 2, len - 1};
    for (int i = 0; i < 6; i++) {
        write_all(bad, bytes, cuts[i]);
        expect_load_error(bad, "truncated");
    }
    /* every shorter length, in memory: never accepted, never a crash */
    for (size_t n = 0; n < len; n++) {
        hood_model *m = NULL;
        ck_assert_int_eq(hood__model_parse(bytes, n, &m, "mem"), HOOD_EFORMAT);
        ck_assert_ptr_null(m);
    }
    free(bytes);
    remove_tmpdir();
}
END_TEST

START_TEST(bit_flips_are_rejected)
{
    make_tmpdir();
    char good[128], bad[128];
    size_t len;
    unsigned char *bytes = good_file(good, sizeof good, &len);
    path_in_tmp(bad, sizeof bad, "flip.hood");
    /* one bit in the weights, one in the header text */
    bytes[len - 20] ^= 0x10;
    write_all(bad, bytes, len);
    expect_load_error(bad, "checksum mismatch");
    bytes[len - 20] ^= 0x10;
    bytes[40] ^= 0x01;
    write_all(bad, bytes, len);
    expect_load_error(bad, "checksum mismatch");
    bytes[40] ^= 0x01;
    /* every single-bit flip of every byte is caught (in memory) */
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            bytes[i] ^= (unsigned char)(1u << bit);
            hood_model *m = NULL;
            ck_assert_int_eq(hood__model_parse(bytes, len, &m, "mem"), HOOD_EFORMAT);
            bytes[i] ^= (unsigned char)(1u << bit);
        }
    }
    hood_model *m = NULL;
    ck_assert_int_eq(hood__model_parse(bytes, len, &m, "mem"), HOOD_OK);
    hood_model_free(m);
    free(bytes);
    remove_tmpdir();
}
END_TEST

START_TEST(foreign_and_wrong_version_files_are_rejected)
{
    make_tmpdir();
    char good[128], bad[128];
    size_t len;
    unsigned char *bytes = good_file(good, sizeof good, &len);
    path_in_tmp(bad, sizeof bad, "foreign.hood");
    const unsigned char png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
    write_all(bad, png, sizeof png);
    expect_load_error(bad, "not a hood model file");
    write_all(bad, "hello, world\n", 13);
    expect_load_error(bad, "not a hood model file");
    /* version 3 with a valid checksum: the version is named */
    bytes[8] = 3;
    fix_crc(bytes, len);
    write_all(bad, bytes, len);
    expect_load_error(bad, "version 3");
    bytes[8] = 2;
    /* trailing garbage */
    unsigned char *longer = malloc(len + 3);
    ck_assert_ptr_nonnull(longer);
    memcpy(longer, bytes, len);
    memset(longer + len, 0, 3);
    write_all(bad, longer, len + 3);
    expect_load_error(bad, "trailing bytes");
    free(longer);
    /* a missing file is an I/O error naming it */
    path_in_tmp(bad, sizeof bad, "missing.hood");
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_load(bad, &m), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "missing.hood"));
    free(bytes);
    remove_tmpdir();
}
END_TEST

/* Replaces the first `from` in the header with `to` (same length) and fixes the checksum. */
static void edit_header(unsigned char *b, size_t len, const char *from, const char *to)
{
    size_t n = strlen(from);
    ck_assert_uint_eq(n, strlen(to));
    for (size_t i = 24; i + n < len; i++) {
        if (memcmp(b + i, from, n) == 0) {
            memcpy(b + i, to, n);
            fix_crc(b, len);
            return;
        }
    }
    ck_abort_msg("'%s' not in the header", from);
}

START_TEST(inconsistent_headers_are_rejected)
{
    /* Checksummed but wrong inside: every one is a clear HOOD_EFORMAT, never a crash. */
    make_tmpdir();
    char good[128];
    size_t len;
    unsigned char *orig = good_file(good, sizeof good, &len);
    unsigned char *b = malloc(len);
    ck_assert_ptr_nonnull(b);
    const char *edits[][3] = {
        {"units=4", "units=5", "architecture has"},
        {"activation=tanh", "activation=tank", "unknown activation"},
        {"optimizer adam", "optimizer adom", "unknown optimizer"},
        {"slots=2", "slots=1", "slots"},
        {"layers 2", "layers 9", "expected 'layer'"},
        {"hood-model 2", "hood-model 7", "header version"},
        {"classes 0", "classes 5", "expected 'class'"},
        {"use_bias=1", "use_bias=7", "flag"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(b, orig, len);
        edit_header(b, len, edits[i][0], edits[i][1]);
        hood_model *m = NULL;
        hood__clear_error();
        ck_assert_int_eq(hood__model_parse(b, len, &m, "edited.hood"), HOOD_EFORMAT);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(hood_last_error(), edits[i][2]) != NULL, "edit %zu: '%s' lacks '%s'",
                      i, hood_last_error(), edits[i][2]);
        ck_assert_ptr_nonnull(strstr(hood_last_error(), "edited.hood"));
    }
    free(b);
    free(orig);
    remove_tmpdir();
}
END_TEST

START_TEST(non_finite_weights_are_refused)
{
    make_tmpdir();
    char good[128];
    size_t len;
    unsigned char *before = good_file(good, sizeof good, &len);
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_load(good, &m), HOOD_OK);
    m->layers[1].W[2] = NAN;
    ck_assert_int_eq(hood_model_save(m, good), HOOD_EDATA);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "layer 1"));
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "NaN"));
    m->layers[1].W[2] = 0.5f;
    m->opt_state[0] = INFINITY;
    ck_assert_int_eq(hood_model_save(m, good), HOOD_EDATA);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "optimizer state"));
    /* the existing file is untouched, byte for byte, and no temporary is left behind */
    size_t after_len;
    unsigned char *after = read_all(good, &after_len);
    ck_assert_uint_eq(after_len, len);
    ck_assert_int_eq(memcmp(before, after, len), 0);
    /* an unwritable place is an I/O error naming the path */
    ck_assert_int_eq(hood_model_save(m, "/nonexistent-dir/x.hood"), HOOD_EDATA);
    m->opt_state[0] = 0.0f;
    ck_assert_int_eq(hood_model_save(m, "/nonexistent-dir/x.hood"), HOOD_EIO);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "/nonexistent-dir/x.hood"));
    char cmd[160];
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | wc -l) -eq 1", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    free(after);
    free(before);
    hood_model_free(m);
    remove_tmpdir();
}
END_TEST

/* The fit record (settings and early stopping's outcome) survives the file; a file without
 * the line (written before it existed) loads as "no record"; a NaN weight in the file's bytes
 * is refused on load as on save. */
START_TEST(fit_record_round_trips_and_non_finite_load_is_refused)
{
    make_tmpdir();
    hood_dataset *ds = blobs(40);
    hood_model *m = new_model(HOOD_OPT_SGD, 5, 3);
    hood_fit_options fo;
    fit_opts(&fo, 30);
    fo.early_stopping = true;
    fo.monitor = HOOD_MONITOR_LOSS;
    fo.min_delta = 10.0; /* nothing improves by 10: stops after the first epoch + patience */
    fo.patience = 2;
    fo.restore_best_weights = true;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    hood_fit_record rec;
    ck_assert(hood_model_fit_record(m, &rec));
    ck_assert_uint_eq(rec.epochs, 30);
    ck_assert_uint_eq(rec.batch_size, 4);
    ck_assert_uint_eq(rec.seed, 17);
    ck_assert(rec.shuffle);
    ck_assert_double_eq(rec.validation_split, 0.25);
    ck_assert_uint_eq(rec.stopped_epoch, 3);
    ck_assert_uint_eq(rec.best_epoch, 1);
    ck_assert(rec.restored_best);
    ck_assert_uint_eq(hood_model_weights_epoch(m), 1);
    rec.interrupted = true;
    ck_assert_int_eq(hood_model_set_fit_record(m, &rec), HOOD_OK);
    char path[128];
    path_in_tmp(path, sizeof path, "m.hood");
    ck_assert_int_eq(hood_model_save(m, path), HOOD_OK);
    hood_model *back = NULL;
    ck_assert_int_eq(hood_model_load(path, &back), HOOD_OK);
    assert_same_model(m, back);
    hood_fit_record got;
    ck_assert(hood_model_fit_record(back, &got));
    ck_assert_uint_eq(got.epochs, rec.epochs);
    ck_assert_uint_eq(got.stopped_epoch, 3);
    ck_assert_uint_eq(got.best_epoch, 1);
    ck_assert(got.restored_best && got.interrupted && got.shuffle);
    ck_assert_double_eq(got.validation_split, 0.25);
    ck_assert_uint_eq(hood_model_weights_epoch(back), 1);
    hood_model_free(back);

    /* the same file without its "fit" line (an older file): no record */
    size_t len;
    unsigned char *b = read_all(path, &len);
    char *fit = strstr((char *)b + 24, "\nfit ");
    ck_assert_ptr_nonnull(fit);
    char *eol = strchr(fit + 1, '\n');
    size_t cut = (size_t)(eol - fit);
    uint32_t header = (uint32_t)b[12] | (uint32_t)b[13] << 8 | (uint32_t)b[14] << 16 |
                      (uint32_t)b[15] << 24;
    memmove(fit, eol, len - (size_t)(eol - (char *)b));
    len -= cut;
    header -= (uint32_t)cut;
    for (int i = 0; i < 4; i++)
        b[12 + i] = (unsigned char)(header >> (8 * i));
    for (int i = 0; i < 8; i++)
        b[16 + i] = (unsigned char)((uint64_t)len >> (8 * i));
    fix_crc(b, len);
    write_all(path, b, len);
    ck_assert_int_eq(hood_model_load(path, &back), HOOD_OK);
    ck_assert(!hood_model_fit_record(back, &got));
    hood_model_free(back);

    /* a NaN among the weights, with a valid checksum: refused, naming the file and layer */
    memcpy(b + 24 + header + 4 * 3, &(float){NAN}, 4);
    fix_crc(b, len);
    write_all(path, b, len);
    back = (hood_model *)1;
    ck_assert_int_eq(hood_model_load(path, &back), HOOD_EDATA);
    ck_assert_ptr_null(back);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), path));
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "layer 0 has a weight that is NaN"));
    free(b);
    hood_model_free(m);
    hood_dataset_free(ds);
    remove_tmpdir();
}
END_TEST

START_TEST(weights_npz_round_trip)
{
    make_tmpdir();
    hood_model *a = new_model(HOOD_OPT_SGD, 5, 1), *b = new_model(HOOD_OPT_SGD, 5, 2);
    ck_assert_int_ne(memcmp(a->params, b->params, a->num_params * sizeof(float)), 0);
    char path[128];
    path_in_tmp(path, sizeof path, "w.npz");
    ck_assert_int_eq(hood_model_save_weights_npz(a, path), HOOD_OK);
    ck_assert_int_eq(hood_model_load_weights_npz(b, path), HOOD_OK);
    ck_assert_int_eq(memcmp(a->params, b->params, a->num_params * sizeof(float)), 0);
    /* a bias-less layer has no bias_i: its own model reads the file back */
    hood_model *nb = NULL;
    ck_assert_int_eq(hood_model_create(&nb, 3), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(nb, 2, HOOD_ACT_LINEAR, false), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(nb, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, 4), HOOD_OK);
    float kernel[6] = {1, 2, 3, 4, 5, 6};
    ck_assert_int_eq(hood_model_set_kernel(nb, 0, kernel), HOOD_OK);
    ck_assert_int_eq(hood_model_save_weights_npz(nb, path), HOOD_OK);
    memset(nb->params, 0, 6 * sizeof(float));
    ck_assert_int_eq(hood_model_load_weights_npz(nb, path), HOOD_OK);
    float back[6];
    ck_assert_int_eq(hood_model_get_kernel(nb, 0, back), HOOD_OK);
    ck_assert_int_eq(memcmp(back, kernel, sizeof back), 0);
    hood_model_free(nb);
    hood_model_free(a);
    hood_model_free(b);
    remove_tmpdir();
}
END_TEST

START_TEST(weights_npz_shape_mismatch_names_the_array)
{
    make_tmpdir();
    hood_model *a = new_model(HOOD_OPT_SGD, 5, 1), *b = new_model(HOOD_OPT_SGD, 6, 2);
    char path[128];
    path_in_tmp(path, sizeof path, "w.npz");
    ck_assert_int_eq(hood_model_save_weights_npz(a, path), HOOD_OK);
    float *before = malloc(b->num_params * sizeof(float));
    ck_assert_ptr_nonnull(before);
    memcpy(before, b->params, b->num_params * sizeof(float));
    ck_assert_int_eq(hood_model_load_weights_npz(b, path), HOOD_ESHAPE);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "kernel_0 has shape (4, 5)"));
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "expects (4, 6)"));
    ck_assert_int_eq(memcmp(before, b->params, b->num_params * sizeof(float)), 0);
    /* a model with fewer layers than the file: the extra kernel is named */
    hood_model *one = NULL;
    ck_assert_int_eq(hood_model_create(&one, 4), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(one, 5, HOOD_ACT_TANH, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(one, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, 4), HOOD_OK);
    ck_assert_int_eq(hood_model_load_weights_npz(one, path), HOOD_ESHAPE);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "kernel_1"));
    /* uncompiled */
    hood_model *raw = NULL;
    ck_assert_int_eq(hood_model_create(&raw, 4), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(raw, 5, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_load_weights_npz(raw, path), HOOD_EINVAL);
    ck_assert_int_eq(hood_model_save_weights_npz(raw, path), HOOD_EINVAL);
    hood_model_free(raw);
    hood_model_free(one);
    free(before);
    hood_model_free(a);
    hood_model_free(b);
    remove_tmpdir();
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("model_file");
    TCase *tc = tcase_create("model_file");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip_keeps_everything);
    tcase_add_test(tc, continue_after_load_is_identical);
    tcase_add_test(tc, uncompiled_model_round_trips);
    tcase_add_test(tc, truncated_files_are_rejected);
    tcase_add_test(tc, bit_flips_are_rejected);
    tcase_add_test(tc, foreign_and_wrong_version_files_are_rejected);
    tcase_add_test(tc, inconsistent_headers_are_rejected);
    tcase_add_test(tc, non_finite_weights_are_refused);
    tcase_add_test(tc, fit_record_round_trips_and_non_finite_load_is_refused);
    tcase_add_test(tc, weights_npz_round_trip);
    tcase_add_test(tc, dropped_optimizer_state_is_not_saved);
    tcase_add_test(tc, weights_npz_shape_mismatch_names_the_array);
    suite_add_tcase(s, tc);
    return s;
}
