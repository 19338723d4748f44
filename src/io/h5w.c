/*
 * h5w.c - the small HDF5 helpers of the result files (see h5w.h, private
 * to src/io): checked dataset and attribute writers, fixed-length string
 * types, groups, a file copied into a byte dataset, an HDF5 file created
 * under a temporary name and committed by rename, the provenance
 * attributes, and the two readers model.h5 needs.  results.c writes
 * results.h5 with them; model.c writes and reads model.h5.
 *
 * The temporary-file pair (nidec_h5w_make_temp / nidec_h5w_commit_temp)
 * lives here because both the HDF5 files and results.c's text files use
 * it: every file goes to a temporary name in its final directory and is
 * renamed once complete, so a killed run never leaves half of one.
 *
 * Determinism: no dataset or group records a modification time, so the
 * same results give the same bytes.  No MPI call (rank 0 writes).
 */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nidec/mem.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"

#include "h5w.h"

/* ---- temporary files ------------------------------------------------------ */

/* A temporary name next to `path` ("dir/.name.tmp.XXXXXX"), created. */
int nidec_h5w_make_temp(const char *path, char *tmp, size_t len, nidec_err *err)
{
	const char *slash = strrchr(path, '/');
	int n, fd;

	if (slash)
		n = snprintf(tmp, len, "%.*s/.%s.tmp.XXXXXX", (int)(slash - path), path, slash + 1);
	else
		n = snprintf(tmp, len, ".%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= len)
		return nidec_fail(err, NIDEC_EINPUT, "output path '%s' is too long", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;
		nidec_fail(err, NIDEC_EIO, "cannot create a temporary file for '%s': %s", path,
			   strerror(e));
		errno = e;
	}
	return fd;
}

/* chmod 0644 and rename into place; the temporary is removed on failure. */
int nidec_h5w_commit_temp(const char *tmp, const char *path, nidec_err *err)
{
	if (chmod(tmp, 0644) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return nidec_fail(err, NIDEC_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
				  strerror(e));
	}
	return 0;
}

/* ---- HDF5 ------------------------------------------------------------- */

/* Every HDF5 call is checked; on failure the message names the file and
 * the object.  Automatic error printing is switched off once. */
void nidec_h5w_quiet(void)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

int nidec_h5w_write(hid_t loc, const char *name, hid_t mtype, hid_t ftype, int rank,
		    const hsize_t *dims, const void *data, const char *path, nidec_err *err)
{
	hid_t space = -1, dset = -1, dcpl = -1;
	int rc = 0;

	space = H5Screate_simple(rank, dims, NULL);
	if (space < 0)
		return nidec_fail(err, NIDEC_EIO, "'%s': cannot create the dataspace of '%s'", path, name);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	/* no modification times: the same results give the same bytes */
	if (dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot set up dataset '%s'", path, name);
		goto done;
	}
	dset = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (dset < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot create dataset '%s'", path, name);
		goto done;
	}
	{
		hssize_t npoints = H5Sget_simple_extent_npoints(space);
		if (npoints > 0 && H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
			rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot write dataset '%s'", path, name);
	}
done:
	if (dset >= 0 && H5Dclose(dset) < 0 && rc == 0)
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot close dataset '%s'", path, name);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	H5Sclose(space);
	return rc;
}

int nidec_h5w_f64(hid_t loc, const char *name, int rank, const hsize_t *dims, const double *v,
		  const char *path, nidec_err *err)
{
	return nidec_h5w_write(loc, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, rank, dims, v, path, err);
}

int nidec_h5w_i32(hid_t loc, const char *name, int rank, const hsize_t *dims, const int32_t *v,
		  const char *path, nidec_err *err)
{
	return nidec_h5w_write(loc, name, H5T_NATIVE_INT32, H5T_STD_I32LE, rank, dims, v, path, err);
}

int nidec_h5w_int(hid_t loc, const char *name, int rank, const hsize_t *dims, const int *v,
		  const char *path, nidec_err *err)
{
	return nidec_h5w_write(loc, name, H5T_NATIVE_INT, H5T_STD_I32LE, rank, dims, v, path, err);
}

int nidec_h5w_i64(hid_t loc, const char *name, int rank, const hsize_t *dims, const int64_t *v,
		  const char *path, nidec_err *err)
{
	return nidec_h5w_write(loc, name, H5T_NATIVE_INT64, H5T_STD_I64LE, rank, dims, v, path, err);
}

/* A fixed-length, NUL-terminated string type of `size` bytes. */
hid_t nidec_h5w_strtype(size_t size)
{
	hid_t t = H5Tcopy(H5T_C_S1);

	if (t < 0)
		return -1;
	if (H5Tset_size(t, size ? size : 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
	    H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
		H5Tclose(t);
		return -1;
	}
	return t;
}

int nidec_h5w_strings(hid_t loc, const char *name, const char *const *v, size_t n,
		      const char *path, nidec_err *err)
{
	size_t w = 1, i;
	char *buf;
	hid_t t;
	hsize_t dims[1];
	int rc;

	for (i = 0; i < n; i++)
		if (strlen(v[i]) + 1 > w)
			w = strlen(v[i]) + 1;
	buf = nidec_calloc_e(n ? n : 1, w, "a string table", err);
	if (!buf)
		return NIDEC_ENOMEM;
	for (i = 0; i < n; i++)
		memcpy(buf + i * w, v[i], strlen(v[i]));
	t = nidec_h5w_strtype(w);
	if (t < 0) {
		nidec_free(buf);
		return nidec_fail(err, NIDEC_EIO, "'%s': cannot create a string type", path);
	}
	dims[0] = n;
	rc = nidec_h5w_write(loc, name, t, t, 1, dims, buf, path, err);
	H5Tclose(t);
	nidec_free(buf);
	return rc;
}

int nidec_h5w_attr_str(hid_t loc, const char *name, const char *value, const char *path,
		       nidec_err *err)
{
	hid_t t = nidec_h5w_strtype(strlen(value) + 1), space = -1, a = -1;
	int rc = 0;

	if (t < 0)
		return nidec_fail(err, NIDEC_EIO, "'%s': cannot create a string type", path);
	space = H5Screate(H5S_SCALAR);
	if (space >= 0)
		a = H5Acreate2(loc, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0 || H5Awrite(a, t, value) < 0)
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot write attribute '%s'", path, name);
	if (a >= 0 && H5Aclose(a) < 0 && rc == 0)
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot close attribute '%s'", path, name);
	if (space >= 0)
		H5Sclose(space);
	H5Tclose(t);
	return rc;
}

/* A scalar attribute of file type `ftype` from `*v` in memory type `mtype`
 * (the one body of nidec_h5w_attr_i64 and nidec_h5w_attr_f64). */
static int attr_scalar(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v,
		       const char *path, nidec_err *err)
{
	hid_t space = H5Screate(H5S_SCALAR), a = -1;
	int rc = 0;

	if (space >= 0)
		a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0 || H5Awrite(a, mtype, v) < 0)
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot write attribute '%s'", path, name);
	if (a >= 0 && H5Aclose(a) < 0 && rc == 0)
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot close attribute '%s'", path, name);
	if (space >= 0)
		H5Sclose(space);
	return rc;
}

int nidec_h5w_attr_i64(hid_t loc, const char *name, int64_t v, const char *path, nidec_err *err)
{
	return attr_scalar(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, path, err);
}

int nidec_h5w_attr_f64(hid_t loc, const char *name, double v, const char *path, nidec_err *err)
{
	return attr_scalar(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, path, err);
}

/* Dataset `name` (uint8 [size of src]) holding the bytes of file `src`,
 * copied in pieces of NIDEC_H5W_COPY_PIECE bytes (memory does not grow
 * with it). */
int nidec_h5w_copy_file(hid_t loc, const char *name, const char *src, const char *path,
			nidec_err *err)
{
	hid_t space = -1, dset = -1, dcpl = -1, mspace = -1, fspace = -1;
	hsize_t dims[1], chunk[1], off[1], cnt[1];
	unsigned char *buf = NULL;
	struct stat st;
	int fd, rc = 0;

	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot read checkpoint '%s': %s", src, strerror(errno));
		goto done;
	}
	dims[0] = (hsize_t)st.st_size;
	chunk[0] = dims[0] < (hsize_t)(1 << 20) ? (dims[0] ? dims[0] : 1) : (hsize_t)(1 << 20);
	space = H5Screate_simple(1, dims, NULL);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	/* deflate level 1: the records compress about 2-3 times, at a few
	 * hundred MB/s */
	if (space < 0 || dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0 ||
	    H5Pset_chunk(dcpl, 1, chunk) < 0 || H5Pset_deflate(dcpl, 1) < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot set up dataset '%s'", path, name);
		goto done;
	}
	dset = H5Dcreate2(loc, name, H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (dset < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot create dataset '%s'", path, name);
		goto done;
	}
	buf = nidec_malloc_e(NIDEC_H5W_COPY_PIECE, 1, "a copy buffer", err);
	if (!buf) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (off[0] = 0; off[0] < dims[0]; off[0] += cnt[0]) {
		size_t want = dims[0] - off[0] < NIDEC_H5W_COPY_PIECE ? (size_t)(dims[0] - off[0]) : NIDEC_H5W_COPY_PIECE, got = 0;

		while (got < want) {
			ssize_t r = read(fd, buf + got, want - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				rc = nidec_fail(err, NIDEC_EIO, "cannot read checkpoint '%s': %s", src,
						r < 0 ? strerror(errno) : "it shrank while being copied");
				goto done;
			}
			got += (size_t)r;
		}
		cnt[0] = (hsize_t)want;
		mspace = H5Screate_simple(1, cnt, NULL);
		fspace = H5Dget_space(dset);
		if (mspace < 0 || fspace < 0 ||
		    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, off, NULL, cnt, NULL) < 0 ||
		    H5Dwrite(dset, H5T_NATIVE_UCHAR, mspace, fspace, H5P_DEFAULT, buf) < 0) {
			rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot write dataset '%s'", path, name);
			goto done;
		}
		H5Sclose(mspace);
		H5Sclose(fspace);
		mspace = fspace = -1;
	}
done:
	nidec_free(buf);
	if (mspace >= 0)
		H5Sclose(mspace);
	if (fspace >= 0)
		H5Sclose(fspace);
	if (dset >= 0 && H5Dclose(dset) < 0 && rc == 0)
		rc = nidec_fail(err, NIDEC_EIO, "'%s': cannot close dataset '%s'", path, name);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (space >= 0)
		H5Sclose(space);
	if (fd >= 0)
		close(fd);
	return rc;
}

hid_t nidec_h5w_group(hid_t loc, const char *name, const char *path, nidec_err *err)
{
	hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), g = -1;

	if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
		g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
	if (gcpl >= 0)
		H5Pclose(gcpl);
	if (g < 0)
		nidec_fail(err, NIDEC_EIO, "'%s': cannot create group '%s'", path, name);
	return g;
}

/* Create a new HDF5 file under a temporary name next to `path`. */
hid_t nidec_h5w_create_temp(const char *path, char *tmp, size_t len, nidec_err *err)
{
	int fd = nidec_h5w_make_temp(path, tmp, len, err), rc;
	hid_t f;

	if (fd < 0)
		return -1;
	/* HDF5 1.10.8 leaks its metadata accumulator when H5Fcreate cannot
	 * write the new file's first blocks (a full disk; LeakSanitizer in
	 * t5000): make sure they fit first.  The reserved bytes are given
	 * back by H5F_ACC_TRUNC, and HDF5 writes far less than that. */
	rc = posix_fallocate(fd, 0, NIDEC_H5W_CREATE_RESERVE);
	close(fd);
	if (rc != 0 && rc != EINVAL && rc != EOPNOTSUPP) {
		unlink(tmp);
		nidec_fail(err, NIDEC_EIO,
			   "cannot create HDF5 file '%s': %s; free some space or choose another output location",
			   path, strerror(rc));
		return -1;
	}
	nidec_h5w_quiet();
	f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (f < 0) {
		unlink(tmp);
		nidec_fail(err, NIDEC_EIO, "cannot create HDF5 file '%s'", path);
	}
	return f;
}

/* Close a file written under `tmp` and rename it to `path` (rc == 0) or
 * remove it.  It is flushed first: a file HDF5 cannot flush (a full disk)
 * is closed only once nidec_h5_flush_written says it can be (HDF5 1.10
 * crashes at MPI_Finalize after a failed H5Fclose; see dataset.h). */
int nidec_h5w_finish(hid_t f, int rc, const char *tmp, const char *path, nidec_err *err)
{
	nidec_err ferr = NIDEC_ERR_INIT;
	int can_close;

	if (nidec_h5_flush_written(f, &can_close, path, &ferr) < 0) {
		if (rc == 0)
			rc = nidec_fail(err, ferr.code, "%s", ferr.msg);
		if (can_close)
			H5Fclose(f);
	} else if (H5Fclose(f) < 0 && rc == 0) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot close HDF5 file '%s'", path);
	}
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return nidec_h5w_commit_temp(tmp, path, err);
}

/* The provenance root attributes of model.h5 and results.h5. */
int nidec_h5w_provenance(hid_t f, const nidec_results_info *info, const char *path,
			 nidec_err *err)
{
	nidec_sbuf ini = NIDEC_SBUF_INIT;
	int rc = 0;

	NIDEC_TRY(nidec_h5w_attr_str(f, "nidec_version", info->version ? info->version : "?", path, err));
	NIDEC_TRY(nidec_h5w_attr_str(f, "command_line", info->command_line ? info->command_line : "", path, err));
	if (info->ds) {
		NIDEC_TRY(nidec_h5w_attr_str(f, "dataset", info->ds->path ? info->ds->path : "", path, err));
		NIDEC_TRY(nidec_h5w_attr_str(f, "inputs_sha256",
					     info->ds->inputs_sha256 ? info->ds->inputs_sha256 : "", path, err));
	}
	if (info->cfg) {
		if (nidec_cfg_dump(info->cfg, &ini) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
		rc = nidec_h5w_attr_str(f, "config", ini.buf, path, err);
		nidec_sbuf_release(&ini);
		NIDEC_TRY(rc);
		NIDEC_TRY(nidec_h5w_attr_i64(f, "seed", (int64_t)info->cfg->seed, path, err));
	}
	return 0;
}

/* ---- reading back (model.c) ---------------------------------------------- */

/* Read a dataset of `rank` dims into a new buffer; dims must match `want`
 * where want[i] != 0 (0 = any, filled in). */
int nidec_h5w_read(hid_t loc, const char *name, hid_t mtype, size_t elem, int rank,
		   hsize_t *want, void **out, const char *path, nidec_err *err)
{
	hid_t d = -1, s = -1;
	hsize_t dims[4];
	size_t n = 1;
	int i, rc = 0;
	void *buf = NULL;

	d = H5Dopen2(loc, name, H5P_DEFAULT);
	if (d < 0)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' has no dataset '%s'; is it a model.h5 written by nidec cv?",
				  path, name);
	s = H5Dget_space(d);
	if (s < 0 || H5Sget_simple_extent_ndims(s) != rank ||
	    H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': dataset '%s' should have %d dimension(s)",
				path, name, rank);
		goto done;
	}
	for (i = 0; i < rank; i++) {
		if (want[i] && want[i] != dims[i]) {
			rc = nidec_fail(err, NIDEC_EFORMAT,
					"'%s': dataset '%s' has %llu entries in dimension %d, expected %llu",
					path, name, (unsigned long long)dims[i], i,
					(unsigned long long)want[i]);
			goto done;
		}
		want[i] = dims[i];
		if (nidec_mul_size(n, (size_t)dims[i], &n) < 0) {
			rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': dataset '%s' is too large", path, name);
			goto done;
		}
	}
	buf = nidec_malloc_e(n ? n : 1, elem, name, err);
	if (!buf) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	if (n && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': cannot read dataset '%s'", path, name);
		nidec_free(buf);
		buf = NULL;
		goto done;
	}
	*out = buf;
done:
	if (s >= 0)
		H5Sclose(s);
	H5Dclose(d);
	return rc;
}

int nidec_h5w_read_attr_str(hid_t loc, const char *name, char *buf, size_t len, const char *path,
			    nidec_err *err)
{
	hid_t a, t = -1, mt = -1;
	size_t size;
	char *tmp;
	int rc = 0;

	a = H5Aopen(loc, name, H5P_DEFAULT);
	if (a < 0)
		return nidec_fail(err, NIDEC_EFORMAT, "'%s' has no attribute '%s'", path, name);
	t = H5Aget_type(a);
	if (t < 0 || H5Tget_class(t) != H5T_STRING || H5Tis_variable_str(t) > 0) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': attribute '%s' is not a fixed-length string",
				path, name);
		goto done;
	}
	size = H5Tget_size(t);
	tmp = nidec_calloc_e(size + 1, 1, name, err);
	if (!tmp) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	mt = nidec_h5w_strtype(size);
	if (mt < 0 || H5Aread(a, mt, tmp) < 0)
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': cannot read attribute '%s'", path, name);
	else
		snprintf(buf, len, "%s", tmp);
	nidec_free(tmp);
done:
	if (mt >= 0)
		H5Tclose(mt);
	if (t >= 0)
		H5Tclose(t);
	H5Aclose(a);
	return rc;
}
