/*
 * test_io_convert.c - natural sort and glob expansion of per-run files
 * (src/io/convert.c), and SHA-256 (src/io/hash.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nidec/cfg.h"
#include "nidec/convert.h"
#include "nidec/hash.h"
#include "nidec/mem.h"

static void test_io_convert__natural_sort(void **state)
{
	const char *v[] = { "run-10.nii", "run-2.nii", "run-1.nii", "run-02.nii", "run-b.nii",
			    "run-a.nii", "run-100.nii", "Run-3.nii", "run-2a.nii" };
	const char *want[] = { "Run-3.nii", "run-1.nii", "run-2.nii", "run-02.nii", "run-2a.nii",
			       "run-10.nii", "run-100.nii", "run-a.nii", "run-b.nii" };
	size_t n = sizeof(v) / sizeof(v[0]), i, j;
	(void)state;

	assert_true(nidec_natural_cmp("run-2", "run-10") < 0);
	assert_true(nidec_natural_cmp("run-10", "run-2") > 0);
	assert_true(nidec_natural_cmp("run-02", "run-2") > 0); /* same value: fewer zeros first */
	assert_true(nidec_natural_cmp("a", "a") == 0);
	assert_true(nidec_natural_cmp("a", "ab") < 0);
	assert_true(nidec_natural_cmp("x99999999999999999999999", "x100000000000000000000000") < 0);
	/* insertion sort with the comparison, then compare with the order wanted */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && nidec_natural_cmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
}

static void test_io_convert__glob(void **state)
{
	char dir[] = "/tmp/nidec-test-glob-XXXXXX", path[256], pat[256], cmd[300];
	const char *names[] = { "s_run-10_bold.nii", "s_run-9_bold.nii", "s_run-1_bold.nii", "other.txt" };
	nidec_err err = NIDEC_ERR_INIT;
	char **v = NULL;
	size_t n = 0, i;
	(void)state;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 4; i++) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
	}
	snprintf(pat, sizeof(pat), "%s/s_run-*_bold.nii", dir);
	assert_int_equal(nidec_glob_natural(pat, "[data] bold", &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_non_null(strstr(v[0], "run-1_"));
	assert_non_null(strstr(v[1], "run-9_"));
	assert_non_null(strstr(v[2], "run-10_"));
	nidec_strv_free(v, n);

	snprintf(pat, sizeof(pat), "%s/nothing-*.nii", dir);
	assert_int_equal(nidec_glob_natural(pat, "[data] bold", &v, &n, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "matches no file"));
	snprintf(pat, sizeof(pat), "%s/missing.nii", dir);
	assert_int_equal(nidec_glob_natural(pat, "[data] mask", &v, &n, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "[data] mask: cannot open"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_io_convert__sha256(void **state)
{
	char hex[NIDEC_SHA256_HEX], path[] = "/tmp/nidec-test-hash-XXXXXX";
	nidec_err err = NIDEC_ERR_INIT;
	int64_t size = -1;
	FILE *f;
	int fd;
	(void)state;

	assert_int_equal(nidec_sha256_mem("abc", 3, hex, &err), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("abc", f);
	fclose(f);
	assert_int_equal(nidec_sha256_file(path, hex, &size, &err), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(size, 3);
	remove(path);
	assert_int_equal(nidec_sha256_file(path, hex, &size, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "cannot open"));
}

static void test_io_convert__output_path(void **state)
{
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	char *p = NULL;
	(void)state;

	nidec_cfg_init(&cfg);
	assert_int_equal(nidec_cfg_put(&cfg, "output", "dir", "res/sub-01", "test", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_int_equal(nidec_convert_output_path(&cfg, &p, &err), 0);
	assert_string_equal(p, "res/sub-01/dataset.h5");
	nidec_free(p);
	assert_int_equal(nidec_cfg_put(&cfg, "data", "dataset", "x/d.h5", "test", &err), 0);
	assert_int_equal(nidec_cfg_finish(&cfg, &err), 0);
	assert_int_equal(nidec_convert_output_path(&cfg, &p, &err), 0);
	assert_string_equal(p, "x/d.h5");
	nidec_free(p);
	/* an unfinished or empty config fails with the key to set */
	assert_int_equal(nidec_convert(&cfg, "/tmp/never.h5", 0, NULL, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "[data] bold is not set"));
	nidec_cfg_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_convert__natural_sort),
		cmocka_unit_test(test_io_convert__glob),
		cmocka_unit_test(test_io_convert__sha256),
		cmocka_unit_test(test_io_convert__output_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
