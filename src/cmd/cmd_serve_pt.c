/* cmd_serve_pt: the Bedrock-native pass-through of serve mode (SPEC 7.3):
 * POST /model/{id}/converse, /converse-stream, /invoke,
 * /invoke-with-response-stream, /count-tokens forwarded to the runtime and
 * signed with the box's credentials (passthrough.h has the pure half).
 *
 * The client's own Authorization and X-Amz-* headers never travel (its
 * gateway key was checked by the head hook, as Bearer or x-api-key); only
 * content-type, accept and x-amzn-bedrock-* do. A 2xx non-stream answer and
 * every error answer of Bedrock go back with their status, content type,
 * x-amzn-RequestId, x-amzn-ErrorType and x-amzn-bedrock-* headers. An event
 * stream is relayed frame by frame as it arrives, each frame's CRCs checked
 * by pt_relay; at the first bad frame what came before it is sent and the
 * client connection closed without the last chunk, so nothing after the bad
 * frame reaches the client.
 *
 * Also here: cmd_serve_runtime, the one POST /model/<id>/<action> of the
 * gateway routes that do not go through conv_call (InvokeModel streams,
 * the pass-through). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "aws/creds.h"
#include "base/clock.h"
#include "bedrock/anthropic.h"
#include "bedrock/converse.h"
#include "bedrock/passthrough.h"
#include "cmd/serve.h"
#include "wire/json.h"
#include "wire/url.h"

#define PT_ANSWER_MAX (32u << 20) /* a non-stream answer collected before it is relayed */
#define PT_OUT_MAX (EVS_MAX_MESSAGE + 65536)
#define PT_FWD_MAX 16             /* client headers forwarded */
#define PT_STORE_MAX 8192         /* their bytes */

int cmd_serve_runtime(struct serve *sv, const char *model_id, const char *action,
		      struct aws_request *rq, struct aws_response *r, struct err *e)
{
	struct aws_creds creds; /* this request's own copy: a refresh never touches it */
	char region[64];
	struct buf path;
	int rc;

	aws_response_init(r);
	memset(&creds, 0, sizeof creds);
	if (creds_get(&sv->ctx.creds, &creds, e) < 0)
		return -1;
	buf_init(&path, 16384);
	if (buf_append_str(&path, "/model") < 0 ||
	    url_path_append_segment(&path, slice_str(model_id)) < 0 ||
	    buf_appendf(&path, "/%s", action) < 0) {
		aws_creds_wipe(&creds);
		buf_free(&path);
		return err_set(e, ERR_USAGE, "model id too long");
	}
	rq->svc = AWS_SVC_RUNTIME;
	rq->auth = AWS_AUTH_SIGV4;
	rq->method = "POST";
	rq->path = (const char *)path.p;
	rq->region = conv_arn_region(model_id, region, sizeof region);
	rc = aws_call(&sv->ctx.aws, &creds, rq, r, e);
	aws_creds_wipe(&creds);
	buf_free(&path);
	return rc;
}

int cmd_serve_bedrock_id(const char *name, const char **id)
{
	*id = strncmp(name, "amazon-bedrock/", 15) == 0 ? name + 15 : name;
	/* "openai/gpt-4o": a ref of another provider, never sent upstream */
	return strchr(*id, '/') && strncmp(*id, "arn:", 4) != 0 ? -1 : 0;
}

static const char *pt_type_of(int status)
{
	switch (status) {
	case 400: case 413: case 415: return "ValidationException";
	case 401: return "UnrecognizedClientException";
	case 403: return "AccessDeniedException";
	case 404: return "ResourceNotFoundException";
	case 405: return "UnknownOperationException";
	case 408: return "ModelTimeoutException";
	case 429: return "ThrottlingException";
	case 503: return "ServiceUnavailableException";
	default: return status >= 500 ? "InternalServerException" : "ValidationException";
	}
}

void cmd_serve_pt_error(struct server_conn *c, int status, const char *type, const char *msg,
			const char *extra_in)
{
	char extra[400];
	struct buf b;
	struct jw w;
	struct err e;

	snprintf(extra, sizeof extra, "x-amzn-ErrorType: %s\r\n%.300s", type ? type : pt_type_of(status),
		 extra_in ? extra_in : status == 429 ? "Retry-After: 1\r\n" : "");
	buf_init(&b, 8192);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "message");
	jw_str_lossy(&w, msg);
	jw_obj_end(&w);
	if (jw_finish(&w, &e) < 0) {
		buf_reset(&b);
		buf_append_str(&b, "{\"message\":\"error\"}");
	}
	server_reply(c, status, "application/json", extra, b.p, b.len);
	buf_free(&b);
}

int cmd_serve_pt_head(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	char alias[SERVE_MODEL_MAX];
	struct pt_route rt;
	struct err e;
	const char *id;

	if (pt_parse_path((const char *)rq->path.p, rq->path.n, &rt, &e) < 0) {
		cmd_serve_pt_error(c, 404, "UnknownOperationException", e.msg, NULL);
		return -1;
	}
	/* an alias (serve.modelAliases) wins over another provider's ref */
	if (!cmd_serve_resolve(sv, rt.model_id, alias) && cmd_serve_bedrock_id(rt.model_id, &id) < 0) {
		char msg[300];

		snprintf(msg, sizeof msg, "The model '%.200s' is not an amazon-bedrock model",
			 rt.model_id);
		cmd_serve_pt_error(c, 404, "ResourceNotFoundException", msg, NULL);
		return -1;
	}
	return cmd_serve_gate_type(c, rq, 1);
}

/* ------------------------------------------------------------------------ */

struct pt_call {
	struct serve *sv;
	struct server_conn *c;
	struct pt_route rt;
	struct pt_relay rl;
	struct aws_response *r;
	struct buf out;
	/* the usage of a relayed stream, read from a second decoding of the
	 * frames relayed: ConverseStream's metadata event, or the Anthropic
	 * events of InvokeModelWithResponseStream (Claude) */
	struct conv_stream meter_cs;
	struct anth_relay meter_ar;
	int meter_failed;
	struct conv_usage usage;
};

/* Bedrock's answer headers worth relaying, from "name: value\n" lines:
 * x-amzn-RequestId, x-amzn-ErrorType and x-amzn-bedrock-* (token counts,
 * latency, guardrail and tier answers). */
static void pt_answer_headers(struct slice lines, char *out, size_t outn)
{
	size_t used = 0;

	out[0] = '\0';
	while (lines.n) {
		const uint8_t *nl = memchr(lines.p, '\n', lines.n);
		struct slice line = {lines.p, nl ? (size_t)(nl - lines.p) : lines.n};

		lines.p += line.n + (nl ? 1 : 0);
		lines.n -= line.n + (nl ? 1 : 0);
		if (line.n < 8 || !slice_eq_nocase((struct slice){line.p, 7}, "x-amzn-"))
			continue;
		if (used + line.n + 3 > outn)
			break;
		memcpy(out + used, line.p, line.n);
		used += line.n;
		memcpy(out + used, "\r\n", 3);
		used += 2;
	}
}

static void pt_ctype(struct slice lines, const char *dflt, char *out, size_t n)
{
	struct slice v;

	if (httpc_lines_header(lines, "content-type", &v) && v.n && v.n < n) {
		memcpy(out, v.p, v.n);
		out[v.n] = '\0';
	} else {
		snprintf(out, n, "%s", dflt);
	}
}

/* A 2xx stream's head: Bedrock's status, type and x-amzn headers. */
static int pt_start(struct pt_call *pc, int status, struct slice lines)
{
	char extra[4096], ctype[128];
	struct serve_req *q = cmd_serve_req(pc->c);

	if (q && q->ttft_ms < 0) {
		q->ttft_ms = clock_ms() - q->t0;
		cmd_serve_count_ttft(pc->sv, (double)q->ttft_ms / 1e3);
	}
	pt_answer_headers(lines, extra, sizeof extra);
	pt_ctype(lines, pc->rt.response_type, ctype, sizeof ctype);
	return server_stream_start(pc->c, status, ctype, extra);
}

/* aws on_headers of a 2xx stream: the head goes out at once. */
static int pt_up_headers(void *user, const struct http_parser *p, struct err *e)
{
	struct pt_call *pc = user;

	if (pt_start(pc, p->status, buf_slice(&pc->r->headers)) < 0)
		return err_set(e, ERR_NET, "the client went away");
	return 0;
}

static int pt_meter_usage(void *user, const struct conv_usage *u, struct err *e)
{
	(void)e;
	*(struct conv_usage *)user = *u;
	return 0;
}

static int pt_meter_discard(void *user, const uint8_t *p, size_t n, struct err *e)
{
	(void)user;
	(void)p;
	(void)n;
	(void)e;
	return 0;
}

static void pt_meter_init(struct pt_call *pc)
{
	struct conv_handler h;

	memset(&h, 0, sizeof h);
	h.user = &pc->usage;
	h.metadata = pt_meter_usage;
	conv_stream_init(&pc->meter_cs, &h, 0);
	anth_relay_init(&pc->meter_ar, pt_meter_discard, NULL);
}

static void pt_meter_usage_end(struct pt_call *pc)
{
	if (pc->rt.op == PT_INVOKE_STREAM && !pc->meter_failed) {
		pc->usage.input_tokens = pc->meter_ar.usage.input_tokens;
		pc->usage.output_tokens = pc->meter_ar.usage.output_tokens;
		pc->usage.cache_read = pc->meter_ar.usage.cache_read;
		pc->usage.cache_write = pc->meter_ar.usage.cache_write;
		pc->usage.has_usage = pc->meter_ar.events > 0;
	}
}

static void pt_meter_free(struct pt_call *pc)
{
	conv_stream_free(&pc->meter_cs);
	anth_relay_free(&pc->meter_ar);
}

/* Frames just relayed, read again for their usage; a stream the reader does
 * not understand (an exception, a model that is not Claude) is not metered. */
static void pt_meter(struct pt_call *pc, const uint8_t *p, size_t n)
{
	struct err e;
	int rc = 0;

	if (pc->meter_failed || n == 0)
		return;
	if (pc->rt.op == PT_CONVERSE_STREAM)
		rc = conv_stream_feed(&pc->meter_cs, p, n, &e);
	else if (pc->rt.op == PT_INVOKE_STREAM)
		rc = anth_relay_feed(&pc->meter_ar, p, n, &e);
	if (rc < 0)
		pc->meter_failed = 1;
}

/* aws on_body of a stream: whole verified frames go on, a bad one ends it. */
static int pt_up_body(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct pt_call *pc = user;
	int rc;

	buf_reset(&pc->out);
	rc = pt_relay_feed(&pc->rl, p, n, &pc->out, e);
	if (pc->out.len && server_stream_send(pc->c, pc->out.p, pc->out.len) < 0)
		return err_set(e, ERR_NET, "the client went away");
	pt_meter(pc, pc->out.p, pc->out.len);
	return rc;
}

/* Fills the upstream request from the client's: body, types, headers. */
static size_t pt_request(const struct server_request *rq, const struct pt_route *rt,
			 struct aws_request *up, struct httpc_header *h, char *store, size_t storen)
{
	size_t i, used = 0;

	up->body = rq->body;
	up->body_len = rq->body_len;
	up->content_type = "application/json";
	up->accept = rt->stream ? "application/vnd.amazon.eventstream" : "application/json";
	for (i = 0; i < rq->p->nhdr && up->nextra < PT_FWD_MAX; i++) {
		const struct http_header *f = &rq->p->hdr[i];
		char *name = store + used;

		if (!pt_forward_header(f->name) || used + f->name.n + f->value.n + 2 > storen)
			continue;
		memcpy(name, f->name.p, f->name.n);
		name[f->name.n] = '\0';
		memcpy(name + f->name.n + 1, f->value.p, f->value.n);
		name[f->name.n + 1 + f->value.n] = '\0';
		used += f->name.n + f->value.n + 2;
		if (slice_eq_nocase(f->name, "content-type")) {
			up->content_type = name + f->name.n + 1;
		} else if (slice_eq_nocase(f->name, "accept")) {
			up->accept = name + f->name.n + 1;
		} else {
			h[up->nextra].name = name;
			h[up->nextra++].value = name + f->name.n + 1;
		}
	}
	up->extra = h;
	return used;
}

static int pt_usage_cb(void *user, const struct conv_usage *u, struct err *e)
{
	(void)e;
	*(struct conv_usage *)user = *u;
	return 0;
}

/* Tokens of a non-stream answer: Converse's usage, InvokeModel's headers. */
static void pt_usage(const struct pt_call *pc, struct conv_usage *u)
{
	struct slice v;
	struct err e;

	memset(u, 0, sizeof *u);
	if (pc->rt.op == PT_CONVERSE) {
		struct conv_handler h;

		memset(&h, 0, sizeof h);
		h.user = u;
		h.metadata = pt_usage_cb;
		conv_parse_response(&h, 0, pc->r->body.p, pc->r->body.len, &e);
	} else if (pc->rt.op == PT_INVOKE &&
		   aws_response_header(pc->r, "x-amzn-bedrock-input-token-count", &v)) {
		u->input_tokens = strtoll((const char *)v.p, NULL, 10);
		if (aws_response_header(pc->r, "x-amzn-bedrock-output-token-count", &v))
			u->output_tokens = strtoll((const char *)v.p, NULL, 10);
		u->has_usage = 1;
	}
}

/* The answer once the call returned: a whole answer, the stream's end, or
 * the error (Bedrock's own answer relayed as it came). 1 when a stream
 * failed after it started. */
static int pt_answer(struct pt_call *pc, int rc, struct err *e)
{
	const struct aws_response *r = pc->r;
	char extra[4096], ctype[128];

	if (server_status(pc->c)) { /* a stream started */
		if (rc == 0)
			rc = pt_relay_finish(&pc->rl, e);
		if (rc == 0)
			server_stream_end(pc->c);
		else
			server_stream_abort(pc->c);
		return rc < 0;
	}
	if (rc < 0 && r->status < 300) {
		cmd_serve_fail(pc->c, e, 0, NULL);
		return 0;
	}
	pt_answer_headers(buf_slice(&r->headers), extra, sizeof extra);
	pt_ctype(buf_slice(&r->headers), "application/json", ctype, sizeof ctype);
	server_reply(pc->c, r->status, ctype, extra, r->body.p, r->body.len);
	return 0;
}

/* The model called (the head hook checked the path and the provider; an
 * alias's target is the model called, SPEC 7.4) and the key admitted for
 * it, once (a request the loop hands to a helper thread keeps its slot):
 * 0, or -1 answered. */
static int pt_admit(struct serve *sv, struct server_conn *c, const struct server_request *rq,
		    struct pt_route *rt, char mid[SERVE_MODEL_MAX], const char **id)
{
	struct serve_req *q = cmd_serve_req(c);
	struct serve_refusal ref;
	struct err e;
	int alias;

	if (pt_parse_path((const char *)rq->path.p, rq->path.n, rt, &e) < 0 ||
	    (!(alias = cmd_serve_resolve(sv, rt->model_id, mid)) &&
	     cmd_serve_bedrock_id(rt->model_id, id) < 0)) {
		cmd_serve_pt_error(c, 404, NULL, "unknown route", NULL);
		return -1;
	}
	if (alias)
		*id = mid;
	if (q)
		snprintf(q->model, sizeof q->model, "%.150s", *id);
	/* before any upstream byte: 403/429 in the Bedrock dialect */
	if (!(q && q->admitted) && cmd_serve_admit(sv, q, *id, &ref) < 0) {
		cmd_serve_refuse(c, &ref);
		return -1;
	}
	return 0;
}

void cmd_serve_pt(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	struct serve_req *q = cmd_serve_req(c);
	struct pt_call *pc = calloc(1, sizeof *pc);
	struct httpc_header h[PT_FWD_MAX];
	char store[PT_STORE_MAX], mid[SERVE_MODEL_MAX];
	struct aws_request up;
	struct aws_response r;
	const char *id;
	struct err e;
	int64_t t0;
	int rc, late;

	if (!pc) {
		cmd_serve_pt_error(c, 500, NULL, "out of memory", NULL);
		return;
	}
	if (pt_admit(sv, c, rq, &pc->rt, mid, &id) < 0) {
		free(pc);
		return;
	}
	pc->sv = sv;
	pc->c = c;
	pc->r = &r;
	memset(&up, 0, sizeof up);
	pt_request(rq, &pc->rt, &up, h, store, sizeof store);
	up.max_body = PT_ANSWER_MAX;
	if (pc->rt.stream) {
		pt_relay_init(&pc->rl);
		pt_meter_init(pc);
		buf_init(&pc->out, PT_OUT_MAX);
		up.on_headers = pt_up_headers;
		up.on_body = pt_up_body;
		up.user = pc;
		cmd_serve_streams_add(sv, 1);
	}
	t0 = clock_ms();
	rc = cmd_serve_runtime(sv, id, pc->rt.action, &up, &r, &e);
	late = pt_answer(pc, rc, &e);
	if (pc->rt.stream) {
		cmd_serve_streams_add(sv, -1);
		pt_meter_usage_end(pc);
		pt_meter_free(pc);
		pt_relay_free(&pc->rl);
		buf_free(&pc->out);
	} else if (rc == 0) {
		pt_usage(pc, &pc->usage);
	}
	if (rc < 0 && !server_client_gone(c))
		cmd_serve_count_upstream_error(sv, r.error_type[0] ? r.error_type : NULL, &e);
	if (q) {
		q->upstream = 1;
		q->gone_counted = server_client_gone(c);
		snprintf(q->request_id, sizeof q->request_id, "%s", r.request_id);
		q->tokens_in = pc->usage.has_usage ? pc->usage.input_tokens : 0;
		q->tokens_out = pc->usage.has_usage ? pc->usage.output_tokens : 0;
	}
	cmd_serve_charge(sv, q, id, &pc->usage);
	cmd_serve_count_upstream(sv, (double)(clock_ms() - t0) / 1e3, &pc->usage, late,
				 server_client_gone(c));
	cmd_serve_release(sv, q);
	if (sv->g->verbose && rc < 0)
		ctx_log(&sv->ctx, "%s %s: %s", pc->rt.action, id, e.msg);
	aws_response_free(&r);
	free(pc);
}

/* ------------------------------------------------------------------------ */
/* On the loop over HTTP/2 (cmd_serve_h2.c's engine): the same answers. */

struct pt_loop {
	struct serve_h2call k; /* first */
	struct pt_call pc;
	struct httpc_header h[PT_FWD_MAX];
	char *store; /* the forwarded headers' bytes */
};

/* Bedrock's answer as aws_call leaves it: the head's lines, the body lent. */
static void pt_loop_response(struct serve_h2call *k, int status, struct aws_response *r)
{
	aws_response_init(r);
	r->status = status;
	snprintf(r->request_id, sizeof r->request_id, "%s", k->head.request_id);
	buf_append_str(&r->headers, k->head.lines);
	buf_free(&r->body);
	r->body = k->answer; /* lent */
}

static void pt_loop_response_free(struct aws_response *r)
{
	memset(&r->body, 0, sizeof r->body);
	aws_response_free(r);
}

static int pt_loop_head(struct serve_h2call *k, struct err *e)
{
	struct pt_loop *pl = (struct pt_loop *)k;
	struct aws_response r;
	int rc;

	if (!k->stream)
		return 0;
	pt_loop_response(k, k->head.status, &r);
	rc = pt_start(&pl->pc, k->head.status, buf_slice(&r.headers));
	pt_loop_response_free(&r);
	return rc < 0 ? err_set(e, ERR_NET, "the client went away") : 0;
}

/* Whole verified frames go on as they come; a bad one ends the stream. */
static int pt_loop_data(struct serve_h2call *k, const uint8_t *p, size_t n, struct err *e)
{
	struct pt_call *pc = &((struct pt_loop *)k)->pc;
	struct err e2;
	int rc;

	buf_reset(&pc->out);
	rc = pt_relay_feed(&pc->rl, p, n, &pc->out, e);
	if (pc->out.len && cmd_serve_h2_write(k, pc->out.p, pc->out.len, &e2) < 0)
		return err_set(e, ERR_NET, "the client went away");
	pt_meter(pc, pc->out.p, pc->out.len);
	return rc;
}

static int pt_loop_end(struct serve_h2call *k, struct err *e)
{
	struct pt_call *pc = &((struct pt_loop *)k)->pc;
	struct aws_response r;

	if (k->stream) {
		if (pt_relay_finish(&pc->rl, e) < 0)
			return -1;
		k->end_stream = 1;
		return 0;
	}
	pt_loop_response(k, k->head.status, &r);
	pc->r = &r;
	pt_usage(pc, &k->usage);
	cmd_serve_h2_charge(k);
	pt_answer(pc, 0, e);
	pc->r = NULL;
	pt_loop_response_free(&r);
	return 0;
}

/* Before the head: Bedrock's own error answer relayed, or ours; after
 * it: the connection closes (or the h2 stream is reset) without the end. */
static int pt_loop_fail(struct serve_h2call *k, const struct err *e, int status, const char *type)
{
	struct pt_call *pc = &((struct pt_loop *)k)->pc;
	struct aws_response r;
	struct err e2 = *e;

	(void)type;
	if (server_status(k->c)) {
		if (!k->gone)
			server_stream_abort(k->c);
		return 1;
	}
	if (k->gone)
		return 0;
	pt_loop_response(k, status, &r);
	pc->r = &r;
	pt_answer(pc, -1, &e2);
	pc->r = NULL;
	pt_loop_response_free(&r);
	return 0;
}

static void pt_loop_usage(struct serve_h2call *k)
{
	struct pt_call *pc = &((struct pt_loop *)k)->pc;

	if (!k->stream)
		return;
	pt_meter_usage_end(pc);
	k->usage = pc->usage;
}

static void pt_loop_free(struct serve_h2call *k)
{
	struct pt_loop *pl = (struct pt_loop *)k;

	if (k->stream) {
		pt_meter_free(&pl->pc);
		pt_relay_free(&pl->pc.rl);
		buf_free(&pl->pc.out);
	}
	free(pl->store);
}

static const struct serve_h2ops pt_loop_ops = {pt_loop_head, pt_loop_data, pt_loop_end,
					       pt_loop_fail, pt_loop_usage, pt_loop_free};

/* The client's forwarded headers, copied for the call's life: measured,
 * then written again into a store of that size (the same headers fit). */
static int pt_loop_headers(struct pt_loop *pl, const struct server_request *rq)
{
	char store[PT_STORE_MAX];
	struct aws_request up;
	size_t used;

	memset(&up, 0, sizeof up);
	used = pt_request(rq, &pl->pc.rt, &up, pl->h, store, sizeof store);
	pl->store = malloc(used ? used : 1);
	if (!pl->store)
		return -1;
	memset(&up, 0, sizeof up);
	pt_request(rq, &pl->pc.rt, &up, pl->h, pl->store, used);
	pl->k.ctype = up.content_type;
	pl->k.accept = up.accept;
	pl->k.extra = pl->h;
	pl->k.nextra = up.nextra;
	return 0;
}

int cmd_serve_pt_loop(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	char mid[SERVE_MODEL_MAX];
	struct pt_loop *pl;
	const char *id;

	if (!cmd_serve_h2_ready(sv, c) || !(pl = calloc(1, sizeof *pl)))
		return 0;
	if (pt_admit(sv, c, rq, &pl->pc.rt, mid, &id) < 0) {
		free(pl);
		return 1;
	}
	pl->k.sv = pl->pc.sv = sv;
	pl->k.c = pl->pc.c = c;
	pl->k.q = cmd_serve_req(c);
	pl->k.ops = &pt_loop_ops;
	pl->k.what = pl->pc.rt.action;
	pl->k.action = pl->pc.rt.action;
	pl->k.stream = pl->pc.rt.stream;
	snprintf(pl->k.model_id, sizeof pl->k.model_id, "%s", id);
	buf_init(&pl->k.body, rq->body_len + 1);
	if (pt_loop_headers(pl, rq) < 0 || buf_append(&pl->k.body, rq->body, rq->body_len) < 0) {
		buf_free(&pl->k.body);
		free(pl->store);
		free(pl);
		return 0;
	}
	if (pl->k.stream) {
		pt_relay_init(&pl->pc.rl);
		pt_meter_init(&pl->pc);
		buf_init(&pl->pc.out, PT_OUT_MAX);
	}
	if (cmd_serve_h2_start(&pl->k) < 0) {
		cmd_serve_h2_discard(&pl->k);
		return 0;
	}
	return 1;
}
