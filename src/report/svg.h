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

#include <stddef.h>

#include "nidec/sbuf.h"

/* Grouped bars: for each fold f, one bar per series s of height
 * score[s * n_folds + f] (NaN: no bar), on a 0..1 axis (or the data's range
 * when it leaves 0..1); a dashed line at `chance` unless it is NaN, and one
 * at each series' mean. */
int nidec_svg_fold_scores(nidec_sbuf *out, const char *const *series, size_t n_series,
			  const double *score, size_t n_folds, double chance, const char *ylabel);

/* Histogram of `n` null scores with a vertical line at `observed` and the
 * p-value in the legend (NaN: not shown). */
int nidec_svg_histogram(nidec_sbuf *out, const double *null, size_t n, double observed,
			double p_value, const char *xlabel);

/* Append `s` with &, <, >, " and ' escaped. */
int nidec_html_escape(nidec_sbuf *out, const char *s);

#endif
