/* test_known: the known-model table (every family and line), the suffix
 * rule (a date is never a minor version), the Claude version rule for
 * thinking, caching support and the effort <-> budget mapping. */
#include "t.h"

#include "bedrock/known.h"

static const char *key_of(const char *id)
{
	const struct known_model *k = known_lookup(id);

	return k ? k->key : "(none)";
}

static void test_suffixes(void)
{
	/* a date is not a minor version */
	CHECK_STR(key_of("anthropic.claude-opus-4-20250514-v1:0"), "anthropic.claude-opus-4");
	CHECK_STR(key_of("us.anthropic.claude-opus-4-20250514-v1:0"), "anthropic.claude-opus-4");
	CHECK_STR(key_of("anthropic.claude-opus-4-1-20250805-v1:0"), "anthropic.claude-opus-4-1");
	CHECK_STR(key_of("us.anthropic.claude-opus-4-7"), "anthropic.claude-opus-4-7");
	CHECK_STR(key_of("global.anthropic.claude-opus-4-6-v1"), "anthropic.claude-opus-4-6");
	CHECK_STR(key_of("anthropic.claude-sonnet-4-20250514-v1:0"), "anthropic.claude-sonnet-4");
	CHECK_STR(key_of("eu.anthropic.claude-sonnet-4-5-20250929-v1:0"),
		  "anthropic.claude-sonnet-4-5");
	CHECK_STR(key_of("anthropic.claude-3-5-haiku-20241022-v1:0"), "anthropic.claude-3-5-haiku");
	CHECK_STR(key_of("anthropic.claude-3-haiku-20240307-v1:0"), "anthropic.claude-3-haiku");
	CHECK_STR(key_of("openai.gpt-oss-120b-1:0"), "openai.gpt-oss-120b");
	CHECK_STR(key_of("amazon.nova-pro-v1:0"), "amazon.nova-pro");
	CHECK_STR(key_of("us.amazon.nova-2-lite-v1:0"), "amazon.nova-2-lite");
	CHECK_STR(key_of("meta.llama3-1-70b-instruct-v1:0"), "meta.llama3-1-70b-instruct");
	CHECK_STR(key_of("mistral.mistral-large-2407-v1:0"), "mistral.mistral-large-2407");
	CHECK_STR(key_of("deepseek.r1-v1:0"), "deepseek.r1");
	CHECK_STR(key_of("arn:aws:bedrock:us-west-2:1:inference-profile/us.anthropic.claude-opus-4-7"),
		  "anthropic.claude-opus-4-7");
	CHECK_STR(key_of("arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0"),
		  "amazon.nova-lite");
	/* more of a name is not a suffix */
	CHECK_STR(key_of("anthropic.claude-opus-4-9"), "(none)");
	CHECK_STR(key_of("amazon.nova-pro2-v1:0"), "(none)");
	CHECK_STR(key_of("anthropic.claude-opus-4-55"), "(none)");
	CHECK_STR(key_of("arn:aws:bedrock:us-east-1:1:application-inference-profile/abc"), "(none)");
	CHECK_STR(key_of("cohere.command-r-v1:0"), "(none)");
	CHECK(known_lookup(NULL) == NULL);
}

/* Every line: found by its own key, with a version suffix and a region
 * prefix, with sane limits. */
static void test_every_line(void)
{
	size_t n, i;
	const struct known_model *t = known_table(&n);
	char id[256];

	CHECK(n >= 40);
	for (i = 0; i < n; i++) {
		t_cur = t[i].key;
		CHECK(known_lookup(t[i].key) == &t[i]);
		snprintf(id, sizeof id, "us.%s-v1:0", t[i].key);
		CHECK(known_lookup(id) == &t[i]);
		snprintf(id, sizeof id, "%s-20250101-v1:0", t[i].key);
		CHECK(known_lookup(id) == &t[i]);
		CHECK(t[i].context_window >= 8000 && t[i].max_tokens >= 2048);
		CHECK(t[i].max_tokens <= t[i].context_window);
		CHECK(t[i].name && t[i].name[0]);
		CHECK(t[i].thinking == KNOWN_THINK_NONE || t[i].reasoning);
		CHECK(known_thinking(t[i].key) == t[i].thinking);
		CHECK(known_caching(t[i].key) == (t[i].caching != 0));
		CHECK(known_caching_tools(t[i].key) == (t[i].caching == KNOWN_CACHE_ALL));
	}
}

static void test_families(void)
{
	static const char *const fam[] = {"anthropic.claude-3-", "anthropic.claude-sonnet-4",
					  "anthropic.claude-opus-4-7", "amazon.nova-",
					  "amazon.nova-2-", "meta.llama3", "meta.llama4",
					  "mistral.", "deepseek.", "openai.gpt-oss", "qwen."};
	size_t n, i, j;
	const struct known_model *t = known_table(&n);

	for (j = 0; j < sizeof fam / sizeof fam[0]; j++) {
		int found = 0;

		for (i = 0; i < n; i++)
			found |= strncmp(t[i].key, fam[j], strlen(fam[j])) == 0;
		if (!found)
			fprintf(stderr, "  family missing: %s\n", fam[j]);
		CHECK(found);
	}
	CHECK(known_lookup("anthropic.claude-opus-4-7")->context_window == 1000000);
	CHECK(known_lookup("anthropic.claude-opus-4-7")->max_tokens == 128000);
	CHECK(known_lookup("amazon.nova-lite-v1:0")->context_window == 300000);
	CHECK(known_lookup("amazon.nova-micro-v1:0")->image == 0);
}

static void test_thinking_shape(void)
{
	CHECK(known_thinking("us.anthropic.claude-opus-4-7") == KNOWN_THINK_ADAPTIVE);
	CHECK(known_thinking("anthropic.claude-opus-4-20250514-v1:0") == KNOWN_THINK_BUDGET);
	CHECK(known_thinking("us.anthropic.claude-opus-4-6-v1") == KNOWN_THINK_BUDGET);
	/* not in the table: the version rule */
	CHECK(known_thinking("us.anthropic.claude-opus-4-9") == KNOWN_THINK_ADAPTIVE);
	CHECK(known_thinking("anthropic.claude-opus-4-9-20270101-v1:0") == KNOWN_THINK_ADAPTIVE);
	CHECK(known_thinking("anthropic.claude-opus-5") == KNOWN_THINK_ADAPTIVE);
	CHECK(known_thinking("anthropic.claude-haiku-5-1-v1:0") == KNOWN_THINK_ADAPTIVE);
	CHECK(known_thinking("anthropic.claude-sonnet-4-7-v1:0") == KNOWN_THINK_BUDGET);
	CHECK(known_thinking("anthropic.claude-opus-4-20990101-v1:0") == KNOWN_THINK_BUDGET);
	CHECK(known_thinking("anthropic.claude-3-9-sonnet-v1:0") == KNOWN_THINK_BUDGET);
	CHECK(known_thinking("anthropic.claude-x") == KNOWN_THINK_BUDGET);
	CHECK(known_thinking("arn:aws:bedrock:us-east-1:1:application-inference-profile/x") ==
	      KNOWN_THINK_BUDGET);
	CHECK(known_thinking("amazon.nova-pro-v1:0") == KNOWN_THINK_NONE);
	CHECK(known_thinking("cohere.command-r-v1:0") == KNOWN_THINK_NONE);
	CHECK(known_thinking(NULL) == KNOWN_THINK_NONE);
}

static void test_caching_and_effort(void)
{
	CHECK(known_caching("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == 1);
	CHECK(known_caching("meta.llama3-70b-instruct-v1:0") == 0);
	CHECK(known_caching("cohere.command-r-v1:0") == -1);
	/* Nova caches system and messages, never tools; Claude all three */
	CHECK(known_caching("us.amazon.nova-pro-v1:0") == 1);
	CHECK(known_caching_tools("us.amazon.nova-pro-v1:0") == 0);
	CHECK(known_caching_tools("global.anthropic.claude-opus-4-7") == 1);
	CHECK(known_caching_tools("meta.llama3-70b-instruct-v1:0") == 0);
	CHECK(known_caching_tools("arn:aws:bedrock:us-east-1:1:application-inference-profile/x") == -1);
	/* the Claude 5 family (platform.claude.com models overview): 1M, 128K, adaptive */
	{
		static const char *const c5[] = {"us.anthropic.claude-opus-5-5", "anthropic.claude-opus-5",
						 "global.anthropic.claude-sonnet-5-5",
						 "us.anthropic.claude-haiku-5-5", "anthropic.claude-fable-5-2"};

		for (size_t i = 0; i < sizeof c5 / sizeof c5[0]; i++) {
			const struct known_model *k = known_lookup(c5[i]);

			t_cur = c5[i];
			CHECK(k && k->context_window == 1000000 && k->max_tokens == 128000 && k->image);
			CHECK(known_thinking(c5[i]) == KNOWN_THINK_ADAPTIVE && known_caching_tools(c5[i]) == 1);
		}
		CHECK_STR(known_lookup("anthropic.claude-opus-5-5-v1:0")->name, "Claude Opus 5.5");
	}
	CHECK_STR(known_effort_of_budget(1024), "low");
	CHECK_STR(known_effort_of_budget(4095), "low");
	CHECK_STR(known_effort_of_budget(4096), "medium");
	CHECK_STR(known_effort_of_budget(16383), "medium");
	CHECK_STR(known_effort_of_budget(16384), "high");
	CHECK(known_budget_of_effort("low") == 2048);
	CHECK(known_budget_of_effort("medium") == 8192);
	CHECK(known_budget_of_effort("high") == 24576);
	CHECK(known_budget_of_effort("max") == 0);
	CHECK(known_budget_of_effort(NULL) == 0);
}

int main(void)
{
	T_RUN(test_suffixes);
	T_RUN(test_every_line);
	T_RUN(test_families);
	T_RUN(test_thinking_shape);
	T_RUN(test_caching_and_effort);
	return t_done("test_known");
}
