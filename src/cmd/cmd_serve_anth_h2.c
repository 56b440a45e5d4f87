/* cmd_serve_anth_h2: POST /v1/messages on the loop thread over HTTP/2
 * upstream (cmd_serve_h2.c's engine), with the same events as the
 * blocking path of cmd_serve_anth.c: Claude through
 * InvokeModel(WithResponseStream) relayed by anth_relay, other models
 * through Converse(Stream) into anth_conv. A stream's head goes out with
 * Bedrock's 2xx event stream; pings are a loop timer. An Anthropic model
 * name (the catalog) and serve.fallbacks go to the blocking path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cmd/serve.h"
#include "cmd/serve_anth.h"

struct anth_loop {
	struct serve_h2call k; /* first */
	struct anth_call ac;
	struct loop_timer ping;
	int64_t last; /* clock_ms of the last write */
	int claude;
};

static int anth_loop_write(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct anth_loop *al = user;

	al->last = clock_ms();
	return cmd_serve_h2_write(&al->k, p, n, e);
}

static void anth_loop_ping(struct loop *l, struct loop_timer *t)
{
	static const char ping[] = ANTH_PING;
	struct anth_loop *al = t->user;
	int64_t now = clock_ms(), next;

	if (al->k.gone || server_client_gone(al->k.c))
		return;
	if (now - al->last >= ANTH_PING_MS && !server_out_full(al->k.c)) {
		server_stream_send(al->k.c, ping, sizeof ping - 1);
		al->last = now;
	}
	/* never in the past: a client that reads nothing keeps the output full
	 * and last where it was, and a past deadline would run this again at
	 * once, forever (the loop's now does not move within its timers) */
	next = al->last + ANTH_PING_MS;
	if (next <= now)
		next = now + ANTH_PING_EVERY_MS;
	loop_timer_set(l, t, next);
}

static int anth_loop_head(struct serve_h2call *k, struct err *e)
{
	struct anth_loop *al = (struct anth_loop *)k;

	if (!k->stream || !k->event_stream)
		return 0;
	if (server_stream_start(k->c, 200, "text/event-stream", ANTH_SSE_HEAD) < 0)
		return err_set(e, ERR_NET, "the client went away");
	al->last = clock_ms();
	al->ping.fn = anth_loop_ping;
	al->ping.user = al;
	loop_timer_set(server_loop_of(k->c), &al->ping, al->last + ANTH_PING_MS);
	return 0;
}

static int anth_loop_data(struct serve_h2call *k, const uint8_t *p, size_t n, struct err *e)
{
	struct anth_loop *al = (struct anth_loop *)k;

	return al->claude ? anth_relay_feed(&al->ac.rl, p, n, e)
			  : conv_stream_feed(&al->ac.cs, p, n, e);
}

static int anth_loop_end(struct serve_h2call *k, struct err *e)
{
	struct anth_loop *al = (struct anth_loop *)k;
	struct anth_usage au;
	struct err e2;

	if (k->stream) {
		if (al->claude ? anth_relay_finish(&al->ac.rl, e) < 0
			       : conv_stream_finish(&al->ac.cs, e) < 0 || anth_conv_end(&al->ac.cv, e) < 0)
			return -1;
		loop_timer_stop(server_loop_of(k->c), &al->ping);
		k->end_stream = 1;
		return 0;
	}
	if (!al->claude) {
		cmd_serve_anth_conv_answer(&al->ac, &k->answer, e);
		k->usage = al->ac.usage;
		return 0;
	}
	if (anth_usage_from_message(k->answer.p, k->answer.len, &au, &e2) == 0)
		cmd_serve_anth_usage(&au, &k->usage);
	cmd_serve_h2_charge(k);
	server_reply(k->c, 200, "application/json", NULL, k->answer.p, k->answer.len);
	return 0;
}

static int anth_loop_fail(struct serve_h2call *k, const struct err *e, int status, const char *type)
{
	struct anth_loop *al = (struct anth_loop *)k;
	struct err e2;

	if (!server_status(k->c)) {
		if (!k->gone)
			cmd_serve_fail(k->c, e, status >= 300 ? status : 0, type);
		return 0;
	}
	loop_timer_stop(server_loop_of(k->c), &al->ping);
	if (!k->gone && !server_client_gone(k->c)) {
		if (!al->claude && anth_conv_started(&al->ac.cv))
			anth_conv_fail(&al->ac.cv, e, &e2);
		else
			cmd_serve_anth_late_error(e, status, type, anth_loop_write, al);
		k->end_stream = 1;
	}
	return 1;
}

static void anth_loop_usage(struct serve_h2call *k)
{
	struct anth_loop *al = (struct anth_loop *)k;

	if (k->stream && al->claude)
		cmd_serve_anth_usage(&al->ac.rl.usage, &k->usage);
	else if (k->stream)
		k->usage = al->ac.cv.usage;
}

static void anth_loop_free(struct serve_h2call *k)
{
	struct anth_loop *al = (struct anth_loop *)k;

	loop_timer_stop(server_loop_of(k->c), &al->ping);
	if (k->stream && al->claude) {
		anth_relay_free(&al->ac.rl);
	} else if (k->stream) {
		conv_stream_free(&al->ac.cs);
		anth_conv_free(&al->ac.cv);
	}
}

static const struct serve_h2ops anth_loop_ops = {anth_loop_head, anth_loop_data, anth_loop_end,
						 anth_loop_fail, anth_loop_usage, anth_loop_free};

/* Mapped, resolved without the catalog, admitted: 0 to send, 1 answered,
 * -1 for the blocking path (an Anthropic name, serve.fallbacks). */
static int anth_loop_prepare(struct anth_loop *al, const struct server_request *rq,
			     struct anth_req *ar)
{
	struct serve *sv = al->k.sv;
	char fb[1][SERVE_MODEL_MAX];
	struct serve_refusal ref;
	struct buf beta;
	struct err e;
	int rc;

	buf_init(&beta, 8192);
	cmd_serve_anth_betas(rq, &beta);
	pthread_rwlock_rdlock(&sv->cfg_mu); /* serve.anthropicBetas (NULL: the default list) */
	rc = anth_map_invoke(rq->body, rq->body_len, (const char *)beta.p,
			     (const char *const *)sv->ctx.cfg.serve_anthropic_betas, ar, &al->k.body, &e);
	pthread_rwlock_unlock(&sv->cfg_mu);
	if (rc < 0)
		cmd_serve_anth_map_failed(al->k.c, ar, &e);
	else if ((rc = cmd_serve_anth_model(sv, al->k.c, ar->model, al->ac.model, 1)) > 0 ||
		 (rc == 0 && cmd_serve_fallbacks(sv, al->k.q, al->ac.model, fb, 1) > 0))
		rc = -2;
	if (rc == 0) {
		snprintf(al->ac.name, sizeof al->ac.name, "%s", ar->model);
		if (al->k.q)
			snprintf(al->k.q->model, sizeof al->k.q->model, "%.150s", al->ac.model);
		al->claude = anth_model_is_claude(al->ac.model);
		if (!al->claude && (rc = cmd_serve_anth_body(&al->ac, rq, (const char *)beta.p, ar,
						   &al->k.body, &e)) < 0)
			cmd_serve_anth_map_failed(al->k.c, ar, &e);
	}
	if (rc == 0 && !(al->k.q && al->k.q->admitted) &&
	    (rc = cmd_serve_admit(sv, al->k.q, al->ac.model, &ref)) < 0)
		cmd_serve_refuse(al->k.c, &ref);
	buf_free(&beta);
	return rc == -2 ? -1 : rc < 0 ? 1 : 0;
}

int cmd_serve_messages_loop(struct serve *sv, struct server_conn *c,
			    const struct server_request *rq)
{
	struct anth_loop *al;
	struct anth_req ar;
	struct conv_handler h;
	int rc;

	if (!cmd_serve_h2_ready(sv, c) || !(al = calloc(1, sizeof *al)))
		return 0;
	al->k.sv = al->ac.sv = sv;
	al->k.c = al->ac.c = c;
	al->k.q = al->ac.q = cmd_serve_req(c);
	al->k.ops = &anth_loop_ops;
	al->k.what = "messages";
	buf_init(&al->k.body, ANTH_BODY_OUT_MAX);
	memset(&ar, 0, sizeof ar);
	if ((rc = anth_loop_prepare(al, rq, &ar)) != 0) {
		buf_free(&al->k.body);
		free(al);
		return rc > 0;
	}
	cmd_serve_anth_msg_id(al->ac.id, sizeof al->ac.id);
	snprintf(al->k.model_id, sizeof al->k.model_id, "%s", al->ac.model);
	al->k.stream = ar.stream;
	if (al->claude)
		al->k.action = ar.stream ? "invoke-with-response-stream" : "invoke";
	if (ar.stream && al->claude) {
		anth_relay_init(&al->ac.rl, anth_loop_write, al);
	} else if (ar.stream) {
		anth_conv_init(&al->ac.cv, al->ac.id, al->ac.name, anth_loop_write, al);
		anth_conv_handler(&al->ac.cv, &h);
		conv_stream_init(&al->ac.cs, &h, 0);
	}
	if (sv->g->verbose)
		ctx_log(&sv->ctx, "messages %s via %s%s, body %zu bytes", al->ac.model,
			al->claude ? "invoke" : "converse", ar.stream ? " (stream)" : "",
			al->k.body.len);
	if (cmd_serve_h2_start(&al->k) < 0) {
		cmd_serve_h2_discard(&al->k);
		return 0;
	}
	return 1;
}

