/* server_h2_in: the frames of an HTTP/2 connection (see server_h2.c): new
 * streams from HEADERS (wire/h2msg, then the head hook and the limits),
 * request bodies from DATA with their windows granted back, SETTINGS,
 * WINDOW_UPDATE, PING, RST_STREAM and GOAWAY from the client. */
#include "net/server_h2_int.h"
#include "wire/h2msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After the head hook let the request through: limits, then the body. */
static void h2s_admit(struct server_conn *c, struct server_h2s *st, int go)
{
	struct server *s = c->s;
	const struct http_parser *p = st->c.p;

	/* a stream's handler always runs on a helper thread: deferred answers
	 * (server_defer, server_handoff) are for HTTP/1.1 connections */
	(void)go;
	st->c.inline_run = 0;
	if (p->framing == HTTP_BODY_LENGTH && p->content_length > s->o.max_body) {
		char msg[96];

		snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", s->o.max_body);
		server_h2s_refuse(st, 413, msg);
		return;
	}
	if (p->framing == HTTP_BODY_LENGTH && p->content_length > 0) {
		if (server_budget_take(s, (size_t)p->content_length) < 0) {
			server_h2s_refuse(st, 503, "the server is busy (request bodies): try again shortly");
			return;
		}
		st->c.body_reserved = (size_t)p->content_length;
	}
	if (!st->remote_end && http_header_has_token(p, "expect", "100-continue")) {
		struct buf b;

		buf_init(&b, 64);
		pthread_mutex_lock(&c->mu);
		if (h2msg_response(&c->h2->enc, &b, 100, NULL, NULL, -1) == 0)
			h2_write_headers(&st->hb, st->id, 0, b.p, b.len, c->h2->peer.max_frame_size);
		pthread_mutex_unlock(&c->mu);
		buf_free(&b);
	}
	if (st->remote_end && p->framing == HTTP_BODY_LENGTH && p->content_length != 0)
		server_h2s_reset(c, st, H2_PROTOCOL_ERROR, 1); /* content-length without DATA (8.1.1) */
	else if (st->remote_end)
		server_h2s_dispatch(c, st);
}

/* A new stream's header section is in: the head hook decides. */
static void h2s_head(struct server_conn *c, struct server_h2s *st)
{
	struct server *s = c->s;
	int go = SERVER_GO;

	if (c->peer_proxy) { /* a stream's client is its own: logged, not counted */
		char txt[SERVER_CLIENT_MAX];
		uint8_t ip[16];

		if (server_forwarded_for(s, st->c.p, txt, ip))
			memcpy(st->c.client, txt, sizeof txt);
	}
	server_conn_split(&st->c);
	st->c.head_only = slice_eq_str(st->c.p->method, "HEAD");
	if (atomic_load_explicit(&s->draining, memory_order_relaxed)) {
		server_h2s_refuse(st, 503, "the server is shutting down");
		return;
	}
	st->c.inline_run = 1; /* the hook answers on this thread */
	if (s->head)
		go = s->head(s->user, &st->c, &st->c.rq);
	if (go == SERVER_ANSWERED) {
		if (!st->c.status)
			server_reply(&st->c, 500, "text/plain", NULL, "no answer", 9);
		server_h2s_complete(st);
		return;
	}
	h2s_admit(c, st, go);
}

/* Trailers, or a header block on a stream that is gone: decoded (the
 * HPACK table must stay in step), checked, dropped. */
static int h2_trailers(struct server_conn *c, struct server_h2s *st, const struct h2_frame *f)
{
	struct server_h2 *h = c->h2;
	int r = h2msg_trailers(&h->dec, f->payload.p, f->payload.n);

	if (r == H2MSG_E_COMPRESSION)
		return server_h2_fail(c, H2_COMPRESSION_ERROR);
	if (!st)
		return 0;
	if (st->remote_end || !(f->flags & H2_FLAG_END_STREAM) || r < 0) {
		server_h2s_reset(c, st, st->remote_end ? H2_STREAM_CLOSED : H2_PROTOCOL_ERROR, 1);
		return 0;
	}
	st->remote_end = 1;
	if (st->phase == H2S_BODY) {
		const struct http_parser *p = st->c.p;

		if (p->framing == HTTP_BODY_LENGTH && p->content_length != st->c.body.len)
			server_h2s_reset(c, st, H2_PROTOCOL_ERROR, 1);
		else
			server_h2s_dispatch(c, st);
	}
	return 0;
}

static int h2_headers(struct server_conn *c, const struct h2_frame *f)
{
	struct server_h2 *h = c->h2;
	struct server_h2s *st = h2_find(h, f->stream);
	struct http_parser *p;
	int r;

	if ((f->stream & 1) == 0) /* a client opens odd streams only */
		return server_h2_fail(c, H2_PROTOCOL_ERROR);
	if (st || f->stream <= h->last_id)
		return h2_trailers(c, st, f);
	h->last_id = f->stream;
	p = malloc(sizeof *p);
	if (!p)
		return server_h2_fail(c, H2_INTERNAL_ERROR);
	http_parser_init(p, HTTP_REQUEST);
	r = h2msg_request(&h->dec, f->payload.p, f->payload.n, p);
	if (r == H2MSG_E_COMPRESSION || r == H2MSG_E_MALFORMED || h->goaway ||
	    h->nstreams >= H2S_MAX_STREAMS || !(st = server_h2s_new(c, f->stream, p))) {
		http_parser_free(p);
		free(p);
		if (r == H2MSG_E_COMPRESSION)
			return server_h2_fail(c, H2_COMPRESSION_ERROR);
		server_h2_rst(c, f->stream, r == H2MSG_E_MALFORMED ? H2_PROTOCOL_ERROR : H2_REFUSED_STREAM);
		return 0;
	}
	st->remote_end = (f->flags & H2_FLAG_END_STREAM) != 0;
	if (r == H2MSG_E_TOO_BIG) {
		http_parser_free(p);
		free(p);
		st->c.p = NULL;
		server_h2s_refuse(st, 431, "the request headers are too large");
		return 0;
	}
	h2s_head(c, st);
	return 0;
}

static int h2_data(struct server_conn *c, const struct h2_frame *f)
{
	struct server_h2 *h = c->h2;
	struct server_h2s *st;
	const struct http_parser *p;

	if (h2_window_consume(&h->rwin, f->length) < 0)
		return server_h2_fail(c, H2_FLOW_CONTROL_ERROR);
	if (h->rwin < (int32_t)(H2S_CONN_WINDOW / 2)) { /* the connection's share, at once */
		server_h2_window(c, 0, (uint32_t)(H2_DEFAULT_WINDOW + H2S_CONN_WINDOW - h->rwin));
		h->rwin = (int32_t)(H2_DEFAULT_WINDOW + H2S_CONN_WINDOW);
	}
	st = h2_find(h, f->stream);
	if (!st) /* on an idle stream an error; on one we closed, dropped */
		return f->stream > h->last_id ? server_h2_fail(c, H2_PROTOCOL_ERROR) : 0;
	if (st->remote_end) {
		server_h2s_reset(c, st, H2_STREAM_CLOSED, 1);
		return 0;
	}
	if (h2_window_consume(&st->rwin, f->length) < 0) {
		server_h2s_reset(c, st, H2_FLOW_CONTROL_ERROR, 1);
		return 0;
	}
	st->remote_end = (f->flags & H2_FLAG_END_STREAM) != 0;
	if (st->phase != H2S_BODY)
		return 0; /* answered already: the rest is dropped */
	p = st->c.p;
	if (p->framing != HTTP_BODY_LENGTH && f->payload.n) {
		if (server_budget_take(c->s, f->payload.n) < 0) {
			server_h2s_refuse(st, 503, "the server is busy (request bodies): try again shortly");
			return 0;
		}
		st->c.body_reserved += f->payload.n;
	}
	if (f->payload.n && buf_append(&st->c.body, f->payload.p, f->payload.n) < 0) {
		char msg[96];

		snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", c->s->o.max_body);
		server_h2s_refuse(st, 413, msg);
		return 0;
	}
	if (p->framing == HTTP_BODY_LENGTH &&
	    (st->c.body.len > p->content_length ||
	     (st->remote_end && st->c.body.len != p->content_length))) {
		server_h2s_reset(c, st, H2_PROTOCOL_ERROR, 1); /* content-length is not the body's (8.1.1) */
		return 0;
	}
	if (st->remote_end) {
		server_h2s_dispatch(c, st);
		return 0;
	}
	if (st->rwin < H2_DEFAULT_WINDOW / 2) { /* the body is taken: the client may go on */
		server_h2_window(c, st->id, (uint32_t)(H2_DEFAULT_WINDOW - st->rwin));
		st->rwin = H2_DEFAULT_WINDOW;
	}
	return 0;
}

static int h2_settings(struct server_conn *c, const struct h2_frame *f)
{
	struct server_h2 *h = c->h2;
	struct server_h2s *st;
	uint32_t old;
	int bad = 0, flood;

	if (f->flags & H2_FLAG_ACK)
		return 0;
	pthread_mutex_lock(&c->mu);
	old = h->peer.initial_window_size;
	h2_settings_apply(&h->peer, f);
	for (st = h->streams; st; st = st->next)
		if (h2_window_adjust(&st->win, old, h->peer.initial_window_size) < 0)
			bad = 1;
	h2_mark(c);
	h2_write_settings_ack(&c->out);
	flood = c->out.len - c->out_off > H2S_CTRL_MAX;
	pthread_mutex_unlock(&c->mu);
	if (bad)
		return server_h2_fail(c, H2_FLOW_CONTROL_ERROR);
	return flood ? server_h2_fail(c, H2_ENHANCE_YOUR_CALM) : 0;
}

static int h2_window_update(struct server_conn *c, const struct h2_frame *f)
{
	struct server_h2 *h = c->h2;
	struct server_h2s *st = NULL;
	int r;

	pthread_mutex_lock(&c->mu);
	if (f->stream == 0) {
		r = h2_window_increase(&h->win, f->increment);
	} else {
		st = h2_find(h, f->stream);
		r = st ? h2_window_increase(&st->win, f->increment) : 0;
	}
	pthread_mutex_unlock(&c->mu);
	if (r < 0 && !st)
		return server_h2_fail(c, H2_FLOW_CONTROL_ERROR);
	if (r < 0)
		server_h2s_reset(c, st, H2_FLOW_CONTROL_ERROR, 1);
	return 0;
}

/* One frame; -1 when the connection failed. */
static int h2_frame(struct server_conn *c, const struct h2_frame *f)
{
	struct server_h2 *h = c->h2;
	struct server_h2s *st;
	int flood;

	switch (f->type) {
	case H2_HEADERS: return h2_headers(c, f);
	case H2_DATA: return h2_data(c, f);
	case H2_SETTINGS: return h2_settings(c, f);
	case H2_WINDOW_UPDATE: return h2_window_update(c, f);
	case H2_PING:
		if (f->flags & H2_FLAG_ACK)
			return 0;
		pthread_mutex_lock(&c->mu);
		h2_mark(c);
		h2_write_ping(&c->out, 1, f->payload.p);
		flood = c->out.len - c->out_off > H2S_CTRL_MAX;
		pthread_mutex_unlock(&c->mu);
		return flood ? server_h2_fail(c, H2_ENHANCE_YOUR_CALM) : 0;
	case H2_RST_STREAM:
		st = h2_find(h, f->stream);
		if (st)
			server_h2s_reset(c, st, 0, 0); /* that stream's client is gone */
		else if (f->stream > h->last_id)
			return server_h2_fail(c, H2_PROTOCOL_ERROR); /* an idle stream */
		return 0;
	case H2_GOAWAY:
		h->goaway = 1; /* no new streams come: close when the last is answered */
		return 0;
	default: return 0; /* PRIORITY */
	}
}

/* Feeds bytes to the frame parser; -1 once the connection failed. */
int server_h2_input(struct server_conn *c, const uint8_t *in, size_t n)
{
	struct server_h2 *h = c->h2;

	for (;;) {
		struct h2_frame f;
		size_t used = 0;
		int r;

		if (h->closing || c->st != SC_H2)
			return -1;
		r = h2_feed(&h->p, in, n, &used, &f);
		in += used;
		n -= used;
		if (r == 0)
			return 0;
		if (r == 1) {
			if (h2_frame(c, &f) < 0)
				return -1;
		} else if (h2_is_stream_error(r)) {
			struct server_h2s *st = h2_find(h, f.stream);

			if (st)
				server_h2s_reset(c, st, h2_error_code(r), 1);
			else
				server_h2_rst(c, f.stream, h2_error_code(r));
		} else {
			return server_h2_fail(c, h2_error_code(r));
		}
	}
}
