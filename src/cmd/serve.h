/* serve: what cmd_serve.c (routes, keys, the Bedrock calls), cmd_serve_obs.c
 * (metrics and the request log) and cmd_serve_gate.c (checks made from the
 * headers alone, config reload) share. Not an interface for other commands. */
#ifndef BROCK_SERVE_H
#define BROCK_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bedrock/converse.h"
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
	ROUTE_MESSAGES,     /* POST /v1/messages (Anthropic) */
	ROUTE_COUNT_TOKENS, /* POST /v1/messages/count_tokens */
	ROUTE_EMBEDDINGS,   /* POST /v1/embeddings */
	ROUTE_PT_CONVERSE,  /* POST /model/{id}/converse, then the other pass-through actions */
	ROUTE_PT_CONVERSE_STREAM,
	ROUTE_PT_INVOKE,
	ROUTE_PT_INVOKE_STREAM,
	ROUTE_PT_COUNT_TOKENS,
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

/* The shape of a route's error answers. */
enum serve_dialect { DIALECT_OPENAI, DIALECT_ANTHROPIC, DIALECT_BEDROCK };

/* One request, from its headers to its log line (server_udata). */
struct serve_req {
	enum serve_route route;
	enum serve_dialect dialect;
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
	int64_t creds_next;        /* clock_ms of the next background refresh check (tick only) */
	pthread_mutex_t ping_mu;   /* pings: the SSE streams that want keep-alive pings */
	struct serve_ping *pings;
	int64_t ping_next;         /* clock_ms of the next look at them (tick only) */
};

/* A streamed SSE answer that gets `ping` events while nothing else is sent
 * (cmd_serve_anth.c). Registered once its head went out, unregistered
 * before the stream ends, both by the handler's thread. */
struct serve_ping {
	struct serve_ping *next, *prev;
	struct server_conn *c;
	_Atomic int64_t last; /* clock_ms of the handler's last write */
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
/* The same; octet: application/octet-stream too (the pass-through). */
int cmd_serve_gate_type(struct server_conn *c, const struct server_request *rq, int octet);
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

/* cmd_serve_err.c: the error body every refusal uses; type/param/code are
 * OpenAI's, an Anthropic or Bedrock route (serve_req.dialect) gets its own
 * shape for the same status. */
void cmd_serve_error(struct server_conn *c, int status, const char *type, const char *param,
		     const char *code, const char *msg, const char *extra);
/* An error of a Bedrock call (class, upstream status and type) as an answer
 * in the request's dialect. */
void cmd_serve_fail(struct server_conn *c, const struct err *e, int up_status,
		    const char *up_type);
/* The catalog (discovery + config), for a helper thread. */
struct catalog;
int cmd_serve_catalog(struct serve *sv, struct catalog *cat, struct err *e);
/* The dialect of a route's answers (GET /v1/models: Anthropic's with an
 * anthropic-version header). */
enum serve_dialect cmd_serve_dialect(enum serve_route route, const struct server_request *rq);
/* The request's record (NULL when the head hook could not allocate it). */
struct serve_req *cmd_serve_req(struct server_conn *c);

/* cmd_serve_anth.c: the Anthropic Messages API (SPEC 7.2); handlers run on
 * helper threads. */
void cmd_serve_messages(struct serve *sv, struct server_conn *c, const struct server_request *rq);
void cmd_serve_count_tokens(struct serve *sv, struct server_conn *c,
			    const struct server_request *rq);
/* GET /v1/models[/{id}] in Anthropic's shape (the request has anthropic-version). */
void cmd_serve_anth_models(struct serve *sv, struct server_conn *c,
			   const struct server_request *rq);
/* The tick: pings the SSE streams idle for a while (loop thread, never waits). */
void cmd_serve_ping_tick(struct serve *sv);
/* A Bedrock id from a model name: "amazon-bedrock/" dropped; 0 ok, -1 when
 * it names another provider's model ("openai/gpt-4o"). */
int cmd_serve_bedrock_id(const char *name, const char **id);

/* cmd_serve_pt.c: the Bedrock-native pass-through (SPEC 7.3) */
/* Head hook part for /model/...: 0 to go on, -1 answered. */
int cmd_serve_pt_head(struct serve *sv, struct server_conn *c, const struct server_request *rq);
void cmd_serve_pt(struct serve *sv, struct server_conn *c, const struct server_request *rq);
/* POST /model/<model_id>/<action> to the runtime with the box's
 * credentials (a copy per call), signed, in an ARN's region: rq has the
 * body, types, headers and callbacks; the rest is filled here. r is
 * initialised here (aws_response_free it after). Errors of aws_call. */
int cmd_serve_runtime(struct serve *sv, const char *model_id, const char *action,
		      struct aws_request *rq, struct aws_response *r, struct err *e);
/* A Bedrock-dialect error answer: {"message"} + x-amzn-ErrorType (type
 * NULL: from the status); extra: more header lines, or NULL. */
void cmd_serve_pt_error(struct server_conn *c, int status, const char *type, const char *msg,
			const char *extra);

/* cmd_serve_emb.c: POST /v1/embeddings (SPEC 7.1) */
void cmd_serve_embeddings(struct serve *sv, struct server_conn *c,
			  const struct server_request *rq);

#endif
