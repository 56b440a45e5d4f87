/* cmd_serve_h2: Bedrock calls on the loop thread over HTTP/2 (net/h2c), for
 * every route that runs there (serve.h: serve_h2call), and the chat route's
 * part: POST /v1/chat/completions, stream and non-stream.
 *
 * The request is mapped on the loop by its route (pure), signed with a
 * copy of the cached credentials (creds_peek: no I/O), and sent on a stream
 * of the loop's h2c; the event stream goes from the TLS record buffer into
 * the route's decoder and renderer, then the client's output.
 * Backpressure: when the client's output is over its bound the upstream
 * stream gets no more window (h2c_pause) until the server says there is
 * room; a client that leaves resets the stream. Retries (throttling, 5xx,
 * a connection failure before the first byte) are loop timers with
 * aws_call's policy and backoff.
 *
 * Whatever the loop cannot do without blocking goes to the blocking path
 * on a helper thread (server_handoff): credentials that need a refresh or
 * a lookup, a plain-http endpoint or a proxy, an endpoint whose ALPN is
 * not h2 (HTTP/1.1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws.h"
#include "aws/creds.h"
#include "base/clock.h"
#include "cmd/serve.h"
#include "net/h2c.h"

#define SH2_ERROR_BODY_MAX AWS_ERROR_BODY_MAX
#define SH2_ANSWER_MAX (32u << 20) /* a non-stream answer (SERVE_ANSWER_MAX) */
#define SH2_SSE_HEAD "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"

static int sh2_2xx(const struct serve_h2call *k)
{
	return k->head.status >= 200 && k->head.status <= 299;
}

void cmd_serve_h2_discard(struct serve_h2call *k)
{
	if (k->counted_stream)
		cmd_serve_streams_add(k->sv, -1);
	loop_timer_stop(server_loop_of(k->c), &k->timer);
	if (k->ops->free)
		k->ops->free(k);
	buf_free(&k->body);
	buf_free(&k->answer);
	free(k);
}

void cmd_serve_h2_charge(struct serve_h2call *k)
{
	if (k->charged)
		return;
	k->charged = 1;
	if (k->ops->usage)
		k->ops->usage(k);
	if (k->q) {
		k->q->upstream = 1;
		snprintf(k->q->request_id, sizeof k->q->request_id, "%s", k->head.request_id);
		k->q->tokens_in = k->usage.has_usage ? k->usage.input_tokens : 0;
		k->q->tokens_out = k->usage.has_usage ? k->usage.output_tokens : 0;
	}
	cmd_serve_charge(k->sv, k->q, k->model_id, &k->usage);
}

/* The request's end: charged before the client can see the end (its next
 * request is admitted against it), metrics, the log line's fields, the
 * server told. */
static void sh2_finish(struct serve_h2call *k, int failed_late)
{
	struct server_conn *c = k->c;
	int gone = k->gone || server_client_gone(c);

	cmd_serve_h2_charge(k);
	if (k->q)
		k->q->gone_counted = gone;
	cmd_serve_count_upstream(k->sv, (double)(clock_ms() - k->t0) / 1e3, &k->usage, failed_late,
				 gone);
	if (k->end_stream && !gone)
		server_stream_end(c);
	cmd_serve_h2_discard(k);
	server_defer_done(c);
}

int cmd_serve_h2_write(struct serve_h2call *k, const void *p, size_t n, struct err *e)
{
	if (k->q && k->q->ttft_ms < 0) {
		k->q->ttft_ms = clock_ms() - k->q->t0;
		cmd_serve_count_ttft(k->sv, (double)k->q->ttft_ms / 1e3);
	}
	if (k->gone)
		return err_set(e, ERR_NET, "the client went away");
	if (!server_status(k->c) &&
	    server_stream_start(k->c, 200, "text/event-stream", SH2_SSE_HEAD) < 0)
		return err_set(e, ERR_NET, "the client went away");
	if (n && server_stream_send(k->c, p, n) < 0)
		return err_set(e, ERR_NET, "the client went away");
	if (server_out_full(k->c) && k->st)
		h2c_pause(k->st);
	return 0;
}

/* A failure: the route answers it (an error event once its stream started). */
static void sh2_fail(struct serve_h2call *k, const struct err *e, int status, const char *type)
{
	if (k->st) {
		h2c_cancel(k->st);
		k->st = NULL;
	}
	cmd_serve_count_upstream_error(k->sv, type, e);
	if (k->sv->g->verbose)
		ctx_log(&k->sv->ctx, "%s %s: %s", k->what, k->model_id, e->msg);
	sh2_finish(k, k->ops->fail(k, e, status, type));
}

static int sh2_send(struct serve_h2call *k, struct err *e);

static void sh2_retry_timer(struct loop *l, struct loop_timer *t)
{
	struct serve_h2call *k = t->user;
	struct err e = {0};

	(void)l;
	if (k->gone) { /* the client left: the cleanup runs here, off the server's stack */
		sh2_finish(k, 0);
		return;
	}
	if (sh2_send(k, &e) < 0)
		sh2_fail(k, &e, 0, NULL);
}

/* Another attempt after aws_call's backoff, when the policy allows one. */
static int sh2_retry(struct serve_h2call *k)
{
	struct aws *a = &k->sv->ctx.aws;
	uint32_t r = 0;

	if (k->attempt >= a->max_attempts)
		return 0;
	if (getentropy(&r, sizeof r) != 0)
		r = (uint32_t)clock_ms();
	k->st = NULL;
	k->timer.fn = sh2_retry_timer;
	k->timer.user = k;
	return loop_timer_set(server_loop_of(k->c), &k->timer,
			      clock_ms() + aws_backoff_ms(k->attempt, r)) == 0;
}

/* ---- the stream's callbacks ---- */

static void sh2_on_head(struct h2c_stream *s, void *user, const struct h2c_head *h)
{
	struct serve_h2call *k = user;
	struct err e = {0};

	(void)s;
	k->head = *h;
	k->event_stream = strncmp(h->content_type, "application/vnd.amazon.eventstream", 34) == 0;
	buf_reset(&k->answer);
	k->answer.max = sh2_2xx(k) && !k->stream ? SH2_ANSWER_MAX : SH2_ERROR_BODY_MAX;
	if (!sh2_2xx(k))
		return;
	server_body_done(k->c); /* no fallback from here on: the body leaves the budget */
	if (k->ops->head && k->ops->head(k, &e) < 0)
		sh2_fail(k, &e, 0, NULL);
}

static void sh2_on_data(struct h2c_stream *s, void *user, const uint8_t *p, size_t n)
{
	struct serve_h2call *k = user;
	struct err e = {0};

	(void)s;
	if (sh2_2xx(k) && k->stream && k->event_stream) {
		if (k->ops->data(k, p, n, &e) < 0)
			sh2_fail(k, &e, 0, NULL);
		return;
	}
	if (buf_append(&k->answer, p, n) < 0 && sh2_2xx(k)) {
		err_set(&e, ERR_PROTO, "Bedrock's answer is too large");
		sh2_fail(k, &e, 0, NULL);
	}
}

/* A non-2xx answer: retried under the policy, else the client's error. */
static void sh2_error_answer(struct serve_h2call *k)
{
	struct aws_response r;
	struct err e = {0};

	aws_response_init(&r);
	r.status = k->head.status;
	snprintf(r.request_id, sizeof r.request_id, "%s", k->head.request_id);
	aws_decode_error(k->head.error_type, "", k->answer.p, k->answer.len, r.error_type,
			 sizeof r.error_type, r.error_message, sizeof r.error_message);
	if (aws_retryable(r.status, r.error_type) && sh2_retry(k)) {
		aws_response_free(&r);
		return;
	}
	aws_response_error(&r, &e);
	sh2_fail(k, &e, r.status, r.error_type[0] ? r.error_type : NULL);
	aws_response_free(&r);
}

static void sh2_on_end(struct h2c_stream *s, void *user)
{
	struct serve_h2call *k = user;
	struct err e = {0};

	(void)s;
	k->st = NULL;
	if (!sh2_2xx(k)) {
		sh2_error_answer(k);
		return;
	}
	if (k->stream && !k->event_stream) {
		err_set(&e, ERR_PROTO, "expected an event stream from Bedrock, got %s",
			k->head.content_type[0] ? k->head.content_type : "an untyped answer");
		sh2_fail(k, &e, 0, NULL);
		return;
	}
	if (k->ops->end(k, &e) < 0) {
		sh2_fail(k, &e, 0, NULL);
		return;
	}
	sh2_finish(k, 0);
}

static void sh2_on_error(struct h2c_stream *s, void *user, int kind, int got_head,
			 const struct err *e)
{
	struct serve_h2call *k = user;

	(void)s;
	k->st = NULL;
	if (kind == H2C_E_NO_H2 && !got_head && !server_status(k->c)) {
		struct server_conn *c = k->c;

		cmd_serve_h2_discard(k); /* HTTP/1.1: the blocking path on a helper thread */
		server_handoff(c);
		return;
	}
	/* nothing of the answer came: like aws_call's failures before the response */
	if (!got_head && (kind == H2C_E_NET || kind == H2C_E_TIMEOUT || kind == H2C_E_RESET) &&
	    sh2_retry(k))
		return;
	sh2_fail(k, e, 0, NULL);
}

static const struct h2c_stream_cb sh2_cbs = {sh2_on_head, sh2_on_data, sh2_on_end, sh2_on_error};

static void sh2_on_client(void *user, struct server_conn *c, int ev)
{
	struct serve_h2call *k = user;

	(void)c;
	if (ev == SERVER_EV_ROOM) {
		if (k->st)
			h2c_resume(k->st);
		return;
	}
	/* gone: reset the upstream stream now, free on a timer (this runs
	 * inside the server's close, perhaps under our own send) */
	k->gone = 1;
	if (k->st)
		h2c_cancel(k->st);
	k->st = NULL;
	k->timer.fn = sh2_retry_timer;
	k->timer.user = k;
	loop_timer_set(server_loop_of(k->c), &k->timer, 0);
}

/* ---- sending ---- */

#define SH2_NAME_MAX 128

/* The signed headers as HTTP/2 fields: lowercase, Host as :authority. -1
 * for a name longer than SH2_NAME_MAX - 1 (never dropped in silence). */
static int sh2_fields(const struct aws_wire *w, char (*names)[SH2_NAME_MAX], struct hpack_field *f,
		      size_t *nf, struct err *e)
{
	size_t i, j, n = 0;

	for (i = 0; i < w->nh; i++) {
		size_t ln = strlen(w->h[i].name);

		if (strcmp(w->h[i].name, "Host") == 0)
			continue;
		if (ln >= SH2_NAME_MAX)
			return err_set(e, ERR_USAGE, "header name longer than %d bytes: %.40s...",
				       SH2_NAME_MAX - 1, w->h[i].name);
		for (j = 0; j <= ln; j++)
			names[n][j] = (char)str_lower_ch(w->h[i].name[j]);
		f[n].name = slice_str(names[n]);
		f[n].value = slice_str(w->h[i].value);
		f[n].rep = strcmp(names[n], "authorization") == 0 ||
					   strcmp(names[n], "x-amz-security-token") == 0
				   ? HPACK_REP_NEVER
				   : HPACK_REP_INDEX;
		n++;
	}
	*nf = n;
	return 0;
}

/* One attempt: sign with fresh cached credentials, open a stream. */
static int sh2_send(struct serve_h2call *k, struct err *e)
{
	struct conv_call cc;
	struct aws_request arq;
	struct aws_creds cr;
	struct aws_wire w;
	struct buf path;
	char region[CONV_REGION_MAX], names[AWS_MAX_HDRS][SH2_NAME_MAX];
	struct hpack_field f[AWS_MAX_HDRS];
	struct h2c_req hr;
	int rc = -1;

	memset(&cc, 0, sizeof cc);
	cc.model_id = k->model_id;
	cc.stream = k->stream;
	cc.operation = k->action;
	cc.body = k->body.p;
	cc.body_len = k->body.len;
	if (conv_request(&cc, &arq, &path, region, e) < 0)
		return -1;
	if (k->ctype)
		arq.content_type = k->ctype;
	if (k->accept)
		arq.accept = k->accept;
	arq.extra = k->extra;
	arq.nextra = k->nextra;
	if (!creds_peek(&k->sv->ctx.creds, &cr)) {
		buf_free(&path);
		return err_set(e, ERR_CREDS, "the gateway's credentials are being refreshed");
	}
	memset(&hr, 0, sizeof hr);
	if (aws_wire_open(&k->sv->ctx.aws, &arq, &w, e) == 0 &&
	    aws_wire_sign(&k->sv->ctx.aws, &cr, &arq, &w, e) == 0 &&
	    sh2_fields(&w, names, f, &hr.nfields, e) == 0) {
		hr.method = "POST";
		hr.path = (const char *)w.u.path.p; /* the wire path that was signed */
		hr.fields = f;
		hr.body = k->body.p;
		hr.nbody = k->body.len;
		k->attempt++;
		rc = h2c_open(k->h2, w.u.host, w.u.port, &hr, &sh2_cbs, k, &k->st, e);
	}
	aws_wire_close(&w);
	aws_creds_wipe(&cr);
	buf_free(&path);
	return rc;
}

/* Whether the endpoint can go over h2c from this loop: https, no proxy. */
static int sh2_possible(struct serve *sv)
{
	const struct env *env = &sv->g->env;
	struct aws_endpoint ep;
	struct err e;

	if (env_get(env, "HTTPS_PROXY") || env_get(env, "https_proxy") ||
	    env_is_true(env, "BROCK_SERVE_HTTP1"))
		return 0;
	/* https to a name or an IPv4 address (an IPv6 literal's :authority
	 * would need brackets that h2c does not write) */
	return aws_endpoint(&sv->ctx.aws, AWS_SVC_RUNTIME, &ep, &e) == 0 &&
	       strncmp(ep.base, "https://", 8) == 0 && ep.base[8] != '[';
}

static struct h2c *sh2_h2c(struct serve *sv, struct server_conn *c)
{
	struct loop *l = server_loop_of(c);

	if (l->id < 0 || l->id >= SERVER_MAX_LOOPS)
		return NULL;
	if (!sv->h2[l->id]) {
		sv->h2[l->id] = calloc(1, sizeof(struct h2c));
		if (sv->h2[l->id])
			h2c_init(sv->h2[l->id], l, server_pool(&sv->srv), &sv->ctx.pool.trust);
	}
	return sv->h2[l->id];
}

int cmd_serve_h2_ready(struct serve *sv, struct server_conn *c)
{
	struct aws_creds cr;

	if (!sh2_possible(sv) || !sh2_h2c(sv, c) || !creds_peek(&sv->ctx.creds, &cr))
		return 0;
	aws_creds_wipe(&cr);
	return 1;
}

int cmd_serve_h2_start(struct serve_h2call *k)
{
	struct err e = {0};

	k->h2 = sh2_h2c(k->sv, k->c);
	k->t0 = clock_ms();
	if (!k->answer.max)
		buf_init(&k->answer, SH2_ERROR_BODY_MAX);
	if (k->stream && !k->counted_stream) {
		cmd_serve_streams_add(k->sv, 1);
		k->counted_stream = 1;
	}
	if (!k->h2 || sh2_send(k, &e) < 0)
		return -1; /* the endpoint speaks HTTP/1.1 (remembered), or no helper for DNS */
	server_defer(k->c, sh2_on_client, k);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* POST /v1/chat/completions */

struct sh2_chat {
	struct serve_h2call k; /* first */
	struct oai_req orq;
	char id[OAI_ID_MAX];
	int64_t created;
	struct oai_stream os;
	struct conv_stream cs;
};

static int chat_sse_write(void *user, const uint8_t *p, size_t n, struct err *e)
{
	return cmd_serve_h2_write(user, p, n, e);
}

static int chat_data(struct serve_h2call *k, const uint8_t *p, size_t n, struct err *e)
{
	return conv_stream_feed(&((struct sh2_chat *)k)->cs, p, n, e);
}

static int chat_end(struct serve_h2call *k, struct err *e)
{
	struct sh2_chat *ch = (struct sh2_chat *)k;
	struct aws_response r;

	if (k->stream) {
		if (conv_stream_finish(&ch->cs, e) < 0 || oai_stream_end(&ch->os, e) < 0)
			return -1;
		k->end_stream = 1;
		return 0;
	}
	aws_response_init(&r);
	buf_free(&r.body);
	r.status = k->head.status;
	r.body = k->answer; /* lent */
	cmd_serve_completion(k->c, &ch->orq, ch->id, ch->created, &r, &k->usage, e);
	buf_free(&r.headers);
	return 0;
}

static int chat_fail(struct serve_h2call *k, const struct err *e, int status, const char *type)
{
	struct sh2_chat *ch = (struct sh2_chat *)k;
	struct err e2;

	if (k->stream && oai_stream_started(&ch->os)) {
		k->end_stream = !k->gone && !server_client_gone(k->c) &&
				oai_stream_fail(&ch->os, e, &e2) == 0;
		return 1;
	}
	if (!k->gone)
		cmd_serve_fail(k->c, e, status, type);
	return 0;
}

static void chat_usage(struct serve_h2call *k)
{
	if (k->stream)
		k->usage = ((struct sh2_chat *)k)->os.usage;
}

static void chat_free(struct serve_h2call *k)
{
	struct sh2_chat *ch = (struct sh2_chat *)k;

	if (k->stream) {
		conv_stream_free(&ch->cs);
		oai_stream_free(&ch->os);
	}
}

static const struct serve_h2ops chat_ops = {NULL, chat_data, chat_end, chat_fail, chat_usage,
					    chat_free};

int cmd_serve_h2_chat(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	struct sh2_chat *ch;
	struct conv_handler h;
	char fb[1][SERVE_MODEL_MAX];
	int rc;

	if (!cmd_serve_h2_ready(sv, c) || !(ch = calloc(1, sizeof *ch)))
		return 0;
	ch->k.sv = sv;
	ch->k.c = c;
	ch->k.q = *server_udata(c);
	ch->k.ops = &chat_ops;
	ch->k.what = "chat";
	ch->created = (int64_t)time(NULL);
	rc = cmd_serve_chat_prepare(sv, c, rq, &ch->orq, &ch->k.body, ch->id);
	if (rc != 0) {
		free(ch);
		return rc > 0; /* answered, or (a profile name) the blocking path */
	}
	if (cmd_serve_fallbacks(sv, ch->k.q, ch->orq.model_id, fb, 1) > 0) {
		buf_free(&ch->k.body); /* serve.fallbacks: the blocking path tries them in turn */
		free(ch);
		return 0;
	}
	snprintf(ch->k.model_id, sizeof ch->k.model_id, "%s", ch->orq.model_id);
	ch->k.stream = ch->orq.stream;
	if (ch->orq.stream) {
		oai_stream_init(&ch->os, ch->id, ch->orq.model, ch->created, ch->orq.include_usage,
				chat_sse_write, &ch->k);
		oai_stream_handler(&ch->os, &h);
		conv_stream_init(&ch->cs, &h, 0);
	}
	if (cmd_serve_h2_start(&ch->k) < 0) {
		cmd_serve_h2_discard(&ch->k);
		return 0;
	}
	return 1;
}

void cmd_serve_h2_free(struct serve *sv)
{
	int i;

	for (i = 0; i < SERVER_MAX_LOOPS; i++)
		if (sv->h2[i]) {
			h2c_free(sv->h2[i]);
			if (h2c_idle(sv->h2[i]))
				free(sv->h2[i]);
			sv->h2[i] = NULL;
		}
}
