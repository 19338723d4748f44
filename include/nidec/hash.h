/*
 * hash.h - SHA-256 of files and byte strings (OpenSSL libcrypto EVP), as
 * lowercase hex, used for provenance and for the dataset reuse key; and
 * CRC-32 (zlib's, the checksum of gzip and PNG), the integrity checksums
 * of what nidec reads back (dataset.h5's /X, /labels and /runs, model.h5's
 * arrays: docs/FORMAT.md "Checksums").
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

/*
 * CRC-32 of numbers as their little-endian bytes (the bytes HDF5 stores
 * for nidec's *LE types, whatever the host's byte order): start with
 * crc = 0 and chain calls.  CRC-32 detects accidental damage - bit rot, a
 * partial copy, a value edited by another tool - at about 6 GB/s (zlib
 * 1.2.13, x86-64), four times SHA-256's speed: what a check of every read
 * can afford.  It is no defence against a deliberate change.
 */
uint32_t nidec_crc32(uint32_t crc, const void *bytes, size_t n);
uint32_t nidec_crc32_f32(uint32_t crc, const float *v, size_t n);
uint32_t nidec_crc32_f64(uint32_t crc, const double *v, size_t n);
uint32_t nidec_crc32_i32(uint32_t crc, const int32_t *v, size_t n);
uint32_t nidec_crc32_i64(uint32_t crc, const int64_t *v, size_t n);
/* Each string's bytes followed by "\n". */
uint32_t nidec_crc32_strings(uint32_t crc, const char *const *v, size_t n);

#endif
