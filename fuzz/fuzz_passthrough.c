/* fuzz_passthrough: pass-through paths and the verified frame relay on
 * arbitrary bytes. Oracles: no crash or leak; an accepted path gives a
 * non-empty decoded id without control bytes or spaces and an upstream path
 * that parses back to the same route; the relay only ever forwards a prefix
 * of its input made of whole frames, fed in two pieces or byte by byte the
 * same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/passthrough.h"

static size_t relay(const uint8_t *p, size_t n, size_t split, struct buf *out)
{
	struct pt_relay r;
	struct err e;

	pt_relay_init(&r);
	if (split == (size_t)-1) {
		for (size_t i = 0; i < n; i++)
			if (pt_relay_feed(&r, p + i, 1, out, &e) < 0)
				break;
	} else if (pt_relay_feed(&r, p, split, out, &e) == 0) {
		(void)pt_relay_feed(&r, p + split, n - split, out, &e);
	}
	pt_relay_free(&r);
	return out->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_route r, r2;
	struct err e;
	struct buf a, b;

	if (pt_parse_path((const char *)data, size, &r, &e) == 0) {
		size_t n = strlen(r.model_id);

		if (n == 0)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((uint8_t)r.model_id[i] <= 0x20 || (uint8_t)r.model_id[i] >= 0x7f)
				abort();
		buf_init(&a, 1 << 16);
		if (pt_upstream_path(&r, &a) < 0 ||
		    pt_parse_path((const char *)a.p, a.len, &r2, &e) < 0 || r2.op != r.op ||
		    strcmp(r2.model_id, r.model_id) != 0)
			abort();
		buf_free(&a);
	}
	buf_init(&a, 1 << 26);
	buf_init(&b, 1 << 26);
	relay(data, size, size ? data[0] % (size + 1) : 0, &a);
	relay(data, size, (size_t)-1, &b);
	if (a.len > size || (a.len && memcmp(a.p, data, a.len) != 0) || a.len != b.len)
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
