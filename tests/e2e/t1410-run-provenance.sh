#!/bin/sh
# t1410: what a run records and says about itself.  A dataset converted by
# `nidec run` records that command line and liblinear's version (as one
# from `nidec convert` does; `nidec info` shows them); summary.json carries
# liblinear's version and a "warnings" list; a resumed run says once that
# it reuses the dataset.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/e2e/cvlib.sh"

test_expect_success 'nidec info shows the command line of a dataset converted by run' '
	nidec_run "$CONFIGS/haxby-slice.ini" --set output.dir=out >/dev/null &&
	"$NIDEC" info out/dataset.h5 >info &&
	cat info &&
	grep -q "command_line  *nidec run .*haxby-slice.ini" info &&
	grep -q "liblinear_version  *2\\.[0-9]" info
'

test_expect_success 'summary.json records liblinear and an empty warnings list' '
	"$PYTHON" -c "
import json
s = json.load(open(\"out/summary.json\"))
assert s[\"warnings\"] == [], s[\"warnings\"]
assert s[\"provenance\"][\"liblinear\"].startswith(\"2.\"), s[\"provenance\"]
"
'

test_expect_success 'a resumed run says once that it reuses the dataset' '
	nidec_run "$CONFIGS/haxby-slice.ini" --set output.dir=out --resume >/dev/null 2>err &&
	cat err &&
	test "$(grep -c "reusing" err)" = 1
'

test_done
