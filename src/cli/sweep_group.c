/*
 * sweep_group.c - the group-level files of a sweep, made from the
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
 * and reads each subject's summary.json and null_scores.tsv (results.h).
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

#include "cmd.h"
#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"
#include "sweep.h"
#include "sweep_stats.h"

#define BIDS_VERSION "1.9.0"

static int path_join(char *out, size_t len, const char *dir, const char *name, nidec_err *err)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		return nidec_fail(err, NIDEC_EINPUT, "path '%s/%s' is too long", dir, name);
	return 0;
}

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

	NIDEC_TRY(path_join(path, sizeof(path), root, "dataset_description.json", err));
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

	NIDEC_TRY(nidec_sweep_subject_dir(root, sub->label, dir, sizeof(dir), err));
	NIDEC_TRY(path_join(path, sizeof(path), dir, "error.txt", err));
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

/* Read a whole small file into a new string; *text = NULL if it does not
 * exist. */
static int read_small(const char *path, char **text, nidec_err *err)
{
	FILE *f = fopen(path, "r");
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	char buf[4096];
	size_t n;
	int rc = 0;

	*text = NULL;
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return nidec_fail(err, NIDEC_EIO, "cannot open '%s': %s", path, strerror(errno));
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (nidec_sbuf_add(&sb, buf, n) < 0) {
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
			break;
		}
	if (rc == 0 && ferror(f))
		rc = nidec_fail(err, NIDEC_EIO, "cannot read '%s'", path);
	fclose(f);
	if (rc == 0) {
		*text = nidec_sbuf_detach(&sb, NULL);
		if (!*text)
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
	}
	nidec_sbuf_release(&sb);
	return rc;
}

/* Does summary.json's recorded config match `cfg`? */
static int config_matches(json_t *summary, const nidec_cfg *cfg, int *match)
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
	nidec_sbuf_release(&want);
	nidec_sbuf_release(&have);
	return rc;
}

int nidec_sweep_outputs_current(const char *dir, const nidec_cfg *cfg, const char *inputs_sha256,
				int *current, nidec_err *err)
{
	char path[4200];
	json_t *root;
	json_error_t je;
	int rc = 0, match = 0;

	*current = 0;
	NIDEC_TRY(path_join(path, sizeof(path), dir, "error.txt", err));
	if (access(path, F_OK) == 0)
		return 0;
	NIDEC_TRY(path_join(path, sizeof(path), dir, "summary.json", err));
	if (access(path, F_OK) < 0)
		return 0;
	root = json_load_file(path, 0, &je);
	if (!root)
		return 0; /* unreadable: not current, it will be made again */
	if (config_matches(root, cfg, &match) < 0)
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
	char *error;           /* why not ok */
	size_t n_classes;      /* classes of the subject's decoding */
	size_t n_keys;
	char **keys;           /* [n_keys] */
	double *mean, *std;    /* [n_keys] */
	size_t n_folds;
	double *chosen_C;      /* [n_keys * n_folds] */
	long n_perm;           /* rows of null_scores.tsv (0 = none) */
	double *null;          /* [n_perm * n_keys], columns in `keys` order */
};

static void subj_release(struct subj *s)
{
	nidec_free(s->error);
	nidec_strv_free(s->keys, s->n_keys);
	nidec_free(s->mean);
	nidec_free(s->std);
	nidec_free(s->chosen_C);
	nidec_free(s->null);
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

static double jget_num(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Parse summary.json into s. */
static int read_summary(struct subj *s, const char *path, json_t *root, nidec_err *err)
{
	json_t *keys = json_object_get(root, "keys"), *scores = json_object_get(root, "scores");
	json_t *classes = json_object_get(root, "classes");
	size_t k, f;

	if (!json_is_array(keys) || !json_is_object(scores) || json_array_size(keys) == 0)
		return subj_fail(s, err, "'%s' has no scores (keys/scores missing); run the subject again", path);
	s->n_keys = json_array_size(keys);
	s->n_classes = json_is_array(classes) ? json_array_size(classes) : s->n_keys;
	s->n_folds = (size_t)json_integer_value(json_object_get(root, "n_folds"));
	s->keys = nidec_calloc_e(s->n_keys, sizeof(char *), "class names", err);
	s->mean = nidec_malloc_e(s->n_keys, sizeof(double), "scores", err);
	s->std = nidec_malloc_e(s->n_keys, sizeof(double), "scores", err);
	s->chosen_C = nidec_malloc_e(s->n_keys * (s->n_folds ? s->n_folds : 1), sizeof(double), "scores", err);
	if (!s->keys || !s->mean || !s->std || !s->chosen_C)
		return NIDEC_ENOMEM;
	for (k = 0; k < s->n_keys; k++) {
		json_t *name = json_array_get(keys, k), *e, *cs;
		if (!json_is_string(name))
			return subj_fail(s, err, "'%s': keys[%zu] is not a string", path, k);
		s->keys[k] = nidec_strdup_e(json_string_value(name), err);
		if (!s->keys[k])
			return NIDEC_ENOMEM;
		e = json_object_get(scores, s->keys[k]);
		if (!json_is_object(e))
			return subj_fail(s, err, "'%s': no scores for class '%s'", path, s->keys[k]);
		s->mean[k] = jget_num(json_object_get(e, "mean"));
		s->std[k] = jget_num(json_object_get(e, "std"));
		cs = json_object_get(e, "chosen_C");
		for (f = 0; f < s->n_folds; f++)
			s->chosen_C[k * s->n_folds + f] = jget_num(json_array_get(cs, f));
	}
	s->ok = 1;
	return 0;
}

/* Parse null_scores.tsv (if present) into s. */
static int read_null(struct subj *s, const char *path, nidec_err *err)
{
	char *text = NULL, *line, *save = NULL;
	size_t *col = NULL, ncol = 0, k, cap = 0;
	long row = 0;
	int rc = 0;

	NIDEC_TRY(read_small(path, &text, err));
	if (!text)
		return 0;
	col = nidec_malloc_e(s->n_keys, sizeof(size_t), "a column map", err);
	if (!col) {
		nidec_free(text);
		return NIDEC_ENOMEM;
	}
	for (line = strtok_r(text, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		char *tok, *ts = NULL;
		size_t c = 0;

		if (row == 0 && ncol == 0) {
			/* header: permutation <key>... -> where each of our keys is */
			for (k = 0; k < s->n_keys; k++)
				col[k] = (size_t)-1;
			for (tok = strtok_r(line, "\t", &ts); tok; tok = strtok_r(NULL, "\t", &ts), c++) {
				if (c == 0 && strcmp(tok, "permutation")) {
					rc = subj_fail(s, err, "'%s': the header must start with 'permutation'", path);
					break;
				}
				for (k = 0; c > 0 && k < s->n_keys; k++)
					if (!strcmp(tok, s->keys[k]))
						col[k] = c;
			}
			ncol = c;
			for (k = 0; rc == 0 && s->ok && k < s->n_keys; k++)
				if (col[k] == (size_t)-1)
					rc = subj_fail(s, err, "'%s' has no column for class '%s'", path, s->keys[k]);
			if (rc < 0 || !s->ok)
				break;
			continue;
		}
		if ((size_t)row + 1 > cap) {
			size_t ncap = cap ? 2 * cap : 64;
			double *v = nidec_realloc(s->null, ncap * s->n_keys * sizeof(double));
			if (!v) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
				break;
			}
			s->null = v;
			cap = ncap;
		}
		for (tok = strtok_r(line, "\t", &ts); tok; tok = strtok_r(NULL, "\t", &ts), c++) {
			char *end;
			double v = strtod(tok, &end);
			if (*end) {
				rc = subj_fail(s, err, "'%s' line %ld: '%s' is not a number", path, row + 2, tok);
				break;
			}
			for (k = 0; k < s->n_keys; k++)
				if (col[k] == c)
					s->null[(size_t)row * s->n_keys + k] = v;
		}
		if (rc < 0 || !s->ok)
			break;
		if (c != ncol) {
			rc = subj_fail(s, err, "'%s' line %ld has %zu columns, the header %zu", path, row + 2, c, ncol);
			break;
		}
		row++;
	}
	s->n_perm = s->ok ? row : 0;
	nidec_free(col);
	nidec_free(text);
	return rc;
}

/* Everything the gather reads for subject i. */
static int read_subject(const nidec_sweep *sw, const nidec_cfg *cfg, const char *root, size_t i,
			struct subj *s, nidec_err *err)
{
	const nidec_sweep_subject *sub = &sw->subject[i];
	char dir[4096], path[4200];
	char *text = NULL;
	json_t *js;
	json_error_t je;
	int rc, match;

	if (sub->status != 0)
		return subj_fail(s, err, "%s", sub->error ? sub->error : nidec_err_name(sub->status));
	NIDEC_TRY(nidec_sweep_subject_dir(root, sub->label, dir, sizeof(dir), err));
	NIDEC_TRY(path_join(path, sizeof(path), dir, "error.txt", err));
	NIDEC_TRY(read_small(path, &text, err));
	if (text) {
		text[strcspn(text, "\n")] = '\0';
		rc = subj_fail(s, err, "%s", text[0] ? text : "failed (empty error.txt)");
		nidec_free(text);
		return rc;
	}
	NIDEC_TRY(path_join(path, sizeof(path), dir, "summary.json", err));
	if (access(path, F_OK) < 0)
		return subj_fail(s, err,
				 "sub-%s: no results ('%s' is missing: the subject's job did not run or did not finish); run it again",
				 sub->label, path);
	js = json_load_file(path, 0, &je);
	if (!js)
		return subj_fail(s, err, "'%s' line %d: %s", path, je.line, je.text);
	rc = 0;
	match = 1;
	if (cfg) {
		if (config_matches(js, cfg, &match) < 0)
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
		else if (!match)
			rc = subj_fail(s, err,
				       "sub-%s: '%s' was made with another config than the sweep's; run the subject again",
				       sub->label, path);
	}
	if (rc == 0 && match)
		rc = read_summary(s, path, js, err);
	json_decref(js);
	NIDEC_TRY(rc);
	if (!s->ok)
		return 0;
	NIDEC_TRY(path_join(path, sizeof(path), dir, "null_scores.tsv", err));
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
	size_t n = sw->n_subjects, i, k, f, nk = 0, ok = 0, K = 0;
	char path[4096];
	nidec_sbuf tsv = NIDEC_SBUF_INIT;
	json_t *js = NULL, *jsubs, *jclasses;
	int rc = 0, add = 0;
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
	NIDEC_TRY_GOTO(rc, key_union(ss, n, &keys, &nk, err), done);

	/* group_scores.tsv: one row per ok subject and class */
	add |= nidec_sbuf_adds(&tsv, "subject\tclass\tmean_score\tstd\tchosen_C\n");
	for (i = 0; i < n; i++)
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
	NIDEC_TRY_GOTO(rc, path_join(path, sizeof(path), root, "group_scores.tsv", err), done);
	NIDEC_TRY_GOTO(rc, nidec_file_write(path, tsv.buf, tsv.len, err), done);

	/* group_summary.json */
	chance = nidec_sweep_chance(sw, base->scoring, K);
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
	json_object_set_new(js, "scoring", json_string(nidec_scoring_name(base->scoring)));
	json_object_set_new(js, "n_subjects", json_integer((json_int_t)n));
	json_object_set_new(js, "n_ok", json_integer((json_int_t)ok));
	json_object_set_new(js, "n_failed", json_integer((json_int_t)(n - ok)));
	json_object_set_new(js, "chance", jnum(chance));
	json_object_set_new(js, "chance_rule",
			    json_string(!isnan(sw->chance) ? "set by [sweep] chance"
					: "auto: 0.5 for roc_auc and balanced_accuracy; accuracy: 1/2 for 2 classes, (K-1)/K for the one-vs-rest problems of K > 2 classes; none for f1, precision, recall"));
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
	NIDEC_TRY_GOTO(rc, path_join(path, sizeof(path), root, "group_summary.json", err), done);
	rc = write_json(path, js, err);
	js = NULL;
	if (rc < 0)
		goto done;

	/* the table on stdout */
	nidec_out("%-10s %-16s %-10s %s\n", "subject", "class", nidec_scoring_name(base->scoring), "std");
	for (i = 0; i < n; i++) {
		if (!ss[i].ok) {
			nidec_out("%-10s failed: %s\n", sw->subject[i].label, ss[i].error ? ss[i].error : "?");
			continue;
		}
		for (k = 0; k < ss[i].n_keys; k++)
			nidec_out("%-10s %-16s %-10.4f %.4f\n", sw->subject[i].label, ss[i].keys[k],
				  ss[i].mean[k], ss[i].std[k]);
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
	nidec_out("wrote %s/group_scores.tsv\nwrote %s/group_summary.json\n", root, root);
done:
	json_decref(js);
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
