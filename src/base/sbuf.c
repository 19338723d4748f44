/*
 * sbuf.c - growable NUL-terminated strings for messages, JSON, TSV and HTML.
 * See include/nidec/sbuf.h for the invariants.  Depends on libc only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nidec/err.h"
#include "nidec/mem.h"
#include "nidec/sbuf.h"

char nidec_sbuf_empty[1];

void nidec_sbuf_init(nidec_sbuf *sb)
{
	sb->buf = nidec_sbuf_empty;
	sb->len = 0;
	sb->alloc = 0;
}

int nidec_sbuf_grow(nidec_sbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1, cap;
	char *p;

	if (need < sb->len)
		return NIDEC_ENOMEM;
	if (need <= sb->alloc)
		return 0;
	cap = sb->alloc ? sb->alloc : 64;
	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	p = nidec_realloc(sb->alloc ? sb->buf : NULL, cap);
	if (!p)
		return NIDEC_ENOMEM;
	if (!sb->alloc)
		p[0] = '\0';
	sb->buf = p;
	sb->alloc = cap;
	return 0;
}

int nidec_sbuf_add(nidec_sbuf *sb, const void *data, size_t len)
{
	if (nidec_sbuf_grow(sb, len) < 0)
		return NIDEC_ENOMEM;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int nidec_sbuf_adds(nidec_sbuf *sb, const char *s)
{
	return nidec_sbuf_add(sb, s, strlen(s));
}

int nidec_sbuf_addf(nidec_sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NIDEC_EINTERNAL;
	if (nidec_sbuf_grow(sb, (size_t)n) < 0)
		return NIDEC_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

int nidec_sbuf_add_double(nidec_sbuf *sb, double v)
{
	char tmp[64];
	char *c;

	/* %.17g round-trips; LC_NUMERIC is never changed by nidec, but guard
	 * against a locale decimal comma anyway (the C standard allows one). */
	snprintf(tmp, sizeof(tmp), "%.17g", v);
	for (c = tmp; *c; c++)
		if (*c == ',')
			*c = '.';
	return nidec_sbuf_adds(sb, tmp);
}

void nidec_sbuf_reset(nidec_sbuf *sb)
{
	sb->len = 0;
	if (sb->alloc)
		sb->buf[0] = '\0';
}

void nidec_sbuf_release(nidec_sbuf *sb)
{
	if (sb->alloc)
		nidec_free(sb->buf);
	nidec_sbuf_init(sb);
}

char *nidec_sbuf_detach(nidec_sbuf *sb, size_t *len)
{
	char *s;

	if (len)
		*len = sb->len;
	if (!sb->alloc) {
		s = nidec_strdup("");
	} else {
		s = sb->buf;
	}
	nidec_sbuf_init(sb);
	return s;
}
