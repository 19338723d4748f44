/*
 * timing.c - the --timing record of a job (include/nidec/timing.h):
 * stage names, release, and the duration format of progress and timing
 * lines.  libc only.
 */
#include <stdio.h>
#include <string.h>

#include "nidec/mem.h"
#include "nidec/timing.h"

const char *nidec_timing_stage_name(int s)
{
	static const char *const names[NIDEC_N_STAGES] = { "read", "plan", "prepare", "cv", "reduce",
							   "write" };

	return s >= 0 && s < NIDEC_N_STAGES ? names[s] : "?";
}

void nidec_timing_release(nidec_timing *t)
{
	static const nidec_timing empty = NIDEC_TIMING_INIT;

	if (!t)
		return;
	nidec_free(t->busy);
	nidec_free(t->ran);
	nidec_free(t->host);
	nidec_free(t->task);
	nidec_free(t->msg);
	*t = empty;
}

void nidec_format_seconds(double s, char *buf, size_t len)
{
	long t;

	if (!(s >= 0))
		s = 0;
	if (s < 10) {
		snprintf(buf, len, "%.1fs", s);
		return;
	}
	t = (long)(s + 0.5);
	if (t < 60)
		snprintf(buf, len, "%lds", t);
	else if (t < 3600)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
}
