/*
 * test_core_result.c - the portable byte format of task results.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nidec/mem.h"
#include "nidec/plan.h"

static void test_core_result__round_trip(void **state)
{
	double dec[3] = { 1.5, -0x1.23456789abcdep-7, NAN }, coef[2] = { -0.0, 1e-300 };
	nidec_result r, *back = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	void *buf;
	size_t len;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.task = (size_t)1 << 40;
	r.status = NIDEC_ESOLVER;
	r.score = 70.0 / 81.0;
	r.C = 100;
	r.seconds = 0.25;
	r.n_iter = 1972;
	r.n_test = 3;
	r.decision = dec;
	r.n_coef = 2;
	r.coef = coef;
	strcpy(r.msg, "fold 3 (run 3): liblinear refused the problem");
	assert_int_equal(nidec_result_pack(&r, &buf, &len, &err), 0);
	assert_int_equal(len, 66 + 8 * 5 + strlen(r.msg));
	assert_memory_equal(buf, "NIDR\1\0\0\0", 8); /* magic, version 1 little-endian */
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), 0);
	assert_int_equal(back->task, r.task);
	assert_int_equal(back->status, NIDEC_ESOLVER);
	assert_int_equal(back->n_iter, 1972);
	assert_memory_equal(&back->score, &r.score, sizeof(double));
	assert_true(back->C == 100 && back->seconds == 0.25);
	assert_int_equal(back->n_test, 3);
	assert_memory_equal(back->decision, dec, sizeof(dec)); /* NaN bits too */
	assert_int_equal(back->n_coef, 2);
	assert_memory_equal(back->coef, coef, sizeof(coef));   /* -0.0 stays -0.0 */
	assert_string_equal(back->msg, r.msg);
	nidec_result_free(&back);
	assert_null(back);
	nidec_result_free(&back);
	nidec_free(buf);
}

static void test_core_result__empty_arrays(void **state)
{
	nidec_result r, *back = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	void *buf;
	size_t len;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.task = 7;
	r.n_iter = -1;
	assert_int_equal(nidec_result_pack(&r, &buf, &len, &err), 0);
	assert_int_equal(len, 66);
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), 0);
	assert_int_equal(back->task, 7);
	assert_int_equal(back->n_iter, -1);
	assert_null(back->decision);
	assert_null(back->coef);
	assert_string_equal(back->msg, "");
	nidec_result_free(&back);
	nidec_free(buf);
}

/* every truncation, a flipped length and a foreign buffer are refused */
static void test_core_result__corrupt(void **state)
{
	double dec[4] = { 1, 2, 3, 4 };
	nidec_result r, *back = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	unsigned char *buf;
	void *vb;
	size_t len, cut;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.n_test = 4;
	r.decision = dec;
	strcpy(r.msg, "x");
	assert_int_equal(nidec_result_pack(&r, &vb, &len, &err), 0);
	buf = vb;
	for (cut = 0; cut < len; cut++) {
		assert_true(nidec_result_unpack(buf, cut, &back, &err) < 0);
		assert_null(back);
	}
	buf[48] = 0xff; /* n_test's low byte: 255 values cannot fit */
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	buf[48] = 4;
	buf[4] = 2; /* version 2 */
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "version 2"));
	buf[0] = 'X';
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	nidec_free(buf);
}

/* allocation failures while unpacking leak nothing */
static void test_core_result__unpack_oom(void **state)
{
	double dec[2] = { 1, 2 }, coef[2] = { 3, 4 };
	nidec_result r, *back = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	void *buf;
	size_t len;
	long n;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.n_test = 2;
	r.decision = dec;
	r.n_coef = 2;
	r.coef = coef;
	assert_int_equal(nidec_result_pack(&r, &buf, &len, &err), 0);
	for (n = 1; n < 10; n++) {
		int rc;
		nidec_mem_fail_at(n);
		rc = nidec_result_unpack(buf, len, &back, &err);
		nidec_mem_fail_at(0);
		if (rc == 0)
			break;
		assert_int_equal(rc, NIDEC_ENOMEM);
		assert_null(back);
	}
	assert_true(n == 4); /* result, decisions, weights: three allocations */
	nidec_result_free(&back);
	nidec_free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_result__round_trip),
		cmocka_unit_test(test_core_result__empty_arrays),
		cmocka_unit_test(test_core_result__corrupt),
		cmocka_unit_test(test_core_result__unpack_oom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
