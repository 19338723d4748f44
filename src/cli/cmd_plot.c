/*
 * cmd_plot.c - `nidec plot epi|roi|stat`: PNG figures of NIfTI images, as
 * nilearn's plot_epi, plot_roi and plot_stat_map draw them (src/report/plot.c
 * does the drawing; this file parses options, loads, and writes).
 *
 * Every rank parses the options (the table in cmd_plot(), opts.h); rank 0
 * does the work and every other rank waits for its exit status, so the
 * command behaves the same under mpirun.  The PNG is written to a temporary
 * and renamed (file.h): on any error no file is left under the output name.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/plot.h"
#include "nidec/png.h"

static const char usage[] =
	"usage: nidec plot epi IMAGE [options]      mean EPI (or one volume) in grey\n"
	"       nidec plot roi MASK [--bg IMAGE] [options]\n"
	"                                           a mask over a background\n"
	"       nidec plot stat MAP [--bg IMAGE] [--threshold T] [options]\n"
	"                                           a statistical map (weights) over a background\n";

static const char footer[] =
	"Orientation comes from each image's affine; figures use the neurological convention\n"
	"(the subject's left on the left), said in the figure.  Colours: grey with limits at the\n"
	"2nd and 98th percentiles; maps in nilearn's cold_hot, symmetric around 0.\n";

/* --cuts: a count or world coordinates (nidec_plot_parse_cuts) */
struct cuts {
	double *mm;
	size_t n;
};

static int parse_cuts(const nidec_opt *opt, const char *s, nidec_err *err)
{
	struct cuts *c = opt->value;
	double *mm = NULL;
	size_t n = 0;

	NIDEC_TRY(nidec_plot_parse_cuts(s, &mm, &n, err));
	nidec_free(c->mm);
	c->mm = mm;
	c->n = n;
	return 0;
}

static int parse_view(const nidec_opt *opt, const char *s, nidec_err *err)
{
	return nidec_plot_parse_view(s, opt->value, err);
}

/* "<dir>/sub-1_bold.nii.gz" -> "sub-1_bold_<kind>.png" */
static char *default_output(const char *image, const char *kind, nidec_err *err)
{
	const char *base = strrchr(image, '/');
	char *out, *dot;
	size_t n;

	base = base ? base + 1 : image;
	n = strlen(base) + strlen(kind) + 6;
	out = nidec_malloc_e(n, 1, "an output name", err);
	if (!out)
		return NULL;
	snprintf(out, n, "%s", base);
	dot = strstr(out, ".nii");
	if (dot)
		*dot = '\0';
	snprintf(out + strlen(out), n - strlen(out), "_%s.png", kind);
	return out;
}

/* Rank 0: load, draw, write.  Failures are exit status 1. */
static int run_plot(const nidec_plot_opts *o, const char *kind_s, const char *image,
		    const char *bg_path, const char *output, int volume, nidec_err *err)
{
	char *own_output = NULL;
	float *img_data = NULL, *bg_data = NULL;
	nidec_vol img, bg;
	nidec_canvas *cv = NULL;
	int rc = 0;

	if (!output) {
		own_output = default_output(image, kind_s, err);
		if (!own_output)
			return NIDEC_ENOMEM;
		output = own_output;
	}
	NIDEC_TRY_GOTO(rc, nidec_plot_load(image, o->kind == NIDEC_PLOT_EPI ? 0 : 3, volume,
					   o->kind == NIDEC_PLOT_EPI ? "image" : o->kind == NIDEC_PLOT_ROI ? "mask" : "stat map",
					   &img, &img_data, err), done);
	if (bg_path)
		NIDEC_TRY_GOTO(rc, nidec_plot_load(bg_path, 0, -1, "background", &bg, &bg_data, err), done);
	NIDEC_TRY_GOTO(rc, nidec_plot_render(o, &img, bg_path ? &bg : NULL, &cv, err), done);
	{
		char sw[128];
		snprintf(sw, sizeof(sw), "nidec %s", nidec_version);
		NIDEC_TRY_GOTO(rc, nidec_canvas_set_text(cv, "Software", sw, err), done);
	}
	NIDEC_TRY_GOTO(rc, nidec_png_write(cv, output, err), done);
	nidec_out("%s\n", output);
done:
	nidec_canvas_destroy(&cv);
	nidec_free(img_data);
	nidec_free(bg_data);
	nidec_free(own_output);
	return rc;
}

/* Inputs are read-only (docs/ERRORS.md): -o is neither image. */
static int check_output(const char *image, const char *bg, const char *output, nidec_err *err)
{
	nidec_file_inputs in = NIDEC_FILE_INPUTS_INIT;
	int rc;

	if (!output)
		return 0;
	rc = nidec_file_inputs_add(&in, image, "the image", err);
	if (rc == 0)
		rc = nidec_file_inputs_add(&in, bg, "--bg", err);
	if (rc == 0)
		rc = nidec_file_inputs_check(&in, output, "choose another output (-o)", err);
	nidec_file_inputs_release(&in);
	return rc;
}

int cmd_plot(int argc, char **argv, nidec_comm *comm)
{
	nidec_plot_opts o = NIDEC_PLOT_OPTS_INIT;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	struct cuts cuts = { NULL, 0 };
	const char *kind_s = NULL, *image = NULL, *bg_path = NULL, *output = NULL;
	int status = NIDEC_EXIT_OK, volume = -1;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("KIND", &kind_s, NIDEC_OPT_OPTIONAL, "epi, roi or stat"),
		NIDEC_OPT_ARG("IMAGE", &image, NIDEC_OPT_OPTIONAL, "the image, mask or map to draw"),
		NIDEC_OPT_STRING('o', "output", &output, "FILE", "<image name>_<kind>.png here",
				 "PNG to write"),
		NIDEC_OPT_STRING(0, "bg", &bg_path, "IMAGE", "black",
				 "background for roi/stat: 3D, or 4D (its mean over time is shown); the "
				 "mask is resampled onto its grid, nearest neighbour"),
		NIDEC_OPT_DOUBLE(0, "threshold", &o.threshold, "T", 0, HUGE_VAL, 0, NULL, "1e-6",
				 "stat: values with |v| <= T are transparent"),
		NIDEC_OPT_DOUBLE(0, "vmax", &o.vmax, "V", 0, HUGE_VAL, NIDEC_KEY_LO_OPEN, NULL, "max |v|",
				 "stat: colour scale from -V to V"),
		NIDEC_OPT_CALLBACK(0, "cuts", &cuts, "N|MM,...", "every slice, at most 7",
				   "N evenly spaced slices, or world coordinates in mm on the view's "
				   "normal, e.g. -12,0,12", parse_cuts),
		NIDEC_OPT_CALLBACK(0, "orientation", &o.view, "VIEW", "axial",
				   "axial, coronal or sagittal", parse_view),
		NIDEC_OPT_INT(0, "volume", &volume, "N", 0, 2147483647, NULL,
			      "epi: show volume N (from 0) instead of the mean over time"),
		NIDEC_OPT_FLAG(0, "outline", &o.outline_only, "roi: draw the outline only, no fill"),
		NIDEC_OPT_STRING(0, "title", &o.title, "TEXT", NULL, "title at the top of the figure"),
		NIDEC_CLI_OPTS_COMMON(&c),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd cmd = { "nidec plot", usage, NULL, footer, opts, NULL, 0 };

	if ((status = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
		goto done;
	status = NIDEC_EXIT_USAGE;
	if (!kind_s) {
		nidec_cli_usage_error(comm, &cmd, "needs a kind: epi, roi or stat; see 'nidec plot --help'");
		goto done;
	}
	if (!strcmp(kind_s, "epi"))
		o.kind = NIDEC_PLOT_EPI;
	else if (!strcmp(kind_s, "roi"))
		o.kind = NIDEC_PLOT_ROI;
	else if (!strcmp(kind_s, "stat"))
		o.kind = NIDEC_PLOT_STAT;
	else {
		nidec_cli_usage_error(comm, &cmd, "'%s' is not a kind of plot; use epi, roi or stat", kind_s);
		goto done;
	}
	if (!image)
		nidec_cli_usage_error(comm, &cmd, "%s needs an image; see 'nidec plot --help'", kind_s);
	else if (volume >= 0 && o.kind != NIDEC_PLOT_EPI)
		nidec_cli_usage_error(comm, &cmd, "--volume applies to 'nidec plot epi' only");
	else if (bg_path && o.kind == NIDEC_PLOT_EPI)
		nidec_cli_usage_error(comm, &cmd, "--bg applies to roi and stat plots; 'epi' is its own background");
	else if (o.outline_only && o.kind != NIDEC_PLOT_ROI)
		nidec_cli_usage_error(comm, &cmd, "--outline applies to 'nidec plot roi' only");
	else
		status = NIDEC_EXIT_OK;
	if (status != NIDEC_EXIT_OK)
		goto done;
	o.n_cuts = cuts.n;
	o.cuts_mm = cuts.mm;
	if (nidec_comm_rank(comm) == 0 &&
	    (check_output(image, bg_path, output, &err) < 0 ||
	     run_plot(&o, kind_s, image, bg_path, output, volume, &err) < 0)) {
		fprintf(stderr, "nidec: error: %s\n", err.msg[0] ? err.msg : nidec_err_name(err.code));
		status = NIDEC_EXIT_FAILURE;
	}
	/* every rank exits with rank 0's status */
	if (nidec_comm_size(comm) > 1 && nidec_comm_bcast(comm, &status, sizeof(status), 0, &err) < 0) {
		if (nidec_comm_rank(comm) != 0)
			nidec_error("%s", err.msg);
		status = NIDEC_EXIT_FAILURE;
	}
done:
	nidec_free(cuts.mm);
	return status;
}
