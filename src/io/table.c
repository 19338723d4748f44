/*
 * table.c - text tables with a header (include/nidec/table.h): the one
 * general reader behind sample tables and confounds TSVs, and the sample
 * table itself.
 *
 * The file is read whole (nidec_file_read), split into lines and fields in
 * place; cells point into that buffer, so a table is three allocations
 * whatever its size.  Depends on base and nii.c (the images of a sample
 * table, for `nidec predict`); no MPI, no HDF5.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nidec/file.h"
#include "nidec/keyfile.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/nii.h"
#include "nidec/sbuf.h"
#include "nidec/suggest.h"
#include "nidec/table.h"

#include "lines_int.h"

/* The largest table read (a confounds TSV of a long run is a few MiB). */
#define TABLE_MAX ((size_t)256 << 20)

void nidec_table_release(nidec_table *t)
{
	if (!t)
		return;
	nidec_free(t->path);
	nidec_free(t->cols);
	nidec_free(t->cells);
	nidec_free(t->lineno);
	nidec_free(t->buf);
	memset(t, 0, sizeof(*t));
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Split `line` in place (tabs, or runs of blanks); store up to max fields;
 * return the count. */
static size_t split(char *line, int tabs, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	if (tabs) {
		for (;;) {
			char *t = strchr(p, '\t');
			if (t)
				*t = '\0';
			if (n < max)
				f[n] = trim(p);
			n++;
			if (!t)
				break;
			p = t + 1;
		}
		return n;
	}
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n < max)
			f[n] = p;
		n++;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (!*p)
			break;
		*p++ = '\0';
	}
	return n;
}

int nidec_table_read(const char *path, const char *what, nidec_table *out, nidec_err *err)
{
	nidec_table t = NIDEC_TABLE_INIT;
	size_t len = 0, pos = 0, lineno = 0, cap = 0, i, j;
	char *line, *text;
	int tabs, rc = 0;

	NIDEC_TRY(nidec_file_read(path, TABLE_MAX, 0, &t.buf, &len, err));
	t.path = nidec_strdup_e(path, err);
	if (!t.path) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	if (memchr(t.buf, '\0', len)) {
		rc = nidec_fail(err, NIDEC_EFORMAT,
				"%s '%s' is not a text file (it contains NUL bytes); give a tab-separated table",
				what, path);
		goto done;
	}
	text = t.buf;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	do {
		line = nidec_io_next_line(text, len, &pos);
		lineno++;
	} while (line && nidec_io_blank(line));
	if (!line) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "%s '%s' is empty; it needs a header line naming the columns",
				what, path);
		goto done;
	}
	tabs = strchr(line, '\t') != NULL;
	{
		/* room for every field the header can hold, then split once */
		size_t room = 1;
		const char *q;
		for (q = line; *q; q++)
			room += *q == '\t' || *q == ' ';
		t.cols = nidec_calloc_e(room, sizeof(char *), "a table header", err);
		if (!t.cols) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		t.n_cols = split(line, tabs, t.cols, room);
	}
	if (t.n_cols == 0) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "%s '%s' line %zu: the header names no column", what, path,
				lineno);
		goto done;
	}
	for (i = 0; i < t.n_cols; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(t.cols[i], t.cols[j])) {
				rc = nidec_fail(err, NIDEC_EINPUT,
						"%s '%s' line %zu: the column '%s' appears twice; rename one", what,
						path, lineno, t.cols[i]);
				goto done;
			}
	while ((line = nidec_io_next_line(text, len, &pos)) != NULL) {
		size_t nf;
		lineno++;
		if (nidec_io_blank(line))
			continue;
		if (t.n_rows == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			char **nc = nidec_realloc(t.cells, ncap * t.n_cols * sizeof(char *));
			size_t *nl;
			if (!nc) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
				goto done;
			}
			t.cells = nc;
			nl = nidec_realloc(t.lineno, ncap * sizeof(size_t));
			if (!nl) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
				goto done;
			}
			t.lineno = nl;
			cap = ncap;
		}
		nf = split(line, tabs, t.cells + t.n_rows * t.n_cols, t.n_cols);
		if (nf != t.n_cols) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"%s '%s' line %zu: %zu field%s but the header has %zu columns; give one value per column%s",
					what, path, lineno, nf, nf == 1 ? "" : "s", t.n_cols,
					tabs ? " (fields are separated by tabs)" : "");
			goto done;
		}
		t.lineno[t.n_rows++] = lineno;
	}
	if (t.n_rows == 0) {
		rc = nidec_fail(err, NIDEC_EINPUT, "%s '%s' has a header but no rows", what, path);
		goto done;
	}
	*out = t;
	memset(&t, 0, sizeof(t));
done:
	nidec_table_release(&t);
	return rc;
}

long nidec_table_col(const nidec_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n_cols; i++)
		if (!strcmp(t->cols[i], name))
			return (long)i;
	return -1;
}

const char *nidec_table_suggest(const nidec_table *t, const char *name)
{
	nidec_suggestion s = NIDEC_SUGGESTION_INIT;
	size_t i;

	for (i = 0; i < t->n_cols; i++)
		nidec_suggest_add(&s, name, t->cols[i], 0, (long)i);
	return s.index >= 0 ? t->cols[s.index] : NULL;
}

int nidec_target_parse(const char *s, double *v)
{
	const char *p;
	char *end;
	double d;

	/* digits, sign, point and exponent only: no "nan", "inf" or hex */
	for (p = s; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return -1;
	if (!*s)
		return -1;
	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end || !isfinite(d) || errno == ERANGE)
		return -1;
	*v = d;
	return 0;
}

int nidec_table_target(const nidec_table *t, const char *name, const char *what, double **out,
		       nidec_err *err)
{
	char cols[512];
	const char *s;
	double *y;
	long c = nidec_table_col(t, name);
	size_t i;

	if (c < 0) {
		nidec_table_columns_text(t, cols, sizeof(cols));
		s = nidec_table_suggest(t, name);
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s '%s': no column '%s' (the header has: %s)%s%s%s; set [data] target_column to the numeric column of the target",
				  what, t->path, name, cols, s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
	}
	y = nidec_malloc_e(t->n_rows ? t->n_rows : 1, sizeof(double), "the target", err);
	if (!y)
		return NIDEC_ENOMEM;
	for (i = 0; i < t->n_rows; i++) {
		const char *cell = nidec_table_cell(t, i, (size_t)c);
		if (nidec_target_parse(cell, &y[i]) < 0) {
			nidec_free(y);
			return nidec_fail(err, NIDEC_EINPUT,
					  "%s '%s' line %zu: target '%s' (column '%s') is not a number; [data] target_column must hold a finite number on every row (use '.' as decimal separator; for classes use [model] task = classification)",
					  what, t->path, t->lineno[i], cell, name);
		}
	}
	*out = y;
	return 0;
}

void nidec_table_columns_text(const nidec_table *t, char *buf, size_t n)
{
	size_t i, len;

	if (!n)
		return;
	buf[0] = '\0';
	for (i = 0; i < t->n_cols; i++) {
		len = strlen(buf);
		if (len + 8 >= n) {
			snprintf(buf + (n > 4 ? n - 4 : 0), n > 4 ? 4 : n, "...");
			return;
		}
		snprintf(buf + len, n - len, "%s%s", i ? ", " : "", t->cols[i]);
	}
}

/* ---- sample tables -------------------------------------------------------- */

void nidec_sample_table_release(nidec_sample_table *t)
{
	size_t i;

	if (!t)
		return;
	nidec_free(t->path);
	nidec_free(t->line);
	nidec_strv_free(t->image, t->n);
	nidec_strv_free(t->label, t->n);
	nidec_free(t->volume);
	nidec_free(t->run);
	nidec_strv_free(t->run_names, t->n_runs);
	nidec_strv_free(t->attr_names, t->n_attrs);
	if (t->attr_values)
		for (i = 0; i < t->n * t->n_attrs; i++)
			nidec_free(t->attr_values[i]);
	nidec_free(t->attr_values);
	memset(t, 0, sizeof(*t));
}

struct run_val {
	const char *s;
	long long num;
};

static int cmp_run_num(const void *a, const void *b)
{
	const struct run_val *x = a, *y = b;

	return (x->num > y->num) - (x->num < y->num);
}

static int cmp_run_str(const void *a, const void *b)
{
	return strcmp(((const struct run_val *)a)->s, ((const struct run_val *)b)->s);
}

/* Runs 0..R-1 from the run strings: numeric order when every value is an
 * integer, else byte order (as a labels table, events.h). */
static int index_runs(nidec_sample_table *t, char **runs, nidec_err *err)
{
	struct run_val *d = nidec_malloc_e(t->n, sizeof(*d), "run values", err);
	size_t i, j, nd = 0;
	int numeric = 1;

	if (!d)
		return NIDEC_ENOMEM;
	for (i = 0; i < t->n; i++) {
		char *end;
		long long v;
		for (j = 0; j < nd && strcmp(d[j].s, runs[i]); j++)
			;
		if (j < nd)
			continue;
		errno = 0;
		v = strtoll(runs[i], &end, 10);
		if (end == runs[i] || *end || errno)
			numeric = 0;
		d[nd].s = runs[i];
		d[nd++].num = v;
	}
	qsort(d, nd, sizeof(*d), numeric ? cmp_run_num : cmp_run_str);
	t->run_names = nidec_calloc_e(nd, sizeof(char *), "run names", err);
	t->run = nidec_malloc_e(t->n, sizeof(int32_t), "runs", err);
	if (!t->run_names || !t->run) {
		nidec_free(d);
		return NIDEC_ENOMEM;
	}
	for (j = 0; j < nd; j++) {
		t->run_names[j] = nidec_strdup_e(d[j].s, err);
		if (!t->run_names[j]) {
			nidec_free(d);
			return NIDEC_ENOMEM;
		}
		t->n_runs++;
	}
	for (i = 0; i < t->n; i++)
		for (j = 0; j < nd; j++)
			if (!strcmp(t->run_names[j], runs[i])) {
				t->run[i] = (int32_t)j;
				break;
			}
	nidec_free(d);
	return 0;
}

static int column_or_fail(const nidec_table *tab, const char *name, const char *key, long *col,
			  nidec_err *err)
{
	char cols[512];
	const char *s;

	*col = nidec_table_col(tab, name);
	if (*col >= 0)
		return 0;
	nidec_table_columns_text(tab, cols, sizeof(cols));
	s = nidec_table_suggest(tab, name);
	if (key)
		return nidec_fail(err, NIDEC_EINPUT,
				  "sample table '%s': no column '%s' (the header has: %s)%s%s%s; set [data] %s to the right column",
				  tab->path, name, cols, s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "", key);
	return nidec_fail(err, NIDEC_EINPUT,
			  "sample table '%s': no column '%s' (the header has: %s); give each sample's image in a column 'path'",
			  tab->path, name, cols);
}

int nidec_sample_table_read(const char *path, const char *label_column, const char *run_column,
			    nidec_sample_table *out, nidec_err *err)
{
	nidec_table tab = NIDEC_TABLE_INIT;
	nidec_sample_table t = NIDEC_SAMPLE_TABLE_INIT;
	char *dir = NULL, *tmp = NULL, **runs = NULL;
	long c_path, c_vol, c_lab, c_run;
	size_t i, a, k;
	int rc = 0;

	NIDEC_TRY(nidec_table_read(path, "sample table", &tab, err));
	NIDEC_TRY_GOTO(rc, column_or_fail(&tab, "path", NULL, &c_path, err), done);
	NIDEC_TRY_GOTO(rc, column_or_fail(&tab, label_column, "label_column", &c_lab, err), done);
	NIDEC_TRY_GOTO(rc, column_or_fail(&tab, run_column, "run_column", &c_run, err), done);
	c_vol = nidec_table_col(&tab, "volume");
	t.n = tab.n_rows;
	t.path = nidec_strdup_e(path, err);
	tmp = nidec_strdup_e(path, err);
	t.image = nidec_calloc_e(t.n, sizeof(char *), "sample images", err);
	t.label = nidec_calloc_e(t.n, sizeof(char *), "sample labels", err);
	t.volume = nidec_malloc_e(t.n, sizeof(int64_t), "sample volumes", err);
	t.line = nidec_malloc_e(t.n, sizeof(size_t), "sample lines", err);
	runs = nidec_calloc_e(t.n, sizeof(char *), "sample runs", err);
	if (!t.path || !tmp || !t.image || !t.label || !t.volume || !t.line || !runs) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	dir = dirname(tmp);
	for (i = 0; i < t.n; i++) {
		const char *p = nidec_table_cell(&tab, i, (size_t)c_path);
		nidec_sbuf sb = NIDEC_SBUF_INIT;
		struct stat st;
		size_t line = tab.lineno[i];

		t.line[i] = line;
		if (!p[0] || !strcmp(p, "n/a")) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"sample table '%s' line %zu: the path is empty; give the sample's image (relative to the table's directory)",
					path, line);
			goto done;
		}
		if (p[0] == '/' || !strcmp(dir, "."))
			rc = nidec_sbuf_adds(&sb, p);
		else
			rc = nidec_sbuf_addf(&sb, "%s/%s", dir, p);
		if (rc < 0 || !(t.image[i] = nidec_sbuf_detach(&sb, NULL))) {
			nidec_sbuf_release(&sb);
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
			goto done;
		}
		if (stat(t.image[i], &st) < 0 || !S_ISREG(st.st_mode)) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"sample table '%s' line %zu: image '%s' %s; fix the path (relative paths start from the table's directory)",
					path, line, t.image[i], errno == ENOENT ? "does not exist" : "is not a file");
			goto done;
		}
		t.volume[i] = -1;
		if (c_vol >= 0) {
			const char *v = nidec_table_cell(&tab, i, (size_t)c_vol);
			char *end;
			long long n;
			if (v[0] && strcmp(v, "n/a")) {
				errno = 0;
				n = strtoll(v, &end, 10);
				if (end == v || *end || errno || n < 0) {
					rc = nidec_fail(err, NIDEC_EINPUT,
							"sample table '%s' line %zu: volume '%s' is not a whole number >= 0; give the 0-based index of the volume in its 4D image",
							path, line, v);
					goto done;
				}
				t.volume[i] = n;
			}
		}
		t.label[i] = nidec_strdup_e(nidec_table_cell(&tab, i, (size_t)c_lab), err);
		if (!t.label[i]) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		runs[i] = tab.cells[i * tab.n_cols + (size_t)c_run];
		if (!t.label[i][0] || !runs[i][0]) {
			rc = nidec_fail(err, NIDEC_EINPUT, "sample table '%s' line %zu: the %s is empty; give every sample one",
					path, line, !t.label[i][0] ? "label" : "run");
			goto done;
		}
	}
	NIDEC_TRY_GOTO(rc, index_runs(&t, runs, err), done);
	/* the other columns, kept as attributes */
	for (a = 0; a < tab.n_cols; a++)
		if ((long)a != c_path && (long)a != c_vol && (long)a != c_lab && (long)a != c_run)
			t.n_attrs++;
	if (t.n_attrs) {
		t.attr_names = nidec_calloc_e(t.n_attrs, sizeof(char *), "sample attributes", err);
		t.attr_values = nidec_calloc_e(t.n * t.n_attrs, sizeof(char *), "sample attributes", err);
		if (!t.attr_names || !t.attr_values) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		for (a = 0, k = 0; a < tab.n_cols; a++) {
			if ((long)a == c_path || (long)a == c_vol || (long)a == c_lab || (long)a == c_run)
				continue;
			if (!(t.attr_names[k] = nidec_strdup_e(tab.cols[a], err))) {
				rc = NIDEC_ENOMEM;
				goto done;
			}
			for (i = 0; i < t.n; i++)
				if (!(t.attr_values[i * t.n_attrs + k] = nidec_strdup_e(nidec_table_cell(&tab, i, a), err))) {
					rc = NIDEC_ENOMEM;
					goto done;
				}
			k++;
		}
	}
	*out = t;
	memset(&t, 0, sizeof(t));
done:
	nidec_sample_table_release(&t);
	nidec_table_release(&tab);
	nidec_free(tmp);
	nidec_free(runs);
	return rc;
}

int nidec_sample_table_extract(const nidec_sample_table *t, const int64_t dims[3],
			       const double affine[16], const int32_t *ijk, size_t n_voxels,
			       float **X, nidec_err *err)
{
	nidec_nii_stream *s = NULL;
	size_t *idx = NULL, i, v, cells, bad = 0;
	float *M = NULL;
	int rc = 0;

	idx = nidec_malloc_e(n_voxels ? n_voxels : 1, sizeof(*idx), "voxel offsets", err);
	if (!idx || nidec_mul_size(t->n, n_voxels, &cells) < 0 ||
	    !(M = nidec_malloc_e(cells ? cells : 1, sizeof(float), "the image matrix", err))) {
		rc = err && err->code ? err->code : nidec_fail(err, NIDEC_ENOMEM, "too many samples");
		goto done;
	}
	for (v = 0; v < n_voxels; v++) {
		const int32_t *q = ijk + 3 * v;
		if (q[0] < 0 || q[0] >= dims[0] || q[1] < 0 || q[1] >= dims[1] || q[2] < 0 || q[2] >= dims[2]) {
			rc = nidec_fail(err, NIDEC_EINTERNAL, "voxel %zu lies outside the grid", v);
			goto done;
		}
		idx[v] = (size_t)q[0] + (size_t)dims[0] * ((size_t)q[1] + (size_t)dims[1] * (size_t)q[2]);
	}
	for (i = 0; i < t->n; i++) {
		const nidec_nii *h;
		int64_t want = t->volume[i] < 0 ? 0 : t->volume[i], next;
		/* one stream per sample: predict reads a few hundred volumes */
		nidec_nii_stream_close(&s);
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_open(t->image[i], &s, err), done);
		h = nidec_nii_stream_header(s);
		if (!nidec_nii_same_grid(h->dims, h->affine, dims, affine, 1e-4)) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"sample table '%s': '%s' is on a %lldx%lldx%lld grid (or another affine) but the model is on %lldx%lldx%lld; resample the images to the training grid",
					t->path, t->image[i], (long long)h->dims[0], (long long)h->dims[1],
					(long long)h->dims[2], (long long)dims[0], (long long)dims[1], (long long)dims[2]);
			goto done;
		}
		if (h->dims[3] > 1 && t->volume[i] < 0) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"sample table '%s': '%s' is 4D (%lld volumes) but its row gives no volume; add a 'volume' column with the 0-based index",
					t->path, t->image[i], (long long)h->dims[3]);
			goto done;
		}
		if (want >= h->dims[3]) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"sample table '%s': volume %lld of '%s' does not exist (it has %lld); volumes are 0-based",
					t->path, (long long)want, t->image[i], (long long)h->dims[3]);
			goto done;
		}
		for (next = 0; next < want; next++)
			NIDEC_TRY_GOTO(rc, nidec_nii_stream_read(s, NULL, 0, NULL, err), done);
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_read(s, idx, n_voxels, M + i * n_voxels, err), done);
		bad += nidec_zero_nonfinite(M + i * n_voxels, n_voxels);
	}
	if (bad)
		nidec_warn("sample table '%s': %zu non-finite voxel value%s (NaN or Inf) inside the mask: replaced by 0, as nilearn does",
			   t->path, bad, bad == 1 ? "" : "s");
	*X = M;
	M = NULL;
done:
	nidec_nii_stream_close(&s);
	nidec_free(idx);
	nidec_free(M);
	return rc;
}
