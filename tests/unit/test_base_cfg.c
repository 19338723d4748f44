/*
 * test_base_cfg.c - the configuration: defaults, compat defaults, --set,
 * unknown keys with "did you mean", bad values, duplicates, the dump.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nidec/cfg.h"
#include "nidec/mem.h"

static char *write_ini(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	strcpy(path, "/tmp/nidec-cfg-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_base_cfg__defaults(void **state)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_int_equal(cfg.scheme, NIDEC_CV_LEAVE_ONE_RUN_OUT);
	assert_int_equal(cfg.selection, NIDEC_SEL_NESTED);
	assert_int_equal(cfg.standardize_scope, NIDEC_SCOPE_TRAIN);
	assert_int_equal(cfg.scoring, NIDEC_SCORE_ROC_AUC);
	assert_int_equal((int)cfg.n_C, 3);
	assert_true(cfg.C[0] == 1 && cfg.C[1] == 10 && cfg.C[2] == 100);
	assert_string_equal(cfg.dir, "results");
	assert_null(cfg.bold);
	nidec_cfg_release(&cfg);
}

static void test_base_cfg__compat_changes_defaults_not_explicit_keys(void **state)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_set(&cfg, "cv.compat=nilearn", &err), 0);
	assert_int_equal(nidec_cfg_set(&cfg, "preprocess.standardize_scope=train", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_int_equal(cfg.selection, NIDEC_SEL_TEST_FOLD);      /* nilearn default */
	assert_int_equal(cfg.standardize_scope, NIDEC_SCOPE_TRAIN); /* explicit wins */
	assert_int_equal(cfg.inner_folds, 10);
	nidec_cfg_release(&cfg);
}

static void test_base_cfg__load_and_override(void **state)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	const char *path = write_ini("[data]\nbold = a.nii.gz ; inline comment\n"
				     "conditions = face, cat\n"
				     "[model]\nC = 0.5,2\n[cv]\nscheme = kfold\n");

	(void)state;
	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_load(&cfg, path, &err), 0);
	assert_int_equal(nidec_cfg_set(&cfg, "cv.n_folds=7", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_string_equal(cfg.bold, "a.nii.gz");
	assert_int_equal((int)cfg.n_conditions, 2);
	assert_string_equal(cfg.conditions[0], "face");
	assert_string_equal(cfg.conditions[1], "cat");
	assert_true(cfg.n_C == 2 && cfg.C[0] == 0.5 && cfg.C[1] == 2);
	assert_int_equal(cfg.scheme, NIDEC_CV_KFOLD);
	assert_int_equal(cfg.n_folds, 7);
	assert_true(nidec_cfg_is_set(&cfg, "cv", "n_folds"));
	assert_false(nidec_cfg_is_set(&cfg, "cv", "seed"));
	nidec_cfg_release(&cfg);
	unlink(path);
}

static void test_base_cfg__unknown_key_suggests(void **state)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	const char *path = write_ini("[cv]\nschem = kfold\n");

	(void)state;
	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_load(&cfg, path, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "unknown key 'schem' in [cv]; did you mean 'scheme'"));
	assert_non_null(strstr(err.msg, path));
	nidec_cfg_release(&cfg);
	unlink(path);

	nidec_err_clear(&err);
	nidec_cfg_init(&cfg);
	/* from the command line: a usage error (exit status 2) */
	assert_int_equal(nidec_cfg_set(&cfg, "modle.C=1", &err), NIDEC_EUSAGE);
	assert_non_null(strstr(err.msg, "did you mean [model]"));
	nidec_cfg_release(&cfg);
}

static void test_base_cfg__duplicate_key(void **state)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	const char *path = write_ini("[cv]\nseed = 1\nseed = 2\n");

	(void)state;
	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_load(&cfg, path, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "appears twice"));
	nidec_cfg_release(&cfg);
	unlink(path);
}

static void test_base_cfg__bad_values(void **state)
{
	static const char *const bad[][2] = {
		{ "model.estimator=svm", "did you mean 'svc'" },
		{ "model.C=1, -3", "'-3' is not a number > 0" },
		{ "model.C=0", "'0' is not a number > 0" },
		{ "preprocess.screening_percentile=150", "give a number in (0, 100]" },
		{ "preprocess.screening_percentile=0", "give a number in (0, 100]" },
		{ "cv.n_folds=1", "from 2 to" },
		{ "cv.holdout=2.5", "whole number of samples" },
		{ "cv.scoring=auc", "use one of" },
		{ "model.estimator=rige", "did you mean 'ridge'" },
		{ "model.task=regresion", "did you mean 'regression'" },
		{ "model.epsilon=-1", "give a number" },
		{ "model.alphas=0", "'0' is not a number > 0" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nidec_cfg cfg;
		nidec_err err = NIDEC_ERR_INIT;
		nidec_cfg_init(&cfg);
		assert_int_equal(nidec_cfg_set(&cfg, bad[i][0], &err), 0);
		assert_int_equal(nidec_cfg_finish(&cfg, &err), NIDEC_EUSAGE);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("%s: got '%s', wanted '%s'", bad[i][0], err.msg, bad[i][1]);
		assert_non_null(strstr(err.msg, "--set"));
		nidec_cfg_release(&cfg);
	}
}

static void test_base_cfg__nested_needs_inner(void **state)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_set(&cfg, "cv.inner_scheme=none", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), NIDEC_EINPUT); /* a conflict: exit 1 */
	assert_non_null(strstr(err.msg, "selection = nested needs an inner scheme"));
	nidec_cfg_release(&cfg);
}

/* A regressor makes task = regression, scoring = r2 and (svr) tol = 1e-3
 * the defaults; what is given explicitly still wins. */
static void test_base_cfg__regression_defaults(void **state)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_sbuf dump = NIDEC_SBUF_INIT;

	(void)state;
	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_set(&cfg, "model.estimator=svr", &err), 0);
	assert_int_equal(nidec_cfg_set(&cfg, "data.target_column=rating", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_int_equal(cfg.task_type, NIDEC_TASK_REGRESSION);
	assert_int_equal(cfg.scoring, NIDEC_SCORE_R2);
	assert_true(cfg.tol == 1e-3);
	assert_true(cfg.epsilon == 0.1);
	assert_int_equal(cfg.solver, NIDEC_SOLVER_SMO);
	assert_string_equal(cfg.target_column, "rating");
	assert_false(nidec_cfg_is_set(&cfg, "cv", "scoring"));
	assert_int_equal(nidec_cfg_dump(&cfg, &dump), 0);
	assert_non_null(strstr(dump.buf, "scoring = r2\n"));
	assert_non_null(strstr(dump.buf, "task = regression\n"));
	assert_non_null(strstr(dump.buf, "solver = smo\n"));
	nidec_sbuf_release(&dump);
	assert_int_equal(nidec_cfg_set(&cfg, "model.solver=libsvm", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_int_equal(cfg.solver, NIDEC_SOLVER_LIBSVM);
	assert_int_equal(nidec_cfg_set(&cfg, "model.solver=smo", &err), 0);

	/* explicit values win over the task's defaults */
	assert_int_equal(nidec_cfg_set(&cfg, "cv.scoring=neg_mean_absolute_error", &err), 0);
	assert_int_equal(nidec_cfg_set(&cfg, "model.tol=1e-5", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_int_equal(cfg.scoring, NIDEC_SCORE_NEG_MAE);
	assert_true(cfg.tol == 1e-5);

	/* back to a classifier: the classification defaults return */
	assert_int_equal(nidec_cfg_set(&cfg, "model.estimator=svc", &err), 0);
	assert_int_equal(nidec_cfg_set(&cfg, "cv.scoring=roc_auc", &err), 0);
	assert_int_equal(nidec_cfg_set(&cfg, "data.target_column=", &err), 0);
	assert_int_equal(nidec_cfg_set(&cfg, "model.tol=1e-4", &err), 0);
	/* (the solver given for svr is not svc's) */
	assert_int_equal(nidec_cfg_finish(&cfg, &err), NIDEC_EINPUT);
	assert_int_equal(nidec_cfg_set(&cfg, "model.solver=dcd", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_int_equal(cfg.task_type, NIDEC_TASK_CLASSIFICATION);
	assert_int_equal(cfg.solver, NIDEC_SOLVER_DCD);
	nidec_cfg_release(&cfg);

	/* ridge's grid is numpy.geomspace(1e-3, 1e4, 8) to the bit */
	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_set(&cfg, "model.estimator=ridge", &err), 0);
	assert_int_equal(nidec_cfg_set(&cfg, "data.target_column=age", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_int_equal((int)cfg.n_alphas, 8);
	assert_true(cfg.alphas[0] == 1e-3 && cfg.alphas[2] == 0.09999999999999999 && cfg.alphas[7] == 1e4);
	assert_int_equal(cfg.lasso_n_alphas, 30);
	nidec_cfg_release(&cfg);
}

/* Keys that disagree with [model] task: one line naming the key and fix. */
static void test_base_cfg__regression_conflicts(void **state)
{
	static const char *const bad[][4] = {
		{ "model.estimator=svr", "cv.scoring=roc_auc", "data.target_column=y",
		  "scoring = roc_auc scores a classifier" },
		{ "model.estimator=svc", "cv.scoring=r2", "cv.seed=0", "use it with [model] task = regression" },
		{ "model.task=regression", "model.estimator=svc", "data.target_column=y",
		  "estimator = svc is a classifier" },
		{ "model.task=classification", "model.estimator=ridge", "cv.seed=0",
		  "set task = regression" },
		{ "model.estimator=lasso", "cv.seed=0", "cv.seed=1", "needs [data] target_column" },
		{ "data.target_column=y", "cv.seed=0", "cv.seed=1", "target_column is the target of [model] task = regression" },
		{ "model.estimator=ridge", "data.target_column=y", "model.C=1,10", "has no C" },
		{ "model.estimator=svr", "data.target_column=y", "model.alphas=1,2", "alphas is the grid of estimator = ridge" },
		{ "model.estimator=ridge", "data.target_column=y", "model.n_alphas=10", "n_alphas is the path length" },
		{ "model.estimator=ridge", "data.target_column=y", "model.epsilon=0.2", "epsilon is the tube" },
		{ "model.estimator=svr", "data.target_column=y", "cv.scheme=stratified-kfold",
		  "a continuous target uses kfold" },
		{ "model.estimator=svr", "data.target_column=y", "cv.inner_scheme=stratified-kfold",
		  "a continuous target uses kfold" },
		{ "model.estimator=svr", "data.target_column=y", "model.solver=dcd",
		  "solver = dcd is a solver of svc; estimator = svr takes smo (the default) or libsvm" },
		{ "model.estimator=svc", "model.solver=smo", "cv.seed=0",
		  "solver = smo is a solver of svr, not of svc; use dcd (the default) or liblinear" },
		{ "model.estimator=ridge", "data.target_column=y", "model.solver=libsvm",
		  "solver = libsvm is a solver of svr, not of ridge; remove it" },
		{ "model.estimator=lasso", "data.target_column=y", "model.solver=liblinear",
		  "solver chooses the solver of estimator = svc or svr, not of lasso" },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nidec_cfg cfg;
		nidec_err err = NIDEC_ERR_INIT;
		nidec_cfg_init(&cfg);
		for (j = 0; j < 3; j++)
			assert_int_equal(nidec_cfg_set(&cfg, bad[i][j], &err), 0);
		assert_int_equal(nidec_cfg_finish(&cfg, &err), NIDEC_EINPUT);
		if (!strstr(err.msg, bad[i][3]))
			fail_msg("case %zu: got '%s', wanted '%s'", i, err.msg, bad[i][3]);
		assert_null(strchr(err.msg, '\n'));
		nidec_cfg_release(&cfg);
	}
}

static void test_base_cfg__dump_round_trips(void **state)
{
	nidec_cfg a, b;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_sbuf s1 = NIDEC_SBUF_INIT, s2 = NIDEC_SBUF_INIT;
	const char *path;

	(void)state;
	nidec_cfg_init(&a);
	assert_int_equal(nidec_cfg_set(&a, "cv.scheme=stratified-kfold", &err), 0);
	assert_int_equal(nidec_cfg_finish(&a, &err), 0);
	assert_int_equal(nidec_cfg_dump(&a, &s1), 0);
	path = write_ini(s1.buf);
	nidec_cfg_init(&b);
	assert_int_equal(nidec_cfg_load(&b, path, &err), 0);
	assert_int_equal(nidec_cfg_finish(&b, &err), 0);
	assert_int_equal(nidec_cfg_dump(&b, &s2), 0);
	assert_string_equal(s1.buf, s2.buf);
	nidec_sbuf_release(&s1);
	nidec_sbuf_release(&s2);
	nidec_cfg_release(&a);
	nidec_cfg_release(&b);
	unlink(path);

	/* a regression config too (its task-dependent defaults are written) */
	nidec_cfg_init(&a);
	assert_int_equal(nidec_cfg_set(&a, "model.estimator=svr", &err), 0);
	assert_int_equal(nidec_cfg_set(&a, "data.target_column=rt", &err), 0);
	assert_int_equal(nidec_cfg_finish(&a, &err), 0);
	assert_int_equal(nidec_cfg_dump(&a, &s1), 0);
	path = write_ini(s1.buf);
	nidec_cfg_init(&b);
	assert_int_equal(nidec_cfg_load(&b, path, &err), 0);
	if (nidec_cfg_finish(&b, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(nidec_cfg_dump(&b, &s2), 0);
	assert_string_equal(s1.buf, s2.buf);
	nidec_sbuf_release(&s1);
	nidec_sbuf_release(&s2);
	nidec_cfg_release(&a);
	nidec_cfg_release(&b);
	unlink(path);
}

/* Every failing allocation during load/finish leaks nothing (run under
 * valgrind or ASan to see it) and reports out of memory. */
static void test_base_cfg__allocation_failures(void **state)
{
	const char *path = write_ini("[data]\nconditions = a, b, c\n[model]\nC = 1, 2\n");
	long n;
	int failures = 0;

	(void)state;
	for (n = 1; n < 200; n++) {
		nidec_cfg cfg;
		nidec_err err = NIDEC_ERR_INIT;
		int rc;
		nidec_cfg_init(&cfg);
		nidec_mem_fail_at(n);
		rc = nidec_cfg_load(&cfg, path, &err);
		if (rc == 0)
			rc = nidec_cfg_finish(&cfg, &err);
		nidec_mem_fail_at(0);
		nidec_cfg_release(&cfg);
		if (rc == 0)
			break;
		assert_int_equal(rc, NIDEC_ENOMEM);
		failures++;
	}
	assert_true(failures > 5);
	assert_true(n < 200);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_cfg__defaults),
		cmocka_unit_test(test_base_cfg__compat_changes_defaults_not_explicit_keys),
		cmocka_unit_test(test_base_cfg__load_and_override),
		cmocka_unit_test(test_base_cfg__unknown_key_suggests),
		cmocka_unit_test(test_base_cfg__duplicate_key),
		cmocka_unit_test(test_base_cfg__bad_values),
		cmocka_unit_test(test_base_cfg__nested_needs_inner),
		cmocka_unit_test(test_base_cfg__regression_defaults),
		cmocka_unit_test(test_base_cfg__regression_conflicts),
		cmocka_unit_test(test_base_cfg__dump_round_trips),
		cmocka_unit_test(test_base_cfg__allocation_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
