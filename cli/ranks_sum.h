/* ranks_sum.h — one sum of floats over every rank of a communicator, in place, waited for
 * without busy-polling: the all-reduce of `mpirun hood train` (cli/hood_mpi.c) and of
 * hood-bench-mpi, one code so the bench times what the command runs. Built only with MPI. */
#ifndef HOOD_CLI_RANKS_SUM_H
#define HOOD_CLI_RANKS_SUM_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum ranks_sum_way {
    /* Through an MPI shared window when every rank is on this node (up to RANKS_SUM_SHARED_MAX
     * ranks), else as POLL: each rank copies its values into its slot, publishes the call's
     * number, waits for every rank's and adds the slots in rank order. One meeting per sum. */
    RANKS_SUM_SHARED,
    /* MPI_Iallreduce, tested for 100 us, then between naps of 10-100 us: a waiting rank gives
     * its core to the rank it waits for (or to a competitor). */
    RANKS_SUM_POLL,
    /* MPI_Allreduce, which busy-polls while it waits (to compare). */
    RANKS_SUM_SPIN,
} ranks_sum_way;

enum { RANKS_SUM_SHARED_MAX = 8 };

typedef struct ranks_sum ranks_sum;

/* Before MPI_Init: asks Open MPI for its ring as MPI_Iallreduce's algorithm unless the user set
 * one (other MPIs ignore the variable). */
void ranks_sum_prefer_ring(void);

/* Collective over comm: every rank asks for the same way and cap (the most floats one sum
 * carries through the shared window; larger sums go through POLL). SHARED falls back to POLL on
 * every rank when any rank cannot set up the window. Returns MPI_SUCCESS, or an MPI error code
 * (or MPI_ERR_NO_MEM) with *out NULL. */
int ranks_sum_create(ranks_sum **out, MPI_Comm comm, ranks_sum_way way, size_t cap);
/* Collective: frees the window. NULL is a no-op. */
void ranks_sum_free(ranks_sum *s);
/* values[0..count) = their sum over the ranks, the same bits on every rank; in pieces of at
 * most INT_MAX floats where MPI carries it. MPI_SUCCESS or MPI's error code. */
int ranks_sum_values(ranks_sum *s, float *values, size_t count);
/* The way sums of up to cap floats really take (SHARED may have fallen back to POLL). */
ranks_sum_way ranks_sum_taken(const ranks_sum *s);
const char *ranks_sum_way_name(ranks_sum_way way);

#endif
