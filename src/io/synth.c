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

int nidec_synth_write_common(const nidec_synth_opts *o, const unsigned char *mask,
			     nidec_err *err)
{
	nidec_sbuf ev = NIDEC_SBUF_INIT, lab = NIDEC_SBUF_INIT, ini = NIDEC_SBUF_INIT;
	nidec_nii_spec spec;
	char path[4096], cbuf[32], *abs = NULL;
	int *label = NULL, r, t, c, rc = 0;
	double tr = tr_stored(o);

	rc = nidec_file_mkdir_p(o->dir, "give another -o DIR", err);
	if (rc < 0) {
		nidec_err_prefix(err, "synth: ");
		return rc;
	}
	memset(&spec, 0, sizeof(spec));
	spec.ndim = 3;
	spec.dims[0] = o->dims[0];
	spec.dims[1] = o->dims[1];
	spec.dims[2] = o->dims[2];
	spec.dims[3] = 1;
	spec.datatype = NIFTI_TYPE_UINT8;
	affine_of(o, spec.affine);
	spec.xform_code = 1;
	spec.pixdim[0] = spec.pixdim[1] = spec.pixdim[2] = o->voxel_size;
	spec.compress_level = 6;
	spec.descrip = "nidec synth mask";
	NIDEC_TRY(nidec_file_join(path, sizeof(path), o->dir, "mask.nii.gz", err));
	NIDEC_TRY(nidec_nii_write(path, &spec, mask, err));

	label = nidec_malloc_e((size_t)o->volumes, sizeof(int), "a design", err);
	if (!label)
		return NIDEC_ENOMEM;
	if (nidec_sbuf_adds(&lab, "labels chunks\n") < 0)
		goto oom;
	for (r = 0; r < o->runs; r++) {
		NIDEC_TRY_GOTO(rc, design(o, r, label, err), done);
		nidec_sbuf_reset(&ev);
		if (nidec_sbuf_adds(&ev, "onset\tduration\ttrial_type\n") < 0)
			goto oom;
		for (t = 0; t < o->volumes; t++) {
			const char *name = label[t] < 0 ? "rest" : nidec_synth_class_name(label[t], cbuf, sizeof(cbuf));
			if (nidec_sbuf_addf(&lab, "%s %d\n", name, r) < 0)
				goto oom;
			if (label[t] >= 0 && (t == 0 || label[t - 1] != label[t])) {
				int e = t;
				while (e < o->volumes && label[e] == label[t])
					e++;
				if (nidec_sbuf_addf(&ev, "%.10g\t%.10g\t%s\n", t * tr, (e - t) * tr, name) < 0)
					goto oom;
			}
		}
		NIDEC_TRY_GOTO(rc, run_name(o, r, "events.tsv", path, sizeof(path), err), done);
		NIDEC_TRY_GOTO(rc, nidec_file_write(path, ev.buf, ev.len, err), done);
	}
	NIDEC_TRY_GOTO(rc, nidec_file_join(path, sizeof(path), o->dir, "labels.txt", err), done);
	NIDEC_TRY_GOTO(rc, nidec_file_write(path, lab.buf, lab.len, err), done);

	abs = realpath(o->dir, NULL);
	if (!abs) {
		rc = nidec_fail(err, NIDEC_EIO, "synth: cannot resolve '%s': %s", o->dir, strerror(errno));
		goto done;
	}
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
	for (c = 0; c < o->classes; c++)
		if (nidec_sbuf_addf(&ini, "%s%s", c ? ", " : "", nidec_synth_class_name(c, cbuf, sizeof(cbuf))) < 0)
			goto oom;
	if (nidec_sbuf_addf(&ini, "\n\n[output]\ndir = %s/results\n", abs) < 0)
		goto oom;
	NIDEC_TRY_GOTO(rc, nidec_file_join(path, sizeof(path), o->dir, "synth.ini", err), done);
	NIDEC_TRY_GOTO(rc, nidec_file_write(path, ini.buf, ini.len, err), done);
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
	float *base = NULL, *pat = NULL, *noise = NULL;
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
	pat = nidec_malloc_e((size_t)o->classes * (p ? p : 1), sizeof(float), "class patterns", err);
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
	for (c = 0; c < o->classes; c++) {
		nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 2, (uint64_t)c, 0));
		normals(&rng, pat + (size_t)c * p, p);
	}
	if (o->signal_radius > 0)
		for (w = 0; w < p; w++) {
			/* x fastest: inside[w] = i + nx (j + ny k) */
			size_t q = inside[w], a;
			double ijk[3] = { (double)(q % (size_t)o->dims[0]),
					  (double)(q / (size_t)o->dims[0] % (size_t)o->dims[1]),
					  (double)(q / ((size_t)o->dims[0] * (size_t)o->dims[1])) }, d2 = 0;
			for (a = 0; a < 3; a++) {
				double e = (ijk[a] - (double)(o->dims[a] - 1) / 2) * o->voxel_size;
				d2 += e * e;
			}
			if (d2 > o->signal_radius * o->signal_radius)
				for (c = 0; c < o->classes; c++)
					pat[(size_t)c * p + w] = 0;
		}
	nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 4, (uint64_t)run, 0));
	normals(&rng, noise, 1);
	offset = 0.5 * SIGMA * noise[0];
	NIDEC_TRY_GOTO(rc, design(o, run, label, err), done);
	for (t = 0; t < o->volumes; t++) {
		const float *P = label[t] >= 0 ? pat + (size_t)label[t] * p : NULL;
		size_t off = (size_t)t * n3;
		nidec_rng_seed(&rng, nidec_seed_mix(o->seed, 5, (uint64_t)run, (uint64_t)t));
		normals(&rng, noise, p);
		for (w = 0; w < p; w++) {
			double x = base[w] + offset + SIGMA * (noise[w] + (P ? o->signal * P[w] : 0.0));
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
	rc = run_name(o, run, "bold.nii.gz", path, sizeof(path), err);
	if (rc == 0)
		rc = nidec_nii_write(path, &spec, data, err);
done:
	nidec_free(inside);
	nidec_free(base);
	nidec_free(pat);
	nidec_free(noise);
	nidec_free(label);
	nidec_free(data);
	return rc;
}
