/* cmd_serve: `brock serve [--listen ADDR:PORT]` (SPEC section 7), the
 * OpenAI-compatible gateway. server.h runs the listener and the connection
 * threads; this file routes requests, checks the clients' API keys, calls
 * Bedrock (ConverseStream / Converse, through the shared aws client and
 * credential chain of the ctx) and maps both ways with openai.h; it also
 * keeps the Prometheus counters of /metrics.
 *
 * Routes: GET /healthz (open), GET /v1/models, GET /v1/models/{ref},
 * POST /v1/chat/completions, GET /metrics, GET /status (+ .json; its own
 * access rule, cmd_serve_status.c). With API keys configured every route but
 * /healthz needs "Authorization: Bearer <key>". Keys are kept only
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
#include "cmd/serve.h"
#include "wire/sigv4.h"
#include "base/pctenc.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:8080"
#define SERVE_BODY_OUT_MAX (64u << 20)    /* Converse request body (images in base64) */
#define SERVE_ANSWER_MAX (32u << 20)      /* Converse (non-stream) answer */
#define SERVE_REPLY_MAX (64u << 20)       /* one JSON answer to a client */

static const char serve_usage[] =
	"usage: brock serve [--listen ADDR:PORT]\n"
	"\n"
	"Gateway to Bedrock: OpenAI (POST /v1/chat/completions, POST /v1/embeddings,\n"
	"GET /v1/models[/{id}]), Anthropic (POST /v1/messages, POST\n"
	"/v1/messages/count_tokens, GET /v1/models with anthropic-version), Bedrock\n"
	"pass-through (POST /model/{id}/converse[-stream], /invoke[-with-response-stream],\n"
	"/count-tokens), GET /healthz, GET /metrics (Prometheus), GET /status (the\n"
	"operator's page).\n"
	"\n"
	"Options:\n"
	"  --listen ADDR:PORT  where to listen (default: config serve.listen, else\n"
	"                      127.0.0.1:8080); IPv6 as [::1]:8080; port 0 picks a free port\n"
	"  --help              this text\n"
	"\n"
	"Client API keys: config serve.apiKeys and $BROCK_API_KEYS (comma-separated),\n"
	"and serve.keys with a policy per key (models, rpm, tpm, maxConcurrent, budget);\n"
	"clients send 'Authorization: Bearer <key>' or 'x-api-key: <key>'. Without keys\n"
	"only loopback addresses are accepted. Usage and spend per key: <state dir>/ledger.\n";

/* Set from the signal handler (on whichever thread it lands); the listener
 * and the connection threads poll it. A lock-free atomic store is
 * async-signal-safe. */
static atomic_int serve_stop_flag, serve_reload_flag;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the stop flag must be lock-free");

static void serve_on_signal(int sig)
{
	if (sig == SIGHUP)
		atomic_store_explicit(&serve_reload_flag, 1, memory_order_relaxed);
	else
		atomic_store_explicit(&serve_stop_flag, 1, memory_order_relaxed);
}

static void serve_reload_job(struct loop_job *j)
{
	struct serve *sv = j->user;

	cmd_serve_reload(sv);
	atomic_store(&sv->reload_busy, 0);
}

/* The chain caches credentials and refreshes them 5 minutes before they
 * expire: asking it now and then from a helper thread makes that refresh
 * happen here, not in a request (a request holds its own copy anyway). */
static void serve_creds_job(struct loop_job *j)
{
	struct serve *sv = j->user;
	struct aws_creds c;
	struct err e;
	int rc;

	memset(&c, 0, sizeof c);
	rc = creds_get(&sv->ctx.creds, &c, &e);
	if (rc < 0 && sv->g->verbose)
		ctx_log(&sv->ctx, "background credential refresh: %s", e.msg);
	cmd_serve_status_creds(sv, rc == 0 ? &c : NULL, &e);
	aws_creds_wipe(&c);
	atomic_store(&sv->creds_busy, 0);
}

#define SERVE_CREDS_EVERY_MS 60000

/* server tick (first loop): a SIGHUP becomes a reload on a helper thread;
 * the credential check runs every minute beside the loop */
static void serve_tick(void *user)
{
	struct serve *sv = user;
	int64_t now = clock_ms();

	cmd_serve_ping_tick(sv);
	cmd_serve_ledger_tick(sv);
	if (now >= sv->creds_next && !atomic_exchange(&sv->creds_busy, 1)) {
		sv->creds_next = now + SERVE_CREDS_EVERY_MS;
		sv->creds_job.fn = serve_creds_job;
		sv->creds_job.user = sv;
		if (server_submit(&sv->srv, &sv->creds_job) < 0)
			atomic_store(&sv->creds_busy, 0);
	}

	if (!atomic_load_explicit(&serve_reload_flag, memory_order_relaxed) ||
	    atomic_exchange(&sv->reload_busy, 1))
		return;
	atomic_store(&serve_reload_flag, 0);
	sv->reload_job.fn = serve_reload_job;
	sv->reload_job.user = sv;
	if (server_submit(&sv->srv, &sv->reload_job) < 0)
		atomic_store(&sv->reload_busy, 0);
}

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

/* The 1-based index of the key the request carries, 0 for none or a
 * wrong one; -1 when no keys are configured (every request is in). The
 * key's state goes to q->ks (read under the same lock: a reload may swap
 * the table right after). */
static int serve_authorized(struct serve *sv, const struct server_request *rq,
			    struct serve_req *q)
{
	struct slice v;

	/* Authorization: Bearer (OpenAI, AWS SDKs with a Bedrock API key) or
	 * x-api-key (Anthropic SDKs) */
	if (http_header(rq->p, "Authorization", &v) && v.n >= 7 &&
	    slice_eq_nocase((struct slice){v.p, 7}, "bearer ")) {
		v.p += 7;
		v.n -= 7;
	} else if (!http_header(rq->p, "x-api-key", &v)) {
		return cmd_serve_key_find(sv, (struct slice){NULL, 0}, NULL);
	}
	while (v.n && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.n--;
	}
	return cmd_serve_key_find(sv, v, &q->ks);
}

/* ------------------------------------------------------------------------ */
/* Answers */

static void serve_json(struct server_conn *c, int status, const struct buf *b, const char *extra)
{
	server_reply(c, status, "application/json", extra, b->p, b->len);
}

/* server_error_fn: the server's own refusals as OpenAI error objects. */
static void serve_on_server_error(void *user, struct server_conn *c, int status, const char *msg)
{
	(void)user;
	cmd_serve_error(c, status, status >= 500 ? "server_error" : "invalid_request_error", NULL, NULL,
		    msg, NULL);
}

/* ------------------------------------------------------------------------ */
/* GET /v1/models */

int cmd_serve_catalog(struct serve *sv, struct catalog *cat, struct err *e)
{
	struct disc_opts o;
	struct disc_result dr;
	int rc;

	memset(&o, 0, sizeof o);
	o.cfg = &sv->ctx.cfg.discovery;
	o.env = &sv->g->env;
	/* a helper thread: it may wait for a reload (SIGHUP) to finish */
	pthread_rwlock_rdlock(&sv->cfg_mu);
	if (disc_run(&sv->ctx.aws, &sv->ctx.creds, &o, &dr, e) < 0) {
		pthread_rwlock_unlock(&sv->cfg_mu);
		return err_wrap(e, "model discovery");
	}
	if (dr.warning[0] && sv->g->verbose)
		ctx_log(&sv->ctx, "warning: %s", dr.warning);
	rc = catalog_build(cat, &sv->ctx.cfg, dr.list.n ? &dr.list : NULL, e);
	pthread_rwlock_unlock(&sv->cfg_mu);
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
	buf_append_str(&id, catalog_key(m)); /* an application profile by name */
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

	if (cmd_serve_catalog(sv, &cat, &e) < 0) {
		cmd_serve_fail(c, &e, 0, NULL);
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
			cmd_serve_error(c, 404, "invalid_request_error", "model", "model_not_found", msg,
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
			cmd_serve_error(c, 500, "server_error", NULL, NULL, "model list too large", NULL);
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
	struct serve_req *q;
	struct oai_stream os;
	struct conv_stream cs;
};

/* oai_write_fn: one SSE event to the client; the first one sends the head. */
static int serve_sse_write(void *user, const uint8_t *p, size_t n, struct err *e)
{
	struct serve_call *sc = user;

	if (sc->q && sc->q->ttft_ms < 0) {
		sc->q->ttft_ms = clock_ms() - sc->q->t0;
		cmd_serve_count_ttft(sc->sv, (double)sc->q->ttft_ms / 1e3);
	}
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
/* The end of a streamed answer: the closing chunk, or the error as an SSE
 * event once the status line is gone (a client that left is counted apart,
 * not as an error), or an ordinary error answer. 1 when it failed late. */
static int serve_stream_finish(struct serve_call *sc, int rc, const struct aws_response *r,
			       struct err *e)
{
	struct err e2;

	if (rc == 0) {
		if (oai_stream_end(&sc->os, e) == 0)
			server_stream_end(sc->c);
		return 0;
	}
	if (oai_stream_started(&sc->os)) {
		if (server_client_gone(sc->c))
			return 0;
		if (oai_stream_fail(&sc->os, e, &e2) == 0)
			server_stream_end(sc->c);
		return 1;
	}
	cmd_serve_fail(sc->c, e, r->status >= 300 ? r->status : 0,
		   r->error_type[0] ? r->error_type : NULL);
	return 0;
}

/* A non-streamed answer: the chat.completion object, usage for the metrics. */
int cmd_serve_completion(struct server_conn *c, const struct oai_req *orq, const char *id,
			 int64_t created, const struct aws_response *r, struct conv_usage *usage,
			 struct err *e)
{
	struct conv_handler h;
	struct buf out;
	int rc;

	memset(&h, 0, sizeof h);
	h.user = usage;
	h.metadata = serve_metadata_cb;
	buf_init(&out, SERVE_REPLY_MAX);
	rc = oai_completion(r->body.p, r->body.len, id, orq->model, created, &out, e);
	if (rc == 0) {
		struct err e2;

		conv_parse_response(&h, 0, r->body.p, r->body.len, &e2);
		serve_json(c, 200, &out, NULL);
	} else {
		cmd_serve_fail(c, e, 0, NULL);
	}
	buf_free(&out);
	return rc;
}

/* One attempt on model orq->model_id. Returns 1, without answering, when
 * it failed in a way another model may not (429, 5xx) and nothing reached
 * the client, unless it is the last model; else 0, the client answered. */
static int serve_chat_call(struct serve_call *sc, const struct oai_req *orq, const char *id,
			   int64_t created, const struct buf *cbody, int last)
{
	struct serve *sv = sc->sv;
	struct aws_creds creds; /* this request's own copy: a refresh never touches it */
	struct conv_call cc;
	struct aws_response r;
	struct conv_usage usage;
	int64_t t0;
	struct err e;
	int rc, failed_late = 0, next = 0;

	memset(&usage, 0, sizeof usage);
	memset(&creds, 0, sizeof creds);
	if (creds_get(&sv->ctx.creds, &creds, &e) < 0) {
		cmd_serve_count_upstream_error(sv, NULL, &e);
		cmd_serve_fail(sc->c, &e, 0, NULL);
		return 0;
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
		cmd_serve_streams_add(sv, 1);
	t0 = clock_ms();
	cc.t0_ms = t0;
	rc = conv_call(&sv->ctx.aws, &creds, &cc, &r, &e);
	aws_creds_wipe(&creds);
	next = rc < 0 && !last && cmd_serve_fallback_worthy(r.status) &&
	       !(orq->stream && oai_stream_started(&sc->os)) && !server_status(sc->c);
	if (next) {
		if (sv->g->verbose)
			ctx_log(&sv->ctx, "chat %s: %s; trying the next model", orq->model_id, e.msg);
	} else if (orq->stream) {
		usage = sc->os.usage;
		failed_late = serve_stream_finish(sc, rc, &r, &e);
	} else if (rc == 0) {
		rc = cmd_serve_completion(sc->c, orq, id, created, &r, &usage, &e);
	} else {
		cmd_serve_fail(sc->c, &e, r.status >= 300 ? r.status : 0,
			   r.error_type[0] ? r.error_type : NULL);
	}
	if (orq->stream)
		cmd_serve_streams_add(sv, -1);
	if (sv->g->verbose && rc < 0 && !next)
		ctx_log(&sv->ctx, "chat %s: %s", orq->model_id, e.msg);
	if (rc < 0 && !server_client_gone(sc->c))
		cmd_serve_count_upstream_error(sv, r.error_type[0] ? r.error_type : NULL, &e);
	if (sc->q) {
		sc->q->upstream = 1;
		sc->q->gone_counted = server_client_gone(sc->c);
		snprintf(sc->q->request_id, sizeof sc->q->request_id, "%s", r.request_id);
		sc->q->tokens_in = usage.has_usage ? usage.input_tokens : 0;
		sc->q->tokens_out = usage.has_usage ? usage.output_tokens : 0;
	}
	cmd_serve_charge(sv, sc->q, orq->model_id, &usage);
	cmd_serve_count_upstream(sv, (double)(clock_ms() - t0) / 1e3, &usage, failed_late,
				 server_client_gone(sc->c));
	aws_response_free(&r);
	return next;
}

/* The client's body mapped to Converse for model_id (NULL: the body's
 * model), the config's bedrock.* defaults under the request's own fields. */
static int serve_chat_map(struct serve *sv, const struct server_request *rq, const char *model_id,
			  struct oai_req *orq, struct buf *cbody, struct err *e)
{
	int rc;

	buf_reset(cbody);
	pthread_rwlock_rdlock(&sv->cfg_mu);
	rc = oai_map_request_with(rq->body, rq->body_len, &sv->ctx.cfg.features, model_id, orq,
				  cbody, e);
	pthread_rwlock_unlock(&sv->cfg_mu);
	return rc;
}

/* The model to call: serve.modelAliases first (the body mapped again for
 * the alias's target), then "openai/gpt-4o"-style refs of another provider
 * refused (404, never sent upstream). 0, or -1 when answered. */
static int serve_chat_model(struct serve *sv, struct server_conn *c,
			    const struct server_request *rq, struct oai_req *orq,
			    struct buf *cbody)
{
	char mid[SERVE_MODEL_MAX], msg[OAI_MODEL_MAX + 80];
	struct err e;

	if (cmd_serve_resolve(sv, orq->model, mid)) {
		if (serve_chat_map(sv, rq, mid, orq, cbody, &e) < 0) {
			cmd_serve_fail(c, &e, 0, NULL);
			return -1;
		}
	}
	if (!strchr(orq->model_id, '/') || strncmp(orq->model_id, "arn:", 4) == 0)
		return 0;
	snprintf(msg, sizeof msg, "The model '%s' does not exist (not an %s model)", orq->model,
		 CATALOG_PROVIDER);
	cmd_serve_error(c, 404, "invalid_request_error", "model", "model_not_found",
			json_utf8_valid(msg, strlen(msg), NULL) ? msg : "unknown model", NULL);
	return -1;
}

/* The model of orq, then each fallback in turn (SPEC 7.4): the request
 * body is kept while another model may need it mapped for itself. */
static void serve_chat_models(struct serve_call *sc, const struct server_request *rq,
			      struct oai_req *orq, const char *id, int64_t created,
			      struct buf *cbody)
{
	char fb[CONFIG_FALLBACKS_MAX][SERVE_MODEL_MAX];
	size_t nfb = cmd_serve_fallbacks(sc->sv, sc->q, orq->model_id, fb, CONFIG_FALLBACKS_MAX);
	size_t i;
	struct conv_handler h;
	struct err e;

	if (!nfb)
		server_body_done(sc->c); /* mapped: the client's body leaves the budget */
	for (i = 0;; i++) {
		int next;

		if (sc->q)
			snprintf(sc->q->model, SERVE_LOG_MODEL, "%.150s", orq->model_id);
		if (orq->stream) {
			oai_stream_init(&sc->os, id, orq->model, created, orq->include_usage,
					serve_sse_write, sc);
			oai_stream_handler(&sc->os, &h);
			conv_stream_init(&sc->cs, &h, 0);
		}
		next = serve_chat_call(sc, orq, id, created, cbody, i == nfb);
		if (orq->stream) {
			conv_stream_free(&sc->cs);
			oai_stream_free(&sc->os);
		}
		if (!next)
			return;
		cmd_serve_count_fallback(sc->sv, sc->q, orq->model_id);
		if (serve_chat_map(sc->sv, rq, fb[i], orq, cbody, &e) < 0) {
			cmd_serve_fail(sc->c, &e, 0, NULL);
			return;
		}
		/* the answer names the model that serves it */
		if (snprintf(orq->model, sizeof orq->model, "%s/%s", CATALOG_PROVIDER, fb[i]) >=
		    (int)sizeof orq->model) /* no room for the prefix: the bare id */
			snprintf(orq->model, sizeof orq->model, "%.*s", (int)sizeof orq->model - 1,
				 fb[i]);
		if (i + 1 == nfb)
			server_body_done(sc->c);
	}
}

/* A model that names no Bedrock id (no '.', not an ARN) is an application
 * inference profile's name (SPEC 5): its ARN is what is called. -1 when
 * the client has been answered (404, or the catalog failed). */
static int serve_profile_name(struct serve *sv, struct server_conn *c, struct oai_req *orq)
{
	const struct cat_model *m;
	struct catalog cat;
	struct err e;
	int found;

	if (strchr(orq->model_id, '.') || strncmp(orq->model_id, "arn:", 4) == 0)
		return 0;
	if (cmd_serve_catalog(sv, &cat, &e) < 0) {
		cmd_serve_fail(c, &e, 0, NULL);
		return -1;
	}
	m = catalog_find(&cat, orq->model_id);
	found = m && strlen(m->id) < sizeof orq->model_id;
	if (found)
		memcpy(orq->model_id, m->id, strlen(m->id) + 1);
	else
		cmd_serve_error(c, 404, "invalid_request_error", "model", "model_not_found",
				"The model does not exist (no Bedrock model id or application "
				"inference profile name)", NULL);
	catalog_free(&cat);
	return found ? 0 : -1;
}

int cmd_serve_chat_prepare(struct serve *sv, struct server_conn *c, const struct server_request *rq,
			   struct oai_req *orq, struct buf *cbody, char id[OAI_ID_MAX])
{
	struct serve_req *q = *server_udata(c);
	struct serve_refusal ref;
	struct err e;
	uint8_t rnd[12];

	buf_init(cbody, SERVE_BODY_OUT_MAX);
	memset(orq, 0, sizeof *orq);
	if (serve_chat_map(sv, rq, NULL, orq, cbody, &e) < 0) {
		if (e.cls == ERR_USAGE)
			cmd_serve_error(c, 400, "invalid_request_error", orq->param[0] ? orq->param : NULL,
				    NULL, e.msg, NULL);
		else
			cmd_serve_fail(c, &e, 0, NULL);
		buf_free(cbody);
		return 1;
	}
	if (q)
		snprintf(q->model, SERVE_LOG_MODEL, "%.150s", orq->model_id);
	if (serve_chat_model(sv, c, rq, orq, cbody) < 0) {
		buf_free(cbody);
		return 1;
	}
	if (q)
		snprintf(q->model, SERVE_LOG_MODEL, "%.150s", orq->model_id);
	/* admitted once: a request the loop hands to a helper thread keeps its slot */
	if (!(q && q->admitted) && cmd_serve_admit(sv, q, orq->model_id, &ref) < 0) {
		cmd_serve_refuse(c, &ref);
		buf_free(cbody);
		return 1;
	}
	if (!strchr(orq->model_id, '.') && strncmp(orq->model_id, "arn:", 4) != 0 &&
	    server_on_loop(c)) {
		buf_free(cbody); /* a profile name: the catalog may need discovery (I/O) */
		return -1;
	}
	if (serve_profile_name(sv, c, orq) < 0) {
		buf_free(cbody);
		return 1;
	}
	if (getentropy(rnd, sizeof rnd) != 0) {
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		memcpy(rnd, &t, sizeof rnd < sizeof t ? sizeof rnd : sizeof t);
	}
	oai_make_id(id, rnd, sizeof rnd);
	if (sv->g->verbose)
		ctx_log(&sv->ctx, "chat %s%s, request body %zu bytes", orq->model_id,
			orq->stream ? " (stream)" : "", cbody->len);
	return 0;
}

static void serve_chat(struct serve *sv, struct server_conn *c, const struct server_request *rq)
{
	struct serve_call *sc;
	struct oai_req orq;
	struct serve_req *q = *server_udata(c);
	struct buf cbody;
	char id[OAI_ID_MAX];
	int64_t created = (int64_t)time(NULL);

	if (cmd_serve_chat_prepare(sv, c, rq, &orq, &cbody, id) != 0)
		return;
	sc = calloc(1, sizeof *sc); /* the stream state is large: keep it off the stack */
	if (!sc) {
		cmd_serve_error(c, 500, "server_error", NULL, NULL, "out of memory", NULL);
		buf_free(&cbody);
		cmd_serve_release(sv, q);
		return;
	}
	sc->sv = sv;
	sc->c = c;
	sc->q = q;
	serve_chat_models(sc, rq, &orq, id, created, &cbody);
	cmd_serve_release(sv, q);
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
	cmd_serve_error(c, 405, "invalid_request_error", NULL, "method_not_allowed", msg, allow);
	return 0;
}

/* server_head_fn, on a loop thread: everything decided from the headers
 * alone (routes, methods, the key) is answered here, before any body byte
 * is read; what calls Bedrock runs on a helper thread. */
static int serve_head(void *user, struct server_conn *c, const struct server_request *rq)
{
	struct serve *sv = user;
	enum serve_route route = cmd_serve_route_of(rq->path);
	struct serve_req *q = calloc(1, sizeof *q);
	int key;

	if (!q) {
		cmd_serve_error(c, 503, "server_error", NULL, NULL, "out of memory", "Retry-After: 1\r\n");
		return SERVER_ANSWERED;
	}
	q->route = route;
	q->dialect = cmd_serve_dialect(route, rq);
	q->t0 = clock_ms();
	q->ttft_ms = -1;
	*server_udata(c) = q;
	if (cmd_serve_gate(sv, c, rq) < 0)
		return SERVER_ANSWERED;
	if (route == ROUTE_HEALTHZ) {
		static const char ok[] = "{\"status\":\"ok\"}";

		if (serve_method(c, rq, "GET"))
			server_reply(c, 200, "application/json", NULL, ok, sizeof ok - 1);
		return SERVER_ANSWERED;
	}
	if (route == ROUTE_STATUS) /* its own access rule: admin keys */
		return cmd_serve_status(sv, c, rq);
	key = serve_authorized(sv, rq, q);
	q->key = key > 0 ? key : 0;
	if (key == 0) {
		cmd_serve_error(c, 401, "invalid_request_error", NULL, "invalid_api_key",
			    "Incorrect or missing API key: send 'Authorization: Bearer <key>' or "
			    "'x-api-key: <key>'",
			    "WWW-Authenticate: Bearer\r\n");
		return SERVER_ANSWERED;
	}
	switch (route) {
	case ROUTE_CHAT:
	case ROUTE_MESSAGES:
	case ROUTE_COUNT_TOKENS:
	case ROUTE_EMBEDDINGS:
	case ROUTE_PT_CONVERSE:
	case ROUTE_PT_CONVERSE_STREAM:
	case ROUTE_PT_INVOKE:
	case ROUTE_PT_INVOKE_STREAM:
	case ROUTE_PT_COUNT_TOKENS: {
		struct serve_refusal ref;
		int pt = route >= ROUTE_PT_CONVERSE && route <= ROUTE_PT_COUNT_TOKENS;

		/* text/plain, forms or no type: what a browser sends cross-site unasked */
		if (!serve_method(c, rq, "POST") ||
		    (pt ? cmd_serve_pt_head(sv, c, rq) : cmd_serve_gate_json(c, rq)) < 0)
			return SERVER_ANSWERED;
		if (cmd_serve_precheck(sv, q, &ref) < 0) { /* over a limit: the body stays unread */
			cmd_serve_refuse(c, &ref);
			return SERVER_ANSWERED;
		}
		/* chat, /v1/messages, the pass-through: first on the loop over HTTP/2 upstream
		 * (cmd_serve_h2.c), else handed to a helper thread; the others: a
		 * helper thread */
		return route == ROUTE_CHAT || route == ROUTE_MESSAGES || pt ? SERVER_GO_INLINE
									    : SERVER_GO;
	}
	case ROUTE_MODELS:
		return serve_method(c, rq, "GET") ? SERVER_GO : SERVER_ANSWERED;
	case ROUTE_METRICS:
		if (serve_method(c, rq, "GET")) {
			struct buf b;

			buf_init(&b, 1u << 20);
			if (cmd_serve_metrics_text(sv, &b) == 0 &&
			    cmd_serve_policy_metrics(sv, &b) == 0)
				server_reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL,
					     b.p, b.len);
			else
				cmd_serve_error(c, 500, "server_error", NULL, NULL, "metrics too large",
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
		cmd_serve_error(c, 404, "invalid_request_error", NULL, "not_found", msg, NULL);
		return SERVER_ANSWERED;
	}
	}
}

/* server_handler_fn, on a helper thread: the routes that call Bedrock; the
 * chat route first on the loop thread (SERVER_GO_INLINE). */
static void serve_handle(void *user, struct server_conn *c, const struct server_request *rq)
{
	struct serve *sv = user;
	const struct serve_req *q = cmd_serve_req(c);

	if (server_on_loop(c)) {
		enum serve_route r = cmd_serve_route_of(rq->path);

		if (!(r == ROUTE_CHAT	    ? cmd_serve_h2_chat(sv, c, rq)
		      : r == ROUTE_MESSAGES ? cmd_serve_messages_loop(sv, c, rq)
					    : cmd_serve_pt_loop(sv, c, rq)))
			server_handoff(c);
		return;
	}
	switch (cmd_serve_route_of(rq->path)) {
	case ROUTE_CHAT:
		serve_chat(sv, c, rq);
		break;
	case ROUTE_MESSAGES:
		cmd_serve_messages(sv, c, rq);
		break;
	case ROUTE_COUNT_TOKENS:
		cmd_serve_count_tokens(sv, c, rq);
		break;
	case ROUTE_EMBEDDINGS:
		cmd_serve_embeddings(sv, c, rq);
		break;
	case ROUTE_MODELS:
		if (q && q->dialect == DIALECT_ANTHROPIC)
			cmd_serve_anth_models(sv, c, rq);
		else
			serve_models(sv, c, rq);
		break;
	default:
		cmd_serve_pt(sv, c, rq);
		break;
	}
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
	sigaction(SIGHUP, &sa, NULL);
}

static int serve_start(struct serve *sv, const char *listen, struct err *e)
{
	struct server_opts o;
	int lo;

	sv->keys = calloc(1, sizeof *sv->keys);
	if (!sv->keys)
		return err_set(e, ERR_OTHER, "out of memory");
	if (cmd_serve_check_config(&sv->ctx.cfg, e) < 0 ||
	    cmd_serve_load_keys(sv, &sv->ctx.cfg, sv->keys, e) < 0 ||
	    cmd_serve_ledger_open(sv, sv->keys, e) < 0 ||
	    cmd_serve_keys_install(sv, sv->keys, e) < 0)
		return -1;
	lo = server_listen_is_loopback(listen, e);
	if (lo < 0)
		return -1;
	if (!lo && sv->keys->n == 0)
		return err_set(e, ERR_USAGE,
			       "refusing to serve on %.200s without API keys: set serve.apiKeys in "
			       "the config or BROCK_API_KEYS, or listen on a loopback address",
			       listen);
	/* a bad CA bundle is a startup error, not a failure of the first request */
	if (conn_pool_load_trust(&sv->ctx.pool, e) < 0)
		return -1;
	cmd_serve_limits(&sv->ctx.cfg, &o);
	if (server_open(&sv->srv, listen, &o, e) < 0)
		return -1;
	if (!sv->srv.loopback && sv->keys->n == 0) { /* the name resolved differently at bind */
		server_close(&sv->srv);
		return err_set(e, ERR_USAGE, "refusing to serve on %.200s without API keys", listen);
	}
	sv->loopback_only = sv->keys->n == 0;
	atomic_store(&sv->json_log, sv->ctx.cfg.serve_log && strcmp(sv->ctx.cfg.serve_log, "json") == 0);
	return 0;
}

static void serve_free(struct serve *sv)
{
	if (sv->keys)
		secure_zero(sv->keys, sizeof *sv->keys);
	free(sv->keys);
	cmd_serve_policy_free(sv);
	pthread_mutex_destroy(&sv->m.mu);
	pthread_mutex_destroy(&sv->ping_mu);
	pthread_mutex_destroy(&sv->names_mu);
	pthread_mutex_destroy(&sv->keys_mu);
	pthread_rwlock_destroy(&sv->cfg_mu);
	ctx_close(&sv->ctx);
	free(sv);
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
	pthread_mutex_init(&sv->ping_mu, NULL);
	pthread_mutex_init(&sv->names_mu, NULL);
	pthread_mutex_init(&sv->keys_mu, NULL);
	pthread_rwlock_init(&sv->cfg_mu, NULL);
	if (cmd_serve_policy_init(sv, e) < 0) {
		ctx_close(&sv->ctx);
		free(sv);
		return -1;
	}
	if (!listen)
		listen = sv->ctx.cfg.serve_listen ? sv->ctx.cfg.serve_listen : SERVE_DEFAULT_LISTEN;
	if (serve_start(sv, listen, e) < 0) {
		serve_free(sv);
		return -1;
	}
	sv->m.st.started_ms = clock_ms();
	sv->m.st.started = (int64_t)time(NULL);
	sv->srv.head = serve_head;
	sv->srv.handler = serve_handle;
	sv->srv.error = serve_on_server_error;
	sv->srv.done = cmd_serve_done;
	sv->srv.tick = serve_tick;
	sv->srv.user = sv;
	sv->srv.stop = &serve_stop_flag;
	serve_signals();
	if (!g->quiet)
		fprintf(stderr, "brock: serving OpenAI-compatible API on %s (%zu API key%s)\n",
			sv->srv.url, sv->keys->n, sv->keys->n == 1 ? "" : "s");
	rc = server_run(&sv->srv, e);
	cmd_serve_h2_free(sv);
	if (server_close(&sv->srv) != 0) {
		cmd_serve_ledger_close(sv); /* what was charged so far */
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
	cmd_serve_ledger_close(sv);
	serve_free(sv);
	return rc;
}
