/* ranks_sum.c — the ranks' sum (ranks_sum.h): a shared-memory exchange on one node, else
 * MPI_Iallreduce; both nap while they wait (issue 16). */
#include "ranks_sum.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Each rank's part of the shared window: an arrival counter and two slots of cap floats. */
typedef struct shared_rank {
    unsigned long long *arrived; /* the number of the last call this rank has published */
    float *slot[2];
} shared_rank;

struct ranks_sum {
    MPI_Comm comm;
    int rank, size;
    ranks_sum_way way; /* as taken: SHARED only with the window */
    MPI_Win win;
    shared_rank ranks[RANKS_SUM_SHARED_MAX];
    size_t cap;
    unsigned long long calls;
};

/* Sets up the shared window (collective). A rank writes a slot again two calls later, after
 * every rank has arrived at the call between, i.e. finished reading it: so two slots. Returns
 * whether every rank has it. */
static bool open_shared(ranks_sum *s, size_t cap)
{
    MPI_Comm node;
    int node_size = 0;
    int ok = s->size <= RANKS_SUM_SHARED_MAX &&
             MPI_Comm_split_type(s->comm, MPI_COMM_TYPE_SHARED, s->rank, MPI_INFO_NULL, &node) ==
                 MPI_SUCCESS;
    int all_ok = 0;
    if (ok) {
        MPI_Comm_size(node, &node_size);
        ok = node_size == s->size;
    }
    size_t head = 64; /* the counter, alone in its cache line */
    MPI_Aint bytes = (MPI_Aint)(head + 2 * cap * sizeof(float));
    void *base = NULL;
    if (ok && MPI_Win_allocate_shared(bytes, 1, MPI_INFO_NULL, node, &base, &s->win) != MPI_SUCCESS)
        ok = 0, s->win = MPI_WIN_NULL;
    for (int r = 0; ok && r < s->size; r++) {
        MPI_Aint size;
        int unit;
        char *b = NULL;
        if (MPI_Win_shared_query(s->win, r, &size, &unit, &b) != MPI_SUCCESS || size < bytes)
            ok = 0;
        else
            s->ranks[r] = (shared_rank){.arrived = (unsigned long long *)b,
                                        .slot = {(float *)(b + head), (float *)(b + head) + cap}};
    }
    if (ok)
        __atomic_store_n(s->ranks[s->rank].arrived, 0ull, __ATOMIC_RELEASE);
    /* every rank's counter is 0 before any rank publishes */
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, s->comm);
    if (!all_ok && s->win != MPI_WIN_NULL)
        MPI_Win_free(&s->win);
    if (node_size > 0)
        MPI_Comm_free(&node);
    return all_ok != 0;
}

void ranks_sum_prefer_ring(void)
{
    /* Open MPI's non-blocking all-reduce (libnbc) picks a binomial tree for 2-3 ranks or an
     * in-place buffer: 190 us for the 0.94 MB of a Fashion-MNIST step here, where its ring
     * takes 103 and the blocking MPI_Allreduce 98 (min of 300 calls, 2 ranks). */
    setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", 0);
}

int ranks_sum_create(ranks_sum **out, MPI_Comm comm, ranks_sum_way way, size_t cap)
{
    *out = NULL;
    ranks_sum *s = calloc(1, sizeof *s);
    if (s == NULL)
        return MPI_ERR_NO_MEM;
    s->comm = comm;
    s->win = MPI_WIN_NULL;
    int rc = MPI_Comm_rank(comm, &s->rank);
    if (rc == MPI_SUCCESS)
        rc = MPI_Comm_size(comm, &s->size);
    if (rc != MPI_SUCCESS) {
        free(s);
        return rc;
    }
    s->way = way;
    if (way == RANKS_SUM_SHARED) {
        if (open_shared(s, cap))
            s->cap = cap;
        else
            s->way = RANKS_SUM_POLL;
    }
    *out = s;
    return MPI_SUCCESS;
}

void ranks_sum_free(ranks_sum *s)
{
    if (s == NULL)
        return;
    if (s->win != MPI_WIN_NULL)
        MPI_Win_free(&s->win);
    free(s);
}

ranks_sum_way ranks_sum_taken(const ranks_sum *s)
{
    return s->way;
}

const char *ranks_sum_way_name(ranks_sum_way way)
{
    switch (way) {
    case RANKS_SUM_SHARED:
        return "shared";
    case RANKS_SUM_POLL:
        return "poll";
    case RANKS_SUM_SPIN:
        return "spin";
    }
    return "?";
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

static void shared_sum(ranks_sum *s, float *values, size_t count)
{
    unsigned long long call = ++s->calls;
    int parity = (int)(call & 1);
    memcpy(s->ranks[s->rank].slot[parity], values, count * sizeof *values);
    __atomic_store_n(s->ranks[s->rank].arrived, call, __ATOMIC_RELEASE);
    double spin_until = MPI_Wtime() + WAIT_SPIN_S;
    long nap = 10000;
    for (int r = 0; r < s->size; r++)
        while (__atomic_load_n(s->ranks[r].arrived, __ATOMIC_ACQUIRE) < call)
            nap_after_spin(spin_until, &nap);
    /* ((s0 + s1) + s2) + ...: the first two in one pass; 8 lanes at a time (GCC and Clang
     * vector types: -O2 does not vectorize the plain loop, which was 9 % of a rank's CPU),
     * each lane an IEEE float addition, so the bits are the scalar loop's */
    add_into(values, s->ranks[0].slot[parity], s->ranks[1].slot[parity], count);
    for (int r = 2; r < s->size; r++)
        add_into(values, values, s->ranks[r].slot[parity], count);
}

/* MPI_Allreduce busy-polls while another rank is still computing, or is preempted
 * mid-transfer, and on a shared or oversubscribed machine that takes the core from the very
 * rank it waits for: so MPI_Iallreduce, tested for WAIT_SPIN_S (a peer that is running arrives
 * within that), then between naps. */
static int polled_sum(MPI_Comm comm, float *values, int n)
{
    MPI_Request req;
    int rc = MPI_Iallreduce(MPI_IN_PLACE, values, n, MPI_FLOAT, MPI_SUM, comm, &req);
    if (rc != MPI_SUCCESS)
        return rc;
    int done = 0;
    double spin_until = MPI_Wtime() + WAIT_SPIN_S;
    long nap = 10000;
    while ((rc = MPI_Test(&req, &done, MPI_STATUS_IGNORE)) == MPI_SUCCESS && !done)
        nap_after_spin(spin_until, &nap);
    return rc;
}

int ranks_sum_values(ranks_sum *s, float *values, size_t count)
{
    if (s->size == 1)
        return MPI_SUCCESS;
    if (s->way == RANKS_SUM_SHARED && count <= s->cap) {
        shared_sum(s, values, count);
        return MPI_SUCCESS;
    }
    while (count > 0) {
        int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
        int rc = s->way == RANKS_SUM_SPIN
                     ? MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_FLOAT, MPI_SUM, s->comm)
                     : polled_sum(s->comm, values, n);
        if (rc != MPI_SUCCESS)
            return rc;
        values += n;
        count -= (size_t)n;
    }
    return MPI_SUCCESS;
}
