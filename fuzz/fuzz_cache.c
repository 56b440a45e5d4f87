/* fuzz_cache: the models cache reader (disc_cache_parse, discovery_cache.c).
 * The first byte picks the (region, filter) the caller expects; the rest is
 * the file. Accepted files must hold valid entries only, and survive
 * format -> parse -> format unchanged (the format is canonical). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/discovery.h"

static void must(int cond)
{
	if (!cond)
		abort();
}

static void same_lists(const struct disc_list *a, const struct disc_list *b)
{
	must(a->n == b->n && a->fetched == b->fetched);
	for (size_t i = 0; i < a->n; i++) {
		must(strcmp(a->v[i].id, b->v[i].id) == 0);
		must(strcmp(a->v[i].name, b->v[i].name) == 0);
		must(strcmp(a->v[i].provider, b->v[i].provider) == 0);
		must(a->v[i].input == b->v[i].input && a->v[i].profile == b->v[i].profile);
		must(strcmp(a->v[i].base, b->v[i].base) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const regions[] = {"us-east-1", "eu-west-1", "", "a\tb"};
	static const char *const filters[] = {"", "amazon,anthropic", "meta", "x\\y"};
	struct disc_list l, l2;
	struct buf f1, f2;
	struct err e;
	const char *region, *filter;

	if (size < 1)
		return 0;
	region = regions[data[0] & 3];
	filter = filters[(data[0] >> 2) & 3];
	memset(&l, 0, sizeof l);
	memset(&l2, 0, sizeof l2);
	if (disc_cache_parse((const char *)data + 1, size - 1, region, filter, &l, &e) < 0) {
		must(l.n == 0 && l.v == NULL && e.cls == ERR_PROTO);
		return 0;
	}
	must(l.n <= DISC_MAX_MODELS);
	for (size_t i = 0; i < l.n; i++) {
		must(l.v[i].id[0] != 0 && strpbrk(l.v[i].id, " \t\n\r") == NULL);
		must(disc_list_find(&l, l.v[i].id, strlen(l.v[i].id)) == (long)i);
		must(l.v[i].input <= (DISC_IN_TEXT | DISC_IN_IMAGE));
	}
	buf_init(&f1, DISC_CACHE_MAX * 2);
	buf_init(&f2, DISC_CACHE_MAX * 2);
	must(disc_cache_format(&l, region, filter, &f1) == 0);
	must(disc_cache_parse((const char *)f1.p, f1.len, region, filter, &l2, &e) == 0);
	same_lists(&l, &l2);
	must(disc_cache_format(&l2, region, filter, &f2) == 0);
	must(f1.len == f2.len && memcmp(f1.p, f2.p, f1.len) == 0);
	buf_free(&f1);
	buf_free(&f2);
	disc_list_free(&l);
	disc_list_free(&l2);
	return 0;
}
