/* test_abi.c — the options structs' struct_size rules (hood.h "Options structs", docs/abi.md):
 * a program built against the first released layouts (copied below as that program would have
 * them) works with this library; a zero, too-small, or newer-with-fields-set struct is refused
 * with a message; a newer struct whose unknown fields are zero is accepted. Not the exported
 * symbol list (abi/test_symbols.sh). */
#include "check_main.h"

#include "error.h"

#include <hood.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the first released layouts, as a program compiled against hood 0.1 has them ---------- */

typedef struct v1_preprocess {
    size_t struct_size;
    size_t height, width;
    int color_mode, interpolation;
    bool crop_to_aspect_ratio, pad_to_aspect_ratio, raw_values;
    bool jpeg_draft, exif_transpose;
    int32_t alpha_background;
} v1_preprocess;

typedef struct v1_ingest_options {
    size_t struct_size;
    v1_preprocess image;
    int label_mode;
    const char *const *class_names;
    size_t num_class_names;
    const char *labels_file;
    bool shuffle, has_seed;
    uint64_t seed;
    double validation_split;
    int subset;
    bool follow_links, strict, block_untrusted;
    int threads;
    void (*on_message)(void *, const char *);
    void (*on_progress)(void *, size_t, size_t);
    void *user;
    size_t shard_index, shard_count;
} v1_ingest_options;

typedef struct v1_csv_options {
    size_t struct_size;
    bool header;
    long label_column;
    size_t label_columns;
    int label_mode;
    size_t shard_index, shard_count;
    bool labels_from_header;
    size_t features;
} v1_csv_options;

typedef struct v1_optimizer_config {
    size_t struct_size;
    int kind;
    float learning_rate, momentum;
    bool nesterov;
    float beta_1, beta_2, rho, epsilon;
} v1_optimizer_config;

typedef struct v1_fit_options {
    size_t struct_size;
    size_t epochs, batch_size;
    bool shuffle;
    uint64_t seed;
    double validation_split;
    const hood_dataset *validation_data;
    bool early_stopping;
    int monitor;
    size_t patience;
    double min_delta;
    bool restore_best_weights;
    void *on_epoch_end, *on_batch_end, *user;
    const void *shard;
    const float *class_weights;
    size_t num_class_weights;
} v1_fit_options;

/* The layouts hood grows from: a field of the first release moved or resized is an ABI break
 * (docs/abi.md), caught here at compile time. */
_Static_assert(sizeof(v1_preprocess) <= sizeof(hood_preprocess) &&
                   offsetof(hood_preprocess, alpha_background) ==
                       offsetof(v1_preprocess, alpha_background),
               "hood_preprocess: the first layout changed");
_Static_assert(sizeof(v1_csv_options) <= sizeof(hood_csv_options) &&
                   offsetof(hood_csv_options, features) == offsetof(v1_csv_options, features),
               "hood_csv_options: the first layout changed");
_Static_assert(sizeof(v1_optimizer_config) <= sizeof(hood_optimizer_config) &&
                   offsetof(hood_optimizer_config, epsilon) ==
                       offsetof(v1_optimizer_config, epsilon),
               "hood_optimizer_config: the first layout changed");
_Static_assert(sizeof(v1_fit_options) <= sizeof(hood_fit_options) &&
                   offsetof(hood_fit_options, num_class_weights) ==
                       offsetof(v1_fit_options, num_class_weights),
               "hood_fit_options: the first layout changed");

/* 2 features, 64 samples, label x0 > x1; a compiled 2-4-1 model. */
static hood_dataset *toy_data(void)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 2, 64), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    int32_t y[64];
    for (size_t j = 0; j < 64; j++) {
        x[2 * j] = (float)((j * 37) % 64) / 64.0f;
        x[2 * j + 1] = (float)((j * 11) % 64) / 64.0f;
        y[j] = x[2 * j] > x[2 * j + 1];
    }
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_BINARY, y, 2), HOOD_OK);
    return ds;
}

static hood_model *toy_model_v1(float learning_rate)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, 2), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 4, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 1, HOOD_ACT_SIGMOID, true), HOOD_OK);
    /* What an old program does: its own init (here: by hand, as its inline copy would). */
    v1_optimizer_config cfg = {.struct_size = sizeof cfg, .kind = HOOD_OPT_SGD,
                               .learning_rate = learning_rate, .beta_1 = 0.9f,
                               .beta_2 = 0.999f, .rho = 0.9f, .epsilon = 1e-7f};
    ck_assert_int_eq(
        hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, (hood_optimizer_config *)&cfg, 1),
        HOOD_OK);
    return m;
}

START_TEST(inits_set_struct_size_and_defaults)
{
    hood_preprocess pp;
    hood_ingest_options in;
    hood_csv_options csv;
    hood_optimizer_config opt;
    hood_fit_options fit;
    memset(&in, 0xab, sizeof in);
    hood_preprocess_init(&pp);
    hood_ingest_options_init(&in);
    hood_csv_options_init(&csv);
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    hood_fit_options_init(&fit);
    ck_assert_uint_eq(pp.struct_size, sizeof pp);
    ck_assert_uint_eq(in.struct_size, sizeof in);
    ck_assert_uint_eq(in.image.struct_size, sizeof in.image);
    ck_assert_uint_eq(csv.struct_size, sizeof csv);
    ck_assert_uint_eq(opt.struct_size, sizeof opt);
    ck_assert_uint_eq(fit.struct_size, sizeof fit);
    /* the library's default seeds are the CLI's (0), never a drawn one */
    ck_assert(in.has_seed && in.seed == 0);
    ck_assert_uint_eq(fit.seed, 0);
}
END_TEST

START_TEST(first_layouts_work_with_this_library)
{
    hood_dataset *ds = toy_data();
    hood_model *m = toy_model_v1(0.25f);
    ck_assert(hood_model_get_learning_rate(m) == 0.25f);

    v1_fit_options fit;
    memset(&fit, 0, sizeof fit);
    fit.struct_size = sizeof fit;
    fit.epochs = 3;
    fit.batch_size = 16;
    fit.shuffle = true;
    ck_assert_int_eq(hood_model_fit(m, ds, (const hood_fit_options *)&fit), HOOD_OK);
    ck_assert_uint_eq(hood_model_history_length(m), 3);

    v1_optimizer_config back;
    memset(&back, 0, sizeof back);
    back.struct_size = sizeof back;
    ck_assert_int_eq(hood_model_optimizer(m, (hood_optimizer_config *)&back), HOOD_OK);
    ck_assert(back.kind == HOOD_OPT_SGD && back.learning_rate == 0.25f);
    ck_assert_uint_eq(back.struct_size, sizeof back); /* never more than the caller's */

    /* preprocess in and out: 1 x 2 grayscale = the model's 2 inputs */
    v1_preprocess pp = {.struct_size = sizeof pp, .height = 1, .width = 2,
                        .color_mode = HOOD_COLOR_GRAYSCALE, .interpolation = HOOD_INTERP_AREA,
                        .raw_values = true, .alpha_background = HOOD_ALPHA_IGNORE};
    ck_assert_int_eq(hood_model_set_preprocess(m, (const hood_preprocess *)&pp), HOOD_OK);
    v1_preprocess out;
    memset(&out, 0, sizeof out);
    out.struct_size = sizeof out;
    ck_assert(hood_model_preprocess(m, (hood_preprocess *)&out));
    ck_assert(out.width == 2 && out.interpolation == HOOD_INTERP_AREA && out.raw_values);

    /* a CSV read with the old options: label_column -2 = every column a feature */
    hood_test_make_tmpdir("abi");
    const char *path = hood_test_in_tmp("x.csv");
    ck_assert_int_eq(hood_dataset_save(ds, path, NULL), HOOD_OK);
    v1_csv_options csv = {.struct_size = sizeof csv,
                          .label_column = -2,
                          .label_columns = 1,
                          .labels_from_header = true};
    hood_dataset *back_ds = NULL;
    ck_assert_int_eq(hood_dataset_load(path, (const hood_csv_options *)&csv, &back_ds), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_features(back_ds), 3);
    hood_dataset_free(back_ds);
    hood_test_remove_tmpdir();
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(uninitialised_structs_are_refused)
{
    hood_dataset *ds = toy_data();
    hood_model *m = toy_model_v1(0.1f);
    hood_fit_options fit;
    memset(&fit, 0, sizeof fit); /* no init: struct_size 0 */
    fit.epochs = 1;
    ck_assert_int_eq(hood_model_fit(m, ds, &fit), HOOD_EINVAL);
    ck_assert_str_eq(hood_last_error(),
                     "fit: hood_fit_options.struct_size is 0; call hood_fit_options_init first");
    ck_assert_uint_eq(hood_model_history_length(m), 0);

    hood_optimizer_config cfg;
    memset(&cfg, 0, sizeof cfg);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &cfg, 0), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "hood_optimizer_config_init"));
    ck_assert_int_eq(hood_model_optimizer(m, &cfg), HOOD_EINVAL);

    /* smaller than the first layout: refused, not half-read */
    hood_csv_options csv;
    hood_csv_options_init(&csv);
    csv.struct_size = offsetof(hood_csv_options, label_columns);
    hood_dataset *out = NULL;
    ck_assert_int_eq(hood_dataset_load("/nonexistent.csv", &csv, &out), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "hood_csv_options_init"));

    hood_preprocess pp;
    memset(&pp, 0, sizeof pp);
    pp.height = pp.width = 1;
    ck_assert_int_eq(hood_model_set_preprocess(m, &pp), HOOD_EINVAL);
    ck_assert(!hood_model_preprocess(m, &pp));

    hood_ingest_options in;
    memset(&in, 0, sizeof in);
    ck_assert_int_eq(hood_dataset_from_directory("/nonexistent", &in, &out, NULL), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "hood_ingest_options_init"));
    hood_ingest_options_init(&in);
    in.image.struct_size = 0; /* the nested struct is checked too */
    ck_assert_int_eq(hood_dataset_from_directory("/nonexistent", &in, &out, NULL), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "struct_size is 0"));
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

/* A program built against a newer hood, whose options have fields this library lacks. */
typedef struct newer_fit_options {
    hood_fit_options known;
    uint64_t added[3];
} newer_fit_options;

START_TEST(newer_layouts_accepted_only_with_unknown_fields_zero)
{
    hood_dataset *ds = toy_data();
    hood_model *m = toy_model_v1(0.1f);
    newer_fit_options fit;
    memset(&fit, 0, sizeof fit);
    hood_fit_options_init(&fit.known);
    fit.known.struct_size = sizeof fit;
    ck_assert_int_eq(hood_model_fit(m, ds, &fit.known), HOOD_OK);
    ck_assert_uint_eq(hood_model_history_length(m), 1);

    fit.added[1] = 7; /* a new option this library cannot honour */
    ck_assert_int_eq(hood_model_fit(m, ds, &fit.known), HOOD_EINVAL);
    char want[256];
    snprintf(want, sizeof want, "hood_fit_options.struct_size is %zu, this libhood %s knows %zu",
             sizeof fit, hood_version_string(), sizeof(hood_fit_options));
    ck_assert_ptr_nonnull(strstr(hood_last_error(), want));
    ck_assert_uint_eq(hood_model_history_length(m), 1);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

/* The reading rule itself on a struct that grew (this branch has no released older layout
 * shorter than the current one to pass): an old caller's fields are read, the appended ones
 * take their zero defaults, the struct the library works on says its own size. */
typedef struct grown {
    size_t struct_size;
    int a;
    double b; /* the first layout ends here */
    int added;
    char added_too[5];
} grown;

START_TEST(an_older_shorter_layout_reads_defaults_for_the_rest)
{
    const size_t first = HOOD__END(grown, b);
    grown old;
    memset(&old, 0x5a, sizeof old); /* past the old caller's struct: not its bytes */
    old.struct_size = first;
    old.a = 3;
    old.b = 2.5;
    grown got;
    memset(&got, 0xff, sizeof got);
    ck_assert_int_eq(hood__options_read(&got, sizeof got, first, &old, "t", "grown"), HOOD_OK);
    ck_assert(got.struct_size == sizeof got && got.a == 3 && got.b == 2.5);
    ck_assert(got.added == 0 && got.added_too[4] == 0);
    old.struct_size = first - 1;
    ck_assert_int_eq(hood__options_read(&got, sizeof got, first, &old, "t", "grown"),
                     HOOD_EINVAL);
    char want[128];
    snprintf(want, sizeof want, "t: grown.struct_size is %zu; call grown_init first", first - 1);
    ck_assert_str_eq(hood_last_error(), want);
}
END_TEST

START_TEST(success_clears_the_last_error)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, 0), HOOD_EINVAL);
    ck_assert_str_ne(hood_last_error(), "");
    ck_assert_int_eq(hood_model_create(&m, 2), HOOD_OK);
    ck_assert_str_eq(hood_last_error(), "");
    ck_assert_int_eq(hood_model_add_dense(m, 0, HOOD_ACT_RELU, true), HOOD_EINVAL);
    ck_assert_str_ne(hood_last_error(), "");
    ck_assert_int_eq(hood_model_set_threads(m, 1), HOOD_OK);
    ck_assert_str_eq(hood_last_error(), "");
    hood_model_free(m);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("abi");
    TCase *tc = tcase_create("abi");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, inits_set_struct_size_and_defaults);
    tcase_add_test(tc, first_layouts_work_with_this_library);
    tcase_add_test(tc, uninitialised_structs_are_refused);
    tcase_add_test(tc, newer_layouts_accepted_only_with_unknown_fields_zero);
    tcase_add_test(tc, an_older_shorter_layout_reads_defaults_for_the_rest);
    tcase_add_test(tc, success_clears_the_last_error);
    suite_add_tcase(s, tc);
    return s;
}
