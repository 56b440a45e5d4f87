/* fuzz_openai: the OpenAI request mapping (openai_req.c, openai_tools.c) on
 * arbitrary bodies. Input: a POST /v1/chat/completions body.
 * Oracles: no crash or leak; a rejected body is ERR_USAGE (or ERR_OTHER for
 * the output limit) with a message, leaves the output untouched and names a
 * param that is a C string; an accepted body gives one valid JSON object
 * whose messages alternate user/assistant starting with user, every message
 * with a non-empty content array, and a non-empty model id. The same bytes
 * are also tried as a Converse answer (oai_completion: valid JSON when
 * accepted) and as an error message (oai_error_body: always valid JSON). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/json.h"
#include "bedrock/openai.h"

static void check_request(const struct buf *out)
{
	struct json_doc d;
	struct err e;
	int msgs, m, want = 0;

	if (json_parse_alloc(&d, (const char *)out->p, out->len, OAI_MAX_TOKENS * 2, &e) < 0)
		abort();
	msgs = json_get(&d, 0, "messages");
	if (json_type(&d, 0) != JSON_OBJECT || json_type(&d, msgs) != JSON_ARRAY ||
	    json_size(&d, msgs) < 1)
		abort();
	for (m = json_child(&d, msgs); m >= 0; m = json_next(&d, m)) {
		int role = json_get(&d, m, "role"), c = json_get(&d, m, "content");

		if (!json_str_eq(&d, role, want ? "assistant" : "user"))
			abort();
		if (json_type(&d, c) != JSON_ARRAY || json_size(&d, c) < 1)
			abort();
		want = !want;
	}
	json_doc_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oai_req rq;
	struct buf out;
	struct err e;
	struct oai_error oe;
	size_t i;

	buf_init(&out, 4 * size + 4096);
	memset(&e, 0, sizeof e);
	if (oai_map_request(data, size, &rq, &out, &e) == 0) {
		if (!rq.model_id[0] || !rq.model[0] || out.len == 0)
			abort();
		check_request(&out);
	} else {
		if ((e.cls != ERR_USAGE && e.cls != ERR_OTHER) || !e.msg[0] || out.len != 0)
			abort();
		if (memchr(rq.param, '\0', sizeof rq.param) == NULL)
			abort();
		oai_error_classify(&e, 0, NULL, &oe);
		if (oe.status != (e.cls == ERR_USAGE ? 400 : 500))
			abort();
	}
	buf_free(&out);

	buf_init(&out, 4 * size + 4096);
	memset(&e, 0, sizeof e);
	if (oai_completion(data, size, "chatcmpl-f", "m", 1, &out, &e) == 0) {
		if (json_validate((const char *)out.p, out.len, NULL, NULL, &e) < 0)
			abort();
	} else if (!e.cls || out.len != 0) {
		abort();
	}
	buf_free(&out);

	/* an upstream message with any bytes: always a valid error object */
	{
		char msg[600];
		size_t n = size < sizeof msg - 1 ? size : sizeof msg - 1;

		for (i = 0; i < n; i++)
			msg[i] = data[i] ? (char)data[i] : ' ';
		msg[n] = '\0';
		buf_init(&out, 8192);
		if (oai_error_body(&out, msg, "server_error", msg, NULL) < 0 ||
		    json_validate((const char *)out.p, out.len, NULL, NULL, &e) < 0)
			abort();
		buf_free(&out);
	}
	return 0;
}
