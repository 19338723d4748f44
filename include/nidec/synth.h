/*
 * synth.h - a synthetic subject with a planted signal, of any size, for
 * benchmarks and tests (`nidec synth`).
 *
 * What is written in `dir` (docs/FORMAT.md "Synthetic subjects"):
 *   sub-<S>_task-synth_run-<NN>_bold.nii.gz   one 4D file per run
 *   sub-<S>_task-synth_run-<NN>_events.tsv    BIDS events of that run
 *   mask.nii.gz        a brain-like ellipsoid holding mask_fraction of the grid
 *   labels.txt         the same design as a labels table (labels, chunks)
 *   synth.ini          a ready config ([data] with the files above)
 * Each run shows every class once, in a shuffled order, as a block of
 * volumes after a rest gap.  A voxel of volume t of run r holds
 *     baseline(v) + offset(r) + sigma * (noise(r, t, v) + signal * P_c(v))
 * inside the mask (P_c = the class's fixed N(0,1) pattern; no P in rest;
 * with signal_radius > 0, P_c is 0 beyond that many mm from the grid's
 * centre voxel: a localised effect, as a searchlight looks for), 0 outside.  Every value is a pure function of (seed, what, run, volume),
 * drawn from nidec_rng streams, so the files are the same for any number
 * of ranks writing runs in any order.  Not collective; no MPI, no HDF5.
 */
#ifndef NIDEC_SYNTH_H
#define NIDEC_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

typedef struct nidec_synth_opts {
	const char *dir;        /* output directory (created) */
	const char *subject;    /* BIDS subject label, e.g. "01" */
	int64_t dims[3];        /* grid */
	int runs;               /* runs (files) */
	int volumes;            /* volumes per run */
	int classes;            /* conditions besides rest, 2..64 */
	double tr;              /* repetition time, s */
	double signal;          /* planted signal, in noise standard deviations */
	double signal_radius;   /* mm around the grid centre; 0 = the whole mask */
	double mask_fraction;   /* fraction of the grid inside the mask, (0, 1] */
	double voxel_size;      /* mm, isotropic */
	uint64_t seed;
	int float32;            /* 1: float32 voxels, 0: int16 */
	int compress_level;     /* gzip level 1..9 */
	int fmriprep;           /* layout: 0 flat (above), 1 BIDS + fMRIPrep derivatives (below) */
	const char *session;    /* BIDS session label (fmriprep layout), or NULL */
	int target;             /* 1 (flat layout): a continuous target, issue 18; see below */
	int across;             /* > 0: an across-subject set of that many subjects; see below */
} nidec_synth_opts;

#define NIDEC_SYNTH_OPTS_INIT { NULL, "01", { 40, 64, 64 }, 12, 121, 8, 2.5, 0.5, 0, 0.25, 3.0, 0, 0, 1, 0, NULL, 0, 0 }

/*
 * target = 1 (--target): each block (run r, class c) also gets a
 * modulation m(r, c) ~ N(0, 1) (stream 8, a = r, b = c), and its volumes
 * carry sigma * signal * m(r, c) * Q(v) on top of the class signal, Q a
 * fixed N(0, 1) map (stream 2, a = classes): a planted linear relation
 * between a map and the target.  The events get a `modulation` column,
 * labels.txt a `modulation` column (0 on rest rows), and synth.ini
 * target_column = modulation with estimator = ridge.  Without it every
 * file is as before, bit for bit.
 */

/*
 * across = N (--across-subjects N, 3..9999; issue 18) writes, instead of
 * runs, one 3D map per subject s = 1..N, as a study's contrast maps:
 *   sub-<S>_map.nii.gz  S = 01, 02, ... (zero-padded to the width of N)
 *   mask.nii.gz         the ellipsoid above
 *   subjects.tsv        a sample table: path, subject, contrast (= effect,
 *                       the one condition), score (the planted target),
 *                       age (whole years 18..80, unrelated to the maps)
 *   synth.ini           samples = subjects.tsv, label_column = contrast,
 *                       run_column = subject (the group), target_column =
 *                       score, estimator = ridge, scheme = kfold with 5
 *                       folds (blocks of subjects: r2 is undefined on the
 *                       one test image of leave-one-subject-out),
 *                       permute_within = all
 * Inside the mask a voxel of subject s holds
 *     20 * (E_s(v) + signal * z_s * Q(v)),   0 outside,
 * z_s ~ N(0, 1) the subject's score (stream 10, a = s, which also draws
 * the age), Q a fixed pattern (stream 9; 0 beyond signal_radius) and E_s
 * the subject's noise (stream 11, a = s): both smooth fields, N(0, 1)
 * draws over the whole grid filtered by [1 2 1] along each axis and
 * rescaled to a unit variance at every voxel.  A planted linear relation
 * between a map and the target; subject s's file depends on (seed, s)
 * only.  --runs, --volumes, --classes, --tr and --subject play no part;
 * --target and --layout fmriprep are refused with it.
 */

/*
 * The fmriprep layout (--layout fmriprep) writes a raw BIDS tree and an
 * fMRIPrep-like derivatives tree under `dir`, for the runs r = 1..runs:
 *   dataset_description.json
 *   sub-<S>[/ses-<X>]/func/sub-<S>[_ses-<X>]_task-synth_run-<r>_events.tsv
 *   derivatives/fmriprep/dataset_description.json
 *   derivatives/fmriprep/sub-<S>[/ses-<X>]/func/sub-<S>[_ses-<X>]_task-synth_run-<r>_
 *       space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz
 *       space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz  (odd runs lose the
 *                                          mask's lowest x plane: intersecting matters)
 *       desc-confounds_timeseries.tsv / .json   (motion with derivatives and
 *                                          squares, csf, white_matter, global_signal,
 *                                          framewise_displacement, a/t_comp_cor,
 *                                          cosine; n/a in the first row of derivatives)
 *   synth.ini (bids_root, derivatives, subject, task, space, conditions)
 * and plants into each voxel a linear drift and four confounds (trans_x,
 * rot_y, csf, a_comp_cor_00, each z-scored over the run) with random
 * loadings, both of the size of the noise, on top of the flat layout's
 * signal: what cleaning has to remove.  Other subjects and sessions can
 * be written into the same directory.
 */
#define NIDEC_SYNTH_SPACE "MNI152NLin2009cAsym"

/* Check the options; errors name the option and the fix. */
int nidec_synth_check(const nidec_synth_opts *o, nidec_err *err);

/* Name of class c (face, cat, house, ... then classNN); static storage or buf. */
const char *nidec_synth_class_name(int c, char *buf, size_t n);

/* The mask (1 inside) over the grid, x fastest: a new array (nidec_free). */
int nidec_synth_mask(const nidec_synth_opts *o, unsigned char **mask, size_t *n_inside,
		     nidec_err *err);

/* Create dir and write mask.nii.gz, every events.tsv, labels.txt and
 * synth.ini (with across: mask.nii.gz, subjects.tsv and synth.ini);
 * small files, one process. */
int nidec_synth_write_common(const nidec_synth_opts *o, const unsigned char *mask,
			     nidec_err *err);

/* Write run r's 4D image (memory: one run of the grid in the file's type). */
int nidec_synth_write_run(const nidec_synth_opts *o, const unsigned char *mask, int run,
			  nidec_err *err);

/* across > 0: write subject s's map (s = 0..across-1; memory: 3 floats and
 * one stored value per grid voxel).  nidec_synth_write_common writes the
 * mask, subjects.tsv and synth.ini of the set. */
int nidec_synth_write_map(const nidec_synth_opts *o, const unsigned char *mask, int s,
			  nidec_err *err);

#endif
