/*
 * lock.c - one run per directory (include/nidec/lock.h): the lock file
 * "<dir>/.nidec.lock", locked with fcntl where the file system can, else
 * created with O_EXCL and judged by a stale-lock rule.
 *
 * Why fcntl and a file: an fcntl lock is released by the kernel when its
 * process dies, even of SIGKILL or a node crash (with NFS's lock manager),
 * so a killed run never blocks the next one; the file's text (host, pid,
 * start time, command line) is what the next run shows when the lock is
 * held.  flock() would do as well locally but is emulated with fcntl on
 * NFS anyway, and fcntl is what Lustre offers with `-o flock`.
 *
 * The held locks of this process are listed (a static table, the only
 * mutable state here): fcntl locks belong to a process, so a second take
 * of one directory by the same process would succeed and its release
 * would drop the first; the list refuses it instead.
 *
 * Depends on libc (POSIX) and the base modules only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "nidec/file.h"
#include "nidec/lock.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/version.h"

struct nidec_lock {
	char *path;          /* "<dir>/.nidec.lock" */
	int fd;              /* the open lock file */
	int fcntl_held;      /* 1: an fcntl lock; 0: the O_EXCL file alone */
	dev_t dev;
	ino_t ino;
	time_t refreshed;    /* last mtime update */
	nidec_lock *next;    /* the held locks of this process */
};

static nidec_lock *held; /* this process's locks (see the file comment) */

/* What a lock file says about its holder. */
struct holder {
	char host[256];
	long pid;
	char started[64];
	long long start_time;
	char command[512];
	int parsed;          /* at least host and pid were found */
};

static void my_host(char *buf, size_t n)
{
	if (gethostname(buf, n) < 0)
		snprintf(buf, n, "unknown");
	buf[n - 1] = '\0';
}

/* The text this process writes into its lock file. */
static int lock_text(char *buf, size_t n)
{
	char host[256], when[64], cmd[512];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;
	int len;

	my_host(host, sizeof(host));
	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(when, sizeof(when), "unknown");
	snprintf(cmd, sizeof(cmd), "%s", nidec_command_line());
	for (i = 0; cmd[i]; i++)
		if (cmd[i] == '\n' || cmd[i] == '\r')
			cmd[i] = ' ';
	len = snprintf(buf, n, "host %s\npid %ld\nstarted %s\nstart_time %lld\ncommand %s\n", host,
		       (long)getpid(), when, (long long)now, cmd);
	return len < 0 || (size_t)len >= n ? (int)n - 1 : len;
}

/* Copy the value of line `p` (length len) after "<name> " into dst. */
static int field(const char *p, size_t len, const char *name, char *dst, size_t n)
{
	size_t k = strlen(name);

	if (len <= k || strncmp(p, name, k) || p[k] != ' ')
		return 0;
	snprintf(dst, n, "%.*s", (int)(len - k - 1), p + k + 1);
	return 1;
}

static void parse_holder(const char *text, struct holder *h)
{
	const char *p = text;
	char num[32];

	memset(h, 0, sizeof(*h));
	h->pid = -1;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (!field(p, len, "host", h->host, sizeof(h->host)) &&
		    !field(p, len, "started", h->started, sizeof(h->started)) &&
		    !field(p, len, "command", h->command, sizeof(h->command))) {
			if (field(p, len, "pid", num, sizeof(num)))
				h->pid = strtol(num, NULL, 10);
			else if (field(p, len, "start_time", num, sizeof(num)))
				h->start_time = strtoll(num, NULL, 10);
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	h->parsed = h->host[0] && h->pid > 0;
}

/* Read the (small) lock file through `fd` into *h. */
static void read_holder_fd(int fd, struct holder *h)
{
	char text[2048];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	text[n > 0 ? n : 0] = '\0';
	parse_holder(text, h);
}

/* "(host n12, pid 4242, started ...: nidec run a.ini)" */
static void describe_holder(const struct holder *h, long fcntl_pid, char *buf, size_t n)
{
	if (h->parsed)
		snprintf(buf, n, "host %s, pid %ld, started %s%s%s", h->host, h->pid,
			 h->started[0] ? h->started : "at an unknown time", h->command[0] ? ": " : "",
			 h->command);
	else if (fcntl_pid > 0)
		snprintf(buf, n, "pid %ld, which has not written its details yet", fcntl_pid);
	else
		snprintf(buf, n, "its lock file holds no details yet");
}

static int busy(nidec_err *err, const char *what, const char *dir, const char *who,
		const char *hint, const char *fix)
{
	return nidec_fail(err, NIDEC_EBUSY, "%s '%s' is in use by another nidec run (%s)%s; %s",
			  what, dir, who, hint, fix);
}

/* fcntl cannot lock on this file system. */
static int no_locks(int e)
{
	return e == ENOLCK || e == ENOSYS || e == EOPNOTSUPP || e == ENOTSUP || e == EINVAL;
}

static int write_text(int fd)
{
	char text[1024];
	int len = lock_text(text, sizeof(text));
	ssize_t w;

	if (ftruncate(fd, 0) < 0)
		return -1;
	w = pwrite(fd, text, (size_t)len, 0);
	return w == (ssize_t)len ? 0 : -1;
}

/* Does `path` still name the file open on fd? */
static int same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static int already_held(const char *path)
{
	struct stat st;
	nidec_lock *l;

	if (stat(path, &st) < 0)
		return 0;
	for (l = held; l; l = l->next)
		if (l->dev == st.st_dev && l->ino == st.st_ino)
			return 1;
	return 0;
}

/* Fallback mode: is the lock file described by h (mtime `mtime`) stale? */
static int is_stale(const struct holder *h, time_t mtime, char *why, size_t n)
{
	char host[256];
	time_t now = time(NULL);
	double age = difftime(now, mtime);

	my_host(host, sizeof(host));
	if (h->parsed && !strcmp(h->host, host)) {
		if (kill((pid_t)h->pid, 0) < 0 && errno == ESRCH) {
			snprintf(why, n, "its process %ld is gone", h->pid);
			return 1;
		}
		return 0;
	}
	if (age > NIDEC_LOCK_STALE_SECONDS) {
		snprintf(why, n, "not refreshed for %.0f s, more than %d", age, NIDEC_LOCK_STALE_SECONDS);
		return 1;
	}
	return 0;
}

static nidec_lock *lock_new(const char *path, int fd, int fcntl_held, nidec_err *err)
{
	nidec_lock *l = nidec_calloc(1, sizeof(*l));
	struct stat st;

	if (!l || !(l->path = nidec_strdup(path))) {
		nidec_free(l);
		nidec_fail(err, NIDEC_ENOMEM, "out of memory taking the lock '%s'", path);
		return NULL;
	}
	l->fd = fd;
	l->fcntl_held = fcntl_held;
	if (fstat(fd, &st) == 0) {
		l->dev = st.st_dev;
		l->ino = st.st_ino;
	}
	l->refreshed = time(NULL);
	l->next = held;
	held = l;
	return l;
}

/* A sweep holds one lock file open per subject: raise the soft limit on
 * open files to the hard one when it is reached (once; best effort). */
static int more_files(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

static int create_fail(nidec_err *err, const char *path, int e)
{
	if (e == EMFILE)
		return nidec_fail(err, NIDEC_EIO, "cannot create the lock file '%s': %s (one per output directory of the job is open); raise the limit (ulimit -n)",
				  path, strerror(e));
	return nidec_fail(err, NIDEC_EIO, "cannot create the lock file '%s': %s; check the permissions of its directory",
			  path, strerror(e));
}

/* fcntl mode: 0 (locked: *out), 1 (no fcntl locks here: use the fallback),
 * 2 (the file changed under us: try again), or an error. */
static int take_fcntl(const char *path, const char *dir, const char *what, const char *fix,
		      nidec_lock **out, nidec_err *err)
{
	struct flock fl;
	int fd, created = 1, e, i;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST) {
		created = 0;
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0)
		return errno == ENOENT || (errno == EMFILE && more_files()) ? 2 : create_fail(err, path, errno);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		struct holder h;
		char who[1024];
		long pid = -1;

		e = errno;
		if (no_locks(e)) {
			if (created)
				(void)unlink(path); /* ours and empty: the fallback creates its own */
			(void)close(fd);
			return 1;
		}
		if (e != EACCES && e != EAGAIN) {
			(void)close(fd);
			return nidec_fail(err, NIDEC_EIO, "cannot lock '%s': %s", path, strerror(e));
		}
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			pid = (long)fl.l_pid;
		/* the holder writes its details right after locking: give it a
		 * moment when they are not there yet */
		for (i = 0; i < 20; i++) {
			read_holder_fd(fd, &h);
			if (h.parsed)
				break;
			usleep(25000);
		}
		(void)close(fd);
		describe_holder(&h, pid, who, sizeof(who));
		return busy(err, what, dir, who, "", fix);
	}
	if (!same_file(fd, path)) {
		/* its holder removed it as we opened it: lock the new one */
		(void)close(fd);
		return 2;
	}
	if (write_text(fd) < 0) {
		e = errno;
		(void)unlink(path);
		(void)close(fd);
		return nidec_fail(err, NIDEC_EIO, "cannot write the lock file '%s': %s", path, strerror(e));
	}
	*out = lock_new(path, fd, 1, err);
	if (!*out) {
		(void)unlink(path);
		(void)close(fd);
		return NIDEC_ENOMEM;
	}
	return 0;
}

/* Fallback mode: 0 (created: *out), 2 (a stale file removed: try again),
 * or an error. */
static int take_excl(const char *path, const char *dir, const char *what, const char *fix,
		     nidec_lock **out, nidec_err *err)
{
	struct holder h;
	struct stat st;
	char who[1024], why[160], hint[NIDEC_PATH_MAX + 96];
	int fd, e;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd >= 0) {
		if (write_text(fd) < 0) {
			e = errno;
			(void)unlink(path);
			(void)close(fd);
			return nidec_fail(err, NIDEC_EIO, "cannot write the lock file '%s': %s", path,
					  strerror(e));
		}
		*out = lock_new(path, fd, 0, err);
		if (!*out) {
			(void)unlink(path);
			(void)close(fd);
			return NIDEC_ENOMEM;
		}
		return 0;
	}
	if (errno != EEXIST)
		return errno == EMFILE && more_files() ? 2 : create_fail(err, path, errno);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 2 : create_fail(err, path, errno);
	read_holder_fd(fd, &h);
	e = fstat(fd, &st);
	(void)close(fd);
	if (e < 0)
		return 2;
	/* a file without details yet is a run that is writing them, unless old */
	if ((h.parsed || difftime(time(NULL), st.st_mtime) > 60) && is_stale(&h, st.st_mtime, why, sizeof(why))) {
		describe_holder(&h, -1, who, sizeof(who));
		nidec_warn("%s '%s': removing the stale lock file '%s' (%s; %s)", what, dir, path, who, why);
		if (unlink(path) < 0 && errno != ENOENT)
			return nidec_fail(err, NIDEC_EIO, "cannot remove the stale lock file '%s': %s", path,
					  strerror(errno));
		return 2;
	}
	describe_holder(&h, -1, who, sizeof(who));
	snprintf(hint, sizeof(hint), " (no fcntl locks here: if that run is gone, remove '%s')", path);
	return busy(err, what, dir, who, hint, fix);
}

int nidec_lock_take(const char *dir, const char *what, const char *fix, nidec_lock **out,
		    nidec_err *err)
{
	const char *env = getenv("NIDEC_LOCK_FCNTL");
	char path[NIDEC_PATH_MAX];
	int use_fcntl = !(env && !strcmp(env, "0")), tries, rc = 2;

	NIDEC_TRY(nidec_file_join(path, sizeof(path), dir, NIDEC_LOCK_NAME, err));
	if (already_held(path))
		return nidec_fail(err, NIDEC_EBUSY,
				  "%s '%s' is used twice in this run (another subject or the sweep writes there); give each its own directory",
				  what, dir);
	for (tries = 0; tries < 20 && rc == 2; tries++) {
		if (use_fcntl) {
			rc = take_fcntl(path, dir, what, fix, out, err);
			if (rc == 1) {
				use_fcntl = 0;
				rc = 2;
			}
		} else {
			rc = take_excl(path, dir, what, fix, out, err);
		}
	}
	if (rc == 2)
		return nidec_fail(err, NIDEC_EIO, "cannot take the lock '%s': it kept changing; try again", path);
	/* a test hook, like NIDEC_FAIL_ALLOC: stop while holding the lock, so
	 * that a test certainly starts other runs while it is held
	 * (tests/e2e/t1550) */
	if (rc == 0 && getenv("NIDEC_TEST_STOP_HOLDING_LOCK"))
		(void)raise(SIGSTOP);
	return rc;
}

const char *nidec_lock_path(const nidec_lock *l)
{
	return l->path;
}

void nidec_lock_refresh(nidec_lock *l)
{
	time_t now = time(NULL);

	if (!l || difftime(now, l->refreshed) < NIDEC_LOCK_REFRESH_SECONDS)
		return;
	l->refreshed = now;
	(void)futimens(l->fd, NULL); /* best effort: a later refresh tries again */
}

void nidec_lock_release(nidec_lock **lp)
{
	nidec_lock *l = lp ? *lp : NULL, **p;

	if (!l)
		return;
	for (p = &held; *p; p = &(*p)->next)
		if (*p == l) {
			*p = l->next;
			break;
		}
	/* unlinked while still locked (lock.h): the next run creates a new
	 * file; a file that is no longer ours (removed by hand, taken over)
	 * is left alone */
	if (same_file(l->fd, l->path))
		(void)unlink(l->path);
	(void)close(l->fd);
	nidec_free(l->path);
	nidec_free(l);
	*lp = NULL;
}
