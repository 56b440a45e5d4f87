/* test_httpc: the client path against tests/tls/server.py (plain and TLS)
 * and tests/tls/proxy.py, all on 127.0.0.1: keep-alive reuse, incremental
 * chunked delivery, stale keep-alive retry, timeouts, refused ports,
 * CONNECT with basic auth, forwarding for http, NO_PROXY. Skipped under
 * BROCK_CROSS. HTTPC_BENCH_N=1000 times that many GETs over one TLS
 * connection. */
#include "t.h"
#include "tls/spawn.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "net/conn.h"
#include "net/httpc.h"

static char dir[128], path_ca[300], proxy_log[300];
static struct sp plain, tlssrv, proxy;

static int get(struct conn_pool *pool, const char *url, const struct conn_opts *o,
	       struct httpc_result *res, struct err *e)
{
	struct httpc_request req = {"GET", url, NULL, 0, NULL, 0};

	err_clear(e);
	return httpc_fetch(pool, &req, o, 1 << 20, res, e);
}

static void url_of(char *out, size_t n, const char *scheme, const char *host, int port,
		   const char *path)
{
	snprintf(out, n, "%s://%s:%d%s", scheme, host, port, path);
}

static long server_count(struct conn_pool *pool)
{
	struct httpc_result res;
	struct err e;
	char url[128];
	long n;

	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/count");
	if (get(pool, url, NULL, &res, &e) < 0)
		return -1;
	n = strtol((const char *)res.body.p, NULL, 10);
	httpc_result_free(&res);
	return n;
}

static void test_keep_alive_reuse(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct httpc_result res;
	struct err e;
	char url[128];
	long before, after;

	tenv_init(&te);
	conn_pool_init(&pool, &te.env);
	before = server_count(&pool); /* this connection stays in the pool */
	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/hello");
	CHECK(get(&pool, url, NULL, &res, &e) == 0);
	CHECK(res.status == 200);
	CHECK_MEM(res.body.p, res.body.len, "hello", 5);
	CHECK(res.info.reused == 1 && res.info.kept_alive == 1 && res.info.attempts == 1);
	httpc_result_free(&res);
	CHECK(get(&pool, url, NULL, &res, &e) == 0);
	CHECK(res.info.reused == 1);
	httpc_result_free(&res);
	after = server_count(&pool);
	CHECK(before > 0 && after == before); /* no new connection accepted */
	CHECK(pool.opened == 1);
	/* another host name is another pool entry */
	url_of(url, sizeof url, "http", "localhost", plain.port, "/hello");
	CHECK(get(&pool, url, NULL, &res, &e) == 0);
	CHECK(res.info.reused == 0);
	httpc_result_free(&res);
	conn_pool_free(&pool);
}

struct chunks {
	int calls;
	double first, last;
	struct buf all;
};

static int on_chunk(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct chunks *c = user;
	double now = sp_now();

	(void)e;
	if (c->calls++ == 0)
		c->first = now;
	c->last = now;
	return buf_append(&c->all, p, n);
}

static int on_head(void *user, const struct http_parser *p, struct err *e)
{
	(void)user;
	(void)e;
	return p->status == 200 ? 0 : -1;
}

static void test_chunked_incremental(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct err e = {0};
	struct chunks c = {0};
	struct httpc_info info;
	char url[128];
	struct httpc_request req = {"GET", url, NULL, 0, NULL, 0};

	tenv_init(&te);
	conn_pool_init(&pool, &te.env);
	buf_init(&c.all, 4096);
	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/chunked");
	CHECK(httpc_request(&pool, &req, NULL, on_head, on_chunk, &c, &info, &e) == 0);
	CHECK_STR((const char *)c.all.p, "part0\npart1\npart2\npart3\npart4\n");
	/* five chunks 0.2 s apart: delivered as they came, not at the end */
	CHECK(c.calls >= 4);
	CHECK(c.last - c.first > 0.5);
	CHECK(info.kept_alive == 1);
	buf_free(&c.all);
	conn_pool_free(&pool);
}

static void test_stale_retry(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct httpc_result res;
	struct err e;
	char url[128];

	tenv_init(&te);
	conn_pool_init(&pool, &te.env);
	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/drop-next");
	CHECK(get(&pool, url, NULL, &res, &e) == 0);
	CHECK(res.info.kept_alive == 1);
	httpc_result_free(&res);
	/* the server reads this request and closes without an answer */
	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/hello");
	CHECK(get(&pool, url, NULL, &res, &e) == 0);
	if (e.cls)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(res.status == 200);
	CHECK(res.info.attempts == 2 && res.info.reused == 0);
	CHECK(pool.opened == 2);
	httpc_result_free(&res);
	conn_pool_free(&pool);
}

static void test_read_timeout(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct httpc_result res;
	struct err e;
	struct conn_opts o = {1000, 300};
	char url[128], want[128];
	double t0;

	tenv_init(&te);
	conn_pool_init(&pool, &te.env);
	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/slow");
	t0 = sp_now();
	CHECK(get(&pool, url, &o, &res, &e) < 0);
	CHECK(sp_now() - t0 < 1.5);
	CHECK(e.cls == ERR_NET);
	snprintf(want, sizeof want, "timed out after 0.3 s waiting for 127.0.0.1");
	CHECK_STR(e.msg, want);
	CHECK(res.info.got_response == 0 && res.info.attempts == 1);
	httpc_result_free(&res);
	conn_pool_free(&pool);
}

static void test_refused(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct httpc_result res;
	struct err e;
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof sa;
	char url[128];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* a port that was free a moment ago */
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
	close(fd);
	tenv_init(&te);
	conn_pool_init(&pool, &te.env);
	url_of(url, sizeof url, "http", "127.0.0.1", ntohs(sa.sin_port), "/");
	CHECK(get(&pool, url, NULL, &res, &e) < 0);
	CHECK(e.cls == ERR_NET);
	CHECK(strstr(e.msg, "cannot connect to 127.0.0.1 port") != NULL);
	CHECK(strstr(e.msg, "refused") != NULL);
	httpc_result_free(&res);
	conn_pool_free(&pool);
}

static void test_connect_timeout(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct httpc_result res;
	struct err e;
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof sa;
	struct conn_opts o = {400, 400};
	char url[128];
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[4], i;
	double t0;

	/* a listener that never accepts and has a full queue drops SYNs: the
	 * connect hangs like one to a black-holed address */
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
	CHECK(listen(lfd, 0) == 0);
	CHECK(getsockname(lfd, (struct sockaddr *)&sa, &sl) == 0);
	for (i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sa, sizeof sa);
	}
	sp_sleep_ms(100);
	tenv_init(&te);
	conn_pool_init(&pool, &te.env);
	url_of(url, sizeof url, "http", "127.0.0.1", ntohs(sa.sin_port), "/");
	t0 = sp_now();
	CHECK(get(&pool, url, &o, &res, &e) < 0);
	CHECK(sp_now() - t0 < 2);
	CHECK(e.cls == ERR_NET);
	CHECK_STR(e.msg, "timed out after 0.4 s waiting for 127.0.0.1");
	httpc_result_free(&res);
	conn_pool_free(&pool);
	for (i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
}

static void test_misc_requests(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct httpc_result res;
	struct err e;
	char url[128];
	struct httpc_header h[] = {{"X-Test", "1"}};
	struct httpc_request post = {"POST", url, h, 1, "{\"a\":1}", 7};
	struct httpc_request head = {"HEAD", url, NULL, 0, NULL, 0};

	tenv_init(&te);
	conn_pool_init(&pool, &te.env);
	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/echo");
	CHECK(httpc_fetch(&pool, &post, NULL, 1024, &res, &e) == 0);
	CHECK_MEM(res.body.p, res.body.len, "{\"a\":1}", 7);
	httpc_result_free(&res);

	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/hello");
	CHECK(httpc_fetch(&pool, &head, NULL, 1024, &res, &e) == 0);
	CHECK(res.status == 200 && res.body.len == 0 && res.info.kept_alive == 1);
	{
		struct slice v;
		CHECK(httpc_result_header(&res, "content-length", &v) == 1);
		CHECK(slice_eq_str(v, "5"));
		CHECK(httpc_result_header(&res, "x-none", &v) == 0);
	}
	httpc_result_free(&res);

	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/close");
	CHECK(get(&pool, url, NULL, &res, &e) == 0);
	CHECK(res.info.kept_alive == 0);
	httpc_result_free(&res);

	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/eof-body");
	CHECK(get(&pool, url, NULL, &res, &e) == 0);
	CHECK_MEM(res.body.p, res.body.len, "until-eof", 9);
	CHECK(res.info.kept_alive == 0);
	httpc_result_free(&res);

	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/hello");
	CHECK(httpc_fetch(&pool, &(struct httpc_request){"GET", url, NULL, 0, NULL, 0}, NULL, 3,
			  &res, &e) < 0);
	CHECK(e.cls == ERR_PROTO && res.info.got_response == 1);
	httpc_result_free(&res);

	CHECK(get(&pool, "ftp://x/", NULL, &res, &e) < 0);
	CHECK(e.cls == ERR_USAGE);
	httpc_result_free(&res);
	conn_pool_free(&pool);
}

static size_t log_lines(void)
{
	size_t n = 0;
	char *s = t_slurp(proxy_log, NULL), *p;

	for (p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

static void test_proxy_connect(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct httpc_result res;
	struct err e;
	char url[128], purl[128], want[128];
	char *log;

	tenv_init(&te);
	snprintf(purl, sizeof purl, "http://user:pa%%3Ass@127.0.0.1:%d", proxy.port);
	tenv_set(&te, "HTTPS_PROXY", purl);
	tenv_set(&te, "AWS_CA_BUNDLE", path_ca);
	conn_pool_init(&pool, &te.env);
	url_of(url, sizeof url, "https", "localhost", tlssrv.port, "/hello");
	CHECK(get(&pool, url, NULL, &res, &e) == 0);
	if (e.cls)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(res.status == 200);
	httpc_result_free(&res);
	CHECK(get(&pool, url, NULL, &res, &e) == 0 && res.info.reused == 1);
	httpc_result_free(&res);
	conn_pool_free(&pool);
	log = t_slurp(proxy_log, NULL);
	/* base64("user:pa:ss") */
	snprintf(want, sizeof want, "CONNECT localhost:%d HTTP/1.1 auth=Basic dXNlcjpwYTpzcw==\n",
		 tlssrv.port);
	CHECK(log && strstr(log, want) != NULL);
	CHECK(log_lines() == 1);
	free(log);
}

static void test_proxy_bypass_and_forward(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct httpc_result res;
	struct err e;
	char url[128], purl[128], want[160];
	size_t before = log_lines();
	char *log;

	tenv_init(&te);
	snprintf(purl, sizeof purl, "127.0.0.1:%d", proxy.port); /* no scheme: http */
	tenv_set(&te, "https_proxy", purl);
	tenv_set(&te, "http_proxy", purl);
	tenv_set(&te, "NO_PROXY", "example.com,localhost");
	tenv_set(&te, "AWS_CA_BUNDLE", path_ca);
	conn_pool_init(&pool, &te.env);
	url_of(url, sizeof url, "https", "localhost", tlssrv.port, "/hello");
	CHECK(get(&pool, url, NULL, &res, &e) == 0 && res.status == 200);
	httpc_result_free(&res);
	CHECK(log_lines() == before); /* went direct */

	url_of(url, sizeof url, "http", "127.0.0.1", plain.port, "/hello");
	CHECK(get(&pool, url, NULL, &res, &e) == 0);
	if (e.cls)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(res.status == 200);
	CHECK_MEM(res.body.p, res.body.len, "hello", 5);
	httpc_result_free(&res);
	conn_pool_free(&pool);
	log = t_slurp(proxy_log, NULL);
	snprintf(want, sizeof want, "GET http://127.0.0.1:%d/hello HTTP/1.1 auth=-\n", plain.port);
	CHECK(log && strstr(log, want) != NULL);
	free(log);
}

static void test_tls_keep_alive(void)
{
	struct conn_pool pool;
	struct tenv te;
	struct httpc_result res;
	struct err e;
	char url[128];
	const char *nv = getenv("HTTPC_BENCH_N");
	long i, n = nv ? strtol(nv, NULL, 10) : 100, ok = 0;
	double t0;

	tenv_init(&te);
	tenv_set(&te, "AWS_CA_BUNDLE", path_ca);
	conn_pool_init(&pool, &te.env);
	url_of(url, sizeof url, "https", "localhost", tlssrv.port, "/hello");
	t0 = sp_now();
	for (i = 0; i < n; i++) {
		if (get(&pool, url, NULL, &res, &e) == 0 && res.status == 200 &&
		    res.body.len == 5)
			ok++;
		else
			fprintf(stderr, "  request %ld: %s\n", i, e.msg);
		httpc_result_free(&res);
	}
	printf("%ld sequential TLS GETs over one connection: %.3f s (%.0f us each)\n", n,
	       sp_now() - t0, (sp_now() - t0) * 1e6 / (double)n);
	CHECK(ok == n);
	CHECK(pool.opened == 1);
	conn_pool_free(&pool);
}

static int start_all(void)
{
	char *gen[] = {"sh", "tests/tls/gen_certs.sh", dir, NULL};
	char crt[300], key[300];
	char *srv[] = {"python3", "tests/tls/server.py", NULL};
	char *srv_tls[] = {"python3", "tests/tls/server.py", "--tls", crt, key, NULL};
	char *prx[] = {"python3", "tests/tls/proxy.py", proxy_log, NULL};

	if (sp_tmpdir(dir, sizeof dir) < 0 || sp_run(gen) != 0)
		return -1;
	snprintf(path_ca, sizeof path_ca, "%s/ca.crt", dir);
	snprintf(crt, sizeof crt, "%s/good.crt", dir);
	snprintf(key, sizeof key, "%s/good.key", dir);
	snprintf(proxy_log, sizeof proxy_log, "%s/proxy.log", dir);
	if (sp_start(&plain, dir, "plain", srv) < 0 || sp_start(&tlssrv, dir, "tls", srv_tls) < 0 ||
	    sp_start(&proxy, dir, "proxy", prx) < 0)
		return -1;
	return 0;
}

/* The "name: value\n" lines kept for lookups: written whole or not at all. */
static void test_header_lines(void)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nX-Amz-Id: 12\r\n"
				   "X-Empty:\r\nx-amz-id: second\r\nContent-Length: 0\r\n\r\n";
	struct http_parser p;
	struct slice v, body;
	struct buf out;
	struct err e;
	size_t used = 0;

	http_parser_init(&p, HTTP_RESPONSE);
	CHECK(http_parse(&p, (const uint8_t *)resp, sizeof resp - 1, &used, &body, &e) ==
	      HTTP_EV_HEAD);
	buf_init(&out, 4096);
	CHECK(httpc_header_lines(&p, &out) == 0);
	CHECK_STR((char *)out.p, "Content-Type: a/b\nX-Amz-Id: 12\nX-Empty: \nx-amz-id: second\n"
				 "Content-Length: 0\n");
	CHECK(httpc_lines_header(buf_slice(&out), "x-amz-id", &v) == 1 && slice_eq_str(v, "12"));
	CHECK(httpc_lines_header(buf_slice(&out), "x-empty", &v) == 1 && v.n == 0);
	CHECK(httpc_lines_header(buf_slice(&out), "x-amz", &v) == 0 && v.n == 0);
	CHECK(httpc_lines_header(buf_slice(&out), "content-length", &v) == 1 &&
	      slice_eq_str(v, "0"));
	buf_free(&out);
	/* room for two lines and 9 of the third 10 bytes: it is left out whole */
	buf_init(&out, 31 + 9); /* "X-Empty: \n" is 10 */
	CHECK(httpc_header_lines(&p, &out) == -1);
	CHECK_STR((char *)out.p, "Content-Type: a/b\nX-Amz-Id: 12\n");
	buf_free(&out);
	http_parser_free(&p);
	/* a last line without its newline, and no lines at all */
	CHECK(httpc_lines_header(SLICE_LIT("a: 1\nb: 22"), "B", &v) == 1 && slice_eq_str(v, "22"));
	CHECK(httpc_lines_header((struct slice){NULL, 0}, "a", &v) == 0 && v.n == 0);
}

int main(int argc, char **argv)
{
	const char *cross = getenv("BROCK_CROSS");

	(void)argc;
	T_RUN(test_header_lines);
	if (cross && *cross) {
		printf("skipped: local server tests (BROCK_CROSS)\n");
		return t_done(argv[0]);
	}
	plain.pid = tlssrv.pid = proxy.pid = -1;
	if (start_all() < 0) {
		fprintf(stderr, "cannot start the test servers (python3, openssl?)\n");
		t_case("servers", 0);
	} else {
		T_RUN(test_keep_alive_reuse);
		T_RUN(test_chunked_incremental);
		T_RUN(test_stale_retry);
		T_RUN(test_read_timeout);
		T_RUN(test_refused);
		T_RUN(test_connect_timeout);
		T_RUN(test_misc_requests);
		T_RUN(test_proxy_connect);
		T_RUN(test_proxy_bypass_and_forward);
		T_RUN(test_tls_keep_alive);
	}
	sp_stop(&plain);
	sp_stop(&tlssrv);
	sp_stop(&proxy);
	if (*dir)
		sp_rmdir(dir);
	return t_done(argv[0]);
}
