/*
 * guard.c - a subject's files under guard (see guard.h): its output
 * directory locked, checked against its inputs, cleared of an earlier
 * run's leftovers, and a task count checked against the memory it needs.
 *
 * Why the leftovers go at the end, not at the start: a run that fails
 * leaves its directory as it was (docs/ERRORS.md, "No partial output"),
 * and during a run of days the earlier run's files stay a complete,
 * consistent set.  They are listed at the start (the log says what will
 * go) and removed as soon as this run's own files are in place.  A file
 * is an earlier run's when it was there at the start under a name nidec
 * writes and is still the same file (device and inode: every output is
 * renamed into place, so a file written again is a new inode).
 *
 * Depends on base, io (the glob of convert.h) and libc; no MPI.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nidec/file.h"
#include "nidec/ledger.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/sbuf.h"

#include "guard.h"

static int ends_with(const char *s, const char *tail)
{
	size_t ls = strlen(s), lt = strlen(tail);

	return ls >= lt && !strcmp(s + ls - lt, tail);
}

int nidec_guard_is_output_name(const char *name)
{
	static const char *const exact[] = { "scores.tsv", "grid_scores.tsv", "predictions.tsv",
		"null_scores.tsv", "summary.json", "model.h5", "results.h5", "report.html",
		"searchlight.tsv" };
	size_t i;

	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(name, exact[i]))
			return 1;
	return (!strncmp(name, "weights_", 8) || !strncmp(name, "searchlight_", 12)) &&
	       ends_with(name, ".nii.gz");
}

/* Every input of the subject, by device and inode. */
static int collect_inputs(nidec_file_inputs *in, const nidec_cfg *cfg, const char *dataset,
			  int convert, nidec_err *err)
{
	char **v = NULL;
	size_t n = 0, i;
	nidec_err ignore = NIDEC_ERR_INIT;

	if (convert) {
		/* a pattern that matches nothing fails later, in convert */
		if (cfg->bold && nidec_glob_natural(cfg->bold, "[data] bold", &v, &n, &ignore) == 0) {
			for (i = 0; i < n; i++)
				if (nidec_file_inputs_add(in, v[i], "[data] bold", err) < 0)
					break;
			nidec_strv_free(v, n);
			if (i < n)
				return NIDEC_ENOMEM;
		}
		v = NULL;
		n = 0;
		if (cfg->events && nidec_glob_natural(cfg->events, "[data] events", &v, &n, &ignore) == 0) {
			for (i = 0; i < n; i++)
				if (nidec_file_inputs_add(in, v[i], "[data] events", err) < 0)
					break;
			nidec_strv_free(v, n);
			if (i < n)
				return NIDEC_ENOMEM;
		}
		NIDEC_TRY(nidec_file_inputs_add(in, cfg->mask, "[data] mask", err));
		NIDEC_TRY(nidec_file_inputs_add(in, cfg->labels, "[data] labels", err));
	} else {
		NIDEC_TRY(nidec_file_inputs_add(in, dataset, "the dataset", err));
	}
	NIDEC_TRY(nidec_file_inputs_add(in, cfg->kf.source, "the config", err));
	NIDEC_TRY(nidec_file_inputs_add(in, cfg->folds_file, "[cv] folds_file", err));
	return 0;
}

/* The files of dir nidec may write (every existing output name, the
 * checkpoint) against the inputs; the earlier run's files into g. */
static int scan_dir(nidec_guard *g, const char *dir, const nidec_file_inputs *in, int record,
		    nidec_err *err)
{
	static const char fix[] = "choose another [output] dir, or move the input out of it";
	char path[NIDEC_PATH_MAX];
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return 0; /* made below, or reported when it is written */
	while (rc == 0 && (e = readdir(d))) {
		struct stat st;
		int out = nidec_guard_is_output_name(e->d_name);
		if (!out && strcmp(e->d_name, NIDEC_LEDGER_NAME))
			continue;
		NIDEC_TRY_GOTO(rc, nidec_file_join(path, sizeof(path), dir, e->d_name, err), done);
		NIDEC_TRY_GOTO(rc, nidec_file_inputs_check(in, path, fix, err), done);
		if (!record || !out || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (g->n_earlier % 16 == 0) {
			size_t cap = g->n_earlier + 16;
			char **nn = nidec_realloc(g->earlier, cap * sizeof(*nn));
			unsigned long long *nd, *ni;
			if (nn)
				g->earlier = nn;
			nd = nn ? nidec_realloc(g->dev, cap * sizeof(*nd)) : NULL;
			if (nd)
				g->dev = nd;
			ni = nd ? nidec_realloc(g->ino, cap * sizeof(*ni)) : NULL;
			if (ni)
				g->ino = ni;
			if (!ni) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory listing '%s'", dir);
				break;
			}
		}
		g->earlier[g->n_earlier] = nidec_strdup(e->d_name);
		if (!g->earlier[g->n_earlier]) {
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory listing '%s'", dir);
			break;
		}
		g->dev[g->n_earlier] = (unsigned long long)st.st_dev;
		g->ino[g->n_earlier] = (unsigned long long)st.st_ino;
		g->n_earlier++;
	}
done:
	closedir(d);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The earlier files sorted by name (the log lists them in that order). */
static void sort_earlier(nidec_guard *g)
{
	size_t i, j;

	/* few files: an insertion sort keeps dev/ino beside their names */
	for (i = 1; i < g->n_earlier; i++)
		for (j = i; j > 0 && cmp_str(&g->earlier[j - 1], &g->earlier[j]) > 0; j--) {
			char *s = g->earlier[j];
			unsigned long long d = g->dev[j], n = g->ino[j];
			g->earlier[j] = g->earlier[j - 1];
			g->dev[j] = g->dev[j - 1];
			g->ino[j] = g->ino[j - 1];
			g->earlier[j - 1] = s;
			g->dev[j - 1] = d;
			g->ino[j - 1] = n;
		}
}

static void free_earlier(nidec_guard *g)
{
	size_t i;

	for (i = 0; i < g->n_earlier; i++)
		nidec_free(g->earlier[i]);
	nidec_free(g->earlier);
	nidec_free(g->dev);
	nidec_free(g->ino);
	g->earlier = NULL;
	g->dev = g->ino = NULL;
	g->n_earlier = 0;
}

int nidec_guard_open(nidec_guard *g, const nidec_cfg *cfg, const char *dataset, int convert,
		     const char *who, nidec_err *err)
{
	nidec_file_inputs in = NIDEC_FILE_INPUTS_INIT;
	const char *dir = cfg->dir;
	struct stat st;
	int rc;

	memset(g, 0, sizeof(*g));
	NIDEC_TRY_GOTO(rc, collect_inputs(&in, cfg, dataset, convert, err), done);
	NIDEC_TRY_GOTO(rc, nidec_file_inputs_check(&in, dir, "choose another [output] dir", err), done);
	/* what is there before this run touches anything */
	NIDEC_TRY_GOTO(rc, scan_dir(g, dir, &in, 0, err), done);
	g->made_dir = stat(dir, &st) < 0;
	NIDEC_TRY_GOTO(rc, nidec_file_mkdir_p(dir, "choose another [output] dir or -o", err), done);
	rc = nidec_lock_take(dir, "[output] dir", "wait for it to finish, or choose another [output] dir",
			     &g->lock, err);
	if (rc < 0)
		goto done;
	/* under the lock: the files of an earlier run, for nidec_guard_clean */
	NIDEC_TRY_GOTO(rc, scan_dir(g, dir, &in, 1, err), done);
	sort_earlier(g);
	if (g->n_earlier) {
		nidec_sbuf list = NIDEC_SBUF_INIT;
		size_t i;
		for (i = 0; i < g->n_earlier; i++)
			(void)nidec_sbuf_addf(&list, "%s%s", i ? ", " : "", g->earlier[i]);
		nidec_verbose("%s'%s' holds %zu file%s of an earlier run (%s): those this run does not write again are removed once its outputs are written",
			      who, dir, g->n_earlier, g->n_earlier == 1 ? "" : "s", list.buf ? list.buf : "");
		nidec_sbuf_release(&list);
	}
done:
	nidec_file_inputs_release(&in);
	if (rc < 0)
		nidec_guard_close(g, dir, 1);
	return rc;
}

void nidec_guard_clean(nidec_guard *g, const char *dir, const char *who)
{
	nidec_sbuf list = NIDEC_SBUF_INIT;
	char path[NIDEC_PATH_MAX];
	size_t i, n = 0;

	for (i = 0; i < g->n_earlier; i++) {
		struct stat st;
		if (nidec_file_join(path, sizeof(path), dir, g->earlier[i], NULL) < 0 ||
		    stat(path, &st) < 0 || (unsigned long long)st.st_dev != g->dev[i] ||
		    (unsigned long long)st.st_ino != g->ino[i])
			continue; /* written again by this run, or gone */
		if (unlink(path) < 0) {
			nidec_warn("%scannot remove '%s', a file of an earlier run that this run did not write: %s",
				   who, path, strerror(errno));
			continue;
		}
		(void)nidec_sbuf_addf(&list, "%s%s", n++ ? ", " : "", g->earlier[i]);
	}
	if (n)
		nidec_info("%sremoved %zu file%s of an earlier run that this run does not write from '%s': %s",
			   who, n, n == 1 ? "" : "s", dir, list.buf ? list.buf : "");
	nidec_sbuf_release(&list);
	free_earlier(g);
}

void nidec_guard_close(nidec_guard *g, const char *dir, int failed)
{
	nidec_lock_release(&g->lock);
	/* a directory this run made and left empty goes (a failed run leaves
	 * nothing behind); rmdir removes only an empty one */
	if (failed && g->made_dir && dir)
		(void)rmdir(dir);
	free_earlier(g);
	g->made_dir = 0;
}

/* Physical memory of this node in bytes, or 0 when unknown. */
static double node_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);

	return pages > 0 && size > 0 ? (double)pages * (double)size : 0;
}

static void human_bytes(double b, char *buf, size_t n)
{
	if (b >= 1e12)
		snprintf(buf, n, "%.1f TB", b / 1e12);
	else if (b >= 1e9)
		snprintf(buf, n, "%.1f GB", b / 1e9);
	else
		snprintf(buf, n, "%.0f MB", b / 1e6);
}

int nidec_guard_task_count(const nidec_cfg *cfg, size_t n_tasks, const char *what,
			   const char *who, nidec_err *err)
{
	double need = (double)n_tasks * NIDEC_GUARD_TASK_BYTES, have = node_memory();
	char need_s[32], have_s[32], fix[256];

	if (n_tasks < 1000000 && need < 1e9)
		return 0;
	human_bytes(need, need_s, sizeof(need_s));
	human_bytes(have, have_s, sizeof(have_s));
	if (cfg->permutations > 0)
		snprintf(fix, sizeof(fix),
			 "lower [cv] permutations (%ld now: 1000 resolve p-values down to 0.001, 10000 down to 0.0001)",
			 cfg->permutations);
	else
		snprintf(fix, sizeof(fix), "use fewer folds, C values or classes");
	if (have > 0 && need > 0.8 * have)
		return nidec_fail(err, NIDEC_EINPUT,
				  "%s%s: rank 0 would need about %s to schedule and reduce the tasks, more than this node's %s; %s",
				  who, what, need_s, have_s, fix);
	nidec_warn("%s%s: a very large run; rank 0 needs about %s to schedule and reduce the tasks (this node has %s); if that is more than meant, %s",
		   who, what, need_s, have > 0 ? have_s : "an unknown amount", fix);
	return 0;
}
