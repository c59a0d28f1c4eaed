/* shard.h — the data-parallel protocol (hood_shard): what the workers of a sharded fit or
 * evaluate exchange in their all-reduces and how each reads the sums back. train.c runs the fit
 * and decides when; this room only packs, reduces and checks. Not public API. */
#ifndef HOOD_SHARD_H
#define HOOD_SHARD_H

#include "hood.h"

#include <stddef.h>

/* Before a sharded fit's first step every worker says, in one all-reduce, whether its checks
 * passed (local) and how many training (n_local_train) and validation (n_val) samples it
 * holds: a failed worker makes every worker return (it with its own status, the others
 * HOOD_EMPI), and shards that do not add up to n_train (the global training samples) are
 * refused alike everywhere. On success *n_val_global = the validation samples of all workers. */
hood_status hood__shard_handshake(const hood_shard *shard, hood_status local, size_t n_local_train,
                                  size_t n_val, size_t n_train, size_t *n_val_global);
/* One step's ONE all-reduce, after this worker wrote the gradient of its k samples of a global
 * batch of Bn into grads[0 .. num_params) (zeros when k == 0): the step's loss sum, correct
 * count, k and a divergence flag are staged after the gradients (model.h's HOOD__GRAD_EXTRAS)
 * and everything is summed at once, so every worker holds the global batch's gradient and
 * sums (*loss, *correct) and sees any worker's divergence at the same step. HOOD_EDIVERGED
 * (message left to the caller; *loss is then this worker's own, so the caller can say which
 * worker), HOOD_EMPI when the workers hold other than Bn samples, or the all-reduce's status. */
hood_status hood__shard_step(const hood_shard *shard, float *grads, size_t num_params, size_t k,
                             size_t Bn, double *loss, size_t *correct);
/* A validation pass's loss sum and correct count over n_val local samples, summed in place
 * over all workers. */
hood_status hood__shard_sum_validation(const hood_shard *shard, size_t n_val, double *loss_sum,
                                       size_t *correct);

#endif
