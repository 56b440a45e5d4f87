#include "base/env.h"

#include <string.h>

#include "base/buf.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static const char *raw(const struct env *env, const char *name)
{
	size_t n = strlen(name);

	if (!env || !env->vars)
		return NULL;
	for (char *const *v = env->vars; *v; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

const char *env_get(const struct env *env, const char *name)
{
	const char *v = raw(env, name);

	if (!v)
		return NULL;
	while (is_space(*v))
		v++;
	return *v ? v : NULL;
}

int env_get_buf(const struct env *env, const char *name, char *out, unsigned n)
{
	const char *v = env_get(env, name);
	size_t len;

	if (n)
		out[0] = '\0';
	if (!v)
		return 0;
	len = strlen(v);
	while (len && is_space(v[len - 1]))
		len--;
	if (len >= n)
		return -1;
	memcpy(out, v, len);
	out[len] = '\0';
	return (int)len;
}

static int eq_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		if (str_lower_ch((unsigned char)*a) != *b)
			return 0;
	}
	return *a == *b;
}

int env_is_true(const struct env *env, const char *name)
{
	char v[16];

	if (env_get_buf(env, name, v, sizeof v) <= 0)
		return 0;
	return eq_nocase(v, "true") || eq_nocase(v, "1") || eq_nocase(v, "yes") || eq_nocase(v, "on");
}
