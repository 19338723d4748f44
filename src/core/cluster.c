/*
 * cluster.c - 26-connected voxel clusters and Stelzer et al.'s (2013)
 * cluster-level group test (include/nidec/cluster.h has the method).
 *
 * The neighbourhood is built once (compressed rows over the V voxels), so
 * labelling a map costs O(voxels above threshold x 26) however large the
 * grid.  The per-voxel threshold keeps, for every voxel, the K + 1 largest
 * null values seen in a min-heap; the second pass regenerates the same
 * draws from the same seed.  libc only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/cluster.h"
#include "nidec/mem.h"
#include "nidec/rng.h"

void nidec_cluster_grid_release(nidec_cluster_grid *g)
{
	static const nidec_cluster_grid empty = NIDEC_CLUSTER_GRID_INIT;

	if (!g)
		return;
	nidec_free(g->ptr);
	nidec_free(g->nbr);
	*g = empty;
}

int nidec_cluster_grid_build(const int32_t *ijk, size_t n, const int64_t dims[3],
			     nidec_cluster_grid *g, nidec_err *err)
{
	nidec_cluster_grid r = NIDEC_CLUSTER_GRID_INIT;
	int32_t *at = NULL;     /* grid voxel -> index + 1, 0 = not a voxel */
	size_t n3, v, m = 0;
	int rc = 0;

	if (nidec_mul_size((size_t)dims[0], (size_t)dims[1], &n3) < 0 ||
	    nidec_mul_size(n3, (size_t)dims[2], &n3) < 0 || n > INT32_MAX)
		return nidec_fail(err, NIDEC_ENOMEM, "grid %lldx%lldx%lld too large", (long long)dims[0],
				  (long long)dims[1], (long long)dims[2]);
	at = nidec_calloc_e(n3 ? n3 : 1, sizeof(*at), "the cluster grid", err);
	r.ptr = nidec_malloc_e(n + 1, sizeof(*r.ptr), "the cluster grid", err);
	r.nbr = nidec_malloc_e(n ? 26 * n : 1, sizeof(*r.nbr), "the cluster grid", err);
	if (!at || !r.ptr || !r.nbr) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (v = 0; v < n; v++) {
		const int32_t *q = ijk + 3 * v;
		at[(size_t)q[0] + (size_t)dims[0] * ((size_t)q[1] + (size_t)dims[1] * (size_t)q[2])] =
			(int32_t)v + 1;
	}
	for (v = 0; v < n; v++) {
		const int32_t *q = ijk + 3 * v;
		int di, dj, dk;
		r.ptr[v] = m;
		for (dk = -1; dk <= 1; dk++)
			for (dj = -1; dj <= 1; dj++)
				for (di = -1; di <= 1; di++) {
					int64_t i = q[0] + di, j = q[1] + dj, k = q[2] + dk;
					int32_t w;
					if ((di | dj | dk) == 0 || i < 0 || j < 0 || k < 0 || i >= dims[0] ||
					    j >= dims[1] || k >= dims[2])
						continue;
					w = at[(size_t)i + (size_t)dims[0] * ((size_t)j + (size_t)dims[1] * (size_t)k)];
					if (w)
						r.nbr[m++] = (uint32_t)(w - 1);
				}
	}
	r.ptr[n] = m;
	r.n = n;
	*g = r;
	r.ptr = NULL;
	r.nbr = NULL;
done:
	nidec_free(at);
	nidec_cluster_grid_release(&r);
	return rc;
}

/*
 * Flood-fill the component of `seed` among the voxels with on[] set,
 * writing `id` into comp[] (0 = unvisited); `stack` holds n entries.
 * Returns its size.
 */
static size_t fill(const nidec_cluster_grid *g, const unsigned char *on, uint32_t *comp,
		   uint32_t seed, uint32_t id, uint32_t *stack)
{
	size_t top = 0, size = 0, e;

	comp[seed] = id;
	stack[top++] = seed;
	while (top) {
		uint32_t v = stack[--top];
		size++;
		for (e = g->ptr[v]; e < g->ptr[v + 1]; e++) {
			uint32_t w = g->nbr[e];
			if (on[w] && !comp[w]) {
				comp[w] = id;
				stack[top++] = w;
			}
		}
	}
	return size;
}

struct comp_key {
	const size_t *size;
	const uint32_t *first;  /* each component's smallest voxel */
};

/* Components by decreasing size, then by their first voxel. */
static int by_size_desc(const void *a, const void *b, void *ctx)
{
	const struct comp_key *k = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (k->size[x] != k->size[y])
		return k->size[x] > k->size[y] ? -1 : 1;
	return k->first[x] < k->first[y] ? -1 : k->first[x] > k->first[y];
}

size_t nidec_cluster_label(const nidec_cluster_grid *g, const unsigned char *on, uint32_t *label,
			   size_t *size, uint32_t *work)
{
	uint32_t *stack = work, *first = work + g->n, *ids = work + 2 * g->n;
	struct comp_key key = { size, first };
	size_t v, n_comp = 0, c;

	memset(label, 0, g->n * sizeof(*label));
	for (v = 0; v < g->n; v++)
		if (on[v] && !label[v]) {
			size[n_comp] = fill(g, on, label, (uint32_t)v, (uint32_t)(n_comp + 1), stack);
			first[n_comp] = (uint32_t)v;
			ids[n_comp] = (uint32_t)n_comp;
			n_comp++;
		}
	if (n_comp < 2)
		return n_comp;
	/* found in voxel order; relabel by decreasing size */
	qsort_r(ids, n_comp, sizeof(*ids), by_size_desc, &key);
	for (c = 0; c < n_comp; c++) {
		stack[ids[c]] = (uint32_t)c + 1;     /* old id -> new label */
		first[c] = (uint32_t)size[ids[c]];  /* sizes in the new order */
	}
	for (c = 0; c < n_comp; c++)
		size[c] = first[c];
	for (v = 0; v < g->n; v++)
		if (label[v])
			label[v] = stack[label[v] - 1];
	return n_comp;
}

void nidec_stelzer_release(nidec_stelzer *s)
{
	static const nidec_stelzer empty = NIDEC_STELZER_INIT;

	if (!s)
		return;
	nidec_free(s->observed);
	nidec_free(s->threshold);
	nidec_free(s->label);
	nidec_free(s->size);
	nidec_free(s->peak);
	nidec_free(s->p);
	nidec_free(s->null_max);
	*s = empty;
}

/* Group null map m into acc[]: one null map per subject, drawn from r. */
static void draw(nidec_rng *r, size_t S, size_t V, const float *const *nulls, const size_t *n_null,
		 double *acc)
{
	size_t s, v;

	for (v = 0; v < V; v++)
		acc[v] = 0;
	for (s = 0; s < S; s++) {
		const float *x = nulls[s] + (size_t)nidec_rng_below(r, n_null[s]) * V;
		for (v = 0; v < V; v++)
			acc[v] += (double)x[v];
	}
	for (v = 0; v < V; v++)
		acc[v] /= (double)S;
}

/* Push x into the min-heap h[0..L) of the L largest values so far
 * (`*fill` entries in use). */
static void heap_push(double *h, size_t L, size_t *fill, double x)
{
	size_t i, c;

	if (*fill < L) {
		i = (*fill)++;
		while (i > 0 && h[(i - 1) / 2] > x) {
			h[i] = h[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h[i] = x;
		return;
	}
	if (!(x > h[0]))
		return;
	i = 0;
	for (;;) {
		c = 2 * i + 1;
		if (c >= L)
			break;
		if (c + 1 < L && h[c + 1] < h[c])
			c++;
		if (!(h[c] < x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

int nidec_stelzer_run(const nidec_cluster_grid *g, size_t S, const float *const *maps,
		      const float *const *nulls, const size_t *n_null, const nidec_stelzer_opts *o,
		      nidec_stelzer *out, nidec_err *err)
{
	nidec_stelzer r = NIDEC_STELZER_INIT;
	size_t V = g->n, M = o->draws, L, m, v, s, c;
	double *heap = NULL, *acc = NULL;
	unsigned char *on = NULL;
	uint32_t *comp = NULL, *stack = NULL, *list = NULL;
	size_t *sizes = NULL;
	nidec_rng rng;
	int rc = 0;

	if (!(o->threshold > 0 && o->threshold < 1))
		return nidec_fail(err, NIDEC_EINPUT,
				  "[sweep] cluster_threshold = %g: give a voxel-wise p-value in (0, 1), e.g. 0.001",
				  o->threshold);
	if (M < 1 || (double)M * o->threshold < 1 - 1e-9)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[sweep] cluster_draws = %zu is too few for cluster_threshold = %g: give at least %.0f draws",
				  M, o->threshold, ceil(1 / o->threshold));
	if (S < 1)
		return nidec_fail(err, NIDEC_EINPUT, "the cluster test needs at least one subject");
	for (s = 0; s < S; s++)
		if (n_null[s] < 1)
			return nidec_fail(err, NIDEC_EINPUT, "the cluster test needs null maps of every subject");
	L = (size_t)floor((double)M * o->threshold + 1e-9) + 1;  /* K + 1 */
	if (L > M)
		L = M;
	r.n_voxels = V;
	r.draws = M;
	r.observed = nidec_malloc_e(V + 1, sizeof(double), "the group map", err);
	r.threshold = nidec_malloc_e(V + 1, sizeof(double), "the cluster thresholds", err);
	r.label = nidec_calloc_e(V + 1, sizeof(uint32_t), "the clusters", err);
	r.null_max = nidec_calloc_e(M, sizeof(size_t), "the null cluster sizes", err);
	heap = nidec_malloc_e(V + 1, L * sizeof(double), "the cluster thresholds", err);
	acc = nidec_malloc_e(V + 1, sizeof(double), "a group null map", err);
	on = nidec_calloc_e(V + 1, 1, "a thresholded map", err);
	comp = nidec_calloc_e(V + 1, sizeof(uint32_t), "the clusters", err);
	stack = nidec_malloc_e(3 * V + 3, sizeof(uint32_t), "the clusters", err);
	list = nidec_malloc_e(V + 1, sizeof(uint32_t), "the clusters", err);
	sizes = nidec_malloc_e(V + 1, sizeof(size_t), "the clusters", err);
	if (!r.observed || !r.threshold || !r.label || !r.null_max || !heap || !acc || !on || !comp ||
	    !stack || !list || !sizes) {
		rc = NIDEC_ENOMEM;
		goto done;
	}

	/* pass 1: the (K + 1)-th largest null value of every voxel */
	nidec_rng_seed(&rng, o->seed);
	for (m = 0; m < M; m++) {
		draw(&rng, S, V, nulls, n_null, acc);
		for (v = 0; v < V; v++) {
			size_t f = m < L ? m : L;
			heap_push(heap + v * L, L, &f, acc[v]);
		}
	}
	for (v = 0; v < V; v++)
		r.threshold[v] = heap[v * L];  /* the heap's minimum */

	/* pass 2: the largest cluster of every group null map */
	nidec_rng_seed(&rng, o->seed);
	for (m = 0; m < M; m++) {
		size_t n_on = 0, best = 0, k;
		draw(&rng, S, V, nulls, n_null, acc);
		for (v = 0; v < V; v++)
			if (acc[v] > r.threshold[v]) {
				on[v] = 1;
				list[n_on++] = (uint32_t)v;
			}
		for (k = 0; k < n_on; k++)
			if (!comp[list[k]]) {
				size_t z = fill(g, on, comp, list[k], 1, stack);
				best = z > best ? z : best;
			}
		for (k = 0; k < n_on; k++) {
			on[list[k]] = 0;
			comp[list[k]] = 0;
		}
		r.null_max[m] = best;
	}

	/* the observed map, its clusters and their p-values */
	for (v = 0; v < V; v++) {
		double a = 0;
		for (s = 0; s < S; s++)
			a += (double)(float)maps[s][v];
		r.observed[v] = a / (double)S;
		on[v] = r.observed[v] > r.threshold[v];
	}
	r.n_clusters = nidec_cluster_label(g, on, r.label, sizes, stack);
	r.size = nidec_malloc_e(r.n_clusters + 1, sizeof(size_t), "the clusters", err);
	r.peak = nidec_malloc_e(r.n_clusters + 1, sizeof(size_t), "the clusters", err);
	r.p = nidec_malloc_e(r.n_clusters + 1, sizeof(double), "the clusters", err);
	if (!r.size || !r.peak || !r.p) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (c = 0; c < r.n_clusters; c++) {
		size_t ge = 0;
		r.size[c] = sizes[c];
		r.peak[c] = V;
		for (m = 0; m < M; m++)
			ge += r.null_max[m] >= sizes[c];
		r.p[c] = (1.0 + (double)ge) / ((double)M + 1.0);
	}
	for (v = 0; v < V; v++)
		if (r.label[v]) {
			size_t *pk = &r.peak[r.label[v] - 1];
			if (*pk == V || r.observed[v] > r.observed[*pk])
				*pk = v;
		}
	*out = r;
	memset(&r, 0, sizeof(r));
done:
	nidec_stelzer_release(&r);
	nidec_free(heap);
	nidec_free(acc);
	nidec_free(on);
	nidec_free(comp);
	nidec_free(stack);
	nidec_free(list);
	nidec_free(sizes);
	return rc;
}
