/*
 * metrics.h - scores of a binary problem from its +1/-1 labels and decision
 * values, a confusion matrix, and numpy-ordered sums for means.
 *
 * Conventions: `ypm[i]` is +1 or -1 (the positive class is +1), `dec[i]`
 * the decision value x.w + b; a sample is predicted +1 iff dec > 0 (a
 * decision of exactly 0 goes to -1, as scikit-learn's LinearSVC.predict).
 * Every score reproduces scikit-learn 1.2.1's floating-point result, not
 * just its value: roc_auc goes through the ROC curve and numpy.trapz as
 * roc_auc_score does, so two ports that agree on the ranking of decisions
 * print the same 17 digits.
 *
 * Not collective, no MPI.  Only roc_auc allocates (O(n)).
 */
#ifndef NIDEC_METRICS_H
#define NIDEC_METRICS_H

#include <stddef.h>

#include "nidec/err.h"

/* Sum of a[0..n) in numpy's order (pairwise, 8 accumulators, blocks of 128):
 * numpy.sum / numpy.mean of a contiguous float64 vector. */
double nidec_sum_pairwise(const double *a, size_t n);
/* numpy.mean of a[0..n): nidec_sum_pairwise(a, n) / n (NaN if n == 0). */
double nidec_mean_numpy(const double *a, size_t n);

/* Area under the ROC curve (sklearn roc_auc_score), ties between decision
 * values counted 1/2.  Fails (NIDEC_EINPUT) if ypm lacks one of the labels. */
int nidec_metric_roc_auc(const signed char *ypm, const double *dec, size_t n, double *auc,
			 nidec_err *err);

double nidec_metric_accuracy(const signed char *ypm, const double *dec, size_t n);
/* Mean of the recall of +1 and the recall of -1 (a class absent from ypm is
 * left out of the mean, as scikit-learn does with a warning). */
double nidec_metric_balanced_accuracy(const signed char *ypm, const double *dec, size_t n);
/* Of the +1 class; 0 when the denominator is 0 (scikit-learn's
 * zero_division="warn" value). */
double nidec_metric_precision(const signed char *ypm, const double *dec, size_t n);
double nidec_metric_recall(const signed char *ypm, const double *dec, size_t n);
double nidec_metric_f1(const signed char *ypm, const double *dec, size_t n);

/* The score named by `scoring` (enum nidec_scoring). */
int nidec_metric_score(int scoring, const signed char *ypm, const double *dec, size_t n,
		       double *score, nidec_err *err);

/* 1 if the score needs both labels in the test part (roc_auc). */
int nidec_metric_needs_both(int scoring);

/* ---- regression (continuous targets y, predictions yhat) ----------------
 * scikit-learn 1.2.1's formulas, with numpy's pairwise sums: each fills
 * *out and returns 0, or NIDEC_ENOMEM (a scratch array of n doubles) or
 * NIDEC_EINPUT (n == 0). */

/* r2_score: 1 - sum((y - yhat)^2) / sum((y - mean(y))^2); a constant y
 * gives 1 for a perfect prediction, else 0 (force_finite). */
int nidec_metric_r2(const double *y, const double *yhat, size_t n, double *out, nidec_err *err);
/* mean_squared_error, mean_absolute_error. */
int nidec_metric_mse(const double *y, const double *yhat, size_t n, double *out, nidec_err *err);
int nidec_metric_mae(const double *y, const double *yhat, size_t n, double *out, nidec_err *err);
/* scipy.stats.pearsonr's r (centred, clipped to [-1, 1]); NaN when either
 * vector is constant or n < 2 (returns 0 then). */
int nidec_metric_pearson(const double *y, const double *yhat, size_t n, double *out,
			 nidec_err *err);
/* The regression score named by `scoring` (r2, neg_mean_squared_error,
 * neg_mean_absolute_error: greater is better, as scikit-learn's scorers). */
int nidec_metric_regression(int scoring, const double *y, const double *yhat, size_t n,
			    double *score, nidec_err *err);

/* cm[t * K + p] += 1 for every sample with true class t, predicted p. */
void nidec_metric_confusion(const int *truth, const int *pred, size_t n, size_t K, long *cm);

/* The chance level of a score (the group test's null, a map's threshold):
 * roc_auc 0.5; accuracy and balanced accuracy of a multiclass prediction
 * (multiclass = 1) 1/K; of one-vs-rest problems (multiclass = 0) 0.5 for
 * balanced accuracy, and for accuracy 0.5 with K = 2 and (K-1)/K with
 * K > 2 (always answering "rest" scores that on balanced classes); NaN
 * (no chance level) for f1, precision and recall, or fewer than 2
 * classes.  Regression: 0 for r2 (the mean predictor), NaN for the negated
 * errors. */
double nidec_metric_chance(int scoring, size_t n_classes, int multiclass);

#endif
