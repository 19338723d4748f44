/*
 * results.c - the output directory of a cross-validation (see
 * include/nidec/results.h): TSV tables, summary.json (jansson),
 * results.h5 (HDF5, with the /timing group of --timing and the checkpoint
 * ledger, which nidec_results_extract_ledger reads back for --resume),
 * weight maps (through nii.h), and nidec_results_write, which puts them
 * all in place at once.  model.h5 is written and read by model.c; both
 * write HDF5 through h5w.c.
 *
 * Rank 0 writes; this file makes no MPI call.  Every file goes to a
 * temporary of the file layer in its final directory (file.h) and is
 * renamed once complete and closed without error: a killed run leaves
 * either the old file or the new one, never half of one (nor, unless
 * killed with SIGKILL, a temporary).  Doubles are
 * printed with "%.17g" (nidec_sbuf_add_double: exact round trip, '.' as
 * decimal separator); NaN is written "nan" in TSV and null in JSON.
 *
 * Determinism: nothing here depends on time, host or rank count except the
 * provenance fields that say so (ranks, timing), which live only in
 * summary.json and results.h5; scores.tsv, grid_scores.tsv,
 * predictions.tsv, model.h5's arrays and the weight maps are byte-identical
 * for any number of ranks (tests/e2e/t1100).
 */
#include <errno.h>
#include <hdf5.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nidec/file.h"
#include "nidec/ledger.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/nii.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"

#include "h5w.h"
#include "results_int.h"

/* ---- small helpers ----------------------------------------------------- */

void nidec_results_safe_name(const char *name, char *buf, size_t len)
{
	size_t i = 0;

	if (!len)
		return;
	for (; *name && i + 1 < len; name++) {
		unsigned char c = (unsigned char)*name;
		buf[i++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				   (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '+'
			   ? (char)c : '_';
	}
	if (i == 0 && len > 1)
		buf[i++] = '_';
	buf[i] = '\0';
}

int nidec_tsv_num(nidec_sbuf *sb, double v)
{
	if (isnan(v))
		return nidec_sbuf_adds(sb, "nan");
	return nidec_sbuf_add_double(sb, v);
}

/* Finish one table: write the text built in `sb` (add_rc: whether every
 * append succeeded) into `t` and close it. */
static int write_sbuf(nidec_tempfile *t, nidec_sbuf *sb, int add_rc, nidec_err *err)
{
	if (add_rc < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory formatting '%s'",
				  nidec_tempfile_target(t));
	NIDEC_TRY(nidec_tempfile_write(t, sb->buf, sb->len, err));
	return nidec_tempfile_close(t, err);
}

#define OUTPUT_DIR_FIX "choose another [output] dir or -o"

int nidec_results_prepare_dir(const char *dir, nidec_err *err)
{
	char probe[NIDEC_PATH_MAX];
	nidec_tempfile *t = NULL;
	int rc;

	NIDEC_TRY(nidec_file_mkdir_p(dir, OUTPUT_DIR_FIX, err));
	NIDEC_TRY(nidec_file_join(probe, sizeof(probe), dir, "nidec-write-test", err));
	/* a file really made, not access(): root, ACLs and read-only mounts
	 * answer access() wrongly */
	rc = nidec_tempfile_create(probe, 0, &t, err);
	if (rc == NIDEC_EIO)
		return nidec_fail(err, rc, "cannot write in output directory '%s': %s; " OUTPUT_DIR_FIX,
				  dir, strerror(errno));
	nidec_tempfile_abort(&t);
	return rc;
}

/* ---- TSV tables ---------------------------------------------------------- */

int nidec_results_write_scores(nidec_tempfile *t, const nidec_outcome *o, nidec_err *err)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	size_t k, f;
	int rc = 0, ret;

	rc |= nidec_sbuf_adds(&sb, o->nested ? "class\tfold\tC\tscore\tinner_score\n"
					     : "class\tfold\tC\tscore\n");
	for (k = 0; k < o->n_keys; k++)
		for (f = 0; f < o->n_folds; f++) {
			size_t i = k * o->n_folds + f;
			rc |= nidec_sbuf_addf(&sb, "%s\t%zu\t", o->keys[k], f);
			rc |= nidec_tsv_num(&sb, o->chosen_C[i]);
			rc |= nidec_sbuf_adds(&sb, "\t");
			rc |= nidec_tsv_num(&sb, o->score[i]);
			if (o->nested) {
				rc |= nidec_sbuf_adds(&sb, "\t");
				rc |= nidec_tsv_num(&sb, o->inner_score[i]);
			}
			rc |= nidec_sbuf_adds(&sb, "\n");
		}
	ret = write_sbuf(t, &sb, rc ? NIDEC_ENOMEM : 0, err);
	nidec_sbuf_release(&sb);
	return ret;
}

int nidec_results_write_grid(nidec_tempfile *t, const nidec_outcome *o, nidec_err *err)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	size_t k, f, c;
	int rc = 0, ret;

	/* as scores.tsv: an inner_score column only when C is chosen on inner
	 * folds (nested); choosing it on the test fold (compat = nilearn,
	 * selection = test-fold) has no inner score, and a column of nan
	 * would only say so (tests/bad/README.md B13) */
	rc |= nidec_sbuf_adds(&sb, o->nested ? "class\tfold\tC\tscore\tinner_score\n"
					     : "class\tfold\tC\tscore\n");
	for (k = 0; k < o->n_keys; k++)
		for (f = 0; f < o->n_folds; f++)
			for (c = 0; c < o->n_C; c++) {
				size_t i = (k * o->n_folds + f) * o->n_C + c;
				rc |= nidec_sbuf_addf(&sb, "%s\t%zu\t", o->keys[k], f);
				rc |= nidec_tsv_num(&sb, o->C[c]);
				rc |= nidec_sbuf_adds(&sb, "\t");
				rc |= nidec_tsv_num(&sb, o->grid_score ? o->grid_score[i] : NAN);
				if (o->nested) {
					rc |= nidec_sbuf_adds(&sb, "\t");
					rc |= nidec_tsv_num(&sb, o->grid_inner ? o->grid_inner[i] : NAN);
				}
				rc |= nidec_sbuf_adds(&sb, "\n");
			}
	ret = write_sbuf(t, &sb, rc ? NIDEC_ENOMEM : 0, err);
	nidec_sbuf_release(&sb);
	return ret;
}

static const char *class_name(const nidec_results_info *info, int c)
{
	if (c >= 0 && (size_t)c < info->n_classes)
		return info->class_names[c];
	return "?";
}

static size_t sample_row(const nidec_results_info *info, size_t s)
{
	return info->rows ? info->rows[s] : s;
}

int nidec_results_write_predictions(nidec_tempfile *t, const nidec_outcome *o,
				    const nidec_results_info *info, nidec_err *err)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	size_t i, j;
	int rc = 0, ret;

	rc |= nidec_sbuf_adds(&sb, "sample\trun\tfold\ttrue\tpredicted");
	if (o->pred_target)
		rc |= nidec_sbuf_adds(&sb, "\tresidual"); /* regression: true - predicted */
	else if (o->n_problems == 1)
		rc |= nidec_sbuf_adds(&sb, "\tdecision");
	else
		for (j = 0; j < o->n_problems; j++)
			rc |= nidec_sbuf_addf(&sb, "\tdecision_%s", class_name(info, (int)j));
	for (j = 0; j < info->n_attrs; j++)
		rc |= nidec_sbuf_addf(&sb, "\t%s", info->attr_names[j]);
	rc |= nidec_sbuf_adds(&sb, "\n");
	for (i = 0; i < o->n_pred; i++) {
		size_t s = o->pred_sample[i], row = sample_row(info, s);
		int run = info->ds && row < info->ds->n_samples ? info->ds->runs[row] : -1;

		if (o->pred_target) {
			rc |= nidec_sbuf_addf(&sb, "%zu\t%d\t%d\t", s, run, o->pred_fold[i]);
			rc |= nidec_tsv_num(&sb, o->pred_target[i]);
			rc |= nidec_sbuf_adds(&sb, "\t");
			rc |= nidec_tsv_num(&sb, o->pred_decision[i]);
			rc |= nidec_sbuf_adds(&sb, "\t");
			rc |= nidec_tsv_num(&sb, o->pred_target[i] - o->pred_decision[i]);
		} else {
			rc |= nidec_sbuf_addf(&sb, "%zu\t%d\t%d\t%s\t%s", s, run, o->pred_fold[i],
					      class_name(info, o->pred_true[i]),
					      class_name(info, o->pred_label[i]));
		}
		for (j = 0; !o->pred_target && j < o->n_problems; j++) {
			rc |= nidec_sbuf_adds(&sb, "\t");
			rc |= nidec_tsv_num(&sb, o->pred_decision[i * o->n_problems + j]);
		}
		for (j = 0; info->attr_values && info->ds && row < info->ds->n_samples && j < info->n_attrs; j++)
			rc |= nidec_sbuf_addf(&sb, "\t%s", info->attr_values[row * info->n_attrs + j]);
		rc |= nidec_sbuf_adds(&sb, "\n");
	}
	ret = write_sbuf(t, &sb, rc ? NIDEC_ENOMEM : 0, err);
	nidec_sbuf_release(&sb);
	return ret;
}

int nidec_results_write_null(nidec_tempfile *t, const nidec_outcome *o, nidec_err *err)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	size_t k;
	long i;
	int rc = 0, ret;

	if (o->n_perm <= 0 || !o->null_scores)
		return 0;
	rc |= nidec_sbuf_adds(&sb, "permutation");
	for (k = 0; k < o->n_keys; k++)
		rc |= nidec_sbuf_addf(&sb, "\t%s", o->keys[k]);
	rc |= nidec_sbuf_adds(&sb, "\n");
	for (i = 0; i < o->n_perm; i++) {
		rc |= nidec_sbuf_addf(&sb, "%ld", i + 1);
		for (k = 0; k < o->n_keys; k++) {
			rc |= nidec_sbuf_adds(&sb, "\t");
			rc |= nidec_tsv_num(&sb, o->null_scores[(size_t)i * o->n_keys + k]);
		}
		rc |= nidec_sbuf_adds(&sb, "\n");
	}
	ret = write_sbuf(t, &sb, rc ? NIDEC_ENOMEM : 0, err);
	nidec_sbuf_release(&sb);
	return ret;
}

/* ---- summary.json -------------------------------------------------------- */

json_t *nidec_json_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *nidec_json_nums(const double *v, size_t n, size_t stride)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, nidec_json_num(v[i * stride]));
	return a;
}

json_t *nidec_json_strs(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Mean and population std (ddof 0, as numpy) of the finite values. */
static void mean_std(const double *v, size_t n, double *mean, double *std)
{
	double s = 0, ss = 0;
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		if (isfinite(v[i])) {
			s += v[i];
			m++;
		}
	if (!m) {
		*mean = *std = NAN;
		return;
	}
	*mean = s / (double)m;
	for (i = 0; i < n; i++)
		if (isfinite(v[i]))
			ss += (v[i] - *mean) * (v[i] - *mean);
	*std = sqrt(ss / (double)m);
}

/* The permutation test (README "Permutation test"): the null
 * distribution [n_perm][n_keys], the observed scores it is compared with
 * and the p-values (1 + #{null >= observed}) / (n + 1). */
static json_t *permutations_json(const nidec_outcome *o, const nidec_results_info *info,
				 double sum_mean)
{
	json_t *perm = json_object(), *nul = json_array(), *pv = json_object(), *obs = json_object();
	size_t k;
	long i;

	if (!perm || !nul || !pv || !obs) {
		json_decref(perm);
		json_decref(nul);
		json_decref(pv);
		json_decref(obs);
		return NULL;
	}
	json_object_set_new(perm, "n", json_integer((json_int_t)o->n_perm));
	if (info->cfg)
		json_object_set_new(perm, "permute_within",
				    json_string(info->cfg->permute_within == NIDEC_PERM_RUN ? "run" : "all"));
	json_object_set_new(perm, "statistic",
			    json_string("mean over outer folds of the fold scores, per class; mean over classes for the mean score"));
	json_object_set_new(perm, "p_value_rule", json_string("(1 + #{null >= observed}) / (n + 1)"));
	for (k = 0; k < o->n_keys; k++) {
		double m, sd;
		mean_std(o->score + k * o->n_folds, o->n_folds, &m, &sd);
		json_object_set_new(obs, o->keys[k], nidec_json_num(m));
		json_object_set_new(pv, o->keys[k], nidec_json_num(o->p_value ? o->p_value[k] : NAN));
	}
	json_object_set_new(obs, "mean", nidec_json_num(o->n_keys ? sum_mean / (double)o->n_keys : NAN));
	json_object_set_new(perm, "observed", obs);
	json_object_set_new(perm, "p_value", pv);
	json_object_set_new(perm, "p_value_mean", nidec_json_num(o->p_value_mean));
	for (i = 0; o->null_scores && i < o->n_perm; i++)
		json_array_append_new(nul, nidec_json_nums(o->null_scores + (size_t)i * o->n_keys, o->n_keys, 1));
	json_object_set_new(perm, "null_scores", nul);
	return perm;
}

/* "a\nb\n" -> ["a", "b"] (summary.json "warnings"). */
static json_t *warnings_json(const char *text)
{
	json_t *a = json_array();
	const char *line = text, *end;

	while (a && line && *line) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		json_array_append_new(a, json_stringn(line, (size_t)(end - line)));
		line = *end ? end + 1 : end;
	}
	return a;
}

void nidec_summary_tail(json_t *root, const nidec_results_info *info)
{
	const nidec_cfg *cfg = info->cfg;
	json_t *prov = json_object();
	nidec_sbuf ini = NIDEC_SBUF_INIT;
	unsigned maj, min, rel;
	size_t i;

	if (cfg && nidec_cfg_dump(cfg, &ini) == 0)
		json_object_set_new(root, "config", json_string(ini.buf));
	nidec_sbuf_release(&ini);

	json_object_set_new(prov, "nidec_version", json_string(info->version ? info->version : "?"));
	json_object_set_new(prov, "command_line", json_string(info->command_line ? info->command_line : ""));
	if (info->ds) {
		json_object_set_new(prov, "dataset", json_string(info->ds->path ? info->ds->path : ""));
		json_object_set_new(prov, "dataset_inputs_sha256",
				    json_string(info->ds->inputs_sha256 ? info->ds->inputs_sha256 : ""));
	}
	if (cfg)
		json_object_set_new(prov, "seed", json_integer((json_int_t)cfg->seed));
	json_object_set_new(prov, "ranks", json_integer(info->n_ranks));
	json_object_set_new(prov, "mpi", json_string(info->mpi_version ? info->mpi_version : "?"));
	if (H5get_libversion(&maj, &min, &rel) >= 0) {
		char v[64];
		snprintf(v, sizeof(v), "HDF5 %u.%u.%u", maj, min, rel);
		json_object_set_new(prov, "hdf5", json_string(v));
	}
	{
		char v[128];
		nidec_nii_library_version(v, sizeof(v));
		json_object_set_new(prov, "nifti", json_string(v));
	}
	json_object_set_new(prov, "jansson", json_string(jansson_version_str()));
	if (info->liblinear_version)
		json_object_set_new(prov, "liblinear", json_string(info->liblinear_version));
	json_object_set_new(root, "provenance", prov);
	json_object_set_new(root, "warnings", warnings_json(info->warnings));

	if (info->timing) {
		const nidec_timing *t = info->timing;
		json_t *tj = json_object(), *ranks = json_array(), *stages = json_object();
		int r;
		json_object_set_new(tj, "wall_seconds", nidec_json_num(t->wall));
		json_object_set_new(tj, "parallel_efficiency", nidec_json_num(t->efficiency));
		for (r = 0; r < t->n_ranks; r++) {
			json_t *e = json_object();
			json_object_set_new(e, "rank", json_integer(r));
			json_object_set_new(e, "busy_seconds", nidec_json_num(t->busy ? t->busy[r] : NAN));
			json_object_set_new(e, "tasks", nidec_json_num(t->ran ? t->ran[r] : NAN));
			if (t->host)
				json_object_set_new(e, "host",
						    json_string(t->host + (size_t)r * NIDEC_TIMING_HOST));
			json_array_append_new(ranks, e);
		}
		json_object_set_new(tj, "ranks", ranks);
		for (i = 0; i < t->n_stages; i++) {
			json_t *e = json_object();
			json_object_set_new(e, "min", nidec_json_num(t->stage_min[i]));
			json_object_set_new(e, "max", nidec_json_num(t->stage_max[i]));
			json_object_set_new(e, "mean", nidec_json_num(t->stage_mean[i]));
			json_object_set_new(stages, nidec_timing_stage_name((int)i), e);
		}
		json_object_set_new(tj, "stages", stages);
		json_object_set_new(root, "timing", tj);
	}
}

static json_t *summary_json(const nidec_outcome *o, const nidec_results_info *info)
{
	const nidec_cfg *cfg = info->cfg;
	json_t *root = json_object(), *scores = json_object();
	json_t *conf, *rows;
	double sum_mean = 0;
	size_t k, i, j, correct = 0;

	if (!root || !scores) {
		json_decref(root);
		json_decref(scores);
		return NULL;
	}
	json_object_set_new(root, "nidec_version", json_string(info->version ? info->version : "?"));
	json_object_set_new(root, "classes", nidec_json_strs(info->class_names, info->n_classes));
	json_object_set_new(root, "keys", nidec_json_strs((const char *const *)o->keys, o->n_keys));
	json_object_set_new(root, "n_samples", json_integer((json_int_t)info->n_samples));
	json_object_set_new(root, "n_voxels", json_integer((json_int_t)o->p));
	json_object_set_new(root, "n_folds", json_integer((json_int_t)o->n_folds));
	if (cfg) {
		json_object_set_new(root, "scheme", json_string(nidec_scheme_name(cfg->scheme)));
		json_object_set_new(root, "inner_scheme", json_string(nidec_scheme_name(cfg->inner_scheme)));
		json_object_set_new(root, "selection",
				    json_string(cfg->selection == NIDEC_SEL_NESTED ? "nested" : "test-fold"));
		json_object_set_new(root, "scoring", json_string(nidec_scoring_name(cfg->scoring)));
		json_object_set_new(root, "estimator", json_string(nidec_estimator_name(cfg->estimator)));
		json_object_set_new(root, "compat",
				    json_string(cfg->compat == NIDEC_COMPAT_NILEARN ? "nilearn" : "none"));
	}
	json_object_set_new(root, "C_grid", nidec_json_nums(o->C, o->n_C, 1));

	for (k = 0; k < o->n_keys; k++) {
		json_t *e = json_object();
		const double *s = o->score + k * o->n_folds;
		double mean, std;

		mean_std(s, o->n_folds, &mean, &std);
		sum_mean += mean;
		json_object_set_new(e, "mean", nidec_json_num(mean));
		json_object_set_new(e, "std", nidec_json_num(std));
		json_object_set_new(e, "folds", nidec_json_nums(s, o->n_folds, 1));
		json_object_set_new(e, "chosen_C", nidec_json_nums(o->chosen_C + k * o->n_folds, o->n_folds, 1));
		if (o->nested) {
			double im, is;
			mean_std(o->inner_score + k * o->n_folds, o->n_folds, &im, &is);
			json_object_set_new(e, "inner_mean", nidec_json_num(im));
			json_object_set_new(e, "inner_folds",
					    nidec_json_nums(o->inner_score + k * o->n_folds, o->n_folds, 1));
		}
		if (o->n_inner && o->inner_C && o->inner_fold_score) {
			/* per outer fold, per inner fold: the C picked and its score */
			json_t *ic = json_array(), *is = json_array();
			size_t f;
			for (f = 0; f < o->n_folds; f++) {
				size_t off = (k * o->n_folds + f) * o->n_inner;
				json_array_append_new(ic, nidec_json_nums(o->inner_C + off, o->n_inner, 1));
				json_array_append_new(is, nidec_json_nums(o->inner_fold_score + off, o->n_inner, 1));
			}
			json_object_set_new(e, "inner_C", ic);
			json_object_set_new(e, "inner_fold_scores", is);
		}
		if (o->n_perm > 0 && o->p_value)
			json_object_set_new(e, "p_value", nidec_json_num(o->p_value[k]));
		json_object_set_new(scores, o->keys[k], e);
	}
	json_object_set_new(root, "scores", scores);
	json_object_set_new(root, "mean_score", nidec_json_num(o->n_keys ? sum_mean / (double)o->n_keys : NAN));

	if (o->pred_accuracy) {
		/* the tutorial's number: accuracy of the predicted labels per fold */
		json_t *acc = json_object();
		double am, as;
		mean_std(o->pred_accuracy, o->n_folds, &am, &as);
		json_object_set_new(acc, "mean", nidec_json_num(am));
		json_object_set_new(acc, "std", nidec_json_num(as));
		json_object_set_new(acc, "folds", nidec_json_nums(o->pred_accuracy, o->n_folds, 1));
		json_object_set_new(root, "accuracy", acc);
	}
	json_object_set_new(root, "n_predictions", json_integer((json_int_t)o->n_pred));
	if (o->pred_target) {
		/* regression (issue 18): Pearson r of true and predicted values,
		 * per outer fold (their predictions are contiguous), their mean,
		 * and over every prediction */
		json_t *pr = json_object();
		double *rf = nidec_malloc(o->n_folds ? o->n_folds * sizeof(double) : sizeof(double));
		double all = NAN, m, sd;
		size_t f, a = 0, b;
		for (f = 0; rf && f < o->n_folds; f++) { /* out of memory: no per-fold r (as jansson's) */
			for (b = a; b < o->n_pred && o->pred_fold[b] == (int)f; b++)
				;
			nidec_metric_pearson(o->pred_target + a, o->pred_decision + a, b - a, &rf[f], NULL);
			a = b;
		}
		nidec_metric_pearson(o->pred_target, o->pred_decision, o->n_pred, &all, NULL);
		if (rf) {
			mean_std(rf, o->n_folds, &m, &sd);
			json_object_set_new(pr, "mean", nidec_json_num(m));
			json_object_set_new(pr, "std", nidec_json_num(sd));
			json_object_set_new(pr, "folds", nidec_json_nums(rf, o->n_folds, 1));
		}
		json_object_set_new(pr, "all", nidec_json_num(all));
		json_object_set_new(root, "task", json_string("regression"));
		json_object_set_new(root, "target", json_string(o->n_keys ? o->keys[0] : ""));
		json_object_set_new(root, "pearson_r", pr);
		nidec_free(rf);
	} else {
		for (i = 0; i < o->n_pred; i++)
			correct += o->pred_label[i] == o->pred_true[i];
		json_object_set_new(root, "multiclass_accuracy",
				    nidec_json_num(o->n_pred ? (double)correct / (double)o->n_pred : NAN));
	}
	if (o->confusion && o->n_classes) {
		conf = json_object();
		rows = json_array();
		for (i = 0; i < o->n_classes; i++) {
			json_t *r = json_array();
			for (j = 0; j < o->n_classes; j++)
				json_array_append_new(r, json_integer((json_int_t)o->confusion[i * o->n_classes + j]));
			json_array_append_new(rows, r);
		}
		json_object_set_new(conf, "classes", nidec_json_strs(info->class_names, info->n_classes));
		json_object_set_new(conf, "rows", json_string("true class"));
		json_object_set_new(conf, "columns", json_string("predicted class"));
		json_object_set_new(conf, "counts", rows);
		json_object_set_new(root, "confusion_matrix", conf);
	}
	if (o->n_perm > 0)
		json_object_set_new(root, "permutations", permutations_json(o, info, sum_mean));

	nidec_summary_tail(root, info);
	return root;
}

int nidec_summary_write(nidec_tempfile *t, json_t *root, nidec_err *err)
{
	const char *path = nidec_tempfile_target(t);
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	char *text;
	int add, rc;

	if (!root)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory building '%s'", path);
	text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17) | JSON_ENSURE_ASCII);
	json_decref(root);
	if (!text)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory formatting '%s'", path);
	add = nidec_sbuf_adds(&sb, text) | nidec_sbuf_adds(&sb, "\n");
	free(text);
	rc = write_sbuf(t, &sb, add ? NIDEC_ENOMEM : 0, err);
	nidec_sbuf_release(&sb);
	return rc;
}

int nidec_results_write_summary(nidec_tempfile *t, const nidec_outcome *o,
				const nidec_results_info *info, nidec_err *err)
{
	return nidec_summary_write(t, summary_json(o, info), err);
}


/* ---- results.h5 ------------------------------------------------------------ */

/* results.h5 /timing (--timing only; docs/FORMAT.md "Timing"): one row per
 * task and per result message, compound datasets written field by field
 * from native structs into packed little-endian file types. */
struct timing_task_row {
	uint64_t task;
	int32_t rank;
	double seconds, cost, done;
	uint64_t bytes;
	int32_t keep;
	double cpu;
};

struct timing_msg_row {
	int32_t from;
	uint64_t results, bytes;
	double seconds, at;
};

/* The compound type of a /timing table (msg = 0: tasks, 1: messages);
 * file = 1 gives the packed little-endian file type. */
static hid_t timing_type(int file, int msg)
{
	static const char *const tn[] = { "task", "rank", "seconds", "cost", "done", "bytes", "keep",
					  "cpu" };
	static const char *const mn[] = { "from", "results", "bytes", "seconds", "at" };
	hid_t tm[8], tf[8];
	size_t off[8], sz, o = 0;
	hid_t t;
	int i, nf = msg ? 5 : 8;

	if (!msg) {
		hid_t m0[8] = { H5T_NATIVE_UINT64, H5T_NATIVE_INT32, H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE,
				H5T_NATIVE_DOUBLE, H5T_NATIVE_UINT64, H5T_NATIVE_INT32, H5T_NATIVE_DOUBLE };
		hid_t f0[8] = { H5T_STD_U64LE, H5T_STD_I32LE, H5T_IEEE_F64LE, H5T_IEEE_F64LE, H5T_IEEE_F64LE,
				H5T_STD_U64LE, H5T_STD_I32LE, H5T_IEEE_F64LE };
		size_t o0[8] = { offsetof(struct timing_task_row, task), offsetof(struct timing_task_row, rank),
				 offsetof(struct timing_task_row, seconds), offsetof(struct timing_task_row, cost),
				 offsetof(struct timing_task_row, done), offsetof(struct timing_task_row, bytes),
				 offsetof(struct timing_task_row, keep), offsetof(struct timing_task_row, cpu) };
		memcpy(tm, m0, sizeof(tm));
		memcpy(tf, f0, sizeof(tf));
		memcpy(off, o0, sizeof(off));
		sz = sizeof(struct timing_task_row);
	} else {
		hid_t m0[5] = { H5T_NATIVE_INT32, H5T_NATIVE_UINT64, H5T_NATIVE_UINT64, H5T_NATIVE_DOUBLE,
				H5T_NATIVE_DOUBLE };
		hid_t f0[5] = { H5T_STD_I32LE, H5T_STD_U64LE, H5T_STD_U64LE, H5T_IEEE_F64LE, H5T_IEEE_F64LE };
		size_t o0[5] = { offsetof(struct timing_msg_row, from), offsetof(struct timing_msg_row, results),
				 offsetof(struct timing_msg_row, bytes), offsetof(struct timing_msg_row, seconds),
				 offsetof(struct timing_msg_row, at) };
		memcpy(tm, m0, 5 * sizeof(hid_t));
		memcpy(tf, f0, 5 * sizeof(hid_t));
		memcpy(off, o0, 5 * sizeof(size_t));
		sz = sizeof(struct timing_msg_row);
	}
	if (file)
		for (sz = 0, i = 0; i < nf; i++)
			sz += H5Tget_size(tf[i]);
	t = H5Tcreate(H5T_COMPOUND, sz);
	for (i = 0; t >= 0 && i < nf; i++) {
		if (H5Tinsert(t, msg ? mn[i] : tn[i], file ? o : off[i], file ? tf[i] : tm[i]) < 0) {
			H5Tclose(t);
			return -1;
		}
		o += H5Tget_size(tf[i]);
	}
	return t;
}

static int timing_table(hid_t g, const char *name, int msg, size_t n, const void *rows,
			const char *path, nidec_err *err)
{
	hid_t mt = timing_type(0, msg), ft = timing_type(1, msg);
	hsize_t d[1];
	int rc;

	d[0] = n;
	if (mt < 0 || ft < 0)
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot create the type of /timing/%s", path, name);
	else
		rc = nidec_h5w_write(g, name, mt, ft, 1, d, rows, path, err);
	if (mt >= 0)
		H5Tclose(mt);
	if (ft >= 0)
		H5Tclose(ft);
	return rc;
}

static int timing_group(hid_t f, const nidec_timing *t, const char *path, nidec_err *err)
{
	struct timing_task_row *tr = NULL;
	struct timing_msg_row *mr = NULL;
	hid_t g;
	size_t i;
	int rc = 0;

	g = nidec_h5w_group(f, "timing", path, err);
	if (g < 0)
		return NIDEC_EIO;
	rc = nidec_h5w_attr_i64(g, "ranks", t->n_ranks, path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_f64(g, "wall_seconds", t->wall, path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_f64(g, "parallel_efficiency", t->efficiency, path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_i64(g, "rank0_works", t->rank0_works, path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_i64(g, "messages", (int64_t)t->n_msgs, path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_i64(g, "max_message_bytes", (int64_t)t->max_msg, path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_f64(g, "message_seconds", t->msg_seconds, path, err);
	if (rc == 0 && t->n_ranks > 0 && t->busy && t->ran) {
		hsize_t d[1];
		d[0] = (hsize_t)t->n_ranks;
		rc = nidec_h5w_f64(g, "busy", 1, d, t->busy, path, err);
		if (rc == 0)
			rc = nidec_h5w_f64(g, "ran", 1, d, t->ran, path, err);
	}
	if (rc == 0 && t->n_ranks > 0 && t->host) {
		const char **h = nidec_calloc_e((size_t)t->n_ranks, sizeof(*h), "the host names", err);
		int r;
		if (!h)
			rc = NIDEC_ENOMEM;
		for (r = 0; rc == 0 && r < t->n_ranks; r++)
			h[r] = t->host + (size_t)r * NIDEC_TIMING_HOST;
		if (rc == 0)
			rc = nidec_h5w_vstrings(g, "hosts", h, (size_t)t->n_ranks, path, err);
		nidec_free(h);
	}
	if (rc == 0 && t->task) {
		tr = nidec_malloc_e(t->n_tasks ? t->n_tasks : 1, sizeof(*tr), "the task timing", err);
		if (!tr)
			rc = NIDEC_ENOMEM;
		for (i = 0; rc == 0 && i < t->n_tasks; i++) {
			const nidec_task_timing *tt = &t->task[i];
			tr[i].task = (uint64_t)i;
			tr[i].rank = tt->rank;
			tr[i].seconds = tt->seconds;
			tr[i].cost = tt->cost;
			tr[i].done = tt->done;
			tr[i].bytes = tt->bytes >= 0 ? (uint64_t)tt->bytes : 0;
			tr[i].keep = tt->keep;
			tr[i].cpu = tt->cpu;
		}
		if (rc == 0)
			rc = timing_table(g, "tasks", 0, t->n_tasks, tr, path, err);
	}
	if (rc == 0 && t->task && t->msg) {
		mr = nidec_malloc_e(t->n_msgs ? t->n_msgs : 1, sizeof(*mr), "the message timing", err);
		if (!mr)
			rc = NIDEC_ENOMEM;
		for (i = 0; rc == 0 && i < t->n_msgs; i++) {
			const nidec_msg_timing *mt = &t->msg[i];
			mr[i].from = mt->from;
			mr[i].results = (uint64_t)mt->results;
			mr[i].bytes = (uint64_t)mt->bytes;
			mr[i].seconds = mt->seconds;
			mr[i].at = mt->at;
		}
		if (rc == 0)
			rc = timing_table(g, "messages", 1, t->n_msgs, mr, path, err);
	}
	nidec_free(tr);
	nidec_free(mr);
	H5Gclose(g);
	return rc;
}

int nidec_results_h5_tail(hid_t f, const nidec_results_info *info, const char *kind,
			  const char *path, nidec_err *err)
{
	hid_t g;
	int rc;

	/* the checkpoint ledger: every task result of the run (ledger.h) */
	g = nidec_h5w_group(f, "ledger", path, err);
	if (g < 0)
		return NIDEC_EIO;
	rc = nidec_h5w_attr_str(g, "format", NIDEC_LEDGER_FORMAT, path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_str(g, "note",
					"records: the bytes of the run's checkpoint ledger (docs/FORMAT.md, 'Checkpoint ledger'); nidec cv/run --resume reads them back",
					path, err);
	if (rc == 0 && info->ledger_path)
		rc = nidec_h5w_copy_file(g, "records", info->ledger_path, path, err);
	H5Gclose(g);
	NIDEC_TRY(rc);

	/* only with --timing: without it the file is the same for any rank count */
	if (info->timing)
		NIDEC_TRY(timing_group(f, info->timing, path, err));

	NIDEC_TRY(nidec_h5w_attr_i64(f, "ranks", info->n_ranks, path, err));
	NIDEC_TRY(nidec_h5w_attr_str(f, "mpi", info->mpi_version ? info->mpi_version : "?", path, err));
	if (info->liblinear_version)
		NIDEC_TRY(nidec_h5w_attr_str(f, "liblinear", info->liblinear_version, path, err));
	NIDEC_TRY(nidec_h5w_attr_str(f, "kind", kind, path, err));
	return nidec_h5w_provenance(f, info, path, err);
}

static int results_body(hid_t f, const nidec_outcome *o, const nidec_results_info *info,
			const char *path, nidec_err *err)
{
	hsize_t d[3];
	hid_t g;
	int rc = 0;
	size_t i;
	int64_t *sample = NULL;
	int32_t *run = NULL;

	NIDEC_TRY(nidec_h5w_strings(f, "keys", (const char *const *)o->keys, o->n_keys, path, err));
	NIDEC_TRY(nidec_h5w_strings(f, "classes", info->class_names, info->n_classes, path, err));
	d[0] = o->n_C;
	NIDEC_TRY(nidec_h5w_f64(f, "C", 1, d, o->C, path, err));

	g = nidec_h5w_group(f, "scores", path, err);
	if (g < 0)
		return NIDEC_EIO;
	d[0] = o->n_keys;
	d[1] = o->n_folds;
	d[2] = o->n_C;
	rc = nidec_h5w_f64(g, "score", 2, d, o->score, path, err);
	if (rc == 0)
		rc = nidec_h5w_f64(g, "inner_score", 2, d, o->inner_score, path, err);
	if (rc == 0)
		rc = nidec_h5w_f64(g, "chosen_C", 2, d, o->chosen_C, path, err);
	if (rc == 0 && o->grid_score)
		rc = nidec_h5w_f64(g, "grid_score", 3, d, o->grid_score, path, err);
	if (rc == 0 && o->grid_inner)
		rc = nidec_h5w_f64(g, "grid_inner_score", 3, d, o->grid_inner, path, err);
	if (rc == 0 && o->pred_accuracy)
		rc = nidec_h5w_f64(g, "accuracy", 1, d + 1, o->pred_accuracy, path, err);
	if (rc == 0 && o->n_inner && o->inner_C && o->inner_fold_score) {
		hsize_t di[3];
		di[0] = o->n_keys;
		di[1] = o->n_folds;
		di[2] = o->n_inner;
		rc = nidec_h5w_f64(g, "inner_C", 3, di, o->inner_C, path, err);
		if (rc == 0)
			rc = nidec_h5w_f64(g, "inner_fold_score", 3, di, o->inner_fold_score, path, err);
	}
	H5Gclose(g);
	NIDEC_TRY(rc);

	g = nidec_h5w_group(f, "predictions", path, err);
	if (g < 0)
		return NIDEC_EIO;
	sample = nidec_malloc_e(o->n_pred ? o->n_pred : 1, sizeof(*sample), "predictions", err);
	run = nidec_malloc_e(o->n_pred ? o->n_pred : 1, sizeof(*run), "predictions", err);
	if (!sample || !run)
		rc = NIDEC_ENOMEM;
	for (i = 0; rc == 0 && i < o->n_pred; i++) {
		size_t row = sample_row(info, o->pred_sample[i]);
		sample[i] = (int64_t)o->pred_sample[i];
		run[i] = info->ds && row < info->ds->n_samples ? info->ds->runs[row] : -1;
	}
	d[0] = o->n_pred;
	d[1] = o->n_problems;
	if (rc == 0)
		rc = nidec_h5w_i64(g, "sample", 1, d, sample, path, err);
	if (rc == 0)
		rc = nidec_h5w_i32(g, "run", 1, d, run, path, err);
	if (rc == 0)
		rc = nidec_h5w_int(g, "fold", 1, d, o->pred_fold, path, err);
	if (rc == 0)
		rc = nidec_h5w_int(g, "true", 1, d, o->pred_true, path, err);
	if (rc == 0)
		rc = nidec_h5w_int(g, "predicted", 1, d, o->pred_label, path, err);
	if (rc == 0)
		rc = nidec_h5w_f64(g, "decision", 2, d, o->pred_decision, path, err);
	H5Gclose(g);
	nidec_free(sample);
	nidec_free(run);
	NIDEC_TRY(rc);

	g = nidec_h5w_group(f, "weights", path, err);
	if (g < 0)
		return NIDEC_EIO;
	d[0] = o->n_keys;
	d[1] = o->p;
	rc = nidec_h5w_f64(g, "mean", 2, d, o->coef_mean, path, err);
	if (rc == 0)
		rc = nidec_h5w_f64(g, "std", 2, d, o->coef_std, path, err);
	if (rc == 0)
		rc = nidec_h5w_f64(g, "intercept", 1, d, o->intercept, path, err);
	H5Gclose(g);
	NIDEC_TRY(rc);

	if (o->confusion && o->n_classes) {
		int64_t *c = nidec_malloc_e(o->n_classes * o->n_classes, sizeof(*c), "confusion", err);
		if (!c)
			return NIDEC_ENOMEM;
		for (i = 0; i < o->n_classes * o->n_classes; i++)
			c[i] = o->confusion[i];
		d[0] = d[1] = o->n_classes;
		rc = nidec_h5w_i64(f, "confusion", 2, d, c, path, err);
		nidec_free(c);
		NIDEC_TRY(rc);
	}

	g = nidec_h5w_group(f, "permutations", path, err);
	if (g < 0)
		return NIDEC_EIO;
	rc = nidec_h5w_attr_i64(g, "n", (int64_t)o->n_perm, path, err);
	if (rc == 0 && o->n_perm > 0 && o->null_scores && o->p_value) {
		d[0] = (hsize_t)o->n_perm;
		d[1] = o->n_keys;
		rc = nidec_h5w_f64(g, "null_scores", 2, d, o->null_scores, path, err);
		d[0] = o->n_keys;
		if (rc == 0)
			rc = nidec_h5w_f64(g, "p_value", 1, d, o->p_value, path, err);
	}
	H5Gclose(g);
	NIDEC_TRY(rc);

	if (o->n_perm > 0) {
		g = H5Gopen2(f, "permutations", H5P_DEFAULT);
		if (g < 0)
			return nidec_fail(err, NIDEC_EIO, "'%s': cannot open group 'permutations'", path);
		rc = nidec_h5w_attr_f64(g, "p_value_mean", o->p_value_mean, path, err);
		if (rc == 0)
			rc = nidec_h5w_attr_str(g, "permute_within",
						info->cfg && info->cfg->permute_within == NIDEC_PERM_ALL ? "all" : "run",
						path, err);
		H5Gclose(g);
		NIDEC_TRY(rc);
	}

	return nidec_results_h5_tail(f, info, "nidec results", path, err);
}

int nidec_results_write_h5(nidec_tempfile *t, const nidec_outcome *o,
			   const nidec_results_info *info, nidec_err *err)
{
	const char *path = nidec_tempfile_target(t);
	hid_t f = nidec_h5w_create(t, err);

	if (f < 0)
		return err && err->code ? err->code : NIDEC_EIO;
	return nidec_h5w_close(f, results_body(f, o, info, path, err), path, err);
}

/* ---- the outputs of a run, all or nothing (file.h's file set) ------------- */

static int write_maps(nidec_fileset *out, const nidec_outcome *o, const nidec_results_info *info,
		      nidec_err *err)
{
	float *vals;
	size_t k, v;
	int rc = 0;

	if (!info->ds || info->ds->n_voxels != o->p)
		return nidec_fail(err, NIDEC_EINTERNAL, "weights have %zu voxels, the mask %zu",
				  o->p, info->ds ? info->ds->n_voxels : 0);
	vals = nidec_malloc_e(o->p ? o->p : 1, sizeof(*vals), "a weight map", err);
	if (!vals)
		return NIDEC_ENOMEM;
	for (k = 0; rc == 0 && k < o->n_keys; k++) {
		char safe[256], name[320];
		int which;

		nidec_results_safe_name(o->keys[k], safe, sizeof(safe));
		for (which = 0; rc == 0 && which < 2; which++) {
			const double *src = (which ? o->coef_std : o->coef_mean) + k * o->p;
			nidec_tempfile *t = NULL;
			snprintf(name, sizeof(name), "%s%s.nii.gz", which ? "weights_std_" : "weights_", safe);
			rc = nidec_fileset_add(out, name, &t, err);
			for (v = 0; rc == 0 && v < o->p; v++)
				vals[v] = (float)src[v];
			if (rc == 0)
				rc = nidec_nii_write_masked(t, info->ds, vals, err);
		}
	}
	nidec_free(vals);
	return rc;
}

/* Every output file into its temporary in out->dir, summary.json last. */
static int write_all(nidec_fileset *out, const nidec_outcome *o, const nidec_results_info *info,
		     nidec_err *err)
{
	nidec_tempfile *t = NULL;

	NIDEC_TRY(nidec_fileset_add(out, "scores.tsv", &t, err));
	NIDEC_TRY(nidec_results_write_scores(t, o, err));
	NIDEC_TRY(nidec_fileset_add(out, "grid_scores.tsv", &t, err));
	NIDEC_TRY(nidec_results_write_grid(t, o, err));
	NIDEC_TRY(nidec_fileset_add(out, "predictions.tsv", &t, err));
	NIDEC_TRY(nidec_results_write_predictions(t, o, info, err));
	NIDEC_TRY(write_maps(out, o, info, err));
	NIDEC_TRY(nidec_fileset_add(out, "model.h5", &t, err));
	NIDEC_TRY(nidec_results_write_model(t, o, info, err));
	NIDEC_TRY(nidec_fileset_add(out, "results.h5", &t, err));
	NIDEC_TRY(nidec_results_write_h5(t, o, info, err));
	if (o->n_perm > 0) {
		NIDEC_TRY(nidec_fileset_add(out, "null_scores.tsv", &t, err));
		NIDEC_TRY(nidec_results_write_null(t, o, err));
	}
	NIDEC_TRY(nidec_fileset_add(out, "summary.json", &t, err));
	return nidec_results_write_summary(t, o, info, err);
}

/* All or nothing (tests/bad/README.md B11): every file is written to its
 * temporary in `dir` first; only when all of them are complete (closed,
 * synced) are they renamed into place, summary.json last.  On any failure
 * every temporary is removed and `dir` keeps what it held before. */
int nidec_results_write(const char *dir, const nidec_outcome *o,
			const nidec_results_info *info, nidec_err *err)
{
	nidec_fileset out = NIDEC_FILESET_INIT(dir);
	char path[NIDEC_PATH_MAX];
	size_t i;
	int rc;

	NIDEC_TRY(nidec_file_mkdir_p(dir, OUTPUT_DIR_FIX, err));
	rc = write_all(&out, o, info, err);
	if (rc == 0) {
		/* while the files move the directory is not complete: no
		 * summary.json says so; a stale null_scores.tsv goes */
		static const char *const stale[] = { "summary.json", "null_scores.tsv" };
		for (i = 0; rc == 0 && i < 2; i++) {
			if (i == 1 && o->n_perm > 0)
				continue;
			rc = nidec_file_join(path, sizeof(path), dir, stale[i], err);
			if (rc == 0 && unlink(path) < 0 && errno != ENOENT)
				rc = nidec_fail(err, NIDEC_EIO, "cannot remove the old '%s': %s", path,
						strerror(errno));
		}
	}
	if (rc == 0)
		rc = nidec_fileset_commit(&out, err);
	nidec_fileset_release(&out);
	if (rc == NIDEC_EIO && err && !strstr(err->msg, "; ")) {
		char msg[NIDEC_ERR_MSG_MAX];
		memcpy(msg, err->msg, sizeof(msg));
		nidec_fail(err, rc, "%.800s; no output was written: check the free space and permissions of '%.150s'",
			   msg, dir);
	}
	return rc;
}

/* ---- the ledger kept in results.h5 ------------------------------------------ */

int nidec_results_extract_ledger(const char *h5path, const char *ledger_path, int *found,
				 nidec_err *err)
{
	hid_t f = -1, d = -1, fspace = -1, mspace = -1;
	hsize_t dims[1], off[1], cnt[1];
	unsigned char *buf = NULL;
	nidec_tempfile *t = NULL;
	htri_t has;
	int rc = 0;

	*found = 0;
	if (access(h5path, F_OK) < 0)
		return 0;
	nidec_h5w_quiet();
	f = nidec_h5w_open_ro(h5path);
	if (f < 0)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "cannot open '%s' to resume from its checkpoint: not a readable HDF5 file; delete it to start over",
				  h5path);
	has = H5Lexists(f, "ledger", H5P_DEFAULT);
	if (has > 0)
		has = H5Lexists(f, "ledger/records", H5P_DEFAULT);
	if (has <= 0)
		goto done; /* an older results.h5, or one without a ledger */
	d = H5Dopen2(f, "ledger/records", H5P_DEFAULT);
	fspace = d >= 0 ? H5Dget_space(d) : -1;
	if (fspace < 0 || H5Sget_simple_extent_ndims(fspace) != 1 ||
	    H5Sget_simple_extent_dims(fspace, dims, NULL) < 0) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': /ledger/records is not a byte array", h5path);
		goto done;
	}
	/* the checkpoint: its name made durable too, as nidec_ledger_create does */
	NIDEC_TRY_GOTO(rc, nidec_tempfile_create(ledger_path, NIDEC_TEMPFILE_SYNC_DIR, &t, err), done);
	buf = nidec_malloc_e(NIDEC_H5W_COPY_PIECE, 1, "a copy buffer", err);
	if (!buf) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (off[0] = 0; off[0] < dims[0]; off[0] += cnt[0]) {
		size_t want = dims[0] - off[0] < NIDEC_H5W_COPY_PIECE ? (size_t)(dims[0] - off[0]) : NIDEC_H5W_COPY_PIECE;

		cnt[0] = (hsize_t)want;
		mspace = H5Screate_simple(1, cnt, NULL);
		if (mspace < 0 || H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
		    H5Dread(d, H5T_NATIVE_UCHAR, mspace, fspace, H5P_DEFAULT, buf) < 0) {
			rc = nidec_h5w_fail(err, NIDEC_EFORMAT, h5path, -1, "/ledger/records", "read dataset");
			goto done;
		}
		H5Sclose(mspace);
		mspace = -1;
		NIDEC_TRY_GOTO(rc, nidec_tempfile_write(t, buf, want, err), done);
	}
	rc = nidec_tempfile_commit(&t, err);
	if (rc == 0)
		*found = 1;
done:
	nidec_tempfile_abort(&t);
	nidec_free(buf);
	if (mspace >= 0)
		H5Sclose(mspace);
	if (fspace >= 0)
		H5Sclose(fspace);
	if (d >= 0)
		H5Dclose(d);
	H5Fclose(f);
	return rc;
}
