/* train.c — the training workloads (`seed`, `fmnist`) through the public API: build the
 * dataset, compile the model, fit, then check the loss fell before any timing is reported.
 * Per-epoch times and the gather/forward/backward/update split come from hood_epoch_log.
 * Not a peer: bench/peers/{numpy,torch}_train.py do the same work in NumPy and PyTorch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "hood.h"

static const bench_train_spec specs[] = {
    {"seed",
     150 * 150,
     2,
     {10, 1},
     {HOOD_ACT_TANH, HOOD_ACT_SIGMOID},
     HOOD_LOSS_BINARY_CROSSENTROPY,
     1027,
     {"b32", "full"},
     {32, 1027},
     11,
     false},
    {"fmnist",
     784,
     3,
     {256, 128, 10},
     {HOOD_ACT_RELU, HOOD_ACT_RELU, HOOD_ACT_SOFTMAX},
     HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
     60000,
     {"b32", "b128"},
     {32, 128},
     4,
     false},
    {"cnn",
     784,
     4,
     {32, 64, 128, 10},
     {HOOD_ACT_RELU, HOOD_ACT_RELU, HOOD_ACT_RELU, HOOD_ACT_SOFTMAX},
     HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
     60000,
     {"b32", "b128"},
     {32, 128},
     3,
     true},
};

/* The cnn workload's products per sample: 28x28x1 -> conv 3x3 (26x26xF1) -> pool (13x13) ->
 * conv 3x3 (11x11xF2) -> pool (5x5) -> dense -> dense. Conv: 2·OH·OW·F·(9·C) per product,
 * forward, dW and dX (not for the first layer); dense as below. */
static double cnn_flops_per_sample(const bench_train_spec *s)
{
    double c1 = 2.0 * 26 * 26 * (double)s->units[0] * 9 * 1;
    double c2 = 2.0 * 11 * 11 * (double)s->units[1] * 9 * (double)s->units[0];
    double flat = 5.0 * 5 * (double)s->units[1];
    double d1 = 2.0 * flat * (double)s->units[2], d2 = 2.0 * (double)s->units[2] * s->units[3];
    return 2 * c1 + 3 * c2 + 3 * d1 + 3 * d2;
}

static size_t cnn_params(const bench_train_spec *s)
{
    size_t f1 = s->units[0], f2 = s->units[1], flat = 5 * 5 * f2;
    return 9 * f1 + f1 + 9 * f1 * f2 + f2 + flat * s->units[2] + s->units[2] +
           s->units[2] * s->units[3] + s->units[3];
}

static hood_status cnn_layers(const bench_train_spec *s, hood_model *m)
{
    hood_status st = hood_model_set_input_shape(m, 28, 28, 1);
    for (size_t i = 0; st == HOOD_OK && i < 2; i++) {
        st = hood_model_add_conv2d(m, s->units[i], 3, 3, 1, 1, false,
                                   (hood_activation)s->act[i], true);
        if (st == HOOD_OK)
            st = hood_model_add_max_pooling2d(m, 2, 2, 0, 0, false);
    }
    if (st == HOOD_OK)
        st = hood_model_add_flatten(m);
    if (st == HOOD_OK)
        st = hood_model_add_dropout(m, 0.5f);
    for (size_t i = 2; st == HOOD_OK && i < 4; i++)
        st = hood_model_add_dense(m, s->units[i], (hood_activation)s->act[i], true);
    return st;
}

const bench_train_spec *bench_train_spec_find(const char *name)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strcmp(specs[i].name, name) == 0)
            return &specs[i];
    return NULL;
}

bool bench_variant_wanted(const bench_options *o, const char *variant)
{
    if (o->n_variants == 0)
        return true;
    for (size_t i = 0; i < o->n_variants; i++)
        if (strcmp(o->variants[i], variant) == 0)
            return true;
    return false;
}

/* FLOPs of one epoch over n samples, counting only the matrix products (the elementwise work
 * is O(units x n), under 1 % here). Per Dense layer of in -> out units, with B samples:
 *   forward   Z = W·X            2·in·out·B
 *   backward  dW = dZ·Xᵀ         2·in·out·B
 *             dX = Wᵀ·dZ         2·in·out·B, except the first layer (nothing needs its dX)
 * Summed over the batches of an epoch, B adds up to n whatever the batch size. */
double bench_train_flops(const bench_train_spec *s, size_t n)
{
    if (s->cnn)
        return cnn_flops_per_sample(s) * (double)n;
    double total = 0;
    size_t in = s->input;
    for (size_t i = 0; i < s->n_layers; i++) {
        double per = 2.0 * (double)in * (double)s->units[i] * (double)n;
        total += per * (i == 0 ? 2.0 : 3.0);
        in = s->units[i];
    }
    return total;
}

size_t bench_train_params(const bench_train_spec *s)
{
    if (s->cnn)
        return cnn_params(s);
    size_t p = 0, in = s->input;
    for (size_t i = 0; i < s->n_layers; i++) {
        p += in * s->units[i] + s->units[i];
        in = s->units[i];
    }
    return p;
}

static void fail(bench_result *r, const char *fmt, const char *a, const char *b)
{
    r->ok = false;
    snprintf(r->what, sizeof r->what, fmt, a, b);
}

/* The workload's X (input x n, column-major, float32 values code / 255) as 8-bit codes, checked
 * to give back the same floats; NULL with err when a value is not one. */
static uint8_t *codes_of(const float *X, size_t count, char *err, size_t err_len)
{
    uint8_t *codes = malloc(count);
    if (codes == NULL) {
        snprintf(err, err_len, "no memory for %zu 8-bit codes", count);
        return NULL;
    }
    for (size_t k = 0; k < count; k++) {
        float v = X[k] * 255.0f;
        long c = v >= 0.0f && v <= 255.0f ? lrintf(v) : -1;
        if (c < 0 || (float)c / 255.0f != X[k]) {
            snprintf(err, err_len, "value %zu (%g) is not an 8-bit code / 255", k, (double)X[k]);
            free(codes);
            return NULL;
        }
        codes[k] = (uint8_t)c;
    }
    return codes;
}

/* The synthetic seed set (float32, owned by the dataset) with its labels. */
static hood_status seed_dataset(const bench_train_spec *s, hood_dataset **out)
{
    int32_t *labels = malloc(s->samples * sizeof *labels);
    hood_status st = hood_dataset_create(out, s->input, s->samples);
    if (st == HOOD_OK && labels != NULL) {
        bench_seed_data(hood_dataset_x_mutable(*out), labels, s->samples);
        st = hood_dataset_set_labels(*out, HOOD_LABELS_BINARY, labels, 2);
    } else if (st == HOOD_OK) {
        st = HOOD_ENOMEM;
    }
    free(labels);
    return st;
}

/* The data set once per workload; the variants share it. With o->x_u8 X is kept as 8-bit
 * codes (the same values), as an image ingest holds it by default. */
int bench_train_load(const bench_train_spec *s, const bench_options *o, hood_dataset **out,
                     void **owned_x, char *err, size_t err_len)
{
    *owned_x = NULL;
    *out = NULL;
    hood_dataset *ds = NULL;
    float *X = NULL;
    int32_t *labels = NULL;
    size_t n = s->samples;
    hood_status st;
    if (strcmp(s->name, "seed") == 0) {
        st = seed_dataset(s, &ds);
        if (st != HOOD_OK) {
            snprintf(err, err_len, "seed data: %s",
                     st == HOOD_ENOMEM ? "no memory" : hood_last_error());
            hood_dataset_free(ds);
            return -1;
        }
        if (!o->x_u8) {
            *out = ds;
            return 0;
        }
        X = hood_dataset_x_mutable(ds); /* borrowed until ds is freed below */
    } else {
        if (bench_fmnist_idx(o->idx_dir, &X, &labels, &n, err, err_len) != 0)
            return -1;
        if (o->samples > 0 && o->samples < n)
            n = o->samples; /* the first columns: a quicker epoch, the same kind of work */
    }
    hood_dataset *wrapped = NULL;
    uint8_t *codes = NULL;
    if (o->x_u8) {
        codes = codes_of(X, s->input * n, err, err_len);
        if (codes == NULL) {
            hood_dataset_free(ds);
            if (ds == NULL)
                free(X);
            free(labels);
            return -1;
        }
        /* wrapped, not copied: one matrix in memory (188 MB float32, 47 MB of codes) */
        st = hood_dataset_wrap_u8(&wrapped, codes, s->input, n, 255.0f);
    } else {
        st = hood_dataset_wrap(&wrapped, X, s->input, n);
    }
    if (st == HOOD_OK && ds != NULL) { /* seed: the labels of the float set */
        st = hood_dataset_set_label_values(wrapped, HOOD_LABELS_BINARY, hood_dataset_labels(ds),
                                           1, 2);
    } else if (st == HOOD_OK) {
        st = hood_dataset_set_labels(wrapped, HOOD_LABELS_INT, labels, 10);
    }
    free(labels);
    hood_dataset_free(ds); /* the seed's float set, when codes replace it */
    if (ds == NULL && codes != NULL)
        free(X);
    if (st != HOOD_OK) {
        snprintf(err, err_len, "%s data: %s", s->name, hood_last_error());
        hood_dataset_free(wrapped);
        free(codes != NULL ? (void *)codes : (void *)X);
        return -1;
    }
    *owned_x = codes != NULL ? (void *)codes : (void *)X;
    *out = wrapped;
    return 0;
}

hood_status bench_train_model(const bench_train_spec *s, int threads, int optimizer,
                              hood_model **out)
{
    hood_model *m = NULL;
    hood_optimizer_config opt;
    /* Keras' defaults: SGD at learning rate 0.01 (the peers' optimizer), Adam and RMSprop at
     * 0.001 (--optimizer: what the update costs beside SGD's) */
    hood_optimizer_config_init(&opt, (hood_optimizer_kind)optimizer);
    hood_status st = hood_model_create(&m, s->input);
    if (st == HOOD_OK && s->cnn)
        st = cnn_layers(s, m);
    for (size_t i = 0; !s->cnn && st == HOOD_OK && i < s->n_layers; i++)
        st = hood_model_add_dense(m, s->units[i], (hood_activation)s->act[i], true);
    if (st == HOOD_OK)
        st = hood_model_compile(m, (hood_loss)s->loss, &opt, 42);
    if (st == HOOD_OK)
        st = hood_model_set_threads(m, threads);
    if (st != HOOD_OK) {
        hood_model_free(m);
        return st;
    }
    *out = m;
    return HOOD_OK;
}

/* The check, as bench/peers/common.py's loss_check: mini-batch loss must fall; full batch
 * (one gradient step per epoch, which oscillates at lr 0.01 on 22,500 positive inputs in every
 * implementation tried) must stay finite and move. */
static void check_losses(bench_result *r)
{
    bool finite = true, moved = false;
    for (size_t e = 0; e < r->n_epochs; e++) {
        finite &= isfinite(r->epochs[e].loss) != 0;
        moved |= r->epochs[e].loss != r->epochs[0].loss;
    }
    double first = r->epochs[0].loss, last = r->epochs[r->n_epochs - 1].loss;
    if (strcmp(r->variant, "full") == 0) {
        r->ok = finite && moved;
        snprintf(r->what, sizeof r->what, "full batch: finite, loss %.4f -> %.4f", first, last);
    } else {
        r->ok = finite && last < first;
        snprintf(r->what, sizeof r->what, "loss %.4f -> %.4f (must fall)", first, last);
    }
}

/* Per-epoch CPU time, read at each epoch's end. */
typedef struct cpu_clock {
    double last, cpu[BENCH_MAX_EPOCHS];
    size_t n;
} cpu_clock;

static int on_epoch(void *user, hood_model *model, const hood_epoch_log *log)
{
    (void)model;
    (void)log;
    cpu_clock *c = user;
    double now = bench_cpu_now();
    if (c->n < BENCH_MAX_EPOCHS)
        c->cpu[c->n++] = now - c->last;
    c->last = now;
    return 0;
}

static void run_variant(const bench_train_spec *s, size_t vi, const hood_dataset *ds,
                        const bench_options *o, bench_results *out)
{
    char name[64];
    snprintf(name, sizeof name, "%s/%s", s->name, s->variants[vi]);
    bench_result *r = bench_results_add(out, s->name, name);
    if (r == NULL)
        return;
    snprintf(r->variant, sizeof r->variant, "%s", s->variants[vi]);
    r->kind = BENCH_TRAIN;
    r->threads = o->threads;
    r->x_u8 = hood_dataset_storage(ds) == HOOD_PIXELS_U8;
    r->samples = hood_dataset_samples(ds);
    r->batch = s->batches[vi] > r->samples ? r->samples : s->batches[vi];
    size_t epochs = o->epochs ? o->epochs : s->default_epochs;
    if (epochs > BENCH_MAX_EPOCHS)
        epochs = BENCH_MAX_EPOCHS;
    if (epochs < 2)
        epochs = 2; /* one warm-up and at least one timed epoch */

    hood_model *m = NULL;
    hood_status st = bench_train_model(s, o->threads, o->optimizer, &m);
    if (st != HOOD_OK) {
        fail(r, "model: %s%s", hood_last_error(), "");
        return;
    }
    r->threads = hood_model_threads(m);
    hood_fit_options fo;
    hood_fit_options_init(&fo);
    fo.epochs = epochs;
    fo.batch_size = r->batch;
    fo.shuffle = true;
    fo.seed = 1;
    cpu_clock clock = {.n = 0};
    fo.on_epoch_end = on_epoch;
    fo.user = &clock;
    clock.last = bench_cpu_now();
    st = hood_model_fit(m, ds, &fo);
    if (st != HOOD_OK) {
        fail(r, "fit: %s (%s)", hood_last_error(), hood_strerror(st));
        hood_model_free(m);
        return;
    }
    size_t h = hood_model_history_length(m);
    r->n_epochs = h < BENCH_MAX_EPOCHS ? h : BENCH_MAX_EPOCHS;
    double secs[BENCH_MAX_EPOCHS], cpus[BENCH_MAX_EPOCHS];
    for (size_t e = 0; e < r->n_epochs; e++) {
        const hood_epoch_log *l = hood_model_history(m, e);
        bench_epoch *be = &r->epochs[e];
        be->seconds = l->seconds;
        be->loss = l->loss;
        be->gather = l->gather_seconds;
        be->forward = l->forward_seconds;
        be->backward = l->backward_seconds;
        be->update = l->update_seconds;
        be->cpu = e < clock.n ? clock.cpu[e] : 0;
        if (e > 0) {
            secs[e - 1] = l->seconds;
            cpus[e - 1] = be->cpu;
        }
    }
    hood_model_free(m);
    if (r->n_epochs < 2) {
        fail(r, "fit: %s%s", "fewer than 2 epochs in the history", "");
        return;
    }
    check_losses(r);
    r->epoch_s = bench_stats_of(secs, r->n_epochs - 1);
    r->epoch_cpu = bench_stats_of(cpus, r->n_epochs - 1);
    /* The split of the median epoch (the one whose time is closest to the median). */
    size_t best = 1;
    for (size_t e = 1; e < r->n_epochs; e++)
        if (fabs(r->epochs[e].seconds - r->epoch_s.median) <
            fabs(r->epochs[best].seconds - r->epoch_s.median))
            best = e;
    r->split[0] = r->epochs[best].gather;
    r->split[1] = r->epochs[best].forward;
    r->split[2] = r->epochs[best].backward;
    r->split[3] = r->epochs[best].update;
    r->flops = bench_train_flops(s, r->samples);
    /* The bytes the bound counts: X read once, parameters read and written once per epoch
     * (both the least any implementation must move from memory). */
    r->bytes = 4.0 * (double)s->input * (double)r->samples + 8.0 * (double)bench_train_params(s);
    r->peak_rss_mb = bench_peak_rss_mb();
}

int bench_train(const char *workload, const bench_options *o, bench_results *out)
{
    const bench_train_spec *s = bench_train_spec_find(workload);
    char err[256] = "";
    hood_dataset *ds = NULL;
    void *owned_x = NULL; /* X behind a wrapped dataset: freed after it */
    if (s == NULL || bench_train_load(s, o, &ds, &owned_x, err, sizeof err) != 0) {
        bench_result *r = bench_results_add(out, workload, workload);
        if (r != NULL) {
            r->kind = BENCH_TRAIN;
            snprintf(r->what, sizeof r->what, "%s", s == NULL ? "unknown workload" : err);
        }
        return -1;
    }
    for (size_t vi = 0; vi < 2; vi++)
        if (bench_variant_wanted(o, s->variants[vi]))
            run_variant(s, vi, ds, o, out);
    hood_dataset_free(ds);
    free(owned_x);
    return 0;
}
