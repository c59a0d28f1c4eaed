/* hood_mpi.h — the `hood` command under mpirun (built with -Dmpi, HOOD_MPI defined): MPI start
 * and end, rank 0 alone on stdout and on disk, rank 0's weights broadcast, the all-reduce a
 * sharded fit needs. Not the training (hood_model_fit with a hood_shard) and not the library,
 * which never depends on MPI. Named hood_mpi.h, not mpi.h, so <mpi.h> stays Open MPI's. */
#ifndef HOOD_CLI_MPI_H
#define HOOD_CLI_MPI_H

#include "hood.h"

#include <stdbool.h>

/* Starts MPI when launched by mpirun (never otherwise); ranks other than 0 write their stdout
 * to /dev/null. Exits with a message if MPI cannot start. */
void cli_mpi_init(int *argc, char ***argv);
/* Ends MPI with the command's exit status: a failed rank (status != 0) has printed its message;
 * it then says which rank failed and MPI_Aborts the job so no other rank waits for it. Returns
 * status. */
int cli_mpi_finish(int status);
/* More than one rank: the data is sharded and fit all-reduces. */
bool cli_mpi_active(void);
int cli_mpi_rank(void);
/* This rank's share of the data: shard_index/shard_count in the ingest options (a folder's
 * files; train's file reads take the same share). No-op with one rank. */
void cli_mpi_shard_ingest(hood_ingest_options *in);
/* Before fit: every rank takes rank 0's kernels and biases, and *shard describes this rank's
 * samples of train (first = the samples of the ranks before it, so the global order is the one
 * a single process would have) with the all-reduce: a sum through an MPI shared window when
 * every rank is on this node (up to 8 ranks; not with HOOD_MPI_SHM=0; cli_mpi_finish frees
 * it), else MPI_Iallreduce; both nap while they wait. Returns CLI_OK or prints and fails. */
int cli_mpi_prepare(const char *cmd, hood_model *model, const hood_dataset *train,
                    hood_shard *shard);

#endif
