/*
 * log.c - levelled messages on stderr, rank-0 filtering, primary output.
 * See include/nidec/log.h.  Depends on libc only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nidec/log.h"
#include "nidec/sbuf.h"

static int log_level = NIDEC_LOG_INFO;
static nidec_sbuf *warnings; /* nidec_log_record_warnings */
static int log_rank;
static int log_ranks = 1;

void nidec_log_setup(int level, int rank, int n_ranks)
{
	log_level = level;
	log_rank = rank;
	log_ranks = n_ranks;
}

void nidec_log_set_level(int level)
{
	log_level = level;
}

int nidec_log_level(void) { return log_level; }
int nidec_log_rank(void) { return log_rank; }

int nidec_log_enabled(int level)
{
	if (level > log_level)
		return 0;
	/* Only errors and debug lines come from every rank. */
	if (log_rank != 0 && level != NIDEC_LOG_ERROR && level != NIDEC_LOG_DEBUG)
		return 0;
	return 1;
}

void nidec_log_record_warnings(nidec_sbuf *sb)
{
	warnings = sb;
}

/* One recorded warning line (out of memory: the line is lost, not the run). */
static void record(const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strcspn(line, "\n");
	if (nidec_sbuf_add(warnings, line, n) == 0)
		(void)nidec_sbuf_adds(warnings, "\n");
}

void nidec_log_msg(int level, const char *file, int line, const char *fmt, ...)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "", "debug: " };
	char rank[32] = "";
	va_list ap;

	if (level == NIDEC_LOG_WARN && warnings) {
		va_start(ap, fmt);
		record(fmt, ap);
		va_end(ap);
	}
	if (!nidec_log_enabled(level))
		return;
	if (log_ranks > 1 && (level == NIDEC_LOG_ERROR || level == NIDEC_LOG_DEBUG))
		snprintf(rank, sizeof(rank), "[rank %d] ", log_rank);
	fprintf(stderr, "nidec: %s%s", rank, tag[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (level == NIDEC_LOG_DEBUG) {
		const char *base = strrchr(file, '/');
		fprintf(stderr, " (%s:%d)", base ? base + 1 : file, line);
	}
	fputc('\n', stderr);
}

void nidec_out(const char *fmt, ...)
{
	va_list ap;

	if (log_rank != 0 || log_level < NIDEC_LOG_INFO)
		return;
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
}

double nidec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
