/*
 * png.h - an RGBA canvas, a small bitmap font and a PNG writer (libpng).
 *
 * Invariants: a canvas is w x h pixels (both > 0), `px` holds w*h*4 bytes
 * (R, G, B, A per pixel, rows top to bottom); colours are 0xRRGGBBAA.
 * Drawing clips to the canvas: coordinates outside are ignored, never an
 * error.  Blending is "source over" in 8-bit sRGB, as a browser does.
 *
 * Lifecycle:
 *     nidec_canvas *c;
 *     nidec_canvas_create(640, 480, 0x000000ff, &c, &err);
 *     nidec_canvas_text(c, 10, 10, "z=12", 2, 0xffffffff);
 *     nidec_canvas_set_text(c, "Title", "mean EPI", &err);   tEXt chunk
 *     nidec_png_write(c, "out.png", &err);
 *     nidec_canvas_destroy(&c);                              NULL-safe
 *
 * The font is nidec's own 5x7 bitmap font (ASCII 32..126, with two rows of
 * descenders), drawn at an integer scale; characters outside that range are
 * drawn as '?'.  Not collective; no MPI; libc + libpng only.
 */
#ifndef NIDEC_PNG_H
#define NIDEC_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "nidec/err.h"

#define NIDEC_CANVAS_MAX_SIDE 16384 /* refuse larger canvases (libpng's own limit is higher) */
#define NIDEC_CANVAS_MAX_TEXT 16    /* tEXt chunks per canvas */

typedef struct nidec_canvas {
	int w, h;            /* size in pixels */
	unsigned char *px;   /* w*h*4 bytes, RGBA, top row first */
	size_t cap;          /* pixels px has room for (>= w*h) */
	void *mem;           /* the allocation px lies in (png.c) */
	size_t n_text;       /* tEXt chunks stored so far */
	char *text_key[NIDEC_CANVAS_MAX_TEXT];  /* keyword (1-79 Latin-1 characters) */
	char *text_val[NIDEC_CANVAS_MAX_TEXT];  /* value */
} nidec_canvas;

/* A new canvas filled with `rgba`.  Fails (NIDEC_EINPUT) for a side <= 0 or
 * > NIDEC_CANVAS_MAX_SIDE, or NIDEC_ENOMEM; *out is unchanged on failure. */
int nidec_canvas_create(int w, int h, uint32_t rgba, nidec_canvas **out, nidec_err *err);
/* Free the canvas and set *c = NULL; no-op on NULL. */
void nidec_canvas_destroy(nidec_canvas **c);
/* Make `c` a new w x h canvas filled with `rgba`, without text chunks,
 * reusing its pixel memory when it is large enough (memory mapped afresh
 * for every figure costs a page fault per 4 KiB, ~10 us each on a VM).
 * Fails as nidec_canvas_create; `c` is unchanged on failure. */
int nidec_canvas_reset(nidec_canvas *c, int w, int h, uint32_t rgba, nidec_err *err);

/* Store a tEXt chunk written with the PNG (copies both strings).  A key
 * already present is replaced. */
int nidec_canvas_set_text(nidec_canvas *c, const char *key, const char *value, nidec_err *err);

/* Blend one pixel (source over). */
void nidec_canvas_blend(nidec_canvas *c, int x, int y, uint32_t rgba);
/* Set one pixel (no blending). */
void nidec_canvas_put(nidec_canvas *c, int x, int y, uint32_t rgba);
/* Read one pixel (0 outside). */
uint32_t nidec_canvas_get(const nidec_canvas *c, int x, int y);
/* Blend a filled rectangle, and the 1-pixel outline of one. */
void nidec_canvas_fill_rect(nidec_canvas *c, int x, int y, int w, int h, uint32_t rgba);
void nidec_canvas_frame_rect(nidec_canvas *c, int x, int y, int w, int h, uint32_t rgba);

/* Text in nidec's bitmap font, top-left corner at (x, y), each font pixel
 * drawn as scale x scale pixels (scale >= 1).  Returns the width drawn. */
int nidec_canvas_text(nidec_canvas *c, int x, int y, const char *s, int scale, uint32_t rgba);
/* Width and height in pixels that nidec_canvas_text would cover (height
 * includes the descender rows). */
int nidec_text_width(const char *s, int scale);
int nidec_text_height(int scale);
/* Cap height (rows above the baseline) at this scale. */
int nidec_text_cap_height(int scale);

/* Write the canvas to `path` as an 8-bit RGBA PNG with its tEXt chunks:
 * written to "<path>.tmp.<pid>", flushed, closed, then renamed, so no half
 * file is left under `path`.  libpng errors are caught (setjmp) and become
 * NIDEC_EIO/NIDEC_EFORMAT with the path. */
int nidec_png_write(const nidec_canvas *c, const char *path, nidec_err *err);

/* Encode the canvas as PNG into a new buffer (*buf, *len; free with
 * nidec_free), for data: URIs in the report. */
int nidec_png_encode(const nidec_canvas *c, unsigned char **buf, size_t *len, nidec_err *err);

#endif
