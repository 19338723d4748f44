/*
 * cfg.c - configuration schema, INI loading (libinih), overrides, defaults
 * and validation.  See include/nidec/cfg.h for the lifecycle.
 *
 * Design: one table (`keys`) lists every key with its default and, where it
 * differs, nilearn's default.  Values are kept as strings until
 * nidec_cfg_finish(), which fills the defaults (compat decides which) and
 * parses everything into typed fields.  So `--set` overrides, compat
 * defaults, "did you mean" suggestions and the canonical dump all come from
 * the same table.  Depends on libc and libinih only.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/cfg.h"
#include "nidec/mem.h"

struct key {
	const char *section;
	const char *name;
	const char *def;     /* default */
	const char *nilearn; /* default under compat = nilearn, NULL = same */
};

/* Order matters: it is the order of the canonical dump. */
static const struct key keys[NIDEC_CFG_N_KEYS] = {
	{ "data", "bold", "", NULL },
	{ "data", "mask", "", NULL },
	{ "data", "labels", "", NULL },
	{ "data", "events", "", NULL },
	{ "data", "conditions", "", NULL },
	{ "data", "label_column", "labels", NULL },
	{ "data", "run_column", "chunks", NULL },
	{ "data", "hrf_shift", "0", NULL },
	{ "data", "dataset", "", NULL },
	{ "preprocess", "standardize", "zscore_sample", NULL },
	{ "preprocess", "standardize_scope", "train", "all" },
	{ "preprocess", "screening_percentile", "100", NULL },
	{ "model", "estimator", "svc", NULL },
	{ "model", "C", "1, 10, 100", NULL },
	{ "model", "tol", "1e-4", NULL },
	{ "model", "solver", "dcd", NULL },
	{ "cv", "scheme", "leave-one-run-out", NULL },
	{ "cv", "n_folds", "5", NULL },
	{ "cv", "holdout", "0.2", NULL },
	{ "cv", "folds_file", "", NULL },
	{ "cv", "selection", "nested", "test-fold" },
	{ "cv", "inner_scheme", "auto", NULL },
	{ "cv", "inner_folds", "5", "10" },
	{ "cv", "scoring", "roc_auc", NULL },
	{ "cv", "compat", "none", NULL },
	{ "cv", "permutations", "0", NULL },
	{ "cv", "permute_within", "run", NULL },
	{ "cv", "seed", "0", NULL },
	{ "output", "dir", "results", NULL },
	{ "output", "report", "true", NULL },
	{ "output", "progress", "10", NULL },
	{ "output", "checkpoint_interval", "30", NULL },
	/* reserved slots keep NIDEC_CFG_N_KEYS stable while keys are added */
	{ NULL, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL },
};

enum { K_COMPAT = 24 };

struct name_val {
	const char *name;
	int val;
};

static const struct name_val std_names[] = {
	{ "none", NIDEC_STD_NONE }, { "zscore", NIDEC_STD_ZSCORE },
	{ "zscore_sample", NIDEC_STD_ZSCORE_SAMPLE }, { NULL, 0 }
};
static const struct name_val scope_names[] = {
	{ "train", NIDEC_SCOPE_TRAIN }, { "all", NIDEC_SCOPE_ALL }, { NULL, 0 }
};
static const struct name_val est_names[] = {
	{ "svc", NIDEC_EST_SVC }, { "svc_l1", NIDEC_EST_SVC_L1 },
	{ "logistic", NIDEC_EST_LOGISTIC }, { "logistic_l1", NIDEC_EST_LOGISTIC_L1 },
	{ "dummy", NIDEC_EST_DUMMY }, { NULL, 0 }
};
static const struct name_val solver_names[] = {
	{ "dcd", NIDEC_SOLVER_DCD }, { "liblinear", NIDEC_SOLVER_LIBLINEAR }, { NULL, 0 }
};
static const struct name_val scheme_names[] = {
	{ "none", NIDEC_CV_NONE }, { "holdout", NIDEC_CV_HOLDOUT },
	{ "kfold", NIDEC_CV_KFOLD }, { "stratified-kfold", NIDEC_CV_STRATIFIED_KFOLD },
	{ "leave-one-run-out", NIDEC_CV_LEAVE_ONE_RUN_OUT },
	{ "folds-file", NIDEC_CV_FOLDS_FILE }, { NULL, 0 }
};
static const struct name_val inner_names[] = {
	{ "auto", NIDEC_CV_AUTO }, { "none", NIDEC_CV_NONE },
	{ "kfold", NIDEC_CV_KFOLD }, { "stratified-kfold", NIDEC_CV_STRATIFIED_KFOLD },
	{ "leave-one-run-out", NIDEC_CV_LEAVE_ONE_RUN_OUT }, { NULL, 0 }
};
static const struct name_val sel_names[] = {
	{ "nested", NIDEC_SEL_NESTED }, { "test-fold", NIDEC_SEL_TEST_FOLD }, { NULL, 0 }
};
static const struct name_val scoring_names[] = {
	{ "accuracy", NIDEC_SCORE_ACCURACY },
	{ "balanced_accuracy", NIDEC_SCORE_BALANCED_ACCURACY },
	{ "roc_auc", NIDEC_SCORE_ROC_AUC }, { "f1", NIDEC_SCORE_F1 },
	{ "precision", NIDEC_SCORE_PRECISION }, { "recall", NIDEC_SCORE_RECALL },
	{ NULL, 0 }
};
static const struct name_val compat_names[] = {
	{ "none", NIDEC_COMPAT_NONE }, { "nilearn", NIDEC_COMPAT_NILEARN }, { NULL, 0 }
};
static const struct name_val perm_names[] = {
	{ "run", NIDEC_PERM_RUN }, { "all", NIDEC_PERM_ALL }, { NULL, 0 }
};
static const struct name_val bool_names[] = {
	{ "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
	{ "1", 1 }, { "0", 0 }, { "on", 1 }, { "off", 0 }, { NULL, 0 }
};

static const char *val_name(const struct name_val *t, int v)
{
	for (; t->name; t++)
		if (t->val == v)
			return t->name;
	return "?";
}

const char *nidec_scheme_name(int s) { return s == NIDEC_CV_AUTO ? "auto" : val_name(scheme_names, s); }
const char *nidec_scoring_name(int s) { return val_name(scoring_names, s); }
const char *nidec_estimator_name(int e) { return val_name(est_names, e); }

static int find_key(const char *section, const char *name)
{
	int i;

	for (i = 0; i < NIDEC_CFG_N_KEYS; i++)
		if (keys[i].name && !strcmp(keys[i].section, section) &&
		    !strcmp(keys[i].name, name))
			return i;
	return -1;
}

/* Edit distance, for "did you mean"; short strings only. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (lb >= 63 || la >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0], tmp;
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t best = diag + (tolower((unsigned char)a[i - 1]) !=
					      tolower((unsigned char)b[j - 1]));
			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = tmp;
		}
	}
	return row[lb];
}

/* Best-matching key name for an unknown "section.key", or NULL. */
static int suggest_key(const char *section, const char *name)
{
	size_t best = 4, d;
	int i, hit = -1;

	for (i = 0; i < NIDEC_CFG_N_KEYS; i++) {
		if (!keys[i].name)
			continue;
		d = edit_distance(name, keys[i].name) +
		    (strcmp(section, keys[i].section) ? 1 : 0);
		if (d < best) {
			best = d;
			hit = i;
		}
	}
	return hit;
}

static int section_known(const char *section)
{
	int i;

	for (i = 0; i < NIDEC_CFG_N_KEYS; i++)
		if (keys[i].name && !strcmp(keys[i].section, section))
			return 1;
	return 0;
}

void nidec_cfg_init(nidec_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

static int put_index(nidec_cfg *cfg, int k, const char *value, const char *origin,
		     nidec_err *err)
{
	char *v = nidec_strdup(value), *o = nidec_strdup(origin);

	if (!v || !o) {
		nidec_free(v);
		nidec_free(o);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory storing [%s] %s",
				  keys[k].section, keys[k].name);
	}
	nidec_free(cfg->raw[k]);
	nidec_free(cfg->origin[k]);
	cfg->raw[k] = v;
	cfg->origin[k] = o;
	cfg->finished = 0;
	return 0;
}

static int unknown_key(const char *where, const char *section, const char *name,
		       nidec_err *err)
{
	int s;

	if (!section_known(section)) {
		const char *secs[] = { "data", "preprocess", "model", "cv", "output" };
		size_t i, best = 3;
		const char *hit = NULL;
		for (i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
			size_t d = edit_distance(section, secs[i]);
			if (d < best) {
				best = d;
				hit = secs[i];
			}
		}
		if (hit)
			return nidec_fail(err, NIDEC_EINPUT,
					  "%s: unknown section [%s]; did you mean [%s]?",
					  where, section, hit);
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: unknown section [%s]; sections are [data] [preprocess] [model] [cv] [output]",
				  where, section);
	}
	s = suggest_key(section, name);
	if (s >= 0)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: unknown key '%s' in [%s]; did you mean '%s' in [%s]?",
				  where, name, section, keys[s].name, keys[s].section);
	return nidec_fail(err, NIDEC_EINPUT,
			  "%s: unknown key '%s' in [%s]; see configs/default.ini for every key",
			  where, name, section);
}

int nidec_cfg_put(nidec_cfg *cfg, const char *section, const char *name,
		  const char *value, const char *origin, nidec_err *err)
{
	int k = find_key(section, name);

	if (k < 0)
		return unknown_key(origin, section, name, err);
	return put_index(cfg, k, value, origin, err);
}

int nidec_cfg_is_set(const nidec_cfg *cfg, const char *section, const char *name)
{
	int k = find_key(section, name);

	return k >= 0 && cfg->raw[k] != NULL;
}

struct load_ctx {
	nidec_cfg *cfg;
	const char *path;
	nidec_err *err;
	int seen[NIDEC_CFG_N_KEYS];
	int failed;
};

static int on_ini_entry(void *user, const char *section, const char *name,
		       const char *value)
{
	struct load_ctx *c = user;
	char origin[512];
	int k;

	if (c->failed)
		return 0;
	snprintf(origin, sizeof(origin), "config '%s'", c->path);
	if (!section[0]) {
		nidec_fail(c->err, NIDEC_EINPUT,
			   "config '%s': key '%s' is outside any section; put it under [data], [preprocess], [model], [cv] or [output]",
			   c->path, name);
		c->failed = 1;
		return 0;
	}
	k = find_key(section, name);
	if (k < 0) {
		unknown_key(origin, section, name, c->err);
		c->failed = 1;
		return 0;
	}
	if (c->seen[k]) {
		nidec_fail(c->err, NIDEC_EINPUT,
			   "config '%s': key '%s' appears twice in [%s]; keep one",
			   c->path, name, section);
		c->failed = 1;
		return 0;
	}
	c->seen[k] = 1;
	if (put_index(c->cfg, k, value, origin, c->err) < 0) {
		c->failed = 1;
		return 0;
	}
	return 1;
}

int nidec_cfg_load(nidec_cfg *cfg, const char *path, nidec_err *err)
{
	struct load_ctx c;
	FILE *f;
	int rc;
	char *src;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.path = path;
	c.err = err;
	f = fopen(path, "r");
	if (!f)
		return nidec_fail(err, NIDEC_EIO, "cannot open config '%s': %s", path,
				  strerror(errno));
	rc = ini_parse_file(f, on_ini_entry, &c);
	fclose(f);
	if (c.failed)
		return err ? err->code : NIDEC_EINPUT;
	if (rc > 0)
		return nidec_fail(err, NIDEC_EINPUT,
				  "config '%s' line %d: cannot parse; expected '[section]', 'key = value' or a ';' comment",
				  path, rc);
	if (rc < 0)
		return nidec_fail(err, NIDEC_EIO, "cannot read config '%s'", path);
	src = nidec_strdup(path);
	if (!src)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	nidec_free(cfg->source);
	cfg->source = src;
	return 0;
}

int nidec_cfg_set(nidec_cfg *cfg, const char *assignment, nidec_err *err)
{
	const char *eq = strchr(assignment, '='), *dot;
	char section[64], name[64], origin[160];
	size_t ls, ln;
	const char *value;

	dot = strchr(assignment, '.');
	if (!eq || !dot || dot > eq)
		return nidec_fail(err, NIDEC_EINPUT,
				  "--set '%s': expected section.key=value, e.g. --set cv.scheme=kfold",
				  assignment);
	ls = (size_t)(dot - assignment);
	ln = (size_t)(eq - dot - 1);
	if (ls == 0 || ln == 0 || ls >= sizeof(section) || ln >= sizeof(name))
		return nidec_fail(err, NIDEC_EINPUT,
				  "--set '%s': expected section.key=value, e.g. --set cv.scheme=kfold",
				  assignment);
	memcpy(section, assignment, ls);
	section[ls] = '\0';
	memcpy(name, dot + 1, ln);
	name[ln] = '\0';
	value = eq + 1;
	snprintf(origin, sizeof(origin), "--set %s.%s", section, name);
	return nidec_cfg_put(cfg, section, name, value, origin, err);
}

/* ---- parsing helpers --------------------------------------------------- */

static const char *effective(const nidec_cfg *cfg, int k)
{
	if (cfg->raw[k])
		return cfg->raw[k];
	if (cfg->compat == NIDEC_COMPAT_NILEARN && keys[k].nilearn)
		return keys[k].nilearn;
	return keys[k].def;
}

static const char *where(const nidec_cfg *cfg, int k)
{
	return cfg->origin[k] ? cfg->origin[k] : "default";
}

static int bad_value(const nidec_cfg *cfg, int k, const char *fix, nidec_err *err)
{
	return nidec_fail(err, NIDEC_EINPUT, "%s: [%s] %s = '%s' is invalid; %s",
			  where(cfg, k), keys[k].section, keys[k].name, effective(cfg, k), fix);
}

static int parse_enum(const nidec_cfg *cfg, int k, const struct name_val *t, int *out,
		      nidec_err *err)
{
	const char *v = effective(cfg, k);
	const struct name_val *p;
	char fix[512] = "use one of:";
	size_t best = 4;
	const char *hit = NULL;

	for (p = t; p->name; p++)
		if (!strcmp(v, p->name)) {
			*out = p->val;
			return 0;
		}
	for (p = t; p->name; p++) {
		size_t d = edit_distance(v, p->name);
		if (d < best) {
			best = d;
			hit = p->name;
		}
		strncat(fix, " ", sizeof(fix) - strlen(fix) - 1);
		strncat(fix, p->name, sizeof(fix) - strlen(fix) - 1);
	}
	if (hit)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s: [%s] %s = '%s' is unknown; did you mean '%s'? (%s)",
				  where(cfg, k), keys[k].section, keys[k].name, v, hit, fix);
	return bad_value(cfg, k, fix, err);
}

static int parse_double(const nidec_cfg *cfg, int k, double lo, double hi, int lo_open,
			double *out, nidec_err *err)
{
	const char *v = effective(cfg, k);
	char *end, fix[160];
	double d;

	errno = 0;
	d = strtod(v, &end);
	while (*end && isspace((unsigned char)*end))
		end++;
	if (end == v || *end || errno || !isfinite(d) || d < lo || d > hi ||
	    (lo_open && d == lo)) {
		snprintf(fix, sizeof(fix), "give a number in %s%g, %g]", lo_open ? "(" : "[", lo, hi);
		return bad_value(cfg, k, fix, err);
	}
	*out = d;
	return 0;
}

static int parse_long(const nidec_cfg *cfg, int k, long lo, long hi, long *out,
		      nidec_err *err)
{
	const char *v = effective(cfg, k);
	char *end, fix[160];
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	while (*end && isspace((unsigned char)*end))
		end++;
	if (end == v || *end || errno || n < lo || n > hi) {
		snprintf(fix, sizeof(fix), "give a whole number from %ld to %ld", lo, hi);
		return bad_value(cfg, k, fix, err);
	}
	*out = n;
	return 0;
}

static int parse_int(const nidec_cfg *cfg, int k, long lo, long hi, int *out, nidec_err *err)
{
	long v;

	NIDEC_TRY(parse_long(cfg, k, lo, hi, &v, err));
	*out = (int)v;
	return 0;
}

static int parse_str(const nidec_cfg *cfg, int k, char **out, nidec_err *err)
{
	const char *v = effective(cfg, k);

	nidec_free(*out);
	*out = NULL;
	if (!v[0])
		return 0;
	*out = nidec_strdup(v);
	if (!*out)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	return 0;
}

int nidec_split_list(const char *s, char ***out, size_t *n, nidec_err *err)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	const char *p = s;

	while (*p) {
		const char *b, *e;
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		b = p;
		while (*p && *p != ',')
			p++;
		e = p;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
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

static int parse_C(nidec_cfg *cfg, int k, nidec_err *err)
{
	char **items = NULL;
	size_t n = 0, i;
	double *C;

	NIDEC_TRY(nidec_split_list(effective(cfg, k), &items, &n, err));
	if (n == 0) {
		nidec_strv_free(items, n);
		return bad_value(cfg, k, "give at least one C > 0, e.g. C = 1, 10, 100", err);
	}
	C = nidec_calloc(n, sizeof(*C));
	if (!C) {
		nidec_strv_free(items, n);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		char *end;
		errno = 0;
		C[i] = strtod(items[i], &end);
		if (end == items[i] || *end || errno || !isfinite(C[i]) || C[i] <= 0) {
			int rc = nidec_fail(err, NIDEC_EINPUT,
					    "%s: [model] C: '%s' is not a number > 0; give a list such as C = 1, 10, 100",
					    where(cfg, k), items[i]);
			nidec_free(C);
			nidec_strv_free(items, n);
			return rc;
		}
	}
	nidec_strv_free(items, n);
	nidec_free(cfg->C);
	cfg->C = C;
	cfg->n_C = n;
	return 0;
}

static int check_combinations(nidec_cfg *cfg, nidec_err *err)
{
	if (cfg->labels && cfg->events)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s and %s: give either [data] labels or [data] events, not both",
				  cfg->origin[2], cfg->origin[3]);
	if (cfg->scheme == NIDEC_CV_FOLDS_FILE && !cfg->folds_file)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[cv] scheme = folds-file needs [cv] folds_file = PATH (a TSV with columns sample and fold)");
	if (cfg->selection == NIDEC_SEL_NESTED && cfg->inner_scheme == NIDEC_CV_NONE)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[cv] selection = nested needs an inner scheme; set [cv] inner_scheme = auto, or selection = test-fold");
	if (cfg->estimator == NIDEC_EST_DUMMY && cfg->n_C > 1 &&
	    nidec_cfg_is_set(cfg, "model", "C"))
		return nidec_fail(err, NIDEC_EINPUT,
				  "[model] estimator = dummy has no C; remove [model] C or give one value");
	return 0;
}

int nidec_cfg_finish(nidec_cfg *cfg, nidec_err *err)
{
	long perms, seed;
	int k = 0;

	/* compat first: it decides the defaults of the other keys */
	NIDEC_TRY(parse_enum(cfg, K_COMPAT, compat_names, &cfg->compat, err));

	NIDEC_TRY(parse_str(cfg, k++, &cfg->bold, err));
	NIDEC_TRY(parse_str(cfg, k++, &cfg->mask, err));
	NIDEC_TRY(parse_str(cfg, k++, &cfg->labels, err));
	NIDEC_TRY(parse_str(cfg, k++, &cfg->events, err));
	nidec_strv_free(cfg->conditions, cfg->n_conditions);
	cfg->conditions = NULL;
	cfg->n_conditions = 0;
	NIDEC_TRY(nidec_split_list(effective(cfg, k++), &cfg->conditions, &cfg->n_conditions, err));
	NIDEC_TRY(parse_str(cfg, k++, &cfg->label_column, err));
	NIDEC_TRY(parse_str(cfg, k++, &cfg->run_column, err));
	NIDEC_TRY(parse_double(cfg, k++, -60, 60, 0, &cfg->hrf_shift, err));
	NIDEC_TRY(parse_str(cfg, k++, &cfg->dataset, err));

	NIDEC_TRY(parse_enum(cfg, k++, std_names, &cfg->standardize, err));
	NIDEC_TRY(parse_enum(cfg, k++, scope_names, &cfg->standardize_scope, err));
	NIDEC_TRY(parse_double(cfg, k++, 0, 100, 1, &cfg->screening_percentile, err));

	NIDEC_TRY(parse_enum(cfg, k++, est_names, &cfg->estimator, err));
	NIDEC_TRY(parse_C(cfg, k++, err));
	NIDEC_TRY(parse_double(cfg, k++, 0, 1, 1, &cfg->tol, err));
	NIDEC_TRY(parse_enum(cfg, k++, solver_names, &cfg->solver, err));

	NIDEC_TRY(parse_enum(cfg, k++, scheme_names, &cfg->scheme, err));
	NIDEC_TRY(parse_int(cfg, k++, 2, 100000, &cfg->n_folds, err));
	NIDEC_TRY(parse_double(cfg, k++, 0, 1e9, 1, &cfg->holdout, err));
	if (cfg->holdout >= 1 && cfg->holdout != floor(cfg->holdout))
		return bad_value(cfg, k - 1, "give a whole number of samples (e.g. 30) or a fraction in (0, 1)", err);
	NIDEC_TRY(parse_str(cfg, k++, &cfg->folds_file, err));
	NIDEC_TRY(parse_enum(cfg, k++, sel_names, &cfg->selection, err));
	NIDEC_TRY(parse_enum(cfg, k++, inner_names, &cfg->inner_scheme, err));
	NIDEC_TRY(parse_int(cfg, k++, 2, 100000, &cfg->inner_folds, err));
	NIDEC_TRY(parse_enum(cfg, k++, scoring_names, &cfg->scoring, err));
	k++; /* compat, parsed above */
	NIDEC_TRY(parse_long(cfg, k++, 0, 100000000L, &perms, err));
	cfg->permutations = perms;
	NIDEC_TRY(parse_enum(cfg, k++, perm_names, &cfg->permute_within, err));
	NIDEC_TRY(parse_long(cfg, k++, 0, 2147483647L, &seed, err));
	cfg->seed = (uint64_t)seed;

	NIDEC_TRY(parse_str(cfg, k++, &cfg->dir, err));
	if (!cfg->dir)
		return bad_value(cfg, k - 1, "give an output directory", err);
	NIDEC_TRY(parse_enum(cfg, k++, bool_names, &cfg->report, err));
	NIDEC_TRY(parse_double(cfg, k++, 0, 1e6, 0, &cfg->progress, err));
	NIDEC_TRY(parse_double(cfg, k++, 0, 1e9, 0, &cfg->checkpoint_interval, err));

	NIDEC_TRY(check_combinations(cfg, err));
	cfg->finished = 1;
	return 0;
}

const char *nidec_cfg_value(const nidec_cfg *cfg, const char *section, const char *name)
{
	int k = find_key(section, name);

	return k < 0 ? NULL : effective(cfg, k);
}

int nidec_cfg_dump(const nidec_cfg *cfg, nidec_sbuf *out)
{
	const char *section = "";
	int k;

	for (k = 0; k < NIDEC_CFG_N_KEYS; k++) {
		if (!keys[k].name)
			continue;
		if (strcmp(section, keys[k].section)) {
			section = keys[k].section;
			if (nidec_sbuf_addf(out, "%s[%s]\n", out->len ? "\n" : "", section) < 0)
				return NIDEC_ENOMEM;
		}
		if (nidec_sbuf_addf(out, "%s = %s\n", keys[k].name, effective(cfg, k)) < 0)
			return NIDEC_ENOMEM;
	}
	return 0;
}

void nidec_cfg_release(nidec_cfg *cfg)
{
	int k;

	nidec_free(cfg->bold);
	nidec_free(cfg->mask);
	nidec_free(cfg->labels);
	nidec_free(cfg->events);
	nidec_strv_free(cfg->conditions, cfg->n_conditions);
	nidec_free(cfg->label_column);
	nidec_free(cfg->run_column);
	nidec_free(cfg->dataset);
	nidec_free(cfg->C);
	nidec_free(cfg->folds_file);
	nidec_free(cfg->dir);
	nidec_free(cfg->source);
	for (k = 0; k < NIDEC_CFG_N_KEYS; k++) {
		nidec_free(cfg->raw[k]);
		nidec_free(cfg->origin[k]);
	}
	nidec_cfg_init(cfg);
}
