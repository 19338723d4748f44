/*
 * clones.h - NIDEC_CLONES: compile a hot loop for AVX-512, AVX2 and the
 * baseline ISA and pick one at run time (GCC target_clones, x86-64 only).
 * Only for loops whose result does not depend on the vector width: the
 * build does not contract a*b+c into FMA (ISO C mode), elementwise
 * operations and divisions are correctly rounded at any width, and sums
 * are written out in a fixed order.  So every clone returns the same bits
 * and ranks on different CPUs agree.  Private to src/core.
 */
#ifndef NIDEC_CLONES_H
#define NIDEC_CLONES_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8 && \
	!defined(__SANITIZE_ADDRESS__)
/* (not under ASan: its runtime and ifunc resolvers do not mix) */
#define NIDEC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NIDEC_CLONES
#endif

#endif
