/* test_server: the serve-mode listener. Pure helpers (listen addresses,
 * loopback, constant-time compare) and a real server on 127.0.0.1:0 in a
 * thread, driven over sockets: keep-alive, pipelining, chunked request
 * bodies, Expect: 100-continue, limits (413, 431, 400, 408), idle close,
 * chunked and HTTP/1.0 streams, the connection cap (503), a handler that
 * does not answer (500), HEAD, and a graceful stop that lets a slow answer
 * finish. Answers are read back with http.h's response parser. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/server.h"
#include "t.h"

/* ---- pure helpers ---- */

static void test_parse_listen(void)
{
	static const struct {
		const char *in, *host;
		unsigned port;
	} ok[] = {
		{"127.0.0.1:8080", "127.0.0.1", 8080}, {"[::1]:0", "::1", 0},
		{"0.0.0.0:65535", "0.0.0.0", 65535}, {"localhost:80", "localhost", 80},
		{"[fe80::1%lo]:1", "fe80::1%lo", 1},  {"a:00080", "a", 80},
	};
	static const char *const bad[] = {
		"", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:80x", "::1:80", "[::1]80", "[::1]", "[]:80", "a b:80", "a:999999",
		"127.0.0.1:+80", "[::1]:", "a/b:80", "a:1234567",
	};
	char host[SERVER_HOST_MAX];
	unsigned port;
	struct err e;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		int r = server_parse_listen(ok[i].in, host, sizeof host, &port, &e);

		t_case(ok[i].in, r == 0 && strcmp(host, ok[i].host) == 0 && port == ok[i].port);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.cls = 0;
		t_case(bad[i], server_parse_listen(bad[i], host, sizeof host, &port, &e) < 0 &&
				       e.cls == ERR_USAGE);
	}
	/* host buffer too small */
	CHECK(server_parse_listen("abcdef:1", host, 4, &port, &e) < 0);
}

static void test_loopback(void)
{
	struct err e;

	CHECK(server_listen_is_loopback("127.0.0.1:0", &e) == 1);
	CHECK(server_listen_is_loopback("127.9.8.7:80", &e) == 1);
	CHECK(server_listen_is_loopback("[::1]:0", &e) == 1);
	CHECK(server_listen_is_loopback("[::ffff:127.0.0.1]:0", &e) == 1);
	CHECK(server_listen_is_loopback("0.0.0.0:0", &e) == 0);
	CHECK(server_listen_is_loopback("[::]:0", &e) == 0);
	CHECK(server_listen_is_loopback("10.1.2.3:80", &e) == 0);
	CHECK(server_listen_is_loopback("128.0.0.1:80", &e) == 0);
	CHECK(server_listen_is_loopback("[::ffff:10.0.0.1]:0", &e) == 0);
	CHECK(server_listen_is_loopback("nope", &e) == -1);
}

static void test_ct_equal(void)
{
	CHECK(secure_equal("abc", "abc", 3));
	CHECK(!secure_equal("abc", "abd", 3));
	CHECK(!secure_equal("xbc", "abc", 3));
	CHECK(secure_equal("", "", 0));
}

/* ---- a live server ---- */

static struct server srv;
static atomic_int stop_flag;
static pthread_t srv_thread;
static unsigned srv_port;
static int done_count, done_last, deny_done;
static int flood_gone, flood_sent;
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;

static void handler(void *user, struct server_conn *c, const struct server_request *rq)
{
	char out[512];
	int n;

	(void)user;
	if (slice_eq_str(rq->path, "/stream") || slice_eq_str(rq->path, "/slowstream")) {
		int slow = rq->path.p[1] == 's' && rq->path.p[2] == 'l';

		CHECK(server_stream_start(c, 200, "text/event-stream", "Cache-Control: no-cache\r\n") == 0);
		CHECK(server_stream_send(c, "data: a\n\n", 9) == 0);
		if (slow)
			poll(NULL, 0, 400);
		CHECK(server_stream_send(c, "", 0) == 0); /* nothing, not the last chunk */
		/* the slow stream's client has gone by now: the writes fail */
		CHECK((server_stream_send(c, "data: bb\n\n", 10) == 0) == !slow);
		CHECK((server_stream_end(c) == 0) == !slow);
		CHECK(server_client_gone(c) == slow);
		CHECK(server_reply(c, 200, NULL, NULL, "x", 1) < 0); /* one answer per request */
		return;
	}
	if (slice_eq_str(rq->path, "/flood")) { /* 8 MiB to a client that reads nothing */
		static char piece[16384];
		int i, rc = 0;

		memset(piece, 'f', sizeof piece);
		CHECK(server_stream_start(c, 200, "text/plain", NULL) == 0);
		for (i = 0; i < 512 && rc == 0; i++)
			rc = server_stream_send(c, piece, sizeof piece);
		pthread_mutex_lock(&done_mu);
		flood_gone = rc < 0 && server_client_gone(c);
		flood_sent = i;
		pthread_mutex_unlock(&done_mu);
		return;
	}
	if (slice_eq_str(rq->path, "/abort")) { /* a cut stream: no last chunk, then the close */
		int k;

		CHECK(server_stream_idle_send(c, "x", 1) == 0); /* no stream yet: skipped */
		CHECK(server_stream_start(c, 200, "text/plain", NULL) == 0);
		CHECK(server_stream_send(c, "one", 3) == 0);
		k = server_stream_idle_send(c, "two", 3); /* 1 when "one" had gone out, else 0 */
		CHECK(k == 0 || k == 1);
		CHECK(server_stream_abort(c) == 0);
		CHECK(server_stream_end(c) < 0); /* the stream is over */
		CHECK(server_stream_idle_send(c, "x", 1) == 0);
		return;
	}
	if (slice_eq_str(rq->path, "/silent"))
		return; /* the server answers 500 */
	if (slice_eq_str(rq->path, "/slow"))
		poll(NULL, 0, 500);
	n = snprintf(out, sizeof out, "%.*s %.*s q=%.*s body=%zu:%.*s", (int)rq->p->method.n,
		     (const char *)rq->p->method.p, (int)rq->path.n, (const char *)rq->path.p,
		     (int)rq->query.n, (const char *)rq->query.p, rq->body_len,
		     (int)(rq->body_len > 64 ? 64 : rq->body_len), (const char *)rq->body);
	server_reply(c, 200, "text/plain", "X-Test: 1\r\n", out, (size_t)n);
}

/* Refuses /deny from its headers alone (as a wrong key would be). */
static int on_head(void *user, struct server_conn *c, const struct server_request *rq)
{
	(void)user;
	if (!slice_eq_str(rq->path, "/deny"))
		return SERVER_GO;
	server_reply(c, 401, "text/plain", NULL, "no", 2);
	return SERVER_ANSWERED;
}

static void on_done(void *user, struct server_conn *c, const struct server_request *rq,
		    int status)
{
	(void)user;
	(void)c;
	int deny = rq && slice_eq_str(rq->path, "/deny");

	if (deny)
		poll(NULL, 0, 50); /* a slow hook: the answer must still wait for it */
	pthread_mutex_lock(&done_mu);
	done_count++;
	deny_done += deny;
	done_last = status;
	pthread_mutex_unlock(&done_mu);
}

static void *run_server(void *arg)
{
	struct err e;

	(void)arg;
	CHECK(server_run(&srv, &e) == 0);
	return NULL;
}

static int start_server(int max_conns)
{
	struct server_opts o;
	struct err e;
	const char *colon;

	memset(&o, 0, sizeof o);
	o.max_conns = max_conns;
	o.max_body = 1000;
	o.body_budget = 1500;
	o.out_max = 32768;
	o.idle_ms = 600;
	o.head_ms = 300;
	o.write_ms = 600;
	o.loops = 1; /* the cap test: an idle connection is reaped on the accepting loop */
	o.drain_ms = 3000;
	o.request_ms = 800;
	stop_flag = 0;
	if (server_open(&srv, "127.0.0.1:0", &o, &e) != 0) {
		fprintf(stderr, "server_open: %s\n", e.msg);
		return -1;
	}
	srv.head = on_head;
	srv.handler = handler;
	srv.done = on_done;
	srv.stop = &stop_flag;
	CHECK(srv.loopback == 1);
	CHECK(strncmp(srv.url, "http://127.0.0.1:", 17) == 0);
	colon = strrchr(srv.url, ':');
	srv_port = (unsigned)strtoul(colon + 1, NULL, 10);
	CHECK(srv_port > 0);
	return pthread_create(&srv_thread, NULL, run_server, NULL);
}

static void stop_server(void)
{
	stop_flag = 1;
	pthread_join(srv_thread, NULL);
	server_close(&srv);
}

static int dial(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)srv_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* One parsed answer read from fd. */
struct answer {
	int status, keep_alive, chunked;
	char ctype[64], conn[32], body[2048];
	size_t body_len;
	int got; /* 1 complete, 0 connection closed before any byte, -1 error */
};

struct reader {
	int fd;
	uint8_t in[8192];
	size_t off, len;
	struct http_parser p;
};

static void reader_init(struct reader *r, int fd)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	http_parser_init(&r->p, HTTP_RESPONSE);
}

static void copy_hdr(const struct http_parser *p, const char *name, char *out, size_t n)
{
	struct slice v;

	out[0] = '\0';
	if (http_header(p, name, &v)) {
		size_t k = v.n < n - 1 ? v.n : n - 1;

		memcpy(out, v.p, k);
		out[k] = '\0';
	}
}

static int read_answer(struct reader *r, struct answer *a, int head_only)
{
	struct err e;
	int any = r->off < r->len;

	memset(a, 0, sizeof *a);
	http_parser_reset(&r->p);
	if (head_only)
		http_parser_expect(&r->p, HTTP_EXPECT_HEAD);
	for (;;) {
		struct slice body;
		size_t used = 0;
		int ev = http_parse(&r->p, r->in + r->off, r->len - r->off, &used, &body, &e);

		r->off += used;
		if (ev < 0)
			return a->got = -1;
		if (ev == HTTP_EV_HEAD) {
			a->status = r->p.status;
			a->chunked = r->p.framing == HTTP_BODY_CHUNKED;
			copy_hdr(&r->p, "Content-Type", a->ctype, sizeof a->ctype);
			copy_hdr(&r->p, "Connection", a->conn, sizeof a->conn);
		} else if (ev == HTTP_EV_BODY) {
			if (a->body_len + body.n < sizeof a->body) {
				memcpy(a->body + a->body_len, body.p, body.n);
				a->body_len += body.n;
				a->body[a->body_len] = '\0';
			}
		} else if (ev == HTTP_EV_DONE) {
			a->keep_alive = r->p.keep_alive;
			return a->got = 1;
		} else {
			struct pollfd pf = {r->fd, POLLIN, 0};
			ssize_t k;

			if (poll(&pf, 1, 3000) <= 0)
				return a->got = -1;
			k = recv(r->fd, r->in, sizeof r->in, 0);
			if (k < 0)
				return a->got = -1;
			if (k == 0) {
				ev = http_parse_eof(&r->p, &e);
				if (ev == HTTP_EV_DONE)
					continue;
				return a->got = any ? -1 : 0;
			}
			any = 1;
			r->off = 0;
			r->len = (size_t)k;
		}
	}
}

/* 1 when the peer closed fd (EOF) within ms. */
static int closed_within(int fd, int ms)
{
	struct pollfd pf = {fd, POLLIN, 0};
	char b[256];

	while (poll(&pf, 1, ms) > 0) {
		ssize_t k = recv(fd, b, sizeof b, 0);

		if (k <= 0)
			return 1;
	}
	return 0;
}

static void test_keepalive_and_pipelining(void)
{
	static const char two[] = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
				  "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
	struct reader r;
	struct answer a;
	int fd = dial();

	CHECK(fd >= 0);
	reader_init(&r, fd);
	send_str(fd, "GET /first HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 200);
	CHECK_STR(a.body, "GET /first q= body=0:");
	CHECK_STR(a.conn, "keep-alive");
	CHECK_STR(a.ctype, "text/plain");
	/* two requests in one write, on the same connection */
	send_all(fd, two, sizeof two - 1);
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK_STR(a.body, "GET /a q=x=1 body=0:");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK_STR(a.body, "POST /b q= body=5:hello");
	/* chunked request body, split across writes */
	send_str(fd, "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab");
	poll(NULL, 0, 20);
	send_str(fd, "c\r\n2\r\nde\r\n0\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK_STR(a.body, "PUT /c q= body=5:abcde");
	/* HEAD: headers only */
	send_str(fd, "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 1) == 1);
	CHECK(a.status == 200 && a.body_len == 0);
	/* Connection: close is honoured */
	send_str(fd, "GET /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK_STR(a.conn, "close");
	CHECK(closed_within(fd, 1000));
	http_parser_free(&r.p);
	close(fd);
}

static void test_expect_continue(void)
{
	struct reader r;
	struct answer a;
	int fd = dial();

	reader_init(&r, fd);
	send_str(fd, "POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
	/* the interim answer comes before the body is sent; the parser skips it */
	{
		struct pollfd pf = {fd, POLLIN, 0};

		CHECK(poll(&pf, 1, 2000) == 1);
	}
	send_str(fd, "xyz");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK_STR(a.body, "POST /e q= body=3:xyz");
	http_parser_free(&r.p);
	close(fd);
}

static void test_limits(void)
{
	struct reader r;
	struct answer a;
	char *big;
	int fd;

	/* body over the limit: 413 before the body is read, then close */
	fd = dial();
	reader_init(&r, fd);
	send_str(fd, "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 413);
	CHECK_STR(a.conn, "close");
	CHECK(closed_within(fd, 1000));
	http_parser_free(&r.p);
	close(fd);
	/* chunked body growing over the limit */
	fd = dial();
	reader_init(&r, fd);
	send_str(fd, "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
	big = calloc(1, 1200);
	memset(big, 'a', 1100);
	send_str(fd, "44c\r\n");
	send_all(fd, big, 1100);
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 413);
	http_parser_free(&r.p);
	close(fd);
	free(big);
	/* header section over 64 KiB: 431 */
	fd = dial();
	reader_init(&r, fd);
	big = malloc(70000);
	memset(big, 'a', 70000);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	send_all(fd, big, 70000);
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 431);
	free(big);
	http_parser_free(&r.p);
	close(fd);
	/* garbage: 400 */
	fd = dial();
	reader_init(&r, fd);
	send_str(fd, "HELLO\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 400);
	http_parser_free(&r.p);
	close(fd);
	/* a header section that stops arriving: 408 after head_ms */
	fd = dial();
	reader_init(&r, fd);
	send_str(fd, "GET /slowloris HTTP/1.1\r\nHost:");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 408);
	pthread_mutex_lock(&done_mu); /* counted before it was written */
	CHECK(done_last == 408);
	pthread_mutex_unlock(&done_mu);
	http_parser_free(&r.p);
	close(fd);
	/* a header section trickling in ends at head_ms */
	fd = dial();
	reader_init(&r, fd);
	{
		static const char part[] = "GET /trickle HTTP/1.1\r\nX-Slow: ";
		long t0;
		struct timespec ts;
		size_t i;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		t0 = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		send_str(fd, part);
		for (i = 0; i < 12; i++) { /* 200 ms apart */
			struct pollfd pf = {fd, POLLIN, 0};

			if (poll(&pf, 1, 200) > 0)
				break;
			send_all(fd, "a", 1);
		}
		CHECK(read_answer(&r, &a, 0) == 1);
		CHECK(a.status == 408);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		CHECK(ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0 < 1500);
	}
	http_parser_free(&r.p);
	close(fd);
	/* an idle kept-alive connection is closed after idle_ms, silently */
	fd = dial();
	CHECK(closed_within(fd, 2000));
	close(fd);
}

static void test_streams(void)
{
	struct reader r;
	struct answer a;
	int fd = dial();

	reader_init(&r, fd);
	send_str(fd, "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 200 && a.chunked);
	CHECK_STR(a.ctype, "text/event-stream");
	CHECK_STR(a.body, "data: a\n\ndata: bb\n\n");
	CHECK(a.keep_alive);
	/* the connection still works after a stream */
	send_str(fd, "GET /after HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK_STR(a.body, "GET /after q= body=0:");
	/* a handler that does not answer: 500 */
	send_str(fd, "GET /silent HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 500);
	http_parser_free(&r.p);
	close(fd);
	/* HTTP/1.0: no chunked encoding, the close ends the body */
	fd = dial();
	reader_init(&r, fd);
	send_str(fd, "GET /stream HTTP/1.0\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 200 && !a.chunked);
	CHECK_STR(a.body, "data: a\n\ndata: bb\n\n");
	http_parser_free(&r.p);
	close(fd);
	/* a client that leaves in the middle of a stream: the server goes on */
	fd = dial();
	send_str(fd, "GET /slowstream HTTP/1.1\r\nHost: h\r\n\r\n");
	poll(NULL, 0, 100);
	close(fd);
	poll(NULL, 0, 600);
	fd = dial();
	reader_init(&r, fd);
	send_str(fd, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 200);
	http_parser_free(&r.p);
	close(fd);
}

static void test_cap(void)
{
	struct reader r, r0;
	struct answer a;
	int f1, f2, f0, f3;
	unsigned long rej;

	/* three connections inside a request fill the cap of 3; the fourth is
	 * refused at once (none is idle: nothing to reap) */
	poll(NULL, 0, 700); /* earlier connections have closed (idle_ms) */
	f0 = dial();
	f1 = dial();
	f2 = dial();
	send_str(f0, "GET /x HTTP/1.1\r\n");
	send_str(f1, "GET /x HTTP/1.1\r\n");
	send_str(f2, "GET /x HTTP/1.1\r\n");
	poll(NULL, 0, 50);
	f3 = dial();
	reader_init(&r, f3);
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 503);
	CHECK(strstr(a.body, "\"error\"") != NULL);
	rej = atomic_load(&srv.rejected);
	CHECK(rej >= 1);
	http_parser_free(&r.p);
	close(f3);
	close(f0);
	close(f1);
	close(f2);
	poll(NULL, 0, 300);

	/* three kept-alive connections idle after an answer fill the cap: a
	 * newcomer takes the slot of one of them instead of a 503 */
	f0 = dial();
	reader_init(&r0, f0);
	send_str(f0, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r0, &a, 0) == 1);
	CHECK(a.status == 200);
	f1 = dial();
	reader_init(&r, f1);
	send_str(f1, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	http_parser_free(&r.p);
	f2 = dial();
	reader_init(&r, f2);
	send_str(f2, "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	http_parser_free(&r.p);
	f3 = dial();
	reader_init(&r, f3);
	send_str(f3, "GET /d HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 200);
	http_parser_free(&r.p);
	CHECK(atomic_load(&srv.rejected) == rej);
	/* the reaped one was closed without a byte: the oldest, here, or another */
	close(f0);
	close(f1);
	close(f2);
	close(f3);
	http_parser_free(&r0.p);
	poll(NULL, 0, 300);

	/* room again */
	f1 = dial();
	reader_init(&r, f1);
	send_str(f1, "GET /again HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 200);
	http_parser_free(&r.p);
	close(f1);
}

static void test_graceful_stop(void)
{
	struct reader r;
	struct answer a;
	int fd, idle;

	poll(NULL, 0, 700);
	idle = dial();
	fd = dial();
	reader_init(&r, fd);
	send_str(fd, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
	poll(NULL, 0, 100);
	stop_flag = 1;
	/* the idle connection is closed at once, the slow answer still comes */
	CHECK(closed_within(idle, 1000));
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 200);
	CHECK_STR(a.body, "GET /slow q= body=0:");
	CHECK_STR(a.conn, "close");
	pthread_join(srv_thread, NULL);
	CHECK(atomic_load(&srv.busy) == 0);
	CHECK(atomic_load(&srv.conns) == 0);
	CHECK(dial() < 0); /* the listener is gone */
	server_close(&srv);
	http_parser_free(&r.p);
	close(fd);
	close(idle);
}

/* Reads what arrived within ms (bytes appended to out, at most n-1). */
static size_t read_some(int fd, char *out, size_t n, int ms)
{
	struct pollfd pf = {fd, POLLIN, 0};
	size_t got = 0;

	while (got + 1 < n && poll(&pf, 1, ms) > 0) {
		ssize_t k = recv(fd, out + got, n - 1 - got, 0);

		if (k <= 0)
			break;
		got += (size_t)k;
	}
	out[got] = '\0';
	return got;
}

/* server_stream_abort: what was sent arrives, no last chunk, the connection closes. */
static void test_stream_abort(void)
{
	char buf[2048];
	const char *body;
	int fd = dial();

	send_str(fd, "GET /abort HTTP/1.1\r\nHost: h\r\n\r\n");
	read_some(fd, buf, sizeof buf, 2000); /* stops at the close (or after 2 s: a failure below) */
	body = strstr(buf, "\r\n\r\n");
	CHECK(strncmp(buf, "HTTP/1.1 200", 12) == 0 && body);
	CHECK(body && strncmp(body + 4, "3\r\none\r\n", 8) == 0);
	CHECK(body && (strcmp(body + 12, "") == 0 || strcmp(body + 12, "3\r\ntwo\r\n") == 0));
	CHECK(closed_within(fd, 2000));
	close(fd);
}

static void test_refused_at_head(void)
{
	char got[512];
	int fd = dial();

	/* a refused request with a large declared body: no 100 Continue, no body read */
	send_str(fd, "POST /deny HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
		     "Content-Length: 100000000\r\n\r\n");
	read_some(fd, got, sizeof got, 1000);
	CHECK(strncmp(got, "HTTP/1.1 401 ", 13) == 0);
	CHECK(strstr(got, "Connection: close") != NULL);
	CHECK(strstr(got, "100 Continue") == NULL);
	close(fd);
	/* without a body the connection stays usable */
	fd = dial();
	{
		struct reader r;
		struct answer a;

		int before;

		pthread_mutex_lock(&done_mu);
		before = deny_done;
		pthread_mutex_unlock(&done_mu);
		reader_init(&r, fd);
		send_str(fd, "GET /deny HTTP/1.1\r\nHost: h\r\n\r\nGET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
		CHECK(read_answer(&r, &a, 0) == 1 && a.status == 401 && a.keep_alive);
		/* an answer written on the loop is counted before the client has it */
		pthread_mutex_lock(&done_mu);
		CHECK(deny_done == before + 1);
		pthread_mutex_unlock(&done_mu);
		CHECK(read_answer(&r, &a, 0) == 1 && a.status == 200);
		http_parser_free(&r.p);
	}
	close(fd);
}

static void test_body_budget(void)
{
	struct reader r;
	struct answer a;
	unsigned long rej = atomic_load(&srv.rejected);
	int f1 = dial(), f2 = dial();

	/* the first request holds 900 of the 1500 budget bytes while its body trickles */
	send_str(f1, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 900\r\n\r\nabc");
	poll(NULL, 0, 50);
	reader_init(&r, f2);
	send_str(f2, "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 900\r\n\r\n");
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 503);
	CHECK(atomic_load(&srv.rejected) == rej + 1);
	http_parser_free(&r.p);
	close(f2);
	close(f1);
	poll(NULL, 0, 100);
	CHECK(atomic_load(&srv.body_held) == 0);
}

static void test_slow_reader(void)
{
	unsigned long dropped = atomic_load(&srv.dropped);
	int fd = dial();
	int i;

	send_str(fd, "GET /flood HTTP/1.1\r\nHost: h\r\n\r\n");
	for (i = 0; i < 40 && atomic_load(&srv.dropped) == dropped; i++)
		poll(NULL, 0, 100);
	poll(NULL, 0, 200);
	CHECK(atomic_load(&srv.dropped) == dropped + 1);
	pthread_mutex_lock(&done_mu);
	/* backpressure: the handler waited (socket buffers took a few MiB)
	 * instead of queueing all 8 MiB, and learnt that its client is gone */
	CHECK(flood_gone);
	CHECK(flood_sent < 512);
	pthread_mutex_unlock(&done_mu);
	close(fd);
}

static void test_per_ip_cap(void)
{
	struct server_opts o;
	struct reader r;
	struct answer a;
	int f1, f2, f3;

	memset(&o, 0, sizeof o);
	o.max_conns = 3;
	o.max_conns_per_ip = 2;
	o.max_body = 1000;
	o.body_budget = 1500;
	o.out_max = 32768;
	o.head_ms = 300;
	o.request_ms = 800;
	o.idle_ms = 600;
	o.write_ms = 600;
	o.drain_ms = 3000;
	server_set_limits(&srv, &o);
	poll(NULL, 0, 700);
	f1 = dial();
	f2 = dial();
	send_str(f1, "GET /x HTTP/1.1\r\n");
	send_str(f2, "GET /x HTTP/1.1\r\n");
	poll(NULL, 0, 50);
	f3 = dial();
	reader_init(&r, f3);
	CHECK(read_answer(&r, &a, 0) == 1);
	CHECK(a.status == 503);
	http_parser_free(&r.p);
	close(f1);
	close(f2);
	close(f3);
	o.max_conns_per_ip = 100;
	server_set_limits(&srv, &o);
	poll(NULL, 0, 100);
}

static void test_live(void)
{
	if (start_server(3) != 0) {
		CHECK(0);
		return;
	}
	T_RUN(test_keepalive_and_pipelining);
	T_RUN(test_expect_continue);
	T_RUN(test_limits);
	T_RUN(test_streams);
	T_RUN(test_stream_abort);
	T_RUN(test_cap);
	T_RUN(test_refused_at_head);
	T_RUN(test_body_budget);
	T_RUN(test_slow_reader);
	T_RUN(test_per_ip_cap);
	T_RUN(test_graceful_stop);
	pthread_mutex_lock(&done_mu);
	t_case("done callback counted answers", done_count >= 15);
	pthread_mutex_unlock(&done_mu);
	(void)stop_server;
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_parse_listen);
	T_RUN(test_loopback);
	T_RUN(test_ct_equal);
	test_live();
	return t_done(argv[0]);
}
