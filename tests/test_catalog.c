/* test_catalog: merging configured and discovered models, tags, the
 * --provider filter, refs, and the three renderings byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/catalog.h"
#include "wire/json.h"
#include "t.h"

static struct err e;

static const char cfg_text[] =
	"{\n"
	"  models: {\n"
	"    bedrockDiscovery: { defaultContextWindow: 100000, defaultMaxTokens: 2048 },\n"
	"    providers: { 'amazon-bedrock': { models: [\n"
	"      { id: 'us.anthropic.claude-opus-4-6-v1:0', name: 'Opus (mine)', reasoning: true,\n"
	"        input: ['text', 'image'], contextWindow: 200000, maxTokens: 8192,\n"
	"        cost: { input: 15, output: 75 } },\n"
	"      { id: 'meta.llama3-70b-instruct-v1:0' },\n"
	"      { id: 'custom.thing', input: ['image', 'audio'] },\n"
	"      { id: 'meta.llama3-70b-instruct-v1:0', name: 'dup' },\n"
	"    ] } },\n"
	"  },\n"
	"  agents: { defaults: { model: { primary: 'amazon-bedrock/meta.llama3-70b-instruct-v1:0' } } },\n"
	"}\n";

/* an application inference profile: its ARN is the id */
#define APP "arn:aws:bedrock:us-east-1:1:application-inference-profile/appprof01x"

static void disc_sample(struct disc_list *d)
{
	memset(d, 0, sizeof *d);
	disc_list_add(d, "us.anthropic.claude-opus-4-6-v1:0", 33, "US Claude Opus 4.6", 18, "anthropic", 9,
		      DISC_IN_TEXT, 1, &e);
	disc_list_add(d, "meta.llama3-70b-instruct-v1:0", 29, "Llama 3 70B Instruct", 20, "meta", 4,
		      DISC_IN_TEXT, 0, &e);
	disc_list_add(d, "mistral.mistral-large-2402-v1:0", 31, "Mistral Large", 13, "mistral ai", 10,
		      DISC_IN_TEXT, 0, &e);
	disc_list_add(d, "amazon.nova-pro-v1:0", 20, "Nova Pro", 8, "amazon", 6,
		      DISC_IN_TEXT | DISC_IN_IMAGE, 0, &e);
	disc_list_add(d, APP, strlen(APP), "batch-nova", 10, "amazon", 6, DISC_IN_TEXT | DISC_IN_IMAGE, 1,
		      &e);
	disc_list_set_base(d, d->n - 1, "amazon.nova-pro-v1:0", 20, &e); /* its foundation model */
	disc_list_add(d, "us.amazon.nova-pro-v1:0", 23, "US Nova Pro", 11, "amazon", 6,
		      DISC_IN_TEXT | DISC_IN_IMAGE, 1, &e);
}

static int load_cfg(struct config *c, const char *text)
{
	return config_parse("test.json5", text, strlen(text), c, &e);
}

static void t_merge(void)
{
	struct config c;
	struct disc_list d;
	struct catalog cat;
	const struct cat_model *m;

	CHECK(load_cfg(&c, cfg_text) == 0);
	disc_sample(&d);
	CHECK(d.n == 6);
	CHECK(catalog_build(&cat, &c, &d, &e) == 0);
	CHECK(cat.n == 7);
	if (cat.n != 7)
		goto out;
	/* configured first, config order, duplicates dropped */
	CHECK_STR(cat.v[0].id, "us.anthropic.claude-opus-4-6-v1:0");
	CHECK_STR(cat.v[1].id, "meta.llama3-70b-instruct-v1:0");
	CHECK_STR(cat.v[2].id, "custom.thing");
	/* then discovered, by maker then id */
	CHECK_STR(cat.v[3].id, "amazon.nova-pro-v1:0");
	CHECK_STR(cat.v[4].id, APP);
	CHECK_STR(cat.v[5].id, "us.amazon.nova-pro-v1:0");
	CHECK_STR(cat.v[6].id, "mistral.mistral-large-2402-v1:0");

	m = &cat.v[0]; /* configured wins over discovered */
	CHECK_STR(m->name, "Opus (mine)");
	CHECK(m->input == (DISC_IN_TEXT | DISC_IN_IMAGE));
	CHECK(m->context_window == 200000 && m->max_tokens == 8192 && m->reasoning == 1);
	CHECK(m->has_cost && m->cost.input == 15 && m->cost.output == 75);
	CHECK(m->tags == (CAT_TAG_CONFIGURED | CAT_TAG_DISCOVERED | CAT_TAG_PROFILE | CAT_TAG_REASONING));
	CHECK_STR(m->maker, "anthropic");

	m = &cat.v[1]; /* configured with only an id: discovered name, the known table */
	CHECK_STR(m->name, "Llama 3 70B Instruct");
	CHECK(m->context_window == 8000 && m->max_tokens == 2048 && m->reasoning == 0);
	CHECK(m->tags == (CAT_TAG_DEFAULT | CAT_TAG_CONFIGURED | CAT_TAG_DISCOVERED));
	CHECK(!m->has_cost);

	m = &cat.v[2]; /* not discovered: name = id, unknown input kinds ignored */
	CHECK_STR(m->name, "custom.thing");
	CHECK(m->input == DISC_IN_IMAGE);
	CHECK(m->tags == CAT_TAG_CONFIGURED);
	CHECK_STR(m->maker, "custom");

	m = &cat.v[4]; /* an application profile: its foundation model's limits */
	CHECK(m->tags == (CAT_TAG_DISCOVERED | CAT_TAG_PROFILE));
	CHECK(m->context_window == 300000 && m->max_tokens == 5000);
	CHECK_STR(cat.v[6].maker, "mistral ai");

	/* refs */
	/* an application profile: by its ARN, and by its name (its key, SPEC 5) */
	CHECK(catalog_find(&cat, "amazon-bedrock/" APP) == &cat.v[4]);
	CHECK(catalog_find(&cat, "amazon-bedrock/batch-nova") == &cat.v[4]);
	CHECK(catalog_find(&cat, "batch-nova") == &cat.v[4]);
	CHECK_STR(catalog_key(&cat.v[4]), "batch-nova");
	CHECK_STR(catalog_key(&cat.v[3]), "amazon.nova-pro-v1:0");
	CHECK(catalog_find(&cat, "amazon-bedrock/nope") == NULL);
	CHECK(catalog_find(&cat, "openai/batch-nova") == NULL);
	CHECK_STR(catalog_ref_id("amazon-bedrock/x.y"), "x.y");
	CHECK_STR(catalog_ref_id("x.y"), "x.y");
out:
	catalog_free(&cat);
	disc_list_free(&d);
	config_free(&c);
}

static void t_no_discovery(void)
{
	struct config c;
	struct catalog cat;

	CHECK(load_cfg(&c, cfg_text) == 0);
	CHECK(catalog_build(&cat, &c, NULL, &e) == 0);
	CHECK(cat.n == 3);
	if (cat.n == 3) {
		CHECK_STR(cat.v[1].name, "meta.llama3-70b-instruct-v1:0");
		CHECK(cat.v[1].input == DISC_IN_TEXT); /* OpenClaw's default */
		CHECK(cat.v[1].tags == (CAT_TAG_DEFAULT | CAT_TAG_CONFIGURED));
		CHECK(cat.v[0].tags == (CAT_TAG_CONFIGURED | CAT_TAG_PROFILE | CAT_TAG_REASONING));
	}
	catalog_free(&cat);
	config_free(&c);
}

static void t_default(void)
{
	static const struct {
		const char *primary;
		size_t n;
		const char *id;
	} v[] = {
		{"amazon-bedrock/eu.meta.llama3-3-70b-v1:0", 1, "eu.meta.llama3-3-70b-v1:0"},
		{"meta.x-v1:0", 1, "meta.x-v1:0"},
		{"arn:aws:bedrock:us-east-1:1:inference-profile/us.meta.x", 1,
		 "arn:aws:bedrock:us-east-1:1:inference-profile/us.meta.x"},
		{"openai/gpt-5", 0, NULL},
		{"amazon-bedrock/", 0, NULL},
		{"", 0, NULL},
	};

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		struct config c;
		struct catalog cat;
		char text[512];
		int ok;

		snprintf(text, sizeof text, "{agents:{defaults:{model:{primary:'%s'}}}}", v[i].primary);
		ok = load_cfg(&c, text) == 0 && catalog_build(&cat, &c, NULL, &e) == 0 && cat.n == v[i].n;
		if (ok && v[i].n) {
			ok = strcmp(cat.v[0].id, v[i].id) == 0 && (cat.v[0].tags & CAT_TAG_DEFAULT) &&
			     !(cat.v[0].tags & CAT_TAG_CONFIGURED) && cat.v[0].context_window == 32000 &&
			     cat.v[0].max_tokens == 4096;
			ok = ok && strcmp(cat.v[0].maker, "meta") == 0;
			ok = ok && (i == 1 ? !(cat.v[0].tags & CAT_TAG_PROFILE) : (cat.v[0].tags & CAT_TAG_PROFILE));
		}
		t_case(v[i].primary, ok);
		catalog_free(&cat);
		config_free(&c);
	}
}

static void t_provider_filter(void)
{
	struct config c;
	struct disc_list d;
	struct catalog cat;

	CHECK(load_cfg(&c, cfg_text) == 0);
	disc_sample(&d);
	CHECK(catalog_build(&cat, &c, &d, &e) == 0);
	catalog_filter_provider(&cat, "AMAZON");
	CHECK(cat.n == 3);
	for (size_t i = 0; i < cat.n; i++)
		CHECK(strstr(cat.v[i].id, "amazon") || strcmp(cat.v[i].id, APP) == 0);
	catalog_free(&cat);

	CHECK(catalog_build(&cat, &c, &d, &e) == 0);
	catalog_filter_provider(&cat, "anthropic"); /* us. prefix skipped */
	CHECK(cat.n == 1 && strcmp(cat.v[0].id, "us.anthropic.claude-opus-4-6-v1:0") == 0);
	catalog_free(&cat);

	CHECK(catalog_build(&cat, &c, &d, &e) == 0);
	catalog_filter_provider(&cat, "mistral"); /* "mistral ai" by id prefix */
	CHECK(cat.n == 1);
	catalog_free(&cat);

	CHECK(catalog_build(&cat, &c, &d, &e) == 0);
	catalog_filter_provider(&cat, "mistral ai");
	CHECK(cat.n == 1);
	catalog_free(&cat);

	CHECK(catalog_build(&cat, &c, &d, &e) == 0);
	catalog_filter_provider(&cat, "nobody");
	CHECK(cat.n == 0);
	catalog_free(&cat);
	disc_list_free(&d);
	config_free(&c);
}

static void t_tokens(void)
{
	static const struct {
		long long n;
		const char *s;
	} v[] = {
		{0, "0"},         {-5, "0"},        {4096, "4096"},   {8192, "8192"},
		{9999, "9999"},   {10000, "10k"},   {32000, "32k"},   {32768, "33k"},
		{128000, "128k"}, {200000, "200k"}, {999499, "999k"}, {1000000, "1M"},
		{1500000, "1.5M"}, {1048576, "1M"}, {2000000, "2M"},  {1960000, "2M"},
	};

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		char b[32];

		catalog_fmt_tokens(v[i].n, b, sizeof b);
		if (strcmp(b, v[i].s) != 0)
			fprintf(stderr, "  %lld -> %s, want %s\n", v[i].n, b, v[i].s);
		t_case(v[i].s, strcmp(b, v[i].s) == 0);
	}
	CHECK_STR(catalog_input_str(DISC_IN_TEXT), "text");
	CHECK_STR(catalog_input_str(DISC_IN_TEXT | DISC_IN_IMAGE), "text+image");
	CHECK_STR(catalog_input_str(DISC_IN_IMAGE), "image");
	CHECK_STR(catalog_input_str(0), "-");
}

static void t_render(void)
{
	struct config c;
	struct disc_list d;
	struct catalog cat;
	struct buf b;
	struct json_doc doc;
	static const char want_table[] =
		"Model                                             Input       Ctx   MaxOut  Tags\n"
		"amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0  text+image  200k  8192    configured,discovered,profile,reasoning\n"
		"amazon-bedrock/meta.llama3-70b-instruct-v1:0      text        8000  2048    default,configured,discovered\n"
		"amazon-bedrock/custom.thing                       image       100k  2048    configured\n"
		"amazon-bedrock/amazon.nova-pro-v1:0               text+image  300k  5000    discovered\n"
		"amazon-bedrock/batch-nova                         text+image  300k  5000    discovered,profile\n"
		"amazon-bedrock/us.amazon.nova-pro-v1:0            text+image  300k  5000    discovered,profile\n"
		"amazon-bedrock/mistral.mistral-large-2402-v1:0    text        32k   8192    discovered\n";
	static const char want_plain[] =
		"amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0\n"
		"amazon-bedrock/meta.llama3-70b-instruct-v1:0\n"
		"amazon-bedrock/custom.thing\n"
		"amazon-bedrock/amazon.nova-pro-v1:0\n"
		"amazon-bedrock/batch-nova\n"
		"amazon-bedrock/us.amazon.nova-pro-v1:0\n"
		"amazon-bedrock/mistral.mistral-large-2402-v1:0\n";

	CHECK(load_cfg(&c, cfg_text) == 0);
	disc_sample(&d);
	CHECK(catalog_build(&cat, &c, &d, &e) == 0);
	buf_init(&b, 1 << 20);
	CHECK(catalog_table(&cat, &b) == 0);
	CHECK_STR((const char *)b.p, want_table);

	buf_reset(&b);
	CHECK(catalog_plain(&cat, &b) == 0);
	CHECK_STR((const char *)b.p, want_plain);

	buf_reset(&b);
	CHECK(catalog_json(&cat, &b, &e) == 0);
	CHECK(json_parse_alloc(&doc, (const char *)b.p, b.len, 100000, &e) == 0);
	{
		int64_t n = 0;
		int ms = json_get(&doc, 0, "models");

		CHECK(json_int64(&doc, json_get(&doc, 0, "count"), &n, &e) == 0 && n == 7);
		CHECK(json_size(&doc, ms) == 7);
		CHECK(json_size(&doc, 0) == 2);
	}
	json_doc_free(&doc);
	CHECK(strstr((const char *)b.p,
		     "{\"key\":\"amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0\",\"id\":\"us.anthropic.claude-opus-4-6-v1:0\","
		     "\"name\":\"Opus (mine)\",\"input\":[\"text\",\"image\"],\"contextWindow\":200000,\"maxTokens\":8192,"
		     "\"reasoning\":true,\"tags\":[\"configured\",\"discovered\",\"profile\",\"reasoning\"]}") != NULL);
	CHECK(strstr((const char *)b.p, "\"tags\":[\"default\",\"configured\",\"discovered\"]") != NULL);
	CHECK(strncmp((const char *)b.p, "{\"count\":7,\"models\":[{", 22) == 0);

	/* empty catalogue: header only / nothing / count 0 */
	catalog_free(&cat);
	memset(&cat, 0, sizeof cat);
	buf_reset(&b);
	CHECK(catalog_table(&cat, &b) == 0);
	CHECK_STR((const char *)b.p, "Model  Input  Ctx  MaxOut  Tags\n");
	buf_reset(&b);
	CHECK(catalog_plain(&cat, &b) == 0 && b.len == 0);
	CHECK(catalog_json(&cat, &b, &e) == 0);
	CHECK_STR((const char *)b.p, "{\"count\":0,\"models\":[]}");
	buf_free(&b);
	disc_list_free(&d);
	config_free(&c);
}

/* Names with control characters and non-ASCII survive into JSON, escaped. */
static void t_json_escapes(void)
{
	struct config c;
	struct disc_list d;
	struct catalog cat;
	struct buf b;

	memset(&d, 0, sizeof d);
	disc_list_add(&d, "x.y", 3, "a\"b\tc\\d\xc3\xa9", 10, "x", 1, DISC_IN_TEXT, 0, &e);
	CHECK(load_cfg(&c, "{}") == 0);
	CHECK(catalog_build(&cat, &c, &d, &e) == 0);
	buf_init(&b, 1 << 16);
	CHECK(catalog_json(&cat, &b, &e) == 0);
	CHECK(strstr((const char *)b.p, "\"name\":\"a\\\"b\\tc\\\\d\xc3\xa9\"") != NULL);
	buf_free(&b);
	catalog_free(&cat);
	disc_list_free(&d);
	config_free(&c);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(t_merge);
	T_RUN(t_no_discovery);
	T_RUN(t_default);
	T_RUN(t_provider_filter);
	T_RUN(t_tokens);
	T_RUN(t_render);
	T_RUN(t_json_escapes);
	return t_done(argv[0]);
}
