/* config_serve: the gateway's policy in the config (SPEC 7.4): serve.keys,
 * serve.fallbacks and serve.modelAliases, read into struct config with the
 * schema reader's helpers (config_priv.h). Every mistake names its path:
 * "serve.keys[1].keySha256: expected 64 hex digits". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "bedrock/config.h"
#include "bedrock/config_priv.h"
#include "bedrock/ledger.h"

#define CFG_SERVE_KEYS_MAX 256   /* serve.keys entries (the server's key table) */
#define CFG_SERVE_MAP_MAX 1024   /* aliases, fallback entries */

static int read_budget(const struct config_rd *l, uint32_t b, const char *path,
		       struct config_key *k)
{
	char p[96], *period = NULL;
	int rc = 0;

	if (b == J5_NONE)
		return 0;
	snprintf(p, sizeof p, "%s.budget", path);
	if (config_rd_obj(l, b, p) < 0)
		return -1;
	snprintf(p, sizeof p, "%s.budget.usd", path);
	if (config_rd_get(l, b, "usd") == J5_NONE)
		return config_rd_err(l, p, "a number (USD per period)");
	if (config_rd_num(l, config_rd_get(l, b, "usd"), p, &k->budget_usd) < 0)
		return -1;
	k->has_budget = 1;
	k->budget_month = 1;
	snprintf(p, sizeof p, "%s.budget.period", path);
	if (config_rd_str(l, config_rd_get(l, b, "period"), p, &period) < 0)
		return -1;
	if (period && strcmp(period, "day") == 0)
		k->budget_month = 0;
	else if (period && strcmp(period, "month") != 0)
		rc = config_rd_err(l, p, "\"day\" or \"month\"");
	free(period);
	return rc;
}

static int read_globs(const struct config_rd *l, uint32_t v, const char *path,
		      struct config_key *k)
{
	size_t i, bytes = 0;

	if (config_rd_list(l, v, path, &k->models, &k->n_models) < 0)
		return -1;
	if (k->n_models > CONFIG_KEY_GLOBS_MAX)
		return config_rd_err(l, path, "at most 32 globs");
	for (i = 0; i < k->n_models; i++) {
		if (!k->models[i][0])
			return config_rd_err(l, path, "non-empty globs");
		bytes += strlen(k->models[i]) + 1;
	}
	if (bytes > CONFIG_KEY_GLOB_BYTES)
		return config_rd_err(l, path, "globs of at most 1024 bytes in all");
	return 0;
}

static int read_key(const struct config_rd *l, uint32_t o, const char *path,
		    struct config_key *k)
{
	char p[96], *sha = NULL;
	size_t got;

#define SUB(f) (snprintf(p, sizeof p, "%s.%s", path, f), p)
	if (config_rd_obj(l, o, path) < 0 ||
	    config_rd_str(l, config_rd_get(l, o, "name"), SUB("name"), &k->name) < 0)
		return -1;
	if (!k->name || !ledger_name_ok(k->name, strlen(k->name)))
		return config_rd_err(l, SUB("name"), "a name of 1 to 64 letters, digits, '.', '_' "
				     "or '-' (it labels metrics and the ledger)");
	if (config_rd_str(l, config_rd_get(l, o, "key"), SUB("key"), &k->key) < 0 ||
	    config_rd_str(l, config_rd_get(l, o, "keySha256"), SUB("keySha256"), &sha) < 0)
		return -1;
	if (sha) {
		int bad = strlen(sha) != 64 ||
			  hex_decode(k->sha256, sizeof k->sha256, sha, 64, &got) < 0;

		free(sha);
		if (bad)
			return config_rd_err(l, SUB("keySha256"), "64 hex digits (the key's SHA-256)");
		k->has_sha256 = 1;
	}
	if (!k->key == !k->has_sha256)
		return config_rd_err(l, path, "exactly one of key and keySha256");
	if (k->key && !k->key[0])
		return config_rd_err(l, SUB("key"), "a non-empty key");
	if (read_globs(l, config_rd_get(l, o, "models"), SUB("models"), k) < 0 ||
	    config_rd_int(l, config_rd_get(l, o, "rpm"), SUB("rpm"), &k->rpm) < 0 ||
	    config_rd_int(l, config_rd_get(l, o, "tpm"), SUB("tpm"), &k->tpm) < 0 ||
	    config_rd_int(l, config_rd_get(l, o, "maxConcurrent"), SUB("maxConcurrent"),
			  &k->max_concurrent) < 0 ||
	    config_rd_bool(l, config_rd_get(l, o, "admin"), SUB("admin"), &k->admin) < 0 ||
	    read_budget(l, config_rd_get(l, o, "budget"), path, k) < 0)
		return -1;
#undef SUB
	return 0;
}

static int read_keys(const struct config_rd *l, uint32_t v, struct config *c)
{
	const struct j5_doc *d = l->d;
	size_t k = 0, j;

	if (v == J5_NONE)
		return 0;
	if (d->nodes[v].type != J5_ARRAY)
		return config_rd_err(l, "serve.keys", "an array of key objects");
	if (d->nodes[v].count > CFG_SERVE_KEYS_MAX)
		return config_rd_err(l, "serve.keys", "at most 256 keys");
	c->serve_keys = calloc(d->nodes[v].count + 1, sizeof *c->serve_keys);
	if (!c->serve_keys)
		return err_set(l->e, ERR_OTHER, "out of memory");
	for (uint32_t n = v + 1; n < d->nodes[v].next; n = d->nodes[n].next, k++) {
		char p[64];

		snprintf(p, sizeof p, "serve.keys[%zu]", k);
		c->n_serve_keys = k + 1;
		if (read_key(l, n, p, &c->serve_keys[k]) < 0)
			return -1;
		for (j = 0; j < k; j++)
			if (strcmp(c->serve_keys[j].name, c->serve_keys[k].name) == 0) {
				snprintf(p, sizeof p, "serve.keys[%zu].name", k);
				return config_rd_err(l, p, "a name no other key has");
			}
	}
	return 0;
}

/* An object whose values are strings (aliases) or string lists (fallbacks). */
static int read_map(const struct config_rd *l, uint32_t o, const char *path, struct config *c,
		    int lists)
{
	const struct j5_doc *d = l->d;
	size_t n, k = 0;

	if (o == J5_NONE)
		return 0;
	if (d->nodes[o].type != J5_OBJECT)
		return config_rd_err(l, path, lists ? "an object of model lists"
						     : "an object of model refs");
	n = d->nodes[o].count;
	if (n > CFG_SERVE_MAP_MAX)
		return config_rd_err(l, path, "at most 1024 entries");
	if (lists)
		c->serve_fallbacks = calloc(n + 1, sizeof *c->serve_fallbacks);
	else
		c->serve_aliases = calloc(n + 1, sizeof *c->serve_aliases);
	if (lists ? !c->serve_fallbacks : !c->serve_aliases)
		return err_set(l->e, ERR_OTHER, "out of memory");
	for (uint32_t m = o + 1; m < d->nodes[o].next; m = d->nodes[m].next, k++) {
		char p[320];
		struct buf kb;
		char **name = lists ? &c->serve_fallbacks[k].model : &c->serve_aliases[k].name;

		buf_init(&kb, 513);
		if (j5_key(d, m, &kb) < 0 || kb.len == 0 || memchr(kb.p, 0, kb.len)) {
			buf_free(&kb);
			return config_rd_err(l, path, "model names of 1 to 512 bytes as keys");
		}
		*name = (char *)kb.p;
		snprintf(p, sizeof p, "%s[\"%.200s\"]", path, *name);
		if (lists) {
			struct config_fallback *f = &c->serve_fallbacks[k];

			c->n_serve_fallbacks = k + 1;
			if (config_rd_list(l, m, p, &f->to, &f->n_to) < 0)
				return -1;
			if (!f->to)
				return config_rd_err(l, p, "an array of model refs");
			if (f->n_to > CONFIG_FALLBACKS_MAX)
				return config_rd_err(l, p, "at most 8 fallback models");
		} else {
			c->n_serve_aliases = k + 1;
			if (config_rd_str(l, m, p, &c->serve_aliases[k].ref) < 0)
				return -1;
			if (!c->serve_aliases[k].ref || !c->serve_aliases[k].ref[0])
				return config_rd_err(l, p, "a model ref");
		}
	}
	return 0;
}

int config_serve_read(const struct config_rd *l, uint32_t serve, struct config *c)
{
	if (serve == J5_NONE)
		return 0;
	if (read_keys(l, config_rd_get(l, serve, "keys"), c) < 0 ||
	    read_map(l, config_rd_get(l, serve, "modelAliases"), "serve.modelAliases", c, 0) < 0 ||
	    read_map(l, config_rd_get(l, serve, "fallbacks"), "serve.fallbacks", c, 1) < 0)
		return -1;
	return 0;
}

void config_serve_free(struct config *c)
{
	size_t i;

	for (i = 0; c->serve_keys && i < c->n_serve_keys; i++) {
		struct config_key *k = &c->serve_keys[i];

		free(k->name);
		if (k->key)
			secure_zero(k->key, strlen(k->key));
		free(k->key);
		config_free_list(k->models, k->n_models, 0);
	}
	free(c->serve_keys);
	for (i = 0; c->serve_aliases && i < c->n_serve_aliases; i++) {
		free(c->serve_aliases[i].name);
		free(c->serve_aliases[i].ref);
	}
	free(c->serve_aliases);
	for (i = 0; c->serve_fallbacks && i < c->n_serve_fallbacks; i++) {
		free(c->serve_fallbacks[i].model);
		config_free_list(c->serve_fallbacks[i].to, c->serve_fallbacks[i].n_to, 0);
	}
	free(c->serve_fallbacks);
	c->serve_keys = NULL;
	c->serve_aliases = NULL;
	c->serve_fallbacks = NULL;
	c->n_serve_keys = c->n_serve_aliases = c->n_serve_fallbacks = 0;
}
