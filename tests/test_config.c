/* test_config: the schema reader (SPEC 4 example, OpenClaw layouts, type
 * errors with paths), config path resolution, comment-preserving edits
 * against golden files in tests/config/, and the file side: atomic replace,
 * mode 0600, refusal leaves the file untouched, two concurrent writers.
 * BROCK_UPDATE_GOLDEN=1 rewrites the golden files (review the diff!). */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bedrock/config.h"
#include "wire/json5.h"
#include "t.h"

static const char spec_example[] =
	"{\n"
	"  models: {\n"
	"    bedrockDiscovery: { enabled: true, region: \"us-east-1\", providerFilter: [\"anthropic\", \"amazon\"],\n"
	"                        refreshInterval: 3600, defaultContextWindow: 32000, defaultMaxTokens: 4096 },\n"
	"    providers: {\n"
	"      \"amazon-bedrock\": {\n"
	"        baseUrl: \"https://bedrock-runtime.us-east-1.amazonaws.com\",\n"
	"        api: \"bedrock-converse-stream\", auth: \"aws-sdk\",\n"
	"        models: [{ id: \"us.anthropic.claude-opus-4-6-v1:0\", name: \"Claude Opus 4.6 (Bedrock)\",\n"
	"                   reasoning: true, input: [\"text\", \"image\"],\n"
	"                   cost: { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 },  // USD per 1M tokens\n"
	"                   contextWindow: 200000, maxTokens: 8192 }],\n"
	"      },\n"
	"    },\n"
	"  },\n"
	"  agents: { defaults: { model: { primary: \"amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0\" } } },\n"
	"}\n";

static int parse(const char *text, struct config *c, struct err *e)
{
	return config_parse("config.json5", text, strlen(text), c, e);
}

static void test_spec_example(void)
{
	struct config c;
	struct err e;

	CHECK(parse(spec_example, &c, &e) == 0);
	CHECK(c.discovery.enabled == 1);
	CHECK_STR(c.discovery.region, "us-east-1");
	CHECK(c.discovery.n_provider_filter == 2);
	CHECK_STR(c.discovery.provider_filter[0], "anthropic");
	CHECK_STR(c.discovery.provider_filter[1], "amazon");
	CHECK(c.discovery.refresh_interval == 3600);
	CHECK(c.discovery.default_context_window == 32000);
	CHECK(c.discovery.default_max_tokens == 4096);
	CHECK(c.bedrock.present);
	CHECK_STR(c.bedrock.base_url, "https://bedrock-runtime.us-east-1.amazonaws.com");
	CHECK_STR(c.bedrock.api, "bedrock-converse-stream");
	CHECK_STR(c.bedrock.auth, "aws-sdk");
	CHECK(c.bedrock.n_models == 1);
	if (c.bedrock.n_models == 1) {
		const struct config_model *m = &c.bedrock.models[0];
		CHECK_STR(m->id, "us.anthropic.claude-opus-4-6-v1:0");
		CHECK_STR(m->name, "Claude Opus 4.6 (Bedrock)");
		CHECK(m->reasoning == 1);
		CHECK(m->n_input == 2);
		CHECK_STR(m->input[0], "text");
		CHECK_STR(m->input[1], "image");
		CHECK(m->has_cost);
		CHECK(m->cost.input == 15 && m->cost.output == 75);
		CHECK(m->cost.cache_read == 1.5 && m->cost.cache_write == 18.75);
		CHECK(m->context_window == 200000 && m->max_tokens == 8192);
	}
	CHECK_STR(c.primary_model, "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0");
	CHECK(c.serve_listen == NULL && c.n_serve_api_keys == 0);
	CHECK(c.serve_anthropic_betas == NULL);
	config_free(&c);
}

static void test_defaults_and_layouts(void)
{
	struct config c;
	struct err e;

	/* blank text: the empty config with the SPEC defaults */
	CHECK(parse("  // nothing here\n", &c, &e) == 0);
	CHECK(c.discovery.enabled == -1 && c.discovery.region == NULL);
	CHECK(c.discovery.refresh_interval == 3600);
	CHECK(c.discovery.default_context_window == 32000);
	CHECK(c.discovery.default_max_tokens == 4096);
	CHECK(!c.bedrock.present && c.primary_model == NULL);
	config_free(&c);

	/* the plugins layout wins, field by field; unknown keys ignored */
	CHECK(parse("{models: {bedrockDiscovery: {enabled: true, region: 'us-west-2', "
		    "refreshInterval: 60}}, plugins: {entries: {'amazon-bedrock': {enabled: true, "
		    "config: {discovery: {enabled: false, refreshInterval: 0, "
		    "providerFilter: ['meta'], unknown: [1, {x: 2}]}}}}}, "
		    "serve: {listen: '0.0.0.0:8080', apiKeys: ['sk-1', 'sk-2'], "
		    "anthropicBetas: ['context-1m-2025-08-07']}, other: null}",
		    &c, &e) == 0);
	CHECK(c.discovery.enabled == 0);
	CHECK_STR(c.discovery.region, "us-west-2");
	CHECK(c.discovery.refresh_interval == 0);
	CHECK(c.discovery.n_provider_filter == 1);
	CHECK_STR(c.discovery.provider_filter[0], "meta");
	CHECK_STR(c.serve_listen, "0.0.0.0:8080");
	CHECK(c.n_serve_api_keys == 2);
	CHECK_STR(c.serve_api_keys[1], "sk-2");
	/* a NULL-terminated list (anth_map_invoke's "allowed") */
	CHECK(c.n_serve_anthropic_betas == 1 && c.serve_anthropic_betas[1] == NULL);
	CHECK_STR(c.serve_anthropic_betas[0], "context-1m-2025-08-07");
	config_free(&c);

	/* plain JSON (an OpenClaw openclaw.json), the short model form, hex */
	CHECK(parse("{\"agents\": {\"defaults\": {\"model\": \"amazon-bedrock/x\"}}, "
		    "\"models\": {\"bedrockDiscovery\": {\"defaultMaxTokens\": 0x1000, "
		    "\"region\": null}}}",
		    &c, &e) == 0);
	CHECK_STR(c.primary_model, "amazon-bedrock/x");
	CHECK(c.discovery.default_max_tokens == 4096);
	CHECK(c.discovery.region == NULL);
	config_free(&c);
}

static void expect_type_err(const char *text, const char *want)
{
	struct config c;
	struct err e;

	err_clear(&e);
	CHECK(parse(text, &c, &e) < 0);
	CHECK(e.cls == ERR_USAGE);
	CHECK_STR(e.msg, want);
}

static void test_type_errors(void)
{
	expect_type_err("{models: {bedrockDiscovery: {refreshInterval: '3600'}}}",
			"config.json5: models.bedrockDiscovery.refreshInterval: expected a number");
	expect_type_err("{models: {bedrockDiscovery: {refreshInterval: Infinity}}}",
			"config.json5: models.bedrockDiscovery.refreshInterval: expected a finite "
			"number (not Infinity or NaN)");
	expect_type_err("{models: {bedrockDiscovery: {defaultMaxTokens: NaN}}}",
			"config.json5: models.bedrockDiscovery.defaultMaxTokens: expected a finite "
			"number (not Infinity or NaN)");
	expect_type_err("{models: {bedrockDiscovery: {defaultMaxTokens: 1.5}}}",
			"config.json5: models.bedrockDiscovery.defaultMaxTokens: expected a whole "
			"number");
	expect_type_err("{models: {bedrockDiscovery: {refreshInterval: -1}}}",
			"config.json5: models.bedrockDiscovery.refreshInterval: expected a number >= 0");
	expect_type_err("{models: {bedrockDiscovery: {enabled: 'yes'}}}",
			"config.json5: models.bedrockDiscovery.enabled: expected true or false");
	expect_type_err("{models: {bedrockDiscovery: {providerFilter: 'meta'}}}",
			"config.json5: models.bedrockDiscovery.providerFilter: expected an array of "
			"strings");
	expect_type_err("{models: {bedrockDiscovery: {providerFilter: ['a', 2]}}}",
			"config.json5: models.bedrockDiscovery.providerFilter[1]: expected a string");
	expect_type_err("{models: 1}", "config.json5: models: expected an object");
	expect_type_err("{models: {providers: {'amazon-bedrock': {models: [{id: 'a'}, "
			"{name: 'x'}]}}}}",
			"config.json5: models.providers[\"amazon-bedrock\"].models[1].id: expected a "
			"non-empty string (the model id)");
	expect_type_err("{models: {providers: {'amazon-bedrock': {models: [{id: 'a', "
			"cost: {input: 'x'}}]}}}}",
			"config.json5: models.providers[\"amazon-bedrock\"].models[0].cost.input: "
			"expected a number");
	expect_type_err("{models: {providers: {'amazon-bedrock': {baseUrl: 5}}}}",
			"config.json5: models.providers[\"amazon-bedrock\"].baseUrl: expected a string");
	expect_type_err("{plugins: {entries: {'amazon-bedrock': {config: {discovery: "
			"{region: true}}}}}}",
			"config.json5: plugins.entries[\"amazon-bedrock\"].config.discovery.region: "
			"expected a string");
	expect_type_err("{serve: {apiKeys: [1]}}",
			"config.json5: serve.apiKeys[0]: expected a string");
	expect_type_err("{agents: {defaults: {model: {primary: 1}}}}",
			"config.json5: agents.defaults.model.primary: expected a string");
	expect_type_err("{serve: {listen: 'a\\0b'}}",
			"config.json5: serve.listen: contains a NUL character");
	expect_type_err("[1]", "config.json5: the top level must be an object ({ ... })");
	expect_type_err("{\n  models: {\n    x: 1\n    y: 2 }\n}",
			"config.json5:4:5: expected ',' or '}'");
}

/* serve.keys, serve.modelAliases, serve.fallbacks (SPEC 7.4). */
static void test_serve_policy(void)
{
	static const char text[] =
		"{serve: {keys: [\n"
		"  {name: 'team-a', key: 'sk-a', models: ['us.anthropic.*', 'amazon-bedrock/amazon.*'],\n"
		"   rpm: 60, tpm: 100000, maxConcurrent: 4, budget: {usd: 12.5, period: 'day'}, admin: true},\n"
		"  {name: 'b', keySha256: '9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08'},\n"
		"  {name: 'c', key: 'sk-c', budget: {usd: 3}},\n"
		"], modelAliases: {'gpt-4o': 'amazon-bedrock/us.amazon.nova-pro-v1:0', fast: 'x'},\n"
		"fallbacks: {'us.anthropic.claude-opus-4-6-v1:0': ['a', 'amazon-bedrock/b']}}}";
	struct config c;
	struct err e;
	const struct config_key *k;

	CHECK(config_parse("config.json5", text, sizeof text - 1, &c, &e) == 0);
	CHECK(c.n_serve_keys == 3);
	k = &c.serve_keys[0];
	CHECK_STR(k->name, "team-a");
	CHECK_STR(k->key, "sk-a");
	CHECK(!k->has_sha256 && k->n_models == 2);
	CHECK_STR(k->models[1], "amazon-bedrock/amazon.*");
	CHECK(k->rpm == 60 && k->tpm == 100000 && k->max_concurrent == 4 && k->admin == 1);
	CHECK(k->has_budget && k->budget_usd == 12.5 && k->budget_month == 0);
	k = &c.serve_keys[1];
	CHECK(!k->key && k->has_sha256 && k->sha256[0] == 0x9f && k->sha256[31] == 0x08);
	CHECK(k->n_models == 0 && k->rpm == 0 && !k->has_budget && !k->admin);
	k = &c.serve_keys[2];
	CHECK(k->has_budget && k->budget_usd == 3 && k->budget_month == 1);
	CHECK(c.n_serve_aliases == 2);
	CHECK_STR(c.serve_aliases[0].name, "gpt-4o");
	CHECK_STR(c.serve_aliases[0].ref, "amazon-bedrock/us.amazon.nova-pro-v1:0");
	CHECK(c.n_serve_fallbacks == 1 && c.serve_fallbacks[0].n_to == 2);
	CHECK_STR(c.serve_fallbacks[0].model, "us.anthropic.claude-opus-4-6-v1:0");
	CHECK_STR(c.serve_fallbacks[0].to[1], "amazon-bedrock/b");
	config_free(&c);
	CHECK(c.n_serve_keys == 0 && !c.serve_keys);

	expect_type_err("{serve: {keys: {}}}",
			"config.json5: serve.keys: expected an array of key objects");
	expect_type_err("{serve: {keys: [{key: 'k'}]}}",
			"config.json5: serve.keys[0].name: expected a name of 1 to 64 letters, "
			"digits, '.', '_' or '-' (it labels metrics and the ledger)");
	expect_type_err("{serve: {keys: [{name: 'a b', key: 'k'}]}}",
			"config.json5: serve.keys[0].name: expected a name of 1 to 64 letters, "
			"digits, '.', '_' or '-' (it labels metrics and the ledger)");
	expect_type_err("{serve: {keys: [{name: 'a'}]}}",
			"config.json5: serve.keys[0]: expected exactly one of key and keySha256");
	expect_type_err("{serve: {keys: [{name: 'a', key: 'k', keySha256: '00'}]}}",
			"config.json5: serve.keys[0].keySha256: expected 64 hex digits (the key's "
			"SHA-256)");
	expect_type_err("{serve: {keys: [{name: 'a', keySha256: "
			"'9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g'}]}}",
			"config.json5: serve.keys[0].keySha256: expected 64 hex digits (the key's "
			"SHA-256)");
	expect_type_err("{serve: {keys: [{name: 'a', key: 'k'}, {name: 'a', key: 'j'}]}}",
			"config.json5: serve.keys[1].name: expected a name no other key has");
	expect_type_err("{serve: {keys: [{name: 'a', key: 'k', rpm: '5'}]}}",
			"config.json5: serve.keys[0].rpm: expected a number");
	expect_type_err("{serve: {keys: [{name: 'a', key: 'k', maxConcurrent: -1}]}}",
			"config.json5: serve.keys[0].maxConcurrent: expected a number >= 0");
	expect_type_err("{serve: {keys: [{name: 'a', key: 'k', models: 'x*'}]}}",
			"config.json5: serve.keys[0].models: expected an array of strings");
	expect_type_err("{serve: {keys: [{name: 'a', key: 'k', budget: {usd: 1, period: 'week'}}]}}",
			"config.json5: serve.keys[0].budget.period: expected \"day\" or \"month\"");
	expect_type_err("{serve: {keys: [{name: 'a', key: 'k', budget: {period: 'day'}}]}}",
			"config.json5: serve.keys[0].budget.usd: expected a number (USD per period)");
	expect_type_err("{serve: {keys: [{name: 'a', key: 'k', admin: 1}]}}",
			"config.json5: serve.keys[0].admin: expected true or false");
	expect_type_err("{serve: {modelAliases: {x: 1}}}",
			"config.json5: serve.modelAliases[\"x\"]: expected a string");
	expect_type_err("{serve: {modelAliases: []}}",
			"config.json5: serve.modelAliases: expected an object of model refs");
	expect_type_err("{serve: {fallbacks: {x: 'y'}}}",
			"config.json5: serve.fallbacks[\"x\"]: expected an array of strings");
}

/* ---- config path ---- */

static void expect_path(char *const *vars, const char *flag, const char *want)
{
	struct env env = {vars};
	char out[CONFIG_PATH_MAX];
	struct err e;

	if (want) {
		CHECK(config_path(&env, flag, out, sizeof out, &e) == 0);
		CHECK_STR(out, want);
	} else {
		CHECK(config_path(&env, flag, out, sizeof out, &e) < 0 && e.cls == ERR_USAGE);
	}
}

static void test_path(void)
{
	char *all[] = {"HOME=/h", "XDG_CONFIG_HOME=/x", "BROCK_CONFIG=/b/c.json5", NULL};
	char *xdg[] = {"HOME=/h", "XDG_CONFIG_HOME=/x", "BROCK_CONFIG=  ", NULL};
	char *relxdg[] = {"HOME=/h", "XDG_CONFIG_HOME=rel", NULL};
	char *home[] = {"HOME=/h", NULL};
	char *none[] = {NULL};

	expect_path(all, "/flag.json5", "/flag.json5");
	expect_path(all, NULL, "/b/c.json5");
	expect_path(xdg, NULL, "/x/brock/config.json5");
	expect_path(relxdg, NULL, "/h/.config/brock/config.json5");
	expect_path(home, "", "/h/.config/brock/config.json5");
	expect_path(none, NULL, NULL);
	expect_path(none, "f", "f");

	/* no HOME at all: an empty config, not an error */
	struct env env = {none};
	struct config c;
	struct err e;
	CHECK(config_load(&env, NULL, &c, &e) == 0 && !c.exists && c.path[0] == 0);
	config_free(&c);
}

/* ---- golden edits ---- */

struct golden {
	const char *in, *out; /* files under tests/config/ ("" = empty text) */
	char op;              /* 's'et, 'u'nset */
	const char *path, *value;
};

static const struct golden goldens[] = {
	{"base", "set_scalar", 's', "models.bedrockDiscovery.refreshInterval", "600"},
	{"base", "set_new_key", 's', "serve.tls", "false"},
	{"base", "set_new_key_inline", 's', "models.bedrockDiscovery.newKey", "true"},
	{"base", "set_3_levels", 's', "plugins.entries[\"amazon-bedrock\"].config.discovery.enabled",
	 "false"},
	{"base", "set_into_empty", 's', "serve.empty.k", "'v'"},
	{"base", "set_into_spaced", 's', "serve.spaced.k", "1"},
	{"base", "set_into_multi_empty", 's', "serve.multi.k", "1"},
	{"base", "set_string_fallback", 's', "serve.listen", "0.0.0.0:9000"},
	{"base", "set_object_value", 's', "serve.limits", "{maxBody: 1048576, idle: 30,}"},
	{"base", "set_array_value", 's', "models.bedrockDiscovery.providerFilter", " ['meta'] // c"},
	{"base", "set_bracket_key", 's', "[\"odd.key\"]['with \"quotes\"']", "2"},
	{"base", "set_bracket_new", 's', "['odd.key'].new", "\"x\\ny\""},
	{"base", "set_array_append", 's', "serve.apiKeys[2]", "k3"},
	{"base", "set_array_elem", 's', "serve.apiKeys[0]", "k0"},
	{"base", "set_nested_model", 's',
	 "models.providers[\"amazon-bedrock\"].models[0].cost.cacheRead", "0.3"},
	{"base", "unset_first", 'u', "serve.listen", NULL},
	{"base", "unset_middle", 'u', "serve.empty", NULL},
	{"base", "unset_last", 'u', "serve.apiKeys", NULL},
	{"base", "unset_first_inline", 'u', "models.bedrockDiscovery.enabled", NULL},
	{"base", "unset_last_inline", 'u', "models.bedrockDiscovery.defaultMaxTokens", NULL},
	{"base", "unset_only", 'u', "agents.defaults.model.primary", NULL},
	{"base", "unset_elem_last", 'u', "serve.apiKeys[1]", NULL},
	{"base", "unset_elem_first", 'u', "serve.apiKeys[0]", NULL},
	{"base", "unset_provider", 'u', "models.providers[\"amazon-bedrock\"]", NULL},
	{"base", "unset_bracket_key", 'u', "[\"odd.key\"]", NULL},
	{"json", "json_set_new_key", 's', "models.bedrockDiscovery.refreshInterval", "0"},
	{"json", "json_set_3_levels", 's', "serve.limits.body", "1024"},
	{"json", "json_unset_last", 'u', "models.bedrockDiscovery.region", NULL},
	{"json", "json_unset_only", 'u', "agents.defaults.model", NULL},
	{"inline", "inline_set_new", 's', "b.e", "3"},
	{"inline", "inline_set_tc", 's', "e.y", "2"},
	{"inline", "inline_set_empty", 's', "f.z", "1"},
	{"inline", "inline_set_append", 's', "b.d[3]", "4"},
	{"inline", "inline_unset_first", 'u', "a", NULL},
	{"inline", "inline_unset_elem", 'u', "b.d[1]", NULL},
	{"inline", "inline_unset_tc", 'u', "e.x", NULL},
	{"inline", "inline_unset_last", 'u', "f", NULL},
	{"empty", "empty_set", 's', "a.b", "true"},
	{"blank", "blank_set", 's', "models.bedrockDiscovery.enabled", "true"},
	{"", "missing_set", 's', "serve.listen", "127.0.0.1:8080"},
	{"crlf", "crlf_set", 's', "c", "3"},
	{"crlf", "crlf_unset", 'u', "b", NULL},
};

static char *read_golden(const char *name, size_t *n)
{
	char path[256];

	if (!name[0]) {
		*n = 0;
		return calloc(1, 1);
	}
	snprintf(path, sizeof path, "tests/config/%s.json5", name);
	return t_slurp(path, n);
}

static void test_golden(void)
{
	int update = getenv("BROCK_UPDATE_GOLDEN") != NULL;

	for (size_t i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
		const struct golden *g = &goldens[i];
		size_t n, wn;
		char *in = read_golden(g->in, &n), *want;
		struct buf out;
		struct err e;
		int rc, ok;

		buf_init(&out, 1 << 22);
		if (!in) {
			t_case(g->out, 0);
			continue;
		}
		rc = g->op == 's' ? config_edit_set("t", in, n, g->path, g->value, &out, &e)
				  : config_edit_unset("t", in, n, g->path, &out, &e);
		if (rc < 0)
			fprintf(stderr, "  %s: %s\n", g->out, e.msg);
		if (update && rc == 0) {
			char path[256];
			snprintf(path, sizeof path, "tests/config/%s.json5", g->out);
			FILE *f = fopen(path, "wb");
			if (f) {
				fwrite(out.p, 1, out.len, f);
				fclose(f);
			}
		}
		want = read_golden(g->out, &wn);
		ok = rc == 0 && want && out.len == wn && memcmp(out.p, want, wn) == 0;
		if (!ok && rc == 0)
			fprintf(stderr, "  %s differs; got:\n%s\n", g->out, out.p ? (char *)out.p : "");
		t_case(g->out, ok);
		free(want);
		free(in);
		buf_free(&out);
	}
}

/* Every edit result must load as a config and show the value via the
 * schema reader where it is a schema field. */
static void test_edit_semantics(void)
{
	size_t n;
	char *in = read_golden("base", &n);
	struct buf out;
	struct err e;
	struct config c;

	buf_init(&out, 1 << 22);
	CHECK(config_edit_set("t", in, n, "models.bedrockDiscovery.refreshInterval", "0x10", &out,
			      &e) == 0);
	CHECK(config_parse("t", (char *)out.p, out.len, &c, &e) == 0);
	CHECK(c.discovery.refresh_interval == 16);
	CHECK_STR(c.serve_listen, "127.0.0.1:8080");
	config_free(&c);
	buf_reset(&out);
	CHECK(config_edit_set("t", in, n, "plugins.entries['amazon-bedrock'].config.discovery.region",
			      "eu-central-1", &out, &e) == 0);
	CHECK(config_parse("t", (char *)out.p, out.len, &c, &e) == 0);
	CHECK_STR(c.discovery.region, "eu-central-1");
	config_free(&c);
	buf_reset(&out);
	/* an unset of what is not there changes nothing */
	CHECK(config_edit_unset("t", in, n, "models.nothing.here", &out, &e) == 0);
	CHECK_MEM(out.p, out.len, in, n);
	buf_reset(&out);
	/* duplicates: set edits the effective (last) one, unset removes all */
	const char *dup = "{a: 1, b: 2, a: 3}";
	CHECK(config_edit_set("t", dup, strlen(dup), "a", "4", &out, &e) == 0);
	CHECK_STR((char *)out.p, "{a: 1, b: 2, a: 4}");
	buf_reset(&out);
	CHECK(config_edit_unset("t", dup, strlen(dup), "a", &out, &e) == 0);
	CHECK_STR((char *)out.p, "{b: 2}");
	buf_free(&out);
	free(in);
}

/* `config unset` of a duplicated key removes every copy in that object, each
 * the way removing it alone would, in one pass: 20,000 copies in each layout
 * (the parse per copy this replaced took 14 s on the first: bench config). */
static void unset_copies(const char *head, const char *item, size_t copies, const char *tail,
			 const char *path, const char *want_head, const char *want_item,
			 const char *want_tail)
{
	struct buf in, want, out;
	struct err e;

	buf_init(&in, 1 << 22);
	buf_init(&want, 1 << 22);
	buf_init(&out, 1 << 22);
	CHECK(buf_append_str(&in, head) == 0 && buf_append_str(&want, want_head) == 0);
	for (size_t k = 0; k < copies; k++)
		CHECK(buf_append_str(&in, item) == 0 && buf_append_str(&want, want_item) == 0);
	CHECK(buf_append_str(&in, tail) == 0 && buf_append_str(&want, want_tail) == 0);
	CHECK(config_edit_unset("t", (char *)in.p, in.len, path, &out, &e) == 0);
	CHECK_MEM(out.p, out.len, want.p, want.len);
	buf_free(&in);
	buf_free(&want);
	buf_free(&out);
}

static void test_unset_duplicates(void)
{
	/* lines of their own; two on one line; the last takes b's comma */
	unset_copies("{\n  a: 1, // one\n  b: 2,\n  a: 3, a: 4,\n  a: 5 // five\n}\n", "", 0, "",
		     "a", "{\n  b: 2\n}\n", "", "");
	/* comments before a comma stay, as they would for one copy */
	unset_copies("{a: 1 /* c */, b: 2, a: 2 /* d */}", "", 0, "", "a", "{b: 2 /* d */}", "",
		     "");
	/* only the object the path resolves to (the last `a`) */
	unset_copies("{\r\n  a: {a: 1, a: 2},\r\n  a: {x: 1, a: 3, a: 4}\r\n}", "", 0, "", "a.a",
		     "{\r\n  a: {a: 1, a: 2},\r\n  a: {x: 1}\r\n}", "", "");
	unset_copies("{\n", "  a: 1,\n", 20000, "  b: 2,\n}\n", "a", "{\n", "", "  b: 2,\n}\n");
	unset_copies("{", "a: 1, ", 20000, "b: 2}", "a", "{", "", "b: 2}");
	unset_copies("{b: 0, ", "a: 1 /* c */, ", 20000, "a: 2}", "a", "{b: 0", " /* c */", "}");
	/* an element is one item, never its equals */
	unset_copies("{\n  keep: [\n    1,\n", "    1,\n", 20000, "  ],\n}\n", "keep[0]",
		     "{\n  keep: [\n", "    1,\n", "  ],\n}\n");
}

static void expect_edit_err(const char *text, char op, const char *path, const char *value,
			    const char *want)
{
	struct buf out;
	struct err e;
	int rc;

	buf_init(&out, 1 << 20);
	err_clear(&e);
	rc = op == 's' ? config_edit_set("t", text, strlen(text), path, value, &out, &e)
		       : config_edit_unset("t", text, strlen(text), path, &out, &e);
	CHECK(rc < 0 && e.cls == ERR_USAGE);
	CHECK(out.len == 0);
	CHECK_STR(e.msg, want);
	buf_free(&out);
}

static void test_edit_errors(void)
{
	const char *t = "{a: {b: true, l: [1, 2]}}";

	expect_edit_err(t, 's', "a.b.c", "1", "a.b: is a boolean, not an object");
	expect_edit_err(t, 's', "a.l[5]", "1", "a.l: index 5 is out of range (2 elements)");
	expect_edit_err(t, 's', "a.l.x", "1", "a.l: is an array, not an object");
	expect_edit_err(t, 's', "a[0]", "1", "a: is an object, not an array");
	expect_edit_err(t, 's', "x[0]", "1", "x: does not exist; cannot create an array element");
	expect_edit_err(t, 's', "a..b", "1", "bad path: empty key at offset 2");
	expect_edit_err(t, 's', "", "1", "config set needs a path");
	expect_edit_err(t, 'u', "", NULL, "config unset needs a path");
	expect_edit_err("{a: 1,, }", 's', "a", "2", "t:1:7: expected a key or '}'");
	expect_edit_err("{a: 1,, }", 'u', "a", NULL, "t:1:7: expected a key or '}'");
	expect_edit_err("[]", 's', "a", "2", "t: the top level must be an object ({ ... })");
	expect_edit_err("", 's', "[0]", "2", "(top level): is an object, not an array");
	expect_edit_err(t, 's', "a.s", "\xff", "value: json writer: invalid UTF-8 in string at byte 0");
}

/* ---- files ---- */

static char tmpdir[256];

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

static void test_files(void)
{
	char dir[300], file[400], lnk[400];
	struct stat st;
	struct err e;
	struct buf out;
	size_t n;
	char *txt;

	snprintf(dir, sizeof dir, "%s/sub/brock", tmpdir);
	snprintf(file, sizeof file, "%s/config.json5", dir);
	/* a missing file in a missing directory */
	CHECK(config_set(file, "models.bedrockDiscovery.enabled", "true", &e) == 0);
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(count_entries(dir) == 1); /* the file alone: no lock or temp file (SPEC 4) */
	txt = t_slurp(file, &n);
	CHECK_STR(txt, "{\n  models: {\n    bedrockDiscovery: {\n      enabled: true\n    }\n  }\n}\n");
	free(txt);

	/* an existing 0644 file ends up 0600 */
	chmod(file, 0644);
	CHECK(config_set(file, "serve.listen", "127.0.0.1:1", &e) == 0);
	CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(count_entries(dir) == 1);

	/* get prints canonical JSON */
	buf_init(&out, 1 << 20);
	CHECK(config_get_json(file, "serve", &out, &e) == 0);
	CHECK_STR((char *)out.p, "{\"listen\":\"127.0.0.1:1\"}");
	buf_reset(&out);
	CHECK(config_set(file, "x", "{a: 0x10, b: .5, 'c d': [+1, Infinity, 'q\\'', null, 1e2],}",
			 &e) == 0);
	CHECK(config_get_json(file, "x", &out, &e) == 0);
	CHECK_STR((char *)out.p, "{\"a\":16,\"b\":0.5,\"c d\":[1,null,\"q'\",null,1e2]}");
	buf_reset(&out);
	CHECK(config_get_json(file, "x.nope", &out, &e) < 0 && e.cls == ERR_USAGE);
	CHECK_STR(e.msg, "x.nope: not set");
	buf_reset(&out);
	CHECK(config_get_json(file, "", &out, &e) == 0 && out.len > 10 && out.p[0] == '{');
	buf_free(&out);

	/* a broken file: set and unset refuse, the bytes stay as they were */
	static const char broken[] = "{ a: 1 // fine\n  b: 2 }\n";
	int fd = open(file, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, broken, sizeof broken - 1) == (ssize_t)(sizeof broken - 1));
	close(fd);
	CHECK(config_set(file, "a", "3", &e) < 0 && e.cls == ERR_USAGE);
	CHECK(strstr(e.msg, "config.json5:2:3: expected ',' or '}'") != NULL);
	CHECK(config_unset(file, "a", &e) < 0);
	txt = t_slurp(file, &n);
	CHECK_MEM(txt, n, broken, sizeof broken - 1);
	free(txt);
	CHECK(count_entries(dir) == 1);

	/* unset of a missing key leaves the file (inode) alone */
	fd = open(file, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "{a: 1}\n", 7) == 7);
	close(fd);
	struct stat before;
	stat(file, &before);
	CHECK(config_unset(file, "b.c", &e) == 0);
	CHECK(stat(file, &st) == 0 && st.st_ino == before.st_ino);
	CHECK(config_unset(file, "a", &e) == 0);
	txt = t_slurp(file, &n);
	CHECK_STR(txt, "{}\n");
	free(txt);

	/* a symlinked config is edited through the link */
	snprintf(lnk, sizeof lnk, "%s/link.json5", tmpdir);
	CHECK(symlink(file, lnk) == 0);
	CHECK(config_set(lnk, "k", "1", &e) == 0);
	CHECK(lstat(lnk, &st) == 0 && S_ISLNK(st.st_mode));
	txt = t_slurp(file, &n);
	CHECK_STR(txt, "{\n  k: 1\n}\n");
	free(txt);

	/* config_load on the real file */
	struct config c;
	CHECK(config_load_file(file, &c, &e) == 0 && c.exists);
	config_free(&c);
	snprintf(lnk, sizeof lnk, "%s/none.json5", tmpdir);
	CHECK(config_load_file(lnk, &c, &e) == 0 && !c.exists);
	config_free(&c);
}

/* Symlinks planted by somebody else (a config path in a shared directory
 * such as /tmp): a "<file>.lock" link is nothing to us (the lock is on the
 * directory), and the config is edited through a link only when the link is
 * ours. */
static void test_foreign_symlinks(void)
{
	char file[400], lk[420], victim[400], other[400];
	struct stat st;
	struct err e;
	size_t n;
	char *txt;

	snprintf(file, sizeof file, "%s/shared.json5", tmpdir);
	snprintf(lk, sizeof lk, "%s.lock", file);
	snprintf(victim, sizeof victim, "%s/created-by-lock", tmpdir);
	CHECK(symlink(victim, lk) == 0);
	CHECK(config_set(file, "k", "1", &e) == 0);
	CHECK(lstat(victim, &st) < 0); /* nothing created through the link */
	CHECK(lstat(lk, &st) == 0 && S_ISLNK(st.st_mode));
	unlink(lk);
	unlink(file);

	if (geteuid() != 0) {
		t_case("foreign config symlink (needs root to plant one)", 1);
		return;
	}
	snprintf(other, sizeof other, "%s/someone-elses.json", tmpdir);
	FILE *f = fopen(other, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("{\"keep\": true}\n", f);
	fclose(f);
	snprintf(file, sizeof file, "%s/planted.json5", tmpdir);
	CHECK(symlink(other, file) == 0);
	CHECK(lchown(file, 65534, 65534) == 0);
	CHECK(config_set(file, "k", "1", &e) < 0 && e.cls == ERR_USAGE);
	CHECK(strstr(e.msg, "symbolic link") != NULL);
	txt = t_slurp(other, &n);
	CHECK_STR(txt, "{\"keep\": true}\n");
	free(txt);
	CHECK(lstat(file, &st) == 0 && S_ISLNK(st.st_mode));
}

static void test_concurrent(void)
{
	char file[400];
	pid_t pid[2];
	size_t n;
	char *txt;

	snprintf(file, sizeof file, "%s/conc.json5", tmpdir);
	for (int w = 0; w < 2; w++) {
		pid[w] = fork();
		if (pid[w] == 0) {
			int bad = 0;
			for (int i = 0; i < 50; i++) {
				char key[64];
				struct err e;
				snprintf(key, sizeof key, "keys.w%d_%d", w, i);
				if (config_set(file, key, "true", &e) < 0)
					bad++;
			}
			_exit(bad ? 1 : 0);
		}
	}
	for (int w = 0; w < 2; w++) {
		int status = -1;
		waitpid(pid[w], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	txt = t_slurp(file, &n);
	CHECK(txt != NULL);
	if (!txt)
		return;
	struct j5_doc d;
	struct err e;
	CHECK(j5_parse(&d, txt, n, &e) == 0);
	uint32_t keys = j5_member_str(&d, 0, "keys");
	CHECK(keys != J5_NONE && d.nodes[keys].count == 100);
	int found = 0;
	for (int w = 0; w < 2; w++)
		for (int i = 0; i < 50; i++) {
			char key[64];
			snprintf(key, sizeof key, "w%d_%d", w, i);
			found += j5_member_str(&d, keys, key) != J5_NONE;
		}
	CHECK(found == 100);
	j5_free(&d);
	free(txt);
}

static void rm_rf(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char p[600];
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof p, "%s/%s", path, de->d_name);
			rm_rf(p);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/brock_test_config.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_spec_example);
	T_RUN(test_defaults_and_layouts);
	T_RUN(test_type_errors);
	T_RUN(test_serve_policy);
	T_RUN(test_path);
	T_RUN(test_golden);
	T_RUN(test_edit_semantics);
	T_RUN(test_unset_duplicates);
	T_RUN(test_edit_errors);
	T_RUN(test_files);
	T_RUN(test_foreign_symlinks);
	T_RUN(test_concurrent);
	rm_rf(tmpdir);
	return t_done(argv[0]);
}
