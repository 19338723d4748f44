/*
 * lock.h - one run per directory: an advisory lock on a directory, held by
 * one process for as long as it writes there (the job driver takes it for
 * each output directory and for a sweep's root; job.h).  Part of the file
 * layer (file.h); libc only.
 *
 * The lock is the file "<dir>/.nidec.lock" (hidden, like the temporaries
 * of file.h), locked with fcntl(F_SETLK) - released by the kernel when the
 * process dies, however it dies - and holding "host", "pid", "started" and
 * "command" lines, so that a second run fails at once naming the first:
 *
 *   [output] dir 'out' is in use by another nidec run (host n12, pid 4242,
 *   started 2025-03-01 12:00:00 UTC: nidec run a.ini); wait for it to
 *   finish, or choose another [output] dir
 *
 * File systems without fcntl locks (NFS without lockd, Lustre mounted
 * without flock: fcntl fails with ENOLCK, ENOSYS, EOPNOTSUPP) get the lock
 * file alone, created with O_EXCL, and a stale-lock rule: a lock file of
 * this host whose process is gone, or of another host that has not been
 * refreshed (nidec_lock_refresh, its mtime) for NIDEC_LOCK_STALE_SECONDS,
 * is taken over, with a warning naming it; otherwise the run fails as
 * above.  A user can always remove a lock file whose run is known to be
 * gone.  NIDEC_LOCK_FCNTL=0 in the environment selects that mode (tests).
 *
 * Release removes the lock file while still holding the lock; a process
 * that locked the file just as its holder unlinked it sees that the path
 * no longer names the file it locked, and tries again, so two processes
 * never both hold the lock.  fcntl locks belong to the process and are
 * lost when it closes any descriptor of the file: nothing else in nidec
 * opens the lock file.  Not collective: rank 0 takes the job's locks.
 */
#ifndef NIDEC_LOCK_H
#define NIDEC_LOCK_H

#include "nidec/err.h"

#define NIDEC_LOCK_NAME ".nidec.lock"
/* Fallback mode: a lock file of another host not refreshed for this long
 * is stale. */
#define NIDEC_LOCK_STALE_SECONDS 3600
/* nidec_lock_refresh touches the file at most this often. */
#define NIDEC_LOCK_REFRESH_SECONDS 60

typedef struct nidec_lock nidec_lock;

/*
 * Take the lock of the existing directory `dir`; *out gets it.  `what`
 * names the directory in messages ("[output] dir"), `fix` ends the message
 * when it is in use ("wait for it to finish, or choose another [output]
 * dir").  Errors: NIDEC_EBUSY (another process holds it: the message names
 * it by host, pid, start time and command line), NIDEC_EIO (the lock file
 * cannot be created: permissions, a read-only file system), NIDEC_ENOMEM;
 * *out is then left as it was.  Stale lock files taken over (fallback
 * mode) are reported with nidec_warn.
 */
int nidec_lock_take(const char *dir, const char *what, const char *fix, nidec_lock **out,
		    nidec_err *err);

/* The lock file's path (for messages). */
const char *nidec_lock_path(const nidec_lock *l);

/* Touch the lock file's mtime, at most every NIDEC_LOCK_REFRESH_SECONDS
 * (cheap: call it as often as convenient).  Best effort, NULL-safe. */
void nidec_lock_refresh(nidec_lock *l);

/* Remove the lock file, release the lock, free it; *l = NULL.  NULL-safe. */
void nidec_lock_release(nidec_lock **l);

#endif
