/* rng.h — hood's seeded, portable PRNG (xoshiro256**, seeded through splitmix64): the same
 * seed gives the same stream on every machine. State is passed explicitly; no hidden static. */
#ifndef HOOD_RNG_H
#define HOOD_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct hood_rng {
    uint64_t state[4];
} hood_rng;

void hood__rng_seed(hood_rng *rng, uint64_t seed);
/* A generator for stream `stream` of `seed` (e.g. the shuffle of epoch e): independent of how
 * many numbers other streams drew, so a resumed run draws the same numbers. */
void hood__rng_seed_stream(hood_rng *rng, uint64_t seed, uint64_t stream);
uint64_t hood__rng_next(hood_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double hood__rng_uniform(hood_rng *rng);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t hood__rng_below(hood_rng *rng, uint64_t n);
/* Standard normal (Box-Muller on hood__rng_uniform). */
double hood__rng_normal(hood_rng *rng);
/* perm = a uniformly random permutation of 0..n-1 (Fisher-Yates). */
void hood__rng_permutation(hood_rng *rng, size_t *perm, size_t n);

#endif
