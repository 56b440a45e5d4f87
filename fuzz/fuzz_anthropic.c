/* fuzz_anthropic: the Anthropic Messages mapping (anthropic_req.c,
 * anthropic_out.c) on arbitrary bytes, tried as a /v1/messages body (with a
 * beta header), as one Anthropic event JSON, as an upstream event stream for
 * the chunk relay (split in two at a point taken from the input) and as a
 * model name; also as a body for the Converse mapping and as a Converse
 * answer for anth_conv_message (valid JSON when accepted). Oracles: no crash or leak; a rejected body is ERR_USAGE or
 * ERR_OTHER and leaves the output untouched; an accepted body is one JSON
 * object with anthropic_version first, no model/stream, and a non-empty
 * messages array without system roles; every relayed SSE event starts with
 * "event: " and ends with "\n\n"; error bodies are always valid JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/anthropic.h"
#include "wire/json.h"

static void check_body(const struct buf *out)
{
	struct json_doc d;
	struct err e;
	int msgs;

	if (json_parse_alloc(&d, (const char *)out->p, out->len, ANTH_MAX_TOKENS * 2, &e) < 0)
		abort();
	msgs = json_get(&d, 0, "messages");
	if (json_type(&d, 0) != JSON_OBJECT || json_type(&d, msgs) != JSON_ARRAY ||
	    json_size(&d, msgs) < 1 || json_get(&d, 0, "model") >= 0 ||
	    json_get(&d, 0, "stream") >= 0 ||
	    !json_str_eq(&d, json_child(&d, 0) + 1, ANTH_VERSION))
		abort();
	for (int m = json_child(&d, msgs); m >= 0; m = json_next(&d, m))
		if (json_str_eq(&d, json_get(&d, m, "role"), "system"))
			abort();
	json_doc_free(&d);
}

static int wr(void *u, const uint8_t *p, size_t n, struct err *e)
{
	(void)u;
	(void)e;
	if (n < 9 || memcmp(p, "event: ", 7) != 0 || memcmp(p + n - 2, "\n\n", 2) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anth_req rq;
	struct anth_relay r;
	struct buf out;
	struct err e;
	char name[128];
	static const char *const ids[] = {"us.anthropic.claude-sonnet-4-5-20250929-v1:0",
					  "global.anthropic.claude-opus-4-8-v1",
					  "anthropic.claude-3-5-sonnet-20241022-v2:0"};
	char model[ANTH_MODEL_MAX];
	size_t split = size ? data[0] % (size + 1) : 0;

	buf_init(&out, 1 << 22);
	if (anth_map_invoke(data, size, "interleaved-thinking-2025-05-14,x,effort-2025-11-24",
			    NULL, &rq, &out, &e) == 0)
		check_body(&out);
	else if ((e.cls != ERR_USAGE && e.cls != ERR_OTHER) || out.len != 0 || !e.msg[0])
		abort();
	buf_reset(&out);
	(void)anth_map_count_tokens(data, size, NULL, NULL, &rq, &out, &e);
	buf_reset(&out);
	if (anth_map_converse(data, size, &rq, &out, &e) == 0) {
		if (json_validate((const char *)out.p, out.len, NULL, NULL, &e) < 0)
			abort();
	} else if (out.len != 0) {
		abort();
	}
	buf_reset(&out);
	if (anth_conv_message(data, size, "msg", "m", &out, &e) == 0 &&
	    json_validate((const char *)out.p, out.len, NULL, NULL, &e) < 0)
		abort();
	buf_reset(&out);
	if (anth_sse_event(NULL, data, size, &out, &e) == 0 &&
	    (out.len < 9 || memcmp(out.p + out.len - 2, "\n\n", 2) != 0))
		abort();
	buf_free(&out);

	anth_relay_init(&r, wr, NULL);
	if (anth_relay_feed(&r, data, split, &e) == 0 &&
	    anth_relay_feed(&r, data + split, size - split, &e) == 0)
		(void)anth_relay_finish(&r, &e);
	anth_relay_free(&r);

	memset(name, 0, sizeof name);
	memcpy(name, data, size < sizeof name - 1 ? size : sizeof name - 1);
	if (anth_resolve_model(name, ids, 3, "us", model, &e) == 0 && !model[0])
		abort();

	buf_init(&out, 1 << 16);
	if (anth_error_body(&out, "api_error", name) < 0 ||
	    json_validate((const char *)out.p, out.len, NULL, NULL, &e) < 0)
		abort();
	buf_free(&out);
	return 0;
}
