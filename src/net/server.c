/* server: the serve-mode listener (see server.h). */
#include "net/server.h"
#include "base/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SERVER_IOBUF 16384

struct server_conn {
	struct server *s;
	int fd;
	struct http_parser p;
	struct buf body;
	uint8_t in[SERVER_IOBUF];
	size_t in_off, in_len;
	int status;     /* sent on the current request, 0 none */
	int streaming;  /* 1 chunked, 2 raw (HTTP/1.0) */
	int keep;       /* the connection may carry another request */
	int gone;       /* a write failed */
	int head_only;  /* HEAD request: no body bytes */
	int refused;    /* closed by a refusal (400, 408, 413, ...) */
	int served;     /* answered a request already */
	int64_t req_deadline; /* monotonic ms by which the current request must be in */
};

#define SERVER_LINGER_MS 1000
#define SERVER_LINGER_BYTES (16u << 20)

/* ------------------------------------------------------------------------ */
/* Addresses */

int server_parse_listen(const char *s, char *host, size_t hostn, unsigned *port, struct err *e)
{
	const char *colon, *h = s;
	size_t hn;
	unsigned long v = 0;
	const char *q;

	if (!s || !s[0])
		return err_set(e, ERR_USAGE, "listen address is empty (expected ADDR:PORT)");
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return err_set(e, ERR_USAGE,
				       "listen address '%.200s': expected [IPv6]:PORT", s);
		h = s + 1;
		hn = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return err_set(e, ERR_USAGE, "listen address '%.200s': expected ADDR:PORT", s);
		hn = (size_t)(colon - s);
		if (memchr(s, ':', hn))
			return err_set(e, ERR_USAGE,
				       "listen address '%.200s': write IPv6 addresses as [ADDR]:PORT", s);
	}
	if (hn == 0)
		return err_set(e, ERR_USAGE, "listen address '%.200s' has no host (use 0.0.0.0 for "
			       "every interface)", s);
	if (hn >= hostn)
		return err_set(e, ERR_USAGE, "listen address '%.200s': host too long", s);
	for (q = h; q < h + hn; q++)
		if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '[' || *q == ']' || *q == '/')
			return err_set(e, ERR_USAGE, "listen address '%.200s': bad host", s);
	q = colon + 1;
	if (!*q)
		return err_set(e, ERR_USAGE, "listen address '%.200s' has no port", s);
	for (; *q; q++) {
		if (*q < '0' || *q > '9' || v > 65535)
			return err_set(e, ERR_USAGE, "listen address '%.200s': bad port", s);
		v = v * 10 + (unsigned long)(*q - '0');
	}
	if (v > 65535 || q - colon - 1 > 5)
		return err_set(e, ERR_USAGE, "listen address '%.200s': port out of range", s);
	memcpy(host, h, hn);
	host[hn] = '\0';
	*port = (unsigned)v;
	return 0;
}

static int server_addr_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
		const uint8_t *b = a->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
			return 1;
		return memcmp(b, mapped, 12) == 0 && b[12] == 127;
	}
	return 0;
}

static int server_resolve(const char *listen, struct addrinfo **res, struct err *e)
{
	char host[SERVER_HOST_MAX], port[8];
	struct addrinfo hints;
	unsigned pn;
	int r;

	if (server_parse_listen(listen, host, sizeof host, &pn, e) < 0)
		return -1;
	snprintf(port, sizeof port, "%u", pn);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	r = getaddrinfo(host, port, &hints, res);
	if (r != 0)
		return err_set(e, ERR_USAGE, "listen address '%.200s': %s", listen,
			       r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	return 0;
}

int server_listen_is_loopback(const char *s, struct err *e)
{
	struct addrinfo *res, *a;
	int lo = 1;

	if (server_resolve(s, &res, e) < 0)
		return -1;
	/* a name is loopback only when everything it names is */
	for (a = res; a; a = a->ai_next)
		if (!server_addr_loopback(a->ai_addr))
			lo = 0;
	freeaddrinfo(res);
	return lo;
}

static void server_make_url(struct server *s, const struct sockaddr *sa, socklen_t n)
{
	char host[INET6_ADDRSTRLEN + 8], port[8];

	if (getnameinfo(sa, n, host, sizeof host, port, sizeof port,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(s->url, sizeof s->url, "http://?");
		return;
	}
	snprintf(s->url, sizeof s->url, sa->sa_family == AF_INET6 ? "http://[%s]:%s" : "http://%s:%s",
		 host, port);
}

int server_open(struct server *s, const char *addr, const struct server_opts *o, struct err *e)
{
	struct addrinfo *res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int one = 1, fd;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	if (o)
		s->o = *o;
	if (s->o.max_conns <= 0)
		s->o.max_conns = SERVER_MAX_CONNS;
	if (s->o.max_body == 0)
		s->o.max_body = SERVER_MAX_BODY;
	if (s->o.idle_ms <= 0)
		s->o.idle_ms = SERVER_IDLE_MS;
	if (s->o.read_ms <= 0)
		s->o.read_ms = SERVER_READ_MS;
	if (s->o.write_ms <= 0)
		s->o.write_ms = SERVER_WRITE_MS;
	if (s->o.drain_ms <= 0)
		s->o.drain_ms = SERVER_DRAIN_MS;
	if (s->o.request_ms <= 0)
		s->o.request_ms = SERVER_REQUEST_MS;
	if (server_resolve(addr, &res, e) < 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		return err_set(e, ERR_OTHER, "socket: %s", strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		int er = errno;

		close(fd);
		freeaddrinfo(res);
		return err_set(e, er == EADDRINUSE || er == EACCES || er == EADDRNOTAVAIL ? ERR_USAGE
											 : ERR_OTHER,
			       "cannot listen on %.200s: %s", addr, strerror(er));
	}
	s->family = res->ai_family;
	freeaddrinfo(res);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		close(fd);
		return err_set(e, ERR_OTHER, "getsockname: %s", strerror(errno));
	}
	s->loopback = server_addr_loopback((const struct sockaddr *)&ss);
	server_make_url(s, (const struct sockaddr *)&ss, sl);
	s->fd = fd;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->inited = 1;
	return 0;
}

void server_close(struct server *s)
{
	int active;

	if (!s->inited)
		return;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	pthread_mutex_lock(&s->mu);
	active = s->active;
	pthread_mutex_unlock(&s->mu);
	/* threads still draining at exit keep using the lock: leave it */
	if (active == 0) {
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		s->inited = 0;
	}
}

/* ------------------------------------------------------------------------ */
/* Writing */

static int server_is_stopping(const struct server *s)
{
	/* a flag, publishing no other data: relaxed is enough */
	return s->stop && atomic_load_explicit(s->stop, memory_order_relaxed);
}

/* MSG_MORE (Linux): hold this piece for the next one (TCP_NODELAY would
 * otherwise make a chunk's size line, data and CRLF three packets). */
#ifdef MSG_MORE
#define SERVER_MORE MSG_MORE
#else
#define SERVER_MORE 0
#endif

static int server_send_flags(struct server_conn *c, const void *p, size_t n, int flags)
{
	const uint8_t *b = p;

	if (c->gone)
		return -1;
	while (n > 0) {
		ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL | flags);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) { /* peer gone, or SO_SNDTIMEO: a client that stopped reading */
			c->gone = 1;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int server_send(struct server_conn *c, const void *p, size_t n)
{
	return server_send_flags(c, p, n, 0);
}

static const char *server_reason(int status)
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
	default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}

/* Status line and the headers every answer has. */
static int server_head(struct server_conn *c, struct buf *h, int status, const char *ctype,
		       const char *extra, struct err *e)
{
	if (server_is_stopping(c->s))
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

	if (c->status)
		return -1; /* one answer per request */
	c->status = status;
	buf_init(&h, 8192);
	rc = server_head(c, &h, status, ctype, extra, &e);
	if (rc == 0)
		rc = http_write_end(&h, (int64_t)n, &e);
	/* small answers go out in one segment */
	if (rc == 0 && n && !c->head_only && buf_append(&h, body, n) == 0)
		n = 0;
	if (rc == 0)
		rc = server_send(c, h.p, h.len);
	if (rc == 0 && n && !c->head_only)
		rc = server_send(c, body, n);
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

	if (c->status)
		return -1;
	c->status = status;
	if (c->p.version < 11)
		c->keep = 0; /* no chunked encoding: the end of the body is the close */
	buf_init(&h, 8192);
	rc = server_head(c, &h, status, ctype, extra, &e);
	if (rc == 0 && c->p.version >= 11)
		rc = http_write_header(&h, "Transfer-Encoding", "chunked", &e);
	if (rc == 0)
		rc = http_write_end(&h, -1, &e);
	if (rc == 0)
		rc = server_send(c, h.p, h.len);
	buf_free(&h);
	c->streaming = c->p.version >= 11 ? 1 : 2;
	if (rc < 0)
		c->keep = 0;
	return rc;
}

int server_stream_send(struct server_conn *c, const void *p, size_t n)
{
	char head[24];
	int k;

	if (!c->streaming || c->gone)
		return -1;
	if (n == 0 || c->head_only)
		return 0;
	if (c->streaming == 2)
		return server_send(c, p, n);
	/* the chunk framing around the caller's bytes, without copying them */
	k = snprintf(head, sizeof head, "%zx\r\n", n);
	if (server_send_flags(c, head, (size_t)k, SERVER_MORE) < 0 ||
	    server_send_flags(c, p, n, SERVER_MORE) < 0 || server_send(c, "\r\n", 2) < 0)
		return -1;
	return 0;
}

int server_stream_end(struct server_conn *c)
{
	int rc = 0;

	if (!c->streaming)
		return -1;
	if (c->streaming == 1 && !c->head_only)
		rc = server_send(c, "0\r\n\r\n", 5);
	c->streaming = 0;
	return rc;
}

int server_status(const struct server_conn *c)
{
	return c->status;
}

int server_client_gone(const struct server_conn *c)
{
	return c->gone;
}

/* ------------------------------------------------------------------------ */
/* Reading one request */

enum { SERVER_RD_OK = 1, SERVER_RD_CLOSE = 0 };

/* 1 when this idle connection should give its slot to a newcomer: the
 * server is at its cap and asked for one (counted down, so that one
 * newcomer closes one connection). A connection that never sent a byte is
 * spared for SERVER_REAP_FRESH_MS: its first request may be on the way. */
static int server_reaped(struct server_conn *c, long waited)
{
	struct server *s = c->s;
	int r = 0;

	if (!c->served && waited < SERVER_REAP_FRESH_MS)
		return 0;
	pthread_mutex_lock(&s->mu);
	if (s->reap > 0) {
		s->reap--;
		r = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

static void server_idle_add(struct server *s, int d)
{
	pthread_mutex_lock(&s->mu);
	s->idle += d;
	pthread_mutex_unlock(&s->mu);
}

/* Waits for input: 1 readable, 0 timed out or stopping or reaped (idle
 * only), -1 error. Inside a request the wait ends at read_ms of silence or
 * at the request's overall deadline, whichever comes first (a client
 * trickling a byte now and then must not hold a connection slot for ever). */
static int server_wait(struct server_conn *c, int started)
{
	int64_t t0 = clock_ms();
	long limit = started ? c->s->o.read_ms : c->s->o.idle_ms;
	int rc = 0;

	if (started && c->req_deadline - t0 < limit)
		limit = c->req_deadline - t0;
	if (!started)
		server_idle_add(c->s, 1);
	for (;;) {
		struct pollfd pf = {c->fd, POLLIN, 0};
		int64_t waited = clock_ms() - t0, left = limit - waited;
		int r;

		if (!started && (server_is_stopping(c->s) || server_reaped(c, waited)))
			break;
		if (left <= 0)
			break;
		r = poll(&pf, 1, (int)(left < SERVER_POLL_MS ? left : SERVER_POLL_MS));
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 0) {
			rc = r > 0 ? 1 : -1;
			break;
		}
	}
	if (!started)
		server_idle_add(c->s, -1);
	return rc;
}

static void server_refuse(struct server_conn *c, int status, const char *msg)
{
	c->keep = 0;
	c->refused = 1;
	c->status = 0;
	if (c->s->error)
		c->s->error(c->s->user, c, status, msg);
	else
		server_reply(c, status, "text/plain", NULL, msg, strlen(msg));
	if (c->s->done)
		c->s->done(c->s->user, NULL, status);
}

static int server_fill(struct server_conn *c, int started)
{
	ssize_t r;
	int w = server_wait(c, started);

	if (w <= 0) {
		if (w == 0 && started)
			server_refuse(c, 408, "the request did not arrive in time");
		return -1;
	}
	do
		r = recv(c->fd, c->in, sizeof c->in, 0);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1; /* closed (mid-request or between requests) or reset */
	c->in_off = 0;
	c->in_len = (size_t)r;
	return 0;
}

static void server_parse_failed(struct server_conn *c, int code)
{
	char msg[160];

	if (code == HTTP_E_BODY_TOO_BIG) {
		snprintf(msg, sizeof msg, "the request body is larger than %zu bytes",
			 c->s->o.max_body);
		server_refuse(c, 413, msg);
	} else if (code == HTTP_E_HEAD_TOO_BIG || code == HTTP_E_TOO_MANY_HDRS) {
		server_refuse(c, 431, "the request headers are too large");
	} else if (code == HTTP_E_VERSION) {
		server_refuse(c, 505, "unsupported HTTP version");
	} else {
		snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_strerror(code));
		server_refuse(c, 400, msg);
	}
}

/* Reads the next request into c->p / c->body. SERVER_RD_OK, or CLOSE when
 * the connection is done (closed, timed out, refused, stopping). */
static int server_read_request(struct server_conn *c)
{
	int started = c->in_off < c->in_len;

	if (started)
		c->req_deadline = clock_ms() + c->s->o.request_ms;

	for (;;) {
		struct slice body;
		struct err e;
		size_t used = 0;
		int ev = http_parse(&c->p, c->in + c->in_off, c->in_len - c->in_off, &used, &body,
				    &e);

		c->in_off += used;
		if (ev < 0) {
			server_parse_failed(c, ev);
			return SERVER_RD_CLOSE;
		}
		if (ev == HTTP_EV_HEAD) {
			if (c->p.version >= 11 && http_header_has_token(&c->p, "Expect", "100-continue") &&
			    server_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
				return SERVER_RD_CLOSE;
			continue;
		}
		if (ev == HTTP_EV_BODY) {
			if (buf_append(&c->body, body.p, body.n) < 0) {
				server_parse_failed(c, HTTP_E_BODY_TOO_BIG);
				return SERVER_RD_CLOSE;
			}
			continue;
		}
		if (ev == HTTP_EV_DONE)
			return SERVER_RD_OK;
		/* HTTP_EV_NEED */
		if (!started)
			c->req_deadline = clock_ms() + c->s->o.request_ms;
		if (server_fill(c, started) < 0)
			return SERVER_RD_CLOSE;
		started = 1;
	}
}

static void server_split_target(const struct http_parser *p, struct server_request *rq)
{
	const uint8_t *q = memchr(p->target.p, '?', p->target.n);

	rq->path = p->target;
	rq->query = (struct slice){NULL, 0};
	if (q) {
		rq->path.n = (size_t)(q - p->target.p);
		rq->query = (struct slice){q + 1, p->target.n - rq->path.n - 1};
	}
}

static void server_serve_one(struct server_conn *c)
{
	struct server_request rq;

	memset(&rq, 0, sizeof rq);
	rq.p = &c->p;
	server_split_target(&c->p, &rq);
	rq.body = c->body.p;
	rq.body_len = c->body.len;
	c->status = 0;
	c->streaming = 0;
	c->keep = c->p.keep_alive && !server_is_stopping(c->s);
	c->head_only = slice_eq_str(c->p.method, "HEAD");
	c->served = 1;
	c->s->handler(c->s->user, c, &rq);
	if (c->streaming) { /* a handler that forgot to end its stream */
		server_stream_end(c);
		c->keep = 0;
	}
	if (!c->status) {
		static const char msg[] = "the request was not answered";

		if (c->s->error)
			c->s->error(c->s->user, c, 500, msg);
		else
			server_reply(c, 500, "text/plain", NULL, msg, sizeof msg - 1);
	}
	if (c->s->done)
		c->s->done(c->s->user, &rq, c->status);
}

/* After a refusal the client may still be sending (a 413 body): closing
 * with unread input resets the connection and can destroy the answer
 * before the client read it. Read and drop for a short, bounded while. */
static void server_linger(int fd)
{
	int64_t t0 = clock_ms();
	size_t total = 0;
	uint8_t b[4096];

	while (total < SERVER_LINGER_BYTES) {
		struct pollfd pf = {fd, POLLIN, 0};
		long left = SERVER_LINGER_MS - (clock_ms() - t0);
		ssize_t k;

		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			break;
		k = recv(fd, b, sizeof b, 0);
		if (k <= 0)
			break;
		total += (size_t)k;
	}
}

static void server_conn_free(struct server_conn *c)
{
	struct server *s = c->s;

	if (c->fd >= 0) {
		shutdown(c->fd, SHUT_WR);
		if (c->refused)
			server_linger(c->fd);
		close(c->fd);
	}
	http_parser_free(&c->p);
	buf_free(&c->body);
	free(c);
	pthread_mutex_lock(&s->mu);
	s->active--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void *server_conn_main(void *arg)
{
	struct server_conn *c = arg;

	for (;;) {
		if (server_read_request(c) != SERVER_RD_OK)
			break;
		server_serve_one(c);
		if (!c->keep || c->gone || server_is_stopping(c->s))
			break;
		http_parser_reset(&c->p);
		buf_reset(&c->body);
	}
	server_conn_free(c);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Accepting */

static void server_busy(struct server *s, int fd)
{
	static const char body[] = "{\"error\":{\"message\":\"too many connections; try again "
				   "later\",\"type\":\"server_error\",\"param\":null,\"code\":null}}";
	char msg[512];
	int n = snprintf(msg, sizeof msg,
			 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
			 "Connection: close\r\nRetry-After: 1\r\nContent-Length: %zu\r\n\r\n%s",
			 sizeof body - 1, body);

	pthread_mutex_lock(&s->mu);
	s->rejected++;
	pthread_mutex_unlock(&s->mu);
	/* never blocks the accept loop: a full socket buffer just loses the
	 * answer; what the client already sent is dropped first so that the
	 * close is a FIN, not a reset that could destroy the answer */
	{
		uint8_t b[4096];
		int k = 0;

		while (k++ < 16 && recv(fd, b, sizeof b, MSG_DONTWAIT) > 0)
			;
	}
	if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* nothing to do */
	}
	shutdown(fd, SHUT_WR);
	close(fd);
	if (s->done)
		s->done(s->user, NULL, 503);
}

static int server_spawn(struct server *s, int fd)
{
	struct server_conn *c;
	pthread_attr_t at;
	pthread_t t;
	struct timeval tv;
	int one = 1, rc;

	c = calloc(1, sizeof *c);
	if (!c)
		return -1;
	c->s = s;
	c->fd = fd;
	http_parser_init(&c->p, HTTP_REQUEST);
	http_parser_max_body(&c->p, s->o.max_body);
	buf_init(&c->body, s->o.max_body);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	tv.tv_sec = s->o.write_ms / 1000;
	tv.tv_usec = (s->o.write_ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, SERVER_STACK);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&s->mu);
	s->active++;
	s->accepted++;
	pthread_mutex_unlock(&s->mu);
	rc = pthread_create(&t, &at, server_conn_main, c);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		c->fd = -1;
		server_conn_free(c); /* decrements active */
		return -1;
	}
	return 0;
}

/* 1 when the server is full. At the cap, with connections idle, asks one
 * of them to close and waits (briefly: the accept loop stalls meanwhile)
 * for its slot. Keep-alive clients (SDK pools) would otherwise hold every
 * slot for idle_ms while others get 503. */
static int server_make_room(struct server *s)
{
	struct timespec dl;
	int full;

	pthread_mutex_lock(&s->mu);
	full = s->active >= s->o.max_conns;
	if (full && s->idle > 0) {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += SERVER_REAP_WAIT_MS * 1000000L;
		dl.tv_sec += dl.tv_nsec / 1000000000L;
		dl.tv_nsec %= 1000000000L;
		s->reap = 1;
		while (s->active >= s->o.max_conns)
			if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
				break;
		s->reap = 0; /* nobody took it: a fresh connection, or all busy by now */
		full = s->active >= s->o.max_conns;
	}
	pthread_mutex_unlock(&s->mu);
	return full;
}

static void server_drain(struct server *s)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += s->o.drain_ms / 1000;
	dl.tv_nsec += (long)(s->o.drain_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (s->active > 0)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->mu);
}

int server_run(struct server *s, struct err *e)
{
	int rc = 0;

	while (!server_is_stopping(s)) {
		struct pollfd pf = {s->fd, POLLIN, 0};
		int fd, n, full;

		n = poll(&pf, 1, SERVER_POLL_MS);
		if (n < 0 && errno != EINTR) {
			rc = err_set(e, ERR_OTHER, "poll: %s", strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		fd = accept(s->fd, NULL, NULL);
		if (fd >= 0)
			fcntl(fd, F_SETFD, FD_CLOEXEC); /* credential_process children */
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				poll(NULL, 0, 100); /* let connections close before trying again */
			continue;
		}
		full = server_make_room(s);
		if (full || server_spawn(s, fd) < 0)
			server_busy(s, fd);
	}
	/* stop accepting at once; then let what is running finish */
	close(s->fd);
	s->fd = -1;
	server_drain(s);
	return rc;
}
