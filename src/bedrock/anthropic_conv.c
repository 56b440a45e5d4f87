/* anthropic_conv: the Anthropic Messages API over Converse, for models that
 * are not Claude (see anthropic.h): request -> Converse body, Converse
 * stream callbacks -> Anthropic SSE events, Converse answer -> message
 * object. */
#include "bedrock/anthropic.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base64.h"
#include "wire/json.h"

struct anth_cmap {
	const struct json_doc *d;
	struct anth_req *rq;
	struct jw w;
	int role; /* 0 none, 1 user, 2 assistant: the open Converse message */
	int ndocs;
	struct err *e;
};

static int anth_cfail(struct anth_cmap *m, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int anth_cfail(struct anth_cmap *m, const char *param, const char *fmt, ...)
{
	char text[300];
	va_list ap;

	snprintf(m->rq->param, sizeof m->rq->param, "%s", param);
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return err_set(m->e, ERR_USAGE, "%s: %s", param, text);
}

static int anth_cget(const struct json_doc *d, int obj, const char *key)
{
	int v = json_get(d, obj, key);

	return json_type(d, v) == JSON_NULL ? -1 : v;
}

static void anth_cache_point(struct anth_cmap *m, int block)
{
	if (anth_cget(m->d, block, "cache_control") < 0)
		return;
	jw_obj_begin(&m->w);
	jw_key(&m->w, "cachePoint");
	jw_obj_begin(&m->w);
	jw_kstr(&m->w, "type", "default");
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
}

static void anth_open(struct anth_cmap *m, int role)
{
	if (m->role == role)
		return;
	if (m->role) {
		jw_arr_end(&m->w);
		jw_obj_end(&m->w);
	}
	jw_obj_begin(&m->w);
	jw_kstr(&m->w, "role", role == 1 ? "user" : "assistant");
	jw_key(&m->w, "content");
	jw_arr_begin(&m->w);
	m->role = role;
}

/* A string member as a JSON string value (copied), or fail. */
static int anth_kcopy(struct anth_cmap *m, int obj, const char *key, const char *out_key,
		      int type, const char *param)
{
	int v = anth_cget(m->d, obj, key);

	if (json_type(m->d, v) != type)
		return anth_cfail(m, param, "'%s' missing or of the wrong type", key);
	jw_key(&m->w, out_key);
	jw_tok(&m->w, m->d, v);
	return 0;
}

/* image / document with a base64 (or text) source. */
static int anth_media(struct anth_cmap *m, int b, int doc, const char *param)
{
	static const char *const img[][2] = {{"image/png", "png"}, {"image/jpeg", "jpeg"},
					     {"image/gif", "gif"}, {"image/webp", "webp"}};
	int src = anth_cget(m->d, b, "source"), mt = json_get(m->d, src, "media_type");
	int text_src = json_str_eq(m->d, json_get(m->d, src, "type"), "text");
	const char *format = NULL;

	if (!text_src && !json_str_eq(m->d, json_get(m->d, src, "type"), "base64"))
		return anth_cfail(m, param, "only base64%s sources are supported",
				  doc ? " and text" : "");
	if (doc)
		format = text_src ? "txt" : json_str_eq(m->d, mt, "application/pdf") ? "pdf"
					    : json_str_eq(m->d, mt, "text/plain")      ? "txt"
										     : NULL;
	for (size_t i = 0; !doc && i < sizeof img / sizeof img[0]; i++)
		if (json_str_eq(m->d, mt, img[i][0]))
			format = img[i][1];
	if (!format)
		return anth_cfail(m, param, "unsupported media_type");
	jw_obj_begin(&m->w);
	jw_key(&m->w, doc ? "document" : "image");
	jw_obj_begin(&m->w);
	jw_kstr(&m->w, "format", format);
	if (doc) {
		char name[32];

		snprintf(name, sizeof name, "document-%d", ++m->ndocs);
		jw_kstr(&m->w, "name", name);
	}
	jw_key(&m->w, "source");
	jw_obj_begin(&m->w);
	if (text_src) {
		struct buf tmp;
		struct slice s;
		int t = json_get(m->d, src, "data");

		buf_init(&tmp, 1u << 26);
		if (json_type(m->d, t) != JSON_STRING || json_str(m->d, t, &tmp, &s, NULL) < 0) {
			buf_free(&tmp);
			return anth_cfail(m, param, "text source without data");
		}
		jw_key(&m->w, "bytes");
		jw_str_begin(&m->w);
		{
			struct buf enc;

			buf_init(&enc, 1u << 27);
			if (base64_encode_buf(&enc, s.p, s.n) == 0)
				jw_str_piece(&m->w, enc.p, enc.len);
			buf_free(&enc);
		}
		jw_str_end(&m->w);
		buf_free(&tmp);
	} else if (anth_kcopy(m, src, "data", "bytes", JSON_STRING, param) < 0) {
		return -1;
	}
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
	return 0;
}

static int anth_tool_result(struct anth_cmap *m, int b, const char *param)
{
	int c = anth_cget(m->d, b, "content");

	jw_obj_begin(&m->w);
	jw_key(&m->w, "toolResult");
	jw_obj_begin(&m->w);
	if (anth_kcopy(m, b, "tool_use_id", "toolUseId", JSON_STRING, param) < 0)
		return -1;
	jw_key(&m->w, "content");
	jw_arr_begin(&m->w);
	if (json_type(m->d, c) == JSON_STRING) {
		jw_obj_begin(&m->w);
		jw_key(&m->w, "text");
		jw_tok(&m->w, m->d, c);
		jw_obj_end(&m->w);
	}
	for (int k = json_child(m->d, c); json_type(m->d, c) == JSON_ARRAY && k >= 0;
	     k = json_next(m->d, k)) {
		int ty = json_get(m->d, k, "type");

		if (json_str_eq(m->d, ty, "text")) {
			jw_obj_begin(&m->w);
			if (anth_kcopy(m, k, "text", "text", JSON_STRING, param) < 0)
				return -1;
			jw_obj_end(&m->w);
		} else if (json_str_eq(m->d, ty, "image") || json_str_eq(m->d, ty, "document")) {
			if (anth_media(m, k, json_str_eq(m->d, ty, "document"), param) < 0)
				return -1;
		} else {
			return anth_cfail(m, param, "tool_result content must be text or image");
		}
	}
	jw_arr_end(&m->w);
	if (json_type(m->d, json_get(m->d, b, "is_error")) == JSON_BOOL &&
	    json_raw(m->d, json_get(m->d, b, "is_error")).p[0] == 't')
		jw_kstr(&m->w, "status", "error");
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
	return 0;
}

static int anth_thinking(struct anth_cmap *m, int b, int redacted, const char *param)
{
	jw_obj_begin(&m->w);
	jw_key(&m->w, "reasoningContent");
	jw_obj_begin(&m->w);
	if (redacted) {
		if (anth_kcopy(m, b, "data", "redactedContent", JSON_STRING, param) < 0)
			return -1;
	} else {
		jw_key(&m->w, "reasoningText");
		jw_obj_begin(&m->w);
		if (anth_kcopy(m, b, "thinking", "text", JSON_STRING, param) < 0)
			return -1;
		if (anth_cget(m->d, b, "signature") >= 0 &&
		    anth_kcopy(m, b, "signature", "signature", JSON_STRING, param) < 0)
			return -1;
		jw_obj_end(&m->w);
	}
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
	return 0;
}

static int anth_block(struct anth_cmap *m, int b, const char *param)
{
	int ty = json_get(m->d, b, "type");
	int r = 0;

	if (json_str_eq(m->d, ty, "text")) {
		if (json_raw(m->d, json_get(m->d, b, "text")).n == 0)
			return 0; /* Converse rejects blank text */
		jw_obj_begin(&m->w);
		r = anth_kcopy(m, b, "text", "text", JSON_STRING, param);
		jw_obj_end(&m->w);
	} else if (json_str_eq(m->d, ty, "image") || json_str_eq(m->d, ty, "document")) {
		r = anth_media(m, b, json_str_eq(m->d, ty, "document"), param);
	} else if (json_str_eq(m->d, ty, "tool_use")) {
		jw_obj_begin(&m->w);
		jw_key(&m->w, "toolUse");
		jw_obj_begin(&m->w);
		if (anth_kcopy(m, b, "id", "toolUseId", JSON_STRING, param) < 0 ||
		    anth_kcopy(m, b, "name", "name", JSON_STRING, param) < 0 ||
		    anth_kcopy(m, b, "input", "input", JSON_OBJECT, param) < 0)
			return -1;
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
	} else if (json_str_eq(m->d, ty, "tool_result")) {
		r = anth_tool_result(m, b, param);
	} else if (json_str_eq(m->d, ty, "thinking") || json_str_eq(m->d, ty, "redacted_thinking")) {
		r = anth_thinking(m, b, json_str_eq(m->d, ty, "redacted_thinking"), param);
	} else {
		return anth_cfail(m, param, "unsupported content block type");
	}
	if (r == 0)
		anth_cache_point(m, b);
	return r;
}

static int anth_cmessages(struct anth_cmap *m, int msgs)
{
	char param[64];
	size_t i = 0;

	jw_key(&m->w, "messages");
	jw_arr_begin(&m->w);
	for (int k = json_child(m->d, msgs); k >= 0; k = json_next(m->d, k), i++) {
		int role = json_get(m->d, k, "role"), c = json_get(m->d, k, "content");
		int r = json_str_eq(m->d, role, "user") ? 1 : 2;
		size_t j = 0;

		if (json_str_eq(m->d, role, "system"))
			continue;
		if (m->role == 0 && r != 1)
			return anth_cfail(m, "messages", "the first message must be a user message");
		anth_open(m, r);
		if (json_type(m->d, c) == JSON_STRING) {
			if (json_raw(m->d, c).n == 0)
				continue;
			jw_obj_begin(&m->w);
			jw_key(&m->w, "text");
			jw_tok(&m->w, m->d, c);
			jw_obj_end(&m->w);
			continue;
		}
		for (int b = json_child(m->d, c); b >= 0; b = json_next(m->d, b), j++) {
			snprintf(param, sizeof param, "messages[%zu].content[%zu]", i, j);
			if (json_type(m->d, b) != JSON_OBJECT)
				return anth_cfail(m, param, "expected a content block");
			if (anth_block(m, b, param) < 0)
				return -1;
		}
	}
	if (m->role) {
		jw_arr_end(&m->w);
		jw_obj_end(&m->w);
	}
	jw_arr_end(&m->w);
	return 0;
}

/* One system source (string or text blocks with cache_control). */
static int anth_csys_part(struct anth_cmap *m, int c, int *any)
{
	if (c < 0)
		return 0;
	if (!(*any)++) {
		jw_key(&m->w, "system");
		jw_arr_begin(&m->w);
	}
	if (json_type(m->d, c) == JSON_STRING) {
		jw_obj_begin(&m->w);
		jw_key(&m->w, "text");
		jw_tok(&m->w, m->d, c);
		jw_obj_end(&m->w);
		return 0;
	}
	for (int b = json_child(m->d, c); b >= 0; b = json_next(m->d, b)) {
		jw_obj_begin(&m->w);
		if (anth_kcopy(m, b, "text", "text", JSON_STRING, "system") < 0)
			return -1;
		jw_obj_end(&m->w);
		anth_cache_point(m, b);
	}
	return 0;
}

/* system, then the messages of role system, in order. */
static int anth_csystem(struct anth_cmap *m, int msgs)
{
	int any = 0;

	if (anth_csys_part(m, anth_cget(m->d, 0, "system"), &any) < 0)
		return -1;
	for (int k = json_child(m->d, msgs); k >= 0; k = json_next(m->d, k))
		if (json_str_eq(m->d, json_get(m->d, k, "role"), "system") &&
		    anth_csys_part(m, json_get(m->d, k, "content"), &any) < 0)
			return -1;
	if (any)
		jw_arr_end(&m->w);
	return 0;
}

static int anth_ctools(struct anth_cmap *m)
{
	int tools = anth_cget(m->d, 0, "tools"), tc = anth_cget(m->d, 0, "tool_choice");
	int ty = json_get(m->d, tc, "type");

	if (json_type(m->d, tools) != JSON_ARRAY || json_size(m->d, tools) == 0 ||
	    json_str_eq(m->d, ty, "none"))
		return 0;
	jw_key(&m->w, "toolConfig");
	jw_obj_begin(&m->w);
	jw_key(&m->w, "tools");
	jw_arr_begin(&m->w);
	for (int t = json_child(m->d, tools); t >= 0; t = json_next(m->d, t)) {
		jw_obj_begin(&m->w);
		jw_key(&m->w, "toolSpec");
		jw_obj_begin(&m->w);
		if (anth_kcopy(m, t, "name", "name", JSON_STRING, "tools") < 0)
			return -1;
		if (anth_cget(m->d, t, "description") >= 0 &&
		    anth_kcopy(m, t, "description", "description", JSON_STRING, "tools") < 0)
			return -1;
		jw_key(&m->w, "inputSchema");
		jw_obj_begin(&m->w);
		if (anth_kcopy(m, t, "input_schema", "json", JSON_OBJECT, "tools") < 0)
			return -1;
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
		anth_cache_point(m, t);
	}
	jw_arr_end(&m->w);
	if (json_str_eq(m->d, ty, "any") || json_str_eq(m->d, ty, "auto")) {
		jw_key(&m->w, "toolChoice");
		jw_obj_begin(&m->w);
		jw_key(&m->w, json_str_eq(m->d, ty, "any") ? "any" : "auto");
		jw_obj_begin(&m->w);
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
	} else if (json_str_eq(m->d, ty, "tool")) {
		jw_key(&m->w, "toolChoice");
		jw_obj_begin(&m->w);
		jw_key(&m->w, "tool");
		jw_obj_begin(&m->w);
		if (anth_kcopy(m, tc, "name", "name", JSON_STRING, "tool_choice") < 0)
			return -1;
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
	}
	jw_obj_end(&m->w);
	return 0;
}

static void anth_cinference(struct anth_cmap *m)
{
	static const char *const map[][2] = {
		{"temperature", "temperature"}, {"top_p", "topP"}, {"stop_sequences", "stopSequences"}};
	int extra = 0;

	jw_key(&m->w, "inferenceConfig");
	jw_obj_begin(&m->w);
	jw_kint(&m->w, "maxTokens", m->rq->max_tokens);
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
		int v = anth_cget(m->d, 0, map[i][0]);

		if (v >= 0) {
			jw_key(&m->w, map[i][1]);
			jw_tok(&m->w, m->d, v);
		}
	}
	jw_obj_end(&m->w);
	for (int k = json_child(m->d, 0); k >= 0; k = json_next(m->d, k)) {
		if (!json_str_eq(m->d, k, "top_k") && !json_str_eq(m->d, k, "thinking"))
			continue;
		if (json_type(m->d, k + 1) == JSON_NULL)
			continue;
		if (!extra++) {
			jw_key(&m->w, "additionalModelRequestFields");
			jw_obj_begin(&m->w);
		}
		jw_keyn(&m->w, (const char *)json_raw(m->d, k).p, json_raw(m->d, k).n);
		jw_tok(&m->w, m->d, k + 1);
	}
	if (extra)
		jw_obj_end(&m->w);
	if (m->rq->user_id[0]) {
		jw_key(&m->w, "requestMetadata");
		jw_obj_begin(&m->w);
		jw_kstr(&m->w, "user_id", m->rq->user_id);
		jw_obj_end(&m->w);
	}
}

int anth_map_converse(const uint8_t *body, size_t n, struct anth_req *rq, struct buf *out,
		      struct err *e)
{
	struct buf inv;
	struct json_doc d;
	struct anth_cmap m;
	size_t len0 = out->len;
	int r, msgs;

	/* the shared checks (and rq) come from the invoke mapping */
	buf_init(&inv, out->max ? out->max : 1);
	r = anth_map_invoke(body, n, NULL, NULL, rq, &inv, e);
	buf_free(&inv);
	if (r < 0)
		return -1;
	if (json_parse_alloc(&d, (const char *)body, n, ANTH_MAX_TOKENS, e) < 0)
		return -1;
	memset(&m, 0, sizeof m);
	m.d = &d;
	m.rq = rq;
	m.e = e;
	msgs = json_get(&d, 0, "messages");
	jw_init(&m.w, out);
	jw_obj_begin(&m.w);
	r = anth_cmessages(&m, msgs);
	if (r == 0)
		r = anth_csystem(&m, msgs);
	if (r == 0)
		r = anth_ctools(&m);
	if (r == 0) {
		anth_cinference(&m);
		jw_obj_end(&m.w);
		r = jw_finish(&m.w, e);
	}
	json_doc_free(&d);
	if (r < 0)
		out->len = len0;
	return r;
}
