/* fuzz_known: the model table lookup (known.c) on arbitrary ids. Input: byte
 * 0 picks a region for the preference ranking, the rest (up to the first NUL)
 * is the model id. Oracles: every answer is in range; a hit is an entry of the
 * table and the same entry is found through the other spellings of the id
 * (a geographic profile prefix, a foundation-model ARN); a
 * known model's thinking shape and caching are the table's; effort and
 * budget map onto each other. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/known.h"

#define FZ_MAX_ID 512

static void must(int cond)
{
	if (!cond)
		abort();
}

/* The entry (or NULL) for prefix + id + suffix must be want. */
static void same_entry(const char *prefix, const char *id, const char *suffix,
		       const struct known_model *want)
{
	char s[FZ_MAX_ID + 128];
	size_t a = strlen(prefix), b = strlen(id), c = strlen(suffix);

	memcpy(s, prefix, a);
	memcpy(s + a, id, b);
	memcpy(s + a + b, suffix, c + 1);
	must(known_lookup(s) == want);
}

static void check_effort(long long budget)
{
	const char *eff = known_effort_of_budget(budget);
	long long back;

	must(eff != NULL);
	must(!strcmp(eff, "low") || !strcmp(eff, "medium") || !strcmp(eff, "high"));
	back = known_budget_of_effort(eff);
	must(back == KNOWN_BUDGET_LOW || back == KNOWN_BUDGET_MEDIUM || back == KNOWN_BUDGET_HIGH);
	must(!strcmp(known_effort_of_budget(back), eff));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const regions[] = {"us-east-1", "eu-west-1", "ap-northeast-1", "",
					      "us-gov-west-1", "ca-central-1", "global", "x"};
	const struct known_model *k, *t;
	char id[FZ_MAX_ID + 1];
	size_t n, nt;
	uint64_t u = 0;

	if (size < 1)
		return 0;
	n = size - 1 < FZ_MAX_ID ? size - 1 : FZ_MAX_ID;
	memcpy(id, data + 1, n);
	id[n] = '\0';
	t = known_table(&nt);
	k = known_lookup(id);
	must(k == NULL || (k >= t && k < t + nt));
	must(known_thinking(id) >= KNOWN_THINK_NONE && known_thinking(id) <= KNOWN_THINK_ADAPTIVE);
	must(known_caching(id) >= -1 && known_caching(id) <= 1);
	must(known_caching_tools(id) >= -1 && known_caching_tools(id) <= 1);
	must(known_preference(id, regions[data[0] & 7]) >= 0);
	if (k) {
		must(known_thinking(id) == k->thinking);
		must(known_caching(id) == (k->caching != KNOWN_CACHE_NO));
		must(known_caching_tools(id) == (k->caching == KNOWN_CACHE_ALL));
		/* tools take cache points only where messages do */
		must(known_caching_tools(id) <= known_caching(id));
		must(known_preference(id, regions[data[0] & 7]) >= 0);
		/* a bare model id (no profile prefix, no ARN) reads the same through
		 * a profile and a foundation-model ARN */
		if (!strchr(id, '/') && strchr(id, '.') && !strncmp(id, k->key, strlen(k->key))) {
			same_entry("us.", id, "", k);
			same_entry("global.", id, "", k);
			same_entry("arn:aws:bedrock:us-east-1::foundation-model/", id, "", k);
		}
	} else {
		must(known_caching(id) == -1 && known_caching_tools(id) == -1);
	}
	for (size_t i = 0; i < 8 && 1 + i < size; i++)
		u = (u << 8) | data[1 + i];
	check_effort(u >> 63 ? -(long long)(~u >> 1) : (long long)u); /* any long long */
	must(known_budget_of_effort(id) == 0 || !strcmp(id, "low") || !strcmp(id, "medium") ||
	     !strcmp(id, "high"));
	return 0;
}
