/*
 * svg.h - inline SVG charts for report.html (internal to src/report).
 *
 * Each function appends one <svg> element (with a viewBox, so it scales
 * with the page, and a <title> for screen readers) to `out`.  Text is
 * HTML-escaped here.  Returns 0 or NIDEC_ENOMEM (then `out` may hold part
 * of the chart: the caller discards the whole page).  No MPI, no I/O.
 */
#ifndef NIDEC_REPORT_SVG_H
#define NIDEC_REPORT_SVG_H

#include <math.h>
#include <stddef.h>

#include "nidec/sbuf.h"

/* Grouped bars: for each fold f, one bar per series s of height
 * score[s * n_folds + f] (NaN: no bar), on a 0..1 axis (or the data's range
 * when it leaves 0..1); a dashed line at `chance` unless it is NaN, and one
 * at each series' mean. */
int nidec_svg_fold_scores(nidec_sbuf *out, const char *const *series, size_t n_series,
			  const double *score, size_t n_folds, double chance, const char *ylabel);

/* What a histogram shows (nidec_svg_hist).  Strings are borrowed. */
typedef struct nidec_svg_hist_opts {
	const char *title;        /* the chart's <title> */
	const char *counted;      /* what a bar counts: y axis and bar tooltips ("permutations") */
	const char *xlabel;       /* NULL: "score" */
	const char *legend;       /* the bars' legend ("null"), followed by their count */
	const char *legend_above; /* split: the legend of the bars above `mark` */
	double mark;              /* a vertical line at this value (NaN: none) */
	const char *mark_label;   /* its legend ("observed 0.853") */
	int mark_dashed;          /* 1: black dashed (a reference: chance); 0: solid red */
	int split;                /* 1: a bin edge at `mark`, bins (a, b], the bins above
				   * `mark` coloured and counted apart: exactly the values
				   * > mark (a value equal to it is not above) */
	double p_value;           /* in the legend (NaN: not shown) */
	int integer;              /* 1: whole numbers, one bin each (when they span <= 40), no split */
} nidec_svg_hist_opts;

#define NIDEC_SVG_HIST_OPTS_INIT { "histogram", "values", NULL, "values", NULL, NAN, NULL, 0, 0, NAN, 0 }

/* Histogram of the finite values of v[n] (10 to 40 bins over their range
 * and `mark`'s). */
int nidec_svg_hist(nidec_sbuf *out, const double *v, size_t n, const nidec_svg_hist_opts *o);

/* Histogram of `n` null scores with a vertical line at `observed` and the
 * p-value in the legend (NaN: not shown); nidec_svg_hist with the
 * permutation test's labels. */
int nidec_svg_histogram(nidec_sbuf *out, const double *null, size_t n, double observed,
			double p_value, const char *xlabel);

/* Predicted against true values (a regression, issue 18): one dot per
 * sample at (x[i], y[i]), coloured by group[i] (its outer fold; NULL: one
 * colour), the identity line dashed; non-finite points are skipped.  Both
 * axes span the same range. */
int nidec_svg_scatter(nidec_sbuf *out, const double *x, const double *y, const int *group, size_t n,
		      const char *title, const char *xlabel, const char *ylabel);

/* Per-subject scores of a group (nidec_svg_subjects).  Arrays are borrowed. */
typedef struct nidec_svg_subjects_data {
	size_t n_subjects, n_series, n_folds;
	const char *const *subject;  /* [n_subjects] labels drawn under the groups */
	const int *failed;           /* [n_subjects] 1: no scores, drawn as "failed" */
	const char *const *series;   /* [n_series] (the classes) */
	const double *mean;          /* [n_subjects * n_series] the bars (NaN: none) */
	const double *folds;         /* [(s * n_series + k) * n_folds + f] each fold's score,
				      * NaN-padded (NULL: no folds drawn) */
	const double *group_mean;    /* [n_series] a line each (NaN or NULL: none) */
	double chance;               /* a dashed line (NaN: none) */
	const char *ylabel;
} nidec_svg_subjects_data;

/* One group of bars per subject, one bar per series: the subject's mean
 * score, its folds' scores as dots (class "fold") and their range as a
 * whisker; the chance level dashed, each series' group mean as a line.
 * Each bar's <title> reads "sub-LABEL, SERIES: mean M (N folds)". */
int nidec_svg_subjects(nidec_sbuf *out, const nidec_svg_subjects_data *d);

/* Append `s` with &, <, >, " and ' escaped. */
int nidec_html_escape(nidec_sbuf *out, const char *s);

#endif
