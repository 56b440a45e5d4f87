/* cmd: the commands (SPEC section 1) and the context main hands them.
 * Each command parses its own arguments (after the global options were taken
 * out by main), does its job, and returns 0 or -1 with e filled; main prints
 * e->msg on one stderr line and exits with e->cls. */
#ifndef BROCK_CMD_H
#define BROCK_CMD_H

#include <stdio.h>

#include "base/env.h"
#include "base/err.h"

struct ctx; /* ctx.h: config, connection pool, aws client, credential chain */

struct globals {
	struct env env;
	const char *config;  /* --config FILE, or NULL */
	const char *region;  /* --region, or NULL */
	const char *profile; /* --profile, or NULL */
	int verbose;         /* -v */
	int quiet;           /* -q */
};

/* argv[0] is the command name; argv[argc] is NULL. */
int cmd_chat(const struct globals *g, int argc, char **argv, struct err *e);
int cmd_models(const struct globals *g, int argc, char **argv, struct err *e);
int cmd_config(const struct globals *g, int argc, char **argv, struct err *e);
int cmd_auth(const struct globals *g, int argc, char **argv, struct err *e);
int cmd_serve(const struct globals *g, int argc, char **argv, struct err *e);
int cmd_doctor(const struct globals *g, int argc, char **argv, struct err *e);
int cmd_token(const struct globals *g, int argc, char **argv, struct err *e);
int cmd_count_tokens(const struct globals *g, int argc, char **argv, struct err *e);

#endif
