/* openai: the OpenAI chat-completions <-> Bedrock Converse mapping of serve
 * mode (SPEC 7). Pure: no I/O, no clock, no randomness (the caller passes
 * the completion id and the creation time).
 *
 * Requests: oai_map_request reads a POST /v1/chat/completions body and
 * writes the Converse / ConverseStream request body with the one JSON writer.
 * System/developer messages become `system` blocks; user text and data-URL
 * images, assistant text and tool_calls, and tool results become Converse
 * turns; consecutive turns of the same Converse role are merged (Converse
 * wants user/assistant alternating, starting with user). Empty or
 * whitespace-only text parts are dropped (Converse rejects blank text).
 * cache_control {"type":"ephemeral"[,"ttl":"1h"]} on a content part puts a
 * cachePoint block after it on models that take caching (known.h; left out
 * elsewhere): at most 4 (the first three and the last are kept), and a 1h
 * point after a 5m one is sent as 5m; a tool's cache_control puts the point
 * after that tool in toolConfig.tools. service_tier flex/priority/default ->
 * serviceTier (auto: omitted); user -> requestMetadata.user;
 * additionalModelRequestFields (an object) is merged as chat's --extra;
 * anthropic_beta (a string "a,b" or an array) becomes
 * additionalModelRequestFields.anthropic_beta on Anthropic models, only the
 * betas Bedrock documents (anth_default_betas; others dropped).
 * Every client mistake is ERR_USAGE with a message meant for a 400 answer
 * (oai_req.param names the offending field when there is one).
 *
 * Streaming answers: struct oai_stream plugs into conv_stream's callbacks
 * (oai_stream_handler) and turns Converse events into OpenAI SSE chunks,
 * handed to the caller's write callback one complete `data: ...\n\n` event
 * at a time as they are produced (nothing is buffered beyond one chunk).
 * The first write is the moment for the server to send its status line and
 * headers: an error before it can still be an ordinary HTTP error answer
 * (oai_stream_started tells which case applies).
 *
 * Non-streaming answers: oai_completion turns a Converse answer body into a
 * chat.completion object.
 *
 * Errors: oai_error_classify maps a brock error (and the Bedrock error type
 * / status when known) to an HTTP status and an OpenAI error type;
 * oai_error_body writes {"error":{"message","type","param","code"}}.
 *
 * Limits: a request needs at most OAI_MAX_TOKENS JSON tokens; model refs
 * shorter than OAI_MODEL_MAX; at most OAI_MAX_TOOL_CALLS tool calls in one
 * streamed answer. The caller bounds the request body size and sets the
 * limit of the output bufs. */
#ifndef BROCK_OPENAI_H
#define BROCK_OPENAI_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "bedrock/converse.h"
#include "base/err.h"

#define OAI_MAX_TOKENS (1 << 20) /* JSON tokens in one request body */
#define OAI_MODEL_MAX 512        /* model ref, with its NUL */
#define OAI_ID_MAX 64            /* completion id, with its NUL */
#define OAI_MAX_TOOL_CALLS 256   /* tool calls in one streamed answer */
#define OAI_MAX_CACHE_MARKS 64   /* cache_control marks read in one request */
#define OAI_MAX_CACHE_POINTS 4   /* cachePoint blocks Bedrock takes in one request */

/* Thinking budgets for reasoning_effort on Anthropic models that take a
 * budget (SPEC 3.5, known.h); adaptive-only models get the effort itself. */
#define OAI_EFFORT_LOW 2048
#define OAI_EFFORT_MEDIUM 8192
#define OAI_EFFORT_HIGH 24576
#define OAI_THINKING_ANSWER 4096 /* answer room added above the budget when needed */

/* ---- requests ---- */

struct oai_req {
	char model[OAI_MODEL_MAX];    /* the `model` field as the client wrote it (echoed back) */
	char model_id[OAI_MODEL_MAX]; /* the Bedrock model id ("amazon-bedrock/" stripped) */
	int stream;                   /* `stream` was true */
	int include_usage;            /* stream_options.include_usage was true */
	long long thinking;           /* budget sent (0: none) */
	char effort[8];               /* adaptive effort sent ("low", "medium", "high"), or "" */
	char service_tier[16];        /* serviceTier.type sent, or "" */
	int cache_points;             /* cachePoint blocks written */
	int cache_dropped;            /* cache_control marks left out (model, place, over 4) */
	char param[64];               /* on ERR_USAGE: the offending field ("messages[2].content"), or "" */
};

/* Maps the request body body[0..n) to a Converse request body appended to
 * out (use out's limit to bound it). Fills rq. Returns 0, or -1 with
 * ERR_USAGE (a client mistake: invalid JSON, missing/ill-typed field,
 * unsupported content, http(s) image URL, bad data URL, image bytes that do
 * not match the media type, ...) or ERR_OTHER (out of memory / out's limit). */
int oai_map_request(const uint8_t *body, size_t n, struct oai_req *rq, struct buf *out,
		    struct err *e);

/* The same, with the gateway's defaults under the request's own fields
 * (SPEC 3.5): def's service tier when service_tier is absent or "auto", its
 * latency, guardrail and request metadata (the request's `user` joins the
 * metadata). def NULL: no defaults. */
struct config_features;
int oai_map_request_def(const uint8_t *body, size_t n, const struct config_features *def,
			struct oai_req *rq, struct buf *out, struct err *e);

/* "chatcmpl-" + the lowercase hex of rnd[0..n) (n is capped so it fits). */
void oai_make_id(char out[OAI_ID_MAX], const uint8_t *rnd, size_t n);

/* Converse stopReason -> OpenAI finish_reason: end_turn/stop_sequence -> "stop",
 * tool_use -> "tool_calls", max_tokens/model_context_window_exceeded ->
 * "length", guardrail_intervened/content_filtered -> "content_filter",
 * anything else -> "stop". */
const char *oai_finish_reason(struct slice stop_reason);

/* ---- streaming answers ---- */

/* Gets one complete SSE event; returns 0, or -1 with e set (client gone):
 * the error stops the Converse stream. */
typedef int (*oai_write_fn)(void *user, const uint8_t *p, size_t n, struct err *e);

struct oai_stream {
	oai_write_fn write;
	void *user;
	char id[OAI_ID_MAX];
	char model[OAI_MODEL_MAX];
	int64_t created;
	int include_usage;
	int started;     /* the role chunk was written (so was anything else) */
	int finished;    /* the finish_reason chunk was written */
	int usage_sent;
	int done;        /* [DONE] was written */
	int ntools;      /* tool calls seen (dense indexes 0..ntools-1) */
	int cur_block;   /* contentBlockIndex of the open tool call, or -1 */
	int cur_tool;    /* its dense index */
	size_t cur_args; /* argument bytes sent for it */
	int tool_block[OAI_MAX_TOOL_CALLS]; /* dense index -> contentBlockIndex */
	struct conv_usage usage;
	struct buf out;  /* the chunk being built */
};

/* id: the completion id (oai_make_id); model: echoed in every chunk
 * (oai_req.model); created: Unix time in seconds. */
void oai_stream_init(struct oai_stream *s, const char *id, const char *model, int64_t created,
		     int include_usage, oai_write_fn write, void *user);
void oai_stream_free(struct oai_stream *s);
/* Fills h with the callbacks (h->user = s) for conv_stream_init. */
void oai_stream_handler(struct oai_stream *s, struct conv_handler *h);
/* 1 once anything was written (the HTTP status line is gone). */
int oai_stream_started(const struct oai_stream *s);
/* The Converse stream ended well (conv_stream_finish returned 0): writes
 * what is still due (role chunk if nothing came, finish chunk if messageStop
 * never came) and `data: [DONE]`. */
int oai_stream_end(struct oai_stream *s, struct err *e);
/* The stream failed after it started (exception event, early end, upstream
 * error): writes `data: {"error":{...}}` for failure and then `data: [DONE]`. */
int oai_stream_fail(struct oai_stream *s, const struct err *failure, struct err *e);

/* ---- non-streaming answers ---- */

/* Appends the chat.completion object for the Converse answer body[0..n) to
 * out. Errors as conv_parse_response (ERR_SERVICE for an error object,
 * ERR_PROTO for a malformed answer), ERR_OTHER for out's limit. */
int oai_completion(const uint8_t *body, size_t n, const char *id, const char *model,
		   int64_t created, struct buf *out, struct err *e);

/* ---- errors ---- */

struct oai_error {
	int status;       /* HTTP status */
	const char *type; /* "invalid_request_error", "rate_limit_error", "server_error", ... */
	const char *code; /* "model_not_found", "rate_limit_exceeded", ... or NULL (null) */
};

/* Classifies a failure. upstream_status / upstream_type: the Bedrock answer's
 * HTTP status and error type (aws_response.status / .error_type) when there
 * was a non-2xx answer, else 0 / NULL; for ERR_SERVICE without them the
 * type is read from the message's "<type>: ..." prefix (stream exceptions).
 *   ERR_USAGE -> 400; ValidationException -> 400; ResourceNotFound -> 404;
 *   AccessDenied -> 403; Throttling/ServiceQuotaExceeded -> 429;
 *   ServiceUnavailable/ModelNotReady -> 503; ModelTimeout and ERR_NET
 *   timeouts -> 504; ERR_CREDS (the gateway's AWS credentials), other
 *   upstream errors, ERR_NET and ERR_PROTO -> 502; ERR_OTHER -> 500. */
void oai_error_classify(const struct err *e, int upstream_status, const char *upstream_type,
			struct oai_error *out);
/* Appends {"error":{"message":...,"type":...,"param":...,"code":...}}
 * (param/code NULL -> null). Invalid UTF-8 in message is replaced. */
int oai_error_body(struct buf *out, const char *message, const char *type, const char *param,
		   const char *code);

#endif
