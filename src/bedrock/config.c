/* config: load the JSON5 config into a plain struct, and the file side of
 * editing it (see config.h). Layout of this file: path resolution, the schema
 * reader, file I/O (bounded read, lock, atomic replace), and the
 * get/set/unset commands. The text editor itself (set/unset over byte spans)
 * is config_edit.c. */
#include "bedrock/config.h"
#include "bedrock/config_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "wire/json.h"
#include "wire/json5.h"

#define CFG_STR_MAX (1u << 20)
#define CFG_MAX_LIST 4096 /* models, filters, keys: plenty, and bounded */

/* ---- path resolution ---------------------------------------------------------- */

static int join_path(char *out, size_t outn, const char *a, const char *b, struct err *e)
{
	int r = snprintf(out, outn, "%s%s", a, b);

	if (r < 0 || (size_t)r >= outn)
		return err_set(e, ERR_USAGE, "config path too long");
	return 0;
}

int config_path(const struct env *env, const char *flag, char *out, size_t outn, struct err *e)
{
	char v[CONFIG_PATH_MAX];
	int n;

	if (flag && flag[0])
		return join_path(out, outn, flag, "", e);
	if ((n = env_get_buf(env, "BROCK_CONFIG", v, sizeof v)) < 0)
		return err_set(e, ERR_USAGE, "BROCK_CONFIG is too long");
	if (n > 0)
		return join_path(out, outn, v, "", e);
	/* XDG: a relative XDG_CONFIG_HOME is invalid and must be ignored */
	if (env_get_buf(env, "XDG_CONFIG_HOME", v, sizeof v) > 0 && v[0] == '/')
		return join_path(out, outn, v, "/brock/config.json5", e);
	if (env_get_buf(env, "HOME", v, sizeof v) > 0)
		return join_path(out, outn, v, "/.config/brock/config.json5", e);
	return err_set(e, ERR_USAGE,
		       "cannot locate the config file: HOME is not set (use --config or BROCK_CONFIG)");
}

/* ---- schema reader ------------------------------------------------------------ */

struct ld {
	const struct j5_doc *d;
	const char *name;
	struct err *e;
};

static int type_err(const struct ld *l, const char *path, const char *want)
{
	return err_set(l->e, ERR_USAGE, "%s: %s: expected %s", l->name, path, want);
}

/* A member of obj that is present and not null, else J5_NONE. */
static uint32_t get(const struct ld *l, uint32_t obj, const char *key)
{
	uint32_t v = obj == J5_NONE ? J5_NONE : j5_member_str(l->d, obj, key);

	if (v != J5_NONE && l->d->nodes[v].type == J5_NULL)
		return J5_NONE;
	return v;
}

static int want_obj(const struct ld *l, uint32_t v, const char *path)
{
	if (v != J5_NONE && l->d->nodes[v].type != J5_OBJECT)
		return type_err(l, path, "an object");
	return 0;
}

static int read_str(const struct ld *l, uint32_t v, const char *path, char **out)
{
	struct buf b;

	if (v == J5_NONE)
		return 0;
	if (l->d->nodes[v].type != J5_STRING)
		return type_err(l, path, "a string");
	buf_init(&b, CFG_STR_MAX);
	if (j5_string(l->d, v, &b) < 0) {
		buf_free(&b);
		return err_set(l->e, ERR_USAGE, "%s: %s: string too long", l->name, path);
	}
	if (memchr(b.p, 0, b.len)) {
		buf_free(&b);
		return err_set(l->e, ERR_USAGE, "%s: %s: contains a NUL character", l->name, path);
	}
	free(*out);
	*out = (char *)b.p; /* ownership moves to the config */
	return 0;
}

static int read_num(const struct ld *l, uint32_t v, const char *path, double *out)
{
	double x;

	if (v == J5_NONE)
		return 0;
	if (l->d->nodes[v].type != J5_NUMBER)
		return type_err(l, path, "a number");
	j5_number(l->d, v, &x);
	if (!isfinite(x))
		return type_err(l, path, "a finite number (not Infinity or NaN)");
	if (x < 0)
		return type_err(l, path, "a number >= 0");
	*out = x;
	return 0;
}

static int read_int(const struct ld *l, uint32_t v, const char *path, long long *out)
{
	double x = 0;

	if (v == J5_NONE)
		return 0;
	if (read_num(l, v, path, &x) < 0)
		return -1;
	if (x != floor(x))
		return type_err(l, path, "a whole number");
	if (x > 9007199254740992.0)
		return type_err(l, path, "a number below 2^53");
	*out = (long long)x;
	return 0;
}

static int read_bool(const struct ld *l, uint32_t v, const char *path, int *out)
{
	if (v == J5_NONE)
		return 0;
	if (l->d->nodes[v].type != J5_BOOL)
		return type_err(l, path, "true or false");
	*out = j5_bool(l->d, v);
	return 0;
}

static void free_list(char **v, size_t n, int wipe)
{
	for (size_t i = 0; v && i < n; i++) {
		if (wipe && v[i])
			secure_zero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

static int read_str_list(const struct ld *l, uint32_t v, const char *path, char ***out, size_t *n)
{
	const struct j5_doc *d = l->d;
	char **list;
	size_t k = 0;

	if (v == J5_NONE)
		return 0;
	if (d->nodes[v].type != J5_ARRAY)
		return type_err(l, path, "an array of strings");
	if (d->nodes[v].count > CFG_MAX_LIST)
		return type_err(l, path, "at most 4096 entries");
	list = calloc(d->nodes[v].count + 1, sizeof *list);
	if (!list)
		return err_set(l->e, ERR_OTHER, "out of memory");
	for (uint32_t c = v + 1; c < d->nodes[v].next; c = d->nodes[c].next, k++) {
		char p[256];
		snprintf(p, sizeof p, "%s[%zu]", path, k);
		if (read_str(l, c, p, &list[k]) < 0 || !list[k]) {
			if (!list[k])
				type_err(l, p, "a string");
			free_list(list, k + 1, 1);
			return -1;
		}
	}
	free_list(*out, *n, 1);
	*out = list;
	*n = k;
	return 0;
}

static int read_discovery(const struct ld *l, uint32_t o, const char *path,
			  struct config_discovery *dc)
{
	char p[256];
	int en = dc->enabled;

	if (o == J5_NONE)
		return 0;
	if (want_obj(l, o, path) < 0)
		return -1;
#define SUB(k) (snprintf(p, sizeof p, "%s.%s", path, k), p)
	if (read_bool(l, get(l, o, "enabled"), SUB("enabled"), &en) < 0 ||
	    read_str(l, get(l, o, "region"), SUB("region"), &dc->region) < 0 ||
	    read_str_list(l, get(l, o, "providerFilter"), SUB("providerFilter"),
			  &dc->provider_filter, &dc->n_provider_filter) < 0 ||
	    read_int(l, get(l, o, "refreshInterval"), SUB("refreshInterval"),
		     &dc->refresh_interval) < 0 ||
	    read_int(l, get(l, o, "defaultContextWindow"), SUB("defaultContextWindow"),
		     &dc->default_context_window) < 0 ||
	    read_int(l, get(l, o, "defaultMaxTokens"), SUB("defaultMaxTokens"),
		     &dc->default_max_tokens) < 0)
		return -1;
#undef SUB
	dc->enabled = en;
	return 0;
}

static int read_model(const struct ld *l, uint32_t o, const char *path, struct config_model *m)
{
	char p[320];
	uint32_t cost;

	m->reasoning = -1;
	if (want_obj(l, o, path) < 0)
		return -1;
#define SUB(k) (snprintf(p, sizeof p, "%s.%s", path, k), p)
	if (read_str(l, get(l, o, "id"), SUB("id"), &m->id) < 0)
		return -1;
	if (!m->id || !m->id[0])
		return type_err(l, SUB("id"), "a non-empty string (the model id)");
	if (read_str(l, get(l, o, "name"), SUB("name"), &m->name) < 0 ||
	    read_bool(l, get(l, o, "reasoning"), SUB("reasoning"), &m->reasoning) < 0 ||
	    read_str_list(l, get(l, o, "input"), SUB("input"), &m->input, &m->n_input) < 0 ||
	    read_int(l, get(l, o, "contextWindow"), SUB("contextWindow"), &m->context_window) < 0 ||
	    read_int(l, get(l, o, "maxTokens"), SUB("maxTokens"), &m->max_tokens) < 0)
		return -1;
	cost = get(l, o, "cost");
	if (cost != J5_NONE) {
		if (want_obj(l, cost, SUB("cost")) < 0)
			return -1;
		m->has_cost = 1;
#define CSUB(k) (snprintf(p, sizeof p, "%s.cost.%s", path, k), p)
		if (read_num(l, get(l, cost, "input"), CSUB("input"), &m->cost.input) < 0 ||
		    read_num(l, get(l, cost, "output"), CSUB("output"), &m->cost.output) < 0 ||
		    read_num(l, get(l, cost, "cacheRead"), CSUB("cacheRead"), &m->cost.cache_read) < 0 ||
		    read_num(l, get(l, cost, "cacheWrite"), CSUB("cacheWrite"),
			     &m->cost.cache_write) < 0)
			return -1;
#undef CSUB
	}
#undef SUB
	return 0;
}

static int read_provider(const struct ld *l, uint32_t o, struct config_provider *pv)
{
	static const char base[] = "models.providers[\"amazon-bedrock\"]";
	const struct j5_doc *d = l->d;
	uint32_t ms;
	size_t k = 0;

	if (o == J5_NONE)
		return 0;
	if (want_obj(l, o, base) < 0)
		return -1;
	pv->present = 1;
	if (read_str(l, get(l, o, "baseUrl"), "models.providers[\"amazon-bedrock\"].baseUrl",
		     &pv->base_url) < 0 ||
	    read_str(l, get(l, o, "api"), "models.providers[\"amazon-bedrock\"].api", &pv->api) < 0 ||
	    read_str(l, get(l, o, "auth"), "models.providers[\"amazon-bedrock\"].auth", &pv->auth) < 0)
		return -1;
	ms = get(l, o, "models");
	if (ms == J5_NONE)
		return 0;
	if (d->nodes[ms].type != J5_ARRAY)
		return type_err(l, "models.providers[\"amazon-bedrock\"].models", "an array");
	if (d->nodes[ms].count > CFG_MAX_LIST)
		return type_err(l, "models.providers[\"amazon-bedrock\"].models",
				"at most 4096 models");
	pv->models = calloc(d->nodes[ms].count + 1, sizeof *pv->models);
	if (!pv->models)
		return err_set(l->e, ERR_OTHER, "out of memory");
	for (uint32_t c = ms + 1; c < d->nodes[ms].next; c = d->nodes[c].next, k++) {
		char p[256];
		snprintf(p, sizeof p, "%s.models[%zu]", base, k);
		pv->n_models = k + 1;
		if (read_model(l, c, p, &pv->models[k]) < 0)
			return -1;
	}
	return 0;
}

/* bedrock.requestMetadata: an object of strings. */
static int read_meta(const struct ld *l, uint32_t o, struct config_features *f)
{
	const struct j5_doc *d = l->d;
	size_t n, k = 0;

	if (o == J5_NONE)
		return 0;
	if (d->nodes[o].type != J5_OBJECT)
		return type_err(l, "bedrock.requestMetadata", "an object of strings");
	n = d->nodes[o].count;
	if (n > 16)
		return type_err(l, "bedrock.requestMetadata", "at most 16 entries");
	f->meta_keys = calloc(n + 1, sizeof *f->meta_keys);
	f->meta_values = calloc(n + 1, sizeof *f->meta_values);
	if (!f->meta_keys || !f->meta_values)
		return err_set(l->e, ERR_OTHER, "out of memory");
	for (uint32_t c = o + 1; c < d->nodes[o].next; c = d->nodes[c].next, k++) {
		struct buf kb;

		buf_init(&kb, 257);
		if (j5_key(d, c, &kb) < 0 || kb.len == 0) {
			buf_free(&kb);
			return type_err(l, "bedrock.requestMetadata", "keys of 1 to 256 bytes");
		}
		f->meta_keys[k] = (char *)kb.p;
		f->n_meta = k + 1;
		if (read_str(l, c, "bedrock.requestMetadata value", &f->meta_values[k]) < 0)
			return -1;
		if (!f->meta_values[k])
			return type_err(l, "bedrock.requestMetadata", "string values");
	}
	return 0;
}

/* bedrock.*: the feature defaults (SPEC 3.5). */
static int read_features(const struct ld *l, struct config_features *f)
{
	uint32_t br = get(l, 0, "bedrock"), g;
	int trace = 0;

	if (want_obj(l, br, "bedrock") < 0)
		return -1;
	g = get(l, br, "guardrail");
	if (want_obj(l, g, "bedrock.guardrail") < 0 ||
	    read_str(l, get(l, br, "serviceTier"), "bedrock.serviceTier", &f->service_tier) < 0 ||
	    read_str(l, get(l, br, "latency"), "bedrock.latency", &f->latency) < 0 ||
	    read_str(l, get(l, g, "identifier"), "bedrock.guardrail.identifier", &f->guardrail_id) < 0 ||
	    read_str(l, get(l, g, "version"), "bedrock.guardrail.version", &f->guardrail_version) < 0)
		return -1;
	if (get(l, g, "trace") != J5_NONE && l->d->nodes[get(l, g, "trace")].type == J5_STRING) {
		char *t = NULL;

		if (read_str(l, get(l, g, "trace"), "bedrock.guardrail.trace", &t) < 0)
			return -1;
		trace = strcmp(t, "enabled") == 0 || strcmp(t, "enabled_full") == 0;
		free(t);
	} else if (read_bool(l, get(l, g, "trace"), "bedrock.guardrail.trace", &trace) < 0) {
		return -1;
	}
	f->guardrail_trace = trace;
	return read_meta(l, get(l, br, "requestMetadata"), f);
}

static int read_schema(const struct ld *l, struct config *c)
{
	uint32_t models, agents, def, model, serve, plugins, ent, br, bc;

	models = get(l, 0, "models");
	if (want_obj(l, models, "models") < 0)
		return -1;
	if (read_discovery(l, get(l, models, "bedrockDiscovery"), "models.bedrockDiscovery",
			   &c->discovery) < 0)
		return -1;
	uint32_t provs = get(l, models, "providers");
	if (want_obj(l, provs, "models.providers") < 0 ||
	    read_provider(l, get(l, provs, "amazon-bedrock"), &c->bedrock) < 0)
		return -1;

	/* newer OpenClaw layout; read second so that its fields win */
	plugins = get(l, 0, "plugins");
	ent = get(l, plugins, "entries");
	br = get(l, ent, "amazon-bedrock");
	bc = get(l, br, "config");
	if (want_obj(l, plugins, "plugins") < 0 || want_obj(l, ent, "plugins.entries") < 0 ||
	    want_obj(l, br, "plugins.entries[\"amazon-bedrock\"]") < 0 ||
	    want_obj(l, bc, "plugins.entries[\"amazon-bedrock\"].config") < 0 ||
	    read_discovery(l, get(l, bc, "discovery"),
			   "plugins.entries[\"amazon-bedrock\"].config.discovery", &c->discovery) < 0)
		return -1;

	agents = get(l, 0, "agents");
	def = get(l, agents, "defaults");
	model = get(l, def, "model");
	if (want_obj(l, agents, "agents") < 0 || want_obj(l, def, "agents.defaults") < 0)
		return -1;
	/* OpenClaw also accepts the short form model: "provider/id" */
	if (model != J5_NONE && l->d->nodes[model].type == J5_STRING) {
		if (read_str(l, model, "agents.defaults.model", &c->primary_model) < 0)
			return -1;
	} else if (want_obj(l, model, "agents.defaults.model") < 0 ||
		   read_str(l, get(l, model, "primary"), "agents.defaults.model.primary",
			    &c->primary_model) < 0) {
		return -1;
	}

	serve = get(l, 0, "serve");
	if (want_obj(l, serve, "serve") < 0 ||
	    read_str(l, get(l, serve, "listen"), "serve.listen", &c->serve_listen) < 0 ||
	    read_str_list(l, get(l, serve, "apiKeys"), "serve.apiKeys", &c->serve_api_keys,
			  &c->n_serve_api_keys) < 0 ||
	    read_int(l, get(l, serve, "maxConnections"), "serve.maxConnections",
		     &c->serve_max_conns) < 0 ||
	    read_int(l, get(l, serve, "maxConnectionsPerIp"), "serve.maxConnectionsPerIp",
		     &c->serve_max_conns_per_ip) < 0 ||
	    read_str_list(l, get(l, serve, "trustedProxies"), "serve.trustedProxies",
			  &c->serve_trusted_proxies, &c->n_serve_trusted_proxies) < 0 ||
	    read_str_list(l, get(l, serve, "allowOrigins"), "serve.allowOrigins",
			  &c->serve_allow_origins, &c->n_serve_allow_origins) < 0 ||
	    read_str_list(l, get(l, serve, "anthropicBetas"), "serve.anthropicBetas",
			  &c->serve_anthropic_betas, &c->n_serve_anthropic_betas) < 0 ||
	    read_str(l, get(l, serve, "log"), "serve.log", &c->serve_log) < 0)
		return -1;
	return read_features(l, &c->features);
}

static void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->discovery.enabled = -1;
	c->discovery.refresh_interval = 3600;
	c->discovery.default_context_window = 32000;
	c->discovery.default_max_tokens = 4096;
}

/* "FILE:LINE:COL: message" from a failed parse. */
int config_parse_err(const char *name, const struct j5_doc *d, struct err *e)
{
	if (e && e->cls == ERR_OTHER)
		return -1; /* out of memory, not a syntax error */
	return err_set(e, ERR_USAGE, "%s:%u:%u: %s", name, (unsigned)d->err_line,
		       (unsigned)d->err_col, d->err_msg);
}

int config_parse(const char *name, const char *text, size_t n, struct config *c, struct err *e)
{
	struct j5_doc d;
	struct ld l = {&d, name, e};
	int rc;

	config_defaults(c);
	if (j5_is_blank(text, n))
		return 0;
	if (j5_parse(&d, text, n, e) < 0) {
		config_parse_err(name, &d, e);
		j5_free(&d);
		return -1;
	}
	if (d.nodes[0].type != J5_OBJECT)
		rc = err_set(e, ERR_USAGE, "%s: the top level must be an object ({ ... })", name);
	else
		rc = read_schema(&l, c);
	j5_free(&d);
	if (rc < 0)
		config_free(c);
	return rc;
}

void config_free(struct config *c)
{
	free(c->bedrock.base_url);
	free(c->bedrock.api);
	free(c->bedrock.auth);
	for (size_t i = 0; c->bedrock.models && i < c->bedrock.n_models; i++) {
		struct config_model *m = &c->bedrock.models[i];
		free(m->id);
		free(m->name);
		free_list(m->input, m->n_input, 0);
	}
	free(c->bedrock.models);
	free(c->discovery.region);
	free_list(c->discovery.provider_filter, c->discovery.n_provider_filter, 0);
	free(c->primary_model);
	free(c->features.service_tier);
	free(c->features.latency);
	free(c->features.guardrail_id);
	free(c->features.guardrail_version);
	free_list(c->features.meta_keys, c->features.n_meta, 0);
	free_list(c->features.meta_values, c->features.n_meta, 0);
	free(c->serve_listen);
	free_list(c->serve_api_keys, c->n_serve_api_keys, 1);
	free_list(c->serve_trusted_proxies, c->n_serve_trusted_proxies, 0);
	free_list(c->serve_allow_origins, c->n_serve_allow_origins, 0);
	free_list(c->serve_anthropic_betas, c->n_serve_anthropic_betas, 0);
	free(c->serve_log);
	char path[CONFIG_PATH_MAX];
	int exists = c->exists;
	memcpy(path, c->path, sizeof path);
	config_defaults(c);
	memcpy(c->path, path, sizeof path);
	c->exists = exists;
}

/* ---- file I/O ----------------------------------------------------------------- */

/* The config text (<= CFG_TEXT_MAX) into out; *exists = 0 and success when
 * it is missing. */
static int read_text(const char *file, struct buf *out, int *exists, struct err *e)
{
	int r = file_read(file, CFG_TEXT_MAX, out, e);

	*exists = r == 1;
	return r < 0 ? -1 : 0;
}

int config_load_file(const char *file, struct config *c, struct err *e)
{
	struct buf b;
	int exists, rc;

	config_defaults(c);
	buf_init(&b, CFG_TEXT_MAX + 65536);
	if (read_text(file, &b, &exists, e) < 0) {
		buf_free(&b);
		return -1;
	}
	rc = exists ? config_parse(file, (const char *)b.p, b.len, c, e) : 0;
	buf_free(&b);
	if (rc < 0)
		return -1;
	snprintf(c->path, sizeof c->path, "%s", file);
	c->exists = exists;
	return 0;
}

int config_load(const struct env *env, const char *flag, struct config *c, struct err *e)
{
	char path[CONFIG_PATH_MAX];
	struct err ignore;

	if (config_path(env, flag, path, sizeof path, &ignore) < 0) {
		config_defaults(c); /* no HOME (a bare service): an empty config */
		return 0;
	}
	return config_load_file(path, c, e);
}

/* Splits "dir/base" (a "base" alone lives in "."). */
static void split_path(const char *file, char *dir, size_t dn, const char **base)
{
	const char *sl = strrchr(file, '/');

	if (!sl) {
		snprintf(dir, dn, ".");
		*base = file;
	} else if (sl == file) {
		snprintf(dir, dn, "/");
		*base = sl + 1;
	} else {
		snprintf(dir, dn, "%.*s", (int)(sl - file), file);
		*base = sl + 1;
	}
}

typedef int (*edit_fn)(const char *name, const char *text, size_t n, const void *arg,
		       struct buf *out, struct err *e);

/* Lock, read, edit, write when changed, unlock. */
static int modify(const char *file, edit_fn fn, const void *arg, struct err *e)
{
	char dir[CONFIG_PATH_MAX], real[PATH_MAX];
	const char *base, *target = file;
	struct buf in, out;
	struct stat st;
	int lfd, exists, rc = -1;

	split_path(file, dir, sizeof dir, &base);
	if (file_mkdirs(dir, 0700, e) < 0)
		return -1;
	/* the directory is the lock: no sidecar is ever left beside the config
	 * (SPEC 4), and the file itself is replaced by rename */
	if ((lfd = file_lock_dir(dir, e)) < 0)
		return -1;
	/* edit a symlinked config (dotfiles) through the link, but only our own
	 * link: one planted by somebody else in a shared directory would point
	 * the rewrite at a file of their choosing (realpath walks past the
	 * kernel's protected_symlinks) */
	if (lstat(file, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (st.st_uid != geteuid()) {
			close(lfd);
			return err_set(e, ERR_USAGE, "%s is a symbolic link owned by another user; "
				       "refusing to edit through it (edit its target instead)", file);
		}
		if (realpath(file, real))
			target = real;
	}
	buf_init(&in, CFG_TEXT_MAX + 65536);
	buf_init(&out, CFG_TEXT_MAX);
	if (read_text(target, &in, &exists, e) == 0 &&
	    fn(file, (const char *)in.p, in.len, arg, &out, e) == 0) {
		if (out.len == in.len && (in.len == 0 || memcmp(out.p, in.p, in.len) == 0))
			rc = 0; /* nothing changed: leave the file alone */
		else
			rc = file_write_atomic(target, out.p, out.len, 0600, e);
	}
	buf_free(&in);
	buf_free(&out);
	close(lfd); /* releases the lock */
	return rc;
}

/* Declared in config_priv.h (config_edit.c reports its paths the same way). */
int config_path_err(const struct j5_path *p, size_t upto, struct err *e, int cls, const char *fmt,
		    const char *arg)
{
	struct buf b;
	char msg[256];

	buf_init(&b, 2048);
	if (j5_path_format(p, upto, &b) < 0 || b.len == 0) {
		buf_reset(&b);
		buf_append_str(&b, "(top level)");
	}
	snprintf(msg, sizeof msg, fmt, arg);
	err_set(e, cls, "%s: %s", b.p ? (const char *)b.p : "", msg);
	buf_free(&b);
	return -1;
}

/* ---- commands ------------------------------------------------------------------ */

struct set_arg {
	const char *path, *value;
};

static int do_set(const char *name, const char *text, size_t n, const void *arg, struct buf *out,
		  struct err *e)
{
	const struct set_arg *a = arg;
	return config_edit_set(name, text, n, a->path, a->value, out, e);
}

static int do_unset(const char *name, const char *text, size_t n, const void *arg,
		    struct buf *out, struct err *e)
{
	return config_edit_unset(name, text, n, arg, out, e);
}

int config_set(const char *file, const char *path_expr, const char *value_text, struct err *e)
{
	struct set_arg a = {path_expr, value_text};
	struct j5_path p;

	/* check the path before touching the disk */
	if (j5_path_parse(&p, path_expr, e) < 0)
		return -1;
	j5_path_free(&p);
	return modify(file, do_set, &a, e);
}

int config_unset(const char *file, const char *path_expr, struct err *e)
{
	struct j5_path p;

	if (j5_path_parse(&p, path_expr, e) < 0)
		return -1;
	j5_path_free(&p);
	return modify(file, do_unset, path_expr, e);
}

/* Writes node i as canonical JSON. */
static void emit(struct jw *w, const struct j5_doc *d, uint32_t i, struct buf *tmp)
{
	const struct j5_node *nd = &d->nodes[i];
	double v;

	switch (nd->type) {
	case J5_NULL:
		jw_null(w);
		break;
	case J5_BOOL:
		jw_bool(w, j5_bool(d, i));
		break;
	case J5_NUMBER:
		if (j5_number_is_json(d, i)) {
			jw_raw(w, d->src + nd->start, nd->end - nd->start); /* exact digits */
		} else {
			j5_number(d, i, &v);
			if (isfinite(v))
				jw_double(w, v);
			else
				jw_null(w); /* as JSON.stringify does */
		}
		break;
	case J5_STRING:
		buf_reset(tmp);
		if (j5_string(d, i, tmp) < 0)
			w->error = JW_E_NOMEM;
		else
			jw_strn(w, tmp->p, tmp->len);
		break;
	case J5_OBJECT:
	case J5_ARRAY:
		if (nd->type == J5_OBJECT)
			jw_obj_begin(w);
		else
			jw_arr_begin(w);
		for (uint32_t c = i + 1; c < nd->next; c = d->nodes[c].next) {
			if (nd->type == J5_OBJECT) {
				buf_reset(tmp);
				if (j5_key(d, c, tmp) < 0)
					w->error = JW_E_NOMEM;
				else
					jw_keyn(w, (const char *)tmp->p, tmp->len);
			}
			emit(w, d, c, tmp);
		}
		if (nd->type == J5_OBJECT)
			jw_obj_end(w);
		else
			jw_arr_end(w);
		break;
	}
}

int config_get_json(const char *file, const char *path_expr, struct buf *out, struct err *e)
{
	struct j5_path p;
	struct j5_doc d;
	struct buf text, tmp;
	struct jw w;
	int exists, rc = -1;
	uint32_t node = J5_NONE;

	if (j5_path_parse(&p, path_expr, e) < 0)
		return -1;
	buf_init(&text, CFG_TEXT_MAX + 65536);
	buf_init(&tmp, CFG_TEXT_MAX);
	memset(&d, 0, sizeof d);
	if (read_text(file, &text, &exists, e) < 0)
		goto out;
	if (!exists || j5_is_blank((const char *)text.p, text.len)) {
		if (p.n == 0) {
			rc = buf_append_str(out, "{}") < 0 ? err_set(e, ERR_OTHER, "out of memory") : 0;
			goto out;
		}
	} else {
		if (j5_parse(&d, (const char *)text.p, text.len, e) < 0) {
			config_parse_err(file, &d, e);
			goto out;
		}
		node = j5_lookup(&d, 0, &p, NULL, NULL);
	}
	if (node == J5_NONE) {
		config_path_err(&p, p.n, e, ERR_USAGE, "%s", "not set");
		goto out;
	}
	jw_init(&w, out);
	jw_set_max_depth(&w, J5_MAX_DEPTH + 1);
	emit(&w, &d, node, &tmp);
	rc = jw_finish(&w, e);
out:
	j5_free(&d);
	j5_path_free(&p);
	buf_free(&text);
	buf_free(&tmp);
	return rc;
}
