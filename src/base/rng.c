/*
 * rng.c - splitmix64 (seed derivation) and xoshiro256** (streams), after
 * Vigna's public-domain reference descriptions.  A stream is a value owned
 * by its user; nothing here is global.  Depends on libc only.
 */
#include "nidec/rng.h"

uint64_t nidec_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t nidec_seed_mix(uint64_t master, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t s = master;
	uint64_t h = nidec_splitmix64(&s);

	s = h ^ a;
	h = nidec_splitmix64(&s);
	s = h ^ b;
	h = nidec_splitmix64(&s);
	s = h ^ c;
	return nidec_splitmix64(&s);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void nidec_rng_seed(nidec_rng *r, uint64_t seed)
{
	uint64_t s = seed;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = nidec_splitmix64(&s);
}

uint64_t nidec_rng_next(nidec_rng *r)
{
	uint64_t *s = r->s;
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

double nidec_rng_uniform(nidec_rng *r)
{
	return (double)(nidec_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t nidec_rng_below(nidec_rng *r, uint64_t n)
{
	/* Reject the top partial block so every value is equally likely. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, v;

	do
		v = nidec_rng_next(r);
	while (v >= limit);
	return v % n;
}

void nidec_rng_shuffle_int(nidec_rng *r, int *a, size_t n)
{
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)nidec_rng_below(r, i);
		int t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}
