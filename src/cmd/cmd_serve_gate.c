/* cmd_serve_gate: what serve mode decides from a request's headers alone,
 * before any body byte is read (SPEC 7.5), and the SIGHUP reload.
 *
 * - Key-less mode listens on loopback only; a browser page could still
 *   reach it (a cross-site POST, or DNS rebinding that makes evil.example
 *   resolve to 127.0.0.1), so a Host that is not a loopback address or
 *   localhost is refused (403), and so is an Origin not in
 *   serve.allowOrigins.
 * - In every mode a POST whose content type a browser may send cross-site
 *   without a preflight (text/plain, application/x-www-form-urlencoded,
 *   multipart/form-data), or none, is refused (415): the OpenAI and
 *   Anthropic routes take application/json only, the pass-through also
 *   application/octet-stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/env.h"
#include "cmd/serve.h"
#include "wire/sigv4.h"

/* Host: "localhost", "127.x.y.z", "[::1]", each with an optional :port. */
static int serve_host_loopback(struct slice h)
{
	char host[SERVER_CLIENT_MAX];
	size_t n = h.n;
	const uint8_t *colon;

	if (n && h.p[0] == '[') {
		const uint8_t *close = memchr(h.p, ']', n);

		if (!close || (close + 1 < h.p + n && close[1] != ':'))
			return 0;
		n = (size_t)(close - h.p) - 1;
		h.p++;
	} else if ((colon = memchr(h.p, ':', n))) {
		n = (size_t)(colon - h.p);
	}
	if (n == 0 || n >= sizeof host)
		return 0;
	memcpy(host, h.p, n);
	host[n] = '\0';
	str_lower(host, n);
	if (strcmp(host, "localhost") == 0 || strcmp(host, "localhost.") == 0)
		return 1;
	return server_addr_text_loopback(host);
}

static int serve_origin_allowed(struct serve *sv, struct slice o)
{
	const struct config *cfg = &sv->ctx.cfg;
	size_t i;
	int ok = 0;

	pthread_rwlock_rdlock(&sv->cfg_mu);
	for (i = 0; i < cfg->n_serve_allow_origins && !ok; i++)
		ok = slice_eq_str(o, cfg->serve_allow_origins[i]) ||
		     strcmp(cfg->serve_allow_origins[i], "*") == 0;
	pthread_rwlock_unlock(&sv->cfg_mu);
	return ok;
}

/* The media type of Content-Type (before ';'), trimmed. */
static struct slice serve_media_type(const struct server_request *rq)
{
	struct slice v;
	const uint8_t *semi;

	if (!http_header(rq->p, "Content-Type", &v))
		return v;
	semi = memchr(v.p, ';', v.n);
	if (semi)
		v.n = (size_t)(semi - v.p);
	return slice_trim(v);
}

int cmd_serve_gate(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	struct slice v;

	if (sv->loopback_only) {
		if (!http_header(rq->p, "Host", &v) || !serve_host_loopback(v)) {
			cmd_serve_error(c, 403, "invalid_request_error", NULL, "forbidden_host",
					"without API keys only a loopback Host (localhost, 127.0.0.1, "
					"[::1]) is served",
					NULL);
			return -1;
		}
		if (http_header(rq->p, "Origin", &v) && !serve_origin_allowed(sv, v)) {
			cmd_serve_error(c, 403, "invalid_request_error", NULL, "forbidden_origin",
					"cross-origin requests are refused: list the origin in "
					"serve.allowOrigins",
					NULL);
			return -1;
		}
	}
	return 0;
}

int cmd_serve_gate_json(struct server_conn *c, const struct server_request *rq)
{
	return cmd_serve_gate_type(c, rq, 0);
}

int cmd_serve_gate_type(struct server_conn *c, const struct server_request *rq, int octet)
{
	struct slice v = serve_media_type(rq);

	if (slice_eq_nocase(v, "application/json") ||
	    (octet && slice_eq_nocase(v, "application/octet-stream")))
		return 0;
	cmd_serve_error(c, 415, "invalid_request_error", NULL, "unsupported_media_type",
			"send the request body as Content-Type: application/json", NULL);
	return -1;
}

/* ------------------------------------------------------------------------ */
/* Keys, limits, reload */

static int serve_add_key(struct serve_keys *k, const char *s, size_t n, const char *from,
			 struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return err_set(e, ERR_USAGE, "%s: an API key contains a space or control "
				       "character", from);
	if (n > SERVE_KEY_MAX)
		return err_set(e, ERR_USAGE, "%s: an API key is longer than %d bytes", from,
			       SERVE_KEY_MAX);
	if (k->n >= SERVE_MAX_KEYS)
		return err_set(e, ERR_USAGE, "too many API keys (at most %d)", SERVE_MAX_KEYS);
	sigv4_sha256(s, n, k->d[k->n++]);
	return 0;
}

/* serve.apiKeys and BROCK_API_KEYS ("k1,k2": blanks around keys ignored). */
int cmd_serve_load_keys(const struct serve *sv, const struct config *cfg, struct serve_keys *k,
			struct err *e)
{
	const char *v, *p;
	size_t i;

	k->n = 0;
	for (i = 0; i < cfg->n_serve_api_keys; i++) {
		const char *s = cfg->serve_api_keys[i];

		if (!s[0])
			return err_set(e, ERR_USAGE, "serve.apiKeys[%zu] is empty", i);
		if (serve_add_key(k, s, strlen(s), "serve.apiKeys", e) < 0)
			return -1;
	}
	v = env_get(&sv->g->env, "BROCK_API_KEYS");
	for (p = v; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		struct slice s = slice_trim((struct slice){(const uint8_t *)p, n});

		if (s.n && serve_add_key(k, (const char *)s.p, s.n, "BROCK_API_KEYS", e) < 0)
			return -1;
		p += n + (end != NULL);
	}
	return 0;
}

void cmd_serve_limits(const struct config *cfg, struct server_opts *o)
{
	size_t i;

	memset(o, 0, sizeof *o);
	if (cfg->serve_max_conns > 0 && cfg->serve_max_conns < 1000000)
		o->max_conns = (int)cfg->serve_max_conns;
	if (cfg->serve_max_conns_per_ip > 0 && cfg->serve_max_conns_per_ip < 1000000)
		o->max_conns_per_ip = (int)cfg->serve_max_conns_per_ip;
	for (i = 0; i < cfg->n_serve_trusted_proxies && i < SERVER_MAX_PROXIES; i++)
		snprintf(o->proxies[i], sizeof o->proxies[i], "%s", cfg->serve_trusted_proxies[i]);
	o->nproxies = i;
}

static int serve_check_limits(const struct config *cfg, struct err *e)
{
	size_t i;

	for (i = 0; i < cfg->n_serve_trusted_proxies; i++) {
		uint8_t ip[16];

		if (server_ip_parse(cfg->serve_trusted_proxies[i], ip) < 0)
			return err_set(e, ERR_USAGE, "serve.trustedProxies[%zu]: not an IP address",
				       i);
	}
	if (cfg->n_serve_trusted_proxies > SERVER_MAX_PROXIES)
		return err_set(e, ERR_USAGE, "serve.trustedProxies: at most %d addresses",
			       SERVER_MAX_PROXIES);
	if (cfg->serve_log && strcmp(cfg->serve_log, "json") != 0 &&
	    strcmp(cfg->serve_log, "text") != 0)
		return err_set(e, ERR_USAGE, "serve.log: expected \"json\" or \"text\"");
	return 0;
}

int cmd_serve_check_config(const struct config *cfg, struct err *e)
{
	return serve_check_limits(cfg, e);
}

void cmd_serve_reload(struct serve *sv)
{
	struct config cfg;
	struct serve_keys *k, *old;
	struct server_opts o;
	struct err e;

	memset(&cfg, 0, sizeof cfg);
	k = calloc(1, sizeof *k);
	if (!k)
		return;
	if (config_load(&sv->g->env, sv->g->config, &cfg, &e) < 0 ||
	    serve_check_limits(&cfg, &e) < 0 || cmd_serve_load_keys(sv, &cfg, k, &e) < 0 ||
	    (k->n == 0 && !sv->srv.loopback &&
	     err_set(&e, ERR_USAGE, "no API keys left, and not listening on loopback") < 0)) {
		fprintf(stderr, "brock: reload failed, keeping the running config: %s\n", e.msg);
		config_free(&cfg);
		secure_zero(k, sizeof *k);
		free(k);
		return;
	}
	cmd_serve_limits(&cfg, &o);
	server_set_limits(&sv->srv, &o);
	pthread_mutex_lock(&sv->keys_mu);
	old = sv->keys;
	sv->keys = k;
	pthread_mutex_unlock(&sv->keys_mu);
	secure_zero(old, sizeof *old);
	free(old);
	pthread_rwlock_wrlock(&sv->cfg_mu);
	{
		/* the aws client points at the endpoint it started with: that
		 * one stays until a restart */
		char *keep = sv->ctx.cfg.bedrock.base_url;

		sv->ctx.cfg.bedrock.base_url = cfg.bedrock.base_url;
		cfg.bedrock.base_url = keep;
	}
	config_free(&sv->ctx.cfg);
	sv->ctx.cfg = cfg; /* the strings move; cfg is not freed */
	atomic_store(&sv->json_log, cfg.serve_log && strcmp(cfg.serve_log, "json") == 0);
	pthread_rwlock_unlock(&sv->cfg_mu);
	if (!sv->g->quiet)
		fprintf(stderr, "brock: config reloaded (%zu API key%s)\n", k->n,
			k->n == 1 ? "" : "s");
}
