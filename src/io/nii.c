/*
 * nii.c - NIfTI-1/-2 images in and out (see include/nidec/nii.h).
 *
 * Reading: the header is read with zlib (which also reads uncompressed
 * files), byte-swapped and interpreted with nifti_clib's structs and
 * helpers (nifti_1_header, nifti_2_header, swap_nifti_header), and checked before
 * any size is computed from it: dims >= 1, their product must not
 * overflow, datatype known, magic present.  Voxels are then streamed one
 * volume at a time from the data offset, so a 4D series never has to be in
 * memory whole and a damaged gzip stream is reported, not crashed on.
 * nifti_image_read() is not used for data because it loads the whole
 * series and reports problems on stderr in its own words.
 *
 * Values follow nibabel 5 (img.get_fdata(dtype=float32) with numpy 1.x):
 * no scaling when scl_slope is 0 or not finite, or when (slope, inter) ==
 * (1, 0); otherwise slope and inter are rounded to float32 and applied in
 * float32 for 8/16-bit integers and float32 data, in float64 for 32/64-bit
 * integers and float64 data (numpy's type promotion), then rounded to
 * float32.  The affine is nibabel's get_best_affine(): sform, else qform
 * (with nibabel's quaternion arithmetic, see qform_affine), else the base
 * affine of pixdim with x flipped, centred on the grid.
 *
 * Writing builds the header with nifti_make_new_nim() and
 * nifti_convert_nim2n1hdr() (or n2), writes it and the data with zlib into
 * a temporary of the file layer (file.h, by path) and reads the header
 * back; the caller commits it (nidec_nii_write does, results.c commits the
 * weight maps with the other outputs of a run).
 *
 * Depends on base, nifti_clib and zlib; no MPI, no HDF5.
 */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nifti2_io.h>
#include <zlib.h>

#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/nii.h"

/* zlib reads at most this much per call (its length is an unsigned int). */
#define GZ_PIECE ((size_t)1 << 30)

struct nidec_nii_stream {
	nidec_nii *hdr;       /* owned */
	gzFile gz;
	unsigned char *raw;   /* one volume as stored */
	size_t vol_bytes;
	int64_t next_vol;     /* volumes read so far */
};

/* ---- small helpers ---------------------------------------------------- */

static const char *dtype_name(int dt)
{
	const char *s = nifti_datatype_string(dt);
	return s ? s : "unknown";
}

static int supported_dtype(int dt)
{
	switch (dt) {
	case NIFTI_TYPE_UINT8: case NIFTI_TYPE_INT8:
	case NIFTI_TYPE_UINT16: case NIFTI_TYPE_INT16:
	case NIFTI_TYPE_UINT32: case NIFTI_TYPE_INT32:
	case NIFTI_TYPE_UINT64: case NIFTI_TYPE_INT64:
	case NIFTI_TYPE_FLOAT32: case NIFTI_TYPE_FLOAT64:
		return 1;
	default:
		return 0;
	}
}

/* numpy promotes these with float32 to float64 (nibabel computes there). */
static int scales_in_double(int dt)
{
	return dt == NIFTI_TYPE_INT32 || dt == NIFTI_TYPE_UINT32 || dt == NIFTI_TYPE_INT64 ||
	       dt == NIFTI_TYPE_UINT64 || dt == NIFTI_TYPE_FLOAT64;
}

static int mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	if (a && b > UINT64_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}

static int file_exists(const char *path, nidec_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return nidec_fail(err, NIDEC_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return nidec_fail(err, NIDEC_EIO, "'%s' is a directory; give a .nii or .nii.gz file", path);
	return 0;
}

/* Describe a zlib read failure of `path` (corrupt or truncated gzip). */
static int gz_fail(gzFile gz, const char *path, const char *what, nidec_err *err)
{
	int errnum = Z_OK;
	const char *msg = gzerror(gz, &errnum);
	size_t lp = strlen(path);

	/* zlib prefixes its message with the path: we name the file ourselves */
	if (msg && !strncmp(msg, path, lp) && !strncmp(msg + lp, ": ", 2))
		msg += lp + 2;
	if (errnum == Z_ERRNO)
		return nidec_fail(err, NIDEC_EIO, "cannot read '%s' (%s): %s", path, what,
				  strerror(errno));
	return nidec_fail(err, NIDEC_EFORMAT,
			  "'%s' is corrupt or truncated (gzip: %s, while reading %s); copy or export the file again",
			  path, msg && msg[0] ? msg : "unexpected end of file", what);
}

/* Read exactly n bytes; a short read is "truncated". */
static int gz_read_all(gzFile gz, void *buf, size_t n, const char *path, const char *what,
		       nidec_err *err)
{
	unsigned char *p = buf;

	while (n > 0) {
		unsigned piece = (unsigned)(n < GZ_PIECE ? n : GZ_PIECE);
		int got = gzread(gz, p, piece);
		if (got < 0)
			return gz_fail(gz, path, what, err);
		if (got == 0) {
			int errnum = Z_OK;
			gzerror(gz, &errnum);
			if (errnum != Z_OK)
				return gz_fail(gz, path, what, err);
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s' is truncated: the file ends inside %s; copy or export the file again",
					  path, what);
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* ---- header ------------------------------------------------------------- */

/* nibabel's base affine (shape_zoom_affine with x flipped). */
static void base_affine(const int64_t dims[3], const double zooms[3], double aff[16])
{
	int r;

	memset(aff, 0, 16 * sizeof(double));
	for (r = 0; r < 3; r++) {
		double z = r == 0 ? -zooms[r] : zooms[r];
		aff[r * 4 + r] = z;
		aff[r * 4 + 3] = -((double)(dims[r] - 1) / 2.0) * z;
	}
	aff[15] = 1;
}

/* nibabel's Nifti1Header.get_qform(): w from b, c, d in the widest float
 * type (fillpositive), the rotation (quat2mat), times the voxel sizes with
 * qfac on z; nifti_clib's nifti_quatern_to_dmat44() differs near 180
 * degree rotations (it renormalises), so nibabel's arithmetic is copied. */
static void qform_affine(double b, double c, double d, double qx, double qy, double qz,
			 const double pix[8], double aff[16])
{
	long double w, x = b, y = c, z = d, w2, Nq, s, X, Y, Z, R[3][3];
	float vox[3];
	int i, j;

	w2 = 1.0L - (x * x + y * y + z * z);
	w = w2 < 0 ? 0 : sqrtl(w2);
	Nq = w * w + x * x + y * y + z * z;
	if (Nq < (long double)DBL_EPSILON) {
		for (i = 0; i < 3; i++)
			for (j = 0; j < 3; j++)
				R[i][j] = i == j;
	} else {
		s = 2.0L / Nq;
		X = x * s;
		Y = y * s;
		Z = z * s;
		R[0][0] = 1.0L - (y * Y + z * Z);
		R[0][1] = x * Y - w * Z;
		R[0][2] = x * Z + w * Y;
		R[1][0] = x * Y + w * Z;
		R[1][1] = 1.0L - (x * X + z * Z);
		R[1][2] = y * Z - w * X;
		R[2][0] = x * Z - w * Y;
		R[2][1] = y * Z + w * X;
		R[2][2] = 1.0L - (x * X + y * Y);
	}
	for (i = 0; i < 3; i++)
		vox[i] = (float)pix[i + 1];
	if (pix[0] == -1)
		vox[2] = -vox[2];
	memset(aff, 0, 16 * sizeof(double));
	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			aff[i * 4 + j] = (double)(R[i][j] * (long double)vox[j]);
	aff[3] = qx;
	aff[7] = qy;
	aff[11] = qz;
	aff[15] = 1;
}

/* Interpret a raw header (raw[0..len)) of `path` into img (no data). */
static int parse_header(const char *path, const unsigned char *raw, size_t len, nidec_nii *img,
			nidec_err *err)
{
	int32_t sz;
	int ver, swapped, i;
	int64_t dim[8];
	double pix[8], srow[3][4], qb, qc, qd, qx, qy, qz, slope, inter, voxoff;
	int dt, xyzt, scode, qcode;
	uint64_t n3, nbytes;
	int nbyper = 0, swapsize = 0;

	if (len < 348)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' is not a NIfTI file (%zu bytes, shorter than a NIfTI header); give a .nii or .nii.gz image",
				  path, len);
	memcpy(&sz, raw, 4);
	if (sz == 348 || sz == 540) {
		swapped = 0;
	} else {
		nifti_swap_4bytes(1, &sz);
		if (sz != 348 && sz != 540)
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s' is not a NIfTI file (header size field is not 348 or 540); give a .nii or .nii.gz image",
					  path);
		swapped = 1;
	}
	ver = sz == 348 ? 1 : 2;
	if (ver == 2 && len < 540)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s' is truncated: the file ends inside its NIfTI-2 header; copy or export the file again",
				  path);
	if (ver == 1) {
		nifti_1_header h;
		memcpy(&h, raw, sizeof(h));
		if (swapped)
			swap_nifti_header(&h, 1);
		if (!memcmp(h.magic, "ni1", 4))
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s' is the header of a .hdr/.img pair; convert it to a single .nii file (e.g. with nibabel)",
					  path);
		if (memcmp(h.magic, "n+1", 4))
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s' is not a NIfTI file (no 'n+1' magic: ANALYZE 7.5?); convert it to NIfTI",
					  path);
		for (i = 0; i < 8; i++) {
			dim[i] = h.dim[i];
			pix[i] = h.pixdim[i];
		}
		dt = h.datatype;
		voxoff = h.vox_offset;
		slope = h.scl_slope;
		inter = h.scl_inter;
		xyzt = (unsigned char)h.xyzt_units;
		scode = h.sform_code;
		qcode = h.qform_code;
		qb = h.quatern_b; qc = h.quatern_c; qd = h.quatern_d;
		qx = h.qoffset_x; qy = h.qoffset_y; qz = h.qoffset_z;
		for (i = 0; i < 4; i++) {
			srow[0][i] = h.srow_x[i];
			srow[1][i] = h.srow_y[i];
			srow[2][i] = h.srow_z[i];
		}
	} else {
		nifti_2_header h;
		memcpy(&h, raw, sizeof(h));
		if (swapped)
			swap_nifti_header(&h, 2);
		if (memcmp(h.magic, "n+2", 4))
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s' is not a single-file NIfTI-2 image (no 'n+2' magic); convert it to .nii",
					  path);
		for (i = 0; i < 8; i++) {
			dim[i] = h.dim[i];
			pix[i] = h.pixdim[i];
		}
		dt = h.datatype;
		voxoff = (double)h.vox_offset;
		slope = h.scl_slope;
		inter = h.scl_inter;
		xyzt = h.xyzt_units;
		scode = h.sform_code;
		qcode = h.qform_code;
		qb = h.quatern_b; qc = h.quatern_c; qd = h.quatern_d;
		qx = h.qoffset_x; qy = h.qoffset_y; qz = h.qoffset_z;
		for (i = 0; i < 4; i++) {
			srow[0][i] = h.srow_x[i];
			srow[1][i] = h.srow_y[i];
			srow[2][i] = h.srow_z[i];
		}
	}

	/* dims: checked before anything is sized from them */
	if (dim[0] < 1 || dim[0] > 7)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s': header dim[0] = %lld is not a number of dimensions (1..7); the header is corrupt",
				  path, (long long)dim[0]);
	for (i = 1; i <= dim[0]; i++)
		if (dim[i] < 1)
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s': header dim[%d] = %lld; every dimension must be >= 1 (the header is corrupt)",
					  path, i, (long long)dim[i]);
	for (i = 5; i <= dim[0]; i++)
		if (dim[i] > 1)
			return nidec_fail(err, NIDEC_EFORMAT,
					  "'%s' has %lld dimensions (dim[%d] = %lld); nidec reads 3D and 4D images only",
					  path, (long long)dim[0], i, (long long)dim[i]);
	for (i = 1; i <= 4; i++)
		if (i > dim[0])
			dim[i] = 1;
	if (!supported_dtype(dt))
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s': datatype %s (code %d) is not supported; convert the image to int16 or float32",
				  path, dtype_name(dt), dt);
	nifti_datatype_sizes(dt, &nbyper, &swapsize);
	if (mul_u64((uint64_t)dim[1], (uint64_t)dim[2], &n3) < 0 ||
	    mul_u64(n3, (uint64_t)dim[3], &n3) < 0 || n3 > (uint64_t)INT32_MAX ||
	    mul_u64(n3, (uint64_t)dim[4], &nbytes) < 0 ||
	    mul_u64(nbytes, (uint64_t)nbyper, &nbytes) < 0 || nbytes > (uint64_t)INT64_MAX / 2 ||
	    n3 * (uint64_t)nbyper > (uint64_t)SIZE_MAX)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s': header dims %lldx%lldx%lldx%lld (%s) are too large: their product overflows; the header is corrupt",
				  path, (long long)dim[1], (long long)dim[2], (long long)dim[3],
				  (long long)dim[4], dtype_name(dt));
	if (!(voxoff >= 0) || voxoff != floor(voxoff) || voxoff > 1e15)
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s': header vox_offset = %g is not a byte offset; the header is corrupt",
				  path, voxoff);
	if (voxoff < (double)sz + 4)
		voxoff = (double)sz + 4; /* as nibabel: data follows the extension flag */

	img->nifti_version = ver;
	img->swapped = swapped;
	img->header_len = (size_t)sz;
	memcpy(img->header, raw, (size_t)sz);
	img->ndim = dim[0] >= 4 ? 4 : 3;
	for (i = 0; i < 4; i++)
		img->dims[i] = dim[i + 1];
	img->n_vox3 = (size_t)n3;
	img->datatype = dt;
	img->nbyper = nbyper;
	img->vox_offset = (int64_t)voxoff;
	img->xyzt_units = xyzt;
	img->sform_code = scode;
	img->qform_code = qcode;

	/* scaling, as nibabel's Nifti1Header.get_slope_inter() */
	if (slope == 0 || !isfinite(slope)) {
		slope = 1;
		inter = 0;
	} else if (!isfinite(inter)) {
		return nidec_fail(err, NIDEC_EFORMAT,
				  "'%s': header scl_slope = %g is valid but scl_inter = %g is not; fix scl_inter (0 for none)",
				  path, slope, inter);
	}
	/* nibabel casts the factors to float32 (numpy 1.x value-based casting) */
	if (fabs(slope) <= FLT_MAX)
		slope = (double)(float)slope;
	if (fabs(inter) <= FLT_MAX)
		inter = (double)(float)inter;
	img->scl_slope = slope;
	img->scl_inter = inter;

	/* voxel sizes and TR in seconds */
	for (i = 0; i < 3; i++)
		img->pixdim[i] = pix[i + 1];
	img->pixdim[3] = dim[0] >= 4 ? pix[4] : 0;
	switch (xyzt & 0x38) {
	case NIFTI_UNITS_MSEC: img->pixdim[3] /= 1e3; break;
	case NIFTI_UNITS_USEC: img->pixdim[3] /= 1e6; break;
	default: break;
	}

	/* affine, as nibabel's get_best_affine() */
	if (scode > 0) {
		int r, c;
		for (r = 0; r < 3; r++)
			for (c = 0; c < 4; c++)
				img->affine[r * 4 + c] = srow[r][c];
		img->affine[12] = img->affine[13] = img->affine[14] = 0;
		img->affine[15] = 1;
	} else if (qcode > 0) {
		qform_affine(qb, qc, qd, qx, qy, qz, pix, img->affine);
	} else {
		double z[3] = { pix[1], pix[2], pix[3] };
		base_affine(img->dims, z, img->affine);
	}
	return 0;
}

/* Open `path` with zlib and read + parse its header; *gz stays open at the
 * first byte after the header. */
static int open_header(const char *path, nidec_nii **out, gzFile *gz_out, nidec_err *err)
{
	unsigned char raw[540];
	nidec_nii *img = NULL;
	gzFile gz;
	int got, rc = 0;
	int32_t sz;

	NIDEC_TRY(file_exists(path, err));
	gz = gzopen(path, "rb");
	if (!gz)
		return nidec_fail(err, errno == ENOMEM ? NIDEC_ENOMEM : NIDEC_EIO,
				  "cannot open '%s': %s", path, errno ? strerror(errno) : "zlib error");
	gzbuffer(gz, 1 << 18);
	got = gzread(gz, raw, 348);
	if (got < 0) {
		rc = gz_fail(gz, path, "the header", err);
		goto done;
	}
	if (got < 348) {
		int errnum = Z_OK;
		gzerror(gz, &errnum);
		if (errnum != Z_OK) {
			rc = gz_fail(gz, path, "the header", err);
			goto done;
		}
	}
	memcpy(&sz, raw, 4);
	if (got == 348 && (sz == 540 || sz == 0x1C020000)) {
		int more = gzread(gz, raw + 348, 540 - 348);
		if (more < 0) {
			rc = gz_fail(gz, path, "the header", err);
			goto done;
		}
		got += more;
	}
	img = nidec_calloc(1, sizeof(*img));
	if (!img || !(img->path = nidec_strdup(path))) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory reading '%s'", path);
		goto done;
	}
	NIDEC_TRY_GOTO(rc, parse_header(path, raw, (size_t)got, img, err), done);
	*out = img;
	img = NULL;
	*gz_out = gz;
	gz = NULL;
done:
	nidec_nii_free(&img);
	if (gz)
		gzclose(gz);
	return rc;
}

int nidec_nii_read_header(const char *path, nidec_nii **out, nidec_err *err)
{
	gzFile gz = NULL;

	nifti_set_debug_level(0);
	NIDEC_TRY(open_header(path, out, &gz, err));
	gzclose(gz);
	return 0;
}

void nidec_nii_free(nidec_nii **img)
{
	if (!img || !*img)
		return;
	nidec_free((*img)->path);
	nidec_free((*img)->data);
	nidec_free(*img);
	*img = NULL;
}

/* ---- streaming voxels ------------------------------------------------------ */

int nidec_nii_stream_open(const char *path, nidec_nii_stream **out, nidec_err *err)
{
	nidec_nii_stream *s;
	int64_t pos;
	int rc = 0;

	nifti_set_debug_level(0);
	s = nidec_calloc(1, sizeof(*s));
	if (!s)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory opening '%s'", path);
	NIDEC_TRY_GOTO(rc, open_header(path, &s->hdr, &s->gz, err), fail);
	s->vol_bytes = s->hdr->n_vox3 * (size_t)s->hdr->nbyper;
	s->raw = nidec_malloc_e(s->vol_bytes, 1, "one volume", err);
	if (!s->raw) {
		rc = NIDEC_ENOMEM;
		goto fail;
	}
	/* skip extensions up to the data (forward seek: zlib reads through) */
	pos = gztell(s->gz);
	if (pos < 0 || s->hdr->vox_offset < pos) {
		rc = nidec_fail(err, NIDEC_EFORMAT, "'%s': vox_offset %lld lies inside the header; the header is corrupt",
				path, (long long)s->hdr->vox_offset);
		goto fail;
	}
	while (pos < s->hdr->vox_offset) {
		size_t skip = (size_t)(s->hdr->vox_offset - pos);
		if (skip > s->vol_bytes)
			skip = s->vol_bytes;
		NIDEC_TRY_GOTO(rc, gz_read_all(s->gz, s->raw, skip, path, "the header extensions", err), fail);
		pos += (int64_t)skip;
	}
	*out = s;
	return 0;
fail:
	nidec_nii_stream_close(&s);
	return rc;
}

const nidec_nii *nidec_nii_stream_header(const nidec_nii_stream *s)
{
	return s->hdr;
}

/* Convert stored values to float32 the way nibabel does (see top). */
#define CONVERT(T)                                                              \
	do {                                                                    \
		const T *src = (const T *)s->raw;                               \
		if (!scale) {                                                   \
			for (i = 0; i < n_idx; i++)                             \
				out[i] = (float)src[idx ? idx[i] : i];          \
		} else if (dbl) {                                               \
			for (i = 0; i < n_idx; i++) {                           \
				double v = (double)src[idx ? idx[i] : i];       \
				if (slope != 1)                                 \
					v = v * slope;                          \
				if (inter != 0)                                 \
					v = v + inter;                          \
				out[i] = (float)v;                              \
			}                                                       \
		} else {                                                        \
			for (i = 0; i < n_idx; i++) {                           \
				float v = (float)src[idx ? idx[i] : i];         \
				if (slope != 1)                                 \
					v = v * fslope;                         \
				if (inter != 0)                                 \
					v = v + finter;                         \
				out[i] = v;                                     \
			}                                                       \
		}                                                               \
	} while (0)

int nidec_nii_stream_read(nidec_nii_stream *s, const size_t *idx, size_t n_idx,
			  float *out, nidec_err *err)
{
	const nidec_nii *h = s->hdr;
	double slope = h->scl_slope, inter = h->scl_inter;
	float fslope = (float)slope, finter = (float)inter;
	int scale = !(slope == 1 && inter == 0), dbl = scales_in_double(h->datatype);
	char what[96];
	size_t i;

	if (s->next_vol >= h->dims[3])
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': read past the last volume (%lld)",
				  h->path, (long long)h->dims[3]);
	if (!idx && n_idx != 0 && n_idx != h->n_vox3)
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': whole-volume read of %zu values, not %zu",
				  h->path, n_idx, h->n_vox3);
	snprintf(what, sizeof(what), "volume %lld of %lld", (long long)s->next_vol + 1,
		 (long long)h->dims[3]);
	NIDEC_TRY(gz_read_all(s->gz, s->raw, s->vol_bytes, h->path, what, err));
	s->next_vol++;
	if (n_idx == 0)
		return 0;
	if (h->swapped && h->nbyper > 1)
		nifti_swap_Nbytes((int64_t)h->n_vox3, h->nbyper, s->raw);
	switch (h->datatype) {
	case NIFTI_TYPE_UINT8: CONVERT(uint8_t); break;
	case NIFTI_TYPE_INT8: CONVERT(int8_t); break;
	case NIFTI_TYPE_UINT16: CONVERT(uint16_t); break;
	case NIFTI_TYPE_INT16: CONVERT(int16_t); break;
	case NIFTI_TYPE_UINT32: CONVERT(uint32_t); break;
	case NIFTI_TYPE_INT32: CONVERT(int32_t); break;
	case NIFTI_TYPE_UINT64: CONVERT(uint64_t); break;
	case NIFTI_TYPE_INT64: CONVERT(int64_t); break;
	case NIFTI_TYPE_FLOAT32: CONVERT(float); break;
	case NIFTI_TYPE_FLOAT64: CONVERT(double); break;
	default:
		return nidec_fail(err, NIDEC_EINTERNAL, "'%s': datatype %d", h->path, h->datatype);
	}
	return 0;
}

int nidec_nii_stream_finish(nidec_nii_stream *s, nidec_err *err)
{
	unsigned char tail[4096];
	int got;

	/* Reading to the end makes zlib check the gzip trailer (CRC, length). */
	do {
		got = gzread(s->gz, tail, sizeof(tail));
	} while (got > 0);
	if (got < 0)
		return gz_fail(s->gz, s->hdr->path, "the end of the file", err);
	{
		int errnum = Z_OK;
		gzerror(s->gz, &errnum);
		if (errnum != Z_OK)
			return gz_fail(s->gz, s->hdr->path, "the end of the file", err);
	}
	return 0;
}

void nidec_nii_stream_close(nidec_nii_stream **s)
{
	if (!s || !*s)
		return;
	if ((*s)->gz)
		gzclose((*s)->gz);
	nidec_free((*s)->raw);
	nidec_nii_free(&(*s)->hdr);
	nidec_free(*s);
	*s = NULL;
}

int nidec_nii_read(const char *path, nidec_nii **out, nidec_err *err)
{
	nidec_nii_stream *s = NULL;
	nidec_nii *img;
	size_t n_all, t;
	int rc = 0;

	NIDEC_TRY(nidec_nii_stream_open(path, &s, err));
	img = s->hdr;
	if (nidec_mul_size(img->n_vox3, (size_t)img->dims[3], &n_all) < 0) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "'%s' is too large to load whole", path);
		goto done;
	}
	img->data = nidec_malloc_e(n_all, sizeof(float), "an image", err);
	if (!img->data) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (t = 0; t < (size_t)img->dims[3]; t++)
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_read(s, NULL, img->n_vox3,
							 img->data + t * img->n_vox3, err), done);
	NIDEC_TRY_GOTO(rc, nidec_nii_stream_finish(s, err), done);
	*out = img;
	s->hdr = NULL;
done:
	nidec_nii_stream_close(&s);
	return rc;
}

int nidec_nii_same_grid(const int64_t a_dims[3], const double a_aff[16],
			const int64_t b_dims[3], const double b_aff[16], double tol)
{
	int i;

	for (i = 0; i < 3; i++)
		if (a_dims[i] != b_dims[i])
			return 0;
	for (i = 0; i < 16; i++)
		if (!(fabs(a_aff[i] - b_aff[i]) <= tol))
			return 0;
	return 1;
}

/* ---- writing --------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

static int gz_write_all(gzFile gz, const void *buf, size_t n, const char *path, nidec_err *err)
{
	const unsigned char *p = buf;

	while (n > 0) {
		unsigned piece = (unsigned)(n < GZ_PIECE ? n : GZ_PIECE);
		int put = gzwrite(gz, p, piece);
		if (put <= 0) {
			int errnum = Z_OK;
			const char *msg = gzerror(gz, &errnum);
			return nidec_fail(err, NIDEC_EIO, "cannot write '%s': %s", path,
					  errnum == Z_ERRNO ? strerror(errno) : msg);
		}
		p += put;
		n -= (size_t)put;
	}
	return 0;
}

/* The source of an image's voxels, one 3D volume at a time: fill(ctx, k,
 * buf) returns volume k's bytes, in buf (one volume's size) or elsewhere.
 * Writing volume by volume keeps a 4D map's memory at one volume. */
struct volumes {
	const void *(*fill)(void *ctx, size_t k, void *buf);
	void *ctx;
	int needs_buf;  /* fill writes into buf */
};

struct array_src {
	const char *data;
	size_t vol_bytes;
};

static const void *array_volume(void *ctx, size_t k, void *buf)
{
	const struct array_src *a = ctx;

	(void)buf;
	return a->data + k * a->vol_bytes;
}

static int write_image(nidec_tempfile *t, const nidec_nii_spec *spec, const struct volumes *src,
		       nidec_err *err);

int nidec_nii_write_to(nidec_tempfile *t, const nidec_nii_spec *spec, const void *data,
		       nidec_err *err)
{
	struct array_src a;
	struct volumes src;
	int64_t n3 = 1;
	int i, nbyper = 0, swapsize = 0;

	for (i = 0; i < 3 && i < spec->ndim; i++)
		n3 *= spec->dims[i] > 0 ? spec->dims[i] : 1;
	nifti_datatype_sizes(spec->datatype, &nbyper, &swapsize);
	a.data = data;
	a.vol_bytes = (size_t)n3 * (size_t)(nbyper > 0 ? nbyper : 0);
	src.fill = array_volume;
	src.ctx = &a;
	src.needs_buf = 0;
	return write_image(t, spec, &src, err);
}

static int write_image(nidec_tempfile *t, const nidec_nii_spec *spec, const struct volumes *src,
		       nidec_err *err)
{
	const char *path = nidec_tempfile_target(t), *tmp = nidec_tempfile_path(t);
	int64_t dims[8] = { 0, 1, 1, 1, 1, 1, 1, 1 };
	nifti_image *nim = NULL;
	nidec_nii *back = NULL;
	nifti_dmat44 m;
	unsigned char hdr[540], ext[4] = { 0, 0, 0, 0 };
	size_t hdr_len, vox_bytes, n_vox = 1, vol_bytes, k;
	void *buf = NULL;
	char mode[8];
	gzFile gz = NULL;
	int i, r, c, nbyper = 0, swapsize = 0, v2 = 0, rc = 0;
	double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;

	nifti_set_debug_level(0);
	dims[0] = spec->ndim;
	for (i = 0; i < 4; i++) {
		dims[i + 1] = i < spec->ndim ? spec->dims[i] : 1;
		if (dims[i + 1] < 1)
			return nidec_fail(err, NIDEC_EINTERNAL, "writing '%s': dim %d is %lld", path, i,
					  (long long)dims[i + 1]);
		if (dims[i + 1] > 32767)
			v2 = 1;
		if (nidec_mul_size(n_vox, (size_t)dims[i + 1], &n_vox) < 0)
			return nidec_fail(err, NIDEC_ENOMEM, "writing '%s': image too large", path);
	}
	nifti_datatype_sizes(spec->datatype, &nbyper, &swapsize);
	if (nbyper <= 0 || nidec_mul_size(n_vox, (size_t)nbyper, &vox_bytes) < 0)
		return nidec_fail(err, NIDEC_EINTERNAL, "writing '%s': bad datatype %d", path,
				  spec->datatype);
	nim = nifti_make_new_nim(dims, spec->datatype, 0);
	if (!nim)
		return nidec_fail(err, NIDEC_ENOMEM, "cannot build a NIfTI header for '%s'", path);
	nim->pixdim[1] = nim->dx = spec->pixdim[0];
	nim->pixdim[2] = nim->dy = spec->pixdim[1];
	nim->pixdim[3] = nim->dz = spec->pixdim[2];
	if (spec->ndim >= 4)
		nim->pixdim[4] = nim->dt = spec->pixdim[3];
	nim->xyz_units = NIFTI_UNITS_MM;
	nim->time_units = NIFTI_UNITS_SEC;
	nim->scl_slope = 1;
	nim->scl_inter = 0;
	for (r = 0; r < 4; r++)
		for (c = 0; c < 4; c++)
			m.m[r][c] = spec->affine[r * 4 + c];
	nim->sform_code = spec->xform_code;
	nim->sto_xyz = m;
	nifti_dmat44_to_quatern(m, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
	nim->qform_code = spec->xform_code;
	nim->quatern_b = qb;
	nim->quatern_c = qc;
	nim->quatern_d = qd;
	nim->qoffset_x = qx;
	nim->qoffset_y = qy;
	nim->qoffset_z = qz;
	nim->qfac = qfac;
	nim->qto_xyz = m;
	if (spec->descrip)
		snprintf(nim->descrip, sizeof(nim->descrip), "%s", spec->descrip);
	memset(hdr, 0, sizeof(hdr));
	if (!v2) {
		nifti_1_header h1;
		if (nifti_convert_nim2n1hdr(nim, &h1)) {
			rc = nidec_fail(err, NIDEC_EINTERNAL, "cannot build a NIfTI-1 header for '%s'", path);
			goto done;
		}
		h1.vox_offset = 352;
		memcpy(h1.magic, "n+1", 4);
		memcpy(hdr, &h1, sizeof(h1));
		hdr_len = sizeof(h1);
	} else {
		nifti_2_header h2;
		if (nifti_convert_nim2n2hdr(nim, &h2)) {
			rc = nidec_fail(err, NIDEC_EINTERNAL, "cannot build a NIfTI-2 header for '%s'", path);
			goto done;
		}
		h2.vox_offset = 544;
		memcpy(h2.magic, "n+2\0\r\n\032\n", 8);
		memcpy(hdr, &h2, sizeof(h2));
		hdr_len = sizeof(h2);
	}

	/* zlib writes by path: the temporary is handed over closed (file.h) */
	NIDEC_TRY_GOTO(rc, nidec_tempfile_close(t, err), done);
	if (ends_with(path, ".gz")) {
		/* zlib's "wb<level>", level 1..9 (one digit) */
		int level = spec->compress_level < 1 ? 6 : spec->compress_level > 9 ? 9 : spec->compress_level;
		snprintf(mode, sizeof(mode), "wb%c", '0' + level);
	} else {
		snprintf(mode, sizeof(mode), "wbT");
	}
	errno = 0;
	gz = gzopen(tmp, mode);
	if (!gz) {
		rc = nidec_fail(err, NIDEC_EIO, "cannot write '%s': %s", path,
				errno ? strerror(errno) : "zlib error");
		goto done;
	}
	gzbuffer(gz, 1 << 18);
	NIDEC_TRY_GOTO(rc, gz_write_all(gz, hdr, hdr_len, path, err), done);
	NIDEC_TRY_GOTO(rc, gz_write_all(gz, ext, 4, path, err), done);
	/* dims[1..3] >= 1 and their product with dims[4] did not overflow */
	vol_bytes = vox_bytes / (size_t)dims[4];
	buf = src->needs_buf ? nidec_malloc_e(vol_bytes, 1, "a volume", err) : NULL;
	if (src->needs_buf && !buf) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (k = 0; k < (size_t)dims[4]; k++)
		NIDEC_TRY_GOTO(rc, gz_write_all(gz, src->fill(src->ctx, k, buf), vol_bytes, path, err), done);
	{
		int zrc = gzclose(gz);
		gz = NULL;
		if (zrc != Z_OK) {
			rc = nidec_fail(err, NIDEC_EIO, "cannot write '%s': %s", path,
					zrc == Z_ERRNO ? strerror(errno) : "zlib error on close");
			goto done;
		}
	}
	/* nifti_clib's own writer returns void: read our header back instead */
	NIDEC_TRY_GOTO(rc, nidec_nii_read_header(tmp, &back, err), done);
	for (i = 0; i < 4; i++)
		if (back->dims[i] != dims[i + 1]) {
			rc = nidec_fail(err, NIDEC_EIO, "'%s' reads back with other dims; disk full?", path);
			goto done;
		}
done:
	if (gz)
		gzclose(gz);
	nidec_free(buf);
	nidec_nii_free(&back);
	nifti_image_free(nim);
	return rc;
}

int nidec_nii_write(const char *path, const nidec_nii_spec *spec, const void *data,
		    nidec_err *err)
{
	nidec_tempfile *t = NULL;
	int rc;

	NIDEC_TRY(nidec_tempfile_create(path, 0, &t, err));
	rc = nidec_nii_write_to(t, spec, data, err);
	if (rc < 0) {
		nidec_tempfile_abort(&t);
		return rc;
	}
	return nidec_tempfile_commit(&t, err);
}

/* Volume k of a masked map: the mask's voxels of row k on a zero grid. */
struct masked_src {
	const nidec_dataset *ds;
	const float *vals;
	size_t n3;
};

static const void *masked_volume(void *ctx, size_t k, void *buf)
{
	const struct masked_src *m = ctx;
	const nidec_dataset *ds = m->ds;
	float *vol = buf;
	size_t v;

	memset(vol, 0, m->n3 * sizeof(float));
	for (v = 0; v < ds->n_voxels; v++) {
		const int32_t *p = ds->ijk + 3 * v;
		vol[(size_t)p[0] + (size_t)ds->dims[0] * ((size_t)p[1] + (size_t)ds->dims[1] * (size_t)p[2])] =
			m->vals[k * ds->n_voxels + v];
	}
	return vol;
}

int nidec_nii_write_masked_n(nidec_tempfile *t, const nidec_dataset *ds, const float *vals,
			     size_t n_vol, const char *descrip, nidec_err *err)
{
	nidec_nii_spec spec;
	nidec_nii hdr;
	struct masked_src m;
	struct volumes src;
	size_t n3, all;

	memset(&spec, 0, sizeof(spec));
	memset(&hdr, 0, sizeof(hdr));
	if (nidec_mul_size((size_t)ds->dims[0], (size_t)ds->dims[1], &n3) < 0 ||
	    nidec_mul_size(n3, (size_t)ds->dims[2], &n3) < 0 || nidec_mul_size(n3, n_vol, &all) < 0 ||
	    nidec_mul_size(all, sizeof(float), &all) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "grid of '%s' too large", ds->path);
	spec.ndim = n_vol > 1 ? 4 : 3;
	spec.dims[0] = ds->dims[0];
	spec.dims[1] = ds->dims[1];
	spec.dims[2] = ds->dims[2];
	spec.dims[3] = (int64_t)n_vol;
	spec.datatype = NIFTI_TYPE_FLOAT32;
	memcpy(spec.affine, ds->affine, sizeof(spec.affine));
	spec.pixdim[0] = ds->pixdim[0];
	spec.pixdim[1] = ds->pixdim[1];
	spec.pixdim[2] = ds->pixdim[2];
	spec.compress_level = 6;
	spec.descrip = descrip;
	/* keep the coordinate system code of the BOLD header when it had one */
	spec.xform_code = 2;
	if (ds->nifti_header && ds->nifti_header_len >= 348 &&
	    parse_header(ds->path, ds->nifti_header, ds->nifti_header_len, &hdr, NULL) == 0)
		spec.xform_code = hdr.sform_code > 0 ? hdr.sform_code :
				  hdr.qform_code > 0 ? hdr.qform_code : 2;
	m.ds = ds;
	m.vals = vals;
	m.n3 = n3;
	src.fill = masked_volume;
	src.ctx = &m;
	src.needs_buf = 1;
	return write_image(t, &spec, &src, err);
}

int nidec_nii_write_masked(nidec_tempfile *t, const nidec_dataset *ds, const float *vals,
			   nidec_err *err)
{
	return nidec_nii_write_masked_n(t, ds, vals, 1, "nidec weight map", err);
}

size_t nidec_zero_nonfinite(float *v, size_t n)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		if (!isfinite(v[i])) {
			v[i] = 0;
			bad++;
		}
	return bad;
}

int nidec_nii_extract(const char *const *paths, size_t n_paths, const int64_t dims[3],
		      const double affine[16], const int32_t *ijk, size_t n_voxels,
		      float **X, size_t *n_volumes, nidec_err *err)
{
	nidec_nii_stream *s = NULL;
	nidec_nii *h = NULL;
	size_t *idx = NULL, total = 0, row = 0, f, v, cells;
	float *M = NULL;
	int rc = 0;

	/* pass 1: headers, grids and the number of volumes */
	for (f = 0; f < n_paths; f++) {
		NIDEC_TRY_GOTO(rc, nidec_nii_read_header(paths[f], &h, err), done);
		if (!nidec_nii_same_grid(h->dims, h->affine, dims, affine, 1e-4)) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"'%s' is on a %lldx%lldx%lld grid (or another affine) but the model is on %lldx%lldx%lld; resample the images to the training grid",
					paths[f], (long long)h->dims[0], (long long)h->dims[1],
					(long long)h->dims[2], (long long)dims[0], (long long)dims[1],
					(long long)dims[2]);
			goto done;
		}
		total += (size_t)h->dims[3];
		nidec_nii_free(&h);
	}
	idx = nidec_malloc_e(n_voxels ? n_voxels : 1, sizeof(*idx), "voxel offsets", err);
	if (!idx) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (v = 0; v < n_voxels; v++) {
		const int32_t *q = ijk + 3 * v;
		/* the caller's voxel list comes from a file (model.h5): an index
		 * outside the grid would read outside the volume */
		if (q[0] < 0 || q[0] >= dims[0] || q[1] < 0 || q[1] >= dims[1] || q[2] < 0 ||
		    q[2] >= dims[2]) {
			rc = nidec_fail(err, NIDEC_EINTERNAL,
					"voxel %zu (%d, %d, %d) lies outside the %lldx%lldx%lld grid", v,
					(int)q[0], (int)q[1], (int)q[2], (long long)dims[0],
					(long long)dims[1], (long long)dims[2]);
			goto done;
		}
		idx[v] = (size_t)q[0] + (size_t)dims[0] * ((size_t)q[1] + (size_t)dims[1] * (size_t)q[2]);
	}
	if (nidec_mul_size(total, n_voxels, &cells) < 0) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "%zu volumes x %zu voxels is too large", total, n_voxels);
		goto done;
	}
	M = nidec_malloc_e(cells ? cells : 1, sizeof(float), "the image matrix", err);
	if (!M) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	/* pass 2: stream the voxels */
	for (f = 0; f < n_paths; f++) {
		int64_t t;
		size_t bad = 0;
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_open(paths[f], &s, err), done);
		if (row + (size_t)s->hdr->dims[3] > total) {
			rc = nidec_fail(err, NIDEC_EIO, "'%s' changed while it was read; run again", paths[f]);
			goto done;
		}
		for (t = 0; t < s->hdr->dims[3]; t++, row++) {
			NIDEC_TRY_GOTO(rc, nidec_nii_stream_read(s, idx, n_voxels, M + row * n_voxels, err), done);
			bad += nidec_zero_nonfinite(M + row * n_voxels, n_voxels);
		}
		NIDEC_TRY_GOTO(rc, nidec_nii_stream_finish(s, err), done);
		nidec_nii_stream_close(&s);
		if (bad)
			nidec_warn("'%s' has %zu non-finite voxel value%s (NaN or Inf) inside the mask: replaced by 0, as nilearn does",
				   paths[f], bad, bad == 1 ? "" : "s");
	}
	*X = M;
	*n_volumes = total;
	M = NULL;
done:
	nidec_nii_stream_close(&s);
	nidec_nii_free(&h);
	nidec_free(idx);
	nidec_free(M);
	return rc;
}

void nidec_nii_runtime_version(char *buf, size_t n)
{
	FILE *tmp = tmpfile();
	int saved = -1, ok = 0;
	size_t got = 0;

	snprintf(buf, n, "unknown");
	if (!tmp || n == 0)
		goto done;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fileno(tmp), STDOUT_FILENO) < 0)
		goto done;
	nifti_disp_lib_version();
	fflush(stdout);
	ok = 1;
done:
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (ok && fseek(tmp, 0, SEEK_SET) == 0 && (got = fread(buf, 1, n - 1, tmp)) > 0) {
		buf[got] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
	} else if (n) {
		snprintf(buf, n, "unknown");
	}
	if (tmp)
		fclose(tmp);
}

void nidec_nii_library_version(char *buf, size_t n)
{
	/* nifti_clib has no version string in its API (only
	 * nifti_disp_lib_version(), which prints to stderr): name the library
	 * and its soname, and zlib, which does the (de)compression. */
	snprintf(buf, n, "nifti_clib nifti2_io (libnifti2.so.2), zlib %s", zlibVersion());
}
