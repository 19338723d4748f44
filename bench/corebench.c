/*
 * corebench.c - the numerical core alone, without MPI, HDF5 or NIfTI: read a
 * dataset exported by bench/dump_dataset.py, build the plan of a config, run
 * its tasks in one process, reduce, and print times and a fingerprint of the
 * outcome (per-fold scores, chosen C, weights) that two builds can compare.
 *
 *     make BUILD=build-perf
 *     cc -O2 -Iinclude -Isrc bench/corebench.c build-perf/core/*.o build-perf/base/*.o \
 *        -llinear -lsvm -llapacke -llapack -linih -lm -o build-perf/corebench   (bench/perf.sh)
 *     build-perf/corebench DATA.bin [--set sec.key=val]... [--outer F] [--limit N]
 *                          [--dump FILE] [--repeat R] [--form 0|1|2] [--warm 0|1]
 *
 * --outer F runs only the tasks of outer fold F (no reduction); --limit N
 * only the first N task ids.  --dump writes every per-fold score, chosen C
 * and weight with %.17g.  Timing is CPU time of this process (clock()) and
 * wall time; the best of --repeat runs is printed.  --form and --warm call
 * nidec_plan_set_solver (0 = automatic, 1 = primal, 2 = kernel; warm start
 * along the C grid on or off).  Built with -DCOREBENCH_OLD it links against
 * a core from before nidec_plan_set_solver (for side-by-side baselines).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nidec/cfg.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/plan.h"
#include "nidec/reduce.h"
#include "nidec/task.h"

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct data {
	uint32_t n, p, K;
	double vox;
	char **names;
	float *X;
	int *y, *runs;
};

static int read_all(FILE *f, void *buf, size_t n)
{
	return fread(buf, 1, n, f) == n ? 0 : -1;
}

static int load(const char *path, struct data *d)
{
	FILE *f = fopen(path, "rb");
	char magic[4];
	uint32_t k, len;

	if (!f) {
		perror(path);
		return -1;
	}
	if (read_all(f, magic, 4) || memcmp(magic, "NIDX", 4) || read_all(f, &d->n, 4) ||
	    read_all(f, &d->p, 4) || read_all(f, &d->K, 4) || read_all(f, &d->vox, 8))
		goto bad;
	d->names = calloc(d->K, sizeof(char *));
	for (k = 0; k < d->K; k++) {
		if (read_all(f, &len, 4))
			goto bad;
		d->names[k] = calloc(len + 1, 1);
		if (read_all(f, d->names[k], len))
			goto bad;
	}
	d->X = malloc((size_t)d->n * d->p * sizeof(float));
	d->y = malloc(d->n * sizeof(int));
	d->runs = malloc(d->n * sizeof(int));
	if (read_all(f, d->X, (size_t)d->n * d->p * sizeof(float)) ||
	    read_all(f, d->y, d->n * sizeof(int)) || read_all(f, d->runs, d->n * sizeof(int)))
		goto bad;
	fclose(f);
	return 0;
bad:
	fprintf(stderr, "%s: not a corebench data file (bench/dump_dataset.py)\n", path);
	fclose(f);
	return -1;
}

static void dump_outcome(const nidec_outcome *o, FILE *f)
{
	size_t k, i, j;

	for (k = 0; k < o->n_keys; k++)
		for (i = 0; i < o->n_folds; i++) {
			size_t kf = k * o->n_folds + i;
			fprintf(f, "score %s %zu %.17g C %.17g inner %.17g\n", o->keys[k], i, o->score[kf],
				o->chosen_C[kf], o->inner_score[kf]);
			for (j = 0; j < o->n_C; j++)
				fprintf(f, "grid %s %zu %g %.17g %.17g\n", o->keys[k], i, o->C[j],
					o->grid_score[kf * o->n_C + j], o->grid_inner[kf * o->n_C + j]);
		}
	for (k = 0; k < o->n_keys; k++) {
		fprintf(f, "intercept %s %.17g\n", o->keys[k], o->intercept[k]);
		for (j = 0; j < o->p; j++)
			fprintf(f, "w %s %zu %.17g\n", o->keys[k], j, o->coef_mean[k * o->p + j]);
	}
	for (i = 0; i < o->n_pred; i++)
		fprintf(f, "pred %zu %d %.17g\n", o->pred_sample[i], o->pred_label[i],
			o->pred_decision[i * o->n_problems]);
	for (k = 0; k < (size_t)o->n_perm * o->n_keys; k++)
		fprintf(f, "null %zu %.17g\n", k, o->null_scores[k]);
}

int main(int argc, char **argv)
{
	struct data d;
	nidec_cfg cfg;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_labels lab;
	nidec_plan *plan = NULL;
	const char *dump = NULL;
	long outer = -1, limit = -1, repeat = 1, rep;
	int per_task = 0, form = 0, warm = 1;
	double best_wall = INFINITY, best_cpu = INFINITY;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: corebench DATA.bin [--set sec.key=val]... [--outer F] [--limit N] [--dump FILE] [--repeat R]\n");
		return 2;
	}
	memset(&d, 0, sizeof(d));
	if (load(argv[1], &d) < 0)
		return 1;
	nidec_cfg_init(&cfg);
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--set") && i + 1 < argc) {
			if (nidec_cfg_set(&cfg, argv[++i], &err) < 0)
				goto fail;
		} else if (!strcmp(argv[i], "--outer") && i + 1 < argc) {
			outer = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--limit") && i + 1 < argc) {
			limit = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeat = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--dump") && i + 1 < argc) {
			dump = argv[++i];
		} else if (!strcmp(argv[i], "--form") && i + 1 < argc) {
			form = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--warm") && i + 1 < argc) {
			warm = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--per-task")) {
			per_task = 1;
		} else if (!strcmp(argv[i], "-v")) {
			nidec_log_set_level(NIDEC_LOG_VERBOSE);
		} else {
			fprintf(stderr, "corebench: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (nidec_cfg_finish(&cfg, &err) < 0)
		goto fail;
	memset(&lab, 0, sizeof(lab));
	lab.n = d.n;
	lab.p = d.p;
	lab.y = d.y;
	lab.runs = d.runs;
	lab.n_classes = d.K;
	lab.class_names = (const char *const *)d.names;
	lab.voxel_volume_mm3 = d.vox;
	if (nidec_plan_create(&cfg, &lab, &plan, &err) < 0)
		goto fail;
#ifndef COREBENCH_OLD
	nidec_plan_set_solver(plan, form, warm);
#else
	(void)form;
	(void)warm;
#endif
	if (nidec_plan_prepare(plan, d.X, &err) < 0)
		goto fail;
	for (rep = 0; rep < repeat; rep++) {
		size_t T = nidec_plan_n_tasks(plan), t, ran = 0;
		nidec_result **res = calloc(T, sizeof(*res));
		double w0 = wall_now(), c0 = cpu_now(), w1, c1, secs = 0;
		long iters = 0;
		int all = outer < 0 && limit < 0;

		for (t = 0; t < T; t++) {
			if (limit >= 0 && (long)t >= limit)
				break;
			if (outer >= 0) {
				nidec_task tk;
				nidec_plan_task(plan, t, &tk);
				if (tk.outer != outer)
					continue;
			}
			if (nidec_task_run(plan, t, &res[t], &err) < 0)
				goto fail;
			if (res[t]->status < 0) {
				fprintf(stderr, "task %zu: %s\n", t, res[t]->msg);
				return 1;
			}
			iters += res[t]->n_iter > 0 ? res[t]->n_iter : 0;
			if (per_task && rep == 0) {
				char desc[200];
				nidec_plan_task_desc(plan, t, desc, sizeof(desc));
				fprintf(stderr, "task %zu (%s): %d iterations, %.4f s\n", t, desc,
					res[t]->n_iter, res[t]->seconds);
			}
			secs += res[t]->seconds;
			ran++;
		}
		w1 = wall_now();
		c1 = cpu_now();
		if (all) {
			nidec_outcome *o = NULL;
			if (nidec_plan_reduce(plan, res, &o, &err) < 0)
				goto fail;
			if (rep == 0) {
				size_t k, f;
				for (k = 0; k < o->n_keys; k++) {
					double s = 0;
					for (f = 0; f < o->n_folds; f++)
						s += o->score[k * o->n_folds + f];
					printf("key %-14s mean score %.6f\n", o->keys[k], s / (double)o->n_folds);
				}
				if (dump) {
					FILE *f2 = fopen(dump, "w");
					if (!f2) {
						perror(dump);
						return 1;
					}
					dump_outcome(o, f2);
					fclose(f2);
				}
			}
			nidec_outcome_free(&o);
		}
		for (t = 0; t < T; t++)
			nidec_result_free(&res[t]);
		free(res);
		fprintf(stderr, "corebench: %zu tasks, %ld solver iterations, %.3f s wall, %.3f s cpu (tasks %.3f s)\n",
			ran, iters, w1 - w0, c1 - c0, secs);
		if (w1 - w0 < best_wall)
			best_wall = w1 - w0;
		if (c1 - c0 < best_cpu)
			best_cpu = c1 - c0;
	}
	printf("wall %.4f cpu %.4f\n", best_wall, best_cpu);
	nidec_plan_free(&plan);
	nidec_cfg_release(&cfg);
	return 0;
fail:
	fprintf(stderr, "corebench: %s\n", err.msg);
	return 1;
}
