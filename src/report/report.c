/*
 * report.c - report.html, one self-contained page about a results
 * directory: what went in (files, hashes, versions, command line, seed,
 * ranks), the dataset (volumes per condition and run, class balance,
 * voxels), pictures (mean EPI, the mask over it, each class's weight map
 * and its std over folds), per-fold scores against chance, the C chosen in
 * each fold, the confusion matrix, the permutation test and the timings.
 *
 * Rules (see report.h): result files are read, never recomputed; each
 * section stands alone and says "not available" (and why) when its file is
 * missing; the page loads nothing (PNG data: URIs, inline SVG and CSS, a
 * Content-Security-Policy without any source) and runs no script.
 *
 * Lifecycle inside: struct report gathers what could be read (summary.json
 * and the TSV tables through the results-directory reader, resultdir.h;
 * the dataset's metadata, the mean EPI), the
 * section writers append to one nidec_sbuf, and the page is written through
 * a temporary and renamed (nidec_file_write, file.h).  Depends on base, io
 * (nii, dataset, hash, results names, resultdir), png/plot/svg of this
 * directory and jansson; no MPI.
 */
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nidec/dataset.h"
#include "nidec/file.h"
#include "nidec/hash.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/plot.h"
#include "nidec/png.h"
#include "nidec/report.h"
#include "nidec/resultdir.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"
#include "svg.h"

/* ---- small helpers ------------------------------------------------------ */

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static double num(const char *s)
{
	char *end;
	double v;

	if (!s || !*s || !strcmp(s, "nan"))
		return NAN;
	v = strtod(s, &end);
	return *end ? NAN : v;
}

/* <dir>/<name> in a new string (nidec_file_join), or NULL: out of memory,
 * or a path longer than NIDEC_PATH_MAX. */
static char *join(const char *dir, const char *name)
{
	char buf[NIDEC_PATH_MAX];

	if (nidec_file_join(buf, sizeof(buf), dir, name, NULL) < 0)
		return NULL;
	return nidec_strdup(buf);
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = o ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static double jnum(const json_t *o, const char *key)
{
	const json_t *v = o ? json_object_get(o, key) : NULL;
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Value of `key` in [section] of an INI text (the config summary.json
 * carries), in a new string, or NULL. */
static char *ini_value(const char *ini, const char *section, const char *key)
{
	const char *p = ini;
	int in = 0;
	size_t kl = strlen(key);

	while (p && *p) {
		const char *eol = strchr(p, '\n'), *q = p;
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		while (q < p + n && (*q == ' ' || *q == '\t'))
			q++;
		if (*q == '[') {
			const char *e = memchr(q, ']', n - (size_t)(q - p));
			in = e && (size_t)(e - q - 1) == strlen(section) && !strncmp(q + 1, section, strlen(section));
		} else if (in && !strncmp(q, key, kl) && (q[kl] == ' ' || q[kl] == '=' || q[kl] == '\t')) {
			const char *v = q + kl, *end = p + n;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			if (v < end && *v == '=') {
				char *s;
				v++;
				while (v < end && (*v == ' ' || *v == '\t'))
					v++;
				while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
					end--;
				/* drop an inline comment */
				{
					const char *c = v;
					while (c < end && *c != ';' && *c != '#')
						c++;
					if (c < end) {
						end = c;
						while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
							end--;
					}
				}
				s = nidec_malloc((size_t)(end - v) + 1);
				if (!s)
					return NULL;
				memcpy(s, v, (size_t)(end - v));
				s[end - v] = '\0';
				return s;
			}
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static const char base64_digits[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int add_base64(nidec_sbuf *sb, const unsigned char *d, size_t n)
{
	size_t i, need;
	char *o;

	if (nidec_mul_size((n + 2) / 3, 4, &need) < 0 || nidec_sbuf_grow(sb, need) < 0)
		return NIDEC_ENOMEM;
	o = sb->buf + sb->len;
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)d[i] << 16 | (unsigned)d[i + 1] << 8 | d[i + 2];
		*o++ = base64_digits[v >> 18 & 63];
		*o++ = base64_digits[v >> 12 & 63];
		*o++ = base64_digits[v >> 6 & 63];
		*o++ = base64_digits[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0);
		*o++ = base64_digits[v >> 18 & 63];
		*o++ = base64_digits[v >> 12 & 63];
		*o++ = i + 1 < n ? base64_digits[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	sb->len = (size_t)(o - sb->buf);
	sb->buf[sb->len] = '\0';
	return 0;
}

/* Copy a message into a fixed buffer, cut if it does not fit. */
static void set_msg(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

/* ---- what the report knows ---------------------------------------------- */

struct report {
	const char *dir;
	nidec_sbuf h;              /* the page */
	int oom;                   /* an append failed: the page is incomplete */

	json_t *summary;           /* summary.json, or NULL */
	char summary_why[512];     /* why not */
	const char *config;        /* summary.json "config" (INI text), borrowed */

	nidec_result_table scores, grid, preds;
	int have_scores, have_grid, have_preds;
	char scores_why[512], grid_why[512], preds_why[512];

	nidec_dataset *ds;
	char ds_why[512];

	/* keys (one per weight map / score series) and classes */
	char **keys;
	size_t n_keys;
	char **classes;
	size_t n_classes;

	/* background: mean EPI (or the mean of the dataset's samples) */
	nidec_vol bg;
	float *bg_data;
	int have_bg;
	char bg_what[2300];
	char bg_why[1100];
	/* the mask */
	nidec_vol mask;
	float *mask_data;
	int have_mask;
	char mask_what[1024];
	char mask_why[512];
	char *bold_path, *mask_path;  /* from the config */
	nidec_canvas *canvas;      /* the figures' canvas, reused (plot_figure) */
};

#define ADD(r, ...) ((r)->oom |= nidec_sbuf_addf(&(r)->h, __VA_ARGS__) < 0)
#define ADDS(r, s) ((r)->oom |= nidec_sbuf_adds(&(r)->h, (s)) < 0)
#define ESC(r, s) ((r)->oom |= nidec_html_escape(&(r)->h, (s)) < 0)

static void not_available(struct report *r, const char *why)
{
	ADDS(r, "<p class=\"na\">not available: ");
	ESC(r, why);
	ADDS(r, "</p>\n");
}

static void strv_add(char ***v, size_t *n, const char *s, int *oom)
{
	char **nv;
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	nv = nidec_realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		*oom = 1;
		return;
	}
	*v = nv;
	nv[*n] = nidec_strdup(s);
	if (!nv[*n]) {
		*oom = 1;
		return;
	}
	(*n)++;
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		nidec_free(v[i]);
	nidec_free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read one optional TSV; on failure remember why. */
static void load_tsv(struct report *r, const char *name, nidec_result_table *t, int *have, char *why, size_t n)
{
	nidec_err e = NIDEC_ERR_INIT;
	char *path = join(r->dir, name);

	if (!path) {
		r->oom = 1;
		return;
	}
	if (!file_exists(path)) {
		snprintf(why, n, "'%s' is not in the results directory", name);
	} else if (nidec_resultdir_read_table(path, t, &e) < 0) {
		set_msg(why, n, e.msg);
		nidec_warn("report: %s", e.msg);
	} else {
		*have = 1;
	}
	nidec_free(path);
}

static void load_summary(struct report *r)
{
	nidec_err e = NIDEC_ERR_INIT;

	if (nidec_resultdir_read_summary(r->dir, NIDEC_FILE_MISSING_OK, &r->summary, &e) < 0) {
		set_msg(r->summary_why, sizeof(r->summary_why), e.msg);
		nidec_warn("report: cannot read %s", r->summary_why);
		r->summary = NULL;
	} else if (!r->summary) {
		snprintf(r->summary_why, sizeof(r->summary_why), "'summary.json' is not in the results directory");
	}
	r->config = jstr(r->summary, "config");
}

static void load_dataset(struct report *r, const char *given, int *fatal, nidec_err *err)
{
	nidec_err e = NIDEC_ERR_INIT;
	const char *prov = jstr(json_object_get(r->summary, "provenance"), "dataset");
	char *def = NULL, *cfgds = r->config ? ini_value(r->config, "data", "dataset") : NULL;
	const char *path = given;

	if (!path && prov && *prov && file_exists(prov))
		path = prov;
	if (prov && !*prov)
		prov = NULL;
	if (!path && cfgds && *cfgds && file_exists(cfgds))
		path = cfgds;
	if (!path) {
		def = join(r->dir, "dataset.h5");
		if (def && file_exists(def))
			path = def;
	}
	if (!path) {
		def = def ? def : join(r->dir, "dataset.h5");
		if (prov && def && strcmp(prov, def))
			snprintf(r->ds_why, sizeof(r->ds_why), "no dataset found (neither '%s' nor '%s' exists); "
				 "give one with --dataset", prov, def);
		else
			snprintf(r->ds_why, sizeof(r->ds_why), "no dataset found ('%s' does not exist); "
				 "give one with --dataset", def ? def : "dataset.h5");
	} else if (nidec_ds_open(path, &r->ds, &e) < 0) {
		if (given) {
			*fatal = nidec_fail(err, e.code, "%s", e.msg);
		} else {
			set_msg(r->ds_why, sizeof(r->ds_why), e.msg);
			nidec_warn("report: %s", e.msg);
		}
	}
	nidec_free(def);
	nidec_free(cfgds);
}

/* Keys (weight maps, score series) and classes, from summary.json, else from
 * the tables, else from the weight files. */
static void find_keys(struct report *r)
{
	const json_t *a;
	size_t i;
	int c;

	a = json_object_get(r->summary, "keys");
	for (i = 0; json_is_array(a) && i < json_array_size(a); i++)
		if (json_is_string(json_array_get(a, i)))
			strv_add(&r->keys, &r->n_keys, json_string_value(json_array_get(a, i)), &r->oom);
	if (!r->n_keys && r->have_scores && (c = nidec_result_table_col(&r->scores, "class")) >= 0)
		for (i = 0; i < r->scores.n_rows; i++)
			strv_add(&r->keys, &r->n_keys, nidec_result_table_at(&r->scores, i, c), &r->oom);
	if (!r->n_keys) {
		glob_t g;
		char *pat = join(r->dir, "weights_*.nii*");
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
				strv_add(&r->keys, &r->n_keys, name, &r->oom);
			}
			globfree(&g);
		}
		nidec_free(pat);
	}
	a = json_object_get(r->summary, "classes");
	for (i = 0; json_is_array(a) && i < json_array_size(a); i++)
		if (json_is_string(json_array_get(a, i)))
			strv_add(&r->classes, &r->n_classes, json_string_value(json_array_get(a, i)), &r->oom);
	if (!r->n_classes && r->have_preds && (c = nidec_result_table_col(&r->preds, "true")) >= 0) {
		for (i = 0; i < r->preds.n_rows; i++)
			strv_add(&r->classes, &r->n_classes, nidec_result_table_at(&r->preds, i, c), &r->oom);
		qsort(r->classes, r->n_classes, sizeof(*r->classes), cmp_str);
	}
}

/* Mean of BOLD files (several: the mean of the runs' means). */
static int mean_bold(struct report *r, const char *const *paths, size_t n_paths, const char *what,
		     nidec_err *err)
{
	size_t i, j, nv = 0;
	int rc = 0;
	double *acc = NULL;

	for (i = 0; i < n_paths; i++) {
		nidec_vol v;
		float *d = NULL;

		rc = nidec_plot_load(paths[i], 0, -1, "BOLD series", &v, &d, err);
		if (rc < 0)
			break;
		if (i == 0) {
			nv = (size_t)(v.dims[0] * v.dims[1] * v.dims[2]);
			acc = nidec_calloc_e(nv, sizeof(*acc), "a mean image", err);
			r->bg = v;
			if (!acc)
				rc = NIDEC_ENOMEM;
		} else if (v.dims[0] != r->bg.dims[0] || v.dims[1] != r->bg.dims[1] || v.dims[2] != r->bg.dims[2]) {
			rc = nidec_fail(err, NIDEC_EINPUT, "'%s' is not on the grid of '%s'", paths[i], paths[0]);
		}
		for (j = 0; rc == 0 && j < nv; j++)
			acc[j] += d[j];
		nidec_free(d);
		if (rc < 0)
			break;
	}
	if (rc == 0 && n_paths) {
		r->bg_data = nidec_malloc_e(nv, sizeof(float), "a mean image", err);
		if (!r->bg_data) {
			rc = NIDEC_ENOMEM;
		} else {
			for (j = 0; j < nv; j++)
				r->bg_data[j] = (float)(acc[j] / (double)n_paths);
			r->bg.data = r->bg_data;
			r->bg.name = "mean EPI";
			r->have_bg = 1;
			snprintf(r->bg_what, sizeof(r->bg_what), "mean over time of %s%s", what,
				 n_paths > 1 ? " (the mean of the runs' means)" : "");
		}
	}
	nidec_free(acc);
	return rc;
}

/* The BOLD files: the dataset's record of its inputs (absolute paths), or
 * the config's [data] bold (a file or a glob, relative to the current
 * directory). */
static int bold_from_config(struct report *r, nidec_err *err)
{
	glob_t g;
	int rc;
	char what[600];

	if (!strpbrk(r->bold_path, "*?[")) {
		const char *one = r->bold_path;
		snprintf(what, sizeof(what), "'%s'", r->bold_path);
		return mean_bold(r, &one, 1, what, err);
	}
	if (glob(r->bold_path, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
		globfree(&g);
		return nidec_fail(err, NIDEC_EIO, "no file matches '%s' (relative paths are taken from the "
				  "current directory)", r->bold_path);
	}
	snprintf(what, sizeof(what), "the %zu files of '%s'", (size_t)g.gl_pathc, r->bold_path);
	rc = mean_bold(r, (const char *const *)g.gl_pathv, g.gl_pathc, what, err);
	globfree(&g);
	return rc;
}

static int bold_from_dataset(struct report *r, nidec_err *err)
{
	nidec_ds_input *in = NULL;
	const char **paths = NULL;
	size_t n = 0, i, k = 0;
	int rc = 0;
	char what[600];

	NIDEC_TRY(nidec_ds_inputs(r->ds, &in, &n, err));
	paths = nidec_calloc_e(n ? n : 1, sizeof(*paths), "paths", err);
	if (!paths) {
		nidec_ds_inputs_free(in, n);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (!strcmp(in[i].role, "bold") && file_exists(in[i].path))
			paths[k++] = in[i].path;
		else if (!strcmp(in[i].role, "bold"))
			rc = nidec_fail(err, NIDEC_EIO, "the BOLD input '%s' recorded in the dataset is gone",
					in[i].path);
	if (rc == 0 && k == 0)
		rc = nidec_fail(err, NIDEC_EINPUT, "the dataset records no BOLD input");
	if (rc == 0) {
		if (k == 1)
			snprintf(what, sizeof(what), "'%s'", paths[0]);
		else
			snprintf(what, sizeof(what), "the %zu BOLD files of the dataset", k);
		rc = mean_bold(r, paths, k, what, err);
	}
	nidec_free(paths);
	nidec_ds_inputs_free(in, n);
	return rc;
}

/* The mean EPI that convert stored in the dataset: 1 if there is one. */
static int bold_stored(struct report *r, nidec_err *err)
{
	float *img;

	NIDEC_TRY(nidec_ds_read_mean_epi(r->ds, &img, err));
	if (!img)
		return 0;
	r->bg_data = img;
	memcpy(r->bg.dims, r->ds->dims, sizeof(r->bg.dims));
	memcpy(r->bg.affine, r->ds->affine, sizeof(r->bg.affine));
	r->bg.data = r->bg_data;
	r->bg.name = "mean EPI";
	r->have_bg = 1;
	snprintf(r->bg_what, sizeof(r->bg_what),
		 "mean over time of the BOLD input (the mean of the runs' means), stored in '%s' when "
		 "it was converted", r->ds->path);
	return 1;
}

/* The background picture: the mean EPI of the BOLD input (stored in the
 * dataset, or computed from the BOLD files for an older dataset), or else
 * the mean of the dataset's samples inside the mask. */
static void load_background(struct report *r)
{
	nidec_err e = NIDEC_ERR_INIT;

	if (r->ds && bold_stored(r, &e) > 0)
		return;
	if (e.code < 0)
		nidec_warn("report: %s", e.msg);
	nidec_err_clear(&e);
	if (r->ds && bold_from_dataset(r, &e) == 0)
		return;
	nidec_err_clear(&e);
	if (r->config)
		r->bold_path = ini_value(r->config, "data", "bold");
	if (r->bold_path && *r->bold_path) {
		if (bold_from_config(r, &e) == 0)
			return;
		set_msg(r->bg_why, sizeof(r->bg_why), e.msg);
		nidec_warn("report: mean EPI: %s", e.msg);
	} else {
		snprintf(r->bg_why, sizeof(r->bg_why), "the BOLD input is unknown (no [data] bold in "
			 "summary.json's config)");
	}
	if (r->ds) {
		/* the masked samples' mean, put back on the grid */
		float *X = NULL;
		size_t nv = (size_t)(r->ds->dims[0] * r->ds->dims[1] * r->ds->dims[2]), s, v;
		double *acc = NULL;

		nidec_err_clear(&e);
		if (nidec_ds_read_matrix(r->ds, &X, &e) == 0 &&
		    (acc = nidec_calloc(r->ds->n_voxels ? r->ds->n_voxels : 1, sizeof(*acc))) &&
		    (r->bg_data = nidec_calloc(nv, sizeof(float)))) {
			for (s = 0; s < r->ds->n_samples; s++)
				for (v = 0; v < r->ds->n_voxels; v++)
					acc[v] += X[s * r->ds->n_voxels + v];
			for (v = 0; v < r->ds->n_voxels; v++) {
				const int32_t *q = r->ds->ijk + 3 * v;
				r->bg_data[q[0] + r->ds->dims[0] * (q[1] + r->ds->dims[1] * q[2])] =
					(float)(acc[v] / (double)(r->ds->n_samples ? r->ds->n_samples : 1));
			}
			memcpy(r->bg.dims, r->ds->dims, sizeof(r->bg.dims));
			memcpy(r->bg.affine, r->ds->affine, sizeof(r->bg.affine));
			r->bg.data = r->bg_data;
			r->bg.name = r->ds->path;
			r->have_bg = 1;
			snprintf(r->bg_what, sizeof(r->bg_what), "mean of the %zu samples of '%s', inside the "
				 "mask only (%s)", r->ds->n_samples, r->ds->path, r->bg_why);
		}
		nidec_free(X);
		nidec_free(acc);
	}
}

static void load_mask(struct report *r)
{
	nidec_err e = NIDEC_ERR_INIT;

	if (r->ds) {
		size_t nv = (size_t)(r->ds->dims[0] * r->ds->dims[1] * r->ds->dims[2]), v;
		r->mask_data = nidec_calloc(nv ? nv : 1, sizeof(float));
		if (!r->mask_data) {
			r->oom = 1;
			return;
		}
		for (v = 0; v < r->ds->n_voxels; v++) {
			const int32_t *q = r->ds->ijk + 3 * v;
			r->mask_data[q[0] + r->ds->dims[0] * (q[1] + r->ds->dims[1] * q[2])] = 1;
		}
		memcpy(r->mask.dims, r->ds->dims, sizeof(r->mask.dims));
		memcpy(r->mask.affine, r->ds->affine, sizeof(r->mask.affine));
		r->mask.data = r->mask_data;
		r->mask.name = r->ds->path;
		r->have_mask = 1;
		snprintf(r->mask_what, sizeof(r->mask_what), "the %zu voxels of the dataset's mask",
			 r->ds->n_voxels);
		{
			/* a mask intersected or computed at conversion says so */
			char *pre = NULL, *m;
			if (nidec_ds_attr(r->ds, "preprocessing", &pre, &e) == 0 && pre &&
			    (m = strstr(pre, "mask: ")) != NULL) {
				size_t len = strlen(r->mask_what), l = strcspn(m + 6, "\n");
				snprintf(r->mask_what + len, sizeof(r->mask_what) - len, " (%.*s)", (int)l, m + 6);
			}
			nidec_free(pre);
		}
		return;
	}
	if (r->config)
		r->mask_path = ini_value(r->config, "data", "mask");
	if (!r->mask_path || !*r->mask_path) {
		snprintf(r->mask_why, sizeof(r->mask_why), "neither the dataset nor the mask file is known");
		return;
	}
	if (nidec_plot_load(r->mask_path, 3, -1, "mask", &r->mask, &r->mask_data, &e) < 0) {
		set_msg(r->mask_why, sizeof(r->mask_why), e.msg);
		nidec_warn("report: %s", e.msg);
		return;
	}
	r->have_mask = 1;
	snprintf(r->mask_what, sizeof(r->mask_what), "'%s'", r->mask_path);
}

/* ---- figures ------------------------------------------------------------ */

static void add_figure(struct report *r, nidec_canvas *cv, const char *alt, const char *caption)
{
	nidec_err e = NIDEC_ERR_INIT;
	unsigned char *png = NULL;
	size_t len = 0;

	if (nidec_png_encode(cv, &png, &len, &e) < 0) {
		not_available(r, e.msg);
		return;
	}
	ADDS(r, "<figure><img class=\"brain\" alt=\"");
	ESC(r, alt);
	ADD(r, "\" width=\"%d\" height=\"%d\" src=\"data:image/png;base64,", cv->w, cv->h);
	r->oom |= add_base64(&r->h, png, len) < 0;
	ADDS(r, "\">");
	if (caption) {
		ADDS(r, "<figcaption>");
		ESC(r, caption);
		ADDS(r, "</figcaption>");
	}
	ADDS(r, "</figure>\n");
	nidec_free(png);
}

static void plot_figure(struct report *r, const nidec_plot_opts *o, const nidec_vol *img,
			const nidec_vol *bg, const char *alt, const char *caption)
{
	nidec_err e = NIDEC_ERR_INIT;

	/* one canvas for every figure of the page (nidec_plot_render_reuse) */
	if (nidec_plot_render_reuse(o, img, bg, &r->canvas, &e) < 0) {
		not_available(r, e.msg);
		nidec_warn("report: %s", e.msg);
		return;
	}
	add_figure(r, r->canvas, alt, caption);
}

/* ---- sections ----------------------------------------------------------- */

static const char *scoring_of(const struct report *r)
{
	const char *s = jstr(r->summary, "scoring");
	return s ? s : "score";
}

static void kv_row(struct report *r, const char *k, const char *v)
{
	ADDS(r, "<tr><th>");
	ESC(r, k);
	ADDS(r, "</th><td class=\"l\">");
	ESC(r, v);
	ADDS(r, "</td></tr>\n");
}

static void json_scalar_text(const json_t *v, char *buf, size_t n)
{
	if (json_is_string(v))
		snprintf(buf, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, n, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, n, "%.6g", json_real_value(v));
	else if (json_is_true(v))
		snprintf(buf, n, "true");
	else if (json_is_false(v))
		snprintf(buf, n, "false");
	else if (json_is_null(v))
		snprintf(buf, n, "-");
	else if (json_is_array(v)) {
		size_t i, used = 0;
		buf[0] = '\0';
		for (i = 0; i < json_array_size(v) && used + 1 < n; i++) {
			char one[128];
			json_scalar_text(json_array_get(v, i), one, sizeof(one));
			used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", one);
			if (used >= n)
				break;
		}
	} else
		snprintf(buf, n, "(object)");
}

static void section_summary(struct report *r)
{
	const json_t *scores = json_object_get(r->summary, "scores");
	double mean = jnum(r->summary, "mean_score");
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
		double m = jnum(e, "mean"), s = jnum(e, "std"), p = jnum(e, "p_value");
		if (!isfinite(m))
			continue;
		ADD(r, "<div class=\"card\"><div class=\"big\">%.3f <small>&plusmn; %.3f</small></div><div>", m, s);
		ESC(r, r->keys[i]);
		if (isfinite(p))
			ADD(r, ", p = %.3g", p);
		ADDS(r, "</div></div>\n");
	}
	if (r->summary) {
		double nf = jnum(r->summary, "n_folds"), ns = jnum(r->summary, "n_samples"),
		       nv = jnum(r->summary, "n_voxels");
		if (isfinite(ns)) {
			snprintf(buf, sizeof(buf), "%.0f samples, %.0f voxels, %.0f folds", ns, nv, nf);
			ADDS(r, "<div class=\"card\"><div class=\"mid\">");
			ESC(r, buf);
			ADDS(r, "</div><div>");
			snprintf(buf, sizeof(buf), "%s, %s selection, %s", jstr(r->summary, "scheme") ?
				 jstr(r->summary, "scheme") : "?", jstr(r->summary, "selection") ?
				 jstr(r->summary, "selection") : "?", jstr(r->summary, "estimator") ?
				 jstr(r->summary, "estimator") : "?");
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

static void section_provenance(struct report *r)
{
	const json_t *prov = json_object_get(r->summary, "provenance");
	static const char *const top[] = { "classes", "scheme", "inner_scheme", "selection", "scoring",
					   "estimator", "compat", "C_grid" };
	static const char *const input_keys[] = { "bold", "mask", "labels", "events", "conditions",
						   "samples", "bids_root", "derivatives", "subject", "task",
						   "space" };
	const char *k;
	const json_t *v;
	char buf[2048];
	size_t i;

	ADDS(r, "<section id=\"provenance\"><h2>Inputs and provenance</h2>\n");
	if (!r->summary) {
		not_available(r, r->summary_why);
	} else {
		ADDS(r, "<table class=\"kv\">\n");
		if (r->config)
			for (i = 0; i < sizeof(input_keys) / sizeof(input_keys[0]); i++) {
				char *val = ini_value(r->config, "data", input_keys[i]);
				if (val && *val) {
					snprintf(buf, sizeof(buf), "input: %s", input_keys[i]);
					kv_row(r, buf, val);
				}
				nidec_free(val);
			}
		json_object_foreach((json_t *)prov, k, v) {
			json_scalar_text(v, buf, sizeof(buf));
			kv_row(r, k, buf);
		}
		for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
			if ((v = json_object_get(r->summary, top[i]))) {
				json_scalar_text(v, buf, sizeof(buf));
				kv_row(r, top[i], buf);
			}
		ADDS(r, "</table>\n");
	}
	/* the dataset's own record of its inputs, with their hashes */
	if (r->ds) {
		static const char *const attrs[] = { "tool_version", "command_line", "created", "liblinear_version" };
		nidec_ds_input *in = NULL;
		size_t n = 0;
		nidec_err e = NIDEC_ERR_INIT;

		ADDS(r, "<h3>Input files (as recorded in the dataset)</h3>\n");
		if (nidec_ds_inputs(r->ds, &in, &n, &e) < 0) {
			not_available(r, e.msg);
		} else if (n) {
			ADDS(r, "<div class=\"wide\"><table><tr><th>role</th><th class=\"l\">file</th><th>bytes</th>"
				"<th class=\"l\">SHA-256</th></tr>\n");
			for (i = 0; i < n; i++) {
				ADDS(r, "<tr><td>");
				ESC(r, in[i].role);
				ADDS(r, "</td><td class=\"l\">");
				ESC(r, in[i].path);
				ADD(r, "</td><td>%lld</td><td class=\"hash\">", (long long)in[i].size);
				ESC(r, in[i].sha256);
				ADDS(r, "</td></tr>\n");
			}
			ADDS(r, "</table></div>\n");
		}
		nidec_ds_inputs_free(in, n);
		ADDS(r, "<table class=\"kv\">\n");
		kv_row(r, "dataset file", r->ds->path ? r->ds->path : "?");
		if (r->ds->inputs_sha256)
			kv_row(r, "reuse key (SHA-256 over the inputs)", r->ds->inputs_sha256);
		for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
			char *val = NULL;
			nidec_err_clear(&e);
			if (nidec_ds_attr(r->ds, attrs[i], &val, &e) == 0 && val && *val) {
				char key[64];
				snprintf(key, sizeof(key), "dataset %s", attrs[i]);
				kv_row(r, key, val);
			}
			nidec_free(val);
		}
		ADDS(r, "</table>\n");
	} else {
		ADDS(r, "<p class=\"note\">Input hashes: the dataset is not available (");
		ESC(r, r->ds_why);
		ADDS(r, ").</p>\n");
	}
	ADDS(r, "<p class=\"note\">The configuration and the hashes of every output file are in the "
		"<a href=\"#appendix\">appendix</a>.</p>\n</section>\n");
}

/* The full configuration and the files of the results directory. */
static void section_appendix(struct report *r)
{
	size_t i;

	ADDS(r, "<section id=\"appendix\"><h2>Appendix: configuration and files</h2>\n");
	{
		glob_t g;
		char *pat = join(r->dir, "*");
		ADDS(r, "<h3>Files in the results directory</h3>\n");
		if (pat && glob(pat, 0, NULL, &g) == 0) {
			ADDS(r, "<div class=\"wide\"><table><tr><th>file</th><th>bytes</th><th class=\"l\">SHA-256</th></tr>\n");
			for (i = 0; i < g.gl_pathc; i++) {
				const char *b = strrchr(g.gl_pathv[i], '/');
				char hex[NIDEC_SHA256_HEX];
				int64_t size = 0;
				nidec_err e = NIDEC_ERR_INIT;
				b = b ? b + 1 : g.gl_pathv[i];
				if (!file_exists(g.gl_pathv[i]) || !strncmp(b, "report.html", 11) ||
				    strstr(b, ".tmp"))
					continue;
				if (nidec_sha256_file(g.gl_pathv[i], hex, &size, &e) < 0)
					snprintf(hex, sizeof(hex), "?");
				ADDS(r, "<tr><td>");
				ESC(r, b);
				ADD(r, "</td><td>%lld</td><td class=\"hash\">%s</td></tr>\n", (long long)size, hex);
			}
			ADDS(r, "</table></div>\n");
			globfree(&g);
		} else {
			not_available(r, "the results directory cannot be listed");
		}
		nidec_free(pat);
	}
	ADDS(r, "<h3>Configuration</h3>\n");
	if (r->config) {
		ADDS(r, "<pre class=\"config\">");
		ESC(r, r->config);
		ADDS(r, "</pre>\n");
	} else {
		not_available(r, r->summary ? "summary.json has no config" : r->summary_why);
	}
	ADDS(r, "</section>\n");
}

static void section_dataset(struct report *r)
{
	char **conds = NULL;
	size_t n_conds = 0, i, j, s, n_runs = 0, total = 0, *count = NULL, n_rows;
	int *runs = NULL, c_run = -1, c_true = -1, c_label, c_ses;
	int from_ds = r->ds != NULL;

	ADDS(r, "<section id=\"dataset\"><h2>Dataset</h2>\n");
	if (!from_ds && !r->have_preds) {
		not_available(r, r->ds_why[0] ? r->ds_why : "no dataset");
		ADDS(r, "</section>\n");
		return;
	}
	if (from_ds) {
		n_rows = r->ds->n_samples;
		for (i = 0; i < r->ds->n_conditions; i++)
			strv_add(&conds, &n_conds, r->ds->conditions[i], &r->oom);
	} else {
		c_run = nidec_result_table_col(&r->preds, "run");
		c_true = nidec_result_table_col(&r->preds, "true");
		n_rows = r->preds.n_rows;
		for (i = 0; i < r->n_classes; i++)
			strv_add(&conds, &n_conds, r->classes[i], &r->oom);
		ADDS(r, "<p class=\"note\">The dataset could not be opened (");
		ESC(r, r->ds_why);
		ADDS(r, "); the counts below are those of the test samples in predictions.tsv.</p>\n");
	}
	/* runs, in ascending order */
	runs = nidec_malloc((n_rows ? n_rows : 1) * sizeof(*runs));
	if (!runs) {
		r->oom = 1;
		goto done;
	}
	for (s = 0; s < n_rows; s++) {
		int run = from_ds ? r->ds->runs[s] : atoi(nidec_result_table_at(&r->preds, s, c_run));
		for (j = 0; j < n_runs && runs[j] != run; j++)
			;
		if (j == n_runs)
			runs[n_runs++] = run;
	}
	for (i = 1; i < n_runs; i++)
		for (j = i; j > 0 && runs[j - 1] > runs[j]; j--) {
			int t = runs[j];
			runs[j] = runs[j - 1];
			runs[j - 1] = t;
		}
	count = nidec_calloc((n_runs + 1) * (n_conds + 1), sizeof(*count));
	if (!count) {
		r->oom = 1;
		goto done;
	}
	for (s = 0; s < n_rows; s++) {
		int run = from_ds ? r->ds->runs[s] : atoi(nidec_result_table_at(&r->preds, s, c_run));
		const char *lab = from_ds ? r->ds->labels[s] : nidec_result_table_at(&r->preds, s, c_true);
		size_t ri, ci;
		for (ri = 0; runs[ri] != run; ri++)
			;
		for (ci = 0; ci < n_conds && strcmp(conds[ci], lab); ci++)
			;
		if (ci == n_conds)
			continue;
		count[ri * (n_conds + 1) + ci]++;
		count[ri * (n_conds + 1) + n_conds]++;
		count[n_runs * (n_conds + 1) + ci]++;
		total++;
	}
	if (from_ds) {
		double vv = nidec_ds_voxel_volume(r->ds);
		ADDS(r, "<table class=\"kv\">\n");
		ADD(r, "<tr><th>voxels in the mask</th><td class=\"l\">%zu (%.1f cm&sup3;)</td></tr>\n",
		    r->ds->n_voxels, (double)r->ds->n_voxels * vv / 1000);
		ADD(r, "<tr><th>grid</th><td class=\"l\">%lld &times; %lld &times; %lld voxels of "
		       "%.3g &times; %.3g &times; %.3g mm</td></tr>\n",
		    (long long)r->ds->dims[0], (long long)r->ds->dims[1], (long long)r->ds->dims[2],
		    r->ds->pixdim[0], r->ds->pixdim[1], r->ds->pixdim[2]);
		if (r->ds->pixdim[3] > 0)
			ADD(r, "<tr><th>TR</th><td class=\"l\">%.4g s</td></tr>\n", r->ds->pixdim[3]);
		ADD(r, "<tr><th>samples in the dataset</th><td class=\"l\">%zu in %zu runs</td></tr>\n",
		    r->ds->n_samples, n_runs);
		{
			/* what conversion did to the images (issue 17): one row a line */
			char *pre = NULL, *line, *save = NULL;
			nidec_err e = NIDEC_ERR_INIT;
			if (nidec_ds_attr(r->ds, "preprocessing", &pre, &e) == 0 && pre)
				for (line = strtok_r(pre, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
					char *colon = strstr(line, ": ");
					if (!colon)
						continue;
					*colon = '\0';
					kv_row(r, line, colon + 2);
				}
			nidec_free(pre);
		}
		ADDS(r, "</table>\n");
	}
	/* class balance of the analysed classes */
	if (r->n_classes) {
		size_t n_an = 0;
		for (i = 0; i < r->n_classes; i++)
			for (j = 0; j < n_conds; j++)
				if (!strcmp(r->classes[i], conds[j]))
					n_an += count[n_runs * (n_conds + 1) + j];
		ADDS(r, "<h3>Class balance</h3><table><tr><th>class</th><th>samples</th><th>share</th></tr>\n");
		for (i = 0; i < r->n_classes; i++) {
			size_t c = 0;
			for (j = 0; j < n_conds; j++)
				if (!strcmp(r->classes[i], conds[j]))
					c = count[n_runs * (n_conds + 1) + j];
			ADDS(r, "<tr><td>");
			ESC(r, r->classes[i]);
			ADD(r, "</td><td>%zu</td><td>%.1f%%</td></tr>\n", c, n_an ? 100.0 * (double)c / (double)n_an : 0);
		}
		ADDS(r, "</table>\n");
	}
	ADDS(r, "<h3>Volumes per condition and run</h3><div class=\"wide\"><table class=\"counts\"><tr><th>run</th>");
	for (j = 0; j < n_conds; j++) {
		ADDS(r, "<th>");
		ESC(r, conds[j]);
		ADDS(r, "</th>");
	}
	ADDS(r, "<th>total</th></tr>\n");
	/* BIDS run labels (and sessions), from predictions.tsv */
	c_run = r->have_preds ? nidec_result_table_col(&r->preds, "run") : -1;
	c_label = r->have_preds ? nidec_result_table_col(&r->preds, "run_label") : -1;
	c_ses = r->have_preds ? nidec_result_table_col(&r->preds, "session") : -1;
	for (i = 0; i <= n_runs; i++) {
		if (i < n_runs) {
			const char *label = NULL, *ses = NULL;
			for (s = 0; c_run >= 0 && c_label >= 0 && s < r->preds.n_rows; s++)
				if (atoi(nidec_result_table_at(&r->preds, s, c_run)) == runs[i]) {
					label = nidec_result_table_at(&r->preds, s, c_label);
					ses = c_ses >= 0 ? nidec_result_table_at(&r->preds, s, c_ses) : NULL;
					break;
				}
			ADD(r, "<tr><td>%d", runs[i]);
			if (label) {
				ADDS(r, " (");
				if (ses) {
					ADDS(r, "ses-");
					ESC(r, ses);
					ADDS(r, " ");
				}
				ADDS(r, "run-");
				ESC(r, label);
				ADDS(r, ")");
			}
			ADDS(r, "</td>");
		} else {
			ADDS(r, "<tr class=\"total\"><td>total</td>");
		}
		for (j = 0; j < n_conds; j++)
			ADD(r, "<td>%zu</td>", count[i * (n_conds + 1) + j]);
		ADD(r, "<td>%zu</td></tr>\n", i < n_runs ? count[i * (n_conds + 1) + n_conds] : total);
	}
	ADDS(r, "</table></div>\n");
done:
	ADDS(r, "</section>\n");
	strv_free(conds, n_conds);
	nidec_free(runs);
	nidec_free(count);
}

static void section_images(struct report *r)
{
	nidec_plot_opts o = NIDEC_PLOT_OPTS_INIT;
	char cap[2500];

	ADDS(r, "<section id=\"images\"><h2>Mean EPI and mask</h2>\n");
	if (r->have_bg) {
		o.kind = NIDEC_PLOT_EPI;
		o.title = "mean EPI";
		snprintf(cap, sizeof(cap), "Background: %s; grey scale from the 2nd to the 98th percentile.",
			 r->bg_what);
		plot_figure(r, &o, &r->bg, NULL, "mean EPI", cap);
	} else {
		not_available(r, r->bg_why);
	}
	if (r->have_mask) {
		o.kind = NIDEC_PLOT_ROI;
		o.title = "mask";
		snprintf(cap, sizeof(cap), "Mask: %s%s.", r->mask_what,
			 r->have_bg ? ", over the mean EPI" : "");
		plot_figure(r, &o, &r->mask, r->have_bg ? &r->bg : NULL, "mask over the mean EPI", cap);
	} else {
		not_available(r, r->mask_why[0] ? r->mask_why : "the mask is unknown");
	}
	ADDS(r, "</section>\n");
}

static void section_weights(struct report *r)
{
	size_t k;

	ADDS(r, "<section id=\"weights\"><h2>Weight maps</h2>\n"
		"<p class=\"note\">SVM weights averaged over the outer folds, and their standard deviation "
		"over folds, over the mean EPI.  Colour scale symmetric around 0; "
		"neurological view (the subject's left on the left).</p>\n");
	if (!r->n_keys)
		not_available(r, "no class is known (no summary.json, scores.tsv or weights_*.nii.gz)");
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
			path = join(r->dir, name);
			if (!path) {
				r->oom = 1;
				break;
			}
			if (!file_exists(path)) {
				snprintf(cap, sizeof(cap), "'%s' is not in the results directory", name);
				not_available(r, cap);
			} else if (nidec_plot_load(path, 3, -1, "weight map", &v, &d, &e) < 0) {
				not_available(r, e.msg);
				nidec_warn("report: %s", e.msg);
			} else {
				v.name = name;
				o.kind = NIDEC_PLOT_STAT;
				snprintf(title, sizeof(title), "%s: %s", pass ? "std over folds" : "weights", r->keys[k]);
				o.title = title;
				o.legend = pass ? "std" : "weight";
				snprintf(cap, sizeof(cap), "%s (%s)", name, pass ? "standard deviation over folds"
										: "mean over folds");
				plot_figure(r, &o, &v, r->have_bg ? &r->bg : NULL, title, cap);
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
			f->score[k * f->n_folds + (size_t)fo] = num(nidec_result_table_at(&r->scores, i, cs));
			f->C[k * f->n_folds + (size_t)fo] = num(nidec_result_table_at(&r->scores, i, cC));
			f->inner[k * f->n_folds + (size_t)fo] = num(nidec_result_table_at(&r->scores, i, ci));
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
		not_available(r, why);
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
				double c = num(nidec_result_table_at(&r->grid, i, cC));
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
						    num(nidec_result_table_at(&r->grid, i, cC)) != Cs[j])
							continue;
						a = num(nidec_result_table_at(&r->grid, i, cs));
						b = num(nidec_result_table_at(&r->grid, i, ci));
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
		not_available(r, r->have_preds ? "predictions.tsv has no true/predicted columns" : r->preds_why);
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
		not_available(r, r->summary_why);
		goto done;
	}
	if (!json_is_object(perm)) {
		not_available(r, "no permutations were run (cv.permutations = 0)");
		goto done;
	}
	ADD(r, "<p>%.0f permutations of the labels", jnum(perm, "n"));
	if (isfinite(jnum(perm, "p_value_mean")))
		ADD(r, "; p-value of the mean score: <b>%.4g</b>", jnum(perm, "p_value_mean"));
	ADDS(r, ".</p>\n");
	if (!json_is_array(nul) || json_array_size(nul) == 0) {
		for (k = 0; k < r->n_keys; k++) {
			double p = jnum(json_object_get(scores, r->keys[k]), "p_value");
			if (isfinite(p)) {
				ADDS(r, "<p>");
				ESC(r, r->keys[k]);
				ADD(r, ": p = %.4g</p>\n", p);
			}
		}
		not_available(r, "the null scores are not in summary.json (permutations.null_scores)");
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
		obs = json_is_array(json_array_get(nul, 0)) ? jnum(e, "mean") : jnum(r->summary, "mean_score");
		p = json_is_array(json_array_get(nul, 0)) ? jnum(e, "p_value") : jnum(perm, "p_value_mean");
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

static void section_timing(struct report *r)
{
	const json_t *t = json_object_get(r->summary, "timing");
	const json_t *stages = json_object_get(t, "stages"), *ranks = json_object_get(t, "ranks"), *v;
	const char *k;
	size_t i;

	ADDS(r, "<section id=\"timing\"><h2>Timings</h2>\n");
	if (!json_is_object(t)) {
		not_available(r, r->summary ? "summary.json has no timings (run with --timing)" : r->summary_why);
		ADDS(r, "</section>\n");
		return;
	}
	if (isfinite(jnum(t, "wall_seconds")))
		ADD(r, "<p>Cross-validation wall time %.3f s", jnum(t, "wall_seconds"));
	if (isfinite(jnum(t, "parallel_efficiency")))
		ADD(r, ", parallel efficiency %.0f%%", 100 * jnum(t, "parallel_efficiency"));
	ADDS(r, ".</p>\n");
	if (json_is_object(stages)) {
		ADDS(r, "<table><tr><th>stage</th><th>min (s)</th><th>mean (s)</th><th>max (s)</th>"
			"<th>max / min</th></tr>\n");
		json_object_foreach((json_t *)stages, k, v) {
			double mn = jnum(v, "min"), me = jnum(v, "mean"), mx = jnum(v, "max");
			ADDS(r, "<tr><td>");
			ESC(r, k);
			ADD(r, "</td><td>%.4f</td><td>%.4f</td><td>%.4f</td>", mn, me, mx);
			if (mn > 0)
				ADD(r, "<td>%.2f</td></tr>\n", mx / mn);
			else
				ADDS(r, "<td>-</td></tr>\n");
		}
		ADDS(r, "</table>\n");
	}
	if (json_is_array(ranks) && json_array_size(ranks)) {
		ADDS(r, "<h3>Per rank</h3><table><tr><th>rank</th><th>busy (s)</th><th>tasks</th></tr>\n");
		for (i = 0; i < json_array_size(ranks); i++) {
			const json_t *e = json_array_get(ranks, i);
			ADD(r, "<tr><td>%.0f</td><td>%.3f</td><td>%.0f</td></tr>\n", jnum(e, "rank"),
			    jnum(e, "busy_seconds"), jnum(e, "tasks"));
		}
		ADDS(r, "</table>\n");
	}
	ADDS(r, "</section>\n");
}

static const char css[] =
	"body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;color:#1d1d1f;max-width:1180px;"
	"margin:1.5em auto;padding:0 1.2em;line-height:1.45;font-size:15px}\n"
	"h1{font-size:1.7em;margin:.2em 0}h2{font-size:1.3em;border-bottom:2px solid #1f77b4;"
	"padding-bottom:.15em;margin-top:1.6em}h3{font-size:1.05em;margin:1.1em 0 .4em}\n"
	".sub{color:#555;margin:0 0 1em}\n"
	"table{border-collapse:collapse;margin:.4em 0 1em;font-variant-numeric:tabular-nums}\n"
	"th,td{padding:.22em .7em;border-bottom:1px solid #ddd;text-align:right;vertical-align:top}\n"
	"th{background:#f4f6f8;font-weight:600}table.kv th{text-align:left;width:16em}\n"
	"th:first-child,td:first-child{text-align:left}\n"
	"td.l,th.l{text-align:left;word-break:break-all}td.hash{font-family:monospace;font-size:.8em;"
	"text-align:left}\n"
	"tr.total td{font-weight:600;border-top:2px solid #bbb}\n"
	"table.confusion td{min-width:4em;text-align:center}\n"
	".wide{overflow-x:auto}\n"
	"pre.config{background:#f6f8fa;border:1px solid #e1e4e8;padding:.6em;font-size:.82em;"
	"white-space:pre-wrap}\n"
	".na{color:#8a6d3b;background:#fcf8e3;border-left:4px solid #f0ad4e;padding:.35em .7em}\n"
	".note{color:#555;font-size:.92em}\n"
	".cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}\n"
	".card{border:1px solid #d0d7de;border-radius:6px;padding:.5em 1em;min-width:10em}\n"
	".card .big{font-size:1.8em;font-weight:700;color:#1f77b4}.card .mid{font-size:1.15em;"
	"font-weight:600}\n"
	"figure{display:inline-block;margin:.3em 1em .8em 0;vertical-align:top;max-width:100%}\n"
	"img.brain{max-width:100%;height:auto;background:#000;border-radius:3px}\n"
	"figcaption{font-size:.85em;color:#555;max-width:560px}\n"
	".pair{display:flex;flex-wrap:wrap;gap:1em}.pair figure{flex:1 1 420px;margin:0 0 .8em;"
	"max-width:600px}.pair img.brain{width:100%}\n"
	"svg.chart{max-width:100%;height:auto;font-family:inherit}\n"
	"svg .tick{font-size:11px;fill:#333}svg .axis{font-size:12px;fill:#222}"
	"svg .legend{font-size:12px;fill:#222}\n"
	"footer{margin-top:2em;color:#777;font-size:.85em}\n"
	"nav.toc{font-size:.9em;margin:.2em 0 1em}nav.toc a{color:#1f77b4;text-decoration:none}\n"
	"@media print{nav.toc{display:none}body{max-width:none;margin:0;font-size:11pt}section{break-inside:avoid-page}"
	"h2{break-after:avoid}figure,table,svg{break-inside:avoid}.wide{overflow:visible}"
	"img.brain{max-width:48%}}\n";

/* ---- the page ----------------------------------------------------------- */

static void page(struct report *r)
{
	size_t i;

	ADDS(r, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"img-src data:; style-src 'unsafe-inline'\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<link rel=\"icon\" href=\"data:,\">\n<title>nidec report: ");
	for (i = 0; i < r->n_classes; i++) {
		ESC(r, r->classes[i]);
		if (i + 1 < r->n_classes)
			ADDS(r, " vs ");
	}
	ADDS(r, "</title>\n<style>\n");
	ADDS(r, css);
	ADDS(r, "</style>\n</head>\n<body>\n<header><h1>Decoding report");
	if (r->n_classes) {
		ADDS(r, ": ");
		for (i = 0; i < r->n_classes; i++) {
			ESC(r, r->classes[i]);
			if (i + 1 < r->n_classes)
				ADDS(r, " vs ");
		}
	}
	ADDS(r, "</h1>\n<p class=\"sub\">Results directory <code>");
	ESC(r, r->dir);
	ADDS(r, "</code>");
	if (jstr(r->summary, "nidec_version")) {
		ADDS(r, ", nidec ");
		ESC(r, jstr(r->summary, "nidec_version"));
	}
	ADDS(r, "</p>\n</header>\n");
	/* results first (readable at a glance), then what they rest on */
	section_summary(r);
	section_scores(r);
	section_weights(r);
	section_images(r);
	section_confusion(r);
	section_permutations(r);
	section_dataset(r);
	section_provenance(r);
	section_timing(r);
	section_appendix(r);
	ADDS(r, "<footer>Written by <code>nidec report</code> from the files above only; nothing was "
		"recomputed.  Figures: neurological convention (the subject's left on the left).</footer>\n"
		"</body>\n</html>\n");
}

int nidec_report_write_to(const char *results_dir, const char *dataset_path, const char *out_path,
			  nidec_err *err)
{
	struct report r;
	struct stat st;
	char *def_out = NULL, *wpat = NULL;
	int rc = 0, fatal = 0, have_weights = 0;
	glob_t g;

	memset(&r, 0, sizeof(r));
	nidec_sbuf_init(&r.h);
	r.dir = results_dir;
	if (stat(results_dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EIO, "cannot read results directory '%s': %s; give the output "
				  "directory of 'nidec run' ([output] dir)", results_dir,
				  stat(results_dir, &st) != 0 ? strerror(errno) : "not a directory");
	load_summary(&r);
	load_tsv(&r, "scores.tsv", &r.scores, &r.have_scores, r.scores_why, sizeof(r.scores_why));
	load_tsv(&r, "grid_scores.tsv", &r.grid, &r.have_grid, r.grid_why, sizeof(r.grid_why));
	load_tsv(&r, "predictions.tsv", &r.preds, &r.have_preds, r.preds_why, sizeof(r.preds_why));
	wpat = join(results_dir, "weights_*.nii*");
	if (wpat && glob(wpat, 0, NULL, &g) == 0) {
		have_weights = g.gl_pathc > 0;
		globfree(&g);
	}
	nidec_free(wpat);
	if (!r.summary && !r.have_scores && !r.have_preds && !have_weights) {
		char *sp = join(results_dir, "summary.json");
		int has_summary_file = sp && file_exists(sp);
		nidec_free(sp);
		if (!has_summary_file) {
			rc = nidec_fail(err, NIDEC_EINPUT, "'%s' holds no nidec results (no summary.json, "
					"scores.tsv, predictions.tsv or weights_*.nii.gz); give the output directory "
					"of 'nidec run' or 'nidec cv'", results_dir);
			goto done;
		}
	}
	load_dataset(&r, dataset_path, &fatal, err);
	if (fatal < 0) {
		rc = fatal;
		goto done;
	}
	find_keys(&r);
	load_background(&r);
	load_mask(&r);
	page(&r);
	if (r.oom) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory writing the report of '%s'", results_dir);
		goto done;
	}
	if (!out_path) {
		def_out = join(results_dir, "report.html");
		if (!def_out) {
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
			goto done;
		}
		out_path = def_out;
	}
	rc = nidec_file_write(out_path, r.h.buf, r.h.len, err);
done:
	nidec_sbuf_release(&r.h);
	json_decref(r.summary);
	nidec_result_table_release(&r.scores);
	nidec_result_table_release(&r.grid);
	nidec_result_table_release(&r.preds);
	nidec_ds_close(&r.ds);
	strv_free(r.keys, r.n_keys);
	strv_free(r.classes, r.n_classes);
	nidec_free(r.bg_data);
	nidec_free(r.mask_data);
	nidec_canvas_destroy(&r.canvas);
	nidec_free(r.bold_path);
	nidec_free(r.mask_path);
	nidec_free(def_out);
	return rc;
}

int nidec_report_write(const char *results_dir, const char *dataset_path, nidec_err *err)
{
	return nidec_report_write_to(results_dir, dataset_path, NULL, err);
}
