/* server_out: answers (see server.h). The handler's thread queues bytes
 * in the connection's output buffer under its lock; when the buffer was
 * empty it tries the socket at once (non-blocking, one send for the whole
 * piece: an SSE chunk with its framing is one segment), and whatever the
 * socket does not take is written by the loop on EPOLLOUT. A helper thread
 * whose client has more than out_max unread waits for the loop to drain
 * it (backpressure); the loop drops a client that reads nothing for
 * write_ms, which wakes the thread with server_client_gone. */
#include "net/server_impl.h"
#include "base/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

const char *server_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}

/* Under c->mu: sends what the socket takes now. 1 when output still waits. */
int server_send_locked(struct server_conn *c)
{
	int moved = 0;

	while (!c->gone && c->out.len > c->out_off) {
		ssize_t w = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			c->gone = 1; /* the loop closes the socket */
			break;
		}
		c->out_off += (size_t)w;
		moved = 1;
	}
	if (moved)
		c->last_write = clock_ms();
	if (c->out_off == c->out.len) {
		c->out.len = 0;
		c->out_off = 0;
	} else if (c->out_off > (c->out.len >> 1) && c->out_off > 65536) {
		buf_consume(&c->out, c->out_off);
		c->out_off = 0;
	}
	if (moved || c->gone)
		pthread_cond_broadcast(&c->cv);
	return c->out.len > c->out_off;
}

/* Loop thread: writes what it can, watches EPOLLOUT while output waits,
 * arms the slow-reader deadline. 1 pending, 0 drained, -1 closed. */
int server_conn_flush(struct server_conn *c)
{
	struct server *s = c->s;
	int pending, gone, reading, room;
	int64_t last;

	if (c->st == SC_DEAD || c->st == SC_ZOMBIE)
		return -1;
	pthread_mutex_lock(&c->mu);
	if (c->h2)
		server_h2_pump_locked(c); /* streams' output as the windows allow */
	pending = server_send_locked(c);
	if (c->h2 && !c->gone) { /* the socket took some: more may be framed */
		server_h2_pump_locked(c);
		pending = server_send_locked(c);
	}
	gone = c->gone;
	last = c->last_write;
	room = c->out.len - c->out_off <= s->o.out_max;
	pthread_mutex_unlock(&c->mu);
	if (gone) {
		server_conn_close(c);
		return -1;
	}
	reading = c->st == SC_WAIT || c->st == SC_HEAD || c->st == SC_BODY || c->st == SC_LINGER ||
		  c->st == SC_H2;
	if (loop_io_mod(&c->sl->l, &c->io, (pending ? EPOLLOUT : 0) | (reading ? EPOLLIN : 0)) <
	    0) {
		server_conn_close(c);
		return -1;
	}
	if (pending && (c->st == SC_RUN || c->st == SC_FLUSH) && !c->tm.idx &&
	    loop_timer_set(&c->sl->l, &c->tm, last + server_opt(s, &s->o.write_ms)) < 0) {
		server_conn_close(c);
		return -1;
	}
	if (room && c->async == 1 && c->async_full && c->st == SC_RUN) {
		c->async_full = 0;
		if (c->async_fn)
			c->async_fn(c->async_user, c, SERVER_EV_ROOM);
	}
	return pending;
}

/* Waits (a helper thread only) while more than out_max is unread. */
static void so_backpressure(struct server_conn *c)
{
	size_t max = c->s->o.out_max;

	while (!c->gone && c->out.len - c->out_off > max) {
		struct timespec dl;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 1; /* the loop's write_ms deadline decides; this only re-checks */
		pthread_cond_timedwait(&c->cv, &c->mu, &dl);
	}
}

/* Queues pieces as one unit; -1 when the client is gone. The final piece
 * of an answer (from a helper thread or on the loop) is written after the
 * done hook (sc_handler_done, sc_refused): a client that reads its answer
 * and asks /metrics finds it counted. It never waits for backpressure. */
static int so_queue_final(struct server_conn *c, const struct slice *v, size_t nv, int final)
{
	int rc = 0, post = 0, was_empty;
	size_t i;

	pthread_mutex_lock(&c->mu);
	if (c->gone) {
		pthread_mutex_unlock(&c->mu);
		return -1;
	}
	was_empty = c->out.len == c->out_off;
	for (i = 0; i < nv && rc == 0; i++)
		if (v[i].n && buf_append(&c->out, v[i].p, v[i].n) < 0)
			rc = -1;
	if (rc < 0) {
		c->gone = 1; /* an answer over every bound: give up the client */
		post = 1;
	} else if (!c->inline_run && was_empty && !final) {
		c->last_write = clock_ms();
		post = server_send_locked(c) || c->gone; /* the loop watches EPOLLOUT / closes */
	}
	if (rc == 0 && !c->inline_run && !final) {
		so_backpressure(c);
		if (c->gone)
			rc = -1;
	}
	pthread_mutex_unlock(&c->mu);
	if (c->inline_run && final)
		return rc; /* the caller's sc_handler_done or sc_refused writes it */
	if (c->inline_run)
		return server_conn_flush(c) < 0 ? -1 : rc;
	if (post)
		loop_post(&c->sl->l, &c->msg, SC_MSG_OUT);
	return rc;
}

static int so_queue(struct server_conn *c, const struct slice *v, size_t nv)
{
	return so_queue_final(c, v, nv, 0);
}

static int so_is_stopping(const struct server_conn *c)
{
	return atomic_load_explicit(&c->s->draining, memory_order_relaxed);
}

/* Status line and the headers every answer has. */
static int so_head(struct server_conn *c, struct buf *h, int status, const char *ctype,
		   const char *extra, struct err *e)
{
	if (so_is_stopping(c))
		c->keep = 0;
	if (http_write_status_line(h, status, server_reason(status), e) < 0 ||
	    (ctype && http_write_header(h, "Content-Type", ctype, e) < 0) ||
	    http_write_header(h, "Connection", c->keep ? "keep-alive" : "close", e) < 0)
		return -1;
	if (extra && buf_append_str(h, extra) < 0)
		return err_set(e, ERR_OTHER, "headers too long");
	return 0;
}

int server_reply(struct server_conn *c, int status, const char *ctype, const char *extra,
		 const void *body, size_t n)
{
	struct buf h;
	struct err e;
	int rc;

	if (c->up)
		return server_h2_reply(c, status, ctype, extra, body, n);
	if (c->status)
		return -1; /* one answer per request */
	c->status = status;
	buf_init(&h, 8192);
	rc = so_head(c, &h, status, ctype, extra, &e);
	if (rc == 0)
		rc = http_write_end(&h, (int64_t)n, &e);
	if (rc == 0) {
		struct slice v[2] = {buf_slice(&h), {body, c->head_only ? 0 : n}};

		rc = so_queue_final(c, v, 2, 1);
	}
	buf_free(&h);
	if (rc < 0)
		c->keep = 0;
	return rc;
}

int server_stream_start(struct server_conn *c, int status, const char *ctype, const char *extra)
{
	struct buf h;
	struct err e;
	int rc;

	if (c->up)
		return server_h2_stream_start(c, status, ctype, extra);
	if (c->status)
		return -1;
	c->status = status;
	if (c->p->version < 11)
		c->keep = 0; /* no chunked encoding: the end of the body is the close */
	buf_init(&h, 8192);
	rc = so_head(c, &h, status, ctype, extra, &e);
	if (rc == 0 && c->p->version >= 11)
		rc = http_write_header(&h, "Transfer-Encoding", "chunked", &e);
	if (rc == 0)
		rc = http_write_end(&h, -1, &e);
	if (rc == 0) {
		struct slice v = buf_slice(&h);

		rc = so_queue(c, &v, 1);
	}
	buf_free(&h);
	c->streaming = c->p->version >= 11 ? 1 : 2; /* the handler's thread alone */
	atomic_fetch_add(&c->s->streams, 1);
	if (rc < 0)
		c->keep = 0;
	return rc;
}

int server_stream_send(struct server_conn *c, const void *p, size_t n)
{
	char head[24];
	struct slice v[3];
	int k;

	if (c->up)
		return server_h2_stream_send(c, p, n);
	if (c->streaming <= 0)
		return -1;
	if (n == 0 || c->head_only)
		return 0; /* nothing (never the last chunk) */
	if (c->streaming == 2) {
		v[0] = (struct slice){p, n};
		return so_queue(c, v, 1);
	}
	/* the chunk framing around the caller's bytes: one unit, one send */
	k = snprintf(head, sizeof head, "%zx\r\n", n);
	v[0] = (struct slice){(const uint8_t *)head, (size_t)k};
	v[1] = (struct slice){p, n};
	v[2] = SLICE_LIT("\r\n");
	return so_queue(c, v, 3);
}

int server_stream_end(struct server_conn *c)
{
	int rc = 0;

	if (c->up)
		return server_h2_stream_end(c);
	if (c->streaming <= 0)
		return -1;
	if (c->streaming == 1 && !c->head_only) {
		struct slice v = SLICE_LIT("0\r\n\r\n");

		rc = so_queue_final(c, &v, 1, 1);
	}
	atomic_fetch_sub(&c->s->streams, 1);
	c->streaming = 0;
	return rc;
}

/* Ends a streamed answer without its terminating chunk: what is queued
 * goes out, then the connection closes, so the client sees a cut body. */
int server_stream_abort(struct server_conn *c)
{
	if (c->up)
		return server_h2_stream_abort(c);
	if (c->streaming <= 0)
		return -1;
	c->keep = 0;
	atomic_fetch_sub(&c->s->streams, 1);
	c->streaming = 0;
	return 0;
}

/* A keep-alive piece (an SSE ping) from any thread but the handler's,
 * while the handler keeps the stream open: queued only when nothing waits
 * to be written, so it never waits for backpressure (the loop thread may
 * call it). 1 queued, 0 skipped, -1 gone. */
int server_stream_idle_send(struct server_conn *c, const void *p, size_t n)
{
	char head[24];
	int k = 0, post = 0, rc = 1;

	if (c->up)
		return server_h2_stream_idle_send(c, p, n);
	if (c->streaming <= 0 || c->head_only || c->inline_run)
		return 0;
	if (c->streaming == 1)
		k = snprintf(head, sizeof head, "%zx\r\n", n);
	pthread_mutex_lock(&c->mu);
	if (c->gone) {
		rc = -1;
	} else if (c->out.len != c->out_off) {
		rc = 0;
	} else if (buf_append(&c->out, head, (size_t)k) < 0 || buf_append(&c->out, p, n) < 0 ||
		   (k && buf_append(&c->out, "\r\n", 2) < 0)) {
		c->out.len = c->out_off;
		rc = 0;
	} else {
		c->last_write = clock_ms();
		post = server_send_locked(c) || c->gone;
	}
	pthread_mutex_unlock(&c->mu);
	if (post)
		loop_post(&c->sl->l, &c->msg, SC_MSG_OUT);
	return rc;
}

int server_out_full(struct server_conn *c)
{
	if (c->out.len - c->out_off <= c->s->o.out_max)
		return 0;
	c->async_full = 1;
	return 1;
}

int server_status(const struct server_conn *c)
{
	return c->status;
}

int server_client_gone(struct server_conn *c)
{
	pthread_mutex_t *mu = c->up ? &c->up->mu : &c->mu; /* a stream: its connection's */
	int g;

	pthread_mutex_lock(mu);
	g = c->gone;
	pthread_mutex_unlock(mu);
	return g;
}

void server_body_done(struct server_conn *c)
{
	buf_free(&c->body);
	c->rq.body = NULL;
	c->rq.body_len = 0;
	if (c->body_reserved) {
		atomic_fetch_sub(&c->s->body_held, c->body_reserved);
		c->body_reserved = 0;
	}
}

void **server_udata(struct server_conn *c)
{
	return &c->udata;
}

const char *server_client(const struct server_conn *c)
{
	return c->client;
}
