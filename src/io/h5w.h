/*
 * h5w.h - the one HDF5 layer of nidec, private to src/io: every HDF5 file
 * nidec writes (dataset.h5 by dataset.c, model.h5 by model.c, results.h5
 * by results.c) is created, filled and closed through these helpers, and
 * every HDF5 failure, written or read, becomes one message in one style.
 * Not a public module: include/nidec/ never sees it.
 *
 * Files.  nidec_h5w_create makes a new HDF5 file in a temporary of the
 * file layer (file.h: HDF5 opens files by name, so it writes the
 * temporary by path); nidec_h5w_close flushes and closes it; the caller
 * commits or aborts the temporary, alone or with the other outputs of a
 * run.  A file HDF5 cannot flush (a full disk) is closed only once
 * nidec_h5w_flush_written says it may be (HDF5 1.10.8 crashes at
 * MPI_Finalize after a failed H5Fclose; tests/bad/README.md B10).
 *
 * Errors (STYLE.md "Errors"): a helper returning int gives 0 or a negative
 * NIDEC_E* with `err` set; one returning hid_t gives a valid id or -1 with
 * `err` set.  Every message says which file, which object (its path from
 * the root) and which operation, then HDF5's own innermost reason:
 *     'out/model.h5': cannot create dataset '/mask/ijk' (HDF5: ...)
 * and, for a full disk, "; free some space or choose another output
 * location".  `path` is always the file's final name (not the temporary's),
 * the name the user knows.  Nothing here prints: HDF5's automatic error
 * printing is off (nidec_h5w_quiet).
 *
 * Determinism: objects get no modification times (nidec_h5w_dcpl, groups),
 * so the same content gives the same bytes.  Not collective; no MPI call
 * (rank 0 writes, ranks read independently).
 *
 * check-deps keeps hdf5.h out of every header (parallel HDF5's hdf5.h
 * pulls in mpi.h): a .c file includes <hdf5.h> before this header.
 */
#ifndef NIDEC_IO_H5W_H
#define NIDEC_IO_H5W_H

#ifndef H5_VERS_MAJOR
#error "include <hdf5.h> before src/io/h5w.h"
/* Double attribute `name` into *v: 0 or NIDEC_EFORMAT. */
int nidec_h5w_read_attr_f64(hid_t loc, const char *name, double *v, const char *path, nidec_err *err);
/* The dims of dataset `name` of `rank` dims into want[] (as nidec_h5w_read, without reading it). */
int nidec_h5w_shape(hid_t loc, const char *name, int rank, hsize_t *want, const char *path,
		    nidec_err *err);

#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nidec/err.h"
#include "nidec/file.h"
#include "nidec/results.h"

/* Bytes nidec_h5w_create makes sure of before H5Fcreate (a new file's
 * superblock and root group take about 1 KiB). */
#define NIDEC_H5W_CREATE_RESERVE ((off_t)8192)

/* Bytes moved per piece between a file and an HDF5 byte dataset. */
#define NIDEC_H5W_COPY_PIECE ((size_t)8 << 20)

/* ---- errors ---- */

/* Switch off HDF5's automatic error printing (we report in our words); cannot fail. */
void nidec_h5w_quiet(void);

/*
 * Record "'path': cannot OP 'OBJ' (HDF5: innermost message)" in `err` and
 * return `code`.  OBJ is `name` under `loc` as a path from the root
 * ("/mask/ijk"; H5Iget_name of loc), or just `name` when loc < 0; no OBJ
 * when name is NULL ("'path': cannot create HDF5 file").  Clears HDF5's
 * error stack.
 */
int nidec_h5w_fail(nidec_err *err, int code, const char *path, hid_t loc, const char *name,
		   const char *op);
/* The same for attribute `name` of object `loc` (loc < 0: the root):
 * "'path': cannot OP attribute 'NAME' of '/LOC' (HDF5: ...)". */
int nidec_h5w_fail_attr(nidec_err *err, int code, const char *path, hid_t loc, const char *name,
			const char *op);

/* ---- files ---- */

/* File locks.  HDF5 locks every file it opens (flock); on file systems
 * without working locks (NFS without lockd, some Lustre mounts, Cray DVS:
 * errno 37 or 524) the open fails.  nidec needs no lock: it never opens a
 * file that is being written (every output is written under a temporary
 * name and renamed, file.h, so a reader sees a finished file or none, and
 * the temporary is the writing process's alone).  So every open and create
 * here asks HDF5 for no lock; HDF5_USE_FILE_LOCKING (TRUE, FALSE,
 * BEST_EFFORT), read by HDF5 itself, overrides that (README "Shared file
 * systems"). */

/* Open an existing HDF5 file read-only (without a lock, above): H5Fopen's
 * contract, a file or -1 with HDF5's error stack set, for the caller to
 * report (nidec_h5w_fail). */
hid_t nidec_h5w_open_ro(const char *path);

/* A new HDF5 file in temporary `t` (its descriptor is closed: HDF5 writes
 * it by path), or -1 with `err` naming t's target.  `t` stays the
 * caller's, to commit or abort once the file is closed. */
hid_t nidec_h5w_create(nidec_tempfile *t, nidec_err *err);

/* Flush and close file `f` whose writing ended with `rc`: the final rc (the
 * first error wins).  Does not commit anything. */
int nidec_h5w_close(hid_t f, int rc, const char *path, nidec_err *err);

/*
 * Flush file `file`, every open object's cached data included, before it
 * is closed.  0: close it (and its objects) as usual.  On failure (a full
 * disk, an I/O error) `err` names `path` and the reason; the file's
 * descriptor is then moved onto an in-memory file and the file flushed
 * there, so that it can be closed safely (*can_close = 1), and the caller
 * should remove it from disk.  If *can_close is 0 the caller must not close
 * the file or any object in it (h5w.c "h5_rescue").
 */
int nidec_h5w_flush_written(hid_t file, int *can_close, const char *path, nidec_err *err);

/* ---- writing ---- */

/* Dataset creation properties without modification times (caller closes), or -1. */
hid_t nidec_h5w_dcpl(void);

/* New group `name` in `loc` (caller closes it), or -1 with `err` set. */
hid_t nidec_h5w_group(hid_t loc, const char *name, const char *path, nidec_err *err);

/* Dataset `name` [dims] of file type `ftype` from `data` in memory type
 * `mtype` (not read when a dimension is 0): 0 or NIDEC_EIO, nothing left open. */
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
/* A variable-length UTF-8 string type (caller closes it), or -1; no `err`. */
hid_t nidec_h5w_vstrtype(void);
/* Dataset `name` [n] of fixed-length strings as wide as the longest
 * (model.h5, results.h5): 0, NIDEC_ENOMEM or NIDEC_EIO. */
int nidec_h5w_strings(hid_t loc, const char *name, const char *const *v, size_t n,
		      const char *path, nidec_err *err);
/* Dataset `name` [n] of variable-length strings (dataset.h5): 0 or NIDEC_EIO. */
int nidec_h5w_vstrings(hid_t loc, const char *name, const char *const *v, size_t n,
		       const char *path, nidec_err *err);

/* Scalar fixed-length string attribute `name` on `loc`: 0 or NIDEC_EIO. */
int nidec_h5w_attr_str(hid_t loc, const char *name, const char *value, const char *path,
		       nidec_err *err);
/* Scalar variable-length string attribute `name` on `loc` (NULL is ""): 0 or NIDEC_EIO. */
int nidec_h5w_attr_vstr(hid_t loc, const char *name, const char *value, const char *path,
			nidec_err *err);
/* Variable-length string attribute `name` on `loc`: a scalar (v[0]; NULL
 * is "") when `scalar`, else an array of n: 0 or NIDEC_EIO. */
int nidec_h5w_attr_vstrs(hid_t loc, const char *name, const char *const *v, size_t n,
			 int scalar, const char *path, nidec_err *err);
/* Numeric attribute `name` of file type `ftype` from `v` in memory type
 * `mtype`: a scalar when `scalar`, else an array of n: 0 or NIDEC_EIO. */
int nidec_h5w_attr_num(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *v,
		       size_t n, int scalar, const char *path, nidec_err *err);
/* Scalar little-endian i64 attribute `name` on `loc`: 0 or NIDEC_EIO. */
int nidec_h5w_attr_i64(hid_t loc, const char *name, int64_t v, const char *path, nidec_err *err);
/* Scalar little-endian f64 attribute `name` on `loc`: 0 or NIDEC_EIO. */
int nidec_h5w_attr_f64(hid_t loc, const char *name, double v, const char *path, nidec_err *err);

/* Byte dataset `name` (deflated u8) holding file `src`, copied in NIDEC_H5W_COPY_PIECE pieces: 0, NIDEC_ENOMEM or NIDEC_EIO. */
int nidec_h5w_copy_file(hid_t loc, const char *name, const char *src, const char *path,
			nidec_err *err);

/* Root attributes saying which run wrote the file (version, command line, dataset, config, seed): 0, NIDEC_ENOMEM or NIDEC_EIO. */
int nidec_h5w_provenance(hid_t f, const nidec_results_info *info, const char *path,
			 nidec_err *err);

/* ---- checksums (docs/FORMAT.md "Checksums") ---- */

/* Attribute "crc32" (uint32) of dataset `name` under loc: the CRC-32 of
 * its little-endian bytes (hash.h), written with it.  0 or NIDEC_EIO. */
int nidec_h5w_set_crc32(hid_t loc, const char *name, uint32_t crc, const char *path,
			nidec_err *err);
/* Read dataset `name`'s "crc32" into *crc: 1 when it has one, 0 when not
 * (a file written before nidec recorded them), or NIDEC_EFORMAT. */
int nidec_h5w_get_crc32(hid_t loc, const char *name, uint32_t *crc, const char *path,
			nidec_err *err);

/* ---- reading back (model.c) ---- */

/* Dataset `name` of `rank` dims into a new buffer *out (caller frees), dims matching want[i] != 0 (0 = any, filled in): 0, NIDEC_ENOMEM or NIDEC_EFORMAT (a missing dataset, other dims), *out untouched on error. */
int nidec_h5w_read(hid_t loc, const char *name, hid_t mtype, size_t elem, int rank,
		   hsize_t *want, void **out, const char *path, nidec_err *err);
/* Fixed-length string attribute `name` into buf[len] (truncated to fit): 0, NIDEC_ENOMEM or NIDEC_EFORMAT. */
int nidec_h5w_read_attr_str(hid_t loc, const char *name, char *buf, size_t len, const char *path,
			    nidec_err *err);

/* Double attribute `name` into *v: 0 or NIDEC_EFORMAT. */
int nidec_h5w_read_attr_f64(hid_t loc, const char *name, double *v, const char *path, nidec_err *err);
/* The dims of dataset `name` of `rank` dims into want[] (as nidec_h5w_read, without reading it). */
int nidec_h5w_shape(hid_t loc, const char *name, int rank, hsize_t *want, const char *path,
		    nidec_err *err);

#endif
