/* hood_mpi.c — the `hood` command under mpirun: MPI_Init/Finalize, rank and size, stdout of
 * rank 0 only, MPI_Abort when any rank fails (so no rank waits for ever in a collective), rank
 * 0's weights broadcast, and hood_shard's all-reduce (ranks_sum.c: a shared-memory sum on one
 * node, else MPI_Iallreduce; both wait without spinning). Not the training: that is hood_model_fit
 * with a hood_shard (engine/train.c). Built only with -Dmpi. */
#include "hood_mpi.h"

#include "common.h"
#include "ranks_sum.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The process's place in the job: set once by cli_mpi_init, read-only afterwards. */
static int mpi_rank, mpi_size = 1;
static bool mpi_started;

/* The step's sum over the ranks (ranks_sum.h), set up by cli_mpi_prepare. */
static ranks_sum *rank_sum;

void cli_mpi_init(int *argc, char ***argv)
{
    /* Only under a launcher: a plain `hood` run never starts MPI (a singleton MPI_Init costs
     * time and opens sockets for nothing). */
    if (getenv("OMPI_COMM_WORLD_SIZE") == NULL && getenv("PMI_SIZE") == NULL &&
        getenv("PMIX_RANK") == NULL)
        return;
    ranks_sum_prefer_ring();
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "hood: MPI_Init failed\n");
        exit(CLI_FAIL);
    }
    mpi_started = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    /* Every rank computes the same history; rank 0 alone prints it. Errors stay on stderr,
     * from the rank that met them. */
    if (mpi_rank != 0 && freopen("/dev/null", "w", stdout) == NULL) {
        fprintf(stderr, "hood: rank %d: cannot send stdout to /dev/null\n", mpi_rank);
        MPI_Abort(MPI_COMM_WORLD, CLI_FAIL);
    }
}

int cli_mpi_finish(int status)
{
    if (!mpi_started)
        return status;
    if (status != CLI_OK && mpi_size > 1) {
        fprintf(stderr, "hood: rank %d of %d failed (exit status %d); stopping every rank\n",
                mpi_rank, mpi_size, status);
        fflush(stdout);
        /* Let the other failing ranks' messages reach mpirun before the job is torn down. */
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
        MPI_Abort(MPI_COMM_WORLD, status);
    }
    ranks_sum_free(rank_sum);
    rank_sum = NULL;
    MPI_Finalize();
    return status;
}

bool cli_mpi_active(void)
{
    return mpi_started && mpi_size > 1;
}

int cli_mpi_rank(void)
{
    return mpi_rank;
}

void cli_mpi_shard_ingest(hood_ingest_options *in)
{
    if (!cli_mpi_active())
        return;
    in->shard_index = (size_t)mpi_rank;
    in->shard_count = (size_t)mpi_size;
}

/* hood_allreduce_fn: sum in place over every rank. MPI's default error handler aborts the job
 * on a transport failure, so a non-OK return is only for the error codes MPI does hand back. */
static hood_status allreduce(void *user, float *values, size_t count)
{
    (void)user;
    return ranks_sum_values(rank_sum, values, count) == MPI_SUCCESS ? HOOD_OK : HOOD_EMPI;
}

/* Rank 0's values of one kernel or bias into every rank's buffer. */
static bool bcast(float *buf, size_t count)
{
    while (count > 0) {
        int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        if (MPI_Bcast(buf, n, MPI_FLOAT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return false;
        buf += n;
        count -= (size_t)n;
    }
    return true;
}

int cli_mpi_prepare(const char *cmd, hood_model *model, const hood_dataset *train,
                    hood_shard *shard)
{
    /* Same seed gives the same weights on every rank already; the broadcast makes it so
     * whatever the ranks read (an --init-weights file, a checkpoint) and says so in code. */
    size_t in = hood_model_input_features(model), most = 0;
    for (size_t l = 0; l < hood_model_num_layers(model); l++) {
        size_t out = hood_model_layer_units(model, l);
        if (in * out > most)
            most = in * out;
        in = out;
    }
    float *buf = malloc((most > 0 ? most : 1) * sizeof *buf);
    if (buf == NULL)
        return cli_fail(cmd, "out of memory for the weights broadcast");
    hood_status st = HOOD_OK;
    in = hood_model_input_features(model);
    for (size_t l = 0; st == HOOD_OK && l < hood_model_num_layers(model); l++) {
        size_t out = hood_model_layer_units(model, l);
        if ((st = hood_model_get_kernel(model, l, buf)) != HOOD_OK)
            break;
        if (!bcast(buf, in * out)) {
            st = HOOD_EMPI;
            break;
        }
        st = hood_model_set_kernel(model, l, buf);
        if (st == HOOD_OK && hood_model_layer_use_bias(model, l)) {
            if ((st = hood_model_get_bias(model, l, buf)) == HOOD_OK && !bcast(buf, out))
                st = HOOD_EMPI;
            if (st == HOOD_OK)
                st = hood_model_set_bias(model, l, buf);
        }
        in = out;
    }
    free(buf);
    if (st != HOOD_OK)
        return st == HOOD_EMPI ? cli_fail(cmd, "rank %d: broadcasting the weights failed", mpi_rank)
                               : cli_fail_status(cmd, st);

    /* The global order is the ranks' samples one after another: first = the samples held by
     * the ranks before this one. Counting what each rank really holds (not the shard ranges)
     * keeps that true when a rank skipped an unreadable file, as one process would skip it. */
    unsigned long long n = hood_dataset_samples(train), first = 0, total = 0;
    if (MPI_Exscan(&n, &first, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS ||
        MPI_Allreduce(&n, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
        return cli_fail(cmd, "rank %d: counting the samples of every rank failed", mpi_rank);
    if (mpi_rank == 0)
        first = 0; /* MPI_Exscan leaves rank 0's result undefined */
    /* HOOD_MPI_SHM=0 on any rank keeps every sum on MPI_Iallreduce (to compare, or where
     * shared windows misbehave); the ranks agree on it before the collective set-up. */
    const char *env = getenv("HOOD_MPI_SHM");
    int want = env == NULL || strcmp(env, "0") != 0, all_want = 0;
    if (MPI_Allreduce(&want, &all_want, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        return cli_fail(cmd, "rank %d: agreeing on the shared-memory sums failed", mpi_rank);
    if (rank_sum == NULL &&
        ranks_sum_create(&rank_sum, MPI_COMM_WORLD, all_want ? RANKS_SUM_SHARED : RANKS_SUM_POLL,
                         hood_model_num_params(model) + 64 /* + the step's sums */) != MPI_SUCCESS)
        return cli_fail(cmd, "rank %d: setting up the sums over the ranks failed", mpi_rank);
    *shard = (hood_shard){.global_samples = (size_t)total,
                          .first = (size_t)first,
                          .allreduce = allreduce,
                          .user = NULL};
    return CLI_OK;
}
