/*
 * test_io_nii.c - NIfTI write / read round trips, streaming with voxel
 * indices, weight maps on a dataset grid, and errors on damaged files
 * (src/io/nii.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <nifti1.h>

#include "nidec/dataset.h"
#include "nidec/mem.h"
#include "nidec/nii.h"

static char dir[] = "/tmp/nidec-test-nii-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void spec_4d(nidec_nii_spec *s, int dt)
{
	memset(s, 0, sizeof(*s));
	s->ndim = 4;
	s->dims[0] = 3;
	s->dims[1] = 2;
	s->dims[2] = 2;
	s->dims[3] = 4;
	s->datatype = dt;
	s->affine[0] = -2;
	s->affine[5] = 2;
	s->affine[10] = 3;
	s->affine[3] = 10;
	s->affine[7] = -5;
	s->affine[11] = 1;
	s->affine[15] = 1;
	s->xform_code = 1;
	s->pixdim[0] = 2;
	s->pixdim[1] = 2;
	s->pixdim[2] = 3;
	s->pixdim[3] = 2.5;
	s->compress_level = 1;
}

static void test_io_nii__roundtrip(void **state)
{
	int16_t data[48];
	nidec_nii_spec spec;
	nidec_nii *img = NULL;
	nidec_nii_stream *s = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	char path[256];
	size_t idx[2] = { 11, 0 };
	float two[2];
	int i;
	(void)state;

	for (i = 0; i < 48; i++)
		data[i] = (int16_t)(i * 7 - 100);
	spec_4d(&spec, NIFTI_TYPE_INT16);
	snprintf(path, sizeof(path), "%s/a.nii.gz", dir);
	assert_int_equal(nidec_nii_write(path, &spec, data, &err), 0);
	assert_int_equal(nidec_nii_read(path, &img, &err), 0);
	assert_int_equal(img->ndim, 4);
	assert_int_equal(img->dims[0], 3);
	assert_int_equal(img->dims[3], 4);
	assert_int_equal(img->datatype, NIFTI_TYPE_INT16);
	assert_int_equal(img->header_len, 348);
	assert_true(img->pixdim[3] == 2.5);
	for (i = 0; i < 16; i++)
		assert_true(img->affine[i] == spec.affine[i]);
	for (i = 0; i < 48; i++)
		assert_true(img->data[i] == (float)data[i]);
	nidec_nii_free(&img);
	assert_null(img);

	/* stream: volume 0 skipped, volume 1 at two voxels */
	assert_int_equal(nidec_nii_stream_open(path, &s, &err), 0);
	assert_int_equal(nidec_nii_stream_read(s, NULL, 0, NULL, &err), 0);
	assert_int_equal(nidec_nii_stream_read(s, idx, 2, two, &err), 0);
	assert_true(two[0] == (float)data[12 + 11]);
	assert_true(two[1] == (float)data[12]);
	nidec_nii_stream_close(&s);
	assert_null(s);

	/* uncompressed .nii, float32 */
	{
		float f[48];
		for (i = 0; i < 48; i++)
			f[i] = (float)i / 3.0f;
		spec_4d(&spec, NIFTI_TYPE_FLOAT32);
		snprintf(path, sizeof(path), "%s/b.nii", dir);
		assert_int_equal(nidec_nii_write(path, &spec, f, &err), 0);
		assert_int_equal(nidec_nii_read(path, &img, &err), 0);
		for (i = 0; i < 48; i++)
			assert_true(img->data[i] == f[i]);
		nidec_nii_free(&img);
	}
}

static void test_io_nii__damaged(void **state)
{
	int16_t data[48] = { 0 };
	nidec_nii_spec spec;
	nidec_nii *img = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	char path[256], cut[256], cmd[700];
	FILE *f;
	(void)state;

	spec_4d(&spec, NIFTI_TYPE_INT16);
	snprintf(path, sizeof(path), "%s/c.nii", dir);
	assert_int_equal(nidec_nii_write(path, &spec, data, &err), 0);
	snprintf(cut, sizeof(cut), "%s/cut.nii", dir);
	snprintf(cmd, sizeof(cmd), "head -c 400 '%s' >'%s'", path, cut);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(nidec_nii_read_header(cut, &img, &err), 0); /* the header is whole */
	nidec_nii_free(&img);
	assert_int_equal(nidec_nii_read(cut, &img, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "is truncated: the file ends inside volume 3 of 4"));
	assert_null(img);

	snprintf(path, sizeof(path), "%s/text.nii", dir);
	f = fopen(path, "w");
	fputs("this is not an image\n", f);
	fclose(f);
	assert_int_equal(nidec_nii_read_header(path, &img, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "is not a NIfTI file"));
	assert_int_equal(nidec_nii_read_header("/nonexistent.nii", &img, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "cannot open '/nonexistent.nii'"));
}

static void test_io_nii__write_masked(void **state)
{
	nidec_dataset ds;
	int32_t ijk[6] = { 0, 0, 0, 2, 1, 1 };
	float vals[2] = { 1.5f, -2.0f };
	nidec_nii *img = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	char path[256];
	int i;
	(void)state;

	memset(&ds, 0, sizeof(ds));
	ds.path = "ds.h5";
	ds.n_voxels = 2;
	ds.ijk = ijk;
	ds.dims[0] = 3;
	ds.dims[1] = 2;
	ds.dims[2] = 2;
	ds.affine[0] = 2;
	ds.affine[5] = 2;
	ds.affine[10] = 2;
	ds.affine[3] = -3;
	ds.affine[15] = 1;
	ds.pixdim[0] = ds.pixdim[1] = ds.pixdim[2] = 2;
	snprintf(path, sizeof(path), "%s/w.nii.gz", dir);
	{
		nidec_tempfile *t = NULL;
		assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
		assert_int_equal(nidec_nii_write_masked(t, &ds, vals, &err), 0);
		assert_int_equal(nidec_tempfile_commit(&t, &err), 0);
	}
	assert_int_equal(nidec_nii_read(path, &img, &err), 0);
	assert_int_equal(img->ndim, 3);
	assert_true(img->data[0] == 1.5f);
	assert_true(img->data[2 + 3 * (1 + 2 * 1)] == -2.0f);
	for (i = 0; i < 16; i++)
		assert_true(img->affine[i] == ds.affine[i]);
	nidec_nii_free(&img);

	/* extract the two voxels back, as `nidec predict` does */
	{
		const char *paths[1];
		float *X = NULL;
		size_t nv = 0;
		paths[0] = path;
		assert_int_equal(nidec_nii_extract(paths, 1, ds.dims, ds.affine, ijk, 2, &X, &nv, &err), 0);
		assert_int_equal(nv, 1);
		assert_true(X[0] == 1.5f && X[1] == -2.0f);
		nidec_free(X);
		ds.affine[3] = 5; /* another grid */
		assert_int_equal(nidec_nii_extract(paths, 1, ds.dims, ds.affine, ijk, 2, &X, &nv, &err),
				 NIDEC_EINPUT);
		assert_non_null(strstr(err.msg, "resample the images to the training grid"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_nii__roundtrip),
		cmocka_unit_test(test_io_nii__damaged),
		cmocka_unit_test(test_io_nii__write_masked),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
