/*
 * keyfile.h - INI files read against a table of known keys (a schema),
 * with `section.key=value` overrides: the one loader behind the analysis
 * config (cfg.h) and the sweep file (src/cli/sweep.h).
 *
 * A schema is a static table of nidec_key, one line per key: its section,
 * name, type (with range or accepted names), default and unit.  Everything
 * else comes from the table: unknown sections and keys are errors with a
 * "did you mean" (suggest.h: closest key of the same section first, keys of
 * other sections when close, and a key named like a value of an enumerated
 * key: `nilearn = true` -> `compat = nilearn`), a key given twice in one
 * file is an error, values are checked by type and range with messages that
 * name the origin, the key, the value and the fix, and the option parser
 * (opts.h) checks `--set` and config-key options at parse time against the
 * same table.  Adding a key is one table line plus the line that reads it
 * (nidec_keyfile_int(), ...) into its field.
 *
 * Lifecycle:
 *     nidec_keyfile kf;
 *     nidec_keyfile_init(&kf, &schema);
 *     nidec_keyfile_load(&kf, "a.ini", &err);           the file's values
 *     nidec_keyfile_set(&kf, "cv.seed=3", "--set", &err); command-line overrides
 *     nidec_keyfile_double(&kf, K_TOL, &tol, &err);     typed values, checked
 *     nidec_keyfile_release(&kf);                       back to an empty, initialised kf
 *
 * Values are kept as strings, each with its origin ("config 'a.ini'",
 * "--set cv.seed", "--output") and whether it came from the command line.
 * An invalid value from the command line fails with NIDEC_EUSAGE (exit
 * status 2, a bad command line), one from a file with NIDEC_EINPUT (1).
 * Keys not given take the default, or the alternative default when `alt`
 * is set (cfg: compat = nilearn).  Not collective; no MPI; I/O only to read
 * the INI file (libinih's syntax, read by keyfile.c itself: lines of any
 * length; a NUL byte, a directory and an INI continuation line are
 * errors).
 */
#ifndef NIDEC_KEYFILE_H
#define NIDEC_KEYFILE_H

#include <stddef.h>

#include "nidec/err.h"

enum nidec_key_type {
	NIDEC_KEY_STRING,  /* any text; empty = not set */
	NIDEC_KEY_LIST,    /* comma-separated strings (blanks around items dropped) */
	NIDEC_KEY_ENUM,    /* one of `names` */
	NIDEC_KEY_INT,     /* a whole number in [lo, hi] */
	NIDEC_KEY_DOUBLE,  /* a finite number in [lo, hi] */
	NIDEC_KEY_DOUBLES  /* comma-separated numbers, each in [lo, hi], at least one */
};

enum {
	NIDEC_KEY_LO_OPEN = 1, /* lo itself is out of range */
	NIDEC_KEY_HI_OPEN = 2, /* hi itself is out of range */
	NIDEC_KEY_AUTO = 4,    /* DOUBLE: "auto" or empty also accepted (no number) */
	NIDEC_KEY_NONE = 8     /* DOUBLE: "none" or empty also accepted (no number) */
};

/* An accepted name of an enumerated key and the value it stands for. */
typedef struct nidec_key_name {
	const char *name;
	int val;
} nidec_key_name;

typedef struct nidec_key {
	const char *section;
	const char *name;
	int type;                     /* enum nidec_key_type */
	const char *def;              /* default, as written in the file */
	const char *alt_def;          /* default when kf->alt is set; NULL = def */
	const nidec_key_name *names;  /* ENUM: accepted names, { NULL, 0 }-terminated */
	double lo, hi;                /* INT, DOUBLE, DOUBLES: range (HUGE_VAL: none) */
	int flags;                    /* NIDEC_KEY_LO_OPEN, ... */
	const char *unit;             /* "seconds": shown in help and option errors */
	/* Extra rule once type and range hold: NULL if `value` is fine, else the
	 * fix ("give a whole number of samples (e.g. 30) or ..."). */
	const char *(*check)(const char *value);
} nidec_key;

typedef struct nidec_keyschema {
	const char *what;      /* the file's kind in messages: "config", "sweep file" */
	const nidec_key *keys;
	size_t n_keys;
	const char *doc;       /* where every key is described: "configs/default.ini" */
	const char *hint;      /* added to "unknown section" errors, or NULL */
	const char *example;   /* an override for messages: "cv.scheme=kfold" */
} nidec_keyschema;

typedef struct nidec_keyval {
	char *raw;     /* the value as given, NULL = not given */
	char *origin;  /* where it came from: "config 'a.ini'", "--set cv.seed" */
	int cli;       /* 1 if from the command line */
	const char *def; /* default chosen by another key (static, not owned), or NULL */
} nidec_keyval;

typedef struct nidec_keyfile {
	const nidec_keyschema *schema;
	nidec_keyval *val;     /* schema->n_keys entries, allocated at the first value */
	char *source;          /* the file loaded last, or NULL */
	int alt;               /* use the keys' alternative defaults */
} nidec_keyfile;

/* ---- the schema ---------------------------------------------------------- */

/* Index of [section] name in the schema, or -1. */
long nidec_keyschema_find(const nidec_keyschema *s, const char *section, const char *name);

/* Index of the key "section.key" (as in --set) among the schemas (a
 * NULL-terminated list), or -1; *schema gets its schema. */
long nidec_keyschemas_find(const nidec_keyschema *const *schemas, const char *dotted,
			   const nidec_keyschema **schema);

/*
 * Check `value` against `key` (a schema's, or one made up for an option)
 * and read it: *num gets the number of an INT or DOUBLE (NaN for "auto"),
 * *ival the value of an ENUM name; either may be NULL.  On failure
 * returns `code` with "<lead> = '<value>' is invalid; <fix>" (or "is
 * unknown; did you mean ...") in `err`.  Allocates nothing.
 */
int nidec_key_read(const nidec_key *key, const char *value, const char *lead, int code,
		   double *num, int *ival, nidec_err *err);

/*
 * Check a value given on the command line for key k (type, range, check):
 * 0, or NIDEC_EUSAGE with `err` naming `origin`, the key, the value and the
 * fix.  Allocates nothing.
 */
int nidec_key_check(const nidec_keyschema *s, size_t k, const char *value, const char *origin,
		    nidec_err *err);

/* Check one `--set section.key=value` against the schemas (a NULL-terminated
 * list): malformed, unknown section or key (with a suggestion), bad value.
 * `option` names the option in messages ("--set").  0 or NIDEC_EUSAGE. */
int nidec_keyschemas_check_set(const nidec_keyschema *const *schemas, const char *assignment,
			       const char *option, nidec_err *err);

/* What a valid value of `key` is, for messages and help: "a whole number
 * from 2 to 100000", "a number in (0, 100]", "one of: none zscore",
 * "auto or a number in (0, 1)", "a comma-separated list".  Returns buf. */
const char *nidec_key_describe(const nidec_key *key, char *buf, size_t n);

/* ---- values -------------------------------------------------------------- */

void nidec_keyfile_init(nidec_keyfile *kf, const nidec_keyschema *schema);

/* Read an INI file.  On error kf keeps the values read before the bad line
 * and `err` names the file, the line or key, and the fix (NIDEC_EINPUT,
 * NIDEC_EIO if it cannot be read, NIDEC_ENOMEM). */
int nidec_keyfile_load(nidec_keyfile *kf, const char *path, nidec_err *err);

/* Set [section] name (a later value wins); an unknown key is an error
 * naming `origin`, with a suggestion.  `cli`: it comes from the command
 * line (its errors are then NIDEC_EUSAGE). */
int nidec_keyfile_put(nidec_keyfile *kf, const char *section, const char *name, const char *value,
		      const char *origin, int cli, nidec_err *err);

/* Apply "section.key=value" from the command line; the origin is
 * "<option> section.key" for --set (option NULL or "--set"), else the option
 * itself ("--checkpoint-interval").  Errors are NIDEC_EUSAGE. */
int nidec_keyfile_set(nidec_keyfile *kf, const char *assignment, const char *option,
		      nidec_err *err);

/* The effective value of key k: as given, else its default; never NULL. */
const char *nidec_keyfile_value(const nidec_keyfile *kf, size_t k);
/* Make `def` (a static string) key k's default in this keyfile, in place of
 * the schema's: a default that depends on another key's value (cfg: scoring
 * is r2 under task = regression).  A value given still wins; the key stays
 * "not set".  NULL restores the schema's default.  0 or NIDEC_ENOMEM. */
int nidec_keyfile_default(nidec_keyfile *kf, size_t k, const char *def, nidec_err *err);
/* Was key k given (file, command line or put)? */
int nidec_keyfile_is_set(const nidec_keyfile *kf, size_t k);
/* Where key k's value came from ("default" if not given). */
const char *nidec_keyfile_origin(const nidec_keyfile *kf, size_t k);
/* Did key k's value come from the command line? */
int nidec_keyfile_from_cli(const nidec_keyfile *kf, size_t k);

/*
 * Typed values of key k, checked against the schema.  On error the output
 * is untouched and `err` says "<origin>: [section] key = 'value' is
 * invalid; <fix>" (NIDEC_EUSAGE for a command-line value, else
 * NIDEC_EINPUT).  Strings: *out = a copy, or NULL when empty (the old
 * string is freed).  Lists: a new array (nidec_strv_free); the old one is
 * freed.  DOUBLE with NIDEC_KEY_AUTO: "auto" and "" give NaN; with
 * NIDEC_KEY_NONE: "none" and "" give NaN.
 */
int nidec_keyfile_string(const nidec_keyfile *kf, size_t k, char **out, nidec_err *err);
int nidec_keyfile_list(const nidec_keyfile *kf, size_t k, char ***out, size_t *n, nidec_err *err);
int nidec_keyfile_enum(const nidec_keyfile *kf, size_t k, int *out, nidec_err *err);
int nidec_keyfile_int(const nidec_keyfile *kf, size_t k, int *out, nidec_err *err);
int nidec_keyfile_long(const nidec_keyfile *kf, size_t k, long *out, nidec_err *err);
int nidec_keyfile_double(const nidec_keyfile *kf, size_t k, double *out, nidec_err *err);
int nidec_keyfile_doubles(const nidec_keyfile *kf, size_t k, double **out, size_t *n,
			  nidec_err *err);

/* Fail on key k's effective value with `fix` (for rules between keys or
 * after a value was read): "<origin>: [section] key = 'value' is invalid;
 * <fix>", coded as a value of that origin. */
int nidec_keyfile_fail(const nidec_keyfile *kf, size_t k, const char *fix, nidec_err *err);

/* Frees every value; kf is left initialised with the same schema. */
void nidec_keyfile_release(nidec_keyfile *kf);

/* ---- lists --------------------------------------------------------------- */

/* Split "a, b ,c" at commas into trimmed, non-empty strings (caller frees
 * each and the array with nidec_strv_free). */
int nidec_split_list(const char *s, char ***out, size_t *n, nidec_err *err);
void nidec_strv_free(char **v, size_t n);

#endif
