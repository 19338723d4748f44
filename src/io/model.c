/*
 * model.c - model.h5, the fold-averaged model (see include/nidec/results.h,
 * "model.h5, read back by `nidec predict`"): the writer nidec_results_write
 * calls, and the reader of `nidec predict`, which checks everything predict
 * relies on before it hands out a nidec_model (tests/bad/README.md B1, B2,
 * B9).
 *
 * Rank 0 writes; this file makes no MPI call.  The file is written into a
 * temporary of the file layer (nidec_h5w_create / nidec_h5w_close, h5w.h)
 * that nidec_results_write renames with the other outputs of the run.  model.h5's arrays
 * are byte-identical for any number of ranks (tests/e2e/t1100); its root
 * attributes carry the provenance of the run (nidec_h5w_provenance).
 */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "nidec/hash.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/results.h"

#include "h5w.h"

/* ---- model.h5 writer ------------------------------------------------------- */

static const char *std_name(int s)
{
	return s == NIDEC_STD_NONE ? "none" : s == NIDEC_STD_ZSCORE ? "zscore" : "zscore_sample";
}

static int model_body(hid_t f, const nidec_outcome *o, const nidec_results_info *info,
		      const char *path, nidec_err *err)
{
	const nidec_dataset *ds = info->ds;
	hsize_t d2[2], d1[1];
	hid_t g;
	int rc;

	d2[0] = o->n_problems;
	d2[1] = o->p;
	NIDEC_TRY(nidec_h5w_f64(f, "coef", 2, d2, o->model_coef, path, err));
	NIDEC_TRY(nidec_h5w_set_crc32(f, "coef", nidec_crc32_f64(0, o->model_coef, o->n_problems * o->p),
				      path, err));
	d1[0] = o->n_problems;
	NIDEC_TRY(nidec_h5w_f64(f, "intercept", 1, d1, o->model_intercept, path, err));
	NIDEC_TRY(nidec_h5w_set_crc32(f, "intercept", nidec_crc32_f64(0, o->model_intercept, o->n_problems),
				      path, err));
	if (o->pred_target) {
		/* regression: one "class", the target; predict reads "task" */
		NIDEC_TRY(nidec_h5w_strings(f, "classes", (const char *const *)o->keys, 1, path, err));
		NIDEC_TRY(nidec_h5w_attr_str(f, "task", "regression", path, err));
	} else {
		NIDEC_TRY(nidec_h5w_strings(f, "classes", info->class_names, info->n_classes, path, err));
	}
	if (!ds || ds->n_voxels != o->p)
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': the model has %zu weights but the mask %zu voxels",
				  path, o->p, ds ? ds->n_voxels : 0);
	g = nidec_h5w_group(f, "mask", path, err);
	if (g < 0)
		return NIDEC_EIO;
	d2[0] = ds->n_voxels;
	d2[1] = 3;
	rc = nidec_h5w_i32(g, "ijk", 2, d2, ds->ijk, path, err);
	if (rc == 0)
		rc = nidec_h5w_set_crc32(g, "ijk", nidec_crc32_i32(0, ds->ijk, 3 * ds->n_voxels), path, err);
	d1[0] = 3;
	if (rc == 0)
		rc = nidec_h5w_i64(g, "dims", 1, d1, ds->dims, path, err);
	if (rc == 0)
		rc = nidec_h5w_set_crc32(g, "dims", nidec_crc32_i64(0, ds->dims, 3), path, err);
	d2[0] = d2[1] = 4;
	if (rc == 0)
		rc = nidec_h5w_f64(g, "affine", 2, d2, ds->affine, path, err);
	if (rc == 0)
		rc = nidec_h5w_set_crc32(g, "affine", nidec_crc32_f64(0, ds->affine, 16), path, err);
	H5Gclose(g);
	NIDEC_TRY(rc);
	g = nidec_h5w_group(f, "preprocess", path, err);
	if (g < 0)
		return NIDEC_EIO;
	d1[0] = o->p;
	rc = 0;
	if (info->std_mean && info->std_scale) {
		rc = nidec_h5w_f64(g, "mean", 1, d1, info->std_mean, path, err);
		if (rc == 0)
			rc = nidec_h5w_set_crc32(g, "mean", nidec_crc32_f64(0, info->std_mean, o->p), path, err);
		if (rc == 0)
			rc = nidec_h5w_f64(g, "scale", 1, d1, info->std_scale, path, err);
		if (rc == 0)
			rc = nidec_h5w_set_crc32(g, "scale", nidec_crc32_f64(0, info->std_scale, o->p), path, err);
	}
	H5Gclose(g);
	NIDEC_TRY(rc);
	NIDEC_TRY(nidec_h5w_attr_i64(f, "format_version", NIDEC_MODEL_FORMAT_VERSION, path, err));
	if (info->cfg) {
		NIDEC_TRY(nidec_h5w_attr_str(f, "standardize", std_name(info->cfg->standardize), path, err));
		NIDEC_TRY(nidec_h5w_attr_str(f, "compat", info->cfg->compat == NIDEC_COMPAT_NILEARN ? "nilearn" : "none",
					     path, err));
		NIDEC_TRY(nidec_h5w_attr_str(f, "estimator", nidec_estimator_name(info->cfg->estimator), path, err));
	}
	return nidec_h5w_provenance(f, info, path, err);
}

int nidec_results_write_model(nidec_tempfile *t, const nidec_outcome *o,
			      const nidec_results_info *info, nidec_err *err)
{
	const char *path = nidec_tempfile_target(t);
	hid_t f = nidec_h5w_create(t, err);

	if (f < 0)
		return err && err->code ? err->code : NIDEC_EIO;
	return nidec_h5w_close(f, model_body(f, o, info, path, err), path, err);
}

/* ---- model reader ---------------------------------------------------------- */

void nidec_model_free(nidec_model **mp)
{
	nidec_model *m;

	if (!mp || !*mp)
		return;
	m = *mp;
	nidec_free(m->coef);
	nidec_free(m->intercept);
	nidec_strv_free(m->classes, m->n_classes);
	nidec_free(m->ijk);
	nidec_free(m->mean);
	nidec_free(m->scale);
	nidec_free(m);
	*mp = NULL;
}

static int read_classes(hid_t f, nidec_model *m, const char *path, nidec_err *err)
{
	hid_t d, t = -1, s = -1, mt = -1;
	hsize_t n = 0;
	size_t w, i;
	char *buf = NULL;
	int rc = 0;

	d = H5Dopen2(f, "classes", H5P_DEFAULT);
	if (d < 0)
		return nidec_fail(err, NIDEC_EFORMAT, "'%s' has no dataset 'classes'", path);
	t = H5Dget_type(d);
	s = H5Dget_space(d);
	if (t < 0 || s < 0 || H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0 ||
	    H5Sget_simple_extent_ndims(s) != 1 || H5Sget_simple_extent_dims(s, &n, NULL) < 0 ||
	    n < (m->regression ? 1 : 2)) {
		rc = nidec_fail(err, NIDEC_EFORMAT,
				"'%s': 'classes' should hold at least two fixed-length strings", path);
		goto done;
	}
	w = H5Tget_size(t);
	buf = nidec_calloc_e((size_t)n, w + 1, "class names", err);
	m->classes = nidec_calloc_e((size_t)n, sizeof(char *), "class names", err);
	if (!buf || !m->classes) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	m->n_classes = (size_t)n;
	mt = nidec_h5w_strtype(w + 1);
	if (mt < 0 || H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': cannot read 'classes'", path);
		goto done;
	}
	for (i = 0; i < (size_t)n; i++) {
		m->classes[i] = nidec_strdup_e(buf + i * (w + 1), err);
		if (!m->classes[i]) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
	}
done:
	nidec_free(buf);
	if (mt >= 0)
		H5Tclose(mt);
	if (t >= 0)
		H5Tclose(t);
	if (s >= 0)
		H5Sclose(s);
	H5Dclose(d);
	return rc;
}

/* The root's format_version: this nidec reads 1 .. NIDEC_MODEL_FORMAT_VERSION
 * (tests/bad/README.md B2). */
static int model_check_version(hid_t f, const char *path, nidec_err *err)
{
	int64_t version = 0;
	hid_t a;

	if (H5Aexists(f, "format_version") <= 0)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' has no attribute 'format_version'; is it a model.h5 written by nidec cv?",
				  path);
	a = H5Aopen(f, "format_version", H5P_DEFAULT);
	if (a < 0 || H5Aread(a, H5T_NATIVE_INT64, &version) < 0) {
		if (a >= 0)
			H5Aclose(a);
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s': cannot read attribute 'format_version' as an integer; is it a model.h5 written by nidec cv?",
				  path);
	}
	H5Aclose(a);
	if (version < 1 || version > NIDEC_MODEL_FORMAT_VERSION)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' has model format version %lld, which this nidec does not read (it reads version %d); use the nidec that wrote it, or run nidec cv again",
				  path, (long long)version, NIDEC_MODEL_FORMAT_VERSION);
	return 0;
}

static int all_finite(const double *v, size_t n, size_t *at)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(v[i])) {
			*at = i;
			return 0;
		}
	return 1;
}

/* What predict relies on, checked once it is all read (tests/bad/README.md
 * B1, B9): a grid of positive dims, an invertible finite affine, every
 * mask voxel inside the grid, finite coefficients, intercepts and
 * preprocessing statistics (scales > 0).  A model that breaks one was
 * damaged or edited: refused, naming the file and the object. */
static int model_check(const nidec_model *m, const char *path, nidec_err *err)
{
	static const char fix[] = "the file is damaged: run nidec cv again to rewrite it";
	const double *a = m->affine;
	double det;
	size_t i, at, n3 = 1;

	if (m->p == 0)
		return nidec_fail(err, NIDEC_EFORMAT, "'%s': 'coef' has no voxel; %s", path, fix);
	for (i = 0; i < 3; i++)
		if (m->dims[i] < 1 || m->dims[i] > INT32_MAX ||
		    nidec_mul_size(n3, (size_t)m->dims[i], &n3) < 0)
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s': mask/dims is %lld x %lld x %lld, not a grid; %s", path,
					  (long long)m->dims[0], (long long)m->dims[1],
					  (long long)m->dims[2], fix);
	det = a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) +
	      a[2] * (a[4] * a[9] - a[5] * a[8]);
	if (!all_finite(a, 16, &at) || !isfinite(det) || fabs(det) < 1e-12)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s': mask/affine is not finite or is singular; %s", path, fix);
	for (i = 0; i < m->p; i++) {
		const int32_t *q = m->ijk + 3 * i;
		if (q[0] < 0 || q[0] >= m->dims[0] || q[1] < 0 || q[1] >= m->dims[1] || q[2] < 0 ||
		    q[2] >= m->dims[2])
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s': mask/ijk row %zu (%ld, %ld, %ld) lies outside mask/dims (%lld x %lld x %lld); %s",
					  path, i, (long)q[0], (long)q[1], (long)q[2],
					  (long long)m->dims[0], (long long)m->dims[1],
					  (long long)m->dims[2], fix);
	}
	if (!all_finite(m->coef, m->n_problems * m->p, &at))
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s': 'coef' holds a non-finite value (NaN or Inf) at problem %zu, voxel %zu; %s",
				  path, at / m->p, at % m->p, fix);
	if (!all_finite(m->intercept, m->n_problems, &at))
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s': 'intercept' holds a non-finite value (NaN or Inf) at problem %zu; %s",
				  path, at, fix);
	if (m->has_stats) {
		if (!all_finite(m->mean, m->p, &at))
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s': 'preprocess/mean' holds a non-finite value at voxel %zu; %s",
					  path, at, fix);
		for (i = 0; i < m->p; i++)
			if (!(m->scale[i] > 0) || !isfinite(m->scale[i]))
				return nidec_fail(err, NIDEC_EFORMAT,
						  "'%s': 'preprocess/scale' is %g at voxel %zu, not a positive number; %s",
						  path, m->scale[i], i, fix);
	}
	return 0;
}

/* The arrays read against the checksums written with them (issue 20: a
 * damaged model is never trusted).  A model without them (written before
 * nidec recorded checksums) is read with a warning. */
static int model_check_crc(hid_t f, const nidec_model *m, const char *path, nidec_err *err)
{
	struct {
		const char *name;
		uint32_t crc;
	} obj[7];
	size_t n = 0, i;
	uint32_t want;
	int rc;

	obj[n].name = "coef";
	obj[n++].crc = nidec_crc32_f64(0, m->coef, m->n_problems * m->p);
	obj[n].name = "intercept";
	obj[n++].crc = nidec_crc32_f64(0, m->intercept, m->n_problems);
	obj[n].name = "mask/ijk";
	obj[n++].crc = nidec_crc32_i32(0, m->ijk, 3 * m->p);
	obj[n].name = "mask/dims";
	obj[n++].crc = nidec_crc32_i64(0, m->dims, 3);
	obj[n].name = "mask/affine";
	obj[n++].crc = nidec_crc32_f64(0, m->affine, 16);
	if (m->has_stats) {
		obj[n].name = "preprocess/mean";
		obj[n++].crc = nidec_crc32_f64(0, m->mean, m->p);
		obj[n].name = "preprocess/scale";
		obj[n++].crc = nidec_crc32_f64(0, m->scale, m->p);
	}
	for (i = 0; i < n; i++) {
		rc = nidec_h5w_get_crc32(f, obj[i].name, &want, path, err);
		if (rc < 0)
			return rc;
		if (rc == 0 && i == 0) {
			nidec_warn("model '%s' records no checksums (written by an older nidec): its arrays cannot be checked; run nidec cv again to record them",
				   path);
			return 0;
		}
		if (rc == 1 && want != obj[i].crc)
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s': '%s' does not match the checksum recorded when it was written; the file is damaged (a disk error, a partial copy, an edit by another tool): run nidec cv again to rewrite it",
					  path, obj[i].name);
	}
	return 0;
}

int nidec_model_read(const char *path, nidec_model **out, nidec_err *err)
{
	nidec_model *m;
	hid_t f;
	hsize_t d[2];
	char text[64];
	void *p;
	int rc = 0;
	htri_t has;

	nidec_h5w_quiet();
	if (access(path, R_OK) < 0)
		return nidec_fail(err, NIDEC_EIO, "cannot open model '%s': %s", path, strerror(errno));
	f = nidec_h5w_open_ro(path);
	if (f < 0)
		return nidec_fail(err, NIDEC_EFORMAT, "cannot open model '%s': not an HDF5 file", path);
	m = nidec_calloc_e(1, sizeof(*m), "a model", err);
	if (!m) {
		H5Fclose(f);
		return NIDEC_ENOMEM;
	}
	if (H5Aexists(f, "task") > 0) {
		NIDEC_TRY_GOTO(rc, nidec_h5w_read_attr_str(f, "task", text, sizeof(text), path, err), done);
		if (strcmp(text, "regression")) {
			rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': unknown task '%s'; this nidec predicts classification and regression models",
					path, text);
			goto done;
		}
		m->regression = 1;
	}
	NIDEC_TRY_GOTO(rc, read_classes(f, m, path, err), done);
	NIDEC_TRY_GOTO(rc, model_check_version(f, path, err), done);
	d[0] = 0;
	d[1] = 0;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read(f, "coef", H5T_NATIVE_DOUBLE, sizeof(double), 2, d, &p, path, err), done);
	m->coef = p;
	m->n_problems = (size_t)d[0];
	m->p = (size_t)d[1];
	if (m->n_problems != (m->n_classes == 2 || m->regression ? 1 : m->n_classes)) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': %zu problems for %zu classes", path,
				m->n_problems, m->n_classes);
		goto done;
	}
	d[1] = 0;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read(f, "intercept", H5T_NATIVE_DOUBLE, sizeof(double), 1, d, &p, path, err), done);
	m->intercept = p;
	d[0] = m->p;
	d[1] = 3;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read(f, "mask/ijk", H5T_NATIVE_INT32, sizeof(int32_t), 2, d, &p, path, err), done);
	m->ijk = p;
	d[0] = 3;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read(f, "mask/dims", H5T_NATIVE_INT64, sizeof(int64_t), 1, d, &p, path, err), done);
	memcpy(m->dims, p, sizeof(m->dims));
	nidec_free(p);
	d[0] = d[1] = 4;
	NIDEC_TRY_GOTO(rc, nidec_h5w_read(f, "mask/affine", H5T_NATIVE_DOUBLE, sizeof(double), 2, d, &p, path, err), done);
	memcpy(m->affine, p, sizeof(m->affine));
	nidec_free(p);

	NIDEC_TRY_GOTO(rc, nidec_h5w_read_attr_str(f, "standardize", text, sizeof(text), path, err), done);
	if (!strcmp(text, "none"))
		m->standardize = NIDEC_STD_NONE;
	else if (!strcmp(text, "zscore"))
		m->standardize = NIDEC_STD_ZSCORE;
	else if (!strcmp(text, "zscore_sample"))
		m->standardize = NIDEC_STD_ZSCORE_SAMPLE;
	else {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': unknown standardize '%s'", path, text);
		goto done;
	}
	NIDEC_TRY_GOTO(rc, nidec_h5w_read_attr_str(f, "compat", text, sizeof(text), path, err), done);
	m->compat = !strcmp(text, "nilearn") ? NIDEC_COMPAT_NILEARN : NIDEC_COMPAT_NONE;

	has = H5Lexists(f, "preprocess/mean", H5P_DEFAULT);
	if (has > 0) {
		d[0] = m->p;
		NIDEC_TRY_GOTO(rc, nidec_h5w_read(f, "preprocess/mean", H5T_NATIVE_DOUBLE, sizeof(double), 1, d, &p, path, err), done);
		m->mean = p;
		d[0] = m->p;
		NIDEC_TRY_GOTO(rc, nidec_h5w_read(f, "preprocess/scale", H5T_NATIVE_DOUBLE, sizeof(double), 1, d, &p, path, err), done);
		m->scale = p;
		m->has_stats = 1;
	}
	NIDEC_TRY_GOTO(rc, model_check(m, path, err), done);
	NIDEC_TRY_GOTO(rc, model_check_crc(f, m, path, err), done);
done:
	if (H5Fclose(f) < 0 && rc == 0)
		rc = nidec_fail(err, NIDEC_EIO, "cannot close model '%s'", path);
	if (rc < 0) {
		nidec_model_free(&m);
		return rc;
	}
	*out = m;
	return 0;
}
