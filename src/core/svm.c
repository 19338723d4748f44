/*
 * svm.c - one binary linear model per call, on liblinear or our DCD (see
 * include/nidec/svm.h).  The only file of nidec that includes <linear.h>.
 *
 * Decisions and reasons:
 *  - nilearn's 'svc' is LinearSVC(penalty='l2', loss='squared_hinge',
 *    dual=True, tol=1e-4, C, fit_intercept=True, intercept_scaling=1):
 *    liblinear solver L2R_L2LOSS_SVC_DUAL with eps = tol and a constant
 *    feature 1 whose weight is the intercept (regularised like any other
 *    weight).  We append that feature ourselves (index n_feat + 1, value 1)
 *    and set prob.bias = 1 so liblinear reports it as the model's bias.
 *  - liblinear shuffles with rand(): srand(seed) right before train(), the
 *    seed derived from the task (never the rank), so every schedule gives
 *    the same weights (README "Determinism").
 *  - Orientation: liblinear's w points to model->label[0]; we flip it when
 *    that label is -1, so a positive decision always means +1.
 *  - liblinear prints through one global hook; we route it to the debug log
 *    and read the iteration count and the max-iteration warning from it.
 *    That capture is the one piece of mutable file-level state in the core;
 *    it is only touched inside train(), which never runs concurrently.
 *  - 'dummy' (chance baseline): the decision of each test sample is +1 with
 *    probability = the fraction of +1 in the training labels, else -1, drawn
 *    from a xoshiro256** stream seeded by the task.  It is scikit-learn's
 *    DummyClassifier(strategy='stratified') in distribution, but cannot
 *    repeat numpy's draws (its scores differ from nilearn's dummy run).
 *
 * Memory: one task's problem in double (16 bytes per non-zero value for
 * liblinear, 8 per value for DCD), freed before returning.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linear.h>

#include "nidec/cfg.h"
#include "nidec/log.h"
#include "nidec/mem.h"
#include "nidec/rng.h"
#include "nidec/svm.h"

static struct {
	int n_iter;
	int maxed;
} capture;

static void liblinear_print(const char *s)
{
	const char *it = strstr(s, "#iter = ");

	if (it)
		capture.n_iter = atoi(it + 8);
	if (strstr(s, "reaching max number of iterations"))
		capture.maxed = 1;
	if (nidec_log_enabled(NIDEC_LOG_DEBUG)) {
		char line[256];
		size_t n = strlen(s), a = 0;
		while (a < n && (s[a] == '\n' || s[a] == '.' || s[a] == '*'))
			a++;
		while (n > a && s[n - 1] == '\n')
			n--;
		if (n > a) {
			snprintf(line, sizeof(line), "%.*s", (int)(n - a), s + a);
			nidec_debug("liblinear: %s", line);
		}
	}
}

static double view_value(const nidec_view *v, size_t r, size_t k)
{
	size_t j = v->feat ? v->feat[k] : k;

	return nidec_prep_value(v->scaler, v->X[v->rows[r] * v->p + j], j);
}

void nidec_svm_model_release(nidec_svm_model *m)
{
	if (!m)
		return;
	nidec_free(m->w);
	m->w = NULL;
	m->n_feat = 0;
}

static int solver_type(int estimator)
{
	switch (estimator) {
	case NIDEC_EST_SVC: return L2R_L2LOSS_SVC_DUAL;
	case NIDEC_EST_SVC_L1: return L1R_L2LOSS_SVC;
	case NIDEC_EST_LOGISTIC: return L2R_LR;
	case NIDEC_EST_LOGISTIC_L1: return L1R_LR;
	}
	return -1;
}

static int train_liblinear(const nidec_view *v, const signed char *ypm,
			   const nidec_svm_param *par, nidec_svm_model *out, nidec_err *err)
{
	struct feature_node *pool = NULL, **xp = NULL;
	double *y = NULL, *w = NULL;
	struct problem prob;
	struct parameter param;
	struct model *model = NULL;
	size_t nf = v->n_feat, r, k, per_row, used = 0, total;
	const char *msg;
	int rc = 0, sign;

	if (v->n_rows > INT_MAX || nf + 1 > (size_t)INT_MAX)
		return nidec_fail(err, NIDEC_EINPUT,
				  "a training part of %zu samples x %zu voxels exceeds liblinear's int limits",
				  v->n_rows, nf);
	per_row = nf + 2;
	if (nidec_mul_size(per_row, v->n_rows, &total) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "liblinear problem size overflows");
	pool = nidec_malloc_e(total, sizeof(*pool), "liblinear problem", err);
	xp = nidec_malloc_e(v->n_rows ? v->n_rows : 1, sizeof(*xp), "liblinear rows", err);
	y = nidec_malloc_e(v->n_rows ? v->n_rows : 1, sizeof(*y), "liblinear labels", err);
	w = nidec_malloc_e(nf ? nf : 1, sizeof(*w), "model weights", err);
	if (!pool || !xp || !y || !w) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (r = 0; r < v->n_rows; r++) {
		xp[r] = pool + used;
		for (k = 0; k < nf; k++) {
			double val = view_value(v, r, k);
			if (val != 0) {
				pool[used].index = (int)k + 1;
				pool[used].value = val;
				used++;
			}
		}
		pool[used].index = (int)nf + 1; /* the intercept's constant feature */
		pool[used].value = 1.0;
		used++;
		pool[used].index = -1;
		pool[used].value = 0;
		used++;
		y[r] = ypm[r] > 0 ? 1.0 : -1.0;
	}
	prob.l = (int)v->n_rows;
	prob.n = (int)nf + 1;
	prob.y = y;
	prob.x = xp;
	prob.bias = 1.0;
	memset(&param, 0, sizeof(param));
	param.solver_type = solver_type(par->estimator);
	param.eps = par->tol;
	param.C = par->C;
	param.nr_weight = 0;
	param.weight_label = NULL;
	param.weight = NULL;
	param.p = 0.1;
	param.init_sol = NULL;
	msg = check_parameter(&prob, &param);
	if (msg) {
		rc = nidec_fail(err, NIDEC_ESOLVER, "liblinear refused the problem: %s", msg);
		goto done;
	}
	capture.n_iter = -1;
	capture.maxed = 0;
	set_print_string_function(liblinear_print);
	srand((unsigned)(par->seed ^ (par->seed >> 32)));
	model = train(&prob, &param);
	if (!model || model->nr_class != 2 || !model->w) {
		rc = nidec_fail(err, NIDEC_ESOLVER, "liblinear returned no binary model");
		goto done;
	}
	sign = model->label[0] == 1 ? 1 : -1;
	for (k = 0; k < nf; k++)
		w[k] = sign * model->w[k];
	nidec_svm_model_release(out);
	out->n_feat = nf;
	out->w = w;
	w = NULL;
	out->b = sign * model->w[nf] * model->bias;
	out->n_iter = capture.n_iter;
	out->converged = !capture.maxed;
	out->dummy = 0;
	if (capture.maxed)
		nidec_verbose("liblinear stopped at its iteration limit (C = %g, %zu samples); the weights are not converged to tol %g",
			      par->C, v->n_rows, par->tol);
done:
	if (model)
		free_and_destroy_model(&model);
	nidec_free(pool);
	nidec_free(xp);
	nidec_free(y);
	nidec_free(w);
	return rc;
}

/* DCD on the rows grouped as liblinear groups them: +1 first, then -1,
 * each in view order (liblinear's group_classes with its -1/+1 swap). */
static int train_dcd(const nidec_view *v, const signed char *ypm, const nidec_svm_param *par,
		     nidec_svm_model *out, nidec_err *err)
{
	size_t nf = v->n_feat, d = nf + 1, r, k, pos = 0, total;
	double *x = NULL, *w = NULL;
	signed char *y = NULL;
	int rc = 0, n_iter = 0, g;

	if (nidec_mul_size(d, v->n_rows, &total) < 0)
		return nidec_fail(err, NIDEC_ENOMEM, "solver problem size overflows");
	x = nidec_malloc_e(total, sizeof(*x), "solver problem", err);
	y = nidec_malloc_e(v->n_rows ? v->n_rows : 1, sizeof(*y), "solver labels", err);
	w = nidec_malloc_e(d, sizeof(*w), "model weights", err);
	if (!x || !y || !w) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (g = 1; g >= -1; g -= 2)
		for (r = 0; r < v->n_rows; r++) {
			if ((ypm[r] > 0 ? 1 : -1) != g)
				continue;
			for (k = 0; k < nf; k++)
				x[pos * d + k] = view_value(v, r, k);
			x[pos * d + nf] = 1.0;
			y[pos] = (signed char)g;
			pos++;
		}
	NIDEC_TRY_GOTO(rc, nidec_dcd_l2svc(x, y, v->n_rows, d, par->C, par->tol,
					   par->max_iter > 0 ? par->max_iter : NIDEC_DCD_MAX_ITER,
					   par->liblinear_order, (unsigned)(par->seed ^ (par->seed >> 32)),
					   w, &n_iter, err), done);
	nidec_svm_model_release(out);
	out->n_feat = nf;
	out->b = w[nf];
	out->w = w; /* d entries; the last (intercept) is ignored */
	w = NULL;
	out->n_iter = n_iter;
	out->converged = n_iter < (par->max_iter > 0 ? par->max_iter : NIDEC_DCD_MAX_ITER);
	out->dummy = 0;
	if (!out->converged)
		nidec_verbose("dcd stopped at its iteration limit (C = %g, %zu samples); the weights are not converged to tol %g",
			      par->C, v->n_rows, par->tol);
done:
	nidec_free(x);
	nidec_free(y);
	nidec_free(w);
	return rc;
}

int nidec_svm_train(const nidec_view *v, const signed char *ypm, const nidec_svm_param *par,
		    nidec_svm_model *m, nidec_err *err)
{
	size_t r, npos = 0;

	for (r = 0; r < v->n_rows; r++)
		npos += ypm[r] > 0;
	if (npos == 0 || npos == v->n_rows)
		return nidec_fail(err, NIDEC_EINPUT,
				  "the training part has only one class (%zu samples); a classifier needs both",
				  v->n_rows);
	if (par->estimator == NIDEC_EST_DUMMY) {
		double *w = nidec_calloc_e(v->n_feat ? v->n_feat : 1, sizeof(double), "model weights", err);
		if (!w)
			return NIDEC_ENOMEM;
		nidec_svm_model_release(m);
		m->n_feat = v->n_feat;
		m->w = w;
		m->b = 0;
		m->n_iter = 0;
		m->converged = 1;
		m->dummy = 1;
		m->prior = (double)npos / (double)v->n_rows;
		m->seed = par->seed;
		return 0;
	}
	if (solver_type(par->estimator) < 0)
		return nidec_fail(err, NIDEC_EINTERNAL, "unknown estimator %d", par->estimator);
	if (par->estimator == NIDEC_EST_SVC && par->solver == NIDEC_SVM_DCD)
		return train_dcd(v, ypm, par, m, err);
	return train_liblinear(v, ypm, par, m, err);
}

void nidec_svm_decision(const nidec_svm_model *m, const nidec_view *v, double *dec)
{
	size_t r, k;

	if (m->dummy) {
		nidec_rng rng;
		nidec_rng_seed(&rng, m->seed);
		for (r = 0; r < v->n_rows; r++)
			dec[r] = nidec_rng_uniform(&rng) < m->prior ? 1.0 : -1.0;
		return;
	}
	for (r = 0; r < v->n_rows; r++) {
		double s = 0;
		for (k = 0; k < v->n_feat; k++)
			s += m->w[k] * view_value(v, r, k);
		dec[r] = s + m->b;
	}
}

const char *nidec_svm_liblinear_version(void)
{
	static char v[16];

	if (!v[0])
		snprintf(v, sizeof(v), "%d.%02d", liblinear_version / 100, liblinear_version % 100);
	return v;
}

int nidec_svm_predict_class(const double *dec, size_t n_problems)
{
	size_t q;
	int lab = 0;

	if (n_problems == 1)
		return dec[0] > 0 ? 1 : 0;
	for (q = 1; q < n_problems; q++)
		if (dec[q] > dec[lab])
			lab = (int)q;
	return lab;
}

int nidec_svm_l1_min_c(const nidec_view *v, const signed char *ypm, double *min_c,
		       nidec_err *err)
{
	double den = 0, ysum = 0, *acc;
	size_t r, k;

	acc = nidec_calloc_e(v->n_feat ? v->n_feat : 1, sizeof(double), "l1_min_c sums", err);
	if (!acc)
		return NIDEC_ENOMEM;
	for (r = 0; r < v->n_rows; r++) {
		double yr = ypm[r] > 0 ? 1.0 : -1.0;
		ysum += yr;
		for (k = 0; k < v->n_feat; k++)
			acc[k] += yr * view_value(v, r, k);
	}
	for (k = 0; k < v->n_feat; k++)
		if (fabs(acc[k]) > den)
			den = fabs(acc[k]);
	if (fabs(ysum) > den)
		den = fabs(ysum);
	nidec_free(acc);
	*min_c = den == 0 ? INFINITY : 0.5 / den;
	return 0;
}
