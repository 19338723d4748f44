/*
 * png.c - the RGBA canvas of nidec's figures and its PNG encoder.
 *
 * A canvas is a plain w x h RGBA byte array with a few tEXt chunks; the
 * plots (plot.c) draw into it, the font (font.c) writes on it, and this
 * file turns it into PNG bytes with libpng, either into a file (for
 * `nidec plot`) or into memory (for the data: URIs of report.html).
 *
 * Errors: libpng reports errors by calling a handler that must not return;
 * ours records the message and longjmp()s back to the setjmp() in
 * encode(), which frees everything and returns NIDEC_EFORMAT.  Variables
 * changed between setjmp() and a possible longjmp() are volatile.
 *
 * Files are written as the rest of nidec writes them: through a stream on
 * a temporary of the file layer (file.h), checked (fflush, ferror, fsync,
 * fclose) and renamed by its commit, so a reader never sees a
 * half-written PNG under the final name.  No MPI; libc + libpng only.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "nidec/file.h"
#include "nidec/mem.h"
#include "nidec/png.h"
#include "nidec/sbuf.h"

static int check_size(int w, int h, nidec_err *err)
{
	if (w <= 0 || h <= 0 || w > NIDEC_CANVAS_MAX_SIDE || h > NIDEC_CANVAS_MAX_SIDE)
		return nidec_fail(err, NIDEC_EINPUT,
				  "figure of %d x %d pixels is out of range (1 to %d per side); "
				  "use fewer cuts", w, h, NIDEC_CANVAS_MAX_SIDE);
	return 0;
}

/*
 * Pixel memory for n pixels: in 2 MiB-aligned windows marked for
 * transparent huge pages, so that a figure costs one page fault instead of
 * one per 4 KiB (350 for a 760 x 470 figure; a fault costs 10-45 us on the
 * VMs we measured: ~5 ms a figure, against ~0.2 ms).  Over-allocates 2 MiB
 * of address space (never touched) to align the windows; a hint only (no
 * effect where THP is off; src/core/bigmem.h does the same for the core).
 */
#define HUGE_PAGE ((size_t)2 << 20)

static int pixels_alloc(size_t n, void **mem, unsigned char **px, nidec_err *err)
{
	size_t bytes, span;
	unsigned char *m;
	uintptr_t a;

	/* the whole 2 MiB windows the pixels span, plus the slack to align them */
	if (nidec_mul_size(n, 4, &bytes) < 0 || bytes > SIZE_MAX - 2 * HUGE_PAGE)
		return nidec_fail(err, NIDEC_ENOMEM, "the pixels of a figure overflow");
	span = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	m = nidec_malloc_e(span + HUGE_PAGE, 1, "the pixels of a figure", err);
	if (!m)
		return NIDEC_ENOMEM;
	a = ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	(void)madvise((void *)a, span, MADV_HUGEPAGE);
#endif
	*mem = m;
	*px = (unsigned char *)a;
	return 0;
}

static void fill(nidec_canvas *c, uint32_t rgba)
{
	size_t n = (size_t)c->w * (size_t)c->h, i;

	c->px[0] = (unsigned char)(rgba >> 24);
	c->px[1] = (unsigned char)(rgba >> 16);
	c->px[2] = (unsigned char)(rgba >> 8);
	c->px[3] = (unsigned char)rgba;
	/* copy the pixels filled so far after themselves: log2(n) memcpy */
	for (i = 1; i < n; i *= 2)
		memcpy(c->px + 4 * i, c->px, 4 * (i < n - i ? i : n - i));
}

int nidec_canvas_create(int w, int h, uint32_t rgba, nidec_canvas **out, nidec_err *err)
{
	nidec_canvas *c;
	size_t n;

	NIDEC_TRY(check_size(w, h, err));
	c = nidec_calloc_e(1, sizeof(*c), "a canvas", err);
	if (!c)
		return NIDEC_ENOMEM;
	n = (size_t)w * (size_t)h;
	if (pixels_alloc(n, &c->mem, &c->px, err) < 0) {
		nidec_free(c);
		return NIDEC_ENOMEM;
	}
	c->w = w;
	c->h = h;
	c->cap = n;
	fill(c, rgba);
	*out = c;
	return 0;
}

int nidec_canvas_reset(nidec_canvas *c, int w, int h, uint32_t rgba, nidec_err *err)
{
	size_t n, i;

	NIDEC_TRY(check_size(w, h, err));
	n = (size_t)w * (size_t)h;
	if (n > c->cap) {
		void *mem;
		unsigned char *px;
		if (pixels_alloc(n, &mem, &px, err) < 0)
			return NIDEC_ENOMEM;
		nidec_free(c->mem);
		c->mem = mem;
		c->px = px;
		c->cap = n;
	}
	for (i = 0; i < c->n_text; i++) {
		nidec_free(c->text_key[i]);
		nidec_free(c->text_val[i]);
		c->text_key[i] = c->text_val[i] = NULL;
	}
	c->n_text = 0;
	c->w = w;
	c->h = h;
	fill(c, rgba);
	return 0;
}

void nidec_canvas_destroy(nidec_canvas **c)
{
	size_t i;

	if (!c || !*c)
		return;
	for (i = 0; i < (*c)->n_text; i++) {
		nidec_free((*c)->text_key[i]);
		nidec_free((*c)->text_val[i]);
	}
	nidec_free((*c)->mem);
	nidec_free(*c);
	*c = NULL;
}

int nidec_canvas_set_text(nidec_canvas *c, const char *key, const char *value, nidec_err *err)
{
	size_t i, klen = strlen(key);
	char *k, *v;

	if (klen < 1 || klen > 79)
		return nidec_fail(err, NIDEC_EINTERNAL, "PNG text key '%s' must have 1 to 79 characters", key);
	for (i = 0; i < c->n_text; i++)
		if (!strcmp(c->text_key[i], key))
			break;
	if (i == NIDEC_CANVAS_MAX_TEXT)
		return nidec_fail(err, NIDEC_EINTERNAL, "more than %d PNG text chunks", NIDEC_CANVAS_MAX_TEXT);
	v = nidec_strdup_e(value, err);
	if (!v)
		return NIDEC_ENOMEM;
	if (i < c->n_text) {
		nidec_free(c->text_val[i]);
		c->text_val[i] = v;
		return 0;
	}
	k = nidec_strdup_e(key, err);
	if (!k) {
		nidec_free(v);
		return NIDEC_ENOMEM;
	}
	c->text_key[i] = k;
	c->text_val[i] = v;
	c->n_text++;
	return 0;
}

void nidec_canvas_put(nidec_canvas *c, int x, int y, uint32_t rgba)
{
	unsigned char *p;

	if (x < 0 || y < 0 || x >= c->w || y >= c->h)
		return;
	p = c->px + 4 * ((size_t)y * (size_t)c->w + (size_t)x);
	p[0] = (unsigned char)(rgba >> 24);
	p[1] = (unsigned char)(rgba >> 16);
	p[2] = (unsigned char)(rgba >> 8);
	p[3] = (unsigned char)rgba;
}

uint32_t nidec_canvas_get(const nidec_canvas *c, int x, int y)
{
	const unsigned char *p;

	if (x < 0 || y < 0 || x >= c->w || y >= c->h)
		return 0;
	p = c->px + 4 * ((size_t)y * (size_t)c->w + (size_t)x);
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void nidec_canvas_blend(nidec_canvas *c, int x, int y, uint32_t rgba)
{
	unsigned char *p;
	unsigned sa = rgba & 0xff, da, oa, k;

	if (x < 0 || y < 0 || x >= c->w || y >= c->h || sa == 0)
		return;
	if (sa == 255) {
		nidec_canvas_put(c, x, y, rgba);
		return;
	}
	p = c->px + 4 * ((size_t)y * (size_t)c->w + (size_t)x);
	da = p[3];
	/* out_a = sa + da (1 - sa); colours weighted by their alphas */
	oa = sa * 255 + da * (255 - sa);   /* scaled by 255 */
	if (oa == 0)
		return;
	for (k = 0; k < 3; k++) {
		unsigned sc = (rgba >> (24 - 8 * k)) & 0xff;
		unsigned long num = (unsigned long)sc * sa * 255 + (unsigned long)p[k] * da * (255 - sa);
		p[k] = (unsigned char)((num + oa / 2) / oa);
	}
	p[3] = (unsigned char)((oa + 127) / 255);
}

void nidec_canvas_fill_rect(nidec_canvas *c, int x, int y, int w, int h, uint32_t rgba)
{
	int i, j;

	for (j = y < 0 ? 0 : y; j < y + h && j < c->h; j++)
		for (i = x < 0 ? 0 : x; i < x + w && i < c->w; i++)
			nidec_canvas_blend(c, i, j, rgba);
}

void nidec_canvas_frame_rect(nidec_canvas *c, int x, int y, int w, int h, uint32_t rgba)
{
	if (w <= 0 || h <= 0)
		return;
	nidec_canvas_fill_rect(c, x, y, w, 1, rgba);
	if (h > 1)
		nidec_canvas_fill_rect(c, x, y + h - 1, w, 1, rgba);
	nidec_canvas_fill_rect(c, x, y + 1, 1, h - 2, rgba);
	if (w > 1)
		nidec_canvas_fill_rect(c, x + w - 1, y + 1, 1, h - 2, rgba);
}

/* --- PNG encoding ------------------------------------------------------ */

struct sink {
	FILE *f;            /* file sink, or NULL */
	nidec_sbuf mem;     /* memory sink */
	int mem_failed;     /* an append to `mem` ran out of memory */
	char msg[256];      /* libpng's error message */
};

static void on_png_error(png_structp png, png_const_charp msg)
{
	struct sink *s = png_get_error_ptr(png);

	snprintf(s->msg, sizeof(s->msg), "%s", msg ? msg : "libpng error");
	png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg; /* warnings (e.g. about text chunks) change nothing we write */
}

static void on_png_write(png_structp png, png_bytep data, size_t len)
{
	struct sink *s = png_get_io_ptr(png);

	if (nidec_sbuf_add(&s->mem, data, len) < 0) {
		s->mem_failed = 1;
		png_error(png, "out of memory");
	}
}

static void on_png_flush(png_structp png)
{
	(void)png;
}

/* Encode `c` into s->f (if set) or s->mem.  Returns 0 or a negative code
 * with s->msg set; frees every libpng structure in both cases. */
static int encode(const nidec_canvas *c, struct sink *s)
{
	png_structp png;
	png_infop info = NULL;
	png_bytep *volatile rows = NULL;
	png_text *volatile texts = NULL;
	volatile int rc = 0;
	int y;
	size_t i;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, on_png_error, on_png_warning);
	if (!png) {
		snprintf(s->msg, sizeof(s->msg), "cannot start libpng (out of memory?)");
		return NIDEC_ENOMEM;
	}
	info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		snprintf(s->msg, sizeof(s->msg), "cannot start libpng (out of memory?)");
		return NIDEC_ENOMEM;
	}
	rows = nidec_malloc((size_t)c->h * sizeof(*rows));
	texts = nidec_calloc(c->n_text ? c->n_text : 1, sizeof(png_text));
	if (!rows || !texts) {
		snprintf(s->msg, sizeof(s->msg), "out of memory");
		rc = NIDEC_ENOMEM;
		goto done;
	}
	if (setjmp(png_jmpbuf(png))) {
		rc = s->mem_failed ? NIDEC_ENOMEM : NIDEC_EFORMAT;
		goto done;
	}
	if (s->f)
		png_init_io(png, s->f);
	else
		png_set_write_fn(png, s, on_png_write, on_png_flush);
	png_set_IHDR(png, info, (png_uint_32)c->w, (png_uint_32)c->h, 8, PNG_COLOR_TYPE_RGB_ALPHA,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	for (i = 0; i < c->n_text; i++) {
		texts[i].compression = PNG_TEXT_COMPRESSION_NONE;
		texts[i].key = c->text_key[i];
		texts[i].text = c->text_val[i];
		texts[i].text_length = strlen(c->text_val[i]);
	}
	if (c->n_text)
		png_set_text(png, info, texts, (int)c->n_text);
	/* Speed over size: the report encodes six to twenty figures on rank 0
	 * at the end of every run.  The panels are blocks of one colour per
	 * voxel, so most rows repeat the row above and the "up" filter turns
	 * them into zeros; with zlib's fastest level the figures of the Haxby
	 * report take 4x less time than with libpng's adaptive filter choice
	 * (which tries every filter on every row) at level 6, for twice the
	 * bytes (38 against 19 kB for three figures). */
	png_set_filter(png, 0, PNG_FILTER_UP);
	png_set_compression_level(png, 1);
	for (y = 0; y < c->h; y++)
		rows[y] = c->px + 4 * (size_t)y * (size_t)c->w;
	png_set_rows(png, info, rows);
	png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
done:
	png_destroy_write_struct(&png, &info);
	nidec_free(rows);
	nidec_free(texts);
	return rc;
}

int nidec_png_encode(const nidec_canvas *c, unsigned char **buf, size_t *len, nidec_err *err)
{
	struct sink s;
	int rc;

	memset(&s, 0, sizeof(s));
	nidec_sbuf_init(&s.mem);
	rc = encode(c, &s);
	if (rc < 0) {
		nidec_sbuf_release(&s.mem);
		return nidec_fail(err, rc, "cannot encode a PNG figure: %s", s.msg);
	}
	*buf = (unsigned char *)nidec_sbuf_detach(&s.mem, len);
	return 0;
}

int nidec_png_write(const nidec_canvas *c, const char *path, nidec_err *err)
{
	nidec_tempfile *t = NULL;
	struct sink s;
	int rc;

	memset(&s, 0, sizeof(s));
	nidec_sbuf_init(&s.mem);
	NIDEC_TRY(nidec_tempfile_create(path, 0, &t, err));
	s.f = nidec_tempfile_fdopen(t, "wb", err);
	if (!s.f) {
		nidec_tempfile_abort(&t);
		return err && err->code ? err->code : NIDEC_EIO;
	}
	rc = encode(c, &s);
	if (rc < 0) {
		nidec_tempfile_abort(&t);
		return nidec_fail(err, rc, "cannot write '%s': %s", path, s.msg);
	}
	/* the stream is flushed, checked and synced by the commit */
	return nidec_tempfile_commit(&t, err);
}
