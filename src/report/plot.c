/*
 * plot.c - mosaics of brain slices: mean EPI in grey, a mask (ROI) over a
 * background, a statistical map (SVM weights) over a background, in the
 * manner of nilearn's plot_epi / plot_roi / plot_stat_map.
 *
 * How a figure is made (see plot.h for the contract):
 *  1. choose the cut planes: given in mm, or evenly spaced slices of the
 *     shown image's non-zero extent along the view's normal;
 *  2. the panel frame is the background's world bounding box (the image's
 *     when there is no background) on the two in-plane axes; one scale in
 *     pixels per mm for both axes, so the aspect ratio is the voxel sizes';
 *  3. each pixel centre is a world point, mapped into each layer's voxel
 *     grid with the inverse affine and rounded (nearest neighbour); for
 *     speed (the report draws six to twenty figures at the end of every
 *     run) an axis-aligned layer is mapped once per panel column and row,
 *     a pixel row whose voxels are those of the row above is copied, and a
 *     colour is computed once per run of pixels on one voxel: the same
 *     pixels as mapping every pixel (see struct panel_map);
 *  4. layers: grey background with robust limits (2nd-98th percentile of
 *     the non-zero voxels; dimmed under overlays), then the mask fill and
 *     outline, or the stat map in nilearn's "cold_hot" colours, symmetric
 *     around 0, transparent at |value| <= threshold, with a colorbar;
 *  5. letters (L/R, A/P, S/I), cut coordinates, title and the declared
 *     convention ("neurological: left is on the left") in font.c's font.
 *
 * Invariants: nothing here depends on the data being axis-aligned (oblique
 * affines work; the labels then name the nearest world axis); no layer is
 * interpolated, so a voxel is always a block of one colour, as nilearn
 * shows masks.  Depends on base, io (nii.h for loading) and libpng via
 * png.c; no MPI.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/mem.h"
#include "nidec/nii.h"
#include "nidec/plot.h"
#include "nidec/sbuf.h"

#define SCALE 2                 /* font scale for labels */
#define TITLE_SCALE 3           /* font scale for the title */
#define MARGIN 12               /* figure border, pixels */
#define GAP 8                   /* between panels */
#define BAND 24                 /* label band around each panel's image */
#define AUTO_CUTS 7             /* at most this many automatic cuts */
#define MAX_FIG_W 1500          /* mosaic wraps to stay below this width */

#define BLACK 0x000000ffu
#define WHITE 0xffffffffu
#define LIGHT 0xd0d0d0ffu
#define ROI_FILL 0xff302090u    /* red, ~56% opaque */
#define ROI_EDGE 0xff5030ffu

/* A layer: a volume and its world -> voxel map. */
struct layer {
	const nidec_vol *v;
	double inv[12];   /* rows 0-2 of the inverse affine */
};

/* The two in-plane world axes and the normal of each view. */
static const int view_u[3] = { 0, 0, 1 };      /* axial x, coronal x, sagittal y */
static const int view_v[3] = { 1, 2, 2 };      /* axial y, coronal z, sagittal z */
static const int view_n[3] = { 2, 1, 0 };      /* axial z, coronal y, sagittal x */
static const char *const view_name[3] = { "axial", "coronal", "sagittal" };
static const char axis_letter[3] = { 'x', 'y', 'z' };
static const char *const neg_letter[3] = { "L", "P", "I" };
static const char *const pos_letter[3] = { "R", "A", "S" };

/* --- small geometry ---------------------------------------------------- */

/* Invert the 3x4 upper part of an affine; -1 if singular. */
static int affine_inverse(const double a[16], double inv[12])
{
	double m[9] = { a[0], a[1], a[2], a[4], a[5], a[6], a[8], a[9], a[10] };
	double c[9], det;
	int r, k;

	c[0] = m[4] * m[8] - m[5] * m[7];
	c[1] = m[2] * m[7] - m[1] * m[8];
	c[2] = m[1] * m[5] - m[2] * m[4];
	c[3] = m[5] * m[6] - m[3] * m[8];
	c[4] = m[0] * m[8] - m[2] * m[6];
	c[5] = m[2] * m[3] - m[0] * m[5];
	c[6] = m[3] * m[7] - m[4] * m[6];
	c[7] = m[1] * m[6] - m[0] * m[7];
	c[8] = m[0] * m[4] - m[1] * m[3];
	det = m[0] * c[0] + m[1] * c[3] + m[2] * c[6];
	if (!isfinite(det) || fabs(det) < 1e-12)
		return -1;
	for (r = 0; r < 3; r++) {
		double t = 0;
		for (k = 0; k < 3; k++) {
			inv[4 * r + k] = c[3 * r + k] / det;
			t += inv[4 * r + k] * a[4 * k + 3];
		}
		inv[4 * r + 3] = -t;
	}
	return 0;
}

static int layer_init(struct layer *l, const nidec_vol *v, nidec_err *err)
{
	int k;

	l->v = v;
	for (k = 0; k < 3; k++)
		if (v->dims[k] < 1)
			return nidec_fail(err, NIDEC_EFORMAT, "'%s' has dimension %d of size %lld; "
					  "it is not an image", v->name, k + 1, (long long)v->dims[k]);
	if (affine_inverse(v->affine, l->inv) < 0)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' has a singular affine (voxel sizes of 0?); fix its sform/qform "
				  "(e.g. with nibabel) before plotting", v->name);
	return 0;
}

/* Voxel index along axis `a` of the voxel nearest to a world point, or -1
 * outside the grid.  The one place that maps world to voxels: sampling,
 * resampling and the panel tables of draw_panel() all go through it, so
 * they agree to the bit. */
static int64_t layer_axis(const struct layer *l, int a, const double p[3])
{
	double f = l->inv[4 * a] * p[0] + l->inv[4 * a + 1] * p[1] + l->inv[4 * a + 2] * p[2] +
		   l->inv[4 * a + 3];
	double q = floor(f + 0.5);

	if (!(q >= 0) || q >= (double)l->v->dims[a])
		return -1;
	return (int64_t)q;
}

/* Linear index (x fastest) of the voxel nearest to a world point; -1
 * outside the grid. */
static int64_t layer_index(const struct layer *l, const double p[3])
{
	int64_t i = layer_axis(l, 0, p), j = layer_axis(l, 1, p), k = layer_axis(l, 2, p);

	if (i < 0 || j < 0 || k < 0)
		return -1;
	return i + l->v->dims[0] * (j + l->v->dims[1] * k);
}

/* Value at a world point, nearest neighbour; NaN outside the grid. */
static double layer_sample(const struct layer *l, const double p[3])
{
	int64_t q = layer_index(l, p);

	return q < 0 ? NAN : l->v->data[q];
}

/* World bounding box of a grid: lo[3], hi[3] over the voxel corners. */
static void grid_bbox(const nidec_vol *v, double lo[3], double hi[3])
{
	int corner, r;

	for (r = 0; r < 3; r++) {
		lo[r] = INFINITY;
		hi[r] = -INFINITY;
	}
	for (corner = 0; corner < 8; corner++) {
		double idx[3];
		for (r = 0; r < 3; r++)
			idx[r] = (corner >> r & 1) ? (double)v->dims[r] - 0.5 : -0.5;
		for (r = 0; r < 3; r++) {
			double w = v->affine[4 * r] * idx[0] + v->affine[4 * r + 1] * idx[1] +
				   v->affine[4 * r + 2] * idx[2] + v->affine[4 * r + 3];
			if (w < lo[r])
				lo[r] = w;
			if (w > hi[r])
				hi[r] = w;
		}
	}
}

/* The voxel axis most aligned with world axis `w`. */
static int voxel_axis_of(const nidec_vol *v, int w)
{
	int j, best = 0;
	double bm = -1;

	for (j = 0; j < 3; j++) {
		/* column j of the affine, normalised: its share along world axis w */
		double len = sqrt(v->affine[j] * v->affine[j] + v->affine[4 + j] * v->affine[4 + j] +
				  v->affine[8 + j] * v->affine[8 + j]);
		double share = len > 0 ? fabs(v->affine[4 * w + j]) / len : 0;
		if (share > bm) {
			bm = share;
			best = j;
		}
	}
	return best;
}

/* --- limits ------------------------------------------------------------ */

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

int nidec_plot_robust_limits(const float *v, size_t n, double *lo, double *hi, nidec_err *err)
{
	float *tmp;
	size_t i, m = 0;

	tmp = nidec_malloc_e(n ? n : 1, sizeof(*tmp), "display limits", err);
	if (!tmp)
		return NIDEC_ENOMEM;
	for (i = 0; i < n; i++)
		if (isfinite(v[i]) && v[i] != 0)
			tmp[m++] = v[i];
	if (m == 0) {
		*lo = 0;
		*hi = 1;
	} else {
		qsort(tmp, m, sizeof(*tmp), cmp_float);
		/* the linear-interpolation percentile numpy uses by default */
		double p2 = 0.02 * (double)(m - 1), p98 = 0.98 * (double)(m - 1);
		size_t a = (size_t)p2, b = (size_t)p98;
		*lo = tmp[a] + (p2 - (double)a) * (a + 1 < m ? tmp[a + 1] - tmp[a] : 0);
		*hi = tmp[b] + (p98 - (double)b) * (b + 1 < m ? tmp[b + 1] - tmp[b] : 0);
		if (!(*hi > *lo))
			*hi = *lo + 1;
	}
	nidec_free(tmp);
	return 0;
}

/* --- resampling -------------------------------------------------------- */

int nidec_plot_resample_nn(const nidec_vol *src, const nidec_vol *grid, float **out, nidec_err *err)
{
	struct layer ls;
	size_t n, i, j, k, idx = 0;
	float *o;

	NIDEC_TRY(layer_init(&ls, src, err));
	if (nidec_mul_size((size_t)grid->dims[0], (size_t)grid->dims[1], &n) < 0 ||
	    nidec_mul_size(n, (size_t)grid->dims[2], &n) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "'%s' is too large to resample onto", grid->name);
	o = nidec_malloc_e(n, sizeof(*o), "a resampled mask", err);
	if (!o)
		return NIDEC_ENOMEM;
	for (k = 0; k < (size_t)grid->dims[2]; k++)
		for (j = 0; j < (size_t)grid->dims[1]; j++)
			for (i = 0; i < (size_t)grid->dims[0]; i++, idx++) {
				double p[3];
				int r;
				for (r = 0; r < 3; r++)
					p[r] = grid->affine[4 * r] * (double)i + grid->affine[4 * r + 1] * (double)j +
					       grid->affine[4 * r + 2] * (double)k + grid->affine[4 * r + 3];
				double s = layer_sample(&ls, p);
				o[idx] = isnan(s) ? 0.0f : (float)s;
			}
	*out = o;
	return 0;
}

static int same_grid(const nidec_vol *a, const nidec_vol *b)
{
	int r;

	for (r = 0; r < 3; r++)
		if (a->dims[r] != b->dims[r])
			return 0;
	for (r = 0; r < 12; r++)
		if (fabs(a->affine[r] - b->affine[r]) > 1e-4)
			return 0;
	return 1;
}

/* --- option parsing ---------------------------------------------------- */

int nidec_plot_parse_view(const char *s, int *view, nidec_err *err)
{
	if (!strcmp(s, "axial") || !strcmp(s, "z"))
		*view = NIDEC_VIEW_AXIAL;
	else if (!strcmp(s, "coronal") || !strcmp(s, "y"))
		*view = NIDEC_VIEW_CORONAL;
	else if (!strcmp(s, "sagittal") || !strcmp(s, "x"))
		*view = NIDEC_VIEW_SAGITTAL;
	else
		return nidec_fail(err, NIDEC_EINPUT, "--orientation '%s' is not a view; "
				  "use axial, coronal or sagittal", s);
	return 0;
}

int nidec_plot_parse_cuts(const char *s, double **cuts, size_t *n, nidec_err *err)
{
	const char *p;
	double *v;
	size_t k = 0, cap = 1;
	char *end;

	if (!*s)
		return nidec_fail(err, NIDEC_EINPUT, "--cuts is empty; give a count (5) or mm (-12,0,12)");
	if (!strpbrk(s, ",.-+eE")) {
		long c = strtol(s, &end, 10);
		if (*end || c < 1 || c > NIDEC_PLOT_MAX_CUTS)
			return nidec_fail(err, NIDEC_EINPUT, "--cuts '%s' is not a count from 1 to %d "
					  "nor a list of mm coordinates such as -12,0,12",
					  s, NIDEC_PLOT_MAX_CUTS);
		*cuts = NULL;
		*n = (size_t)c;
		return 0;
	}
	for (p = s; *p; p++)
		cap += *p == ',';
	if (cap > NIDEC_PLOT_MAX_CUTS)
		return nidec_fail(err, NIDEC_EINPUT, "--cuts '%s' has more than %d coordinates",
				  s, NIDEC_PLOT_MAX_CUTS);
	v = nidec_malloc_e(cap, sizeof(*v), "cut coordinates", err);
	if (!v)
		return NIDEC_ENOMEM;
	for (p = s; *p;) {
		double x = strtod(p, &end);
		if (end == p || !isfinite(x) || (*end && *end != ',')) {
			nidec_free(v);
			return nidec_fail(err, NIDEC_EINPUT, "--cuts '%s': '%s' is not a number of mm; "
					  "write coordinates as -12,0,12 (with '.' as decimal separator)",
					  s, p);
		}
		v[k++] = x;
		p = *end ? end + 1 : end;
	}
	*cuts = v;
	*n = k;
	return 0;
}

/* --- loading ----------------------------------------------------------- */

int nidec_plot_load(const char *path, int need, long volume, const char *what,
		    nidec_vol *vol, float **data, nidec_err *err)
{
	nidec_nii_stream *st = NULL;
	const nidec_nii *h;
	float *out = NULL, *buf = NULL;
	double *acc = NULL;
	size_t nv, t, i, nt;
	int rc = 0, r;

	NIDEC_TRY_GOTO(rc, nidec_nii_stream_open(path, &st, err), done);
	h = nidec_nii_stream_header(st);
	nt = h->ndim >= 4 && h->dims[3] > 1 ? (size_t)h->dims[3] : 1;
	if (need == 3 && nt > 1) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"%s '%s' is 4D (%lldx%lldx%lldx%lld) but a 3D image is needed; "
				"give one volume (e.g. the mean over time) or use 'nidec plot epi' for a series",
				what, path, (long long)h->dims[0], (long long)h->dims[1],
				(long long)h->dims[2], (long long)h->dims[3]);
		goto done;
	}
	if (volume >= 0 && (size_t)volume >= nt) {
		if (nt == 1)
			rc = nidec_fail(err, NIDEC_EINPUT,
					"%s '%s' is 3D (%lldx%lldx%lld), so it has no volume %ld; "
					"give a 4D series or drop --volume", what, path, (long long)h->dims[0],
					(long long)h->dims[1], (long long)h->dims[2], volume);
		else
			rc = nidec_fail(err, NIDEC_EINPUT, "%s '%s' has %zu volumes, so it has no volume %ld; "
					"--volume counts from 0", what, path, nt, volume);
		goto done;
	}
	nv = h->n_vox3;
	out = nidec_malloc_e(nv, sizeof(*out), "an image to plot", err);
	if (!out) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	if (volume >= 0 || nt == 1) {
		/* skip to the volume wanted (n_idx = 0 skips) */
		static const size_t no_voxel = 0;
		for (t = 0; t < (volume > 0 ? (size_t)volume : 0); t++)
			NIDEC_TRY_GOTO(rc, nidec_nii_stream_read(st, &no_voxel, 0, out, err), done);
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_read(st, NULL, nv, out, err), done);
	} else {
		/* the mean over time, one volume in memory, sums in double */
		acc = nidec_calloc_e(nv, sizeof(*acc), "a mean image", err);
		buf = nidec_malloc_e(nv, sizeof(*buf), "one volume", err);
		if (!acc || !buf) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		for (t = 0; t < nt; t++) {
			NIDEC_TRY_GOTO(rc, nidec_nii_stream_read(st, NULL, nv, buf, err), done);
			for (i = 0; i < nv; i++)
				acc[i] += buf[i];
		}
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_finish(st, err), done);
		for (i = 0; i < nv; i++)
			out[i] = (float)(acc[i] / (double)nt);
	}
	for (r = 0; r < 3; r++)
		vol->dims[r] = h->dims[r];
	memcpy(vol->affine, h->affine, sizeof(vol->affine));
	vol->data = out;
	vol->name = path;
	*data = out;
	out = NULL;
done:
	nidec_free(out);
	nidec_free(buf);
	nidec_free(acc);
	nidec_nii_stream_close(&st);
	return rc;
}

/* --- colours ----------------------------------------------------------- */

static uint32_t rgb(double r, double g, double b)
{
	unsigned R = (unsigned)lround(255 * (r < 0 ? 0 : r > 1 ? 1 : r));
	unsigned G = (unsigned)lround(255 * (g < 0 ? 0 : g > 1 ? 1 : g));
	unsigned B = (unsigned)lround(255 * (b < 0 ? 0 : b > 1 ? 1 : b));
	return R << 24 | G << 16 | B << 8 | 0xff;
}

static uint32_t grey(double t)
{
	return rgb(t, t, t);
}

/* nilearn's "cold_hot": black -> red -> yellow -> white for t in (0, 1],
 * black -> blue -> cyan -> white for t in [-1, 0) (matplotlib's "hot",
 * with red and blue swapped on the negative side). */
static uint32_t cold_hot(double t)
{
	double a = fabs(t);
	double x = a > 1 ? 1 : a;
	double c1 = x / 0.365, c2 = (x - 0.365) / (0.746 - 0.365), c3 = (x - 0.746) / (1 - 0.746);

	/* keep the weakest shown colour visible on black: start at 25% */
	if (c1 < 0.25)
		c1 = 0.25;
	return t >= 0 ? rgb(c1, c2, c3) : rgb(c3, c2, c1);
}

/* --- layout ------------------------------------------------------------ */

struct panel {
	double cut;          /* world coordinate on the normal */
	int bx, by, bw, bh;  /* box, with its label bands */
	int ix, iy;          /* top-left pixel of the image in the box */
};

struct figure {
	const nidec_plot_opts *o;
	struct layer main, back;
	int has_back;
	const float *roi;     /* roi: the mask on the background grid (or img) */
	nidec_vol roi_vol;
	struct layer roi_l;
	double glo, ghi;      /* grey limits of the background */
	double vmax;          /* stat */
	int one_sided;        /* stat: no negative value, so the scale is 0..vmax */
	double u0, u1, v0, v1;/* world frame of the panels */
	double s;             /* pixels per mm */
	int iw, ih;           /* image size of one panel */
	size_t n;             /* panels */
	struct panel *p;
	int cols, rows;
	int title_h, foot_h, cbar_w;
	int W, H;
};

/* Cut positions: given, or evenly spaced slices of the non-zero extent of
 * the shown image along the view's normal. */
static int choose_cuts(struct figure *f, const nidec_vol *img, nidec_err *err)
{
	const nidec_plot_opts *o = f->o;
	int w = view_n[o->view], j = voxel_axis_of(img, w);
	int64_t lo = -1, hi = -1, idx[3], q[3], dj = img->dims[j];
	double blo[3], bhi[3];
	size_t i, n, count;

	grid_bbox(img, blo, bhi);
	if (o->cuts_mm) {
		for (i = 0; i < o->n_cuts; i++) {
			if (o->cuts_mm[i] < blo[w] || o->cuts_mm[i] > bhi[w])
				return nidec_fail(err, NIDEC_EINPUT,
						  "cut %c=%g mm is outside '%s', which spans %c=%g..%g mm; "
						  "choose --cuts within that range", axis_letter[w], o->cuts_mm[i],
						  img->name, axis_letter[w], blo[w], bhi[w]);
			f->p[i].cut = o->cuts_mm[i];
		}
		f->n = o->n_cuts;
		return 0;
	}
	/* the range of slices along voxel axis j that hold a value worth showing */
	for (q[2] = 0; q[2] < img->dims[2]; q[2]++)
		for (q[1] = 0; q[1] < img->dims[1]; q[1]++)
			for (q[0] = 0; q[0] < img->dims[0]; q[0]++) {
				float x = img->data[q[0] + img->dims[0] * (q[1] + img->dims[1] * q[2])];
				if (!isfinite(x) || !(fabs(x) > (o->kind == NIDEC_PLOT_STAT ? o->threshold : 0)))
					continue;
				if (lo < 0 || q[j] < lo)
					lo = q[j];
				if (q[j] > hi)
					hi = q[j];
			}
	if (lo < 0) {
		lo = 0;
		hi = dj - 1;
	}
	count = (size_t)(hi - lo + 1);
	n = o->n_cuts ? o->n_cuts : (count < AUTO_CUTS ? count : AUTO_CUTS);
	for (i = 0; i < n; i++) {
		int64_t k = n >= count ? lo + (int64_t)(i < count ? i : count - 1)
				       : lo + (int64_t)((double)(i + 0.5) * (double)count / (double)n);
		int r;
		idx[0] = img->dims[0] / 2;
		idx[1] = img->dims[1] / 2;
		idx[2] = img->dims[2] / 2;
		idx[j] = k;
		f->p[i].cut = 0;
		for (r = 0; r < 3; r++)
			f->p[i].cut += img->affine[4 * w + r] * (double)idx[r];
		f->p[i].cut += img->affine[4 * w + 3];
	}
	f->n = n > count ? count : n;
	/* ascending world coordinate, as nilearn lays cuts out, whatever the
	 * direction of the voxel axis (the Haxby x axis runs right to left) */
	for (i = 1; i < f->n; i++) {
		size_t m;
		for (m = i; m > 0 && f->p[m - 1].cut > f->p[m].cut; m--) {
			double t = f->p[m].cut;
			f->p[m].cut = f->p[m - 1].cut;
			f->p[m - 1].cut = t;
		}
	}
	return 0;
}

static void format_value(char *buf, size_t n, double v)
{
	if (fabs(v) < 1e-12)
		v = 0;
	snprintf(buf, n, "%.3g", v);
}

static int layout(struct figure *f, const nidec_vol *frame)
{
	const nidec_plot_opts *o = f->o;
	int uw = view_u[o->view], vw = view_v[o->view];
	double lo[3], hi[3], eu, ev, target;
	int boxw, boxh, labw = 0, i;
	char buf[64];
	size_t k;

	grid_bbox(frame, lo, hi);
	f->u0 = lo[uw];
	f->u1 = hi[uw];
	f->v0 = lo[vw];
	f->v1 = hi[vw];
	eu = f->u1 - f->u0;
	ev = f->v1 - f->v0;
	target = f->n == 1 ? 560 : f->n <= 3 ? 400 : 260;
	f->s = target / (eu > ev ? eu : ev);
	if (f->s > 16)
		f->s = 16;
	if (f->s < 0.25)
		f->s = 0.25;
	f->iw = (int)ceil(eu * f->s - 1e-9);
	f->ih = (int)ceil(ev * f->s - 1e-9);
	if (f->iw < 1)
		f->iw = 1;
	if (f->ih < 1)
		f->ih = 1;
	for (k = 0; k < f->n; k++) {
		snprintf(buf, sizeof(buf), "%c=%.4g", axis_letter[view_n[o->view]], f->p[k].cut);
		i = nidec_text_width(buf, SCALE);
		if (i > labw)
			labw = i;
	}
	boxw = f->iw + 2 * BAND;
	if (boxw < 2 * labw + 2 * BAND)
		boxw = 2 * labw + 2 * BAND;
	boxh = f->ih + 2 * BAND;
	if (boxh < 3 * BAND)
		boxh = 3 * BAND;
	f->cbar_w = o->kind == NIDEC_PLOT_STAT ? 130 : 0;
	f->cols = (int)f->n;
	while (f->cols > 1 && 2 * MARGIN + f->cols * boxw + (f->cols - 1) * GAP + f->cbar_w > MAX_FIG_W)
		f->cols--;
	f->rows = (int)((f->n + (size_t)f->cols - 1) / (size_t)f->cols);
	f->title_h = o->title ? nidec_text_height(TITLE_SCALE) + 10 : 0;
	f->foot_h = nidec_text_height(SCALE) + 6;
	f->W = 2 * MARGIN + f->cols * boxw + (f->cols - 1) * GAP + f->cbar_w;
	{
		/* the footer must fit: widen the figure if needed */
		int fw = 2 * MARGIN + nidec_text_width("neurological view: left is on the left", SCALE);
		if (f->W < fw)
			f->W = fw;
	}
	f->H = 2 * MARGIN + f->title_h + f->rows * boxh + (f->rows - 1) * GAP + f->foot_h;
	if (o->kind == NIDEC_PLOT_STAT && f->H < 2 * MARGIN + f->title_h + 150 + f->foot_h)
		f->H = 2 * MARGIN + f->title_h + 150 + f->foot_h;
	for (k = 0; k < f->n; k++) {
		int c = (int)(k % (size_t)f->cols), r = (int)(k / (size_t)f->cols);
		f->p[k].bx = MARGIN + c * (boxw + GAP);
		f->p[k].by = MARGIN + f->title_h + r * (boxh + GAP);
		f->p[k].bw = boxw;
		f->p[k].bh = boxh;
		f->p[k].ix = f->p[k].bx + (boxw - f->iw) / 2;
		f->p[k].iy = f->p[k].by + (boxh - f->ih) / 2;
	}
	return 0;
}

/* --- drawing ----------------------------------------------------------- */

static void pixel_world(const struct figure *f, const struct panel *p, int c, int r, double w[3])
{
	int view = f->o->view;

	w[view_u[view]] = f->u0 + (c + 0.5) / f->s;
	w[view_v[view]] = f->v1 - (r + 0.5) / f->s;
	w[view_n[view]] = p->cut;
}

/* Where a layer's voxels fall on a panel.  When every voxel axis of the
 * layer depends on at most one of the panel's pixel axes (the inverse
 * affine has no term mixing them: every axis-aligned image), the voxel
 * under pixel (c, r) is col[c] + row[r] (-1 in either: outside the grid),
 * and only iw + ih points are mapped.  Exact: at pixel (c, r) the axis's
 * sum in layer_axis differs from the sum at (c, 0) (or (0, r)) only by a
 * term whose coefficient is 0, i.e. by adding +0 or -0 at the same place,
 * which can change the sign of a zero but not floor(f + 0.5); so every
 * pixel gets the voxel layer_index() gives it.  Otherwise (`sep` 0) each
 * pixel is mapped on its own. */
struct panel_map {
	const struct layer *l;  /* NULL: the layer is not drawn */
	int sep;
	int64_t *col, *row;     /* [iw], [ih], when sep */
};

/* Scratch memory of one figure's panels (sized by the figure). */
struct scratch {
	unsigned char *mask;    /* [iw * ih]: roi: the mask under each pixel */
	unsigned char *hrun;    /* [2 * iw * ih]: roi: H_1, H_2 of draw_roi() */
	uint32_t *line;         /* [iw]: one row of colours */
	int64_t *tab;           /* [3 * (iw + ih)]: the col/row tables of 3 maps */
};

static void map_panel(const struct figure *f, const struct panel *p, const struct layer *l, int slot,
		      struct scratch *sc, struct panel_map *m)
{
	int view = f->o->view, uw = view_u[view], vw = view_v[view], a, c, r;
	int dep_u[3], dep_v[3];
	int64_t stride[3];
	double w[3];

	m->l = l;
	m->sep = 0;
	if (!l)
		return;
	m->col = sc->tab + (size_t)slot * (size_t)(f->iw + f->ih);
	m->row = m->col + f->iw;
	stride[0] = 1;
	stride[1] = l->v->dims[0];
	stride[2] = l->v->dims[0] * l->v->dims[1];
	for (a = 0; a < 3; a++) {
		dep_u[a] = l->inv[4 * a + uw] != 0;
		dep_v[a] = l->inv[4 * a + vw] != 0;
		if (dep_u[a] && dep_v[a])
			return;
	}
	/* axes on neither pixel axis (constant on the panel) go with the columns */
	for (c = 0; c < f->iw; c++) {
		int64_t off = 0;
		pixel_world(f, p, c, 0, w);
		for (a = 0; a < 3 && off >= 0; a++)
			if (!dep_v[a]) {
				int64_t q = layer_axis(l, a, w);
				off = q < 0 ? -1 : off + q * stride[a];
			}
		m->col[c] = off;
	}
	for (r = 0; r < f->ih; r++) {
		int64_t off = 0;
		pixel_world(f, p, 0, r, w);
		for (a = 0; a < 3 && off >= 0; a++)
			if (dep_v[a]) {
				int64_t q = layer_axis(l, a, w);
				off = q < 0 ? -1 : off + q * stride[a];
			}
		m->row[r] = off;
	}
	m->sep = 1;
}

/* The voxel of map m under pixel (c, r), or -1. */
static int64_t map_at(const struct figure *f, const struct panel *p, const struct panel_map *m, int c, int r)
{
	double w[3];

	if (!m->l)
		return -1;
	if (m->sep)
		return m->col[c] < 0 || m->row[r] < 0 ? -1 : m->col[c] + m->row[r];
	pixel_world(f, p, c, r, w);
	return layer_index(m->l, w);
}

/* Pixel row r of the panel gets the same voxels as row r - 1 in every map. */
static int same_row(const struct panel_map *m, size_t n, int r)
{
	size_t k;

	if (r == 0)
		return 0;
	for (k = 0; k < n; k++)
		if (m[k].l && (!m[k].sep || m[k].row[r] != m[k].row[r - 1]))
			return 0;
	return 1;
}

/* Copy n colours to the canvas row y from column x on, clipped as
 * nidec_canvas_put clips. */
static void put_line(nidec_canvas *cv, int x, int y, const uint32_t *col, int n)
{
	int c;

	if (y < 0 || y >= cv->h)
		return;
	for (c = x < 0 ? -x : 0; c < n && x + c < cv->w; c++) {
		unsigned char *q = cv->px + 4 * ((size_t)y * (size_t)cv->w + (size_t)(x + c));
		q[0] = (unsigned char)(col[c] >> 24);
		q[1] = (unsigned char)(col[c] >> 16);
		q[2] = (unsigned char)(col[c] >> 8);
		q[3] = (unsigned char)col[c];
	}
}

/* The mask layer of a roi panel, from sc->mask: fill, and an outline on
 * the mask's own edge pixels (two pixels wide at most), so every coloured
 * pixel lies inside the mask.  A mask pixel is an edge pixel when a pixel
 * within city-block distance t of it is outside the mask or the panel.
 * With H_k(r, c) = "pixels c-k..c+k of row r are all in the mask" (H_0 is
 * the mask), a pixel is inside when H_(t-|dy|)(r+dy, c) holds for every
 * dy in -t..t: the diamond is a stack of centred row segments. */
static void draw_roi(const struct figure *f, const struct panel *p, nidec_canvas *cv, struct scratch *sc)
{
	const unsigned char *h[3];
	size_t iw = (size_t)f->iw, n = iw * (size_t)f->ih;
	int t = f->s >= 3 ? 2 : 1, r, c, k;
	uint32_t last_in = 0, last_out = 0;
	int have_last = 0;

	h[0] = sc->mask;
	for (k = 1; k <= t; k++) {
		unsigned char *hk = sc->hrun + (size_t)(k - 1) * n;
		const unsigned char *prev = h[k - 1];
		for (r = 0; r < f->ih; r++)
			for (c = 0; c < f->iw; c++) {
				size_t i = (size_t)r * iw + (size_t)c;
				/* H_1 = m(c-1) m(c) m(c+1); H_k = H_(k-1)(c-1) H_(k-1)(c+1) for k >= 2 */
				hk[i] = c > 0 && c + 1 < f->iw && prev[i - 1] && prev[i + 1] && (k > 1 || prev[i]);
			}
		h[k] = hk;
	}
	for (r = 0; r < f->ih; r++) {
		int y = p->iy + r;
		for (c = 0; c < f->iw; c++) {
			size_t i = (size_t)r * iw + (size_t)c;
			int inside = 1, dy, x = p->ix + c;
			if (!sc->mask[i])
				continue;
			for (dy = -t; dy <= t && inside; dy++) {
				int rr = r + dy;
				inside = rr >= 0 && rr < f->ih && h[t - abs(dy)][(size_t)rr * iw + (size_t)c];
			}
			if (!inside) {
				nidec_canvas_put(cv, x, y, ROI_EDGE);
			} else if (!f->o->outline_only) {
				/* the fill is the same blend of the few background colours */
				uint32_t in = nidec_canvas_get(cv, x, y);
				if (!have_last || in != last_in) {
					nidec_canvas_blend(cv, x, y, ROI_FILL);
					last_in = in;
					last_out = nidec_canvas_get(cv, x, y);
					have_last = x >= 0 && y >= 0 && x < cv->w && y < cv->h;
				} else {
					nidec_canvas_put(cv, x, y, last_out);
				}
			}
		}
	}
}

static int draw_panel(const struct figure *f, const struct panel *p, nidec_canvas *cv, struct scratch *sc)
{
	const nidec_plot_opts *o = f->o;
	const struct layer *bg = f->has_back ? &f->back : o->kind == NIDEC_PLOT_EPI ? &f->main : NULL;
	double dim = o->kind == NIDEC_PLOT_EPI ? 1.0 : 0.8;
	struct panel_map m[3];   /* background, stat map, roi */
	unsigned char *mask_buf = sc->mask;
	int c, r;

	map_panel(f, p, bg, 0, sc, &m[0]);
	map_panel(f, p, o->kind == NIDEC_PLOT_STAT ? &f->main : NULL, 1, sc, &m[1]);
	map_panel(f, p, o->kind == NIDEC_PLOT_ROI ? &f->roi_l : NULL, 2, sc, &m[2]);
	for (r = 0; r < f->ih; r++) {
		unsigned char *mrow = mask_buf + (size_t)r * (size_t)f->iw;
		int64_t pb = -2, pm = -2;     /* voxels of the last colour computed */
		uint32_t pcol = BLACK;

		if (same_row(m, 3, r)) {
			/* same voxels as the row above: same colours, same mask */
			if (o->kind == NIDEC_PLOT_ROI)
				memcpy(mrow, mrow - f->iw, (size_t)f->iw);
			put_line(cv, p->ix, p->iy + r, sc->line, f->iw);
			continue;
		}
		for (c = 0; c < f->iw; c++) {
			int64_t jb = map_at(f, p, &m[0], c, r), jm = map_at(f, p, &m[1], c, r);

			if (jb != pb || jm != pm) {
				double x;
				pcol = BLACK;
				if (jb >= 0) {
					x = bg->v->data[jb];
					if (isfinite(x))
						pcol = grey(dim * (x - f->glo) / (f->ghi - f->glo));
				}
				if (jm >= 0) {
					x = f->main.v->data[jm];
					if (isfinite(x) && fabs(x) > o->threshold)
						pcol = cold_hot(x / f->vmax);
				}
				pb = jb;
				pm = jm;
			}
			sc->line[c] = pcol;
			if (o->kind == NIDEC_PLOT_ROI) {
				int64_t jr = map_at(f, p, &m[2], c, r);
				double x = jr < 0 ? NAN : f->roi_l.v->data[jr];
				mrow[c] = isfinite(x) && x != 0;
			}
		}
		put_line(cv, p->ix, p->iy + r, sc->line, f->iw);
	}
	if (o->kind == NIDEC_PLOT_ROI)
		draw_roi(f, p, cv, sc);
	return 0;
}

static void draw_labels(const struct figure *f, const struct panel *p, nidec_canvas *cv)
{
	int view = f->o->view, uw = view_u[view], vw = view_v[view], nw = view_n[view];
	int cap = nidec_text_cap_height(SCALE), lw = nidec_text_width("L", SCALE);
	int cy = p->iy + f->ih / 2 - cap / 2;
	char buf[64];

	nidec_canvas_text(cv, p->ix - BAND / 2 - lw / 2, cy, neg_letter[uw], SCALE, WHITE);
	nidec_canvas_text(cv, p->ix + f->iw + BAND / 2 - lw / 2, cy, pos_letter[uw], SCALE, WHITE);
	nidec_canvas_text(cv, p->bx + p->bw / 2 - lw / 2, p->iy - BAND / 2 - cap / 2, pos_letter[vw], SCALE,
			  WHITE);
	nidec_canvas_text(cv, p->bx + p->bw / 2 - lw / 2, p->iy + f->ih + BAND / 2 - cap / 2,
			  neg_letter[vw], SCALE, WHITE);
	snprintf(buf, sizeof(buf), "%c=%.4g", axis_letter[nw], p->cut);
	nidec_canvas_text(cv, p->bx + 2, p->by + p->bh - cap - 3, buf, SCALE, LIGHT);
}

static void draw_colorbar(const struct figure *f, nidec_canvas *cv)
{
	const nidec_plot_opts *o = f->o;
	/* leave room above the bar for its caption (o->legend) */
	int top = MARGIN + f->title_h + BAND + (o->legend ? 12 : 0), bottom = f->H - MARGIN - f->foot_h - BAND;
	int x = f->W - MARGIN - f->cbar_w + 18, bw = 18, y, h, k;
	int cap = nidec_text_cap_height(SCALE);
	char buf[64];

	if (bottom - top < 100)
		bottom = top + 100;
	h = bottom - top;
	for (y = 0; y < h; y++) {
		/* +1 at the top; -1 (or 0 for a one-sided map) at the bottom */
		double t = f->one_sided ? 1 - (y + 0.5) / h : 1 - 2 * (y + 0.5) / h;
		uint32_t col = fabs(t * f->vmax) <= o->threshold ? 0x808080ffu : cold_hot(t);
		nidec_canvas_fill_rect(cv, x, top + y, bw, 1, col);
	}
	nidec_canvas_frame_rect(cv, x - 1, top - 1, bw + 2, h + 2, LIGHT);
	for (k = 0; k <= 4; k++) {
		double v = f->one_sided ? f->vmax * (1 - k / 4.0) : f->vmax * (1 - k / 2.0);
		int yy = top + (int)lround((double)k * (h - 1) / 4.0);
		nidec_canvas_fill_rect(cv, x + bw + 1, yy, 5, 1, LIGHT);
		format_value(buf, sizeof(buf), v);
		nidec_canvas_text(cv, x + bw + 9, yy - cap / 2, buf, SCALE, WHITE);
	}
	if (o->threshold > 1e-6 && o->threshold < f->vmax) {
		/* mark the threshold on the bar */
		double a = o->threshold / f->vmax;
		int y1 = top + (int)lround((f->one_sided ? 1 - a : (1 - a) / 2) * h);
		int y2 = top + (int)lround((1 + a) / 2 * h);
		nidec_canvas_fill_rect(cv, x - 5, y1, 4, 1, LIGHT);
		if (!f->one_sided)
			nidec_canvas_fill_rect(cv, x - 5, y2, 4, 1, LIGHT);
	}
	if (o->legend)
		nidec_canvas_text(cv, x - 6, top - nidec_text_height(SCALE) - 10, o->legend, SCALE, LIGHT);
}

static int figure_text(const struct figure *f, nidec_canvas *cv, nidec_err *err)
{
	const nidec_plot_opts *o = f->o;
	static const char *const kinds[3] = { "epi", "roi", "stat" };
	char key[32], val[256];
	size_t k;

	NIDEC_TRY(nidec_canvas_set_text(cv, "Title", o->title ? o->title : kinds[o->kind], err));
	NIDEC_TRY(nidec_canvas_set_text(cv, "Description",
					"neurological convention: the subject's left is on the left of "
					"the picture", err));
	snprintf(val, sizeof(val), "%s %s %zu", kinds[o->kind], view_name[o->view], f->n);
	NIDEC_TRY(nidec_canvas_set_text(cv, "nidec:figure", val, err));
	for (k = 0; k < f->n && k < NIDEC_CANVAS_MAX_TEXT - 4; k++) {
		const struct panel *p = &f->p[k];
		snprintf(key, sizeof(key), "nidec:panel%zu", k);
		snprintf(val, sizeof(val), "%d %d %d %d %.17g %.17g %.17g %s %.17g", p->ix, p->iy, f->iw,
			 f->ih, f->u0, f->v1, f->s, view_name[o->view], p->cut);
		NIDEC_TRY(nidec_canvas_set_text(cv, key, val, err));
	}
	return 0;
}

static int check_overlap(const nidec_vol *a, const nidec_vol *b, nidec_err *err)
{
	double alo[3], ahi[3], blo[3], bhi[3];
	int r;

	grid_bbox(a, alo, ahi);
	grid_bbox(b, blo, bhi);
	for (r = 0; r < 3; r++)
		if (ahi[r] <= blo[r] || bhi[r] <= alo[r])
			return nidec_fail(err, NIDEC_EINPUT,
					  "'%s' (%c=%g..%g mm) and background '%s' (%c=%g..%g mm) do not "
					  "overlap in world space; give a background in the same space "
					  "(e.g. the mean of the BOLD series the image was made from)",
					  a->name, axis_letter[r], alo[r], ahi[r], b->name, axis_letter[r],
					  blo[r], bhi[r]);
	return 0;
}

/* Render into *io: reused when `reuse` and non-NULL, else a new canvas
 * set on success only. */
static int render(const nidec_plot_opts *o, const nidec_vol *img, const nidec_vol *bg,
		  nidec_canvas **io, int reuse, nidec_err *err)
{
	struct figure f;
	nidec_canvas *cv = NULL, *mine = NULL;  /* drawn on; created here */
	float *roi_own = NULL;
	struct scratch sc = { NULL, NULL, NULL, NULL };
	size_t nv, i, k;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	f.o = o;
	if (o->view < 0 || o->view > 2 || o->kind < 0 || o->kind > 2)
		return nidec_fail(err, NIDEC_EINTERNAL, "bad plot kind or view");
	NIDEC_TRY(layer_init(&f.main, img, err));
	if (bg) {
		NIDEC_TRY(layer_init(&f.back, bg, err));
		NIDEC_TRY(check_overlap(img, bg, err));
		f.has_back = 1;
	}
	f.p = nidec_calloc_e(o->n_cuts > AUTO_CUTS ? o->n_cuts : AUTO_CUTS, sizeof(*f.p), "plot panels", err);
	if (!f.p)
		return NIDEC_ENOMEM;
	NIDEC_TRY_GOTO(rc, choose_cuts(&f, img, err), done);

	/* grey limits of what is drawn in grey */
	{
		const nidec_vol *g = bg ? bg : o->kind == NIDEC_PLOT_EPI ? img : NULL;
		f.glo = 0;
		f.ghi = 1;
		if (g) {
			nv = (size_t)g->dims[0] * (size_t)g->dims[1] * (size_t)g->dims[2];
			NIDEC_TRY_GOTO(rc, nidec_plot_robust_limits(g->data, nv, &f.glo, &f.ghi, err), done);
		}
	}
	if (o->kind == NIDEC_PLOT_STAT) {
		nv = (size_t)img->dims[0] * (size_t)img->dims[1] * (size_t)img->dims[2];
		f.vmax = o->vmax;
		f.one_sided = 1;
		for (i = 0; i < nv; i++)
			if (img->data[i] < 0)
				f.one_sided = 0;
		if (!(f.vmax > 0)) {
			for (i = 0; i < nv; i++)
				if (isfinite(img->data[i]) && fabs(img->data[i]) > f.vmax)
					f.vmax = fabs(img->data[i]);
			if (!(f.vmax > 0))
				f.vmax = 1;
		}
	}
	if (o->kind == NIDEC_PLOT_ROI) {
		/* the mask on the background grid, nearest neighbour (plot.h) */
		f.roi_vol = *img;
		if (bg && !same_grid(img, bg)) {
			NIDEC_TRY_GOTO(rc, nidec_plot_resample_nn(img, bg, &roi_own, err), done);
			f.roi_vol = *bg;
			f.roi_vol.data = roi_own;
			f.roi_vol.name = img->name;
		}
		NIDEC_TRY_GOTO(rc, layer_init(&f.roi_l, &f.roi_vol, err), done);
	}
	NIDEC_TRY_GOTO(rc, layout(&f, bg ? bg : img), done);
	if (reuse && *io) {
		cv = *io;
		NIDEC_TRY_GOTO(rc, nidec_canvas_reset(cv, f.W, f.H, BLACK, err), done);
	} else {
		NIDEC_TRY_GOTO(rc, nidec_canvas_create(f.W, f.H, BLACK, &mine, err), done);
		cv = mine;
	}
	sc.mask = nidec_malloc_e((size_t)f.iw * (size_t)f.ih, 1, "a panel mask", err);
	sc.hrun = o->kind != NIDEC_PLOT_ROI ? NULL :
		  nidec_malloc_e(2 * (size_t)f.iw * (size_t)f.ih, 1, "a panel mask", err);
	sc.line = nidec_malloc_e((size_t)f.iw, sizeof(*sc.line), "a panel row", err);
	sc.tab = nidec_malloc_e(3 * ((size_t)f.iw + (size_t)f.ih), sizeof(*sc.tab), "panel tables", err);
	if (!sc.mask || !sc.line || !sc.tab || (o->kind == NIDEC_PLOT_ROI && !sc.hrun)) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	if (o->title) {
		int tw = nidec_text_width(o->title, TITLE_SCALE);
		nidec_canvas_text(cv, tw < f.W - 2 * MARGIN ? (f.W - tw) / 2 : MARGIN, MARGIN, o->title,
				  TITLE_SCALE, WHITE);
	}
	for (k = 0; k < f.n; k++) {
		NIDEC_TRY_GOTO(rc, draw_panel(&f, &f.p[k], cv, &sc), done);
		draw_labels(&f, &f.p[k], cv);
	}
	if (o->kind == NIDEC_PLOT_STAT)
		draw_colorbar(&f, cv);
	nidec_canvas_text(cv, MARGIN, f.H - MARGIN - nidec_text_height(SCALE) + 2,
			  "neurological view: left is on the left", SCALE, 0xa0a0a0ffu);
	NIDEC_TRY_GOTO(rc, figure_text(&f, cv, err), done);
	*io = cv;
	mine = NULL;
done:
	nidec_canvas_destroy(&mine);
	nidec_free(sc.mask);
	nidec_free(sc.hrun);
	nidec_free(sc.line);
	nidec_free(sc.tab);
	nidec_free(roi_own);
	nidec_free(f.p);
	return rc;
}

int nidec_plot_render(const nidec_plot_opts *o, const nidec_vol *img, const nidec_vol *bg,
		      nidec_canvas **out, nidec_err *err)
{
	return render(o, img, bg, out, 0, err);
}

int nidec_plot_render_reuse(const nidec_plot_opts *o, const nidec_vol *img, const nidec_vol *bg,
			    nidec_canvas **cv, nidec_err *err)
{
	return render(o, img, bg, cv, 1, err);
}
