/*
 * plot.h - figures of brain volumes, as nilearn's plot_epi, plot_roi and
 * plot_stat_map draw them: a mosaic of slices on a black background.
 *
 * Geometry: every pixel of a panel is a point in world space (mm, the
 * image affine's space, RAS+ as nibabel reports it); each layer is sampled
 * at that point from its own grid, nearest neighbour.  So the aspect ratio
 * follows the voxel sizes (the Haxby slice has 3.1 x 3.75 mm voxels) and
 * images of different grids line up where they overlap in world space.
 * Orientation: neurological convention, said in the figure: the subject's
 * left is on the left of the picture (world x grows to the right); axial
 * views have anterior up, coronal and sagittal superior up, sagittal
 * anterior on the right.  Every panel carries its L/R, A/P, S/I letters and
 * its cut ("z=-12").
 *
 * Each PNG carries tEXt chunks: "Title", "Description" (the convention) and
 * per panel "nidec:panel<i>" = "x0 y0 w h u0 v1 px_per_mm view cut": pixel
 * (x0 + c, y0 + r) shows world (u, v) = (u0 + (c + .5) / px_per_mm,
 * v1 - (r + .5) / px_per_mm) on the cut plane (u, v are x, y for axial;
 * x, z for coronal; y, z for sagittal), so tests can check pixels against
 * voxels with an independent reader.
 *
 * Not collective; no MPI.  Memory: one float copy of a volume at most, plus
 * the canvas.
 */
#ifndef NIDEC_PLOT_H
#define NIDEC_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"
#include "nidec/png.h"

enum nidec_plot_kind { NIDEC_PLOT_EPI, NIDEC_PLOT_ROI, NIDEC_PLOT_STAT };
enum nidec_plot_view { NIDEC_VIEW_AXIAL, NIDEC_VIEW_CORONAL, NIDEC_VIEW_SAGITTAL };

#define NIDEC_PLOT_MAX_CUTS 64

typedef struct nidec_plot_opts {
	int kind;              /* enum nidec_plot_kind */
	int view;              /* enum nidec_plot_view */
	size_t n_cuts;         /* 0: automatic (every slice up to 7, evenly spaced) */
	const double *cuts_mm; /* n_cuts world coordinates on the view's normal, or NULL:
				* n_cuts slices evenly spaced over the image's non-zero extent */
	double threshold;      /* stat: |value| <= threshold is transparent (default 1e-6) */
	double vmax;           /* stat: colour scale -vmax .. vmax; 0 = max |value| */
	int outline_only;      /* roi: outline without fill */
	const char *title;     /* drawn at the top, or NULL */
	const char *legend;    /* stat: colorbar caption ("weight"), or NULL */
} nidec_plot_opts;

#define NIDEC_PLOT_OPTS_INIT { NIDEC_PLOT_EPI, NIDEC_VIEW_AXIAL, 0, NULL, 1e-6, 0, 0, NULL, NULL }

/* A 3D volume as the plots see it (borrowed pointers: the caller owns
 * `data` and `name`). */
typedef struct nidec_vol {
	const float *data;     /* dims[0]*dims[1]*dims[2] values, x fastest (NIfTI order) */
	int64_t dims[3];
	double affine[16];     /* row-major voxel -> world (mm) */
	const char *name;      /* file name for messages */
} nidec_vol;

/* Draw one figure.  `img` is the volume shown (EPI, mask, or stat map);
 * `bg` the background (roi, stat) or NULL (black).  For roi the mask is
 * first resampled onto the background grid, nearest neighbour.  Fails with
 * NIDEC_EINPUT when an affine is singular, when `img` and `bg` do not
 * overlap in world space (the message names both and the fix), or when a
 * cut lies outside the image; *out is set only on success. */
int nidec_plot_render(const nidec_plot_opts *o, const nidec_vol *img, const nidec_vol *bg,
		      nidec_canvas **out, nidec_err *err);

/* The same into a canvas kept from figure to figure (many figures, e.g.
 * the report): a non-NULL *cv is reset and drawn on (nidec_canvas_reset:
 * its memory is reused), a NULL one is created.  On failure *cv is still
 * the caller's to destroy (a reused canvas then holds no valid figure). */
int nidec_plot_render_reuse(const nidec_plot_opts *o, const nidec_vol *img, const nidec_vol *bg,
			    nidec_canvas **cv, nidec_err *err);

/* Resample `src` onto the grid (dims, affine) of `grid`, nearest neighbour:
 * *out is a new array of grid's size (0 outside src; free with nidec_free). */
int nidec_plot_resample_nn(const nidec_vol *src, const nidec_vol *grid, float **out, nidec_err *err);

/* Robust display limits: the 2nd and 98th percentiles of the finite,
 * non-zero values (0, 1 when there are none). */
int nidec_plot_robust_limits(const float *v, size_t n, double *lo, double *hi, nidec_err *err);

/* Parse the --orientation and --cuts option values.  Cuts: a plain count
 * ("5") or world coordinates in mm ("-12,0,12", "0.0", "-8"), a value with
 * a comma, a decimal point or a sign being coordinates.  On success *cuts is
 * a new array (free with nidec_free) or NULL for a count. */
int nidec_plot_parse_view(const char *s, int *view, nidec_err *err);
int nidec_plot_parse_cuts(const char *s, double **cuts, size_t *n, nidec_err *err);

/* Load a NIfTI file for plotting: `need` is 3 (a 3D image, or 4D with one
 * volume) or 0 (3D, or 4D averaged over time, or only volume `volume` if
 * volume >= 0).  *data is a new array (free with nidec_free) that `vol`
 * points into; vol->name borrows `path`. */
int nidec_plot_load(const char *path, int need, long volume, const char *what,
		    nidec_vol *vol, float **data, nidec_err *err);

#endif
