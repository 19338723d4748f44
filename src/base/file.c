/*
 * file.c - the file layer (see include/nidec/file.h): temporaries that are
 * committed by rename() or removed, a registry that removes them when the
 * process dies of a signal, mkdir -p, a whole-file reader and a checked
 * path join.
 *
 * Why one layer: nidec had eight temp-then-rename writers with four naming
 * schemes ("<path>.tmp.<pid>", "<path>.tmp", ".<name>.tmp.XXXXXX",
 * "<path>.tmp.XXXXXX"), three of which removed their temporary on error
 * only, none on a signal, and three mkdir -p, two path joins and three
 * whole-file readers, each with its own messages.  Now a run killed by
 * SIGHUP (a closed terminal), SIGPIPE (`nidec ... | head`) or SIGXCPU (a
 * batch system's CPU limit) leaves no temporary, and every writer says the
 * same thing about the same failure.
 *
 * The registry.  A signal handler may only call async-signal-safe
 * functions and touch lock-free atomics, so the temporaries live in a
 * fixed table of NIDEC_TEMPFILE_MAX atomic pointers to their names (owned
 * by the nidec_tempfile, freed only after the pointer is cleared) and the
 * pid of the process that registered them.  The table and the counter of
 * temporary names are this file's mutable globals, for the reason
 * signals.c gives for its own: a signal handler can reach nothing else.
 *
 * Depends on libc (C11 and POSIX) only.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "nidec/file.h"
#include "nidec/mem.h"

/* The handler reads the table without a lock: it must be lock-free. */
_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "the temporary registry needs lock-free pointers");

struct nidec_tempfile {
	char *path;     /* the target (in this allocation) */
	char *tmp;      /* "<dir>/.<name>.tmp-<pid>-<n>" (in this allocation) */
	int fd;         /* -1 once closed */
	FILE *fp;       /* the stream of nidec_tempfile_fdopen (it owns fd), or NULL */
	unsigned flags; /* NIDEC_TEMPFILE_* */
	int slot;       /* index in the registry */
};

/* ---- the registry ---------------------------------------------------------- */

static struct {
	_Atomic(char *) path; /* a registered temporary, or NULL */
	pid_t owner;          /* the process that registered it */
} registry[NIDEC_TEMPFILE_MAX];

static unsigned long n_created; /* the <n> of the next name */

/* Unlink every temporary this process registered (async-signal-safe:
 * getpid, atomic loads, unlink). */
static void remove_registered(void)
{
	pid_t me = getpid();
	size_t i;

	for (i = 0; i < NIDEC_TEMPFILE_MAX; i++) {
		char *p = atomic_load_explicit(&registry[i].path, memory_order_acquire);
		/* the result does not matter: the process is ending */
		if (p && registry[i].owner == me)
			(void)unlink(p);
	}
}

static void remove_at_exit(void)
{
	remove_registered();
}

/* Signals that end the process by default, for which a temporary is
 * removed first (file.h "Cleanup"). */
static const int cleanup_signals[] = { SIGHUP,  SIGINT,  SIGQUIT, SIGPIPE, SIGALRM,
				       SIGTERM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ };
#define N_CLEANUP_SIGNALS (sizeof(cleanup_signals) / sizeof(cleanup_signals[0]))

static void on_signal(int sig)
{
	struct sigaction dfl;
	int saved = errno;

	remove_registered();
	/* the default action back, then the signal again: it is blocked while
	 * this handler runs, so it is delivered on return and the process dies
	 * of it as it would have without us */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (sigaction(sig, &dfl, NULL) == 0)
		(void)raise(sig);
	errno = saved;
}

/* Install on_signal for each cleanup signal whose disposition is the
 * default one now, and the exit hook once.  Best effort: a failed
 * sigaction or atexit costs only the cleanup of a temporary after a crash,
 * so it is not an error of the write. */
static void install_cleanup(void)
{
	static int at_exit_done;
	struct sigaction sa, cur;
	size_t i;

	if (!at_exit_done)
		at_exit_done = atexit(remove_at_exit) == 0 ? 1 : -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < N_CLEANUP_SIGNALS; i++)
		sigaddset(&sa.sa_mask, cleanup_signals[i]);
	for (i = 0; i < N_CLEANUP_SIGNALS; i++) {
		if (sigaction(cleanup_signals[i], NULL, &cur) < 0)
			continue;
		/* ignored, or someone's handler (signals.c during a run): theirs */
		if ((cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL)
			continue;
		(void)sigaction(cleanup_signals[i], &sa, NULL);
	}
}

/* A free slot for `tmp`, or -1 when NIDEC_TEMPFILE_MAX are in use.  The
 * owner is set before the name is published (release), so the handler
 * never sees a name with another process's pid. */
static int registry_add(char *tmp)
{
	size_t i;

	for (i = 0; i < NIDEC_TEMPFILE_MAX; i++)
		if (!atomic_load_explicit(&registry[i].path, memory_order_relaxed)) {
			registry[i].owner = getpid();
			atomic_store_explicit(&registry[i].path, tmp, memory_order_release);
			return (int)i;
		}
	return -1;
}

static void registry_remove(int slot)
{
	atomic_store_explicit(&registry[slot].path, NULL, memory_order_release);
}

/* ---- messages -------------------------------------------------------------- */

/* "; <fix>" for errno `e` of creating, writing or renaming `path`, or "". */
static void fix_for(int e, const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');
	int dl = slash ? (slash == path ? 1 : (int)(slash - path)) : 1;
	const char *dir = slash ? path : ".";

	switch (e) {
	case ENOENT:
		snprintf(buf, n, "; create directory '%.*s' or choose another path", dl, dir);
		break;
	case ENOTDIR:
		snprintf(buf, n, "; a part of the path is not a directory: choose another path");
		break;
	case EACCES:
	case EPERM:
	case EROFS:
		snprintf(buf, n, "; check the permissions of directory '%.*s' or choose another path",
			 dl, dir);
		break;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		snprintf(buf, n, "; free some space or choose another location");
		break;
	case ENAMETOOLONG:
		snprintf(buf, n, "; choose a shorter name");
		break;
	default:
		buf[0] = '\0';
	}
}

/* "cannot write '<path>': <reason>; <fix>" */
static int write_fail(nidec_err *err, const char *path, int e)
{
	char fix[NIDEC_PATH_MAX + 128];

	fix_for(e, path, fix, sizeof(fix));
	return nidec_fail(err, NIDEC_EIO, "cannot write '%s': %s%s", path, strerror(e), fix);
}

/* fsync, retried on EINTR; file systems that cannot (EINVAL, EROFS) have
 * nothing to force.  0 or an errno. */
static int sync_fd(int fd)
{
	while (fsync(fd) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EINVAL || errno == EROFS)
			return 0;
		return errno;
	}
	return 0;
}

/* fsync a closed file by name (what a library wrote by path). */
static int sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0)
		return errno;
	e = sync_fd(fd);
	if (close(fd) < 0 && !e)
		e = errno;
	return e;
}

/* ---- temporaries ------------------------------------------------------------ */

static void tempfile_free(nidec_tempfile *t)
{
	registry_remove(t->slot);
	nidec_free(t);
}

int nidec_tempfile_create(const char *path, unsigned flags, nidec_tempfile **out,
			  nidec_err *err)
{
	const char *slash, *base;
	size_t lp, dirlen, cap;
	nidec_tempfile *t;
	int tries, e;

	if (!path || !*path || path[strlen(path) - 1] == '/')
		return nidec_fail(err, NIDEC_EINPUT, "cannot write '%s': not a file name; give a file path",
				  path ? path : "");
	lp = strlen(path);
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	dirlen = (size_t)(base - path);
	/* "<dir>/" "." "<name>" ".tmp-" pid "-" n NUL */
	cap = lp + 2 + 5 + 3 * sizeof(long) + 1 + 3 * sizeof(long) + 1;
	t = nidec_malloc(sizeof(*t) + lp + 1 + cap);
	if (!t)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory writing '%s'", path);
	t->path = (char *)(t + 1);
	memcpy(t->path, path, lp + 1);
	t->tmp = t->path + lp + 1;
	t->tmp[0] = '\0';
	t->fd = -1;
	t->fp = NULL;
	t->flags = flags;
	install_cleanup();
	/* registered before it exists: a signal between open() and the table
	 * would leave it behind; an unlink of a name not (yet) created is
	 * harmless */
	t->slot = registry_add(t->tmp);
	if (t->slot < 0) {
		nidec_free(t);
		return nidec_fail(err, NIDEC_EIO,
				  "cannot write '%s': %d temporary files are open already, the most one process may hold; write fewer files at once",
				  path, NIDEC_TEMPFILE_MAX);
	}
	for (tries = 0; tries < 100; tries++) {
		/* the handler may read the name while it is rewritten: take it
		 * out of the table meanwhile */
		registry_remove(t->slot);
		snprintf(t->tmp, cap, "%.*s.%s.tmp-%ld-%lu", (int)dirlen, path, base, (long)getpid(),
			 n_created++);
		atomic_store_explicit(&registry[t->slot].path, t->tmp, memory_order_release);
		t->fd = open(t->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (t->fd >= 0 || errno != EEXIST)
			break;
	}
	if (t->fd < 0) {
		e = errno;
		tempfile_free(t);
		write_fail(err, path, e);
		errno = e; /* file.h: the reason stays in errno */
		return NIDEC_EIO;
	}
	*out = t;
	return 0;
}

int nidec_tempfile_fd(const nidec_tempfile *t)
{
	return t->fd;
}

const char *nidec_tempfile_path(const nidec_tempfile *t)
{
	return t->tmp;
}

const char *nidec_tempfile_target(const nidec_tempfile *t)
{
	return t->path;
}

FILE *nidec_tempfile_fdopen(nidec_tempfile *t, const char *mode, nidec_err *err)
{
	if (t->fp)
		return t->fp;
	if (t->fd < 0) {
		nidec_fail(err, NIDEC_EINTERNAL, "'%s': the temporary file is closed already", t->path);
		return NULL;
	}
	t->fp = fdopen(t->fd, mode);
	if (!t->fp)
		write_fail(err, t->path, errno);
	return t->fp;
}

int nidec_tempfile_write(nidec_tempfile *t, const void *data, size_t len, nidec_err *err)
{
	const char *p = data;

	if (t->fd < 0 || t->fp)
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': write to a closed or buffered temporary file",
				  t->path);
	while (len > 0) {
		ssize_t w = write(t->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return write_fail(err, t->path, errno);
		if (w == 0)
			return write_fail(err, t->path, ENOSPC);
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int nidec_tempfile_close(nidec_tempfile *t, nidec_err *err)
{
	int e = 0;

	if (t->fp) {
		errno = 0;
		if (fflush(t->fp) != 0 || ferror(t->fp))
			e = errno ? errno : EIO;
		if (!e)
			e = sync_fd(t->fd);
		if (fclose(t->fp) != 0 && !e)
			e = errno;
		t->fp = NULL;
		t->fd = -1;
	} else if (t->fd >= 0) {
		e = sync_fd(t->fd);
		if (close(t->fd) < 0 && !e)
			e = errno;
		t->fd = -1;
	}
	return e ? write_fail(err, t->path, e) : 0;
}

/* fsync the directory of `path` after a rename into it.  A directory we
 * may not open, or a file system that cannot sync one, is skipped (what
 * could be done is done); an I/O error is an error. */
static int sync_dir(const char *path, nidec_err *err)
{
	char dir[NIDEC_PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, e;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	e = sync_fd(fd);
	if (close(fd) < 0 && !e)
		e = errno;
	if (e && e != EACCES && e != ENOTSUP)
		return nidec_fail(err, NIDEC_EIO,
				  "'%s' is written but directory '%s' cannot be synced: %s; the new name may be lost if the machine crashes",
				  path, dir, strerror(e));
	return 0;
}

int nidec_tempfile_commit(nidec_tempfile **tp, nidec_err *err)
{
	nidec_tempfile *t = tp ? *tp : NULL;
	int rc = 0, e;

	if (!t)
		return nidec_fail(err, NIDEC_EINTERNAL, "commit of no temporary file");
	if (t->fd >= 0 || t->fp)
		rc = nidec_tempfile_close(t, err);
	else if ((e = sync_path(t->tmp)) != 0)
		rc = write_fail(err, t->path, e);
	if (rc == 0 && rename(t->tmp, t->path) < 0) {
		char fix[NIDEC_PATH_MAX + 128];
		e = errno;
		fix_for(e, t->path, fix, sizeof(fix));
		rc = nidec_fail(err, NIDEC_EIO, "cannot rename '%s' to '%s': %s%s", t->tmp, t->path,
				strerror(e), fix);
	}
	if (rc < 0)
		(void)unlink(t->tmp); /* an error path: nothing better to do if this fails */
	else if (t->flags & NIDEC_TEMPFILE_SYNC_DIR)
		rc = sync_dir(t->path, err);
	tempfile_free(t);
	*tp = NULL;
	return rc;
}

void nidec_tempfile_abort(nidec_tempfile **tp)
{
	nidec_tempfile *t;

	if (!tp || !*tp)
		return;
	t = *tp;
	/* an error path: the data is being thrown away, so neither a failed
	 * close nor a failed unlink can be reported better than the error
	 * that led here */
	if (t->fp)
		(void)fclose(t->fp);
	else if (t->fd >= 0)
		(void)close(t->fd);
	(void)unlink(t->tmp);
	tempfile_free(t);
	*tp = NULL;
}

int nidec_file_write(const char *path, const void *data, size_t len, nidec_err *err)
{
	nidec_tempfile *t = NULL;
	int rc;

	NIDEC_TRY(nidec_tempfile_create(path, 0, &t, err));
	rc = nidec_tempfile_write(t, data, len, err);
	if (rc < 0) {
		nidec_tempfile_abort(&t);
		return rc;
	}
	return nidec_tempfile_commit(&t, err);
}

/* ---- directories, reading, paths ------------------------------------------- */

/* Characters of an over-long name a message shows (then "..."), so that it
 * keeps its end, the fix, within NIDEC_ERR_MSG_MAX. */
#define NAME_SHOWN 200

int nidec_file_mkdir_p(const char *dir, const char *fix, nidec_err *err)
{
	const char *sep = fix ? "; " : "", *why = fix ? fix : "";
	char buf[NIDEC_PATH_MAX];
	size_t n = dir ? strlen(dir) : 0, i;
	struct stat st;

	if (n == 0)
		return nidec_fail(err, NIDEC_EINPUT, "cannot create a directory with an empty name%s%s",
				  sep, why);
	if (n >= sizeof(buf))
		return nidec_fail(err, NIDEC_EINPUT,
				  "cannot create directory '%.*s...': the name is longer than %d bytes%s%s",
				  NAME_SHOWN, dir, NIDEC_PATH_MAX - 1, sep, why);
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	memcpy(buf, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue; /* "a//b", or a final '/' */
		buf[i] = '\0';
		if (mkdir(buf, 0777) < 0) {
			int e = errno;
			/* EEXIST, but also EACCES or EROFS on a directory that
			 * exists: what counts is what is there now */
			if (stat(buf, &st) < 0)
				return nidec_fail(err, NIDEC_EIO, "cannot create directory '%s': %s%s%s", buf,
						  strerror(e), sep, why);
			if (!S_ISDIR(st.st_mode))
				return nidec_fail(err, NIDEC_EIO,
						  "cannot create directory '%s': '%s' is not a directory%s%s",
						  dir, buf, sep, why);
		}
		if (i < n)
			buf[i] = '/';
	}
	return 0;
}

int nidec_file_read(const char *path, size_t max, unsigned flags, char **out, size_t *len,
		    nidec_err *err)
{
	struct stat st;
	char *buf = NULL, *nb;
	size_t cap, n = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && (flags & NIDEC_FILE_MISSING_OK)) {
			*out = NULL;
			if (len)
				*len = 0;
			return 0;
		}
		return nidec_fail(err, NIDEC_EIO, "cannot open '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot read '%s': %s", path, strerror(errno));
		goto done;
	}
	/* a regular file is read into one buffer of its size (+ the NUL and
	 * one byte to see the end); pipes and the like grow as they come */
	cap = 8192;
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > (uint64_t)max)
			goto too_large;
		cap = (size_t)st.st_size + 2;
	}
	buf = nidec_malloc(cap);
	if (!buf)
		goto oom;
	for (;;) {
		ssize_t r;
		if (cap - n < 2) {
			size_t ncap = cap * 2;
			if (ncap < cap)
				goto too_large;
			nb = nidec_realloc(buf, ncap);
			if (!nb)
				goto oom;
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = nidec_fail(err, NIDEC_EIO, "cannot read '%s': %s", path, strerror(errno));
			goto done;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			goto too_large;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	buf = NULL;
	goto done;
too_large:
	rc = nidec_fail(err, NIDEC_EINPUT, "'%s' is too large (more than %zu bytes); is it the right file?",
			path, max);
	goto done;
oom:
	rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
done:
	nidec_free(buf);
	/* read-only: a failed close loses nothing */
	(void)close(fd);
	return rc;
}

int nidec_file_join(char *buf, size_t size, const char *dir, const char *name, nidec_err *err)
{
	size_t ld = strlen(dir);
	const char *sep = ld == 0 || dir[ld - 1] == '/' ? "" : "/";
	int n = snprintf(buf, size, "%s%s%s", dir, sep, name);

	if (n < 0 || (size_t)n >= size) {
		/* the message keeps its end (the fix) even for a huge path */
		int cut = (size_t)n > NAME_SHOWN;
		if (size)
			buf[0] = '\0';
		return nidec_fail(err, NIDEC_EINPUT,
				  "path '%.*s%s%.*s%s' is too long (more than %zu bytes); choose a shorter directory or name",
				  NAME_SHOWN, dir, cut ? "" : sep, cut ? 0 : NAME_SHOWN, cut ? "" : name,
				  cut ? "..." : "", size ? size - 1 : 0);
	}
	return 0;
}

int nidec_fileset_add(nidec_fileset *s, const char *name, nidec_tempfile **t, nidec_err *err)
{
	char path[NIDEC_PATH_MAX];

	NIDEC_TRY(nidec_file_join(path, sizeof(path), s->dir, name, err));
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		nidec_tempfile **nt = nidec_realloc(s->t, cap * sizeof(*nt));
		if (!nt)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory writing '%s'", path);
		s->t = nt;
		s->cap = cap;
	}
	NIDEC_TRY(nidec_tempfile_create(path, 0, t, err));
	s->t[s->n++] = *t;
	return 0;
}

int nidec_fileset_commit(nidec_fileset *s, nidec_err *err)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->t[i])
			NIDEC_TRY(nidec_tempfile_commit(&s->t[i], err));
	return 0;
}

void nidec_fileset_release(nidec_fileset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		nidec_tempfile_abort(&s->t[i]);
	nidec_free(s->t);
	s->t = NULL;
	s->n = s->cap = 0;
}

/* ---- inputs are read-only --------------------------------------------------- */

int nidec_file_inputs_add(nidec_file_inputs *in, const char *path, const char *what,
			  nidec_err *err)
{
	nidec_file_input *e;
	struct stat st;

	if (!path || !*path || stat(path, &st) < 0)
		return 0; /* its reader says what is wrong with it */
	if (nidec_file_inputs_find(in, path) >= 0)
		return 0;
	if (in->n == in->cap) {
		size_t cap = in->cap ? 2 * in->cap : 16;
		nidec_file_input *nv = nidec_realloc(in->v, cap * sizeof(*nv));
		if (!nv)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory listing the inputs");
		in->v = nv;
		in->cap = cap;
	}
	e = &in->v[in->n];
	e->path = nidec_strdup(path);
	e->what = nidec_strdup(what ? what : "");
	if (!e->path || !e->what) {
		nidec_free(e->path);
		nidec_free(e->what);
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory listing the inputs");
	}
	e->dev = (unsigned long long)st.st_dev;
	e->ino = (unsigned long long)st.st_ino;
	in->n++;
	return 0;
}

long nidec_file_inputs_find(const nidec_file_inputs *in, const char *path)
{
	struct stat st;
	size_t i;

	if (!in || !path || stat(path, &st) < 0)
		return -1;
	for (i = 0; i < in->n; i++)
		if (in->v[i].dev == (unsigned long long)st.st_dev &&
		    in->v[i].ino == (unsigned long long)st.st_ino)
			return (long)i;
	return -1;
}

int nidec_file_inputs_check(const nidec_file_inputs *in, const char *path, const char *fix,
			    nidec_err *err)
{
	long k = nidec_file_inputs_find(in, path);
	const nidec_file_input *e;

	if (k < 0)
		return 0;
	e = &in->v[k];
	return nidec_fail(err, NIDEC_EINPUT, "'%.*s' is the input '%.*s'%s%s%s: nidec never writes over its inputs%s%s",
			  NAME_SHOWN, path, NAME_SHOWN, e->path, e->what[0] ? " (" : "", e->what,
			  e->what[0] ? ")" : "", fix ? "; " : "", fix ? fix : "");
}

void nidec_file_inputs_release(nidec_file_inputs *in)
{
	size_t i;

	for (i = 0; i < in->n; i++) {
		nidec_free(in->v[i].path);
		nidec_free(in->v[i].what);
	}
	nidec_free(in->v);
	in->v = NULL;
	in->n = in->cap = 0;
}

/* ---- natural sort and globs ---------------------------------------------- */

int nidec_natural_cmp(const char *a, const char *b)
{
	const char *a0 = a, *b0 = b;
	int zeros = 0; /* first difference in leading zeros: the last tiebreak */

	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *za = a, *zb = b;
			size_t la = 0, lb = 0;
			int c;
			while (*za == '0')
				za++;
			while (*zb == '0')
				zb++;
			while (isdigit((unsigned char)za[la]))
				la++;
			while (isdigit((unsigned char)zb[lb]))
				lb++;
			if (la != lb)
				return la < lb ? -1 : 1;
			c = memcmp(za, zb, la);
			if (c)
				return c < 0 ? -1 : 1;
			if (!zeros && za - a != zb - b) /* same value: fewer zeros first */
				zeros = za - a < zb - b ? -1 : 1;
			a = za + la;
			b = zb + lb;
		} else {
			if (*a != *b)
				return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
			a++;
			b++;
		}
	}
	if (*a || *b)
		return *a ? 1 : -1;
	return zeros ? zeros : strcmp(a0, b0);
}

static int cmp_natural_ptr(const void *x, const void *y)
{
	return nidec_natural_cmp(*(const char *const *)x, *(const char *const *)y);
}

int nidec_glob_natural(const char *pattern, const char *key, char ***paths, size_t *n,
		       nidec_err *err)
{
	char **v = NULL;
	glob_t g;
	size_t i, cnt = 0;
	int grc, rc = 0;

	if (!strpbrk(pattern, "*?[")) {
		struct stat st;
		if (stat(pattern, &st) < 0)
			return nidec_fail(err, NIDEC_EIO, "%s: cannot open '%s': %s; check the path (relative paths start from the current directory)",
					  key, pattern, strerror(errno));
		v = nidec_calloc_e(1, sizeof(*v), "a path list", err);
		if (!v)
			return NIDEC_ENOMEM;
		v[0] = nidec_strdup_e(pattern, err);
		if (!v[0]) {
			nidec_free(v);
			return NIDEC_ENOMEM;
		}
		*paths = v;
		*n = 1;
		return 0;
	}
	memset(&g, 0, sizeof(g));
	grc = glob(pattern, GLOB_NOSORT, NULL, &g);
	if (grc == GLOB_NOMATCH || (grc == 0 && g.gl_pathc == 0)) {
		globfree(&g);
		return nidec_fail(err, NIDEC_EIO,
				  "%s = '%s' matches no file; check the pattern (relative paths start from the current directory)",
				  key, pattern);
	}
	if (grc != 0) {
		globfree(&g);
		return nidec_fail(err, grc == GLOB_NOSPACE ? NIDEC_ENOMEM : NIDEC_EIO,
				  "%s = '%s': cannot list the matching files (%s)", key, pattern,
				  grc == GLOB_NOSPACE ? "out of memory" : "read error");
	}
	v = nidec_calloc_e(g.gl_pathc, sizeof(*v), "a path list", err);
	if (!v) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (cnt = 0; cnt < g.gl_pathc; cnt++) {
		v[cnt] = nidec_strdup_e(g.gl_pathv[cnt], err);
		if (!v[cnt]) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
	}
	qsort(v, cnt, sizeof(*v), cmp_natural_ptr);
	*paths = v;
	*n = cnt;
	v = NULL;
done:
	if (v)
		for (i = 0; i < cnt; i++)
			nidec_free(v[i]);
	nidec_free(v);
	globfree(&g);
	return rc;
}
