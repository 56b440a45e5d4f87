/* evstream: event-stream decoder and encoder (see evstream.h). */
#include "wire/evstream.h"

#include <string.h>

#include "wire/crc32.h"
#include "base/err.h"

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

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

int evs_iter_next(struct evs_iter *it, struct evs_header *h)
{
	const uint8_t *p = it->rest.p;
	size_t n = it->rest.n, k, vlen;
	int size;

	if (n == 0)
		return 0;
	k = p[0];
	if (k == 0)
		return EVS_E_HEADER_NAME;
	if (n < 1 + k + 1)
		return EVS_E_HEADER_TRUNCATED;
	h->name.p = p + 1;
	h->name.n = k;
	h->type = p[1 + k];
	p += 2 + k;
	n -= 2 + k;
	size = fixed_size(h->type);
	if (size == -2)
		return EVS_E_HEADER_TYPE;
	if (size == -1) {
		if (n < 2)
			return EVS_E_HEADER_TRUNCATED;
		vlen = (size_t)p[0] << 8 | p[1];
		if (vlen > EVS_MAX_VALUE)
			return EVS_E_HEADER_VALUE;
		p += 2;
		n -= 2;
	} else {
		vlen = (size_t)size;
	}
	if (n < vlen)
		return EVS_E_HEADER_TRUNCATED;
	h->v.p = p;
	h->v.n = vlen;
	if (h->type == EVS_BOOL_TRUE || h->type == EVS_BOOL_FALSE)
		h->i = h->type == EVS_BOOL_TRUE;
	else if (size > 0 && size <= 8)
		h->i = sign_extend(get_be(p, vlen), vlen);
	else
		h->i = 0;
	it->rest.p = p + vlen;
	it->rest.n = n - vlen;
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

/* Validates a prelude; on success *total is the message length and *crc the
 * running CRC of bytes 0..7 (the message CRC continues from it). */
static int check_prelude(const struct evs_decoder *d, const uint8_t *p, size_t *total,
			 uint32_t *crc)
{
	uint32_t t = get_be32(p), hl = get_be32(p + 4);

	*crc = crc32_update(0, p, 8);
	if (*crc != get_be32(p + 8))
		return EVS_E_PRELUDE_CRC;
	if (t < EVS_MIN_MESSAGE)
		return EVS_E_LENGTH;
	if (t > d->max)
		return EVS_E_TOO_LARGE;
	if (hl > t - EVS_MIN_MESSAGE)
		return EVS_E_LENGTH;
	*total = t;
	return 0;
}

/* m holds a whole message of total bytes whose prelude passed check_prelude. */
static int finish_message(const uint8_t *m, size_t total, uint32_t crc, struct evs_msg *out)
{
	struct evs_iter it;
	struct evs_header h;
	int r;

	out->total_length = (uint32_t)total;
	out->headers_length = get_be32(m + 4);
	out->prelude_crc = get_be32(m + 8);
	out->message_crc = get_be32(m + total - 4);
	if (crc32_update(crc, m + 8, total - 12) != out->message_crc)
		return EVS_E_MESSAGE_CRC;
	out->raw.p = m;
	out->raw.n = total;
	out->headers.p = m + EVS_PRELUDE_LEN;
	out->headers.n = out->headers_length;
	out->payload.p = m + EVS_PRELUDE_LEN + out->headers_length;
	out->payload.n = total - EVS_MIN_MESSAGE - out->headers_length;
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
	r = check_prelude(d, d->acc.p, &d->total, &crc);
	if (r < 0)
		return fail(d, r);
	take = d->total - d->acc.len;
	take = take < n - used ? take : n - used;
	if (buf_append(&d->acc, p + used, take))
		return fail(d, EVS_E_NOMEM);
	*consumed = used + take;
	if (d->acc.len < d->total)
		return 0;
	r = finish_message(d->acc.p, d->total, crc, out);
	if (r < 0)
		return fail(d, r);
	d->delivered = 1;
	return 1;
}

int evs_feed(struct evs_decoder *d, const uint8_t *p, size_t n, size_t *consumed,
	     struct evs_msg *out)
{
	size_t total;
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
		r = check_prelude(d, p, &total, &crc);
		if (r < 0)
			return fail(d, r);
		if (n >= total) {
			r = finish_message(p, total, crc, out);
			if (r < 0)
				return fail(d, r);
			*consumed = total;
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
