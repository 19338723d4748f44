/*
 * ledger.h - the checkpoint ledger of a cross-validation: every finished
 * task result, appended as it arrives on rank 0, so that a killed or
 * interrupted run can be resumed (`--resume`) without running those tasks
 * again, and still give byte-identical outputs (docs/FORMAT.md "Results",
 * "Checkpoint ledger").
 *
 * The ledger is an append-only file next to the outputs,
 * <dir>/results.ledger, merged into results.h5 (/ledger) when the run
 * completes and then removed.  Why a sidecar and not HDF5: an HDF5 1.10
 * file killed in the middle of a write can be unreadable as a whole; an
 * append-only file of checksummed records loses at most its torn last
 * record.  Layout (integers little-endian):
 *
 *     record  = u32 magic "NDLR" | u32 kind | u64 len | len bytes | u32 crc
 *     crc     = CRC-32 (zlib) of kind, len and the payload
 *     kind 1  = header (first record, exactly once): text, "key = value"
 *               lines, then "config:" and the configuration it was made with
 *     kind 2  = one task result: nidec_result_pack() bytes
 *
 * Rules:
 *  - a result is written (write(2)) as soon as it is appended, so the
 *    death of any process loses nothing rank 0 had received; it is forced
 *    to disk (fdatasync) at most `sync_interval` seconds later (and at
 *    nidec_ledger_sync / close), which bounds the loss when the node
 *    itself goes down;
 *  - reading: a last record cut short (or a tail of zero bytes) is a torn
 *    write of a killed run: it is dropped with a warning and the file
 *    truncated before appending; a bad magic or checksum anywhere else is
 *    a corrupt ledger and is refused;
 *  - a ledger is only ever continued by the same configuration (config
 *    hash, see nidec_ledger_config_hash), the same dataset (its
 *    inputs_sha256), the same number of tasks and the same nidec version;
 *    anything else is refused with a message naming what differs;
 *  - results with a non-zero status are not recorded (a resumed run tries
 *    those tasks again).
 *
 * Implemented in src/io/ledger.c (a file of the core's task results;
 * the job driver, job.h, writes it on rank 0).  Not collective, no MPI.
 * Memory: one record at a time besides the results handed to the caller.
 */
#ifndef NIDEC_LEDGER_H
#define NIDEC_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/cfg.h"
#include "nidec/err.h"
#include "nidec/hash.h"
#include "nidec/result.h"
#include "nidec/sbuf.h"

#define NIDEC_LEDGER_NAME "results.ledger"
#define NIDEC_LEDGER_FORMAT "nidec-ledger 1"

/* What a ledger must match to be continued. */
typedef struct nidec_ledger_id {
	char config_sha256[NIDEC_SHA256_HEX]; /* nidec_ledger_config_hash() */
	char inputs_sha256[NIDEC_SHA256_HEX]; /* the dataset's reuse key */
	char version[128];                    /* nidec_version */
	uint64_t n_tasks;                     /* tasks of the plan */
	const char *config_text;              /* the hashed text (borrowed; for messages) */
} nidec_ledger_id;

typedef struct nidec_ledger nidec_ledger;

/* The configuration as far as results depend on it: nidec_cfg_dump()
 * without the keys that change no result ([data] bold, mask, labels,
 * events, dataset: the dataset's inputs_sha256 stands for them; [output]
 * dir, report, progress, checkpoint_interval).  `text` (may be NULL) gets
 * that text; `hex` its SHA-256.  After nidec_cfg_finish. */
int nidec_ledger_config_hash(const nidec_cfg *cfg, nidec_sbuf *text,
			     char hex[NIDEC_SHA256_HEX], nidec_err *err);

/* Start a new ledger at `path` (an older file there is replaced: the new
 * one is written under a temporary name and renamed).  On error nothing
 * is left behind and *out is untouched. */
int nidec_ledger_create(const char *path, const nidec_ledger_id *id, double sync_interval,
			nidec_ledger **out, nidec_err *err);

/* Called for each result read back, right after results[t] is set; it
 * may take results out of the table (free them, set the entries to NULL),
 * as nidec_sched_opts.on_stored does; an error ends the resume. */
typedef int (*nidec_ledger_loaded_fn)(void *arg, nidec_result **results, size_t t,
				      nidec_err *err);

/* Continue the ledger at `file` (`shown`: the name messages use, NULL =
 * file; e.g. results.h5's name for the copy taken out of it): check its
 * header against `id` (a mismatch is NIDEC_EINPUT naming the first key
 * that differs), read every record into results[task] (entries already
 * set are kept: a duplicate record is skipped) and pass it to on_loaded
 * (may be NULL), drop a torn last record, and open the file for
 * appending.  *n_loaded (may be NULL) gets the results read.  On error
 * every result read and still in the table is freed again and *out is
 * untouched (what on_loaded took is the caller's to discard). */
int nidec_ledger_resume(const char *file, const char *shown, const nidec_ledger_id *id,
			double sync_interval, nidec_result **results, size_t n_results,
			nidec_ledger_loaded_fn on_loaded, void *arg, size_t *n_loaded,
			nidec_ledger **out, nidec_err *err);

/* Append one result (skipped if its status is non-zero); write(2) at
 * once, fdatasync when the last sync is more than sync_interval seconds
 * old. */
int nidec_ledger_append(nidec_ledger *lg, const nidec_result *r, nidec_err *err);

/* fdatasync if something was written since the last sync and the sync
 * interval has passed (call it now and then). */
int nidec_ledger_tick(nidec_ledger *lg, nidec_err *err);

/* fdatasync now (if anything is unsynced). */
int nidec_ledger_sync(nidec_ledger *lg, nidec_err *err);

/* Results in the file (read back plus appended). */
size_t nidec_ledger_count(const nidec_ledger *lg);

/* Sync and close; *lg = NULL.  NULL-safe.  Returns the sync's status. */
int nidec_ledger_close(nidec_ledger **lg, nidec_err *err);

#endif
