/* url: absolute http/https URLs, the Host authority, NO_PROXY matching.
 * No I/O. Parsed pieces are small fixed buffers (host, credentials) or
 * views into the caller's string (path, query): keep it alive. */
#ifndef BROCK_URL_H
#define BROCK_URL_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define URL_HOST_MAX 255 /* DNS name limit; also bounds IPv6 literals */
#define URL_CRED_MAX 255 /* decoded user or password (proxy basic auth) */

struct url {
	int https;                     /* 1 for https, 0 for http */
	char scheme[6];                /* "http" or "https" (lower-cased) */
	char host[URL_HOST_MAX + 1];   /* lower-cased; IPv6 without the brackets */
	int ipv6;                      /* host was a [bracketed] IPv6 literal */
	uint16_t port;                 /* explicit, else 80 / 443 */
	int port_explicit;             /* the URL named a port */
	struct slice path;             /* "/..." view, empty when the URL has none */
	struct slice query;            /* after '?', without it; empty when none */
	int has_query;                 /* '?' was present (even if empty) */
	int has_userinfo;              /* user[:pass]@ was present */
	char user[URL_CRED_MAX + 1];   /* percent-decoded */
	char pass[URL_CRED_MAX + 1];   /* percent-decoded; secret: url_wipe() */
};

/* Parses scheme://[user[:pass]@]host[:port][/path][?query][#fragment]
 * (the fragment is dropped). Schemes http/https only (case-insensitive).
 * Rejects spaces and control bytes anywhere, an empty host, a bad port
 * (not 1..65535), an over-long host or credentials. ERR_USAGE on failure;
 * the message never contains the password. */
int url_parse(struct url *u, const char *s, struct err *e);
/* Wipes the credentials (they may be a proxy password). */
void url_wipe(struct url *u);

/* "host[:port]" for the Host header / CONNECT target: brackets around an
 * IPv6 literal, port omitted when it is the scheme default (always
 * present when always_port, as CONNECT needs). Returns 0, or -1 if out is full. */
int url_authority(const struct url *u, int always_port, struct buf *out);
/* The origin-form request target: path (or "/") plus "?query" if any. */
int url_request_target(const struct url *u, struct buf *out);

/* Appends "/" and seg percent-encoded as ONE path segment (everything but
 * unreserved characters encoded, so ':' -> %3A and '/' -> %2F, as Bedrock
 * model ids need). Returns 0, or -1 if out is full. */
int url_path_append_segment(struct buf *out, struct slice seg);

/* 1 when host:port must bypass the proxy per the NO_PROXY value:
 * comma/space separated entries; "*" matches all; "example.com" and
 * ".example.com" match example.com (the former) and every subdomain;
 * an entry may end with ":port" (then only that port matches); IP
 * literals (IPv6 bracketed or bare) match exactly; an IPv4 "a.b.c.d/n"
 * or IPv6 "x::/n" CIDR entry matches addresses inside it. Host comparison
 * is case-insensitive; a trailing dot on either side is ignored. */
int url_no_proxy_match(const char *no_proxy, const char *host, unsigned port);

#endif
