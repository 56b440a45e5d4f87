/* h2: HTTP/2 framing (RFC 9113): an incremental frame parser, frame writers,
 * SETTINGS and flow-control arithmetic, and the client preface. No I/O.
 *
 * The parser is push-style like evstream: hand it bytes as they arrive (any
 * split); each call returns one frame, or 0 when it used every byte and needs
 * more. A frame that lies whole in the caller's input is handed out as views
 * into it; one that straddles feeds is gathered in the parser's buffer
 * (bounded by our SETTINGS_MAX_FRAME_SIZE). HEADERS followed by CONTINUATION
 * frames are joined into one header block (bounded by max_block) and handed
 * out once, as a HEADERS frame with END_HEADERS set; CONTINUATION frames are
 * never seen by the caller. Unknown frame types are skipped.
 *
 *     while (n) {
 *         r = h2_feed(&p, in, n, &used, &f);
 *         in += used; n -= used;
 *         if (r == 1) handle(&f);                     // views valid until the next feed
 *         else if (h2_is_stream_error(r)) send RST_STREAM(f.stream, h2_error_code(r));
 *         else if (r < 0) send GOAWAY(h2_error_code(r)), close;  // sticky
 *     }
 *
 * The parser checks each frame on its own (lengths, stream 0 or not,
 * padding, SETTINGS values, CONTINUATION order); stream states, stream id
 * parity and flow-control windows are the connection's business (the
 * h2_window_* helpers do the arithmetic). PUSH_PROMISE is always refused: a
 * client never enables push, a server never receives it. */
#ifndef BROCK_H2_H
#define BROCK_H2_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct err;

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define H2_FRAME_HEADER_LEN 9
#define H2_DEFAULT_FRAME_SIZE 16384u   /* SETTINGS_MAX_FRAME_SIZE initial value and minimum */
#define H2_MAX_FRAME_SIZE 16777215u    /* its maximum, 2^24 - 1 */
#define H2_DEFAULT_WINDOW 65535        /* initial flow-control window */
#define H2_MAX_WINDOW 2147483647       /* 2^31 - 1 */
#define H2_DEFAULT_BLOCK_MAX (64u * 1024u) /* header block bound when 0 is given */

enum h2_type {
	H2_DATA = 0,
	H2_HEADERS = 1,
	H2_PRIORITY = 2,
	H2_RST_STREAM = 3,
	H2_SETTINGS = 4,
	H2_PUSH_PROMISE = 5,
	H2_PING = 6,
	H2_GOAWAY = 7,
	H2_WINDOW_UPDATE = 8,
	H2_CONTINUATION = 9
};

#define H2_FLAG_END_STREAM 0x01u /* DATA, HEADERS */
#define H2_FLAG_ACK 0x01u        /* SETTINGS, PING */
#define H2_FLAG_END_HEADERS 0x04u
#define H2_FLAG_PADDED 0x08u
#define H2_FLAG_PRIORITY 0x20u

/* Error codes on the wire (RFC 9113 section 7). */
enum h2_code {
	H2_NO_ERROR = 0x0,
	H2_PROTOCOL_ERROR = 0x1,
	H2_INTERNAL_ERROR = 0x2,
	H2_FLOW_CONTROL_ERROR = 0x3,
	H2_SETTINGS_TIMEOUT = 0x4,
	H2_STREAM_CLOSED = 0x5,
	H2_FRAME_SIZE_ERROR = 0x6,
	H2_REFUSED_STREAM = 0x7,
	H2_CANCEL = 0x8,
	H2_COMPRESSION_ERROR = 0x9,
	H2_CONNECT_ERROR = 0xa,
	H2_ENHANCE_YOUR_CALM = 0xb,
	H2_INADEQUATE_SECURITY = 0xc,
	H2_HTTP_1_1_REQUIRED = 0xd
};

enum h2_setting_id {
	H2_SETTINGS_HEADER_TABLE_SIZE = 0x1,
	H2_SETTINGS_ENABLE_PUSH = 0x2,
	H2_SETTINGS_MAX_CONCURRENT_STREAMS = 0x3,
	H2_SETTINGS_INITIAL_WINDOW_SIZE = 0x4,
	H2_SETTINGS_MAX_FRAME_SIZE = 0x5,
	H2_SETTINGS_MAX_HEADER_LIST_SIZE = 0x6
};

/* Errors (negative; h2_strerror names them, h2_error_code gives the code to
 * send). Connection errors are sticky. Stream errors (h2_is_stream_error)
 * are not: the frame was consumed, f->stream names the stream to reset, and
 * the parser goes on. */
enum h2_error {
	H2_E_PREFACE = -1,        /* server: the client preface does not match */
	H2_E_FIRST_SETTINGS = -2, /* the peer's first frame is not SETTINGS */
	H2_E_FRAME_SIZE = -3,     /* length above our SETTINGS_MAX_FRAME_SIZE */
	H2_E_LENGTH = -4,         /* wrong length for the type (PING, SETTINGS, ...) */
	H2_E_STREAM_ID = -5,      /* stream 0 where a stream is needed, or the reverse */
	H2_E_PADDING = -6,        /* padding as long as the payload or longer */
	H2_E_SETTINGS_VALUE = -7, /* ENABLE_PUSH not 0/1 (1 from a server), MAX_FRAME_SIZE range */
	H2_E_SETTINGS_WINDOW = -8, /* INITIAL_WINDOW_SIZE above 2^31 - 1 (FLOW_CONTROL_ERROR) */
	H2_E_PUSH = -9,           /* PUSH_PROMISE received */
	H2_E_CONTINUATION = -10,  /* CONTINUATION out of place, or another frame inside a block */
	H2_E_BLOCK_TOO_BIG = -11, /* header block above max_block (ENHANCE_YOUR_CALM) */
	H2_E_WINDOW_ZERO = -12,   /* WINDOW_UPDATE of 0 on the connection */
	H2_E_DEPENDENCY = -13,    /* HEADERS depends on its own stream */
	H2_E_TRUNCATED = -14,     /* input ended inside a frame or block (h2_finish) */
	H2_E_NOMEM = -15,         /* out of memory, or a writer's output limit */
	H2_E_ARG = -16,           /* writer misuse: bad stream id, increment, size */
	H2_E_FLOW = -17,          /* a window above 2^31 - 1 or overdrawn (FLOW_CONTROL_ERROR) */
	/* stream errors */
	H2_E_STREAM_WINDOW_ZERO = -32, /* WINDOW_UPDATE of 0 on a stream (PROTOCOL_ERROR) */
	H2_E_STREAM_PRIORITY = -33,    /* PRIORITY of the wrong length (FRAME_SIZE_ERROR) */
	H2_E_STREAM_DEPENDENCY = -34   /* PRIORITY depends on its own stream (PROTOCOL_ERROR) */
};

enum h2_role { H2_CLIENT = 0, H2_SERVER = 1 };

/* One frame. Views are valid until the next h2_feed / h2_parser_free. */
struct h2_frame {
	uint32_t length; /* payload length on the wire (DATA: what flow control counts) */
	uint8_t type;    /* enum h2_type */
	uint8_t flags;
	uint32_t stream;
	/* DATA: the data, padding removed. HEADERS: the whole header block, padding
	 * and priority removed. SETTINGS: the parameters (h2_settings_next).
	 * PING: the 8 opaque bytes. GOAWAY: the debug data. Otherwise empty. */
	struct slice payload;
	uint32_t dependency; /* HEADERS with H2_FLAG_PRIORITY, PRIORITY */
	uint8_t weight;      /* as sent (0..255 means 1..256) */
	uint8_t exclusive;
	uint32_t error_code; /* RST_STREAM, GOAWAY */
	uint32_t last_stream; /* GOAWAY */
	uint32_t increment;   /* WINDOW_UPDATE */
};

struct h2_parser {
	int role;           /* enum h2_role */
	uint32_t max_frame; /* our SETTINGS_MAX_FRAME_SIZE */
	struct buf frame;   /* a frame that straddles feeds, header first */
	struct buf block;   /* a header block being assembled */
	struct h2_frame head; /* the HEADERS frame that opened it */
	size_t preface;     /* server: bytes of the client preface seen */
	int in_block;
	int settled;        /* the peer's first SETTINGS has been seen */
	int err;            /* sticky connection error, 0 while healthy */
	int delivered;      /* frame / block buffers hold what the last call returned */
};

/* role: which end we are (a server first expects the client preface).
 * max_block: the header block bound, 0 for H2_DEFAULT_BLOCK_MAX. Frames are
 * checked against H2_DEFAULT_FRAME_SIZE until h2_parser_set_max_frame. */
void h2_parser_init(struct h2_parser *p, int role, size_t max_block);
/* The SETTINGS_MAX_FRAME_SIZE we advertise (16384..2^24-1); set it when
 * sending SETTINGS (raising is safe at once). Returns 0 or H2_E_ARG. */
int h2_parser_set_max_frame(struct h2_parser *p, uint32_t max);
void h2_parser_free(struct h2_parser *p);

/* Offers n bytes at in. Returns 1 with *f filled (*consumed bytes used; feed
 * the rest again), 0 when every byte was used and more are needed, or a
 * negative enum h2_error (a connection error: *consumed 0, sticky; a stream
 * error: the frame's bytes consumed, f->type and f->stream filled). */
int h2_feed(struct h2_parser *p, const uint8_t *in, size_t n, size_t *consumed,
	    struct h2_frame *f);
/* At end of input: 0 between frames, else H2_E_TRUNCATED (or the sticky error). */
int h2_finish(const struct h2_parser *p);

/* The client preface at the start of a connection: 1 when p[0..n) starts
 * with all of it, 0 when p is a (possibly empty) prefix of it, -1 when not. */
int h2_preface_check(const uint8_t *p, size_t n);

/* SETTINGS. h2_settings_next walks a SETTINGS payload: 1 with *id and
 * *value, 0 at the end. */
int h2_settings_next(struct slice *rest, uint16_t *id, uint32_t *value);

struct h2_settings {
	uint32_t header_table_size;      /* 4096 */
	uint32_t enable_push;            /* 1 */
	uint32_t max_concurrent_streams; /* UINT32_MAX: unlimited */
	uint32_t initial_window_size;    /* 65535 */
	uint32_t max_frame_size;         /* 16384 */
	uint32_t max_header_list_size;   /* UINT32_MAX: unlimited */
};
void h2_settings_init(struct h2_settings *s); /* the RFC's initial values */
/* Applies a SETTINGS frame that h2_feed returned (values already checked;
 * unknown ids ignored). An ACK changes nothing. */
void h2_settings_apply(struct h2_settings *s, const struct h2_frame *f);

/* Flow control. Windows are signed: a smaller INITIAL_WINDOW_SIZE can leave a
 * stream's window negative (RFC 9113 section 6.9.2). Each returns 0 or
 * H2_E_FLOW and leaves *w alone on error. */
int h2_window_consume(int32_t *w, uint32_t n);   /* DATA of n bytes; error when n > *w */
int h2_window_increase(int32_t *w, uint32_t inc); /* WINDOW_UPDATE; error above 2^31 - 1 */
/* SETTINGS_INITIAL_WINDOW_SIZE went from old_initial to new_initial. */
int h2_window_adjust(int32_t *w, uint32_t old_initial, uint32_t new_initial);

/* Writers: each appends to out and returns 0, H2_E_NOMEM at out's limit, or
 * H2_E_ARG; on error out is left as it was. */
struct h2_setting {
	uint16_t id;
	uint32_t value;
};
int h2_write_preface(struct buf *out); /* the 24-byte client preface only */
int h2_write_frame_header(struct buf *out, uint32_t length, uint8_t type, uint8_t flags,
			  uint32_t stream);
int h2_write_settings(struct buf *out, const struct h2_setting *s, size_t n);
int h2_write_settings_ack(struct buf *out);
/* A header block as HEADERS plus as many CONTINUATIONs as max_frame needs. */
int h2_write_headers(struct buf *out, uint32_t stream, int end_stream, const uint8_t *block,
		     size_t n, uint32_t max_frame);
/* n bytes as DATA frames of at most max_frame bytes (one empty frame when n
 * is 0); END_STREAM on the last when end_stream. */
int h2_write_data(struct buf *out, uint32_t stream, int end_stream, const uint8_t *p, size_t n,
		  uint32_t max_frame);
int h2_write_window_update(struct buf *out, uint32_t stream, uint32_t increment);
int h2_write_rst_stream(struct buf *out, uint32_t stream, uint32_t code);
int h2_write_ping(struct buf *out, int ack, const uint8_t opaque[8]);
int h2_write_goaway(struct buf *out, uint32_t last_stream, uint32_t code, const uint8_t *debug,
		    size_t n);

int h2_is_stream_error(int err);
uint32_t h2_error_code(int err); /* the enum h2_code to send for a parser error */
const char *h2_strerror(int err);
/* Fills e (ERR_PROTO; ERR_OTHER for H2_E_NOMEM, ERR_NET for H2_E_TRUNCATED)
 * with "http2: <name>"; returns -1. */
int h2_err(struct err *e, int err);

#endif
