#!/bin/sh
# t1200: nidec's default mode (nested C selection, no leakage) equals, fold
# for fold, scikit-learn 1.2.1's (also with ANOVA screening, below)
#   GridSearchCV(Pipeline(StandardScaler, LinearSVC(dual=True, tol=1e-4,
#   max_iter=10000)), C = [1, 10, 100], cv = LeaveOneGroupOut, roc_auc)
# inside an outer LeaveOneGroupOut: tests/oracle/sklearn_nested.py runs it
# here with Debian's python3-sklearn (about 12 s); its output must also
# equal the copy stored in tests/oracle/sklearn-nested-face-cat.tsv (made
# with scikit-learn 1.2.1), which NIDEC_ORACLE_LIVE=0 uses instead of
# running it.  StandardScaler divides by the ddof-0 deviation, so nidec runs
# with standardize = zscore.
#
# Tolerance: the chosen C must be equal in every fold, and inner and outer
# scores equal to 1e-12 (they are ratios of small integers).  liblinear's
# coordinate shuffle differs between nidec (seeded per task) and
# scikit-learn (random_state=0), and the solver stops at tol 1e-4, so a test
# sample on the margin could in principle land on the other side: at most
# ONE fold may differ, and there only by one such sample (outer accuracy by
# 1/n_test, outer AUC by at most 1/min(n_face, n_cat) = 1/9).  On this data
# nothing differs (measured), so the allowance is never used.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

test_expect_success 'nidec run configs/haxby-slice.ini (standardize = zscore)' '
	nidec_run $CONFIGS/haxby-slice.ini --set output.dir=nested \
		--set preprocess.standardize=zscore >out &&
	grep -q "^face " out
'

test_expect_success 'the scikit-learn oracle, run now (equal to its stored copy)' '
	grep -v "^#" "$ORACLE/sklearn-nested-face-cat.tsv" >stored.tsv &&
	if [ "${NIDEC_ORACLE_LIVE:-1}" = 1 ]; then
		OPENBLAS_NUM_THREADS=1 "$PYTHON" "$ORACLE/sklearn_nested.py" "$NIDEC_TEST_DATA" face,cat >live.tsv &&
		grep -v "^#" live.tsv >oracle.tsv &&
		test_cmp stored.tsv oracle.tsv
	else
		cp stored.tsv oracle.tsv
	fi &&
	test $(wc -l <oracle.tsv) = 13
'

test_expect_success 'chosen C, inner and outer scores equal scikit-learn fold for fold' '
	"$PYTHON" "$TESTS_DIR/e2e/check_sklearn.py" nested oracle.tsv
'

# The same with ANOVA screening fitted inside every (inner and outer)
# training part: SelectPercentile(f_classif, 20) between the scaler and the
# SVC; nidec's default mode keeps 20 % of the 530 voxels (no rescaling).
test_expect_success 'with screening 20 %: chosen C, inner and outer scores equal scikit-learn' '
	nidec_run $CONFIGS/haxby-slice.ini --set output.dir=screened \
		--set preprocess.standardize=zscore --set preprocess.screening_percentile=20 >out &&
	OPENBLAS_NUM_THREADS=1 "$PYTHON" "$ORACLE/sklearn_nested.py" "$NIDEC_TEST_DATA" face,cat 20 >oracle20.tsv &&
	test $(wc -l <oracle20.tsv) = 13 &&
	"$PYTHON" "$TESTS_DIR/e2e/check_sklearn.py" screened oracle20.tsv
'

test_expect_success 'nested and nilearn modes choose different C on this data (the point of both)' '
	cut -f3 nested/scores.tsv | sort -u >c-nested &&
	grep -q "^1$" c-nested && grep -q "^10$" c-nested
'

test_done
