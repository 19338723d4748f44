/*
 * decoder.c - the decoder analysis (nilearn's Decoder): the operations the
 * job driver runs for one subject (job.h "An analysis").
 *
 * load: the samples (samples.h: every rank reads the dataset's selected
 * rows itself, no matrix is ever broadcast); plan: the plan (plan.h:
 * folds, problems, tasks, every check that needs the labels).  Tasks, reduce and outcome are the core's
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
#include "nidec/samples.h"
#include "nidec/sbuf.h"
#include "nidec/svm.h"
#include "nidec/task.h"
#include "nidec/version.h"

struct nidec_analysis {
	const nidec_cfg *cfg;  /* borrowed from the job */
	nidec_samples d;       /* the samples (samples.h) */
	nidec_plan *plan;
	nidec_scaler stats;    /* model.h5's column statistics (rank 0, at write) */
	nidec_reducer *rd;     /* rank 0 */
	nidec_outcome *outcome;/* rank 0, after reduce_finish */
};

static void decoder_free(nidec_analysis **ap)
{
	nidec_analysis *a = ap ? *ap : NULL;

	if (!a)
		return;
	nidec_reducer_free(&a->rd);
	nidec_outcome_free(&a->outcome);
	nidec_plan_free(&a->plan);
	nidec_scaler_release(&a->stats);
	nidec_samples_release(&a->d);
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
	rc = nidec_samples_load(&a->d, cfg, dataset, err);
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

	nidec_samples_labels(&a->d, &lab);
	return nidec_plan_create(a->cfg, &lab, &a->plan, err);
}

static void decoder_describe(const nidec_analysis *a, char *buf, size_t len)
{
	snprintf(buf, len, "%zu samples x %zu voxels, %zu classes, %zu outer folds, %zu tasks", a->d.n,
		 a->d.p, a->d.n_classes, nidec_plan_n_outer(a->plan), nidec_plan_n_tasks(a->plan));
}

static const char *decoder_inputs_sha256(const nidec_analysis *a)
{
	return a->d.ds->inputs_sha256 ? a->d.ds->inputs_sha256 : "";
}

static int decoder_prepare(nidec_analysis *a, nidec_err *err)
{
	return nidec_plan_prepare(a->plan, a->d.X, err);
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
 * sample, while X is still here. */
static int decoder_reduce_finish(nidec_analysis *a, nidec_err *err)
{
	size_t *all = NULL, i;
	int rc = nidec_reducer_finish(a->rd, &a->outcome, err);

	nidec_reducer_free(&a->rd);
	if (rc < 0 || a->cfg->standardize == NIDEC_STD_NONE)
		return rc;
	all = nidec_malloc_e(a->d.n, sizeof(*all), "the sample list", err);
	if (!all)
		return NIDEC_ENOMEM;
	for (i = 0; i < a->d.n; i++)
		all[i] = i;
	rc = nidec_scaler_fit(&a->stats, a->d.X, a->d.p, all, a->d.n, a->cfg->standardize, 0, err);
	nidec_free(all);
	return rc;
}

/* Rank 0 needs only the outcome and the statistics now. */
static void decoder_drop_data(nidec_analysis *a)
{
	nidec_free(a->d.X);
	a->d.X = NULL;
	nidec_plan_free(&a->plan);
}

static int decoder_write(nidec_analysis *a, const nidec_cfg *cfg, const nidec_job_provenance *prov,
			 nidec_err *err)
{
	nidec_results_info info;
	char **attr_names = NULL, **attr_values = NULL;
	size_t n_attrs = 0;
	int rc;

	/* the dataset's sample attributes go into predictions.tsv */
	NIDEC_TRY(nidec_ds_sample_attrs(a->d.ds, &attr_names, &n_attrs, &attr_values, err));
	memset(&info, 0, sizeof(info));
	info.n_attrs = n_attrs;
	info.attr_names = (const char *const *)attr_names;
	info.attr_values = (const char *const *)attr_values;
	info.cfg = cfg;
	info.ds = a->d.ds;
	info.n_samples = a->d.n;
	info.rows = a->d.rows;
	info.class_names = (const char *const *)a->d.classes;
	info.n_classes = a->d.n_classes;
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
	rc = nidec_results_write(cfg->dir, a->outcome, &info, err);
	nidec_ds_sample_attrs_free(attr_names, n_attrs, attr_values, a->d.ds->n_samples);
	return rc;
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

	/* ridge and lasso choose alpha inside each training part: the
	 * distinct alphas chosen, in fold order */
	int alphas = cfg->estimator == NIDEC_EST_RIDGE || cfg->estimator == NIDEC_EST_LASSO;

	nidec_out("%-16s %-10s %-10s %s\n", cfg->task_type == NIDEC_TASK_REGRESSION ? "target" : "class",
		  nidec_scoring_name(cfg->scoring), "std",
		  alphas ? "alpha chosen (folds)" : cfg->estimator == NIDEC_EST_DUMMY_REGRESSOR ? "" : "C chosen (folds)");
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
		for (f = 0; f < o->n_folds && alphas; f++) {
			double v = o->chosen_C[k * o->n_folds + f];
			size_t g, cnt = 0, len = strlen(cs);
			for (g = 0; g < f && o->chosen_C[k * o->n_folds + g] != v; g++)
				;
			if (g < f)
				continue; /* counted at its first fold */
			for (g = f; g < o->n_folds; g++)
				cnt += o->chosen_C[k * o->n_folds + g] == v;
			snprintf(cs + len, sizeof(cs) - len, "%s%g (%zu)", len ? ", " : "", v, cnt);
		}
		for (f = 0; f < o->n_folds && !nidec_estimator_is_regressor(cfg->estimator); f++)
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
