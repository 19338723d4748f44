/*
 * sweep.h - `nidec sweep`: many subjects, one analysis config
 * (src/job/sweep.c, group.c, slurm.c; docs/SWEEP.md is the user's
 * documentation).  The subjects themselves run through the job driver
 * (job.h); this module is the sweep file, the subject list, the group
 * outputs and the Slurm scripts.
 *
 * A sweep file is an INI file with one [sweep] section:
 *
 *     [sweep]
 *     analysis = configs/haxby-slice.ini     ; the usual config; its [output] dir
 *                                            ; is the sweep's output root
 *     ; either an explicit list with per-subject patterns ({subject} = label) ...
 *     subjects = 01, 02, 03
 *     bold = data/sub-{subject}/func/sub-{subject}_run-*_bold.nii.gz
 *     mask = data/sub-{subject}/mask.nii.gz
 *     events = data/sub-{subject}/func/sub-{subject}_run-*_events.tsv
 *                                            ; or labels = ...
 *     ; (or, instead of bold and labels: samples = data/sub-{subject}/trials.tsv)
 *     ; ... or a BIDS root: sub-<label>/func/sub-<label>_*task-<task>_*run-*_bold.nii[.gz]
 *     ; with the matching _events.tsv (subjects = restricts the list)
 *     bids_root = /data/ds000105
 *     task = objectviewing
 *     mask = /data/masks/sub-{subject}_mask.nii.gz
 *     ; ... or with fMRIPrep derivatives: BOLD, brain masks and confounds from
 *     ; there, events from bids_root, matched by entities (bids.h); the mask is
 *     ; then optional (the runs' brain masks are intersected)
 *     derivatives = /data/ds000105/derivatives/fmriprep
 *     space = MNI152NLin2009cAsym            ; desc = preproc, session = (all)
 *     chance = auto                          ; the group test's chance level
 *     name = haxby decoding                  ; dataset_description.json Name
 *     kind = decoder                         ; or searchlight: each subject's command
 *     ; searchlight group level (group maps, Stelzer cluster test; docs/SWEEP.md)
 *     cluster_draws = 10000                  ; group null maps drawn
 *     cluster_threshold = 0.001              ; cluster-forming voxel-wise p
 *     cluster_alpha = 0.05                   ; clusters kept in the thresholded map
 *     seed = 0                               ; the draws' seed
 *
 * Lifecycle (every rank does the same, from the same files):
 *     nidec_sweep sw;
 *     nidec_sweep_init(&sw);
 *     nidec_sweep_load(&sw, "sweep.ini", &err);      [sweep] keys
 *     nidec_sweep_set(&sw, "sweep.chance=0.5", &err); --set sweep.KEY=VALUE
 *     nidec_sweep_resolve(&sw, &err);                 the subject list
 *     nidec_sweep_subject_cfg(&sw, s, ..., &cfg, &err) per subject
 *     nidec_sweep_release(&sw);
 *
 * Relative paths are relative to the current directory (as in the
 * analysis config).  Unknown keys are errors with a "did you mean".  The
 * fields below `path` are filled by nidec_sweep_resolve().
 * Not Collective; no MPI.
 */
#ifndef NIDEC_SWEEP_H
#define NIDEC_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/cfg.h"
#include "nidec/err.h"
#include "nidec/keyfile.h"
#include "nidec/sbuf.h"

/* One subject of the sweep. */
typedef struct nidec_sweep_subject {
	char *label;      /* BIDS label without "sub-" ("01") */
	char *bold;       /* [data] bold for this subject (a path or a glob) */
	char *mask;       /* [data] mask */
	char *labels;     /* [data] labels, or NULL */
	char *events;     /* [data] events, or NULL */
	char *samples;    /* [data] samples (a sample table), or NULL */
	char *found;      /* with derivatives: the runs found, one line each, or NULL */
	int status;       /* 0, or the NIDEC_E* code of its failure */
	char *error;      /* the failure's message, or NULL */
} nidec_sweep_subject;

/* What each subject's analysis is ([sweep] kind). */
enum { NIDEC_SWEEP_DECODER, NIDEC_SWEEP_SEARCHLIGHT };

typedef struct nidec_sweep {
	char *path;               /* the sweep file */
	char *analysis;           /* the analysis config */
	char *bids_root;          /* NULL: explicit list */
	char *task;               /* BIDS task label (with bids_root) */
	char *derivatives;        /* fMRIPrep derivatives (with bids_root), or NULL */
	char *space, *desc, *session; /* their entities (bids.h), or NULL */
	char *bold, *mask, *labels, *events; /* patterns with {subject} */
	char *samples;            /* a sample table per subject ({subject}), or NULL */
	char **subjects;          /* `subjects =` as given (labels), or NULL */
	size_t n_listed;
	double chance;            /* NaN = auto (see nidec_sweep_chance) */
	char *name;               /* dataset_description Name, or NULL */
	int kind;                 /* NIDEC_SWEEP_DECODER or _SEARCHLIGHT */
	size_t cluster_draws;     /* the searchlight cluster test (cluster.h) */
	double cluster_threshold; /* its cluster-forming voxel-wise p */
	double cluster_alpha;     /* clusters kept in the thresholded map */
	uint64_t seed;            /* its draws' seed */
	nidec_sweep_subject *subject; /* after resolve: every subject, natural order */
	size_t n_subjects;
	nidec_keyfile kf;         /* the [sweep] values as given (read by resolve) */
} nidec_sweep;

/* The [sweep] keys (keyfile.h), for the option parser's --set checks. */
extern const nidec_keyschema nidec_sweep_schema;

void nidec_sweep_init(nidec_sweep *sw);
/* Read the [sweep] section of `path` (other sections are errors). */
int nidec_sweep_load(nidec_sweep *sw, const char *path, nidec_err *err);
/* Apply one "sweep.key=value" override. */
int nidec_sweep_set(nidec_sweep *sw, const char *assignment, nidec_err *err);
/* Check the keys and build the subject list: the explicit list, or the
 * subjects found under bids_root (natural order).  A subject whose BIDS
 * files are incomplete (a bold without its events) is kept with its
 * status and error set: it fails alone, not the sweep. */
int nidec_sweep_resolve(nidec_sweep *sw, nidec_err *err);
void nidec_sweep_release(nidec_sweep *sw);

/* Index of the subject with label `label` ("01" or "sub-01"), or -1. */
long nidec_sweep_find(const nidec_sweep *sw, const char *label);

/* <root>/sub-<label> into buf; NIDEC_EINPUT if it does not fit. */
int nidec_sweep_subject_dir(const char *root, const char *label, char *buf, size_t len,
			    nidec_err *err);

/*
 * The finished config of subject s: the analysis config, then the
 * overrides `sets` (--set SEC.KEY=VAL, in order), then the subject's
 * [data] bold / mask / labels / events and [output] dir = <root>/sub-<label>.
 * cfg must be initialised (nidec_cfg_init); it is finished on success.
 */
int nidec_sweep_subject_cfg(const nidec_sweep *sw, size_t s, char *const *sets, size_t n_sets,
			    const char *root, nidec_cfg *cfg, nidec_err *err);

/* The analysis config with the overrides (no subject): output root,
 * scoring, permutations, report, progress.  Finished on success. */
int nidec_sweep_base_cfg(const nidec_sweep *sw, char *const *sets, size_t n_sets,
			 nidec_cfg *cfg, nidec_err *err);

/* Chance level of the group test for one class key (docs/SWEEP.md):
 * `chance` if set; else roc_auc and balanced_accuracy 0.5, accuracy 1/K for
 * K = 2 classes and (K-1)/K for the one-vs-rest problems of K > 2 classes;
 * NaN (no test) for f1, precision and recall. */
double nidec_sweep_chance(const nidec_sweep *sw, int scoring, size_t n_classes);

/* ---- group outputs (src/job/group.c, slgroup.c; rank 0) ---- */

/*
 * Before anything runs: the subjects' BOLD grids (the first image of each
 * subject's [data] bold, header only) must be one grid.  cfgs[k] is the
 * config of subject sw->subject[idx[k]].  NIDEC_EINPUT naming the first
 * subject that differs, its file and both grids.
 */
int nidec_sl_group_check_grids(const nidec_sweep *sw, const nidec_cfg *cfgs, const size_t *idx,
			       size_t n, nidec_err *err);


/* <root>/dataset_description.json (BIDS derivatives). */
int nidec_sweep_write_description(const nidec_sweep *sw, const char *root, nidec_err *err);

/* Per-subject status files in <root>/sub-<label>/: error.txt holds the
 * message of a failed subject; success removes it. */
int nidec_sweep_mark(const char *root, const nidec_sweep_subject *sub, nidec_err *err);

/* The config text that decides whether outputs are current: the canonical
 * dump (nidec_cfg_dump) without [output] progress, report and dir, which do
 * not change results (an output tree may be moved). */
int nidec_sweep_config_text(const nidec_cfg *cfg, nidec_sbuf *out);

/* *current = 1 if <dir>/summary.json exists, has no error.txt beside it,
 * records the config text of `cfg` and (when `inputs_sha256` is not NULL)
 * the dataset with those inputs: the subject's outputs can be kept
 * (--resume, --gather).  A missing or unreadable summary is not an error. */
int nidec_sweep_outputs_current(const char *dir, const nidec_cfg *cfg, const char *inputs_sha256,
				int *current, nidec_err *err);

/* Read every subject's outputs (summary.json, null_scores.tsv, error.txt)
 * and write <root>/group_scores.tsv and <root>/group_summary.json.
 * A subject counts as failed when its status is set (sw->subject[s]),
 * when its directory holds error.txt, when summary.json is missing, or,
 * when cfgs[s] is given, when summary.json records another config.
 * `cfgs` may be NULL.  *n_ok / *n_failed count the subjects.  Prints the
 * group table on stdout. */
int nidec_sweep_gather(const nidec_sweep *sw, const nidec_cfg *base, nidec_cfg *const *cfgs,
		       const char *root, size_t *n_ok, size_t *n_failed, nidec_err *err);

/* ---- Slurm scripts (src/job/slurm.c; rank 0) ---- */

typedef struct nidec_sweep_slurm {
	const char *dir;          /* where the scripts go (created) */
	int ntasks;               /* ranks per array task */
	const char *time;         /* --time of an array task */
	const char *mem_per_cpu;  /* --mem-per-cpu */
	const char *partition;    /* or NULL */
	const char *account;      /* or NULL */
} nidec_sweep_slurm;

#define NIDEC_SWEEP_SLURM_INIT { NULL, 2, "01:00:00", "4G", NULL, NULL }

/* Write <dir>/sweep-array.sbatch and <dir>/sweep-gather.sbatch for the
 * sweep file `sweep_path` with the overrides `sets`; print how to submit. */
int nidec_sweep_emit_slurm(const nidec_sweep *sw, const char *sweep_path, char *const *sets,
			   size_t n_sets, const nidec_sweep_slurm *opt, nidec_err *err);

#endif
