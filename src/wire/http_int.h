/* http_int: what the files of the HTTP/1.1 module share (private: only
 * src/wire/http*.c include it; http.h is the interface).
 *
 *   http.c          lifecycle, header lookups, the header section, the driver
 *   http_chunked.c  the chunked framing state machine
 *   http_write.c    the writer (http_write_*) */
#ifndef BROCK_HTTP_INT_H
#define BROCK_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "wire/http.h"

/* The parser's state (p->state). */
enum {
	ST_HEAD = 0,      /* collecting the header section */
	ST_BODY_LEN,      /* remain bytes of body left (also: no body, remain 0) */
	ST_BODY_CLOSE,    /* body until EOF */
	ST_CHUNK_SIZE,    /* hex digits of a chunk size */
	ST_CHUNK_SIZE_WS, /* whitespace after the size, before ';' or CRLF */
	ST_CHUNK_EXT,     /* chunk extension, ignored up to the line end */
	ST_CHUNK_SIZE_LF, /* CR seen after the size line, LF must follow */
	ST_CHUNK_DATA,    /* remain bytes of chunk data */
	ST_CHUNK_DATA_CR, /* CRLF after chunk data */
	ST_CHUNK_DATA_LF,
	ST_TRAILER,    /* trailer lines, discarded */
	ST_TRAILER_LF, /* CR seen in a trailer line, LF must follow */
	ST_DONE,
	ST_ERROR
};

#define CHUNK_DIGITS_MAX 16
#define CHUNK_SIZE_MAX ((uint64_t)INT64_MAX)

/* The error class of a parser error code, for the first report and every
 * sticky repeat alike. */
static inline int err_class(int code)
{
	if (code == HTTP_E_TRUNCATED)
		return ERR_NET;
	return code == HTTP_E_NOMEM ? ERR_OTHER : ERR_PROTO;
}

/* Records a sticky error, fills e and yields the code. */
#define FAIL(code, ...)                                                          \
	(p->err = (code), p->state = ST_ERROR, err_set(e, err_class(code), __VA_ARGS__), (code))

/* ---- character classes ---- */

static inline int is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Field values and reason phrases: HTAB, visible ASCII, obs-text. */
static inline int is_field_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* ---- chunked framing (http_chunked.c) ---- */

/* Consumes framing bytes (sizes, CRLFs, trailers) one at a time; returns
 * with the state at ST_CHUNK_DATA, ST_DONE, or all input used. */
int http_feed_chunk_framing(struct http_parser *p, const uint8_t *in, size_t n, size_t *k,
			    struct err *e);

#endif
