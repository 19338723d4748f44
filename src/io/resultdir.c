/*
 * resultdir.c - the one reader of a results directory (see
 * include/nidec/resultdir.h): TSV tables, summary.json and its scores,
 * null_scores.tsv.  `nidec report` and a sweep's group statistics each had
 * their own reader of these files (a whole-file reader and a TSV splitter
 * in report.c, another whole-file reader, a strtok parser of
 * null_scores.tsv and a summary.json walker in sweep_group.c); this is
 * what is left of them.  The writers are results.c.
 *
 * Files are read whole (nidec_file_read) and split in place: a table is
 * its text plus one array of pointers into it.  Numbers are parsed with
 * strtod, as written by nidec_sbuf_add_double ("%.17g", "nan").
 * Depends on base and jansson; no MPI, no HDF5.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/cfg.h"
#include "nidec/file.h"
#include "nidec/mem.h"
#include "nidec/resultdir.h"

/* ---- tables ---------------------------------------------------------------- */

void nidec_result_table_release(nidec_result_table *t)
{
	if (!t)
		return;
	nidec_free(t->text);
	nidec_free(t->cell);
	memset(t, 0, sizeof(*t));
}

/* The table reader; with NIDEC_FILE_MISSING_OK a missing file leaves *t
 * empty (text NULL) and returns 0. */
static int table_read(const char *path, unsigned flags, nidec_result_table *t, nidec_err *err)
{
	nidec_result_table r = NIDEC_RESULT_TABLE_INIT;
	size_t len, i, lines = 0, c, row;
	char *p, *line;
	int rc = 0;

	NIDEC_TRY(nidec_file_read(path, NIDEC_RESULTDIR_READ_MAX, flags, &r.text, &len, err));
	if (!r.text) {
		*t = r;
		return 0;
	}
	for (i = 0; i < len; i++)
		lines += r.text[i] == '\n';
	if (len && r.text[len - 1] != '\n')
		lines++;
	if (lines == 0) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s' is empty; it should start with a header line", path);
		goto fail;
	}
	r.n_cols = 1;
	for (p = r.text; *p && *p != '\n'; p++)
		r.n_cols += *p == '\t';
	r.cell = nidec_calloc_e(lines * r.n_cols, sizeof(*r.cell), "a table", err);
	if (!r.cell) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	row = 0;
	for (line = r.text; *line; row++) {
		char *end = strchr(line, '\n'), *next = end ? end + 1 : line + strlen(line);
		if (end) {
			*end = '\0';
			if (end > line && end[-1] == '\r')
				end[-1] = '\0';
		}
		if (!*line && !*next)
			break; /* a final empty line */
		for (c = 0, p = line; c < r.n_cols; c++) {
			char *tab = strchr(p, '\t');
			r.cell[row * r.n_cols + c] = p;
			if (!tab && c + 1 < r.n_cols) {
				rc = nidec_fail(err, NIDEC_EFORMAT, "'%s' line %zu has %zu columns, the header %zu",
						path, row + 1, c + 1, r.n_cols);
				goto fail;
			}
			if (tab) {
				if (c + 1 == r.n_cols) {
					rc = nidec_fail(err, NIDEC_EFORMAT, "'%s' line %zu has more columns "
							"than the header (%zu)", path, row + 1, r.n_cols);
					goto fail;
				}
				*tab = '\0';
				p = tab + 1;
			}
		}
		line = next;
	}
	r.n_rows = row ? row - 1 : 0;
	*t = r;
	return 0;
fail:
	nidec_result_table_release(&r);
	return rc;
}

int nidec_resultdir_read_table(const char *path, nidec_result_table *t, nidec_err *err)
{
	return table_read(path, 0, t, err);
}

int nidec_result_table_col(const nidec_result_table *t, const char *name)
{
	size_t c;

	for (c = 0; c < t->n_cols; c++)
		if (!strcmp(t->cell[c], name))
			return (int)c;
	return -1;
}

const char *nidec_result_table_at(const nidec_result_table *t, size_t row, int col)
{
	return col < 0 ? "" : t->cell[(row + 1) * t->n_cols + (size_t)col];
}

/* ---- summary.json ------------------------------------------------------------ */

int nidec_resultdir_read_json(const char *dir, const char *name, unsigned flags, json_t **out,
			      nidec_err *err)
{
	char path[NIDEC_PATH_MAX];
	json_error_t je;
	json_t *root;
	char *text = NULL;
	size_t len = 0;

	NIDEC_TRY(nidec_file_join(path, sizeof(path), dir, name, err));
	NIDEC_TRY(nidec_file_read(path, NIDEC_RESULTDIR_READ_MAX, flags, &text, &len, err));
	if (!text) {
		*out = NULL; /* missing, and allowed to be */
		return 0;
	}
	root = json_loadb(text, len, 0, &je);
	nidec_free(text);
	if (!root)
		return nidec_fail(err, NIDEC_EFORMAT, "'%s' line %d: %s", path, je.line, je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return nidec_fail(err, NIDEC_EFORMAT, "'%s' is not a JSON object; is it a %s written by nidec?",
				  path, name);
	}
	*out = root;
	return 0;
}

int nidec_resultdir_read_summary(const char *dir, unsigned flags, json_t **out, nidec_err *err)
{
	return nidec_resultdir_read_json(dir, "summary.json", flags, out, err);
}

void nidec_result_scores_release(nidec_result_scores *s)
{
	if (!s)
		return;
	nidec_strv_free(s->keys, s->n_keys);
	nidec_free(s->mean);
	nidec_free(s->std);
	nidec_free(s->chosen_C);
	memset(s, 0, sizeof(*s));
}

static double num_or_nan(const json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

int nidec_resultdir_scores(const json_t *summary, const char *path, nidec_result_scores *out,
			   nidec_err *err)
{
	nidec_result_scores s = NIDEC_RESULT_SCORES_INIT;
	const json_t *keys = json_object_get(summary, "keys"), *scores = json_object_get(summary, "scores");
	const json_t *classes = json_object_get(summary, "classes");
	size_t k, f, n;
	int rc = 0;

	if (!json_is_array(keys) || !json_is_object(scores) || json_array_size(keys) == 0)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' has no scores (keys/scores missing); write it again with nidec run or cv",
				  path);
	n = json_array_size(keys);
	s.n_classes = json_is_array(classes) ? json_array_size(classes) : n;
	s.n_folds = (size_t)json_integer_value(json_object_get(summary, "n_folds"));
	s.keys = nidec_calloc_e(n, sizeof(char *), "class names", err);
	s.mean = nidec_malloc_e(n, sizeof(double), "scores", err);
	s.std = nidec_malloc_e(n, sizeof(double), "scores", err);
	s.chosen_C = nidec_malloc_e(n * (s.n_folds ? s.n_folds : 1), sizeof(double), "scores", err);
	if (!s.keys || !s.mean || !s.std || !s.chosen_C) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	s.n_keys = n;
	for (k = 0; k < n; k++) {
		const json_t *name = json_array_get(keys, k), *e, *cs;
		if (!json_is_string(name)) {
			rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': keys[%zu] is not a string", path, k);
			goto fail;
		}
		s.keys[k] = nidec_strdup_e(json_string_value(name), err);
		if (!s.keys[k]) {
			rc = NIDEC_ENOMEM;
			goto fail;
		}
		e = json_object_get(scores, s.keys[k]);
		if (!json_is_object(e)) {
			rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': no scores for class '%s'", path, s.keys[k]);
			goto fail;
		}
		s.mean[k] = num_or_nan(json_object_get(e, "mean"));
		s.std[k] = num_or_nan(json_object_get(e, "std"));
		cs = json_object_get(e, "chosen_C");
		for (f = 0; f < s.n_folds; f++)
			s.chosen_C[k * s.n_folds + f] = num_or_nan(json_array_get(cs, f));
	}
	*out = s;
	return 0;
fail:
	nidec_result_scores_release(&s);
	return rc;
}

/* ---- null_scores.tsv ------------------------------------------------------------ */

int nidec_resultdir_read_null(const char *path, const char *const *keys, size_t n_keys,
			      unsigned flags, double **null, long *n_perm, nidec_err *err)
{
	nidec_result_table t = NIDEC_RESULT_TABLE_INIT;
	double *v = NULL;
	int *col = NULL, rc = 0;
	size_t k, r, cells;

	NIDEC_TRY(table_read(path, flags, &t, err));
	if (!t.text) {
		*null = NULL; /* missing, and allowed to be */
		*n_perm = 0;
		return 0;
	}
	col = nidec_malloc_e(n_keys ? n_keys : 1, sizeof(*col), "a column map", err);
	if (!col) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	if (strcmp(t.cell[0], "permutation")) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': the header must start with 'permutation'", path);
		goto done;
	}
	for (k = 0; k < n_keys; k++) {
		col[k] = nidec_result_table_col(&t, keys[k]);
		if (col[k] <= 0) {
			rc = nidec_fail(err, NIDEC_EFORMAT, "'%s' has no column for class '%s'", path, keys[k]);
			goto done;
		}
	}
	if (nidec_mul_size(t.n_rows ? t.n_rows : 1, n_keys ? n_keys : 1, &cells) < 0 ||
	    !(v = nidec_malloc_e(cells, sizeof(double), "null scores", err))) {
		rc = err && err->code ? err->code : NIDEC_ENOMEM;
		goto done;
	}
	for (r = 0; r < t.n_rows; r++) {
		size_t c;
		/* every cell a number, the permutation number included */
		for (c = 0; c < t.n_cols; c++) {
			const char *cell = nidec_result_table_at(&t, r, (int)c);
			char *end;
			double x = strtod(cell, &end);
			if (!*cell || *end) {
				rc = nidec_fail(err, NIDEC_EFORMAT, "'%s' line %zu: '%s' is not a number", path,
						r + 2, cell);
				goto done;
			}
			for (k = 0; k < n_keys; k++)
				if ((size_t)col[k] == c)
					v[r * n_keys + k] = x;
		}
	}
	*null = v;
	*n_perm = (long)t.n_rows;
	v = NULL;
done:
	nidec_free(v);
	nidec_free(col);
	nidec_result_table_release(&t);
	return rc;
}
