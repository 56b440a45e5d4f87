/* cmd_doctor: `brock doctor [--json] [--call]`. One line per check of what a
 * box needs, each OK, WARN or FAIL, and for the last two the fix: the config
 * parses; credentials are found (source, expiry); the region; the runtime
 * endpoint resolves, connects and verifies its certificate with the trust
 * store in use; the clock agrees with the endpoint's Date; the account may
 * call bedrock:ListFoundationModels; with --call, the default model answers a
 * one-token Converse; the cache and state directories are usable and private;
 * the gateway's listen address is free and keys are configured when it is not
 * loopback. Exit 0 when nothing FAILs, else 1. Never a secret in the output. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws.h"
#include "aws/creds.h"
#include "base/file.h"
#include "base/timefmt.h"
#include "bedrock/catalog.h"
#include "bedrock/converse.h"
#include "bedrock/discovery.h"
#include "cmd/cmd.h"
#include "cmd/ctx.h"
#include "net/server.h"
#include "wire/json.h"
#include "wire/url.h"

static const char doctor_usage[] =
	"usage: brock doctor [--json] [--call]\n"
	"  Checks config, credentials, endpoint, clock, access, directories, gateway;\n"
	"  each line OK, WARN or FAIL with the fix. Exit 0 when nothing FAILs.\n"
	"  --call   also call the default model (one output token)\n"
	"  --json   one JSON object\n";

#define DR_MAX 16
#define DR_SKEW_WARN 30 /* seconds: SigV4 allows 300, brock corrects itself */
#define DR_SKEW_FAIL 300
#define DR_EXPIRY_WARN 900

enum dr_level { DR_OK, DR_WARN, DR_FAIL, DR_SKIP };
static const char *const dr_names[] = {"OK", "WARN", "FAIL", "SKIP"};

struct dr_check {
	const char *name;
	enum dr_level level;
	char detail[600];
	char fix[300];
};

struct doctor {
	const struct globals *g;
	struct ctx x;
	struct aws_creds cr;
	int have_creds;
	int reached; /* the endpoint answered HTTP */
	struct dr_check v[DR_MAX];
	int n;
};

static void dr_add(struct doctor *d, const char *name, enum dr_level lvl, const char *fix,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void dr_add(struct doctor *d, const char *name, enum dr_level lvl, const char *fix,
		   const char *fmt, ...)
{
	struct dr_check *c;
	va_list ap;

	if (d->n >= DR_MAX)
		return;
	c = &d->v[d->n++];
	c->name = name;
	c->level = lvl;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof c->detail, fmt, ap);
	va_end(ap);
	snprintf(c->fix, sizeof c->fix, "%s", fix ? fix : "");
}

/* ---- credentials and region ---- */

static void dr_creds(struct doctor *d)
{
	struct err e = {0};
	time_t now = time(NULL);
	char iso[TIMEFMT_ISO_LEN + 1];

	dr_add(d, "region", DR_OK, NULL, "%s (from %s)", d->x.aws.region, d->x.region_source);
	if (creds_get(&d->x.creds, &d->cr, &e) != 0) {
		dr_add(d, "credentials", DR_FAIL,
		       "set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), run "
		       "`aws sso login`, or attach an instance role; `brock -v auth` shows every "
		       "source tried",
		       "%s", e.msg);
		return;
	}
	d->have_creds = 1;
	if (!d->cr.expires || !timefmt_iso8601(iso, d->cr.expires)) {
		dr_add(d, "credentials", DR_OK, NULL, "%s%s", d->cr.source,
		       d->cr.bearer[0] ? " (Bedrock API key)" : " (no expiry)");
	} else if (d->cr.expires <= now) {
		d->have_creds = 0;
		dr_add(d, "credentials", DR_FAIL,
		       "refresh them (`aws sso login`, a new session token, or fix the "
		       "credential_process)",
		       "%s: expired at %s", d->cr.source, iso);
	} else {
		dr_add(d, "credentials", d->cr.expires - now < DR_EXPIRY_WARN ? DR_WARN : DR_OK,
		       "they expire soon and nothing refreshes them: use a source that refreshes "
		       "(profile role, SSO, instance role)",
		       "%s, expires %s (in %ld min)", d->cr.source, iso,
		       (long)(d->cr.expires - now) / 60);
	}
}

/* ---- the endpoint: DNS, then TCP + TLS through conn ---- */

static int dr_dns(struct doctor *d, const struct url *u)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	int r;

	if (env_get(&d->g->env, u->https ? "HTTPS_PROXY" : "HTTP_PROXY") ||
	    env_get(&d->g->env, u->https ? "https_proxy" : "http_proxy")) {
		dr_add(d, "dns", DR_SKIP, NULL, "%s is resolved by the proxy", u->host);
		return 0;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", (unsigned)u->port);
	r = getaddrinfo(u->host, port, &hints, &res);
	if (r != 0) {
		dr_add(d, "dns", DR_FAIL,
		       "check the resolver (/etc/resolv.conf) and the endpoint variables "
		       "(AWS_ENDPOINT_URL*), the region, or set HTTPS_PROXY",
		       "cannot resolve %s: %s", u->host, gai_strerror(r));
		return -1;
	}
	freeaddrinfo(res);
	dr_add(d, "dns", DR_OK, NULL, "%s resolves", u->host);
	return 0;
}

static void dr_endpoint(struct doctor *d)
{
	struct aws_endpoint ep;
	struct url u;
	struct conn *c = NULL;
	struct err e = {0};

	if (aws_endpoint(&d->x.aws, AWS_SVC_RUNTIME, &ep, &e) != 0 || url_parse(&u, ep.base, &e) != 0) {
		dr_add(d, "endpoint", DR_FAIL, "fix AWS_ENDPOINT_URL_BEDROCK_RUNTIME or the "
		       "configured baseUrl", "%s", e.msg);
		return;
	}
	if (dr_dns(d, &u) != 0)
		return;
	if (conn_get(&d->x.pool, &u, &d->x.aws.opts, 1, &c, &e) != 0) {
		dr_add(d, "endpoint", DR_FAIL,
		       e.cls == ERR_USAGE ? "fix the variable named above"
		       : strstr(e.msg, "certificate") ? "set AWS_CA_BUNDLE to the CA bundle that "
			 "signs this endpoint's certificate (a TLS-inspecting proxy needs its CA)"
		       : "check firewalls, security groups and proxies between this box and the "
			 "endpoint (HTTPS_PROXY, NO_PROXY)",
		       "%s (trust store: %s)", e.msg,
		       d->x.pool.trust.source[0] ? d->x.pool.trust.source : "not loaded");
		url_wipe(&u);
		return;
	}
	conn_close(c);
	if (u.https)
		dr_add(d, "endpoint", DR_OK, NULL, "%s:%u: TCP and TLS verified (trust store: %s)",
		       u.host, (unsigned)u.port, d->x.pool.trust.source);
	else
		dr_add(d, "endpoint", DR_WARN, "use an https:// endpoint outside a test setup",
		       "%s:%u: TCP connected, plain HTTP (no TLS)", u.host, (unsigned)u.port);
	url_wipe(&u);
}

/* ---- Bedrock access and the clock (from the same answer) ---- */

static void dr_clock(struct doctor *d, const struct aws_response *r)
{
	struct slice v;
	time_t t, now = time(NULL);
	long skew;

	if (!aws_response_header(r, "date", &v) ||
	    timefmt_parse_rfc1123((const char *)v.p, v.n, &t) != 0) {
		dr_add(d, "clock", DR_SKIP, NULL, "the endpoint sent no Date header");
		return;
	}
	skew = (long)(t - now);
	dr_add(d, "clock", labs(skew) > DR_SKEW_FAIL ? DR_FAIL : labs(skew) > DR_SKEW_WARN ? DR_WARN : DR_OK,
	       "synchronise the clock (systemd-timesyncd, chrony or ntpd); AWS refuses "
	       "signatures more than 5 minutes off",
	       "%s %ld s against the endpoint's Date", skew >= 0 ? "behind by" : "ahead by",
	       labs(skew));
}

static void dr_list_models(struct doctor *d)
{
	struct aws_request rq;
	struct aws_response r;
	struct err e = {0};
	int rc;

	memset(&rq, 0, sizeof rq);
	rq.svc = AWS_SVC_CONTROL;
	rq.method = "GET";
	rq.path = "/foundation-models";
	rq.accept = "application/json";
	aws_response_init(&r);
	rc = aws_call(&d->x.aws, &d->cr, &rq, &r, &e);
	if (r.status) {
		d->reached = 1;
		dr_clock(d, &r);
	}
	if (rc == 0)
		dr_add(d, "bedrock", DR_OK, NULL, "bedrock:ListFoundationModels allowed in %s",
		       d->x.aws.region);
	else if (e.cls == ERR_CREDS)
		dr_add(d, "bedrock", DR_FAIL, "these credentials are not valid for AWS: replace them "
		       "(or fix the clock if the message says the signature expired)", "%s", e.msg);
	else if (strcmp(r.error_type, "AccessDeniedException") == 0 ||
		 strcmp(r.error_type, "AccessDenied") == 0)
		dr_add(d, "bedrock", DR_FAIL, "grant bedrock:ListFoundationModels, "
		       "bedrock:ListInferenceProfiles and bedrock:InvokeModelWithResponseStream to "
		       "this identity", "%s", e.msg);
	else if (e.cls == ERR_NET || e.cls == ERR_USAGE)
		dr_add(d, "bedrock", DR_FAIL, "the control-plane endpoint (AWS_ENDPOINT_URL_BEDROCK) "
		       "must be reachable too", "%s", e.msg);
	else
		dr_add(d, "bedrock", DR_FAIL, "see the message; retry later if it is a throttle or "
		       "an outage", "%s", e.msg);
	aws_response_free(&r);
}

/* --call: one Converse with maxTokens 1 to the default model. */
static void dr_call_model(struct doctor *d, int call)
{
	const char *ref = d->x.cfg.primary_model;
	struct conv_request cq;
	struct conv_call cc;
	struct aws_response r;
	struct buf body;
	struct err e = {0};
	int rc = -1;

	if (!ref) {
		dr_add(d, "model", DR_SKIP, NULL, "no default model (agents.defaults.model.primary); "
		       "chat picks one from discovery");
		return;
	}
	if (!call) {
		dr_add(d, "model", DR_SKIP, NULL, "%s not called (--call makes a one-token request)",
		       ref);
		return;
	}
	memset(&cq, 0, sizeof cq);
	cq.model_id = catalog_ref_id(ref);
	cq.text = (const uint8_t *)"Reply with one word.";
	cq.text_len = strlen((const char *)cq.text);
	cq.max_tokens = 1;
	buf_init(&body, 1u << 16);
	memset(&cc, 0, sizeof cc);
	cc.model_id = cq.model_id;
	cc.max_answer = 1u << 20;
	aws_response_init(&r);
	if (conv_build_body(&cq, &body, &e) == 0) {
		cc.body = body.p;
		cc.body_len = body.len;
		rc = conv_call(&d->x.aws, &d->cr, &cc, &r, &e);
	}
	if (rc == 0)
		dr_add(d, "model", DR_OK, NULL, "%s answered", ref);
	else
		dr_add(d, "model", DR_FAIL, "request access to the model in the Bedrock console, use "
		       "its inference profile id (us./eu./global.), or change "
		       "agents.defaults.model.primary", "%s: %s", ref, e.msg);
	aws_response_free(&r);
	buf_free(&body);
}

/* ---- directories ---- */

/* dir exists, is private to this user (file_dir_private, the rule the
 * cache itself applies) and writable, or can be created. */
static void dr_dir(struct doctor *d, const char *name, const char *dir, const char *var)
{
	char probe[4200], fix[200];
	struct err e = {0};
	int fd, r;

	snprintf(fix, sizeof fix, "point %s at a directory this user owns (mode 0700)", var);
	r = file_dir_private(dir, var, &e);
	if (r == 0) {
		dr_add(d, name, DR_OK, NULL, "%s (created on first use)", dir);
		return;
	}
	if (r < 0) {
		dr_add(d, name, DR_FAIL, fix, "%s", e.msg);
		return;
	}
	snprintf(probe, sizeof probe, "%s/.brock-doctor-XXXXXX", dir);
	fd = mkstemp(probe);
	if (fd < 0) {
		dr_add(d, name, DR_FAIL, fix, "%s is not writable: %s", dir, strerror(errno));
		return;
	}
	close(fd);
	unlink(probe);
	dr_add(d, name, DR_OK, NULL, "%s (writable, private)", dir);
}

static void dr_dirs(struct doctor *d)
{
	const struct env *env = &d->g->env;
	char dir[4096];
	struct err e = {0};

	if (disc_cache_dir(env, dir, sizeof dir, &e) == 0)
		dr_dir(d, "cache", dir, "BROCK_CACHE_DIR");
	else
		dr_add(d, "cache", DR_FAIL, "set BROCK_CACHE_DIR or HOME", "%s", e.msg);
	if (ctx_state_dir(env, dir, sizeof dir) == 0)
		dr_dir(d, "state", dir, "BROCK_STATE_DIR");
	else
		dr_add(d, "state", DR_WARN, "set BROCK_STATE_DIR or HOME", "no state directory");
}

/* ---- the gateway ---- */

static void dr_gateway(struct doctor *d)
{
	const char *listen = d->x.cfg.serve_listen ? d->x.cfg.serve_listen : "127.0.0.1:8080";
	struct addrinfo hints, *res = NULL;
	char host[SERVER_HOST_MAX], port[8];
	unsigned p;
	int fd, lo, one = 1, keys;
	struct err e = {0};

	if (server_parse_listen(listen, host, sizeof host, &p, &e) != 0 ||
	    (lo = server_listen_is_loopback(listen, &e)) < 0) {
		dr_add(d, "gateway", DR_FAIL, "fix serve.listen", "%s", e.msg);
		return;
	}
	keys = d->x.cfg.n_serve_api_keys > 0 || env_get(&d->g->env, "BROCK_API_KEYS");
	if (!lo && !keys) {
		dr_add(d, "gateway", DR_FAIL, "add serve.apiKeys (or BROCK_API_KEYS), or listen on "
		       "127.0.0.1", "serve.listen %s is not loopback and no client keys are set",
		       listen);
		return;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%u", p);
	if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0) {
		dr_add(d, "gateway", DR_FAIL, "fix serve.listen", "%s does not resolve", listen);
		return;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0)
		dr_add(d, "gateway", DR_WARN, "stop what holds the address (is brock serve already "
		       "running?) or choose another serve.listen", "%s: %s", listen, strerror(errno));
	else
		dr_add(d, "gateway", DR_OK, NULL, "%s is free%s", listen,
		       lo ? " (loopback)" : ", client keys configured");
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
}

/* ---- output ---- */

static int dr_print(const struct doctor *d, int json, struct err *e)
{
	int fails = 0, r = 0;

	for (int i = 0; i < d->n; i++)
		fails += d->v[i].level == DR_FAIL;
	if (json) {
		struct buf b;
		struct jw w;

		buf_init(&b, 1u << 16);
		jw_init(&w, &b);
		jw_obj_begin(&w);
		jw_kbool(&w, "ok", fails == 0);
		jw_key(&w, "checks");
		jw_arr_begin(&w);
		for (int i = 0; i < d->n; i++) {
			jw_obj_begin(&w);
			jw_kstr(&w, "name", d->v[i].name);
			jw_kstr(&w, "status", dr_names[d->v[i].level]);
			jw_kstr(&w, "detail", d->v[i].detail);
			if (d->v[i].fix[0] && (d->v[i].level == DR_WARN || d->v[i].level == DR_FAIL))
				jw_kstr(&w, "fix", d->v[i].fix);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
		r = jw_finish(&w, e);
		if (r == 0)
			printf("%s\n", (const char *)b.p);
		buf_free(&b);
	} else {
		for (int i = 0; i < d->n; i++) {
			printf("%-4s  %-11s %s\n", dr_names[d->v[i].level], d->v[i].name, d->v[i].detail);
			if (d->v[i].fix[0] && (d->v[i].level == DR_WARN || d->v[i].level == DR_FAIL))
				printf("      %-11s fix: %s\n", "", d->v[i].fix);
		}
		printf("%d check%s, %d failed\n", d->n, d->n == 1 ? "" : "s", fails);
	}
	if (r == 0 && fails)
		r = err_set(e, ERR_OTHER, "doctor: %d check%s failed", fails, fails == 1 ? "" : "s");
	return r;
}

int cmd_doctor(const struct globals *g, int argc, char **argv, struct err *e)
{
	struct doctor *d; /* ~30 KiB of results and credentials: on the heap */
	int json = 0, call = 0, r;
	struct err ce = {0};

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--call") == 0)
			call = 1;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return fputs(doctor_usage, stdout) < 0 ? -1 : 0;
		else
			return err_set(e, ERR_USAGE, "doctor: unknown argument '%s' (usage: brock "
				       "doctor [--json] [--call])", argv[i]);
	}
	if (!(d = calloc(1, sizeof *d)))
		return err_set(e, ERR_OTHER, "doctor: out of memory");
	d->g = g;
	if (ctx_open(&d->x, g, &ce) != 0) {
		dr_add(d, "config", DR_FAIL, "correct the file at the position shown, or point "
		       "--config / BROCK_CONFIG at another file", "%s", ce.msg);
		r = dr_print(d, json, e);
		free(d);
		return r;
	}
	dr_add(d, "config", DR_OK, NULL, "%s", d->x.cfg.exists ? d->x.cfg.path : "none (defaults)");
	dr_creds(d);
	dr_endpoint(d);
	if (d->have_creds) {
		dr_list_models(d);
		dr_call_model(d, call);
	} else {
		dr_add(d, "bedrock", DR_SKIP, NULL, "not checked without valid credentials");
	}
	dr_dirs(d);
	dr_gateway(d);
	r = dr_print(d, json, e);
	aws_creds_wipe(&d->cr);
	ctx_close(&d->x);
	secure_zero(d, sizeof *d);
	free(d);
	return r;
}
