/*
 * convert_studies.c - the conversion of real studies (issue 17): sample
 * tables of 3D or 4D images, BIDS datasets with fMRIPrep derivatives,
 * masks intersected or computed, smoothing and signal cleaning.  The
 * stages are called by convert.c (convert_int.h says when); the classic
 * inputs never come here, so their datasets stay as they were.
 *
 * Order, as nilearn's maskers: smoothing (nilearn.image.smooth_img) of
 * every volume on the whole grid, then masking, then
 * nilearn.signal.clean (src/core/clean.c).  Where cleaning happens
 * (docs/NILEARN.md "Signal cleaning"):
 *  - by default, on each run's whole continuous series (every volume,
 *    rest included), before the conditions are selected: a filter needs
 *    the time series, and cleaning uses no label, so nothing leaks;
 *  - with [cv] compat = nilearn, as nilearn's Decoder does: the selected
 *    volumes only, as one series (the Decoder gives its masker no runs).
 * Memory: one run (volumes x mask voxels, float32) plus a volume in
 * double; with compat = nilearn and cleaning, every selected row (the
 * one series); a sample table holds its samples' rows.
 *
 * Everything that can be checked is checked before the dataset's
 * temporary file exists (nidec_cv_studies_prepare): confounds, TRs,
 * cut-offs.  Depends on base, core (clean.h) and the io readers; no MPI.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nifti1.h>

#include "nidec/bids.h"
#include "nidec/clean.h"
#include "nidec/confounds.h"
#include "nidec/convert.h"
#include "nidec/file.h"
#include "nidec/keyfile.h"
#include "nidec/log.h"
#include "nidec/mem.h"

#include "convert_int.h"

struct studies {
	int samples;              /* [data] samples */
	int bids;                 /* [data] bids_root */
	nidec_sample_table tab;
	size_t *file_of;          /* [tab.n] index of each sample's image in j->bold */
	nidec_bids_run *runs;
	size_t n_runs;
	char **conf_files;        /* [n_bold] confounds TSV of each run, or NULL */
	size_t n_conf_files;
	int use_conf;             /* [clean] confounds or confounds_strategy */
	int temporal;             /* a time-series step (nidec_cfg_cleans) */
	int smooth;               /* smoothing_fwhm > 0 */
	int compat;               /* clean the selected volumes as one series */
	nidec_confounds *conf;    /* [n_bold] each run's confounds */
	double *tr;               /* [n_bold] the repetition time used */
	/* a computed mask, written beside the dataset after it is committed */
	nidec_tempfile *mask_tmp;
	/* provenance */
	nidec_sbuf notes;
	char **conf_names;        /* the first run's confound columns */
	size_t n_conf_names;
	int64_t box_lo[3], box_hi[3]; /* the mask's bounding box (smoothing) */
	/* per-sample attributes of the dataset's rows */
	size_t n_attrs;
	char **attr_names;
	char **attr_values;       /* [n_keep * n_attrs] */
};

int nidec_cv_studies_wanted(const nidec_cfg *cfg)
{
	return cfg->samples || cfg->bids_root || cfg->confounds_files ||
	       (cfg->mask_strategy != NIDEC_MASK_NONE && !cfg->mask) ||
	       (!isnan(cfg->smoothing_fwhm) && cfg->smoothing_fwhm > 0) || nidec_cfg_cleans(cfg);
}

/*
 * With compat = nilearn, nilearn's Decoder standardizes inside its
 * masker's clean, in float64, after the filter has put the means back
 * (clean.h step 4).  Storing the unstandardized float32 values instead and
 * z-scoring them later would lose the precision of a voxel whose mean is
 * large against its standard deviation (mean 2400, std 4: float32 keeps
 * 1e-4 of a standard deviation); so the one series is standardized here
 * as the Decoder does, and [preprocess]'s standardization of all samples
 * then finds it standardized already (it changes it by float32 rounding).
 */
static int decoder_std(const nidec_cfg *cfg)
{
	return cfg->standardize == NIDEC_STD_ZSCORE ? NIDEC_CLEAN_STD_ZSCORE
	       : cfg->standardize == NIDEC_STD_ZSCORE_SAMPLE ? NIDEC_CLEAN_STD_ZSCORE_SAMPLE
	       : NIDEC_CLEAN_STD_NONE;
}

void nidec_cv_studies_free(struct job *j)
{
	struct studies *st = j->st;
	size_t i;

	if (!st)
		return;
	nidec_sample_table_release(&st->tab);
	nidec_free(st->file_of);
	nidec_bids_runs_free(st->runs, st->n_runs);
	nidec_strv_free(st->conf_files, st->n_conf_files);
	if (st->conf)
		for (i = 0; i < j->n_bold; i++)
			nidec_confounds_release(&st->conf[i]);
	nidec_free(st->conf);
	nidec_free(st->tr);
	nidec_tempfile_abort(&st->mask_tmp);
	nidec_sbuf_release(&st->notes);
	nidec_strv_free(st->conf_names, st->n_conf_names);
	nidec_strv_free(st->attr_names, st->n_attrs);
	if (st->attr_values)
		for (i = 0; i < j->n_keep * st->n_attrs; i++)
			nidec_free(st->attr_values[i]);
	nidec_free(st->attr_values);
	nidec_free(st);
	j->st = NULL;
}

/* ---- stage 1: files -------------------------------------------------------- */

static int strv_dup(char *const *v, size_t n, char ***out, nidec_err *err)
{
	char **d = nidec_calloc_e(n ? n : 1, sizeof(char *), "a file list", err);
	size_t i;

	if (!d)
		return NIDEC_ENOMEM;
	for (i = 0; i < n; i++)
		if (!(d[i] = nidec_strdup_e(v[i], err))) {
			nidec_strv_free(d, i);
			return NIDEC_ENOMEM;
		}
	*out = d;
	return 0;
}

static int sample_files(const nidec_cfg *cfg, struct job *j, struct studies *st, nidec_err *err)
{
	size_t i, f;

	NIDEC_TRY(nidec_sample_table_read(cfg->samples, cfg->label_column, cfg->run_column, &st->tab, err));
	st->file_of = nidec_malloc_e(st->tab.n, sizeof(size_t), "the sample list", err);
	j->bold = nidec_calloc_e(st->tab.n, sizeof(char *), "the image list", err);
	if (!st->file_of || !j->bold)
		return NIDEC_ENOMEM;
	/* the distinct images, in the order of their first sample */
	for (i = 0; i < st->tab.n; i++) {
		for (f = 0; f < j->n_bold && strcmp(j->bold[f], st->tab.image[i]); f++)
			;
		if (f == j->n_bold) {
			if (!(j->bold[f] = nidec_strdup_e(st->tab.image[i], err)))
				return NIDEC_ENOMEM;
			j->n_bold++;
		}
		st->file_of[i] = f;
	}
	return nidec_sbuf_addf(&st->notes, "images: sample table '%s': %zu samples from %zu image%s\n",
			       cfg->samples, st->tab.n, j->n_bold, j->n_bold == 1 ? "" : "s") < 0
		       ? NIDEC_ENOMEM : 0;
}

static int bids_files(const nidec_cfg *cfg, struct job *j, struct studies *st, nidec_err *err)
{
	nidec_bids_query q;
	size_t i;
	char lab[128];

	memset(&q, 0, sizeof(q));
	q.root = cfg->bids_root;
	q.derivatives = cfg->derivatives;
	q.subject = cfg->subject;
	q.session = cfg->session;
	q.task = cfg->task;
	q.space = cfg->space;
	q.desc = cfg->desc ? cfg->desc : "preproc";
	q.need_confounds = st->use_conf;
	if (st->use_conf && !cfg->derivatives)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[clean] confounds need fMRIPrep's confounds TSVs: set [data] derivatives to the fMRIPrep output");
	NIDEC_TRY(nidec_bids_find(&q, &st->runs, &st->n_runs, err));
	j->bold = nidec_calloc_e(st->n_runs, sizeof(char *), "the BOLD list", err);
	j->events = nidec_calloc_e(st->n_runs, sizeof(char *), "the events list", err);
	if (!j->bold || !j->events)
		return NIDEC_ENOMEM;
	for (i = 0; i < st->n_runs; i++) {
		j->bold[i] = nidec_strdup_e(st->runs[i].bold, err);
		j->events[i] = nidec_strdup_e(st->runs[i].events, err);
		if (!j->bold[i] || !j->events[i])
			return NIDEC_ENOMEM;
		j->n_bold = j->n_events = i + 1;
	}
	if (st->use_conf) {
		st->conf_files = nidec_calloc_e(st->n_runs, sizeof(char *), "the confounds list", err);
		if (!st->conf_files)
			return NIDEC_ENOMEM;
		for (i = 0; i < st->n_runs; i++)
			if (!(st->conf_files[i] = nidec_strdup_e(st->runs[i].confounds, err)))
				return NIDEC_ENOMEM;
		st->n_conf_files = st->n_runs;
	}
	if (nidec_sbuf_addf(&st->notes, "images: BIDS sub-%s%s%s task-%s", cfg->subject,
			    cfg->session ? " ses-" : "", cfg->session ? cfg->session : "", cfg->task) < 0)
		return NIDEC_ENOMEM;
	if (cfg->derivatives &&
	    nidec_sbuf_addf(&st->notes, " space-%s desc-%s (BOLD from '%s', events from '%s')",
			    cfg->space ? cfg->space : "(the only one)", q.desc, cfg->derivatives, cfg->bids_root) < 0)
		return NIDEC_ENOMEM;
	if (nidec_sbuf_addf(&st->notes, ", %zu run%s:", st->n_runs, st->n_runs == 1 ? "" : "s") < 0)
		return NIDEC_ENOMEM;
	for (i = 0; i < st->n_runs; i++)
		if (nidec_sbuf_addf(&st->notes, "%s %s", i ? "," : "",
				    nidec_bids_run_label(&st->runs[i], lab, sizeof(lab))) < 0)
			return NIDEC_ENOMEM;
	return nidec_sbuf_adds(&st->notes, "\n") < 0 ? NIDEC_ENOMEM : 0;
}

int nidec_cv_studies_files(const nidec_cfg *cfg, struct job *j, nidec_err *err)
{
	struct studies *st = nidec_calloc_e(1, sizeof(*st), "the conversion", err);

	if (!st)
		return NIDEC_ENOMEM;
	j->st = st;
	st->samples = cfg->samples != NULL;
	st->bids = cfg->bids_root != NULL;
	st->use_conf = cfg->n_confounds > 0 || cfg->n_confounds_strategy > 0;
	st->temporal = nidec_cfg_cleans(cfg);
	st->smooth = !isnan(cfg->smoothing_fwhm) && cfg->smoothing_fwhm > 0;
	st->compat = cfg->compat == NIDEC_COMPAT_NILEARN;
	NIDEC_TRY(nidec_confounds_check_strategy(cfg->confounds_strategy, cfg->n_confounds_strategy, err));
	if (st->use_conf && !cfg->confounds_files && !cfg->bids_root)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[clean] %s needs the confounds TSVs: set [data] confounds_files (one per BOLD file) or [data] bids_root with fMRIPrep derivatives",
				  cfg->n_confounds ? "confounds" : "confounds_strategy");
	if (st->samples)
		return sample_files(cfg, j, st, err);
	if (st->bids)
		return bids_files(cfg, j, st, err);
	/* [data] bold: one confounds TSV per BOLD file */
	if (cfg->confounds_files && st->use_conf) {
		NIDEC_TRY(nidec_glob_natural(cfg->confounds_files, "[data] confounds_files", &st->conf_files,
					     &st->n_conf_files, err));
		if (st->n_conf_files != j->n_bold)
			return nidec_fail(err, NIDEC_EINPUT,
					  "[data] confounds_files = '%s' gives %zu file%s but [data] bold gives %zu run%s; give one confounds TSV per BOLD file (both are sorted naturally)",
					  cfg->confounds_files, st->n_conf_files, st->n_conf_files == 1 ? "" : "s",
					  j->n_bold, j->n_bold == 1 ? "" : "s");
	}
	return 0;
}

/* ---- stage 2: inputs and the reuse key ----------------------------------------- */

int nidec_cv_studies_inputs(const nidec_cfg *cfg, struct job *j,
			    int (*add)(void *ctx, const char *role, const char *path, nidec_err *err),
			    void *ctx, nidec_err *err)
{
	struct studies *st = j->st;
	size_t i;

	if (st->samples && add(ctx, "samples", cfg->samples, err) < 0)
		return nidec_err_prefix(err, "[data] samples: ");
	if (st->bids && !cfg->mask)
		for (i = 0; i < st->n_runs; i++)
			if (st->runs[i].mask && add(ctx, "mask", st->runs[i].mask, err) < 0)
				return err->code;
	if (st->use_conf)
		for (i = 0; i < st->n_conf_files; i++)
			if (add(ctx, "confounds", st->conf_files[i], err) < 0)
				return err->code;
	return 0;
}

int nidec_cv_studies_key_text(const nidec_cfg *cfg, const struct job *j, nidec_sbuf *key,
			      nidec_sbuf *config)
{
	static const char *const data_keys[] = { "samples", "confounds_files", "bids_root", "derivatives",
						 "subject", "session", "task", "space", "desc", "mask_strategy" };
	static const char *const clean_keys[] = { "smoothing_fwhm", "detrend", "standardize", "low_pass",
						  "high_pass", "t_r", "confounds", "confounds_strategy",
						  "standardize_confounds" };
	const struct studies *st = j->st;
	size_t i;
	int rc = 0;

	if (key) {
		if (st->samples)
			rc |= nidec_sbuf_addf(key, "samples label_column = %s\nsamples run_column = %s\n",
					      cfg->label_column, cfg->run_column);
		if (st->bids)
			rc |= nidec_sbuf_addf(key, "bids subject = %s\nbids session = %s\nbids task = %s\nbids space = %s\nbids desc = %s\nbids derivatives = %d\n",
					      cfg->subject, cfg->session ? cfg->session : "", cfg->task,
					      cfg->space ? cfg->space : "", cfg->desc ? cfg->desc : "",
					      cfg->derivatives != NULL);
		if (!cfg->mask)
			rc |= nidec_sbuf_addf(key, "mask_strategy = %s%s\n",
					      nidec_mask_strategy_name(cfg->mask_strategy),
					      st->compat ? " (selected volumes)" : "");
		for (i = 0; i < sizeof(clean_keys) / sizeof(clean_keys[0]); i++)
			rc |= nidec_sbuf_addf(key, "clean %s = %s\n", clean_keys[i],
					      nidec_cfg_value(cfg, "clean", clean_keys[i]));
		rc |= nidec_sbuf_addf(key, "clean scope = %s\n", st->compat ? "selected" : "runs");
		if (st->compat && st->temporal)
			rc |= nidec_sbuf_addf(key, "clean decoder standardize = %s\n",
					      nidec_clean_std_name(decoder_std(cfg)));
	}
	if (config) {
		for (i = 0; i < sizeof(data_keys) / sizeof(data_keys[0]); i++)
			if (nidec_cfg_is_set(cfg, "data", data_keys[i]))
				rc |= nidec_sbuf_addf(config, "%s = %s\n", data_keys[i],
						      nidec_cfg_value(cfg, "data", data_keys[i]));
		rc |= nidec_sbuf_adds(config, "[clean]\n");
		for (i = 0; i < sizeof(clean_keys) / sizeof(clean_keys[0]); i++)
			rc |= nidec_sbuf_addf(config, "%s = %s\n", clean_keys[i],
					      nidec_cfg_value(cfg, "clean", clean_keys[i]));
	}
	return rc ? NIDEC_ENOMEM : 0;
}

/* ---- stage 3: a sample table's headers and labels ------------------------------ */

static void grid_text(const nidec_nii *h, char *buf, size_t n)
{
	snprintf(buf, n, "%lldx%lldx%lld", (long long)h->dims[0], (long long)h->dims[1],
		 (long long)h->dims[2]);
}

int nidec_cv_studies_headers(const nidec_cfg *cfg, struct job *j, nidec_err *err)
{
	struct studies *st = j->st;
	size_t f, i;
	char g0[96], g1[96];

	j->hdr = nidec_calloc_e(j->n_bold, sizeof(*j->hdr), "headers", err);
	if (!j->hdr)
		return NIDEC_ENOMEM;
	for (f = 0; f < j->n_bold; f++) {
		const nidec_nii *h;
		if (nidec_nii_read_header(j->bold[f], &j->hdr[f], err) < 0)
			return nidec_err_prefix(err, "sample table '%s': ", cfg->samples);
		h = j->hdr[f];
		if (f > 0 && !nidec_nii_same_grid(h->dims, h->affine, j->hdr[0]->dims, j->hdr[0]->affine, 1e-4)) {
			grid_text(h, g1, sizeof(g1));
			grid_text(j->hdr[0], g0, sizeof(g0));
			return nidec_fail(err, NIDEC_EINPUT,
					  "sample table '%s': image '%s' is on a %s grid%s, but '%s' (the first image) is on %s; resample every image to one grid",
					  cfg->samples, j->bold[f], g1, strcmp(g0, g1) ? "" : " with another affine",
					  j->bold[0], g0);
		}
	}
	for (i = 0; i < st->tab.n; i++) {
		const nidec_nii *h = j->hdr[st->file_of[i]];
		int64_t v = st->tab.volume[i];
		if (h->dims[3] > 1 && v < 0)
			return nidec_fail(err, NIDEC_EINPUT,
					  "sample table '%s' line %zu: '%s' is 4D (%lld volumes) but the row gives no volume; add a 'volume' column with the 0-based index of each 4D image's volume",
					  cfg->samples, st->tab.line[i], st->tab.image[i], (long long)h->dims[3]);
		if (v >= h->dims[3])
			return nidec_fail(err, NIDEC_EINPUT,
					  "sample table '%s' line %zu: volume %lld is past the end of '%s' (%lld volume%s, numbered from 0); fix the volume",
					  cfg->samples, st->tab.line[i], (long long)v, st->tab.image[i],
					  (long long)h->dims[3], h->dims[3] == 1 ? "" : "s");
	}
	j->n_vol = st->tab.n;
	return 0;
}

/* [data] target_column of the sample table (one of its attribute columns,
 * or the label column itself): one number per sample. */
static int sample_target(const nidec_cfg *cfg, const struct studies *st, nidec_vol_labels *l,
			 nidec_err *err)
{
	const nidec_sample_table *t = &st->tab;
	const char *name = cfg->target_column;
	long a = -1;
	size_t i;

	if (strcmp(name, cfg->label_column))
		for (i = 0; i < t->n_attrs; i++)
			if (!strcmp(t->attr_names[i], name))
				a = (long)i;
	if (a < 0 && strcmp(name, cfg->label_column)) {
		nidec_sbuf cols = NIDEC_SBUF_INIT;
		int rc;
		for (i = 0; i < t->n_attrs; i++)
			nidec_sbuf_addf(&cols, "%s%s", i ? ", " : "", t->attr_names[i]);
		rc = nidec_fail(err, NIDEC_EINPUT,
				"sample table '%s': no column '%s' for [data] target_column (its other columns: %s); set target_column to the numeric column of the target",
				cfg->samples, name, cols.len ? cols.buf : "none");
		nidec_sbuf_release(&cols);
		return rc;
	}
	l->target = nidec_malloc_e(t->n ? t->n : 1, sizeof(double), "the target", err);
	if (!l->target)
		return NIDEC_ENOMEM;
	for (i = 0; i < t->n; i++) {
		const char *cell = a < 0 ? t->label[i] : t->attr_values[i * t->n_attrs + (size_t)a];
		if (nidec_target_parse(cell, &l->target[i]) < 0)
			return nidec_fail(err, NIDEC_EINPUT,
					  "sample table '%s' line %zu: target '%s' (column '%s') is not a number; [data] target_column must hold a finite number on every row (use '.' as decimal separator; for classes use [model] task = classification)",
					  cfg->samples, t->line[i], cell, name);
	}
	return 0;
}

int nidec_cv_studies_labels(const nidec_cfg *cfg, struct job *j, nidec_err *err)
{
	struct studies *st = j->st;
	nidec_vol_labels *l = &j->lab;
	size_t i, k, cap = 0;

	l->label = nidec_calloc_e(st->tab.n, sizeof(char *), "labels", err);
	l->run = nidec_malloc_e(st->tab.n, sizeof(int32_t), "runs", err);
	l->run_names = nidec_calloc_e(st->tab.n_runs, sizeof(char *), "runs", err);
	if (!l->label || !l->run || !l->run_names)
		return NIDEC_ENOMEM;
	l->n_runs = st->tab.n_runs;
	for (i = 0; i < st->tab.n_runs; i++)
		if (!(l->run_names[i] = nidec_strdup_e(st->tab.run_names[i], err)))
			return NIDEC_ENOMEM;
	for (i = 0; i < st->tab.n; i++) {
		if (!(l->label[i] = nidec_strdup_e(st->tab.label[i], err)))
			return NIDEC_ENOMEM;
		l->run[i] = st->tab.run[i];
		l->n = i + 1;
	}
	if (cfg->target_column)
		NIDEC_TRY(sample_target(cfg, st, l, err));
	/* the conditions that exist */
	for (i = 0; i < l->n; i++) {
		for (k = 0; k < j->n_known && strcmp(j->known[k], l->label[i]); k++)
			;
		if (k < j->n_known)
			continue;
		if (j->n_known == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			char **nk = nidec_realloc(j->known, ncap * sizeof(*nk));
			if (!nk)
				return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
			j->known = nk;
			cap = ncap;
		}
		j->known[j->n_known++] = l->label[i];
	}
	return 0;
}

int nidec_cv_studies_rows(struct job *j, nidec_err *err)
{
	struct studies *st = j->st;
	size_t i, r = 0;

	(void)err;
	for (i = 0; i < st->tab.n; i++)
		if (j->keep[i]) {
			j->meta.labels[r] = j->lab.label[i];
			j->meta.runs[r] = j->lab.run[i];
			j->meta.volumes[r] = st->tab.volume[i] < 0 ? 0 : st->tab.volume[i];
			if (j->meta.target)
				j->meta.target[r] = j->lab.target[i];
			r++;
		}
	return 0;
}

/* ---- reading volumes -------------------------------------------------------- */

/* Volume `vol` of image `f`: a stream stays open while the reads move
 * forward in one file (a sample table of one 4D image reads it once). */
struct vreader {
	nidec_nii_stream *s;
	size_t file;
	int64_t next;
};

static int vread(struct vreader *r, const struct job *j, size_t f, int64_t vol, float *out, size_t nv,
		 nidec_err *err)
{
	if (!r->s || r->file != f || r->next > vol) {
		nidec_nii_stream_close(&r->s);
		NIDEC_TRY(nidec_nii_stream_open(j->bold[f], &r->s, err));
		r->file = f;
		r->next = 0;
	}
	for (; r->next < vol; r->next++)
		NIDEC_TRY(nidec_nii_stream_read(r->s, NULL, 0, NULL, err));
	NIDEC_TRY(nidec_nii_stream_read(r->s, NULL, nv, out, err));
	r->next++;
	return 0;
}

/* nilearn smooths in float64 what numpy holds in float64: float64 and
 * 64-bit integer images, and scaled 32/64-bit integers (docs/FORMAT.md
 * "Voxel values"); everything else in float32. */
static int smooth_in_f64(const nidec_nii *h)
{
	int dt = h->datatype, scaled = !(h->scl_slope == 1 && h->scl_inter == 0);

	if (dt == NIFTI_TYPE_FLOAT64 || dt == NIFTI_TYPE_INT64 || dt == NIFTI_TYPE_UINT64)
		return 1;
	return scaled && (dt == NIFTI_TYPE_INT32 || dt == NIFTI_TYPE_UINT32);
}

/* ---- masks ------------------------------------------------------------------ */

/* ijk (C order over (i, j, k), k fastest) of the set bytes of a grid. */
static int ijk_of(const unsigned char *m, const int64_t d[3], int32_t **ijk, size_t *n, nidec_err *err)
{
	size_t nx = (size_t)d[0], ny = (size_t)d[1], nz = (size_t)d[2], i, jj, k, c = 0, r = 0;
	int32_t *v;

	for (i = 0; i < nx * ny * nz; i++)
		c += m[i] != 0;
	v = nidec_malloc_e(c ? c : 1, 3 * sizeof(int32_t), "the mask's voxels", err);
	if (!v)
		return NIDEC_ENOMEM;
	for (i = 0; i < nx; i++)
		for (jj = 0; jj < ny; jj++)
			for (k = 0; k < nz; k++)
				if (m[i + nx * (jj + ny * k)]) {
					v[3 * r] = (int32_t)i;
					v[3 * r + 1] = (int32_t)jj;
					v[3 * r + 2] = (int32_t)k;
					r++;
				}
	*ijk = v;
	*n = c;
	return 0;
}

static int intersect_masks(struct job *j, unsigned char *m, size_t *n_in, nidec_err *err)
{
	struct studies *st = j->st;
	const nidec_nii *h0 = j->hdr[0];
	size_t n3 = h0->n_vox3, f, v, c;
	unsigned short *count = nidec_calloc_e(n3, sizeof(*count), "the masks' intersection", err);
	int rc = 0;

	if (!count)
		return NIDEC_ENOMEM;
	for (f = 0; f < st->n_runs && rc == 0; f++) {
		nidec_nii *mk = NULL;
		int32_t *ijk = NULL;
		size_t n = 0;
		int resampled = 0;
		if (nidec_nii_read(st->runs[f].mask, &mk, err) < 0) {
			rc = nidec_err_prefix(err, "BIDS brain mask: ");
			break;
		}
		rc = nidec_mask_on_grid(mk, h0->dims, h0->affine, &ijk, &n, &resampled, err);
		if (rc < 0)
			nidec_err_prefix(err, "'%s': ", st->runs[f].mask);
		for (v = 0; rc == 0 && v < n; v++)
			count[(size_t)ijk[3 * v] + (size_t)h0->dims[0] *
			      ((size_t)ijk[3 * v + 1] + (size_t)h0->dims[1] * (size_t)ijk[3 * v + 2])]++;
		nidec_free(ijk);
		nidec_nii_free(&mk);
	}
	for (v = 0, c = 0; rc == 0 && v < n3; v++) {
		m[v] = (unsigned char)(count[v] == st->n_runs);
		c += m[v];
	}
	nidec_free(count);
	if (rc == 0 && c == 0)
		rc = nidec_fail(err, NIDEC_EINPUT,
				"BIDS: the %zu runs' brain masks have no voxel in common; check the derivatives, or give one mask with [data] mask",
				st->n_runs);
	*n_in = c;
	return rc;
}

/* The mean image over every volume (nilearn: the mean of the images the
 * masker is given; with compat = nilearn the selected volumes only). */
static int mean_image(const nidec_cfg *cfg, struct job *j, double *mean, size_t *n_used, nidec_err *err)
{
	struct studies *st = j->st;
	const nidec_nii *h0 = j->hdr[0];
	size_t nv = h0->n_vox3, f, v, g = 0, used = 0;
	float *vol = nidec_malloc_e(nv, sizeof(float), "one volume", err);
	struct vreader r = { NULL, 0, 0 };
	int rc = 0;

	(void)cfg;
	if (!vol)
		return NIDEC_ENOMEM;
	memset(mean, 0, nv * sizeof(double));
	if (st->samples) {
		for (g = 0; g < st->tab.n && rc == 0; g++) {
			if (st->compat && !j->keep[g])
				continue;
			rc = vread(&r, j, st->file_of[g], st->tab.volume[g] < 0 ? 0 : st->tab.volume[g], vol, nv, err);
			for (v = 0; rc == 0 && v < nv; v++)
				mean[v] += vol[v];
			used++;
		}
	} else {
		for (f = 0; f < j->n_bold && rc == 0; f++) {
			int64_t t, nt = j->hdr[f]->dims[3];
			for (t = 0; t < nt && rc == 0; t++, g++) {
				if (st->compat && !j->keep[g]) {
					rc = vread(&r, j, f, t, vol, 0, err);
					continue;
				}
				rc = vread(&r, j, f, t, vol, nv, err);
				for (v = 0; rc == 0 && v < nv; v++)
					mean[v] += vol[v];
				used++;
			}
		}
	}
	nidec_nii_stream_close(&r.s);
	nidec_free(vol);
	for (v = 0; rc == 0 && v < nv; v++)
		mean[v] /= (double)used;
	*n_used = used;
	return rc;
}

/* "<dataset without .h5>.mask.nii.gz" */
static int mask_path(const char *out_path, char *buf, size_t n, nidec_err *err)
{
	size_t len = strlen(out_path);

	if (len > 3 && !strcmp(out_path + len - 3, ".h5"))
		len -= 3;
	if ((size_t)snprintf(buf, n, "%.*s.mask.nii.gz", (int)len, out_path) >= n)
		return nidec_fail(err, NIDEC_EINPUT, "'%s': name too long", out_path);
	return 0;
}

int nidec_cv_studies_mask(const nidec_cfg *cfg, struct job *j, const char *out_path,
			  size_t *n_voxels, nidec_err *err)
{
	struct studies *st = j->st;
	const nidec_nii *h0 = j->hdr[0];
	size_t n3 = h0->n_vox3, n_in = 0;
	unsigned char *m = nidec_calloc_e(n3, 1, "the mask", err);
	double *mean = NULL;
	int rc = 0;

	if (!m)
		return NIDEC_ENOMEM;
	if (st->bids && st->n_runs && st->runs[0].mask) {
		NIDEC_TRY_GOTO(rc, intersect_masks(j, m, &n_in, err), done);
		if (nidec_sbuf_addf(&st->notes,
				    "mask: the intersection of the %zu runs' fMRIPrep brain masks (desc-brain): %zu voxels\n",
				    st->n_runs, n_in) < 0)
			goto oom;
	} else if (cfg->mask_strategy != NIDEC_MASK_NONE) {
		nidec_nii_spec spec;
		char path[4096];
		size_t used = 0;
		mean = nidec_malloc_e(n3, sizeof(double), "the mean image", err);
		if (!mean)
			goto oom;
		NIDEC_TRY_GOTO(rc, mean_image(cfg, j, mean, &used, err), done);
		if (cfg->mask_strategy == NIDEC_MASK_EPI)
			rc = nidec_mask_compute_epi(mean, h0->dims, m, &n_in, err);
		else
			rc = nidec_mask_compute_background(mean, h0->dims, m, &n_in, err);
		if (rc < 0)
			goto done;
		NIDEC_TRY_GOTO(rc, mask_path(out_path, path, sizeof(path), err), done);
		memset(&spec, 0, sizeof(spec));
		spec.ndim = 3;
		memcpy(spec.dims, h0->dims, 3 * sizeof(int64_t));
		spec.dims[3] = 1;
		spec.datatype = NIFTI_TYPE_UINT8;
		memcpy(spec.affine, h0->affine, sizeof(spec.affine));
		spec.xform_code = h0->sform_code > 0 ? h0->sform_code : h0->qform_code > 0 ? h0->qform_code : 1;
		memcpy(spec.pixdim, h0->pixdim, sizeof(spec.pixdim));
		spec.compress_level = 6;
		spec.descrip = cfg->mask_strategy == NIDEC_MASK_EPI ? "nidec: nilearn compute_epi_mask"
								    : "nidec: nilearn compute_background_mask";
		NIDEC_TRY_GOTO(rc, nidec_tempfile_create(path, 0, &st->mask_tmp, err), done);
		NIDEC_TRY_GOTO(rc, nidec_nii_write_to(st->mask_tmp, &spec, m, err), done);
		if (nidec_sbuf_addf(&st->notes,
				    "mask: computed by nilearn's %s from the mean of %zu volume%s%s: %zu voxels, written to '%s'\n",
				    cfg->mask_strategy == NIDEC_MASK_EPI ? "compute_epi_mask" : "compute_background_mask",
				    used, used == 1 ? "" : "s",
				    st->compat ? " (the selected volumes, as nilearn's Decoder)" : " (every volume of every run)",
				    n_in, path) < 0)
			goto oom;
	} else {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"no mask: %s; set [data] mask, or compute one with [data] mask_strategy = epi or background",
				st->bids ? "the derivatives have no desc-brain mask beside the BOLD files" : "[data] mask is not set");
		goto done;
	}
	rc = ijk_of(m, h0->dims, &j->meta.ijk, n_voxels, err);
	goto done;
oom:
	rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
done:
	nidec_free(m);
	nidec_free(mean);
	return rc;
}

/* ---- before writing: confounds, TR, filter, attributes, provenance ---------- */

static int check_filter(const nidec_cfg *cfg, struct job *j, size_t f, double tr, nidec_err *err)
{
	double nyq = 0.5 / tr;
	const char *from = isnan(cfg->t_r) ? "the header of" : "[clean] t_r, for";

	if (!isnan(cfg->high_pass) && cfg->high_pass >= nyq)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[clean] high_pass = %g Hz is at or above the Nyquist frequency %g Hz (1 / (2 t_r), t_r = %g s from %s '%s'); give a lower cut-off or check t_r",
				  cfg->high_pass, nyq, tr, from, j->bold[f]);
	if (!isnan(cfg->low_pass) && cfg->low_pass >= nyq)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[clean] low_pass = %g Hz is at or above the Nyquist frequency %g Hz (1 / (2 t_r), t_r = %g s from %s '%s'); give a lower cut-off or remove low_pass",
				  cfg->low_pass, nyq, tr, from, j->bold[f]);
	return 0;
}

static int set_attr(char **v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_attr(char **v, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	*v = nidec_strdup(buf);
	return *v ? 0 : -1;
}

/* The attributes of the kept rows: a sample table's other columns; a BIDS
 * run's label, session, volume, acquisition time and labelling event's
 * onset. */
static int make_attrs(const nidec_cfg *cfg, struct job *j, nidec_err *err)
{
	struct studies *st = j->st;
	size_t a, i, r = 0, f, g = 0;
	int has_ses = 0, oom = 0;

	if (st->samples) {
		st->n_attrs = st->tab.n_attrs;
		if (!st->n_attrs)
			return 0;
		st->attr_names = nidec_calloc_e(st->n_attrs, sizeof(char *), "attributes", err);
		st->attr_values = nidec_calloc_e(j->n_keep * st->n_attrs, sizeof(char *), "attributes", err);
		if (!st->attr_names || !st->attr_values)
			return NIDEC_ENOMEM;
		for (a = 0; a < st->n_attrs; a++)
			oom |= !(st->attr_names[a] = nidec_strdup(st->tab.attr_names[a]));
		for (i = 0; i < st->tab.n && !oom; i++)
			if (j->keep[i]) {
				for (a = 0; a < st->n_attrs; a++)
					oom |= !(st->attr_values[r * st->n_attrs + a] =
							 nidec_strdup(st->tab.attr_values[i * st->n_attrs + a]));
				r++;
			}
		return oom ? nidec_fail(err, NIDEC_ENOMEM, "out of memory") : 0;
	}
	if (!st->bids)
		return 0;
	for (f = 0; f < st->n_runs; f++)
		has_ses |= st->runs[f].session != NULL;
	{
		static const char *const names[] = { "run_label", "session", "volume", "time", "onset" };
		st->n_attrs = has_ses ? 5 : 4;
		st->attr_names = nidec_calloc_e(5, sizeof(char *), "attributes", err);
		st->attr_values = nidec_calloc_e((j->n_keep ? j->n_keep : 1) * 5, sizeof(char *), "attributes", err);
		if (!st->attr_names || !st->attr_values)
			return NIDEC_ENOMEM;
		for (a = 0, i = 0; a < 5; a++)
			if (a != 1 || has_ses)
				oom |= !(st->attr_names[i++] = nidec_strdup(names[a]));
	}
	for (f = 0; f < j->n_bold && !oom; f++) {
		const nidec_nii *h = j->hdr[f];
		double tr = h->pixdim[3];
		int64_t t;
		for (t = 0; t < h->dims[3] && !oom; t++, g++) {
			char **v;
			long e;
			if (!j->keep[g])
				continue;
			v = st->attr_values + r * st->n_attrs;
			e = nidec_events_find(&j->evs[f], (double)t * tr, cfg->hrf_shift);
			oom |= set_attr(v++, "%s", st->runs[f].run ? st->runs[f].run : "n/a") < 0;
			if (has_ses)
				oom |= set_attr(v++, "%s", st->runs[f].session ? st->runs[f].session : "n/a") < 0;
			oom |= set_attr(v++, "%lld", (long long)t) < 0;
			oom |= set_attr(v++, "%.10g", (double)t * tr) < 0;
			if (e < 0)
				oom |= set_attr(v, "n/a") < 0;
			else
				oom |= set_attr(v, "%.10g", j->evs[f].ev[e].onset) < 0;
			r++;
		}
	}
	return oom ? nidec_fail(err, NIDEC_ENOMEM, "out of memory") : 0;
}

int nidec_cv_studies_prepare(const nidec_cfg *cfg, struct job *j, nidec_ds_provenance *prov,
			     nidec_err *err)
{
	struct studies *st = j->st;
	int filter = !isnan(cfg->high_pass) || !isnan(cfg->low_pass);
	size_t f, i;

	if (!st->samples) {
		st->tr = nidec_calloc_e(j->n_bold, sizeof(double), "the TRs", err);
		st->conf = nidec_calloc_e(j->n_bold, sizeof(*st->conf), "the confounds", err);
		if (!st->tr || !st->conf)
			return NIDEC_ENOMEM;
		for (f = 0; f < j->n_bold; f++) {
			const nidec_nii *h = j->hdr[f];
			st->tr[f] = isnan(cfg->t_r) ? h->pixdim[3] : cfg->t_r;
			if (filter && !(st->tr[f] > 0 && isfinite(st->tr[f])))
				return nidec_fail(err, NIDEC_EINPUT,
						  "[clean] %s needs the repetition time, but '%s' has none in its header (pixdim[4] = %g); set [clean] t_r = SECONDS",
						  !isnan(cfg->high_pass) ? "high_pass" : "low_pass", j->bold[f], h->pixdim[3]);
			if (filter)
				NIDEC_TRY(check_filter(cfg, j, f, st->tr[f], err));
			if (st->compat && filter && st->tr[f] != st->tr[0])
				return nidec_fail(err, NIDEC_EINPUT,
						  "[cv] compat = nilearn filters the selected volumes as one series, but '%s' has a TR of %g s and '%s' of %g s; set [clean] t_r, or clean per run (compat = none)",
						  j->bold[0], st->tr[0], j->bold[f], st->tr[f]);
			if (st->use_conf) {
				NIDEC_TRY(nidec_confounds_load(st->conf_files[f], j->bold[f], (size_t)h->dims[3],
							       cfg->confounds, cfg->n_confounds,
							       cfg->confounds_strategy, cfg->n_confounds_strategy,
							       &st->conf[f], err));
				if (st->conf[f].k == 0)
					return nidec_fail(err, NIDEC_EINPUT,
							  "confounds '%s': [clean] confounds and confounds_strategy select no column; fix them or remove them",
							  st->conf_files[f]);
				if (f > 0 && st->compat && st->conf[f].k != st->conf[0].k)
					return nidec_fail(err, NIDEC_EINPUT,
							  "[cv] compat = nilearn regresses the confounds of every run as one series, but '%s' gives %zu columns and '%s' %zu; select the same columns",
							  st->conf_files[0], st->conf[0].k, st->conf_files[f], st->conf[f].k);
			}
		}
		if (st->use_conf) {
			NIDEC_TRY(strv_dup(st->conf[0].names, st->conf[0].k, &st->conf_names, err));
			st->n_conf_names = st->conf[0].k;
		}
	}
	NIDEC_TRY(make_attrs(cfg, j, err));
	{
		/* smoothing computes the mask's bounding box only */
		size_t v;
		int a;
		for (a = 0; a < 3; a++) {
			st->box_lo[a] = INT64_MAX;
			st->box_hi[a] = -1;
		}
		for (v = 0; v < j->meta.n_voxels; v++)
			for (a = 0; a < 3; a++) {
				int64_t q = j->meta.ijk[3 * v + a];
				if (q < st->box_lo[a])
					st->box_lo[a] = q;
				if (q > st->box_hi[a])
					st->box_hi[a] = q;
			}
	}
	/* what was done, in words */
	{
		nidec_sbuf *nb = &st->notes;
		int rc = 0;
		if (st->smooth) {
			double sg[3];
			nidec_smooth_sigma(cfg->smoothing_fwhm, j->hdr[0]->affine, sg);
			rc |= nidec_sbuf_addf(nb, "smoothing: a Gaussian of FWHM %g mm on every volume, before masking (nilearn's smooth_img; sigma %.4g x %.4g x %.4g voxels)\n",
					      cfg->smoothing_fwhm, sg[0], sg[1], sg[2]);
		}
		if (st->temporal) {
			rc |= nidec_sbuf_addf(nb, "cleaning (nilearn's signal.clean): %s:",
					      st->compat ? "the selected volumes as one series (compat = nilearn, as nilearn's Decoder)"
							 : st->samples ? "per run over the run's samples"
							 : "per run on its whole series, before the conditions are selected");
			if (cfg->detrend)
				rc |= nidec_sbuf_adds(nb, " linear detrend;");
			if (!isnan(cfg->high_pass))
				rc |= nidec_sbuf_addf(nb, " high_pass %g Hz;", cfg->high_pass);
			if (!isnan(cfg->low_pass))
				rc |= nidec_sbuf_addf(nb, " low_pass %g Hz;", cfg->low_pass);
			if (filter)
				rc |= nidec_sbuf_addf(nb, " Butterworth order 5, t_r %g s%s;", st->tr[0],
						      isnan(cfg->t_r) ? " (header)" : "");
			if (st->use_conf)
				rc |= nidec_sbuf_addf(nb, " %zu confounds (%s);", st->n_conf_names,
						      cfg->standardize_confounds ? "z-scored" : "scaled by their largest value");
			if (st->compat)
				rc |= nidec_sbuf_addf(nb, " standardize %s (the Decoder's, [preprocess] standardize, in float64 as nilearn's masker)\n",
						      nidec_clean_std_name(decoder_std(cfg)));
			else
				rc |= nidec_sbuf_addf(nb, " standardize %s\n", nidec_clean_std_name(cfg->clean_standardize));
		}
		if (st->n_conf_names) {
			rc |= nidec_sbuf_adds(nb, "confounds:");
			for (i = 0; i < st->n_conf_names; i++)
				rc |= nidec_sbuf_addf(nb, "%s %s", i ? "," : "", st->conf_names[i]);
			rc |= nidec_sbuf_adds(nb, "\n");
		}
		if (rc)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	}
	prov->preprocessing = st->notes.len ? st->notes.buf : NULL;
	prov->confound_columns = (const char *const *)st->conf_names;
	prov->n_confound_columns = st->n_conf_names;
	return 0;
}

/* ---- stage 4: rows -------------------------------------------------------------- */

static int make_cleaner(const nidec_cfg *cfg, double tr, size_t n, const double *conf, size_t k,
			int standardize, nidec_cleaner **c, nidec_err *err)
{
	nidec_clean_params cp = NIDEC_CLEAN_PARAMS_INIT;

	cp.detrend = cfg->detrend;
	cp.high_pass = cfg->high_pass;
	cp.low_pass = cfg->low_pass;
	cp.t_r = tr;
	cp.standardize = standardize;
	cp.standardize_confounds = cfg->standardize_confounds;
	return nidec_cleaner_create(&cp, n, conf, k, c, err);
}

/* One volume's mask voxels into row: smoothed first when asked (the whole
 * grid, non-finite values set to 0 as nilearn does); *bad counts the
 * non-finite values inside the mask. */
static void take_row(struct job *j, nidec_smoother *sm, const float *vol, double *dvol, float *row,
		     size_t *bad)
{
	size_t p = j->meta.n_voxels, v;

	if (sm) {
		for (v = 0; v < p; v++)
			*bad += !isfinite(vol[j->idx[v]]);
		nidec_smoother_apply_box(sm, vol, j->st->box_lo, j->st->box_hi, dvol);
		for (v = 0; v < p; v++)
			row[v] = (float)dvol[j->idx[v]];
		return;
	}
	for (v = 0; v < p; v++)
		row[v] = vol[j->idx[v]];
	*bad += nidec_zero_nonfinite(row, p);
}

static int new_smoother(const nidec_cfg *cfg, const nidec_nii *h, nidec_smoother **sm, nidec_err *err)
{
	double sg[3];

	nidec_smooth_sigma(cfg->smoothing_fwhm, h->affine, sg);
	return nidec_smoother_create(h->dims, sg, !smooth_in_f64(h), sm, err);
}

static void warn_bad(const char *what, size_t bad)
{
	if (bad)
		nidec_warn("[data] bold: '%s' has %zu non-finite voxel value%s (NaN or Inf) inside the mask: replaced by 0, as nilearn does; check the preprocessing that wrote it",
			   what, bad, bad == 1 ? "" : "s");
}

/* A sample table: every sample's row (for the per-run standardization),
 * then the kept ones. */
static int write_samples(const nidec_cfg *cfg, struct job *j, nidec_ds_writer *w, nidec_err *err)
{
	struct studies *st = j->st;
	size_t n = st->tab.n, p = j->meta.n_voxels, nv = j->hdr[0]->n_vox3, i, v, r, cells, bad = 0;
	float *S = NULL, *vol = NULL, *K = NULL;
	double *dvol = NULL, *mean = NULL;
	nidec_smoother *sm = NULL;
	size_t sm_file = (size_t)-1;
	struct vreader rd = { NULL, 0, 0 };
	int rc = 0;

	if (nidec_mul_size(n, p, &cells) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "%zu samples x %zu voxels do not fit in memory", n, p);
	S = nidec_malloc_e(cells, sizeof(float), "the samples", err);
	vol = nidec_malloc_e(nv, sizeof(float), "one volume", err);
	mean = nidec_calloc_e(nv, sizeof(double), "the mean image", err);
	dvol = st->smooth ? nidec_malloc_e(nv, sizeof(double), "one volume", err) : NULL;
	if (!S || !vol || !mean || (st->smooth && !dvol)) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		size_t f = st->file_of[i];
		NIDEC_TRY_GOTO(rc, vread(&rd, j, f, st->tab.volume[i] < 0 ? 0 : st->tab.volume[i], vol, nv, err), done);
		for (v = 0; v < nv; v++)
			mean[v] += vol[v];
		if (st->smooth && sm_file != f) {
			nidec_smoother_free(&sm);
			NIDEC_TRY_GOTO(rc, new_smoother(cfg, j->hdr[f], &sm, err), done);
			sm_file = f;
		}
		take_row(j, sm, vol, dvol, S + i * p, &bad);
	}
	warn_bad(cfg->samples, bad);
	/* [clean] standardize, per run over the run's samples (compat = nilearn
	 * refuses [clean] standardize: the Decoder standardizes once) */
	if (cfg->clean_standardize != NIDEC_CLEAN_STD_NONE) {
		size_t run, m;
		K = nidec_malloc_e(cells, sizeof(float), "a run's samples", err);
		if (!K) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		for (run = 0; run < st->tab.n_runs; run++) {
			nidec_cleaner *c = NULL;
			for (i = 0, m = 0; i < n; i++)
				if ((size_t)st->tab.run[i] == run)
					memcpy(K + (m++) * p, S + i * p, p * sizeof(float));
			NIDEC_TRY_GOTO(rc, make_cleaner(cfg, NAN, m, NULL, 0, cfg->clean_standardize, &c, err), done);
			rc = nidec_cleaner_apply(c, K, p, p, err);
			nidec_cleaner_free(&c);
			if (rc < 0)
				goto done;
			for (i = 0, m = 0; i < n; i++)
				if ((size_t)st->tab.run[i] == run)
					memcpy(S + i * p, K + (m++) * p, p * sizeof(float));
		}
	}
	for (i = 0, r = 0; i < n; i++)
		if (j->keep[i]) {
			if (r != i)
				memmove(S + r * p, S + i * p, p * sizeof(float));
			r++;
		}
	NIDEC_TRY_GOTO(rc, nidec_ds_write_rows(w, 0, r, S, err), done);
	for (v = 0; v < nv; v++)
		vol[v] = (float)(mean[v] / (double)n);
	rc = nidec_ds_write_mean_epi(w, vol, j->meta.dims, err);
done:
	nidec_nii_stream_close(&rd.s);
	nidec_smoother_free(&sm);
	nidec_free(S);
	nidec_free(K);
	nidec_free(vol);
	nidec_free(dvol);
	nidec_free(mean);
	return rc;
}

/* Clean a segment (one run) of R: rows [0, n) are volumes t0 .. t0+n-1 of
 * BOLD file f. */
static int clean_segment(const nidec_cfg *cfg, struct job *j, size_t f, size_t t0, float *R, size_t n,
			 nidec_err *err)
{
	struct studies *st = j->st;
	size_t k = st->use_conf ? st->conf[f].k : 0;
	nidec_cleaner *c = NULL;
	int rc;

	NIDEC_TRY(make_cleaner(cfg, st->tr[f], n, k ? st->conf[f].values + t0 * k : NULL, k,
			       cfg->clean_standardize, &c, err));
	rc = nidec_cleaner_apply(c, R, j->meta.n_voxels, j->meta.n_voxels, err);
	nidec_cleaner_free(&c);
	if (rc < 0)
		nidec_err_prefix(err, "'%s': ", j->bold[f]);
	return rc;
}

/*
 * 4D runs.  A run is a stretch of consecutive volumes of one BOLD file
 * with one run label (a file per run, or a 4D file of several runs with a
 * labels table): each is read whole (smoothed, masked), cleaned, and its
 * kept rows written.  With compat = nilearn and cleaning, the kept rows of
 * every run are gathered and cleaned as one series at the end.
 */
static int write_runs(const nidec_cfg *cfg, struct job *j, nidec_ds_writer *w, nidec_err *err)
{
	struct studies *st = j->st;
	size_t p = j->meta.n_voxels, nv = j->hdr[0]->n_vox3, f, v, g = 0, r0 = 0, max_nt = 0, cells;
	size_t k = st->use_conf ? st->conf[0].k : 0, kept_all = 0;
	int one_series = st->compat && st->temporal;
	unsigned char *run_done = NULL;
	float *R = NULL, *B = NULL, *vol = NULL;
	double *dvol = NULL, *run_sum = NULL, *all_sum = NULL, *CB = NULL;
	nidec_smoother *sm = NULL;
	nidec_nii_stream *s = NULL;
	int rc = 0;

	for (f = 0; f < j->n_bold; f++)
		if ((size_t)j->hdr[f]->dims[3] > max_nt)
			max_nt = (size_t)j->hdr[f]->dims[3];
	if (nidec_mul_size(one_series ? j->n_keep : max_nt, p, &cells) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "the rows do not fit in memory");
	R = nidec_malloc_e(max_nt, p * sizeof(float), "one run", err);
	B = one_series ? nidec_malloc_e(cells, sizeof(float), "the selected rows", err) : NULL;
	CB = one_series && k ? nidec_malloc_e(j->n_keep, k * sizeof(double), "the selected confounds", err) : NULL;
	vol = nidec_malloc_e(nv, sizeof(float), "one volume", err);
	dvol = st->smooth ? nidec_malloc_e(nv, sizeof(double), "one volume", err) : NULL;
	run_sum = nidec_malloc_e(nv, sizeof(double), "the mean EPI", err);
	all_sum = nidec_calloc_e(nv, sizeof(double), "the mean EPI", err);
	run_done = nidec_calloc_e(j->lab.n_runs + 1, 1, "the runs", err);
	if (!R || (one_series && !B) || (one_series && k && !CB) || !vol || (st->smooth && !dvol) ||
	    !run_sum || !all_sum || !run_done) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (f = 0; f < j->n_bold; f++) {
		size_t nt = (size_t)j->hdr[f]->dims[3], t, seg0 = 0, kept_file = 0, bad = 0;
		double t0 = nidec_now();
		if (st->smooth)
			NIDEC_TRY_GOTO(rc, new_smoother(cfg, j->hdr[f], &sm, err), done);
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_open(j->bold[f], &s, err), done);
		if (nidec_nii_stream_header(s)->dims[3] != j->hdr[f]->dims[3]) {
			rc = nidec_fail(err, NIDEC_EIO, "'%s' changed while it was read; run again", j->bold[f]);
			goto done;
		}
		memset(run_sum, 0, nv * sizeof(double));
		for (t = 0; t < nt; t++) {
			size_t gt = g + t, q, kept = 0;
			int32_t run = j->lab.run[gt];
			NIDEC_TRY_GOTO(rc, nidec_nii_stream_read(s, NULL, nv, vol, err), done);
			for (v = 0; v < nv; v++)
				run_sum[v] += vol[v];
			take_row(j, sm, vol, dvol, R + (t - seg0) * p, &bad);
			if (t + 1 < nt && j->lab.run[gt + 1] == run)
				continue;
			/* the segment [seg0, t] of run `run` is complete */
			if (!one_series && st->temporal) {
				if (run_done[run]) {
					rc = nidec_fail(err, NIDEC_EINPUT,
							"cleaning per run needs each run's volumes together, but run '%s' comes back at volume %zu of '%s'; order the volumes by run, or clean the selected volumes as one series ([cv] compat = nilearn)",
							j->lab.run_names ? j->lab.run_names[run] : "?", t, j->bold[f]);
					goto done;
				}
				run_done[run] = 1;
				NIDEC_TRY_GOTO(rc, clean_segment(cfg, j, f, seg0, R, t + 1 - seg0, err), done);
			}
			for (q = seg0; q <= t; q++) {
				if (!j->keep[g + q])
					continue;
				if (one_series) {
					memcpy(B + kept_all * p, R + (q - seg0) * p, p * sizeof(float));
					if (k)
						memcpy(CB + kept_all * k, st->conf[f].values + q * k, k * sizeof(double));
					kept_all++;
				} else if (kept != q - seg0) {
					memmove(R + kept * p, R + (q - seg0) * p, p * sizeof(float));
				}
				kept++;
			}
			if (!one_series && kept) {
				NIDEC_TRY_GOTO(rc, nidec_ds_write_rows(w, r0, kept, R, err), done);
				r0 += kept;
			}
			kept_file += kept;
			seg0 = t + 1;
		}
		g += nt;
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_finish(s, err), done);
		nidec_nii_stream_close(&s);
		nidec_smoother_free(&sm);
		for (v = 0; v < nv; v++)
			all_sum[v] += (float)(run_sum[v] / (double)nt);
		warn_bad(j->bold[f], bad);
		nidec_verbose("convert: file %zu/%zu '%s': %zu volumes, %zu kept (%.2fs)", f + 1, j->n_bold,
			      j->bold[f], nt, kept_file, nidec_now() - t0);
	}
	if (one_series) {
		nidec_cleaner *c = NULL;
		NIDEC_TRY_GOTO(rc, make_cleaner(cfg, st->tr[0], kept_all, CB, k, decoder_std(cfg), &c, err), done);
		rc = nidec_cleaner_apply(c, B, p, p, err);
		nidec_cleaner_free(&c);
		if (rc < 0)
			goto done;
		NIDEC_TRY_GOTO(rc, nidec_ds_write_rows(w, 0, kept_all, B, err), done);
	}
	for (v = 0; v < nv; v++)
		vol[v] = (float)(all_sum[v] / (double)j->n_bold);
	rc = nidec_ds_write_mean_epi(w, vol, j->meta.dims, err);
done:
	nidec_nii_stream_close(&s);
	nidec_smoother_free(&sm);
	nidec_free(R);
	nidec_free(B);
	nidec_free(CB);
	nidec_free(vol);
	nidec_free(dvol);
	nidec_free(run_sum);
	nidec_free(all_sum);
	nidec_free(run_done);
	return rc;
}

int nidec_cv_studies_write(const nidec_cfg *cfg, struct job *j, nidec_ds_writer *w, nidec_err *err)
{
	return j->st->samples ? write_samples(cfg, j, w, err) : write_runs(cfg, j, w, err);
}

int nidec_cv_studies_write_attrs(struct job *j, nidec_ds_writer *w, nidec_err *err)
{
	struct studies *st = j->st;

	return nidec_ds_write_sample_attrs(w, (const char *const *)st->attr_names, st->n_attrs,
					   (const char *const *)st->attr_values, err);
}

int nidec_cv_studies_commit(struct job *j, nidec_err *err)
{
	struct studies *st = j->st;

	if (!st->mask_tmp)
		return 0;
	return nidec_tempfile_commit(&st->mask_tmp, err);
}
