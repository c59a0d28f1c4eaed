/* rng.c — xoshiro256** (Blackman & Vigna) seeded through splitmix64, plus the draws hood
 * needs: uniform doubles, unbiased integers, normals, permutations. Pure integer arithmetic,
 * so a seed gives the same stream on every machine. Not a cryptographic generator. */
#include "rng.h"

#include <math.h>

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* One splitmix64 step: advances *x by the golden-ratio increment and returns its mix. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void hood__rng_seed(hood_rng *rng, uint64_t seed)
{
    /* splitmix64 never yields four zero words from one seed, so the state is never all zero
     * (the one state xoshiro cannot leave). */
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->state[i] = splitmix64(&x);
}

void hood__rng_seed_stream(hood_rng *rng, uint64_t seed, uint64_t stream)
{
    /* Hash (seed, stream) into one splitmix64 starting point. Hashing seed first and mixing the
     * stream through a second splitmix step keeps (s, t) and (t, s) and neighbouring streams
     * apart; different streams are then statistically independent starting points of the
     * 2^256 period, and no stream depends on how much another one drew. */
    uint64_t x = seed;
    uint64_t h = splitmix64(&x);
    uint64_t y = stream ^ UINT64_C(0x6A09E667F3BCC909); /* sqrt(2) bits: stream 0 != seed */
    h ^= splitmix64(&y);
    hood__rng_seed(rng, h);
}

uint64_t hood__rng_next(hood_rng *rng)
{
    uint64_t *s = rng->state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hood__rng_uniform(hood_rng *rng)
{
    /* The top 53 bits scaled by 2^-53: every double in [0, 1) on a 2^-53 grid, equally likely. */
    return (double)(hood__rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t hood__rng_below(hood_rng *rng, uint64_t n)
{
    if (n <= 1)
        return 0;
    /* Rejection: drop the lowest (2^64 mod n) values so the rest split evenly into n classes.
     * (-n) % n == 2^64 mod n in unsigned arithmetic. At most half the draws are rejected. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = hood__rng_next(rng);
        if (r >= threshold)
            return r % n;
    }
}

double hood__rng_normal(hood_rng *rng)
{
    /* Box-Muller, keeping only the cosine branch: nothing is cached between calls, so the
     * sequence depends only on the state in *rng. u1 in (0, 1] keeps log() finite. */
    double u1 = 1.0 - hood__rng_uniform(rng);
    double u2 = hood__rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

void hood__rng_permutation(hood_rng *rng, size_t *perm, size_t n)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    /* Fisher-Yates from the back: position i takes a uniform pick of the i+1 not yet placed. */
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)hood__rng_below(rng, (uint64_t)i);
        size_t tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
}
