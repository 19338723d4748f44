/*
 * cmd_searchlight.c - `nidec searchlight CONFIG [options]`: a searchlight
 * map (nilearn's SearchLight) from one config: the decoder's cross-
 * validation in a sphere around every voxel ([searchlight] radius,
 * process_mask, min_voxels), over every rank.  The command line and the
 * job are `nidec run`'s (cmd_run.c) with the searchlight analysis
 * (src/job/searchlight.c).
 */
#include "cmd.h"
#include "nidec/job.h"

static const char usage[] = "usage: nidec searchlight CONFIG [options]\n";

static const char doc[] =
	"A searchlight map: for every voxel of [searchlight] process_mask (default: the\n"
	"mask), the cross-validated score of the decoder on the mask voxels within\n"
	"[searchlight] radius mm of it (nilearn's SearchLight).  The same [data],\n"
	"[preprocess], [model] and [cv] keys as 'nidec run'; without [model] C the\n"
	"spheres use C = 1 (nilearn's), with a C grid each sphere selects its own.\n"
	"A continuous target ([model] task = regression) takes estimator = svr:\n"
	"scikit-learn's SVR() under compat = nilearn (RBF kernel), else a linear SVR.\n"
	"Run it under mpirun/srun to spread the spheres over ranks.\n";

static const char footer[] =
	"SIGTERM, SIGUSR1 or SIGINT stop the run with its checkpoint saved (exit 3);\n"
	"run the same command again with --resume.  Exit status: 0 ok, 1 error, 2 bad\n"
	"command line, 3 interrupted.\n"
	"\n"
	"Writes searchlight_<scoring>.nii.gz (the map), searchlight_folds_<scoring>.nii.gz\n"
	"(one volume per fold), searchlight_nvoxels.nii.gz, with [cv] permutations > 0\n"
	"searchlight_p.nii.gz and searchlight_p_fwe.nii.gz, searchlight.tsv, summary.json,\n"
	"results.h5 and report.html into [output] dir.\n";

int cmd_searchlight(int argc, char **argv, nidec_comm *comm)
{
	static const nidec_cli_texts texts = { "nidec searchlight", usage, doc, footer };

	return nidec_cli_run_analysis(argc, argv, comm, &texts, &nidec_searchlight_analysis);
}
