/* cmd_config: `brock config get PATH | set PATH VALUE | unset PATH | file`
 * (SPEC 4), on top of config.h's comment-preserving edits. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "bedrock/config.h"

static const char config_usage[] =
	"usage: brock config get PATH | set PATH VALUE | unset PATH | file\n"
	"\n"
	"  get PATH          print the value at PATH as JSON (PATH \"\" = the whole file)\n"
	"  set PATH VALUE    set PATH to VALUE (parsed as JSON5, else taken as a string);\n"
	"                    comments and formatting of the rest of the file are kept\n"
	"  unset PATH        remove PATH\n"
	"  file              print the path of the config file in use\n"
	"\n"
	"PATH uses dots or brackets: models.bedrockDiscovery.enabled,\n"
	"models.providers[\"amazon-bedrock\"].baseUrl, models.providers[\"amazon-bedrock\"].models[0].id\n";

static int want_args(int argc, int n, const char *sub, const char *form, struct err *e)
{
	if (argc != n)
		return err_set(e, ERR_USAGE, "config %s: usage: brock config %s", sub, form);
	return 0;
}

static int do_get(const char *file, const char *path, struct err *e)
{
	struct buf out;
	int rc;

	buf_init(&out, 64u << 20);
	rc = config_get_json(file, path, &out, e);
	if (rc == 0 &&
	    (buf_append_byte(&out, '\n') < 0 || fwrite(out.p, 1, out.len, stdout) != out.len))
		rc = err_set(e, ERR_OTHER, "writing to stdout failed");
	buf_free(&out);
	return rc;
}

int cmd_config(const struct globals *g, int argc, char **argv, struct err *e)
{
	char file[CONFIG_PATH_MAX];
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub)
		return err_set(
			e, ERR_USAGE,
			"config needs a command: get, set, unset or file (try 'brock config --help')");
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(config_usage, stdout);
		return 0;
	}
	if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		fputs(config_usage, stdout);
		return 0;
	}
	if (strcmp(sub, "get") && strcmp(sub, "set") && strcmp(sub, "unset") && strcmp(sub, "file"))
		return err_set(e, ERR_USAGE,
			       "unknown config command '%s' (try 'brock config --help')", sub);
	if (config_path(&g->env, g->config, file, sizeof file, e) < 0)
		return -1;
	if (strcmp(sub, "file") == 0) {
		if (want_args(argc, 2, sub, "file", e) < 0)
			return -1;
		printf("%s\n", file);
		return 0;
	}
	if (strcmp(sub, "get") == 0)
		return want_args(argc, 3, sub, "get PATH", e) < 0 ? -1 : do_get(file, argv[2], e);
	if (strcmp(sub, "set") == 0)
		return want_args(argc, 4, sub, "set PATH VALUE", e) < 0
			       ? -1
			       : config_set(file, argv[2], argv[3], e);
	return want_args(argc, 3, sub, "unset PATH", e) < 0 ? -1 : config_unset(file, argv[2], e);
}
