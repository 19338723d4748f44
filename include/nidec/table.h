/*
 * table.h - text tables with a header line (src/io/table.c): the sample
 * tables of [data] samples and the confounds TSVs of fMRIPrep, read by one
 * general reader that keeps every column by name (so later readers - a
 * continuous target, a trial attribute - take what they need).
 *
 * Format: a header line naming the columns, then one line per row; fields
 * are separated by tabs when the header holds a tab (BIDS TSV), else by
 * runs of blanks.  Blank lines are skipped; CR LF line ends and a UTF-8
 * byte order mark are accepted; NUL bytes are refused.  Every row must have
 * as many fields as the header (an error names the file, the line and the
 * counts).  Cells are kept as text, trimmed of surrounding blanks.
 *
 * Lifecycle: nidec_table t = NIDEC_TABLE_INIT; nidec_table_read(path, ...,
 * &t, &err); ... nidec_table_release(&t) (leaves an empty table).  On
 * error *t is left empty.  Not collective; no MPI, HDF5 or NIfTI.
 */
#ifndef NIDEC_TABLE_H
#define NIDEC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

typedef struct nidec_table {
	char *path;        /* the file read */
	size_t n_cols;
	char **cols;       /* [n_cols] header names */
	size_t n_rows;
	char **cells;      /* [n_rows * n_cols] row-major, pointers into buf */
	size_t *lineno;    /* [n_rows] line of each row in the file (1-based) */
	char *buf;         /* the file's text */
} nidec_table;

#define NIDEC_TABLE_INIT { NULL, 0, NULL, 0, NULL, NULL, NULL }

/* Read `path`; `what` names the table in messages ("sample table").
 * Errors: missing or binary file, no header, a duplicate column name, a
 * row with another field count, a file without rows. */
int nidec_table_read(const char *path, const char *what, nidec_table *t, nidec_err *err);
void nidec_table_release(nidec_table *t);

/* Index of the column `name`, or -1. */
long nidec_table_col(const nidec_table *t, const char *name);
static inline const char *nidec_table_cell(const nidec_table *t, size_t row, size_t col)
{
	return t->cells[row * t->n_cols + col];
}

/* "did you mean": the column closest to `name`, or NULL; and the header
 * as a comma-separated list (at most `n` bytes). */
const char *nidec_table_suggest(const nidec_table *t, const char *name);
void nidec_table_columns_text(const nidec_table *t, char *buf, size_t n);

/* ---- continuous targets ([data] target_column) ---------------------------- */

/* 0 and *v = the value if `s` is a whole finite decimal number ("3",
 * "-0.004", "1e-3"), else -1 (*v untouched): empty, "n/a", "nan", "inf",
 * hexadecimal, trailing text. */
int nidec_target_parse(const char *s, double *v);

/* The column `name` of t as numbers: *out = a new array of t->n_rows
 * doubles (free with nidec_free).  `what` names the table in messages
 * ("labels table").  Errors (NIDEC_EINPUT, *out untouched): no such
 * column (with the header and a "did you mean"), a cell that is not a
 * finite number (naming the line, the value and the fix). */
int nidec_table_target(const nidec_table *t, const char *name, const char *what, double **out,
		       nidec_err *err);

/* ---- sample tables ([data] samples) -------------------------------------- */

/*
 * One sample per row: `path` (a 3D image, or a 4D image with `volume`, the
 * 0-based index), the label column, the run column; relative paths are
 * relative to the table's directory.  Every other column is kept as a
 * sample attribute (in table order), e.g. for predictions.tsv.  Runs are
 * numbered 0.. as a labels table numbers them (numeric order when every
 * value is an integer, else byte order).
 */
typedef struct nidec_sample_table {
	char *path;          /* the table */
	size_t n;            /* samples */
	size_t *line;        /* [n] line of each sample in the table */
	char **image;        /* [n] image paths, resolved */
	int64_t *volume;     /* [n] 0-based volume, -1 = none given */
	char **label;        /* [n] */
	int32_t *run;        /* [n] 0-based run index */
	char **run_names;    /* [n_runs] run values as written */
	size_t n_runs;
	size_t n_attrs;
	char **attr_names;   /* [n_attrs] */
	char **attr_values;  /* [n * n_attrs] */
} nidec_sample_table;

#define NIDEC_SAMPLE_TABLE_INIT { NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL }

/* Errors name the table, the line and the fix: no path / label / run
 * column, an empty path, a missing image, a volume that is not a whole
 * number >= 0. */
int nidec_sample_table_read(const char *path, const char *label_column, const char *run_column,
			    nidec_sample_table *t, nidec_err *err);
void nidec_sample_table_release(nidec_sample_table *t);

/*
 * The voxels ijk (C order over the grid, as a dataset's) of the volumes of
 * the table's samples, in table order: *X gets a new n x n_voxels float32
 * matrix.  Every image must be on the grid (dims, affine within 1e-4 mm);
 * a 4D image needs a volume inside it, a 3D image none (or 0).  Non-finite
 * values become 0 with a warning.  Used by `nidec predict --samples`.
 */
int nidec_sample_table_extract(const nidec_sample_table *t, const int64_t dims[3],
			       const double affine[16], const int32_t *ijk, size_t n_voxels,
			       float **X, nidec_err *err);

#endif
