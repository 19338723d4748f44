/*
 * outcome.h - what a decoding produced, reduced over its tasks on rank 0
 * and ready to be written (results.h) or reported: per class key and outer
 * fold the scores and chosen C, every C tried, the predictions, the
 * fold-averaged weights and model, and the permutation test.
 *
 * Made by the reducer (reduce.h, src/core/reduce.c); plain data, so the
 * writers (src/io) and the report need only this header, not the plan.
 * Free with nidec_outcome_free (NULL-safe, sets the pointer to NULL).
 */
#ifndef NIDEC_OUTCOME_H
#define NIDEC_OUTCOME_H

#include <stddef.h>

/* Per-fold, per-key results ready to be written (rank 0). */
typedef struct nidec_outcome {
	size_t n_keys;          /* class keys of the outputs: K, or 1 for two classes
				 * (2 under compat = nilearn; plan.h "Keys") */
	char **keys;            /* [n_keys] class names */
	size_t n_folds;         /* outer folds */
	size_t n_C;
	double *C;              /* [n_C] grid */
	int nested;             /* 1 if inner scores exist */

	/* [n_keys * n_folds], index k*n_folds + f */
	double *score;          /* outer test score of the kept model */
	double *inner_score;    /* mean inner score of the chosen C (NaN if none) */
	double *chosen_C;       /* C kept for (key, fold) (ridge, lasso: the alpha) */
	/* [n_keys * n_folds * n_C]: every C tried */
	double *grid_score;     /* outer test score of each C (NaN if not computed) */
	double *grid_inner;     /* mean inner score of each C (NaN if none) */
	/* [n_keys * n_folds * n_inner]: per inner fold (NaN where absent):
	 * the C picked on that inner fold (test-fold with an inner scheme; in
	 * nested mode the C chosen for the fold) and its inner test score */
	size_t n_inner;         /* most inner folds of any outer fold (0 if none) */
	double *inner_C;
	double *inner_fold_score;
	/* [n_folds]: fraction of the fold's test samples whose final predicted
	 * class (pred_label) is right: the tutorial's accuracy of predict() */
	double *pred_accuracy;

	/* predictions on outer test samples, fold by fold, in sample order */
	size_t n_pred;
	size_t *pred_sample;    /* [n_pred] sample index in the dataset */
	int *pred_fold;         /* [n_pred] */
	int *pred_true;         /* [n_pred] class index */
	int *pred_label;        /* [n_pred] predicted class index */
	double *pred_decision;  /* [n_pred * n_problems] decision value per problem
				 * (regression: the predicted target) */
	double *pred_target;    /* [n_pred] regression: the true target; NULL for
				 * classification (pred_true/pred_label then mean nothing) */
	size_t n_problems;

	/* weights, mean and std (ddof 0) over outer folds, [n_keys * p] */
	size_t p;
	double *coef_mean;
	double *coef_std;
	double *intercept;      /* [n_keys] mean intercept */
	/* the averaged model per problem (what model.h5 stores) */
	double *model_coef;     /* [n_problems * p] */
	double *model_intercept;/* [n_problems] */

	long *confusion;        /* [n_classes * n_classes], row = true, col = predicted */
	size_t n_classes;

	/* permutations: null scores [n_perm * n_keys] (mean over folds) and the
	 * p-values (1 + #null >= observed) / (n_perm + 1) per key and for the mean */
	long n_perm;
	double *null_scores;
	double *p_value;        /* [n_keys] */
	double p_value_mean;
} nidec_outcome;

void nidec_outcome_free(nidec_outcome **out);

#endif
