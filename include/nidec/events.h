/*
 * events.h - the condition and run of every volume, from a labels table
 * (nilearn's Haxby labels.txt) or from per-run BIDS events.tsv files.
 *
 * Labels table: a header line naming the columns, then one line per volume
 * of the concatenated BOLD series, fields separated by blanks or tabs.  The
 * label and run columns are named by the caller ([data] label_column and
 * run_column, default "labels" and "chunks").  Runs become indices 0..R-1:
 * the distinct run values sorted numerically when all are integers, else in
 * byte order (as numpy.unique and sklearn's LeaveOneGroupOut order them).
 *
 * BIDS events (docs/FORMAT.md "Labels from events"): columns onset,
 * duration and trial_type (seconds, tab separated).  Volume i of a run,
 * acquired at t = i x TR, gets the trial_type of the first event (file
 * order) with onset + hrf_shift <= t < onset + hrf_shift + duration, else
 * "rest".  Both bounds are taken 1e-4 s early so that a volume time that
 * equals an onset up to rounding counts as inside.  Events whose trial_type
 * is empty or "n/a" label nothing.
 *
 * Lifecycle: structs start with their *_INIT value; *_release() frees and
 * leaves an empty, reusable struct.  A failing function leaves its output
 * as it was (appending functions roll back) and frees what it allocated.
 * Errors name the file, the line, the field and the fix.
 * Not collective; no MPI, HDF5 or NIfTI: base only.
 */
#ifndef NIDEC_EVENTS_H
#define NIDEC_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

/* Per-volume labels of the concatenated BOLD series. */
typedef struct nidec_vol_labels {
	size_t n;           /* volumes */
	char **label;       /* [n] condition of each volume (owned) */
	int32_t *run;       /* [n] run index, 0-based */
	size_t n_runs;      /* distinct runs (max run + 1) */
	char **run_names;   /* [n_runs] run value as written (labels table), or NULL */
	double *target;     /* [n] continuous target ([data] target_column), or NULL */
} nidec_vol_labels;

#define NIDEC_VOL_LABELS_INIT { 0, NULL, NULL, 0, NULL, NULL }

void nidec_vol_labels_release(nidec_vol_labels *l);

/* Read a labels table into *out (which must be empty).  Errors: missing
 * file, no header, a named column missing, a short row. */
int nidec_labels_read_table(const char *path, const char *label_column,
			    const char *run_column, nidec_vol_labels *out, nidec_err *err);

typedef struct nidec_event {
	double onset;      /* seconds from the start of the run */
	double duration;   /* seconds, >= 0 */
	char *trial_type;  /* condition (owned) */
	double value;      /* [data] target_column's value (nidec_events_read_target),
			    * NaN: n/a, or not read */
} nidec_event;

typedef struct nidec_events {
	char *path;        /* file read (owned) */
	size_t n;
	nidec_event *ev;   /* [n] in file order */
} nidec_events;

#define NIDEC_EVENTS_INIT { NULL, 0, NULL }

/* Read one BIDS events.tsv into *out (which must be empty).  Errors: missing
 * file, missing column, non-numeric or negative onset/duration. */
int nidec_events_read(const char *path, nidec_events *out, nidec_err *err);
/* The same, also reading the numeric column `column` (NULL: none) into each
 * event's value: a number, or "n/a" / empty (NaN); anything else, or a
 * missing column, is an error naming the file, the line and the fix. */
int nidec_events_read_target(const char *path, const char *column, nidec_events *out,
			     nidec_err *err);
void nidec_events_release(nidec_events *ev);

/* Append the labels of the n_vols volumes of one run (repetition time `tr`
 * seconds, events shifted by `hrf_shift` seconds) to *out with run index
 * `run`; out->n_runs grows to run + 1 if needed.  On failure *out is as it
 * was. */
int nidec_events_label_run(const nidec_events *ev, size_t n_vols, double tr,
			   double hrf_shift, int32_t run, nidec_vol_labels *out,
			   nidec_err *err);

/* The label rule alone: index of the event that labels time t, or -1 (rest). */
long nidec_events_find(const nidec_events *ev, double t, double hrf_shift);

/* What the label rule silently made of one run's events (convert warns):
 * events whose interval holds no volume time (shorter than a TR and
 * between two volumes, after the run's end, or of duration 0), and volumes
 * inside events of different trial types (the first in file order wins). */
typedef struct nidec_events_check {
	size_t n_empty;       /* events that label no volume */
	long first_empty;     /* the first of them (index into ev), or -1 */
	size_t n_overlap;     /* volumes in events of different trial types */
	long overlap_vol;     /* the first such volume, or -1 */
	long overlap_first;   /* its winning event */
	long overlap_other;   /* an event of another trial type holding it too */
} nidec_events_check;

void nidec_events_check_run(const nidec_events *ev, size_t n_vols, double tr, double hrf_shift,
			    nidec_events_check *out);

/* nidec_events_check_run, then one warning line (log.h) per finding,
 * naming the file, the first case and the fix. */
void nidec_events_warn_run(const nidec_events *ev, size_t n_vols, double tr, double hrf_shift);

#endif
