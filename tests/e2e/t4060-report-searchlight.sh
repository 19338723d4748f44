#!/bin/sh
# t4060-report-searchlight: the page `nidec searchlight` writes (and
# `nidec report` rebuilds) on a small synthetic subject with a weak signal
# (some spheres above chance, some not, a few significant after the FWE
# correction), checked by an independent reader (tests/e2e/check_report.py:
# HTMLParser, PIL, nibabel): its sections, PNGs of the declared size,
# nothing external, no script; the numbers of summary.json and
# searchlight.tsv; the map coloured exactly where the score is above chance
# (every pixel against the voxel under it), also at chance, just above it
# and NaN; the FWE figure exactly where p_fwe <= 0.05; K > 2 classes; each
# missing or broken file degrading its own section.
. "$(dirname "$0")/../lib.sh"

if ! "$PYTHON" -c 'import PIL, nibabel, numpy' 2>/dev/null; then
	test_skip 'searchlight report checks' 'needs python3-pil, python3-nibabel and python3-numpy'
	test_done
	exit
fi

CHECK="$PYTHON $TESTS_DIR/e2e/check_report.py"
SECTIONS=map,distribution,best,spheres,permutations,images,dataset,provenance,timing,appendix
SYN="--dims 12x14x6 --runs 4 --volumes 24 --signal 0.25 --seed 3"
SL="-q --progress 0 --set searchlight.radius=5 --set cv.scoring=accuracy"

test_expect_success 'setup: a searchlight with 19 permutations on a synthetic subject' '
	$NIDEC synth -q -o sub $SYN --classes 2 &&
	$NIDEC searchlight sub/synth.ini $SL --timing --set cv.permutations=19 --set output.dir=sl &&
	test -f sl/report.html && test -f sl/searchlight_p_fwe.nii.gz
'

# 7 images: the map, the three views through the best sphere, the spheres
# with FWE p <= 0.05, the mean EPI and the mask
test_expect_success 'the page: sections, 7 PNGs of their size, nothing external; the numbers of the files' '
	grep -q "<h1>Searchlight report: cat vs face</h1>" sl/report.html &&
	$CHECK page sl/report.html 7 $SECTIONS + slnumbers sl/report.html sl
'

test_expect_success 'the map is coloured exactly where the score is above chance; FWE: p <= 0.05' '
	$CHECK thresh sl/report.html "searchlight accuracy" sl/searchlight_accuracy.nii.gz 0.5 + \
		thresh sl/report.html "through the best sphere" sl/searchlight_accuracy.nii.gz 0.5 + \
		fwe sl/report.html "where FWE" sl/searchlight_p_fwe.nii.gz
'

test_expect_success 'the pixel check fails on another threshold (it is not vacuous)' '
	test_must_fail $CHECK thresh sl/report.html "searchlight accuracy" \
		sl/searchlight_accuracy.nii.gz 0.52 2>err &&
	grep -q "pixels of .* disagree with value > 0.5199" err
'

# scores exactly at chance, one float32 step above it, and NaN (a skipped
# sphere), written into the map with nibabel
test_expect_success 'at chance: not coloured; just above: coloured; NaN: not coloured' '
	cp -r sl edge &&
	"$PYTHON" -c "
import sys, numpy as np, nibabel as nb
p = sys.argv[1]; im = nb.load(p); m = np.asarray(im.dataobj).copy()
c = np.argwhere(m > 0)
for n, (i, j, k) in enumerate(c[::7]):
    m[i, j, k] = (np.float32(0.5), np.nextafter(np.float32(0.5), np.float32(1)), np.nan)[n % 3]
nb.save(nb.Nifti1Image(m, im.affine, im.header), p)
" edge/searchlight_accuracy.nii.gz &&
	$NIDEC report edge >/dev/null &&
	$CHECK thresh edge/report.html "searchlight accuracy" edge/searchlight_accuracy.nii.gz 0.5
'

test_expect_success 'nidec report rebuilds the same page' '
	cp sl/report.html first.html &&
	$NIDEC report sl >out &&
	test "$(cat out)" = sl/report.html &&
	cmp first.html sl/report.html
'

# na DIR: the page's "not available" lines
na() {
	grep -o "not available: [^<]*" "$1/report.html"
}

test_expect_success 'without the map: the map and the FWE figure say why, the rest stands' '
	cp -r sl nomap && rm nomap/searchlight_accuracy.nii.gz &&
	$NIDEC report nomap >/dev/null &&
	$CHECK page nomap/report.html 2 $SECTIONS &&
	na nomap >na && test $(wc -l <na) = 2 &&
	! grep -v "searchlight_accuracy.nii.gz&#39; is not in the results directory" na &&
	grep -q "<title>sphere scores</title>" nomap/report.html &&
	grep -q "<table id=\"best-table\">" nomap/report.html
'

test_expect_success 'without searchlight.tsv: no histograms, the map still exact' '
	cp -r sl notsv && rm notsv/searchlight.tsv &&
	$NIDEC report notsv >/dev/null &&
	na notsv >na && test $(wc -l <na) = 2 &&
	! grep -v "searchlight.tsv&#39; is not in the results directory" na &&
	$CHECK page notsv/report.html 7 $SECTIONS + \
		thresh notsv/report.html "searchlight accuracy" notsv/searchlight_accuracy.nii.gz 0.5
'

test_expect_success 'without summary.json: a searchlight page from its files, the map unthresholded' '
	cp -r sl nosum && rm nosum/summary.json &&
	$NIDEC report nosum >/dev/null &&
	grep -q "<h1>Searchlight report</h1>" nosum/report.html &&
	grep -q "unthresholded (no chance level for accuracy)" nosum/report.html &&
	$CHECK page nosum/report.html 3 $SECTIONS + \
		thresh nosum/report.html "searchlight accuracy" nosum/searchlight_accuracy.nii.gz 0
'

test_expect_success 'a corrupt map: a warning, its error in the page, exit 0' '
	cp -r sl bad && printf "not a nifti" >bad/searchlight_accuracy.nii.gz &&
	$NIDEC report bad >/dev/null 2>err &&
	grep -q "warning: report: .*searchlight_accuracy.nii.gz" err &&
	grep -q "not available: .*searchlight_accuracy.nii.gz" bad/report.html &&
	grep -q "<table id=\"best-table\">" bad/report.html
'

# three classes: the map is the mean of the one-vs-rest maps (compat none),
# each thresholded at the same chance, 2/3; 9 images
test_expect_success 'three classes: each one-vs-rest map, thresholded at the chance of the map' '
	$NIDEC synth -q -o sub3 $SYN --classes 3 &&
	$NIDEC searchlight sub3/synth.ini $SL --set output.dir=sl3 &&
	c=$("$PYTHON" -c "import json; print(repr(json.load(open(\"sl3/summary.json\"))[\"chance\"]))") &&
	test "$c" = 0.6666666666666666 &&
	$CHECK page sl3/report.html 9 $SECTIONS + slnumbers sl3/report.html sl3 + \
		thresh sl3/report.html "cat vs rest" sl3/searchlight_accuracy_cat.nii.gz $c + \
		thresh sl3/report.html "face vs rest" sl3/searchlight_accuracy_face.nii.gz $c + \
		thresh sl3/report.html "house vs rest" sl3/searchlight_accuracy_house.nii.gz $c
'

test_expect_success 'failing allocations in the searchlight page fail cleanly (exit 1, no page)' '
	for n in 100 130 160; do
		rm -f fa.html &&
		rc=0 && NIDEC_FAIL_ALLOC=$n $NIDEC report sl -o fa.html >/dev/null 2>fa.err || rc=$? &&
		case $rc in
		0) test -f fa.html ;;
		1) ! test -e fa.html && grep -q "nidec: error: " fa.err ;;
		*) echo "NIDEC_FAIL_ALLOC=$n: exit $rc"; cat fa.err; exit 1 ;;
		esac || { echo "NIDEC_FAIL_ALLOC=$n: exit $rc, file state wrong"; exit 1; }
	done
'

test_done
