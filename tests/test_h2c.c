/* test_h2c: the HTTP/2 upstream client on a loop against tests/tls/h2server.py
 * (Debian's python3-h2, /usr/bin/python3) over TLS on 127.0.0.1: streams
 * sharing a connection, the peer's stream limit, ALPN without h2, RST_STREAM
 * on cancel, GOAWAY, REFUSED_STREAM retried, a paused consumer that stalls
 * only its own stream, request bodies beyond the windows. Skipped when
 * python3-h2 or openssl is missing, and under BROCK_CROSS. */
#include "t.h"
#include "tls/spawn.h"

#include "base/clock.h"
#include "net/h2c.h"
#include "net/tls.h"

static char dir[128];
static struct loop lp;
static struct loop_pool pool;
static struct tls_trust trust;

struct rx {
	struct h2c_stream *s;
	int status, ended, failed, kind, got_head;
	char reqid[80];
	char lines[512];
	char data[4096];
	size_t n, total;
	int pause_after_first, cancel_after_first;
	char msg[600];
};

static int pending;

static void on_head(struct h2c_stream *s, void *user, const struct h2c_head *h)
{
	struct rx *r = user;

	(void)s;
	r->status = h->status;
	snprintf(r->reqid, sizeof r->reqid, "%s", h->request_id);
	snprintf(r->lines, sizeof r->lines, "%s", h->lines);
}

static void on_data(struct h2c_stream *s, void *user, const uint8_t *p, size_t n)
{
	struct rx *r = user;
	size_t k = n < sizeof r->data - 1 - r->n ? n : sizeof r->data - 1 - r->n;

	memcpy(r->data + r->n, p, k);
	r->n += k;
	r->data[r->n] = 0;
	r->total += n;
	if (r->cancel_after_first) {
		r->cancel_after_first = 0;
		h2c_cancel(s);
		r->ended = 2;
		pending--;
	} else if (r->pause_after_first) {
		r->pause_after_first = 0;
		h2c_pause(s);
	}
}

static void on_end(struct h2c_stream *s, void *user)
{
	struct rx *r = user;

	(void)s;
	r->ended = 1;
	pending--;
}

static void on_error(struct h2c_stream *s, void *user, int kind, int got_head, const struct err *e)
{
	struct rx *r = user;

	(void)s;
	r->failed = 1;
	r->kind = kind;
	r->got_head = got_head;
	snprintf(r->msg, sizeof r->msg, "%s", e ? e->msg : "");
	pending--;
}

static const struct h2c_stream_cb cbs = {on_head, on_data, on_end, on_error};

/* Runs the loop until pending reaches 0 (or *flag is set) or 10 s pass. */
static int64_t run_until;
static int *run_flag;
static void run_check(struct loop *l, struct loop_timer *t)
{
	if (pending <= 0 || (run_flag && *run_flag) || clock_ms() > run_until) {
		loop_stop(l);
		return;
	}
	loop_timer_set(l, t, clock_ms() + 5);
}

static void run_ms(int *flag, int64_t ms)
{
	struct loop_timer t = {0};

	t.fn = run_check;
	run_flag = flag;
	run_until = clock_ms() + ms;
	loop_timer_set(&lp, &t, clock_ms());
	loop_run(&lp);
	loop_timer_stop(&lp, &t);
}

static void run(int *flag)
{
	run_ms(flag, 10000);
}

static int open_get(struct h2c *c, int port, const char *path, struct rx *r)
{
	static const struct hpack_field f[] = {
		{{(const uint8_t *)"accept", 6}, {(const uint8_t *)"*/*", 3}, 0}};
	struct h2c_req rq = {"GET", path, f, 1, NULL, 0};
	struct err e = {0};

	pending++;
	if (h2c_open(c, "localhost", port, &rq, &cbs, r, &r->s, &e) < 0) {
		pending--;
		snprintf(r->msg, sizeof r->msg, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* The server's counters (a stream of their own). */
static int stat_of(struct h2c *c, int port, const char *name)
{
	struct rx r;
	char key[32];
	const char *p;

	memset(&r, 0, sizeof r);
	if (open_get(c, port, "/stats", &r) < 0)
		return -1;
	run(NULL);
	snprintf(key, sizeof key, "\"%s\": ", name);
	p = strstr(r.data, key);
	return p ? atoi(p + strlen(key)) : -1;
}

static int start(struct sp *s, const char *cert, const char *extra, const char *extra2)
{
	char crt[300], key[300];
	char *argv[8];
	int n = 0;

	snprintf(crt, sizeof crt, "%s/%s.crt", dir, cert);
	snprintf(key, sizeof key, "%s/%s.key", dir, cert);
	argv[n++] = "/usr/bin/python3";
	argv[n++] = "tests/tls/h2server.py";
	argv[n++] = crt;
	argv[n++] = key;
	if (extra)
		argv[n++] = (char *)extra;
	if (extra2)
		argv[n++] = (char *)extra2;
	argv[n] = NULL;
	return sp_start(s, dir, "h2server", argv);
}

static void test_one_stream(void)
{
	struct h2c c;
	struct sp s;
	struct rx r;

	memset(&r, 0, sizeof r);
	CHECK(start(&s, "good", NULL, NULL) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	CHECK(open_get(&c, s.port, "/stream?n=3", &r) == 0);
	run(NULL);
	if (r.failed)
		fprintf(stderr, "  %s\n", r.msg);
	CHECK(r.ended == 1 && r.status == 200);
	CHECK(strcmp(r.reqid, "req-1") == 0);
	CHECK(strstr(r.lines, "x-amzn-requestid: req-1\n") != NULL); /* the lines pass-through relays */
	CHECK(strcmp(r.data, "chunk 0\nchunk 1\nchunk 2\n") == 0);
	CHECK(c.st.conns_opened == 1 && c.st.streams_open == 0);
	h2c_free(&c);
	CHECK(h2c_idle(&c));
	sp_stop(&s);
}

/* 200 streams at once over the connections the peer's limit needs. */
static void check_many(const char *limit, uint64_t most_conns)
{
	enum { N = 200 };
	struct h2c c;
	struct sp s;
	static struct rx r[N];
	int i, ok = 0;

	memset(r, 0, sizeof r);
	CHECK(start(&s, "good", limit ? "--max-streams" : NULL, limit) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	for (i = 0; i < N; i++)
		CHECK(open_get(&c, s.port, "/stream?n=5&ms=10", &r[i]) == 0);
	run(NULL);
	for (i = 0; i < N; i++)
		ok += r[i].ended == 1 &&
		      strcmp(r[i].data, "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n") == 0;
	CHECK(ok == N);
	if (c.st.conns_opened > most_conns)
		fprintf(stderr, "  %llu connections\n", (unsigned long long)c.st.conns_opened);
	CHECK(c.st.conns_opened >= 1 && c.st.conns_opened <= most_conns);
	CHECK(stat_of(&c, s.port, "streams") == N + 1);
	CHECK(stat_of(&c, s.port, "conns") == (int)c.st.conns_opened);
	h2c_free(&c);
	sp_stop(&s);
}

static void test_many_streams(void)
{
	check_many(NULL, 2);
	check_many("50", 4);
}

static void test_no_h2(void)
{
	struct h2c c;
	struct sp s;
	struct rx r;

	memset(&r, 0, sizeof r);
	CHECK(start(&s, "good", "--no-h2", NULL) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	CHECK(open_get(&c, s.port, "/stream", &r) == 0);
	run(NULL);
	CHECK(r.failed && r.kind == H2C_E_NO_H2 && !r.got_head);
	CHECK(strstr(r.msg, "does not speak HTTP/2") != NULL);
	memset(&r, 0, sizeof r);
	CHECK(open_get(&c, s.port, "/stream", &r) < 0); /* remembered */
	h2c_free(&c);
	sp_stop(&s);
}

static void test_cancel(void)
{
	struct h2c c;
	struct sp s;
	struct rx r;
	int i, resets = 0;

	memset(&r, 0, sizeof r);
	r.cancel_after_first = 1;
	CHECK(start(&s, "good", NULL, NULL) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	CHECK(open_get(&c, s.port, "/stream?n=100&ms=20", &r) == 0);
	run(NULL);
	CHECK(r.ended == 2 && !r.failed);
	for (i = 0; i < 50 && resets < 1; i++)
		resets = stat_of(&c, s.port, "resets");
	CHECK(resets == 1);
	CHECK(c.st.resets_sent == 1 && c.st.streams_open == 0);
	h2c_free(&c);
	sp_stop(&s);
}

/* In flight on GOAWAY: finishes; the next stream goes to a new connection. */
static void test_goaway(void)
{
	struct h2c c;
	struct sp s;
	struct rx a, b;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	CHECK(start(&s, "good", NULL, NULL) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	CHECK(open_get(&c, s.port, "/goaway?n=2", &a) == 0);
	run(NULL);
	CHECK(a.ended == 1 && strcmp(a.data, "chunk 0\nchunk 1\n") == 0);
	CHECK(open_get(&c, s.port, "/stream?n=1", &b) == 0);
	run(NULL);
	CHECK(b.ended == 1 && strcmp(b.data, "chunk 0\n") == 0);
	CHECK(c.st.conns_opened == 2);
	h2c_free(&c);
	sp_stop(&s);
}

static void test_refused_retried(void)
{
	struct h2c c;
	struct sp s;
	struct rx r;

	memset(&r, 0, sizeof r);
	CHECK(start(&s, "good", NULL, NULL) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	CHECK(open_get(&c, s.port, "/refuse", &r) == 0);
	run(NULL);
	CHECK(r.ended == 1 && r.status == 200 && !r.failed);
	h2c_free(&c);
	sp_stop(&s);
}

/* A paused consumer holds its own stream at the window; others go on. */
static void test_slow_consumer(void)
{
	struct h2c c;
	struct sp s;
	struct rx big, small;
	memset(&big, 0, sizeof big);
	memset(&small, 0, sizeof small);
	big.pause_after_first = 1;
	CHECK(start(&s, "good", NULL, NULL) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	CHECK(open_get(&c, s.port, "/big?kb=1024", &big) == 0);
	CHECK(open_get(&c, s.port, "/stream?n=5&ms=10", &small) == 0);
	run(&small.ended);
	CHECK(small.ended == 1 && !big.ended);
	/* give the server time to fill the window; the paused stream stays there */
	run_ms(&big.ended, 300);
	CHECK(!big.ended && big.total <= H2C_STREAM_WINDOW);
	h2c_resume(big.s);
	run(NULL);
	CHECK(big.ended == 1 && big.total == 1024 * 1024);
	CHECK(c.st.conns_opened == 1);
	h2c_free(&c);
	sp_stop(&s);
}

/* A body larger than the windows goes out as the peer grants them. */
static void test_large_body(void)
{
	enum { N = 300 * 1024 };
	static const struct hpack_field f[] = {{{(const uint8_t *)"content-type", 12},
						{(const uint8_t *)"application/json", 16},
						0}};
	static uint8_t body[N];
	struct h2c_req rq = {"POST", "/echo", f, 1, body, N};
	struct h2c c;
	struct sp s;
	struct rx r;
	struct err e = {0};
	size_t i;

	for (i = 0; i < N; i++)
		body[i] = (uint8_t)('a' + i % 26);
	memset(&r, 0, sizeof r);
	CHECK(start(&s, "good", NULL, NULL) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	pending++;
	CHECK(h2c_open(&c, "localhost", s.port, &rq, &cbs, &r, &r.s, &e) == 0);
	run(NULL);
	CHECK(r.ended == 1 && r.total == N && memcmp(r.data, body, sizeof r.data - 1) == 0);
	h2c_free(&c);
	sp_stop(&s);
}

/* An upstream that goes quiet: the stream fails after the silence bound
 * (shortened here) and is reset; the connection stays for the next. */
static void test_silence(void)
{
	struct h2c c;
	struct sp s;
	struct rx r, r2;

	memset(&r, 0, sizeof r);
	memset(&r2, 0, sizeof r2);
	CHECK(start(&s, "good", NULL, NULL) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	c.silence_ms = 1500;
	CHECK(open_get(&c, s.port, "/stream?n=2&ms=6000", &r) == 0);
	run(NULL);
	CHECK(r.failed && r.kind == H2C_E_TIMEOUT && r.got_head);
	CHECK(strstr(r.msg, "sent nothing for") != NULL);
	CHECK(c.st.resets_sent == 1);
	CHECK(open_get(&c, s.port, "/stream?n=1", &r2) == 0);
	run(NULL);
	CHECK(r2.ended == 1 && c.st.conns_opened == 1);
	h2c_free(&c);
	sp_stop(&s);
}

static void test_wrong_host(void)
{
	struct h2c c;
	struct sp s;
	struct rx r;

	memset(&r, 0, sizeof r);
	CHECK(start(&s, "wronghost", NULL, NULL) == 0);
	h2c_init(&c, &lp, &pool, &trust);
	CHECK(open_get(&c, s.port, "/stream", &r) == 0);
	run(NULL);
	CHECK(r.failed && r.kind == H2C_E_NET);
	CHECK(strstr(r.msg, "does not match host name localhost") != NULL);
	h2c_free(&c);
	sp_stop(&s);
}

int main(int argc, char **argv)
{
	char *gen[] = {"sh", "tests/tls/gen_certs.sh", dir, NULL};
	char *probe[] = {"/usr/bin/python3", "-c", "import h2", NULL};
	char ca[300];
	size_t n = 0;
	char *pem;
	struct err e = {0};

	(void)argc;
	if ((getenv("BROCK_CROSS") && *getenv("BROCK_CROSS")) || sp_run(probe) != 0) {
		printf("skipped: no python3-h2 (or BROCK_CROSS)\n");
		return t_done(argv[0]);
	}
	if (sp_tmpdir(dir, sizeof dir) < 0 || sp_run(gen) != 0) {
		t_case("gen_certs", 0);
		return t_done(argv[0]);
	}
	snprintf(ca, sizeof ca, "%s/ca.crt", dir);
	pem = t_slurp(ca, &n);
	if (!pem || tls_trust_add_pem(&trust, pem, n, NULL, &e) < 0 || loop_init(&lp, &e) < 0) {
		t_case("setup", 0);
		return t_done(argv[0]);
	}
	free(pem);
	loop_pool_init(&pool, 4);
	T_RUN(test_one_stream);
	T_RUN(test_many_streams);
	T_RUN(test_no_h2);
	T_RUN(test_cancel);
	T_RUN(test_goaway);
	T_RUN(test_refused_retried);
	T_RUN(test_slow_consumer);
	T_RUN(test_large_body);
	T_RUN(test_silence);
	T_RUN(test_wrong_host);
	loop_pool_stop(&pool, 2000);
	loop_free(&lp);
	tls_trust_free(&trust);
	sp_rmdir(dir);
	return t_done(argv[0]);
}
