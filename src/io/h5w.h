/*
 * h5w.h - the small HDF5 helpers of the result files, private to src/io
 * (results.c writes results.h5 with them, model.c writes and reads
 * model.h5).  Not a public module: include/nidec/ never sees it.
 *
 * Error convention (STYLE.md "Errors"): a helper returning int gives 0 or
 * a negative NIDEC_E* with `err` set; one returning hid_t gives a valid id
 * or -1 (with `err` set when it takes one).  Every message names `path`,
 * the file being written or read, and the object.  Nothing here prints.
 * Objects get no modification times, so the same results give the same
 * bytes.  Not collective; no MPI call.
 *
 * check-deps keeps hdf5.h out of every header (parallel HDF5's hdf5.h
 * pulls in mpi.h): a .c file includes <hdf5.h> before this header.
 */
#ifndef NIDEC_IO_H5W_H
#define NIDEC_IO_H5W_H

#ifndef H5_VERS_MAJOR
#error "include <hdf5.h> before src/io/h5w.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nidec/err.h"
#include "nidec/results.h"

/* Bytes nidec_h5w_create_temp makes sure of before H5Fcreate (a new
 * file's superblock and root group take about 1 KiB). */
#define NIDEC_H5W_CREATE_RESERVE ((off_t)8192)

/* Bytes moved per piece between a file and an HDF5 byte dataset. */
#define NIDEC_H5W_COPY_PIECE ((size_t)8 << 20)

/* Switch off HDF5's automatic error printing (we report in our words); cannot fail. */
void nidec_h5w_quiet(void);

/* A new file "dir/.name.tmp.XXXXXX" next to `path`, name in tmp[len]: an open fd, or < 0 with `err` set (mkstemp's errno kept). */
int nidec_h5w_make_temp(const char *path, char *tmp, size_t len, nidec_err *err);
/* chmod 0644 and rename `tmp` to `path`: 0, or NIDEC_EIO with `tmp` removed. */
int nidec_h5w_commit_temp(const char *tmp, const char *path, nidec_err *err);

/* Dataset `name` [dims] of file type `ftype` from `data` in memory type `mtype`: 0 or NIDEC_EIO, nothing left open. */
int nidec_h5w_write(hid_t loc, const char *name, hid_t mtype, hid_t ftype, int rank,
		    const hsize_t *dims, const void *data, const char *path, nidec_err *err);
/* nidec_h5w_write of doubles as little-endian f64: 0 or NIDEC_EIO. */
int nidec_h5w_f64(hid_t loc, const char *name, int rank, const hsize_t *dims, const double *v,
		  const char *path, nidec_err *err);
/* nidec_h5w_write of int32_t as little-endian i32: 0 or NIDEC_EIO. */
int nidec_h5w_i32(hid_t loc, const char *name, int rank, const hsize_t *dims, const int32_t *v,
		  const char *path, nidec_err *err);
/* nidec_h5w_write of native int as little-endian i32: 0 or NIDEC_EIO. */
int nidec_h5w_int(hid_t loc, const char *name, int rank, const hsize_t *dims, const int *v,
		  const char *path, nidec_err *err);
/* nidec_h5w_write of int64_t as little-endian i64: 0 or NIDEC_EIO. */
int nidec_h5w_i64(hid_t loc, const char *name, int rank, const hsize_t *dims, const int64_t *v,
		  const char *path, nidec_err *err);

/* A fixed-length, NUL-terminated UTF-8 string type of `size` bytes (caller closes it), or -1; no `err`. */
hid_t nidec_h5w_strtype(size_t size);
/* Dataset `name` [n] of fixed-length strings as wide as the longest: 0, NIDEC_ENOMEM or NIDEC_EIO. */
int nidec_h5w_strings(hid_t loc, const char *name, const char *const *v, size_t n,
		      const char *path, nidec_err *err);

/* Scalar string attribute `name` on `loc`: 0 or NIDEC_EIO. */
int nidec_h5w_attr_str(hid_t loc, const char *name, const char *value, const char *path,
		       nidec_err *err);
/* Scalar little-endian i64 attribute `name` on `loc`: 0 or NIDEC_EIO. */
int nidec_h5w_attr_i64(hid_t loc, const char *name, int64_t v, const char *path, nidec_err *err);
/* Scalar little-endian f64 attribute `name` on `loc`: 0 or NIDEC_EIO. */
int nidec_h5w_attr_f64(hid_t loc, const char *name, double v, const char *path, nidec_err *err);

/* Byte dataset `name` (deflated u8) holding file `src`, copied in NIDEC_H5W_COPY_PIECE pieces: 0, NIDEC_ENOMEM or NIDEC_EIO. */
int nidec_h5w_copy_file(hid_t loc, const char *name, const char *src, const char *path,
			nidec_err *err);
/* New group `name` in `loc` (caller closes it), or -1 with `err` set. */
hid_t nidec_h5w_group(hid_t loc, const char *name, const char *path, nidec_err *err);

/* A new HDF5 file under a temporary name next to `path` (name in tmp[len]), or -1 with `err` set. */
hid_t nidec_h5w_create_temp(const char *path, char *tmp, size_t len, nidec_err *err);
/* Flush and close `f` and rename `tmp` to `path` when rc == 0, else remove it: the final rc (the first error wins). */
int nidec_h5w_finish(hid_t f, int rc, const char *tmp, const char *path, nidec_err *err);

/* Root attributes saying which run wrote the file (version, command line, dataset, config, seed): 0, NIDEC_ENOMEM or NIDEC_EIO. */
int nidec_h5w_provenance(hid_t f, const nidec_results_info *info, const char *path,
			 nidec_err *err);

/* Dataset `name` of `rank` dims into a new buffer *out (caller frees), dims matching want[i] != 0 (0 = any, filled in): 0, NIDEC_ENOMEM or NIDEC_EFORMAT (a missing dataset: "is it a model.h5"), *out untouched on error. */
int nidec_h5w_read(hid_t loc, const char *name, hid_t mtype, size_t elem, int rank,
		   hsize_t *want, void **out, const char *path, nidec_err *err);
/* Fixed-length string attribute `name` into buf[len] (truncated to fit): 0, NIDEC_ENOMEM or NIDEC_EFORMAT. */
int nidec_h5w_read_attr_str(hid_t loc, const char *name, char *buf, size_t len, const char *path,
			    nidec_err *err);

#endif
