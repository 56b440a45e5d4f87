/* converse: Converse request bodies, stream events, Converse answers. */
#include "bedrock/converse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "aws/aws.h"
#include "base/base64.h"
#include "wire/url.h"

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
	if (rq->thinking > 0 && !conv_model_is_anthropic(rq->model_id) &&
	    strncmp(rq->model_id ? rq->model_id : "", "arn:", 4) != 0)
		return err_set(e, ERR_USAGE,
			       "--thinking is sent as Anthropic's extended-thinking field; "
			       "'%.200s' is not an Anthropic model",
			       rq->model_id ? rq->model_id : "");
	/* Anthropic rejects budgets under 1024 and a maxTokens that does not
	 * leave room for the answer after the thinking */
	if (rq->thinking > 0 && rq->thinking < CONV_THINKING_MIN)
		return err_set(e, ERR_USAGE, "--thinking needs a budget of at least %d tokens",
			       CONV_THINKING_MIN);
	if (rq->thinking > 0 && rq->max_tokens > 0 && rq->max_tokens <= rq->thinking)
		return err_set(e, ERR_USAGE,
			       "--max-tokens (%lld) must be greater than the --thinking budget (%lld)",
			       rq->max_tokens, rq->thinking);
	return 0;
}

int conv_build_body(const struct conv_request *rq, struct buf *out, struct err *e)
{
	struct jw w;
	size_t i;
	long long max_tokens = rq->max_tokens;

	if (conv_check_request(rq, e) < 0)
		return -1;
	if (rq->thinking > 0 && max_tokens == 0)
		max_tokens = rq->thinking + CONV_THINKING_ANSWER;
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "messages");
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_kstr(&w, "role", "user");
	jw_key(&w, "content");
	jw_arr_begin(&w);
	/* attachments first: the models read them before the question */
	for (i = 0; i < rq->natt; i++)
		conv_attachment_block(&w, &rq->att[i]);
	if (rq->text_len) {
		jw_obj_begin(&w);
		jw_key(&w, "text");
		jw_str_begin(&w);
		jw_str_piece(&w, rq->text, rq->text_len);
		jw_str_end(&w);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_arr_end(&w);
	if (rq->system) {
		jw_key(&w, "system");
		jw_arr_begin(&w);
		jw_obj_begin(&w);
		jw_kstr(&w, "text", rq->system);
		jw_obj_end(&w);
		jw_arr_end(&w);
	}
	if (max_tokens > 0 || rq->has_temperature || rq->has_top_p || rq->nstop) {
		jw_key(&w, "inferenceConfig");
		jw_obj_begin(&w);
		if (max_tokens > 0)
			jw_kint(&w, "maxTokens", max_tokens);
		if (rq->has_temperature) {
			jw_key(&w, "temperature");
			jw_double(&w, rq->temperature);
		}
		if (rq->has_top_p) {
			jw_key(&w, "topP");
			jw_double(&w, rq->top_p);
		}
		if (rq->nstop) {
			jw_key(&w, "stopSequences");
			jw_arr_begin(&w);
			for (i = 0; i < rq->nstop; i++)
				jw_str(&w, rq->stop[i]);
			jw_arr_end(&w);
		}
		jw_obj_end(&w);
	}
	if (rq->thinking > 0) {
		jw_key(&w, "additionalModelRequestFields");
		jw_obj_begin(&w);
		jw_key(&w, "thinking");
		jw_obj_begin(&w);
		jw_kstr(&w, "type", "enabled");
		jw_kint(&w, "budget_tokens", rq->thinking);
		jw_obj_end(&w);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	if (jw_finish(&w, e) < 0) {
		if (w.error == JW_E_NOMEM)
			return err_set(e, ERR_USAGE, "request body larger than %zu bytes", out->max);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Stream */

void conv_stream_init(struct conv_stream *s, const struct conv_handler *h, int json_mode)
{
	memset(s, 0, sizeof *s);
	if (h)
		s->h = *h;
	s->json_mode = json_mode;
#ifdef CONV_BENCH_NO_FAST
	s->no_fast = 1; /* bench/chat_cpu.py builds a brock without the fast path */
#endif
	evs_init(&s->dec, 0);
	buf_init(&s->scratch, EVS_MAX_MESSAGE);
	buf_init(&s->scratch2, 2u * EVS_MAX_MESSAGE + 1);
	buf_init(&s->line, 2u * EVS_MAX_MESSAGE);
}

void conv_stream_free(struct conv_stream *s)
{
	evs_free(&s->dec);
	free(s->tok);
	s->tok = NULL;
	s->tok_cap = 0;
	buf_free(&s->scratch);
	buf_free(&s->scratch2);
	buf_free(&s->line);
}

static int conv_grow_tokens(struct json_tok **tok, int *cap, int need, struct err *e)
{
	struct json_tok *t;

	if (need <= *cap)
		return 0;
	if (need > CONV_MAX_TOKENS)
		return err_set(e, ERR_PROTO, "event payload has too many JSON tokens (%d)", need);
	t = realloc(*tok, (size_t)need * sizeof *t);
	if (!t)
		return err_set(e, ERR_OTHER, "out of memory");
	*tok = t;
	*cap = need;
	return 0;
}

/* Parses a payload into the stream's growing token array. */
static int conv_parse(struct json_tok **tok, int *cap, struct json_doc *d, const uint8_t *p,
		      size_t n, struct err *e)
{
	int need = 0;

	if (n == 0) {
		p = (const uint8_t *)"{}";
		n = 2;
	}
	if (*cap < 64 && conv_grow_tokens(tok, cap, 64, e) < 0)
		return -1;
	if (json_parse(d, (const char *)p, n, *tok, *cap, e) == 0)
		return 0;
	if (json_validate((const char *)p, n, &need, NULL, e) < 0)
		return -1;
	if (conv_grow_tokens(tok, cap, need, e) < 0)
		return -1;
	return json_parse(d, (const char *)p, n, *tok, *cap, e);
}

static int conv_str(struct json_doc *d, int t, struct buf *scratch, struct slice *out,
		    struct err *e)
{
	out->p = (const uint8_t *)"";
	out->n = 0;
	if (t < 0)
		return 0;
	if (json_type(d, t) != JSON_STRING)
		return err_set(e, ERR_PROTO, "event payload: expected a string");
	return json_str(d, t, scratch, out, e);
}

static int conv_int(const struct json_doc *d, int t, int64_t *out)
{
	struct err e;
	double v;

	if (t < 0)
		return 0;
	if (json_int64(d, t, out, &e) == 0)
		return 1;
	if (json_double(d, t, &v, &e) == 0 && v >= -9.2e18 && v <= 9.2e18) {
		*out = (int64_t)v;
		return 1;
	}
	return 0;
}

static int conv_index(const struct json_doc *d)
{
	int64_t v = 0;

	if (conv_int(d, json_get(d, 0, "contentBlockIndex"), &v) && v >= 0 && v <= 1000000)
		return (int)v;
	return 0;
}

static void conv_read_usage(const struct json_doc *d, int usage, int metrics,
			    struct conv_usage *u)
{
	if (usage >= 0) {
		u->has_usage = 1;
		conv_int(d, json_get(d, usage, "inputTokens"), &u->input_tokens);
		conv_int(d, json_get(d, usage, "outputTokens"), &u->output_tokens);
		conv_int(d, json_get(d, usage, "cacheReadInputTokens"), &u->cache_read);
		conv_int(d, json_get(d, usage, "cacheWriteInputTokens"), &u->cache_write);
	}
	if (metrics >= 0 && conv_int(d, json_get(d, metrics, "latencyMs"), &u->latency_ms))
		u->has_latency = 1;
}

/* Appends the compact form of p to out (p is valid JSON). */
int conv_json_compact(struct buf *out, const uint8_t *p, size_t n)
{
	size_t i, run = 0;
	int in_str = 0, esc = 0;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (buf_append(out, p + run, i - run) < 0)
				return -1;
			run = i + 1;
		}
	}
	return buf_append(out, p + run, n - run);
}

/* JSON mode: {"<name>": <payload without "p">} and a newline. */
static int conv_emit_json(struct conv_stream *s, struct slice name, struct json_doc *d,
			  struct err *e)
{
	struct jw w;
	struct slice line;

	if (!s->json_mode || !s->h.json_line)
		return 0;
	buf_reset(&s->line);
	jw_init(&w, &s->line);
	jw_obj_begin(&w);
	jw_keyn(&w, (const char *)name.p, name.n);
	if (json_type(d, 0) == JSON_OBJECT) {
		int k;

		jw_obj_begin(&w);
		for (k = json_child(d, 0); k >= 0; k = json_next(d, k)) {
			struct slice key;

			if (json_str_eq(d, k, "p"))
				continue; /* padding, never content */
			if (json_str(d, k, &s->scratch2, &key, e) < 0)
				return -1;
			jw_keyn(&w, (const char *)key.p, key.n);
			jw_tok(&w, d, k + 1);
		}
		jw_obj_end(&w);
	} else {
		jw_tok(&w, d, 0);
	}
	jw_obj_end(&w);
	if (jw_finish(&w, e) < 0)
		return err_set(e, ERR_PROTO, "event stream: cannot re-emit event as JSON");
	/* one compact line whatever whitespace the service put in payloads */
	buf_reset(&s->scratch2);
	if (conv_json_compact(&s->scratch2, s->line.p, s->line.len) < 0 ||
	    buf_append_byte(&s->scratch2, '\n') < 0)
		return err_set(e, ERR_OTHER, "out of memory");
	line = buf_slice(&s->scratch2);
	return s->h.json_line(s->h.user, line, e);
}

static int conv_on_delta(struct conv_stream *s, struct json_doc *d, struct err *e)
{
	const struct conv_handler *h = &s->h;
	int idx = conv_index(d), delta = json_get(d, 0, "delta"), t, r;
	struct slice v;

	if ((t = json_get(d, delta, "text")) >= 0) {
		if (conv_str(d, t, &s->scratch, &v, e) < 0)
			return -1;
		return h->text && v.n ? h->text(h->user, idx, v, e) : 0;
	}
	if ((t = json_get(d, delta, "toolUse")) >= 0) {
		if (conv_str(d, json_get(d, t, "input"), &s->scratch, &v, e) < 0)
			return -1;
		return h->tool_input && v.n ? h->tool_input(h->user, idx, v, e) : 0;
	}
	if ((r = json_get(d, delta, "reasoningContent")) >= 0) {
		if ((t = json_get(d, r, "text")) >= 0) {
			if (conv_str(d, t, &s->scratch, &v, e) < 0)
				return -1;
			if (h->reasoning_text && v.n && h->reasoning_text(h->user, idx, v, e) < 0)
				return -1;
		}
		if ((t = json_get(d, r, "signature")) >= 0) {
			if (conv_str(d, t, &s->scratch, &v, e) < 0)
				return -1;
			if (h->reasoning_signature && h->reasoning_signature(h->user, idx, v, e) < 0)
				return -1;
		}
		if ((t = json_get(d, r, "redactedContent")) >= 0) {
			if (conv_str(d, t, &s->scratch, &v, e) < 0)
				return -1;
			if (h->reasoning_redacted && h->reasoning_redacted(h->user, idx, v, e) < 0)
				return -1;
		}
	}
	return 0; /* a delta kind we do not know: ignored */
}

/* The fast path's helpers run several times per event: inlined even in the
 * -Os build, where a call costs more than their bodies. */
#define CONV_HOT static inline __attribute__((always_inline))

/* p[0..n) == lit[0..n), eight then four bytes at a time (the library memcmp
 * goes byte by byte). */
CONV_HOT int conv_eq(const uint8_t *p, const char *lit, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;

	for (; n >= 8; p += 8, lit += 8, n -= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, lit, 8);
		if (a != b)
			return 0;
	}
	if (n >= 4) {
		memcpy(&c, p, 4);
		memcpy(&d, lit, 4);
		if (c != d)
			return 0;
		p += 4;
		lit += 4;
		n -= 4;
	}
	while (n--)
		if (*p++ != (uint8_t)*lit++)
			return 0;
	return 1;
}

CONV_HOT int conv_slice_is(struct slice s, const char *lit, size_t n)
{
	return s.n == n && conv_eq(s.p, lit, n);
}

/* The event types we act on; anything else is from the future and ignored. */
enum conv_event {
	CONV_EV_UNKNOWN,
	CONV_EV_MESSAGE_START,
	CONV_EV_BLOCK_START,
	CONV_EV_BLOCK_DELTA,
	CONV_EV_BLOCK_STOP,
	CONV_EV_MESSAGE_STOP,
	CONV_EV_METADATA
};

static int conv_event_kind(struct slice et)
{
	static const struct {
		const char *name;
		size_t n;
		int kind;
	} known[] = {
		{"contentBlockDelta", 17, CONV_EV_BLOCK_DELTA}, /* the common one first */
		{"messageStart", 12, CONV_EV_MESSAGE_START},
		{"contentBlockStart", 17, CONV_EV_BLOCK_START},
		{"contentBlockStop", 16, CONV_EV_BLOCK_STOP},
		{"messageStop", 11, CONV_EV_MESSAGE_STOP},
		{"metadata", 8, CONV_EV_METADATA},
	};
	size_t i;

	for (i = 0; i < sizeof known / sizeof known[0]; i++)
		if (conv_slice_is(et, known[i].name, known[i].n))
			return known[i].kind;
	return CONV_EV_UNKNOWN;
}

static int conv_on_event(struct conv_stream *s, int kind, struct json_doc *d, struct err *e)
{
	const struct conv_handler *h = &s->h;
	struct slice v, v2;
	int t;

	switch (kind) {
	case CONV_EV_BLOCK_DELTA:
		return conv_on_delta(s, d, e);
	case CONV_EV_MESSAGE_START:
		s->got_start = 1;
		if (conv_str(d, json_get(d, 0, "role"), &s->scratch, &v, e) < 0)
			return -1;
		return h->message_start ? h->message_start(h->user, v, e) : 0;
	case CONV_EV_BLOCK_START:
		t = json_path(d, 0, "start.toolUse");
		if (t < 0)
			return 0;
		if (conv_str(d, json_get(d, t, "toolUseId"), &s->scratch, &v, e) < 0 ||
		    conv_str(d, json_get(d, t, "name"), &s->scratch2, &v2, e) < 0)
			return -1;
		return h->tool_start ? h->tool_start(h->user, conv_index(d), v, v2, e) : 0;
	case CONV_EV_BLOCK_STOP:
		return h->block_stop ? h->block_stop(h->user, conv_index(d), e) : 0;
	case CONV_EV_MESSAGE_STOP: {
		size_t k;

		s->got_stop = 1;
		if (conv_str(d, json_get(d, 0, "stopReason"), &s->scratch, &v, e) < 0)
			return -1;
		k = v.n < sizeof s->stop_reason - 1 ? v.n : sizeof s->stop_reason - 1;
		memcpy(s->stop_reason, v.p, k);
		s->stop_reason[k] = '\0';
		return h->message_stop ? h->message_stop(h->user, v, e) : 0;
	}
	case CONV_EV_METADATA:
		s->got_metadata = 1;
		conv_read_usage(d, json_get(d, 0, "usage"), json_get(d, 0, "metrics"), &s->usage);
		return h->metadata ? h->metadata(h->user, &s->usage, e) : 0;
	default:
		return 0; /* an event type from the future: ignored */
	}
}

/* One line of a header value for messages: printable, bounded. */
static void conv_clean(char *dst, size_t cap, struct slice v)
{
	size_t i, o = 0;

	for (i = 0; i < v.n && o + 1 < cap; i++)
		dst[o++] = v.p[i] < 0x20 || v.p[i] == 0x7f ? ' ' : (char)v.p[i];
	dst[o] = '\0';
}

static int conv_on_exception(struct conv_stream *s, const struct evs_msg *m, struct err *e)
{
	struct slice type = evs_msg_str(m, ":exception-type"), msg = {NULL, 0};
	struct json_doc d;
	char t[128], mm[400];

	if (!type.n)
		type = SLICE_LIT("exception");
	if (conv_parse(&s->tok, &s->tok_cap, &d, m->payload.p, m->payload.n, e) == 0) {
		int k = json_get(&d, 0, "message");

		if (k < 0)
			k = json_get(&d, 0, "Message");
		if (json_type(&d, k) == JSON_STRING && json_str(&d, k, &s->scratch, &msg, e) < 0)
			msg.n = 0;
		if (conv_emit_json(s, type, &d, e) < 0)
			return -1;
	} else if (m->payload.n) {
		msg = m->payload; /* not JSON: show what came */
	}
	conv_clean(t, sizeof t, type);
	conv_clean(mm, sizeof mm, msg);
	if (mm[0])
		return err_set(e, ERR_SERVICE, "%s: %s", t, mm);
	return err_set(e, ERR_SERVICE, "%s (in the stream)", t);
}

static int conv_on_error_frame(const struct evs_msg *m, struct err *e)
{
	char c[128], mm[400];

	conv_clean(c, sizeof c, evs_msg_str(m, ":error-code"));
	conv_clean(mm, sizeof mm, evs_msg_str(m, ":error-message"));
	if (!c[0])
		memcpy(c, "error", sizeof "error");
	if (mm[0])
		return err_set(e, ERR_SERVICE, "%s: %s", c, mm);
	return err_set(e, ERR_SERVICE, "%s (in the stream)", c);
}

/* The first :message-type and :event-type headers in one walk over the
 * header block (evs_msg_str semantics: the first header of a name counts;
 * one of another type than string / byte array reads as absent). */
static void conv_headers(const struct evs_msg *m, struct slice *mt, struct slice *et)
{
	struct evs_iter it;
	struct evs_header h;
	int got_mt = 0, got_et = 0;

	mt->p = et->p = NULL;
	mt->n = et->n = 0;
	evs_iter_init(&it, m->headers);
	while ((!got_mt || !got_et) && evs_iter_next(&it, &h) == 1) {
		struct slice *dst;

		if (!got_mt && conv_slice_is(h.name, ":message-type", 13))
			got_mt = 1, dst = mt;
		else if (!got_et && conv_slice_is(h.name, ":event-type", 11))
			got_et = 1, dst = et;
		else
			continue;
		if (h.type == EVS_STRING || h.type == EVS_BYTES)
			*dst = h.v;
	}
}

/* ---- the text-delta fast path ----
 * Nearly every event of a reply is a contentBlockDelta with a text piece:
 *     {"contentBlockIndex":N,"delta":{"text":"..."},"p":"..."}
 * Validating, tokenising and walking that costs thousands of instructions
 * per event for a few bytes of text. conv_fast_delta reads exactly this
 * shape in one pass (members in any order, "contentBlockIndex" and "p"
 * optional, JSON whitespace anywhere) with the validator's rules for the
 * strings, and gives up (returns 0, nothing done) on anything else: another
 * key, a key twice, an escaped key, an index that is not a small plain
 * integer, a "p" that is not a string, invalid JSON. The full path then runs
 * and decides, so the fast path only ever answers where the full path would
 * have given the same callbacks and the same JSON line (fuzz_converse checks
 * this differentially).
 * It earns its place end to end, not only in the decoder bench: `brock chat`
 * streaming 20,000 deltas spends 1.86 ms of CPU (user+sys) per 1,000 deltas
 * with it and 2.53 ms without (stdout to /dev/null; 2.70 vs 3.48 ms into a
 * pipe), 2.9 vs 8.5 million user-space instructions (callgrind): a quarter
 * of the process's CPU. bench/chat_cpu.py measures it again; the numbers
 * and the machine are in bench/RESULTS.md. */

/* 1 for the bytes a string cannot hold as is: '"', '\\', controls, non-ASCII. */
#define CONV_R1 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define CONV_R0 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const uint8_t conv_special[256] = {
	CONV_R1, CONV_R1,                                         /* 0x00-0x1f */
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,           /* 0x20: '"' */
	CONV_R0, CONV_R0,                                         /* 0x30-0x4f */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,           /* 0x50: '\\' */
	CONV_R0, CONV_R0,                                         /* 0x60-0x7f */
	CONV_R1, CONV_R1, CONV_R1, CONV_R1, CONV_R1, CONV_R1, CONV_R1, CONV_R1,
};

/* Whether any of the 8 bytes at p is special. When no byte has its high bit
 * set, x - 0x20.., (x ^ '"') - 0x01.. and (x ^ '\\') - 0x01.. set a high bit
 * exactly when some byte is below 0x20, a quote or a backslash (a borrow
 * starts only at such a byte); a high bit in x itself is special anyway. */
CONV_HOT int conv_special8(const uint8_t *p)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t x;

	memcpy(&x, p, 8);
	return ((x | (x - ones * 0x20) | ((x ^ (ones * '"')) - ones) |
		 ((x ^ (ones * '\\')) - ones)) & high) != 0;
}

static int conv_is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

CONV_HOT size_t conv_skip_ws(const uint8_t *p, size_t n, size_t i)
{
	if (i < n && p[i] > ' ')
		return i; /* the usual case: compact JSON */
	while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
		i++;
	return i;
}

/* The string whose opening quote is p[*pi], by json_validate's rules: 1 with
 * *pi just past the closing quote (*esc |= it has escapes), or 0. */
static int conv_fast_str(const uint8_t *p, size_t n, size_t *pi, int *esc)
{
	size_t i = *pi + 1, j;

	for (;;) {
		while (n - i >= 8 && !conv_special8(p + i))
			i += 8;
		while (i < n && !conv_special[p[i]])
			i++;
		if (i >= n)
			return 0;
		if (p[i] == '"') {
			*pi = i + 1;
			return 1;
		}
		if (p[i] == '\\') {
			if (i + 1 >= n)
				return 0;
			*esc = 1;
			switch (p[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u':
				if (n - i < 6 || !conv_is_hex(p[i + 2]) || !conv_is_hex(p[i + 3]) ||
				    !conv_is_hex(p[i + 4]) || !conv_is_hex(p[i + 5]))
					return 0;
				i += 6;
				continue;
			default:
				return 0;
			}
		}
		if (p[i] < 0x20)
			return 0;
		/* a UTF-8 sequence is made of bytes >= 0x80 only: checking the
		 * whole run at once is checking each sequence */
		for (j = i; j < n && p[j] >= 0x80; j++)
			;
		if (!json_utf8_valid(p + i, j - i, NULL))
			return 0;
		i = j;
	}
}

/* 1 when p[*pi] starts the key "name" (no escapes); *pi goes past it. */
CONV_HOT int conv_fast_key(const uint8_t *p, size_t n, size_t *pi, const char *name, size_t len)
{
	size_t i = *pi;

	if (n - i < len + 2 || p[i] != '"' || !conv_eq(p + i + 1, name, len) ||
	    p[i + 1 + len] != '"')
		return 0;
	*pi = i + len + 2;
	return 1;
}

struct conv_fast {
	size_t i0, i1; /* the index digits (i0 == i1: no index member) */
	size_t t0, t1; /* the text between its quotes */
	int idx, esc;
	int idx_first; /* the index member comes before "delta" (JSON mode order) */
};

/* {"text":"..."} at p[*pi] (whitespace allowed between the tokens). */
static int conv_fast_delta_obj(const uint8_t *p, size_t n, size_t *pi, struct conv_fast *f)
{
	size_t i = *pi;

	if (p[i] != '{')
		return 0;
	i = conv_skip_ws(p, n, i + 1);
	if (i >= n || !conv_fast_key(p, n, &i, "text", 4))
		return 0;
	i = conv_skip_ws(p, n, i);
	if (i >= n || p[i] != ':')
		return 0;
	i = conv_skip_ws(p, n, i + 1);
	if (i >= n || p[i] != '"')
		return 0;
	f->t0 = i + 1;
	if (!conv_fast_str(p, n, &i, &f->esc))
		return 0;
	f->t1 = i - 1;
	i = conv_skip_ws(p, n, i);
	if (i >= n || p[i] != '}')
		return 0;
	*pi = i + 1;
	return 1;
}

/* 0 or [1-9][0-9]* up to 1000000 (what conv_index takes as is). */
static int conv_fast_index(const uint8_t *p, size_t n, size_t *pi, struct conv_fast *f)
{
	size_t i = *pi;
	int v = 0;

	if (p[i] == '0') {
		i++;
	} else {
		while (i < n && p[i] >= '0' && p[i] <= '9' && i - *pi < 7)
			v = v * 10 + (p[i++] - '0');
	}
	if (i == *pi || v > 1000000)
		return 0;
	f->i0 = *pi;
	f->i1 = i;
	f->idx = v;
	*pi = i; /* a digit, '.', 'e' right after fails the ',' / '}' test */
	return 1;
}

/* Parses the payload; 1 when it has exactly the common shape. */
static int conv_fast_parse(const uint8_t *p, size_t n, struct conv_fast *f)
{
	size_t i = conv_skip_ws(p, n, 0);
	int seen_idx = 0, seen_delta = 0, seen_p = 0, esc = 0;

	f->i0 = f->i1 = 0;
	f->idx = f->esc = f->idx_first = 0;
	if (i >= n || p[i] != '{')
		return 0;
	for (;;) {
		i = conv_skip_ws(p, n, i + 1); /* past '{' or ',' */
		if (i >= n || p[i] != '"')
			return 0;
		if (!seen_idx && conv_fast_key(p, n, &i, "contentBlockIndex", 17)) {
			seen_idx = 1;
			f->idx_first = !seen_delta;
			i = conv_skip_ws(p, n, i);
			if (i >= n || p[i] != ':')
				return 0;
			i = conv_skip_ws(p, n, i + 1);
			if (i >= n || !conv_fast_index(p, n, &i, f))
				return 0;
		} else if (!seen_delta && conv_fast_key(p, n, &i, "delta", 5)) {
			seen_delta = 1;
			i = conv_skip_ws(p, n, i);
			if (i >= n || p[i] != ':')
				return 0;
			i = conv_skip_ws(p, n, i + 1);
			if (i >= n || !conv_fast_delta_obj(p, n, &i, f))
				return 0;
		} else if (!seen_p && conv_fast_key(p, n, &i, "p", 1)) {
			seen_p = 1;
			i = conv_skip_ws(p, n, i);
			if (i >= n || p[i] != ':')
				return 0;
			i = conv_skip_ws(p, n, i + 1);
			if (i >= n || p[i] != '"' || !conv_fast_str(p, n, &i, &esc))
				return 0;
		} else {
			return 0;
		}
		i = conv_skip_ws(p, n, i);
		if (i >= n)
			return 0;
		if (p[i] == '}')
			break;
		if (p[i] != ',')
			return 0;
	}
	return seen_delta && conv_skip_ws(p, n, i + 1) == n;
}

/* JSON mode: the line the full path writes for this payload. */
static int conv_fast_json(struct conv_stream *s, const uint8_t *p, const struct conv_fast *f,
			  struct err *e)
{
	struct buf *b = &s->scratch2;
	int bad = 0;

	buf_reset(b);
	bad |= buf_append_str(b, "{\"contentBlockDelta\":{");
	if (f->i1 > f->i0 && f->idx_first) {
		bad |= buf_append_str(b, "\"contentBlockIndex\":");
		bad |= buf_append(b, p + f->i0, f->i1 - f->i0);
		bad |= buf_append_byte(b, ',');
	}
	bad |= buf_append_str(b, "\"delta\":{\"text\":\"");
	bad |= buf_append(b, p + f->t0, f->t1 - f->t0);
	bad |= buf_append_str(b, "\"}");
	if (f->i1 > f->i0 && !f->idx_first) {
		bad |= buf_append_str(b, ",\"contentBlockIndex\":");
		bad |= buf_append(b, p + f->i0, f->i1 - f->i0);
	}
	bad |= buf_append_str(b, "}}\n");
	if (bad)
		return err_set(e, ERR_OTHER, "out of memory");
	return s->h.json_line(s->h.user, buf_slice(b), e);
}

/* 1 when the payload was handled here (r: its result), 0 to take the full path. */
static int conv_fast_delta(struct conv_stream *s, const uint8_t *p, size_t n, int *r,
			   struct err *e)
{
	const struct conv_handler *h = &s->h;
	struct conv_fast f;
	struct slice v;

	if (s->no_fast || n > JSON_MAX_LEN || !conv_fast_parse(p, n, &f))
		return 0;
	v.p = p + f.t0;
	v.n = f.t1 - f.t0;
	if (f.esc) {
		/* rare enough: the string alone through the real reader, so
		 * decoding (and refusing lone surrogates) is the same code */
		struct json_tok tk;
		struct json_doc d;
		struct err e2;

		if (json_parse(&d, (const char *)p + f.t0 - 1, v.n + 2, &tk, 1, &e2) < 0 ||
		    json_str(&d, 0, &s->scratch, &v, &e2) < 0)
			return 0;
	}
	/* the order of the full path: the JSON line, then the callback */
	*r = 0;
	if (s->json_mode && h->json_line && conv_fast_json(s, p, &f, e) < 0)
		*r = -1;
	if (*r == 0 && h->text && v.n)
		*r = h->text(h->user, f.idx, v, e);
	return 1;
}

int conv_stream_message(struct conv_stream *s, const struct evs_msg *m, struct err *e)
{
	struct slice mt, et;
	struct json_doc d;
	int kind, r;

	s->events++;
	conv_headers(m, &mt, &et);
	if (conv_slice_is(mt, "event", 5)) {
		kind = conv_event_kind(et);
		if (kind == CONV_EV_UNKNOWN)
			return 0;
	} else if (conv_slice_is(mt, "exception", 9)) {
		return conv_on_exception(s, m, e);
	} else if (conv_slice_is(mt, "error", 5)) {
		return conv_on_error_frame(m, e);
	} else {
		return 0; /* a message type from the future */
	}
	if (kind == CONV_EV_BLOCK_DELTA && conv_fast_delta(s, m->payload.p, m->payload.n, &r, e))
		return r;
	if (conv_parse(&s->tok, &s->tok_cap, &d, m->payload.p, m->payload.n, e) < 0)
		return err_wrap(e, "%.*s event", (int)(et.n > 64 ? 64 : et.n), (const char *)et.p);
	if (json_type(&d, 0) != JSON_OBJECT)
		return err_set(e, ERR_PROTO, "%.*s event: payload is not a JSON object",
			       (int)(et.n > 64 ? 64 : et.n), (const char *)et.p);
	if (conv_emit_json(s, et, &d, e) < 0)
		return -1;
	return conv_on_event(s, kind, &d, e);
}

int conv_stream_feed(struct conv_stream *s, const uint8_t *p, size_t n, struct err *e)
{
	while (n) {
		struct evs_msg m;
		size_t used = 0;
		int r = evs_feed(&s->dec, p, n, &used, &m);

		if (r < 0)
			return evs_err(e, r);
		p += used;
		n -= used;
		if (r == 1 && conv_stream_message(s, &m, e) < 0)
			return -1;
		if (r == 0)
			break;
	}
	return 0;
}

int conv_stream_finish(struct conv_stream *s, struct err *e)
{
	int r = evs_finish(&s->dec);

	if (r < 0)
		return evs_err(e, r);
	if (!s->got_stop)
		return err_set(e, ERR_NET, "the reply stream ended before messageStop "
			       "(connection closed early)");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Converse (non-stream) */

/* A 2xx answer may still be an AWS error object (SPEC 3.3):
 * {"__type" | "code" | "Code": "[namespace#]Type[:...]", "message" | "Message": "..."}.
 * -1 with ERR_SERVICE "Type: message" ("UnknownError" for an empty type)
 * when d is one; 0 when it names no type. Both the stream and the
 * non-stream call read error answers here. */
static int conv_error_object(struct json_doc *d, struct buf *s, struct err *e)
{
	static const char *const type_keys[] = {"__type", "code", "Code"};
	char t[128] = "", mm[400] = "";
	struct slice v;
	const uint8_t *c;
	size_t i;
	int k = -1;

	if (json_type(d, 0) != JSON_OBJECT)
		return 0;
	for (i = 0; i < sizeof type_keys / sizeof type_keys[0] && k < 0; i++)
		k = json_get(d, 0, type_keys[i]);
	if (json_type(d, k) != JSON_STRING || json_str(d, k, s, &v, e) < 0)
		return 0;
	if ((c = memchr(v.p, ':', v.n)) != NULL)
		v.n = (size_t)(c - v.p);
	while ((c = memchr(v.p, '#', v.n)) != NULL) {
		v.n -= (size_t)(c + 1 - v.p);
		v.p = c + 1;
	}
	conv_clean(t, sizeof t, v.n ? v : SLICE_LIT("UnknownError"));
	k = json_get(d, 0, "message");
	if (k < 0)
		k = json_get(d, 0, "Message");
	if (json_type(d, k) == JSON_STRING && json_str(d, k, s, &v, e) == 0)
		conv_clean(mm, sizeof mm, v);
	return err_set(e, ERR_SERVICE, "%s%s%s", t, mm[0] ? ": " : "", mm);
}

static int conv_response_block(const struct conv_handler *h, struct json_doc *d, int b, int idx,
			       struct buf *s1, struct buf *s2, struct err *e)
{
	struct slice v, v2;
	int t, r;

	if ((t = json_get(d, b, "text")) >= 0) {
		if (conv_str(d, t, s1, &v, e) < 0)
			return -1;
		if (h->text && v.n && h->text(h->user, idx, v, e) < 0)
			return -1;
	} else if ((r = json_get(d, b, "reasoningContent")) >= 0) {
		int rt = json_get(d, r, "reasoningText");

		if ((t = json_get(d, rt, "text")) >= 0) {
			if (conv_str(d, t, s1, &v, e) < 0)
				return -1;
			if (h->reasoning_text && v.n && h->reasoning_text(h->user, idx, v, e) < 0)
				return -1;
		}
		if ((t = json_get(d, rt, "signature")) >= 0) {
			if (conv_str(d, t, s1, &v, e) < 0)
				return -1;
			if (h->reasoning_signature && h->reasoning_signature(h->user, idx, v, e) < 0)
				return -1;
		}
		if ((t = json_get(d, r, "redactedContent")) >= 0) {
			if (conv_str(d, t, s1, &v, e) < 0)
				return -1;
			if (h->reasoning_redacted && h->reasoning_redacted(h->user, idx, v, e) < 0)
				return -1;
		}
	} else if ((t = json_get(d, b, "toolUse")) >= 0) {
		if (conv_str(d, json_get(d, t, "toolUseId"), s1, &v, e) < 0 ||
		    conv_str(d, json_get(d, t, "name"), s2, &v2, e) < 0)
			return -1;
		if (h->tool_start && h->tool_start(h->user, idx, v, v2, e) < 0)
			return -1;
		v = json_raw_value(d, json_get(d, t, "input"));
		buf_reset(s1);
		if (v.n && conv_json_compact(s1, v.p, v.n) < 0)
			return err_set(e, ERR_OTHER, "out of memory");
		if (h->tool_input && s1->len &&
		    h->tool_input(h->user, idx, buf_slice(s1), e) < 0)
			return -1;
	} else {
		return 0;
	}
	return h->block_stop ? h->block_stop(h->user, idx, e) : 0;
}

static int conv_response_walk(const struct conv_handler *h, int json_mode, struct json_doc *d,
			      const uint8_t *body, size_t n, struct buf *s1, struct buf *s2,
			      struct err *e)
{
	struct conv_usage u;
	struct slice v;
	int content, b, idx = 0;

	if (json_type(d, 0) != JSON_OBJECT)
		return err_set(e, ERR_PROTO, "Converse answer is not a JSON object");
	content = json_path(d, 0, "output.message.content");
	if (content < 0) {
		if (conv_error_object(d, s1, e) < 0)
			return -1;
		return err_set(e, ERR_PROTO, "Converse answer without output.message.content");
	}
	if (json_mode && h->json_line) {
		buf_reset(s1);
		if (conv_json_compact(s1, body, n) < 0 || buf_append_byte(s1, '\n') < 0)
			return err_set(e, ERR_OTHER, "out of memory");
		if (h->json_line(h->user, buf_slice(s1), e) < 0)
			return -1;
	}
	if (h->message_start && h->message_start(h->user, SLICE_LIT("assistant"), e) < 0)
		return -1;
	for (b = json_child(d, content); b >= 0; b = json_next(d, b), idx++)
		if (conv_response_block(h, d, b, idx, s1, s2, e) < 0)
			return -1;
	if (conv_str(d, json_get(d, 0, "stopReason"), s1, &v, e) < 0)
		return -1;
	if (h->message_stop && h->message_stop(h->user, v, e) < 0)
		return -1;
	memset(&u, 0, sizeof u);
	conv_read_usage(d, json_get(d, 0, "usage"), json_get(d, 0, "metrics"), &u);
	return h->metadata ? h->metadata(h->user, &u, e) : 0;
}

int conv_parse_response(const struct conv_handler *h, int json_mode, const uint8_t *body,
			size_t n, struct err *e)
{
	struct json_tok *tok = NULL;
	struct json_doc d;
	struct buf s1, s2;
	int cap = 0, rc;

	if (conv_parse(&tok, &cap, &d, body, n, e) < 0) {
		free(tok);
		return err_wrap(e, "Converse answer");
	}
	buf_init(&s1, n + 64);
	buf_init(&s2, n + 64);
	rc = conv_response_walk(h, json_mode, &d, body, n, &s1, &s2, e);
	buf_free(&s1);
	buf_free(&s2);
	free(tok);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* The call */

struct conv_run {
	const struct aws *a;
	const struct conv_call *c;
	int64_t t0; /* clock_ms() */
	int is_stream;    /* the 2xx body is an event stream */
	struct buf other; /* a 2xx body that is not */
	char ctype[128];
	int first_byte_logged;
};

static int conv_on_headers(void *user, const struct http_parser *p, struct err *e)
{
	struct conv_run *cr = user;
	struct slice ct;

	(void)e;
	cr->ctype[0] = '\0';
	if (http_header(p, "Content-Type", &ct)) {
		size_t k = ct.n < sizeof cr->ctype - 1 ? ct.n : sizeof cr->ctype - 1;

		memcpy(cr->ctype, ct.p, k);
		cr->ctype[k] = '\0';
	}
	cr->is_stream = slice_eq_nocase((struct slice){ct.p, ct.n < 34 ? ct.n : 34},
					"application/vnd.amazon.eventstream");
	buf_reset(&cr->other);
	if (cr->a->log)
		cr->a->log(cr->a->log_user, "HTTP %d %s after %ld ms", p->status, cr->ctype,
			   (long)(clock_ms() - cr->t0));
	return 0;
}

static int conv_on_body(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct conv_run *cr = user;

	if (cr->a->log && !cr->first_byte_logged) {
		cr->first_byte_logged = 1;
		cr->a->log(cr->a->log_user, "first body byte after %ld ms", (long)(clock_ms() - cr->t0));
	}
	if (!cr->is_stream) {
		if (buf_append(&cr->other, p, n) >= 0)
			return 0;
		if (cr->c->gateway)
			return err_set(e, ERR_PROTO, "unexpected %s answer from Bedrock",
				       cr->ctype[0] ? cr->ctype : "untyped");
		return err_set(e, ERR_PROTO, "unexpected %s answer larger than %u bytes",
			       cr->ctype[0] ? cr->ctype : "untyped", CONV_OTHER_MAX);
	}
	return conv_stream_feed(cr->c->cs, p, n, e);
}

/* A 2xx answer that is not an event stream: an error object, or garbage. */
static int conv_other_answer(const struct conv_run *cr, const struct aws_response *r,
			     struct err *e)
{
	const char *ct = cr->ctype[0] ? cr->ctype : "a body without Content-Type";
	char rid[160] = "";
	struct json_tok *tok = NULL;
	struct json_doc d;
	struct buf s;
	int cap = 0, rc = 0;

	/* the same reading as a Converse answer's, whatever the size; the
	 * caller may append the request id */
	buf_init(&s, cr->other.len + 64);
	if (cr->other.len && conv_parse(&tok, &cap, &d, cr->other.p, cr->other.len, e) == 0)
		rc = conv_error_object(&d, &s, e);
	buf_free(&s);
	free(tok);
	if (rc < 0)
		return -1;
	if (cr->c->gateway)
		return err_set(e, ERR_PROTO, "expected an event stream from Bedrock, got %s", ct);
	if (r->request_id[0])
		snprintf(rid, sizeof rid, " (request id %s)", r->request_id);
	return err_set(e, ERR_PROTO, "expected an event stream, got %s%s", ct, rid);
}

int conv_call(struct aws *a, const struct aws_creds *creds, const struct conv_call *c,
	      struct aws_response *r, struct err *e)
{
	struct conv_run cr;
	struct aws_request rq;
	struct buf path;
	int rc;

	aws_response_init(r);
	memset(&cr, 0, sizeof cr);
	cr.a = a;
	cr.c = c;
	cr.t0 = c->t0_ms ? c->t0_ms : clock_ms();
	buf_init(&path, 16384);
	if (buf_append_str(&path, "/model") < 0 ||
	    url_path_append_segment(&path, slice_str(c->model_id)) < 0 ||
	    buf_append_str(&path, c->stream ? "/converse-stream" : "/converse") < 0) {
		buf_free(&path);
		return err_set(e, ERR_USAGE, "model id too long");
	}
	buf_init(&cr.other, CONV_OTHER_MAX);
	memset(&rq, 0, sizeof rq);
	rq.svc = AWS_SVC_RUNTIME;
	rq.auth = AWS_AUTH_SIGV4;
	rq.method = "POST";
	rq.path = (const char *)path.p;
	rq.content_type = "application/json";
	rq.accept = c->stream ? "application/vnd.amazon.eventstream" : "application/json";
	rq.body = c->body;
	rq.body_len = c->body_len;
	if (c->stream) {
		rq.on_headers = conv_on_headers;
		rq.on_body = conv_on_body;
		rq.user = &cr;
	}
	rq.max_body = c->max_answer;
	rc = aws_call(a, creds, &rq, r, e);
	if (rc == 0 && c->stream && !cr.is_stream)
		rc = conv_other_answer(&cr, r, e);
	else if (rc == 0 && c->stream)
		rc = conv_stream_finish(c->cs, e);
	buf_free(&cr.other);
	buf_free(&path);
	return rc;
}
