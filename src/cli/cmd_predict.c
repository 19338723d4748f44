/*
 * cmd_predict.c - `nidec predict MODEL.h5 IMAGE... [options]`: apply the
 * fold-averaged model written by `nidec cv` / `nidec run` to new images
 * (nilearn's `decoder.predict`).
 *
 * Steps: read the model; extract the model's mask voxels from the images
 * (3D or 4D, concatenated in the order given; they must be on the model's
 * grid); with --labels keep only the volumes whose label is a class of the
 * model (as the tutorial masks out "rest"); standardize; decide; write a
 * TSV.  A regression's model predicts every image or sample table row
 * (e.g. new subjects' maps); the table's column named as its target, when
 * numeric, gives true values and an r2.
 *
 * Standardization (README "What is computed"):
 *  - compat = nilearn models: the kept volumes are z-scored on their own
 *    statistics, in float32 as nilearn's masker does (semantics doc
 *    section 3); a single volume is left as is (nilearn skips it too).
 *  - other models: the mean and scale of the training data stored in
 *    model.h5 (no leakage, and a single image is predicted the same way
 *    whatever else is given with it).
 * Decision: d_j = x . coef_j + intercept_j (double); two classes ->
 * classes[1] where d > 0, else classes[0]; more -> argmax, first wins.
 *
 * The work is small, so rank 0 does it and the other ranks wait for its
 * status (nidec_comm_agree).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nidec/events.h"
#include "nidec/file.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"
#include "nidec/nii.h"
#include "nidec/prep.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"
#include "nidec/svm.h"
#include "nidec/table.h"

static const char usage[] = "usage: nidec predict MODEL.h5 IMAGE... [options]\n";

static const char doc[] =
	"Predict the condition of each volume of IMAGE (3D or 4D NIfTI on the model's\n"
	"grid, concatenated in the order given) with a model written by 'nidec cv' or\n"
	"'nidec run' (model.h5: the model averaged over the cross-validation folds).\n";

static const char footer[] =
	"Standardization: models fitted with compat = nilearn z-score the predicted\n"
	"volumes on their own statistics (as nilearn does); other models use the\n"
	"training statistics stored in model.h5.\n"
	"Output columns: volume (0-based index in the concatenated images), true (with\n"
	"--labels), predicted, decision (two classes; > 0 means the second class in\n"
	"sorted order) or decision_<class> (one per class).  With --samples: sample\n"
	"(the table's row, 0-based), run, true, predicted, decision..., then the\n"
	"table's other columns.  A regression's model predicts values: volume (or with\n"
	"--samples: sample, run, and every row of the table is predicted), true,\n"
	"predicted and residual when the table has a numeric column named as the\n"
	"model's target (r2 printed), then the table's other columns.\n";

struct predict {
	const char *model_path;
	const char **images;
	size_t n_images;
	const char *out;
	const char *labels;
	const char *label_column;
	const char *run_column;
	const char *samples;     /* a sample table instead of IMAGE... */
};

static int find_class(const nidec_model *m, const char *label)
{
	size_t c;

	for (c = 0; c < m->n_classes; c++)
		if (!strcmp(m->classes[c], label))
			return (int)c;
	return -1;
}

/* The rows whose label the model knows (rows[], their class in truth[]);
 * the others are not predicted.  Returns their number. */
static size_t known_rows(const nidec_model *m, char *const *label, size_t n_vol, size_t *rows,
			 int *truth)
{
	size_t i, n = 0;

	for (i = 0; i < n_vol; i++) {
		int c = find_class(m, label[i]);
		if (c < 0)
			continue;
		rows[n] = i;
		truth[n++] = c;
	}
	return n;
}

/* A regression's true values: the sample table's column named as the
 * model's target, when it holds a number on every row (*y = a new array),
 * else *y = NULL (said when the column is there but not numeric: new
 * subjects' scores may be unknown). */
static int table_truth(const nidec_sample_table *tab, const char *target, double **y,
		       nidec_err *err)
{
	size_t a, i;

	*y = NULL;
	for (a = 0; a < tab->n_attrs && strcmp(tab->attr_names[a], target); a++)
		;
	if (a == tab->n_attrs)
		return 0;
	*y = nidec_malloc_e(tab->n ? tab->n : 1, sizeof(double), "the true values", err);
	if (!*y)
		return NIDEC_ENOMEM;
	for (i = 0; i < tab->n; i++) {
		const char *cell = tab->attr_values[i * tab->n_attrs + a];
		if (nidec_target_parse(cell, &(*y)[i]) < 0) {
			nidec_warn("--samples '%s' line %zu: column '%s' holds '%s', not a number: no true values, no r2",
				   tab->path, tab->line[i], target, cell);
			nidec_free(*y);
			*y = NULL;
			return 0;
		}
	}
	return 0;
}

/* A regression's table: the predicted value of each row (with --samples
 * the run, and true values and residuals when the table has the target's
 * column, then the table's other columns); *r2 = r2 over the rows, or NaN
 * without true values or with fewer than 2 rows. */
static int regression_table(const nidec_model *m, const nidec_sample_table *tab, const size_t *rows,
			    size_t n, const double *dec, nidec_sbuf *sb, double *r2, nidec_err *err)
{
	double *y = NULL, *yr = NULL;
	size_t i, j;
	int add = 0, rc = 0;

	*r2 = NAN;
	if (tab)
		NIDEC_TRY(table_truth(tab, m->classes[0], &y, err));
	add |= nidec_sbuf_adds(sb, tab ? "sample\trun" : "volume");
	add |= nidec_sbuf_adds(sb, y ? "\ttrue\tpredicted\tresidual" : "\tpredicted");
	for (j = 0; tab && j < tab->n_attrs; j++)
		add |= nidec_sbuf_addf(sb, "\t%s", tab->attr_names[j]);
	add |= nidec_sbuf_adds(sb, "\n");
	for (i = 0; i < n; i++) {
		add |= nidec_sbuf_addf(sb, "%zu", rows[i]);
		if (tab)
			add |= nidec_sbuf_addf(sb, "\t%s", tab->run_names[tab->run[rows[i]]]);
		if (y) {
			add |= nidec_sbuf_adds(sb, "\t");
			add |= nidec_sbuf_add_double(sb, y[rows[i]]);
		}
		add |= nidec_sbuf_adds(sb, "\t");
		add |= nidec_sbuf_add_double(sb, dec[i]);
		if (y) {
			add |= nidec_sbuf_adds(sb, "\t");
			add |= nidec_sbuf_add_double(sb, y[rows[i]] - dec[i]);
		}
		for (j = 0; tab && j < tab->n_attrs; j++)
			add |= nidec_sbuf_addf(sb, "\t%s", tab->attr_values[rows[i] * tab->n_attrs + j]);
		add |= nidec_sbuf_adds(sb, "\n");
	}
	if (add)
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory formatting the predictions");
	if (rc == 0 && y && n >= 2) {
		yr = nidec_malloc_e(n, sizeof(double), "the true values", err);
		if (!yr) {
			rc = NIDEC_ENOMEM;
		} else {
			for (i = 0; i < n; i++)
				yr[i] = y[rows[i]];
			rc = nidec_metric_r2(yr, dec, n, r2, err);
		}
	}
	nidec_free(y);
	nidec_free(yr);
	return rc;
}

/* dec[i * n_problems + j]: the decision of problem j on volume rows[i]
 * (svm.h), standardised by `use` (NULL: raw values). */
static int decisions(const nidec_model *m, const float *X, const size_t *rows, size_t n,
		     const nidec_scaler *use, double *dec, nidec_err *err)
{
	nidec_view view = { X, m->p, rows, n, NULL, m->p, use };
	double *d = nidec_malloc_e(n ? n : 1, sizeof(*d), "decision values", err);
	size_t i, j;

	if (!d)
		return NIDEC_ENOMEM;
	for (j = 0; j < m->n_problems; j++) {
		nidec_svm_model mj = NIDEC_SVM_MODEL_INIT;
		mj.n_feat = m->p;
		mj.w = m->coef + j * m->p;
		mj.b = m->intercept[j];
		nidec_svm_decision(&mj, &view, d);
		for (i = 0; i < n; i++)
			dec[i * m->n_problems + j] = d[i];
	}
	nidec_free(d);
	return 0;
}

static int predict(const struct predict *pr, nidec_err *err)
{
	nidec_model *m = NULL;
	nidec_vol_labels lab = NIDEC_VOL_LABELS_INIT;
	nidec_sample_table tab = NIDEC_SAMPLE_TABLE_INIT;
	nidec_scaler sc = NIDEC_SCALER_INIT;
	const nidec_scaler *use = NULL;
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	float *X = NULL;
	size_t n_vol = 0, n = 0, i, j, correct = 0, *rows = NULL, *count = NULL;
	int *truth = NULL, *pred = NULL, rc = 0, add = 0;
	double *dec = NULL, r2 = NAN;

	NIDEC_TRY_GOTO(rc, nidec_model_read(pr->model_path, &m, err), done);
	if (pr->samples) {
		NIDEC_TRY_GOTO(rc, nidec_sample_table_read(pr->samples, pr->label_column, pr->run_column, &tab,
							   err), done);
		NIDEC_TRY_GOTO(rc, nidec_sample_table_extract(&tab, m->dims, m->affine, m->ijk, m->p, &X, err),
			       done);
		n_vol = tab.n;
	} else {
		NIDEC_TRY_GOTO(rc, nidec_nii_extract(pr->images, pr->n_images, m->dims, m->affine, m->ijk,
						     m->p, &X, &n_vol, err), done);
	}
	rows = nidec_malloc_e(n_vol ? n_vol : 1, sizeof(*rows), "the volume list", err);
	truth = nidec_malloc_e(n_vol ? n_vol : 1, sizeof(*truth), "the labels", err);
	if (!rows || !truth) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	if (m->regression && pr->labels) {
		rc = nidec_fail(err, NIDEC_EUSAGE,
				"model '%s' is a regression (target '%s'): it predicts values; --labels selects classes, so give the images alone (or a sample table with --samples)",
				pr->model_path, m->classes[0]);
		goto done;
	}
	if (pr->labels) {
		NIDEC_TRY_GOTO(rc, nidec_labels_read_table(pr->labels, pr->label_column, pr->run_column,
							   &lab, err), done);
		if (lab.n != n_vol) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"--labels '%s' has %zu rows but the images have %zu volumes; give one row per volume",
					pr->labels, lab.n, n_vol);
			goto done;
		}
		n = known_rows(m, lab.label, n_vol, rows, truth);
		if (n == 0) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"--labels '%s': no volume has a label the model knows (%s, ...)",
					pr->labels, m->classes[0]);
			goto done;
		}
	} else if (pr->samples && !m->regression) {
		/* the table's labels: samples of other conditions are not predicted */
		n = known_rows(m, tab.label, n_vol, rows, truth);
		if (n == 0) {
			rc = nidec_fail(err, NIDEC_EINPUT,
					"--samples '%s': no sample has a label the model knows (%s, ...); check --label-column",
					pr->samples, m->classes[0]);
			goto done;
		}
	} else {
		for (i = 0; i < n_vol; i++) {
			rows[n] = i;
			truth[n++] = -1;
		}
	}

	if (m->compat == NIDEC_COMPAT_NILEARN && m->standardize != NIDEC_STD_NONE) {
		if (n < 2) {
			nidec_warn("standardization of a single volume would give zeros; skipping it (as nilearn)");
		} else {
			NIDEC_TRY_GOTO(rc, nidec_scaler_fit(&sc, X, m->p, rows, n, m->standardize, 1, err), done);
			use = &sc;
		}
	} else if (m->standardize != NIDEC_STD_NONE) {
		if (!m->has_stats) {
			rc = nidec_fail(err, NIDEC_EFORMAT,
					"model '%s' has no training statistics (/preprocess/mean); re-run nidec cv",
					pr->model_path);
			goto done;
		}
		sc.p = m->p;
		sc.shift = m->mean;
		sc.scale = m->scale;
		use = &sc;
	}

	dec = nidec_malloc_e(n * m->n_problems, sizeof(*dec), "decision values", err);
	pred = nidec_malloc_e(n, sizeof(*pred), "predictions", err);
	count = nidec_calloc_e(m->n_classes, sizeof(*count), "counts", err);
	if (!dec || !pred || !count) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	NIDEC_TRY_GOTO(rc, decisions(m, X, rows, n, use, dec, err), done);
	if (m->regression) {
		NIDEC_TRY_GOTO(rc, regression_table(m, pr->samples ? &tab : NULL, rows, n, dec, &sb, &r2, err),
			       done);
		goto write;
	}
	for (i = 0; i < n; i++) {
		pred[i] = nidec_svm_predict_class(dec + i * m->n_problems, m->n_problems);
		count[pred[i]]++;
		correct += truth[i] == pred[i];
	}

	add |= nidec_sbuf_adds(&sb, pr->samples ? "sample\trun\ttrue\tpredicted" :
				    pr->labels ? "volume\ttrue\tpredicted" : "volume\tpredicted");
	if (m->n_problems == 1)
		add |= nidec_sbuf_adds(&sb, "\tdecision");
	else
		for (j = 0; j < m->n_problems; j++)
			add |= nidec_sbuf_addf(&sb, "\tdecision_%s", m->classes[j]);
	for (j = 0; pr->samples && j < tab.n_attrs; j++)
		add |= nidec_sbuf_addf(&sb, "\t%s", tab.attr_names[j]);
	add |= nidec_sbuf_adds(&sb, "\n");
	for (i = 0; i < n; i++) {
		add |= nidec_sbuf_addf(&sb, "%zu\t", rows[i]);
		if (pr->samples)
			add |= nidec_sbuf_addf(&sb, "%s\t", tab.run_names[tab.run[rows[i]]]);
		if (pr->labels || pr->samples)
			add |= nidec_sbuf_addf(&sb, "%s\t", m->classes[truth[i]]);
		add |= nidec_sbuf_adds(&sb, m->classes[pred[i]]);
		for (j = 0; j < m->n_problems; j++) {
			add |= nidec_sbuf_adds(&sb, "\t");
			add |= nidec_sbuf_add_double(&sb, dec[i * m->n_problems + j]);
		}
		for (j = 0; pr->samples && j < tab.n_attrs; j++)
			add |= nidec_sbuf_addf(&sb, "\t%s", tab.attr_values[rows[i] * tab.n_attrs + j]);
		add |= nidec_sbuf_adds(&sb, "\n");
	}
write:
	if (add) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "out of memory formatting the predictions");
		goto done;
	}
	if (!strcmp(pr->out, "-")) {
		if (fwrite(sb.buf, 1, sb.len, stdout) != sb.len || fflush(stdout) != 0) {
			rc = nidec_fail(err, NIDEC_EIO, "cannot write the predictions to stdout");
			goto done;
		}
	} else {
		NIDEC_TRY_GOTO(rc, nidec_file_write(pr->out, sb.buf, sb.len, err), done);
	}

	/* primary output: what was predicted (stderr when the table is on stdout) */
	{
		FILE *o = strcmp(pr->out, "-") ? stdout : stderr;
		if (nidec_log_enabled(NIDEC_LOG_INFO) && m->regression) {
			fprintf(o, "predicted %zu %s%s: %s (regression)\n", n, pr->samples ? "sample" : "volume",
				n == 1 ? "" : "s", m->classes[0]);
			if (!isnan(r2))
				fprintf(o, "r2 %.4f (true values: the table's column '%s')\n", r2, m->classes[0]);
			if (strcmp(pr->out, "-"))
				fprintf(o, "wrote %s\n", pr->out);
		} else if (nidec_log_enabled(NIDEC_LOG_INFO)) {
			fprintf(o, "predicted %zu volume%s:", n, n == 1 ? "" : "s");
			for (j = 0; j < m->n_classes; j++)
				fprintf(o, " %s %zu%s", m->classes[j], count[j],
					j + 1 < m->n_classes ? "," : "\n");
			if (pr->labels || pr->samples)
				fprintf(o, "accuracy %.4f (%zu/%zu)\n", (double)correct / (double)n,
					correct, n);
			if (strcmp(pr->out, "-"))
				fprintf(o, "wrote %s\n", pr->out);
		}
	}
done:
	if (use == &sc && sc.shift == (m ? m->mean : NULL)) {
		/* borrowed from the model: do not free twice */
		sc.shift = NULL;
		sc.scale = NULL;
	}
	nidec_scaler_release(&sc);
	nidec_sbuf_release(&sb);
	nidec_vol_labels_release(&lab);
	nidec_sample_table_release(&tab);
	nidec_model_free(&m);
	nidec_free(X);
	nidec_free(rows);
	nidec_free(truth);
	nidec_free(pred);
	nidec_free(dec);
	nidec_free(count);
	return rc;
}

/* Inputs are read-only (docs/ERRORS.md): -o is none of the model, the
 * images and the labels, by device and inode. */
static int check_output(const struct predict *pr, nidec_err *err)
{
	nidec_file_inputs in = NIDEC_FILE_INPUTS_INIT;
	size_t i;
	int rc;

	rc = nidec_file_inputs_add(&in, pr->model_path, "the model", err);
	for (i = 0; rc == 0 && i < pr->n_images; i++)
		rc = nidec_file_inputs_add(&in, pr->images[i], "an image", err);
	if (rc == 0)
		rc = nidec_file_inputs_add(&in, pr->labels, "--labels", err);
	if (rc == 0 && strcmp(pr->out, "-"))
		rc = nidec_file_inputs_check(&in, pr->out, "choose another output (-o)", err);
	nidec_file_inputs_release(&in);
	return rc;
}

int cmd_predict(int argc, char **argv, nidec_comm *comm)
{
	struct predict pr;
	nidec_err err = NIDEC_ERR_INIT;
	nidec_cli_common c = NIDEC_CLI_COMMON_INIT;
	nidec_opt_rest images = { NULL, 0 };
	int rc = 0, ret;
	nidec_opt opts[] = {
		NIDEC_OPT_ARG("MODEL.h5", &pr.model_path, NIDEC_OPT_OPTIONAL,
			      "the model written by 'nidec cv' or 'nidec run'"),
		NIDEC_OPT_ARG("IMAGE", &images, NIDEC_OPT_MANY | NIDEC_OPT_OPTIONAL,
			      "3D or 4D NIfTI images on the model's grid"),
		NIDEC_OPT_STRING('o', "output", &pr.out, "FILE", "predictions.tsv",
				 "predictions table; '-' = stdout"),
		NIDEC_OPT_STRING(0, "labels", &pr.labels, "FILE", NULL,
				 "labels table with one row per volume of the images (as [data] "
				 "labels, e.g. labels.txt): only volumes whose label is a class of the "
				 "model are predicted, the table gets a 'true' column and the accuracy "
				 "is printed (default: none, every volume is predicted)"),
		NIDEC_OPT_STRING(0, "samples", &pr.samples, "FILE", NULL,
				 "a sample table instead of IMAGE... (as [data] samples: path, "
				 "volume, label and run columns; its other columns are copied to "
				 "the output): samples of the model's classes are predicted, with "
				 "'true' and the accuracy"),
		NIDEC_OPT_STRING(0, "label-column", &pr.label_column, "NAME", "labels",
				 "column of --labels or --samples holding the condition (a sample table of a regression: any column, e.g. contrast)"),
		NIDEC_OPT_STRING(0, "run-column", &pr.run_column, "NAME", "chunks",
				 "column of --labels or --samples holding the run (e.g. subject)"),
		NIDEC_CLI_OPTS_COMMON(&c),
		NIDEC_OPT_END()
	};
	nidec_opt_cmd cmd = { "nidec predict", usage, doc, footer, opts, NULL, 0 };

	memset(&pr, 0, sizeof(pr));
	pr.out = "predictions.tsv";
	pr.label_column = "labels";
	pr.run_column = "chunks";
	if ((ret = nidec_cli_parse(comm, &cmd, argc, argv, &c)) >= 0)
		return ret;
	if (pr.samples && (images.argc || pr.labels))
		return nidec_cli_usage_error(comm, &cmd,
					     "--samples gives the images and their labels: give no IMAGE and no --labels with it");
	if (!pr.model_path || (images.argc == 0 && !pr.samples))
		return nidec_cli_usage_error(comm, &cmd,
					     "give MODEL.h5 and at least one IMAGE (or --samples TABLE); usage: nidec predict MODEL.h5 IMAGE... [options]");
	pr.images = (const char **)images.argv;
	pr.n_images = (size_t)images.argc;
	if (nidec_comm_rank(comm) == 0)
		rc = check_output(&pr, &err);
	if (nidec_comm_rank(comm) == 0 && rc == 0)
		rc = predict(&pr, &err);
	rc = nidec_comm_agree(comm, rc, &err);
	return rc < 0 ? nidec_cli_fail(&err, comm) : NIDEC_EXIT_OK;
}
