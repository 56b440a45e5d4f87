/* evstream: the AWS event-stream framing (application/vnd.amazon.eventstream,
 * SPEC 3.2), an incremental push decoder and an encoder.
 *
 * Wire format, all integers big endian:
 *   u32 total_length  u32 headers_length  u32 prelude_crc   (the 12-byte prelude)
 *   headers (headers_length bytes)  payload  u32 message_crc
 * prelude_crc is the CRC-32 of bytes 0..7, message_crc the CRC-32 of every
 * byte before it. A header is u8 name_len (1..255), name, u8 type, value.
 *
 * The decoder takes bytes in any split. A message that lies whole in the
 * caller's buffer is returned as views into that buffer (no copy); one that
 * straddles feeds is gathered in the decoder's own buffer, bounded by the
 * message limit. The prelude CRC is checked before the lengths are trusted,
 * the message CRC and every header before a message is handed out. Errors are
 * sticky: after one, every call returns the same error until evs_reset. */
#ifndef BROCK_EVSTREAM_H
#define BROCK_EVSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct err;

#define EVS_PRELUDE_LEN 12
#define EVS_MIN_MESSAGE 16                    /* prelude + message CRC */
#define EVS_MAX_MESSAGE (24u * 1024u * 1024u) /* total_length limit (SPEC 3.2) */
#define EVS_MAX_VALUE 32767                   /* byte array / string value */
#define EVS_MAX_NAME 255

enum evs_type {
	EVS_BOOL_TRUE = 0,
	EVS_BOOL_FALSE = 1,
	EVS_BYTE = 2,      /* int8 */
	EVS_INT16 = 3,
	EVS_INT32 = 4,
	EVS_INT64 = 5,
	EVS_BYTES = 6,     /* u16 length + bytes */
	EVS_STRING = 7,    /* u16 length + UTF-8 */
	EVS_TIMESTAMP = 8, /* int64 milliseconds since the epoch */
	EVS_UUID = 9       /* 16 bytes */
};

/* Error codes (negative; evs_strerror names them). */
enum evs_error {
	EVS_E_PRELUDE_CRC = -1,      /* prelude checksum mismatch */
	EVS_E_MESSAGE_CRC = -2,      /* message checksum mismatch */
	EVS_E_LENGTH = -3,           /* total_length < 16 or headers_length > total_length - 16 */
	EVS_E_TOO_LARGE = -4,        /* total_length above the limit */
	EVS_E_HEADER_NAME = -5,      /* header name empty (or > 255 when encoding) */
	EVS_E_HEADER_TYPE = -6,      /* header value type not 0..9 */
	EVS_E_HEADER_VALUE = -7,     /* byte array/string longer than 32767, bad uuid size */
	EVS_E_HEADER_TRUNCATED = -8, /* a header runs past the end of the header block */
	EVS_E_NOMEM = -9,            /* out of memory or output buffer limit */
	EVS_E_TRUNCATED = -10        /* input ended inside a message (evs_finish) */
};

/* One header. For bools, ints and timestamps `i` holds the value (bools 1/0,
 * sign-extended ints); `v` views the raw value bytes (string, byte array and
 * uuid contents; the big-endian bytes of the numeric types; empty for bools).
 * When encoding, strings/byte arrays/uuids are taken from v, the rest from i. */
struct evs_header {
	struct slice name;
	int type; /* enum evs_type */
	int64_t i;
	struct slice v;
};

/* A decoded message; every slice views the caller's input or the decoder's
 * buffer and is valid until the next evs_feed/evs_reset/evs_free. */
struct evs_msg {
	uint32_t total_length, headers_length, prelude_crc, message_crc;
	struct slice raw;     /* the whole message, prelude to message CRC */
	struct slice headers; /* the header block (iterate with evs_iter) */
	struct slice payload;
};

struct evs_decoder {
	struct buf acc;  /* a message that straddles feeds, prelude first */
	size_t max;      /* total_length limit */
	size_t total;    /* total_length of the message in acc (0: prelude incomplete) */
	int err;         /* sticky error, 0 while healthy */
	int delivered;   /* acc holds the message handed out by the last call */
};

/* max_message: the total_length limit, 0 for EVS_MAX_MESSAGE; clamped to
 * EVS_MIN_MESSAGE..EVS_MAX_MESSAGE. Allocates nothing until a message straddles. */
void evs_init(struct evs_decoder *d, size_t max_message);
void evs_reset(struct evs_decoder *d); /* forget buffered bytes and errors */
void evs_free(struct evs_decoder *d);

/* Offers n bytes at p. Returns 1 when *out holds a complete, verified message
 * (*consumed bytes of p were used; feed the rest again), 0 when every byte was
 * consumed and more input is needed, or a negative enum evs_error (with
 * *consumed 0; the error is then sticky). Typical use:
 *   while (n) { r = evs_feed(d, p, n, &used, &m); p += used; n -= used;
 *               if (r < 0) fail; if (r == 1) handle(&m); }                  */
int evs_feed(struct evs_decoder *d, const uint8_t *p, size_t n, size_t *consumed,
	     struct evs_msg *out);

/* At end of input: 0 when the stream ended between messages, else
 * EVS_E_TRUNCATED (or the sticky error). */
int evs_finish(struct evs_decoder *d);
size_t evs_buffered(const struct evs_decoder *d); /* bytes of an incomplete message held */

const char *evs_strerror(int code); /* "prelude checksum mismatch", ... */
/* Fills e (ERR_PROTO; ERR_OTHER for EVS_E_NOMEM) with "event stream: <name>"; returns -1. */
int evs_err(struct err *e, int code);

/* Header iteration over a header block (e.g. msg.headers). evs_iter_next
 * returns 1 with *h filled, 0 at the end, or a negative enum evs_error for a
 * malformed block (never for the headers of a message evs_feed returned). */
struct evs_iter {
	struct slice rest;
};
void evs_iter_init(struct evs_iter *it, struct slice headers);
int evs_iter_next(struct evs_iter *it, struct evs_header *h);

/* First header called name: 1 and *h filled, or 0. */
int evs_msg_header(const struct evs_msg *m, const char *name, struct evs_header *h);
/* The value of string (or byte array) header `name`; {NULL, 0} when absent or
 * of another type, so slice_eq_str(evs_msg_str(m, ":message-type"), "event")
 * is a complete test. */
struct slice evs_msg_str(const struct evs_msg *m, const char *name);

/* Header builders for the encoder (views of the arguments, nothing copied). */
struct evs_header evs_hdr_string(const char *name, const char *value);
struct evs_header evs_hdr_bytes(const char *name, int type, const void *p, size_t n);
struct evs_header evs_hdr_int(const char *name, int type, int64_t v);

/* Appends one encoded message to out. Returns 0, or a negative enum evs_error
 * (bad header, too large, EVS_E_NOMEM when out's limit is reached); on error
 * out is left as it was. */
int evs_encode(struct buf *out, const struct evs_header *h, size_t nh, const void *payload,
	       size_t n);

#endif
