/*
 * bigmem.h - 2 MiB pages under the core's big buffers (Gram matrices, the
 * solver's kernel block, standardised rows, solver rows).
 *
 * Why: a buffer's first touch costs one page fault per 4 KiB page, and on
 * virtual machines a fault is expensive: 10-45 us measured on the 2-vCPU
 * VM of bench/RESULTS.md (first touching 8 MiB: 28 ms in 4 KiB pages,
 * 0.6 ms in 2 MiB pages), and the core first touches ~15 MiB per rank in
 * step g.  Transparent huge pages serve memory marked with
 * madvise(MADV_HUGEPAGE) (Debian's default THP mode is "madvise").
 *
 *  - nidec_hint_huge(p, bytes) marks the pages of [p, p + bytes), before
 *    their first touch, for buffers of 2 MiB and more: every 2 MiB-aligned
 *    window inside then comes as one page.
 *  - nidec_alloc_huge(bytes, &mem, ...) allocates the 2 MiB windows the
 *    buffer spans plus 2 MiB of slack and returns a 2 MiB-aligned start, so
 *    that the buffer is in huge pages from its first byte (for buffers
 *    from a few hundred KiB up; the slack is address space, never
 *    touched); free `mem`.
 * Hints only: memory still comes from nidec_malloc (fault injection,
 * accounting, nidec_free), a refusal is ignored, nothing happens on other
 * systems, and no value changes.  (The pages at the edges of a heap buffer
 * may be shared with a neighbour: the hint changes no data, only how a page
 * that is not there yet will be provided.)  Private to src/core; libc.
 */
#ifndef NIDEC_BIGMEM_H
#define NIDEC_BIGMEM_H

#include <stddef.h>
#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "nidec/err.h"
#include "nidec/mem.h"

#define NIDEC_HUGE_MIN ((size_t)2 << 20)

/* madvise the whole pages of [a, e) */
static inline void nidec_advise_huge(uintptr_t a, uintptr_t e)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	a &= ~(uintptr_t)4095;
	e = (e + 4095) & ~(uintptr_t)4095;
	if (e > a)
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
	(void)a;
	(void)e;
#endif
}

static inline void nidec_hint_huge(void *p, size_t bytes)
{
	if (p && bytes >= NIDEC_HUGE_MIN)
		nidec_advise_huge((uintptr_t)p, (uintptr_t)p + bytes);
}

static inline void *nidec_alloc_huge(size_t bytes, void **mem, const char *what, nidec_err *err)
{
	const size_t H = NIDEC_HUGE_MIN;
	unsigned char *m;
	uintptr_t a;

	size_t span;

	/* the whole windows the buffer spans, plus the slack to align them */
	if (bytes > SIZE_MAX - 2 * H) {
		nidec_fail(err, NIDEC_ENOMEM, "size of %s overflows (%zu bytes)", what, bytes);
		return NULL;
	}
	span = (bytes + H - 1) & ~(H - 1);
	m = nidec_malloc_e(span + H, 1, what, err);
	if (!m)
		return NULL;
	a = ((uintptr_t)m + H - 1) & ~(uintptr_t)(H - 1);
	nidec_advise_huge(a, a + span);
	*mem = m;
	return (void *)a;
}

#endif
