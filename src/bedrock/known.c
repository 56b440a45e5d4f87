/* known: the table of known model families and its matching rule. See
 * known.h.
 *
 * Sources: "card" is the Amazon Bedrock model card,
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-<maker>-<model>.md;
 * "caching" is the Bedrock prompt-caching page,
 * https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html
 * (supported models and TTLs; its table of cacheable fields: system,
 * messages and tools for Claude, system and messages for Nova);
 * "claude.com" is https://platform.claude.com/docs/en/models/<model>/overview
 * (context window, max output, thinking) for models newer than the cards; "params" the Bedrock model parameter pages,
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-<maker>.html. */
#include "bedrock/known.h"

#include <string.h>


#define K 1000LL
#define M 1000000LL

enum { NO = 0, YES = 1 };
#define C_MSG KNOWN_CACHE_MSG
#define C_ALL KNOWN_CACHE_ALL
#define T_NONE KNOWN_THINK_NONE
#define T_BUDGET KNOWN_THINK_BUDGET
#define T_ADAPT KNOWN_THINK_ADAPTIVE

/* key, name, context, max output, image, reasoning, thinking, caching */
/* clang-format off */
static const struct known_model known_models[] = {
	/* Anthropic */
	/* card anthropic-claude-3-haiku */
	{"anthropic.claude-3-haiku", "Claude 3 Haiku", 200 * K, 4096, YES, NO, T_NONE, NO},
	/* card anthropic-claude-3-sonnet */
	{"anthropic.claude-3-sonnet", "Claude 3 Sonnet", 200 * K, 4096, YES, NO, T_NONE, NO},
	/* card anthropic-claude-3-opus */
	{"anthropic.claude-3-opus", "Claude 3 Opus", 200 * K, 4096, YES, NO, T_NONE, NO},
	/* card anthropic-claude-3-5-haiku; caching: GA */
	{"anthropic.claude-3-5-haiku", "Claude 3.5 Haiku", 200 * K, 8192, NO, NO, T_NONE, C_ALL},
	/* card anthropic-claude-3-5-sonnet; caching: v2 preview only */
	{"anthropic.claude-3-5-sonnet", "Claude 3.5 Sonnet", 200 * K, 8192, YES, NO, T_NONE, NO},
	/* card anthropic-claude-3-7-sonnet; caching: GA */
	{"anthropic.claude-3-7-sonnet", "Claude 3.7 Sonnet", 200 * K, 64 * K, YES, YES, T_BUDGET, C_ALL},
	/* card anthropic-claude-sonnet-4 */
	{"anthropic.claude-sonnet-4", "Claude Sonnet 4", 200 * K, 64 * K, YES, YES, T_BUDGET, C_ALL},
	/* card anthropic-claude-opus-4 */
	{"anthropic.claude-opus-4", "Claude Opus 4", 200 * K, 32 * K, YES, YES, T_BUDGET, C_ALL},
	/* card anthropic-claude-opus-4-1 */
	{"anthropic.claude-opus-4-1", "Claude Opus 4.1", 200 * K, 32 * K, YES, YES, T_BUDGET, C_ALL},
	/* card anthropic-claude-sonnet-4-5 */
	{"anthropic.claude-sonnet-4-5", "Claude Sonnet 4.5", 200 * K, 64 * K, YES, YES, T_BUDGET, C_ALL},
	/* card anthropic-claude-haiku-4-5; caching: 1h TTL */
	{"anthropic.claude-haiku-4-5", "Claude Haiku 4.5", 200 * K, 64 * K, YES, YES, T_BUDGET, C_ALL},
	/* card anthropic-claude-opus-4-5; caching: 1h TTL */
	{"anthropic.claude-opus-4-5", "Claude Opus 4.5", 200 * K, 64 * K, YES, YES, T_BUDGET, C_ALL},
	/* card anthropic-claude-opus-4-6: 1M ctx, 128K out */
	{"anthropic.claude-opus-4-6", "Claude Opus 4.6", 1 * M, 128 * K, YES, YES, T_BUDGET, C_ALL},
	/* card anthropic-claude-sonnet-4-6; platform.claude.com/docs/en/models/sonnet-4-6: 1M, 128K */
	{"anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6", 1 * M, 128 * K, YES, YES, T_BUDGET, C_ALL},
	/* card anthropic-claude-opus-4-7: 1M ctx, 128K out, thinking.type adaptive only */
	{"anthropic.claude-opus-4-7", "Claude Opus 4.7", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* platform.claude.com/docs/en/models/opus-4-8: 1M, 128K, adaptive */
	{"anthropic.claude-opus-4-8", "Claude Opus 4.8", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* platform.claude.com/docs/en/models/sonnet-5: 1M, 128K, adaptive only */
	{"anthropic.claude-sonnet-5", "Claude Sonnet 5", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* claude.com opus-5: 1M, 128K, adaptive */
	{"anthropic.claude-opus-5", "Claude Opus 5", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* claude.com opus-5-5: 1M, 128K, adaptive (always on) */
	{"anthropic.claude-opus-5-5", "Claude Opus 5.5", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* claude.com models overview (current lineup): Sonnet 5.5 1M, 128K, adaptive */
	{"anthropic.claude-sonnet-5-5", "Claude Sonnet 5.5", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* claude.com models overview: Haiku 5.5 1M, 128K, adaptive */
	{"anthropic.claude-haiku-5-5", "Claude Haiku 5.5", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* claude.com fable-5: 1M, 128K, adaptive (always on) */
	{"anthropic.claude-fable-5", "Claude Fable 5", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* claude.com fable-5-1: 1M, 128K, adaptive (always on) */
	{"anthropic.claude-fable-5-1", "Claude Fable 5.1", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* claude.com models overview: Fable 5.2 1M, 128K, adaptive (always on) */
	{"anthropic.claude-fable-5-2", "Claude Fable 5.2", 1 * M, 128 * K, YES, YES, T_ADAPT, C_ALL},
	/* Amazon Nova */
	/* card amazon-nova-micro; caching: GA */
	{"amazon.nova-micro", "Nova Micro", 128 * K, 5 * K, NO, NO, T_NONE, C_MSG},
	/* card amazon-nova-lite: 300K ctx, 5K out */
	{"amazon.nova-lite", "Nova Lite", 300 * K, 5 * K, YES, NO, T_NONE, C_MSG},
	/* card amazon-nova-pro */
	{"amazon.nova-pro", "Nova Pro", 300 * K, 5 * K, YES, NO, T_NONE, C_MSG},
	/* card amazon-nova-premier; caching: GA */
	{"amazon.nova-premier", "Nova Premier", 1 * M, 32 * K, YES, NO, T_NONE, C_MSG},
	/* card amazon-nova-2-lite: 1M ctx, 64K out, extended thinking */
	{"amazon.nova-2-lite", "Nova 2 Lite", 1 * M, 64 * K, YES, YES, T_NONE, C_MSG},
	/* card amazon-nova-2-pro */
	{"amazon.nova-2-pro", "Nova 2 Pro", 1 * M, 64 * K, YES, YES, T_NONE, C_MSG},
	/* Meta Llama */
	/* card meta-llama3-8b-instruct; params meta */
	{"meta.llama3-8b-instruct", "Llama 3 8B Instruct", 8 * K, 2048, NO, NO, T_NONE, NO},
	/* card meta-llama3-70b-instruct */
	{"meta.llama3-70b-instruct", "Llama 3 70B Instruct", 8 * K, 2048, NO, NO, T_NONE, NO},
	/* card meta-llama3-1-8b-instruct */
	{"meta.llama3-1-8b-instruct", "Llama 3.1 8B Instruct", 128 * K, 2048, NO, NO, T_NONE, NO},
	/* card meta-llama3-1-70b-instruct */
	{"meta.llama3-1-70b-instruct", "Llama 3.1 70B Instruct", 128 * K, 2048, NO, NO, T_NONE, NO},
	/* card meta-llama3-1-405b-instruct */
	{"meta.llama3-1-405b-instruct", "Llama 3.1 405B Instruct", 128 * K, 2048, NO, NO, T_NONE, NO},
	/* card meta-llama3-2-1b-instruct */
	{"meta.llama3-2-1b-instruct", "Llama 3.2 1B Instruct", 128 * K, 2048, NO, NO, T_NONE, NO},
	/* card meta-llama3-2-3b-instruct */
	{"meta.llama3-2-3b-instruct", "Llama 3.2 3B Instruct", 128 * K, 2048, NO, NO, T_NONE, NO},
	/* card meta-llama3-2-11b-instruct */
	{"meta.llama3-2-11b-instruct", "Llama 3.2 11B Vision Instruct", 128 * K, 2048, YES, NO, T_NONE, NO},
	/* card meta-llama3-2-90b-instruct */
	{"meta.llama3-2-90b-instruct", "Llama 3.2 90B Vision Instruct", 128 * K, 2048, YES, NO, T_NONE, NO},
	/* card meta-llama3-3-70b-instruct */
	{"meta.llama3-3-70b-instruct", "Llama 3.3 70B Instruct", 128 * K, 2048, NO, NO, T_NONE, NO},
	/* card meta-llama4-scout-17b-instruct: 3.5M ctx */
	{"meta.llama4-scout-17b-instruct", "Llama 4 Scout 17B Instruct", 3500 * K, 8192, YES, NO, T_NONE, NO},
	/* card meta-llama4-maverick-17b-instruct: 1M ctx */
	{"meta.llama4-maverick-17b-instruct", "Llama 4 Maverick 17B Instruct", 1 * M, 8192, YES, NO, T_NONE, NO},
	/* Mistral */
	/* card mistral-mistral-7b-instruct; params mistral */
	{"mistral.mistral-7b-instruct", "Mistral 7B Instruct", 32 * K, 8192, NO, NO, T_NONE, NO},
	/* card mistral-mixtral-8x7b-instruct */
	{"mistral.mixtral-8x7b-instruct", "Mixtral 8x7B Instruct", 32 * K, 4096, NO, NO, T_NONE, NO},
	/* card mistral-mistral-small-2402 */
	{"mistral.mistral-small-2402", "Mistral Small (24.02)", 32 * K, 8192, NO, NO, T_NONE, NO},
	/* card mistral-mistral-large-2402 */
	{"mistral.mistral-large-2402", "Mistral Large (24.02)", 32 * K, 8192, NO, NO, T_NONE, NO},
	/* card mistral-mistral-large-2407 */
	{"mistral.mistral-large-2407", "Mistral Large 2 (24.07)", 128 * K, 8192, NO, NO, T_NONE, NO},
	/* card mistral-pixtral-large-2502 */
	{"mistral.pixtral-large-2502", "Pixtral Large (25.02)", 128 * K, 8192, YES, NO, T_NONE, NO},
	/* DeepSeek */
	/* card deepseek-r1: reasons always */
	{"deepseek.r1", "DeepSeek-R1", 128 * K, 32 * K, NO, YES, T_NONE, NO},
	/* card deepseek-v3 */
	{"deepseek.v3", "DeepSeek-V3.1", 128 * K, 8192, NO, YES, T_NONE, NO},
	/* OpenAI open-weight */
	/* params openai: 128,000 ctx; developers.openai.com gpt-oss: 131,072 out */
	{"openai.gpt-oss-20b", "gpt-oss-20b", 128 * K, 128 * K, NO, YES, T_NONE, NO},
	/* params openai: 128,000 ctx */
	{"openai.gpt-oss-120b", "gpt-oss-120b", 128 * K, 128 * K, NO, YES, T_NONE, NO},
	/* Qwen */
	/* card qwen-qwen3-32b */
	{"qwen.qwen3-32b", "Qwen3 32B", 128 * K, 32 * K, NO, YES, T_NONE, NO},
	/* card qwen-qwen3-235b-a22b-2507 */
	{"qwen.qwen3-235b-a22b-2507", "Qwen3 235B A22B 2507", 256 * K, 64 * K, NO, NO, T_NONE, NO},
	/* card qwen-qwen3-coder-30b-a3b */
	{"qwen.qwen3-coder-30b-a3b", "Qwen3 Coder 30B A3B", 256 * K, 64 * K, NO, NO, T_NONE, NO},
	/* card qwen-qwen3-coder-480b-a35b */
	{"qwen.qwen3-coder-480b-a35b", "Qwen3 Coder 480B A35B", 256 * K, 64 * K, NO, NO, T_NONE, NO},
};
/* clang-format on */

const struct known_model *known_table(size_t *n)
{
	*n = sizeof known_models / sizeof known_models[0];
	return known_models;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Digits at s, counted. */
static size_t digits(const char *s)
{
	size_t n = 0;

	while (is_digit(s[n]))
		n++;
	return n;
}

/* 1 when rest (what follows a key) is a suffix and not more of a name. */
static int is_suffix(const char *rest)
{
	size_t d;

	if (rest[0] == '\0' || rest[0] == ':')
		return 1;
	if (rest[0] != '-')
		return 0;
	rest++;
	if (rest[0] == 'v' && is_digit(rest[1]))
		return 1; /* -v1, -v1:0, -v2 */
	if (is_alpha(rest[0]))
		return 1; /* -instruct, ... */
	d = digits(rest);
	if (d == 8 && (rest[8] == '\0' || rest[8] == '-' || rest[8] == ':'))
		return 1; /* a date, never a minor version */
	return d > 0 && rest[d] == ':'; /* -1:0 */
}

/* The model part of an id: after an ARN's last '/', without a geographic
 * profile prefix. */
static const char *model_part(const char *id)
{
	static const char *const geo[] = {"us.", "us-gov.", "eu.", "apac.", "ap.",
					  "ca.", "jp.",     "au.", "global.", NULL};
	const char *s = strrchr(id, '/');

	s = s ? s + 1 : id;
	for (size_t i = 0; geo[i]; i++)
		if (strncmp(s, geo[i], strlen(geo[i])) == 0 && strchr(s + strlen(geo[i]), '.'))
			return s + strlen(geo[i]);
	return s;
}

const struct known_model *known_lookup(const char *model_id)
{
	const struct known_model *best = NULL;
	const char *s;
	size_t i, bestn = 0;

	if (!model_id)
		return NULL;
	s = model_part(model_id);
	for (i = 0; i < sizeof known_models / sizeof known_models[0]; i++) {
		size_t k = strlen(known_models[i].key);

		if (k > bestn && strncmp(s, known_models[i].key, k) == 0 && is_suffix(s + k)) {
			best = &known_models[i];
			bestn = k;
		}
	}
	return best;
}

/* Claude's version from the id: "claude-<tier>-<major>[-<minor>]" (tier
 * first, Claude 4 on) or "claude-<major>[-<minor>]-<tier>" (Claude 3). A
 * date is not a minor version. 0 when the id is not read. */
static int claude_version(const char *s, int *opus, int *major, int *minor)
{
	const char *c = strstr(s, "claude-");
	size_t d;

	if (!c)
		return 0;
	c += 7;
	*opus = strncmp(c, "opus-", 5) == 0;
	*minor = 0;
	if (is_alpha(c[0])) { /* tier first */
		c = strchr(c, '-');
		if (!c || !is_digit(c[1]))
			return 0;
		c++;
	}
	d = digits(c);
	if (d == 0 || d > 2)
		return 0;
	*major = (c[0] - '0') * (d == 2 ? 10 : 1) + (d == 2 ? c[1] - '0' : 0);
	c += d;
	if (c[0] == '-' && (d = digits(c + 1)) > 0 && d <= 2 && (c[1 + d] == '\0' ||
	    c[1 + d] == '-' || c[1 + d] == ':'))
		*minor = d == 2 ? (c[1] - '0') * 10 + (c[2] - '0') : c[1] - '0';
	return 1;
}

int known_thinking(const char *model_id)
{
	const struct known_model *k = known_lookup(model_id);
	int opus, major, minor;

	if (k)
		return k->thinking;
	if (!model_id || !strstr(model_id, "anthropic"))
		return strncmp(model_id ? model_id : "", "arn:", 4) == 0 ? KNOWN_THINK_BUDGET
									: KNOWN_THINK_NONE;
	if (!claude_version(model_part(model_id), &opus, &major, &minor))
		return KNOWN_THINK_BUDGET;
	if (major >= 5 || (opus && major == 4 && minor >= 7))
		return KNOWN_THINK_ADAPTIVE;
	return KNOWN_THINK_BUDGET;
}

int known_caching(const char *model_id)
{
	const struct known_model *k = known_lookup(model_id);

	return k ? k->caching != KNOWN_CACHE_NO : -1;
}

int known_caching_tools(const char *model_id)
{
	const struct known_model *k = known_lookup(model_id);

	return k ? k->caching == KNOWN_CACHE_ALL : -1;
}

const char *known_effort_of_budget(long long budget)
{
	if (budget < 4096)
		return "low";
	if (budget < 16384)
		return "medium";
	return "high";
}

long long known_budget_of_effort(const char *effort)
{
	if (!effort)
		return 0;
	if (strcmp(effort, "low") == 0)
		return KNOWN_BUDGET_LOW;
	if (strcmp(effort, "medium") == 0)
		return KNOWN_BUDGET_MEDIUM;
	if (strcmp(effort, "high") == 0)
		return KNOWN_BUDGET_HIGH;
	return 0;
}

/* The geography prefix of a region: us-east-1 -> "us.", eu-west-1 -> "eu.",
 * ap-southeast-2 -> "apac.". */
static int same_geo(const char *id, const char *region)
{
	if (!region)
		return 0;
	if (strncmp(region, "us-gov-", 7) == 0)
		return strncmp(id, "us-gov.", 7) == 0;
	if (strncmp(region, "us-", 3) == 0)
		return strncmp(id, "us.", 3) == 0;
	if (strncmp(region, "eu-", 3) == 0)
		return strncmp(id, "eu.", 3) == 0;
	if (strncmp(region, "ap-", 3) == 0)
		return strncmp(id, "apac.", 5) == 0 || strncmp(id, "jp.", 3) == 0 ||
		       strncmp(id, "au.", 3) == 0;
	if (strncmp(region, "ca-", 3) == 0)
		return strncmp(id, "ca.", 3) == 0;
	return 0;
}

long known_preference(const char *model_id, const char *region)
{
	const struct known_model *k = known_lookup(model_id);
	const char *s = model_id ? model_part(model_id) : "";
	int opus = 0, major = 0, minor = 0;
	long family;

	if (!k || strncmp(model_id, "arn:", 4) == 0)
		return 0;
	claude_version(s, &opus, &major, &minor);
	if (strstr(s, "claude-sonnet") || strstr(s, "-sonnet"))
		family = 6;
	else if (strncmp(s, "amazon.nova-2-pro", 17) == 0 || strncmp(s, "amazon.nova-pro", 15) == 0)
		family = 5;
	else if (strncmp(s, "amazon.nova-2-lite", 18) == 0)
		family = 4;
	else if (strstr(s, "claude-haiku") || strstr(s, "-haiku"))
		family = 3;
	else if (strstr(s, "claude"))
		family = 2;
	else
		family = 1;
	if (strncmp(s, "amazon.nova-2", 13) == 0)
		major = 2; /* Nova 2 before Nova 1 */
	return family * 1000000L + (long)(major * 100 + minor) * 10L +
	       (same_geo(model_id, region) ? 3 : s != model_id ? 2 : 1);
}
