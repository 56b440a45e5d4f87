/* conn: sockets with deadlines, proxies, TLS and the keep-alive pool. */
#include "net/conn.h"

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
#include <unistd.h>

#include "base/clock.h"
#include "base/base64.h"
#include "base/buf.h"
#include "wire/http.h"

#define CONN_KEY_MAX 1200
#define CONN_CONNECT_REPLY_MAX 4096 /* bytes read at once while awaiting the proxy's answer */

struct conn {
	int fd;
	struct tls *tls;
	struct tls_io io;
	char name[URL_HOST_MAX + 16]; /* who we wait for, in messages */
	char key[CONN_KEY_MAX];       /* pool identity: scheme, host, port, proxy */
	char *proxy_auth;             /* "Basic ..." for forwarded plain http */
	int forward;
	int reused;
	int io_timeout_ms;
	int timed_out; /* the last failed operation was a timeout */
	time_t idle_since;
	uint8_t *in; /* CONN_IOBUF bytes, allocated on first use, kept while pooled */
};

static int conn_timeout_error(struct err *e, int ms, const char *name)
{
	if (ms % 1000 == 0)
		return err_set(e, ERR_NET, "timed out after %d s waiting for %s", ms / 1000, name);
	return err_set(e, ERR_NET, "timed out after %.1f s waiting for %s", ms / 1000.0, name);
}

/* Waits until fd is ready for events or ms have passed. 0 ready, 1 timed
 * out, -1 on error (errno). */
static int conn_poll(int fd, short events, int ms)
{
	int64_t deadline = clock_ms() + ms;

	for (;;) {
		struct pollfd pfd = {fd, events, 0};
		int64_t left = deadline - clock_ms();
		int r;

		if (left < 0)
			left = 0;
		r = poll(&pfd, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return 1;
		if (errno != EINTR)
			return -1;
	}
}

/* ------------------------------------------------------------------------ */
/* Raw socket I/O (also the transport of TLS sessions) */

/* After EAGAIN on the non-blocking socket: waits up to io_timeout_ms for it
 * to become ready (0), else -1 with e set (a timeout marks c timed out). */
static int conn_wait(struct conn *c, short events, struct err *e)
{
	int w = conn_poll(c->fd, events, c->io_timeout_ms);

	if (w == 1) {
		c->timed_out = 1;
		return conn_timeout_error(e, c->io_timeout_ms, c->name);
	}
	if (w < 0)
		return err_set(e, ERR_NET, "waiting for %s: %s", c->name, strerror(errno));
	return 0;
}

static int conn_raw_read(void *ctx, uint8_t *p, size_t n, size_t *got, struct err *e)
{
	struct conn *c = ctx;

	*got = 0;
	for (;;) {
		ssize_t r = recv(c->fd, p, n, 0);

		if (r >= 0) {
			*got = (size_t)r;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set(e, ERR_NET, "reading from %s: %s", c->name, strerror(errno));
		if (conn_wait(c, POLLIN, e) < 0)
			return -1;
	}
}

static int conn_raw_write(void *ctx, const uint8_t *p, size_t n, size_t *put, struct err *e)
{
	struct conn *c = ctx;

	*put = 0;
	for (;;) {
		ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);

		if (r >= 0) {
			*put = (size_t)r;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set(e, ERR_NET, "writing to %s: %s", c->name, strerror(errno));
		if (conn_wait(c, POLLOUT, e) < 0)
			return -1;
	}
}

static int conn_raw_write_all(struct conn *c, const uint8_t *p, size_t n, struct err *e)
{
	while (n > 0) {
		size_t put;

		if (conn_raw_write(c, p, n, &put, e) < 0)
			return -1;
		p += put;
		n -= put;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Connecting */

/* One non-blocking connect attempt. 0 connected, 1 timed out, -1 (errno). */
static int conn_try_addr(const struct addrinfo *ai, int ms, int *fdp)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			ai->ai_protocol);
	int one = 1, soerr = 0, r;
	socklen_t sl = sizeof soerr;

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto ok;
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	r = conn_poll(fd, POLLOUT, ms);
	if (r == 1) {
		close(fd);
		return 1;
	}
	if (r < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
ok:
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	*fdp = fd;
	return 0;
fail:
	r = errno;
	close(fd);
	errno = r;
	return -1;
}

/* Resolves host and tries every address, splitting the connect timeout so
 * that a black-holed first address (often IPv6) leaves time for the rest. */
static int conn_tcp(struct conn *c, const char *host, unsigned port, int timeout_ms,
		    struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	int64_t deadline = clock_ms() + timeout_ms;
	int r, last_errno = 0;
	size_t left = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%u", port);
	r = getaddrinfo(host, portstr, &hints, &res);
	if (r != 0)
		return err_set(e, ERR_NET, "cannot resolve %s: %s", host,
			       r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	for (ai = res; ai; ai = ai->ai_next)
		left++;
	for (ai = res; ai; ai = ai->ai_next, left--) {
		int64_t remain = deadline - clock_ms();
		int slice;

		if (remain <= 0)
			break;
		slice = (int)(left > 1 ? remain / 2 : remain);
		if (slice < 1)
			slice = 1;
		r = conn_try_addr(ai, slice, &c->fd);
		if (r == 0) {
			freeaddrinfo(res);
			return 0;
		}
		if (r < 0)
			last_errno = errno;
	}
	freeaddrinfo(res);
	if (last_errno)
		return err_set(e, ERR_NET, "cannot connect to %s port %u: %s", host, port,
			       strerror(last_errno));
	return conn_timeout_error(e, timeout_ms, host);
}

/* The proxy URL for u, or NULL: HTTPS_PROXY/https_proxy for https targets,
 * HTTP_PROXY/http_proxy for http ones; NO_PROXY/no_proxy may bypass. */
static const char *conn_proxy_for(const struct env *env, const struct url *u)
{
	const char *v, *np;

	if (u->https) {
		v = env_get(env, "HTTPS_PROXY");
		if (!v)
			v = env_get(env, "https_proxy");
	} else {
		v = env_get(env, "HTTP_PROXY");
		if (!v)
			v = env_get(env, "http_proxy");
	}
	if (!v)
		return NULL;
	np = env_get(env, "NO_PROXY");
	if (!np)
		np = env_get(env, "no_proxy");
	if (np && url_no_proxy_match(np, u->host, u->port))
		return NULL;
	return v;
}

/* Parses the proxy variable's value; a bare "host:port" means http://. */
static int conn_proxy_parse(const char *v, struct url *pu, struct err *e)
{
	struct buf tmp;
	size_t n = slice_trim(slice_str(v)).n; /* env_get already dropped leading blanks */
	int r;

	buf_init(&tmp, 2048);
	if ((!strstr(v, "://") && buf_append_str(&tmp, "http://") < 0) ||
	    buf_append(&tmp, v, n) < 0) {
		buf_free(&tmp);
		return err_set(e, ERR_USAGE, "proxy URL too long");
	}
	r = url_parse(pu, (const char *)tmp.p, e);
	buf_free(&tmp); /* wiped: it held the proxy password */
	if (r < 0)
		return err_wrap(e, "proxy");
	if (pu->https) {
		url_wipe(pu);
		return err_set(e, ERR_USAGE, "proxy %s: https:// proxies are not supported, use http://",
			       pu->host);
	}
	return 0;
}

/* "Basic base64(user:pass)" from the proxy URL's userinfo, or NULL. */
static int conn_proxy_basic(const struct url *pu, char **out, struct err *e)
{
	struct buf cred, val;

	*out = NULL;
	if (!pu->has_userinfo)
		return 0;
	buf_init(&cred, 2 * URL_CRED_MAX + 2);
	buf_init(&val, 1024);
	if (buf_append_str(&cred, pu->user) < 0 || buf_append_byte(&cred, ':') < 0 ||
	    buf_append_str(&cred, pu->pass) < 0 || buf_append_str(&val, "Basic ") < 0 ||
	    base64_encode_buf(&val, cred.p, cred.len) < 0) {
		buf_free(&cred);
		buf_free(&val);
		return err_set(e, ERR_OTHER, "proxy credentials too long");
	}
	buf_free(&cred);
	*out = (char *)val.p; /* ownership moves; freed with secure_zero in conn_close */
	return 0;
}

/* Asks the proxy to open a tunnel to u and reads its answer. */
static int conn_connect_tunnel(struct conn *c, const struct url *u, const char *auth,
			       struct err *e)
{
	struct http_parser hp;
	struct buf req, target;
	uint8_t in[CONN_CONNECT_REPLY_MAX];
	int rc = -1, ev = HTTP_EV_NEED;

	buf_init(&req, 8192);
	buf_init(&target, 300);
	http_parser_init(&hp, HTTP_RESPONSE);
	http_parser_expect(&hp, HTTP_EXPECT_CONNECT);
	if (url_authority(u, 1, &target) < 0) {
		err_set(e, ERR_USAGE, "host name too long");
		goto out;
	}
	if (http_write_request_line(&req, "CONNECT", (const char *)target.p, e) < 0 ||
	    http_write_header(&req, "Host", (const char *)target.p, e) < 0 ||
	    (auth && http_write_header(&req, "Proxy-Authorization", auth, e) < 0) ||
	    http_write_end(&req, -1, e) < 0)
		goto out;
	if (conn_raw_write_all(c, req.p, req.len, e) < 0)
		goto out;
	/* The proxy sends nothing after its answer until we speak, so a read
	 * never swallows bytes of the tunnel. */
	while (ev != HTTP_EV_DONE) {
		size_t got, off = 0, used;
		struct slice body;

		if (conn_raw_read(c, in, sizeof in, &got, e) < 0)
			goto out;
		if (got == 0) {
			err_set(e, ERR_NET, "%s closed the connection during CONNECT", c->name);
			goto out;
		}
		for (;;) { /* until the parser wants more input or is done */
			ev = http_parse(&hp, in + off, got - off, &used, &body, e);
			off += used;
			if (ev < 0)
				goto out;
			if (ev == HTTP_EV_HEAD && hp.status == 407) {
				/* a settings problem: retrying cannot help */
				err_set(e, ERR_USAGE,
					"%s wants authentication for CONNECT to %s (407): put "
					"user:password in the proxy URL",
					c->name, (const char *)target.p);
				goto out;
			}
			if (ev == HTTP_EV_HEAD && (hp.status < 200 || hp.status > 299)) {
				err_set(e, ERR_NET, "%s refused CONNECT to %s: %d %.*s", c->name,
					(const char *)target.p, hp.status, (int)hp.reason.n,
					(const char *)hp.reason.p);
				goto out;
			}
			if (ev == HTTP_EV_DONE || ev == HTTP_EV_NEED)
				break;
		}
		if (ev == HTTP_EV_DONE && off != got) {
			err_set(e, ERR_PROTO, "%s sent data after its CONNECT answer", c->name);
			goto out;
		}
	}
	rc = 0;
out:
	http_parser_free(&hp);
	buf_free(&req);
	buf_free(&target);
	return rc;
}

static void conn_set_name(struct conn *c, const char *prefix, const struct url *u)
{
	snprintf(c->name, sizeof c->name, "%s%s%s%s", prefix, u->ipv6 ? "[" : "", u->host,
		 u->ipv6 ? "]" : "");
}

static int conn_key(const struct url *u, const char *proxy, char *key, size_t n)
{
	int r = snprintf(key, n, "%s://%s:%u|%s", u->scheme, u->host, u->port, proxy ? proxy : "");

	return (r < 0 || (size_t)r >= n) ? -1 : 0;
}

static int conn_open(struct conn_pool *p, const struct url *u, const char *key,
		     const char *proxy, const struct conn_opts *o, struct conn **out,
		     struct err *e)
{
	struct conn *c;
	struct url pu;
	char *auth = NULL;
	int rc = -1;

	c = calloc(1, sizeof *c);
	if (!c)
		return err_set(e, ERR_OTHER, "out of memory");
	c->fd = -1;
	c->io_timeout_ms = o->io_timeout_ms;
	c->io.read = conn_raw_read;
	c->io.write = conn_raw_write;
	c->io.ctx = c;
	memcpy(c->key, key, strlen(key) + 1);
	memset(&pu, 0, sizeof pu);

	if (proxy) {
		if (conn_proxy_parse(proxy, &pu, e) < 0)
			goto out;
		if (conn_proxy_basic(&pu, &auth, e) < 0)
			goto out;
		conn_set_name(c, "proxy ", &pu);
		if (conn_tcp(c, pu.host, pu.port, o->connect_timeout_ms, e) < 0)
			goto out;
		if (u->https) {
			if (conn_connect_tunnel(c, u, auth, e) < 0)
				goto out;
		} else {
			c->forward = 1;
			c->proxy_auth = auth;
			auth = NULL;
		}
	} else if (conn_tcp(c, u->host, u->port, o->connect_timeout_ms, e) < 0) {
		goto out;
	}
	conn_set_name(c, "", u);
	if (u->https) {
		pthread_mutex_lock(&p->mu);
		rc = tls_trust_load(&p->trust, p->env, e);
		pthread_mutex_unlock(&p->mu);
		if (rc < 0)
			goto out;
		rc = -1;
		if (tls_open(&c->tls, &p->trust, u->host, &c->io, e) < 0)
			goto out;
	}
	rc = 0;
out:
	url_wipe(&pu);
	if (auth) {
		secure_zero(auth, strlen(auth));
		free(auth);
	}
	if (rc < 0) {
		conn_close(c);
		return -1;
	}
	pthread_mutex_lock(&p->mu);
	p->opened++;
	pthread_mutex_unlock(&p->mu);
	*out = c;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The pool */

void conn_pool_init(struct conn_pool *p, const struct env *env)
{
	memset(p, 0, sizeof *p);
	p->env = env;
	pthread_mutex_init(&p->mu, NULL);
}

void conn_pool_free(struct conn_pool *p)
{
	size_t i;

	for (i = 0; i < p->nidle; i++)
		conn_close(p->idle[i]);
	p->nidle = 0;
	tls_trust_free(&p->trust);
	pthread_mutex_destroy(&p->mu);
}

int conn_pool_load_trust(struct conn_pool *p, struct err *e)
{
	int r;

	pthread_mutex_lock(&p->mu);
	r = tls_trust_load(&p->trust, p->env, e);
	pthread_mutex_unlock(&p->mu);
	return r;
}

/* An idle connection is clean when the peer has neither closed it nor sent
 * anything (an unexpected byte would corrupt the next response). */
static int conn_idle_clean(const struct conn *c, time_t now)
{
	struct pollfd pfd = {c->fd, POLLIN, 0};

	if (now - c->idle_since > CONN_IDLE_MAX_S)
		return 0;
	if (c->tls && tls_pending(c->tls))
		return 0;
	return poll(&pfd, 1, 0) == 0;
}

static struct conn *conn_pool_take(struct conn_pool *p, const char *key)
{
	struct conn *found = NULL, *stale[CONN_POOL_MAX];
	time_t now = time(NULL);
	size_t i, nstale = 0;

	pthread_mutex_lock(&p->mu);
	for (i = p->nidle; i-- > 0;) { /* newest first */
		struct conn *c = p->idle[i];
		if (strcmp(c->key, key) != 0)
			continue;
		memmove(&p->idle[i], &p->idle[i + 1], (p->nidle - i - 1) * sizeof p->idle[0]);
		p->nidle--;
		if (!conn_idle_clean(c, now)) {
			stale[nstale++] = c;
			continue;
		}
		found = c;
		p->reused++;
		break;
	}
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < nstale; i++)
		conn_close(stale[i]);
	return found;
}

int conn_get(struct conn_pool *p, const struct url *u, const struct conn_opts *opts, int fresh,
	     struct conn **out, struct err *e)
{
	struct conn_opts o = {CONN_CONNECT_TIMEOUT_MS, CONN_IO_TIMEOUT_MS};
	const char *proxy = conn_proxy_for(p->env, u);
	char key[CONN_KEY_MAX];
	struct conn *c;
	int rc;

	*out = NULL;
	if (opts && opts->connect_timeout_ms > 0)
		o.connect_timeout_ms = opts->connect_timeout_ms;
	if (opts && opts->io_timeout_ms > 0)
		o.io_timeout_ms = opts->io_timeout_ms;
	if (conn_key(u, proxy, key, sizeof key) < 0)
		return err_set(e, ERR_USAGE, "proxy URL too long");
	c = fresh ? NULL : conn_pool_take(p, key);
	if (c) {
		c->reused = 1;
		c->io_timeout_ms = o.io_timeout_ms;
		*out = c;
		secure_zero(key, sizeof key);
		return 0;
	}
	rc = conn_open(p, u, key, proxy, &o, out, e);
	secure_zero(key, sizeof key); /* it may hold proxy credentials */
	return rc < 0 ? -1 : 0;
}

void conn_put(struct conn_pool *p, struct conn *c)
{
	struct conn *evict = NULL;

	c->idle_since = time(NULL);
	c->reused = 0;
	pthread_mutex_lock(&p->mu);
	if (p->nidle == CONN_POOL_MAX) {
		evict = p->idle[0];
		memmove(&p->idle[0], &p->idle[1], (CONN_POOL_MAX - 1) * sizeof p->idle[0]);
		p->nidle--;
	}
	p->idle[p->nidle++] = c;
	pthread_mutex_unlock(&p->mu);
	conn_close(evict);
}

uint8_t *conn_iobuf(struct conn *c)
{
	if (!c->in)
		c->in = malloc(CONN_IOBUF);
	return c->in;
}

void conn_close(struct conn *c)
{
	if (!c)
		return;
	tls_close(c->tls);
	if (c->fd >= 0)
		close(c->fd);
	if (c->in) {
		secure_zero(c->in, CONN_IOBUF);
		free(c->in);
	}
	if (c->proxy_auth) {
		secure_zero(c->proxy_auth, strlen(c->proxy_auth));
		free(c->proxy_auth);
	}
	secure_zero(c, sizeof *c);
	free(c);
}

/* ------------------------------------------------------------------------ */
/* Data */

int conn_reused(const struct conn *c)
{
	return c->reused;
}

int conn_timed_out(const struct conn *c)
{
	return c->timed_out;
}

int conn_forward_proxy(const struct conn *c)
{
	return c->forward;
}

const char *conn_proxy_auth(const struct conn *c)
{
	return c->proxy_auth;
}

int conn_read(struct conn *c, uint8_t *p, size_t n, size_t *got, struct err *e)
{
	if (c->tls)
		return tls_read(c->tls, p, n, got, e);
	return conn_raw_read(c, p, n, got, e);
}

int conn_write(struct conn *c, const void *p, size_t n, struct err *e)
{
	if (c->tls)
		return tls_write(c->tls, p, n, e);
	return conn_raw_write_all(c, p, n, e);
}

int conn_flush(struct conn *c, struct err *e)
{
	return c->tls ? tls_flush(c->tls, e) : 0;
}
