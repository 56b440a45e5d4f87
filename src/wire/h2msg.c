/* h2msg: requests from header blocks, response heads to header blocks
 * (see h2msg.h). The request's fields are appended to the parser's header
 * area as they are decoded and their places kept as offsets: the area may
 * move as it grows, so views are set only once the block is done. */
#include "wire/h2msg.h"

#include <stdio.h>
#include <string.h>

#define H2MSG_EXTRA_MAX 32
#define H2MSG_NAME_MAX 64

struct span {
	size_t no, nn, vo, vn;
};

struct rq {
	struct http_parser *p;
	struct span h[HTTP_HDR_MAX];
	size_t nh;
	struct span method, path, auth;
	int has_method, has_path, has_scheme, has_auth, regular, has_cl;
	int bad, big;
	uint64_t cl;
};

/* Fields that mean something for one HTTP/1.1 connection only (8.2.2). */
static int conn_specific(struct slice n)
{
	return slice_eq_nocase(n, "connection") || slice_eq_nocase(n, "keep-alive") ||
	       slice_eq_nocase(n, "proxy-connection") || slice_eq_nocase(n, "transfer-encoding") ||
	       slice_eq_nocase(n, "upgrade");
}

static int name_ok(struct slice n)
{
	size_t i;

	if (n.n == 0)
		return 0;
	for (i = 0; i < n.n; i++)
		if (!http_is_tchar(n.p[i]) || (n.p[i] >= 'A' && n.p[i] <= 'Z'))
			return 0;
	return 1;
}

static int value_ok(struct slice v)
{
	size_t i;

	for (i = 0; i < v.n; i++)
		if (v.p[i] == 0 || v.p[i] == '\r' || v.p[i] == '\n')
			return 0;
	return v.n == 0 || (v.p[0] != ' ' && v.p[0] != '\t' && v.p[v.n - 1] != ' ' &&
			     v.p[v.n - 1] != '\t');
}

/* Digits only, at most 19 of them (no overflow). */
static int parse_u64(struct slice v, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (v.n == 0 || v.n > 19)
		return -1;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v.p[i] - '0');
	}
	*out = x;
	return 0;
}

/* Copies name and value into the header area; *sp says where they are. */
static int keep(struct rq *q, struct slice name, struct slice value, struct span *sp)
{
	struct buf *b = &q->p->head;

	sp->no = b->len;
	sp->nn = name.n;
	if (name.n && buf_append(b, name.p, name.n) < 0)
		return -1;
	sp->vo = b->len;
	sp->vn = value.n;
	if (value.n && buf_append(b, value.p, value.n) < 0)
		return -1;
	return 0;
}

static void pseudo(struct rq *q, const struct hpack_field *f)
{
	struct span *sp = NULL;
	int *has = NULL;

	if (q->regular) {
		q->bad = 1; /* pseudo-header fields come first (8.3) */
		return;
	}
	if (slice_eq_str(f->name, ":method")) {
		sp = &q->method;
		has = &q->has_method;
	} else if (slice_eq_str(f->name, ":path")) {
		sp = &q->path;
		has = &q->has_path;
	} else if (slice_eq_str(f->name, ":authority")) {
		sp = &q->auth;
		has = &q->has_auth;
	} else if (slice_eq_str(f->name, ":scheme")) {
		if (q->has_scheme || !value_ok(f->value))
			q->bad = 1;
		q->has_scheme = 1;
		return;
	} else {
		q->bad = 1; /* unknown, or a response's :status */
		return;
	}
	if (*has || !value_ok(f->value)) {
		q->bad = 1;
		return;
	}
	*has = 1;
	if (keep(q, (struct slice){NULL, 0}, f->value, sp) < 0)
		q->big = 1;
}

static void regular(struct rq *q, const struct hpack_field *f)
{
	q->regular = 1;
	if (!name_ok(f->name) || !value_ok(f->value) || conn_specific(f->name) ||
	    (slice_eq_str(f->name, "te") && !slice_eq_str(f->value, "trailers"))) {
		q->bad = 1;
		return;
	}
	if (slice_eq_str(f->name, "content-length")) {
		uint64_t v = 0;

		if (parse_u64(f->value, &v) < 0 || (q->has_cl && v != q->cl))
			q->bad = 1;
		q->cl = v;
		q->has_cl = 1;
	}
	if (q->nh == HTTP_HDR_MAX || keep(q, f->name, f->value, &q->h[q->nh]) < 0) {
		q->big = 1;
		return;
	}
	q->nh++;
}

/* Runs the block to its end; 0, or H2MSG_E_COMPRESSION / H2MSG_E_TOO_BIG. */
static int walk(struct hpack_decoder *d, const uint8_t *block, size_t n, struct rq *q,
		int trailers)
{
	struct hpack_field f;
	int r;

	hpack_block_begin(d, block, n);
	while ((r = hpack_next(d, &f)) == 1) {
		if (trailers)
			q->bad |= f.name.n > 0 && f.name.p[0] == ':';
		else if (f.name.n > 0 && f.name.p[0] == ':')
			pseudo(q, &f);
		else
			regular(q, &f);
	}
	if (r == HPACK_E_LIST_SIZE)
		return H2MSG_E_TOO_BIG;
	return r < 0 ? H2MSG_E_COMPRESSION : 0;
}

static struct slice at(const struct http_parser *p, size_t off, size_t n)
{
	return (struct slice){p->head.p ? p->head.p + off : NULL, n}; /* an empty area has no base */
}

/* The block is in: views, Host from :authority, framing. */
static int finish(struct rq *q)
{
	struct http_parser *p = q->p;
	struct slice path, host;
	size_t i;

	for (i = 0; i < q->nh; i++) {
		p->hdr[i].name = at(p, q->h[i].no, q->h[i].nn);
		p->hdr[i].value = at(p, q->h[i].vo, q->h[i].vn);
	}
	p->nhdr = q->nh;
	path = at(p, q->path.vo, q->path.vn);
	if (!q->has_method || !q->has_scheme || !q->has_path || path.n == 0 ||
	    (path.p[0] != '/' && !slice_eq_str(path, "*")) || q->method.vn == 0)
		return H2MSG_E_MALFORMED;
	if (q->has_auth) {
		struct slice a = at(p, q->auth.vo, q->auth.vn);

		if (http_header(p, "host", &host)) {
			if (host.n != a.n || (a.n && memcmp(host.p, a.p, a.n) != 0))
				return H2MSG_E_MALFORMED; /* two different targets (8.3.1) */
		} else if (q->nh < HTTP_HDR_MAX) {
			p->hdr[q->nh].name = SLICE_LIT("host");
			p->hdr[q->nh].value = a;
			p->nhdr = ++q->nh;
		} else {
			return H2MSG_E_TOO_BIG;
		}
	}
	p->kind = HTTP_REQUEST;
	p->version = 20;
	p->method = at(p, q->method.vo, q->method.vn);
	p->target = path;
	p->framing = q->has_cl ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	p->content_length = q->has_cl ? q->cl : 0;
	p->keep_alive = 1;
	return 0;
}

int h2msg_request(struct hpack_decoder *d, const uint8_t *block, size_t n,
		  struct http_parser *p)
{
	struct rq q;
	int r;

	memset(&q, 0, sizeof q);
	q.p = p;
	r = walk(d, block, n, &q, 0);
	if (r < 0)
		return r;
	if (q.big)
		return H2MSG_E_TOO_BIG;
	if (q.bad)
		return H2MSG_E_MALFORMED;
	return finish(&q);
}

int h2msg_trailers(struct hpack_decoder *d, const uint8_t *block, size_t n)
{
	struct rq q;
	int r;

	memset(&q, 0, sizeof q);
	r = walk(d, block, n, &q, 1);
	if (r < 0)
		return r;
	return q.bad ? H2MSG_E_MALFORMED : 0;
}

/* ---------------------------------------------------------- responses */

/* The fields of "Name: value\r\n" lines: names lowercased into names[]. */
static size_t extra_fields(const char *extra, struct hpack_field *f, size_t max,
			   char (*names)[H2MSG_NAME_MAX])
{
	size_t nf = 0;
	const char *q = extra;

	while (q && *q && nf < max) {
		const char *eol = strstr(q, "\r\n");
		size_t len = eol ? (size_t)(eol - q) : strlen(q);
		const char *colon = memchr(q, ':', len);
		struct slice name, value;
		size_t i;

		if (colon) {
			name = slice_trim((struct slice){(const uint8_t *)q, (size_t)(colon - q)});
			value = slice_trim(
				(struct slice){(const uint8_t *)colon + 1, len - (size_t)(colon - q) - 1});
			if (name.n > 0 && name.n <= H2MSG_NAME_MAX && !conn_specific(name)) {
				for (i = 0; i < name.n; i++)
					names[nf][i] = (char)str_lower_ch(name.p[i]);
				f[nf].name = (struct slice){(const uint8_t *)names[nf], name.n};
				f[nf].value = value;
				f[nf].rep = HPACK_REP_NOINDEX;
				if (name_ok(f[nf].name) && value_ok(value))
					nf++;
			}
		}
		q += len + (eol ? 2 : 0);
	}
	return nf;
}

int h2msg_response(struct hpack_encoder *e, struct buf *out, int status, const char *ctype,
		   const char *extra, int64_t content_length)
{
	struct hpack_field f[3 + H2MSG_EXTRA_MAX];
	char names[H2MSG_EXTRA_MAX][H2MSG_NAME_MAX];
	char st[8], len[24];
	size_t nf = 0;

	memset(f, 0, sizeof f);
	snprintf(st, sizeof st, "%03d", status >= 100 && status <= 999 ? status : 500);
	f[nf].name = SLICE_LIT(":status");
	f[nf++].value = slice_str(st);
	if (ctype) {
		f[nf].name = SLICE_LIT("content-type");
		f[nf++].value = slice_str(ctype);
	}
	if (content_length >= 0) {
		snprintf(len, sizeof len, "%lld", (long long)content_length);
		f[nf].name = SLICE_LIT("content-length");
		f[nf++].value = slice_str(len);
	}
	nf += extra_fields(extra, f + nf, H2MSG_EXTRA_MAX, names);
	return hpack_encode(e, out, f, nf) < 0 ? -1 : 0;
}

const char *h2msg_strerror(int code)
{
	switch (code) {
	case 0: return "no error";
	case H2MSG_E_MALFORMED: return "malformed request";
	case H2MSG_E_TOO_BIG: return "request headers too large";
	case H2MSG_E_COMPRESSION: return "header compression error";
	default: return "unknown error";
	}
}
