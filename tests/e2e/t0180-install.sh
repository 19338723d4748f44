#!/bin/sh
# t0180: make install / uninstall (README "Installing"):
#  - a staged install (DESTDIR) puts everything under DESTDIR/PREFIX and
#    names PREFIX, not DESTDIR, in the modulefile;
#  - installed into a temporary prefix, nidec runs the demo (the Haxby
#    job, two ranks) from a directory outside the source tree with only
#    the prefix on PATH, to the scores of the build tree's binary;
#  - `man nidec`, `man nidec-run` and every other page render from the
#    prefix's MANPATH without a warning; `nidec --version` names MPI, HDF5,
#    liblinear and nifti_clib;
#  - the modulefile loads (Environment Modules, when installed) and puts
#    the prefix's nidec first on PATH;
#  - make uninstall leaves no file behind.
. "$(dirname "$0")/../lib.sh"

BUILD_DIR=$(cd "$(dirname "$NIDEC")" && pwd)
P="$TRASH/prefix"

mk() {
	make -C "$REPO_DIR" -s --no-print-directory BUILD="$BUILD_DIR" "$@"
}

test_expect_success 'make install DESTDIR=... PREFIX=/opt/nidec: staged, PREFIX in the modulefile' '
	mk install PREFIX=/opt/nidec DESTDIR="$TRASH/stage" >out &&
	cat out &&
	test -x stage/opt/nidec/bin/nidec &&
	test -f stage/opt/nidec/share/man/man1/nidec.1 &&
	test -f stage/opt/nidec/share/man/man1/nidec-run.1 &&
	test -f stage/opt/nidec/share/nidec/jobs/nidec-permutations.sbatch &&
	test -f stage/opt/nidec/share/nidec/configs/haxby-slice.ini &&
	test -f stage/opt/nidec/share/nidec/data/haxby-slice/bold.nii.gz &&
	m=$(ls stage/opt/nidec/share/nidec/modulefiles/nidec/*) &&
	grep -q "^set root /opt/nidec$" $m &&
	! grep -q "$TRASH" $m &&
	mk uninstall PREFIX=/opt/nidec DESTDIR="$TRASH/stage" &&
	test -z "$(find stage -type f)"
'

test_expect_success 'make install PREFIX=<temporary prefix>' '
	mk install PREFIX="$P" >out &&
	test -x "$P/bin/nidec" &&
	ls "$P/share/man/man1" >pages && cat pages &&
	test $(wc -l <pages) -ge 11 &&
	ls "$P/share/nidec/jobs" | grep -c "sbatch$" >n && test $(cat n) -ge 5
'

test_expect_success 'the demo from the prefix, outside the source tree, with only the prefix on PATH' '
	mkdir demo && cd demo &&
	ln -s "$P/share/nidec/data" data &&
	env -i HOME="$HOME" PATH="$P/bin:/usr/bin:/bin" OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
		OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none \
		ASAN_OPTIONS="$ASAN_OPTIONS" LSAN_OPTIONS="$LSAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS" \
		sh -c "command -v nidec && mpirun -n 2 nidec run \"$P/share/nidec/configs/haxby-slice.ini\" --progress 0" >out 2>err &&
	head -n 1 out | grep -qx "$P/bin/nidec" &&
	grep -q "^wrote results/haxby-slice/scores.tsv" out &&
	cd .. &&
	mkdir tree && cd tree && ln -s "$REPO_DIR/data" data &&
	$MPIRUN -n 2 "$NIDEC" run "$REPO_DIR/configs/haxby-slice.ini" --progress 0 -q >/dev/null &&
	cd .. &&
	for f in scores.tsv grid_scores.tsv predictions.tsv weights_face.nii.gz; do
		cmp tree/results/haxby-slice/$f demo/results/haxby-slice/$f || exit 1
	done
'

test_expect_success 'nidec --version: nidec, MPI, HDF5, liblinear and nifti_clib' '
	"$P/bin/nidec" --version >v && cat v &&
	grep -q "^nidec [0-9]" v && grep -q "^MPI: Open MPI v[0-9]" v &&
	grep -q "^HDF5: 1\.[0-9]*\.[0-9]*$" v && grep -q "^liblinear: [0-9]\.[0-9]*$" v &&
	grep -q "^nifti_clib: NIFTI2_IO version [0-9]" v
'

if command -v man >/dev/null 2>&1; then
	test_expect_success 'man nidec, man nidec-run, ...: every installed page renders without a warning' '
		MANWIDTH=80 man -M "$P/share/man" nidec >page 2>warn && ! test -s warn &&
		grep -q "cross-validated fMRI decoding over MPI" page &&
		MANWIDTH=80 man -M "$P/share/man" nidec-run >page 2>warn && ! test -s warn &&
		grep -q "\-\-checkpoint-interval SEC" page &&
		for p in "$P"/share/man/man1/*.1; do
			MANWIDTH=80 man --warnings -E UTF-8 -l "$p" >page 2>warn &&
			test -s page && ! test -s warn || { cat warn; echo "$p"; exit 1; }
		done
	'
else
	test_skip 'man nidec, man nidec-run' 'no man(1) here'
fi

MODULES_INIT=/usr/share/modules/init/sh
if [ -r "$MODULES_INIT" ]; then
	test_expect_success 'module use + module load nidec (Environment Modules): the prefix first on PATH' '
		PATH=/usr/bin:/bin && export PATH &&
		. "$MODULES_INIT" &&
		module use "$P/share/nidec/modulefiles" &&
		module load nidec &&
		test "$(command -v nidec)" = "$P/bin/nidec" &&
		test "$NIDEC_SHARE" = "$P/share/nidec" &&
		case ":$MANPATH:" in *":$P/share/man:"*) ;; *) exit 1 ;; esac &&
		module unload nidec &&
		! command -v nidec
	'
else
	test_skip 'module load nidec' "no Environment Modules ($MODULES_INIT)"
fi

test_expect_success 'make uninstall leaves no file in the prefix' '
	mk uninstall PREFIX="$P" &&
	test -z "$(find "$P" -type f)"
'

test_done
