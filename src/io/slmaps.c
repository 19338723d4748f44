/*
 * slmaps.c - a searchlight's files (include/nidec/slmaps.h): NIfTI maps on
 * the mask's grid and affine, searchlight.tsv, summary.json and
 * results.h5, written as one file set (all or nothing, summary.json last).
 * The run's provenance, config, warnings, timing and checkpoint ledger go
 * in as the decoder's do (results_int.h), so both analyses' files record
 * a run the same way.  Doubles in the TSV and JSON files round-trip
 * ("%.17g"); maps are float32 (NaN for skipped spheres).
 */
#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nidec/file.h"
#include "nidec/ledger.h"
#include "nidec/mem.h"
#include "nidec/nii.h"
#include "nidec/sbuf.h"
#include "nidec/slmaps.h"

#include "h5w.h"
#include "results_int.h"

#define N_BEST 10

struct ctx {
	const char *dir;
	const nidec_sl_outcome *o;
	const nidec_results_info *info;
	const nidec_sl_extra *x;
	const char *sc;         /* scoring name */
	float *vals;            /* [p] a map on the mask */
};

/* vals = v[c * stride] at each centre, 0 at the other mask voxels. */
static void fill(struct ctx *c, const double *v, size_t stride)
{
	size_t i;

	memset(c->vals, 0, c->info->ds->n_voxels * sizeof(float));
	for (i = 0; i < c->o->n_centres; i++)
		c->vals[c->x->sp->centre[i]] = (float)v[i * stride];
}

static int write_map(struct ctx *c, nidec_fileset *fs, const char *name, const double *v,
		     size_t stride, const char *descrip, nidec_err *err)
{
	nidec_tempfile *t = NULL;

	NIDEC_TRY(nidec_fileset_add(fs, name, &t, err));
	fill(c, v, stride);
	return nidec_nii_write_masked_n(t, c->info->ds, c->vals, 1, descrip, err);
}

static int write_maps(struct ctx *c, nidec_fileset *fs, nidec_err *err)
{
	const nidec_sl_outcome *o = c->o;
	size_t N = o->n_centres, F = o->n_folds, p = c->info->ds->n_voxels, k, f, i;
	char name[512], safe[256];
	float *folds = NULL;
	double *nv = NULL;
	nidec_tempfile *t = NULL;
	int rc = 0;

	snprintf(name, sizeof(name), "searchlight_%s.nii.gz", c->sc);
	NIDEC_TRY(write_map(c, fs, name, o->map, 1, "nidec searchlight map", err));
	for (k = 0; o->n_keys > 1 && k < o->n_keys; k++) {
		nidec_results_safe_name(o->keys[k], safe, sizeof(safe));
		snprintf(name, sizeof(name), "searchlight_%s_%s.nii.gz", c->sc, safe);
		NIDEC_TRY(write_map(c, fs, name, o->score + k, o->n_keys, "nidec searchlight map", err));
	}
	/* one volume per outer fold */
	snprintf(name, sizeof(name), "searchlight_folds_%s.nii.gz", c->sc);
	folds = nidec_calloc_e(F * p + 1, sizeof(float), "the fold maps", err);
	nv = nidec_malloc_e(N + 1, sizeof(double), "the sphere sizes", err);
	if (!folds || !nv) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (f = 0; f < F; f++)
		for (i = 0; i < N; i++)
			folds[f * p + c->x->sp->centre[i]] = (float)o->map_fold[i * F + f];
	rc = nidec_fileset_add(fs, name, &t, err);
	if (rc == 0)
		rc = nidec_nii_write_masked_n(t, c->info->ds, folds, F, "nidec searchlight folds", err);
	for (i = 0; rc == 0 && i < N; i++)
		nv[i] = (double)(c->x->sp->ptr[i + 1] - c->x->sp->ptr[i]);
	if (rc == 0)
		rc = write_map(c, fs, "searchlight_nvoxels.nii.gz", nv, 1, "nidec sphere voxels", err);
	if (rc == 0 && o->n_perm > 0) {
		rc = write_map(c, fs, "searchlight_p.nii.gz", o->p, 1, "nidec permutation p", err);
		if (rc == 0)
			rc = write_map(c, fs, "searchlight_p_fwe.nii.gz", o->p_fwe, 1,
				       "nidec family-wise p (max statistic)", err);
	}
done:
	nidec_free(folds);
	nidec_free(nv);
	return rc;
}

/* World coordinates of a voxel (affine . (i, j, k, 1)). */
static void world(const double a[16], const int32_t *q, double out[3])
{
	int r;

	for (r = 0; r < 3; r++)
		out[r] = a[r * 4] * q[0] + a[r * 4 + 1] * q[1] + a[r * 4 + 2] * q[2] + a[r * 4 + 3];
}

static int write_tsv(struct ctx *c, nidec_fileset *fs, nidec_err *err)
{
	const nidec_sl_outcome *o = c->o;
	const nidec_dataset *ds = c->info->ds;
	size_t N = o->n_centres, F = o->n_folds, i, f, k;
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	nidec_tempfile *t = NULL;
	int add = 0, rc;

	/* written in pieces of about 1 MiB: a whole-brain table is ~10 MiB */
	NIDEC_TRY(nidec_fileset_add(fs, "searchlight.tsv", &t, err));
	add |= nidec_sbuf_adds(&sb, "centre\ti\tj\tk\tx\ty\tz\tn_voxels");
	for (f = 0; f < F; f++)
		add |= nidec_sbuf_addf(&sb, "\tscore_fold_%zu", f);
	add |= nidec_sbuf_adds(&sb, "\tscore");
	for (k = 0; o->n_keys > 1 && k < o->n_keys; k++)
		add |= nidec_sbuf_addf(&sb, "\tscore_%s", o->keys[k]);
	if (o->n_perm > 0)
		add |= nidec_sbuf_adds(&sb, "\tp\tp_fwe");
	add |= nidec_sbuf_adds(&sb, "\n");
	for (i = 0; i < N && !add; i++) {
		const int32_t *q = ds->ijk + 3 * (size_t)c->x->sp->centre[i];
		double w[3];
		world(ds->affine, q, w);
		add |= nidec_sbuf_addf(&sb, "%u\t%d\t%d\t%d\t", c->x->sp->centre[i], q[0], q[1], q[2]);
		for (k = 0; k < 3; k++) {
			add |= nidec_tsv_num(&sb, w[k]);
			add |= nidec_sbuf_adds(&sb, "\t");
		}
		add |= nidec_sbuf_addf(&sb, "%zu", c->x->sp->ptr[i + 1] - c->x->sp->ptr[i]);
		for (f = 0; f < F; f++) {
			add |= nidec_sbuf_adds(&sb, "\t");
			add |= nidec_tsv_num(&sb, o->map_fold[i * F + f]);
		}
		add |= nidec_sbuf_adds(&sb, "\t");
		add |= nidec_tsv_num(&sb, o->map[i]);
		for (k = 0; o->n_keys > 1 && k < o->n_keys; k++) {
			add |= nidec_sbuf_adds(&sb, "\t");
			add |= nidec_tsv_num(&sb, o->score[i * o->n_keys + k]);
		}
		if (o->n_perm > 0) {
			add |= nidec_sbuf_adds(&sb, "\t");
			add |= nidec_tsv_num(&sb, o->p[i]);
			add |= nidec_sbuf_adds(&sb, "\t");
			add |= nidec_tsv_num(&sb, o->p_fwe[i]);
		}
		add |= nidec_sbuf_adds(&sb, "\n");
		if (!add && sb.len >= ((size_t)1 << 20)) {
			if (nidec_tempfile_write(t, sb.buf, sb.len, err) < 0) {
				nidec_sbuf_release(&sb);
				return NIDEC_EIO;
			}
			nidec_sbuf_reset(&sb);
		}
	}
	rc = add ? nidec_fail(err, NIDEC_ENOMEM, "out of memory formatting searchlight.tsv") : 0;
	if (rc == 0)
		rc = nidec_tempfile_write(t, sb.buf, sb.len, err);
	if (rc == 0)
		rc = nidec_tempfile_close(t, err);
	nidec_sbuf_release(&sb);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v[n] (linear interpolation, numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
	double pos, fr;
	size_t lo;

	if (!n)
		return NAN;
	pos = q * (double)(n - 1);
	lo = (size_t)pos;
	fr = pos - (double)lo;
	return lo + 1 < n ? v[lo] + fr * (v[lo + 1] - v[lo]) : v[lo];
}

/* {min, max, mean, median, p5, p95} of v[n] (finite values only). */
static json_t *describe(const double *v, size_t n, nidec_err *err)
{
	double *s = nidec_malloc_e(n + 1, sizeof(double), "statistics", err), sum = 0;
	json_t *j;
	size_t i, m = 0;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++)
		if (isfinite(v[i])) {
			s[m++] = v[i];
			sum += v[i];
		}
	qsort(s, m, sizeof(double), cmp_double);
	j = json_object();
	json_object_set_new(j, "n", json_integer((json_int_t)m));
	json_object_set_new(j, "min", nidec_json_num(m ? s[0] : NAN));
	json_object_set_new(j, "p5", nidec_json_num(quantile(s, m, 0.05)));
	json_object_set_new(j, "median", nidec_json_num(quantile(s, m, 0.5)));
	json_object_set_new(j, "mean", nidec_json_num(m ? sum / (double)m : NAN));
	json_object_set_new(j, "p95", nidec_json_num(quantile(s, m, 0.95)));
	json_object_set_new(j, "max", nidec_json_num(m ? s[m - 1] : NAN));
	nidec_free(s);
	return j;
}

static int by_score_desc(const void *a, const void *b, void *arg)
{
	const double *map = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (map[x] != map[y])
		return map[x] > map[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

static json_t *summary(struct ctx *c, nidec_err *err)
{
	const nidec_sl_outcome *o = c->o;
	const nidec_results_info *info = c->info;
	const nidec_cfg *cfg = info->cfg;
	const nidec_dataset *ds = info->ds;
	size_t N = o->n_centres, i, k, m = 0, above = 0;
	json_t *root = json_object(), *best = json_array(), *keys = json_object();
	double *sizes = nidec_malloc_e(N + 1, sizeof(double), "sphere sizes", err);
	size_t *ord = nidec_malloc_e(N + 1, sizeof(size_t), "the best spheres", err);

	if (!root || !best || !keys || !sizes || !ord) {
		json_decref(root);
		json_decref(best);
		json_decref(keys);
		nidec_free(sizes);
		nidec_free(ord);
		return NULL;
	}
	json_object_set_new(root, "nidec_version", json_string(info->version ? info->version : "?"));
	json_object_set_new(root, "analysis", json_string("searchlight"));
	json_object_set_new(root, "classes", nidec_json_strs(info->class_names, info->n_classes));
	json_object_set_new(root, "keys", nidec_json_strs((const char *const *)o->keys, o->n_keys));
	json_object_set_new(root, "n_samples", json_integer((json_int_t)info->n_samples));
	json_object_set_new(root, "n_voxels", json_integer((json_int_t)ds->n_voxels));
	json_object_set_new(root, "n_folds", json_integer((json_int_t)o->n_folds));
	json_object_set_new(root, "scheme", json_string(nidec_scheme_name(cfg->scheme)));
	json_object_set_new(root, "scoring", json_string(c->sc));
	json_object_set_new(root, "estimator", json_string(nidec_estimator_name(cfg->estimator)));
	if (cfg->task_type == NIDEC_TASK_REGRESSION) { /* the one key is the target */
		json_object_set_new(root, "task", json_string("regression"));
		json_object_set_new(root, "target", json_string(o->n_keys ? o->keys[0] : ""));
	}
	json_object_set_new(root, "compat", json_string(cfg->compat == NIDEC_COMPAT_NILEARN ? "nilearn" : "none"));
	json_object_set_new(root, "C_grid", nidec_json_nums(o->C, o->n_C, 1));
	json_object_set_new(root, "radius_mm", nidec_json_num(c->x->radius));
	json_object_set_new(root, "min_voxels", json_integer((json_int_t)c->x->min_voxels));
	json_object_set_new(root, "n_spheres", json_integer((json_int_t)N));
	json_object_set_new(root, "n_skipped", json_integer((json_int_t)o->n_skipped));
	json_object_set_new(root, "process_mask_resampled", json_boolean(c->x->process_mask_resampled));
	for (i = 0; i < N; i++)
		sizes[i] = (double)(c->x->sp->ptr[i + 1] - c->x->sp->ptr[i]);
	json_object_set_new(root, "sphere_voxels", describe(sizes, N, err));
	json_object_set_new(root, "chance", nidec_json_num(c->x->chance));
	json_object_set_new(root, "map", describe(o->map, N, err));
	for (i = 0; i < N; i++)
		if (isfinite(o->map[i])) {
			ord[m++] = i;
			/* compared as the map file holds it (float32): a mean over
			 * folds above chance only by its last bits is at chance */
			above += !isnan(c->x->chance) && (float)o->map[i] > (float)c->x->chance;
		}
	json_object_set_new(root, "above_chance", json_integer((json_int_t)above));
	for (k = 0; o->n_keys > 1 && k < o->n_keys; k++) {
		double *v = nidec_malloc_e(N + 1, sizeof(double), "class scores", err);
		if (!v)
			break;
		for (i = 0; i < N; i++)
			v[i] = o->score[i * o->n_keys + k];
		json_object_set_new(keys, o->keys[k], describe(v, N, err));
		nidec_free(v);
	}
	if (o->n_keys > 1)
		json_object_set_new(root, "scores", keys);  /* per class */
	else
		json_decref(keys);
	/* the best spheres, by score then centre */
	qsort_r(ord, m, sizeof(size_t), by_score_desc, (void *)o->map);
	for (i = 0; i < m && i < N_BEST; i++) {
		size_t s = ord[i];
		const int32_t *q = ds->ijk + 3 * (size_t)c->x->sp->centre[s];
		double w[3];
		json_t *e = json_object(), *ijk = json_array();
		int a;
		for (a = 0; a < 3; a++)
			json_array_append_new(ijk, json_integer(q[a]));
		world(ds->affine, q, w);
		json_object_set_new(e, "centre", json_integer((json_int_t)c->x->sp->centre[s]));
		json_object_set_new(e, "ijk", ijk);
		json_object_set_new(e, "xyz", nidec_json_nums(w, 3, 1));
		json_object_set_new(e, "n_voxels", json_integer((json_int_t)(c->x->sp->ptr[s + 1] - c->x->sp->ptr[s])));
		json_object_set_new(e, "score", nidec_json_num(o->map[s]));
		if (o->n_perm > 0) {
			json_object_set_new(e, "p", nidec_json_num(o->p[s]));
			json_object_set_new(e, "p_fwe", nidec_json_num(o->p_fwe[s]));
		}
		json_array_append_new(best, e);
	}
	json_object_set_new(root, "best", best);
	if (o->n_perm > 0) {
		json_t *pj = json_object();
		double *mx = nidec_malloc_e((size_t)o->n_perm, sizeof(double), "the null maxima", err);
		size_t sig = 0, sig_fwe = 0;
		long r;
		for (i = 0; i < N; i++) {
			sig += o->p[i] <= 0.05;
			sig_fwe += o->p_fwe[i] <= 0.05;
		}
		json_object_set_new(pj, "n", json_integer(o->n_perm));
		json_object_set_new(pj, "permute_within",
				    json_string(cfg->permute_within == NIDEC_PERM_RUN ? "run" : "all"));
		json_object_set_new(pj, "p_le_0.05", json_integer((json_int_t)sig));
		json_object_set_new(pj, "p_fwe_le_0.05", json_integer((json_int_t)sig_fwe));
		if (mx) {
			for (r = 0; r < o->n_perm; r++)
				mx[r] = (double)o->null_max[r];
			qsort(mx, (size_t)o->n_perm, sizeof(double), cmp_double);
			/* the 95th percentile of the maxima: scores above it have p_fwe < 0.05 */
			json_object_set_new(pj, "max_null_p95", nidec_json_num(quantile(mx, (size_t)o->n_perm, 0.95)));
			nidec_free(mx);
		}
		json_object_set_new(pj, "rule",
				    json_string("p = (1 + #null >= observed) / (N + 1) per sphere; p_fwe the same against each permutation's maximum over the spheres"));
		json_object_set_new(root, "permutations", pj);
	}
	nidec_free(sizes);
	nidec_free(ord);
	nidec_summary_tail(root, info);
	return root;
}

static int h5_body(hid_t f, struct ctx *c, const char *path, nidec_err *err)
{
	const nidec_sl_outcome *o = c->o;
	const nidec_dataset *ds = c->info->ds;
	size_t N = o->n_centres, F = o->n_folds, Kk = o->n_keys, i, nnz = c->x->sp->ptr[N];
	int64_t *cent = NULL, *ptr = NULL;
	int32_t *ijk = NULL, *vox = NULL;
	double *xyz = NULL;
	hsize_t d[3];
	hid_t g = -1;
	int rc = 0;

	cent = nidec_malloc_e(N + 1, sizeof(*cent), "results.h5", err);
	ptr = nidec_malloc_e(N + 1, sizeof(*ptr), "results.h5", err);
	ijk = nidec_malloc_e(3 * N + 1, sizeof(*ijk), "results.h5", err);
	vox = nidec_malloc_e(nnz + 1, sizeof(*vox), "results.h5", err);
	xyz = nidec_malloc_e(3 * N + 1, sizeof(*xyz), "results.h5", err);
	if (!cent || !ptr || !ijk || !vox || !xyz) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (i = 0; i < N; i++) {
		const int32_t *q = ds->ijk + 3 * (size_t)c->x->sp->centre[i];
		cent[i] = c->x->sp->centre[i];
		memcpy(ijk + 3 * i, q, 3 * sizeof(int32_t));
		world(ds->affine, q, xyz + 3 * i);
	}
	for (i = 0; i <= N; i++)
		ptr[i] = (int64_t)c->x->sp->ptr[i];
	for (i = 0; i < nnz; i++)
		vox[i] = (int32_t)c->x->sp->vox[i];
	g = nidec_h5w_group(f, "searchlight", path, err);
	if (g < 0) {
		rc = NIDEC_EIO;
		goto done;
	}
	rc = nidec_h5w_strings(g, "keys", (const char *const *)o->keys, Kk, path, err);
	d[0] = N;
	if (rc == 0)
		rc = nidec_h5w_i64(g, "centre", 1, d, cent, path, err);
	if (rc == 0)
		rc = nidec_h5w_f64(g, "map", 1, d, o->map, path, err);
	d[1] = 3;
	if (rc == 0)
		rc = nidec_h5w_i32(g, "ijk", 2, d, ijk, path, err);
	if (rc == 0)
		rc = nidec_h5w_f64(g, "xyz", 2, d, xyz, path, err);
	d[1] = F;
	if (rc == 0)
		rc = nidec_h5w_f64(g, "map_fold", 2, d, o->map_fold, path, err);
	d[1] = Kk;
	if (rc == 0)
		rc = nidec_h5w_f64(g, "score", 2, d, o->score, path, err);
	d[2] = F;
	if (rc == 0)
		rc = nidec_h5w_f64(g, "fold_score", 3, d, o->fold_score, path, err);
	if (rc == 0) {
		double *cc = nidec_malloc_e(N * Kk * F + 1, sizeof(double), "results.h5", err);
		rc = cc ? 0 : NIDEC_ENOMEM;
		for (i = 0; cc && i < N * Kk * F; i++)
			cc[i] = nidec_sl_chosen_C(o, i);
		if (rc == 0)
			rc = nidec_h5w_f64(g, "chosen_C", 3, d, cc, path, err);
		nidec_free(cc);
	}
	d[0] = N + 1;
	if (rc == 0)
		rc = nidec_h5w_i64(g, "sphere_ptr", 1, d, ptr, path, err);
	d[0] = nnz;
	if (rc == 0)
		rc = nidec_h5w_i32(g, "sphere_voxels", 1, d, vox, path, err);
	/* the grid, so that a group level can check the subjects share it */
	d[0] = 3;
	if (rc == 0)
		rc = nidec_h5w_i64(g, "dims", 1, d, ds->dims, path, err);
	d[0] = d[1] = 4;
	if (rc == 0)
		rc = nidec_h5w_f64(g, "affine", 2, d, ds->affine, path, err);
	d[0] = ds->nifti_header_len;
	if (rc == 0 && ds->nifti_header && ds->nifti_header_len)
		rc = nidec_h5w_write(g, "nifti_header", H5T_NATIVE_UCHAR, H5T_STD_U8LE, 1, d, ds->nifti_header,
				     path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_f64(g, "radius_mm", c->x->radius, path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_f64(g, "chance", c->x->chance, path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_str(g, "scoring", c->sc, path, err);
	if (rc == 0 && o->n_perm > 0) {
		d[0] = N;
		rc = nidec_h5w_f64(g, "p", 1, d, o->p, path, err);
		if (rc == 0)
			rc = nidec_h5w_f64(g, "p_fwe", 1, d, o->p_fwe, path, err);
		d[0] = (hsize_t)o->n_perm;
		d[1] = N;
		if (rc == 0)
			rc = nidec_h5w_write(g, "null_map", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 2, d, o->null_map,
					     path, err);
		if (rc == 0)
			rc = nidec_h5w_write(g, "null_max", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 1, d, o->null_max,
					     path, err);
	}
	H5Gclose(g);
	if (rc == 0)
		rc = nidec_results_h5_tail(f, c->info, "nidec searchlight", path, err);
done:
	nidec_free(cent);
	nidec_free(ptr);
	nidec_free(ijk);
	nidec_free(vox);
	nidec_free(xyz);
	return rc;
}

static int write_h5(struct ctx *c, nidec_fileset *fs, nidec_err *err)
{
	nidec_tempfile *t = NULL;
	const char *path;
	hid_t f;

	NIDEC_TRY(nidec_fileset_add(fs, "results.h5", &t, err));
	path = nidec_tempfile_target(t);
	f = nidec_h5w_create(t, err);
	if (f < 0)
		return err && err->code ? err->code : NIDEC_EIO;
	return nidec_h5w_close(f, h5_body(f, c, path, err), path, err);
}

/* Earlier searchlight files this run does not write: maps of classes it
 * does not have, p maps without permutations. */
static int remove_stale(struct ctx *c, nidec_err *err)
{
	DIR *d = opendir(c->dir);
	struct dirent *e;
	char path[NIDEC_PATH_MAX], name[512], safe[256];
	size_t k;
	int rc = 0;

	if (!d)
		return 0;
	while (rc == 0 && (e = readdir(d))) {
		int keep = 0;
		if (strncmp(e->d_name, "searchlight_", 12) || !strstr(e->d_name, ".nii.gz"))
			continue;
		snprintf(name, sizeof(name), "searchlight_%s.nii.gz", c->sc);
		keep |= !strcmp(e->d_name, name);
		snprintf(name, sizeof(name), "searchlight_folds_%s.nii.gz", c->sc);
		keep |= !strcmp(e->d_name, name);
		keep |= !strcmp(e->d_name, "searchlight_nvoxels.nii.gz");
		keep |= c->o->n_perm > 0 && (!strcmp(e->d_name, "searchlight_p.nii.gz") ||
					      !strcmp(e->d_name, "searchlight_p_fwe.nii.gz"));
		for (k = 0; c->o->n_keys > 1 && k < c->o->n_keys; k++) {
			nidec_results_safe_name(c->o->keys[k], safe, sizeof(safe));
			snprintf(name, sizeof(name), "searchlight_%s_%s.nii.gz", c->sc, safe);
			keep |= !strcmp(e->d_name, name);
		}
		if (keep)
			continue;
		rc = nidec_file_join(path, sizeof(path), c->dir, e->d_name, err);
		if (rc == 0 && unlink(path) < 0 && errno != ENOENT)
			rc = nidec_fail(err, NIDEC_EIO, "cannot remove the stale '%s': %s", path, strerror(errno));
	}
	closedir(d);
	return rc;
}

int nidec_sl_write(const char *dir, const nidec_sl_outcome *o, const nidec_results_info *info,
		   const nidec_sl_extra *x, nidec_err *err)
{
	nidec_fileset fs = NIDEC_FILESET_INIT(dir);
	nidec_tempfile *t = NULL;
	struct ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.dir = dir;
	c.o = o;
	c.info = info;
	c.x = x;
	c.sc = nidec_scoring_name(info->cfg->scoring);
	c.vals = nidec_malloc_e(info->ds->n_voxels + 1, sizeof(float), "a map", err);
	if (!c.vals)
		return NIDEC_ENOMEM;
	rc = nidec_file_mkdir_p(dir, "choose another [output] dir or -o", err);
	if (rc == 0)
		rc = write_maps(&c, &fs, err);
	if (rc == 0)
		rc = write_tsv(&c, &fs, err);
	if (rc == 0)
		rc = write_h5(&c, &fs, err);
	if (rc == 0)
		rc = nidec_fileset_add(&fs, "summary.json", &t, err);
	if (rc == 0)
		rc = nidec_summary_write(t, summary(&c, err), err);
	if (rc == 0)
		rc = remove_stale(&c, err);
	if (rc == 0)
		rc = nidec_fileset_commit(&fs, err);
	nidec_fileset_release(&fs);
	nidec_free(c.vals);
	return rc;
}

/* ---- reading back (the group level of a sweep) --------------------------- */

void nidec_sl_file_release(nidec_sl_file *f)
{
	static const nidec_sl_file empty = NIDEC_SL_FILE_INIT;

	if (!f)
		return;
	nidec_free(f->ijk);
	nidec_free(f->map);
	nidec_free(f->null_map);
	nidec_free(f->nifti_header);
	*f = empty;
}

static int read_body(hid_t f, const char *path, int with_nulls, nidec_sl_file *r, nidec_err *err)
{
	hsize_t d[2];
	void *p;
	htri_t has;
	hid_t g;
	int rc = 0;

	if (H5Lexists(f, "searchlight", H5P_DEFAULT) <= 0)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' has no /searchlight group: it is not the results of 'nidec searchlight'", path);
	g = H5Gopen2(f, "searchlight", H5P_DEFAULT);
	if (g < 0)
		return nidec_fail(err, NIDEC_EFORMAT, "'%s': cannot open /searchlight", path);
	d[0] = 3;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read(g, "dims", H5T_NATIVE_INT64, sizeof(int64_t), 1, d, &p, path, err), done);
	memcpy(r->dims, p, sizeof(r->dims));
	nidec_free(p);
	d[0] = d[1] = 4;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read(g, "affine", H5T_NATIVE_DOUBLE, sizeof(double), 2, d, &p, path, err), done);
	memcpy(r->affine, p, sizeof(r->affine));
	nidec_free(p);
	d[0] = 0;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read(g, "map", H5T_NATIVE_DOUBLE, sizeof(double), 1, d, &p, path, err), done);
	r->map = p;
	r->n_centres = (size_t)d[0];
	d[1] = 3;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read(g, "ijk", H5T_NATIVE_INT32, sizeof(int32_t), 2, d, &p, path, err), done);
	r->ijk = p;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read_attr_str(g, "scoring", r->scoring, sizeof(r->scoring), path, err), done);
	NIDEC_TRY_GOTO(rc, nidec_h5w_read_attr_f64(g, "chance", &r->chance, path, err), done);
	if (H5Lexists(g, "nifti_header", H5P_DEFAULT) > 0) {
		d[0] = 0;
		NIDEC_TRY_GOTO(rc, nidec_h5w_read(g, "nifti_header", H5T_NATIVE_UCHAR, 1, 1, d, &p, path, err), done);
		r->nifti_header = p;
		r->nifti_header_len = (size_t)d[0];
	}
	has = H5Lexists(g, "null_map", H5P_DEFAULT);
	if (has > 0) {
		d[0] = 0;
		d[1] = r->n_centres;
		if (with_nulls) {
			NIDEC_TRY_GOTO(rc, nidec_h5w_read(g, "null_map", H5T_NATIVE_FLOAT, sizeof(float), 2, d, &p, path, err), done);
			r->null_map = p;
		} else {
			NIDEC_TRY_GOTO(rc, nidec_h5w_shape(g, "null_map", 2, d, path, err), done);
		}
		r->n_perm = (long)d[0];
	}
done:
	H5Gclose(g);
	return rc;
}

int nidec_sl_read(const char *path, int with_nulls, nidec_sl_file *out, nidec_err *err)
{
	nidec_sl_file r = NIDEC_SL_FILE_INIT;
	size_t i;
	hid_t f;
	int rc;

	nidec_h5w_quiet();
	if (access(path, R_OK) < 0)
		return nidec_fail(err, NIDEC_EIO, "cannot open '%s': %s", path, strerror(errno));
	f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0)
		return nidec_fail(err, NIDEC_EFORMAT, "cannot open '%s': not an HDF5 file", path);
	rc = read_body(f, path, with_nulls, &r, err);
	if (H5Fclose(f) < 0 && rc == 0)
		rc = nidec_fail(err, NIDEC_EIO, "cannot close '%s'", path);
	for (i = 0; rc == 0 && i < 3; i++)
		if (r.dims[i] < 1 || r.dims[i] > INT32_MAX)
			rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': /searchlight/dims is not a grid", path);
	for (i = 0; rc == 0 && i < r.n_centres; i++) {
		const int32_t *q = r.ijk + 3 * i;
		if (q[0] < 0 || q[1] < 0 || q[2] < 0 || q[0] >= r.dims[0] || q[1] >= r.dims[1] || q[2] >= r.dims[2])
			rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': centre %zu lies outside /searchlight/dims", path, i);
	}
	if (rc < 0) {
		nidec_sl_file_release(&r);
		return rc;
	}
	*out = r;
	return 0;
}
