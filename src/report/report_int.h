/*
 * report_int.h - what the pages of report.html share, private to
 * src/report (implemented in report_common.c).  Three pages are written
 * from result files: the decoder's (report.c, `nidec run` / `nidec cv`),
 * the searchlight's (report_searchlight.c, `nidec searchlight`) and a
 * sweep's group page (report_group.c, `nidec sweep`).  They share:
 *
 *  - struct report: the page being written (one nidec_sbuf; `oom` set when
 *    an append failed, then the caller discards the page) and what could be
 *    read of a results directory (summary.json, the TSV tables, the
 *    dataset, the mean EPI and the mask), each with the reason it could
 *    not be read;
 *  - the loaders (nidec_rep_load_*): each fills its part or records why
 *    not and logs a warning; none fails the page (report.h: every section
 *    degrades on its own);
 *  - the figure helpers (a canvas reused from figure to figure, PNG data:
 *    URIs);
 *  - the sections every page ends with (dataset, mean EPI and mask, inputs
 *    and provenance, timings, appendix), the head with the CSS and the
 *    Content-Security-Policy, and the footer.
 *
 * Lifecycle:
 *     struct report r;
 *     nidec_rep_init(&r, dir);
 *     nidec_rep_load_summary(&r); ...            what the page needs
 *     nidec_rep_page_begin(&r, "Decoding report", "Results directory", version);
 *     ...sections...
 *     nidec_rep_page_end(&r);
 *     nidec_rep_save(&r, out_path, &err);        fails on r.oom too
 *     nidec_rep_release(&r);                     always; NULL-safe parts
 * Not collective; no MPI.
 */
#ifndef NIDEC_REPORT_INT_H
#define NIDEC_REPORT_INT_H

#include <stddef.h>

#include <jansson.h>

#include "nidec/dataset.h"
#include "nidec/err.h"
#include "nidec/plot.h"
#include "nidec/png.h"
#include "nidec/resultdir.h"
#include "nidec/sbuf.h"
#include "svg.h"

struct report {
	const char *dir;
	const char *dir_what;      /* "results directory" (the appendix's heading) */
	nidec_sbuf h;              /* the page */
	int oom;                   /* an append failed: the page is incomplete */

	json_t *summary;           /* summary.json, or NULL */
	char summary_why[512];     /* why not */
	const char *config;        /* summary.json "config" (INI text), borrowed */

	nidec_result_table scores, grid, preds;
	int have_scores, have_grid, have_preds;
	char scores_why[512], grid_why[512], preds_why[512];

	nidec_dataset *ds;
	char ds_why[512];

	/* keys (one per weight map / score series) and classes */
	char **keys;
	size_t n_keys;
	char **classes;
	size_t n_classes;

	/* background: mean EPI (or the mean of the dataset's samples) */
	nidec_vol bg;
	float *bg_data;
	int have_bg;
	char bg_what[2300];
	char bg_why[1100];
	/* the mask */
	nidec_vol mask;
	float *mask_data;
	int have_mask;
	char mask_what[1024];
	char mask_why[512];
	char *bold_path, *mask_path;  /* from the config */
	nidec_canvas *canvas;      /* the figures' canvas, reused (nidec_rep_plot_figure) */
};

/* Append to the page; a failed append sets r->oom. */
#define ADD(r, ...) ((r)->oom |= nidec_sbuf_addf(&(r)->h, __VA_ARGS__) < 0)
#define ADDS(r, s) ((r)->oom |= nidec_sbuf_adds(&(r)->h, (s)) < 0)
#define ESC(r, s) ((r)->oom |= nidec_html_escape(&(r)->h, (s)) < 0)

/* ---- small helpers ---- */

/* 1 if `path` is a regular file. */
int nidec_rep_file_exists(const char *path);
/* A TSV cell as a number: NaN for "", "nan" or anything not wholly a number. */
double nidec_rep_num(const char *s);
/* <dir>/<name> in a new string (nidec_free), or NULL: out of memory, or a
 * path longer than NIDEC_PATH_MAX. */
char *nidec_rep_join(const char *dir, const char *name);
/* o[key] as a string (borrowed) or NULL, as a number or NaN; o may be NULL. */
const char *nidec_rep_jstr(const json_t *o, const char *key);
double nidec_rep_jnum(const json_t *o, const char *key);
/* Value of `key` in [section] of an INI text, in a new string, or NULL. */
char *nidec_rep_ini_value(const char *ini, const char *section, const char *key);
/* Copy a message into a fixed buffer, cut if it does not fit. */
void nidec_rep_set_msg(char *dst, size_t n, const char *src);
/* Add `s` to the set v[n] (copied; no duplicates); out of memory sets *oom. */
void nidec_rep_strv_add(char ***v, size_t *n, const char *s, int *oom);
void nidec_rep_strv_free(char **v, size_t n);
/* A JSON scalar (or an array of them, comma-separated) as text. */
void nidec_rep_json_scalar_text(const json_t *v, char *buf, size_t n);

/* ---- page pieces ---- */

/* <p class="na">not available: WHY</p> */
void nidec_rep_not_available(struct report *r, const char *why);
/* One row of a key/value table. */
void nidec_rep_kv_row(struct report *r, const char *k, const char *v);
/* The canvas as a PNG data: URI in a <figure> (a failed encoding is a
 * "not available" in its place). */
void nidec_rep_add_figure(struct report *r, nidec_canvas *cv, const char *alt, const char *caption);
/* Draw `img` over `bg` (NULL: none) on the page's canvas and add it; a
 * failed drawing is a "not available" (and a warning) in its place. */
void nidec_rep_plot_figure(struct report *r, const nidec_plot_opts *o, const nidec_vol *img,
			   const nidec_vol *bg, const char *alt, const char *caption);

/* ---- loading (each records why not; none fails) ---- */

void nidec_rep_init(struct report *r, const char *dir);
/* Free everything loaded and the page; r is then as after nidec_rep_init. */
void nidec_rep_release(struct report *r);
void nidec_rep_load_summary(struct report *r);
/* One optional TSV of the results directory. */
void nidec_rep_load_tsv(struct report *r, const char *name, nidec_result_table *t, int *have,
			char *why, size_t n);
/* The dataset: `given`, else the one summary.json names, the config's
 * [data] dataset, or <dir>/dataset.h5.  Only a `given` dataset that cannot
 * be opened is an error (*fatal < 0, in err). */
void nidec_rep_load_dataset(struct report *r, const char *given, int *fatal, nidec_err *err);
/* r->classes from summary.json "classes", else the true labels of
 * predictions.tsv. */
void nidec_rep_find_classes(struct report *r);
/* The mean EPI (stored in the dataset, else from the BOLD files, else the
 * mean of the dataset's samples) and the mask. */
void nidec_rep_load_background(struct report *r);
void nidec_rep_load_mask(struct report *r);

/* ---- the page ---- */

/* <!DOCTYPE>, the head (CSS, Content-Security-Policy, the title with the
 * classes), <h1>HEADING: classes</h1> and "DIR_LABEL <dir>, nidec VERSION"
 * (version may be NULL). */
void nidec_rep_page_begin(struct report *r, const char *heading, const char *dir_label,
			  const char *version);
/* The footer and the end of the page. */
void nidec_rep_page_end(struct report *r);
/* Write the page to out_path (NULL: <dir>/report.html) through a temporary
 * and rename.  NIDEC_ENOMEM when r->oom is set. */
int nidec_rep_save(struct report *r, const char *out_path, nidec_err *err);

/* Sections every page can end with. */
void nidec_rep_section_dataset(struct report *r);
void nidec_rep_section_images(struct report *r);
void nidec_rep_section_provenance(struct report *r);
void nidec_rep_section_timing(struct report *r);
void nidec_rep_section_appendix(struct report *r);

/* The searchlight's page (report_searchlight.c), from a loaded report:
 * summary, dataset, classes, background and mask. */
void nidec_rep_searchlight_page(struct report *r);

#endif
