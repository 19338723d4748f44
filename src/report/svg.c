/*
 * svg.c - the charts of report.html as inline SVG: per-fold scores with the
 * chance level, and histograms (the permutation null distribution with the
 * observed score; a searchlight's sphere scores split at chance).  Inline SVG needs no script, no font file and no network, scales
 * with the page, prints sharply, and its text can be searched and copied.
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

int nidec_svg_hist(nidec_sbuf *out, const double *v, size_t n, const nidec_svg_hist_opts *o)
{
	const double W = 760, H = 260, L = 56, R = 190, T = 16, B = 44;
	double pw = W - L - R, ph = H - T - B, lo = INFINITY, hi = -INFINITY, width, step, x, bw, dmin, dmax;
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
	if (!isfinite(lo)) {
		lo = 0;
		hi = 1;
	}
	if (hi - lo < 1e-9) {
		lo -= 0.05;
		hi += 0.05;
	}
	width = hi - lo;
	lo -= 0.05 * width;
	hi += 0.05 * width;
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
