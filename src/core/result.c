/*
 * result.c - a task result as portable bytes, for MPI messages and the
 * checkpoint ledger (see include/nidec/plan.h), and back.
 *
 * Format, version 3, every integer and double little-endian whatever the
 * host (doubles as their IEEE-754 bit patterns, so values round-trip
 * exactly):
 *     "NIDR"  u32 version  u64 task  i32 status  i32 n_iter  f64 seconds
 *     u64 n_fit  then per fit: f64 score  f64 C  i32 iterations
 *     u64 n_test  f64 decision[n_fit * n_test]
 *     u64 n_coef  u8 sparse
 *       dense:  f64 coef[n_fit * n_coef]
 *       sparse: u64 nnz[n_fit]  u32 voxel[sum nnz]  f64 coef[sum (nnz + 1)]
 *     u16 msg_len  msg bytes (no NUL)
 * (Version 1 held one fit per task, version 2 dense weights only.)  The
 * reader checks the magic, the version and every length against the
 * buffer, and that sparse voxels are ascending and below n_coef - 1, so a
 * truncated or foreign record is an error, never an overread.  Depends on
 * base only.
 */
#include <stdint.h>
#include <string.h>

#include "nidec/mem.h"
#include "nidec/result.h"

#define RESULT_MAGIC "NIDR"
#define RESULT_VERSION 3u
#define RESULT_FIXED 59 /* 4+4+8+4+4+8, n_fit, n_test, n_coef (8 each), sparse (1), msg_len (2) */

void nidec_result_free(nidec_result **r)
{
	if (!r || !*r)
		return;
	nidec_free((*r)->score);
	nidec_free((*r)->C);
	nidec_free((*r)->fit_iter);
	nidec_free((*r)->decision);
	nidec_free((*r)->coef);
	nidec_free((*r)->coef_nnz);
	nidec_free((*r)->coef_vox);
	nidec_free(*r);
	*r = NULL;
}

/* Stored voxel weights of all fits (sum of nnz) and stored values (sum of
 * nnz + 1) of a sparse result; -1 on overflow. */
static int sparse_counts(const nidec_result *r, size_t *n_vox, size_t *n_val)
{
	size_t f, v = 0;

	for (f = 0; f < r->n_fit; f++) {
		if (r->coef_nnz[f] > SIZE_MAX - 1 - v)
			return -1;
		v += r->coef_nnz[f];
	}
	if (v > SIZE_MAX - r->n_fit)
		return -1;
	*n_vox = v;
	*n_val = v + r->n_fit;
	return 0;
}

void nidec_result_coef(const nidec_result *r, size_t f, double *out)
{
	size_t g, val = 0, vox = 0, k;

	if (!r->coef_nnz) {
		memcpy(out, r->coef + f * r->n_coef, r->n_coef * sizeof(double));
		return;
	}
	for (g = 0; g < f; g++) {
		vox += r->coef_nnz[g];
		val += r->coef_nnz[g] + 1;
	}
	memset(out, 0, r->n_coef * sizeof(double));
	for (k = 0; k < r->coef_nnz[f]; k++)
		out[r->coef_vox[vox + k]] = r->coef[val + k];
	out[r->n_coef - 1] = r->coef[val + r->coef_nnz[f]];
}

static unsigned char *put_u(unsigned char *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + bytes;
}

static unsigned char *put_d(unsigned char *p, double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	return put_u(p, v, 8);
}

static uint64_t get_u(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static double get_d(const unsigned char *p)
{
	uint64_t v = get_u(p, 8);
	double d;

	memcpy(&d, &v, sizeof(d));
	return d;
}

/* n_fit * per + ... without overflow */
static int sizes(const nidec_result *r, size_t msg_len, size_t *total)
{
	size_t fits, dec, coef, t;

	if (nidec_mul_size(r->n_fit, 20, &fits) < 0 || nidec_mul_size(r->n_fit, r->n_test, &dec) < 0 ||
	    nidec_mul_size(dec, 8, &dec) < 0)
		return -1;
	if (r->coef_nnz) {
		size_t n_vox, n_val, a, b, c;
		if (sparse_counts(r, &n_vox, &n_val) < 0 || nidec_mul_size(r->n_fit, 8, &a) < 0 ||
		    nidec_mul_size(n_vox, 4, &b) < 0 || nidec_mul_size(n_val, 8, &c) < 0 ||
		    b > SIZE_MAX - a || c > SIZE_MAX - a - b)
			return -1;
		coef = a + b + c;
	} else if (nidec_mul_size(r->n_fit, r->n_coef, &coef) < 0 || nidec_mul_size(coef, 8, &coef) < 0) {
		return -1;
	}
	t = RESULT_FIXED + msg_len;
	if (fits > SIZE_MAX - t)
		return -1;
	t += fits;
	if (dec > SIZE_MAX - t)
		return -1;
	t += dec;
	if (coef > SIZE_MAX - t)
		return -1;
	*total = t + coef;
	return 0;
}

int nidec_result_packed_size(const nidec_result *r, size_t *bytes)
{
	return sizes(r, strnlen(r->msg, sizeof(r->msg)), bytes);
}

int nidec_result_pack(const nidec_result *r, void **buf, size_t *len, nidec_err *err)
{
	size_t msg_len = strnlen(r->msg, sizeof(r->msg)), n, i, m;
	unsigned char *out, *p;

	if (sizes(r, msg_len, &n) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "task %zu: result too large to pack", r->task);
	out = nidec_malloc_e(n, 1, "packed result", err);
	if (!out)
		return NIDEC_ENOMEM;
	p = out;
	memcpy(p, RESULT_MAGIC, 4);
	p += 4;
	p = put_u(p, RESULT_VERSION, 4);
	p = put_u(p, (uint64_t)r->task, 8);
	p = put_u(p, (uint64_t)(uint32_t)r->status, 4);
	p = put_u(p, (uint64_t)(uint32_t)r->n_iter, 4);
	p = put_d(p, r->seconds);
	p = put_u(p, (uint64_t)r->n_fit, 8);
	for (i = 0; i < r->n_fit; i++) {
		p = put_d(p, r->score ? r->score[i] : 0.0);
		p = put_d(p, r->C ? r->C[i] : 0.0);
		p = put_u(p, (uint64_t)(uint32_t)(r->fit_iter ? r->fit_iter[i] : -1), 4);
	}
	p = put_u(p, (uint64_t)r->n_test, 8);
	m = r->n_fit * r->n_test;
	for (i = 0; i < m; i++)
		p = put_d(p, r->decision[i]);
	p = put_u(p, (uint64_t)r->n_coef, 8);
	p = put_u(p, r->coef_nnz ? 1 : 0, 1);
	if (r->coef_nnz) {
		size_t n_vox = 0, n_val = 0;
		sparse_counts(r, &n_vox, &n_val); /* (checked by sizes) */
		for (i = 0; i < r->n_fit; i++)
			p = put_u(p, (uint64_t)r->coef_nnz[i], 8);
		for (i = 0; i < n_vox; i++)
			p = put_u(p, r->coef_vox[i], 4);
		m = n_val;
	} else {
		m = r->n_fit * r->n_coef;
	}
	for (i = 0; i < m; i++)
		p = put_d(p, r->coef[i]);
	p = put_u(p, (uint64_t)msg_len, 2);
	memcpy(p, r->msg, msg_len);
	*buf = out;
	*len = n;
	return 0;
}

static int truncated(size_t len, nidec_err *err)
{
	return nidec_fail(err, NIDEC_EFORMAT,
			  "packed task result of %zu bytes is truncated or corrupt", len);
}

/* Read a u64 count of `size`-byte items that must fit in what is left. */
static int get_count(const unsigned char **p, const unsigned char *end, uint64_t per,
		     size_t *out)
{
	uint64_t n;

	if (end - *p < 8)
		return -1;
	n = get_u(*p, 8);
	*p += 8;
	if (per && n > (uint64_t)(end - *p) / per)
		return -1;
	*out = (size_t)n;
	return 0;
}

int nidec_result_unpack(const void *buf, size_t len, nidec_result **out, nidec_err *err)
{
	const unsigned char *p = buf, *end = p + len;
	nidec_result *r;
	uint64_t v;
	size_t i, m, msg_len;
	unsigned char sparse;
	int rc = 0;

	if (len < RESULT_FIXED || memcmp(p, RESULT_MAGIC, 4) != 0)
		return nidec_fail(err, NIDEC_EFORMAT, "bytes of %zu are not a packed task result (bad magic)", len);
	v = get_u(p + 4, 4);
	if (v != RESULT_VERSION)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "packed task result has version %u, this nidec reads version %u; rerun the tasks with one nidec build",
				  (unsigned)v, RESULT_VERSION);
	r = nidec_calloc_e(1, sizeof(*r), "task result", err);
	if (!r)
		return NIDEC_ENOMEM;
	p += 8;
	r->task = (size_t)get_u(p, 8);
	r->status = (int)(int32_t)(uint32_t)get_u(p + 8, 4);
	r->n_iter = (int)(int32_t)(uint32_t)get_u(p + 12, 4);
	r->seconds = get_d(p + 16);
	p += 24;
	if (get_count(&p, end, 20, &r->n_fit) < 0) {
		rc = truncated(len, err);
		goto fail;
	}
	if (r->n_fit) {
		r->score = nidec_malloc_e(r->n_fit, sizeof(double), "scores", err);
		r->C = nidec_malloc_e(r->n_fit, sizeof(double), "C values", err);
		r->fit_iter = nidec_malloc_e(r->n_fit, sizeof(int), "iterations", err);
		if (!r->score || !r->C || !r->fit_iter) {
			rc = NIDEC_ENOMEM;
			goto fail;
		}
		for (i = 0; i < r->n_fit; i++, p += 20) {
			r->score[i] = get_d(p);
			r->C[i] = get_d(p + 8);
			r->fit_iter[i] = (int)(int32_t)(uint32_t)get_u(p + 16, 4);
		}
	}
	if (get_count(&p, end, 0, &r->n_test) < 0 ||
	    (r->n_fit && r->n_test > (size_t)((end - p) / 8) / r->n_fit)) {
		rc = truncated(len, err);
		goto fail;
	}
	m = r->n_fit * r->n_test;
	if (m) {
		r->decision = nidec_malloc_e(m, sizeof(double), "decision values", err);
		if (!r->decision) {
			rc = NIDEC_ENOMEM;
			goto fail;
		}
		for (i = 0; i < m; i++, p += 8)
			r->decision[i] = get_d(p);
	}
	if (get_count(&p, end, 0, &r->n_coef) < 0 || end - p < 1) {
		rc = truncated(len, err);
		goto fail;
	}
	sparse = *p++;
	if (sparse > 1 || (sparse && (r->n_coef == 0 || r->n_coef - 1 > UINT32_MAX))) {
		rc = truncated(len, err);
		goto fail;
	}
	if (sparse) {
		size_t n_vox = 0, f, k, at = 0;
		if (r->n_fit > (size_t)(end - p) / 8) {
			rc = truncated(len, err);
			goto fail;
		}
		r->coef_nnz = nidec_malloc_e(r->n_fit ? r->n_fit : 1, sizeof(size_t), "weights", err);
		if (!r->coef_nnz) {
			rc = NIDEC_ENOMEM;
			goto fail;
		}
		for (f = 0; f < r->n_fit; f++, p += 8) {
			uint64_t nz = get_u(p, 8);
			/* each stored voxel takes 12 bytes, so nnz is bounded by the buffer */
			if (nz >= r->n_coef || nz > (uint64_t)(end - p) / 12 || n_vox > (size_t)(end - p) / 12 - nz) {
				rc = truncated(len, err);
				goto fail;
			}
			r->coef_nnz[f] = (size_t)nz;
			n_vox += (size_t)nz;
		}
		if (n_vox > (size_t)(end - p) / 4 || (size_t)(end - p) - 4 * n_vox < 8 * (n_vox + r->n_fit)) {
			rc = truncated(len, err);
			goto fail;
		}
		r->coef_vox = nidec_malloc_e(n_vox ? n_vox : 1, sizeof(uint32_t), "weights", err);
		r->coef = nidec_malloc_e(n_vox + r->n_fit ? n_vox + r->n_fit : 1, sizeof(double), "weights", err);
		if (!r->coef_vox || !r->coef) {
			rc = NIDEC_ENOMEM;
			goto fail;
		}
		for (f = 0; f < r->n_fit; f++)
			for (k = 0; k < r->coef_nnz[f]; k++, at++, p += 4) {
				uint32_t v32 = (uint32_t)get_u(p, 4);
				if ((size_t)v32 >= r->n_coef - 1 || (k > 0 && v32 <= r->coef_vox[at - 1])) {
					rc = nidec_fail(err, NIDEC_EFORMAT,
							"packed task result of %zu bytes has a bad sparse weight index", len);
					goto fail;
				}
				r->coef_vox[at] = v32;
			}
		for (k = 0; k < n_vox + r->n_fit; k++, p += 8)
			r->coef[k] = get_d(p);
		m = 0;
	} else if (r->n_fit && r->n_coef > (size_t)((end - p) / 8) / r->n_fit) {
		rc = truncated(len, err);
		goto fail;
	} else {
		m = r->n_fit * r->n_coef;
	}
	if (m) {
		r->coef = nidec_malloc_e(m, sizeof(double), "weights", err);
		if (!r->coef) {
			rc = NIDEC_ENOMEM;
			goto fail;
		}
		for (i = 0; i < m; i++, p += 8)
			r->coef[i] = get_d(p);
	}
	if (end - p < 2) {
		rc = truncated(len, err);
		goto fail;
	}
	msg_len = (size_t)get_u(p, 2);
	p += 2;
	if (msg_len != (size_t)(end - p) || msg_len >= sizeof(r->msg)) {
		rc = truncated(len, err);
		goto fail;
	}
	memcpy(r->msg, p, msg_len);
	r->msg[msg_len] = '\0';
	*out = r;
	return 0;
fail:
	nidec_result_free(&r);
	return rc;
}
