/*
 * sweep.c - the sweep file ([sweep] section), the subject list
 * (explicit, or discovered under a BIDS root) and each subject's config
 * (see sweep.h; the user's side is docs/SWEEP.md).
 *
 * The file is read by the analysis config's loader (keyfile.h) against
 * the schema `keys`: one section, an unknown key is an error with a "did
 * you mean", a key given twice is an error, `--set sweep.KEY=VALUE` wins
 * over the file (and is checked by the option parser against the same
 * table).  Values stay strings until nidec_sweep_resolve() reads and
 * checks them together.
 *
 * Subject discovery (bids_root): the directories <root>/sub-<label>
 * (natural order); the runs are <root>/sub-<label>/func/
 * sub-<label>_*task-<task>_*run-*_bold.nii[.gz], each with its
 * _events.tsv (the name up to the run entity, BIDS's inheritance for
 * derivatives' longer names).  The subject's [data] keys are then globs
 * that nidec_convert expands in the same natural order.  A subject with
 * no run or a run without events fails on its own (status + error), the
 * sweep goes on.
 *
 * Not collective; no MPI.  Every rank resolves the same list from the
 * same (shared) file system; cmd_sweep.c checks that they agree.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nidec/bids.h"
#include "nidec/convert.h"
#include "nidec/file.h"
#include "nidec/keyfile.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/sbuf.h"
#include "nidec/sweep.h"

enum { K_ANALYSIS, K_SUBJECTS, K_BIDS_ROOT, K_TASK, K_BOLD, K_MASK, K_LABELS, K_EVENTS,
       K_CHANCE, K_NAME, K_KIND, K_CLUSTER_DRAWS, K_CLUSTER_THRESHOLD, K_CLUSTER_ALPHA, K_SEED,
       K_DERIVATIVES, K_SPACE, K_DESC, K_SESSION, K_SAMPLES, N_KEYS };

static const nidec_key_name kinds[] = {
	{ "decoder", NIDEC_SWEEP_DECODER },
	{ "searchlight", NIDEC_SWEEP_SEARCHLIGHT },
	{ NULL, 0 },
};

#define STR(name) { "sweep", name, NIDEC_KEY_STRING, "", NULL, NULL, 0, 0, 0, NULL, NULL }

static const nidec_key keys[N_KEYS] = {
	[K_ANALYSIS] = STR("analysis"),
	[K_SUBJECTS] = { "sweep", "subjects", NIDEC_KEY_LIST, "", NULL, NULL, 0, 0, 0, NULL, NULL },
	[K_BIDS_ROOT] = STR("bids_root"),
	[K_TASK] = STR("task"),
	[K_BOLD] = STR("bold"),
	[K_MASK] = STR("mask"),
	[K_LABELS] = STR("labels"),
	[K_EVENTS] = STR("events"),
	/* the group test's chance level: the score a guessing decoder gets */
	[K_CHANCE] = { "sweep", "chance", NIDEC_KEY_DOUBLE, "auto", NULL, NULL, 0, 1,
		       NIDEC_KEY_LO_OPEN | NIDEC_KEY_HI_OPEN | NIDEC_KEY_AUTO, NULL, NULL },
	[K_NAME] = STR("name"),
	/* which command each subject gets: nidec run or nidec searchlight */
	[K_KIND] = { "sweep", "kind", NIDEC_KEY_ENUM, "decoder", NULL, kinds, 0, 0, 0, NULL, NULL },
	/* the searchlight group level's cluster test (cluster.h) */
	[K_CLUSTER_DRAWS] = { "sweep", "cluster_draws", NIDEC_KEY_INT, "10000", NULL, NULL, 1, 10000000, 0,
			      NULL, NULL },
	[K_CLUSTER_THRESHOLD] = { "sweep", "cluster_threshold", NIDEC_KEY_DOUBLE, "0.001", NULL, NULL, 0, 1,
				  NIDEC_KEY_LO_OPEN | NIDEC_KEY_HI_OPEN, NULL, NULL },
	[K_CLUSTER_ALPHA] = { "sweep", "cluster_alpha", NIDEC_KEY_DOUBLE, "0.05", NULL, NULL, 0, 1,
			      NIDEC_KEY_LO_OPEN | NIDEC_KEY_HI_OPEN, NULL, NULL },
	[K_SEED] = { "sweep", "seed", NIDEC_KEY_INT, "0", NULL, NULL, 0, 2147483647, 0, NULL, NULL },
	[K_DERIVATIVES] = STR("derivatives"),
	[K_SPACE] = STR("space"),
	[K_DESC] = { "sweep", "desc", NIDEC_KEY_STRING, "preproc", NULL, NULL, 0, 0, 0, NULL, NULL },
	[K_SESSION] = STR("session"),
	[K_SAMPLES] = STR("samples"),
};

const nidec_keyschema nidec_sweep_schema = {
	"sweep file", keys, N_KEYS, "docs/SWEEP.md",
	"a sweep file has one [sweep] section and names the analysis config with 'analysis = FILE'",
	"sweep.chance=0.5"
};

void nidec_sweep_init(nidec_sweep *sw)
{
	memset(sw, 0, sizeof(*sw));
	nidec_keyfile_init(&sw->kf, &nidec_sweep_schema);
	sw->chance = NAN;
}

static void subject_release(nidec_sweep_subject *s)
{
	nidec_free(s->label);
	nidec_free(s->bold);
	nidec_free(s->mask);
	nidec_free(s->labels);
	nidec_free(s->events);
	nidec_free(s->samples);
	nidec_free(s->found);
	nidec_free(s->error);
	memset(s, 0, sizeof(*s));
}

void nidec_sweep_release(nidec_sweep *sw)
{
	size_t i;

	nidec_free(sw->analysis);
	nidec_free(sw->bids_root);
	nidec_free(sw->task);
	nidec_free(sw->derivatives);
	nidec_free(sw->space);
	nidec_free(sw->desc);
	nidec_free(sw->session);
	nidec_free(sw->bold);
	nidec_free(sw->mask);
	nidec_free(sw->labels);
	nidec_free(sw->events);
	nidec_free(sw->samples);
	nidec_free(sw->name);
	nidec_free(sw->path);
	nidec_strv_free(sw->subjects, sw->n_listed);
	for (i = 0; i < sw->n_subjects; i++)
		subject_release(&sw->subject[i]);
	nidec_free(sw->subject);
	nidec_keyfile_release(&sw->kf);
	nidec_sweep_init(sw);
}

int nidec_sweep_load(nidec_sweep *sw, const char *path, nidec_err *err)
{
	char *p;

	NIDEC_TRY(nidec_keyfile_load(&sw->kf, path, err));
	p = nidec_strdup_e(path, err);
	if (!p)
		return NIDEC_ENOMEM;
	nidec_free(sw->path);
	sw->path = p;
	return 0;
}

int nidec_sweep_set(nidec_sweep *sw, const char *assignment, nidec_err *err)
{
	return nidec_keyfile_set(&sw->kf, assignment, "--set", err);
}

/* The keys' values (file, then --set) into the struct's fields. */
static int read_keys(nidec_sweep *sw, nidec_err *err)
{
	const nidec_keyfile *kf = &sw->kf;
	long draws = 0, seed = 0;

	NIDEC_TRY(nidec_keyfile_string(kf, K_ANALYSIS, &sw->analysis, err));
	NIDEC_TRY(nidec_keyfile_list(kf, K_SUBJECTS, &sw->subjects, &sw->n_listed, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_BIDS_ROOT, &sw->bids_root, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_TASK, &sw->task, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_BOLD, &sw->bold, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_MASK, &sw->mask, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_LABELS, &sw->labels, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_EVENTS, &sw->events, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_CHANCE, &sw->chance, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_NAME, &sw->name, err));
	NIDEC_TRY(nidec_keyfile_enum(kf, K_KIND, &sw->kind, err));
	NIDEC_TRY(nidec_keyfile_long(kf, K_CLUSTER_DRAWS, &draws, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_CLUSTER_THRESHOLD, &sw->cluster_threshold, err));
	NIDEC_TRY(nidec_keyfile_double(kf, K_CLUSTER_ALPHA, &sw->cluster_alpha, err));
	NIDEC_TRY(nidec_keyfile_long(kf, K_SEED, &seed, err));
	sw->cluster_draws = (size_t)draws;
	sw->seed = (uint64_t)seed;
	if ((double)sw->cluster_draws * sw->cluster_threshold < 1 - 1e-9)
		return nidec_keyfile_fail(kf, K_CLUSTER_DRAWS, "give at least 1 / cluster_threshold draws (10000 for 0.001)", err);
	NIDEC_TRY(nidec_keyfile_string(kf, K_DERIVATIVES, &sw->derivatives, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_SPACE, &sw->space, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_DESC, &sw->desc, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_SESSION, &sw->session, err));
	NIDEC_TRY(nidec_keyfile_string(kf, K_SAMPLES, &sw->samples, err));
	return 0;
}

/* ---- subjects ---------------------------------------------------------- */

/* A BIDS label: letters and digits; "sub-" is dropped if given. */
static int check_label(const char *given, const char **label, nidec_err *err)
{
	const char *l = strncmp(given, "sub-", 4) ? given : given + 4;
	const char *p;

	if (!l[0])
		return nidec_fail(err, NIDEC_EINPUT, "[sweep] subjects: '%s' has no label; give e.g. 01 or sub-01",
				  given);
	for (p = l; *p; p++)
		if (!isalnum((unsigned char)*p))
			return nidec_fail(err, NIDEC_EINPUT,
					  "[sweep] subjects: '%s' is not a BIDS label; use letters and digits only (e.g. 01)",
					  given);
	*label = l;
	return 0;
}

/* Replace every {subject} in `pat` by `label`; other {names} are errors. */
static int expand(const char *key, const char *pat, const char *label, char **out, nidec_err *err)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	const char *p = pat;
	int rc = 0;

	while (*p && rc == 0) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (close && (size_t)(close - p) == 8 && !strncmp(p, "{subject}", 9)) {
				rc = nidec_sbuf_adds(&sb, label);
				p = close + 1;
				continue;
			}
			nidec_sbuf_release(&sb);
			return nidec_fail(err, NIDEC_EINPUT,
					  "[sweep] %s = '%s': unknown placeholder at '%.20s'; the only one is {subject}",
					  key, pat, p);
		}
		rc = nidec_sbuf_add(&sb, p, 1);
		p++;
	}
	if (rc < 0) {
		nidec_sbuf_release(&sb);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory expanding [sweep] %s", key);
	}
	*out = nidec_sbuf_detach(&sb, NULL);
	if (!*out)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory expanding [sweep] %s", key);
	return 0;
}

static int has_placeholder(const char *s)
{
	return s && strstr(s, "{subject}") != NULL;
}

static int add_subject(nidec_sweep *sw, const char *label, nidec_err *err)
{
	nidec_sweep_subject *v;
	size_t i;

	for (i = 0; i < sw->n_subjects; i++)
		if (!strcmp(sw->subject[i].label, label))
			return nidec_fail(err, NIDEC_EINPUT, "[sweep] subjects: sub-%s is listed twice; keep one",
					  label);
	v = nidec_realloc(sw->subject, (sw->n_subjects + 1) * sizeof(*v));
	if (!v)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory listing subjects");
	sw->subject = v;
	memset(&v[sw->n_subjects], 0, sizeof(*v));
	v[sw->n_subjects].label = nidec_strdup_e(label, err);
	if (!v[sw->n_subjects].label)
		return NIDEC_ENOMEM;
	sw->n_subjects++;
	return 0;
}

static int subject_fail(nidec_sweep_subject *s, nidec_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record a subject's own failure (the sweep goes on without it); fails
 * only if the message cannot be stored. */
static int subject_fail(nidec_sweep_subject *s, nidec_err *err, const char *fmt, ...)
{
	char msg[NIDEC_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nidec_free(s->error);
	s->error = nidec_strdup_e(msg, err);
	s->status = NIDEC_EINPUT;
	return s->error ? 0 : NIDEC_ENOMEM;
}

static int cmp_natural(const void *a, const void *b)
{
	return nidec_natural_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sub-* directories of the BIDS root, labels in natural order. */
static int bids_labels(const char *root, char ***out, size_t *n, nidec_err *err)
{
	char pat[4096], **v = NULL;
	glob_t g;
	size_t i, k = 0;
	int grc, rc = 0;
	struct stat st;

	if (stat(root, &st) < 0)
		return nidec_fail(err, NIDEC_EIO, "[sweep] bids_root = '%s': %s; check the path (relative paths start from the current directory)",
				  root, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EINPUT, "[sweep] bids_root = '%s' is not a directory; point it at the root of a BIDS dataset",
				  root);
	if ((size_t)snprintf(pat, sizeof(pat), "%s/sub-*", root) >= sizeof(pat))
		return nidec_fail(err, NIDEC_EINPUT, "[sweep] bids_root = '%s' is too long", root);
	memset(&g, 0, sizeof(g));
	grc = glob(pat, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g);
	if (grc == GLOB_NOMATCH || (grc == 0 && g.gl_pathc == 0)) {
		globfree(&g);
		return nidec_fail(err, NIDEC_EINPUT,
				  "[sweep] bids_root = '%s' has no sub-<label> directory; point it at the root of a BIDS dataset",
				  root);
	}
	if (grc != 0) {
		globfree(&g);
		return nidec_fail(err, NIDEC_EIO, "[sweep] bids_root = '%s': cannot list it", root);
	}
	v = nidec_calloc_e(g.gl_pathc, sizeof(*v), "the subject list", err);
	if (!v) {
		globfree(&g);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/');
		const char *l = base ? base + 5 : g.gl_pathv[i] + 4;
		const char *p;
		int ok = l[0] != '\0';

		for (p = l; *p; p++)
			ok &= isalnum((unsigned char)*p) != 0;
		if (stat(g.gl_pathv[i], &st) < 0 || !S_ISDIR(st.st_mode) || !ok)
			continue;
		v[k] = nidec_strdup_e(l, err);
		if (!v[k]) {
			rc = NIDEC_ENOMEM;
			break;
		}
		k++;
	}
	globfree(&g);
	if (rc < 0) {
		nidec_strv_free(v, k);
		return rc;
	}
	qsort(v, k, sizeof(*v), cmp_natural);
	*out = v;
	*n = k;
	return 0;
}

/* The events file of a BIDS bold file: same name with _events.tsv, or
 * the name up to its run entity (derivatives' longer names).  *events
 * gets a new string, or NULL if neither exists. */
static int events_of(const char *bold, char **events, nidec_err *err)
{
	size_t len = strlen(bold), stem;
	const char *suffixes[] = { "_bold.nii.gz", "_bold.nii" };
	char *e;
	size_t i;
	struct stat st;

	*events = NULL;
	stem = len;
	for (i = 0; i < 2; i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && !strcmp(bold + len - sl, suffixes[i])) {
			stem = len - sl;
			break;
		}
	}
	e = nidec_malloc_e(len + 16, 1, "a file name", err);
	if (!e)
		return NIDEC_ENOMEM;
	snprintf(e, len + 16, "%.*s_events.tsv", (int)stem, bold);
	if (stat(e, &st) == 0) {
		*events = e;
		return 0;
	}
	{
		/* cut after "_run-<digits>" */
		const char *base = strrchr(bold, '/'), *r;
		base = base ? base + 1 : bold;
		r = strstr(base, "_run-");
		if (r && r < bold + stem) {
			const char *q = r + 5;
			while (isdigit((unsigned char)*q))
				q++;
			snprintf(e, len + 16, "%.*s_events.tsv", (int)(q - bold), bold);
			if (stat(e, &st) == 0) {
				*events = e;
				return 0;
			}
		}
	}
	nidec_free(e);
	return 0;
}

/* With derivatives: find the subject's runs (bids.h); what was found goes
 * to sub->found (for --list), a failure to the subject alone. */
static int deriv_subject(const nidec_sweep *sw, nidec_sweep_subject *sub, nidec_err *err)
{
	nidec_bids_query q;
	nidec_bids_run *runs = NULL;
	nidec_err local = NIDEC_ERR_INIT;
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	size_t n = 0, i;
	char lab[128];
	int rc;

	memset(&q, 0, sizeof(q));
	q.root = sw->bids_root;
	q.derivatives = sw->derivatives;
	q.subject = sub->label;
	q.session = sw->session;
	q.task = sw->task;
	q.space = sw->space;
	q.desc = sw->desc ? sw->desc : "preproc";
	rc = nidec_bids_find(&q, &runs, &n, &local);
	if (rc == NIDEC_ENOMEM) {
		*err = local;
		return rc;
	}
	if (rc < 0)
		return subject_fail(sub, err, "sub-%s: %s", sub->label, local.msg);
	rc = 0;
	for (i = 0; i < n && rc == 0; i++)
		rc = nidec_sbuf_addf(&sb, "  %s: %s; events %s%s%s%s%s\n", nidec_bids_run_label(&runs[i], lab, sizeof(lab)),
				     runs[i].bold, runs[i].events, runs[i].mask ? "; mask " : "",
				     runs[i].mask ? runs[i].mask : "", runs[i].confounds ? "; confounds " : "",
				     runs[i].confounds ? runs[i].confounds : "");
	nidec_bids_runs_free(runs, n);
	if (rc < 0 || !(sub->found = nidec_sbuf_detach(&sb, NULL))) {
		nidec_sbuf_release(&sb);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory listing sub-%s", sub->label);
	}
	return 0;
}

/* Fill subject s's patterns from the BIDS layout. */
static int bids_subject(const nidec_sweep *sw, nidec_sweep_subject *sub, nidec_err *err)
{
	char func[4096], bold[4600], events[4600], **files = NULL;
	size_t n = 0, i;
	nidec_err local = NIDEC_ERR_INIT;
	int rc;

	if ((size_t)snprintf(func, sizeof(func), "%s/sub-%s/func", sw->bids_root, sub->label) >= sizeof(func))
		return nidec_fail(err, NIDEC_EINPUT, "[sweep] bids_root = '%s' is too long", sw->bids_root);
	snprintf(bold, sizeof(bold), "%s/sub-%s_*task-%s_*run-*_bold.nii*", func, sub->label, sw->task);
	snprintf(events, sizeof(events), "%s/sub-%s_*task-%s_*run-*_events.tsv", func, sub->label,
		 sw->task);
	sub->bold = nidec_strdup_e(bold, err);
	sub->events = nidec_strdup_e(events, err);
	if (!sub->bold || !sub->events)
		return NIDEC_ENOMEM;
	rc = nidec_glob_natural(bold, "[sweep] bids_root", &files, &n, &local);
	if (rc == NIDEC_ENOMEM) {
		*err = local;
		return rc;
	}
	if (rc < 0) {
		return subject_fail(sub, err,
				    "sub-%s: no run of task '%s' under '%s' (looked for sub-%s_*task-%s_*run-*_bold.nii[.gz]); check [sweep] task or remove the subject",
				    sub->label, sw->task, func, sub->label, sw->task);
	}
	for (i = 0; i < n; i++) {
		char *ev = NULL;
		if (events_of(files[i], &ev, err) < 0) {
			nidec_strv_free(files, n);
			return NIDEC_ENOMEM;
		}
		if (!ev) {
			int rc2 = subject_fail(sub, err,
					       "sub-%s: '%s' has no events file (looked for the same name ending in _events.tsv); add it or remove the run",
					       sub->label, files[i]);
			nidec_strv_free(files, n);
			return rc2;
		}
		nidec_free(ev);
	}
	nidec_strv_free(files, n);
	return 0;
}

int nidec_sweep_resolve(nidec_sweep *sw, nidec_err *err)
{
	const char *where = sw->path ? sw->path : "the sweep file";
	size_t i;

	NIDEC_TRY(read_keys(sw, err));
	if (!sw->analysis)
		return nidec_fail(err, NIDEC_EINPUT,
				  "sweep file '%s': [sweep] analysis is missing; name the analysis config (analysis = configs/haxby-slice.ini)",
				  where);
	if (!sw->mask && !sw->derivatives)
		return nidec_fail(err, NIDEC_EINPUT,
				  "sweep file '%s': [sweep] mask is missing; give the mask, per subject with {subject} (mask = masks/sub-{subject}_mask.nii.gz)",
				  where);
	if ((sw->derivatives || sw->space || sw->session) && !sw->bids_root)
		return nidec_fail(err, NIDEC_EINPUT,
				  "sweep file '%s': [sweep] %s goes with bids_root; set bids_root (the raw dataset, for the events) or remove it",
				  where, sw->derivatives ? "derivatives" : sw->space ? "space" : "session");
	if (sw->labels && sw->events)
		return nidec_fail(err, NIDEC_EINPUT,
				  "sweep file '%s': give either [sweep] labels or [sweep] events, not both", where);
	for (i = 0; i < sw->n_subjects; i++)
		subject_release(&sw->subject[i]);
	sw->n_subjects = 0;

	if (sw->bids_root) {
		char **found = NULL;
		size_t n = 0;

		if (!sw->task)
			return nidec_fail(err, NIDEC_EINPUT,
					  "sweep file '%s': [sweep] bids_root needs task = <label> (the task-<label> of the BOLD files)",
					  where);
		for (i = 0; sw->task[i]; i++)
			if (!isalnum((unsigned char)sw->task[i]))
				return nidec_fail(err, NIDEC_EINPUT,
						  "sweep file '%s': [sweep] task = '%s' is not a BIDS label; letters and digits only",
						  where, sw->task);
		if (sw->bold || sw->labels || sw->events || sw->samples)
			return nidec_fail(err, NIDEC_EINPUT,
					  "sweep file '%s': [sweep] %s is found under bids_root; remove it, or remove bids_root and list the subjects",
					  where, sw->bold ? "bold" : sw->labels ? "labels" : sw->events ? "events" : "samples");
		NIDEC_TRY(bids_labels(sw->bids_root, &found, &n, err));
		if (sw->n_listed) {
			/* the listed ones, in natural order; missing ones fail alone */
			char **want = NULL;
			size_t k;
			int rc = 0;

			want = nidec_calloc_e(sw->n_listed, sizeof(*want), "the subject list", err);
			for (k = 0; want && rc == 0 && k < sw->n_listed; k++) {
				const char *l;
				rc = check_label(sw->subjects[k], &l, err);
				if (rc == 0 && !(want[k] = nidec_strdup_e(l, err)))
					rc = NIDEC_ENOMEM;
			}
			if (!want)
				rc = NIDEC_ENOMEM;
			if (rc == 0)
				qsort(want, sw->n_listed, sizeof(*want), cmp_natural);
			for (k = 0; rc == 0 && k < sw->n_listed; k++) {
				size_t j;
				rc = add_subject(sw, want[k], err);
				for (j = 0; rc == 0 && j < n; j++)
					if (!strcmp(found[j], want[k]))
						break;
				if (rc == 0 && j == n)
					rc = subject_fail(&sw->subject[sw->n_subjects - 1], err,
							  "sub-%s: no directory '%s/sub-%s'; fix [sweep] subjects",
							  want[k], sw->bids_root, want[k]);
			}
			if (want)
				nidec_strv_free(want, sw->n_listed);
			if (rc < 0) {
				nidec_strv_free(found, n);
				return rc;
			}
		} else {
			for (i = 0; i < n; i++) {
				int rc = add_subject(sw, found[i], err);
				if (rc < 0) {
					nidec_strv_free(found, n);
					return rc;
				}
			}
		}
		nidec_strv_free(found, n);
		for (i = 0; i < sw->n_subjects; i++) {
			nidec_sweep_subject *sub = &sw->subject[i];
			if (sub->status == 0)
				NIDEC_TRY(sw->derivatives ? deriv_subject(sw, sub, err) : bids_subject(sw, sub, err));
		}
	} else {
		if (!sw->n_listed)
			return nidec_fail(err, NIDEC_EINPUT,
					  "sweep file '%s': no subjects; list them (subjects = 01, 02) or give bids_root and task",
					  where);
		if (sw->samples && (sw->bold || sw->labels || sw->events))
			return nidec_fail(err, NIDEC_EINPUT,
					  "sweep file '%s': [sweep] samples gives each subject's images and labels; remove [sweep] %s",
					  where, sw->bold ? "bold" : sw->labels ? "labels" : "events");
		if (!sw->bold && !sw->samples)
			return nidec_fail(err, NIDEC_EINPUT,
					  "sweep file '%s': [sweep] bold is missing; give the BOLD files per subject (bold = data/sub-{subject}/func/*_bold.nii.gz), or a sample table per subject (samples = data/sub-{subject}/trials.tsv)",
					  where);
		if (!has_placeholder(sw->bold ? sw->bold : sw->samples))
			return nidec_fail(err, NIDEC_EINPUT,
					  "sweep file '%s': [sweep] %s = '%s' has no {subject}; every subject would get the same data",
					  where, sw->bold ? "bold" : "samples", sw->bold ? sw->bold : sw->samples);
		if (sw->task)
			return nidec_fail(err, NIDEC_EINPUT,
					  "sweep file '%s': [sweep] task is used with bids_root only; remove it",
					  where);
		for (i = 0; i < sw->n_listed; i++) {
			const char *l;
			NIDEC_TRY(check_label(sw->subjects[i], &l, err));
			NIDEC_TRY(add_subject(sw, l, err));
		}
		for (i = 0; i < sw->n_subjects; i++) {
			nidec_sweep_subject *sub = &sw->subject[i];
			if (sw->samples)
				NIDEC_TRY(expand("samples", sw->samples, sub->label, &sub->samples, err));
			else
				NIDEC_TRY(expand("bold", sw->bold, sub->label, &sub->bold, err));
			if (sw->labels)
				NIDEC_TRY(expand("labels", sw->labels, sub->label, &sub->labels, err));
			if (sw->events)
				NIDEC_TRY(expand("events", sw->events, sub->label, &sub->events, err));
		}
	}
	for (i = 0; sw->mask && i < sw->n_subjects; i++)
		NIDEC_TRY(expand("mask", sw->mask, sw->subject[i].label, &sw->subject[i].mask, err));
	return 0;
}

long nidec_sweep_find(const nidec_sweep *sw, const char *label)
{
	const char *l = strncmp(label, "sub-", 4) ? label : label + 4;
	size_t i;

	for (i = 0; i < sw->n_subjects; i++)
		if (!strcmp(sw->subject[i].label, l))
			return (long)i;
	return -1;
}

int nidec_sweep_subject_dir(const char *root, const char *label, char *buf, size_t len,
			    nidec_err *err)
{
	int n = snprintf(buf, len, "%s/sub-%s", root, label);

	if (n < 0 || (size_t)n >= len)
		return nidec_fail(err, NIDEC_EINPUT, "[output] dir '%s' is too long", root);
	return 0;
}

static int load_base(const nidec_sweep *sw, char *const *sets, size_t n_sets, nidec_cfg *cfg,
		     nidec_err *err)
{
	size_t i;

	NIDEC_TRY(nidec_cfg_load(cfg, sw->analysis, err));
	for (i = 0; i < n_sets; i++)
		NIDEC_TRY(nidec_cfg_set(cfg, sets[i], err));
	if (nidec_cfg_is_set(cfg, "data", "dataset"))
		return nidec_fail(err, NIDEC_EINPUT,
				  "analysis config '%s': [data] dataset cannot be set in a sweep (each subject's dataset is <[output] dir>/sub-<label>/dataset.h5); remove it",
				  sw->analysis);
	return 0;
}

int nidec_sweep_base_cfg(const nidec_sweep *sw, char *const *sets, size_t n_sets,
			 nidec_cfg *cfg, nidec_err *err)
{
	NIDEC_TRY(load_base(sw, sets, n_sets, cfg, err));
	return nidec_cfg_finish(cfg, err);
}

int nidec_sweep_subject_cfg(const nidec_sweep *sw, size_t s, char *const *sets, size_t n_sets,
			    const char *root, nidec_cfg *cfg, nidec_err *err)
{
	const nidec_sweep_subject *sub = &sw->subject[s];
	char dir[4096], origin[128];

	NIDEC_TRY(load_base(sw, sets, n_sets, cfg, err));
	snprintf(origin, sizeof(origin), "sweep file (sub-%s)", sub->label);
	if (sw->derivatives) {
		/* the subject's runs are found again by convert, from the entities */
		NIDEC_TRY(nidec_cfg_put(cfg, "data", "bids_root", sw->bids_root, origin, err));
		NIDEC_TRY(nidec_cfg_put(cfg, "data", "derivatives", sw->derivatives, origin, err));
		NIDEC_TRY(nidec_cfg_put(cfg, "data", "subject", sub->label, origin, err));
		NIDEC_TRY(nidec_cfg_put(cfg, "data", "task", sw->task, origin, err));
		if (sw->space)
			NIDEC_TRY(nidec_cfg_put(cfg, "data", "space", sw->space, origin, err));
		if (sw->desc)
			NIDEC_TRY(nidec_cfg_put(cfg, "data", "desc", sw->desc, origin, err));
		if (sw->session)
			NIDEC_TRY(nidec_cfg_put(cfg, "data", "session", sw->session, origin, err));
	} else if (sub->samples) {
		NIDEC_TRY(nidec_cfg_put(cfg, "data", "samples", sub->samples, origin, err));
	} else {
		NIDEC_TRY(nidec_cfg_put(cfg, "data", "bold", sub->bold, origin, err));
	}
	if (sub->mask)
		NIDEC_TRY(nidec_cfg_put(cfg, "data", "mask", sub->mask, origin, err));
	if (sub->labels || sub->events) {
		/* the subject's labels replace whatever the analysis config had */
		NIDEC_TRY(nidec_cfg_put(cfg, "data", "labels", sub->labels ? sub->labels : "", origin, err));
		NIDEC_TRY(nidec_cfg_put(cfg, "data", "events", sub->events ? sub->events : "", origin, err));
	}
	NIDEC_TRY(nidec_sweep_subject_dir(root, sub->label, dir, sizeof(dir), err));
	NIDEC_TRY(nidec_cfg_put(cfg, "output", "dir", dir, origin, err));
	return nidec_cfg_finish(cfg, err);
}

double nidec_sweep_chance(const nidec_sweep *sw, int scoring, size_t n_classes)
{
	if (!isnan(sw->chance))
		return sw->chance;
	return nidec_metric_chance(scoring, n_classes, 0);
}
