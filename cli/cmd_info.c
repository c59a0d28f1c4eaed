/* cmd_info.c — `hood info MODEL`: what Keras' model.summary() shows (layers, output shapes,
 * parameter counts), plus what the model file keeps: loss, optimizer, input, preprocessing,
 * class names and a summary of the training history. Reads only; writes nothing. */
#include "common.h"

#include <float.h>
#include <string.h>

static const char *const CMD = "info";

static void print_help(void)
{
    printf("Usage: hood info MODEL\n"
           "Describes MODEL as Keras' model.summary() does (layers, output shapes, parameter\n"
           "counts), then its loss, optimizer, input (values per sample, and Keras' input\n"
           "shape for images), preprocessing, class names and training history. The learning\n"
           "rate is the one the next batch would use: after --lr-schedule, the schedule's last\n"
           "value (0 once a cosine decay has run out); the schedule itself is not kept.\n\n"
           "Options:\n"
           "  -h, --help   this help\n");
}

static const char *color_name(hood_color_mode m)
{
    return m == HOOD_COLOR_RGB ? "rgb" : m == HOOD_COLOR_RGBA ? "rgba" : "grayscale";
}

static const char *interp_name(hood_interpolation i)
{
    static const char *const names[] = {"bilinear", "nearest", "bicubic", "lanczos3", "area"};
    return (unsigned)i < 5 ? names[i] : "?";
}

static void rule(char c)
{
    for (int i = 0; i < 92; i++)
        putchar(c);
    putchar('\n');
}

/* 1234567 -> "1,234,567", as Keras' summary prints parameter counts. */
static void format_thousands(char *buf, size_t size, size_t value)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%zu", value);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

static void print_summary(const hood_model *m, const char *path)
{
    char buf[64], shape[64], name[64];
    printf("Model: \"%s\"\n", path);
    rule('_');
    printf(" %-40s %-20s %-12s %15s\n", "Layer (type)", "Output Shape", "Activation", "Param #");
    rule('=');
    /* Keras names layers by kind with a counter per kind: conv2d, conv2d_1, dense, ... */
    size_t seen[HOOD_LAYER_BATCH_NORMALIZATION + 1] = {0}, state = 0;
    for (size_t i = 0; i < hood_model_num_layers(m); i++) {
        hood_layer_info info;
        if (hood_model_layer_info(m, i, &info) != HOOD_OK)
            continue;
        size_t k = seen[info.kind]++;
        if (k == 0)
            snprintf(name, sizeof name, "%s (%s)", hood_layer_kind_snake(info.kind),
                     hood_layer_kind_name(info.kind));
        else
            snprintf(name, sizeof name, "%s_%zu (%s)", hood_layer_kind_snake(info.kind), k,
                     hood_layer_kind_name(info.kind));
        if (info.image)
            snprintf(shape, sizeof shape, "(None, %zu, %zu, %zu)", info.height, info.width,
                     info.channels);
        else
            snprintf(shape, sizeof shape, "(None, %zu)", info.channels);
        /* Keras' Param # counts the moving statistics too */
        format_thousands(buf, sizeof buf, info.params + info.non_trainable);
        bool has_act = info.kind == HOOD_LAYER_DENSE || info.kind == HOOD_LAYER_CONV2D;
        printf(" %-40s %-20s %-12s %15s\n", name, shape,
               has_act ? hood_activation_name(info.activation) : "", buf);
        state += info.non_trainable;
    }
    rule('=');
    size_t trainable = hood_model_num_params(m), total = trainable + state;
    format_thousands(buf, sizeof buf, total);
    printf(" Total params: %s (%.2f KB)\n", buf, (double)total * 4.0 / 1024.0);
    format_thousands(buf, sizeof buf, trainable);
    printf(" Trainable params: %s (%.2f KB)\n", buf, (double)trainable * 4.0 / 1024.0);
    format_thousands(buf, sizeof buf, state);
    if (state == 0)
        printf(" Non-trainable params: 0 (0.00 B)\n");
    else
        printf(" Non-trainable params: %s (%.2f KB)\n", buf, (double)state * 4.0 / 1024.0);
    rule('_');
}

/* Which epoch's weights the file holds (with that epoch's validation figures, which
 * `hood evaluate` gives again on the same data) and the fit's settings. */
static void print_fit(const hood_model *m)
{
    hood_fit_record rec;
    bool has = hood_model_fit_record(m, &rec);
    size_t w = hood_model_weights_epoch(m), batch = hood_model_batches_done(m);
    if (batch > 0)
        printf("Weights:        after batch %zu of epoch %zu (stopped inside the epoch)\n", batch,
               w + 1);
    else if (w > 0 && w <= hood_model_history_length(m)) {
        const hood_epoch_log *e = hood_model_history(m, w - 1);
        /* --save-best writes -o at each best epoch with best_epoch set: the file ends there */
        bool kept_best = has && !rec.restored_best && rec.best_epoch == w &&
                         hood_model_history_length(m) == w && rec.stopped_epoch == 0;
        printf("Weights:        from the end of epoch %zu%s", w,
               has && rec.restored_best ? " (the best epoch, restored by early stopping)"
               : kept_best ? " (the best epoch by the monitored value)"
                           : "");
        if (e->has_validation)
            printf(": val_loss %.4f - val_accuracy %.4f", e->val_loss, e->val_accuracy);
        putchar('\n');
    }
    if (!has)
        return;
    if (rec.stopped_epoch > 0)
        printf("Early stopping: stopped after epoch %zu, best epoch %zu\n", rec.stopped_epoch,
               rec.best_epoch);
    printf("Fit:            %zu epochs asked, batch size %zu, shuffle %s, seed %llu, threads %d, "
           "validation split %g%s\n",
           rec.epochs, rec.batch_size, rec.shuffle ? "on" : "off", (unsigned long long)rec.seed,
           rec.threads, rec.validation_split, rec.interrupted ? " (interrupted)" : "");
}

static void print_details(const hood_model *m)
{
    size_t h, w, c; /* and Keras' input_shape, (28, 28, 1), when the input is an image */
    printf("Input:          %zu values per sample", hood_model_input_features(m));
    if (hood_model_input_shape(m, &h, &w, &c))
        printf(", image shape (%zu, %zu, %zu)", h, w, c);
    putchar('\n');
    if (hood_model_is_compiled(m)) {
        hood_optimizer_config opt;
        hood_optimizer_config_init(&opt, HOOD_OPT_SGD);
        hood_model_optimizer(m, &opt);
        printf("Loss:           %s\n", hood_loss_name(hood_model_loss(m)));
        /* A rate must be > 0, so `hood train` keeps a schedule's end at 0 as FLT_MIN
         * (train_run.c set_rate): that is a rate of 0 to the user. */
        bool ended = opt.learning_rate <= FLT_MIN;
        printf("Optimizer:      %s (learning_rate=%g", hood_optimizer_name(opt.kind),
               ended ? 0.0 : (double)opt.learning_rate);
        if (opt.kind == HOOD_OPT_SGD)
            printf(", momentum=%g, nesterov=%s", (double)opt.momentum,
                   opt.nesterov ? "true" : "false");
        else if (opt.kind == HOOD_OPT_ADAM)
            printf(", beta_1=%g, beta_2=%g, epsilon=%g", (double)opt.beta_1, (double)opt.beta_2,
                   (double)opt.epsilon);
        else
            printf(", rho=%g, momentum=%g, epsilon=%g", (double)opt.rho, (double)opt.momentum,
                   (double)opt.epsilon);
        printf(")\n");
        if (ended)
            printf("                learning_rate 0: a schedule decayed it to its end (the file "
                   "keeps the last rate, not the schedule)\n");
    } else {
        printf("Loss:           (not compiled)\n");
    }
    hood_preprocess pp;
    hood_preprocess_init(&pp);
    if (hood_model_preprocess(m, &pp)) {
        printf("Preprocessing:  %zux%zu %s, %s%s%s, %s\n", pp.height, pp.width,
               color_name(pp.color_mode), interp_name(pp.interpolation),
               pp.crop_to_aspect_ratio ? ", crop to aspect ratio" : "",
               pp.pad_to_aspect_ratio ? ", pad to aspect ratio" : "",
               pp.raw_values ? "values 0..255" : "values / 255");
    } else {
        printf("Preprocessing:  none (trained on a matrix, not images)\n");
    }
    size_t k = hood_model_num_classes(m);
    if (k > 0) {
        printf("Classes:        %zu:", k);
        for (size_t i = 0; i < k; i++) {
            const char *name = hood_model_class_name(m, i);
            if (name != NULL)
                printf(" %s%s", name, i + 1 < k ? "," : "");
            else
                printf(" %zu%s", i, i + 1 < k ? "," : "");
        }
        putchar('\n');
    }
    size_t n = hood_model_history_length(m);
    if (n == 0) {
        printf("History:        not trained\n");
        return;
    }
    double seconds = 0;
    for (size_t i = 0; i < n; i++)
        seconds += hood_model_history(m, i)->seconds;
    const hood_epoch_log *first = hood_model_history(m, 0);
    const hood_epoch_log *last = hood_model_history(m, n - 1);
    printf("History:        %zu epoch%s in %.2fs (epochs done: %zu)\n", n, n == 1 ? "" : "s",
           seconds, hood_model_epochs_done(m));
    printf("  first epoch:  loss %.4f - accuracy %.4f\n", first->loss, first->accuracy);
    printf("  last epoch:   loss %.4f - accuracy %.4f", last->loss, last->accuracy);
    if (last->has_validation)
        printf(" - val_loss %.4f - val_accuracy %.4f", last->val_loss, last->val_accuracy);
    putchar('\n');
    print_fit(m);
}

int hood_cli_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            print_help();
            return CLI_OK;
        }
        return cli_usage_getopt(CMD, c, optopt, argv[optind - 1]);
    }
    if (argc - optind != 1)
        return cli_usage(CMD, "expected one MODEL, got %d operands", argc - optind);
    hood_model *model = NULL;
    hood_status st = hood_model_load(argv[optind], &model);
    if (st != HOOD_OK)
        return cli_fail_status(CMD, st);
    print_summary(model, argv[optind]);
    print_details(model);
    hood_model_free(model);
    return CLI_OK;
}
