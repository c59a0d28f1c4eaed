/* train.c — fit, evaluate and predict for the Sequential model: epochs, per-epoch shuffles,
 * batches gathered into one buffer, forward/loss/backward/update, validation, history, early
 * stopping, callbacks, per-phase timing and the divergence guard. The math is in the kernels
 * (dense.c, loss.c, optimizer.c) and what sharded workers exchange in shard.c; this file only
 * sequences them. */
#include "model.h"

#include "activation.h"
#include "dataset.h"
#include "dense.h"
#include "early_stop.h"
#include "error.h"
#include "gemm.h"
#include "loss.h"
#include "matrix.h"
#include "optimizer.h"
#include "parallel.h"
#include "rng.h"
#include "shard.h"
#include "workspace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* What layer l's forward/backward may use: the pool, the shared scratch, its keep buffer, the
 * mode and dropout's stream (the compile seed and the optimizer step, so a resumed run draws
 * what an uninterrupted one would). */
static hood__layer_ctx layer_ctx(const hood_model *model, const hood__workspace *ws, size_t l,
                                 bool training)
{
    return (hood__layer_ctx){.pool = ws->pool,
                             .scratch = ws->scratch,
                             .scratch_floats = ws->scratch_floats,
                             .keep = ws->keep[l],
                             .training = training,
                             .seed = model->seed,
                             .step = model->opt_step,
                             .index = l};
}

/* out_last (units x batch) = the model applied to X (features x batch, ld = ldx); the hidden
 * layers' outputs stay in ws->A, the output layer's logits in ws->Z when keep_z. training:
 * fit's batches (dropout drops, batchnorm uses and updates the batch statistics). */
static void forward(const hood_model *model, hood__workspace *ws, float *out_last, bool keep_z,
                    const float *X, size_t ldx, size_t batch, bool training)
{
    const float *in = X;
    size_t ld = ldx;
    for (size_t l = 0; l < model->num_layers; l++) {
        const hood__layer *layer = &model->layers[l];
        bool last = l + 1 == model->num_layers;
        float *A = last && out_last != NULL ? out_last : ws->A[l];
        hood__layer_ctx ctx = layer_ctx(model, ws, l, training);
        /* A (out x batch) = layer(in (in x batch)); Dense: act(W (out x in) · in + b) */
        hood__layer_forward(&ctx, layer, A, last && keep_z ? ws->Z : NULL, in, ld, batch);
        in = A;
        ld = layer->out;
    }
}

/* How batch_update steps the arena: in place (hood__optimizer_safe proved every new value
 * finite; `next` bounds the arena after it) or out of place into the next arenas (`max`: the
 * maxima the step writes). */
typedef struct step_plan {
    bool in_place;
    hood__arena_max max, next;
} step_plan;

/* Whether a step with gradients |g| <= g_max may run in place, into plan. */
static void plan_step(const hood_model *model, double g_max, step_plan *plan)
{
    const hood__step_bounds *b = &model->step_bounds;
    plan->in_place =
        b->valid && hood__optimizer_safe(&model->opt, model->opt_step, &b->max, g_max, &plan->next);
}

/* The first layer's fused step (hood__dense_backward_step_pool) from its dZ (out x batch), in
 * place when the whole step is proved finite: its kernel's gradient is dZ · Xᵀ, so
 * |dW| <= max|x| · max_i sum_b |dZ_ib| (and |db| <= that sum) up to the sums' rounding (the
 * factor 2); the later layers' gradients (already made) are read. */
static bool fused_first_step(const hood_model *model, hood__workspace *ws, const hood__layer *layer,
                             const float *dZ, const float *X, size_t ldx, size_t batch,
                             step_plan *plan)
{
    const hood__step_bounds *b = &model->step_bounds;
    if (b->valid && b->x_max >= 0.0f) {
        double rows = 0.0;
        for (size_t i = 0; i < layer->out; i++) {
            double sum = 0.0;
            for (size_t j = 0; j < batch; j++)
                sum += fabs((double)dZ[i + j * layer->out]);
            rows = sum > rows || isnan(sum) ? sum : rows;
        }
        size_t rest =
            model->num_layers > 1 ? hood__model_layer_offset(model, 1) : model->num_params;
        double g_max = 2.0 * rows * (b->x_max > 1.0f ? b->x_max : 1.0f);
        double later = hood__optimizer_abs_max(model->grads + rest, model->num_params - rest);
        plan_step(model, later > g_max || isnan(later) ? later : g_max, plan);
    }
    float *W_out = plan->in_place ? model->params : model->params_next;
    float *state_out = plan->in_place ? model->opt_state : model->opt_state_next;
    return hood__dense_backward_step_pool(ws->pool, layer, &model->opt, model->opt_step,
                                          model->opt_state, W_out, state_out, model->num_params, dZ,
                                          X, ldx, batch, &plan->max);
}

/* Gradients into the model's gradient arena from dZ of the output layer in ws->d[0], last
 * layer to first; the inputs X (d x batch, ld = ldx) and ws->A are forward's. With fuse_first
 * the first (Dense) layer's kernel is stepped here as `plan` says, into the arenas (banded dWᵀ
 * and the step for a narrow layer: fused_first_step; else SGD folded into the dW sgemm into the
 * next arenas: dense.h); the optimizer steps the rest. false when a new value there is not
 * finite. */
static bool backward_fold(const hood_model *model, hood__workspace *ws, const float *X, size_t ldx,
                          size_t batch, bool fuse_first, step_plan *plan)
{
    int cur = 0; /* d[cur] holds dZ of layer l */
    for (size_t l = model->num_layers; l-- > 0;) {
        const hood__layer *layer = &model->layers[l];
        const float *in = l == 0 ? X : ws->A[l - 1];
        size_t ld = l == 0 ? ldx : model->layers[l - 1].out;
        float *dX = l == 0 ? NULL : ws->d[1 - cur];
        /* Dense: dW = dZ · inᵀ, db = row sums of dZ, dX (in x batch) = Wᵀ · dZ (not for
         * layer 0); the other kinds in layer.h's contract */
        bool fused = l == 0 && fuse_first && layer->kind == HOOD_LAYER_DENSE;
        if (fused && hood__dense_fuses_step(layer))
            return fused_first_step(model, ws, layer, ws->d[cur], in, ld, batch, plan);
        if (fused)
            return hood__dense_backward_sgd_pool(ws->pool, layer, model->params_next,
                                                 model->opt.learning_rate, ws->d[cur], in, ld,
                                                 batch);
        hood__layer_ctx ctx = layer_ctx(model, ws, l, true);
        hood__layer_backward(&ctx, layer, dX, ws->d[cur], in, ld, ws->A[l], batch);
        if (l > 0) {
            /* dZ of layer l-1 = dX ⊙ act'(A[l-1]), in place */
            hood__activation_backward(model->layers[l - 1].act, dX, dX, ws->A[l - 1],
                                      model->layers[l - 1].out, batch);
            cur = 1 - cur;
        }
    }
    return true;
}

static void backward(const hood_model *model, hood__workspace *ws, const float *X, size_t ldx,
                     size_t batch)
{
    (void)backward_fold(model, ws, X, ldx, batch, false, NULL);
}

hood_status hood__model_batch_gradient(hood_model *model, const float *X, const float *Y,
                                       size_t label_width, size_t batch, float scale,
                                       double *loss_sum)
{
    if (model == NULL || !model->compiled || X == NULL || Y == NULL || batch == 0)
        return hood__fail(HOOD_EINVAL, "batch gradient: compiled model, data and batch > 0 needed");
    hood__workspace ws;
    hood_status st = hood__workspace_init(&ws, model, batch, label_width, 1);
    if (st != HOOD_OK)
        return st;
    const hood__layer *last = &model->layers[model->num_layers - 1];
    size_t correct = 0;
    forward(model, &ws, NULL, true, X, model->input_features, batch, true);
    hood__loss_batch(model->loss, last->act, ws.Z, ws.A[model->num_layers - 1], Y, label_width,
                     last->out, batch, scale, ws.d[0], loss_sum, &correct);
    backward(model, &ws, X, model->input_features, batch);
    hood__workspace_free(&ws);
    return HOOD_OK;
}

/* Loss sum and correct count over columns [0, n) of X and Y, in inference blocks; no gradients.
 * 8-bit X is widened block by block into wide (d x INFERENCE_BLOCK floats; unused for float X).
 * With `steps` each block is one of the pool's timed steps (not inside a fit, whose steps are its
 * training batches: shorter validation steps would skew the pool's comparison). false when
 * hood_model_interrupt stopped it at a block boundary. */
static bool evaluate_columns(const hood_model *model, hood__workspace *ws, const hood__xsource *X,
                             float *wide, const float *Y, size_t label_width, size_t n, bool steps,
                             double *loss_sum, size_t *correct)
{
    const hood__layer *last = &model->layers[model->num_layers - 1];
    size_t d = model->input_features, batch = INFERENCE_BLOCK;
    *loss_sum = 0.0;
    *correct = 0;
    for (size_t j = 0; j < n; j += batch) {
        size_t B = n - j < batch ? n - j : batch;
        if (hood__model_interrupted(model))
            return false;
        if (steps)
            hood__pool_step_begin(ws->pool);
        forward(model, ws, NULL, true, hood__xsource_columns(X, j, B, wide), d, B, false);
        hood__loss_batch(model->loss, last->act, ws->Z, ws->A[model->num_layers - 1],
                         Y + j * label_width, label_width, last->out, B, (float)B, NULL, loss_sum,
                         correct);
        if (steps)
            hood__pool_step_end(ws->pool);
    }
    return true;
}

/* What the data must be for this model: features, labels that fit the loss, finite values. */
static hood_status check_data(const hood_model *model, const hood_dataset *ds, const char *what)
{
    if (ds == NULL)
        return hood__fail(HOOD_EINVAL, "%s: dataset is NULL", what);
    if (!model->compiled)
        return hood__fail(HOOD_EINVAL,
                          "%s: the model is not compiled; call hood_model_compile "
                          "first",
                          what);
    size_t n = hood_dataset_samples(ds), d = hood_dataset_features(ds);
    if (n == 0)
        return hood__fail(HOOD_EINVAL, "%s: the dataset is empty (0 samples)", what);
    if (d != model->input_features)
        return hood__fail(HOOD_ESHAPE,
                          "%s: dimension mismatch: the dataset has %zu features per sample, the "
                          "model's input takes %zu",
                          what, d, model->input_features);
    hood_label_mode mode = hood_dataset_label_mode(ds);
    if (mode == HOOD_LABELS_NONE || hood_dataset_labels(ds) == NULL)
        return hood__fail(HOOD_EINVAL, "%s: the dataset has no labels", what);
    const hood__layer *last = &model->layers[model->num_layers - 1];
    size_t width = hood_dataset_label_width(ds);
    hood_status st = hood__loss_check(model->loss, last->act, last->out, mode, width,
                                      hood_dataset_num_classes(ds));
    if (st != HOOD_OK)
        return hood__fail_prefix(st, "%s: ", what);
    if ((st = hood_dataset_check_finite(ds)) != HOOD_OK)
        return hood__fail_prefix(st, "%s: ", what);
    /* Labels index the output units in the sparse loss: one out of range would read past a
     * column, so every one is checked here, once per call, never in the batch loop. */
    const float *Y = hood_dataset_labels(ds);
    for (size_t j = 0; j < n * width; j++) {
        float y = Y[j];
        if (model->loss == HOOD_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY &&
            (y < 0.0f || y >= (float)last->out || y != floorf(y)))
            return hood__fail(HOOD_EDATA,
                              "%s: sample %zu: label %g is not a class index below %zu (the "
                              "output layer's units)",
                              what, j / width, (double)y, last->out);
        if (model->loss == HOOD_LOSS_BINARY_CROSSENTROPY && (y < 0.0f || y > 1.0f))
            return hood__fail(HOOD_EDATA, "%s: sample %zu: label %g is not in [0, 1]", what,
                              j / width, (double)y);
    }
    return HOOD_OK;
}

hood_status hood__model_evaluate_sums(const hood_model *model, const hood_dataset *data,
                                      size_t batch_size, double *loss_sum, size_t *correct)
{
    hood_status st = check_data(model, data, "evaluate");
    if (st != HOOD_OK)
        return st;
    (void)batch_size; /* the blocks are fixed (INFERENCE_BLOCK) */
    size_t n = hood_dataset_samples(data), width = hood_dataset_label_width(data);
    hood__workspace ws;
    hood__xsource X = hood__dataset_xsource(data);
    float *wide = NULL; /* 8-bit X: one block widened at a time */
    if (X.u8 != NULL && (wide = hood__matrix_alloc(X.rows, hood__inference_block(n))) == NULL)
        return hood__fail(HOOD_ENOMEM, "evaluate: out of memory for a block of %zu samples",
                          hood__inference_block(n));
    hood__model_call_begin(model);
    if ((st = hood__workspace_init(&ws, model, hood__inference_block(n), width, 0)) == HOOD_OK) {
        if (!evaluate_columns(model, &ws, &X, wide, hood_dataset_labels(data), width, n, true,
                              loss_sum, correct))
            st = hood__fail(HOOD_ESTOPPED, "evaluate: interrupted");
        hood__workspace_free(&ws);
    } else {
        hood__fail_prefix(st, "evaluate: ");
    }
    hood__model_call_end(model);
    hood__matrix_free(wide);
    return st;
}

hood_status hood_model_evaluate(const hood_model *model, const hood_dataset *data, size_t batch_size,
                                double *loss, double *accuracy)
{
    hood__clear_error();
    if (model == NULL)
        return hood__fail(HOOD_EINVAL, "evaluate: model is NULL");
    double loss_sum;
    size_t correct;
    hood_status st = hood__model_evaluate_sums(model, data, batch_size, &loss_sum, &correct);
    if (st != HOOD_OK)
        return st;
    size_t n = hood_dataset_samples(data);
    if (loss != NULL)
        *loss = loss_sum / (double)n;
    if (accuracy != NULL)
        *accuracy = (double)correct / (double)n;
    return HOOD_OK;
}

hood_status hood_model_predict(const hood_model *model, const float *x, size_t samples, size_t batch_size,
                               float *out)
{
    hood__clear_error();
    if (model == NULL || x == NULL || out == NULL)
        return hood__fail(HOOD_EINVAL, "predict: NULL argument");
    if (!model->compiled)
        return hood__fail(HOOD_EINVAL,
                          "predict: the model is not compiled; call hood_model_compile first");
    if (samples == 0)
        return hood__fail(HOOD_EINVAL, "predict: no samples (0)");
    size_t d = model->input_features, count;
    if (hood__mul_overflows(d, samples, &count))
        return hood__fail(HOOD_EINVAL, "predict: %zu samples of %zu features overflow", samples, d);
    for (size_t i = 0; i < count; i++)
        if (!isfinite(x[i]))
            return hood__fail(HOOD_EDATA, "predict: sample %zu, feature %zu is %g (not finite)",
                              i / d, i % d, (double)x[i]);
    (void)batch_size; /* the blocks are fixed (INFERENCE_BLOCK) */
    size_t batch = hood__inference_block(samples);
    hood__workspace ws;
    hood__model_call_begin(model);
    hood_status st = hood__workspace_init(&ws, model, batch, 0, 0);
    if (st != HOOD_OK) {
        hood__model_call_end(model);
        return hood__fail_prefix(st, "predict: ");
    }
    size_t units = hood_model_output_units(model);
    for (size_t j = 0; j < samples && st == HOOD_OK; j += batch) {
        size_t B = samples - j < batch ? samples - j : batch;
        if (hood__model_interrupted(model)) {
            st = hood__fail(HOOD_ESTOPPED, "predict: interrupted at sample %zu of %zu", j,
                            samples);
            break;
        }
        hood__pool_step_begin(ws.pool);
        /* the output layer writes straight into the caller's columns j .. j+B */
        forward(model, &ws, out + j * units, false, x + j * d, d, B, false);
        hood__pool_step_end(ws.pool);
    }
    hood__workspace_free(&ws);
    hood__model_call_end(model);
    return st;
}

/* ------------------------------------------------------------------------------------------ */

/* The split of the training data: columns [0, n_train) train, [n_train, n) validate. */
typedef struct split {
    hood__xsource X; /* float columns or 8-bit codes (dataset.h): read through the gather */
    const float *Y;
    size_t n_train, width;
    hood__xsource val_X;
    const float *val_Y;
    size_t n_val, val_width;
    /* Sharded fit: X holds global samples [first, first + n_local_train + ...); n_train counts
     * the GLOBAL training samples (the permutation's length), n_local_train those held here
     * (local columns 0 ..), n_val the validation columns held here and n_val_global all of
     * them; cols receives a batch's local columns. In one process n_local_train = n_train,
     * n_val_global = n_val. */
    const hood_shard *shard;
    size_t first, n_local_train, n_val_global;
    size_t *cols;
    const float *class_weights; /* the fit's class_weight (NULL: none) */
    size_t num_class_weights;
} split;

/* The local columns of the global batch perm[0 .. Bn): in one process perm itself; in a shard
 * the samples of the batch this worker holds (global g -> local g - first), in batch order. */
static const size_t *batch_columns(const split *sp, const size_t *perm, size_t Bn, size_t *k)
{
    if (sp->shard == NULL) {
        *k = Bn;
        return perm;
    }
    size_t m = 0;
    for (size_t i = 0; i < Bn; i++)
        if (perm[i] >= sp->first && perm[i] - sp->first < sp->n_local_train)
            sp->cols[m++] = perm[i] - sp->first;
    *k = m;
    return sp->cols;
}

static hood_status make_split(const hood_model *model, const hood_dataset *train,
                              const hood_fit_options *opts, split *sp)
{
    size_t n = hood_dataset_samples(train);
    memset(sp, 0, sizeof *sp);
    sp->X = hood__dataset_xsource(train);
    sp->Y = hood_dataset_labels(train);
    sp->width = hood_dataset_label_width(train);
    sp->n_train = n;
    if (opts->validation_data != NULL) {
        const hood_dataset *v = opts->validation_data;
        hood_status st = check_data(model, v, "fit: validation data");
        if (st != HOOD_OK)
            return st;
        if (hood_dataset_label_width(v) != sp->width ||
            hood_dataset_label_mode(v) != hood_dataset_label_mode(train))
            return hood__fail(HOOD_ESHAPE,
                              "fit: validation data labels (%zu per sample) do not match the "
                              "training labels (%zu per sample)",
                              hood_dataset_label_width(v), sp->width);
        sp->val_X = hood__dataset_xsource(v);
        sp->val_Y = hood_dataset_labels(v);
        sp->n_val = hood_dataset_samples(v);
        sp->val_width = hood_dataset_label_width(v);
        return HOOD_OK;
    }
    if (opts->shard != NULL) {
        /* The global split, as one process would make it; this worker keeps its part of each. */
        size_t G = opts->shard->global_samples, first = opts->shard->first, Gt = G;
        if (first > G || n > G - first)
            return hood__fail(HOOD_EINVAL,
                              "fit: the shard holds samples [%zu, %zu) of %zu global samples",
                              first, first + n, G);
        if (opts->validation_split > 0.0) {
            double at = ceil((double)G * (1.0 - opts->validation_split));
            Gt = at <= 0.0 ? 0 : at >= (double)G ? G : (size_t)at;
            if (Gt == 0 || Gt == G)
                return hood__fail(HOOD_EINVAL,
                                  "fit: validation_split %g of %zu samples leaves %zu for "
                                  "training and %zu for validation; both must be > 0",
                                  opts->validation_split, G, Gt, G - Gt);
        }
        sp->n_train = Gt;
        sp->n_local_train = first + n <= Gt ? n : first >= Gt ? 0 : Gt - first;
        sp->val_X = hood__xsource_from(sp->X, sp->n_local_train);
        sp->val_Y = sp->Y + sp->n_local_train * sp->width;
        sp->n_val = n - sp->n_local_train;
        sp->val_width = sp->width;
        return HOOD_OK;
    }
    if (opts->validation_split > 0.0) {
        /* Keras: split_at = ceil(n * (1 - split)); the last samples, before any shuffle. */
        double at = ceil((double)n * (1.0 - opts->validation_split));
        size_t n_train = at <= 0.0 ? 0 : at >= (double)n ? n : (size_t)at;
        if (n_train == 0 || n_train == n)
            return hood__fail(HOOD_EINVAL,
                              "fit: validation_split %g of %zu samples leaves %zu for training "
                              "and %zu for validation; both must be > 0",
                              opts->validation_split, n, n_train, n - n_train);
        sp->n_train = n_train;
        sp->val_X = hood__xsource_from(sp->X, n_train);
        sp->val_Y = sp->Y + n_train * sp->width;
        sp->n_val = n - n_train;
        sp->val_width = sp->width;
    }
    return HOOD_OK;
}

static hood_status check_fit_options(const hood_fit_options *o)
{
    if (o->epochs == 0)
        return hood__fail(HOOD_EINVAL, "fit: epochs must be > 0");
    if (o->batch_size == 0)
        return hood__fail(HOOD_EINVAL, "fit: batch_size must be > 0");
    if (!(o->validation_split >= 0.0 && o->validation_split < 1.0))
        return hood__fail(HOOD_EINVAL, "fit: validation_split must be in [0, 1) (got %g)",
                          o->validation_split);
    if (o->early_stopping && (!isfinite(o->min_delta) || o->min_delta < 0.0 ||
                              (unsigned)o->monitor > (unsigned)HOOD_MONITOR_ACCURACY))
        return hood__fail(HOOD_EINVAL, "fit: early stopping: min_delta must be >= 0 and the "
                                       "monitor one of val_loss, loss, val_accuracy, accuracy");
    if (o->num_class_weights > 0 && o->class_weights == NULL)
        return hood__fail(HOOD_EINVAL, "fit: class_weights is NULL with num_class_weights %zu",
                          o->num_class_weights);
    for (size_t c = 0; c < o->num_class_weights; c++)
        if (!(o->class_weights[c] >= 0.0f) || !isfinite(o->class_weights[c]))
            return hood__fail(HOOD_EINVAL, "fit: class weight %zu must be finite and >= 0 (got %g)",
                              c, (double)o->class_weights[c]);
    return HOOD_OK;
}

/* A fit that continues a stopped epoch must batch the same samples the same way. */
static hood_status check_resume(const hood_model *model, const hood_fit_options *o, size_t n_train)
{
    const hood__train_position *p = &model->position;
    if (p->batch > 0 && (p->batch_size != o->batch_size || p->train_samples != n_train ||
                         p->shuffle != o->shuffle || (o->shuffle && p->shuffle_seed != o->seed)))
        return hood__fail(HOOD_EINVAL,
                          "fit: the model stopped inside epoch %zu after batch %zu with "
                          "batch_size %zu, %zu training samples, shuffle %s, seed %llu; continue "
                          "with the same settings",
                          p->epochs_done + 1, p->batch, p->batch_size, p->train_samples,
                          p->shuffle ? "on" : "off", (unsigned long long)p->shuffle_seed);
    /* A position read from a file is checked like any input: its sums must be those of the
     * batches it says are done. */
    size_t num_batches = (n_train + o->batch_size - 1) / o->batch_size;
    if (p->batch > 0 &&
        (p->batch > num_batches || p->correct > p->samples ||
         p->samples != (p->batch == num_batches ? n_train : p->batch * o->batch_size)))
        return hood__fail(HOOD_EINVAL,
                          "fit: the saved training position (batch %zu, %zu samples) does not "
                          "fit %zu samples in batches of %zu",
                          p->batch, p->samples, n_train, o->batch_size);
    return HOOD_OK;
}

/* The epoch's sample order in ws->perm[0 .. n): a permutation from a stream per epoch (a
 * resumed run draws the same order as an uninterrupted one), or 0 .. n-1 without shuffle. */
static void epoch_order(hood__workspace *ws, const hood_fit_options *opts, size_t n, size_t epoch)
{
    if (opts->shuffle) {
        hood_rng rng;
        hood__rng_seed_stream(&rng, opts->seed, (uint64_t)epoch);
        hood__rng_permutation(&rng, ws->perm, n);
    } else {
        for (size_t j = 0; j < n; j++)
            ws->perm[j] = j;
    }
}

/* What one training batch went through, for the position's sums and the messages. */
typedef struct batch_run {
    size_t epoch, b, num_batches;
    size_t Bn; /* the global batch's samples */
    double loss;
    size_t correct;
    double t[5]; /* start, gathered, forward and loss done, gradients done, updated */
    const float *X, *Y; /* the batch's inputs and labels (ld = features, label width) */
} batch_run;

/* The batch's gradient: gather, forward, loss (dZ scaled by the global batch size) and, in a
 * shard, backward and the step's all-reduce; in one process backward is left to batch_update,
 * which folds plain SGD into it. HOOD_EDIVERGED (with its message) when the loss is not finite
 * here or on any worker. */
static hood_status batch_gradient(hood_model *model, const split *sp, hood__workspace *ws,
                                  const size_t *perm, batch_run *r)
{
    const size_t L = model->num_layers, d = model->input_features, width = sp->width;
    const hood__layer *last = &model->layers[L - 1];
    size_t k; /* samples of the batch held here: Bn in one process */
    const size_t *cols = batch_columns(sp, perm, r->Bn, &k);
    r->t[0] = now_seconds();
    /* One batch of every training sample (one process) reads X in place, in storage order
     * (hood.h, Determinism): no copy of float X, one widening pass of 8-bit X
     * (docs/performance.md). */
    bool whole = sp->shard == NULL && k == sp->n_train;
    if (whole && !ws->Xb_whole) {
        r->X = hood__xsource_columns(&sp->X, 0, k, ws->Xb);
        ws->Xb_whole = r->X == ws->Xb; /* widened: the same columns every epoch */
    } else {
        r->X = ws->Xb;
    }
    r->Y = whole ? sp->Y : ws->Yb;
    if (!whole) {
        ws->Xb_whole = false;
        /* Xb (d x k), Yb (width x k) = the batch's columns, in permutation order */
        hood__xsource_gather_pool(ws->pool, ws->Xb, &sp->X, cols, k);
        hood__matrix_gather_cols(ws->Yb, sp->Y, width, cols, k);
    }
    r->t[1] = now_seconds();
    r->loss = 0.0;
    r->correct = 0;
    if (k > 0) {
        forward(model, ws, NULL, true, r->X, d, k, true);
        /* dZ_L (units x k) = d(batch mean loss)/dZ: scale by the (global) batch size */
        hood__loss_batch_weighted(model->loss, last->act, ws->Z, ws->A[L - 1], r->Y, width,
                                  last->out, k, (float)r->Bn, ws->d[0], &r->loss, &r->correct,
                                  sp->class_weights, sp->num_class_weights);
    }
    r->t[2] = now_seconds();
    if (sp->shard == NULL) {
        if (isfinite(r->loss))
            return HOOD_OK;
        return hood__fail(HOOD_EDIVERGED,
                          "training diverged at epoch %zu, batch %zu of %zu: loss is %s; try a "
                          "lower learning rate",
                          r->epoch + 1, r->b + 1, r->num_batches, isnan(r->loss) ? "nan" : "inf");
    }
    if (k > 0)
        backward(model, ws, r->X, d, k);
    else
        memset(model->grads, 0, model->num_params * sizeof(float));
    hood_status st = hood__shard_step(sp->shard, model->grads, model->num_params, k, r->Bn,
                                      &r->loss, &r->correct);
    if (st == HOOD_EDIVERGED)
        return hood__fail(st,
                          "training diverged at epoch %zu, batch %zu of %zu: the loss is not "
                          "finite on %s; try a lower learning rate",
                          r->epoch + 1, r->b + 1, r->num_batches,
                          isfinite(r->loss) ? "another worker" : "this worker");
    if (st != HOOD_OK)
        return hood__fail_prefix(st, "fit: epoch %zu, batch %zu: ", r->epoch + 1, r->b + 1);
    return HOOD_OK;
}

/* max |x| over the fit's training inputs: 8-bit codes widen to at most 255 / divisor. */
static float train_x_max(const split *sp)
{
    if (sp->X.u8 != NULL)
        return 255.0f / sp->X.divisor;
    return hood__optimizer_abs_max(sp->X.f, sp->X.rows * sp->n_local_train);
}

/* The batch's update after batch_gradient: backward in one process, then the optimizer step.
 * In place when hood__optimizer_safe proves every new value finite from the arena's maxima
 * (model->step_bounds, measured by the previous step) and a bound on the gradients; else into
 * the other pair of arenas, made current only when every new value is finite (a refused step
 * leaves the weights of before this batch: HOOD_EDIVERGED). Both give the same bits. */
static hood_status batch_update(hood_model *model, const split *sp, hood__workspace *ws, batch_run *r)
{
    /* In one process the first kernel's step is fused into its gradient's product (a narrow
     * layer, any rule; else plain SGD: backward_fold); the optimizer steps the rest. */
    const hood__layer *first = &model->layers[0];
    bool fold = sp->shard == NULL && first->kind == HOOD_LAYER_DENSE &&
                (hood__dense_fuses_step(first) ||
                 (model->opt.kind == HOOD_OPT_SGD && model->opt.momentum <= 0.0f));
    bool fused = fold && hood__dense_fuses_step(first);
    size_t skip = fold ? first->in * first->out : 0;
    hood__step_bounds *sb = &model->step_bounds;
    step_plan plan = {.in_place = false};
    if (fused && sb->valid && sb->x_max < 0.0f)
        sb->x_max = train_x_max(sp); /* once per fit */
    bool folded_ok = true;
    if (sp->shard == NULL)
        folded_ok = backward_fold(model, ws, r->X, model->input_features, r->Bn, fold, &plan);
    r->t[3] = now_seconds();
    if (!fold) /* the gradients' bound: one read of them */
        plan_step(model, hood__optimizer_abs_max(model->grads, model->num_params), &plan);
    /* the state's slot s of parameter i is at s * num_params + i, whatever is skipped */
    float *params_out = plan.in_place ? model->params : model->params_next;
    float *state_out = plan.in_place ? model->opt_state : model->opt_state_next;
    const float *state = model->opt_state != NULL ? model->opt_state + skip : NULL;
    if (!folded_ok ||
        !hood__optimizer_step_max(ws->pool, &model->opt, model->opt_step, model->params + skip,
                                  model->grads + skip, state, params_out + skip,
                                  state_out != NULL ? state_out + skip : NULL, model->num_params,
                                  model->num_params - skip, &plan.max)) {
        /* only the out-of-place step refuses (in place is proved finite and checks nothing):
         * the arenas, and so their bounds, are those of before this batch */
        return hood__fail(HOOD_EDIVERGED,
                          "training diverged at epoch %zu, batch %zu of %zu: a gradient or "
                          "updated weight is not finite (loss %g); try a lower learning rate",
                          r->epoch + 1, r->b + 1, r->num_batches, r->loss / (double)r->Bn);
    }
    model->opt_step++;
    if (!plan.in_place)
        hood__model_swap_arenas(model);
    /* plain SGD folded into a wide first layer's sgemm measures no maxima */
    sb->valid = fused || !fold;
    sb->max = plan.in_place ? plan.next : plan.max;
    r->t[4] = now_seconds();
    return HOOD_OK;
}

/* One training batch, its sums into the model's position, then the batch callback
 * (HOOD_ESTOPPED when it asks to stop). */
static hood_status train_batch(hood_model *model, const hood_fit_options *opts, const split *sp,
                               hood__workspace *ws, batch_run *r, double epoch_start)
{
    hood__train_position *pos = &model->position;
    const size_t first = r->b * opts->batch_size, n = sp->n_train;
    r->Bn = n - first < opts->batch_size ? n - first : opts->batch_size;
    /* the pool's adaptive policy times each step (parallel.h) */
    hood__pool_step_begin(ws->pool);
    hood_status st = batch_gradient(model, sp, ws, ws->perm + first, r);
    if (st == HOOD_OK)
        st = batch_update(model, sp, ws, r);
    if (st != HOOD_OK)
        return st;
    hood__pool_step_end(ws->pool);

    pos->batch = r->b + 1;
    pos->samples += r->Bn;
    pos->correct += r->correct;
    pos->loss_sum += r->loss;
    pos->gather_seconds += r->t[1] - r->t[0];
    pos->forward_seconds += r->t[2] - r->t[1];
    pos->backward_seconds += r->t[3] - r->t[2];
    pos->update_seconds += r->t[4] - r->t[3];
    if (opts->on_batch_end != NULL &&
        opts->on_batch_end(opts->user, r->epoch, r->b, r->num_batches,
                           pos->loss_sum / (double)pos->samples,
                           (double)pos->correct / (double)pos->samples) != 0) {
        pos->seconds += now_seconds() - epoch_start;
        return hood__fail(HOOD_ESTOPPED,
                          "fit: stopped by the batch callback at epoch %zu, batch %zu of %zu",
                          r->epoch + 1, r->b + 1, r->num_batches);
    }
    return HOOD_OK;
}

/* The epoch's validation loss and accuracy into log (over all workers in a shard), in the
 * inference blocks evaluate uses, so that it gives the same numbers. */
static hood_status epoch_validation(hood_model *model, const split *sp, hood__workspace *ws,
                                    hood_epoch_log *log)
{
    double val_loss_sum = 0.0;
    size_t val_correct = 0;
    /* ws->Xb holds hood__inference_block(n_val) columns (fit_checked sizes it), idle here */
    ws->Xb_whole = ws->Xb_whole && sp->n_val == 0;
    if (sp->n_val > 0 && !evaluate_columns(model, ws, &sp->val_X, ws->Xb, sp->val_Y,
                                           sp->val_width, sp->n_val, false, &val_loss_sum,
                                           &val_correct))
        return hood__fail(HOOD_ESTOPPED, "fit: interrupted during validation");
    if (sp->shard != NULL) {
        hood_status st =
            hood__shard_sum_validation(sp->shard, sp->n_val, &val_loss_sum, &val_correct);
        if (st != HOOD_OK)
            return st;
    }
    log->has_validation = true;
    log->val_loss = val_loss_sum / (double)sp->n_val_global;
    log->val_accuracy = (double)val_correct / (double)sp->n_val_global;
    return HOOD_OK;
}

/* The end of an epoch: its log (with validation) into the history, the position at the next
 * epoch, then early stopping and the epoch callback (*stop). */
static hood_status epoch_end(hood_model *model, const hood_fit_options *opts, const split *sp,
                             hood__workspace *ws, hood__early_stop *es, size_t epoch, size_t first_epoch,
                             double epoch_start, bool *stop)
{
    hood__train_position *pos = &model->position;
    hood_epoch_log log = {
        .epoch = epoch,
        .loss = pos->loss_sum / (double)pos->samples,
        .accuracy = (double)pos->correct / (double)pos->samples,
        .samples = pos->samples,
        .gather_seconds = pos->gather_seconds,
        .forward_seconds = pos->forward_seconds,
        .backward_seconds = pos->backward_seconds,
        .update_seconds = pos->update_seconds,
    };
    hood_status st;
    if (sp->n_val_global > 0 &&
        (st = epoch_validation(model, sp, ws, &log)) != HOOD_OK)
        return st;
    log.seconds = pos->seconds + (now_seconds() - epoch_start);
    if ((st = hood__model_push_history(model, &log)) != HOOD_OK)
        return st;
    memset(pos, 0, sizeof *pos);
    pos->epochs_done = epoch + 1;

    *stop = es->enabled && hood__early_stop_update(es, model, &log, epoch - first_epoch);
    if (opts->on_epoch_end != NULL &&
        opts->on_epoch_end(opts->user, model, &model->history[model->history_length - 1]) != 0)
        *stop = true;
    return HOOD_OK;
}

/* The training loop proper, with the workspace and early-stopping buffers owned by the
 * caller. */
static hood_status fit_loop(hood_model *model, const hood_fit_options *opts, const split *sp,
                            hood__workspace *ws, hood__early_stop *es)
{
    const size_t n = sp->n_train, B = opts->batch_size;
    const size_t num_batches = (n + B - 1) / B;
    hood__train_position *pos = &model->position;
    const size_t first_epoch = pos->epochs_done, end_epoch = first_epoch + opts->epochs;
    /* the in-place step's knowledge starts anew: the weights may have been set since */
    model->step_bounds = (hood__step_bounds){.valid = false, .x_max = -1.0f};

    for (size_t epoch = first_epoch; epoch < end_epoch; epoch++) {
        double epoch_start = now_seconds();
        epoch_order(ws, opts, n, epoch);
        if (pos->batch == 0) {
            pos->batch_size = B;
            pos->train_samples = n;
            pos->shuffle = opts->shuffle;
            pos->shuffle_seed = opts->seed;
        }
        for (size_t b = pos->batch; b < num_batches; b++) {
            if (hood__model_interrupted(model)) {
                /* hood_model_interrupt: the position holds every finished batch, so the next
                 * fit resumes here as after a batch callback's stop. */
                pos->seconds += now_seconds() - epoch_start;
                return hood__fail(HOOD_ESTOPPED, "fit: interrupted at epoch %zu, batch %zu of %zu",
                                  epoch + 1, b + 1, num_batches);
            }
            batch_run r = {.epoch = epoch, .b = b, .num_batches = num_batches};
            hood_status st = train_batch(model, opts, sp, ws, &r, epoch_start);
            if (st != HOOD_OK)
                return st;
        }
        bool stop = false;
        hood_status st = epoch_end(model, opts, sp, ws, es, epoch, first_epoch, epoch_start, &stop);
        if (opts->on_epoch_end != NULL)
            hood__model_arenas_written(model); /* it may have changed the weights */
        if (st != HOOD_OK || stop)
            return st;
    }
    return HOOD_OK;
}

static hood_status fit_checked(hood_model *model, const hood_dataset *train,
                               const hood_fit_options *opts)
{
    const hood_shard *shard = opts->shard;
    if (shard != NULL && shard->allreduce == NULL)
        return hood__fail(HOOD_EINVAL, "fit: the shard has no all-reduce function");
    split sp;
    memset(&sp, 0, sizeof sp);
    hood_status st = check_data(model, train, "fit");
    if (st == HOOD_OK && (st = check_fit_options(opts)) == HOOD_OK)
        st = make_split(model, train, opts, &sp);
    sp.class_weights = opts->num_class_weights > 0 ? opts->class_weights : NULL;
    sp.num_class_weights = opts->num_class_weights;
    if (shard == NULL) {
        sp.n_local_train = sp.n_train;
        sp.n_val_global = sp.n_val;
    } else {
        /* Every worker joins the handshake, even one whose checks failed, so none waits. */
        sp.shard = shard;
        sp.first = shard->first;
        if (st == HOOD_OK && opts->validation_data != NULL) {
            sp.n_local_train = sp.n_train;
            sp.n_train = shard->global_samples;
        }
        st = hood__shard_handshake(shard, st, sp.n_local_train, sp.n_val, sp.n_train,
                                   &sp.n_val_global);
    }
    if (st != HOOD_OK || (st = check_resume(model, opts, sp.n_train)) != HOOD_OK)
        return st;

    /* Buffers for the largest batch either phase runs: training batches are at most
     * min(batch_size, n_train) columns, validation blocks hood__inference_block(n_val) (the columns
     * held here, in a shard). */
    size_t ws_batch = opts->batch_size < sp.n_local_train ? opts->batch_size : sp.n_local_train;
    if (hood__inference_block(sp.n_val) > ws_batch)
        ws_batch = hood__inference_block(sp.n_val);
    if (ws_batch == 0)
        ws_batch = 1;
    hood__workspace ws;
    if ((st = hood__workspace_init(&ws, model, ws_batch, sp.width, sp.n_train)) != HOOD_OK)
        return hood__fail_prefix(st, "fit: ");
    if (shard != NULL && (sp.cols = malloc(ws_batch * sizeof *sp.cols)) == NULL) {
        hood__workspace_free(&ws);
        return hood__fail(HOOD_ENOMEM, "fit: out of memory for a batch's columns");
    }

    hood__early_stop es;
    if ((st = hood__early_stop_init(&es, model, opts)) != HOOD_OK) {
        hood__workspace_free(&ws);
        return st;
    }
    size_t epochs_before = model->position.epochs_done;
    hood__fit_record_start(model, opts);
    st = fit_loop(model, opts, &sp, &ws, &es);
    if (st == HOOD_OK)
        hood__early_stop_finish(&es, model, model->position.epochs_done - epochs_before);
    hood__early_stop_free(&es);
    free(sp.cols);
    hood__workspace_free(&ws);
    return st;
}

hood_status hood_model_fit(hood_model *model, const hood_dataset *train,
                           const hood_fit_options *opts)
{
    hood__clear_error();
    if (model == NULL || opts == NULL)
        return hood__fail(HOOD_EINVAL, "fit: NULL argument");
    model->optimizer_dropped = false; /* the optimizer keeps state again from this fit on */
    hood_fit_options o;
    hood_status st = hood__fit_options_read(&o, opts, "fit");
    if (st != HOOD_OK)
        return st;
    hood__model_call_begin(model);
    st = fit_checked(model, train, &o);
    hood__model_call_end(model);
    return st;
}
