/*
 * result.c - a task result as portable bytes, for MPI messages and the
 * checkpoint ledger (see include/nidec/plan.h), and back.
 *
 * Format, version 2, every integer and double little-endian whatever the
 * host (doubles as their IEEE-754 bit patterns, so values round-trip
 * exactly):
 *     "NIDR"  u32 version  u64 task  i32 status  i32 n_iter  f64 seconds
 *     u64 n_fit  then per fit: f64 score  f64 C  i32 iterations
 *     u64 n_test  f64 decision[n_fit * n_test]
 *     u64 n_coef  f64 coef[n_fit * n_coef]
 *     u16 msg_len  msg bytes (no NUL)
 * (Version 1 held one fit per task.)  The reader checks the magic, the
 * version and every length against the buffer, so a truncated or foreign
 * record is an error, never an overread.  Depends on base only.
 */
#include <stdint.h>
#include <string.h>

#include "nidec/mem.h"
#include "nidec/plan.h"

#define RESULT_MAGIC "NIDR"
#define RESULT_VERSION 2u
#define RESULT_FIXED 58 /* 4+4+8+4+4+8, n_fit, n_test, n_coef (8 each), msg_len (2) */

void nidec_result_free(nidec_result **r)
{
	if (!r || !*r)
		return;
	nidec_free((*r)->score);
	nidec_free((*r)->C);
	nidec_free((*r)->fit_iter);
	nidec_free((*r)->decision);
	nidec_free((*r)->coef);
	nidec_free(*r);
	*r = NULL;
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
	    nidec_mul_size(dec, 8, &dec) < 0 || nidec_mul_size(r->n_fit, r->n_coef, &coef) < 0 ||
	    nidec_mul_size(coef, 8, &coef) < 0)
		return -1;
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
	m = r->n_fit * r->n_coef;
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
	if (get_count(&p, end, 0, &r->n_coef) < 0 ||
	    (r->n_fit && r->n_coef > (size_t)((end - p) / 8) / r->n_fit)) {
		rc = truncated(len, err);
		goto fail;
	}
	m = r->n_fit * r->n_coef;
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
