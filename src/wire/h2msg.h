/* h2msg: HTTP messages over HTTP/2 for the server role (RFC 9113 section
 * 8), no I/O.
 *
 * A request's header block becomes an http_parser filled as if http_parse
 * had read an HTTP/1.1 request (version 20), so a handler reads either the
 * same way (p->method, p->target, http_header): the pseudo-header fields
 * :method and :path become the method and the target, every other field is
 * a header as sent (names lowercase), and :authority becomes a Host header
 * when none came (the loopback gate checks Host). The field bytes are
 * copied into the parser's own header area (p->head, HTTP_HEAD_MAX bytes,
 * HTTP_HDR_MAX fields): views stay valid until http_parser_free.
 *
 * A response head (status, content type, "Name: value\r\n" lines as
 * server_reply takes them) becomes one header block: names lowercased,
 * connection-specific fields (Connection, Keep-Alive, Transfer-Encoding,
 * Upgrade, Proxy-Connection) dropped, nothing entered into the dynamic
 * table. */
#ifndef BROCK_H2MSG_H
#define BROCK_H2MSG_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "wire/hpack.h"
#include "wire/http.h"

/* Results of h2msg_request / h2msg_trailers (negative). */
enum h2msg_error {
	H2MSG_E_MALFORMED = -1,  /* a malformed request: reset the stream (PROTOCOL_ERROR) */
	H2MSG_E_TOO_BIG = -2,    /* over HTTP_HEAD_MAX / HTTP_HDR_MAX: answer 431 */
	H2MSG_E_COMPRESSION = -3 /* HPACK failed: connection error COMPRESSION_ERROR */
};

/* Decodes block[0..n) (always to its end, so the decoder's table stays in
 * step with the peer's) into p, which http_parser_init(p, HTTP_REQUEST)
 * prepared. 0, or an enum h2msg_error. */
int h2msg_request(struct hpack_decoder *d, const uint8_t *block, size_t n,
		  struct http_parser *p);
/* A trailer block: decoded and dropped; malformed when it holds a
 * pseudo-header field. */
int h2msg_trailers(struct hpack_decoder *d, const uint8_t *block, size_t n);

/* Appends the header block of a response: :status, content-type (ctype
 * may be NULL), content-length when content_length >= 0, then the fields
 * of extra (may be NULL; at most 32 fields, names up to 64 bytes; others
 * are dropped). 0, or -1 when out's limit is reached. */
int h2msg_response(struct hpack_encoder *e, struct buf *out, int status, const char *ctype,
		   const char *extra, int64_t content_length);

const char *h2msg_strerror(int code);

#endif
