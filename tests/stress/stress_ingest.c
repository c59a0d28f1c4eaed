/* stress_ingest.c — the threaded-ingest stress driver for scripts/stress-ingest: ingests one
 * folder ROUNDS times in one process (150 x 150 grayscale, shuffle off, THREADS decoding
 * threads) and checks every round's matrix, labels and skipped-file count are bit-identical to
 * the first round's. Built by the script against a sanitized libhood; not a unit test, and it
 * times nothing that is asserted. Usage: stress_ingest DIR ROUNDS [THREADS [MAX_SECONDS]]:
 * with MAX_SECONDS, no round starts after that much time (a time-boxed TSan run still ends with
 * its summary line, saying how many rounds it completed). */
#define _POSIX_C_SOURCE 200809L
#include "hood.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* FNV-1a over bytes, 64-bit: a cheap order-sensitive checksum, enough to see any changed bit. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t size)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 1099511628211u;
    }
    return h;
}

typedef struct counts {
    size_t skipped;
} counts;

/* Counts "Skipped N unreadable files." lines; every other message is ignored. */
static void on_message(void *user, const char *text)
{
    counts *c = user;
    if (strncmp(text, "Skipped ", 8) == 0 && strstr(text, "unreadable file") != NULL)
        c->skipped = strtoul(text + 8, NULL, 10);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: %s DIR ROUNDS [THREADS [MAX_SECONDS]]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    long rounds = strtol(argv[2], NULL, 10);
    int threads = argc >= 4 ? atoi(argv[3]) : 2;
    double max_seconds = argc == 5 ? strtod(argv[4], NULL) : 0.0;
    if (rounds < 1 || threads < 1) {
        fprintf(stderr, "stress_ingest: ROUNDS and THREADS must be >= 1\n");
        return 2;
    }
    hood_ingest_options opts;
    hood_ingest_options_init(&opts);
    opts.image.height = 150;
    opts.image.width = 150;
    opts.shuffle = false; /* the same column order every round, so checksums compare */
    opts.threads = threads;
    opts.on_message = on_message;
    uint64_t first_sum = 0;
    size_t first_n = 0, first_skipped = 0;
    double start = now();
    long done = 0;
    for (long round = 1; round <= rounds; round++) {
        if (max_seconds > 0.0 && round > 1 && now() - start >= max_seconds)
            break;
        counts c = {0};
        opts.user = &c;
        hood_dataset *ds = NULL;
        hood_status status = hood_dataset_from_directory(dir, &opts, &ds, NULL);
        if (status != HOOD_OK) {
            fprintf(stderr, "stress_ingest: round %ld: %s\n", round, hood_last_error());
            return 1;
        }
        size_t d = hood_dataset_features(ds), n = hood_dataset_samples(ds);
        uint64_t sum = fnv1a(14695981039346656037u, hood_dataset_x(ds), d * n * sizeof(float));
        sum = fnv1a(sum, hood_dataset_labels(ds), n * sizeof(float));
        hood_dataset_free(ds);
        if (round == 1) {
            first_sum = sum;
            first_n = n;
            first_skipped = c.skipped;
            printf("round 1: %zu images (%zu skipped), checksum %016llx\n", n, c.skipped,
                   (unsigned long long)sum);
        } else if (sum != first_sum || n != first_n || c.skipped != first_skipped) {
            printf("round %ld: %zu images (%zu skipped), checksum %016llx DIFFERS from round 1\n",
                   round, n, c.skipped, (unsigned long long)sum);
            return 1;
        } else {
            printf("round %ld: same\n", round);
        }
        done = round;
        fflush(stdout);
    }
    double secs = now() - start;
    printf("stress_ingest: %ld rounds x %zu images, %d threads, %.1f s (%.0f images/s), "
           "checksum %016llx identical in every round\n",
           done, first_n, threads, secs, (double)done * (double)first_n / secs,
           (unsigned long long)first_sum);
    return 0;
}
