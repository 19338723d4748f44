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
#include "nidec/result.h"

static void test_core_result__round_trip(void **state)
{
	/* 2 fits, 3 decision values and 2 weights per fit */
	double dec[6] = { 1.5, -0x1.23456789abcdep-7, NAN, 0, -1, 2 };
	double coef[4] = { -0.0, 1e-300, 3, 4 };
	double score[2] = { 70.0 / 81.0, NAN }, C[2] = { 10, 100 };
	int it[2] = { 1972, -1 };
	nidec_result r, *back = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	void *buf;
	size_t len;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.task = (size_t)1 << 40;
	r.status = NIDEC_ESOLVER;
	r.seconds = 0.25;
	r.n_iter = 1971;
	r.n_fit = 2;
	r.score = score;
	r.C = C;
	r.fit_iter = it;
	r.n_test = 3;
	r.decision = dec;
	r.n_coef = 2;
	r.coef = coef;
	strcpy(r.msg, "fold 3 (run 3): liblinear refused the problem");
	assert_int_equal(nidec_result_pack(&r, &buf, &len, &err), 0);
	assert_int_equal(len, 59 + 20 * 2 + 8 * 6 + 8 * 4 + strlen(r.msg));
	assert_memory_equal(buf, "NIDR\3\0\0\0", 8); /* magic, version 3 little-endian */
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), 0);
	assert_int_equal(back->task, r.task);
	assert_int_equal(back->status, NIDEC_ESOLVER);
	assert_int_equal(back->n_iter, 1971);
	assert_true(back->seconds == 0.25);
	assert_int_equal(back->n_fit, 2);
	assert_memory_equal(back->score, score, sizeof(score)); /* NaN bits too */
	assert_memory_equal(back->C, C, sizeof(C));
	assert_memory_equal(back->fit_iter, it, sizeof(it));
	assert_int_equal(back->n_test, 3);
	assert_memory_equal(back->decision, dec, sizeof(dec));
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
	assert_int_equal(len, 59);
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), 0);
	assert_int_equal(back->task, 7);
	assert_int_equal(back->n_iter, -1);
	assert_int_equal(back->n_fit, 0);
	assert_null(back->score);
	assert_null(back->decision);
	assert_null(back->coef);
	assert_string_equal(back->msg, "");
	nidec_result_free(&back);
	nidec_free(buf);
}

/* Sparse weights: 3 fits of a 6-voxel result storing 2, 0 and 3 voxels;
 * round trip, the dense view, truncations and bad voxel indices. */
static void test_core_result__sparse_weights(void **state)
{
	double score[3] = { 0.5, 0.6, 0.7 }, C[3] = { 1, 10, 100 };
	int it[3] = { 1, 2, 3 };
	size_t nnz[3] = { 2, 0, 3 };
	uint32_t vox[5] = { 1, 4, 0, 2, 5 };
	/* fit 0: v1 v4 b; fit 1: b; fit 2: v0 v2 v5 b */
	double coef[8] = { 0.25, -1.5, 9, -2, 0.125, 3, -0.0, 7 };
	double dense[7], want[3][7] = { { 0, 0.25, 0, 0, -1.5, 0, 9 },
					{ 0, 0, 0, 0, 0, 0, -2 },
					{ 0.125, 0, 3, 0, 0, -0.0, 7 } };
	nidec_result r, *back = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	unsigned char *buf;
	void *vb;
	size_t len, cut, f, packed;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.task = 3;
	r.n_fit = 3;
	r.score = score;
	r.C = C;
	r.fit_iter = it;
	r.n_coef = 7;
	r.coef = coef;
	r.coef_nnz = nnz;
	r.coef_vox = vox;
	for (f = 0; f < 3; f++) {
		nidec_result_coef(&r, f, dense);
		assert_memory_equal(dense, want[f], sizeof(dense));
	}
	assert_int_equal(nidec_result_pack(&r, &vb, &len, &err), 0);
	assert_int_equal(nidec_result_packed_size(&r, &packed), 0);
	assert_int_equal(len, packed);
	assert_int_equal(len, 59 + 20 * 3 + 8 * 3 + 4 * 5 + 8 * 8);
	buf = vb;
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), 0);
	assert_non_null(back->coef_nnz);
	assert_memory_equal(back->coef_nnz, nnz, sizeof(nnz));
	assert_memory_equal(back->coef_vox, vox, sizeof(vox));
	assert_memory_equal(back->coef, coef, sizeof(coef));
	for (f = 0; f < 3; f++) {
		nidec_result_coef(back, f, dense);
		assert_memory_equal(dense, want[f], sizeof(dense));
	}
	nidec_result_free(&back);
	for (cut = 0; cut < len; cut++) {
		assert_true(nidec_result_unpack(buf, cut, &back, &err) < 0);
		assert_null(back);
	}
	/* byte offsets: 32 fixed, n_fit 8, 3 fits x 20, n_test 8, n_coef 8,
	 * the sparse flag 1, then nnz[3] at 117 and the voxels at 141 */
	assert_int_equal(buf[116], 1);
	/* voxel indices: out of range (6 = the intercept's place), then not ascending */
	buf[145] = 6;
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	buf[145] = 1;
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	buf[145] = 4;
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), 0);
	nidec_result_free(&back);
	/* a fit claiming more voxels than the result has */
	buf[133] = 7;
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	assert_null(back);
	nidec_free(buf);
}

/* every truncation, a flipped length and a foreign buffer are refused */
static void test_core_result__corrupt(void **state)
{
	double dec[4] = { 1, 2, 3, 4 }, score = 1, C = 1;
	int it = 5;
	nidec_result r, *back = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	unsigned char *buf;
	void *vb;
	size_t len, cut;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.n_fit = 1;
	r.score = &score;
	r.C = &C;
	r.fit_iter = &it;
	r.n_test = 4;
	r.decision = dec;
	strcpy(r.msg, "x");
	assert_int_equal(nidec_result_pack(&r, &vb, &len, &err), 0);
	buf = vb;
	for (cut = 0; cut < len; cut++) {
		assert_true(nidec_result_unpack(buf, cut, &back, &err) < 0);
		assert_null(back);
	}
	buf[60] = 0xff; /* n_test's low byte (after 32 + 8 + 20 bytes): 255 values cannot fit */
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	buf[60] = 4;
	buf[32] = 0xff; /* n_fit: 255 fits cannot fit */
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	buf[32] = 1;
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), 0);
	nidec_result_free(&back);
	buf[4] = 2; /* version 2 (dense weights only) */
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "version 2"));
	buf[0] = 'X';
	assert_int_equal(nidec_result_unpack(buf, len, &back, &err), NIDEC_EFORMAT);
	nidec_free(buf);
}

/* allocation failures while unpacking leak nothing */
static void test_core_result__unpack_oom(void **state)
{
	double dec[2] = { 1, 2 }, coef[2] = { 3, 4 }, score = 0.5, C = 10;
	int it = 3;
	nidec_result r, *back = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	void *buf;
	size_t len;
	long n;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.n_fit = 1;
	r.score = &score;
	r.C = &C;
	r.fit_iter = &it;
	r.n_test = 2;
	r.decision = dec;
	r.n_coef = 2;
	r.coef = coef;
	assert_int_equal(nidec_result_pack(&r, &buf, &len, &err), 0);
	for (n = 1; n < 20; n++) {
		int rc;
		nidec_mem_fail_at(n);
		rc = nidec_result_unpack(buf, len, &back, &err);
		nidec_mem_fail_at(0);
		if (rc == 0)
			break;
		assert_int_equal(rc, NIDEC_ENOMEM);
		assert_null(back);
	}
	/* result, scores, C, iterations, decisions, weights: six allocations */
	assert_true(n == 7);
	nidec_result_free(&back);
	nidec_free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_result__round_trip),
		cmocka_unit_test(test_core_result__empty_arrays),
		cmocka_unit_test(test_core_result__corrupt),
		cmocka_unit_test(test_core_result__sparse_weights),
		cmocka_unit_test(test_core_result__unpack_oom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
