/*
 * file.h - the file layer: atomic writes through a registered temporary,
 * mkdir -p, a whole file read into memory, a path joined into a checked
 * buffer.  Every file nidec writes, and every directory it creates, goes
 * through here (issue 15 item 3).  libc only (src/base): no HDF5, no MPI.
 *
 * Atomic writes (after git's tempfile.h and lockfile.h)
 * ------------------------------------------------------
 *     nidec_tempfile *t = NULL;
 *     NIDEC_TRY(nidec_tempfile_create("out/scores.tsv", 0, &t, err));
 *     if (nidec_tempfile_write(t, text, len, err) < 0) {
 *         nidec_tempfile_abort(&t);
 *         return err->code;
 *     }
 *     return nidec_tempfile_commit(&t, err);
 *
 *   create  opens a new, empty temporary next to the target;
 *   write   through the descriptor (nidec_tempfile_fd, nidec_tempfile_write)
 *           or a stream (nidec_tempfile_fdopen; libpng's png_init_io).  A
 *           library that opens files by name (HDF5's H5Fcreate, zlib's
 *           gzopen, nifti_image_write) writes by path instead: call
 *           nidec_tempfile_close first, then let it open (and truncate)
 *           nidec_tempfile_path(t);
 *   commit  flush, fsync, close, rename() onto the target (and fsync the
 *           directory, with NIDEC_TEMPFILE_SYNC_DIR): a reader of the target
 *           sees the old file or the new one, never a part of one;
 *   abort   close and unlink.
 * Several files that must appear together (the outputs of a run) are
 * written and closed one by one, then committed in a row: each stays a
 * temporary until its commit (git's ref transactions do the same).
 *
 * Naming: the temporary of "<dir>/<name>" is "<dir>/.<name>.tmp-<pid>-<n>",
 * for every writer.  In the target's directory, because rename() is atomic
 * only within one file system; hidden, so that `ls`, the report's file
 * list and globs such as weights_*.nii.gz skip it; <pid> keeps processes
 * (ranks, two runs into one directory) apart; <n> counts the temporaries
 * of this process.  The file is created with O_EXCL and mode 0666 less the
 * umask (as fopen does); an existing file of that name (a leftover of a
 * killed process that had the same pid) is never opened: n is bumped.
 *
 * Cleanup.  A temporary is registered from just before it is created until
 * it is committed or aborted, in a fixed table of NIDEC_TEMPFILE_MAX
 * paths:
 *  - error paths call nidec_tempfile_abort (NULL-safe: one `done:` label);
 *  - at exit (atexit) whatever is still registered is unlinked: a safety
 *    net for a forgotten abort, not a substitute for it;
 *  - when the process dies of a signal.  At each create, a handler is
 *    installed for each of SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGALRM,
 *    SIGTERM, SIGUSR1, SIGUSR2, SIGXCPU and SIGXFSZ whose disposition is
 *    then the default one (the process would die of it), and only those:
 *    a signal that is ignored, or that someone else handles, is left alone.
 *    src/cli/signals.c catches SIGTERM, SIGUSR1 and SIGINT during a run to
 *    stop it cleanly; the process then leaves through its error paths, and
 *    the abort calls and atexit remove its temporaries.  The handler only
 *    calls async-signal-safe functions: unlink() on each registered path of
 *    this process, sigaction() to put the default action back, raise() so
 *    that the process dies of the signal as it would have.
 * A forked child inherits the table but removes only its own temporaries
 * (each entry records its owner's pid).
 *
 * Errors name the file and, where nidec can tell, the fix (git style):
 * "cannot write 'out/r.html': No such file or directory; create directory
 * 'out' or choose another path".  Nothing here prints.
 *
 * Not thread-safe: one thread of a process creates and commits
 * temporaries (nidec is single-threaded per rank); the signal handler may
 * run on any thread.  Not collective.
 */
#ifndef NIDEC_FILE_H
#define NIDEC_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "nidec/err.h"

/* Bytes of a path nidec builds (nidec_file_join, directory names). */
#define NIDEC_PATH_MAX 4096

/* Temporaries one process can hold at once (the registry's size). */
#define NIDEC_TEMPFILE_MAX 1024

/* nidec_tempfile_create flags */
#define NIDEC_TEMPFILE_SYNC_DIR 1u /* commit also fsyncs the directory, so that the
				    * new name survives a crash of the node */

typedef struct nidec_tempfile nidec_tempfile;

/*
 * Create and open the temporary of `path` (see "Naming"); *out gets it.
 * On error *out is left as it was, nothing is left on disk, and `err`
 * names `path`: a directory that does not exist or cannot be written, no
 * space, too many temporaries (NIDEC_EIO), or NIDEC_ENOMEM.  When open()
 * failed, errno still holds its reason (for a caller's own message).
 */
int nidec_tempfile_create(const char *path, unsigned flags, nidec_tempfile **out,
			  nidec_err *err);

/* The open descriptor (O_RDWR), or -1 after nidec_tempfile_close. */
int nidec_tempfile_fd(const nidec_tempfile *t);

/* The temporary's name, for libraries that write by path (see above). */
const char *nidec_tempfile_path(const nidec_tempfile *t);

/* The final name given to nidec_tempfile_create, for messages. */
const char *nidec_tempfile_target(const nidec_tempfile *t);

/*
 * A stdio stream on the descriptor (mode as fdopen's, "wb"); it belongs to
 * `t`: close, commit and abort close it.  NULL with `err` set on failure.
 */
FILE *nidec_tempfile_fdopen(nidec_tempfile *t, const char *mode, nidec_err *err);

/* Write all `len` bytes (retrying short writes): 0 or NIDEC_EIO naming the target. */
int nidec_tempfile_write(nidec_tempfile *t, const void *data, size_t len, nidec_err *err);

/*
 * Finish writing through us: flush the stream, fsync, close the
 * descriptor.  The temporary stays (registered) for a library to open by
 * path, or for a later commit.  0, or NIDEC_EIO (a full disk shows here);
 * calling it twice is a no-op.
 */
int nidec_tempfile_close(nidec_tempfile *t, nidec_err *err);

/*
 * Put the temporary in place: close it if still open (as above) or fsync
 * what a library wrote by path, rename() it onto the target, and with
 * NIDEC_TEMPFILE_SYNC_DIR fsync the directory.  Always consumes *tp (sets
 * it to NULL): on failure the temporary is removed and the target is as it
 * was, except when only the directory sync failed (the new file is in
 * place, the error says so).  0 or NIDEC_EIO.
 */
int nidec_tempfile_commit(nidec_tempfile **tp, nidec_err *err);

/* Close and unlink the temporary, free it, set *tp = NULL.  NULL-safe
 * (tp or *tp); the target is untouched. */
void nidec_tempfile_abort(nidec_tempfile **tp);

/*
 * A set of files that appear together (git's ref transactions): each is
 * added as a temporary in `dir` and written; nidec_fileset_commit renames
 * them in the order they were added (the last one last: a summary that
 * says the set is complete), and release aborts whatever is not committed
 * (NULL-safe members; leaves an empty set).  On a failed commit the files
 * renamed before stay (each complete), the others are removed.
 *
 *     nidec_fileset fs = NIDEC_FILESET_INIT(dir);
 *     nidec_tempfile *t;
 *     if (nidec_fileset_add(&fs, "scores.tsv", &t, err) == 0) ... write t ...
 *     rc = nidec_fileset_commit(&fs, err);
 *     nidec_fileset_release(&fs);
 */
typedef struct nidec_fileset {
	const char *dir;       /* borrowed */
	nidec_tempfile **t;    /* [n] NULL once committed */
	size_t n, cap;
} nidec_fileset;

#define NIDEC_FILESET_INIT(dir) { (dir), NULL, 0, 0 }

/* The temporary of <dir>/<name>, kept in the set (*t borrows it). */
int nidec_fileset_add(nidec_fileset *s, const char *name, nidec_tempfile **t, nidec_err *err);
int nidec_fileset_commit(nidec_fileset *s, nidec_err *err);
void nidec_fileset_release(nidec_fileset *s);

/* `len` bytes of `data` to `path` atomically: create, write, commit. */
int nidec_file_write(const char *path, const void *data, size_t len, nidec_err *err);

/*
 * Create directory `dir` and its missing parents (mode 0777 less the
 * umask), like `mkdir -p`; an existing directory is fine.  On error `err`
 * names the directory that could not be made, or the path in the way that
 * is not a directory, followed by "; <fix>" when `fix` is not NULL (the
 * caller knows which option or key chooses another place).  Directories
 * made before the error stay.  0, NIDEC_EINPUT (an empty or too long name)
 * or NIDEC_EIO.
 */
int nidec_file_mkdir_p(const char *dir, const char *fix, nidec_err *err);

/* nidec_file_read flags */
#define NIDEC_FILE_MISSING_OK 1u /* a file that does not exist is not an error:
				  * *out = NULL, *len = 0, return 0 */

/*
 * Read the whole file `path` into a new NUL-terminated buffer *out (free
 * it with nidec_free; the NUL is not counted in *len, and `len` may be
 * NULL).  A file of more than `max` bytes is refused (a wrong path given
 * for a small text file should not fill the memory): NIDEC_EINPUT naming
 * the file and the limit.  Other errors: NIDEC_EIO ("cannot open '%s'",
 * "cannot read '%s'"), NIDEC_ENOMEM; *out and *len are left as they were.
 */
int nidec_file_read(const char *path, size_t max, unsigned flags, char **out, size_t *len,
		    nidec_err *err);

/*
 * "<dir>/<name>" into buf[size]: no '/' is added when `dir` is empty
 * (the current directory: just `name`) or already ends with one.  A result
 * that does not fit is refused (NIDEC_EINPUT naming the path), never cut.
 */
int nidec_file_join(char *buf, size_t size, const char *dir, const char *name, nidec_err *err);

/* ---- inputs are read-only ---------------------------------------------------
 *
 * nidec never writes over a file it reads (docs/ERRORS.md, "What nidec
 * promises about your files").  The inputs of a command are recorded by
 * device and inode (stat(), so through symlinks, "..", hard links and
 * bind mounts alike), then every path nidec is about to write (a dataset,
 * each file of an output directory, the directory itself) is checked
 * against them before anything is written:
 *
 *     nidec_file_inputs in = NIDEC_FILE_INPUTS_INIT;
 *     nidec_file_inputs_add(&in, cfg->mask, "[data] mask", err);
 *     ...
 *     nidec_file_inputs_check(&in, "out/model.h5", "choose another [output] dir", err);
 *     nidec_file_inputs_release(&in);
 *
 * A path that does not exist is no input (its reader reports it) and no
 * overlap (a new file is nobody's input).
 */
typedef struct nidec_file_input {
	char *path;            /* as given */
	char *what;            /* "[data] bold", or "" */
	unsigned long long dev, ino;
} nidec_file_input;

typedef struct nidec_file_inputs {
	nidec_file_input *v;
	size_t n, cap;
} nidec_file_inputs;

#define NIDEC_FILE_INPUTS_INIT { NULL, 0, 0 }

/* Record input `path` (`what` names it in messages, or NULL).  A path that
 * does not exist (or cannot be stat()ed) is skipped: 0.  NIDEC_ENOMEM. */
int nidec_file_inputs_add(nidec_file_inputs *in, const char *path, const char *what,
			  nidec_err *err);

/* The index of the input that `path` is the same file as, or -1. */
long nidec_file_inputs_find(const nidec_file_inputs *in, const char *path);

/* 0 when `path` is none of the inputs; else NIDEC_EINPUT, one line naming
 * both: "'<path>' is the input '<input>' (<what>): nidec never writes over
 * its inputs; <fix>". */
int nidec_file_inputs_check(const nidec_file_inputs *in, const char *path, const char *fix,
			    nidec_err *err);

/* Free every entry; `in` is left empty and reusable. */
void nidec_file_inputs_release(nidec_file_inputs *in);

/* Natural order: digit runs compare by value, so run-2 < run-10; ties by
 * fewer leading zeros, then byte order.  <0, 0, >0 as strcmp. */
int nidec_natural_cmp(const char *a, const char *b);

/* Expand a path or glob into existing files sorted naturally: *paths gets
 * a new array of *n new strings (free with nidec_strv_free).  A pattern
 * without * ? [ is one path, which must exist.  `key` names the config
 * key in messages ("[data] bold"). */
int nidec_glob_natural(const char *pattern, const char *key, char ***paths, size_t *n,
		       nidec_err *err);

#endif
