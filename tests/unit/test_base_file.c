/*
 * test_base_file.c - the file layer (src/base/file.c): temporaries that
 * are committed or aborted, their one naming scheme, their removal on
 * error paths, at exit and when a process dies of a signal (in forked
 * children), mkdir -p, the whole-file reader and its limit, the checked
 * path join, and allocation failures (nidec_mem_fail_at).
 * Each case works in a fresh directory under $TMPDIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nidec/err.h"
#include "nidec/file.h"
#include "nidec/keyfile.h" /* nidec_strv_free */
#include "nidec/lock.h"
#include "nidec/mem.h"

/* ---- helpers ----------------------------------------------------------------- */

struct dir {
	char path[256];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	const char *tmp = getenv("TMPDIR");

	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "%s/nidec-test-file.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static void remove_tree(const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *e;
	char p[1024];

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	dir = opendir(path);
	while (dir && (e = readdir(dir)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
		remove_tree(p);
	}
	if (dir)
		closedir(dir);
	rmdir(path);
}

static int teardown(void **state)
{
	struct dir *d = *state;

	nidec_mem_fail_at(0);
	remove_tree(d->path);
	free(d);
	return 0;
}

/* d/name into buf */
static const char *at(const struct dir *d, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", d->path, name);
	return buf;
}

/* Number of entries of directory `path` (without . and ..). */
static int n_entries(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dir);
	return n;
}

static void write_plain(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The contents of `path` must be `want`. */
static void assert_file(const char *path, const char *want)
{
	char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* Run child(d) in a forked process; its wait status. */
static int in_child(const struct dir *d, void (*child)(const struct dir *))
{
	int status = 0;
	pid_t pid;

	/* the child must not flush the parent's buffered output again */
	fflush(stdout);
	fflush(stderr);
	pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		child(d);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* ---- temporaries ----------------------------------------------------------- */

static void test_base_file__commit_puts_the_file_in_place(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile *t = NULL;
	char path[512];

	at(d, "scores.tsv", path, sizeof(path));
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
	assert_non_null(t);
	assert_string_equal(nidec_tempfile_target(t), path);
	assert_true(nidec_tempfile_fd(t) >= 0);
	assert_int_equal(nidec_tempfile_write(t, "a\tb\n", 4, &err), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(nidec_tempfile_commit(&t, &err), 0);
	assert_null(t);
	assert_file(path, "a\tb\n");
	assert_int_equal(n_entries(d->path), 1);
	assert_int_equal(err.code, 0);
}

static void test_base_file__abort_leaves_nothing(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile *t = NULL;
	char path[512];

	at(d, "x.h5", path, sizeof(path));
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
	assert_int_equal(nidec_tempfile_write(t, "data", 4, &err), 0);
	assert_int_equal(n_entries(d->path), 1);
	nidec_tempfile_abort(&t);
	assert_null(t);
	assert_int_equal(n_entries(d->path), 0);
	nidec_tempfile_abort(&t); /* NULL-safe */
	nidec_tempfile_abort(NULL);
}

static void test_base_file__one_naming_scheme(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile *a = NULL, *b = NULL, *c = NULL;
	char path[512], want[600], cwd[1024];
	const char *ta, *tb;
	size_t n;

	at(d, "model.h5", path, sizeof(path));
	assert_int_equal(nidec_tempfile_create(path, 0, &a, &err), 0);
	assert_int_equal(nidec_tempfile_create(path, 0, &b, &err), 0);
	ta = nidec_tempfile_path(a);
	tb = nidec_tempfile_path(b);
	/* "<dir>/.<name>.tmp-<pid>-<n>": same directory, hidden, this pid */
	snprintf(want, sizeof(want), "%s/.model.h5.tmp-%ld-", d->path, (long)getpid());
	n = strlen(want);
	assert_int_equal(strncmp(ta, want, n), 0);
	assert_int_equal(strncmp(tb, want, n), 0);
	assert_true(strspn(ta + n, "0123456789") == strlen(ta + n) && ta[n]);
	assert_string_not_equal(ta, tb); /* two temporaries of one target */
	assert_int_equal(access(ta, F_OK), 0);
	nidec_tempfile_abort(&a);
	nidec_tempfile_abort(&b);
	/* a bare name: the temporary is in the current directory */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(d->path), 0);
	assert_int_equal(nidec_tempfile_create("bare.txt", 0, &c, &err), 0);
	snprintf(want, sizeof(want), ".bare.txt.tmp-%ld-", (long)getpid());
	assert_int_equal(strncmp(nidec_tempfile_path(c), want, strlen(want)), 0);
	assert_int_equal(nidec_tempfile_commit(&c, &err), 0);
	assert_int_equal(access("bare.txt", F_OK), 0);
	assert_int_equal(chdir(cwd), 0);
}

static void test_base_file__a_leftover_name_is_skipped(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile *t = NULL;
	char path[512], next[600], other[600];

	/* guess the next name (this pid, next counter) and put a file there */
	at(d, "f", path, sizeof(path));
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
	snprintf(next, sizeof(next), "%s", nidec_tempfile_path(t));
	nidec_tempfile_abort(&t);
	{
		char *dash = strrchr(next, '-');
		unsigned long k = strtoul(dash + 1, NULL, 10);
		snprintf(dash + 1, sizeof(next) - (size_t)(dash + 1 - next), "%lu", k + 1);
	}
	write_plain(next, "a stale leftover");
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
	snprintf(other, sizeof(other), "%s", nidec_tempfile_path(t));
	assert_string_not_equal(other, next);
	assert_int_equal(nidec_tempfile_commit(&t, &err), 0);
	assert_file(next, "a stale leftover"); /* never opened, never removed */
	assert_file(path, "");
}

static void test_base_file__missing_directory_is_an_error_naming_the_fix(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile *t = NULL;
	char path[512], want[1200];

	at(d, "no-such-dir/r.html", path, sizeof(path));
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), NIDEC_EIO);
	assert_null(t);
	snprintf(want, sizeof(want), "cannot write '%s': No such file or directory; create directory '%s/no-such-dir'",
		 path, d->path);
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(n_entries(d->path), 0);
	nidec_err_clear(&err);
	assert_int_equal(nidec_file_write(path, "x", 1, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "cannot write '"));
	nidec_err_clear(&err);
	assert_int_equal(nidec_tempfile_create("dir/", 0, &t, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "not a file name"));
}

static void test_base_file__overwrite_is_atomic(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile *t = NULL;
	char path[512];
	FILE *f;

	at(d, "summary.json", path, sizeof(path));
	write_plain(path, "old\n");
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
	f = nidec_tempfile_fdopen(t, "wb", &err);
	assert_non_null(f);
	assert_true(fprintf(f, "new %d\n", 2) > 0);
	/* written and even closed (synced): the old file is still the target */
	assert_int_equal(nidec_tempfile_close(t, &err), 0);
	assert_int_equal(nidec_tempfile_close(t, &err), 0); /* twice: no-op */
	assert_int_equal(nidec_tempfile_fd(t), -1);
	assert_file(path, "old\n");
	assert_int_equal(nidec_tempfile_commit(&t, &err), 0);
	assert_file(path, "new 2\n");
	assert_int_equal(n_entries(d->path), 1);
	/* an abort leaves the old file as it was */
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
	assert_int_equal(nidec_tempfile_write(t, "newer", 5, &err), 0);
	nidec_tempfile_abort(&t);
	assert_file(path, "new 2\n");
}

static void test_base_file__a_library_writes_by_path(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile *t = NULL;
	char path[512];
	FILE *f;

	/* as H5Fcreate or gzopen: close ours, the library opens the temporary */
	at(d, "ledger", path, sizeof(path));
	assert_int_equal(nidec_tempfile_create(path, NIDEC_TEMPFILE_SYNC_DIR, &t, &err), 0);
	assert_int_equal(nidec_tempfile_close(t, &err), 0);
	f = fopen(nidec_tempfile_path(t), "wb");
	assert_non_null(f);
	assert_true(fputs("by path", f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(nidec_tempfile_commit(&t, &err), 0);
	assert_file(path, "by path");
	assert_int_equal(nidec_file_write(path, "whole", 5, &err), 0);
	assert_file(path, "whole");
	assert_int_equal(n_entries(d->path), 1);
}

static void test_base_file__a_failed_commit_removes_the_temporary(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile *t = NULL;
	char path[512], inside[600];

	/* the target is a non-empty directory: rename() fails */
	at(d, "out", path, sizeof(path));
	assert_int_equal(mkdir(path, 0777), 0);
	snprintf(inside, sizeof(inside), "%s/keep", path);
	write_plain(inside, "k");
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
	assert_int_equal(nidec_tempfile_write(t, "x", 1, &err), 0);
	assert_int_equal(nidec_tempfile_commit(&t, &err), NIDEC_EIO);
	assert_null(t);
	assert_non_null(strstr(err.msg, "cannot rename '"));
	assert_non_null(strstr(err.msg, path));
	assert_int_equal(n_entries(d->path), 1); /* "out" only */
	assert_file(inside, "k");
	/* the library removed the temporary it wrote by path: an error */
	nidec_err_clear(&err);
	at(d, "gone", path, sizeof(path));
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
	assert_int_equal(nidec_tempfile_close(t, &err), 0);
	assert_int_equal(unlink(nidec_tempfile_path(t)), 0);
	assert_int_equal(nidec_tempfile_commit(&t, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "cannot write '"));
	assert_int_equal(access(path, F_OK), -1);
}

static void test_base_file__allocation_failures_leave_nothing(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	char path[512];
	char *text = NULL;
	long n;
	int rc, failed = 0;

	at(d, "t.txt", path, sizeof(path));
	for (n = 1; n < 10; n++) {
		nidec_err_clear(&err);
		nidec_mem_fail_at(n);
		rc = nidec_file_write(path, "abc", 3, &err);
		nidec_mem_fail_at(0);
		if (rc < 0) {
			assert_int_equal(rc, NIDEC_ENOMEM);
			assert_non_null(strstr(err.msg, "out of memory writing '"));
			assert_int_equal(n_entries(d->path), 0);
			failed++;
		} else {
			assert_file(path, "abc");
			break;
		}
	}
	assert_int_equal(failed, 1); /* one allocation per temporary */
	for (n = 1; n < 10; n++) {
		nidec_err_clear(&err);
		nidec_mem_fail_at(n);
		rc = nidec_file_read(path, 100, 0, &text, NULL, &err);
		nidec_mem_fail_at(0);
		if (rc == 0)
			break;
		assert_int_equal(rc, NIDEC_ENOMEM);
		assert_null(text);
		assert_non_null(strstr(err.msg, "out of memory reading '"));
	}
	assert_string_equal(text, "abc");
	nidec_free(text);
}

static void test_base_file__registry_has_a_limit(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile **t = calloc(NIDEC_TEMPFILE_MAX + 1, sizeof(*t));
	char path[512];
	int i;

	assert_non_null(t);
	at(d, "many", path, sizeof(path));
	for (i = 0; i < NIDEC_TEMPFILE_MAX; i++) {
		assert_int_equal(nidec_tempfile_create(path, 0, &t[i], &err), 0);
		assert_int_equal(nidec_tempfile_close(t[i], &err), 0); /* not to run out of fds */
	}
	assert_int_equal(nidec_tempfile_create(path, 0, &t[i], &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "temporary files are open already"));
	assert_int_equal(n_entries(d->path), NIDEC_TEMPFILE_MAX);
	for (i = 0; i < NIDEC_TEMPFILE_MAX; i++)
		nidec_tempfile_abort(&t[i]);
	assert_int_equal(n_entries(d->path), 0);
	free(t);
}

/* ---- cleanup at exit and on signals (in forked children) --------------------- */

static void child_exits_without_commit(const struct dir *d)
{
	nidec_tempfile *t = NULL;
	char path[512];

	at(d, "left", path, sizeof(path));
	if (nidec_tempfile_create(path, 0, &t, NULL) < 0 || nidec_tempfile_write(t, "x", 1, NULL) < 0)
		_exit(2);
	exit(0); /* atexit removes it */
}

static void child_dies_of(const struct dir *d, int sig)
{
	nidec_tempfile *t = NULL, *u = NULL;
	char path[512];

	at(d, "dying", path, sizeof(path));
	if (nidec_tempfile_create(path, 0, &t, NULL) < 0 || nidec_tempfile_write(t, "x", 1, NULL) < 0 ||
	    nidec_tempfile_create(path, 0, &u, NULL) < 0 || nidec_tempfile_close(u, NULL) < 0)
		_exit(2);
	raise(sig);
	_exit(3); /* not reached: the signal kills */
}

static void child_sighup(const struct dir *d)
{
	child_dies_of(d, SIGHUP);
}

static void child_sigpipe(const struct dir *d)
{
	child_dies_of(d, SIGPIPE);
}

static void child_sigxcpu(const struct dir *d)
{
	child_dies_of(d, SIGXCPU);
}

static void test_base_file__cleanup_at_exit_and_on_fatal_signals(void **state)
{
	struct dir *d = *state;
	int st;

	st = in_child(d, child_exits_without_commit);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(n_entries(d->path), 0);
	st = in_child(d, child_sighup);
	assert_true(WIFSIGNALED(st)); /* it still dies of the signal */
	assert_int_equal(WTERMSIG(st), SIGHUP);
	assert_int_equal(n_entries(d->path), 0);
	st = in_child(d, child_sigpipe);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
	assert_int_equal(n_entries(d->path), 0);
	st = in_child(d, child_sigxcpu);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU);
	assert_int_equal(n_entries(d->path), 0);
}

static volatile sig_atomic_t caught;

static void record(int sig)
{
	caught = sig;
}

/* As src/cli/signals.c during a run: SIGTERM stops the run cleanly, so the
 * file layer must not take it over; an ignored signal stays ignored. */
static void child_with_own_handlers(const struct dir *d)
{
	struct sigaction sa;
	nidec_tempfile *t = NULL;
	char path[512];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = record;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || signal(SIGHUP, SIG_IGN) == SIG_ERR)
		_exit(2);
	at(d, "kept", path, sizeof(path));
	if (nidec_tempfile_create(path, 0, &t, NULL) < 0)
		_exit(2);
	raise(SIGTERM);
	raise(SIGHUP);
	if (caught != SIGTERM || access(nidec_tempfile_path(t), F_OK) < 0)
		_exit(4);
	if (nidec_tempfile_write(t, "ok", 2, NULL) < 0 || nidec_tempfile_commit(&t, NULL) < 0)
		_exit(5);
	_exit(0);
}

static void test_base_file__signals_handled_elsewhere_are_left_alone(void **state)
{
	struct dir *d = *state;
	char path[512];
	int st = in_child(d, child_with_own_handlers);

	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_file(at(d, "kept", path, sizeof(path)), "ok");
	assert_int_equal(n_entries(d->path), 1);
}

static void child_sighup_only(const struct dir *d)
{
	(void)d;
	raise(SIGHUP);
	_exit(3);
}

static void test_base_file__a_child_removes_only_its_own(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_tempfile *t = NULL;
	char path[512];
	int st;

	/* the parent's temporary survives the death of a forked child */
	at(d, "parent", path, sizeof(path));
	assert_int_equal(nidec_tempfile_create(path, 0, &t, &err), 0);
	st = in_child(d, child_sighup_only);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP);
	assert_int_equal(access(nidec_tempfile_path(t), F_OK), 0);
	st = in_child(d, child_exits_without_commit);
	assert_true(WIFEXITED(st));
	assert_int_equal(access(nidec_tempfile_path(t), F_OK), 0);
	assert_int_equal(nidec_tempfile_commit(&t, &err), 0);
	assert_int_equal(n_entries(d->path), 1);
}

/* ---- mkdir -p ------------------------------------------------------------------ */

static void test_base_file__mkdir_p(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	char path[512], file[512], want[1200];
	struct stat st;

	/* nested, then again (exists), with a final '/' and doubled '/' */
	at(d, "a/b/c", path, sizeof(path));
	assert_int_equal(nidec_file_mkdir_p(path, NULL, &err), 0);
	assert_true(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	assert_int_equal(nidec_file_mkdir_p(path, NULL, &err), 0);
	at(d, "a//b2/c2/", path, sizeof(path));
	assert_int_equal(nidec_file_mkdir_p(path, NULL, &err), 0);
	at(d, "a/b2/c2", path, sizeof(path));
	assert_true(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
	assert_int_equal(err.code, 0);
	/* a file in the way: named, and the caller's fix follows */
	at(d, "a/file", file, sizeof(file));
	write_plain(file, "f");
	at(d, "a/file/x/y", path, sizeof(path));
	assert_int_equal(nidec_file_mkdir_p(path, "choose another -o", &err), NIDEC_EIO);
	snprintf(want, sizeof(want), "cannot create directory '%s': '%s' is not a directory; choose another -o",
		 path, file);
	assert_string_equal(err.msg, want);
	assert_int_equal(nidec_file_mkdir_p(file, NULL, &err), NIDEC_EIO);
	snprintf(want, sizeof(want), "'%s' is not a directory", file);
	assert_non_null(strstr(err.msg, want));
	/* a directory that cannot be made */
	nidec_err_clear(&err);
	assert_int_equal(nidec_file_mkdir_p("/proc/nidec-test/x", "fix", &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "cannot create directory '/proc/nidec-test': "));
	assert_non_null(strstr(err.msg, "; fix"));
	/* empty and too long names */
	assert_int_equal(nidec_file_mkdir_p("", NULL, &err), NIDEC_EINPUT);
	{
		char *big = malloc(NIDEC_PATH_MAX + 10);
		assert_non_null(big);
		memset(big, 'a', NIDEC_PATH_MAX + 9);
		big[NIDEC_PATH_MAX + 9] = '\0';
		assert_int_equal(nidec_file_mkdir_p(big, NULL, &err), NIDEC_EINPUT);
		assert_non_null(strstr(err.msg, "the name is longer than"));
		free(big);
	}
}

/* ---- reading --------------------------------------------------------------------- */

static void test_base_file__read_whole_file_and_its_limit(void **state)
{
	struct dir *d = *state;
	nidec_err err = NIDEC_ERR_INIT;
	char path[512], want[700];
	char *text = (char *)"untouched";
	size_t len = 99;

	at(d, "ten.txt", path, sizeof(path));
	write_plain(path, "0123456789");
	assert_int_equal(nidec_file_read(path, 10, 0, &text, &len, &err), 0);
	assert_string_equal(text, "0123456789");
	assert_int_equal(len, 10);
	nidec_free(text);
	/* one byte over the limit: refused, outputs untouched */
	text = (char *)"untouched";
	len = 99;
	assert_int_equal(nidec_file_read(path, 9, 0, &text, &len, &err), NIDEC_EINPUT);
	snprintf(want, sizeof(want), "'%s' is too large (more than 9 bytes)", path);
	assert_non_null(strstr(err.msg, want));
	assert_string_equal(text, "untouched");
	assert_int_equal(len, 99);
	/* not a regular file: read as it comes, same limit */
	assert_int_equal(nidec_file_read("/dev/null", 0, 0, &text, NULL, &err), 0);
	assert_string_equal(text, "");
	nidec_free(text);
	nidec_err_clear(&err);
	assert_int_equal(nidec_file_read("/dev/zero", 100000, 0, &text, NULL, &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "'/dev/zero' is too large (more than 100000 bytes)"));
	/* an empty file */
	at(d, "empty", path, sizeof(path));
	write_plain(path, "");
	assert_int_equal(nidec_file_read(path, 10, 0, &text, &len, &err), 0);
	assert_string_equal(text, "");
	assert_int_equal(len, 0);
	nidec_free(text);
	/* missing: an error naming the file, or (flag) nothing */
	at(d, "nope", path, sizeof(path));
	assert_int_equal(nidec_file_read(path, 10, 0, &text, &len, &err), NIDEC_EIO);
	snprintf(want, sizeof(want), "cannot open '%s': No such file or directory", path);
	assert_string_equal(err.msg, want);
	text = (char *)"untouched";
	assert_int_equal(nidec_file_read(path, 10, NIDEC_FILE_MISSING_OK, &text, &len, &err), 0);
	assert_null(text);
	assert_int_equal(len, 0);
	/* a directory */
	nidec_err_clear(&err);
	assert_int_equal(nidec_file_read(d->path, 10, 0, &text, &len, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "Is a directory"));
}

/* ---- paths ------------------------------------------------------------------------ */

static void test_base_file__join_refuses_overflow(void **state)
{
	nidec_err err = NIDEC_ERR_INIT;
	char buf[12];

	(void)state;
	assert_int_equal(nidec_file_join(buf, sizeof(buf), "out", "a.tsv", &err), 0);
	assert_string_equal(buf, "out/a.tsv");
	assert_int_equal(nidec_file_join(buf, sizeof(buf), "out/", "a.tsv", &err), 0);
	assert_string_equal(buf, "out/a.tsv");
	assert_int_equal(nidec_file_join(buf, sizeof(buf), "", "a.tsv", &err), 0);
	assert_string_equal(buf, "a.tsv");
	assert_int_equal(nidec_file_join(buf, sizeof(buf), "/", "a.tsv", &err), 0);
	assert_string_equal(buf, "/a.tsv");
	/* 11 characters fit in 12 bytes, 12 do not */
	assert_int_equal(nidec_file_join(buf, sizeof(buf), "outdi", "a.tsv", &err), 0);
	assert_string_equal(buf, "outdi/a.tsv");
	assert_int_equal(err.code, 0);
	assert_int_equal(nidec_file_join(buf, sizeof(buf), "outdir", "a.tsv", &err), NIDEC_EINPUT);
	assert_string_equal(buf, "");
	assert_string_equal(err.msg, "path 'outdir/a.tsv' is too long (more than 11 bytes); choose a shorter directory or name");
	{
		/* a very long name is shortened in the message, the fix stays */
		char big[3000], out[4096];
		memset(big, 'd', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(nidec_file_join(out, 2000, big, "x", &err), NIDEC_EINPUT);
		assert_non_null(strstr(err.msg, "...' is too long (more than 1999 bytes); choose a shorter"));
	}
}

/* ---- inputs are read-only, one run per directory (issue 20) ------------------ */

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("x\n", f);
	fclose(f);
}

/* The same file through a symlink, "..", a hard link; another file is not. */
static void test_base_file__inputs_by_inode(void **state)
{
	struct dir *d = *state;
	nidec_file_inputs in = NIDEC_FILE_INPUTS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	char a[512], b[512], link_[512], hard[512], dotdot[512], sub[512];

	snprintf(a, sizeof(a), "%s/mask.nii", d->path);
	snprintf(b, sizeof(b), "%s/other.nii", d->path);
	snprintf(link_, sizeof(link_), "%s/link.h5", d->path);
	snprintf(hard, sizeof(hard), "%s/hard.h5", d->path);
	snprintf(sub, sizeof(sub), "%s/sub", d->path);
	snprintf(dotdot, sizeof(dotdot), "%s/sub/../mask.nii", d->path);
	touch(a);
	touch(b);
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(symlink(a, link_), 0);
	assert_int_equal(link(a, hard), 0);
	assert_int_equal(nidec_file_inputs_add(&in, a, "[data] mask", &err), 0);
	assert_int_equal(nidec_file_inputs_add(&in, "/nonexistent/x", "[data] bold", &err), 0);
	assert_int_equal(in.n, 1);
	assert_int_equal(nidec_file_inputs_check(&in, b, NULL, &err), 0);
	assert_int_equal(nidec_file_inputs_check(&in, "/nonexistent/y", NULL, &err), 0);
	assert_int_equal(nidec_file_inputs_check(&in, link_, "choose another", &err), NIDEC_EINPUT);
	assert_non_null(strstr(err.msg, "link.h5' is the input '"));
	assert_non_null(strstr(err.msg, "mask.nii' ([data] mask): nidec never writes over its inputs; choose another"));
	assert_int_equal(nidec_file_inputs_find(&in, hard), 0);
	assert_int_equal(nidec_file_inputs_find(&in, dotdot), 0);
	nidec_file_inputs_release(&in);
	assert_int_equal(in.n, 0);
}

/* A second lock of a directory fails at once, naming the holder; the
 * holder's death (here: its exit) frees it; a lock is taken once per
 * process; release removes the lock file. */
static void lock_modes(const char *dir, int use_fcntl)
{
	nidec_lock *l = NULL, *l2 = NULL;
	nidec_err err = NIDEC_ERR_INIT;
	char path[512];
	int up[2], down[2], status; /* child -> parent, parent -> child */
	char c;
	pid_t pid;

	setenv("NIDEC_LOCK_FCNTL", use_fcntl ? "1" : "0", 1);
	snprintf(path, sizeof(path), "%s/" NIDEC_LOCK_NAME, dir);
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child holds the lock until the parent has tried */
		nidec_lock *cl = NULL;
		if (nidec_lock_take(dir, "[output] dir", "wait", &cl, NULL) < 0)
			_exit(1);
		(void)!write(up[1], "x", 1);
		(void)!read(down[0], &c, 1);
		_exit(0); /* dies holding it: no release */
	}
	assert_int_equal(read(up[0], &c, 1), 1);
	assert_int_equal(nidec_lock_take(dir, "[output] dir", "wait for it", &l, &err), NIDEC_EBUSY);
	assert_null(l);
	assert_non_null(strstr(err.msg, "[output] dir '"));
	assert_non_null(strstr(err.msg, "' is in use by another nidec run (host "));
	assert_non_null(strstr(err.msg, ", started "));
	assert_non_null(strstr(err.msg, "; wait for it"));
	{
		char want[64];
		snprintf(want, sizeof(want), "pid %ld,", (long)pid);
		assert_non_null(strstr(err.msg, want));
	}
	assert_int_equal(write(down[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	/* fcntl: freed by the kernel; the fallback: a stale file of a process
	 * that is gone, taken over */
	assert_int_equal(nidec_lock_take(dir, "[output] dir", "wait", &l, &err), 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(nidec_lock_take(dir, "[output] dir", "wait", &l2, &err), NIDEC_EBUSY);
	assert_non_null(strstr(err.msg, "is used twice in this run"));
	nidec_lock_refresh(l);
	nidec_lock_release(&l);
	assert_null(l);
	assert_int_equal(access(path, F_OK), -1);
	nidec_lock_release(&l); /* NULL-safe */
	unsetenv("NIDEC_LOCK_FCNTL");
}

static void test_base_file__lock_one_run_per_directory(void **state)
{
	struct dir *d = *state;

	lock_modes(d->path, 1);
	lock_modes(d->path, 0);
}

static void test_base_file__natural_sort(void **state)
{
	const char *v[] = { "run-10.nii", "run-2.nii", "run-1.nii", "run-02.nii", "run-b.nii",
			    "run-a.nii", "run-100.nii", "Run-3.nii", "run-2a.nii" };
	const char *want[] = { "Run-3.nii", "run-1.nii", "run-2.nii", "run-02.nii", "run-2a.nii",
			       "run-10.nii", "run-100.nii", "run-a.nii", "run-b.nii" };
	size_t n = sizeof(v) / sizeof(v[0]), i, j;
	(void)state;

	assert_true(nidec_natural_cmp("run-2", "run-10") < 0);
	assert_true(nidec_natural_cmp("run-10", "run-2") > 0);
	assert_true(nidec_natural_cmp("run-02", "run-2") > 0); /* same value: fewer zeros first */
	assert_true(nidec_natural_cmp("a", "a") == 0);
	assert_true(nidec_natural_cmp("a", "ab") < 0);
	assert_true(nidec_natural_cmp("x99999999999999999999999", "x100000000000000000000000") < 0);
	/* insertion sort with the comparison, then compare with the order wanted */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && nidec_natural_cmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
}

static void test_base_file__glob_sorted_naturally(void **state)
{
	char dir[] = "/tmp/nidec-test-glob-XXXXXX", path[256], pat[256], cmd[300];
	const char *names[] = { "s_run-10_bold.nii", "s_run-9_bold.nii", "s_run-1_bold.nii", "other.txt" };
	nidec_err err = NIDEC_ERR_INIT;
	char **v = NULL;
	size_t n = 0, i;
	(void)state;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 4; i++) {
		FILE *f;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
	}
	snprintf(pat, sizeof(pat), "%s/s_run-*_bold.nii", dir);
	assert_int_equal(nidec_glob_natural(pat, "[data] bold", &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_non_null(strstr(v[0], "run-1_"));
	assert_non_null(strstr(v[1], "run-9_"));
	assert_non_null(strstr(v[2], "run-10_"));
	nidec_strv_free(v, n);

	snprintf(pat, sizeof(pat), "%s/nothing-*.nii", dir);
	assert_int_equal(nidec_glob_natural(pat, "[data] bold", &v, &n, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "matches no file"));
	snprintf(pat, sizeof(pat), "%s/missing.nii", dir);
	assert_int_equal(nidec_glob_natural(pat, "[data] mask", &v, &n, &err), NIDEC_EIO);
	assert_non_null(strstr(err.msg, "[data] mask: cannot open"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_base_file__commit_puts_the_file_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__one_naming_scheme, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__a_leftover_name_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__missing_directory_is_an_error_naming_the_fix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__overwrite_is_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__a_library_writes_by_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__a_failed_commit_removes_the_temporary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__allocation_failures_leave_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__registry_has_a_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__cleanup_at_exit_and_on_fatal_signals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__signals_handled_elsewhere_are_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__a_child_removes_only_its_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__mkdir_p, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__read_whole_file_and_its_limit, setup, teardown),
		cmocka_unit_test(test_base_file__join_refuses_overflow),
		cmocka_unit_test_setup_teardown(test_base_file__inputs_by_inode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_base_file__lock_one_run_per_directory, setup, teardown),
		cmocka_unit_test(test_base_file__natural_sort),
		cmocka_unit_test(test_base_file__glob_sorted_naturally),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
