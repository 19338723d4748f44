/*
 * report_common.c - what the pages of report.html share (report_int.h):
 * small helpers, the loaders of a results directory (summary.json, the
 * TSV tables, the dataset, the mean EPI and the mask), the figures, the
 * sections every page ends with (dataset, mean EPI and mask, inputs and
 * provenance, timings, appendix), the head with its CSS and
 * Content-Security-Policy, the footer, and the page's write.
 *
 * Rules (report.h): result files are read, never recomputed; a loader
 * that cannot read its file records why (the section then says "not
 * available") and logs a warning, it never fails the page; the page loads
 * nothing (PNG data: URIs, inline SVG and CSS, a Content-Security-Policy
 * without any source) and runs no script.  Depends on base, io (nii,
 * dataset, hash, resultdir), png/plot/svg of this directory and jansson;
 * no MPI.
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
#include "nidec/resultdir.h"
#include "nidec/sbuf.h"
#include "report_int.h"

/* ---- small helpers ------------------------------------------------------ */

int nidec_rep_file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

double nidec_rep_num(const char *s)
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
char *nidec_rep_join(const char *dir, const char *name)
{
	char buf[NIDEC_PATH_MAX];

	if (nidec_file_join(buf, sizeof(buf), dir, name, NULL) < 0)
		return NULL;
	return nidec_strdup(buf);
}

const char *nidec_rep_jstr(const json_t *o, const char *key)
{
	const json_t *v = o ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

double nidec_rep_jnum(const json_t *o, const char *key)
{
	const json_t *v = o ? json_object_get(o, key) : NULL;
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Value of `key` in [section] of an INI text (the config summary.json
 * carries), in a new string, or NULL. */
char *nidec_rep_ini_value(const char *ini, const char *section, const char *key)
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
void nidec_rep_set_msg(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}


/* ---- page pieces and loaders --------------------------------------------- */

void nidec_rep_not_available(struct report *r, const char *why)
{
	ADDS(r, "<p class=\"na\">not available: ");
	ESC(r, why);
	ADDS(r, "</p>\n");
}

void nidec_rep_strv_add(char ***v, size_t *n, const char *s, int *oom)
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

void nidec_rep_strv_free(char **v, size_t n)
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
void nidec_rep_load_tsv(struct report *r, const char *name, nidec_result_table *t, int *have,
			char *why, size_t n)
{
	nidec_err e = NIDEC_ERR_INIT;
	char *path = nidec_rep_join(r->dir, name);

	if (!path) {
		r->oom = 1;
		return;
	}
	if (!nidec_rep_file_exists(path)) {
		snprintf(why, n, "'%s' is not in the results directory", name);
	} else if (nidec_resultdir_read_table(path, t, &e) < 0) {
		nidec_rep_set_msg(why, n, e.msg);
		nidec_warn("report: %s", e.msg);
	} else {
		*have = 1;
	}
	nidec_free(path);
}

void nidec_rep_load_summary(struct report *r)
{
	nidec_err e = NIDEC_ERR_INIT;

	if (nidec_resultdir_read_summary(r->dir, NIDEC_FILE_MISSING_OK, &r->summary, &e) < 0) {
		nidec_rep_set_msg(r->summary_why, sizeof(r->summary_why), e.msg);
		nidec_warn("report: cannot read %s", r->summary_why);
		r->summary = NULL;
	} else if (!r->summary) {
		snprintf(r->summary_why, sizeof(r->summary_why), "'summary.json' is not in the results directory");
	}
	r->config = nidec_rep_jstr(r->summary, "config");
}

void nidec_rep_load_dataset(struct report *r, const char *given, int *fatal, nidec_err *err)
{
	nidec_err e = NIDEC_ERR_INIT;
	const char *prov = nidec_rep_jstr(json_object_get(r->summary, "provenance"), "dataset");
	char *def = NULL, *cfgds = r->config ? nidec_rep_ini_value(r->config, "data", "dataset") : NULL;
	const char *path = given;

	if (!path && prov && *prov && nidec_rep_file_exists(prov))
		path = prov;
	if (prov && !*prov)
		prov = NULL;
	if (!path && cfgds && *cfgds && nidec_rep_file_exists(cfgds))
		path = cfgds;
	if (!path) {
		def = nidec_rep_join(r->dir, "dataset.h5");
		if (def && nidec_rep_file_exists(def))
			path = def;
	}
	if (!path) {
		def = def ? def : nidec_rep_join(r->dir, "dataset.h5");
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
			nidec_rep_set_msg(r->ds_why, sizeof(r->ds_why), e.msg);
			nidec_warn("report: %s", e.msg);
		}
	}
	nidec_free(def);
	nidec_free(cfgds);
}

/* Keys (weight maps, score series) and classes, from summary.json, else from
 * the tables, else from the weight files. */

void nidec_rep_find_classes(struct report *r)
{
	const json_t *a = json_object_get(r->summary, "classes");
	size_t i;
	int c;

	for (i = 0; json_is_array(a) && i < json_array_size(a); i++)
		if (json_is_string(json_array_get(a, i)))
			nidec_rep_strv_add(&r->classes, &r->n_classes, json_string_value(json_array_get(a, i)), &r->oom);
	if (!r->n_classes && r->have_preds && (c = nidec_result_table_col(&r->preds, "true")) >= 0) {
		for (i = 0; i < r->preds.n_rows; i++)
			nidec_rep_strv_add(&r->classes, &r->n_classes, nidec_result_table_at(&r->preds, i, c), &r->oom);
		qsort(r->classes, r->n_classes, sizeof(*r->classes), cmp_str);
	}
}

/* ---- the background and the mask ---------------------------------------- */

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
		if (!strcmp(in[i].role, "bold") && nidec_rep_file_exists(in[i].path))
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
void nidec_rep_load_background(struct report *r)
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
		r->bold_path = nidec_rep_ini_value(r->config, "data", "bold");
	if (r->bold_path && *r->bold_path) {
		if (bold_from_config(r, &e) == 0)
			return;
		nidec_rep_set_msg(r->bg_why, sizeof(r->bg_why), e.msg);
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

void nidec_rep_load_mask(struct report *r)
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
		r->mask_path = nidec_rep_ini_value(r->config, "data", "mask");
	if (!r->mask_path || !*r->mask_path) {
		snprintf(r->mask_why, sizeof(r->mask_why), "neither the dataset nor the mask file is known");
		return;
	}
	if (nidec_plot_load(r->mask_path, 3, -1, "mask", &r->mask, &r->mask_data, &e) < 0) {
		nidec_rep_set_msg(r->mask_why, sizeof(r->mask_why), e.msg);
		nidec_warn("report: %s", e.msg);
		return;
	}
	r->have_mask = 1;
	snprintf(r->mask_what, sizeof(r->mask_what), "'%s'", r->mask_path);
}

/* ---- figures ------------------------------------------------------------ */

void nidec_rep_add_figure(struct report *r, nidec_canvas *cv, const char *alt, const char *caption)
{
	nidec_err e = NIDEC_ERR_INIT;
	unsigned char *png = NULL;
	size_t len = 0;

	if (nidec_png_encode(cv, &png, &len, &e) < 0) {
		nidec_rep_not_available(r, e.msg);
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

void nidec_rep_plot_figure(struct report *r, const nidec_plot_opts *o, const nidec_vol *img,
			const nidec_vol *bg, const char *alt, const char *caption)
{
	nidec_err e = NIDEC_ERR_INIT;

	/* one canvas for every figure of the page (nidec_plot_render_reuse) */
	if (nidec_plot_render_reuse(o, img, bg, &r->canvas, &e) < 0) {
		nidec_rep_not_available(r, e.msg);
		nidec_warn("report: %s", e.msg);
		return;
	}
	nidec_rep_add_figure(r, r->canvas, alt, caption);
}


/* ---- sections every page shares ----------------------------------------- */

void nidec_rep_kv_row(struct report *r, const char *k, const char *v)
{
	ADDS(r, "<tr><th>");
	ESC(r, k);
	ADDS(r, "</th><td class=\"l\">");
	ESC(r, v);
	ADDS(r, "</td></tr>\n");
}

void nidec_rep_json_scalar_text(const json_t *v, char *buf, size_t n)
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
			nidec_rep_json_scalar_text(json_array_get(v, i), one, sizeof(one));
			used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", one);
			if (used >= n)
				break;
		}
	} else
		snprintf(buf, n, "(object)");
}

void nidec_rep_section_provenance(struct report *r)
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
		nidec_rep_not_available(r, r->summary_why);
	} else {
		ADDS(r, "<table class=\"kv\">\n");
		if (r->config)
			for (i = 0; i < sizeof(input_keys) / sizeof(input_keys[0]); i++) {
				char *val = nidec_rep_ini_value(r->config, "data", input_keys[i]);
				if (val && *val) {
					snprintf(buf, sizeof(buf), "input: %s", input_keys[i]);
					nidec_rep_kv_row(r, buf, val);
				}
				nidec_free(val);
			}
		json_object_foreach((json_t *)prov, k, v) {
			nidec_rep_json_scalar_text(v, buf, sizeof(buf));
			nidec_rep_kv_row(r, k, buf);
		}
		for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
			if ((v = json_object_get(r->summary, top[i]))) {
				nidec_rep_json_scalar_text(v, buf, sizeof(buf));
				nidec_rep_kv_row(r, top[i], buf);
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
			nidec_rep_not_available(r, e.msg);
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
		nidec_rep_kv_row(r, "dataset file", r->ds->path ? r->ds->path : "?");
		if (r->ds->inputs_sha256)
			nidec_rep_kv_row(r, "reuse key (SHA-256 over the inputs)", r->ds->inputs_sha256);
		for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
			char *val = NULL;
			nidec_err_clear(&e);
			if (nidec_ds_attr(r->ds, attrs[i], &val, &e) == 0 && val && *val) {
				char key[64];
				snprintf(key, sizeof(key), "dataset %s", attrs[i]);
				nidec_rep_kv_row(r, key, val);
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

/* The full configuration and the files of the directory. */
void nidec_rep_section_appendix(struct report *r)
{
	size_t i;

	ADDS(r, "<section id=\"appendix\"><h2>Appendix: configuration and files</h2>\n");
	{
		glob_t g;
		char *pat = nidec_rep_join(r->dir, "*");
		ADDS(r, "<h3>Files in the ");
		ESC(r, r->dir_what);
		ADDS(r, "</h3>\n");
		if (pat && glob(pat, 0, NULL, &g) == 0) {
			ADDS(r, "<div class=\"wide\"><table><tr><th>file</th><th>bytes</th><th class=\"l\">SHA-256</th></tr>\n");
			for (i = 0; i < g.gl_pathc; i++) {
				const char *b = strrchr(g.gl_pathv[i], '/');
				char hex[NIDEC_SHA256_HEX];
				int64_t size = 0;
				nidec_err e = NIDEC_ERR_INIT;
				b = b ? b + 1 : g.gl_pathv[i];
				if (!nidec_rep_file_exists(g.gl_pathv[i]) || !strncmp(b, "report.html", 11) ||
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
			char why[256];
			snprintf(why, sizeof(why), "the %s cannot be listed", r->dir_what);
			nidec_rep_not_available(r, why);
		}
		nidec_free(pat);
	}
	ADDS(r, "<h3>Configuration</h3>\n");
	if (r->config) {
		ADDS(r, "<pre class=\"config\">");
		ESC(r, r->config);
		ADDS(r, "</pre>\n");
	} else {
		nidec_rep_not_available(r, r->summary ? "summary.json has no config" : r->summary_why);
	}
	ADDS(r, "</section>\n");
}

void nidec_rep_section_dataset(struct report *r)
{
	char **conds = NULL;
	size_t n_conds = 0, i, j, s, n_runs = 0, total = 0, *count = NULL, n_rows;
	int *runs = NULL, c_run = -1, c_true = -1, c_label, c_ses;
	int from_ds = r->ds != NULL;

	ADDS(r, "<section id=\"dataset\"><h2>Dataset</h2>\n");
	if (!from_ds && !r->have_preds) {
		nidec_rep_not_available(r, r->ds_why[0] ? r->ds_why : "no dataset");
		ADDS(r, "</section>\n");
		return;
	}
	if (from_ds) {
		n_rows = r->ds->n_samples;
		for (i = 0; i < r->ds->n_conditions; i++)
			nidec_rep_strv_add(&conds, &n_conds, r->ds->conditions[i], &r->oom);
	} else {
		c_run = nidec_result_table_col(&r->preds, "run");
		c_true = nidec_result_table_col(&r->preds, "true");
		n_rows = r->preds.n_rows;
		for (i = 0; i < r->n_classes; i++)
			nidec_rep_strv_add(&conds, &n_conds, r->classes[i], &r->oom);
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
					nidec_rep_kv_row(r, line, colon + 2);
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
	nidec_rep_strv_free(conds, n_conds);
	nidec_free(runs);
	nidec_free(count);
}

void nidec_rep_section_images(struct report *r)
{
	nidec_plot_opts o = NIDEC_PLOT_OPTS_INIT;
	char cap[2500];

	ADDS(r, "<section id=\"images\"><h2>Mean EPI and mask</h2>\n");
	if (r->have_bg) {
		o.kind = NIDEC_PLOT_EPI;
		o.title = "mean EPI";
		snprintf(cap, sizeof(cap), "Background: %s; grey scale from the 2nd to the 98th percentile.",
			 r->bg_what);
		nidec_rep_plot_figure(r, &o, &r->bg, NULL, "mean EPI", cap);
	} else {
		nidec_rep_not_available(r, r->bg_why);
	}
	if (r->have_mask) {
		o.kind = NIDEC_PLOT_ROI;
		o.title = "mask";
		snprintf(cap, sizeof(cap), "Mask: %s%s.", r->mask_what,
			 r->have_bg ? ", over the mean EPI" : "");
		nidec_rep_plot_figure(r, &o, &r->mask, r->have_bg ? &r->bg : NULL, "mask over the mean EPI", cap);
	} else {
		nidec_rep_not_available(r, r->mask_why[0] ? r->mask_why : "the mask is unknown");
	}
	ADDS(r, "</section>\n");
}


void nidec_rep_section_timing(struct report *r)
{
	const json_t *t = json_object_get(r->summary, "timing");
	const json_t *stages = json_object_get(t, "stages"), *ranks = json_object_get(t, "ranks"), *v;
	const char *k;
	size_t i;

	ADDS(r, "<section id=\"timing\"><h2>Timings</h2>\n");
	if (!json_is_object(t)) {
		nidec_rep_not_available(r, r->summary ? "summary.json has no timings (run with --timing)" : r->summary_why);
		ADDS(r, "</section>\n");
		return;
	}
	if (isfinite(nidec_rep_jnum(t, "wall_seconds")))
		ADD(r, "<p>Cross-validation wall time %.3f s", nidec_rep_jnum(t, "wall_seconds"));
	if (isfinite(nidec_rep_jnum(t, "parallel_efficiency")))
		ADD(r, ", parallel efficiency %.0f%%", 100 * nidec_rep_jnum(t, "parallel_efficiency"));
	ADDS(r, ".</p>\n");
	if (json_is_object(stages)) {
		ADDS(r, "<table><tr><th>stage</th><th>min (s)</th><th>mean (s)</th><th>max (s)</th>"
			"<th>max / min</th></tr>\n");
		json_object_foreach((json_t *)stages, k, v) {
			double mn = nidec_rep_jnum(v, "min"), me = nidec_rep_jnum(v, "mean"), mx = nidec_rep_jnum(v, "max");
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
			ADD(r, "<tr><td>%.0f</td><td>%.3f</td><td>%.0f</td></tr>\n", nidec_rep_jnum(e, "rank"),
			    nidec_rep_jnum(e, "busy_seconds"), nidec_rep_jnum(e, "tasks"));
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
	".err{color:#c0392b}\n"
	".cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}\n"
	".card{border:1px solid #d0d7de;border-radius:6px;padding:.5em 1em;min-width:10em}\n"
	".card .big{font-size:1.8em;font-weight:700;color:#1f77b4}.card .mid{font-size:1.15em;"
	"font-weight:600}\n"
	"figure{display:inline-block;margin:.3em 1em .8em 0;vertical-align:top;max-width:100%}\n"
	"img.brain{max-width:100%;height:auto;background:#000;border-radius:3px}\n"
	"figcaption{font-size:.85em;color:#555;max-width:560px}\n"
	".pair{display:flex;flex-wrap:wrap;gap:1em}.pair figure{flex:1 1 420px;margin:0 0 .8em;"
	"max-width:600px}.pair img.brain{width:100%}\n"
	".triple{display:flex;flex-wrap:wrap;gap:1em}.triple figure{flex:1 1 300px;margin:0 0 .8em;"
	"max-width:400px}.triple img.brain{width:100%}\n"
	"svg.chart{max-width:100%;height:auto;font-family:inherit}\n"
	"svg .tick{font-size:11px;fill:#333}svg .axis{font-size:12px;fill:#222}"
	"svg .legend{font-size:12px;fill:#222}\n"
	"footer{margin-top:2em;color:#777;font-size:.85em}\n"
	"nav.toc{font-size:.9em;margin:.2em 0 1em}nav.toc a{color:#1f77b4;text-decoration:none}\n"
	"@media print{nav.toc{display:none}body{max-width:none;margin:0;font-size:11pt}section{break-inside:avoid-page}"
	"h2{break-after:avoid}figure,table,svg{break-inside:avoid}.wide{overflow:visible}"
	"img.brain{max-width:48%}}\n";

/* ---- the page ----------------------------------------------------------- */

void nidec_rep_init(struct report *r, const char *dir)
{
	memset(r, 0, sizeof(*r));
	nidec_sbuf_init(&r->h);
	r->dir = dir;
	r->dir_what = "results directory";
}

void nidec_rep_release(struct report *r)
{
	const char *dir = r->dir;

	nidec_sbuf_release(&r->h);
	json_decref(r->summary);
	nidec_result_table_release(&r->scores);
	nidec_result_table_release(&r->grid);
	nidec_result_table_release(&r->preds);
	nidec_ds_close(&r->ds);
	nidec_rep_strv_free(r->keys, r->n_keys);
	nidec_rep_strv_free(r->classes, r->n_classes);
	nidec_free(r->bg_data);
	nidec_free(r->mask_data);
	nidec_canvas_destroy(&r->canvas);
	nidec_free(r->bold_path);
	nidec_free(r->mask_path);
	nidec_rep_init(r, dir);
}

void nidec_rep_page_begin(struct report *r, const char *heading, const char *dir_label,
			  const char *version)
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
	ADDS(r, "</style>\n</head>\n<body>\n<header><h1>");
	ESC(r, heading);
	if (r->n_classes) {
		ADDS(r, ": ");
		for (i = 0; i < r->n_classes; i++) {
			ESC(r, r->classes[i]);
			if (i + 1 < r->n_classes)
				ADDS(r, " vs ");
		}
	}
	ADDS(r, "</h1>\n<p class=\"sub\">");
	ESC(r, dir_label);
	ADDS(r, " <code>");
	ESC(r, r->dir);
	ADDS(r, "</code>");
	if (version) {
		ADDS(r, ", nidec ");
		ESC(r, version);
	}
	ADDS(r, "</p>\n</header>\n");
}

void nidec_rep_page_end(struct report *r)
{
	ADDS(r, "<footer>Written by <code>nidec report</code> from the files above only; nothing was "
		"recomputed.  Figures: neurological convention (the subject's left on the left).</footer>\n"
		"</body>\n</html>\n");
}

int nidec_rep_save(struct report *r, const char *out_path, nidec_err *err)
{
	char *def = NULL;
	int rc;

	if (r->oom)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory writing the report of '%s'", r->dir);
	if (!out_path) {
		def = nidec_rep_join(r->dir, "report.html");
		if (!def)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
		out_path = def;
	}
	rc = nidec_file_write(out_path, r->h.buf, r->h.len, err);
	nidec_free(def);
	return rc;
}
