/* model.h — the inside of hood_model, for the rooms that need it: train.c (fit/evaluate/
 * predict), io/model_file.c and io/weights.c. Not public API; users see only include/hood.h. */
#ifndef HOOD_MODEL_H
#define HOOD_MODEL_H

#include "dense.h"
#include "hood.h"
#include "layer.h"

#include <stdatomic.h>
#include <stdint.h>

/* Where training stands: whole epochs done, and inside a stopped epoch the batches done and the
 * epoch's running sums, so the next fit finishes that epoch exactly as an uninterrupted run. */
typedef struct hood__train_position {
    size_t epochs_done;
    size_t batch; /* batches of epoch `epochs_done` already trained (0: at an epoch boundary) */
    /* The stopped epoch's batching, so a resume with different settings is refused rather than
     * silently training other samples (meaningful only when batch > 0). */
    size_t batch_size, train_samples;
    bool shuffle;
    uint64_t shuffle_seed;
    size_t samples, correct;
    double loss_sum; /* sum over the epoch's samples so far of the per-sample loss */
    double seconds, gather_seconds, forward_seconds, backward_seconds, update_seconds;
} hood__train_position;

/* What the in-place optimizer step knows (train.c batch_update): while `valid`, `max` bounds
 * |params| and each |opt_state| slot (the maxima the last step wrote); x_max bounds |x| over
 * the fit's training inputs (< 0: not measured yet). Reset at each fit's start and after an
 * epoch callback, which may change the weights. */
typedef struct hood__step_bounds {
    bool valid;
    hood__arena_max max;
    float x_max;
} hood__step_bounds;

/* Floats after the gradients in model->grads: a sharded fit stages the step's loss sum, counts
 * and failure flag there, so one all-reduce over num_params + HOOD__GRAD_EXTRAS floats sums
 * everything a step needs (train.c). */
enum { HOOD__GRAD_EXTRAS = 16 };

struct hood_model {
    size_t input_features;
    /* The input's image shape (hood_model_set_input_shape / set_preprocess); a flat vector of
     * input_features values while input_image is false. */
    bool input_image;
    size_t input_h, input_w, input_c;
    size_t num_layers, layers_capacity;
    hood__layer *layers;     /* W, b, dW, db, state are views into the arenas below once
                                compiled; each layer's shapes are resolved when it is added */
    hood_initializer *inits; /* per layer */

    bool compiled;
    hood_loss loss;
    hood_optimizer_config opt;
    uint64_t seed; /* of the last compile */
    int threads;

    /* One block each, carved per layer in order [W_0, b_0, W_1, b_1, ...] (llm.c style), so the
     * optimizer step is one loop and zeroing the gradients one memset. */
    size_t num_params;
    float *params, *grads;
    size_t opt_slots; /* state arrays of num_params floats each (see optimizer.h) */
    float *opt_state; /* opt_slots * num_params floats, zero before the first step */
    /* Where the next optimizer step writes when it is not proved finite beforehand (train.c
     * batch_update, step_bounds): the step goes from (params, opt_state) to these, and only
     * when every new value is finite are the pairs swapped, so a diverging step costs nothing
     * to undo. A step proved finite writes params and opt_state in place. Contents are scratch
     * between steps. */
    float *params_next, *opt_state_next;
    uint64_t opt_step; /* Keras' `iterations`: updates applied so far */
    hood__step_bounds step_bounds;
    /* Non-trainable values (batchnorm's moving statistics), carved per layer like the
     * parameters; fit updates them in forward, never through the optimizer. */
    size_t num_state;
    float *state;

    hood__train_position position;
    hood_epoch_log *history;
    size_t history_length, history_capacity;

    bool has_preprocess;
    hood_preprocess preprocess;
    char **class_names;
    size_t num_classes;

    bool has_fit_record; /* fit_record was set (or read from a file) */
    /* The optimizer state was dropped (hood_model_drop_optimizer_state, or a file saved so): it
     * is zero, the step 0, and a save writes none of it; the next fit clears the mark. */
    bool optimizer_dropped;
    hood_fit_record fit_record;

    /* Control, not content: the only fields a call on a const model writes (train.c). The
     * interrupt request (hood_model_interrupt, async-signal-safe), and how many fit/evaluate/
     * predict calls are running, so the last one to return clears the request. */
    atomic_int interrupt;
    atomic_int running;
};

/* Appends a layer whose settings (kind, units, window, rate, ...) are filled in: resolves its
 * shapes from the previous layer's output (HOOD_ESHAPE naming the layer when they do not fit). */
hood_status hood__model_add_layer(hood_model *model, const hood__layer *layer);
/* Offset of layer i's kernel in the arenas (its bias follows the kernel). */
size_t hood__model_layer_offset(const hood_model *model, size_t layer);
/* Compile without drawing weights: allocates the arenas (params zeroed) and fixes loss and
 * optimizer; used by compile and by the model-file loader, which fills the arenas itself. */
hood_status hood__model_compile_raw(hood_model *model, hood_loss loss,
                                    const hood_optimizer_config *opt, uint64_t seed);
/* Makes the step's output arenas current (swaps params/params_next and the optimizer state
 * pair) and re-points the layers' W and b views. */
void hood__model_swap_arenas(hood_model *model);
/* The weights or optimizer state were written from outside a step (a setter, a file, a
 * callback's call): the next step is guarded again, whatever the carried bounds said. */
void hood__model_arenas_written(hood_model *model);
/* Appends one epoch log to the history (grows it geometrically). */
hood_status hood__model_push_history(hood_model *model, const hood_epoch_log *log);
/* One batch's forward, loss and backward without an update: the model's gradient arena gets
 * d(sum of per-sample losses)/dparams / scale for X (features x batch) and Y (label_width x
 * batch); *loss_sum += the batch's loss sum. For tests (batch invariance, gradient checks). */
hood_status hood__model_batch_gradient(hood_model *model, const float *X, const float *Y,
                                       size_t label_width, size_t batch, float scale,
                                       double *loss_sum);
/* evaluate's sums over the whole dataset (checked as evaluate checks it): the per-sample
 * losses added in sample order (the same bits at any batch_size, 0 meaning 32, given the same
 * forward outputs) and the samples predicted right. For evaluate and the sharded evaluate. */
hood_status hood__model_evaluate_sums(const hood_model *model, const hood_dataset *data,
                                      size_t batch_size, double *loss_sum, size_t *correct);
/* A fit/evaluate/predict begins and ends on model (counts it; the end clears an interrupt
 * request once no call runs); whether an interrupt was requested (train.c). */
void hood__model_call_begin(const hood_model *model);
void hood__model_call_end(const hood_model *model);
bool hood__model_interrupted(const hood_model *model);
/* Whether every parameter (and optimizer state value) is finite. */
bool hood__model_params_finite(const hood_model *model);

#endif
