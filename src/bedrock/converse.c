/* converse: stream events, Converse answers, the call (request bodies are
 * in converse_body.c, the text-delta fast path in converse_fast.c). */
#include "bedrock/converse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "aws/aws.h"
#include "bedrock/converse_fast.h"
#include "wire/url.h"

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
		if (conv_fast_slice_is(et, known[i].name, known[i].n))
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

		if (!got_mt && conv_fast_slice_is(h.name, ":message-type", 13))
			got_mt = 1, dst = mt;
		else if (!got_et && conv_fast_slice_is(h.name, ":event-type", 11))
			got_et = 1, dst = et;
		else
			continue;
		if (h.type == EVS_STRING || h.type == EVS_BYTES)
			*dst = h.v;
	}
}

int conv_stream_message(struct conv_stream *s, const struct evs_msg *m, struct err *e)
{
	struct slice mt, et;
	struct json_doc d;
	int kind, r;

	s->events++;
	conv_headers(m, &mt, &et);
	if (conv_fast_slice_is(mt, "event", 5)) {
		kind = conv_event_kind(et);
		if (kind == CONV_EV_UNKNOWN)
			return 0;
	} else if (conv_fast_slice_is(mt, "exception", 9)) {
		return conv_on_exception(s, m, e);
	} else if (conv_fast_slice_is(mt, "error", 5)) {
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

const char *conv_arn_region(const char *id, char *out, size_t n)
{
	const char *p = id, *q;
	int i;

	if (strncmp(id, "arn:", 4) != 0)
		return NULL;
	for (i = 0; i < 3 && p; i++) {
		p = strchr(p, ':');
		p = p ? p + 1 : NULL;
	}
	q = p ? strchr(p, ':') : NULL;
	if (!q || q == p || (size_t)(q - p) >= n)
		return NULL;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return out;
}

int conv_request(const struct conv_call *c, struct aws_request *rq, struct buf *path,
		 char arn_region[CONV_REGION_MAX], struct err *e)
{
	buf_init(path, 16384);
	if (buf_append_str(path, "/model") < 0 ||
	    url_path_append_segment(path, slice_str(c->model_id)) < 0 ||
	    buf_append_str(path, c->operation ? "/" : "") < 0 ||
	    buf_append_str(path, c->operation ? c->operation
			   : c->stream    ? "/converse-stream"
					  : "/converse") < 0) {
		buf_free(path);
		return err_set(e, ERR_USAGE, "model id too long");
	}
	memset(rq, 0, sizeof *rq);
	rq->svc = AWS_SVC_RUNTIME;
	rq->auth = AWS_AUTH_SIGV4;
	rq->method = "POST";
	rq->path = (const char *)path->p;
	rq->content_type = "application/json";
	rq->accept = c->stream ? "application/vnd.amazon.eventstream" : "application/json";
	rq->body = c->body;
	rq->body_len = c->body_len;
	rq->max_body = c->max_answer;
	rq->region = conv_arn_region(c->model_id, arn_region, CONV_REGION_MAX);
	return 0;
}

int conv_call(struct aws *a, const struct aws_creds *creds, const struct conv_call *c,
	      struct aws_response *r, struct err *e)
{
	char arn_region[CONV_REGION_MAX];
	struct conv_run cr;
	struct aws_request rq;
	struct buf path;
	int rc;

	aws_response_init(r);
	memset(&cr, 0, sizeof cr);
	cr.a = a;
	cr.c = c;
	cr.t0 = c->t0_ms ? c->t0_ms : clock_ms();
	if (conv_request(c, &rq, &path, arn_region, e) < 0)
		return -1;
	buf_init(&cr.other, CONV_OTHER_MAX);
	if (c->stream) {
		rq.on_headers = conv_on_headers;
		rq.on_body = conv_on_body;
		rq.user = &cr;
	}
	rc = aws_call(a, creds, &rq, r, e);
	if (rc == 0 && c->stream && !cr.is_stream)
		rc = conv_other_answer(&cr, r, e);
	else if (rc == 0 && c->stream)
		rc = conv_stream_finish(c->cs, e);
	buf_free(&cr.other);
	buf_free(&path);
	return rc;
}
