/* test_embed.c — what a host embedding libhood controls: hood_model_interrupt (fit keeps the
 * last finished batch and resumes from it; evaluate and predict stop; the request clears when
 * the call returns), the learning rate read and set between batches, and models saved to and
 * loaded from memory with the file's bytes. Not the struct_size rules (test_abi.c) or threads
 * (test_threads.c). */
#include "check_main.h"

#include <hood.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FEATURES = 3, SAMPLES = 200 };

static hood_dataset *toy_data(void)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, FEATURES, SAMPLES), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    int32_t y[SAMPLES];
    uint32_t s = 7;
    for (size_t j = 0; j < SAMPLES; j++) {
        for (size_t i = 0; i < FEATURES; i++) {
            s = s * 1664525u + 1013904223u;
            x[j * FEATURES + i] = (float)(s >> 8) / 16777216.0f;
        }
        y[j] = x[j * FEATURES] + x[j * FEATURES + 1] > x[j * FEATURES + 2] + 0.5f;
    }
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_BINARY, y, 2), HOOD_OK);
    return ds;
}

static hood_model *toy_model(hood_optimizer_kind kind)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, FEATURES), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 8, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 1, HOOD_ACT_SIGMOID, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, kind);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &opt, 3), HOOD_OK);
    return m;
}

static void all_params(const hood_model *m, float *out)
{
    for (size_t l = 0; l < hood_model_num_layers(m); l++) {
        size_t in = l == 0 ? hood_model_input_features(m) : hood_model_layer_units(m, l - 1);
        size_t units = hood_model_layer_units(m, l);
        ck_assert_int_eq(hood_model_get_kernel(m, l, out), HOOD_OK);
        out += in * units;
        ck_assert_int_eq(hood_model_get_bias(m, l, out), HOOD_OK);
        out += units;
    }
}

/* The batch callback plays the host's other thread: it interrupts after batch `at`. */
typedef struct interrupter {
    const hood_model *model;
    size_t at, seen;
} interrupter;

static int interrupt_at(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                        double accuracy)
{
    (void)epoch, (void)batch, (void)num_batches, (void)loss, (void)accuracy;
    interrupter *it = user;
    if (it->seen++ == it->at)
        hood_model_interrupt(it->model);
    return 0;
}

START_TEST(interrupted_fit_keeps_the_last_batch_and_resumes)
{
    hood_dataset *ds = toy_data();
    hood_model *whole = toy_model(HOOD_OPT_ADAM), *cut = toy_model(HOOD_OPT_ADAM);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 3;
    fo.batch_size = 32; /* 7 batches an epoch */
    ck_assert_int_eq(hood_model_fit(whole, ds, &fo), HOOD_OK);

    interrupter it = {.model = cut, .at = 9}; /* after epoch 2's third batch */
    fo.on_batch_end = interrupt_at;
    fo.user = &it;
    ck_assert_int_eq(hood_model_fit(cut, ds, &fo), HOOD_ESTOPPED);
    ck_assert_str_eq(hood_last_error(), "fit: interrupted at epoch 2, batch 4 of 7");
    ck_assert_uint_eq(it.seen, 10);
    ck_assert_uint_eq(hood_model_epochs_done(cut), 1);
    /* the request was cleared on return: the rest of the run goes through, from batch 4 */
    fo.on_batch_end = NULL;
    fo.epochs = 2;
    ck_assert_int_eq(hood_model_fit(cut, ds, &fo), HOOD_OK);
    ck_assert_uint_eq(hood_model_epochs_done(cut), 3);
    size_t n = hood_model_num_params(whole);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    all_params(whole, a);
    all_params(cut, b);
    ck_assert_mem_eq(a, b, n * sizeof *a); /* as if never interrupted */
    free(a);
    free(b);
    hood_model_free(whole);
    hood_model_free(cut);
    hood_dataset_free(ds);
}
END_TEST

static hood_model *signal_target;

static void on_signal(int sig)
{
    (void)sig;
    hood_model_interrupt(signal_target);
}

START_TEST(interrupt_from_a_signal_handler_stops_evaluate_and_predict)
{
    hood_dataset *ds = toy_data();
    hood_model *m = toy_model(HOOD_OPT_SGD);
    signal_target = m;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
    /* A request made while nothing runs stops the next call at its first boundary. */
    ck_assert_int_eq(raise(SIGUSR1), 0);
    double loss = -1;
    ck_assert_int_eq(hood_model_evaluate(m, ds, 32, &loss, NULL), HOOD_ESTOPPED);
    ck_assert_str_eq(hood_last_error(), "evaluate: interrupted");
    ck_assert(loss == -1); /* nothing written */
    ck_assert_int_eq(hood_model_evaluate(m, ds, 32, &loss, NULL), HOOD_OK); /* cleared */
    float out[SAMPLES];
    ck_assert_int_eq(raise(SIGUSR1), 0);
    ck_assert_int_eq(hood_model_predict(m, hood_dataset_x(ds), SAMPLES, 32, out), HOOD_ESTOPPED);
    ck_assert_str_eq(hood_last_error(), "predict: interrupted at sample 0 of 200");
    ck_assert_int_eq(hood_model_predict(m, hood_dataset_x(ds), SAMPLES, 32, out), HOOD_OK);
    ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

/* A schedule from the epoch callback: halve the rate after every epoch. */
static int halve(void *user, hood_model *model, const hood_epoch_log *log)
{
    float *seen = user;
    seen[log->epoch] = hood_model_get_learning_rate(model);
    ck_assert_int_eq(hood_model_set_learning_rate(model, seen[log->epoch] / 2), HOOD_OK);
    return 0;
}

START_TEST(learning_rate_is_read_and_set_between_epochs)
{
    hood_dataset *ds = toy_data();
    hood_model *m = toy_model(HOOD_OPT_SGD), *ref = toy_model(HOOD_OPT_SGD);
    ck_assert(hood_model_get_learning_rate(m) == 0.01f);
    ck_assert_int_eq(hood_model_set_learning_rate(m, 0.0f), HOOD_EINVAL);
    ck_assert_int_eq(hood_model_set_learning_rate(m, 0.0f / 0.0f), HOOD_EINVAL);
    ck_assert(hood_model_get_learning_rate(m) == 0.01f);

    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 3;
    float seen[3] = {0};
    fo.on_epoch_end = halve;
    fo.user = seen;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    ck_assert(seen[0] == 0.01f && seen[1] == 0.005f && seen[2] == 0.0025f);
    ck_assert(hood_model_get_learning_rate(m) == 0.00125f);

    /* The same run by hand, one epoch per fit with the rate set in between: same bits. */
    fo.on_epoch_end = NULL;
    fo.epochs = 1;
    for (int e = 0; e < 3; e++) {
        ck_assert_int_eq(hood_model_fit(ref, ds, &fo), HOOD_OK);
        ck_assert_int_eq(hood_model_set_learning_rate(ref, hood_model_get_learning_rate(ref) / 2),
                         HOOD_OK);
    }
    size_t n = hood_model_num_params(m);
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    all_params(m, a);
    all_params(ref, b);
    ck_assert_mem_eq(a, b, n * sizeof *a);
    /* and the rate did change the result: a constant rate gives other weights */
    hood_model *flat = toy_model(HOOD_OPT_SGD);
    fo.epochs = 3;
    ck_assert_int_eq(hood_model_fit(flat, ds, &fo), HOOD_OK);
    all_params(flat, b);
    ck_assert(memcmp(a, b, n * sizeof *a) != 0);
    free(a);
    free(b);
    hood_model_free(flat);
    hood_model_free(m);
    hood_model_free(ref);
    hood_dataset_free(ds);
}
END_TEST

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    unsigned char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

START_TEST(buffer_holds_the_file_bytes)
{
    hood_test_make_tmpdir("embed");
    hood_dataset *ds = toy_data();
    hood_model *m = toy_model(HOOD_OPT_ADAM);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 2;
    ck_assert_int_eq(hood_model_fit(m, ds, &fo), HOOD_OK);
    const char *names[2] = {"no", "yes"};
    ck_assert_int_eq(hood_model_set_class_names(m, names, 2), HOOD_OK);
    const char *path = hood_test_in_tmp("m.hood");
    ck_assert_int_eq(hood_model_save(m, path), HOOD_OK);
    size_t file_len;
    unsigned char *file = read_all(path, &file_len);
    void *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(hood_model_save_to_buffer(m, &buf, &len), HOOD_OK);
    ck_assert_uint_eq(len, file_len);
    ck_assert_mem_eq(buf, file, len);

    hood_model *from_file = NULL, *from_buf = NULL;
    ck_assert_int_eq(hood_model_load(path, &from_file), HOOD_OK);
    ck_assert_int_eq(hood_model_load_from_buffer(&from_buf, buf, len), HOOD_OK);
    void *again = NULL, *again_file = NULL;
    size_t again_len, again_file_len;
    ck_assert_int_eq(hood_model_save_to_buffer(from_buf, &again, &again_len), HOOD_OK);
    ck_assert_int_eq(hood_model_save_to_buffer(from_file, &again_file, &again_file_len), HOOD_OK);
    ck_assert_uint_eq(again_len, len);
    ck_assert_mem_eq(again, buf, len); /* everything the file keeps, kept */
    ck_assert_mem_eq(again_file, buf, len);
    ck_assert_str_eq(hood_model_class_name(from_buf, 1), "yes");

    /* a damaged buffer is refused as a damaged file is */
    ((unsigned char *)buf)[len / 2] ^= 0x10;
    hood_model *bad = (hood_model *)1;
    ck_assert_int_eq(hood_model_load_from_buffer(&bad, buf, len), HOOD_EFORMAT);
    ck_assert_ptr_null(bad);
    ck_assert_int_eq(hood_model_load_from_buffer(&bad, buf, 10), HOOD_EFORMAT);
    ck_assert_int_eq(hood_model_load_from_buffer(&bad, NULL, 0), HOOD_EFORMAT);
    hood_free(buf);
    hood_free(again);
    hood_free(again_file);
    hood_free(NULL);
    free(file);
    hood_model_free(from_buf);
    hood_model_free(from_file);
    hood_model_free(m);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

/* -Dimages=disabled: every image call fails with HOOD_EUNSUPPORTED and says why (meson passes
 * HOOD_IMAGES); with images the same calls reach the file system. */
START_TEST(image_calls_say_whether_this_build_has_images)
{
    const char *env = getenv("HOOD_IMAGES");
    ck_assert_ptr_nonnull(env);
    bool images = strcmp(env, "1") == 0;
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    float column[256 * 256];
    hood_status st = hood_image_load("/nonexistent/x.png", &pp, column);
    hood_ingest_options in;
    hood_ingest_options_init(&in);
    hood_dataset *ds = NULL;
    hood_status st2 = hood_dataset_from_directory("/nonexistent", &in, &ds, NULL);
    if (images) {
        ck_assert_int_eq(st, HOOD_EIO);
        ck_assert_int_ne(st2, HOOD_EUNSUPPORTED);
    } else {
        ck_assert_int_eq(st, HOOD_EUNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(hood_last_error(), "without image support"));
        ck_assert_int_eq(st2, HOOD_EUNSUPPORTED);
    }
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("embed");
    TCase *tc = tcase_create("embed");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, interrupted_fit_keeps_the_last_batch_and_resumes);
    tcase_add_test(tc, interrupt_from_a_signal_handler_stops_evaluate_and_predict);
    tcase_add_test(tc, learning_rate_is_read_and_set_between_epochs);
    tcase_add_test(tc, buffer_holds_the_file_bytes);
    tcase_add_test(tc, image_calls_say_whether_this_build_has_images);
    suite_add_tcase(s, tc);
    return s;
}
