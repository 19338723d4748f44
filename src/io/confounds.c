/*
 * confounds.c - one run's confound regressors from an fMRIPrep confounds
 * TSV (include/nidec/confounds.h): column selection by name, glob and
 * load_confounds preset, the n/a of the first row, demeaning, and the
 * checks that make a bad file fail with its name, column and fix.
 *
 * The presets follow nilearn's interfaces/fmriprep (load_confounds_components.py,
 * load_confounds_compcor.py, load_confounds_utils.py): the same columns,
 * the same first-row rule and the same demeaning.  Depends on base, the
 * table reader and jansson (the CompCor sidecar); no MPI, no HDF5.
 */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nidec/confounds.h"
#include "nidec/keyfile.h"
#include "nidec/mem.h"
#include "nidec/sbuf.h"
#include "nidec/suggest.h"
#include "nidec/table.h"

void nidec_confounds_release(nidec_confounds *c)
{
	if (!c)
		return;
	nidec_strv_free(c->names, c->k);
	nidec_free(c->values);
	memset(c, 0, sizeof(*c));
}

static const char *const presets[] = { "motion", "wm_csf", "global_signal", "compcor", "high_pass" };
static const char *const levels[] = { "basic", "derivatives", "power2", "full" };
static const char *const compcor_methods[] = { "anat_combined", "anat_separated", "temporal",
					       "temporal_anat_combined", "temporal_anat_separated" };

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static long index_of(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return (long)i;
	return -1;
}

/* "name[:a[:b]]" into its parts (copied into buf). */
static void split_item(const char *item, char *buf, size_t n, char **name, char **a, char **b)
{
	char *c;

	snprintf(buf, n, "%s", item);
	*name = buf;
	*a = *b = NULL;
	if ((c = strchr(buf, ':'))) {
		*c = '\0';
		*a = c + 1;
		if ((c = strchr(*a, ':'))) {
			*c = '\0';
			*b = c + 1;
		}
	}
}

static int bad_item(const char *item, const char *why, const char *const *choices, size_t n_choices,
		    const char *typed, nidec_err *err)
{
	nidec_suggestion s = NIDEC_SUGGESTION_INIT;
	size_t i;

	for (i = 0; typed && i < n_choices; i++)
		nidec_suggest_add(&s, typed, choices[i], 0, (long)i);
	return nidec_fail(err, NIDEC_EINPUT,
			  "[clean] confounds_strategy: '%s': %s%s%s%s; presets are motion[:basic|derivatives|power2|full], wm_csf[:level], global_signal[:level], compcor[:anat_combined|anat_separated|temporal|temporal_anat_combined|temporal_anat_separated][:N|all], high_pass",
			  item, why, s.index >= 0 ? " (did you mean '" : "", s.index >= 0 ? choices[s.index] : "",
			  s.index >= 0 ? "'?)" : "");
}

int nidec_confounds_check_strategy(char *const *strategy, size_t n, nidec_err *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char buf[256], *name, *a, *b;
		long p;
		split_item(strategy[i], buf, sizeof(buf), &name, &a, &b);
		p = index_of(presets, N_OF(presets), name);
		if (p < 0)
			return bad_item(strategy[i], "no such preset", presets, N_OF(presets), name, err);
		if (p <= 2) {
			if (b || (a && index_of(levels, N_OF(levels), a) < 0))
				return bad_item(strategy[i], "the level must be basic, derivatives, power2 or full",
						levels, N_OF(levels), b ? NULL : a, err);
		} else if (p == 3) {
			if (a && index_of(compcor_methods, N_OF(compcor_methods), a) < 0)
				return bad_item(strategy[i], "no such CompCor method", compcor_methods,
						N_OF(compcor_methods), a, err);
			if (b && strcmp(b, "all")) {
				char *end;
				long v = strtol(b, &end, 10);
				if (end == b || *end || v < 1)
					return bad_item(strategy[i], "the number of components must be 'all' or a whole number >= 1",
							NULL, 0, NULL, err);
			}
		} else if (a) {
			return bad_item(strategy[i], "high_pass takes no level", NULL, 0, NULL, err);
		}
	}
	return 0;
}

/* ---- selection ------------------------------------------------------------- */

struct sel {
	long *col;     /* table columns chosen, in order */
	size_t n, cap;
};

static int sel_add(struct sel *s, long c, nidec_err *err)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->col[i] == c)
			return 0;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 32;
		long *nc = nidec_realloc(s->col, ncap * sizeof(*nc));
		if (!nc)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory selecting confounds");
		s->col = nc;
		s->cap = ncap;
	}
	s->col[s->n++] = c;
	return 0;
}

/* The columns of a preset (missing ones listed in *missing). */
static int add_named(const nidec_table *t, const char *const *names, size_t n, struct sel *s,
		     const char *item, nidec_err *err)
{
	nidec_sbuf miss = NIDEC_SBUF_INIT;
	size_t i, n_miss = 0;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (nidec_table_col(t, names[i]) < 0) {
			nidec_sbuf_addf(&miss, "%s%s", n_miss ? ", " : "", names[i]);
			n_miss++;
		}
	if (n_miss) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"confounds '%s': [clean] confounds_strategy '%s' needs the column%s %s, which %s not there; remove the preset or use an fMRIPrep output that has them",
				t->path, item, n_miss == 1 ? "" : "s", miss.buf, n_miss == 1 ? "is" : "are");
		nidec_sbuf_release(&miss);
		return rc;
	}
	nidec_sbuf_release(&miss);
	for (i = 0; i < n; i++)
		NIDEC_TRY(sel_add(s, nidec_table_col(t, names[i]), err));
	return 0;
}

/* load_confounds' _add_suffix: the base names, then each one's suffixes. */
static int add_with_suffixes(const nidec_table *t, const char *const *base, size_t nb,
			     const char *level, struct sel *s, const char *item, nidec_err *err)
{
	static const char *const deriv[] = { "derivative1" }, *const pow2[] = { "power2" },
			  *const full[] = { "derivative1", "power2", "derivative1_power2" };
	const char *const *suf = NULL;
	char names[32][64];
	const char *ptr[32];
	size_t ns = 0, n = 0, i, j;

	if (!strcmp(level, "derivatives")) {
		suf = deriv;
		ns = 1;
	} else if (!strcmp(level, "power2")) {
		suf = pow2;
		ns = 1;
	} else if (!strcmp(level, "full")) {
		suf = full;
		ns = 3;
	}
	for (i = 0; i < nb; i++)
		snprintf(names[n++], sizeof(names[0]), "%s", base[i]);
	for (i = 0; i < nb; i++)
		for (j = 0; j < ns; j++)
			snprintf(names[n++], sizeof(names[0]), "%s_%s", base[i], suf[j]);
	for (i = 0; i < n; i++)
		ptr[i] = names[i];
	return add_named(t, ptr, n, s, item, err);
}

/* nilearn's _find_compcor over the confounds JSON sidecar. */
static int add_compcor(const nidec_table *t, const char *tsv, const char *method, const char *ncomp,
		       struct sel *s, const char *item, nidec_err *err)
{
	char json_path[4096], type[64], prefixes[2] = { 0, 0 };
	const char *mask_kind = NULL, *us;
	json_t *root = NULL;
	json_error_t je;
	long n_keep = -1;
	size_t len = strlen(tsv), np = 0, pi;
	int rc = 0;

	if (len < 4 || strcmp(tsv + len - 4, ".tsv") ||
	    (size_t)snprintf(json_path, sizeof(json_path), "%.*s.json", (int)(len - 4), tsv) >= sizeof(json_path))
		return nidec_fail(err, NIDEC_EINPUT, "confounds '%s': not a .tsv file; compcor needs its JSON sidecar",
				  tsv);
	if (ncomp && strcmp(ncomp, "all"))
		n_keep = strtol(ncomp, NULL, 10);
	us = strrchr(method, '_');
	if (us) {
		snprintf(type, sizeof(type), "%.*s", (int)(us - method), method);
		mask_kind = us + 1;
	} else {
		snprintf(type, sizeof(type), "%s", method);
	}
	if (!strcmp(type, "temporal_anat")) {
		prefixes[0] = 't';
		prefixes[1] = 'a';
		np = 2;
	} else if (!strcmp(type, "temporal")) {
		prefixes[0] = 't';
		np = 1;
	} else {
		prefixes[0] = 'a';
		np = 1;
	}
	root = json_load_file(json_path, 0, &je);
	if (!root)
		return nidec_fail(err, NIDEC_EINPUT,
				  "confounds '%s': [clean] confounds_strategy '%s' needs the JSON sidecar '%s' (fMRIPrep >= 1.4 writes it): %s",
				  tsv, item, json_path, je.text);
	for (pi = 0; pi < np && rc == 0; pi++) {
		char key[64], want[16];
		const char *k;
		json_t *v;
		size_t count = 0, c;
		snprintf(want, sizeof(want), "%c_comp_cor", prefixes[pi]);
		json_object_foreach(root, k, v)
			count += strstr(k, want) != NULL;
		if (prefixes[pi] == 't' || !mask_kind) {
			for (c = 0; c < count && (n_keep < 0 || (long)c < n_keep) && rc == 0; c++) {
				long col;
				snprintf(key, sizeof(key), "%s_%02zu", want, c);
				if ((col = nidec_table_col(t, key)) < 0)
					rc = nidec_fail(err, NIDEC_EINPUT,
							"confounds '%s': the JSON sidecar lists '%s' but the TSV has no such column; write the confounds again",
							tsv, key);
				else
					rc = sel_add(s, col, err);
			}
		} else {
			const char *masks[2];
			size_t nm, m;
			if (!strcmp(mask_kind, "separated")) {
				masks[0] = "WM";
				masks[1] = "CSF";
				nm = 2;
			} else {
				masks[0] = "combined";
				nm = 1;
			}
			for (m = 0; m < nm && rc == 0; m++) {
				long kept = 0;
				for (c = 0; c < count && (n_keep < 0 || kept < n_keep) && rc == 0; c++) {
					json_t *e, *mk;
					long col;
					snprintf(key, sizeof(key), "%s_%02zu", want, c);
					e = json_object_get(root, key);
					mk = e ? json_object_get(e, "Mask") : NULL;
					if (!mk || !json_is_string(mk) || strcmp(json_string_value(mk), masks[m]))
						continue;
					if ((col = nidec_table_col(t, key)) < 0) {
						rc = nidec_fail(err, NIDEC_EINPUT,
								"confounds '%s': the JSON sidecar lists '%s' but the TSV has no such column; write the confounds again",
								tsv, key);
						break;
					}
					rc = sel_add(s, col, err);
					kept++;
				}
			}
		}
	}
	json_decref(root);
	return rc;
}

static int add_strategy(const nidec_table *t, const char *tsv, const char *item, struct sel *s,
			nidec_err *err)
{
	static const char *const motion[] = { "trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z" };
	static const char *const wm_csf[] = { "csf", "white_matter" };
	static const char *const gs[] = { "global_signal" };
	char buf[256], *name, *a, *b;
	size_t c;

	split_item(item, buf, sizeof(buf), &name, &a, &b);
	if (!strcmp(name, "motion"))
		return add_with_suffixes(t, motion, 6, a ? a : "full", s, item, err);
	if (!strcmp(name, "wm_csf"))
		return add_with_suffixes(t, wm_csf, 2, a ? a : "basic", s, item, err);
	if (!strcmp(name, "global_signal"))
		return add_with_suffixes(t, gs, 1, a ? a : "basic", s, item, err);
	if (!strcmp(name, "compcor"))
		return add_compcor(t, tsv, a ? a : "anat_combined", b, s, item, err);
	/* high_pass: every column with "cosine" in its name (none: nothing) */
	for (c = 0; c < t->n_cols; c++)
		if (strstr(t->cols[c], "cosine"))
			NIDEC_TRY(sel_add(s, (long)c, err));
	return 0;
}

static int add_column(const nidec_table *t, const char *pat, struct sel *s, nidec_err *err)
{
	size_t c, hit = 0;
	char cols[600];
	const char *sug;

	if (strpbrk(pat, "*?[")) {
		for (c = 0; c < t->n_cols; c++)
			if (fnmatch(pat, t->cols[c], 0) == 0) {
				NIDEC_TRY(sel_add(s, (long)c, err));
				hit++;
			}
		if (hit)
			return 0;
		nidec_table_columns_text(t, cols, sizeof(cols));
		return nidec_fail(err, NIDEC_EINPUT,
				  "confounds '%s': [clean] confounds '%s' matches no column (the header has: %s); fix the pattern",
				  t->path, pat, cols);
	}
	if ((c = (size_t)nidec_table_col(t, pat)) != (size_t)-1)
		return sel_add(s, (long)c, err);
	sug = nidec_table_suggest(t, pat);
	return nidec_fail(err, NIDEC_EINPUT,
			  "confounds '%s': no column '%s'%s%s%s; fix [clean] confounds (names and globs of the TSV's header)",
			  t->path, pat, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
}

static int parse_value(const char *s, double *v)
{
	char *end;

	if (!s[0] || !strcmp(s, "n/a") || !strcmp(s, "NaN") || !strcmp(s, "nan") || !strcmp(s, "NA")) {
		*v = NAN;
		return 0;
	}
	errno = 0;
	*v = strtod(s, &end);
	return end == s || *end || errno == ERANGE ? -1 : 0;
}

int nidec_confounds_load(const char *tsv, const char *bold, size_t n_volumes,
			 char *const *columns, size_t n_columns,
			 char *const *strategy, size_t n_strategy,
			 nidec_confounds *out, nidec_err *err)
{
	nidec_table t = NIDEC_TABLE_INIT;
	nidec_confounds c = NIDEC_CONFOUNDS_INIT;
	struct sel s = { NULL, 0, 0 };
	size_t i, j, n;
	int rc = 0;

	NIDEC_TRY(nidec_confounds_check_strategy(strategy, n_strategy, err));
	NIDEC_TRY(nidec_table_read(tsv, "confounds", &t, err));
	n = t.n_rows;
	if (n != n_volumes) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"confounds '%s' has %zu rows but '%s' has %zu volumes; give the confounds TSV of that run (one row per volume)",
				tsv, n, bold, n_volumes);
		goto done;
	}
	for (i = 0; i < n_strategy; i++)
		NIDEC_TRY_GOTO(rc, add_strategy(&t, tsv, strategy[i], &s, err), done);
	for (i = 0; i < n_columns; i++)
		NIDEC_TRY_GOTO(rc, add_column(&t, columns[i], &s, err), done);
	c.n = n;
	c.k = s.n;
	c.names = nidec_calloc_e(s.n ? s.n : 1, sizeof(char *), "confound names", err);
	c.values = nidec_malloc_e(n * (s.n ? s.n : 1), sizeof(double), "the confounds", err);
	if (!c.names || !c.values) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (j = 0; j < s.n; j++) {
		const char *name = t.cols[s.col[j]];
		double m = 0, first;
		int constant = 1;
		if (!(c.names[j] = nidec_strdup_e(name, err))) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		for (i = 0; i < n; i++) {
			const char *cell = nidec_table_cell(&t, i, (size_t)s.col[j]);
			double v;
			if (parse_value(cell, &v) < 0 || isinf(v)) {
				rc = nidec_fail(err, NIDEC_EINPUT,
						"confounds '%s' line %zu, column '%s': '%s' is not a number; fix the file",
						tsv, t.lineno[i], name, cell);
				goto done;
			}
			if (isnan(v) && i > 0) {
				rc = nidec_fail(err, NIDEC_EINPUT,
						"confounds '%s' line %zu, column '%s': n/a after the first row; only fMRIPrep's first row of derivatives may be n/a (it takes the second row's value); fill the gap or drop the column",
						tsv, t.lineno[i], name);
				goto done;
			}
			c.values[i * s.n + j] = v;
		}
		/* load_confounds: a first row of n/a takes the second row's value */
		if (isnan(c.values[j])) {
			if (n < 2) {
				rc = nidec_fail(err, NIDEC_EINPUT, "confounds '%s', column '%s': n/a in the only row", tsv, name);
				goto done;
			}
			c.values[j] = c.values[s.n + j];
		}
		first = c.values[j];
		for (i = 0; i < n; i++) {
			constant &= c.values[i * s.n + j] == first;
			m += c.values[i * s.n + j];
		}
		if (constant) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"confounds '%s', column '%s' is constant (%g in every row): it removes nothing but the mean; drop it from [clean] confounds or confounds_strategy",
					tsv, name, first);
			goto done;
		}
		m /= (double)n;
		for (i = 0; i < n; i++)
			c.values[i * s.n + j] -= m;
	}
	*out = c;
	memset(&c, 0, sizeof(c));
done:
	nidec_confounds_release(&c);
	nidec_free(s.col);
	nidec_table_release(&t);
	return rc;
}
