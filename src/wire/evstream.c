/* evstream: event-stream decoder and encoder (see evstream.h). */
#include "wire/evstream.h"

#include <string.h>

#include "wire/crc32.h"
#include "base/err.h"

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

/* Two's complement of an n-byte big-endian value, without implementation-
 * defined conversions. */
static int64_t sign_extend(uint64_t v, size_t n)
{
	uint64_t sign = (uint64_t)1 << (n * 8 - 1);

	if (!(v & sign))
		return (int64_t)v;
	v = (n == 8 ? 0 : ((uint64_t)1 << (n * 8))) - v; /* magnitude, mod 2^(8n) */
	if (v == sign && n == 8)
		return INT64_MIN;
	return -(int64_t)v;
}

/* Bytes of a fixed-size value, -1 for the length-prefixed types and -2 for an
 * unknown type. */
static int fixed_size(int type)
{
	static const signed char size[10] = {0, 0, 1, 2, 4, 8, -1, -1, 8, 16};

	return type >= 0 && type <= 9 ? size[type] : -2;
}

/* ---------------------------------------------------------------- headers */

void evs_iter_init(struct evs_iter *it, struct slice headers)
{
	it->rest = headers;
}

/* Every read is checked against what is left of the header block: a header
 * running past it is EVS_E_HEADER_TRUNCATED; the iterator only advances over
 * a whole, valid header. */
int evs_iter_next(struct evs_iter *it, struct evs_header *h)
{
	struct slice r = it->rest;
	uint8_t k, type;
	uint16_t vlen;
	uint64_t v;
	int size;

	if (slice_u8(&r, &k))
		return 0; /* no more headers */
	if (k == 0)
		return EVS_E_HEADER_NAME;
	if (slice_take(&r, k, &h->name) || slice_u8(&r, &type))
		return EVS_E_HEADER_TRUNCATED;
	h->type = type;
	size = fixed_size(type);
	if (size == -2)
		return EVS_E_HEADER_TYPE;
	if (size == -1) {
		if (slice_u16be(&r, &vlen))
			return EVS_E_HEADER_TRUNCATED;
		if (vlen > EVS_MAX_VALUE)
			return EVS_E_HEADER_VALUE;
	} else {
		vlen = (uint16_t)size;
	}
	if (slice_take(&r, vlen, &h->v))
		return EVS_E_HEADER_TRUNCATED;
	h->i = 0;
	if (type == EVS_BOOL_TRUE || type == EVS_BOOL_FALSE) {
		h->i = type == EVS_BOOL_TRUE;
	} else if (size > 0 && size <= 8) {
		struct slice iv = h->v;

		if (slice_uint_be(&iv, vlen, &v) == 0)
			h->i = sign_extend(v, vlen);
	}
	it->rest = r;
	return 1;
}

int evs_msg_header(const struct evs_msg *m, const char *name, struct evs_header *h)
{
	struct evs_iter it;

	evs_iter_init(&it, m->headers);
	while (evs_iter_next(&it, h) == 1)
		if (slice_eq_str(h->name, name))
			return 1;
	return 0;
}

struct slice evs_msg_str(const struct evs_msg *m, const char *name)
{
	struct evs_header h;
	struct slice none = {NULL, 0};

	if (!evs_msg_header(m, name, &h) || (h.type != EVS_STRING && h.type != EVS_BYTES))
		return none;
	return h.v;
}

/* ---------------------------------------------------------------- decoder */

void evs_init(struct evs_decoder *d, size_t max_message)
{
	if (max_message == 0 || max_message > EVS_MAX_MESSAGE)
		max_message = EVS_MAX_MESSAGE;
	if (max_message < EVS_MIN_MESSAGE)
		max_message = EVS_MIN_MESSAGE;
	buf_init(&d->acc, max_message);
	d->max = max_message;
	d->total = 0;
	d->err = 0;
	d->delivered = 0;
}

void evs_reset(struct evs_decoder *d)
{
	buf_consume(&d->acc, d->acc.len);
	d->total = 0;
	d->err = 0;
	d->delivered = 0;
}

void evs_free(struct evs_decoder *d)
{
	buf_free(&d->acc);
	evs_init(d, d->max);
}

static int fail(struct evs_decoder *d, int code)
{
	d->err = code;
	return code;
}

/* The prelude of a message: total length, header block length, prelude CRC. */
struct prelude {
	uint32_t total, headers, crc;
};

/* Reads and validates the prelude at p[0..EVS_PRELUDE_LEN); on success *crc
 * is the running CRC of bytes 0..7 (the message CRC continues from it). */
static int check_prelude(const struct evs_decoder *d, const uint8_t *p, struct prelude *pre,
			 uint32_t *crc)
{
	struct slice s = {p, EVS_PRELUDE_LEN};

	if (slice_u32be(&s, &pre->total) || slice_u32be(&s, &pre->headers) ||
	    slice_u32be(&s, &pre->crc))
		return EVS_E_LENGTH;
	*crc = crc32_update(0, p, 8);
	if (*crc != pre->crc)
		return EVS_E_PRELUDE_CRC;
	if (pre->total < EVS_MIN_MESSAGE)
		return EVS_E_LENGTH;
	if (pre->total > d->max)
		return EVS_E_TOO_LARGE;
	if (pre->headers > pre->total - EVS_MIN_MESSAGE)
		return EVS_E_LENGTH;
	return 0;
}

/* m holds a whole message whose prelude passed check_prelude: after the
 * prelude come the header block, the payload and the message CRC. */
static int finish_message(const uint8_t *m, const struct prelude *pre, uint32_t crc,
			  struct evs_msg *out)
{
	struct slice s = {m + EVS_PRELUDE_LEN, pre->total - EVS_PRELUDE_LEN};
	struct evs_iter it;
	struct evs_header h;
	int r;

	out->total_length = pre->total;
	out->headers_length = pre->headers;
	out->prelude_crc = pre->crc;
	if (slice_take(&s, pre->headers, &out->headers) || s.n < 4 ||
	    slice_take(&s, s.n - 4, &out->payload) || slice_u32be(&s, &out->message_crc))
		return EVS_E_LENGTH;
	if (crc32_update(crc, m + 8, pre->total - 12) != out->message_crc)
		return EVS_E_MESSAGE_CRC;
	out->raw.p = m;
	out->raw.n = pre->total;
	/* validate every header now so that consumers can iterate without checks */
	evs_iter_init(&it, out->headers);
	while ((r = evs_iter_next(&it, &h)) == 1)
		;
	return r;
}

/* Gathers a message that does not lie whole in one feed into d->acc. */
static int accumulate(struct evs_decoder *d, const uint8_t *p, size_t n, size_t *consumed,
		      struct evs_msg *out)
{
	size_t used = 0, take;
	struct prelude pre;
	uint32_t crc;
	int r;

	if (d->acc.len < EVS_PRELUDE_LEN) {
		take = EVS_PRELUDE_LEN - d->acc.len;
		take = take < n ? take : n;
		if (buf_append(&d->acc, p, take))
			return fail(d, EVS_E_NOMEM);
		used = take;
		*consumed = used;
		if (d->acc.len < EVS_PRELUDE_LEN)
			return 0;
	}
	r = check_prelude(d, d->acc.p, &pre, &crc);
	if (r < 0)
		return fail(d, r);
	d->total = pre.total;
	take = d->total - d->acc.len;
	take = take < n - used ? take : n - used;
	if (buf_append(&d->acc, p + used, take))
		return fail(d, EVS_E_NOMEM);
	*consumed = used + take;
	if (d->acc.len < d->total)
		return 0;
	r = finish_message(d->acc.p, &pre, crc, out);
	if (r < 0)
		return fail(d, r);
	d->delivered = 1;
	return 1;
}

int evs_feed(struct evs_decoder *d, const uint8_t *p, size_t n, size_t *consumed,
	     struct evs_msg *out)
{
	struct prelude pre;
	uint32_t crc;
	int r;

	*consumed = 0;
	if (d->err)
		return d->err;
	if (d->delivered) {
		/* the views handed out last time are no longer needed */
		buf_consume(&d->acc, d->acc.len);
		d->total = 0;
		d->delivered = 0;
	}
	if (n == 0)
		return 0;
	if (d->acc.len == 0 && n >= EVS_PRELUDE_LEN) {
		/* zero-copy path: the message may lie whole in the caller's bytes */
		r = check_prelude(d, p, &pre, &crc);
		if (r < 0)
			return fail(d, r);
		if (n >= pre.total) {
			r = finish_message(p, &pre, crc, out);
			if (r < 0)
				return fail(d, r);
			*consumed = pre.total;
			return 1;
		}
	}
	r = accumulate(d, p, n, consumed, out);
	if (r < 0)
		*consumed = 0;
	return r;
}

int evs_finish(struct evs_decoder *d)
{
	if (d->err)
		return d->err;
	if (d->acc.len && !d->delivered)
		return fail(d, EVS_E_TRUNCATED);
	return 0;
}

size_t evs_buffered(const struct evs_decoder *d)
{
	return d->delivered ? 0 : d->acc.len;
}

const char *evs_strerror(int code)
{
	switch (code) {
	case 0: return "ok";
	case EVS_E_PRELUDE_CRC: return "prelude checksum mismatch";
	case EVS_E_MESSAGE_CRC: return "message checksum mismatch";
	case EVS_E_LENGTH: return "bad message or header length";
	case EVS_E_TOO_LARGE: return "message too large";
	case EVS_E_HEADER_NAME: return "bad header name length";
	case EVS_E_HEADER_TYPE: return "unknown header value type";
	case EVS_E_HEADER_VALUE: return "bad header value length";
	case EVS_E_HEADER_TRUNCATED: return "header runs past the header block";
	case EVS_E_NOMEM: return "out of memory";
	case EVS_E_TRUNCATED: return "stream ended inside a message";
	}
	return "unknown event stream error";
}

int evs_err(struct err *e, int code)
{
	return err_set(e, code == EVS_E_NOMEM ? ERR_OTHER : ERR_PROTO, "event stream: %s",
		       evs_strerror(code));
}

/* ---------------------------------------------------------------- encoder */

struct evs_header evs_hdr_string(const char *name, const char *value)
{
	return evs_hdr_bytes(name, EVS_STRING, value, strlen(value));
}

struct evs_header evs_hdr_bytes(const char *name, int type, const void *p, size_t n)
{
	struct evs_header h = {slice_str(name), type, 0, {p, n}};

	return h;
}

struct evs_header evs_hdr_int(const char *name, int type, int64_t v)
{
	struct evs_header h = {slice_str(name), type, v, {NULL, 0}};

	return h;
}

/* Encoded size of one header, or a negative enum evs_error. */
static long header_size(const struct evs_header *h)
{
	int size = fixed_size(h->type);

	if (h->name.n == 0 || h->name.n > EVS_MAX_NAME)
		return EVS_E_HEADER_NAME;
	if (size == -2)
		return EVS_E_HEADER_TYPE;
	if (size == -1 && h->v.n > EVS_MAX_VALUE)
		return EVS_E_HEADER_VALUE;
	if (h->type == EVS_UUID && h->v.n != 16)
		return EVS_E_HEADER_VALUE;
	return (long)(2 + h->name.n + (size == -1 ? 2 + h->v.n : (size_t)size));
}

static uint8_t *put_header(uint8_t *w, const struct evs_header *h)
{
	int size = fixed_size(h->type);

	*w++ = (uint8_t)h->name.n;
	memcpy(w, h->name.p, h->name.n);
	w += h->name.n;
	*w++ = (uint8_t)h->type;
	if (size == -1 || h->type == EVS_UUID) {
		if (size == -1) {
			put_be(w, h->v.n, 2);
			w += 2;
		}
		if (h->v.n)
			memcpy(w, h->v.p, h->v.n);
		return w + h->v.n;
	}
	put_be(w, (uint64_t)h->i, (size_t)size);
	return w + size;
}

int evs_encode(struct buf *out, const struct evs_header *h, size_t nh, const void *payload,
	       size_t n)
{
	size_t hl = 0, total;
	uint8_t *m, *w;
	uint32_t crc;

	for (size_t i = 0; i < nh; i++) {
		long s = header_size(&h[i]);
		if (s < 0)
			return (int)s;
		hl += (size_t)s;
		if (hl > EVS_MAX_MESSAGE - EVS_MIN_MESSAGE)
			return EVS_E_TOO_LARGE;
	}
	if (n > EVS_MAX_MESSAGE - EVS_MIN_MESSAGE - hl)
		return EVS_E_TOO_LARGE;
	total = EVS_MIN_MESSAGE + hl + n;
	if (buf_reserve(out, total))
		return EVS_E_NOMEM;
	m = out->p + out->len;
	put_be(m, total, 4);
	put_be(m + 4, hl, 4);
	crc = crc32_update(0, m, 8);
	put_be(m + 8, crc, 4);
	w = m + EVS_PRELUDE_LEN;
	for (size_t i = 0; i < nh; i++)
		w = put_header(w, &h[i]);
	if (n)
		memcpy(w, payload, n);
	w += n;
	put_be(w, crc32_update(crc, m + 8, total - 12), 4);
	out->len += total;
	out->p[out->len] = 0;
	return 0;
}
