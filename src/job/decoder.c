/*
 * decoder.c - the decoder analysis (nilearn's Decoder): the operations the
 * job driver runs for one subject (job.h "An analysis").
 *
 * load: read the dataset (every rank reads it itself: no matrix is ever
 * broadcast), keep the samples of [data] conditions (classes = those
 * conditions in byte order, as numpy.unique), compact X to them, read
 * [cv] folds_file, build the plan (plan.h: folds, problems, tasks, every
 * check that needs the labels).  Tasks, reduce and outcome are the core's
 * (task.h, reduce.h, outcome.h); the writers are results.h's and the
 * report's.
 *
 * model.h5 also stores the column statistics of all analysed samples
 * (nidec_scaler_fit: ddof 1 for zscore_sample, 0 for zscore; a standard
 * deviation below float64 epsilon counts as 1, as nilearn), which
 * `nidec predict` applies to new images outside compat mode.
 *
 * No MPI: the driver decides which rank calls what.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/dataset.h"
#include "nidec/job.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/outcome.h"
#include "nidec/plan.h"
#include "nidec/prep.h"
#include "nidec/reduce.h"
#include "nidec/report.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"
#include "nidec/svm.h"
#include "nidec/task.h"
#include "nidec/version.h"

struct nidec_analysis {
	const nidec_cfg *cfg;  /* borrowed from the job */
	nidec_dataset *ds;
	float *X;              /* [n x p] analysed samples (rows compacted) */
	size_t n, p;
	size_t *rows;          /* [n] dataset row of each sample */
	char **classes;        /* [n_classes] borrowed from ds->conditions or cfg */
	size_t n_classes;
	int *y;                /* [n] class index */
	int *runs;             /* [n] */
	int *fold_of_sample;   /* [n] or NULL ([cv] scheme = folds-file) */
	nidec_plan *plan;
	nidec_scaler stats;    /* model.h5's column statistics (rank 0, at write) */
	nidec_reducer *rd;     /* rank 0 */
	nidec_outcome *outcome;/* rank 0, after reduce_finish */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int class_index(char **classes, size_t n, const char *label)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(classes[mid], label);
		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Keep the samples whose condition is in [data] conditions (all if the
 * list is empty); classes = the kept conditions in byte order. */
static int select_samples(nidec_analysis *a, const nidec_cfg *cfg, nidec_err *err)
{
	nidec_dataset *ds = a->ds;
	size_t i, k;

	a->classes = nidec_calloc_e(ds->n_conditions + 1, sizeof(char *), "the class list", err);
	if (!a->classes)
		return NIDEC_ENOMEM;
	if (cfg->n_conditions) {
		for (k = 0; k < cfg->n_conditions; k++) {
			size_t c;
			for (c = 0; c < ds->n_conditions; c++)
				if (!strcmp(ds->conditions[c], cfg->conditions[k]))
					break;
			if (c == ds->n_conditions) {
				nidec_sbuf have = NIDEC_SBUF_INIT;
				for (c = 0; c < ds->n_conditions; c++)
					nidec_sbuf_addf(&have, "%s%s", c ? ", " : "", ds->conditions[c]);
				nidec_fail(err, NIDEC_EINPUT,
					   "[data] conditions: '%s' is not a condition of dataset '%s' (it has: %s); fix the list or re-convert",
					   cfg->conditions[k], ds->path, have.buf);
				nidec_sbuf_release(&have);
				return NIDEC_EINPUT;
			}
			for (c = 0; c < a->n_classes; c++)
				if (!strcmp(a->classes[c], cfg->conditions[k]))
					break;
			if (c == a->n_classes)
				a->classes[a->n_classes++] = cfg->conditions[k];
		}
	} else {
		for (k = 0; k < ds->n_conditions; k++)
			a->classes[a->n_classes++] = ds->conditions[k];
	}
	qsort(a->classes, a->n_classes, sizeof(char *), cmp_str);
	if (a->n_classes < 2)
		return nidec_fail(err, NIDEC_EINPUT,
				  "decoding needs at least two conditions, dataset '%s' selection has %zu; set [data] conditions = a, b",
				  ds->path, a->n_classes);

	a->rows = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(size_t), "the sample list", err);
	a->y = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int), "the labels", err);
	a->runs = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int), "the runs", err);
	if (!a->rows || !a->y || !a->runs)
		return NIDEC_ENOMEM;
	for (i = 0; i < ds->n_samples; i++) {
		int c = class_index(a->classes, a->n_classes, ds->labels[i]);
		if (c < 0)
			continue;
		a->rows[a->n] = i;
		a->y[a->n] = c;
		a->runs[a->n] = ds->runs[i];
		a->n++;
	}
	if (a->n == 0)
		return nidec_fail(err, NIDEC_EINPUT, "dataset '%s' has no sample of the selected conditions",
				  ds->path);
	/* compact X to the kept rows (ascending, so in place) */
	for (i = 0; i < a->n; i++)
		if (a->rows[i] != i)
			memmove(a->X + i * a->p, a->X + a->rows[i] * a->p, a->p * sizeof(float));
	return 0;
}

/* [cv] folds_file: a TSV with a header naming columns `sample` and `fold`
 * (sample = index among the analysed samples; fold >= 0, or -1 = never
 * tested).  Samples not listed are never tested. */
static int read_folds_file(nidec_analysis *a, const char *path, nidec_err *err)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int col_s = -1, col_f = -1, lineno = 0, rc = 0;
	size_t i;

	if (!f)
		return nidec_fail(err, NIDEC_EIO, "cannot open [cv] folds_file '%s': %s", path, strerror(errno));
	a->fold_of_sample = nidec_malloc_e(a->n, sizeof(int), "the fold assignment", err);
	if (!a->fold_of_sample) {
		fclose(f);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < a->n; i++)
		a->fold_of_sample[i] = -1;
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;
		long s = -1, fo = -2;
		int c = 0;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (col_s < 0) {
			for (tok = strtok_r(line, "\t ", &save); tok; tok = strtok_r(NULL, "\t ", &save), c++) {
				if (!strcmp(tok, "sample"))
					col_s = c;
				else if (!strcmp(tok, "fold"))
					col_f = c;
			}
			if (col_s < 0 || col_f < 0) {
				rc = nidec_fail(err, NIDEC_EINPUT,
						"[cv] folds_file '%s' line %d: the header must name the columns 'sample' and 'fold'",
						path, lineno);
				break;
			}
			continue;
		}
		for (tok = strtok_r(line, "\t ", &save); tok; tok = strtok_r(NULL, "\t ", &save), c++) {
			char *end;
			long v;
			if (c != col_s && c != col_f)
				continue;
			errno = 0;
			v = strtol(tok, &end, 10);
			if (*end || errno || end == tok) {
				rc = nidec_fail(err, NIDEC_EINPUT,
						"[cv] folds_file '%s' line %d: '%s' is not a whole number",
						path, lineno, tok);
				break;
			}
			if (c == col_s)
				s = v;
			else
				fo = v;
		}
		if (rc < 0)
			break;
		if (s < 0 || (size_t)s >= a->n || fo < -1 || fo > 1000000) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"[cv] folds_file '%s' line %d: sample must be in 0..%zu and fold >= -1",
					path, lineno, a->n - 1);
			break;
		}
		a->fold_of_sample[s] = (int)fo;
	}
	if (rc == 0 && ferror(f))
		rc = nidec_fail(err, NIDEC_EIO, "cannot read [cv] folds_file '%s'", path);
	if (rc == 0 && col_s < 0)
		rc = nidec_fail(err, NIDEC_EINPUT, "[cv] folds_file '%s' is empty; give a header 'sample fold' and one line per sample",
				path);
	fclose(f);
	return rc;
}

static void decoder_free(nidec_analysis **ap)
{
	nidec_analysis *a = ap ? *ap : NULL;

	if (!a)
		return;
	nidec_reducer_free(&a->rd);
	nidec_outcome_free(&a->outcome);
	nidec_plan_free(&a->plan);
	nidec_free(a->X);
	nidec_free(a->rows);
	nidec_free(a->classes);
	nidec_free(a->y);
	nidec_free(a->runs);
	nidec_free(a->fold_of_sample);
	nidec_scaler_release(&a->stats);
	nidec_ds_close(&a->ds);
	nidec_free(a);
	*ap = NULL;
}

static int decoder_load(const nidec_cfg *cfg, const char *dataset, nidec_analysis **out,
			nidec_err *err)
{
	nidec_analysis *a = nidec_calloc_e(1, sizeof(*a), "the decoder", err);
	int rc;

	if (!a)
		return NIDEC_ENOMEM;
	a->cfg = cfg;
	rc = nidec_ds_open(dataset, &a->ds, err);
	if (rc == 0) {
		a->p = a->ds->n_voxels;
		rc = nidec_ds_read_matrix(a->ds, &a->X, err);
	}
	if (rc == 0)
		rc = select_samples(a, cfg, err);
	if (rc == 0 && cfg->scheme == NIDEC_CV_FOLDS_FILE)
		rc = read_folds_file(a, cfg->folds_file, err);
	if (rc < 0) {
		decoder_free(&a);
		return rc;
	}
	*out = a;
	return 0;
}

static int decoder_plan(nidec_analysis *a, nidec_err *err)
{
	nidec_labels lab;

	memset(&lab, 0, sizeof(lab));
	lab.n = a->n;
	lab.p = a->p;
	lab.y = a->y;
	lab.runs = a->runs;
	lab.n_classes = a->n_classes;
	lab.class_names = (const char *const *)a->classes;
	lab.voxel_volume_mm3 = nidec_ds_voxel_volume(a->ds);
	lab.fold_of_sample = a->fold_of_sample;
	return nidec_plan_create(a->cfg, &lab, &a->plan, err);
}

static void decoder_describe(const nidec_analysis *a, char *buf, size_t len)
{
	snprintf(buf, len, "%zu samples x %zu voxels, %zu classes, %zu outer folds, %zu tasks", a->n, a->p,
		 a->n_classes, nidec_plan_n_outer(a->plan), nidec_plan_n_tasks(a->plan));
}

static const char *decoder_inputs_sha256(const nidec_analysis *a)
{
	return a->ds->inputs_sha256 ? a->ds->inputs_sha256 : "";
}

static int decoder_prepare(nidec_analysis *a, nidec_err *err)
{
	return nidec_plan_prepare(a->plan, a->X, err);
}

static size_t decoder_n_tasks(const nidec_analysis *a)
{
	return nidec_plan_n_tasks(a->plan);
}

static double decoder_task_cost(const nidec_analysis *a, size_t t)
{
	return nidec_plan_task_cost(a->plan, t);
}

static size_t decoder_task_group(const nidec_analysis *a, size_t t)
{
	return nidec_plan_task_group(a->plan, t);
}

/* The fits of an outer fold on the true labels carry the weights. */
static int decoder_task_keep(const nidec_analysis *a, size_t t)
{
	nidec_task tk;

	nidec_plan_task(a->plan, t, &tk);
	return tk.perm == 0 && tk.inner < 0;
}

static int decoder_task_run(nidec_analysis *a, size_t t, nidec_result **res, nidec_err *err)
{
	return nidec_task_run(a->plan, t, res, err);
}

static int decoder_reduce_start(nidec_analysis *a, nidec_err *err)
{
	return nidec_reducer_create(a->plan, &a->rd, err);
}

static int decoder_reduce_add(nidec_analysis *a, nidec_result **results, size_t t, nidec_err *err)
{
	return nidec_reducer_add(a->rd, results, t, err);
}

static int decoder_reduce_done(const nidec_analysis *a, size_t t)
{
	return a->rd && nidec_reducer_done(a->rd, t);
}

/* The outcome, then model.h5's column statistics of every analysed
 * sample (X is compacted: rows 0..n-1), while X is still here. */
static int decoder_reduce_finish(nidec_analysis *a, nidec_err *err)
{
	size_t *all = NULL, i;
	int rc = nidec_reducer_finish(a->rd, &a->outcome, err);

	nidec_reducer_free(&a->rd);
	if (rc < 0 || a->cfg->standardize == NIDEC_STD_NONE)
		return rc;
	all = nidec_malloc_e(a->n, sizeof(*all), "the sample list", err);
	if (!all)
		return NIDEC_ENOMEM;
	for (i = 0; i < a->n; i++)
		all[i] = i;
	rc = nidec_scaler_fit(&a->stats, a->X, a->p, all, a->n, a->cfg->standardize, 0, err);
	nidec_free(all);
	return rc;
}

/* Rank 0 needs only the outcome and the statistics now. */
static void decoder_drop_data(nidec_analysis *a)
{
	nidec_free(a->X);
	a->X = NULL;
	nidec_plan_free(&a->plan);
}

static int decoder_write(nidec_analysis *a, const nidec_cfg *cfg, const nidec_job_provenance *prov,
			 nidec_err *err)
{
	nidec_results_info info;

	memset(&info, 0, sizeof(info));
	info.cfg = cfg;
	info.ds = a->ds;
	info.n_samples = a->n;
	info.rows = a->rows;
	info.class_names = (const char *const *)a->classes;
	info.n_classes = a->n_classes;
	info.std_mean = a->stats.shift;
	info.std_scale = a->stats.scale;
	info.version = nidec_version;
	info.command_line = nidec_command_line();
	info.mpi_version = prov->mpi_version;
	info.liblinear_version = nidec_svm_liblinear_version();
	info.n_ranks = prov->n_ranks;
	info.ledger_path = prov->ledger_path;
	info.timing = prov->timing;
	info.warnings = prov->warnings;
	return nidec_results_write(cfg->dir, a->outcome, &info, err);
}

static int decoder_report(const nidec_analysis *a, const nidec_cfg *cfg, const char *dataset,
			  nidec_err *err)
{
	(void)a;
	return nidec_report_write(cfg->dir, dataset, err);
}

static void decoder_print(const nidec_analysis *a, const nidec_cfg *cfg, int wrote_report)
{
	static const char *const names[] = { "scores.tsv", "grid_scores.tsv", "predictions.tsv",
					     "summary.json", "model.h5", "results.h5" };
	const nidec_outcome *o = a->outcome;
	size_t k, f, c, i;

	nidec_out("%-16s %-10s %-10s %s\n", "class", nidec_scoring_name(cfg->scoring), "std",
		  "C chosen (folds)");
	for (k = 0; k < o->n_keys; k++) {
		double s = 0, ss = 0, mean;
		size_t m = 0, nan_folds = 0;
		char cs[256] = "";

		for (f = 0; f < o->n_folds; f++) {
			double v = o->score[k * o->n_folds + f];
			if (isfinite(v)) {
				s += v;
				m++;
			}
		}
		mean = m ? s / (double)m : NAN;
		for (f = 0; f < o->n_folds; f++) {
			double v = o->score[k * o->n_folds + f];
			if (isfinite(v))
				ss += (v - mean) * (v - mean);
		}
		for (f = 0; f < o->n_folds; f++)
			nan_folds += isnan(o->chosen_C[k * o->n_folds + f]);
		if (nan_folds)
			snprintf(cs, sizeof(cs), "per inner fold (%zu)", nan_folds);
		for (c = 0; c < o->n_C; c++) {
			size_t cnt = 0;
			for (f = 0; f < o->n_folds; f++)
				cnt += o->chosen_C[k * o->n_folds + f] == o->C[c];
			if (cnt) {
				size_t len = strlen(cs);
				snprintf(cs + len, sizeof(cs) - len, "%s%g (%zu)", len ? ", " : "", o->C[c], cnt);
			}
		}
		nidec_out("%-16s %-10.4f %-10.4f %s\n", o->keys[k], mean,
			  m ? sqrt(ss / (double)m) : NAN, cs);
	}
	if (o->pred_accuracy && o->n_folds) {
		double acc = 0;
		for (f = 0; f < o->n_folds; f++)
			acc += o->pred_accuracy[f];
		nidec_out("accuracy of the predicted labels: %.4f (mean over %zu fold%s)\n",
			  acc / (double)o->n_folds, o->n_folds, o->n_folds == 1 ? "" : "s");
	}
	if (o->n_perm > 0 && o->p_value) {
		for (k = 0; k < o->n_keys; k++)
			nidec_out("p-value %-16s %.4g (%ld permutations)\n", o->keys[k], o->p_value[k],
				  o->n_perm);
		nidec_out("p-value %-16s %.4g (%ld permutations)\n", "mean score", o->p_value_mean,
			  o->n_perm);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		nidec_out("wrote %s/%s\n", cfg->dir, names[i]);
	if (o->n_perm > 0)
		nidec_out("wrote %s/null_scores.tsv\n", cfg->dir);
	for (i = 0; i < o->n_keys; i++) {
		char safe[256];
		nidec_results_safe_name(o->keys[i], safe, sizeof(safe));
		nidec_out("wrote %s/weights_%s.nii.gz\n", cfg->dir, safe);
		nidec_out("wrote %s/weights_std_%s.nii.gz\n", cfg->dir, safe);
	}
	if (wrote_report)
		nidec_out("wrote %s/report.html\n", cfg->dir);
}

static int decoder_summary(const nidec_analysis *a, const nidec_cfg *cfg, nidec_sbuf *line)
{
	const nidec_outcome *o = a->outcome;
	size_t k, f;

	NIDEC_TRY(nidec_sbuf_adds(line, nidec_scoring_name(cfg->scoring)) < 0 ? NIDEC_ENOMEM : 0);
	for (k = 0; k < o->n_keys; k++) {
		double s = 0;
		size_t m = 0;
		for (f = 0; f < o->n_folds; f++)
			if (isfinite(o->score[k * o->n_folds + f])) {
				s += o->score[k * o->n_folds + f];
				m++;
			}
		if (nidec_sbuf_addf(line, " %s %.4f", o->keys[k], m ? s / (double)m : NAN) < 0)
			return NIDEC_ENOMEM;
	}
	return 0;
}

const nidec_analysis_ops nidec_decoder_analysis = {
	"decoder",
	decoder_load,
	decoder_plan,
	decoder_describe,
	decoder_inputs_sha256,
	decoder_prepare,
	decoder_n_tasks,
	decoder_task_cost,
	decoder_task_group,
	decoder_task_keep,
	decoder_task_run,
	decoder_reduce_start,
	decoder_reduce_add,
	decoder_reduce_done,
	decoder_reduce_finish,
	decoder_drop_data,
	decoder_write,
	decoder_report,
	decoder_print,
	decoder_summary,
	decoder_free,
};
