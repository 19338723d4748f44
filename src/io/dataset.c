/*
 * dataset.c - the dataset HDF5 file: writer (convert) and reader (every
 * rank), plus a generic listing for `nidec info` (see dataset.h and
 * docs/FORMAT.md for the layout).
 *
 * hdf5.h is included only in src/io's .c files (the parallel HDF5 build
 * pulls in mpi.h, so it must stay out of headers).  Files are opened with
 * the default, serial file access property list by one process at a time
 * for writing, by any number of processes independently for reading: no
 * MPI call is made here.  The file is written into a temporary of the
 * file layer (file.h) and renamed by nidec_ds_commit.  Writing goes
 * through the one HDF5 layer, h5w.c, and so does every failure, written
 * or read: HDF5's automatic error printing is turned off, every call is
 * checked and a failure becomes one line naming the file, the object and
 * the operation, with HDF5's own innermost message.  Object modification
 * times are not recorded, so two conversions of the same inputs differ
 * only in the `created` attribute.
 * Depends on base and HDF5 only.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

#include "nidec/dataset.h"
#include "nidec/file.h"
#include "nidec/hash.h"
#include "nidec/log.h"
#include "nidec/mem.h"

#include "h5w.h"

struct ds_priv {
	hid_t file;
	hid_t X;
	/* /crc32 (docs/FORMAT.md "Checksums"), when ds->has_checksums */
	size_t block_rows;   /* rows of /X per checksummed block */
	size_t n_blocks;
	uint32_t *blk;       /* [n_blocks] CRC-32 of each block of /X */
};

struct nidec_ds_writer {
	char *path;          /* final name */
	nidec_tempfile *t;   /* the file's temporary (file.h), renamed at commit */
	hid_t file;
	hid_t X;
	size_t n, p;
	/* the checksums, computed as the rows go by (rows come in order) */
	size_t block_rows, n_blocks, next_row;
	uint32_t *blk;       /* [n_blocks] */
	uint32_t labels_crc, runs_crc, target_crc; /* target_crc: when has_target */
	int has_target;
};

/* The checksums' group and what it holds. */
#define CRC_GROUP "crc32"

void nidec_h5_library_version(char *buf, size_t n)
{
	unsigned maj = 0, min = 0, rel = 0;

	H5get_libversion(&maj, &min, &rel);
	snprintf(buf, n, "%u.%u.%u", maj, min, rel);
}

/* ---- writing ------------------------------------------------------------- */

static void now_iso(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_provenance(hid_t file, const char *path, const nidec_ds_provenance *prov,
			    nidec_err *err)
{
	const char **roles = NULL, **paths = NULL, **hashes = NULL;
	int64_t *sizes = NULL;
	char created[64], h5v[64];
	int32_t version = NIDEC_DS_FORMAT_VERSION;
	size_t i, n = prov->n_inputs;
	int rc = 0;

	NIDEC_TRY(nidec_h5w_attr_vstr(file, "format", NIDEC_DS_FORMAT_NAME, path, err));
	NIDEC_TRY(nidec_h5w_attr_num(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32,
				     &version, 1, 1, path, err));
	NIDEC_TRY(nidec_h5w_attr_vstr(file, "inputs_sha256", prov->inputs_sha256, path, err));
	NIDEC_TRY(nidec_h5w_attr_vstr(file, "tool_version", prov->tool_version ? prov->tool_version : "unknown", path, err));
	NIDEC_TRY(nidec_h5w_attr_vstr(file, "command_line", prov->command_line ? prov->command_line : "", path, err));
	nidec_h5_library_version(h5v, sizeof(h5v));
	NIDEC_TRY(nidec_h5w_attr_vstr(file, "hdf5_version", h5v, path, err));
	NIDEC_TRY(nidec_h5w_attr_vstr(file, "nifti_version", prov->nifti_version ? prov->nifti_version : "unknown", path, err));
	NIDEC_TRY(nidec_h5w_attr_vstr(file, "liblinear_version", prov->liblinear_version ? prov->liblinear_version : "unknown", path, err));
	NIDEC_TRY(nidec_h5w_attr_vstr(file, "config", prov->config ? prov->config : "", path, err));
	if (prov->created)
		snprintf(created, sizeof(created), "%s", prov->created);
	else
		now_iso(created, sizeof(created));
	NIDEC_TRY(nidec_h5w_attr_vstr(file, "created", created, path, err));

	roles = nidec_calloc_e(n ? n : 1, sizeof(*roles), "provenance", err);
	paths = nidec_calloc_e(n ? n : 1, sizeof(*paths), "provenance", err);
	hashes = nidec_calloc_e(n ? n : 1, sizeof(*hashes), "provenance", err);
	sizes = nidec_calloc_e(n ? n : 1, sizeof(*sizes), "provenance", err);
	if (!roles || !paths || !hashes || !sizes) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		roles[i] = prov->inputs[i].role;
		paths[i] = prov->inputs[i].path;
		hashes[i] = prov->inputs[i].sha256;
		sizes[i] = prov->inputs[i].size;
	}
	NIDEC_TRY_GOTO(rc, nidec_h5w_attr_vstrs(file, "input_roles", roles, n, 0, path, err), done);
	NIDEC_TRY_GOTO(rc, nidec_h5w_attr_vstrs(file, "input_paths", paths, n, 0, path, err), done);
	NIDEC_TRY_GOTO(rc, nidec_h5w_attr_num(file, "input_sizes", H5T_STD_I64LE, H5T_NATIVE_INT64,
					      sizes, n, 0, path, err), done);
	NIDEC_TRY_GOTO(rc, nidec_h5w_attr_vstrs(file, "input_sha256", hashes, n, 0, path, err), done);
	if (prov->preprocessing)
		NIDEC_TRY_GOTO(rc, nidec_h5w_attr_vstr(file, "preprocessing", prov->preprocessing, path, err), done);
	if (prov->n_confound_columns)
		NIDEC_TRY_GOTO(rc, nidec_h5w_attr_vstrs(file, "confound_columns", prov->confound_columns,
							prov->n_confound_columns, 0, path, err), done);
done:
	nidec_free(roles);
	nidec_free(paths);
	nidec_free(hashes);
	nidec_free(sizes);
	return rc;
}

/* Rows per chunk of /X: blocks of about 1 MiB (at least one row). */
static void chunk_shape(size_t n, size_t p, hsize_t chunk[2])
{
	size_t row_bytes = p * sizeof(float), rows;

	rows = row_bytes >= ((size_t)1 << 20) ? 1 : ((size_t)1 << 20) / row_bytes;
	if (rows > n)
		rows = n;
	chunk[0] = (hsize_t)(rows ? rows : 1);
	/* an HDF5 chunk must stay under 4 GiB: split very long rows */
	chunk[1] = (hsize_t)(p > ((size_t)1 << 26) ? ((size_t)1 << 26) : p);
}

static int create_X(nidec_ds_writer *w, nidec_err *err)
{
	hsize_t dims[2] = { (hsize_t)w->n, (hsize_t)w->p }, chunk[2];
	hid_t space = -1, dcpl = -1, dapl = -1;
	size_t cache;
	int rc = 0;

	chunk_shape(w->n, w->p, chunk);
	cache = (size_t)(chunk[0] * chunk[1] * sizeof(float)) * 4;
	if (cache < ((size_t)1 << 20))
		cache = (size_t)1 << 20;
	space = H5Screate_simple(2, dims, NULL);
	dcpl = nidec_h5w_dcpl();
	dapl = H5Pcreate(H5P_DATASET_ACCESS);
	if (space < 0 || dcpl < 0 || dapl < 0 || H5Pset_chunk(dcpl, 2, chunk) < 0 ||
	    H5Pset_chunk_cache(dapl, 521, cache, 1.0) < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EIO, w->path, -1, "/X", "set up the chunked layout of");
		goto done;
	}
	w->X = H5Dcreate2(w->file, "X", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, dapl);
	if (w->X < 0)
		rc = nidec_h5w_fail(err, NIDEC_EIO, w->path, -1, "/X", "create dataset");
done:
	if (space >= 0)
		H5Sclose(space);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (dapl >= 0)
		H5Pclose(dapl);
	return rc;
}

/* /mask: where the columns of /X are on the BOLD grid. */
static int write_mask(nidec_ds_writer *w, const nidec_dataset *meta, nidec_err *err)
{
	const char *path = w->path;
	hsize_t d[2];
	hid_t g;
	int rc;

	g = nidec_h5w_group(w->file, "mask", path, err);
	if (g < 0)
		return NIDEC_EIO;
	d[0] = w->p;
	d[1] = 3;
	rc = nidec_h5w_i32(g, "ijk", 2, d, meta->ijk, path, err);
	d[0] = d[1] = 4;
	if (rc == 0)
		rc = nidec_h5w_f64(g, "affine", 2, d, meta->affine, path, err);
	d[0] = 3;
	if (rc == 0)
		rc = nidec_h5w_i64(g, "dims", 1, d, meta->dims, path, err);
	d[0] = 4;
	if (rc == 0)
		rc = nidec_h5w_f64(g, "pixdim", 1, d, meta->pixdim, path, err);
	d[0] = meta->nifti_header_len;
	if (rc == 0)
		rc = nidec_h5w_write(g, "nifti_header", H5T_NATIVE_UCHAR, H5T_STD_U8LE, 1, d,
				     meta->nifti_header, path, err);
	H5Gclose(g);
	return rc;
}

static int write_target(hid_t file, const nidec_dataset *meta, const char *path, nidec_err *err);

int nidec_ds_create(const char *path, const nidec_dataset *meta,
		    const nidec_ds_provenance *prov, nidec_ds_writer **out, nidec_err *err)
{
	nidec_ds_writer *w;
	hsize_t d[1];
	int rc = 0;

	if (meta->n_samples == 0 || meta->n_voxels == 0)
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': a dataset needs samples and voxels", path);
	w = nidec_calloc(1, sizeof(*w));
	if (!w)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory creating '%s'", path);
	w->file = w->X = -1;
	w->n = meta->n_samples;
	w->p = meta->n_voxels;
	w->path = nidec_strdup(path);
	if (!w->path) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory creating '%s'", path);
		goto fail;
	}
	{
		hsize_t chunk[2];
		chunk_shape(w->n, w->p, chunk);
		w->block_rows = (size_t)chunk[0];
		w->n_blocks = (w->n + w->block_rows - 1) / w->block_rows;
		w->blk = nidec_calloc(w->n_blocks, sizeof(*w->blk));
		if (!w->blk) {
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory creating '%s'", path);
			goto fail;
		}
		w->labels_crc = nidec_crc32_strings(0, (const char *const *)meta->labels, w->n);
		w->runs_crc = nidec_crc32_i32(0, meta->runs, w->n);
		w->has_target = meta->target != NULL;
		if (w->has_target)
			w->target_crc = nidec_crc32_f64(0, meta->target, w->n);
	}
	NIDEC_TRY_GOTO(rc, nidec_tempfile_create(path, 0, &w->t, err), fail);
	w->file = nidec_h5w_create(w->t, err);
	if (w->file < 0) {
		rc = err && err->code ? err->code : NIDEC_EIO;
		goto fail;
	}
	NIDEC_TRY_GOTO(rc, create_X(w, err), fail);
	NIDEC_TRY_GOTO(rc, nidec_h5w_vstrings(w->file, "labels", (const char *const *)meta->labels,
					      w->n, path, err), fail);
	d[0] = w->n;
	NIDEC_TRY_GOTO(rc, nidec_h5w_i32(w->file, "runs", 1, d, meta->runs, path, err), fail);
	NIDEC_TRY_GOTO(rc, nidec_h5w_i64(w->file, "volumes", 1, d, meta->volumes, path, err), fail);
	if (meta->target)
		NIDEC_TRY_GOTO(rc, write_target(w->file, meta, path, err), fail);
	NIDEC_TRY_GOTO(rc, nidec_h5w_vstrings(w->file, "conditions",
					      (const char *const *)meta->conditions,
					      meta->n_conditions, path, err), fail);
	NIDEC_TRY_GOTO(rc, write_mask(w, meta, err), fail);
	NIDEC_TRY_GOTO(rc, write_provenance(w->file, path, prov, err), fail);
	*out = w;
	return 0;
fail:
	nidec_ds_abort(&w);
	return rc;
}

#define MEAN_EPI "mean_epi"

int nidec_ds_write_mean_epi(nidec_ds_writer *w, const float *img, const int64_t dims[3],
			    nidec_err *err)
{
	hsize_t d[3] = { (hsize_t)dims[2], (hsize_t)dims[1], (hsize_t)dims[0] };
	hid_t dset;
	int rc;

	NIDEC_TRY(nidec_h5w_write(w->file, MEAN_EPI, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, d, img,
				  w->path, err));
	dset = H5Dopen2(w->file, MEAN_EPI, H5P_DEFAULT);
	if (dset < 0)
		return nidec_h5w_fail(err, NIDEC_EIO, w->path, w->file, MEAN_EPI, "open dataset");
	rc = nidec_h5w_attr_vstr(dset, "what",
				 "mean over time of each BOLD file, then over the files; NIfTI order (x fastest): "
				 "transpose the [z][y][x] array for nibabel's [x, y, z]", w->path, err);
	if (H5Dclose(dset) < 0 && rc == 0)
		rc = nidec_h5w_fail(err, NIDEC_EIO, w->path, w->file, MEAN_EPI, "close dataset");
	return rc;
}

#define SAMPLE_ATTRS "sample_attrs"

int nidec_ds_write_sample_attrs(nidec_ds_writer *w, const char *const *names, size_t n_attrs,
				const char *const *values, nidec_err *err)
{
	const char **col = NULL;
	size_t a, i;
	hid_t g;
	int rc = 0;

	if (n_attrs == 0)
		return 0;
	col = nidec_malloc_e(w->n, sizeof(*col), "sample attributes", err);
	if (!col)
		return NIDEC_ENOMEM;
	g = nidec_h5w_group(w->file, SAMPLE_ATTRS, w->path, err);
	if (g < 0) {
		nidec_free(col);
		return NIDEC_EIO;
	}
	rc = nidec_h5w_attr_vstrs(g, "columns", names, n_attrs, 0, w->path, err);
	for (a = 0; a < n_attrs && rc == 0; a++) {
		for (i = 0; i < w->n; i++)
			col[i] = values[i * n_attrs + a];
		rc = nidec_h5w_vstrings(g, names[a], col, w->n, w->path, err);
	}
	H5Gclose(g);
	nidec_free(col);
	return rc;
}

/* Read or write rows r0 .. r0+n-1 of /X (n_rows x p) of `path`: the
 * hyperslab both directions share. */
static int rows_io(const char *path, hid_t X, size_t n_rows, size_t p, size_t r0, size_t n,
		   float *buf, int write, nidec_err *err)
{
	hsize_t start[2] = { (hsize_t)r0, 0 }, count[2] = { (hsize_t)n, (hsize_t)p };
	hid_t fspace = -1, mspace = -1;
	herr_t st;
	int rc = 0;

	if (n == 0)
		return 0;
	if (r0 > n_rows || n > n_rows - r0)
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': rows %zu..%zu outside /X (%zu rows)",
				  path, r0, r0 + n, n_rows);
	fspace = H5Dget_space(X);
	mspace = H5Screate_simple(2, count, NULL);
	if (fspace < 0 || mspace < 0 ||
	    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, -1, "/X", "select rows of");
		goto done;
	}
	st = write ? H5Dwrite(X, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, buf)
		   : H5Dread(X, H5T_NATIVE_FLOAT, mspace, fspace, H5P_DEFAULT, buf);
	if (st < 0)
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, -1, "/X", write ? "write rows of" : "read rows of");
done:
	if (fspace >= 0)
		H5Sclose(fspace);
	if (mspace >= 0)
		H5Sclose(mspace);
	return rc;
}

int nidec_ds_write_rows(nidec_ds_writer *w, size_t r0, size_t n, const float *rows,
			nidec_err *err)
{
	size_t i;

	if (r0 != w->next_row)
		return nidec_fail(err, NIDEC_EINTERNAL,
				  "'%s': rows written out of order (%zu, expected %zu): the checksums need them in order",
				  w->path, r0, w->next_row);
	/* H5Dwrite only reads the buffer; rows_io takes one pointer type */
	NIDEC_TRY(rows_io(w->path, w->X, w->n, w->p, r0, n, (float *)rows, 1, err));
	for (i = 0; i < n; i++) {
		size_t b = (r0 + i) / w->block_rows;
		w->blk[b] = nidec_crc32_f32(w->blk[b], rows + i * w->p, w->p);
	}
	w->next_row += n;
	return 0;
}

/* /crc32: the block checksums of /X and those of /labels, /runs and
 * /target (when the dataset has a target). */
static int write_checksums(nidec_ds_writer *w, nidec_err *err)
{
	hsize_t d[1];
	hid_t g;
	int rc;

	if (w->next_row != w->n)
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': %zu of %zu rows written", w->path,
				  w->next_row, w->n);
	g = nidec_h5w_group(w->file, CRC_GROUP, w->path, err);
	if (g < 0)
		return NIDEC_EIO;
	d[0] = w->n_blocks;
	rc = nidec_h5w_write(g, "X", H5T_NATIVE_UINT32, H5T_STD_U32LE, 1, d, w->blk, w->path, err);
	d[0] = 1;
	if (rc == 0)
		rc = nidec_h5w_write(g, "labels", H5T_NATIVE_UINT32, H5T_STD_U32LE, 1, d, &w->labels_crc,
				     w->path, err);
	if (rc == 0)
		rc = nidec_h5w_write(g, "runs", H5T_NATIVE_UINT32, H5T_STD_U32LE, 1, d, &w->runs_crc,
				     w->path, err);
	if (rc == 0 && w->has_target)
		rc = nidec_h5w_write(g, "target", H5T_NATIVE_UINT32, H5T_STD_U32LE, 1, d, &w->target_crc,
				     w->path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_i64(g, "X_block_rows", (int64_t)w->block_rows, w->path, err);
	if (rc == 0)
		rc = nidec_h5w_attr_vstr(g, "what",
					 "CRC-32 (zlib) of the little-endian bytes of /X by blocks of X_block_rows rows, of /labels (each label then a newline), of /runs and of /target (float64, if present); nidec checks them on every read",
					 w->path, err);
	H5Gclose(g);
	return rc;
}

int nidec_ds_commit(nidec_ds_writer **wp, nidec_err *err)
{
	nidec_ds_writer *w = *wp;
	int rc, can_close;

	rc = write_checksums(w, err);
	if (rc < 0)
		goto fail;
	/* flush first: a file that cannot be flushed must not be closed as
	 * is (h5w.c, h5_rescue) */
	rc = nidec_h5w_flush_written(w->file, &can_close, w->path, err);
	if (rc < 0) {
		if (!can_close)
			w->X = w->file = -1; /* abandoned */
		goto fail;
	}
	if (H5Dclose(w->X) < 0) {
		w->X = -1;
		rc = nidec_h5w_fail(err, NIDEC_EIO, w->path, -1, "/X", "close dataset");
		goto fail;
	}
	w->X = -1;
	if (H5Fclose(w->file) < 0) {
		w->file = -1;
		rc = nidec_h5w_fail(err, NIDEC_EIO, w->path, -1, NULL, "close (flush) HDF5 file");
		goto fail;
	}
	w->file = -1;
	rc = nidec_tempfile_commit(&w->t, err);
fail:
	nidec_ds_abort(wp);
	return rc;
}

void nidec_ds_abort(nidec_ds_writer **wp)
{
	nidec_ds_writer *w;
	int can_close;

	if (!wp || !*wp)
		return;
	w = *wp;
	/* closed only once it could be flushed (h5w.c, h5_rescue) */
	if (w->file >= 0 && (nidec_h5w_flush_written(w->file, &can_close, w->path, NULL) == 0 ||
			     can_close)) {
		if (w->X >= 0)
			H5Dclose(w->X);
		H5Fclose(w->file);
	}
	H5Eclear2(H5E_DEFAULT);
	nidec_tempfile_abort(&w->t);
	nidec_free(w->blk);
	nidec_free(w->path);
	nidec_free(w);
	*wp = NULL;
}

/* ---- reading ---------------------------------------------------------------- */

/* Read n strings (variable or fixed length) from a dataset or attribute. */
static int read_strings(hid_t obj, int is_attr, size_t n, char ***out, const char *file,
			const char *name, nidec_err *err)
{
	hid_t ftype = -1, mtype = -1, space = -1;
	char **v = NULL, **tmp = NULL, *fixed = NULL;
	size_t i, size = 0;
	htri_t vl;
	int rc = 0;

	ftype = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
	if (ftype < 0 || H5Tget_class(ftype) != H5T_STRING) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': '%s' is not a string %s", file, name,
				is_attr ? "attribute" : "dataset");
		goto done;
	}
	v = nidec_calloc_e(n ? n : 1, sizeof(*v), "strings", err);
	if (!v) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	vl = H5Tis_variable_str(ftype);
	space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
	if (vl < 0 || space < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EFORMAT, file, -1, name, "inspect");
		goto done;
	}
	if (vl) {
		mtype = nidec_h5w_vstrtype();
		tmp = nidec_calloc_e(n ? n : 1, sizeof(*tmp), "strings", err);
		if (!tmp) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		if (mtype < 0 || (n > 0 && (is_attr ? H5Aread(obj, mtype, tmp)
					    : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp)) < 0)) {
			rc = nidec_h5w_fail(err, NIDEC_EFORMAT, file, -1, name, "read");
			goto done;
		}
		for (i = 0; i < n && rc == 0; i++) {
			v[i] = nidec_strdup(tmp[i] ? tmp[i] : "");
			if (!v[i])
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", name);
		}
		if (n > 0)
#if H5_VERSION_GE(1, 12, 0)
			H5Treclaim(mtype, space, H5P_DEFAULT, tmp);
#else
			H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, tmp);
#endif
		if (rc < 0)
			goto done;
	} else {
		size = H5Tget_size(ftype);
		mtype = H5Tcopy(H5T_C_S1);
		fixed = nidec_malloc_e(n ? n : 1, size + 1, "strings", err);
		if (!fixed) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		/* the same character set as the file's (HDF5 does not convert
		 * between ASCII and UTF-8: model.h5 writes UTF-8) */
		if (mtype < 0 || H5Tset_size(mtype, size) < 0 ||
		    H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0 ||
		    (n > 0 && (is_attr ? H5Aread(obj, mtype, fixed)
			       : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed)) < 0)) {
			rc = nidec_h5w_fail(err, NIDEC_EFORMAT, file, -1, name, "read");
			goto done;
		}
		for (i = 0; i < n; i++) {
			size_t l = strnlen(fixed + i * size, size);
			v[i] = nidec_malloc(l + 1);
			if (!v[i]) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", name);
				goto done;
			}
			memcpy(v[i], fixed + i * size, l);
			v[i][l] = '\0';
		}
	}
	*out = v;
	v = NULL;
done:
	if (v)
		for (i = 0; i < n; i++)
			nidec_free(v[i]);
	nidec_free(v);
	nidec_free(tmp);
	nidec_free(fixed);
	if (ftype >= 0)
		H5Tclose(ftype);
	if (mtype >= 0)
		H5Tclose(mtype);
	if (space >= 0)
		H5Sclose(space);
	return rc;
}

static void free_strings(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		nidec_free(v[i]);
	nidec_free(v);
}

/* Number of elements of a dataset/attribute space and its dims (rank <= 2). */
static int space_dims(hid_t space, hsize_t d[3], int *rank)
{
	int r = H5Sget_simple_extent_ndims(space);

	if (r < 0 || r > 3)
		return -1;
	d[0] = d[1] = d[2] = 1;
	if (r > 0 && H5Sget_simple_extent_dims(space, d, NULL) < 0)
		return -1;
	*rank = r;
	return 0;
}

/* Open dataset `name` and check its shape is want[rank] (rank 1 to 3). */
static hid_t open_checked_nd(hid_t loc, const char *file, const char *name, int rank,
			     const hsize_t *want, nidec_err *err)
{
	hsize_t d[3];
	hid_t ds, sp;
	int r, k, same;

	ds = H5Dopen2(loc, name, H5P_DEFAULT);
	if (ds < 0) {
		nidec_h5w_fail(err, NIDEC_EFORMAT, file, -1, name, "open dataset");
		return -1;
	}
	sp = H5Dget_space(ds);
	same = sp >= 0 && space_dims(sp, d, &r) == 0 && r == rank;
	for (k = 0; same && k < rank; k++)
		same = d[k] == want[k];
	if (!same) {
		if (sp >= 0)
			H5Sclose(sp);
		H5Dclose(ds);
		nidec_fail(err, NIDEC_EFORMAT,
			   "'%s': dataset '%s' does not have the expected shape; the file is damaged or not a nidec dataset (convert again)",
			   file, name);
		return -1;
	}
	H5Sclose(sp);
	return ds;
}

/* open_checked_nd for a shape [d0] (rank 1) or [d0, d1] (rank 2). */
static hid_t open_checked(hid_t loc, const char *file, const char *name, int rank,
			  hsize_t d0, hsize_t d1, nidec_err *err)
{
	hsize_t want[2] = { d0, d1 };

	return open_checked_nd(loc, file, name, rank, want, err);
}

/* Read dataset `name` of shape want[rank] into buf. */
static int read_numbers_nd(hid_t loc, const char *file, const char *name, hid_t mtype, int rank,
			   const hsize_t *want, void *buf, nidec_err *err)
{
	hid_t ds = open_checked_nd(loc, file, name, rank, want, err);
	int rc = 0;

	if (ds < 0)
		return err ? err->code : NIDEC_EFORMAT;
	if (want[0] > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
		rc = nidec_h5w_fail(err, NIDEC_EFORMAT, file, -1, name, "read dataset");
	H5Dclose(ds);
	return rc;
}

static int read_numbers(hid_t loc, const char *file, const char *name, hid_t mtype, int rank,
			hsize_t d0, hsize_t d1, void *buf, nidec_err *err)
{
	hsize_t want[2] = { d0, d1 };

	return read_numbers_nd(loc, file, name, mtype, rank, want, buf, err);
}

/* /target: the continuous target of each sample (float64), with the
 * column it came from as attribute "column" (docs/FORMAT.md). */
#define TARGET "target"

static int write_target(hid_t file, const nidec_dataset *meta, const char *path, nidec_err *err)
{
	hsize_t d[1] = { meta->n_samples };
	hid_t dset;
	int rc;

	NIDEC_TRY(nidec_h5w_f64(file, TARGET, 1, d, meta->target, path, err));
	if (!meta->target_column)
		return 0;
	dset = H5Dopen2(file, TARGET, H5P_DEFAULT);
	if (dset < 0)
		return nidec_h5w_fail(err, NIDEC_EIO, path, -1, "/" TARGET, "open dataset");
	rc = nidec_h5w_attr_str(dset, "column", meta->target_column, path, err);
	H5Dclose(dset);
	return rc;
}

/* /target if the dataset has one (ds->target stays NULL otherwise). */
static int read_target(hid_t file, nidec_dataset *ds, nidec_err *err)
{
	char col[256];
	hid_t dset;
	size_t i;
	int rc;

	if (H5Lexists(file, TARGET, H5P_DEFAULT) <= 0)
		return 0;
	ds->target = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(double), "the target", err);
	if (!ds->target)
		return NIDEC_ENOMEM;
	NIDEC_TRY(read_numbers(file, ds->path, TARGET, H5T_NATIVE_DOUBLE, 1, ds->n_samples, 0, ds->target,
			       err));
	for (i = 0; i < ds->n_samples; i++)
		if (!isfinite(ds->target[i]))
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s': /target holds %g at row %zu, but convert writes finite targets only; the file is damaged or not written by nidec convert: convert again",
					  ds->path, ds->target[i], i);
	dset = H5Dopen2(file, TARGET, H5P_DEFAULT);
	if (dset < 0)
		return nidec_h5w_fail(err, NIDEC_EFORMAT, ds->path, -1, "/" TARGET, "open dataset");
	rc = H5Aexists(dset, "column") > 0 ? nidec_h5w_read_attr_str(dset, "column", col, sizeof(col), ds->path, err)
					   : (col[0] = '\0', 0);
	H5Dclose(dset);
	if (rc < 0)
		return rc;
	if (col[0] && !(ds->target_column = nidec_strdup_e(col, err)))
		return NIDEC_ENOMEM;
	return 0;
}


/* Read string attribute `name` of loc into *value (NULL if absent). */
static int get_attr_string(hid_t loc, const char *file, const char *name, char **value,
			   nidec_err *err)
{
	char **v = NULL;
	htri_t ex;
	hid_t a;
	int rc;

	ex = H5Aexists(loc, name);
	if (ex < 0)
		return nidec_h5w_fail_attr(err, NIDEC_EFORMAT, file, loc, name, "look up");
	if (!ex) {
		*value = NULL;
		return 0;
	}
	a = H5Aopen(loc, name, H5P_DEFAULT);
	if (a < 0)
		return nidec_h5w_fail_attr(err, NIDEC_EFORMAT, file, loc, name, "open");
	rc = read_strings(a, 1, 1, &v, file, name, err);
	H5Aclose(a);
	if (rc < 0)
		return rc;
	*value = v[0];
	nidec_free(v);
	return 0;
}

static int check_readable(const char *path, nidec_err *err)
{
	struct stat st;
	htri_t is;

	nidec_h5w_quiet();
	if (stat(path, &st) < 0)
		return nidec_fail(err, NIDEC_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EIO, "'%s' is a directory; give an HDF5 file", path);
	if (access(path, R_OK) < 0)
		return nidec_fail(err, NIDEC_EIO, "cannot open '%s': %s", path, strerror(errno));
	is = H5Fis_hdf5(path);
	H5Eclear2(H5E_DEFAULT);
	if (is <= 0)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' is not an HDF5 file; give a dataset written by 'nidec convert'",
				  path);
	return 0;
}

int nidec_ds_is_dataset(const char *path, int *is_dataset, nidec_err *err)
{
	char *fmt = NULL;
	hid_t f;
	int rc;

	NIDEC_TRY(check_readable(path, err));
	f = nidec_h5w_open_ro(path);
	if (f < 0)
		return nidec_h5w_fail(err, NIDEC_EIO, path, -1, NULL, "open HDF5 file");
	rc = get_attr_string(f, path, "format", &fmt, err);
	H5Fclose(f);
	if (rc < 0)
		return rc;
	*is_dataset = fmt && !strcmp(fmt, NIDEC_DS_FORMAT_NAME);
	nidec_free(fmt);
	return 0;
}

void nidec_ds_close(nidec_dataset **dsp)
{
	nidec_dataset *ds;
	struct ds_priv *pv;

	if (!dsp || !*dsp)
		return;
	ds = *dsp;
	pv = ds->priv;
	if (pv) {
		if (pv->X >= 0)
			H5Dclose(pv->X);
		if (pv->file >= 0)
			H5Fclose(pv->file);
		nidec_free(pv->blk);
		nidec_free(pv);
	}
	free_strings(ds->labels, ds->n_samples);
	free_strings(ds->conditions, ds->n_conditions);
	nidec_free(ds->runs);
	nidec_free(ds->volumes);
	nidec_free(ds->target);
	nidec_free(ds->target_column);
	nidec_free(ds->ijk);
	nidec_free(ds->nifti_header);
	nidec_free(ds->inputs_sha256);
	nidec_free(ds->path);
	nidec_free(ds);
	*dsp = NULL;
}

/* /runs and /labels of an opened dataset, against what convert writes
 * (tests/bad/README.md B6, B7): every run id is a 0-based run number
 * (below NIDEC_DS_MAX_RUNS, so that a table per run stays small), every
 * label one of /conditions.  A file that breaks them was damaged or made by
 * another tool; readers downstream (info's tables, the folds) rely on it. */
static int check_rows(const nidec_dataset *ds, nidec_err *err)
{
	size_t i, c;

	for (i = 0; i < ds->n_samples; i++)
		if (ds->runs[i] < 0 || ds->runs[i] >= NIDEC_DS_MAX_RUNS)
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s': /runs holds %ld at row %zu, but run ids are 0-based run numbers (0 to %d); the file is damaged or not written by nidec convert: convert again",
					  ds->path, (long)ds->runs[i], i, NIDEC_DS_MAX_RUNS - 1);
	for (i = 0; i < ds->n_samples; i++) {
		for (c = 0; c < ds->n_conditions; c++)
			if (!strcmp(ds->labels[i], ds->conditions[c]))
				break;
		if (c == ds->n_conditions)
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s': /labels holds '%s' at row %zu, which is not one of /conditions (%zu listed); the file is damaged or not written by nidec convert: convert again",
					  ds->path, ds->labels[i], i, ds->n_conditions);
	}
	return 0;
}

/* "...; the file is damaged: convert again" for a checksum mismatch. */
static int damaged(nidec_err *err, const char *path, const char *what)
{
	return nidec_fail(err, NIDEC_EFORMAT,
			  "'%s': %s do%s not match the checksum recorded when it was converted; the file is damaged (a disk error, a partial copy, an edit by another tool): convert again",
			  path, what, strchr(what, ' ') ? "" : "es");
}

/* /crc32, if the file has it (a dataset written before nidec recorded
 * checksums has not: ds->has_checksums stays 0): read the block
 * checksums of /X, check those of /labels and /runs at once. */
static int read_checksums(nidec_dataset *ds, nidec_err *err)
{
	struct ds_priv *pv = ds->priv;
	const char *path = ds->path;
	uint32_t one = 0;
	int64_t rows = 0;
	hid_t g, a;
	htri_t has;
	int rc;

	has = H5Lexists(pv->file, CRC_GROUP, H5P_DEFAULT);
	if (has <= 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	g = H5Gopen2(pv->file, CRC_GROUP, H5P_DEFAULT);
	if (g < 0)
		return nidec_h5w_fail(err, NIDEC_EFORMAT, path, -1, "/" CRC_GROUP, "open group");
	a = H5Aexists(g, "X_block_rows") > 0 ? H5Aopen(g, "X_block_rows", H5P_DEFAULT) : -1;
	if (a < 0 || H5Aread(a, H5T_NATIVE_INT64, &rows) < 0 || rows < 1) {
		if (a >= 0)
			H5Aclose(a);
		H5Gclose(g);
		return nidec_fail(err, NIDEC_EFORMAT, "'%s': /%s has no valid X_block_rows; the file is damaged: convert again",
				  path, CRC_GROUP);
	}
	H5Aclose(a);
	pv->block_rows = (size_t)rows;
	pv->n_blocks = ds->n_samples / pv->block_rows + (ds->n_samples % pv->block_rows != 0);
	pv->blk = nidec_malloc_e(pv->n_blocks ? pv->n_blocks : 1, sizeof(*pv->blk), "the checksums", err);
	if (!pv->blk) {
		H5Gclose(g);
		return NIDEC_ENOMEM;
	}
	rc = read_numbers(g, path, "X", H5T_NATIVE_UINT32, 1, pv->n_blocks, 0, pv->blk, err);
	if (rc == 0)
		rc = read_numbers(g, path, "labels", H5T_NATIVE_UINT32, 1, 1, 0, &one, err);
	if (rc == 0 && one != nidec_crc32_strings(0, (const char *const *)ds->labels, ds->n_samples))
		rc = damaged(err, path, "/labels");
	if (rc == 0)
		rc = read_numbers(g, path, "runs", H5T_NATIVE_UINT32, 1, 1, 0, &one, err);
	if (rc == 0 && one != nidec_crc32_i32(0, ds->runs, ds->n_samples))
		rc = damaged(err, path, "/runs");
	/* /target's checksum: absent from datasets converted before it was
	 * recorded; a target without its checksum is then not checked */
	if (rc == 0 && ds->target && H5Lexists(g, "target", H5P_DEFAULT) > 0) {
		rc = read_numbers(g, path, "target", H5T_NATIVE_UINT32, 1, 1, 0, &one, err);
		if (rc == 0 && one != nidec_crc32_f64(0, ds->target, ds->n_samples))
			rc = damaged(err, path, "/target");
	}
	H5Gclose(g);
	if (rc == 0)
		ds->has_checksums = 1;
	return rc;
}

int nidec_ds_open(const char *path, nidec_dataset **out, nidec_err *err)
{
	nidec_dataset *ds = NULL;
	struct ds_priv *pv;
	char *fmt = NULL;
	hsize_t d[3];
	hid_t sp = -1, dset = -1, g = -1;
	int rank, rc = 0;
	int32_t version = 0;

	NIDEC_TRY(check_readable(path, err));
	ds = nidec_calloc(1, sizeof(*ds));
	pv = nidec_calloc(1, sizeof(*pv));
	if (!ds || !pv) {
		nidec_free(ds);
		nidec_free(pv);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory opening '%s'", path);
	}
	pv->file = pv->X = -1;
	ds->priv = pv;
	ds->path = nidec_strdup(path);
	if (!ds->path) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory opening '%s'", path);
		goto fail;
	}
	pv->file = nidec_h5w_open_ro(path);
	if (pv->file < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, -1, NULL, "open HDF5 file");
		goto fail;
	}
	NIDEC_TRY_GOTO(rc, get_attr_string(pv->file, path, "format", &fmt, err), fail);
	if (!fmt || strcmp(fmt, NIDEC_DS_FORMAT_NAME)) {
		rc = nidec_fail(err, NIDEC_EFORMAT,
				"'%s' is not a nidec dataset (its root has no format = %s attribute); make one with 'nidec convert'",
				path, NIDEC_DS_FORMAT_NAME);
		goto fail;
	}
	if (H5Aexists(pv->file, "format_version") > 0) {
		hid_t a = H5Aopen(pv->file, "format_version", H5P_DEFAULT);
		if (a < 0 || H5Aread(a, H5T_NATIVE_INT32, &version) < 0) {
			if (a >= 0)
				H5Aclose(a);
			rc = nidec_h5w_fail_attr(err, NIDEC_EFORMAT, path, -1, "format_version", "read");
			goto fail;
		}
		H5Aclose(a);
	}
	if (version > NIDEC_DS_FORMAT_VERSION) {
		rc = nidec_fail(err, NIDEC_EFORMAT,
				"'%s' has dataset format version %d, newer than this nidec reads (%d); update nidec or convert again",
				path, (int)version, NIDEC_DS_FORMAT_VERSION);
		goto fail;
	}
	pv->X = H5Dopen2(pv->file, "X", H5P_DEFAULT);
	if (pv->X < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EFORMAT, path, -1, "/X", "open dataset");
		goto fail;
	}
	sp = H5Dget_space(pv->X);
	if (sp < 0 || space_dims(sp, d, &rank) < 0 || rank != 2) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': /X is not a 2D matrix; convert again", path);
		goto fail;
	}
	H5Sclose(sp);
	sp = -1;
	ds->n_samples = (size_t)d[0];
	ds->n_voxels = (size_t)d[1];

	dset = open_checked(pv->file, path, "labels", 1, d[0], 0, err);
	if (dset < 0) {
		rc = err ? err->code : NIDEC_EFORMAT;
		goto fail;
	}
	rc = read_strings(dset, 0, ds->n_samples, &ds->labels, path, "/labels", err);
	H5Dclose(dset);
	if (rc < 0)
		goto fail;
	ds->runs = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int32_t), "run ids", err);
	ds->volumes = nidec_malloc_e(ds->n_samples ? ds->n_samples : 1, sizeof(int64_t), "volume indices", err);
	ds->ijk = nidec_malloc_e(ds->n_voxels ? ds->n_voxels : 1, 3 * sizeof(int32_t), "voxel coordinates", err);
	if (!ds->runs || !ds->volumes || !ds->ijk) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	NIDEC_TRY_GOTO(rc, read_numbers(pv->file, path, "runs", H5T_NATIVE_INT32, 1, d[0], 0, ds->runs, err), fail);
	NIDEC_TRY_GOTO(rc, read_numbers(pv->file, path, "volumes", H5T_NATIVE_INT64, 1, d[0], 0, ds->volumes, err), fail);
	NIDEC_TRY_GOTO(rc, read_target(pv->file, ds, err), fail);

	dset = H5Dopen2(pv->file, "conditions", H5P_DEFAULT);
	if (dset < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EFORMAT, path, -1, "/conditions", "open dataset");
		goto fail;
	}
	sp = H5Dget_space(dset);
	if (sp < 0 || space_dims(sp, d, &rank) < 0 || rank != 1) {
		H5Dclose(dset);
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': /conditions is not a list; convert again", path);
		goto fail;
	}
	H5Sclose(sp);
	sp = -1;
	ds->n_conditions = (size_t)d[0];
	rc = read_strings(dset, 0, ds->n_conditions, &ds->conditions, path, "/conditions", err);
	H5Dclose(dset);
	if (rc < 0) {
		ds->n_conditions = 0;
		goto fail;
	}

	g = H5Gopen2(pv->file, "mask", H5P_DEFAULT);
	if (g < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EFORMAT, path, -1, "/mask", "open group");
		goto fail;
	}
	NIDEC_TRY_GOTO(rc, read_numbers(g, path, "ijk", H5T_NATIVE_INT32, 2, ds->n_voxels, 3, ds->ijk, err), fail);
	NIDEC_TRY_GOTO(rc, read_numbers(g, path, "affine", H5T_NATIVE_DOUBLE, 2, 4, 4, ds->affine, err), fail);
	NIDEC_TRY_GOTO(rc, read_numbers(g, path, "dims", H5T_NATIVE_INT64, 1, 3, 0, ds->dims, err), fail);
	NIDEC_TRY_GOTO(rc, read_numbers(g, path, "pixdim", H5T_NATIVE_DOUBLE, 1, 4, 0, ds->pixdim, err), fail);
	dset = H5Dopen2(g, "nifti_header", H5P_DEFAULT);
	if (dset < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EFORMAT, path, -1, "/mask/nifti_header", "open dataset");
		goto fail;
	}
	sp = H5Dget_space(dset);
	if (sp < 0 || space_dims(sp, d, &rank) < 0 || rank != 1 || d[0] > 4096) {
		H5Dclose(dset);
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': /mask/nifti_header is damaged; convert again", path);
		goto fail;
	}
	H5Sclose(sp);
	sp = -1;
	ds->nifti_header_len = (size_t)d[0];
	ds->nifti_header = nidec_malloc(ds->nifti_header_len ? ds->nifti_header_len : 1);
	if (!ds->nifti_header) {
		H5Dclose(dset);
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory opening '%s'", path);
		goto fail;
	}
	if (d[0] > 0 && H5Dread(dset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds->nifti_header) < 0) {
		H5Dclose(dset);
		rc = nidec_h5w_fail(err, NIDEC_EFORMAT, path, -1, "/mask/nifti_header", "read dataset");
		goto fail;
	}
	H5Dclose(dset);
	H5Gclose(g);
	g = -1;
	NIDEC_TRY_GOTO(rc, get_attr_string(pv->file, path, "inputs_sha256", &ds->inputs_sha256, err), fail);
	NIDEC_TRY_GOTO(rc, check_rows(ds, err), fail);
	NIDEC_TRY_GOTO(rc, read_checksums(ds, err), fail);
	{
		size_t v;
		for (v = 0; v < ds->n_voxels; v++) {
			const int32_t *p = ds->ijk + 3 * v;
			if (p[0] < 0 || p[0] >= ds->dims[0] || p[1] < 0 || p[1] >= ds->dims[1] ||
			    p[2] < 0 || p[2] >= ds->dims[2]) {
				rc = nidec_fail(err, NIDEC_EFORMAT,
						"'%s': /mask/ijk row %zu lies outside the grid /mask/dims; the file is damaged (convert again)",
						path, v);
				goto fail;
			}
		}
	}
	nidec_free(fmt);
	*out = ds;
	return 0;
fail:
	if (sp >= 0)
		H5Sclose(sp);
	if (g >= 0)
		H5Gclose(g);
	nidec_free(fmt);
	if (ds && !ds->labels)
		ds->n_samples = 0;
	nidec_ds_close(&ds);
	return rc;
}

/*
 * Rows r0 .. r0+n-1 through the checksummed blocks that hold them: a
 * block inside the range is read into place, one that overlaps its ends
 * into `scratch`, and each is checked against its CRC-32.  *bad gets the
 * first block that does not match (or stays SIZE_MAX): reported by the
 * caller after the NaN check, whose message is more precise.
 */
static int read_blocks(nidec_dataset *ds, size_t r0, size_t n, float *buf, size_t *bad,
		       nidec_err *err)
{
	struct ds_priv *pv = ds->priv;
	size_t B = pv->block_rows, p = ds->n_voxels, b, end = r0 + n;
	float *scratch = NULL;
	int rc = 0;

	*bad = SIZE_MAX;
	if (n == 0)
		return 0;
	if (r0 > ds->n_samples || n > ds->n_samples - r0)
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': rows %zu..%zu outside /X (%zu rows)",
				  ds->path, r0, end, ds->n_samples);
	for (b = r0 / B; rc == 0 && b * B < end; b++) {
		size_t s = b * B, e = s + B < ds->n_samples ? s + B : ds->n_samples;
		float *dst;
		if (s >= r0 && e <= end) {
			dst = buf + (s - r0) * p;
		} else {
			if (!scratch)
				scratch = nidec_malloc_e(B, p * sizeof(float), "a block of rows", err);
			if (!scratch) {
				rc = NIDEC_ENOMEM;
				break;
			}
			dst = scratch;
		}
		rc = rows_io(ds->path, pv->X, ds->n_samples, p, s, e - s, dst, 0, err);
		if (rc == 0 && *bad == SIZE_MAX && nidec_crc32_f32(0, dst, (e - s) * p) != pv->blk[b])
			*bad = b;
		if (rc == 0 && dst == scratch) {
			size_t lo = s > r0 ? s : r0, hi = e < end ? e : end;
			memcpy(buf + (lo - r0) * p, scratch + (lo - s) * p, (hi - lo) * p * sizeof(float));
		}
	}
	nidec_free(scratch);
	return rc;
}

static int block_damaged(const nidec_dataset *ds, size_t b, nidec_err *err)
{
	struct ds_priv *pv = ds->priv;
	size_t s = b * pv->block_rows, e = s + pv->block_rows;
	char what[96];

	if (e > ds->n_samples)
		e = ds->n_samples;
	snprintf(what, sizeof(what), "/X rows %zu to %zu", s, e - 1);
	return damaged(err, ds->path, what);
}

int nidec_ds_verify(nidec_dataset *ds, nidec_err *err)
{
	struct ds_priv *pv = ds->priv;
	size_t B = pv->block_rows, b, bad;
	float *buf;
	int rc = 0;

	if (!ds->has_checksums)
		return 0;
	buf = nidec_malloc_e(B, ds->n_voxels * sizeof(float), "a block of rows", err);
	if (!buf)
		return NIDEC_ENOMEM;
	for (b = 0; rc == 0 && b < pv->n_blocks; b++) {
		size_t s = b * B, e = s + B < ds->n_samples ? s + B : ds->n_samples;
		rc = read_blocks(ds, s, e - s, buf, &bad, err);
		if (rc == 0 && bad != SIZE_MAX)
			rc = block_damaged(ds, bad, err);
	}
	nidec_free(buf);
	return rc;
}

int nidec_ds_read_rows(nidec_dataset *ds, size_t r0, size_t n, float *buf, nidec_err *err)
{
	struct ds_priv *pv = ds->priv;
	size_t i, cells, bad = SIZE_MAX;

	if (ds->has_checksums)
		NIDEC_TRY(read_blocks(ds, r0, n, buf, &bad, err));
	else
		NIDEC_TRY(rows_io(ds->path, pv->X, ds->n_samples, ds->n_voxels, r0, n, buf, 0, err));
	/* HDF5 keeps the blocks it freed on its own free lists (a few MiB after
	 * reading the matrix): give them back, the rank holds the matrix for
	 * the whole run */
	H5garbage_collect();
	/* nidec convert never writes NaN or Inf (it replaces them by 0): one
	 * in /X comes from another writer and would silently turn decisions
	 * and scores into NaN (tests/bad/README.md B3) */
	if (nidec_mul_size(n, ds->n_voxels, &cells) < 0)
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': %zu x %zu rows", ds->path, n,
				  ds->n_voxels);
	for (i = 0; i < cells; i++)
		if (!isfinite(buf[i]))
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s': /X holds %s at row %zu, column %zu (0-based); a nidec dataset has finite values only: convert the images again (nidec convert replaces NaN/Inf voxel values by 0)",
					  ds->path, isnan(buf[i]) ? "NaN" : "Inf",
					  r0 + i / ds->n_voxels, i % ds->n_voxels);
	if (bad != SIZE_MAX)
		return block_damaged(ds, bad, err);
	return 0;
}

int nidec_ds_read_matrix(nidec_dataset *ds, float **X, nidec_err *err)
{
	size_t cells;
	float *M;
	int rc;

	if (nidec_mul_size(ds->n_samples, ds->n_voxels, &cells) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "'%s': %zu x %zu matrix is too large", ds->path,
				  ds->n_samples, ds->n_voxels);
	M = nidec_malloc_e(cells ? cells : 1, sizeof(float), "the data matrix", err);
	if (!M)
		return NIDEC_ENOMEM;
	rc = nidec_ds_read_rows(ds, 0, ds->n_samples, M, err);
	if (rc < 0) {
		nidec_free(M);
		return rc;
	}
	*X = M;
	return 0;
}

int nidec_ds_read_mean_epi(nidec_dataset *ds, float **img, nidec_err *err)
{
	struct ds_priv *pv = ds->priv;
	hsize_t want[3] = { (hsize_t)ds->dims[2], (hsize_t)ds->dims[1], (hsize_t)ds->dims[0] };
	size_t n = (size_t)ds->dims[0] * (size_t)ds->dims[1] * (size_t)ds->dims[2];
	float *buf;
	int rc;

	*img = NULL;
	if (H5Lexists(pv->file, MEAN_EPI, H5P_DEFAULT) <= 0)
		return 0;
	buf = nidec_malloc_e(n ? n : 1, sizeof(float), "the mean EPI", err);
	if (!buf)
		return NIDEC_ENOMEM;
	rc = read_numbers_nd(pv->file, ds->path, MEAN_EPI, H5T_NATIVE_FLOAT, 3, want, buf, err);
	if (rc < 0) {
		nidec_free(buf);
		return rc;
	}
	*img = buf;
	return 0;
}

int nidec_ds_attr(nidec_dataset *ds, const char *name, char **value, nidec_err *err)
{
	struct ds_priv *pv = ds->priv;

	return get_attr_string(pv->file, ds->path, name, value, err);
}

double nidec_ds_voxel_volume(const nidec_dataset *ds)
{
	const double *a = ds->affine;

	return fabs(a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) +
		    a[2] * (a[4] * a[9] - a[5] * a[8]));
}

void nidec_ds_inputs_free(nidec_ds_input *in, size_t n)
{
	size_t i;

	if (!in)
		return;
	for (i = 0; i < n; i++) {
		nidec_free(in[i].role);
		nidec_free(in[i].path);
		nidec_free(in[i].sha256);
	}
	nidec_free(in);
}

/* Length of a 1-D attribute (0 if absent). */
static int attr_len(hid_t loc, const char *file, const char *name, size_t *n, nidec_err *err)
{
	hsize_t d[3];
	hid_t a, sp;
	int rank;

	*n = 0;
	if (H5Aexists(loc, name) <= 0)
		return 0;
	a = H5Aopen(loc, name, H5P_DEFAULT);
	if (a < 0)
		return nidec_h5w_fail_attr(err, NIDEC_EFORMAT, file, loc, name, "open");
	sp = H5Aget_space(a);
	if (sp < 0 || space_dims(sp, d, &rank) < 0 || rank != 1) {
		if (sp >= 0)
			H5Sclose(sp);
		H5Aclose(a);
		return nidec_fail(err, NIDEC_EFORMAT, "'%s': attribute '%s' is not a list", file, name);
	}
	H5Sclose(sp);
	H5Aclose(a);
	*n = (size_t)d[0];
	return 0;
}

static int attr_str_list(hid_t loc, const char *file, const char *name, size_t n, char ***v,
			 nidec_err *err)
{
	hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
	int rc;

	if (a < 0)
		return nidec_h5w_fail_attr(err, NIDEC_EFORMAT, file, loc, name, "open");
	rc = read_strings(a, 1, n, v, file, name, err);
	H5Aclose(a);
	return rc;
}

void nidec_ds_sample_attrs_free(char **names, size_t n_attrs, char **values, size_t n_samples)
{
	free_strings(names, n_attrs);
	free_strings(values, n_attrs * n_samples);
}

int nidec_ds_sample_attrs(nidec_dataset *ds, char ***names_out, size_t *n_out, char ***values_out,
			  nidec_err *err)
{
	struct ds_priv *pv = ds->priv;
	char **names = NULL, **values = NULL, **col = NULL;
	size_t n = 0, a, i, n_cells;
	hid_t g = -1, d = -1;
	int rc = 0;

	*names_out = NULL;
	*values_out = NULL;
	*n_out = 0;
	if (H5Lexists(pv->file, SAMPLE_ATTRS, H5P_DEFAULT) <= 0)
		return 0;
	g = H5Gopen2(pv->file, SAMPLE_ATTRS, H5P_DEFAULT);
	if (g < 0)
		return nidec_h5w_fail(err, NIDEC_EFORMAT, ds->path, -1, "/" SAMPLE_ATTRS, "open group");
	NIDEC_TRY_GOTO(rc, attr_len(g, ds->path, "columns", &n, err), done);
	if (n == 0)
		goto done;
	NIDEC_TRY_GOTO(rc, attr_str_list(g, ds->path, "columns", n, &names, err), done);
	if (nidec_mul_size(n, ds->n_samples, &n_cells) < 0 ||
	    !(values = nidec_calloc_e(n_cells ? n_cells : 1, sizeof(char *), "sample attributes", err))) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (a = 0; a < n; a++) {
		d = open_checked(g, ds->path, names[a], 1, ds->n_samples, 1, err);
		if (d < 0) {
			rc = NIDEC_EFORMAT;
			goto done;
		}
		rc = read_strings(d, 0, ds->n_samples, &col, ds->path, names[a], err);
		H5Dclose(d);
		if (rc < 0)
			goto done;
		for (i = 0; i < ds->n_samples; i++)
			values[i * n + a] = col[i];
		nidec_free(col);
		col = NULL;
	}
	*names_out = names;
	*values_out = values;
	*n_out = n;
	names = values = NULL;
done:
	free_strings(names, n);
	free_strings(values, n * ds->n_samples);
	if (g >= 0)
		H5Gclose(g);
	return rc;
}

int nidec_ds_inputs(nidec_dataset *ds, nidec_ds_input **inputs, size_t *n_out, nidec_err *err)
{
	struct ds_priv *pv = ds->priv;
	char **roles = NULL, **paths = NULL, **hashes = NULL;
	int64_t *sizes = NULL;
	nidec_ds_input *in = NULL;
	size_t n = 0, n2 = 0, n3 = 0, n4 = 0, i;
	int rc = 0;

	NIDEC_TRY(attr_len(pv->file, ds->path, "input_roles", &n, err));
	NIDEC_TRY(attr_len(pv->file, ds->path, "input_paths", &n2, err));
	NIDEC_TRY(attr_len(pv->file, ds->path, "input_sha256", &n3, err));
	NIDEC_TRY(attr_len(pv->file, ds->path, "input_sizes", &n4, err));
	if (n2 != n || n3 != n || n4 != n)
		return nidec_fail(err, NIDEC_EFORMAT, "'%s': the input_* attributes disagree in length",
				  ds->path);
	if (n == 0) {
		*inputs = NULL;
		*n_out = 0;
		return 0;
	}
	NIDEC_TRY_GOTO(rc, attr_str_list(pv->file, ds->path, "input_roles", n, &roles, err), done);
	NIDEC_TRY_GOTO(rc, attr_str_list(pv->file, ds->path, "input_paths", n, &paths, err), done);
	NIDEC_TRY_GOTO(rc, attr_str_list(pv->file, ds->path, "input_sha256", n, &hashes, err), done);
	sizes = nidec_malloc_e(n, sizeof(*sizes), "input sizes", err);
	in = nidec_calloc_e(n, sizeof(*in), "inputs", err);
	if (!sizes || !in) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	{
		hid_t a = H5Aopen(pv->file, "input_sizes", H5P_DEFAULT);
		if (a < 0 || H5Aread(a, H5T_NATIVE_INT64, sizes) < 0) {
			if (a >= 0)
				H5Aclose(a);
			rc = nidec_h5w_fail_attr(err, NIDEC_EFORMAT, ds->path, -1, "input_sizes", "read");
			goto done;
		}
		H5Aclose(a);
	}
	for (i = 0; i < n; i++) {
		in[i].role = roles[i];
		in[i].path = paths[i];
		in[i].sha256 = hashes[i];
		in[i].size = sizes[i];
		roles[i] = paths[i] = hashes[i] = NULL;
	}
	*inputs = in;
	*n_out = n;
	in = NULL;
done:
	free_strings(roles, roles ? n : 0);
	free_strings(paths, paths ? n : 0);
	free_strings(hashes, hashes ? n : 0);
	nidec_free(sizes);
	nidec_ds_inputs_free(in, in ? n : 0);
	return rc;
}

/* ---- generic listing -------------------------------------------------------- */

struct describe_ctx {
	nidec_sbuf *out;
	const char *path;
	int failed;     /* < 0 once an append or a read ran out of memory */
};

static const char *class_name(H5T_class_t c, hid_t t)
{
	switch (c) {
	case H5T_INTEGER: return H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int";
	case H5T_FLOAT: return "float";
	case H5T_STRING: return "string";
	case H5T_COMPOUND: return "compound";
	case H5T_ENUM: return "enum";
	case H5T_ARRAY: return "array";
	case H5T_VLEN: return "vlen";
	default: return "other";
	}
}

static herr_t describe_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
	struct describe_ctx *c = data;
	hid_t a = -1, t = -1, sp = -1;
	hssize_t n;
	H5T_class_t cls;
	(void)info;

	a = H5Aopen(loc, name, H5P_DEFAULT);
	if (a < 0)
		goto done;
	t = H5Aget_type(a);
	sp = H5Aget_space(a);
	n = H5Sget_simple_extent_npoints(sp);
	cls = H5Tget_class(t);
	if (cls == H5T_STRING && n >= 1 && n <= 64) {
		char **v = NULL;
		hssize_t i;
		int rrc = read_strings(a, 1, (size_t)n, &v, c->path, name, NULL);
		if (rrc == NIDEC_ENOMEM)
			c->failed = rrc;
		if (rrc == 0) {
			c->failed |= nidec_sbuf_addf(c->out, "  %-18s ", name);
			for (i = 0; i < n; i++) {
				/* one line per attribute: a multi-line value (the
				 * config) shows its first line */
				const char *s = v[i];
				size_t l = strcspn(s, "\r\n"), cut = l > 160 ? 160 : l;
				c->failed |= nidec_sbuf_addf(c->out, "%s%.*s%s", i ? ", " : "", (int)cut, s,
							     cut < strlen(s) ? " ..." : "");
			}
			c->failed |= nidec_sbuf_adds(c->out, "\n");
			free_strings(v, (size_t)n);
		}
	} else if ((cls == H5T_INTEGER || cls == H5T_FLOAT) && n >= 1 && n <= 16) {
		double v[16];
		hssize_t i;
		if (H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0) {
			c->failed |= nidec_sbuf_addf(c->out, "  %-18s ", name);
			for (i = 0; i < n; i++)
				c->failed |= nidec_sbuf_addf(c->out, "%s%.10g", i ? ", " : "", v[i]);
			c->failed |= nidec_sbuf_adds(c->out, "\n");
		}
	} else {
		c->failed |= nidec_sbuf_addf(c->out, "  %-18s (%s, %lld values)\n", name, class_name(cls, t), (long long)n);
	}
done:
	H5Eclear2(H5E_DEFAULT);
	if (sp >= 0)
		H5Sclose(sp);
	if (t >= 0)
		H5Tclose(t);
	if (a >= 0)
		H5Aclose(a);
	return 0;
}

#if H5_VERSION_GE(1, 12, 0)
static herr_t describe_obj(hid_t loc, const char *name, const H5O_info2_t *info, void *data)
#else
static herr_t describe_obj(hid_t loc, const char *name, const H5O_info_t *info, void *data)
#endif
{
	struct describe_ctx *c = data;
	hid_t d, t, sp;
	hsize_t dims[8];
	int r, i;

	if (info->type != H5O_TYPE_DATASET)
		return 0;
	d = H5Dopen2(loc, name, H5P_DEFAULT);
	if (d < 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	t = H5Dget_type(d);
	sp = H5Dget_space(d);
	r = H5Sget_simple_extent_ndims(sp);
	if (r > 8)
		r = 8;
	if (r > 0)
		H5Sget_simple_extent_dims(sp, dims, NULL);
	if (H5Tget_class(t) == H5T_STRING)
		c->failed |= nidec_sbuf_addf(c->out, "  /%-28s string [", name);
	else
		c->failed |= nidec_sbuf_addf(c->out, "  /%-28s %s%zu [", name,
					     class_name(H5Tget_class(t), t), 8 * H5Tget_size(t));
	for (i = 0; i < r; i++)
		c->failed |= nidec_sbuf_addf(c->out, "%s%llu", i ? " x " : "", (unsigned long long)dims[i]);
	c->failed |= nidec_sbuf_adds(c->out, r == 0 ? "scalar]\n" : "]\n");
	H5Sclose(sp);
	H5Tclose(t);
	H5Dclose(d);
	return 0;
}

int nidec_h5_describe(const char *path, nidec_sbuf *out, nidec_err *err)
{
	struct describe_ctx c;
	hsize_t idx = 0;
	hid_t f;

	NIDEC_TRY(check_readable(path, err));
	f = nidec_h5w_open_ro(path);
	if (f < 0)
		return nidec_h5w_fail(err, NIDEC_EIO, path, -1, NULL, "open HDF5 file");
	c.out = out;
	c.path = path;
	c.failed = 0;
	c.failed |= nidec_sbuf_addf(out, "file: %s (HDF5)\nattributes:\n", path);
	if (H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, &idx, describe_attr, &c) < 0)
		H5Eclear2(H5E_DEFAULT);
	c.failed |= nidec_sbuf_adds(out, "datasets:\n");
#if H5_VERSION_GE(1, 12, 0)
	if (H5Ovisit3(f, H5_INDEX_NAME, H5_ITER_INC, describe_obj, &c, H5O_INFO_BASIC) < 0) {
#else
	if (H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, describe_obj, &c) < 0) {
#endif
		H5Fclose(f);
		return nidec_h5w_fail(err, NIDEC_EFORMAT, path, -1, NULL, "list the objects of");
	}
	H5Fclose(f);
	/* every line or none (tests/bad/README.md B12) */
	if (c.failed < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory listing '%s'", path);
	return 0;
}
