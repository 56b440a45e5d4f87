/* cmd_config: placeholder until the command lands; fails loudly. */
#include "cmd.h"

int cmd_config(const struct globals *g, int argc, char **argv, struct err *e)
{
	(void)g;
	(void)argc;
	(void)argv;
	return err_set(e, ERR_OTHER, "'config' is not implemented in this build");
}
