/*
 * metrics.c - binary scores, confusion matrix, numpy-ordered sums (see
 * include/nidec/metrics.h).
 *
 * Why reproduce scikit-learn's floating-point path and not just the
 * formula: nilearn keeps the C whose test score is >= the best so far, and
 * GridSearchCV ranks C by mean inner score with exact comparisons.  Two
 * computations of the same AUC that differ in the last bit (a ratio 70/81
 * against a trapezoid sum) would break ties differently and choose another
 * C (semantics doc section 14).  So roc_auc follows roc_curve
 * (drop_intermediate) + numpy.trapz, and means use numpy's pairwise sum.
 *
 * Depends on base only: no MPI, no HDF5, no NIfTI.
 */
#include <math.h>
#include <stdlib.h>

#include "nidec/cfg.h"
#include "nidec/mem.h"
#include "nidec/metrics.h"

/* numpy/core/src/umath/loops_utils.h.src, DOUBLE_pairwise_sum */
static double pairwise(const double *a, size_t n)
{
	if (n < 8) {
		double res = 0.;
		size_t i;
		for (i = 0; i < n; i++)
			res += a[i];
		return res;
	} else if (n <= 128) {
		double r[8], res;
		size_t i, j;
		for (j = 0; j < 8; j++)
			r[j] = a[j];
		for (i = 8; i < n - (n % 8); i += 8)
			for (j = 0; j < 8; j++)
				r[j] += a[i + j];
		res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	} else {
		size_t n2 = n / 2;
		n2 -= n2 % 8;
		return pairwise(a, n2) + pairwise(a + n2, n - n2);
	}
}

double nidec_sum_pairwise(const double *a, size_t n)
{
	/* the reduction starts from the identity 0 */
	return 0.0 + pairwise(a, n);
}

double nidec_mean_numpy(const double *a, size_t n)
{
	if (n == 0)
		return NAN;
	return nidec_sum_pairwise(a, n) / (double)n;
}

struct dec_idx {
	double d;
	size_t i;
};

/* descending decision; order inside ties does not change the curve */
static int cmp_desc(const void *a, const void *b)
{
	const struct dec_idx *x = a, *y = b;

	if (x->d != y->d)
		return x->d < y->d ? 1 : -1;
	return (x->i > y->i) - (x->i < y->i);
}

int nidec_metric_roc_auc(const signed char *ypm, const double *dec, size_t n, double *auc,
			 nidec_err *err)
{
	struct dec_idx *s = NULL;
	double *buf = NULL, *F, *P, *KF, *KP, *term;
	size_t i, j, T = 0, L = 0, npos = 0;
	int rc = 0;

	for (i = 0; i < n; i++)
		npos += ypm[i] > 0;
	if (npos == 0 || npos == n)
		return nidec_fail(err, NIDEC_EINPUT,
				  "roc_auc is undefined: the %zu test samples are all of one class",
				  n);
	/* A NaN decision has no rank: the AUC is NaN (never a number from a
	 * sort whose comparator is not a total order, which is undefined
	 * behaviour in qsort).  Inputs are finite (convert and the dataset
	 * reader see to it, tests/bad/README.md B3); this keeps the metric
	 * defined on its own. */
	for (i = 0; i < n; i++)
		if (isnan(dec[i])) {
			*auc = NAN;
			return 0;
		}
	s = nidec_malloc_e(n, sizeof(*s), "ROC sort", err);
	buf = nidec_malloc_e(5 * (n + 1), sizeof(double), "ROC curve", err);
	if (!s || !buf) {
		rc = NIDEC_ENOMEM;
		goto done;
	}
	F = buf;
	P = F + (n + 1);
	KF = P + (n + 1);
	KP = KF + (n + 1);
	term = KP + (n + 1);
	for (i = 0; i < n; i++) {
		s[i].d = dec[i];
		s[i].i = i;
	}
	qsort(s, n, sizeof(*s), cmp_desc);
	/* _binary_clf_curve: cumulative counts at the last index of each run
	 * of equal decision values (thresholds in decreasing order) */
	{
		double tp = 0;
		for (i = 0; i < n; i++) {
			tp += ypm[s[i].i] > 0 ? 1.0 : 0.0;
			if (i == n - 1 || s[i + 1].d != s[i].d) {
				P[T] = tp;
				F[T] = 1.0 + (double)i - tp;
				T++;
			}
		}
	}
	/* roc_curve(drop_intermediate=True): keep the first and last points
	 * and every point where the second difference of fps or tps is not 0;
	 * then prepend (0, 0) */
	KF[0] = KP[0] = 0;
	L = 1;
	for (j = 0; j < T; j++) {
		int keep = 1;
		if (T > 2 && j > 0 && j < T - 1) {
			double d2f = (F[j + 1] - F[j]) - (F[j] - F[j - 1]);
			double d2p = (P[j + 1] - P[j]) - (P[j] - P[j - 1]);
			keep = d2f != 0 || d2p != 0;
		}
		if (keep) {
			KF[L] = F[j];
			KP[L] = P[j];
			L++;
		}
	}
	/* fpr = fps / fps[-1], tpr = tps / tps[-1]; auc = numpy.trapz(tpr, fpr):
	 * sum of diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0, pairwise */
	{
		double fl = KF[L - 1], tl = KP[L - 1];
		for (j = 0; j < L; j++) {
			KF[j] = KF[j] / fl;
			KP[j] = KP[j] / tl;
		}
		for (j = 0; j + 1 < L; j++)
			term[j] = (KF[j + 1] - KF[j]) * (KP[j + 1] + KP[j]) / 2.0;
		*auc = nidec_sum_pairwise(term, L - 1);
	}
done:
	nidec_free(s);
	nidec_free(buf);
	return rc;
}

static void counts(const signed char *ypm, const double *dec, size_t n, size_t *tp,
		   size_t *fp, size_t *tn, size_t *fn)
{
	size_t i;

	*tp = *fp = *tn = *fn = 0;
	for (i = 0; i < n; i++) {
		int pred = dec[i] > 0;
		if (ypm[i] > 0) {
			if (pred)
				(*tp)++;
			else
				(*fn)++;
		} else {
			if (pred)
				(*fp)++;
			else
				(*tn)++;
		}
	}
}

double nidec_metric_accuracy(const signed char *ypm, const double *dec, size_t n)
{
	size_t tp, fp, tn, fn;

	if (n == 0)
		return NAN;
	counts(ypm, dec, n, &tp, &fp, &tn, &fn);
	return (double)(tp + tn) / (double)n;
}

double nidec_metric_balanced_accuracy(const signed char *ypm, const double *dec, size_t n)
{
	size_t tp, fp, tn, fn;
	double r[2];
	size_t k = 0;

	counts(ypm, dec, n, &tp, &fp, &tn, &fn);
	/* per-class recall in label order (-1, +1); absent classes dropped */
	if (tn + fp > 0)
		r[k++] = (double)tn / (double)(tn + fp);
	if (tp + fn > 0)
		r[k++] = (double)tp / (double)(tp + fn);
	return nidec_mean_numpy(r, k);
}

double nidec_metric_precision(const signed char *ypm, const double *dec, size_t n)
{
	size_t tp, fp, tn, fn;

	counts(ypm, dec, n, &tp, &fp, &tn, &fn);
	return tp + fp ? (double)tp / (double)(tp + fp) : 0.0;
}

double nidec_metric_recall(const signed char *ypm, const double *dec, size_t n)
{
	size_t tp, fp, tn, fn;

	counts(ypm, dec, n, &tp, &fp, &tn, &fn);
	return tp + fn ? (double)tp / (double)(tp + fn) : 0.0;
}

double nidec_metric_f1(const signed char *ypm, const double *dec, size_t n)
{
	double p = nidec_metric_precision(ypm, dec, n), r = nidec_metric_recall(ypm, dec, n);
	double denom = 1.0 * p + r;

	/* scikit-learn 1.2.1: (1 + beta2) * precision * recall / denom */
	if (denom == 0.0)
		denom = 1;
	return 2.0 * p * r / denom;
}

int nidec_metric_needs_both(int scoring)
{
	return scoring == NIDEC_SCORE_ROC_AUC;
}

int nidec_metric_score(int scoring, const signed char *ypm, const double *dec, size_t n,
		       double *score, nidec_err *err)
{
	switch (scoring) {
	case NIDEC_SCORE_ROC_AUC:
		return nidec_metric_roc_auc(ypm, dec, n, score, err);
	case NIDEC_SCORE_ACCURACY:
		*score = nidec_metric_accuracy(ypm, dec, n);
		return 0;
	case NIDEC_SCORE_BALANCED_ACCURACY:
		*score = nidec_metric_balanced_accuracy(ypm, dec, n);
		return 0;
	case NIDEC_SCORE_F1:
		*score = nidec_metric_f1(ypm, dec, n);
		return 0;
	case NIDEC_SCORE_PRECISION:
		*score = nidec_metric_precision(ypm, dec, n);
		return 0;
	case NIDEC_SCORE_RECALL:
		*score = nidec_metric_recall(ypm, dec, n);
		return 0;
	}
	return nidec_fail(err, NIDEC_EINTERNAL, "unknown scoring %d", scoring);
}

void nidec_metric_confusion(const int *truth, const int *pred, size_t n, size_t K, long *cm)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (truth[i] >= 0 && (size_t)truth[i] < K && pred[i] >= 0 && (size_t)pred[i] < K)
			cm[(size_t)truth[i] * K + (size_t)pred[i]]++;
}

double nidec_metric_chance(int scoring, size_t n_classes, int multiclass)
{
	/* r2 of a prediction that knows nothing but the training mean: ~0
	 * (the group test of issue 18: mean r2 against 0); the errors have
	 * no level of their own (they scale with the target) */
	if (scoring == NIDEC_SCORE_R2)
		return 0.0;
	if (nidec_scoring_is_regression(scoring))
		return NAN;
	if (n_classes < 2)
		return NAN;
	switch (scoring) {
	case NIDEC_SCORE_ROC_AUC:
		return 0.5;
	case NIDEC_SCORE_BALANCED_ACCURACY:
		return multiclass ? 1.0 / (double)n_classes : 0.5;
	case NIDEC_SCORE_ACCURACY:
		if (multiclass || n_classes == 2)
			return 1.0 / (double)n_classes;
		return (double)(n_classes - 1) / (double)n_classes;
	default:
		return NAN;
	}
}

/* ---- regression ------------------------------------------------------------ */

/* d[i] = f(y[i], yhat[i], c) in a new scratch array, for a pairwise sum. */
enum { SQ_RESID, ABS_RESID, SQ_DEV };

static int residual_sum(const double *y, const double *yhat, size_t n, int what, double c,
			double *sum, nidec_err *err)
{
	double *d;
	size_t i;

	if (n == 0)
		return nidec_fail(err, NIDEC_EINPUT, "a regression score needs at least one sample");
	d = nidec_malloc_e(n, sizeof(double), "a regression score", err);
	if (!d)
		return NIDEC_ENOMEM;
	for (i = 0; i < n; i++) {
		double r = what == SQ_DEV ? y[i] - c : y[i] - yhat[i];
		d[i] = what == ABS_RESID ? fabs(r) : r * r;
	}
	*sum = nidec_sum_pairwise(d, n);
	nidec_free(d);
	return 0;
}

int nidec_metric_r2(const double *y, const double *yhat, size_t n, double *out, nidec_err *err)
{
	double num, den, mean;

	NIDEC_TRY(residual_sum(y, yhat, n, SQ_RESID, 0, &num, err));
	mean = nidec_mean_numpy(y, n);
	NIDEC_TRY(residual_sum(y, yhat, n, SQ_DEV, mean, &den, err));
	if (den != 0 && num != 0)
		*out = 1 - num / den;
	else
		*out = num != 0 ? 0.0 : 1.0; /* force_finite */
	return 0;
}

int nidec_metric_mse(const double *y, const double *yhat, size_t n, double *out, nidec_err *err)
{
	double s;

	NIDEC_TRY(residual_sum(y, yhat, n, SQ_RESID, 0, &s, err));
	*out = s / (double)n;
	return 0;
}

int nidec_metric_mae(const double *y, const double *yhat, size_t n, double *out, nidec_err *err)
{
	double s;

	NIDEC_TRY(residual_sum(y, yhat, n, ABS_RESID, 0, &s, err));
	*out = s / (double)n;
	return 0;
}

int nidec_metric_pearson(const double *y, const double *yhat, size_t n, double *out,
			 nidec_err *err)
{
	double my, mx, sxy = 0, sxx = 0, syy = 0, r;
	size_t i;

	if (n < 2) {
		*out = NAN;
		return 0;
	}
	my = nidec_mean_numpy(y, n);
	mx = nidec_mean_numpy(yhat, n);
	for (i = 0; i < n; i++) {
		double a = yhat[i] - mx, b = y[i] - my;
		sxy += a * b;
		sxx += a * a;
		syy += b * b;
	}
	(void)err;
	if (sxx == 0 || syy == 0) {
		*out = NAN;
		return 0;
	}
	r = sxy / (sqrt(sxx) * sqrt(syy));
	*out = r > 1 ? 1 : r < -1 ? -1 : r;
	return 0;
}

int nidec_metric_regression(int scoring, const double *y, const double *yhat, size_t n,
			    double *score, nidec_err *err)
{
	double v;

	switch (scoring) {
	case NIDEC_SCORE_R2:
		return nidec_metric_r2(y, yhat, n, score, err);
	case NIDEC_SCORE_NEG_MSE:
		NIDEC_TRY(nidec_metric_mse(y, yhat, n, &v, err));
		*score = -v;
		return 0;
	case NIDEC_SCORE_NEG_MAE:
		NIDEC_TRY(nidec_metric_mae(y, yhat, n, &v, err));
		*score = -v;
		return 0;
	}
	return nidec_fail(err, NIDEC_EINTERNAL, "scoring %d is not a regression score", scoring);
}
