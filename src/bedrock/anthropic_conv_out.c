/* anthropic_conv_out: Converse answers -> Anthropic events and message
 * objects, for models that are not Claude (see anthropic.h). */
#include "bedrock/anthropic.h"

#include <stdio.h>
#include <string.h>

#include "wire/json.h"

enum { OPEN_NONE, OPEN_TEXT, OPEN_THINKING, OPEN_TOOL, OPEN_REDACTED };

const char *anth_stop_reason(struct slice s)
{
	if (slice_eq_str(s, "tool_use") || slice_eq_str(s, "max_tokens") ||
	    slice_eq_str(s, "stop_sequence") || slice_eq_str(s, "model_context_window_exceeded"))
		return slice_eq_str(s, "tool_use")	  ? "tool_use"
		       : slice_eq_str(s, "max_tokens")	  ? "max_tokens"
		       : slice_eq_str(s, "stop_sequence") ? "stop_sequence"
							  : "model_context_window_exceeded";
	if (slice_eq_str(s, "guardrail_intervened") || slice_eq_str(s, "content_filtered"))
		return "refusal";
	return "end_turn";
}

void anth_conv_init(struct anth_conv *s, const char *id, const char *model, anth_write_fn write,
		    void *user)
{
	memset(s, 0, sizeof *s);
	snprintf(s->id, sizeof s->id, "%s", id);
	snprintf(s->model, sizeof s->model, "%s", model);
	s->write = write;
	s->user = user;
	s->open_idx = -1;
	buf_init(&s->out, EVS_MAX_MESSAGE + 4096);
}

void anth_conv_free(struct anth_conv *s)
{
	buf_free(&s->out);
}

int anth_conv_started(const struct anth_conv *s)
{
	return s->started;
}

/* Starts an event "event: <type>\ndata: " and its JSON object with "type". */
static void anth_ev_begin(struct anth_conv *s, struct jw *w, const char *type)
{
	buf_reset(&s->out);
	buf_appendf(&s->out, "event: %s\ndata: ", type);
	jw_init(w, &s->out);
	jw_obj_begin(w);
	jw_kstr(w, "type", type);
}

static int anth_ev_end(struct anth_conv *s, struct jw *w, struct err *e)
{
	jw_obj_end(w);
	if (jw_finish(w, e) < 0 || buf_append_str(&s->out, "\n\n") < 0)
		return err_set(e, ERR_OTHER, "event too large");
	return s->write(s->user, s->out.p, s->out.len, e);
}

static void anth_usage_obj(struct jw *w, const struct conv_usage *u, int64_t output)
{
	jw_key(w, "usage");
	jw_obj_begin(w);
	jw_kint(w, "input_tokens", u->input_tokens);
	jw_kint(w, "cache_creation_input_tokens", u->cache_write);
	jw_kint(w, "cache_read_input_tokens", u->cache_read);
	jw_kint(w, "output_tokens", output);
	jw_obj_end(w);
}

static int anth_start(struct anth_conv *s, struct err *e)
{
	struct jw w;

	if (s->started)
		return 0;
	s->started = 1;
	anth_ev_begin(s, &w, "message_start");
	jw_key(&w, "message");
	jw_obj_begin(&w);
	jw_kstr(&w, "id", s->id);
	jw_kstr(&w, "type", "message");
	jw_kstr(&w, "role", "assistant");
	jw_kstr(&w, "model", s->model);
	jw_key(&w, "content");
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_kstr(&w, "stop_reason", NULL);
	jw_kstr(&w, "stop_sequence", NULL);
	anth_usage_obj(&w, &s->usage, 0); /* Converse reports usage at the end only */
	jw_obj_end(&w);
	return anth_ev_end(s, &w, e);
}

static int anth_close(struct anth_conv *s, struct err *e)
{
	struct jw w;

	if (s->open_type == OPEN_NONE)
		return 0;
	s->open_type = OPEN_NONE;
	s->open_idx = -1;
	anth_ev_begin(s, &w, "content_block_stop");
	jw_kint(&w, "index", s->nblocks - 1);
	return anth_ev_end(s, &w, e);
}

/* Makes sure a block of type is open for Converse block idx; tool blocks
 * open in anth_h_tool_start. */
static int anth_ensure(struct anth_conv *s, int idx, int type, struct err *e)
{
	struct jw w;

	if (anth_start(s, e) < 0)
		return -1;
	if (s->open_type == type && s->open_idx == idx)
		return 0;
	if (anth_close(s, e) < 0)
		return -1;
	anth_ev_begin(s, &w, "content_block_start");
	jw_kint(&w, "index", s->nblocks++);
	jw_key(&w, "content_block");
	jw_obj_begin(&w);
	if (type == OPEN_TEXT) {
		jw_kstr(&w, "type", "text");
		jw_kstr(&w, "text", "");
	} else {
		jw_kstr(&w, "type", "thinking");
		jw_kstr(&w, "thinking", "");
		jw_kstr(&w, "signature", "");
	}
	jw_obj_end(&w);
	s->open_type = type;
	s->open_idx = idx;
	return anth_ev_end(s, &w, e);
}

static int anth_delta(struct anth_conv *s, const char *dtype, const char *key, struct slice v,
		      struct err *e)
{
	struct jw w;

	anth_ev_begin(s, &w, "content_block_delta");
	jw_kint(&w, "index", s->nblocks - 1);
	jw_key(&w, "delta");
	jw_obj_begin(&w);
	jw_kstr(&w, "type", dtype);
	jw_kstrn(&w, key, v.p, v.n);
	jw_obj_end(&w);
	return anth_ev_end(s, &w, e);
}

static int anth_h_start(void *u, struct slice role, struct err *e)
{
	(void)role;
	return anth_start(u, e);
}

static int anth_h_text(void *u, int index, struct slice t, struct err *e)
{
	if (anth_ensure(u, index, OPEN_TEXT, e) < 0)
		return -1;
	return anth_delta(u, "text_delta", "text", t, e);
}

static int anth_h_reasoning(void *u, int index, struct slice t, struct err *e)
{
	if (anth_ensure(u, index, OPEN_THINKING, e) < 0)
		return -1;
	return anth_delta(u, "thinking_delta", "thinking", t, e);
}

static int anth_h_signature(void *u, int index, struct slice t, struct err *e)
{
	if (anth_ensure(u, index, OPEN_THINKING, e) < 0)
		return -1;
	return anth_delta(u, "signature_delta", "signature", t, e);
}

static int anth_h_redacted(void *u, int index, struct slice data, struct err *e)
{
	struct anth_conv *s = u;
	struct jw w;

	(void)index;
	if (anth_start(s, e) < 0 || anth_close(s, e) < 0)
		return -1;
	anth_ev_begin(s, &w, "content_block_start");
	jw_kint(&w, "index", s->nblocks++);
	jw_key(&w, "content_block");
	jw_obj_begin(&w);
	jw_kstr(&w, "type", "redacted_thinking");
	jw_kstrn(&w, "data", data.p, data.n);
	jw_obj_end(&w);
	s->open_type = OPEN_REDACTED;
	s->open_idx = index;
	return anth_ev_end(s, &w, e);
}

static int anth_h_tool_start(void *u, int index, struct slice id, struct slice name,
			     struct err *e)
{
	struct anth_conv *s = u;
	struct jw w;

	if (anth_start(s, e) < 0 || anth_close(s, e) < 0)
		return -1;
	anth_ev_begin(s, &w, "content_block_start");
	jw_kint(&w, "index", s->nblocks++);
	jw_key(&w, "content_block");
	jw_obj_begin(&w);
	jw_kstr(&w, "type", "tool_use");
	jw_kstrn(&w, "id", id.p, id.n);
	jw_kstrn(&w, "name", name.p, name.n);
	jw_key(&w, "input");
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	s->open_type = OPEN_TOOL;
	s->open_idx = index;
	return anth_ev_end(s, &w, e);
}

static int anth_h_tool_input(void *u, int index, struct slice frag, struct err *e)
{
	struct anth_conv *s = u;

	if (s->open_type != OPEN_TOOL || s->open_idx != index)
		return 0; /* input of a block that never started: nothing to attach it to */
	return anth_delta(s, "input_json_delta", "partial_json", frag, e);
}

static int anth_h_block_stop(void *u, int index, struct err *e)
{
	struct anth_conv *s = u;

	if (s->open_idx != index)
		return 0;
	return anth_close(s, e);
}

static int anth_h_stop(void *u, struct slice reason, struct err *e)
{
	struct anth_conv *s = u;

	(void)e;
	snprintf(s->stop_reason, sizeof s->stop_reason, "%s", anth_stop_reason(reason));
	return 0;
}

static int anth_h_metadata(void *u, const struct conv_usage *us, struct err *e)
{
	struct anth_conv *s = u;

	(void)e;
	s->usage = *us;
	return 0;
}

void anth_conv_handler(struct anth_conv *s, struct conv_handler *h)
{
	memset(h, 0, sizeof *h);
	h->user = s;
	h->message_start = anth_h_start;
	h->text = anth_h_text;
	h->reasoning_text = anth_h_reasoning;
	h->reasoning_signature = anth_h_signature;
	h->reasoning_redacted = anth_h_redacted;
	h->tool_start = anth_h_tool_start;
	h->tool_input = anth_h_tool_input;
	h->block_stop = anth_h_block_stop;
	h->message_stop = anth_h_stop;
	h->metadata = anth_h_metadata;
}

int anth_conv_end(struct anth_conv *s, struct err *e)
{
	struct jw w;

	if (s->ended)
		return 0;
	if (anth_start(s, e) < 0 || anth_close(s, e) < 0)
		return -1;
	anth_ev_begin(s, &w, "message_delta");
	jw_key(&w, "delta");
	jw_obj_begin(&w);
	jw_kstr(&w, "stop_reason", s->stop_reason[0] ? s->stop_reason : "end_turn");
	jw_kstr(&w, "stop_sequence", NULL);
	jw_obj_end(&w);
	anth_usage_obj(&w, &s->usage, s->usage.output_tokens);
	if (anth_ev_end(s, &w, e) < 0)
		return -1;
	s->ended = 1;
	anth_ev_begin(s, &w, "message_stop");
	return anth_ev_end(s, &w, e);
}

int anth_conv_fail(struct anth_conv *s, const struct err *failure, struct err *e)
{
	struct anth_error ae;

	if (s->ended)
		return 0;
	s->ended = 1;
	anth_error_classify(failure, 0, NULL, &ae);
	buf_reset(&s->out);
	if (anth_error_event(&s->out, ae.type,
			     failure && failure->msg[0] ? failure->msg : "stream failed") < 0)
		return err_set(e, ERR_OTHER, "out of memory");
	return s->write(s->user, s->out.p, s->out.len, e);
}

/* One Converse content block as an Anthropic block (unknown kinds skipped). */
static void anth_answer_block(struct jw *w, const struct json_doc *d, int b)
{
	int t = json_get(d, b, "text"), rc = json_get(d, b, "reasoningContent");
	int tu = json_get(d, b, "toolUse");

	if (json_type(d, t) == JSON_STRING) {
		jw_obj_begin(w);
		jw_kstr(w, "type", "text");
		jw_key(w, "text");
		jw_tok(w, d, t);
		jw_obj_end(w);
	} else if (json_type(d, json_get(d, rc, "redactedContent")) == JSON_STRING) {
		jw_obj_begin(w);
		jw_kstr(w, "type", "redacted_thinking");
		jw_key(w, "data");
		jw_tok(w, d, json_get(d, rc, "redactedContent"));
		jw_obj_end(w);
	} else if (json_type(d, json_path(d, rc, "reasoningText.text")) == JSON_STRING) {
		int sig = json_path(d, rc, "reasoningText.signature");

		jw_obj_begin(w);
		jw_kstr(w, "type", "thinking");
		jw_key(w, "thinking");
		jw_tok(w, d, json_path(d, rc, "reasoningText.text"));
		jw_key(w, "signature");
		if (json_type(d, sig) == JSON_STRING)
			jw_tok(w, d, sig);
		else
			jw_str(w, "");
		jw_obj_end(w);
	} else if (json_type(d, tu) == JSON_OBJECT &&
		   json_type(d, json_get(d, tu, "toolUseId")) == JSON_STRING &&
		   json_type(d, json_get(d, tu, "name")) == JSON_STRING) {
		int in = json_get(d, tu, "input");

		jw_obj_begin(w);
		jw_kstr(w, "type", "tool_use");
		jw_key(w, "id");
		jw_tok(w, d, json_get(d, tu, "toolUseId"));
		jw_key(w, "name");
		jw_tok(w, d, json_get(d, tu, "name"));
		jw_key(w, "input");
		if (json_type(d, in) == JSON_OBJECT)
			jw_tok(w, d, in);
		else {
			jw_obj_begin(w);
			jw_obj_end(w);
		}
		jw_obj_end(w);
	}
}

int anth_conv_message(const uint8_t *body, size_t n, const char *id, const char *model,
		      struct buf *out, struct err *e)
{
	struct conv_handler h;
	struct conv_usage u;
	struct json_doc d;
	struct slice sr = {NULL, 0};
	struct jw w;
	size_t len0 = out->len;
	int c, us;

	memset(&h, 0, sizeof h);
	if (conv_parse_response(&h, 0, body, n, e) < 0) /* error objects, malformed answers */
		return -1;
	if (json_parse_alloc(&d, (const char *)body, n, CONV_MAX_TOKENS, e) < 0)
		return -1;
	memset(&u, 0, sizeof u);
	us = json_get(&d, 0, "usage");
	(void)json_int64(&d, json_get(&d, us, "inputTokens"), &u.input_tokens, NULL);
	(void)json_int64(&d, json_get(&d, us, "outputTokens"), &u.output_tokens, NULL);
	(void)json_int64(&d, json_get(&d, us, "cacheReadInputTokens"), &u.cache_read, NULL);
	(void)json_int64(&d, json_get(&d, us, "cacheWriteInputTokens"), &u.cache_write, NULL);
	(void)json_str_view(&d, json_get(&d, 0, "stopReason"), &sr);
	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "id", id);
	jw_kstr(&w, "type", "message");
	jw_kstr(&w, "role", "assistant");
	jw_kstr(&w, "model", model);
	jw_key(&w, "content");
	jw_arr_begin(&w);
	c = json_path(&d, 0, "output.message.content");
	for (int b = json_child(&d, c); json_type(&d, c) == JSON_ARRAY && b >= 0;
	     b = json_next(&d, b))
		anth_answer_block(&w, &d, b);
	jw_arr_end(&w);
	jw_kstr(&w, "stop_reason", anth_stop_reason(sr));
	jw_kstr(&w, "stop_sequence", NULL);
	anth_usage_obj(&w, &u, u.output_tokens);
	jw_obj_end(&w);
	json_doc_free(&d);
	if (jw_finish(&w, e) < 0) {
		out->len = len0;
		return err_set(e, ERR_OTHER, "answer too large");
	}
	return 0;
}
