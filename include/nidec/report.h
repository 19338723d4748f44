/*
 * report.h - report.html: one self-contained page describing a results
 * directory: the decoder's (`nidec run` / `nidec cv`) or a searchlight's
 * (`nidec searchlight`; summary.json says "analysis": "searchlight", or,
 * without summary.json, its files do).
 *
 * Contract:
 *  - The report READS result files only (summary.json, scores.tsv,
 *    grid_scores.tsv, predictions.tsv, weights_<class>.nii.gz,
 *    weights_std_<class>.nii.gz; a searchlight's searchlight_*.nii.gz and
 *    searchlight.tsv; the dataset HDF5 and the input images the config
 *    names); it never re-runs or re-scores anything.  Counting a confusion
 *    matrix from predictions.tsv, the bars of a histogram and the voxels of
 *    a map above a threshold, and averaging the BOLD series for a
 *    background picture are the only arithmetic.
 *  - Each section degrades on its own: when the file it needs is missing or
 *    unreadable, the section says "not available" and why, and the rest of
 *    the page is still written (a warning is logged).
 *  - The page is self-contained: images are PNG data: URIs, charts inline
 *    SVG, CSS inline; a Content-Security-Policy forbids every network load
 *    and every script.  It prints (A4/Letter) without losing content.
 *  - Written to a temporary name and renamed: no half page under the name.
 *
 * Not collective: call it on one rank (rank 0).  Memory: one volume of the
 * BOLD series at a time, the dataset's metadata, and the page itself.
 */
#ifndef NIDEC_REPORT_H
#define NIDEC_REPORT_H

#include "nidec/err.h"

/* Write <results_dir>/report.html.  `dataset_path` may be NULL: then the
 * dataset named in summary.json (provenance.dataset) or
 * <results_dir>/dataset.h5 is used if it can be opened.  Fails when
 * results_dir holds no result file at all, when a dataset given explicitly
 * cannot be opened, or when the page cannot be written.
 * The searchlight's page (src/report/report_searchlight.c) shows its map
 * over the mean EPI coloured where the score is above chance (at the
 * map's float32 precision), the distribution of the sphere scores, the
 * best spheres, the sphere sizes and the permutation test. */
int nidec_report_write(const char *results_dir, const char *dataset_path, nidec_err *err);

/* Same, written to `out_path` (NULL: <results_dir>/report.html).  On the
 * output root of a sweep (no summary.json, but group_summary.json,
 * dataset_description.json or sub-* directories with results) it writes the
 * group page (then `dataset_path` must be NULL). */
int nidec_report_write_to(const char *results_dir, const char *dataset_path,
			  const char *out_path, nidec_err *err);

/*
 * Write <root>/report.html, the group page of a sweep (`nidec sweep`; its
 * files are docs/SWEEP.md's "Outputs"): per class, every subject's score
 * (its mean over outer folds) with its folds' spread and the chance level;
 * the group statistics of group_summary.json (mean, sem, t, p, the
 * permutation p-value); every subject's status, with its error when it
 * failed or a relative link to its own report.html; provenance.  Reads
 * group_summary.json, dataset_description.json and each subject's
 * summary.json, error.txt (without group_summary.json) and report.html
 * (whether it exists); correct with failed subjects and when some of these
 * files are missing (each section degrades on its own).  Fails when `root`
 * is not a directory, holds neither group_summary.json nor any sub-*
 * directory, or the page cannot be written.  Not collective (rank 0).
 */
int nidec_report_group_write(const char *root, nidec_err *err);
/* Same, written to `out_path` (NULL: <root>/report.html). */
int nidec_report_group_write_to(const char *root, const char *out_path, nidec_err *err);

#endif
