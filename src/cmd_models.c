/* cmd_models: placeholder until the command lands; fails loudly. */
#include "cmd.h"

int cmd_models(const struct globals *g, int argc, char **argv, struct err *e)
{
	(void)g;
	(void)argc;
	(void)argv;
	return err_set(e, ERR_OTHER, "'models' is not implemented in this build");
}
