/*
 * test_io_mask.c - nearest-neighbour mask resampling and the C-order voxel
 * list (src/io/mask.c), on grids small enough to check by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nidec/mem.h"
#include "nidec/nii.h"

static void diag(double aff[16], double dx, double dy, double dz, double ox, double oy, double oz)
{
	memset(aff, 0, 16 * sizeof(double));
	aff[0] = dx;
	aff[5] = dy;
	aff[10] = dz;
	aff[3] = ox;
	aff[7] = oy;
	aff[11] = oz;
	aff[15] = 1;
}

#define AT(d, i, j, k) ((size_t)(i) + (size_t)(d)[0] * ((size_t)(j) + (size_t)(d)[1] * (size_t)(k)))

static void test_io_mask__resample_same_grid(void **state)
{
	int64_t d[3] = { 3, 2, 2 };
	double a[16];
	float m[12] = { 0 };
	unsigned char out[12];
	nidec_err err = NIDEC_ERR_INIT;
	size_t v;
	(void)state;

	diag(a, 2, 2, 2, -10, 0, 5);
	m[AT(d, 1, 0, 0)] = 1;
	m[AT(d, 2, 1, 1)] = -3; /* non-zero = inside, whatever the sign */
	assert_int_equal(nidec_mask_resample(m, d, a, d, a, out, &err), 0);
	for (v = 0; v < 12; v++)
		assert_int_equal(out[v], m[v] != 0);
}

static void test_io_mask__resample_shift_and_scale(void **state)
{
	int64_t md[3] = { 4, 4, 1 }, bd[3] = { 2, 2, 1 };
	double ma[16], ba[16];
	float m[16] = { 0 };
	unsigned char out[4];
	nidec_err err = NIDEC_ERR_INIT;
	(void)state;

	/* mask voxels of 1 mm; BOLD voxels of 2 mm whose centres fall on mask
	 * voxels (0,0), (2,0), (0,2), (2,2) */
	diag(ma, 1, 1, 1, 0, 0, 0);
	diag(ba, 2, 2, 1, 0, 0, 0);
	m[AT(md, 2, 0, 0)] = 1;
	m[AT(md, 3, 3, 0)] = 1; /* no BOLD centre lands here */
	assert_int_equal(nidec_mask_resample(m, md, ma, bd, ba, out, &err), 0);
	assert_int_equal(out[AT(bd, 0, 0, 0)], 0);
	assert_int_equal(out[AT(bd, 1, 0, 0)], 1);
	assert_int_equal(out[AT(bd, 0, 1, 0)], 0);
	assert_int_equal(out[AT(bd, 1, 1, 0)], 0);

	/* shift the BOLD grid by 0.6 mm: 2.6 rounds to mask voxel 3 */
	diag(ba, 2, 2, 1, 0.6, 0, 0);
	assert_int_equal(nidec_mask_resample(m, md, ma, bd, ba, out, &err), 0);
	assert_int_equal(out[AT(bd, 1, 0, 0)], 0);
	/* 0.5 rounds up (floor(x + 0.5)), as scipy's order-0 interpolation */
	diag(ba, 2, 2, 1, 1.5, 0, 0);
	assert_int_equal(nidec_mask_resample(m, md, ma, bd, ba, out, &err), 0);
	assert_int_equal(out[AT(bd, 0, 0, 0)], 1);
	/* far away: nothing lands inside */
	diag(ba, 2, 2, 1, 100, 0, 0);
	assert_int_equal(nidec_mask_resample(m, md, ma, bd, ba, out, &err), 0);
	assert_int_equal(out[0] + out[1] + out[2] + out[3], 0);
	/* singular mask affine */
	diag(ma, 1, 0, 1, 0, 0, 0);
	assert_int_equal(nidec_mask_resample(m, md, ma, bd, ba, out, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "singular"));
}

static void test_io_mask__c_order(void **state)
{
	nidec_nii mask;
	float data[8] = { 0 };
	int64_t d[3] = { 2, 2, 2 };
	double a[16];
	int32_t *ijk = NULL;
	size_t n = 0;
	int resampled = -1;
	nidec_err err = NIDEC_ERR_INIT;
	(void)state;

	memset(&mask, 0, sizeof(mask));
	mask.path = "m.nii";
	mask.dims[0] = mask.dims[1] = mask.dims[2] = 2;
	mask.dims[3] = 1;
	mask.n_vox3 = 8;
	diag(a, 1, 1, 1, 0, 0, 0);
	memcpy(mask.affine, a, sizeof(a));
	mask.data = data;
	data[AT(d, 1, 0, 0)] = 1; /* (1,0,0) */
	data[AT(d, 0, 1, 1)] = 1; /* (0,1,1) */
	data[AT(d, 0, 0, 1)] = 1; /* (0,0,1) */
	assert_int_equal(nidec_mask_on_grid(&mask, d, a, &ijk, &n, &resampled, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(resampled, 0);
	/* C order: k fastest, then j, then i */
	assert_int_equal(ijk[0], 0); assert_int_equal(ijk[1], 0); assert_int_equal(ijk[2], 1);
	assert_int_equal(ijk[3], 0); assert_int_equal(ijk[4], 1); assert_int_equal(ijk[5], 1);
	assert_int_equal(ijk[6], 1); assert_int_equal(ijk[7], 0); assert_int_equal(ijk[8], 0);
	nidec_free(ijk);

	memset(data, 0, sizeof(data));
	ijk = NULL;
	assert_int_equal(nidec_mask_on_grid(&mask, d, a, &ijk, &n, &resampled, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "is empty"));
	assert_null(ijk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_mask__resample_same_grid),
		cmocka_unit_test(test_io_mask__resample_shift_and_scale),
		cmocka_unit_test(test_io_mask__c_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
