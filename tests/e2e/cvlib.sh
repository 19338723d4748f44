# tests/e2e/cvlib.sh - helpers of the cv/run/predict scripts (t1xxx, t2xxx),
# sourced after lib.sh.  Not a test script itself (run.sh runs t*.sh).
#
#   nidec_run CONFIG [ARGS...]   nidec run on the test data, 2 ranks, quiet
#   nidec_n N CMD [ARGS...]      nidec CMD under mpirun -n N
#   check_nilearn STEP DIR       compare DIR with nilearn's numbers
ORACLE=$TESTS_DIR/oracle
CONFIGS=$REPO_DIR/configs
DATA_OPTS="--set data.bold=$NIDEC_TEST_DATA/bold.nii.gz --set data.mask=$NIDEC_TEST_DATA/mask.nii.gz --set data.labels=$NIDEC_TEST_DATA/labels.txt"
RANKS=${NIDEC_TEST_RANKS:-2}

nidec_n() {
	n=$1
	shift
	$MPIRUN -n "$n" "$NIDEC" "$@"
}

# nidec_run CONFIG ARGS...: `nidec run` on the test data with $RANKS ranks,
# no progress lines, no report (the report has its own tests).
nidec_run() {
	cfg=$1
	shift
	# shellcheck disable=SC2086
	$MPIRUN -n "$RANKS" "$NIDEC" run "$cfg" $DATA_OPTS --set output.report=false --progress 0 "$@"
}

check_nilearn() {
	"$PYTHON" "$TESTS_DIR/e2e/check_nilearn.py" "$ORACLE/nilearn-haxby-slice.json" "$@"
}
