/* fuzz_xml: the STS XML reader on arbitrary bytes. Oracles: every event's
 * views lie inside the input; START and END pair up by name and depth;
 * depth stays within XML_MAX_DEPTH; every TEXT event decodes; the reader and
 * xml_find_text agree on well-formedness; the path of the first element
 * chain (first child at each level) is found again by xml_find_text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/xml.h"

static void inside(struct slice s, const uint8_t *data, size_t size)
{
	if (s.n && (s.p < data || s.p + s.n > data + size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xml_reader r;
	struct xml_event ev;
	struct err e;
	struct buf text, found;
	struct slice stack[XML_MAX_DEPTH];
	char names[4][64];
	const char *path[5] = {NULL};
	int depth = 0, plen = 0, chain = 1, k, f;

	buf_init(&text, 1u << 21);
	buf_init(&found, 1u << 21);
	xml_init(&r, data, size);
	while ((k = xml_next(&r, &ev, &e)) == 1) {
		switch (ev.type) {
		case XML_START:
			inside(ev.name, data, size);
			inside(ev.local, data, size);
			if (ev.depth != depth + 1 || depth >= XML_MAX_DEPTH || ev.name.n == 0)
				abort();
			stack[depth++] = ev.name;
			/* follow the first child at each level, up to 4 deep */
			if (chain && plen == depth - 1 && plen < 4 && ev.local.n < 64 && ev.local.n &&
			    !memchr(ev.local.p, 0, ev.local.n)) {
				memcpy(names[plen], ev.local.p, ev.local.n);
				names[plen][ev.local.n] = 0;
				path[plen] = names[plen];
				plen++;
			} else if (depth <= plen) {
				chain = 0;
			}
			break;
		case XML_END:
			if (ev.depth != depth || !slice_eq(ev.name, stack[depth - 1]))
				abort();
			depth--;
			if (depth < plen)
				chain = 0; /* the chain's deepest element closed: stop extending */
			break;
		case XML_TEXT:
		case XML_CDATA:
			inside(ev.text, data, size);
			if (ev.depth != depth || depth == 0)
				abort();
			if (ev.type == XML_TEXT && xml_decode(ev.text, NULL, &e) != 0)
				abort();
			if (ev.type == XML_TEXT && (xml_decode(ev.text, &text, &e) != 0 ||
						    text.len > size * 4))
				abort();
			text.len = 0; /* not buf_reset: zeroing the capacity per item is quadratic */
			break;
		default:
			abort();
		}
	}
	if (k == 0 && depth != 0)
		abort();
	if (plen > 0) {
		path[plen] = NULL;
		f = xml_find_text(data, size, path, &found, &e);
		if (k < 0 && f != -1)
			abort();
		if (k == 0 && f != 1)
			abort();
	} else {
		const char *none[] = {"x", NULL};
		f = xml_find_text(data, size, none, &found, &e);
		if ((k < 0) != (f < 0))
			abort();
	}
	buf_free(&text);
	buf_free(&found);
	return 0;
}
