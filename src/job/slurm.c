/*
 * slurm.c - `nidec sweep SWEEP.ini --emit-slurm DIR`: a Slurm job
 * array (one subject per array task) and a dependent gather job for the
 * sweep, ready to submit (see sweep.h, docs/SWEEP.md).
 *
 * The scripts are generated for this machine: they name the nidec binary
 * that wrote them (overridable with NIDEC=...), the sweep file by its
 * absolute path, and run in the current directory (--chdir), where the
 * relative paths of the sweep and analysis configs start.  Values from the
 * command line (--set) are passed on, shell-quoted.  Each array task runs
 * `nidec sweep --only <subject> --resume`; a TERM before the time limit
 * (--signal=B:TERM@120), or a TERM, INT or USR1 sent to the batch shell,
 * is passed to srun as USR1, which srun forwards to every rank (srun turns
 * a TERM into SIGKILL of the ranks: README "Exit status"); nidec writes
 * what is done and exits 3, and the task requeues itself.  Rank 0 only; no
 * MPI.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/version.h"
#include "nidec/mem.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"
#include "nidec/sweep.h"

/* Append `s` single-quoted for the shell. */
static int add_quoted(nidec_sbuf *sb, const char *s)
{
	int rc = nidec_sbuf_adds(sb, "'");

	for (; *s && rc == 0; s++)
		rc = *s == '\'' ? nidec_sbuf_adds(sb, "'\\''") : nidec_sbuf_add(sb, s, 1);
	return rc | nidec_sbuf_adds(sb, "'");
}

/* A #SBATCH value must not break the line or the directive. */
static int check_value(const char *what, const char *v, nidec_err *err)
{
	if (v && strpbrk(v, "\n\r \t'\"\\$`"))
		return nidec_fail(err, NIDEC_EINPUT, "--emit-slurm: %s '%s' must not contain spaces, quotes or '$'",
				  what, v);
	return 0;
}

static int header(nidec_sbuf *sb, const char *name, const char *what, const char *sweep_abs)
{
	time_t now = time(NULL);
	struct tm tm;
	char date[64] = "?";

	if (gmtime_r(&now, &tm))
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
	return nidec_sbuf_addf(sb,
			       "#!/bin/bash\n"
			       "# %s - %s\n"
			       "# Sweep: %s\n"
			       "# Written by `nidec sweep --emit-slurm` (nidec %s) on %s; edit the\n"
			       "# #SBATCH lines for your site (partition, account, time, memory), or write\n"
			       "# them again with the options of --emit-slurm (nidec sweep --help).\n",
			       name, what, sweep_abs, nidec_version, date);
}

static int common_sbatch(nidec_sbuf *sb, const nidec_sweep_slurm *opt, const char *cwd)
{
	int rc = 0;

	if (opt->partition)
		rc |= nidec_sbuf_addf(sb, "#SBATCH --partition=%s\n", opt->partition);
	if (opt->account)
		rc |= nidec_sbuf_addf(sb, "#SBATCH --account=%s\n", opt->account);
	rc |= nidec_sbuf_adds(sb, "#SBATCH --chdir=");
	rc |= nidec_sbuf_adds(sb, cwd);
	rc |= nidec_sbuf_adds(sb, "\n");
	return rc;
}

static int env_lines(nidec_sbuf *sb, const char *self)
{
	int rc = 0;

	rc |= nidec_sbuf_adds(sb,
			      "\n# Site modules, if nidec was built against them (uncomment and adapt):\n"
			      "# module load openmpi hdf5\n"
			      "\nset -u\n"
			      "# The nidec binary; NIDEC=/path/to/nidec sbatch ... overrides it.\n"
			      "NIDEC=${NIDEC:-");
	rc |= add_quoted(sb, self);
	rc |= nidec_sbuf_adds(sb, "}\n");
	return rc;
}

/* " --set 'a.b=c'" for every override. */
static int add_sets(nidec_sbuf *sb, char *const *sets, size_t n_sets)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n_sets; i++) {
		rc |= nidec_sbuf_adds(sb, " --set ");
		rc |= add_quoted(sb, sets[i]);
	}
	return rc;
}

int nidec_sweep_emit_slurm(const nidec_sweep *sw, const char *sweep_path, char *const *sets,
			   size_t n_sets, const nidec_sweep_slurm *opt, nidec_err *err)
{
	nidec_sbuf a = NIDEC_SBUF_INIT, g = NIDEC_SBUF_INIT;
	char *sweep_abs = NULL, *cwd = NULL, *self = NULL, *dir_abs = NULL;
	char path_a[4096], path_g[4096], logs[4096];
	size_t i, known_bad = 0;
	int rc = 0, add = 0;

	if (sw->n_subjects == 0)
		return nidec_fail(err, NIDEC_EINPUT, "sweep '%s' has no subject", sweep_path);
	NIDEC_TRY(check_value("--time", opt->time, err));
	NIDEC_TRY(check_value("--mem-per-cpu", opt->mem_per_cpu, err));
	NIDEC_TRY(check_value("--partition", opt->partition, err));
	NIDEC_TRY(check_value("--account", opt->account, err));
	if ((size_t)snprintf(logs, sizeof(logs), "%s/logs", opt->dir) >= sizeof(logs) ||
	    (size_t)snprintf(path_a, sizeof(path_a), "%s/sweep-array.sbatch", opt->dir) >= sizeof(path_a) ||
	    (size_t)snprintf(path_g, sizeof(path_g), "%s/sweep-gather.sbatch", opt->dir) >= sizeof(path_g))
		return nidec_fail(err, NIDEC_EINPUT, "--emit-slurm: directory '%s' is too long", opt->dir);
	NIDEC_TRY(nidec_results_prepare_dir(logs, err));

	/* realpath/getcwd allocate with malloc: freed with free() below */
	sweep_abs = realpath(sweep_path, NULL);
	cwd = getcwd(NULL, 0);
	self = realpath("/proc/self/exe", NULL);
	dir_abs = realpath(opt->dir, NULL);
	if (!sweep_abs || !cwd || !dir_abs) {
		rc = nidec_fail(err, NIDEC_EIO, "--emit-slurm: cannot resolve '%s': %s",
				!sweep_abs ? sweep_path : !cwd ? "." : opt->dir, strerror(errno));
		goto done;
	}
	if (strpbrk(cwd, "\n\r \t'\"\\$`") || strpbrk(dir_abs, "\n\r \t'\"\\$`")) {
		rc = nidec_fail(err, NIDEC_EINPUT,
				"--emit-slurm: '%s' holds spaces or quotes, which #SBATCH lines cannot carry; run from and write to a plain path",
				strpbrk(cwd, "\n\r \t'\"\\$`") ? cwd : dir_abs);
		goto done;
	}

	/* the array */
	add |= header(&a, "sweep-array.sbatch", "one Slurm array task per subject of the sweep", sweep_abs);
	add |= nidec_sbuf_addf(&a,
			       "#\n"
			       "# Submit it, then the gather job, which waits for every array task:\n"
			       "#     jid=$(sbatch --parsable %s)\n"
			       "#     sbatch --dependency=afterok:$jid %s\n"
			       "# afterok gathers only when every subject succeeded; with\n"
			       "# --dependency=afterany the group summary is made anyway and lists the\n"
			       "# failed subjects with their errors.\n"
			       "#\n"
			       "# Each task runs `nidec sweep --only SUBJECT --resume` with --ntasks ranks:\n"
			       "# a subject whose outputs are complete and current is kept, so\n"
			       "# resubmitting the array redoes only what is missing.  A TERM sent before\n"
			       "# the time limit (--signal), or a TERM, INT or USR1 sent to this script, is\n"
			       "# passed to the ranks as USR1 (srun forwards USR1; a TERM to srun would\n"
			       "# SIGKILL them): nidec saves its checkpoint and stops (exit 3), and the\n"
			       "# task requeues itself (--requeue).\n"
			       "#\n"
			       "# Array index -> subject:\n",
			       path_a, path_g);
	for (i = 0; i < sw->n_subjects; i++) {
		add |= nidec_sbuf_addf(&a, "#   %zu  sub-%s%s\n", i, sw->subject[i].label,
				       sw->subject[i].status ? "  (already known to fail, see below)" : "");
		known_bad += sw->subject[i].status != 0;
	}
	add |= nidec_sbuf_addf(&a,
			       "#SBATCH --job-name=nidec-sweep\n"
			       "#SBATCH --array=0-%zu\n"
			       "#SBATCH --ntasks=%d\n"
			       "#SBATCH --cpus-per-task=1\n"
			       "#SBATCH --mem-per-cpu=%s\n"
			       "#SBATCH --time=%s\n"
			       "#SBATCH --signal=B:TERM@120\n"
			       "#SBATCH --requeue\n"
			       "#SBATCH --open-mode=append\n"
			       "#SBATCH --output=%s/logs/sweep-%%A_%%a.out\n",
			       sw->n_subjects - 1, opt->ntasks, opt->mem_per_cpu, opt->time, dir_abs);
	add |= common_sbatch(&a, opt, cwd);
	add |= env_lines(&a, self ? self : "nidec");
	add |= nidec_sbuf_adds(&a, "SUBJECTS=(");
	for (i = 0; i < sw->n_subjects; i++)
		add |= nidec_sbuf_addf(&a, "%s%s", i ? " " : "", sw->subject[i].label);
	add |= nidec_sbuf_adds(&a,
			       ")\n"
			       "subject=${SUBJECTS[$SLURM_ARRAY_TASK_ID]}\n"
			       "echo \"nidec-sweep: sub-$subject (array task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID) on $SLURM_NTASKS ranks\"\n"
			       "\n"
			       "# mpirun -n \"$SLURM_NTASKS\" works too where srun's PMIx plugin is missing\n"
			       "srun --mpi=pmix --disable-status \"$NIDEC\" sweep ");
	add |= add_quoted(&a, sweep_abs);
	add |= nidec_sbuf_adds(&a, " --only \"$subject\" --resume --progress 60");
	add |= add_sets(&a, sets, n_sets);
	add |= nidec_sbuf_adds(&a,
			       " &\n"
			       "pid=$!\n"
			       "trap 'echo \"nidec-sweep: stop signal (time limit or preemption): stopping sub-$subject\"; kill -USR1 $pid 2>/dev/null' TERM INT USR1\n"
			       "wait $pid\n"
			       "rc=$?\n"
			       "# the trap interrupts wait: wait again for nidec's own exit status\n"
			       "while kill -0 $pid 2>/dev/null; do wait $pid; rc=$?; done\n"
			       "if [ \"$rc\" = 3 ]; then\n"
			       "    echo \"nidec-sweep: interrupted; requeueing sub-$subject (--resume keeps what is done)\"\n"
			       "    scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n"
			       "fi\n"
			       "exit $rc\n");

	/* the gather */
	add |= header(&g, "sweep-gather.sbatch",
		      "the group summary of the sweep, once every array task has ended", sweep_abs);
	add |= nidec_sbuf_addf(&g,
			       "#\n"
			       "# Submit after sweep-array.sbatch:\n"
			       "#     sbatch --dependency=afterok:$jid %s\n"
			       "# It only reads the subjects' outputs and writes dataset_description.json,\n"
			       "# group_scores.tsv and group_summary.json (exit 4 if some subject failed).\n"
			       "#SBATCH --job-name=nidec-sweep-gather\n"
			       "#SBATCH --ntasks=1\n"
			       "#SBATCH --cpus-per-task=1\n"
			       "#SBATCH --mem-per-cpu=1G\n"
			       "#SBATCH --time=00:15:00\n"
			       "#SBATCH --output=%s/logs/sweep-gather-%%j.out\n",
			       path_g, dir_abs);
	add |= common_sbatch(&g, opt, cwd);
	add |= env_lines(&g, self ? self : "nidec");
	add |= nidec_sbuf_adds(&g, "\nsrun --mpi=pmix -n 1 \"$NIDEC\" sweep ");
	add |= add_quoted(&g, sweep_abs);
	add |= nidec_sbuf_adds(&g, " --gather");
	add |= add_sets(&g, sets, n_sets);
	add |= nidec_sbuf_adds(&g, "\n");
	if (add) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory writing the Slurm scripts");
		goto done;
	}
	NIDEC_TRY_GOTO(rc, nidec_file_write(path_a, a.buf, a.len, err), done);
	NIDEC_TRY_GOTO(rc, nidec_file_write(path_g, g.buf, g.len, err), done);

	nidec_out("wrote %s (%zu subject%s: array 0-%zu, %d rank%s each)\n", path_a, sw->n_subjects,
	       sw->n_subjects == 1 ? "" : "s", sw->n_subjects - 1, opt->ntasks, opt->ntasks == 1 ? "" : "s");
	nidec_out("wrote %s\n", path_g);
	nidec_out("submit with:\n"
	       "  jid=$(sbatch --parsable %s)\n"
	       "  sbatch --dependency=afterok:$jid %s\n", path_a, path_g);
	if (known_bad)
		nidec_out("note: %zu subject%s already known to fail (see 'nidec sweep %s --list'); with afterok the\n"
		       "gather then never runs: fix them, or submit the gather with --dependency=afterany:$jid\n",
		       known_bad, known_bad == 1 ? " is" : "s are", sweep_path);
	fflush(stdout);
done:
	free(sweep_abs);
	free(cwd);
	free(self);
	free(dir_abs);
	nidec_sbuf_release(&a);
	nidec_sbuf_release(&g);
	return rc;
}
