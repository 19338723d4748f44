#!/bin/sh
# nidec info: a dataset is described in t0100; here any other HDF5 file is
# listed, and bad arguments fail cleanly.
. "$(dirname "$0")/../lib.sh"

test_expect_success 'another HDF5 file: attributes and datasets are listed' '
	$PYTHON -c "
import h5py, numpy as np
with h5py.File(\"other.h5\", \"w\") as f:
    f.attrs[\"kind\"] = \"results\"
    f.attrs[\"n\"] = 3
    f[\"scores\"] = np.zeros((12, 3))
    f.create_group(\"g\")[\"w\"] = np.zeros(5, np.float32)" &&
	$NIDEC info other.h5 >out &&
	grep -q "^  kind  *results" out && grep -q "^  n  *3" out &&
	grep -q "^  /scores  *float64 \[12 x 3\]" out && grep -q "^  /g/w  *float32 \[5\]" out
'
test_expect_error 'a missing file' 1 "cannot open 'nope.h5': No such file or directory" '
	$NIDEC info nope.h5
'
test_expect_error 'not an HDF5 file' 1 "'text.h5' is not an HDF5 file" '
	echo hello >text.h5 && $NIDEC info text.h5
'
test_expect_error 'no FILE' 2 "missing FILE" '
	$NIDEC info
'
test_expect_success 'mpirun -n 2 info prints once' '
	$MPIRUN -n 2 $NIDEC info other.h5 >out && test $(grep -c "^datasets:" out) = 1
'
test_done
