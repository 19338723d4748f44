/*
 * cmd_info.c - `nidec info FILE`: what a dataset holds (samples per
 * condition and run, voxels, grid, voxel size, TR, provenance), or, for
 * any other HDF5 file (results.h5, model.h5), its attributes and datasets.
 * Human-readable, on stdout; rank 0 reads, the other ranks exit with its
 * status.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "nidec/dataset.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"

static const char usage[] = "usage: nidec info FILE [options]\n";

static const char doc[] =
	"Describe a dataset written by 'nidec convert': samples per condition and run,\n"
	"voxels, grid, voxel size, TR, inputs and provenance.  Any other HDF5 file\n"
	"(results.h5, model.h5) is listed: root attributes and datasets with shapes.\n";

static int describe_dataset(const char *path, int verify, nidec_sbuf *out, nidec_err *err)
{
	static const char *const attrs[] = { "created", "tool_version", "command_line",
		"hdf5_version", "nifti_version", "liblinear_version", "inputs_sha256" };
	nidec_dataset *ds = NULL;
	nidec_ds_input *in = NULL;
	size_t n_in = 0, i, c, r, n_runs = 0, *counts = NULL, width = 5;
	int rc = 0, add = 0;
	const double *a;

	NIDEC_TRY(nidec_ds_open(path, &ds, err));
	for (i = 0; i < ds->n_samples; i++)
		if (ds->runs[i] >= 0 && (size_t)ds->runs[i] + 1 > n_runs)
			n_runs = (size_t)ds->runs[i] + 1;
	counts = nidec_calloc_e((n_runs + 1) * (ds->n_conditions + 1), sizeof(*counts), "a table", err);
	if (!counts) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	/* counts[r * (C+1) + c]; row n_runs and column C are totals */
	for (i = 0; i < ds->n_samples; i++) {
		for (c = 0; c < ds->n_conditions; c++)
			if (!strcmp(ds->labels[i], ds->conditions[c]))
				break;
		if (c == ds->n_conditions || ds->runs[i] < 0)
			continue;
		r = (size_t)ds->runs[i];
		counts[r * (ds->n_conditions + 1) + c]++;
		counts[r * (ds->n_conditions + 1) + ds->n_conditions]++;
		counts[n_runs * (ds->n_conditions + 1) + c]++;
		counts[n_runs * (ds->n_conditions + 1) + ds->n_conditions]++;
	}
	a = ds->affine;
	add |= nidec_sbuf_addf(out, "dataset     %s (%s format %d)\n", path, NIDEC_DS_FORMAT_NAME,
			NIDEC_DS_FORMAT_VERSION);
	add |= nidec_sbuf_addf(out, "samples     %zu\n", ds->n_samples);
	add |= nidec_sbuf_addf(out, "voxels      %zu (%.1f mm^3 each)\n", ds->n_voxels, nidec_ds_voxel_volume(ds));
	add |= nidec_sbuf_addf(out, "grid        %lld x %lld x %lld\n", (long long)ds->dims[0],
			(long long)ds->dims[1], (long long)ds->dims[2]);
	add |= nidec_sbuf_addf(out, "voxel size  %g x %g x %g mm\n", ds->pixdim[0], ds->pixdim[1], ds->pixdim[2]);
	add |= nidec_sbuf_addf(out, "TR          %g s\n", ds->pixdim[3]);
	/* + 0.0 prints -0 as 0 */
	add |= nidec_sbuf_addf(out, "affine      [%g %g %g %g; %g %g %g %g; %g %g %g %g]\n", a[0] + 0.0,
			a[1] + 0.0, a[2] + 0.0, a[3] + 0.0, a[4] + 0.0, a[5] + 0.0, a[6] + 0.0,
			a[7] + 0.0, a[8] + 0.0, a[9] + 0.0, a[10] + 0.0, a[11] + 0.0);
	add |= nidec_sbuf_addf(out, "runs        %zu\n", n_runs);
	add |= nidec_sbuf_addf(out, "conditions  %zu:", ds->n_conditions);
	for (c = 0; c < ds->n_conditions; c++) {
		add |= nidec_sbuf_addf(out, "%s %s", c ? "," : "", ds->conditions[c]);
		if (strlen(ds->conditions[c]) > width)
			width = strlen(ds->conditions[c]);
	}
	add |= nidec_sbuf_adds(out, "\n\nsamples per condition and run:\n");
	add |= nidec_sbuf_addf(out, "%5s", "run");
	for (c = 0; c < ds->n_conditions; c++)
		add |= nidec_sbuf_addf(out, "  %*s", (int)width, ds->conditions[c]);
	add |= nidec_sbuf_addf(out, "  %*s\n", (int)width, "total");
	for (r = 0; r <= n_runs; r++) {
		if (r < n_runs)
			add |= nidec_sbuf_addf(out, "%5zu", r);
		else
			add |= nidec_sbuf_addf(out, "%5s", "total");
		for (c = 0; c <= ds->n_conditions; c++)
			add |= nidec_sbuf_addf(out, "  %*zu", (int)width, counts[r * (ds->n_conditions + 1) + c]);
		add |= nidec_sbuf_adds(out, "\n");
	}
	add |= nidec_sbuf_adds(out, "\nprovenance:\n");
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		char *v = NULL;
		NIDEC_TRY_GOTO(rc, nidec_ds_attr(ds, attrs[i], &v, err), done);
		add |= nidec_sbuf_addf(out, "  %-18s %s\n", attrs[i], v ? v : "(not recorded)");
		nidec_free(v);
	}
	NIDEC_TRY_GOTO(rc, nidec_ds_inputs(ds, &in, &n_in, err), done);
	add |= nidec_sbuf_addf(out, "inputs (%zu):\n", n_in);
	for (i = 0; i < n_in; i++)
		add |= nidec_sbuf_addf(out, "  %-7s %s  %lld bytes  sha256 %s\n", in[i].role, in[i].path,
				(long long)in[i].size, in[i].sha256);
	if (verify) {
		if (!ds->has_checksums) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"cannot verify '%s': it records no checksums (written by an older nidec); convert it again (nidec convert --force) to record them",
					path);
			goto done;
		}
		NIDEC_TRY_GOTO(rc, nidec_ds_verify(ds, err), done);
		add |= nidec_sbuf_addf(out, "verified: /X (%zu x %zu), /labels and /runs match the checksums recorded when it was converted\n",
				       ds->n_samples, ds->n_voxels);
	}
	/* every line or none: a failed append is an error, not a shorter
	 * listing (tests/bad/README.md B12) */
	if (add < 0)
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory formatting the description of '%s'", path);
done:
	nidec_ds_inputs_free(in, n_in);
	nidec_free(counts);
	nidec_ds_close(&ds);
	return rc;
}

/* --verify of an HDF5 file that is not a dataset: a model.h5 (its reader
 * checks the checksums), or nothing nidec can verify. */
static int verify_model(const char *path, nidec_sbuf *out, nidec_err *err)
{
	nidec_model *m = NULL;

	if (nidec_model_read(path, &m, err) < 0)
		return err->code;
	nidec_model_free(&m);
	if (nidec_sbuf_addf(out, "verified: every array of model '%s' matches the checksum recorded when it was written\n",
			    path) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "out of memory");
	return 0;
}

int cmd_info(int argc, char **argv, nidec_comm *comm)
{
	nidec_err err = NIDEC_ERR_INIT;
	nidec_sbuf out = NIDEC_SBUF_INIT;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	const char *file = NULL;
	int rc = 0, rank = nidec_comm_rank(comm), is_ds = 0, ret, verify = 0;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("FILE", &file, 0, "HDF5 file to describe"),
		NIDEC_OPT_FLAG(0, "verify", &verify,
			       "read every array of a dataset or a model.h5 and check it against the "
			       "checksums recorded when it was written (exit 1 if it does not match)"),
		NIDEC_CLI_OPTS_COMMON(&c),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd cmd = { "nidec info", usage, doc, NULL, opts, NULL, 0 };

	if ((ret = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
		return ret;
	if (rank == 0) {
		rc = nidec_ds_is_dataset(file, &is_ds, &err);
		if (rc == 0)
			rc = is_ds ? describe_dataset(file, verify, &out, &err) : nidec_h5_describe(file, &out, &err);
		if (rc == 0 && verify && !is_ds)
			rc = verify_model(file, &out, &err);
		if (rc == 0)
			nidec_out("%s", out.buf);
	}
	rc = nidec_comm_agree(comm, rc, &err);
	nidec_sbuf_release(&out);
	if (rc < 0)
		return rank == 0 ? nidec_cli_fail(&err, comm) : nidec_cli_exit_code(rc);
	return NIDEC_EXIT_OK;
}
