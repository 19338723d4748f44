/*
 * version.c - nidec's version and the process's command line
 * (include/nidec/version.h).  The only file that sees NIDEC_VERSION, so
 * the Makefile rebuilds only this one when `git describe` changes.
 */
#include "nidec/err.h"
#include "nidec/mem.h"
#include "nidec/sbuf.h"
#include "nidec/version.h"

#ifndef NIDEC_VERSION
#define NIDEC_VERSION "0.1.0"
#endif
const char nidec_version[] = NIDEC_VERSION;

static char *command_line;

int nidec_set_command_line(int argc, char **argv)
{
	nidec_sbuf sb = NIDEC_SBUF_INIT;
	int i, rc = 0;

	for (i = 0; i < argc; i++) {
		if (i)
			rc |= nidec_sbuf_adds(&sb, " ");
		rc |= nidec_sbuf_adds(&sb, i == 0 ? "nidec" : argv[i]);
	}
	if (rc) {
		nidec_sbuf_release(&sb);
		return NIDEC_ENOMEM;
	}
	nidec_free(command_line);
	command_line = nidec_sbuf_detach(&sb, NULL);
	return 0;
}

const char *nidec_command_line(void)
{
	return command_line ? command_line : "nidec";
}

void nidec_free_command_line(void)
{
	nidec_free(command_line);
	command_line = NULL;
}
