/*
 * events.c - per-volume conditions and runs from a labels table or from
 * BIDS events.tsv files (the rules are in include/nidec/events.h and
 * docs/FORMAT.md "Labels").
 *
 * Both readers load the (small) text file whole, split it into lines and
 * fields in place, and copy out only what they keep, so an error path has
 * one buffer to free.  Every allocation goes through nidec_malloc, and the
 * unit tests fail each one in turn (tests/unit/test_io_events.c) to show
 * that every path frees everything.  Depends on base only: no MPI, no HDF5,
 * no NIfTI.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/events.h"
#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/table.h"

#include "lines_int.h"

/* Tolerance of the label rule: volume times that equal a bound up to
 * floating-point rounding (i * TR with a float32 TR) fall on its inside. */
#define EVENT_EPS 1e-4

/* ---- text helpers ------------------------------------------------------- */

/* The largest labels or events table read (a labels.txt of a long study
 * is a few hundred KiB; a wrong path to an image is refused early). */
#define TABLE_MAX ((size_t)256 << 20)

/* Read a whole text table (nidec_file_read) into a NUL-terminated buffer,
 * refusing binary files and dropping a byte order mark. */
static int read_text(const char *path, char **out, size_t *len, nidec_err *err)
{
	char *buf = NULL;
	size_t n = 0;

	NIDEC_TRY(nidec_file_read(path, TABLE_MAX, 0, &buf, &n, err));
	if (memchr(buf, '\0', n)) {
		nidec_free(buf);
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' is not a text file (it contains NUL bytes); give a whitespace-separated table",
				  path);
	}
	/* a leading UTF-8 byte order mark (Windows editors, Excel's "UTF-8
	 * CSV") is not part of the first column's name: skip it, as pandas
	 * (nilearn's tutorial reads labels.txt with it) and libinih do
	 * (tests/bad/README.md "Decisions") */
	if (n >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
		memmove(buf, buf + 3, n - 3 + 1);
		n -= 3;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Split a line in place at `tabs_only` ? tabs : runs of blanks; fields[]
 * gets up to max pointers; returns the number of fields found (which may
 * exceed max: the extra ones are not stored).  A field that starts with a
 * double quote runs to the next one that is not doubled ("" stands for
 * one '"', as in CSV and pandas) and may hold blanks and tabs; the quotes
 * are removed.  *bad is set when a quote is not closed, or its closing
 * quote is not followed by a separator or the end of the line (the
 * caller names the line). */
static size_t split_fields(char *line, int tabs_only, char **fields, size_t max, int *bad)
{
	size_t n = 0;
	char *p = line;

	*bad = 0;
	for (;;) {
		if (!tabs_only) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (!*p)
				break;
		}
		if (n < max)
			fields[n] = p;
		n++;
		if (*p == '"') {
			char *w = p;
			for (p++;; p++) {
				if (!*p) {
					*bad = 1;
					return n;
				}
				if (*p == '"' && p[1] != '"')
					break;
				if (*p == '"')
					p++; /* "" */
				*w++ = *p;
			}
			p++; /* the closing quote */
			if (*p && *p != '\t' && (tabs_only || *p != ' ')) {
				*bad = 1;
				return n;
			}
			*w = '\0';
			if (!*p)
				break;
			p++;
			continue;
		}
		if (tabs_only) {
			char *t = strchr(p, '\t');
			if (!t)
				break;
			*t = '\0';
			p = t + 1;
			continue;
		}
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (!*p)
			break;
		*p++ = '\0';
	}
	return n;
}

/* "'<path>' line N: a quoted field ..." for split_fields' *bad. */
static int quote_error(nidec_err *err, const char *what, const char *path, size_t lineno)
{
	return nidec_fail(err, NIDEC_EINPUT,
			  "%s '%s' line %zu: a quoted field is not closed, or its closing quote is not followed by a separator; quote a whole field (\"face 1\"), doubling a quote inside it (\"\")",
			  what, path, lineno);
}

/* "'<path>' line N: F fields but the header has C columns; <fix>" */
static int row_count_error(nidec_err *err, const char *what, const char *path, size_t lineno,
			   size_t nf, size_t n_cols, const char *fix)
{
	return nidec_fail(err, NIDEC_EINPUT, "%s '%s' line %zu: %zu field%s but the header has %zu column%s; %s",
			  what, path, lineno, nf, nf == 1 ? "" : "s", n_cols, n_cols == 1 ? "" : "s", fix);
}

/* Trim blanks around a field, in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Number of header columns we look at, at most. */
#define MAX_COLS 256

/* A comma-separated list of the header's columns, for messages. */
static void column_list(char **cols, size_t n, char *out, size_t cap)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n && i < MAX_COLS; i++) {
		if (i)
			strncat(out, ", ", cap - strlen(out) - 1);
		strncat(out, cols[i], cap - strlen(out) - 1);
	}
}

static long find_column(char **cols, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n && i < MAX_COLS; i++)
		if (!strcmp(cols[i], name))
			return (long)i;
	return -1;
}

/* ---- per-volume labels --------------------------------------------------- */

void nidec_vol_labels_release(nidec_vol_labels *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		nidec_free(l->label[i]);
	nidec_free(l->label);
	nidec_free(l->run);
	nidec_free(l->target);
	if (l->run_names)
		for (i = 0; i < l->n_runs; i++)
			nidec_free(l->run_names[i]);
	nidec_free(l->run_names);
	memset(l, 0, sizeof(*l));
}

/* Grow label/run arrays of *l to hold `need` entries (n unchanged). */
static int reserve(nidec_vol_labels *l, size_t need, size_t *cap, nidec_err *err)
{
	char **nl;
	int32_t *nr;
	size_t ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / sizeof(char *))
		return nidec_fail(err, NIDEC_ENOMEM, "too many volumes (%zu)", need);
	nl = nidec_realloc(l->label, ncap * sizeof(*nl));
	if (!nl)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory for %zu volume labels", need);
	l->label = nl;
	nr = nidec_realloc(l->run, ncap * sizeof(*nr));
	if (!nr)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory for %zu volume labels", need);
	l->run = nr;
	*cap = ncap;
	return 0;
}

/* Is s a whole decimal integer (optional sign)? */
static int parse_integer(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return end != s && *end == '\0' && errno == 0;
}

struct run_key {
	const char *name;
	long long num;
};

static int cmp_run_num(const void *a, const void *b)
{
	const struct run_key *x = a, *y = b;

	return (x->num > y->num) - (x->num < y->num);
}

static int cmp_run_str(const void *a, const void *b)
{
	const struct run_key *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Map the run strings of each row to 0-based indices (see events.h). */
static int index_runs(char **run_str, size_t n, nidec_vol_labels *l, const char *path,
		      nidec_err *err)
{
	struct run_key *keys = NULL;
	size_t i, n_distinct = 0;
	char **names = NULL;
	int all_int = 1, rc = 0;
	int (*cmp_run)(const void *, const void *);

	keys = nidec_malloc_e(n ? n : 1, sizeof(*keys), "run values", err);
	if (!keys)
		return NIDEC_ENOMEM;
	for (i = 0; i < n; i++) {
		keys[i].name = run_str[i];
		if (!parse_integer(run_str[i], &keys[i].num))
			all_int = 0;
	}
	cmp_run = all_int ? cmp_run_num : cmp_run_str;
	qsort(keys, n, sizeof(*keys), cmp_run);
	for (i = 0; i < n; i++)
		if (i == 0 || cmp_run(&keys[i - 1], &keys[i]))
			keys[n_distinct++] = keys[i];
	if (n_distinct > INT32_MAX) {
		rc = nidec_fail(err, NIDEC_EINPUT, "'%s': too many distinct runs (%zu)", path, n_distinct);
		goto done;
	}
	names = nidec_calloc_e(n_distinct ? n_distinct : 1, sizeof(*names), "run names", err);
	if (!names) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (i = 0; i < n_distinct; i++) {
		names[i] = nidec_strdup_e(keys[i].name, err);
		if (!names[i]) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
	}
	for (i = 0; i < n; i++) {
		struct run_key k, *hit;
		k.name = run_str[i];
		k.num = 0;
		if (all_int)
			parse_integer(run_str[i], &k.num);
		hit = bsearch(&k, keys, n_distinct, sizeof(*keys), cmp_run);
		l->run[i] = (int32_t)(hit - keys);
	}
	l->run_names = names;
	l->n_runs = n_distinct;
	names = NULL;
done:
	if (names)
		for (i = 0; i < n_distinct; i++)
			nidec_free(names[i]);
	nidec_free(names);
	nidec_free(keys);
	return rc;
}

int nidec_labels_read_table(const char *path, const char *label_column,
			    const char *run_column, nidec_vol_labels *out, nidec_err *err)
{
	nidec_vol_labels l = NIDEC_VOL_LABELS_INIT;
	char *buf = NULL, *line, *fields[MAX_COLS], **run_str = NULL;
	char cols_text[1024];
	size_t len = 0, pos = 0, cap = 0, rcap = 0, n_cols, header_cols, lineno = 0;
	long lc, rcol, need;
	int rc = 0, bad;

	NIDEC_TRY(read_text(path, &buf, &len, err));
	/* header: the first non-blank line */
	do {
		line = nidec_io_next_line(buf, len, &pos);
		lineno++;
	} while (line && nidec_io_blank(line));
	if (!line) {
		rc = nidec_fail(err, NIDEC_EFORMAT,
				"labels table '%s' is empty; it needs a header line ('%s %s') and one line per volume",
				path, label_column, run_column);
		goto done;
	}
	n_cols = split_fields(line, 0, fields, MAX_COLS, &bad);
	if (bad) {
		rc = quote_error(err, "labels table", path, lineno);
		goto done;
	}
	header_cols = n_cols;
	if (n_cols > MAX_COLS)
		n_cols = MAX_COLS;
	lc = find_column(fields, n_cols, label_column);
	rcol = find_column(fields, n_cols, run_column);
	if (lc < 0 || rcol < 0) {
		column_list(fields, n_cols, cols_text, sizeof(cols_text));
		rc = nidec_fail(err, NIDEC_EINPUT,
				"labels table '%s' line %zu: no column '%s' (the header has: %s); set [data] %s (--%s) to the right column name",
				path, lineno, lc < 0 ? label_column : run_column, cols_text,
				lc < 0 ? "label_column" : "run_column",
				lc < 0 ? "label-column" : "run-column");
		goto done;
	}
	need = (lc > rcol ? lc : rcol) + 1;
	while ((line = nidec_io_next_line(buf, len, &pos)) != NULL) {
		size_t nf;
		lineno++;
		if (nidec_io_blank(line))
			continue;
		nf = split_fields(line, 0, fields, MAX_COLS, &bad);
		if (bad) {
			rc = quote_error(err, "labels table", path, lineno);
			goto done;
		}
		if ((long)nf < need) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"labels table '%s' line %zu: %zu field%s but column '%s' is number %ld; give one value per column on every line",
					path, lineno, nf, nf == 1 ? "" : "s",
					lc > rcol ? label_column : run_column, need);
			goto done;
		}
		if (nf != header_cols) {
			/* the run read from the wrong field (issue 20): refused */
			rc = row_count_error(err, "labels table", path, lineno, nf, header_cols,
					     "quote a value that holds a blank (\"face 1\")");
			goto done;
		}
		NIDEC_TRY_GOTO(rc, reserve(&l, l.n + 1, &cap, err), done);
		if (l.n + 1 > rcap) {
			size_t ncap = rcap ? 2 * rcap : 64;
			char **nr = nidec_realloc(run_str, ncap * sizeof(*nr));
			if (!nr) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
				goto done;
			}
			run_str = nr;
			rcap = ncap;
		}
		l.label[l.n] = nidec_strdup_e(fields[lc], err);
		if (!l.label[l.n]) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		run_str[l.n] = fields[rcol]; /* points into buf */
		l.n++;
	}
	if (l.n == 0) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"labels table '%s' has a header but no rows; give one line per volume",
				path);
		goto done;
	}
	NIDEC_TRY_GOTO(rc, index_runs(run_str, l.n, &l, path, err), done);
	*out = l;
	memset(&l, 0, sizeof(l));
done:
	nidec_vol_labels_release(&l);
	nidec_free(run_str);
	nidec_free(buf);
	return rc;
}

/* ---- BIDS events ----------------------------------------------------------- */

void nidec_events_release(nidec_events *ev)
{
	size_t i;

	if (!ev)
		return;
	for (i = 0; i < ev->n; i++)
		nidec_free(ev->ev[i].trial_type);
	nidec_free(ev->ev);
	nidec_free(ev->path);
	memset(ev, 0, sizeof(*ev));
}

/* Parse a number of seconds of column `col`; errors name file, line, field. */
static int parse_seconds(const char *path, size_t lineno, const char *col, const char *s,
			 double *out, nidec_err *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v)) {
		if (strchr(s, ','))
			return nidec_fail(err, NIDEC_EINPUT,
					  "'%s' line %zu: %s '%s' is not a number; use '.' as decimal separator",
					  path, lineno, col, s);
		return nidec_fail(err, NIDEC_EINPUT,
				  "'%s' line %zu: %s '%s' is not a number; give it in seconds, e.g. 12.5",
				  path, lineno, col, s);
	}
	if (v < 0 && !strcmp(col, "duration"))
		return nidec_fail(err, NIDEC_EINPUT,
				  "'%s' line %zu: duration '%s' is negative; give a duration >= 0 seconds",
				  path, lineno, s);
	*out = v;
	return 0;
}

int nidec_events_read(const char *path, nidec_events *out, nidec_err *err)
{
	return nidec_events_read_target(path, NULL, out, err);
}

int nidec_events_read_target(const char *path, const char *column, nidec_events *out,
			     nidec_err *err)
{
	nidec_events e = NIDEC_EVENTS_INIT;
	char *buf = NULL, *line, *fields[MAX_COLS], cols_text[1024];
	size_t len = 0, pos = 0, cap = 0, n_cols, header_cols, lineno = 0;
	long c_on, c_du, c_tt, c_tg = -1, need;
	int tabs, rc = 0, bad;

	NIDEC_TRY(read_text(path, &buf, &len, err));
	e.path = nidec_strdup_e(path, err);
	if (!e.path) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	do {
		line = nidec_io_next_line(buf, len, &pos);
		lineno++;
	} while (line && nidec_io_blank(line));
	if (!line) {
		rc = nidec_fail(err, NIDEC_EFORMAT,
				"events file '%s' is empty; it needs a header 'onset<TAB>duration<TAB>trial_type'",
				path);
		goto done;
	}
	/* BIDS says tabs; a file without any tab in its header is split at
	 * blanks, so a hand-made space-separated table also works. */
	tabs = strchr(line, '\t') != NULL;
	n_cols = split_fields(line, tabs, fields, MAX_COLS, &bad);
	if (bad) {
		rc = quote_error(err, "events file", path, lineno);
		goto done;
	}
	header_cols = n_cols;
	if (n_cols > MAX_COLS)
		n_cols = MAX_COLS;
	{
		size_t i;
		for (i = 0; i < n_cols; i++)
			fields[i] = trim(fields[i]);
	}
	c_on = find_column(fields, n_cols, "onset");
	c_du = find_column(fields, n_cols, "duration");
	c_tt = find_column(fields, n_cols, "trial_type");
	if (c_on < 0 || c_du < 0 || c_tt < 0) {
		column_list(fields, n_cols, cols_text, sizeof(cols_text));
		rc = nidec_fail(err, NIDEC_EINPUT,
				"events file '%s' line %zu: no column '%s' (the header has: %s); BIDS events need onset, duration and trial_type",
				path, lineno, c_on < 0 ? "onset" : c_du < 0 ? "duration" : "trial_type",
				cols_text);
		goto done;
	}
	if (column && (c_tg = find_column(fields, n_cols, column)) < 0) {
		column_list(fields, n_cols, cols_text, sizeof(cols_text));
		rc = nidec_fail(err, NIDEC_EINPUT,
				"events file '%s' line %zu: no column '%s' (the header has: %s); set [data] target_column to the numeric column of the target",
				path, lineno, column, cols_text);
		goto done;
	}
	need = c_on;
	if (c_du > need)
		need = c_du;
	if (c_tt > need)
		need = c_tt;
	if (c_tg > need)
		need = c_tg;
	need++;
	while ((line = nidec_io_next_line(buf, len, &pos)) != NULL) {
		double onset, duration;
		const char *tt;
		size_t nf;

		lineno++;
		if (nidec_io_blank(line))
			continue;
		nf = split_fields(line, tabs, fields, MAX_COLS, &bad);
		if (bad) {
			rc = quote_error(err, "events file", path, lineno);
			goto done;
		}
		if ((long)nf < need) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"events file '%s' line %zu: %zu field%s but the header has %zu columns; separate fields with tabs",
					path, lineno, nf, nf == 1 ? "" : "s", n_cols);
			goto done;
		}
		if (nf != header_cols) {
			rc = row_count_error(err, "events file", path, lineno, nf, header_cols,
					     tabs ? "separate fields with tabs, one per column"
						  : "separate fields with tabs, or quote a value that holds a blank");
			goto done;
		}
		NIDEC_TRY_GOTO(rc, parse_seconds(path, lineno, "onset", trim(fields[c_on]), &onset, err), done);
		NIDEC_TRY_GOTO(rc, parse_seconds(path, lineno, "duration", trim(fields[c_du]), &duration, err), done);
		tt = trim(fields[c_tt]);
		if (!tt[0] || !strcmp(tt, "n/a"))
			continue; /* labels nothing (events.h) */
		if (e.n == cap) {
			size_t ncap = cap ? 2 * cap : 32;
			nidec_event *ne = nidec_realloc(e.ev, ncap * sizeof(*ne));
			if (!ne) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
				goto done;
			}
			e.ev = ne;
			cap = ncap;
		}
		e.ev[e.n].trial_type = nidec_strdup_e(tt, err);
		if (!e.ev[e.n].trial_type) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		e.ev[e.n].onset = onset;
		e.ev[e.n].duration = duration;
		e.ev[e.n].value = NAN;
		e.n++;
		if (c_tg >= 0) {
			const char *v = trim(fields[c_tg]);
			/* n/a: no value (an error only for a volume that is kept) */
			if (v[0] && strcmp(v, "n/a") && nidec_target_parse(v, &e.ev[e.n - 1].value) < 0) {
				rc = nidec_fail(err, NIDEC_EINPUT,
						"events file '%s' line %zu: target '%s' (column '%s') is not a number; [data] target_column must hold a number or n/a (use '.' as decimal separator)",
						path, lineno, v, column);
				goto done;
			}
		}
	}
	*out = e;
	memset(&e, 0, sizeof(e));
done:
	nidec_events_release(&e);
	nidec_free(buf);
	return rc;
}

long nidec_events_find(const nidec_events *ev, double t, double hrf_shift)
{
	size_t i;

	for (i = 0; i < ev->n; i++) {
		double start = ev->ev[i].onset + hrf_shift;
		double end = start + ev->ev[i].duration;
		if (start - EVENT_EPS <= t && t < end - EVENT_EPS)
			return (long)i;
	}
	return -1;
}

int nidec_events_label_run(const nidec_events *ev, size_t n_vols, double tr,
			   double hrf_shift, int32_t run, nidec_vol_labels *out,
			   nidec_err *err)
{
	size_t i, n0 = out->n, cap = out->n, total;
	int rc = 0;

	if (!(tr > 0) || !isfinite(tr))
		return nidec_fail(err, NIDEC_EINPUT,
				  "events '%s': the repetition time is %g s; the BOLD header needs a TR > 0 (pixdim[4])",
				  ev->path ? ev->path : "?", tr);
	if (run < 0)
		return nidec_fail(err, NIDEC_EINTERNAL, "negative run index %d", (int)run);
	if (n_vols > SIZE_MAX - n0)
		return nidec_fail(err, NIDEC_ENOMEM, "too many volumes");
	total = n0 + n_vols;
	/* the arrays have exactly n entries' worth of room we know of; growing
	 * keeps the old contents, and n stays n0 until everything succeeded */
	NIDEC_TRY(reserve(out, total, &cap, err));
	for (i = 0; i < n_vols; i++) {
		long e = nidec_events_find(ev, (double)i * tr, hrf_shift);
		out->label[n0 + i] = nidec_strdup_e(e < 0 ? "rest" : ev->ev[e].trial_type, err);
		if (!out->label[n0 + i]) {
			rc = NIDEC_ENOMEM;
			while (i-- > 0)
				nidec_free(out->label[n0 + i]);
			return rc;
		}
		out->run[n0 + i] = run;
	}
	out->n = total;
	if ((size_t)run + 1 > out->n_runs)
		out->n_runs = (size_t)run + 1;
	return 0;
}

/* ---- what the label rule silently made of a run's events ------------------------ */

/* Does event e contain time t (the rule of nidec_events_find)? */
static int event_holds(const nidec_event *e, double t, double hrf_shift)
{
	double start = e->onset + hrf_shift, end = start + e->duration;

	return start - EVENT_EPS <= t && t < end - EVENT_EPS;
}

void nidec_events_check_run(const nidec_events *ev, size_t n_vols, double tr, double hrf_shift,
			    nidec_events_check *out)
{
	size_t i, k, v;

	memset(out, 0, sizeof(*out));
	out->first_empty = out->overlap_vol = out->overlap_first = out->overlap_other = -1;
	if (!(tr > 0) || !isfinite(tr))
		return;
	for (k = 0; k < ev->n; k++) {
		const nidec_event *e = &ev->ev[k];
		double first = floor((e->onset + hrf_shift - EVENT_EPS) / tr);
		double end = e->onset + hrf_shift + e->duration;
		int covers = 0;
		/* from the volume at or just before the start, while inside */
		for (v = first <= 0 ? 0 : first >= (double)n_vols ? n_vols : (size_t)first;
		     v < n_vols && (double)v * tr < end; v++)
			if (event_holds(e, (double)v * tr, hrf_shift)) {
				covers = 1;
				break;
			}
		if (!covers && out->n_empty++ == 0)
			out->first_empty = (long)k;
	}
	for (v = 0; v < n_vols; v++) {
		double t = (double)v * tr;
		long win = nidec_events_find(ev, t, hrf_shift);
		if (win < 0)
			continue;
		for (i = (size_t)win + 1; i < ev->n; i++)
			if (event_holds(&ev->ev[i], t, hrf_shift) &&
			    strcmp(ev->ev[i].trial_type, ev->ev[win].trial_type))
				break;
		if (i == ev->n)
			continue;
		if (out->n_overlap++ == 0) {
			out->overlap_vol = (long)v;
			out->overlap_first = win;
			out->overlap_other = (long)i;
		}
	}
}

void nidec_events_warn_run(const nidec_events *ev, size_t n_vols, double tr, double hrf_shift)
{
	nidec_events_check c;
	const char *path = ev->path ? ev->path : "?";

	nidec_events_check_run(ev, n_vols, tr, hrf_shift, &c);
	if (c.n_empty) {
		const nidec_event *e = &ev->ev[c.first_empty];
		nidec_warn("[data] events: '%s': %zu event%s of %zu cover%s no volume (the first: '%s' at onset %g s, duration %g s; volumes every %g s, %zu in the run): %s label nothing; move them onto volumes with [data] hrf_shift, or use data with a finer TR",
			   path, c.n_empty, c.n_empty == 1 ? "" : "s", ev->n, c.n_empty == 1 ? "s" : "",
			   e->trial_type, e->onset, e->duration, tr, n_vols, c.n_empty == 1 ? "it" : "they");
	}
	if (c.n_overlap) {
		const nidec_event *a = &ev->ev[c.overlap_first], *b = &ev->ev[c.overlap_other];
		nidec_warn("[data] events: '%s': %zu volume%s fall%s in overlapping events of different trial types (the first at %g s: '%s' at onset %g s and '%s' at onset %g s); the first event in file order labels %s ('%s' there)",
			   path, c.n_overlap, c.n_overlap == 1 ? "" : "s", c.n_overlap == 1 ? "s" : "",
			   (double)c.overlap_vol * tr, a->trial_type, a->onset, b->trial_type, b->onset,
			   c.n_overlap == 1 ? "it" : "each", a->trial_type);
	}
}
