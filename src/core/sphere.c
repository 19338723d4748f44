/*
 * sphere.c - searchlight spheres (include/nidec/sphere.h): nilearn's
 * membership rule on world coordinates, evaluated only over the voxels of
 * a bounding box around each centre instead of a tree over the whole mask.
 *
 * The box: a voxel offset d (in index space) lies at world distance
 * |A d| from the centre, A the affine's 3x3 part, so |d_i| <=
 * radius * |row i of A^-1|; one voxel of margin on each side keeps the
 * box safe from rounding, and the exact test below decides membership.
 * Walking the box with i slowest and k fastest visits voxels in C order,
 * which is mask order: a sphere's voxels come out ascending, no sort.
 *
 * World coordinates are affine . (i, j, k, 1) summed left to right; the
 * squared distance is dx^2 + dy^2 + dz^2 in that order, compared with
 * radius^2, as scikit-learn's KD-tree query (sphere.h).  libc only.
 */
#include <math.h>
#include <string.h>

#include "nidec/mem.h"
#include "nidec/sphere.h"

void nidec_spheres_release(nidec_spheres *s)
{
	static const nidec_spheres empty = NIDEC_SPHERES_INIT;

	if (!s)
		return;
	nidec_free(s->centre);
	nidec_free(s->ptr);
	nidec_free(s->vox);
	*s = empty;
}

static void world(const double a[16], double i, double j, double k, double out[3])
{
	int r;

	for (r = 0; r < 3; r++)
		out[r] = a[r * 4] * i + a[r * 4 + 1] * j + a[r * 4 + 2] * k + a[r * 4 + 3];
}

/* Half-widths of the index box that holds every voxel within `radius`. */
static int box_half_widths(const double a[16], double radius, long half[3])
{
	double m[9], inv[9], det;
	int r, c;

	for (r = 0; r < 3; r++)
		for (c = 0; c < 3; c++)
			m[r * 3 + c] = a[r * 4 + c];
	inv[0] = m[4] * m[8] - m[5] * m[7];
	inv[1] = m[2] * m[7] - m[1] * m[8];
	inv[2] = m[1] * m[5] - m[2] * m[4];
	inv[3] = m[5] * m[6] - m[3] * m[8];
	inv[4] = m[0] * m[8] - m[2] * m[6];
	inv[5] = m[2] * m[3] - m[0] * m[5];
	inv[6] = m[3] * m[7] - m[4] * m[6];
	inv[7] = m[1] * m[6] - m[0] * m[7];
	inv[8] = m[0] * m[4] - m[1] * m[3];
	det = m[0] * inv[0] + m[1] * inv[3] + m[2] * inv[6];
	if (!isfinite(det) || fabs(det) < 1e-12)
		return -1;
	for (r = 0; r < 3; r++) {
		double n = sqrt(inv[r * 3] * inv[r * 3] + inv[r * 3 + 1] * inv[r * 3 + 1] +
				inv[r * 3 + 2] * inv[r * 3 + 2]) / fabs(det);
		double h = radius * n;
		if (!(h < 1e6))
			return -1;
		half[r] = (long)h + 1;
	}
	return 0;
}

int nidec_spheres_build(const int32_t *ijk, size_t p, const int64_t dims[3],
			const double affine[16], const uint32_t *centres, size_t n_centres,
			double radius, nidec_spheres *out, nidec_err *err)
{
	nidec_spheres s = NIDEC_SPHERES_INIT;
	int32_t *grid = NULL;
	double *xyz = NULL, r2 = radius * radius;
	size_t n_grid, v, c, cap, len = 0;
	long half[3];
	int rc = 0;

	if (!(radius > 0))
		return nidec_fail(err, NIDEC_EINPUT, "searchlight radius %g: must be > 0", radius);
	if (box_half_widths(affine, radius, half) < 0)
		return nidec_fail(err, NIDEC_EINPUT,
				  "searchlight: the affine is singular (or the radius %g mm spans over a million voxels)",
				  radius);
	if (nidec_mul_size((size_t)dims[0], (size_t)dims[1], &n_grid) < 0 ||
	    nidec_mul_size(n_grid, (size_t)dims[2], &n_grid) < 0)
		return nidec_fail(err, NIDEC_EINPUT, "searchlight: grid too large");
	grid = nidec_malloc_e(n_grid ? n_grid : 1, sizeof(*grid), "the searchlight grid", err);
	xyz = nidec_malloc_e(p ? 3 * p : 1, sizeof(*xyz), "voxel coordinates", err);
	s.centre = nidec_malloc_e(n_centres ? n_centres : 1, sizeof(*s.centre), "the spheres", err);
	s.ptr = nidec_malloc_e(n_centres + 1, sizeof(*s.ptr), "the spheres", err);
	cap = n_centres * 16 + 16;
	s.vox = nidec_malloc_e(cap, sizeof(*s.vox), "the spheres", err);
	if (!grid || !xyz || !s.centre || !s.ptr || !s.vox) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (v = 0; v < n_grid; v++)
		grid[v] = -1;
	for (v = 0; v < p; v++) {
		const int32_t *q = ijk + 3 * v;
		grid[((size_t)q[0] * (size_t)dims[1] + (size_t)q[1]) * (size_t)dims[2] + (size_t)q[2]] =
			(int32_t)v;
		world(affine, q[0], q[1], q[2], xyz + 3 * v);
	}
	s.min_size = (size_t)-1;
	for (c = 0; c < n_centres; c++) {
		uint32_t cv = centres[c];
		const int32_t *q;
		const double *w0;
		long i, j, k;

		if (cv >= p) {
			rc = nidec_fail(err, NIDEC_EINTERNAL, "searchlight: centre %u of %zu voxels", cv, p);
			goto done;
		}
		q = ijk + 3 * (size_t)cv;
		w0 = xyz + 3 * (size_t)cv;
		s.centre[c] = cv;
		s.ptr[c] = len;
		for (i = q[0] - half[0]; i <= q[0] + half[0]; i++) {
			if (i < 0 || i >= dims[0])
				continue;
			for (j = q[1] - half[1]; j <= q[1] + half[1]; j++) {
				if (j < 0 || j >= dims[1])
					continue;
				for (k = q[2] - half[2]; k <= q[2] + half[2]; k++) {
					int32_t m;
					const double *w;
					double dx, dy, dz;

					if (k < 0 || k >= dims[2])
						continue;
					m = grid[((size_t)i * (size_t)dims[1] + (size_t)j) * (size_t)dims[2] + (size_t)k];
					if (m < 0)
						continue;
					w = xyz + 3 * (size_t)m;
					dx = w[0] - w0[0];
					dy = w[1] - w0[1];
					dz = w[2] - w0[2];
					/* the centre itself always (distance 0 anyway) */
					if (!((size_t)m == cv || dx * dx + dy * dy + dz * dz <= r2))
						continue;
					if (len == cap) {
						uint32_t *nv = nidec_realloc(s.vox, 2 * cap * sizeof(*nv));
						if (!nv) {
							rc = nidec_fail(err, NIDEC_ENOMEM,
									"out of memory building the searchlight spheres");
							goto done;
						}
						s.vox = nv;
						cap *= 2;
					}
					s.vox[len++] = (uint32_t)m;
				}
			}
		}
		if (len - s.ptr[c] < s.min_size)
			s.min_size = len - s.ptr[c];
		if (len - s.ptr[c] > s.max_size)
			s.max_size = len - s.ptr[c];
	}
	s.ptr[n_centres] = len;
	s.n_centres = n_centres;
	if (len && len < cap) {
		/* give back the doubling's slack: every rank keeps the spheres */
		uint32_t *nv = nidec_realloc(s.vox, len * sizeof(*nv));
		if (nv)
			s.vox = nv;
	}
	if (!n_centres)
		s.min_size = 0;
	nidec_spheres_release(out);
	*out = s;
	memset(&s, 0, sizeof(s));
done:
	nidec_spheres_release(&s);
	nidec_free(grid);
	nidec_free(xyz);
	return rc;
}
