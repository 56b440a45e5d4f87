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
#define SERVE_MINUTES 60       /* /status: requests and errors per minute, last hour */
#define SERVE_UPERR_MAX 16     /* /status: distinct upstream error types counted */

enum serve_route {
	ROUTE_CHAT,
	ROUTE_MODELS,
	ROUTE_HEALTHZ,
	ROUTE_METRICS,
	ROUTE_STATUS, /* /status and /status.json */
	ROUTE_OTHER,
	ROUTE_COUNT
};

/* What GET /status shows beyond the Prometheus counters (cmd_serve_status.c),
 * under serve_metrics.mu. */
struct serve_minute {
	int64_t minute; /* clock_ms / 60000 this slot counts */
	unsigned long long req, err;
};

struct serve_status {
	int64_t started_ms; /* clock_ms at start */
	int64_t started;    /* wall clock at start, epoch seconds */
	/* API requests (not /healthz, /metrics, /status) and their errors
	 * (status >= 400, or a stream that failed after it started) */
	unsigned long long req, err;
	struct serve_minute ring[SERVE_MINUTES];
	struct {
		unsigned long long req, in, out;
		double usd;
	} keys[SERVE_MAX_KEYS + 1]; /* by serve_req.key; 0: no key */
	double model_usd[SERVE_MODELS_MAX]; /* beside serve_metrics.models[] */
	struct {
		char type[48];
		unsigned long long n;
	} uperr[SERVE_UPERR_MAX];
	size_t nuperr;
	int creds_known;        /* the background check ran */
	char creds_source[128]; /* "" when it failed */
	int64_t creds_expires;  /* epoch seconds, 0: does not expire */
	char creds_error[256];
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
	struct serve_status st;
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
/* The q-quantile of a histogram of the metrics (cumulative buckets) as the
 * upper bound of the bucket that holds it, in seconds: "at most". -1 when
 * the histogram is empty or the quantile lies beyond the last bound. */
double cmd_serve_quantile(const unsigned long long *b, unsigned long long count, double q);

/* cmd_serve_status.c: GET /status (the operator's page) and /status.json */
/* Answers a /status or /status.json request (access, method, body). */
int cmd_serve_status(struct serve *sv, struct server_conn *c, const struct server_request *rq);
/* key: cmd_serve_key_find's answer. 1 when that caller may see /status. */
int cmd_serve_is_admin(const struct serve *sv, int key);
/* Under m->mu: one API request (req 1) or a stream that failed late (req 0). */
void cmd_serve_status_tally(struct serve_metrics *m, int req, int err);
/* A finished request's tokens and spend, by key and model (takes the locks). */
void cmd_serve_status_count(struct serve *sv, const struct serve_req *q);
/* An upstream call that failed: type is Bedrock's error type, or NULL (then
 * the class of e names it). */
void cmd_serve_count_upstream_error(struct serve *sv, const char *type, const struct err *e);
/* The background credential check's result (c NULL when it failed). */
void cmd_serve_status_creds(struct serve *sv, const struct aws_creds *c, const struct err *e);
int cmd_serve_status_json(struct serve *sv, struct buf *o);

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
/* The 1-based index of key k in the table, 0 when it is none of them (or
 * empty), -1 when no keys are configured. Constant time over the table. */
int cmd_serve_key_find(struct serve *sv, struct slice k);
/* Builds the key table from cfg and $BROCK_API_KEYS. */
int cmd_serve_load_keys(const struct serve *sv, const struct config *cfg, struct serve_keys *k,
			struct err *e);

/* cmd_serve.c: the error body every refusal uses */
void cmd_serve_error(struct server_conn *c, int status, const char *type, const char *param,
		     const char *code, const char *msg, const char *extra);

#endif
