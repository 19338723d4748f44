/*
 * test_core_cluster.c - voxel clusters and the Stelzer cluster test
 * (include/nidec/cluster.h):
 *  - labelling equals a brute-force union-find over every pair of voxels
 *    at Chebyshev distance 1 (26-connectivity), on random masks and maps;
 *    labels ordered by decreasing size;
 *  - the test's thresholds and null maximum cluster sizes equal a direct
 *    computation that keeps all M group null maps (same draws);
 *  - on simulated null data (every subject's map exchangeable with its
 *    null maps: smoothed Gaussian noise), the family-wise error rate of
 *    "some cluster has p <= 0.05" over 200 repetitions is 5 % within its
 *    Monte-Carlo error (binomial(200, 0.05): 10 expected, the 99.9 %
 *    interval [2, 21]); a planted blob is found with p < 0.05.  Each
 *    subject has 100 null maps, as in Stelzer et al.: the group null is
 *    drawn from these finite sets, which makes it slightly too narrow
 *    when they are small (measured here: 22 false positives of 200 with
 *    20 null maps per subject, 13 with 50, 7 with 100; docs/SWEEP.md).
 *    Under valgrind (NIDEC_TEST_MEMCHECK set by tests/valgrind.sh) the
 *    simulation runs 5 repetitions: memory is checked, not the rate.
 * Everything is seeded: the test cannot flake.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nidec/cluster.h"
#include "nidec/mem.h"
#include "nidec/rng.h"

/* Every voxel of an nx x ny x nz grid with on[v] = (uniform < frac). */
static size_t grid_voxels(nidec_rng *r, const int64_t dims[3], double frac, int32_t *ijk)
{
	int64_t i, j, k;
	size_t n = 0;

	for (i = 0; i < dims[0]; i++)
		for (j = 0; j < dims[1]; j++)
			for (k = 0; k < dims[2]; k++)
				if (nidec_rng_uniform(r) < frac) {
					ijk[3 * n] = (int32_t)i;
					ijk[3 * n + 1] = (int32_t)j;
					ijk[3 * n + 2] = (int32_t)k;
					n++;
				}
	return n;
}

static size_t find(size_t *parent, size_t v)
{
	while (parent[v] != v)
		v = parent[v] = parent[parent[v]];
	return v;
}

static void test_core_cluster__label_brute_force(void **state)
{
	static const int64_t dims[3] = { 9, 7, 6 };
	int32_t ijk[9 * 7 * 6 * 3];
	unsigned char on[9 * 7 * 6];
	uint32_t label[9 * 7 * 6], work[3 * 9 * 7 * 6];
	size_t size[9 * 7 * 6], parent[9 * 7 * 6], count[9 * 7 * 6];
	nidec_rng r;
	int rep;

	(void)state;
	nidec_rng_seed(&r, 42);
	for (rep = 0; rep < 50; rep++) {
		nidec_cluster_grid g = NIDEC_CLUSTER_GRID_INIT;
		size_t n = grid_voxels(&r, dims, 0.7, ijk), a, b, nc, c;
		for (a = 0; a < n; a++) {
			on[a] = nidec_rng_uniform(&r) < 0.35;
			parent[a] = a;
			count[a] = 0;
		}
		assert_int_equal(nidec_cluster_grid_build(ijk, n, dims, &g, NULL), 0);
		for (a = 0; a < n; a++)
			for (b = a + 1; b < n; b++) {
				int d0 = abs(ijk[3 * a] - ijk[3 * b]), d1 = abs(ijk[3 * a + 1] - ijk[3 * b + 1]),
				    d2 = abs(ijk[3 * a + 2] - ijk[3 * b + 2]);
				if (on[a] && on[b] && d0 <= 1 && d1 <= 1 && d2 <= 1)
					parent[find(parent, a)] = find(parent, b);
			}
		nc = nidec_cluster_label(&g, on, label, size, work);
		for (a = 0; a < n; a++) {
			assert_true((label[a] != 0) == (on[a] != 0));
			if (on[a])
				count[find(parent, a)]++;
		}
		/* same partition: same label <=> same root */
		for (a = 0; a < n; a++)
			for (b = 0; b < n; b++)
				if (on[a] && on[b])
					assert_true((label[a] == label[b]) == (find(parent, a) == find(parent, b)));
		for (a = 0; a < n; a++)
			if (on[a])
				assert_int_equal(size[label[a] - 1], count[find(parent, a)]);
		for (c = 1; c < nc; c++)
			assert_true(size[c - 1] >= size[c]);
		nidec_cluster_grid_release(&g);
	}
}

/* Smoothed noise: each voxel the mean of its 3x3x3 box of iid normals. */
static void noise_map(nidec_rng *r, const int64_t dims[3], float *out)
{
	size_t n3 = (size_t)(dims[0] * dims[1] * dims[2]), v;
	double *z = malloc(n3 * sizeof(double));
	int64_t i, j, k, a, b, c;

	assert_non_null(z);
	for (v = 0; v < n3; v += 2) {
		/* Box-Muller */
		double u1 = nidec_rng_uniform(r), u2 = nidec_rng_uniform(r);
		double rad = sqrt(-2 * log(1 - u1));
		z[v] = rad * cos(2 * M_PI * u2);
		if (v + 1 < n3)
			z[v + 1] = rad * sin(2 * M_PI * u2);
	}
	for (i = 0; i < dims[0]; i++)
		for (j = 0; j < dims[1]; j++)
			for (k = 0; k < dims[2]; k++) {
				double s = 0;
				for (a = i - 1; a <= i + 1; a++)
					for (b = j - 1; b <= j + 1; b++)
						for (c = k - 1; c <= k + 1; c++)
							if (a >= 0 && b >= 0 && c >= 0 && a < dims[0] && b < dims[1] &&
							    c < dims[2])
								s += z[a + dims[0] * (b + dims[1] * c)];
				/* the grid's voxels are listed with i slowest */
				out[(i * dims[1] + j) * dims[2] + k] = (float)(s / 27);
			}
	free(z);
}

enum { S = 6, P = 100 };

struct sim {
	int64_t dims[3];
	size_t V;
	int32_t *ijk;
	nidec_cluster_grid g;
	float *maps[S], *nulls[S];
	size_t n_null[S];
};

static void sim_init(struct sim *m, int64_t n)
{
	size_t v = 0, s;
	int64_t i, j, k;

	memset(m, 0, sizeof(*m));
	m->dims[0] = m->dims[1] = m->dims[2] = n;
	m->V = (size_t)(n * n * n);
	m->ijk = malloc(3 * m->V * sizeof(int32_t));
	assert_non_null(m->ijk);
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			for (k = 0; k < n; k++, v++) {
				m->ijk[3 * v] = (int32_t)i;
				m->ijk[3 * v + 1] = (int32_t)j;
				m->ijk[3 * v + 2] = (int32_t)k;
			}
	assert_int_equal(nidec_cluster_grid_build(m->ijk, m->V, m->dims, &m->g, NULL), 0);
	for (s = 0; s < S; s++) {
		m->maps[s] = malloc(m->V * sizeof(float));
		m->nulls[s] = malloc(P * m->V * sizeof(float));
		assert_non_null(m->maps[s]);
		assert_non_null(m->nulls[s]);
		m->n_null[s] = P;
	}
}

static void sim_fill(struct sim *m, nidec_rng *r)
{
	size_t s, k;

	for (s = 0; s < S; s++) {
		noise_map(r, m->dims, m->maps[s]);
		for (k = 0; k < P; k++)
			noise_map(r, m->dims, m->nulls[s] + k * m->V);
	}
}

static void sim_free(struct sim *m)
{
	size_t s;

	for (s = 0; s < S; s++) {
		free(m->maps[s]);
		free(m->nulls[s]);
	}
	free(m->ijk);
	nidec_cluster_grid_release(&m->g);
}

static int cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x > y ? -1 : x < y;
}

static void test_core_cluster__stelzer_direct(void **state)
{
	struct sim m;
	nidec_stelzer st = NIDEC_STELZER_INIT;
	nidec_stelzer_opts o = { 200, 0.02, 7 };
	size_t M = 200, K = 4, d, s, v;
	double *all, *col;
	nidec_rng r;

	(void)state;
	sim_init(&m, 6);
	nidec_rng_seed(&r, 3);
	sim_fill(&m, &r);
	assert_int_equal(nidec_stelzer_run(&m.g, S, (const float *const *)m.maps,
					   (const float *const *)m.nulls, m.n_null, &o, &st, NULL), 0);
	/* all M group null maps, the same draws */
	all = malloc(M * m.V * sizeof(double));
	col = malloc(M * sizeof(double));
	assert_non_null(all);
	assert_non_null(col);
	nidec_rng_seed(&r, 7);
	for (d = 0; d < M; d++) {
		for (v = 0; v < m.V; v++)
			all[d * m.V + v] = 0;
		for (s = 0; s < S; s++) {
			const float *x = m.nulls[s] + nidec_rng_below(&r, P) * m.V;
			for (v = 0; v < m.V; v++)
				all[d * m.V + v] += (double)x[v];
		}
		for (v = 0; v < m.V; v++)
			all[d * m.V + v] /= S;
	}
	for (v = 0; v < m.V; v++) {
		for (d = 0; d < M; d++)
			col[d] = all[d * m.V + v];
		qsort(col, M, sizeof(double), cmp_desc);
		assert_true(st.threshold[v] == col[K]);
	}
	for (d = 0; d < M; d++) {
		unsigned char on[216];
		uint32_t label[216], work[3 * 216];
		size_t size[216], nc;
		for (v = 0; v < m.V; v++)
			on[v] = all[d * m.V + v] > st.threshold[v];
		nc = nidec_cluster_label(&m.g, on, label, size, work);
		assert_int_equal(st.null_max[d], nc ? size[0] : 0);
	}
	free(all);
	free(col);
	nidec_stelzer_release(&st);
	sim_free(&m);
}

static void test_core_cluster__stelzer_fwe(void **state)
{
	struct sim m;
	nidec_stelzer_opts o = { 1000, 0.01, 0 };
	nidec_rng r;
	int rep, fp = 0, found, reps = getenv("NIDEC_TEST_MEMCHECK") ? 5 : 200;
	size_t s, v;

	(void)state;
	sim_init(&m, 8);
	nidec_rng_seed(&r, 11);
	for (rep = 0; rep < reps; rep++) {
		nidec_stelzer st = NIDEC_STELZER_INIT;
		sim_fill(&m, &r);
		o.seed = (uint64_t)rep;
		assert_int_equal(nidec_stelzer_run(&m.g, S, (const float *const *)m.maps,
						   (const float *const *)m.nulls, m.n_null, &o, &st, NULL), 0);
		fp += st.n_clusters > 0 && st.p[0] <= 0.05;
		nidec_stelzer_release(&st);
	}
	print_message("family-wise false positives: %d of %d\n", fp, reps);
	if (reps == 200)
		assert_in_range(fp, 2, 21);

	/* a blob of 3x3x3 voxels planted in every subject's map */
	for (s = 0; s < S; s++)
		for (v = 0; v < m.V; v++) {
			const int32_t *q = m.ijk + 3 * v;
			if (q[0] >= 3 && q[0] <= 5 && q[1] >= 3 && q[1] <= 5 && q[2] >= 3 && q[2] <= 5)
				m.maps[s][v] += 0.5f;
		}
	{
		nidec_stelzer st = NIDEC_STELZER_INIT;
		assert_int_equal(nidec_stelzer_run(&m.g, S, (const float *const *)m.maps,
						   (const float *const *)m.nulls, m.n_null, &o, &st, NULL), 0);
		assert_true(st.n_clusters >= 1);
		assert_true(st.p[0] < 0.05);
		found = 0;
		for (v = 0; v < m.V; v++) {
			const int32_t *q = m.ijk + 3 * v;
			if (q[0] == 4 && q[1] == 4 && q[2] == 4)
				found = st.label[v] == 1;
		}
		assert_true(found);
		nidec_stelzer_release(&st);
	}
	sim_free(&m);
}

static void test_core_cluster__bad_options(void **state)
{
	struct sim m;
	nidec_stelzer st = NIDEC_STELZER_INIT;
	nidec_stelzer_opts o = { 500, 0.001, 0 };
	nidec_err e = NIDEC_ERR_INIT;
	nidec_rng r;

	(void)state;
	sim_init(&m, 3);
	nidec_rng_seed(&r, 1);
	sim_fill(&m, &r);
	assert_int_equal(nidec_stelzer_run(&m.g, S, (const float *const *)m.maps,
					   (const float *const *)m.nulls, m.n_null, &o, &st, &e), NIDEC_EINPUT);
	assert_non_null(strstr(e.msg, "[sweep] cluster_draws = 500 is too few for cluster_threshold = 0.001: give at least 1000 draws"));
	o.threshold = 1;
	assert_int_equal(nidec_stelzer_run(&m.g, S, (const float *const *)m.maps,
					   (const float *const *)m.nulls, m.n_null, &o, &st, &e), NIDEC_EINPUT);
	sim_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_cluster__label_brute_force),
		cmocka_unit_test(test_core_cluster__stelzer_direct),
		cmocka_unit_test(test_core_cluster__stelzer_fwe),
		cmocka_unit_test(test_core_cluster__bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
