/* openai_out: Converse answers -> OpenAI answers (see openai.h): completion
 * ids and finish reasons, SSE chunks of a streamed answer, the
 * chat.completion object, error classification and error objects. */
#include "bedrock/openai.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "wire/json.h"

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
		out[n] = type[n];
		n++;
	}
	out[n] = '\0';
	str_lower(out, n);
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

int oai_error_body(struct buf *out, const char *message, const char *type, const char *param,
		   const char *code)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "error");
	jw_obj_begin(&w);
	jw_key(&w, "message");
	jw_str_lossy(&w, message ? message : "");
	jw_kstr(&w, "type", type ? type : "server_error");
	jw_key(&w, "param");
	if (param && param[0])
		jw_str_lossy(&w, param);
	else
		jw_null(&w);
	jw_kstr(&w, "code", code);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}
