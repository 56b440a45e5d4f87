/* serve: what cmd_serve.c (routes, keys, the Bedrock calls), cmd_serve_obs.c
 * (metrics and the request log) and cmd_serve_gate.c (checks made from the
 * headers alone, config reload) share. Not an interface for other commands. */
#ifndef BROCK_SERVE_H
#define BROCK_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bedrock/converse.h"
#include "bedrock/openai.h"
#include "cmd/ctx.h"
#include "net/server.h"

#define SERVE_MAX_KEYS 256
#define SERVE_KEY_MAX 4096     /* bytes of one client API key */
#define SERVE_CODES_MAX 64     /* distinct (route, status) pairs counted */
#define SERVE_MODELS_MAX 64    /* distinct models with token counters */
#define SERVE_NBUCKETS 10
#define SERVE_LOG_MODEL 160    /* bytes of a model id kept for the log */

enum serve_route {
	ROUTE_CHAT,
	ROUTE_MODELS,
	ROUTE_HEALTHZ,
	ROUTE_METRICS,
	ROUTE_OTHER,
	ROUTE_COUNT
};

struct serve_metrics {
	pthread_mutex_t mu;
	struct {
		int route, status;
		unsigned long long n;
	} codes[SERVE_CODES_MAX];
	size_t ncodes;
	unsigned long long errors;
	unsigned long long client_gone;
	unsigned long long lat_bucket[SERVE_NBUCKETS], ttft_bucket[SERVE_NBUCKETS];
	unsigned long long lat_count, ttft_count;
	double lat_sum, ttft_sum;
	unsigned long long tokens_in, tokens_out;
	struct {
		char model[SERVE_LOG_MODEL];
		unsigned long long in, out;
	} models[SERVE_MODELS_MAX];
	size_t nmodels;
	long active_streams;
};

/* The keys in force: replaced whole on SIGHUP. */
struct serve_keys {
	uint8_t d[SERVE_MAX_KEYS][32]; /* SHA-256 of each client key */
	size_t n;
};

/* One request, from its headers to its log line (server_udata). */
struct serve_req {
	enum serve_route route;
	int key;                 /* 1-based index of the key used, 0 none */
	int64_t t0;              /* clock_ms when the headers were complete */
	int64_t ttft_ms;         /* first byte of the answer's stream, -1 none */
	char model[SERVE_LOG_MODEL];
	char request_id[128];    /* upstream x-amzn-RequestId */
	long long tokens_in, tokens_out;
	int upstream;            /* Bedrock was called */
	int gone_counted;        /* the handler counted its client leaving */
};

struct serve {
	const struct globals *g;
	struct ctx ctx;
	pthread_mutex_t keys_mu;
	struct serve_keys *keys;   /* under keys_mu */
	pthread_rwlock_t cfg_mu;   /* ctx.cfg: readers are helper threads; SIGHUP writes */
	int loopback_only;         /* no keys at start: listening on loopback */
	atomic_int json_log;       /* serve.log: "json" */
	struct server srv;
	struct serve_metrics m;
	atomic_int reload_busy;
	struct loop_job reload_job;
	atomic_int creds_busy;
	struct loop_job creds_job;
	struct h2c *h2[SERVER_MAX_LOOPS]; /* each loop's HTTP/2 upstream (cmd_serve_h2.c) */
	int64_t creds_next;        /* clock_ms of the next background refresh check (tick only) */
};

/* cmd_serve_obs.c */
enum serve_route cmd_serve_route_of(struct slice path);
void cmd_serve_count_upstream(struct serve *sv, double seconds, const struct conv_usage *u,
			      int stream_failed, int client_gone);
void cmd_serve_count_ttft(struct serve *sv, double seconds);
void cmd_serve_streams_add(struct serve *sv, long d);
int cmd_serve_metrics_text(struct serve *sv, struct buf *o);
/* server_done_fn: counts the request and writes its log line. */
void cmd_serve_done(void *user, struct server_conn *c, const struct server_request *rq,
		    int status);

/* cmd_serve_gate.c */
/* Key-less loopback mode: Host and Origin. 0 when the request may go on;
 * else it answered 403 and returns -1. */
int cmd_serve_gate(struct serve *sv, struct server_conn *c, const struct server_request *rq);
/* A POST body must be application/json: else 415 (answered) and -1. */
int cmd_serve_gate_json(struct server_conn *c, const struct server_request *rq);
/* SIGHUP: reload keys, limits, models from the config file; a bad config
 * keeps the old one and logs why. Runs on a helper thread. */
void cmd_serve_reload(struct serve *sv);
/* serve.* values a server cannot start (or reload) with: ERR_USAGE. */
int cmd_serve_check_config(const struct config *cfg, struct err *e);
/* serve.* limits of cfg as server options. */
void cmd_serve_limits(const struct config *cfg, struct server_opts *o);
/* Builds the key table from cfg and $BROCK_API_KEYS. */
int cmd_serve_load_keys(const struct serve *sv, const struct config *cfg, struct serve_keys *k,
			struct err *e);

/* cmd_serve.c: the error body every refusal uses */
/* POST /v1/chat/completions (cmd_serve.c, shared by the blocking path and
 * the HTTP/2 one): maps the request and makes the completion id; 1 when it
 * answered (a refusal), 0 with orq, cbody (the caller frees it) and id. */
struct oai_req;
int cmd_serve_chat_prepare(struct serve *sv, struct server_conn *c, const struct server_request *rq,
			   struct oai_req *orq, struct buf *cbody, char id[OAI_ID_MAX]);
/* cmd_serve_h2.c: the chat route on the loop over HTTP/2. 1 when it took
 * the request (answered or deferred), 0 when the blocking path must run it
 * (server_handoff). cmd_serve_h2_free after server_run. */
int cmd_serve_h2_chat(struct serve *sv, struct server_conn *c, const struct server_request *rq);
void cmd_serve_h2_free(struct serve *sv);
struct h2c;

/* An upstream error as the client's answer (OpenAI error object). */
void cmd_serve_fail(struct server_conn *c, const struct err *e, int up_status, const char *up_type);
struct aws_response;
/* The non-stream answer: the chat.completion object from Converse's answer. */
int cmd_serve_completion(struct server_conn *c, const struct oai_req *orq, const char *id,
			 int64_t created, const struct aws_response *r, struct conv_usage *usage,
			 struct err *e);

void cmd_serve_error(struct server_conn *c, int status, const char *type, const char *param,
		     const char *code, const char *msg, const char *extra);

#endif
