/* known: the model families brock knows (SPEC 5, 3.5): context window,
 * largest output, image input, reasoning, the shape of Anthropic's thinking
 * field (a token budget, or adaptive only) and prompt-caching support. One
 * table line per model, each citing its source (AWS model cards, Bedrock
 * docs). Pure: no I/O, no allocation.
 *
 * Matching: the id is reduced to the model part (an ARN's resource after its
 * last '/', a geographic profile prefix such as "us." or "global." dropped)
 * and compared with each key as a prefix. What follows the key must be a
 * suffix, never more of the name: end, ':' (":0"), "-v<digits>", "-<digits>:"
 * ("-1:0"), a date "-YYYYMMDD", or '-' and a letter ("-instruct"). So
 * "claude-opus-4-20250514-v1:0" is Claude Opus 4 (the date is not a minor
 * version) and "claude-opus-4-7" is not Claude Opus 4. When several keys
 * match the longest wins. Unknown models get NULL (the discovery defaults
 * apply).
 *
 * Thinking shape for Claude models the table does not list: Opus 4.7 and
 * later, and every Claude of major version 5 and later, take adaptive
 * thinking only (Bedrock refuses thinking.type=enabled for them); older ones
 * a budget. */
#ifndef BROCK_KNOWN_H
#define BROCK_KNOWN_H

#include <stddef.h>

enum known_think {
	KNOWN_THINK_NONE = 0,    /* no Anthropic thinking field */
	KNOWN_THINK_BUDGET = 1,  /* thinking.type=enabled + budget_tokens */
	KNOWN_THINK_ADAPTIVE = 2 /* thinking.type=adaptive + output_config.effort only */
};

/* Effort <-> budget (SPEC 3.5): budget < 4096 -> low, < 16384 -> medium,
 * else high; low 2048, medium 8192, high 24576 the other way. */
#define KNOWN_BUDGET_LOW 2048
#define KNOWN_BUDGET_MEDIUM 8192
#define KNOWN_BUDGET_HIGH 24576

struct known_model {
	const char *key;       /* model id without region prefix and version suffix */
	const char *name;      /* "Claude Opus 4.7" */
	long long context_window, max_tokens;
	int image;             /* takes image input */
	int reasoning;         /* reasons (any way: budget, adaptive, always, own field) */
	int thinking;          /* enum known_think: the Anthropic field it takes */
	int caching;           /* enum known_cache: where it takes cachePoint blocks */
};

enum known_cache {
	KNOWN_CACHE_NO = 0,  /* no prompt caching */
	KNOWN_CACHE_MSG = 1, /* in system and messages (Nova: never in tools) */
	KNOWN_CACHE_ALL = 2  /* in system, messages and toolConfig.tools (Claude) */
};

/* The table entry for a model id, profile id or ARN, or NULL. */
const struct known_model *known_lookup(const char *model_id);
/* The thinking shape: the table's, else the Claude version rule above for
 * Anthropic ids, else KNOWN_THINK_NONE (non-Anthropic) / KNOWN_THINK_BUDGET
 * (an Anthropic model or an ARN the rule cannot read). */
int known_thinking(const char *model_id);
/* 1: takes cache points, 0: known not to, -1: unknown model. */
int known_caching(const char *model_id);
/* The same for cache points in toolConfig.tools. */
int known_caching_tools(const char *model_id);
/* "low", "medium" or "high" for a budget; the budget for an effort (0 for
 * anything else). */
const char *known_effort_of_budget(long long budget);
long long known_budget_of_effort(const char *effort);
/* How much brock prefers a model for `brock chat` with no model configured
 * (SPEC 1): the newest Claude Sonnet, then Nova 2 Pro / Nova Pro, Nova 2
 * Lite, Claude Haiku, other Claude models, then any known model; a profile
 * of region's geography ("us." in us-east-1) before a global one before the
 * bare id. 0: never picked (unknown, or not a text model brock knows). */
long known_preference(const char *model_id, const char *region);
/* The table itself (tests walk it). */
const struct known_model *known_table(size_t *n);

#endif
