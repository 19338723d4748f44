/*
 * svr.c - scikit-learn's SVR(kernel='linear') through Debian's libsvm
 * (include/nidec/regress.h); the only includer of libsvm's header.
 *
 * Why libsvm and a precomputed kernel: nilearn's svr is scikit-learn's SVR,
 * which is libsvm's epsilon-SVR (an unregularised intercept, the SMO solver
 * with its shrinking and stopping rule), not liblinear's L2-loss SVR (whose
 * intercept is penalised).  libsvm's linear kernel would compute each
 * x_i . x_j again whenever its cache misses; the training part's Gram
 * matrix, computed once, is what it would compute (the same sequential
 * sums), so libsvm gets it as a precomputed kernel: row i is {0: i + 1},
 * then {j + 1: K_ij} for every j, then the terminator.  The weights of the
 * linear model are then sum_k dual_k x_k over the support vectors, the
 * intercept -rho, as scikit-learn's coef_ and intercept_.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libsvm/svm.h>

#include "nidec/mem.h"
#include "nidec/regress.h"

static void quiet(const char *s)
{
	(void)s;
}

int nidec_svr_fit(const double *X, size_t n, size_t p, const double *y, double C, double epsilon,
		  double tol, double *coef, double *intercept, nidec_err *err)
{
	struct svm_problem prob;
	struct svm_parameter par;
	struct svm_model *model = NULL;
	struct svm_node *nodes = NULL, **rows = NULL;
	const char *why;
	size_t i, j, k, row = n + 2;
	int rc = 0, nsv;

	if (n < 2)
		return nidec_fail(err, NIDEC_EINPUT, "svr: the training part needs at least 2 samples (has %zu)", n);
	if (n + 2 > (size_t)INT32_MAX / (n + 2))
		return nidec_fail(err, NIDEC_EINPUT, "svr: %zu training samples is more than libsvm's int allows", n);
	nodes = nidec_malloc_e(n * row, sizeof(*nodes), "svr's kernel matrix", err);
	rows = nidec_malloc_e(n, sizeof(*rows), "svr's kernel rows", err);
	if (!nodes || !rows) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	for (i = 0; i < n; i++) {
		struct svm_node *r = nodes + i * row;
		rows[i] = r;
		r[0].index = 0;
		r[0].value = (double)(i + 1);
		r[n + 1].index = -1;
		r[n + 1].value = 0;
	}
	for (i = 0; i < n; i++)
		for (j = i; j < n; j++) {
			const double *u = X + i * p, *v = X + j * p;
			double dot = 0;
			for (k = 0; k < p; k++)
				dot += u[k] * v[k];
			rows[i][j + 1].index = (int)(j + 1);
			rows[i][j + 1].value = dot;
			rows[j][i + 1].index = (int)(i + 1);
			rows[j][i + 1].value = dot;
		}
	prob.l = (int)n;
	prob.y = (double *)y; /* libsvm does not write it */
	prob.x = rows;
	memset(&par, 0, sizeof(par));
	par.svm_type = EPSILON_SVR;
	par.kernel_type = PRECOMPUTED;
	par.cache_size = 200;
	par.eps = tol;
	par.C = C;
	par.p = epsilon;
	par.shrinking = 1;
	par.probability = 0;
	why = svm_check_parameter(&prob, &par);
	if (why) {
		rc = nidec_fail(err, NIDEC_EINPUT, "svr: libsvm refuses C = %g, epsilon = %g, tol = %g: %s", C,
				epsilon, tol, why);
		goto done;
	}
	svm_set_print_string_function(quiet);
	model = svm_train(&prob, &par);
	if (!model) {
		rc = nidec_fail(err, NIDEC_ENOMEM, "svr: libsvm could not train (out of memory)");
		goto done;
	}
	nsv = svm_get_nr_sv(model);
	memset(coef, 0, p * sizeof(double));
	for (k = 0; k < (size_t)nsv; k++) {
		/* sv_indices are 1-based rows of the training part */
		const double *x = X + (size_t)(model->sv_indices[k] - 1) * p;
		double d = model->sv_coef[0][k];
		for (j = 0; j < p; j++)
			coef[j] += d * x[j];
	}
	*intercept = -model->rho[0];
done:
	svm_free_and_destroy_model(&model);
	nidec_free(nodes);
	nidec_free(rows);
	return rc;
}
