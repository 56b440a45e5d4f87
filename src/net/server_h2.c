/* server_h2: cleartext HTTP/2 with prior knowledge (RFC 9113 section 3.3)
 * on the serve listener. A connection whose first bytes are the client
 * preface (server_conn.c sniffs them) becomes an HTTP/2 connection (state
 * SC_H2) on the same loop, with the same caps and per-address count.
 *
 * Each stream is a struct server_h2s whose first member is a struct
 * server_conn: the head hook, the handler, the done hook and the whole
 * answering API (server_out.c hands stream calls to the functions at the
 * end of this file) take it as they take an HTTP/1.1 connection, so the
 * routes work unchanged. Its request is an http_parser filled by wire/h2msg
 * from the header block (Host from :authority); DATA frames are its body
 * (max_body, the body budget, request_ms from its HEADERS, as for
 * HTTP/1.1). A stream's answer goes to its own buffers, HEADERS frames in
 * hb and body bytes in pend, under the connection's mutex; the pump frames
 * pend into the connection's output as the client's windows, its
 * SETTINGS_MAX_FRAME_SIZE and out_max allow, one frame per stream in turn,
 * on whichever thread has just queued output or on the loop after a
 * WINDOW_UPDATE or a write. A handler thread waits while its stream has
 * more than out_max unframed (backpressure, per stream: one slow stream
 * never holds up another); a stream that moves nothing for write_ms while
 * output waits is reset (CANCEL) and its handler sees server_client_gone.
 *
 * Stream phases: BODY (request arriving) -> RUN (handler) -> OUT (handler
 * returned, done hook called, output being framed) -> freed once END_STREAM
 * is framed (RST_STREAM NO_ERROR then when the client had not finished its
 * request) or the stream was reset. One timer per connection carries the
 * nearest deadline of the connection and its streams. GOAWAY: on a
 * connection error (with its code), on drain (last stream handled, NO_ERROR;
 * requests still arriving are refused with REFUSED_STREAM and running ones
 * finish), after idle_ms without streams. */
#include "net/server_impl.h"
#include "base/clock.h"
#include "wire/h2msg.h"
#include "wire/hpack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#define H2S_MAX_STREAMS 100          /* SETTINGS_MAX_CONCURRENT_STREAMS we advertise */
#define H2S_CONN_WINDOW (1u << 20)   /* added to the connection receive window at start */
#define H2S_CTRL_MAX (1u << 20)      /* unread output beyond which a PING or SETTINGS is a flood */
#define H2S_PEND_HARD (160u << 20)   /* one stream's unframed answer (a whole JSON body) */
#define H2S_SCRATCH HTTP_HEAD_MAX    /* per loop: Huffman-coded strings of a header block */

enum h2s_phase { H2S_BODY = 0, H2S_RUN, H2S_OUT };

struct server_h2s {
	struct server_conn c; /* first: what the hooks and the answering API take */
	struct server_h2s *next;
	uint32_t id;
	int phase;      /* enum h2s_phase (loop thread) */
	int job;        /* the handler runs on a helper thread */
	int busy;       /* counted in s->busy */
	int remote_end; /* END_STREAM received */
	int32_t rwin;   /* what the client may still send */
	/* under the connection's mu */
	int32_t win;    /* what we may still send */
	struct buf hb;  /* HEADERS frames not yet queued */
	struct buf pend; /* answer bytes not yet framed */
	size_t pend_off;
	int end_in_head, end_queued, sent_end;
	int final_held; /* the last piece waits for the loop: the done hook goes first */
	int reset;      /* RST_STREAM sent or received: output dropped */
	int64_t last_move;
};

struct server_h2 {
	struct h2_parser p;
	struct hpack_decoder dec;
	struct hpack_encoder enc;   /* under mu (no dynamic table: size 0) */
	struct h2_settings peer;    /* under mu */
	int32_t win;                /* under mu: the connection's send window */
	int32_t rwin;               /* the connection's receive window */
	uint32_t last_id, last_run; /* highest stream opened, highest handled */
	struct server_h2s *streams; /* changed by the loop under mu; walked by the pump */
	int nstreams, jobs;
	int goaway;  /* no new streams; close once none is left */
	int closing; /* a connection error: close once the GOAWAY is written */
	int64_t active;
};

static void h2s_on_msg(struct loop *l, struct loop_msg *m, unsigned bits);
static void h2s_job(struct loop_job *j);
static void h2_after(struct server_conn *c);

static struct server_h2s *h2s_of(struct server_conn *c)
{
	return (struct server_h2s *)(void *)c;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Under mu: output is about to be queued; a write deadline counts from now
 * when nothing was waiting. */
static void h2_mark(struct server_conn *c)
{
	if (c->out.len == c->out_off)
		c->last_write = clock_ms();
}

static struct server_h2s *h2_find(const struct server_h2 *h, uint32_t id)
{
	struct server_h2s *st;

	for (st = h->streams; st; st = st->next)
		if (st->id == id)
			return st;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Frames we send from the loop */

static void h2_rst(struct server_conn *c, uint32_t id, uint32_t code)
{
	pthread_mutex_lock(&c->mu);
	h2_mark(c);
	h2_write_rst_stream(&c->out, id, code);
	pthread_mutex_unlock(&c->mu);
}

static void h2_window(struct server_conn *c, uint32_t id, uint32_t inc)
{
	pthread_mutex_lock(&c->mu);
	h2_mark(c);
	h2_write_window_update(&c->out, id, inc);
	pthread_mutex_unlock(&c->mu);
}

/* A connection error: GOAWAY with its code, every stream gone. -1. */
static int h2_fail(struct server_conn *c, uint32_t code)
{
	struct server_h2 *h = c->h2;
	struct server_h2s *st;

	pthread_mutex_lock(&c->mu);
	h2_mark(c);
	h2_write_goaway(&c->out, h->last_id, code, NULL, 0);
	for (st = h->streams; st; st = st->next)
		st->c.gone = st->reset = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	h->goaway = h->closing = 1;
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Streams */

static struct server_h2s *h2s_new(struct server_conn *c, uint32_t id, struct http_parser *p)
{
	struct server_h2 *h = c->h2;
	struct server_h2s *st = calloc(1, sizeof *st), **tail;

	if (!st)
		return NULL;
	st->c.s = c->s;
	st->c.sl = c->sl;
	st->c.up = c;
	st->c.fd = -1;
	st->c.st = SC_H2;
	st->c.p = p;
	st->c.req_start = c->sl->l.now;
	memcpy(st->c.client, c->client, sizeof st->c.client);
	buf_init(&st->c.body, c->s->o.max_body);
	buf_init(&st->hb, 2 * HTTP_HEAD_MAX);
	buf_init(&st->pend, H2S_PEND_HARD);
	st->c.msg.fn = h2s_on_msg;
	st->c.msg.user = st;
	st->c.job.fn = h2s_job;
	st->c.job.user = st;
	st->id = id;
	st->rwin = H2_DEFAULT_WINDOW;
	st->last_move = c->sl->l.now;
	pthread_mutex_lock(&c->mu);
	st->win = (int32_t)h->peer.initial_window_size;
	for (tail = &h->streams; *tail; tail = &(*tail)->next) /* in order: turns are fair */
		;
	*tail = st;
	pthread_mutex_unlock(&c->mu);
	h->nstreams++;
	return st;
}

/* The request's memory, once it has been answered. */
static void h2s_request_free(struct server_h2s *st)
{
	if (st->c.p) {
		http_parser_free(st->c.p);
		free(st->c.p);
		st->c.p = NULL;
	}
	memset(&st->c.rq, 0, sizeof st->c.rq);
	server_body_done(&st->c);
	st->c.udata = NULL;
}

static void h2s_free(struct server_h2s *st)
{
	struct server_conn *c = st->c.up;
	struct server_h2 *h = c->h2;
	struct server_h2s **pp;

	pthread_mutex_lock(&c->mu);
	for (pp = &h->streams; *pp; pp = &(*pp)->next)
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	pthread_mutex_unlock(&c->mu);
	h->nstreams--;
	h->active = c->sl->l.now; /* the idle time counts from the last stream */
	if (st->busy)
		atomic_fetch_sub(&c->s->busy, 1);
	if (st->c.streaming > 0)
		atomic_fetch_sub(&c->s->streams, 1);
	h2s_request_free(st);
	buf_free(&st->hb);
	buf_free(&st->pend);
	free(st);
}

static void h2s_busy(struct server_h2s *st)
{
	if (!st->busy) {
		st->busy = 1;
		atomic_fetch_add(&st->c.s->busy, 1);
	}
}

/* Under mu: the stream is over for its client (reset either way). */
static void h2s_gone_locked(struct server_h2s *st)
{
	st->c.gone = st->reset = 1;
	buf_reset(&st->hb);
	buf_reset(&st->pend);
	st->pend_off = 0;
	pthread_cond_broadcast(&st->c.up->cv);
}

/* A stream error: RST_STREAM(code) unless the client reset it itself. A
 * stream whose request was still arriving goes at once. */
static void h2s_reset(struct server_conn *c, struct server_h2s *st, uint32_t code, int send)
{
	pthread_mutex_lock(&c->mu);
	if (send) {
		h2_mark(c);
		h2_write_rst_stream(&c->out, st->id, code);
	}
	h2s_gone_locked(st);
	pthread_mutex_unlock(&c->mu);
	st->remote_end = 1;
	if (st->phase == H2S_BODY)
		h2s_free(st);
}

/* The handler returned, or the stream was answered by the head hook or
 * refused (loop thread): complete the answer, run the done hook, then let
 * the last piece go. */
static void h2s_complete(struct server_h2s *st)
{
	struct server_conn *sc = &st->c, *c = sc->up;
	struct server *s = sc->s;

	if (st->id > c->h2->last_run)
		c->h2->last_run = st->id;
	if (sc->streaming > 0) /* a handler that forgot to end its stream */
		server_h2_stream_end(sc);
	if (!sc->status) {
		static const char msg[] = "the request was not answered";

		if (s->error)
			s->error(s->user, sc, 500, msg);
		else
			server_reply(sc, 500, "text/plain", NULL, msg, sizeof msg - 1);
	}
	h2s_busy(st);
	if (s->done)
		s->done(s->user, sc, sc->rq.p ? &sc->rq : NULL, sc->status);
	h2s_request_free(st);
	pthread_mutex_lock(&c->mu);
	st->final_held = 0;
	pthread_mutex_unlock(&c->mu);
	st->phase = H2S_OUT;
}

/* The server's own refusal (408, 413, 431, 503) as the stream's answer. */
static void h2s_refuse(struct server_h2s *st, int status, const char *msg)
{
	struct server *s = st->c.s;

	st->c.inline_run = 1;
	if (!st->c.status) {
		if (s->error)
			s->error(s->user, &st->c, status, msg);
		else
			server_reply(&st->c, status, "text/plain", NULL, msg, strlen(msg));
	}
	h2s_complete(st);
}

static void h2s_job(struct loop_job *j)
{
	struct server_h2s *st = j->user;

	st->c.s->handler(st->c.s->user, &st->c, &st->c.rq);
	/* the last touch of st on this thread: the loop may free it from now */
	loop_post(&st->c.sl->l, &st->c.msg, SC_MSG_DONE);
}

/* The request is complete: run the handler. */
static void h2s_dispatch(struct server_conn *c, struct server_h2s *st)
{
	struct server *s = c->s;

	st->c.rq.body = st->c.body.p;
	st->c.rq.body_len = st->c.body.len;
	st->phase = H2S_RUN;
	if (st->id > c->h2->last_run)
		c->h2->last_run = st->id; /* what a GOAWAY says was handled */
	h2s_busy(st);
	if (st->c.inline_run) {
		s->handler(s->user, &st->c, &st->c.rq);
		h2s_complete(st);
		return;
	}
	st->job = 1;
	c->h2->jobs++;
	if (loop_pool_submit(&s->pool, &st->c.job) < 0) {
		st->job = 0;
		c->h2->jobs--;
		h2s_refuse(st, 503, "the server is busy: try again shortly");
	}
}

/* A handler thread returned (posted by h2s_job). */
static void h2s_on_msg(struct loop *l, struct loop_msg *m, unsigned bits)
{
	struct server_h2s *st = m->user;
	struct server_conn *c = st->c.up;

	(void)l;
	(void)bits;
	st->job = 0;
	c->h2->jobs--;
	h2s_complete(st);
	if (c->st == SC_H2) {
		h2_after(c);
		return;
	}
	h2s_free(st); /* the connection is closed (or lingering) */
	if (c->st == SC_ZOMBIE && c->h2->jobs == 0) {
		c->st = SC_DEAD;
		c->dead_next = c->sl->dead;
		c->sl->dead = c;
	}
}

/* Streams whose answer is all framed (or reset) go; 1 when one did. */
static int h2_reap(struct server_conn *c)
{
	struct server_h2s *st = c->h2->streams, *next;
	int any = 0;

	for (; st; st = next) {
		int done;

		next = st->next;
		if (st->phase != H2S_OUT)
			continue;
		pthread_mutex_lock(&c->mu);
		done = st->sent_end || st->reset;
		pthread_mutex_unlock(&c->mu);
		if (!done)
			continue;
		if (!st->reset && !st->remote_end) /* answered before the request was all in */
			h2_rst(c, st->id, H2_NO_ERROR);
		h2s_free(st);
		any = 1;
	}
	return any;
}

/* ------------------------------------------------------------------------ */
/* Frames from the client */

/* After the head hook let the request through: limits, then the body. */
static void h2s_admit(struct server_conn *c, struct server_h2s *st, int go)
{
	struct server *s = c->s;
	const struct http_parser *p = st->c.p;

	st->c.inline_run = go == SERVER_GO_INLINE;
	if (p->framing == HTTP_BODY_LENGTH && p->content_length > s->o.max_body) {
		char msg[96];

		snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", s->o.max_body);
		h2s_refuse(st, 413, msg);
		return;
	}
	if (p->framing == HTTP_BODY_LENGTH && p->content_length > 0) {
		if (server_budget_take(s, (size_t)p->content_length) < 0) {
			h2s_refuse(st, 503, "the server is busy (request bodies): try again shortly");
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
		h2s_reset(c, st, H2_PROTOCOL_ERROR, 1); /* content-length without DATA (8.1.1) */
	else if (st->remote_end)
		h2s_dispatch(c, st);
}

/* A new stream's header section is in: the head hook decides. */
static void h2s_head(struct server_conn *c, struct server_h2s *st)
{
	struct server *s = c->s;
	int go = SERVER_GO;

	server_conn_split(&st->c);
	st->c.head_only = slice_eq_str(st->c.p->method, "HEAD");
	if (atomic_load_explicit(&s->draining, memory_order_relaxed)) {
		h2s_refuse(st, 503, "the server is shutting down");
		return;
	}
	st->c.inline_run = 1; /* the hook answers on this thread */
	if (s->head)
		go = s->head(s->user, &st->c, &st->c.rq);
	if (go == SERVER_ANSWERED) {
		if (!st->c.status)
			server_reply(&st->c, 500, "text/plain", NULL, "no answer", 9);
		h2s_complete(st);
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
		return h2_fail(c, H2_COMPRESSION_ERROR);
	if (!st)
		return 0;
	if (st->remote_end || !(f->flags & H2_FLAG_END_STREAM) || r < 0) {
		h2s_reset(c, st, st->remote_end ? H2_STREAM_CLOSED : H2_PROTOCOL_ERROR, 1);
		return 0;
	}
	st->remote_end = 1;
	if (st->phase == H2S_BODY) {
		const struct http_parser *p = st->c.p;

		if (p->framing == HTTP_BODY_LENGTH && p->content_length != st->c.body.len)
			h2s_reset(c, st, H2_PROTOCOL_ERROR, 1);
		else
			h2s_dispatch(c, st);
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
		return h2_fail(c, H2_PROTOCOL_ERROR);
	if (st || f->stream <= h->last_id)
		return h2_trailers(c, st, f);
	h->last_id = f->stream;
	p = malloc(sizeof *p);
	if (!p)
		return h2_fail(c, H2_INTERNAL_ERROR);
	http_parser_init(p, HTTP_REQUEST);
	r = h2msg_request(&h->dec, f->payload.p, f->payload.n, p);
	if (r == H2MSG_E_COMPRESSION || r == H2MSG_E_MALFORMED || h->goaway ||
	    h->nstreams >= H2S_MAX_STREAMS || !(st = h2s_new(c, f->stream, p))) {
		http_parser_free(p);
		free(p);
		if (r == H2MSG_E_COMPRESSION)
			return h2_fail(c, H2_COMPRESSION_ERROR);
		h2_rst(c, f->stream, r == H2MSG_E_MALFORMED ? H2_PROTOCOL_ERROR : H2_REFUSED_STREAM);
		return 0;
	}
	st->remote_end = (f->flags & H2_FLAG_END_STREAM) != 0;
	if (r == H2MSG_E_TOO_BIG) {
		http_parser_free(p);
		free(p);
		st->c.p = NULL;
		h2s_refuse(st, 431, "the request headers are too large");
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
		return h2_fail(c, H2_FLOW_CONTROL_ERROR);
	if (h->rwin < (int32_t)(H2S_CONN_WINDOW / 2)) { /* the connection's share, at once */
		h2_window(c, 0, (uint32_t)(H2_DEFAULT_WINDOW + H2S_CONN_WINDOW - h->rwin));
		h->rwin = (int32_t)(H2_DEFAULT_WINDOW + H2S_CONN_WINDOW);
	}
	st = h2_find(h, f->stream);
	if (!st) /* on an idle stream an error; on one we closed, dropped */
		return f->stream > h->last_id ? h2_fail(c, H2_PROTOCOL_ERROR) : 0;
	if (st->remote_end) {
		h2s_reset(c, st, H2_STREAM_CLOSED, 1);
		return 0;
	}
	if (h2_window_consume(&st->rwin, f->length) < 0) {
		h2s_reset(c, st, H2_FLOW_CONTROL_ERROR, 1);
		return 0;
	}
	st->remote_end = (f->flags & H2_FLAG_END_STREAM) != 0;
	if (st->phase != H2S_BODY)
		return 0; /* answered already: the rest is dropped */
	p = st->c.p;
	if (p->framing != HTTP_BODY_LENGTH && f->payload.n) {
		if (server_budget_take(c->s, f->payload.n) < 0) {
			h2s_refuse(st, 503, "the server is busy (request bodies): try again shortly");
			return 0;
		}
		st->c.body_reserved += f->payload.n;
	}
	if (f->payload.n && buf_append(&st->c.body, f->payload.p, f->payload.n) < 0) {
		char msg[96];

		snprintf(msg, sizeof msg, "the request body is larger than %zu bytes", c->s->o.max_body);
		h2s_refuse(st, 413, msg);
		return 0;
	}
	if (p->framing == HTTP_BODY_LENGTH &&
	    (st->c.body.len > p->content_length ||
	     (st->remote_end && st->c.body.len != p->content_length))) {
		h2s_reset(c, st, H2_PROTOCOL_ERROR, 1); /* content-length is not the body's (8.1.1) */
		return 0;
	}
	if (st->remote_end) {
		h2s_dispatch(c, st);
		return 0;
	}
	if (st->rwin < H2_DEFAULT_WINDOW / 2) { /* the body is taken: the client may go on */
		h2_window(c, st->id, (uint32_t)(H2_DEFAULT_WINDOW - st->rwin));
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
		return h2_fail(c, H2_FLOW_CONTROL_ERROR);
	return flood ? h2_fail(c, H2_ENHANCE_YOUR_CALM) : 0;
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
		return h2_fail(c, H2_FLOW_CONTROL_ERROR);
	if (r < 0)
		h2s_reset(c, st, H2_FLOW_CONTROL_ERROR, 1);
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
		return flood ? h2_fail(c, H2_ENHANCE_YOUR_CALM) : 0;
	case H2_RST_STREAM:
		st = h2_find(h, f->stream);
		if (st)
			h2s_reset(c, st, 0, 0); /* that stream's client is gone */
		else if (f->stream > h->last_id)
			return h2_fail(c, H2_PROTOCOL_ERROR); /* an idle stream */
		return 0;
	case H2_GOAWAY:
		h->goaway = 1; /* no new streams come: close when the last is answered */
		return 0;
	default: return 0; /* PRIORITY */
	}
}

/* Feeds bytes to the frame parser; -1 once the connection failed. */
static int h2_input(struct server_conn *c, const uint8_t *in, size_t n)
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
				h2s_reset(c, st, h2_error_code(r), 1);
			else
				h2_rst(c, f.stream, h2_error_code(r));
		} else {
			return h2_fail(c, h2_error_code(r));
		}
	}
}

/* ------------------------------------------------------------------------ */
/* The connection on its loop */

/* The nearest deadline of the connection and its streams. */
static void h2_arm(struct server_conn *c)
{
	struct server *s = c->s;
	struct server_h2 *h = c->h2;
	struct server_h2s *st;
	int64_t at = INT64_MAX, wms = server_opt(s, &s->o.write_ms);
	int64_t rms = server_opt(s, &s->o.request_ms), ims = server_opt(s, &s->o.idle_ms);

	pthread_mutex_lock(&c->mu);
	if (c->out.len > c->out_off)
		at = c->last_write + wms;
	for (st = h->streams; st; st = st->next) {
		if (st->phase == H2S_BODY)
			at = min64(at, st->c.req_start + rms);
		if (!st->final_held && !st->reset && !st->sent_end &&
		    (st->hb.len || st->pend.len > st->pend_off))
			at = min64(at, st->last_move + wms);
	}
	pthread_mutex_unlock(&c->mu);
	if (!h->streams)
		at = min64(at, h->active + ims);
	if (at == INT64_MAX)
		loop_timer_stop(&c->sl->l, &c->tm); /* every stream is with its handler */
	else if (loop_timer_set(&c->sl->l, &c->tm, at) < 0)
		server_conn_close(c);
}

/* After input, output or a handler's end: write, free finished streams,
 * close when the connection is done, re-arm. */
static void h2_after(struct server_conn *c)
{
	struct server_h2 *h = c->h2;
	int pending;

	if (c->st != SC_H2)
		return;
	pending = server_conn_flush(c);
	/* a finished stream stops counting as busy; while draining only once
	 * its last bytes are written (the process exits when nothing is busy) */
	if (pending >= 0 && (pending == 0 || !atomic_load(&c->s->draining)) && h2_reap(c))
		pending = server_conn_flush(c);
	if (pending < 0)
		return; /* closed */
	if ((h->closing || (h->goaway && !h->streams)) && pending == 0) {
		server_conn_linger(c); /* GOAWAY written: read and drop, then close */
		return;
	}
	h2_arm(c);
}

void server_h2_start(struct server_conn *c, const uint8_t *pre, size_t npre, const uint8_t *p,
		     size_t n)
{
	static const struct h2_setting set[] = {
		{H2_SETTINGS_MAX_CONCURRENT_STREAMS, H2S_MAX_STREAMS},
		{H2_SETTINGS_ENABLE_PUSH, 0},
		{H2_SETTINGS_MAX_HEADER_LIST_SIZE, HTTP_HEAD_MAX}};
	struct server_h2 *h = calloc(1, sizeof *h);

	if (!c->sl->h2scratch)
		c->sl->h2scratch = malloc(H2S_SCRATCH);
	if (!h || !c->sl->h2scratch) {
		free(h);
		server_conn_close(c);
		return;
	}
	c->h2 = h;
	c->st = SC_H2;
	loop_timer_stop(&c->sl->l, &c->tm);
	h2_parser_init(&h->p, H2_SERVER, HTTP_HEAD_MAX);
	hpack_decoder_init(&h->dec, HPACK_TABLE_CAP, HTTP_HEAD_MAX, c->sl->h2scratch, H2S_SCRATCH);
	hpack_encoder_init(&h->enc, 0);
	h2_settings_init(&h->peer);
	h->win = H2_DEFAULT_WINDOW;
	h->rwin = (int32_t)(H2_DEFAULT_WINDOW + H2S_CONN_WINDOW);
	h->active = c->sl->l.now;
	pthread_mutex_lock(&c->mu);
	h2_mark(c);
	h2_write_settings(&c->out, set, sizeof set / sizeof set[0]);
	h2_write_window_update(&c->out, 0, H2S_CONN_WINDOW);
	pthread_mutex_unlock(&c->mu);
	if (h2_input(c, pre, npre) == 0)
		h2_input(c, p, n);
	if (c->st == SC_H2 && atomic_load_explicit(&c->s->draining, memory_order_relaxed))
		server_h2_drain(c); /* opened after the drain pass */
	h2_after(c);
}

static void h2_feed_bytes(struct server_conn *c, const uint8_t *p, size_t n)
{
	h2_input(c, p, n);
	h2_after(c);
}

void server_h2_on_io(struct server_conn *c, uint32_t events)
{
	uint8_t *b = c->sl->scratch;
	ssize_t r;

	if (events & EPOLLOUT)
		h2_after(c);
	if (c->st != SC_H2 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	do
		r = recv(c->fd, b, SERVER_SCRATCH, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (r <= 0) {
		server_conn_close(c);
		return;
	}
	c->h2->active = c->sl->l.now;
	h2_feed_bytes(c, b, (size_t)r);
}

void server_h2_on_msg(struct server_conn *c, unsigned bits)
{
	if (bits & SC_MSG_OUT)
		h2_after(c);
}

void server_h2_on_timer(struct server_conn *c)
{
	struct server *s = c->s;
	struct server_h2 *h = c->h2;
	struct server_h2s *st;
	int64_t now = c->sl->l.now, wms = server_opt(s, &s->o.write_ms);
	int64_t rms = server_opt(s, &s->o.request_ms);
	int stalled;

	pthread_mutex_lock(&c->mu);
	stalled = c->out.len > c->out_off && now - c->last_write >= wms;
	pthread_mutex_unlock(&c->mu);
	if (stalled) { /* reads nothing while output waits */
		atomic_fetch_add(&s->dropped, 1);
		server_conn_close(c);
		return;
	}
	for (;;) { /* a stream acted on leaves the test */
		for (st = h->streams; st; st = st->next)
			if (st->phase == H2S_BODY && now >= st->c.req_start + rms)
				break;
		if (!st)
			break;
		h2s_refuse(st, 408, "the request did not arrive in time");
	}
	for (;;) {
		pthread_mutex_lock(&c->mu);
		for (st = h->streams; st; st = st->next)
			if (!st->final_held && !st->reset && !st->sent_end &&
			    (st->hb.len || st->pend.len > st->pend_off) && now - st->last_move >= wms)
				break;
		pthread_mutex_unlock(&c->mu);
		if (!st)
			break;
		atomic_fetch_add(&s->dropped, 1);
		h2s_reset(c, st, H2_CANCEL, 1); /* this stream's client reads nothing */
	}
	if (!h->streams && now >= h->active + server_opt(s, &s->o.idle_ms)) {
		pthread_mutex_lock(&c->mu);
		h2_mark(c);
		h2_write_goaway(&c->out, h->last_id, H2_NO_ERROR, NULL, 0);
		pthread_mutex_unlock(&c->mu);
		h->goaway = 1;
	}
	h2_after(c);
}

/* SIGTERM: GOAWAY (the last stream handled), requests still arriving are
 * refused (REFUSED_STREAM: the client may retry them elsewhere), running
 * answers finish. */
void server_h2_drain(struct server_conn *c)
{
	struct server_h2 *h = c->h2;
	struct server_h2s *st, *next;

	if (h->goaway)
		return;
	h->goaway = 1;
	pthread_mutex_lock(&c->mu);
	h2_mark(c);
	h2_write_goaway(&c->out, h->last_run, H2_NO_ERROR, NULL, 0);
	pthread_mutex_unlock(&c->mu);
	for (st = h->streams; st; st = next) {
		next = st->next;
		if (st->phase == H2S_BODY)
			h2s_reset(c, st, H2_REFUSED_STREAM, 1);
	}
	h2_after(c);
}

/* The socket is closed: every stream is gone; those whose handler still
 * runs stay until it returns. Returns how many. */
int server_h2_closed(struct server_conn *c)
{
	struct server_h2 *h = c->h2;
	struct server_h2s *st, *next;

	pthread_mutex_lock(&c->mu);
	for (st = h->streams; st; st = st->next)
		h2s_gone_locked(st);
	pthread_mutex_unlock(&c->mu);
	for (st = h->streams; st; st = next) {
		next = st->next;
		if (!st->job)
			h2s_free(st);
	}
	return h->jobs;
}

void server_h2_free(struct server_conn *c)
{
	struct server_h2 *h = c->h2;

	while (h->streams)
		h2s_free(h->streams);
	h2_parser_free(&h->p);
	free(h);
	c->h2 = NULL;
}

/* ------------------------------------------------------------------------ */
/* Answers on a stream (any thread; see server.h) */

/* Under mu: frames stream output into the connection's output while the
 * windows and out_max allow, one frame per stream in turn. */
void server_h2_pump_locked(struct server_conn *c)
{
	struct server_h2 *h = c->h2;
	uint32_t mf = h->peer.max_frame_size;
	int progress, moved = 0;

	do {
		struct server_h2s *st;

		progress = 0;
		for (st = h->streams; st && !c->gone; st = st->next) {
			size_t avail, k;
			int end;

			if (st->final_held || st->sent_end || st->reset)
				continue;
			if (c->out.len - c->out_off >= c->s->o.out_max)
				goto out;
			h2_mark(c);
			if (st->hb.len) {
				if (buf_append(&c->out, st->hb.p, st->hb.len) < 0)
					c->gone = 1;
				buf_reset(&st->hb);
				progress = moved = 1;
				st->sent_end = st->end_in_head;
				if (st->sent_end)
					continue;
			}
			avail = st->pend.len - st->pend_off;
			if (avail == 0 && !st->end_queued)
				continue;
			k = avail < mf ? avail : mf;
			if ((int64_t)k > st->win)
				k = st->win > 0 ? (size_t)st->win : 0;
			if ((int64_t)k > h->win)
				k = h->win > 0 ? (size_t)h->win : 0;
			if (avail && k == 0)
				continue; /* its window is shut: others go on */
			end = st->end_queued && k == avail;
			if (h2_write_data(&c->out, st->id, end, k ? st->pend.p + st->pend_off : NULL, k,
					  mf) < 0) {
				c->gone = 1;
				break;
			}
			st->pend_off += k;
			st->win -= (int32_t)k;
			h->win -= (int32_t)k;
			if (st->pend_off == st->pend.len) {
				buf_reset(&st->pend);
				st->pend_off = 0;
			}
			st->sent_end = end;
			st->last_move = clock_ms();
			progress = moved = 1;
		}
	} while (progress && !c->gone);
out:
	if (moved)
		pthread_cond_broadcast(&c->cv);
}

static int h2s_gone(const struct server_h2s *st)
{
	return st->c.gone || st->c.up->gone;
}

/* Under mu: the answer's head as HEADERS frames in hb. */
static int h2s_head_locked(struct server_h2s *st, int status, const char *ctype,
			   const char *extra, int64_t len, int end)
{
	struct server_h2 *h = st->c.up->h2;
	struct buf blk;
	int rc;

	buf_init(&blk, HTTP_HEAD_MAX);
	rc = h2msg_response(&h->enc, &blk, status, ctype, extra, len);
	if (rc == 0 &&
	    h2_write_headers(&st->hb, st->id, end, blk.p, blk.len, h->peer.max_frame_size) < 0)
		rc = -1;
	buf_free(&blk);
	st->end_in_head = end;
	st->end_queued |= end;
	return rc;
}

/* Under mu, after an answer failed to fit its bounds: reset the stream. */
static void h2s_fail_locked(struct server_h2s *st)
{
	struct server_conn *c = st->c.up;

	h2_mark(c);
	h2_write_rst_stream(&c->out, st->id, H2_INTERNAL_ERROR);
	h2s_gone_locked(st);
}

/* Under mu: frames what the windows allow and, from a helper thread, tries
 * the socket; 1 when the loop must look (output left, or the client gone). */
static int h2s_push_locked(struct server_h2s *st)
{
	struct server_conn *c = st->c.up;

	server_h2_pump_locked(c);
	if (st->c.inline_run)
		return 0; /* on the loop: it writes after the handler */
	return server_send_locked(c) || c->gone;
}

int server_h2_reply(struct server_conn *c, int status, const char *ctype, const char *extra,
		    const void *body, size_t n)
{
	struct server_h2s *st = h2s_of(c);
	size_t k = c->head_only ? 0 : n;
	int rc = -1;

	if (c->status)
		return -1; /* one answer per request */
	c->status = status;
	pthread_mutex_lock(&c->up->mu);
	if (!h2s_gone(st)) {
		rc = h2s_head_locked(st, status, ctype, extra, (int64_t)n, k == 0);
		if (rc == 0 && k && buf_append(&st->pend, body, k) < 0)
			rc = -1;
		st->end_queued = 1;
		st->final_held = 1; /* framed by the loop once the done hook ran */
		if (rc < 0)
			h2s_fail_locked(st);
	}
	pthread_mutex_unlock(&c->up->mu);
	return rc;
}

int server_h2_stream_start(struct server_conn *c, int status, const char *ctype,
			   const char *extra)
{
	struct server_h2s *st = h2s_of(c);
	int rc = -1, post = 0;

	if (c->status)
		return -1;
	c->status = status;
	c->streaming = 1;
	atomic_fetch_add(&c->s->streams, 1);
	pthread_mutex_lock(&c->up->mu);
	if (!h2s_gone(st)) {
		rc = h2s_head_locked(st, status, ctype, extra, -1, 0);
		if (rc < 0)
			h2s_fail_locked(st);
		post = h2s_push_locked(st);
	}
	pthread_mutex_unlock(&c->up->mu);
	if (post)
		loop_post(&c->up->sl->l, &c->up->msg, SC_MSG_OUT);
	return rc;
}

int server_h2_stream_send(struct server_conn *c, const void *p, size_t n)
{
	struct server_h2s *st = h2s_of(c);
	struct server_conn *up = c->up;
	int rc = 0;

	if (c->streaming <= 0)
		return -1;
	if (n == 0 || c->head_only)
		return 0;
	pthread_mutex_lock(&up->mu);
	if (h2s_gone(st)) {
		pthread_mutex_unlock(&up->mu);
		return -1;
	}
	if (st->pend.len == st->pend_off)
		st->last_move = clock_ms();
	if (buf_append(&st->pend, p, n) < 0)
		h2s_fail_locked(st);
	if (h2s_push_locked(st))
		loop_post(&up->sl->l, &up->msg, SC_MSG_OUT);
	while (!c->inline_run && !h2s_gone(st) && st->pend.len - st->pend_off > c->s->o.out_max) {
		struct timespec dl;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 1; /* the loop's write_ms deadline decides; this only re-checks */
		pthread_cond_timedwait(&up->cv, &up->mu, &dl);
	}
	if (h2s_gone(st))
		rc = -1;
	pthread_mutex_unlock(&up->mu);
	return rc;
}

/* server_stream_idle_send on a stream: the ping is queued only when none
 * of the stream's output waits, so it never waits for a window. */
int server_h2_stream_idle_send(struct server_conn *c, const void *p, size_t n)
{
	struct server_h2s *st = h2s_of(c);
	struct server_conn *up = c->up;
	int rc = 1, post = 0;

	if (c->streaming <= 0 || c->head_only || c->inline_run)
		return 0;
	pthread_mutex_lock(&up->mu);
	if (h2s_gone(st)) {
		rc = -1;
	} else if (st->pend.len != st->pend_off) {
		rc = 0;
	} else if (buf_append(&st->pend, p, n) < 0) {
		st->pend.len = st->pend_off;
		rc = 0;
	} else {
		st->last_move = clock_ms();
		post = h2s_push_locked(st);
	}
	pthread_mutex_unlock(&up->mu);
	if (post)
		loop_post(&up->sl->l, &up->msg, SC_MSG_OUT);
	return rc;
}

/* server_stream_abort on a stream: RST_STREAM, so the client sees the
 * answer cut (the connection and its other streams go on). */
int server_h2_stream_abort(struct server_conn *c)
{
	struct server_h2s *st = h2s_of(c);
	int post = 0;

	if (c->streaming <= 0)
		return -1;
	pthread_mutex_lock(&c->up->mu);
	if (!h2s_gone(st)) {
		h2s_fail_locked(st);
		post = h2s_push_locked(st);
	}
	pthread_mutex_unlock(&c->up->mu);
	if (post)
		loop_post(&c->up->sl->l, &c->up->msg, SC_MSG_OUT);
	c->streaming = 0;
	atomic_fetch_sub(&c->s->streams, 1);
	return 0;
}

int server_h2_stream_end(struct server_conn *c)
{
	struct server_h2s *st = h2s_of(c);
	int gone;

	if (c->streaming <= 0)
		return -1;
	pthread_mutex_lock(&c->up->mu);
	st->end_queued = 1;
	st->final_held = 1; /* framed by the loop once the done hook ran */
	gone = h2s_gone(st);
	pthread_mutex_unlock(&c->up->mu);
	c->streaming = 0;
	atomic_fetch_sub(&c->s->streams, 1);
	return gone ? -1 : 0;
}
