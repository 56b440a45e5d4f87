/* brock: command-line entry point. Takes out the global options (accepted
 * anywhere before "--"), dispatches to a command, and turns an error into
 * one stderr line and the exit code of SPEC section 1. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "base/err.h"

#include "version.h" /* build/gen, written by vendor/version.sh */

extern char **environ;

static const char usage[] =
	"usage: brock [global options] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  chat [OPTIONS] [PROMPT...]   one turn with a Bedrock model, streamed\n"
	"  models list [--json] [--plain] [--refresh] [--provider NAME]\n"
	"  config get PATH | set PATH VALUE | unset PATH | file\n"
	"  auth [--json]                where credentials and region come from\n"
	"  serve [--listen ADDR:PORT]   OpenAI-compatible gateway (GET /v1/models,\n"
	"                               POST /v1/chat/completions, /healthz, /metrics)\n"
	"  doctor [--json] [--call]     what is wrong on this box: each check OK/WARN/FAIL + fix\n"
	"  token [--expires SECONDS] [--json]\n"
	"                               mint a short-term Bedrock API key from the current\n"
	"                               SigV4 credentials, offline\n"
	"  count-tokens [-m REF] [-s TEXT] [PROMPT...]\n"
	"                               input tokens of a prompt (Bedrock CountTokens)\n"
	"\n"
	"Global options:\n"
	"  --config FILE    config file (default $BROCK_CONFIG, else\n"
	"                   $XDG_CONFIG_HOME/brock/config.json5, else ~/.config/brock/config.json5)\n"
	"  --region REGION  overrides every other region source\n"
	"  --profile NAME   overrides AWS_PROFILE\n"
	"  -v, --verbose    diagnostics on stderr (never a secret)\n"
	"  -q, --quiet      no usage/progress lines on stderr\n"
	"  --help, --version\n"
	"\n"
	"Run 'brock COMMAND --help' for a command's options.\n";

/* Command options that take a value: their value is never a global option
 * (`brock chat -s -v hi` has the system prompt "-v"). */
static const char *const value_opts[] = {
	"-m", "--model", "-s", "--system", "--max-tokens", "--temperature", "--top-p", "--stop",
	"-i", "--image", "-d", "--document", "--thinking", "--timeout", "--provider", "--listen",
	"--expires", "--effort", "--service-tier", "--latency", "--guardrail", "--guardrail-version",
	"--meta", "--extra", NULL,
};

static int takes_value(const char *a)
{
	for (const char *const *v = value_opts; *v; v++)
		if (strcmp(a, *v) == 0)
			return 1;
	return 0;
}

/* Removes n arguments at argv[i]. */
static void drop(int *argc, char **argv, int i, int n)
{
	memmove(&argv[i], &argv[i + n], (size_t)(*argc - i - n + 1) * sizeof *argv);
	*argc -= n;
}

static int take_globals(struct globals *g, int *argc, char **argv, struct err *e)
{
	for (int i = 1; i < *argc;) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (strcmp(a, "--") == 0)
			break;
		if (takes_value(a)) {
			i += 2;
			continue;
		}
		if (strcmp(a, "--config") == 0)
			slot = &g->config;
		else if (strcmp(a, "--region") == 0)
			slot = &g->region;
		else if (strcmp(a, "--profile") == 0)
			slot = &g->profile;
		if (slot) {
			if (i + 1 >= *argc || !argv[i + 1][0])
				return err_set(e, ERR_USAGE, "%s needs a value", a);
			*slot = argv[i + 1];
			drop(argc, argv, i, 2);
			continue;
		}
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			g->verbose = 1;
			drop(argc, argv, i, 1);
			continue;
		}
		if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			g->quiet = 1;
			drop(argc, argv, i, 1);
			continue;
		}
		i++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct globals g = {{environ}, NULL, NULL, NULL, 0, 0};
	struct err e = {0};
	const char *cmd;
	int rc;

	if (take_globals(&g, &argc, argv, &e) != 0) {
		fprintf(stderr, "brock: %s\n%s", e.msg, usage);
		return e.cls;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return ERR_USAGE;
	}
	cmd = argv[1];
	/* Sockets never raise SIGPIPE (send with MSG_NOSIGNAL), so for the CLI
	 * commands the only source is stdout: a reader that goes away (| head)
	 * ends brock quietly, as it ends any Unix filter. The gateway must
	 * outlive its clients, so it ignores the signal. */
	if (strcmp(cmd, "serve") == 0)
		signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("brock %s (commit %s, %s)\nBearSSL %s\njsmn %s\n", BROCK_VERSION, BROCK_COMMIT,
		       BROCK_DATE, BROCK_BEARSSL_VERSION, BROCK_JSMN_VERSION);
		return 0;
	}
	if (strcmp(cmd, "chat") == 0)
		rc = cmd_chat(&g, argc - 1, argv + 1, &e);
	else if (strcmp(cmd, "models") == 0)
		rc = cmd_models(&g, argc - 1, argv + 1, &e);
	else if (strcmp(cmd, "config") == 0)
		rc = cmd_config(&g, argc - 1, argv + 1, &e);
	else if (strcmp(cmd, "auth") == 0)
		rc = cmd_auth(&g, argc - 1, argv + 1, &e);
	else if (strcmp(cmd, "doctor") == 0)
		rc = cmd_doctor(&g, argc - 1, argv + 1, &e);
	else if (strcmp(cmd, "serve") == 0)
		rc = cmd_serve(&g, argc - 1, argv + 1, &e);
	else if (strcmp(cmd, "token") == 0)
		rc = cmd_token(&g, argc - 1, argv + 1, &e);
	else if (strcmp(cmd, "count-tokens") == 0)
		rc = cmd_count_tokens(&g, argc - 1, argv + 1, &e);
	else
		rc = err_set(&e, ERR_USAGE, "unknown command '%s' (try 'brock --help')", cmd);
	if (fflush(stdout) != 0 && rc == 0)
		rc = err_set(&e, ERR_OTHER, "writing to stdout failed");
	if (rc == 0)
		return 0;
	if (!e.cls)
		e.cls = ERR_OTHER;
	if (e.msg[0])
		fprintf(stderr, "brock: %s\n", e.msg);
	return e.cls;
}
