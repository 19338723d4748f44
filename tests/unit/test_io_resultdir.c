/*
 * test_io_resultdir.c - the reader of results directories (src/io/resultdir.c)
 * that `nidec report` and a sweep's group statistics share: TSV tables,
 * summary.json and its scores, null_scores.tsv, missing files, damaged
 * files and allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nidec/file.h"
#include "nidec/mem.h"
#include "nidec/resultdir.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/nidec-test-resultdir.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* dir/name with `text` in it; the path into buf */
static const char *put(const char *name, const char *text, char *buf, size_t n)
{
	nidec_err err = NIDEC_ERR_INIT;

	snprintf(buf, n, "%s/%s", dir, name);
	assert_int_equal(nidec_file_write(buf, text, strlen(text), &err), 0);
	return buf;
}

static void test_io_resultdir__tables(void **state)
{
	nidec_result_table t = NIDEC_RESULT_TABLE_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	char path[512];

	(void)state;
	put("scores.tsv", "class\tfold\tscore\r\nface\t0\t0.5\r\ncat\t1\tnan\n\n", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_table(path, &t, &err), 0);
	assert_int_equal(t.n_cols, 3);
	assert_int_equal(t.n_rows, 2);
	assert_int_equal(nidec_result_table_col(&t, "score"), 2);
	assert_int_equal(nidec_result_table_col(&t, "nope"), -1);
	assert_string_equal(nidec_result_table_at(&t, 0, 0), "face");
	assert_string_equal(nidec_result_table_at(&t, 1, 2), "nan");
	assert_string_equal(nidec_result_table_at(&t, 1, -1), "");
	nidec_result_table_release(&t);
	nidec_result_table_release(&t); /* twice: still empty */
	assert_null(t.text);

	put("short.tsv", "a\tb\n1\n", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_table(path, &t, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "short.tsv' line 2 has 1 columns, the header 2"));
	assert_null(t.text);
	put("long.tsv", "a\tb\n1\t2\t3\n", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_table(path, &t, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "line 2 has more columns than the header (2)"));
	put("empty.tsv", "", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_table(path, &t, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "is empty; it should start with a header line"));
	snprintf(path, sizeof(path), "%s/none.tsv", dir);
	assert_int_equal(nidec_resultdir_read_table(path, &t, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "cannot open '"));
}

/* any JSON object of the directory, by name (the group page's files) */
static void test_io_resultdir__json(void **state)
{
	nidec_err err = NIDEC_ERR_INIT;
	json_t *js = (json_t *)1;
	char path[512];

	(void)state;
	assert_int_equal(nidec_resultdir_read_json(dir, "group_summary.json", NIDEC_FILE_MISSING_OK, &js,
						   &err), 0);
	assert_null(js);
	js = (json_t *)1;
	assert_int_equal(nidec_resultdir_read_json(dir, "group_summary.json", 0, &js, &err), NIDEC_EIO);
	assert_true(js == (json_t *)1); /* untouched on error */
	put("group_summary.json", "[1]", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_json(dir, "group_summary.json", 0, &js, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "is not a JSON object; is it a group_summary.json written by nidec?"));
	put("group_summary.json", "{\"n_ok\": 3}", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_json(dir, "group_summary.json", 0, &js, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(js, "n_ok")), 3);
	json_decref(js);
}

static void test_io_resultdir__summary_and_scores(void **state)
{
	nidec_result_scores s = NIDEC_RESULT_SCORES_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	json_t *js = (json_t *)1;
	char path[512];

	(void)state;
	/* missing: allowed, or an error */
	assert_int_equal(nidec_resultdir_read_summary(dir, NIDEC_FILE_MISSING_OK, &js, &err), 0);
	assert_null(js);
	assert_int_equal(nidec_resultdir_read_summary(dir, 0, &js, &err), NIDEC_EIO);
	/* damaged */
	put("summary.json", "{\n \"keys\": [\n", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_summary(dir, 0, &js, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "summary.json' line "));
	put("summary.json", "[1, 2]", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_summary(dir, 0, &js, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "is not a JSON object"));
	/* the scores of two keys over two folds */
	put("summary.json",
	    "{\"keys\": [\"cat\", \"face\"], \"classes\": [\"cat\", \"face\"], \"n_folds\": 2,"
	    " \"scores\": {\"cat\": {\"mean\": 0.75, \"std\": 0.25, \"chosen_C\": [1, 10]},"
	    " \"face\": {\"mean\": null, \"chosen_C\": [100]}}}",
	    path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_summary(dir, 0, &js, &err), 0);
	assert_non_null(js);
	assert_int_equal(nidec_resultdir_scores(js, path, &s, &err), 0);
	assert_int_equal(s.n_keys, 2);
	assert_int_equal(s.n_classes, 2);
	assert_int_equal(s.n_folds, 2);
	assert_string_equal(s.keys[1], "face");
	assert_true(s.mean[0] == 0.75 && s.std[0] == 0.25);
	assert_true(isnan(s.mean[1]) && isnan(s.std[1]));
	assert_true(s.chosen_C[0] == 1 && s.chosen_C[1] == 10 && s.chosen_C[2] == 100);
	assert_true(isnan(s.chosen_C[3]));
	nidec_result_scores_release(&s);
	assert_null(s.keys);
	/* every allocation failure is an error and leaks nothing */
	{
		long n;
		int rc = -1;
		for (n = 1; rc != 0 && n < 20; n++) {
			nidec_mem_fail_at(n);
			rc = nidec_resultdir_scores(js, path, &s, &err);
			nidec_mem_fail_at(0);
			assert_true(rc == 0 || rc == NIDEC_ENOMEM);
		}
		assert_int_equal(rc, 0);
		nidec_result_scores_release(&s);
	}
	json_decref(js);
	/* a class without scores */
	put("summary.json", "{\"keys\": [\"cat\"], \"scores\": {}}", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_summary(dir, 0, &js, &err), 0);
	assert_int_equal(nidec_resultdir_scores(js, path, &s, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "no scores for class 'cat'"));
	json_decref(js);
}

static void test_io_resultdir__null_scores(void **state)
{
	const char *keys[2] = { "face", "cat" };
	nidec_err err = NIDEC_ERR_INIT;
	double *v = NULL;
	long n = -1;
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/null_scores.tsv", dir);
	assert_int_equal(nidec_resultdir_read_null(path, keys, 2, NIDEC_FILE_MISSING_OK, &v, &n, &err), 0);
	assert_null(v);
	assert_int_equal(n, 0);
	/* columns in the order of keys, not of the file */
	put("null_scores.tsv", "permutation\tcat\tface\n1\t0.5\t0.25\n2\tnan\t1\n", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_null(path, keys, 2, 0, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_true(v[0] == 0.25 && v[1] == 0.5 && v[2] == 1 && isnan(v[3]));
	nidec_free(v);
	v = NULL;
	put("null_scores.tsv", "perm\tcat\tface\n", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_null(path, keys, 2, 0, &v, &n, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "the header must start with 'permutation'"));
	put("null_scores.tsv", "permutation\tcat\n", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_null(path, keys, 2, 0, &v, &n, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "has no column for class 'face'"));
	put("null_scores.tsv", "permutation\tcat\tface\n1\t0.5\tx\n", path, sizeof(path));
	assert_int_equal(nidec_resultdir_read_null(path, keys, 2, 0, &v, &n, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "null_scores.tsv' line 2: 'x' is not a number"));
	assert_null(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_resultdir__tables),
		cmocka_unit_test(test_io_resultdir__json),
		cmocka_unit_test(test_io_resultdir__summary_and_scores),
		cmocka_unit_test(test_io_resultdir__null_scores),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
