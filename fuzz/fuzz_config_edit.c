/* fuzz_config_edit: `brock config set PATH VALUE` and `config unset PATH` as
 * pure text edits (config_edit_set/unset), with the path and value as a user
 * types them (fuzz_json5 edits on fixed paths). Input: "PATH NUL VALUE NUL
 * DOCUMENT" (argv strings hold no NUL). Oracles:
 *   - a path that parses formats to a canonical text that parses to the same
 *     segments and formats to the same text again;
 *   - a set either succeeds or is refused as a usage error (the editor's own
 *     self-checks firing is a bug); after it the path holds the value as
 *     config set takes it (its JSON5 text, else the string), every byte
 *     around a replaced value is unchanged, and setting it again changes none;
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

/* The node at expr in text[0..n) (J5_NONE when the text is blank or does
 * not hold it); d is left parsed (or empty) for the caller to free. */
static uint32_t node_at(struct j5_doc *d, const char *text, size_t n, const char *expr)
{
	struct j5_path p;
	struct err e;
	uint32_t node = J5_NONE;

	memset(d, 0, sizeof *d);
	if (j5_is_blank(text, n) || j5_parse(d, text, n, &e) < 0)
		return J5_NONE;
	if (j5_path_parse(&p, expr, &e) == 0) {
		node = j5_lookup(d, 0, &p, NULL, NULL);
		j5_path_free(&p);
	}
	return node;
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

/* A refusal says why, as a usage error; the editor's own self-checks (the
 * result would not parse, did not take, or outgrew a bound that inputs of at
 * most 64 KiB cannot reach) are bugs, not refusals. */
static void refused(const struct err *e)
{
	must(e->msg[0] != 0);
	must(e->cls == ERR_USAGE || strcmp(e->msg, "out of memory") == 0);
	/* the editor's own messages start with the file name, "f" here (a message
	 * that quotes the path may hold any of these words) */
	must(strncmp(e->msg, "f: refusing the edit", 20) != 0 &&
	     strcmp(e->msg, "f: edit too large") != 0 &&
	     strncmp(e->msg, "f: the result would be larger", 29) != 0 &&
	     strncmp(e->msg, "f: internal error", 17) != 0);
}

/* After a set: the node at the path is the value as config set takes it (its
 * own JSON5 text, else the string), and when the path was there before,
 * every byte around the replaced value is as it was. */
static void set_landed(const char *doc, size_t n, const char *path, const char *value,
		       const struct buf *out)
{
	struct j5_doc before, after, vd;
	struct err e;
	struct buf str;
	uint32_t b = node_at(&before, doc, n, path);
	uint32_t a = node_at(&after, (const char *)out->p, out->len, path);
	size_t vn = strlen(value);

	must(a != J5_NONE);
	const struct j5_node *na = &after.nodes[a];
	if (j5_parse(&vd, value, vn, &e) == 0) {
		size_t len = vd.nodes[0].end - vd.nodes[0].start;

		must(na->end - na->start == len &&
		     memcmp(out->p + na->start, value + vd.nodes[0].start, len) == 0);
	} else {
		must(na->type == J5_STRING);
		buf_init(&str, 1 << 20);
		must(j5_string(&after, a, &str) == 0);
		must(str.len == vn && (vn == 0 || memcmp(str.p, value, vn) == 0));
		buf_free(&str);
	}
	j5_free(&vd);
	if (b != J5_NONE) {
		const struct j5_node *nb = &before.nodes[b];
		size_t tail = n - nb->end;

		must(na->start == nb->start && memcmp(out->p, doc, nb->start) == 0);
		must(out->len - na->end == tail &&
		     memcmp(out->p + na->end, doc + nb->end, tail) == 0);
	}
	j5_free(&before);
	j5_free(&after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = (const char *)data, *value, *doc;
	const uint8_t *z1, *z2;
	struct buf out, again;
	struct j5_doc d;
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
	memset(&e, 0, sizeof e);
	if (config_edit_set("f", doc, n, path, value, &out, &e) == 0) {
		set_landed(doc, n, path, value, &out);
		must(config_edit_set("f", (const char *)out.p, out.len, path, value, &again, &e) ==
		     0);
		must(again.len == out.len && memcmp(again.p, out.p, out.len) == 0);
	} else {
		refused(&e);
	}
	out.len = 0;
	memset(&e, 0, sizeof e);
	if (config_edit_unset("f", doc, n, path, &out, &e) == 0) {
		/* the whole text comes back, edited or not; after an element is removed
		 * the next one moves into its index */
		if (!last_is_index(path)) {
			must(node_at(&d, (const char *)out.p, out.len, path) == J5_NONE);
			j5_free(&d);
		}
	} else {
		refused(&e);
	}
	buf_free(&out);
	buf_free(&again);
	return 0;
}
