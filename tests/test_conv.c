/* test_conv.c — the image layers (Conv2D, pooling, Flatten, Dropout, BatchNormalization):
 * shapes and parameter counts as Keras reports them, TensorFlow's 'same' padding on hand-worked
 * cases, central-difference gradient checks of every kind alone and stacked (strides 1 and 2,
 * both paddings, odd and even sizes, bias on and off), chunked convolutions, dropout's kept
 * fraction and stream, and a fit that learns. */
#include "check_main.h"

#include "error.h"
#include "layer.h"
#include "model.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void fill(float *x, size_t n, uint64_t seed, float scale)
{
    hood_rng rng;
    hood__rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((hood__rng_uniform(&rng) * 2.0 - 1.0) * scale);
}

static hood_model *image_model(size_t h, size_t w, size_t c)
{
    hood_model *m = NULL;
    ck_assert_int_eq(hood_model_create(&m, h * w * c), HOOD_OK);
    ck_assert_int_eq(hood_model_set_input_shape(m, h, w, c), HOOD_OK);
    return m;
}

static void compile_mse(hood_model *m, uint64_t seed)
{
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, seed), HOOD_OK);
    /* non-zero biases and batchnorm betas, so their gradients and effects show */
    fill(m->params, m->num_params, seed + 99, 0.3f);
    hood_rng rng;
    hood__rng_seed(&rng, seed + 7);
    for (size_t l = 0; l < m->num_layers; l++) {
        hood__layer *ly = &m->layers[l];
        if (ly->kind == HOOD_LAYER_CONV2D || ly->kind == HOOD_LAYER_DENSE) {
            float scale = (float)(1.5 / sqrt((double)hood__layer_kernel_floats(ly) / ly->oc));
            for (size_t i = 0; i < hood__layer_kernel_floats(ly); i++)
                ly->W[i] = (float)((hood__rng_uniform(&rng) * 2 - 1) * scale);
        }
        if (ly->kind == HOOD_LAYER_BATCH_NORMALIZATION)
            for (size_t i = 0; i < ly->oc; i++)
                ly->W[i] = 1.0f + 0.5f * (float)hood__rng_uniform(&rng);
    }
}

static double loss_at(hood_model *m, const float *X, const float *Y, size_t width, size_t batch)
{
    double loss = 0.0;
    ck_assert_int_eq(hood__model_batch_gradient(m, X, Y, width, batch, 1.0f, &loss), HOOD_OK);
    return loss;
}

/* Central differences of the loss sum (accumulated in double) against the analytic gradient
 * for every parameter (or every `stride`-th); each layer with parameters must have a non-zero
 * gradient. */
static void grad_check(hood_model *m, size_t batch, uint64_t seed)
{
    size_t d = m->input_features, width = hood_model_output_units(m);
    float *X = malloc(d * batch * sizeof(float)), *Y = malloc(width * batch * sizeof(float));
    fill(X, d * batch, seed, 1.0f);
    fill(Y, width * batch, seed + 1, 1.0f);
    size_t n = m->num_params;
    float *g = malloc(n * sizeof(float));
    (void)loss_at(m, X, Y, width, batch);
    memcpy(g, m->grads, n * sizeof(float));
    for (size_t l = 0; l < m->num_layers; l++) {
        const hood__layer *ly = &m->layers[l];
        size_t count = hood__layer_kernel_floats(ly) + hood__layer_bias_floats(ly);
        if (count == 0)
            continue;
        size_t off = hood__model_layer_offset(m, l);
        double most = 0.0;
        for (size_t i = 0; i < count; i++)
            most = fmax(most, fabs(g[off + i]));
        ck_assert_msg(most > 0.0, "layer %zu (%s): gradient is all zeros", l,
                      hood_layer_kind_snake(ly->kind));
    }
    double gmax = 0.0;
    for (size_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs(g[i]));
    size_t stride = n > 600 ? n / 600 : 1, bad = 0, kinks = 0, checked = 0;
    const float h = 2e-3f;
    double mid = loss_at(m, X, Y, width, batch);
    for (size_t i = 0; i < n; i += stride, checked++) {
        float keep = m->params[i];
        m->params[i] = keep + h;
        double up = loss_at(m, X, Y, width, batch);
        m->params[i] = keep - h;
        double down = loss_at(m, X, Y, width, batch);
        m->params[i] = keep;
        double num = (up - down) / ((double)(keep + h) - (double)(keep - h));
        double err = fabs(num - g[i]), tol = 2e-2 * fmax(fabs(num), fabs(g[i])) + 2e-3 * gmax;
        /* A max pool's window (or a relu) switching inside [-h, h]: the one-sided slopes
         * disagree and the function has no derivative to compare with there. */
        double right = (up - mid) / h, left = (mid - down) / h;
        if (err > tol && fabs(right - left) > tol) {
            kinks++;
            continue;
        }
        if (err > tol) {
            if (bad < 5)
                fprintf(stderr, "param %zu: analytic %g numeric %g\n", i, (double)g[i], num);
            bad++;
        }
    }
    ck_assert_msg(bad == 0, "%zu of %zu gradients differ from central differences", bad, n);
    ck_assert_msg(kinks * 50 <= checked, "%zu of %zu parameters sit on a kink", kinks, checked);
    free(X);
    free(Y);
    free(g);
}

START_TEST(test_shapes_as_keras)
{
    hood_model *m = image_model(28, 28, 1);
    ck_assert_int_eq(hood_model_add_conv2d(m, 32, 3, 3, 1, 1, false, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, false), HOOD_OK);
    ck_assert_int_eq(hood_model_add_conv2d(m, 64, 3, 3, 1, 1, false, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, false), HOOD_OK);
    ck_assert_int_eq(hood_model_add_flatten(m), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dropout(m, 0.5f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 128, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_batch_normalization(m, 0.99f, 1e-3f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 10, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    /* Keras: (26,26,32) 320; (13,13,32); (11,11,64) 18496; (5,5,64); 1600; 1600; 128 204928;
     * 128 512 (256 trainable, 256 non-trainable); 10 1290 */
    size_t want[][5] = {{26, 26, 32, 320, 1}, {13, 13, 32, 0, 1},     {11, 11, 64, 18496, 1},
                        {5, 5, 64, 0, 1},     {1, 1, 1600, 0, 0},     {1, 1, 1600, 0, 0},
                        {1, 1, 128, 204928, 0}, {1, 1, 128, 256, 0}, {1, 1, 10, 1290, 0}};
    for (size_t i = 0; i < 9; i++) {
        hood_layer_info info;
        ck_assert_int_eq(hood_model_layer_info(m, i, &info), HOOD_OK);
        ck_assert_uint_eq(info.height, want[i][0]);
        ck_assert_uint_eq(info.width, want[i][1]);
        ck_assert_uint_eq(info.channels, want[i][2]);
        ck_assert_uint_eq(info.params, want[i][3]);
        ck_assert_int_eq(info.image, (int)want[i][4]);
    }
    ck_assert_uint_eq(hood_model_num_params(m), 320 + 18496 + 204928 + 256 + 1290);
    ck_assert_uint_eq(hood_model_num_state(m), 256);
    /* 'same' keeps the size at stride 1 and is ceil(in / s) at stride 2 */
    hood_model *s = image_model(7, 8, 3);
    ck_assert_int_eq(hood_model_add_conv2d(s, 4, 3, 3, 2, 2, true, HOOD_ACT_LINEAR, true), HOOD_OK);
    ck_assert_uint_eq(s->layers[0].oh, 4);
    ck_assert_uint_eq(s->layers[0].ow, 4);
    ck_assert_uint_eq(hood_model_num_params(s), 3 * 3 * 3 * 4 + 4);
    hood_model_free(s);
    hood_model_free(m);
}
END_TEST

START_TEST(test_shape_errors_name_the_layer)
{
    hood_model *m = image_model(5, 5, 1);
    ck_assert_int_eq(hood_model_add_conv2d(m, 2, 3, 3, 1, 1, false, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_conv2d(m, 2, 3, 3, 1, 1, false, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, false), HOOD_ESHAPE);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "layer 2 (max_pooling2d)"));
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_conv2d(m, 2, 1, 1, 1, 1, false, HOOD_ACT_RELU, true),
                     HOOD_ESHAPE);
    ck_assert_ptr_nonnull(strstr(hood_last_error(), "layer 4 (conv2d)"));
    hood_model_free(m);
    /* no image shape: a flat input refuses image layers */
    ck_assert_int_eq(hood_model_create(&m, 16), HOOD_OK);
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, false), HOOD_ESHAPE);
    ck_assert_int_eq(hood_model_set_input_shape(m, 4, 3, 1), HOOD_ESHAPE);
    ck_assert_int_eq(hood_model_add_dropout(m, 1.0f), HOOD_EINVAL);
    hood_model_free(m);
}
END_TEST

/* Hand-worked TensorFlow 'same' padding: the extra column goes at the right. */
START_TEST(test_same_padding_golden)
{
    float x[4] = {1, 2, 3, 4}, out[4];
    hood_model *m = image_model(1, 4, 1);
    ck_assert_int_eq(hood_model_add_conv2d(m, 1, 1, 2, 1, 1, true, HOOD_ACT_LINEAR, false),
                     HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, 1), HOOD_OK);
    float k2[2] = {1, 10}; /* (kh, kw, in, out) = (1, 2, 1, 1) */
    ck_assert_int_eq(hood_model_set_kernel(m, 0, k2), HOOD_OK);
    ck_assert_int_eq(hood_model_predict(m, x, 1, 1, out), HOOD_OK);
    float want[4] = {21, 32, 43, 4};
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(out[i], want[i]);
    hood_model_free(m);

    m = image_model(1, 4, 1);
    ck_assert_int_eq(hood_model_add_conv2d(m, 1, 1, 3, 1, 2, true, HOOD_ACT_LINEAR, false),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, 1), HOOD_OK);
    float k3[3] = {1, 10, 100};
    ck_assert_int_eq(hood_model_set_kernel(m, 0, k3), HOOD_OK);
    ck_assert_int_eq(hood_model_predict(m, x, 1, 1, out), HOOD_OK);
    /* windows [x0 x1 x2] and [x2 x3 pad] */
    ck_assert_float_eq(out[0], 321.0f);
    ck_assert_float_eq(out[1], 43.0f);
    hood_model_free(m);

    /* max pooling 'same' on 3x3 with 2x2 windows: the windows at the edge see only real values
     * (TF: padding never wins a max, and averages count real values only) */
    float img[9] = {-1, -2, -3, -4, -5, -6, -7, -8, -9}, p[4];
    m = image_model(3, 3, 1);
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_flatten(m), HOOD_OK);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, 1),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_predict(m, img, 1, 1, p), HOOD_OK);
    ck_assert_float_eq(p[0], -1.0f);
    ck_assert_float_eq(p[1], -3.0f);
    ck_assert_float_eq(p[2], -7.0f);
    ck_assert_float_eq(p[3], -9.0f);
    hood_model_free(m);
    m = image_model(3, 3, 1);
    ck_assert_int_eq(hood_model_add_average_pooling2d(m, 2, 2, 0, 0, true), HOOD_OK);
    ck_assert_int_eq(hood_model_compile(m, HOOD_LOSS_MEAN_SQUARED_ERROR, &opt, 1), HOOD_OK);
    ck_assert_int_eq(hood_model_predict(m, img, 1, 1, p), HOOD_OK);
    ck_assert_float_eq(p[0], -3.0f);  /* (-1 -2 -4 -5) / 4 */
    ck_assert_float_eq(p[1], -4.5f);  /* (-3 -6) / 2 */
    ck_assert_float_eq(p[3], -9.0f);
    hood_model_free(m);
}
END_TEST

/* Conv2D alone (then a linear Dense to make a loss), over strides, paddings, odd/even sizes,
 * kernel shapes and bias on/off. */
static const struct conv_case {
    size_t h, w, c, f, kh, kw, s;
    bool same, bias;
    hood_activation act;
} CONV_CASES[] = {
    {7, 6, 2, 3, 3, 3, 1, false, true, HOOD_ACT_TANH},
    {7, 7, 2, 3, 2, 3, 2, true, false, HOOD_ACT_TANH},
    {8, 6, 3, 2, 3, 3, 2, false, true, HOOD_ACT_LINEAR},
    {6, 8, 1, 4, 3, 2, 1, true, true, HOOD_ACT_SIGMOID},
    {5, 5, 3, 2, 1, 1, 1, false, true, HOOD_ACT_TANH}, /* the direct 1x1 path */
    {5, 4, 2, 3, 1, 1, 2, true, false, HOOD_ACT_LINEAR},
};

START_TEST(test_conv2d_gradient)
{
    const struct conv_case *k = &CONV_CASES[_i];
    hood_model *m = image_model(k->h, k->w, k->c);
    /* a first conv so that the case's conv also computes dX (checked through the first's dW) */
    ck_assert_int_eq(hood_model_add_conv2d(m, 2, 1, 1, 1, 1, false, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(
        hood_model_add_conv2d(m, k->f, k->kh, k->kw, k->s, k->s, k->same, k->act, k->bias),
        HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_LINEAR, true), HOOD_OK);
    compile_mse(m, 10 + (uint64_t)_i);
    grad_check(m, 3, 20 + (uint64_t)_i);
    hood_model_free(m);
}
END_TEST

/* Each parameter-free kind between two convolutions (so its dX is checked), then BatchNorm on
 * images and on flat vectors. */
START_TEST(test_pool_gradient)
{
    for (int kind = 0; kind < 7; kind++) {
        hood_model *m = image_model(kind % 2 ? 7 : 8, 6, 2);
        ck_assert_int_eq(hood_model_add_conv2d(m, 3, 2, 2, 1, 1, false, HOOD_ACT_TANH, true),
                         HOOD_OK);
        hood_status st = HOOD_OK;
        switch (kind) {
        case 0:
            st = hood_model_add_max_pooling2d(m, 2, 2, 0, 0, false);
            break;
        case 1:
            st = hood_model_add_max_pooling2d(m, 3, 3, 2, 2, true);
            break;
        case 2:
            st = hood_model_add_average_pooling2d(m, 2, 2, 0, 0, true);
            break;
        case 3:
            st = hood_model_add_average_pooling2d(m, 3, 2, 1, 2, false);
            break;
        case 4:
            st = hood_model_add_global_average_pooling2d(m);
            break;
        case 5:
            st = hood_model_add_flatten(m);
            break;
        case 6:
            st = hood_model_add_dropout(m, 0.4f);
            break;
        }
        ck_assert_int_eq(st, HOOD_OK);
        ck_assert_int_eq(hood_model_add_dense(m, 2, HOOD_ACT_LINEAR, true), HOOD_OK);
        compile_mse(m, 30 + (uint64_t)kind);
        grad_check(m, 3, 40 + (uint64_t)kind);
        hood_model_free(m);
    }
}
END_TEST

START_TEST(test_batchnorm_gradient)
{
    hood_model *m = image_model(5, 4, 2);
    ck_assert_int_eq(hood_model_add_conv2d(m, 3, 3, 3, 1, 1, true, HOOD_ACT_TANH, false), HOOD_OK);
    ck_assert_int_eq(hood_model_add_batch_normalization(m, 0.99f, 1e-3f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_flatten(m), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 4, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_batch_normalization(m, 0.9f, 1e-3f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 2, HOOD_ACT_LINEAR, true), HOOD_OK);
    compile_mse(m, 50);
    grad_check(m, 4, 51);
    hood_model_free(m);
}
END_TEST

/* A stack as a small CNN would have it, with relu and a softmax output. */
START_TEST(test_stack_gradient)
{
    hood_model *m = image_model(9, 8, 2);
    ck_assert_int_eq(hood_model_add_conv2d(m, 3, 3, 3, 1, 1, true, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_batch_normalization(m, 0.99f, 1e-3f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_conv2d(m, 4, 3, 2, 2, 1, false, HOOD_ACT_SIGMOID, true),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_add_average_pooling2d(m, 1, 2, 0, 0, false), HOOD_OK);
    ck_assert_int_eq(hood_model_add_flatten(m), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dropout(m, 0.25f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 5, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 3, HOOD_ACT_LINEAR, true), HOOD_OK);
    compile_mse(m, 60);
    grad_check(m, 4, 61);
    hood_model_free(m);
}
END_TEST

/* A batch whose column matrix exceeds the budget goes in chunks: the gradient equals the sum
 * of the one-sample gradients. */
START_TEST(test_conv2d_chunks)
{
    hood_model *m = image_model(64, 64, 16);
    ck_assert_int_eq(hood_model_add_conv2d(m, 4, 5, 5, 1, 1, true, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_global_average_pooling2d(m), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 2, HOOD_ACT_LINEAR, true), HOOD_OK);
    ck_assert_uint_lt(hood__conv2d_chunk(&m->layers[0], 5), 5);
    compile_mse(m, 70);
    size_t d = m->input_features, n = m->num_params, B = 5;
    float *X = malloc(d * B * sizeof(float)), Y[10];
    fill(X, d * B, 71, 1.0f);
    fill(Y, 10, 72, 1.0f);
    double *sum = calloc(n, sizeof(double));
    for (size_t j = 0; j < B; j++) {
        loss_at(m, X + j * d, Y + 2 * j, 2, 1);
        for (size_t i = 0; i < n; i++)
            sum[i] += m->grads[i];
    }
    loss_at(m, X, Y, 2, B);
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq_tol(m->grads[i], sum[i], 1e-4 * (1.0 + fabs(sum[i])));
    free(sum);
    free(X);
    hood_model_free(m);
}
END_TEST

/* The gradients of model m at threads 1 (g1) and `threads` agree to 1e-5 relative, and two runs
 * at `threads` give the same bits (Conv2D splits each chunk's samples over the pool and adds
 * the dW partials in a fixed order). */
static void threads_agree(hood_model *m, size_t batch, int threads, uint64_t seed)
{
    size_t d = m->input_features, width = hood_model_output_units(m), n = m->num_params;
    float *X = malloc(d * batch * sizeof(float)), *Y = malloc(width * batch * sizeof(float));
    float *g1 = malloc(n * sizeof(float)), *gt = malloc(n * sizeof(float));
    fill(X, d * batch, seed, 1.0f);
    fill(Y, width * batch, seed + 1, 1.0f);
    ck_assert_int_eq(hood_model_set_threads(m, 1), HOOD_OK);
    loss_at(m, X, Y, width, batch);
    memcpy(g1, m->grads, n * sizeof(float));
    ck_assert_int_eq(hood_model_set_threads(m, threads), HOOD_OK);
    loss_at(m, X, Y, width, batch);
    memcpy(gt, m->grads, n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(gt[i] - g1[i]) <= 1e-5f * (1.0f + fabsf(g1[i])),
                      "param %zu: %d threads %g, 1 thread %g", i, threads, (double)gt[i],
                      (double)g1[i]);
    loss_at(m, X, Y, width, batch);
    ck_assert_mem_eq(gt, m->grads, n * sizeof(float));
    free(gt);
    free(g1);
    free(Y);
    free(X);
}

START_TEST(test_conv2d_threads)
{
    hood_model *m = image_model(9, 8, 3);
    ck_assert_int_eq(hood_model_add_conv2d(m, 5, 3, 3, 1, 1, true, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_conv2d(m, 4, 3, 2, 2, 2, false, HOOD_ACT_RELU, true),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 1, 1, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_conv2d(m, 3, 1, 1, 1, 1, false, HOOD_ACT_LINEAR, false),
                     HOOD_OK);
    ck_assert_int_eq(hood_model_add_flatten(m), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 2, HOOD_ACT_LINEAR, true), HOOD_OK);
    compile_mse(m, 80);
    threads_agree(m, 7, 2, 81);
    threads_agree(m, 7, 3, 82);
    threads_agree(m, 2, 3, 83); /* a share without samples */
    hood_model_free(m);
    /* chunked: partials accumulate over the chunks */
    m = image_model(64, 64, 16);
    ck_assert_int_eq(hood_model_add_conv2d(m, 4, 5, 5, 1, 1, true, HOOD_ACT_TANH, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_global_average_pooling2d(m), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 2, HOOD_ACT_LINEAR, true), HOOD_OK);
    compile_mse(m, 84);
    threads_agree(m, 5, 2, 85);
    hood_model_free(m);
}
END_TEST

START_TEST(test_dropout_stream)
{
    hood__layer l = {.kind = HOOD_LAYER_DROPOUT, .rate = 0.3f};
    ck_assert_int_eq(hood__layer_resolve(&l, 0, false, 1, 1, 1000), HOOD_OK);
    size_t n = 1000 * 20;
    float *X = malloc(n * sizeof(float)), *Y = malloc(n * sizeof(float));
    float *keep = malloc(n * sizeof(float)), *first = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        X[i] = 1.0f;
    hood__layer_ctx ctx = {.keep = keep, .training = true, .seed = 5, .index = 2};
    size_t kept = 0, total = 0;
    for (uint64_t step = 0; step < 50; step++) {
        ctx.step = step;
        hood__layer_forward(&ctx, &l, Y, NULL, X, 1000, 20);
        for (size_t i = 0; i < n; i++) {
            ck_assert(Y[i] == 0.0f || fabsf(Y[i] - 1.0f / 0.7f) < 1e-6f);
            kept += Y[i] != 0.0f;
        }
        total += n;
        if (step == 0)
            memcpy(first, Y, n * sizeof(float));
    }
    double frac = (double)kept / (double)total; /* 1e6 draws: sd 0.00046 */
    ck_assert_double_eq_tol(frac, 0.7, 0.003);
    /* the same step gives the same mask; another layer index another one */
    ctx.step = 0;
    hood__layer_forward(&ctx, &l, Y, NULL, X, 1000, 20);
    ck_assert_mem_eq(Y, first, n * sizeof(float));
    ctx.index = 3;
    hood__layer_forward(&ctx, &l, Y, NULL, X, 1000, 20);
    ck_assert(memcmp(Y, first, n * sizeof(float)) != 0);
    /* inference: identity */
    ctx.training = false;
    hood__layer_forward(&ctx, &l, Y, NULL, X, 1000, 20);
    ck_assert_mem_eq(Y, X, n * sizeof(float));
    free(X);
    free(Y);
    free(keep);
    free(first);
}
END_TEST

/* Learns a 2-class image problem (a bright top half or a bright bottom half); a fit stopped
 * after a batch and continued gives the same weights (dropout, batchnorm) as one run. */
static int stop_after(void *user, size_t epoch, size_t batch, size_t num_batches, double loss,
                      double acc)
{
    (void)num_batches, (void)loss, (void)acc;
    const size_t *at = user;
    return epoch == at[0] && batch == at[1];
}

static hood_model *small_cnn(void)
{
    hood_model *m = image_model(8, 8, 1);
    ck_assert_int_eq(hood_model_add_conv2d(m, 4, 3, 3, 1, 1, true, HOOD_ACT_RELU, true), HOOD_OK);
    ck_assert_int_eq(hood_model_add_batch_normalization(m, 0.9f, 1e-3f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_max_pooling2d(m, 2, 2, 0, 0, false), HOOD_OK);
    ck_assert_int_eq(hood_model_add_flatten(m), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dropout(m, 0.3f), HOOD_OK);
    ck_assert_int_eq(hood_model_add_dense(m, 2, HOOD_ACT_SOFTMAX, true), HOOD_OK);
    hood_optimizer_config opt;
    hood_optimizer_config_init(&opt, HOOD_OPT_ADAM);
    opt.learning_rate = 0.01f;
    ck_assert_int_eq(
        hood_model_compile(m, HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY, &opt, 3), HOOD_OK);
    return m;
}

START_TEST(test_fit_learns_and_resumes)
{
    size_t n = 200, d = 64;
    hood_dataset *ds = NULL;
    ck_assert_int_eq(hood_dataset_create(&ds, d, n), HOOD_OK);
    float *x = hood_dataset_x_mutable(ds);
    int32_t *labels = malloc(n * sizeof *labels);
    fill(x, d * n, 80, 0.3f);
    for (size_t j = 0; j < n; j++) {
        labels[j] = (int32_t)(j % 2);
        for (size_t p = 0; p < 32; p++)
            x[j * d + (labels[j] ? 32 : 0) + p] += 0.8f;
    }
    ck_assert_int_eq(hood_dataset_set_labels(ds, HOOD_LABELS_INT, labels, 2), HOOD_OK);
    hood_fit_options o;
    hood_fit_options_init(&o);
    o.epochs = 3;
    o.batch_size = 16;
    o.seed = 4;
    hood_model *a = small_cnn(), *b = small_cnn();
    ck_assert_int_eq(hood_model_fit(a, ds, &o), HOOD_OK);
    double loss, acc;
    ck_assert_int_eq(hood_model_evaluate(a, ds, 32, &loss, &acc), HOOD_OK);
    ck_assert_double_ge(acc, 0.95);
    size_t at[2] = {1, 4};
    o.on_batch_end = stop_after;
    o.user = at;
    ck_assert_int_eq(hood_model_fit(b, ds, &o), HOOD_ESTOPPED);
    o.on_batch_end = NULL;
    o.epochs = 3 - hood_model_epochs_done(b);
    ck_assert_int_eq(hood_model_fit(b, ds, &o), HOOD_OK);
    ck_assert_mem_eq(a->params, b->params, a->num_params * sizeof(float));
    ck_assert_mem_eq(a->state, b->state, a->num_state * sizeof(float));
    hood_model_free(a);
    hood_model_free(b);
    hood_dataset_free(ds);
    free(labels);
}
END_TEST

Suite *hood_test_suite(void)
{
    Suite *s = suite_create("conv");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_shapes_as_keras);
    tcase_add_test(tc, test_shape_errors_name_the_layer);
    tcase_add_test(tc, test_same_padding_golden);
    tcase_add_loop_test(tc, test_conv2d_gradient, 0,
                        (int)(sizeof CONV_CASES / sizeof CONV_CASES[0]));
    tcase_add_test(tc, test_pool_gradient);
    tcase_add_test(tc, test_batchnorm_gradient);
    tcase_add_test(tc, test_stack_gradient);
    tcase_add_test(tc, test_conv2d_chunks);
    tcase_add_test(tc, test_conv2d_threads);
    tcase_add_test(tc, test_dropout_stream);
    tcase_add_test(tc, test_fit_learns_and_resumes);
    suite_add_tcase(s, tc);
    return s;
}
