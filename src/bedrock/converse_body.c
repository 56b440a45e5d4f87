/* converse_body: the Converse request body (converse.h: conv_build_body and
 * the attachment helpers). */
#include "bedrock/converse.h"

#include <stdio.h>
#include <string.h>

#include "base/base64.h"
#include "bedrock/known.h"

#define CONV_B64_PIECE 3072 /* attachment bytes base64-encoded per writer piece */

/* ------------------------------------------------------------------------ */
/* Attachments */

const char *conv_image_format(const uint8_t *p, size_t n)
{
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "png";
	if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return "jpeg";
	if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
		return "gif";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return "webp";
	return NULL;
}

static const uint8_t conv_ole_magic[8] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};

enum conv_magic { CONV_M_TEXT, CONV_M_PDF, CONV_M_ZIP, CONV_M_OLE, CONV_M_BINARY };

static int conv_magic(const uint8_t *p, size_t n)
{
	size_t i, lim = n < 8192 ? n : 8192;

	if (n >= 5 && memcmp(p, "%PDF-", 5) == 0)
		return CONV_M_PDF;
	if (n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0)
		return CONV_M_ZIP;
	if (n >= 8 && memcmp(p, conv_ole_magic, 8) == 0)
		return CONV_M_OLE;
	for (i = 0; i < lim; i++)
		if (p[i] == 0)
			return CONV_M_BINARY;
	return CONV_M_TEXT;
}

static int conv_ext_eq(const char *ext, const char *want)
{
	return slice_eq_nocase(slice_str(ext), want);
}

/* The extension of the base name of path ("" when none). */
static const char *conv_ext(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	return dot && dot != base ? dot + 1 : "";
}

int conv_document_format(const char *path, const uint8_t *p, size_t n, const char **format,
			 struct err *e)
{
	static const struct {
		const char *ext, *format;
		int magic;
	} map[] = {
		{"pdf", "pdf", CONV_M_PDF},    {"csv", "csv", CONV_M_TEXT},
		{"txt", "txt", CONV_M_TEXT},   {"text", "txt", CONV_M_TEXT},
		{"md", "md", CONV_M_TEXT},     {"markdown", "md", CONV_M_TEXT},
		{"html", "html", CONV_M_TEXT}, {"htm", "html", CONV_M_TEXT},
		{"doc", "doc", CONV_M_OLE},    {"docx", "docx", CONV_M_ZIP},
		{"xls", "xls", CONV_M_OLE},    {"xlsx", "xlsx", CONV_M_ZIP},
	};
	static const char *const magic_names[] = {"text", "a PDF", "a ZIP (Office Open XML) file",
						  "an OLE (legacy Office) file", "binary data"};
	const char *ext = conv_ext(path);
	int m = conv_magic(p, n);
	size_t i;

	*format = NULL;
	for (i = 0; i < sizeof map / sizeof map[0]; i++) {
		if (!conv_ext_eq(ext, map[i].ext))
			continue;
		if (m != map[i].magic)
			return err_set(e, ERR_USAGE, "%s: named .%s but the content is %s", path,
				       ext, magic_names[m]);
		*format = map[i].format;
		return 0;
	}
	if (m == CONV_M_PDF) {
		*format = "pdf";
		return 0;
	}
	if (ext[0] == '\0' && m == CONV_M_TEXT) {
		*format = "txt";
		return 0;
	}
	return err_set(e, ERR_USAGE,
		       "%s: unsupported document type (pdf, csv, txt, md, html, doc, docx, xls, xlsx)",
		       path);
}

static int conv_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '(' || c == ')' || c == '[' || c == ']';
}

void conv_document_name(const char *path, char out[CONV_NAME_MAX])
{
	const char *base = strrchr(path, '/'), *end;
	size_t o = 0;

	base = base ? base + 1 : path;
	end = strrchr(base, '.');
	if (!end || end == base)
		end = base + strlen(base);
	for (; base < end && o + 1 < CONV_NAME_MAX; base++) {
		uint8_t c = (uint8_t)*base;

		if (conv_name_char(c))
			out[o++] = (char)c;
		else if (o && out[o - 1] != ' ')
			out[o++] = ' '; /* anything else separates words, once */
	}
	while (o && out[o - 1] == ' ')
		o--;
	if (!o) {
		memcpy(out, "document", sizeof "document");
		return;
	}
	out[o] = '\0';
}

int conv_model_is_anthropic(const char *model_id)
{
	return model_id && strstr(model_id, "anthropic") != NULL;
}

/* ------------------------------------------------------------------------ */
/* Request body */

static int conv_utf8_check(const void *p, size_t n, const char *what, struct err *e)
{
	size_t bad = 0;

	if (!json_utf8_valid(p, n, &bad))
		return err_set(e, ERR_USAGE, "%s is not valid UTF-8 (byte %zu)", what, bad);
	return 0;
}

/* A base64 string value written in pieces straight into the body. */
static void conv_b64_value(struct jw *w, const uint8_t *p, size_t n)
{
	char enc[CONV_B64_PIECE / 3 * 4 + 1];

	jw_str_begin(w);
	while (n) {
		size_t k = n < CONV_B64_PIECE ? n : CONV_B64_PIECE;
		size_t m = base64_encode(enc, p, k);

		jw_str_piece(w, enc, m);
		p += k;
		n -= k;
	}
	jw_str_end(w);
}

static void conv_attachment_block(struct jw *w, const struct conv_attachment *a)
{
	jw_obj_begin(w);
	jw_key(w, a->kind == CONV_IMAGE ? "image" : "document");
	jw_obj_begin(w);
	jw_kstr(w, "format", a->format);
	if (a->kind == CONV_DOCUMENT)
		jw_kstr(w, "name", a->name);
	jw_key(w, "source");
	jw_obj_begin(w);
	jw_key(w, "bytes");
	conv_b64_value(w, a->data, a->n);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_obj_end(w);
}

static int conv_thinking_shape(const struct conv_request *rq)
{
	return rq->thinking_shape ? rq->thinking_shape : known_thinking(rq->model_id);
}

/* The budget sent for thinking (0: none). */
static long long conv_budget(const struct conv_request *rq)
{
	if (rq->thinking > 0)
		return rq->thinking;
	return known_budget_of_effort(rq->effort);
}

static int conv_check_features(const struct conv_request *rq, struct err *e)
{
	size_t i;

	if (rq->cache && known_caching(rq->model_id) == 0)
		return err_set(e, ERR_USAGE, "--cache: '%.200s' does not take prompt caching",
			       rq->model_id);
	if (rq->cache_ttl && strcmp(rq->cache_ttl, "5m") != 0 && strcmp(rq->cache_ttl, "1h") != 0)
		return err_set(e, ERR_USAGE, "--cache: expected 5m or 1h, got '%.40s'", rq->cache_ttl);
	for (i = 0; i < rq->nmeta; i++)
		if (conv_utf8_check(rq->meta_keys[i], strlen(rq->meta_keys[i]), "a --meta key", e) < 0 ||
		    conv_utf8_check(rq->meta_values[i], strlen(rq->meta_values[i]), "a --meta value",
				    e) < 0)
			return -1;
	if (rq->extra) {
		struct json_doc d;
		int ok;

		if (json_parse_alloc(&d, rq->extra, strlen(rq->extra), 4096, e) < 0)
			return err_set(e, ERR_USAGE, "--extra: not valid JSON");
		ok = json_type(&d, 0) == JSON_OBJECT;
		json_doc_free(&d);
		if (!ok)
			return err_set(e, ERR_USAGE, "--extra: expected a JSON object");
	}
	return 0;
}

static int conv_check_request(const struct conv_request *rq, struct err *e)
{
	size_t i;
	int has_doc = 0;

	if (conv_utf8_check(rq->text, rq->text_len, "the prompt", e) < 0)
		return -1;
	if (rq->system && conv_utf8_check(rq->system, strlen(rq->system), "the system prompt", e) < 0)
		return -1;
	for (i = 0; i < rq->nstop; i++)
		if (conv_utf8_check(rq->stop[i], strlen(rq->stop[i]), "a stop sequence", e) < 0)
			return -1;
	for (i = 0; i < rq->natt; i++) {
		const struct conv_attachment *a = &rq->att[i];

		if ((a->kind != CONV_IMAGE && a->kind != CONV_DOCUMENT) || !a->format)
			return err_set(e, ERR_OTHER, "converse: bad attachment");
		has_doc |= a->kind == CONV_DOCUMENT;
	}
	if (has_doc && rq->text_len == 0)
		return err_set(e, ERR_USAGE, "a document needs a prompt to go with it");
	if (rq->text_len == 0 && rq->natt == 0)
		return err_set(e, ERR_USAGE, "the prompt is empty");
	if (conv_check_features(rq, e) < 0)
		return -1;
	if ((rq->thinking > 0 || rq->effort) && conv_thinking_shape(rq) == KNOWN_THINK_NONE)
		return err_set(e, ERR_USAGE,
			       "--%s is sent as Anthropic's thinking field; "
			       "'%.200s' is not an Anthropic model that reasons",
			       rq->effort ? "effort" : "thinking", rq->model_id ? rq->model_id : "");
	if (rq->effort && !known_budget_of_effort(rq->effort))
		return err_set(e, ERR_USAGE, "--effort: expected low, medium or high, got '%.40s'",
			       rq->effort);
	if (conv_thinking_shape(rq) == KNOWN_THINK_ADAPTIVE)
		return 0; /* no budget: the rules below are for budgets */
	/* Anthropic rejects budgets under 1024 and a maxTokens that does not
	 * leave room for the answer after the thinking */
	if (rq->thinking > 0 && rq->thinking < CONV_THINKING_MIN)
		return err_set(e, ERR_USAGE, "--thinking needs a budget of at least %d tokens",
			       CONV_THINKING_MIN);
	if (conv_budget(rq) > 0 && rq->max_tokens > 0 && rq->max_tokens <= conv_budget(rq))
		return err_set(e, ERR_USAGE,
			       "--max-tokens (%lld) must be greater than the thinking budget (%lld)",
			       rq->max_tokens, conv_budget(rq));
	return 0;
}

static void conv_cache_point(struct jw *w, const struct conv_request *rq)
{
	jw_obj_begin(w);
	jw_key(w, "cachePoint");
	jw_obj_begin(w);
	jw_kstr(w, "type", "default");
	if (rq->cache_ttl && strcmp(rq->cache_ttl, "1h") == 0)
		jw_kstr(w, "ttl", "1h");
	jw_obj_end(w);
	jw_obj_end(w);
}

/* "messages": the one user turn, attachments first (the models read them
 * before the question). */
static void conv_user_message(struct jw *w, const struct conv_request *rq)
{
	size_t i;

	jw_key(w, "messages");
	jw_arr_begin(w);
	jw_obj_begin(w);
	jw_kstr(w, "role", "user");
	jw_key(w, "content");
	jw_arr_begin(w);
	for (i = 0; i < rq->natt; i++)
		conv_attachment_block(w, &rq->att[i]);
	if (rq->text_len) {
		jw_obj_begin(w);
		jw_key(w, "text");
		jw_str_begin(w);
		jw_str_piece(w, rq->text, rq->text_len);
		jw_str_end(w);
		jw_obj_end(w);
	}
	if (rq->cache)
		conv_cache_point(w, rq);
	jw_arr_end(w);
	jw_obj_end(w);
	jw_arr_end(w);
}

/* "inferenceConfig", when any of its fields is set. */
static void conv_inference_config(struct jw *w, const struct conv_request *rq,
				  long long max_tokens)
{
	size_t i;

	if (max_tokens <= 0 && !rq->has_temperature && !rq->has_top_p && !rq->nstop)
		return;
	jw_key(w, "inferenceConfig");
	jw_obj_begin(w);
	if (max_tokens > 0)
		jw_kint(w, "maxTokens", max_tokens);
	if (rq->has_temperature) {
		jw_key(w, "temperature");
		jw_double(w, rq->temperature);
	}
	if (rq->has_top_p) {
		jw_key(w, "topP");
		jw_double(w, rq->top_p);
	}
	if (rq->nstop) {
		jw_key(w, "stopSequences");
		jw_arr_begin(w);
		for (i = 0; i < rq->nstop; i++)
			jw_str(w, rq->stop[i]);
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

/* The thinking members of additionalModelRequestFields (SPEC 3.5). */
static void conv_thinking_fields(struct jw *w, const struct conv_request *rq)
{
	jw_key(w, "thinking");
	jw_obj_begin(w);
	if (conv_thinking_shape(rq) == KNOWN_THINK_ADAPTIVE) {
		jw_kstr(w, "type", "adaptive");
		jw_obj_end(w);
		jw_key(w, "output_config");
		jw_obj_begin(w);
		jw_kstr(w, "effort", rq->effort ? rq->effort : known_effort_of_budget(rq->thinking));
		jw_obj_end(w);
		return;
	}
	jw_kstr(w, "type", "enabled");
	jw_kint(w, "budget_tokens", conv_budget(rq));
	jw_obj_end(w);
}

/* additionalModelRequestFields: --extra's members, then the thinking fields
 * (which replace --extra's of the same name). */
static void conv_model_fields(struct jw *w, const struct conv_request *rq, int thinking)
{
	struct json_doc d;
	struct err e2;
	int k;

	jw_key(w, "additionalModelRequestFields");
	jw_obj_begin(w);
	if (rq->extra && json_parse_alloc(&d, rq->extra, strlen(rq->extra), 4096, &e2) == 0) {
		for (k = json_child(&d, 0); k >= 0; k = json_next(&d, k)) {
			char key[256];

			if (json_strz(&d, k, key, sizeof key, &e2) < 0)
				continue; /* a key too long for any model field */
			if (thinking && (strcmp(key, "thinking") == 0 || strcmp(key, "output_config") == 0))
				continue;
			jw_key(w, key);
			jw_tok(w, &d, k + 1); /* a key's value follows it */
		}
		json_doc_free(&d);
	}
	if (thinking)
		conv_thinking_fields(w, rq);
	jw_obj_end(w);
}

void conv_write_features(struct jw *w, const struct conv_request *rq)
{
	size_t i;

	if (rq->service_tier) {
		jw_key(w, "serviceTier");
		jw_obj_begin(w);
		jw_kstr(w, "type", rq->service_tier);
		jw_obj_end(w);
	}
	if (rq->latency) {
		jw_key(w, "performanceConfig");
		jw_obj_begin(w);
		jw_kstr(w, "latency", rq->latency);
		jw_obj_end(w);
	}
	if (rq->guardrail_id) {
		jw_key(w, "guardrailConfig");
		jw_obj_begin(w);
		jw_kstr(w, "guardrailIdentifier", rq->guardrail_id);
		jw_kstr(w, "guardrailVersion", rq->guardrail_version ? rq->guardrail_version : "DRAFT");
		if (rq->guardrail_trace)
			jw_kstr(w, "trace", "enabled");
		jw_obj_end(w);
	}
	if (rq->nmeta) {
		jw_key(w, "requestMetadata");
		jw_obj_begin(w);
		for (i = 0; i < rq->nmeta; i++)
			jw_kstr(w, rq->meta_keys[i], rq->meta_values[i]);
		jw_obj_end(w);
	}
}

int conv_build_body(const struct conv_request *rq, struct buf *out, struct err *e)
{
	struct jw w;
	long long max_tokens = rq->max_tokens;
	int thinking = rq->thinking > 0 || rq->effort;

	if (conv_check_request(rq, e) < 0)
		return -1;
	if (thinking && conv_thinking_shape(rq) != KNOWN_THINK_ADAPTIVE && max_tokens == 0)
		max_tokens = conv_budget(rq) + CONV_THINKING_ANSWER;
	jw_init(&w, out);
	jw_obj_begin(&w);
	conv_user_message(&w, rq);
	if (rq->system) {
		jw_key(&w, "system");
		jw_arr_begin(&w);
		jw_obj_begin(&w);
		jw_kstr(&w, "text", rq->system);
		jw_obj_end(&w);
		if (rq->cache)
			conv_cache_point(&w, rq);
		jw_arr_end(&w);
	}
	conv_inference_config(&w, rq, max_tokens);
	if (thinking || rq->extra)
		conv_model_fields(&w, rq, thinking);
	conv_write_features(&w, rq);
	jw_obj_end(&w);
	if (jw_finish(&w, e) < 0) {
		if (w.error == JW_E_NOMEM)
			return err_set(e, ERR_USAGE, "request body larger than %zu bytes", out->max);
		return -1;
	}
	return 0;
}
