/* test_discovery: SPEC 5 filters on the emulator's fixtures and on small
 * hand-written answers, profile pages, the cache format (round trip, every
 * corruption), cache files and names, and the decisions of disc_run
 * (off, skipped, fresh, stale, errors) without any network. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "net/conn.h"
#include "bedrock/discovery.h"
#include "t.h"

static struct err e;

#define LIT(s) s, sizeof(s) - 1

static int parse_models(const char *js, const char *filter, struct disc_list *fms)
{
	memset(fms, 0, sizeof *fms);
	return disc_parse_models(js, strlen(js), filter, fms, &e);
}

static int has(const struct disc_list *l, const char *id)
{
	return disc_list_find(l, id, strlen(id)) >= 0;
}

static const struct disc_model *get(const struct disc_list *l, const char *id)
{
	long i = disc_list_find(l, id, strlen(id));

	return i >= 0 ? &l->v[i] : NULL;
}

/* One modelSummaries entry with the given knobs. */
static void model_json(struct buf *b, const char *id, const char *prov, const char *in,
		       const char *out, const char *stream, const char *inf, const char *life)
{
	buf_appendf(b,
		    "{\"modelId\":\"%s\",\"modelName\":\"N %s\",\"providerName\":\"%s\","
		    "\"inputModalities\":%s,\"outputModalities\":%s,"
		    "\"responseStreamingSupported\":%s,\"inferenceTypesSupported\":%s,"
		    "\"modelLifecycle\":{\"status\":\"%s\"}}",
		    id, id, prov, in, out, stream, inf, life);
}

static void t_filters_each(void)
{
	struct buf b;
	struct disc_list fms, out;

	buf_init(&b, 1 << 20);
	buf_append_str(&b, "{\"modelSummaries\":[");
	model_json(&b, "a.ok-v1", "Anthropic", "[\"TEXT\",\"IMAGE\"]", "[\"TEXT\"]", "true", "[\"ON_DEMAND\"]", "ACTIVE");
	buf_append_byte(&b, ',');
	model_json(&b, "a.nostream", "Anthropic", "[\"TEXT\"]", "[\"TEXT\"]", "false", "[\"ON_DEMAND\"]", "ACTIVE");
	buf_append_byte(&b, ',');
	model_json(&b, "a.embed", "Anthropic", "[\"TEXT\"]", "[\"EMBEDDING\"]", "true", "[\"ON_DEMAND\"]", "ACTIVE");
	buf_append_byte(&b, ',');
	model_json(&b, "a.legacy", "Anthropic", "[\"TEXT\"]", "[\"TEXT\"]", "true", "[\"ON_DEMAND\"]", "LEGACY");
	buf_append_byte(&b, ',');
	model_json(&b, "a.profonly", "Anthropic", "[\"TEXT\"]", "[\"TEXT\"]", "true", "[\"INFERENCE_PROFILE\"]", "ACTIVE");
	buf_append_byte(&b, ',');
	model_json(&b, "mistral.m1", "Mistral AI", "[\"TEXT\"]", "[\"TEXT\",\"IMAGE\"]", "true", "[\"ON_DEMAND\",\"PROVISIONED\"]", "ACTIVE");
	buf_append_byte(&b, ',');
	model_json(&b, "x.imgin", "", "[\"IMAGE\"]", "[\"TEXT\"]", "true", "[\"ON_DEMAND\"]", "ACTIVE");
	buf_append_byte(&b, ',');
	/* streaming as a string, not a bool: not streaming */
	model_json(&b, "a.strbool", "Anthropic", "[\"TEXT\"]", "[\"TEXT\"]", "\"true\"", "[\"ON_DEMAND\"]", "ACTIVE");
	buf_append_str(&b, ",17,\"x\",{\"modelId\":\"bad id\",\"responseStreamingSupported\":true},"
			   "{\"modelId\":\"a.nofields\"}]}");

	CHECK(parse_models((const char *)b.p, "", &fms) == 0);
	CHECK(fms.n == 4);
	CHECK(has(&fms, "a.ok-v1") && has(&fms, "a.profonly") && has(&fms, "mistral.m1") &&
	      has(&fms, "x.imgin"));
	CHECK(!has(&fms, "a.nostream") && !has(&fms, "a.embed") && !has(&fms, "a.legacy") &&
	      !has(&fms, "a.strbool") && !has(&fms, "a.nofields"));
	CHECK(get(&fms, "a.ok-v1")->input == (DISC_IN_TEXT | DISC_IN_IMAGE));
	CHECK(get(&fms, "a.ok-v1")->on_demand == 1);
	CHECK(get(&fms, "a.profonly")->on_demand == 0);
	CHECK_STR(get(&fms, "a.ok-v1")->provider, "anthropic");
	CHECK_STR(get(&fms, "a.ok-v1")->name, "N a.ok-v1");
	CHECK_STR(get(&fms, "mistral.m1")->provider, "mistral ai");
	/* no providerName: the id prefix */
	CHECK_STR(get(&fms, "x.imgin")->provider, "x");
	CHECK(get(&fms, "x.imgin")->input == DISC_IN_IMAGE);

	memset(&out, 0, sizeof out);
	CHECK(disc_select_on_demand(&fms, &out, &e) == 0);
	CHECK(out.n == 3 && !has(&out, "a.profonly"));
	disc_list_free(&out);
	disc_list_free(&fms);

	/* provider filter: by providerName (lower-cased) and by id prefix */
	CHECK(parse_models((const char *)b.p, "mistral", &fms) == 0);
	CHECK(fms.n == 1 && has(&fms, "mistral.m1"));
	disc_list_free(&fms);
	CHECK(parse_models((const char *)b.p, "mistral ai", &fms) == 0);
	CHECK(fms.n == 1 && has(&fms, "mistral.m1"));
	disc_list_free(&fms);
	CHECK(parse_models((const char *)b.p, "anthropic,x", &fms) == 0);
	CHECK(fms.n == 3 && !has(&fms, "mistral.m1"));
	disc_list_free(&fms);
	CHECK(parse_models((const char *)b.p, "nobody", &fms) == 0);
	CHECK(fms.n == 0);
	disc_list_free(&fms);
	buf_free(&b);
}

static void t_models_errors(void)
{
	struct disc_list fms;

	CHECK(parse_models("{\"modelSummaries\":[", "", &fms) < 0 && e.cls == ERR_PROTO);
	CHECK(parse_models("[]", "", &fms) < 0 && e.cls == ERR_PROTO);
	CHECK(parse_models("{}", "", &fms) < 0 && e.cls == ERR_PROTO);
	CHECK(parse_models("{\"modelSummaries\":{}}", "", &fms) < 0 && e.cls == ERR_PROTO);
	CHECK(parse_models("{\"__type\":\"com.amazon#UnknownOperationException\",\"message\":\"nope\"}",
			   "", &fms) < 0);
	CHECK(e.cls == ERR_SERVICE);
	CHECK(strstr(e.msg, "UnknownOperationException: nope") != NULL);
	CHECK(parse_models("", "", &fms) < 0 && e.cls == ERR_PROTO);
	CHECK(parse_models("{\"modelSummaries\":[]}", "", &fms) == 0 && fms.n == 0);
	disc_list_free(&fms);
	/* duplicates keep the first */
	CHECK(parse_models("{\"modelSummaries\":["
			   "{\"modelId\":\"a.b\",\"modelName\":\"one\",\"responseStreamingSupported\":true,"
			   "\"outputModalities\":[\"TEXT\"],\"modelLifecycle\":{\"status\":\"ACTIVE\"}},"
			   "{\"modelId\":\"a.b\",\"modelName\":\"two\",\"responseStreamingSupported\":true,"
			   "\"outputModalities\":[\"TEXT\"],\"modelLifecycle\":{\"status\":\"ACTIVE\"}}]}",
			   "", &fms) == 0);
	CHECK(fms.n == 1 && strcmp(fms.v[0].name, "one") == 0);
	/* no inferenceTypesSupported: not on demand */
	CHECK(fms.n == 1 && fms.v[0].on_demand == 0);
	disc_list_free(&fms);
	/* escaped strings are decoded; a NUL in a name becomes a space */
	CHECK(parse_models("{\"modelSummaries\":["
			   "{\"modelId\":\"a\\u002eb\",\"modelName\":\"t\\tab\\u0000z\",\"responseStreamingSupported\":true,"
			   "\"outputModalities\":[\"TEXT\"],\"modelLifecycle\":{\"status\":\"ACTIVE\"}}]}",
			   "", &fms) == 0);
	CHECK(fms.n == 1 && strcmp(fms.v[0].id, "a.b") == 0 && strcmp(fms.v[0].name, "t\tab z") == 0);
	disc_list_free(&fms);
}

static const char fm_small[] =
	"{\"modelSummaries\":["
	"{\"modelId\":\"anthropic.c1\",\"modelName\":\"C1\",\"providerName\":\"Anthropic\","
	"\"inputModalities\":[\"TEXT\",\"IMAGE\"],\"outputModalities\":[\"TEXT\"],"
	"\"responseStreamingSupported\":true,\"inferenceTypesSupported\":[\"INFERENCE_PROFILE\"],"
	"\"modelLifecycle\":{\"status\":\"ACTIVE\"}},"
	"{\"modelId\":\"amazon.e1\",\"modelName\":\"E1\",\"providerName\":\"Amazon\","
	"\"inputModalities\":[\"TEXT\"],\"outputModalities\":[\"EMBEDDING\"],"
	"\"responseStreamingSupported\":false,\"inferenceTypesSupported\":[\"ON_DEMAND\"],"
	"\"modelLifecycle\":{\"status\":\"ACTIVE\"}}]}";

/* the emulator's application profiles (tests/emulator/fixtures.py) */
#define FX_APP "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"
#define APP_ARN "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/app123"

static void t_profiles(void)
{
	struct disc_list fms, out;
	struct buf next;
	static const char page[] =
		"{\"inferenceProfileSummaries\":["
		"{\"inferenceProfileId\":\"us.anthropic.c1\",\"inferenceProfileName\":\"US C1\",\"status\":\"ACTIVE\","
		" \"type\":\"SYSTEM_DEFINED\",\"models\":[{\"modelArn\":\"arn:aws:bedrock:us-east-1::foundation-model/anthropic.c1\"},"
		"  {\"modelArn\":\"arn:aws:bedrock:us-west-2::foundation-model/anthropic.c1\"}]},"
		"{\"inferenceProfileId\":\"apac.anthropic.c1\",\"status\":\"INACTIVE\","
		" \"models\":[{\"modelArn\":\"arn:aws:bedrock:ap-south-1::foundation-model/anthropic.c1\"}]},"
		"{\"inferenceProfileId\":\"us.amazon.e1\",\"status\":\"ACTIVE\","
		" \"models\":[{\"modelArn\":\"arn:aws:bedrock:us-east-1::foundation-model/amazon.e1\"}]},"
		"{\"inferenceProfileId\":\"us.unknown.z\",\"status\":\"ACTIVE\","
		" \"models\":[{\"modelArn\":\"arn:aws:bedrock:us-east-1::foundation-model/unknown.z\"}]},"
		"{\"inferenceProfileId\":\"app123\",\"inferenceProfileName\":\"team\",\"status\":\"ACTIVE\",\"type\":\"APPLICATION\","
		" \"inferenceProfileArn\":\"arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/app123\","
		" \"models\":[{\"modelArn\":\"garbage\"},{\"modelArn\":\"arn:aws:bedrock:us-east-1::foundation-model/anthropic.c1\"}]},"
		"{\"inferenceProfileId\":\"nomodels\",\"status\":\"ACTIVE\"},"
		"{\"inferenceProfileId\":\"us.anthropic.c1\",\"inferenceProfileName\":\"dup\",\"status\":\"ACTIVE\","
		" \"models\":[{\"modelArn\":\"arn:aws:bedrock:us-east-1::foundation-model/anthropic.c1\"}]}"
		"],\"nextToken\":\"AAE+\\/abc==\"}";

	CHECK(parse_models(fm_small, "", &fms) == 0);
	CHECK(fms.n == 1);
	memset(&out, 0, sizeof out);
	buf_init(&next, 8192);
	CHECK(disc_parse_profiles(page, sizeof page - 1, &fms, &out, &next, &e) == 0);
	CHECK(out.n == 2);
	/* an application profile is listed by its ARN, what is sent (SPEC 5) */
	CHECK(has(&out, "us.anthropic.c1") && has(&out, APP_ARN) && !has(&out, "app123"));
	CHECK(!has(&out, "apac.anthropic.c1") && !has(&out, "us.amazon.e1") && !has(&out, "us.unknown.z"));
	CHECK_STR(get(&out, "us.anthropic.c1")->name, "US C1");
	CHECK_STR(get(&out, "us.anthropic.c1")->provider, "anthropic");
	CHECK(get(&out, "us.anthropic.c1")->input == (DISC_IN_TEXT | DISC_IN_IMAGE));
	CHECK(get(&out, "us.anthropic.c1")->profile == 1);
	CHECK_STR(get(&out, APP_ARN)->name, "team");
	CHECK_STR(get(&out, APP_ARN)->base, "anthropic.c1"); /* its model, for the limits */
	CHECK_STR((const char *)next.p, "AAE+/abc==");

	/* last page: no nextToken; null counts as none */
	CHECK(disc_parse_profiles(LIT("{\"inferenceProfileSummaries\":[],\"nextToken\":null}"), &fms,
				  &out, &next, &e) == 0);
	CHECK(next.len == 0 && out.n == 2);
	CHECK(disc_parse_profiles(LIT("{\"inferenceProfileSummaries\":[]}"), &fms, &out, &next, &e) == 0);
	CHECK(next.len == 0);
	/* errors */
	CHECK(disc_parse_profiles(LIT("{\"x\":[]}"), &fms, &out, &next, &e) < 0 && e.cls == ERR_PROTO);
	CHECK(disc_parse_profiles(LIT("{\"code\":\"AccessDeniedException\",\"Message\":\"no\"}"), &fms,
				  &out, &next, &e) < 0);
	CHECK(e.cls == ERR_SERVICE && strstr(e.msg, "AccessDeniedException: no"));
	CHECK(disc_parse_profiles(LIT("{\"inferenceProfileSummaries\":[],\"nextToken\":\"a\\u0000b\"}"),
				  &fms, &out, &next, &e) < 0);
	CHECK(e.cls == ERR_PROTO && next.len == 0);
	buf_free(&next);
	disc_list_free(&out);
	disc_list_free(&fms);
}

/* The emulator's whole catalogue (tests/discovery/ JSON files are generated from
 * tests/emulator/fixtures.py): exactly the models SPEC 5 lets through. */
static void t_fixture_catalogue(void)
{
	size_t fn, pn;
	char *fm = t_slurp("tests/discovery/foundation-models.json", &fn);
	char *pr = t_slurp("tests/discovery/inference-profiles.json", &pn);
	struct disc_list fms, out, prof;
	struct buf next;
	static const char *const want[] = {
		"anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-5-sonnet-20240620-v1:0",
		"amazon.titan-text-express-v1", "amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0",
		"amazon.nova-pro-v1:0", "meta.llama3-70b-instruct-v1:0", "meta.llama3-1-8b-instruct-v1:0",
		"meta.llama3-1-70b-instruct-v1:0", "mistral.mistral-7b-instruct-v0:2",
		"mistral.mixtral-8x7b-instruct-v0:1", "mistral.mistral-large-2402-v1:0",
		"cohere.command-r-v1:0", "cohere.command-r-plus-v1:0", "ai21.jamba-1-5-large-v1:0",
		"ai21.jamba-1-5-mini-v1:0", "deepseek.v3-v1:0",
		/* profiles */
		"us.anthropic.claude-opus-4-6-v1:0", "global.anthropic.claude-opus-4-6-v1:0",
		"us.anthropic.claude-3-5-haiku-20241022-v1:0", "eu.amazon.nova-pro-v1:0",
		"us.deepseek.r1-v1:0", "us.mistral.pixtral-large-2502-v1:0",
		FX_APP "appprof00x7k2m9q",
		FX_APP "appprof01x7k2m9q"};
	static const char *const not_want[] = {
		"anthropic.claude-instant-v1", "anthropic.claude-3-sonnet-20240229-v1:0", /* LEGACY */
		"anthropic.claude-opus-4-6-v1:0", "deepseek.r1-v1:0", /* profile only */
		"amazon.titan-embed-text-v2:0", "amazon.nova-canvas-v1:0", "amazon.rerank-v1:0",
		"cohere.rerank-v3-5:0", "stability.sd3-5-large-v1:0", "amazon.nova-reel-v1:0",
		"apac.anthropic.claude-3-5-sonnet-20240620-v1:0", /* INACTIVE */
		FX_APP "appprof02x7k2m9q"}; /* embeddings */

	CHECK(fm && pr);
	if (!fm || !pr)
		return;
	memset(&fms, 0, sizeof fms);
	memset(&out, 0, sizeof out);
	memset(&prof, 0, sizeof prof);
	buf_init(&next, 8192);
	CHECK(disc_parse_models(fm, fn, "", &fms, &e) == 0);
	CHECK(disc_parse_profiles(pr, pn, &fms, &prof, &next, &e) == 0);
	CHECK(disc_select_on_demand(&fms, &out, &e) == 0);
	for (size_t i = 0; i < prof.n; i++)
		disc_list_add(&out, prof.v[i].id, strlen(prof.v[i].id), prof.v[i].name,
			      strlen(prof.v[i].name), prof.v[i].provider, strlen(prof.v[i].provider),
			      prof.v[i].input, 1, &e);
	CHECK(out.n == 40);
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		int ok = has(&out, want[i]);

		if (!ok)
			fprintf(stderr, "  missing %s\n", want[i]);
		CHECK(ok);
	}
	for (size_t i = 0; i < sizeof not_want / sizeof *not_want; i++) {
		int ok = !has(&out, not_want[i]);

		if (!ok)
			fprintf(stderr, "  unexpected %s\n", not_want[i]);
		CHECK(ok);
	}
	CHECK_STR(get(&out, FX_APP "appprof01x7k2m9q")->provider, "amazon");
	disc_list_free(&out);
	disc_list_free(&prof);
	disc_list_free(&fms);

	/* providerFilter amazon+anthropic */
	CHECK(disc_parse_models(fm, fn, "amazon,anthropic", &fms, &e) == 0);
	CHECK(disc_parse_profiles(pr, pn, &fms, &prof, &next, &e) == 0);
	for (size_t i = 0; i < prof.n; i++)
		CHECK(strcmp(prof.v[i].provider, "amazon") == 0 || strcmp(prof.v[i].provider, "anthropic") == 0);
	CHECK(!has(&prof, "us.meta.llama3-3-70b-instruct-v1:0") && has(&prof, "us.amazon.nova-pro-v1:0"));
	disc_list_free(&prof);
	disc_list_free(&fms);
	buf_free(&next);
	free(fm);
	free(pr);
}

static void t_filter_norm(void)
{
	const char *f1[] = {" Anthropic", "amazon", "anthropic ", "", "  "};
	const char *f2[] = {"amazon", "ANTHROPIC"};
	struct buf a, b;

	buf_init(&a, 1024);
	buf_init(&b, 1024);
	CHECK(disc_filter_norm(f1, 5, &a) == 0);
	CHECK_STR((const char *)a.p, "amazon,anthropic");
	CHECK(disc_filter_norm(f2, 2, &b) == 0);
	CHECK_STR((const char *)b.p, "amazon,anthropic");
	buf_reset(&a);
	CHECK(disc_filter_norm(NULL, 0, &a) == 0 && a.len == 0);
	buf_free(&a);
	buf_free(&b);

	CHECK(disc_filter_pass("", "x", "y.z"));
	CHECK(disc_filter_pass("meta", "meta", "meta.llama"));
	CHECK(disc_filter_pass("mistral", "mistral ai", "mistral.m"));
	CHECK(disc_filter_pass("ai21", "ai21 labs", "ai21.jamba"));
	CHECK(!disc_filter_pass("meta", "amazon", "amazon.nova"));
	CHECK(disc_filter_pass("a,meta", "amazon", "us.meta.llama"));
	CHECK(!disc_filter_pass("a,met", "amazon", "us.meta.llama"));
}

static void t_id_maker(void)
{
	struct {
		const char *id, *maker;
		int geo;
	} v[] = {
		{"anthropic.claude-3-haiku-20240307-v1:0", "anthropic", 0},
		{"us.anthropic.claude-opus-4-6-v1:0", "anthropic", 1},
		{"global.anthropic.claude-opus-4-6-v1:0", "anthropic", 1},
		{"apac.amazon.nova-pro-v1:0", "amazon", 1},
		{"us-gov.meta.llama3", "meta", 1},
		{"arn:aws:bedrock:us-east-1:1:inference-profile/eu.meta.llama3-3", "meta", 1},
		{"arn:aws:bedrock:us-east-1::foundation-model/cohere.command-r-v1:0", "cohere", 0},
		{"us.x", "us", 0},
		{"deepseek.r1-v1:0", "deepseek", 0},
		{"nodots", "nodots", 0},
		{"", "", 0},
	};

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		const char *p;
		size_t n;
		int g = disc_id_maker(v[i].id, &p, &n);

		t_case(v[i].id, g == v[i].geo && n == strlen(v[i].maker) && memcmp(p, v[i].maker, n) == 0);
	}
}

static void sample_list(struct disc_list *l)
{
	memset(l, 0, sizeof *l);
	disc_list_add(l, "anthropic.c1", 12, "Claude\tOne\nline\\two\r", 21, "anthropic", 9,
		      DISC_IN_TEXT | DISC_IN_IMAGE, 0, &e);
	disc_list_add(l, "us.anthropic.c1", 15, "", 0, "anthropic", 9, DISC_IN_TEXT, 1, &e);
	disc_list_set_base(l, 1, "anthropic.c1", 12, &e);
	disc_list_add(l, "x.img", 5, "Ünïcode ✓", strlen("Ünïcode ✓"), "x y", 3, DISC_IN_IMAGE, 0, &e);
	disc_list_add(l, "x.none", 6, "n", 1, "", 0, 0, 1, &e);
	l->fetched = 1700000000;
}

static void t_cache_roundtrip(void)
{
	struct disc_list l, r;
	struct buf b, b2;

	sample_list(&l);
	CHECK(l.n == 4);
	buf_init(&b, 1 << 20);
	buf_init(&b2, 1 << 20);
	CHECK(disc_cache_format(&l, "us-east-1", "amazon,anthropic", &b) == 0);
	/* escapes: no raw tab/newline inside the name field */
	CHECK(strstr((const char *)b.p, "Claude\\tOne\\nline\\\\two\\r\tanthropic\t") != NULL);
	CHECK(strncmp((const char *)b.p, "brock-models-cache v2\t1700000000\t4\tus-east-1\tamazon,anthropic\n",
		      62) == 0);
	memset(&r, 0, sizeof r);
	CHECK(disc_cache_parse((const char *)b.p, b.len, "us-east-1", "amazon,anthropic", &r, &e) == 0);
	CHECK(r.n == 4 && r.fetched == 1700000000);
	for (size_t i = 0; i < r.n && i < l.n; i++) {
		CHECK_STR(r.v[i].id, l.v[i].id);
		CHECK_STR(r.v[i].name, l.v[i].name);
		CHECK_STR(r.v[i].provider, l.v[i].provider);
		CHECK(r.v[i].input == l.v[i].input && r.v[i].profile == l.v[i].profile);
		CHECK_STR(r.v[i].base, l.v[i].base);
	}
	CHECK(disc_cache_format(&r, "us-east-1", "amazon,anthropic", &b2) == 0);
	CHECK_MEM(b2.p, b2.len, b.p, b.len);
	disc_list_free(&r);

	/* foreign: another region or filter */
	CHECK(disc_cache_parse((const char *)b.p, b.len, "us-west-2", "amazon,anthropic", &r, &e) < 0);
	CHECK(disc_cache_parse((const char *)b.p, b.len, "us-east-1", "", &r, &e) < 0);
	CHECK(e.cls == ERR_PROTO && r.n == 0);

	/* empty list */
	disc_list_free(&l);
	l.fetched = 5;
	buf_reset(&b);
	CHECK(disc_cache_format(&l, "eu-west-1", "", &b) == 0);
	CHECK_STR((const char *)b.p, "brock-models-cache v2\t5\t0\teu-west-1\t\n");
	CHECK(disc_cache_parse((const char *)b.p, b.len, "eu-west-1", "", &r, &e) == 0 && r.n == 0 &&
	      r.fetched == 5);
	buf_free(&b);
	buf_free(&b2);
}

static void t_cache_corrupt(void)
{
	static const char hdr[] = "brock-models-cache v2\t100\t1\tus-east-1\t\n";
	static const struct {
		const char *name, *text;
	} bad[] = {
		{"empty", ""},
		{"no newline", "brock-models-cache v2\t100\t0\tus-east-1\t"},
		{"v1", "brock-models-cache v1\t100\t0\tus-east-1\t\n"},
		{"foreign", "{\"models\":[]}\n"},
		{"bad epoch", "brock-models-cache v2\t1x0\t0\tus-east-1\t\n"},
		{"empty epoch", "brock-models-cache v2\t\t0\tus-east-1\t\n"},
		{"negative count", "brock-models-cache v2\t100\t-1\tus-east-1\t\n"},
		{"huge count", "brock-models-cache v2\t100\t99999999\tus-east-1\t\n"},
		{"header extra field", "brock-models-cache v2\t100\t0\tus-east-1\t\tx\n"},
		{"header short", "brock-models-cache v2\t100\t0\tus-east-1\n"},
		{"count too high", "brock-models-cache v2\t100\t2\tus-east-1\t\na.b\tn\tp\ttext\tmodel\t\n"},
		{"count too low", "brock-models-cache v2\t100\t0\tus-east-1\t\na.b\tn\tp\ttext\tmodel\t\n"},
		{"truncated", "brock-models-cache v2\t100\t1\tus-east-1\t\na.b\tn\tp\ttext\tmod"},
		{"no final newline", "brock-models-cache v2\t100\t1\tus-east-1\t\na.b\tn\tp\ttext\tmodel\t"},
		{"bad escape", "brock-models-cache v2\t100\t1\tus-east-1\t\na.b\tn\\x\tp\ttext\tmodel\t\n"},
		{"escape at end", "brock-models-cache v2\t100\t1\tus-east-1\t\na.b\tn\tp\ttext\tmodel\t\\\n"},
		{"bad input", "brock-models-cache v2\t100\t1\tus-east-1\t\na.b\tn\tp\tvideo\tmodel\t\n"},
		{"bad kind", "brock-models-cache v2\t100\t1\tus-east-1\t\na.b\tn\tp\ttext\tprofiles\t\n"},
		{"too few fields", "brock-models-cache v2\t100\t1\tus-east-1\t\na.b\tn\tp\ttext\tmodel\n"},
		{"too many fields", "brock-models-cache v2\t100\t1\tus-east-1\t\na.b\tn\tp\ttext\tmodel\t\tx\n"},
		{"space in id", "brock-models-cache v2\t100\t1\tus-east-1\t\na b\tn\tp\ttext\tmodel\t\n"},
		{"empty id", "brock-models-cache v2\t100\t1\tus-east-1\t\n\tn\tp\ttext\tmodel\t\n"},
		{"blank line", "brock-models-cache v2\t100\t1\tus-east-1\t\n\n"},
		{"duplicate", "brock-models-cache v2\t100\t2\tus-east-1\t\na.b\tn\tp\ttext\tmodel\t\na.b\tn\tp\ttext\tmodel\t\n"},
		{"bad utf8", "brock-models-cache v2\t100\t1\tus-east-1\t\na.b\t\xff\tp\ttext\tmodel\t\n"},
		{"crlf", "brock-models-cache v2\t100\t1\tus-east-1\t\r\na.b\tn\tp\ttext\tmodel\t\r\n"},
	};
	struct disc_list r;
	char buf[256];

	memset(&r, 0, sizeof r);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = disc_cache_parse(bad[i].text, strlen(bad[i].text), "us-east-1", "", &r, &e);

		t_case(bad[i].name, rc < 0 && e.cls == ERR_PROTO && r.n == 0 && r.v == NULL);
	}
	/* a NUL byte anywhere is corrupt */
	snprintf(buf, sizeof buf, "%sa.b\tn\tp\ttext\tmodel\t\n", hdr);
	buf[strlen(hdr) + 5] = 0;
	CHECK(disc_cache_parse(buf, strlen(hdr) + 22, "us-east-1", "", &r, &e) < 0);
	/* and the good one parses */
	CHECK(disc_cache_parse(buf, 0, "us-east-1", "", &r, &e) < 0);
	snprintf(buf, sizeof buf, "%sa.b\tn\tp\ttext\tmodel\t\n", hdr);
	CHECK(disc_cache_parse(buf, strlen(buf), "us-east-1", "", &r, &e) == 0 && r.n == 1);
	disc_list_free(&r);
	/* a profile's base model is kept; a base with a space is corrupt */
	snprintf(buf, sizeof buf, "%sa.b\tn\tp\ttext\tprofile\tx.m\n", hdr);
	CHECK(disc_cache_parse(buf, strlen(buf), "us-east-1", "", &r, &e) == 0 && r.n == 1 &&
	      strcmp(r.v[0].base, "x.m") == 0);
	disc_list_free(&r);
	snprintf(buf, sizeof buf, "%sa.b\tn\tp\ttext\tprofile\tx m\n", hdr);
	CHECK(disc_cache_parse(buf, strlen(buf), "us-east-1", "", &r, &e) < 0 && r.n == 0);
	disc_list_free(&r);
}

static void t_cache_name(void)
{
	char n[256], n2[256];

	CHECK(disc_cache_name("us-east-1", "", n, sizeof n) == 0);
	CHECK_STR(n, "models-us-east-1.tsv");
	CHECK(disc_cache_name("us-east-1", "amazon,anthropic", n, sizeof n) == 0);
	CHECK_STR(n, "models-us-east-1-amazon+anthropic.tsv");
	CHECK(disc_cache_name("eu-west-1", "amazon,anthropic", n2, sizeof n2) == 0);
	CHECK_STR(n2, "models-eu-west-1-amazon+anthropic.tsv");
	/* filter values that are not file-name safe: hashed, distinct */
	CHECK(disc_cache_name("us-east-1", "mistral ai", n, sizeof n) == 0);
	CHECK(strncmp(n, "models-us-east-1-f", 18) == 0 && strlen(n) == 18 + 16 + 4);
	CHECK(disc_cache_name("us-east-1", "ai21 labs", n2, sizeof n2) == 0);
	CHECK(strcmp(n, n2) != 0);
	CHECK(disc_cache_name("us-east-1", "../../etc", n, sizeof n) == 0);
	CHECK(strchr(n, '/') == NULL);
	CHECK(disc_cache_name("../x", "", n, sizeof n) == 0);
	CHECK(strchr(n, '/') == NULL && strncmp(n, "models-r", 8) == 0);
	CHECK(disc_cache_name("us-east-1", "", n, 10) < 0);
}

static void t_cache_dir(void)
{
	char d[512];
	char *v1[] = {"BROCK_CACHE_DIR=/c/b", "XDG_CACHE_HOME=/x", "HOME=/h", NULL};
	char *v2[] = {"XDG_CACHE_HOME=/x", "HOME=/h", NULL};
	char *v3[] = {"XDG_CACHE_HOME=relative", "HOME=/h", NULL};
	char *v4[] = {"BROCK_CACHE_DIR=  ", "HOME=/h", NULL};
	char *v5[] = {NULL};
	struct env e1 = {v1}, e2 = {v2}, e3 = {v3}, e4 = {v4}, e5 = {v5};

	CHECK(disc_cache_dir(&e1, d, sizeof d, &e) == 0);
	CHECK_STR(d, "/c/b");
	CHECK(disc_cache_dir(&e2, d, sizeof d, &e) == 0);
	CHECK_STR(d, "/x/brock");
	CHECK(disc_cache_dir(&e3, d, sizeof d, &e) == 0);
	CHECK_STR(d, "/h/.cache/brock");
	CHECK(disc_cache_dir(&e4, d, sizeof d, &e) == 0);
	CHECK_STR(d, "/h/.cache/brock");
	CHECK(disc_cache_dir(&e5, d, sizeof d, &e) < 0);
	CHECK(disc_cache_dir(&e1, d, 3, &e) < 0);
	/* blanks env_get leaves after a value are not part of the path */
	{
		char *v6[] = {"BROCK_CACHE_DIR=/c/b \t", NULL};
		char *v7[] = {"HOME=/h \r\n", NULL};
		struct env e6 = {v6}, e7 = {v7};

		CHECK(disc_cache_dir(&e6, d, sizeof d, &e) == 0);
		CHECK_STR(d, "/c/b");
		CHECK(disc_cache_dir(&e7, d, sizeof d, &e) == 0);
		CHECK_STR(d, "/h/.cache/brock");
	}
}

static char tmpdir[256];

static void mk_tmp(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_discovery.XXXXXX");
	if (!mkdtemp(tmpdir))
		tmpdir[0] = 0;
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void rm_rf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir);
}

static void t_cache_files(void)
{
	struct disc_list l, r;
	char dir[400], path[600];
	struct stat st;

	CHECK(tmpdir[0]);
	sample_list(&l);
	snprintf(dir, sizeof dir, "%s/a/b", tmpdir);
	/* creates missing directories */
	CHECK(disc_cache_store(dir, "models-us-east-1.tsv", &l, "us-east-1", "", &e) == 0);
	snprintf(path, sizeof path, "%s/models-us-east-1.tsv", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(count_files(dir) == 1); /* no temp file left */
	memset(&r, 0, sizeof r);
	CHECK(disc_cache_load(path, "us-east-1", "", &r, &e) == 1 && r.n == 4);
	disc_list_free(&r);
	/* overwrite */
	l.fetched = 42;
	CHECK(disc_cache_store(dir, "models-us-east-1.tsv", &l, "us-east-1", "", &e) == 0);
	CHECK(disc_cache_load(path, "us-east-1", "", &r, &e) == 1 && r.fetched == 42);
	disc_list_free(&r);
	CHECK(count_files(dir) == 1);
	/* foreign and corrupt files are not loaded, missing is 0 */
	CHECK(disc_cache_load(path, "eu-west-1", "", &r, &e) == 0 && r.n == 0);
	snprintf(path, sizeof path, "%s/nope.tsv", dir);
	CHECK(disc_cache_load(path, "us-east-1", "", &r, &e) == 0);
	/* a directory where the file should be */
	CHECK(disc_cache_load(dir, "us-east-1", "", &r, &e) == 0);
	/* an unwritable place */
	CHECK(disc_cache_store("/proc/nonexistent/x", "m.tsv", &l, "us-east-1", "", &e) < 0);
	disc_list_free(&l);
}

/* ---- disc_run decisions, no network: the chain finds no credentials ---- */

static char *run_vars[8];
static struct env run_env = {run_vars};
static char home_var[300], cache_var[300];

struct rig {
	struct conn_pool pool;
	struct aws a;
	struct creds_chain cc;
	struct config_discovery cfg;
	struct disc_opts o;
};

static void rig_open(struct rig *g, int enabled, long long interval)
{
	snprintf(home_var, sizeof home_var, "HOME=%s", tmpdir);
	snprintf(cache_var, sizeof cache_var, "BROCK_CACHE_DIR=%s/run", tmpdir);
	run_vars[0] = home_var;
	run_vars[1] = cache_var;
	run_vars[2] = "AWS_EC2_METADATA_DISABLED=true";
	run_vars[3] = "AWS_CONFIG_FILE=/nonexistent/config";
	run_vars[4] = "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials";
	run_vars[5] = NULL;
	memset(g, 0, sizeof *g);
	conn_pool_init(&g->pool, &run_env);
	aws_init(&g->a, &run_env, &g->pool);
	snprintf(g->a.region, sizeof g->a.region, "us-east-1");
	creds_init(&g->cc, &run_env, &g->a, NULL);
	g->cfg.enabled = enabled;
	g->cfg.refresh_interval = interval;
	g->cfg.default_context_window = 32000;
	g->cfg.default_max_tokens = 4096;
	g->o.cfg = &g->cfg;
	g->o.env = &run_env;
	g->o.now = 1700000000;
}

static void rig_close(struct rig *g)
{
	creds_free(&g->cc);
	aws_free(&g->a);
	conn_pool_free(&g->pool);
}

static void seed_cache(time_t fetched)
{
	struct disc_list l;
	char dir[400];

	sample_list(&l);
	l.fetched = fetched;
	snprintf(dir, sizeof dir, "%s/run", tmpdir);
	CHECK(disc_cache_store(dir, "models-us-east-1.tsv", &l, "us-east-1", "", &e) == 0);
	disc_list_free(&l);
}

static void t_run_decisions(void)
{
	struct rig g;
	struct disc_result r;
	char dir[400];

	snprintf(dir, sizeof dir, "%s/run", tmpdir);
	rm_rf(dir);

	/* off */
	rig_open(&g, 0, 3600);
	seed_cache(1700000000 - 10);
	CHECK(disc_run(&g.a, &g.cc, &g.o, &r, &e) == 0 && r.source == DISC_OFF && r.list.n == 0);
	disc_result_free(&r);
	rig_close(&g);

	/* default (unset) without credentials: skipped with a warning, even with a fresh cache */
	rig_open(&g, -1, 3600);
	CHECK(disc_run(&g.a, &g.cc, &g.o, &r, &e) == 0 && r.source == DISC_SKIPPED && r.list.n == 0);
	CHECK(strstr(r.warning, "discovery skipped") != NULL);
	disc_result_free(&r);
	rig_close(&g);

	/* enabled + fresh cache: used without credentials or calls */
	rig_open(&g, 1, 3600);
	CHECK(disc_run(&g.a, &g.cc, &g.o, &r, &e) == 0 && r.source == DISC_CACHED && r.list.n == 4);
	CHECK(r.warning[0] == 0);
	disc_result_free(&r);
	/* stale by one second: the refresh fails (no credentials), the stale list is used */
	g.o.now = 1700000000 - 10 + 3600;
	CHECK(disc_run(&g.a, &g.cc, &g.o, &r, &e) == 0 && r.source == DISC_STALE && r.list.n == 4);
	CHECK(strstr(r.warning, "cached list from 60m ago") != NULL);
	disc_result_free(&r);
	/* a cache from the future (clock went back) is not fresh */
	g.o.now = 1700000000 - 100;
	CHECK(disc_run(&g.a, &g.cc, &g.o, &r, &e) == 0 && r.source == DISC_STALE);
	disc_result_free(&r);
	/* --refresh: no fallback, the credentials error */
	g.o.now = 1700000000;
	g.o.refresh = 1;
	CHECK(disc_run(&g.a, &g.cc, &g.o, &r, &e) < 0 && e.cls == ERR_CREDS && r.list.n == 0);
	g.o.refresh = 0;
	/* refreshInterval 0: the cache is neither read nor a fallback */
	g.cfg.refresh_interval = 0;
	CHECK(disc_run(&g.a, &g.cc, &g.o, &r, &e) < 0 && e.cls == ERR_CREDS);
	g.cfg.refresh_interval = 3600;
	/* a corrupt cache: ignored, so the error comes through */
	{
		char path[600];
		FILE *f;

		snprintf(path, sizeof path, "%s/models-us-east-1.tsv", dir);
		f = fopen(path, "w");
		CHECK(f != NULL);
		if (f) {
			fputs("garbage\n", f);
			fclose(f);
		}
	}
	CHECK(disc_run(&g.a, &g.cc, &g.o, &r, &e) < 0 && e.cls == ERR_CREDS);
	/* another filter uses another file: no cache there */
	seed_cache(1700000000 - 10);
	{
		char *flt[] = {"meta"};

		g.cfg.provider_filter = flt;
		g.cfg.n_provider_filter = 1;
		CHECK(disc_run(&g.a, &g.cc, &g.o, &r, &e) < 0 && e.cls == ERR_CREDS);
		g.cfg.provider_filter = NULL;
		g.cfg.n_provider_filter = 0;
	}
	rig_close(&g);
}

int main(int argc, char **argv)
{
	(void)argc;
	mk_tmp();
	T_RUN(t_filters_each);
	T_RUN(t_models_errors);
	T_RUN(t_profiles);
	T_RUN(t_fixture_catalogue);
	T_RUN(t_filter_norm);
	T_RUN(t_id_maker);
	T_RUN(t_cache_roundtrip);
	T_RUN(t_cache_corrupt);
	T_RUN(t_cache_name);
	T_RUN(t_cache_dir);
	T_RUN(t_cache_files);
	T_RUN(t_run_decisions);
	if (tmpdir[0])
		rm_rf(tmpdir);
	return t_done(argv[0]);
}
