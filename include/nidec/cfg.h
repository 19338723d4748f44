/*
 * cfg.h - the analysis configuration: an INI file plus `--set
 * section.key=value` overrides, turned into one typed struct.  The keys,
 * their types, ranges and defaults are one table in cfg.c (a schema of
 * keyfile.h, the loader shared with the sweep file).
 *
 * Lifecycle:
 *     nidec_cfg cfg;
 *     nidec_cfg_init(&cfg);                         defaults, nothing set
 *     nidec_cfg_load(&cfg, "a.ini", &err);          keys from a file
 *     nidec_cfg_set(&cfg, "cv.scheme=kfold", &err); overrides, any number
 *     nidec_cfg_finish(&cfg, &err);                 compat defaults, parse, validate
 *     ... read cfg.scheme, cfg.C[i], ...
 *     nidec_cfg_release(&cfg);                      leaves an empty, re-initialisable cfg
 *
 * Rules: unknown sections and keys are errors with a "did you mean"; a key
 * given twice in one file is an error; `--set` wins over the file; keys not
 * set take their default, or nilearn's when `cv.compat = nilearn` (see
 * configs/default.ini for every key, its default and its meaning).  Relative
 * paths are taken relative to the current directory, as the shell does.
 * Errors name the file (or "--set", or the option), the [section] key, the
 * value and the fix.  A bad key or value given on the command line (--set
 * or an option such as --checkpoint-interval) is NIDEC_EUSAGE (exit status
 * 2); the same in a config file, and a conflict between keys wherever they
 * came from, is NIDEC_EINPUT (exit status 1).
 * Not collective; no MPI, no I/O besides reading the INI file.
 */
#ifndef NIDEC_CFG_H
#define NIDEC_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"
#include "nidec/keyfile.h"
#include "nidec/sbuf.h"

enum nidec_standardize { NIDEC_STD_NONE, NIDEC_STD_ZSCORE, NIDEC_STD_ZSCORE_SAMPLE };
enum nidec_std_scope { NIDEC_SCOPE_TRAIN, NIDEC_SCOPE_ALL };
enum nidec_estimator {
	NIDEC_EST_SVC, NIDEC_EST_SVC_L1, NIDEC_EST_LOGISTIC, NIDEC_EST_LOGISTIC_L1, NIDEC_EST_DUMMY,
	/* regressors ([model] task = regression) */
	NIDEC_EST_SVR,             /* sklearn SVR(kernel='linear'): libsvm's epsilon-SVR */
	NIDEC_EST_RIDGE,           /* sklearn RidgeCV: alpha by efficient leave-one-out */
	NIDEC_EST_LASSO,           /* sklearn LassoCV: alpha on its path by 5-fold CV */
	NIDEC_EST_DUMMY_REGRESSOR  /* sklearn DummyRegressor: the training mean */
};
/* [model] task: what the targets are (nilearn's Decoder / DecoderRegressor). */
enum nidec_task_type { NIDEC_TASK_CLASSIFICATION, NIDEC_TASK_REGRESSION };
/* [model] solver.  Of estimator svc: dcd = nidec's dual coordinate descent
 * (liblinear's algorithm with scikit-learn's 10000-iteration limit;
 * Debian's liblinear 2.3 stops at 1000), liblinear = Debian's liblinear.
 * Of svr: smo = nidec's SMO (libsvm's algorithm with nilearn's
 * max_iter = 10000), libsvm = Debian's libsvm (no cap).  The other
 * classifiers always use liblinear; the other regressors have none. */
enum nidec_solver { NIDEC_SOLVER_DCD, NIDEC_SOLVER_LIBLINEAR, NIDEC_SOLVER_SMO, NIDEC_SOLVER_LIBSVM };
enum nidec_scheme {
	NIDEC_CV_NONE,              /* fit and predict on all samples */
	NIDEC_CV_HOLDOUT,           /* train on the first samples, test on the last */
	NIDEC_CV_KFOLD,             /* contiguous blocks, as sklearn KFold(shuffle=False) */
	NIDEC_CV_STRATIFIED_KFOLD,  /* as sklearn StratifiedKFold(shuffle=False) */
	NIDEC_CV_LEAVE_ONE_RUN_OUT, /* as sklearn LeaveOneGroupOut over runs */
	NIDEC_CV_FOLDS_FILE,        /* a TSV maps samples to folds */
	NIDEC_CV_AUTO               /* inner scheme only: LORO if runs, else stratified */
};
enum nidec_selection { NIDEC_SEL_NESTED, NIDEC_SEL_TEST_FOLD };
enum nidec_scoring {
	NIDEC_SCORE_ACCURACY, NIDEC_SCORE_BALANCED_ACCURACY, NIDEC_SCORE_ROC_AUC,
	NIDEC_SCORE_F1, NIDEC_SCORE_PRECISION, NIDEC_SCORE_RECALL,
	/* regression scores (greater is better, as scikit-learn's scorers) */
	NIDEC_SCORE_R2, NIDEC_SCORE_NEG_MSE, NIDEC_SCORE_NEG_MAE
};
enum nidec_compat { NIDEC_COMPAT_NONE, NIDEC_COMPAT_NILEARN };
enum nidec_permute_within { NIDEC_PERM_RUN, NIDEC_PERM_ALL };
/* [data] mask_strategy: what to do without [data] mask (nilearn's maskers). */
enum nidec_mask_strategy { NIDEC_MASK_NONE, NIDEC_MASK_EPI, NIDEC_MASK_BACKGROUND };
/* [clean] standardize: nilearn.signal.clean's standardize. */
enum nidec_clean_std {
	NIDEC_CLEAN_STD_NONE, NIDEC_CLEAN_STD_ZSCORE, NIDEC_CLEAN_STD_ZSCORE_SAMPLE, NIDEC_CLEAN_STD_PSC
};

typedef struct nidec_cfg {
	/* [data] */
	char *bold;            /* one 4D file, or a glob of per-run files */
	char *mask;            /* 3D mask, non-zero = inside */
	char *labels;          /* labels table (labels.txt), or NULL */
	char *events;          /* glob of per-run BIDS events.tsv, or NULL */
	char **conditions;     /* conditions to keep; n_conditions == 0: all */
	size_t n_conditions;
	char *label_column;    /* column of the labels table with the condition */
	char *run_column;      /* column of the labels table with the run */
	double hrf_shift;      /* seconds added to event onsets */
	char *dataset;         /* converted HDF5 (default <output.dir>/dataset.h5) */
	char *samples;         /* sample table (path, label, run, ... per sample), or NULL */
	char *confounds_files; /* glob of per-run confounds TSVs, or NULL */
	char *bids_root;       /* raw BIDS dataset (events), or NULL */
	char *derivatives;     /* fMRIPrep derivatives (bold, masks, confounds), or NULL = bids_root */
	char *subject;         /* BIDS subject label (without sub-) */
	char *session;         /* BIDS session label, or NULL = every session */
	char *task;            /* BIDS task label */
	char *space;           /* space entity of the derivatives, or NULL = the only one */
	char *desc;            /* desc entity of the derivatives' bold ("preproc") */
	int mask_strategy;     /* enum nidec_mask_strategy */
	char *target_column;   /* numeric column with the regression target, or NULL */

	/* [preprocess] */
	int standardize;       /* enum nidec_standardize */
	int standardize_scope; /* enum nidec_std_scope */
	double screening_percentile; /* 0 < p <= 100; 100 = no screening */

	/* [model] */
	int estimator;         /* enum nidec_estimator */
	double *C;             /* C grid, in the order given */
	size_t n_C;
	double tol;            /* solver stopping tolerance */
	int solver;            /* enum nidec_solver (svc and svr) */
	int task_type;         /* enum nidec_task_type */
	double *alphas;        /* ridge: alpha grid, in the order given */
	size_t n_alphas;
	int lasso_n_alphas;    /* lasso: alphas on the path (eps 1e-3) */
	double epsilon;        /* svr: half-width of the insensitive tube */

	/* [cv] */
	int scheme;            /* enum nidec_scheme (outer: what is reported) */
	int n_folds;           /* folds of kfold / stratified-kfold */
	double holdout;        /* >= 1: last N samples; in (0,1): fraction */
	char *folds_file;      /* TSV for scheme folds-file */
	int selection;         /* enum nidec_selection */
	int inner_scheme;      /* enum nidec_scheme, or NIDEC_CV_NONE */
	int inner_folds;       /* folds of a k-fold inner scheme */
	int scoring;           /* enum nidec_scoring */
	int compat;            /* enum nidec_compat */
	long permutations;     /* null permutations (0 = none) */
	int permute_within;    /* enum nidec_permute_within */
	uint64_t seed;         /* master seed */

	/* [output] */
	char *dir;             /* output directory */
	int report;            /* write report.html */
	double progress;       /* seconds between progress lines, 0 = off */
	double checkpoint_interval; /* seconds between syncs of the checkpoint ledger */

	/* [searchlight] */
	double sl_radius;      /* sphere radius in mm */
	char *sl_process_mask; /* the sphere centres (a mask image), or NULL: the mask */
	size_t sl_min_voxels;  /* smaller spheres are skipped (NaN in the maps) */

	/* [clean] (nilearn's masker and signal.clean; NaN = not set) */
	double smoothing_fwhm; /* mm, NaN or 0 = no smoothing */
	int detrend;           /* linear detrend */
	int clean_standardize; /* enum nidec_clean_std */
	double low_pass;       /* Hz, NaN = none */
	double high_pass;      /* Hz, NaN = none */
	double t_r;            /* s, NaN = the header's */
	char **confounds;      /* confound columns (names or globs) */
	size_t n_confounds;
	char **confounds_strategy; /* load_confounds presets ("motion:full", ...) */
	size_t n_confounds_strategy;
	int standardize_confounds;

	/* bookkeeping (not keys) */
	nidec_keyfile kf;      /* the values as given, with their origins */
	int finished;
} nidec_cfg;

/* The keys (for the option parser: --set and options such as --progress
 * are checked against it as they are parsed). */
extern const nidec_keyschema nidec_cfg_schema;

void nidec_cfg_init(nidec_cfg *cfg);

/* Read an INI file.  On error `cfg` keeps the keys read before the bad one
 * and `err` names the file, section, key and fix. */
int nidec_cfg_load(nidec_cfg *cfg, const char *path, nidec_err *err);

/* Apply one "section.key=value" override from --set (a command-line value:
 * its errors are NIDEC_EUSAGE). */
int nidec_cfg_set(nidec_cfg *cfg, const char *assignment, nidec_err *err);

/* The same for an option that sets a key: `option` ("--checkpoint-interval")
 * is the value's origin in messages; NULL or "--set" is nidec_cfg_set(). */
int nidec_cfg_override(nidec_cfg *cfg, const char *assignment, const char *option,
		       nidec_err *err);

/* Set one key programmatically (a sweep's subject files); `origin` names
 * where the value comes from in messages.  Not a command-line value. */
int nidec_cfg_put(nidec_cfg *cfg, const char *section, const char *key,
		  const char *value, const char *origin, nidec_err *err);

/* True if the key was given (file, --set or put), false if defaulted. */
int nidec_cfg_is_set(const nidec_cfg *cfg, const char *section, const char *key);

/* Fill defaults (nilearn's when compat = nilearn), parse every value and
 * check each one and their combinations.  Call once, after all overrides. */
int nidec_cfg_finish(nidec_cfg *cfg, nidec_err *err);

/* Canonical INI text of the effective configuration (every key, sorted by
 * schema order), used for provenance and the config hash.  After finish. */
int nidec_cfg_dump(const nidec_cfg *cfg, nidec_sbuf *out);

/* The effective value string of a key (after finish), or NULL if unknown. */
const char *nidec_cfg_value(const nidec_cfg *cfg, const char *section, const char *key);

void nidec_cfg_release(nidec_cfg *cfg);

/* True when [clean] asks for any cleaning besides smoothing (a time series
 * step: detrend, a filter, confounds, standardize). */
int nidec_cfg_cleans(const nidec_cfg *cfg);

/* Names of enum values, as written in the INI file. */
const char *nidec_scheme_name(int scheme);
const char *nidec_scoring_name(int scoring);
const char *nidec_estimator_name(int estimator);
const char *nidec_clean_std_name(int standardize);
const char *nidec_mask_strategy_name(int strategy);
const char *nidec_task_type_name(int task_type);

/* 1 for an estimator of continuous targets (svr, ridge, lasso,
 * dummy_regressor), 0 for a classifier. */
int nidec_estimator_is_regressor(int estimator);
/* 1 for a score of continuous predictions (r2, neg_mean_*_error). */
int nidec_scoring_is_regression(int scoring);

/* nidec_split_list() and nidec_strv_free() are in keyfile.h. */

#endif
