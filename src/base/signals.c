/*
 * signals.c - record SIGTERM, SIGUSR1 and SIGINT so that rank 0 can stop
 * a run between tasks, save its checkpoint and exit with status 3 (see
 * signals.h).  The handler does one async-signal-safe thing: it stores the
 * signal number.  Everything else (stopping the scheduler, syncing the
 * ledger, the message) happens in normal code that polls
 * nidec_signals_caught().
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "nidec/signals.h"

static volatile sig_atomic_t caught;

static const int stop_signals[] = { SIGTERM, SIGUSR1, SIGINT };
#define N_SIGNALS (sizeof(stop_signals) / sizeof(stop_signals[0]))

static struct sigaction saved[N_SIGNALS];
static int installed;

static void on_signal(int sig)
{
	if (!caught)
		caught = sig;
}

int nidec_signals_install(nidec_err *err)
{
	size_t i;

	caught = 0;
	if (installed)
		return 0;
	for (i = 0; i < N_SIGNALS; i++) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		/* Ctrl-C twice: the second one kills as usual */
		if (stop_signals[i] == SIGINT)
			sa.sa_flags |= SA_RESETHAND;
		if (sigaction(stop_signals[i], &sa, &saved[i]) < 0) {
			int e = errno;
			while (i-- > 0)
				sigaction(stop_signals[i], &saved[i], NULL);
			return nidec_fail(err, NIDEC_EINTERNAL, "cannot install a signal handler: %s",
					  strerror(e));
		}
	}
	installed = 1;
	return 0;
}

void nidec_signals_restore(void)
{
	size_t i;

	if (!installed)
		return;
	for (i = 0; i < N_SIGNALS; i++)
		sigaction(stop_signals[i], &saved[i], NULL);
	installed = 0;
}

int nidec_signals_caught(void)
{
	return caught;
}

const char *nidec_signals_name(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGUSR1:
		return "SIGUSR1";
	case SIGINT:
		return "SIGINT";
	default:
		return "a signal";
	}
}
