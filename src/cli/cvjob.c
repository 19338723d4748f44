/*
 * cvjob.c - the cross-validation job of `nidec cv` and `nidec run` (see
 * cvjob.h): read, select, plan, schedule, reduce, write, print.
 *
 * Phases and who fails how: reading and selecting can fail on one rank
 * (a file system hiccup), planning fails identically on every rank (the
 * same config and labels), writing fails on rank 0 only.  After each phase
 * the ranks agree (nidec_comm_agree) before the next collective, so a
 * failure anywhere ends every rank with the same status and the error is
 * printed once.
 *
 * Statistics for model.h5: the column mean and standard deviation of all
 * analysed samples (ddof 1 for zscore_sample, 0 for zscore; a std below
 * float64 epsilon counts as 1, as nilearn).  `nidec predict` applies them
 * to new images outside compat mode (README "Outputs").
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cvjob.h"
#include "nidec/dataset.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/plan.h"
#include "nidec/report.h"
#include "nidec/results.h"
#include "nidec/sched.h"

/* What one rank holds during the job. */
struct job {
	nidec_dataset *ds;
	float *X;              /* [n x p] analysed samples */
	size_t n, p;
	size_t *rows;          /* [n] dataset row of each sample */
	char **classes;        /* [n_classes] borrowed from ds->conditions or labels */
	size_t n_classes;
	int *y;                /* [n] */
	int *runs;             /* [n] */
	int *fold_of_sample;   /* [n] or NULL */
	nidec_plan *plan;
	nidec_result **results;
	nidec_outcome *outcome;
	double *mean, *scale;  /* [p] model.h5 statistics */
	int report;            /* report.html written */
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
static int select_samples(struct job *j, const nidec_cfg *cfg, nidec_err *err)
{
	nidec_dataset *ds = j->ds;
	size_t i, k;

	j->classes = nidec_calloc_e(ds->n_conditions + 1, sizeof(char *), "the class list", err);
	if (!j->classes)
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
			for (c = 0; c < j->n_classes; c++)
				if (!strcmp(j->classes[c], cfg->conditions[k]))
					break;
			if (c == j->n_classes)
				j->classes[j->n_classes++] = cfg->conditions[k];
		}
	} else {
		for (k = 0; k < ds->n_conditions; k++)
			j->classes[j->n_classes++] = ds->conditions[k];
	}
	qsort(j->classes, j->n_classes, sizeof(char *), cmp_str);
	if (j->n_classes < 2)
		return nidec_fail(err, NIDEC_EINPUT,
				  "decoding needs at least two conditions, dataset '%s' selection has %zu; set [data] conditions = a, b",
				  ds->path, j->n_classes);

	j->rows = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(size_t), "the sample list", err);
	j->y = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int), "the labels", err);
	j->runs = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int), "the runs", err);
	if (!j->rows || !j->y || !j->runs)
		return NIDEC_ENOMEM;
	for (i = 0; i < ds->n_samples; i++) {
		int c = class_index(j->classes, j->n_classes, ds->labels[i]);
		if (c < 0)
			continue;
		j->rows[j->n] = i;
		j->y[j->n] = c;
		j->runs[j->n] = ds->runs[i];
		j->n++;
	}
	if (j->n == 0)
		return nidec_fail(err, NIDEC_EINPUT, "dataset '%s' has no sample of the selected conditions",
				  ds->path);
	/* compact X to the kept rows (ascending, so in place) */
	for (i = 0; i < j->n; i++)
		if (j->rows[i] != i)
			memmove(j->X + i * j->p, j->X + j->rows[i] * j->p, j->p * sizeof(float));
	return 0;
}

/* [cv] folds_file: a TSV with a header naming columns `sample` and `fold`
 * (sample = index among the analysed samples; fold >= 0, or -1 = never
 * tested).  Samples not listed are never tested. */
static int read_folds_file(struct job *j, const char *path, nidec_err *err)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int col_s = -1, col_f = -1, lineno = 0, rc = 0;
	size_t i;

	if (!f)
		return nidec_fail(err, NIDEC_EIO, "cannot open [cv] folds_file '%s': %s", path, strerror(errno));
	j->fold_of_sample = nidec_malloc_e(j->n, sizeof(int), "the fold assignment", err);
	if (!j->fold_of_sample) {
		fclose(f);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < j->n; i++)
		j->fold_of_sample[i] = -1;
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
		if (s < 0 || (size_t)s >= j->n || fo < -1 || fo > 1000000) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"[cv] folds_file '%s' line %d: sample must be in 0..%zu and fold >= -1",
					path, lineno, j->n - 1);
			break;
		}
		j->fold_of_sample[s] = (int)fo;
	}
	if (rc == 0 && ferror(f))
		rc = nidec_fail(err, NIDEC_EIO, "cannot read [cv] folds_file '%s'", path);
	if (rc == 0 && col_s < 0)
		rc = nidec_fail(err, NIDEC_EINPUT, "[cv] folds_file '%s' is empty; give a header 'sample fold' and one line per sample",
				path);
	fclose(f);
	return rc;
}

static int load(struct job *j, const nidec_cfg *cfg, const char *dataset, nidec_err *err)
{
	NIDEC_TRY(nidec_ds_open(dataset, &j->ds, err));
	j->p = j->ds->n_voxels;
	NIDEC_TRY(nidec_ds_read_matrix(j->ds, &j->X, err));
	NIDEC_TRY(select_samples(j, cfg, err));
	if (cfg->scheme == NIDEC_CV_FOLDS_FILE)
		NIDEC_TRY(read_folds_file(j, cfg->folds_file, err));
	return 0;
}

static int make_plan(struct job *j, const nidec_cfg *cfg, nidec_err *err)
{
	nidec_labels lab;

	memset(&lab, 0, sizeof(lab));
	lab.n = j->n;
	lab.p = j->p;
	lab.y = j->y;
	lab.runs = j->runs;
	lab.n_classes = j->n_classes;
	lab.class_names = (const char *const *)j->classes;
	lab.voxel_volume_mm3 = nidec_ds_voxel_volume(j->ds);
	lab.fold_of_sample = j->fold_of_sample;
	return nidec_plan_create(cfg, &lab, &j->plan, err);
}

/* Column statistics of X for model.h5 (see the file comment). */
static int column_stats(struct job *j, const nidec_cfg *cfg, nidec_err *err)
{
	size_t i, v;
	double ddof;

	if (cfg->standardize == NIDEC_STD_NONE)
		return 0;
	ddof = cfg->standardize == NIDEC_STD_ZSCORE_SAMPLE ? 1.0 : 0.0;
	j->mean = nidec_calloc_e(j->p ? j->p : 1, sizeof(double), "column means", err);
	j->scale = nidec_calloc_e(j->p ? j->p : 1, sizeof(double), "column scales", err);
	if (!j->mean || !j->scale)
		return NIDEC_ENOMEM;
	for (i = 0; i < j->n; i++)
		for (v = 0; v < j->p; v++)
			j->mean[v] += j->X[i * j->p + v];
	for (v = 0; v < j->p; v++)
		j->mean[v] /= (double)j->n;
	for (i = 0; i < j->n; i++)
		for (v = 0; v < j->p; v++) {
			double d = j->X[i * j->p + v] - j->mean[v];
			j->scale[v] += d * d;
		}
	for (v = 0; v < j->p; v++) {
		double s = (double)j->n > ddof ? sqrt(j->scale[v] / ((double)j->n - ddof)) : 0;
		j->scale[v] = s < DBL_EPSILON ? 1.0 : s;
	}
	return 0;
}

static void print_table(const nidec_outcome *o, const nidec_cfg *cfg)
{
	size_t k, f, c;

	nidec_out("%-16s %-10s %-10s %s\n", "class", nidec_scoring_name(cfg->scoring), "std",
		  "C chosen (folds)");
	for (k = 0; k < o->n_keys; k++) {
		double s = 0, ss = 0, mean;
		size_t m = 0;
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
		{
			size_t nan_folds = 0;
			for (f = 0; f < o->n_folds; f++)
				nan_folds += isnan(o->chosen_C[k * o->n_folds + f]);
			if (nan_folds)
				snprintf(cs, sizeof(cs), "per inner fold (%zu)", nan_folds);
		}
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
		double a = 0;
		for (f = 0; f < o->n_folds; f++)
			a += o->pred_accuracy[f];
		nidec_out("accuracy of the predicted labels: %.4f (mean over %zu fold%s)\n",
			  a / (double)o->n_folds, o->n_folds, o->n_folds == 1 ? "" : "s");
	}
	if (o->n_perm > 0 && o->p_value)
		for (k = 0; k < o->n_keys; k++)
			nidec_out("p-value %-16s %.4g (%ld permutations)\n", o->keys[k], o->p_value[k],
				  o->n_perm);
}

static void print_files(const char *dir, const nidec_outcome *o)
{
	static const char *const names[] = { "scores.tsv", "grid_scores.tsv", "predictions.tsv",
					     "summary.json", "model.h5", "results.h5" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		nidec_out("wrote %s/%s\n", dir, names[i]);
	for (i = 0; i < o->n_keys; i++) {
		char safe[256];
		nidec_results_safe_name(o->keys[i], safe, sizeof(safe));
		nidec_out("wrote %s/weights_%s.nii.gz\n", dir, safe);
		nidec_out("wrote %s/weights_std_%s.nii.gz\n", dir, safe);
	}
}

enum { ST_READ, ST_PLAN, ST_PREPARE, ST_CV, ST_REDUCE, ST_WRITE, N_STAGES };
static const char *const stage_names[N_STAGES] = { "read", "plan", "prepare", "cv", "reduce", "write" };

/* min / max / mean of each stage over ranks (collective). */
static int stage_stats(nidec_comm *comm, const double *t, double *mn, double *mx, double *mean,
		       nidec_err *err)
{
	int s;

	for (s = 0; s < N_STAGES; s++) {
		double a = t[s], b = -t[s], c = t[s];
		NIDEC_TRY(nidec_comm_max_double(comm, &a, err));
		NIDEC_TRY(nidec_comm_max_double(comm, &b, err));
		NIDEC_TRY(nidec_comm_sum_double(comm, &c, err));
		mx[s] = a;
		mn[s] = -b;
		mean[s] = c / nidec_comm_size(comm);
	}
	return 0;
}

static void print_timing(const nidec_sched_stats *st, const double *mn, const double *mx,
			 const double *mean)
{
	int s, r;
	char w[32];

	if (!nidec_log_enabled(NIDEC_LOG_INFO))
		return;
	fprintf(stderr, "timing: stage      min (s)   mean (s)   max (s)   max/min\n");
	for (s = 0; s < N_STAGES; s++)
		fprintf(stderr, "timing: %-9s %8.3f  %9.3f  %8.3f  %8.2f\n", stage_names[s], mn[s],
			mean[s], mx[s], mn[s] > 0 ? mx[s] / mn[s] : 1.0);
	nidec_sched_format_seconds(st->wall, w, sizeof(w));
	fprintf(stderr, "timing: cv ran %zu tasks in %s on %d rank%s, parallel efficiency %.0f%%\n",
		st->n_run, w, st->n_ranks, st->n_ranks == 1 ? "" : "s", 100.0 * st->efficiency);
	fprintf(stderr, "timing: rank   tasks   busy (s)   busy/wall\n");
	for (r = 0; r < st->n_ranks; r++)
		fprintf(stderr, "timing: %4d  %6.0f  %9.3f  %9.0f%%\n", r, st->ran[r], st->busy[r],
			st->wall > 0 ? 100.0 * st->busy[r] / st->wall : 100.0);
}

int nidec_cvjob_run(nidec_comm *comm, const nidec_cfg *cfg, const nidec_cvjob *cj,
		    nidec_err *err)
{
	struct job j;
	int rank = nidec_comm_rank(comm), rc = 0;
	double t[N_STAGES] = { 0 }, t0, smin[N_STAGES], smax[N_STAGES], smean[N_STAGES];
	nidec_sched_opts so = NIDEC_SCHED_OPTS_INIT;
	nidec_sched_stats st = NIDEC_SCHED_STATS_INIT;
	size_t n_tasks = 0;

	memset(&j, 0, sizeof(j));

	/* 1. every rank reads the dataset itself */
	t0 = nidec_now();
	rc = load(&j, cfg, cj->dataset, err);
	t[ST_READ] = nidec_now() - t0;
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	/* 2. the plan checks everything that needs the labels */
	t0 = nidec_now();
	rc = make_plan(&j, cfg, err);
	t[ST_PLAN] = nidec_now() - t0;
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);
	n_tasks = nidec_plan_n_tasks(j.plan);
	nidec_verbose("%zu samples x %zu voxels, %zu classes, %zu outer folds, %zu tasks",
		      j.n, j.p, j.n_classes, nidec_plan_n_outer(j.plan), n_tasks);

	/* 3. only now touch the output directory (rank 0) */
	if (rank == 0) {
		rc = nidec_results_prepare_dir(cfg->dir, err);
		if (rc == 0) {
			j.results = nidec_sched_results_alloc(n_tasks, err);
			if (!j.results)
				rc = NIDEC_ENOMEM;
		}
	}
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	t0 = nidec_now();
	rc = nidec_plan_prepare(j.plan, j.X, err);
	t[ST_PREPARE] = nidec_now() - t0;
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	/* 4. the work */
	so.label = "cv";
	so.progress = cfg->progress;
	/* with many ranks rank 0 is busier answering workers than it would be
	 * useful computing (it polls only between its own tasks) */
	so.rank0_works = nidec_comm_size(comm) <= 8;
	t0 = nidec_now();
	NIDEC_TRY_GOTO(rc, nidec_sched_run(comm, j.plan, &so, j.results, &st, err), done);
	t[ST_CV] = nidec_now() - t0;

	/* 5. reduce and write (rank 0) */
	if (rank == 0) {
		t0 = nidec_now();
		rc = nidec_plan_reduce(j.plan, j.results, &j.outcome, err);
		nidec_sched_results_free(&j.results, n_tasks);
		t[ST_REDUCE] = nidec_now() - t0;
		if (rc == 0)
			rc = column_stats(&j, cfg, err);
	}
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);
	/* free the data before writing: rank 0 needs only the outcome now */
	nidec_free(j.X);
	j.X = NULL;
	nidec_plan_free(&j.plan);

	if (rank == 0) {
		nidec_results_info info;
		nidec_results_timing tm;

		memset(&info, 0, sizeof(info));
		memset(&tm, 0, sizeof(tm));
		info.cfg = cfg;
		info.ds = j.ds;
		info.n_samples = j.n;
		info.rows = j.rows;
		info.class_names = (const char *const *)j.classes;
		info.n_classes = j.n_classes;
		info.std_mean = j.mean;
		info.std_scale = j.scale;
		info.version = nidec_version;
		info.command_line = nidec_cli_command_line();
		info.mpi_version = nidec_comm_library_version();
		info.n_ranks = nidec_comm_size(comm);
		if (cj->timing) {
			tm.n_ranks = st.n_ranks;
			tm.wall = st.wall;
			tm.efficiency = st.efficiency;
			tm.busy = st.busy;
			tm.ran = st.ran;
			/* stage figures of rank 0 (the summary is written before
			 * the collective min/max below) */
			tm.n_stages = ST_WRITE;
			tm.stage = stage_names;
			tm.stage_min = tm.stage_max = tm.stage_mean = t;
			info.timing = &tm;
		}
		t0 = nidec_now();
		rc = nidec_results_write(cfg->dir, j.outcome, &info, err);
		if (rc == 0 && cfg->report) {
			/* the results are complete without it: a failing report
			 * is a warning, not a failed run */
			nidec_err rerr = NIDEC_ERR_INIT;
			if (nidec_report_write(cfg->dir, cj->dataset, &rerr) < 0)
				nidec_warn("report.html not written: %s", rerr.msg);
			else
				j.report = 1;
		}
		t[ST_WRITE] = nidec_now() - t0;
	}
	NIDEC_TRY_GOTO(rc, nidec_comm_agree(comm, rc, err), done);

	if (rank == 0) {
		print_table(j.outcome, cfg);
		print_files(cfg->dir, j.outcome);
		if (j.report)
			nidec_out("wrote %s/report.html\n", cfg->dir);
		fflush(stdout);
	}
	if (cj->timing) {
		NIDEC_TRY_GOTO(rc, stage_stats(comm, t, smin, smax, smean, err), done);
		if (rank == 0)
			print_timing(&st, smin, smax, smean);
	}
done:
	nidec_sched_stats_release(&st);
	nidec_sched_results_free(&j.results, n_tasks);
	nidec_outcome_free(&j.outcome);
	nidec_plan_free(&j.plan);
	nidec_free(j.X);
	nidec_free(j.rows);
	nidec_free(j.classes);
	nidec_free(j.y);
	nidec_free(j.runs);
	nidec_free(j.fold_of_sample);
	nidec_free(j.mean);
	nidec_free(j.scale);
	nidec_ds_close(&j.ds);
	return rc;
}
