/*
 * err.c - caller-handled errors: see include/nidec/err.h for the rules.
 * Depends on libc only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nidec/err.h"

int nidec_fail(nidec_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int nidec_err_prefix(nidec_err *err, const char *fmt, ...)
{
	char head[NIDEC_ERR_MSG_MAX], old[NIDEC_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return NIDEC_EINTERNAL;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* head + old may not fit: keep as much of both as possible */
	{
		size_t lh = strnlen(head, sizeof(head) - 1), lo = strnlen(old, sizeof(old) - 1);
		if (lh + lo >= sizeof(err->msg))
			lo = sizeof(err->msg) - 1 - lh;
		memcpy(err->msg, head, lh);
		memcpy(err->msg + lh, old, lo);
		err->msg[lh + lo] = '\0';
	}
	return err->code;
}

void nidec_err_clear(nidec_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

const char *nidec_err_name(int code)
{
	switch (code) {
	case NIDEC_OK: return "ok";
	case NIDEC_EIO: return "I/O error";
	case NIDEC_EFORMAT: return "bad file format";
	case NIDEC_EINPUT: return "bad input";
	case NIDEC_ENOMEM: return "out of memory";
	case NIDEC_EMPI: return "MPI error";
	case NIDEC_ESOLVER: return "solver error";
	case NIDEC_EINTR: return "interrupted";
	case NIDEC_EUSAGE: return "bad command line";
	case NIDEC_EBUSY: return "in use by another run";
	default: return "internal error";
	}
}
