/*
 * hash.c - SHA-256 through OpenSSL's EVP interface (see hash.h).
 *
 * The digest identifies inputs in a dataset's provenance and makes up its
 * reuse key (convert.c), so it must be the standard SHA-256 of the file's
 * bytes: `sha256sum FILE` prints the same digits.  Depends on base and
 * libcrypto only; no MPI, no HDF5, no NIfTI.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "nidec/hash.h"
#include "nidec/mem.h"

#define BLOCK ((size_t)1 << 20)

static void to_hex(const unsigned char *md, unsigned int n, char hex[NIDEC_SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned int i;

	for (i = 0; i < n && i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * i] = '\0';
}

int nidec_sha256_file(const char *path, char hex[NIDEC_SHA256_HEX], int64_t *size,
		      nidec_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	EVP_MD_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	int64_t total = 0;
	FILE *f = NULL;
	size_t got;
	int rc = 0;

	f = fopen(path, "rb");
	if (!f)
		return nidec_fail(err, NIDEC_EIO, "cannot open '%s': %s", path, strerror(errno));
	buf = nidec_malloc_e(BLOCK, 1, "a hashing buffer", err);
	if (!buf) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "cannot start a SHA-256 digest of '%s'", path);
		goto done;
	}
	while ((got = fread(buf, 1, BLOCK, f)) > 0) {
		if (EVP_DigestUpdate(ctx, buf, got) != 1) {
			rc = nidec_fail(err, NIDEC_EINTERNAL, "SHA-256 update failed on '%s'", path);
			goto done;
		}
		total += (int64_t)got;
	}
	if (ferror(f)) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot read '%s': %s", path, strerror(errno));
		goto done;
	}
	if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32) {
		rc = nidec_fail(err, NIDEC_EINTERNAL, "SHA-256 final step failed on '%s'", path);
		goto done;
	}
	to_hex(md, md_len, hex);
	if (size)
		*size = total;
done:
	EVP_MD_CTX_free(ctx);
	nidec_free(buf);
	fclose(f);
	return rc;
}

int nidec_sha256_mem(const void *data, size_t n, char hex[NIDEC_SHA256_HEX], nidec_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (EVP_Digest(data, n, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
		return nidec_fail(err, NIDEC_EINTERNAL, "SHA-256 of %zu bytes failed", n);
	to_hex(md, md_len, hex);
	return 0;
}

/* ---- CRC-32 --------------------------------------------------------------------- */

uint32_t nidec_crc32(uint32_t crc, const void *bytes, size_t n)
{
	const unsigned char *p = bytes;

	/* zlib takes uInt lengths: feed huge buffers in pieces */
	while (n > 0) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = (uint32_t)crc32(crc, p, k);
		p += k;
		n -= k;
	}
	return crc;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
/* n values of `size` bytes, byte-swapped into little-endian, in pieces. */
static uint32_t crc32_le(uint32_t crc, const void *v, size_t n, size_t size)
{
	unsigned char buf[4096];
	const unsigned char *p = v;
	size_t i, b, per = sizeof(buf) / size;

	while (n > 0) {
		size_t k = n < per ? n : per;
		for (i = 0; i < k; i++)
			for (b = 0; b < size; b++)
				buf[i * size + b] = p[i * size + size - 1 - b];
		crc = nidec_crc32(crc, buf, k * size);
		p += k * size;
		n -= k;
	}
	return crc;
}
#else
static uint32_t crc32_le(uint32_t crc, const void *v, size_t n, size_t size)
{
	return nidec_crc32(crc, v, n * size);
}
#endif

uint32_t nidec_crc32_f32(uint32_t crc, const float *v, size_t n)
{
	return crc32_le(crc, v, n, sizeof(*v));
}

uint32_t nidec_crc32_f64(uint32_t crc, const double *v, size_t n)
{
	return crc32_le(crc, v, n, sizeof(*v));
}

uint32_t nidec_crc32_i32(uint32_t crc, const int32_t *v, size_t n)
{
	return crc32_le(crc, v, n, sizeof(*v));
}

uint32_t nidec_crc32_i64(uint32_t crc, const int64_t *v, size_t n)
{
	return crc32_le(crc, v, n, sizeof(*v));
}

uint32_t nidec_crc32_strings(uint32_t crc, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		crc = nidec_crc32(crc, v[i], strlen(v[i]));
		crc = nidec_crc32(crc, "\n", 1);
	}
	return crc;
}
