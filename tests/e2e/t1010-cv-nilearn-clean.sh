#!/bin/sh
# compat = nilearn with [clean] smoothing_fwhm, high_pass and t_r and
# [preprocess] standardize reproduces nilearn's Decoder(smoothing_fwhm,
# high_pass, t_r, standardize) on the bundled slice: the Decoder's semantics
# are written out in tests/e2e/decoder_clean_reference.py (numpy, scipy,
# scikit-learn: nilearn is not installable here) and nidec's scores, chosen
# C and weights compared with it (docs/NILEARN.md says what was checked).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

test_expect_success 'Decoder(smoothing_fwhm=6, high_pass=0.01, t_r=2.5, zscore_sample), LORO' '
	nidec_run $CONFIGS/tutorial-e-loro.ini --set clean.smoothing_fwhm=6 --set clean.high_pass=0.01 \
		--set clean.t_r=2.5 --set output.dir=e >/dev/null &&
	$PYTHON $TESTS_DIR/e2e/decoder_clean_reference.py e $NIDEC_TEST_DATA 6 0.01 2.5 >out &&
	cat out && grep -q "^ok" out
'
test_expect_success 'the cleaning is the selected volumes as one series (the dataset says so)' '
	$PYTHON -c "
import h5py; print(h5py.File(\"e/dataset.h5\").attrs[\"preprocessing\"])" >pre &&
	grep -q "the selected volumes as one series (compat = nilearn" pre
'
test_done
