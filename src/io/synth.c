/*
 * synth.c - synthetic subjects with a planted signal (see synth.h).
 *
 * Streams (nidec_seed_mix(seed, what, a, b)): 1 = voxel baselines,
 * 2 = class patterns (a = class), 3 = block order (a = run), 4 = run offset
 * (a = run), 5 = noise (a = run, b = volume).  So a run can be written by
 * any rank, and a volume's noise does not depend on the others.
 * The block design: unit = volumes / classes; each class block lasts
 * unit - max(1, unit / 3) volumes and follows a rest gap of the remainder;
 * volumes after the last unit are rest.  Event onsets are written as
 * volume index x TR, with the TR as stored in the header (float32), so the
 * events -> labels rule of convert gives back exactly the planted design.
 * The across-subject set (synth.h) adds streams 9 (its pattern), 10
 * (a subject's score and age, a = subject) and 11 (a subject's noise).
 * Every file is written through a temporary and renamed (file.h); runs
 * written by different ranks never share a temporary's name.
 * Depends on base and nii.c; no MPI, no HDF5.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nifti1.h>

#include "nidec/file.h"
#include "nidec/mem.h"
#include "nidec/nii.h"
#include "nidec/rng.h"
#include "nidec/sbuf.h"
#include "nidec/synth.h"

#define SIGMA 20.0  /* noise standard deviation, in stored units */

static const char *const names[] = { "face", "cat", "house", "chair", "scissors", "shoe",
				     "bottle", "scrambledpix" };

const char *nidec_synth_class_name(int c, char *buf, size_t n)
{
	if (c >= 0 && c < (int)(sizeof(names) / sizeof(names[0])))
		return names[c];
	snprintf(buf, n, "class%02d", c + 1);
	return buf;
}

int nidec_synth_check(const nidec_synth_opts *o, nidec_err *err)
{
	uint64_t n = 1;
	int i;

	if (!o->dir || !o->dir[0])
		return nidec_fail(err, NIDEC_EINPUT, "synth: no output directory; give -o DIR");
	for (i = 0; i < 3; i++) {
		if (o->dims[i] < 1 || o->dims[i] > 32767)
			return nidec_fail(err, NIDEC_EINPUT,
					  "synth: --dims %lldx%lldx%lld: each dimension must be 1..32767",
					  (long long)o->dims[0], (long long)o->dims[1], (long long)o->dims[2]);
		n *= (uint64_t)o->dims[i];
	}
	if (n > ((uint64_t)1 << 31))
		return nidec_fail(err, NIDEC_EINPUT, "synth: --dims: %llu voxels is too many (max 2^31)",
				  (unsigned long long)n);
	if (o->runs < 1 || o->runs > 9999)
		return nidec_fail(err, NIDEC_EINPUT, "synth: --runs %d: give 1..9999", o->runs);
	if (o->classes < 2 || o->classes > 64)
		return nidec_fail(err, NIDEC_EINPUT, "synth: --classes %d: give 2..64", o->classes);
	if (o->volumes < 2 * o->classes || o->volumes > 32767)
		return nidec_fail(err, NIDEC_EINPUT,
				  "synth: --volumes %d: give at least 2 per class (%d) and at most 32767",
				  o->volumes, 2 * o->classes);
	if (!(o->tr > 0) || o->tr > 1000)
		return nidec_fail(err, NIDEC_EINPUT, "synth: --tr %g: give seconds in (0, 1000]", o->tr);
	if (o->target && o->fmriprep)
		return nidec_fail(err, NIDEC_EINPUT,
				  "synth: --target writes the flat layout only; drop --layout fmriprep or --target");
	if (o->across && (o->across < 3 || o->across > 9999))
		return nidec_fail(err, NIDEC_EINPUT,
				  "synth: --across-subjects %d: give 3..9999 subjects (0: a single subject's runs)",
				  o->across);
	if (o->across && (o->target || o->fmriprep))
		return nidec_fail(err, NIDEC_EINPUT,
				  "synth: --across-subjects writes one map per subject with its own target; drop %s",
				  o->target ? "--target" : "--layout fmriprep");
	if (!(o->signal >= 0) || o->signal > 100)
		return nidec_fail(err, NIDEC_EINPUT, "synth: --signal %g: give 0..100 (noise SDs)", o->signal);
	if (!(o->signal_radius >= 0) || o->signal_radius > 1e6)
		return nidec_fail(err, NIDEC_EINPUT, "synth: --signal-radius %g: give mm >= 0 (0 = everywhere)",
				  o->signal_radius);
	if (!(o->mask_fraction > 0) || o->mask_fraction > 1)
		return nidec_fail(err, NIDEC_EINPUT, "synth: --mask-fraction %g: give a fraction in (0, 1]",
				  o->mask_fraction);
	if (!(o->voxel_size > 0) || o->voxel_size > 1000)
		return nidec_fail(err, NIDEC_EINPUT, "synth: --voxel-size %g: give mm in (0, 1000]", o->voxel_size);
	if (o->compress_level < 1 || o->compress_level > 9)
		return nidec_fail(err, NIDEC_EINPUT, "synth: --compress %d: give 1..9", o->compress_level);
	if (o->session && (!o->session[0] || strpbrk(o->session, "/_- \t") || !o->fmriprep))
		return nidec_fail(err, NIDEC_EINPUT,
				  "synth: --session '%s': give a BIDS label (letters and digits), with --layout fmriprep",
				  o->session);
	if (!o->subject || !o->subject[0] || strpbrk(o->subject, "/_- \t"))
		return nidec_fail(err, NIDEC_EINPUT,
				  "synth: --subject '%s': give a BIDS label (letters and digits)",
				  o->subject ? o->subject : "");
	return 0;
}

static size_t count_inside(const nidec_synth_opts *o, double s, unsigned char *out)
{
	size_t n = 0;
	int64_t i, j, k;
	double c[3], r[3];
	int d;

	for (d = 0; d < 3; d++) {
		c[d] = (double)(o->dims[d] - 1) / 2.0;
		r[d] = s * (double)o->dims[d] / 2.0;
		if (r[d] <= 0)
			r[d] = 1e-12;
	}
	for (k = 0; k < o->dims[2]; k++)
		for (j = 0; j < o->dims[1]; j++)
			for (i = 0; i < o->dims[0]; i++) {
				double x = ((double)i - c[0]) / r[0], y = ((double)j - c[1]) / r[1],
				       z = ((double)k - c[2]) / r[2];
				int in = x * x + y * y + z * z <= 1.0;
				if (out)
					out[(size_t)i + (size_t)o->dims[0] * ((size_t)j + (size_t)o->dims[1] * (size_t)k)] =
						(unsigned char)in;
				n += (size_t)in;
			}
	return n;
}

int nidec_synth_mask(const nidec_synth_opts *o, unsigned char **mask, size_t *n_inside,
		     nidec_err *err)
{
	size_t n3 = (size_t)o->dims[0] * (size_t)o->dims[1] * (size_t)o->dims[2], target;
	double lo = 0, hi = 2;
	unsigned char *m;
	int it;

	target = (size_t)llround(o->mask_fraction * (double)n3);
	if (target < 1)
		target = 1;
	/* smallest scale of the ellipsoid that holds `target` voxels */
	for (it = 0; it < 50; it++) {
		double mid = (lo + hi) / 2;
		if (count_inside(o, mid, NULL) >= target)
			hi = mid;
		else
			lo = mid;
	}
	m = nidec_malloc_e(n3, 1, "the synthetic mask", err);
	if (!m)
		return NIDEC_ENOMEM;
	*n_inside = count_inside(o, hi, m);
	*mask = m;
	return 0;
}

static void affine_of(const nidec_synth_opts *o, double aff[16])
{
	int d;

	memset(aff, 0, 16 * sizeof(double));
	for (d = 0; d < 3; d++) {
		aff[d * 4 + d] = o->voxel_size;
		aff[d * 4 + 3] = -(double)(o->dims[d] - 1) / 2.0 * o->voxel_size;
	}
	aff[15] = 1;
}

/* A 3D image on the grid: uint8 masks, compressed at level 6. */
static void spec_3d(const nidec_synth_opts *o, nidec_nii_spec *spec, int datatype, const char *descrip)
{
	memset(spec, 0, sizeof(*spec));
	spec->ndim = 3;
	spec->dims[0] = o->dims[0];
	spec->dims[1] = o->dims[1];
	spec->dims[2] = o->dims[2];
	spec->dims[3] = 1;
	spec->datatype = datatype;
	affine_of(o, spec->affine);
	spec->xform_code = 1;
	spec->pixdim[0] = spec->pixdim[1] = spec->pixdim[2] = o->voxel_size;
	spec->compress_level = 6;
	spec->descrip = descrip;
}

/* Grid voxel q (x fastest) lies more than signal_radius mm from the grid's
 * centre voxel (always 0 without a radius). */
static int beyond_radius(const nidec_synth_opts *o, size_t q)
{
	double ijk[3] = { (double)(q % (size_t)o->dims[0]),
			  (double)(q / (size_t)o->dims[0] % (size_t)o->dims[1]),
			  (double)(q / ((size_t)o->dims[0] * (size_t)o->dims[1])) }, d2 = 0;
	int a;

	if (!(o->signal_radius > 0))
		return 0;
	for (a = 0; a < 3; a++) {
		double e = (ijk[a] - (double)(o->dims[a] - 1) / 2) * o->voxel_size;
		d2 += e * e;
	}
	return d2 > o->signal_radius * o->signal_radius;
}

/* The label (class index, -1 = rest) of each volume of run r. */
static int design(const nidec_synth_opts *o, int run, int *label, nidec_err *err)
{
	int unit = o->volumes / o->classes, block, gap, q, t, *order;
	nidec_rng rng;

	block = unit - (unit / 3 > 1 ? unit / 3 : 1);
	gap = unit - block;
	order = nidec_malloc_e((size_t)o->classes, sizeof(int), "a block order", err);
	if (!order)
		return NIDEC_ENOMEM;
	for (q = 0; q < o->classes; q++)
		order[q] = q;
	nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 3, (uint64_t)run, 0));
	nidec_rng_shuffle_int(&rng, order, (size_t)o->classes);
	for (t = 0; t < o->volumes; t++)
		label[t] = -1;
	for (q = 0; q < o->classes; q++)
		for (t = q * unit + gap; t < (q + 1) * unit; t++)
			label[t] = order[q];
	nidec_free(order);
	return 0;
}

static void normals(nidec_rng *rng, float *out, size_t n);

static double tr_stored(const nidec_synth_opts *o)
{
	return (double)(float)o->tr;
}

/* <dir>/sub-<subject>_task-synth_run-<NN>_<suffix> into buf[n]. */
static int run_name(const nidec_synth_opts *o, int run, const char *suffix, char *buf, size_t n,
		    nidec_err *err)
{
	char name[512];
	int k = snprintf(name, sizeof(name), "sub-%s_task-synth_run-%0*d_%s", o->subject,
			 o->runs >= 100 ? 3 : 2, run + 1, suffix);

	if (k < 0 || (size_t)k >= sizeof(name))
		return nidec_fail(err, NIDEC_EINPUT, "synth: --subject '%.100s...' is too long; give a shorter label",
				  o->subject);
	return nidec_file_join(buf, n, o->dir, name, err);
}

/* ---- the fmriprep layout ------------------------------------------------- */

/* The directory of the subject's func files: raw (deriv = 0) or
 * derivatives/fmriprep (deriv = 1). */
static int bids_dir(const nidec_synth_opts *o, int deriv, char *buf, size_t n, nidec_err *err)
{
	int k;

	if (o->session)
		k = snprintf(buf, n, "%s%s/sub-%s/ses-%s/func", o->dir, deriv ? "/derivatives/fmriprep" : "",
			     o->subject, o->session);
	else
		k = snprintf(buf, n, "%s%s/sub-%s/func", o->dir, deriv ? "/derivatives/fmriprep" : "", o->subject);
	if (k < 0 || (size_t)k >= n)
		return nidec_fail(err, NIDEC_EINPUT, "synth: -o '%.100s...' is too long", o->dir);
	return 0;
}

/* <func dir>/sub-<S>[_ses-<X>]_task-synth_run-<r>_<tail> */
static int bids_name(const nidec_synth_opts *o, int deriv, int run, const char *tail, char *buf,
		     size_t n, nidec_err *err)
{
	char dir[4096];
	int k;

	NIDEC_TRY(bids_dir(o, deriv, dir, sizeof(dir), err));
	if (o->session)
		k = snprintf(buf, n, "%s/sub-%s_ses-%s_task-synth_run-%d_%s", dir, o->subject, o->session,
			     run + 1, tail);
	else
		k = snprintf(buf, n, "%s/sub-%s_task-synth_run-%d_%s", dir, o->subject, run + 1, tail);
	if (k < 0 || (size_t)k >= n)
		return nidec_fail(err, NIDEC_EINPUT, "synth: -o '%.100s...' is too long", o->dir);
	return 0;
}

/* The base confound series of run r, columns in this order (each a
 * pure function of (seed, run, column)): 6 motion random walks, csf,
 * white_matter, global_signal (AR(1) around a level), 8 a_comp_cor and 3
 * t_comp_cor (AR(1)).  C: volumes x SYN_NCONF. */
#define SYN_NCONF 20
static const char *const syn_names[SYN_NCONF] = {
	"trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z", "csf", "white_matter",
	"global_signal", "a_comp_cor_00", "a_comp_cor_01", "a_comp_cor_02", "a_comp_cor_03",
	"a_comp_cor_04", "a_comp_cor_05", "a_comp_cor_06", "a_comp_cor_07", "t_comp_cor_00",
	"t_comp_cor_01", "t_comp_cor_02"
};
/* planted into the BOLD: trans_x, rot_y, csf, a_comp_cor_00 */
static const int syn_planted[4] = { 0, 4, 6, 9 };

static void synth_confounds(const nidec_synth_opts *o, int run, double *C)
{
	int c, t, n = o->volumes;
	float z[2];

	for (c = 0; c < SYN_NCONF; c++) {
		nidec_rng rng;
		double x = 0, level = c == 6 ? 800 : c == 7 ? 650 : c == 8 ? 700 : 0;
		double step = c < 3 ? 0.05 : c < 6 ? 0.001 : c < 9 ? 2.0 : 0.02;
		nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 6, (uint64_t)run, (uint64_t)c));
		for (t = 0; t < n; t++) {
			normals(&rng, z, 1);
			x = c < 6 ? x + step * z[0] : 0.8 * x + step * z[0];
			C[(size_t)t * SYN_NCONF + (size_t)c] = level + x;
		}
	}
}

static int write_fmriprep_confounds(const nidec_synth_opts *o, int run, nidec_err *err)
{
	static const char *const suf[] = { "", "_derivative1", "_power2", "_derivative1_power2" };
	int n = o->volumes, t, c, q, n_cos = (int)floor(2.0 * n * tr_stored(o) / 128.0);
	double *C = nidec_malloc_e((size_t)n, SYN_NCONF * sizeof(double), "confounds", err);
	nidec_sbuf sb = NIDEC_SBUF_INIT, js = NIDEC_SBUF_INIT;
	char path[4096];
	int rc = 0, add = 0;

	if (!C)
		return NIDEC_ENOMEM;
	synth_confounds(o, run, C);
	/* header: motion, csf, wm, gs with fMRIPrep's derived columns */
	for (c = 0; c < 9; c++)
		for (q = 0; q < 4; q++)
			add |= nidec_sbuf_addf(&sb, "%s%s%s", c || q ? "\t" : "", syn_names[c], suf[q]);
	add |= nidec_sbuf_adds(&sb, "\tframewise_displacement");
	for (c = 9; c < SYN_NCONF; c++)
		add |= nidec_sbuf_addf(&sb, "\t%s", syn_names[c]);
	for (q = 0; q < n_cos; q++)
		add |= nidec_sbuf_addf(&sb, "\tcosine%02d", q);
	add |= nidec_sbuf_adds(&sb, "\n");
	for (t = 0; t < n; t++) {
		const double *x = C + (size_t)t * SYN_NCONF, *xp = t ? x - SYN_NCONF : NULL;
		double fd = 0;
		for (c = 0; c < 9; c++) {
			double v = x[c], d = xp ? v - xp[c] : NAN;
			add |= nidec_sbuf_addf(&sb, "%s%.10g\t", c ? "\t" : "", v);
			add |= isnan(d) ? nidec_sbuf_adds(&sb, "n/a") : nidec_sbuf_addf(&sb, "%.10g", d);
			add |= nidec_sbuf_addf(&sb, "\t%.10g\t", v * v);
			add |= isnan(d) ? nidec_sbuf_adds(&sb, "n/a") : nidec_sbuf_addf(&sb, "%.10g", d * d);
		}
		for (c = 0; xp && c < 6; c++)
			fd += fabs(x[c] - xp[c]) * (c < 3 ? 1 : 50);
		add |= xp ? nidec_sbuf_addf(&sb, "\t%.10g", fd) : nidec_sbuf_adds(&sb, "\tn/a");
		for (c = 9; c < SYN_NCONF; c++)
			add |= nidec_sbuf_addf(&sb, "\t%.10g", x[c]);
		for (q = 0; q < n_cos; q++)
			add |= nidec_sbuf_addf(&sb, "\t%.10g",
					       sqrt(2.0 / n) * cos(M_PI * (2.0 * t + 1) * (q + 1) / (2.0 * n)));
		add |= nidec_sbuf_adds(&sb, "\n");
	}
	/* the sidecar CompCor needs: 5 components of the combined mask, 2 of
	 * WM, 1 of CSF; 3 temporal */
	add |= nidec_sbuf_adds(&js, "{\n");
	for (c = 9; c < SYN_NCONF; c++) {
		int k = c - 9;
		if (c < 17)
			add |= nidec_sbuf_addf(&js, "  \"%s\": {\"Method\": \"aCompCor\", \"Mask\": \"%s\", \"Retained\": true},\n",
					       syn_names[c], k < 5 ? "combined" : k < 7 ? "WM" : "CSF");
		else
			add |= nidec_sbuf_addf(&js, "  \"%s\": {\"Method\": \"tCompCor\", \"Retained\": true}%s\n",
					       syn_names[c], c + 1 < SYN_NCONF ? "," : "");
	}
	add |= nidec_sbuf_adds(&js, "}\n");
	if (add) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
		goto done;
	}
	NIDEC_TRY_GOTO(rc, bids_name(o, 1, run, "desc-confounds_timeseries.tsv", path, sizeof(path), err), done);
	NIDEC_TRY_GOTO(rc, nidec_file_write(path, sb.buf, sb.len, err), done);
	NIDEC_TRY_GOTO(rc, bids_name(o, 1, run, "desc-confounds_timeseries.json", path, sizeof(path), err), done);
	NIDEC_TRY_GOTO(rc, nidec_file_write(path, js.buf, js.len, err), done);
done:
	nidec_free(C);
	nidec_sbuf_release(&sb);
	nidec_sbuf_release(&js);
	return rc;
}

/* Write sb's text as DIR/name. */
static int put_text(const nidec_synth_opts *o, const char *name, const nidec_sbuf *sb, nidec_err *err)
{
	char path[4096];

	NIDEC_TRY(nidec_file_join(path, sizeof(path), o->dir, name, err));
	return nidec_file_write(path, sb->buf, sb->len, err);
}

/* The output directory's absolute path, for synth.ini (free() it). */
static int abs_dir(const nidec_synth_opts *o, char **abs, nidec_err *err)
{
	*abs = realpath(o->dir, NULL);
	if (!*abs)
		return nidec_fail(err, NIDEC_EIO, "synth: cannot resolve '%s': %s", o->dir, strerror(errno));
	return 0;
}

/* The end of synth.ini, the same for every layout: the conditions (the
 * text so far ends with "conditions = "), the output directory; written. */
static int write_ini(const nidec_synth_opts *o, nidec_sbuf *ini, const char *abs, nidec_err *err)
{
	char cbuf[32];
	int c;

	for (c = 0; c < o->classes; c++)
		if (nidec_sbuf_addf(ini, "%s%s", c ? ", " : "", nidec_synth_class_name(c, cbuf, sizeof(cbuf))) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	if (o->target && nidec_sbuf_adds(ini, "\ntarget_column = modulation\n\n[model]\nestimator = ridge") < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	if (nidec_sbuf_addf(ini, "\n\n[output]\ndir = %s/results\n", abs) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	return put_text(o, "synth.ini", ini, err);
}

static int write_fmriprep_common(const nidec_synth_opts *o, const unsigned char *mask, nidec_err *err)
{
	nidec_sbuf ev = NIDEC_SBUF_INIT, ini = NIDEC_SBUF_INIT;
	nidec_nii_spec spec;
	char path[4096], dir[4096], cbuf[32], *abs = NULL;
	size_t n3 = (size_t)o->dims[0] * (size_t)o->dims[1] * (size_t)o->dims[2], v;
	unsigned char *m2 = NULL;
	int64_t min_i = o->dims[0];
	int *label = NULL, r, t, rc = 0;
	double tr = tr_stored(o);
	static const char raw_desc[] = "{\n  \"Name\": \"nidec synth\",\n  \"BIDSVersion\": \"1.8.0\"\n}\n";
	static const char der_desc[] =
		"{\n  \"Name\": \"fMRIPrep-like derivatives (nidec synth)\",\n  \"BIDSVersion\": \"1.8.0\",\n"
		"  \"DatasetType\": \"derivative\",\n  \"GeneratedBy\": [{\"Name\": \"nidec synth\"}]\n}\n";

	NIDEC_TRY(bids_dir(o, 0, dir, sizeof(dir), err));
	NIDEC_TRY(nidec_file_mkdir_p(dir, "give another -o DIR", err));
	NIDEC_TRY(bids_dir(o, 1, dir, sizeof(dir), err));
	NIDEC_TRY(nidec_file_mkdir_p(dir, "give another -o DIR", err));
	NIDEC_TRY(nidec_file_join(path, sizeof(path), o->dir, "dataset_description.json", err));
	NIDEC_TRY(nidec_file_write(path, raw_desc, sizeof(raw_desc) - 1, err));
	if ((size_t)snprintf(path, sizeof(path), "%s/derivatives/fmriprep/dataset_description.json", o->dir) >= sizeof(path))
		return nidec_fail(err, NIDEC_EINPUT, "synth: -o is too long");
	NIDEC_TRY(nidec_file_write(path, der_desc, sizeof(der_desc) - 1, err));

	/* brain masks: odd runs lose the mask's lowest x plane */
	m2 = nidec_malloc_e(n3, 1, "a mask", err);
	label = nidec_malloc_e((size_t)o->volumes, sizeof(int), "a design", err);
	if (!m2 || !label) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (v = 0; v < n3; v++)
		if (mask[v] && (int64_t)(v % (size_t)o->dims[0]) < min_i)
			min_i = (int64_t)(v % (size_t)o->dims[0]);
	spec_3d(o, &spec, NIFTI_TYPE_UINT8, "nidec synth brain mask");
	spec.xform_code = 4; /* MNI */
	for (r = 0; r < o->runs; r++) {
		for (v = 0; v < n3; v++)
			m2[v] = (unsigned char)(mask[v] && !((r % 2) && (int64_t)(v % (size_t)o->dims[0]) == min_i));
		NIDEC_TRY_GOTO(rc, bids_name(o, 1, r, "space-" NIDEC_SYNTH_SPACE "_desc-brain_mask.nii.gz", path,
					     sizeof(path), err), done);
		NIDEC_TRY_GOTO(rc, nidec_nii_write(path, &spec, m2, err), done);
		NIDEC_TRY_GOTO(rc, write_fmriprep_confounds(o, r, err), done);
		NIDEC_TRY_GOTO(rc, design(o, r, label, err), done);
		nidec_sbuf_reset(&ev);
		if (nidec_sbuf_adds(&ev, "onset\tduration\ttrial_type\n") < 0)
			goto oom;
		for (t = 0; t < o->volumes; t++)
			if (label[t] >= 0 && (t == 0 || label[t - 1] != label[t])) {
				int e = t;
				while (e < o->volumes && label[e] == label[t])
					e++;
				if (nidec_sbuf_addf(&ev, "%.10g\t%.10g\t%s\n", t * tr, (e - t) * tr,
						    nidec_synth_class_name(label[t], cbuf, sizeof(cbuf))) < 0)
					goto oom;
			}
		NIDEC_TRY_GOTO(rc, bids_name(o, 0, r, "events.tsv", path, sizeof(path), err), done);
		NIDEC_TRY_GOTO(rc, nidec_file_write(path, ev.buf, ev.len, err), done);
	}
	NIDEC_TRY_GOTO(rc, abs_dir(o, &abs, err), done);
	if (nidec_sbuf_addf(&ini,
			    "; written by nidec synth --layout fmriprep: sub-%s, %d runs x %d volumes, %lldx%lldx%lld voxels,\n"
			    "; %d classes, TR %g s, signal %g, seed %llu; drift and confounds planted\n"
			    "[data]\nbids_root = %s\nderivatives = %s/derivatives/fmriprep\nsubject = %s\ntask = synth\n"
			    "space = " NIDEC_SYNTH_SPACE "\nconditions = ",
			    o->subject, o->runs, o->volumes, (long long)o->dims[0], (long long)o->dims[1],
			    (long long)o->dims[2], o->classes, o->tr, o->signal, (unsigned long long)o->seed, abs,
			    abs, o->subject) < 0)
		goto oom;
	rc = write_ini(o, &ini, abs, err);
	goto done;
oom:
	rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
done:
	free(abs); /* realpath's */
	nidec_free(m2);
	nidec_free(label);
	nidec_sbuf_release(&ev);
	nidec_sbuf_release(&ini);
	return rc;
}

/* The modulation of run r's block of class c (synth.h, --target). */
static double modulation(const nidec_synth_opts *o, int r, int c)
{
	nidec_rng rng;
	float m;

	nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 8, (uint64_t)r, (uint64_t)c));
	normals(&rng, &m, 1);
	return (double)m;
}

/* ---- the across-subject set (--across-subjects) -------------------------- */

/* Subject s's label (01, 02, ...: zero-padded to the width of N, at least
 * 2; N <= 9999 fits). */
static void subject_label(const nidec_synth_opts *o, int s, char buf[16])
{
	int width = 2, n;

	for (n = o->across; n >= 100; n /= 10)
		width++;
	if (snprintf(buf, 16, "%0*d", width, s + 1) >= 16)
		buf[0] = '\0';
}

/* Subject s's planted score z ~ N(0, 1) and age, 18..80 (stream 10). */
static void subject_values(const nidec_synth_opts *o, int s, double *z, int *age)
{
	nidec_rng rng;
	float zf;

	nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 10, (uint64_t)s, 0));
	normals(&rng, &zf, 1);
	*z = (double)zf;
	*age = 18 + (int)nidec_rng_below(&rng, 63);
}

/* A smooth N(0, 1) field over the grid from stream (what, a): normal draws
 * filtered by [1 2 1] along each axis, each pass divided by the root of
 * the sum of its squared weights (fewer at the grid's faces), so that every
 * voxel keeps a unit variance (a pass sums independent values: the rows
 * along its axis do not mix in the earlier passes).  f, tmp: n3 floats. */
static void smooth_field(const nidec_synth_opts *o, uint64_t what, uint64_t a, float *f, float *tmp)
{
	size_t n3 = (size_t)o->dims[0] * (size_t)o->dims[1] * (size_t)o->dims[2], v;
	size_t stride[3] = { 1, (size_t)o->dims[0], (size_t)o->dims[0] * (size_t)o->dims[1] };
	nidec_rng rng;
	int d;

	nidec_rng_seed(&rng, nidec_seed_mix(o->seed, what, a, 0));
	normals(&rng, f, n3);
	for (d = 0; d < 3; d++) {
		for (v = 0; v < n3; v++) {
			size_t i = v / stride[d] % (size_t)o->dims[d];
			double sum = 2.0 * f[v], w2 = 4.0;
			if (i > 0) {
				sum += f[v - stride[d]];
				w2 += 1.0;
			}
			if (i + 1 < (size_t)o->dims[d]) {
				sum += f[v + stride[d]];
				w2 += 1.0;
			}
			tmp[v] = (float)(sum / sqrt(w2));
		}
		memcpy(f, tmp, n3 * sizeof(float));
	}
}

/* <dir>/sub-<S>_map.nii.gz, or (dir = NULL) the bare name, into buf[n]. */
static int map_name(const nidec_synth_opts *o, int s, const char *dir, char *buf, size_t n,
		    nidec_err *err)
{
	char label[16], name[64];

	subject_label(o, s, label);
	snprintf(name, sizeof(name), "sub-%s_map.nii.gz", label);
	if (dir)
		return nidec_file_join(buf, n, dir, name, err);
	if (strlen(name) >= n)
		return nidec_fail(err, NIDEC_EINTERNAL, "synth: a map name is too long");
	memcpy(buf, name, strlen(name) + 1);
	return 0;
}

static int write_across_common(const nidec_synth_opts *o, const unsigned char *mask, nidec_err *err)
{
	nidec_sbuf tab = NIDEC_SBUF_INIT, ini = NIDEC_SBUF_INIT;
	nidec_nii_spec spec;
	char path[4096], name[64], label[16], *abs = NULL;
	int s, age, rc = 0;
	double z;

	spec_3d(o, &spec, NIFTI_TYPE_UINT8, "nidec synth mask");
	NIDEC_TRY(nidec_file_join(path, sizeof(path), o->dir, "mask.nii.gz", err));
	NIDEC_TRY(nidec_nii_write(path, &spec, mask, err));
	if (nidec_sbuf_adds(&tab, "path\tsubject\tcontrast\tscore\tage\n") < 0)
		goto oom;
	for (s = 0; s < o->across; s++) {
		NIDEC_TRY_GOTO(rc, map_name(o, s, NULL, name, sizeof(name), err), done);
		subject_label(o, s, label);
		subject_values(o, s, &z, &age);
		if (nidec_sbuf_addf(&tab, "%s\t%s\teffect\t%.17g\t%d\n", name, label, z, age) < 0)
			goto oom;
	}
	NIDEC_TRY_GOTO(rc, put_text(o, "subjects.tsv", &tab, err), done);
	NIDEC_TRY_GOTO(rc, abs_dir(o, &abs, err), done);
	if (nidec_sbuf_addf(&ini,
			    "; written by nidec synth --across-subjects %d: one map of %lldx%lldx%lld voxels per subject,\n"
			    "; signal %g, seed %llu.  One image per subject: the subject column is the group\n"
			    "; (run) column; folds are blocks of subjects (kfold: r2 needs two test samples, so\n"
			    "; not leave-one-subject-out) and permutations shuffle the scores across subjects\n"
			    "[data]\nsamples = %s/subjects.tsv\nmask = %s/mask.nii.gz\nlabel_column = contrast\n"
			    "run_column = subject\nconditions = effect\ntarget_column = score\n\n"
			    "[model]\nestimator = ridge\n\n[cv]\nscheme = kfold\nn_folds = 5\npermute_within = all\n\n"
			    "[output]\ndir = %s/results\n",
			    o->across, (long long)o->dims[0], (long long)o->dims[1], (long long)o->dims[2], o->signal,
			    (unsigned long long)o->seed, abs, abs, abs) < 0)
		goto oom;
	rc = put_text(o, "synth.ini", &ini, err);
	goto done;
oom:
	rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
done:
	free(abs); /* from realpath (libc) */
	nidec_sbuf_release(&tab);
	nidec_sbuf_release(&ini);
	return rc;
}

int nidec_synth_write_map(const nidec_synth_opts *o, const unsigned char *mask, int s,
			  nidec_err *err)
{
	size_t n3 = (size_t)o->dims[0] * (size_t)o->dims[1] * (size_t)o->dims[2], v;
	float *q = nidec_malloc_e(n3, sizeof(float), "a pattern", err);
	float *e = q ? nidec_malloc_e(n3, sizeof(float), "a noise field", err) : NULL;
	float *tmp = e ? nidec_malloc_e(n3, sizeof(float), "a field", err) : NULL;
	void *data = tmp ? nidec_calloc_e(n3, o->float32 ? sizeof(float) : sizeof(int16_t), "a map", err)
			 : NULL;
	nidec_nii_spec spec;
	char path[4096];
	double z;
	int age, rc;

	if (!data) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	subject_values(o, s, &z, &age);
	smooth_field(o, 9, 0, q, tmp);
	smooth_field(o, 11, (uint64_t)s, e, tmp);
	for (v = 0; v < n3; v++) {
		double x;
		if (!mask[v])
			continue;
		x = SIGMA * (e[v] + (beyond_radius(o, v) ? 0.0 : o->signal * z * q[v]));
		if (o->float32) {
			((float *)data)[v] = (float)x;
		} else {
			x = floor(x + 0.5);
			((int16_t *)data)[v] = (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
		}
	}
	spec_3d(o, &spec, o->float32 ? NIFTI_TYPE_FLOAT32 : NIFTI_TYPE_INT16, "nidec synth subject map");
	spec.compress_level = o->compress_level;
	rc = map_name(o, s, o->dir, path, sizeof(path), err);
	if (rc == 0)
		rc = nidec_nii_write(path, &spec, data, err);
done:
	nidec_free(q);
	nidec_free(e);
	nidec_free(tmp);
	nidec_free(data);
	return rc;
}

int nidec_synth_write_common(const nidec_synth_opts *o, const unsigned char *mask,
			     nidec_err *err)
{
	nidec_sbuf ev = NIDEC_SBUF_INIT, lab = NIDEC_SBUF_INIT, ini = NIDEC_SBUF_INIT;
	nidec_nii_spec spec;
	char path[4096], cbuf[32], *abs = NULL;
	int *label = NULL, r, t, rc = 0;
	double tr = tr_stored(o);

	rc = nidec_file_mkdir_p(o->dir, "give another -o DIR", err);
	if (rc < 0) {
		nidec_err_prefix(err, "synth: ");
		return rc;
	}
	if (o->fmriprep)
		return write_fmriprep_common(o, mask, err);
	if (o->across)
		return write_across_common(o, mask, err);
	spec_3d(o, &spec, NIFTI_TYPE_UINT8, "nidec synth mask");
	NIDEC_TRY(nidec_file_join(path, sizeof(path), o->dir, "mask.nii.gz", err));
	NIDEC_TRY(nidec_nii_write(path, &spec, mask, err));

	label = nidec_malloc_e((size_t)o->volumes, sizeof(int), "a design", err);
	if (!label)
		return NIDEC_ENOMEM;
	if (nidec_sbuf_adds(&lab, o->target ? "labels chunks modulation\n" : "labels chunks\n") < 0)
		goto oom;
	for (r = 0; r < o->runs; r++) {
		NIDEC_TRY_GOTO(rc, design(o, r, label, err), done);
		nidec_sbuf_reset(&ev);
		if (nidec_sbuf_adds(&ev, o->target ? "onset\tduration\ttrial_type\tmodulation\n"
						    : "onset\tduration\ttrial_type\n") < 0)
			goto oom;
		for (t = 0; t < o->volumes; t++) {
			const char *name = label[t] < 0 ? "rest" : nidec_synth_class_name(label[t], cbuf, sizeof(cbuf));
			if (nidec_sbuf_addf(&lab, "%s %d", name, r) < 0)
				goto oom;
			if (o->target && nidec_sbuf_addf(&lab, " %.17g",
							 label[t] < 0 ? 0.0 : modulation(o, r, label[t])) < 0)
				goto oom;
			if (nidec_sbuf_adds(&lab, "\n") < 0)
				goto oom;
			if (label[t] >= 0 && (t == 0 || label[t - 1] != label[t])) {
				int e = t;
				while (e < o->volumes && label[e] == label[t])
					e++;
				if (nidec_sbuf_addf(&ev, "%.10g\t%.10g\t%s", t * tr, (e - t) * tr, name) < 0)
					goto oom;
				if (o->target && nidec_sbuf_addf(&ev, "\t%.17g", modulation(o, r, label[t])) < 0)
					goto oom;
				if (nidec_sbuf_adds(&ev, "\n") < 0)
					goto oom;
			}
		}
		NIDEC_TRY_GOTO(rc, run_name(o, r, "events.tsv", path, sizeof(path), err), done);
		NIDEC_TRY_GOTO(rc, nidec_file_write(path, ev.buf, ev.len, err), done);
	}
	NIDEC_TRY_GOTO(rc, put_text(o, "labels.txt", &lab, err), done);

	NIDEC_TRY_GOTO(rc, abs_dir(o, &abs, err), done);
	if (nidec_sbuf_addf(&ini,
			    "; written by nidec synth: sub-%s, %d runs x %d volumes, %lldx%lldx%lld voxels,\n"
			    "; %d classes, TR %g s, signal %g, seed %llu\n"
			    "[data]\n"
			    "bold = %s/sub-%s_task-synth_run-*_bold.nii.gz\n"
			    "mask = %s/mask.nii.gz\n"
			    "events = %s/sub-%s_task-synth_run-*_events.tsv\n"
			    "conditions = ",
			    o->subject, o->runs, o->volumes, (long long)o->dims[0], (long long)o->dims[1],
			    (long long)o->dims[2], o->classes, o->tr, o->signal,
			    (unsigned long long)o->seed, abs, o->subject, abs, abs, o->subject) < 0)
		goto oom;
	rc = write_ini(o, &ini, abs, err);
	goto done;
oom:
	rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory");
done:
	free(abs); /* from realpath (libc) */
	nidec_free(label);
	nidec_sbuf_release(&ev);
	nidec_sbuf_release(&lab);
	nidec_sbuf_release(&ini);
	return rc;
}

/* Standard normal draws, two at a time (Box-Muller). */
static void normals(nidec_rng *rng, float *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i += 2) {
		double u1 = 1.0 - nidec_rng_uniform(rng), u2 = nidec_rng_uniform(rng);
		double r = sqrt(-2.0 * log(u1)), a = 2.0 * M_PI * u2;
		out[i] = (float)(r * cos(a));
		if (i + 1 < n)
			out[i + 1] = (float)(r * sin(a));
	}
}

int nidec_synth_write_run(const nidec_synth_opts *o, const unsigned char *mask, int run,
			  nidec_err *err)
{
	size_t n3 = (size_t)o->dims[0] * (size_t)o->dims[1] * (size_t)o->dims[2], p = 0, v, w;
	size_t *inside = NULL, cells;
	float *base = NULL, *pat = NULL, *noise = NULL, *load = NULL;
	double *plant = NULL, *C = NULL;
	void *data = NULL;
	int *label = NULL, c, t, rc = 0;
	double offset;
	nidec_nii_spec spec;
	nidec_rng rng;
	char path[4096];

	for (v = 0; v < n3; v++)
		p += mask[v] != 0;
	inside = nidec_malloc_e(p ? p : 1, sizeof(*inside), "voxel offsets", err);
	base = nidec_malloc_e(p ? p : 1, sizeof(float), "baselines", err);
	pat = nidec_malloc_e((size_t)(o->classes + (o->target ? 1 : 0)) * (p ? p : 1), sizeof(float),
			     "class patterns", err);
	noise = nidec_malloc_e(p ? p : 1, sizeof(float), "noise", err);
	label = nidec_malloc_e((size_t)o->volumes, sizeof(int), "a design", err);
	if (!inside || !base || !pat || !noise || !label ||
	    nidec_mul_size(n3, (size_t)o->volumes, &cells) < 0) {
		rc = err && err->code ? err->code : nidec_fail(err, NIDEC_ENOMEM, "synth: run too large");
		goto done;
	}
	data = nidec_calloc_e(cells, o->float32 ? sizeof(float) : sizeof(int16_t), "one run", err);
	if (!data) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (v = 0, w = 0; v < n3; v++)
		if (mask[v])
			inside[w++] = v;
	nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 1, 0, 0));
	for (w = 0; w < p; w++)
		base[w] = (float)(600.0 + 400.0 * nidec_rng_uniform(&rng));
	for (c = 0; c < o->classes + (o->target ? 1 : 0); c++) { /* c = classes: Q (--target) */
		nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 2, (uint64_t)c, 0));
		normals(&rng, pat + (size_t)c * p, p);
	}
	for (w = 0; w < p; w++)
		if (beyond_radius(o, inside[w]))
			for (c = 0; c < o->classes; c++)
				pat[(size_t)c * p + w] = 0;
	nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 4, (uint64_t)run, 0));
	normals(&rng, noise, 1);
	offset = 0.5 * SIGMA * noise[0];
	NIDEC_TRY_GOTO(rc, design(o, run, label, err), done);
	if (o->fmriprep) {
		/* what cleaning removes: a linear drift and four confounds, each
		 * z-scored over the run, with N(0, 1) loadings times the noise's SD */
		size_t q;
		int kk;
		plant = nidec_malloc_e((size_t)o->volumes, 5 * sizeof(double), "planted signals", err);
		load = nidec_malloc_e(5, (p ? p : 1) * sizeof(float), "loadings", err);
		C = nidec_malloc_e((size_t)o->volumes, SYN_NCONF * sizeof(double), "confounds", err);
		if (!plant || !load || !C) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		synth_confounds(o, run, C);
		for (kk = 0; kk < 5; kk++) {
			double m = 0, sd = 0;
			for (t = 0; t < o->volumes; t++)
				plant[t * 5 + kk] = kk == 0 ? (double)t / (o->volumes - 1) - 0.5
							    : C[(size_t)t * SYN_NCONF + (size_t)syn_planted[kk - 1]];
			for (t = 0; t < o->volumes; t++)
				m += plant[t * 5 + kk];
			m /= o->volumes;
			for (t = 0; t < o->volumes; t++)
				sd += (plant[t * 5 + kk] - m) * (plant[t * 5 + kk] - m);
			sd = sqrt(sd / o->volumes);
			for (t = 0; t < o->volumes; t++)
				plant[t * 5 + kk] = (plant[t * 5 + kk] - m) / (sd > 0 ? sd : 1);
			nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 7, (uint64_t)kk, 0));
			normals(&rng, load + (size_t)kk * p, p);
			for (q = 0; q < p; q++)
				load[(size_t)kk * p + q] *= (float)SIGMA;
		}
	}
	for (t = 0; t < o->volumes; t++) {
		const float *P = label[t] >= 0 ? pat + (size_t)label[t] * p : NULL;
		const float *Q = o->target && P ? pat + (size_t)o->classes * p : NULL;
		double mq = Q ? o->signal * modulation(o, run, label[t]) : 0.0;
		size_t off = (size_t)t * n3;
		nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 5, (uint64_t)run, (uint64_t)t));
		normals(&rng, noise, p);
		for (w = 0; w < p; w++) {
			double x = base[w] + offset + SIGMA * (noise[w] + (P ? o->signal * P[w] : 0.0));
			if (Q)
				x += SIGMA * mq * Q[w];
			if (plant) {
				int kk;
				for (kk = 0; kk < 5; kk++)
					x += plant[t * 5 + kk] * load[(size_t)kk * p + w];
			}
			if (o->float32) {
				((float *)data)[off + inside[w]] = (float)x;
			} else {
				x = floor(x + 0.5);
				((int16_t *)data)[off + inside[w]] =
					(int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
			}
		}
	}
	memset(&spec, 0, sizeof(spec));
	spec.ndim = 4;
	spec.dims[0] = o->dims[0];
	spec.dims[1] = o->dims[1];
	spec.dims[2] = o->dims[2];
	spec.dims[3] = o->volumes;
	spec.datatype = o->float32 ? NIFTI_TYPE_FLOAT32 : NIFTI_TYPE_INT16;
	affine_of(o, spec.affine);
	spec.xform_code = 1;
	spec.pixdim[0] = spec.pixdim[1] = spec.pixdim[2] = o->voxel_size;
	spec.pixdim[3] = o->tr;
	spec.compress_level = o->compress_level;
	spec.descrip = "nidec synth";
	if (o->fmriprep) {
		spec.xform_code = 4; /* MNI */
		rc = bids_name(o, 1, run, "space-" NIDEC_SYNTH_SPACE "_desc-preproc_bold.nii.gz", path,
			       sizeof(path), err);
	} else {
		rc = run_name(o, run, "bold.nii.gz", path, sizeof(path), err);
	}
	if (rc == 0)
		rc = nidec_nii_write(path, &spec, data, err);
done:
	nidec_free(load);
	nidec_free(plant);
	nidec_free(C);
	nidec_free(inside);
	nidec_free(base);
	nidec_free(pat);
	nidec_free(noise);
	nidec_free(label);
	nidec_free(data);
	return rc;
}
