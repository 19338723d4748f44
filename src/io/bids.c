/*
 * bids.c - one subject's runs in a BIDS dataset and its fMRIPrep
 * derivatives (include/nidec/bids.h): directory listings, file names
 * parsed into entities, files matched by entities.
 *
 * A name is parsed once into (key, value) pairs, its suffix and its
 * extension; matching compares entities, so runs pair up whatever the
 * listing order, and a missing or doubled file is named with its entities.
 * Depends on base and convert.h's natural order; no MPI, HDF5 or NIfTI.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nidec/bids.h"
#include "nidec/file.h"
#include "nidec/keyfile.h"
#include "nidec/mem.h"
#include "nidec/sbuf.h"

#define MAX_ENT 16

struct bfile {
	char *path;
	char *name;              /* base name (owned by path) */
	size_t n_ent;
	char key[MAX_ENT][24];
	char val[MAX_ENT][64];
	char suffix[32];
	char ext[16];
};

struct blist {
	struct bfile *v;
	size_t n, cap;
};

static void blist_free(struct blist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		nidec_free(l->v[i].path);
	nidec_free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Parse a BIDS name; 0 when it is one. */
static int parse_name(const char *name, struct bfile *f)
{
	char stem[512], *p, *part, *save = NULL, *dot;
	size_t n = 0;

	if (strlen(name) >= sizeof(stem))
		return -1;
	snprintf(stem, sizeof(stem), "%s", name);
	dot = strchr(stem, '.');
	if (!dot || strlen(dot) >= sizeof(f->ext))
		return -1;
	snprintf(f->ext, sizeof(f->ext), "%s", dot);
	*dot = '\0';
	p = strrchr(stem, '_');
	if (!p || strchr(p + 1, '-') || strlen(p + 1) >= sizeof(f->suffix))
		return -1;
	snprintf(f->suffix, sizeof(f->suffix), "%s", p + 1);
	*p = '\0';
	for (part = strtok_r(stem, "_", &save); part; part = strtok_r(NULL, "_", &save)) {
		char *dash = strchr(part, '-');
		if (!dash || n == MAX_ENT || (size_t)(dash - part) >= sizeof(f->key[0]) ||
		    strlen(dash + 1) >= sizeof(f->val[0]) || !dash[1])
			return -1;
		snprintf(f->key[n], sizeof(f->key[0]), "%.*s", (int)(dash - part), part);
		snprintf(f->val[n], sizeof(f->val[0]), "%s", dash + 1);
		n++;
	}
	f->n_ent = n;
	return n ? 0 : -1;
}

static const char *ent(const struct bfile *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->n_ent; i++)
		if (!strcmp(f->key[i], key))
			return f->val[i];
	return NULL;
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Add the BIDS files of `dir` whose name starts with "sub-<S>_". */
static int list_dir(const char *dir, const char *subject, struct blist *l, nidec_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char prefix[96];

	if (!d)
		return 0; /* no such directory: nothing there */
	snprintf(prefix, sizeof(prefix), "sub-%s_", subject);
	while ((e = readdir(d)) != NULL) {
		struct bfile f;
		nidec_sbuf sb = NIDEC_SBUF_INIT;
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		memset(&f, 0, sizeof(f));
		if (parse_name(e->d_name, &f) < 0)
			continue;
		if (nidec_sbuf_addf(&sb, "%s/%s", dir, e->d_name) < 0 || !(f.path = nidec_sbuf_detach(&sb, NULL))) {
			nidec_sbuf_release(&sb);
			closedir(d);
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory listing '%s'", dir);
		}
		f.name = f.path + strlen(dir) + 1;
		if (l->n == l->cap) {
			size_t ncap = l->cap ? 2 * l->cap : 64;
			struct bfile *nv = nidec_realloc(l->v, ncap * sizeof(*nv));
			if (!nv) {
				nidec_free(f.path);
				closedir(d);
				return nidec_fail(err, NIDEC_ENOMEM, "out of memory listing '%s'", dir);
			}
			l->v = nv;
			l->cap = ncap;
		}
		l->v[l->n++] = f;
	}
	closedir(d);
	return 0;
}

/* The func directories of the subject under base: sub-S/func and
 * sub-S/ses-X/func (every session, or the one asked for). */
static int list_subject(const char *base, const char *subject, const char *session, struct blist *l,
			nidec_err *err)
{
	char dir[4096], sdir[4096];
	DIR *d;
	struct dirent *e;

	if ((size_t)snprintf(sdir, sizeof(sdir), "%s/sub-%s", base, subject) >= sizeof(sdir))
		return nidec_fail(err, NIDEC_EINPUT, "'%s' is too long", base);
	if (!session) {
		if ((size_t)snprintf(dir, sizeof(dir), "%s/func", sdir) >= sizeof(dir))
			return nidec_fail(err, NIDEC_EINPUT, "'%s' is too long", base);
		NIDEC_TRY(list_dir(dir, subject, l, err));
	}
	d = opendir(sdir);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "ses-", 4))
			continue;
		if (session && strcmp(e->d_name + 4, session))
			continue;
		if ((size_t)snprintf(dir, sizeof(dir), "%s/%s/func", sdir, e->d_name) >= sizeof(dir))
			continue;
		if (list_dir(dir, subject, l, err) < 0) {
			closedir(d);
			return err ? err->code : NIDEC_ENOMEM;
		}
	}
	closedir(d);
	return 0;
}

static int is_nifti(const struct bfile *f)
{
	return !strcmp(f->ext, ".nii.gz") || !strcmp(f->ext, ".nii");
}

/* Entities that say which run a file belongs to (the others must agree). */
static int run_entities_match(const struct bfile *a, const struct bfile *b, const char *const *skip)
{
	size_t i;

	for (i = 0; i < a->n_ent; i++) {
		const char *const *s;
		int skipped = 0;
		for (s = skip; *s; s++)
			skipped |= !strcmp(a->key[i], *s);
		if (!skipped && !same(a->val[i], ent(b, a->key[i])))
			return 0;
	}
	return 1;
}

/* Does the candidate `c` (events, mask, confounds) belong to bold `b`:
 * every entity of c but those in skip equals b's, and b's sub/ses/task/run
 * are c's. */
static int belongs(const struct bfile *c, const struct bfile *b, const char *const *skip_c)
{
	static const char *const core[] = { "sub", "ses", "task", "run" };
	size_t i;

	for (i = 0; i < 4; i++)
		if (!same(ent(b, core[i]), ent(c, core[i])))
			return 0;
	return run_entities_match(c, b, skip_c);
}

/* The core entities joined by sep: "sub-01 ses-2 task-x run-3". */
static void entities(const struct bfile *b, const char *sep, char *buf, size_t n)
{
	static const char *const core[] = { "sub", "ses", "task", "acq", "run" };
	size_t i, len;

	buf[0] = '\0';
	for (i = 0; i < 5; i++) {
		const char *v = ent(b, core[i]);
		if (!v)
			continue;
		len = strlen(buf);
		snprintf(buf + len, n - len, "%s%s-%s", len ? sep : "", core[i], v);
	}
}

static void describe(const struct bfile *b, char *buf, size_t n)
{
	entities(b, " ", buf, n);
}

/* "sub-01_ses-2_task-x_run-3_<suffix>" pattern of what was looked for */
static void pattern(const struct bfile *b, const char *extra, const char *suffix, char *buf, size_t n)
{
	size_t len;

	entities(b, "_", buf, n);
	len = strlen(buf);
	snprintf(buf + len, n - len, "%s%s_%s", extra ? "_" : "", extra ? extra : "", suffix);
}

static int cmp_bold(const void *x, const void *y)
{
	const struct bfile *a = *(const struct bfile *const *)x, *b = *(const struct bfile *const *)y;
	const char *sa = ent(a, "ses"), *sb = ent(b, "ses"), *ra = ent(a, "run"), *rb = ent(b, "run");
	int c = nidec_natural_cmp(sa ? sa : "", sb ? sb : "");

	if (c)
		return c;
	c = nidec_natural_cmp(ra ? ra : "", rb ? rb : "");
	return c ? c : nidec_natural_cmp(a->name, b->name);
}

void nidec_bids_runs_free(nidec_bids_run *runs, size_t n)
{
	size_t i;

	if (!runs)
		return;
	for (i = 0; i < n; i++) {
		nidec_free(runs[i].session);
		nidec_free(runs[i].run);
		nidec_free(runs[i].bold);
		nidec_free(runs[i].events);
		nidec_free(runs[i].mask);
		nidec_free(runs[i].confounds);
	}
	nidec_free(runs);
}

const char *nidec_bids_run_label(const nidec_bids_run *r, char *buf, size_t n)
{
	if (r->session && r->run)
		snprintf(buf, n, "ses-%s run-%s", r->session, r->run);
	else if (r->session)
		snprintf(buf, n, "ses-%s", r->session);
	else if (r->run)
		snprintf(buf, n, "run-%s", r->run);
	else
		snprintf(buf, n, "-");
	return buf;
}

static char *dup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = nidec_strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

/* The one candidate among l for bold b, or an error for none / several. */
static int find_one(const struct blist *l, const struct bfile *b, const char *suffix, const char *ext,
		    const char *desc, const char *const *skip, const char *what, const char *where,
		    int required, const struct bfile **hit, nidec_err *err)
{
	const struct bfile *first = NULL, *second = NULL;
	char d[256], pat[512];
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct bfile *c = &l->v[i];
		if (strcmp(c->suffix, suffix) || (ext ? strcmp(c->ext, ext) : !is_nifti(c)))
			continue;
		if (desc && !same(ent(c, "desc"), desc))
			continue;
		if (!belongs(c, b, skip))
			continue;
		if (!first)
			first = c;
		else if (!second)
			second = c;
	}
	*hit = first;
	if (first && !second)
		return 0;
	describe(b, d, sizeof(d));
	if (!first) {
		if (!required)
			return 0;
		pattern(b, desc ? (!strcmp(desc, "brain") ? "space-*_desc-brain" : "desc-confounds") : NULL,
			ext ? (strcmp(suffix, "events") ? "timeseries.tsv" : "events.tsv") : "mask.nii[.gz]",
			pat, sizeof(pat));
		return nidec_fail(err, NIDEC_EINPUT,
				  "BIDS: '%s' (%s) has no %s: looked for %s in '%s'; add it or remove the run",
				  b->path, d, what, pat, where);
	}
	return nidec_fail(err, NIDEC_EINPUT,
			  "BIDS: '%s' (%s) has two %s files: '%s' and '%s'; keep one (or tell them apart with the acq entity)",
			  b->path, d, what, first->path, second->path);
}

int nidec_bids_find(const nidec_bids_query *q, nidec_bids_run **out, size_t *n_out, nidec_err *err)
{
	static const char *const skip_events[] = { NULL };
	static const char *const skip_mask[] = { "desc", NULL };
	static const char *const skip_conf[] = { "desc", NULL };
	struct blist der = { NULL, 0, 0 }, raw = { NULL, 0, 0 };
	const struct bfile **bold = NULL;
	nidec_bids_run *runs = NULL;
	const char *dbase = q->derivatives ? q->derivatives : q->root;
	char spaces[512] = "", where_raw[4096], sub_dir[4096];
	size_t nb = 0, i, j, n_masks = 0;
	int rc = 0, oom = 0;
	struct stat st;

	if (stat(q->root, &st) < 0 || !S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EINPUT, "[data] bids_root = '%s' is not a directory; point it at the root of the BIDS dataset",
				  q->root);
	if (q->derivatives && (stat(q->derivatives, &st) < 0 || !S_ISDIR(st.st_mode)))
		return nidec_fail(err, NIDEC_EINPUT,
				  "[data] derivatives = '%s' is not a directory; point it at fMRIPrep's output (the directory holding sub-<label>)",
				  q->derivatives);
	snprintf(sub_dir, sizeof(sub_dir), "%s/sub-%s", dbase, q->subject);
	if (stat(sub_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EINPUT, "BIDS: no directory '%s'; check [data] subject (the label without sub-)%s",
				  sub_dir, q->derivatives ? " and derivatives" : "");
	snprintf(where_raw, sizeof(where_raw), "%s/sub-%s", q->root, q->subject);
	NIDEC_TRY_GOTO(rc, list_subject(dbase, q->subject, q->session, &der, err), done);
	if (q->derivatives)
		NIDEC_TRY_GOTO(rc, list_subject(q->root, q->subject, q->session, &raw, err), done);
	bold = nidec_calloc_e(der.n ? der.n : 1, sizeof(*bold), "the BOLD list", err);
	if (!bold) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	/* BOLD candidates of the task; the spaces present */
	for (i = 0; i < der.n; i++) {
		const struct bfile *f = &der.v[i];
		const char *sp = ent(f, "space");
		if (strcmp(f->suffix, "bold") || !is_nifti(f) || !same(ent(f, "task"), q->task))
			continue;
		if (q->derivatives) {
			if (!same(ent(f, "desc"), q->desc))
				continue;
			if (sp && !strstr(spaces, sp)) {
				size_t len = strlen(spaces);
				snprintf(spaces + len, sizeof(spaces) - len, "%s'%s'", len ? ", " : "", sp);
			}
			if (q->space ? !same(sp, q->space) : 0)
				continue;
		} else if (ent(f, "desc") || sp) {
			continue;
		}
		bold[nb++] = f;
	}
	if (nb == 0) {
		if (q->space && spaces[0])
			rc = nidec_fail(err, NIDEC_EINPUT,
					"BIDS: '%s' has no BOLD of space '%s' for task '%s' (looked for sub-%s_*task-%s_*space-%s_desc-%s_bold.nii[.gz]); it has space %s: set [data] space to one of them",
					sub_dir, q->space, q->task, q->subject, q->task, q->space, q->desc, spaces);
		else
			rc = nidec_fail(err, NIDEC_EINPUT,
					"BIDS: no BOLD file for sub-%s task-%s under '%s' (looked for sub-%s_[ses-*_]task-%s_[run-*_]%s_bold.nii[.gz]); check [data] task%s",
					q->subject, q->task, sub_dir, q->subject, q->task,
					q->derivatives ? (q->space ? "space-<space>_desc-<desc>" : "space-*_desc-<desc>") : "",
					q->derivatives ? ", desc and derivatives" : " and bids_root");
		goto done;
	}
	if (q->derivatives && !q->space) {
		/* no space asked: there must be one */
		const char *sp0 = ent(bold[0], "space");
		for (i = 1; i < nb; i++)
			if (!same(ent(bold[i], "space"), sp0)) {
				rc = nidec_fail(err, NIDEC_EINPUT,
						"BIDS: '%s' holds BOLD files of several spaces (%s); set [data] space to one of them",
						sub_dir, spaces);
				goto done;
			}
	}
	qsort(bold, nb, sizeof(*bold), cmp_bold);
	for (i = 1; i < nb; i++)
		if (same(ent(bold[i], "ses"), ent(bold[i - 1], "ses")) &&
		    same(ent(bold[i], "run"), ent(bold[i - 1], "run")) &&
		    same(ent(bold[i], "acq"), ent(bold[i - 1], "acq"))) {
			char d[256];
			describe(bold[i], d, sizeof(d));
			rc = nidec_fail(err, NIDEC_EINPUT,
					"BIDS: two BOLD files for %s: '%s' and '%s'; keep one, or set [data] space / desc to choose",
					d, bold[i - 1]->path, bold[i]->path);
			goto done;
		}
	runs = nidec_calloc_e(nb, sizeof(*runs), "the runs", err);
	if (!runs) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (i = 0; i < nb; i++) {
		const struct bfile *b = bold[i], *ev = NULL, *mk = NULL, *cf = NULL;
		const struct blist *rl = q->derivatives ? &raw : &der;
		/* events: the raw tree, matched by sub, ses, task, run (+ acq...) */
		{
			const struct bfile *first = NULL, *second = NULL;
			for (j = 0; j < rl->n; j++) {
				const struct bfile *c = &rl->v[j];
				if (strcmp(c->suffix, "events") || strcmp(c->ext, ".tsv") || !belongs(c, b, skip_events))
					continue;
				if (!first)
					first = c;
				else if (!second)
					second = c;
			}
			if (!first || second) {
				char d[256], pat[512];
				describe(b, d, sizeof(d));
				pattern(b, NULL, "events.tsv", pat, sizeof(pat));
				if (!first)
					rc = nidec_fail(err, NIDEC_EINPUT,
							"BIDS: '%s' (%s) has no events: looked for %s under '%s'; add the run's events.tsv to the raw dataset or remove the run",
							b->path, d, pat, where_raw);
				else
					rc = nidec_fail(err, NIDEC_EINPUT,
							"BIDS: '%s' (%s) matches two events files, '%s' and '%s'; keep one",
							b->path, d, first->path, second->path);
				goto done;
			}
			ev = first;
		}
		if (q->derivatives) {
			NIDEC_TRY_GOTO(rc, find_one(&der, b, "mask", NULL, "brain", skip_mask, "brain mask",
						    sub_dir, 0, &mk, err), done);
			{
				/* confounds carry no space: compare without it */
				const struct bfile *first = NULL, *second = NULL;
				for (j = 0; j < der.n; j++) {
					const struct bfile *c = &der.v[j];
					static const char *const skip[] = { "desc", NULL };
					if ((strcmp(c->suffix, "timeseries") && strcmp(c->suffix, "regressors")) ||
					    strcmp(c->ext, ".tsv") || !same(ent(c, "desc"), "confounds") ||
					    ent(c, "space") || !belongs(c, b, skip))
						continue;
					if (!first)
						first = c;
					else if (!second)
						second = c;
				}
				cf = first;
				if ((!first && q->need_confounds) || second) {
					char d[256], pat[512];
					describe(b, d, sizeof(d));
					pattern(b, "desc-confounds", "timeseries.tsv", pat, sizeof(pat));
					if (!first)
						rc = nidec_fail(err, NIDEC_EINPUT,
								"BIDS: '%s' (%s) has no confounds TSV: looked for %s in '%s'; [clean] confounds need fMRIPrep's confounds, or remove them",
								b->path, d, pat, sub_dir);
					else
						rc = nidec_fail(err, NIDEC_EINPUT,
								"BIDS: '%s' (%s) matches two confounds files, '%s' and '%s'; keep one",
								b->path, d, first->path, second->path);
					goto done;
				}
			}
			(void)skip_conf;
		}
		n_masks += mk != NULL;
		runs[i].session = dup_or_null(ent(b, "ses"), &oom);
		runs[i].run = dup_or_null(ent(b, "run"), &oom);
		runs[i].bold = dup_or_null(b->path, &oom);
		runs[i].events = dup_or_null(ev->path, &oom);
		runs[i].mask = dup_or_null(mk ? mk->path : NULL, &oom);
		runs[i].confounds = dup_or_null(cf ? cf->path : NULL, &oom);
		if (oom) {
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory listing the runs");
			goto done;
		}
	}
	if (n_masks && n_masks != nb) {
		for (i = 0; i < nb && runs[i].mask; i++)
			;
		rc = nidec_fail(err, NIDEC_EINPUT,
				"BIDS: '%s' has no brain mask (desc-brain_mask.nii[.gz] beside it) but other runs have one; add it, or set [data] mask",
				runs[i].bold);
		goto done;
	}
	/* events without a BOLD: a run missing from the derivatives */
	{
		const struct blist *rl = q->derivatives ? &raw : &der;
		for (j = 0; j < rl->n; j++) {
			const struct bfile *c = &rl->v[j];
			int found = 0;
			if (strcmp(c->suffix, "events") || strcmp(c->ext, ".tsv") || !same(ent(c, "task"), q->task))
				continue;
			for (i = 0; i < nb && !found; i++)
				found = !strcmp(runs[i].events, c->path);
			if (!found) {
				char d[256];
				describe(c, d, sizeof(d));
				rc = nidec_fail(err, NIDEC_EINPUT,
						"BIDS: events '%s' (%s) have no BOLD%s%s%s under '%s'; add the run's BOLD or remove its events",
						c->path, d, q->derivatives ? " of desc-" : "", q->derivatives ? q->desc : "",
						q->derivatives ? (q->space ? " in the space asked" : "") : "", sub_dir);
				goto done;
			}
		}
	}
	*out = runs;
	*n_out = nb;
	runs = NULL;
done:
	nidec_bids_runs_free(runs, nb);
	nidec_free(bold);
	blist_free(&der);
	blist_free(&raw);
	return rc;
}
