#!/bin/sh
# t4070-report-group: the group page of a sweep (<root>/report.html), on
# three synthetic subjects and one whose run is corrupt (it fails): written
# by `nidec sweep` after the group files, rebuilt identically by --gather
# and by `nidec report ROOT`; checked by an independent reader
# (tests/e2e/check_report.py): no script, nothing external, relative links
# only to the subjects' own pages that exist; the statistics table, every
# subject's row and every bar and fold dot of the chart equal
# group_summary.json and the subjects' summary.json; the failed subject with
# its error and no link; each missing file degrading its own part; a
# searchlight sweep ([sweep] kind = searchlight), whose group files are
# listed.
. "$(dirname "$0")/../lib.sh"

if ! "$PYTHON" -c 'import PIL, numpy' 2>/dev/null; then
	test_skip 'group report checks' 'needs python3-pil and python3-numpy'
	test_done
	exit
fi

CHECK="$PYTHON $TESTS_DIR/e2e/check_report.py"
SECTIONS=scores,group,subjects,provenance,appendix
LINKS='sub-[0-9]+/report\.html'
SYN="--dims 10x12x8 --runs 4 --volumes 30 --classes 2 --signal 0.15"

test_expect_success 'setup: three synthetic subjects, a fourth with a corrupt run, a sweep' '
	for s in 1 2 3; do
		$NIDEC synth -q -o bids/sub-0$s/func --subject 0$s $SYN --seed $s || exit 1
	done &&
	mkdir -p bids/sub-04/func && cp bids/sub-01/func/mask.nii.gz bids/sub-04/func/ &&
	for f in bids/sub-01/func/sub-01_*; do
		cp "$f" "bids/sub-04/func/$(basename "$f" | sed s/sub-01/sub-04/)" || exit 1
	done &&
	printf "not a nifti" >bids/sub-04/func/sub-04_task-synth_run-02_bold.nii.gz &&
	cat >analysis.ini <<-\EOF &&
	[data]
	conditions = face, cat
	[cv]
	scheme = leave-one-run-out
	permutations = 10
	[output]
	dir = out
	EOF
	cat >sweep.ini <<-\EOF
	[sweep]
	analysis = analysis.ini
	bids_root = bids
	task = synth
	mask = bids/sub-{subject}/func/mask.nii.gz
	EOF
'

test_expect_success 'nidec sweep writes the group page after the group files (exit 4: one failed)' '
	test_expect_code 4 $NIDEC sweep sweep.ini --progress 0 >out.txt 2>err.txt &&
	grep -q "^wrote out/group_summary.json" out.txt &&
	grep -q "^wrote out/report.html" out.txt &&
	test -f out/sub-01/report.html && ! test -e out/sub-04/report.html
'

test_expect_success 'the page: its sections, no image, no script, links only to the subjects pages' '
	grep -q "<h1>Group report: cat vs face</h1>" out/report.html &&
	grep -q "3 <small>of 4</small></div><div>subjects complete, <span class=\"err\">1 failed" \
		out/report.html &&
	$CHECK page out/report.html 0 $SECTIONS "$LINKS" >res && cat res &&
	grep -q "^ok: 0 images, 3 relative links" res
'

test_expect_success 'its numbers: statistics, subjects, bars and fold dots; the failed subject' '
	$CHECK group out/report.html out &&
	grep -q "is not a NIfTI file" out/report.html
'

test_expect_success 'the check fails on a number the page does not show (it is not vacuous)' '
	mkdir -p wrong && cp out/report.html wrong/ && cp -r out/sub-0* wrong/ &&
	"$PYTHON" -c "
import json
g = json.load(open(\"out/group_summary.json\"))
g[\"subjects\"][1][\"mean_score\"][\"face\"] += 0.001
json.dump(g, open(\"wrong/group_summary.json\", \"w\"))
" &&
	test_must_fail $CHECK group wrong/report.html wrong 2>err &&
	grep -q "AssertionError" err
'

test_expect_success 'nidec sweep --gather and nidec report ROOT rebuild the same page' '
	cp out/report.html first.html &&
	test_expect_code 4 $NIDEC sweep sweep.ini --gather >out.txt 2>/dev/null &&
	grep -q "^wrote out/report.html" out.txt &&
	cmp first.html out/report.html &&
	$NIDEC report out >out.txt &&
	test "$(cat out.txt)" = out/report.html &&
	cmp first.html out/report.html
'

test_expect_error 'nidec report ROOT --dataset is refused' 1 "is the output root of a sweep" '
	$NIDEC report out --dataset out/sub-01/dataset.h5 -o ds.html'

test_expect_success 'a subject without its report.html: no link, the rest intact' '
	cp -r out norep && rm norep/sub-02/report.html &&
	$NIDEC report norep >/dev/null &&
	grep -q "no report.html (sub-02/report.html does not exist" norep/report.html &&
	$CHECK page norep/report.html 0 $SECTIONS "$LINKS" + group norep/report.html norep
'

test_expect_success 'a subject without its summary.json: its bar without folds, and why' '
	cp -r out nosum && rm nosum/sub-03/summary.json &&
	$NIDEC report nosum >/dev/null &&
	grep -q "not available: the folds of sub-03: &#39;sub-03/summary.json&#39; does not exist" \
		nosum/report.html &&
	$CHECK group nosum/report.html nosum
'

test_expect_success 'without group_summary.json: the subjects from their directories, no statistics' '
	cp -r out nogroup && rm nogroup/group_summary.json nogroup/report.html &&
	$NIDEC report nogroup >/dev/null 2>err &&
	$CHECK page nogroup/report.html 0 $SECTIONS "$LINKS" &&
	grep -q "not available: &#39;group_summary.json&#39; is not in the sweep&#39;s output root" \
		nogroup/report.html &&
	grep -q "<td>sub-04</td><td class=\"err\">failed</td>" nogroup/report.html &&
	grep -q "<title>sub-01, face: mean " nogroup/report.html
'

# [sweep] kind = searchlight: the subjects' pages are searchlight pages; the
# group page draws the group mean map (coloured exactly where above chance)
# and the significant clusters (exactly their voxels) over the subjects'
# mean EPI, and lists every cluster of group_searchlight_clusters.tsv
test_expect_success 'a searchlight sweep: its bars, its subjects pages, its group maps and clusters' '
	for s in 1 2; do
		$NIDEC synth -q -o sl/sub-0$s --subject 0$s --dims 8x8x8 --runs 4 --volumes 24 --classes 2 \
			--signal 0.8 --signal-radius 4.5 --seed $s || exit 1
	done &&
	printf "[data]\nconditions = face, cat\n[searchlight]\nradius = 4\n[cv]\npermutations = 4\n[output]\ndir = slout\n" \
		>slanalysis.ini &&
	cat >slsweep.ini <<-\EOF &&
	[sweep]
	analysis = slanalysis.ini
	kind = searchlight
	subjects = 01, 02
	bold = sl/sub-{subject}/sub-{subject}_task-synth_run-*_bold.nii.gz
	events = sl/sub-{subject}/sub-{subject}_task-synth_run-*_events.tsv
	mask = sl/sub-{subject}/mask.nii.gz
	cluster_draws = 50
	cluster_threshold = 0.05
	EOF
	$NIDEC sweep slsweep.ini --progress 0 >out.txt 2>/dev/null &&
	grep -q "^wrote slout/report.html" out.txt &&
	grep -q "<h1>Searchlight report" slout/sub-01/report.html &&
	grep -q "<section id=\"searchlight\"><h2>Group searchlight</h2>" slout/report.html &&
	grep -q "the mean of its searchlight map over the spheres" slout/report.html &&
	$CHECK thresh slout/report.html "group mean score" slout/group_searchlight_mean.nii.gz 0.5 &&
	"$PYTHON" - <<-\EOF &&
	import csv, json, re
	h = open("slout/report.html").read()
	sec = h[h.index("<section id=\"searchlight\">"):]
	sec = sec[:sec.index("</section>")]
	rows = list(csv.DictReader(open("slout/group_searchlight_clusters.tsv"), delimiter="\t"))
	js = json.load(open("slout/group_summary.json"))["searchlight"]
	got = re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td><td>([^<]*)</td>", sec)
	assert [(a, b) for a, b, _ in got] == [(r["cluster"], r["size"]) for r in rows][:50], got
	assert all(abs(float(p) - float(r["p_fwe"])) <= 5e-4 * float(r["p_fwe"]) for (_, _, p), r in zip(got, rows))
	assert "<th>n_clusters</th><td class=\"l\">%d</td>" % js["cluster_test"]["n_clusters"] in sec
	assert "<th>voxels (a scored centre of every subject)</th><td class=\"l\">%d</td>" % js["n_voxels"] in sec
	sig = js["cluster_test"]["n_significant"]
	print("clusters:", len(rows), "significant:", sig)
	assert sig >= 1, "the planted effect gives a significant cluster"
	EOF
	$CHECK thresh slout/report.html "clusters with p_fwe" slout/group_searchlight_thresholded.nii.gz 0 &&
	$CHECK page slout/report.html 2 $SECTIONS,searchlight "$LINKS" + group slout/report.html slout &&
	! grep -q "id=\"searchlight\"" out/report.html
'

test_expect_success 'failing allocations in the group page fail cleanly (exit 1, no page) or degrade' '
	for n in 15 31 45; do
		rm -f fa.html &&
		rc=0 && NIDEC_FAIL_ALLOC=$n $NIDEC report out -o fa.html >/dev/null 2>fa.err || rc=$? &&
		case $rc in
		0) test -f fa.html ;;
		1) ! test -e fa.html && grep -q "nidec: error: " fa.err ;;
		*) echo "NIDEC_FAIL_ALLOC=$n: exit $rc"; cat fa.err; exit 1 ;;
		esac || { echo "NIDEC_FAIL_ALLOC=$n: exit $rc, file state wrong"; exit 1; }
	done
'

test_expect_success '[output] report = false: no group page' '
	rm out/report.html &&
	test_expect_code 4 $NIDEC sweep sweep.ini --gather --set output.report=false >out.txt 2>/dev/null &&
	! grep -q "report.html" out.txt &&
	! test -e out/report.html
'

test_done
