/*
 * maskcomp.c - brain masks computed from the mean image, as nilearn's
 * compute_epi_mask and compute_background_mask with their defaults (see
 * clean.h; nilearn/masking.py, nilearn/_utils/ndimage.py).
 *
 * The mean image is on the BOLD grid, x fastest (NIfTI order).  nilearn's
 * arrays are [x, y, z] in C order (z fastest): the histogram, the
 * morphology and the component sizes do not depend on the memory order,
 * but which of two equally large components is kept does (scipy's label
 * numbers components in the order of their first voxel in C order, and
 * argmax keeps the first): so components are visited in nilearn's order.
 * Morphology is scipy.ndimage's binary_erosion / binary_dilation with the
 * 6-neighbour cross and a border of 0 (outside the grid is background).
 * Depends on base and clean.c's smoother only.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/clean.h"
#include "nidec/mem.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define IDX(i, j, k) ((size_t)(i) + nx * ((size_t)(j) + ny * (size_t)(k)))

/* One erosion (dilate = 0) or dilation (1) by the 6-neighbour cross. */
static void morph(const unsigned char *in, unsigned char *out, const int64_t d[3], int dilate)
{
	size_t nx = (size_t)d[0], ny = (size_t)d[1], nz = (size_t)d[2], i, j, k;

	for (k = 0; k < nz; k++)
		for (j = 0; j < ny; j++)
			for (i = 0; i < nx; i++) {
				unsigned char c = in[IDX(i, j, k)];
				unsigned char n[6];
				int q, any = c, all = c;
				n[0] = i > 0 ? in[IDX(i - 1, j, k)] : 0;
				n[1] = i + 1 < nx ? in[IDX(i + 1, j, k)] : 0;
				n[2] = j > 0 ? in[IDX(i, j - 1, k)] : 0;
				n[3] = j + 1 < ny ? in[IDX(i, j + 1, k)] : 0;
				n[4] = k > 0 ? in[IDX(i, j, k - 1)] : 0;
				n[5] = k + 1 < nz ? in[IDX(i, j, k + 1)] : 0;
				for (q = 0; q < 6; q++) {
					any |= n[q];
					all &= n[q];
				}
				out[IDX(i, j, k)] = (unsigned char)(dilate ? any != 0 : all != 0);
			}
}

static void morph_n(unsigned char *m, unsigned char *tmp, const int64_t d[3], int dilate, int times)
{
	size_t n3 = (size_t)d[0] * (size_t)d[1] * (size_t)d[2];
	int t;

	for (t = 0; t < times; t++) {
		morph(m, tmp, d, dilate);
		memcpy(m, tmp, n3);
	}
}

/* Keep the largest 6-connected component (nilearn's
 * largest_connected_component); ties go to the component met first in C
 * order over (i, j, k).  m must hold at least one voxel. */
static int largest_component(unsigned char *m, const int64_t d[3], nidec_err *err)
{
	size_t nx = (size_t)d[0], ny = (size_t)d[1], nz = (size_t)d[2], n3 = nx * ny * nz;
	size_t *stack = NULL, best_size = 0, i, j, k;
	int32_t *lab = NULL, n_lab = 0, best = 0;

	lab = nidec_calloc_e(n3, sizeof(*lab), "the mask's components", err);
	stack = nidec_malloc_e(n3, sizeof(*stack), "the mask's components", err);
	if (!lab || !stack) {
		nidec_free(lab);
		nidec_free(stack);
		return NIDEC_ENOMEM;
	}
	for (i = 0; i < nx; i++)
		for (j = 0; j < ny; j++)
			for (k = 0; k < nz; k++) {
				size_t v = IDX(i, j, k), top = 0, size = 0;
				if (!m[v] || lab[v])
					continue;
				lab[v] = ++n_lab;
				stack[top++] = v;
				while (top) {
					size_t u = stack[--top], ui = u % nx, uj = (u / nx) % ny, uk = u / (nx * ny);
					size_t nb[6];
					int q, nn = 0;
					size++;
					if (ui > 0)
						nb[nn++] = u - 1;
					if (ui + 1 < nx)
						nb[nn++] = u + 1;
					if (uj > 0)
						nb[nn++] = u - nx;
					if (uj + 1 < ny)
						nb[nn++] = u + nx;
					if (uk > 0)
						nb[nn++] = u - nx * ny;
					if (uk + 1 < nz)
						nb[nn++] = u + nx * ny;
					for (q = 0; q < nn; q++)
						if (m[nb[q]] && !lab[nb[q]]) {
							lab[nb[q]] = n_lab;
							stack[top++] = nb[q];
						}
				}
				if (size > best_size) {
					best_size = size;
					best = n_lab;
				}
			}
	for (i = 0; i < n3; i++)
		m[i] = (unsigned char)(lab[i] == best && best != 0);
	nidec_free(lab);
	nidec_free(stack);
	return 0;
}

static size_t count(const unsigned char *m, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += m[i] != 0;
	return c;
}

int nidec_mask_compute_epi(double *mean, const int64_t dims[3], unsigned char *out,
			   size_t *n_inside, nidec_err *err)
{
	size_t n3 = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2], i, lo, hi, ia = 0;
	unsigned char *isnan_ = NULL, *tmp = NULL;
	double *sorted = NULL, sigma[3], thr, best = -INFINITY;
	nidec_smoother *sm = NULL;
	int rc = 0;

	isnan_ = nidec_malloc_e(n3, 1, "the mean image", err);
	tmp = nidec_malloc_e(n3, 1, "the mask", err);
	sorted = nidec_malloc_e(n3, sizeof(double), "the mean image", err);
	if (!isnan_ || !tmp || !sorted) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	/* _compute_mean(smooth=1): a Gaussian of FWHM 1 voxel (identity
	 * affine), NaN voxels put back; then ensure_finite */
	for (i = 0; i < n3; i++)
		isnan_[i] = (unsigned char)(isnan(mean[i]) != 0);
	sigma[0] = sigma[1] = sigma[2] = 1.0 / sqrt(8 * log(2.0));
	NIDEC_TRY_GOTO(rc, nidec_smoother_create(dims, sigma, 0, &sm, err), done);
	nidec_smoother_apply(sm, mean);
	for (i = 0; i < n3; i++)
		if (isnan_[i] || !isfinite(mean[i]))
			mean[i] = 0;
	memcpy(sorted, mean, n3 * sizeof(double));
	qsort(sorted, n3, sizeof(double), cmp_double);
	lo = (size_t)floor(0.2 * (double)n3);
	hi = (size_t)floor(0.85 * (double)n3);
	if (hi > n3 - 1)
		hi = n3 - 1;
	if (hi <= lo) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"[data] mask_strategy = epi: the image has %zu voxels, too few for nilearn's histogram cut-offs; give a mask",
				n3);
		goto done;
	}
	for (i = lo; i < hi; i++) {
		double dlt = sorted[i + 1] - sorted[i];
		if (dlt > best) {
			best = dlt;
			ia = i - lo;
		}
	}
	thr = 0.5 * (sorted[ia + lo] + sorted[ia + lo + 1]);
	for (i = 0; i < n3; i++)
		out[i] = (unsigned char)(mean[i] >= thr);
	/* _post_process_mask(opening=2, connected=True) */
	morph_n(out, tmp, dims, 0, 2);
	if (count(out, n3) == 0) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"[data] mask_strategy = epi: nilearn's compute_epi_mask gives an empty mask here (every voxel is removed by its opening of 2 voxels%s); give a mask, or use mask_strategy = background",
				dims[0] < 5 || dims[1] < 5 || dims[2] < 5 ? ": the grid is thinner than 5 voxels" : "");
		goto done;
	}
	NIDEC_TRY_GOTO(rc, largest_component(out, dims, err), done);
	morph_n(out, tmp, dims, 1, 4);
	morph_n(out, tmp, dims, 0, 2);
	*n_inside = count(out, n3);
	if (*n_inside == 0)
		rc = nidec_fail(err, NIDEC_EINPUT,
				"[data] mask_strategy = epi: the computed mask is empty; give a mask");
done:
	nidec_smoother_free(&sm);
	nidec_free(isnan_);
	nidec_free(tmp);
	nidec_free(sorted);
	return rc;
}

int nidec_mask_compute_background(const double *mean, const int64_t dims[3],
				  unsigned char *out, size_t *n_inside, nidec_err *err)
{
	size_t nx = (size_t)dims[0], ny = (size_t)dims[1], nz = (size_t)dims[2], n3 = nx * ny * nz;
	size_t bx = nx < 2 ? nx : 2, by = ny < 2 ? ny : 2, bz = nz < 2 ? nz : 2;
	size_t cap = 2 * (bx * ny * nz + nx * by * nz + nx * ny * bz), nb = 0, i, j, k, f;
	double *border = nidec_malloc_e(cap ? cap : 1, sizeof(double), "the image border", err);
	double bg;
	int any_nan = 0;

	if (!border)
		return NIDEC_ENOMEM;
	/* nilearn's get_border_data: data[:2], data[-2:], data[:, :2], ...
	 * each face slab whole (voxels on edges counted once per face) */
	for (f = 0; f < 6; f++)
		for (i = 0; i < nx; i++)
			for (j = 0; j < ny; j++)
				for (k = 0; k < nz; k++) {
					int in = 0;
					switch (f) {
					case 0: in = i < bx; break;
					case 1: in = i >= nx - bx; break;
					case 2: in = j < by; break;
					case 3: in = j >= ny - by; break;
					case 4: in = k < bz; break;
					default: in = k >= nz - bz; break;
					}
					if (in)
						border[nb++] = mean[IDX(i, j, k)];
				}
	for (i = 0; i < nb; i++)
		any_nan |= isnan(border[i]) != 0;
	if (any_nan) {
		for (i = 0; i < n3; i++)
			out[i] = (unsigned char)!isnan(mean[i]);
	} else {
		qsort(border, nb, sizeof(double), cmp_double);
		bg = nb % 2 ? border[nb / 2] : (border[nb / 2 - 1] + border[nb / 2]) / 2;
		for (i = 0; i < n3; i++)
			out[i] = (unsigned char)(mean[i] != bg);
	}
	nidec_free(border);
	*n_inside = count(out, n3);
	if (*n_inside == 0)
		return nidec_fail(err, NIDEC_EINPUT,
				  "[data] mask_strategy = background: every voxel has the background value of the image's border; give a mask, or use mask_strategy = epi");
	return 0;
}
