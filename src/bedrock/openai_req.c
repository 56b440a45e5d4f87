/* openai_req: an OpenAI chat-completions request -> a Converse request body
 * (see openai.h): the request as a whole, messages, text and image content,
 * system blocks, inference settings, reasoning effort. Tools, tool_choice,
 * tool calls and tool results are in openai_tools.c. */
#include "bedrock/openai_map.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "bedrock/catalog.h"
#include "bedrock/known.h"

/* The helpers openai_map.h declares. */

void oai_pathf(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}

int oai_fail(struct oai_map *m, const char *param, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	snprintf(m->rq->param, sizeof m->rq->param, "%s", param ? param : "");
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (m->rq->param[0])
		return err_set(m->e, ERR_USAGE, "%s: %s", m->rq->param, text);
	return err_set(m->e, ERR_USAGE, "%s", text);
}

/* The string t (decoded into sc when it has escapes). */
int oai_str(struct oai_map *m, int t, struct buf *sc, struct slice *out, const char *param)
{
	struct err tmp;

	if (json_type(m->d, t) != JSON_STRING)
		return oai_fail(m, param, "expected a string");
	if (json_str(m->d, t, sc, out, &tmp) < 0)
		return oai_fail(m, param, "string is not valid Unicode (lone surrogate)");
	return 0;
}

/* Member of an object, with JSON null read as absent (clients send
 * "temperature": null for "not given"). */
int oai_member(const struct json_doc *d, int obj, const char *key)
{
	int v = json_get(d, obj, key);

	return json_type(d, v) == JSON_NULL ? -1 : v;
}

int oai_blank(struct slice s)
{
	return slice_trim(s).n == 0;
}

/* Opens (or continues, when it is the same role) a Converse message. */
int oai_open(struct oai_map *m, int role, const char *param)
{
	if (m->role == role)
		return 0;
	if (m->role == ROLE_NONE && role != ROLE_USER)
		return oai_fail(m, param,
				"the conversation must start with a user message "
				"(after system/developer messages)");
	if (m->role != ROLE_NONE) {
		jw_arr_end(&m->w);
		jw_obj_end(&m->w);
	}
	jw_obj_begin(&m->w);
	jw_kstr(&m->w, "role", role == ROLE_USER ? "user" : "assistant");
	jw_key(&m->w, "content");
	jw_arr_begin(&m->w);
	m->role = role;
	return 0;
}

static int oai_text_block(struct oai_map *m, int role, struct slice s, const char *param)
{
	if (oai_blank(s))
		return 0;
	if (oai_open(m, role, param) < 0)
		return -1;
	jw_obj_begin(&m->w);
	jw_kstrn(&m->w, "text", s.p, s.n);
	jw_obj_end(&m->w);
	return 0;
}

/* data:image/png;base64,... -> format and the base64 text. */
static int oai_data_url(struct oai_map *m, struct slice url, const char **format,
			struct slice *b64, const char *param)
{
	static const struct {
		const char *type, *format;
	} types[] = {{"image/png", "png"},   {"image/jpeg", "jpeg"}, {"image/jpg", "jpeg"},
		     {"image/gif", "gif"},   {"image/webp", "webp"}};
	const uint8_t *comma, *semi;
	struct slice mt, params;
	size_t i;

	if ((url.n >= 7 && slice_eq_nocase((struct slice){url.p, 7}, "http://")) ||
	    (url.n >= 8 && slice_eq_nocase((struct slice){url.p, 8}, "https://")))
		return oai_fail(m, param,
				"http(s) image URLs are not supported (the gateway does not fetch "
				"them); send the image as a data: URL");
	if (url.n < 5 || !slice_eq_nocase((struct slice){url.p, 5}, "data:"))
		return oai_fail(m, param, "expected a data: URL (data:image/png;base64,...)");
	comma = memchr(url.p, ',', url.n);
	if (!comma)
		return oai_fail(m, param, "data URL without ','");
	mt = (struct slice){url.p + 5, (size_t)(comma - url.p) - 5};
	semi = mt.n ? memchr(mt.p, ';', mt.n) : NULL;
	params = (struct slice){NULL, 0};
	if (semi) {
		params = (struct slice){semi, (size_t)(mt.p + mt.n - semi)};
		mt.n = (size_t)(semi - mt.p);
	}
	/* the media type parameters must end with ;base64 */
	if (params.n < 7 || !slice_eq_nocase((struct slice){params.p + params.n - 7, 7}, ";base64"))
		return oai_fail(m, param, "data URL is not base64 (expected ';base64,')");
	*format = NULL;
	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (slice_eq_nocase(mt, types[i].type))
			*format = types[i].format;
	if (!*format)
		return oai_fail(m, param,
				"image media type '%.*s' is not supported (png, jpeg, gif, webp)",
				(int)(mt.n > 64 ? 64 : mt.n), (const char *)mt.p);
	*b64 = (struct slice){comma + 1, (size_t)(url.p + url.n - comma - 1)};
	return 0;
}

/* Writes base64 of p[0..n) as one JSON string, in pieces. */
static void oai_put_base64(struct jw *w, const uint8_t *p, size_t n)
{
	char tmp[4 * 1024 + 4];
	size_t i;

	jw_str_begin(w);
	for (i = 0; i < n; i += 3 * 1024) {
		size_t k = n - i < 3 * 1024 ? n - i : 3 * 1024;

		jw_str_piece(w, tmp, base64_encode(tmp, p + i, k));
	}
	jw_str_end(w);
}

static int oai_image_block(struct oai_map *m, int part, const char *param)
{
	int u = oai_member(m->d, part, "image_url");
	const char *format, *magic;
	struct slice url = {NULL, 0}, b64 = {NULL, 0};
	int canonical = 1;
	char p2[96];

	if (json_type(m->d, u) == JSON_OBJECT)
		u = oai_member(m->d, u, "url");
	oai_pathf(p2, sizeof p2, "%s.image_url.url", param);
	if (u < 0)
		return oai_fail(m, p2, "missing");
	if (oai_str(m, u, &m->s1, &url, p2) < 0 || oai_data_url(m, url, &format, &b64, p2) < 0)
		return -1;
	buf_reset(&m->s2);
	if (base64_decode_buf(&m->s2, (const char *)b64.p, b64.n, 0) < 0) {
		canonical = 0;
		if (base64_decode_buf(&m->s2, (const char *)b64.p, b64.n,
				      BASE64_WS | BASE64_NOPAD) < 0)
			return oai_fail(m, p2, "image data is not valid base64");
	}
	magic = conv_image_format(m->s2.p, m->s2.len);
	if (!magic)
		return oai_fail(m, p2, "image data is not a png, jpeg, gif or webp image");
	if (strcmp(magic, format) != 0)
		return oai_fail(m, p2, "data URL says %s but the image data is %s", format, magic);
	if (oai_open(m, ROLE_USER, param) < 0)
		return -1;
	jw_obj_begin(&m->w);
	jw_key(&m->w, "image");
	jw_obj_begin(&m->w);
	jw_kstr(&m->w, "format", magic);
	jw_key(&m->w, "source");
	jw_obj_begin(&m->w);
	jw_key(&m->w, "bytes");
	/* the client's text when it is already canonical base64, else re-encoded */
	if (canonical)
		jw_strn(&m->w, b64.p, b64.n);
	else
		oai_put_base64(&m->w, m->s2.p, m->s2.len);
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
	return 0;
}

void oai_cache_after(struct oai_map *m, int part)
{
	for (size_t i = 0; i < m->ncache; i++) {
		if (m->cache[i].tok != part || !m->cache[i].emit)
			continue;
		jw_obj_begin(&m->w);
		jw_key(&m->w, "cachePoint");
		jw_obj_begin(&m->w);
		jw_kstr(&m->w, "type", "default");
		if (m->cache[i].ttl_1h)
			jw_kstr(&m->w, "ttl", "1h");
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
		m->rq->cache_points++;
	}
}

/* One part's cache_control, recorded in order. */
static int oai_cache_mark(struct oai_map *m, int part, const char *param)
{
	int cc = oai_member(m->d, part, "cache_control"), ttl;

	if (cc < 0)
		return 0;
	if (json_type(m->d, cc) != JSON_OBJECT ||
	    !json_str_eq(m->d, json_get(m->d, cc, "type"), "ephemeral"))
		return oai_fail(m, param, "cache_control: expected {\"type\":\"ephemeral\"}");
	ttl = oai_member(m->d, cc, "ttl");
	if (ttl >= 0 && !json_str_eq(m->d, ttl, "5m") && !json_str_eq(m->d, ttl, "1h"))
		return oai_fail(m, param, "cache_control.ttl: expected \"5m\" or \"1h\"");
	if (m->ncache == OAI_MAX_CACHE_MARKS)
		return 0;
	m->cache[m->ncache].tok = part;
	m->cache[m->ncache].ttl_1h = json_str_eq(m->d, ttl, "1h");
	m->ncache++;
	return 0;
}

/* Tools come first in Bedrock's order (toolConfig, system, messages); with
 * tool_choice "none" no tool is sent, so their marks do not count, nor on a
 * model that takes cache points in system and messages only (Nova). */
static int oai_cache_tools(struct oai_map *m)
{
	int tools = oai_member(m->d, 0, "tools"), t;
	int ok = known_caching_tools(m->rq->model_id) != 0; /* Nova: never in tools */
	size_t i = 0;

	if (json_type(m->d, tools) != JSON_ARRAY ||
	    json_str_eq(m->d, oai_member(m->d, 0, "tool_choice"), "none"))
		return 0;
	for (t = json_child(m->d, tools); t >= 0; t = json_next(m->d, t), i++) {
		char pt[40];

		size_t n = m->ncache;

		oai_pathf(pt, sizeof pt, "tools[%zu]", i);
		if (json_type(m->d, t) == JSON_OBJECT && oai_cache_mark(m, t, pt) < 0)
			return -1;
		if (!ok && m->ncache != n) {
			m->ncache = n; /* checked, not kept */
			m->rq->cache_dropped++;
		}
	}
	return 0;
}

/* Reads every cache_control mark (tools, system messages, then the others:
 * Bedrock's order)
 * and decides which become cache points. */
static int oai_cache_plan(struct oai_map *m, int msgs)
{
	int pass, msg, p, short_seen = 0;
	size_t i;

	m->cache_ok = known_caching(m->rq->model_id) != 0;
	if (oai_cache_tools(m) < 0)
		return -1;
	for (pass = 0; pass < 2; pass++) {
		for (msg = json_child(m->d, msgs), i = 0; msg >= 0; msg = json_next(m->d, msg), i++) {
			int role = json_get(m->d, msg, "role"), c = oai_member(m->d, msg, "content");
			int sys = json_str_eq(m->d, role, "system") || json_str_eq(m->d, role, "developer");
			char pc[80];

			if (sys != (pass == 0) || json_type(m->d, c) != JSON_ARRAY)
				continue;
			oai_pathf(pc, sizeof pc, "messages[%zu].content", i);
			for (p = json_child(m->d, c); p >= 0; p = json_next(m->d, p))
				if (json_type(m->d, p) == JSON_OBJECT && oai_cache_mark(m, p, pc) < 0)
					return -1;
		}
	}
	for (i = 0; i < m->ncache; i++) {
		m->cache[i].emit = m->cache_ok && (m->ncache <= OAI_MAX_CACHE_POINTS ||
						   i < OAI_MAX_CACHE_POINTS - 1 || i == m->ncache - 1);
		if (m->cache[i].emit && short_seen)
			m->cache[i].ttl_1h = 0; /* TTLs never increase along the prompt */
		short_seen |= m->cache[i].emit && !m->cache[i].ttl_1h;
		m->rq->cache_dropped += !m->cache[i].emit;
	}
	return 0;
}

/* Walks content (a string or an array of parts). For text parts calls
 * oai_text_block with role; image parts only when images is set; refusal
 * parts read as text (assistant). */
static int oai_content(struct oai_map *m, int c, int role, int images, const char *param)
{
	struct slice s;
	char pp[96];
	size_t i = 0;
	int p;

	if (json_type(m->d, c) == JSON_STRING) {
		if (oai_str(m, c, &m->s1, &s, param) < 0)
			return -1;
		return oai_text_block(m, role, s, param);
	}
	if (json_type(m->d, c) != JSON_ARRAY)
		return oai_fail(m, param, "expected a string or an array of content parts");
	for (p = json_child(m->d, c); p >= 0; p = json_next(m->d, p), i++) {
		int type = json_get(m->d, p, "type"), t;

		oai_pathf(pp, sizeof pp, "%s[%zu]", param, i);
		if (json_type(m->d, p) != JSON_OBJECT || json_type(m->d, type) != JSON_STRING)
			return oai_fail(m, pp, "expected a content part object with a type");
		if (json_str_eq(m->d, type, "text") || json_str_eq(m->d, type, "refusal")) {
			int refusal = json_str_eq(m->d, type, "refusal");
			char pt[104];

			if (refusal && role != ROLE_ASSISTANT)
				return oai_fail(m, pp, "refusal parts belong to assistant messages");
			t = json_get(m->d, p, refusal ? "refusal" : "text");
			oai_pathf(pt, sizeof pt, "%s.%s", pp, refusal ? "refusal" : "text");
			if (oai_str(m, t, &m->s1, &s, pt) < 0 || oai_text_block(m, role, s, pp) < 0)
				return -1;
			oai_cache_after(m, p);
		} else if (images && json_str_eq(m->d, type, "image_url")) {
			if (oai_image_block(m, p, pp) < 0)
				return -1;
			oai_cache_after(m, p);
		} else {
			struct slice ty = json_raw(m->d, type);

			return oai_fail(m, pp, "content part type '%.*s' is not supported here",
					(int)(ty.n > 40 ? 40 : ty.n), (const char *)ty.p);
		}
	}
	return 0;
}

/* An assistant message's thinking_blocks (the Anthropic-style replay field
 * LiteLLM and others send): {"type":"thinking","thinking","signature"} ->
 * reasoningContent.reasoningText {text, signature}; {"type":
 * "redacted_thinking","data"} -> reasoningContent.redactedContent. A block
 * without its signature cannot be replayed (Bedrock refuses the turn): it is
 * dropped (SPEC 3.5). */
static int oai_thinking_blocks(struct oai_map *m, int msg, const char *param)
{
	int tb = oai_member(m->d, msg, "thinking_blocks"), b;
	struct slice text, sig;

	if (tb < 0)
		return 0;
	if (json_type(m->d, tb) != JSON_ARRAY)
		return oai_fail(m, param, "thinking_blocks: expected an array");
	for (b = json_child(m->d, tb); b >= 0; b = json_next(m->d, b)) {
		int type = json_get(m->d, b, "type");
		int redacted = json_str_eq(m->d, type, "redacted_thinking");
		int t = json_get(m->d, b, redacted ? "data" : "thinking");
		int sg = oai_member(m->d, b, "signature");

		if (json_type(m->d, t) != JSON_STRING || (!redacted && json_type(m->d, sg) != JSON_STRING))
			continue; /* nothing to replay, or no signature: dropped */
		if (oai_str(m, t, &m->s1, &text, param) < 0 ||
		    (!redacted && oai_str(m, sg, &m->s2, &sig, param) < 0))
			return -1;
		if (!redacted && !sig.n)
			continue;
		if (oai_open(m, ROLE_ASSISTANT, param) < 0)
			return -1;
		jw_obj_begin(&m->w);
		jw_key(&m->w, "reasoningContent");
		jw_obj_begin(&m->w);
		if (redacted) {
			jw_kstrn(&m->w, "redactedContent", text.p, text.n);
		} else {
			jw_key(&m->w, "reasoningText");
			jw_obj_begin(&m->w);
			jw_kstrn(&m->w, "text", text.p, text.n);
			jw_kstrn(&m->w, "signature", sig.p, sig.n);
			jw_obj_end(&m->w);
		}
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
	}
	return 0;
}

static int oai_role_is(const struct json_doc *d, int role, const char *s)
{
	return json_str_eq(d, role, s);
}

static int oai_messages(struct oai_map *m, int msgs)
{
	char pp[64];
	size_t i = 0;
	int msg;

	jw_key(&m->w, "messages");
	jw_arr_begin(&m->w);
	for (msg = json_child(m->d, msgs); msg >= 0; msg = json_next(m->d, msg), i++) {
		int role = json_get(m->d, msg, "role"), c = oai_member(m->d, msg, "content");
		char pc[80];

		oai_pathf(pp, sizeof pp, "messages[%zu]", i);
		oai_pathf(pc, sizeof pc, "messages[%zu].content", i);
		if (json_type(m->d, msg) != JSON_OBJECT || json_type(m->d, role) != JSON_STRING)
			return oai_fail(m, pp, "expected a message object with a role");
		if (oai_role_is(m->d, role, "system") || oai_role_is(m->d, role, "developer")) {
			continue; /* written by oai_system */
		} else if (oai_role_is(m->d, role, "user")) {
			if (c < 0)
				return oai_fail(m, pc, "missing");
			if (oai_content(m, c, ROLE_USER, 1, pc) < 0)
				return -1;
		} else if (oai_role_is(m->d, role, "assistant")) {
			int calls = oai_member(m->d, msg, "tool_calls");
			char pt[80];

			if (oai_thinking_blocks(m, msg, pp) < 0)
				return -1;
			if (c >= 0 && oai_content(m, c, ROLE_ASSISTANT, 0, pc) < 0)
				return -1;
			oai_pathf(pt, sizeof pt, "messages[%zu].tool_calls", i);
			if (calls >= 0 && oai_tool_calls(m, calls, pt) < 0)
				return -1;
		} else if (oai_role_is(m->d, role, "tool")) {
			if (oai_tool_result(m, msg, pp) < 0)
				return -1;
		} else {
			struct slice r = json_raw(m->d, role);
			char pr[80];

			oai_pathf(pr, sizeof pr, "messages[%zu].role", i);
			return oai_fail(m, pr, "role '%.*s' is not supported", (int)(r.n > 40 ? 40 : r.n),
					(const char *)r.p);
		}
	}
	if (m->role == ROLE_NONE)
		return oai_fail(m, "messages", "no user message with content");
	jw_arr_end(&m->w);
	jw_obj_end(&m->w);
	jw_arr_end(&m->w);
	return 0;
}

/* System and developer messages, in order, one block per text part. */
static int oai_system(struct oai_map *m, int msgs)
{
	int msg, open = 0;
	size_t i = 0;

	for (msg = json_child(m->d, msgs); msg >= 0; msg = json_next(m->d, msg), i++) {
		int role = json_get(m->d, msg, "role"), c = oai_member(m->d, msg, "content"), p;
		struct slice s;
		char pc[80];

		if (!oai_role_is(m->d, role, "system") && !oai_role_is(m->d, role, "developer"))
			continue;
		oai_pathf(pc, sizeof pc, "messages[%zu].content", i);
		if (!open) {
			jw_key(&m->w, "system");
			jw_arr_begin(&m->w);
			open = 1;
		}
		if (json_type(m->d, c) == JSON_STRING) {
			if (oai_str(m, c, &m->s1, &s, pc) < 0)
				return -1;
			if (!oai_blank(s)) {
				jw_obj_begin(&m->w);
				jw_kstrn(&m->w, "text", s.p, s.n);
				jw_obj_end(&m->w);
			}
			continue;
		}
		if (json_type(m->d, c) != JSON_ARRAY)
			return oai_fail(m, pc, "expected a string or an array of text parts");
		for (p = json_child(m->d, c); p >= 0; p = json_next(m->d, p)) {
			if (!json_str_eq(m->d, json_get(m->d, p, "type"), "text"))
				return oai_fail(m, pc, "system messages take text parts only");
			if (oai_str(m, json_get(m->d, p, "text"), &m->s1, &s, pc) < 0)
				return -1;
			if (!oai_blank(s)) {
				jw_obj_begin(&m->w);
				jw_kstrn(&m->w, "text", s.p, s.n);
				jw_obj_end(&m->w);
			}
			oai_cache_after(m, p);
		}
	}
	if (open)
		jw_arr_end(&m->w);
	return 0;
}

/* A number field; *has 0 when absent or null. */
static int oai_number(struct oai_map *m, const char *key, int *has, double *v)
{
	int t = oai_member(m->d, 0, key);
	struct err tmp;

	*has = 0;
	if (t < 0)
		return 0;
	if (json_type(m->d, t) != JSON_NUMBER || json_double(m->d, t, v, &tmp) < 0)
		return oai_fail(m, key, "expected a number");
	*has = 1;
	return 0;
}

static int oai_count(struct oai_map *m, const char *key, long long *v)
{
	int t = oai_member(m->d, 0, key);
	struct err tmp;
	int64_t x;

	if (t < 0)
		return 0;
	if (json_type(m->d, t) != JSON_NUMBER || json_int64(m->d, t, &x, &tmp) < 0 || x < 1 ||
	    x > 0x7fffffff)
		return oai_fail(m, key, "expected a positive integer");
	*v = x;
	return 0;
}

static int oai_flag(struct oai_map *m, int obj, const char *key, const char *param, int *v)
{
	int t = oai_member(m->d, obj, key);
	struct err tmp;

	*v = 0;
	if (t >= 0 && json_bool(m->d, t, v, &tmp) < 0)
		return oai_fail(m, param, "expected true or false");
	return 0;
}

static int oai_inference(struct oai_map *m)
{
	long long max_tokens = 0, mct = 0;
	int has_t, has_p, stop = oai_member(m->d, 0, "stop"), s;
	double temp = 0, top_p = 0;
	struct slice v;

	if (oai_count(m, "max_tokens", &max_tokens) < 0 ||
	    oai_count(m, "max_completion_tokens", &mct) < 0 ||
	    oai_number(m, "temperature", &has_t, &temp) < 0 ||
	    oai_number(m, "top_p", &has_p, &top_p) < 0)
		return -1;
	if (mct)
		max_tokens = mct; /* the newer name wins */
	/* Anthropic needs maxTokens above the thinking budget: the client's
	 * number is the answer room on top of it */
	if (m->rq->thinking && max_tokens <= m->rq->thinking)
		max_tokens = m->rq->thinking + (max_tokens ? max_tokens : OAI_THINKING_ANSWER);
	if (stop >= 0 && json_type(m->d, stop) != JSON_STRING && json_type(m->d, stop) != JSON_ARRAY)
		return oai_fail(m, "stop", "expected a string or an array of strings");
	if (!max_tokens && !has_t && !has_p && stop < 0)
		return 0;
	jw_key(&m->w, "inferenceConfig");
	jw_obj_begin(&m->w);
	if (max_tokens)
		jw_kint(&m->w, "maxTokens", max_tokens);
	if (has_t) {
		jw_key(&m->w, "temperature");
		jw_double(&m->w, temp);
	}
	if (has_p) {
		jw_key(&m->w, "topP");
		jw_double(&m->w, top_p);
	}
	if (stop >= 0) {
		jw_key(&m->w, "stopSequences");
		jw_arr_begin(&m->w);
		if (json_type(m->d, stop) == JSON_STRING) {
			if (oai_str(m, stop, &m->s1, &v, "stop") < 0)
				return -1;
			if (v.n)
				jw_strn(&m->w, v.p, v.n);
		}
		for (s = json_child(m->d, stop); s >= 0; s = json_next(m->d, s)) {
			if (oai_str(m, s, &m->s1, &v, "stop") < 0)
				return -1;
			if (v.n)
				jw_strn(&m->w, v.p, v.n);
		}
		jw_arr_end(&m->w);
	}
	jw_obj_end(&m->w);
	return 0;
}

/* model, stream, stream_options, n, reasoning_effort: everything that
 * decides the request before its body is written. */
static int oai_head(struct oai_map *m)
{
	int model = json_get(m->d, 0, "model"), so = oai_member(m->d, 0, "stream_options");
	int effort = oai_member(m->d, 0, "reasoning_effort"), n = oai_member(m->d, 0, "n");
	struct oai_req *rq = m->rq;
	struct slice s;
	const char *id;
	size_t i;

	if (model < 0)
		return oai_fail(m, "model", "missing");
	if (oai_str(m, model, &m->s1, &s, "model") < 0)
		return -1;
	if (!s.n || s.n >= OAI_MODEL_MAX)
		return oai_fail(m, "model", "expected a model id of 1 to %d bytes", OAI_MODEL_MAX - 1);
	for (i = 0; i < s.n; i++)
		if (s.p[i] < 0x20 || s.p[i] == 0x7f)
			return oai_fail(m, "model", "control character in the model id");
	memcpy(rq->model, s.p, s.n);
	rq->model[s.n] = '\0';
	id = catalog_ref_id(rq->model);
	if (!id[0])
		return oai_fail(m, "model", "empty model id");
	snprintf(rq->model_id, sizeof rq->model_id, "%s", id);
	if (oai_flag(m, 0, "stream", "stream", &rq->stream) < 0)
		return -1;
	if (so >= 0 && json_type(m->d, so) != JSON_OBJECT)
		return oai_fail(m, "stream_options", "expected an object");
	if (oai_flag(m, so, "include_usage", "stream_options.include_usage", &rq->include_usage) < 0)
		return -1;
	if (!rq->stream)
		rq->include_usage = 0;
	if (n >= 0 && (json_raw(m->d, n).n != 1 || json_raw(m->d, n).p[0] != '1'))
		return oai_fail(m, "n", "only n=1 is supported");
	if (effort >= 0) {
		long long budget = 0;

		if (json_str_eq(m->d, effort, "low") || json_str_eq(m->d, effort, "minimal"))
			budget = OAI_EFFORT_LOW;
		else if (json_str_eq(m->d, effort, "medium"))
			budget = OAI_EFFORT_MEDIUM;
		else if (json_str_eq(m->d, effort, "high"))
			budget = OAI_EFFORT_HIGH;
		else if (!json_str_eq(m->d, effort, "none"))
			return oai_fail(m, "reasoning_effort",
					"expected \"none\", \"minimal\", \"low\", \"medium\" or "
					"\"high\"");
		/* other makers have no common field for it: accepted, not sent */
		if (budget && known_thinking(rq->model_id) == KNOWN_THINK_ADAPTIVE)
			snprintf(rq->effort, sizeof rq->effort, "%s", known_effort_of_budget(budget));
		else if (conv_model_is_anthropic(rq->model_id))
			rq->thinking = budget;
	}
	return 0;
}

static int oai_map_doc(struct oai_map *m)
{
	int msgs = json_get(m->d, 0, "messages");

	if (json_type(m->d, 0) != JSON_OBJECT)
		return oai_fail(m, NULL, "the request body must be a JSON object");
	if (oai_head(m) < 0)
		return -1;
	if (msgs < 0)
		return oai_fail(m, "messages", "missing");
	if (json_type(m->d, msgs) != JSON_ARRAY || json_size(m->d, msgs) == 0)
		return oai_fail(m, "messages", "expected a non-empty array of messages");
	if (oai_cache_plan(m, msgs) < 0)
		return -1;
	jw_obj_begin(&m->w);
	if (oai_messages(m, msgs) < 0 || oai_system(m, msgs) < 0 || oai_inference(m) < 0 ||
	    oai_tools(m) < 0 || oai_model_fields(m) < 0 || oai_features(m) < 0)
		return -1;
	jw_obj_end(&m->w);
	return 0;
}

int oai_map_request(const uint8_t *body, size_t n, struct oai_req *rq, struct buf *out,
		    struct err *e)
{
	return oai_map_request_def(body, n, NULL, rq, out, e);
}

int oai_map_request_def(const uint8_t *body, size_t n, const struct config_features *def,
			struct oai_req *rq, struct buf *out, struct err *e)
{
	struct oai_map m;
	struct json_doc d;
	size_t start = out->len;
	int rc;

	memset(rq, 0, sizeof *rq);
	memset(&m, 0, sizeof m);
	m.rq = rq;
	m.def = def;
	m.e = e;
	if (json_parse_alloc(&d, (const char *)body, n, OAI_MAX_TOKENS, e) < 0) {
		if (e)
			e->cls = ERR_USAGE;
		return err_wrap(e, "request body is not valid JSON");
	}
	m.d = &d;
	buf_init(&m.s1, n + 16);
	buf_init(&m.s2, n + 16);
	jw_init(&m.w, out);
	rc = oai_map_doc(&m);
	if (rc == 0 && jw_finish(&m.w, e) < 0) {
		if (m.w.error == JW_E_NOMEM)
			err_set(e, ERR_OTHER, "Converse request larger than %zu bytes", out->max);
		rc = -1;
	}
	buf_free(&m.s1);
	buf_free(&m.s2);
	json_doc_free(&d);
	if (rc < 0) {
		out->len = start; /* nothing half-written stays */
		if (out->p)
			out->p[start] = '\0';
	}
	return rc;
}
