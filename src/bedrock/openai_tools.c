/* openai_tools: the tool half of the request mapping (see openai.h): tools and
 * tool_choice -> toolConfig, assistant tool_calls -> toolUse blocks, tool
 * messages -> toolResult blocks. */
#include "bedrock/openai_map.h"

#include <string.h>

/* Placeholder text of a tool result that came empty: Converse rejects blank
 * text blocks, and dropping the result would orphan its toolUse. */
#define OAI_EMPTY_RESULT "(empty)"

/* The input schema of a function declared without parameters. */
#define OAI_EMPTY_SCHEMA "{\"type\":\"object\",\"properties\":{}}"
#define OAI_EMPTY_SCHEMA_JSON "{\"json\":" OAI_EMPTY_SCHEMA "}"

/* Containers nested in the valid JSON text s (0 for a scalar). */
static int oai_nesting(struct slice s)
{
	int depth = 0, max = 0, in_str = 0;
	size_t i;

	for (i = 0; i < s.n; i++) {
		uint8_t c = s.p[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

/* jw_raw and jw_tok copy checked JSON text without counting its nesting:
 * refuses text v that, pasted at the writer's current depth, would take the
 * Converse request past the writer's depth limit (JSON_MAX_DEPTH). */
static int oai_fits(struct oai_map *m, struct slice v, const char *param)
{
	int room = m->w.max_depth - m->w.depth;

	if (oai_nesting(v) > room)
		return oai_fail(m, param, "nested too deeply (at most %d levels here)", room);
	return 0;
}

/* function.arguments (a JSON text in a string) -> the toolUse input object. */
static int oai_tool_input(struct oai_map *m, int args, const char *param)
{
	struct slice s;
	struct err tmp;

	if (args < 0) {
		jw_raw(&m->w, "{}", 2);
		return 0;
	}
	if (oai_str(m, args, &m->s1, &s, param) < 0)
		return -1;
	if (oai_blank(s)) {
		jw_raw(&m->w, "{}", 2);
		return 0;
	}
	if (slice_trim(s).p[0] != '{' ||
	    json_validate((const char *)s.p, s.n, NULL, NULL, &tmp) < 0)
		return oai_fail(m, param, "expected a JSON object in a string");
	if (oai_fits(m, s, param) < 0)
		return -1;
	jw_raw(&m->w, s.p, s.n);
	return 0;
}

int oai_tool_calls(struct oai_map *m, int calls, const char *param)
{
	char pp[128];
	size_t i = 0;
	int c;

	if (json_type(m->d, calls) != JSON_ARRAY)
		return oai_fail(m, param, "expected an array");
	for (c = json_child(m->d, calls); c >= 0; c = json_next(m->d, c), i++) {
		int id = json_get(m->d, c, "id"), type = oai_member(m->d, c, "type");
		int fn = json_get(m->d, c, "function");
		int name = json_get(m->d, fn, "name");
		struct slice s;

		oai_pathf(pp, sizeof pp, "%s[%zu]", param, i);
		if (json_type(m->d, c) != JSON_OBJECT || json_type(m->d, fn) != JSON_OBJECT)
			return oai_fail(m, pp, "expected {id, type: \"function\", function: {name, "
					       "arguments}}");
		if (type >= 0 && !json_str_eq(m->d, type, "function"))
			return oai_fail(m, pp, "only tool calls of type \"function\" are supported");
		if (oai_open(m, ROLE_ASSISTANT, pp) < 0)
			return -1;
		jw_obj_begin(&m->w);
		jw_key(&m->w, "toolUse");
		jw_obj_begin(&m->w);
		oai_pathf(pp, sizeof pp, "%s[%zu].id", param, i);
		if (oai_str(m, id, &m->s1, &s, pp) < 0)
			return -1;
		if (!s.n)
			return oai_fail(m, pp, "empty tool call id");
		jw_kstrn(&m->w, "toolUseId", s.p, s.n);
		oai_pathf(pp, sizeof pp, "%s[%zu].function.name", param, i);
		if (oai_str(m, name, &m->s1, &s, pp) < 0)
			return -1;
		if (!s.n)
			return oai_fail(m, pp, "empty function name");
		jw_kstrn(&m->w, "name", s.p, s.n);
		jw_key(&m->w, "input");
		oai_pathf(pp, sizeof pp, "%s[%zu].function.arguments", param, i);
		if (oai_tool_input(m, oai_member(m->d, fn, "arguments"), pp) < 0)
			return -1;
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
		m->tool_blocks = 1;
	}
	return 0;
}

/* A tool message -> a toolResult block in a user turn. */
int oai_tool_result(struct oai_map *m, int msg, const char *param)
{
	int id = json_get(m->d, msg, "tool_call_id"), c = oai_member(m->d, msg, "content");
	int nblocks = 0, p;
	struct slice s;
	char pp[96];

	oai_pathf(pp, sizeof pp, "%s.tool_call_id", param);
	if (id < 0)
		return oai_fail(m, pp, "missing");
	if (oai_str(m, id, &m->s2, &s, pp) < 0)
		return -1;
	if (oai_open(m, ROLE_USER, param) < 0)
		return -1;
	jw_obj_begin(&m->w);
	jw_key(&m->w, "toolResult");
	jw_obj_begin(&m->w);
	jw_kstrn(&m->w, "toolUseId", s.p, s.n);
	jw_key(&m->w, "content");
	jw_arr_begin(&m->w);
	oai_pathf(pp, sizeof pp, "%s.content", param);
	if (json_type(m->d, c) == JSON_STRING) {
		if (oai_str(m, c, &m->s1, &s, pp) < 0)
			return -1;
		if (!oai_blank(s)) {
			jw_obj_begin(&m->w);
			jw_kstrn(&m->w, "text", s.p, s.n);
			jw_obj_end(&m->w);
			nblocks++;
		}
	} else if (json_type(m->d, c) == JSON_ARRAY) {
		for (p = json_child(m->d, c); p >= 0; p = json_next(m->d, p)) {
			int t = json_get(m->d, p, "text");

			if (!json_str_eq(m->d, json_get(m->d, p, "type"), "text"))
				return oai_fail(m, pp, "tool results take text parts only");
			if (oai_str(m, t, &m->s1, &s, pp) < 0)
				return -1;
			if (oai_blank(s))
				continue;
			jw_obj_begin(&m->w);
			jw_kstrn(&m->w, "text", s.p, s.n);
			jw_obj_end(&m->w);
			nblocks++;
		}
	} else if (c >= 0) {
		return oai_fail(m, pp, "expected a string or an array of text parts");
	}
	if (!nblocks) {
		jw_obj_begin(&m->w);
		jw_kstr(&m->w, "text", OAI_EMPTY_RESULT);
		jw_obj_end(&m->w);
	}
	jw_arr_end(&m->w);
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
	m->tool_blocks = 1;
	return 0;
}

static int oai_tool_specs(struct oai_map *m, int tools)
{
	char pp[64];
	size_t i = 0;
	int t;

	for (t = json_child(m->d, tools); t >= 0; t = json_next(m->d, t), i++) {
		int fn = json_get(m->d, t, "function"), type = oai_member(m->d, t, "type");
		int desc = oai_member(m->d, fn, "description");
		int params = oai_member(m->d, fn, "parameters");
		struct slice s;
		char pf[96];

		oai_pathf(pp, sizeof pp, "tools[%zu]", i);
		if (json_type(m->d, t) != JSON_OBJECT || json_type(m->d, fn) != JSON_OBJECT)
			return oai_fail(m, pp, "expected {type: \"function\", function: {name, "
					       "description, parameters}}");
		if (type >= 0 && !json_str_eq(m->d, type, "function"))
			return oai_fail(m, pp, "only tools of type \"function\" are supported");
		jw_obj_begin(&m->w);
		jw_key(&m->w, "toolSpec");
		jw_obj_begin(&m->w);
		oai_pathf(pf, sizeof pf, "tools[%zu].function.name", i);
		if (oai_str(m, json_get(m->d, fn, "name"), &m->s1, &s, pf) < 0)
			return -1;
		if (!s.n)
			return oai_fail(m, pf, "empty function name");
		jw_kstrn(&m->w, "name", s.p, s.n);
		if (desc >= 0) {
			oai_pathf(pf, sizeof pf, "tools[%zu].function.description", i);
			if (oai_str(m, desc, &m->s1, &s, pf) < 0)
				return -1;
			if (s.n)
				jw_kstrn(&m->w, "description", s.p, s.n);
		}
		jw_key(&m->w, "inputSchema");
		jw_obj_begin(&m->w);
		jw_key(&m->w, "json");
		if (params >= 0) {
			oai_pathf(pf, sizeof pf, "tools[%zu].function.parameters", i);
			if (json_type(m->d, params) != JSON_OBJECT)
				return oai_fail(m, pf, "expected a JSON Schema object");
			if (oai_fits(m, json_raw_value(m->d, params), pf) < 0)
				return -1;
			jw_tok(&m->w, m->d, params);
		} else {
			jw_raw(&m->w, OAI_EMPTY_SCHEMA, sizeof OAI_EMPTY_SCHEMA - 1);
		}
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
		jw_obj_end(&m->w);
		oai_cache_after(m, t);
	}
	return 0;
}

/* tool_choice -> 0 (none), 1 (auto / not given), or writes nothing and
 * returns 2 with *name set for a named function, 3 for required. */
enum { CHOICE_NONE, CHOICE_AUTO, CHOICE_TOOL, CHOICE_ANY };

static int oai_tool_choice(struct oai_map *m, int *choice, int *name)
{
	int c = oai_member(m->d, 0, "tool_choice"), fn;

	*choice = CHOICE_AUTO;
	*name = -1;
	if (c < 0)
		return 0;
	if (json_type(m->d, c) == JSON_STRING) {
		if (json_str_eq(m->d, c, "none"))
			*choice = CHOICE_NONE;
		else if (json_str_eq(m->d, c, "required"))
			*choice = CHOICE_ANY;
		else if (!json_str_eq(m->d, c, "auto"))
			return oai_fail(m, "tool_choice",
					"expected \"none\", \"auto\", \"required\" or "
					"{\"type\":\"function\",\"function\":{\"name\":...}}");
		return 0;
	}
	fn = json_get(m->d, c, "function");
	*name = fn >= 0 ? json_get(m->d, fn, "name") : json_get(m->d, c, "name");
	if (json_type(m->d, c) != JSON_OBJECT || json_type(m->d, *name) != JSON_STRING)
		return oai_fail(m, "tool_choice",
				"expected {\"type\":\"function\",\"function\":{\"name\":...}}");
	*choice = CHOICE_TOOL;
	return 0;
}

/* Converse refuses toolUse/toolResult blocks without a toolConfig: with no
 * tools to offer (none given, or tool_choice "none"), an inert placeholder. */
static void oai_placeholder_tool(struct jw *w)
{
	jw_obj_begin(w);
	jw_key(w, "toolSpec");
	jw_obj_begin(w);
	jw_kstr(w, "name", "no_tools_available");
	jw_kstr(w, "description", "No tools are available for this request. Never call this.");
	jw_key(w, "inputSchema");
	jw_raw(w, OAI_EMPTY_SCHEMA_JSON, sizeof OAI_EMPTY_SCHEMA_JSON - 1);
	jw_obj_end(w);
	jw_obj_end(w);
}

int oai_tools(struct oai_map *m)
{
	int tools = oai_member(m->d, 0, "tools"), choice, name;
	struct slice s;

	if (oai_tool_choice(m, &choice, &name) < 0)
		return -1;
	if (tools >= 0 && json_type(m->d, tools) != JSON_ARRAY)
		return oai_fail(m, "tools", "expected an array");
	if (json_size(m->d, tools) <= 0 || choice == CHOICE_NONE) {
		if (!m->tool_blocks)
			return 0;
		jw_key(&m->w, "toolConfig");
		jw_obj_begin(&m->w);
		jw_key(&m->w, "tools");
		jw_arr_begin(&m->w);
		oai_placeholder_tool(&m->w);
		jw_arr_end(&m->w);
		jw_obj_end(&m->w);
		return 0;
	}
	jw_key(&m->w, "toolConfig");
	jw_obj_begin(&m->w);
	jw_key(&m->w, "tools");
	jw_arr_begin(&m->w);
	if (oai_tool_specs(m, tools) < 0)
		return -1;
	jw_arr_end(&m->w);
	jw_key(&m->w, "toolChoice");
	jw_obj_begin(&m->w);
	if (choice == CHOICE_AUTO) {
		jw_key(&m->w, "auto");
		jw_raw(&m->w, "{}", 2);
	} else if (choice == CHOICE_ANY) {
		jw_key(&m->w, "any");
		jw_raw(&m->w, "{}", 2);
	} else {
		if (oai_str(m, name, &m->s1, &s, "tool_choice.function.name") < 0)
			return -1;
		jw_key(&m->w, "tool");
		jw_obj_begin(&m->w);
		jw_kstrn(&m->w, "name", s.p, s.n);
		jw_obj_end(&m->w);
	}
	jw_obj_end(&m->w);
	jw_obj_end(&m->w);
	return 0;
}
