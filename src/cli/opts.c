/*
 * opts.c - options shared by every command (see cmd.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nidec/log.h"

static int verbosity = NIDEC_LOG_INFO;

int nidec_cli_common(int argc, char **argv, int *i, nidec_cfg *cfg, nidec_err *err)
{
	const char *a = argv[*i];

	if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
		verbosity = NIDEC_LOG_ERROR;
	} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
		if (verbosity < NIDEC_LOG_DEBUG)
			verbosity = verbosity < NIDEC_LOG_VERBOSE ? NIDEC_LOG_VERBOSE : NIDEC_LOG_DEBUG;
	} else if (!strcmp(a, "-vv")) {
		verbosity = NIDEC_LOG_DEBUG;
	} else if (!strcmp(a, "--set") || !strncmp(a, "--set=", 6)) {
		const char *v = a[5] == '=' ? a + 6 : NULL;
		if (!v) {
			if (*i + 1 >= argc)
				return nidec_fail(err, NIDEC_EINPUT, "--set needs SECTION.KEY=VALUE");
			v = argv[++*i];
		}
		if (!cfg)
			return nidec_fail(err, NIDEC_EINPUT, "--set is not used by '%s'", argv[0]);
		NIDEC_TRY(nidec_cfg_set(cfg, v, err));
	} else if (!strcmp(a, "--progress") || !strncmp(a, "--progress=", 11)) {
		const char *v = a[10] == '=' ? a + 11 : NULL;
		if (!v) {
			if (*i + 1 >= argc)
				return nidec_fail(err, NIDEC_EINPUT, "--progress needs a number of seconds");
			v = argv[++*i];
		}
		if (!cfg)
			return nidec_fail(err, NIDEC_EINPUT, "--progress is not used by '%s'", argv[0]);
		NIDEC_TRY(nidec_cfg_put(cfg, "output", "progress", v, "--progress", err));
	} else {
		return 0;
	}
	nidec_log_set_level(verbosity);
	return 1;
}
