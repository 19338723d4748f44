/*
 * cvdata.c - one subject's analysed data (cvdata.h): read, select, folds
 * file, plan, statistics, provenance and checkpoint ledger.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cvdata.h"
#include "nidec/log.h"
#include "nidec/mem.h"
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

/* Keep the samples whose condition is in [data] conditions (all if the
 * list is empty); classes = the kept conditions in byte order. */
static int select_samples(nidec_cvdata *j, const nidec_cfg *cfg, nidec_err *err)
{
	nidec_dataset *ds = j->ds;
	size_t i, k;

	j->classes = nidec_calloc_e(ds->n_conditions + 1, sizeof(char *), "the class list", err);
	if (!j->classes)
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
			for (c = 0; c < j->n_classes; c++)
				if (!strcmp(j->classes[c], cfg->conditions[k]))
					break;
			if (c == j->n_classes)
				j->classes[j->n_classes++] = cfg->conditions[k];
		}
	} else {
		for (k = 0; k < ds->n_conditions; k++)
			j->classes[j->n_classes++] = ds->conditions[k];
	}
	qsort(j->classes, j->n_classes, sizeof(char *), cmp_str);
	if (j->n_classes < 2)
		return nidec_fail(err, NIDEC_EINPUT,
				  "decoding needs at least two conditions, dataset '%s' selection has %zu; set [data] conditions = a, b",
				  ds->path, j->n_classes);

	j->rows = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(size_t), "the sample list", err);
	j->y = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int), "the labels", err);
	j->runs = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int), "the runs", err);
	if (!j->rows || !j->y || !j->runs)
		return NIDEC_ENOMEM;
	for (i = 0; i < ds->n_samples; i++) {
		int c = class_index(j->classes, j->n_classes, ds->labels[i]);
		if (c < 0)
			continue;
		j->rows[j->n] = i;
		j->y[j->n] = c;
		j->runs[j->n] = ds->runs[i];
		j->n++;
	}
	if (j->n == 0)
		return nidec_fail(err, NIDEC_EINPUT, "dataset '%s' has no sample of the selected conditions",
				  ds->path);
	/* compact X to the kept rows (ascending, so in place) */
	for (i = 0; i < j->n; i++)
		if (j->rows[i] != i)
			memmove(j->X + i * j->p, j->X + j->rows[i] * j->p, j->p * sizeof(float));
	return 0;
}

/* [cv] folds_file: a TSV with a header naming columns `sample` and `fold`
 * (sample = index among the analysed samples; fold >= 0, or -1 = never
 * tested).  Samples not listed are never tested. */
static int read_folds_file(nidec_cvdata *j, const char *path, nidec_err *err)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int col_s = -1, col_f = -1, lineno = 0, rc = 0;
	size_t i;

	if (!f)
		return nidec_fail(err, NIDEC_EIO, "cannot open [cv] folds_file '%s': %s", path, strerror(errno));
	j->fold_of_sample = nidec_malloc_e(j->n, sizeof(int), "the fold assignment", err);
	if (!j->fold_of_sample) {
		fclose(f);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < j->n; i++)
		j->fold_of_sample[i] = -1;
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;
		long s = -1, fo = -2;
		int c = 0;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (col_s < 0) {
			for (tok = strtok_r(line, "\t ", &save); tok; tok = strtok_r(NULL, "\t ", &save), c++) {
				if (!strcmp(tok, "sample"))
					col_s = c;
				else if (!strcmp(tok, "fold"))
					col_f = c;
			}
			if (col_s < 0 || col_f < 0) {
				rc = nidec_fail(err, NIDEC_EINPUT,
						"[cv] folds_file '%s' line %d: the header must name the columns 'sample' and 'fold'",
						path, lineno);
				break;
			}
			continue;
		}
		for (tok = strtok_r(line, "\t ", &save); tok; tok = strtok_r(NULL, "\t ", &save), c++) {
			char *end;
			long v;
			if (c != col_s && c != col_f)
				continue;
			errno = 0;
			v = strtol(tok, &end, 10);
			if (*end || errno || end == tok) {
				rc = nidec_fail(err, NIDEC_EINPUT,
						"[cv] folds_file '%s' line %d: '%s' is not a whole number",
						path, lineno, tok);
				break;
			}
			if (c == col_s)
				s = v;
			else
				fo = v;
		}
		if (rc < 0)
			break;
		if (s < 0 || (size_t)s >= j->n || fo < -1 || fo > 1000000) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"[cv] folds_file '%s' line %d: sample must be in 0..%zu and fold >= -1",
					path, lineno, j->n - 1);
			break;
		}
		j->fold_of_sample[s] = (int)fo;
	}
	if (rc == 0 && ferror(f))
		rc = nidec_fail(err, NIDEC_EIO, "cannot read [cv] folds_file '%s'", path);
	if (rc == 0 && col_s < 0)
		rc = nidec_fail(err, NIDEC_EINPUT, "[cv] folds_file '%s' is empty; give a header 'sample fold' and one line per sample",
				path);
	fclose(f);
	return rc;
}

int nidec_cvdata_load(nidec_cvdata *j, const nidec_cfg *cfg, const char *dataset, nidec_err *err)
{
	NIDEC_TRY(nidec_ds_open(dataset, &j->ds, err));
	j->p = j->ds->n_voxels;
	NIDEC_TRY(nidec_ds_read_matrix(j->ds, &j->X, err));
	NIDEC_TRY(select_samples(j, cfg, err));
	if (cfg->scheme == NIDEC_CV_FOLDS_FILE)
		NIDEC_TRY(read_folds_file(j, cfg->folds_file, err));
	return 0;
}

int nidec_cvdata_plan(nidec_cvdata *j, const nidec_cfg *cfg, nidec_err *err)
{
	nidec_labels lab;

	memset(&lab, 0, sizeof(lab));
	lab.n = j->n;
	lab.p = j->p;
	lab.y = j->y;
	lab.runs = j->runs;
	lab.n_classes = j->n_classes;
	lab.class_names = (const char *const *)j->classes;
	lab.voxel_volume_mm3 = nidec_ds_voxel_volume(j->ds);
	lab.fold_of_sample = j->fold_of_sample;
	return nidec_plan_create(cfg, &lab, &j->plan, err);
}

int nidec_cvdata_stats(nidec_cvdata *j, const nidec_cfg *cfg, nidec_err *err)
{
	size_t i, v;
	double ddof;

	if (cfg->standardize == NIDEC_STD_NONE)
		return 0;
	ddof = cfg->standardize == NIDEC_STD_ZSCORE_SAMPLE ? 1.0 : 0.0;
	j->mean = nidec_calloc_e(j->p ? j->p : 1, sizeof(double), "column means", err);
	j->scale = nidec_calloc_e(j->p ? j->p : 1, sizeof(double), "column scales", err);
	if (!j->mean || !j->scale)
		return NIDEC_ENOMEM;
	for (i = 0; i < j->n; i++)
		for (v = 0; v < j->p; v++)
			j->mean[v] += j->X[i * j->p + v];
	for (v = 0; v < j->p; v++)
		j->mean[v] /= (double)j->n;
	for (i = 0; i < j->n; i++)
		for (v = 0; v < j->p; v++) {
			double d = j->X[i * j->p + v] - j->mean[v];
			j->scale[v] += d * d;
		}
	for (v = 0; v < j->p; v++) {
		double s = (double)j->n > ddof ? sqrt(j->scale[v] / ((double)j->n - ddof)) : 0;
		j->scale[v] = s < DBL_EPSILON ? 1.0 : s;
	}
	return 0;
}

void nidec_cvdata_info(const nidec_cvdata *d, const nidec_cfg *cfg, nidec_comm *comm,
		       const char *ledger_path, nidec_results_info *info)
{
	memset(info, 0, sizeof(*info));
	info->cfg = cfg;
	info->ds = d->ds;
	info->n_samples = d->n;
	info->rows = d->rows;
	info->class_names = (const char *const *)d->classes;
	info->n_classes = d->n_classes;
	info->std_mean = d->mean;
	info->std_scale = d->scale;
	info->version = nidec_version;
	info->command_line = nidec_cli_command_line();
	info->mpi_version = nidec_comm_library_version();
	info->n_ranks = nidec_comm_size(comm);
	info->ledger_path = ledger_path;
}

void nidec_cvdata_release(nidec_cvdata *d)
{
	nidec_plan_free(&d->plan);
	nidec_free(d->X);
	nidec_free(d->rows);
	nidec_free(d->classes);
	nidec_free(d->y);
	nidec_free(d->runs);
	nidec_free(d->fold_of_sample);
	nidec_free(d->mean);
	nidec_free(d->scale);
	nidec_ds_close(&d->ds);
	memset(d, 0, sizeof(*d));
}

int nidec_cvdata_open_ledger(const nidec_cvdata *d, const nidec_cfg *cfg,
			     const nidec_cvdata_ckpt *ck, nidec_result **results, size_t n_tasks,
			     char *path, size_t len, nidec_ledger **lg, size_t *n_loaded,
			     nidec_err *err)
{
	nidec_ledger_id id;
	nidec_sbuf text = NIDEC_SBUF_INIT;
	char h5[4200];
	const char *who = ck->who ? ck->who : "";
	int rc = 0, n, extracted = 0;

	*n_loaded = 0;
	memset(&id, 0, sizeof(id));
	n = snprintf(path, len, "%s/%s", cfg->dir, NIDEC_LEDGER_NAME);
	if (n < 0 || (size_t)n >= len ||
	    (n = snprintf(h5, sizeof(h5), "%s/results.h5", cfg->dir)) < 0 || (size_t)n >= sizeof(h5))
		return nidec_fail(err, NIDEC_EINPUT, "[output] dir '%s' is too long", cfg->dir);
	NIDEC_TRY_GOTO(rc, nidec_ledger_config_hash(cfg, &text, id.config_sha256, err), done);
	id.config_text = text.buf;
	snprintf(id.inputs_sha256, sizeof(id.inputs_sha256), "%s",
		 d->ds->inputs_sha256 ? d->ds->inputs_sha256 : "");
	snprintf(id.version, sizeof(id.version), "%s", nidec_version);
	id.n_tasks = n_tasks;

	if (ck->resume) {
		if (ck->from_results_h5 && access(path, F_OK) < 0) {
			/* a run that completed: its ledger lives on in results.h5 */
			NIDEC_TRY_GOTO(rc, nidec_results_extract_ledger(h5, path, &extracted, err), done);
		}
		if (access(path, F_OK) == 0) {
			rc = nidec_ledger_resume(path, extracted ? h5 : NULL, &id, ck->interval, results,
						 n_tasks, ck->on_loaded, ck->arg, n_loaded, lg, err);
			if (rc < 0 && extracted)
				unlink(path);
			if (rc == 0)
				nidec_info("%sresume: %zu of %zu tasks already done (%s '%s')", who, *n_loaded,
					   n_tasks, extracted ? "ledger kept in" : "checkpoint",
					   extracted ? h5 : path);
			goto done;
		}
		nidec_info("%sresume: no checkpoint in '%s'; starting from the beginning", who, cfg->dir);
	} else if (access(path, F_OK) == 0) {
		nidec_warn("%sreplacing the checkpoint of an unfinished run '%s' (to continue that run instead, add --resume)",
			   who, path);
	}
	rc = nidec_ledger_create(path, &id, ck->interval, lg, err);
done:
	nidec_sbuf_release(&text);
	return rc;
}
