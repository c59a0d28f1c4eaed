/* shard_probe.c — test helper for tests/mpi/test_mpi.sh, run under mpirun (rank and size from
 * Open MPI's OMPI_COMM_WORLD_RANK/SIZE, so it needs no MPI library): reads DATA whole and as
 * this rank's shard, and checks the shard is exactly the whole's columns [first, first + n) of
 * hood_shard_range (values and labels bit for bit, hood_dataset_shard_info alike). A folder is
 * split 0.25 with seed 5 and both parts checked. Prints one line; exits 0 when exact, 1 not. */
#include "hood.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(const char *what, const hood_dataset *whole, const hood_dataset *part, size_t rank,
                 size_t size)
{
    size_t N = hood_dataset_samples(whole), first, n, info_first, info_global;
    hood_shard_range(N, rank, size, &first, &n);
    hood_dataset_shard_info(part, &info_first, &info_global);
    size_t d = hood_dataset_features(whole), w = hood_dataset_label_width(whole);
    if (hood_dataset_samples(part) != n || info_first != first || info_global != N ||
        hood_dataset_features(part) != d || hood_dataset_label_width(part) != w) {
        printf("rank %zu: %s: holds %zu samples at %zu of %zu, expected %zu at %zu of %zu\n", rank,
               what, hood_dataset_samples(part), info_first, info_global, n, first, N);
        return 1;
    }
    if (memcmp(hood_dataset_x(part), hood_dataset_x(whole) + first * d, n * d * sizeof(float)) !=
            0 ||
        (w > 0 && memcmp(hood_dataset_labels(part), hood_dataset_labels(whole) + first * w,
                         n * w * sizeof(float)) != 0)) {
        printf("rank %zu: %s: the columns differ from the whole's [%zu, %zu)\n", rank, what, first,
               first + n);
        return 1;
    }
    printf("rank %zu of %zu: %s: columns [%zu, %zu) of %zu exact\n", rank, size, what, first,
           first + n, N);
    return 0;
}

int main(int argc, char **argv)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK"), *s = getenv("OMPI_COMM_WORLD_SIZE");
    if (argc != 3 || r == NULL || s == NULL) {
        fprintf(stderr, "usage: mpirun -np N shard_probe folder|file DATA\n");
        return 2;
    }
    size_t rank = strtoul(r, NULL, 10), size = strtoul(s, NULL, 10);
    hood_dataset *whole = NULL, *part = NULL, *whole_val = NULL, *part_val = NULL;
    hood_status st;
    int rc = 1;
    if (strcmp(argv[1], "folder") == 0) {
        hood_ingest_options in;
        hood_ingest_options_init(&in);
        in.image.height = in.image.width = 8;
        in.has_seed = true;
        in.seed = 5;
        in.validation_split = 0.25;
        in.subset = HOOD_SUBSET_BOTH;
        in.threads = 1;
        st = hood_dataset_from_directory(argv[2], &in, &whole, &whole_val);
        in.shard_index = rank;
        in.shard_count = size;
        if (st == HOOD_OK)
            st = hood_dataset_from_directory(argv[2], &in, &part, &part_val);
        if (st == HOOD_OK)
            rc = check("training files", whole, part, rank, size) |
                 check("validation files", whole_val, part_val, rank, size);
    } else {
        hood_csv_options csv;
        hood_csv_options_init(&csv);
        st = hood_dataset_load(argv[2], &csv, &whole);
        csv.shard_index = rank;
        csv.shard_count = size;
        if (st == HOOD_OK)
            st = hood_dataset_load(argv[2], &csv, &part);
        if (st == HOOD_OK)
            rc = check(argv[2], whole, part, rank, size);
    }
    if (st != HOOD_OK)
        printf("rank %zu: %s\n", rank, hood_last_error());
    hood_dataset_free(whole);
    hood_dataset_free(part);
    hood_dataset_free(whole_val);
    hood_dataset_free(part_val);
    return rc;
}
