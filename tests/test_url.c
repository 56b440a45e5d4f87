/* test_url: URL parsing, authority/target helpers, path segments, NO_PROXY. */
#include "t.h"
#include "wire/url.h"

struct good {
	const char *in, *scheme, *host;
	unsigned port;
	int explicit_port, ipv6;
	const char *path, *query; /* query NULL = no '?' */
	const char *authority, *target;
};

static const struct good goods[] = {
	{"https://bedrock-runtime.us-east-1.amazonaws.com", "https", "bedrock-runtime.us-east-1.amazonaws.com",
	 443, 0, 0, "", NULL, "bedrock-runtime.us-east-1.amazonaws.com", "/"},
	{"HTTP://Example.COM:8080/a/B?x=Y#frag", "http", "example.com", 8080, 1, 0, "/a/B", "x=Y",
	 "example.com:8080", "/a/B?x=Y"},
	{"http://127.0.0.1:80/", "http", "127.0.0.1", 80, 1, 0, "/", NULL, "127.0.0.1", "/"},
	{"https://h:443", "https", "h", 443, 1, 0, "", NULL, "h", "/"},
	{"https://h:80", "https", "h", 80, 1, 0, "", NULL, "h:80", "/"},
	{"http://[::1]:8080/v1", "http", "::1", 8080, 1, 1, "/v1", NULL, "[::1]:8080", "/v1"},
	{"https://[2001:DB8::1]", "https", "2001:db8::1", 443, 0, 1, "", NULL, "[2001:db8::1]", "/"},
	{"http://h?", "http", "h", 80, 0, 0, "", "", "h", "/?"},
	{"http://h?q", "http", "h", 80, 0, 0, "", "q", "h", "/?q"},
	{"http://h#f?x", "http", "h", 80, 0, 0, "", NULL, "h", "/"},
	{"http://h:/p", "http", "h", 80, 0, 0, "/p", NULL, "h", "/p"},
	{"http://h:65535", "http", "h", 65535, 1, 0, "", NULL, "h:65535", "/"},
	{"http://my_host.local-1", "http", "my_host.local-1", 80, 0, 0, "", NULL, "my_host.local-1", "/"},
	{"https://u:p@proxy:3128", "https", "proxy", 3128, 1, 0, "", NULL, "proxy:3128", "/"},
};

static void test_good(void)
{
	size_t i;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		struct url u;
		struct err e;
		struct buf a, t;
		int ok;

		buf_init(&a, 300);
		buf_init(&t, 300);
		ok = url_parse(&u, g->in, &e) == 0;
		if (!ok)
			fprintf(stderr, "%s: %s\n", g->in, e.msg);
		ok = ok && strcmp(u.scheme, g->scheme) == 0 && u.https == (g->scheme[4] == 's') &&
		     strcmp(u.host, g->host) == 0 && u.port == g->port &&
		     u.port_explicit == g->explicit_port && u.ipv6 == g->ipv6 &&
		     slice_eq_str(u.path, g->path) && u.has_query == (g->query != NULL) &&
		     (!g->query || slice_eq_str(u.query, g->query));
		ok = ok && url_authority(&u, 0, &a) == 0 && strcmp((const char *)a.p, g->authority) == 0;
		ok = ok && url_request_target(&u, &t) == 0 && strcmp((const char *)t.p, g->target) == 0;
		t_case(g->in, ok);
		buf_free(&a);
		buf_free(&t);
	}
}

static void test_bad(void)
{
	static const char *const bads[] = {
		"",
		"example.com",
		"ftp://example.com",
		"http:/example.com",
		"https://",
		"https:///path",
		"https://:443",
		"https://u:p@",
		"https://u:p@/x",
		"http://exa mple.com",
		"http://example.com/a b",
		"http://example.com/\t",
		"http://example.com/\x7f",
		"http://example.com\r\n/",
		"http://exa\xc3\xa9mple.com",
		"http://h:0",
		"http://h:65536",
		"http://h:99999999999999999999",
		"http://h:-1",
		"http://h:8o",
		"http://h:80:80",
		"http://[::1",
		"http://[::1]x",
		"http://[]",
		"http://[not-v6]",
		"http://[1.2.3.4]",
		"http://[::1%25eth0]",
		"http://ho%41st",
		"http://h!st",
		"http://%zz@h",
		"http://u%3Ax:p@h",
		"http://u%00:p@h",
		"http://u:p%0@h",
	};
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct url u;
		struct err e;

		err_clear(&e);
		t_case(bads[i], url_parse(&u, bads[i], &e) < 0 && e.cls == ERR_USAGE && e.msg[0]);
	}
	{
		struct url u;
		struct err e;

		CHECK(url_parse(&u, NULL, &e) < 0);
		/* an empty port means the default, bracketed or not */
		CHECK(url_parse(&u, "http://[::1]:", &e) == 0 && u.port == 80 && !u.port_explicit);
	}
}

static void test_host_length(void)
{
	char s[400], host[300];
	struct url u;
	struct err e;

	memset(host, 'a', 255);
	host[255] = 0;
	snprintf(s, sizeof(s), "https://%s/x", host);
	CHECK(url_parse(&u, s, &e) == 0 && strlen(u.host) == 255);
	host[255] = 'a';
	host[256] = 0;
	snprintf(s, sizeof(s), "https://%s/x", host);
	CHECK(url_parse(&u, s, &e) < 0);
}

static void test_userinfo(void)
{
	struct url u;
	struct err e;
	char s[700], big[600];

	CHECK(url_parse(&u, "http://al%20ice:p%40ss%3Aw@proxy.corp:3128", &e) == 0);
	CHECK_STR(u.user, "al ice");
	CHECK_STR(u.pass, "p@ss:w");
	CHECK(u.has_userinfo == 1 && u.port == 3128);
	url_wipe(&u);
	CHECK(u.user[0] == 0 && u.pass[0] == 0);
	/* a raw '@' in the password: the last '@' ends the userinfo */
	CHECK(url_parse(&u, "http://bob:p@ss@proxy", &e) == 0);
	CHECK_STR(u.user, "bob");
	CHECK_STR(u.pass, "p@ss");
	CHECK_STR(u.host, "proxy");
	/* user only, empty password, '@' only */
	CHECK(url_parse(&u, "http://bob@proxy", &e) == 0 && strcmp(u.user, "bob") == 0 && u.pass[0] == 0);
	CHECK(url_parse(&u, "http://bob:@proxy", &e) == 0 && u.pass[0] == 0);
	CHECK(url_parse(&u, "http://@proxy", &e) == 0 && u.has_userinfo && u.user[0] == 0);
	CHECK(url_parse(&u, "http://proxy", &e) == 0 && !u.has_userinfo);
	/* '@' in the path is not userinfo */
	CHECK(url_parse(&u, "http://h/a@b", &e) == 0 && strcmp(u.host, "h") == 0 && !u.has_userinfo);
	/* the error message never shows the password */
	CHECK(url_parse(&u, "http://bob:s3cr%zzet@h", &e) < 0 && strstr(e.msg, "s3cr") == NULL);
	/* length limits: 255 decoded bytes fit, 256 do not */
	memset(big, 'x', 255);
	big[255] = 0;
	snprintf(s, sizeof(s), "http://u:%s@h", big);
	CHECK(url_parse(&u, s, &e) == 0 && strlen(u.pass) == 255);
	big[255] = 'x';
	big[256] = 0;
	snprintf(s, sizeof(s), "http://u:%s@h", big);
	CHECK(url_parse(&u, s, &e) < 0);
	snprintf(s, sizeof(s), "http://%s@h", big);
	CHECK(url_parse(&u, s, &e) < 0);
}

static void test_authority_always_port(void)
{
	struct url u;
	struct err e;
	struct buf b;

	buf_init(&b, 300);
	CHECK(url_parse(&u, "https://Bedrock.us-west-2.amazonaws.com/", &e) == 0);
	CHECK(url_authority(&u, 1, &b) == 0);
	CHECK_STR((const char *)b.p, "bedrock.us-west-2.amazonaws.com:443");
	buf_reset(&b);
	CHECK(url_parse(&u, "http://[fe80::1]", &e) == 0);
	CHECK(url_authority(&u, 1, &b) == 0);
	CHECK_STR((const char *)b.p, "[fe80::1]:80");
	buf_free(&b);
	buf_init(&b, 5);
	CHECK(url_authority(&u, 1, &b) < 0);
	buf_free(&b);
}

static void test_segment(void)
{
	struct buf b;

	buf_init(&b, 200);
	CHECK(url_path_append_segment(&b, slice_str("model")) == 0);
	CHECK(url_path_append_segment(&b, slice_str("anthropic.claude-3:0/x y~_.-")) == 0);
	CHECK(url_path_append_segment(&b, slice_str("")) == 0);
	CHECK_STR((const char *)b.p, "/model/anthropic.claude-3%3A0%2Fx%20y~_.-/");
	buf_free(&b);
	buf_init(&b, 8);
	CHECK(url_path_append_segment(&b, slice_str("ab")) == 0);
	CHECK(url_path_append_segment(&b, slice_str("::")) < 0);
	CHECK_STR((const char *)b.p, "/ab");
	CHECK(b.len == 3);
	buf_free(&b);
}

struct np {
	const char *no_proxy, *host;
	unsigned port;
	int want;
};

static const struct np nps[] = {
	{NULL, "a.com", 443, 0},
	{"", "a.com", 443, 0},
	{"*", "anything.example", 443, 1},
	{"a.com, *", "x.org", 443, 1},
	{"*.com", "a.com", 443, 1}, /* "*." prefix: domain suffix com */
	{"**", "a.com", 443, 0},
	{"example.com", "example.com", 443, 1},
	{"example.com", "sub.example.com", 443, 1},
	{"example.com", "a.b.sub.example.com", 443, 1},
	{".example.com", "sub.example.com", 443, 1},
	{".example.com", "example.com", 443, 1},
	{"example.com", "badexample.com", 443, 0},
	{".example.com", "badexample.com", 443, 0},
	{"example.com", "example.com.evil.org", 443, 0},
	{"sub.example.com", "example.com", 443, 0},
	{"EXAMPLE.com", "Sub.Example.COM", 443, 1},
	{"example.com.", "sub.example.com", 443, 1},
	{"example.com", "example.com.", 443, 1},
	{"foo.org,example.com", "example.com", 443, 1},
	{"foo.org  example.com", "example.com", 443, 1},
	{" ,, foo.org ,\texample.com ,", "example.com", 443, 1},
	{"foo.org", "example.com", 443, 0},
	{"example.com:443", "example.com", 443, 1},
	{"example.com:443", "example.com", 8443, 0},
	{".example.com:8080", "x.example.com", 8080, 1},
	{"example.com:bad", "example.com", 443, 0},
	{"example.com:0", "example.com", 443, 0},
	{"127.0.0.1", "127.0.0.1", 80, 1},
	{"127.0.0.1", "127.0.0.2", 80, 0},
	{"127.0.0.1:8080", "127.0.0.1", 8080, 1},
	{"127.0.0.1:8080", "127.0.0.1", 80, 0},
	{"0.0.1", "127.0.0.1", 80, 0}, /* IPs are never suffix-matched */
	{"1", "127.0.0.1", 80, 0},
	{"::1", "::1", 443, 1},
	{"::1", "[::1]", 443, 1},
	{"[::1]", "::1", 443, 1},
	{"[::1]:443", "::1", 443, 1},
	{"[::1]:443", "::1", 80, 0},
	{"0:0:0:0:0:0:0:1", "::1", 443, 1},
	{"::2", "::1", 443, 0},
	{"::1", "127.0.0.1", 443, 0},
	{"10.0.0.0/8", "10.20.30.40", 443, 1},
	{"10.0.0.0/8", "11.0.0.1", 443, 0},
	{"192.168.1.0/24", "192.168.1.255", 443, 1},
	{"192.168.1.0/24", "192.168.2.1", 443, 0},
	{"192.168.1.128/25", "192.168.1.127", 443, 0},
	{"192.168.1.128/25", "192.168.1.200", 443, 1},
	{"0.0.0.0/0", "8.8.8.8", 443, 1},
	{"10.0.0.0/33", "10.0.0.1", 443, 0},
	{"10.0.0.0/", "10.0.0.1", 443, 0},
	{"10.0.0.0/x", "10.0.0.1", 443, 0},
	{"10.0.0.0/8", "ten.example", 443, 0},
	{"10.0.0.0/8", "::1", 443, 0},
	{"fd00::/8", "fd12:3456::1", 443, 1},
	{"fd00::/8", "fe80::1", 443, 0},
	{"[fd00::]/8", "fd12::1", 443, 0}, /* brackets then junk: not an entry we understand */
	{"::/0", "2001:db8::1", 443, 1},
	{"fd00::/129", "fd00::1", 443, 0},
	{".", "example.com", 443, 0},
	{"example.com", "", 443, 0},
	{"example.com", ".", 443, 0},
	{"com", "example.com", 443, 1},
};

static void test_no_proxy(void)
{
	size_t i;

	for (i = 0; i < sizeof(nps) / sizeof(nps[0]); i++) {
		char name[200];

		snprintf(name, sizeof(name), "no_proxy \"%s\" %s:%u", nps[i].no_proxy ? nps[i].no_proxy : "(null)",
			 nps[i].host, nps[i].port);
		t_case(name, url_no_proxy_match(nps[i].no_proxy, nps[i].host, nps[i].port) == nps[i].want);
	}
	CHECK(url_no_proxy_match("*", NULL, 1) == 0);
	{
		/* over-long entries never match and never overflow */
		char big[2000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		CHECK(url_no_proxy_match(big, "a.com", 443) == 0);
		CHECK(url_no_proxy_match("a.com", big, 443) == 0);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_good);
	T_RUN(test_bad);
	T_RUN(test_host_length);
	T_RUN(test_userinfo);
	T_RUN(test_authority_always_port);
	T_RUN(test_segment);
	T_RUN(test_no_proxy);
	return t_done(argv[0]);
}
