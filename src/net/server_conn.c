/* server_conn: one client connection as a state machine on its loop (see
 * server.h and enum server_state in server_impl.h).
 *
 *   WAIT --first byte--> HEAD --header section--> [head hook] --> BODY
 *   BODY --complete--> RUN (handler on a helper thread, or inline)
 *   RUN --handler returned--> FLUSH --output written--> WAIT (keep-alive) or closed
 *   any refusal --> FLUSH --> LINGER (read and drop, bounded) --> closed
 *   socket gone while a helper thread runs the handler --> ZOMBIE --> freed at its end
 *
 * One timer per connection carries the deadline of the current state:
 * WAIT head_ms (a new connection) or idle_ms (kept alive), HEAD head_ms and
 * request_ms from the request's first byte, BODY request_ms, RUN/FLUSH
 * write_ms without progress while output waits, LINGER SERVER_LINGER_MS.
 * Reads land in the loop's scratch buffer; the parser copies the header
 * section, the body goes to the request's budgeted buffer, and only bytes
 * of a pipelined next request are kept per connection. */
#include "net/server_impl.h"
#include "base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVER_OUT_HARD (160u << 20) /* one whole answer (a 64 MiB JSON body and its head) */

static void sc_on_io(struct loop *l, struct loop_io *w, uint32_t events);
static void sc_on_timer(struct loop *l, struct loop_timer *t);
static void sc_on_msg(struct loop *l, struct loop_msg *m, unsigned bits);
static void sc_feed(struct server_conn *c, const uint8_t *p, size_t n);

static int sc_draining(const struct server_conn *c)
{
	return atomic_load_explicit(&c->s->draining, memory_order_relaxed);
}

static void sc_arm(struct server_conn *c, int64_t at)
{
	if (loop_timer_set(&c->sl->l, &c->tm, at) < 0)
		server_conn_close(c); /* no memory for a timer: no unbounded connection */
}

void server_conn_accepted(struct server_loop *sl, int fd, const uint8_t ip[16], const char *txt,
			  int counted)
{
	struct server *s = sl->s;
	struct server_conn *c = calloc(1, sizeof *c);

	if (!c) {
		server_write_busy(fd);
		atomic_fetch_sub(&s->conns, 1);
		if (counted)
			server_ipt_del(s, ip);
		return;
	}
	c->s = s;
	c->sl = sl;
	c->fd = fd;
	memcpy(c->ip, ip, 16);
	c->ip_counted = counted;
	c->peer_proxy = !counted;
	snprintf(c->client, sizeof c->client, "%s", txt);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	buf_init(&c->out, SERVER_OUT_HARD);
	buf_init(&c->body, s->o.max_body);
	c->io.fn = sc_on_io;
	c->io.user = c;
	c->tm.fn = sc_on_timer;
	c->tm.user = c;
	c->msg.fn = sc_on_msg;
	c->msg.user = c;
	c->next = sl->conns;
	if (sl->conns)
		sl->conns->prev = c;
	sl->conns = c;
	c->st = SC_WAIT;
	c->since = sl->l.now;
	if (loop_io_add(&sl->l, &c->io, fd, EPOLLIN) < 0) {
		server_conn_close(c);
		return;
	}
	sc_arm(c, c->since + server_opt(s, &s->o.head_ms));
}

/* ------------------------------------------------------------------------ */
/* Ending a request, a connection */

static void sc_budget_release(struct server_conn *c)
{
	if (c->body_reserved) {
		atomic_fetch_sub(&c->s->body_held, c->body_reserved);
		c->body_reserved = 0;
	}
}

/* The request's memory (parser, body) once it has been answered. */
static void sc_request_free(struct server_conn *c)
{
	if (c->p) {
		http_parser_free(c->p);
		free(c->p);
		c->p = NULL;
	}
	buf_free(&c->body);
	buf_init(&c->body, c->s->o.max_body);
	sc_budget_release(c);
	memset(&c->rq, 0, sizeof c->rq);
	c->udata = NULL;
}

static void sc_unbusy(struct server_conn *c)
{
	if (c->st == SC_RUN || c->st == SC_FLUSH || c->st == SC_ZOMBIE)
		atomic_fetch_sub(&c->s->busy, 1);
}

void server_conn_close(struct server_conn *c)
{
	struct server_loop *sl = c->sl;
	struct server *s = c->s;
	int job = c->st == SC_RUN && (!c->inline_run || c->async == 1);

	if (c->st == SC_DEAD || c->st == SC_ZOMBIE)
		return;
	pthread_mutex_lock(&c->mu);
	c->gone = 1;
	pthread_cond_broadcast(&c->cv);
	loop_io_del(&sl->l, &c->io);
	close(c->fd);
	c->fd = -1;
	c->io.fd = -1;
	pthread_mutex_unlock(&c->mu);
	loop_timer_stop(&sl->l, &c->tm);
	if (c->prev)
		c->prev->next = c->next;
	else
		sl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	if (c->ip_counted)
		server_ipt_del(s, c->ip);
	c->ip_counted = 0;
	atomic_fetch_sub(&s->conns, 1);
	if (c->h2 && server_h2_closed(c) > 0)
		job = 1; /* streams' handlers still run: the last one frees it */
	if (job) {
		c->st = SC_ZOMBIE; /* its thread still uses it: freed when it returns */
		if (c->async == 1 && c->async_fn) /* its owner ends it: server_defer_done */
			c->async_fn(c->async_user, c, SERVER_EV_GONE);
		return;
	}
	sc_unbusy(c);
	c->st = SC_DEAD;
	c->dead_next = sl->dead;
	sl->dead = c;
}

static void sc_free(struct server_conn *c)
{
	if (c->h2)
		server_h2_free(c);
	sc_request_free(c);
	buf_free(&c->body);
	buf_free(&c->out);
	free(c->pend);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

void server_conn_free_dead(struct server_loop *sl)
{
	while (sl->dead) {
		struct server_conn *c = sl->dead;

		sl->dead = c->dead_next;
		sc_free(c);
	}
}

/* At the connection cap: closes one connection of this loop that waits
 * for a request after having answered one. 1 when one was closed. */
int server_conn_reap_idle(struct server_loop *sl)
{
	struct server_conn *c, *best = NULL;

	for (c = sl->conns; c; c = c->next)
		if (c->st == SC_WAIT && c->served > 0 && !c->pend_len &&
		    (!best || c->since < best->since))
			best = c;
	if (!best)
		return 0;
	server_conn_close(best);
	return 1;
}

/* SIGTERM: requests not yet complete and idle connections close now. */
void server_conn_drain(struct server_loop *sl)
{
	struct server_conn *c = sl->conns;

	while (c) {
		struct server_conn *next = c->next;

		if (c->st == SC_WAIT || c->st == SC_HEAD || c->st == SC_BODY)
			server_conn_close(c);
		else if (c->st == SC_H2)
			server_h2_drain(c);
		c = next;
	}
}

void server_conn_linger(struct server_conn *c)
{
	shutdown(c->fd, SHUT_WR);
	c->st = SC_LINGER;
	c->since = c->sl->l.now;
	c->body_reserved = 0;
	c->pend_len = 0;
	if (loop_io_mod(&c->sl->l, &c->io, EPOLLIN) < 0) {
		server_conn_close(c);
		return;
	}
	sc_arm(c, c->since + SERVER_LINGER_MS);
}

/* The first byte of a request: the header and request deadlines start. */
static void sc_begin(struct server_conn *c)
{
	struct server *s = c->s;
	int64_t h, q;

	c->st = SC_HEAD;
	c->req_start = c->sl->l.now;
	h = c->req_start + server_opt(s, &s->o.head_ms);
	q = c->req_start + server_opt(s, &s->o.request_ms);
	sc_arm(c, h < q ? h : q);
}

/* The answer is written: the next request, a lingering close, or a close. */
static void sc_next(struct server_conn *c)
{
	struct server *s = c->s;

	sc_unbusy(c);
	c->st = SC_WAIT; /* not busy any more, whatever comes next */
	if (c->refused) {
		server_conn_linger(c);
		return;
	}
	if (!c->keep || sc_draining(c)) {
		shutdown(c->fd, SHUT_WR);
		server_conn_close(c);
		return;
	}
	c->served++;
	c->since = c->sl->l.now;
	if (c->out.cap > SERVER_OUT_MAX) { /* a big answer's buffer does not stay with an idle client */
		buf_free(&c->out);
		buf_init(&c->out, SERVER_OUT_HARD);
	}
	if (loop_io_mod(&c->sl->l, &c->io, EPOLLIN) < 0) {
		server_conn_close(c);
		return;
	}
	sc_arm(c, c->since + server_opt(s, &s->o.idle_ms));
	/* a pipelined request goes on from the loop's top (no recursion) */
	if (c->pend_len)
		loop_post(&c->sl->l, &c->msg, SC_MSG_PEND);
}

static void sc_pend(struct server_conn *c)
{
	size_t n = c->pend_len;

	if (c->st != SC_WAIT || n == 0)
		return;
	memcpy(c->sl->scratch, c->pend, n);
	c->pend_len = 0;
	sc_begin(c);
	sc_feed(c, c->sl->scratch, n);
}

/* Output moved (or the handler ended): in FLUSH, drained means done. */
static void sc_after_flush(struct server_conn *c, int pending)
{
	if (pending < 0 || c->st != SC_FLUSH || pending > 0)
		return;
	sc_next(c);
}

/* Before the done hook: a client that reset its connection while its
 * answer ran (and the handler wrote nothing since) is gone, so that the
 * hook sees it; a FIN alone is not (a client may half-close and read). */
static void sc_probe_gone(struct server_conn *c)
{
	uint8_t b;

	if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != EINTR) {
		pthread_mutex_lock(&c->mu);
		c->gone = 1;
		pthread_mutex_unlock(&c->mu);
	}
}

/* The handler returned (on its thread or inline): complete the answer. */
static void sc_handler_done(struct server_conn *c)
{
	struct server *s = c->s;
	int pending = -1;

	if (c->st == SC_RUN) {
		if (c->streaming > 0) { /* a handler that forgot to end its stream */
			server_stream_end(c);
			c->keep = 0;
		}
		if (!c->status) {
			static const char msg[] = "the request was not answered";

			c->keep = 0;
			if (s->error)
				s->error(s->user, c, 500, msg);
			else
				server_reply(c, 500, "text/plain", NULL, msg, sizeof msg - 1);
		}
		if (c->st == SC_DEAD) { /* a piece before the last found the client gone */
			if (s->done)
				s->done(s->user, c, &c->rq, c->status);
			return;
		}
		c->st = SC_FLUSH;
		sc_probe_gone(c);
	}
	if (c->streaming > 0) { /* its client left: the stream ends with it */
		atomic_fetch_sub(&s->streams, 1);
		c->streaming = 0;
	}
	/* the done hook runs before the answer's last piece (left for this
	 * thread) goes out: a client that reads its answer and asks /metrics
	 * finds it counted */
	if (s->done)
		s->done(s->user, c, &c->rq, c->status);
	if (c->st == SC_FLUSH)
		pending = server_conn_flush(c);
	sc_request_free(c);
	if (c->st == SC_ZOMBIE) {
		sc_unbusy(c);
		c->st = SC_DEAD;
		c->dead_next = c->sl->dead;
		c->sl->dead = c;
		return;
	}
	sc_after_flush(c, pending);
}

static void sc_on_msg(struct loop *l, struct loop_msg *m, unsigned bits)
{
	struct server_conn *c = m->user;
	int pending = 0;

	(void)l;
	if (c->h2 && c->st == SC_H2) {
		server_h2_on_msg(c, bits);
		return;
	}
	if ((bits & SC_MSG_OUT) && c->st != SC_ZOMBIE && c->st != SC_DEAD)
		pending = server_conn_flush(c);
	if (bits & SC_MSG_DONE)
		sc_handler_done(c);
	else
		sc_after_flush(c, pending);
	if ((bits & SC_MSG_PEND) && c->st == SC_WAIT)
		sc_pend(c);
}

static void sc_job(struct loop_job *j)
{
	struct server_conn *c = j->user;

	c->s->handler(c->s->user, c, &c->rq);
	/* the last touch of c on this thread: the loop may free it from now */
	loop_post(&c->sl->l, &c->msg, SC_MSG_DONE);
}

/* ------------------------------------------------------------------------ */
/* Refusals */

/* The refusal is queued: count it, free the request, flush, then close. */
static void sc_refused(struct server_conn *c, int status)
{
	struct server *s = c->s;

	if (s->done)
		s->done(s->user, c, c->rq.p ? &c->rq : NULL, status);
	sc_request_free(c);
	if (c->st == SC_DEAD)
		return; /* closed already: nothing to write */
	c->st = SC_FLUSH;
	sc_after_flush(c, server_conn_flush(c));
}

void server_conn_refuse(struct server_conn *c, int status, const char *msg)
{
	struct server *s = c->s;

	if (c->st != SC_RUN && c->st != SC_FLUSH)
		atomic_fetch_add(&s->busy, 1);
	c->st = SC_FLUSH; /* busy until written (a close while writing it un-counts it) */
	c->keep = 0;
	c->refused = 1;
	c->status = 0;
	c->streaming = 0;
	c->inline_run = 1;
	if (s->error)
		s->error(s->user, c, status, msg);
	else
		server_reply(c, status, "text/plain", NULL, msg, strlen(msg));
	sc_refused(c, status);
}

static void sc_parse_failed(struct server_conn *c, int code)
{
	char msg[160];

	if (code == HTTP_E_BODY_TOO_BIG) {
		snprintf(msg, sizeof msg, "the request body is larger than %zu bytes",
			 c->s->o.max_body);
		server_conn_refuse(c, 413, msg);
	} else if (code == HTTP_E_HEAD_TOO_BIG || code == HTTP_E_TOO_MANY_HDRS) {
		server_conn_refuse(c, 431, "the request headers are too large");
	} else if (code == HTTP_E_VERSION) {
		server_conn_refuse(c, 505, "unsupported HTTP version");
	} else {
		snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_strerror(code));
		server_conn_refuse(c, 400, msg);
	}
}

/* ------------------------------------------------------------------------ */
/* The header section is in */

/* n more request body bytes held: -1 (nothing taken) over the budget. */
int server_budget_take(struct server *s, size_t n)
{
	size_t budget;

	pthread_mutex_lock(&s->mu);
	budget = s->o.body_budget;
	pthread_mutex_unlock(&s->mu);
	if (atomic_fetch_add(&s->body_held, n) + n > budget) {
		atomic_fetch_sub(&s->body_held, n);
		atomic_fetch_add(&s->rejected, 1);
		return -1;
	}
	return 0;
}

static int sc_budget_take(struct server_conn *c, size_t n)
{
	if (server_budget_take(c->s, n) < 0) {
		server_conn_refuse(c, 503, "the server is busy (request bodies): try again shortly");
		return -1;
	}
	c->body_reserved += n;
	return 0;
}

/* Behind a trusted proxy: the client is the last X-Forwarded-For address
 * that is not a trusted proxy itself. 1 with txt and ip filled, else 0. */
int server_forwarded_for(struct server *s, const struct http_parser *p,
			 char txt[SERVER_CLIENT_MAX], uint8_t ip[16])
{
	struct slice v;

	if (!http_header(p, "X-Forwarded-For", &v))
		return 0;
	while (v.n > 0) {
		const uint8_t *comma = NULL;
		size_t i, start = 0;
		struct slice a;

		for (i = v.n; i > 0; i--)
			if (v.p[i - 1] == ',') {
				comma = v.p + i - 1;
				break;
			}
		if (comma)
			start = (size_t)(comma - v.p) + 1;
		a = slice_trim((struct slice){v.p + start, v.n - start});
		v.n = comma ? (size_t)(comma - v.p) : 0;
		if (a.n == 0 || a.n >= SERVER_CLIENT_MAX)
			continue;
		memcpy(txt, a.p, a.n);
		txt[a.n] = '\0';
		if (server_ip_parse(txt, ip) < 0)
			return 0; /* not an address: keep the proxy's */
		if (!server_is_proxy(s, ip))
			return 1;
	}
	return 0;
}

/* The forwarded client is counted for the per-address cap. */
static int sc_forwarded(struct server_conn *c)
{
	struct server *s = c->s;
	uint8_t ip[16];
	char txt[SERVER_CLIENT_MAX];

	if (!c->peer_proxy || !server_forwarded_for(s, c->p, txt, ip))
		return 0;
	snprintf(c->client, sizeof c->client, "%s", txt);
	if (!c->ip_counted || memcmp(ip, c->ip, 16) != 0) {
		if (c->ip_counted)
			server_ipt_del(s, c->ip);
		c->ip_counted = 0;
		if (server_ipt_add(s, ip, server_opt(s, &s->o.max_conns_per_ip)) < 0) {
			atomic_fetch_add(&s->rejected, 1);
			server_conn_refuse(c, 503, "too many connections from this address");
			return -1;
		}
		memcpy(c->ip, ip, 16);
		c->ip_counted = 1;
	}
	return 0;
}

void server_conn_split(struct server_conn *c)
{
	const struct http_parser *p = c->p;
	const uint8_t *q = memchr(p->target.p, '?', p->target.n);

	memset(&c->rq, 0, sizeof c->rq);
	c->rq.p = p;
	c->rq.client = c->client;
	c->rq.path = p->target;
	if (q) {
		c->rq.path.n = (size_t)(q - p->target.p);
		c->rq.query = (struct slice){q + 1, p->target.n - c->rq.path.n - 1};
	}
}

/* 0: go on reading the body; -1: refused (or closed). */
static int sc_on_head(struct server_conn *c)
{
	struct server *s = c->s;
	int go = SERVER_GO;

	server_conn_split(c);
	c->status = 0;
	c->streaming = 0;
	c->refused = 0;
	/* an answer from the head hook keeps the connection only when no
	 * body follows (an unread body cannot be skipped) */
	c->keep = c->p->framing == HTTP_BODY_NONE &&
		  (c->p->version >= 11 ? !http_header_has_token(c->p, "Connection", "close")
				       : http_header_has_token(c->p, "Connection", "keep-alive"));
	c->head_only = slice_eq_str(c->p->method, "HEAD");
	if (sc_draining(c)) {
		server_conn_refuse(c, 503, "the server is shutting down");
		return -1;
	}
	if (sc_forwarded(c) < 0)
		return -1;
	c->inline_run = 1; /* the hook answers on this thread */
	if (s->head)
		go = s->head(s->user, c, &c->rq);
	if (go == SERVER_ANSWERED) {
		if (c->st == SC_DEAD) { /* a piece before the last found the client gone */
			if (s->done)
				s->done(s->user, c, &c->rq, c->status);
			return -1;
		}
		atomic_fetch_add(&s->busy, 1);
		c->st = SC_FLUSH;
		if (!c->status) {
			c->keep = 0;
			server_reply(c, 500, "text/plain", NULL, "no answer", 9);
		}
		c->refused = !c->keep;
		sc_refused(c, c->status);
		return -1;
	}
	c->inline_run = go == SERVER_GO_INLINE;
	if (c->p->framing == HTTP_BODY_LENGTH && c->p->content_length > s->o.max_body) {
		sc_parse_failed(c, HTTP_E_BODY_TOO_BIG);
		return -1;
	}
	if (c->p->framing == HTTP_BODY_LENGTH && c->p->content_length > 0 &&
	    sc_budget_take(c, (size_t)c->p->content_length) < 0)
		return -1;
	if (c->p->version >= 11 && c->p->framing != HTTP_BODY_NONE &&
	    http_header_has_token(c->p, "Expect", "100-continue")) {
		pthread_mutex_lock(&c->mu);
		buf_append_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		pthread_mutex_unlock(&c->mu);
		if (server_conn_flush(c) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading */

static int sc_save_pend(struct server_conn *c, const uint8_t *p, size_t n)
{
	uint8_t *q;

	if (n == 0)
		return 0;
	q = realloc(c->pend, n);
	if (!q)
		return -1;
	memcpy(q, p, n);
	c->pend = q;
	c->pend_len = n;
	return 0;
}

/* The request is complete: run the handler. */
static void sc_dispatch(struct server_conn *c)
{
	struct server *s = c->s;

	loop_timer_stop(&c->sl->l, &c->tm);
	c->keep = c->p->keep_alive && !sc_draining(c);
	c->rq.body = c->body.p;
	c->rq.body_len = c->body.len;
	c->st = SC_RUN;
	c->last_write = c->sl->l.now;
	atomic_fetch_add(&s->busy, 1);
	if (loop_io_mod(&c->sl->l, &c->io, 0) < 0) {
		server_conn_close(c);
		return;
	}
	c->async = 0;
	if (c->inline_run) {
		s->handler(s->user, c, &c->rq);
		if (c->async && (c->st == SC_RUN || c->st == SC_ZOMBIE))
			return; /* deferred (server_defer_done) or handed to a helper thread */
		if (c->st == SC_RUN)
			sc_handler_done(c);
		else if (s->done) /* the client went away while it answered */
			s->done(s->user, c, &c->rq, c->status);
		return;
	}
	c->job.fn = sc_job;
	c->job.user = c;
	if (loop_pool_submit(&s->pool, &c->job) < 0) {
		c->inline_run = 1;
		server_conn_refuse(c, 503, "the server is busy: try again shortly");
	}
}

/* ---- deferred answers (server.h) ---- */

void server_defer(struct server_conn *c, server_async_fn fn, void *user)
{
	c->async = 1;
	c->async_full = 0;
	c->async_fn = fn;
	c->async_user = user;
}

void server_defer_done(struct server_conn *c)
{
	if (c->async != 1)
		return;
	c->async = 0;
	c->async_fn = NULL;
	sc_handler_done(c);
}

int server_handoff(struct server_conn *c)
{
	if (c->st != SC_RUN || !c->inline_run || c->status)
		return -1;
	c->async = 2;
	c->async_fn = NULL;
	c->inline_run = 0;
	c->job.fn = sc_job;
	c->job.user = c;
	if (loop_pool_submit(&c->s->pool, &c->job) == 0)
		return 0;
	c->inline_run = 1;
	c->async = 0;
	server_conn_refuse(c, 503, "the server is busy: try again shortly");
	return -1;
}

int server_on_loop(const struct server_conn *c)
{
	return c->inline_run;
}

struct loop *server_loop_of(struct server_conn *c)
{
	return &c->sl->l;
}

struct loop_pool *server_pool(struct server *s)
{
	return &s->pool;
}

/* Feeds bytes of the current request to its parser (state machine: the
 * parser's events drive HEAD -> BODY -> RUN). */
static void sc_feed(struct server_conn *c, const uint8_t *p, size_t n)
{
	size_t off = 0;

	if (!c->p) {
		c->p = malloc(sizeof *c->p);
		if (!c->p) {
			server_conn_close(c);
			return;
		}
		http_parser_init(c->p, HTTP_REQUEST);
		/* the body limit is checked after the head hook (a wrong key is
		 * a 401 whatever the size); c->body's own limit stops a chunked one */
		http_parser_max_body(c->p, UINT64_MAX);
	}
	for (;;) {
		struct slice body;
		struct err e;
		size_t used = 0;
		int ev = http_parse(c->p, p + off, n - off, &used, &body, &e);

		off += used;
		if (ev < 0) {
			sc_parse_failed(c, ev);
			return;
		}
		if (ev == HTTP_EV_HEAD) {
			if (c->p->framing == HTTP_BODY_NONE) { /* the rest is the next request */
				if (sc_save_pend(c, p + off, n - off) < 0) {
					server_conn_close(c);
					return;
				}
				n = off;
			}
			if (sc_on_head(c) < 0)
				return;
			c->st = SC_BODY;
			sc_arm(c, c->req_start + server_opt(c->s, &c->s->o.request_ms));
		} else if (ev == HTTP_EV_BODY) {
			if (c->p->framing == HTTP_BODY_CHUNKED && sc_budget_take(c, body.n) < 0)
				return;
			if (buf_append(&c->body, body.p, body.n) < 0) {
				sc_parse_failed(c, HTTP_E_BODY_TOO_BIG);
				return;
			}
		} else if (ev == HTTP_EV_DONE) {
			if (sc_save_pend(c, p + off, n - off) < 0) {
				server_conn_close(c);
				return;
			}
			sc_dispatch(c);
			return;
		} else {
			return; /* HTTP_EV_NEED */
		}
	}
}

/* The first bytes of a connection: the HTTP/2 client preface starts an
 * HTTP/2 connection, anything else is HTTP/1.1. 1 when the bytes were
 * taken (HTTP/2, or a prefix of its preface kept in pend); 0 to parse b
 * as HTTP/1.1, with the kept prefix put back in front (sc_read left room). */
static int sc_sniff(struct server_conn *c, uint8_t *b, size_t *n)
{
	uint8_t pre[H2_PREFACE_LEN];
	size_t k = c->pend_len, take = H2_PREFACE_LEN - k;
	int r;

	take = take < *n ? take : *n;
	if (k)
		memcpy(pre, c->pend, k);
	memcpy(pre + k, b, take);
	r = h2_preface_check(pre, k + take);
	if (r == 0) { /* all of it is a prefix of the preface: wait for more */
		if (sc_save_pend(c, pre, k + take) < 0)
			server_conn_close(c);
		return 1;
	}
	c->sniffed = 1;
	c->pend_len = 0;
	if (r == 1) {
		server_h2_start(c, pre, H2_PREFACE_LEN, b + take, *n - take);
		return 1;
	}
	if (k) {
		memmove(b + k, b, *n);
		memcpy(b, pre, k);
		*n += k;
	}
	return 0;
}

static void sc_read(struct server_conn *c)
{
	uint8_t *b = c->sl->scratch;
	size_t n, room = SERVER_SCRATCH - (c->sniffed ? 0 : H2_PREFACE_LEN); /* room for the sniffed bytes */
	ssize_t r;

	do
		r = recv(c->fd, b, room, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (c->st == SC_LINGER) {
		c->body_reserved += r > 0 ? (size_t)r : 0; /* bytes dropped (not budgeted) */
		if (r <= 0 || c->body_reserved > SERVER_LINGER_BYTES) {
			c->body_reserved = 0;
			server_conn_close(c);
		}
		return;
	}
	if (r <= 0) { /* closed (between requests, or mid-request), or reset */
		server_conn_close(c);
		return;
	}
	if (c->st == SC_WAIT)
		sc_begin(c);
	n = (size_t)r;
	if (!c->sniffed && sc_sniff(c, b, &n))
		return;
	sc_feed(c, b, n);
}

static void sc_on_io(struct loop *l, struct loop_io *w, uint32_t events)
{
	struct server_conn *c = w->user;

	(void)l;
	if (c->st == SC_DEAD || c->st == SC_ZOMBIE)
		return;
	if (c->st == SC_H2) {
		server_h2_on_io(c, events);
		return;
	}
	if (events & EPOLLOUT) {
		int pending = server_conn_flush(c);

		if (pending < 0)
			return;
		sc_after_flush(c, pending);
	}
	if (c->st == SC_DEAD || c->st == SC_ZOMBIE)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    (c->st == SC_WAIT || c->st == SC_HEAD || c->st == SC_BODY || c->st == SC_LINGER)) {
		sc_read(c);
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR)) /* gone while its answer runs */
		server_conn_close(c);
}

/* A deadline judges what the client sent, not how late the loop is: bytes
 * already waiting in the socket are read first (a loop behind on a burst
 * of work must not reset a client whose request sits unread). Bounded to
 * SC_CATCHUP_READS reads; a request still incomplete after them is judged
 * as before, so a client trickling bytes gains nothing. */
#define SC_CATCHUP_READS 64

static void sc_read_waiting(struct server_conn *c)
{
	enum server_state st = c->st;

	for (int i = 0; i < SC_CATCHUP_READS && c->st == st; i++) {
		uint8_t probe;
		ssize_t r = recv(c->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);

		if (r < 0)
			return; /* nothing waiting (0: the client closed, which sc_read sees) */
		sc_read(c);
		if (st == SC_WAIT)
			return; /* now timed from its first byte */
	}
}

static void sc_on_timer(struct loop *l, struct loop_timer *t)
{
	struct server_conn *c = t->user;
	struct server *s = c->s;

	switch (c->st) {
	case SC_H2:
		server_h2_on_timer(c);
		return;
	case SC_WAIT:
		sc_read_waiting(c);
		if (c->st == SC_WAIT)
			server_conn_close(c); /* idle */
		return;
	case SC_LINGER:
		server_conn_close(c); /* done lingering */
		return;
	case SC_HEAD:
	case SC_BODY: {
		enum server_state st = c->st;

		sc_read_waiting(c);
		if (c->st == st)
			server_conn_refuse(c, 408, "the request did not arrive in time");
		return;
	}
	case SC_RUN:
	case SC_FLUSH: {
		int64_t last;
		int pending, wms = server_opt(s, &s->o.write_ms);

		pthread_mutex_lock(&c->mu);
		last = c->last_write;
		pending = c->out.len > c->out_off;
		pthread_mutex_unlock(&c->mu);
		if (!pending)
			return;
		if (l->now - last >= wms) { /* reads nothing while output waits */
			atomic_fetch_add(&s->dropped, 1);
			server_conn_close(c);
			return;
		}
		sc_arm(c, last + wms);
		return;
	}
	default:
		return;
	}
}
