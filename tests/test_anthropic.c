/* test_anthropic: Anthropic Messages request -> InvokeModel body (every
 * top-level rule, betas, system folding, bad inputs), model-name resolution,
 * the chunk relay (frames built with evs_encode, fed at every split point),
 * count_tokens, error classification and objects, the model list. JSON
 * compared byte for byte. */
#include "t.h"

#include <stdlib.h>

#include "base/base64.h"
#include "bedrock/anthropic.h"
#include "bedrock/converse.h"
#include "wire/evstream.h"
#include "wire/json.h"

/* Test JSON is written with ' for ". */
static char *q(const char *s)
{
	static char tmp[4][8192];
	static int k;
	char *o = tmp[k++ & 3];
	size_t i;

	for (i = 0; s[i] && i + 1 < sizeof tmp[0]; i++)
		o[i] = s[i] == '\'' ? '"' : s[i];
	o[i] = '\0';
	return o;
}

static struct anth_req rq;
static struct err er;

static const char *map_b(const char *in, const char *beta)
{
	static struct buf out;
	const char *j = q(in);

	buf_free(&out);
	buf_init(&out, 1 << 20);
	err_clear(&er);
	if (anth_map_invoke((const uint8_t *)j, strlen(j), beta, NULL, &rq, &out, &er) < 0) {
		CHECK(out.len == 0);
		CHECK(er.cls == ERR_USAGE);
		return NULL;
	}
	CHECK(json_validate((const char *)out.p, out.len, NULL, NULL, &er) == 0);
	return (const char *)out.p;
}

static void mapeq(const char *in, const char *beta, const char *want)
{
	const char *got = map_b(in, beta);

	if (!got)
		fprintf(stderr, "  error: %s\n", er.msg);
	CHECK_STR(got, q(want));
}

static void bad(const char *in, const char *param, const char *msg_part)
{
	const char *got = map_b(in, NULL);

	CHECK(got == NULL);
	CHECK_STR(rq.param, param);
	if (!strstr(er.msg, msg_part)) {
		fprintf(stderr, "  msg: %s\n", er.msg);
		CHECK(0);
	}
}

#define HEAD "'anthropic_version':'bedrock-2023-05-31',"
#define HI "'messages':[{'role':'user','content':'Hi'}]"

static void test_map_basic(void)
{
	mapeq("{'model':'claude-sonnet-4-5','max_tokens':100," HI ",'stream':true}", NULL,
	      "{" HEAD "'max_tokens':100," HI "}");
	CHECK(rq.stream == 1);
	CHECK_STR(rq.model, "claude-sonnet-4-5");
	CHECK(rq.max_tokens == 100);
	/* other fields copied as they are, in order; dropped ones gone */
	mapeq("{'model':'m','max_tokens':5," HI ",'temperature':0.5,'top_p':0.9,'top_k':40,"
	      "'stop_sequences':['x'],'tools':[{'name':'t','input_schema':{'type':'object'}}],"
	      "'tool_choice':{'type':'auto'},'thinking':{'type':'enabled','budget_tokens':2048},"
	      "'metadata':{'user_id':'u1'},'service_tier':'auto','container':null,"
	      "'inference_geo':{'allow':['us']},'stream':false,'anthropic_version':'x'}",
	      NULL,
	      "{" HEAD "'max_tokens':5," HI ",'temperature':0.5,'top_p':0.9,'top_k':40,"
	      "'stop_sequences':['x'],'tools':[{'name':'t','input_schema':{'type':'object'}}],"
	      "'tool_choice':{'type':'auto'},'thinking':{'type':'enabled','budget_tokens':2048}}");
	CHECK_STR(rq.user_id, "u1");
	CHECK(rq.stream == 0);
	/* blocks (thinking with signature, cache_control, images) untouched */
	mapeq("{'model':'m','max_tokens':5,'messages':[{'role':'user','content':[{'type':'text',"
	      "'text':'a','cache_control':{'type':'ephemeral'}}]},{'role':'assistant','content':"
	      "[{'type':'thinking','thinking':'t','signature':'c2ln'},{'type':'tool_use','id':'1',"
	      "'name':'f','input':{}}]}]}",
	      NULL,
	      "{" HEAD "'max_tokens':5,'messages':[{'role':'user','content':[{'type':'text',"
	      "'text':'a','cache_control':{'type':'ephemeral'}}]},{'role':'assistant','content':"
	      "[{'type':'thinking','thinking':'t','signature':'c2ln'},{'type':'tool_use','id':'1',"
	      "'name':'f','input':{}}]}]}");
}

static void test_map_system(void)
{
	mapeq("{'model':'m','max_tokens':1,'system':'Be brief.'," HI "}", NULL,
	      "{" HEAD "'max_tokens':1,'system':[{'type':'text','text':'Be brief.'}]," HI "}");
	/* system messages (Claude Code) fold into system, after the top-level one */
	mapeq("{'model':'m','max_tokens':1,'system':[{'type':'text','text':'A','cache_control':"
	      "{'type':'ephemeral'}}],'messages':[{'role':'system','content':'B'},{'role':'user',"
	      "'content':'Hi'},{'role':'system','content':[{'type':'text','text':'C'}]}]}",
	      NULL,
	      "{" HEAD "'max_tokens':1,'system':[{'type':'text','text':'A','cache_control':"
	      "{'type':'ephemeral'}},{'type':'text','text':'B'},{'type':'text','text':'C'}],"
	      "'messages':[{'role':'user','content':'Hi'}]}");
	mapeq("{'model':'m','max_tokens':1,'system':''," HI "}", NULL,
	      "{" HEAD "'max_tokens':1," HI "}");
	mapeq("{'model':'m','max_tokens':1,'system':[],'messages':[{'role':'system','content':''},"
	      "{'role':'user','content':'Hi'}]}",
	      NULL, "{" HEAD "'max_tokens':1," HI "}");
	mapeq("{'model':'m','max_tokens':1,'system':'a\\nb'," HI "}", NULL,
	      "{" HEAD "'max_tokens':1,'system':[{'type':'text','text':'a\\nb'}]," HI "}");
}

static void test_map_betas(void)
{
	mapeq("{'model':'m','max_tokens':1," HI "}",
	      "claude-code-20250219,interleaved-thinking-2025-05-14, fine-grained-tool-streaming-"
	      "2025-05-14,context-1m-2025-08-07,interleaved-thinking-2025-05-14,,oauth-2025-04-20",
	      "{" HEAD "'anthropic_beta':['interleaved-thinking-2025-05-14',"
	      "'context-1m-2025-08-07'],'max_tokens':1," HI "}");
	CHECK(rq.nbetas == 2);
	CHECK(rq.ndropped == 3);
	/* output_config and context_management travel only with their beta */
	mapeq("{'model':'m','max_tokens':1," HI ",'output_config':{'effort':'low'},"
	      "'context_management':{'edits':[]}}",
	      "effort-2025-11-24",
	      "{" HEAD "'anthropic_beta':['effort-2025-11-24'],'max_tokens':1," HI
	      ",'output_config':{'effort':'low'}}");
	mapeq("{'model':'m','max_tokens':1," HI ",'output_config':{'effort':'low'},"
	      "'context_management':{'edits':[]}}",
	      "context-management-2025-06-27",
	      "{" HEAD "'anthropic_beta':['context-management-2025-06-27'],'max_tokens':1," HI
	      ",'context_management':{'edits':[]}}");
	mapeq("{'model':'m','max_tokens':1," HI "}", "", "{" HEAD "'max_tokens':1," HI "}");
	{
		static const char *const allow[] = {"x-1", NULL};
		struct buf out;
		const char *j = q("{'model':'m','max_tokens':1," HI "}");

		buf_init(&out, 4096);
		CHECK(anth_map_invoke((const uint8_t *)j, strlen(j), "x-1,y", allow, &rq, &out,
				      &er) == 0);
		CHECK_STR((const char *)out.p,
			  q("{" HEAD "'anthropic_beta':['x-1'],'max_tokens':1," HI "}"));
		buf_free(&out);
	}
}

static void test_map_bad(void)
{
	bad("[]", "", "JSON object");
	bad("{", "", "not valid JSON");
	bad("{'max_tokens':1," HI "}", "model", "model");
	bad("{'model':'','max_tokens':1," HI "}", "model", "model");
	bad("{'model':'m'," HI "}", "max_tokens", "required");
	bad("{'model':'m','max_tokens':0," HI "}", "max_tokens", "positive");
	bad("{'model':'m','max_tokens':1.5," HI "}", "max_tokens", "positive");
	bad("{'model':'m','max_tokens':1,'messages':[]}", "messages", "non-empty");
	bad("{'model':'m','max_tokens':1,'messages':{}}", "messages", "non-empty");
	bad("{'model':'m','max_tokens':1,'messages':[1]}", "messages[0]", "object");
	bad("{'model':'m','max_tokens':1,'messages':[{'role':'bot','content':'x'}]}",
	    "messages[0]", "role");
	bad("{'model':'m','max_tokens':1,'messages':[{'role':'user','content':3}]}",
	    "messages[0]", "content");
	bad("{'model':'m','max_tokens':1,'messages':[{'role':'system','content':'x'}]}",
	    "messages", "user message");
	bad("{'model':'m','max_tokens':1,'system':5," HI "}", "system", "string");
	bad("{'model':'m','max_tokens':1,'system':[1]," HI "}", "system", "blocks");
	bad("{'model':'m','max_tokens':1,'stream':'yes'," HI "}", "stream", "true");
	/* the output limit is ERR_OTHER and leaves nothing behind */
	{
		struct buf out;
		const char *j = q("{'model':'m','max_tokens':1," HI "}");

		buf_init(&out, 10);
		CHECK(anth_map_invoke((const uint8_t *)j, strlen(j), NULL, NULL, &rq, &out, &er) < 0);
		CHECK(er.cls == ERR_OTHER);
		CHECK(out.len == 0);
		buf_free(&out);
	}
}

static void test_count_tokens(void)
{
	struct buf out, dec;
	const char *j = q("{'model':'claude-opus-4-8'," HI "}");
	const char *pre = "{\"input\":{\"invokeModel\":{\"body\":\"";
	size_t pl = strlen(pre);

	buf_init(&out, 1 << 16);
	buf_init(&dec, 1 << 16);
	CHECK(anth_map_count_tokens((const uint8_t *)j, strlen(j), NULL, NULL, &rq, &out, &er) ==
	      0);
	CHECK(out.len > pl + 4 && memcmp(out.p, pre, pl) == 0);
	CHECK(memcmp(out.p + out.len - 4, "\"}}}", 4) == 0);
	CHECK(base64_decode_buf(&dec, (const char *)out.p + pl, out.len - pl - 4, 0) == 0);
	CHECK_STR((const char *)dec.p, q("{" HEAD "'max_tokens':1," HI "}"));
	buf_reset(&out);
	CHECK(anth_count_tokens_answer((const uint8_t *)"{\"inputTokens\":42}", 18, &out, &er) ==
	      0);
	CHECK_STR((const char *)out.p, "{\"input_tokens\":42}");
	CHECK(anth_count_tokens_answer((const uint8_t *)"{\"x\":1}", 7, &out, &er) < 0);
	CHECK(er.cls == ERR_PROTO);
	buf_free(&out);
	buf_free(&dec);
}

static const char *ids[] = {
	"anthropic.claude-sonnet-4-5-20250929-v1:0",
	"us.anthropic.claude-sonnet-4-5-20250929-v1:0",
	"eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
	"global.anthropic.claude-sonnet-4-5-20250929-v1:0",
	"anthropic.claude-opus-4-8-v1",
	"global.anthropic.claude-opus-4-8-v1",
	"anthropic.claude-3-5-sonnet-20240620-v1:0",
	"anthropic.claude-3-5-sonnet-20241022-v2:0",
	"us.anthropic.claude-3-5-sonnet-20241022-v2:0",
	"anthropic.claude-haiku-4-5-20251001-v1:0",
	"amazon.nova-pro-v1:0",
	"us.anthropic.claude-sonnet-4-5-extra-20250929-v1:0",
};

static void resolve(const char *name, const char *geo, const char *want)
{
	char out[ANTH_MODEL_MAX];
	int r = anth_resolve_model(name, ids, sizeof ids / sizeof ids[0], geo, out, &er);

	if (!want) {
		CHECK(r < 0);
		CHECK(er.cls == ERR_USAGE);
		return;
	}
	CHECK(r == 0);
	CHECK_STR(r == 0 ? out : "", want);
}

static void test_resolve(void)
{
	resolve("claude-sonnet-4-5", "us", "us.anthropic.claude-sonnet-4-5-20250929-v1:0");
	resolve("claude-sonnet-4-5-20250929", "eu", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0");
	resolve("claude-sonnet-4-5", "apac", "global.anthropic.claude-sonnet-4-5-20250929-v1:0");
	resolve("claude-sonnet-4-5", NULL, "global.anthropic.claude-sonnet-4-5-20250929-v1:0");
	resolve("claude-opus-4-8", "us", "global.anthropic.claude-opus-4-8-v1");
	resolve("claude-3-5-sonnet", NULL, "anthropic.claude-3-5-sonnet-20241022-v2:0");
	resolve("claude-3-5-sonnet", "us", "us.anthropic.claude-3-5-sonnet-20241022-v2:0");
	resolve("claude-3-5-sonnet-20240620", "us", "anthropic.claude-3-5-sonnet-20240620-v1:0");
	resolve("claude-haiku-4-5", "us", "anthropic.claude-haiku-4-5-20251001-v1:0");
	resolve("amazon.nova-pro-v1:0", "us", "amazon.nova-pro-v1:0");
	resolve("claude-sonnet-4", "us", NULL);  /* a prefix is not a match */
	resolve("claude-sonnet-4-5-2025", "us", NULL);
	resolve("claude-opus-9", "us", NULL);
	resolve("nova-pro", "us", NULL);
	resolve("", "us", NULL);
	CHECK(anth_model_is_claude("us.anthropic.claude-sonnet-4-5-20250929-v1:0"));
	CHECK(anth_model_is_claude("claude-opus-4-8"));
	CHECK(!anth_model_is_claude("amazon.nova-pro-v1:0"));
	CHECK(!anth_model_is_claude("us.meta.llama3"));
}

/* ---- relay ---- */

static struct buf sse;
static int fail_writes;

static int wr(void *u, const uint8_t *p, size_t n, struct err *e)
{
	(void)u;
	if (fail_writes)
		return err_set(e, ERR_NET, "client gone");
	/* one whole event per call */
	CHECK(n > 8 && memcmp(p, "event: ", 7) == 0 && memcmp(p + n - 2, "\n\n", 2) == 0);
	return buf_append(&sse, p, n);
}

static void chunk(struct buf *out, const char *event_json)
{
	struct evs_header h[3] = {evs_hdr_string(":message-type", "event"),
				  evs_hdr_string(":event-type", "chunk"),
				  evs_hdr_string(":content-type", "application/json")};
	struct buf pl;

	buf_init(&pl, 1 << 16);
	buf_append_str(&pl, "{\"bytes\":\"");
	base64_encode_buf(&pl, event_json, strlen(event_json));
	buf_append_str(&pl, "\",\"p\":\"abc\"}");
	CHECK(evs_encode(out, h, 3, pl.p, pl.len) == 0);
	buf_free(&pl);
}

static const char *events[] = {
	"{'type':'message_start','message':{'id':'msg_1','type':'message','role':'assistant',"
	"'model':'claude','content':[],'stop_reason':null,'usage':{'input_tokens':10,"
	"'cache_creation_input_tokens':3,'cache_read_input_tokens':7,'output_tokens':1}}}",
	"{'type':'content_block_start','index':0,'content_block':{'type':'thinking',"
	"'thinking':''}}",
	"{'type':'content_block_delta','index':0,'delta':{'type':'signature_delta',"
	"'signature':'EqQB'}}",
	"{ 'type' : 'content_block_delta', 'index':1,'delta':{'type':'text_delta','text':"
	"'h\\u00e9\\n'}}",
	"{'type':'message_delta','delta':{'stop_reason':'end_turn','stop_sequence':null},"
	"'usage':{'output_tokens':25}}",
	"{'type':'message_stop','amazon-bedrock-invocationMetrics':{'inputTokenCount':10}}",
};

static void test_relay_splits(void)
{
	struct buf up, want;
	size_t ne = sizeof events / sizeof events[0];

	buf_init(&up, 1 << 16);
	buf_init(&want, 1 << 16);
	buf_init(&sse, 1 << 16);
	for (size_t i = 0; i < ne; i++) {
		struct evs_header h[2] = {evs_hdr_string(":message-type", "event"),
					  evs_hdr_string(":event-type", "initial-response")};
		if (i == 1)
			CHECK(evs_encode(&up, h, 2, "{}", 2) == 0); /* ignored */
		chunk(&up, q(events[i]));
	}
	/* the expected SSE: compacted JSON, the type on the event line */
	for (size_t i = 0; i < ne; i++) {
		struct json_doc d;
		struct slice t;
		const char *j = q(events[i]);

		CHECK(json_parse_alloc(&d, j, strlen(j), 1000, &er) == 0);
		CHECK(json_str_view(&d, json_get(&d, 0, "type"), &t) == 0);
		buf_append_str(&want, "event: ");
		buf_append(&want, t.p, t.n);
		buf_append_str(&want, "\ndata: ");
		conv_json_compact(&want, (const uint8_t *)j, strlen(j));
		buf_append_str(&want, "\n\n");
		json_doc_free(&d);
	}
	CHECK(strstr((const char *)want.p, "event: content_block_delta\ndata: {\"type\":"
					   "\"content_block_delta\",\"index\":1,") != NULL);
	for (size_t split = 0; split <= up.len; split++) {
		struct anth_relay r;

		buf_reset(&sse);
		anth_relay_init(&r, wr, NULL);
		CHECK(anth_relay_feed(&r, up.p, split, &er) == 0);
		CHECK(anth_relay_feed(&r, up.p + split, up.len - split, &er) == 0);
		CHECK(anth_relay_finish(&r, &er) == 0);
		CHECK_MEM(sse.p, sse.len, want.p, want.len);
		CHECK(r.usage.input_tokens == 10 && r.usage.output_tokens == 25 &&
		      r.usage.cache_read == 7 && r.usage.cache_write == 3);
		CHECK_STR(r.stop_reason, "end_turn");
		CHECK(r.events == ne);
		anth_relay_free(&r);
	}
	/* byte by byte */
	{
		struct anth_relay r;

		buf_reset(&sse);
		anth_relay_init(&r, wr, NULL);
		for (size_t i = 0; i < up.len; i++)
			CHECK(anth_relay_feed(&r, up.p + i, 1, &er) == 0);
		CHECK(anth_relay_finish(&r, &er) == 0);
		CHECK_MEM(sse.p, sse.len, want.p, want.len);
		anth_relay_free(&r);
	}
	buf_free(&up);
	buf_free(&want);
	buf_free(&sse);
}

static int relay_once(const struct buf *up, struct err *e)
{
	struct anth_relay r;
	int rc;

	buf_reset(&sse);
	anth_relay_init(&r, wr, NULL);
	rc = anth_relay_feed(&r, up->p, up->len, e);
	if (rc == 0)
		rc = anth_relay_finish(&r, e);
	anth_relay_free(&r);
	return rc;
}

static void test_relay_bad(void)
{
	struct buf up;
	struct evs_header h[3] = {evs_hdr_string(":message-type", "exception"),
				  evs_hdr_string(":exception-type", "throttlingException"),
				  evs_hdr_string(":content-type", "application/json")};
	struct evs_header ev[2] = {evs_hdr_string(":message-type", "event"),
				   evs_hdr_string(":event-type", "chunk")};

	buf_init(&up, 1 << 16);
	buf_init(&sse, 1 << 16);
	/* an exception after one event: the event went out, then ERR_SERVICE */
	chunk(&up, q(events[0]));
	evs_encode(&up, h, 3, "{\"message\":\"Too many requests\"}", 31);
	chunk(&up, q(events[5]));
	CHECK(relay_once(&up, &er) < 0);
	CHECK(er.cls == ERR_SERVICE);
	CHECK_STR(er.msg, "throttlingException: Too many requests");
	CHECK(strstr((const char *)sse.p, "message_stop") == NULL);
	{
		struct anth_error ae;

		anth_error_classify(&er, 0, NULL, &ae);
		CHECK(ae.status == 429);
		CHECK_STR(ae.type, "rate_limit_error");
	}
	/* no message_stop: early end */
	buf_reset(&up);
	chunk(&up, q(events[0]));
	CHECK(relay_once(&up, &er) < 0);
	CHECK(er.cls == ERR_NET);
	/* truncated frame */
	buf_reset(&up);
	chunk(&up, q(events[5]));
	up.len--;
	CHECK(relay_once(&up, &er) < 0);
	CHECK(er.cls == ERR_PROTO);
	/* a flipped payload byte: CRC */
	buf_reset(&up);
	chunk(&up, q(events[5]));
	up.p[up.len - 8] ^= 1;
	CHECK(relay_once(&up, &er) < 0);
	CHECK(er.cls == ERR_PROTO);
	/* bad base64, no bytes, bad inner JSON, type missing or odd */
	{
		static const char *payloads[] = {
			"{\"bytes\":\"!!!\"}", "{\"x\":1}", "[]", "{\"bytes\":\"e30=\"}", /* {} */
			"{\"bytes\":\"eyJ0eXBlIjoiYVxuYiJ9\"}",                        /* a\nb */
			"{\"bytes\":\"e1x4fQ==\"}",                                     /* {\x} */
		};
		for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
			buf_reset(&up);
			CHECK(evs_encode(&up, ev, 2, payloads[i], strlen(payloads[i])) == 0);
			CHECK(relay_once(&up, &er) < 0);
			CHECK(er.cls == ERR_PROTO);
		}
	}
	/* "bytes" with escaped slashes decodes the same */
	{
		const char *ev_json = "{\"type\":\"message_stop\",\"x\":\"???\"}";
		char b64[128], pl[300];
		size_t k = 0;

		base64_encode(b64, ev_json, strlen(ev_json));
		CHECK(strchr(b64, '/') != NULL);
		k += (size_t)snprintf(pl, sizeof pl, "{\"bytes\":\"");
		for (const char *c = b64; *c; c++) {
			if (*c == '/')
				pl[k++] = '\\';
			pl[k++] = *c;
		}
		snprintf(pl + k, sizeof pl - k, "\"}");
		buf_reset(&up);
		CHECK(evs_encode(&up, ev, 2, pl, strlen(pl)) == 0);
		CHECK(relay_once(&up, &er) == 0);
		CHECK_STR((const char *)sse.p, "event: message_stop\ndata: {\"type\":\"message_stop\","
					       "\"x\":\"???\"}\n\n");
	}
	/* a failing write stops the relay, and it stays stopped */
	{
		struct anth_relay r;

		buf_reset(&up);
		chunk(&up, q(events[0]));
		chunk(&up, q(events[5]));
		fail_writes = 1;
		anth_relay_init(&r, wr, NULL);
		CHECK(anth_relay_feed(&r, up.p, up.len, &er) < 0);
		CHECK(er.cls == ERR_NET);
		fail_writes = 0;
		CHECK(anth_relay_feed(&r, up.p, up.len, &er) < 0);
		CHECK(anth_relay_finish(&r, &er) < 0);
		anth_relay_free(&r);
	}
	buf_free(&up);
	buf_free(&sse);
}

static void test_errors(void)
{
	struct buf out;
	struct anth_error ae;
	struct err e;

	buf_init(&out, 4096);
	CHECK(anth_error_body(&out, "invalid_request_error", "bad \"x\"\xff") == 0);
	CHECK_STR((const char *)out.p, "{\"type\":\"error\",\"error\":{\"type\":"
				       "\"invalid_request_error\",\"message\":\"bad \\\"x\\\"?\"}}");
	buf_reset(&out);
	CHECK(anth_error_event(&out, "overloaded_error", "busy") == 0);
	CHECK_STR((const char *)out.p, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
				       "\"overloaded_error\",\"message\":\"busy\"}}\n\n");
	CHECK_STR(anth_error_type(400), "invalid_request_error");
	CHECK_STR(anth_error_type(401), "authentication_error");
	CHECK_STR(anth_error_type(403), "permission_error");
	CHECK_STR(anth_error_type(404), "not_found_error");
	CHECK_STR(anth_error_type(413), "request_too_large");
	CHECK_STR(anth_error_type(429), "rate_limit_error");
	CHECK_STR(anth_error_type(529), "overloaded_error");
	CHECK_STR(anth_error_type(503), "overloaded_error");
	CHECK_STR(anth_error_type(500), "api_error");
	CHECK_STR(anth_error_type(502), "api_error");
	CHECK_STR(anth_error_type(405), "invalid_request_error");
	CHECK_STR(anth_error_type(415), "invalid_request_error");
	err_set(&e, ERR_USAGE, "x");
	anth_error_classify(&e, 0, NULL, &ae);
	CHECK(ae.status == 400 && strcmp(ae.type, "invalid_request_error") == 0);
	err_set(&e, ERR_SERVICE, "x");
	anth_error_classify(&e, 404, "ResourceNotFoundException", &ae);
	CHECK(ae.status == 404 && strcmp(ae.type, "not_found_error") == 0);
	anth_error_classify(&e, 503, "ServiceUnavailableException", &ae);
	CHECK(ae.status == 503 && strcmp(ae.type, "overloaded_error") == 0);
	err_set(&e, ERR_NET, "connect failed");
	anth_error_classify(&e, 0, NULL, &ae);
	CHECK(ae.status == 502 && strcmp(ae.type, "api_error") == 0);
	buf_free(&out);
}

static void test_models_usage(void)
{
	struct buf out;
	struct anth_model m[2] = {{"claude-opus-4-8", "Claude Opus 4.8", 1700000000},
				  {"us.amazon.nova-pro-v1:0", NULL, 0}};
	struct anth_usage u;
	const char *msg = "{\"id\":\"m\",\"usage\":{\"input_tokens\":3,\"output_tokens\":4,"
			  "\"cache_read_input_tokens\":5,\"cache_creation_input_tokens\":6}}";

	buf_init(&out, 4096);
	CHECK(anth_models_list(&out, m, 2) == 0);
	CHECK_STR((const char *)out.p,
		  q("{'data':[{'type':'model','id':'claude-opus-4-8','display_name':"
		    "'Claude Opus 4.8','created_at':'2023-11-14T22:13:20Z'},{'type':'model','id':"
		    "'us.amazon.nova-pro-v1:0','display_name':'us.amazon.nova-pro-v1:0',"
		    "'created_at':'1970-01-01T00:00:00Z'}],'has_more':false,'first_id':"
		    "'claude-opus-4-8','last_id':'us.amazon.nova-pro-v1:0'}"));
	buf_reset(&out);
	CHECK(anth_models_list(&out, m, 0) == 0);
	CHECK_STR((const char *)out.p,
		  "{\"data\":[],\"has_more\":false,\"first_id\":null,\"last_id\":null}");
	CHECK(anth_usage_from_message((const uint8_t *)msg, strlen(msg), &u, &er) == 0);
	CHECK(u.input_tokens == 3 && u.output_tokens == 4 && u.cache_read == 5 &&
	      u.cache_write == 6);
	CHECK(anth_usage_from_message((const uint8_t *)"{", 1, &u, &er) < 0);
	buf_free(&out);
}

/* ---- the Converse upstream ---- */

static const char *cmap(const char *in)
{
	static struct buf out;
	const char *j = q(in);

	buf_free(&out);
	buf_init(&out, 1 << 20);
	err_clear(&er);
	if (anth_map_converse((const uint8_t *)j, strlen(j), &rq, &out, &er) < 0) {
		CHECK(out.len == 0);
		return NULL;
	}
	CHECK(json_validate((const char *)out.p, out.len, NULL, NULL, &er) == 0);
	return (const char *)out.p;
}

static void cmapeq(const char *in, const char *want)
{
	const char *got = cmap(in);

	if (!got)
		fprintf(stderr, "  error: %s\n", er.msg);
	CHECK_STR(got, q(want));
}

static void test_converse_map(void)
{
	cmapeq("{'model':'amazon.nova-pro-v1:0','max_tokens':9," HI "}",
	       "{'messages':[{'role':'user','content':[{'text':'Hi'}]}],"
	       "'inferenceConfig':{'maxTokens':9}}");
	cmapeq("{'model':'m','max_tokens':9,'system':[{'type':'text','text':'S','cache_control':"
	       "{'type':'ephemeral'}}],'messages':[{'role':'user','content':[{'type':'text','text':"
	       "'a'},{'type':'image','source':{'type':'base64','media_type':'image/png','data':"
	       "'iVBO'}},{'type':'document','source':{'type':'text','media_type':'text/plain',"
	       "'data':'hi'}}]},{'role':'system','content':'mid'},{'role':'user','content':'b'},"
	       "{'role':'assistant','content':[{'type':'thinking','thinking':'t','signature':'s'},"
	       "{'type':'redacted_thinking','data':'r'},{'type':'text','text':''},{'type':"
	       "'tool_use','id':'t1','name':'f','input':{'x':1}}]},{'role':'user','content':[{"
	       "'type':'tool_result','tool_use_id':'t1','content':'ok','is_error':true,"
	       "'cache_control':{'type':'ephemeral'}}]}],'tools':[{'name':'f','description':'d',"
	       "'input_schema':{'type':'object'}}],'tool_choice':{'type':'tool','name':'f'},"
	       "'temperature':0.2,'top_p':0.9,'top_k':5,'stop_sequences':['Z'],'metadata':"
	       "{'user_id':'u'},'thinking':{'type':'enabled','budget_tokens':1024}}",
	       "{'messages':[{'role':'user','content':[{'text':'a'},{'image':{'format':'png',"
	       "'source':{'bytes':'iVBO'}}},{'document':{'format':'txt','name':'document-1',"
	       "'source':{'bytes':'aGk='}}},{'text':'b'}]},{'role':'assistant','content':[{"
	       "'reasoningContent':{'reasoningText':{'text':'t','signature':'s'}}},{"
	       "'reasoningContent':{'redactedContent':'r'}},{'toolUse':{'toolUseId':'t1','name':"
	       "'f','input':{'x':1}}}]},{'role':'user','content':[{'toolResult':{'toolUseId':'t1',"
	       "'content':[{'text':'ok'}],'status':'error'}},{'cachePoint':{'type':'default'}}]}],"
	       "'system':[{'text':'S'},{'cachePoint':{'type':'default'}},{'text':'mid'}],"
	       "'toolConfig':{'tools':[{'toolSpec':{'name':'f','description':'d','inputSchema':{"
	       "'json':{'type':'object'}}}}],'toolChoice':{'tool':{'name':'f'}}},"
	       "'inferenceConfig':{'maxTokens':9,'temperature':0.2,'topP':0.9,'stopSequences':"
	       "['Z']},'additionalModelRequestFields':{'top_k':5,'thinking':{'type':'enabled',"
	       "'budget_tokens':1024}},'requestMetadata':{'user_id':'u'}}");
	CHECK(cmap("{'model':'m','max_tokens':9,'messages':[{'role':'assistant','content':'x'}]}")
	      == NULL);
	CHECK_STR(rq.param, "messages");
	CHECK(cmap("{'model':'m','max_tokens':9,'messages':[{'role':'user','content':[{'type':"
		   "'audio'}]}]}") == NULL);
	CHECK_STR(rq.param, "messages[0].content[0]");
	CHECK(cmap("{'model':'m','max_tokens':9,'messages':[{'role':'user','content':[{'type':"
		   "'image','source':{'type':'url','url':'http://x'}}]}]}") == NULL);
	CHECK(cmap("{'model':'m','max_tokens':9,'messages':[{'role':'user','content':[{'type':"
		   "'image','source':{'type':'base64','media_type':'image/bmp','data':'x'}}]}]}") ==
	      NULL);
	CHECK(cmap("{'model':'m','max_tokens':9,'messages':[{'role':'user','content':[{'type':"
		   "'tool_use','id':'1','name':'f','input':[]}]}]}") == NULL);
	CHECK(cmap("{'model':'m'," HI "}") == NULL);
	CHECK(er.cls == ERR_USAGE);
}

static void cev(struct buf *b, const char *type, const char *payload)
{
	struct evs_header h[3] = {evs_hdr_string(":message-type", "event"),
				  evs_hdr_string(":event-type", type),
				  evs_hdr_string(":content-type", "application/json")};
	const char *p = q(payload);

	CHECK(evs_encode(b, h, 3, p, strlen(p)) == 0);
}

static const char *want_sse =
	"event: message_start\ndata: {'type':'message_start','message':{'id':'msg_1','type':"
	"'message','role':'assistant','model':'nova','content':[],'stop_reason':null,"
	"'stop_sequence':null,'usage':{'input_tokens':0,'cache_creation_input_tokens':0,"
	"'cache_read_input_tokens':0,'output_tokens':0}}}\n\n"
	"event: content_block_start\ndata: {'type':'content_block_start','index':0,"
	"'content_block':{'type':'thinking','thinking':'','signature':''}}\n\n"
	"event: content_block_delta\ndata: {'type':'content_block_delta','index':0,'delta':"
	"{'type':'thinking_delta','thinking':'hm'}}\n\n"
	"event: content_block_delta\ndata: {'type':'content_block_delta','index':0,'delta':"
	"{'type':'signature_delta','signature':'c2ln'}}\n\n"
	"event: content_block_stop\ndata: {'type':'content_block_stop','index':0}\n\n"
	"event: content_block_start\ndata: {'type':'content_block_start','index':1,"
	"'content_block':{'type':'text','text':''}}\n\n"
	"event: content_block_delta\ndata: {'type':'content_block_delta','index':1,'delta':"
	"{'type':'text_delta','text':'Hi'}}\n\n"
	"event: content_block_stop\ndata: {'type':'content_block_stop','index':1}\n\n"
	"event: content_block_start\ndata: {'type':'content_block_start','index':2,"
	"'content_block':{'type':'tool_use','id':'t1','name':'f','input':{}}}\n\n"
	"event: content_block_delta\ndata: {'type':'content_block_delta','index':2,'delta':"
	"{'type':'input_json_delta','partial_json':'{}'}}\n\n"
	"event: content_block_stop\ndata: {'type':'content_block_stop','index':2}\n\n"
	"event: message_delta\ndata: {'type':'message_delta','delta':{'stop_reason':'tool_use',"
	"'stop_sequence':null},'usage':{'input_tokens':5,'cache_creation_input_tokens':2,"
	"'cache_read_input_tokens':3,'output_tokens':7}}\n\n"
	"event: message_stop\ndata: {'type':'message_stop'}\n\n";

static int wr_any(void *u, const uint8_t *p, size_t n, struct err *e)
{
	(void)u;
	(void)e;
	CHECK(n > 8 && memcmp(p, "event: ", 7) == 0 && memcmp(p + n - 2, "\n\n", 2) == 0);
	return buf_append(&sse, p, n);
}

static void test_converse_stream(void)
{
	struct buf up;

	buf_init(&up, 1 << 16);
	buf_init(&sse, 1 << 16);
	cev(&up, "messageStart", "{'role':'assistant'}");
	cev(&up, "contentBlockDelta",
	    "{'contentBlockIndex':0,'delta':{'reasoningContent':{'text':'hm'}}}");
	cev(&up, "contentBlockDelta",
	    "{'contentBlockIndex':0,'delta':{'reasoningContent':{'signature':'c2ln'}}}");
	cev(&up, "contentBlockStop", "{'contentBlockIndex':0}");
	cev(&up, "contentBlockDelta", "{'contentBlockIndex':1,'delta':{'text':'Hi'}}");
	cev(&up, "contentBlockStop", "{'contentBlockIndex':1}");
	cev(&up, "contentBlockStart",
	    "{'contentBlockIndex':2,'start':{'toolUse':{'toolUseId':'t1','name':'f'}}}");
	cev(&up, "contentBlockDelta", "{'contentBlockIndex':2,'delta':{'toolUse':{'input':'{}'}}}");
	cev(&up, "contentBlockStop", "{'contentBlockIndex':2}");
	cev(&up, "messageStop", "{'stopReason':'tool_use'}");
	cev(&up, "metadata", "{'usage':{'inputTokens':5,'outputTokens':7,'cacheReadInputTokens':3,"
			     "'cacheWriteInputTokens':2},'metrics':{'latencyMs':1}}");
	for (size_t split = 0; split <= up.len; split++) {
		struct anth_conv s;
		struct conv_handler h;
		struct conv_stream cs;

		buf_reset(&sse);
		anth_conv_init(&s, "msg_1", "nova", wr_any, NULL);
		anth_conv_handler(&s, &h);
		conv_stream_init(&cs, &h, 0);
		CHECK(conv_stream_feed(&cs, up.p, split, &er) == 0);
		CHECK(conv_stream_feed(&cs, up.p + split, up.len - split, &er) == 0);
		CHECK(conv_stream_finish(&cs, &er) == 0);
		CHECK(anth_conv_end(&s, &er) == 0);
		CHECK(anth_conv_started(&s));
		CHECK_STR((const char *)sse.p, q(want_sse));
		conv_stream_free(&cs);
		anth_conv_free(&s);
	}
	/* a failure after the start is an error event, once */
	{
		struct anth_conv s;
		struct err f;

		buf_reset(&sse);
		anth_conv_init(&s, "msg_1", "nova", wr_any, NULL);
		CHECK(!anth_conv_started(&s));
		err_set(&f, ERR_SERVICE, "throttlingException: slow");
		CHECK(anth_conv_fail(&s, &f, &er) == 0);
		CHECK(anth_conv_fail(&s, &f, &er) == 0);
		CHECK(anth_conv_end(&s, &er) == 0);
		CHECK_STR((const char *)sse.p,
			  "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
			  "\"rate_limit_error\",\"message\":\"throttlingException: slow\"}}\n\n");
		anth_conv_free(&s);
	}
	CHECK_STR(anth_stop_reason(SLICE_LIT("end_turn")), "end_turn");
	CHECK_STR(anth_stop_reason(SLICE_LIT("max_tokens")), "max_tokens");
	CHECK_STR(anth_stop_reason(SLICE_LIT("stop_sequence")), "stop_sequence");
	CHECK_STR(anth_stop_reason(SLICE_LIT("content_filtered")), "refusal");
	CHECK_STR(anth_stop_reason(SLICE_LIT("guardrail_intervened")), "refusal");
	CHECK_STR(anth_stop_reason(SLICE_LIT("model_context_window_exceeded")),
		  "model_context_window_exceeded");
	CHECK_STR(anth_stop_reason(SLICE_LIT("")), "end_turn");
	buf_free(&up);
	buf_free(&sse);
}

static void test_converse_message(void)
{
	struct buf out;
	const char *ans = q("{'output':{'message':{'role':'assistant','content':[{"
			    "'reasoningContent':{'reasoningText':{'text':'t','signature':'s'}}},"
			    "{'text':'Hi'},{'toolUse':{'toolUseId':'t1','name':'f','input':{'a':1}}},"
			    "{'reasoningContent':{'redactedContent':'cg=='}}]}},'stopReason':"
			    "'tool_use','usage':{'inputTokens':3,'outputTokens':4,"
			    "'cacheReadInputTokens':1}}");

	buf_init(&out, 1 << 16);
	CHECK(anth_conv_message((const uint8_t *)ans, strlen(ans), "msg_2", "nova", &out, &er) ==
	      0);
	CHECK_STR((const char *)out.p,
		  q("{'id':'msg_2','type':'message','role':'assistant','model':'nova','content':["
		    "{'type':'thinking','thinking':'t','signature':'s'},{'type':'text','text':'Hi'},"
		    "{'type':'tool_use','id':'t1','name':'f','input':{'a':1}},{'type':"
		    "'redacted_thinking','data':'cg=='}],'stop_reason':'tool_use','stop_sequence':"
		    "null,'usage':{'input_tokens':3,'cache_creation_input_tokens':0,"
		    "'cache_read_input_tokens':1,'output_tokens':4}}"));
	buf_reset(&out);
	{
		const char *eo = "{\"__type\":\"ValidationException\",\"message\":\"x\"}";

		CHECK(anth_conv_message((const uint8_t *)eo, strlen(eo), "m", "n", &out, &er) < 0);
	}
	CHECK(er.cls == ERR_SERVICE);
	CHECK(anth_conv_message((const uint8_t *)"{}", 2, "m", "n", &out, &er) < 0);
	CHECK(er.cls == ERR_PROTO);
	CHECK(out.len == 0);
	buf_free(&out);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_map_basic);
	T_RUN(test_map_system);
	T_RUN(test_map_betas);
	T_RUN(test_map_bad);
	T_RUN(test_count_tokens);
	T_RUN(test_resolve);
	T_RUN(test_relay_splits);
	T_RUN(test_relay_bad);
	T_RUN(test_errors);
	T_RUN(test_models_usage);
	T_RUN(test_converse_map);
	T_RUN(test_converse_stream);
	T_RUN(test_converse_message);
	return t_done(argv[0]);
}
