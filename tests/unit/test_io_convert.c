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
#include "nidec/file.h"
#include "nidec/hash.h"
#include "nidec/mem.h"

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
		cmocka_unit_test(test_io_convert__sha256),
		cmocka_unit_test(test_io_convert__output_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
