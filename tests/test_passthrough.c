/* test_passthrough: /model/{id}/{action} paths (good and bad), the upstream
 * path, forwarded headers, and the verified frame relay fed at every split
 * point, with a bad frame in the middle. */
#include "t.h"

#include "bedrock/passthrough.h"
#include "wire/evstream.h"

static struct err er;

static void path_ok(const char *target, const char *id, int op, int stream, const char *up)
{
	struct pt_route r;
	struct buf b;

	buf_init(&b, 4096);
	CHECK(pt_parse_path(target, strlen(target), &r, &er) == 0);
	CHECK_STR(r.model_id, id);
	CHECK(r.op == op);
	CHECK(r.stream == stream);
	CHECK_STR(r.response_type,
		  stream ? "application/vnd.amazon.eventstream" : "application/json");
	CHECK(pt_upstream_path(&r, &b) == 0);
	CHECK_STR((const char *)b.p, up);
	buf_free(&b);
}

static void path_bad(const char *target)
{
	struct pt_route r;

	err_clear(&er);
	CHECK(pt_parse_path(target, strlen(target), &r, &er) < 0);
	CHECK(er.cls == ERR_USAGE);
}

static void test_paths(void)
{
	path_ok("/model/amazon.nova-pro-v1%3A0/converse", "amazon.nova-pro-v1:0", PT_CONVERSE, 0,
		"/model/amazon.nova-pro-v1%3A0/converse");
	path_ok("/model/amazon.nova-pro-v1:0/converse-stream", "amazon.nova-pro-v1:0",
		PT_CONVERSE_STREAM, 1, "/model/amazon.nova-pro-v1%3A0/converse-stream");
	path_ok("/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke?x=1",
		"us.anthropic.claude-sonnet-4-5-20250929-v1:0", PT_INVOKE, 0,
		"/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke");
	path_ok("/model/m/invoke-with-response-stream", "m", PT_INVOKE_STREAM, 1,
		"/model/m/invoke-with-response-stream");
	path_ok("/model/m/count-tokens", "m", PT_COUNT_TOKENS, 0, "/model/m/count-tokens");
	path_ok("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse",
		"arn:aws:bedrock:us-east-1:1:inference-profile/us.x", PT_CONVERSE, 0,
		"/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse");
	path_bad("/model/m/chat");
	path_bad("/model/m/converse/");
	path_bad("/model/m/converse/x");
	path_bad("/model/m/Converse");
	path_bad("/model//converse");
	path_bad("/model/m");
	path_bad("/model/");
	path_bad("/models/m/converse");
	path_bad("/v1/messages");
	path_bad("");
	path_bad("/model/a%2/converse");
	path_bad("/model/a%zz/converse");
	path_bad("/model/a%20b/converse");
	path_bad("/model/a%00b/converse");
	path_bad("/model/a%0Ab/converse");
	path_bad("/model/a%FFb/converse");
	{
		/* the length limit */
		static char big[PT_MODEL_MAX + 64];
		struct pt_route r;

		memcpy(big, "/model/", 7);
		memset(big + 7, 'a', PT_MODEL_MAX);
		memcpy(big + 7 + PT_MODEL_MAX, "/invoke", 8);
		CHECK(pt_parse_path(big, strlen(big), &r, &er) < 0);
		memcpy(big + 7 + PT_MODEL_MAX - 1, "/invoke", 8);
		CHECK(pt_parse_path(big, strlen(big), &r, &er) == 0);
		CHECK(strlen(r.model_id) == PT_MODEL_MAX - 1);
	}
}

static void test_headers(void)
{
	CHECK(pt_forward_header(SLICE_LIT("Content-Type")));
	CHECK(pt_forward_header(SLICE_LIT("accept")));
	CHECK(pt_forward_header(SLICE_LIT("X-Amzn-Bedrock-GuardrailIdentifier")));
	CHECK(pt_forward_header(SLICE_LIT("x-amzn-bedrock-trace")));
	CHECK(!pt_forward_header(SLICE_LIT("x-amzn-bedrock-")));
	CHECK(!pt_forward_header(SLICE_LIT("Authorization")));
	CHECK(!pt_forward_header(SLICE_LIT("X-Amz-Date")));
	CHECK(!pt_forward_header(SLICE_LIT("X-Amz-Security-Token")));
	CHECK(!pt_forward_header(SLICE_LIT("x-amz-content-sha256")));
	CHECK(!pt_forward_header(SLICE_LIT("x-api-key")));
	CHECK(!pt_forward_header(SLICE_LIT("Host")));
	CHECK(!pt_forward_header(SLICE_LIT("Connection")));
	CHECK(!pt_forward_header(SLICE_LIT("Transfer-Encoding")));
}

static void frame(struct buf *out, const char *type, const char *payload)
{
	struct evs_header h[2] = {evs_hdr_string(":message-type", type),
				  evs_hdr_string(":event-type", "contentBlockDelta")};

	CHECK(evs_encode(out, h, 2, payload, strlen(payload)) == 0);
}

static void test_relay(void)
{
	struct buf up, out;
	size_t f1, f2;

	buf_init(&up, 1 << 16);
	buf_init(&out, 1 << 16);
	frame(&up, "event", "{\"delta\":{\"text\":\"a\"}}");
	f1 = up.len;
	frame(&up, "event", "{\"delta\":{\"text\":\"bc\"}}");
	f2 = up.len;
	frame(&up, "exception", "{\"message\":\"x\"}");
	for (size_t s = 0; s <= up.len; s++) {
		struct pt_relay r;

		buf_reset(&out);
		pt_relay_init(&r);
		CHECK(pt_relay_feed(&r, up.p, s, &out, &er) == 0);
		/* only whole frames come out */
		CHECK(out.len == (s < f1 ? 0 : s < f2 ? f1 : s < up.len ? f2 : up.len));
		CHECK(pt_relay_feed(&r, up.p + s, up.len - s, &out, &er) == 0);
		CHECK_MEM(out.p, out.len, up.p, up.len);
		CHECK(pt_relay_finish(&r, &er) == 0);
		CHECK(r.frames == 3 && r.exception == 1);
		pt_relay_free(&r);
	}
	/* a bad CRC in the second frame: the first goes out, nothing after */
	for (size_t bad = f1; bad < f2; bad++) {
		struct pt_relay r;

		up.p[bad] ^= 0x40;
		buf_reset(&out);
		pt_relay_init(&r);
		CHECK(pt_relay_feed(&r, up.p, up.len, &out, &er) < 0);
		CHECK(er.cls == ERR_PROTO);
		CHECK(out.len == f1);
		CHECK(pt_relay_feed(&r, up.p + f2, up.len - f2, &out, &er) < 0);
		CHECK(out.len == f1);
		CHECK(pt_relay_finish(&r, &er) < 0);
		pt_relay_free(&r);
		up.p[bad] ^= 0x40;
	}
	/* truncated */
	{
		struct pt_relay r;

		buf_reset(&out);
		pt_relay_init(&r);
		CHECK(pt_relay_feed(&r, up.p, up.len - 1, &out, &er) == 0);
		CHECK(pt_relay_finish(&r, &er) < 0);
		CHECK(er.cls == ERR_PROTO);
		CHECK(r.exception == 0);
		pt_relay_free(&r);
	}
	/* output limit */
	{
		struct pt_relay r;
		struct buf small;

		buf_init(&small, 8);
		pt_relay_init(&r);
		CHECK(pt_relay_feed(&r, up.p, up.len, &small, &er) < 0);
		CHECK(er.cls == ERR_OTHER);
		pt_relay_free(&r);
		buf_free(&small);
	}
	buf_free(&up);
	buf_free(&out);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_paths);
	T_RUN(test_headers);
	T_RUN(test_relay);
	return t_done(argv[0]);
}
