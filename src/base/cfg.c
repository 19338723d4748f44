/*
 * cfg.c - the analysis configuration: its keys (one table, `keys`, a
 * schema of keyfile.h), defaults, overrides and validation.  See
 * include/nidec/cfg.h for the lifecycle.
 *
 * Design: each key is one line of `keys`: section, name, type with its
 * range or accepted names, default and, where it differs, nilearn's
 * default.  Values are kept as strings (keyfile.c) until nidec_cfg_finish(),
 * which picks the defaults (compat decides which) and reads every key into
 * its typed field, in table order.  So `--set` overrides, compat defaults,
 * "did you mean" suggestions, the option parser's checks of --set and the
 * canonical dump all come from the same table.  Adding a key: a field in
 * nidec_cfg, its K_ index and table line (at the end of its section: the
 * dump's order is part of the config hash), the line of nidec_cfg_finish()
 * that reads it, and its paragraph in configs/default.ini.
 * Depends on libc and libinih (through keyfile.c) only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/cfg.h"
#include "nidec/mem.h"

static const nidec_key_name std_names[] = {
	{ "none", NIDEC_STD_NONE }, { "zscore", NIDEC_STD_ZSCORE },
	{ "zscore_sample", NIDEC_STD_ZSCORE_SAMPLE }, { NULL, 0 }
};
static const nidec_key_name scope_names[] = {
	{ "train", NIDEC_SCOPE_TRAIN }, { "all", NIDEC_SCOPE_ALL }, { NULL, 0 }
};
static const nidec_key_name est_names[] = {
	{ "svc", NIDEC_EST_SVC }, { "svc_l1", NIDEC_EST_SVC_L1 },
	{ "logistic", NIDEC_EST_LOGISTIC }, { "logistic_l1", NIDEC_EST_LOGISTIC_L1 },
	{ "dummy", NIDEC_EST_DUMMY }, { "svr", NIDEC_EST_SVR }, { "ridge", NIDEC_EST_RIDGE },
	{ "lasso", NIDEC_EST_LASSO }, { "dummy_regressor", NIDEC_EST_DUMMY_REGRESSOR }, { NULL, 0 }
};
static const nidec_key_name task_names[] = {
	{ "classification", NIDEC_TASK_CLASSIFICATION }, { "regression", NIDEC_TASK_REGRESSION },
	{ NULL, 0 }
};
static const nidec_key_name solver_names[] = {
	{ "dcd", NIDEC_SOLVER_DCD }, { "liblinear", NIDEC_SOLVER_LIBLINEAR },
	{ "smo", NIDEC_SOLVER_SMO }, { "libsvm", NIDEC_SOLVER_LIBSVM }, { NULL, 0 }
};
static const nidec_key_name scheme_names[] = {
	{ "none", NIDEC_CV_NONE }, { "holdout", NIDEC_CV_HOLDOUT },
	{ "kfold", NIDEC_CV_KFOLD }, { "stratified-kfold", NIDEC_CV_STRATIFIED_KFOLD },
	{ "leave-one-run-out", NIDEC_CV_LEAVE_ONE_RUN_OUT },
	{ "folds-file", NIDEC_CV_FOLDS_FILE }, { NULL, 0 }
};
static const nidec_key_name inner_names[] = {
	{ "auto", NIDEC_CV_AUTO }, { "none", NIDEC_CV_NONE },
	{ "kfold", NIDEC_CV_KFOLD }, { "stratified-kfold", NIDEC_CV_STRATIFIED_KFOLD },
	{ "leave-one-run-out", NIDEC_CV_LEAVE_ONE_RUN_OUT }, { NULL, 0 }
};
static const nidec_key_name sel_names[] = {
	{ "nested", NIDEC_SEL_NESTED }, { "test-fold", NIDEC_SEL_TEST_FOLD }, { NULL, 0 }
};
static const nidec_key_name scoring_names[] = {
	{ "accuracy", NIDEC_SCORE_ACCURACY },
	{ "balanced_accuracy", NIDEC_SCORE_BALANCED_ACCURACY },
	{ "roc_auc", NIDEC_SCORE_ROC_AUC }, { "f1", NIDEC_SCORE_F1 },
	{ "precision", NIDEC_SCORE_PRECISION }, { "recall", NIDEC_SCORE_RECALL },
	{ "r2", NIDEC_SCORE_R2 }, { "neg_mean_squared_error", NIDEC_SCORE_NEG_MSE },
	{ "neg_mean_absolute_error", NIDEC_SCORE_NEG_MAE }, { NULL, 0 }
};
static const nidec_key_name compat_names[] = {
	{ "none", NIDEC_COMPAT_NONE }, { "nilearn", NIDEC_COMPAT_NILEARN }, { NULL, 0 }
};
static const nidec_key_name perm_names[] = {
	{ "run", NIDEC_PERM_RUN }, { "all", NIDEC_PERM_ALL }, { NULL, 0 }
};
static const nidec_key_name mask_strategy_names[] = {
	{ "none", NIDEC_MASK_NONE }, { "epi", NIDEC_MASK_EPI },
	{ "background", NIDEC_MASK_BACKGROUND }, { NULL, 0 }
};
static const nidec_key_name clean_std_names[] = {
	{ "none", NIDEC_CLEAN_STD_NONE }, { "zscore", NIDEC_CLEAN_STD_ZSCORE },
	{ "zscore_sample", NIDEC_CLEAN_STD_ZSCORE_SAMPLE }, { "psc", NIDEC_CLEAN_STD_PSC },
	{ NULL, 0 }
};
static const nidec_key_name bool_names[] = {
	{ "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
	{ "1", 1 }, { "0", 0 }, { "on", 1 }, { "off", 0 }, { NULL, 0 }
};

/* holdout: a count of samples must be whole */
static const char *check_holdout(const char *v)
{
	double d = strtod(v, NULL);

	if (d >= 1 && d != floor(d))
		return "give a whole number of samples (e.g. 30) or a fraction in (0, 1)";
	return NULL;
}

static const char *check_dir(const char *v)
{
	return v[0] ? NULL : "give an output directory";
}

/* A BIDS label: letters and digits only (an entity value). */
static const char *check_label(const char *v)
{
	const char *p;

	for (p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return "give a BIDS label: letters and digits only (e.g. 01, without sub-, ses-, task-)";
	return NULL;
}

/* The keys, in the order of the canonical dump (its text is hashed into
 * the checkpoint ledger and recorded in every output: append new keys at
 * the end of their section and never reorder). */
enum {
	K_BOLD, K_MASK, K_LABELS, K_EVENTS, K_CONDITIONS, K_LABEL_COLUMN, K_RUN_COLUMN,
	K_HRF_SHIFT, K_DATASET, K_SAMPLES, K_CONFOUNDS_FILES, K_BIDS_ROOT, K_DERIVATIVES, K_SUBJECT,
	K_SESSION, K_TASK, K_SPACE, K_DESC, K_MASK_STRATEGY, K_TARGET_COLUMN,
	K_STANDARDIZE, K_STANDARDIZE_SCOPE, K_SCREENING,
	K_ESTIMATOR, K_C, K_TOL, K_SOLVER, K_TASK_TYPE, K_ALPHAS, K_N_ALPHAS, K_EPSILON,
	K_SCHEME, K_N_FOLDS, K_HOLDOUT, K_FOLDS_FILE, K_SELECTION, K_INNER_SCHEME,
	K_INNER_FOLDS, K_SCORING, K_COMPAT, K_PERMUTATIONS, K_PERMUTE_WITHIN, K_SEED,
	K_DIR, K_REPORT, K_PROGRESS, K_CHECKPOINT_INTERVAL,
	K_SL_RADIUS, K_SL_PROCESS_MASK, K_SL_MIN_VOXELS,
	K_SMOOTHING_FWHM, K_DETREND, K_CLEAN_STANDARDIZE, K_LOW_PASS, K_HIGH_PASS, K_T_R,
	K_CONFOUNDS, K_CONFOUNDS_STRATEGY, K_STANDARDIZE_CONFOUNDS,
	N_KEYS
};

#define STR(sec, name, def) { sec, name, NIDEC_KEY_STRING, def, NULL, NULL, 0, 0, 0, NULL, NULL }
#define ENUM(sec, name, def, alt, names) { sec, name, NIDEC_KEY_ENUM, def, alt, names, 0, 0, 0, NULL, NULL }
#define NUM(sec, name, type, def, alt, lo, hi, flags, unit, check) \
	{ sec, name, type, def, alt, NULL, lo, hi, flags, unit, check }

static const nidec_key keys[N_KEYS] = {
	[K_BOLD] = STR("data", "bold", ""),
	[K_MASK] = STR("data", "mask", ""),
	[K_LABELS] = STR("data", "labels", ""),
	[K_EVENTS] = STR("data", "events", ""),
	[K_CONDITIONS] = { "data", "conditions", NIDEC_KEY_LIST, "", NULL, NULL, 0, 0, 0, NULL, NULL },
	[K_LABEL_COLUMN] = STR("data", "label_column", "labels"),
	[K_RUN_COLUMN] = STR("data", "run_column", "chunks"),
	[K_HRF_SHIFT] = NUM("data", "hrf_shift", NIDEC_KEY_DOUBLE, "0", NULL, -60, 60, 0, "seconds", NULL),
	[K_DATASET] = STR("data", "dataset", ""),
	[K_SAMPLES] = STR("data", "samples", ""),
	[K_CONFOUNDS_FILES] = STR("data", "confounds_files", ""),
	[K_BIDS_ROOT] = STR("data", "bids_root", ""),
	[K_DERIVATIVES] = STR("data", "derivatives", ""),
	[K_SUBJECT] = { "data", "subject", NIDEC_KEY_STRING, "", NULL, NULL, 0, 0, 0, NULL, check_label },
	[K_SESSION] = { "data", "session", NIDEC_KEY_STRING, "", NULL, NULL, 0, 0, 0, NULL, check_label },
	[K_TASK] = { "data", "task", NIDEC_KEY_STRING, "", NULL, NULL, 0, 0, 0, NULL, check_label },
	[K_SPACE] = { "data", "space", NIDEC_KEY_STRING, "", NULL, NULL, 0, 0, 0, NULL, check_label },
	[K_DESC] = { "data", "desc", NIDEC_KEY_STRING, "preproc", NULL, NULL, 0, 0, 0, NULL, check_label },
	[K_MASK_STRATEGY] = ENUM("data", "mask_strategy", "none", NULL, mask_strategy_names),
	[K_TARGET_COLUMN] = STR("data", "target_column", ""),
	[K_STANDARDIZE] = ENUM("preprocess", "standardize", "zscore_sample", NULL, std_names),
	[K_STANDARDIZE_SCOPE] = ENUM("preprocess", "standardize_scope", "train", "all", scope_names),
	[K_SCREENING] = NUM("preprocess", "screening_percentile", NIDEC_KEY_DOUBLE, "100", NULL, 0, 100,
			    NIDEC_KEY_LO_OPEN, "percent", NULL),
	[K_ESTIMATOR] = ENUM("model", "estimator", "svc", NULL, est_names),
	[K_C] = NUM("model", "C", NIDEC_KEY_DOUBLES, "1, 10, 100", NULL, 0, HUGE_VAL, NIDEC_KEY_LO_OPEN,
		    NULL, NULL),
	[K_TOL] = NUM("model", "tol", NIDEC_KEY_DOUBLE, "1e-4", NULL, 0, 1, NIDEC_KEY_LO_OPEN, NULL, NULL),
	[K_SOLVER] = ENUM("model", "solver", "dcd", NULL, solver_names),
	/* default: regression when the estimator is a regressor (finish) */
	[K_TASK_TYPE] = ENUM("model", "task", "classification", NULL, task_names),
	/* numpy.geomspace(1e-3, 1e4, 8), to the bit (nilearn's ridge grid) */
	[K_ALPHAS] = NUM("model", "alphas", NIDEC_KEY_DOUBLES,
			 "0.001, 0.01, 0.09999999999999999, 1, 10, 100, 1000, 10000", NULL, 0, HUGE_VAL,
			 NIDEC_KEY_LO_OPEN, NULL, NULL),
	[K_N_ALPHAS] = NUM("model", "n_alphas", NIDEC_KEY_INT, "30", NULL, 2, 10000, 0, NULL, NULL),
	[K_EPSILON] = NUM("model", "epsilon", NIDEC_KEY_DOUBLE, "0.1", NULL, 0, 1e12, 0, NULL, NULL),
	[K_SCHEME] = ENUM("cv", "scheme", "leave-one-run-out", NULL, scheme_names),
	[K_N_FOLDS] = NUM("cv", "n_folds", NIDEC_KEY_INT, "5", NULL, 2, 100000, 0, NULL, NULL),
	[K_HOLDOUT] = NUM("cv", "holdout", NIDEC_KEY_DOUBLE, "0.2", NULL, 0, 1e9, NIDEC_KEY_LO_OPEN, NULL,
			  check_holdout),
	[K_FOLDS_FILE] = STR("cv", "folds_file", ""),
	[K_SELECTION] = ENUM("cv", "selection", "nested", "test-fold", sel_names),
	[K_INNER_SCHEME] = ENUM("cv", "inner_scheme", "auto", NULL, inner_names),
	[K_INNER_FOLDS] = NUM("cv", "inner_folds", NIDEC_KEY_INT, "5", "10", 2, 100000, 0, NULL, NULL),
	[K_SCORING] = ENUM("cv", "scoring", "roc_auc", NULL, scoring_names),
	[K_COMPAT] = ENUM("cv", "compat", "none", NULL, compat_names),
	[K_PERMUTATIONS] = NUM("cv", "permutations", NIDEC_KEY_INT, "0", NULL, 0, 100000000, 0, NULL, NULL),
	[K_PERMUTE_WITHIN] = ENUM("cv", "permute_within", "run", NULL, perm_names),
	[K_SEED] = NUM("cv", "seed", NIDEC_KEY_INT, "0", NULL, 0, 2147483647, 0, NULL, NULL),
	[K_DIR] = { "output", "dir", NIDEC_KEY_STRING, "results", NULL, NULL, 0, 0, 0, NULL, check_dir },
	[K_REPORT] = ENUM("output", "report", "true", NULL, bool_names),
	[K_PROGRESS] = NUM("output", "progress", NIDEC_KEY_DOUBLE, "10", NULL, 0, 1e6, 0, "seconds", NULL),
	[K_CHECKPOINT_INTERVAL] = NUM("output", "checkpoint_interval", NIDEC_KEY_DOUBLE, "30", NULL, 0, 1e9,
				      0, "seconds", NULL),
	[K_SL_RADIUS] = NUM("searchlight", "radius", NIDEC_KEY_DOUBLE, "5.6", NULL, 0, 1e4, NIDEC_KEY_LO_OPEN,
			    "mm", NULL),
	[K_SL_PROCESS_MASK] = STR("searchlight", "process_mask", ""),
	[K_SL_MIN_VOXELS] = NUM("searchlight", "min_voxels", NIDEC_KEY_INT, "1", NULL, 1, 1000000000, 0,
				"voxels", NULL),
	[K_SMOOTHING_FWHM] = NUM("clean", "smoothing_fwhm", NIDEC_KEY_DOUBLE, "none", NULL, 0, 1000,
				 NIDEC_KEY_NONE, "mm", NULL),
	[K_DETREND] = ENUM("clean", "detrend", "false", NULL, bool_names),
	[K_CLEAN_STANDARDIZE] = ENUM("clean", "standardize", "none", NULL, clean_std_names),
	[K_LOW_PASS] = NUM("clean", "low_pass", NIDEC_KEY_DOUBLE, "none", NULL, 0, 1e6,
			   NIDEC_KEY_NONE | NIDEC_KEY_LO_OPEN, "Hz", NULL),
	[K_HIGH_PASS] = NUM("clean", "high_pass", NIDEC_KEY_DOUBLE, "none", NULL, 0, 1e6,
			    NIDEC_KEY_NONE | NIDEC_KEY_LO_OPEN, "Hz", NULL),
	[K_T_R] = NUM("clean", "t_r", NIDEC_KEY_DOUBLE, "auto", NULL, 0, 1e4, NIDEC_KEY_AUTO | NIDEC_KEY_LO_OPEN,
		      "seconds", NULL),
	[K_CONFOUNDS] = { "clean", "confounds", NIDEC_KEY_LIST, "", NULL, NULL, 0, 0, 0, NULL, NULL },
	[K_CONFOUNDS_STRATEGY] = { "clean", "confounds_strategy", NIDEC_KEY_LIST, "", NULL, NULL, 0, 0, 0,
				   NULL, NULL },
	[K_STANDARDIZE_CONFOUNDS] = ENUM("clean", "standardize_confounds", "true", NULL, bool_names),
};

const nidec_keyschema nidec_cfg_schema = {
	"config", keys, N_KEYS, "configs/default.ini", NULL, "cv.scheme=kfold"
};

static const char *val_name(const nidec_key_name *t, int v)
{
	for (; t->name; t++)
		if (t->val == v)
			return t->name;
	return "?";
}

const char *nidec_scheme_name(int s) { return s == NIDEC_CV_AUTO ? "auto" : val_name(scheme_names, s); }
const char *nidec_scoring_name(int s) { return val_name(scoring_names, s); }
const char *nidec_estimator_name(int e) { return val_name(est_names, e); }
const char *nidec_clean_std_name(int s) { return val_name(clean_std_names, s); }
const char *nidec_mask_strategy_name(int s) { return val_name(mask_strategy_names, s); }
const char *nidec_task_type_name(int t) { return val_name(task_names, t); }

int nidec_estimator_is_regressor(int e)
{
	return e == NIDEC_EST_SVR || e == NIDEC_EST_RIDGE || e == NIDEC_EST_LASSO ||
	       e == NIDEC_EST_DUMMY_REGRESSOR;
}

int nidec_scoring_is_regression(int s)
{
	return s == NIDEC_SCORE_R2 || s == NIDEC_SCORE_NEG_MSE || s == NIDEC_SCORE_NEG_MAE;
}

int nidec_cfg_cleans(const nidec_cfg *cfg)
{
	return cfg->detrend || !isnan(cfg->low_pass) || !isnan(cfg->high_pass) ||
	       cfg->n_confounds || cfg->n_confounds_strategy ||
	       cfg->clean_standardize != NIDEC_CLEAN_STD_NONE;
}

void nidec_cfg_init(nidec_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	nidec_keyfile_init(&cfg->kf, &nidec_cfg_schema);
}

int nidec_cfg_put(nidec_cfg *cfg, const char *section, const char *name,
		  const char *value, const char *origin, nidec_err *err)
{
	cfg->finished = 0;
	return nidec_keyfile_put(&cfg->kf, section, name, value, origin, 0, err);
}

int nidec_cfg_is_set(const nidec_cfg *cfg, const char *section, const char *name)
{
	long k = nidec_keyschema_find(&nidec_cfg_schema, section, name);

	return k >= 0 && nidec_keyfile_is_set(&cfg->kf, (size_t)k);
}

int nidec_cfg_load(nidec_cfg *cfg, const char *path, nidec_err *err)
{
	cfg->finished = 0;
	return nidec_keyfile_load(&cfg->kf, path, err);
}

int nidec_cfg_override(nidec_cfg *cfg, const char *assignment, const char *option,
		       nidec_err *err)
{
	cfg->finished = 0;
	return nidec_keyfile_set(&cfg->kf, assignment, option, err);
}

int nidec_cfg_set(nidec_cfg *cfg, const char *assignment, nidec_err *err)
{
	return nidec_cfg_override(cfg, assignment, NULL, err);
}

/* Key k given with a value other than its default (the canonical dump
 * writes every key: its defaults must load back without conflicts). */
static int given(const nidec_keyfile *kf, size_t k)
{
	return nidec_keyfile_is_set(kf, k) && strcmp(nidec_keyfile_value(kf, k), keys[k].def) != 0;
}

/* The keys of one estimator given with another (a key that would be
 * silently ignored is an error). */
static int check_estimator_keys(const nidec_cfg *cfg, nidec_err *err)
{
	const nidec_keyfile *kf = &cfg->kf;
	const char *est = nidec_estimator_name(cfg->estimator);
	int e = cfg->estimator;

	if ((e == NIDEC_EST_RIDGE || e == NIDEC_EST_LASSO) && given(kf, K_C))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [model] estimator = %s has no C (its penalty is alpha%s); remove [model] C",
				  nidec_keyfile_origin(kf, K_C), est,
				  e == NIDEC_EST_RIDGE ? ": [model] alphas" : " on its path: [model] n_alphas");
	if (e == NIDEC_EST_DUMMY_REGRESSOR && cfg->n_C > 1 && given(kf, K_C))
		return nidec_fail(err, NIDEC_EINPUT,
				  "[model] estimator = dummy_regressor has no C; remove [model] C or give one value");
	if (e != NIDEC_EST_RIDGE && given(kf, K_ALPHAS))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [model] alphas is the grid of estimator = ridge, not of %s; remove it%s",
				  nidec_keyfile_origin(kf, K_ALPHAS), est,
				  e == NIDEC_EST_LASSO ? " (lasso's alphas come from its path: [model] n_alphas)" : "");
	if (e != NIDEC_EST_LASSO && given(kf, K_N_ALPHAS))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [model] n_alphas is the path length of estimator = lasso, not of %s; remove it",
				  nidec_keyfile_origin(kf, K_N_ALPHAS), est);
	if (e != NIDEC_EST_SVR && given(kf, K_EPSILON))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [model] epsilon is the tube of estimator = svr, not of %s; remove it",
				  nidec_keyfile_origin(kf, K_EPSILON), est);
	/* svr: smo (default) or libsvm; svc: dcd (default) or liblinear (the
	 * other classifiers use liblinear whatever it says); none for the
	 * other regressors */
	if (e == NIDEC_EST_SVR && cfg->solver != NIDEC_SOLVER_SMO && cfg->solver != NIDEC_SOLVER_LIBSVM)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [model] solver = %s is a solver of svc; estimator = svr takes smo (the default) or libsvm",
				  nidec_keyfile_origin(kf, K_SOLVER), nidec_keyfile_value(kf, K_SOLVER));
	if (e != NIDEC_EST_SVR && (cfg->solver == NIDEC_SOLVER_SMO || cfg->solver == NIDEC_SOLVER_LIBSVM))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [model] solver = %s is a solver of svr, not of %s; %s",
				  nidec_keyfile_origin(kf, K_SOLVER), nidec_keyfile_value(kf, K_SOLVER), est,
				  nidec_estimator_is_regressor(e) ? "remove it" : "use dcd (the default) or liblinear");
	if (e != NIDEC_EST_SVR && given(kf, K_SOLVER) && nidec_estimator_is_regressor(e))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [model] solver chooses the solver of estimator = svc or svr, not of %s; remove it",
				  nidec_keyfile_origin(kf, K_SOLVER), est);
	return 0;
}

/* Classification or regression: the estimator, the scoring, the target
 * and the folds must agree with [model] task. */
static int check_regression(const nidec_cfg *cfg, nidec_err *err)
{
	const nidec_keyfile *kf = &cfg->kf;
	int reg = cfg->task_type == NIDEC_TASK_REGRESSION;

	if (reg && !nidec_estimator_is_regressor(cfg->estimator))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [model] estimator = %s is a classifier; with [model] task = regression use svr, ridge, lasso or dummy_regressor",
				  nidec_keyfile_origin(kf, K_ESTIMATOR), nidec_estimator_name(cfg->estimator));
	if (!reg && nidec_estimator_is_regressor(cfg->estimator))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [model] estimator = %s is a regressor but [model] task = classification; set task = regression (continuous targets) or use a classifier (svc, logistic, ...)",
				  nidec_keyfile_origin(kf, K_TASK_TYPE), nidec_estimator_name(cfg->estimator));
	if (reg && !nidec_scoring_is_regression(cfg->scoring))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [cv] scoring = %s scores a classifier; with [model] task = regression use r2, neg_mean_squared_error or neg_mean_absolute_error",
				  nidec_keyfile_origin(kf, K_SCORING), nidec_scoring_name(cfg->scoring));
	if (!reg && nidec_scoring_is_regression(cfg->scoring))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [cv] scoring = %s scores continuous predictions; use it with [model] task = regression (and a regressor), or a classification score (roc_auc, accuracy, ...)",
				  nidec_keyfile_origin(kf, K_SCORING), nidec_scoring_name(cfg->scoring));
	if (reg && !cfg->target_column)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[model] task = regression needs [data] target_column = NAME, the numeric column of the labels table, sample table or events that holds the target");
	if (!reg && cfg->target_column)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [data] target_column is the target of [model] task = regression; set task = regression (and a regressor), or remove it",
				  nidec_keyfile_origin(kf, K_TARGET_COLUMN));
	if (reg && cfg->scheme == NIDEC_CV_STRATIFIED_KFOLD)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [cv] scheme = stratified-kfold needs classes; a continuous target uses kfold (or leave-one-run-out)",
				  nidec_keyfile_origin(kf, K_SCHEME));
	if (reg && cfg->inner_scheme == NIDEC_CV_STRATIFIED_KFOLD)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [cv] inner_scheme = stratified-kfold needs classes; a continuous target uses kfold, leave-one-run-out or auto",
				  nidec_keyfile_origin(kf, K_INNER_SCHEME));
	return check_estimator_keys(cfg, err);
}

/* Rules between keys: errors of the configuration as a whole (exit
 * status 1), wherever the keys came from. */
static int check_combinations(nidec_cfg *cfg, nidec_err *err)
{
	const nidec_keyfile *kf = &cfg->kf;

	if (cfg->labels && cfg->events)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s and %s: give either [data] labels or [data] events, not both",
				  nidec_keyfile_origin(kf, K_LABELS), nidec_keyfile_origin(kf, K_EVENTS));
	if (cfg->scheme == NIDEC_CV_FOLDS_FILE && !cfg->folds_file)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[cv] scheme = folds-file needs [cv] folds_file = PATH (a TSV with columns sample and fold)");
	if (cfg->selection == NIDEC_SEL_NESTED && cfg->inner_scheme == NIDEC_CV_NONE)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[cv] selection = nested needs an inner scheme; set [cv] inner_scheme = auto, or selection = test-fold");
	{
		int srcs = !!cfg->bold + !!cfg->samples + !!cfg->bids_root;
		if (srcs > 1)
			return nidec_fail(err, NIDEC_EINPUT,
					  "%s: give one source of images: [data] bold (with labels or events), [data] samples (a sample table) or [data] bids_root (a BIDS tree)",
					  nidec_keyfile_origin(kf, cfg->samples ? K_SAMPLES : K_BIDS_ROOT));
	}
	if (cfg->samples && (cfg->labels || cfg->events))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: a sample table holds the labels; remove [data] %s",
				  nidec_keyfile_origin(kf, K_SAMPLES), cfg->labels ? "labels" : "events");
	if (cfg->bids_root && (cfg->labels || cfg->events))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: the events come from the BIDS tree under bids_root; remove [data] %s",
				  nidec_keyfile_origin(kf, K_BIDS_ROOT), cfg->labels ? "labels" : "events");
	if (cfg->bids_root && (!cfg->subject || !cfg->task))
		return nidec_fail(err, NIDEC_EINPUT,
				  "[data] bids_root needs [data] subject and [data] task (the sub-<label> and task-<label> of the files)");
	if (!cfg->bids_root && (cfg->derivatives || cfg->subject || cfg->task || cfg->session || cfg->space))
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [data] %s is used with [data] bids_root only; set bids_root or remove it",
				  nidec_keyfile_origin(kf, cfg->derivatives ? K_DERIVATIVES : cfg->subject ? K_SUBJECT :
						       cfg->task ? K_TASK : cfg->session ? K_SESSION : K_SPACE),
				  cfg->derivatives ? "derivatives" : cfg->subject ? "subject" : cfg->task ? "task" :
				  cfg->session ? "session" : "space");
	if (cfg->confounds_files && !cfg->bold)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[data] confounds_files goes with [data] bold (one confounds TSV per BOLD file); under bids_root the confounds are found, a sample table has none");
	if (!isnan(cfg->high_pass) && !isnan(cfg->low_pass) && cfg->high_pass >= cfg->low_pass)
		return nidec_keyfile_fail(kf, K_HIGH_PASS,
					  "a band-pass needs high_pass < low_pass (high_pass removes what is slower, low_pass what is faster)",
					  err);
	if (cfg->samples && (cfg->detrend || !isnan(cfg->low_pass) || !isnan(cfg->high_pass)))
		return nidec_keyfile_fail(kf, cfg->detrend ? K_DETREND : !isnan(cfg->high_pass) ? K_HIGH_PASS : K_LOW_PASS,
					  "a sample table is not a time series (its samples need not be consecutive volumes); remove it, or give the 4D runs with [data] bold",
					  err);
	if (cfg->compat == NIDEC_COMPAT_NILEARN && cfg->clean_standardize != NIDEC_CLEAN_STD_NONE)
		return nidec_keyfile_fail(kf, K_CLEAN_STANDARDIZE,
					  "with [cv] compat = nilearn the Decoder standardizes once, as [preprocess] standardize says; remove [clean] standardize",
					  err);
	if (cfg->estimator == NIDEC_EST_DUMMY && cfg->n_C > 1 && nidec_keyfile_is_set(kf, K_C))
		return nidec_fail(err, NIDEC_EINPUT,
				  "[model] estimator = dummy has no C; remove [model] C or give one value");
	return check_regression(cfg, err);
}

int nidec_cfg_finish(nidec_cfg *cfg, nidec_err *err)
{
	nidec_keyfile *kf = &cfg->kf;

	/* compat first: it decides the defaults of the other keys */
	kf->alt = 0;
	NIDEC_TRY(nidec_keyfile_enum(kf, K_COMPAT, &cfg->compat, err));
	kf->alt = cfg->compat == NIDEC_COMPAT_NILEARN;

	NIDEC_TRY(nidec_keyfile_string(kf, K_BOLD, &cfg->bold, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_MASK, &cfg->mask, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_LABELS, &cfg->labels, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_EVENTS, &cfg->events, err));
	NIDEC_TRY(nidec_keyfile_list(kf, K_CONDITIONS, &cfg->conditions, &cfg->n_conditions, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_LABEL_COLUMN, &cfg->label_column, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_RUN_COLUMN, &cfg->run_column, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_HRF_SHIFT, &cfg->hrf_shift, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_DATASET, &cfg->dataset, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_SAMPLES, &cfg->samples, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_CONFOUNDS_FILES, &cfg->confounds_files, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_BIDS_ROOT, &cfg->bids_root, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_DERIVATIVES, &cfg->derivatives, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_SUBJECT, &cfg->subject, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_SESSION, &cfg->session, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_TASK, &cfg->task, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_SPACE, &cfg->space, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_DESC, &cfg->desc, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_MASK_STRATEGY, &cfg->mask_strategy, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_TARGET_COLUMN, &cfg->target_column, err));

	NIDEC_TRY(nidec_keyfile_enum(kf, K_STANDARDIZE, &cfg->standardize, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_STANDARDIZE_SCOPE, &cfg->standardize_scope, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_SCREENING, &cfg->screening_percentile, err));

	NIDEC_TRY(nidec_keyfile_enum(kf, K_ESTIMATOR, &cfg->estimator, err));
	/* defaults that follow the estimator and the task (nilearn's
	 * DecoderRegressor: a regressor means task = regression, scored by r2;
	 * scikit-learn's SVR stops at tol = 1e-3; svr's solver is smo) */
	{
		int reg = nidec_estimator_is_regressor(cfg->estimator);
		NIDEC_TRY(nidec_keyfile_default(kf, K_TASK_TYPE, reg ? "regression" : NULL, err));
		NIDEC_TRY(nidec_keyfile_default(kf, K_TOL, cfg->estimator == NIDEC_EST_SVR ? "1e-3" : NULL,
						err));
		NIDEC_TRY(nidec_keyfile_default(kf, K_SOLVER, cfg->estimator == NIDEC_EST_SVR ? "smo" : NULL,
						err));
	}
	NIDEC_TRY(nidec_keyfile_enum(kf, K_TASK_TYPE, &cfg->task_type, err));
	NIDEC_TRY(nidec_keyfile_default(kf, K_SCORING,
					cfg->task_type == NIDEC_TASK_REGRESSION ? "r2" : NULL, err));
	NIDEC_TRY(nidec_keyfile_doubles(kf, K_C, &cfg->C, &cfg->n_C, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_TOL, &cfg->tol, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_SOLVER, &cfg->solver, err));
	NIDEC_TRY(nidec_keyfile_doubles(kf, K_ALPHAS, &cfg->alphas, &cfg->n_alphas, err));
	NIDEC_TRY(nidec_keyfile_int(kf, K_N_ALPHAS, &cfg->lasso_n_alphas, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_EPSILON, &cfg->epsilon, err));

	NIDEC_TRY(nidec_keyfile_enum(kf, K_SCHEME, &cfg->scheme, err));
	NIDEC_TRY(nidec_keyfile_int(kf, K_N_FOLDS, &cfg->n_folds, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_HOLDOUT, &cfg->holdout, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_FOLDS_FILE, &cfg->folds_file, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_SELECTION, &cfg->selection, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_INNER_SCHEME, &cfg->inner_scheme, err));
	NIDEC_TRY(nidec_keyfile_int(kf, K_INNER_FOLDS, &cfg->inner_folds, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_SCORING, &cfg->scoring, err));
	NIDEC_TRY(nidec_keyfile_long(kf, K_PERMUTATIONS, &cfg->permutations, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_PERMUTE_WITHIN, &cfg->permute_within, err));
	{
		long seed = 0;
		NIDEC_TRY(nidec_keyfile_long(kf, K_SEED, &seed, err));
		cfg->seed = (uint64_t)seed;
	}

	NIDEC_TRY(nidec_keyfile_string(kf, K_DIR, &cfg->dir, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_REPORT, &cfg->report, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_PROGRESS, &cfg->progress, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_CHECKPOINT_INTERVAL, &cfg->checkpoint_interval, err));

	NIDEC_TRY(nidec_keyfile_double(kf, K_SL_RADIUS, &cfg->sl_radius, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_SL_PROCESS_MASK, &cfg->sl_process_mask, err));
	{
		int mv = 1;
		NIDEC_TRY(nidec_keyfile_int(kf, K_SL_MIN_VOXELS, &mv, err));
		cfg->sl_min_voxels = (size_t)mv;
	}

	NIDEC_TRY(nidec_keyfile_double(kf, K_SMOOTHING_FWHM, &cfg->smoothing_fwhm, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_DETREND, &cfg->detrend, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_CLEAN_STANDARDIZE, &cfg->clean_standardize, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_LOW_PASS, &cfg->low_pass, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_HIGH_PASS, &cfg->high_pass, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_T_R, &cfg->t_r, err));
	NIDEC_TRY(nidec_keyfile_list(kf, K_CONFOUNDS, &cfg->confounds, &cfg->n_confounds, err));
	NIDEC_TRY(nidec_keyfile_list(kf, K_CONFOUNDS_STRATEGY, &cfg->confounds_strategy,
				     &cfg->n_confounds_strategy, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_STANDARDIZE_CONFOUNDS, &cfg->standardize_confounds, err));

	NIDEC_TRY(check_combinations(cfg, err));
	cfg->finished = 1;
	return 0;
}

const char *nidec_cfg_value(const nidec_cfg *cfg, const char *section, const char *name)
{
	long k = nidec_keyschema_find(&nidec_cfg_schema, section, name);

	return k < 0 ? NULL : nidec_keyfile_value(&cfg->kf, (size_t)k);
}

int nidec_cfg_dump(const nidec_cfg *cfg, nidec_sbuf *out)
{
	const char *section = "";
	size_t k;

	for (k = 0; k < N_KEYS; k++) {
		if (strcmp(section, keys[k].section)) {
			section = keys[k].section;
			if (nidec_sbuf_addf(out, "%s[%s]\n", out->len ? "\n" : "", section) < 0)
				return NIDEC_ENOMEM;
		}
		if (nidec_sbuf_addf(out, "%s = %s\n", keys[k].name, nidec_keyfile_value(&cfg->kf, k)) < 0)
			return NIDEC_ENOMEM;
	}
	return 0;
}

void nidec_cfg_release(nidec_cfg *cfg)
{
	nidec_free(cfg->bold);
	nidec_free(cfg->mask);
	nidec_free(cfg->labels);
	nidec_free(cfg->events);
	nidec_strv_free(cfg->conditions, cfg->n_conditions);
	nidec_free(cfg->label_column);
	nidec_free(cfg->run_column);
	nidec_free(cfg->dataset);
	nidec_free(cfg->samples);
	nidec_free(cfg->confounds_files);
	nidec_free(cfg->bids_root);
	nidec_free(cfg->derivatives);
	nidec_free(cfg->subject);
	nidec_free(cfg->session);
	nidec_free(cfg->task);
	nidec_free(cfg->space);
	nidec_free(cfg->desc);
	nidec_free(cfg->target_column);
	nidec_free(cfg->alphas);
	nidec_strv_free(cfg->confounds, cfg->n_confounds);
	nidec_strv_free(cfg->confounds_strategy, cfg->n_confounds_strategy);
	nidec_free(cfg->C);
	nidec_free(cfg->folds_file);
	nidec_free(cfg->dir);
	nidec_free(cfg->sl_process_mask);
	nidec_keyfile_release(&cfg->kf);
	nidec_cfg_init(cfg);
}
