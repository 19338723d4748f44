/*
 * fuzz_nifti_header.c - libFuzzer target for the NIfTI reader (src/io/nii.c):
 * header parsing and checks (nidec_nii_read_header), then, when the header
 * describes a small image, streaming every volume through the same path as
 * `nidec convert` (all voxels, then a few scattered ones) and the gzip
 * trailer check.  Any input must give 0 or a negative NIDEC_E* code with a
 * message: never a crash, a sanitizer report or a leak.
 * Seeds: tests/fuzz/seeds/nifti_header/.  Built by `make fuzz`.
 */
#include <string.h>
#include <zlib.h>

#include "fuzz_util.h"
#include "nidec/err.h"
#include "nidec/mem.h"
#include "nidec/nii.h"

/* Stream at most this much: the fuzzer is after parser bugs, not memory. */
#define MAX_VOLUME_BYTES ((size_t)1 << 20)
#define MAX_VOLUMES 64

/*
 * nii.c asks zlib for 256 KiB buffers (gzbuffer), which ASan serves with
 * mmap/munmap on every open: 200 executions a second instead of thousands.
 * This definition takes precedence over libz's, so the fuzzer keeps zlib's
 * default 8 KiB buffers; the reading logic under test is the same.
 */
int gzbuffer(gzFile file, unsigned size)
{
	(void)file;
	(void)size;
	return 0;
}

static void check_err(int rc, const nidec_err *err)
{
	/* a failure always says something, in one line */
	if (rc < 0 && (err->code != rc || !err->msg[0] || strchr(err->msg, '\n')))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	nidec_err err = NIDEC_ERR_INIT;
	nidec_nii *h = NULL;
	nidec_nii_stream *s = NULL;
	float *out = NULL;
	size_t idx[3];
	int64_t t;
	int rc;

	rc = nidec_nii_read_header(path, &h, &err);
	check_err(rc, &err);
	if (rc < 0)
		return 0;
	if (h->n_vox3 * (size_t)h->nbyper > MAX_VOLUME_BYTES || h->dims[3] > MAX_VOLUMES) {
		nidec_nii_free(&h);
		return 0;
	}
	nidec_nii_free(&h);
	nidec_err_clear(&err);
	rc = nidec_nii_stream_open(path, &s, &err);
	check_err(rc, &err);
	if (rc < 0)
		return 0;
	h = (nidec_nii *)nidec_nii_stream_header(s);
	/* room for a whole volume and for the 3 scattered voxels */
	out = nidec_malloc((h->n_vox3 > 3 ? h->n_vox3 : 3) * sizeof(float));
	if (!out)
		goto done;
	idx[0] = 0;
	idx[1] = h->n_vox3 / 2;
	idx[2] = h->n_vox3 - 1;
	for (t = 0; t < h->dims[3]; t++) {
		/* all voxels, a few, or none, as convert and predict do */
		if (t % 3 == 0)
			rc = nidec_nii_stream_read(s, NULL, h->n_vox3, out, &err);
		else if (t % 3 == 1)
			rc = nidec_nii_stream_read(s, idx, 3, out, &err);
		else
			rc = nidec_nii_stream_read(s, NULL, 0, NULL, &err);
		check_err(rc, &err);
		if (rc < 0)
			goto done;
	}
	rc = nidec_nii_stream_finish(s, &err);
	check_err(rc, &err);
done:
	nidec_free(out);
	nidec_nii_stream_close(&s);
	return 0;
}
