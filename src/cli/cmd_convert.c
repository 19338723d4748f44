/* PLACEHOLDER: replaced by the real command (owner: see the helper's task). */
#include "cmd.h"
#include "nidec/log.h"
int cmd_convert(int argc, char **argv, nidec_comm *comm)
{
	(void)argc; (void)argv; (void)comm;
	nidec_error("'convert' is not built yet");
	return NIDEC_EXIT_FAILURE;
}
