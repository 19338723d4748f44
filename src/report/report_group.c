/*
 * report_group.c - the group page of a sweep, <root>/report.html
 * (nidec_report_group_write, report.h): `nidec sweep` writes it after its
 * group files, `nidec sweep --gather` and `nidec report ROOT` rebuild it.
 *
 * What it shows, and from which file (docs/SWEEP.md "Outputs"):
 *   at a glance      the subjects complete and failed, per class the group
 *                    mean, the t-test and the permutation p-value
 *                    (group_summary.json)
 *   scores           one bar per subject and class (its mean over outer
 *                    folds, group_summary.json "subjects"), its folds as
 *                    dots and their range (sub-<label>/summary.json
 *                    scores.<class>.folds), the chance level and the
 *                    group means; failed subjects marked
 *   group statistics group_summary.json "classes": n, mean, std, sem,
 *                    chance, t, df, p, the permutation p-value, the notes
 *   subjects         each one's status, scores, folds, permutations, and
 *                    a relative link to its report.html, or its error
 *   searchlight      a searchlight sweep's group maps and cluster test
 *                    (section_searchlight below: the group mean map and the
 *                    significant clusters over the subjects' mean EPI, the
 *                    cluster table, the test's parameters)
 *   provenance       group_summary.json, dataset_description.json and the
 *                    first complete subject's summary.json provenance
 *   appendix         the files of the root with their SHA-256, and the
 *                    first complete subject's configuration
 * Without group_summary.json (a gather that never ran) the subjects are
 * the root's sub-* directories, each failed when it holds error.txt and
 * complete when it holds summary.json; the statistics say "not available".
 *
 * Rules (report.h): files are read, nothing is recomputed (the chart's
 * fold range is the only arithmetic); each section degrades on its own;
 * the page loads nothing and runs no script (the links to the subjects'
 * pages are relative: the tree can be moved or archived whole).
 * No MPI; base, io (resultdir) and this directory.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/report.h"
#include "nidec/resultdir.h"
#include "report_int.h"

struct subject {
	char *label;          /* "01" */
	char *dir;            /* "sub-01", relative to the root */
	char *name;           /* "sub-01", as shown */
	int ok;               /* complete */
	char *status;         /* "ok", "failed", "no results" */
	char *error;          /* a failed subject's message, or NULL */
	json_t *summary;      /* its summary.json, or NULL */
	char why[600];        /* why no summary */
	int has_report;       /* <dir>/report.html exists */
};

struct group {
	struct report r;      /* the page; dir = the root; classes and config of the first
			       * complete subject */
	json_t *gs;           /* group_summary.json, or NULL */
	char gs_why[600];
	json_t *desc;         /* dataset_description.json, or NULL */
	char desc_why[600];
	struct subject *sub;
	size_t n_sub;
	char **keys;          /* the class keys, sorted */
	size_t n_keys;
	const struct subject *first; /* the first complete subject with a summary.json */
};

static void subject_release(struct subject *s)
{
	nidec_free(s->label);
	nidec_free(s->dir);
	nidec_free(s->name);
	nidec_free(s->status);
	nidec_free(s->error);
	json_decref(s->summary);
}

static char *dup_or_oom(struct group *g, const char *s)
{
	char *d = nidec_strdup(s);

	if (!d)
		g->r.oom = 1;
	return d;
}

/* Read a JSON file of the root; on failure remember why. */
static json_t *read_json(struct group *g, const char *name, char *why, size_t n)
{
	nidec_err e = NIDEC_ERR_INIT;
	json_t *j = NULL;

	if (nidec_resultdir_read_json(g->r.dir, name, NIDEC_FILE_MISSING_OK, &j, &e) < 0) {
		nidec_rep_set_msg(why, n, e.msg);
		nidec_warn("report: %s", e.msg);
		return NULL;
	}
	if (!j)
		snprintf(why, n, "'%s' is not in the sweep's output root", name);
	return j;
}

/* The subject's own files: summary.json, report.html (and error.txt when
 * group_summary.json does not say). */
static void read_subject_files(struct group *g, struct subject *s, int want_error)
{
	nidec_err e = NIDEC_ERR_INIT;
	char *dir = nidec_rep_join(g->r.dir, s->dir), *p;

	if (!dir) {
		g->r.oom = 1;
		return;
	}
	if (nidec_resultdir_read_summary(dir, NIDEC_FILE_MISSING_OK, &s->summary, &e) < 0) {
		nidec_rep_set_msg(s->why, sizeof(s->why), e.msg);
		nidec_warn("report: %s", e.msg);
		s->summary = NULL;
	} else if (!s->summary) {
		snprintf(s->why, sizeof(s->why), "'%s/summary.json' does not exist", s->dir);
	}
	p = nidec_rep_join(dir, "report.html");
	s->has_report = p && nidec_rep_file_exists(p);
	nidec_free(p);
	if (want_error) {
		char *text = NULL;
		size_t len = 0;
		nidec_err_clear(&e);
		p = nidec_rep_join(dir, "error.txt");
		if (p && nidec_file_read(p, 1 << 20, NIDEC_FILE_MISSING_OK, &text, &len, &e) == 0 && text) {
			while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
				text[--len] = '\0';
			s->error = text;
		}
		nidec_free(p);
	}
	nidec_free(dir);
}

static int add_subject(struct group *g, struct subject **out)
{
	struct subject *v = nidec_realloc(g->sub, (g->n_sub + 1) * sizeof(*v));

	if (!v) {
		g->r.oom = 1;
		return -1;
	}
	g->sub = v;
	memset(&v[g->n_sub], 0, sizeof(v[0]));
	*out = &v[g->n_sub++];
	return 0;
}

/* The subjects of group_summary.json, in its order (the sweep's). */
static void subjects_from_summary(struct group *g)
{
	const json_t *a = json_object_get(g->gs, "subjects"), *e;
	size_t i;

	json_array_foreach(a, i, e) {
		struct subject *s;
		const char *label = nidec_rep_jstr(e, "subject"), *dir = nidec_rep_jstr(e, "dir"),
			   *st = nidec_rep_jstr(e, "status"), *er = nidec_rep_jstr(e, "error");
		char buf[600];

		if (!label || add_subject(g, &s) < 0)
			continue;
		snprintf(buf, sizeof(buf), "sub-%s", label);
		s->label = dup_or_oom(g, label);
		s->name = dup_or_oom(g, buf);
		s->dir = dup_or_oom(g, dir ? dir : buf);
		s->status = dup_or_oom(g, st ? st : "?");
		s->ok = st && !strcmp(st, "ok");
		if (er)
			s->error = dup_or_oom(g, er);
		if (!s->label || !s->name || !s->dir || !s->status) {
			/* out of memory (r.oom is set: no page): drop it */
			subject_release(s);
			g->n_sub--;
			continue;
		}
		read_subject_files(g, s, 0);
	}
}

/* Without group_summary.json: the root's sub-* directories. */
static void subjects_from_dirs(struct group *g)
{
	char *pat = nidec_rep_join(g->r.dir, "sub-*");
	glob_t gl;
	size_t i;

	if (!pat) {
		g->r.oom = 1;
		return;
	}
	if (glob(pat, GLOB_ONLYDIR, NULL, &gl) == 0) {
		for (i = 0; i < gl.gl_pathc; i++) {
			const char *b = strrchr(gl.gl_pathv[i], '/');
			struct subject *s;
			struct stat st;

			b = b ? b + 1 : gl.gl_pathv[i];
			if (stat(gl.gl_pathv[i], &st) != 0 || !S_ISDIR(st.st_mode) || add_subject(g, &s) < 0)
				continue;
			s->label = dup_or_oom(g, b + 4);
			s->name = dup_or_oom(g, b);
			s->dir = dup_or_oom(g, b);
			if (s->dir)
				read_subject_files(g, s, 1);
			s->ok = !s->error && s->summary;
			s->status = dup_or_oom(g, s->error ? "failed" : s->summary ? "ok" : "no results");
			if (!s->label || !s->name || !s->dir || !s->status) {
				/* out of memory (r.oom is set: no page): drop it */
				subject_release(s);
				g->n_sub--;
			}
		}
		globfree(&gl);
	}
	nidec_free(pat);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The class keys: group_summary.json's, else the complete subjects'. */
static void find_keys(struct group *g)
{
	const json_t *c = json_object_get(g->gs, "classes"), *v;
	const char *k;
	size_t i, j;

	json_object_foreach((json_t *)c, k, v)
		nidec_rep_strv_add(&g->keys, &g->n_keys, k, &g->r.oom);
	for (i = 0; !json_is_object(c) && i < g->n_sub; i++) {
		const json_t *a = json_object_get(g->sub[i].summary, "keys");
		for (j = 0; g->sub[i].ok && json_is_array(a) && j < json_array_size(a); j++)
			if (json_is_string(json_array_get(a, j)))
				nidec_rep_strv_add(&g->keys, &g->n_keys, json_string_value(json_array_get(a, j)),
						   &g->r.oom);
	}
	if (g->n_keys)
		qsort(g->keys, g->n_keys, sizeof(*g->keys), cmp_str);
}

/* Subject s's mean score for key k: group_summary.json's, else its own. */
static double subject_mean(const struct group *g, size_t s, const char *key)
{
	const json_t *a = json_object_get(g->gs, "subjects");
	size_t i;

	for (i = 0; i < json_array_size(a); i++) {
		const json_t *e = json_array_get(a, i);
		const char *l = nidec_rep_jstr(e, "subject");
		if (l && g->sub[s].label && !strcmp(l, g->sub[s].label))
			return nidec_rep_jnum(json_object_get(e, "mean_score"), key);
	}
	if (g->gs)
		return NAN;
	return nidec_rep_jnum(json_object_get(json_object_get(g->sub[s].summary, "scores"), key), "mean");
}

/* x as "%.<prec>f" (general: "%.<prec>g"), or "-" when not finite. */
static void fmt_num(char *buf, size_t n, double x, int prec, int general)
{
	if (!isfinite(x))
		snprintf(buf, n, "-");
	else if (general)
		snprintf(buf, n, "%.*g", prec, x);
	else
		snprintf(buf, n, "%.*f", prec, x);
}

/* ---- sections ----------------------------------------------------------- */

static void section_summary(struct group *g)
{
	struct report *r = &g->r;
	const json_t *cl = json_object_get(g->gs, "classes");
	size_t k, n_ok = 0, n_failed = 0;

	for (k = 0; k < g->n_sub; k++) {
		n_ok += g->sub[k].ok;
		n_failed += !g->sub[k].ok;
	}
	if (!g->gs)
		nidec_rep_not_available(r, g->gs_why);
	ADDS(r, "<div class=\"cards\">\n");
	ADD(r, "<div class=\"card\"><div class=\"big\">%zu <small>of %zu</small></div><div>subjects complete",
	    n_ok, g->n_sub);
	if (n_failed)
		ADD(r, ", <span class=\"err\">%zu failed</span>", n_failed);
	ADDS(r, "</div></div>\n");
	for (k = 0; k < g->n_keys && json_is_object(cl); k++) {
		const json_t *c = json_object_get(cl, g->keys[k]), *tt = json_object_get(c, "t_test"),
			     *pm = json_object_get(c, "permutation");
		double m = nidec_rep_jnum(c, "mean"), sem = nidec_rep_jnum(c, "sem"), p = nidec_rep_jnum(tt, "p"),
		       pp = nidec_rep_jnum(pm, "p_value");
		if (!isfinite(m))
			continue;
		ADD(r, "<div class=\"card\"><div class=\"big\">%.3f", m);
		if (isfinite(sem))
			ADD(r, " <small>&plusmn; %.3f</small>", sem);
		ADDS(r, "</div><div>");
		ESC(r, g->keys[k]);
		ADDS(r, ": group mean");
		if (isfinite(sem))
			ADDS(r, " &plusmn; sem");
		if (isfinite(p))
			ADD(r, ", t(%.0f) = %.3f, p = %.3g", nidec_rep_jnum(tt, "df"), nidec_rep_jnum(tt, "t"), p);
		if (isfinite(pp))
			ADD(r, "; permutation p = %.3g", pp);
		ADDS(r, "</div></div>\n");
	}
	ADDS(r, "</div>\n<nav class=\"toc\"><a href=\"#scores\">scores per subject</a> &middot; "
		"<a href=\"#group\">group statistics</a> &middot; <a href=\"#subjects\">subjects</a> &middot; "
		"<a href=\"#provenance\">provenance</a> &middot; <a href=\"#appendix\">appendix</a></nav>\n");
}

static void section_scores(struct group *g)
{
	struct report *r = &g->r;
	nidec_svg_subjects_data d;
	const char **names = NULL;
	int *failed = NULL;
	double *mean = NULL, *folds = NULL, *gm = NULL;
	size_t s, k, f, nf = 0, n_missing = 0;
	const char *sc = nidec_rep_jstr(g->gs, "scoring"), *kind = nidec_rep_jstr(g->gs, "kind");
	int searchlight = kind && !strcmp(kind, "searchlight");

	ADDS(r, "<section id=\"scores\"><h2>Scores per subject</h2>\n");
	if (!g->n_sub || !g->n_keys) {
		nidec_rep_not_available(r, !g->n_sub ? "no subject" : "no class scores (neither "
					"group_summary.json nor a subject's summary.json has any)");
		goto done;
	}
	/* the most folds any subject has */
	for (s = 0; s < g->n_sub; s++)
		for (k = 0; g->sub[s].ok && k < g->n_keys; k++) {
			const json_t *a = json_object_get(json_object_get(json_object_get(g->sub[s].summary,
											"scores"), g->keys[k]), "folds");
			if (json_array_size(a) > nf)
				nf = json_array_size(a);
		}
	names = nidec_calloc(g->n_sub, sizeof(*names));
	failed = nidec_calloc(g->n_sub, sizeof(*failed));
	mean = nidec_malloc(g->n_sub * g->n_keys * sizeof(*mean));
	folds = nidec_malloc((g->n_sub * g->n_keys * nf + 1) * sizeof(*folds));
	gm = nidec_malloc(g->n_keys * sizeof(*gm));
	if (!names || !failed || !mean || !folds || !gm) {
		r->oom = 1;
		goto done;
	}
	for (s = 0; s < g->n_sub; s++) {
		names[s] = g->sub[s].name ? g->sub[s].name : "?";
		failed[s] = !g->sub[s].ok;
		n_missing += g->sub[s].ok && !g->sub[s].summary;
		for (k = 0; k < g->n_keys; k++) {
			size_t i = s * g->n_keys + k;
			const json_t *a = json_object_get(json_object_get(json_object_get(g->sub[s].summary,
											"scores"), g->keys[k]), "folds");
			mean[i] = g->sub[s].ok ? subject_mean(g, s, g->keys[k]) : NAN;
			for (f = 0; f < nf; f++) {
				const json_t *x = json_array_get(a, f);
				folds[i * nf + f] = g->sub[s].ok && json_is_number(x) ? json_number_value(x) : NAN;
			}
		}
	}
	for (k = 0; k < g->n_keys; k++)
		gm[k] = nidec_rep_jnum(json_object_get(json_object_get(g->gs, "classes"), g->keys[k]), "mean");
	memset(&d, 0, sizeof(d));
	d.n_subjects = g->n_sub;
	d.n_series = g->n_keys;
	d.n_folds = nf;
	d.subject = names;
	d.failed = failed;
	d.series = (const char *const *)g->keys;
	d.mean = mean;
	d.folds = nf ? folds : NULL;
	d.group_mean = gm;
	d.chance = nidec_rep_jnum(g->gs, "chance");
	d.ylabel = sc ? sc : "score";
	r->oom |= nidec_svg_subjects(&r->h, &d) < 0;
	ADDS(r, "<p class=\"note\">Bars: each subject's ");
	ESC(r, d.ylabel);
	if (searchlight)
		ADDS(r, " (the mean of its searchlight map over the spheres, from group_summary.json); lines: "
			"the group mean of each class");
	else
		ADDS(r, " (its mean over the outer folds, from group_summary.json); dots: its outer folds and, as "
			"a whisker, their range (from the subject's summary.json); lines: the group mean of each "
			"class");
	if (isfinite(d.chance))
		ADD(r, " and the chance level %.3g (dashed)", d.chance);
	ADDS(r, ".  Failed subjects are shaded, with no bar.</p>\n");
	if (n_missing && !searchlight) {
		for (s = 0; s < g->n_sub; s++)
			if (g->sub[s].ok && !g->sub[s].summary) {
				char why[800];
				snprintf(why, sizeof(why), "the folds of %s: %s", g->sub[s].name, g->sub[s].why);
				nidec_rep_not_available(r, why);
			}
	}
done:
	nidec_free(names);
	nidec_free(failed);
	nidec_free(mean);
	nidec_free(folds);
	nidec_free(gm);
	ADDS(r, "</section>\n");
}

static void section_group(struct group *g)
{
	struct report *r = &g->r;
	const json_t *cl = json_object_get(g->gs, "classes");
	size_t k;
	char b[12][64];

	ADDS(r, "<section id=\"group\"><h2>Group statistics</h2>\n");
	if (!g->gs) {
		nidec_rep_not_available(r, g->gs_why);
		ADDS(r, "</section>\n");
		return;
	}
	if (!json_is_object(cl) || !json_object_size(cl)) {
		nidec_rep_not_available(r, "group_summary.json has no class statistics (no subject complete?)");
		ADDS(r, "</section>\n");
		return;
	}
	ADDS(r, "<p class=\"note\">Per class, over the complete subjects' scores (each a mean over outer "
		"folds): a one-sample t-test against chance (H1: above chance; two-sided p as "
		"scipy.stats.ttest_1samp) and, with permutations, the group permutation p-value "
		"(docs/SWEEP.md).</p>\n");
	ADDS(r, "<div class=\"wide\"><table id=\"group-stats\"><tr><th>class</th><th>subjects</th><th>mean</th>"
		"<th>std</th><th>sem</th><th>chance</th><th>t</th><th>df</th><th>p (one-sided)</th>"
		"<th>p (two-sided)</th><th>permutations</th><th>permutation p</th></tr>\n");
	for (k = 0; k < g->n_keys; k++) {
		const json_t *c = json_object_get(cl, g->keys[k]), *tt = json_object_get(c, "t_test"),
			     *pm = json_object_get(c, "permutation");
		if (!c)
			continue;
		fmt_num(b[0], sizeof(b[0]), nidec_rep_jnum(c, "mean"), 4, 0);
		fmt_num(b[1], sizeof(b[1]), nidec_rep_jnum(c, "std"), 4, 0);
		fmt_num(b[2], sizeof(b[2]), nidec_rep_jnum(c, "sem"), 4, 0);
		fmt_num(b[3], sizeof(b[3]), nidec_rep_jnum(c, "chance"), 4, 1);
		fmt_num(b[4], sizeof(b[4]), nidec_rep_jnum(tt, "t"), 3, 0);
		fmt_num(b[5], sizeof(b[5]), nidec_rep_jnum(tt, "df"), 0, 0);
		fmt_num(b[6], sizeof(b[6]), nidec_rep_jnum(tt, "p"), 4, 1);
		fmt_num(b[7], sizeof(b[7]), nidec_rep_jnum(tt, "p_two_sided"), 4, 1);
		fmt_num(b[8], sizeof(b[8]), nidec_rep_jnum(pm, "n"), 0, 0);
		fmt_num(b[9], sizeof(b[9]), nidec_rep_jnum(pm, "p_value"), 4, 1);
		ADDS(r, "<tr><td>");
		ESC(r, g->keys[k]);
		ADD(r, "</td><td>%.0f</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
		       "<td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", nidec_rep_jnum(c, "n_subjects"),
		    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]);
	}
	ADDS(r, "</table></div>\n");
	for (k = 0; k < g->n_keys; k++) {
		const char *note = nidec_rep_jstr(json_object_get(json_object_get(cl, g->keys[k]), "t_test"), "note");
		if (note) {
			ADDS(r, "<p class=\"note\">");
			ESC(r, g->keys[k]);
			ADDS(r, ": ");
			ESC(r, note);
			ADDS(r, "</p>\n");
		}
	}
	if (nidec_rep_jstr(g->gs, "chance_rule")) {
		ADDS(r, "<p class=\"note\">Chance level: ");
		ESC(r, nidec_rep_jstr(g->gs, "chance_rule"));
		ADDS(r, ".</p>\n");
	}
	ADDS(r, "</section>\n");
}

/* A relative link: the characters of a path that need no escaping in a
 * URL, the others as %XX. */
static void add_href(struct report *r, const char *path)
{
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p; p++)
		if (isalnum(*p) || strchr("-._~/", *p))
			ADD(r, "%c", *p);
		else
			ADD(r, "%%%02X", *p);
}

static void section_subjects(struct group *g)
{
	struct report *r = &g->r;
	size_t s, k;

	ADDS(r, "<section id=\"subjects\"><h2>Subjects</h2>\n");
	if (!g->n_sub) {
		nidec_rep_not_available(r, g->gs ? "group_summary.json lists no subject"
					: "no group_summary.json and no sub-* directory");
		ADDS(r, "</section>\n");
		return;
	}
	if (!g->gs) {
		ADDS(r, "<p class=\"note\">group_summary.json is not available (");
		ESC(r, g->gs_why);
		ADDS(r, "): the subjects are the sub-* directories, failed when they hold error.txt.</p>\n");
	}
	ADDS(r, "<div class=\"wide\"><table id=\"subjects-table\"><tr><th>subject</th><th>status</th>");
	for (k = 0; k < g->n_keys; k++) {
		ADDS(r, "<th>");
		ESC(r, g->keys[k]);
		ADDS(r, "</th>");
	}
	ADDS(r, "<th>folds</th><th>permutations</th><th class=\"l\">report or error</th></tr>\n");
	for (s = 0; s < g->n_sub; s++) {
		const struct subject *su = &g->sub[s];
		const json_t *perm = json_object_get(su->summary, "permutations");
		double nf = nidec_rep_jnum(su->summary, "n_folds"), np = nidec_rep_jnum(perm, "n");

		ADDS(r, "<tr><td>");
		ESC(r, su->name ? su->name : "?");
		ADD(r, "</td><td%s>", su->ok ? "" : " class=\"err\"");
		ESC(r, su->status ? su->status : "?");
		ADDS(r, "</td>");
		for (k = 0; k < g->n_keys; k++) {
			double m = su->ok ? subject_mean(g, s, g->keys[k]) : NAN;
			if (isfinite(m))
				ADD(r, "<td>%.4f</td>", m);
			else
				ADDS(r, "<td>-</td>");
		}
		if (su->ok && isfinite(nf))
			ADD(r, "<td>%.0f</td>", nf);
		else
			ADDS(r, "<td>-</td>");
		if (su->ok && isfinite(np))
			ADD(r, "<td>%.0f</td>", np);
		else
			ADDS(r, "<td>-</td>");
		ADDS(r, "<td class=\"l\">");
		if (!su->ok) {
			ADDS(r, "<span class=\"err\">");
			ESC(r, su->error ? su->error : su->summary ? "failed" : su->why);
			ADDS(r, "</span>");
		} else if (su->has_report) {
			ADDS(r, "<a href=\"");
			add_href(r, su->dir);
			ADDS(r, "/report.html\">");
			ESC(r, su->dir);
			ADDS(r, "/report.html</a>");
		} else {
			ADDS(r, "no report.html (");
			ESC(r, su->dir);
			ADDS(r, "/report.html does not exist: [output] report = false?)");
		}
		ADDS(r, "</td></tr>\n");
	}
	ADDS(r, "</table></div>\n</section>\n");
}

/*
 * The group searchlight ([sweep] kind = searchlight; src/job/slgroup.c
 * writes group_searchlight_*.nii.gz, group_searchlight_clusters.tsv and
 * the "searchlight" block of group_summary.json; docs/SWEEP.md
 * "Searchlight group level"): the group mean map over the mean of the
 * subjects' mean EPIs, coloured above chance; the voxels of the clusters
 * with family-wise p <= cluster_alpha; the cluster table; the test's
 * parameters.  A decoder's sweep has none of these: no section.
 */

/* r->bg: the mean of the complete subjects' mean EPIs (their dataset.h5,
 * on the group's grid); records why not. */
static void group_background(struct group *g, const char *root)
{
	struct report *r = &g->r;
	double *acc = NULL;
	size_t i, n3 = 0, used = 0, v;

	for (i = 0; i < g->n_sub && !r->oom; i++) {
		const struct subject *su = &g->sub[i];
		nidec_dataset *ds = NULL;
		nidec_err e = NIDEC_ERR_INIT;
		float *img = NULL;
		char *dir, *path;

		if (!su->ok)
			continue;
		dir = nidec_rep_join(root, su->dir);
		path = dir ? nidec_rep_join(dir, "dataset.h5") : NULL;
		nidec_free(dir);
		if (!path) {
			r->oom = 1;
			break;
		}
		if (nidec_ds_open(path, &ds, &e) == 0 && nidec_ds_read_mean_epi(ds, &img, &e) == 0 && img) {
			size_t m = (size_t)(ds->dims[0] * ds->dims[1] * ds->dims[2]);
			if (!acc) {
				acc = nidec_calloc(m, sizeof(*acc));
				n3 = m;
				memcpy(r->bg.dims, ds->dims, sizeof(r->bg.dims));
				memcpy(r->bg.affine, ds->affine, sizeof(r->bg.affine));
				if (!acc)
					r->oom = 1;
			}
			if (acc && m == n3) {
				for (v = 0; v < m; v++)
					acc[v] += img[v];
				used++;
			}
		}
		nidec_free(img);
		nidec_ds_close(&ds);
		nidec_free(path);
	}
	if (used && (r->bg_data = nidec_malloc(n3 * sizeof(float)))) {
		for (v = 0; v < n3; v++)
			r->bg_data[v] = (float)(acc[v] / (double)used);
		r->bg.data = r->bg_data;
		r->bg.name = "the subjects' mean EPI";
		r->have_bg = 1;
		snprintf(r->bg_what, sizeof(r->bg_what), "the mean of %zu subjects' mean EPIs (their dataset.h5)",
			 used);
	} else {
		snprintf(r->bg_why, sizeof(r->bg_why), "no subject's dataset.h5 holds a mean EPI");
	}
	nidec_free(acc);
}

/* <root>/<name> drawn over the background where its value is above
 * `threshold` (float32, as stored; NaN: not 0).  Returns the voxels shown. */
static size_t group_map(struct report *r, const char *root, const char *name, double threshold,
			const char *title, const char *legend, const char *what)
{
	nidec_plot_opts o = NIDEC_PLOT_OPTS_INIT;
	nidec_err e = NIDEC_ERR_INIT;
	nidec_vol v;
	float *d = NULL;
	char *path = nidec_rep_join(root, name), cap[4200];
	size_t i, n, shown = 0;

	if (!path) {
		r->oom = 1;
		return 0;
	}
	memset(&v, 0, sizeof(v));
	if (!nidec_rep_file_exists(path)) {
		snprintf(cap, sizeof(cap), "'%s' is not in the sweep's directory", name);
		nidec_rep_not_available(r, cap);
	} else if (nidec_plot_load(path, 3, -1, "group searchlight map", &v, &d, &e) < 0) {
		nidec_rep_not_available(r, e.msg);
		nidec_warn("report: %s", e.msg);
	} else {
		n = (size_t)(v.dims[0] * v.dims[1] * v.dims[2]);
		for (i = 0; i < n; i++) {
			int keep = isnan(threshold) ? d[i] != 0 && !isnan(d[i]) : d[i] > (float)threshold;
			d[i] = keep ? d[i] : NAN;
			shown += keep;
		}
		v.data = d;
		v.name = name;
		o.kind = NIDEC_PLOT_STAT;
		o.title = title;
		o.legend = legend;
		o.threshold = isfinite(threshold) && threshold > 0 ? (double)(float)threshold : 0;
		snprintf(cap, sizeof(cap), "%s: %s (%zu voxels); %s elsewhere.", name, what, shown,
			 r->have_bg ? r->bg_what : "black");
		nidec_rep_plot_figure(r, &o, &v, r->have_bg ? &r->bg : NULL, title, cap);
	}
	nidec_free(d);
	nidec_free(path);
	return shown;
}

static void cluster_table(struct report *r, const char *root)
{
	static const char *const cols[] = { "cluster", "size", "p_fwe", "peak_mean", "peak_t", "peak_i",
					    "peak_j", "peak_k", "peak_x", "peak_y", "peak_z" };
	nidec_result_table t = NIDEC_RESULT_TABLE_INIT;
	nidec_err e = NIDEC_ERR_INIT;
	char *path = nidec_rep_join(root, "group_searchlight_clusters.tsv");
	size_t i, k;

	if (!path) {
		r->oom = 1;
		return;
	}
	if (!nidec_rep_file_exists(path)) {
		nidec_rep_not_available(r, "group_searchlight_clusters.tsv is not in the sweep's directory");
	} else if (nidec_resultdir_read_table(path, &t, &e) < 0) {
		nidec_rep_not_available(r, e.msg);
	} else if (t.n_rows == 0) {
		ADDS(r, "<p>No voxel is above the cluster-forming threshold: no cluster.</p>\n");
	} else {
		ADDS(r, "<div class=\"scroll\"><table>\n<tr>");
		for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
			ADDS(r, "<th>");
			ESC(r, cols[k]);
			ADDS(r, "</th>");
		}
		ADDS(r, "</tr>\n");
		for (i = 0; i < t.n_rows && i < 50; i++) {
			ADDS(r, "<tr>");
			for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
				const char *c = nidec_result_table_at(&t, i, nidec_result_table_col(&t, cols[k]));
				double x = nidec_rep_num(c);
				ADDS(r, "<td>");
				if (k >= 2 && k <= 4 && isfinite(x))
					ADD(r, "%.4g", x);
				else if (k >= 8 && isfinite(x))
					ADD(r, "%.1f", x);
				else
					ESC(r, c);
				ADDS(r, "</td>");
			}
			ADDS(r, "</tr>\n");
		}
		ADDS(r, "</table></div>\n");
		if (t.n_rows > 50)
			ADD(r, "<p>The 50 largest of %zu clusters; every one is in group_searchlight_clusters.tsv.</p>\n",
			    t.n_rows);
	}
	nidec_result_table_release(&t);
	nidec_free(path);
}

static void section_searchlight(struct group *g, const char *root, const json_t *block)
{
	struct report *r = &g->r;
	const json_t *ct = json_object_get(block, "cluster_test");
	char buf[512], title[640];
	double chance = nidec_rep_jnum(block, "chance"), alpha;

	char *mean_path = nidec_rep_join(root, "group_searchlight_mean.nii.gz");
	int has_mean = mean_path && nidec_rep_file_exists(mean_path);

	nidec_free(mean_path);
	if (!block && !has_mean)
		return;
	ADDS(r, "<section id=\"searchlight\"><h2>Group searchlight</h2>\n");
	if (!block)
		nidec_rep_not_available(r, "group_summary.json has no \"searchlight\" block");
	ADDS(r, "<table class=\"kv\">\n");
	if (block) {
		nidec_rep_json_scalar_text(json_object_get(block, "subjects"), buf, sizeof(buf));
		nidec_rep_kv_row(r, "subjects", buf);
		nidec_rep_json_scalar_text(json_object_get(block, "n_voxels"), buf, sizeof(buf));
		nidec_rep_kv_row(r, "voxels (a scored centre of every subject)", buf);
		snprintf(buf, sizeof(buf), "%.4g", chance);
		nidec_rep_kv_row(r, "chance", buf);
		nidec_rep_json_scalar_text(json_object_get(block, "peak_ijk"), buf, sizeof(buf));
		snprintf(title, sizeof(title), "%.4f at voxel (%s)", nidec_rep_jnum(block, "peak_mean"), buf);
		nidec_rep_kv_row(r, "peak of the mean map", title);
	}
	if (json_is_object(ct)) {
		static const char *const keys[] = { "draws", "cluster_threshold", "cluster_alpha", "seed",
						    "connectivity", "null_max_cluster_median",
						    "null_max_cluster_p95", "n_clusters", "n_significant" };
		size_t k;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			nidec_rep_json_scalar_text(json_object_get(ct, keys[k]), buf, sizeof(buf));
			nidec_rep_kv_row(r, keys[k], buf);
		}
	} else if (json_is_string(ct)) {
		nidec_rep_kv_row(r, "cluster test", json_string_value(ct));
	}
	ADDS(r, "</table>\n");
	group_background(g, root);
	ADDS(r, "<h3>The group mean map</h3>\n");
	group_map(r, root, "group_searchlight_mean.nii.gz", isfinite(chance) ? chance : NAN,
		  "group mean score", "mean score",
		  isfinite(chance) ? "the mean of the subjects' maps, coloured where above chance"
				   : "the mean of the subjects' maps (no chance level: every non-zero voxel)");
	if (json_is_object(ct)) {
		alpha = nidec_rep_jnum(ct, "cluster_alpha");
		ADDS(r, "<h3>Significant clusters (Stelzer et al. 2013)</h3>\n");
		snprintf(title, sizeof(title), "clusters with p_fwe <= %.3g", alpha);
		group_map(r, root, "group_searchlight_thresholded.nii.gz", NAN, title, "mean score",
			  "the group mean inside the clusters with family-wise p <= cluster_alpha");
		cluster_table(r, root);
		ADDS(r, "<p>The method and its parameters: docs/SWEEP.md \"Searchlight group level\"; "
			"group_summary.json \"searchlight\".\"cluster_test\".</p>\n");
	}
	ADDS(r, "</section>\n");
}

static void section_provenance(struct group *g)
{
	struct report *r = &g->r;
	static const char *const top[] = { "nidec_version", "sweep", "analysis", "scoring", "chance",
					   "chance_rule", "n_subjects", "n_ok", "n_failed" };
	static const char *const desc[] = { "Name", "BIDSVersion", "DatasetType" };
	const json_t *v, *prov;
	const char *k;
	char buf[2048], key[128];
	size_t i;

	ADDS(r, "<section id=\"provenance\"><h2>Inputs and provenance</h2>\n");
	if (g->gs) {
		ADDS(r, "<table class=\"kv\">\n");
		for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
			if ((v = json_object_get(g->gs, top[i]))) {
				nidec_rep_json_scalar_text(v, buf, sizeof(buf));
				nidec_rep_kv_row(r, top[i], buf);
			}
		ADDS(r, "</table>\n");
	} else {
		nidec_rep_not_available(r, g->gs_why);
	}
	ADDS(r, "<h3>dataset_description.json</h3>\n");
	if (g->desc) {
		const json_t *gen = json_array_get(json_object_get(g->desc, "GeneratedBy"), 0),
			     *src = json_array_get(json_object_get(g->desc, "SourceDatasets"), 0);
		ADDS(r, "<table class=\"kv\">\n");
		for (i = 0; i < sizeof(desc) / sizeof(desc[0]); i++)
			if (nidec_rep_jstr(g->desc, desc[i]))
				nidec_rep_kv_row(r, desc[i], nidec_rep_jstr(g->desc, desc[i]));
		if (gen) {
			snprintf(buf, sizeof(buf), "%s %s", nidec_rep_jstr(gen, "Name") ? nidec_rep_jstr(gen, "Name") : "?",
				 nidec_rep_jstr(gen, "Version") ? nidec_rep_jstr(gen, "Version") : "");
			nidec_rep_kv_row(r, "GeneratedBy", buf);
		}
		if (nidec_rep_jstr(src, "URL"))
			nidec_rep_kv_row(r, "SourceDatasets", nidec_rep_jstr(src, "URL"));
		ADDS(r, "</table>\n");
	} else {
		nidec_rep_not_available(r, g->desc_why);
	}
	if (g->first) {
		ADDS(r, "<h3>Provenance of ");
		ESC(r, g->first->name);
		ADDS(r, " (the first complete subject)</h3>\n<table class=\"kv\">\n");
		prov = json_object_get(g->first->summary, "provenance");
		json_object_foreach((json_t *)prov, k, v) {
			nidec_rep_json_scalar_text(v, buf, sizeof(buf));
			snprintf(key, sizeof(key), "%s", k);
			nidec_rep_kv_row(r, key, buf);
		}
		ADDS(r, "</table>\n<p class=\"note\">The configuration in the <a href=\"#appendix\">appendix</a> is ");
		ESC(r, g->first->name);
		ADDS(r, "'s; the subjects' differ in [data] and [output] dir only.</p>\n");
	}
	ADDS(r, "</section>\n");
}

int nidec_report_group_write_to(const char *root, const char *out_path, nidec_err *err)
{
	struct group g;
	struct stat st;
	size_t i;
	int rc;

	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EIO, "cannot read the sweep's output root '%s': %s", root,
				  stat(root, &st) != 0 ? strerror(errno) : "not a directory");
	memset(&g, 0, sizeof(g));
	nidec_rep_init(&g.r, root);
	g.r.dir_what = "sweep's output root";
	g.gs = read_json(&g, "group_summary.json", g.gs_why, sizeof(g.gs_why));
	g.desc = read_json(&g, "dataset_description.json", g.desc_why, sizeof(g.desc_why));
	if (g.gs)
		subjects_from_summary(&g);
	else
		subjects_from_dirs(&g);
	if (!g.gs && !g.n_sub) {
		rc = nidec_fail(err, NIDEC_EINPUT, "'%s' is not the output root of a sweep (no group_summary.json, "
				"no sub-* directory); give the [output] dir of the sweep's analysis config", root);
		goto done;
	}
	find_keys(&g);
	for (i = 0; i < g.n_sub && !g.first; i++)
		if (g.sub[i].ok && g.sub[i].summary)
			g.first = &g.sub[i];
	/* the classes and the configuration of the first complete subject */
	if (g.first) {
		const json_t *a = json_object_get(g.first->summary, "classes");
		for (i = 0; json_is_array(a) && i < json_array_size(a); i++)
			if (json_is_string(json_array_get(a, i)))
				nidec_rep_strv_add(&g.r.classes, &g.r.n_classes, json_string_value(json_array_get(a, i)),
						   &g.r.oom);
		g.r.config = nidec_rep_jstr(g.first->summary, "config");
	}
	if (!g.r.config)
		snprintf(g.r.summary_why, sizeof(g.r.summary_why), "no complete subject's summary.json to take "
			 "the configuration from");
	nidec_rep_page_begin(&g.r, "Group report", "Sweep output root", nidec_rep_jstr(g.gs, "nidec_version"));
	section_summary(&g);
	section_scores(&g);
	section_group(&g);
	section_subjects(&g);
	section_searchlight(&g, root, json_object_get(g.gs, "searchlight"));
	section_provenance(&g);
	nidec_rep_section_appendix(&g.r);
	nidec_rep_page_end(&g.r);
	rc = nidec_rep_save(&g.r, out_path, err);
done:
	for (i = 0; i < g.n_sub; i++)
		subject_release(&g.sub[i]);
	nidec_free(g.sub);
	nidec_rep_strv_free(g.keys, g.n_keys);
	json_decref(g.gs);
	json_decref(g.desc);
	nidec_rep_release(&g.r);
	return rc;
}

int nidec_report_group_write(const char *root, nidec_err *err)
{
	return nidec_report_group_write_to(root, NULL, err);
}
