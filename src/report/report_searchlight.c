/*
 * report_searchlight.c - the page of a searchlight's results directory
 * (`nidec searchlight`; its files are src/io/slmaps.c's, listed in
 * include/nidec/slmaps.h): what the searchlight found at a glance (the
 * spheres, the scoring and its chance level, the mean and the best
 * sphere, where it is in voxels and mm), the map over the mean EPI
 * thresholded at chance, the distribution of the sphere scores, the best
 * spheres, the sphere sizes, the permutation test, then the sections every
 * page shares (report_common.c).
 *
 * What each section reads:
 *   summary, best spheres    summary.json (the map's statistics, "best",
 *                            "sphere_voxels", "above_chance", "chance")
 *   the map                  searchlight_<scoring>.nii.gz (and, for K > 2
 *                            classes, searchlight_<scoring>_<class>.nii.gz)
 *   distribution, sizes      searchlight.tsv (columns score, n_voxels)
 *   permutations             summary.json "permutations",
 *                            searchlight_p_fwe.nii.gz
 * The threshold: a sphere centre is coloured when its map value is greater
 * than the chance level summary.json records, compared at the map's
 * precision (float32 > (float)chance: a mean over folds that differs from
 * chance by rounding alone, 0.50000000000000011 or a 2/3 that float32
 * rounds up, is chance; the page notes the spheres where this differs from
 * summary.json's count, made from the doubles); the other centres, the
 * voxels that are no centre (0 in the map) and skipped spheres (NaN) show
 * the mean EPI.  Without a chance level (f1, precision, recall)
 * the map is drawn unthresholded and the page says so.  Counting the
 * coloured voxels and the histogram's bars is the only arithmetic.
 *
 * No MPI; base, io (nii through plot, results names, resultdir) and this
 * directory.
 */
#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/plot.h"
#include "nidec/resultdir.h"
#include "nidec/results.h"
#include "report_int.h"

/* What the searchlight's page knows besides struct report. */
struct sl {
	struct report *r;
	char scoring[128];          /* "" when unknown */
	double chance;              /* NaN: none, or unknown */
	nidec_result_table tsv;     /* searchlight.tsv */
	int have_tsv;
	char tsv_why[512];
};

#define FWE_ALPHA 0.05

/* The scoring: summary.json's, else the name of the folds map
 * (searchlight_folds_<scoring>.nii.gz, one per directory). */
static void find_scoring(struct sl *s)
{
	const char *sc = nidec_rep_jstr(s->r->summary, "scoring");
	char *pat;
	glob_t g;

	if (sc) {
		snprintf(s->scoring, sizeof(s->scoring), "%s", sc);
		return;
	}
	pat = nidec_rep_join(s->r->dir, "searchlight_folds_*.nii*");
	if (!pat) {
		s->r->oom = 1;
		return;
	}
	if (glob(pat, 0, NULL, &g) == 0) {
		if (g.gl_pathc == 1) {
			const char *b = strrchr(g.gl_pathv[0], '/');
			char *dot;
			snprintf(s->scoring, sizeof(s->scoring), "%s", (b ? b + 1 : g.gl_pathv[0]) + 18);
			if ((dot = strstr(s->scoring, ".nii")))
				*dot = '\0';
		}
		globfree(&g);
	}
	nidec_free(pat);
}

static const char *scoring(const struct sl *s)
{
	return s->scoring[0] ? s->scoring : "score";
}

static void card(struct report *r, const char *big, const char *text)
{
	ADDS(r, "<div class=\"card\"><div class=\"big\">");
	ESC(r, big);
	ADDS(r, "</div><div>");
	ESC(r, text);
	ADDS(r, "</div></div>\n");
}

/* "(13, 14, 0)" and "(20.1, 16.9, 0.0) mm" of a "best" entry; 0 if it has
 * no voxel. */
static int best_where(const json_t *b, char *ijk, size_t n_ijk, char *xyz, size_t n_xyz)
{
	const json_t *q = json_object_get(b, "ijk"), *w = json_object_get(b, "xyz");

	if (!json_is_array(q) || json_array_size(q) != 3)
		return 0;
	snprintf(ijk, n_ijk, "(%lld, %lld, %lld)", (long long)json_integer_value(json_array_get(q, 0)),
		 (long long)json_integer_value(json_array_get(q, 1)),
		 (long long)json_integer_value(json_array_get(q, 2)));
	if (json_is_array(w) && json_array_size(w) == 3)
		snprintf(xyz, n_xyz, "(%.1f, %.1f, %.1f) mm", json_number_value(json_array_get(w, 0)),
			 json_number_value(json_array_get(w, 1)), json_number_value(json_array_get(w, 2)));
	else
		snprintf(xyz, n_xyz, "(? mm)");
	return 1;
}

static void section_summary(struct sl *s)
{
	struct report *r = s->r;
	const json_t *sum = r->summary, *map = json_object_get(sum, "map"),
		     *best = json_array_get(json_object_get(sum, "best"), 0),
		     *sv = json_object_get(sum, "sphere_voxels"), *perm = json_object_get(sum, "permutations");
	char big[64], text[512], ijk[96], xyz[128];
	double chance = s->chance;

	if (!sum) {
		nidec_rep_not_available(r, r->summary_why);
	} else {
		ADDS(r, "<div class=\"cards\">\n");
		if (isfinite(nidec_rep_jnum(map, "mean"))) {
			snprintf(big, sizeof(big), "%.4f", nidec_rep_jnum(map, "mean"));
			snprintf(text, sizeof(text), "mean %s over %.0f spheres", scoring(s),
				 nidec_rep_jnum(map, "n"));
			card(r, big, text);
		}
		if (isfinite(nidec_rep_jnum(best, "score")) && best_where(best, ijk, sizeof(ijk), xyz, sizeof(xyz))) {
			snprintf(big, sizeof(big), "%.4f", nidec_rep_jnum(best, "score"));
			snprintf(text, sizeof(text), "best %s, at voxel %s = %s", scoring(s), ijk, xyz);
			card(r, big, text);
		}
		if (isfinite(chance) && isfinite(nidec_rep_jnum(sum, "above_chance"))) {
			snprintf(big, sizeof(big), "%.0f", nidec_rep_jnum(sum, "above_chance"));
			snprintf(text, sizeof(text), "of %.0f spheres above chance (%.4g)",
				 nidec_rep_jnum(sum, "n_spheres"), chance);
			card(r, big, text);
		}
		if (json_is_object(perm)) {
			snprintf(big, sizeof(big), "%.0f", nidec_rep_jnum(perm, "p_fwe_le_0.05"));
			snprintf(text, sizeof(text), "spheres with FWE p <= 0.05 (%.0f with p <= 0.05 uncorrected; "
				 "%.0f permutations)", nidec_rep_jnum(perm, "p_le_0.05"), nidec_rep_jnum(perm, "n"));
			card(r, big, text);
		}
		ADDS(r, "</div>\n");
		ADDS(r, "<table class=\"kv\" id=\"analysis\">\n");
		snprintf(text, sizeof(text), "%s", scoring(s));
		nidec_rep_kv_row(r, "scoring", text);
		if (isfinite(chance))
			snprintf(text, sizeof(text), "%.4g", chance);
		else
			snprintf(text, sizeof(text), "none for %s: the map is shown unthresholded", scoring(s));
		nidec_rep_kv_row(r, "chance level", text);
		snprintf(text, sizeof(text), "%.0f (%.0f skipped: fewer than min_voxels = %.0f voxels)",
			 nidec_rep_jnum(sum, "n_spheres"), nidec_rep_jnum(sum, "n_skipped"),
			 nidec_rep_jnum(sum, "min_voxels"));
		nidec_rep_kv_row(r, "spheres", text);
		snprintf(text, sizeof(text), "%.4g mm; %.0f to %.0f voxels a sphere (median %.4g)",
			 nidec_rep_jnum(sum, "radius_mm"), nidec_rep_jnum(sv, "min"), nidec_rep_jnum(sv, "max"),
			 nidec_rep_jnum(sv, "median"));
		nidec_rep_kv_row(r, "radius", text);
		if (best_where(best, ijk, sizeof(ijk), xyz, sizeof(xyz))) {
			snprintf(text, sizeof(text), "%.4f at voxel (i, j, k) %s, world (x, y, z) %s",
				 nidec_rep_jnum(best, "score"), ijk, xyz);
			nidec_rep_kv_row(r, "best sphere", text);
		}
		snprintf(text, sizeof(text), "%.0f samples, %.0f voxels in the mask, %.0f outer folds (%s), %s",
			 nidec_rep_jnum(sum, "n_samples"), nidec_rep_jnum(sum, "n_voxels"),
			 nidec_rep_jnum(sum, "n_folds"), nidec_rep_jstr(sum, "scheme") ? nidec_rep_jstr(sum, "scheme") : "?",
			 nidec_rep_jstr(sum, "estimator") ? nidec_rep_jstr(sum, "estimator") : "?");
		nidec_rep_kv_row(r, "cross-validation", text);
		ADDS(r, "</table>\n");
	}
	ADDS(r, "<nav class=\"toc\"><a href=\"#map\">map</a> &middot; <a href=\"#distribution\">distribution"
		"</a> &middot; <a href=\"#best\">best spheres</a> &middot; <a href=\"#spheres\">sphere sizes</a> "
		"&middot; <a href=\"#permutations\">permutations</a> &middot; <a href=\"#images\">mean EPI and "
		"mask</a> &middot; <a href=\"#dataset\">dataset</a> &middot; <a href=\"#provenance\">provenance"
		"</a> &middot; <a href=\"#timing\">timings</a> &middot; <a href=\"#appendix\">appendix</a></nav>\n");
}

/* Load <dir>/<name> (a 3D map); on failure say why in the page and
 * return -1. */
static int load_map(struct sl *s, const char *name, nidec_vol *v, float **d)
{
	struct report *r = s->r;
	nidec_err e = NIDEC_ERR_INIT;
	char *path = nidec_rep_join(r->dir, name), why[600];
	int rc = -1;

	if (!path) {
		r->oom = 1;
		return -1;
	}
	if (!nidec_rep_file_exists(path)) {
		snprintf(why, sizeof(why), "'%s' is not in the results directory", name);
		nidec_rep_not_available(r, why);
	} else if (nidec_plot_load(path, 3, -1, "searchlight map", v, d, &e) < 0) {
		nidec_rep_not_available(r, e.msg);
		nidec_warn("report: %s", e.msg);
	} else {
		rc = 0;
	}
	nidec_free(path);
	return rc;
}

static size_t n_vox(const nidec_vol *v)
{
	return (size_t)v->dims[0] * (size_t)v->dims[1] * (size_t)v->dims[2];
}

/* Draw `v` (file `name`) over the mean EPI, coloured where > threshold
 * (NaN: every value > 0), and return the number of coloured voxels. */
static size_t draw_thresholded(struct sl *s, const nidec_vol *v, const char *name, double threshold,
			       const char *title, const char *what)
{
	struct report *r = s->r;
	nidec_plot_opts o = NIDEC_PLOT_OPTS_INIT;
	nidec_vol shown = *v;
	float *d;
	size_t i, n = n_vox(v), above = 0;
	char cap[1600];

	/* a copy without the values at or below the threshold (NaN is never
	 * drawn), so that what is coloured is exactly what is above it, at the
	 * map's precision (see above) */
	d = nidec_malloc(n * sizeof(*d) + 1);
	if (!d) {
		r->oom = 1;
		return 0;
	}
	for (i = 0; i < n; i++) {
		int keep = isnan(threshold) ? v->data[i] > 0 : v->data[i] > (float)threshold;
		d[i] = keep ? v->data[i] : NAN;
		above += keep;
	}
	shown.data = d;
	shown.name = name;
	o.kind = NIDEC_PLOT_STAT;
	o.title = title;
	o.legend = scoring(s);
	/* draw_panel colours |value| > threshold: every value kept above */
	o.threshold = isfinite(threshold) && threshold > 0 ? (double)(float)threshold : 0;
	if (isfinite(threshold))
		snprintf(cap, sizeof(cap), "%s: %s, coloured where above chance (%.4g): %zu voxels; the mean EPI "
			 "shows elsewhere.  Colour scale from 0 to the highest score, chance marked on the bar.",
			 name, what, threshold, above);
	else
		snprintf(cap, sizeof(cap), "%s: %s, unthresholded (no chance level for %s): %zu voxels with a "
			 "score above 0.", name, what, scoring(s), above);
	nidec_rep_plot_figure(r, &o, &shown, r->have_bg ? &r->bg : NULL, title, cap);
	nidec_free(d);
	return above;
}

/* The three views through the best sphere (a 3D grid only). */
static void best_views(struct sl *s, const nidec_vol *v, const char *name)
{
	struct report *r = s->r;
	const json_t *best = json_array_get(json_object_get(r->summary, "best"), 0);
	const json_t *w = json_object_get(best, "xyz");
	static const char *const view_name[3] = { "sagittal", "coronal", "axial" };
	static const int views[3] = { NIDEC_VIEW_SAGITTAL, NIDEC_VIEW_CORONAL, NIDEC_VIEW_AXIAL };
	char ijk[96], xyz[128], title[256], cap[1600];
	float *d;
	size_t i, n = n_vox(v);
	int a;

	if (!best_where(best, ijk, sizeof(ijk), xyz, sizeof(xyz)) || !json_is_array(w) ||
	    v->dims[0] < 2 || v->dims[1] < 2 || v->dims[2] < 2)
		return;
	d = nidec_malloc(n * sizeof(*d) + 1);
	if (!d) {
		r->oom = 1;
		return;
	}
	for (i = 0; i < n; i++)
		d[i] = isnan(s->chance) ? (v->data[i] > 0 ? v->data[i] : NAN)
					: (v->data[i] > (float)s->chance ? v->data[i] : NAN);
	ADD(r, "<h3>Through the best sphere, voxel %s = %s</h3>\n<div class=\"triple\">\n", ijk, xyz);
	for (a = 0; a < 3; a++) {
		nidec_plot_opts o = NIDEC_PLOT_OPTS_INIT;
		nidec_vol shown = *v;
		double cut = json_number_value(json_array_get(w, (size_t)a));

		shown.data = d;
		shown.name = name;
		o.kind = NIDEC_PLOT_STAT;
		o.view = views[a];
		o.n_cuts = 1;
		o.cuts_mm = &cut;
		o.legend = scoring(s);
		o.threshold = isfinite(s->chance) && s->chance > 0 ? (double)(float)s->chance : 0;
		snprintf(title, sizeof(title), "%s through the best sphere", view_name[a]);
		o.title = title;
		snprintf(cap, sizeof(cap), "%s, %s view at %c = %.1f mm (the best sphere's centre).", name,
			 view_name[a], "xyz"[a], cut);
		nidec_rep_plot_figure(r, &o, &shown, r->have_bg ? &r->bg : NULL, title, cap);
	}
	ADDS(r, "</div>\n");
	nidec_free(d);
}

static void section_map(struct sl *s)
{
	struct report *r = s->r;
	const char *compat = nidec_rep_jstr(r->summary, "compat");
	char name[512], safe[256], title[512], what[512];
	double nf = nidec_rep_jnum(r->summary, "n_folds");
	size_t k;

	ADDS(r, "<section id=\"map\"><h2>The searchlight map</h2>\n");
	if (!s->scoring[0]) {
		nidec_rep_not_available(r, "the scoring is unknown (no summary.json and no "
				     "searchlight_folds_<scoring>.nii.gz)");
		ADDS(r, "</section>\n");
		return;
	}
	ADDS(r, "<p class=\"note\">Each sphere's score is drawn at its centre voxel, over the mean EPI; "
		"neurological view (the subject's left on the left).");
	if (!r->have_bg) {
		ADDS(r, "  No mean EPI: ");
		ESC(r, r->bg_why[0] ? r->bg_why : r->ds_why);
		ADDS(r, ".");
	}
	ADDS(r, "</p>\n");
	snprintf(name, sizeof(name), "searchlight_%s.nii.gz", s->scoring);
	{
		nidec_vol v;
		float *d = NULL;
		if (load_map(s, name, &v, &d) == 0) {
			size_t above;
			v.name = name;
			if (isfinite(nf))
				snprintf(what, sizeof(what), "each sphere centre's %s, the mean over the %.0f outer "
					 "folds%s", scoring(s), nf, r->n_keys > 1 ? " and the classes" : "");
			else
				snprintf(what, sizeof(what), "each sphere centre's %s", scoring(s));
			if (isfinite(s->chance))
				snprintf(title, sizeof(title), "searchlight %s > chance %.4g", scoring(s), s->chance);
			else
				snprintf(title, sizeof(title), "searchlight %s", scoring(s));
			above = draw_thresholded(s, &v, name, s->chance, title, what);
			if (above == 0 && isfinite(s->chance))
				ADDS(r, "<p>No sphere scores above chance.</p>\n");
			best_views(s, &v, name);
		}
		nidec_free(d);
	}
	/* K > 2: each class's one-vs-rest map */
	for (k = 0; r->n_keys > 1 && k < r->n_keys; k++) {
		nidec_vol v;
		float *d = NULL;
		/* the map is the mean of these (compat none): the same chance; under
		 * nilearn's compat the map is the multiclass accuracy, whose chance
		 * is not the one-vs-rest problems' (not recorded): no threshold */
		double thr = compat && !strcmp(compat, "nilearn") ? NAN : s->chance;

		nidec_results_safe_name(r->keys[k], safe, sizeof(safe));
		snprintf(name, sizeof(name), "searchlight_%s_%s.nii.gz", s->scoring, safe);
		ADDS(r, "<h3>");
		ESC(r, r->keys[k]);
		ADDS(r, " vs the rest</h3>\n");
		if (load_map(s, name, &v, &d) == 0) {
			v.name = name;
			snprintf(what, sizeof(what), "the %s of %s vs the rest", scoring(s), r->keys[k]);
			snprintf(title, sizeof(title), "%s vs rest: %s", r->keys[k], scoring(s));
			draw_thresholded(s, &v, name, thr, title, what);
		}
		nidec_free(d);
	}
	ADDS(r, "</section>\n");
}

/* The finite values of column `col` of searchlight.tsv, in a new array. */
static double *tsv_column(struct sl *s, const char *col, size_t *n, char *why, size_t n_why)
{
	double *v;
	size_t i;
	int c;

	if (!s->have_tsv) {
		snprintf(why, n_why, "%s", s->tsv_why);
		return NULL;
	}
	c = nidec_result_table_col(&s->tsv, col);
	if (c < 0) {
		snprintf(why, n_why, "searchlight.tsv has no %s column", col);
		return NULL;
	}
	v = nidec_malloc((s->tsv.n_rows + 1) * sizeof(*v));
	if (!v) {
		s->r->oom = 1;
		snprintf(why, n_why, "out of memory");
		return NULL;
	}
	for (i = 0; i < s->tsv.n_rows; i++)
		v[i] = nidec_rep_num(nidec_result_table_at(&s->tsv, i, c));
	*n = s->tsv.n_rows;
	return v;
}

/* One row of summary.json's {n, min, p5, median, mean, p95, max}, as
 * "%.4f" (general: "%.4g"). */
static void stats_table(struct report *r, const json_t *st, const char *what, int general)
{
	static const char *const cols[] = { "n", "min", "p5", "median", "mean", "p95", "max" };
	size_t i;

	if (!json_is_object(st))
		return;
	ADDS(r, "<table><tr><th></th>");
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		ADD(r, "<th>%s</th>", cols[i]);
	ADDS(r, "</tr>\n<tr><td>");
	ESC(r, what);
	ADDS(r, "</td>");
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		double x = nidec_rep_jnum(st, cols[i]);
		if (i == 0)
			ADD(r, "<td>%.0f</td>", x);
		else if (isfinite(x) && general)
			ADD(r, "<td>%.4g</td>", x);
		else if (isfinite(x))
			ADD(r, "<td>%.4f</td>", x);
		else
			ADDS(r, "<td>-</td>");
	}
	ADDS(r, "</tr></table>\n");
}

static void section_distribution(struct sl *s)
{
	struct report *r = s->r;
	nidec_svg_hist_opts o = NIDEC_SVG_HIST_OPTS_INIT;
	char why[600], label[64], xl[160];
	size_t n = 0;
	double *v;

	ADDS(r, "<section id=\"distribution\"><h2>Distribution of the sphere scores</h2>\n");
	v = tsv_column(s, "score", &n, why, sizeof(why));
	if (!v) {
		nidec_rep_not_available(r, why);
	} else {
		size_t i;
		/* at the map's precision (float32), as summary.json counts them:
		 * a mean over folds above chance only by its last bits is chance */
		for (i = 0; i < n; i++)
			v[i] = (double)(float)v[i];
		o.title = "sphere scores";
		o.counted = "spheres";
		snprintf(xl, sizeof(xl), "%s of the sphere (mean over folds)", scoring(s));
		o.xlabel = xl;
		if (isfinite(s->chance)) {
			snprintf(label, sizeof(label), "chance %.4g", s->chance);
			o.legend = "at or below chance";
			o.legend_above = "above chance";
			o.mark = (double)(float)s->chance;
			o.mark_label = label;
			o.mark_dashed = 1;
			o.split = 1;
		} else {
			o.legend = "spheres";
		}
		r->oom |= nidec_svg_hist(&r->h, v, n, &o) < 0;
		ADDS(r, "<p class=\"note\">Every sphere of searchlight.tsv (skipped spheres, NaN, are not counted)");
		if (isfinite(s->chance))
			ADDS(r, "; the bars above the dashed chance level are the spheres coloured on the map");
		ADDS(r, ".</p>\n");
	}
	nidec_free(v);
	if (r->summary)
		stats_table(r, json_object_get(r->summary, "map"), scoring(s), 0);
	ADDS(r, "</section>\n");
}

static void section_best(struct sl *s)
{
	struct report *r = s->r;
	const json_t *best = json_object_get(r->summary, "best"), *b;
	int with_p = 0;
	size_t i;

	ADDS(r, "<section id=\"best\"><h2>Best spheres</h2>\n");
	if (!r->summary) {
		nidec_rep_not_available(r, r->summary_why);
		ADDS(r, "</section>\n");
		return;
	}
	if (!json_is_array(best) || json_array_size(best) == 0) {
		nidec_rep_not_available(r, "summary.json lists no best sphere (every sphere skipped?)");
		ADDS(r, "</section>\n");
		return;
	}
	json_array_foreach(best, i, b)
		with_p |= json_object_get(b, "p_fwe") != NULL;
	ADDS(r, "<p class=\"note\">The highest scores, in order (ties by centre index), from summary.json.</p>\n"
		"<div class=\"wide\"><table id=\"best-table\"><tr><th>rank</th><th>");
	ESC(r, scoring(s));
	ADDS(r, "</th><th>i</th><th>j</th><th>k</th><th>x (mm)</th><th>y (mm)</th><th>z (mm)</th>"
		"<th>voxels</th>");
	if (with_p)
		ADDS(r, "<th>p</th><th>p (FWE)</th>");
	ADDS(r, "</tr>\n");
	json_array_foreach(best, i, b) {
		const json_t *q = json_object_get(b, "ijk"), *w = json_object_get(b, "xyz");
		int a;
		ADD(r, "<tr><td>%zu</td><td>%.4f</td>", i + 1, nidec_rep_jnum(b, "score"));
		for (a = 0; a < 3; a++)
			ADD(r, "<td>%lld</td>", (long long)json_integer_value(json_array_get(q, (size_t)a)));
		for (a = 0; a < 3; a++)
			ADD(r, "<td>%.1f</td>", json_number_value(json_array_get(w, (size_t)a)));
		ADD(r, "<td>%.0f</td>", nidec_rep_jnum(b, "n_voxels"));
		if (with_p)
			ADD(r, "<td>%.4g</td><td>%.4g</td>", nidec_rep_jnum(b, "p"), nidec_rep_jnum(b, "p_fwe"));
		ADDS(r, "</tr>\n");
	}
	ADDS(r, "</table></div>\n</section>\n");
}

static void section_spheres(struct sl *s)
{
	struct report *r = s->r;
	nidec_svg_hist_opts o = NIDEC_SVG_HIST_OPTS_INIT;
	char why[600];
	size_t n = 0;
	double *v;

	ADDS(r, "<section id=\"spheres\"><h2>Sphere sizes</h2>\n");
	if (r->summary) {
		ADD(r, "<p>Radius %.4g mm: a sphere holds the mask's voxels within it (fewer at the mask's edge). "
		       "Spheres with fewer than min_voxels = %.0f voxels are skipped: %.0f.</p>\n",
		    nidec_rep_jnum(r->summary, "radius_mm"), nidec_rep_jnum(r->summary, "min_voxels"),
		    nidec_rep_jnum(r->summary, "n_skipped"));
		stats_table(r, json_object_get(r->summary, "sphere_voxels"), "voxels", 1);
	} else {
		nidec_rep_not_available(r, r->summary_why);
	}
	v = tsv_column(s, "n_voxels", &n, why, sizeof(why));
	if (!v) {
		nidec_rep_not_available(r, why);
	} else {
		o.title = "sphere sizes";
		o.counted = "spheres";
		o.xlabel = "voxels in the sphere";
		o.legend = "spheres";
		o.integer = 1;
		r->oom |= nidec_svg_hist(&r->h, v, n, &o) < 0;
	}
	nidec_free(v);
	ADDS(r, "</section>\n");
}

/* The spheres with FWE p <= 0.05, coloured by score. */
static void fwe_map(struct sl *s)
{
	struct report *r = s->r;
	nidec_plot_opts o = NIDEC_PLOT_OPTS_INIT;
	nidec_vol v, p, shown;
	float *vd = NULL, *pd = NULL, *d = NULL;
	char name[512], title[256], cap[1200];
	size_t i, n, k = 0;

	snprintf(name, sizeof(name), "searchlight_%s.nii.gz", s->scoring);
	if (!s->scoring[0] || load_map(s, "searchlight_p_fwe.nii.gz", &p, &pd) < 0 ||
	    load_map(s, name, &v, &vd) < 0)
		goto done;
	if (memcmp(v.dims, p.dims, sizeof(v.dims))) {
		nidec_rep_not_available(r, "searchlight_p_fwe.nii.gz is not on the grid of the map");
		goto done;
	}
	n = n_vox(&v);
	d = nidec_malloc(n * sizeof(*d) + 1);
	if (!d) {
		r->oom = 1;
		goto done;
	}
	/* p > 0: a centre (the other voxels of the p map are 0, a p-value is
	 * at least 1 / (N + 1)).  Compared as float32, as the map stores it:
	 * p = 1/20 is 0.0500000007 there, above the double 0.05, but summary.json
	 * (from the doubles) counts it */
	for (i = 0; i < n; i++) {
		int sig = pd[i] > 0 && pd[i] <= (float)FWE_ALPHA;
		d[i] = sig ? vd[i] : NAN;
		k += sig;
	}
	if (k == 0) {
		ADDS(r, "<p>No sphere has a family-wise p-value of 0.05 or less");
		if (isfinite(nidec_rep_jnum(json_object_get(r->summary, "permutations"), "n")))
			ADD(r, " (with %.0f permutations the smallest possible p is %.4g)",
			    nidec_rep_jnum(json_object_get(r->summary, "permutations"), "n"),
			    1.0 / (nidec_rep_jnum(json_object_get(r->summary, "permutations"), "n") + 1));
		ADDS(r, ".</p>\n");
		goto done;
	}
	shown = v;
	shown.data = d;
	shown.name = name;
	o.kind = NIDEC_PLOT_STAT;
	snprintf(title, sizeof(title), "%s where FWE p <= 0.05", scoring(s));
	o.title = title;
	o.legend = scoring(s);
	snprintf(cap, sizeof(cap), "%s where searchlight_p_fwe.nii.gz is at most 0.05: %zu spheres, over the "
		 "mean EPI.", name, k);
	nidec_rep_plot_figure(r, &o, &shown, r->have_bg ? &r->bg : NULL, title, cap);
done:
	nidec_free(vd);
	nidec_free(pd);
	nidec_free(d);
}

static void section_permutations(struct sl *s)
{
	struct report *r = s->r;
	const json_t *perm = json_object_get(r->summary, "permutations");
	char buf[256];

	ADDS(r, "<section id=\"permutations\"><h2>Permutation test</h2>\n");
	if (!r->summary) {
		nidec_rep_not_available(r, r->summary_why);
	} else if (!json_is_object(perm)) {
		nidec_rep_not_available(r, "no permutations were run (cv.permutations = 0)");
	} else {
		ADDS(r, "<table class=\"kv\" id=\"permutation-table\">\n");
		snprintf(buf, sizeof(buf), "%.0f (labels shuffled within %s)", nidec_rep_jnum(perm, "n"),
			 nidec_rep_jstr(perm, "permute_within") ? nidec_rep_jstr(perm, "permute_within") : "?");
		nidec_rep_kv_row(r, "permutations", buf);
		snprintf(buf, sizeof(buf), "%.0f", nidec_rep_jnum(perm, "p_le_0.05"));
		nidec_rep_kv_row(r, "spheres with p <= 0.05", buf);
		snprintf(buf, sizeof(buf), "%.0f", nidec_rep_jnum(perm, "p_fwe_le_0.05"));
		nidec_rep_kv_row(r, "spheres with FWE p <= 0.05", buf);
		if (isfinite(nidec_rep_jnum(perm, "max_null_p95"))) {
			snprintf(buf, sizeof(buf), "%.4f", nidec_rep_jnum(perm, "max_null_p95"));
			nidec_rep_kv_row(r, "95th percentile of the permutations' best sphere", buf);
		}
		if (nidec_rep_jstr(perm, "rule"))
			nidec_rep_kv_row(r, "rule", nidec_rep_jstr(perm, "rule"));
		ADDS(r, "</table>\n");
		fwe_map(s);
	}
	ADDS(r, "</section>\n");
}

void nidec_rep_searchlight_page(struct report *r)
{
	struct sl s;
	const json_t *a = json_object_get(r->summary, "keys");
	size_t i;

	memset(&s, 0, sizeof(s));
	s.r = r;
	s.chance = nidec_rep_jnum(r->summary, "chance");
	for (i = 0; json_is_array(a) && i < json_array_size(a); i++)
		if (json_is_string(json_array_get(a, i)))
			nidec_rep_strv_add(&r->keys, &r->n_keys, json_string_value(json_array_get(a, i)), &r->oom);
	find_scoring(&s);
	nidec_rep_load_tsv(r, "searchlight.tsv", &s.tsv, &s.have_tsv, s.tsv_why, sizeof(s.tsv_why));
	nidec_rep_page_begin(r, "Searchlight report", "Results directory",
			     nidec_rep_jstr(r->summary, "nidec_version"));
	section_summary(&s);
	section_map(&s);
	section_distribution(&s);
	section_best(&s);
	section_spheres(&s);
	section_permutations(&s);
	nidec_rep_section_images(r);
	nidec_rep_section_dataset(r);
	nidec_rep_section_provenance(r);
	nidec_rep_section_timing(r);
	nidec_rep_section_appendix(r);
	nidec_rep_page_end(r);
	nidec_result_table_release(&s.tsv);
}
