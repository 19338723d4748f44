# nidec - one plain Makefile (no autotools).
#
#   make            build build/nidec
#   make deps       install the Debian packages nidec needs (apt-get, as root; idempotent)
#   make demo       deps + build + the Haxby face-vs-cat job on the bundled data, 2 ranks
#   make check      deps + build + every test (unit, MPI, end-to-end, oracles)
#   make check-deps grep for layering violations (mpi.h, hdf5.h, linear.h outside their modules)
#   make check-cluster  the multi-node tests (tests/cluster: Slurm on 3 nodes in network namespaces)
#   make man        the manual pages, build/man/nidec.1 and nidec-<command>.1 (from the option tables)
#   make install PREFIX=/usr/local DESTDIR=   the binary, the manual pages, and under
#                   PREFIX/share/nidec the job scripts, configs, the bundled data and a
#                   modulefile (Environment Modules / Lmod); make uninstall removes them
#   make valgrind   unit tests and a few end-to-end runs under valgrind memcheck
#   make bench      issue 9's workloads 1-4 and their floors, one table of ratios (bench/README.md)
#   make bench-all  every benchmark script of bench/ (convert, clean, cv, perf, permutations, workloads)
#   make SANITIZE=address,undefined check    the same tests with sanitizers
#                                             (use its own BUILD=build-asan;
#                                             NIDEC_LSAN_SCRIPTS=t5 limits LeakSanitizer
#                                             to those scripts, tests/lib.sh)
#   make fuzz / make fuzz-ci                  libFuzzer targets (tests/fuzz/README.md)
#   make DEVELOPER=1                          adds -Werror
#
# On a cluster, override the flags of libraries without a .pc file:
#   make NIFTI_CFLAGS=-I/opt/nifti/include NIFTI_LIBS="-L/opt/nifti/lib -lnifti2 -lznz -lz -lm"
# and HDF5_CFLAGS / HDF5_LIBS (what `h5pcc -show` prints).

CC ?= mpicc
ifeq ($(origin CC),default)
CC = mpicc
endif
PLAIN_CC ?= cc
PKG_CONFIG ?= pkg-config

HDF5_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags hdf5-openmpi 2>/dev/null)
HDF5_LIBS ?= $(shell $(PKG_CONFIG) --libs hdf5-openmpi 2>/dev/null)
NIFTI_CFLAGS ?= -I/usr/include/nifti
NIFTI_LIBS ?= -lnifti2 -lznz -lz -lm
LINEAR_LIBS ?= -llinear
SVM_LIBS ?= -lsvm
LAPACK_LIBS ?= -llapacke -llapack
INIH_LIBS ?= $(shell $(PKG_CONFIG) --libs inih 2>/dev/null || echo -linih)
JANSSON_LIBS ?= $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)
CRYPTO_LIBS ?= $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
PNG_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libpng 2>/dev/null)
PNG_LIBS ?= $(shell $(PKG_CONFIG) --libs libpng 2>/dev/null || echo -lpng16)
CMOCKA_LIBS ?= $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

GIT_VERSION := $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)
VERSION := 0.1.0

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla -Wformat=2
# CFLAGS and LDFLAGS are the user's (`make CFLAGS=-O0` replaces them);
# what nidec needs goes into ALL_CFLAGS / ALL_LDFLAGS, as git does.
CFLAGS ?= -O2 -g
LDFLAGS ?=
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -MMD -MP -Iinclude $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS)
ifdef DEVELOPER
ALL_CFLAGS += -Werror
endif
ifdef SANITIZE
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

BUILD := build
BASE_SRC := $(sort $(wildcard src/base/*.c))
CORE_SRC := $(sort $(wildcard src/core/*.c))
IO_SRC := $(sort $(wildcard src/io/*.c))
PAR_SRC := $(sort $(wildcard src/par/*.c))
REPORT_SRC := $(sort $(wildcard src/report/*.c))
JOB_SRC := $(sort $(wildcard src/job/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
ALL_SRC := $(BASE_SRC) $(CORE_SRC) $(IO_SRC) $(PAR_SRC) $(REPORT_SRC) $(JOB_SRC) $(CLI_SRC)
obj = $(patsubst src/%.c,$(BUILD)/%.o,$(1))

LIBS = $(HDF5_LIBS) $(NIFTI_LIBS) $(LINEAR_LIBS) $(SVM_LIBS) $(LAPACK_LIBS) $(INIH_LIBS) $(JANSSON_LIBS) \
       $(CRYPTO_LIBS) $(PNG_LIBS) -lm

# Unit tests: tests/unit/test_<module>.c.  base/core tests link with a plain
# cc and no MPI (proof that the numerical core needs none); io tests link
# with the I/O libraries.
UNIT_PLAIN := $(sort $(wildcard tests/unit/test_base_*.c tests/unit/test_core_*.c))
UNIT_IO := $(sort $(wildcard tests/unit/test_io_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_PLAIN) $(UNIT_IO))

# mpirun as root in containers and CI, more ranks than cores in tests.
export OMPI_ALLOW_RUN_AS_ROOT = 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = 1
export OMPI_MCA_rmaps_base_oversubscribe = 1
export OMPI_MCA_btl_vader_single_copy_mechanism = none

DEBIAN_PACKAGES := build-essential pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev \
	hdf5-tools libnifti2-dev liblinear-dev libsvm-dev liblapacke-dev libinih-dev libjansson-dev libssl-dev libpng-dev \
	zlib1g-dev libcmocka-dev valgrind python3 python3-numpy python3-scipy python3-sklearn \
	python3-nibabel python3-h5py python3-pil chromium chromium-driver \
	clang libclang-rt-14-dev man-db environment-modules

.PHONY: all deps demo check check-unit check-mpi e2e check-deps check-cluster valgrind bench bench-all clean \
	man install uninstall

all: $(BUILD)/nidec

$(BUILD)/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HDF5_CFLAGS) $(NIFTI_CFLAGS) $(PNG_CFLAGS) -c $< -o $@

# Signal cleaning loops over blocks of voxels, element by element (no
# reassociation): let the compiler vectorize them (src/core/clean.c).
$(BUILD)/core/clean.o: ALL_CFLAGS += -ftree-vectorize

$(BUILD)/nidec: $(call obj,$(ALL_SRC))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# version.c embeds the version (git describe, in every output's
# provenance): rebuild it whenever that changes, not only when it does.
VERSION_STAMP := $(BUILD)/.version
$(VERSION_STAMP): FORCE
	@mkdir -p $(BUILD); echo '$(VERSION) ($(GIT_VERSION))' >$@.new; \
	if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi
$(BUILD)/base/version.o: $(VERSION_STAMP)
$(BUILD)/base/version.o: ALL_CFLAGS += -DNIDEC_VERSION='"$(VERSION) ($(GIT_VERSION))"'
.PHONY: FORCE
FORCE:

$(BUILD)/tests/test_base_%: tests/unit/test_base_%.c $(call obj,$(BASE_SRC))
	@mkdir -p $(dir $@)
	$(PLAIN_CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(ALL_LDFLAGS) $(INIH_LIBS) $(CMOCKA_LIBS) -lm
$(BUILD)/tests/test_core_%: tests/unit/test_core_%.c $(call obj,$(CORE_SRC) $(BASE_SRC))
	@mkdir -p $(dir $@)
	$(PLAIN_CC) $(ALL_CFLAGS) -o $@ $(filter %.c %.o,$^) $(ALL_LDFLAGS) $(LINEAR_LIBS) $(SVM_LIBS) $(LAPACK_LIBS) $(INIH_LIBS) $(CMOCKA_LIBS) -lm
$(BUILD)/tests/test_io_%: tests/unit/test_io_%.c $(call obj,$(IO_SRC) $(CORE_SRC) $(BASE_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(HDF5_CFLAGS) $(NIFTI_CFLAGS) -o $@ $(filter %.c %.o,$^) $(ALL_LDFLAGS) $(LIBS) $(CMOCKA_LIBS)

# Install what is missing (needs root; uses sudo when available).
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "deps: run as root: apt-get install$$missing" >&2; exit 1; fi; \
	$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing \
	  || { $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; }

DEMO_RANKS ?= 2
demo: deps
	$(MAKE) all
	mpirun -n $(DEMO_RANKS) $(BUILD)/nidec run configs/haxby-slice.ini

check: deps
	$(MAKE) all
	$(MAKE) check-run

# The test suite proper (without deps), as .ci/run and `make check` call it.
check-run: $(BUILD)/nidec $(UNIT_BINS)
	@NIDEC=$(CURDIR)/$(BUILD)/nidec UNIT_BINS="$(UNIT_BINS)" sh tests/run.sh

check-unit: $(UNIT_BINS)
	@NIDEC=$(CURDIR)/$(BUILD)/nidec UNIT_BINS="$(UNIT_BINS)" sh tests/run.sh unit

check-mpi e2e: $(BUILD)/nidec
	@NIDEC=$(CURDIR)/$(BUILD)/nidec sh tests/run.sh e2e

check-deps:
	@sh tests/check-deps.sh

# Slurm on three nodes made of network namespaces (root; skipped with the
# reason where namespaces cannot be made): a few minutes, run on its own.
check-cluster: $(BUILD)/nidec
	@NIDEC=$(CURDIR)/$(BUILD)/nidec sh tests/run.sh cluster

# The manual pages, written by nidec itself from each command's option
# table and help texts (nidec help --man [CMD]); the commands are those of
# `nidec --help`.
MAN_DIR := $(BUILD)/man
man: $(BUILD)/nidec
	@mkdir -p $(MAN_DIR)
	@set -e; cmds=$$($(BUILD)/nidec --help | sed -n '/^commands:/,/^$$/s/^  \([a-z]*\) .*/\1/p'); \
	test -n "$$cmds"; \
	$(BUILD)/nidec help --man >$(MAN_DIR)/nidec.1.tmp; mv $(MAN_DIR)/nidec.1.tmp $(MAN_DIR)/nidec.1; \
	for c in $$cmds; do \
	  $(BUILD)/nidec help --man $$c >$(MAN_DIR)/nidec-$$c.1.tmp; mv $(MAN_DIR)/nidec-$$c.1.tmp $(MAN_DIR)/nidec-$$c.1; \
	done; echo "man: $(MAN_DIR)/nidec.1 and nidec-{$$(echo $$cmds | tr ' ' ,)}.1"

# make install PREFIX=... DESTDIR=...: everything under $(DESTDIR)$(PREFIX);
# PREFIX is also what the modulefile names (DESTDIR is only for staging).
PREFIX ?= /usr/local
INSTALL ?= install
BINDIR = $(PREFIX)/bin
MAN1DIR = $(PREFIX)/share/man/man1
SHAREDIR = $(PREFIX)/share/nidec
install: $(BUILD)/nidec man
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MAN1DIR) $(DESTDIR)$(SHAREDIR)/jobs \
		$(DESTDIR)$(SHAREDIR)/configs $(DESTDIR)$(SHAREDIR)/modulefiles/nidec
	$(INSTALL) -m 0755 $(BUILD)/nidec $(DESTDIR)$(BINDIR)/nidec
	$(INSTALL) -m 0644 $(MAN_DIR)/*.1 $(DESTDIR)$(MAN1DIR)/
	$(INSTALL) -m 0755 jobs/*.sbatch $(DESTDIR)$(SHAREDIR)/jobs/
	$(INSTALL) -m 0644 configs/*.ini $(DESTDIR)$(SHAREDIR)/configs/
	@set -e; for d in $$(cd data && find . -type d | sort); do $(INSTALL) -d "$(DESTDIR)$(SHAREDIR)/data/$$d"; done; \
	for f in $$(cd data && find . -type f | sort); do $(INSTALL) -m 0644 "data/$$f" "$(DESTDIR)$(SHAREDIR)/data/$$f"; done
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' modulefiles/nidec.in \
		>$(DESTDIR)$(SHAREDIR)/modulefiles/nidec/$(VERSION)
	@echo "installed nidec $(VERSION) in $(DESTDIR)$(PREFIX): module use $(SHAREDIR)/modulefiles; module load nidec"

# Removes what install put there (the nidec*.1 pages, share/nidec), not
# the directories it may share with other software.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nidec $(DESTDIR)$(MAN1DIR)/nidec.1 $(DESTDIR)$(MAN1DIR)/nidec-*.1
	rm -rf $(DESTDIR)$(SHAREDIR)

valgrind: $(BUILD)/nidec $(UNIT_BINS)
	@NIDEC=$(CURDIR)/$(BUILD)/nidec UNIT_BINS="$(UNIT_BINS)" sh tests/valgrind.sh

bench: $(BUILD)/nidec
	@NIDEC=$(CURDIR)/$(BUILD)/nidec sh bench/workloads.sh

bench-all: $(BUILD)/nidec
	@NIDEC=$(CURDIR)/$(BUILD)/nidec sh bench/run.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Fuzzing (tests/fuzz/README.md): libFuzzer targets for the NIfTI, labels/events
# and config readers, built with clang, ASan and UBSan from the reader sources.
# Each runs FUZZ_SECONDS; its corpus grows in $(FUZZ_DIR)/corpus/<target> from
# the committed seeds in tests/fuzz/seeds/<target>; crashes land in
# $(FUZZ_DIR)/crashes/<target>/.  Needs clang's libFuzzer (libclang-rt-14-dev).
# ASan's quarantine is cut to 16 MiB (twice the executions per second).
#   make fuzz FUZZ_SECONDS=600      make fuzz-ci (20 s each, for CI)
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_OPTS ?=
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_FLAGS = -g -O1 -std=c11 -D_GNU_SOURCE -Iinclude $(NIFTI_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_TARGETS := nifti_header labels config
FUZZ_READERS := $(BASE_SRC) src/io/nii.c src/io/events.c src/io/table.c src/io/lines.c

.PHONY: fuzz fuzz-ci fuzz-build
fuzz-build: $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_READERS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_READERS) $(NIFTI_LIBS) $(INIH_LIBS) -lm

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes/$$t; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=$${ASAN_OPTIONS:-quarantine_size_mb=16} \
	  $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/crashes/$$t/ $$dict $(FUZZ_OPTS) \
	    $(FUZZ_DIR)/corpus/$$t tests/fuzz/seeds/$$t 2>$(FUZZ_DIR)/$$t.log; \
	  rc=$$?; grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(FUZZ_DIR)/$$t.log; \
	  if [ $$rc != 0 ]; then tail -n 60 $(FUZZ_DIR)/$$t.log; echo "fuzz: $$t FAILED (log: $(FUZZ_DIR)/$$t.log)"; exit 1; fi; \
	done

fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20
