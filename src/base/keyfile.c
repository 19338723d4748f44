/*
 * keyfile.c - INI files and overrides read against a schema (see
 * include/nidec/keyfile.h): the one implementation of key lookup, "did you
 * mean", unknown and duplicate keys, and typed, range-checked values, for
 * the analysis config (cfg.c) and the sweep file (src/cli/sweep_spec.c).
 *
 * Values stay strings, with their origin, until a typed getter reads them,
 * so overrides, defaults, suggestions and checks all come from one table.
 * A value is checked by parse_value() whether it arrives from the option
 * parser (nidec_key_check, at parse time, allocating nothing) or is read
 * after all overrides (the getters): both give the same verdict and the
 * same message.
 *
 * The INI syntax is libinih's (version 55, which nidec used before), read
 * here line by line instead: Debian builds libinih with a fixed 200-byte
 * line buffer (INI_MAX_LINE, INI_ALLOW_REALLOC = 0, compiled into the
 * library), which cut longer lines in two - a 20-value C grid was "cannot
 * parse", a longer value even "appears twice" - and its fgets() reader
 * stopped a line at a NUL byte without a word.  Here a line may be of any
 * length, a NUL byte is an error naming the line, a directory is refused,
 * and a line indented under a key (libinih's continuation line, which
 * nidec always refused as a second value of the key) says what it is.
 * Depends on libc and the base modules only.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nidec/file.h"
#include "nidec/keyfile.h"
#include "nidec/mem.h"
#include "nidec/suggest.h"

/* Penalties added to suggestion scores (suggest.h): a key of the same
 * section comes first, then a value of an enumerated key of that section
 * (`nilearn = true` meant `compat = nilearn`), then keys of other sections. */
enum { PENALTY_VALUE = 30, PENALTY_SECTION = 50 };

/* ---- values: parse, check, describe ------------------------------------- */

/* What is wrong with a value (parse_value fills it on failure). */
struct problem {
	const char *fix;        /* the check hook's fix, or NULL: "give <describe>" */
	int unknown;            /* ENUM: the value is not one of the names */
	const char *suggest;    /* ENUM: the closest name, or NULL */
	const char *item;       /* DOUBLES: the bad item (not NUL-terminated) */
	int item_len;
	int empty;              /* DOUBLES: no item at all */
};

static int in_range(const nidec_key *key, double d)
{
	if (d < key->lo || d > key->hi)
		return 0;
	if ((key->flags & NIDEC_KEY_LO_OPEN) && d == key->lo)
		return 0;
	if ((key->flags & NIDEC_KEY_HI_OPEN) && d == key->hi)
		return 0;
	return 1;
}

/* A whole number, blanks around it allowed. */
static int parse_long(const char *v, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	while (*end && isspace((unsigned char)*end))
		end++;
	if (end == v || *end || errno)
		return -1;
	*out = n;
	return 0;
}

/* A finite number, blanks around it allowed. */
static int parse_double(const char *v, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	while (*end && isspace((unsigned char)*end))
		end++;
	if (end == v || *end || errno || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

static const nidec_key_name *find_name(const nidec_key *key, const char *v)
{
	const nidec_key_name *p;

	for (p = key->names; p && p->name; p++)
		if (!strcmp(v, p->name))
			return p;
	return NULL;
}

/* Walk the items of a comma-separated list as nidec_split_list() cuts it:
 * *b..*e is the next trimmed item; returns 0 at the end. */
static int next_item(const char **p, const char **b, const char **e)
{
	const char *q = *p;

	while (*q == ',' || isspace((unsigned char)*q))
		q++;
	if (!*q) {
		*p = q;
		return 0;
	}
	*b = q;
	while (*q && *q != ',')
		q++;
	*e = q;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
	*p = q;
	return 1;
}

/* One item of a DOUBLES list: a finite number in range, nothing else. */
static int parse_item(const nidec_key *key, const char *b, const char *e, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(b, &end);
	if (end == b || end != e || errno || !isfinite(d) || !in_range(key, d))
		return -1;
	*out = d;
	return 0;
}

/*
 * Check `v` against key: 0 if valid (then *num holds the number of an
 * INT/DOUBLE, NaN for "auto", and *ival the value of an ENUM name), else -1
 * with *p saying why.  Allocates nothing.
 */
static int parse_value(const nidec_key *key, const char *v, double *num, int *ival,
		       struct problem *p)
{
	memset(p, 0, sizeof(*p));
	switch (key->type) {
	case NIDEC_KEY_ENUM: {
		const nidec_key_name *n = find_name(key, v), *q;
		nidec_suggestion s = NIDEC_SUGGESTION_INIT;
		if (n) {
			if (ival)
				*ival = n->val;
			break;
		}
		for (q = key->names; q && q->name; q++)
			nidec_suggest_add(&s, v, q->name, 0, q - key->names);
		p->unknown = 1;
		p->suggest = s.index >= 0 ? key->names[s.index].name : NULL;
		return -1;
	}
	case NIDEC_KEY_INT: {
		long n;
		if (parse_long(v, &n) < 0 || !in_range(key, (double)n))
			return -1;
		if (num)
			*num = (double)n;
		break;
	}
	case NIDEC_KEY_DOUBLE: {
		double d;
		if (((key->flags & NIDEC_KEY_AUTO) && (!v[0] || !strcmp(v, "auto"))) ||
		    ((key->flags & NIDEC_KEY_NONE) && (!v[0] || !strcmp(v, "none")))) {
			if (num)
				*num = NAN;
			return 0;
		}
		if (parse_double(v, &d) < 0 || !in_range(key, d))
			return -1;
		if (num)
			*num = d;
		break;
	}
	case NIDEC_KEY_DOUBLES: {
		const char *q = v, *b, *e;
		double d;
		int any = 0;
		while (next_item(&q, &b, &e)) {
			any = 1;
			if (parse_item(key, b, e, &d) < 0) {
				p->item = b;
				p->item_len = (int)(e - b);
				return -1;
			}
		}
		if (!any) {
			p->empty = 1;
			return -1;
		}
		break;
	}
	default:
		break;
	}
	if (key->check && (p->fix = key->check(v)) != NULL)
		return -1;
	return 0;
}

static void describe_range(const nidec_key *key, int whole, char *buf, size_t n)
{
	int lo_open = (key->flags & NIDEC_KEY_LO_OPEN) != 0;
	int hi_open = (key->flags & NIDEC_KEY_HI_OPEN) != 0;

	if (whole && isinf(key->hi))
		snprintf(buf, n, "a whole number >= %.0f", key->lo);
	else if (whole)
		snprintf(buf, n, "a whole number from %.0f to %.0f", key->lo, key->hi);
	else if (isinf(key->hi) && isinf(key->lo))
		snprintf(buf, n, "a number");
	else if (isinf(key->hi))
		snprintf(buf, n, "a number %s %g", lo_open ? ">" : ">=", key->lo);
	else
		snprintf(buf, n, "a number in %s%g, %g%s", lo_open ? "(" : "[", key->lo, key->hi,
			 hi_open ? ")" : "]");
}

const char *nidec_key_describe(const nidec_key *key, char *buf, size_t n)
{
	char range[128];
	size_t len;
	const nidec_key_name *p;

	if (!n)
		return buf;
	buf[0] = '\0';
	switch (key->type) {
	case NIDEC_KEY_ENUM:
		snprintf(buf, n, "one of:");
		for (p = key->names; p && p->name; p++) {
			len = strlen(buf);
			snprintf(buf + len, n - len, " %s", p->name);
		}
		break;
	case NIDEC_KEY_INT:
		describe_range(key, 1, buf, n);
		break;
	case NIDEC_KEY_DOUBLE:
		describe_range(key, 0, range, sizeof(range));
		snprintf(buf, n, "%s%s", key->flags & NIDEC_KEY_AUTO ? "auto or " :
			 key->flags & NIDEC_KEY_NONE ? "none or " : "", range);
		break;
	case NIDEC_KEY_DOUBLES:
		describe_range(key, 0, range, sizeof(range));
		/* "a number > 0" -> "numbers > 0" */
		snprintf(buf, n, "a comma-separated list of numbers%s", range + strlen("a number"));
		break;
	case NIDEC_KEY_LIST:
		snprintf(buf, n, "a comma-separated list");
		break;
	default:
		snprintf(buf, n, "text");
		break;
	}
	return buf;
}

/* "<lead> = '<value>' is invalid; <fix>", and the other shapes of a bad
 * value.  `lead` names the origin and key: "config 'a.ini': [cv] seed". */
static int value_error(nidec_err *err, int code, const char *lead, const nidec_key *key,
		       const char *v, const struct problem *p)
{
	char what[512], range[128];

	if (p->item) {
		describe_range(key, 0, range, sizeof(range));
		return nidec_fail(err, code, "%s: '%.*s' is not %s; give a list such as %s = %s", lead,
				  p->item_len, p->item, range, key->name, key->def);
	}
	if (p->empty)
		return nidec_fail(err, code, "%s = '%s' is invalid; give at least one value, e.g. %s = %s",
				  lead, v, key->name, key->def);
	if (p->fix)
		return nidec_fail(err, code, "%s = '%s' is invalid; %s", lead, v, p->fix);
	nidec_key_describe(key, what, sizeof(what));
	if (p->unknown && p->suggest)
		return nidec_fail(err, code, "%s = '%s' is unknown; did you mean '%s'? (use %s)", lead, v,
				  p->suggest, what);
	if (p->unknown)
		return nidec_fail(err, code, "%s = '%s' is unknown; use %s", lead, v, what);
	return nidec_fail(err, code, "%s = '%s' is invalid; give %s", lead, v, what);
}

/* ---- the schema ---------------------------------------------------------- */

long nidec_keyschema_find(const nidec_keyschema *s, const char *section, const char *name)
{
	size_t k;

	for (k = 0; k < s->n_keys; k++)
		if (!strcmp(s->keys[k].section, section) && !strcmp(s->keys[k].name, name))
			return (long)k;
	return -1;
}

static int section_known(const nidec_keyschema *s, const char *section)
{
	size_t k;

	for (k = 0; k < s->n_keys; k++)
		if (!strcmp(s->keys[k].section, section))
			return 1;
	return 0;
}

/* Does the schema have one section only (then messages need not name it)? */
static int one_section(const nidec_keyschema *s)
{
	size_t k;

	for (k = 1; k < s->n_keys; k++)
		if (strcmp(s->keys[k].section, s->keys[0].section))
			return 0;
	return 1;
}

/* The schema's sections in table order, each once: "[data] [model]", or
 * with `last` between the last two and ", " before the others. */
static void list_sections(const nidec_keyschema *const *schemas, const char *sep,
			  const char *last, char *buf, size_t n)
{
	const char *names[64];
	size_t count = 0, i, k, len;

	for (; *schemas; schemas++)
		for (k = 0; k < (*schemas)->n_keys; k++) {
			const char *sec = (*schemas)->keys[k].section;
			for (i = 0; i < count; i++)
				if (!strcmp(names[i], sec))
					break;
			if (i == count && count < sizeof(names) / sizeof(names[0]))
				names[count++] = sec;
		}
	buf[0] = '\0';
	for (i = 0; i < count; i++) {
		len = strlen(buf);
		snprintf(buf + len, n - len, "%s[%s]", i == 0 ? "" : i + 1 == count ? last : sep,
			 names[i]);
	}
}

static int unknown_section(const nidec_keyschema *const *schemas, const char *where,
			   const char *section, nidec_err *err)
{
	nidec_suggestion s = NIDEC_SUGGESTION_INIT;
	const char *hit = NULL, *hint = schemas[1] ? NULL : schemas[0]->hint;
	char all[512];
	size_t i, k;

	for (i = 0; schemas[i]; i++)
		for (k = 0; k < schemas[i]->n_keys; k++)
			if (nidec_suggest_add(&s, section, schemas[i]->keys[k].section, 0, 0))
				hit = schemas[i]->keys[k].section;
	if (hit && hint)
		return nidec_fail(err, NIDEC_EINPUT, "%s: unknown section [%s]; did you mean [%s]? (%s)",
				  where, section, hit, hint);
	if (hit)
		return nidec_fail(err, NIDEC_EINPUT, "%s: unknown section [%s]; did you mean [%s]?", where,
				  section, hit);
	if (hint)
		return nidec_fail(err, NIDEC_EINPUT, "%s: unknown section [%s]; %s", where, section, hint);
	list_sections(schemas, " ", " ", all, sizeof(all));
	return nidec_fail(err, NIDEC_EINPUT, "%s: unknown section [%s]; sections are %s", where,
			  section, all);
}

/* "unknown key 'name' in [section]; did you mean ...?" over one schema. */
static int unknown_key(const nidec_keyschema *s, const char *where, const char *section,
		       const char *name, nidec_err *err)
{
	nidec_suggestion sg = NIDEC_SUGGESTION_INIT;
	const nidec_key *hit = NULL;
	const char *value = NULL;
	char keys[512];
	size_t k;

	if (!section_known(s, section)) {
		const nidec_keyschema *one[2] = { s, NULL };
		return unknown_section(one, where, section, err);
	}
	for (k = 0; k < s->n_keys; k++) {
		const nidec_key *key = &s->keys[k];
		int other = strcmp(key->section, section) != 0;
		const nidec_key_name *p;
		if (nidec_suggest_add(&sg, name, key->name, other ? PENALTY_SECTION : 0, 0)) {
			hit = key;
			value = NULL;
		}
		for (p = key->type == NIDEC_KEY_ENUM ? key->names : NULL; p && p->name; p++)
			if (nidec_suggest_add(&sg, name, p->name,
					      PENALTY_VALUE + (other ? PENALTY_SECTION : 0), 0)) {
				hit = key;
				value = p->name;
			}
	}
	if (hit) {
		char in[96] = "";
		if (!one_section(s))
			snprintf(in, sizeof(in), " in [%s]", hit->section);
		if (value)
			return nidec_fail(err, NIDEC_EINPUT,
					  "%s: unknown key '%s' in [%s]; did you mean '%s = %s'%s?", where,
					  name, section, hit->name, value, in);
		return nidec_fail(err, NIDEC_EINPUT, "%s: unknown key '%s' in [%s]; did you mean '%s'%s?",
				  where, name, section, hit->name, in);
	}
	if (!one_section(s))
		return nidec_fail(err, NIDEC_EINPUT, "%s: unknown key '%s' in [%s]; see %s for every key",
				  where, name, section, s->doc);
	keys[0] = '\0';
	for (k = 0; k < s->n_keys; k++) {
		size_t len = strlen(keys);
		snprintf(keys + len, sizeof(keys) - len, "%s%s", k ? ", " : "", s->keys[k].name);
	}
	return nidec_fail(err, NIDEC_EINPUT, "%s: unknown key '%s' in [%s]; keys are %s (%s)", where,
			  name, section, keys, s->doc);
}

/* Split "section.key=value" into its parts; -1 if malformed. */
static int split_assignment(const char *a, char *section, size_t ls_max, char *name,
			    size_t ln_max, const char **value)
{
	const char *eq = strchr(a, '='), *dot = strchr(a, '.');
	size_t ls, ln;

	if (!eq || !dot || dot > eq)
		return -1;
	ls = (size_t)(dot - a);
	ln = (size_t)(eq - dot - 1);
	if (ls == 0 || ln == 0 || ls >= ls_max || ln >= ln_max)
		return -1;
	memcpy(section, a, ls);
	section[ls] = '\0';
	memcpy(name, dot + 1, ln);
	name[ln] = '\0';
	*value = eq + 1;
	return 0;
}

long nidec_keyschemas_find(const nidec_keyschema *const *schemas, const char *dotted,
			   const nidec_keyschema **schema)
{
	const char *dot = strchr(dotted, '.');
	char section[64];
	size_t ls;
	long k;

	if (!dot || (ls = (size_t)(dot - dotted)) == 0 || ls >= sizeof(section))
		return -1;
	memcpy(section, dotted, ls);
	section[ls] = '\0';
	for (; *schemas; schemas++)
		if ((k = nidec_keyschema_find(*schemas, section, dot + 1)) >= 0) {
			if (schema)
				*schema = *schemas;
			return k;
		}
	return -1;
}

static int as_usage(int rc, nidec_err *err)
{
	if (rc == NIDEC_EINPUT) {
		rc = NIDEC_EUSAGE;
		if (err)
			err->code = rc;
	}
	return rc;
}

int nidec_key_read(const nidec_key *key, const char *value, const char *lead, int code,
		   double *num, int *ival, nidec_err *err)
{
	struct problem p;

	if (parse_value(key, value, num, ival, &p) == 0)
		return 0;
	return value_error(err, code, lead, key, value, &p);
}

int nidec_key_check(const nidec_keyschema *s, size_t k, const char *value, const char *origin,
		    nidec_err *err)
{
	const nidec_key *key = &s->keys[k];
	char lead[256];

	snprintf(lead, sizeof(lead), "%s: [%s] %s", origin, key->section, key->name);
	return nidec_key_read(key, value, lead, NIDEC_EUSAGE, NULL, NULL, err);
}

int nidec_keyschemas_check_set(const nidec_keyschema *const *schemas, const char *assignment,
			       const char *option, nidec_err *err)
{
	char section[64], name[64], origin[160];
	const char *value;
	size_t i;
	long k;

	if (!option)
		option = "--set";
	if (split_assignment(assignment, section, sizeof(section), name, sizeof(name), &value) < 0)
		return nidec_fail(err, NIDEC_EUSAGE, "%s '%s': expected section.key=value, e.g. %s %s",
				  option, assignment, option, schemas[0]->example);
	snprintf(origin, sizeof(origin), "%s %s.%s", option, section, name);
	for (i = 0; schemas[i]; i++) {
		if (!section_known(schemas[i], section))
			continue;
		k = nidec_keyschema_find(schemas[i], section, name);
		if (k < 0)
			return as_usage(unknown_key(schemas[i], origin, section, name, err), err);
		return nidec_key_check(schemas[i], (size_t)k, value, origin, err);
	}
	return as_usage(unknown_section(schemas, origin, section, err), err);
}

/* ---- values -------------------------------------------------------------- */

void nidec_keyfile_init(nidec_keyfile *kf, const nidec_keyschema *schema)
{
	memset(kf, 0, sizeof(*kf));
	kf->schema = schema;
}

static int alloc_vals(nidec_keyfile *kf, const nidec_key *key, nidec_err *err)
{
	if (!kf->val) {
		kf->val = nidec_calloc(kf->schema->n_keys, sizeof(*kf->val));
		if (!kf->val)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory storing [%s] %s",
					  key->section, key->name);
	}
	return 0;
}

static int put_index(nidec_keyfile *kf, size_t k, const char *value, const char *origin, int cli,
		     nidec_err *err)
{
	const nidec_key *key = &kf->schema->keys[k];
	char *v, *o;

	NIDEC_TRY(alloc_vals(kf, key, err));
	v = nidec_strdup(value);
	o = nidec_strdup(origin);
	if (!v || !o) {
		nidec_free(v);
		nidec_free(o);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory storing [%s] %s", key->section,
				  key->name);
	}
	nidec_free(kf->val[k].raw);
	nidec_free(kf->val[k].origin);
	kf->val[k].raw = v;
	kf->val[k].origin = o;
	kf->val[k].cli = cli;
	return 0;
}

int nidec_keyfile_put(nidec_keyfile *kf, const char *section, const char *name, const char *value,
		      const char *origin, int cli, nidec_err *err)
{
	long k = nidec_keyschema_find(kf->schema, section, name);
	int rc;

	if (k < 0) {
		rc = unknown_key(kf->schema, origin, section, name, err);
		return cli ? as_usage(rc, err) : rc;
	}
	return put_index(kf, (size_t)k, value, origin, cli, err);
}

int nidec_keyfile_set(nidec_keyfile *kf, const char *assignment, const char *option,
		      nidec_err *err)
{
	char section[64], name[64], origin[160];
	const char *value;

	if (split_assignment(assignment, section, sizeof(section), name, sizeof(name), &value) < 0)
		return nidec_fail(err, NIDEC_EUSAGE, "%s '%s': expected section.key=value, e.g. %s %s",
				  option ? option : "--set", assignment, option ? option : "--set",
				  kf->schema->example);
	if (!option || !strcmp(option, "--set"))
		snprintf(origin, sizeof(origin), "--set %s.%s", section, name);
	else
		snprintf(origin, sizeof(origin), "%s", option);
	return nidec_keyfile_put(kf, section, name, value, origin, 1, err);
}

struct load_ctx {
	nidec_keyfile *kf;
	const char *path;
	char where[512];
	nidec_err *err;
	unsigned char *seen;
	int failed;
};

/* One `name = value` of the file (returns 1 to go on, 0 on an error). */
static int on_entry(struct load_ctx *c, const char *section, const char *name, const char *value)
{
	const nidec_keyschema *s = c->kf->schema;
	long k;

	c->failed = 1;
	if (!section[0]) {
		const nidec_keyschema *one[2] = { s, NULL };
		char all[512];
		list_sections(one, ", ", " or ", all, sizeof(all));
		nidec_fail(c->err, NIDEC_EINPUT, "%s: key '%s' is outside any section; put it under %s",
			   c->where, name, all);
		return 0;
	}
	k = nidec_keyschema_find(s, section, name);
	if (k < 0) {
		unknown_key(s, c->where, section, name, c->err);
		return 0;
	}
	if (c->seen[k]) {
		nidec_fail(c->err, NIDEC_EINPUT, "%s: key '%s' appears twice in [%s]; keep one", c->where,
			   name, section);
		return 0;
	}
	c->seen[k] = 1;
	if (put_index(c->kf, (size_t)k, value, c->where, 0, c->err) < 0)
		return 0;
	c->failed = 0;
	return 1;
}

/* The largest INI file read (a config is a few KiB). */
#define INI_MAX_BYTES ((size_t)16 << 20)

static char *rstrip(char *s)
{
	char *e = s + strlen(s);

	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static char *lskip(char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

/* The first of `chars` in s, or an inline comment (';' after a blank), or
 * the end (libinih's find_chars_or_comment). */
static char *find_chars_or_comment(char *s, const char *chars)
{
	int was_space = 0;

	while (*s && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

static int syntax_error(struct load_ctx *c, size_t lineno)
{
	const nidec_keyschema *s = c->kf->schema;

	c->failed = 1;
	if (one_section(s))
		return nidec_fail(c->err, NIDEC_EINPUT,
				  "%s line %zu: cannot parse; expected '[%s]', 'key = value' or a ';' comment",
				  c->where, lineno, s->keys[0].section);
	return nidec_fail(c->err, NIDEC_EINPUT,
			  "%s line %zu: cannot parse; expected '[section]', 'key = value' or a ';' comment",
			  c->where, lineno);
}

/* Parse the INI text buf[len] (NUL-terminated, no NUL inside) line by
 * line; stops at the first problem, which is in c->err. */
static int parse_ini(struct load_ctx *c, char *buf, size_t len)
{
	char *section = NULL, *prev = NULL, *line = buf, *next, *start, *end;
	size_t lineno = 0;
	int rc = 0;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		line += 3; /* a UTF-8 byte order mark, as libinih */
	section = nidec_strdup("");
	if (!section)
		return nidec_fail(c->err, NIDEC_ENOMEM, "out of memory reading %s", c->where);
	for (; line && rc == 0; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else if (!*line)
			break;
		start = lskip(rstrip(line));
		if (*start == ';' || *start == '#' || !*start)
			continue;
		if (prev && start > line) {
			/* libinih's continuation line: a second value of the key */
			c->failed = 1;
			rc = nidec_fail(c->err, NIDEC_EINPUT,
					"%s line %zu: an indented line continues the value of '%s' (an INI continuation line); nidec reads each value from one line, of any length: remove the indent or join it to the line above",
					c->where, lineno, prev);
		} else if (*start == '[') {
			end = find_chars_or_comment(start + 1, "]");
			if (*end != ']') {
				rc = syntax_error(c, lineno);
				continue;
			}
			*end = '\0';
			nidec_free(section);
			nidec_free(prev);
			prev = NULL;
			section = nidec_strdup(start + 1);
			if (!section)
				rc = nidec_fail(c->err, NIDEC_ENOMEM, "out of memory reading %s", c->where);
		} else {
			char *name, *value;
			end = find_chars_or_comment(start, "=:");
			if (*end != '=' && *end != ':') {
				rc = syntax_error(c, lineno);
				continue;
			}
			*end = '\0';
			name = rstrip(start);
			value = end + 1;
			end = find_chars_or_comment(value, NULL);
			*end = '\0';
			value = rstrip(lskip(value));
			nidec_free(prev);
			prev = nidec_strdup(name);
			if (!prev)
				rc = nidec_fail(c->err, NIDEC_ENOMEM, "out of memory reading %s", c->where);
			else if (!on_entry(c, section, name, value))
				rc = c->err && c->err->code ? c->err->code : NIDEC_EINPUT;
		}
	}
	nidec_free(section);
	nidec_free(prev);
	return rc;
}

int nidec_keyfile_load(nidec_keyfile *kf, const char *path, nidec_err *err)
{
	const char *what = kf->schema->what;
	struct load_ctx c;
	struct stat st;
	char *buf = NULL, *src, *nul;
	size_t len = 0;
	int rc, fd;

	memset(&c, 0, sizeof(c));
	c.kf = kf;
	c.path = path;
	c.err = err;
	snprintf(c.where, sizeof(c.where), "%s '%s'", what, path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nidec_fail(err, NIDEC_EIO, "cannot open %s '%s': %s", what, path, strerror(errno));
	rc = fstat(fd, &st);
	(void)close(fd); /* read-only: nothing to lose */
	if (rc == 0 && S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EINPUT, "%s '%s' is a directory; give the path of an INI file",
				  what, path);
	NIDEC_TRY(nidec_file_read(path, INI_MAX_BYTES, 0, &buf, &len, err));
	nul = memchr(buf, '\0', len);
	if (nul) {
		size_t lineno = 1;
		const char *p;
		for (p = buf; p < nul; p++)
			lineno += *p == '\n';
		nidec_free(buf);
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s line %zu: a NUL byte; a config is plain text: save it again as text (UTF-8)",
				  c.where, lineno);
	}
	c.seen = nidec_calloc(kf->schema->n_keys, 1);
	if (!c.seen) {
		nidec_free(buf);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory reading %s '%s'", what, path);
	}
	rc = parse_ini(&c, buf, len);
	nidec_free(c.seen);
	nidec_free(buf);
	if (rc < 0)
		return rc;
	src = nidec_strdup(path);
	if (!src)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	nidec_free(kf->source);
	kf->source = src;
	return 0;
}

const char *nidec_keyfile_value(const nidec_keyfile *kf, size_t k)
{
	const nidec_key *key = &kf->schema->keys[k];

	if (kf->val && kf->val[k].raw)
		return kf->val[k].raw;
	if (kf->val && kf->val[k].def)
		return kf->val[k].def;
	if (kf->alt && key->alt_def)
		return key->alt_def;
	return key->def;
}

int nidec_keyfile_default(nidec_keyfile *kf, size_t k, const char *def, nidec_err *err)
{
	NIDEC_TRY(alloc_vals(kf, &kf->schema->keys[k], err));
	kf->val[k].def = def;
	return 0;
}

int nidec_keyfile_is_set(const nidec_keyfile *kf, size_t k)
{
	return kf->val && kf->val[k].raw;
}

const char *nidec_keyfile_origin(const nidec_keyfile *kf, size_t k)
{
	return kf->val && kf->val[k].origin ? kf->val[k].origin : "default";
}

int nidec_keyfile_from_cli(const nidec_keyfile *kf, size_t k)
{
	return kf->val && kf->val[k].raw && kf->val[k].cli;
}

/* Check key k's effective value; on failure the error of its origin. */
static int checked(const nidec_keyfile *kf, size_t k, double *num, int *ival, nidec_err *err)
{
	const nidec_key *key = &kf->schema->keys[k];
	const char *v = nidec_keyfile_value(kf, k);
	struct problem p;
	char lead[600];

	if (parse_value(key, v, num, ival, &p) == 0)
		return 0;
	snprintf(lead, sizeof(lead), "%s: [%s] %s", nidec_keyfile_origin(kf, k), key->section,
		 key->name);
	return value_error(err, nidec_keyfile_from_cli(kf, k) ? NIDEC_EUSAGE : NIDEC_EINPUT, lead, key,
			   v, &p);
}

int nidec_keyfile_fail(const nidec_keyfile *kf, size_t k, const char *fix, nidec_err *err)
{
	const nidec_key *key = &kf->schema->keys[k];

	return nidec_fail(err, nidec_keyfile_from_cli(kf, k) ? NIDEC_EUSAGE : NIDEC_EINPUT,
			  "%s: [%s] %s = '%s' is invalid; %s", nidec_keyfile_origin(kf, k),
			  key->section, key->name, nidec_keyfile_value(kf, k), fix);
}

int nidec_keyfile_string(const nidec_keyfile *kf, size_t k, char **out, nidec_err *err)
{
	const char *v = nidec_keyfile_value(kf, k);
	char *s = NULL;

	NIDEC_TRY(checked(kf, k, NULL, NULL, err));
	if (v[0] && !(s = nidec_strdup(v)))
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	nidec_free(*out);
	*out = s;
	return 0;
}

int nidec_keyfile_list(const nidec_keyfile *kf, size_t k, char ***out, size_t *n, nidec_err *err)
{
	char **v = NULL;
	size_t cnt = 0;

	NIDEC_TRY(checked(kf, k, NULL, NULL, err));
	NIDEC_TRY(nidec_split_list(nidec_keyfile_value(kf, k), &v, &cnt, err));
	nidec_strv_free(*out, *n);
	*out = v;
	*n = cnt;
	return 0;
}

int nidec_keyfile_enum(const nidec_keyfile *kf, size_t k, int *out, nidec_err *err)
{
	int v = 0;

	NIDEC_TRY(checked(kf, k, NULL, &v, err));
	*out = v;
	return 0;
}

int nidec_keyfile_long(const nidec_keyfile *kf, size_t k, long *out, nidec_err *err)
{
	double d = 0;

	NIDEC_TRY(checked(kf, k, &d, NULL, err));
	*out = (long)d;
	return 0;
}

int nidec_keyfile_int(const nidec_keyfile *kf, size_t k, int *out, nidec_err *err)
{
	double d = 0;

	NIDEC_TRY(checked(kf, k, &d, NULL, err));
	*out = (int)d;
	return 0;
}

int nidec_keyfile_double(const nidec_keyfile *kf, size_t k, double *out, nidec_err *err)
{
	double d = 0;

	NIDEC_TRY(checked(kf, k, &d, NULL, err));
	*out = d;
	return 0;
}

int nidec_keyfile_doubles(const nidec_keyfile *kf, size_t k, double **out, size_t *n,
			  nidec_err *err)
{
	const nidec_key *key = &kf->schema->keys[k];
	const char *q = nidec_keyfile_value(kf, k), *b, *e;
	double *v;
	size_t cnt = 0, i = 0;

	NIDEC_TRY(checked(kf, k, NULL, NULL, err));
	for (q = nidec_keyfile_value(kf, k); next_item(&q, &b, &e);)
		cnt++;
	v = nidec_calloc(cnt, sizeof(*v));
	if (!v)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory reading [%s] %s", key->section,
				  key->name);
	for (q = nidec_keyfile_value(kf, k); next_item(&q, &b, &e); i++)
		parse_item(key, b, e, &v[i]);
	nidec_free(*out);
	*out = v;
	*n = cnt;
	return 0;
}

void nidec_keyfile_release(nidec_keyfile *kf)
{
	const nidec_keyschema *s = kf->schema;
	size_t k;

	if (kf->val)
		for (k = 0; k < s->n_keys; k++) {
			nidec_free(kf->val[k].raw);
			nidec_free(kf->val[k].origin);
		}
	nidec_free(kf->val);
	nidec_free(kf->source);
	nidec_keyfile_init(kf, s);
}

/* ---- lists --------------------------------------------------------------- */

int nidec_split_list(const char *s, char ***out, size_t *n, nidec_err *err)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	const char *p = s, *b, *e;

	while (next_item(&p, &b, &e)) {
		if (cnt == cap) {
			char **nv;
			cap = cap ? 2 * cap : 8;
			nv = nidec_realloc(v, cap * sizeof(*v));
			if (!nv)
				goto oom;
			v = nv;
		}
		v[cnt] = nidec_malloc((size_t)(e - b) + 1);
		if (!v[cnt])
			goto oom;
		memcpy(v[cnt], b, (size_t)(e - b));
		v[cnt][e - b] = '\0';
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
oom:
	nidec_strv_free(v, cnt);
	return nidec_fail(err, NIDEC_ENOMEM, "out of memory splitting a list");
}

void nidec_strv_free(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		nidec_free(v[i]);
	nidec_free(v);
}
