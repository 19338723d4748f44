/*
 * results_int.h - what the result files of every analysis share, private
 * to src/io (implemented in results.c; the decoder's writers and the
 * searchlight's, slmaps.c, use it): numbers as JSON (NaN and infinities
 * as null) and as TSV fields, the tail of a summary.json (config,
 * provenance, warnings, timing) and of a results.h5 (the checkpoint
 * ledger, timing, provenance), so that both analyses record a run the
 * same way.  Include <hdf5.h>, <jansson.h> and "h5w.h" before it.
 */
#ifndef NIDEC_IO_RESULTS_INT_H
#define NIDEC_IO_RESULTS_INT_H

#ifndef JANSSON_H
#error "include <jansson.h> before src/io/results_int.h"
#endif
#ifndef NIDEC_IO_H5W_H
#error "include <hdf5.h> and h5w.h before src/io/results_int.h"
#endif

#include <stddef.h>

#include "nidec/file.h"
#include "nidec/results.h"
#include "nidec/sbuf.h"

/* A finite number, else null. */
json_t *nidec_json_num(double v);
/* v[0], v[stride], ... v[(n-1)*stride] as such numbers. */
json_t *nidec_json_nums(const double *v, size_t n, size_t stride);
json_t *nidec_json_strs(const char *const *v, size_t n);

/* A TSV field: "%.17g" under the C locale, "nan" for NaN (pandas reads both). */
int nidec_tsv_num(nidec_sbuf *sb, double v);

/* The keys every summary.json ends with: "config", "provenance",
 * "warnings" and, with --timing, "timing".  Out of memory: some are
 * missing (the caller's json_dumps still works). */
void nidec_summary_tail(json_t *root, const nidec_results_info *info);

/* root (consumed) as summary.json text into t: indented, 17 digits,
 * ASCII, a final newline.  0, NIDEC_ENOMEM or NIDEC_EIO. */
int nidec_summary_write(nidec_tempfile *t, json_t *root, nidec_err *err);

/* The end of every results.h5: /ledger (the run's checkpoint records,
 * info->ledger_path), /timing (--timing), and the root attributes ranks,
 * mpi, liblinear, kind, and the provenance (nidec_h5w_provenance). */
int nidec_results_h5_tail(hid_t f, const nidec_results_info *info, const char *kind,
			  const char *path, nidec_err *err);

#endif
