/* fuzz_hpack: the HPACK decoder on arbitrary header blocks, and the encoder
 * on what it decodes.
 * Input: byte 0 picks the decoder's table limit (bits 0-1: 4096, 256, 64, 0),
 * a header list limit (bit 2), a small scratch buffer (bit 3), Huffman for
 * the re-encoding (bit 4) and a limit change before the second block (bit 5);
 * then blocks, each a length byte and that many bytes. Oracles: every field
 * views the block, the scratch buffer or the dynamic table; the table's size
 * never passes its maximum and matches its entries; errors other than the
 * list limit are sticky; every decoded list, encoded again by our encoder
 * (keeping each field's representation) and decoded by a second decoder that
 * mirrors it, gives back the same fields and identical tables. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "piece.h"
#include "wire/hpack.h"

#define MAX_FIELDS 256

static int inside(struct slice s, const void *base, size_t n)
{
	const uint8_t *b = base;

	return s.n == 0 || (s.p >= b && s.n <= n && s.p - b <= (ptrdiff_t)(n - s.n));
}

static void check_table(const struct hpack_table *t)
{
	struct slice name, value;
	size_t size = 0;

	if (t->size > t->max || t->max > HPACK_TABLE_CAP)
		abort();
	for (size_t i = 1; i <= hpack_table_count(t); i++) {
		if (hpack_table_entry(t, i, &name, &value) != 0)
			abort();
		size += name.n + value.n + HPACK_ENTRY_OVERHEAD;
	}
	if (size != hpack_table_size(t))
		abort();
}

static void same_tables(const struct hpack_table *a, const struct hpack_table *b)
{
	struct slice n1, v1, n2, v2;

	if (hpack_table_count(a) != hpack_table_count(b) || hpack_table_size(a) != hpack_table_size(b))
		abort();
	for (size_t i = 1; i <= hpack_table_count(a); i++) {
		hpack_table_entry(a, i, &n1, &v1);
		hpack_table_entry(b, i, &n2, &v2);
		if (!slice_eq(n1, n2) || !slice_eq(v1, v2))
			abort();
	}
}

/* Encodes fields and decodes them with the mirror decoder. */
static void round_trip(struct hpack_encoder *e, struct hpack_decoder *m, struct hpack_field *f,
		       size_t n)
{
	struct hpack_field g;
	struct buf out;
	size_t i = 0;
	int r;

	buf_init(&out, 1 << 20);
	if (hpack_encode(e, &out, f, n) != 0)
		abort();
	hpack_block_begin(m, out.p, out.len);
	while ((r = hpack_next(m, &g)) == 1) {
		if (i >= n || !slice_eq(g.name, f[i].name) || !slice_eq(g.value, f[i].value) ||
		    (g.rep == HPACK_REP_NEVER) != (f[i].rep == HPACK_REP_NEVER))
			abort();
		i++;
	}
	if (r != 0 || i != n)
		abort();
	same_tables(&e->t, &m->t);
	buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[4] = {4096, 256, 64, 0};
	static uint8_t scratch[1 << 16], mscratch[1 << 16];
	static struct hpack_decoder d, m;
	static struct hpack_encoder e;
	static struct hpack_field f[MAX_FIELDS];
	/* copies of the fields: the decoder's views die with the next call */
	static uint8_t copy[1 << 17];
	static struct fz_arena arena;
	size_t off = 1, blocks = 0, scap;
	uint8_t opt;

	if (size < 1)
		return 0;
	opt = data[0];
	scap = opt & 8 ? 16 : sizeof scratch;
	hpack_decoder_init(&d, limits[opt & 3], opt & 4 ? 300 : 0, scratch, scap);
	hpack_decoder_init(&m, limits[opt & 3], 0, mscratch, sizeof mscratch);
	hpack_encoder_init(&e, (uint32_t)limits[opt & 3]);
	e.huffman = (opt >> 4) & 1;
	fz_arena_begin(&arena, size, size);
	while (off < size) {
		size_t len = data[off++], n = 0, used = 0;
		uint8_t *block;
		struct hpack_field g;
		int r;
		if (len > size - off)
			len = size - off;
		block = fz_piece(&arena, data + off, len); /* exact size: ASan sees over-reads */
		off += len;
		if (blocks++ == 1 && (opt & 0x20)) {
			hpack_decoder_set_limit(&d, 100);
			hpack_decoder_set_limit(&m, 100);
			hpack_encoder_set_peer_limit(&e, 100);
		}
		hpack_block_begin(&d, block, len);
		while ((r = hpack_next(&d, &g)) == 1) {
			if (!(inside(g.name, block, len) || inside(g.name, scratch, scap) ||
			      inside(g.name, d.t.data, sizeof d.t.data) ||
			      g.name.n == 0 || g.name.n < 30) ||
			    !(inside(g.value, block, len) || inside(g.value, scratch, scap) ||
			      inside(g.value, d.t.data, sizeof d.t.data) || g.value.n < 30))
				abort(); /* static entries are short: < 30 bytes */
			check_table(&d.t);
			if (n < MAX_FIELDS && used + g.name.n + g.value.n <= sizeof copy) {
				memcpy(copy + used, g.name.p, g.name.n);
				f[n].name.p = copy + used;
				f[n].name.n = g.name.n;
				used += g.name.n;
				memcpy(copy + used, g.value.p, g.value.n);
				f[n].value.p = copy + used;
				f[n].value.n = g.value.n;
				used += g.value.n;
				f[n].rep = g.rep;
				n++;
			}
		}
		fz_piece_done(block, len);
		check_table(&d.t);
		if (r < 0 && r != HPACK_E_LIST_SIZE) {
			struct hpack_field h;
			hpack_block_begin(&d, NULL, 0);
			if (hpack_next(&d, &h) != r)
				abort(); /* errors are sticky */
			break;
		}
		round_trip(&e, &m, f, n);
	}
	return 0;
}
