/* cmd_serve: `brock serve [--listen ADDR:PORT]` (SPEC section 7), the
 * OpenAI-compatible gateway. server.h runs the listener and the connection
 * threads; this file routes requests, checks the clients' API keys, calls
 * Bedrock (ConverseStream / Converse, through the shared aws client and
 * credential chain of the ctx) and maps both ways with openai.h; it also
 * keeps the Prometheus counters of /metrics.
 *
 * Routes: GET /healthz (open), GET /v1/models, GET /v1/models/{ref},
 * POST /v1/chat/completions, GET /metrics. With API keys configured every
 * route but /healthz needs "Authorization: Bearer <key>". Keys are kept only
 * as SHA-256 digests and a presented key is compared with every digest in
 * constant time (no early exit, no length leak). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws.h"
#include "base/clock.h"
#include "bedrock/catalog.h"
#include "cmd/cmd.h"
#include "bedrock/converse.h"
#include "aws/creds.h"
#include "cmd/ctx.h"
#include "bedrock/discovery.h"
#include "wire/json.h"
#include "bedrock/openai.h"
#include "net/server.h"
#include "wire/sigv4.h"
#include "base/pctenc.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8080"
#define SERVE_MAX_KEYS 256
#define SERVE_KEY_MAX 4096                /* bytes of one client API key */
#define SERVE_BODY_OUT_MAX (64u << 20)    /* Converse request body (images in base64) */
#define SERVE_ANSWER_MAX (32u << 20)      /* Converse (non-stream) answer */
#define SERVE_REPLY_MAX (64u << 20)       /* one JSON answer to a client */
#define SERVE_CODES_MAX 64                /* distinct (route, status) pairs counted */

static const char serve_usage[] =
	"usage: brock serve [--listen ADDR:PORT]\n"
	"\n"
	"OpenAI-compatible gateway to Bedrock: GET /v1/models, GET /v1/models/{id},\n"
	"POST /v1/chat/completions (stream and non-stream), GET /healthz,\n"
	"GET /metrics (Prometheus).\n"
	"\n"
	"Options:\n"
	"  --listen ADDR:PORT  where to listen (default: config serve.listen, else\n"
	"                      127.0.0.1:8080); IPv6 as [::1]:8080; port 0 picks a free port\n"
	"  --help              this text\n"
	"\n"
	"Client API keys: config serve.apiKeys and $BROCK_API_KEYS (comma-separated);\n"
	"clients send 'Authorization: Bearer <key>'. Without keys only loopback\n"
	"addresses are accepted.\n";

/* Set from the signal handler (on whichever thread it lands); the listener
 * and the connection threads poll it. A lock-free atomic store is
 * async-signal-safe. */
static atomic_int serve_stop_flag;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free");

static void serve_on_signal(int sig)
{
	(void)sig;
	atomic_store_explicit(&serve_stop_flag, 1, memory_order_relaxed);
}

enum serve_route {
	ROUTE_CHAT,
	ROUTE_MODELS,
	ROUTE_HEALTHZ,
	ROUTE_METRICS,
	ROUTE_OTHER,
	ROUTE_COUNT
};

static const char *const serve_route_names[ROUTE_COUNT] = {
	"/v1/chat/completions", "/v1/models", "/healthz", "/metrics", "other",
};

/* Upstream latency histogram bounds, seconds. */
static const double serve_buckets[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
#define SERVE_NBUCKETS (sizeof serve_buckets / sizeof serve_buckets[0])

struct serve_metrics {
	pthread_mutex_t mu;
	struct {
		int route, status;
		unsigned long long n;
	} codes[SERVE_CODES_MAX];
	size_t ncodes;
	unsigned long long errors;
	unsigned long long client_gone;
	unsigned long long lat_bucket[SERVE_NBUCKETS];
	unsigned long long lat_count;
	double lat_sum;
	unsigned long long tokens_in, tokens_out;
	long active_streams;
};

struct serve {
	const struct globals *g;
	struct ctx ctx;
	uint8_t keys[SERVE_MAX_KEYS][32]; /* SHA-256 of each client key */
	size_t nkeys;
	struct server srv;
	struct serve_metrics m;
};

/* ------------------------------------------------------------------------ */
/* Arguments and keys */

static int serve_args(int argc, char **argv, const char **listen, int *help, struct err *e)
{
	int i;

	*listen = NULL;
	*help = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = 1;
			return 0;
		}
		if (strcmp(a, "--listen") == 0) {
			if (i + 1 >= argc || !argv[i + 1][0])
				return err_set(e, ERR_USAGE, "--listen needs ADDR:PORT");
			*listen = argv[++i];
		} else if (strncmp(a, "--listen=", 9) == 0 && a[9]) {
			*listen = a + 9;
		} else {
			return err_set(e, ERR_USAGE,
				       "serve: unknown argument '%.60s' (see 'brock serve --help')", a);
		}
	}
	return 0;
}

static int serve_add_key(struct serve *sv, const char *k, size_t n, const char *from,
			 struct err *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)k[i] <= 0x20 || k[i] == 0x7f)
			return err_set(e, ERR_USAGE, "%s: an API key contains a space or control "
				       "character", from);
	if (n > SERVE_KEY_MAX)
		return err_set(e, ERR_USAGE, "%s: an API key is longer than %d bytes", from,
			       SERVE_KEY_MAX);
	if (sv->nkeys >= SERVE_MAX_KEYS)
		return err_set(e, ERR_USAGE, "too many API keys (at most %d)", SERVE_MAX_KEYS);
	sigv4_sha256(k, n, sv->keys[sv->nkeys++]);
	return 0;
}

/* serve.apiKeys and BROCK_API_KEYS ("k1,k2": blanks around keys ignored). */
static int serve_load_keys(struct serve *sv, struct err *e)
{
	const struct config *cfg = &sv->ctx.cfg;
	const char *v, *p;
	size_t i;

	for (i = 0; i < cfg->n_serve_api_keys; i++) {
		const char *k = cfg->serve_api_keys[i];

		if (!k[0])
			return err_set(e, ERR_USAGE, "serve.apiKeys[%zu] is empty", i);
		if (serve_add_key(sv, k, strlen(k), "serve.apiKeys", e) < 0)
			return -1;
	}
	v = env_get(&sv->g->env, "BROCK_API_KEYS");
	for (p = v; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		struct slice k = slice_trim((struct slice){(const uint8_t *)p, n});

		if (k.n && serve_add_key(sv, (const char *)k.p, k.n, "BROCK_API_KEYS", e) < 0)
			return -1;
		p += n + (end != NULL);
	}
	return 0;
}

/* 1 when the request carries one of the keys (or none are configured). */
static int serve_authorized(const struct serve *sv, const struct server_request *rq)
{
	struct slice v;
	uint8_t d[32];
	size_t i;
	int ok = 0;

	if (sv->nkeys == 0)
		return 1;
	if (!http_header(rq->p, "Authorization", &v) || v.n < 7 ||
	    !slice_eq_nocase((struct slice){v.p, 7}, "bearer "))
		return 0;
	v.p += 7;
	v.n -= 7;
	while (v.n && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.n--;
	}
	if (v.n == 0 || v.n > SERVE_KEY_MAX)
		return 0;
	sigv4_sha256(v.p, v.n, d);
	for (i = 0; i < sv->nkeys; i++) /* every key, no early exit */
		ok |= secure_equal(d, sv->keys[i], sizeof d);
	secure_zero(d, sizeof d);
	return ok;
}

/* ------------------------------------------------------------------------ */
/* Metrics */

static enum serve_route serve_route_of(struct slice path)
{
	if (slice_eq_str(path, "/v1/chat/completions") || slice_eq_str(path, "/chat/completions"))
		return ROUTE_CHAT;
	if (slice_eq_str(path, "/v1/models") || slice_eq_str(path, "/models") ||
	    (path.n > 11 && memcmp(path.p, "/v1/models/", 11) == 0))
		return ROUTE_MODELS;
	if (slice_eq_str(path, "/healthz"))
		return ROUTE_HEALTHZ;
	if (slice_eq_str(path, "/metrics"))
		return ROUTE_METRICS;
	return ROUTE_OTHER;
}

static void serve_count(struct serve *sv, enum serve_route route, int status)
{
	struct serve_metrics *m = &sv->m;
	size_t i;

	pthread_mutex_lock(&m->mu);
	for (i = 0; i < m->ncodes; i++)
		if (m->codes[i].route == (int)route && m->codes[i].status == status)
			break;
	if (i == m->ncodes && m->ncodes < SERVE_CODES_MAX) {
		m->codes[i].route = (int)route;
		m->codes[i].status = status;
		m->codes[i].n = 0;
		m->ncodes++;
	}
	if (i < m->ncodes)
		m->codes[i].n++;
	if (status >= 400)
		m->errors++;
	pthread_mutex_unlock(&m->mu);
}

static void serve_count_upstream(struct serve *sv, double seconds, const struct conv_usage *u,
				 int stream_failed, int client_gone)
{
	struct serve_metrics *m = &sv->m;
	size_t i;

	pthread_mutex_lock(&m->mu);
	for (i = 0; i < SERVE_NBUCKETS; i++)
		if (seconds <= serve_buckets[i])
			m->lat_bucket[i]++;
	m->lat_count++;
	m->lat_sum += seconds;
	if (u && u->has_usage) {
		m->tokens_in += (unsigned long long)(u->input_tokens > 0 ? u->input_tokens : 0);
		m->tokens_out += (unsigned long long)(u->output_tokens > 0 ? u->output_tokens : 0);
	}
	if (stream_failed) /* answered 200, then failed: still an error */
		m->errors++;
	if (client_gone)
		m->client_gone++;
	pthread_mutex_unlock(&m->mu);
}

static void serve_streams_add(struct serve *sv, long d)
{
	pthread_mutex_lock(&sv->m.mu);
	sv->m.active_streams += d;
	pthread_mutex_unlock(&sv->m.mu);
}

static int serve_metrics_text(struct serve *sv, struct buf *o)
{
	struct serve_metrics *m = &sv->m;
	unsigned long accepted, rejected;
	size_t i;
	int r = 0;

	accepted = atomic_load(&sv->srv.accepted);
	rejected = atomic_load(&sv->srv.rejected);
	pthread_mutex_lock(&m->mu);
	r |= buf_append_str(o, "# HELP brock_requests_total HTTP requests answered, by route and "
			       "status code.\n# TYPE brock_requests_total counter\n");
	for (i = 0; i < m->ncodes; i++)
		r |= buf_appendf(o, "brock_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
				 serve_route_names[m->codes[i].route], m->codes[i].status,
				 m->codes[i].n);
	r |= buf_appendf(o, "# HELP brock_errors_total Requests that ended in an error (status >= "
			    "400, or a stream that failed after it started).\n"
			    "# TYPE brock_errors_total counter\nbrock_errors_total %llu\n",
			 m->errors);
	r |= buf_appendf(o, "# HELP brock_client_disconnects_total Clients that went away during "
			    "an answer.\n# TYPE brock_client_disconnects_total counter\n"
			    "brock_client_disconnects_total %llu\n",
			 m->client_gone);
	r |= buf_append_str(o, "# HELP brock_upstream_latency_seconds Duration of Bedrock calls "
			       "(whole answer, streams included).\n"
			       "# TYPE brock_upstream_latency_seconds histogram\n");
	for (i = 0; i < SERVE_NBUCKETS; i++)
		r |= buf_appendf(o, "brock_upstream_latency_seconds_bucket{le=\"%g\"} %llu\n",
				 serve_buckets[i], m->lat_bucket[i]);
	r |= buf_appendf(o,
			 "brock_upstream_latency_seconds_bucket{le=\"+Inf\"} %llu\n"
			 "brock_upstream_latency_seconds_sum %.6f\n"
			 "brock_upstream_latency_seconds_count %llu\n",
			 m->lat_count, m->lat_sum, m->lat_count);
	r |= buf_appendf(o, "# HELP brock_tokens_total Tokens reported by Bedrock.\n"
			    "# TYPE brock_tokens_total counter\n"
			    "brock_tokens_total{type=\"input\"} %llu\n"
			    "brock_tokens_total{type=\"output\"} %llu\n",
			 m->tokens_in, m->tokens_out);
	r |= buf_appendf(o, "# HELP brock_active_streams Streaming answers in progress.\n"
			    "# TYPE brock_active_streams gauge\nbrock_active_streams %ld\n",
			 m->active_streams);
	pthread_mutex_unlock(&m->mu);
	r |= buf_appendf(o, "# HELP brock_connections_total Client connections accepted.\n"
			    "# TYPE brock_connections_total counter\nbrock_connections_total %lu\n"
			    "# HELP brock_connections_rejected_total Connections refused with 503 "
			    "(over the cap).\n# TYPE brock_connections_rejected_total counter\n"
			    "brock_connections_rejected_total %lu\n",
			 accepted, rejected);
	return r ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Answers */

static void serve_json(struct server_conn *c, int status, const struct buf *b, const char *extra)
{
	server_reply(c, status, "application/json", extra, b->p, b->len);
}

static void serve_error(struct server_conn *c, int status, const char *type, const char *param,
			const char *code, const char *msg, const char *extra)
{
	struct buf b;

	buf_init(&b, 16384);
	if (oai_error_body(&b, msg, type, param, code) < 0) {
		buf_reset(&b);
		buf_append_str(&b, "{\"error\":{\"message\":\"internal error\",\"type\":"
				   "\"server_error\",\"param\":null,\"code\":null}}");
	}
	serve_json(c, status, &b, extra);
	buf_free(&b);
}

/* server_error_fn: the server's own refusals as OpenAI error objects. */
static void serve_on_server_error(void *user, struct server_conn *c, int status, const char *msg)
{
	(void)user;
	serve_error(c, status, status >= 500 ? "server_error" : "invalid_request_error", NULL, NULL,
		    msg, NULL);
}

static void serve_fail(struct server_conn *c, const struct err *e, int up_status,
		       const char *up_type)
{
	struct oai_error oe;

	oai_error_classify(e, up_status, up_type, &oe);
	serve_error(c, oe.status, oe.type, NULL, oe.code, e->msg[0] ? e->msg : "error",
		    oe.status == 429 ? "Retry-After: 1\r\n" : NULL);
}

/* ------------------------------------------------------------------------ */
/* GET /v1/models */

static int serve_catalog(struct serve *sv, struct catalog *cat, struct err *e)
{
	struct disc_opts o;
	struct disc_result dr;
	int rc;

	memset(&o, 0, sizeof o);
	o.cfg = &sv->ctx.cfg.discovery;
	o.env = &sv->g->env;
	if (disc_run(&sv->ctx.aws, &sv->ctx.creds, &o, &dr, e) < 0)
		return err_wrap(e, "model discovery");
	if (dr.warning[0] && sv->g->verbose)
		ctx_log(&sv->ctx, "warning: %s", dr.warning);
	rc = catalog_build(cat, &sv->ctx.cfg, dr.list.n ? &dr.list : NULL, e);
	if (rc == 0 && cat->n == 0 && dr.source == DISC_SKIPPED) {
		/* no credentials and nothing configured: an empty 200 list would
		 * hide why; the gateway's credentials are the problem (502) */
		catalog_free(cat);
		rc = err_set(e, ERR_CREDS, "no models to list: %s", dr.warning);
	}
	disc_result_free(&dr);
	return rc;
}

static void serve_model_obj(struct jw *w, const struct cat_model *m)
{
	struct buf id;

	buf_init(&id, 8192);
	buf_append_str(&id, CATALOG_PROVIDER "/");
	buf_append_str(&id, m->id);
	jw_obj_begin(w);
	jw_kstrn(w, "id", id.p, id.len);
	jw_kstr(w, "object", "model");
	jw_kint(w, "created", 0);
	jw_kstr(w, "owned_by", m->maker ? m->maker : "");
	jw_obj_end(w);
	buf_free(&id);
}

static void serve_models(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	struct catalog cat;
	struct buf out;
	struct jw w;
	struct err e;
	size_t i;

	if (serve_catalog(sv, &cat, &e) < 0) {
		serve_fail(c, &e, 0, NULL);
		return;
	}
	buf_init(&out, SERVE_REPLY_MAX);
	jw_init(&w, &out);
	if (rq->path.n > 11 && memcmp(rq->path.p, "/v1/models/", 11) == 0) {
		/* GET /v1/models/{ref}: the ref may be percent-encoded (it has a '/') */
		struct buf ref;
		const struct cat_model *m = NULL;

		buf_init(&ref, 4096);
		if (pct_decode(&ref, rq->path.p + 11, rq->path.n - 11, 0) == 0 &&
		    strlen((const char *)ref.p) == ref.len)
			m = catalog_find(&cat, (const char *)ref.p);
		if (m) {
			serve_model_obj(&w, m);
			serve_json(c, 200, &out, NULL);
		} else {
			char msg[300];

			snprintf(msg, sizeof msg, "The model '%.200s' does not exist",
				 ref.len && json_utf8_valid(ref.p, ref.len, NULL) ? (const char *)ref.p
										  : "");
			serve_error(c, 404, "invalid_request_error", "model", "model_not_found", msg,
				    NULL);
		}
		buf_free(&ref);
	} else {
		jw_obj_begin(&w);
		jw_kstr(&w, "object", "list");
		jw_key(&w, "data");
		jw_arr_begin(&w);
		for (i = 0; i < cat.n; i++)
			serve_model_obj(&w, &cat.v[i]);
		jw_arr_end(&w);
		jw_obj_end(&w);
		if (jw_finish(&w, &e) < 0)
			serve_error(c, 500, "server_error", NULL, NULL, "model list too large", NULL);
		else
			serve_json(c, 200, &out, NULL);
	}
	buf_free(&out);
	catalog_free(&cat);
}

/* ------------------------------------------------------------------------ */
/* POST /v1/chat/completions */

struct serve_call {
	struct serve *sv;
	struct server_conn *c;
	struct oai_stream os;
	struct conv_stream cs;
};

/* oai_write_fn: one SSE event to the client; the first one sends the head. */
static int serve_sse_write(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct serve_call *sc = user;

	if (!server_status(sc->c) &&
	    server_stream_start(sc->c, 200, "text/event-stream",
				"Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n") < 0)
		return err_set(e, ERR_NET, "the client went away");
	if (server_stream_send(sc->c, p, n) < 0)
		return err_set(e, ERR_NET, "the client went away");
	return 0;
}

static int serve_metadata_cb(void *user, const struct conv_usage *u, struct err *e)
{
	(void)e;
	*(struct conv_usage *)user = *u;
	return 0;
}

/* Runs the Bedrock call; answers the client in every case. */
static void serve_chat_call(struct serve_call *sc, const struct oai_req *orq, const char *id,
			    int64_t created, const struct buf *cbody)
{
	struct serve *sv = sc->sv;
	struct aws_creds creds; /* this request's own copy: a refresh never touches it */
	struct conv_call cc;
	struct aws_response r;
	struct conv_usage usage;
	int64_t t0;
	struct err e;
	int rc, failed_late = 0;

	memset(&usage, 0, sizeof usage);
	memset(&creds, 0, sizeof creds);
	if (creds_get(&sv->ctx.creds, &creds, &e) < 0) {
		serve_fail(sc->c, &e, 0, NULL);
		return;
	}
	memset(&cc, 0, sizeof cc);
	cc.model_id = orq->model_id;
	cc.stream = orq->stream;
	cc.body = cbody->p;
	cc.body_len = cbody->len;
	cc.cs = &sc->cs;
	cc.max_answer = SERVE_ANSWER_MAX;
	cc.gateway = 1;
	if (orq->stream)
		serve_streams_add(sv, 1);
	t0 = clock_ms();
	cc.t0_ms = t0;
	rc = conv_call(&sv->ctx.aws, &creds, &cc, &r, &e);
	aws_creds_wipe(&creds);
	if (orq->stream) {
		usage = sc->os.usage;
		if (rc == 0) {
			if (oai_stream_end(&sc->os, &e) == 0)
				server_stream_end(sc->c);
		} else if (oai_stream_started(&sc->os)) {
			struct err e2;

			/* the status line is gone: the error is an SSE event (a
			 * client that left is counted apart, not as an error) */
			failed_late = !server_client_gone(sc->c);
			if (!server_client_gone(sc->c) && oai_stream_fail(&sc->os, &e, &e2) == 0)
				server_stream_end(sc->c);
		} else {
			serve_fail(sc->c, &e, r.status >= 300 ? r.status : 0,
				   r.error_type[0] ? r.error_type : NULL);
		}
		serve_streams_add(sv, -1);
	} else if (rc == 0) {
		struct conv_handler h;
		struct buf out;

		memset(&h, 0, sizeof h);
		h.user = &usage;
		h.metadata = serve_metadata_cb;
		buf_init(&out, SERVE_REPLY_MAX);
		rc = oai_completion(r.body.p, r.body.len, id, orq->model, created, &out, &e);
		if (rc == 0) {
			struct err e2;

			conv_parse_response(&h, 0, r.body.p, r.body.len, &e2);
			serve_json(sc->c, 200, &out, NULL);
		} else {
			serve_fail(sc->c, &e, 0, NULL);
		}
		buf_free(&out);
	} else {
		serve_fail(sc->c, &e, r.status >= 300 ? r.status : 0,
			   r.error_type[0] ? r.error_type : NULL);
	}
	if (sv->g->verbose && rc < 0)
		ctx_log(&sv->ctx, "chat %s: %s", orq->model_id, e.msg);
	serve_count_upstream(sv, (double)(clock_ms() - t0) / 1e3, &usage, failed_late,
			     server_client_gone(sc->c));
	aws_response_free(&r);
}

static void serve_chat(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	struct serve_call *sc;
	struct oai_req orq;
	struct conv_handler h;
	struct buf cbody;
	struct err e;
	uint8_t rnd[12];
	char id[OAI_ID_MAX];
	int64_t created = (int64_t)time(NULL);

	buf_init(&cbody, SERVE_BODY_OUT_MAX);
	memset(&orq, 0, sizeof orq);
	if (oai_map_request(rq->body, rq->body_len, &orq, &cbody, &e) < 0) {
		if (e.cls == ERR_USAGE)
			serve_error(c, 400, "invalid_request_error", orq.param[0] ? orq.param : NULL,
				    NULL, e.msg, NULL);
		else
			serve_fail(c, &e, 0, NULL);
		buf_free(&cbody);
		return;
	}
	if (getentropy(rnd, sizeof rnd) != 0) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		memcpy(rnd, &t, sizeof rnd < sizeof t ? sizeof rnd : sizeof t);
	}
	oai_make_id(id, rnd, sizeof rnd);
	sc = calloc(1, sizeof *sc); /* the stream state is large: keep it off the stack */
	if (!sc) {
		serve_error(c, 500, "server_error", NULL, NULL, "out of memory", NULL);
		buf_free(&cbody);
		return;
	}
	sc->sv = sv;
	sc->c = c;
	if (orq.stream) {
		oai_stream_init(&sc->os, id, orq.model, created, orq.include_usage, serve_sse_write,
				sc);
		oai_stream_handler(&sc->os, &h);
		conv_stream_init(&sc->cs, &h, 0);
	}
	if (sv->g->verbose)
		ctx_log(&sv->ctx, "chat %s%s, request body %zu bytes", orq.model_id,
			orq.stream ? " (stream)" : "", cbody.len);
	serve_chat_call(sc, &orq, id, created, &cbody);
	if (orq.stream) {
		conv_stream_free(&sc->cs);
		oai_stream_free(&sc->os);
	}
	free(sc);
	buf_free(&cbody);
}

/* ------------------------------------------------------------------------ */
/* Routing */

static int serve_method(struct server_conn *c, const struct server_request *rq, const char *want)
{
	char allow[64];
	char msg[128];

	if (slice_eq_str(rq->p->method, want) ||
	    (strcmp(want, "GET") == 0 && slice_eq_str(rq->p->method, "HEAD")))
		return 1;
	snprintf(allow, sizeof allow, "Allow: %s\r\n", strcmp(want, "GET") == 0 ? "GET, HEAD" : want);
	snprintf(msg, sizeof msg, "this route takes %s requests", want);
	serve_error(c, 405, "invalid_request_error", NULL, "method_not_allowed", msg, allow);
	return 0;
}

/* server_head_fn, on a loop thread: everything decided from the headers
 * alone (routes, methods, the key) is answered here, before any body byte
 * is read; what calls Bedrock runs on a helper thread. */
static int serve_head(void *user, struct server_conn *c, const struct server_request *rq)
{
	struct serve *sv = user;
	enum serve_route route = serve_route_of(rq->path);

	if (route == ROUTE_HEALTHZ) {
		static const char ok[] = "{\"status\":\"ok\"}";

		if (serve_method(c, rq, "GET"))
			server_reply(c, 200, "application/json", NULL, ok, sizeof ok - 1);
		return SERVER_ANSWERED;
	}
	if (!serve_authorized(sv, rq)) {
		serve_error(c, 401, "invalid_request_error", NULL, "invalid_api_key",
			    "Incorrect or missing API key: send 'Authorization: Bearer <key>'",
			    "WWW-Authenticate: Bearer\r\n");
		return SERVER_ANSWERED;
	}
	switch (route) {
	case ROUTE_CHAT:
		return serve_method(c, rq, "POST") ? SERVER_GO : SERVER_ANSWERED;
	case ROUTE_MODELS:
		return serve_method(c, rq, "GET") ? SERVER_GO : SERVER_ANSWERED;
	case ROUTE_METRICS:
		if (serve_method(c, rq, "GET")) {
			struct buf b;

			buf_init(&b, 1u << 20);
			if (serve_metrics_text(sv, &b) == 0)
				server_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL,
					     b.p, b.len);
			else
				serve_error(c, 500, "server_error", NULL, NULL, "metrics too large",
					    NULL);
			buf_free(&b);
		}
		return SERVER_ANSWERED;
	default: {
		char msg[300];

		snprintf(msg, sizeof msg, "Unknown route %.*s %.*s", (int)(rq->p->method.n > 16 ? 16 : rq->p->method.n),
			 (const char *)rq->p->method.p, (int)(rq->path.n > 200 ? 200 : rq->path.n),
			 (const char *)rq->path.p);
		if (!json_utf8_valid(msg, strlen(msg), NULL))
			snprintf(msg, sizeof msg, "Unknown route");
		serve_error(c, 404, "invalid_request_error", NULL, "not_found", msg, NULL);
		return SERVER_ANSWERED;
	}
	}
}

/* server_handler_fn, on a helper thread: the routes that call Bedrock. */
static void serve_handle(void *user, struct server_conn *c, const struct server_request *rq)
{
	struct serve *sv = user;

	if (serve_route_of(rq->path) == ROUTE_CHAT)
		serve_chat(sv, c, rq);
	else
		serve_models(sv, c, rq);
}

/* server_done_fn */
static void serve_done(void *user, struct server_conn *c, const struct server_request *rq,
		       int status)
{
	struct serve *sv = user;

	(void)c;
	enum serve_route route = rq ? serve_route_of(rq->path) : ROUTE_OTHER;

	serve_count(sv, route, status);
	if (sv->g->verbose && rq)
		ctx_log(&sv->ctx, "%.*s %.*s -> %d", (int)(rq->p->method.n > 16 ? 16 : rq->p->method.n),
			(const char *)rq->p->method.p, (int)(rq->path.n > 200 ? 200 : rq->path.n),
			(const char *)rq->path.p, status);
}

/* ------------------------------------------------------------------------ */

static void serve_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = serve_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static int serve_start(struct serve *sv, const char *listen, struct err *e)
{
	int lo;

	if (serve_load_keys(sv, e) < 0)
		return -1;
	lo = server_listen_is_loopback(listen, e);
	if (lo < 0)
		return -1;
	if (!lo && sv->nkeys == 0)
		return err_set(e, ERR_USAGE,
			       "refusing to serve on %.200s without API keys: set serve.apiKeys in "
			       "the config or BROCK_API_KEYS, or listen on a loopback address",
			       listen);
	/* a bad CA bundle is a startup error, not a failure of the first request */
	if (conn_pool_load_trust(&sv->ctx.pool, e) < 0)
		return -1;
	if (server_open(&sv->srv, listen, NULL, e) < 0)
		return -1;
	if (!sv->srv.loopback && sv->nkeys == 0) { /* the name resolved differently at bind */
		server_close(&sv->srv);
		return err_set(e, ERR_USAGE, "refusing to serve on %.200s without API keys", listen);
	}
	return 0;
}

int cmd_serve(const struct globals *g, int argc, char **argv, struct err *e)
{
	struct serve *sv;
	const char *listen;
	int help, rc;

	if (serve_args(argc, argv, &listen, &help, e) < 0)
		return -1;
	if (help) {
		fputs(serve_usage, stdout);
		return 0;
	}
	sv = calloc(1, sizeof *sv);
	if (!sv)
		return err_set(e, ERR_OTHER, "out of memory");
	sv->g = g;
	if (ctx_open(&sv->ctx, g, e) < 0) {
		free(sv);
		return -1;
	}
	pthread_mutex_init(&sv->m.mu, NULL);
	if (!listen)
		listen = sv->ctx.cfg.serve_listen ? sv->ctx.cfg.serve_listen : SERVE_DEFAULT_LISTEN;
	if (serve_start(sv, listen, e) < 0) {
		secure_zero(sv->keys, sizeof sv->keys);
		pthread_mutex_destroy(&sv->m.mu);
		ctx_close(&sv->ctx);
		free(sv);
		return -1;
	}
	sv->srv.head = serve_head;
	sv->srv.handler = serve_handle;
	sv->srv.error = serve_on_server_error;
	sv->srv.done = serve_done;
	sv->srv.user = sv;
	sv->srv.stop = &serve_stop_flag;
	serve_signals();
	if (!g->quiet)
		fprintf(stderr, "brock: serving OpenAI-compatible API on %s (%zu API key%s)\n",
			sv->srv.url, sv->nkeys, sv->nkeys == 1 ? "" : "s");
	rc = server_run(&sv->srv, e);
	if (server_close(&sv->srv) != 0) {
		/* streams still running after the drain bound: exit under them
		 * without freeing what they use */
		if (!g->quiet)
			fprintf(stderr, "brock: stopping with %ld answer%s still running\n",
				(long)atomic_load(&sv->srv.busy),
				atomic_load(&sv->srv.busy) == 1 ? "" : "s");
		return rc;
	}
	if (!g->quiet && rc == 0)
		fprintf(stderr, "brock: stopped\n");
	secure_zero(sv->keys, sizeof sv->keys);
	pthread_mutex_destroy(&sv->m.mu);
	ctx_close(&sv->ctx);
	free(sv);
	return rc;
}
