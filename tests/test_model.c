/* test_model.c — the Sequential model: building, compile (arenas, seeded weights), the Keras
 * kernel layout of get/set, the model-level gradient against central differences, and what the
 * model remembers (preprocess, class names). Training is test_train.c. */
#include "check_main.h"

#include "error.h"
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static hood_model *build(size_t in, const size_t *units, const hood_activation *acts, size_t n)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, in), HOOD_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(hood_model_add_dense(m, units[i], acts[i], true), HOOD_OK);
    return m;
}

static hood_model *seed_model(uint64_t seed)
{
    /* The seed notebook's shape, small: 6 -> 5 tanh -> 1 sigmoid, BCE, SGD. */
    size_t units[2] = {5, 1};
    hood_activation acts[2] = {HOOD_ACT_TANH, HOOD_ACT_SIGMOID};
    hood_model *m = build(6, units, acts, 2);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &opt, seed), HOOD_OK);
    return m;
}

START_TEST(build_and_count_params)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, 0), HOOD_EINVAL);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "input_features"));
    ck_assert_int_eq(hood_model_create(&m, 6), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 0, HOOD_ACT_RELU, true), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "units"));
    ck_assert_int_eq(hood_model_add_dense(m, 5, (hood_activation)9, true), HOOD_EINVAL);
    ck_assert_int_eq(hood_model_add_dense(m, 5, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_RELU, false), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 1, HOOD_ACT_SIGMOID, true), HOOD_OK);
    ck_assert_uint_eq(hood_model_num_layers(m), 3);
    ck_assert_uint_eq(hood_model_input_features(m), 6);
    ck_assert_uint_eq(hood_model_layer_units(m, 1), 3);
    ck_assert_uint_eq(hood_model_layer_units(m, 3), 0);
    ck_assert_int_eq(hood_model_layer_activation(m, 0), HOOD_ACT_TANH);
    ck_assert(!hood_model_layer_use_bias(m, 1) && hood_model_layer_use_bias(m, 2));
    ck_assert_uint_eq(hood_model_output_units(m), 1);
    /* Keras summary(): 6*5+5 = 35, 5*3 (no bias) = 15, 3*1+1 = 4 -> 54 */
    ck_assert_uint_eq(hood_model_num_params(m), 54);
    ck_assert(!hood_model_is_compiled(m));
    ck_assert_int_eq(hood_model_threads(m), 1);
    ck_assert_int_eq(hood_model_set_threads(m, -1), HOOD_EINVAL);
    ck_assert_int_eq(hood_model_set_threads(m, 2), HOOD_OK);
    ck_assert_int_eq(hood_model_threads(m), 2);
    hood_model_free(m);
    hood_model_free(NULL);
}
END_TEST

START_TEST(compile_is_seeded_and_glorot)
{
    hood_model *a = seed_model(42), *b = seed_model(42), *c = seed_model(43);
    ck_assert(hood_model_is_compiled(a));
    ck_assert_uint_eq(a->num_params, 41);
    ck_assert_int_eq(memcmp(a->params, b->params, 41 * sizeof(float)), 0);
    ck_assert_int_ne(memcmp(a->params, c->params, 41 * sizeof(float)), 0);
    /* glorot_uniform: |w| <= sqrt(6 / (6 + 5)) = 0.7385 for layer 0, sqrt(6/6) = 1 for layer 1;
     * biases zero; some weights not zero. */
    float k0[30], b0[5], k1[5], b1[1];
    ck_assert_int_eq(hood_model_get_kernel(a, 0, k0), HOOD_OK);
    ck_assert_int_eq(hood_model_get_bias(a, 0, b0), HOOD_OK);
    ck_assert_int_eq(hood_model_get_kernel(a, 1, k1), HOOD_OK);
    ck_assert_int_eq(hood_model_get_bias(a, 1, b1), HOOD_OK);
    double limit0 = sqrt(6.0 / 11.0), sumabs = 0.0;
    for (int i = 0; i < 30; i++) {
        ck_assert_double_le(fabs(k0[i]), limit0);
        sumabs += fabs(k0[i]);
    }
    ck_assert_double_gt(sumabs, 1.0);
    for (int i = 0; i < 5; i++) {
        ck_assert_double_le(fabs(k1[i]), 1.0);
        ck_assert(b0[i] == 0.0f);
    }
    ck_assert(b1[0] == 0.0f);
    ck_assert_uint_eq(a->seed, 42);
    ck_assert_int_eq(hood_model_loss(a), HOOD_LOSS_BINARY_CROSSENTROPY);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    ck_assert_int_eq(hood_model_optimizer(a, &opt), HOOD_OK);
    ck_assert(opt.kind == HOOD_OPT_SGD && opt.learning_rate == 0.01f);
    hood_model_free(a);
    hood_model_free(b);
    hood_model_free(c);
}
END_TEST

START_TEST(arena_is_one_block_in_layer_order)
{
    /* [W0 (30), b0 (5), W1 (5), b1 (1)]: views into one arena, gradients alike. */
    hood_model *m = seed_model(1);
    ck_assert_ptr_eq(m->layers[0].W, m->params);
    ck_assert_ptr_eq(m->layers[0].b, m->params + 30);
    ck_assert_ptr_eq(m->layers[1].W, m->params + 35);
    ck_assert_ptr_eq(m->layers[1].b, m->params + 40);
    ck_assert_ptr_eq(m->layers[1].dW, m->grads + 35);
    ck_assert_uint_eq(hood__model_layer_offset(m, 1), 35);
    ck_assert_uint_eq(m->opt_slots, 0);
    hood_model_free(m);
    /* Adam keeps m and v: two slots of 41. */
    m = seed_model(1);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &opt, 1), HOOD_OK);
    ck_assert_uint_eq(m->opt_slots, 2);
    ck_assert_ptr_nonnull(m->opt_state);
    for (size_t i = 0; i < 82; i++)
        ck_assert(m->opt_state[i] == 0.0f);
    hood_model_free(m);
}
END_TEST

START_TEST(kernel_layout_is_keras)
{
    /* Dense(2, linear) on 3 inputs with the Keras kernel (in, out) = [[1, 2], [3, 4], [5, 6]]
     * and bias (0.5, -1): x = (1, 1, 1) gives (1 + 3 + 5 + 0.5, 2 + 4 + 6 - 1) = (9.5, 11);
     * x = (1, 0, 0) gives the first kernel row plus bias (1.5, 1). */
    size_t units[1] = {2};
    hood_activation acts[1] = {HOOD_ACT_LINEAR};
    hood_model *m = build(3, units, acts, 1);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, 0), HOOD_OK);
    const float kernel[6] = {1, 2, 3, 4, 5, 6}, bias[2] = {0.5f, -1.0f};
    ck_assert_int_eq(hood_model_set_kernel(m, 0, kernel), HOOD_OK);
    ck_assert_int_eq(hood_model_set_bias(m, 0, bias), HOOD_OK);
    float back[6];
    ck_assert_int_eq(hood_model_get_kernel(m, 0, back), HOOD_OK);
    ck_assert_int_eq(memcmp(back, kernel, sizeof back), 0);
    const float x[6] = {1, 1, 1, 1, 0, 0};
    float out[4];
    ck_assert_int_eq(hood_model_predict(m, x, 2, 0, out), HOOD_OK);
    ck_assert(out[0] == 9.5f && out[1] == 11.0f && out[2] == 1.5f && out[3] == 1.0f);
    hood_model_free(m);
}
END_TEST

START_TEST(weights_access_errors)
{
    size_t units[2] = {4, 2};
    hood_activation acts[2] = {HOOD_ACT_RELU, HOOD_ACT_SOFTMAX};
    hood_model *m = build(3, units, acts, 2);
    float buf[16];
    ck_assert_int_eq(hood_model_get_kernel(m, 0, buf), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "not compiled"));
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 3),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_get_kernel(m, 2, buf), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "no layer 2"));
    ck_assert_int_eq(hood_model_set_bias(m, 0, NULL), HOOD_EINVAL);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_RELU, true), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "compiled"));
    hood_model_free(m);

    hood_model *nb = NULL;
    ck_assert_int_eq(hood_model_create(&nb, 2), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(nb, 1, HOOD_ACT_LINEAR, false), HOOD_OK);
    ck_assert_int_eq(hood_model_compile(nb, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, 3), HOOD_OK);
    ck_assert_int_eq(hood_model_get_bias(nb, 0, buf), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "no bias"));
    ck_assert_uint_eq(nb->num_params, 2);
    hood_model_free(nb);
}
END_TEST

START_TEST(compile_errors)
{
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, 4), HOOD_OK);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, 0), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "no layers"));
    /* softmax over one unit: always 1, nothing to learn */
    ck_assert_int_eq(hood_model_add_dense(m, 1, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    ck_assert_int_ne(hood_model_compile(m, HOOD_LOSS_CATEGORICAL_CROSSENTROPY, &opt, 0), HOOD_OK);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "softmax"));
    ck_assert(!hood_model_is_compiled(m));
    hood_model_free(m);
    /* sparse CCE needs one unit per class, at least 2 */
    ck_assert_int_eq(hood_model_create(&m, 4), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 1, HOOD_ACT_SIGMOID, true), HOOD_OK);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 0),
                     HOOD_ESHAPE);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "compile"));
    opt.learning_rate = -1.0f;
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &opt, 0), HOOD_EINVAL);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "learning_rate"));
    ck_assert_int_eq(hood_model_compile(m, (hood_loss)17, &opt, 0), HOOD_EINVAL);
    ck_assert_int_eq(hood_model_set_initializer(m, 1, HOOD_INIT_ZEROS), HOOD_EINVAL);
    ck_assert_int_eq(hood_model_set_initializer(m, 0, HOOD_INIT_ZEROS), HOOD_OK);
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &opt, 0), HOOD_OK);
    for (size_t i = 0; i < m->num_params; i++)
        ck_assert(m->params[i] == 0.0f); /* zeros initializer took effect */
    hood_model_free(m);
}
END_TEST

START_TEST(recompile_starts_over)
{
    hood_model *m = seed_model(5);
    float before[41];
    memcpy(before, m->params, sizeof before);
    m->params[0] += 1.0f;
    m->position.epochs_done = 3;
    m->opt_step = 7;
    hood_epoch_log log = {.epoch = 0, .loss = 1.0};
    ck_assert_int_eq(hood__model_push_history(m, &log), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_BINARY_CROSSENTROPY, &opt, 5), HOOD_OK);
    ck_assert_int_eq(memcmp(before, m->params, sizeof before), 0);
    ck_assert_uint_eq(hood_model_epochs_done(m), 0);
    ck_assert_uint_eq(hood_model_history_length(m), 0);
    ck_assert_uint_eq(m->opt_step, 0);
    hood_model_free(m);
}
END_TEST

/* Loss sum of the model on (X, Y) in double, from the model's own forward. */
static double loss_at(hood_model *m, const float *X, const float *Y, size_t width, size_t n)
{
    double loss = 0.0;
    ck_assert_int_eq(hood__model_batch_gradient(m, X, Y, width, n, (float)n, &loss), HOOD_OK);
    return loss;
}

/* Central differences on every parameter of a 2-layer model against the backward pass. */
static void check_model_gradient(hood_loss loss, hood_activation hidden, hood_activation out,
                                 size_t units_out, const float *Y, size_t width)
{
    enum { IN = 4, N = 5 };
    size_t units[2] = {3, units_out};
    hood_activation acts[2] = {hidden, out};
    hood_model *m = build(IN, units, acts, 2);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(m, loss, &opt, 11), HOOD_OK);
    /* non-zero biases so every path is exercised */
    for (size_t i = 0; i < m->num_params; i++)
        if (m->params[i] == 0.0f)
            m->params[i] = 0.1f * (float)(i % 3) - 0.05f;
    float X[IN * N];
    for (size_t i = 0; i < IN * N; i++)
        X[i] = (float)sin(1.0 + 0.7 * (double)i);
    double base = 0.0;
    ck_assert_int_eq(hood__model_batch_gradient(m, X, Y, width, N, (float)N, &base), HOOD_OK);
    float *analytic = malloc(m->num_params * sizeof(float));
    ck_assert_ptr_nonnull(analytic);
    memcpy(analytic, m->grads, m->num_params * sizeof(float));
    double norm = 0.0;
    const float h = 1e-2f;
    for (size_t i = 0; i < m->num_params; i++) {
        float saved = m->params[i];
        m->params[i] = saved + h;
        double up = loss_at(m, X, Y, width, N);
        m->params[i] = saved - h;
        double down = loss_at(m, X, Y, width, N);
        m->params[i] = saved;
        double numeric = (up - down) / (2.0 * (double)h) / N;
        ck_assert_msg(fabs(numeric - analytic[i]) <= 2e-3 + 2e-2 * fabs(numeric),
                      "param %zu: numeric %g analytic %g", i, numeric, (double)analytic[i]);
        norm += fabs(analytic[i]);
    }
    ck_assert_double_gt(norm, 1e-3);
    free(analytic);
    hood_model_free(m);
}

START_TEST(model_gradient_matches_central_differences)
{
    const float y_bin[5] = {1, 0, 1, 1, 0};
    const float y_int[5] = {0, 2, 1, 2, 0};
    float y_hot[15] = {0}, y_reg[10];
    for (int j = 0; j < 5; j++)
        y_hot[j * 3 + (int)y_int[j]] = 1.0f;
    for (int i = 0; i < 10; i++)
        y_reg[i] = 0.3f * (float)i - 1.0f;
    check_model_gradient(HOOD_LOSS_BINARY_CROSSENTROPY, HOOD_ACT_TANH, HOOD_ACT_SIGMOID, 1, y_bin,
                         1);
    check_model_gradient(HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, HOOD_ACT_SIGMOID,
                         HOOD_ACT_SOFTMAX, 3, y_int, 1);
    check_model_gradient(HOOD_LOSS_CATEGORICAL_CROSSENTROPY, HOOD_ACT_TANH, HOOD_ACT_SOFTMAX, 3,
                         y_hot, 3);
    check_model_gradient(HOOD_LOSS_MEAN_SQUARED_ERROR, HOOD_ACT_TANH, HOOD_ACT_LINEAR, 2, y_reg, 2);
}
END_TEST

START_TEST(preprocess_and_class_names)
{
    size_t units[1] = {3};
    hood_activation acts[1] = {HOOD_ACT_SOFTMAX};
    hood_model *m = build(12, units, acts, 1);
    /* hood_preprocess_init is io's (image.c); this engine test sets what it sets */
    hood_preprocess pp;
    memset(&pp, 0, sizeof pp);
    pp.struct_size = sizeof pp;
    ck_assert(!hood_model_preprocess(m, &pp));
    pp.height = 2;
    pp.width = 2;
    pp.color_mode = HOOD_COLOR_RGB; /* 2 x 2 x 3 = 12 */
    pp.interpolation = HOOD_INTERP_AREA;
    ck_assert_int_eq(hood_model_set_preprocess(m, &pp), HOOD_OK);
    hood_preprocess back;
    memset(&back, 0, sizeof back);
    back.struct_size = sizeof back;
    ck_assert(hood_model_preprocess(m, &back));
    ck_assert(back.height == 2 && back.color_mode == HOOD_COLOR_RGB &&
              back.interpolation == HOOD_INTERP_AREA);
    pp.color_mode = HOOD_COLOR_GRAYSCALE; /* 4 values, model takes 12 */
    ck_assert_int_eq(hood_model_set_preprocess(m, &pp), HOOD_ESHAPE);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "12"));
    const char *names[3] = {"cat", "dog", "two words"};
    ck_assert_int_eq(hood_model_set_class_names(m, names, 3), HOOD_OK);
    ck_assert_uint_eq(hood_model_num_classes(m), 3);
    ck_assert_str_eq(hood_model_class_name(m, 2), "two words");
    ck_assert_ptr_null(hood_model_class_name(m, 3));
    const char *bad[2] = {"a", NULL};
    ck_assert_int_eq(hood_model_set_class_names(m, bad, 2), HOOD_EINVAL);
    ck_assert_uint_eq(hood_model_num_classes(m), 3); /* unchanged on failure */
    ck_assert_int_eq(hood_model_set_class_names(m, NULL, 0), HOOD_OK);
    ck_assert_uint_eq(hood_model_num_classes(m), 0);
    hood_model_free(m);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, build_and_count_params);
    tcase_add_test(tc, compile_is_seeded_and_glorot);
    tcase_add_test(tc, arena_is_one_block_in_layer_order);
    tcase_add_test(tc, kernel_layout_is_keras);
    tcase_add_test(tc, weights_access_errors);
    tcase_add_test(tc, compile_errors);
    tcase_add_test(tc, recompile_starts_over);
    tcase_add_test(tc, model_gradient_matches_central_differences);
    tcase_add_test(tc, preprocess_and_class_names);
    suite_add_tcase(s, tc);
    return s;
}
