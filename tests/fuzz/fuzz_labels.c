/*
 * fuzz_labels.c - libFuzzer target for the labels table and BIDS events
 * readers (src/io/events.c): the same bytes are read as a labels table
 * (default and swapped column names) and as an events.tsv, whose events
 * then label a run of 40 volumes at TR 2.5 s (as `nidec convert` does).
 * Any input must give 0 or a negative NIDEC_E* code with a one-line
 * message: never a crash, a sanitizer report or a leak.
 * Seeds: tests/fuzz/seeds/labels/.  Built by `make fuzz`.
 */
#include <string.h>

#include "fuzz_util.h"
#include "nidec/err.h"
#include "nidec/events.h"

static void check_err(int rc, const nidec_err *err)
{
	if (rc < 0 && (err->code != rc || !err->msg[0] || strchr(err->msg, '\n')))
		abort();
}

static void check_labels(const nidec_vol_labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!l->label[i] || l->run[i] < 0 || (size_t)l->run[i] >= l->n_runs)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	nidec_err err = NIDEC_ERR_INIT;
	nidec_vol_labels l = NIDEC_VOL_LABELS_INIT;
	nidec_events ev = NIDEC_EVENTS_INIT;
	int rc;

	rc = nidec_labels_read_table(path, "labels", "chunks", &l, &err);
	check_err(rc, &err);
	if (rc == 0)
		check_labels(&l);
	nidec_vol_labels_release(&l);

	nidec_err_clear(&err);
	rc = nidec_labels_read_table(path, "chunks", "onset", &l, &err);
	check_err(rc, &err);
	if (rc == 0)
		check_labels(&l);
	nidec_vol_labels_release(&l);

	nidec_err_clear(&err);
	rc = nidec_events_read(path, &ev, &err);
	check_err(rc, &err);
	if (rc == 0) {
		nidec_err_clear(&err);
		rc = nidec_events_label_run(&ev, 40, 2.5, 0.0, 0, &l, &err);
		check_err(rc, &err);
		if (rc == 0) {
			rc = nidec_events_label_run(&ev, 7, 1.0, 4.0, 2, &l, &err);
			check_err(rc, &err);
		}
		if (rc == 0)
			check_labels(&l);
		nidec_vol_labels_release(&l);
	}
	nidec_events_release(&ev);
	return 0;
}
