/* fuzz_json5: the JSON5 reader and the config text editor. Parse; if it
 * parses, walk every node (decode strings and keys, read numbers); then run
 * the schema reader, and a set and an unset on fixed paths: each must either
 * be refused cleanly or produce text that parses again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/config.h"
#include "wire/json5.h"

static void must_parse(const struct buf *b)
{
	struct j5_doc d;
	struct err e;

	if (j5_is_blank((const char *)b->p, b->len))
		return; /* an unset on a blank file leaves it blank */
	if (j5_parse(&d, (const char *)b->p, b->len, &e) < 0)
		abort(); /* an edit produced text that does not parse */
	j5_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct j5_doc d;
	struct err e;
	struct buf b, out;
	struct config c;

	if (size > 65536)
		return 0;
	if (j5_parse(&d, s, size, &e) == 0) {
		buf_init(&b, 1 << 20);
		for (uint32_t i = 0; i < d.count; i++) {
			double v;
			b.len = 0; /* not buf_reset: zeroing the capacity per item is quadratic */
			if (d.nodes[i].type == J5_STRING && j5_string(&d, i, &b) < 0)
				abort();
			if ((d.nodes[i].flags & J5_F_MEMBER) && j5_key(&d, i, &b) < 0)
				abort();
			if (d.nodes[i].type == J5_NUMBER && j5_number(&d, i, &v) < 0)
				abort();
			if (d.nodes[i].end < d.nodes[i].start || d.nodes[i].end > size ||
			    d.nodes[i].next <= i || d.nodes[i].next > d.count)
				abort();
		}
		buf_free(&b);
	}
	j5_free(&d);
	if (config_parse("f", s, size, &c, &e) == 0)
		config_free(&c);

	static const char *const paths[] = {"a", "a.b.c", "models.bedrockDiscovery.enabled",
					    "a[0]", "a[1].b", "[\"x.y\"]['z']"};
	static const char *const values[] = {"1", "{k: [1, 'x',],}", "plain text", "'q'"};
	unsigned pick = size ? data[0] : 0;
	const char *path = paths[pick % 6];
	buf_init(&out, 8u << 20);
	if (config_edit_set("f", s, size, path, values[(pick / 6) % 4], &out, &e) == 0)
		must_parse(&out);
	buf_reset(&out);
	if (config_edit_unset("f", s, size, path, &out, &e) == 0)
		must_parse(&out);
	buf_free(&out);
	return 0;
}
