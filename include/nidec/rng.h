/*
 * rng.h - seeded random streams: splitmix64 to derive seeds, xoshiro256**
 * to draw.  Streams are values (no global state), so a task's randomness is
 * a pure function of (master seed, task identity) and never of rank, time or
 * pid.  See README "Determinism".
 */
#ifndef NIDEC_RNG_H
#define NIDEC_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct nidec_rng {
	uint64_t s[4];
} nidec_rng;

/* One splitmix64 step: advances *state and returns a well-mixed value. */
uint64_t nidec_splitmix64(uint64_t *state);
/* Mix a list of integers into one seed (order matters). */
uint64_t nidec_seed_mix(uint64_t master, uint64_t a, uint64_t b, uint64_t c);

void nidec_rng_seed(nidec_rng *r, uint64_t seed);
uint64_t nidec_rng_next(nidec_rng *r);
/* Uniform double in [0, 1) with 53 random bits. */
double nidec_rng_uniform(nidec_rng *r);
/* Uniform integer in [0, n), unbiased (rejection); n > 0. */
uint64_t nidec_rng_below(nidec_rng *r, uint64_t n);
/* Fisher-Yates shuffle of n ints in place. */
void nidec_rng_shuffle_int(nidec_rng *r, int *a, size_t n);

#endif
