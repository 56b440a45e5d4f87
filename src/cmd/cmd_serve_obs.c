/* cmd_serve_obs: what serve mode tells its operator: Prometheus counters
 * (GET /metrics) and one log line per request (-v as text, serve.log
 * "json" as JSON lines). Never a key, a token or prompt text; control
 * characters in logged values are escaped (ctx_log_escape). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/timefmt.h"
#include "cmd/serve.h"
#include "wire/json.h"

static const char *const serve_route_names[ROUTE_COUNT] = {
	"/v1/chat/completions", "/v1/models", "/healthz", "/metrics", "/v1/messages",
	"/v1/messages/count_tokens", "/v1/embeddings", "/model/{id}/converse",
	"/model/{id}/converse-stream", "/model/{id}/invoke", "/model/{id}/invoke-with-response-stream",
	"/model/{id}/count-tokens", "other",
};

/* /model/{id}/{action}: the route of the action (the id is checked later) */
static enum serve_route serve_pt_route(struct slice path)
{
	static const char *const act[] = {"/converse", "/converse-stream", "/invoke",
					  "/invoke-with-response-stream", "/count-tokens"};
	size_t i, n;

	if (path.n < 8 || memcmp(path.p, "/model/", 7) != 0)
		return ROUTE_OTHER;
	for (i = 0; i < sizeof act / sizeof act[0]; i++) {
		n = strlen(act[i]);
		if (path.n > 7 + n && memcmp(path.p + path.n - n, act[i], n) == 0)
			return (enum serve_route)(ROUTE_PT_CONVERSE + (int)i);
	}
	return ROUTE_OTHER;
}

/* Histogram bounds, seconds (upstream latency and time to first token). */
static const double serve_buckets[SERVE_NBUCKETS] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

enum serve_route cmd_serve_route_of(struct slice path)
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
	if (slice_eq_str(path, "/v1/messages"))
		return ROUTE_MESSAGES;
	if (slice_eq_str(path, "/v1/messages/count_tokens"))
		return ROUTE_COUNT_TOKENS;
	if (slice_eq_str(path, "/v1/embeddings") || slice_eq_str(path, "/embeddings"))
		return ROUTE_EMBEDDINGS;
	return serve_pt_route(path);
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

/* Under m->mu: tokens of one answer, by model (the first SERVE_MODELS_MAX
 * models seen get their own counters; later ones count in the totals). */
static void serve_count_model(struct serve_metrics *m, const char *model, long long in,
			      long long out)
{
	size_t i;

	if (!model[0])
		return;
	for (i = 0; i < m->nmodels; i++)
		if (strcmp(m->models[i].model, model) == 0)
			break;
	if (i == m->nmodels) {
		if (m->nmodels == SERVE_MODELS_MAX)
			return;
		snprintf(m->models[i].model, sizeof m->models[i].model, "%s", model);
		m->nmodels++;
	}
	m->models[i].in += (unsigned long long)(in > 0 ? in : 0);
	m->models[i].out += (unsigned long long)(out > 0 ? out : 0);
}

void cmd_serve_count_upstream(struct serve *sv, double seconds, const struct conv_usage *u,
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

void cmd_serve_count_ttft(struct serve *sv, double seconds)
{
	struct serve_metrics *m = &sv->m;
	size_t i;

	pthread_mutex_lock(&m->mu);
	for (i = 0; i < SERVE_NBUCKETS; i++)
		if (seconds <= serve_buckets[i])
			m->ttft_bucket[i]++;
	m->ttft_count++;
	m->ttft_sum += seconds;
	pthread_mutex_unlock(&m->mu);
}

void cmd_serve_streams_add(struct serve *sv, long d)
{
	pthread_mutex_lock(&sv->m.mu);
	sv->m.active_streams += d;
	pthread_mutex_unlock(&sv->m.mu);
}

static int serve_histogram(struct buf *o, const char *name, const char *help,
			   const unsigned long long *b, unsigned long long count, double sum)
{
	int r = 0;
	size_t i;

	r |= buf_appendf(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (i = 0; i < SERVE_NBUCKETS; i++)
		r |= buf_appendf(o, "%s_bucket{le=\"%g\"} %llu\n", name, serve_buckets[i], b[i]);
	r |= buf_appendf(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
			 count, name, sum, name, count);
	return r;
}

/* Under m->mu: per-model token counters; model ids carry no '"', '\\' or
 * control characters (the mapper refuses them) but are escaped anyway. */
static int serve_model_tokens(const struct serve_metrics *m, struct buf *o)
{
	size_t i;
	int r = 0;

	r |= buf_append_str(o, "# HELP brock_model_tokens_total Tokens reported by Bedrock, by "
			       "model.\n# TYPE brock_model_tokens_total counter\n");
	for (i = 0; i < m->nmodels; i++) {
		char safe[SERVE_LOG_MODEL * 6];
		char *q;

		ctx_log_escape(m->models[i].model, strlen(m->models[i].model), safe, sizeof safe);
		for (q = safe; *q; q++)
			if (*q == '"' || *q == '\\')
				*q = '_';
		r |= buf_appendf(o,
				 "brock_model_tokens_total{model=\"%s\",type=\"input\"} %llu\n"
				 "brock_model_tokens_total{model=\"%s\",type=\"output\"} %llu\n",
				 safe, m->models[i].in, safe, m->models[i].out);
	}
	return r;
}

static int serve_metrics_server(struct serve *sv, struct buf *o)
{
	return buf_appendf(
		o,
		"# HELP brock_connections_total Client connections accepted.\n"
		"# TYPE brock_connections_total counter\nbrock_connections_total %lu\n"
		"# HELP brock_connections_rejected_total Connections or requests refused with 503 "
		"(a connection cap or the request body budget).\n"
		"# TYPE brock_connections_rejected_total counter\n"
		"brock_connections_rejected_total %lu\n"
		"# HELP brock_clients_dropped_total Clients dropped for not reading their answer.\n"
		"# TYPE brock_clients_dropped_total counter\nbrock_clients_dropped_total %lu\n"
		"# HELP brock_open_connections Client connections open.\n"
		"# TYPE brock_open_connections gauge\nbrock_open_connections %ld\n"
		"# HELP brock_open_streams Streamed answers being written.\n"
		"# TYPE brock_open_streams gauge\nbrock_open_streams %ld\n",
		atomic_load(&sv->srv.accepted), atomic_load(&sv->srv.rejected),
		atomic_load(&sv->srv.dropped), atomic_load(&sv->srv.conns),
		atomic_load(&sv->srv.streams));
}

int cmd_serve_metrics_text(struct serve *sv, struct buf *o)
{
	struct serve_metrics *m = &sv->m;
	size_t i;
	int r = 0;

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
	r |= serve_histogram(o, "brock_upstream_latency_seconds",
			     "Duration of Bedrock calls (whole answer, streams included).",
			     m->lat_bucket, m->lat_count, m->lat_sum);
	r |= serve_histogram(o, "brock_time_to_first_token_seconds",
			     "From the complete request to the first streamed byte of its answer.",
			     m->ttft_bucket, m->ttft_count, m->ttft_sum);
	r |= buf_appendf(o, "# HELP brock_tokens_total Tokens reported by Bedrock.\n"
			    "# TYPE brock_tokens_total counter\n"
			    "brock_tokens_total{type=\"input\"} %llu\n"
			    "brock_tokens_total{type=\"output\"} %llu\n",
			 m->tokens_in, m->tokens_out);
	r |= serve_model_tokens(m, o);
	r |= buf_appendf(o, "# HELP brock_active_streams Streaming answers in progress.\n"
			    "# TYPE brock_active_streams gauge\nbrock_active_streams %ld\n",
			 m->active_streams);
	pthread_mutex_unlock(&m->mu);
	r |= serve_metrics_server(sv, o);
	return r ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* The request log */

static void serve_log_json(enum serve_route route, const struct server_conn *c,
			   const struct server_request *rq, const struct serve_req *q, int status)
{
	char when[TIMEFMT_ISO_LEN + 1], key[16], line[8192];
	struct buf b;
	struct jw w;
	struct err e;

	timefmt_iso8601(when, time(NULL));
	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "time", when);
	jw_kstr(&w, "client", server_client(c));
	if (q && q->key) {
		snprintf(key, sizeof key, "key-%d", q->key);
		jw_kstr(&w, "key", key);
	}
	jw_kstr(&w, "route", serve_route_names[route]);
	if (rq && rq->p)
		jw_kstrn(&w, "method", rq->p->method.p, rq->p->method.n > 16 ? 16 : rq->p->method.n);
	if (q && q->model[0])
		jw_kstr(&w, "model", q->model);
	jw_kint(&w, "status", status);
	if (q && q->request_id[0])
		jw_kstr(&w, "request_id", q->request_id);
	if (q && q->ttft_ms >= 0)
		jw_kint(&w, "ttft_ms", q->ttft_ms);
	if (q)
		jw_kint(&w, "duration_ms", clock_ms() - q->t0);
	if (q && (q->tokens_in || q->tokens_out)) {
		jw_kint(&w, "tokens_in", q->tokens_in);
		jw_kint(&w, "tokens_out", q->tokens_out);
	}
	jw_obj_end(&w);
	if (jw_finish(&w, &e) == 0) {
		/* jw escapes C0; C1 and DEL are escaped here (still valid JSON) */
		ctx_log_escape((const char *)b.p, b.len, line, sizeof line);
		fprintf(stderr, "%s\n", line);
	}
	buf_free(&b);
}

void cmd_serve_done(void *user, struct server_conn *c, const struct server_request *rq,
		    int status)
{
	struct serve *sv = user;
	struct serve_req *q = c ? *server_udata(c) : NULL;
	enum serve_route route = q ? q->route : rq ? cmd_serve_route_of(rq->path) : ROUTE_OTHER;

	serve_count(sv, route, status);
	if (q) {
		/* a client that left as the answer's last piece went out */
		int gone = q->upstream && !q->gone_counted && server_client_gone(c);

		pthread_mutex_lock(&sv->m.mu);
		serve_count_model(&sv->m, q->model, q->tokens_in, q->tokens_out);
		if (gone)
			sv->m.client_gone++;
		pthread_mutex_unlock(&sv->m.mu);
	}
	if (atomic_load(&sv->json_log) && c)
		serve_log_json(route, c, rq, q, status);
	else if (sv->g->verbose && rq)
		ctx_log(&sv->ctx, "%.*s %.*s -> %d", (int)(rq->p->method.n > 16 ? 16 : rq->p->method.n),
			(const char *)rq->p->method.p, (int)(rq->path.n > 200 ? 200 : rq->path.n),
			(const char *)rq->path.p, status);
	if (c) {
		free(q);
		*server_udata(c) = NULL;
	}
}
