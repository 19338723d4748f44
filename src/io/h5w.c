/*
 * h5w.c - the one HDF5 layer of nidec (see h5w.h, private to src/io): the
 * messages of every HDF5 failure, files created in a temporary of the file
 * layer and closed safely when the disk is full, checked dataset,
 * attribute and group writers (fixed- and variable-length strings,
 * numbers), a file copied into a byte dataset, the provenance attributes
 * of the result files, and the two readers model.h5 needs.  dataset.c
 * writes dataset.h5 with it, model.c model.h5, results.c results.h5; the
 * readers of dataset.c report through nidec_h5w_fail.
 *
 * Why one layer: dataset.c and this file each had their own helpers, with
 * different messages ("'f': cannot create dataset 'x'" with or without
 * HDF5's reason, object names with or without their group) and their own
 * way of creating a file under a temporary name.  The bytes they write are
 * unchanged: the same HDF5 calls in the same order.
 *
 * Determinism: no dataset or group records a modification time, so the
 * same content gives the same bytes.  No MPI call (rank 0 writes).
 */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"

#include "h5w.h"

/* ---- errors --------------------------------------------------------------- */

struct h5_msg {
	char text[256];
};

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
	struct h5_msg *m = data;

	/* the innermost error is the first one walked (H5E_WALK_UPWARD) */
	if (n == 0 && e->desc)
		snprintf(m->text, sizeof(m->text), "%s", e->desc);
	return 0;
}

/* HDF5's innermost message on one line.  A failed system call comes as
 * "file write failed: time = ..., filename = ..., errno = 28, error
 * message = '...', buf = 0x..., ..." over two lines: it becomes "file
 * write failed: No space left on device".  Other control characters become
 * blanks.  Returns the errno named in the message, or 0. */
static int h5_msg_clean(char *text, size_t cap)
{
	const char *e = strstr(text, "errno = ");
	int errnum = 0;
	char *p;

	if (e) {
		char *colon = strchr(text, ':');
		char why[128];
		errnum = atoi(e + 8);
		snprintf(why, sizeof(why), "%s", strerror(errnum));
		if (colon)
			*colon = '\0';
		snprintf(text + strlen(text), cap - strlen(text), ": %s", why);
	}
	for (p = text; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return errnum;
}

/* " (HDF5: innermost message)" or "", and a hint when the disk is full;
 * clears HDF5's error stack. */
static void h5_reason(char *buf, size_t cap)
{
	struct h5_msg m;
	int errnum;

	m.text[0] = '\0';
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &m);
	H5Eclear2(H5E_DEFAULT);
	errnum = h5_msg_clean(m.text, sizeof(m.text));
	snprintf(buf, cap, "%s%s%s%s", m.text[0] ? " (HDF5: " : "", m.text, m.text[0] ? ")" : "",
		 errnum == ENOSPC || errnum == EDQUOT || errnum == EFBIG
			 ? "; free some space or choose another output location" : "");
}

/* The path from the root of `name` under `loc` ("/mask/ijk"), into buf. */
static void object_path(hid_t loc, const char *name, char *buf, size_t cap)
{
	char base[400];
	ssize_t n = -1;

	if (name && name[0] == '/') {
		snprintf(buf, cap, "%s", name);
		return;
	}
	if (loc >= 0)
		n = H5Iget_name(loc, base, sizeof(base));
	H5Eclear2(H5E_DEFAULT);
	if (n <= 0 || (size_t)n >= sizeof(base))
		snprintf(base, sizeof(base), "/");
	if (!name)
		snprintf(buf, cap, "%s", base);
	else
		snprintf(buf, cap, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", name);
}

void nidec_h5w_quiet(void)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

int nidec_h5w_fail(nidec_err *err, int code, const char *path, hid_t loc, const char *name,
		   const char *op)
{
	char why[400], obj[512];

	/* HDF5's reason first: looking up the object's name may add to the stack */
	h5_reason(why, sizeof(why));
	if (!name)
		return nidec_fail(err, code, "'%s': cannot %s%s", path, op, why);
	object_path(loc, name, obj, sizeof(obj));
	return nidec_fail(err, code, "'%s': cannot %s '%s'%s", path, op, obj, why);
}

int nidec_h5w_fail_attr(nidec_err *err, int code, const char *path, hid_t loc, const char *name,
			const char *op)
{
	char why[400], obj[512];

	h5_reason(why, sizeof(why));
	object_path(loc, NULL, obj, sizeof(obj));
	return nidec_fail(err, code, "'%s': cannot %s attribute '%s' of '%s'%s", path, op, name, obj,
			  why);
}

/* ---- files ---------------------------------------------------------------- */

/* Closing a file that HDF5 cannot flush (a full disk) is not safe with
 * HDF5 1.10 (Debian 12 ships 1.10.8): when H5Fclose's flush fails it frees
 * the file but keeps its ID, and H5close at MPI_Finalize closes the freed
 * file again and crashes in H5F__close_cb (HDF5 pull request 2291 fixed it
 * in later releases).  A failed flush also leaves the metadata cache with
 * dirty entries and its skip list enabled, so every later flush and close
 * fails the same way.  So a file being written is flushed first, and when
 * that fails its descriptor is moved onto an anonymous in-memory file
 * (memfd; the caller then removes the temporary file, whose disk space is
 * freed at once) and it is flushed again, into memory: the cache gets
 * clean and the file can be closed as usual.  Should that fail too, the
 * file is abandoned: never closed by us (HDF5 closes it at shutdown).
 * Only the sec2 driver (the default) is redirected.  Returns 1 when the
 * file may be closed. */
static int h5_rescue(hid_t file)
{
	hid_t fapl = H5Fget_access_plist(file);
	int *fdp = NULL, mfd, moved = 0, i;

	if (fapl >= 0 && H5Pget_driver(fapl) == H5FD_SEC2 &&
	    H5Fget_vfd_handle(file, H5P_DEFAULT, (void **)&fdp) >= 0 && fdp && *fdp >= 0) {
		mfd = memfd_create("nidec-discarded-hdf5", MFD_CLOEXEC);
		if (mfd >= 0) {
			moved = dup2(mfd, *fdp) >= 0;
			close(mfd);
		}
	}
	if (fapl >= 0)
		H5Pclose(fapl);
	/* the first flush after a failed one fails at its start (the skip
	 * list is still enabled) but writes the dirty entries; the next one
	 * then finds a clean cache */
	for (i = 0; moved && i < 3; i++)
		if (H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0) {
			H5Eclear2(H5E_DEFAULT);
			return 1;
		}
	H5Eclear2(H5E_DEFAULT);
	nidec_debug("an HDF5 file that could not be flushed is left to HDF5's shutdown");
	return 0;
}

int nidec_h5w_flush_written(hid_t file, int *can_close, const char *path, nidec_err *err)
{
	int rc;

	*can_close = 1;
	if (H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0)
		return 0;
	{
		char why[400];
		h5_reason(why, sizeof(why));
		rc = nidec_fail(err, NIDEC_EIO, "cannot write '%s'%s", path, why);
	}
	*can_close = h5_rescue(file);
	return rc;
}

/* The file access properties of every file nidec opens or creates: no
 * file lock (h5w.h "File locks"); -1 if HDF5 cannot make them. */
static hid_t no_lock_fapl(void)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);

	if (fapl < 0)
		return -1;
#if H5_VERSION_GE(1, 10, 7)
	/* HDF5_USE_FILE_LOCKING, when set, still wins (HDF5 reads it) */
	if (H5Pset_file_locking(fapl, 0, 1) < 0) {
		H5Pclose(fapl);
		return -1;
	}
#endif
	return fapl;
}

hid_t nidec_h5w_open_ro(const char *path)
{
	hid_t fapl, f;

	nidec_h5w_quiet();
	fapl = no_lock_fapl();
	if (fapl < 0)
		return -1;
	f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	H5Pclose(fapl);
	return f;
}

hid_t nidec_h5w_create(nidec_tempfile *t, nidec_err *err)
{
	const char *path = nidec_tempfile_target(t);
	hid_t f, fapl;
	int rc;

	/* HDF5 1.10.8 leaks its metadata accumulator when H5Fcreate cannot
	 * write the new file's first blocks (a full disk; LeakSanitizer in
	 * t5000): make sure they fit first.  The reserved bytes are given
	 * back by H5F_ACC_TRUNC, and HDF5 writes far less than that. */
	rc = posix_fallocate(nidec_tempfile_fd(t), 0, NIDEC_H5W_CREATE_RESERVE);
	if (rc != 0 && rc != EINVAL && rc != EOPNOTSUPP) {
		nidec_fail(err, NIDEC_EIO, "cannot write '%s': %s; free some space or choose another output location",
			   path, strerror(rc));
		return -1;
	}
	if (nidec_tempfile_close(t, err) < 0)
		return -1;
	nidec_h5w_quiet();
	fapl = no_lock_fapl();
	f = fapl < 0 ? -1 : H5Fcreate(nidec_tempfile_path(t), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	if (fapl >= 0)
		H5Pclose(fapl);
	if (f < 0)
		nidec_h5w_fail(err, NIDEC_EIO, path, -1, NULL, "create HDF5 file");
	return f;
}

/* The file is flushed first: a file HDF5 cannot flush (a full disk) is
 * closed only once nidec_h5w_flush_written says it can be. */
int nidec_h5w_close(hid_t f, int rc, const char *path, nidec_err *err)
{
	nidec_err ferr = NIDEC_ERR_INIT;
	int can_close;

	if (nidec_h5w_flush_written(f, &can_close, path, &ferr) < 0) {
		if (rc == 0)
			rc = nidec_fail(err, ferr.code, "%s", ferr.msg);
		if (can_close)
			H5Fclose(f);
	} else if (H5Fclose(f) < 0 && rc == 0) {
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, -1, NULL, "close HDF5 file");
	}
	H5Eclear2(H5E_DEFAULT);
	return rc;
}

/* ---- writing ---------------------------------------------------------------- */

hid_t nidec_h5w_dcpl(void)
{
	hid_t p = H5Pcreate(H5P_DATASET_CREATE);

	if (p >= 0 && H5Pset_obj_track_times(p, 0) < 0) {
		H5Pclose(p);
		return -1;
	}
	return p;
}

hid_t nidec_h5w_group(hid_t loc, const char *name, const char *path, nidec_err *err)
{
	hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), g = -1;

	if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
		g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
	if (g < 0)
		nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "create group");
	if (gcpl >= 0)
		H5Pclose(gcpl);
	return g;
}

int nidec_h5w_write(hid_t loc, const char *name, hid_t mtype, hid_t ftype, int rank,
		    const hsize_t *dims, const void *data, const char *path, nidec_err *err)
{
	hid_t space = -1, dset = -1, dcpl = -1;
	int rc = 0;

	space = H5Screate_simple(rank, dims, NULL);
	/* no modification times: the same results give the same bytes */
	dcpl = nidec_h5w_dcpl();
	if (space < 0 || dcpl < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "set up dataset");
		goto done;
	}
	dset = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (dset < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "create dataset");
		goto done;
	}
	if (H5Sget_simple_extent_npoints(space) > 0 &&
	    H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "write dataset");
done:
	if (dset >= 0 && H5Dclose(dset) < 0 && rc == 0)
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "close dataset");
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (space >= 0)
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

hid_t nidec_h5w_vstrtype(void)
{
	hid_t t = H5Tcopy(H5T_C_S1);

	if (t < 0)
		return -1;
	if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
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
		return nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "make the string type of");
	}
	dims[0] = n;
	rc = nidec_h5w_write(loc, name, t, t, 1, dims, buf, path, err);
	H5Tclose(t);
	nidec_free(buf);
	return rc;
}

int nidec_h5w_vstrings(hid_t loc, const char *name, const char *const *v, size_t n,
		       const char *path, nidec_err *err)
{
	hid_t t = nidec_h5w_vstrtype();
	hsize_t dims[1];
	int rc;

	if (t < 0)
		return nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "make the string type of");
	dims[0] = (hsize_t)n;
	rc = nidec_h5w_write(loc, name, t, t, 1, dims, v, path, err);
	H5Tclose(t);
	return rc;
}

/* Attribute `name` of type `ftype` on `loc` over `space`, written from `v`
 * in `mtype` unless `skip_write` (an empty array): the one body of every
 * attribute writer. */
static int attr_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype, hid_t space,
		      const void *v, int skip_write, const char *path, nidec_err *err)
{
	hid_t a = -1;
	int rc = 0;

	if (space < 0)
		return nidec_h5w_fail_attr(err, NIDEC_EIO, path, loc, name, "make the dataspace of");
	a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0 || (!skip_write && H5Awrite(a, mtype, v) < 0))
		rc = nidec_h5w_fail_attr(err, NIDEC_EIO, path, loc, name, "write");
	if (a >= 0 && H5Aclose(a) < 0 && rc == 0)
		rc = nidec_h5w_fail_attr(err, NIDEC_EIO, path, loc, name, "close");
	H5Sclose(space);
	return rc;
}

int nidec_h5w_attr_str(hid_t loc, const char *name, const char *value, const char *path,
		       nidec_err *err)
{
	hid_t t = nidec_h5w_strtype(strlen(value) + 1);
	int rc;

	if (t < 0)
		return nidec_h5w_fail_attr(err, NIDEC_EIO, path, loc, name, "make the string type of");
	rc = attr_write(loc, name, t, t, H5Screate(H5S_SCALAR), value, 0, path, err);
	H5Tclose(t);
	return rc;
}

int nidec_h5w_attr_vstrs(hid_t loc, const char *name, const char *const *v, size_t n,
			 int scalar, const char *path, nidec_err *err)
{
	hsize_t dim = (hsize_t)n;
	const char *one[1];
	hid_t t = nidec_h5w_vstrtype();
	int rc;

	if (t < 0)
		return nidec_h5w_fail_attr(err, NIDEC_EIO, path, loc, name, "make the string type of");
	if (scalar) {
		one[0] = v && v[0] ? v[0] : "";
		v = one;
	}
	rc = attr_write(loc, name, t, t, scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL),
			v, !scalar && n == 0, path, err);
	H5Tclose(t);
	return rc;
}

int nidec_h5w_attr_vstr(hid_t loc, const char *name, const char *value, const char *path,
			nidec_err *err)
{
	return nidec_h5w_attr_vstrs(loc, name, &value, 1, 1, path, err);
}

int nidec_h5w_attr_num(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v,
		       size_t n, int scalar, const char *path, nidec_err *err)
{
	hsize_t dim = (hsize_t)n;

	return attr_write(loc, name, ftype, mtype,
			  scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL), v,
			  !scalar && n == 0, path, err);
}

int nidec_h5w_attr_i64(hid_t loc, const char *name, int64_t v, const char *path, nidec_err *err)
{
	return nidec_h5w_attr_num(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, 1, 1, path, err);
}

int nidec_h5w_attr_f64(hid_t loc, const char *name, double v, const char *path, nidec_err *err)
{
	return nidec_h5w_attr_num(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, 1, 1, path, err);
}

int nidec_h5w_set_crc32(hid_t loc, const char *name, uint32_t crc, const char *path,
			nidec_err *err)
{
	hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
	int rc;

	if (d < 0)
		return nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "open dataset");
	rc = nidec_h5w_attr_num(d, "crc32", H5T_STD_U32LE, H5T_NATIVE_UINT32, &crc, 1, 1, path, err);
	if (H5Dclose(d) < 0 && rc == 0)
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "close dataset");
	return rc;
}

int nidec_h5w_get_crc32(hid_t loc, const char *name, uint32_t *crc, const char *path,
			nidec_err *err)
{
	hid_t d = H5Dopen2(loc, name, H5P_DEFAULT), a = -1;
	int rc = 0;

	if (d < 0)
		return nidec_h5w_fail(err, NIDEC_EFORMAT, path, loc, name, "open dataset");
	if (H5Aexists(d, "crc32") > 0) {
		a = H5Aopen(d, "crc32", H5P_DEFAULT);
		if (a < 0 || H5Aread(a, H5T_NATIVE_UINT32, crc) < 0)
			rc = nidec_h5w_fail_attr(err, NIDEC_EFORMAT, path, d, "crc32", "read");
		else
			rc = 1;
		if (a >= 0)
			H5Aclose(a);
	}
	H5Eclear2(H5E_DEFAULT);
	H5Dclose(d);
	return rc;
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
	dcpl = nidec_h5w_dcpl();
	/* deflate level 1: the records compress about 2-3 times, at a few
	 * hundred MB/s */
	if (space < 0 || dcpl < 0 || H5Pset_chunk(dcpl, 1, chunk) < 0 || H5Pset_deflate(dcpl, 1) < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "set up dataset");
		goto done;
	}
	dset = H5Dcreate2(loc, name, H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (dset < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "create dataset");
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
			rc = nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "write dataset");
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
		rc = nidec_h5w_fail(err, NIDEC_EIO, path, loc, name, "close dataset");
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (space >= 0)
		H5Sclose(space);
	if (fd >= 0)
		(void)close(fd); /* read-only: a failed close loses nothing */
	return rc;
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
		if (nidec_cfg_dump(info->cfg, &ini) < 0) {
			nidec_sbuf_release(&ini); /* what it had written */
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory writing '%s'", path);
		}
		rc = nidec_h5w_attr_str(f, "config", ini.buf, path, err);
		nidec_sbuf_release(&ini);
		NIDEC_TRY(rc);
		NIDEC_TRY(nidec_h5w_attr_i64(f, "seed", (int64_t)info->cfg->seed, path, err));
	}
	return 0;
}

/* ---- reading back (model.c) ---------------------------------------------- */

/* Open dataset `name` into *out, check it has `rank` dims matching
 * want[i] where want[i] != 0 (0 = any, filled in), and count its elements
 * into *n. */
static int open_shaped(hid_t loc, const char *name, int rank, hsize_t *want, size_t *n, hid_t *out,
		       const char *path, nidec_err *err)
{
	hid_t d, s;
	hsize_t dims[4];
	int i, rc = 0;

	*n = 1;
	if (rank < 1 || rank > 4)
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': dataset '%s' read with rank %d", path, name,
				  rank);
	d = H5Dopen2(loc, name, H5P_DEFAULT);
	if (d < 0)
		return nidec_fail(err, NIDEC_EFORMAT, "'%s' has no dataset '%s'; was it written by this nidec?",
				  path, name);
	s = H5Dget_space(d);
	if (s < 0 || H5Sget_simple_extent_ndims(s) != rank ||
	    H5Sget_simple_extent_dims(s, dims, NULL) < 0)
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': dataset '%s' should have %d dimension(s)", path,
				name, rank);
	for (i = 0; rc == 0 && i < rank; i++) {
		if (want[i] && want[i] != dims[i])
			rc = nidec_fail(err, NIDEC_EFORMAT,
					"'%s': dataset '%s' has %llu entries in dimension %d, expected %llu", path,
					name, (unsigned long long)dims[i], i, (unsigned long long)want[i]);
		else if (nidec_mul_size(*n, (size_t)dims[i], n) < 0)
			rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': dataset '%s' is too large", path, name);
		else
			want[i] = dims[i];
	}
	if (s >= 0)
		H5Sclose(s);
	if (rc < 0)
		H5Dclose(d);
	else
		*out = d;
	return rc;
}

int nidec_h5w_shape(hid_t loc, const char *name, int rank, hsize_t *want, const char *path,
		    nidec_err *err)
{
	size_t n;
	hid_t d;

	NIDEC_TRY(open_shaped(loc, name, rank, want, &n, &d, path, err));
	H5Dclose(d);
	return 0;
}

/* Read a dataset of `rank` dims into a new buffer; dims must match `want`
 * where want[i] != 0 (0 = any, filled in). */
int nidec_h5w_read(hid_t loc, const char *name, hid_t mtype, size_t elem, int rank,
		   hsize_t *want, void **out, const char *path, nidec_err *err)
{
	size_t n;
	void *buf;
	int rc = 0;
	hid_t d;

	NIDEC_TRY(open_shaped(loc, name, rank, want, &n, &d, path, err));
	buf = nidec_malloc_e(n ? n : 1, elem, name, err);
	if (!buf) {
		rc = NIDEC_ENOMEM;
	} else if (n && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
		rc = nidec_h5w_fail(err, NIDEC_EFORMAT, path, loc, name, "read dataset");
		nidec_free(buf);
	} else {
		*out = buf;
	}
	H5Dclose(d);
	return rc;
}

int nidec_h5w_read_attr_f64(hid_t loc, const char *name, double *v, const char *path, nidec_err *err)
{
	hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
	int rc = 0;

	if (a < 0)
		return nidec_fail(err, NIDEC_EFORMAT, "'%s' has no attribute '%s'", path, name);
	if (H5Aread(a, H5T_NATIVE_DOUBLE, v) < 0)
		rc = nidec_h5w_fail_attr(err, NIDEC_EFORMAT, path, loc, name, "read");
	H5Aclose(a);
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
		rc = nidec_h5w_fail_attr(err, NIDEC_EFORMAT, path, loc, name, "read");
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
