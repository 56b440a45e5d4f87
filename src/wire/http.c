/* http: HTTP/1.1 incremental parser (RFC 9112). See http.h.
 *
 * The header section is collected line by line into p->head (bounded by
 * HTTP_HEAD_MAX) and parsed once complete, so header parsing never has to
 * resume mid-token. The body is framed by a small state machine that hands
 * body bytes out as views into the caller's input (the chunked framing is
 * http_chunked.c, the writer http_write.c). A line ends with CRLF or a bare
 * LF (RFC 9112 section 2.2 allows the latter); a CR anywhere else is an
 * error. */
#include "wire/http.h"

#include <string.h>

#include "wire/http_int.h"

#define HEAD_INTERIM 100 /* internal: an interim 1xx response was skipped */
#define DEFAULT_MAX_BODY (1024u * 1024u)

const char *http_strerror(int code)
{
	switch (code) {
	case HTTP_E_TRUNCATED: return "connection closed early";
	case HTTP_E_STATUS_LINE: return "malformed status line";
	case HTTP_E_REQUEST_LINE: return "malformed request line";
	case HTTP_E_VERSION: return "unsupported HTTP version";
	case HTTP_E_STATUS_CODE: return "invalid status code";
	case HTTP_E_HEAD_TOO_BIG: return "header section exceeds 64 KiB";
	case HTTP_E_TOO_MANY_HDRS: return "more than 100 header fields";
	case HTTP_E_HEADER: return "malformed header line";
	case HTTP_E_HEADER_WS: return "whitespace before colon in header";
	case HTTP_E_HEADER_CHAR: return "invalid character in header";
	case HTTP_E_FOLD: return "continuation line without a header";
	case HTTP_E_CONTENT_LENGTH: return "invalid Content-Length";
	case HTTP_E_CL_CONFLICT: return "conflicting Content-Length values";
	case HTTP_E_TE: return "invalid Transfer-Encoding";
	case HTTP_E_TE_CL: return "both Transfer-Encoding and Content-Length";
	case HTTP_E_CHUNK_SIZE: return "malformed chunk size";
	case HTTP_E_CHUNK_TOO_BIG: return "chunk size too large";
	case HTTP_E_CHUNK_EXT: return "malformed chunk extension";
	case HTTP_E_CHUNK_CRLF: return "missing CRLF after chunk data";
	case HTTP_E_TRAILER: return "malformed trailer section";
	case HTTP_E_BODY_TOO_BIG: return "body too large";
	case HTTP_E_UPGRADE: return "unexpected 101 Switching Protocols";
	case HTTP_E_NOMEM: return "out of memory";
	case HTTP_E_STATE: return "parser used after an error";
	default: return "unknown HTTP error";
	}
}

/* Repeats a recorded error: the parser stays failed until reset. */
static int sticky(const struct http_parser *p, struct err *e)
{
	err_set(e, err_class(p->err), "%s", http_strerror(p->err));
	return p->err;
}

/* ---- character classes ------------------------------------------------ */

int http_is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static struct slice trim_ows(struct slice s)
{
	while (s.n && is_ows(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_ows(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* ---- lifecycle --------------------------------------------------------- */

static void clear_message(struct http_parser *p)
{
	p->version = 0;
	p->status = 0;
	p->reason = (struct slice){NULL, 0};
	p->method = (struct slice){NULL, 0};
	p->target = (struct slice){NULL, 0};
	p->nhdr = 0;
	p->framing = HTTP_BODY_NONE;
	p->content_length = 0;
	p->body_seen = 0;
	p->keep_alive = 0;
	p->line_start = 0;
	p->remain = 0;
	p->ndigits = 0;
	p->aux = 0;
	p->trailer_line = 0;
	p->conn_close = 0;
	p->te_cl = 0;
	p->started = 0;
	buf_reset(&p->head);
}

void http_parser_init(struct http_parser *p, int kind)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->max_body = DEFAULT_MAX_BODY;
	buf_init(&p->head, HTTP_HEAD_MAX);
	p->state = ST_HEAD;
}

void http_parser_free(struct http_parser *p)
{
	buf_free(&p->head);
	p->nhdr = 0;
	p->state = ST_ERROR;
	p->err = HTTP_E_STATE;
}

void http_parser_reset(struct http_parser *p)
{
	clear_message(p);
	p->expect = 0;
	p->err = 0;
	p->state = ST_HEAD;
}

void http_parser_expect(struct http_parser *p, unsigned flags)
{
	p->expect = flags;
}

void http_parser_max_body(struct http_parser *p, uint64_t max)
{
	p->max_body = max;
}

/* ---- header lookup ----------------------------------------------------- */

int http_header(const struct http_parser *p, const char *name, struct slice *val)
{
	size_t i;

	for (i = 0; i < p->nhdr; i++) {
		if (slice_eq_nocase(p->hdr[i].name, name)) {
			if (val)
				*val = p->hdr[i].value;
			return 1;
		}
	}
	if (val)
		*val = (struct slice){NULL, 0};
	return 0;
}

int http_header_join(const struct http_parser *p, const char *name, struct buf *out)
{
	size_t i;
	int found = 0;

	for (i = 0; i < p->nhdr; i++) {
		if (!slice_eq_nocase(p->hdr[i].name, name))
			continue;
		if (found && buf_append(out, ", ", 2) < 0)
			return -1;
		if (buf_append(out, p->hdr[i].value.p, p->hdr[i].value.n) < 0)
			return -1;
		found++;
	}
	return found;
}

/* Calls fn on each non-empty trimmed element of every name field.
 * Stops and returns fn's value when it is non-zero. */
static int each_list_item(const struct http_parser *p, const char *name,
			  int (*fn)(struct slice item, void *ctx), void *ctx)
{
	size_t i, j, start;
	int r;

	for (i = 0; i < p->nhdr; i++) {
		const struct slice v = p->hdr[i].value;

		if (!slice_eq_nocase(p->hdr[i].name, name))
			continue;
		for (start = 0, j = 0; j <= v.n; j++) {
			struct slice item;

			if (j < v.n && v.p[j] != ',')
				continue;
			item = trim_ows((struct slice){v.p + start, j - start});
			start = j + 1;
			if (item.n == 0)
				continue;
			r = fn(item, ctx);
			if (r)
				return r;
		}
	}
	return 0;
}

static int item_is_token(struct slice item, void *ctx)
{
	return slice_eq_nocase(item, (const char *)ctx);
}

int http_header_has_token(const struct http_parser *p, const char *name, const char *token)
{
	return each_list_item(p, name, item_is_token, (void *)(uintptr_t)token);
}

/* ---- header section ---------------------------------------------------- */

/* Splits off the next line of s (s must hold a LF). Strips the CR of a
 * CRLF; *bare_cr is set when a CR remains inside the line. */
static struct slice next_line(struct slice *s, int *bare_cr)
{
	const uint8_t *lf = memchr(s->p, '\n', s->n);
	struct slice line = {s->p, (size_t)(lf - s->p)};

	s->n -= line.n + 1;
	s->p = lf + 1;
	if (line.n && line.p[line.n - 1] == '\r')
		line.n--;
	*bare_cr = memchr(line.p, '\r', line.n) != NULL;
	return line;
}

/* "HTTP/1.x" at s; *version = 10 or 11. Returns 0, or -1 when s is not an
 * HTTP-version at all, -2 when it is one we do not speak. */
static int parse_version(struct slice s, int *version)
{
	if (s.n < 6 || memcmp(s.p, "HTTP/", 5) != 0 || !is_digit(s.p[5]))
		return -1;
	if (s.n == 6) /* "HTTP/2" */
		return -2;
	if (s.n != 8 || s.p[6] != '.' || !is_digit(s.p[7]))
		return -1;
	if (s.p[5] != '1')
		return -2;
	*version = s.p[7] == '0' ? 10 : 11;
	return 0;
}

static int parse_status_line(struct http_parser *p, struct slice line, struct err *e)
{
	const uint8_t *sp = memchr(line.p, ' ', line.n);
	struct slice rest;
	size_t i;
	int v;

	if (!sp)
		return FAIL(HTTP_E_STATUS_LINE, "malformed status line (no space after version)");
	v = parse_version((struct slice){line.p, (size_t)(sp - line.p)}, &p->version);
	if (v == -1)
		return FAIL(HTTP_E_STATUS_LINE, "malformed status line (no HTTP version)");
	if (v == -2)
		return FAIL(HTTP_E_VERSION, "unsupported HTTP version in status line");
	rest = (struct slice){sp + 1, line.n - (size_t)(sp + 1 - line.p)};
	if (rest.n < 3 || !is_digit(rest.p[0]) || !is_digit(rest.p[1]) || !is_digit(rest.p[2]) ||
	    (rest.n > 3 && rest.p[3] != ' '))
		return FAIL(HTTP_E_STATUS_CODE, "malformed status line (status code is not 3 digits)");
	p->status = (rest.p[0] - '0') * 100 + (rest.p[1] - '0') * 10 + (rest.p[2] - '0');
	if (p->status < 100)
		return FAIL(HTTP_E_STATUS_CODE, "invalid status code %03d", p->status);
	p->reason = rest.n > 4 ? (struct slice){rest.p + 4, rest.n - 4} : (struct slice){rest.p + 3, 0};
	for (i = 0; i < p->reason.n; i++)
		if (!is_field_char(p->reason.p[i]))
			return FAIL(HTTP_E_STATUS_LINE, "malformed status line (control byte in reason)");
	return 0;
}

static int parse_request_line(struct http_parser *p, struct slice line, struct err *e)
{
	size_t i = 0, m, t;
	int v;

	while (i < line.n && http_is_tchar(line.p[i]))
		i++;
	if (i == 0 || i == line.n || line.p[i] != ' ')
		return FAIL(HTTP_E_REQUEST_LINE, "malformed request line (bad method)");
	m = i++;
	t = i;
	while (i < line.n && line.p[i] > 0x20 && line.p[i] < 0x7f)
		i++;
	if (i == t || i == line.n || line.p[i] != ' ')
		return FAIL(HTTP_E_REQUEST_LINE, "malformed request line (bad request-target)");
	p->method = (struct slice){line.p, m};
	p->target = (struct slice){line.p + t, i - t};
	v = parse_version((struct slice){line.p + i + 1, line.n - i - 1}, &p->version);
	if (v == -1)
		return FAIL(HTTP_E_REQUEST_LINE, "malformed request line (no HTTP version)");
	if (v == -2)
		return FAIL(HTTP_E_VERSION, "unsupported HTTP version in request line");
	return 0;
}

/* Appends an obs-fold continuation to the last header's value, in place:
 * the continuation text moves left over the line break it followed. */
static int fold_line(struct http_parser *p, struct slice line, struct err *e)
{
	struct http_header *h;
	uint8_t *base = p->head.p;
	size_t vend, i;

	if (p->nhdr == 0)
		return FAIL(HTTP_E_FOLD, "continuation line without a header before it");
	line = trim_ows(line);
	for (i = 0; i < line.n; i++)
		if (!is_field_char(line.p[i]))
			return FAIL(HTTP_E_HEADER_CHAR, "invalid character in header continuation");
	if (line.n == 0)
		return 0;
	h = &p->hdr[p->nhdr - 1];
	vend = (size_t)(h->value.p - base) + h->value.n;
	if (h->value.n)
		base[vend++] = ' ';
	else
		h->value.p = base + vend;
	memmove(base + vend, line.p, line.n);
	h->value.n = (size_t)(base + vend + line.n - h->value.p);
	return 0;
}

static int parse_field(struct http_parser *p, struct slice line, struct err *e)
{
	size_t i = 0;
	struct slice v;

	while (i < line.n && http_is_tchar(line.p[i]))
		i++;
	if (i < line.n && is_ows(line.p[i])) {
		size_t j = i;

		while (j < line.n && is_ows(line.p[j]))
			j++;
		if (i > 0 && j < line.n && line.p[j] == ':')
			return FAIL(HTTP_E_HEADER_WS, "whitespace before colon in header \"%.*s\"",
				    (int)(i > 64 ? 64 : i), (const char *)line.p);
	}
	if (i == line.n)
		return FAIL(HTTP_E_HEADER, "malformed header line (missing colon)");
	if (line.p[i] != ':') {
		if (line.p[i] == 0)
			return FAIL(HTTP_E_HEADER_CHAR, "NUL byte in header name");
		return FAIL(HTTP_E_HEADER, "malformed header line (invalid character in name)");
	}
	if (i == 0)
		return FAIL(HTTP_E_HEADER, "malformed header line (empty name)");
	v = trim_ows((struct slice){line.p + i + 1, line.n - i - 1});
	for (size_t k = 0; k < v.n; k++) {
		if (v.p[k] == 0)
			return FAIL(HTTP_E_HEADER_CHAR, "NUL byte in header value");
		if (!is_field_char(v.p[k]))
			return FAIL(HTTP_E_HEADER_CHAR, "control character in header value");
	}
	if (p->nhdr == HTTP_HDR_MAX)
		return FAIL(HTTP_E_TOO_MANY_HDRS, "more than %d header fields", HTTP_HDR_MAX);
	p->hdr[p->nhdr].name = (struct slice){line.p, i};
	p->hdr[p->nhdr].value = v.n ? v : (struct slice){line.p + line.n, 0};
	p->nhdr++;
	return 0;
}

/* Strict 1*DIGIT into *out; 0, or -1 when not digits or above INT64_MAX. */
static int parse_length(struct slice s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (s.n == 0)
		return -1;
	for (i = 0; i < s.n; i++) {
		if (!is_digit(s.p[i]))
			return -1;
		if (v > (CHUNK_SIZE_MAX - (uint64_t)(s.p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s.p[i] - '0');
	}
	*out = v;
	return 0;
}

struct cl_state {
	uint64_t value;
	int seen;
	int bad;      /* 1 = not a number, 2 = conflicting */
};

static int cl_item(struct slice item, void *ctx)
{
	struct cl_state *st = ctx;
	uint64_t v;

	if (parse_length(item, &v) < 0) {
		st->bad = 1;
		return 1;
	}
	if (st->seen && v != st->value) {
		st->bad = 2;
		return 1;
	}
	st->value = v;
	st->seen = 1;
	return 0;
}

struct te_state {
	size_t n;       /* codings seen */
	int chunked_at; /* 1-based index of "chunked", 0 if none */
	int twice;
};

static int te_item(struct slice item, void *ctx)
{
	struct te_state *st = ctx;
	size_t i = 0;

	st->n++;
	/* a coding may carry parameters: compare only its name */
	while (i < item.n && http_is_tchar(item.p[i]))
		i++;
	if (slice_eq_nocase((struct slice){item.p, i}, "chunked")) {
		if (st->chunked_at)
			st->twice = 1;
		st->chunked_at = (int)st->n;
	}
	return 0;
}

/* Decides the body framing of a parsed head (RFC 9112 section 6.3). */
static int decide_framing(struct http_parser *p, struct err *e)
{
	struct cl_state cl = {0, 0, 0};
	struct te_state te = {0, 0, 0};
	int has_te = http_header(p, "Transfer-Encoding", NULL);
	int req = p->kind == HTTP_REQUEST;

	each_list_item(p, "Content-Length", cl_item, &cl);
	if (cl.bad == 1)
		return FAIL(HTTP_E_CONTENT_LENGTH, "invalid Content-Length (not a non-negative decimal number)");
	if (cl.bad == 2)
		return FAIL(HTTP_E_CL_CONFLICT, "conflicting Content-Length values");
	if (http_header(p, "Content-Length", NULL) && !cl.seen)
		return FAIL(HTTP_E_CONTENT_LENGTH, "invalid Content-Length (empty)");
	p->conn_close = http_header_has_token(p, "Connection", "close");
	if (has_te) {
		each_list_item(p, "Transfer-Encoding", te_item, &te);
		if (te.twice)
			return FAIL(HTTP_E_TE, "invalid Transfer-Encoding (chunked applied twice)");
		if (te.n == 0)
			return FAIL(HTTP_E_TE, "invalid Transfer-Encoding (empty)");
		if (req && cl.seen)
			return FAIL(HTTP_E_TE_CL, "request has both Transfer-Encoding and Content-Length");
		if (req && te.chunked_at != (int)te.n)
			return FAIL(HTTP_E_TE, "invalid Transfer-Encoding (chunked is not the final coding)");
		p->te_cl = cl.seen;
	}

	p->state = ST_BODY_LEN;
	p->remain = 0;
	if (!req) {
		int code = p->status;

		if ((p->expect & HTTP_EXPECT_HEAD) || code == 204 || code == 304 ||
		    ((p->expect & HTTP_EXPECT_CONNECT) && code >= 200 && code < 300)) {
			p->framing = HTTP_BODY_NONE;
			p->content_length = cl.value;
			return 0;
		}
	}
	if (has_te) {
		/* response without chunked last: read until close (RFC 9112 6.3.4) */
		if (te.chunked_at == (int)te.n) {
			p->framing = HTTP_BODY_CHUNKED;
			p->state = ST_CHUNK_SIZE;
		} else {
			p->framing = HTTP_BODY_CLOSE;
			p->state = ST_BODY_CLOSE;
		}
		return 0;
	}
	if (cl.seen) {
		if (req && cl.value > p->max_body)
			return FAIL(HTTP_E_BODY_TOO_BIG, "request body of %llu bytes exceeds the limit of %llu",
				    (unsigned long long)cl.value, (unsigned long long)p->max_body);
		p->framing = HTTP_BODY_LENGTH;
		p->content_length = cl.value;
		p->remain = cl.value;
		return 0;
	}
	if (req) {
		p->framing = HTTP_BODY_NONE;
		return 0;
	}
	p->framing = HTTP_BODY_CLOSE;
	p->state = ST_BODY_CLOSE;
	return 0;
}

/* Parses the complete header section in p->head. Returns HTTP_EV_HEAD,
 * HEAD_INTERIM for a skipped 1xx, or an error. */
static int parse_head(struct http_parser *p, struct err *e)
{
	struct slice s = buf_slice(&p->head), line;
	int bare_cr, r;

	line = next_line(&s, &bare_cr);
	if (p->kind == HTTP_RESPONSE) {
		if (bare_cr)
			return FAIL(HTTP_E_STATUS_LINE, "malformed status line (bare CR)");
		r = parse_status_line(p, line, e);
	} else {
		if (bare_cr)
			return FAIL(HTTP_E_REQUEST_LINE, "malformed request line (bare CR)");
		r = parse_request_line(p, line, e);
	}
	if (r < 0)
		return r;
	for (;;) {
		line = next_line(&s, &bare_cr);
		if (line.n == 0)
			break;
		if (bare_cr)
			return FAIL(HTTP_E_HEADER_CHAR, "bare CR in header line");
		r = is_ows(line.p[0]) ? fold_line(p, line, e) : parse_field(p, line, e);
		if (r < 0)
			return r;
	}
	if (p->kind == HTTP_RESPONSE && p->status < 200) {
		if (p->status == 101)
			return FAIL(HTTP_E_UPGRADE, "unexpected 101 Switching Protocols");
		return HEAD_INTERIM;
	}
	r = decide_framing(p, e);
	return r < 0 ? r : HTTP_EV_HEAD;
}

/* Collects header-section bytes into p->head until the empty line. */
static int feed_head(struct http_parser *p, const uint8_t *in, size_t n, size_t *k,
		     struct err *e)
{
	size_t off = 0;

	while (off < n) {
		const uint8_t *lf;
		size_t take, ll;
		int r;

		/* RFC 9112 2.2: a server ignores empty lines before a request */
		if (p->kind == HTTP_REQUEST && p->head.len == 0 &&
		    (in[off] == '\n' || in[off] == '\r')) {
			off++;
			continue;
		}
		lf = memchr(in + off, '\n', n - off);
		take = lf ? (size_t)(lf - (in + off)) + 1 : n - off;
		if (take > HTTP_HEAD_MAX - p->head.len) {
			*k = off;
			return FAIL(HTTP_E_HEAD_TOO_BIG, "header section exceeds 64 KiB");
		}
		if (buf_append(&p->head, in + off, take) < 0) {
			*k = off;
			return FAIL(HTTP_E_NOMEM, "out of memory for the header section");
		}
		off += take;
		p->started = 1;
		if (!lf)
			break;
		ll = p->head.len - 1 - p->line_start;
		if (ll && p->head.p[p->head.len - 2] == '\r')
			ll--;
		if (ll > 0) {
			p->line_start = p->head.len;
			continue;
		}
		if (p->line_start == 0) {
			*k = off;
			if (p->kind == HTTP_RESPONSE)
				return FAIL(HTTP_E_STATUS_LINE, "malformed status line (empty line)");
			return FAIL(HTTP_E_REQUEST_LINE, "malformed request line (empty line)");
		}
		r = parse_head(p, e);
		if (r != HEAD_INTERIM) {
			*k = off;
			return r;
		}
		/* 1xx: forget it, the final response follows */
		clear_message(p);
		p->started = 1;
	}
	*k = off;
	return HTTP_EV_NEED;
}

/* ---- driver ------------------------------------------------------------- */

static int finish(struct http_parser *p)
{
	p->state = ST_DONE;
	p->keep_alive = p->version == 11 && !p->conn_close && !p->te_cl &&
			p->framing != HTTP_BODY_CLOSE;
	return HTTP_EV_DONE;
}

static size_t take_body(struct http_parser *p, const uint8_t *in, size_t n, struct slice *body)
{
	size_t t = n;

	if (p->state != ST_BODY_CLOSE && p->remain < t)
		t = (size_t)p->remain;
	*body = (struct slice){in, t};
	if (p->state != ST_BODY_CLOSE)
		p->remain -= t;
	p->body_seen += t;
	return t;
}

int http_parse(struct http_parser *p, const uint8_t *in, size_t n, size_t *used,
	       struct slice *body, struct err *e)
{
	size_t off = 0, k;
	int r;

	*used = 0;
	*body = (struct slice){NULL, 0};
	if (p->err)
		return sticky(p, e);
	for (;;) {
		switch (p->state) {
		case ST_HEAD:
			r = feed_head(p, in, n, &k, e);
			*used = k;
			return r; /* after HEAD the next call goes on with the body */
		case ST_BODY_LEN:
			if (p->remain == 0) {
				*used = off;
				return finish(p);
			}
			goto body;
		case ST_BODY_CLOSE:
		case ST_CHUNK_DATA:
		body:
			if (off == n) {
				*used = off;
				return HTTP_EV_NEED;
			}
			off += take_body(p, in + off, n - off, body);
			if (p->state == ST_CHUNK_DATA && p->remain == 0)
				p->state = ST_CHUNK_DATA_CR;
			*used = off;
			return HTTP_EV_BODY;
		case ST_DONE:
			*used = off;
			return finish(p);
		case ST_ERROR:
			return FAIL(HTTP_E_STATE, "parser used after an error");
		default: /* chunk framing */
			if (off == n) {
				*used = off;
				return HTTP_EV_NEED;
			}
			r = http_feed_chunk_framing(p, in + off, n - off, &k, e);
			off += k;
			*used = off;
			if (r < 0)
				return r;
			break;
		}
	}
}

int http_parse_eof(struct http_parser *p, struct err *e)
{
	if (p->err)
		return sticky(p, e);
	switch (p->state) {
	case ST_HEAD:
		if (!p->started)
			return HTTP_EV_NEED;
		return FAIL(HTTP_E_TRUNCATED, "connection closed early (in the header section)");
	case ST_BODY_CLOSE:
	case ST_DONE:
		return finish(p);
	case ST_BODY_LEN:
		if (p->remain == 0)
			return finish(p);
		return FAIL(HTTP_E_TRUNCATED, "connection closed early (body: %llu of %llu bytes)",
			    (unsigned long long)p->body_seen, (unsigned long long)p->content_length);
	default:
		return FAIL(HTTP_E_TRUNCATED, "connection closed early (in the chunked body)");
	}
}
