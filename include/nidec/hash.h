/*
 * hash.h - SHA-256 of files and byte strings (OpenSSL libcrypto EVP), as
 * lowercase hex.  Used for provenance and for the dataset reuse key.
 *
 * Not collective; no MPI, no HDF5.  A file is read in 1 MiB blocks, so
 * memory does not grow with the file.
 */
#ifndef NIDEC_HASH_H
#define NIDEC_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

#define NIDEC_SHA256_HEX 65 /* 64 hex digits + NUL */

/* SHA-256 of the bytes of `path`; *size (if not NULL) gets the file size.
 * On error (cannot open or read) `hex` and *size are left as they were. */
int nidec_sha256_file(const char *path, char hex[NIDEC_SHA256_HEX], int64_t *size,
		      nidec_err *err);

/* SHA-256 of `n` bytes at `data`. */
int nidec_sha256_mem(const void *data, size_t n, char hex[NIDEC_SHA256_HEX], nidec_err *err);

#endif
