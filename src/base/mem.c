/*
 * mem.c - the one allocator of nidec, with a fault hook for tests.
 *
 * Fault simulation (after SQLite's src/fault.c): when a countdown is armed,
 * the allocation that brings it to zero fails as if the system were out of
 * memory.  A unit test loops N = 1..K over a loader and checks, under ASan or
 * valgrind, that every error path frees everything.  The countdown is armed
 * by nidec_mem_fail_at() or, for whole-program tests, by the environment
 * variable NIDEC_FAIL_ALLOC=N, read at the first allocation.
 * Depends on libc only.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nidec/mem.h"

static long fail_countdown = -1; /* -1: not read from the environment yet */
static long n_allocs;

void nidec_mem_fail_at(long nth)
{
	fail_countdown = nth > 0 ? nth : 0;
}

long nidec_mem_count(void)
{
	return n_allocs;
}

/* True if this allocation must fail (fault injection). */
static int should_fail(void)
{
	if (fail_countdown < 0) {
		const char *s = getenv("NIDEC_FAIL_ALLOC");
		fail_countdown = s ? strtol(s, NULL, 10) : 0;
		if (fail_countdown < 0)
			fail_countdown = 0;
	}
	if (fail_countdown == 0)
		return 0;
	if (--fail_countdown == 0)
		return 1;
	return 0;
}

void *nidec_malloc(size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = malloc(size ? size : 1);
	if (p)
		n_allocs++;
	return p;
}

void *nidec_calloc(size_t n, size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = calloc(n ? n : 1, size ? size : 1);
	if (p)
		n_allocs++;
	return p;
}

void *nidec_realloc(void *old, size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = realloc(old, size ? size : 1);
	if (p && !old)
		n_allocs++;
	return p;
}

char *nidec_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = nidec_malloc(n);

	if (p)
		memcpy(p, s, n);
	return p;
}

void nidec_free(void *p)
{
	free(p);
}

int nidec_mul_size(size_t a, size_t b, size_t *out)
{
	if (a && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}

static void *alloc_e(size_t n, size_t size, int zero, const char *what, nidec_err *err)
{
	size_t bytes;
	void *p;

	if (nidec_mul_size(n, size, &bytes) < 0) {
		nidec_fail(err, NIDEC_ENOMEM, "size of %s overflows (%zu x %zu bytes)",
			   what, n, size);
		return NULL;
	}
	p = zero ? nidec_calloc(n, size) : nidec_malloc(bytes);
	if (!p)
		nidec_fail(err, NIDEC_ENOMEM, "out of memory allocating %s (%zu bytes)",
			   what, bytes);
	return p;
}

void *nidec_malloc_e(size_t n, size_t size, const char *what, nidec_err *err)
{
	return alloc_e(n, size, 0, what, err);
}

void *nidec_calloc_e(size_t n, size_t size, const char *what, nidec_err *err)
{
	return alloc_e(n, size, 1, what, err);
}

char *nidec_strdup_e(const char *s, nidec_err *err)
{
	char *p = nidec_strdup(s);

	if (!p)
		nidec_fail(err, NIDEC_ENOMEM, "out of memory copying a string");
	return p;
}

void nidec_mem_keep_freed(void)
{
	const char *t = getenv("GLIBC_TUNABLES");

	if (t && (strstr(t, "malloc.mmap_threshold") || strstr(t, "malloc.trim_threshold")))
		return;
	/* mallopt's failure only leaves glibc's defaults: nothing to report */
	(void)mallopt(M_MMAP_THRESHOLD, 1 << 30);
	(void)mallopt(M_TRIM_THRESHOLD, 1 << 30);
}
