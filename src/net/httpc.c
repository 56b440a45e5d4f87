/* httpc: one request/response exchange over a pooled connection. */
#include "net/httpc.h"

#include <stdlib.h>
#include <string.h>

#include "wire/url.h"

#define HTTPC_TARGET_MAX 16384
#define HTTPC_COALESCE_MAX 16384 /* bodies up to this size are sent with the head */

static int httpc_has_header(const struct httpc_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (slice_eq_nocase(slice_str(req->headers[i].name), name))
			return 1;
	return 0;
}

static int httpc_wants_length(const struct httpc_request *req)
{
	return req->body || req->body_len || strcmp(req->method, "POST") == 0 ||
	       strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0;
}

/* The request head: origin-form target, or absolute-form through a
 * forwarding proxy (plain http), which also gets Proxy-Authorization. */
static int httpc_head(struct buf *out, const struct conn *c, const struct url *u,
		      const struct httpc_request *req, struct err *e)
{
	struct buf target, host;
	const char *auth = conn_proxy_auth(c);
	int rc = -1;
	size_t i;

	buf_init(&target, HTTPC_TARGET_MAX);
	buf_init(&host, URL_HOST_MAX + 16);
	if (url_authority(u, 0, &host) < 0)
		goto full;
	if (conn_forward_proxy(c) &&
	    (buf_append_str(&target, u->scheme) < 0 || buf_append_str(&target, "://") < 0 ||
	     buf_append(&target, host.p, host.len) < 0))
		goto full;
	if (url_request_target(u, &target) < 0)
		goto full;
	if (http_write_request_line(out, req->method, (const char *)target.p, e) < 0)
		goto out;
	if (!httpc_has_header(req, "Host") &&
	    http_write_header(out, "Host", (const char *)host.p, e) < 0)
		goto out;
	for (i = 0; i < req->nheaders; i++)
		if (http_write_header(out, req->headers[i].name, req->headers[i].value, e) < 0)
			goto out;
	if (conn_forward_proxy(c) && auth && http_write_header(out, "Proxy-Authorization", auth, e) < 0)
		goto out;
	if (http_write_end(out, httpc_wants_length(req) ? (int64_t)req->body_len : -1, e) < 0)
		goto out;
	rc = 0;
	goto out;
full:
	err_set(e, ERR_USAGE, "request URL too long");
out:
	buf_free(&target);
	buf_free(&host);
	return rc;
}

static int httpc_send(struct conn *c, const struct url *u, const struct httpc_request *req,
		      struct err *e)
{
	struct buf head;
	int rc, body_sent = 0;

	buf_init(&head, HTTP_HEAD_MAX + HTTPC_COALESCE_MAX);
	rc = httpc_head(&head, c, u, req, e);
	/* A small body goes out with the head: one send, one TLS record. */
	if (rc == 0 && req->body_len && req->body_len <= HTTPC_COALESCE_MAX) {
		rc = buf_append(&head, req->body, req->body_len) < 0
			     ? err_set(e, ERR_OTHER, "out of memory")
			     : 0;
		body_sent = 1;
	}
	if (rc == 0)
		rc = conn_write(c, head.p, head.len, e);
	buf_free(&head); /* wiped: it carries the Authorization header */
	if (rc == 0 && req->body_len && !body_sent)
		rc = conn_write(c, req->body, req->body_len, e);
	if (rc == 0)
		rc = conn_flush(c, e);
	return rc;
}

struct httpc_cb {
	httpc_on_headers on_headers;
	httpc_on_body on_body;
	void *user;
};

/* One attempt. *stale is set when it failed on a reused connection before
 * any response byte (and not by a timeout): a fresh connection may retry. */
static int httpc_attempt(struct conn_pool *pool, const struct url *u,
			 const struct httpc_request *req, const struct conn_opts *opts, int fresh,
			 const struct httpc_cb *cb, struct httpc_info *info, int *stale,
			 struct err *e)
{
	struct http_parser hp;
	struct conn *c;
	uint8_t *in = NULL;
	int rc = -1, ev = HTTP_EV_NEED, keep = 0;
	size_t got = 0, off = 0;

	*stale = 0;
	if (conn_get(pool, u, opts, fresh, &c, e) < 0)
		return -1;
	info->reused = conn_reused(c);
	http_parser_init(&hp, HTTP_RESPONSE);
	if (strcmp(req->method, "HEAD") == 0)
		http_parser_expect(&hp, HTTP_EXPECT_HEAD);
	if (httpc_send(c, u, req, e) < 0) {
		*stale = info->reused && !conn_timed_out(c);
		goto out;
	}
	in = conn_iobuf(c);
	if (!in) {
		err_set(e, ERR_OTHER, "out of memory");
		goto out;
	}
	while (ev != HTTP_EV_DONE) {
		if (conn_read(c, in, CONN_IOBUF, &got, e) < 0) {
			*stale = info->reused && !info->got_response && !conn_timed_out(c);
			goto out;
		}
		off = 0;
		if (got == 0) {
			ev = http_parse_eof(&hp, e);
			if (ev == HTTP_EV_NEED && !info->got_response) {
				*stale = info->reused;
				err_set(e, ERR_NET, "connection closed by %s before any response", u->host);
			}
			if (ev != HTTP_EV_DONE)
				goto out;
			break; /* a close-delimited body ended */
		}
		info->got_response = 1;
		for (;;) {
			struct slice body;
			size_t used;

			ev = http_parse(&hp, in + off, got - off, &used, &body, e);
			off += used;
			if (ev < 0)
				goto out;
			if (ev == HTTP_EV_HEAD) {
				info->status = hp.status;
				if (cb->on_headers && cb->on_headers(cb->user, &hp, e) < 0)
					goto out;
			} else if (ev == HTTP_EV_BODY) {
				if (cb->on_body && cb->on_body(cb->user, body.p, body.n, e) < 0)
					goto out;
			} else {
				break;
			}
		}
	}
	/* Bytes after the response are not ours to interpret: no reuse. */
	keep = ev == HTTP_EV_DONE && got > 0 && hp.keep_alive && off == got;
	rc = 0;
out:
	http_parser_free(&hp);
	info->kept_alive = keep;
	if (keep)
		conn_put(pool, c);
	else
		conn_close(c);
	return rc;
}

int httpc_request(struct conn_pool *pool, const struct httpc_request *req,
		  const struct conn_opts *opts, httpc_on_headers on_headers, httpc_on_body on_body,
		  void *user, struct httpc_info *info, struct err *e)
{
	struct httpc_cb cb = {on_headers, on_body, user};
	struct httpc_info dummy;
	struct url u;
	int attempt, stale = 0, rc = -1;

	if (!info)
		info = &dummy;
	memset(info, 0, sizeof *info);
	if (url_parse(&u, req->url, e) < 0)
		return -1;
	for (attempt = 0; attempt < 2; attempt++) {
		info->attempts = attempt + 1;
		rc = httpc_attempt(pool, &u, req, opts, attempt > 0, &cb, info, &stale, e);
		if (rc == 0 || !stale)
			break;
		err_clear(e); /* a stale keep-alive connection: once more, fresh */
	}
	url_wipe(&u);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Collected responses */

int httpc_header_lines(const struct http_parser *p, struct buf *out)
{
	for (size_t i = 0; i < p->nhdr; i++) {
		const struct http_header *h = &p->hdr[i];
		size_t need = h->name.n + h->value.n + 3;

		/* whole lines only: a cut one would read as a different value */
		if (need > out->max - out->len || buf_reserve(out, need) < 0)
			return -1;
		buf_append(out, h->name.p, h->name.n);
		buf_append(out, ": ", 2);
		buf_append(out, h->value.p, h->value.n);
		buf_append_byte(out, '\n');
	}
	return 0;
}

int httpc_lines_header(struct slice lines, const char *name, struct slice *val)
{
	const uint8_t *p = lines.p, *end;
	size_t nl = strlen(name);

	val->p = (const uint8_t *)"";
	val->n = 0;
	if (!lines.n)
		return 0; /* p may be NULL: an unused buffer */
	for (end = p + lines.n; p < end;) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
		struct slice line;

		if (!eol)
			eol = end;
		line.p = p;
		line.n = (size_t)(eol - p);
		if (line.n >= nl + 2 && line.p[nl] == ':' &&
		    slice_eq_nocase((struct slice){line.p, nl}, name)) {
			val->p = line.p + nl + 2;
			val->n = line.n - nl - 2;
			return 1;
		}
		p = eol + 1;
	}
	return 0;
}

static int httpc_fetch_headers(void *user, const struct http_parser *p, struct err *e)
{
	struct httpc_result *res = user;

	res->status = p->status;
	if (httpc_header_lines(p, &res->headers) < 0)
		return err_set(e, ERR_PROTO, "response headers too large");
	return 0;
}

static int httpc_fetch_body(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct httpc_result *res = user;

	if (buf_append(&res->body, p, n) < 0)
		return err_set(e, ERR_PROTO, "response body larger than %zu bytes", res->body.max);
	return 0;
}

int httpc_fetch(struct conn_pool *pool, const struct httpc_request *req,
		const struct conn_opts *opts, size_t max_body, struct httpc_result *res,
		struct err *e)
{
	memset(res, 0, sizeof *res);
	buf_init(&res->body, max_body);
	buf_init(&res->headers, HTTP_HEAD_MAX);
	return httpc_request(pool, req, opts, httpc_fetch_headers, httpc_fetch_body, res,
			     &res->info, e);
}

int httpc_result_header(const struct httpc_result *res, const char *name, struct slice *val)
{
	return httpc_lines_header(buf_slice(&res->headers), name, val);
}

void httpc_result_free(struct httpc_result *res)
{
	buf_free(&res->body);
	buf_free(&res->headers);
}
