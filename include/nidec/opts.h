/*
 * opts.h - one table-driven command-line parser for every command (after
 * git's parse-options.h).
 *
 * A command declares its options once, as an array of nidec_opt ended by
 * NIDEC_OPT_END(): long and short name, where the value goes, its type
 * (flag, counter, string, whole number or number with a range, one of a
 * list, a config key, `--set`), its default and its help text.  From that
 * one table nidec_opt_parse() parses argv and --help is generated (every
 * option with its default), so the two cannot drift apart; a hidden
 * --list-options prints the table for scripts (tests/e2e/t0050-options.sh
 * tests every option of every command from it), and a hidden --man (or
 * --man=SUMMARY) the command's manual page, in roff, from the same table
 * and texts (`make man`, `nidec help --man CMD`).
 *
 *     const char *dir = NULL;
 *     int runs = 12, force = 0;
 *     nidec_opt_sets sets = NIDEC_OPT_SETS_INIT;
 *     nidec_opt opts[] = {
 *         NIDEC_OPT_STRING('o', "output", &dir, "DIR", NULL, "output directory"),
 *         NIDEC_OPT_INT(0, "runs", &runs, "N", 1, 9999, "12", "runs, one file each"),
 *         NIDEC_OPT_FLAG(0, "force", &force, "convert again"),
 *         NIDEC_OPT_CONFIG(0, "progress", "output.progress", &sets, "SEC", "seconds between lines"),
 *         NIDEC_OPT_HELP(),
 *         NIDEC_OPT_END()
 *     };
 *     nidec_opt_cmd cmd = { "nidec synth", "usage: nidec synth -o DIR [options]\n",
 *                           "What it does.\n", NULL, opts, NULL, 0 };
 *     rc = nidec_opt_parse(&cmd, argc, argv, &out, &err);
 *     ... nidec_opt_sets_release(&sets);
 *
 * Syntax: `--name VALUE`, `--name=VALUE`, `-o VALUE`, `-oVALUE`, short
 * flags bundled (`-vv`, `-qv`); a value is the next argument whatever it
 * looks like (`--hrf-shift -2`); `--` ends the options; other arguments are
 * the positional ones (NIDEC_OPT_ARG entries, in order).  Options are
 * stored as they come, so a later one wins; --set and config-key options
 * are kept in order in a nidec_opt_sets for the caller to apply after
 * reading the config file (they win over it).
 *
 * Errors: an unknown option (with a "did you mean"), a missing value, a
 * flag given a value, a value that is not of its type or out of its range,
 * a bad --set (checked against the command's key schemas, keyfile.h), a
 * missing or extra positional argument: nidec_opt_parse() returns
 * NIDEC_EUSAGE with one line in `err` naming the option as typed; the
 * caller prefixes the command ("nidec run: ") and exits 2.  Nothing is
 * printed here: every MPI rank parses the same argv and only rank 0 prints.
 * Not collective; libc only (and the key schemas of keyfile.h).
 */
#ifndef NIDEC_OPTS_H
#define NIDEC_OPTS_H

#include <stddef.h>

#include "nidec/err.h"
#include "nidec/keyfile.h"
#include "nidec/sbuf.h"

enum nidec_option_type {
	NIDEC_OPTION_END = 0,
	NIDEC_OPTION_GROUP,    /* a heading in --help */
	NIDEC_OPTION_ARG,      /* a positional argument: const char ** (or nidec_opt_rest *) */
	NIDEC_OPTION_HELP,     /* -h, --help: the generated help */
	NIDEC_OPTION_FLAG,     /* int *: set to 1 */
	NIDEC_OPTION_COUNT,    /* int *: one more each time (-v -v, -vv) */
	NIDEC_OPTION_STRING,   /* const char **: the value, borrowed from argv */
	NIDEC_OPTION_INT,      /* int *: a whole number in [lo, hi] */
	NIDEC_OPTION_DOUBLE,   /* double *: a finite number in [lo, hi] */
	NIDEC_OPTION_CHOICE,   /* int *: the value of one of `names` */
	NIDEC_OPTION_CALLBACK, /* cb(opt, value, err) parses the value itself */
	NIDEC_OPTION_CONFIG,   /* nidec_opt_sets *: sets the config key `key` */
	NIDEC_OPTION_SET       /* nidec_opt_sets *: --set section.key=value */
};

/* Flags of an option (with NIDEC_KEY_LO_OPEN / HI_OPEN for ranges). */
enum {
	NIDEC_OPT_HIDDEN = 0x100,   /* parsed, not shown in --help nor listed */
	NIDEC_OPT_OPTIONAL = 0x200, /* ARG: may be missing */
	NIDEC_OPT_MANY = 0x400      /* ARG: takes this and every later positional
				       argument (value: nidec_opt_rest *) */
};

/* Flags of a command. */
enum {
	NIDEC_OPT_STOP_AT_ARG = 1   /* options end at the first positional argument
				       (main: the rest belongs to the command) */
};

typedef struct nidec_opt nidec_opt;

typedef struct nidec_opt {
	int type;                    /* enum nidec_option_type */
	int short_name;              /* 'o', or 0 */
	const char *long_name;       /* "output" (no dashes), or NULL */
	void *value;                 /* where the value goes (see the types) */
	const char *argh;            /* the value's name in help: "DIR", "SEC" */
	const char *help;            /* one sentence or two, no final period */
	const char *def;             /* default shown in help ("12"), NULL: none */
	double lo, hi;               /* INT, DOUBLE: range (HUGE_VAL: none) */
	int flags;                   /* NIDEC_OPT_*, NIDEC_KEY_LO_OPEN, ... */
	const nidec_key_name *names; /* CHOICE: accepted values, { NULL, 0 }-terminated */
	const char *key;             /* CONFIG: "section.key" */
	const char *unit;            /* "seconds": said when the value is missing */
	/* CALLBACK: parse `value` into opt->value; 0, or an error whose
	 * message names the option (any code but NIDEC_ENOMEM becomes
	 * NIDEC_EUSAGE). */
	int (*cb)(const nidec_opt *opt, const char *value, nidec_err *err);
} nidec_opt;

/* The positional arguments of a NIDEC_OPT_MANY entry (into argv). */
typedef struct nidec_opt_rest {
	char **argv;
	int argc;
} nidec_opt_rest;

/* Config overrides from the command line, in command-line order (the last
 * one of a key wins): --set values and config-key options. */
typedef struct nidec_opt_sets {
	char **assign;  /* "section.key=value" */
	char **option;  /* the option as typed: "--set", "--progress", "-o" */
	size_t n;
} nidec_opt_sets;

#define NIDEC_OPT_SETS_INIT { NULL, NULL, 0 }

/* Frees every override; `s` is left empty and reusable. */
void nidec_opt_sets_release(nidec_opt_sets *s);

typedef struct nidec_opt_cmd {
	const char *prog;     /* "nidec run": in messages ("see 'nidec run --help'") */
	const char *usage;    /* "usage: nidec run CONFIG [options]\n" (one line or more) */
	const char *doc;      /* what the command does (before the options), or NULL */
	const char *footer;   /* after the options: exit statuses, outputs; or NULL */
	const nidec_opt *opts;/* ended by NIDEC_OPT_END() */
	/* the key schemas --set and config-key options are checked against
	 * (NULL-terminated), or NULL when the command reads no config */
	const nidec_keyschema *const *schemas;
	int flags;            /* NIDEC_OPT_STOP_AT_ARG */
} nidec_opt_cmd;

enum { NIDEC_OPT_SHOWN = 1 };

/*
 * Parse argv[1..argc) (argv[0] is the command's name) with cmd's table,
 * storing values as they come.  Positional arguments are moved, in order,
 * to argv[1..] (so NIDEC_OPT_MANY can point into argv).  Returns
 *   0                 parsed: go on;
 *   NIDEC_OPT_SHOWN   -h/--help, --list-options or --man: the text is in `out`,
 *                     print it on stdout and exit 0;
 *   NIDEC_EUSAGE      a bad command line: one line in `err`;
 *   NIDEC_ENOMEM      out of memory (storing an override).
 * On error the values stored so far stay (the caller releases `sets`).
 */
int nidec_opt_parse(const nidec_opt_cmd *cmd, int argc, char **argv, nidec_sbuf *out,
		    nidec_err *err);

/* The help text: usage, doc, every option not hidden (with its value's
 * name, help, range or config key and default, wrapped to 80 columns),
 * footer.  0 or NIDEC_ENOMEM. */
int nidec_opt_help(const nidec_opt_cmd *cmd, nidec_sbuf *out);

/* One line per option not hidden, tab-separated:
 *     long  short  type  range  key
 * e.g. "--runs\t-\tint\t[1,9999]\t-", "--output\t-o\tstring\t-\t-",
 * "--progress\t-\tdouble\t[0,1e+06]\toutput.progress"; "-" when empty.
 * Types: flag count help string int double choice custom set, and for
 * config-key options the key's type (string list choice int double
 * doubles).  Ranges: [lo,hi] with ( ) for open ends and inf, or the
 * choices a|b|c.  0 or NIDEC_ENOMEM. */
int nidec_opt_list(const nidec_opt_cmd *cmd, nidec_sbuf *out);

/* The manual page nidec-CMD(1) in roff (man(7)): NAME (with `summary`,
 * or the first line of the doc), SYNOPSIS (the usage), DESCRIPTION (the
 * doc), OPTIONS (every option not hidden, with its default or config
 * key), NOTES (the footer), then `extra` (raw roff: more sections, SEE
 * ALSO included) or, when NULL, SEE ALSO nidec(1).  0 or NIDEC_ENOMEM. */
int nidec_opt_man(const nidec_opt_cmd *cmd, const char *summary, const char *extra,
		  nidec_sbuf *out);

/* ---- table entries --------------------------------------------------------- */

#define NIDEC_OPT_END() { .type = NIDEC_OPTION_END }
#define NIDEC_OPT_GROUP(text) { .type = NIDEC_OPTION_GROUP, .help = (text) }
#define NIDEC_OPT_ARG(name, ptr, fl, h) \
	{ .type = NIDEC_OPTION_ARG, .argh = (name), .value = (ptr), .flags = (fl), .help = (h) }
#define NIDEC_OPT_HELP() \
	{ .type = NIDEC_OPTION_HELP, .short_name = 'h', .long_name = "help", .help = "this text" }
#define NIDEC_OPT_FLAG(s, l, ptr, h) \
	{ .type = NIDEC_OPTION_FLAG, .short_name = (s), .long_name = (l), .value = (ptr), .help = (h) }
#define NIDEC_OPT_COUNT(s, l, ptr, h) \
	{ .type = NIDEC_OPTION_COUNT, .short_name = (s), .long_name = (l), .value = (ptr), .help = (h) }
#define NIDEC_OPT_STRING(s, l, ptr, ah, d, h) \
	{ .type = NIDEC_OPTION_STRING, .short_name = (s), .long_name = (l), .value = (ptr), \
	  .argh = (ah), .def = (d), .help = (h) }
#define NIDEC_OPT_INT(s, l, ptr, ah, min, max, d, h) \
	{ .type = NIDEC_OPTION_INT, .short_name = (s), .long_name = (l), .value = (ptr), \
	  .argh = (ah), .lo = (min), .hi = (max), .def = (d), .help = (h) }
#define NIDEC_OPT_DOUBLE(s, l, ptr, ah, min, max, fl, u, d, h) \
	{ .type = NIDEC_OPTION_DOUBLE, .short_name = (s), .long_name = (l), .value = (ptr), \
	  .argh = (ah), .lo = (min), .hi = (max), .flags = (fl), .unit = (u), .def = (d), .help = (h) }
#define NIDEC_OPT_CHOICE(s, l, ptr, ah, nm, d, h) \
	{ .type = NIDEC_OPTION_CHOICE, .short_name = (s), .long_name = (l), .value = (ptr), \
	  .argh = (ah), .names = (nm), .def = (d), .help = (h) }
#define NIDEC_OPT_CALLBACK(s, l, ptr, ah, d, h, fn) \
	{ .type = NIDEC_OPTION_CALLBACK, .short_name = (s), .long_name = (l), .value = (ptr), \
	  .argh = (ah), .def = (d), .help = (h), .cb = (fn) }
/* Sets config key k ("output.progress"); its type, range, unit and
 * default come from the command's schemas. */
#define NIDEC_OPT_CONFIG(s, l, k, sets, ah, h) \
	{ .type = NIDEC_OPTION_CONFIG, .short_name = (s), .long_name = (l), .key = (k), \
	  .value = (sets), .argh = (ah), .help = (h) }
#define NIDEC_OPT_SET(sets, h) \
	{ .type = NIDEC_OPTION_SET, .long_name = "set", .value = (sets), .argh = "SEC.KEY=VAL", \
	  .help = (h) }

#endif
