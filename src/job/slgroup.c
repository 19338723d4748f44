/*
 * slgroup.c - the group level of a searchlight sweep (slgroup.h; the
 * method is docs/SWEEP.md "Searchlight group level").
 *
 * From the subjects' results.h5 only (so --gather after a job array gives
 * the same files): their maps on one grid, the voxels that are a scored
 * centre of every subject, the mean map and the one-sample t-test against
 * chance at each of them (stats.h, as the sweep's per-class test), and
 * with every subject's null maps, Stelzer et al.'s cluster test
 * (cluster.h).  Rank 0 only; no MPI.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nidec/cluster.h"
#include "nidec/convert.h"
#include "nidec/dataset.h"
#include "nidec/file.h"
#include "nidec/keyfile.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/nii.h"
#include "nidec/sbuf.h"
#include "nidec/slmaps.h"
#include "nidec/stats.h"

#include "slgroup.h"

/* Stelzer et al. drew from 100 permutations per subject; with fewer the
 * group null is too narrow (docs/SWEEP.md; tests/unit/test_core_cluster.c). */
#define STELZER_MIN_PERMUTATIONS 100

static void grid_text(const int64_t dims[3], const double a[16], char *buf, size_t len)
{
	snprintf(buf, len, "%lldx%lldx%lld, affine [%g %g %g %g; %g %g %g %g; %g %g %g %g]",
		 (long long)dims[0], (long long)dims[1], (long long)dims[2], a[0], a[1], a[2], a[3], a[4],
		 a[5], a[6], a[7], a[8], a[9], a[10], a[11]);
}

static int grid_differs(const char *label0, const char *label, const char *path, const int64_t d0[3],
			const double a0[16], const int64_t d[3], const double a[16], nidec_err *err)
{
	char g0[256], g[256];

	grid_text(d0, a0, g0, sizeof(g0));
	grid_text(d, a, g, sizeof(g));
	return nidec_fail(err, NIDEC_EINPUT,
			  "sub-%s: '%s' is on grid %s, sub-%s on %s; a searchlight group level needs every subject on one grid (e.g. fMRIPrep's space-MNI152NLin2009cAsym outputs): resample the images, or sweep each grid separately",
			  label, path, g, label0, g0);
}

int nidec_sl_group_check_grids(const nidec_sweep *sw, const nidec_cfg *cfgs, const size_t *idx,
			       size_t n, nidec_err *err)
{
	int64_t d0[3] = { 0, 0, 0 };
	double a0[16];
	const char *label0 = NULL;
	size_t k;
	int rc = 0;

	for (k = 0; rc == 0 && k < n; k++) {
		nidec_err e = NIDEC_ERR_INIT;
		char **paths = NULL;
		size_t n_paths = 0;
		nidec_nii *h = NULL;

		if (!cfgs[k].bold || !cfgs[k].bold[0])
			continue;
		/* a subject whose files are missing fails on its own later */
		if (nidec_glob_natural(cfgs[k].bold, "[data] bold", &paths, &n_paths, &e) < 0 || !n_paths ||
		    nidec_nii_read_header(paths[0], &h, &e) < 0) {
			nidec_strv_free(paths, n_paths);
			if (e.code == NIDEC_ENOMEM)
				return nidec_fail(err, e.code, "%s", e.msg);
			continue;
		}
		if (!label0) {
			memcpy(d0, h->dims, sizeof(d0));
			memcpy(a0, h->affine, sizeof(a0));
			label0 = sw->subject[idx[k]].label;
		} else if (!nidec_nii_same_grid(d0, a0, h->dims, h->affine, 1e-4)) {
			rc = grid_differs(label0, sw->subject[idx[k]].label, paths[0], d0, a0, h->dims,
					  h->affine, err);
		}
		nidec_nii_free(&h);
		nidec_strv_free(paths, n_paths);
	}
	return rc;
}

/* What the group level holds. */
struct group {
	size_t S;               /* subjects */
	nidec_sl_file *f;       /* [S] */
	const char **label;     /* [S] */
	size_t V;               /* common voxels */
	int32_t *ijk;           /* [V * 3] C order */
	float **map;            /* [S][V] */
	float **null;           /* [S][P_s * V] */
	size_t *n_null;         /* [S] */
	double *mean, *t, *p;   /* [V] */
};

static void group_release(struct group *g)
{
	size_t s;

	for (s = 0; s < g->S; s++) {
		if (g->f)
			nidec_sl_file_release(&g->f[s]);
		if (g->map)
			nidec_free(g->map[s]);
		if (g->null)
			nidec_free(g->null[s]);
	}
	nidec_free(g->f);
	nidec_free(g->label);
	nidec_free(g->ijk);
	nidec_free(g->map);
	nidec_free(g->null);
	nidec_free(g->n_null);
	nidec_free(g->mean);
	nidec_free(g->t);
	nidec_free(g->p);
	memset(g, 0, sizeof(*g));
}

/* Each subject's results.h5, on one grid. */
static int read_subjects(const nidec_sweep *sw, const char *root, const size_t *ok, struct group *g,
			 nidec_err *err)
{
	char dir[4096], path[4200];
	size_t s;

	for (s = 0; s < g->S; s++) {
		const nidec_sl_file *f0 = &g->f[0];
		g->label[s] = sw->subject[ok[s]].label;
		NIDEC_TRY(nidec_sweep_subject_dir(root, g->label[s], dir, sizeof(dir), err));
		NIDEC_TRY(nidec_file_join(path, sizeof(path), dir, "results.h5", err));
		NIDEC_TRY(nidec_sl_read(path, 1, &g->f[s], err));
		if (s > 0 && !nidec_nii_same_grid(f0->dims, f0->affine, g->f[s].dims, g->f[s].affine, 1e-4))
			return grid_differs(g->label[0], g->label[s], path, f0->dims, f0->affine, g->f[s].dims,
					    g->f[s].affine, err);
	}
	return 0;
}

/* The voxels scored in every subject, in C order, and each subject's
 * values there. */
static int common_voxels(struct group *g, nidec_err *err)
{
	const int64_t *dims = g->f[0].dims;
	size_t n3 = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2], s, c, v;
	uint32_t *count = nidec_calloc_e(n3, sizeof(uint32_t), "the group grid", err);
	uint32_t *at = NULL;
	int rc = 0;

	if (!count)
		return NIDEC_ENOMEM;
	for (s = 0; s < g->S; s++)
		for (c = 0; c < g->f[s].n_centres; c++) {
			const int32_t *q = g->f[s].ijk + 3 * c;
			if (isfinite(g->f[s].map[c]))
				count[((size_t)q[0] * (size_t)dims[1] + (size_t)q[1]) * (size_t)dims[2] + (size_t)q[2]]++;
		}
	for (v = 0; v < n3; v++)
		g->V += count[v] == g->S;
	if (!g->V) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"no voxel is a scored sphere centre of every subject; check that the subjects' masks overlap");
		goto done;
	}
	/* count[v] becomes the voxel's common index + 1 */
	g->ijk = nidec_malloc_e(3 * g->V, sizeof(int32_t), "the group voxels", err);
	if (!g->ijk) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (v = 0, c = 0; v < n3; v++) {
		if (count[v] != g->S) {
			count[v] = 0;
			continue;
		}
		g->ijk[3 * c] = (int32_t)(v / ((size_t)dims[1] * (size_t)dims[2]));
		g->ijk[3 * c + 1] = (int32_t)(v / (size_t)dims[2] % (size_t)dims[1]);
		g->ijk[3 * c + 2] = (int32_t)(v % (size_t)dims[2]);
		count[v] = (uint32_t)++c;
	}
	at = count;
	for (s = 0; s < g->S; s++) {
		const nidec_sl_file *f = &g->f[s];
		size_t P = (size_t)f->n_perm, k;
		g->map[s] = nidec_malloc_e(g->V, sizeof(float), "a subject's map", err);
		g->null[s] = P ? nidec_malloc_e(P * g->V, sizeof(float), "a subject's null maps", err) : NULL;
		if (!g->map[s] || (P && !g->null[s])) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		g->n_null[s] = P;
		for (c = 0; c < f->n_centres; c++) {
			const int32_t *q = f->ijk + 3 * c;
			uint32_t i = at[((size_t)q[0] * (size_t)dims[1] + (size_t)q[1]) * (size_t)dims[2] + (size_t)q[2]];
			if (!i)
				continue;
			g->map[s][i - 1] = (float)f->map[c];
			for (k = 0; k < P; k++)
				g->null[s][k * g->V + i - 1] = f->null_map[k * f->n_centres + c];
		}
		/* the null maps now live in g->null */
		nidec_free(g->f[s].null_map);
		g->f[s].null_map = NULL;
	}
done:
	nidec_free(count);
	return rc;
}

/* The mean map and the t-test against chance at every common voxel. */
static int voxel_tests(struct group *g, double chance, nidec_err *err)
{
	double *x = nidec_malloc_e(g->S, sizeof(double), "the group test", err);
	size_t v, s;

	g->mean = nidec_malloc_e(g->V, sizeof(double), "the group map", err);
	g->t = nidec_malloc_e(g->V, sizeof(double), "the group map", err);
	g->p = nidec_malloc_e(g->V, sizeof(double), "the group map", err);
	if (!x || !g->mean || !g->t || !g->p) {
		nidec_free(x);
		return NIDEC_ENOMEM;
	}
	for (v = 0; v < g->V; v++) {
		nidec_ttest tt;
		for (s = 0; s < g->S; s++)
			x[s] = (double)g->map[s][v];
		nidec_stats_ttest_1samp(x, g->S, isnan(chance) ? 0 : chance, &tt);
		g->mean[v] = tt.mean;
		g->t[v] = isnan(chance) ? NAN : tt.t;
		g->p[v] = isnan(chance) ? NAN : tt.p_greater;
	}
	nidec_free(x);
	return 0;
}

static double world(const double a[16], const int32_t *q, int r)
{
	return a[4 * r] * q[0] + a[4 * r + 1] * q[1] + a[4 * r + 2] * q[2] + a[4 * r + 3];
}

/* A map over the common voxels into the file set (float32, 0 elsewhere). */
static int add_map(nidec_fileset *fs, const struct group *g, const char *name, const double *v,
		   const char *descrip, nidec_err *err)
{
	const nidec_sl_file *f = &g->f[0];
	nidec_dataset grid;
	nidec_tempfile *t = NULL;
	float *vals;
	size_t i;
	int rc, r;

	memset(&grid, 0, sizeof(grid));
	grid.path = (char *)name;
	grid.n_voxels = g->V;
	grid.ijk = g->ijk;
	memcpy(grid.dims, f->dims, sizeof(grid.dims));
	memcpy(grid.affine, f->affine, sizeof(grid.affine));
	for (r = 0; r < 3; r++)
		grid.pixdim[r] = sqrt(f->affine[r] * f->affine[r] + f->affine[4 + r] * f->affine[4 + r] +
				      f->affine[8 + r] * f->affine[8 + r]);
	grid.nifti_header = f->nifti_header;
	grid.nifti_header_len = f->nifti_header_len;
	vals = nidec_malloc_e(g->V, sizeof(float), "a group map", err);
	if (!vals)
		return NIDEC_ENOMEM;
	for (i = 0; i < g->V; i++)
		vals[i] = isfinite(v[i]) ? (float)v[i] : 0.0f;
	rc = nidec_fileset_add(fs, name, &t, err);
	if (rc == 0)
		rc = nidec_nii_write_masked_n(t, &grid, vals, 1, descrip, err);
	nidec_free(vals);
	return rc;
}

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *ijk_json(const int32_t *q)
{
	json_t *a = json_array();
	int r;

	for (r = 0; r < 3; r++)
		json_array_append_new(a, json_integer(q[r]));
	return a;
}

static json_t *xyz_json(const double aff[16], const int32_t *q)
{
	json_t *a = json_array();
	int r;

	for (r = 0; r < 3; r++)
		json_array_append_new(a, json_real(world(aff, q, r)));
	return a;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* The cluster test's files and its JSON block. */
static int cluster_files(nidec_fileset *fs, const struct group *g, const nidec_sweep *sw,
			 const nidec_stelzer *st, json_t *block, nidec_err *err)
{
	const double *aff = g->f[0].affine;
	double *lab = nidec_malloc_e(g->V, sizeof(double), "the clusters", err);
	double *thr = nidec_malloc_e(g->V, sizeof(double), "the clusters", err);
	size_t *sorted = nidec_malloc_e(st->draws, sizeof(size_t), "the clusters", err);
	nidec_sbuf tsv = NIDEC_SBUF_INIT;
	nidec_tempfile *t = NULL;
	json_t *jc = json_array(), *jn = json_object();
	size_t v, c, kept = 0;
	int rc = 0, add = 0;

	if (!lab || !thr || !sorted || !jc || !jn) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (v = 0; v < g->V; v++) {
		uint32_t l = st->label[v];
		lab[v] = l;
		thr[v] = l && st->p[l - 1] <= sw->cluster_alpha ? g->mean[v] : 0;
	}
	add |= nidec_sbuf_adds(&tsv, "cluster\tsize\tp_fwe\tpeak_mean\tpeak_t\tpeak_i\tpeak_j\tpeak_k\tpeak_x\tpeak_y\tpeak_z\n");
	for (c = 0; c < st->n_clusters; c++) {
		size_t pk = st->peak[c];
		const int32_t *q = g->ijk + 3 * pk;
		json_t *e = json_object();
		add |= nidec_sbuf_addf(&tsv, "%zu\t%zu\t%.17g\t%.17g\t%.17g\t%d\t%d\t%d\t%.17g\t%.17g\t%.17g\n", c + 1,
				       st->size[c], st->p[c], g->mean[pk], g->t[pk], q[0], q[1], q[2],
				       world(aff, q, 0), world(aff, q, 1), world(aff, q, 2));
		kept += st->p[c] <= sw->cluster_alpha;
		json_object_set_new(e, "cluster", json_integer((json_int_t)c + 1));
		json_object_set_new(e, "size", json_integer((json_int_t)st->size[c]));
		json_object_set_new(e, "p_fwe", json_real(st->p[c]));
		json_object_set_new(e, "peak_mean", jnum(g->mean[pk]));
		json_object_set_new(e, "peak_ijk", ijk_json(q));
		json_object_set_new(e, "peak_xyz", xyz_json(aff, q));
		json_array_append_new(jc, e);
	}
	if (add) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory building group_searchlight_clusters.tsv");
		goto done;
	}
	memcpy(sorted, st->null_max, st->draws * sizeof(size_t));
	qsort(sorted, st->draws, sizeof(size_t), cmp_size);
	json_object_set_new(jn, "draws", json_integer((json_int_t)st->draws));
	json_object_set_new(jn, "cluster_threshold", json_real(sw->cluster_threshold));
	json_object_set_new(jn, "cluster_alpha", json_real(sw->cluster_alpha));
	json_object_set_new(jn, "seed", json_integer((json_int_t)sw->seed));
	json_object_set_new(jn, "connectivity", json_integer(26));
	json_object_set_new(jn, "null_max_cluster_median", json_integer((json_int_t)sorted[st->draws / 2]));
	json_object_set_new(jn, "null_max_cluster_p95",
			    json_integer((json_int_t)sorted[(size_t)floor(0.95 * (double)(st->draws - 1))]));
	json_object_set_new(jn, "n_clusters", json_integer((json_int_t)st->n_clusters));
	json_object_set_new(jn, "n_significant", json_integer((json_int_t)kept));
	json_object_set_new(jn, "clusters", jc);
	jc = NULL;
	json_object_set_new(jn, "method",
			    json_string("Stelzer et al. 2013: group null maps = mean of one null map per subject drawn at random; voxel threshold = the (floor(threshold x draws) + 1)-th largest null value; 26-connected clusters; p = (1 + #draws whose largest cluster >= size) / (draws + 1)"));
	json_object_set_new(block, "cluster_test", jn);
	jn = NULL;
	NIDEC_TRY_GOTO(rc, add_map(fs, g, "group_searchlight_clusters.nii.gz", lab, "nidec cluster index", err), done);
	NIDEC_TRY_GOTO(rc, add_map(fs, g, "group_searchlight_thresholded.nii.gz", thr,
				   "nidec group mean, significant clusters", err), done);
	NIDEC_TRY_GOTO(rc, nidec_fileset_add(fs, "group_searchlight_clusters.tsv", &t, err), done);
	rc = nidec_tempfile_write(t, tsv.buf, tsv.len, err);
	if (rc == 0)
		nidec_out("cluster test: %zu draws, %zu cluster%s above p < %g, %zu with p_fwe <= %g\n", st->draws,
			  st->n_clusters, st->n_clusters == 1 ? "" : "s", sw->cluster_threshold, kept,
			  sw->cluster_alpha);
done:
	json_decref(jc);
	json_decref(jn);
	nidec_sbuf_release(&tsv);
	nidec_free(lab);
	nidec_free(thr);
	nidec_free(sorted);
	return rc;
}

/* A gather without the cluster test leaves no cluster file of an earlier one. */
static int remove_stale(const char *root, nidec_err *err)
{
	static const char *const names[] = { "group_searchlight_clusters.nii.gz",
					     "group_searchlight_thresholded.nii.gz",
					     "group_searchlight_clusters.tsv" };
	char path[4200];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		NIDEC_TRY(nidec_file_join(path, sizeof(path), root, names[i], err));
		if (unlink(path) < 0 && errno != ENOENT)
			return nidec_fail(err, NIDEC_EIO, "cannot remove the stale '%s': %s", path, strerror(errno));
	}
	return 0;
}

int nidec_sl_group(const nidec_sweep *sw, const char *root, const size_t *ok, size_t n_ok,
		   double chance, json_t **out, nidec_err *err)
{
	struct group g;
	nidec_fileset fs = NIDEC_FILESET_INIT(root);
	nidec_stelzer st = NIDEC_STELZER_INIT;
	nidec_cluster_grid cg = NIDEC_CLUSTER_GRID_INIT;
	json_t *block = NULL, *subs = NULL;
	size_t s, v, best = 0, min_perm = (size_t)-1, no_null = 0;
	int rc = 0;

	memset(&g, 0, sizeof(g));
	if (!n_ok)
		return 0;
	g.S = n_ok;
	g.f = nidec_calloc_e(n_ok, sizeof(*g.f), "the group", err);
	g.label = nidec_calloc_e(n_ok, sizeof(*g.label), "the group", err);
	g.map = nidec_calloc_e(n_ok, sizeof(*g.map), "the group", err);
	g.null = nidec_calloc_e(n_ok, sizeof(*g.null), "the group", err);
	g.n_null = nidec_calloc_e(n_ok, sizeof(*g.n_null), "the group", err);
	if (!g.f || !g.label || !g.map || !g.null || !g.n_null) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	NIDEC_TRY_GOTO(rc, read_subjects(sw, root, ok, &g, err), done);
	NIDEC_TRY_GOTO(rc, common_voxels(&g, err), done);
	NIDEC_TRY_GOTO(rc, voxel_tests(&g, chance, err), done);
	for (v = 1; v < g.V; v++)
		if (g.mean[v] > g.mean[best])
			best = v;
	for (s = 0; s < g.S; s++) {
		no_null += g.n_null[s] == 0;
		min_perm = g.n_null[s] < min_perm ? g.n_null[s] : min_perm;
	}

	block = json_object();
	subs = json_array();
	if (!block || !subs) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory building group_summary.json");
		goto done;
	}
	for (s = 0; s < g.S; s++)
		json_array_append_new(subs, json_string(g.label[s]));
	json_object_set_new(block, "subjects", subs);
	subs = NULL;
	json_object_set_new(block, "dims", json_pack("[III]", (json_int_t)g.f[0].dims[0],
						     (json_int_t)g.f[0].dims[1], (json_int_t)g.f[0].dims[2]));
	json_object_set_new(block, "n_voxels", json_integer((json_int_t)g.V));
	json_object_set_new(block, "voxels_rule", json_string("the voxels that are a scored sphere centre of every subject"));
	json_object_set_new(block, "chance", jnum(chance));
	json_object_set_new(block, "peak_mean", jnum(g.mean[best]));
	json_object_set_new(block, "peak_ijk", ijk_json(g.ijk + 3 * best));
	json_object_set_new(block, "peak_xyz", xyz_json(g.f[0].affine, g.ijk + 3 * best));
	json_object_set_new(block, "t_test", json_string("one-sample t-test of the subjects' scores against chance at each voxel, p one-sided (greater), uncorrected"));

	NIDEC_TRY_GOTO(rc, add_map(&fs, &g, "group_searchlight_mean.nii.gz", g.mean, "nidec group mean map", err), done);
	NIDEC_TRY_GOTO(rc, add_map(&fs, &g, "group_searchlight_t.nii.gz", g.t, "nidec group t vs chance", err), done);
	NIDEC_TRY_GOTO(rc, add_map(&fs, &g, "group_searchlight_p.nii.gz", g.p, "nidec group p (t, uncorrected)", err), done);
	nidec_out("searchlight group: %zu subjects, %zu voxels in common, peak mean %.4f at voxel (%d, %d, %d)\n",
		  g.S, g.V, g.mean[best], g.ijk[3 * best], g.ijk[3 * best + 1], g.ijk[3 * best + 2]);
	if (no_null) {
		json_object_set_new(block, "cluster_test",
				    json_string("not run: some subjects have no null maps (set [cv] permutations, 100 or more)"));
	} else {
		nidec_stelzer_opts o;
		if (min_perm < STELZER_MIN_PERMUTATIONS)
			nidec_warn("the cluster test draws from %zu permutations per subject; with fewer than %d the group null is too narrow and the test too liberal (docs/SWEEP.md); set [cv] permutations = %d",
				   min_perm, STELZER_MIN_PERMUTATIONS, STELZER_MIN_PERMUTATIONS);
		o.draws = sw->cluster_draws;
		o.threshold = sw->cluster_threshold;
		o.seed = sw->seed;
		NIDEC_TRY_GOTO(rc, nidec_cluster_grid_build(g.ijk, g.V, g.f[0].dims, &cg, err), done);
		NIDEC_TRY_GOTO(rc, nidec_stelzer_run(&cg, g.S, (const float *const *)g.map,
						     (const float *const *)g.null, g.n_null, &o, &st, err), done);
		NIDEC_TRY_GOTO(rc, cluster_files(&fs, &g, sw, &st, block, err), done);
	}
	NIDEC_TRY_GOTO(rc, nidec_fileset_commit(&fs, err), done);
	if (no_null)
		NIDEC_TRY_GOTO(rc, remove_stale(root, err), done);
	*out = block;
	block = NULL;
done:
	json_decref(block);
	json_decref(subs);
	nidec_fileset_release(&fs);
	nidec_stelzer_release(&st);
	nidec_cluster_grid_release(&cg);
	group_release(&g);
	return rc;
}
