/* h2c_conn: the connections of h2c: DNS on a helper thread, non-blocking
 * connect, TLS through tls_start's buffers, the socket pump and the timers. */
#include "net/h2c_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "base/clock.h"

#define H2C_TICK_MS 1000
#define H2C_MAX_RETRIES 3
#define H2C_UNSETTLED_STREAMS 100 /* streams put on a connection before its SETTINGS */

static void h2c_conn_timer(struct loop *l, struct loop_timer *t);
static void h2c_conn_io(struct loop *l, struct loop_io *w, uint32_t ev);

static int64_t h2c_now(const struct h2c *c)
{
	return c->loop->now ? c->loop->now : clock_ms();
}

void h2c_init(struct h2c *c, struct loop *l, struct loop_pool *pool, const struct tls_trust *trust)
{
	memset(c, 0, sizeof *c);
	c->loop = l;
	c->pool = pool;
	c->trust = trust;
	c->connect_ms = H2C_CONNECT_MS;
	c->silence_ms = H2C_SILENCE_MS;
}

static size_t h2c_nstreams(const struct h2c_conn *k)
{
	const struct h2c_stream *s;
	size_t n = 0;

	for (s = k->streams; s; s = s->next)
		n++;
	return n;
}

/* ------------------------------------------------------------------------ */
/* Teardown */

static void h2c_conn_release(struct h2c_conn *k)
{
	struct h2c_conn **pp;

	while (k->streams)
		h2c_stream_free(k->streams);
	for (pp = &k->c->conns; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	k->c->st.conns_open--;
	h2_parser_free(&k->parser);
	buf_free(&k->out);
	free(k);
}

/* Closes the socket and fails every stream still there; the memory goes at
 * the next timer (after this batch of events) or when DNS is back. */
static void h2c_conn_fail(struct h2c_conn *k, int kind, const struct err *e)
{
	struct h2c_stream *s;

	if (k->state == H2C_DEAD)
		return;
	k->state = H2C_DEAD;
	if (k->fd >= 0) {
		loop_io_del(k->c->loop, &k->io);
		close(k->fd);
		k->fd = -1;
	}
	tls_close(k->tls);
	k->tls = NULL;
	for (s = k->streams; s; s = s->next) {
		s->rst = 0;
		h2c_stream_fail(s, kind, e);
	}
	loop_timer_set(k->c->loop, &k->timer, h2c_now(k->c));
}

void h2c_free(struct h2c *c)
{
	struct h2c_conn *k, *next;
	struct err e = {0};

	err_set(&e, ERR_NET, "gateway shutting down");
	for (k = c->conns; k; k = next) {
		next = k->next;
		h2c_conn_fail(k, H2C_E_NET, &e);
		loop_timer_stop(c->loop, &k->timer);
		if (!k->dns_busy)
			h2c_conn_release(k);
	}
}

int h2c_idle(const struct h2c *c)
{
	return c->conns == NULL;
}

/* ------------------------------------------------------------------------ */
/* Choosing and opening a connection */

static int h2c_no_h2(const struct h2c *c, const char *hp)
{
	size_t i;

	for (i = 0; i < sizeof c->no_h2 / sizeof c->no_h2[0]; i++)
		if (strcmp(c->no_h2[i], hp) == 0)
			return 1;
	return 0;
}

static void h2c_dns_job(struct loop_job *j)
{
	struct h2c_conn *k = j->user;
	struct addrinfo hints, *res = NULL;
	char port[8];
	int r;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", k->port);
	r = getaddrinfo(k->host, port, &hints, &res);
	if (r != 0 || !res || res->ai_addrlen > sizeof k->addr) {
		snprintf(k->dns_err, sizeof k->dns_err, "cannot resolve %s: %s", k->host,
			 r ? gai_strerror(r) : "no address");
	} else {
		memcpy(&k->addr, res->ai_addr, res->ai_addrlen);
		k->addrlen = res->ai_addrlen;
	}
	if (res)
		freeaddrinfo(res);
	loop_post(k->c->loop, &k->msg, 1);
}

static void h2c_dns_done(struct loop *l, struct loop_msg *m, unsigned bits)
{
	struct h2c_conn *k = m->user;
	struct err e = {0};
	int one = 1;

	(void)l;
	(void)bits;
	k->dns_busy = 0;
	if (k->state == H2C_DEAD) {
		h2c_conn_release(k);
		return;
	}
	if (k->dns_err[0]) {
		err_set(&e, ERR_NET, "%s", k->dns_err);
		h2c_conn_fail(k, H2C_E_NET, &e);
		return;
	}
	k->fd = socket(k->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd < 0 ||
	    (connect(k->fd, (struct sockaddr *)&k->addr, k->addrlen) < 0 && errno != EINPROGRESS)) {
		err_set(&e, ERR_NET, "cannot connect to %s: %s", k->host, strerror(errno));
		h2c_conn_fail(k, H2C_E_NET, &e);
		return;
	}
	setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	k->io.fn = h2c_conn_io;
	k->io.user = k;
	if (loop_io_add(k->c->loop, &k->io, k->fd, EPOLLOUT) < 0) {
		close(k->fd);
		k->fd = -1;
		err_set(&e, ERR_OTHER, "epoll: %s", strerror(errno));
		h2c_conn_fail(k, H2C_E_NET, &e);
		return;
	}
	k->state = H2C_CONNECT;
}

static struct h2c_conn *h2c_conn_new(struct h2c *c, const char *host, int port, struct err *e)
{
	struct h2c_conn *k = calloc(1, sizeof *k);

	if (!k) {
		err_set(e, ERR_OTHER, "out of memory");
		return NULL;
	}
	k->c = c;
	snprintf(k->host, sizeof k->host, "%s", host);
	k->port = port;
	k->fd = -1;
	h2_parser_init(&k->parser, H2_CLIENT, H2C_LIST_MAX);
	hpack_decoder_init(&k->dec, HPACK_TABLE_CAP, H2C_LIST_MAX, k->scratch, sizeof k->scratch);
	hpack_encoder_init(&k->enc, HPACK_TABLE_CAP);
	h2_settings_init(&k->peer);
	buf_init(&k->out, H2C_OUT_MAX);
	k->send_win = H2_DEFAULT_WINDOW;
	k->recv_win = H2_DEFAULT_WINDOW;
	k->next_id = 1;
	k->timer.fn = h2c_conn_timer;
	k->timer.user = k;
	k->msg.fn = h2c_dns_done;
	k->msg.user = k;
	k->job.fn = h2c_dns_job;
	k->job.user = k;
	k->deadline = h2c_now(c) + c->connect_ms;
	k->last_in = h2c_now(c);
	k->dns_busy = 1;
	if (loop_pool_submit(c->pool, &k->job) < 0) {
		h2_parser_free(&k->parser);
		free(k);
		err_set(e, ERR_OTHER, "no helper thread for DNS");
		return NULL;
	}
	k->next = c->conns;
	c->conns = k;
	c->st.conns_open++;
	c->st.conns_opened++;
	loop_timer_set(c->loop, &k->timer,
		       k->deadline < h2c_now(c) + H2C_TICK_MS ? k->deadline
							      : h2c_now(c) + H2C_TICK_MS);
	return k;
}

/* A connection to host:port with room for one more stream, else a new one. */
struct h2c_conn *h2c_conn_for(struct h2c *c, const char *host, int port, struct err *e)
{
	struct h2c_conn *k;
	char hp[272];

	snprintf(hp, sizeof hp, "%s:%d", host, port);
	if (h2c_no_h2(c, hp)) {
		err_set(e, ERR_NET, "%s does not speak HTTP/2", hp);
		return NULL;
	}
	for (k = c->conns; k; k = k->next) {
		size_t cap = k->state == H2C_OPEN ? k->peer.max_concurrent_streams
						  : H2C_UNSETTLED_STREAMS;
		if (k->state > H2C_OPEN || k->port != port || strcmp(k->host, host) != 0 ||
		    k->next_id > 0x7ff00000u)
			continue;
		if (h2c_nstreams(k) < cap)
			return k;
	}
	return h2c_conn_new(c, host, port, e);
}

/* Moves a stream the peer never processed to another connection. */
void h2c_stream_retry(struct h2c_conn *k, struct h2c_stream *s)
{
	struct h2c_stream **pp;
	struct h2c_conn *to;
	struct err e = {0};

	if (++s->retries > H2C_MAX_RETRIES) {
		err_set(&e, ERR_NET, "upstream %s refused the stream", k->host);
		h2c_stream_fail(s, H2C_E_NET, &e);
		return;
	}
	to = h2c_conn_for(k->c, k->host, k->port, &e);
	if (!to) {
		h2c_stream_fail(s, H2C_E_NET, &e);
		return;
	}
	for (pp = &k->streams; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->id)
		k->active--;
	s->id = 0;
	s->sent = 0;
	s->rst = 0;
	s->closed_local = s->closed_remote = 0;
	s->conn = to;
	s->next = to->streams;
	to->streams = s;
	h2c_kick(to);
}

void h2c_kick(struct h2c_conn *k)
{
	if (k->state != H2C_DEAD)
		loop_timer_set(k->c->loop, &k->timer, h2c_now(k->c));
}

/* ------------------------------------------------------------------------ */
/* The socket pump */

/* The handshake is done: h2 or not. */
static int h2c_conn_up(struct h2c_conn *k)
{
	static const struct h2_setting ours[] = {
		{H2_SETTINGS_ENABLE_PUSH, 0},
		{H2_SETTINGS_INITIAL_WINDOW_SIZE, H2C_STREAM_WINDOW},
		{H2_SETTINGS_MAX_HEADER_LIST_SIZE, H2C_LIST_MAX},
	};
	const char *alpn = tls_alpn(k->tls);
	struct err e = {0};

	if (!alpn || strcmp(alpn, "h2") != 0) {
		struct h2c *c = k->c;
		snprintf(c->no_h2[c->no_h2_next++ % 8], sizeof c->no_h2[0], "%s:%d", k->host,
			 k->port);
		err_set(&e, ERR_NET, "%s:%d does not speak HTTP/2", k->host, k->port);
		h2c_conn_fail(k, H2C_E_NO_H2, &e);
		return -1;
	}
	if (h2_write_preface(&k->out) < 0 || h2_write_settings(&k->out, ours, 3) < 0 ||
	    h2_write_window_update(&k->out, 0, H2C_CONN_WINDOW - H2_DEFAULT_WINDOW) < 0)
		return -1;
	k->recv_win = (int32_t)H2C_CONN_WINDOW;
	k->state = H2C_HELLO;
	return 0;
}

/* Decrypted bytes through the frame parser. */
static int h2c_read_frames(struct h2c_conn *k, struct err *e)
{
	while (k->state != H2C_DEAD && (tls_state(k->tls) & TLS_CAN_READ)) {
		size_t n, used;
		const uint8_t *p = tls_app_in(k->tls, &n);
		struct h2_frame f;
		int r = h2_feed(&k->parser, p, n, &used, &f);

		tls_app_in_ack(k->tls, used);
		if (r == 1) {
			if (h2c_frame(k, &f, e) < 0)
				return -1;
		} else if (r < 0 && h2_is_stream_error(r)) {
			struct h2c_stream *s = h2c_find(k, f.stream);

			h2_write_rst_stream(&k->out, f.stream, h2_error_code(r));
			if (s) {
				struct err se;

				err_set(&se, ERR_PROTO, "Bedrock's HTTP/2 stream broke the protocol");
				h2c_stream_fail(s, H2C_E_RESET, &se);
			}
		} else if (r < 0) {
			return h2_err(e, r);
		}
	}
	return 0;
}

/* Socket to engine; 1 when something moved. */
static int h2c_socket_in(struct h2c_conn *k, struct err *e)
{
	size_t n;
	uint8_t *p;
	ssize_t got;

	if (!(tls_state(k->tls) & TLS_WANT_READ))
		return 0;
	p = tls_rec_in(k->tls, &n);
	got = read(k->fd, p, n);
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (got < 0)
		return err_set(e, ERR_NET, "read from %s: %s", k->host, strerror(errno));
	tls_rec_in_ack(k->tls, (size_t)got);
	k->last_in = h2c_now(k->c);
	k->ping_at = 0;
	return 1;
}

/* Frames to the engine, records to the socket; 1 when something moved. */
static int h2c_socket_out(struct h2c_conn *k, struct err *e)
{
	int moved = 0;

	while (k->out.len && (tls_state(k->tls) & TLS_CAN_WRITE)) {
		size_t n;
		uint8_t *p = tls_app_out(k->tls, &n);
		if (n > k->out.len)
			n = k->out.len;
		memcpy(p, k->out.p, n);
		tls_app_out_ack(k->tls, n);
		buf_consume(&k->out, n);
		moved = 1;
	}
	if (moved)
		tls_app_flush(k->tls);
	while (tls_state(k->tls) & TLS_WANT_WRITE) {
		size_t n;
		const uint8_t *p = tls_rec_out(k->tls, &n);
		ssize_t put = write(k->fd, p, n);
		if (put < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (put < 0)
			return err_set(e, ERR_NET, "write to %s: %s", k->host, strerror(errno));
		tls_rec_out_ack(k->tls, (size_t)put);
		moved = 1;
	}
	return moved;
}

static void h2c_pump(struct h2c_conn *k)
{
	struct err e = {0};
	int moved = 1, r, rounds = 0;

	while (moved && k->state != H2C_DEAD && rounds++ < 64) {
		moved = 0;
		r = h2c_socket_in(k, &e);
		if (r < 0)
			goto fail;
		moved |= r;
		if (k->state == H2C_TLS && (tls_state(k->tls) & TLS_UP) && h2c_conn_up(k) < 0)
			return;
		if (k->state >= H2C_HELLO && h2c_read_frames(k, &e) < 0)
			goto fail;
		/* free the streams that just ended before queueing: they count
		 * against MAX_CONCURRENT_STREAMS, and a stream waiting for room
		 * would otherwise wait for the next event (up to H2C_TICK_MS) */
		h2c_sweep(k);
		h2c_queue(k);
		r = h2c_socket_out(k, &e);
		if (r < 0)
			goto fail;
		moved |= r;
		if (tls_state(k->tls) & TLS_CLOSED) {
			if (tls_status(k->tls, &e) >= 0)
				err_set(&e, ERR_NET, "upstream %s closed the connection", k->host);
			goto fail;
		}
	}
	if (k->state == H2C_DEAD)
		return;
	h2c_sweep(k);
	loop_io_mod(k->c->loop, &k->io,
		    ((tls_state(k->tls) & TLS_WANT_READ) ? EPOLLIN : 0) |
			    ((tls_state(k->tls) & TLS_WANT_WRITE) ? EPOLLOUT : 0));
	if (rounds >= 64)
		h2c_kick(k); /* more to do: after the other connections had a turn */
	return;
fail:
	h2c_conn_fail(k, H2C_E_NET, &e);
}

static void h2c_conn_io(struct loop *l, struct loop_io *w, uint32_t ev)
{
	struct h2c_conn *k = w->user;
	struct err e = {0};
	int soerr = 0;
	socklen_t sl = sizeof soerr;

	(void)l;
	if (k->state == H2C_DEAD)
		return;
	if (k->state == H2C_CONNECT) {
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			err_set(&e, ERR_NET, "cannot connect to %s: %s", k->host, strerror(soerr));
			h2c_conn_fail(k, H2C_E_NET, &e);
			return;
		}
		if (tls_start(&k->tls, k->c->trust, k->host, 0, &e) < 0) {
			h2c_conn_fail(k, H2C_E_NET, &e);
			return;
		}
		k->state = H2C_TLS;
	}
	h2c_pump(k);
}

/* ------------------------------------------------------------------------ */
/* Timers: kicks, deadlines, PING, silence, idle */

static void h2c_conn_checks(struct h2c_conn *k, int64_t now)
{
	struct h2c_stream *s;
	struct err e = {0};

	if (k->state < H2C_OPEN && now >= k->deadline) {
		err_set(&e, ERR_NET, "connecting to %s timed out", k->host);
		h2c_conn_fail(k, H2C_E_TIMEOUT, &e);
		return;
	}
	if (k->ping_at && now - k->ping_at >= H2C_PING_WAIT_MS) {
		err_set(&e, ERR_NET, "upstream %s stopped answering", k->host);
		h2c_conn_fail(k, H2C_E_NET, &e);
		return;
	}
	if (k->state >= H2C_OPEN && k->active && !k->ping_at && now - k->last_in >= H2C_PING_MS) {
		static const uint8_t opaque[8] = {'b', 'r', 'o', 'c', 'k'};
		if (h2_write_ping(&k->out, 0, opaque) == 0) {
			k->ping_at = now;
			k->c->st.pings_sent++;
		}
	}
	for (s = k->streams; s; s = s->next)
		if (s->id && !s->gone && !s->paused && now - s->last_in >= k->c->silence_ms) {
			err_set(&e, ERR_NET, "upstream %s sent nothing for %lld s", k->host,
				(long long)(k->c->silence_ms / 1000));
			h2c_cancel(s);
			s->gone = 0;
			h2c_stream_fail(s, H2C_E_TIMEOUT, &e);
		}
}

static void h2c_conn_timer(struct loop *l, struct loop_timer *t)
{
	struct h2c_conn *k = t->user;
	int64_t now = h2c_now(k->c);

	(void)l;
	if (k->state == H2C_DEAD) {
		if (!k->dns_busy)
			h2c_conn_release(k);
		return;
	}
	if (now >= k->next_check) {
		k->next_check = now + H2C_TICK_MS;
		h2c_conn_checks(k, now);
		if (k->state == H2C_DEAD)
			return;
	}
	if (k->tls)
		h2c_pump(k);
	if (k->state == H2C_DEAD)
		return;
	if (k->streams)
		k->idle_since = 0;
	else if (!k->idle_since)
		k->idle_since = now;
	if ((k->idle_since && now - k->idle_since >= H2C_IDLE_MS) ||
	    (k->state == H2C_DRAIN && !k->streams)) {
		h2c_conn_fail(k, H2C_E_NET, NULL);
		return;
	}
	if (!t->idx)
		loop_timer_set(l, t, k->next_check);
}
