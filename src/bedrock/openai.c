/* openai: OpenAI chat-completions <-> Bedrock Converse (see openai.h). */
#include "bedrock/openai.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "bedrock/catalog.h"
#include "wire/json.h"

/* ------------------------------------------------------------------------ */
/* Requests */

enum { ROLE_NONE = 0, ROLE_USER = 1, ROLE_ASSISTANT = 2 };

/* One request being mapped. */
struct oai_map {
	const struct json_doc *d;
	struct oai_req *rq;
	struct jw w;
	struct buf s1, s2; /* decoded strings, decoded image bytes */
	int role;          /* Converse role of the open message, or ROLE_NONE */
	int tool_blocks;   /* toolUse/toolResult blocks were written */
	struct err *e;
};

/* Placeholder text of a tool result that came empty: Converse rejects blank
 * text blocks, and dropping the result would orphan its toolUse. */
#define OAI_EMPTY_RESULT "(empty)"

/* The input schema of a function declared without parameters. */
#define OAI_EMPTY_SCHEMA "{\"type\":\"object\",\"properties\":{}}"
#define OAI_EMPTY_SCHEMA_JSON "{\"json\":" OAI_EMPTY_SCHEMA "}"

/* A field path for messages and oai_req.param ("messages[2].content[0]");
 * cut when too long (it only names the place). */
static void oai_pathf(char *dst, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void oai_pathf(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}

static int oai_fail(struct oai_map *m, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int oai_fail(struct oai_map *m, const char *param, const char *fmt, ...)
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
static int oai_str(struct oai_map *m, int t, struct buf *sc, struct slice *out, const char *param)
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
static int oai_member(const struct json_doc *d, int obj, const char *key)
{
	int v = json_get(d, obj, key);

	return json_type(d, v) == JSON_NULL ? -1 : v;
}

static int oai_blank(struct slice s)
{
	size_t i;

	for (i = 0; i < s.n; i++)
		if (s.p[i] != ' ' && s.p[i] != '\t' && s.p[i] != '\n' && s.p[i] != '\r')
			return 0;
	return 1;
}

/* Opens (or continues, when it is the same role) a Converse message. */
static int oai_open(struct oai_map *m, int role, const char *param)
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
		} else if (images && json_str_eq(m->d, type, "image_url")) {
			if (oai_image_block(m, p, pp) < 0)
				return -1;
		} else {
			struct slice ty = json_raw(m->d, type);

			return oai_fail(m, pp, "content part type '%.*s' is not supported here",
					(int)(ty.n > 40 ? 40 : ty.n), (const char *)ty.p);
		}
	}
	return 0;
}

/* Containers nested in the valid JSON text s (0 for a scalar). */
static int oai_nesting(struct slice s)
{
	int depth = 0, max = 0, in_str = 0;
	size_t i;

	for (i = 0; i < s.n; i++) {
		uint8_t c = s.p[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

/* jw_raw and jw_tok copy checked JSON text without counting its nesting:
 * refuses text v that, pasted at the writer's current depth, would take the
 * Converse request past the writer's depth limit (JSON_MAX_DEPTH). */
static int oai_fits(struct oai_map *m, struct slice v, const char *param)
{
	int room = m->w.max_depth - m->w.depth;

	if (oai_nesting(v) > room)
		return oai_fail(m, param, "nested too deeply (at most %d levels here)", room);
	return 0;
}

/* function.arguments (a JSON text in a string) -> the toolUse input object. */
static int oai_tool_input(struct oai_map *m, int args, const char *param)
{
	struct slice s;
	struct err tmp;
	size_t i = 0;

	if (args < 0) {
		jw_raw(&m->w, "{}", 2);
		return 0;
	}
	if (oai_str(m, args, &m->s1, &s, param) < 0)
		return -1;
	if (oai_blank(s)) {
		jw_raw(&m->w, "{}", 2);
		return 0;
	}
	while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == '\n' || s.p[i] == '\r'))
		i++;
	if (s.p[i] != '{' || json_validate((const char *)s.p, s.n, NULL, NULL, &tmp) < 0)
		return oai_fail(m, param, "expected a JSON object in a string");
	if (oai_fits(m, s, param) < 0)
		return -1;
	jw_raw(&m->w, s.p, s.n);
	return 0;
}

static int oai_tool_calls(struct oai_map *m, int calls, const char *param)
{
	char pp[128];
	size_t i = 0;
	int c;

	if (json_type(m->d, calls) != JSON_ARRAY)
		return oai_fail(m, param, "expected an array");
	for (c = json_child(m->d, calls); c >= 0; c = json_next(m->d, c), i++) {
		int id = json_get(m->d, c, "id"), type = oai_member(m->d, c, "type");
		int fn = json_get(m->d, c, "function");
		int name = json_get(m->d, fn, "name");
		struct slice s;

		oai_pathf(pp, sizeof pp, "%s[%zu]", param, i);
		if (json_type(m->d, c) != JSON_OBJECT || json_type(m->d, fn) != JSON_OBJECT)
			return oai_fail(m, pp, "expected {id, type: \"function\", function: {name, "
					       "arguments}}");
		if (type >= 0 && !json_str_eq(m->d, type, "function"))
			return oai_fail(m, pp, "only tool calls of type \"function\" are supported");
		if (oai_open(m, ROLE_ASSISTANT, pp) < 0)
			return -1;
		jw_obj_begin(&m->w);
		jw_key(&m->w, "toolUse");
		jw_obj_begin(&m->w);
		oai_pathf(pp, sizeof pp, "%s[%zu].id", param, i);
		if (oai_str(m, id, &m->s1, &s, pp) < 0)
			return -1;
		if (!s.n)
			return oai_fail(m, pp, "empty tool call id");
		jw_kstrn(&m->w, "toolUseId", s.p, s.n);
		oai_pathf(pp, sizeof pp, "%s[%zu].function.name", param, i);
		if (oai_str(m, name, &m->s1, &s, pp) < 0)
			return -1;
		if (!s.n)
			return oai_fail(m, pp, "empty function name");
		jw_kstrn(&m->w, "name", s.p, s.n);
		jw_key(&m->w, "input");
		oai_pathf(pp, sizeof pp, "%s[%zu].function.arguments", param, i);
		if (oai_tool_input(m, oai_member(m->d, fn, "arguments"), pp) < 0)
			return -1;
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
		m->tool_blocks = 1;
	}
	return 0;
}

/* A tool message -> a toolResult block in a user turn. */
static int oai_tool_result(struct oai_map *m, int msg, const char *param)
{
	int id = json_get(m->d, msg, "tool_call_id"), c = oai_member(m->d, msg, "content");
	int nblocks = 0, p;
	struct slice s;
	char pp[96];

	oai_pathf(pp, sizeof pp, "%s.tool_call_id", param);
	if (id < 0)
		return oai_fail(m, pp, "missing");
	if (oai_str(m, id, &m->s2, &s, pp) < 0)
		return -1;
	if (oai_open(m, ROLE_USER, param) < 0)
		return -1;
	jw_obj_begin(&m->w);
	jw_key(&m->w, "toolResult");
	jw_obj_begin(&m->w);
	jw_kstrn(&m->w, "toolUseId", s.p, s.n);
	jw_key(&m->w, "content");
	jw_arr_begin(&m->w);
	oai_pathf(pp, sizeof pp, "%s.content", param);
	if (json_type(m->d, c) == JSON_STRING) {
		if (oai_str(m, c, &m->s1, &s, pp) < 0)
			return -1;
		if (!oai_blank(s)) {
			jw_obj_begin(&m->w);
			jw_kstrn(&m->w, "text", s.p, s.n);
			jw_obj_end(&m->w);
			nblocks++;
		}
	} else if (json_type(m->d, c) == JSON_ARRAY) {
		for (p = json_child(m->d, c); p >= 0; p = json_next(m->d, p)) {
			int t = json_get(m->d, p, "text");

			if (!json_str_eq(m->d, json_get(m->d, p, "type"), "text"))
				return oai_fail(m, pp, "tool results take text parts only");
			if (oai_str(m, t, &m->s1, &s, pp) < 0)
				return -1;
			if (oai_blank(s))
				continue;
			jw_obj_begin(&m->w);
			jw_kstrn(&m->w, "text", s.p, s.n);
			jw_obj_end(&m->w);
			nblocks++;
		}
	} else if (c >= 0) {
		return oai_fail(m, pp, "expected a string or an array of text parts");
	}
	if (!nblocks) {
		jw_obj_begin(&m->w);
		jw_kstr(&m->w, "text", OAI_EMPTY_RESULT);
		jw_obj_end(&m->w);
	}
	jw_arr_end(&m->w);
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
	m->tool_blocks = 1;
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
			if (oai_blank(s))
				continue;
			jw_obj_begin(&m->w);
			jw_kstrn(&m->w, "text", s.p, s.n);
			jw_obj_end(&m->w);
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

static int oai_tool_specs(struct oai_map *m, int tools)
{
	char pp[64];
	size_t i = 0;
	int t;

	for (t = json_child(m->d, tools); t >= 0; t = json_next(m->d, t), i++) {
		int fn = json_get(m->d, t, "function"), type = oai_member(m->d, t, "type");
		int desc = oai_member(m->d, fn, "description");
		int params = oai_member(m->d, fn, "parameters");
		struct slice s;
		char pf[96];

		oai_pathf(pp, sizeof pp, "tools[%zu]", i);
		if (json_type(m->d, t) != JSON_OBJECT || json_type(m->d, fn) != JSON_OBJECT)
			return oai_fail(m, pp, "expected {type: \"function\", function: {name, "
					       "description, parameters}}");
		if (type >= 0 && !json_str_eq(m->d, type, "function"))
			return oai_fail(m, pp, "only tools of type \"function\" are supported");
		jw_obj_begin(&m->w);
		jw_key(&m->w, "toolSpec");
		jw_obj_begin(&m->w);
		oai_pathf(pf, sizeof pf, "tools[%zu].function.name", i);
		if (oai_str(m, json_get(m->d, fn, "name"), &m->s1, &s, pf) < 0)
			return -1;
		if (!s.n)
			return oai_fail(m, pf, "empty function name");
		jw_kstrn(&m->w, "name", s.p, s.n);
		if (desc >= 0) {
			oai_pathf(pf, sizeof pf, "tools[%zu].function.description", i);
			if (oai_str(m, desc, &m->s1, &s, pf) < 0)
				return -1;
			if (s.n)
				jw_kstrn(&m->w, "description", s.p, s.n);
		}
		jw_key(&m->w, "inputSchema");
		jw_obj_begin(&m->w);
		jw_key(&m->w, "json");
		if (params >= 0) {
			oai_pathf(pf, sizeof pf, "tools[%zu].function.parameters", i);
			if (json_type(m->d, params) != JSON_OBJECT)
				return oai_fail(m, pf, "expected a JSON Schema object");
			if (oai_fits(m, json_raw_value(m->d, params), pf) < 0)
				return -1;
			jw_tok(&m->w, m->d, params);
		} else {
			jw_raw(&m->w, OAI_EMPTY_SCHEMA, sizeof OAI_EMPTY_SCHEMA - 1);
		}
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
	}
	return 0;
}

/* tool_choice -> 0 (none), 1 (auto / not given), or writes nothing and
 * returns 2 with *name set for a named function, 3 for required. */
enum { CHOICE_NONE, CHOICE_AUTO, CHOICE_TOOL, CHOICE_ANY };

static int oai_tool_choice(struct oai_map *m, int *choice, int *name)
{
	int c = oai_member(m->d, 0, "tool_choice"), fn;

	*choice = CHOICE_AUTO;
	*name = -1;
	if (c < 0)
		return 0;
	if (json_type(m->d, c) == JSON_STRING) {
		if (json_str_eq(m->d, c, "none"))
			*choice = CHOICE_NONE;
		else if (json_str_eq(m->d, c, "required"))
			*choice = CHOICE_ANY;
		else if (!json_str_eq(m->d, c, "auto"))
			return oai_fail(m, "tool_choice",
					"expected \"none\", \"auto\", \"required\" or "
					"{\"type\":\"function\",\"function\":{\"name\":...}}");
		return 0;
	}
	fn = json_get(m->d, c, "function");
	*name = fn >= 0 ? json_get(m->d, fn, "name") : json_get(m->d, c, "name");
	if (json_type(m->d, c) != JSON_OBJECT || json_type(m->d, *name) != JSON_STRING)
		return oai_fail(m, "tool_choice",
				"expected {\"type\":\"function\",\"function\":{\"name\":...}}");
	*choice = CHOICE_TOOL;
	return 0;
}

/* Converse refuses toolUse/toolResult blocks without a toolConfig: with no
 * tools to offer (none given, or tool_choice "none"), an inert placeholder. */
static void oai_placeholder_tool(struct jw *w)
{
	jw_obj_begin(w);
	jw_key(w, "toolSpec");
	jw_obj_begin(w);
	jw_kstr(w, "name", "no_tools_available");
	jw_kstr(w, "description", "No tools are available for this request. Never call this.");
	jw_key(w, "inputSchema");
	jw_raw(w, OAI_EMPTY_SCHEMA_JSON, sizeof OAI_EMPTY_SCHEMA_JSON - 1);
	jw_obj_end(w);
	jw_obj_end(w);
}

static int oai_tools(struct oai_map *m)
{
	int tools = oai_member(m->d, 0, "tools"), choice, name;
	struct slice s;

	if (oai_tool_choice(m, &choice, &name) < 0)
		return -1;
	if (tools >= 0 && json_type(m->d, tools) != JSON_ARRAY)
		return oai_fail(m, "tools", "expected an array");
	if (json_size(m->d, tools) <= 0 || choice == CHOICE_NONE) {
		if (!m->tool_blocks)
			return 0;
		jw_key(&m->w, "toolConfig");
		jw_obj_begin(&m->w);
		jw_key(&m->w, "tools");
		jw_arr_begin(&m->w);
		oai_placeholder_tool(&m->w);
		jw_arr_end(&m->w);
		jw_obj_end(&m->w);
		return 0;
	}
	jw_key(&m->w, "toolConfig");
	jw_obj_begin(&m->w);
	jw_key(&m->w, "tools");
	jw_arr_begin(&m->w);
	if (oai_tool_specs(m, tools) < 0)
		return -1;
	jw_arr_end(&m->w);
	jw_key(&m->w, "toolChoice");
	jw_obj_begin(&m->w);
	if (choice == CHOICE_AUTO) {
		jw_key(&m->w, "auto");
		jw_raw(&m->w, "{}", 2);
	} else if (choice == CHOICE_ANY) {
		jw_key(&m->w, "any");
		jw_raw(&m->w, "{}", 2);
	} else {
		if (oai_str(m, name, &m->s1, &s, "tool_choice.function.name") < 0)
			return -1;
		jw_key(&m->w, "tool");
		jw_obj_begin(&m->w);
		jw_kstrn(&m->w, "name", s.p, s.n);
		jw_obj_end(&m->w);
	}
	jw_obj_end(&m->w);
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
		if (conv_model_is_anthropic(rq->model_id))
			rq->thinking = budget;
	}
	return 0;
}

static void oai_thinking(struct oai_map *m)
{
	if (!m->rq->thinking)
		return;
	jw_key(&m->w, "additionalModelRequestFields");
	jw_obj_begin(&m->w);
	jw_key(&m->w, "thinking");
	jw_obj_begin(&m->w);
	jw_kstr(&m->w, "type", "enabled");
	jw_kint(&m->w, "budget_tokens", m->rq->thinking);
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
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
	jw_obj_begin(&m->w);
	if (oai_messages(m, msgs) < 0 || oai_system(m, msgs) < 0 || oai_inference(m) < 0 ||
	    oai_tools(m) < 0)
		return -1;
	oai_thinking(m);
	jw_obj_end(&m->w);
	return 0;
}

int oai_map_request(const uint8_t *body, size_t n, struct oai_req *rq, struct buf *out,
		    struct err *e)
{
	struct oai_map m;
	struct json_doc d;
	size_t start = out->len;
	int rc;

	memset(rq, 0, sizeof *rq);
	memset(&m, 0, sizeof m);
	m.rq = rq;
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

void oai_make_id(char out[OAI_ID_MAX], const uint8_t *rnd, size_t n)
{
	size_t max = (OAI_ID_MAX - sizeof "chatcmpl-") / 2;

	memcpy(out, "chatcmpl-", sizeof "chatcmpl-");
	hex_encode(out + sizeof "chatcmpl-" - 1, rnd, n < max ? n : max);
}

const char *oai_finish_reason(struct slice r)
{
	if (slice_eq_str(r, "tool_use"))
		return "tool_calls";
	if (slice_eq_str(r, "max_tokens") || slice_eq_str(r, "model_context_window_exceeded"))
		return "length";
	if (slice_eq_str(r, "guardrail_intervened") || slice_eq_str(r, "content_filtered"))
		return "content_filter";
	return "stop";
}

/* ------------------------------------------------------------------------ */
/* Streaming answers */

#define OAI_CHUNK_MAX (6u * EVS_MAX_MESSAGE + 4096u) /* one delta, escaped */

void oai_stream_init(struct oai_stream *s, const char *id, const char *model, int64_t created,
		     int include_usage, oai_write_fn write, void *user)
{
	memset(s, 0, sizeof *s);
	snprintf(s->id, sizeof s->id, "%s", id ? id : "chatcmpl-0");
	snprintf(s->model, sizeof s->model, "%s", model ? model : "");
	s->created = created;
	s->include_usage = include_usage;
	s->write = write;
	s->user = user;
	s->cur_block = -1;
	buf_init(&s->out, OAI_CHUNK_MAX);
}

void oai_stream_free(struct oai_stream *s)
{
	buf_free(&s->out);
}

int oai_stream_started(const struct oai_stream *s)
{
	return s->started || s->done;
}

/* "data: {id, object, created, model, choices:" */
static void oai_chunk_head(struct oai_stream *s, struct jw *w)
{
	buf_reset(&s->out);
	buf_append_str(&s->out, "data: ");
	jw_init(w, &s->out);
	jw_obj_begin(w);
	jw_kstr(w, "id", s->id);
	jw_kstr(w, "object", "chat.completion.chunk");
	jw_kint(w, "created", s->created);
	jw_kstr(w, "model", s->model);
	jw_key(w, "choices");
}

static int oai_chunk_send(struct oai_stream *s, struct jw *w, struct err *e)
{
	if (jw_finish(w, e) < 0 || buf_append(&s->out, "\n\n", 2) < 0)
		return err_set(e, ERR_OTHER, "stream chunk larger than %zu bytes", s->out.max);
	return s->write(s->user, s->out.p, s->out.len, e);
}

/* ... [{index: 0, delta: {  (the caller writes the delta members) */
static void oai_delta_begin(struct oai_stream *s, struct jw *w)
{
	oai_chunk_head(s, w);
	jw_arr_begin(w);
	jw_obj_begin(w);
	jw_kint(w, "index", 0);
	jw_key(w, "delta");
	jw_obj_begin(w);
}

static int oai_delta_end(struct oai_stream *s, struct jw *w, const char *finish, struct err *e)
{
	jw_obj_end(w);
	jw_key(w, "logprobs");
	jw_null(w);
	jw_kstr(w, "finish_reason", finish); /* NULL writes null */
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
	return oai_chunk_send(s, w, e);
}

static int oai_ensure_started(struct oai_stream *s, struct err *e)
{
	struct jw w;

	if (s->started)
		return 0;
	s->started = 1;
	oai_delta_begin(s, &w);
	jw_kstr(&w, "role", "assistant");
	jw_kstr(&w, "content", "");
	return oai_delta_end(s, &w, NULL, e);
}

static int oai_on_start(void *u, struct slice role, struct err *e)
{
	(void)role;
	return oai_ensure_started(u, e);
}

static int oai_text_delta(struct oai_stream *s, const char *key, struct slice t, struct err *e)
{
	struct jw w;

	if (oai_ensure_started(s, e) < 0)
		return -1;
	if (!t.n)
		return 0;
	oai_delta_begin(s, &w);
	jw_kstrn(&w, key, t.p, t.n);
	return oai_delta_end(s, &w, NULL, e);
}

static int oai_on_text(void *u, int index, struct slice t, struct err *e)
{
	(void)index;
	return oai_text_delta(u, "content", t, e);
}

static int oai_on_reasoning(void *u, int index, struct slice t, struct err *e)
{
	(void)index;
	return oai_text_delta(u, "reasoning_content", t, e);
}

/* {"tool_calls":[{"index":i, ... */
static void oai_tool_delta(struct jw *w, int dense)
{
	jw_key(w, "tool_calls");
	jw_arr_begin(w);
	jw_obj_begin(w);
	jw_kint(w, "index", dense);
}

static int oai_tool_args(struct oai_stream *s, int dense, struct slice frag, struct err *e)
{
	struct jw w;

	oai_delta_begin(s, &w);
	oai_tool_delta(&w, dense);
	jw_key(&w, "function");
	jw_obj_begin(&w);
	jw_kstrn(&w, "arguments", frag.p, frag.n);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	return oai_delta_end(s, &w, NULL, e);
}

static int oai_on_tool_start(void *u, int index, struct slice id, struct slice name,
			     struct err *e)
{
	struct oai_stream *s = u;
	struct jw w;

	if (oai_ensure_started(s, e) < 0)
		return -1;
	if (s->ntools >= OAI_MAX_TOOL_CALLS)
		return err_set(e, ERR_PROTO, "more than %d tool calls in one answer",
			       OAI_MAX_TOOL_CALLS);
	/* Converse block indexes count text and reasoning blocks too: OpenAI
	 * clients want tool calls numbered 0, 1, 2, ... */
	s->tool_block[s->ntools] = index;
	s->cur_block = index;
	s->cur_tool = s->ntools++;
	s->cur_args = 0;
	oai_delta_begin(s, &w);
	oai_tool_delta(&w, s->cur_tool);
	jw_kstrn(&w, "id", id.p, id.n);
	jw_kstr(&w, "type", "function");
	jw_key(&w, "function");
	jw_obj_begin(&w);
	jw_kstrn(&w, "name", name.p, name.n);
	jw_kstr(&w, "arguments", "");
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	return oai_delta_end(s, &w, NULL, e);
}

static int oai_on_tool_input(void *u, int index, struct slice frag, struct err *e)
{
	struct oai_stream *s = u;
	int i, dense = -1;

	if (index == s->cur_block) {
		dense = s->cur_tool;
		s->cur_args += frag.n;
	} else {
		for (i = s->ntools - 1; i >= 0 && dense < 0; i--)
			if (s->tool_block[i] == index)
				dense = i;
	}
	if (dense < 0 || !frag.n)
		return 0; /* input for a block that never started as a tool call */
	return oai_tool_args(s, dense, frag, e);
}

static int oai_on_block_stop(void *u, int index, struct err *e)
{
	struct oai_stream *s = u;
	int dense = s->cur_tool;

	if (index != s->cur_block)
		return 0;
	s->cur_block = -1;
	/* a call without input still gets parseable arguments */
	if (!s->cur_args)
		return oai_tool_args(s, dense, SLICE_LIT("{}"), e);
	return 0;
}

static int oai_usage_chunk(struct oai_stream *s, struct err *e)
{
	const struct conv_usage *u = &s->usage;
	int64_t prompt = u->input_tokens + u->cache_read + u->cache_write;
	struct jw w;

	s->usage_sent = 1;
	oai_chunk_head(s, &w);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_key(&w, "usage");
	jw_obj_begin(&w);
	jw_kint(&w, "prompt_tokens", prompt);
	jw_kint(&w, "completion_tokens", u->output_tokens);
	jw_kint(&w, "total_tokens", prompt + u->output_tokens);
	if (u->cache_read) {
		jw_key(&w, "prompt_tokens_details");
		jw_obj_begin(&w);
		jw_kint(&w, "cached_tokens", u->cache_read);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	jw_obj_end(&w);
	return oai_chunk_send(s, &w, e);
}

static int oai_finish(struct oai_stream *s, struct slice reason, struct err *e)
{
	struct jw w;

	if (oai_ensure_started(s, e) < 0)
		return -1;
	if (s->finished)
		return 0;
	s->finished = 1;
	oai_delta_begin(s, &w);
	return oai_delta_end(s, &w, oai_finish_reason(reason), e);
}

static int oai_on_stop(void *u, struct slice reason, struct err *e)
{
	return oai_finish(u, reason, e);
}

static int oai_on_metadata(void *u, const struct conv_usage *us, struct err *e)
{
	struct oai_stream *s = u;

	s->usage = *us;
	/* metadata follows messageStop; one that came early waits for the end */
	if (s->include_usage && s->finished && !s->usage_sent)
		return oai_usage_chunk(s, e);
	return 0;
}

void oai_stream_handler(struct oai_stream *s, struct conv_handler *h)
{
	memset(h, 0, sizeof *h);
	h->user = s;
	h->message_start = oai_on_start;
	h->text = oai_on_text;
	h->reasoning_text = oai_on_reasoning;
	h->tool_start = oai_on_tool_start;
	h->tool_input = oai_on_tool_input;
	h->block_stop = oai_on_block_stop;
	h->message_stop = oai_on_stop;
	h->metadata = oai_on_metadata;
}

static int oai_done(struct oai_stream *s, struct err *e)
{
	static const char done[] = "data: [DONE]\n\n";

	s->done = 1;
	return s->write(s->user, (const uint8_t *)done, sizeof done - 1, e);
}

int oai_stream_end(struct oai_stream *s, struct err *e)
{
	if (s->done)
		return 0;
	if (oai_finish(s, SLICE_LIT("end_turn"), e) < 0)
		return -1;
	if (s->include_usage && !s->usage_sent && oai_usage_chunk(s, e) < 0)
		return -1;
	return oai_done(s, e);
}

int oai_stream_fail(struct oai_stream *s, const struct err *failure, struct err *e)
{
	struct oai_error oe;

	if (s->done)
		return 0;
	oai_error_classify(failure, 0, NULL, &oe);
	buf_reset(&s->out);
	if (buf_append_str(&s->out, "data: ") < 0 ||
	    oai_error_body(&s->out, failure && failure->msg[0] ? failure->msg : "stream failed",
			   oe.type, NULL, oe.code) < 0 ||
	    buf_append(&s->out, "\n\n", 2) < 0)
		return err_set(e, ERR_OTHER, "out of memory");
	if (s->write(s->user, s->out.p, s->out.len, e) < 0)
		return -1;
	return oai_done(s, e);
}

/* ------------------------------------------------------------------------ */
/* Non-streaming answers */

struct oai_collect {
	struct buf text, reasoning;
	struct buf calls; /* the tool_calls array, written as they come */
	struct jw cw;
	int ntools, in_tool;
	size_t args;
	char finish[32];
	struct conv_usage usage;
};

static int oai_c_text(void *u, int index, struct slice t, struct err *e)
{
	struct oai_collect *c = u;

	(void)index;
	if (buf_append(&c->text, t.p, t.n) < 0)
		return err_set(e, ERR_OTHER, "answer text too large");
	return 0;
}

static int oai_c_reasoning(void *u, int index, struct slice t, struct err *e)
{
	struct oai_collect *c = u;

	(void)index;
	if (buf_append(&c->reasoning, t.p, t.n) < 0)
		return err_set(e, ERR_OTHER, "answer reasoning too large");
	return 0;
}

static int oai_c_tool_start(void *u, int index, struct slice id, struct slice name,
			    struct err *e)
{
	struct oai_collect *c = u;

	(void)index;
	(void)e;
	if (c->in_tool)
		return 0;
	c->ntools++;
	c->in_tool = 1;
	c->args = 0;
	jw_obj_begin(&c->cw);
	jw_kstrn(&c->cw, "id", id.p, id.n);
	jw_kstr(&c->cw, "type", "function");
	jw_key(&c->cw, "function");
	jw_obj_begin(&c->cw);
	jw_kstrn(&c->cw, "name", name.p, name.n);
	jw_key(&c->cw, "arguments");
	jw_str_begin(&c->cw);
	return 0;
}

static int oai_c_tool_input(void *u, int index, struct slice frag, struct err *e)
{
	struct oai_collect *c = u;

	(void)index;
	(void)e;
	if (c->in_tool) {
		jw_str_piece(&c->cw, frag.p, frag.n);
		c->args += frag.n;
	}
	return 0;
}

static int oai_c_block_stop(void *u, int index, struct err *e)
{
	struct oai_collect *c = u;

	(void)index;
	(void)e;
	if (!c->in_tool)
		return 0;
	c->in_tool = 0;
	if (!c->args)
		jw_str_piece(&c->cw, "{}", 2);
	jw_str_end(&c->cw);
	jw_obj_end(&c->cw);
	jw_obj_end(&c->cw);
	return 0;
}

static int oai_c_stop(void *u, struct slice reason, struct err *e)
{
	struct oai_collect *c = u;

	(void)e;
	snprintf(c->finish, sizeof c->finish, "%s", oai_finish_reason(reason));
	return 0;
}

static int oai_c_metadata(void *u, const struct conv_usage *us, struct err *e)
{
	struct oai_collect *c = u;

	(void)e;
	c->usage = *us;
	return 0;
}

static int oai_completion_write(struct oai_collect *c, const char *id, const char *model,
				int64_t created, struct buf *out, struct err *e)
{
	int64_t prompt = c->usage.input_tokens + c->usage.cache_read + c->usage.cache_write;
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "id", id);
	jw_kstr(&w, "object", "chat.completion");
	jw_kint(&w, "created", created);
	jw_kstr(&w, "model", model);
	jw_key(&w, "choices");
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_kint(&w, "index", 0);
	jw_key(&w, "message");
	jw_obj_begin(&w);
	jw_kstr(&w, "role", "assistant");
	jw_key(&w, "content");
	if (c->text.len || !c->ntools)
		jw_strn(&w, c->text.len ? c->text.p : (const uint8_t *)"", c->text.len);
	else
		jw_null(&w);
	if (c->reasoning.len)
		jw_kstrn(&w, "reasoning_content", c->reasoning.p, c->reasoning.len);
	if (c->ntools) {
		jw_key(&w, "tool_calls");
		jw_raw(&w, c->calls.p, c->calls.len);
	}
	jw_obj_end(&w);
	jw_key(&w, "logprobs");
	jw_null(&w);
	jw_kstr(&w, "finish_reason", c->finish[0] ? c->finish : "stop");
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_key(&w, "usage");
	jw_obj_begin(&w);
	jw_kint(&w, "prompt_tokens", prompt);
	jw_kint(&w, "completion_tokens", c->usage.output_tokens);
	jw_kint(&w, "total_tokens", prompt + c->usage.output_tokens);
	if (c->usage.cache_read) {
		jw_key(&w, "prompt_tokens_details");
		jw_obj_begin(&w);
		jw_kint(&w, "cached_tokens", c->usage.cache_read);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	jw_obj_end(&w);
	if (jw_finish(&w, e) < 0)
		return err_set(e, ERR_OTHER, "completion larger than %zu bytes", out->max);
	return 0;
}

int oai_completion(const uint8_t *body, size_t n, const char *id, const char *model,
		   int64_t created, struct buf *out, struct err *e)
{
	struct oai_collect c;
	struct conv_handler h;
	size_t start = out->len;
	int rc;

	memset(&c, 0, sizeof c);
	memset(&h, 0, sizeof h);
	/* the answer's strings, decoded, are never longer than the answer */
	buf_init(&c.text, n + 1);
	buf_init(&c.reasoning, n + 1);
	buf_init(&c.calls, 2 * n + 64);
	jw_init(&c.cw, &c.calls);
	jw_arr_begin(&c.cw);
	h.user = &c;
	h.text = oai_c_text;
	h.reasoning_text = oai_c_reasoning;
	h.tool_start = oai_c_tool_start;
	h.tool_input = oai_c_tool_input;
	h.block_stop = oai_c_block_stop;
	h.message_stop = oai_c_stop;
	h.metadata = oai_c_metadata;
	rc = conv_parse_response(&h, 0, body, n, e);
	if (rc == 0 && c.in_tool)
		oai_c_block_stop(&c, 0, e);
	jw_arr_end(&c.cw);
	if (rc == 0 && jw_finish(&c.cw, e) < 0)
		rc = err_set(e, ERR_OTHER, "tool calls too large");
	if (rc == 0)
		rc = oai_completion_write(&c, id ? id : "chatcmpl-0", model ? model : "", created,
					  out, e);
	if (rc < 0) {
		out->len = start;
		if (out->p)
			out->p[start] = '\0';
	}
	buf_free(&c.text);
	buf_free(&c.reasoning);
	buf_free(&c.calls);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Errors */

struct oai_err_map {
	const char *name; /* lower case, without the "Exception" suffix */
	int status;
	const char *type, *code;
};

static const struct oai_err_map oai_err_table[] = {
	{"validation", 400, "invalid_request_error", NULL},
	{"resourcenotfound", 404, "invalid_request_error", "model_not_found"},
	{"accessdenied", 403, "permission_error", "upstream_access_denied"},
	{"throttling", 429, "rate_limit_error", "rate_limit_exceeded"},
	{"servicequotaexceeded", 429, "rate_limit_error", "rate_limit_exceeded"},
	{"toomanyrequests", 429, "rate_limit_error", "rate_limit_exceeded"},
	{"serviceunavailable", 503, "server_error", "service_unavailable"},
	{"modelnotready", 503, "server_error", "model_not_ready"},
	{"modeltimeout", 504, "server_error", "upstream_timeout"},
	{"modelstreamerror", 502, "server_error", "upstream_error"},
	{"modelerror", 502, "server_error", "upstream_error"},
	{"internalserver", 502, "server_error", "upstream_error"},
};

/* The error type at the start of "<type>: message" (stream exceptions and
 * aws_call's messages), lowered, without a "...#" namespace and the
 * "Exception" suffix. */
static void oai_err_name(const char *type, char *out, size_t cap)
{
	const char *hash;
	size_t n = 0, k;

	out[0] = '\0';
	if (!type)
		return;
	hash = strchr(type, '#');
	if (hash && (size_t)(hash - type) < strcspn(type, ": "))
		type = hash + 1;
	while (type[n] && type[n] != ':' && type[n] != ' ' && n + 1 < cap) {
		char ch = type[n];

		out[n++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	out[n] = '\0';
	k = sizeof "exception" - 1;
	if (n > k && memcmp(out + n - k, "exception", k) == 0)
		out[n - k] = '\0';
}

void oai_error_classify(const struct err *e, int upstream_status, const char *upstream_type,
			struct oai_error *out)
{
	int cls = e ? e->cls : ERR_OTHER;
	char name[96];
	size_t i;

	out->status = 500;
	out->type = "server_error";
	out->code = NULL;
	switch (cls) {
	case ERR_USAGE:
		out->status = 400;
		out->type = "invalid_request_error";
		return;
	case ERR_CREDS: /* the gateway's AWS credentials, not the client's key */
		out->status = 502;
		out->code = "upstream_auth_error";
		return;
	case ERR_NET:
		if (e && strstr(e->msg, "timed out")) {
			out->status = 504;
			out->code = "upstream_timeout";
			return;
		}
		out->status = 502;
		out->code = "upstream_unreachable";
		return;
	case ERR_PROTO:
		out->status = 502;
		out->code = "upstream_protocol_error";
		return;
	case ERR_SERVICE:
		break;
	default:
		return;
	}
	oai_err_name(upstream_type && upstream_type[0] ? upstream_type : e->msg, name, sizeof name);
	for (i = 0; i < sizeof oai_err_table / sizeof oai_err_table[0]; i++) {
		if (strcmp(name, oai_err_table[i].name) == 0) {
			out->status = oai_err_table[i].status;
			out->type = oai_err_table[i].type;
			out->code = oai_err_table[i].code;
			return;
		}
	}
	out->status = 502;
	out->code = "upstream_error";
	if (upstream_status == 400 || upstream_status == 404 || upstream_status == 413 ||
	    upstream_status == 429) {
		out->status = upstream_status;
		out->type = upstream_status == 429 ? "rate_limit_error" : "invalid_request_error";
		out->code = upstream_status == 429 ? "rate_limit_exceeded" : NULL;
	}
}

/* A JSON string from text that may hold invalid UTF-8 (error messages carry
 * bytes from the upstream): bad bytes become '?'. */
static void oai_str_lossy(struct jw *w, const char *s)
{
	size_t n = strlen(s), bad;

	jw_str_begin(w);
	while (n) {
		if (json_utf8_valid(s, n, &bad)) {
			jw_str_piece(w, s, n);
			break;
		}
		jw_str_piece(w, s, bad);
		jw_str_piece(w, "?", 1);
		s += bad + 1;
		n -= bad + 1;
	}
	jw_str_end(w);
}

int oai_error_body(struct buf *out, const char *message, const char *type, const char *param,
		   const char *code)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "error");
	jw_obj_begin(&w);
	jw_key(&w, "message");
	oai_str_lossy(&w, message ? message : "");
	jw_kstr(&w, "type", type ? type : "server_error");
	jw_key(&w, "param");
	if (param && param[0])
		oai_str_lossy(&w, param);
	else
		jw_null(&w);
	jw_kstr(&w, "code", code);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}
