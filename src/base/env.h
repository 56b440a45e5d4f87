/* env: the process environment as a value passed down (no getenv() deep in
 * modules), so tests and serve mode can hand each module the variables they
 * mean it to see. Whitespace-only values count as unset (SPEC section 2). */
#ifndef BROCK_ENV_H
#define BROCK_ENV_H

struct env {
	char *const *vars; /* NULL-terminated "NAME=value" array (e.g. environ) */
};

/* The value of NAME with surrounding whitespace trimmed into a pointer to the
 * original string, or NULL when unset, empty or whitespace-only. The result
 * may keep trailing whitespace: use env_get_buf when that matters. */
const char *env_get(const struct env *env, const char *name);

/* Copies the trimmed value into out (size n); returns its length, 0 when unset,
 * -1 when it does not fit. */
int env_get_buf(const struct env *env, const char *name, char *out, unsigned n);

/* True for "true"/"1"/"yes"/"on" in any case. */
int env_is_true(const struct env *env, const char *name);

#endif
