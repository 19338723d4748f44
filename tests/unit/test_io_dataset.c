/*
 * test_io_dataset.c - write a tiny dataset HDF5 file in blocks, read it
 * back whole and by rows, provenance, and the no-half-file rule
 * (src/io/dataset.c).
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

#include <glob.h>

#include "nidec/dataset.h"
#include "nidec/mem.h"

static char dir[] = "/tmp/nidec-test-ds-XXXXXX";

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

/* 6 samples (2 runs) x 4 voxels. */
static void fill(nidec_dataset *m, char **labels, int32_t *runs, int64_t *vols, char **conds,
		 int32_t *ijk, unsigned char *hdr)
{
	int i;

	memset(m, 0, sizeof(*m));
	m->n_samples = 6;
	m->n_voxels = 4;
	for (i = 0; i < 6; i++) {
		labels[i] = i % 2 ? "face" : "cat";
		runs[i] = i / 3;
		vols[i] = i % 3;
	}
	conds[0] = "cat";
	conds[1] = "face";
	for (i = 0; i < 12; i++)
		ijk[i] = i % 3 == 0 ? i / 3 : 0;
	memset(hdr, 7, 348);
	m->labels = labels;
	m->runs = runs;
	m->volumes = vols;
	m->conditions = conds;
	m->n_conditions = 2;
	m->ijk = ijk;
	m->dims[0] = 4;
	m->dims[1] = 1;
	m->dims[2] = 1;
	m->affine[0] = m->affine[5] = m->affine[10] = 3;
	m->affine[15] = 1;
	m->pixdim[0] = m->pixdim[1] = m->pixdim[2] = 3;
	m->pixdim[3] = 2.5;
	m->nifti_header = hdr;
	m->nifti_header_len = 348;
}

static void test_io_dataset__write_read(void **state)
{
	char *labels[6], *conds[2], path[256], *v = NULL;
	int32_t runs[6], ijk[12];
	int64_t vols[6];
	unsigned char hdr[348];
	float X[24], *M = NULL, rows[8];
	nidec_ds_input in[1];
	nidec_ds_input *got = NULL;
	size_t n_got = 0;
	nidec_ds_provenance prov;
	nidec_dataset meta, *ds = NULL;
	nidec_ds_writer *w = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	int i;
	(void)state;

	fill(&meta, labels, runs, vols, conds, ijk, hdr);
	for (i = 0; i < 24; i++)
		X[i] = (float)i * 0.5f - 3.0f;
	in[0].role = "bold";
	in[0].path = "/data/bold.nii.gz";
	in[0].size = 1234;
	in[0].sha256 = "00ff";
	memset(&prov, 0, sizeof(prov));
	prov.inputs = in;
	prov.n_inputs = 1;
	prov.inputs_sha256 = "abcd";
	prov.tool_version = "test";
	prov.command_line = "nidec convert x";
	prov.created = "2000-01-01T00:00:00Z";
	snprintf(path, sizeof(path), "%s/ds.h5", dir);
	assert_int_equal(nidec_ds_create(path, &meta, &prov, &w, &err), 0);
	assert_int_not_equal(access(path, F_OK), 0); /* not under its final name yet */
	assert_int_equal(nidec_ds_write_rows(w, 0, 4, X, &err), 0);
	assert_int_equal(nidec_ds_write_rows(w, 4, 2, X + 16, &err), 0);
	assert_int_equal(nidec_ds_write_rows(w, 5, 2, X, &err), NIDEC_EINTERNAL);
	assert_int_equal(nidec_ds_commit(&w, &err), 0);
	assert_null(w);

	assert_int_equal(nidec_ds_open(path, &ds, &err), 0);
	assert_int_equal(ds->n_samples, 6);
	assert_int_equal(ds->n_voxels, 4);
	assert_string_equal(ds->labels[1], "face");
	assert_int_equal(ds->runs[5], 1);
	assert_int_equal(ds->volumes[4], 1);
	assert_int_equal(ds->n_conditions, 2);
	assert_string_equal(ds->conditions[1], "face");
	assert_int_equal(ds->ijk[3], 1);
	assert_int_equal(ds->dims[0], 4);
	assert_true(ds->pixdim[3] == 2.5);
	assert_int_equal(ds->nifti_header_len, 348);
	assert_int_equal(ds->nifti_header[100], 7);
	assert_string_equal(ds->inputs_sha256, "abcd");
	assert_true(nidec_ds_voxel_volume(ds) == 27.0);
	assert_int_equal(nidec_ds_read_matrix(ds, &M, &err), 0);
	assert_memory_equal(M, X, sizeof(X));
	nidec_free(M);
	assert_int_equal(nidec_ds_read_rows(ds, 3, 2, rows, &err), 0);
	assert_memory_equal(rows, X + 12, sizeof(rows));
	assert_int_equal(nidec_ds_attr(ds, "command_line", &v, &err), 0);
	assert_string_equal(v, "nidec convert x");
	nidec_free(v);
	assert_int_equal(nidec_ds_attr(ds, "no_such_attr", &v, &err), 0);
	assert_null(v);
	assert_int_equal(nidec_ds_inputs(ds, &got, &n_got, &err), 0);
	assert_int_equal(n_got, 1);
	assert_string_equal(got[0].path, "/data/bold.nii.gz");
	assert_int_equal(got[0].size, 1234);
	nidec_ds_inputs_free(got, n_got);
	nidec_ds_close(&ds);
	assert_null(ds);
	nidec_ds_close(&ds); /* NULL-safe */
}

static void test_io_dataset__abort_and_errors(void **state)
{
	char *labels[6], *conds[2], path[256], tmp[300];
	int32_t runs[6], ijk[12];
	int64_t vols[6];
	unsigned char hdr[348];
	nidec_ds_provenance prov;
	nidec_dataset meta, *ds = NULL;
	nidec_ds_writer *w = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	int is = -1;
	FILE *f;
	(void)state;

	fill(&meta, labels, runs, vols, conds, ijk, hdr);
	memset(&prov, 0, sizeof(prov));
	snprintf(path, sizeof(path), "%s/aborted.h5", dir);
	assert_int_equal(nidec_ds_create(path, &meta, &prov, &w, &err), 0);
	/* the file layer's temporary (file.h "Naming"), the first of this process */
	{
		glob_t g;
		snprintf(tmp, sizeof(tmp), "%s/.aborted.h5.tmp-%ld-*", dir, (long)getpid());
		assert_int_equal(glob(tmp, 0, NULL, &g), 0);
		assert_int_equal(g.gl_pathc, 1);
		snprintf(tmp, sizeof(tmp), "%s", g.gl_pathv[0]);
		globfree(&g);
	}
	assert_int_equal(access(tmp, F_OK), 0);
	nidec_ds_abort(&w);
	assert_null(w);
	assert_int_not_equal(access(tmp, F_OK), 0);
	assert_int_not_equal(access(path, F_OK), 0);

	snprintf(path, sizeof(path), "%s/no/such/dir/x.h5", dir);
	assert_true(nidec_ds_create(path, &meta, &prov, &w, &err) < 0);
	assert_non_null(strstr(err.msg, "cannot write '"));
	assert_non_null(strstr(err.msg, "x.h5': No such file or directory"));

	snprintf(path, sizeof(path), "%s/text.h5", dir);
	f = fopen(path, "w");
	fputs("not hdf5", f);
	fclose(f);
	assert_int_equal(nidec_ds_open(path, &ds, &err), NIDEC_EFORMAT);
	assert_non_null(strstr(err.msg, "is not an HDF5 file"));
	assert_true(nidec_ds_is_dataset(path, &is, &err) < 0);
	assert_int_equal(nidec_ds_open("/nonexistent.h5", &ds, &err), NIDEC_EIO);
	assert_null(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_dataset__write_read),
		cmocka_unit_test(test_io_dataset__abort_and_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
