/*
 * err.h - caller-handled errors (after git's api-error-handling and PETSc's
 * checked calls).
 *
 * Rules:
 *  - A function that can fail returns int: 0 on success, a negative NIDEC_E*
 *    code on failure, and takes `nidec_err *err` as its last argument.
 *  - On success `err` is left untouched, so calls chain.  On failure it holds
 *    one complete, printable line naming the file, the field and the fix.
 *  - Only src/cli/ turns an error into output and an exit status.
 *
 * Usage:
 *     nidec_err err = NIDEC_ERR_INIT;
 *     if (nidec_ds_open(path, &ds, &err) < 0)
 *         return nidec_die(&err);
 *
 *     return nidec_fail(err, NIDEC_EIO, "cannot read '%s': %s", path, strerror(errno));
 *     NIDEC_TRY(nidec_ds_read_rows(ds, r0, n, buf, err));
 */
#ifndef NIDEC_ERR_H
#define NIDEC_ERR_H

#include <stddef.h>

enum {
	NIDEC_OK = 0,
	NIDEC_EIO = -1,      /* a file could not be read or written */
	NIDEC_EFORMAT = -2,  /* a file is not what it should be */
	NIDEC_EINPUT = -3,   /* user input (config, labels, options) is invalid */
	NIDEC_ENOMEM = -4,   /* an allocation failed or a size overflowed */
	NIDEC_EMPI = -5,     /* an MPI call failed */
	NIDEC_ESOLVER = -6,  /* a numerical step failed */
	NIDEC_EINTR = -7,    /* interrupted by a signal (SIGTERM from Slurm) */
	NIDEC_EINTERNAL = -8, /* a bug: an invariant of ours did not hold */
	NIDEC_EUSAGE = -9,    /* the command line is invalid (an option, a --set
				 value); src/cli exits with status 2 */
	NIDEC_EBUSY = -10     /* an output directory is in use by another run
				 (file.h, nidec_lock_take); exit status 1 */
};

#define NIDEC_ERR_MSG_MAX 1024

typedef struct nidec_err {
	int code;                     /* 0 while no error was recorded */
	char msg[NIDEC_ERR_MSG_MAX];  /* one line, no trailing newline */
} nidec_err;

#define NIDEC_ERR_INIT { 0, { 0 } }

/*
 * Record an error in `err` (which may be NULL: then nothing is recorded) and
 * return `code`, so that a function can end with `return nidec_fail(...)`.
 * The message style is git's: lowercase, no final period, subject quoted.
 */
int nidec_fail(nidec_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the message already in `err` with more context ("'%s': "); returns err->code. */
int nidec_err_prefix(nidec_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Forget a recorded error: err becomes NIDEC_ERR_INIT again. */
void nidec_err_clear(nidec_err *err);

/* Short name of a code ("I/O error", "bad input", ...), for logs. */
const char *nidec_err_name(int code);

/* Propagate a failure: evaluate `expr`, return its value if negative. */
#define NIDEC_TRY(expr)                        \
	do {                                   \
		int nidec_try_rc_ = (expr);    \
		if (nidec_try_rc_ < 0)         \
			return nidec_try_rc_;  \
	} while (0)

/* Same, but jump to a cleanup label with rc set (functions with a `done:`). */
#define NIDEC_TRY_GOTO(rc, expr, label)        \
	do {                                   \
		(rc) = (expr);                 \
		if ((rc) < 0)                  \
			goto label;            \
	} while (0)

#endif
