/*
 * opts.c - the table-driven command-line parser, its --help, its
 * --list-options and its manual page (--man; see include/nidec/opts.h).
 *
 * One pass over argv: each option is looked up in the table, its value
 * taken (inline after '=' or glued to a short name, else the next
 * argument), checked by type and stored; positional arguments are gathered
 * at the front of argv and handed to the NIDEC_OPT_ARG entries at the end.
 * Numbers and choices are checked by keyfile.c's parse_value (through
 * nidec_key_read) with a nidec_key made up from the option, and config
 * keys against the command's schemas: one set of rules and messages for
 * the config file, --set and the options.  The first problem ends the
 * parse with one line in `err`; the caller prints it (rank 0 only).
 * Depends on libc only (with keyfile.c and suggest.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/mem.h"
#include "nidec/opts.h"
#include "nidec/suggest.h"
#include "nidec/version.h"

enum { HELP_COLUMN = 23, HELP_WIDTH = 80, PENALTY_KEY = 30 };

/* A space the help's line wrapping keeps ("(default: 10)" stays whole). */
#define NBSP '\001'

static int takes_value(const nidec_opt *o)
{
	return o->type >= NIDEC_OPTION_STRING;
}

static int is_option(const nidec_opt *o)
{
	return o->type >= NIDEC_OPTION_HELP;
}

void nidec_opt_sets_release(nidec_opt_sets *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		nidec_free(s->assign[i]);
		nidec_free(s->option[i]);
	}
	nidec_free(s->assign);
	nidec_free(s->option);
	s->assign = NULL;
	s->option = NULL;
	s->n = 0;
}

/* Append "key=value" (key NULL: `value` is the assignment) from `typed`. */
static int sets_push(nidec_opt_sets *s, const char *key, const char *value, const char *typed,
		     nidec_err *err)
{
	char **a, **o, *assign, *opt;
	size_t n;

	a = nidec_realloc(s->assign, (s->n + 1) * sizeof(*a));
	if (!a)
		goto oom;
	s->assign = a;
	o = nidec_realloc(s->option, (s->n + 1) * sizeof(*o));
	if (!o)
		goto oom;
	s->option = o;
	n = (key ? strlen(key) + 1 : 0) + strlen(value) + 1;
	assign = nidec_malloc(n);
	opt = nidec_strdup(typed);
	if (!assign || !opt) {
		nidec_free(assign);
		nidec_free(opt);
		goto oom;
	}
	if (key)
		snprintf(assign, n, "%s=%s", key, value);
	else
		snprintf(assign, n, "%s", value);
	s->assign[s->n] = assign;
	s->option[s->n] = opt;
	s->n++;
	return 0;
oom:
	return nidec_fail(err, NIDEC_ENOMEM, "out of memory storing option '%s'", typed);
}

/* The schema key of a config-key option (a table error if missing). */
static const nidec_key *config_key(const nidec_opt_cmd *cmd, const nidec_opt *o,
				   const nidec_keyschema **schema, long *k)
{
	const nidec_keyschema *s = NULL;
	long i = cmd->schemas ? nidec_keyschemas_find(cmd->schemas, o->key, &s) : -1;

	if (i < 0)
		return NULL;
	if (schema)
		*schema = s;
	if (k)
		*k = i;
	return &s->keys[i];
}

/* A nidec_key standing for a typed option's value. */
static nidec_key option_key(const nidec_opt *o)
{
	nidec_key key;

	memset(&key, 0, sizeof(key));
	key.section = "";
	key.name = o->long_name ? o->long_name : "";
	key.type = o->type == NIDEC_OPTION_INT ? NIDEC_KEY_INT
		 : o->type == NIDEC_OPTION_CHOICE ? NIDEC_KEY_ENUM : NIDEC_KEY_DOUBLE;
	key.def = o->def ? o->def : "";
	key.names = o->names;
	key.lo = o->lo;
	key.hi = o->hi;
	key.flags = o->flags & (NIDEC_KEY_LO_OPEN | NIDEC_KEY_HI_OPEN);
	key.unit = o->unit;
	return key;
}

/* What the option's value should be: "seconds: a number in [0, 1e+09]". */
static const char *expected(const nidec_opt_cmd *cmd, const nidec_opt *o, char *buf, size_t n)
{
	const nidec_key *key = NULL;
	nidec_key tmp;
	char what[256];

	if (o->type == NIDEC_OPTION_INT || o->type == NIDEC_OPTION_DOUBLE ||
	    o->type == NIDEC_OPTION_CHOICE) {
		tmp = option_key(o);
		key = &tmp;
	} else if (o->type == NIDEC_OPTION_CONFIG) {
		key = config_key(cmd, o, NULL, NULL);
		if (key && (key->type == NIDEC_KEY_STRING || key->type == NIDEC_KEY_LIST))
			key = NULL;
	}
	if (!key) {
		snprintf(buf, n, "%s", o->argh ? o->argh : "a value");
		return buf;
	}
	nidec_key_describe(key, what, sizeof(what));
	if (key->unit)
		snprintf(buf, n, "%s: %s", key->unit, what);
	else
		snprintf(buf, n, "%s", what);
	return buf;
}

/* Store `value` of option o, typed as `typed` ("--runs", "-o"). */
static int apply(const nidec_opt_cmd *cmd, const nidec_opt *o, const char *typed,
		 const char *value, nidec_sbuf *out, nidec_err *err)
{
	char lead[128];
	double num = 0;
	int ival = 0, rc;

	snprintf(lead, sizeof(lead), "option '%s'", typed);
	switch (o->type) {
	case NIDEC_OPTION_HELP:
		if (nidec_opt_help(cmd, out) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory writing the help");
		return NIDEC_OPT_SHOWN;
	case NIDEC_OPTION_FLAG:
		*(int *)o->value = 1;
		return 0;
	case NIDEC_OPTION_COUNT:
		(*(int *)o->value)++;
		return 0;
	case NIDEC_OPTION_STRING:
		*(const char **)o->value = value;
		return 0;
	case NIDEC_OPTION_INT:
	case NIDEC_OPTION_DOUBLE:
	case NIDEC_OPTION_CHOICE: {
		nidec_key key = option_key(o);
		NIDEC_TRY(nidec_key_read(&key, value, lead, NIDEC_EUSAGE, &num, &ival, err));
		if (o->type == NIDEC_OPTION_INT)
			*(int *)o->value = (int)num;
		else if (o->type == NIDEC_OPTION_DOUBLE)
			*(double *)o->value = num;
		else
			*(int *)o->value = ival;
		return 0;
	}
	case NIDEC_OPTION_CALLBACK:
		rc = o->cb(o, value, err);
		if (rc < 0 && rc != NIDEC_ENOMEM) {
			rc = NIDEC_EUSAGE;
			if (err)
				err->code = rc;
		}
		return rc;
	case NIDEC_OPTION_CONFIG: {
		const nidec_keyschema *s = NULL;
		long k = -1;
		if (!config_key(cmd, o, &s, &k))
			return nidec_fail(err, NIDEC_EINTERNAL, "%s: no config key '%s'", lead, o->key);
		NIDEC_TRY(nidec_key_check(s, (size_t)k, value, typed, err));
		return sets_push(o->value, o->key, value, typed, err);
	}
	case NIDEC_OPTION_SET:
		if (!cmd->schemas)
			return nidec_fail(err, NIDEC_EINTERNAL, "%s: the command has no config keys", lead);
		NIDEC_TRY(nidec_keyschemas_check_set(cmd->schemas, value, typed, err));
		return sets_push(o->value, NULL, value, typed, err);
	default:
		return nidec_fail(err, NIDEC_EINTERNAL, "%s: bad table entry", lead);
	}
}

/* "unknown option '--resum'; did you mean '--resume'?" */
static int unknown_option(const nidec_opt_cmd *cmd, const char *typed, nidec_err *err)
{
	nidec_suggestion s = NIDEC_SUGGESTION_INIT;
	const nidec_opt *o, *hit = NULL;
	const nidec_keyschema *const *sc;
	const nidec_key *key = NULL;
	size_t k;

	if (typed[1] == '-') {
		for (o = cmd->opts; o->type != NIDEC_OPTION_END; o++)
			if (is_option(o) && o->long_name && !(o->flags & NIDEC_OPT_HIDDEN) &&
			    nidec_suggest_add(&s, typed + 2, o->long_name, 0, 0))
				hit = o;
		/* a config key given as an option: --scheme -> --set cv.scheme=... */
		for (sc = cmd->schemas; sc && *sc; sc++)
			for (k = 0; k < (*sc)->n_keys; k++)
				if (nidec_suggest_add(&s, typed + 2, (*sc)->keys[k].name, PENALTY_KEY, 0)) {
					key = &(*sc)->keys[k];
					hit = NULL;
				}
	}
	if (hit)
		return nidec_fail(err, NIDEC_EUSAGE, "unknown option '%s'; did you mean '--%s'?", typed,
				  hit->long_name);
	if (key)
		return nidec_fail(err, NIDEC_EUSAGE,
				  "unknown option '%s'; did you mean '--set %s.%s=VALUE'?", typed,
				  key->section, key->name);
	return nidec_fail(err, NIDEC_EUSAGE, "unknown option '%s'; see '%s --help'", typed, cmd->prog);
}

static int missing_value(const nidec_opt_cmd *cmd, const nidec_opt *o, const char *typed,
			 nidec_err *err)
{
	char what[320];

	return nidec_fail(err, NIDEC_EUSAGE, "option '%s' needs a value (%s)", typed,
			  expected(cmd, o, what, sizeof(what)));
}

/* --name, --name=value */
static int parse_long(const nidec_opt_cmd *cmd, int argc, char **argv, int *i, nidec_sbuf *out,
		      nidec_err *err)
{
	const char *a = argv[*i], *name = a + 2, *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	const nidec_opt *o;
	char typed[80];

	snprintf(typed, sizeof(typed), "--%.*s", (int)(n < 70 ? n : 70), name);
	if (n == strlen("list-options") && !strncmp(name, "list-options", n)) {
		if (nidec_opt_list(cmd, out) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory listing the options");
		return NIDEC_OPT_SHOWN;
	}
	if (n == strlen("man") && !strncmp(name, "man", n)) {
		if (nidec_opt_man(cmd, eq ? eq + 1 : NULL, NULL, out) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory writing the manual page");
		return NIDEC_OPT_SHOWN;
	}
	for (o = cmd->opts; o->type != NIDEC_OPTION_END; o++)
		if (is_option(o) && o->long_name && strlen(o->long_name) == n &&
		    !strncmp(o->long_name, name, n))
			break;
	if (o->type == NIDEC_OPTION_END)
		return unknown_option(cmd, typed, err);
	if (!takes_value(o)) {
		if (eq)
			return nidec_fail(err, NIDEC_EUSAGE, "option '%s' takes no value", typed);
		return apply(cmd, o, typed, NULL, out, err);
	}
	if (eq)
		return apply(cmd, o, typed, eq + 1, out, err);
	if (*i + 1 >= argc)
		return missing_value(cmd, o, typed, err);
	return apply(cmd, o, typed, argv[++*i], out, err);
}

/* -q, -vv, -o VALUE, -oVALUE */
static int parse_short(const nidec_opt_cmd *cmd, int argc, char **argv, int *i, nidec_sbuf *out,
		       nidec_err *err)
{
	const char *p;
	const nidec_opt *o;
	char typed[3] = "-?";
	int rc;

	for (p = argv[*i] + 1; *p; p++) {
		typed[1] = *p;
		for (o = cmd->opts; o->type != NIDEC_OPTION_END; o++)
			if (is_option(o) && o->short_name == *p)
				break;
		if (o->type == NIDEC_OPTION_END)
			return unknown_option(cmd, typed, err);
		if (!takes_value(o)) {
			if ((rc = apply(cmd, o, typed, NULL, out, err)) != 0)
				return rc;
			continue;
		}
		if (p[1])
			return apply(cmd, o, typed, p + 1, out, err);
		if (*i + 1 >= argc)
			return missing_value(cmd, o, typed, err);
		return apply(cmd, o, typed, argv[++*i], out, err);
	}
	return 0;
}

/* The first line of the usage text, without its newline, into buf. */
static const char *usage_line(const nidec_opt_cmd *cmd, char *buf, size_t n)
{
	const char *u = cmd->usage ? cmd->usage : "";
	size_t len = strcspn(u, "\n");

	snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), u);
	return buf;
}

/* Hand the positional arguments pos[0..npos) to the ARG entries. */
static int assign_args(const nidec_opt_cmd *cmd, char **pos, int npos, nidec_err *err)
{
	const nidec_opt *o;
	char usage[256];
	int k = 0;

	for (o = cmd->opts; o->type != NIDEC_OPTION_END; o++) {
		if (o->type != NIDEC_OPTION_ARG)
			continue;
		if (o->flags & NIDEC_OPT_MANY) {
			nidec_opt_rest *rest = o->value;
			if (k >= npos && !(o->flags & NIDEC_OPT_OPTIONAL))
				break;
			rest->argv = pos + k;
			rest->argc = npos - k;
			k = npos;
		} else if (k < npos) {
			*(const char **)o->value = pos[k++];
		} else if (!(o->flags & NIDEC_OPT_OPTIONAL)) {
			break;
		}
	}
	if (o->type != NIDEC_OPTION_END)
		return nidec_fail(err, NIDEC_EUSAGE, "missing %s; %s", o->argh,
				  usage_line(cmd, usage, sizeof(usage)));
	if (k < npos)
		return nidec_fail(err, NIDEC_EUSAGE, "unexpected argument '%s'; %s", pos[k],
				  usage_line(cmd, usage, sizeof(usage)));
	return 0;
}

int nidec_opt_parse(const nidec_opt_cmd *cmd, int argc, char **argv, nidec_sbuf *out,
		    nidec_err *err)
{
	int i, npos = 0, only_args = 0, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || !a[1]) {
			/* positional: gathered at the front, in order (1 + npos <= i) */
			argv[1 + npos++] = argv[i];
			if (cmd->flags & NIDEC_OPT_STOP_AT_ARG)
				only_args = 1;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		rc = a[1] == '-' ? parse_long(cmd, argc, argv, &i, out, err)
				 : parse_short(cmd, argc, argv, &i, out, err);
		if (rc != 0)
			return rc;
	}
	return assign_args(cmd, argv + 1, npos, err);
}

/* ---- --help ------------------------------------------------------------- */

/* "  LEFT   text wrapped at HELP_WIDTH, continued at HELP_COLUMN" */
static int add_entry(nidec_sbuf *out, const char *left, const char *text)
{
	size_t col, len;
	const char *p = text;
	int rc = 0;

	rc |= nidec_sbuf_addf(out, "  %s", left);
	col = 2 + strlen(left);
	if (col + 1 >= HELP_COLUMN) {
		rc |= nidec_sbuf_adds(out, "\n");
		col = 0;
	}
	rc |= nidec_sbuf_addf(out, "%*s", (int)(HELP_COLUMN - col), "");
	col = HELP_COLUMN;
	while (*p) {
		while (*p == ' ')
			p++;
		len = strcspn(p, " ");
		if (!len)
			break;
		if (col > HELP_COLUMN && col + 1 + len > HELP_WIDTH) {
			rc |= nidec_sbuf_addf(out, "\n%*s", HELP_COLUMN, "");
			col = HELP_COLUMN;
		} else if (col > HELP_COLUMN) {
			rc |= nidec_sbuf_adds(out, " ");
			col++;
		}
		for (; len; len--, p++, col++)
			rc |= nidec_sbuf_add(out, *p == NBSP ? " " : p, 1);
	}
	rc |= nidec_sbuf_adds(out, "\n");
	return rc ? NIDEC_ENOMEM : 0;
}

/* Append " (default: X)" to text, kept on one line. */
static void add_default(char *text, size_t n, const char *def)
{
	size_t len = strlen(text);
	char *p;

	snprintf(text + len, n - len, " (default: %s)", def);
	/* a long default may wrap, but not right after "(default:" */
	for (p = text + len + 1; *p; p++)
		if (*p == ' ' && (strlen(def) <= 24 || p == text + len + 10))
			*p = NBSP;
}

static void left_column(const nidec_opt *o, char *buf, size_t n)
{
	size_t len;

	if (o->type == NIDEC_OPTION_ARG) {
		snprintf(buf, n, "%s%s", o->argh, o->flags & NIDEC_OPT_MANY ? "..." : "");
		return;
	}
	buf[0] = '\0';
	if (o->short_name)
		snprintf(buf, n, "-%c%s", o->short_name, o->long_name ? ", " : "");
	len = strlen(buf);
	if (o->long_name)
		snprintf(buf + len, n - len, "--%s", o->long_name);
	len = strlen(buf);
	if (takes_value(o) && o->argh)
		snprintf(buf + len, n - len, " %s", o->argh);
}

int nidec_opt_help(const nidec_opt_cmd *cmd, nidec_sbuf *out)
{
	const nidec_opt *o;
	char left[96], text[1024];
	int rc = 0;

	rc |= nidec_sbuf_adds(out, cmd->usage ? cmd->usage : "");
	if (cmd->doc)
		rc |= nidec_sbuf_addf(out, "\n%s", cmd->doc);
	rc |= nidec_sbuf_adds(out, "\n");
	for (o = cmd->opts; rc == 0 && o->type != NIDEC_OPTION_END; o++) {
		if (o->flags & NIDEC_OPT_HIDDEN)
			continue;
		if (o->type == NIDEC_OPTION_GROUP) {
			rc |= nidec_sbuf_addf(out, "\n%s\n", o->help);
			continue;
		}
		left_column(o, left, sizeof(left));
		if (o->type == NIDEC_OPTION_CONFIG) {
			const nidec_key *key = config_key(cmd, o, NULL, NULL);
			const char *def = o->def ? o->def : key ? key->def : "";
			if (!key)
				return NIDEC_EINTERNAL;
			snprintf(text, sizeof(text), "%s; sets [%s] %s", o->help, key->section,
				 key->name);
			if (def[0])
				add_default(text, sizeof(text), def);
		} else if (o->def) {
			snprintf(text, sizeof(text), "%s", o->help);
			add_default(text, sizeof(text), o->def);
		} else {
			snprintf(text, sizeof(text), "%s", o->help ? o->help : "");
		}
		rc |= add_entry(out, left, text);
	}
	if (cmd->footer)
		rc |= nidec_sbuf_addf(out, "\n%s", cmd->footer);
	return rc ? NIDEC_ENOMEM : 0;
}

/* ---- --list-options ----------------------------------------------------- */

static void list_range(const nidec_key *key, char *buf, size_t n)
{
	const nidec_key_name *p;
	size_t len;

	buf[0] = '\0';
	switch (key->type) {
	case NIDEC_KEY_ENUM:
		for (p = key->names; p && p->name; p++) {
			len = strlen(buf);
			snprintf(buf + len, n - len, "%s%s", p == key->names ? "" : "|", p->name);
		}
		break;
	case NIDEC_KEY_INT:
	case NIDEC_KEY_DOUBLE:
	case NIDEC_KEY_DOUBLES:
		snprintf(buf, n, "%s%.15g,%.15g%s", key->flags & NIDEC_KEY_LO_OPEN ? "(" : "[", key->lo,
			 key->hi, key->flags & NIDEC_KEY_HI_OPEN || isinf(key->hi) ? ")" : "]");
		break;
	default:
		snprintf(buf, n, "-");
		break;
	}
}

int nidec_opt_list(const nidec_opt_cmd *cmd, nidec_sbuf *out)
{
	static const char *const key_types[] = { "string", "list", "choice", "int", "double", "doubles" };
	static const char *const opt_types[] = {
		"", "", "", "help", "flag", "count", "string", "int", "double", "choice", "custom", "", "set"
	};
	const nidec_opt *o;
	char range[512];
	int rc = 0;

	for (o = cmd->opts; o->type != NIDEC_OPTION_END; o++) {
		const char *type = opt_types[o->type];
		if (!is_option(o) || (o->flags & NIDEC_OPT_HIDDEN))
			continue;
		snprintf(range, sizeof(range), "-");
		if (o->type == NIDEC_OPTION_INT || o->type == NIDEC_OPTION_DOUBLE ||
		    o->type == NIDEC_OPTION_CHOICE) {
			nidec_key key = option_key(o);
			list_range(&key, range, sizeof(range));
		} else if (o->type == NIDEC_OPTION_CONFIG) {
			const nidec_key *key = config_key(cmd, o, NULL, NULL);
			if (!key)
				return NIDEC_EINTERNAL;
			type = key_types[key->type];
			list_range(key, range, sizeof(range));
		}
		rc |= nidec_sbuf_addf(out, "%s%s\t", o->long_name ? "--" : "-",
				      o->long_name ? o->long_name : "");
		if (o->short_name)
			rc |= nidec_sbuf_addf(out, "-%c\t", o->short_name);
		else
			rc |= nidec_sbuf_adds(out, "-\t");
		rc |= nidec_sbuf_addf(out, "%s\t%s\t%s\n", type, range,
				      o->type == NIDEC_OPTION_CONFIG ? o->key : "-");
	}
	return rc ? NIDEC_ENOMEM : 0;
}

/* ---- --man: the manual page --------------------------------------------- */

/* `s` (up to `len` bytes) as roff text: a backslash is \e; a dash that
 * starts a word (an option: -v, --set), or any dash with all_dashes (an
 * option's name), is \- so that it copies as a dash; a line starting with
 * '.' or '\'' is protected by \&. */
static int man_escape_(nidec_sbuf *out, const char *s, size_t len, int all_dashes)
{
	size_t i;
	int rc = 0, prev = ' ';

	for (i = 0; i < len && s[i]; i++) {
		char c = s[i];
		if (c == NBSP)
			c = ' ';
		if ((i == 0 || s[i - 1] == '\n') && (c == '.' || c == '\''))
			rc |= nidec_sbuf_adds(out, "\\&");
		if (c == '\\')
			rc |= nidec_sbuf_adds(out, "\\e");
		else if (c == '-' && (all_dashes || strchr(" \n([/'`\"=-", prev)))
			rc |= nidec_sbuf_adds(out, "\\-");
		else
			rc |= nidec_sbuf_add(out, &c, 1);
		prev = c;
	}
	return rc;
}

static int man_escape(nidec_sbuf *out, const char *s, size_t len)
{
	return man_escape_(out, s, len, 0);
}

/* An option's left column in roff: \fB-o\fR, \fB--output\fR \fIDIR\fR */
static int man_left(nidec_sbuf *out, const nidec_opt *o)
{
	int rc = 0;

	if (o->type == NIDEC_OPTION_ARG) {
		rc |= nidec_sbuf_adds(out, "\\fI");
		rc |= man_escape_(out, o->argh, strlen(o->argh), 0);
		rc |= nidec_sbuf_adds(out, o->flags & NIDEC_OPT_MANY ? "\\fR...\n" : "\\fR\n");
		return rc;
	}
	if (o->short_name)
		rc |= nidec_sbuf_addf(out, "\\fB\\-%c\\fR%s", o->short_name, o->long_name ? ", " : "");
	if (o->long_name) {
		rc |= nidec_sbuf_adds(out, "\\fB\\-\\-");
		rc |= man_escape_(out, o->long_name, strlen(o->long_name), 1);
		rc |= nidec_sbuf_adds(out, "\\fR");
	}
	if (takes_value(o) && o->argh) {
		rc |= nidec_sbuf_adds(out, " \\fI");
		rc |= man_escape_(out, o->argh, strlen(o->argh), 1);
		rc |= nidec_sbuf_adds(out, "\\fR");
	}
	return rc | nidec_sbuf_adds(out, "\n");
}

/* A block of --help prose (doc, footer) as roff: filled text, a blank
 * line a new paragraph; lines that start with a space (a table, a list,
 * an example) are kept as they are (.nf). */
static int man_prose(nidec_sbuf *out, const char *text)
{
	const char *p = text;
	int rc = 0, nofill = 0;

	while (*p) {
		size_t len = strcspn(p, "\n");
		int indented = len > 0 && *p == ' ';
		if (indented != nofill) {
			rc |= nidec_sbuf_adds(out, indented ? ".nf\n" : ".fi\n");
			nofill = indented;
		}
		if (len == 0) {
			rc |= nidec_sbuf_adds(out, ".PP\n");
		} else {
			rc |= man_escape(out, p, len);
			rc |= nidec_sbuf_adds(out, "\n");
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	if (nofill)
		rc |= nidec_sbuf_adds(out, ".fi\n");
	return rc;
}

/* "nidec run" -> "nidec-run"; upper = 1: "NIDEC-RUN" */
static void man_name(const char *prog, int upper, char *buf, size_t n)
{
	size_t i;

	snprintf(buf, n, "%s", prog);
	for (i = 0; buf[i]; i++) {
		if (buf[i] == ' ')
			buf[i] = '-';
		else if (upper && buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	}
}

int nidec_opt_man(const nidec_opt_cmd *cmd, const char *summary, const char *extra,
		  nidec_sbuf *out)
{
	const nidec_opt *o;
	const char *u = cmd->usage ? cmd->usage : "";
	char name[64], title[64], text[1024];
	int rc = 0, first = 1;

	man_name(cmd->prog, 0, name, sizeof(name));
	man_name(cmd->prog, 1, title, sizeof(title));
	rc |= nidec_sbuf_addf(out, ".\\\" %s(1): written by `%s --man` from its option table\n", name,
			      cmd->prog);
	rc |= nidec_sbuf_addf(out, ".TH %s 1 \"\" \"nidec ", title);
	rc |= man_escape(out, nidec_version, strlen(nidec_version));
	rc |= nidec_sbuf_adds(out, "\" \"nidec manual\"\n.SH NAME\n");
	rc |= man_escape(out, name, strlen(name));
	rc |= nidec_sbuf_adds(out, " \\- ");
	if (!summary || !*summary)
		summary = cmd->doc ? cmd->doc : cmd->prog;
	/* the summary's first line, without a final period */
	{
		size_t len = strcspn(summary, "\n");
		while (len && summary[len - 1] == '.')
			len--;
		rc |= man_escape(out, summary, len);
	}
	rc |= nidec_sbuf_adds(out, "\n.SH SYNOPSIS\n.nf\n");
	/* the usage lines, without "usage: " and the indent under it */
	while (*u) {
		size_t len, k = 0;
		if (!strncmp(u, "usage: ", 7))
			u += 7;
		else
			while (k < 7 && u[k] == ' ')
				k++;
		u += k;
		len = strcspn(u, "\n");
		rc |= man_escape(out, u, len);
		rc |= nidec_sbuf_adds(out, "\n");
		u += len;
		if (*u == '\n')
			u++;
	}
	rc |= nidec_sbuf_adds(out, ".fi\n");
	if (cmd->doc) {
		rc |= nidec_sbuf_adds(out, ".SH DESCRIPTION\n");
		rc |= man_prose(out, cmd->doc);
	}
	for (o = cmd->opts; rc == 0 && o->type != NIDEC_OPTION_END; o++) {
		if (o->flags & NIDEC_OPT_HIDDEN)
			continue;
		if (first) {
			rc |= nidec_sbuf_adds(out, ".SH OPTIONS\n");
			first = 0;
		}
		if (o->type == NIDEC_OPTION_GROUP) {
			size_t len = strlen(o->help);
			while (len && o->help[len - 1] == ':')
				len--;
			rc |= nidec_sbuf_adds(out, ".SS ");
			rc |= man_escape(out, o->help, len);
			rc |= nidec_sbuf_adds(out, "\n");
			continue;
		}
		rc |= nidec_sbuf_adds(out, ".TP\n");
		rc |= man_left(out, o);
		if (o->type == NIDEC_OPTION_CONFIG) {
			const nidec_key *key = config_key(cmd, o, NULL, NULL);
			const char *def = o->def ? o->def : key ? key->def : "";
			if (!key)
				return NIDEC_EINTERNAL;
			snprintf(text, sizeof(text), "%s; sets [%s] %s", o->help, key->section, key->name);
			if (def[0])
				snprintf(text + strlen(text), sizeof(text) - strlen(text), " (default: %s)", def);
		} else if (o->def) {
			snprintf(text, sizeof(text), "%s (default: %s)", o->help, o->def);
		} else {
			snprintf(text, sizeof(text), "%s", o->help ? o->help : "");
		}
		rc |= man_escape(out, text, strlen(text));
		rc |= nidec_sbuf_adds(out, "\n");
	}
	if (cmd->footer) {
		rc |= nidec_sbuf_adds(out, ".SH NOTES\n");
		rc |= man_prose(out, cmd->footer);
	}
	if (extra)
		rc |= nidec_sbuf_adds(out, extra);
	else
		rc |= nidec_sbuf_adds(out, ".SH SEE ALSO\n.BR nidec (1)\n");
	return rc ? NIDEC_ENOMEM : 0;
}
