/* cmd_models: `brock models list [--json] [--plain] [--refresh] [--provider NAME]`
 * (SPEC 5): discovery (with its cache) merged with the configured models. */
#include <stdio.h>
#include <string.h>

#include "bedrock/catalog.h"
#include "cmd/cmd.h"
#include "cmd/ctx.h"
#include "bedrock/discovery.h"

static const char models_usage[] =
	"usage: brock models list [--json] [--plain] [--refresh] [--provider NAME]\n"
	"\n"
	"Lists the Bedrock models this account can stream (discovered, cached) and the\n"
	"models of the config file.\n"
	"  --json           {\"count\":N,\"models\":[{key,id,name,input,contextWindow,maxTokens,reasoning,tags}]}\n"
	"  --plain          one model ref per line\n"
	"  --refresh        ask Bedrock again, ignoring the cached list\n"
	"  --provider NAME  only models made by NAME (anthropic, amazon, meta, ...)\n";

struct models_args {
	int json, plain, refresh, help;
	const char *provider;
};

static int parse_args(int argc, char **argv, struct models_args *a, struct err *e)
{
	int i = 1;

	memset(a, 0, sizeof *a);
	if (i < argc && (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)) {
		a->help = 1;
		return 0;
	}
	if (i < argc && strcmp(argv[i], "list") == 0)
		i++;
	else if (i < argc && argv[i][0] != '-')
		return err_set(e, ERR_USAGE,
			       "unknown models command '%s' (try 'brock models --help')", argv[i]);
	for (; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--json") == 0)
			a->json = 1;
		else if (strcmp(s, "--plain") == 0)
			a->plain = 1;
		else if (strcmp(s, "--refresh") == 0)
			a->refresh = 1;
		else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)
			a->help = 1;
		else if (strcmp(s, "--provider") == 0) {
			if (i + 1 >= argc || !argv[i + 1][0])
				return err_set(e, ERR_USAGE, "--provider needs a value");
			a->provider = argv[++i];
		} else if (strncmp(s, "--provider=", 11) == 0 && s[11])
			a->provider = s + 11;
		else
			return err_set(
				e, ERR_USAGE,
				"models list: unknown option '%s' (try 'brock models --help')", s);
	}
	if (a->json && a->plain)
		return err_set(e, ERR_USAGE, "models list: --json and --plain exclude each other");
	return 0;
}

static int render(const struct catalog *cat, const struct models_args *a, struct err *e)
{
	struct buf out;
	int rc;

	buf_init(&out, 64u << 20);
	if (a->json) {
		rc = catalog_json(cat, &out, e);
		if (rc == 0 && buf_append_byte(&out, '\n') < 0)
			rc = err_set(e, ERR_OTHER, "out of memory");
	} else {
		rc = a->plain ? catalog_plain(cat, &out) : catalog_table(cat, &out);
		if (rc < 0)
			err_set(e, ERR_OTHER, "out of memory");
	}
	if (rc == 0 && out.len && fwrite(out.p, 1, out.len, stdout) != out.len)
		rc = err_set(e, ERR_OTHER, "writing to stdout failed");
	buf_free(&out);
	return rc;
}

static const char *source_name(int s)
{
	switch (s) {
	case DISC_FETCHED:
		return "fetched";
	case DISC_CACHED:
		return "from the cache";
	case DISC_STALE:
		return "from a stale cache";
	case DISC_SKIPPED:
		return "skipped";
	default:
		return "off";
	}
}

int cmd_models(const struct globals *g, int argc, char **argv, struct err *e)
{
	struct models_args a;
	struct ctx c;
	struct disc_opts o;
	struct disc_result dr;
	struct catalog cat;
	int rc;

	if (parse_args(argc, argv, &a, e) < 0)
		return -1;
	if (a.help) {
		fputs(models_usage, stdout);
		return 0;
	}
	if (ctx_open(&c, g, e) < 0)
		return -1;
	memset(&o, 0, sizeof o);
	o.cfg = &c.cfg.discovery;
	o.env = &g->env;
	o.refresh = a.refresh;
	if (disc_run(&c.aws, &c.creds, &o, &dr, e) < 0) {
		err_wrap(e, "model discovery");
		ctx_close(&c);
		return -1;
	}
	if (g->verbose)
		ctx_log(&c, "discovery: %s, %zu models", source_name(dr.source), dr.list.n);
	if (dr.warning[0] && !g->quiet && !(a.refresh && dr.store_failed))
		fprintf(stderr, "brock: warning: %s\n", dr.warning);
	rc = catalog_build(&cat, &c.cfg, dr.list.n ? &dr.list : NULL, e);
	if (rc == 0) {
		if (a.provider)
			catalog_filter_provider(&cat, a.provider);
		rc = render(&cat, &a, e);
		catalog_free(&cat);
	}
	if (rc == 0 && a.refresh && dr.store_failed) /* the list is shown, the refresh failed */
		rc = err_set(e, ERR_OTHER, "%s", dr.warning);
	disc_result_free(&dr);
	ctx_close(&c);
	return rc;
}
