/* fuzz_models: the ListFoundationModels / ListInferenceProfiles walkers.
 * Input: the ListFoundationModels body, then NUL-separated
 * ListInferenceProfiles pages (JSON never holds a raw NUL). The filter
 * depends on the input length. Invariants: every kept model and profile
 * passes the filter, ids are unique and clean, profiles take their
 * foundation model's capabilities, the on-demand selection only holds
 * on-demand models, and the result survives a cache round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/discovery.h"

static void must(int cond)
{
	if (!cond)
		abort();
}

static void clean_ids(const struct disc_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *id = l->v[i].id;

		must(id[0] != 0);
		for (const char *p = id; *p; p++)
			must((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
		must(disc_list_find(l, id, strlen(id)) == (long)i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const filters[] = {"", "anthropic,meta", "amazon", "mistral ai"};
	const char *filter = filters[size & 3];
	const uint8_t *end = data + size, *p = data, *z;
	struct disc_list fms, prof, out, back;
	struct buf next, cache;
	struct err e;
	size_t n;

	memset(&fms, 0, sizeof fms);
	memset(&prof, 0, sizeof prof);
	memset(&out, 0, sizeof out);
	memset(&back, 0, sizeof back);
	z = memchr(p, 0, size);
	n = z ? (size_t)(z - p) : size;
	if (disc_parse_models((const char *)p, n, filter, &fms, &e) < 0) {
		must(e.cls == ERR_PROTO || e.cls == ERR_SERVICE || e.cls == ERR_OTHER);
		disc_list_free(&fms);
		return 0;
	}
	clean_ids(&fms);
	for (size_t i = 0; i < fms.n; i++)
		must(disc_filter_pass(filter, fms.v[i].provider, fms.v[i].id));
	buf_init(&next, 8192);
	for (p = z ? z + 1 : end; p < end; p = z ? z + 1 : end) {
		z = memchr(p, 0, (size_t)(end - p));
		n = z ? (size_t)(z - p) : (size_t)(end - p);
		if (disc_parse_profiles((const char *)p, n, &fms, &prof, &next, &e) < 0)
			must(next.len == 0);
	}
	clean_ids(&prof);
	for (size_t i = 0; i < prof.n; i++) {
		must(prof.v[i].profile == 1);
		int from_fm = 0;

		/* the maker is that of a kept foundation model */
		for (size_t j = 0; j < fms.n && !from_fm; j++)
			from_fm = strcmp(fms.v[j].provider, prof.v[i].provider) == 0 &&
				  fms.v[j].input == prof.v[i].input;
		must(from_fm);
	}
	must(disc_select_on_demand(&fms, &out, &e) == 0);
	for (size_t i = 0; i < out.n; i++)
		must(fms.v[disc_list_find(&fms, out.v[i].id, strlen(out.v[i].id))].on_demand);
	for (size_t i = 0; i < prof.n; i++)
		if (disc_list_find(&out, prof.v[i].id, strlen(prof.v[i].id)) < 0)
			must(disc_list_add(&out, prof.v[i].id, strlen(prof.v[i].id), prof.v[i].name,
					   strlen(prof.v[i].name), prof.v[i].provider,
					   strlen(prof.v[i].provider), prof.v[i].input, 1, &e) == 0);
	out.fetched = 1700000000;
	buf_init(&cache, DISC_CACHE_MAX * 2);
	if (disc_cache_format(&out, "us-east-1", filter, &cache) == 0 && cache.len <= DISC_CACHE_MAX) {
		must(disc_cache_parse((const char *)cache.p, cache.len, "us-east-1", filter, &back, &e) == 0);
		must(back.n == out.n);
		for (size_t i = 0; i < out.n; i++)
			must(strcmp(back.v[i].name, out.v[i].name) == 0 &&
			     strcmp(back.v[i].provider, out.v[i].provider) == 0);
	}
	buf_free(&cache);
	buf_free(&next);
	disc_list_free(&fms);
	disc_list_free(&prof);
	disc_list_free(&out);
	disc_list_free(&back);
	return 0;
}
