/* httpc: THE HTTP client path. One request: a connection from the pool
 * (plain or TLS, via proxy or not), the request written with http.h, the
 * response parsed incrementally with http.h and handed to the caller as it
 * arrives: headers once, then every body piece (never buffered whole).
 * A request on a reused keep-alive connection that fails before any
 * response byte arrived is retried once on a fresh connection. */
#ifndef BROCK_HTTPC_H
#define BROCK_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "net/conn.h"
#include "base/err.h"
#include "wire/http.h"


struct httpc_header {
	const char *name;
	const char *value;
};

struct httpc_request {
	const char *method;                 /* "GET", "POST", "HEAD", ... */
	const char *url;                    /* absolute http:// or https:// URL */
	const struct httpc_header *headers; /* extra headers; Host is added unless given */
	size_t nheaders;
	const void *body; /* sent with Content-Length; NULL and 0 for none */
	size_t body_len;
};

/* Called once with the parsed status line and headers (p->status,
 * http_header(p, ...)); the views are valid during the call only. */
typedef int (*httpc_on_headers)(void *user, const struct http_parser *p, struct err *e);
/* Called for each body piece as it arrives (n > 0). Returning < 0 aborts
 * the request (the connection is closed; e is the caller's error). */
typedef int (*httpc_on_body)(void *user, const uint8_t *p, size_t n, struct err *e);

struct httpc_info {
	int status;       /* 0 until the headers arrived */
	int got_response; /* 1 once any response byte was received: never retry then */
	int reused;       /* the final attempt ran on a pooled connection */
	int attempts;     /* 1, or 2 after a stale keep-alive retry */
	int kept_alive;   /* the connection went back to the pool */
};

/* Runs one request. Either callback may be NULL. opts may be NULL (default
 * timeouts; io_timeout_ms bounds every single read: the longest silence).
 * info may be NULL. Non-2xx statuses are not errors here. */
int httpc_request(struct conn_pool *pool, const struct httpc_request *req,
		  const struct conn_opts *opts, httpc_on_headers on_headers, httpc_on_body on_body,
		  void *user, struct httpc_info *info, struct err *e);

/* Convenience for small API responses: the body collected into a bounded
 * buffer, and the header section kept for lookups. */
struct httpc_result {
	int status;
	struct buf body;    /* limit given to httpc_fetch; exceeding it is ERR_PROTO */
	struct buf headers; /* "name: value\n" lines, as received */
	struct httpc_info info;
};

int httpc_fetch(struct conn_pool *pool, const struct httpc_request *req,
		const struct conn_opts *opts, size_t max_body, struct httpc_result *res,
		struct err *e);
/* The first value of header name (case-insensitive) in res; 1 found, 0 not. */
int httpc_result_header(const struct httpc_result *res, const char *name, struct slice *val);
void httpc_result_free(struct httpc_result *res);

/* The header section kept as "name: value\n" lines (httpc_result.headers,
 * aws_response.headers): httpc_header_lines appends p's headers to out and
 * returns -1 at the first line that does not fit (whole lines only, the rest
 * left out); httpc_lines_header finds the first value of name in such lines
 * (ASCII case-insensitive): 1 found, 0 not (val empty). */
int httpc_header_lines(const struct http_parser *p, struct buf *out);
int httpc_lines_header(struct slice lines, const char *name, struct slice *val);

#endif
