/*
 * sbuf.h - a growable string (after git's strbuf and Redis' sds).
 *
 * Invariants: `buf` is never NULL after init (it points at a static "" until
 * something is added) and is always NUL-terminated; `len` excludes the NUL.
 * Initialise with NIDEC_SBUF_INIT.  nidec_sbuf_release() frees the memory
 * and leaves an empty, reusable buffer.  nidec_sbuf_detach() hands the
 * string to the caller (free it with nidec_free) and leaves the buffer empty.
 * Appending functions return 0 or NIDEC_ENOMEM (the buffer is then unchanged).
 */
#ifndef NIDEC_SBUF_H
#define NIDEC_SBUF_H

#include <stddef.h>

typedef struct nidec_sbuf {
	char *buf;    /* NUL-terminated contents */
	size_t len;   /* bytes used, without the NUL */
	size_t alloc; /* bytes allocated, 0 while buf points at the static "" */
} nidec_sbuf;

extern char nidec_sbuf_empty[];
#define NIDEC_SBUF_INIT { nidec_sbuf_empty, 0, 0 }

void nidec_sbuf_init(nidec_sbuf *sb);
int nidec_sbuf_grow(nidec_sbuf *sb, size_t extra);
int nidec_sbuf_add(nidec_sbuf *sb, const void *data, size_t len);
int nidec_sbuf_adds(nidec_sbuf *sb, const char *s);
int nidec_sbuf_addf(nidec_sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a double that reads back exactly ("%.17g", C locale, no locale commas). */
int nidec_sbuf_add_double(nidec_sbuf *sb, double v);
void nidec_sbuf_reset(nidec_sbuf *sb);
void nidec_sbuf_release(nidec_sbuf *sb);
char *nidec_sbuf_detach(nidec_sbuf *sb, size_t *len);

#endif
