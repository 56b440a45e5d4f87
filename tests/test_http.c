/* test_http: the HTTP/1.1 parser (responses and requests) and writer.
 *
 * Every message is fed through a "transcript" runner that records what the
 * parser reports (head, joined body, done/keep-alive/consumed offset, or
 * error) and is run whole, split in two at every offset, and byte by byte:
 * all must produce the same transcript. Every piece handed to the parser
 * is copied so that it ends exactly at a PROT_NONE page, so any read past
 * the input crashes (the picohttpparser trick). */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wire/http.h"
#include "t.h"

/* ---- guard-page feeding ------------------------------------------------ */

#define GUARD_AREA (256u * 1024u)

static uint8_t *guard_base;
static size_t guard_page;

static void guard_init(void)
{
	uint8_t *m;

	guard_page = (size_t)sysconf(_SC_PAGESIZE);
	m = mmap(NULL, GUARD_AREA + guard_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	if (mprotect(m + GUARD_AREA, guard_page, PROT_NONE) != 0) {
		perror("mprotect");
		exit(1);
	}
	guard_base = m;
}

/* Copies p[0..n) so it ends right before the PROT_NONE page. */
static const uint8_t *guarded(const uint8_t *p, size_t n)
{
	uint8_t *dst = guard_base + GUARD_AREA - n;

	if (n > GUARD_AREA) {
		fprintf(stderr, "guarded: input too large\n");
		exit(1);
	}
	if (n)
		memcpy(dst, p, n);
	return dst;
}

/* ---- the transcript runner --------------------------------------------- */

struct run_opts {
	int kind;
	unsigned expect;    /* applied to every message */
	int eof;            /* signal EOF after the last piece */
	uint64_t max_body;  /* requests; 0 = default */
};

static void note_head(struct buf *t, const struct http_parser *p)
{
	size_t i;

	if (p->kind == HTTP_RESPONSE)
		buf_appendf(t, "HEAD %d %d \"%.*s\"", p->version, p->status, (int)p->reason.n,
			    (const char *)p->reason.p);
	else
		buf_appendf(t, "REQ %d %.*s %.*s", p->version, (int)p->method.n,
			    (const char *)p->method.p, (int)p->target.n, (const char *)p->target.p);
	for (i = 0; i < p->nhdr; i++)
		buf_appendf(t, " [%.*s=%.*s]", (int)p->hdr[i].name.n, (const char *)p->hdr[i].name.p,
			    (int)p->hdr[i].value.n, (const char *)p->hdr[i].value.p);
	buf_appendf(t, " f%d\n", p->framing);
}

#define BS(b) ((b).p ? (const char *)(b).p : "")

/* Feeds the pieces in[cuts[i]..cuts[i+1]) in turn. */
static void transcript(struct buf *t, const uint8_t *in, size_t n, const size_t *cuts,
		       size_t ncuts, const struct run_opts *o)
{
	struct http_parser p;
	struct buf body;
	struct err e;
	size_t total = 0, piece;
	int ev = 0;

	if (cuts[ncuts - 1] != n) {
		buf_appendf(t, "BAD CUTS\n");
		return;
	}
	http_parser_init(&p, o->kind);
	if (o->max_body)
		http_parser_max_body(&p, o->max_body);
	http_parser_expect(&p, o->expect);
	buf_init(&body, 1u << 20);
	err_clear(&e);
	for (piece = 0; piece + 1 < ncuts; piece++) {
		size_t len = cuts[piece + 1] - cuts[piece], off = 0;
		const uint8_t *g = guarded(in + cuts[piece], len);

		for (;;) {
			size_t used = 7777;
			struct slice b;

			ev = http_parse(&p, g + off, len - off, &used, &b, &e);
			if (used > len - off) {
				buf_appendf(t, "USED OVERFLOW\n");
				goto out;
			}
			off += used;
			total += used;
			if (ev < 0) {
				buf_appendf(t, "BODY %s\nERR %d cls%d\n", BS(body), ev, e.cls);
				goto out;
			}
			if (ev == HTTP_EV_HEAD)
				note_head(t, &p);
			if (ev == HTTP_EV_BODY) {
				if (b.n == 0 || b.p < g || b.p + b.n > g + len)
					buf_appendf(t, "BAD BODY VIEW\n");
				buf_append(&body, b.p, b.n);
			}
			if (ev == HTTP_EV_DONE) {
				buf_appendf(t, "BODY %s\nDONE ka%d at%zu seen%llu\n", BS(body),
					    p.keep_alive, total, (unsigned long long)p.body_seen);
				buf_reset(&body);
				http_parser_reset(&p);
				http_parser_expect(&p, o->expect);
				continue;
			}
			if (ev == HTTP_EV_NEED) {
				if (off != len)
					buf_appendf(t, "NEED BEFORE END\n");
				break;
			}
		}
	}
	if (o->eof) {
		ev = http_parse_eof(&p, &e);
		if (ev < 0)
			buf_appendf(t, "BODY %s\nEOF ERR %d cls%d\n", BS(body), ev, e.cls);
		else if (ev == HTTP_EV_DONE)
			buf_appendf(t, "BODY %s\nEOF DONE ka%d at%zu\n", BS(body),
				    p.keep_alive, total);
		else
			buf_appendf(t, "EOF %d\n", ev);
	}
out:
	buf_free(&body);
	http_parser_free(&p);
}

/* Runs in whole, in every 2-piece split and byte by byte; all transcripts
 * must equal the whole one, which must equal want (when want != NULL). */
static void check_all_splits(const char *name, const void *data, size_t n,
			     const struct run_opts *o, const char *want)
{
	const uint8_t *in = data;
	struct buf whole, t, w;
	size_t cuts[3], *bytes, i;
	int ok = 1;

	buf_init(&w, 1u << 22);
	buf_init(&whole, 1u << 22);
	buf_init(&t, 1u << 22);
	cuts[0] = 0;
	cuts[1] = n;
	transcript(&whole, in, n, cuts, 2, o);
	if (want) {
		/* "atEND" in want stands for "consumed all n bytes" */
		const char *at = strstr(want, "atEND");

		if (at) {
			buf_append(&w, want, (size_t)(at - want));
			buf_appendf(&w, "at%zu%s", n, at + 5);
		} else {
			buf_append_str(&w, want);
		}
		want = (const char *)w.p;
	}
	if (want && strcmp((const char *)whole.p, want) != 0) {
		fprintf(stderr, "%s: whole:\n%s--- want:\n%s---\n", name, (const char *)whole.p, want);
		ok = 0;
	}
	for (i = 0; i <= n && ok; i++) {
		cuts[0] = 0;
		cuts[1] = i;
		cuts[2] = n;
		buf_reset(&t);
		transcript(&t, in, n, cuts, 3, o);
		if (strcmp((const char *)t.p, (const char *)whole.p) != 0) {
			fprintf(stderr, "%s: split at %zu:\n%s--- whole:\n%s---\n", name, i,
				(const char *)t.p, (const char *)whole.p);
			ok = 0;
		}
	}
	bytes = malloc((n + 1) * sizeof(*bytes));
	for (i = 0; i <= n; i++)
		bytes[i] = i;
	buf_reset(&t);
	transcript(&t, in, n, bytes, n + 1, o);
	if (ok && strcmp((const char *)t.p, (const char *)whole.p) != 0) {
		fprintf(stderr, "%s: byte by byte:\n%s--- whole:\n%s---\n", name, (const char *)t.p,
			(const char *)whole.p);
		ok = 0;
	}
	free(bytes);
	buf_free(&whole);
	buf_free(&t);
	buf_free(&w);
	t_case(name, ok);
}

#define RESP(...) (&(struct run_opts){HTTP_RESPONSE, __VA_ARGS__})
#define REQ(...) (&(struct run_opts){HTTP_REQUEST, __VA_ARGS__})
#define S(s) s, sizeof(s) - 1

/* ---- valid responses --------------------------------------------------- */

static void test_framings(void)
{
	check_all_splits("content-length", S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  1 \r\n\r\nhello"),
			 RESP(0, 0, 0),
			 "HEAD 11 200 \"OK\" [Content-Length=5] [X-A=1] f1\nBODY hello\nDONE ka1 atEND seen5\n");
	check_all_splits("content-length 0", S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
			 RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Content-Length=0] f1\nBODY \nDONE ka1 atEND seen0\nEOF 0\n");
	check_all_splits("chunked ext trailers",
			 S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "5;foo=bar\r\nhello\r\n6 ; x=\"y\"\r\n world\r\n00A\r\n0123456789\r\n"
			   "0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n"),
			 RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=chunked] f2\nBODY hello world0123456789\n"
			 "DONE ka1 atEND seen21\nEOF 0\n");
	check_all_splits("chunked upper hex bare LF",
			 S("HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n1A\nabcdefghijklmnopqrstuvwxyz\n0\n\n"),
			 RESP(0, 0, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=Chunked] f2\n"
			 "BODY abcdefghijklmnopqrstuvwxyz\nDONE ka1 atEND seen26\n");
	check_all_splits("close-delimited", S("HTTP/1.1 200 OK\r\nServer: x\r\n\r\nabc\r\ndef"),
			 RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Server=x] f3\nBODY abc\r\ndef\nEOF DONE ka0 atEND\n");
	check_all_splits("close-delimited empty", S("HTTP/1.1 500 Oops\r\n\r\n"), RESP(0, 1, 0),
			 "HEAD 11 500 \"Oops\" f3\nBODY \nEOF DONE ka0 atEND\n");
	check_all_splits("HEAD response", S("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
			 RESP(HTTP_EXPECT_HEAD, 1, 0),
			 "HEAD 11 200 \"OK\" [Content-Length=100] f0\nBODY \nDONE ka1 atEND seen0\nEOF 0\n");
	check_all_splits("HEAD response chunked",
			 S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), RESP(HTTP_EXPECT_HEAD, 1, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=chunked] f0\nBODY \nDONE ka1 atEND seen0\nEOF 0\n");
	check_all_splits("204", S("HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n"), RESP(0, 1, 0),
			 "HEAD 11 204 \"No Content\" [Date=x] f0\nBODY \nDONE ka1 atEND seen0\nEOF 0\n");
	check_all_splits("304 with CL", S("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"),
			 RESP(0, 1, 0),
			 "HEAD 11 304 \"Not Modified\" [Content-Length=10] f0\nBODY \nDONE ka1 atEND seen0\nEOF 0\n");
	check_all_splits("100 then 200",
			 S("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
			 RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Content-Length=2] f1\nBODY hi\nDONE ka1 atEND seen2\nEOF 0\n");
	check_all_splits("103 then 200",
			 S("HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
			   "HTTP/1.1 102 Processing\r\n\r\n"
			   "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx"),
			 RESP(0, 1, 0),
			 "HEAD 11 201 \"Created\" [Content-Length=1] f1\nBODY x\nDONE ka1 atEND seen1\nEOF 0\n");
	check_all_splits("CONNECT 200 tunnel",
			 S("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01"),
			 RESP(HTTP_EXPECT_CONNECT, 0, 0),
			 "HEAD 11 200 \"Connection established\" f0\nBODY \nDONE ka1 at39 seen0\n");
	check_all_splits("CONNECT 407 has body",
			 S("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\nno!"),
			 RESP(HTTP_EXPECT_CONNECT, 0, 0),
			 "HEAD 11 407 \"Proxy Authentication Required\" [Content-Length=3] f1\nBODY no!\n"
			 "DONE ka1 atEND seen3\n");
}

static void test_keepalive_and_headers(void)
{
	check_all_splits("http/1.0", S("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"), RESP(0, 0, 0),
			 "HEAD 10 200 \"OK\" [Content-Length=1] f1\nBODY x\nDONE ka0 atEND seen1\n");
	check_all_splits("connection close",
			 S("HTTP/1.1 200 OK\r\nConnection: keep-alive, CLOSE\r\nContent-Length: 1\r\n\r\nx"),
			 RESP(0, 0, 0),
			 "HEAD 11 200 \"OK\" [Connection=keep-alive, CLOSE] [Content-Length=1] f1\nBODY x\n"
			 "DONE ka0 atEND seen1\n");
	check_all_splits("TE and CL: chunked wins, no keep-alive",
			 S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "2\r\nab\r\n0\r\n\r\n"),
			 RESP(0, 0, 0),
			 "HEAD 11 200 \"OK\" [Content-Length=3] [Transfer-Encoding=chunked] f2\nBODY ab\n"
			 "DONE ka0 atEND seen2\n");
	check_all_splits("TE gzip only: close-delimited",
			 S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz"), RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=gzip] f3\nBODY zz\nEOF DONE ka0 atEND\n");
	check_all_splits("TE gzip, chunked", S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
					       "Transfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"),
			 RESP(0, 0, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=gzip] [Transfer-Encoding=chunked] f2\n"
			 "BODY z\nDONE ka1 atEND seen1\n");
	check_all_splits("obs-fold",
			 S("HTTP/1.1 200 OK\r\nX-Fold: a\r\n  b  \r\n\tc\r\nX-Empty:\r\n d\r\nX-N:\r\n"
			   "Content-Length: 0\r\n\r\n"),
			 RESP(0, 0, 0),
			 "HEAD 11 200 \"OK\" [X-Fold=a b c] [X-Empty=d] [X-N=] [Content-Length=0] f1\nBODY \n"
			 "DONE ka1 atEND seen0\n");
	check_all_splits("empty reason", S("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), RESP(0, 0, 0),
			 "HEAD 11 200 \"\" [Content-Length=0] f1\nBODY \nDONE ka1 atEND seen0\n");
	check_all_splits("empty reason with space", S("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n"),
			 RESP(0, 0, 0),
			 "HEAD 11 404 \"\" [Content-Length=0] f1\nBODY \nDONE ka1 atEND seen0\n");
	check_all_splits("same CL twice", S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2, 2\r\n\r\nok"),
			 RESP(0, 0, 0),
			 "HEAD 11 200 \"OK\" [Content-Length=2] [content-length=2, 2] f1\nBODY ok\nDONE ka1 atEND seen2\n");
	check_all_splits("obs-text and tab in value", S("HTTP/1.1 200 \xc3\xa9t\xc3\xa9\r\nX:\ta\t\xff b\r\nContent-Length: 0\r\n\r\n"),
			 RESP(0, 0, 0),
			 "HEAD 11 200 \"\xc3\xa9t\xc3\xa9\" [X=a\t\xff b] [Content-Length=0] f1\nBODY \nDONE ka1 atEND seen0\n");
}

static void test_pipelined(void)
{
	check_all_splits("pipelined",
			 S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
			   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nd\r\n0\r\n\r\n"
			   "HTTP/1.1 204 No Content\r\n\r\n"
			   "HTTP/1.1 200 OK\r\nContent-Len"),
			 RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Content-Length=3] f1\nBODY abc\nDONE ka1 at41 seen3\n"
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=chunked] f2\nBODY d\nDONE ka1 at99 seen1\n"
			 "HEAD 11 204 \"No Content\" f0\nBODY \nDONE ka1 at126 seen0\n"
			 "BODY \nEOF ERR -1 cls4\n");
}

/* Drives the parser directly on one buffer (no splitting): for checks that
 * need the parser afterwards. */
static int parse_all(struct http_parser *p, const char *s, size_t n, size_t *consumed,
		     struct err *e)
{
	size_t off = 0, used;
	struct slice b;
	int ev;

	do {
		ev = http_parse(p, (const uint8_t *)s + off, n - off, &used, &b, e);
		off += used;
	} while (ev == HTTP_EV_HEAD || ev == HTTP_EV_BODY);
	*consumed = off;
	return ev;
}

static void test_lookup(void)
{
	static const char msg[] = "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-List: x, y\r\n"
				  "set-cookie: b=2\r\nx-list: z\r\nContent-Length: 0\r\n\r\n";
	struct http_parser p;
	struct err e;
	struct slice v;
	struct buf j;
	size_t used;

	http_parser_init(&p, HTTP_RESPONSE);
	CHECK(parse_all(&p, msg, sizeof(msg) - 1, &used, &e) == HTTP_EV_DONE);
	CHECK(used == sizeof(msg) - 1);
	CHECK(http_header(&p, "SET-COOKIE", &v) == 1 && slice_eq_str(v, "a=1"));
	CHECK(http_header(&p, "missing", &v) == 0 && v.n == 0);
	buf_init(&j, 100);
	CHECK(http_header_join(&p, "X-LIST", &j) == 2);
	CHECK_STR((const char *)j.p, "x, y, z");
	buf_reset(&j);
	CHECK(http_header_join(&p, "nope", &j) == 0 && j.len == 0);
	buf_free(&j);
	buf_init(&j, 3);
	CHECK(http_header_join(&p, "x-list", &j) == -1);
	buf_free(&j);
	CHECK(http_header_has_token(&p, "x-list", "Z") == 1);
	CHECK(http_header_has_token(&p, "x-list", "x, y") == 0);
	CHECK(http_header_has_token(&p, "connection", "close") == 0);
	/* views stay valid after the input is gone: they point into the parser */
	CHECK(p.hdr[0].name.p < (const uint8_t *)msg || p.hdr[0].name.p >= (const uint8_t *)msg + sizeof(msg));
	/* DONE is repeated with nothing consumed until reset */
	{
		struct slice b;

		CHECK(http_parse(&p, (const uint8_t *)"HTTP", 4, &used, &b, &e) == HTTP_EV_DONE && used == 0);
	}
	http_parser_reset(&p);
	CHECK(http_parse_eof(&p, &e) == HTTP_EV_NEED);
	http_parser_free(&p);
}

/* A bodyless message: HEAD uses every byte, DONE needs one more call,
 * which may pass no input at all (NULL, 0). */
static void test_done_after_head(void)
{
	static const char msg[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	struct http_parser p;
	struct err e;
	struct slice b;
	size_t used;

	http_parser_init(&p, HTTP_RESPONSE);
	http_parser_expect(&p, HTTP_EXPECT_CONNECT);
	CHECK(http_parse(&p, NULL, 0, &used, &b, &e) == HTTP_EV_NEED && used == 0);
	CHECK(http_parse(&p, (const uint8_t *)msg, sizeof(msg) - 1, &used, &b, &e) == HTTP_EV_HEAD);
	CHECK(used == sizeof(msg) - 1);
	CHECK(http_parse(&p, NULL, 0, &used, &b, &e) == HTTP_EV_DONE && used == 0 && p.keep_alive);
	http_parser_free(&p);
	/* and a CL body with no bytes yet: NEED, not DONE */
	http_parser_init(&p, HTTP_RESPONSE);
	CHECK(http_parse(&p, (const uint8_t *)"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n", 38, &used,
			 &b, &e) == HTTP_EV_HEAD);
	CHECK(http_parse(&p, NULL, 0, &used, &b, &e) == HTTP_EV_NEED);
	CHECK(http_parse(&p, (const uint8_t *)"x", 1, &used, &b, &e) == HTTP_EV_BODY && b.n == 1);
	CHECK(http_parse(&p, NULL, 0, &used, &b, &e) == HTTP_EV_DONE);
	http_parser_free(&p);
}

/* ---- malformed responses ----------------------------------------------- */

struct bad {
	const char *name;
	const char *in;
	size_t n;
	int code;
};

#define BAD(name, s, code) {name, s, sizeof(s) - 1, code}
#define OKH "HTTP/1.1 200 OK\r\n"
#define CHK OKH "Transfer-Encoding: chunked\r\n\r\n"

static const struct bad bad_responses[] = {
	BAD("no version", "HTTX/1.1 200 OK\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("lowercase http", "http/1.1 200 OK\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("no space", "HTTP/1.1\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("version glued to code", "HTTP/1.1200 OK\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("empty status line", "\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("leading space", " HTTP/1.1 200 OK\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("HTTP/2", "HTTP/2 200 OK\r\n\r\n", HTTP_E_VERSION),
	BAD("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", HTTP_E_VERSION),
	BAD("HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n", HTTP_E_VERSION),
	BAD("bad version shape", "HTTP/1.x 200 OK\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("no code", "HTTP/1.1 OK\r\n\r\n", HTTP_E_STATUS_CODE),
	BAD("short code", "HTTP/1.1 20 OK\r\n\r\n", HTTP_E_STATUS_CODE),
	BAD("long code", "HTTP/1.1 2000 OK\r\n\r\n", HTTP_E_STATUS_CODE),
	BAD("code 099", "HTTP/1.1 099 OK\r\n\r\n", HTTP_E_STATUS_CODE),
	BAD("two spaces", "HTTP/1.1  200 OK\r\n\r\n", HTTP_E_STATUS_CODE),
	BAD("101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", HTTP_E_UPGRADE),
	BAD("control in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("bare CR in status", "HTTP/1.1 200 O\rK\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("NUL in status", "HTTP/1.1 200 O\0K\r\n\r\n", HTTP_E_STATUS_LINE),
	BAD("missing colon", OKH "Foo bar\r\n\r\n", HTTP_E_HEADER),
	BAD("missing colon word", OKH "Foo\r\n\r\n", HTTP_E_HEADER),
	BAD("space before colon", OKH "Foo : bar\r\n\r\n", HTTP_E_HEADER_WS),
	BAD("tab before colon", OKH "Foo\t: bar\r\n\r\n", HTTP_E_HEADER_WS),
	BAD("empty name", OKH ": bar\r\n\r\n", HTTP_E_HEADER),
	BAD("bad name char", OKH "Fo(o: bar\r\n\r\n", HTTP_E_HEADER),
	BAD("NUL in name", OKH "Fo\0o: bar\r\n\r\n", HTTP_E_HEADER_CHAR),
	BAD("NUL in value", OKH "Foo: b\0ar\r\n\r\n", HTTP_E_HEADER_CHAR),
	BAD("bare CR in value", OKH "Foo: b\rar\r\n\r\n", HTTP_E_HEADER_CHAR),
	BAD("control in value", OKH "Foo: b\x7f" "ar\r\n\r\n", HTTP_E_HEADER_CHAR),
	BAD("ESC in value", OKH "Foo: \x1b[31m\r\n\r\n", HTTP_E_HEADER_CHAR),
	BAD("NUL in fold", OKH "Foo: a\r\n b\0\r\n\r\n", HTTP_E_HEADER_CHAR),
	BAD("fold first", OKH " Foo: a\r\n\r\n", HTTP_E_FOLD),
	BAD("CL negative", OKH "Content-Length: -1\r\n\r\n", HTTP_E_CONTENT_LENGTH),
	BAD("CL plus", OKH "Content-Length: +1\r\n\r\n", HTTP_E_CONTENT_LENGTH),
	BAD("CL hex", OKH "Content-Length: 0x10\r\n\r\n", HTTP_E_CONTENT_LENGTH),
	BAD("CL trailing junk", OKH "Content-Length: 5a\r\n\r\n", HTTP_E_CONTENT_LENGTH),
	BAD("CL inner space", OKH "Content-Length: 1 2\r\n\r\n", HTTP_E_CONTENT_LENGTH),
	BAD("CL empty", OKH "Content-Length:\r\n\r\n", HTTP_E_CONTENT_LENGTH),
	BAD("CL comma only", OKH "Content-Length: ,\r\n\r\n", HTTP_E_CONTENT_LENGTH),
	BAD("CL overflow", OKH "Content-Length: 18446744073709551616\r\n\r\n", HTTP_E_CONTENT_LENGTH),
	BAD("CL above 2^63", OKH "Content-Length: 9223372036854775808\r\n\r\n", HTTP_E_CONTENT_LENGTH),
	BAD("CL list conflict", OKH "Content-Length: 5, 6\r\n\r\n", HTTP_E_CL_CONFLICT),
	BAD("CL header conflict", OKH "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", HTTP_E_CL_CONFLICT),
	BAD("TE chunked twice", OKH "Transfer-Encoding: chunked, chunked\r\n\r\n", HTTP_E_TE),
	BAD("TE empty", OKH "Transfer-Encoding: \r\n\r\n", HTTP_E_TE),
	BAD("chunk size not hex", CHK "zz\r\n", HTTP_E_CHUNK_SIZE),
	BAD("chunk size empty", CHK "\r\n", HTTP_E_CHUNK_SIZE),
	BAD("chunk size negative", CHK "-1\r\n", HTTP_E_CHUNK_SIZE),
	BAD("chunk size 0x", CHK "0x5\r\nhello\r\n", HTTP_E_CHUNK_SIZE),
	BAD("chunk size space inside", CHK "1 0\r\n", HTTP_E_CHUNK_SIZE),
	BAD("chunk size CR no LF", CHK "5\rhello", HTTP_E_CHUNK_SIZE),
	BAD("chunk 17 digits", CHK "00000000000000001\r\nx\r\n0\r\n\r\n", HTTP_E_CHUNK_TOO_BIG),
	BAD("chunk 2^63", CHK "8000000000000000\r\n", HTTP_E_CHUNK_TOO_BIG),
	BAD("chunk 2^64", CHK "10000000000000000\r\n", HTTP_E_CHUNK_TOO_BIG),
	BAD("chunk ext control", CHK "5;a\x01\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_EXT),
	BAD("chunk ext NUL", CHK "5;\0\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_EXT),
	BAD("no CRLF after data", CHK "5\r\nhelloX\r\n0\r\n\r\n", HTTP_E_CHUNK_CRLF),
	BAD("CR then junk after data", CHK "5\r\nhello\rX0\r\n\r\n", HTTP_E_CHUNK_CRLF),
	BAD("data longer than size", CHK "2\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_CRLF),
	BAD("trailer NUL", CHK "0\r\nX: \0\r\n\r\n", HTTP_E_TRAILER),
	BAD("trailer bare CR", CHK "0\r\nX: a\rb\r\n\r\n", HTTP_E_TRAILER),
	BAD("trailer fold", CHK "0\r\nX: a\r\n b\r\n\r\n", HTTP_E_TRAILER),
};

static void test_malformed(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_responses) / sizeof(bad_responses[0]); i++) {
		const struct bad *b = &bad_responses[i];
		struct http_parser p;
		struct err e;
		size_t used;
		char want[64];

		/* the error code and a message, directly */
		http_parser_init(&p, HTTP_RESPONSE);
		err_clear(&e);
		t_case(b->name, parse_all(&p, b->in, b->n, &used, &e) == b->code && e.cls == ERR_PROTO &&
					e.msg[0] != 0);
		/* sticky */
		CHECK(parse_all(&p, "x", 1, &used, &e) == b->code);
		CHECK(http_parse_eof(&p, &e) == b->code);
		http_parser_free(&p);
		/* the same error at every split */
		snprintf(want, sizeof(want), "ERR %d cls6\n", b->code);
		{
			struct buf t;
			size_t cuts[2] = {0, b->n};

			buf_init(&t, 1u << 20);
			transcript(&t, (const uint8_t *)b->in, b->n, cuts, 2, RESP(0, 0, 0));
			CHECK(strstr((const char *)t.p, want) != NULL);
			buf_free(&t);
		}
		check_all_splits(b->name, b->in, b->n, RESP(0, 0, 0), NULL);
	}
	/* distinct messages for distinct codes */
	for (i = 1; i <= 24; i++) {
		size_t j;

		for (j = i + 1; j <= 24; j++)
			CHECK(strcmp(http_strerror(-(int)i), http_strerror(-(int)j)) != 0);
	}
}

/* Out of memory for the header section is ERR_OTHER, and stays ERR_OTHER on
 * every later call: a sticky NOMEM is not a protocol error. (The head buffer's
 * limit is lowered so that buf_append fails as it does when malloc does.) */
static void test_nomem_sticky(void)
{
	static const char in[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	struct http_parser p;
	struct slice body;
	struct err e;
	size_t used;

	http_parser_init(&p, HTTP_RESPONSE);
	p.head.max = 4;
	err_clear(&e);
	CHECK(http_parse(&p, (const uint8_t *)in, sizeof(in) - 1, &used, &body, &e) ==
	      HTTP_E_NOMEM);
	CHECK(e.cls == ERR_OTHER);
	err_clear(&e);
	CHECK(http_parse(&p, (const uint8_t *)in, sizeof(in) - 1, &used, &body, &e) ==
	      HTTP_E_NOMEM);
	CHECK(e.cls == ERR_OTHER && e.msg[0] != 0);
	err_clear(&e);
	CHECK(http_parse_eof(&p, &e) == HTTP_E_NOMEM);
	CHECK(e.cls == ERR_OTHER);
	http_parser_free(&p);
}

static void test_truncated(void)
{
	check_all_splits("eof in head", S("HTTP/1.1 200 OK\r\nContent-Le"), RESP(0, 1, 0),
			 "BODY \nEOF ERR -1 cls4\n");
	check_all_splits("eof after status line", S("HTTP/1.1 200 OK\r\n"), RESP(0, 1, 0),
			 "BODY \nEOF ERR -1 cls4\n");
	check_all_splits("eof after 100", S("HTTP/1.1 100 Continue\r\n\r\n"), RESP(0, 1, 0),
			 "BODY \nEOF ERR -1 cls4\n");
	check_all_splits("eof in CL body", S("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
			 RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Content-Length=10] f1\nBODY abc\nEOF ERR -1 cls4\n");
	check_all_splits("eof in chunk", S(CHK "5\r\nhel"), RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=chunked] f2\nBODY hel\nEOF ERR -1 cls4\n");
	check_all_splits("eof before last chunk", S(CHK "5\r\nhello\r\n"), RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=chunked] f2\nBODY hello\nEOF ERR -1 cls4\n");
	check_all_splits("eof in trailers", S(CHK "0\r\nX: y\r\n"), RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=chunked] f2\nBODY \nEOF ERR -1 cls4\n");
	check_all_splits("huge chunk then eof", S(CHK "7fffffffffffffff\r\nab"), RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=chunked] f2\nBODY ab\nEOF ERR -1 cls4\n");
	check_all_splits("eof before anything", "", 0, RESP(0, 1, 0), "EOF 0\n");
	{
		struct http_parser p;
		struct err e;
		size_t used;

		http_parser_init(&p, HTTP_RESPONSE);
		CHECK(parse_all(&p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 42, &used, &e) ==
		      HTTP_EV_NEED);
		CHECK(http_parse_eof(&p, &e) == HTTP_E_TRUNCATED && e.cls == ERR_NET);
		CHECK(strstr(e.msg, "connection closed early") != NULL);
		CHECK(strstr(e.msg, "3 of 10") != NULL);
		http_parser_free(&p);
	}
}

/* ---- limits ------------------------------------------------------------ */

/* A response whose header section is exactly total bytes long. */
static char *head_of_size(size_t total, size_t *n)
{
	static const char start[] = "HTTP/1.1 200 OK\r\nX: ";
	static const char end[] = "\r\nContent-Length: 0\r\n\r\n";
	char *s = malloc(total + 1);
	size_t fill = total - (sizeof(start) - 1) - (sizeof(end) - 1);

	memcpy(s, start, sizeof(start) - 1);
	memset(s + sizeof(start) - 1, 'a', fill);
	memcpy(s + sizeof(start) - 1 + fill, end, sizeof(end) - 1);
	*n = total;
	return s;
}

static int run_once(const char *s, size_t n, int kind, struct err *e, size_t *used)
{
	struct http_parser p;
	int ev;

	http_parser_init(&p, kind);
	ev = parse_all(&p, (const char *)guarded((const uint8_t *)s, n), n, used, e);
	http_parser_free(&p);
	return ev;
}

static void test_limits(void)
{
	struct err e;
	size_t n, used;
	char *s;
	struct buf b;
	int i;

	s = head_of_size(HTTP_HEAD_MAX, &n);
	CHECK(run_once(s, n, HTTP_RESPONSE, &e, &used) == HTTP_EV_DONE && used == n);
	free(s);
	s = head_of_size(HTTP_HEAD_MAX + 1, &n);
	CHECK(run_once(s, n, HTTP_RESPONSE, &e, &used) == HTTP_E_HEAD_TOO_BIG);
	CHECK_STR(e.msg, "header section exceeds 64 KiB");
	free(s);
	/* byte by byte at the boundary too */
	{
		struct buf t;
		size_t *cuts, k;

		s = head_of_size(HTTP_HEAD_MAX + 1, &n);
		cuts = malloc((n + 1) * sizeof(*cuts));
		for (k = 0; k <= n; k++)
			cuts[k] = k;
		buf_init(&t, 1u << 20);
		transcript(&t, (const uint8_t *)s, n, cuts, n + 1, RESP(0, 0, 0));
		CHECK_STR((const char *)t.p, "BODY \nERR -6 cls6\n");
		buf_free(&t);
		free(cuts);
		free(s);
	}
	/* a line longer than the limit with no LF at all */
	s = malloc(HTTP_HEAD_MAX + 10);
	memset(s, 'H', HTTP_HEAD_MAX + 10);
	CHECK(run_once(s, HTTP_HEAD_MAX, HTTP_RESPONSE, &e, &used) == HTTP_EV_NEED);
	CHECK(run_once(s, HTTP_HEAD_MAX + 1, HTTP_RESPONSE, &e, &used) == HTTP_E_HEAD_TOO_BIG);
	free(s);

	/* 100 headers fine, 101 not (Content-Length is one of them) */
	buf_init(&b, 1u << 20);
	buf_append_str(&b, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < 99; i++)
		buf_appendf(&b, "H%d: v\r\n", i);
	buf_append_str(&b, "Content-Length: 0\r\n\r\n");
	CHECK(run_once((const char *)b.p, b.len, HTTP_RESPONSE, &e, &used) == HTTP_EV_DONE);
	buf_reset(&b);
	buf_append_str(&b, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < 100; i++)
		buf_appendf(&b, "H%d: v\r\n", i);
	buf_append_str(&b, "Content-Length: 0\r\n\r\n");
	CHECK(run_once((const char *)b.p, b.len, HTTP_RESPONSE, &e, &used) == HTTP_E_TOO_MANY_HDRS);
	CHECK(strstr(e.msg, "100 header") != NULL);
	/* the limits apply per response: 100 headers in a 103 and 100 in the 200 */
	buf_reset(&b);
	buf_append_str(&b, "HTTP/1.1 103 Early Hints\r\n");
	for (i = 0; i < 100; i++)
		buf_appendf(&b, "Link: <%d>\r\n", i);
	buf_append_str(&b, "\r\nHTTP/1.1 200 OK\r\n");
	for (i = 0; i < 99; i++)
		buf_appendf(&b, "H%d: v\r\n", i);
	buf_append_str(&b, "Content-Length: 0\r\n\r\n");
	CHECK(run_once((const char *)b.p, b.len, HTTP_RESPONSE, &e, &used) == HTTP_EV_DONE &&
	      used == b.len);
	buf_free(&b);

	/* chunk sizes: 16 digits is the cap, 7fff... the largest value */
	check_all_splits("chunk 16 digits", S(CHK "0000000000000001\r\nx\r\n0\r\n\r\n"), RESP(0, 0, 0),
			 "HEAD 11 200 \"OK\" [Transfer-Encoding=chunked] f2\nBODY x\nDONE ka1 atEND seen1\n");
	/* CL: the largest accepted value */
	check_all_splits("CL 2^63-1", S(OKH "Content-Length: 9223372036854775807\r\n\r\nab"), RESP(0, 1, 0),
			 "HEAD 11 200 \"OK\" [Content-Length=9223372036854775807] f1\nBODY ab\nEOF ERR -1 cls4\n");
	/* chunk extension: exactly HTTP_CHUNK_EXT_MAX bytes after ';' is fine */
	buf_init(&b, 1u << 20);
	buf_append_str(&b, CHK "1;");
	for (i = 0; i < HTTP_CHUNK_EXT_MAX; i++)
		buf_append_byte(&b, 'e');
	buf_append_str(&b, "\r\nx\r\n0\r\n\r\n");
	CHECK(run_once((const char *)b.p, b.len, HTTP_RESPONSE, &e, &used) == HTTP_EV_DONE);
	buf_reset(&b);
	buf_append_str(&b, CHK "1;");
	for (i = 0; i <= HTTP_CHUNK_EXT_MAX; i++)
		buf_append_byte(&b, 'e');
	buf_append_str(&b, "\r\nx\r\n0\r\n\r\n");
	CHECK(run_once((const char *)b.p, b.len, HTTP_RESPONSE, &e, &used) == HTTP_E_CHUNK_EXT);
	/* trailer section: 64 KiB counted from after the last-chunk line */
	buf_reset(&b);
	buf_append_str(&b, CHK "0\r\nX: ");
	while (b.len < sizeof(CHK "0\r\n") - 1 + HTTP_TRAILER_MAX - 4)
		buf_append_byte(&b, 't');
	buf_append_str(&b, "\r\n\r\n");
	CHECK(run_once((const char *)b.p, b.len, HTTP_RESPONSE, &e, &used) == HTTP_EV_DONE && used == b.len);
	buf_reset(&b);
	buf_append_str(&b, CHK "0\r\nX: ");
	while (b.len < sizeof(CHK "0\r\n") - 1 + HTTP_TRAILER_MAX - 3)
		buf_append_byte(&b, 't');
	buf_append_str(&b, "\r\n\r\n");
	CHECK(run_once((const char *)b.p, b.len, HTTP_RESPONSE, &e, &used) == HTTP_E_TRAILER);
	buf_free(&b);
}

/* ---- requests ---------------------------------------------------------- */

static void test_requests(void)
{
	check_all_splits("GET", S("GET /v1/models?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"), REQ(0, 1, 0),
			 "REQ 11 GET /v1/models?x=1 [Host=127.0.0.1:8080] f0\nBODY \nDONE ka1 atEND seen0\nEOF 0\n");
	check_all_splits("leading CRLF then GET", S("\r\n\r\nGET / HTTP/1.0\r\n\r\n"), REQ(0, 1, 0),
			 "REQ 10 GET / f0\nBODY \nDONE ka0 atEND seen0\nEOF 0\n");
	check_all_splits("POST CL", S("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 7\r\n\r\n{\"a\":1}"),
			 REQ(0, 0, 0),
			 "REQ 11 POST /v1/chat/completions [Content-Length=7] f1\nBODY {\"a\":1}\nDONE ka1 atEND seen7\n");
	check_all_splits("POST chunked + pipelined GET",
			 S("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
			   "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"),
			 REQ(0, 0, 0),
			 "REQ 11 POST /x [Transfer-Encoding=chunked] f2\nBODY abc\nDONE ka1 at61 seen3\n"
			 "REQ 11 GET /healthz [Connection=close] f0\nBODY \nDONE ka0 atEND seen0\n");
	check_all_splits("POST CL at limit", S("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"), REQ(0, 0, 4),
			 "REQ 11 POST / [Content-Length=4] f1\nBODY abcd\nDONE ka1 atEND seen4\n");
	check_all_splits("POST CL over limit", S("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde"),
			 REQ(0, 0, 4), "BODY \nERR -21 cls6\n");
	check_all_splits("chunked at limit",
			 S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n"),
			 REQ(0, 0, 4),
			 "REQ 11 POST / [Transfer-Encoding=chunked] f2\nBODY abcd\nDONE ka1 atEND seen4\n");
	check_all_splits("chunked over limit",
			 S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"),
			 REQ(0, 0, 4),
			 "REQ 11 POST / [Transfer-Encoding=chunked] f2\nBODY ab\nERR -21 cls6\n");
	check_all_splits("TE + CL request", S("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
			 REQ(0, 0, 0), "BODY \nERR -15 cls6\n");
	check_all_splits("TE gzip request", S("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), REQ(0, 0, 0),
			 "BODY \nERR -14 cls6\n");
	check_all_splits("TE chunked, gzip request",
			 S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), REQ(0, 0, 0),
			 "BODY \nERR -14 cls6\n");
	check_all_splits("request eof in body", S("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab"), REQ(0, 1, 0),
			 "REQ 11 POST / [Content-Length=4] f1\nBODY ab\nEOF ERR -1 cls4\n");
	{
		static const struct bad bad_req[] = {
			BAD("no method", " / HTTP/1.1\r\n\r\n", HTTP_E_REQUEST_LINE),
			BAD("two spaces", "GET  / HTTP/1.1\r\n\r\n", HTTP_E_REQUEST_LINE),
			BAD("no version", "GET /\r\n\r\n", HTTP_E_REQUEST_LINE),
			BAD("extra field", "GET / HTTP/1.1 x\r\n\r\n", HTTP_E_REQUEST_LINE),
			BAD("bad method char", "GE(T / HTTP/1.1\r\n\r\n", HTTP_E_REQUEST_LINE),
			BAD("control in target", "GET /\x01 HTTP/1.1\r\n\r\n", HTTP_E_REQUEST_LINE),
			BAD("HTTP/2.0 request", "GET / HTTP/2.0\r\n\r\n", HTTP_E_VERSION),
			BAD("lower version", "GET / http/1.1\r\n\r\n", HTTP_E_REQUEST_LINE),
			BAD("bare CR request line", "GET /\r HTTP/1.1\r\n\r\n", HTTP_E_REQUEST_LINE),
			BAD("bad header", "GET / HTTP/1.1\r\nHost x\r\n\r\n", HTTP_E_HEADER),
			BAD("bad CL", "POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", HTTP_E_CONTENT_LENGTH),
		};
		size_t i;

		for (i = 0; i < sizeof(bad_req) / sizeof(bad_req[0]); i++) {
			char want[64];
			struct buf t;
			size_t cuts[2] = {0, bad_req[i].n};

			snprintf(want, sizeof(want), "BODY \nERR %d cls6\n", bad_req[i].code);
			buf_init(&t, 1u << 20);
			transcript(&t, (const uint8_t *)bad_req[i].in, bad_req[i].n, cuts, 2, REQ(0, 0, 0));
			t_case(bad_req[i].name, strcmp((const char *)t.p, want) == 0);
			buf_free(&t);
			check_all_splits(bad_req[i].name, bad_req[i].in, bad_req[i].n, REQ(0, 0, 0), want);
		}
	}
}

/* ---- writer ------------------------------------------------------------ */

static void test_writer(void)
{
	struct buf b;
	struct err e;

	buf_init(&b, 4096);
	CHECK(http_write_request_line(&b, "POST", "/model/a%3Ab/converse-stream", &e) == 0);
	CHECK(http_write_header(&b, "Host", "bedrock-runtime.us-east-1.amazonaws.com", &e) == 0);
	CHECK(http_write_header_slice(&b, "X-Empty", (struct slice){NULL, 0}, &e) == 0);
	CHECK(http_write_header(&b, "X-Tab", "a\tb", &e) == 0);
	CHECK(http_write_end(&b, 12, &e) == 0);
	CHECK_STR((const char *)b.p, "POST /model/a%3Ab/converse-stream HTTP/1.1\r\n"
				     "Host: bedrock-runtime.us-east-1.amazonaws.com\r\nX-Empty: \r\n"
				     "X-Tab: a\tb\r\nContent-Length: 12\r\n\r\n");
	buf_reset(&b);
	CHECK(http_write_request_line(&b, "GET", "/", &e) == 0 && http_write_end(&b, -1, &e) == 0);
	CHECK_STR((const char *)b.p, "GET / HTTP/1.1\r\n\r\n");

	/* injection and bad tokens are refused and nothing is written */
	buf_reset(&b);
	CHECK(http_write_header(&b, "X", "a\r\nEvil: 1", &e) < 0 && e.cls == ERR_USAGE);
	CHECK(http_write_header(&b, "X", "a\nb", &e) < 0);
	CHECK(http_write_header(&b, "X", "a\rb", &e) < 0);
	CHECK(http_write_header_slice(&b, "X", (struct slice){(const uint8_t *)"a\0b", 3}, &e) < 0);
	CHECK(http_write_header(&b, "X\r\nY", "v", &e) < 0);
	CHECK(http_write_header(&b, "X Y", "v", &e) < 0);
	CHECK(http_write_header(&b, "X:", "v", &e) < 0);
	CHECK(http_write_header(&b, "", "v", &e) < 0);
	CHECK(http_write_request_line(&b, "GET", "/a b", &e) < 0);
	CHECK(http_write_request_line(&b, "GET", "/a\r\n", &e) < 0);
	CHECK(http_write_request_line(&b, "GET", "", &e) < 0);
	CHECK(http_write_request_line(&b, "G T", "/", &e) < 0);
	CHECK(http_write_status_line(&b, 200, "O\r\nK", &e) < 0);
	CHECK(http_write_status_line(&b, 99, "x", &e) < 0);
	CHECK(b.len == 0);
	buf_free(&b);

	/* a full buffer is ERR_OTHER */
	buf_init(&b, 10);
	CHECK(http_write_request_line(&b, "GET", "/a-long-path", &e) < 0 && e.cls == ERR_OTHER);
	buf_free(&b);

	/* a written response with a chunked body parses back */
	{
		struct http_parser p;
		size_t used;
		struct slice v;

		buf_init(&b, 4096);
		CHECK(http_write_status_line(&b, 200, "OK", &e) == 0);
		CHECK(http_write_header(&b, "Transfer-Encoding", "chunked", &e) == 0);
		CHECK(http_write_end(&b, -1, &e) == 0);
		CHECK(http_write_chunk(&b, "data: {}\n\n", 10, &e) == 0);
		CHECK(http_write_chunk(&b, "", 0, &e) == 0);
		CHECK(http_write_chunk(&b, "0123456789abcdefg", 17, &e) == 0);
		CHECK(http_write_chunk_end(&b, &e) == 0);
		CHECK_STR((const char *)b.p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
					     "a\r\ndata: {}\n\n\r\n11\r\n0123456789abcdefg\r\n0\r\n\r\n");
		http_parser_init(&p, HTTP_RESPONSE);
		CHECK(parse_all(&p, (const char *)b.p, b.len, &used, &e) == HTTP_EV_DONE && used == b.len);
		CHECK(p.body_seen == 27 && http_header(&p, "transfer-encoding", &v) == 1);
		http_parser_free(&p);
		buf_free(&b);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	guard_init();
	T_RUN(test_framings);
	T_RUN(test_keepalive_and_headers);
	T_RUN(test_pipelined);
	T_RUN(test_lookup);
	T_RUN(test_done_after_head);
	T_RUN(test_malformed);
	T_RUN(test_truncated);
	T_RUN(test_nomem_sticky);
	T_RUN(test_limits);
	T_RUN(test_requests);
	T_RUN(test_writer);
	return t_done(argv[0]);
}
