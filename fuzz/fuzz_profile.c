/* fuzz_profile: the AWS shared config/credentials parser on arbitrary bytes.
 * The input is parsed as a config file and as a credentials file. Oracles:
 * every live name and value lies inside the input or the arena and holds no
 * NUL; names are never empty; a parse that succeeds is deterministic (a
 * second parse gives the same lookups); every section and key found by
 * iteration is found again by the merged lookups. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/profile.h"

static struct profile_file a, b, again;

static void check_span(const struct profile_file *pf, struct profile_span s, const uint8_t *data,
		       size_t size)
{
	const uint8_t *p = s.in_arena ? pf->arena.p : data;
	size_t lim = s.in_arena ? pf->arena.len : size;

	if ((size_t)s.off + s.len > lim)
		abort();
	if (s.len && memchr(p + s.off, 0, s.len))
		abort();
}

static void check_file(const struct profile_file *pf, const uint8_t *data, size_t size)
{
	if (pf->nsec > PROFILE_MAX_SECTIONS || pf->nprop > PROFILE_MAX_PROPS)
		abort();
	for (size_t i = 0; i < pf->nsec; i++) {
		if (pf->sec[i].name.len == 0 || pf->sec[i].name.len > PROFILE_MAX_NAME)
			abort();
		check_span(pf, pf->sec[i].name, data, size);
	}
	for (size_t i = 0; i < pf->nprop; i++) {
		const struct profile_prop *p = &pf->prop[i];
		if (p->sec >= pf->nsec || p->key.len == 0 || p->value.len > PROFILE_MAX_VALUE)
			abort();
		if (p->parent >= 0 && (size_t)p->parent >= pf->nprop)
			abort();
		check_span(pf, p->key, data, size);
		check_span(pf, p->value, data, size);
	}
}

/* Looks up every live top-level key of every profile through the merged API
 * with only this file present; it must find exactly this value. */
static void check_lookups(const struct profile_file *pf, const struct profile_file *other)
{
	struct profile_set ps = {pf, NULL};
	char sec[PROFILE_MAX_NAME + 1], key[PROFILE_MAX_NAME + 1];

	for (size_t i = 0; i < pf->nprop; i++) {
		const struct profile_prop *p = &pf->prop[i];
		const struct profile_sec *s = &pf->sec[p->sec];
		const uint8_t *base;
		struct slice v, w;

		if (p->dead || p->parent >= 0)
			continue;
		base = s->name.in_arena ? pf->arena.p : pf->text;
		memcpy(sec, base + s->name.off, s->name.len);
		sec[s->name.len] = 0;
		base = p->key.in_arena ? pf->arena.p : pf->text;
		memcpy(key, base + p->key.off, p->key.len);
		key[p->key.len] = 0;
		if (!profile_file_get(pf, s->type, sec, key, &v))
			abort();
		if (s->type == PROFILE_SEC_PROFILE) {
			if (!profile_get(&ps, sec, key, &w) || !slice_eq(v, w))
				abort();
		}
		if (other && other->nsec == pf->nsec &&
		    (!profile_file_get(other, s->type, sec, key, &w) || !slice_eq(v, w)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	struct profile_set ps = {&a, &b};
	struct slice names[8], v;

	if (size > PROFILE_MAX_TEXT)
		return 0;
	if (profile_parse(&a, PROFILE_CONFIG, data, size, &e) == 0) {
		check_file(&a, data, size);
		if (profile_parse(&again, PROFILE_CONFIG, data, size, &e) != 0)
			abort();
		check_lookups(&a, &again);
		profile_free(&again);
	} else if (a.nsec || a.nprop || e.cls == 0 || !e.msg[0]) {
		abort();
	}
	if (profile_parse(&b, PROFILE_CREDENTIALS, data, size, &e) == 0) {
		check_file(&b, data, size);
		check_lookups(&b, NULL);
	}
	(void)profile_list(&ps, names, 8);
	(void)profile_get(&ps, "default", "region", &v);
	(void)profile_get_sub(&ps, "default", "s3", "max_concurrent_requests", &v);
	(void)profile_sso_get(&ps, "s", "sso_region", &v);
	(void)profile_services_get(&ps, "s", "bedrock-runtime", "endpoint_url", &v);
	profile_free(&a);
	profile_free(&b);
	return 0;
}
