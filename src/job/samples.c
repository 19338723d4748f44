/*
 * samples.c - the samples of a subject's analysis (include/nidec/
 * samples.h): select the rows of [data] conditions from the dataset's
 * labels, read only those rows, read [cv] folds_file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/samples.h"
#include "nidec/sbuf.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int class_index(char **classes, size_t n, const char *label)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(classes[mid], label);
		if (!c)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Runs of the dataset left with no sample by [data] conditions: said
 * once (recorded in summary.json's warnings by the job driver). */
static void warn_empty_runs(const nidec_samples *a, const nidec_cfg *cfg)
{
	const nidec_dataset *ds = a->ds;
	unsigned char *has, *kept;
	size_t i, n_empty = 0, max = 0;
	nidec_sbuf list = NIDEC_SBUF_INIT;

	for (i = 0; i < ds->n_samples; i++)
		if ((size_t)ds->runs[i] + 1 > max)
			max = (size_t)ds->runs[i] + 1; /* 0 <= runs < NIDEC_DS_MAX_RUNS (dataset.h) */
	has = nidec_calloc(max + 1, 1);
	kept = nidec_calloc(max + 1, 1);
	if (has && kept) {
		for (i = 0; i < ds->n_samples; i++)
			has[ds->runs[i]] = 1;
		for (i = 0; i < a->n; i++)
			kept[a->runs[i]] = 1;
		for (i = 0; i < max; i++)
			if (has[i] && !kept[i] && n_empty++ < 8)
				(void)nidec_sbuf_addf(&list, "%s%zu", n_empty > 1 ? ", " : "", i);
		if (n_empty)
			nidec_warn("[data] conditions = %s: %zu run%s of dataset '%s' (%s%s, 0-based) %s no sample of these conditions: left out, so leave-one-run-out has %zu fold%s fewer",
				   nidec_cfg_value(cfg, "data", "conditions"), n_empty, n_empty == 1 ? "" : "s",
				   ds->path, list.buf ? list.buf : "", n_empty > 8 ? ", ..." : "",
				   n_empty == 1 ? "has" : "have", n_empty, n_empty == 1 ? "" : "s");
	}
	nidec_sbuf_release(&list);
	nidec_free(has);
	nidec_free(kept);
}

/* Keep the samples whose condition is in [data] conditions (all if the
 * list is empty); classes = the kept conditions in byte order. */
static int select_samples(nidec_samples *a, const nidec_cfg *cfg, nidec_err *err)
{
	nidec_dataset *ds = a->ds;
	size_t i, k;

	a->classes = nidec_calloc_e(ds->n_conditions + 1, sizeof(char *), "the class list", err);
	if (!a->classes)
		return NIDEC_ENOMEM;
	if (cfg->n_conditions) {
		for (k = 0; k < cfg->n_conditions; k++) {
			size_t c;
			for (c = 0; c < ds->n_conditions; c++)
				if (!strcmp(ds->conditions[c], cfg->conditions[k]))
					break;
			if (c == ds->n_conditions) {
				nidec_sbuf have = NIDEC_SBUF_INIT;
				for (c = 0; c < ds->n_conditions; c++)
					nidec_sbuf_addf(&have, "%s%s", c ? ", " : "", ds->conditions[c]);
				nidec_fail(err, NIDEC_EINPUT,
					   "[data] conditions: '%s' is not a condition of dataset '%s' (it has: %s); fix the list or re-convert",
					   cfg->conditions[k], ds->path, have.buf);
				nidec_sbuf_release(&have);
				return NIDEC_EINPUT;
			}
			for (c = 0; c < a->n_classes; c++)
				if (!strcmp(a->classes[c], cfg->conditions[k]))
					break;
			if (c == a->n_classes)
				a->classes[a->n_classes++] = cfg->conditions[k];
		}
	} else {
		for (k = 0; k < ds->n_conditions; k++)
			a->classes[a->n_classes++] = ds->conditions[k];
	}
	qsort(a->classes, a->n_classes, sizeof(char *), cmp_str);
	/* a regression's conditions only select samples: one will do (e.g.
	 * one contrast map per subject) */
	if (a->n_classes < 1 || (a->n_classes < 2 && cfg->task_type != NIDEC_TASK_REGRESSION))
		return nidec_fail(err, NIDEC_EINPUT,
				  "decoding needs at least two conditions, dataset '%s' selection has %zu; set [data] conditions = a, b",
				  ds->path, a->n_classes);

	a->rows = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(size_t), "the sample list", err);
	a->y = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int), "the labels", err);
	a->runs = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int), "the runs", err);
	if (!a->rows || !a->y || !a->runs)
		return NIDEC_ENOMEM;
	for (i = 0; i < ds->n_samples; i++) {
		int c = class_index(a->classes, a->n_classes, ds->labels[i]);
		if (c < 0)
			continue;
		a->rows[a->n] = i;
		a->y[a->n] = c;
		a->runs[a->n] = ds->runs[i];
		a->n++;
	}
	if (a->n == 0)
		return nidec_fail(err, NIDEC_EINPUT, "dataset '%s' has no sample of the selected conditions",
				  ds->path);
	warn_empty_runs(a, cfg);
	return 0;
}

/* [cv] folds_file: a TSV with a header naming columns `sample` and `fold`
 * (sample = index among the analysed samples; fold >= 0, or -1 = never
 * tested).  Samples not listed are never tested.  Fields are separated by
 * tabs or blanks; lines starting with '#' and blank lines are skipped;
 * every row has the header's number of fields; lines of any length; a
 * NUL byte is an error (issue 20). */
static int read_folds_file(nidec_samples *a, const char *path, nidec_err *err)
{
	char *buf = NULL, *line, *next, *tok, *save = NULL;
	size_t len = 0, i, n_cols = 0;
	int col_s = -1, col_f = -1, lineno = 0, rc = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return nidec_fail(err, NIDEC_EIO, "cannot open [cv] folds_file '%s': %s", path, strerror(errno));
	(void)fclose(f); /* read-only: nothing to lose */
	NIDEC_TRY(nidec_file_read(path, (size_t)1 << 30, 0, &buf, &len, err));
	if (memchr(buf, '\0', len)) {
		nidec_free(buf);
		return nidec_fail(err, NIDEC_EINPUT, "[cv] folds_file '%s' is not a text file (it contains NUL bytes); give a tab-separated table",
				  path);
	}
	a->fold_of_sample = nidec_malloc_e(a->n, sizeof(int), "the fold assignment", err);
	if (!a->fold_of_sample) {
		nidec_free(buf);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < a->n; i++)
		a->fold_of_sample[i] = -1;
	for (line = buf; line && rc == 0; line = next) {
		long s = -1, fo = -2;
		size_t c = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (col_s < 0) {
			for (tok = strtok_r(line, "\t ", &save); tok; tok = strtok_r(NULL, "\t ", &save), c++) {
				if (!strcmp(tok, "sample"))
					col_s = (int)c;
				else if (!strcmp(tok, "fold"))
					col_f = (int)c;
			}
			n_cols = c;
			if (col_s < 0 || col_f < 0)
				rc = nidec_fail(err, NIDEC_EINPUT,
						"[cv] folds_file '%s' line %d: the header must name the columns 'sample' and 'fold'",
						path, lineno);
			continue;
		}
		for (tok = strtok_r(line, "\t ", &save); tok && rc == 0; tok = strtok_r(NULL, "\t ", &save), c++) {
			char *end;
			long v;
			if ((int)c != col_s && (int)c != col_f)
				continue;
			errno = 0;
			v = strtol(tok, &end, 10);
			if (*end || errno || end == tok)
				rc = nidec_fail(err, NIDEC_EINPUT,
						"[cv] folds_file '%s' line %d: '%s' is not a whole number",
						path, lineno, tok);
			else if ((int)c == col_s)
				s = v;
			else
				fo = v;
		}
		if (rc == 0 && c != n_cols)
			rc = nidec_fail(err, NIDEC_EINPUT,
					"[cv] folds_file '%s' line %d: %zu field%s but the header has %zu columns; give one value per column on every line",
					path, lineno, c, c == 1 ? "" : "s", n_cols);
		if (rc == 0 && (s < 0 || (size_t)s >= a->n || fo < -1 || fo > 1000000))
			rc = nidec_fail(err, NIDEC_EINPUT,
					"[cv] folds_file '%s' line %d: sample must be in 0..%zu and fold >= -1",
					path, lineno, a->n - 1);
		if (rc == 0)
			a->fold_of_sample[s] = (int)fo;
	}
	if (rc == 0 && col_s < 0)
		rc = nidec_fail(err, NIDEC_EINPUT, "[cv] folds_file '%s' is empty; give a header 'sample fold' and one line per sample",
				path);
	nidec_free(buf);
	return rc;
}

/* The selected rows into X (n x p), one read per run of consecutive rows. */
static int read_rows(nidec_samples *a, nidec_err *err)
{
	size_t i, j, total;

	if (nidec_mul_size(a->n, a->p, &total) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "dataset '%s': %zu x %zu values do not fit in memory",
				  a->ds->path, a->n, a->p);
	a->X = nidec_malloc_e(total ? total : 1, sizeof(float), "the data matrix", err);
	if (!a->X)
		return NIDEC_ENOMEM;
	for (i = 0; i < a->n; i = j) {
		for (j = i + 1; j < a->n && a->rows[j] == a->rows[j - 1] + 1; j++)
			;
		NIDEC_TRY(nidec_ds_read_rows(a->ds, a->rows[i], j - i, a->X + i * a->p, err));
	}
	return 0;
}

/* The selected samples' targets, from the dataset's /target. */
static int read_target(nidec_samples *s, const nidec_cfg *cfg, nidec_err *err)
{
	const nidec_dataset *ds = s->ds;
	size_t i;

	if (!ds->target)
		return nidec_fail(err, NIDEC_EINPUT,
				  "dataset '%s' holds no target; convert it again with [data] target_column = %s (nidec run converts by itself; nidec convert --force)",
				  ds->path, cfg->target_column);
	if (!ds->target_column || strcmp(ds->target_column, cfg->target_column))
		return nidec_fail(err, NIDEC_EINPUT,
				  "dataset '%s' holds the target of column '%s', not of [data] target_column = %s; convert it again with that column (nidec convert --force)",
				  ds->path, ds->target_column ? ds->target_column : "?", cfg->target_column);
	s->target = nidec_malloc_e(s->n ? s->n : 1, sizeof(double), "the targets", err);
	if (!s->target)
		return NIDEC_ENOMEM;
	for (i = 0; i < s->n; i++)
		s->target[i] = ds->target[s->rows[i]];
	return 0;
}

int nidec_samples_load(nidec_samples *s, const nidec_cfg *cfg, const char *dataset, nidec_err *err)
{
	NIDEC_TRY(nidec_ds_open(dataset, &s->ds, err));
	s->p = s->ds->n_voxels;
	NIDEC_TRY(select_samples(s, cfg, err));
	NIDEC_TRY(read_rows(s, err));
	if (cfg->scheme == NIDEC_CV_FOLDS_FILE)
		NIDEC_TRY(read_folds_file(s, cfg->folds_file, err));
	if (cfg->task_type == NIDEC_TASK_REGRESSION)
		NIDEC_TRY(read_target(s, cfg, err));
	return 0;
}

void nidec_samples_labels(const nidec_samples *s, nidec_labels *lab)
{
	memset(lab, 0, sizeof(*lab));
	lab->n = s->n;
	lab->p = s->p;
	lab->y = s->y;
	lab->runs = s->runs;
	lab->n_classes = s->n_classes;
	lab->class_names = (const char *const *)s->classes;
	lab->voxel_volume_mm3 = nidec_ds_voxel_volume(s->ds);
	lab->fold_of_sample = s->fold_of_sample;
	lab->target = s->target;
	lab->target_name = s->ds->target_column;
}

void nidec_samples_release(nidec_samples *s)
{
	nidec_free(s->X);
	nidec_free(s->rows);
	nidec_free(s->classes);
	nidec_free(s->y);
	nidec_free(s->runs);
	nidec_free(s->fold_of_sample);
	nidec_free(s->target);
	nidec_ds_close(&s->ds);
	memset(s, 0, sizeof(*s));
}
