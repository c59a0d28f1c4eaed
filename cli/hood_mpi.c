/* hood_mpi.c — the `hood` command under mpirun: MPI_Init/Finalize, rank and size, stdout of
 * rank 0 only, MPI_Abort when any rank fails (so no rank waits for ever in a collective), rank
 * 0's weights broadcast, and hood_shard's all-reduce (a shared-memory sum on one node, else
 * MPI_Iallreduce; both wait without spinning). Not the training: that is hood_model_fit with a
 * hood_shard (engine/train.c). Built only with -Dmpi. */
#include "hood_mpi.h"

#include "common.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The process's place in the job: set once by cli_mpi_init, read-only afterwards. */
static int mpi_rank, mpi_size = 1;
static bool mpi_started;

/* The ranks' shared-memory exchange (issue 16), when every rank is on this node and there
 * are at most SHM_MAX_RANKS: each rank has an arrival counter and two slots of shm_cap floats
 * in an MPI shared window. A sum copies this rank's values into its slot of the call's parity,
 * publishes the call's number, waits (napping) until every rank has published it, and adds the
 * slots in rank order, so every rank gets the same bits. A rank writes a slot again two calls
 * later, after every rank has arrived at the call between, i.e. finished reading it. One
 * meeting per step instead of the all-reduce's rounds of messages, each of which waits for the
 * other rank to be scheduled again on a loaded machine. */
#define SHM_MAX_RANKS 8
typedef struct shm_rank {
    unsigned long long *arrived; /* the number of the last call this rank has published */
    float *slot[2];
} shm_rank;
static MPI_Win shm_win = MPI_WIN_NULL;
static shm_rank shm_ranks[SHM_MAX_RANKS];
static size_t shm_cap;
static unsigned long long shm_calls;

/* Sets up the shared window for sums of up to cap floats (collective); on any failure the
 * sums go through MPI_Iallreduce instead. */
static void shm_open(size_t cap)
{
    MPI_Comm node;
    int node_size = 0;
    if (mpi_size > SHM_MAX_RANKS ||
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, mpi_rank, MPI_INFO_NULL, &node) !=
            MPI_SUCCESS)
        return;
    MPI_Comm_size(node, &node_size);
    int ok = node_size == mpi_size, all_ok = 0;
    size_t head = 64; /* the counter, alone in its cache line */
    MPI_Aint bytes = (MPI_Aint)(head + 2 * cap * sizeof(float));
    void *base = NULL;
    if (ok &&
        MPI_Win_allocate_shared(bytes, 1, MPI_INFO_NULL, node, &base, &shm_win) != MPI_SUCCESS)
        ok = 0, shm_win = MPI_WIN_NULL;
    for (int r = 0; ok && r < mpi_size; r++) {
        MPI_Aint size;
        int unit;
        char *b = NULL;
        if (MPI_Win_shared_query(shm_win, r, &size, &unit, &b) != MPI_SUCCESS || size < bytes)
            ok = 0;
        else
            shm_ranks[r] = (shm_rank){.arrived = (unsigned long long *)b,
                                      .slot = {(float *)(b + head), (float *)(b + head) + cap}};
    }
    if (ok)
        __atomic_store_n(shm_ranks[mpi_rank].arrived, 0ull, __ATOMIC_RELEASE);
    /* every rank's counter is 0 before any rank publishes */
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (all_ok)
        shm_cap = cap;
    else if (shm_win != MPI_WIN_NULL)
        MPI_Win_free(&shm_win);
    MPI_Comm_free(&node);
}

static void shm_close(void)
{
    if (shm_win != MPI_WIN_NULL)
        MPI_Win_free(&shm_win);
    shm_cap = 0;
}

/* How long a rank polls before it naps, and its longest nap. */
#define WAIT_SPIN_S 100e-6
#define WAIT_NAP_MAX_NS 100000L

static void nap_after_spin(double spin_until, long *nap)
{
    if (MPI_Wtime() < spin_until)
        return;
    struct timespec ts = {0, *nap};
    nanosleep(&ts, NULL);
    *nap = *nap < WAIT_NAP_MAX_NS / 2 ? *nap * 2 : WAIT_NAP_MAX_NS;
}

typedef float f8 __attribute__((vector_size(32)));

/* out[i] = a[i] + b[i] (out may be a) */
static void add_into(float *out, const float *a, const float *b, size_t count)
{
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        f8 x, y;
        memcpy(&x, a + i, sizeof x);
        memcpy(&y, b + i, sizeof y);
        x += y;
        memcpy(out + i, &x, sizeof x);
    }
    for (; i < count; i++)
        out[i] = a[i] + b[i];
}

static void shm_sum(float *values, size_t count)
{
    unsigned long long call = ++shm_calls;
    int parity = (int)(call & 1);
    memcpy(shm_ranks[mpi_rank].slot[parity], values, count * sizeof *values);
    __atomic_store_n(shm_ranks[mpi_rank].arrived, call, __ATOMIC_RELEASE);
    double spin_until = MPI_Wtime() + WAIT_SPIN_S;
    long nap = 10000;
    for (int r = 0; r < mpi_size; r++)
        while (__atomic_load_n(shm_ranks[r].arrived, __ATOMIC_ACQUIRE) < call)
            nap_after_spin(spin_until, &nap);
    /* ((s0 + s1) + s2) + ...: the first two in one pass; 8 lanes at a time (GCC and Clang
     * vector types: -O2 does not vectorize the plain loop, which was 9 % of a rank's CPU),
     * each lane an IEEE float addition, so the bits are the scalar loop's */
    add_into(values, shm_ranks[0].slot[parity], shm_ranks[1].slot[parity], count);
    for (int r = 2; r < mpi_size; r++)
        add_into(values, values, shm_ranks[r].slot[parity], count);
}

/* One sum over the ranks in place, waited for without busy-polling (issue 16). MPI_Allreduce
 * busy-polls while another rank is still computing, or is preempted mid-transfer, and on a
 * shared or oversubscribed machine that takes the core from the very rank it waits for. So:
 * MPI_Iallreduce, tested for WAIT_SPIN_S (a peer that is running arrives within that), then
 * between naps of 10 us doubling to WAIT_NAP_MAX_NS. cli_mpi_init picks Open MPI's ring for it
 * (see there). */
static int sum_waiting_politely(float *values, int n)
{
    MPI_Request req;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, values, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS)
        return rc;
    int done = 0;
    double spin_until = MPI_Wtime() + WAIT_SPIN_S;
    long nap = 10000;
    while ((rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE)) == MPI_SUCCESS && !done)
        nap_after_spin(spin_until, &nap);
    return rc;
}

void cli_mpi_init(int *argc, char ***argv)
{
    /* Only under a launcher: a plain `hood` run never starts MPI (a singleton MPI_Init costs
     * time and opens sockets for nothing). */
    if (getenv("OMPI_COMM_WORLD_SIZE") == NULL && getenv("PMI_SIZE") == NULL &&
        getenv("PMIX_RANK") == NULL)
        return;
    /* Open MPI's non-blocking all-reduce (libnbc) picks a binomial tree for 2-3 ranks or an
     * in-place buffer: 190 us for the 0.94 MB of a Fashion-MNIST step here, where its ring
     * takes 103 and the blocking MPI_Allreduce 98 (min of 300 calls, 2 ranks). A user's own
     * setting wins; other MPIs ignore the variable. */
    setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", 0);
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
    shm_close();
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

/* hood_allreduce_fn: sum in place over every rank, in pieces of at most INT_MAX floats (MPI
 * counts are int). MPI's default error handler aborts the job on a transport failure, so a
 * non-OK return is only for the error codes MPI does hand back. */
static hood_status allreduce(void *user, float *values, size_t count)
{
    (void)user;
    if (count <= shm_cap) {
        shm_sum(values, count);
        return HOOD_OK;
    }
    while (count > 0) {
        int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        if (sum_waiting_politely(values, n) != MPI_SUCCESS)
            return HOOD_EMPI;
        values += n;
        count -= (size_t)n;
    }
    return HOOD_OK;
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
    if (shm_win == MPI_WIN_NULL && all_want)
        shm_open(hood_model_num_params(model) + 64); /* + the step's sums */
    *shard = (hood_shard){.global_samples = (size_t)total,
                          .first = (size_t)first,
                          .allreduce = allreduce,
                          .user = NULL};
    return CLI_OK;
}
