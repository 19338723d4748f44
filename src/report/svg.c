/*
 * svg.c - the charts of report.html as inline SVG: per-fold scores with the
 * chance level, histograms (the permutation null distribution with the
 * observed score; a searchlight's sphere scores split at chance), and a
 * sweep's per-subject scores with their folds.  Inline SVG needs no
 * script, no font file and no network, scales with the page, prints
 * sharply, and its text can be searched and copied.
 *
 * Everything is drawn from numbers the caller read from the result files;
 * nothing is recomputed here beyond axis ranges and histogram counts.
 * Coordinates are printed with "%.1f" (the program runs in the C locale, so
 * the decimal separator is '.').  No MPI, no I/O; base only.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nidec/mem.h"
#include "svg.h"

static const char *const palette[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
				       "#9467bd", "#8c564b", "#e377c2", "#7f7f7f" };
#define N_PALETTE (sizeof(palette) / sizeof(palette[0]))
#define BAR_FILL "#9aa7b8"        /* histogram bars */
#define ABOVE_FILL "#e6550d"      /* histogram bars above the mark (split) */

int nidec_html_escape(nidec_sbuf *out, const char *s)
{
	const char *p;
	int rc = 0;

	for (p = s; *p && rc == 0; p++) {
		switch (*p) {
		case '&': rc = nidec_sbuf_adds(out, "&amp;"); break;
		case '<': rc = nidec_sbuf_adds(out, "&lt;"); break;
		case '>': rc = nidec_sbuf_adds(out, "&gt;"); break;
		case '"': rc = nidec_sbuf_adds(out, "&quot;"); break;
		case '\'': rc = nidec_sbuf_adds(out, "&#39;"); break;
		default: rc = nidec_sbuf_add(out, p, 1); break;
		}
	}
	return rc;
}

/* A "nice" tick step near range/n (1, 2 or 5 times a power of ten). */
static double nice_step(double range, int n)
{
	double raw = range / n, mag, f;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void fmt_tick(char *buf, size_t n, double v, double step)
{
	int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

	if (fabs(v) < step * 1e-6)
		v = 0;
	snprintf(buf, n, "%.*f", dec > 6 ? 6 : dec, v);
}

/* An axis over the data's [lo, hi]: [0, 1] when there is none, widened by
 * `widen` on each side when narrower than `tiny`, then a 5 % margin. */
static void axis_range(double *lo, double *hi, double tiny, double widen)
{
	double w;

	if (!isfinite(*lo)) {
		*lo = 0;
		*hi = 1;
	}
	if (*hi - *lo < tiny) {
		*lo -= widen;
		*hi += widen;
	}
	w = *hi - *lo;
	*lo -= 0.05 * w;
	*hi += 0.05 * w;
}

int nidec_svg_fold_scores(nidec_sbuf *out, const char *const *series, size_t n_series,
			  const double *score, size_t n_folds, double chance, const char *ylabel)
{
	const double W = 760, H = 280, L = 56, R = 190, T = 16, B = 44;
	double lo = 0, hi = 1, pw = W - L - R, ph = H - T - B, step, v, gw, bw;
	size_t s, f, n_ok;
	int rc = 0;
	char buf[64];

	for (s = 0; s < n_series * n_folds; s++)
		if (isfinite(score[s])) {
			if (score[s] < lo)
				lo = score[s];
			if (score[s] > hi)
				hi = score[s];
		}
#define Y(val) (T + ph * (1 - ((val) - lo) / (hi - lo)))
	rc |= nidec_sbuf_addf(out, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
			      "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">"
			      "<title>score per fold</title>\n", W, H, W, H);
	/* axes and grid */
	step = nice_step(hi - lo, 5);
	for (v = ceil(lo / step) * step; v <= hi + step * 1e-6; v += step) {
		fmt_tick(buf, sizeof(buf), v, step);
		rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
				      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">%s</text>\n",
				      L, Y(v), L + pw, Y(v), L - 6, Y(v) + 4, buf);
	}
	rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
			      L, T + ph, L + pw, T + ph);
	rc |= nidec_sbuf_addf(out, "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" "
			      "text-anchor=\"middle\" class=\"axis\">", T + ph / 2, T + ph / 2);
	rc |= nidec_html_escape(out, ylabel ? ylabel : "score");
	rc |= nidec_sbuf_addf(out, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis\">"
			      "outer fold</text>\n", L + pw / 2, H - 6);
	/* bars */
	gw = n_folds ? pw / (double)n_folds : pw;
	bw = n_series ? gw * 0.8 / (double)n_series : gw;
	for (f = 0; f < n_folds; f++) {
		double gx = L + gw * (double)f + gw * 0.1;
		for (s = 0; s < n_series; s++) {
			double x = score[s * n_folds + f], y0 = Y(0.0); /* lo <= 0 <= hi */
			if (!isfinite(x))
				continue;
			double y = Y(x);
			rc |= nidec_sbuf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
					      "fill=\"%s\"><title>", gx + bw * (double)s, y < y0 ? y : y0,
					      bw > 1 ? bw - 0.5 : bw, fabs(y0 - y), palette[s % N_PALETTE]);
			rc |= nidec_html_escape(out, series[s]);
			rc |= nidec_sbuf_addf(out, ", fold %zu: %.4f</title></rect>\n", f, x);
		}
		if (n_folds <= 30 || f % 5 == 0)
			rc |= nidec_sbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
					      "class=\"tick\">%zu</text>\n", L + gw * ((double)f + 0.5), T + ph + 16, f);
	}
	/* means, chance, legend */
	for (s = 0; s < n_series; s++) {
		double m = 0;
		n_ok = 0;
		for (f = 0; f < n_folds; f++)
			if (isfinite(score[s * n_folds + f])) {
				m += score[s * n_folds + f];
				n_ok++;
			}
		rc |= nidec_sbuf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
				      "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">", L + pw + 12,
				      T + 4 + 20.0 * (double)s, palette[s % N_PALETTE], L + pw + 30,
				      T + 14 + 20.0 * (double)s);
		rc |= nidec_html_escape(out, series[s]);
		if (n_ok) {
			m /= (double)n_ok;
			rc |= nidec_sbuf_addf(out, " (mean %.3f)</text>\n", m);
			rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
					      "stroke=\"%s\" stroke-width=\"1.5\" opacity=\"0.8\"/>\n",
					      L, Y(m), L + pw, Y(m), palette[s % N_PALETTE]);
		} else {
			rc |= nidec_sbuf_adds(out, "</text>\n");
		}
	}
	if (isfinite(chance) && chance >= lo && chance <= hi) {
		double ly = T + 4 + 20.0 * (double)n_series;
		rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
				      "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
				      L, Y(chance), L + pw, Y(chance));
		rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
				      "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
				      "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">chance (%.3g)</text>\n",
				      L + pw + 10, ly + 6, L + pw + 26, ly + 6, L + pw + 30, ly + 10, chance);
	}
#undef Y
	rc |= nidec_sbuf_adds(out, "</svg>\n");
	return rc ? NIDEC_ENOMEM : 0;
}

int nidec_svg_scatter(nidec_sbuf *out, const double *x, const double *y, const int *group, size_t n,
		      const char *title, const char *xlabel, const char *ylabel)
{
	static const char *const colour[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
					      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };
	const double W = 420, H = 420, L = 56, T = 16, B = 44, R = 16;
	double pw = W - L - R, ph = H - T - B, lo = INFINITY, hi = -INFINITY, w;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (isfinite(x[i]) && isfinite(y[i])) {
			lo = fmin(lo, fmin(x[i], y[i]));
			hi = fmax(hi, fmax(x[i], y[i]));
		}
	axis_range(&lo, &hi, 1e-12, 0.5);
	w = hi - lo;
#define SX(v) (L + ((v) - lo) / w * pw)
#define SY(v) (T + ph - ((v) - lo) / w * ph)
	rc |= nidec_sbuf_addf(out, "<svg class=\"chart\" viewBox=\"0 0 %g %g\" role=\"img\"><title>", W, H);
	rc |= nidec_html_escape(out, title);
	rc |= nidec_sbuf_addf(out, "</title>\n<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#999\"/>\n",
			      L, T, pw, ph);
	rc |= nidec_sbuf_addf(out, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>\n",
			      SX(lo), SY(lo), SX(hi), SY(hi));
	for (i = 0; i < n; i++)
		if (isfinite(x[i]) && isfinite(y[i]))
			rc |= nidec_sbuf_addf(out, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"%s\" fill-opacity=\"0.7\"/>\n",
					      SX(x[i]), SY(y[i]),
					      colour[group && group[i] >= 0 ? (size_t)group[i] % 10 : 0]);
	rc |= nidec_sbuf_addf(out, "<text x=\"%g\" y=\"%g\" font-size=\"12\">%.3g</text>"
			      "<text x=\"%g\" y=\"%g\" font-size=\"12\" text-anchor=\"end\">%.3g</text>\n",
			      L, H - B + 16, lo, L + pw, H - B + 16, hi);
	rc |= nidec_sbuf_addf(out, "<text x=\"%g\" y=\"%g\" font-size=\"12\" text-anchor=\"end\">%.3g</text>"
			      "<text x=\"%g\" y=\"%g\" font-size=\"12\" text-anchor=\"end\">%.3g</text>\n",
			      L - 4, T + ph, lo, L - 4, T + 10, hi);
	rc |= nidec_sbuf_addf(out, "<text x=\"%g\" y=\"%g\" font-size=\"12\" text-anchor=\"middle\">", L + pw / 2, H - 8);
	rc |= nidec_html_escape(out, xlabel);
	rc |= nidec_sbuf_addf(out, "</text><text x=\"14\" y=\"%g\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 %g)\">",
			      T + ph / 2, T + ph / 2);
	rc |= nidec_html_escape(out, ylabel);
	rc |= nidec_sbuf_adds(out, "</text>\n</svg>\n");
#undef SX
#undef SY
	return rc ? NIDEC_ENOMEM : 0;
}

int nidec_svg_hist(nidec_sbuf *out, const double *v, size_t n, const nidec_svg_hist_opts *o)
{
	const double W = 760, H = 260, L = 56, R = 190, T = 16, B = 44;
	double pw = W - L - R, ph = H - T - B, lo = INFINITY, hi = -INFINITY, step, x, bw, dmin, dmax;
	size_t *count = NULL, i, nb, cmax = 1, n_ok = 0, n_above = 0, nb_below = 0;
	int rc = 0, split = o->split && isfinite(o->mark);
	char buf[64];

	for (i = 0; i < n; i++)
		if (isfinite(v[i])) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
			n_ok++;
			n_above += split && v[i] > o->mark;
		}
	dmin = lo;
	dmax = hi;
	if (isfinite(o->mark)) {
		lo = o->mark < lo ? o->mark : lo;
		hi = o->mark > hi ? o->mark : hi;
	}
	axis_range(&lo, &hi, 1e-9, 0.05);
	nb = (size_t)ceil(sqrt((double)n_ok));
	nb = nb < 10 ? 10 : nb > 40 ? 40 : nb;
	bw = (hi - lo) / (double)nb;
	if (o->integer && !split && n_ok && dmax - dmin <= 39) {
		/* one bin per whole number: [k - .5, k + .5) */
		lo = floor(dmin + 0.5) - 0.5;
		nb = (size_t)(floor(dmax + 0.5) - floor(dmin + 0.5)) + 1;
		bw = 1;
		hi = lo + (double)nb;
	} else if (split) {
		/* a bin edge at the mark: nb_below bins below it, the rest above
		 * (lo < mark < hi after the padding above) */
		nb_below = (size_t)ceil((o->mark - lo) / bw);
		if (nb_below < 1)
			nb_below = 1;
		lo = o->mark - (double)nb_below * bw;
		nb = nb_below + (size_t)ceil((hi - o->mark) / bw);
		if (nb == nb_below)
			nb++;
		hi = lo + (double)nb * bw;
	}
	count = nidec_calloc(nb, sizeof(*count));
	if (!count)
		return NIDEC_ENOMEM;
	for (i = 0; i < n; i++)
		if (isfinite(v[i])) {
			size_t b;
			if (split) {
				/* bins (a, b]: a value equal to the mark is not above it;
				 * which side of the mark decides, not rounding */
				double q = ceil((v[i] - lo) / bw) - 1;
				b = q < 0 ? 0 : (size_t)q;
				if (v[i] > o->mark && b < nb_below)
					b = nb_below;
				else if (!(v[i] > o->mark) && b >= nb_below)
					b = nb_below - 1;
			} else {
				b = (size_t)((v[i] - lo) / (hi - lo) * (double)nb);
			}
			if (b >= nb)
				b = nb - 1;
			if (++count[b] > cmax)
				cmax = count[b];
		}
#define X(val) (L + pw * ((val) - lo) / (hi - lo))
#define Y(c) (T + ph * (1 - (double)(c) / (double)cmax))
	rc |= nidec_sbuf_addf(out, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
			      "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"><title>", W, H, W, H);
	rc |= nidec_html_escape(out, o->title);
	rc |= nidec_sbuf_adds(out, "</title>\n");
	for (i = 0; i < nb; i++) {
		double x0 = X(lo + (hi - lo) * (double)i / (double)nb), x1 = X(lo + (hi - lo) * (double)(i + 1) / (double)nb);
		if (!count[i])
			continue;
		rc |= nidec_sbuf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
				      "stroke=\"#fff\" stroke-width=\"0.5\"><title>%zu ", x0, Y(count[i]), x1 - x0,
				      T + ph - Y(count[i]), split && i >= nb_below ? ABOVE_FILL : BAR_FILL, count[i]);
		rc |= nidec_html_escape(out, o->counted);
		rc |= nidec_sbuf_adds(out, "</title></rect>\n");
	}
	rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
			      L, T + ph, L + pw, T + ph);
	step = nice_step(hi - lo, 6);
	for (x = ceil(lo / step) * step; x <= hi; x += step) {
		fmt_tick(buf, sizeof(buf), x, step);
		rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
				      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tick\">%s</text>\n",
				      X(x), T + ph, X(x), T + ph + 4, X(x), T + ph + 17, buf);
	}
	step = nice_step((double)cmax, 4);
	if (step < 1)
		step = 1;
	for (x = 0; x <= (double)cmax; x += step)
		rc |= nidec_sbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">%.0f</text>\n",
				      L - 6, Y(x) + 4, x);
	rc |= nidec_sbuf_addf(out, "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" "
			      "text-anchor=\"middle\" class=\"axis\">", T + ph / 2, T + ph / 2);
	rc |= nidec_html_escape(out, o->counted);
	rc |= nidec_sbuf_adds(out, "</text>");
	rc |= nidec_sbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis\">",
			      L + pw / 2, H - 6);
	rc |= nidec_html_escape(out, o->xlabel ? o->xlabel : "score");
	rc |= nidec_sbuf_adds(out, "</text>\n");
	rc |= nidec_sbuf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			      "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">", L + pw + 12, T + 4, BAR_FILL,
			      L + pw + 30, T + 14);
	rc |= nidec_html_escape(out, o->legend);
	rc |= nidec_sbuf_addf(out, " (%zu)</text>\n", n_ok - n_above);
	if (split) {
		rc |= nidec_sbuf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
				      "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">", L + pw + 12, T + 22,
				      ABOVE_FILL, L + pw + 30, T + 32);
		rc |= nidec_html_escape(out, o->legend_above ? o->legend_above : "above");
		rc |= nidec_sbuf_addf(out, " (%zu)</text>\n", n_above);
	}
	if (isfinite(o->mark)) {
		double my = T + (split ? 48 : 30);
		const char *style = o->mark_dashed ? "stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\""
						   : "stroke=\"#d62728\" stroke-width=\"2.5\"";
		rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/>\n",
				      X(o->mark), T, X(o->mark), T + ph, style);
		rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" %s/><text x=\"%.1f\" "
				      "y=\"%.1f\" class=\"legend\">", L + pw + 10, my, L + pw + 26, my, style,
				      L + pw + 30, my + 4);
		rc |= nidec_html_escape(out, o->mark_label ? o->mark_label : "");
		rc |= nidec_sbuf_adds(out, "</text>\n");
	}
	if (isfinite(o->p_value))
		rc |= nidec_sbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">p = %.4g</text>\n",
				      L + pw + 12, T + (split ? 74 : 56), o->p_value);
#undef X
#undef Y
	rc |= nidec_sbuf_adds(out, "</svg>\n");
	nidec_free(count);
	return rc ? NIDEC_ENOMEM : 0;
}

int nidec_svg_histogram(nidec_sbuf *out, const double *null, size_t n, double observed,
			double p_value, const char *xlabel)
{
	nidec_svg_hist_opts o = NIDEC_SVG_HIST_OPTS_INIT;
	char label[64];

	snprintf(label, sizeof(label), "observed %.3f", observed);
	o.title = "permutation null distribution";
	o.counted = "permutations";
	o.legend = "null";
	o.xlabel = xlabel;
	o.mark = observed;
	o.mark_label = label;
	o.p_value = p_value;
	return nidec_svg_hist(out, null, n, &o);
}

int nidec_svg_subjects(nidec_sbuf *out, const nidec_svg_subjects_data *d)
{
	const double T = 16, H0 = 300, L = 56, R = 210;
	int rotate = d->n_subjects > 16;
	double B = rotate ? 84 : 50, W = 760, H, pw, ph, lo = 0, hi = 1, gw, bw, step, v;
	size_t s, k, f, nf = d->folds ? d->n_folds : 0;
	int rc = 0;
	char buf[64];

	/* room for every bar: at least 14 px a bar and 10 between subjects */
	if (L + R + (double)d->n_subjects * (14.0 * (double)d->n_series + 10) > W)
		W = L + R + (double)d->n_subjects * (14.0 * (double)d->n_series + 10);
	H = H0 + (rotate ? B - 50 : 0);
	pw = W - L - R;
	ph = H - T - B;
	for (s = 0; s < d->n_subjects * d->n_series; s++) {
		if (isfinite(d->mean[s])) {
			lo = d->mean[s] < lo ? d->mean[s] : lo;
			hi = d->mean[s] > hi ? d->mean[s] : hi;
		}
		for (f = 0; f < nf; f++) {
			double x = d->folds[s * nf + f];
			if (isfinite(x)) {
				lo = x < lo ? x : lo;
				hi = x > hi ? x : hi;
			}
		}
	}
#define Y(val) (T + ph * (1 - ((val) - lo) / (hi - lo)))
	rc |= nidec_sbuf_addf(out, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
			      "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">"
			      "<title>score of each subject</title>\n", W, H, W, H);
	step = nice_step(hi - lo, 5);
	for (v = ceil(lo / step) * step; v <= hi + step * 1e-6; v += step) {
		fmt_tick(buf, sizeof(buf), v, step);
		rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
				      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">%s</text>\n",
				      L, Y(v), L + pw, Y(v), L - 6, Y(v) + 4, buf);
	}
	rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
			      L, T + ph, L + pw, T + ph);
	rc |= nidec_sbuf_addf(out, "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" "
			      "text-anchor=\"middle\" class=\"axis\">", T + ph / 2, T + ph / 2);
	rc |= nidec_html_escape(out, d->ylabel ? d->ylabel : "score");
	rc |= nidec_sbuf_addf(out, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"axis\">"
			      "subject</text>\n", L + pw / 2, H - 6);
	gw = d->n_subjects ? pw / (double)d->n_subjects : pw;
	bw = d->n_series ? gw * 0.8 / (double)d->n_series : gw;
	for (s = 0; s < d->n_subjects; s++) {
		double gx = L + gw * (double)s, cx = gx + gw / 2, ly = T + ph + 16;
		int failed = d->failed && d->failed[s];

		if (failed)
			rc |= nidec_sbuf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
					      "fill=\"#fdecea\"/>\n", gx + 1, T, gw - 2, ph);
		for (k = 0; k < d->n_series; k++) {
			size_t i = s * d->n_series + k, n_ok = 0;
			double m = d->mean[i], bx = gx + gw * 0.1 + bw * (double)k, mx = bx + bw / 2;
			double fmin = INFINITY, fmax = -INFINITY;

			for (f = 0; f < nf; f++) {
				double x = d->folds[i * nf + f];
				if (isfinite(x)) {
					fmin = x < fmin ? x : fmin;
					fmax = x > fmax ? x : fmax;
					n_ok++;
				}
			}
			if (isfinite(m)) {
				double y = Y(m), y0 = Y(0.0); /* lo <= 0 <= hi */
				rc |= nidec_sbuf_addf(out, "<rect class=\"subject\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
						      "height=\"%.1f\" fill=\"%s\" opacity=\"0.8\"><title>",
						      bx, y < y0 ? y : y0, bw > 1 ? bw - 0.5 : bw, fabs(y0 - y),
						      palette[k % N_PALETTE]);
				rc |= nidec_html_escape(out, d->subject[s]);
				rc |= nidec_sbuf_adds(out, ", ");
				rc |= nidec_html_escape(out, d->series[k]);
				rc |= nidec_sbuf_addf(out, ": mean %.4f (%zu fold%s)</title></rect>\n", m, n_ok,
						      n_ok == 1 ? "" : "s");
			}
			if (n_ok >= 2)
				rc |= nidec_sbuf_addf(out, "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fH%.1f\" "
						      "stroke=\"#333\" fill=\"none\"/>\n", mx - 3, Y(fmax), mx + 3,
						      mx, Y(fmax), Y(fmin), mx - 3, Y(fmin), mx + 3);
			for (f = 0; f < nf; f++) {
				double x = d->folds[i * nf + f];
				/* spread the dots over half the bar, in fold order */
				double jx = nf > 1 ? mx + bw * 0.5 * ((double)f / (double)(nf - 1) - 0.5) : mx;
				if (!isfinite(x))
					continue;
				rc |= nidec_sbuf_addf(out, "<circle class=\"fold\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" "
						      "fill=\"#fff\" stroke=\"#222\" stroke-width=\"0.8\"><title>fold %zu: "
						      "%.4f</title></circle>\n", jx, Y(x), f, x);
			}
		}
		if (rotate)
			rc |= nidec_sbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" transform=\"rotate(-60 %.1f %.1f)\" "
					      "text-anchor=\"end\" class=\"tick\"%s>", cx + 3, ly - 4, cx + 3, ly - 4,
					      failed ? " fill=\"#c0392b\"" : "");
		else
			rc |= nidec_sbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tick\"%s>",
					      cx, ly, failed ? " fill=\"#c0392b\"" : "");
		rc |= nidec_html_escape(out, d->subject[s]);
		rc |= nidec_sbuf_adds(out, failed && rotate ? " (failed)</text>\n" : "</text>\n");
		if (failed && !rotate)
			rc |= nidec_sbuf_addf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tick\" "
					      "fill=\"#c0392b\">failed</text>\n", cx, ly + 14);
	}
	/* group means, chance, legend */
	for (k = 0; k < d->n_series; k++) {
		double gm = d->group_mean ? d->group_mean[k] : NAN, ly = T + 4 + 20.0 * (double)k;
		rc |= nidec_sbuf_addf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
				      "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">", L + pw + 12, ly,
				      palette[k % N_PALETTE], L + pw + 30, ly + 10);
		rc |= nidec_html_escape(out, d->series[k]);
		if (isfinite(gm)) {
			rc |= nidec_sbuf_addf(out, " (group mean %.3f)</text>\n", gm);
			rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
					      "stroke=\"%s\" stroke-width=\"1.5\" opacity=\"0.8\"/>\n",
					      L, Y(gm), L + pw, Y(gm), palette[k % N_PALETTE]);
		} else {
			rc |= nidec_sbuf_adds(out, "</text>\n");
		}
	}
	{
		double ly = T + 4 + 20.0 * (double)d->n_series;
		if (nf)
			rc |= nidec_sbuf_addf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"#fff\" stroke=\"#222\" "
					      "stroke-width=\"0.8\"/><text x=\"%.1f\" y=\"%.1f\" class=\"legend\">a fold "
					      "(bar: range)</text>\n", L + pw + 18, ly + 6, L + pw + 30, ly + 10);
		ly += 20;
		if (isfinite(d->chance) && d->chance >= lo && d->chance <= hi) {
			rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
					      "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n",
					      L, Y(d->chance), L + pw, Y(d->chance));
			rc |= nidec_sbuf_addf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
					      "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
					      "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">chance (%.3g)</text>\n",
					      L + pw + 10, ly + 6, L + pw + 26, ly + 6, L + pw + 30, ly + 10, d->chance);
		}
	}
#undef Y
	rc |= nidec_sbuf_adds(out, "</svg>\n");
	return rc ? NIDEC_ENOMEM : 0;
}
