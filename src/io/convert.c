/*
 * convert.c - the conversion pipeline (see convert.h and docs/FORMAT.md).
 *
 * Order of work, chosen so that bad input fails early and cheaply and the
 * output is never touched unless everything is right:
 *   1. expand the bold / events globs (natural order), check the output
 *      directory is writable;
 *   2. hash every input (SHA-256) and derive the reuse key; an existing
 *      output with the same key is reused;
 *   3. read every BOLD header (4D, same grid), the labels (table or
 *      events), select the conditions, load and place the mask;
 *   4. create the HDF5 file under a temporary name, stream the runs volume
 *      by volume, writing the kept rows in blocks of about 8 MiB;
 *   5. close and rename.
 * Any failure after 4 removes the temporary file.
 *
 * Columns are the mask's voxels in C order over (i, j, k) (mask.c); rows
 * are the kept volumes in input order; values are the scaled voxel values
 * as nibabel reads them (nii.c), not standardized.
 * Depends on base and the other io modules; no MPI.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nidec/convert.h"
#include "nidec/dataset.h"
#include "nidec/events.h"
#include "nidec/file.h"
#include "nidec/hash.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/nii.h"
#include "nidec/sbuf.h"
#include "nidec/svm.h"
#include "nidec/table.h"
#include "nidec/version.h"

#include "convert_int.h"

/* Output rows buffered before a write to /X. */
#define ROW_BLOCK_BYTES ((size_t)8 << 20)

/* ---- output path ----------------------------------------------------------- */

int nidec_convert_output_path(const nidec_cfg *cfg, char **out, nidec_err *err)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	int rc;

	if (cfg->dataset)
		rc = nidec_sbuf_adds(&sb, cfg->dataset);
	else
		rc = nidec_sbuf_addf(&sb, "%s/dataset.h5", cfg->dir ? cfg->dir : "results");
	if (rc < 0) {
		nidec_sbuf_release(&sb);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	}
	*out = nidec_sbuf_detach(&sb, NULL);
	if (!*out)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	return 0;
}

/* mkdir -p of the directory part of `path`; then check it is writable. */
static int prepare_dir(const char *path, nidec_err *err)
{
	const char *slash = strrchr(path, '/');
	char dir[NIDEC_PATH_MAX];

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return nidec_fail(err, NIDEC_EINPUT,
				  "cannot write the dataset '%.200s...': its directory name is too long; choose another output (-o FILE or [data] dataset)",
				  path);
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	NIDEC_TRY(nidec_file_mkdir_p(dir, "choose another output (-o FILE or [data] dataset)", err));
	if (access(dir, W_OK | X_OK) < 0)
		return nidec_fail(err, NIDEC_EIO,
				  "cannot write the dataset '%s': directory '%s': %s; choose a writable location (-o FILE or [data] dataset)",
				  path, dir, strerror(errno));
	return 0;
}

/* ---- inputs and the reuse key ---------------------------------------------- */

struct inputs {
	nidec_ds_input *v;
	size_t n, cap;
};

static void inputs_release(struct inputs *in)
{
	nidec_ds_inputs_free(in->v, in->n);
	memset(in, 0, sizeof(*in));
}

static int inputs_add(struct inputs *in, const char *role, const char *path, nidec_err *err)
{
	char hex[NIDEC_SHA256_HEX], *abs;
	nidec_ds_input *e;
	int64_t size = 0;

	NIDEC_TRY(nidec_sha256_file(path, hex, &size, err));
	if (in->n == in->cap) {
		size_t ncap = in->cap ? 2 * in->cap : 16;
		nidec_ds_input *nv = nidec_realloc(in->v, ncap * sizeof(*nv));
		if (!nv)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
		in->v = nv;
		in->cap = ncap;
	}
	e = &in->v[in->n];
	memset(e, 0, sizeof(*e));
	abs = realpath(path, NULL); /* libc allocation: copied below */
	e->role = nidec_strdup(role);
	e->path = nidec_strdup(abs ? abs : path);
	e->sha256 = nidec_strdup(hex);
	free(abs);
	if (!e->role || !e->path || !e->sha256) {
		nidec_free(e->role);
		nidec_free(e->path);
		nidec_free(e->sha256);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	}
	e->size = size;
	in->n++;
	return 0;
}

/* inputs_add for convert_studies.c (which does not see struct inputs) */
static int inputs_add_cb(void *ctx, const char *role, const char *path, nidec_err *err)
{
	return inputs_add(ctx, role, path, err);
}

static int cmp_str_ptr(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The [data] values that shape the content, as INI text (provenance), and
 * the reuse key: SHA-256 over the format, the input hashes in order and
 * those values.  Paths are not part of the key: moved inputs still match. */
static int reuse_key(const nidec_cfg *cfg, const struct job *j, const struct inputs *in,
		     char key[NIDEC_SHA256_HEX], nidec_sbuf *config, nidec_err *err)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	char **conds = NULL;
	size_t i;
	int rc = 0;

	if (nidec_sbuf_addf(&sb, "%s %d\n", NIDEC_DS_FORMAT_NAME, NIDEC_DS_FORMAT_VERSION) < 0)
		goto oom;
	for (i = 0; i < in->n; i++)
		if (nidec_sbuf_addf(&sb, "%s %s\n", in->v[i].role, in->v[i].sha256) < 0)
			goto oom;
	/* the kept set does not depend on the order conditions are listed in */
	if (cfg->n_conditions) {
		conds = nidec_calloc(cfg->n_conditions, sizeof(*conds));
		if (!conds)
			goto oom;
		memcpy(conds, cfg->conditions, cfg->n_conditions * sizeof(*conds));
		qsort(conds, cfg->n_conditions, sizeof(*conds), cmp_str_ptr);
	}
	if (nidec_sbuf_adds(&sb, "conditions =") < 0)
		goto oom;
	for (i = 0; i < cfg->n_conditions; i++)
		if ((i == 0 || strcmp(conds[i], conds[i - 1])) &&
		    nidec_sbuf_addf(&sb, " %s", conds[i]) < 0)
			goto oom;
	if (nidec_sbuf_adds(&sb, "\n") < 0)
		goto oom;
	if (cfg->labels) {
		if (nidec_sbuf_addf(&sb, "label_column = %s\nrun_column = %s\n", cfg->label_column,
				    cfg->run_column) < 0)
			goto oom;
	} else {
		if (nidec_sbuf_adds(&sb, "hrf_shift = ") < 0 ||
		    nidec_sbuf_add_double(&sb, cfg->hrf_shift) < 0 || nidec_sbuf_adds(&sb, "\n") < 0)
			goto oom;
	}
	/* only with a target, so that earlier datasets keep their key */
	if (cfg->target_column && nidec_sbuf_addf(&sb, "target_column = %s\n", cfg->target_column) < 0)
		goto oom;
	if (j->st && nidec_cv_studies_key_text(cfg, j, &sb, NULL) < 0)
		goto oom;
	NIDEC_TRY_GOTO(rc, nidec_sha256_mem(sb.buf, sb.len, key, err), done);

	{
		static const char *const data_keys[] = { "bold", "mask", "labels", "events",
			"conditions", "label_column", "run_column", "hrf_shift", "dataset" };
		if (nidec_sbuf_adds(config, "[data]\n") < 0)
			goto oom;
		for (i = 0; i < sizeof(data_keys) / sizeof(data_keys[0]); i++) {
			const char *v = nidec_cfg_value(cfg, "data", data_keys[i]);
			if (nidec_sbuf_addf(config, "%s = %s\n", data_keys[i], v ? v : "") < 0)
				goto oom;
		}
		if (cfg->target_column &&
		    nidec_sbuf_addf(config, "target_column = %s\n", cfg->target_column) < 0)
			goto oom;
		if (j->st && nidec_cv_studies_key_text(cfg, j, NULL, config) < 0)
			goto oom;
	}
	goto done;
oom:
	rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
done:
	nidec_free(conds);
	nidec_sbuf_release(&sb);
	return rc;
}

/* ---- the conversion ------------------------------------------------------------ */


static void job_release(struct job *j)
{
	size_t i;

	if (j->hdr)
		for (i = 0; i < j->n_bold; i++)
			nidec_nii_free(&j->hdr[i]);
	nidec_free(j->hdr);
	nidec_strv_free(j->bold, j->n_bold);
	nidec_strv_free(j->events, j->n_events);
	nidec_vol_labels_release(&j->lab);
	if (j->evs)
		for (i = 0; i < j->n_bold; i++)
			nidec_events_release(&j->evs[i]);
	nidec_free(j->evs);
	nidec_free(j->keep);
	nidec_free(j->known); /* borrowed strings */
	nidec_free(j->meta.labels); /* borrowed strings */
	nidec_free(j->meta.runs);
	nidec_free(j->meta.volumes);
	nidec_free(j->meta.target);
	nidec_free(j->meta.conditions); /* borrowed strings */
	nidec_free(j->meta.ijk);
	nidec_nii_free(&j->mask);
	nidec_free(j->idx);
	nidec_cv_studies_free(j);
	memset(j, 0, sizeof(*j));
}

static int check_cfg(const nidec_cfg *cfg, nidec_err *err)
{
	if (!cfg->finished)
		return nidec_fail(err, NIDEC_EINTERNAL, "nidec_convert: the config is not finished");
	if (!cfg->bold && !cfg->samples && !cfg->bids_root)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[data] bold is not set; give one 4D NIfTI or a glob of per-run files (bold = ... in the config, or --bold), a sample table (samples = ...) or a BIDS dataset (bids_root = ...)");
	if (!cfg->mask && cfg->mask_strategy == NIDEC_MASK_NONE && !(cfg->bids_root && cfg->derivatives))
		return nidec_fail(err, NIDEC_EINPUT,
				  "[data] mask is not set; give a 3D mask NIfTI (mask = ... in the config, or --mask), or compute one: mask_strategy = epi or background");
	if (!cfg->labels && !cfg->events && !cfg->samples && !cfg->bids_root)
		return nidec_fail(err, NIDEC_EINPUT,
				  "neither [data] labels nor [data] events is set; give a labels table (--labels) or per-run BIDS events (--events)");
	return 0;
}

static void grid_text(const nidec_nii *h, char *buf, size_t n)
{
	snprintf(buf, n, "%lldx%lldx%lld", (long long)h->dims[0], (long long)h->dims[1],
		 (long long)h->dims[2]);
}

/* det of the 3x3 part of a row-major 4x4 affine. */
static double affine_det(const double a[16])
{
	return a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) +
	       a[2] * (a[4] * a[9] - a[5] * a[8]);
}

/* A usable voxel-to-world affine: finite, and its 3x3 part invertible (the
 * same bound as the mask resampler, mask.c invert_affine).  A singular one
 * (a zero sform that nibabel still uses) maps every voxel onto a plane:
 * refused (tests/bad/README.md B8). */
static int affine_ok(const double a[16])
{
	double det = affine_det(a);
	int i;

	for (i = 0; i < 16; i++)
		if (!isfinite(a[i]))
			return 0;
	return isfinite(det) && fabs(det) >= 1e-12;
}

/* Headers of every run: 4D, one grid, an invertible affine. */
static int read_headers(struct job *j, nidec_err *err)
{
	size_t f;

	j->hdr = nidec_calloc_e(j->n_bold, sizeof(*j->hdr), "headers", err);
	if (!j->hdr)
		return NIDEC_ENOMEM;
	for (f = 0; f < j->n_bold; f++) {
		nidec_nii *h;
		char g0[96], g1[96];
		if (nidec_nii_read_header(j->bold[f], &j->hdr[f], err) < 0)
			return nidec_err_prefix(err, "[data] bold: ");
		h = j->hdr[f];
		if (h->ndim < 4) {
			grid_text(h, g0, sizeof(g0));
			return nidec_fail(err, NIDEC_EINPUT,
					  "[data] bold: '%s' is 3D (%s); nidec needs 4D images (x, y, z, time): one 4D series, or one 4D file per run",
					  j->bold[f], g0);
		}
		if (!affine_ok(h->affine))
			return nidec_fail(err, NIDEC_EINPUT,
					  "[data] bold: '%s' has a singular affine (%s, determinant %g: a voxel has no volume, so the mask cannot be placed on its grid); fix the header's %s",
					  j->bold[f], h->sform_code > 0 ? "sform srow_x/y/z" :
					  h->qform_code > 0 ? "qform" : "pixdim", affine_det(h->affine),
					  h->sform_code > 0 ? "sform (srow_x, srow_y, srow_z) or set sform_code 0 to use the qform" :
					  h->qform_code > 0 ? "qform (quatern_*, pixdim)" : "voxel sizes (pixdim[1..3])");
		if (f > 0 && !nidec_nii_same_grid(h->dims, h->affine, j->hdr[0]->dims,
						  j->hdr[0]->affine, 1e-4)) {
			grid_text(h, g1, sizeof(g1));
			grid_text(j->hdr[0], g0, sizeof(g0));
			return nidec_fail(err, NIDEC_EINPUT,
					  "[data] bold: '%s' is on a %s grid%s than '%s' (%s); every run must share one grid: resample the runs to a common grid",
					  j->bold[f], g1, strcmp(g0, g1) ? " other" : " with another affine",
					  j->bold[0], g0);
		}
		if ((size_t)h->dims[3] > SIZE_MAX - j->n_vol)
			return nidec_fail(err, NIDEC_EINPUT, "[data] bold: too many volumes");
		j->n_vol += (size_t)h->dims[3];
	}
	return 0;
}

static int known_add(struct job *j, size_t *cap, char *name, nidec_err *err)
{
	size_t i;

	for (i = 0; i < j->n_known; i++)
		if (!strcmp(j->known[i], name))
			return 0;
	if (j->n_known == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		char **nk = nidec_realloc(j->known, ncap * sizeof(*nk));
		if (!nk)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
		j->known = nk;
		*cap = ncap;
	}
	j->known[j->n_known++] = name;
	return 0;
}

/* [data] target_column of the labels table: one number per volume. */
static int read_target(const nidec_cfg *cfg, struct job *j, nidec_err *err)
{
	nidec_table t = NIDEC_TABLE_INIT;
	double *y = NULL;
	int rc;

	NIDEC_TRY(nidec_table_read(cfg->labels, "labels table", &t, err));
	rc = nidec_table_target(&t, cfg->target_column, "labels table", &y, err);
	if (rc == 0 && t.n_rows != j->lab.n)
		rc = nidec_fail(err, NIDEC_EINPUT,
				"labels table '%s': %zu rows with a target but %zu labelled volumes; give one row per volume",
				cfg->labels, t.n_rows, j->lab.n);
	nidec_table_release(&t);
	if (rc < 0) {
		nidec_free(y);
		return rc;
	}
	j->lab.target = y;
	return 0;
}

/* Labels of every volume, from the table or the events, and the set of
 * conditions that exist in them. */
static int read_labels(const nidec_cfg *cfg, struct job *j, nidec_err *err)
{
	size_t f, i, cap = 0;

	if (cfg->labels) {
		NIDEC_TRY(nidec_labels_read_table(cfg->labels, cfg->label_column, cfg->run_column,
						  &j->lab, err));
		if (j->lab.n != j->n_vol)
			return nidec_fail(err, NIDEC_EINPUT,
					  "labels table '%s' has %zu rows but the BOLD series has %zu volumes (%zu file%s, first '%s'); give one row per volume",
					  cfg->labels, j->lab.n, j->n_vol, j->n_bold,
					  j->n_bold == 1 ? "" : "s", j->bold[0]);
		for (i = 0; i < j->lab.n; i++)
			NIDEC_TRY(known_add(j, &cap, j->lab.label[i], err));
		if (cfg->target_column)
			NIDEC_TRY(read_target(cfg, j, err));
		return 0;
	}
	j->evs = nidec_calloc_e(j->n_bold, sizeof(*j->evs), "events", err);
	if (!j->evs)
		return NIDEC_ENOMEM;
	for (f = 0; f < j->n_bold; f++) {
		const nidec_nii *h = j->hdr[f];
		NIDEC_TRY(nidec_events_read_target(j->events[f], cfg->target_column, &j->evs[f], err));
		if (!(h->pixdim[3] > 0))
			return nidec_fail(err, NIDEC_EINPUT,
					  "'%s': the repetition time (header pixdim[4]) is %g; events need a TR > 0 s, so fix the header or use a labels table",
					  j->bold[f], h->pixdim[3]);
		if (f > (size_t)INT32_MAX)
			return nidec_fail(err, NIDEC_EINPUT, "too many runs");
		NIDEC_TRY(nidec_events_label_run(&j->evs[f], (size_t)h->dims[3], h->pixdim[3],
						 cfg->hrf_shift, (int32_t)f, &j->lab, err));
	}
	/* the target of a volume: the value of the event that labels it (NaN
	 * for rest or n/a: refused if the volume is kept, select_conditions) */
	if (cfg->target_column) {
		size_t g = 0;
		j->lab.target = nidec_malloc_e(j->lab.n ? j->lab.n : 1, sizeof(double), "the target", err);
		if (!j->lab.target)
			return NIDEC_ENOMEM;
		for (f = 0; f < j->n_bold; f++)
			for (i = 0; i < (size_t)j->hdr[f]->dims[3]; i++, g++) {
				long e = nidec_events_find(&j->evs[f], (double)i * j->hdr[f]->pixdim[3],
							   cfg->hrf_shift);
				j->lab.target[g] = e < 0 ? NAN : j->evs[f].ev[e].value;
			}
	}
	/* conditions that exist: "rest", and every trial type, even one that
	 * labels no volume (then selecting it is "no volume left", not "no
	 * such condition") */
	for (i = 0; i < j->lab.n; i++)
		NIDEC_TRY(known_add(j, &cap, j->lab.label[i], err));
	for (f = 0; f < j->n_bold; f++)
		for (i = 0; i < j->evs[f].n; i++)
			NIDEC_TRY(known_add(j, &cap, j->evs[f].ev[i].trial_type, err));
	return 0;
}

static int in_list(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

/* Classification over every condition of a label column that holds many
 * distinct numbers (a rating, a reaction time) would fail late, in
 * cross-validation, with thousands of "classes": say at once that the
 * column is a continuous target.  More than 50 distinct numbers, or more
 * than 20 of which one is not whole, count as continuous. */
#define MANY_CLASSES 50
#define MANY_REAL_CLASSES 20
static int check_numeric_labels(const nidec_cfg *cfg, const struct job *j, const char *src,
				nidec_err *err)
{
	const char *col = cfg->labels || cfg->samples ? cfg->label_column : "trial_type";
	size_t c, nc = j->meta.n_conditions;
	int whole = 1;
	double v;

	if (cfg->task_type != NIDEC_TASK_CLASSIFICATION || cfg->n_conditions || nc <= MANY_REAL_CLASSES)
		return 0;
	for (c = 0; c < nc; c++) {
		if (nidec_target_parse(j->meta.conditions[c], &v) < 0)
			return 0;
		whole &= v == floor(v);
	}
	if (nc <= MANY_CLASSES && whole)
		return 0;
	return nidec_fail(err, NIDEC_EINPUT,
			  "'%s': column '%s' holds %zu distinct numbers (e.g. '%s'), a continuous target rather than classes; set [model] task = regression, [data] target_column = %s and a regressor (svr, ridge, lasso), or list the classes in [data] conditions",
			  src, col, nc, j->meta.conditions[nc / 2], col);
}

/* Which volumes to keep, and the sorted distinct kept labels. */
static int select_conditions(const nidec_cfg *cfg, struct job *j, nidec_err *err)
{
	const char *src = cfg->labels ? cfg->labels : cfg->events ? cfg->events :
			  cfg->samples ? cfg->samples : "the BIDS events";
	size_t i, c, nc = 0;

	for (c = 0; c < cfg->n_conditions; c++)
		if (!in_list(j->known, j->n_known, cfg->conditions[c])) {
			nidec_sbuf list = NIDEC_SBUF_INIT;
			char **sorted = nidec_calloc(j->n_known ? j->n_known : 1, sizeof(*sorted));
			int rc;
			if (sorted) {
				memcpy(sorted, j->known, j->n_known * sizeof(*sorted));
				qsort(sorted, j->n_known, sizeof(*sorted), cmp_str_ptr);
				for (i = 0; i < j->n_known; i++)
					nidec_sbuf_addf(&list, "%s%s", i ? ", " : "", sorted[i]);
			}
			rc = nidec_fail(err, NIDEC_EINPUT,
					"[data] conditions: '%s' is not a condition of '%s' (it has: %s); fix the name (case matters) or drop it",
					cfg->conditions[c], src, list.buf);
			nidec_free(sorted);
			nidec_sbuf_release(&list);
			return rc;
		}
	j->keep = nidec_calloc_e(j->n_vol ? j->n_vol : 1, 1, "the volume selection", err);
	if (!j->keep)
		return NIDEC_ENOMEM;
	for (i = 0; i < j->n_vol; i++) {
		j->keep[i] = cfg->n_conditions == 0 ||
			     in_list(cfg->conditions, cfg->n_conditions, j->lab.label[i]);
		j->n_keep += j->keep[i];
	}
	if (j->n_keep == 0)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[data] conditions = %s: no volume is left after the selection (no volume of '%s' falls in these conditions); check the conditions, the onsets or hrf_shift",
				  nidec_cfg_value(cfg, "data", "conditions"), src);
	for (c = 0; c < cfg->n_conditions; c++) {
		size_t cnt = 0;
		for (i = 0; i < j->n_vol; i++)
			cnt += j->keep[i] && !strcmp(j->lab.label[i], cfg->conditions[c]);
		if (cnt == 0)
			nidec_warn("[data] conditions: '%s' labels no volume of '%s'", cfg->conditions[c], src);
	}
	/* /conditions: distinct kept labels in byte order (numpy.unique) */
	j->meta.conditions = nidec_calloc_e(j->n_known ? j->n_known : 1, sizeof(char *), "conditions", err);
	if (!j->meta.conditions)
		return NIDEC_ENOMEM;
	for (c = 0; c < j->n_known; c++) {
		for (i = 0; i < j->n_vol; i++)
			if (j->keep[i] && !strcmp(j->lab.label[i], j->known[c]))
				break;
		if (i < j->n_vol)
			j->meta.conditions[nc++] = j->known[c];
	}
	qsort(j->meta.conditions, nc, sizeof(char *), cmp_str_ptr);
	j->meta.n_conditions = nc;
	/* events' targets: every kept volume needs one */
	for (i = 0; j->lab.target && i < j->n_vol; i++)
		if (j->keep[i] && isnan(j->lab.target[i]))
			return nidec_fail(err, NIDEC_EINPUT,
					  "'%s': volume %zu (run %d, condition '%s') has no value in column '%s' (%s); select with [data] conditions only the events that have one",
					  src, i, (int)j->lab.run[i], j->lab.label[i], cfg->target_column,
					  strcmp(j->lab.label[i], "rest") ? "its event has n/a" : "no event covers it");
	return check_numeric_labels(cfg, j, src, err);
}

/* Rows' labels, runs and volume indices; mask; geometry. */
static int build_meta(const nidec_cfg *cfg, struct job *j, const char *out_path, int *resampled,
		      nidec_err *err)
{
	const nidec_nii *h0 = j->hdr[0];
	size_t f, t, g = 0, r = 0, v, p;

	j->meta.n_samples = j->n_keep;
	j->meta.labels = nidec_calloc_e(j->n_keep, sizeof(char *), "sample labels", err);
	j->meta.runs = nidec_calloc_e(j->n_keep, sizeof(int32_t), "sample runs", err);
	j->meta.volumes = nidec_calloc_e(j->n_keep, sizeof(int64_t), "sample volumes", err);
	if (!j->meta.labels || !j->meta.runs || !j->meta.volumes)
		return NIDEC_ENOMEM;
	if (j->lab.target) {
		j->meta.target = nidec_calloc_e(j->n_keep, sizeof(double), "sample targets", err);
		if (!j->meta.target)
			return NIDEC_ENOMEM;
		j->meta.target_column = cfg->target_column; /* borrowed */
	}
	if (j->st && cfg->samples)
		NIDEC_TRY(nidec_cv_studies_rows(j, err));
	else
	for (f = 0; f < j->n_bold; f++)
		for (t = 0; t < (size_t)j->hdr[f]->dims[3]; t++, g++)
			if (j->keep[g]) {
				j->meta.labels[r] = j->lab.label[g];
				j->meta.runs[r] = j->lab.run[g];
				j->meta.volumes[r] = (int64_t)t;
				if (j->meta.target)
					j->meta.target[r] = j->lab.target[g];
				r++;
			}

	if (!cfg->mask) {
		NIDEC_TRY(nidec_cv_studies_mask(cfg, j, out_path, &p, err));
	} else {
		if (nidec_nii_read(cfg->mask, &j->mask, err) < 0)
			return nidec_err_prefix(err, "[data] mask: ");
		NIDEC_TRY(nidec_mask_on_grid(j->mask, h0->dims, h0->affine, &j->meta.ijk, &p, resampled, err));
	}
	j->meta.n_voxels = p;
	j->idx = nidec_malloc_e(p, sizeof(*j->idx), "voxel offsets", err);
	if (!j->idx)
		return NIDEC_ENOMEM;
	for (v = 0; v < p; v++) {
		const int32_t *q = j->meta.ijk + 3 * v;
		j->idx[v] = (size_t)q[0] + (size_t)h0->dims[0] * ((size_t)q[1] + (size_t)h0->dims[1] * (size_t)q[2]);
	}
	memcpy(j->meta.dims, h0->dims, sizeof(j->meta.dims));
	memcpy(j->meta.affine, h0->affine, sizeof(j->meta.affine));
	memcpy(j->meta.pixdim, h0->pixdim, sizeof(j->meta.pixdim));
	j->meta.nifti_header = (unsigned char *)h0->header;
	j->meta.nifti_header_len = h0->header_len;
	return 0;
}

/*
 * Stream every run and write the kept rows, and the mean EPI (the mean over
 * time of each run, then over the runs, on the whole grid: what the report
 * draws under the maps, computed here from the volumes read anyway rather
 * than by reading the 4D series again; the same arithmetic as the report's
 * own mean of BOLD files: float values summed in double, each run's mean
 * rounded to float).  Each volume is read whole and its mask voxels taken
 * from it: the same values as a masked read.
 */
static int write_rows(struct job *j, nidec_ds_writer *w, nidec_err *err)
{
	nidec_nii_stream *s = NULL;
	size_t p = j->meta.n_voxels, block, filled = 0, r0 = 0, g = 0, f, nv, v;
	float *buf = NULL, *vol = NULL;
	double *run_sum = NULL, *all_sum = NULL;
	int rc = 0;

	block = ROW_BLOCK_BYTES / (p * sizeof(float));
	if (block < 1)
		block = 1;
	if (block > j->n_keep)
		block = j->n_keep;
	nv = (size_t)j->meta.dims[0] * (size_t)j->meta.dims[1] * (size_t)j->meta.dims[2];
	buf = nidec_malloc_e(block, p * sizeof(float), "a block of output rows", err);
	vol = nidec_malloc_e(nv, sizeof(float), "one volume", err);
	run_sum = nidec_malloc_e(nv, sizeof(double), "the mean EPI", err);
	all_sum = nidec_calloc_e(nv, sizeof(double), "the mean EPI", err);
	if (!buf || !vol || !run_sum || !all_sum) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (f = 0; f < j->n_bold; f++) {
		int64_t t, nt;
		size_t kept = 0, bad = 0;
		double t0 = nidec_now();
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_open(j->bold[f], &s, err), done);
		nt = nidec_nii_stream_header(s)->dims[3];
		if (nt != j->hdr[f]->dims[3]) {
			rc = nidec_fail(err, NIDEC_EIO, "'%s' changed while it was read; run again", j->bold[f]);
			goto done;
		}
		memset(run_sum, 0, nv * sizeof(double));
		for (t = 0; t < nt; t++, g++) {
			float *row = buf + filled * p;
			NIDEC_TRY_GOTO(rc, nidec_nii_stream_read(s, NULL, nv, vol, err), done);
			for (v = 0; v < nv; v++)
				run_sum[v] += vol[v];
			if (!j->keep[g])
				continue;
			for (v = 0; v < p; v++)
				row[v] = vol[j->idx[v]];
			bad += nidec_zero_nonfinite(row, p);
			kept++;
			if (++filled == block) {
				NIDEC_TRY_GOTO(rc, nidec_ds_write_rows(w, r0, filled, buf, err), done);
				r0 += filled;
				filled = 0;
			}
		}
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_finish(s, err), done);
		nidec_nii_stream_close(&s);
		for (v = 0; v < nv; v++)
			all_sum[v] += (float)(run_sum[v] / (double)nt);
		if (bad)
			nidec_warn("[data] bold: '%s' has %zu non-finite voxel value%s (NaN or Inf) inside the mask: replaced by 0, as nilearn does; check the preprocessing that wrote it",
				   j->bold[f], bad, bad == 1 ? "" : "s");
		nidec_verbose("convert: run %zu/%zu '%s': %lld volumes, %zu kept (%.2fs)", f + 1,
			      j->n_bold, j->bold[f], (long long)nt, kept, nidec_now() - t0);
	}
	if (filled)
		NIDEC_TRY_GOTO(rc, nidec_ds_write_rows(w, r0, filled, buf, err), done);
	for (v = 0; v < nv; v++)
		vol[v] = (float)(all_sum[v] / (double)j->n_bold);
	rc = nidec_ds_write_mean_epi(w, vol, j->meta.dims, err);
done:
	nidec_nii_stream_close(&s);
	nidec_free(buf);
	nidec_free(vol);
	nidec_free(run_sum);
	nidec_free(all_sum);
	return rc;
}

static size_t count_runs(const nidec_dataset *meta)
{
	size_t i, n = 0;
	int32_t max = -1;
	unsigned char *seen;

	for (i = 0; i < meta->n_samples; i++)
		if (meta->runs[i] > max)
			max = meta->runs[i];
	if (max < 0)
		return 0;
	seen = nidec_calloc((size_t)max + 1, 1);
	if (!seen)
		return 0;
	for (i = 0; i < meta->n_samples; i++)
		if (!seen[meta->runs[i]]) {
			seen[meta->runs[i]] = 1;
			n++;
		}
	nidec_free(seen);
	return n;
}

/* ---- inputs are read-only; what is accepted but surprising ---------------------- */

/*
 * Inputs are read-only to nidec (docs/ERRORS.md, "What nidec promises
 * about your files"): the dataset path must be none of the inputs - the
 * BOLD runs, the mask, the labels or events, the config - by device and
 * inode, through symlinks and "..".  Checked before anything is written
 * (it once replaced the input with HDF5 and exited 0).
 */
static int file_inputs_cb(void *ctx, const char *role, const char *path, nidec_err *err)
{
	return nidec_file_inputs_add(ctx, path, role, err);
}

static int check_not_an_input(const nidec_cfg *cfg, struct job *j, const char *out_path,
			      nidec_err *err)
{
	nidec_file_inputs in = NIDEC_FILE_INPUTS_INIT;
	size_t f;
	int rc = 0;

	for (f = 0; rc == 0 && f < j->n_bold; f++)
		rc = nidec_file_inputs_add(&in, j->bold[f], "[data] bold", err);
	for (f = 0; rc == 0 && f < j->n_events; f++)
		rc = nidec_file_inputs_add(&in, j->events[f], "[data] events", err);
	if (rc == 0)
		rc = nidec_file_inputs_add(&in, cfg->mask, "[data] mask", err);
	if (rc == 0)
		rc = nidec_file_inputs_add(&in, cfg->labels, "[data] labels", err);
	if (rc == 0)
		rc = nidec_file_inputs_add(&in, cfg->kf.source, "the config", err);
	if (rc == 0 && j->st) /* sample tables, derivatives' masks, confounds */
		rc = nidec_cv_studies_inputs(cfg, j, file_inputs_cb, &in, err);
	if (rc == 0)
		rc = nidec_file_inputs_check(&in, out_path,
					     "choose another dataset path ([data] dataset, or -o for nidec convert)",
					     err);
	if (rc < 0 && rc != NIDEC_ENOMEM)
		nidec_err_prefix(err, "the dataset: ");
	nidec_file_inputs_release(&in);
	return rc;
}

/* The runs' TRs differ (a labels table does not use them; with events
 * each run's own TR places its events; the dataset records the first). */
static void warn_tr(const struct job *j)
{
	size_t f;

	for (f = 1; f < j->n_bold; f++) {
		double a = j->hdr[0]->pixdim[3], b = j->hdr[f]->pixdim[3];
		if (fabs(a - b) > 1e-6 * fabs(a))
			break;
	}
	if (f < j->n_bold)
		nidec_warn("[data] bold: the runs have different TRs ('%s': %g s, '%s': %g s); the dataset records the first, %s; check that they belong to one study",
			   j->bold[0], j->hdr[0]->pixdim[3], j->bold[f], j->hdr[f]->pixdim[3],
			   j->evs ? "and each run's events are placed with its own TR" : "and the labels table does not use them");
}

/* Runs left with no sample by [data] conditions: one fold fewer with
 * leave-one-run-out, and often a sign of a wrong onset or condition. */
static void warn_empty_runs(const nidec_cfg *cfg, const struct job *j)
{
	nidec_sbuf list = NIDEC_SBUF_INIT;
	size_t *kept, r, i, n_empty = 0, n_runs = j->lab.n_runs;

	if (n_runs == 0 || !(kept = nidec_calloc(n_runs, sizeof(*kept))))
		return; /* out of memory: no warning, the conversion goes on */
	for (i = 0; i < j->n_vol; i++)
		if (j->keep[i] && j->lab.run[i] >= 0 && (size_t)j->lab.run[i] < n_runs)
			kept[j->lab.run[i]]++;
	for (r = 0; r < n_runs; r++) {
		if (kept[r])
			continue;
		if (n_empty++ < 5)
			(void)nidec_sbuf_addf(&list, "%s'%s'", n_empty > 1 ? ", " : "",
					      j->lab.run_names ? j->lab.run_names[r] :
					      r < j->n_bold ? j->bold[r] : "?");
	}
	if (n_empty)
		nidec_warn("[data] conditions = %s: %zu run%s of %zu %s no volume of these conditions (%s%s): left out, so leave-one-run-out has %zu fold%s fewer; check the conditions, the labels or the onsets",
			   nidec_cfg_value(cfg, "data", "conditions"), n_empty, n_empty == 1 ? "" : "s",
			   n_runs, n_empty == 1 ? "has" : "have", list.buf ? list.buf : "",
			   n_empty > 5 ? ", ..." : "", n_empty, n_empty == 1 ? "" : "s");
	nidec_sbuf_release(&list);
	nidec_free(kept);
}

/* What is accepted but surprising, once the labels are known. */
static void warn_surprises(const nidec_cfg *cfg, const struct job *j)
{
	size_t f;

	if (!cfg->samples) /* a sample table's images have no TR */
		warn_tr(j);
	for (f = 0; j->evs && f < j->n_bold; f++)
		nidec_events_warn_run(&j->evs[f], (size_t)j->hdr[f]->dims[3], j->hdr[f]->pixdim[3],
				      cfg->hrf_shift);
	if (cfg->n_conditions)
		warn_empty_runs(cfg, j);
}

/*
 * What is at out_path already: 1 = a current, intact dataset to reuse;
 * 0 = convert (nothing there, other inputs, a damaged or unverifiable
 * dataset: said so); an error when it is not a nidec dataset and `force`
 * is not given - nidec never replaces a file it did not write.
 */
/* The reason of a reader's message about `path`, for another sentence:
 * without a leading "'<path>': " and the fix after the first "; ". */
static const char *reason(const nidec_err *e, const char *path, char *buf, size_t n)
{
	const char *m = e->msg;
	size_t lp = strlen(path);
	const char *semi;

	if (m[0] == '\'' && !strncmp(m + 1, path, lp) && !strncmp(m + 1 + lp, "': ", 3))
		m += lp + 4;
	semi = strstr(m, "; ");
	snprintf(buf, n, "%.*s", semi ? (int)(semi - m) : (int)strlen(m), m);
	return buf;
}

static int check_existing(const char *out_path, const char *key, int force,
			  nidec_convert_result *res, nidec_err *err)
{
	char why[NIDEC_ERR_MSG_MAX];
	nidec_err e = NIDEC_ERR_INIT;
	nidec_dataset *ds = NULL;
	struct stat st;
	int is = 0, reuse = 0;

	if (stat(out_path, &st) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EINPUT,
				  "the dataset '%s' is a directory; give a file path ([data] dataset, or -o for nidec convert)",
				  out_path);
	if (nidec_ds_is_dataset(out_path, &is, &e) < 0 || !is) {
		if (e.code == NIDEC_EFORMAT)
			snprintf(why, sizeof(why), "not an HDF5 file");
		else if (e.code)
			reason(&e, out_path, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "an HDF5 file without format = %s", NIDEC_DS_FORMAT_NAME);
		if (!force)
			return nidec_fail(err, NIDEC_EINPUT,
					  "the dataset path '%s' holds a file that is not a nidec dataset (%s); nidec never replaces a file it did not write: choose another path ([data] dataset, or -o), or add --force to replace it",
					  out_path, why);
		nidec_info("replacing '%s', which is not a nidec dataset (--force)", out_path);
		return 0;
	}
	if (force)
		return 0;
	if (nidec_ds_open(out_path, &ds, &e) < 0) {
		if (e.code == NIDEC_ENOMEM) {
			*err = e;
			return NIDEC_ENOMEM;
		}
		nidec_warn("'%s' is damaged (%s): converting again", out_path, reason(&e, out_path, why, sizeof(why)));
		return 0;
	}
	if (!ds->inputs_sha256 || strcmp(ds->inputs_sha256, key)) {
		nidec_info("'%s' exists but its inputs or [data] settings changed: converting again", out_path);
	} else if (!ds->has_checksums) {
		nidec_info("'%s' has no checksums to check it by (written by an older nidec): converting again",
			   out_path);
	} else if (nidec_ds_verify(ds, &e) < 0) {
		if (e.code == NIDEC_ENOMEM) {
			nidec_ds_close(&ds);
			*err = e;
			return NIDEC_ENOMEM;
		}
		nidec_warn("'%s' is damaged (%s): converting again", out_path, reason(&e, out_path, why, sizeof(why)));
	} else {
		res->n_samples = ds->n_samples;
		res->n_voxels = ds->n_voxels;
		res->n_runs = count_runs(ds);
		res->n_conditions = ds->n_conditions;
		nidec_info("reusing '%s': its inputs are unchanged and its checksums match (--force converts again)",
			   out_path);
		reuse = 1;
	}
	nidec_ds_close(&ds);
	return reuse;
}

int nidec_convert_ex(const nidec_cfg *cfg, const char *out_path,
		     const nidec_convert_opts *opts, nidec_convert_result *res_out,
		     nidec_err *err)
{
	nidec_convert_opts defaults = NIDEC_CONVERT_OPTS_INIT;
	nidec_convert_result res;
	struct job j;
	struct inputs in;
	nidec_sbuf config = NIDEC_SBUF_INIT;
	nidec_ds_provenance prov;
	nidec_ds_writer *w = NULL;
	char key[NIDEC_SHA256_HEX], nifti_version[128];
	size_t f;
	int rc = 0;

	if (!opts)
		opts = &defaults;
	memset(&j, 0, sizeof(j));
	memset(&in, 0, sizeof(in));
	memset(&res, 0, sizeof(res));
	NIDEC_TRY(check_cfg(cfg, err));

	/* 1. files */
	if (cfg->samples || cfg->bids_root)
		NIDEC_TRY_GOTO(rc, nidec_cv_studies_files(cfg, &j, err), done);
	else
		NIDEC_TRY_GOTO(rc, nidec_glob_natural(cfg->bold, "[data] bold", &j.bold, &j.n_bold, err), done);
	if (cfg->events) {
		NIDEC_TRY_GOTO(rc, nidec_glob_natural(cfg->events, "[data] events", &j.events, &j.n_events, err), done);
		if (j.n_events != j.n_bold) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"[data] events = '%s' gives %zu file%s but [data] bold gives %zu run%s; give one events.tsv per BOLD file (both are sorted naturally)",
					cfg->events, j.n_events, j.n_events == 1 ? "" : "s", j.n_bold,
					j.n_bold == 1 ? "" : "s");
			goto done;
		}
	}
	if (!j.st && nidec_cv_studies_wanted(cfg))
		NIDEC_TRY_GOTO(rc, nidec_cv_studies_files(cfg, &j, err), done);
	NIDEC_TRY_GOTO(rc, check_not_an_input(cfg, &j, out_path, err), done);
	NIDEC_TRY_GOTO(rc, prepare_dir(out_path, err), done);
	/* again: "new/../bold.nii" names an input only once "new" exists */
	NIDEC_TRY_GOTO(rc, check_not_an_input(cfg, &j, out_path, err), done);

	/* 2. hashes and reuse */
	for (f = 0; f < j.n_bold; f++)
		if (inputs_add(&in, "bold", j.bold[f], err) < 0) {
			rc = nidec_err_prefix(err, "[data] bold: ");
			goto done;
		}
	if (cfg->mask && inputs_add(&in, "mask", cfg->mask, err) < 0) {
		rc = nidec_err_prefix(err, "[data] mask: ");
		goto done;
	}
	if (cfg->labels) {
		if (inputs_add(&in, "labels", cfg->labels, err) < 0) {
			rc = nidec_err_prefix(err, "[data] labels: ");
			goto done;
		}
	} else {
		for (f = 0; f < j.n_events; f++)
			if (inputs_add(&in, "events", j.events[f], err) < 0) {
				rc = nidec_err_prefix(err, "[data] events: ");
				goto done;
			}
	}
	if (j.st)
		NIDEC_TRY_GOTO(rc, nidec_cv_studies_inputs(cfg, &j, inputs_add_cb, &in, err), done);
	NIDEC_TRY_GOTO(rc, reuse_key(cfg, &j, &in, key, &config, err), done);
	rc = check_existing(out_path, key, opts->force, &res, err);
	if (rc < 0)
		goto done;
	if (rc == 1) {
		rc = 0;
		res.reused = 1;
		goto done;
	}

	/* 3. headers, labels, selection, mask */
	if (cfg->samples) {
		NIDEC_TRY_GOTO(rc, nidec_cv_studies_headers(cfg, &j, err), done);
		NIDEC_TRY_GOTO(rc, nidec_cv_studies_labels(cfg, &j, err), done);
	} else {
		NIDEC_TRY_GOTO(rc, read_headers(&j, err), done);
		NIDEC_TRY_GOTO(rc, read_labels(cfg, &j, err), done);
	}
	NIDEC_TRY_GOTO(rc, select_conditions(cfg, &j, err), done);
	warn_surprises(cfg, &j);
	NIDEC_TRY_GOTO(rc, build_meta(cfg, &j, out_path, &res.mask_resampled, err), done);
	nidec_verbose("convert: %zu run%s, %zu volumes, %zu kept, %zu voxels in the mask",
		      j.n_bold, j.n_bold == 1 ? "" : "s", j.n_vol, j.n_keep, j.meta.n_voxels);

	/* 4. write */
	memset(&prov, 0, sizeof(prov));
	prov.inputs = in.v;
	prov.n_inputs = in.n;
	prov.inputs_sha256 = key;
	prov.tool_version = opts->tool_version ? opts->tool_version : nidec_version;
	prov.command_line = opts->command_line ? opts->command_line : nidec_command_line();
	prov.liblinear_version = opts->liblinear_version ? opts->liblinear_version
							   : nidec_svm_liblinear_version();
	nidec_nii_library_version(nifti_version, sizeof(nifti_version));
	prov.nifti_version = nifti_version;
	prov.config = config.buf;
	if (j.st)
		NIDEC_TRY_GOTO(rc, nidec_cv_studies_prepare(cfg, &j, &prov, err), done);
	NIDEC_TRY_GOTO(rc, nidec_ds_create(out_path, &j.meta, &prov, &w, err), done);
	if (j.st) {
		NIDEC_TRY_GOTO(rc, nidec_cv_studies_write(cfg, &j, w, err), done);
		NIDEC_TRY_GOTO(rc, nidec_cv_studies_write_attrs(&j, w, err), done);
	} else {
		NIDEC_TRY_GOTO(rc, write_rows(&j, w, err), done);
	}
	/* 5. close and rename */
	NIDEC_TRY_GOTO(rc, nidec_ds_commit(&w, err), done);
	if (j.st)
		NIDEC_TRY_GOTO(rc, nidec_cv_studies_commit(&j, err), done);
	res.n_samples = j.meta.n_samples;
	res.n_voxels = j.meta.n_voxels;
	res.n_runs = count_runs(&j.meta);
	res.n_conditions = j.meta.n_conditions;
	res.n_volumes = j.n_vol;
done:
	nidec_ds_abort(&w);
	inputs_release(&in);
	nidec_sbuf_release(&config);
	job_release(&j);
	if (rc == 0 && res_out)
		*res_out = res;
	return rc;
}

int nidec_convert(const nidec_cfg *cfg, const char *out_path, int force, int *reused,
		  nidec_err *err)
{
	nidec_convert_opts opts = NIDEC_CONVERT_OPTS_INIT;
	nidec_convert_result res;

	opts.force = force;
	NIDEC_TRY(nidec_convert_ex(cfg, out_path, &opts, &res, err));
	if (reused)
		*reused = res.reused;
	return 0;
}
