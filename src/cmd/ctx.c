#define _GNU_SOURCE /* prlimit */
#include "cmd/ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

size_t ctx_log_escape(const char *in, size_t n, char *out, size_t outn)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)in;
	size_t i, o = 0;

	if (outn == 0)
		return 0;
	for (i = 0; i < n && s[i]; i++) {
		unsigned c = s[i];
		int esc = c < 0x20 || c == 0x7f;

		if (c == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
			c = s[++i]; /* U+0080..U+009F (C1), UTF-8 encoded */
			esc = 1;
		}
		if (!esc) {
			if (o + 1 >= outn)
				break;
			out[o++] = (char)c;
			continue;
		}
		if (o + 6 >= outn)
			break;
		memcpy(out + o, "\\u00", 4);
		out[o + 4] = hex[c >> 4];
		out[o + 5] = hex[c & 15];
		o += 6;
	}
	out[o] = '\0';
	return o;
}

void ctx_log(void *user, const char *fmt, ...)
{
	char raw[4096], safe[4096 * 2];
	va_list ap;

	(void)user;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* names and messages may carry what a client sent: never raw control
	 * characters on a terminal (C0, DEL, C1) */
	ctx_log_escape(raw, strlen(raw), safe, sizeof safe);
	fprintf(stderr, "brock: %s\n", safe);
}

int ctx_no_core_dumps(struct err *e)
{
	const struct rlimit none = {0, 0};

	/* prlimit, not setrlimit: musl's setrlimit links a fallback for pre-2.6.36
	 * kernels that stops every thread in turn (__synccall, 1.5 KB) */
	if (prlimit(0, RLIMIT_CORE, &none, NULL) != 0)
		return err_set(e, ERR_OTHER, "cannot turn core dumps off (RLIMIT_CORE)");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return err_set(e, ERR_OTHER, "cannot turn core dumps off (PR_SET_DUMPABLE)");
	return 0;
}

int ctx_open(struct ctx *c, const struct globals *g, struct err *e)
{
	memset(c, 0, sizeof *c);
	c->g = g;
	/* every command that loads credentials comes through here, before
	 * any secret is in memory */
	if (ctx_no_core_dumps(e) < 0)
		return -1;
	if (config_load(&g->env, g->config, &c->cfg, e) != 0)
		return -1;
	/* a missing default file is an empty config; a named one is a typo */
	if (g->config && !c->cfg.exists) {
		err_set(e, ERR_USAGE, "config file %s does not exist", g->config);
		config_free(&c->cfg);
		return -1;
	}
	conn_pool_init(&c->pool, &g->env);
	aws_init(&c->aws, &g->env, &c->pool);
	creds_init(&c->creds, &g->env, &c->aws, g->profile);
	c->open = 1;
	if (g->verbose) {
		c->aws.log = ctx_log;
		c->aws.log_user = c;
	}
	c->aws.runtime_base_url = c->cfg.bedrock.base_url;
	if (creds_region(&g->env, g->region, g->profile, c->cfg.discovery.region,
			 c->cfg.bedrock.base_url, c->aws.region, sizeof c->aws.region,
			 c->region_source, sizeof c->region_source, e) != 0) {
		ctx_close(c);
		return -1;
	}
	if (g->verbose)
		ctx_log(c, "region %s (from %s)", c->aws.region, c->region_source);
	return 0;
}

void ctx_close(struct ctx *c)
{
	if (c->open) {
		creds_free(&c->creds);
		aws_free(&c->aws);
		conn_pool_free(&c->pool);
		c->open = 0;
	}
	config_free(&c->cfg);
}

int ctx_state_dir(const struct env *env, char *out, size_t n)
{
	const char *v, *tail;
	struct slice t;
	int w;

	if ((v = env_get(env, "BROCK_STATE_DIR")) != NULL)
		tail = "";
	else if ((v = env_get(env, "XDG_STATE_HOME")) != NULL && v[0] == '/')
		tail = "/brock";
	else if ((v = env_get(env, "HOME")) != NULL)
		tail = "/.local/state/brock";
	else
		return -1;
	t = slice_trim(slice_str(v));
	w = snprintf(out, n, "%.*s%s", (int)t.n, (const char *)t.p, tail);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}
