/* test_layers_file.c — the model file's version 2 (every layer kind, the moving statistics) and
 * the weights .npz in Keras' shapes: a version 1 file written by hood 0.1 still loads and
 * evaluates to the numbers that hood printed, a CNN round-trips bit for bit, and exported
 * weights load back. The file format's own cases are test_model_file.c. */
#include "check_main.h"

#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *data_path(const char *name)
{
    static char buf[4096];
    const char *root = getenv("HOOD_SOURCE_ROOT");
    snprintf(buf, sizeof buf, "%s/tests/data/%s", root != NULL ? root : "..", name);
    return buf;
}

/* tests/data/v1_model.hood was written by hood 0.1 (format version 1, the binary of the main
 * branch before layer kinds):
 *   hood train v1_model_data.npz -o v1_model.hood --layers 8:tanh,3:softmax --optimizer adam
 *       --epochs 3 --batch-size 8 --seed 5 --verbose 0 --validation-split 0.25
 *   hood evaluate v1_model.hood v1_model_data.npz --json
 *   {"loss": 1.1518554673452515, "accuracy": 0.29999999999999999, "samples": 40} */
START_TEST(test_version1_loads)
{
    hood_model *m = NULL;
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_model_load(data_path("v1_model.hood"), &m), HOOD_OK);
    ck_assert_int_eq(hood_dataset_load_npz(data_path("v1_model_data.npz"), &ds), HOOD_OK);
    ck_assert_uint_eq(hood_model_num_layers(m), 2);
    ck_assert_uint_eq(hood_model_epochs_done(m), 3);
    hood_layer_info info;
    ck_assert_int_eq(hood_model_layer_info(m, 0, &info), HOOD_OK);
    ck_assert_int_eq(info.kind, HOOD_LAYER_DENSE);
    ck_assert_uint_eq(info.params, 12 * 8 + 8);
    double loss, acc;
    ck_assert_int_eq(hood_model_evaluate(m, ds, 32, &loss, &acc), HOOD_OK);
    ck_assert_double_eq_tol(loss, 1.1518554673452515, 1e-6);
    ck_assert_double_eq_tol(acc, 0.3, 1e-12);
    /* saved again it is a version 2 file that loads to the same weights */
    hood_test_make_tmpdir("layers_file");
    const char *again = hood_test_in_tmp("again.hood");
    ck_assert_int_eq(hood_model_save(m, again), HOOD_OK);
    hood_model *b = NULL;
    ck_assert_int_eq(hood_model_load(again, &b), HOOD_OK);
    ck_assert_mem_eq(m->params, b->params, m->num_params * sizeof(float));
    hood_test_remove_tmpdir();
    hood_model_free(b);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

static hood_model *cnn(uint64_t seed)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, 9 * 8 * 2), HOOD_OK);
    ck_assert_int_eq(hood_model_set_input_shape(m, 9, 8, 2), HOOD_OK);
    ck_assert_int_eq(hood_model_add_conv2d(m, 4, 3, 3, 1, 1, true, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_batch_normalization(m, 0.9f, 1e-3f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_conv2d(m, 3, 2, 3, 2, 1, false, HOOD_ACT_TANH, false),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_add_average_pooling2d(m, 1, 2, 0, 0, false), HOOD_OK);
    ck_assert_int_eq(hood_model_add_flatten(m), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dropout(m, 0.2f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, seed),
                     HOOD_OK);
    return m;
}

static hood_dataset *data(size_t n)
{
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, 144, n), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    int32_t *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < 144 * n; i++)
        x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (size_t j = 0; j < n; j++)
        y[j] = (int32_t)(j % 3);
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, y, 3), HOOD_OK);
    free(y);
    return ds;
}

START_TEST(test_cnn_round_trip)
{
    hood_model *m = cnn(1);
    hood_dataset *ds = data(40);
    hood_fit_options o;
    hood_fit_options_init(&o);
    o.epochs = 2;
    o.batch_size = 8;
    ck_assert_int_eq(hood_model_fit(m, ds, &o), HOOD_OK);
    hood_test_make_tmpdir("layers_file");
    const char *a = hood_test_in_tmp("a.hood");
    ck_assert_int_eq(hood_model_save(m, a), HOOD_OK);
    hood_model *b = NULL;
    ck_assert_int_eq(hood_model_load(a, &b), HOOD_OK);
    ck_assert_uint_eq(b->num_layers, m->num_layers);
    for (size_t i = 0; i < m->num_layers; i++) {
        hood_layer_info x, y;
        ck_assert_int_eq(hood_model_layer_info(m, i, &x), HOOD_OK);
        ck_assert_int_eq(hood_model_layer_info(b, i, &y), HOOD_OK);
        ck_assert_mem_eq(&x, &y, sizeof x);
    }
    ck_assert_uint_eq(b->num_state, 8);
    ck_assert_mem_eq(m->params, b->params, m->num_params * sizeof(float));
    ck_assert_mem_eq(m->state, b->state, m->num_state * sizeof(float));
    ck_assert_mem_eq(m->opt_state, b->opt_state, m->num_params * m->opt_slots * sizeof(float));
    /* the moving statistics moved away from (0, 1) and are used: same predictions */
    ck_assert(m->state[0] != 0.0f && m->state[4] != 1.0f);
    float pa[120], pb[120];
    ck_assert_int_eq(hood_model_predict(m, hood_dataset_x(ds), 40, 32, pa), HOOD_OK);
    ck_assert_int_eq(hood_model_predict(b, hood_dataset_x(ds), 40, 32, pb), HOOD_OK);
    ck_assert_mem_eq(pa, pb, sizeof pa);
    /* and the same file when saved again */
    const char *c = hood_test_in_tmp("c.hood");
    ck_assert_int_eq(hood_model_save(b, c), HOOD_OK);
    FILE *fa = fopen(a, "rb"), *fc = fopen(c, "rb");
    char ba[65536], bc[65536];
    size_t la = fread(ba, 1, sizeof ba, fa), lc = fread(bc, 1, sizeof bc, fc);
    fclose(fa);
    fclose(fc);
    ck_assert_uint_eq(la, lc);
    ck_assert_mem_eq(ba, bc, la);

    /* weights in Keras' shapes load back into a fresh model: the same predictions */
    const char *w = hood_test_in_tmp("w.npz");
    ck_assert_int_eq(hood_model_save_weights_npz(m, w), HOOD_OK);
    hood_model *fresh = cnn(9);
    ck_assert_int_eq(hood_model_load_weights_npz(fresh, w), HOOD_OK);
    ck_assert_int_eq(hood_model_predict(fresh, hood_dataset_x(ds), 40, 32, pb), HOOD_OK);
    ck_assert_mem_eq(pa, pb, sizeof pa);
    hood_model_free(fresh);
    hood_test_remove_tmpdir();
    hood_model_free(b);
    hood_model_free(m);
    hood_dataset_free(ds);
}
END_TEST

START_TEST(test_weights_shapes_are_keras)
{
    hood_model *m = cnn(2);
    hood_test_make_tmpdir("layers_file");
    const char *w = hood_test_in_tmp("w.npz");
    ck_assert_int_eq(hood_model_save_weights_npz(m, w), HOOD_OK);
    /* a model whose first conv has 5 filters refuses kernel_0 (3, 3, 2, 4) */
    hood_model *other = NULL;
    ck_assert_int_eq(hood_model_create(&other, 144), HOOD_OK);
    ck_assert_int_eq(hood_model_set_input_shape(other, 9, 8, 2), HOOD_OK);
    ck_assert_int_eq(hood_model_add_conv2d(other, 5, 3, 3, 1, 1, true, HOOD_ACT_RELU, true),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_add_flatten(other), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(other, 3, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(
        hood_model_compile(other, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 1), HOOD_OK);
    ck_assert_int_eq(hood_model_load_weights_npz(other, w), HOOD_ESHAPE);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "kernel_0 has shape (3, 3, 2, 4)"));
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "expects (3, 3, 2, 5)"));
    hood_model_free(other);
    hood_test_remove_tmpdir();
    hood_model_free(m);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("layers_file");
    TCase *tc = tcase_create("file");
    tcase_add_test(tc, test_version1_loads);
    tcase_add_test(tc, test_cnn_round_trip);
    tcase_add_test(tc, test_weights_shapes_are_keras);
    suite_add_tcase(s, tc);
    return s;
}
