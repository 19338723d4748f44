/*
 * results.h - the files of an output directory, written on rank 0 from a
 * reduced nidec_outcome, and the model reader used by `nidec predict`.
 *
 *   scores.tsv        class fold C score [inner_score]   one row per class key and outer fold
 *   grid_scores.tsv   class fold C score inner_score     one row per C tried
 *   predictions.tsv   sample run fold true predicted decision (or decision_<class> for K > 2)
 *                     [then the dataset's sample attributes, when it has some]
 *   null_scores.tsv   permutation <class>...          one row per permutation (permutations > 0)
 *   summary.json      mean/std score per class, chosen C, confusion, permutation
 *                     test (null distribution, p-values), config, provenance
 *   model.h5          the fold-averaged model + mask + preprocessing (see nidec_model)
 *   results.h5        every array above + provenance + the checkpoint ledger
 *                     of the run's task results (/ledger, see ledger.h)
 *   weights_<class>.nii.gz, weights_std_<class>.nii.gz   float32 maps on the mask grid
 *
 * Every file is written to a temporary of the file layer (file.h) in the
 * same directory and renamed, so no half-written file ever carries a final
 * name.  Doubles are
 * written with "%.17g" (read back exactly); folds and samples are 0-based;
 * `sample` is the index among the analysed samples (the rows of the
 * dataset kept by [data] conditions, in dataset order), `run` the dataset's
 * 0-based run index.
 *
 * Not collective; no MPI (callers pass what they know about MPI as text).
 * hdf5.h stays inside src/io (results.c, model.c, h5w.c).
 */
#ifndef NIDEC_RESULTS_H
#define NIDEC_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/cfg.h"
#include "nidec/dataset.h"
#include "nidec/err.h"
#include "nidec/file.h"
#include "nidec/outcome.h"
#include "nidec/result.h"
#include "nidec/timing.h"

#define NIDEC_MODEL_FORMAT_VERSION 1

/* What the writers need besides the outcome.  Everything is borrowed. */
typedef struct nidec_results_info {
	const nidec_cfg *cfg;          /* finished config */
	const nidec_dataset *ds;       /* grid, affine, ijk, runs, path, inputs_sha256 */
	size_t n_samples;              /* samples analysed */
	const size_t *rows;            /* [n_samples] dataset row of each sample, NULL = identity */
	const char *const *class_names;/* [n_classes], sorted (the plan's classes) */
	size_t n_classes;
	/* preprocessing statistics of all analysed samples (model.h5, used by
	 * predict outside compat mode), [p] each; NULL when standardize = none */
	const double *std_mean;
	const double *std_scale;
	/* provenance */
	const char *version;           /* nidec_version */
	const char *command_line;      /* nidec_cli_command_line() */
	const char *mpi_version;       /* nidec_comm_library_version() */
	const char *liblinear_version; /* may be NULL */
	int n_ranks;
	const nidec_timing *timing;    /* NULL unless --timing (timing.h) */
	/* the run's checkpoint ledger file (ledger.h), copied into
	 * results.h5's /ledger; NULL = none */
	const char *ledger_path;
	/* warnings of the run, one per line ("\n"-terminated), or NULL:
	 * summary.json "warnings" */
	const char *warnings;
	/* per-sample attributes of the dataset's rows (a sample table's other
	 * columns; a BIDS run's label, volume, time and onset), appended to
	 * predictions.tsv as columns; n_attrs = 0: none */
	size_t n_attrs;
	const char *const *attr_names;   /* [n_attrs] */
	const char *const *attr_values;  /* [dataset rows * n_attrs] */
} nidec_results_info;

/* Create `dir` (and missing parents) if needed and check that a file can
 * be created in it.  Call before the work starts, so a bad directory fails
 * early; creates nothing else. */
int nidec_results_prepare_dir(const char *dir, nidec_err *err);

/* Write every file of the list above into `dir`, all or nothing
 * (tests/bad/README.md B11): each file is written to its temporary in
 * `dir` (file.h) and closed; only when all are complete are they renamed
 * into place, summary.json last, so a reader that sees summary.json sees
 * the whole run.  On error every temporary is removed, `dir` keeps what it
 * held before, and `err` names the file. */
int nidec_results_write(const char *dir, const nidec_outcome *o,
			const nidec_results_info *info, nidec_err *err);

/* The files one by one, each into temporary `t` (file.h), whose target
 * names the file in messages; the temporary is closed, not committed: the
 * caller commits or aborts it (nidec_results_write commits them all
 * together).  0 or a negative NIDEC_E*. */
int nidec_results_write_scores(nidec_tempfile *t, const nidec_outcome *o, nidec_err *err);
int nidec_results_write_grid(nidec_tempfile *t, const nidec_outcome *o, nidec_err *err);
int nidec_results_write_predictions(nidec_tempfile *t, const nidec_outcome *o,
				    const nidec_results_info *info, nidec_err *err);
int nidec_results_write_summary(nidec_tempfile *t, const nidec_outcome *o,
				const nidec_results_info *info, nidec_err *err);
int nidec_results_write_model(nidec_tempfile *t, const nidec_outcome *o,
			      const nidec_results_info *info, nidec_err *err);
int nidec_results_write_h5(nidec_tempfile *t, const nidec_outcome *o,
			   const nidec_results_info *info, nidec_err *err);
/* null_scores.tsv: header "permutation<TAB><key>...", then one line per
 * permutation 1..N with its null score per key (the mean over outer folds
 * of that permutation's fold scores).  Only for o->n_perm > 0
 * (nidec_results_write otherwise removes a stale one). */
int nidec_results_write_null(nidec_tempfile *t, const nidec_outcome *o, nidec_err *err);

/* Copy the checkpoint ledger kept in results.h5 (/ledger/records) to
 * `ledger_path` (temporary name + rename), for `--resume` of a run whose
 * sidecar ledger was merged and removed.  *found = 0 (and nothing is
 * written) when `h5path` does not exist or holds no ledger. */
int nidec_results_extract_ledger(const char *h5path, const char *ledger_path, int *found,
				 nidec_err *err);

/* File-name-safe form of a class name ("a/b c" -> "a_b_c"), in buf. */
void nidec_results_safe_name(const char *name, char *buf, size_t len);

/*
 * model.h5, read back by `nidec predict`.  Layout:
 *   /coef [n_problems, p] f64, /intercept [n_problems] f64, /classes [n_classes] str
 *   /mask/ijk [p, 3] i32, /mask/dims [3] i64, /mask/affine [4, 4] f64
 *   /preprocess/mean, /preprocess/scale [p] f64 (only when `has_stats`)
 *   root attributes: format_version, standardize ("none", "zscore",
 *   "zscore_sample"), compat ("none", "nilearn"), estimator, nidec_version,
 *   task ("regression" only, issue 18: classes is then the target's name),
 *   dataset, inputs_sha256, config
 * Decision: d_j = x . coef_j + intercept_j on standardized x.  K = 2: one
 * problem, classes[1] where d > 0 else classes[0]; K > 2: argmax_j d_j,
 * first maximum wins (nilearn's predict).
 */
typedef struct nidec_model {
	size_t n_problems;
	size_t p;
	double *coef;          /* [n_problems * p] */
	double *intercept;     /* [n_problems] */
	size_t n_classes;
	char **classes;        /* [n_classes] */
	int32_t *ijk;          /* [p * 3] */
	int64_t dims[3];
	double affine[16];
	int standardize;       /* enum nidec_standardize */
	int compat;            /* enum nidec_compat */
	int has_stats;         /* mean/scale present */
	double *mean;          /* [p] or NULL */
	double *scale;         /* [p] or NULL */
	int regression;        /* root attribute task = "regression": one problem whose
				* decision is the predicted target; classes = [the target] */
} nidec_model;

int nidec_model_read(const char *path, nidec_model **out, nidec_err *err);
void nidec_model_free(nidec_model **m);

#endif
