/*
 * ledger.c - the checkpoint ledger of finished task results (see
 * include/nidec/ledger.h and docs/FORMAT.md "Checkpoint ledger").
 *
 * An append-only file of records, each with its own CRC-32, written by
 * rank 0 only.  The design answers one question: what can a kill at any
 * instant leave behind?
 *  - creating: the header goes to a temporary (file.h), is synced and
 *    renamed, and the directory synced, so the file under the final name
 *    always starts with a whole header;
 *  - appending: one write(2) per record at the end of the file (O_APPEND);
 *    a kill can only cut the last record short (or, after a crash of the
 *    node, leave a tail of zero bytes); the reader drops such a tail and
 *    truncates the file before appending again;
 *  - anything else that does not check out (bad magic or CRC before the
 *    end, a header that does not parse) is corruption: refused, never
 *    skipped, since silently dropping a record in the middle would hide a
 *    file that was damaged in other ways too.
 * fdatasync runs at most every sync_interval seconds: write(2) already
 * puts the bytes in the page cache, which survives the death of the
 * process, so the interval only bounds the loss if the node goes down.
 *
 * It lives in src/par, not src/io, because its records are task results
 * (nidec_result_pack / unpack from the core) and only rank 0's scheduling
 * writes it; it makes no MPI call.  Depends on base, core's result
 * packing (plan.h), hash.h and zlib (CRC-32); no MPI, no HDF5.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nidec/file.h"
#include "nidec/ledger.h"
#include "nidec/log.h"
#include "nidec/mem.h"

#define REC_MAGIC 0x524c444eu /* "NDLR" read as little-endian u32 */
#define REC_HEAD 16           /* magic, kind, len */
#define REC_TAIL 4            /* crc */
#define KIND_HEADER 1u
#define KIND_RESULT 2u
/* A record longer than this is taken as damage, not data (a result of a
 * whole-brain problem is a few hundred MiB at most). */
#define REC_MAX ((uint64_t)1 << 40)

struct nidec_ledger {
	int fd;
	char *path;
	double sync_interval;
	double last_sync;
	int dirty;            /* written since the last fdatasync */
	size_t count;         /* result records in the file */
	nidec_sbuf rec;       /* scratch for one record */
};

static void put_u32(unsigned char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* CRC-32 of kind + len + payload (bytes 4 .. end of payload). */
static uint32_t rec_crc(const unsigned char *head, const unsigned char *payload, size_t len)
{
	uLong c = crc32_z(0L, Z_NULL, 0);

	c = crc32_z(c, head + 4, REC_HEAD - 4);
	c = crc32_z(c, payload, len);
	return (uint32_t)c;
}

/* Build one record in lg->rec. */
static int build_record(nidec_sbuf *sb, uint32_t kind, const void *payload, size_t len,
			const char *path, nidec_err *err)
{
	unsigned char head[REC_HEAD], tail[REC_TAIL];

	put_u32(head, REC_MAGIC);
	put_u32(head + 4, kind);
	put_u64(head + 8, (uint64_t)len);
	put_u32(tail, rec_crc(head, payload, len));
	nidec_sbuf_reset(sb);
	if (nidec_sbuf_add(sb, head, sizeof(head)) < 0 || nidec_sbuf_add(sb, payload, len) < 0 ||
	    nidec_sbuf_add(sb, tail, sizeof(tail)) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory writing checkpoint '%s'", path);
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, const char *path, nidec_err *err)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return nidec_fail(err, NIDEC_EIO, "cannot write checkpoint '%s': %s", path,
					  w < 0 ? strerror(errno) : "short write");
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int sync_fd(int fd, const char *path, nidec_err *err)
{
	while (fdatasync(fd) < 0) {
		if (errno == EINTR)
			continue;
		/* pipes, some special files: nothing to force */
		if (errno == EINVAL || errno == EROFS)
			return 0;
		return nidec_fail(err, NIDEC_EIO, "cannot sync checkpoint '%s': %s", path, strerror(errno));
	}
	return 0;
}

/* ---- configuration hash ---------------------------------------------------- */

/* Keys that cannot change a result (see ledger.h). */
static int key_ignored(const char *section, const char *key, size_t klen)
{
	static const char *const data_keys[] = { "bold", "mask", "labels", "events", "dataset",
						 "samples", "confounds_files", "bids_root", "derivatives" };
	static const char *const output_keys[] = { "dir", "report", "progress", "checkpoint_interval" };
	const char *const *keys;
	size_t n, i;

	if (!strcmp(section, "data")) {
		keys = data_keys;
		n = sizeof(data_keys) / sizeof(data_keys[0]);
	} else if (!strcmp(section, "output")) {
		keys = output_keys;
		n = sizeof(output_keys) / sizeof(output_keys[0]);
	} else {
		return 0;
	}
	for (i = 0; i < n; i++)
		if (strlen(keys[i]) == klen && !strncmp(keys[i], key, klen))
			return 1;
	return 0;
}

int nidec_ledger_config_hash(const nidec_cfg *cfg, nidec_sbuf *text,
			     char hex[NIDEC_SHA256_HEX], nidec_err *err)
{
	nidec_sbuf dump = NIDEC_SBUF_INIT, kept = NIDEC_SBUF_INIT;
	char section[64] = "";
	const char *p;
	int rc = 0;

	if (nidec_cfg_dump(cfg, &dump) < 0) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory hashing the configuration");
		goto done;
	}
	for (p = dump.buf; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) + 1 : strlen(p), klen;

		if (p[0] == '[') {
			const char *close = memchr(p, ']', len);
			size_t n = close ? (size_t)(close - p) - 1 : 0;
			if (n >= sizeof(section))
				n = sizeof(section) - 1;
			memcpy(section, p + 1, n);
			section[n] = '\0';
		} else {
			klen = strcspn(p, " =\n");
			if (klen && key_ignored(section, p, klen)) {
				p += len;
				continue;
			}
		}
		if (nidec_sbuf_add(&kept, p, len) < 0) {
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory hashing the configuration");
			goto done;
		}
		p += len;
	}
	NIDEC_TRY_GOTO(rc, nidec_sha256_mem(kept.buf ? kept.buf : "", kept.len, hex, err), done);
	if (text) {
		nidec_sbuf_reset(text);
		if (nidec_sbuf_add(text, kept.buf ? kept.buf : "", kept.len) < 0)
			rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory hashing the configuration");
	}
done:
	nidec_sbuf_release(&dump);
	nidec_sbuf_release(&kept);
	return rc;
}

/* ---- header ------------------------------------------------------------------ */

static int header_text(const nidec_ledger_id *id, nidec_sbuf *sb)
{
	int rc = 0;

	rc |= nidec_sbuf_addf(sb, "%s\n", NIDEC_LEDGER_FORMAT);
	rc |= nidec_sbuf_addf(sb, "nidec_version = %s\n", id->version);
	rc |= nidec_sbuf_addf(sb, "config_sha256 = %s\n", id->config_sha256);
	rc |= nidec_sbuf_addf(sb, "inputs_sha256 = %s\n", id->inputs_sha256);
	rc |= nidec_sbuf_addf(sb, "n_tasks = %llu\n", (unsigned long long)id->n_tasks);
	rc |= nidec_sbuf_addf(sb, "config:\n%s", id->config_text ? id->config_text : "");
	return rc ? NIDEC_ENOMEM : 0;
}

/* The value of "key = value" in the header text, copied to buf ("" if absent). */
static void header_value(const char *text, const char *key, char *buf, size_t len)
{
	const char *p = text;
	size_t klen = strlen(key);

	buf[0] = '\0';
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		if (!strncmp(p, "config:", 7))
			return;
		if (!strncmp(p, key, klen) && !strncmp(p + klen, " = ", 3)) {
			const char *v = p + klen + 3;
			size_t n = eol ? (size_t)(eol - v) : strlen(v);
			if (n >= len)
				n = len - 1;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return;
		}
		p = eol ? eol + 1 : NULL;
	}
}

/* The first line of config text a that differs from b, as "[sec] key = value"
 * for each side, for the mismatch message. */
static void first_difference(const char *a, const char *b, char *was, size_t wl, char *now,
			     size_t nl)
{
	char sa[64] = "", sb[64] = "";

	snprintf(was, wl, "?");
	snprintf(now, nl, "?");
	while (a && b && (*a || *b)) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);

		if (a[0] == '[')
			snprintf(sa, sizeof(sa), "%.*s", (int)(la < 60 ? la : 60), a);
		if (b[0] == '[')
			snprintf(sb, sizeof(sb), "%.*s", (int)(lb < 60 ? lb : 60), b);
		if (la != lb || strncmp(a, b, la)) {
			snprintf(was, wl, "%s %.*s", sa, (int)(la < 200 ? la : 200), a);
			snprintf(now, nl, "%s %.*s", sb, (int)(lb < 200 ? lb : 200), b);
			return;
		}
		a = ea ? ea + 1 : a + la;
		b = eb ? eb + 1 : b + lb;
	}
}

static int check_header(const char *path, const char *text, const nidec_ledger_id *id,
			nidec_err *err)
{
	char v[256];
	const char *cfg;
	static const char fix[] = "run with the same configuration and --set options as the interrupted run, or start over without --resume";

	if (strncmp(text, NIDEC_LEDGER_FORMAT "\n", strlen(NIDEC_LEDGER_FORMAT) + 1))
		return nidec_fail(err, NIDEC_EFORMAT,
				  "checkpoint '%s' is not a ledger this nidec can read (expected '%s'); delete it to start over",
				  path, NIDEC_LEDGER_FORMAT);
	header_value(text, "nidec_version", v, sizeof(v));
	if (strcmp(v, id->version))
		return nidec_fail(err, NIDEC_EINPUT,
				  "checkpoint '%s' was written by nidec %s, this is nidec %s; finish the run with the same build, or start over without --resume",
				  path, v, id->version);
	header_value(text, "inputs_sha256", v, sizeof(v));
	if (strcmp(v, id->inputs_sha256))
		return nidec_fail(err, NIDEC_EINPUT,
				  "checkpoint '%s' was made from another dataset (inputs_sha256 %.12s..., this dataset has %.12s...); resume with the same inputs, or start over without --resume",
				  path, v, id->inputs_sha256);
	header_value(text, "config_sha256", v, sizeof(v));
	if (strcmp(v, id->config_sha256)) {
		char was[300], now[300];
		cfg = strstr(text, "\nconfig:\n");
		first_difference(cfg ? cfg + 9 : "", id->config_text ? id->config_text : "", was,
				 sizeof(was), now, sizeof(now));
		return nidec_fail(err, NIDEC_EINPUT,
				  "checkpoint '%s' was made with another configuration ('%s' then, '%s' now); %s",
				  path, was, now, fix);
	}
	header_value(text, "n_tasks", v, sizeof(v));
	if (strtoull(v, NULL, 10) != id->n_tasks)
		return nidec_fail(err, NIDEC_EINPUT,
				  "checkpoint '%s' has %s tasks, this run %llu; start over without --resume",
				  path, v, (unsigned long long)id->n_tasks);
	return 0;
}

/* ---- create ------------------------------------------------------------------ */

static nidec_ledger *ledger_new(const char *path, double sync_interval, nidec_err *err)
{
	nidec_ledger *lg = nidec_calloc_e(1, sizeof(*lg), "a checkpoint ledger", err);

	if (!lg)
		return NULL;
	lg->fd = -1;
	lg->path = nidec_strdup_e(path, err);
	if (!lg->path) {
		nidec_free(lg);
		return NULL;
	}
	nidec_sbuf_init(&lg->rec);
	lg->sync_interval = sync_interval >= 0 ? sync_interval : 30.0;
	lg->last_sync = nidec_now();
	return lg;
}

static void ledger_free(nidec_ledger *lg)
{
	if (!lg)
		return;
	if (lg->fd >= 0)
		close(lg->fd);
	nidec_sbuf_release(&lg->rec);
	nidec_free(lg->path);
	nidec_free(lg);
}

int nidec_ledger_create(const char *path, const nidec_ledger_id *id, double sync_interval,
			nidec_ledger **out, nidec_err *err)
{
	nidec_sbuf text = NIDEC_SBUF_INIT;
	nidec_tempfile *t = NULL;
	nidec_ledger *lg;
	int rc = 0;

	lg = ledger_new(path, sync_interval, err);
	if (!lg)
		return NIDEC_ENOMEM;
	if (header_text(id, &text) < 0) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory writing checkpoint '%s'", path);
		goto fail;
	}
	NIDEC_TRY_GOTO(rc, build_record(&lg->rec, KIND_HEADER, text.buf, text.len, path, err), fail);
	/* the header under a temporary, synced, renamed, and the directory
	 * synced: the final name always starts with a whole header, and
	 * survives a crash of the node */
	NIDEC_TRY_GOTO(rc, nidec_tempfile_create(path, NIDEC_TEMPFILE_SYNC_DIR, &t, err), fail);
	rc = nidec_tempfile_write(t, lg->rec.buf, lg->rec.len, err);
	if (rc < 0) {
		nidec_tempfile_abort(&t);
		goto fail;
	}
	NIDEC_TRY_GOTO(rc, nidec_tempfile_commit(&t, err), fail);
	lg->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (lg->fd < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot open checkpoint '%s': %s", path, strerror(errno));
		(void)unlink(path); /* an error path: the open error is the one to report */
		goto fail;
	}
	nidec_sbuf_release(&text);
	*out = lg;
	return 0;
fail:
	nidec_sbuf_release(&text);
	ledger_free(lg);
	return rc;
}

/* ---- resume ------------------------------------------------------------------ */

static int all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Read exactly n bytes at the current position; *got = bytes read. */
static int read_n(int fd, void *buf, size_t n, size_t *got, const char *path, nidec_err *err)
{
	char *p = buf;

	*got = 0;
	while (*got < n) {
		ssize_t r = read(fd, p + *got, n - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return nidec_fail(err, NIDEC_EIO, "cannot read checkpoint '%s': %s", path, strerror(errno));
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

/* Is the file from `off` to its end all zero bytes (a crash's tail)? */
static int zero_tail(int fd, off_t off, off_t size, const char *path, nidec_err *err, int *yes)
{
	unsigned char buf[65536];

	*yes = 1;
	if (lseek(fd, off, SEEK_SET) < 0)
		return nidec_fail(err, NIDEC_EIO, "cannot seek in checkpoint '%s': %s", path, strerror(errno));
	while (off < size) {
		size_t got = 0, want = (size_t)(size - off) < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		NIDEC_TRY(read_n(fd, buf, want, &got, path, err));
		if (got == 0)
			break;
		if (!all_zero(buf, got)) {
			*yes = 0;
			return 0;
		}
		off += (off_t)got;
	}
	return 0;
}

/* Is there a whole, valid record anywhere in (from, size)?  Tells a torn
 * last record (nothing valid after it) from a damaged length field in the
 * middle of the file (records follow). */
static int valid_record_after(int fd, off_t from, off_t size, const char *path, int *yes,
			      nidec_err *err)
{
	unsigned char buf[65536], head[REC_HEAD], tail[REC_TAIL], *payload = NULL;
	off_t pos = from;
	int rc = 0;

	*yes = 0;
	while (pos + REC_HEAD + REC_TAIL <= size && !*yes) {
		size_t got = 0, i;
		ssize_t r = pread(fd, buf, sizeof(buf), pos);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return nidec_fail(err, NIDEC_EIO, "cannot read checkpoint '%s': %s", path, strerror(errno));
		if (r < 4)
			break;
		got = (size_t)r;
		for (i = 0; i + 4 <= got && !*yes; i++) {
			off_t at = pos + (off_t)i;
			uint64_t len;

			if (get_u32(buf + i) != REC_MAGIC)
				continue;
			if (pread(fd, head, REC_HEAD, at) != REC_HEAD)
				continue;
			len = get_u64(head + 8);
			if (len > REC_MAX || (uint64_t)(size - at) < REC_HEAD + len + REC_TAIL)
				continue;
			payload = nidec_malloc_e(len ? (size_t)len : 1, 1, "a checkpoint record", err);
			if (!payload)
				return NIDEC_ENOMEM;
			if (pread(fd, payload, (size_t)len, at + REC_HEAD) == (ssize_t)len &&
			    pread(fd, tail, REC_TAIL, at + REC_HEAD + (off_t)len) == REC_TAIL &&
			    get_u32(tail) == rec_crc(head, payload, (size_t)len))
				*yes = 1;
			nidec_free(payload);
			payload = NULL;
		}
		/* overlap by 3 bytes so that a magic across two reads is seen */
		pos += (off_t)got - 3;
	}
	return rc;
}

int nidec_ledger_resume(const char *file, const char *shown, const nidec_ledger_id *id,
			double sync_interval, nidec_result **results, size_t n_results,
			nidec_ledger_loaded_fn on_loaded, void *arg, size_t *n_loaded,
			nidec_ledger **out, nidec_err *err)
{
	const char *path = shown ? shown : file;
	nidec_ledger *lg;
	struct stat st;
	off_t off = 0, size;
	unsigned char head[REC_HEAD], tail[REC_TAIL];
	unsigned char *payload = NULL;
	size_t cap = 0, loaded = 0, dup = 0, rec_no = 0, i;
	size_t *mine = NULL; /* task ids filled here, to undo on failure */
	int fd, rc = 0, torn = 0;

	lg = ledger_new(file, sync_interval, err);
	if (!lg)
		return NIDEC_ENOMEM;
	mine = nidec_malloc_e(n_results ? n_results : 1, sizeof(*mine), "the checkpoint index", err);
	if (!mine) {
		ledger_free(lg);
		return NIDEC_ENOMEM;
	}
	fd = open(file, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot open checkpoint '%s': %s", path, strerror(errno));
		goto fail;
	}
	lg->fd = fd;
	if (fstat(fd, &st) < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot read checkpoint '%s': %s", path, strerror(errno));
		goto fail;
	}
	size = st.st_size;
	while (off < size) {
		size_t got = 0;
		uint32_t kind;
		uint64_t len;
		off_t left = size - off;

		NIDEC_TRY_GOTO(rc, read_n(fd, head, REC_HEAD, &got, path, err), fail);
		if (got < REC_HEAD) {
			torn = 1; /* cut inside a record's head */
			break;
		}
		if (get_u32(head) != REC_MAGIC) {
			int z = 0;
			if (rec_no > 0)
				NIDEC_TRY_GOTO(rc, zero_tail(fd, off, size, path, err, &z), fail);
			if (z) {
				torn = 1;
				break;
			}
			rc = nidec_fail(err, NIDEC_EFORMAT,
					rec_no == 0 ? "'%s' is not a nidec checkpoint ledger (no header at byte %lld); delete it to start over"
						    : "checkpoint '%s' is corrupt (no record at byte %lld); delete it to start over",
					path, (long long)off);
			goto fail;
		}
		kind = get_u32(head + 4);
		len = get_u64(head + 8);
		if (len > REC_MAX) {
			rc = nidec_fail(err, NIDEC_EFORMAT,
					"checkpoint '%s' is corrupt (record %zu at byte %lld claims %llu bytes); delete it to start over",
					path, rec_no, (long long)off, (unsigned long long)len);
			goto fail;
		}
		if ((uint64_t)left < REC_HEAD + len + REC_TAIL) {
			/* the file ends inside this record: torn, unless its length
			 * field is damaged and whole records follow */
			int later = 0;
			NIDEC_TRY_GOTO(rc, valid_record_after(fd, off + 1, size, path, &later, err), fail);
			if (later) {
				rc = nidec_fail(err, NIDEC_EFORMAT,
						"checkpoint '%s' is corrupt (record %zu at byte %lld claims %llu bytes); delete it to start over",
						path, rec_no, (long long)off, (unsigned long long)len);
				goto fail;
			}
			torn = 1;
			break;
		}
		if (len > cap) {
			unsigned char *p = nidec_realloc(payload, (size_t)len);
			if (!p) {
				rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading checkpoint '%s' (%llu bytes)",
						path, (unsigned long long)len);
				goto fail;
			}
			payload = p;
			cap = (size_t)len;
		}
		NIDEC_TRY_GOTO(rc, read_n(fd, payload, (size_t)len, &got, path, err), fail);
		if (got == (size_t)len)
			NIDEC_TRY_GOTO(rc, read_n(fd, tail, REC_TAIL, &got, path, err), fail);
		if (got != (size_t)len && got != REC_TAIL) {
			rc = nidec_fail(err, NIDEC_EIO, "checkpoint '%s' changed while it was read", path);
			goto fail;
		}
		if (get_u32(tail) != rec_crc(head, payload, (size_t)len)) {
			if ((uint64_t)left == REC_HEAD + len + REC_TAIL && rec_no > 0) {
				torn = 1; /* the last record: a write the kill cut */
				break;
			}
			rc = nidec_fail(err, NIDEC_EFORMAT,
					"checkpoint '%s' is corrupt (bad checksum in record %zu at byte %lld); delete it to start over",
					path, rec_no, (long long)off);
			goto fail;
		}
		if (rec_no == 0) {
			char *text;
			if (kind != KIND_HEADER) {
				rc = nidec_fail(err, NIDEC_EFORMAT,
						"'%s' is not a nidec checkpoint ledger (no header); delete it to start over",
						path);
				goto fail;
			}
			text = nidec_malloc_e((size_t)len + 1, 1, "the checkpoint header", err);
			if (!text) {
				rc = NIDEC_ENOMEM;
				goto fail;
			}
			memcpy(text, payload, (size_t)len);
			text[len] = '\0';
			rc = check_header(path, text, id, err);
			nidec_free(text);
			if (rc < 0)
				goto fail;
		} else if (kind == KIND_RESULT) {
			nidec_result *r = NULL;
			if (nidec_result_unpack(payload, (size_t)len, &r, err) < 0) {
				rc = nidec_err_prefix(err, "checkpoint '%s' record %zu: ", path, rec_no);
				goto fail;
			}
			if (r->task >= n_results) {
				rc = nidec_fail(err, NIDEC_EFORMAT,
						"checkpoint '%s' record %zu is task %zu of %zu; delete it to start over",
						path, rec_no, r->task, n_results);
				nidec_result_free(&r);
				goto fail;
			}
			if (results[r->task] || r->status != 0) {
				dup++; /* the first one stays */
				nidec_result_free(&r);
			} else {
				results[r->task] = r;
				mine[loaded++] = r->task;
				if (on_loaded)
					NIDEC_TRY_GOTO(rc, on_loaded(arg, results, mine[loaded - 1], err), fail);
			}
		} else {
			rc = nidec_fail(err, NIDEC_EFORMAT,
					"checkpoint '%s' record %zu has unknown kind %u; was it written by a newer nidec?",
					path, rec_no, (unsigned)kind);
			goto fail;
		}
		off += (off_t)(REC_HEAD + len + REC_TAIL);
		rec_no++;
	}
	if (rec_no == 0) {
		rc = nidec_fail(err, NIDEC_EFORMAT,
				"'%s' is not a nidec checkpoint ledger (no whole header); delete it to start over",
				path);
		goto fail;
	}
	if (torn) {
		nidec_warn("checkpoint '%s': dropped a torn last record (%lld bytes), from a run killed while writing it",
			   path, (long long)(size - off));
		if (ftruncate(fd, off) < 0) {
			rc = nidec_fail(err, NIDEC_EIO, "cannot truncate checkpoint '%s': %s", path, strerror(errno));
			goto fail;
		}
		NIDEC_TRY_GOTO(rc, sync_fd(fd, path, err), fail);
	}
	if (dup)
		nidec_verbose("checkpoint '%s': skipped %zu duplicate record%s", path, dup, dup == 1 ? "" : "s");
	if (lseek(fd, 0, SEEK_END) < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot seek in checkpoint '%s': %s", path, strerror(errno));
		goto fail;
	}
	/* appends go to the end from now on, whatever the offset */
	close(fd);
	lg->fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (lg->fd < 0) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot open checkpoint '%s': %s", path, strerror(errno));
		goto fail;
	}
	lg->count = rec_no - 1 - dup;
	nidec_free(payload);
	nidec_free(mine);
	if (n_loaded)
		*n_loaded = loaded;
	*out = lg;
	return 0;
fail:
	for (i = 0; i < loaded; i++)
		nidec_result_free(&results[mine[i]]);
	nidec_free(payload);
	nidec_free(mine);
	ledger_free(lg);
	return rc;
}

/* ---- append / sync / close ------------------------------------------------ */

int nidec_ledger_sync(nidec_ledger *lg, nidec_err *err)
{
	if (!lg->dirty)
		return 0;
	NIDEC_TRY(sync_fd(lg->fd, lg->path, err));
	lg->dirty = 0;
	lg->last_sync = nidec_now();
	return 0;
}

int nidec_ledger_tick(nidec_ledger *lg, nidec_err *err)
{
	if (lg->dirty && nidec_now() - lg->last_sync >= lg->sync_interval)
		return nidec_ledger_sync(lg, err);
	return 0;
}

int nidec_ledger_append(nidec_ledger *lg, const nidec_result *r, nidec_err *err)
{
	void *packed = NULL;
	size_t len = 0;
	int rc;

	if (r->status != 0)
		return 0;
	NIDEC_TRY(nidec_result_pack(r, &packed, &len, err));
	rc = build_record(&lg->rec, KIND_RESULT, packed, len, lg->path, err);
	nidec_free(packed);
	NIDEC_TRY(rc);
	NIDEC_TRY(write_all(lg->fd, lg->rec.buf, lg->rec.len, lg->path, err));
	/* a big record must not keep its scratch alive for the whole run */
	if (lg->rec.len > ((size_t)1 << 20))
		nidec_sbuf_release(&lg->rec);
	lg->count++;
	lg->dirty = 1;
	return nidec_ledger_tick(lg, err);
}

size_t nidec_ledger_count(const nidec_ledger *lg)
{
	return lg->count;
}

int nidec_ledger_close(nidec_ledger **lgp, nidec_err *err)
{
	nidec_ledger *lg;
	int rc = 0;

	if (!lgp || !*lgp)
		return 0;
	lg = *lgp;
	if (lg->fd >= 0) {
		rc = nidec_ledger_sync(lg, err);
		if (close(lg->fd) < 0 && rc == 0)
			rc = nidec_fail(err, NIDEC_EIO, "cannot close checkpoint '%s': %s", lg->path, strerror(errno));
		lg->fd = -1;
	}
	ledger_free(lg);
	*lgp = NULL;
	return rc;
}
