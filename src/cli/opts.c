/*
 * opts.c - the commands' side of option parsing (see cmd.h): run the
 * table-driven parser of src/base/opts.c on every rank, print what it
 * produced on rank 0 only, set the log level, apply config overrides.
 *
 * Every rank parses the same argv, so every rank reaches the same verdict
 * and returns the same exit status without talking to the others; only
 * rank 0 prints, so a usage error under mpirun -n 8 is one line, not 8.
 * Also the one mapping of errors to exit statuses and the one way a
 * command reports its error (nidec_cli_exit_code, nidec_cli_fail).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "nidec/log.h"
#include "nidec/sbuf.h"

const nidec_keyschema *const nidec_cli_config_schemas[] = { &nidec_cfg_schema, NULL };

int nidec_cli_parse(nidec_comm *comm, const nidec_opt_cmd *cmd, int argc, char **argv,
		    nidec_cli_common *c)
{
	nidec_err err = NIDEC_ERR_INIT;
	nidec_sbuf out = NIDEC_SBUF_INIT;
	int rank = comm ? nidec_comm_rank(comm) : 0, rc, level;

	rc = nidec_opt_parse(cmd, argc, argv, &out, &err);
	if (rc == NIDEC_OPT_SHOWN) {
		if (rank == 0)
			fputs(out.buf, stdout);
		nidec_sbuf_release(&out);
		return NIDEC_EXIT_OK;
	}
	nidec_sbuf_release(&out);
	if (rc == NIDEC_EUSAGE) {
		if (rank == 0)
			fprintf(stderr, "%s: %s\n", cmd->prog, err.msg);
		return NIDEC_EXIT_USAGE;
	}
	if (rc < 0) {
		if (rank == 0)
			fprintf(stderr, "nidec: error: %s\n", err.msg[0] ? err.msg : nidec_err_name(rc));
		return nidec_cli_exit_code(rc);
	}
	level = c->quiet ? NIDEC_LOG_ERROR : NIDEC_LOG_INFO + c->verbose;
	nidec_log_set_level(level > NIDEC_LOG_DEBUG ? NIDEC_LOG_DEBUG : level);
	return -1;
}

int nidec_cli_usage_error(nidec_comm *comm, const nidec_opt_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	if (!comm || nidec_comm_rank(comm) == 0) {
		fprintf(stderr, "%s: ", cmd->prog);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	return NIDEC_EXIT_USAGE;
}

int nidec_cli_apply_sets(nidec_cfg *cfg, const nidec_opt_sets *sets, nidec_err *err)
{
	size_t i;

	for (i = 0; i < sets->n; i++)
		NIDEC_TRY(nidec_cfg_override(cfg, sets->assign[i], sets->option[i], err));
	return 0;
}

void nidec_cli_common_release(nidec_cli_common *c)
{
	nidec_opt_sets_release(&c->sets);
	c->quiet = 0;
	c->verbose = 0;
}

int nidec_cli_exit_code(int code)
{
	if (code >= 0)
		return NIDEC_EXIT_OK;
	if (code == NIDEC_EINTR)
		return NIDEC_EXIT_INTERRUPTED;
	if (code == NIDEC_EUSAGE)
		return NIDEC_EXIT_USAGE;
	return NIDEC_EXIT_FAILURE;
}

int nidec_cli_fail(const nidec_err *err, nidec_comm *comm)
{
	int rank = comm ? nidec_comm_rank(comm) : 0;
	const char *msg = err->msg[0] ? err->msg : nidec_err_name(err->code);

	/* Errors agreed on by every rank carry rank 0's message: print once.
	 * "another rank failed" lines are noise: the failing rank printed. */
	if (rank == 0 && strcmp(msg, "another rank failed (see its error above)"))
		fprintf(stderr, "nidec: error: %s\n", msg);
	else if (rank != 0 && strncmp(msg, "another rank failed", 19) && err->code != NIDEC_EINTR)
		nidec_error("%s", msg);
	return nidec_cli_exit_code(err->code);
}
