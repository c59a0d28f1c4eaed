/* shard.c — the data-parallel protocol of hood_shard: the fit's handshake before its first
 * step, the ONE all-reduce per step (gradients with the step's sums and failure flag behind
 * them), the validation sums, and the sharded evaluate. It never multiplies or sequences a
 * fit (train.c does) and never links MPI: the all-reduce is the caller's callback. */
#include "shard.h"

#include "error.h"
#include "model.h"

#include <math.h>
#include <stdbool.h>

/* What one all-reduce carries besides the gradients:
 * A step's (or an evaluation's) loss sum, correct count, sample count and a failure flag, as
 * floats summed exactly by a float all-reduce: the loss as a float pair (hi + lo keeps ~48 bits
 * of the double), counts as three 12-bit limbs (sums of up to 4096 workers stay below 2^24, so
 * exact), counts per worker below 2^36. */
enum {
    SUM_LOSS_HI,
    SUM_LOSS_LO,
    SUM_CORRECT,
    SUM_COUNT = SUM_CORRECT + 3,
    SUM_FAILED = SUM_COUNT + 3,
    SUM_FLOATS
};

static void limbs_put(float *v, size_t n)
{
    v[0] = (float)((n >> 24) & 4095u);
    v[1] = (float)((n >> 12) & 4095u);
    v[2] = (float)(n & 4095u);
}

static size_t limbs_get(const float *v)
{
    return ((size_t)v[0] << 24) + ((size_t)v[1] << 12) + (size_t)v[2];
}

static void sums_put(float *v, double loss, size_t correct, size_t count, bool failed)
{
    float hi = (float)loss;
    v[SUM_LOSS_HI] = hi;
    v[SUM_LOSS_LO] = (float)(loss - (double)hi);
    limbs_put(v + SUM_CORRECT, correct);
    limbs_put(v + SUM_COUNT, count);
    v[SUM_FAILED] = failed ? 1.0f : 0.0f;
}

static void sums_get(const float *v, double *loss, size_t *correct, size_t *count, bool *failed)
{
    *loss = (double)v[SUM_LOSS_HI] + (double)v[SUM_LOSS_LO];
    *correct = limbs_get(v + SUM_CORRECT);
    *count = limbs_get(v + SUM_COUNT);
    *failed = v[SUM_FAILED] != 0.0f;
}

static hood_status shard_allreduce(const hood_shard *shard, float *v, size_t count,
                                   const char *what)
{
    hood_status st = shard->allreduce(shard->user, v, count);
    if (st != HOOD_OK)
        return hood__fail(st, "%s: the all-reduce of %zu floats failed (%s)", what, count,
                          hood_strerror(st));
    return HOOD_OK;
}

_Static_assert((int)SUM_FLOATS <= (int)HOOD__GRAD_EXTRAS,
               "a step's sums must fit behind the gradients");

hood_status hood__shard_handshake(const hood_shard *shard, hood_status local, size_t n_local_train,
                                  size_t n_val, size_t n_train, size_t *n_val_global)
{
    float v[SUM_FLOATS];
    bool ok = local == HOOD_OK;
    /* the correct and count slots carry the training and validation samples held here */
    sums_put(v, 0.0, ok ? n_local_train : 0, ok ? n_val : 0, !ok);
    hood_status st = shard_allreduce(shard, v, SUM_FLOATS, "fit");
    if (st != HOOD_OK || !ok)
        return st != HOOD_OK ? st : local;
    double unused;
    size_t all_train, all_val;
    bool failed;
    sums_get(v, &unused, &all_train, &all_val, &failed);
    if (failed)
        return hood__fail(HOOD_EMPI, "fit: another worker failed (its message says why)");
    if (all_train != n_train)
        return hood__fail(HOOD_EMPI,
                          "fit: the workers hold %zu training samples in all, one process would "
                          "train on %zu (global_samples %zu)",
                          all_train, n_train, shard->global_samples);
    *n_val_global = all_val;
    return HOOD_OK;
}

hood_status hood__shard_step(const hood_shard *shard, float *grads, size_t num_params, size_t k,
                             size_t Bn, double *loss, size_t *correct)
{
    float *extra = grads + num_params;
    bool diverged = !isfinite(*loss);
    sums_put(extra, *loss, *correct, k, diverged);
    hood_status st = shard_allreduce(shard, grads, num_params + SUM_FLOATS, "gradients");
    if (st != HOOD_OK)
        return st;
    size_t count;
    bool failed;
    double local_loss = *loss;
    sums_get(extra, loss, correct, &count, &failed);
    if (failed || !isfinite(*loss)) {
        *loss = local_loss; /* the caller names which worker diverged */
        return HOOD_EDIVERGED;
    }
    if (count != Bn)
        return hood__fail(HOOD_EMPI,
                          "the workers hold %zu of the batch's %zu samples: their shards do not "
                          "tile the data (same file list, split and shard count everywhere?)",
                          count, Bn);
    return HOOD_OK;
}

hood_status hood__shard_sum_validation(const hood_shard *shard, size_t n_val, double *loss_sum,
                                       size_t *correct)
{
    float v[SUM_FLOATS];
    size_t count;
    bool failed;
    sums_put(v, *loss_sum, *correct, n_val, false);
    hood_status st = shard_allreduce(shard, v, SUM_FLOATS, "fit: validation");
    if (st != HOOD_OK)
        return st;
    sums_get(v, loss_sum, correct, &count, &failed);
    return HOOD_OK;
}

hood_status hood_model_evaluate_shard(hood_model *model, const hood_dataset *data,
                                      size_t batch_size, const hood_shard *shard, double *loss,
                                      double *accuracy)
{
    hood__clear_error();
    if (model == NULL || shard == NULL || shard->allreduce == NULL)
        return hood__fail(HOOD_EINVAL, "evaluate: model, shard and its all-reduce are needed");
    /* A local failure still joins the one all-reduce (as a flag), so no worker waits for it. */
    double loss_sum = 0.0;
    size_t correct = 0, n = 0;
    hood_status st = hood__model_evaluate_sums(model, data, batch_size, &loss_sum, &correct);
    if (st == HOOD_OK)
        n = hood_dataset_samples(data);
    float v[SUM_FLOATS];
    sums_put(v, loss_sum, correct, n, st != HOOD_OK);
    hood_status rs = shard_allreduce(shard, v, SUM_FLOATS, "evaluate");
    if (rs != HOOD_OK || st != HOOD_OK)
        return rs != HOOD_OK ? rs : st;
    bool failed;
    sums_get(v, &loss_sum, &correct, &n, &failed);
    if (failed)
        return hood__fail(HOOD_EMPI, "evaluate: another worker failed (its message says why)");
    if (n != shard->global_samples)
        return hood__fail(HOOD_EMPI,
                          "evaluate: the workers hold %zu samples in all, the shard says %zu", n,
                          shard->global_samples);
    if (loss != NULL)
        *loss = loss_sum / (double)n;
    if (accuracy != NULL)
        *accuracy = (double)correct / (double)n;
    return HOOD_OK;
}
