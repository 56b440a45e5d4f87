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
#include "net/server_h2_int.h"
#include "wire/h2msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static void h2s_on_msg(struct loop *l, struct loop_msg *m, unsigned bits);
static void h2s_job(struct loop_job *j);
static void h2_after(struct server_conn *c);

/* ------------------------------------------------------------------------ */
/* Frames we send from the loop */

void server_h2_rst(struct server_conn *c, uint32_t id, uint32_t code)
{
	int flood;

	pthread_mutex_lock(&c->mu);
	/* stream errors a client provokes while it reads nothing: a flood */
	flood = c->out.len - c->out_off > H2S_CTRL_MAX;
	if (!flood) {
		h2_mark(c);
		h2_write_rst_stream(&c->out, id, code);
	}
	pthread_mutex_unlock(&c->mu);
	if (flood)
		server_h2_fail(c, H2_ENHANCE_YOUR_CALM);
}

void server_h2_window(struct server_conn *c, uint32_t id, uint32_t inc)
{
	pthread_mutex_lock(&c->mu);
	h2_mark(c);
	h2_write_window_update(&c->out, id, inc);
	pthread_mutex_unlock(&c->mu);
}

/* A connection error: GOAWAY with its code, every stream gone. -1. */
int server_h2_fail(struct server_conn *c, uint32_t code)
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

struct server_h2s *server_h2s_new(struct server_conn *c, uint32_t id, struct http_parser *p)
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


/* A stream error: RST_STREAM(code) unless the client reset it itself. A
 * stream whose request was still arriving goes at once. */
void server_h2s_reset(struct server_conn *c, struct server_h2s *st, uint32_t code, int send)
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
void server_h2s_complete(struct server_h2s *st)
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
void server_h2s_refuse(struct server_h2s *st, int status, const char *msg)
{
	struct server *s = st->c.s;

	st->c.inline_run = 1;
	if (!st->c.status) {
		if (s->error)
			s->error(s->user, &st->c, status, msg);
		else
			server_reply(&st->c, status, "text/plain", NULL, msg, strlen(msg));
	}
	server_h2s_complete(st);
}

static void h2s_job(struct loop_job *j)
{
	struct server_h2s *st = j->user;

	st->c.s->handler(st->c.s->user, &st->c, &st->c.rq);
	/* the last touch of st on this thread: the loop may free it from now */
	loop_post(&st->c.sl->l, &st->c.msg, SC_MSG_DONE);
}

/* The request is complete: run the handler. */
void server_h2s_dispatch(struct server_conn *c, struct server_h2s *st)
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
		server_h2s_complete(st);
		return;
	}
	st->job = 1;
	c->h2->jobs++;
	if (loop_pool_submit(&s->pool, &st->c.job) < 0) {
		st->job = 0;
		c->h2->jobs--;
		server_h2s_refuse(st, 503, "the server is busy: try again shortly");
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
	server_h2s_complete(st);
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
			server_h2_rst(c, st->id, H2_NO_ERROR);
		h2s_free(st);
		any = 1;
	}
	return any;
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
	if (server_h2_input(c, pre, npre) == 0)
		server_h2_input(c, p, n);
	if (c->st == SC_H2 && atomic_load_explicit(&c->s->draining, memory_order_relaxed))
		server_h2_drain(c); /* opened after the drain pass */
	h2_after(c);
}

static void h2_feed_bytes(struct server_conn *c, const uint8_t *p, size_t n)
{
	server_h2_input(c, p, n);
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
	h2_feed_bytes(c, b, (size_t)r); /* idle counts from the last stream, not the last byte */
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
		server_h2s_refuse(st, 408, "the request did not arrive in time");
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
		server_h2s_reset(c, st, H2_CANCEL, 1); /* this stream's client reads nothing */
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
			server_h2s_reset(c, st, H2_REFUSED_STREAM, 1);
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
