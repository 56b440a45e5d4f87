/* serve: what cmd_serve.c (routes, keys, the Bedrock calls), cmd_serve_obs.c
 * (metrics and the request log) and cmd_serve_gate.c (checks made from the
 * headers alone, config reload) share. Not an interface for other commands. */
#ifndef BROCK_SERVE_H
#define BROCK_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bedrock/converse.h"
#include "bedrock/ledger.h"
#include "bedrock/policy.h"
#include "bedrock/openai.h"
#include "cmd/ctx.h"
#include "net/h2c.h"
#include "net/server.h"

#define SERVE_MAX_KEYS 256
#define SERVE_KEY_MAX 4096     /* bytes of one client API key */
#define SERVE_CODES_MAX 64     /* distinct (route, status) pairs counted */
#define SERVE_MODELS_MAX 64    /* distinct models with token counters */
#define SERVE_NBUCKETS 10
#define SERVE_LOG_MODEL 160    /* bytes of a model id kept for the log */
#define SERVE_MODEL_MAX 512    /* a model id as routes call it (OAI_MODEL_MAX) */
#define SERVE_MINUTES 60       /* /status: requests and errors per minute, last hour */
#define SERVE_UPERR_MAX 16     /* /status: distinct upstream error types counted */

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
	ROUTE_STATUS,       /* /status and /status.json */
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

/* ---- per-key policy (SPEC 7.4; cmd_serve_policy.c, cmd_serve_ledger.c) ---- */

#define SERVE_KSTATES_MAX 1024 /* key names with state in one process's life */
#define SERVE_PAIRS_MAX 1024   /* (key, model) rows of the per-key metrics */
#define SERVE_PAIR_CODES 8     /* status codes counted per row */

/* One key's policy: a fixed-size copy of its config_key. */
struct serve_policy {
	char globs[CONFIG_KEY_GLOB_BYTES]; /* packed ("a\0b*\0"), as policy_model_allowed */
	size_t globs_len;                  /* 0: every model */
	long long rpm, tpm, max_concurrent; /* 0: no limit */
	int has_budget, budget_month;
	int64_t budget_nanos;
	int admin;
};

/* A key name's live state. Kept for the life of the process (a SIGHUP
 * keeps the counters of a name that stays), so a request may hold a
 * pointer to it. Everything but name under serve_pol.mu. */
struct serve_kstate {
	char name[LEDGER_NAME_MAX + 1];
	int active;                 /* in the key table in force */
	struct serve_policy pol;
	struct policy_window req;   /* requests admitted, per second */
	struct policy_window tok;   /* tokens charged, per second */
	long inflight;
	int64_t day, month;         /* the periods day_nanos / month_nanos count */
	int64_t day_nanos, month_nanos;
	unsigned long long refused[5]; /* by reason: model rpm tpm concurrency budget */
};

/* Per-key metrics, one row per (key, model). */
struct serve_pair {
	const struct serve_kstate *ks; /* NULL: key-less mode */
	char model[SERVE_LOG_MODEL];
	unsigned long long in, out, cache_read, cache_write, fallbacks;
	int64_t nanos;
	unsigned long long ttft_bucket[SERVE_NBUCKETS], ttft_count;
	double ttft_sum;
	struct {
		int code;
		unsigned long long n;
	} codes[SERVE_PAIR_CODES];
};

struct serve_pol {
	pthread_mutex_t mu;
	struct serve_kstate *ks[SERVE_KSTATES_MAX];
	size_t nks;
	struct serve_pair *pairs;   /* SERVE_PAIRS_MAX of them */
	size_t npairs;
	/* the ledger: the table in memory (this month), lines not yet written */
	atomic_int ledger_on;       /* set before the loop reads it (start, reload) */
	struct ledger led;
	struct buf pending;
	int dirty;                  /* a write failed: compact next time */
	int failing;                /* that failure was reported: quiet until a
				       write succeeds (helper job only) */
	size_t appended;            /* bytes appended since the last compaction */
	int64_t compacted_day;
	char path[4096];
	int fd;
	int64_t flush_next;         /* clock_ms (tick only) */
	atomic_int job_busy;
	struct loop_job job;
};

/* The keys in force: replaced whole on SIGHUP. */
struct serve_key {
	uint8_t d[32];               /* SHA-256 of the client key */
	char name[LEDGER_NAME_MAX + 1];
	struct serve_policy pol;
	struct serve_kstate *ks;     /* bound by cmd_serve_keys_install */
};
struct serve_keys {
	struct serve_key k[SERVE_MAX_KEYS];
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
	struct serve_kstate *ks; /* the key's state and policy; NULL: key-less mode */
	int admitted, released;  /* cmd_serve_admit / cmd_serve_release */
};

/* An Anthropic model name ("claude-sonnet-4-5") the blocking path resolved
 * against the catalog, so that the loop can call it without the catalog
 * (cmd_serve_anth.c; kept SERVE_NAME_TTL_MS). */
#define SERVE_NAMES_MAX 16
#define SERVE_NAME_TTL_MS 600000
struct serve_name {
	char name[128];
	char id[256];
	int64_t until; /* clock_ms; 0: empty */
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
	pthread_mutex_t ping_mu;   /* pings: the SSE streams that want keep-alive pings */
	struct serve_ping *pings;
	int64_t ping_next;         /* clock_ms of the next look at them (tick only) */
	struct serve_pol pol;      /* per-key policy, usage and the ledger */
	pthread_mutex_t names_mu;  /* names: Anthropic model names the catalog resolved */
	struct serve_name names[SERVE_NAMES_MAX];
	unsigned names_next;
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
/* The q-quantile of a histogram of the metrics (cumulative buckets) as the
 * upper bound of the bucket that holds it, in seconds: "at most". -1 when
 * the histogram is empty or the quantile lies beyond the last bound. */
double cmd_serve_quantile(const unsigned long long *b, unsigned long long count, double q);

/* cmd_serve_status.c: GET /status (the operator's page) and /status.json */
/* Answers a /status or /status.json request (access, method, body). */
int cmd_serve_status(struct serve *sv, struct server_conn *c, const struct server_request *rq);
/* Under m->mu: one API request (req 1) or a stream that failed late (req 0). */
void cmd_serve_status_tally(struct serve_metrics *m, int req, int err);
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
/* The same; octet: application/octet-stream too (the pass-through). */
int cmd_serve_gate_type(struct server_conn *c, const struct server_request *rq, int octet);
/* SIGHUP: reload keys, limits, models from the config file; a bad config
 * keeps the old one and logs why. Runs on a helper thread. */
void cmd_serve_reload(struct serve *sv);
/* serve.* values a server cannot start (or reload) with: ERR_USAGE. */
int cmd_serve_check_config(const struct config *cfg, struct err *e);
/* serve.* limits of cfg as server options. */
void cmd_serve_limits(const struct config *cfg, struct server_opts *o);
/* The 1-based index of key k in the table, 0 when it is none of them (or
 * empty), -1 when no keys are configured. Constant time over the table.
 * The key's state goes to *ks (when ks is not NULL), read under the same
 * lock: a reload may swap the table right after. */
int cmd_serve_key_find(struct serve *sv, struct slice k, struct serve_kstate **ks);
/* Builds the key table from cfg and $BROCK_API_KEYS. */
int cmd_serve_load_keys(const struct serve *sv, const struct config *cfg, struct serve_keys *k,
			struct err *e);

/* ---- cmd_serve_policy.c: what every model route calls (SPEC 7.4) ----
 *
 * A route that calls a model (chat completions here; /v1/messages, the
 * pass-through and /v1/embeddings in their own files) does, in order:
 *
 *   0. from the head hook, cmd_serve_precheck(sv, q, &r): a key already over
 *      rpm, tpm, maxConcurrent or budget is refused before its body is read
 *      (q->ks is set by the key check; NULL in key-less mode);
 *   1. cmd_serve_resolve(sv, name_as_sent, id): serve.modelAliases, then
 *      "amazon-bedrock/" stripped: the Bedrock model id to call;
 *   2. cmd_serve_admit(sv, q, id, &r): 0, or -1 with r filled: answer
 *      r.status (401, 403 permission, 429) in the route's own dialect (r.msg
 *      is the message; Anthropic: permission_error / rate_limit_error), with
 *      "Retry-After: r.retry_after" on a 429 (cmd_serve_refuse writes the
 *      OpenAI form); nothing has gone upstream;
 *   3. the upstream call; when it fails with cmd_serve_fallback_worthy(
 *      status) before any byte went to the client, the next model of
 *      cmd_serve_fallbacks(sv, q, id, ...) is tried (cmd_serve_count_fallback
 *      for the model left), and the answer names the model that served;
 *   4. cmd_serve_charge(sv, q, served_id, &usage) once with the usage of
 *      the answer (tokens for tpm, spend for the budget and the ledger,
 *      per-key metrics); also when the stream failed late;
 *   5. cmd_serve_release(sv, q) frees the maxConcurrent slot (cmd_serve_done
 *      calls it too, so a route that forgets does not leak it).
 *
 * q->model should name the model that served (the log and the per-key
 * metrics use it); q->ttft_ms feeds the per-key time-to-first-token.
 * cmd_serve_key_admin(sv, q) says whether the key may read /status. */

/* A refusal of cmd_serve_admit. */
struct serve_refusal {
	int status;           /* 401 (key removed by a reload), 403 or 429 */
	const char *reason;   /* "model", "rpm", "tpm", "concurrency", "budget", "key" */
	const char *type;     /* OpenAI error type */
	const char *code;     /* OpenAI error code */
	long retry_after;     /* seconds (429), else 0 */
	char msg[256];
};

/* 1 when name is an alias (out: its target's id), else 0 (out: name with
 * "amazon-bedrock/" stripped). out holds SERVE_MODEL_MAX bytes. */
int cmd_serve_resolve(struct serve *sv, const char *name, char *out);
int cmd_serve_admit(struct serve *sv, struct serve_req *q, const char *model_id,
		    struct serve_refusal *r);
/* The same from the head hook, before any body byte is read (SPEC 7.5):
 * every limit but the model globs, nothing counted as admitted. A route
 * may call it first so that a key over its limits never sends its body. */
int cmd_serve_precheck(struct serve *sv, struct serve_req *q, struct serve_refusal *r);
/* The OpenAI error answer for a refusal (Retry-After on a 429). */
void cmd_serve_refuse(struct server_conn *c, const struct serve_refusal *r);
void cmd_serve_charge(struct serve *sv, struct serve_req *q, const char *model_id,
		      const struct conv_usage *u);
void cmd_serve_release(struct serve *sv, struct serve_req *q);
/* The fallback models of model_id (serve.fallbacks; aliases resolved, the
 * models the key may not use left out), at most max, into out[i]
 * (SERVE_MODEL_MAX bytes each). */
size_t cmd_serve_fallbacks(struct serve *sv, const struct serve_req *q, const char *model_id,
			   char (*out)[SERVE_MODEL_MAX], size_t max);
/* 1 for an upstream status worth another model: 429 or 5xx. */
int cmd_serve_fallback_worthy(int status);
void cmd_serve_count_fallback(struct serve *sv, const struct serve_req *q, const char *from);
/* 1 when the request's key may read /status (admin), or there are no keys. */
int cmd_serve_key_admin(struct serve *sv, const struct serve_req *q);
/* Binds the keys of k to their states by name (creating new ones, the old
 * counters kept), installs their policies and marks names not in k
 * inactive. Called right before k is put in force. */
int cmd_serve_keys_install(struct serve *sv, struct serve_keys *k, struct err *e);
/* cmd_serve_done's part: releases, counts the request per key and model. */
void cmd_serve_policy_done(struct serve *sv, struct serve_req *q, int status);
/* Per-key series of /metrics. */
int cmd_serve_policy_metrics(struct serve *sv, struct buf *o);
int cmd_serve_policy_init(struct serve *sv, struct err *e);
void cmd_serve_policy_free(struct serve *sv);

/* cmd_serve_ledger.c: the ledger file in the state directory. */
/* Reads it (the budgets' spend so far this month), rewrites it compacted,
 * opens it for appends. Without keys there is no ledger; without a state
 * directory only a warning, unless a key has a budget (then ERR_USAGE). */
int cmd_serve_ledger_open(struct serve *sv, const struct serve_keys *k, struct err *e);
/* Under pol.mu: one charge into the table and the lines to append. */
void cmd_serve_ledger_add(struct serve *sv, const struct ledger_rec *r);
/* The tick: about every second, pending lines go out on a helper thread. */
void cmd_serve_ledger_tick(struct serve *sv);
/* At exit: the last lines, compacted; closes the file. */
void cmd_serve_ledger_close(struct serve *sv);

/* POST /v1/chat/completions (cmd_serve.c, shared by the blocking path and
 * the HTTP/2 one): maps the request and makes the completion id; 1 when it
 * answered (a refusal), 0 with orq, cbody (the caller frees it) and id. */
struct oai_req;
int cmd_serve_chat_prepare(struct serve *sv, struct server_conn *c, const struct server_request *rq,
			   struct oai_req *orq, struct buf *cbody, char id[OAI_ID_MAX]);
/* ---- cmd_serve_h2.c: a route's Bedrock call on the loop over HTTP/2 ----
 *
 * A route that runs on the loop (SERVER_GO_INLINE) checks
 * cmd_serve_h2_ready, maps and admits the request (pure), allocates a
 * struct that starts with a serve_h2call (calloc), fills its public part
 * and calls cmd_serve_h2_start: the call is signed with the cached
 * credentials, sent on a stream of the loop's h2c, retried on loop timers
 * with aws_call's policy, and deferred (server_defer) until it ends; then
 * it is charged and counted (cmd_serve_charge with k->usage, the upstream
 * metrics) and freed (ops->free, then the struct). What needs the
 * blocking path (not ready, an endpoint without h2) is server_handoff. */
struct serve_h2call;
struct serve_h2ops {
	/* a 2xx head (k->head): a route that relays Bedrock's status starts here */
	int (*head)(struct serve_h2call *k, struct err *e);
	/* DATA of a 2xx event stream (k->stream): into the route's decoder */
	int (*data)(struct serve_h2call *k, const uint8_t *p, size_t n, struct err *e);
	/* a 2xx end: the stream's end, or the answer from k->answer */
	int (*end)(struct serve_h2call *k, struct err *e);
	/* a failure (status, type: Bedrock's error answer, else 0 / NULL; the
	 * error body is in k->answer): answered in the route's dialect unless
	 * k->gone; 1 when the stream had started (a late failure) */
	int (*fail)(struct serve_h2call *k, const struct err *e, int status, const char *type);
	void (*usage)(struct serve_h2call *k); /* NULL: k->usage is kept up to date */
	void (*free)(struct serve_h2call *k);  /* the route's part (not k itself) */
};
struct serve_h2call {
	struct serve *sv;
	struct server_conn *c;
	struct serve_req *q;
	const struct serve_h2ops *ops;
	const char *what;                  /* the -v log's word: "chat", "messages", an action */
	char model_id[SERVE_MODEL_MAX];    /* called and charged */
	const char *action;                /* NULL: converse or converse-stream */
	const char *ctype, *accept;        /* NULL: JSON, by stream */
	const struct httpc_header *extra;  /* more request headers (the route's storage) */
	size_t nextra;
	int stream;                        /* the answer is relayed as it comes */
	struct buf body;                   /* the upstream body (kept for retries) */
	struct buf answer;                 /* a non-stream answer, or an error answer */
	struct h2c_head head;
	struct conv_usage usage;
	int event_stream, gone;
	int end_stream;                    /* end the client's stream once charged */
	/* the engine's */
	struct h2c *h2;
	struct h2c_stream *st;
	struct loop_timer timer; /* retry backoff; the cleanup after the client left */
	int64_t t0;
	int attempt, counted_stream, charged;
};
/* 1 when the loop can make the call: the endpoint is https without a
 * proxy (an endpoint without h2 is learnt on the way: H2C_E_NO_H2) and
 * the cached credentials need no refresh. */
int cmd_serve_h2_ready(struct serve *sv, struct server_conn *c);
/* 0: deferred (the call owns k); -1: nothing sent, k is the caller's to
 * free (cmd_serve_h2_discard) before server_handoff. */
int cmd_serve_h2_start(struct serve_h2call *k);
void cmd_serve_h2_discard(struct serve_h2call *k);
/* Charges k->usage to the key (once; the engine does it at the end): a
 * route that answers whole calls it before server_reply. */
void cmd_serve_h2_charge(struct serve_h2call *k);
/* A piece of the client's stream from the loop: the time to first token,
 * the SSE head when nothing was sent yet, the upstream paused while the
 * client's output is over its bound. */
int cmd_serve_h2_write(struct serve_h2call *k, const void *p, size_t n, struct err *e);
/* The routes on the loop: 1 when taken (answered or deferred), 0 when the
 * blocking path must run it (server_handoff). */
int cmd_serve_h2_chat(struct serve *sv, struct server_conn *c, const struct server_request *rq);
int cmd_serve_pt_loop(struct serve *sv, struct server_conn *c, const struct server_request *rq);
int cmd_serve_messages_loop(struct serve *sv, struct server_conn *c,
			    const struct server_request *rq);
/* cmd_serve_h2_free after server_run. */
void cmd_serve_h2_free(struct serve *sv);
struct aws_response;
/* The non-stream answer: the chat.completion object from Converse's answer. */
int cmd_serve_completion(struct server_conn *c, const struct oai_req *orq, const char *id,
			 int64_t created, const struct aws_response *r, struct conv_usage *usage,
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
