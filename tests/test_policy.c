/* test_policy: model globs (bare ids and amazon-bedrock/ refs), the
 * 60-second windows behind rpm/tpm and their Retry-After, UTC budget
 * periods, and costs in nano-dollars. */
#include "bedrock/policy.h"
#include "t.h"

#include <stdint.h>

static void test_glob(void)
{
	CHECK(policy_glob("*", ""));
	CHECK(policy_glob("*", "anything/at all"));
	CHECK(policy_glob("", ""));
	CHECK(!policy_glob("", "a"));
	CHECK(policy_glob("abc", "abc"));
	CHECK(!policy_glob("abc", "abcd"));
	CHECK(!policy_glob("abcd", "abc"));
	CHECK(!policy_glob("ABC", "abc")); /* case matters */
	CHECK(policy_glob("a?c", "abc"));
	CHECK(!policy_glob("a?c", "ac"));
	CHECK(policy_glob("*anthropic*", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"));
	CHECK(policy_glob("us.anthropic.*", "us.anthropic.claude-opus-4-6-v1:0"));
	CHECK(!policy_glob("us.anthropic.*", "eu.anthropic.claude-opus-4-6-v1:0"));
	CHECK(policy_glob("*-v1:0", "amazon.nova-pro-v1:0"));
	CHECK(!policy_glob("*-v1:0", "amazon.nova-pro-v1:0x"));
	CHECK(policy_glob("a*b*c", "aXXbYYc"));
	CHECK(policy_glob("a*b*c", "abbbc"));
	CHECK(!policy_glob("a*b*c", "aXXbYY"));
	CHECK(policy_glob("**", "x"));
	CHECK(policy_glob("a*", "a"));
	CHECK(!policy_glob("?", ""));
	/* backtracking that would be exponential if done naively */
	CHECK(!policy_glob("*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

#define GL(lit) lit, sizeof(lit) - 1

static void test_model_allowed(void)
{
	const char *id = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

	CHECK(policy_model_allowed("", 0, id)); /* no globs: every model */
	CHECK(policy_model_allowed(GL("us.anthropic.*\0"), id));
	CHECK(policy_model_allowed(GL("amazon-bedrock/us.anthropic.*\0"), id));
	CHECK(policy_model_allowed(GL("amazon-bedrock/*\0"), id));
	CHECK(!policy_model_allowed(GL("amazon-bedrock/eu.*\0"), id));
	CHECK(policy_model_allowed(GL("amazon.nova*\0*sonnet*\0"), id));
	CHECK(!policy_model_allowed(GL("amazon.nova*\0meta.*\0"), id));
	CHECK(policy_model_allowed(GL("amazon.nova*\0meta.*\0"), "meta.llama3-70b-instruct-v1:0"));
	/* a ref is not matched by a bare-id glob anchored at the start */
	CHECK(!policy_model_allowed(GL("amazon-bedrock\0"), id));
	/* broken packing (no final NUL): refused, never read past */
	CHECK(!policy_model_allowed("us.*", 4, id));
}

static void test_window(void)
{
	struct policy_window w;
	int64_t t = 1000000;

	memset(&w, 0, sizeof w);
	CHECK(policy_window_sum(&w, t) == 0);
	CHECK(policy_window_wait(&w, t, 1) == 0);
	policy_window_add(&w, t, 1);
	policy_window_add(&w, t, 2);
	CHECK(policy_window_sum(&w, t) == 3);
	policy_window_add(&w, t + 10, 5);
	CHECK(policy_window_sum(&w, t + 10) == 8);
	CHECK(policy_window_sum(&w, t + 59) == 8);
	CHECK(policy_window_sum(&w, t + 60) == 5); /* the first second left */
	CHECK(policy_window_sum(&w, t + 69) == 5);
	CHECK(policy_window_sum(&w, t + 70) == 0);
	/* at t+10: 8 in the window; under a limit of 8, wait until t's bucket
	 * leaves (t+60): 50 s */
	CHECK(policy_window_wait(&w, t + 10, 8) == 50);
	CHECK(policy_window_wait(&w, t + 10, 9) == 0);
	/* under a limit of 5 the bucket of t+10 must leave too: t+70 */
	CHECK(policy_window_wait(&w, t + 10, 5) == 60);
	CHECK(policy_window_wait(&w, t + 10, 1) == 60);
	/* a slot reused a minute later starts from zero */
	policy_window_add(&w, t + 60, 4);
	CHECK(policy_window_sum(&w, t + 60) == 9);
	/* time going backwards (a bucket from the future) is not counted */
	CHECK(policy_window_sum(&w, t - 5) == 0);
	/* rpm-style: 3 per minute, one per second */
	memset(&w, 0, sizeof w);
	policy_window_add(&w, t, 1);
	policy_window_add(&w, t + 1, 1);
	policy_window_add(&w, t + 2, 1);
	CHECK(policy_window_sum(&w, t + 2) == 3);
	CHECK(policy_window_wait(&w, t + 2, 3) == 58);
	CHECK(policy_window_wait(&w, t + 59, 3) == 1);
	CHECK(policy_window_wait(&w, t + 60, 3) == 0);
	/* negative and zero additions leave the count alone */
	policy_window_add(&w, t + 2, -7);
	policy_window_add(&w, t + 2, 0);
	CHECK(policy_window_sum(&w, t + 2) == 3);
}

static void test_periods(void)
{
	/* 2026-12-05T11:59:10Z */
	int64_t t = 1796471950, day = 1796471950 / 86400;

	CHECK(policy_period_start(t, POLICY_DAY) == day);
	CHECK(policy_period_left(t, POLICY_DAY) == (day + 1) * 86400 - t);
	CHECK(policy_period_start(t, POLICY_MONTH) == day - 4); /* 2026-12-01 */
	/* to 2027-01-01T00:00:00Z */
	CHECK(policy_period_left(t, POLICY_MONTH) == 1798761600 - t);
	/* the last second of a day and of a month */
	CHECK(policy_period_left(1798761599, POLICY_DAY) == 1);
	CHECK(policy_period_left(1798761599, POLICY_MONTH) == 1);
	CHECK(policy_period_left(1798761600, POLICY_MONTH) == 31 * 86400);
	/* February of a leap year: 2028-02-10 -> 2028-03-01 */
	CHECK(policy_period_left(1833753600, POLICY_MONTH) == 20 * 86400);
	/* before 1970 the day still starts at midnight */
	CHECK(policy_period_start(-1, POLICY_DAY) == -1);
	CHECK(policy_period_left(-1, POLICY_DAY) == 1);
}

static void test_cost(void)
{
	struct config_cost c = {15, 75, 1.5, 18.75};
	struct conv_usage u;

	memset(&u, 0, sizeof u);
	u.input_tokens = 1000;
	u.output_tokens = 100;
	/* 1000 x 15/1e6 + 100 x 75/1e6 = 0.015 + 0.0075 = $0.0225 */
	CHECK(policy_cost_nanos(&c, &u) == 22500000);
	u.cache_read = 2000;
	u.cache_write = 400;
	/* + 0.003 + 0.0075 */
	CHECK(policy_cost_nanos(&c, &u) == 33000000);
	u.input_tokens = -5; /* nonsense counts cost nothing */
	CHECK(policy_cost_nanos(&c, &u) == 18000000);
	memset(&u, 0, sizeof u);
	u.input_tokens = 1;
	c.input = 0.25;
	CHECK(policy_cost_nanos(&c, &u) == 250); /* a quarter of a micro-dollar */
	u.input_tokens = INT64_MAX;
	c.input = 1e9;
	CHECK(policy_cost_nanos(&c, &u) == INT64_MAX);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_glob);
	T_RUN(test_model_allowed);
	T_RUN(test_window);
	T_RUN(test_periods);
	T_RUN(test_cost);
	return t_done(argv[0]);
}
