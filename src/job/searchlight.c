/*
 * searchlight.c - the searchlight analysis (nilearn's SearchLight): the
 * operations the job driver runs for one subject (job.h "An analysis").
 *
 * load: the samples (samples.h, as the decoder's), then the centres - the
 * [searchlight] process_mask's voxels on the data grid (resampled by
 * nearest neighbour when it is on another grid, as the mask), all of them
 * inside the mask (else an error naming the file and how many are
 * outside); default: every mask voxel - and their spheres (sphere.h).
 * plan: the searchlight's task space (searchlight.h) with the C grid: [model]
 * C when it is set, else C = 1 (nilearn's SearchLight, LinearSVC() or
 * SVR()).  The linear SVC is solved to its minimiser (searchlight.c);
 * other estimators and [model] solver = liblinear get LinearSVC's
 * iteration limit: 1000 under compat = nilearn (SearchLight's default),
 * 10000 otherwise.  A continuous target ([model] task = regression, the
 * dataset's /target as the decoder reads it) is fitted by svr: under
 * compat = nilearn scikit-learn's SVR() as SearchLight(estimator='svr')
 * runs it (RBF kernel, gamma 'scale', no iteration cap), otherwise the
 * decoder's linear SVR (max_iter 10000) on the standardised sphere.
 * Tasks and reduce are the core's; the files are slmaps.h's, then the
 * report's.
 *
 * No MPI: the driver decides which rank calls what.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nidec/job.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/nii.h"
#include "nidec/regress.h"
#include "nidec/report.h"
#include "nidec/results.h"
#include "nidec/samples.h"
#include "nidec/sbuf.h"
#include "nidec/searchlight.h"
#include "nidec/slmaps.h"
#include "nidec/sphere.h"
#include "nidec/svm.h"
#include "nidec/version.h"

struct nidec_analysis {
	const nidec_cfg *cfg;
	nidec_samples d;
	nidec_spheres sp;
	int resampled;         /* the process mask was resampled */
	nidec_sl *sl;
	nidec_sl_reducer *rd;
	nidec_sl_outcome *outcome;
};

static void sl_free(nidec_analysis **ap)
{
	nidec_analysis *a = ap ? *ap : NULL;

	if (!a)
		return;
	nidec_sl_reducer_free(&a->rd);
	nidec_sl_outcome_free(&a->outcome);
	nidec_sl_free(&a->sl);
	nidec_spheres_release(&a->sp);
	nidec_samples_release(&a->d);
	nidec_free(a);
	*ap = NULL;
}

/* The centres: the process mask's voxels that are mask voxels. */
static int centres(nidec_analysis *a, uint32_t **out, size_t *n, nidec_err *err)
{
	const nidec_dataset *ds = a->d.ds;
	const char *path = a->cfg->sl_process_mask;
	nidec_nii *pm = NULL;
	int32_t *grid = NULL, *pijk = NULL;
	uint32_t *c = NULL;
	size_t n_grid, v, m = 0, np = 0, outside = 0;
	int rc = 0;

	if (!path || !path[0]) {
		c = nidec_malloc_e(ds->n_voxels, sizeof(*c), "the centres", err);
		if (!c)
			return NIDEC_ENOMEM;
		for (v = 0; v < ds->n_voxels; v++)
			c[v] = (uint32_t)v;
		*out = c;
		*n = ds->n_voxels;
		return 0;
	}
	n_grid = (size_t)ds->dims[0] * (size_t)ds->dims[1] * (size_t)ds->dims[2];
	rc = nidec_nii_read(path, &pm, err);
	if (rc == 0)
		rc = nidec_mask_on_grid(pm, ds->dims, ds->affine, &pijk, &np, &a->resampled, err);
	if (rc < 0) {
		nidec_err_prefix(err, "[searchlight] process_mask: ");
		goto done;
	}
	grid = nidec_malloc_e(n_grid, sizeof(*grid), "the centres", err);
	c = nidec_malloc_e(np ? np : 1, sizeof(*c), "the centres", err);
	if (!grid || !c) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (v = 0; v < n_grid; v++)
		grid[v] = -1;
	for (v = 0; v < ds->n_voxels; v++) {
		const int32_t *q = ds->ijk + 3 * v;
		grid[((size_t)q[0] * (size_t)ds->dims[1] + (size_t)q[1]) * (size_t)ds->dims[2] + (size_t)q[2]] =
			(int32_t)v;
	}
	for (v = 0; v < np; v++) {
		const int32_t *q = pijk + 3 * v;
		int32_t mv = grid[((size_t)q[0] * (size_t)ds->dims[1] + (size_t)q[1]) * (size_t)ds->dims[2] + (size_t)q[2]];
		if (mv < 0)
			outside++;
		else
			c[m++] = (uint32_t)mv;
	}
	if (outside) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"[searchlight] process_mask '%s': %zu of its %zu voxels are outside the mask (sphere centres must be mask voxels); intersect it with the mask",
				path, outside, np);
		goto done;
	}
	*out = c;
	*n = m;
	c = NULL;
done:
	nidec_free(c);
	nidec_free(grid);
	nidec_free(pijk);
	nidec_nii_free(&pm);
	return rc;
}

static int sl_load(const nidec_cfg *cfg, const char *dataset, nidec_analysis **out, nidec_err *err)
{
	nidec_analysis *a = nidec_calloc_e(1, sizeof(*a), "the searchlight", err);
	uint32_t *c = NULL;
	size_t n = 0;
	int rc;

	if (!a)
		return NIDEC_ENOMEM;
	a->cfg = cfg;
	rc = nidec_samples_load(&a->d, cfg, dataset, err);
	if (rc == 0)
		rc = centres(a, &c, &n, err);
	if (rc == 0)
		rc = nidec_spheres_build(a->d.ds->ijk, a->d.ds->n_voxels, a->d.ds->dims, a->d.ds->affine, c,
					 n, cfg->sl_radius, &a->sp, err);
	if (rc == 0 && a->sp.max_size < 2)
		rc = nidec_fail(err, NIDEC_EINPUT,
				"[searchlight] radius = %g mm: every sphere holds one voxel (the voxels are %.3g x %.3g x %.3g mm); raise the radius",
				cfg->sl_radius, a->d.ds->pixdim[0], a->d.ds->pixdim[1], a->d.ds->pixdim[2]);
	nidec_free(c);
	if (rc < 0) {
		sl_free(&a);
		return rc;
	}
	*out = a;
	return 0;
}

static int sl_plan(nidec_analysis *a, nidec_err *err)
{
	const nidec_cfg *cfg = a->cfg;
	static const double one = 1.0;
	nidec_labels lab;
	nidec_sl_opts o;

	nidec_samples_labels(&a->d, &lab);
	memset(&o, 0, sizeof(o));
	if (nidec_cfg_is_set(cfg, "model", "C")) {
		o.C = cfg->C;
		o.n_C = cfg->n_C;
	} else {
		o.C = &one;
		o.n_C = 1;
	}
	o.min_voxels = cfg->sl_min_voxels;
	o.max_iter = cfg->compat == NIDEC_COMPAT_NILEARN ? 1000 : NIDEC_DCD_MAX_ITER;
	/* svr: nilearn's SearchLight(estimator='svr') is scikit-learn's SVR()
	 * (RBF kernel, gamma 'scale', no iteration cap); default mode the
	 * decoder's linear SVR with its cap */
	o.svr_rbf = cfg->compat == NIDEC_COMPAT_NILEARN;
	o.svr_max_iter = cfg->compat == NIDEC_COMPAT_NILEARN ? 0 : NIDEC_SVR_MAX_ITER;
	return nidec_sl_create(cfg, &lab, &a->sp, &o, &a->sl, err);
}

static void sl_describe(const nidec_analysis *a, char *buf, size_t len)
{
	char what[300];

	if (a->d.target)
		snprintf(what, sizeof(what), "target '%s'", nidec_sl_key(a->sl, 0));
	else
		snprintf(what, sizeof(what), "%zu classes", a->d.n_classes);
	snprintf(buf, len,
		 "%zu samples x %zu voxels, %s, %zu spheres of %zu-%zu voxels (radius %g mm), %zu outer folds, %zu tasks",
		 a->d.n, a->d.p, what, a->sp.n_centres, a->sp.min_size, a->sp.max_size,
		 a->cfg->sl_radius, nidec_sl_n_outer(a->sl), nidec_sl_n_tasks(a->sl));
}

static const char *sl_inputs_sha256(const nidec_analysis *a)
{
	return a->d.ds->inputs_sha256 ? a->d.ds->inputs_sha256 : "";
}

static int sl_prepare(nidec_analysis *a, nidec_err *err)
{
	return nidec_sl_prepare(a->sl, a->d.X, err);
}

static size_t sl_n_tasks(const nidec_analysis *a) { return nidec_sl_n_tasks(a->sl); }
static double sl_task_cost(const nidec_analysis *a, size_t t) { return nidec_sl_task_cost(a->sl, t); }
static size_t sl_task_group(const nidec_analysis *a, size_t t) { return nidec_sl_task_group(a->sl, t); }

static int sl_task_keep(const nidec_analysis *a, size_t t)
{
	(void)a;
	(void)t;
	return 0; /* results are a few KiB: any rank */
}

static int sl_task_run(nidec_analysis *a, size_t t, nidec_result **res, nidec_err *err)
{
	return nidec_sl_task_run(a->sl, t, res, err);
}

static int sl_reduce_start(nidec_analysis *a, nidec_err *err)
{
	return nidec_sl_reducer_create(a->sl, &a->rd, err);
}

static int sl_reduce_add(nidec_analysis *a, nidec_result **results, size_t t, nidec_err *err)
{
	return nidec_sl_reducer_add(a->rd, results, t, err);
}

static int sl_reduce_done(const nidec_analysis *a, size_t t)
{
	return a->rd && nidec_sl_reducer_done(a->rd, t);
}

static int sl_reduce_finish(nidec_analysis *a, nidec_err *err)
{
	int rc = nidec_sl_reducer_finish(a->rd, &a->outcome, err);

	nidec_sl_reducer_free(&a->rd);
	return rc;
}

static void sl_drop_data(nidec_analysis *a)
{
	nidec_free(a->d.X);
	a->d.X = NULL;
}

/* The chance level of the map (searchlight.h "Keys"). */
static double map_chance(const nidec_analysis *a)
{
	int multi = a->cfg->compat == NIDEC_COMPAT_NILEARN && a->d.n_classes > 2;

	return nidec_metric_chance(a->cfg->scoring, a->d.n_classes, multi);
}

static int sl_write(nidec_analysis *a, const nidec_cfg *cfg, const nidec_job_provenance *prov,
		    nidec_err *err)
{
	nidec_results_info info;
	nidec_sl_extra x;

	memset(&info, 0, sizeof(info));
	info.cfg = cfg;
	info.ds = a->d.ds;
	info.n_samples = a->d.n;
	info.rows = a->d.rows;
	info.class_names = (const char *const *)a->d.classes;
	info.n_classes = a->d.n_classes;
	info.version = nidec_version;
	info.command_line = nidec_command_line();
	info.mpi_version = prov->mpi_version;
	info.liblinear_version = nidec_svm_liblinear_version();
	info.n_ranks = prov->n_ranks;
	info.ledger_path = prov->ledger_path;
	info.timing = prov->timing;
	info.warnings = prov->warnings;
	memset(&x, 0, sizeof(x));
	x.sp = &a->sp;
	x.radius = cfg->sl_radius;
	x.min_voxels = cfg->sl_min_voxels;
	x.chance = map_chance(a);
	x.process_mask_resampled = a->resampled;
	return nidec_sl_write(cfg->dir, a->outcome, &info, &x, err);
}

static int sl_report(const nidec_analysis *a, const nidec_cfg *cfg, const char *dataset,
		     nidec_err *err)
{
	(void)a;
	return nidec_report_write(cfg->dir, dataset, err);
}

static void sl_print(const nidec_analysis *a, const nidec_cfg *cfg, int wrote_report)
{
	const nidec_sl_outcome *o = a->outcome;
	const char *sc = nidec_scoring_name(cfg->scoring);
	double best = -INFINITY, sum = 0;
	size_t c, m = 0, at = 0, k;

	for (c = 0; c < o->n_centres; c++)
		if (isfinite(o->map[c])) {
			sum += o->map[c];
			m++;
			if (o->map[c] > best) {
				best = o->map[c];
				at = c;
			}
		}
	nidec_out("searchlight: %zu spheres (radius %g mm, %zu-%zu voxels), %zu skipped (min_voxels %zu)\n",
		  o->n_centres, cfg->sl_radius, a->sp.min_size, a->sp.max_size, o->n_skipped,
		  cfg->sl_min_voxels);
	if (m) {
		const int32_t *q = a->d.ds->ijk + 3 * (size_t)a->sp.centre[at];
		nidec_out("%s: mean %.4f over the spheres, best %.4f at voxel (%d, %d, %d), chance %.4g\n", sc,
			  sum / (double)m, best, q[0], q[1], q[2], map_chance(a));
	}
	if (o->n_perm > 0) {
		size_t sig = 0, sig_fwe = 0;
		for (c = 0; c < o->n_centres; c++) {
			sig += o->p[c] <= 0.05;
			sig_fwe += o->p_fwe[c] <= 0.05;
		}
		nidec_out("permutations: %ld; %zu spheres with p <= 0.05, %zu with family-wise p <= 0.05\n",
			  o->n_perm, sig, sig_fwe);
	}
	nidec_out("wrote %s/searchlight_%s.nii.gz\n", cfg->dir, sc);
	if (o->n_keys > 1)
		for (k = 0; k < o->n_keys; k++) {
			char safe[256];
			nidec_results_safe_name(o->keys[k], safe, sizeof(safe));
			nidec_out("wrote %s/searchlight_%s_%s.nii.gz\n", cfg->dir, sc, safe);
		}
	nidec_out("wrote %s/searchlight_folds_%s.nii.gz\n", cfg->dir, sc);
	nidec_out("wrote %s/searchlight_nvoxels.nii.gz\n", cfg->dir);
	if (o->n_perm > 0) {
		nidec_out("wrote %s/searchlight_p.nii.gz\n", cfg->dir);
		nidec_out("wrote %s/searchlight_p_fwe.nii.gz\n", cfg->dir);
	}
	nidec_out("wrote %s/searchlight.tsv\n", cfg->dir);
	nidec_out("wrote %s/summary.json\n", cfg->dir);
	nidec_out("wrote %s/results.h5\n", cfg->dir);
	if (wrote_report)
		nidec_out("wrote %s/report.html\n", cfg->dir);
}

static int sl_summary(const nidec_analysis *a, const nidec_cfg *cfg, nidec_sbuf *line)
{
	const nidec_sl_outcome *o = a->outcome;
	double sum = 0, best = -INFINITY;
	size_t c, m = 0;

	for (c = 0; c < o->n_centres; c++)
		if (isfinite(o->map[c])) {
			sum += o->map[c];
			m++;
			best = o->map[c] > best ? o->map[c] : best;
		}
	return nidec_sbuf_addf(line, "searchlight %s mean %.4f best %.4f", nidec_scoring_name(cfg->scoring),
			       m ? sum / (double)m : NAN, best) < 0 ? NIDEC_ENOMEM : 0;
}

const nidec_analysis_ops nidec_searchlight_analysis = {
	"searchlight",
	sl_load,
	sl_plan,
	sl_describe,
	sl_inputs_sha256,
	sl_prepare,
	sl_n_tasks,
	sl_task_cost,
	sl_task_group,
	sl_task_keep,
	sl_task_run,
	sl_reduce_start,
	sl_reduce_add,
	sl_reduce_done,
	sl_reduce_finish,
	sl_drop_data,
	sl_write,
	sl_report,
	sl_print,
	sl_summary,
	sl_free,
};
