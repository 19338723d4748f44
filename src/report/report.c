/*
 * report.c - report.html: the entry points (report.h), which pick the page
 * a results directory calls for, and the decoder's page (`nidec run`,
 * `nidec cv`): per-fold scores against chance, the C chosen in each fold,
 * each class's weight map and its std over folds, the confusion matrix
 * and the permutation test, then the sections every page shares
 * (report_common.c: dataset, mean EPI and mask, inputs and provenance,
 * timings, appendix).
 *
 * Rules (see report.h): result files are read, never recomputed; each
 * section stands alone and says "not available" (and why) when its file is
 * missing; the page loads nothing and runs no script.
 *
 * Lifecycle inside: struct report (report_int.h) gathers what could be
 * read, the section writers append to one nidec_sbuf, and the page is
 * written through a temporary and renamed (nidec_rep_save).  Depends on
 * base, io (results names, resultdir), this directory and jansson; no MPI.
 */
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/plot.h"
#include "nidec/report.h"
#include "nidec/resultdir.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"
#include "report_int.h"

/* ---- what the decoder's page knows -------------------------------------- */

/* Keys (weight maps, score series) from summary.json, else from the
 * tables, else from the weight files; then the classes. */
static void find_keys(struct report *r)
{
	const json_t *a;
	size_t i;
	int c;

	a = json_object_get(r->summary, "keys");
	for (i = 0; json_is_array(a) && i < json_array_size(a); i++)
		if (json_is_string(json_array_get(a, i)))
			nidec_rep_strv_add(&r->keys, &r->n_keys, json_string_value(json_array_get(a, i)), &r->oom);
	if (!r->n_keys && r->have_scores && (c = nidec_result_table_col(&r->scores, "class")) >= 0)
		for (i = 0; i < r->scores.n_rows; i++)
			nidec_rep_strv_add(&r->keys, &r->n_keys, nidec_result_table_at(&r->scores, i, c), &r->oom);
	if (!r->n_keys) {
		glob_t g;
		char *pat = nidec_rep_join(r->dir, "weights_*.nii*");
		if (pat && glob(pat, 0, NULL, &g) == 0) {
			for (i = 0; i < g.gl_pathc; i++) {
				const char *b = strrchr(g.gl_pathv[i], '/');
				char name[256];
				b = b ? b + 1 : g.gl_pathv[i];
				if (!strncmp(b, "weights_std_", 12))
					continue;
				snprintf(name, sizeof(name), "%s", b + 8);
				if (strstr(name, ".nii"))
					*strstr(name, ".nii") = '\0';
				nidec_rep_strv_add(&r->keys, &r->n_keys, name, &r->oom);
			}
			globfree(&g);
		}
		nidec_free(pat);
	}
	nidec_rep_find_classes(r);
}

/* ---- sections ----------------------------------------------------------- */

static const char *scoring_of(const struct report *r)
{
	const char *s = nidec_rep_jstr(r->summary, "scoring");
	return s ? s : "score";
}

static void section_summary(struct report *r)
{
	const json_t *scores = json_object_get(r->summary, "scores");
	double mean = nidec_rep_jnum(r->summary, "mean_score");
	size_t i;
	char buf[256];

	ADDS(r, "<div class=\"cards\">\n");
	if (isfinite(mean)) {
		ADD(r, "<div class=\"card\"><div class=\"big\">%.3f</div><div>mean ", mean);
		ESC(r, scoring_of(r));
		ADDS(r, "</div></div>\n");
	}
	for (i = 0; i < r->n_keys && json_is_object(scores); i++) {
		const json_t *e = json_object_get(scores, r->keys[i]);
		double m = nidec_rep_jnum(e, "mean"), s = nidec_rep_jnum(e, "std"), p = nidec_rep_jnum(e, "p_value");
		if (!isfinite(m))
			continue;
		ADD(r, "<div class=\"card\"><div class=\"big\">%.3f <small>&plusmn; %.3f</small></div><div>", m, s);
		ESC(r, r->keys[i]);
		if (isfinite(p))
			ADD(r, ", p = %.3g", p);
		ADDS(r, "</div></div>\n");
	}
	if (r->summary) {
		double nf = nidec_rep_jnum(r->summary, "n_folds"), ns = nidec_rep_jnum(r->summary, "n_samples"),
		       nv = nidec_rep_jnum(r->summary, "n_voxels");
		if (isfinite(ns)) {
			snprintf(buf, sizeof(buf), "%.0f samples, %.0f voxels, %.0f folds", ns, nv, nf);
			ADDS(r, "<div class=\"card\"><div class=\"mid\">");
			ESC(r, buf);
			ADDS(r, "</div><div>");
			snprintf(buf, sizeof(buf), "%s, %s selection, %s", nidec_rep_jstr(r->summary, "scheme") ?
				 nidec_rep_jstr(r->summary, "scheme") : "?", nidec_rep_jstr(r->summary, "selection") ?
				 nidec_rep_jstr(r->summary, "selection") : "?", nidec_rep_jstr(r->summary, "estimator") ?
				 nidec_rep_jstr(r->summary, "estimator") : "?");
			ESC(r, buf);
			ADDS(r, "</div></div>\n");
		}
	}
	ADDS(r, "</div>\n<nav class=\"toc\"><a href=\"#scores\">scores</a> &middot; "
		"<a href=\"#weights\">weight maps</a> &middot; <a href=\"#images\">mean EPI and mask</a> "
		"&middot; <a href=\"#confusion\">confusion</a> &middot; <a href=\"#permutations\">"
		"permutations</a> &middot; <a href=\"#dataset\">dataset</a> &middot; <a href=\"#provenance\">"
		"provenance</a> &middot; <a href=\"#timing\">timings</a> &middot; <a href=\"#appendix\">"
		"appendix</a></nav>\n");
}

static void section_weights(struct report *r)
{
	size_t k;

	ADDS(r, "<section id=\"weights\"><h2>Weight maps</h2>\n"
		"<p class=\"note\">SVM weights averaged over the outer folds, and their standard deviation "
		"over folds, over the mean EPI.  Colour scale symmetric around 0; "
		"neurological view (the subject's left on the left).</p>\n");
	if (!r->n_keys)
		nidec_rep_not_available(r, "no class is known (no summary.json, scores.tsv or weights_*.nii.gz)");
	for (k = 0; k < r->n_keys; k++) {
		int pass;
		ADDS(r, "<h3>");
		ESC(r, r->keys[k]);
		ADDS(r, "</h3>\n<div class=\"pair\">\n");
		for (pass = 0; pass < 2; pass++) {
			nidec_plot_opts o = NIDEC_PLOT_OPTS_INIT;
			nidec_err e = NIDEC_ERR_INIT;
			char safe[256], name[320], title[320], cap[1200], *path;
			nidec_vol v;
			float *d = NULL;

			nidec_results_safe_name(r->keys[k], safe, sizeof(safe));
			snprintf(name, sizeof(name), "%s%s.nii.gz", pass ? "weights_std_" : "weights_", safe);
			path = nidec_rep_join(r->dir, name);
			if (!path) {
				r->oom = 1;
				break;
			}
			if (!nidec_rep_file_exists(path)) {
				snprintf(cap, sizeof(cap), "'%s' is not in the results directory", name);
				nidec_rep_not_available(r, cap);
			} else if (nidec_plot_load(path, 3, -1, "weight map", &v, &d, &e) < 0) {
				nidec_rep_not_available(r, e.msg);
				nidec_warn("report: %s", e.msg);
			} else {
				v.name = name;
				o.kind = NIDEC_PLOT_STAT;
				snprintf(title, sizeof(title), "%s: %s", pass ? "std over folds" : "weights", r->keys[k]);
				o.title = title;
				o.legend = pass ? "std" : "weight";
				snprintf(cap, sizeof(cap), "%s (%s)", name, pass ? "standard deviation over folds"
										: "mean over folds");
				nidec_rep_plot_figure(r, &o, &v, r->have_bg ? &r->bg : NULL, title, cap);
			}
			nidec_free(d);
			nidec_free(path);
		}
		ADDS(r, "</div>\n");
	}
	ADDS(r, "</section>\n");
}

/* Per-fold table data: from scores.tsv, else summary.json. */
struct folds {
	size_t n_keys, n_folds;
	double *score, *C, *inner;   /* [n_keys * n_folds] */
};

static void folds_free(struct folds *f)
{
	nidec_free(f->score);
	nidec_free(f->C);
	nidec_free(f->inner);
	memset(f, 0, sizeof(*f));
}

static int get_folds(struct report *r, struct folds *f, char *why, size_t n_why)
{
	size_t i, k, n;

	memset(f, 0, sizeof(*f));
	f->n_keys = r->n_keys;
	if (r->have_scores) {
		int cc = nidec_result_table_col(&r->scores, "class"), cf = nidec_result_table_col(&r->scores, "fold"),
		    cC = nidec_result_table_col(&r->scores, "C"), cs = nidec_result_table_col(&r->scores, "score"),
		    ci = nidec_result_table_col(&r->scores, "inner_score");
		if (cc < 0 || cf < 0 || cs < 0) {
			snprintf(why, n_why, "scores.tsv lacks a class, fold or score column");
			return -1;
		}
		for (i = 0; i < r->scores.n_rows; i++) {
			long fo = atol(nidec_result_table_at(&r->scores, i, cf));
			if (fo >= 0 && (size_t)fo + 1 > f->n_folds)
				f->n_folds = (size_t)fo + 1;
		}
		n = f->n_keys * f->n_folds;
		f->score = nidec_malloc((n ? n : 1) * sizeof(double));
		f->C = nidec_malloc((n ? n : 1) * sizeof(double));
		f->inner = nidec_malloc((n ? n : 1) * sizeof(double));
		if (!f->score || !f->C || !f->inner) {
			r->oom = 1;
			return -1;
		}
		for (i = 0; i < n; i++)
			f->score[i] = f->C[i] = f->inner[i] = NAN;
		for (i = 0; i < r->scores.n_rows; i++) {
			long fo = atol(nidec_result_table_at(&r->scores, i, cf));
			for (k = 0; k < f->n_keys && strcmp(r->keys[k], nidec_result_table_at(&r->scores, i, cc)); k++)
				;
			if (k == f->n_keys || fo < 0)
				continue;
			f->score[k * f->n_folds + (size_t)fo] = nidec_rep_num(nidec_result_table_at(&r->scores, i, cs));
			f->C[k * f->n_folds + (size_t)fo] = nidec_rep_num(nidec_result_table_at(&r->scores, i, cC));
			f->inner[k * f->n_folds + (size_t)fo] = nidec_rep_num(nidec_result_table_at(&r->scores, i, ci));
		}
		return 0;
	}
	if (r->summary && json_is_object(json_object_get(r->summary, "scores"))) {
		const json_t *sc = json_object_get(r->summary, "scores");
		for (k = 0; k < f->n_keys; k++) {
			const json_t *a = json_object_get(json_object_get(sc, r->keys[k]), "folds");
			if (json_is_array(a) && json_array_size(a) > f->n_folds)
				f->n_folds = json_array_size(a);
		}
		n = f->n_keys * f->n_folds;
		f->score = nidec_malloc((n ? n : 1) * sizeof(double));
		f->C = nidec_malloc((n ? n : 1) * sizeof(double));
		f->inner = nidec_malloc((n ? n : 1) * sizeof(double));
		if (!f->score || !f->C || !f->inner) {
			r->oom = 1;
			return -1;
		}
		for (k = 0; k < f->n_keys; k++) {
			const json_t *e = json_object_get(sc, r->keys[k]);
			const json_t *a = json_object_get(e, "folds"), *c = json_object_get(e, "chosen_C"),
				     *in = json_object_get(e, "inner_folds");
			for (i = 0; i < f->n_folds; i++) {
				const json_t *x;
				x = json_array_get(a, i);
				f->score[k * f->n_folds + i] = json_is_number(x) ? json_number_value(x) : NAN;
				x = json_array_get(c, i);
				f->C[k * f->n_folds + i] = json_is_number(x) ? json_number_value(x) : NAN;
				x = json_array_get(in, i);
				f->inner[k * f->n_folds + i] = json_is_number(x) ? json_number_value(x) : NAN;
			}
		}
		return 0;
	}
	snprintf(why, n_why, "%s; and summary.json has no scores", r->scores_why);
	return -1;
}

static double chance_level(const struct report *r)
{
	const char *s = scoring_of(r);
	size_t k = r->n_classes ? r->n_classes : 2;

	if (!strcmp(s, "roc_auc"))
		return 0.5;
	if (!strcmp(s, "accuracy") || !strcmp(s, "balanced_accuracy"))
		return 1.0 / (double)k;
	return NAN;
}

/* "3" or "3, 4": the runs of fold f's test samples, from predictions.tsv. */
static void fold_runs(const struct report *r, size_t f, char *buf, size_t n)
{
	int cf = nidec_result_table_col(&r->preds, "fold"), cr = nidec_result_table_col(&r->preds, "run");
	long seen[8];
	size_t i, j, ns = 0, used = 0;

	buf[0] = '\0';
	if (!r->have_preds || cf < 0 || cr < 0)
		return;
	for (i = 0; i < r->preds.n_rows; i++) {
		long run;
		if ((size_t)atol(nidec_result_table_at(&r->preds, i, cf)) != f)
			continue;
		run = atol(nidec_result_table_at(&r->preds, i, cr));
		for (j = 0; j < ns && seen[j] != run; j++)
			;
		if (j < ns)
			continue;
		if (ns == 8) {
			snprintf(buf + used, n - used, ", ...");
			return;
		}
		seen[ns++] = run;
		used += (size_t)snprintf(buf + used, n - used, "%s%ld", ns > 1 ? ", " : "", run);
		if (used >= n)
			return;
	}
}

static void section_scores(struct report *r)
{
	struct folds f;
	char why[1024], runs[128];
	size_t k, i;
	double chance = chance_level(r);

	ADDS(r, "<section id=\"scores\"><h2>Scores per fold</h2>\n");
	if (get_folds(r, &f, why, sizeof(why)) < 0) {
		nidec_rep_not_available(r, why);
		ADDS(r, "</section>\n");
		folds_free(&f);
		return;
	}
	r->oom |= nidec_svg_fold_scores(&r->h, (const char *const *)r->keys, f.n_keys, f.score, f.n_folds,
					chance, scoring_of(r)) < 0;
	ADDS(r, "<p class=\"note\">");
	ESC(r, scoring_of(r));
	ADDS(r, " on each outer test fold (bars), the mean of each class (solid line)");
	if (isfinite(chance))
		ADD(r, " and the chance level %.3g (dashed)", chance);
	ADDS(r, ".</p>\n");
	/* the table: fold, test runs, chosen C and scores per key */
	ADDS(r, "<h3>Chosen C and scores per fold</h3><div class=\"wide\"><table><tr><th>fold</th>");
	if (r->have_preds)
		ADDS(r, "<th>test runs</th>");
	for (k = 0; k < f.n_keys; k++) {
		ADDS(r, "<th>C (");
		ESC(r, r->keys[k]);
		ADDS(r, ")</th><th>");
		ESC(r, scoring_of(r));
		ADDS(r, " (");
		ESC(r, r->keys[k]);
		ADDS(r, ")</th>");
		if (isfinite(f.inner[k * f.n_folds]))
			ADDS(r, "<th>inner</th>");
	}
	ADDS(r, "</tr>\n");
	for (i = 0; i < f.n_folds; i++) {
		ADD(r, "<tr><td>%zu</td>", i);
		if (r->have_preds) {
			fold_runs(r, i, runs, sizeof(runs));
			ADD(r, "<td>%s</td>", runs);
		}
		for (k = 0; k < f.n_keys; k++) {
			ADD(r, "<td>%g</td><td>%.4f</td>", f.C[k * f.n_folds + i], f.score[k * f.n_folds + i]);
			if (isfinite(f.inner[k * f.n_folds]))
				ADD(r, "<td>%.4f</td>", f.inner[k * f.n_folds + i]);
		}
		ADDS(r, "</tr>\n");
	}
	ADDS(r, "<tr class=\"total\"><td>mean</td>");
	if (r->have_preds)
		ADDS(r, "<td></td>");
	for (k = 0; k < f.n_keys; k++) {
		double m = 0, sd = 0, mi = 0;
		size_t n = 0;
		for (i = 0; i < f.n_folds; i++)
			if (isfinite(f.score[k * f.n_folds + i])) {
				m += f.score[k * f.n_folds + i];
				mi += f.inner[k * f.n_folds + i];
				n++;
			}
		m = n ? m / (double)n : NAN;
		mi = n ? mi / (double)n : NAN;
		for (i = 0; i < f.n_folds; i++)
			if (isfinite(f.score[k * f.n_folds + i]))
				sd += (f.score[k * f.n_folds + i] - m) * (f.score[k * f.n_folds + i] - m);
		sd = n ? sqrt(sd / (double)n) : NAN;
		ADD(r, "<td></td><td>%.4f &plusmn; %.4f</td>", m, sd);
		if (isfinite(f.inner[k * f.n_folds]))
			ADD(r, "<td>%.4f</td>", mi);
	}
	ADDS(r, "</tr></table></div>\n");
	folds_free(&f);

	/* the grid: mean scores of every C */
	if (r->have_grid) {
		int cc = nidec_result_table_col(&r->grid, "class"), cC = nidec_result_table_col(&r->grid, "C"), cs = nidec_result_table_col(&r->grid, "score"),
		    ci = nidec_result_table_col(&r->grid, "inner_score");
		double *Cs = NULL;
		size_t nC = 0, j;
		ADDS(r, "<h3>Every C tried (grid_scores.tsv, mean over folds)</h3>\n");
		Cs = nidec_malloc((r->grid.n_rows ? r->grid.n_rows : 1) * sizeof(*Cs));
		if (!Cs) {
			r->oom = 1;
		} else {
			for (i = 0; i < r->grid.n_rows; i++) {
				double c = nidec_rep_num(nidec_result_table_at(&r->grid, i, cC));
				for (j = 0; j < nC && Cs[j] != c; j++)
					;
				if (j == nC)
					Cs[nC++] = c;
			}
			ADDS(r, "<table><tr><th>class</th><th>C</th><th>outer score</th><th>inner score</th></tr>\n");
			for (k = 0; k < r->n_keys; k++)
				for (j = 0; j < nC; j++) {
					double so = 0, si = 0;
					size_t no = 0, ni = 0;
					for (i = 0; i < r->grid.n_rows; i++) {
						double a, b;
						if (strcmp(nidec_result_table_at(&r->grid, i, cc), r->keys[k]) ||
						    nidec_rep_num(nidec_result_table_at(&r->grid, i, cC)) != Cs[j])
							continue;
						a = nidec_rep_num(nidec_result_table_at(&r->grid, i, cs));
						b = nidec_rep_num(nidec_result_table_at(&r->grid, i, ci));
						if (isfinite(a)) {
							so += a;
							no++;
						}
						if (isfinite(b)) {
							si += b;
							ni++;
						}
					}
					ADDS(r, "<tr><td>");
					ESC(r, r->keys[k]);
					ADD(r, "</td><td>%g</td>", Cs[j]);
					if (no)
						ADD(r, "<td>%.4f</td>", so / (double)no);
					else
						ADDS(r, "<td>-</td>");
					if (ni)
						ADD(r, "<td>%.4f</td></tr>\n", si / (double)ni);
					else
						ADDS(r, "<td>-</td></tr>\n");
				}
			ADDS(r, "</table>\n");
		}
		nidec_free(Cs);
	}
	ADDS(r, "</section>\n");
}

static void section_confusion(struct report *r)
{
	long *m = NULL;
	size_t K = r->n_classes, i, j, s;
	int ct, cp;

	ADDS(r, "<section id=\"confusion\"><h2>Confusion matrix</h2>\n");
	if (r->have_preds && K && (ct = nidec_result_table_col(&r->preds, "true")) >= 0 &&
	    (cp = nidec_result_table_col(&r->preds, "predicted")) >= 0) {
		m = nidec_calloc(K * K, sizeof(*m));
		if (!m) {
			r->oom = 1;
			goto done;
		}
		for (s = 0; s < r->preds.n_rows; s++) {
			size_t a, b;
			for (a = 0; a < K && strcmp(r->classes[a], nidec_result_table_at(&r->preds, s, ct)); a++)
				;
			for (b = 0; b < K && strcmp(r->classes[b], nidec_result_table_at(&r->preds, s, cp)); b++)
				;
			if (a < K && b < K)
				m[a * K + b]++;
		}
		ADDS(r, "<p class=\"note\">Counted from predictions.tsv over all outer test folds.</p>\n");
	} else if (json_is_object(json_object_get(r->summary, "confusion_matrix")) && K) {
		const json_t *c = json_object_get(json_object_get(r->summary, "confusion_matrix"), "counts");
		m = nidec_calloc(K * K, sizeof(*m));
		if (!m) {
			r->oom = 1;
			goto done;
		}
		for (i = 0; i < K; i++)
			for (j = 0; j < K; j++) {
				const json_t *x = json_array_get(json_array_get(c, i), j);
				m[i * K + j] = json_is_integer(x) ? (long)json_integer_value(x) : 0;
			}
		ADDS(r, "<p class=\"note\">From summary.json (predictions.tsv is not available).</p>\n");
	} else {
		nidec_rep_not_available(r, r->have_preds ? "predictions.tsv has no true/predicted columns" : r->preds_why);
		goto done;
	}
	ADDS(r, "<table class=\"confusion\"><tr><th>true \\ predicted</th>");
	for (j = 0; j < K; j++) {
		ADDS(r, "<th>");
		ESC(r, r->classes[j]);
		ADDS(r, "</th>");
	}
	ADDS(r, "<th>recall</th></tr>\n");
	for (i = 0; i < K; i++) {
		long row = 0;
		for (j = 0; j < K; j++)
			row += m[i * K + j];
		ADDS(r, "<tr><th>");
		ESC(r, r->classes[i]);
		ADDS(r, "</th>");
		for (j = 0; j < K; j++) {
			double share = row ? (double)m[i * K + j] / (double)row : 0;
			/* shade by the row share: the diagonal should be dark */
			ADD(r, "<td style=\"background:rgba(31,119,180,%.2f)%s\">%ld</td>", 0.08 + 0.6 * share,
			    share > 0.6 ? ";color:#fff" : "", m[i * K + j]);
		}
		ADD(r, "<td>%.3f</td></tr>\n", row ? (double)m[i * K + i] / (double)row : NAN);
	}
	ADDS(r, "</table>\n");
done:
	nidec_free(m);
	ADDS(r, "</section>\n");
}

static void section_permutations(struct report *r)
{
	const json_t *perm = json_object_get(r->summary, "permutations");
	const json_t *scores = json_object_get(r->summary, "scores");
	const json_t *nul = json_object_get(perm, "null_scores");
	size_t k, i;

	ADDS(r, "<section id=\"permutations\"><h2>Permutation test</h2>\n");
	if (!r->summary) {
		nidec_rep_not_available(r, r->summary_why);
		goto done;
	}
	if (!json_is_object(perm)) {
		nidec_rep_not_available(r, "no permutations were run (cv.permutations = 0)");
		goto done;
	}
	ADD(r, "<p>%.0f permutations of the labels", nidec_rep_jnum(perm, "n"));
	if (isfinite(nidec_rep_jnum(perm, "p_value_mean")))
		ADD(r, "; p-value of the mean score: <b>%.4g</b>", nidec_rep_jnum(perm, "p_value_mean"));
	ADDS(r, ".</p>\n");
	if (!json_is_array(nul) || json_array_size(nul) == 0) {
		for (k = 0; k < r->n_keys; k++) {
			double p = nidec_rep_jnum(json_object_get(scores, r->keys[k]), "p_value");
			if (isfinite(p)) {
				ADDS(r, "<p>");
				ESC(r, r->keys[k]);
				ADD(r, ": p = %.4g</p>\n", p);
			}
		}
		nidec_rep_not_available(r, "the null scores are not in summary.json (permutations.null_scores)");
		goto done;
	}
	/* null_scores: [n_perm][n_keys] (or [n_perm] for one series) */
	for (k = 0; k < (json_is_array(json_array_get(nul, 0)) ? r->n_keys : 1); k++) {
		size_t n = json_array_size(nul);
		double *v = nidec_malloc(n * sizeof(*v)), obs, p;
		const json_t *e = json_object_get(scores, k < r->n_keys ? r->keys[k] : "");
		if (!v) {
			r->oom = 1;
			goto done;
		}
		for (i = 0; i < n; i++) {
			const json_t *x = json_array_get(nul, i);
			if (json_is_array(x))
				x = json_array_get(x, k);
			v[i] = json_is_number(x) ? json_number_value(x) : NAN;
		}
		obs = json_is_array(json_array_get(nul, 0)) ? nidec_rep_jnum(e, "mean") : nidec_rep_jnum(r->summary, "mean_score");
		p = json_is_array(json_array_get(nul, 0)) ? nidec_rep_jnum(e, "p_value") : nidec_rep_jnum(perm, "p_value_mean");
		if (json_is_array(json_array_get(nul, 0)) && r->n_keys) {
			ADDS(r, "<h3>");
			ESC(r, r->keys[k]);
			ADDS(r, "</h3>\n");
		}
		r->oom |= nidec_svg_histogram(&r->h, v, n, obs, p, scoring_of(r)) < 0;
		nidec_free(v);
	}
done:
	ADDS(r, "</section>\n");
}

/* A regression (issue 18): predicted against true values of every outer
 * test sample, coloured by fold, and the Pearson r of summary.json. */
static void section_regression(struct report *r)
{
	const json_t *pr = json_object_get(json_object_get(r->summary, "pearson_r"), "mean");
	double *x = NULL, *y = NULL, mae = 0;
	int *g = NULL, ct, cp, cf;
	size_t n, i, m = 0;

	ADDS(r, "<section id=\"regression\"><h2>Predicted and true values</h2>\n");
	if (!r->have_preds || (ct = nidec_result_table_col(&r->preds, "true")) < 0 ||
	    (cp = nidec_result_table_col(&r->preds, "predicted")) < 0 ||
	    (cf = nidec_result_table_col(&r->preds, "fold")) < 0) {
		nidec_rep_not_available(r, r->have_preds ? "predictions.tsv has no true/predicted columns" : r->preds_why);
		goto done;
	}
	n = r->preds.n_rows;
	x = nidec_malloc(n ? n * sizeof(double) : 1);
	y = nidec_malloc(n ? n * sizeof(double) : 1);
	g = nidec_malloc(n ? n * sizeof(int) : 1);
	if (!x || !y || !g) {
		r->oom = 1;
		goto done;
	}
	for (i = 0; i < n; i++) {
		x[i] = strtod(nidec_result_table_at(&r->preds, i, ct), NULL);
		y[i] = strtod(nidec_result_table_at(&r->preds, i, cp), NULL);
		g[i] = atoi(nidec_result_table_at(&r->preds, i, cf));
		if (isfinite(x[i]) && isfinite(y[i])) {
			mae += fabs(x[i] - y[i]);
			m++;
		}
	}
	ADD(r, "<p>%zu outer test samples, coloured by fold; the dashed line is predicted = true. "
	       "Pearson r (mean over folds) %.3f, mean absolute residual %.4g.</p>\n", m,
	    json_is_number(pr) ? json_number_value(pr) : NAN, m ? mae / (double)m : NAN);
	r->oom |= nidec_svg_scatter(&r->h, x, y, g, n, "predicted against true values", "true", "predicted") < 0;
done:
	nidec_free(x);
	nidec_free(y);
	nidec_free(g);
	ADDS(r, "</section>\n");
}

/* ---- the page ----------------------------------------------------------- */

static void page(struct report *r)
{
	nidec_rep_page_begin(r, "Decoding report", "Results directory",
			     nidec_rep_jstr(r->summary, "nidec_version"));
	/* results first (readable at a glance), then what they rest on */
	section_summary(r);
	section_scores(r);
	section_weights(r);
	nidec_rep_section_images(r);
	if (nidec_rep_jstr(r->summary, "task") && !strcmp(nidec_rep_jstr(r->summary, "task"), "regression"))
		section_regression(r);
	else
		section_confusion(r);
	section_permutations(r);
	nidec_rep_section_dataset(r);
	nidec_rep_section_provenance(r);
	nidec_rep_section_timing(r);
	nidec_rep_section_appendix(r);
	nidec_rep_page_end(r);
}

/* 1 if `pattern` (under dir) matches a file. */
static int any_file(struct report *r, const char *pattern)
{
	char *pat = nidec_rep_join(r->dir, pattern);
	glob_t g;
	int found = 0;

	if (!pat) {
		r->oom = 1;
		return 0;
	}
	if (glob(pat, 0, NULL, &g) == 0) {
		found = g.gl_pathc > 0;
		globfree(&g);
	}
	nidec_free(pat);
	return found;
}

int nidec_report_write_to(const char *results_dir, const char *dataset_path, const char *out_path,
			  nidec_err *err)
{
	struct report r;
	struct stat st;
	int rc = 0, fatal = 0, searchlight = 0;
	const char *analysis;

	if (stat(results_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EIO, "cannot read results directory '%s': %s; give the output "
				  "directory of 'nidec run' ([output] dir)", results_dir,
				  stat(results_dir, &st) != 0 ? strerror(errno) : "not a directory");
	nidec_rep_init(&r, results_dir);
	nidec_rep_load_summary(&r);
	if (!r.summary && !any_file(&r, "summary.json") &&
	    (any_file(&r, "group_summary.json") || any_file(&r, "dataset_description.json") ||
	     any_file(&r, "sub-*/summary.json") || any_file(&r, "sub-*/error.txt"))) {
		/* the output root of a sweep */
		if (dataset_path)
			rc = nidec_fail(err, NIDEC_EINPUT, "'%s' is the output root of a sweep: its page has no "
					"single dataset; drop --dataset", results_dir);
		else
			rc = r.oom ? nidec_fail(err, NIDEC_ENOMEM, "out of memory")
				   : nidec_report_group_write_to(results_dir, out_path, err);
		goto done;
	}
	/* which page: summary.json says; without it, the files do */
	analysis = nidec_rep_jstr(r.summary, "analysis");
	if (analysis)
		searchlight = !strcmp(analysis, "searchlight");
	else if (!r.summary)
		searchlight = any_file(&r, "searchlight.tsv") || any_file(&r, "searchlight_*.nii*");
	if (!searchlight) {
		nidec_rep_load_tsv(&r, "scores.tsv", &r.scores, &r.have_scores, r.scores_why, sizeof(r.scores_why));
		nidec_rep_load_tsv(&r, "grid_scores.tsv", &r.grid, &r.have_grid, r.grid_why, sizeof(r.grid_why));
		nidec_rep_load_tsv(&r, "predictions.tsv", &r.preds, &r.have_preds, r.preds_why,
				   sizeof(r.preds_why));
	}
	if (!searchlight && !r.summary && !r.have_scores && !r.have_preds && !any_file(&r, "weights_*.nii*")) {
		char *sp = nidec_rep_join(results_dir, "summary.json");
		int has_summary_file = sp && nidec_rep_file_exists(sp);
		nidec_free(sp);
		if (!has_summary_file) {
			rc = nidec_fail(err, NIDEC_EINPUT, "'%s' holds no nidec results (no summary.json, "
					"scores.tsv, predictions.tsv, weights_*.nii.gz, searchlight files or sweep "
					"subjects); give the output directory of 'nidec run', 'nidec cv', 'nidec "
					"searchlight' or 'nidec sweep'", results_dir);
			goto done;
		}
	}
	nidec_rep_load_dataset(&r, dataset_path, &fatal, err);
	if (fatal < 0) {
		rc = fatal;
		goto done;
	}
	if (searchlight)
		nidec_rep_find_classes(&r);
	else
		find_keys(&r);
	nidec_rep_load_background(&r);
	nidec_rep_load_mask(&r);
	if (searchlight)
		nidec_rep_searchlight_page(&r);
	else
		page(&r);
	rc = nidec_rep_save(&r, out_path, err);
done:
	nidec_rep_release(&r);
	return rc;
}

int nidec_report_write(const char *results_dir, const char *dataset_path, nidec_err *err)
{
	return nidec_report_write_to(results_dir, dataset_path, NULL, err);
}
