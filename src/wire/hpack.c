/* hpack: HPACK decoder and encoder (RFC 7541). See hpack.h.
 *
 * The dynamic table keeps its entries' bytes oldest first in one array;
 * eviction only moves `start`, and an insertion that finds no room at the end
 * first slides the live bytes down to offset 0. Since the live bytes never
 * exceed the table's maximum size, the new entry then always fits. */
#include "wire/hpack.h"

#include <string.h>

#include "base/err.h"

/* ---------------------------------------------------------- static table */

static const char *const static_name[HPACK_STATIC_LEN] = {
	":authority", ":method", ":method", ":path", ":path", ":scheme", ":scheme",
	":status", ":status", ":status", ":status", ":status", ":status", ":status",
	"accept-charset", "accept-encoding", "accept-language", "accept-ranges", "accept",
	"access-control-allow-origin", "age", "allow", "authorization", "cache-control",
	"content-disposition", "content-encoding", "content-language", "content-length",
	"content-location", "content-range", "content-type", "cookie", "date", "etag",
	"expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match",
	"if-range", "if-unmodified-since", "last-modified", "link", "location", "max-forwards",
	"proxy-authenticate", "proxy-authorization", "range", "referer", "refresh",
	"retry-after", "server", "set-cookie", "strict-transport-security",
	"transfer-encoding", "user-agent", "vary", "via", "www-authenticate"};

/* Values of entries 1..61; only the first 16 have one. */
static const char *const static_value[16] = {
	"", "GET", "POST", "/", "/index.html", "http", "https", "200", "204", "206", "304",
	"400", "404", "500", "", "gzip, deflate"};

static void static_entry(size_t i, struct slice *name, struct slice *value)
{
	*name = slice_str(static_name[i - 1]);
	*value = slice_str(i <= 16 ? static_value[i - 1] : "");
}

/* ---------------------------------------------------------- dynamic table */

static void table_init(struct hpack_table *t, size_t max)
{
	t->first = t->count = t->start = t->end = t->size = 0;
	t->max = max;
}

size_t hpack_table_count(const struct hpack_table *t)
{
	return t->count;
}

size_t hpack_table_size(const struct hpack_table *t)
{
	return t->size;
}

int hpack_table_entry(const struct hpack_table *t, size_t i, struct slice *name,
		      struct slice *value)
{
	size_t k;

	if (i == 0 || i > t->count)
		return HPACK_E_INDEX;
	k = (t->first + t->count - i) % HPACK_MAX_ENTRIES;
	name->p = t->data + t->ent[k].off;
	name->n = t->ent[k].nlen;
	value->p = name->p + name->n;
	value->n = t->ent[k].vlen;
	return 0;
}

static void table_evict_oldest(struct hpack_table *t)
{
	size_t k = t->first, n = (size_t)t->ent[k].nlen + t->ent[k].vlen;

	t->size -= n + HPACK_ENTRY_OVERHEAD;
	t->start = t->ent[k].off + n;
	t->first = (k + 1) % HPACK_MAX_ENTRIES;
	if (--t->count == 0)
		t->start = t->end = 0;
}

static void table_shrink(struct hpack_table *t, size_t max)
{
	while (t->size > max)
		table_evict_oldest(t);
}

static void table_set_max(struct hpack_table *t, size_t max)
{
	t->max = max;
	table_shrink(t, max);
}

/* Inserts (name, value); neither may point into t (callers copy first).
 * An entry larger than the table empties it (RFC 7541 section 4.4). */
static void table_add(struct hpack_table *t, struct slice name, struct slice value)
{
	size_t need = name.n + value.n, k;

	if (need + HPACK_ENTRY_OVERHEAD > t->max) {
		table_shrink(t, 0);
		return;
	}
	table_shrink(t, t->max - need - HPACK_ENTRY_OVERHEAD);
	if (HPACK_TABLE_CAP - t->end < need) {
		for (size_t j = 0; j < t->count; j++)
			t->ent[(t->first + j) % HPACK_MAX_ENTRIES].off -= (uint16_t)t->start;
		memmove(t->data, t->data + t->start, t->end - t->start);
		t->end -= t->start;
		t->start = 0;
	}
	k = (t->first + t->count) % HPACK_MAX_ENTRIES;
	t->ent[k].off = (uint16_t)t->end;
	t->ent[k].nlen = (uint16_t)name.n;
	t->ent[k].vlen = (uint16_t)value.n;
	if (name.n)
		memcpy(t->data + t->end, name.p, name.n);
	if (value.n)
		memcpy(t->data + t->end + name.n, value.p, value.n);
	t->end += need;
	t->size += need + HPACK_ENTRY_OVERHEAD;
	t->count++;
}

/* Entry i of the combined index space (1..61 static, then dynamic). */
static int table_get(const struct hpack_table *t, uint32_t i, struct slice *name,
		     struct slice *value)
{
	if (i >= 1 && i <= HPACK_STATIC_LEN) {
		static_entry(i, name, value);
		return 0;
	}
	if (i == 0)
		return HPACK_E_INDEX;
	return hpack_table_entry(t, i - HPACK_STATIC_LEN, name, value);
}

/* ---------------------------------------------------------- integers */

int hpack_int_decode(const uint8_t *p, size_t len, unsigned prefix, uint32_t *v)
{
	uint32_t mask = (1u << prefix) - 1;
	uint64_t val;
	size_t i = 1;

	if (len == 0)
		return HPACK_E_TRUNCATED;
	val = p[0] & mask;
	if (val < mask) {
		*v = (uint32_t)val;
		return 1;
	}
	for (unsigned shift = 0;; shift += 7) {
		if (shift > 28) /* a sixth continuation byte: beyond 2^32 */
			return HPACK_E_INTEGER;
		if (i == len)
			return HPACK_E_TRUNCATED;
		val += (uint64_t)(p[i] & 0x7f) << shift;
		if (val > HPACK_INT_MAX)
			return HPACK_E_INTEGER;
		if (!(p[i++] & 0x80))
			break;
	}
	*v = (uint32_t)val;
	return (int)i;
}

size_t hpack_int_encode(uint8_t *out, size_t cap, unsigned prefix, uint8_t first, uint32_t v)
{
	uint32_t mask = (1u << prefix) - 1;
	size_t i = 1;

	if (cap == 0)
		return 0;
	if (v < mask) {
		out[0] = (uint8_t)(first | v);
		return 1;
	}
	out[0] = (uint8_t)(first | mask);
	v -= mask;
	while (v >= 0x80) {
		if (i == cap)
			return 0;
		out[i++] = (uint8_t)(0x80 | (v & 0x7f));
		v >>= 7;
	}
	if (i == cap)
		return 0;
	out[i++] = (uint8_t)v;
	return i;
}

/* ---------------------------------------------------------- decoder */

int hpack_decoder_init(struct hpack_decoder *d, size_t table_limit, size_t max_list,
		       uint8_t *scratch, size_t scratch_cap)
{
	if (table_limit > HPACK_TABLE_CAP)
		return HPACK_E_ARG;
	table_init(&d->t, table_limit);
	d->limit = table_limit;
	d->need_update = 0;
	d->max_list = max_list;
	d->scratch = scratch;
	d->scratch_cap = scratch ? scratch_cap : 0;
	d->err = 0;
	hpack_block_begin(d, NULL, 0);
	return 0;
}

int hpack_decoder_set_limit(struct hpack_decoder *d, size_t limit)
{
	if (limit > HPACK_TABLE_CAP)
		return HPACK_E_ARG;
	d->limit = limit;
	if (limit < d->t.max) {
		table_set_max(&d->t, limit);
		d->need_update = 1;
	}
	return 0;
}

void hpack_block_begin(struct hpack_decoder *d, const uint8_t *p, size_t n)
{
	d->p = p;
	d->n = n;
	d->off = d->list = 0;
	d->fields = d->over = 0;
}

static int fail(struct hpack_decoder *d, int code)
{
	d->err = code;
	return code;
}

static int read_int(struct hpack_decoder *d, unsigned prefix, uint32_t *v)
{
	int r = hpack_int_decode(d->p + d->off, d->n - d->off, prefix, v);

	if (r > 0)
		d->off += (size_t)r;
	return r;
}

/* A string literal: a view into the block, or Huffman-decoded into
 * scratch[*used..], advancing *used. */
static int read_string(struct hpack_decoder *d, struct slice *s, size_t *used)
{
	uint32_t len;
	int huff, r;
	size_t out;

	if (d->off == d->n)
		return HPACK_E_TRUNCATED;
	huff = d->p[d->off] & 0x80;
	if ((r = read_int(d, 7, &len)) < 0)
		return r;
	if (len > d->n - d->off)
		return HPACK_E_TRUNCATED;
	s->p = d->p + d->off;
	s->n = len;
	d->off += len;
	if (!huff)
		return 0;
	/* no scratch (NULL, 0): only empty Huffman strings decode */
	r = hpack_huff_decode(s->p, s->n, d->scratch ? d->scratch + *used : NULL,
			      d->scratch_cap - *used, &out);
	if (r < 0)
		return r;
	if (d->scratch) /* else out is 0 and s->p may stay */
		s->p = d->scratch + *used;
	s->n = out;
	*used += out;
	return 0;
}

/* A literal (with the first byte's kind already known from mask/prefix). */
static int read_literal(struct hpack_decoder *d, unsigned prefix, struct hpack_field *f)
{
	struct slice ignore;
	size_t used = 0;
	uint32_t idx;
	int r;

	if ((r = read_int(d, prefix, &idx)) < 0)
		return r;
	if (idx == 0) {
		r = read_string(d, &f->name, &used);
	} else {
		r = table_get(&d->t, idx, &f->name, &ignore);
		if (r == 0 && f->rep == HPACK_REP_INDEX && idx > HPACK_STATIC_LEN) {
			/* the insertion below may evict the entry the name lives in */
			if (f->name.n > d->scratch_cap)
				return HPACK_E_STRING_TOO_BIG;
			if (f->name.n)
				memcpy(d->scratch, f->name.p, f->name.n);
			f->name.p = d->scratch;
			used = f->name.n;
		}
	}
	if (r < 0 || (r = read_string(d, &f->value, &used)) < 0)
		return r;
	if (f->rep == HPACK_REP_INDEX)
		table_add(&d->t, f->name, f->value);
	return 0;
}

static int read_field(struct hpack_decoder *d, struct hpack_field *f)
{
	uint8_t b = d->p[d->off];
	uint32_t idx;
	int r;

	if (b & 0x80) {
		if ((r = read_int(d, 7, &idx)) < 0)
			return r;
		f->rep = HPACK_REP_INDEX;
		return table_get(&d->t, idx, &f->name, &f->value);
	}
	if (b & 0x40) {
		f->rep = HPACK_REP_INDEX;
		return read_literal(d, 6, f);
	}
	f->rep = b & 0x10 ? HPACK_REP_NEVER : HPACK_REP_NOINDEX;
	return read_literal(d, 4, f);
}

static int size_update(struct hpack_decoder *d)
{
	uint32_t v;
	int r;

	if (d->fields)
		return HPACK_E_SIZE_UPDATE;
	if ((r = read_int(d, 5, &v)) < 0)
		return r;
	if (v > d->limit)
		return HPACK_E_SIZE_LIMIT;
	table_set_max(&d->t, v);
	d->need_update = 0;
	return 0;
}

int hpack_next(struct hpack_decoder *d, struct hpack_field *f)
{
	int r;

	if (d->err)
		return d->err;
	for (;;) {
		if (d->off == d->n) {
			r = d->over ? HPACK_E_LIST_SIZE : 0;
			hpack_block_begin(d, NULL, 0);
			return r;
		}
		if ((d->p[d->off] & 0xe0) == 0x20) {
			if ((r = size_update(d)) < 0)
				return fail(d, r);
			continue;
		}
		if (d->need_update)
			return fail(d, HPACK_E_SIZE_UPDATE);
		if ((r = read_field(d, f)) < 0)
			return fail(d, r);
		d->fields++;
		d->list += f->name.n + f->value.n + HPACK_ENTRY_OVERHEAD;
		if (d->max_list && d->list > d->max_list)
			d->over = 1;
		if (!d->over)
			return 1;
	}
}

/* ---------------------------------------------------------- encoder */

void hpack_encoder_init(struct hpack_encoder *e, uint32_t peer_setting)
{
	size_t max = peer_setting < HPACK_TABLE_CAP ? peer_setting : HPACK_TABLE_CAP;

	table_init(&e->t, max);
	e->update = max != peer_setting; /* say so when we use less than allowed */
	e->update_min = max;
	e->huffman = 1;
}

void hpack_encoder_set_peer_limit(struct hpack_encoder *e, uint32_t setting)
{
	size_t max = setting < HPACK_TABLE_CAP ? setting : HPACK_TABLE_CAP;

	if (!e->update || max < e->update_min)
		e->update_min = max;
	e->update = 1;
	table_set_max(&e->t, max);
}

static int put_int(struct buf *out, unsigned prefix, uint8_t first, uint32_t v)
{
	uint8_t tmp[8];
	size_t n = hpack_int_encode(tmp, sizeof tmp, prefix, first, v);

	return buf_append(out, tmp, n) < 0 ? HPACK_E_NOMEM : 0;
}

static int put_string(const struct hpack_encoder *e, struct buf *out, struct slice s)
{
	size_t h = e->huffman ? hpack_huff_encoded_len(s.p, s.n) : s.n;

	if (s.n > HPACK_INT_MAX)
		return HPACK_E_ARG;
	if (e->huffman && s.n && h <= s.n) { /* ties too, as RFC 7541 C.6 does */
		if (put_int(out, 7, 0x80, (uint32_t)h) < 0 || buf_reserve(out, h) < 0)
			return HPACK_E_NOMEM;
		hpack_huff_encode(out->p + out->len, s.p, s.n);
		out->len += h;
		out->p[out->len] = 0;
		return 0;
	}
	if (put_int(out, 7, 0, (uint32_t)s.n) < 0 || buf_append(out, s.p, s.n) < 0)
		return HPACK_E_NOMEM;
	return 0;
}

/* The index of the first entry matching name and value (*full = 1), else of
 * the first matching name, else 0. A NEVER field is always sent as a literal
 * so that the flag travels on, so it looks for names only. */
static uint32_t find(const struct hpack_table *t, const struct hpack_field *f, int *full)
{
	uint32_t name_idx = 0, n = HPACK_STATIC_LEN + (uint32_t)t->count;
	struct slice name, value;

	*full = 0;
	for (uint32_t i = 1; i <= n; i++) {
		table_get(t, i, &name, &value);
		if (!slice_eq(name, f->name))
			continue;
		if (f->rep != HPACK_REP_NEVER && slice_eq(value, f->value)) {
			*full = 1;
			return i;
		}
		if (!name_idx)
			name_idx = i;
	}
	return name_idx;
}

static int encode_field(struct hpack_encoder *e, struct buf *out, const struct hpack_field *f)
{
	int full, r, index = f->rep == HPACK_REP_INDEX && e->t.max > 0;
	uint32_t idx = find(&e->t, f, &full);

	if (full)
		return put_int(out, 7, 0x80, idx);
	if (index)
		r = put_int(out, 6, 0x40, idx);
	else
		r = put_int(out, 4, f->rep == HPACK_REP_NEVER ? 0x10 : 0, idx);
	if (r == 0 && idx == 0)
		r = put_string(e, out, f->name);
	if (r == 0)
		r = put_string(e, out, f->value);
	if (r == 0 && index)
		table_add(&e->t, f->name, f->value);
	return r;
}

int hpack_encode(struct hpack_encoder *e, struct buf *out, const struct hpack_field *f, size_t n)
{
	size_t mark = out->len;
	int r = 0;

	if (e->update) {
		if (e->update_min < e->t.max)
			r = put_int(out, 5, 0x20, (uint32_t)e->update_min);
		if (r == 0)
			r = put_int(out, 5, 0x20, (uint32_t)e->t.max);
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = encode_field(e, out, &f[i]);
	if (r < 0) {
		out->len = mark;
		if (out->p)
			out->p[mark] = 0;
		return r;
	}
	e->update = 0;
	return 0;
}

/* ---------------------------------------------------------- errors */

const char *hpack_strerror(int code)
{
	switch (code) {
	case 0: return "no error";
	case HPACK_E_TRUNCATED: return "header block ends inside a field";
	case HPACK_E_INTEGER: return "integer overflow";
	case HPACK_E_INDEX: return "invalid table index";
	case HPACK_E_HUFF_EOS: return "EOS in Huffman string";
	case HPACK_E_HUFF_PADDING: return "invalid Huffman padding";
	case HPACK_E_STRING_TOO_BIG: return "header string too large";
	case HPACK_E_SIZE_UPDATE: return "table size update out of place or missing";
	case HPACK_E_SIZE_LIMIT: return "table size update above the limit";
	case HPACK_E_LIST_SIZE: return "header list too large";
	case HPACK_E_NOMEM: return "output buffer full";
	case HPACK_E_ARG: return "invalid argument";
	default: return "unknown error";
	}
}

int hpack_err(struct err *e, int code)
{
	return err_set(e, code == HPACK_E_NOMEM ? ERR_OTHER : ERR_PROTO, "hpack: %s",
		       hpack_strerror(code));
}
