/*
 * cmd_plot.c - `nidec plot epi|roi|stat`: PNG figures of NIfTI images, as
 * nilearn's plot_epi, plot_roi and plot_stat_map draw them (src/report/plot.c
 * does the drawing; this file parses options, loads, and writes).
 *
 * Rank 0 does the work; every other rank waits for its exit status, so the
 * command behaves the same under mpirun.  The PNG is written to a temporary
 * and renamed (file.h): on any error no file is left under the output name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/plot.h"
#include "nidec/png.h"

static const char usage_text[] =
	"usage: nidec plot epi IMAGE [options]      mean EPI (or one volume) in grey\n"
	"       nidec plot roi MASK [--bg IMAGE] [options]\n"
	"                                           a mask over a background\n"
	"       nidec plot stat MAP [--bg IMAGE] [--threshold T] [options]\n"
	"                                           a statistical map (weights) over a background\n"
	"\n"
	"options:\n"
	"  -o, --output FILE     PNG to write (default: <image name>_<kind>.png here)\n"
	"  --bg IMAGE            background for roi/stat: 3D, or 4D (its mean over time is shown);\n"
	"                        the mask is resampled onto its grid, nearest neighbour (default: black)\n"
	"  --threshold T         stat: values with |v| <= T are transparent (default 1e-6)\n"
	"  --vmax V              stat: colour scale from -V to V (default: max |v|)\n"
	"  --cuts N|MM,...       N evenly spaced slices (default: every slice, at most 7), or\n"
	"                        world coordinates in mm on the view's normal, e.g. -12,0,12\n"
	"  --orientation VIEW    axial (default), coronal or sagittal\n"
	"  --volume N            epi: show volume N (from 0) instead of the mean over time\n"
	"  --outline             roi: draw the outline only, no fill\n"
	"  --title TEXT          title at the top of the figure\n"
	"  -q, -v                quieter, more verbose\n"
	"\n"
	"Orientation comes from each image's affine; figures use the neurological convention\n"
	"(the subject's left on the left), said in the figure.  Colours: grey with limits at the\n"
	"2nd and 98th percentiles; maps in nilearn's cold_hot, symmetric around 0.\n";

/* Value of an option with an argument ("--x V" or "--x=V"); NULL if argv[*i]
 * is not that option.  Records an error when the value is missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, const char *alias,
			     int *bad, nidec_err *err)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (!strncmp(a, name, n) && a[n] == '=')
		return a + n + 1;
	if (strcmp(a, name) && (!alias || strcmp(a, alias)))
		return NULL;
	if (*i + 1 >= argc) {
		*bad = 1;
		nidec_fail(err, NIDEC_EINPUT, "%s needs a value; see 'nidec plot --help'", a);
		return NULL;
	}
	return argv[++*i];
}

static int parse_double(const char *opt, const char *s, double *out, nidec_err *err)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end)
		return nidec_fail(err, NIDEC_EINPUT, "%s '%s' is not a number; use '.' as decimal separator",
				  opt, s);
	*out = v;
	return 0;
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

static int run_plot(int argc, char **argv, int *status, nidec_err *err)
{
	nidec_plot_opts o = NIDEC_PLOT_OPTS_INIT;
	const char *kind_s, *image = NULL, *bg_path = NULL, *output = NULL, *v;
	char *own_output = NULL;
	double *cuts = NULL;
	float *img_data = NULL, *bg_data = NULL;
	nidec_vol img, bg;
	nidec_canvas *cv = NULL;
	long volume = -1;
	int i, rc = 0, bad = 0;

	*status = NIDEC_EXIT_USAGE;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		if (argc >= 2) {
			fputs(usage_text, stdout);
			*status = NIDEC_EXIT_OK;
			return 0;
		}
		return nidec_fail(err, NIDEC_EINPUT, "nidec plot needs a kind: epi, roi or stat; "
				  "see 'nidec plot --help'");
	}
	kind_s = argv[1];
	if (!strcmp(kind_s, "epi"))
		o.kind = NIDEC_PLOT_EPI;
	else if (!strcmp(kind_s, "roi"))
		o.kind = NIDEC_PLOT_ROI;
	else if (!strcmp(kind_s, "stat"))
		o.kind = NIDEC_PLOT_STAT;
	else
		return nidec_fail(err, NIDEC_EINPUT, "'%s' is not a kind of plot; use epi, roi or stat", kind_s);

	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			*status = NIDEC_EXIT_OK;
			goto done;
		}
		rc = nidec_cli_common(argc, argv, &i, NULL, err);
		if (rc < 0)
			goto done;
		if (rc > 0)
			continue;
		if ((v = opt_value(argc, argv, &i, "--output", "-o", &bad, err))) {
			output = v;
		} else if ((v = opt_value(argc, argv, &i, "--bg", NULL, &bad, err))) {
			bg_path = v;
		} else if ((v = opt_value(argc, argv, &i, "--threshold", NULL, &bad, err))) {
			NIDEC_TRY_GOTO(rc, parse_double("--threshold", v, &o.threshold, err), done);
			if (!(o.threshold >= 0)) {
				rc = nidec_fail(err, NIDEC_EINPUT, "--threshold %s is negative; "
						"it applies to |value|, give 0 or more", v);
				goto done;
			}
		} else if ((v = opt_value(argc, argv, &i, "--vmax", NULL, &bad, err))) {
			NIDEC_TRY_GOTO(rc, parse_double("--vmax", v, &o.vmax, err), done);
			if (!(o.vmax > 0)) {
				rc = nidec_fail(err, NIDEC_EINPUT, "--vmax %s must be positive", v);
				goto done;
			}
		} else if ((v = opt_value(argc, argv, &i, "--cuts", NULL, &bad, err))) {
			nidec_free(cuts);
			cuts = NULL;
			NIDEC_TRY_GOTO(rc, nidec_plot_parse_cuts(v, &cuts, &o.n_cuts, err), done);
			o.cuts_mm = cuts;
		} else if ((v = opt_value(argc, argv, &i, "--orientation", NULL, &bad, err))) {
			NIDEC_TRY_GOTO(rc, nidec_plot_parse_view(v, &o.view, err), done);
		} else if ((v = opt_value(argc, argv, &i, "--volume", NULL, &bad, err))) {
			char *end;
			volume = strtol(v, &end, 10);
			if (end == v || *end || volume < 0) {
				rc = nidec_fail(err, NIDEC_EINPUT, "--volume '%s' is not a volume index (0, 1, ...)", v);
				goto done;
			}
		} else if ((v = opt_value(argc, argv, &i, "--title", NULL, &bad, err))) {
			o.title = v;
		} else if (bad) {
			rc = NIDEC_EINPUT;
			goto done;
		} else if (!strcmp(a, "--outline")) {
			o.outline_only = 1;
		} else if (a[0] == '-' && a[1]) {
			rc = nidec_fail(err, NIDEC_EINPUT, "unknown option '%s'; see 'nidec plot --help'", a);
			goto done;
		} else if (!image) {
			image = a;
		} else {
			rc = nidec_fail(err, NIDEC_EINPUT, "unexpected argument '%s' (the image is '%s'); "
					"see 'nidec plot --help'", a, image);
			goto done;
		}
		if (bad) {
			rc = NIDEC_EINPUT;
			goto done;
		}
	}
	if (!image) {
		rc = nidec_fail(err, NIDEC_EINPUT, "nidec plot %s needs an image; see 'nidec plot --help'", kind_s);
		goto done;
	}
	if (volume >= 0 && o.kind != NIDEC_PLOT_EPI) {
		rc = nidec_fail(err, NIDEC_EINPUT, "--volume applies to 'nidec plot epi' only");
		goto done;
	}
	if (bg_path && o.kind == NIDEC_PLOT_EPI) {
		rc = nidec_fail(err, NIDEC_EINPUT, "--bg applies to roi and stat plots; 'epi' is its own background");
		goto done;
	}
	if (o.outline_only && o.kind != NIDEC_PLOT_ROI) {
		rc = nidec_fail(err, NIDEC_EINPUT, "--outline applies to 'nidec plot roi' only");
		goto done;
	}
	if (!output) {
		own_output = default_output(image, kind_s, err);
		if (!own_output) {
			rc = NIDEC_ENOMEM;
			goto done;
		}
		output = own_output;
	}
	/* usage is fine from here on: failures are exit status 1 */
	*status = NIDEC_EXIT_FAILURE;
	NIDEC_TRY_GOTO(rc, nidec_plot_load(image, o.kind == NIDEC_PLOT_EPI ? 0 : 3, volume,
					   o.kind == NIDEC_PLOT_EPI ? "image" : o.kind == NIDEC_PLOT_ROI ? "mask" : "stat map",
					   &img, &img_data, err), done);
	if (bg_path)
		NIDEC_TRY_GOTO(rc, nidec_plot_load(bg_path, 0, -1, "background", &bg, &bg_data, err), done);
	NIDEC_TRY_GOTO(rc, nidec_plot_render(&o, &img, bg_path ? &bg : NULL, &cv, err), done);
	{
		char sw[128];
		snprintf(sw, sizeof(sw), "nidec %s", nidec_version);
		NIDEC_TRY_GOTO(rc, nidec_canvas_set_text(cv, "Software", sw, err), done);
	}
	NIDEC_TRY_GOTO(rc, nidec_png_write(cv, output, err), done);
	nidec_out("%s\n", output);
	*status = NIDEC_EXIT_OK;
done:
	nidec_canvas_destroy(&cv);
	nidec_free(img_data);
	nidec_free(bg_data);
	nidec_free(cuts);
	nidec_free(own_output);
	return rc < 0 ? rc : 0;
}

int cmd_plot(int argc, char **argv, nidec_comm *comm)
{
	nidec_err err = NIDEC_ERR_INIT;
	int status = NIDEC_EXIT_OK, rc = 0;

	if (nidec_comm_rank(comm) == 0) {
		rc = run_plot(argc, argv, &status, &err);
		if (rc < 0) {
			fprintf(stderr, "nidec: error: %s\n", err.msg[0] ? err.msg : nidec_err_name(rc));
			if (status == NIDEC_EXIT_OK)
				status = NIDEC_EXIT_FAILURE;
		}
	}
	/* every rank exits with rank 0's status */
	if (nidec_comm_size(comm) > 1 && nidec_comm_bcast(comm, &status, sizeof(status), 0, &err) < 0) {
		if (nidec_comm_rank(comm) != 0)
			nidec_error("%s", err.msg);
		return NIDEC_EXIT_FAILURE;
	}
	return status;
}
