/*
 * clean.c - nilearn's signal cleaning and smoothing in C (see clean.h for
 * the semantics, docs/NILEARN.md "Signal cleaning" for what was checked).
 *
 * The Butterworth design follows scipy 1.10's path step by step, so that
 * the coefficients agree with scipy's to rounding (tests/unit/
 * test_core_clean.c embeds scipy's): the analog prototype (buttap), the
 * frequency transform (lp2lp_zpk, lp2hp_zpk, lp2bp_zpk) of the pre-warped
 * cut-offs, the bilinear transform at fs = 2, then zpk2sos's 'nearest'
 * pairing (the pole nearest the unit circle goes last, each pole pair with
 * its nearest zeros).  sosfiltfilt's result does not depend on the pairing
 * (the steady-state initial conditions of a cascade are those of the whole
 * filter), but its padding does depend on the number of sections, which
 * the design fixes: 18 samples for an order-5 high- or low-pass, 33 for a
 * band-pass.
 *
 * Everything runs in double, column by column of the series (a voxel's
 * time course): a block of columns is copied out of the row-major float32
 * matrix, cleaned, and written back, so the per-voxel steps touch
 * contiguous memory.  Depends on base only: no MPI, HDF5, NIfTI or files.
 */
#include <complex.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/cfg.h"
#include "nidec/clean.h"
#include "nidec/mem.h"
#include "nidec/metrics.h" /* numpy's pairwise sum */

/* Columns cleaned together (a block of the matrix copied to doubles). */
#define BLOCK 64

/* ---- Butterworth design (scipy.signal.butter, output='sos') ---------------- */

typedef double complex cplx;

/* scipy's _cplxreal: the conjugate pairs (one member, imag > 0, the pair
 * averaged) then the real values, each group sorted by real part then
 * |imag|.  out gets nc complex values then nr reals (as complex, imag 0). */
static int cmp_re_absim(const void *a, const void *b)
{
	cplx x = *(const cplx *)a, y = *(const cplx *)b;

	if (creal(x) != creal(y))
		return creal(x) < creal(y) ? -1 : 1;
	if (fabs(cimag(x)) != fabs(cimag(y)))
		return fabs(cimag(x)) < fabs(cimag(y)) ? -1 : 1;
	return 0;
}

static size_t cplxreal(const cplx *in, size_t n, cplx *out, int *is_real)
{
	double tol = 100 * DBL_EPSILON;
	cplx s[4 * NIDEC_SOS_MAX], pos[4 * NIDEC_SOS_MAX], neg[4 * NIDEC_SOS_MAX];
	double re[4 * NIDEC_SOS_MAX];
	size_t i, j, nr = 0, np_ = 0, nn = 0, k = 0;

	memcpy(s, in, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_re_absim);
	for (i = 0; i < n; i++) {
		if (fabs(cimag(s[i])) <= tol * cabs(s[i]))
			re[nr++] = creal(s[i]);
		else if (cimag(s[i]) > 0)
			pos[np_++] = s[i];
		else
			neg[nn++] = s[i];
	}
	/* runs of equal real parts are sorted by |imag| (already, by the
	 * sort above); pairs are pos[i] and neg[i] */
	for (i = 0; i < np_ && i < nn; i++) {
		out[k] = (pos[i] + conj(neg[i])) / 2;
		is_real[k++] = 0;
	}
	for (j = 0; j < nr; j++) {
		out[k] = CMPLX(re[j], 0.0);
		is_real[k++] = 1;
	}
	return k;
}

static void remove_at(cplx *v, int *r, size_t *n, size_t i)
{
	memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(*v));
	memmove(r + i, r + i + 1, (*n - i - 1) * sizeof(*r));
	(*n)--;
}

/* Index of the value nearest `to` among v (which: 0 any, 1 real, 2 complex);
 * the first of equals. */
static long nearest(const cplx *v, const int *is_real, size_t n, cplx to, int which)
{
	long best = -1;
	double bd = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = cabs(v[i] - to);
		if ((which == 1 && !is_real[i]) || (which == 2 && is_real[i]))
			continue;
		if (best < 0 || d < bd) {
			best = (long)i;
			bd = d;
		}
	}
	return best;
}

/* Index of the pole nearest the unit circle (scipy's idx_worst). */
static long worst(const cplx *v, const int *is_real, size_t n, int only_real)
{
	long best = -1;
	double bd = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double d = fabs(1 - cabs(v[i]));
		if (only_real && !is_real[i])
			continue;
		if (best < 0 || d < bd) {
			best = (long)i;
			bd = d;
		}
	}
	return best;
}

/* numpy.poly of 1 or 2 roots into 3 coefficients, right-aligned as
 * scipy's _single_zpksos does (a root pair that is a conjugate pair gives
 * real coefficients). */
static void poly3(const cplx *r, size_t n, double out[3])
{
	if (n == 2) {
		cplx a1 = -r[1] + -r[0], a2 = (-r[0]) * (-r[1]);
		out[0] = 1;
		out[1] = creal(a1);
		out[2] = creal(a2);
	} else if (n == 1) {
		out[0] = 0;
		out[1] = 1;
		out[2] = creal(-r[0]);
	} else {
		out[0] = 0;
		out[1] = 0;
		out[2] = 1;
	}
}

static void single_sos(const cplx *z, size_t nz, const cplx *p, size_t np_, double sos[6])
{
	poly3(z, nz, sos);
	poly3(p, np_, sos + 3);
}

/* scipy.signal.zpk2sos(z, p, k) with pairing 'nearest' (digital). */
static size_t zpk2sos(cplx *z0, size_t nz0, cplx *p0, size_t np0, double k, double sos[][6])
{
	cplx z[4 * NIDEC_SOS_MAX], p[4 * NIDEC_SOS_MAX], zz[4 * NIDEC_SOS_MAX], pp[4 * NIDEC_SOS_MAX];
	int zr[4 * NIDEC_SOS_MAX], pr[4 * NIDEC_SOS_MAX];
	size_t nz = nz0, np_ = np0, n_sec, i;
	long si;

	memcpy(zz, z0, nz * sizeof(*zz));
	memcpy(pp, p0, np_ * sizeof(*pp));
	while (np_ < nz)
		pp[np_++] = 0;
	while (nz < np_)
		zz[nz++] = 0;
	n_sec = (np_ + 1) / 2;
	if (np_ % 2 == 1) {
		pp[np_++] = 0;
		zz[nz++] = 0;
	}
	nz = cplxreal(zz, nz, z, zr);
	np_ = cplxreal(pp, np_, p, pr);

	for (si = (long)n_sec - 1; si >= 0; si--) {
		long i1 = worst(p, pr, np_, 0);
		cplx p1 = p[i1], pz[2], zs[2];
		int p1_real = pr[i1];
		size_t n_real_p = 0, n_real_z = 0;

		remove_at(p, pr, &np_, (size_t)i1);
		for (i = 0; i < np_; i++)
			n_real_p += pr[i] != 0;
		for (i = 0; i < nz; i++)
			n_real_z += zr[i] != 0;
		if (p1_real && n_real_p == 0) {
			/* the last real pole, with the nearest real zero and 0 */
			long iz = nearest(z, zr, nz, p1, 1);
			zs[0] = z[iz];
			zs[1] = 0;
			remove_at(z, zr, &nz, (size_t)iz);
			pz[0] = p1;
			pz[1] = 0;
			single_sos(zs, 2, pz, 2, sos[si]);
		} else if (np_ + 1 == nz && !p1_real && n_real_p == 1 && n_real_z == 1) {
			long iz = nearest(z, zr, nz, p1, 2);
			zs[0] = z[iz];
			zs[1] = conj(z[iz]);
			remove_at(z, zr, &nz, (size_t)iz);
			pz[0] = p1;
			pz[1] = conj(p1);
			single_sos(zs, 2, pz, 2, sos[si]);
		} else {
			cplx p2;
			if (p1_real) {
				long i2 = worst(p, pr, np_, 1);
				p2 = p[i2];
				remove_at(p, pr, &np_, (size_t)i2);
			} else {
				p2 = conj(p1);
			}
			pz[0] = p1;
			pz[1] = p2;
			if (nz > 0) {
				long iz = nearest(z, zr, nz, p1, 0);
				cplx z1 = z[iz];
				int z1_real = zr[iz];
				remove_at(z, zr, &nz, (size_t)iz);
				if (!z1_real) {
					zs[0] = z1;
					zs[1] = conj(z1);
					single_sos(zs, 2, pz, 2, sos[si]);
				} else if (nz > 0) {
					long iz2 = nearest(z, zr, nz, p1, 1);
					zs[0] = z1;
					zs[1] = z[iz2];
					remove_at(z, zr, &nz, (size_t)iz2);
					single_sos(zs, 2, pz, 2, sos[si]);
				} else {
					zs[0] = z1;
					single_sos(zs, 1, pz, 2, sos[si]);
				}
			} else {
				single_sos(NULL, 0, pz, 2, sos[si]);
			}
		}
	}
	for (i = 0; i < 3; i++)
		sos[0][i] *= k;
	return n_sec;
}

int nidec_butter_sos(int order, double high_pass, double low_pass, double fs,
		     double sos[][6], size_t *n_sections, nidec_err *err)
{
	cplx p[2 * NIDEC_BUTTER_ORDER], z[2 * NIDEC_BUTTER_ORDER], prod_z = 1, prod_p = 1;
	size_t np_ = 0, nz = 0, i, degree;
	double nyq = fs / 2, k = 1, warped[2], wn[2];
	int hp = !isnan(high_pass), lp = !isnan(low_pass), m;

	if (order < 1 || order > NIDEC_BUTTER_ORDER)
		return nidec_fail(err, NIDEC_EINTERNAL, "butterworth order %d outside 1..%d", order,
				  NIDEC_BUTTER_ORDER);
	if (!hp && !lp)
		return nidec_fail(err, NIDEC_EINTERNAL, "butterworth: no cut-off frequency");
	if (!(fs > 0) || !isfinite(fs))
		return nidec_fail(err, NIDEC_EINPUT, "butterworth: sampling rate %g Hz is not > 0", fs);
	if ((hp && !(high_pass > 0 && high_pass < nyq)) || (lp && !(low_pass > 0 && low_pass < nyq)))
		return nidec_fail(err, NIDEC_EINPUT,
				  "butterworth: cut-off %g Hz is not in (0, %g) (the Nyquist frequency 1 / (2 t_r))",
				  hp && !(high_pass > 0 && high_pass < nyq) ? high_pass : low_pass, nyq);
	if (hp && lp && !(high_pass < low_pass))
		return nidec_fail(err, NIDEC_EINPUT,
				  "butterworth: high_pass %g Hz >= low_pass %g Hz", high_pass, low_pass);

	/* buttap: p = -exp(i pi m / (2N)), m = -N+1, -N+3, ..., N-1 */
	for (m = -order + 1; m < order; m += 2) {
		double a = (M_PI * m) / (2.0 * order);
		p[np_++] = CMPLX(-cos(a), -sin(a));
	}
	/* pre-warp: Wn = 2 f / fs, warped = 2 * 2 * tan(pi Wn / 2) */
	wn[0] = 2 * (hp ? high_pass : low_pass) / fs;
	wn[1] = 2 * low_pass / fs;
	warped[0] = 4.0 * tan(M_PI * wn[0] / 2.0);
	warped[1] = 4.0 * tan(M_PI * wn[1] / 2.0);
	if (hp && lp) {
		double bw = warped[1] - warped[0], wo = sqrt(warped[0] * warped[1]);
		cplx q[NIDEC_BUTTER_ORDER];
		/* lp2bp_zpk */
		for (i = 0; i < np_; i++)
			q[i] = p[i] * bw / 2;
		for (i = 0; i < np_; i++)
			p[i] = q[i] + csqrt(q[i] * q[i] - wo * wo);
		for (i = 0; i < np_; i++)
			p[np_ + i] = q[i] - csqrt(q[i] * q[i] - wo * wo);
		np_ *= 2;
		for (i = 0; i < (size_t)order; i++)
			z[nz++] = 0;
		k = pow(bw, order);
	} else if (hp) {
		double wo = warped[0];
		/* lp2hp_zpk: poles wo / p, N zeros at 0, gain 1 / prod(-p) */
		for (i = 0; i < np_; i++)
			prod_p *= -p[i];
		for (i = 0; i < np_; i++)
			p[i] = wo / p[i];
		for (i = 0; i < (size_t)order; i++)
			z[nz++] = 0;
		k = creal(1.0 / prod_p);
	} else {
		double wo = warped[0];
		for (i = 0; i < np_; i++)
			p[i] = wo * p[i];
		k = pow(wo, order);
	}
	/* bilinear_zpk at fs = 2 (fs2 = 4) */
	degree = np_ - nz;
	prod_z = 1;
	prod_p = 1;
	for (i = 0; i < nz; i++)
		prod_z *= 4.0 - z[i];
	for (i = 0; i < np_; i++)
		prod_p *= 4.0 - p[i];
	for (i = 0; i < nz; i++)
		z[i] = (4.0 + z[i]) / (4.0 - z[i]);
	for (i = 0; i < np_; i++)
		p[i] = (4.0 + p[i]) / (4.0 - p[i]);
	for (i = 0; i < degree; i++)
		z[nz++] = -1;
	k = k * creal(prod_z / prod_p);
	*n_sections = zpk2sos(z, nz, p, np_, k, sos);
	return 0;
}

size_t nidec_sos_padlen(const double sos[][6], size_t n_sections)
{
	size_t i, zb = 0, za = 0, ntaps;

	for (i = 0; i < n_sections; i++) {
		zb += sos[i][2] == 0;
		za += sos[i][5] == 0;
	}
	ntaps = 2 * n_sections + 1 - (zb < za ? zb : za);
	return 3 * ntaps;
}

/* scipy.signal.lfilter_zi of one section (a0 = 1): the steady state of
 * its direct form II transposed for a unit step: (I - A^T) zi = B. */
static void section_zi(const double s[6], double zi[2])
{
	double B0 = s[1] - s[4] * s[0], B1 = s[2] - s[5] * s[0];

	zi[0] = (B0 + B1) / (1 + s[4] + s[5]);
	zi[1] = B1 - s[5] * zi[0];
}

/* sosfilt over x[0..n) with initial state zi (n_sec x 2), in place. */
static void sosfilt(const double sos[][6], size_t n_sec, double *x, size_t n, double zi[][2])
{
	size_t t, s;

	for (t = 0; t < n; t++) {
		double xc = x[t];
		for (s = 0; s < n_sec; s++) {
			double xn = sos[s][0] * xc + zi[s][0];
			zi[s][0] = sos[s][1] * xc - sos[s][4] * xn + zi[s][1];
			zi[s][1] = sos[s][2] * xc - sos[s][5] * xn;
			xc = xn;
		}
		x[t] = xc;
	}
}

int nidec_sosfiltfilt(const double sos[][6], size_t n_sections, double *x, size_t n,
		      double *work, nidec_err *err)
{
	size_t edge = nidec_sos_padlen(sos, n_sections), m, i, s;
	double zi0[NIDEC_SOS_MAX][2], zi[NIDEC_SOS_MAX][2], scale = 1, x0, y0;

	if (n <= edge)
		return nidec_fail(err, NIDEC_EINPUT,
				  "a series of %zu samples is too short for the Butterworth filter (scipy's sosfiltfilt pads %zu samples on each side: it needs more than %zu)",
				  n, edge, edge);
	if (n_sections > NIDEC_SOS_MAX)
		return nidec_fail(err, NIDEC_EINTERNAL, "too many sections (%zu)", n_sections);
	/* sosfilt_zi: each section's steady state times the gain before it */
	for (s = 0; s < n_sections; s++) {
		section_zi(sos[s], zi0[s]);
		zi0[s][0] *= scale;
		zi0[s][1] *= scale;
		scale *= (sos[s][0] + sos[s][1] + sos[s][2]) / (sos[s][3] + sos[s][4] + sos[s][5]);
	}
	/* odd extension: 2 x[0] - x[edge..1], x, 2 x[n-1] - x[n-2..n-1-edge] */
	m = n + 2 * edge;
	for (i = 0; i < edge; i++)
		work[i] = 2 * x[0] - x[edge - i];
	memcpy(work + edge, x, n * sizeof(*x));
	for (i = 0; i < edge; i++)
		work[edge + n + i] = 2 * x[n - 1] - x[n - 2 - i];
	x0 = work[0];
	for (s = 0; s < n_sections; s++) {
		zi[s][0] = zi0[s][0] * x0;
		zi[s][1] = zi0[s][1] * x0;
	}
	sosfilt(sos, n_sections, work, m, zi);
	/* backward: reverse, filter from the last output's steady state */
	for (i = 0; i < m / 2; i++) {
		double t = work[i];
		work[i] = work[m - 1 - i];
		work[m - 1 - i] = t;
	}
	y0 = work[0];
	for (s = 0; s < n_sections; s++) {
		zi[s][0] = zi0[s][0] * y0;
		zi[s][1] = zi0[s][1] * y0;
	}
	sosfilt(sos, n_sections, work, m, zi);
	for (i = 0; i < n; i++)
		x[i] = work[m - 1 - edge - i];
	return 0;
}

/* ---- one series ---------------------------------------------------------- */

struct nidec_cleaner {
	nidec_clean_params cp;
	size_t n;
	double *r;          /* [n] detrend regressor, centred and normalised */
	int filter;
	double sos[NIDEC_SOS_MAX][6];
	size_t n_sec;
	size_t rank;
	double *Q;          /* [rank][n] orthonormal basis of the confounds */
	double *work;       /* filter padding, [n + 2 padlen][BLOCK] */
	double *col;        /* a block of columns, [n][BLOCK] */
	double *coef;       /* [rank][BLOCK] */
};

static double mean_of(const double *x, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += x[i];
	return s / (double)n;
}

static void detrend(double *x, size_t n, const double *r)
{
	double m = mean_of(x, n), d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		x[i] -= m;
	for (i = 0; i < n; i++)
		d += r[i] * x[i];
	for (i = 0; i < n; i++)
		x[i] -= d * r[i];
}

/* numpy's std of x (two passes, its own mean), ddof 0 or 1. */
static double std_of(const double *x, size_t n, int ddof)
{
	double m = mean_of(x, n), s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += (x[i] - m) * (x[i] - m);
	return sqrt(s / (double)(n - (size_t)ddof));
}

/* nilearn's standardize_signal(x, standardize, detrend=False). */
static void standardize(double *x, size_t n, int how)
{
	double m, sd;
	size_t i;

	if (how == NIDEC_CLEAN_STD_NONE || n < 2)
		return;
	m = mean_of(x, n);
	if (how == NIDEC_CLEAN_STD_PSC) {
		if (fabs(m) < DBL_EPSILON) {
			for (i = 0; i < n; i++)
				x[i] = 0;
			return;
		}
		for (i = 0; i < n; i++)
			x[i] = (x[i] - m) / fabs(m) * 100;
		return;
	}
	for (i = 0; i < n; i++)
		x[i] -= m;
	sd = std_of(x, n, how == NIDEC_CLEAN_STD_ZSCORE_SAMPLE ? 1 : 0);
	if (sd < DBL_EPSILON)
		sd = 1;
	for (i = 0; i < n; i++)
		x[i] /= sd;
}

/*
 * Householder QR with column pivoting (LAPACK dgeqp3's choice: the
 * remaining column of largest norm, the first of equals) of A (k columns
 * of n, column-major, destroyed); Q's columns whose |R_jj| > 100 eps go
 * to *Q (rank columns of n).
 */
static int pivoted_basis(double *A, size_t n, size_t k, double **Q, size_t *rank, nidec_err *err)
{
	size_t m = n < k ? n : k, j, c, i, r = 0;
	double *v = NULL, *tau = NULL, *diag = NULL, *q = NULL;
	int rc = 0;

	v = nidec_calloc_e(m ? m : 1, n * sizeof(double), "the confounds' QR", err);
	tau = nidec_calloc_e(m ? m : 1, sizeof(double), "the confounds' QR", err);
	diag = nidec_calloc_e(m ? m : 1, sizeof(double), "the confounds' QR", err);
	if (!v || !tau || !diag) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (j = 0; j < m; j++) {
		size_t best = j;
		double bn = -1, norm = 0, alpha, beta, vnorm2 = 0;
		double *a;
		for (c = j; c < k; c++) {
			double s = 0;
			for (i = j; i < n; i++)
				s += A[c * n + i] * A[c * n + i];
			if (s > bn) {
				bn = s;
				best = c;
			}
		}
		if (best != j)
			for (i = 0; i < n; i++) {
				double t = A[j * n + i];
				A[j * n + i] = A[best * n + i];
				A[best * n + i] = t;
			}
		a = A + j * n;
		norm = sqrt(bn);
		alpha = a[j];
		if (norm == 0) {
			diag[j] = 0;
			tau[j] = 0;
			continue;
		}
		beta = alpha >= 0 ? -norm : norm;
		diag[j] = beta;
		/* v = a[j:] - beta e_j; H = I - 2 v v^T / (v^T v) */
		for (i = j; i < n; i++)
			v[j * n + i] = a[i];
		v[j * n + j] -= beta;
		for (i = j; i < n; i++)
			vnorm2 += v[j * n + i] * v[j * n + i];
		tau[j] = vnorm2 > 0 ? 2 / vnorm2 : 0;
		for (c = j + 1; c < k; c++) {
			double d = 0;
			for (i = j; i < n; i++)
				d += v[j * n + i] * A[c * n + i];
			d *= tau[j];
			for (i = j; i < n; i++)
				A[c * n + i] -= d * v[j * n + i];
		}
	}
	for (j = 0; j < m; j++)
		r += fabs(diag[j]) > DBL_EPSILON * 100;
	q = nidec_calloc_e(r ? r : 1, n * sizeof(double), "the confounds' basis", err);
	if (!q) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	/* column j of Q = H_0 ... H_{m-1} e_j, for the kept j */
	for (j = 0, c = 0; j < m; j++) {
		double *col = q + c * n;
		size_t h;
		if (!(fabs(diag[j]) > DBL_EPSILON * 100))
			continue;
		col[j] = 1;
		for (h = m; h-- > 0;) {
			double d = 0;
			if (tau[h] == 0)
				continue;
			for (i = h; i < n; i++)
				d += v[h * n + i] * col[i];
			d *= tau[h];
			for (i = h; i < n; i++)
				col[i] -= d * v[h * n + i];
		}
		c++;
	}
	*Q = q;
	*rank = r;
	q = NULL;
done:
	nidec_free(v);
	nidec_free(tau);
	nidec_free(diag);
	nidec_free(q);
	return rc;
}

int nidec_cleaner_create(const nidec_clean_params *cp, size_t n, const double *conf, size_t k,
			 nidec_cleaner **out, nidec_err *err)
{
	nidec_cleaner *c;
	double *A = NULL;
	size_t i, j, pad = 0;
	int rc = 0;

	if (n == 0)
		return nidec_fail(err, NIDEC_EINTERNAL, "cleaning an empty series");
	c = nidec_calloc_e(1, sizeof(*c), "the cleaner", err);
	if (!c)
		return NIDEC_ENOMEM;
	c->cp = *cp;
	c->n = n;
	c->filter = !isnan(cp->high_pass) || !isnan(cp->low_pass);
	if (c->filter) {
		NIDEC_TRY_GOTO(rc, nidec_butter_sos(NIDEC_BUTTER_ORDER, cp->high_pass, cp->low_pass,
						    1.0 / cp->t_r, c->sos, &c->n_sec, err), fail);
		pad = nidec_sos_padlen((const double (*)[6])c->sos, c->n_sec);
		if (n <= pad) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"a series of %zu volumes is too short for the Butterworth filter (scipy's sosfiltfilt pads %zu volumes on each side: it needs more than %zu); remove [clean] high_pass / low_pass or give longer runs",
					n, pad, pad);
			goto fail;
		}
	}
	c->r = nidec_malloc_e(n, sizeof(double), "the detrend regressor", err);
	c->work = nidec_malloc_e(n + 2 * pad, BLOCK * sizeof(double), "the filter's padding", err);
	c->col = nidec_malloc_e(BLOCK, n * sizeof(double), "a block of time courses", err);
	if (!c->r || !c->work || !c->col) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	/* nilearn's _detrend regressor: arange(n) centred, divided by its norm
	 * unless that is below eps */
	{
		double m = (double)(n - 1) / 2.0, s = 0;
		for (i = 0; i < n; i++) {
			c->r[i] = (double)i - m;
			s += c->r[i] * c->r[i];
		}
		s = sqrt(s);
		if (!(s < DBL_EPSILON))
			for (i = 0; i < n; i++)
				c->r[i] /= s;
	}
	if (k > 0) {
		A = nidec_malloc_e(k, n * sizeof(double), "the confounds", err);
		if (!A) {
			rc = NIDEC_ENOMEM;
			goto fail;
		}
		for (j = 0; j < k; j++)
			for (i = 0; i < n; i++) {
				double v = conf[i * k + j];
				if (!isfinite(v)) {
					rc = nidec_fail(err, NIDEC_EINPUT,
							"confound %zu, sample %zu: %g is not a finite number", j + 1, i, v);
					goto fail;
				}
				A[j * n + i] = v;
			}
		for (j = 0; j < k; j++) {
			double *a = A + j * n;
			if (cp->detrend && n > 1)
				detrend(a, n, c->r);
			if (c->filter)
				NIDEC_TRY_GOTO(rc, nidec_sosfiltfilt((const double (*)[6])c->sos, c->n_sec, a, n,
								     c->work, err), fail);
			if (cp->standardize_confounds) {
				standardize(a, n, NIDEC_CLEAN_STD_ZSCORE);
			} else {
				double mx = 0;
				for (i = 0; i < n; i++)
					if (fabs(a[i]) > mx)
						mx = fabs(a[i]);
				if (mx == 0)
					mx = 1;
				for (i = 0; i < n; i++)
					a[i] /= mx;
			}
		}
		NIDEC_TRY_GOTO(rc, pivoted_basis(A, n, k, &c->Q, &c->rank, err), fail);
		c->coef = nidec_malloc_e(c->rank ? c->rank : 1, BLOCK * sizeof(double), "the projection", err);
		if (!c->coef) {
			rc = NIDEC_ENOMEM;
			goto fail;
		}
	}
	nidec_free(A);
	*out = c;
	return 0;
fail:
	nidec_free(A);
	nidec_cleaner_free(&c);
	return rc;
}

size_t nidec_cleaner_rank(const nidec_cleaner *c)
{
	return c ? c->rank : 0;
}

/* The mean over time of each of a block's nb voxels (x is [n][nb]),
 * summed in time order. */
static void block_means(const double *x, size_t n, size_t nb, double *mean)
{
	double acc[BLOCK];
	size_t i, b;

	for (b = 0; b < nb; b++)
		acc[b] = 0;
	for (i = 0; i < n; i++)
		for (b = 0; b < nb; b++)
			acc[b] += x[i * nb + b];
	for (b = 0; b < nb; b++)
		mean[b] = acc[b] / (double)n;
}

/*
 * A block of nb voxels' time courses, in place (clean.h, steps 1-4): x is
 * [n][nb], time-major, so that every loop below runs over the voxels of
 * one time point (contiguous: the compiler vectorizes it) while each
 * voxel's own arithmetic keeps the order of the one-column version (sums
 * over time, the filter's recursion, the projection one confound after
 * the other): a voxel's result does not depend on its block.
 */
static int clean_block(nidec_cleaner *c, double *x, size_t nb, nidec_err *err)
{
	size_t n = c->n, i, j, b, s_;
	double m0[BLOCK], acc[BLOCK];

	block_means(x, n, nb, m0);
	if (c->cp.detrend && n > 1) {
		/* detrend(): the mean (m0: the same sum), then the projection on r */
		for (i = 0; i < n; i++)
			for (b = 0; b < nb; b++)
				x[i * nb + b] -= m0[b];
		for (b = 0; b < nb; b++)
			acc[b] = 0;
		for (i = 0; i < n; i++)
			for (b = 0; b < nb; b++)
				acc[b] += c->r[i] * x[i * nb + b];
		for (i = 0; i < n; i++)
			for (b = 0; b < nb; b++)
				x[i * nb + b] -= acc[b] * c->r[i];
	}
	if (c->filter) {
		/* sosfiltfilt of each column (nidec_sosfiltfilt's steps, across
		 * the block): odd extension, forward, backward */
		size_t edge = nidec_sos_padlen((const double (*)[6])c->sos, c->n_sec), m = n + 2 * edge, t;
		double *w = c->work, zi0[NIDEC_SOS_MAX][2], scale = 1;
		double z0[NIDEC_SOS_MAX][BLOCK], z1[NIDEC_SOS_MAX][BLOCK];
		for (s_ = 0; s_ < c->n_sec; s_++) {
			section_zi(c->sos[s_], zi0[s_]);
			zi0[s_][0] *= scale;
			zi0[s_][1] *= scale;
			scale *= (c->sos[s_][0] + c->sos[s_][1] + c->sos[s_][2]) /
				 (c->sos[s_][3] + c->sos[s_][4] + c->sos[s_][5]);
		}
		for (i = 0; i < edge; i++)
			for (b = 0; b < nb; b++)
				w[i * nb + b] = 2 * x[b] - x[(edge - i) * nb + b];
		memcpy(w + edge * nb, x, n * nb * sizeof(double));
		for (i = 0; i < edge; i++)
			for (b = 0; b < nb; b++)
				w[(edge + n + i) * nb + b] = 2 * x[(n - 1) * nb + b] - x[(n - 2 - i) * nb + b];
		for (int pass = 0; pass < 2; pass++) {
			/* forward over w[0..m), or backward over w[m-1..0] */
			const double *first = pass ? w + (m - 1) * nb : w;
			for (s_ = 0; s_ < c->n_sec; s_++)
				for (b = 0; b < nb; b++) {
					z0[s_][b] = zi0[s_][0] * first[b];
					z1[s_][b] = zi0[s_][1] * first[b];
				}
			for (t = 0; t < m; t++) {
				double *restrict row = w + (pass ? m - 1 - t : t) * nb;
				for (s_ = 0; s_ < c->n_sec; s_++) {
					const double b0 = c->sos[s_][0], b1 = c->sos[s_][1], b2 = c->sos[s_][2];
					const double a1 = c->sos[s_][4], a2 = c->sos[s_][5];
					double *restrict za = z0[s_], *restrict zb = z1[s_];
					for (b = 0; b < nb; b++) {
						double xc = row[b], xn = b0 * xc + za[b];
						za[b] = b1 * xc - a1 * xn + zb[b];
						zb[b] = b2 * xc - a2 * xn;
						row[b] = xn;
					}
				}
			}
		}
		memcpy(x, w + edge * nb, n * nb * sizeof(double));
	}
	if (c->rank) {
		/* time outer, confound inner: a row of x and the coefficients
		 * stay in cache; each sum still runs over time in order, and
		 * each x[i] loses the confounds' parts one after the other */
		size_t rk = c->rank;
		for (j = 0; j < rk; j++)
			for (b = 0; b < nb; b++)
				c->coef[j * nb + b] = 0;
		for (i = 0; i < n; i++) {
			const double *restrict xi = x + i * nb;
			for (j = 0; j < rk; j++) {
				const double qji = c->Q[j * n + i];
				double *restrict cj = c->coef + j * nb;
				for (b = 0; b < nb; b++)
					cj[b] += qji * xi[b];
			}
		}
		for (i = 0; i < n; i++) {
			double *restrict xi = x + i * nb;
			for (j = 0; j < rk; j++) {
				const double qji = c->Q[j * n + i];
				const double *restrict cj = c->coef + j * nb;
				for (b = 0; b < nb; b++)
					xi[b] -= cj[b] * qji;
			}
		}
	}
	if ((c->cp.detrend && c->cp.standardize == NIDEC_CLEAN_STD_PSC) || c->filter)
		for (i = 0; i < n; i++)
			for (b = 0; b < nb; b++)
				x[i * nb + b] += m0[b];
	if (c->cp.standardize != NIDEC_CLEAN_STD_NONE && n >= 2) {
		double mu[BLOCK], sd[BLOCK];
		block_means(x, n, nb, mu);
		if (c->cp.standardize == NIDEC_CLEAN_STD_PSC) {
			for (i = 0; i < n; i++)
				for (b = 0; b < nb; b++)
					x[i * nb + b] = fabs(mu[b]) < DBL_EPSILON ? 0
							: (x[i * nb + b] - mu[b]) / fabs(mu[b]) * 100;
			return 0;
		}
		for (i = 0; i < n; i++)
			for (b = 0; b < nb; b++)
				x[i * nb + b] -= mu[b];
		/* numpy's std: its own mean of the centred values, then the
		 * sum of squares */
		block_means(x, n, nb, mu);
		for (b = 0; b < nb; b++)
			acc[b] = 0;
		for (i = 0; i < n; i++)
			for (b = 0; b < nb; b++) {
				double d = x[i * nb + b] - mu[b];
				acc[b] += d * d;
			}
		for (b = 0; b < nb; b++) {
			sd[b] = sqrt(acc[b] / (double)(n - (c->cp.standardize == NIDEC_CLEAN_STD_ZSCORE_SAMPLE)));
			if (sd[b] < DBL_EPSILON)
				sd[b] = 1;
		}
		for (i = 0; i < n; i++)
			for (b = 0; b < nb; b++)
				x[i * nb + b] /= sd[b];
	}
	(void)err;
	return 0;
}

int nidec_cleaner_apply(nidec_cleaner *c, float *X, size_t p, size_t ld, nidec_err *err)
{
	size_t n = c->n, j0, b, i;

	for (j0 = 0; j0 < p; j0 += BLOCK) {
		size_t nb = p - j0 < BLOCK ? p - j0 : BLOCK;
		for (i = 0; i < n; i++) {
			const float *row = X + i * ld + j0;
			for (b = 0; b < nb; b++)
				c->col[i * nb + b] = row[b];
		}
		NIDEC_TRY(clean_block(c, c->col, nb, err));
		for (i = 0; i < n; i++) {
			float *row = X + i * ld + j0;
			for (b = 0; b < nb; b++)
				row[b] = (float)c->col[i * nb + b];
		}
	}
	return 0;
}

void nidec_cleaner_free(nidec_cleaner **cp)
{
	nidec_cleaner *c = cp ? *cp : NULL;

	if (!c)
		return;
	nidec_free(c->r);
	nidec_free(c->Q);
	nidec_free(c->work);
	nidec_free(c->col);
	nidec_free(c->coef);
	nidec_free(c);
	*cp = NULL;
}

/* ---- smoothing (nilearn _smooth_array, scipy gaussian_filter1d) ----------- */

#define MAX_RADIUS 1024

struct nidec_smoother {
	int64_t dims[3];
	int radius[3];
	double *w[3];       /* [radius + 1] */
	int round32;
	double *ext;        /* a line with its reflected borders */
	double *out;        /* a filtered line */
	double *A;          /* nidec_smoother_apply_box: the x pass, [nx * ny * nz] */
};

void nidec_smooth_sigma(double fwhm, const double affine[16], double sigma[3])
{
	double ratio = sqrt(8 * log(2.0));
	int a;

	for (a = 0; a < 3; a++) {
		double v = sqrt(affine[0 * 4 + a] * affine[0 * 4 + a] + affine[1 * 4 + a] * affine[1 * 4 + a] +
				affine[2 * 4 + a] * affine[2 * 4 + a]);
		sigma[a] = fwhm / (ratio * v);
	}
}

int nidec_gauss_kernel(double sigma, double *w, int max_radius)
{
	int radius = (int)(4.0 * sigma + 0.5), x;
	double phi[2 * 128 + 1], c, s;

	if (radius > max_radius || radius > 128)
		return -1;
	c = -0.5 / (sigma * sigma);
	for (x = -radius; x <= radius; x++)
		phi[x + radius] = exp(c * (double)(x * x));
	s = nidec_sum_pairwise(phi, (size_t)(2 * radius + 1));
	for (x = 0; x <= radius; x++)
		w[x] = phi[x + radius] / s;
	return radius;
}

int nidec_smoother_create(const int64_t dims[3], const double sigma[3], int round32,
			  nidec_smoother **out, nidec_err *err)
{
	nidec_smoother *s = nidec_calloc_e(1, sizeof(*s), "the smoother", err);
	int64_t maxlen = 1;
	int a, maxr = 0;

	if (!s)
		return NIDEC_ENOMEM;
	memcpy(s->dims, dims, sizeof(s->dims));
	s->round32 = round32;
	for (a = 0; a < 3; a++) {
		if (dims[a] > maxlen)
			maxlen = dims[a];
		if (!(sigma[a] > 0))
			continue;
		s->w[a] = nidec_malloc_e(129, sizeof(double), "a smoothing kernel", err);
		if (!s->w[a])
			goto oom;
		s->radius[a] = nidec_gauss_kernel(sigma[a], s->w[a], 128);
		if (s->radius[a] < 0) {
			nidec_smoother_free(&s);
			return nidec_fail(err, NIDEC_EINPUT,
					  "[clean] smoothing_fwhm: a Gaussian of sigma %g voxels is wider than nidec smooths (radius 128); give a smaller FWHM",
					  sigma[a]);
		}
		if (s->radius[a] > maxr)
			maxr = s->radius[a];
	}
	s->ext = nidec_malloc_e((size_t)maxlen + 2 * (size_t)maxr, sizeof(double), "a line", err);
	s->out = nidec_malloc_e((size_t)maxlen, sizeof(double), "a line", err);
	s->A = nidec_malloc_e((size_t)dims[0] * (size_t)dims[1], (size_t)dims[2] * sizeof(double),
			      "a smoothed volume", err);
	if (!s->ext || !s->out || !s->A)
		goto oom;
	*out = s;
	return 0;
oom:
	nidec_smoother_free(&s);
	return NIDEC_ENOMEM;
}

/* scipy's 'reflect' extension (half-sample symmetric, period 2 n). */
static size_t refl(long i, size_t n)
{
	long p = 2 * (long)n, j = i % p;

	if (j < 0)
		j += p;
	return (size_t)(j < (long)n ? j : p - 1 - j);
}

void nidec_smoother_apply(nidec_smoother *s, double *vol)
{
	size_t nx = (size_t)s->dims[0], ny = (size_t)s->dims[1], nz = (size_t)s->dims[2];
	size_t n3 = nx * ny * nz, v;
	int a;

	for (v = 0; v < n3; v++)
		if (!isfinite(vol[v]))
			vol[v] = 0;
	for (a = 0; a < 3; a++) {
		size_t len = (size_t)s->dims[a], stride = a == 0 ? 1 : a == 1 ? nx : nx * ny;
		size_t n_lines = n3 / len, l, i;
		int r = s->radius[a], j;
		const double *w = s->w[a];
		if (!w)
			continue;
		for (l = 0; l < n_lines; l++) {
			/* the line's first voxel: lines along x start at every (y, z),
			 * along y at every (x, z), along z at every (x, y) */
			size_t base = a == 0 ? l * nx : a == 1 ? (l % nx) + (l / nx) * nx * ny : l;
			double *e = s->ext + r;
			for (i = 0; i < len; i++)
				e[i] = vol[base + i * stride];
			for (j = 1; j <= r; j++) {
				e[-j] = e[refl(-j, len)];
				e[(long)len - 1 + j] = e[refl((long)len - 1 + j, len)];
			}
			for (i = 0; i < len; i++) {
				double t = e[i] * w[0];
				for (j = r; j >= 1; j--)
					t += (e[(long)i - j] + e[i + (size_t)j]) * w[j];
				s->out[i] = t;
			}
			for (i = 0; i < len; i++)
				vol[base + i * stride] = s->round32 ? (double)(float)s->out[i] : s->out[i];
		}
	}
}

static double finite_or_0(float v)
{
	return isfinite(v) ? (double)v : 0.0;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* One pass across rows (y: rows of x at y +- j within a z plane; z: planes
 * at z +- j): dst[x] over [x0, x1] of the rows listed, each output the
 * kernel's sum in scipy's order (centre, then the pairs from the farthest
 * in), rounded as the smoother says.  `row(k)` is the k-th row along the
 * axis for the current line. */
static void pass_rows(const nidec_smoother *s, int axis, const double *src, double *dst, int64_t x0,
		      int64_t x1, int64_t y0, int64_t y1, int64_t z0, int64_t z1)
{
	size_t nx = (size_t)s->dims[0], ny = (size_t)s->dims[1], len = (size_t)s->dims[axis];
	const double *w = s->w[axis];
	int r = s->radius[axis], j;
	int64_t y, z, x;

	for (z = z0; z <= z1; z++)
		for (y = y0; y <= y1; y++) {
			int64_t pos = axis == 1 ? y : z;
			double *d = dst + nx * ((size_t)y + ny * (size_t)z);
			const double *c = src + nx * ((size_t)y + ny * (size_t)z);
			for (x = x0; x <= x1; x++)
				d[x] = c[x] * w[0];
			for (j = r; j >= 1; j--) {
				size_t km = refl((long)pos - j, len), kp = refl((long)pos + j, len);
				const double *rm = axis == 1 ? src + nx * (km + ny * (size_t)z) : src + nx * ((size_t)y + ny * km);
				const double *rp = axis == 1 ? src + nx * (kp + ny * (size_t)z) : src + nx * ((size_t)y + ny * kp);
				for (x = x0; x <= x1; x++)
					d[x] += (rm[x] + rp[x]) * w[j];
			}
			if (s->round32)
				for (x = x0; x <= x1; x++)
					d[x] = (double)(float)d[x];
		}
}

void nidec_smoother_apply_box(nidec_smoother *s, const float *in, const int64_t lo[3],
			      const int64_t hi[3], double *out)
{
	int64_t nx = s->dims[0], ny = s->dims[1], nz = s->dims[2], x, y, z;
	int64_t ry = s->w[1] ? s->radius[1] : 0, rz = s->w[2] ? s->radius[2] : 0;
	/* the rows each pass must produce so that the box's outputs exist */
	int64_t zlo = max64(0, lo[2] - rz), zhi = min64(nz - 1, hi[2] + rz);
	int64_t ylo = max64(0, lo[1] - ry), yhi = min64(ny - 1, hi[1] + ry);
	double *A = s->A, *B = out;
	int r = s->radius[0], j;

	/* x: whole lines (for the reflections), outputs in the box's x range */
	for (z = zlo; z <= zhi; z++)
		for (y = ylo; y <= yhi; y++) {
			const float *line = in + (size_t)nx * ((size_t)y + (size_t)ny * (size_t)z);
			double *d = A + (size_t)nx * ((size_t)y + (size_t)ny * (size_t)z);
			if (!s->w[0]) {
				for (x = lo[0]; x <= hi[0]; x++)
					d[x] = finite_or_0(line[x]);
				continue;
			}
			{
				double *restrict e = s->ext + r;
				const double *w = s->w[0];
				int64_t x0 = lo[0], x1 = hi[0];
				for (x = 0; x < nx; x++) {
					float v = line[x];
					e[x] = isfinite(v) ? (double)v : 0.0;
				}
				for (j = 1; j <= r; j++) {
					e[-j] = e[refl(-j, (size_t)nx)];
					e[nx - 1 + j] = e[refl((long)nx - 1 + j, (size_t)nx)];
				}
				/* each output: the centre, then the pairs from the
				 * farthest in (scipy's order), across the line */
				for (x = x0; x <= x1; x++)
					d[x] = e[x] * w[0];
				for (j = r; j >= 1; j--) {
					const double wj = w[j];
					for (x = x0; x <= x1; x++)
						d[x] += (e[x - j] + e[x + j]) * wj;
				}
				if (s->round32)
					for (x = x0; x <= x1; x++)
						d[x] = (double)(float)d[x];
			}
		}
	/* y: A -> B over the box's x and y, the planes z needs */
	if (s->w[1]) {
		pass_rows(s, 1, A, B, lo[0], hi[0], lo[1], hi[1], zlo, zhi);
	} else {
		for (z = zlo; z <= zhi; z++)
			for (y = lo[1]; y <= hi[1]; y++)
				memcpy(B + (size_t)nx * ((size_t)y + (size_t)ny * (size_t)z) + lo[0],
				       A + (size_t)nx * ((size_t)y + (size_t)ny * (size_t)z) + lo[0],
				       (size_t)(hi[0] - lo[0] + 1) * sizeof(double));
	}
	/* z: B -> A over the box, then back into out */
	if (s->w[2]) {
		pass_rows(s, 2, B, A, lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]);
		for (z = lo[2]; z <= hi[2]; z++)
			for (y = lo[1]; y <= hi[1]; y++)
				memcpy(B + (size_t)nx * ((size_t)y + (size_t)ny * (size_t)z) + lo[0],
				       A + (size_t)nx * ((size_t)y + (size_t)ny * (size_t)z) + lo[0],
				       (size_t)(hi[0] - lo[0] + 1) * sizeof(double));
	}
}

void nidec_smoother_free(nidec_smoother **sp)
{
	nidec_smoother *s = sp ? *sp : NULL;
	int a;

	if (!s)
		return;
	for (a = 0; a < 3; a++)
		nidec_free(s->w[a]);
	nidec_free(s->ext);
	nidec_free(s->out);
	nidec_free(s->A);
	nidec_free(s);
	*sp = NULL;
}
