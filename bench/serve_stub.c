/* serve_stub: a plain HTTP/1.1 upstream for `make bench-serve` that answers
 * every request with a ConverseStream event stream made by brock's own
 * encoder: messageStart, DELTAS contentBlockDelta events CADENCE ms apart,
 * messageStop, metadata; POST .../converse gets one JSON Converse answer.
 * Keep-alive, one epoll loop (brock's loop.c).
 *
 *   serve_stub PORT DELTAS CADENCE_MS        prints "ready PORT" when listening */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/loop.h"
#include "wire/evstream.h"
#include "wire/http.h"

struct stub_conn {
	struct loop_io io;
	struct loop_timer tm;
	struct http_parser p;
	int fd, sent, streaming;
	int64_t start; /* deltas are due at start + k * cadence: a late tick does not shift the rest */
};

static int n_deltas = 100, cadence = 50;
static struct loop L;
static struct loop_io lis;

static void stub_event(struct buf *o, const char *type, const char *json)
{
	struct evs_header h[3] = {evs_hdr_string(":event-type", type),
				  evs_hdr_string(":content-type", "application/json"),
				  evs_hdr_string(":message-type", "event")};
	struct buf m;
	char size[24];

	buf_init(&m, 1 << 16);
	evs_encode(&m, h, 3, json, strlen(json));
	snprintf(size, sizeof size, "%zx\r\n", m.len);
	buf_append_str(o, size);
	buf_append(o, m.p, m.len);
	buf_append_str(o, "\r\n");
	buf_free(&m);
}

static void stub_close(struct stub_conn *c)
{
	loop_io_del(&L, &c->io);
	loop_timer_stop(&L, &c->tm);
	close(c->fd);
	http_parser_free(&c->p);
	free(c);
}

static int stub_send(struct stub_conn *c, const struct buf *o)
{
	/* small pieces on loopback: a full buffer means a stuck reader, drop it */
	return send(c->fd, o->p, o->len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)o->len ? 0 : -1;
}

static void stub_tick(struct loop *l, struct loop_timer *t)
{
	struct stub_conn *c = t->user;
	struct buf o;
	char j[160];

	buf_init(&o, 1 << 20);
	if (c->sent < n_deltas) {
		snprintf(j, sizeof j, "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"tok%d \"},\"p\":\"x\"}",
			 c->sent);
		stub_event(&o, "contentBlockDelta", j);
		c->sent++;
	}
	if (c->sent == n_deltas) {
		stub_event(&o, "contentBlockStop", "{\"contentBlockIndex\":0,\"p\":\"x\"}");
		stub_event(&o, "messageStop", "{\"stopReason\":\"end_turn\",\"p\":\"x\"}");
		stub_event(&o, "metadata", "{\"usage\":{\"inputTokens\":10,\"outputTokens\":100,"
					   "\"totalTokens\":110},\"metrics\":{\"latencyMs\":5},\"p\":\"x\"}");
		buf_append_str(&o, "0\r\n\r\n");
		c->streaming = 0;
	}
	if (stub_send(c, &o) < 0) {
		buf_free(&o);
		stub_close(c);
		return;
	}
	buf_free(&o);
	if (c->streaming)
		loop_timer_set(l, t, c->start + (int64_t)(c->sent + 1) * cadence);
}

static void stub_start(struct stub_conn *c)
{
	struct buf o;

	buf_init(&o, 1 << 16);
	buf_append_str(&o, "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"
			   "x-amzn-RequestId: stub-0001\r\nTransfer-Encoding: chunked\r\n\r\n");
	stub_event(&o, "messageStart", "{\"role\":\"assistant\",\"p\":\"x\"}");
	if (stub_send(c, &o) < 0) {
		buf_free(&o);
		stub_close(c);
		return;
	}
	buf_free(&o);
	c->sent = 0;
	c->streaming = 1;
	c->start = L.now;
	loop_timer_set(&L, &c->tm, c->start + cadence);
}

/* POST /model/<id>/converse: one short JSON Converse answer at once (the
 * non-stream keep-alive bench). -1: the connection is closed. */
static int stub_converse(struct stub_conn *c)
{
	static const char j[] = "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":"
				"[{\"text\":\"ok\"}]}},\"stopReason\":\"end_turn\",\"usage\":"
				"{\"inputTokens\":10,\"outputTokens\":1,\"totalTokens\":11},"
				"\"metrics\":{\"latencyMs\":1}}";
	char o[512];
	int n = snprintf(o, sizeof o,
			 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			 "x-amzn-RequestId: stub-0002\r\nContent-Length: %zu\r\n\r\n%s",
			 sizeof j - 1, j);

	if (send(c->fd, o, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		stub_close(c);
		return -1;
	}
	return 0;
}

static void stub_on_io(struct loop *l, struct loop_io *w, uint32_t ev)
{
	struct stub_conn *c = w->user;
	uint8_t b[65536];
	ssize_t n = recv(c->fd, b, sizeof b, 0);
	size_t off = 0;

	(void)l;
	(void)ev;
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return;
		stub_close(c);
		return;
	}
	for (;;) {
		struct slice body;
		struct err e;
		size_t used = 0;
		int r = http_parse(&c->p, b + off, (size_t)n - off, &used, &body, &e);

		off += used;
		if (r < 0) {
			stub_close(c);
			return;
		}
		if (r == HTTP_EV_DONE) {
			int conv = c->p.target.n > 9 &&
				   memcmp(c->p.target.p + c->p.target.n - 9, "/converse", 9) == 0;

			http_parser_reset(&c->p);
			if (conv && stub_converse(c) < 0)
				return;
			if (!conv && !c->streaming)
				stub_start(c);
			continue;
		}
		if (r == HTTP_EV_NEED)
			return;
	}
}

static void stub_on_accept(struct loop *l, struct loop_io *w, uint32_t ev)
{
	int fd, one = 1;

	(void)ev;
	while ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct stub_conn *c = calloc(1, sizeof *c);

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->fd = fd;
		http_parser_init(&c->p, HTTP_REQUEST);
		http_parser_max_body(&c->p, 64u << 20);
		c->io.fn = stub_on_io;
		c->io.user = c;
		c->tm.fn = stub_tick;
		c->tm.user = c;
		loop_io_add(l, &c->io, fd, EPOLLIN);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	struct rlimit r;
	struct err e;
	socklen_t al = sizeof a;
	int fd, one = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: serve_stub PORT DELTAS CADENCE_MS\n");
		return 2;
	}
	n_deltas = atoi(argv[2]);
	cadence = atoi(argv[3]);
	if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4096) < 0) {
		perror("serve_stub: listen");
		return 1;
	}
	getsockname(fd, (struct sockaddr *)&a, &al);
	if (loop_init(&L, &e) < 0)
		return 1;
	lis.fn = stub_on_accept;
	loop_io_add(&L, &lis, fd, EPOLLIN);
	printf("ready %u\n", ntohs(a.sin_port));
	fflush(stdout);
	loop_run(&L);
	return 0;
}
