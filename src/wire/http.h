/* http: HTTP/1.1 message writer and incremental parser. No I/O.
 *
 * The parser is push-style: hand it whatever bytes arrived (any split), it
 * returns one event per call and says how many input bytes it used. Keep
 * calling with the unused rest until it returns HTTP_EV_NEED (all input
 * used, feed more), HTTP_EV_DONE (message complete; unused bytes belong to
 * the next message) or an error (< 0, sticky).
 *
 *     size_t off = 0, used;
 *     struct slice body;
 *     for (;;) {
 *         int ev = http_parse(&p, in + off, n - off, &used, &body, &e);
 *         off += used;
 *         if (ev < 0) fail;               // e filled: ERR_PROTO, or ERR_NET for truncation
 *         if (ev == HTTP_EV_HEAD) ...     // p.status / p.hdr[] / http_header()
 *         if (ev == HTTP_EV_BODY) ...     // body: view into in[], bytes as they arrive
 *         if (ev == HTTP_EV_DONE) break;  // in[off..n) is the next message
 *         if (ev == HTTP_EV_NEED) read more, reset off;
 *     }
 *     at EOF: http_parse_eof(&p, &e)      // ends a close-delimited body
 *
 * Events of one message: HEAD once, BODY zero or more times (never empty),
 * DONE once. NOTE: loop on the EVENT, not on "bytes left": a message
 * without a body (CONNECT 2xx, 204, HEAD, Content-Length: 0) usually has
 * every byte used at HEAD, and reports DONE only on the next call (which
 * may pass n == 0). A `while (off < n)` loop misses it and then waits for
 * input that never comes. Interim 1xx responses (100, 102, 103) are consumed silently.
 * The header section is copied into a per-parser area (limit
 * HTTP_HEAD_MAX bytes, HTTP_HDR_MAX headers), so header views stay valid
 * until http_parser_reset/free whatever the caller does with its input.
 * Body views point into the caller's input and are valid as long as it is. */
#ifndef BROCK_HTTP_H
#define BROCK_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define HTTP_HEAD_MAX (64 * 1024) /* bytes of one header section (start line..empty line) */
#define HTTP_HDR_MAX 100          /* header fields in one message */
#define HTTP_TRAILER_MAX (64 * 1024) /* bytes of a chunked trailer section (discarded) */
#define HTTP_CHUNK_EXT_MAX 4096      /* bytes of one chunk-size line after the size */

/* Events (>= 0) returned by http_parse / http_parse_eof. */
enum http_event {
	HTTP_EV_NEED = 0, /* every input byte used; feed more (or call http_parse_eof) */
	HTTP_EV_HEAD = 1, /* start line and headers parsed */
	HTTP_EV_BODY = 2, /* *body holds the next body bytes */
	HTTP_EV_DONE = 3  /* message complete */
};

/* Errors (< 0). Each has its own message; http_strerror names them. */
enum http_error {
	HTTP_E_TRUNCATED = -1,   /* EOF inside a message (err class ERR_NET) */
	HTTP_E_STATUS_LINE = -2, /* malformed status line */
	HTTP_E_REQUEST_LINE = -3,
	HTTP_E_VERSION = -4,     /* unsupported HTTP version */
	HTTP_E_STATUS_CODE = -5,
	HTTP_E_HEAD_TOO_BIG = -6,  /* header section exceeds 64 KiB */
	HTTP_E_TOO_MANY_HDRS = -7, /* more than 100 header fields */
	HTTP_E_HEADER = -8,        /* malformed header line (no colon, empty name, ...) */
	HTTP_E_HEADER_WS = -9,     /* whitespace between header name and colon */
	HTTP_E_HEADER_CHAR = -10,  /* invalid character (NUL, bare CR, control) in header */
	HTTP_E_FOLD = -11,         /* obs-fold continuation with no header before it */
	HTTP_E_CONTENT_LENGTH = -12, /* not digits, negative, overflow */
	HTTP_E_CL_CONFLICT = -13,    /* differing Content-Length values */
	HTTP_E_TE = -14,             /* bad Transfer-Encoding (chunked not last, twice, ...) */
	HTTP_E_TE_CL = -15,          /* request with both Transfer-Encoding and Content-Length */
	HTTP_E_CHUNK_SIZE = -16,     /* malformed chunk size */
	HTTP_E_CHUNK_TOO_BIG = -17,  /* chunk size too large */
	HTTP_E_CHUNK_EXT = -18,      /* chunk extension too long / invalid byte in it */
	HTTP_E_CHUNK_CRLF = -19,     /* missing CRLF after chunk data */
	HTTP_E_TRAILER = -20,        /* malformed or oversized trailer section */
	HTTP_E_BODY_TOO_BIG = -21,   /* request body above the caller's limit */
	HTTP_E_UPGRADE = -22,        /* unexpected 101 Switching Protocols */
	HTTP_E_NOMEM = -23,
	HTTP_E_STATE = -24           /* API misuse (e.g. parse after an error was ignored) */
};

enum http_kind { HTTP_RESPONSE = 0, HTTP_REQUEST = 1 };

/* How the body of the current message is delimited (valid after HEAD). */
enum http_framing {
	HTTP_BODY_NONE = 0,    /* HEAD response, 1xx, 204, 304, CONNECT 2xx, request without length */
	HTTP_BODY_LENGTH = 1,  /* Content-Length */
	HTTP_BODY_CHUNKED = 2, /* Transfer-Encoding: chunked */
	HTTP_BODY_CLOSE = 3    /* response read until EOF */
};

/* http_parser_expect flags: what request the response answers. */
#define HTTP_EXPECT_HEAD 1u    /* response to HEAD: never a body */
#define HTTP_EXPECT_CONNECT 2u /* response to CONNECT: a 2xx ends at the headers (tunnel) */

struct http_header {
	struct slice name;  /* as received (compare with slice_eq_nocase) */
	struct slice value; /* OWS trimmed; obs-folds joined with one space */
};

struct http_parser {
	/* Results, valid from HTTP_EV_HEAD until reset. */
	int kind;             /* enum http_kind */
	int version;          /* 10 or 11 */
	int status;           /* response: 100..999 */
	struct slice reason;  /* response: reason phrase (may be empty) */
	struct slice method;  /* request */
	struct slice target;  /* request: request-target as sent */
	struct http_header hdr[HTTP_HDR_MAX];
	size_t nhdr;
	int framing;             /* enum http_framing */
	uint64_t content_length; /* HTTP_BODY_LENGTH only */
	uint64_t body_seen;      /* body bytes delivered so far */
	int keep_alive;          /* valid at DONE: connection may carry another message */

	/* Internal state. */
	int state;
	int err;       /* sticky error code, 0 if none */
	unsigned expect;
	uint64_t max_body; /* request: limit on body bytes */
	struct buf head;   /* copy of the header section */
	size_t line_start; /* offset in head of the line being collected */
	uint64_t remain;   /* bytes left in the current chunk / body */
	size_t ndigits;    /* chunk-size hex digits seen */
	size_t aux;        /* chunk-ext / trailer byte counter */
	size_t trailer_line; /* bytes in the current trailer line */
	int conn_close;    /* "close" token in Connection */
	int te_cl;         /* response had both TE and CL: never keep alive */
	int started;       /* a byte of this message (or an interim 1xx) arrived */
};

/* kind: HTTP_RESPONSE or HTTP_REQUEST. Request bodies default to a 1 MiB
 * limit (http_parser_max_body changes it). Never fails; memory is taken
 * lazily. Call http_parser_free when done. */
void http_parser_init(struct http_parser *p, int kind);
void http_parser_free(struct http_parser *p);
/* Ready for the next message on the same connection (keeps kind, limit and
 * memory; clears the expect flags and all results). */
void http_parser_reset(struct http_parser *p);
/* HTTP_EXPECT_* flags for the next response; call before feeding it. */
void http_parser_expect(struct http_parser *p, unsigned flags);
/* Request mode: largest accepted body (Content-Length or chunked total). */
void http_parser_max_body(struct http_parser *p, uint64_t max);

/* Consumes a prefix of in[0..n); *used says how much. Returns an
 * enum http_event or, on error, an enum http_error with e filled. On
 * HTTP_EV_BODY *body is a view into in (otherwise it is empty). n may be 0. */
int http_parse(struct http_parser *p, const uint8_t *in, size_t n, size_t *used,
	       struct slice *body, struct err *e);
/* The peer closed the connection. Returns HTTP_EV_DONE when that completes
 * a close-delimited body, HTTP_EV_NEED when no byte of a message had been
 * received (a clean close between messages), HTTP_EV_DONE again when the
 * message was already complete, else HTTP_E_TRUNCATED ("connection closed
 * early ...", class ERR_NET). */
int http_parse_eof(struct http_parser *p, struct err *e);

const char *http_strerror(int code);

/* Header lookup, ASCII case-insensitive. http_header returns 1 and the
 * FIRST value when present, else 0 (and an empty *val). */
int http_header(const struct http_parser *p, const char *name, struct slice *val);
/* Appends every value of name joined with ", " (list headers); returns the
 * number of fields found, or -1 when out exceeds its limit. */
int http_header_join(const struct http_parser *p, const char *name, struct buf *out);
/* 1 when the comma-separated list header name contains token (case-insensitive). */
int http_header_has_token(const struct http_parser *p, const char *name, const char *token);

/* ---- Writer. All append to out; return 0, or -1 with e filled (ERR_OTHER
 * when out is full, ERR_USAGE for a bad name/value: CR, LF, NUL and other
 * control bytes are refused, so no header injection is possible). */
int http_write_request_line(struct buf *out, const char *method, const char *target,
			    struct err *e);
int http_write_status_line(struct buf *out, int status, const char *reason, struct err *e);
/* RFC 9110 tchar: a byte a header name, method or token may hold. */
int http_is_tchar(uint8_t c);

int http_write_header(struct buf *out, const char *name, const char *value, struct err *e);
int http_write_header_slice(struct buf *out, const char *name, struct slice value,
			    struct err *e);
/* Ends the header section. content_length >= 0 adds "Content-Length: N"
 * first; pass -1 to add none (bodyless GET, or chunked written by caller). */
int http_write_end(struct buf *out, int64_t content_length, struct err *e);
/* Chunked body pieces (serve mode streaming). n == 0 writes nothing; end
 * writes the last chunk and an empty trailer section. */
int http_write_chunk(struct buf *out, const void *data, size_t n, struct err *e);
int http_write_chunk_end(struct buf *out, struct err *e);

#endif
