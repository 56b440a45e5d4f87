/* fuzz_config_edit: `brock config set PATH VALUE` and `config unset PATH` as
 * pure text edits (config_edit_set/unset), with the path and value as a user
 * types them (fuzz_json5 edits on fixed paths). Input: "PATH NUL VALUE NUL
 * DOCUMENT" (argv strings hold no NUL). Oracles:
 *   - a path that parses formats to a canonical text that parses to the same
 *     segments and formats to the same text again;
 *   - a set either succeeds or is refused as a usage or config error (an
 *     "internal error: the edit did not take" is a bug); its result parses,
 *     holds the path, and setting the same value again changes no byte;
 *   - an unset that succeeds leaves text that parses (or is blank) and,
 *     when the path ends in a key, no longer holds it (every duplicate goes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/config.h"
#include "wire/json5.h"

#define must(cond)                                                                       \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz_config_edit.c:%d: %s\n", __LINE__, #cond); \
			abort();                                                         \
		}                                                                        \
	} while (0)

static int same_path(const struct j5_path *a, const struct j5_path *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct j5_seg *x = &a->seg[i], *y = &b->seg[i];

		if (x->is_index != y->is_index)
			return 0;
		if (x->is_index ? x->index != y->index
				: x->keylen != y->keylen || memcmp(x->key, y->key, x->keylen) != 0)
			return 0;
	}
	return 1;
}

static void path_round_trip(const char *expr)
{
	struct j5_path p, q;
	struct buf a, b;
	struct err e;

	if (j5_path_parse(&p, expr, &e) < 0)
		return;
	buf_init(&a, 1 << 20);
	buf_init(&b, 1 << 20);
	must(j5_path_format(&p, p.n, &a) == 0);
	must(j5_path_parse(&q, (const char *)a.p, &e) == 0); /* a holds no NUL: keys are escaped */
	must(same_path(&p, &q));
	must(j5_path_format(&q, q.n, &b) == 0 && a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	j5_path_free(&q);
	j5_path_free(&p);
	buf_free(&a);
	buf_free(&b);
}

/* 1 when text[0..n) parses and holds expr; 0 when it parses (or is blank)
 * and does not. */
static int holds(const uint8_t *text, size_t n, const char *expr)
{
	struct j5_path p;
	struct j5_doc d;
	struct err e;
	int r;

	if (j5_is_blank((const char *)text, n))
		return 0;
	must(j5_parse(&d, (const char *)text, n, &e) == 0);
	must(j5_path_parse(&p, expr, &e) == 0);
	r = j5_lookup(&d, 0, &p, NULL, NULL) != J5_NONE;
	j5_path_free(&p);
	j5_free(&d);
	return r;
}

static int last_is_index(const char *expr)
{
	struct j5_path p;
	struct err e;
	int r;

	must(j5_path_parse(&p, expr, &e) == 0);
	r = p.n && p.seg[p.n - 1].is_index;
	j5_path_free(&p);
	return r;
}

static void refused(const struct err *e)
{
	must(e->msg[0] != 0);
	must(e->cls != ERR_OTHER || strcmp(e->msg, "out of memory") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = (const char *)data, *value, *doc;
	const uint8_t *z1, *z2;
	struct buf out, again;
	struct err e;
	size_t n;

	z1 = memchr(data, 0, size);
	if (!z1)
		return 0;
	z2 = memchr(z1 + 1, 0, size - (size_t)(z1 + 1 - data));
	if (!z2)
		return 0;
	value = (const char *)z1 + 1;
	doc = (const char *)z2 + 1;
	n = size - (size_t)(z2 + 1 - data);
	path_round_trip(path);

	buf_init(&out, 8u << 20);
	buf_init(&again, 8u << 20);
	if (config_edit_set("f", doc, n, path, value, &out, &e) == 0) {
		must(holds(out.p, out.len, path) == 1);
		must(config_edit_set("f", (const char *)out.p, out.len, path, value, &again, &e) ==
		     0);
		must(again.len == out.len && memcmp(again.p, out.p, out.len) == 0);
	} else {
		refused(&e);
	}
	out.len = 0;
	if (config_edit_unset("f", doc, n, path, &out, &e) == 0) {
		/* an unset that had nothing to remove may leave out empty (the file is not
		 * written); after an element, the next one moves into its index */
		if (out.len && !last_is_index(path))
			must(holds(out.p, out.len, path) == 0);
	} else {
		refused(&e);
	}
	buf_free(&out);
	buf_free(&again);
	return 0;
}
