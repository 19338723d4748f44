/*
 * test_base_util.c - the small base modules: rng streams, seeds, sbuf,
 * errors, checked sizes, allocation fault hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nidec/err.h"
#include "nidec/mem.h"
#include "nidec/rng.h"
#include "nidec/sbuf.h"

static void test_base_rng__streams_are_reproducible(void **state)
{
	nidec_rng a, b;
	int i;

	(void)state;
	nidec_rng_seed(&a, 42);
	nidec_rng_seed(&b, 42);
	for (i = 0; i < 100; i++)
		assert_true(nidec_rng_next(&a) == nidec_rng_next(&b));
	nidec_rng_seed(&b, 43);
	assert_true(nidec_rng_next(&a) != nidec_rng_next(&b));
}

static void test_base_rng__seed_mix_depends_on_every_part(void **state)
{
	uint64_t s = nidec_seed_mix(0, 1, 2, 3);

	(void)state;
	assert_true(s == nidec_seed_mix(0, 1, 2, 3));
	assert_true(s != nidec_seed_mix(1, 1, 2, 3));
	assert_true(s != nidec_seed_mix(0, 2, 1, 3));
	assert_true(s != nidec_seed_mix(0, 1, 2, 4));
}

static void test_base_rng__below_and_uniform_in_range(void **state)
{
	nidec_rng r;
	int counts[7] = { 0 }, i;

	(void)state;
	nidec_rng_seed(&r, 7);
	for (i = 0; i < 70000; i++) {
		double u = nidec_rng_uniform(&r);
		uint64_t k = nidec_rng_below(&r, 7);
		assert_true(u >= 0 && u < 1);
		assert_true(k < 7);
		counts[k]++;
	}
	/* 10000 expected per value; 5 sigma is about 475 */
	for (i = 0; i < 7; i++)
		assert_true(counts[i] > 9500 && counts[i] < 10500);
}

static void test_base_rng__shuffle_is_a_permutation(void **state)
{
	nidec_rng r;
	int a[50], seen[50] = { 0 }, i, moved = 0;

	(void)state;
	for (i = 0; i < 50; i++)
		a[i] = i;
	nidec_rng_seed(&r, 3);
	nidec_rng_shuffle_int(&r, a, 50);
	for (i = 0; i < 50; i++) {
		seen[a[i]]++;
		moved += a[i] != i;
	}
	for (i = 0; i < 50; i++)
		assert_int_equal(seen[i], 1);
	assert_true(moved > 40);
}

static void test_base_sbuf__grows_and_detaches(void **state)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	char *s;
	size_t len;
	int i;

	(void)state;
	assert_string_equal(sb.buf, "");
	for (i = 0; i < 1000; i++)
		assert_int_equal(nidec_sbuf_addf(&sb, "%d,", i % 10), 0);
	assert_int_equal((int)sb.len, 2000);
	assert_int_equal(nidec_sbuf_add_double(&sb, 0.1), 0);
	assert_non_null(strstr(sb.buf, "0.10000000000000001"));
	s = nidec_sbuf_detach(&sb, &len);
	assert_int_equal((int)len, (int)strlen(s));
	assert_string_equal(sb.buf, "");
	nidec_free(s);
	nidec_sbuf_release(&sb);
}

static void test_base_sbuf__failed_growth_keeps_contents(void **state)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;

	(void)state;
	assert_int_equal(nidec_sbuf_adds(&sb, "abc"), 0);
	nidec_mem_fail_at(1);
	assert_int_equal(nidec_sbuf_add(&sb, "x", 200), NIDEC_ENOMEM);
	nidec_mem_fail_at(0);
	assert_string_equal(sb.buf, "abc");
	nidec_sbuf_release(&sb);
}

static void test_base_err__fail_prefix_clear(void **state)
{
	nidec_err err = NIDEC_ERR_INIT;

	(void)state;
	assert_int_equal(nidec_fail(&err, NIDEC_EIO, "cannot read '%s'", "x.nii"), NIDEC_EIO);
	assert_int_equal(nidec_err_prefix(&err, "subject %d: ", 3), NIDEC_EIO);
	assert_string_equal(err.msg, "subject 3: cannot read 'x.nii'");
	nidec_err_clear(&err);
	assert_int_equal(err.code, 0);
	assert_int_equal(nidec_fail(NULL, NIDEC_EINPUT, "ignored"), NIDEC_EINPUT);
}

static void test_base_mem__overflow_is_an_error(void **state)
{
	nidec_err err = NIDEC_ERR_INIT;
	size_t out = 7;

	(void)state;
	assert_int_equal(nidec_mul_size(SIZE_MAX / 2, 3, &out), -1);
	assert_int_equal((int)out, 7);
	assert_null(nidec_malloc_e(SIZE_MAX / 4, 8, "the matrix", &err));
	assert_int_equal(err.code, NIDEC_ENOMEM);
	assert_non_null(strstr(err.msg, "size of the matrix overflows"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_rng__streams_are_reproducible),
		cmocka_unit_test(test_base_rng__seed_mix_depends_on_every_part),
		cmocka_unit_test(test_base_rng__below_and_uniform_in_range),
		cmocka_unit_test(test_base_rng__shuffle_is_a_permutation),
		cmocka_unit_test(test_base_sbuf__grows_and_detaches),
		cmocka_unit_test(test_base_sbuf__failed_growth_keeps_contents),
		cmocka_unit_test(test_base_err__fail_prefix_clear),
		cmocka_unit_test(test_base_mem__overflow_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
