/* test_converse: request bodies for every option, attachment detection and
 * names, every stream event (at every split point), JSON re-emission,
 * exception and error frames, Converse answers. */
#include "t.h"

#include "bedrock/converse.h"
#include "base/base64.h"
#include "wire/evstream.h"

/* ---- request bodies ---- */

static const char *body(const struct conv_request *rq, struct err *e)
{
	static struct buf b;

	buf_free(&b);
	buf_init(&b, 1u << 26);
	if (conv_build_body(rq, &b, e) < 0)
		return NULL;
	return (const char *)b.p;
}

static void test_body_minimal(void)
{
	struct conv_request rq;
	struct err e = {0, ""};

	memset(&rq, 0, sizeof rq);
	rq.model_id = "amazon.nova-pro-v1:0";
	rq.text = (const uint8_t *)"hi";
	rq.text_len = 2;
	CHECK_STR(body(&rq, &e), "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}]}");
}

static void test_body_all_options(void)
{
	static const char *const stop[] = {"END", "\"q\""};
	struct conv_request rq;
	struct err e = {0, ""};

	memset(&rq, 0, sizeof rq);
	rq.model_id = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
	rq.system = "be \"brief\"\n";
	rq.text = (const uint8_t *)"caf\xc3\xa9 \xf0\x9f\x98\x80 \\ \x01";
	rq.text_len = strlen((const char *)rq.text);
	rq.max_tokens = 4096;
	rq.has_temperature = 1;
	rq.temperature = 0.5;
	rq.has_top_p = 1;
	rq.top_p = 0.9;
	rq.stop = stop;
	rq.nstop = 2;
	rq.thinking = 2048;
	CHECK_STR(body(&rq, &e),
		  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\\\ \\u0001\"}]}],"
		  "\"system\":[{\"text\":\"be \\\"brief\\\"\\n\"}],"
		  "\"inferenceConfig\":{\"maxTokens\":4096,\"temperature\":0.5,\"topP\":0.9,"
		  "\"stopSequences\":[\"END\",\"\\\"q\\\"\"]},"
		  "\"additionalModelRequestFields\":{\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2048}}}");
	/* only the options given */
	rq.system = NULL;
	rq.max_tokens = 0;
	rq.has_top_p = 0;
	rq.nstop = 0;
	rq.thinking = 0;
	rq.has_temperature = 1;
	rq.temperature = 0;
	rq.text = (const uint8_t *)"x";
	rq.text_len = 1;
	CHECK_STR(body(&rq, &e), "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}],"
				 "\"inferenceConfig\":{\"temperature\":0}}");
}

static void test_body_attachments(void)
{
	static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 1, 2};
	struct conv_attachment att[2];
	struct conv_request rq;
	struct err e = {0, ""};

	memset(att, 0, sizeof att);
	att[0].kind = CONV_IMAGE;
	att[0].format = conv_image_format(png, sizeof png);
	att[0].data = png;
	att[0].n = sizeof png;
	att[1].kind = CONV_DOCUMENT;
	att[1].format = "txt";
	memcpy(att[1].name, "notes", 6);
	att[1].data = (const uint8_t *)"abc";
	att[1].n = 3;
	memset(&rq, 0, sizeof rq);
	rq.model_id = "m";
	rq.text = (const uint8_t *)"look";
	rq.text_len = 4;
	rq.att = att;
	rq.natt = 2;
	CHECK_STR(body(&rq, &e),
		  "{\"messages\":[{\"role\":\"user\",\"content\":["
		  "{\"image\":{\"format\":\"png\",\"source\":{\"bytes\":\"iVBORw0KGgoAAQI=\"}}},"
		  "{\"document\":{\"format\":\"txt\",\"name\":\"notes\",\"source\":{\"bytes\":\"YWJj\"}}},"
		  "{\"text\":\"look\"}]}]}");
	/* an image alone needs no text; a document does */
	rq.text_len = 0;
	rq.natt = 1;
	CHECK(body(&rq, &e) != NULL);
	CHECK(strstr(body(&rq, &e), "\"text\"") == NULL);
	rq.natt = 2;
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE);
}

static void test_body_big_attachment_base64(void)
{
	/* a piece boundary inside the base64: the result must equal one encoding */
	static uint8_t data[10000];
	struct conv_attachment a;
	struct conv_request rq;
	struct err e = {0, ""};
	const char *b, *s;
	size_t i;

	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	memset(&a, 0, sizeof a);
	a.kind = CONV_IMAGE;
	a.format = "gif";
	a.data = data;
	a.n = sizeof data;
	memset(&rq, 0, sizeof rq);
	rq.model_id = "m";
	rq.att = &a;
	rq.natt = 1;
	b = body(&rq, &e);
	CHECK(b != NULL);
	s = b ? strstr(b, "\"bytes\":\"") : NULL;
	CHECK(s != NULL);
	if (s) {
		struct buf dec;
		const char *end = strchr(s + 9, '"');

		buf_init(&dec, 1u << 20);
		CHECK(end && base64_decode_buf(&dec, s + 9, (size_t)(end - s - 9), 0) == 0);
		CHECK_MEM(dec.p, dec.len, data, sizeof data);
		buf_free(&dec);
	}
}

static void test_body_errors(void)
{
	static const char *const badstop[] = {"ok", "\xc0\xaf"};
	struct conv_request rq;
	struct err e = {0, ""};

	memset(&rq, 0, sizeof rq);
	rq.model_id = "m";
	rq.text = (const uint8_t *)"ok \xff";
	rq.text_len = 4;
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "UTF-8") && strstr(e.msg, "byte 3"));
	rq.text = (const uint8_t *)"\xed\xa0\x80"; /* a surrogate */
	rq.text_len = 3;
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE);
	rq.text = (const uint8_t *)"ok";
	rq.text_len = 2;
	rq.system = "\xe2\x82";
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "system"));
	rq.system = NULL;
	rq.stop = badstop;
	rq.nstop = 2;
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "stop"));
	rq.nstop = 0;
	rq.text_len = 0;
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE);
	rq.text_len = 2;
	rq.thinking = 1024;
	rq.model_id = "amazon.nova-pro-v1:0";
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE);
	rq.model_id = "anthropic.claude-3-7-sonnet-20250219-v1:0";
	CHECK(body(&rq, &e) != NULL);
	rq.model_id = "arn:aws:bedrock:us-east-1:1:application-inference-profile/x";
	CHECK(body(&rq, &e) != NULL);
}

/* Adaptive-only models (SPEC 3.5): effort, never enabled/budget. */
static void test_body_adaptive(void)
{
	struct conv_request rq;
	struct err e = {0, ""};
	const char *b;

	memset(&rq, 0, sizeof rq);
	rq.model_id = "us.anthropic.claude-opus-4-7";
	rq.text = (const uint8_t *)"hi";
	rq.text_len = 2;
	rq.thinking = 8000; /* --thinking N -> an effort */
	CHECK_STR(body(&rq, &e), "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}],"
		  "\"additionalModelRequestFields\":{\"thinking\":{\"type\":\"adaptive\"},"
		  "\"output_config\":{\"effort\":\"medium\"}}}");
	rq.thinking = 2000;
	b = body(&rq, &e);
	CHECK(b && strstr(b, "\"effort\":\"low\"") && !strstr(b, "budget_tokens"));
	rq.thinking = 30000;
	rq.max_tokens = 1000; /* no budget to stay above */
	b = body(&rq, &e);
	CHECK(b && strstr(b, "\"effort\":\"high\"") && strstr(b, "\"maxTokens\":1000"));
	rq.thinking = 0;
	rq.max_tokens = 0;
	rq.effort = "low";
	b = body(&rq, &e);
	CHECK(b && strstr(b, "\"effort\":\"low\"") && !strstr(b, "maxTokens"));
	rq.effort = "extreme";
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "--effort"));
	/* without a thinking flag: no thinking field at all (adaptive-only models
	 * refuse "disabled" too) */
	rq.effort = NULL;
	b = body(&rq, &e);
	CHECK(b && !strstr(b, "thinking"));
	/* a date suffix is not a minor version: Opus 4 takes a budget */
	rq.model_id = "us.anthropic.claude-opus-4-20250514-v1:0";
	rq.effort = "high";
	b = body(&rq, &e);
	CHECK(b && strstr(b, "\"type\":\"enabled\",\"budget_tokens\":24576") &&
	      strstr(b, "\"maxTokens\":28672"));
	rq.effort = "medium";
	b = body(&rq, &e);
	CHECK(b && strstr(b, "\"budget_tokens\":8192"));
	/* the shape forced (a retry after Bedrock named adaptive thinking) */
	rq.model_id = "arn:aws:bedrock:us-east-1:1:application-inference-profile/x";
	rq.thinking_shape = 2;
	b = body(&rq, &e);
	CHECK(b && strstr(b, "\"type\":\"adaptive\"") && strstr(b, "\"effort\":\"medium\""));
	/* effort on a model that does not take the field */
	rq.thinking_shape = 0;
	rq.model_id = "amazon.nova-pro-v1:0";
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "--effort"));
}

/* Every feature flag on the wire (SPEC 3.5). */
static void test_body_features(void)
{
	static const char *const keys[] = {"team", "run"}, *const vals[] = {"a\"b", ""};
	struct conv_request rq;
	struct err e = {0, ""};
	const char *b;

	memset(&rq, 0, sizeof rq);
	rq.model_id = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
	rq.system = "sys";
	rq.text = (const uint8_t *)"hi";
	rq.text_len = 2;
	rq.cache = 1;
	CHECK_STR(body(&rq, &e),
		  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"},"
		  "{\"cachePoint\":{\"type\":\"default\"}}]}],"
		  "\"system\":[{\"text\":\"sys\"},{\"cachePoint\":{\"type\":\"default\"}}]}");
	rq.cache_ttl = "1h";
	b = body(&rq, &e);
	CHECK(b && strstr(b, "{\"cachePoint\":{\"type\":\"default\",\"ttl\":\"1h\"}}]}],"));
	rq.cache_ttl = "2h";
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "--cache"));
	rq.cache_ttl = NULL;
	rq.model_id = "meta.llama3-70b-instruct-v1:0"; /* known not to cache */
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "prompt caching"));
	rq.model_id = "cohere.command-r-v1:0"; /* unknown: sent, Bedrock decides */
	CHECK(body(&rq, &e) != NULL);
	rq.cache = 0;
	rq.system = NULL;
	rq.service_tier = "flex";
	rq.latency = "optimized";
	rq.guardrail_id = "gr-1";
	rq.guardrail_trace = 1;
	rq.meta_keys = keys;
	rq.meta_values = vals;
	rq.nmeta = 2;
	rq.extra = "{\"anthropic_beta\":[\"context-1m\"],\"top_k\":5}";
	CHECK_STR(body(&rq, &e),
		  "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"hi\"}]}],"
		  "\"additionalModelRequestFields\":{\"anthropic_beta\":[\"context-1m\"],\"top_k\":5},"
		  "\"serviceTier\":{\"type\":\"flex\"},"
		  "\"performanceConfig\":{\"latency\":\"optimized\"},"
		  "\"guardrailConfig\":{\"guardrailIdentifier\":\"gr-1\",\"guardrailVersion\":\"DRAFT\","
		  "\"trace\":\"enabled\"},"
		  "\"requestMetadata\":{\"team\":\"a\\\"b\",\"run\":\"\"}}");
	rq.guardrail_version = "3";
	rq.guardrail_trace = 0;
	b = body(&rq, &e);
	CHECK(b && strstr(b, "\"guardrailVersion\":\"3\"}") && !strstr(b, "trace"));
	/* --extra with a thinking flag: the flag's thinking wins, the rest merges */
	rq.model_id = "us.anthropic.claude-opus-4-7";
	rq.effort = "low";
	rq.extra = "{\"thinking\":{\"type\":\"enabled\"},\"anthropic_beta\":[\"x\"]}";
	b = body(&rq, &e);
	CHECK(b && strstr(b, "\"additionalModelRequestFields\":{\"anthropic_beta\":[\"x\"],"
			       "\"thinking\":{\"type\":\"adaptive\"},\"output_config\":{\"effort\":\"low\"}}"));
	rq.extra = "[1]";
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "--extra"));
	rq.extra = "{bad";
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "--extra"));
}

static void test_body_thinking_budget(void)
{
	struct conv_request rq;
	struct err e = {0, ""};
	const char *b;

	memset(&rq, 0, sizeof rq);
	rq.model_id = "us.anthropic.claude-opus-4-6-v1:0";
	rq.text = (const uint8_t *)"hi";
	rq.text_len = 2;
	rq.thinking = 1023;
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "1024"));
	rq.thinking = 8000;
	b = body(&rq, &e); /* no --max-tokens: room for the answer after the budget */
	CHECK(b && strstr(b, "\"maxTokens\":12096"));
	rq.max_tokens = 8000;
	CHECK(body(&rq, &e) == NULL && e.cls == ERR_USAGE && strstr(e.msg, "--max-tokens"));
	rq.max_tokens = 9000;
	b = body(&rq, &e);
	CHECK(b && strstr(b, "\"maxTokens\":9000"));
}

static void test_body_limit(void)
{
	struct conv_request rq;
	struct buf b;
	struct err e = {0, ""};

	memset(&rq, 0, sizeof rq);
	rq.model_id = "m";
	rq.text = (const uint8_t *)"a long enough prompt";
	rq.text_len = 20;
	buf_init(&b, 30);
	CHECK(conv_build_body(&rq, &b, &e) < 0 && e.cls == ERR_USAGE);
	buf_free(&b);
}

static void test_image_format(void)
{
	CHECK_STR(conv_image_format((const uint8_t *)"\x89PNG\r\n\x1a\nxxxx", 12), "png");
	CHECK_STR(conv_image_format((const uint8_t *)"\xff\xd8\xff\xdb", 4), "jpeg");
	CHECK_STR(conv_image_format((const uint8_t *)"GIF87a..", 8), "gif");
	CHECK_STR(conv_image_format((const uint8_t *)"GIF89a", 6), "gif");
	CHECK_STR(conv_image_format((const uint8_t *)"RIFF\0\0\0\0WEBPVP8 ", 16), "webp");
	CHECK(conv_image_format((const uint8_t *)"RIFF\0\0\0\0WAVE", 12) == NULL);
	CHECK(conv_image_format((const uint8_t *)"\x89PNG\r\n\x1a", 7) == NULL);
	CHECK(conv_image_format((const uint8_t *)"GIF88a", 6) == NULL);
	CHECK(conv_image_format((const uint8_t *)"", 0) == NULL);
	CHECK(conv_image_format((const uint8_t *)"BM", 2) == NULL);
}

static void docfmt(const char *path, const char *data, size_t n, const char *want)
{
	struct err e = {0, ""};
	const char *f = "x";
	int r = conv_document_format(path, (const uint8_t *)data, n, &f, &e);

	if (want) {
		CHECK(r == 0);
		CHECK_STR(f, want);
	} else {
		CHECK(r < 0 && e.cls == ERR_USAGE && f == NULL);
	}
}

static void test_document_format(void)
{
	static const char ole[] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest";
	static const char zip[] = "PK\x03\x04rest";

	docfmt("a.pdf", "%PDF-1.7", 8, "pdf");
	docfmt("dir.x/A.PDF", "%PDF-1.7", 8, "pdf");
	docfmt("a.csv", "a,b\n", 4, "csv");
	docfmt("a.txt", "hello", 5, "txt");
	docfmt("a.md", "# x", 3, "md");
	docfmt("a.markdown", "# x", 3, "md");
	docfmt("a.html", "<html>", 6, "html");
	docfmt("a.htm", "<html>", 6, "html");
	docfmt("a.doc", ole, sizeof ole - 1, "doc");
	docfmt("a.xls", ole, sizeof ole - 1, "xls");
	docfmt("a.docx", zip, sizeof zip - 1, "docx");
	docfmt("a.xlsx", zip, sizeof zip - 1, "xlsx");
	docfmt("noext", "%PDF-1.4", 8, "pdf");
	docfmt("README", "plain words", 11, "txt");
	/* disagreements and unknowns */
	docfmt("a.pdf", "hello", 5, NULL);
	docfmt("a.docx", ole, sizeof ole - 1, NULL);
	docfmt("a.doc", zip, sizeof zip - 1, NULL);
	docfmt("a.txt", "bin\0ary", 7, NULL);
	docfmt("a.exe", "MZ", 2, NULL);
	docfmt("noext", zip, sizeof zip - 1, NULL);
	docfmt("a.csv", "%PDF-1.4", 8, NULL);
}

static void docname(const char *path, const char *want)
{
	char out[CONV_NAME_MAX];

	memset(out, 'Z', sizeof out);
	conv_document_name(path, out);
	CHECK_STR(out, want);
}

static void test_document_name(void)
{
	char longp[400], want[CONV_NAME_MAX];

	docname("report.pdf", "report");
	docname("/tmp/x/My_report (v2).final.pdf", "My report (v2) final");
	docname("a  -  b.txt", "a - b");
	docname("[draft] notes.md", "[draft] notes");
	docname("___.txt", "document");
	docname(".hidden", "hidden");
	docname("", "document");
	docname("dir/", "document");
	docname("r\xc3\xa9sum\xc3\xa9.pdf", "r sum");
	docname("tab\tnew\nline.csv", "tab new line");
	docname("noext", "noext");
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	memset(want, 'a', CONV_NAME_MAX - 1);
	want[CONV_NAME_MAX - 1] = '\0';
	docname(longp, want);
}

/* ---- the stream ---- */

struct rec {
	struct buf log; /* one line per callback */
	int text_in_input;  /* every text view pointed into the fed bytes */
	const uint8_t *lo, *hi;
	int fail_on_text;
};

static int r_add(struct rec *r, const char *fmt, struct slice a)
{
	buf_appendf(&r->log, fmt, (int)a.n, (const char *)a.p);
	buf_append_byte(&r->log, '\n');
	return 0;
}

static int cb_start(void *u, struct slice role, struct err *e)
{
	(void)e;
	return r_add(u, "start %.*s", role);
}

static int cb_text(void *u, int i, struct slice t, struct err *e)
{
	struct rec *r = u;

	(void)i;
	if (r->fail_on_text)
		return err_set(e, ERR_OTHER, "stop here");
	if (!(t.p >= r->lo && t.p + t.n <= r->hi))
		r->text_in_input = 0;
	return r_add(u, "text %.*s", t);
}

static int cb_rtext(void *u, int i, struct slice t, struct err *e)
{
	(void)i;
	(void)e;
	return r_add(u, "reasoning %.*s", t);
}

static int cb_rsig(void *u, int i, struct slice t, struct err *e)
{
	(void)i;
	(void)e;
	return r_add(u, "signature %.*s", t);
}

static int cb_rred(void *u, int i, struct slice t, struct err *e)
{
	(void)i;
	(void)e;
	return r_add(u, "redacted %.*s", t);
}

static int cb_tool(void *u, int i, struct slice id, struct slice name, struct err *e)
{
	struct rec *r = u;

	(void)e;
	buf_appendf(&r->log, "tool %d %.*s %.*s\n", i, (int)id.n, (const char *)id.p, (int)name.n,
		    (const char *)name.p);
	return 0;
}

static int cb_input(void *u, int i, struct slice t, struct err *e)
{
	(void)i;
	(void)e;
	return r_add(u, "input %.*s", t);
}

static int cb_bstop(void *u, int i, struct err *e)
{
	struct rec *r = u;

	(void)e;
	buf_appendf(&r->log, "blockstop %d\n", i);
	return 0;
}

static int cb_stop(void *u, struct slice t, struct err *e)
{
	(void)e;
	return r_add(u, "stop %.*s", t);
}

static int cb_meta(void *u, const struct conv_usage *us, struct err *e)
{
	struct rec *r = u;

	(void)e;
	buf_appendf(&r->log, "usage %lld %lld %lld %lld %lld\n", (long long)us->input_tokens,
		    (long long)us->output_tokens, (long long)us->cache_read,
		    (long long)us->cache_write, (long long)us->latency_ms);
	return 0;
}

static int cb_json(void *u, struct slice line, struct err *e)
{
	struct rec *r = u;

	(void)e;
	buf_append(&r->log, line.p, line.n);
	return 0;
}

static struct conv_handler handler(struct rec *r)
{
	struct conv_handler h;

	memset(&h, 0, sizeof h);
	h.user = r;
	h.message_start = cb_start;
	h.text = cb_text;
	h.reasoning_text = cb_rtext;
	h.reasoning_signature = cb_rsig;
	h.reasoning_redacted = cb_rred;
	h.tool_start = cb_tool;
	h.tool_input = cb_input;
	h.block_stop = cb_bstop;
	h.message_stop = cb_stop;
	h.metadata = cb_meta;
	return h;
}

static void ev(struct buf *out, const char *type, const char *json)
{
	struct evs_header h[3];

	h[0] = evs_hdr_string(":event-type", type);
	h[1] = evs_hdr_string(":content-type", "application/json");
	h[2] = evs_hdr_string(":message-type", "event");
	CHECK(evs_encode(out, h, 3, json, strlen(json)) == 0);
}

static void exc(struct buf *out, const char *type, const char *json)
{
	struct evs_header h[3];

	h[0] = evs_hdr_string(":exception-type", type);
	h[1] = evs_hdr_string(":content-type", "application/json");
	h[2] = evs_hdr_string(":message-type", "exception");
	CHECK(evs_encode(out, h, 3, json, strlen(json)) == 0);
}

static void errframe(struct buf *out, const char *code, const char *msg)
{
	struct evs_header h[3];

	h[0] = evs_hdr_string(":message-type", "error");
	h[1] = evs_hdr_string(":error-code", code);
	h[2] = evs_hdr_string(":error-message", msg);
	CHECK(evs_encode(out, h, 3, "", 0) == 0);
}

/* A whole conversation with every event kind. */
static void full_stream(struct buf *s)
{
	buf_init(s, 1u << 20);
	ev(s, "messageStart", "{\"p\":\"abc\",\"role\":\"assistant\"}");
	ev(s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"text\":\"think \\\"hard\\\"\"}},\"p\":\"x\"}");
	ev(s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"signature\":\"SIG\"}}}");
	ev(s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"redactedContent\":\"UkVE\"}}}");
	ev(s, "contentBlockStop", "{\"contentBlockIndex\":0}");
	ev(s, "contentBlockDelta", "{\"contentBlockIndex\":1,\"delta\":{\"text\":\"Hello\"},\"p\":\"pp\"}");
	ev(s, "futureEvent", "{\"whatever\":[1,2,3]}");
	ev(s, "contentBlockDelta", "{\"contentBlockIndex\":1,\"delta\":{\"text\":\", \\u4e16\\ud83d\\ude00\\n\"},\"newKey\":{}}");
	ev(s, "contentBlockDelta", "{\"contentBlockIndex\":1,\"delta\":{\"futureDelta\":{\"x\":1}}}");
	ev(s, "contentBlockStop", "{\"contentBlockIndex\":1}");
	ev(s, "contentBlockStart", "{\"contentBlockIndex\":2,\"start\":{\"toolUse\":{\"toolUseId\":\"tu_1\",\"name\":\"get_weather\"}}}");
	ev(s, "contentBlockDelta", "{\"contentBlockIndex\":2,\"delta\":{\"toolUse\":{\"input\":\"{\\\"city\\\":\"}}}");
	ev(s, "contentBlockDelta", "{\"contentBlockIndex\":2,\"delta\":{\"toolUse\":{\"input\":\"\\\"Paris\\\"}\"}}}");
	ev(s, "contentBlockStop", "{\"contentBlockIndex\":2}");
	ev(s, "messageStop", "{\"stopReason\":\"tool_use\",\"p\":\"abcdef\"}");
	ev(s, "metadata", "{\"usage\":{\"inputTokens\":12,\"outputTokens\":34,\"totalTokens\":46,"
			  "\"cacheReadInputTokens\":5,\"cacheWriteInputTokens\":6},\"metrics\":{\"latencyMs\":789},\"p\":\"q\"}");
}

static const char full_log[] =
	"start assistant\n"
	"reasoning think \"hard\"\n"
	"signature SIG\n"
	"redacted UkVE\n"
	"blockstop 0\n"
	"text Hello\n"
	"text , \xe4\xb8\x96\xf0\x9f\x98\x80\n\n"
	"blockstop 1\n"
	"tool 2 tu_1 get_weather\n"
	"input {\"city\":\n"
	"input \"Paris\"}\n"
	"blockstop 2\n"
	"stop tool_use\n"
	"usage 12 34 5 6 789\n";

static void test_stream_every_split(void)
{
	struct buf s;
	size_t split;

	full_stream(&s);
	for (split = 0; split <= s.len; split += (split < 64 || s.len - split < 64) ? 1 : 7) {
		struct conv_stream cs;
		struct conv_handler h;
		struct rec r;
		struct err e = {0, ""};
		uint8_t *copy = malloc(s.len);

		memcpy(copy, s.p, s.len);
		memset(&r, 0, sizeof r);
		buf_init(&r.log, 1u << 16);
		h = handler(&r);
		conv_stream_init(&cs, &h, 0);
		CHECK(conv_stream_feed(&cs, copy, split, &e) == 0);
		CHECK(conv_stream_feed(&cs, copy + split, s.len - split, &e) == 0);
		CHECK(conv_stream_finish(&cs, &e) == 0);
		CHECK_STR((const char *)r.log.p, full_log);
		CHECK(cs.got_stop && cs.got_metadata);
		CHECK_STR(cs.stop_reason, "tool_use");
		conv_stream_free(&cs);
		buf_free(&r.log);
		free(copy);
	}
	buf_free(&s);
}

static void test_stream_byte_by_byte(void)
{
	struct conv_stream cs;
	struct conv_handler h;
	struct rec r;
	struct err e = {0, ""};
	struct buf s;
	size_t i;

	full_stream(&s);
	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1u << 16);
	h = handler(&r);
	conv_stream_init(&cs, &h, 0);
	for (i = 0; i < s.len; i++)
		CHECK(conv_stream_feed(&cs, s.p + i, 1, &e) == 0);
	CHECK(conv_stream_finish(&cs, &e) == 0);
	CHECK_STR((const char *)r.log.p, full_log);
	conv_stream_free(&cs);
	buf_free(&r.log);
	buf_free(&s);
}

static void test_text_is_zero_copy(void)
{
	struct conv_stream cs;
	struct conv_handler h;
	struct rec r;
	struct err e = {0, ""};
	struct buf s;

	buf_init(&s, 1u << 16);
	ev(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"plain text here\"}}");
	ev(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"more\"}}");
	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1u << 16);
	r.text_in_input = 1;
	r.lo = s.p;
	r.hi = s.p + s.len;
	h = handler(&r);
	conv_stream_init(&cs, &h, 0);
	CHECK(conv_stream_feed(&cs, s.p, s.len, &e) == 0);
	CHECK(r.text_in_input == 1);
	CHECK_STR((const char *)r.log.p, "text plain text here\ntext more\n");
	/* no messageStop: the stream ended early */
	CHECK(conv_stream_finish(&cs, &e) < 0 && e.cls == ERR_NET);
	conv_stream_free(&cs);
	buf_free(&r.log);
	buf_free(&s);
}

static void test_json_mode(void)
{
	struct conv_stream cs;
	struct conv_handler h;
	struct rec r;
	struct err e = {0, ""};
	struct buf s;

	full_stream(&s);
	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1u << 16);
	memset(&h, 0, sizeof h);
	h.user = &r;
	h.json_line = cb_json;
	conv_stream_init(&cs, &h, 1);
	CHECK(conv_stream_feed(&cs, s.p, s.len, &e) == 0);
	CHECK(conv_stream_finish(&cs, &e) == 0);
	CHECK_STR((const char *)r.log.p,
		  "{\"messageStart\":{\"role\":\"assistant\"}}\n"
		  "{\"contentBlockDelta\":{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"text\":\"think \\\"hard\\\"\"}}}}\n"
		  "{\"contentBlockDelta\":{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"signature\":\"SIG\"}}}}\n"
		  "{\"contentBlockDelta\":{\"contentBlockIndex\":0,\"delta\":{\"reasoningContent\":{\"redactedContent\":\"UkVE\"}}}}\n"
		  "{\"contentBlockStop\":{\"contentBlockIndex\":0}}\n"
		  "{\"contentBlockDelta\":{\"contentBlockIndex\":1,\"delta\":{\"text\":\"Hello\"}}}\n"
		  "{\"contentBlockDelta\":{\"contentBlockIndex\":1,\"delta\":{\"text\":\", \\u4e16\\ud83d\\ude00\\n\"},\"newKey\":{}}}\n"
		  "{\"contentBlockDelta\":{\"contentBlockIndex\":1,\"delta\":{\"futureDelta\":{\"x\":1}}}}\n"
		  "{\"contentBlockStop\":{\"contentBlockIndex\":1}}\n"
		  "{\"contentBlockStart\":{\"contentBlockIndex\":2,\"start\":{\"toolUse\":{\"toolUseId\":\"tu_1\",\"name\":\"get_weather\"}}}}\n"
		  "{\"contentBlockDelta\":{\"contentBlockIndex\":2,\"delta\":{\"toolUse\":{\"input\":\"{\\\"city\\\":\"}}}}\n"
		  "{\"contentBlockDelta\":{\"contentBlockIndex\":2,\"delta\":{\"toolUse\":{\"input\":\"\\\"Paris\\\"}\"}}}}\n"
		  "{\"contentBlockStop\":{\"contentBlockIndex\":2}}\n"
		  "{\"messageStop\":{\"stopReason\":\"tool_use\"}}\n"
		  "{\"metadata\":{\"usage\":{\"inputTokens\":12,\"outputTokens\":34,\"totalTokens\":46,"
		  "\"cacheReadInputTokens\":5,\"cacheWriteInputTokens\":6},\"metrics\":{\"latencyMs\":789}}}\n");
	conv_stream_free(&cs);
	buf_free(&r.log);
	buf_free(&s);
}

static void test_json_mode_pretty_payload(void)
{
	struct conv_stream cs;
	struct conv_handler h;
	struct rec r;
	struct err e = {0, ""};
	struct buf s;

	buf_init(&s, 1u << 16);
	ev(&s, "messageStop", "{\n  \"stopReason\" : \"end_turn\",\n  \"x\": [1, 2]\n}");
	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1u << 16);
	memset(&h, 0, sizeof h);
	h.user = &r;
	h.json_line = cb_json;
	conv_stream_init(&cs, &h, 1);
	CHECK(conv_stream_feed(&cs, s.p, s.len, &e) == 0);
	CHECK_STR((const char *)r.log.p, "{\"messageStop\":{\"stopReason\":\"end_turn\",\"x\":[1,2]}}\n");
	conv_stream_free(&cs);
	buf_free(&r.log);
	buf_free(&s);
}

static int run_stream(struct buf *s, int json, struct rec *r, struct err *e)
{
	struct conv_stream cs;
	struct conv_handler h;
	int rc;

	memset(r, 0, sizeof *r);
	buf_init(&r->log, 1u << 16);
	h = handler(r);
	h.json_line = cb_json;
	conv_stream_init(&cs, &h, json);
	rc = conv_stream_feed(&cs, s->p, s->len, e);
	if (rc == 0)
		rc = conv_stream_finish(&cs, e);
	conv_stream_free(&cs);
	return rc;
}

static void test_exception_frames(void)
{
	struct rec r;
	struct err e = {0, ""};
	struct buf s;

	buf_init(&s, 1u << 16);
	ev(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"part\"}}");
	exc(&s, "throttlingException", "{\"message\":\"Too many \\\"tokens\\\"\"}");
	ev(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"never\"}}");
	CHECK(run_stream(&s, 0, &r, &e) < 0);
	CHECK(e.cls == ERR_SERVICE);
	CHECK_STR(e.msg, "throttlingException: Too many \"tokens\"");
	CHECK_STR((const char *)r.log.p, "text part\n");
	buf_free(&r.log);
	/* JSON mode prints the exception in the SDK shape first */
	CHECK(run_stream(&s, 1, &r, &e) < 0 && e.cls == ERR_SERVICE);
	CHECK(strstr((const char *)r.log.p,
		     "{\"throttlingException\":{\"message\":\"Too many \\\"tokens\\\"\"}}\n") != NULL);
	buf_free(&r.log);
	/* no message, not JSON */
	buf_reset(&s);
	exc(&s, "internalServerException", "");
	CHECK(run_stream(&s, 0, &r, &e) < 0 && e.cls == ERR_SERVICE);
	CHECK(strstr(e.msg, "internalServerException") != NULL);
	buf_free(&r.log);
	buf_reset(&s);
	exc(&s, "validationException", "plain words");
	CHECK(run_stream(&s, 0, &r, &e) < 0 && e.cls == ERR_SERVICE);
	CHECK_STR(e.msg, "validationException: plain words");
	buf_free(&r.log);
	buf_free(&s);
}

static void test_error_frames(void)
{
	struct rec r;
	struct err e = {0, ""};
	struct buf s;

	buf_init(&s, 1u << 16);
	errframe(&s, "InternalFailure", "It broke.\n");
	CHECK(run_stream(&s, 0, &r, &e) < 0 && e.cls == ERR_SERVICE);
	CHECK_STR(e.msg, "InternalFailure: It broke. ");
	buf_free(&r.log);
	buf_free(&s);
}

static void test_malformed_payloads(void)
{
	static const char *const bad[] = {"{\"contentBlockIndex\":0,\"delta\":{\"text\":}}",
					  "[1,2]",
					  "{\"contentBlockIndex\":0,\"delta\":{\"text\":7}}",
					  "{\"delta\":{\"text\":\"\\ud800\"}}",
					  "not json",
					  "{\"delta\":{\"text\":\"x\"}} trailing"};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct rec r;
		struct err e = {0, ""};
		struct buf s;

		buf_init(&s, 1u << 16);
		ev(&s, "contentBlockDelta", bad[i]);
		CHECK(run_stream(&s, 0, &r, &e) < 0);
		CHECK(e.cls == ERR_PROTO);
		buf_free(&r.log);
		buf_free(&s);
	}
}

static void test_framing_errors(void)
{
	struct rec r;
	struct err e = {0, ""};
	struct buf s;

	buf_init(&s, 1u << 16);
	ev(&s, "contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"ok\"}}");
	ev(&s, "messageStop", "{\"stopReason\":\"end_turn\"}");
	s.p[s.len - 1] ^= 0x5a; /* message CRC */
	CHECK(run_stream(&s, 0, &r, &e) < 0 && e.cls == ERR_PROTO);
	CHECK_STR((const char *)r.log.p, "text ok\n");
	buf_free(&r.log);
	s.p[s.len - 1] ^= 0x5a;
	s.len -= 3; /* truncated inside the last message */
	CHECK(run_stream(&s, 0, &r, &e) < 0 && e.cls == ERR_PROTO);
	buf_free(&r.log);
	buf_free(&s);
}

static void test_unknown_message_types_and_empty_payload(void)
{
	struct evs_header h[2];
	struct rec r;
	struct err e = {0, ""};
	struct buf s;

	buf_init(&s, 1u << 16);
	h[0] = evs_hdr_string(":message-type", "future");
	h[1] = evs_hdr_string(":event-type", "contentBlockDelta");
	CHECK(evs_encode(&s, h, 2, "garbage", 7) == 0);
	CHECK(evs_encode(&s, h, 0, "no headers", 10) == 0);
	ev(&s, "messageStart", ""); /* an empty payload counts as {} */
	ev(&s, "messageStop", "{\"stopReason\":\"end_turn\"}");
	CHECK(run_stream(&s, 0, &r, &e) == 0);
	CHECK_STR((const char *)r.log.p, "start \nstop end_turn\n");
	buf_free(&r.log);
	buf_free(&s);
}

static void test_callback_error_stops(void)
{
	struct rec r;
	struct conv_stream cs;
	struct conv_handler h;
	struct err e = {0, ""};
	struct buf s;

	full_stream(&s);
	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1u << 16);
	r.fail_on_text = 1;
	h = handler(&r);
	conv_stream_init(&cs, &h, 0);
	CHECK(conv_stream_feed(&cs, s.p, s.len, &e) < 0);
	CHECK(e.cls == ERR_OTHER && strcmp(e.msg, "stop here") == 0);
	conv_stream_free(&cs);
	buf_free(&r.log);
	buf_free(&s);
}

static void test_many_tokens(void)
{
	struct rec r;
	struct err e = {0, ""};
	struct buf s, p;
	int i;

	buf_init(&p, 1u << 20);
	buf_append_str(&p, "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"big\"},\"extra\":[");
	for (i = 0; i < 5000; i++)
		buf_appendf(&p, "%s{\"a\":%d}", i ? "," : "", i);
	buf_append_str(&p, "]}");
	buf_init(&s, 1u << 20);
	ev(&s, "contentBlockDelta", (const char *)p.p);
	ev(&s, "messageStop", "{\"stopReason\":\"end_turn\"}");
	CHECK(run_stream(&s, 0, &r, &e) == 0);
	CHECK_STR((const char *)r.log.p, "text big\nstop end_turn\n");
	buf_free(&r.log);
	buf_free(&s);
	buf_free(&p);
}

/* ---- the text-delta fast path against the full reader ---- */

/* Everything the handlers see, index included, plus the result. */
static int dl_text(void *u, int i, struct slice t, struct err *e)
{
	(void)e;
	buf_appendf(u, "text %d [%.*s]\n", i, (int)t.n, (const char *)t.p);
	return 0;
}

static int dl_json(void *u, struct slice line, struct err *e)
{
	(void)e;
	buf_append_str(u, "json ");
	buf_append(u, line.p, line.n);
	return 0;
}

static int dl_other(void *u, int i, struct slice t, struct err *e)
{
	(void)e;
	buf_appendf(u, "other %d [%.*s]\n", i, (int)t.n, (const char *)t.p);
	return 0;
}

/* Feeds one contentBlockDelta payload with the fast path on or off; the
 * transcript goes to out. Returns 1 when the full reader never ran (its
 * token array was never allocated): the fast path answered. */
static int delta_run(const uint8_t *payload, size_t n, int json, int no_fast, struct buf *out)
{
	struct evs_header hd[3];
	struct conv_stream cs;
	struct conv_handler h;
	struct err e = {0, ""};
	struct buf s;
	int rc, fast;

	buf_init(&s, 1u << 16);
	hd[0] = evs_hdr_string(":event-type", "contentBlockDelta");
	hd[1] = evs_hdr_string(":content-type", "application/json");
	hd[2] = evs_hdr_string(":message-type", "event");
	CHECK(evs_encode(&s, hd, 3, payload, n) == 0);
	memset(&h, 0, sizeof h);
	h.user = out;
	h.text = dl_text;
	h.reasoning_text = dl_other;
	h.tool_input = dl_other;
	h.json_line = dl_json;
	conv_stream_init(&cs, &h, json);
	cs.no_fast = no_fast;
	rc = conv_stream_feed(&cs, s.p, s.len, &e);
	buf_appendf(out, "rc %d cls %d %s\n", rc, rc < 0 ? e.cls : 0, rc < 0 ? e.msg : "");
	fast = cs.tok == NULL;
	conv_stream_free(&cs);
	buf_free(&s);
	return fast;
}

/* Same transcript both ways, in both modes; returns 1 if the fast path took it. */
static int delta_same(const uint8_t *p, size_t n)
{
	struct buf a, b;
	int json, fast = 0, f;

	for (json = 0; json < 2; json++) {
		buf_init(&a, 1u << 16);
		buf_init(&b, 1u << 16);
		f = delta_run(p, n, json, 0, &a);
		CHECK(delta_run(p, n, json, 1, &b) == 0);
		if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
			fprintf(stderr, "  payload: %.*s\n  fast: %s  full: %s", (int)n,
				(const char *)p, (const char *)a.p, (const char *)b.p);
			CHECK(!"fast path and full path disagree");
		}
		fast |= f;
		buf_free(&a);
		buf_free(&b);
	}
	return fast;
}

static int delta_same_str(const char *p)
{
	return delta_same((const uint8_t *)p, strlen(p));
}

static void test_fast_path_taken(void)
{
	/* the shapes the service and the emulator send */
	CHECK(delta_same_str("{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hello\"},\"p\":\"abcdefghij\"}"));
	CHECK(delta_same_str("{\"contentBlockIndex\": 3, \"delta\": {\"text\": \"Hi there\"}, \"p\": \"ab\"}"));
	CHECK(delta_same_str(" {\n \"delta\" : {\r\t\"text\" : \"x\" } , \"contentBlockIndex\" : 12 } \n"));
	CHECK(delta_same_str("{\"p\":\"\",\"delta\":{\"text\":\"\"}}"));
	CHECK(delta_same_str("{\"delta\":{\"text\":\"no index, no padding\"}}"));
	CHECK(delta_same_str("{\"contentBlockIndex\":1000000,\"delta\":{\"text\":\"max\"}}"));
	/* escapes are decoded by the real reader */
	CHECK(delta_same_str("{\"contentBlockIndex\":0,\"delta\":{\"text\":\"a\\nb\\\"c\\\\d\\/e\\bf\\fg\\rh\\ti\"}}"));
	CHECK(delta_same_str("{\"delta\":{\"text\":\"\\u4e16\\ud83d\\ude00\\u0000\\u00e9\\u2028\"},\"p\":\"\\u0041\"}"));
	/* raw UTF-8 of every length */
	CHECK(delta_same_str("{\"delta\":{\"text\":\"\x7f is plain\"}}"));
	CHECK(delta_same_str("{\"delta\":{\"text\":\"caf\xc3\xa9 \xe4\xb8\x96 \xf0\x9f\x98\x80 \xef\xbf\xbf\xf4\x8f\xbf\xbf\"}}"));
}

static void test_fast_path_falls_back(void)
{
	/* each is left to the full reader (callbacks or errors as before) */
	static const char *const v[] = {
		"{\"contentBlockIndex\":1000001,\"delta\":{\"text\":\"x\"}}",
		"{\"contentBlockIndex\":12345678,\"delta\":{\"text\":\"x\"}}",
		"{\"contentBlockIndex\":-1,\"delta\":{\"text\":\"x\"}}",
		"{\"contentBlockIndex\":1.0,\"delta\":{\"text\":\"x\"}}",
		"{\"contentBlockIndex\":1e2,\"delta\":{\"text\":\"x\"}}",
		"{\"contentBlockIndex\":01,\"delta\":{\"text\":\"x\"}}",
		"{\"contentBlockIndex\":\"1\",\"delta\":{\"text\":\"x\"}}",
		"{\"contentBlockIndex\":null,\"delta\":{\"text\":\"x\"}}",
		"{\"contentBlockIndex\":1,\"contentBlockIndex\":2,\"delta\":{\"text\":\"x\"}}",
		"{\"delta\":{\"text\":\"x\"},\"delta\":{\"text\":\"y\"}}",
		"{\"delta\":{\"text\":\"x\",\"text\":\"y\"}}",
		"{\"p\":\"a\",\"p\":\"b\",\"delta\":{\"text\":\"x\"}}",
		"{\"\\u0070\":\"a\",\"delta\":{\"text\":\"x\"}}",
		"{\"d\\u0065lta\":{\"text\":\"x\"}}",
		"{\"delta\":{\"t\\u0065xt\":\"x\"}}",
		"{\"delta\":{\"text\":\"x\"},\"p\":1}",
		"{\"delta\":{\"text\":\"x\"},\"p\":{}}",
		"{\"delta\":{\"text\":\"x\"},\"extra\":true}",
		"{\"delta\":{\"text\":\"x\",\"more\":1}}",
		"{\"delta\":{\"text\":7}}",
		"{\"delta\":{\"text\":null}}",
		"{\"delta\":{}}",
		"{\"delta\":[]}",
		"{\"delta\":{\"toolUse\":{\"input\":\"{}\"}}}",
		"{\"delta\":{\"reasoningContent\":{\"text\":\"hm\"}}}",
		"{\"contentBlockIndex\":0}",
		"{}",
		"",
		"[]",
		"{\"delta\":{\"text\":\"\\ud800\"}}",
		"{\"delta\":{\"text\":\"\\udc00x\"}}",
		"{\"delta\":{\"text\":\"\\ud83d\\u0041\"}}",
		"{\"delta\":{\"text\":\"\\x\"}}",
		"{\"delta\":{\"text\":\"\\u12\"}}",
		"{\"delta\":{\"text\":\"\\u12G4\"}}",
		"{\"delta\":{\"text\":\"tab\there\"}}",
		"{\"delta\":{\"text\":\"\x01\"}}",
		"{\"delta\":{\"text\":\"\xc0\xaf\"}}",
		"{\"delta\":{\"text\":\"\xe0\x80\xaf\"}}",
		"{\"delta\":{\"text\":\"\xed\xa0\x80\"}}",
		"{\"delta\":{\"text\":\"\xf4\x90\x80\x80\"}}",
		"{\"delta\":{\"text\":\"\xf5\x80\x80\x80\"}}",
		"{\"delta\":{\"text\":\"\xc3\"}}",
		"{\"delta\":{\"text\":\"\xe4\xb8\"}}",
		"{\"delta\":{\"text\":\"\x80\"}}",
		"{\"delta\":{\"text\":\"x\"}} x",
		"{\"delta\":{\"text\":\"x\"}}{}",
		"{\"delta\":{\"text\":\"x\"},}",
		"{\"delta\":{\"text\":\"x\"}",
		"{\"delta\":{\"text\":\"x\"}}\x0b",
		"{\"delta\" {\"text\":\"x\"}}",
		"{\"delta\":{\"text\" \"x\"}}",
		"{,\"delta\":{\"text\":\"x\"}}",
	};
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		CHECK(!delta_same_str(v[i]));
}

/* Every prefix and every one-byte change of typical payloads: whatever the
 * fast path does must be what the full reader does. */
static void test_fast_path_mutations(void)
{
	static const char *const base[] = {
		"{\"contentBlockIndex\":7,\"delta\":{\"text\":\"Hello, w\\u00f6rld \xc3\xa9!\\n\"},\"p\":\"abcdefghijklmnopq\"}",
		"{\"contentBlockIndex\": 0, \"delta\": {\"text\": \"0123456789abcdef\"}, \"p\": \"ab\"}",
	};
	static const uint8_t subst[] = {'"', '\\', ' ', '\n', 0x01, 0x1f, 0x7f, 0x80, 0xbf, 0xc3,
					0xe0, 0xed, 0xf0, 0xf4, 0xff, 'x', 'u', '0', '9', '{',
					'}', '[', ',', ':', '-', '.', 'e'};
	size_t b, i, k;
	int fast = 0;

	for (b = 0; b < sizeof base / sizeof base[0]; b++) {
		size_t n = strlen(base[b]);
		uint8_t *m = malloc(n);

		for (i = 0; i <= n; i++)
			delta_same((const uint8_t *)base[b], i);
		for (i = 0; i < n; i++) {
			for (k = 0; k < sizeof subst; k++) {
				memcpy(m, base[b], n);
				m[i] = subst[k];
				fast += delta_same(m, n);
			}
		}
		free(m);
	}
	CHECK(fast > 100); /* a good share of the mutants still take the fast path */
}

/* Special bytes at every offset of a long text: the 8-byte scan must not
 * step over any of them. */
static void test_fast_path_word_scan(void)
{
	static const char *const specials[] = {"\\n", "\\\"", "\\u00e9", "\xc3\xa9", "\x01",
					       "\xc3", "\x80", "\"", "\\"};
	struct buf p;
	size_t at, k;

	buf_init(&p, 1u << 12);
	for (k = 0; k < sizeof specials / sizeof specials[0]; k++) {
		for (at = 0; at <= 40; at++) {
			buf_reset(&p);
			buf_append_str(&p, "{\"delta\":{\"text\":\"");
			buf_appendf(&p, "%.*s", (int)at, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
			buf_append_str(&p, specials[k]);
			buf_append_str(&p, "0123456789012345678901234567890\"},\"p\":\"");
			buf_appendf(&p, "%.*s", (int)at, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
			buf_append_str(&p, specials[k]);
			buf_append_str(&p, "\"}");
			delta_same(p.p, p.len);
		}
	}
	buf_free(&p);
}

static void test_fast_path_stream_unchanged(void)
{
	/* the whole conversation and JSON mode, fast path off: same as on */
	struct buf s;
	int json;

	full_stream(&s);
	for (json = 0; json < 2; json++) {
		struct conv_stream cs;
		struct conv_handler h;
		struct rec r[2];
		struct err e = {0, ""};
		int nf;

		for (nf = 0; nf < 2; nf++) {
			memset(&r[nf], 0, sizeof r[nf]);
			buf_init(&r[nf].log, 1u << 16);
			h = handler(&r[nf]);
			h.json_line = cb_json;
			conv_stream_init(&cs, &h, json);
			cs.no_fast = nf;
			CHECK(conv_stream_feed(&cs, s.p, s.len, &e) == 0);
			CHECK(conv_stream_finish(&cs, &e) == 0);
			conv_stream_free(&cs);
		}
		CHECK_STR((const char *)r[0].log.p, (const char *)r[1].log.p);
		buf_free(&r[0].log);
		buf_free(&r[1].log);
	}
	buf_free(&s);
}

/* ---- Converse answers ---- */

static void test_converse_answer(void)
{
	static const char ans[] =
		"{\"output\": {\"message\": {\"role\": \"assistant\", \"content\": ["
		"{\"reasoningContent\": {\"reasoningText\": {\"text\": \"hmm\", \"signature\": \"S\"}}},"
		"{\"text\": \"Hi \\\"there\\\"\"},"
		"{\"toolUse\": {\"toolUseId\": \"t1\", \"name\": \"f\", \"input\": {\"a\": [1, 2]}}},"
		"{\"futureBlock\": {}}]}},"
		"\"stopReason\": \"tool_use\", \"usage\": {\"inputTokens\": 3, \"outputTokens\": 4, "
		"\"totalTokens\": 7}, \"metrics\": {\"latencyMs\": 42}}";
	struct conv_handler h;
	struct rec r;
	struct err e = {0, ""};

	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1u << 16);
	h = handler(&r);
	CHECK(conv_parse_response(&h, 0, (const uint8_t *)ans, sizeof ans - 1, &e) == 0);
	CHECK_STR((const char *)r.log.p, "start assistant\nreasoning hmm\nsignature S\nblockstop 0\n"
					 "text Hi \"there\"\nblockstop 1\ntool 2 t1 f\ninput {\"a\":[1,2]}\n"
					 "blockstop 2\nstop tool_use\nusage 3 4 0 0 42\n");
	buf_free(&r.log);
	/* JSON mode: the whole object on one line */
	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1u << 16);
	memset(&h, 0, sizeof h);
	h.user = &r;
	h.json_line = cb_json;
	CHECK(conv_parse_response(&h, 1, (const uint8_t *)ans, sizeof ans - 1, &e) == 0);
	CHECK(r.log.len > 10 && memchr(r.log.p, '\n', r.log.len) == r.log.p + r.log.len - 1);
	CHECK(strstr((const char *)r.log.p, "{\"output\":{\"message\":{\"role\":\"assistant\"") != NULL);
	CHECK(strstr((const char *)r.log.p, "\"Hi \\\"there\\\"\"") != NULL);
	buf_free(&r.log);
}

static void test_converse_answer_errors(void)
{
	struct conv_handler h;
	struct rec r;
	struct err e = {0, ""};
	static const char err1[] = "{\"__type\":\"com.amazon#UnknownOperationException\",\"message\":\"no\"}";
	static const char err2[] = "{\"output\":{}}";
	static const char err3[] = "{\"output\":";
	static const char err4[] =
		"{\"Code\":\"a.b#UnknownOperationException:http://internal/\",\"Message\":\"M\"}";
	static const char err5[] = "{\"__type\":\"\",\"message\":\"m\"}";
	static const char err6[] = "{\"code\":\"ThrottlingException\",\"message\":7}";
	static const char err7[] = "{\"__type\":7,\"message\":\"m\"}";

	memset(&r, 0, sizeof r);
	buf_init(&r.log, 1u << 16);
	h = handler(&r);
	CHECK(conv_parse_response(&h, 0, (const uint8_t *)err1, sizeof err1 - 1, &e) < 0);
	CHECK(e.cls == ERR_SERVICE);
	CHECK_STR(e.msg, "UnknownOperationException: no");
	CHECK(conv_parse_response(&h, 0, (const uint8_t *)err2, sizeof err2 - 1, &e) < 0);
	CHECK(e.cls == ERR_PROTO);
	CHECK(conv_parse_response(&h, 0, (const uint8_t *)err3, sizeof err3 - 1, &e) < 0);
	CHECK(e.cls == ERR_PROTO);
	CHECK(conv_parse_response(&h, 0, (const uint8_t *)"", 0, &e) < 0);
	/* the type keys and shapes of SPEC 3.3; an empty type is still an error */
	CHECK(conv_parse_response(&h, 0, (const uint8_t *)err4, sizeof err4 - 1, &e) < 0);
	CHECK(e.cls == ERR_SERVICE);
	CHECK_STR(e.msg, "UnknownOperationException: M");
	CHECK(conv_parse_response(&h, 0, (const uint8_t *)err5, sizeof err5 - 1, &e) < 0);
	CHECK(e.cls == ERR_SERVICE);
	CHECK_STR(e.msg, "UnknownError: m");
	CHECK(conv_parse_response(&h, 0, (const uint8_t *)err6, sizeof err6 - 1, &e) < 0);
	CHECK(e.cls == ERR_SERVICE);
	CHECK_STR(e.msg, "ThrottlingException");
	CHECK(conv_parse_response(&h, 0, (const uint8_t *)err7, sizeof err7 - 1, &e) < 0);
	CHECK(e.cls == ERR_PROTO);
	CHECK(r.log.len == 0);
	buf_free(&r.log);
}

static void test_json_compact(void)
{
	struct buf b;
	static const char in[] = " { \"a b\" : [ 1 , \"x \\\" y\\\\\" ] ,\n\t\"c\":{ } } ";

	buf_init(&b, 1024);
	CHECK(conv_json_compact(&b, (const uint8_t *)in, sizeof in - 1) == 0);
	CHECK_STR((const char *)b.p, "{\"a b\":[1,\"x \\\" y\\\\\"],\"c\":{}}");
	buf_free(&b);
}

static void test_model_is_anthropic(void)
{
	CHECK(conv_model_is_anthropic("anthropic.claude-3-haiku-20240307-v1:0"));
	CHECK(conv_model_is_anthropic("us.anthropic.claude-opus-4-6-v1:0"));
	CHECK(conv_model_is_anthropic("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2"));
	CHECK(!conv_model_is_anthropic("amazon.nova-pro-v1:0"));
	CHECK(!conv_model_is_anthropic(NULL));
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_body_minimal);
	T_RUN(test_body_all_options);
	T_RUN(test_body_attachments);
	T_RUN(test_body_big_attachment_base64);
	T_RUN(test_body_errors);
	T_RUN(test_body_thinking_budget);
	T_RUN(test_body_adaptive);
	T_RUN(test_body_features);
	T_RUN(test_body_limit);
	T_RUN(test_image_format);
	T_RUN(test_document_format);
	T_RUN(test_document_name);
	T_RUN(test_stream_every_split);
	T_RUN(test_stream_byte_by_byte);
	T_RUN(test_text_is_zero_copy);
	T_RUN(test_json_mode);
	T_RUN(test_json_mode_pretty_payload);
	T_RUN(test_exception_frames);
	T_RUN(test_error_frames);
	T_RUN(test_malformed_payloads);
	T_RUN(test_framing_errors);
	T_RUN(test_unknown_message_types_and_empty_payload);
	T_RUN(test_callback_error_stops);
	T_RUN(test_many_tokens);
	T_RUN(test_fast_path_taken);
	T_RUN(test_fast_path_falls_back);
	T_RUN(test_fast_path_mutations);
	T_RUN(test_fast_path_word_scan);
	T_RUN(test_fast_path_stream_unchanged);
	T_RUN(test_converse_answer);
	T_RUN(test_converse_answer_errors);
	T_RUN(test_json_compact);
	T_RUN(test_model_is_anthropic);
	return t_done(argv[0]);
}
