/* openai_map: what the two halves of the OpenAI request mapping share
 * (openai_req.c: the body, messages, content; openai_tools.c: tools, tool
 * calls, tool results). Private to src/bedrock/openai_*.c; openai.h is the
 * interface. */
#ifndef BROCK_OPENAI_MAP_H
#define BROCK_OPENAI_MAP_H

#include "bedrock/openai.h"
#include "wire/json.h"

enum { ROLE_NONE = 0, ROLE_USER = 1, ROLE_ASSISTANT = 2 };

/* One request being mapped. */
struct oai_map {
	const struct json_doc *d;
	struct oai_req *rq;
	const struct config_features *def; /* the gateway's bedrock.* defaults, or NULL */
	struct jw w;
	struct buf s1, s2; /* decoded strings, decoded image bytes */
	int role;          /* Converse role of the open message, or ROLE_NONE */
	int tool_blocks;   /* toolUse/toolResult blocks were written */
	struct err *e;
	/* prompt caching (SPEC 3.5): the content parts with cache_control, in
	 * Bedrock's order (system, then messages), and what each becomes */
	int cache_ok;                    /* the model takes cache points */
	size_t ncache;
	struct { int tok, emit, ttl_1h; } cache[OAI_MAX_CACHE_MARKS];
};

/* ---- openai_req.c ---- */

/* Writes the cachePoint block due after content part `part`, if any. */
void oai_cache_after(struct oai_map *m, int part);

/* A field path for messages and oai_req.param ("messages[2].content[0]");
 * cut when too long (it only names the place). */
void oai_pathf(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets oai_req.param to param and fails with ERR_USAGE "param: message". */
int oai_fail(struct oai_map *m, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The string t (decoded into sc when it has escapes). */
int oai_str(struct oai_map *m, int t, struct buf *sc, struct slice *out, const char *param);
/* Member of an object, with JSON null read as absent. */
int oai_member(const struct json_doc *d, int obj, const char *key);
/* 1 when s is empty or whitespace only. */
int oai_blank(struct slice s);
/* Opens (or continues, when it is the same role) a Converse message. */
int oai_open(struct oai_map *m, int role, const char *param);

/* ---- openai_feat.c ---- */

/* serviceTier, performanceConfig, guardrailConfig, requestMetadata: the
 * request's service_tier and user over m->def. */
int oai_features(struct oai_map *m);
/* additionalModelRequestFields: the client's object, anthropic_beta, thinking. */
int oai_model_fields(struct oai_map *m);

/* ---- openai_tools.c ---- */

/* An assistant message's tool_calls -> toolUse blocks. */
int oai_tool_calls(struct oai_map *m, int calls, const char *param);
/* A tool message -> a toolResult block in a user turn. */
int oai_tool_result(struct oai_map *m, int msg, const char *param);
/* tools and tool_choice -> toolConfig (a placeholder when tool blocks were
 * written but no tools are offered). */
int oai_tools(struct oai_map *m);

#endif
