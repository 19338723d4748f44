/*
 * resultdir.h - the one reader of a results directory: the files
 * nidec_results_write leaves in [output] dir (see results.h for what each
 * holds), read back by `nidec report` (src/report) and by the group
 * statistics of a sweep (src/job/group.c), which need the same things:
 * summary.json as a JSON object, its scores per class, the TSV tables,
 * null_scores.tsv as numbers; and a sweep's own JSON files for its group
 * page.
 *
 * Rules:
 *  - files are read whole through the file layer (nidec_file_read), at
 *    most NIDEC_RESULTDIR_READ_MAX bytes each;
 *  - a file that is not what nidec writes is NIDEC_EFORMAT with a message
 *    naming the file, the line or field, and what is wrong; a missing file
 *    is an error unless the caller says it may be missing
 *    (NIDEC_FILE_MISSING_OK: the result is then empty and the call returns
 *    0), since both readers go on without it;
 *  - out-parameters are left as they were on error; everything returned is
 *    the caller's (release functions are NULL-safe and leave the object
 *    empty, as NIDEC_*_INIT).
 * Not collective; no MPI, no HDF5.
 */
#ifndef NIDEC_RESULTDIR_H
#define NIDEC_RESULTDIR_H

#include <stddef.h>

#include <jansson.h>

#include "nidec/err.h"
#include "nidec/file.h"

/* The largest result file read (a TSV of predictions of a long study is a
 * few MiB; anything near this is not a result file). */
#define NIDEC_RESULTDIR_READ_MAX ((size_t)1 << 30)

/* A TSV table with a header line, read whole: tab-separated cells, lines
 * ending in "\n" or "\r\n", an empty last line allowed; every row must have
 * the header's number of columns. */
typedef struct nidec_result_table {
	char *text;     /* the file's bytes, tabs and line ends replaced by NULs */
	size_t n_cols;  /* columns of the header */
	size_t n_rows;  /* data rows (the header not counted) */
	char **cell;    /* [(n_rows + 1) * n_cols] into text: row 0 is the header */
} nidec_result_table;

#define NIDEC_RESULT_TABLE_INIT { NULL, 0, 0, NULL }

/* Read the table `path` into *t (released by the caller): 0, NIDEC_EIO,
 * NIDEC_EFORMAT ("'%s' line %zu has %zu columns, the header %zu"),
 * NIDEC_EINPUT (too large) or NIDEC_ENOMEM. */
int nidec_resultdir_read_table(const char *path, nidec_result_table *t, nidec_err *err);
/* The index of column `name` in the header, or -1. */
int nidec_result_table_col(const nidec_result_table *t, const char *name);
/* Cell (data row `row` from 0, column `col`), or "" when col is -1. */
const char *nidec_result_table_at(const nidec_result_table *t, size_t row, int col);
void nidec_result_table_release(nidec_result_table *t);

/*
 * summary.json of results directory `dir`: *out a JSON object (the caller
 * json_decref()s it).  A file that does not parse is NIDEC_EFORMAT,
 * "'<dir>/summary.json' line N: <jansson's reason>".  With
 * NIDEC_FILE_MISSING_OK a missing file gives *out = NULL and 0.
 */
int nidec_resultdir_read_summary(const char *dir, unsigned flags, json_t **out, nidec_err *err);

/* The same for any JSON object `name` of `dir` (a sweep's
 * group_summary.json, dataset_description.json); "is it a <name> written
 * by nidec?" when it is not an object. */
int nidec_resultdir_read_json(const char *dir, const char *name, unsigned flags, json_t **out,
			      nidec_err *err);

/* The scores of a summary.json, as the group statistics use them. */
typedef struct nidec_result_scores {
	size_t n_keys;
	char **keys;       /* [n_keys] "keys": one per binary / one-vs-rest problem */
	size_t n_classes;  /* entries of "classes" (n_keys when absent) */
	size_t n_folds;    /* "n_folds" */
	double *mean;      /* [n_keys] scores.<key>.mean (NaN when not a number) */
	double *std;       /* [n_keys] scores.<key>.std */
	double *chosen_C;  /* [n_keys * n_folds] scores.<key>.chosen_C[fold] */
} nidec_result_scores;

#define NIDEC_RESULT_SCORES_INIT { 0, NULL, 0, 0, NULL, NULL, NULL }

/* Fill *s from `summary` (read from `path`, for messages): 0,
 * NIDEC_EFORMAT (no keys or scores, a key that is not a string, a class
 * without scores) or NIDEC_ENOMEM; *s untouched on error. */
int nidec_resultdir_scores(const json_t *summary, const char *path, nidec_result_scores *s,
			   nidec_err *err);
void nidec_result_scores_release(nidec_result_scores *s);

/*
 * null_scores.tsv (`path`) as numbers: *null becomes a new [n_perm *
 * n_keys] array (nidec_free), its columns in the order of `keys`, and
 * *n_perm the number of permutations.  NIDEC_EFORMAT when the header does
 * not start with "permutation" or lacks a column of `keys`, or a cell is
 * not a number.  With NIDEC_FILE_MISSING_OK a missing file gives
 * *null = NULL, *n_perm = 0 and 0.
 */
int nidec_resultdir_read_null(const char *path, const char *const *keys, size_t n_keys,
			      unsigned flags, double **null, long *n_perm, nidec_err *err);

#endif
