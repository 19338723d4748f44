/*
 * log.h - levelled messages to stderr, filtered by rank.
 *
 * Levels: error < warn < info (default) < verbose (-v) < debug (-vv); -q
 * keeps errors only.  Info, warn and verbose lines come from rank 0 only;
 * errors from any rank carry "[rank N]" when more than one rank runs; debug
 * lines carry file:line.  The level is tested before formatting.
 * Primary output (result tables, files written) goes to stdout with
 * nidec_out(); everything else to stderr.
 * Not thread-safe by design: nidec is single-threaded per rank.
 */
#ifndef NIDEC_LOG_H
#define NIDEC_LOG_H

enum { NIDEC_LOG_ERROR = 0, NIDEC_LOG_WARN, NIDEC_LOG_INFO, NIDEC_LOG_VERBOSE, NIDEC_LOG_DEBUG };

/* Set once in main(); the only mutable globals besides the fault hook. */
void nidec_log_setup(int level, int rank, int n_ranks);
void nidec_log_set_level(int level);
int nidec_log_level(void);
int nidec_log_rank(void);
int nidec_log_enabled(int level);

void nidec_log_msg(int level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define nidec_error(...) nidec_log_msg(NIDEC_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define nidec_warn(...) nidec_log_msg(NIDEC_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define nidec_info(...)                                                     \
	do {                                                                \
		if (nidec_log_enabled(NIDEC_LOG_INFO))                      \
			nidec_log_msg(NIDEC_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)
#define nidec_verbose(...)                                                  \
	do {                                                                \
		if (nidec_log_enabled(NIDEC_LOG_VERBOSE))                   \
			nidec_log_msg(NIDEC_LOG_VERBOSE, __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)
#define nidec_debug(...)                                                    \
	do {                                                                \
		if (nidec_log_enabled(NIDEC_LOG_DEBUG))                     \
			nidec_log_msg(NIDEC_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* While `sb` is set (NULL stops), every warning of this rank is also
 * appended to it as one line ending in "\n", whatever the rank and the
 * level: the job driver collects a subject's warnings on the rank that
 * converts it, shows them on rank 0 and stores them in the subject's
 * summary.json (job.h).  The buffer stays the caller's. */
struct nidec_sbuf;
void nidec_log_record_warnings(struct nidec_sbuf *sb);

/* Primary output on stdout, rank 0 only, unless -q. */
void nidec_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic wall-clock seconds. */
double nidec_now(void);

#endif
