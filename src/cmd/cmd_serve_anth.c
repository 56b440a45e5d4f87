/* cmd_serve_anth: the Anthropic Messages API of serve mode (SPEC 7.2), on
 * helper threads (anthropic.h has the pure half).
 *
 * (/v1/messages runs on the loop first: cmd_serve_anth_h2.c; serve_anth.h
 * has what both share.)
 *
 * POST /v1/messages (any query): the body is mapped (anth_map_invoke), the
 * model resolved (a Bedrock id as is; an Anthropic name such as
 * "claude-sonnet-4-5-20250929" against the catalog, anth_resolve_model),
 * then Claude models go through InvokeModel(WithResponseStream) with the
 * Anthropic body, whose events are relayed unchanged (anth_relay), and
 * other models through Converse(Stream) (anth_map_converse, anth_conv).
 * A stream's head goes out once Bedrock answered 2xx; errors before that
 * are Anthropic error objects with their HTTP status, after it `event:
 * error`. While a stream is open and nothing was written for
 * ANTH_PING_MS, the server tick (cmd_serve_ping_tick) writes a ping: the
 * handler's thread is blocked reading Bedrock, so the pings come from the
 * loop, through server_stream_idle_send, which never waits.
 *
 * POST /v1/messages/count_tokens: CountTokens with the invoke body.
 * GET /v1/models (with anthropic-version): the catalog in Anthropic's
 * shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws.h"
#include "base/base64.h"
#include "base/clock.h"
#include "bedrock/anthropic.h"
#include "bedrock/catalog.h"
#include "cmd/serve.h"
#include "cmd/serve_anth.h"
#include "wire/json.h"

/* ------------------------------------------------------------------------ */
/* Pings */

static void ping_add(struct serve *sv, struct serve_ping *p, struct server_conn *c)
{
	p->c = c;
	atomic_store(&p->last, clock_ms());
	pthread_mutex_lock(&sv->ping_mu);
	p->prev = NULL;
	p->next = sv->pings;
	if (sv->pings)
		sv->pings->prev = p;
	sv->pings = p;
	pthread_mutex_unlock(&sv->ping_mu);
}

static void ping_del(struct serve *sv, struct serve_ping *p)
{
	if (!p->c)
		return;
	pthread_mutex_lock(&sv->ping_mu);
	if (p->prev)
		p->prev->next = p->next;
	else
		sv->pings = p->next;
	if (p->next)
		p->next->prev = p->prev;
	pthread_mutex_unlock(&sv->ping_mu);
	p->c = NULL;
}

void cmd_serve_ping_tick(struct serve *sv)
{
	static const char ping[] = ANTH_PING;
	int64_t now = clock_ms();
	struct serve_ping *p;

	if (now < sv->ping_next)
		return;
	sv->ping_next = now + ANTH_PING_EVERY_MS;
	pthread_mutex_lock(&sv->ping_mu);
	for (p = sv->pings; p; p = p->next)
		if (now - atomic_load(&p->last) >= ANTH_PING_MS &&
		    server_stream_idle_send(p->c, ping, sizeof ping - 1) != 0)
			atomic_store(&p->last, now); /* sent, or the client is gone */
	pthread_mutex_unlock(&sv->ping_mu);
}

/* ------------------------------------------------------------------------ */
/* One call */


/* An upstream error before the stream's head: answered, unless another
 * model may serve (429, 5xx, not the last one; SPEC 7.4). */
static void anth_fail(struct anth_call *ac, const struct err *e, const struct aws_response *r)
{
	if (!ac->last && !server_status(ac->c) && cmd_serve_fallback_worthy(r->status)) {
		ac->next = 1;
		return;
	}
	cmd_serve_fail(ac->c, e, r->status >= 300 ? r->status : 0,
		       r->error_type[0] ? r->error_type : NULL);
}

/* The stream's head: once, then pings while it is quiet. */
static int anth_open(struct anth_call *ac)
{
	if (server_status(ac->c))
		return 0;
	if (server_stream_start(ac->c, 200, "text/event-stream", ANTH_SSE_HEAD) < 0)
		return -1;
	ping_add(ac->sv, &ac->ping, ac->c);
	return 0;
}

/* anth_write_fn: one whole SSE event to the client. */
static int anth_write(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct anth_call *ac = user;

	if (ac->q && ac->q->ttft_ms < 0) {
		ac->q->ttft_ms = clock_ms() - ac->q->t0;
		cmd_serve_count_ttft(ac->sv, (double)ac->q->ttft_ms / 1e3);
	}
	if (anth_open(ac) < 0)
		return err_set(e, ERR_NET, "the client went away");
	atomic_store(&ac->ping.last, clock_ms());
	if (server_stream_send(ac->c, p, n) < 0)
		return err_set(e, ERR_NET, "the client went away");
	return 0;
}

static int anth_up_headers(void *user, const struct http_parser *p, struct err *e)
{
	(void)p;
	if (anth_open(user) < 0)
		return err_set(e, ERR_NET, "the client went away");
	return 0;
}

static int anth_up_body(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct anth_call *ac = user;

	return anth_relay_feed(&ac->rl, p, n, e);
}

/* A failure after the stream's head: an `event: error`. */
void cmd_serve_anth_late_error(const struct err *e, int status, const char *type, anth_write_fn w,
			       void *user)
{
	struct anth_error ae;
	struct buf b;
	struct err e2;

	anth_error_classify(e, status, type, &ae);
	buf_init(&b, 16384);
	if (anth_error_event(&b, ae.type, e->msg[0] ? e->msg : "error") == 0)
		w(user, b.p, b.len, &e2);
	buf_free(&b);
}

/* The end of a stream: closed cleanly, or an error event once the head went
 * out (the client gone: nothing), or an ordinary error answer. 1 when it
 * failed after the head. */
static int anth_finish(struct anth_call *ac, int rc, const struct aws_response *r,
		       struct err *e)
{
	if (!server_status(ac->c)) {
		anth_fail(ac, e, r);
		return 0;
	}
	if (rc < 0 && !server_client_gone(ac->c))
		cmd_serve_anth_late_error(e, r->status >= 300 ? r->status : 0,
				r->error_type[0] ? r->error_type : NULL, anth_write, ac);
	ping_del(ac->sv, &ac->ping);
	server_stream_end(ac->c);
	return rc < 0;
}

void cmd_serve_anth_usage(const struct anth_usage *a, struct conv_usage *u)
{
	u->input_tokens = a->input_tokens;
	u->output_tokens = a->output_tokens;
	u->cache_read = a->cache_read;
	u->cache_write = a->cache_write;
	u->has_usage = 1;
}

/* Claude: InvokeModel(WithResponseStream) with the Anthropic body. */
static int anth_invoke(struct anth_call *ac, const struct buf *body, int stream,
		       struct aws_response *r, struct err *e)
{
	struct aws_request up;
	int rc;

	memset(&up, 0, sizeof up);
	up.content_type = "application/json";
	up.accept = stream ? "application/vnd.amazon.eventstream" : "application/json";
	up.body = body->p;
	up.body_len = body->len;
	up.max_body = ANTH_ANSWER_MAX;
	if (!stream) {
		rc = cmd_serve_runtime(ac->sv, ac->model, "invoke", &up, r, e);
		if (rc == 0) {
			struct anth_usage au;
			struct err e2;

			if (anth_usage_from_message(r->body.p, r->body.len, &au, &e2) == 0)
				cmd_serve_anth_usage(&au, &ac->usage);
			server_reply(ac->c, 200, "application/json", NULL, r->body.p, r->body.len);
		} else {
			anth_fail(ac, e, r);
		}
		return rc;
	}
	anth_relay_init(&ac->rl, anth_write, ac);
	up.on_headers = anth_up_headers;
	up.on_body = anth_up_body;
	up.user = ac;
	rc = cmd_serve_runtime(ac->sv, ac->model, "invoke-with-response-stream", &up, r, e);
	if (rc == 0)
		rc = anth_relay_finish(&ac->rl, e);
	cmd_serve_anth_usage(&ac->rl.usage, &ac->usage);
	rc = anth_finish(ac, rc, r, e) ? -1 : rc;
	anth_relay_free(&ac->rl);
	return rc;
}

static int anth_usage_cb(void *user, const struct conv_usage *u, struct err *e)
{
	(void)e;
	*(struct conv_usage *)user = *u;
	return 0;
}

/* A Converse answer as the message object. */
int cmd_serve_anth_conv_answer(struct anth_call *ac, const struct buf *body, struct err *e)
{
	struct conv_handler uh;
	struct buf out;
	struct err e2;
	int rc;

	buf_init(&out, ANTH_ANSWER_MAX);
	rc = anth_conv_message(body->p, body->len, ac->id, ac->name, &out, e);
	if (rc == 0)
		server_reply(ac->c, 200, "application/json", NULL, out.p, out.len);
	else
		cmd_serve_fail(ac->c, e, 0, NULL);
	buf_free(&out);
	memset(&uh, 0, sizeof uh);
	uh.user = &ac->usage;
	uh.metadata = anth_usage_cb;
	conv_parse_response(&uh, 0, body->p, body->len, &e2);
	return rc;
}

/* Other models: Converse(Stream), rendered as Anthropic events. */
static int anth_converse(struct anth_call *ac, const struct buf *body, int stream,
			 struct aws_response *r, struct err *e)
{
	struct aws_creds creds;
	struct conv_handler h;
	struct conv_call cc;
	int rc;

	memset(&creds, 0, sizeof creds);
	aws_response_init(r);
	if (creds_get(&ac->sv->ctx.creds, &creds, e) < 0) {
		cmd_serve_fail(ac->c, e, 0, NULL);
		return -1;
	}
	memset(&cc, 0, sizeof cc);
	cc.model_id = ac->model;
	cc.stream = stream;
	cc.body = body->p;
	cc.body_len = body->len;
	cc.max_answer = ANTH_ANSWER_MAX;
	cc.gateway = 1;
	cc.cs = &ac->cs;
	anth_conv_init(&ac->cv, ac->id, ac->name, anth_write, ac);
	anth_conv_handler(&ac->cv, &h);
	conv_stream_init(&ac->cs, &h, 0);
	aws_response_free(r);
	rc = conv_call(&ac->sv->ctx.aws, &creds, &cc, r, e);
	aws_creds_wipe(&creds);
	if (stream) {
		if (rc == 0)
			rc = anth_conv_end(&ac->cv, e);
		ac->usage = ac->cv.usage;
		if (rc < 0 && anth_conv_started(&ac->cv) && !server_client_gone(ac->c)) {
			struct err e2;

			anth_conv_fail(&ac->cv, e, &e2);
		}
		if (server_status(ac->c)) {
			ping_del(ac->sv, &ac->ping);
			server_stream_end(ac->c);
		} else {
			anth_fail(ac, e, r);
		}
	} else if (rc == 0) {
		rc = cmd_serve_anth_conv_answer(ac, &r->body, e);
	} else {
		anth_fail(ac, e, r);
	}
	conv_stream_free(&ac->cs);
	anth_conv_free(&ac->cv);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Models */

/* Region -> the geography of its inference profiles ("us", "eu", ...). */
static const char *anth_geo(const char *region)
{
	if (strncmp(region, "us-gov-", 7) == 0)
		return "us-gov";
	if (strncmp(region, "us-", 3) == 0)
		return "us";
	if (strncmp(region, "eu-", 3) == 0)
		return "eu";
	if (strncmp(region, "ap-", 3) == 0)
		return "apac";
	if (strncmp(region, "ca-", 3) == 0)
		return "ca";
	return NULL;
}

/* Names the catalog resolved, for the loop (serve.names, a small ring). */
static int anth_name_known(struct serve *sv, const char *name, char out[ANTH_MODEL_MAX])
{
	int64_t now = clock_ms();
	int hit = 0;
	size_t i;

	pthread_mutex_lock(&sv->names_mu);
	for (i = 0; i < SERVE_NAMES_MAX && !hit; i++)
		if (sv->names[i].until > now && strcmp(sv->names[i].name, name) == 0) {
			snprintf(out, ANTH_MODEL_MAX, "%s", sv->names[i].id);
			hit = 1;
		}
	pthread_mutex_unlock(&sv->names_mu);
	return hit;
}

static void anth_name_keep(struct serve *sv, const char *name, const char *id)
{
	struct serve_name *n;

	if (strlen(name) >= sizeof n->name || strlen(id) >= sizeof n->id)
		return;
	pthread_mutex_lock(&sv->names_mu);
	n = &sv->names[sv->names_next++ % SERVE_NAMES_MAX];
	snprintf(n->name, sizeof n->name, "%s", name);
	snprintf(n->id, sizeof n->id, "%s", id);
	n->until = clock_ms() + SERVE_NAME_TTL_MS;
	pthread_mutex_unlock(&sv->names_mu);
}

/* The Bedrock id for a client's model name. 0 with out set; else answered
 * (404 for another provider's ref or an unknown Anthropic name, the
 * catalog's error when it cannot be built) and -1. Aliases
 * (serve.modelAliases) go first. */
int cmd_serve_anth_model(struct serve *sv, struct server_conn *c, const char *name,
			 char out[ANTH_MODEL_MAX], int loop)
{
	char alias[SERVE_MODEL_MAX];
	struct catalog cat;
	const char **ids;
	const char *id;
	struct err e;
	size_t i;
	int rc;

	if (cmd_serve_resolve(sv, name, alias))
		name = alias; /* serve.modelAliases: the target, resolved as if sent */
	if (cmd_serve_bedrock_id(name, &id) < 0) {
		char msg[ANTH_MODEL_MAX + 80];

		snprintf(msg, sizeof msg, "model: %s is not an amazon-bedrock model", name);
		cmd_serve_error(c, 404, NULL, NULL, NULL, msg, NULL);
		return -1;
	}
	if (strncmp(id, "claude-", 7) != 0 || strchr(id, '.')) {
		snprintf(out, ANTH_MODEL_MAX, "%s", id); /* a Bedrock id or ARN */
		return 0;
	}
	if (loop) /* the catalog may need discovery (I/O): the blocking path, unless known */
		return anth_name_known(sv, id, out) ? 0 : 1;
	if (cmd_serve_catalog(sv, &cat, &e) < 0) {
		cmd_serve_fail(c, &e, 0, NULL);
		return -1;
	}
	ids = calloc(cat.n ? cat.n : 1, sizeof *ids);
	for (i = 0; ids && i < cat.n; i++)
		ids[i] = cat.v[i].id;
	rc = ids ? anth_resolve_model(id, ids, cat.n, anth_geo(sv->ctx.aws.region), out, &e)
		 : err_set(&e, ERR_OTHER, "out of memory");
	free(ids);
	catalog_free(&cat);
	if (rc == 0)
		anth_name_keep(sv, id, out);
	if (rc < 0) {
		char msg[ANTH_MODEL_MAX + 80];

		snprintf(msg, sizeof msg, "model: %s", e.msg);
		cmd_serve_error(c, 404, NULL, NULL, NULL, msg, NULL);
	}
	return rc;
}

/* The client's anthropic-beta header(s), joined; "" when none. */
void cmd_serve_anth_betas(const struct server_request *rq, struct buf *b)
{
	if (http_header_join(rq->p, "anthropic-beta", b) < 0)
		buf_reset(b);
}

void cmd_serve_anth_msg_id(char *out, size_t n)
{
	uint8_t rnd[12];
	char hex[2 * sizeof rnd + 1];

	if (getentropy(rnd, sizeof rnd) != 0) {
		int64_t t = clock_ms();

		memset(rnd, 0, sizeof rnd);
		memcpy(rnd, &t, sizeof t);
	}
	hex_encode(hex, rnd, sizeof rnd);
	hex[2 * sizeof rnd] = '\0';
	snprintf(out, n, "msg_bdrk_%s", hex);
}

/* The map error of a client's body: 400 invalid_request_error, or ours. */
void cmd_serve_anth_map_failed(struct server_conn *c, const struct anth_req *ar,
			       const struct err *e)
{
	char msg[ERR_MSG_MAX + 80];

	if (e->cls != ERR_USAGE) {
		cmd_serve_fail(c, e, 0, NULL);
		return;
	}
	if (ar->param[0] && !strstr(e->msg, ar->param))
		snprintf(msg, sizeof msg, "%s: %s", ar->param, e->msg);
	else
		snprintf(msg, sizeof msg, "%s", e->msg);
	cmd_serve_error(c, 400, NULL, NULL, NULL, msg, NULL);
}

/* The one point per attempt where the call is counted: metrics, the log
 * line's fields, upstream errors by type and the key's tokens and spend
 * (cmd_serve_charge). */
static void anth_charge(struct anth_call *ac, int64_t t0, int rc, const struct aws_response *r,
			const struct err *e, int failed_late)
{
	struct serve_req *q = ac->q;

	if (rc < 0 && !server_client_gone(ac->c))
		cmd_serve_count_upstream_error(ac->sv, r->error_type[0] ? r->error_type : NULL, e);
	if (q) {
		q->upstream = 1;
		q->gone_counted = server_client_gone(ac->c);
		snprintf(q->request_id, sizeof q->request_id, "%s", r->request_id);
		q->tokens_in = ac->usage.has_usage ? ac->usage.input_tokens : 0;
		q->tokens_out = ac->usage.has_usage ? ac->usage.output_tokens : 0;
	}
	cmd_serve_charge(ac->sv, q, ac->model, &ac->usage);
	cmd_serve_count_upstream(ac->sv, (double)(clock_ms() - t0) / 1e3, &ac->usage, failed_late,
				 server_client_gone(ac->c));
}

/* The body for ac->model: the Anthropic body for Claude (InvokeModel),
 * Converse's for the others. */
int cmd_serve_anth_body(struct anth_call *ac, const struct server_request *rq, const char *beta,
			struct anth_req *ar, struct buf *body, struct err *e)
{
	int rc;

	buf_reset(body);
	if (!anth_model_is_claude(ac->model))
		return anth_map_converse(rq->body, rq->body_len, ar, body, e);
	pthread_rwlock_rdlock(&ac->sv->cfg_mu); /* serve.anthropicBetas (NULL: the default list) */
	rc = anth_map_invoke(rq->body, rq->body_len, beta,
			     (const char *const *)ac->sv->ctx.cfg.serve_anthropic_betas, ar, body, e);
	pthread_rwlock_unlock(&ac->sv->cfg_mu);
	return rc;
}

/* One attempt on ac->model; ac->next set when the next model should try. */
static void anth_attempt(struct anth_call *ac, const struct buf *body, int stream)
{
	struct serve *sv = ac->sv;
	int claude = anth_model_is_claude(ac->model);
	struct aws_response r;
	struct err e;
	int64_t t0;
	int rc;

	ac->next = 0;
	memset(&ac->usage, 0, sizeof ac->usage);
	if (ac->q)
		snprintf(ac->q->model, sizeof ac->q->model, "%.150s", ac->model);
	if (sv->g->verbose)
		ctx_log(&sv->ctx, "messages %s via %s%s, body %zu bytes", ac->model,
			claude ? "invoke" : "converse", stream ? " (stream)" : "", body->len);
	if (stream)
		cmd_serve_streams_add(sv, 1);
	t0 = clock_ms();
	rc = claude ? anth_invoke(ac, body, stream, &r, &e) : anth_converse(ac, body, stream, &r, &e);
	if (stream)
		cmd_serve_streams_add(sv, -1);
	anth_charge(ac, t0, rc, &r, &e, rc < 0 && stream && server_status(ac->c) == 200);
	if (sv->g->verbose && rc < 0)
		ctx_log(&sv->ctx, "messages %s: %s%s", ac->model, e.msg,
			ac->next ? "; trying the next model" : "");
	aws_response_free(&r);
}

/* The model, then each fallback in turn (SPEC 7.4); the client's body is
 * kept while another model may need it mapped for itself. */
static void anth_models(struct anth_call *ac, const struct server_request *rq, const char *beta,
			struct anth_req *ar, struct buf *body)
{
	char fb[CONFIG_FALLBACKS_MAX][SERVE_MODEL_MAX];
	size_t i, nfb = cmd_serve_fallbacks(ac->sv, ac->q, ac->model, fb, CONFIG_FALLBACKS_MAX);
	struct err e;

	for (i = 0;; i++) {
		ac->last = i == nfb;
		if (ac->last)
			server_body_done(ac->c); /* mapped: the client's body leaves the budget */
		anth_attempt(ac, body, ar->stream);
		if (!ac->next)
			return;
		cmd_serve_count_fallback(ac->sv, ac->q, ac->model);
		/* the answer names the model that serves it */
		snprintf(ac->model, sizeof ac->model, "%s", fb[i]);
		snprintf(ac->name, sizeof ac->name, "%s", fb[i]);
		if (cmd_serve_anth_body(ac, rq, beta, ar, body, &e) < 0) {
			cmd_serve_anth_map_failed(ac->c, ar, &e);
			return;
		}
	}
}

void cmd_serve_messages(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	struct anth_call *ac = calloc(1, sizeof *ac); /* large: off the stack */
	struct serve_refusal ref;
	struct anth_req ar;
	struct buf body, beta;
	struct err e;
	int rc;

	if (!ac) {
		cmd_serve_error(c, 500, NULL, NULL, NULL, "out of memory", NULL);
		return;
	}
	ac->sv = sv;
	ac->c = c;
	ac->q = cmd_serve_req(c);
	buf_init(&body, ANTH_BODY_OUT_MAX);
	buf_init(&beta, 8192);
	cmd_serve_anth_betas(rq, &beta);
	memset(&ar, 0, sizeof ar);
	pthread_rwlock_rdlock(&sv->cfg_mu); /* serve.anthropicBetas (NULL: the default list) */
	rc = anth_map_invoke(rq->body, rq->body_len, (const char *)beta.p,
			     (const char *const *)sv->ctx.cfg.serve_anthropic_betas, &ar, &body, &e);
	pthread_rwlock_unlock(&sv->cfg_mu);
	if (rc < 0)
		cmd_serve_anth_map_failed(c, &ar, &e);
	else
		rc = cmd_serve_anth_model(sv, c, ar.model, ac->model, 0); /* aliases, Anthropic names */
	if (rc == 0) {
		snprintf(ac->name, sizeof ac->name, "%s", ar.model);
		if (ac->q)
			snprintf(ac->q->model, sizeof ac->q->model, "%.150s", ac->model);
		if (!anth_model_is_claude(ac->model) &&
		    (rc = cmd_serve_anth_body(ac, rq, (const char *)beta.p, &ar, &body, &e)) < 0)
			cmd_serve_anth_map_failed(c, &ar, &e);
	}
	/* admitted once: a request the loop hands to a helper thread keeps its slot */
	if (rc == 0 && !(ac->q && ac->q->admitted) &&
	    (rc = cmd_serve_admit(sv, ac->q, ac->model, &ref)) < 0)
		cmd_serve_refuse(c, &ref); /* 403 permission_error, 429 rate_limit_error */
	if (rc == 0) {
		cmd_serve_anth_msg_id(ac->id, sizeof ac->id);
		anth_models(ac, rq, (const char *)beta.p, &ar, &body);
		cmd_serve_release(sv, ac->q);
	}
	buf_free(&beta);
	buf_free(&body);
	free(ac);
}

/* ------------------------------------------------------------------------ */
/* count_tokens, models */

void cmd_serve_count_tokens(struct serve *sv, struct server_conn *c,
			    const struct server_request *rq)
{
	char model[ANTH_MODEL_MAX];
	struct serve_req *q = cmd_serve_req(c);
	struct serve_refusal ref;
	struct anth_req ar;
	struct aws_request up;
	struct aws_response r;
	struct buf body, beta, out;
	struct err e;
	int rc;

	buf_init(&body, ANTH_BODY_OUT_MAX);
	buf_init(&beta, 8192);
	cmd_serve_anth_betas(rq, &beta);
	memset(&ar, 0, sizeof ar);
	pthread_rwlock_rdlock(&sv->cfg_mu);
	rc = anth_map_count_tokens(rq->body, rq->body_len, (const char *)beta.p,
				   (const char *const *)sv->ctx.cfg.serve_anthropic_betas, &ar, &body,
				   &e);
	pthread_rwlock_unlock(&sv->cfg_mu);
	if (rc < 0) {
		cmd_serve_anth_map_failed(c, &ar, &e);
	} else if (cmd_serve_anth_model(sv, c, ar.model, model, 0) == 0) {
		if (q)
			snprintf(q->model, SERVE_LOG_MODEL, "%.150s", model);
		if (cmd_serve_admit(sv, q, model, &ref) < 0) { /* no tokens are charged */
			cmd_serve_refuse(c, &ref);
			goto out;
		}
		memset(&up, 0, sizeof up);
		up.content_type = "application/json";
		up.accept = "application/json";
		up.body = body.p;
		up.body_len = body.len;
		up.max_body = 1u << 20;
		buf_init(&out, 4096);
		if (cmd_serve_runtime(sv, model, "count-tokens", &up, &r, &e) < 0) {
			cmd_serve_count_upstream_error(sv, r.error_type[0] ? r.error_type : NULL, &e);
			cmd_serve_fail(c, &e, r.status >= 300 ? r.status : 0,
				       r.error_type[0] ? r.error_type : NULL);
		} else if (anth_count_tokens_answer(r.body.p, r.body.len, &out, &e) < 0)
			cmd_serve_fail(c, &e, 0, NULL);
		else
			server_reply(c, 200, "application/json", NULL, out.p, out.len);
		if (q) {
			q->upstream = 1;
			snprintf(q->request_id, sizeof q->request_id, "%s", r.request_id);
		}
		buf_free(&out);
		aws_response_free(&r);
		cmd_serve_release(sv, q);
	}
out:
	buf_free(&beta);
	buf_free(&body);
}

/* One model object, for GET /v1/models/{id}. */
static int anth_model_obj(struct buf *out, const struct cat_model *m)
{
	struct jw w;
	struct err e;

	jw_init(&w, out);
	jw_obj_begin(&w);
	jw_kstr(&w, "type", "model");
	jw_kstr(&w, "id", m->id);
	jw_kstr(&w, "display_name", m->name);
	jw_kstr(&w, "created_at", "1970-01-01T00:00:00Z");
	jw_obj_end(&w);
	return jw_finish(&w, &e);
}

void cmd_serve_anth_models(struct serve *sv, struct server_conn *c,
			   const struct server_request *rq)
{
	struct anth_model *list;
	struct catalog cat;
	struct buf out;
	struct err e;
	size_t i;
	int rc = -1;

	if (cmd_serve_catalog(sv, &cat, &e) < 0) {
		cmd_serve_fail(c, &e, 0, NULL);
		return;
	}
	buf_init(&out, 64u << 20);
	if (rq->path.n > 11 && memcmp(rq->path.p, "/v1/models/", 11) == 0) {
		char ref[ANTH_MODEL_MAX];
		const struct cat_model *m = NULL;

		if (rq->path.n - 11 < sizeof ref) {
			memcpy(ref, rq->path.p + 11, rq->path.n - 11);
			ref[rq->path.n - 11] = '\0';
			m = catalog_find(&cat, ref);
		}
		if (!m)
			cmd_serve_error(c, 404, NULL, NULL, NULL, "model: not found", NULL);
		else if (anth_model_obj(&out, m) == 0)
			server_reply(c, 200, "application/json", NULL, out.p, out.len);
		else
			cmd_serve_error(c, 500, NULL, NULL, NULL, "model too large", NULL);
	} else {
		list = calloc(cat.n ? cat.n : 1, sizeof *list);
		for (i = 0; list && i < cat.n; i++) {
			list[i].id = cat.v[i].id;
			list[i].display_name = cat.v[i].name;
		}
		if (list)
			rc = anth_models_list(&out, list, cat.n);
		free(list);
		if (rc == 0)
			server_reply(c, 200, "application/json", NULL, out.p, out.len);
		else
			cmd_serve_error(c, 500, NULL, NULL, NULL, "model list too large", NULL);
	}
	buf_free(&out);
	catalog_free(&cat);
}
