/* consumer.c — a program that embeds libhood through include/hood.h only: it builds the seed's
 * create_model() (Dense tanh -> Dense sigmoid, binary cross-entropy, SGD), trains it on a toy
 * problem, evaluates it and predicts two new samples. Not part of the library or the CLI.
 *
 * Build against an installed hood:
 *   cc consumer.c $(pkg-config --cflags --libs hood) -o consumer && ./consumer
 */
#include <hood.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { FEATURES = 2, SAMPLES = 256 };

/* Stops with the library's one-line message when a call fails. */
#define CHECK(call)                                                                                \
    do {                                                                                           \
        hood_status st_ = (call);                                                                  \
        if (st_ != HOOD_OK) {                                                                      \
            fprintf(stderr, "consumer: %s: %s\n", #call, hood_last_error());                       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

int main(void)
{
    printf("libhood %s\n", hood_version_string());

    /* X: FEATURES x SAMPLES, column-major (sample j is x + j*FEATURES); label: x1 > x2. */
    hood_dataset *train = NULL;
    CHECK(hood_dataset_create(&train, FEATURES, SAMPLES));
    float *x = hood_dataset_x_mutable(train);
    int32_t labels[SAMPLES];
    uint32_t s = 42;
    for (size_t j = 0; j < SAMPLES; j++) {
        for (size_t i = 0; i < FEATURES; i++) {
            s = s * 1664525u + 1013904223u; /* a fixed LCG: the same data everywhere */
            x[j * FEATURES + i] = (float)(s >> 8) / 16777216.0f;
        }
        labels[j] = x[j * FEATURES] > x[j * FEATURES + 1];
    }
    CHECK(hood_dataset_set_labels(train, HOOD_LABELS_BINARY, labels, 2));

    /* model = Sequential([Dense(10, tanh), Dense(1, sigmoid)]);
     * model.compile(loss='binary_crossentropy', optimizer=SGD(0.5)) */
    hood_model *model = NULL;
    CHECK(hood_model_create(&model, FEATURES));
    CHECK(hood_model_add_dense(model, 10, HOOD_ACT_TANH, true));
    CHECK(hood_model_add_dense(model, 1, HOOD_ACT_SIGMOID, true));
    hood_optimizer_config sgd;
    hood_optimizer_config_init(&sgd, HOOD_OPT_SGD);
    sgd.learning_rate = 0.5f;
    CHECK(hood_model_compile(model, HOOD_LOSS_BINARY_CROSSENTROPY, &sgd, 0));

    /* model.fit(X, y, epochs=100, batch_size=32, verbose=0) */
    hood_fit_options fit;
    hood_fit_options_init(&fit);
    fit.epochs = 100;
    CHECK(hood_model_fit(model, train, &fit));

    /* model.evaluate(X, y) */
    double loss = 0, accuracy = 0;
    CHECK(hood_model_evaluate(model, train, 32, &loss, &accuracy));
    printf("loss: %.4f - accuracy: %.4f\n", loss, accuracy);

    /* model.predict(new samples): out is 1 x 2 (one output unit per sample). */
    const float fresh[2 * FEATURES] = {0.9f, 0.1f, 0.1f, 0.9f};
    float out[2];
    CHECK(hood_model_predict(model, fresh, 2, 32, out));
    printf("predict(0.9, 0.1) = %.4f\npredict(0.1, 0.9) = %.4f\n", out[0], out[1]);

    int ok = accuracy >= 0.9 && out[0] > 0.5f && out[1] < 0.5f;
    printf("consumer: %s\n", ok ? "ok" : "FAILED");
    hood_model_free(model);
    hood_dataset_free(train);
    return ok ? 0 : 1;
}
