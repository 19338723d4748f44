/*
 * test_core_folds.c - cross-validation splits against scikit-learn.
 *
 * The StratifiedKFold cases compare, sample by sample, with the folds
 * nilearn 0.13.1 / scikit-learn 1.2.1 used in the Haxby tutorial (the
 * `cv_test_indices` of ../shared/reference/nilearn-haxby-slice.json, steps
 * a, b and d), written here as "fold of each sample" strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nidec/folds.h"
#include "nidec/mem.h"

/* selection.y of the reference: 'f' = face, 'c' = cat, in sample order */
static const char haxby_y[] =
	"fffffffffcccccccccfffffffffccccccccccccccccccfffffffffcccccccccfffffffff"
	"fffffffffcccccccccfffffffffcccccccccfffffffffcccccccccfffffffffccccccccc"
	"fffffffffcccccccccfffffffffccccccccccccccccccffffffffffffffffffccccccccc";

/* step a: StratifiedKFold(10) on all 216 samples */
static const char fold_a[] =
	"000000000000000000001111111001111111111122222111122222222222333222222333"
	"333333334333333334444444444444444444455555555455555555555666666555666666"
	"666667777666677777777777788777778888888888899888888889999999999999999999";
/* step b: StratifiedKFold(10) on the first 186 samples */
static const char fold_b[] =
	"000000000000000000111111111011111111112222222222222222222333333333333333"
	"444444444333344444555555555444445555666666666555555666777777777666666777"
	"888888888777777888999999999888888999999999";
/* step d: StratifiedKFold(5) on all 216 samples */
static const char fold_d[] =
	"000000000000000000000000000000000000000011111000011111111111111111111111"
	"111111112111111122222222222222222222222222222222222222222333333233333333"
	"333333333333333333333333444333334444444444444444444444444444444444444444";

static void haxby_labels(int *y, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		y[i] = haxby_y[i] == 'f' ? 1 : 0; /* class index: cat 0, face 1 */
}

static void check_stratified(size_t n, int k, const char *expect)
{
	int y[216];
	nidec_folds f = NIDEC_FOLDS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	size_t s, i;

	haxby_labels(y, n);
	assert_int_equal(nidec_folds_stratified(n, NULL, y, k, &f, &err), 0);
	assert_int_equal(f.n, (size_t)k);
	for (s = 0; s < f.n; s++) {
		size_t n_test = 0;
		for (i = 0; i < n; i++)
			n_test += expect[i] - '0' == (int)s;
		assert_int_equal(f.split[s].n_test, n_test);
		assert_int_equal(f.split[s].n_train, n - n_test);
		for (i = 0; i < f.split[s].n_test; i++)
			assert_int_equal(expect[f.split[s].test[i]] - '0', (int)s);
		for (i = 1; i < f.split[s].n_test; i++)
			assert_true(f.split[s].test[i - 1] < f.split[s].test[i]);
	}
	nidec_folds_release(&f);
}

static void test_core_folds__stratified_tutorial_a(void **state)
{
	(void)state;
	check_stratified(216, 10, fold_a);
}

static void test_core_folds__stratified_tutorial_b(void **state)
{
	(void)state;
	check_stratified(186, 10, fold_b);
}

static void test_core_folds__stratified_tutorial_d(void **state)
{
	(void)state;
	check_stratified(216, 5, fold_d);
}

/* class codes by first appearance, not by value: the labels 5,5,2,2,2,9 */
static void test_core_folds__stratified_first_appearance(void **state)
{
	int y[] = { 5, 5, 2, 2, 2, 9, 9, 2 }, fold[8];
	/* sklearn: StratifiedKFold(2).split(zeros(8), y) test folds
	 * [0 2 3 5] and [1 4 6 7] */
	int expect[] = { 0, 1, 0, 0, 1, 0, 1, 1 };
	nidec_err err = NIDEC_ERR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(nidec_folds_stratified_assign(8, y, 2, fold, &err), 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(fold[i], expect[i]);
}

static void test_core_folds__stratified_errors(void **state)
{
	int y[] = { 0, 0, 1, 1, 1 };
	nidec_folds f = NIDEC_FOLDS_INIT;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	assert_int_equal(nidec_folds_stratified(5, NULL, y, 6, &f, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "6 folds but only 5 samples"));
	assert_int_equal(nidec_folds_stratified(5, NULL, y, 4, &f, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "no class has that many samples"));
	assert_int_equal(f.n, 0);
	/* 3 > the smallest class (2) only warns */
	assert_int_equal(nidec_folds_stratified(5, NULL, y, 3, &f, &err), 0);
	assert_int_equal(f.n, 3);
	nidec_folds_release(&f);
}

/* KFold(3) of 8 samples: blocks 3, 3, 2 */
static void test_core_folds__kfold_blocks(void **state)
{
	nidec_folds f = NIDEC_FOLDS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	size_t idx[8] = { 10, 11, 12, 13, 14, 15, 16, 17 };

	(void)state;
	assert_int_equal(nidec_folds_kfold(8, idx, 3, &f, &err), 0);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.split[0].n_test, 3);
	assert_int_equal(f.split[1].n_test, 3);
	assert_int_equal(f.split[2].n_test, 2);
	assert_int_equal(f.split[1].test[0], 13);
	assert_int_equal(f.split[1].test[2], 15);
	assert_int_equal(f.split[1].n_train, 5);
	assert_int_equal(f.split[1].train[2], 12);
	assert_int_equal(f.split[1].train[3], 16);
	assert_int_equal(f.split[2].test[0], 16);
	nidec_folds_release(&f);
	assert_int_equal(nidec_folds_kfold(2, NULL, 3, &f, &err), NIDEC_EINPUT);
}

static void test_core_folds__loro(void **state)
{
	int runs[] = { 3, 3, 1, 1, 7, 3, 7 };
	size_t sub[] = { 0, 2, 3, 4, 5 };
	nidec_folds f = NIDEC_FOLDS_INIT;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	assert_int_equal(nidec_folds_loro(7, NULL, runs, &f, &err), 0);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.split[0].id, 1); /* runs ascending */
	assert_int_equal(f.split[0].n_test, 2);
	assert_int_equal(f.split[0].test[0], 2);
	assert_int_equal(f.split[1].id, 3);
	assert_int_equal(f.split[1].n_test, 3);
	assert_int_equal(f.split[1].test[2], 5);
	assert_int_equal(f.split[2].id, 7);
	assert_int_equal(f.split[2].n_train, 5);
	/* on a subset: indices stay dataset indices */
	assert_int_equal(nidec_folds_loro(5, sub, runs, &f, &err), 0);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.split[1].n_test, 2);
	assert_int_equal(f.split[1].test[1], 5);
	assert_int_equal(f.split[2].n_test, 1);
	assert_int_equal(f.split[2].test[0], 4);
	nidec_folds_release(&f);
	/* one run: no leave-one-run-out */
	assert_int_equal(nidec_folds_loro(2, NULL, runs, &f, &err), NIDEC_EINPUT);
	assert_int_equal(nidec_folds_loro(2, NULL, NULL, &f, &err), NIDEC_EINPUT);
}

static void test_core_folds__holdout_none_assign(void **state)
{
	int assign[] = { 2, -1, 0, 2, 0, -1 };
	nidec_folds f = NIDEC_FOLDS_INIT;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	assert_int_equal(nidec_folds_holdout(10, NULL, 3, &f, &err), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.split[0].n_test, 3);
	assert_int_equal(f.split[0].test[0], 7);
	assert_int_equal(f.split[0].train[6], 6);
	assert_int_equal(nidec_folds_holdout(10, NULL, 10, &f, &err), NIDEC_EINPUT);
	assert_int_equal(nidec_folds_none(4, NULL, &f, &err), 0);
	assert_int_equal(f.split[0].n_train, 4);
	assert_int_equal(f.split[0].n_test, 4);
	assert_int_equal(nidec_folds_assign(6, NULL, assign, &f, &err), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.split[0].id, 0);
	assert_int_equal(f.split[0].n_test, 2);
	assert_int_equal(f.split[0].n_train, 4); /* -1 samples always train */
	assert_int_equal(f.split[1].id, 2);
	assert_int_equal(f.split[1].test[1], 3);
	nidec_folds_release(&f);
	nidec_folds_release(&f); /* releasing twice is harmless */
}

/* within runs: each run keeps its multiset of labels; pure in the seed */
static void test_core_folds__permute_within_runs(void **state)
{
	int y[216], runs[216], a[216], b[216], c[216];
	size_t i, moved = 0;
	int r;
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	haxby_labels(y, 216);
	for (i = 0; i < 216; i++)
		runs[i] = (int)(i / 18);
	assert_int_equal(nidec_folds_permute_labels(216, y, runs, 42, a, &err), 0);
	assert_int_equal(nidec_folds_permute_labels(216, y, runs, 42, b, &err), 0);
	assert_int_equal(nidec_folds_permute_labels(216, y, runs, 43, c, &err), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	for (r = 0; r < 12; r++) {
		int sy = 0, sa = 0;
		for (i = 0; i < 216; i++)
			if (runs[i] == r) {
				sy += y[i];
				sa += a[i];
			}
		assert_int_equal(sy, sa);
	}
	for (i = 0; i < 216; i++)
		moved += a[i] != y[i];
	assert_true(moved > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_folds__stratified_tutorial_a),
		cmocka_unit_test(test_core_folds__stratified_tutorial_b),
		cmocka_unit_test(test_core_folds__stratified_tutorial_d),
		cmocka_unit_test(test_core_folds__stratified_first_appearance),
		cmocka_unit_test(test_core_folds__stratified_errors),
		cmocka_unit_test(test_core_folds__kfold_blocks),
		cmocka_unit_test(test_core_folds__loro),
		cmocka_unit_test(test_core_folds__holdout_none_assign),
		cmocka_unit_test(test_core_folds__permute_within_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
