/*
 * mem.h - checked allocation, overflow-safe sizes and a fault hook.
 *
 * Every allocation of nidec goes through these functions so that
 *  - a failure becomes a NIDEC_ENOMEM error with a message (never a NULL
 *    dereference), and
 *  - tests can make the Nth allocation fail (NIDEC_FAIL_ALLOC=N in the
 *    environment, or nidec_mem_fail_at()) to prove that every error path
 *    frees everything (as SQLite's fault simulation does).
 *
 * The *_e variants record an error in `err` and return NULL; the plain ones
 * return NULL silently (for callers that report themselves).
 * nidec_free(NULL) is a no-op.
 */
#ifndef NIDEC_MEM_H
#define NIDEC_MEM_H

#include <stddef.h>
#include <stdint.h>
#include "nidec/err.h"

void *nidec_malloc(size_t size);
void *nidec_calloc(size_t n, size_t size);
void *nidec_realloc(void *p, size_t size);
char *nidec_strdup(const char *s);
void nidec_free(void *p);

/* Allocate n*size bytes (zeroed for calloc); on failure record "out of memory
 * allocating <what>" in err and return NULL.  n*size overflow is a failure. */
void *nidec_malloc_e(size_t n, size_t size, const char *what, nidec_err *err);
void *nidec_calloc_e(size_t n, size_t size, const char *what, nidec_err *err);
char *nidec_strdup_e(const char *s, nidec_err *err);

/* *out = a*b; returns 0, or -1 (and leaves *out) if it overflows size_t. */
int nidec_mul_size(size_t a, size_t b, size_t *out);

/* Fault injection: fail the nth allocation from now (1 = the next one);
 * 0 disables.  Reads NIDEC_FAIL_ALLOC once at the first allocation. */
void nidec_mem_fail_at(long nth);
/* Number of allocations that succeeded since start (for fault-loop tests). */
long nidec_mem_count(void);

/*
 * Keep freed memory for the next allocation (the program's main calls it
 * once, first): glibc serves blocks above 32 MiB with a fresh mmap and
 * gives them back at free, so a rank that allocates and frees one
 * training part's matrices per task pays the kernel's zeroing and page
 * faults again each time (issue 18's svr: 19 % of the CPU, the system
 * time).  Blocks up to 1 GiB come from the heap and up to 1 GiB of free
 * heap stays mapped; peak memory does not change.  The values in
 * GLIBC_TUNABLES (glibc.malloc.mmap_threshold, trim_threshold) win.
 */
void nidec_mem_keep_freed(void);

#endif
