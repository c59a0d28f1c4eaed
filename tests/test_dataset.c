/* test_dataset.c — the in-memory dataset: ownership, labels in each mode, class names, the
 * errors a caller can trigger, and the per-thread error message. */
#include "check_main.h"

#include "dataset.h"
#include "error.h"
#include "hood.h"
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

START_TEST(create_is_zeroed_and_sized)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 3, 4), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_features(ds), 3);
    ck_assert_uint_eq(hood_dataset_samples(ds), 4);
    const float *x = hood_dataset_x(ds);
    for (size_t k = 0; k < 12; k++)
        ck_assert_float_eq(x[k], 0.0f);
    ck_assert_ptr_eq(hood_dataset_x_mutable(ds), x);
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_NONE);
    ck_assert_ptr_null(hood_dataset_labels(ds));
    hood_dataset_free(ds);
}
END_TEST

START_TEST(zero_sizes_are_errors)
{
    hood_dataset *ds = (hood_dataset *)1;
    ck_assert_int_eq(hood_dataset_create(&ds, 0, 4), HOOD_EINVAL);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "0 features"));
    ck_assert_int_eq(hood_dataset_create(&ds, 4, 0), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "0 samples"));
}
END_TEST

START_TEST(huge_matrix_is_refused_before_allocating)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, SIZE_MAX / 2, 3), HOOD_ENOMEM);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "does not fit"));
}
END_TEST

START_TEST(wrap_borrows_without_copy)
{
    float x[6] = {1, 2, 3, 4, 5, 6};
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_wrap(&ds, x, 2, 3), HOOD_OK);
    ck_assert_ptr_eq(hood_dataset_x(ds), x);
    ck_assert_ptr_null(hood_dataset_x_mutable(ds));
    hood_dataset_free(ds);
    ck_assert_float_eq(x[5], 6.0f); /* still the caller's */
    ck_assert_int_eq(hood_dataset_wrap(&ds, NULL, 2, 3), HOOD_EINVAL);
}
END_TEST

START_TEST(int_labels_stay_indices)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 1, 3), HOOD_OK);
    const int32_t y[3] = {2, 0, 1};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 3), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_label_width(ds), 1);
    ck_assert_uint_eq(hood_dataset_num_classes(ds), 3);
    ck_assert_float_eq(hood_dataset_labels(ds)[0], 2.0f);
    ck_assert_float_eq(hood__dataset_label(ds, 0, 2), 1.0f);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(categorical_labels_are_one_hot)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 1, 2), HOOD_OK);
    const int32_t y[2] = {2, 0};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_CATEGORICAL, y, 3), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_label_width(ds), 3);
    const float expected[6] = {0, 0, 1, 1, 0, 0};
    ck_assert_mem_eq(hood_dataset_labels(ds), expected, sizeof expected);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(binary_labels_need_two_classes)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 1, 2), HOOD_OK);
    const int32_t y[2] = {1, 0};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_BINARY, y, 3), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "exactly 2 classes"));
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_BINARY, y, 2), HOOD_OK);
    ck_assert_float_eq(hood_dataset_labels(ds)[0], 1.0f);
    ck_assert_float_eq(hood_dataset_labels(ds)[1], 0.0f);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(label_out_of_range_names_the_sample)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 1, 3), HOOD_OK);
    const int32_t y[3] = {0, 1, 5};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 3), HOOD_EDATA);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "sample 2"));
    ck_assert_int_eq(hood_dataset_label_mode(ds), HOOD_LABELS_NONE); /* unchanged */
    const int32_t negative[3] = {0, -1, 0};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, negative, 3), HOOD_EDATA);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(label_values_are_checked)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 1, 2), HOOD_OK);
    const float fractional[2] = {0.5f, 1.0f};
    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_INT, fractional, 1, 0),
                     HOOD_EDATA);
    const float nan_label[2] = {NAN, 1.0f};
    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_BINARY, nan_label, 1, 2),
                     HOOD_EDATA);
    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_INT, fractional, 2, 0),
                     HOOD_ESHAPE);
    const float whole[2] = {3.0f, 1.0f};
    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_INT, whole, 1, 0), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_num_classes(ds), 4); /* inferred: largest index + 1 */
    const float soft[4] = {0.25f, 0.75f, 1.0f, 0.0f};
    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_CATEGORICAL, soft, 2, 0),
                     HOOD_OK);
    ck_assert_uint_eq(hood_dataset_num_classes(ds), 2);
    ck_assert_mem_eq(hood_dataset_labels(ds), soft, sizeof soft);
    ck_assert_int_eq(hood_dataset_set_label_values(ds, HOOD_LABELS_NONE, NULL, 0, 0), HOOD_OK);
    ck_assert_ptr_null(hood_dataset_labels(ds));
    hood_dataset_free(ds);
}
END_TEST

START_TEST(class_names_are_copied_and_counted)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 1, 2), HOOD_OK);
    const int32_t y[2] = {1, 0};
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 2), HOOD_OK);
    const char *three[3] = {"a", "b", "c"};
    ck_assert_int_eq(hood_dataset_set_class_names(ds, three, 3), HOOD_ESHAPE);
    char cats[] = "cats";
    const char *two[2] = {cats, "dogs"};
    ck_assert_int_eq(hood_dataset_set_class_names(ds, two, 2), HOOD_OK);
    cats[0] = 'r';
    ck_assert_str_eq(hood_dataset_class_name(ds, 0), "cats");
    ck_assert_str_eq(hood_dataset_class_name(ds, 1), "dogs");
    ck_assert_ptr_null(hood_dataset_class_name(ds, 2));
    hood_dataset_free(ds);
}
END_TEST

START_TEST(check_finite_names_sample_and_feature)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 3, 2), HOOD_OK);
    ck_assert_int_eq(hood_dataset_check_finite(ds), HOOD_OK);
    hood_dataset_x_mutable(ds)[4] = INFINITY; /* sample 1, feature 1 */
    ck_assert_int_eq(hood_dataset_check_finite(ds), HOOD_EDATA);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "sample 1, feature 1 is infinite"));
    hood_dataset_x_mutable(ds)[4] = NAN;
    ck_assert_int_eq(hood_dataset_check_finite(ds), HOOD_EDATA);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "NaN"));
    hood_dataset_free(ds);
}
END_TEST

START_TEST(paths_and_image_shape)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 12, 2), HOOD_OK);
    ck_assert_ptr_null(hood_dataset_path(ds, 0));
    char **paths = calloc(2, sizeof *paths);
    ck_assert_ptr_nonnull(paths);
    paths[0] = strdup("a/1.png");
    paths[1] = strdup("b/2.png");
    hood__dataset_take_paths(ds, paths);
    hood__dataset_set_image_shape(ds, 2, 2, 3);
    ck_assert_str_eq(hood_dataset_path(ds, 1), "b/2.png");
    ck_assert_ptr_null(hood_dataset_path(ds, 2));
    size_t h, w, c;
    hood_dataset_image_shape(ds, &h, &w, &c);
    ck_assert_uint_eq(h * 100 + w * 10 + c, 223);
    hood_dataset_free(ds);
    hood_dataset_free(NULL);
}
END_TEST

START_TEST(errors_have_names_and_prefixes)
{
    ck_assert_str_eq(hood_strerror(HOOD_EFORMAT), "malformed file");
    ck_assert_str_eq(hood_strerror((hood_status)999), "unknown status");
    ck_assert_int_eq(hood__fail(HOOD_EIO, "%s: cannot open", "x.csv"), HOOD_EIO);
    ck_assert_int_eq(hood__fail_prefix(HOOD_EIO, "loading %s: ", "model"), HOOD_EIO);
    ck_assert_str_eq(hood_last_error(), "loading model: x.csv: cannot open");
    hood__clear_error();
    ck_assert_str_eq(hood_last_error(), "");
    size_t product = 7;
    ck_assert_int_ne(hood__mul_overflows(SIZE_MAX, 2, &product), 0);
    ck_assert_uint_eq(product, 7);
    ck_assert_int_eq(hood__mul_overflows(6, 7, &product), 0);
    ck_assert_uint_eq(product, 42);
    /* One version, from meson's project(): the string, the parts and the number agree. */
    ck_assert_str_eq(hood_version_string(), HOOD_VERSION_STRING);
    char parts[32];
    snprintf(parts, sizeof parts, "%d.%d.%d", HOOD_VERSION_MAJOR, HOOD_VERSION_MINOR,
             HOOD_VERSION_PATCH);
    ck_assert_str_eq(hood_version_string(), parts);
    ck_assert_int_eq(hood_version_number(),
                     HOOD_VERSION_MAJOR * 10000 + HOOD_VERSION_MINOR * 100 + HOOD_VERSION_PATCH);
    ck_assert_int_eq(hood_version_number(), HOOD_VERSION_NUMBER);
}
END_TEST

START_TEST(shard_ranges_tile_the_whole)
{
    /* 10 items over 3 workers: floor(i*10/3) = 0, 3, 6, 10 */
    const size_t expected_first[3] = {0, 3, 6}, expected_length[3] = {3, 3, 4};
    for (size_t r = 0; r < 3; r++) {
        size_t first = 99, length = 99;
        hood_shard_range(10, r, 3, &first, &length);
        ck_assert_uint_eq(first, expected_first[r]);
        ck_assert_uint_eq(length, expected_length[r]);
    }
    size_t first, length;
    hood_shard_range(10, 0, 1, &first, &length);
    ck_assert_uint_eq(first * 100 + length, 10);
    hood_shard_range(2, 3, 4, &first, &length); /* more workers than items: some get none */
    ck_assert_uint_eq(length, 1);
    hood_shard_range(2, 0, 4, &first, &length);
    ck_assert_uint_eq(length, 0);
    /* no overflow for huge totals: the shares still add up */
    size_t sum = 0, next = 0;
    for (size_t r = 0; r < 7; r++) {
        hood_shard_range(SIZE_MAX - 3, r, 7, &first, &length);
        ck_assert_uint_eq(first, next);
        next = first + length;
        sum += length;
    }
    ck_assert_uint_eq(sum, SIZE_MAX - 3);
}
END_TEST

START_TEST(shard_info_defaults_to_the_whole)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 2, 5), HOOD_OK);
    size_t first = 9, global = 9;
    hood_dataset_shard_info(ds, &first, &global);
    ck_assert_uint_eq(first, 0);
    ck_assert_uint_eq(global, 5);
    hood__dataset_set_shard(ds, 20, 100);
    hood_dataset_shard_info(ds, &first, &global);
    ck_assert_uint_eq(first, 20);
    ck_assert_uint_eq(global, 100);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(truncate_keeps_the_first_columns)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 2, 4), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    for (size_t k = 0; k < 8; k++)
        x[k] = (float)k;
    char **paths = calloc(4, sizeof *paths);
    ck_assert_ptr_nonnull(paths);
    for (size_t j = 0; j < 4; j++)
        paths[j] = strdup(j % 2 ? "odd" : "even");
    hood__dataset_take_paths(ds, paths);
    ck_assert_int_eq(hood__dataset_truncate(ds, 5), HOOD_EINVAL);
    ck_assert_int_eq(hood__dataset_truncate(ds, 0), HOOD_EINVAL);
    ck_assert_int_eq(hood__dataset_truncate(ds, 3), HOOD_OK);
    ck_assert_uint_eq(hood_dataset_samples(ds), 3);
    const float expected[6] = {0, 1, 2, 3, 4, 5};
    ck_assert_mem_eq(hood_dataset_x(ds), expected, sizeof expected);
    ck_assert_str_eq(hood_dataset_path(ds, 2), "even");
    ck_assert_ptr_null(hood_dataset_path(ds, 3));
    hood_dataset_free(ds); /* frees exactly the 3 kept paths: ASan/valgrind would see a leak */

    float borrowed[4] = {0};
    ck_assert_int_eq(hood_dataset_wrap(&ds, borrowed, 2, 2), HOOD_OK);
    ck_assert_int_eq(hood__dataset_truncate(ds, 1), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "caller memory"));
    hood_dataset_free(ds);
}
END_TEST

/* hood_dataset_wrap_u8: the caller's codes, no copy, read through the one widening rule. */
START_TEST(wrap_u8_borrows_codes)
{
    enum { D = 5, N = 7 };
    uint8_t codes[D * N];
    for (size_t k = 0; k < D * N; k++)
        codes[k] = (uint8_t)(k * 37 + 3);
    const float divisors[] = {255.0f, 1.0f, 3.5f};
    for (size_t t = 0; t < 3; t++) {
        hood_dataset *ds = NULL;
        ck_assert_int_eq(hood_dataset_wrap_u8(&ds, codes, D, N, divisors[t]), HOOD_OK);
        ck_assert_int_eq(hood_dataset_storage(ds), HOOD_PIXELS_U8);
        float divisor = 0.0f;
        ck_assert_ptr_eq(hood_dataset_x_u8(ds, &divisor), codes);
        ck_assert(divisor == divisors[t]);
        ck_assert_uint_eq(hood_dataset_x_bytes(ds), 0); /* the caller's memory */
        ck_assert_ptr_null(hood_dataset_x_mutable(ds));
        ck_assert_int_eq(hood_dataset_storage(ds), HOOD_PIXELS_U8); /* not converted */
        const float *x = hood_dataset_x(ds);
        ck_assert_ptr_nonnull(x);
        for (size_t k = 0; k < D * N; k++)
            ck_assert_msg(x[k] == (float)codes[k] / divisors[t], "value %zu", k);
        ck_assert_uint_eq(hood_dataset_x_bytes(ds), D * N * sizeof(float)); /* the copy */
        hood_dataset_free(ds);
    }
}
END_TEST

START_TEST(wrap_u8_errors_say_what)
{
    uint8_t codes[4] = {0};
    hood_dataset *ds = (hood_dataset *)codes; /* must be reset to NULL */
    ck_assert_int_eq(hood_dataset_wrap_u8(&ds, NULL, 2, 2, 255.0f), HOOD_EINVAL);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "codes is NULL"));
    const float bad[] = {0.0f, -1.0f, NAN, INFINITY};
    for (size_t t = 0; t < 4; t++) {
        ds = (hood_dataset *)codes;
        ck_assert_int_eq(hood_dataset_wrap_u8(&ds, codes, 2, 2, bad[t]), HOOD_EINVAL);
        ck_assert_ptr_null(ds);
        ck_assert_ptr_nonnull(strstr(hood_last_error(), "divisor"));
    }
    ck_assert_int_eq(hood_dataset_wrap_u8(&ds, codes, 0, 2, 255.0f), HOOD_EINVAL);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(hood_dataset_wrap_u8(&ds, codes, SIZE_MAX / 2, 3, 255.0f), HOOD_EINVAL);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "too large"));
}
END_TEST

/* A model fitted on wrapped codes equals one fitted on the widened floats, bit for bit: with
 * shuffled batches (the 8-bit gather) and with one whole batch (X read in place, widened once),
 * at 1 and 2 threads. */
static hood_model *fit_small(const hood_dataset *ds, size_t batch, int threads)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, hood_dataset_features(ds)), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 12, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_RMSPROP);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 3),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_set_threads(m, threads), HOOD_OK);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 3;
    fo.batch_size = batch;
    fo.seed = 5;
    ck_assert_msg(hood_model_fit(m, ds, &fo) == HOOD_OK, "%s", hood_last_error());
    return m;
}

START_TEST(wrap_u8_trains_as_its_floats)
{
    enum { D = 600, N = 90 };
    uint8_t *codes = malloc(D * N);
    float *x = malloc(D * N * sizeof *x);
    int32_t labels[N];
    uint32_t r = 12345;
    for (size_t j = 0; j < N; j++) {
        labels[j] = (int32_t)(j % 3);
        for (size_t i = 0; i < D; i++) {
            r = r * 1664525u + 1013904223u;
            codes[j * D + i] = (uint8_t)((r >> 24) / 2 + (i % 3 == (size_t)labels[j] ? 100 : 0));
            x[j * D + i] = (float)codes[j * D + i] / 255.0f;
        }
    }
    hood_dataset *u = NULL, *f = NULL;
    ck_assert_int_eq(hood_dataset_wrap_u8(&u, codes, D, N, 255.0f), HOOD_OK);
    ck_assert_int_eq(hood_dataset_wrap(&f, x, D, N), HOOD_OK);
    ck_assert_int_eq(hood_dataset_set_labels(u, HOOD_LABELS_INT, labels, 3), HOOD_OK);
    ck_assert_int_eq(hood_dataset_set_labels(f, HOOD_LABELS_INT, labels, 3), HOOD_OK);
    const size_t batches[] = {8, N};
    for (int threads = 1; threads <= 2; threads++)
        for (size_t b = 0; b < 2; b++) {
            hood_model *mu = fit_small(u, batches[b], threads);
            hood_model *mf = fit_small(f, batches[b], threads);
            ck_assert_uint_eq(mu->num_params, mf->num_params);
            ck_assert_msg(memcmp(mu->params, mf->params, mu->num_params * sizeof(float)) == 0,
                          "batch %zu, %d threads: weights differ", batches[b], threads);
            const hood_epoch_log *a = hood_model_history(mu, 2), *c = hood_model_history(mf, 2);
            ck_assert_msg(a->loss == c->loss, "batch %zu, %d threads: loss %.9g vs %.9g",
                          batches[b], threads, a->loss, c->loss);
            ck_assert(a->loss < hood_model_history(mu, 0)->loss); /* it learns: not noise */
            hood_model_free(mu);
            hood_model_free(mf);
        }
    ck_assert_uint_eq(hood_dataset_x_bytes(u), 0); /* no float copy was made */
    hood_dataset_free(u);
    hood_dataset_free(f);
    free(codes);
    free(x);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("dataset");
    tcase_add_test(tc, create_is_zeroed_and_sized);
    tcase_add_test(tc, zero_sizes_are_errors);
    tcase_add_test(tc, huge_matrix_is_refused_before_allocating);
    tcase_add_test(tc, wrap_borrows_without_copy);
    tcase_add_test(tc, int_labels_stay_indices);
    tcase_add_test(tc, categorical_labels_are_one_hot);
    tcase_add_test(tc, binary_labels_need_two_classes);
    tcase_add_test(tc, label_out_of_range_names_the_sample);
    tcase_add_test(tc, label_values_are_checked);
    tcase_add_test(tc, class_names_are_copied_and_counted);
    tcase_add_test(tc, check_finite_names_sample_and_feature);
    tcase_add_test(tc, paths_and_image_shape);
    tcase_add_test(tc, errors_have_names_and_prefixes);
    tcase_add_test(tc, shard_ranges_tile_the_whole);
    tcase_add_test(tc, shard_info_defaults_to_the_whole);
    tcase_add_test(tc, truncate_keeps_the_first_columns);
    tcase_add_test(tc, wrap_u8_borrows_codes);
    tcase_add_test(tc, wrap_u8_errors_say_what);
    tcase_add_test(tc, wrap_u8_trains_as_its_floats);
    suite_add_tcase(s, tc);
    return s;
}
