/*
 * group.c - the group-level files of a sweep, made from the
 * subjects' output files only (so that `nidec sweep --gather` after a
 * Slurm job array and a sweep in one launch give the same files):
 *
 *   <root>/dataset_description.json   BIDS derivatives description
 *   <root>/group_scores.tsv           subject class mean_score std chosen_C
 *   <root>/group_summary.json         per class: group mean, one-sample
 *                                     t-test against chance, group
 *                                     permutation p-value; every subject's
 *                                     status and error
 *   <root>/sub-<label>/error.txt      why a subject failed (removed on success)
 * and reads each subject's summary.json and null_scores.tsv (through the
 * results-directory reader, resultdir.h).
 *
 * Statistics (docs/SWEEP.md "Group statistics"):
 *  - a subject's score for a class is its mean score over outer folds
 *    (summary.json scores.<class>.mean);
 *  - the t-test is scipy.stats.ttest_1samp of those scores against the
 *    chance level (nidec_sweep_chance), one-sided (greater) and two-sided;
 *  - the group permutation p-value: permutation i of the group is the mean
 *    over subjects of each subject's i-th null score (every subject's
 *    permutation i relabels that subject's data), the observed group
 *    score the mean of the subjects' scores, p = (1 + #{i: null_i >=
 *    observed}) / (N + 1) with N the permutations every subject has.
 *
 * Rank 0 only; no MPI.  Files are written through a temporary and renamed
 * (nidec_file_write, file.h).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/version.h"
#include "nidec/mem.h"
#include "nidec/results.h"
#include "nidec/resultdir.h"
#include "nidec/sbuf.h"
#include "nidec/sweep.h"
#include "nidec/stats.h"

#include "slgroup.h"

#define BIDS_VERSION "1.9.0"

static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Serialise `root` (stolen) to `path`. */
static int write_json(const char *path, json_t *root, nidec_err *err)
{
	char *text;
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	int rc;

	if (!root)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory building '%s'", path);
	text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17) | JSON_ENSURE_ASCII);
	json_decref(root);
	if (!text)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory formatting '%s'", path);
	rc = nidec_sbuf_adds(&sb, text) | nidec_sbuf_adds(&sb, "\n");
	free(text); /* jansson's allocation */
	if (rc)
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory formatting '%s'", path);
	else
		rc = nidec_file_write(path, sb.buf, sb.len, err);
	nidec_sbuf_release(&sb);
	return rc;
}

int nidec_sweep_write_description(const nidec_sweep *sw, const char *root, nidec_err *err)
{
	char path[4096];
	json_t *d = json_object(), *gen = json_array(), *tool = json_object();
	nidec_sbuf name = NIDEC_SBUF_INIT;

	NIDEC_TRY(nidec_file_join(path, sizeof(path), root, "dataset_description.json", err));
	if (!d || !gen || !tool || (!sw->name && nidec_sbuf_addf(&name, "nidec decoding: %s",
								  sw->analysis ? sw->analysis : "?") < 0)) {
		json_decref(d);
		json_decref(gen);
		json_decref(tool);
		nidec_sbuf_release(&name);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory building '%s'", path);
	}
	json_object_set_new(d, "Name", json_string(sw->name ? sw->name : name.buf));
	nidec_sbuf_release(&name);
	json_object_set_new(d, "BIDSVersion", json_string(BIDS_VERSION));
	json_object_set_new(d, "DatasetType", json_string("derivative"));
	json_object_set_new(tool, "Name", json_string("nidec"));
	json_object_set_new(tool, "Version", json_string(nidec_version));
	json_object_set_new(tool, "Description",
			    json_string("cross-validated decoding (nidec sweep): per-subject weight maps, scores and predictions"));
	json_array_append_new(gen, tool);
	json_object_set_new(d, "GeneratedBy", gen);
	if (sw->bids_root) {
		json_t *src = json_array(), *e = json_object();
		char *abs = realpath(sw->bids_root, NULL);
		nidec_sbuf url = NIDEC_SBUF_INIT;
		if (nidec_sbuf_addf(&url, "file://%s", abs ? abs : sw->bids_root) == 0) {
			json_object_set_new(e, "URL", json_string(url.buf));
			json_array_append_new(src, e);
			json_object_set_new(d, "SourceDatasets", src);
		} else {
			json_decref(src);
			json_decref(e);
		}
		free(abs); /* realpath's malloc */
		nidec_sbuf_release(&url);
	}
	return write_json(path, d, err);
}

int nidec_sweep_mark(const char *root, const nidec_sweep_subject *sub, nidec_err *err)
{
	char dir[4096], path[4200];
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	int rc;

	/* a directory in use by another run is that run's: not a word in it
	 * (the failure is in group_summary.json) */
	if (sub->status == NIDEC_EBUSY)
		return 0;
	NIDEC_TRY(nidec_sweep_subject_dir(root, sub->label, dir, sizeof(dir), err));
	NIDEC_TRY(nidec_file_join(path, sizeof(path), dir, "error.txt", err));
	if (sub->status == 0) {
		if (unlink(path) < 0 && errno != ENOENT)
			return nidec_fail(err, NIDEC_EIO, "cannot remove '%s': %s", path, strerror(errno));
		return 0;
	}
	NIDEC_TRY(nidec_results_prepare_dir(dir, err));
	if (nidec_sbuf_addf(&sb, "%s\n", sub->error ? sub->error : nidec_err_name(sub->status)) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	rc = nidec_file_write(path, sb.buf, sb.len, err);
	nidec_sbuf_release(&sb);
	return rc;
}

/* Append the lines of `text` but [output] progress, report and dir. */
static int filter_config(const char *text, nidec_sbuf *out)
{
	const char *p = text, *section = "";
	char sec[64] = "";

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);
		int skip = 0;

		if (p[0] == '[') {
			const char *close = memchr(p, ']', len);
			size_t n = close ? (size_t)(close - p - 1) : 0;
			if (n >= sizeof(sec))
				n = sizeof(sec) - 1;
			memcpy(sec, p + 1, n);
			sec[n] = '\0';
			section = sec;
		} else if (!strcmp(section, "output") &&
			   (!strncmp(p, "progress =", 10) || !strncmp(p, "report =", 8) ||
			    !strncmp(p, "dir =", 5))) {
			skip = 1;
		}
		if (!skip && nidec_sbuf_add(out, p, len) < 0)
			return NIDEC_ENOMEM;
		p += len;
	}
	return 0;
}

int nidec_sweep_config_text(const nidec_cfg *cfg, nidec_sbuf *out)
{
	nidec_sbuf dump = NIDEC_SBUF_INIT;
	int rc = nidec_cfg_dump(cfg, &dump);

	if (rc == 0)
		rc = filter_config(dump.buf, out);
	nidec_sbuf_release(&dump);
	return rc < 0 ? NIDEC_ENOMEM : 0;
}

/* error.txt of a subject (one line, a few hundred bytes): *text = NULL if
 * the subject has none. */
#define ERROR_TXT_MAX ((size_t)1 << 20)

/* The value of "[section] key" in INI text (config dumps: one "key =
 * value" per line), into buf; 0 if the key is not there. */
static int ini_value(const char *text, const char *section, const char *key, char *buf, size_t n)
{
	const char *p = text;
	char sec[64] = "";
	size_t lk = strlen(key);

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (p[0] == '[') {
			const char *close = memchr(p, ']', len);
			snprintf(sec, sizeof(sec), "%.*s", close ? (int)(close - p - 1) : 0, p + 1);
		} else if (!strcmp(sec, section) && len > lk + 2 && !strncmp(p, key, lk) &&
			   !strncmp(p + lk, " =", 2)) {
			const char *v = p + lk + 2;
			while (*v == ' ')
				v++;
			snprintf(buf, n, "%.*s", (int)(len - (size_t)(v - p)), v);
			return 1;
		}
		p += len + (eol ? 1 : 0);
	}
	return 0;
}

/* "[cv] permutations = 100 here, 1000 there; ..." for every key whose
 * line differs between the INI texts `want` and `have`. */
static int diff_keys(const char *want, const char *have, nidec_sbuf *out)
{
	const char *texts[2] = { want, have }, *p;
	int t, add = 0;
	size_t shown = 0;

	for (t = 0; t < 2; t++) {
		char sec[64] = "";
		for (p = texts[t]; *p;) {
			const char *eol = strchr(p, '\n'), *eq;
			size_t len = eol ? (size_t)(eol - p) : strlen(p);
			char key[128], a[256], b[256];
			int ha, hb;
			if (p[0] == '[') {
				const char *close = memchr(p, ']', len);
				snprintf(sec, sizeof(sec), "%.*s", close ? (int)(close - p - 1) : 0, p + 1);
			} else if ((eq = memchr(p, '=', len)) && eq > p) {
				snprintf(key, sizeof(key), "%.*s", (int)(eq - p - (eq[-1] == ' ')), p);
				ha = ini_value(want, sec, key, a, sizeof(a));
				hb = ini_value(have, sec, key, b, sizeof(b));
				/* each key once: from want's pass, or have's own */
				if ((t == 0 || !ha) && (ha != hb || (ha && strcmp(a, b)))) {
					if (shown++ < 6)
						add |= nidec_sbuf_addf(out, "%s[%s] %s = %s in the sweep's config, %s in the subject's",
								       shown > 1 ? "; " : "", sec, key,
								       ha ? a : "(not set)", hb ? b : "(not set)");
				}
			}
			p += len + (eol ? 1 : 0);
		}
	}
	if (shown > 6)
		add |= nidec_sbuf_addf(out, "; and %zu more", shown - 6);
	return add < 0 ? NIDEC_ENOMEM : 0;
}

/* Does summary.json's recorded config match `cfg`?  When not and `diff`
 * is given, the keys that differ go there. */
static int config_matches(json_t *summary, const nidec_cfg *cfg, int *match, nidec_sbuf *diff)
{
	json_t *c = json_object_get(summary, "config");
	nidec_sbuf want = NIDEC_SBUF_INIT, have = NIDEC_SBUF_INIT;
	int rc = 0;

	*match = 0;
	if (!json_is_string(c))
		return 0;
	if (nidec_sweep_config_text(cfg, &want) < 0 || filter_config(json_string_value(c), &have) < 0)
		rc = NIDEC_ENOMEM;
	else
		*match = !strcmp(want.buf, have.buf);
	if (rc == 0 && !*match && diff)
		rc = diff_keys(want.buf ? want.buf : "", have.buf ? have.buf : "", diff);
	nidec_sbuf_release(&want);
	nidec_sbuf_release(&have);
	return rc;
}

int nidec_sweep_outputs_current(const char *dir, const nidec_cfg *cfg, const char *inputs_sha256,
				int *current, nidec_err *err)
{
	char path[4200];
	nidec_err e = NIDEC_ERR_INIT;
	json_t *root = NULL;
	int rc = 0, match = 0;

	*current = 0;
	NIDEC_TRY(nidec_file_join(path, sizeof(path), dir, "error.txt", err));
	if (access(path, F_OK) == 0)
		return 0;
	rc = nidec_resultdir_read_summary(dir, NIDEC_FILE_MISSING_OK, &root, &e);
	if (rc == NIDEC_ENOMEM)
		return nidec_fail(err, rc, "%s", e.msg);
	if (rc < 0 || !root)
		return 0; /* missing or unreadable: not current, it will be made again */
	if (config_matches(root, cfg, &match, NULL) < 0)
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	if (rc == 0 && match && inputs_sha256) {
		json_t *prov = json_object_get(root, "provenance");
		json_t *h = json_object_get(prov, "dataset_inputs_sha256");
		match = json_is_string(h) && !strcmp(json_string_value(h), inputs_sha256);
	}
	json_decref(root);
	*current = rc == 0 && match;
	return rc;
}

/* ---- gather ---------------------------------------------------------------- */

/* What the gather knows about one subject. */
struct subj {
	int ok;
	int config_differs;    /* --gather: made with another config */
	char *error;           /* why not ok */
	size_t n_classes;      /* classes of the subject's decoding */
	size_t n_keys;
	char **keys;           /* [n_keys] */
	double *mean, *std;    /* [n_keys] */
	size_t n_folds;
	double *chosen_C;      /* [n_keys * n_folds] */
	long n_perm;           /* rows of null_scores.tsv (0 = none) */
	double *null;          /* [n_perm * n_keys], columns in `keys` order */
	/* a searchlight's (mean: the mean over its spheres) */
	double *max;           /* [n_keys] the best sphere's score */
	size_t n_spheres;
	double chance;         /* its map's chance level (NaN: none) */
};

static void subj_release(struct subj *s)
{
	nidec_free(s->error);
	nidec_strv_free(s->keys, s->n_keys);
	nidec_free(s->mean);
	nidec_free(s->std);
	nidec_free(s->chosen_C);
	nidec_free(s->null);
	nidec_free(s->max);
	memset(s, 0, sizeof(*s));
}

static int subj_fail(struct subj *s, nidec_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Mark the subject failed with a message (not an error of the gather). */
static int subj_fail(struct subj *s, nidec_err *err, const char *fmt, ...)
{
	char msg[NIDEC_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->ok = 0;
	nidec_free(s->error);
	s->error = nidec_strdup_e(msg, err);
	return s->error ? 0 : NIDEC_ENOMEM;
}

/* The scores of summary.json into s (resultdir.h); a file that is not
 * what nidec writes fails the subject, not the gather. */
static int read_summary(struct subj *s, const char *path, json_t *root, nidec_err *err)
{
	nidec_result_scores sc = NIDEC_RESULT_SCORES_INIT;
	nidec_err e = NIDEC_ERR_INIT;
	int rc = nidec_resultdir_scores(root, path, &sc, &e);

	if (rc == NIDEC_EFORMAT)
		return subj_fail(s, err, "%s", e.msg);
	if (rc < 0)
		return nidec_fail(err, rc, "%s", e.msg);
	s->n_keys = sc.n_keys;
	s->keys = sc.keys;
	s->n_classes = sc.n_classes;
	s->n_folds = sc.n_folds;
	s->mean = sc.mean;
	s->std = sc.std;
	s->chosen_C = sc.chosen_C;
	s->ok = 1;
	return 0;
}

static double jreal(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A searchlight's summary.json into s: per class key, the mean and the
 * maximum of its map over the spheres (the map's for one key, the class
 * map's for K > 2); as read_summary. */
static int read_sl_summary(struct subj *s, const char *path, json_t *root, nidec_err *err)
{
	const json_t *keys = json_object_get(root, "keys"), *classes = json_object_get(root, "classes");
	const json_t *scores = json_object_get(root, "scores");
	size_t k, n;

	if (!json_is_array(keys) || !(n = json_array_size(keys)) ||
	    !json_is_integer(json_object_get(root, "n_spheres")))
		return subj_fail(s, err, "'%s' is not a searchlight's summary (no keys or n_spheres); was the subject run with another [sweep] kind?",
				 path);
	s->keys = nidec_calloc_e(n, sizeof(char *), "class keys", err);
	s->mean = nidec_malloc_e(n, sizeof(double), "class scores", err);
	s->std = nidec_malloc_e(n, sizeof(double), "class scores", err);
	s->max = nidec_malloc_e(n, sizeof(double), "class scores", err);
	if (!s->keys || !s->mean || !s->std || !s->max)
		return NIDEC_ENOMEM;
	s->n_keys = n;
	for (k = 0; k < n; k++) {
		const json_t *key = json_array_get(keys, k);
		const json_t *st = n == 1 ? json_object_get(root, "map")
					  : json_object_get(scores, json_string_value(key));
		if (!json_is_string(key) || !json_is_object(st))
			return subj_fail(s, err, "'%s': no map statistics for class key %zu", path, k);
		s->keys[k] = nidec_strdup_e(json_string_value(key), err);
		if (!s->keys[k])
			return NIDEC_ENOMEM;
		s->mean[k] = jreal(st, "mean");
		s->max[k] = jreal(st, "max");
		s->std[k] = NAN;
	}
	s->n_classes = json_is_array(classes) ? json_array_size(classes) : n;
	s->n_spheres = (size_t)json_integer_value(json_object_get(root, "n_spheres"));
	s->chance = jreal(root, "chance");
	s->ok = 1;
	return 0;
}

/* null_scores.tsv (if present) into s (resultdir.h); as read_summary. */
static int read_null(struct subj *s, const char *path, nidec_err *err)
{
	nidec_err e = NIDEC_ERR_INIT;
	double *v = NULL;
	long n = 0;
	int rc = nidec_resultdir_read_null(path, (const char *const *)s->keys, s->n_keys,
					   NIDEC_FILE_MISSING_OK, &v, &n, &e);

	if (rc == NIDEC_EFORMAT) {
		s->n_perm = 0;
		return subj_fail(s, err, "%s", e.msg);
	}
	if (rc < 0)
		return nidec_fail(err, rc, "%s", e.msg);
	s->null = v;
	s->n_perm = n;
	return 0;
}

/* Everything the gather reads for subject i. */
static int read_subject(const nidec_sweep *sw, const nidec_cfg *cfg, const char *root, size_t i,
			struct subj *s, nidec_err *err)
{
	const nidec_sweep_subject *sub = &sw->subject[i];
	char dir[4096], path[4200];
	char *text = NULL;
	nidec_err e = NIDEC_ERR_INIT;
	json_t *js = NULL;
	int rc, match;

	if (sub->status != 0)
		return subj_fail(s, err, "%s", sub->error ? sub->error : nidec_err_name(sub->status));
	NIDEC_TRY(nidec_sweep_subject_dir(root, sub->label, dir, sizeof(dir), err));
	NIDEC_TRY(nidec_file_join(path, sizeof(path), dir, "error.txt", err));
	NIDEC_TRY(nidec_file_read(path, ERROR_TXT_MAX, NIDEC_FILE_MISSING_OK, &text, NULL, err));
	if (text) {
		text[strcspn(text, "\n")] = '\0';
		rc = subj_fail(s, err, "%s", text[0] ? text : "failed (empty error.txt)");
		nidec_free(text);
		return rc;
	}
	NIDEC_TRY(nidec_file_join(path, sizeof(path), dir, "summary.json", err));
	rc = nidec_resultdir_read_summary(dir, NIDEC_FILE_MISSING_OK, &js, &e);
	if (rc == NIDEC_ENOMEM)
		return nidec_fail(err, rc, "%s", e.msg);
	if (rc < 0)
		return subj_fail(s, err, "%s", e.msg);
	if (!js)
		return subj_fail(s, err,
				 "sub-%s: no results ('%s' is missing: the subject's job did not run or did not finish); run it again",
				 sub->label, path);
	rc = 0;
	match = 1;
	if (cfg) {
		nidec_sbuf diff = NIDEC_SBUF_INIT;
		if (config_matches(js, cfg, &match, &diff) < 0) {
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
		} else if (!match) {
			/* the gather's config is what is wrong, most often: its
			 * subjects' results (and permutations) stay as they are */
			s->config_differs = 1;
			rc = subj_fail(s, err,
				       "sub-%s: '%s' was made with another config than the sweep's (%s); gather with the config the subjects ran with (the sweep's analysis config, --set), or run the subject again",
				       sub->label, path, diff.buf ? diff.buf : "the recorded config differs");
		}
		nidec_sbuf_release(&diff);
	}
	if (rc == 0 && match)
		rc = sw->kind == NIDEC_SWEEP_SEARCHLIGHT ? read_sl_summary(s, path, js, err)
							 : read_summary(s, path, js, err);
	json_decref(js);
	NIDEC_TRY(rc);
	if (!s->ok || sw->kind == NIDEC_SWEEP_SEARCHLIGHT)
		return 0; /* a searchlight's null maps are read by its group level */
	NIDEC_TRY(nidec_file_join(path, sizeof(path), dir, "null_scores.tsv", err));
	return read_null(s, path, err);
}

static int add_num(nidec_sbuf *sb, double v)
{
	return isnan(v) ? nidec_sbuf_adds(sb, "nan") : nidec_sbuf_add_double(sb, v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted union of the ok subjects' class keys (borrowed strings). */
static int key_union(const struct subj *ss, size_t n, const char ***out, size_t *n_out,
		     nidec_err *err)
{
	const char **u;
	size_t i, k, m = 0, cap = 0;

	for (i = 0; i < n; i++)
		if (ss[i].ok)
			cap += ss[i].n_keys;
	u = nidec_malloc_e(cap ? cap : 1, sizeof(*u), "class names", err);
	if (!u)
		return NIDEC_ENOMEM;
	for (i = 0; i < n; i++)
		for (k = 0; ss[i].ok && k < ss[i].n_keys; k++) {
			size_t j;
			for (j = 0; j < m; j++)
				if (!strcmp(u[j], ss[i].keys[k]))
					break;
			if (j == m)
				u[m++] = ss[i].keys[k];
		}
	qsort(u, m, sizeof(*u), cmp_str);
	*out = u;
	*n_out = m;
	return 0;
}

static long key_index(const struct subj *s, const char *key)
{
	size_t k;

	for (k = 0; k < s->n_keys; k++)
		if (!strcmp(s->keys[k], key))
			return (long)k;
	return -1;
}

/* The group entry of one class key. */
static json_t *class_json(const nidec_sweep *sw, const struct subj *ss, size_t n, const char *key,
			  double chance, nidec_err *err)
{
	json_t *e = json_object(), *subs = json_array(), *scores = json_array(), *tt = json_object();
	double *x = nidec_malloc_e(n ? n : 1, sizeof(double), "group scores", err);
	size_t i, m = 0;
	long n_perm = -1;
	nidec_ttest t;

	if (!e || !subs || !scores || !tt || !x) {
		json_decref(e);
		json_decref(subs);
		json_decref(scores);
		json_decref(tt);
		nidec_free(x);
		if (err && !err->code)
			nidec_fail(err, NIDEC_ENOMEM, "out of memory building the group summary");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		long k = ss[i].ok ? key_index(&ss[i], key) : -1;
		if (k < 0 || !isfinite(ss[i].mean[k]))
			continue;
		x[m++] = ss[i].mean[k];
		json_array_append_new(subs, json_string(sw->subject[i].label));
		json_array_append_new(scores, json_real(ss[i].mean[k]));
		if (n_perm < 0 || ss[i].n_perm < n_perm)
			n_perm = ss[i].n_perm;
	}
	nidec_stats_ttest_1samp(x, m, chance, &t);
	json_object_set_new(e, "n_subjects", json_integer((json_int_t)m));
	json_object_set_new(e, "subjects", subs);
	json_object_set_new(e, "scores", scores);
	json_object_set_new(e, "mean", jnum(t.mean));
	json_object_set_new(e, "std", jnum(t.sd));
	json_object_set_new(e, "sem", jnum(t.sem));
	json_object_set_new(e, "chance", jnum(chance));
	json_object_set_new(tt, "test", json_string("one-sample t-test of the subjects' scores against chance"));
	json_object_set_new(tt, "alternative", json_string("greater"));
	json_object_set_new(tt, "t", jnum(t.t)); /* null when infinite: see the note */
	json_object_set_new(tt, "df", jnum(t.df));
	json_object_set_new(tt, "p", jnum(t.p_greater));
	json_object_set_new(tt, "p_two_sided", jnum(t.p_two_sided));
	if (isinf(t.t))
		json_object_set_new(tt, "note",
				    json_string(t.t > 0 ? "t = +infinity: every subject has the same score, above chance"
							: "t = -infinity: every subject has the same score, below chance"));
	else if (m < 2 || isnan(chance) || isnan(t.p_greater))
		json_object_set_new(tt, "note",
				    json_string(m < 2 ? "no test: fewer than 2 subjects"
						: isnan(chance) ? "no test: no chance level for this scoring; set [sweep] chance"
								: "no test: every subject scored exactly chance"));
	json_object_set_new(e, "t_test", tt);

	if (n_perm > 0 && m > 0) {
		/* permutation i of the group = mean over subjects of their i-th null */
		json_t *pj = json_object();
		double obs = t.mean;
		long p, ge = 0;
		for (p = 0; p < n_perm; p++) {
			double s = 0;
			size_t c = 0;
			for (i = 0; i < n; i++) {
				long k = ss[i].ok ? key_index(&ss[i], key) : -1;
				if (k < 0 || !isfinite(ss[i].mean[k]))
					continue;
				s += ss[i].null[(size_t)p * ss[i].n_keys + (size_t)k];
				c++;
			}
			if (s / (double)c >= obs)
				ge++;
		}
		json_object_set_new(pj, "n", json_integer((json_int_t)n_perm));
		json_object_set_new(pj, "observed", jnum(obs));
		json_object_set_new(pj, "p_value", json_real((1.0 + (double)ge) / ((double)n_perm + 1.0)));
		json_object_set_new(pj, "method",
				    json_string("null of the group mean: permutation i averaged over subjects; p = (1 + #null >= observed) / (N + 1)"));
		json_object_set_new(e, "permutation", pj);
	}
	nidec_free(x);
	return e;
}

int nidec_sweep_gather(const nidec_sweep *sw, const nidec_cfg *base, nidec_cfg *const *cfgs,
		       const char *root, size_t *n_ok, size_t *n_failed, nidec_err *err)
{
	struct subj *ss = NULL;
	const char **keys = NULL;
	size_t n = sw->n_subjects, i, k, f, nk = 0, ok = 0, K = 0, *ok_idx = NULL;
	char path[4096];
	nidec_sbuf tsv = NIDEC_SBUF_INIT;
	json_t *js = NULL, *jsubs, *jclasses, *jsl = NULL;
	int rc = 0, add = 0, sl = sw->kind == NIDEC_SWEEP_SEARCHLIGHT;
	double chance;

	ss = nidec_calloc_e(n ? n : 1, sizeof(*ss), "the subject table", err);
	if (!ss)
		return NIDEC_ENOMEM;
	for (i = 0; i < n; i++) {
		NIDEC_TRY_GOTO(rc, read_subject(sw, cfgs ? cfgs[i] : NULL, root, i, &ss[i], err), done);
		if (ss[i].ok) {
			ok++;
			if (ss[i].n_classes > K)
				K = ss[i].n_classes;
		}
	}
	/* --gather (cfgs given) never rewrites the group files when it cannot
	 * gather: a subject made with another config means the gather's
	 * config is wrong (or the subject's), no subject means nothing to
	 * gather; the group files stay as they were */
	for (i = 0; cfgs && i < n; i++)
		if (ss[i].config_differs) {
			rc = nidec_fail(err, NIDEC_EINPUT, "cannot gather: %s; the group files were not written",
					ss[i].error);
			goto done;
		}
	if (cfgs && ok == 0) {
		for (i = 0; i < n && !ss[i].error; i++)
			;
		rc = nidec_fail(err, NIDEC_EINPUT,
				"cannot gather: no subject of the sweep has complete results (%s%s); the group files were not written",
				i < n ? ss[i].error : "no subject", n > 1 ? ", ..." : "");
		goto done;
	}
	NIDEC_TRY_GOTO(rc, key_union(ss, n, &keys, &nk, err), done);
	chance = nidec_sweep_chance(sw, base->scoring, K);
	if (sl) {
		/* the group maps first: subjects on different grids stop here,
		 * before any group file is written */
		ok_idx = nidec_malloc_e(n ? n : 1, sizeof(size_t), "the subject list", err);
		if (!ok_idx) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		for (i = 0, k = 0; i < n; i++)
			if (ss[i].ok)
				ok_idx[k++] = i;
		if (k && isnan(sw->chance))
			chance = ss[ok_idx[0]].chance;  /* the subjects' maps' own */
		NIDEC_TRY_GOTO(rc, nidec_sl_group(sw, root, ok_idx, k, chance, &jsl, err), done);
	}

	/* group_scores.tsv: one row per ok subject and class */
	add |= nidec_sbuf_adds(&tsv, sl ? "subject\tclass\tmean_score\tmax_score\tn_spheres\n"
					: "subject\tclass\tmean_score\tstd\tchosen_C\n");
	for (i = 0; sl && i < n; i++)
		for (k = 0; ss[i].ok && k < ss[i].n_keys; k++) {
			add |= nidec_sbuf_addf(&tsv, "%s\t%s\t", sw->subject[i].label, ss[i].keys[k]);
			add |= add_num(&tsv, ss[i].mean[k]);
			add |= nidec_sbuf_adds(&tsv, "\t");
			add |= add_num(&tsv, ss[i].max[k]);
			add |= nidec_sbuf_addf(&tsv, "\t%zu\n", ss[i].n_spheres);
		}
	for (i = 0; !sl && i < n; i++)
		for (k = 0; ss[i].ok && k < ss[i].n_keys; k++) {
			add |= nidec_sbuf_addf(&tsv, "%s\t%s\t", sw->subject[i].label, ss[i].keys[k]);
			add |= add_num(&tsv, ss[i].mean[k]);
			add |= nidec_sbuf_adds(&tsv, "\t");
			add |= add_num(&tsv, ss[i].std[k]);
			add |= nidec_sbuf_adds(&tsv, "\t");
			for (f = 0; f < ss[i].n_folds; f++) {
				if (f)
					add |= nidec_sbuf_adds(&tsv, ",");
				add |= add_num(&tsv, ss[i].chosen_C[k * ss[i].n_folds + f]);
			}
			add |= nidec_sbuf_adds(&tsv, "\n");
		}
	if (add) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory building group_scores.tsv");
		goto done;
	}
	NIDEC_TRY_GOTO(rc, nidec_file_join(path, sizeof(path), root, "group_scores.tsv", err), done);
	NIDEC_TRY_GOTO(rc, nidec_file_write(path, tsv.buf, tsv.len, err), done);

	/* group_summary.json */
	js = json_object();
	jsubs = json_array();
	jclasses = json_object();
	if (!js || !jsubs || !jclasses) {
		json_decref(jsubs);
		json_decref(jclasses);
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory building group_summary.json");
		goto done;
	}
	json_object_set_new(js, "nidec_version", json_string(nidec_version));
	json_object_set_new(js, "sweep", json_string(sw->path ? sw->path : ""));
	json_object_set_new(js, "analysis", json_string(sw->analysis ? sw->analysis : ""));
	json_object_set_new(js, "kind", json_string(sl ? "searchlight" : "decoder"));
	json_object_set_new(js, "scoring", json_string(nidec_scoring_name(base->scoring)));
	json_object_set_new(js, "n_subjects", json_integer((json_int_t)n));
	json_object_set_new(js, "n_ok", json_integer((json_int_t)ok));
	json_object_set_new(js, "n_failed", json_integer((json_int_t)(n - ok)));
	json_object_set_new(js, "chance", jnum(chance));
	json_object_set_new(js, "chance_rule",
			    json_string(!isnan(sw->chance) ? "set by [sweep] chance"
					: sl ? "auto: the chance level of the subjects' searchlight maps (their summary.json)"
					: "auto: 0.5 for roc_auc and balanced_accuracy; accuracy: 1/2 for 2 classes, (K-1)/K for the one-vs-rest problems of K > 2 classes; 0 for r2; none for f1, precision, recall and the negated errors"));
	for (i = 0; i < n; i++) {
		json_t *e = json_object();
		char d[4096];
		json_object_set_new(e, "subject", json_string(sw->subject[i].label));
		json_object_set_new(e, "status", json_string(ss[i].ok ? "ok" : "failed"));
		if (nidec_sweep_subject_dir("", sw->subject[i].label, d, sizeof(d), NULL) == 0)
			json_object_set_new(e, "dir", json_string(d + 1));
		if (ss[i].ok) {
			json_t *m = json_object();
			for (k = 0; k < ss[i].n_keys; k++)
				json_object_set_new(m, ss[i].keys[k], jnum(ss[i].mean[k]));
			json_object_set_new(e, "mean_score", m);
			if (ss[i].n_perm)
				json_object_set_new(e, "permutations", json_integer(ss[i].n_perm));
		} else {
			json_object_set_new(e, "error", json_string(ss[i].error ? ss[i].error : "failed"));
		}
		json_array_append_new(jsubs, e);
	}
	json_object_set_new(js, "subjects", jsubs);
	for (k = 0; k < nk; k++) {
		json_t *c = class_json(sw, ss, n, keys[k], chance, err);
		if (!c) {
			json_decref(jclasses);
			rc = NIDEC_ENOMEM;
			goto done;
		}
		json_object_set_new(jclasses, keys[k], c);
	}
	json_object_set_new(js, "classes", jclasses);
	if (jsl) {
		json_object_set_new(js, "searchlight", jsl);
		jsl = NULL;
	}
	NIDEC_TRY_GOTO(rc, nidec_file_join(path, sizeof(path), root, "group_summary.json", err), done);
	rc = write_json(path, js, err);
	js = NULL;
	if (rc < 0)
		goto done;

	/* the table on stdout */
	nidec_out("%-10s %-16s %-10s %s\n", "subject", "class", nidec_scoring_name(base->scoring),
		  sl ? "best sphere" : "std");
	for (i = 0; i < n; i++) {
		if (!ss[i].ok) {
			nidec_out("%-10s failed: %s\n", sw->subject[i].label, ss[i].error ? ss[i].error : "?");
			continue;
		}
		for (k = 0; k < ss[i].n_keys; k++)
			nidec_out("%-10s %-16s %-10.4f %.4f\n", sw->subject[i].label, ss[i].keys[k],
				  ss[i].mean[k], sl ? ss[i].max[k] : ss[i].std[k]);
	}
	for (k = 0; k < nk; k++) {
		double *x = nidec_malloc_e(n ? n : 1, sizeof(double), "group scores", err);
		size_t m = 0;
		nidec_ttest t;
		if (!x) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		for (i = 0; i < n; i++) {
			long kk = ss[i].ok ? key_index(&ss[i], keys[k]) : -1;
			if (kk >= 0 && isfinite(ss[i].mean[kk]))
				x[m++] = ss[i].mean[kk];
		}
		nidec_stats_ttest_1samp(x, m, chance, &t);
		nidec_free(x);
		if (isnan(t.p_greater))
			nidec_out("group      %-16s %-10.4f (%zu subject%s, no t-test)\n", keys[k], t.mean, m,
				  m == 1 ? "" : "s");
		else
			nidec_out("group      %-16s %-10.4f t(%g) = %.3f vs chance %g, p = %.3g (one-sided)\n",
				  keys[k], t.mean, t.df, t.t, chance, t.p_greater);
	}
	if (jsl || sl)
		nidec_out("wrote %s/group_searchlight_*.nii.gz\n", root);
	nidec_out("wrote %s/group_scores.tsv\nwrote %s/group_summary.json\n", root, root);
done:
	json_decref(js);
	json_decref(jsl);
	nidec_free(ok_idx);
	nidec_sbuf_release(&tsv);
	nidec_free(keys);
	for (i = 0; i < n; i++)
		subj_release(&ss[i]);
	nidec_free(ss);
	if (rc == 0) {
		*n_ok = ok;
		*n_failed = n - ok;
	}
	return rc;
}
