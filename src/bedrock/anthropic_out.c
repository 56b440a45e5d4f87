/* anthropic_out: InvokeModelWithResponseStream `chunk` frames -> Anthropic
 * SSE events, usage, Anthropic error objects and the Anthropic-shaped model
 * list (see anthropic.h). */
#include "bedrock/anthropic.h"

#include <stdio.h>
#include <string.h>

#include "base/base64.h"
#include "base/timefmt.h"
#include "bedrock/converse.h"
#include "bedrock/openai.h"
#include "wire/json.h"

#define ANTH_SSE_MAX (EVS_MAX_MESSAGE + 256)

void anth_relay_init(struct anth_relay *r, anth_write_fn write, void *user)
{
	memset(r, 0, sizeof *r);
	r->write = write;
	r->user = user;
	evs_init(&r->dec, 0);
	buf_init(&r->json, EVS_MAX_MESSAGE);
	buf_init(&r->out, ANTH_SSE_MAX);
}

void anth_relay_free(struct anth_relay *r)
{
	evs_free(&r->dec);
	buf_free(&r->json);
	buf_free(&r->out);
}

static void anth_int(const struct json_doc *d, int obj, const char *key, int64_t *out)
{
	int64_t v;

	if (json_int64(d, json_get(d, obj, key), &v, NULL) == 0)
		*out = v;
}

static void anth_read_usage(const struct json_doc *d, int u, struct anth_usage *out)
{
	if (json_type(d, u) != JSON_OBJECT)
		return;
	anth_int(d, u, "input_tokens", &out->input_tokens);
	anth_int(d, u, "output_tokens", &out->output_tokens);
	anth_int(d, u, "cache_read_input_tokens", &out->cache_read);
	anth_int(d, u, "cache_creation_input_tokens", &out->cache_write);
}

/* The event type: a short name of [a-z_] (it goes on an SSE line as is). */
static int anth_event_type(const struct json_doc *d, struct slice *type)
{
	int t = json_get(d, 0, "type");

	if (json_type(d, 0) != JSON_OBJECT || json_str_view(d, t, type) != 0 || type->n == 0 ||
	    type->n > 64)
		return -1;
	for (size_t i = 0; i < type->n; i++)
		if (!((type->p[i] >= 'a' && type->p[i] <= 'z') || type->p[i] == '_'))
			return -1;
	return 0;
}

static void anth_note(struct anth_relay *r, const struct json_doc *d, struct slice type)
{
	struct slice sr;

	if (!r)
		return;
	if (slice_eq_str(type, "message_start")) {
		anth_read_usage(d, json_path(d, 0, "message.usage"), &r->usage);
	} else if (slice_eq_str(type, "message_delta")) {
		anth_read_usage(d, json_get(d, 0, "usage"), &r->usage);
		if (json_str_view(d, json_path(d, 0, "delta.stop_reason"), &sr) == 0 &&
		    sr.n < sizeof r->stop_reason) {
			memcpy(r->stop_reason, sr.p, sr.n);
			r->stop_reason[sr.n] = '\0';
		}
	} else if (slice_eq_str(type, "message_stop")) {
		r->stopped = 1;
	}
}

int anth_sse_event(struct anth_relay *r, const uint8_t *js, size_t n, struct buf *out,
		   struct err *e)
{
	struct json_doc d;
	struct slice type;
	size_t len0 = out->len;
	int rc = 0;

	if (json_parse_alloc(&d, (const char *)js, n, CONV_MAX_TOKENS, e) < 0) {
		char why[200];

		snprintf(why, sizeof why, "%.180s", e->msg);
		return err_set(e, ERR_PROTO, "malformed Anthropic event (%s)", why);
	}
	if (anth_event_type(&d, &type) < 0) {
		json_doc_free(&d);
		return err_set(e, ERR_PROTO, "Anthropic event without a valid \"type\"");
	}
	anth_note(r, &d, type);
	if (buf_append_str(out, "event: ") < 0 || buf_append(out, type.p, type.n) < 0 ||
	    buf_append_str(out, "\ndata: ") < 0 || conv_json_compact(out, js, n) < 0 ||
	    buf_append_str(out, "\n\n") < 0) {
		out->len = len0;
		rc = err_set(e, ERR_OTHER, "event too large");
	}
	json_doc_free(&d);
	return rc;
}

/* An exception/error frame -> ERR_SERVICE "<type>: <message>". */
static int anth_exception(const struct evs_msg *m, struct slice mt, struct err *e)
{
	struct slice type, msg = {NULL, 0};
	struct json_tok tok[32];
	struct json_doc d;

	if (slice_eq_str(mt, "error")) {
		type = evs_msg_str(m, ":error-code");
		msg = evs_msg_str(m, ":error-message");
	} else {
		type = evs_msg_str(m, ":exception-type");
		if (json_parse(&d, (const char *)m->payload.p, m->payload.n, tok, 32, NULL) == 0)
			(void)json_str_view(&d, json_get(&d, 0, "message"), &msg);
	}
	return err_set(e, ERR_SERVICE, "%.*s: %.*s", (int)(type.n > 96 ? 96 : type.n),
		       type.n ? (const char *)type.p : "UnknownError",
		       (int)(msg.n > 300 ? 300 : msg.n), msg.n ? (const char *)msg.p : "");
}

static int anth_relay_msg(struct anth_relay *r, const struct evs_msg *m, struct err *e)
{
	struct slice mt = evs_msg_str(m, ":message-type");
	struct slice bytes;
	struct json_tok tok[64];
	struct json_doc d;

	if (slice_eq_str(mt, "exception") || slice_eq_str(mt, "error"))
		return anth_exception(m, mt, e);
	if (!slice_eq_str(mt, "event") || !slice_eq_str(evs_msg_str(m, ":event-type"), "chunk"))
		return 0; /* initial-response and the like */
	buf_reset(&r->out); /* scratch for a "bytes" string with escapes ("\/") */
	if (json_parse(&d, (const char *)m->payload.p, m->payload.n, tok, 64, e) < 0 ||
	    json_type(&d, json_get(&d, 0, "bytes")) != JSON_STRING ||
	    json_str(&d, json_get(&d, 0, "bytes"), &r->out, &bytes, NULL) < 0)
		return err_set(e, ERR_PROTO, "malformed chunk event (no \"bytes\")");
	buf_reset(&r->json);
	if (base64_decode_buf(&r->json, (const char *)bytes.p, bytes.n, 0) < 0)
		return err_set(e, ERR_PROTO, "chunk \"bytes\" is not valid base64");
	buf_reset(&r->out);
	if (anth_sse_event(r, r->json.p, r->json.len, &r->out, e) < 0)
		return -1;
	r->events++;
	r->started = 1;
	return r->write(r->user, r->out.p, r->out.len, e);
}

int anth_relay_feed(struct anth_relay *r, const uint8_t *p, size_t n, struct err *e)
{
	if (r->failed)
		return err_set(e, ERR_PROTO, "event stream relay: failed earlier");
	while (n) {
		struct evs_msg m;
		size_t used = 0;
		int rc = evs_feed(&r->dec, p, n, &used, &m);

		if (rc < 0) {
			r->failed = 1;
			return evs_err(e, rc);
		}
		p += used;
		n -= used;
		if (rc == 1 && anth_relay_msg(r, &m, e) < 0) {
			r->failed = 1; /* sticky: nothing after a failure */
			return -1;
		}
	}
	return 0;
}

int anth_relay_finish(struct anth_relay *r, struct err *e)
{
	int rc = evs_finish(&r->dec);

	if (r->failed)
		return err_set(e, ERR_PROTO, "event stream relay: failed earlier");
	if (rc < 0)
		return evs_err(e, rc);
	if (!r->stopped)
		return err_set(e, ERR_NET, "stream ended early (no message_stop)");
	return 0;
}

int anth_usage_from_message(const uint8_t *body, size_t n, struct anth_usage *u, struct err *e)
{
	struct json_doc d;

	memset(u, 0, sizeof *u);
	if (json_parse_alloc(&d, (const char *)body, n, CONV_MAX_TOKENS, e) < 0)
		return -1;
	anth_read_usage(&d, json_get(&d, 0, "usage"), u);
	json_doc_free(&d);
	return 0;
}

/* ---- errors ---- */

const char *anth_error_type(int status)
{
	switch (status) {
	case 400: return "invalid_request_error";
	case 401: return "authentication_error";
	case 402:
	case 403: return "permission_error";
	case 404: return "not_found_error";
	case 413: return "request_too_large";
	case 429: return "rate_limit_error";
	case 503:
	case 529: return "overloaded_error";
	default: return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
	}
}

void anth_error_classify(const struct err *e, int upstream_status, const char *upstream_type,
			 struct anth_error *out)
{
	struct oai_error oe;

	oai_error_classify(e, upstream_status, upstream_type, &oe);
	out->status = oe.status;
	out->type = anth_error_type(oe.status);
}

int anth_error_body(struct buf *out, const char *type, const char *message)
{
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "type", "error");
	jw_key(&w, "error");
	jw_obj_begin(&w);
	jw_kstr(&w, "type", type ? type : "api_error");
	jw_key(&w, "message");
	jw_str_lossy(&w, message ? message : "");
	jw_obj_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}

int anth_error_event(struct buf *out, const char *type, const char *message)
{
	size_t len0 = out->len;

	if (buf_append_str(out, "event: error\ndata: ") < 0 ||
	    anth_error_body(out, type, message) < 0 || buf_append_str(out, "\n\n") < 0) {
		out->len = len0;
		return -1;
	}
	return 0;
}

/* ---- models ---- */

int anth_models_list(struct buf *out, const struct anth_model *m, size_t n)
{
	char when[TIMEFMT_ISO_LEN + 1];
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_key(&w, "data");
	jw_arr_begin(&w);
	for (size_t i = 0; i < n; i++) {
		timefmt_iso8601(when, (time_t)(m[i].created > 0 ? m[i].created : 0));
		jw_obj_begin(&w);
		jw_kstr(&w, "type", "model");
		jw_kstr(&w, "id", m[i].id);
		jw_kstr(&w, "display_name", m[i].display_name ? m[i].display_name : m[i].id);
		jw_kstr(&w, "created_at", when);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_kbool(&w, "has_more", 0);
	jw_kstr(&w, "first_id", n ? m[0].id : NULL);
	jw_kstr(&w, "last_id", n ? m[n - 1].id : NULL);
	jw_obj_end(&w);
	return jw_finish(&w, NULL);
}
