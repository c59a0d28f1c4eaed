/* test_pixels8.c — 8-bit pixel storage (hood.h hood_pixel_storage): one image folder ingested
 * as 8-bit codes and as float32 gives the same floats (hood_dataset_x), the same export bytes,
 * a quarter of the memory, and bit-identical weights after training (Dense and conv models,
 * 1 and 2 threads). Not the pixels themselves (test_ingest) nor the training maths (test_train). */
#include "check_main.h"

#include "dataset.h"
#include "error.h"
#include "matrix.h"
#include "model.h"
#include "parallel.h"
#include "resample.h"

#include <hood.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vips/vips.h>

enum { SIDE = 14, OUT = 10, CLASSES = 3, PER_CLASS = 16 };

/* CLASSES folders of PER_CLASS SIDE x SIDE PNGs (grey or RGB): ingest resizes them to
 * OUT x OUT, so bilinear resampling makes codes that are not in the files. */
static const char *make_folder(int bands)
{
    const char *root = hood_test_make_tmpdir("pixels8");
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/img", root);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(vips_init("test_pixels8"), 0);
    uint64_t state = 12345;
    for (int c = 0; c < CLASSES; c++) {
        char path[600];
        snprintf(path, sizeof path, "%s/c%d", dir, c);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        for (int i = 0; i < PER_CLASS; i++) {
            uint8_t px[SIDE * SIDE * 3];
            for (int k = 0; k < SIDE * SIDE * bands; k++) {
                state = state * 6364136223846793005u + 1442695040888963407u;
                /* a class-dependent bias, so the models learn something */
                px[k] = (uint8_t)((state >> 56) / 2 + (uint64_t)c * 60);
            }
            VipsImage *im = vips_image_new_from_memory_copy(px, (size_t)SIDE * SIDE * bands,
                                                            SIDE, SIDE, bands, VIPS_FORMAT_UCHAR);
            ck_assert_ptr_nonnull(im);
            im->Type = bands == 1 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
            snprintf(path, sizeof path, "%s/c%d/%02d.png", dir, c, i);
            ck_assert_msg(vips_pngsave(im, path, NULL) == 0, "%s", vips_error_buffer());
            g_object_unref(im);
        }
    }
    return dir;
}

static hood_dataset *ingest(const char *dir, hood_pixel_storage storage, bool raw,
                            hood_color_mode mode)
{
    hood_ingest_options o;
    hood_ingest_options_init(&o);
    o.image.height = o.image.width = OUT;
    o.image.color_mode = mode;
    o.image.raw_values = raw;
    o.label_mode = HOOD_LABELS_INT;
    o.threads = 2;
    o.pixel_storage = storage;
    hood_dataset *ds = NULL;
    ck_assert_msg(hood_dataset_from_directory(dir, &o, &ds, NULL) == HOOD_OK, "%s",
                  hood_last_error());
    return ds;
}

/* The one widening rule is the table ingest writes with float storage: every code, both
 * rescalings. A widening by 256 (or by a reciprocal product) fails here. */
START_TEST(widening_rule_is_ingest_table)
{
    for (int raw = 0; raw < 2; raw++) {
        hood_preprocess pp;
        hood_preprocess_init(&pp);
        pp.raw_values = raw;
        hood__resampler rs;
        hood__resampler_init(&rs, &pp);
        for (int k = 0; k < 256; k++)
            ck_assert_msg(hood__pixel_widen((uint8_t)k, raw ? 1.0f : 255.0f) == rs.table[k],
                          "code %d raw %d", k, raw);
        hood__resampler_release(&rs);
    }
}
END_TEST

/* Same floats, a quarter of the bytes; hood_dataset_x makes (once) the float copy. */
START_TEST(same_floats_quarter_memory)
{
    static const struct {
        bool raw;
        hood_color_mode mode;
    } cases[] = {{false, HOOD_COLOR_GRAYSCALE}, {true, HOOD_COLOR_GRAYSCALE},
                 {false, HOOD_COLOR_RGB}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *dir = make_folder(cases[c].mode == HOOD_COLOR_RGB ? 3 : 1);
        hood_dataset *f = ingest(dir, HOOD_PIXELS_FLOAT, cases[c].raw, cases[c].mode);
        hood_dataset *u = ingest(dir, HOOD_PIXELS_AUTO, cases[c].raw, cases[c].mode);
        size_t d = hood_dataset_features(f), n = hood_dataset_samples(f);
        ck_assert_uint_eq(n, CLASSES * PER_CLASS);
        ck_assert_int_eq(hood_dataset_storage(f), HOOD_PIXELS_FLOAT);
        ck_assert_int_eq(hood_dataset_storage(u), HOOD_PIXELS_U8);
        ck_assert_ptr_null(hood_dataset_x_u8(f, NULL));
        float divisor = 0;
        ck_assert_ptr_nonnull(hood_dataset_x_u8(u, &divisor));
        ck_assert(divisor == (cases[c].raw ? 1.0f : 255.0f));
        ck_assert_uint_eq(hood_dataset_x_bytes(f), d * n * sizeof(float));
        ck_assert_uint_eq(hood_dataset_x_bytes(u), d * n);
        const float *xu = hood_dataset_x(u);
        ck_assert_ptr_nonnull(xu);
        ck_assert_int_eq(memcmp(xu, hood_dataset_x(f), d * n * sizeof(float)), 0);
        ck_assert_ptr_eq(hood_dataset_x(u), xu); /* made once */
        ck_assert_uint_eq(hood_dataset_x_bytes(u), d * n * 5);
        ck_assert_int_eq(memcmp(hood_dataset_labels(u), hood_dataset_labels(f), n * sizeof(float)),
                         0);
        ck_assert_str_eq(hood_dataset_path(u, 7), hood_dataset_path(f, 7));
        ck_assert_int_eq(hood_dataset_check_finite(u), HOOD_OK);
        hood_dataset_free(f);
        hood_dataset_free(u);
        hood_test_remove_tmpdir();
    }
}
END_TEST

/* The gather split over 2 threads (row bands, as the float gather) writes what widening every
 * column and gathering the floats writes. Big enough to take the split path. */
START_TEST(pooled_gather_same_bytes)
{
    enum { D = 784, N = 300, B = 128 };
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood__dataset_create_u8(&ds, D, N, 255.0f), HOOD_OK);
    uint8_t *codes = hood__dataset_u8_mutable(ds);
    for (size_t k = 0; k < (size_t)D * N; k++)
        codes[k] = (uint8_t)(k * 2654435761u >> 13);
    size_t index[B];
    for (size_t j = 0; j < B; j++)
        index[j] = (j * 97 + 5) % N;
    float *want = hood__matrix_alloc(D, B), *got = hood__matrix_alloc(D, B);
    ck_assert(want != NULL && got != NULL);
    hood__matrix_gather_cols(want, hood_dataset_x(ds), D, index, B);
    hood__xsource x = hood__dataset_xsource(ds);
    ck_assert_ptr_null(x.f); /* still the codes: hood_dataset_x kept its copy aside */
    for (int threads = 1; threads <= 2; threads++) {
        hood__pool *pool = NULL;
        ck_assert_int_eq(hood__pool_create(&pool, threads), HOOD_OK);
        memset(got, 0xff, (size_t)D * B * sizeof(float));
        hood__xsource_gather_pool(pool, got, &x, index, B);
        ck_assert_msg(memcmp(got, want, (size_t)D * B * sizeof(float)) == 0, "%d threads",
                      threads);
        hood__pool_free(pool);
    }
    /* and the contiguous widening evaluate uses */
    const float *cols = hood__xsource_columns(&x, 3, 5, got);
    ck_assert_int_eq(memcmp(cols, hood_dataset_x(ds) + 3 * D, 5 * D * sizeof(float)), 0);
    hood__matrix_free(want);
    hood__matrix_free(got);
    hood_dataset_free(ds);
}
END_TEST

/* hood_dataset_x_mutable turns an 8-bit dataset into a float one, values kept. */
START_TEST(mutable_converts_to_float)
{
    const char *dir = make_folder(1);
    hood_dataset *f = ingest(dir, HOOD_PIXELS_FLOAT, false, HOOD_COLOR_GRAYSCALE);
    hood_dataset *u = ingest(dir, HOOD_PIXELS_U8, false, HOOD_COLOR_GRAYSCALE);
    size_t count = hood_dataset_features(f) * hood_dataset_samples(f);
    float *x = hood_dataset_x_mutable(u);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(hood_dataset_storage(u), HOOD_PIXELS_FLOAT);
    ck_assert_ptr_null(hood_dataset_x_u8(u, NULL));
    ck_assert_ptr_eq(hood_dataset_x(u), x);
    ck_assert_uint_eq(hood_dataset_x_bytes(u), count * sizeof(float));
    ck_assert_int_eq(memcmp(x, hood_dataset_x(f), count * sizeof(float)), 0);
    hood_dataset_free(f);
    hood_dataset_free(u);
    hood_test_remove_tmpdir();
}
END_TEST

/* Exports write float32 whatever the storage: the same bytes. */
static void *slurp(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
    long len = ftell(fp);
    ck_assert_int_ge(len, 1);
    rewind(fp);
    void *data = malloc((size_t)len);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(fread(data, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    *size = (size_t)len;
    return data;
}

START_TEST(exports_same_bytes)
{
    const char *dir = make_folder(1);
    hood_dataset *ds[2] = {ingest(dir, HOOD_PIXELS_FLOAT, false, HOOD_COLOR_GRAYSCALE),
                           ingest(dir, HOOD_PIXELS_U8, false, HOOD_COLOR_GRAYSCALE)};
    static const char *const names[] = {"a.npz", "a.npy", "a.csv"};
    hood_csv_options co;
    hood_csv_options_init(&co);
    co.header = true;
    for (size_t k = 0; k < 3; k++) {
        void *bytes[2];
        size_t size[2];
        for (int s = 0; s < 2; s++) {
            char path[600];
            snprintf(path, sizeof path, "%s/%d-%s", hood_test_tmpdir(), s, names[k]);
            ck_assert_msg(hood_dataset_save(ds[s], path, &co) == HOOD_OK, "%s", hood_last_error());
            bytes[s] = slurp(path, &size[s]);
        }
        ck_assert_uint_eq(size[0], size[1]);
        ck_assert_msg(memcmp(bytes[0], bytes[1], size[0]) == 0, "%s differs", names[k]);
        free(bytes[0]);
        free(bytes[1]);
    }
    hood_dataset_free(ds[0]);
    hood_dataset_free(ds[1]);
    hood_test_remove_tmpdir();
}
END_TEST

/* A compiled model: Dense (d -> 16 relu -> 3 softmax) or a small conv net. */
static hood_model *make_model(bool conv, int threads)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, OUT * OUT), HOOD_OK);
    if (conv) {
        ck_assert_int_eq(hood_model_set_input_shape(m, OUT, OUT, 1), HOOD_OK);
        ck_assert_int_eq(hood_model_add_conv2d(m, 4, 3, 3, 1, 1, false, HOOD_ACT_RELU, true),
                         HOOD_OK);
        ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, false), HOOD_OK);
        ck_assert_int_eq(hood_model_add_flatten(m), HOOD_OK);
    } else {
        ck_assert_int_eq(hood_model_add_dense(m, 16, HOOD_ACT_RELU, true), HOOD_OK);
    }
    ck_assert_int_eq(hood_model_add_dense(m, CLASSES, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    opt.learning_rate = 0.01f;
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 7),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_set_threads(m, threads), HOOD_OK);
    return m;
}

/* Fits (shuffled, a validation split so validation reads X too), then evaluates. A batch past
 * the training samples is one whole batch: fit reads X in place (widened once for 8-bit). */
static hood_model *fit(const hood_dataset *ds, bool conv, int threads, size_t batch,
                       double *eval_loss)
{
    hood_model *m = make_model(conv, threads);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = 3;
    fo.batch_size = batch;
    fo.seed = 11;
    fo.validation_split = 0.25;
    ck_assert_msg(hood_model_fit(m, ds, &fo) == HOOD_OK, "%s", hood_last_error());
    double acc;
    ck_assert_int_eq(hood_model_evaluate(m, ds, 32, eval_loss, &acc), HOOD_OK);
    return m;
}

static void same_training(bool conv)
{
    const char *dir = make_folder(1);
    hood_dataset *f = ingest(dir, HOOD_PIXELS_FLOAT, false, HOOD_COLOR_GRAYSCALE);
    hood_dataset *u = ingest(dir, HOOD_PIXELS_U8, false, HOOD_COLOR_GRAYSCALE);
    for (int run = 0; run < 4; run++) {
        int threads = 1 + run % 2;
        size_t batch = run < 2 ? 8 : 100000;
        double lf, lu;
        hood_model *mf = fit(f, conv, threads, batch, &lf);
        hood_model *mu = fit(u, conv, threads, batch, &lu);
        ck_assert_uint_eq(mf->num_params, mu->num_params);
        ck_assert_msg(memcmp(mf->params, mu->params, mf->num_params * sizeof(float)) == 0,
                      "%s, %d threads, batch %zu: the weights differ", conv ? "conv" : "dense",
                      threads, batch);
        ck_assert_msg(lf == lu, "evaluate: %.9g vs %.9g", lf, lu);
        for (size_t e = 0; e < hood_model_history_length(mf); e++) {
            const hood_epoch_log *a = hood_model_history(mf, e), *b = hood_model_history(mu, e);
            ck_assert(a->loss == b->loss && a->val_loss == b->val_loss);
        }
        /* training fell in a region where it learns, so the comparison is not of noise */
        ck_assert(hood_model_history(mf, 2)->loss < hood_model_history(mf, 0)->loss);
        hood_model_free(mf);
        hood_model_free(mu);
    }
    /* fit and evaluate widened batch by batch: no float copy was made */
    ck_assert_uint_eq(hood_dataset_x_bytes(u), hood_dataset_x_bytes(f) / 4);
    hood_dataset_free(f);
    hood_dataset_free(u);
    hood_test_remove_tmpdir();
}

START_TEST(dense_weights_bit_identical)
{
    same_training(false);
}
END_TEST

START_TEST(conv_weights_bit_identical)
{
    same_training(true);
}
END_TEST

/* A validation_data dataset in 8-bit storage, beside float training data. */
START_TEST(validation_data_u8)
{
    const char *dir = make_folder(1);
    hood_dataset *f = ingest(dir, HOOD_PIXELS_FLOAT, false, HOOD_COLOR_GRAYSCALE);
    hood_dataset *u = ingest(dir, HOOD_PIXELS_U8, false, HOOD_COLOR_GRAYSCALE);
    hood_epoch_log logs[2];
    for (int s = 0; s < 2; s++) {
        hood_model *m = make_model(false, 1);
        hood_fit_options fo;
        hood_fit_options_init(&fo);
        fo.epochs = 1;
        fo.batch_size = 16;
        fo.validation_data = s == 0 ? f : u;
        ck_assert_int_eq(hood_model_fit(m, f, &fo), HOOD_OK);
        logs[s] = *hood_model_history(m, 0);
        hood_model_free(m);
    }
    ck_assert(logs[0].has_validation && logs[1].has_validation);
    ck_assert(logs[0].val_loss == logs[1].val_loss);
    ck_assert(logs[0].val_accuracy == logs[1].val_accuracy);
    hood_dataset_free(f);
    hood_dataset_free(u);
    hood_test_remove_tmpdir();
}
END_TEST

/* Readers racing to make hood_dataset_x's copy all get one and the same pointer. */
static void *read_x(void *arg)
{
    return (void *)hood_dataset_x(arg);
}

START_TEST(x_copy_made_once_across_threads)
{
    const char *dir = make_folder(1);
    hood_dataset *u = ingest(dir, HOOD_PIXELS_U8, false, HOOD_COLOR_GRAYSCALE);
    pthread_t t[4];
    void *got[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, read_x, u), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(t[i], &got[i]), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_ptr_eq(got[i], hood_dataset_x(u));
    ck_assert_uint_eq(hood_dataset_x_bytes(u),
                      5 * hood_dataset_features(u) * hood_dataset_samples(u));
    hood_dataset_free(u);
    hood_test_remove_tmpdir();
}
END_TEST

/* The option: an older program's struct (without pixel_storage) gets the default; an unknown
 * value is refused. */
START_TEST(ingest_option_rules)
{
    const char *dir = make_folder(1);
    hood_ingest_options o;
    hood_ingest_options_init(&o);
    o.image.height = o.image.width = OUT;
    o.struct_size = offsetof(hood_ingest_options, pixel_storage); /* 0.2.0's size */
    o.pixel_storage = HOOD_PIXELS_FLOAT;                          /* not read */
    hood_dataset *ds = NULL;
    ck_assert_msg(hood_dataset_from_directory(dir, &o, &ds, NULL) == HOOD_OK, "%s",
                  hood_last_error());
    ck_assert_int_eq(hood_dataset_storage(ds), HOOD_PIXELS_U8);
    hood_dataset_free(ds);
    hood_ingest_options_init(&o);
    o.pixel_storage = (hood_pixel_storage)7;
    ck_assert_int_eq(hood_dataset_from_directory(dir, &o, &ds, NULL), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "pixel_storage"));
    /* float32 sources stay float32 */
    ck_assert_int_eq(hood_dataset_create(&ds, 2, 3), HOOD_OK);
    ck_assert_int_eq(hood_dataset_storage(ds), HOOD_PIXELS_FLOAT);
    ck_assert_uint_eq(hood_dataset_x_bytes(ds), 24);
    hood_dataset_free(ds);
    hood_test_remove_tmpdir();
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("pixels8");
    TCase *tc = tcase_create("pixels8");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, widening_rule_is_ingest_table);
    tcase_add_test(tc, same_floats_quarter_memory);
    tcase_add_test(tc, pooled_gather_same_bytes);
    tcase_add_test(tc, mutable_converts_to_float);
    tcase_add_test(tc, exports_same_bytes);
    tcase_add_test(tc, dense_weights_bit_identical);
    tcase_add_test(tc, conv_weights_bit_identical);
    tcase_add_test(tc, validation_data_u8);
    tcase_add_test(tc, x_copy_made_once_across_threads);
    tcase_add_test(tc, ingest_option_rules);
    suite_add_tcase(s, tc);
    return s;
}
