/* anthropic: the Anthropic Messages API of serve mode (SPEC 7.2). Pure: no
 * I/O, no clock, no randomness (the caller passes ids and times).
 *
 * Upstream choice. Claude models (anth_model_is_claude) keep the Anthropic
 * body: InvokeModel / InvokeModelWithResponseStream take it almost as is
 * (anth_map_invoke: `model` and `stream` removed, `anthropic_version:
 * "bedrock-2023-05-31"`, `anthropic_beta` from the header filtered to the
 * betas Bedrock accepts, fields Bedrock rejects dropped, `system` messages
 * folded into `system`), and the answer events come back as event-stream
 * `chunk` frames whose payload {"bytes":"<base64>"} holds one Anthropic event
 * JSON: anth_relay turns them into `event: <type>\ndata: <json>\n\n` with the
 * event's JSON unchanged, so every field Claude Code reads (signatures,
 * cache usage, citations, server tool blocks) reaches it as Bedrock sent it.
 * A non-stream InvokeModel answer is already the Anthropic message object:
 * relay it as is. Other models go through Converse (anthropic_conv.c,
 * anthropic_conv_out.c): anth_map_converse writes the Converse body, struct
 * anth_conv plugs into conv_stream's callbacks and renders the same
 * Anthropic events (message_start, content_block_start/delta/stop for
 * text, thinking with signature_delta, redacted_thinking, tool_use with
 * input_json_delta, message_delta with stop_reason and usage including the
 * cache counts, message_stop); anth_conv_message renders a Converse answer
 * as the message object.
 *
 * How the /v1/messages route uses it:
 *   1. anth_map_invoke(body, anthropic-beta header, allowed betas) -> rq +
 *      the invoke body (ERR_USAGE -> anth_error_body 400).
 *   2. model: serve.modelAliases first, else anth_resolve_model(rq.model,
 *      catalog ids, geo) -> Bedrock id; not found -> 404 not_found_error.
 *   3. stream (rq.stream): POST /model/<id>/invoke-with-response-stream,
 *      Accept application/vnd.amazon.eventstream; before the first upstream
 *      byte, a non-2xx answer -> anth_error_classify + anth_error_body with
 *      that status. 2xx: feed every body piece to anth_relay_feed (its
 *      write callback gets whole SSE events; send the status line 200
 *      text/event-stream with the first one),
 *      anth_relay_finish at the end. A failure while anth_relay.started is
 *      0 (an exception frame first) can still be an ordinary error answer
 *      (anth_error_classify: ERR_SERVICE "throttlingException: ..." -> 429
 *      rate_limit_error); after it, write anth_error_event and close. While
 *      nothing was written for 15 s, write ANTH_PING. anth_relay.usage has
 *      the tokens (input, output, cache read/write) for the ledger and tpm,
 *      anth_relay.stop_reason the stop reason.
 *   4. non-stream: POST /model/<id>/invoke; 2xx body relayed with
 *      content-type application/json (anth_usage_from_message reads usage).
 *   count_tokens: anth_map_count_tokens -> POST /model/<id>/count-tokens;
 *   answer through anth_count_tokens_answer.
 *   GET /v1/models with anthropic-version: anth_models_list.
 *
 * Limits: a request needs at most ANTH_MAX_TOKENS JSON tokens; model names
 * shorter than ANTH_MODEL_MAX; one relayed event <= EVS_MAX_MESSAGE. */
#ifndef BROCK_ANTHROPIC_H
#define BROCK_ANTHROPIC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "bedrock/converse.h"
#include "wire/evstream.h"

#define ANTH_MAX_TOKENS (1 << 20)
#define ANTH_MODEL_MAX 512
#define ANTH_VERSION "bedrock-2023-05-31"
#define ANTH_PING "event: ping\ndata: {\"type\":\"ping\"}\n\n"
#define ANTH_MAX_BETAS 32

/* The betas AWS documents for Claude on Bedrock (the default of
 * serve.anthropicBetas), NULL-terminated. */
extern const char *const anth_default_betas[];

/* ---- requests ---- */

struct anth_req {
	char model[ANTH_MODEL_MAX]; /* the `model` field as the client wrote it */
	int stream;                 /* `stream` was true */
	long long max_tokens;
	char user_id[128];          /* metadata.user_id (dropped upstream), or "" */
	int nbetas, ndropped;       /* betas forwarded / dropped */
	char param[64];             /* on ERR_USAGE: the offending field, or "" */
};

/* Maps a POST /v1/messages body[0..n) to the InvokeModel body, appended to
 * out. beta: the anthropic-beta header value(s) joined with ',' (NULL:
 * none); allowed: the betas to forward (NULL-terminated; NULL means
 * anth_default_betas); a beta not in it is dropped (counted in ndropped),
 * never an error. Top-level fields are copied unchanged except: model,
 * stream, metadata, service_tier, container, inference_geo (dropped);
 * output_config / context_management (kept only with their beta, else
 * dropped: Bedrock rejects them without it); system (string or blocks) and
 * every message of role "system" (string or blocks) become one `system`
 * block array in order. Checks what Bedrock would otherwise answer with a
 * less helpful text: JSON object, model string, max_tokens positive integer,
 * messages a non-empty array of {role: user|assistant|system, content:
 * string|array}. ERR_USAGE (client mistake, rq->param set) or ERR_OTHER
 * (out's limit). On error out is left as it was. */
int anth_map_invoke(const uint8_t *body, size_t n, const char *beta,
		    const char *const *allowed, struct anth_req *rq, struct buf *out,
		    struct err *e);

/* The same for POST /v1/messages/count_tokens: the CountTokens body
 * {"input":{"invokeModel":{"body":"<base64 of the invoke body>"}}}
 * (max_tokens is optional there; 1 is sent when absent). */
int anth_map_count_tokens(const uint8_t *body, size_t n, const char *beta,
			  const char *const *allowed, struct anth_req *rq, struct buf *out,
			  struct err *e);
/* CountTokens answer {"inputTokens":N} -> {"input_tokens":N}. ERR_PROTO when
 * malformed. */
int anth_count_tokens_answer(const uint8_t *body, size_t n, struct buf *out, struct err *e);

/* 1 when id names an Anthropic Claude model on Bedrock ("anthropic.claude-*"
 * with or without a geo prefix) or an Anthropic name ("claude-*"). */
int anth_model_is_claude(const char *id);

/* Resolves an Anthropic model name ("claude-opus-4-8",
 * "claude-sonnet-4-5-20250929") against the catalog's ids ids[0..n) (model
 * ids and inference profile ids). A candidate matches when, without its geo
 * prefix ("us.", "eu.", "apac.", "global.", ...), "anthropic." and its
 * version suffix ("-v1:0", ":0"), it equals name or name plus "-YYYYMMDD".
 * Preference: the inference profile of geo (e.g. "us"; NULL or "" skips),
 * then "global.", then the bare model id; among equals the latest date,
 * then the highest version. A name that is itself one of ids is returned as
 * is. Returns 0 with out set, or -1 (ERR_USAGE "unknown model ...") when
 * nothing matches. */
int anth_resolve_model(const char *name, const char *const *ids, size_t n, const char *geo,
		       char out[ANTH_MODEL_MAX], struct err *e);

/* ---- streaming answers (InvokeModelWithResponseStream) ---- */

/* Gets one complete SSE event; returns 0, or -1 with e set (client gone). */
typedef int (*anth_write_fn)(void *user, const uint8_t *p, size_t n, struct err *e);

struct anth_usage {
	int64_t input_tokens, output_tokens, cache_read, cache_write;
};

struct anth_relay {
	anth_write_fn write;
	void *user;
	struct evs_decoder dec;
	struct buf json;   /* one decoded event */
	struct buf out;    /* one SSE event */
	int started;       /* something was written */
	int stopped;       /* message_stop was relayed */
	int failed;        /* an error was returned: every later call fails */
	char stop_reason[32];
	struct anth_usage usage;
	unsigned long events;
};

void anth_relay_init(struct anth_relay *r, anth_write_fn write, void *user);
void anth_relay_free(struct anth_relay *r);
/* Upstream body bytes in any split. Each verified `chunk` event becomes one
 * SSE event written through write. ERR_PROTO for bad framing, CRC, base64 or
 * JSON, or an event without "type"; ERR_SERVICE "<exceptionType>: <message>"
 * for an exception frame (anth_error_classify reads the type); a write
 * error as it is. Errors are sticky. */
int anth_relay_feed(struct anth_relay *r, const uint8_t *p, size_t n, struct err *e);
/* The body ended: ERR_PROTO inside a frame, ERR_NET "stream ended early"
 * before message_stop. */
int anth_relay_finish(struct anth_relay *r, struct err *e);
/* One Anthropic event JSON (a chunk's decoded bytes) -> SSE event appended
 * to out; usage/stop_reason read into r when r is not NULL. */
int anth_sse_event(struct anth_relay *r, const uint8_t *js, size_t n, struct buf *out,
		   struct err *e);
/* Usage of a non-stream message object ({"usage":{...}}); missing fields 0. */
int anth_usage_from_message(const uint8_t *body, size_t n, struct anth_usage *u, struct err *e);

/* ---- the Converse upstream (models that are not Claude) ----
 * Route: anth_map_converse -> POST /model/<id>/converse-stream with a
 * conv_stream whose handler is anth_conv_handler; after conv_stream_finish
 * returns 0, anth_conv_end; on a failure after anth_conv_started,
 * anth_conv_fail (an error event); before it, an ordinary error answer.
 * Non-stream: /converse and anth_conv_message. */

/* The Converse body (messages merged per role, system blocks and cache
 * points, tools/tool_choice, inferenceConfig, top_k and thinking in
 * additionalModelRequestFields, metadata.user_id as requestMetadata).
 * ERR_USAGE with rq->param, ERR_OTHER for out's limit. */
int anth_map_converse(const uint8_t *body, size_t n, struct anth_req *rq, struct buf *out,
		      struct err *e);

/* Converse stopReason -> Anthropic stop_reason (end_turn, tool_use,
 * max_tokens, stop_sequence, guardrail_intervened/content_filtered ->
 * refusal, model_context_window_exceeded as is, anything else end_turn). */
const char *anth_stop_reason(struct slice converse_stop);

struct anth_conv {
	anth_write_fn write;
	void *user;
	char id[64];
	char model[ANTH_MODEL_MAX];
	int started;   /* message_start was written */
	int ended;     /* message_stop (or an error event) was written */
	int nblocks;   /* Anthropic block indexes used */
	int open_idx;  /* Converse contentBlockIndex of the open block, or -1 */
	int open_type; /* 0 none, 1 text, 2 thinking, 3 tool_use, 4 redacted_thinking */
	char stop_reason[48];
	struct conv_usage usage;
	struct buf out;
};

/* id: "msg_..." (the caller's random id); model: echoed in message_start. */
void anth_conv_init(struct anth_conv *s, const char *id, const char *model, anth_write_fn write,
		    void *user);
void anth_conv_free(struct anth_conv *s);
void anth_conv_handler(struct anth_conv *s, struct conv_handler *h);
int anth_conv_started(const struct anth_conv *s);
/* The stream ended well: closes the open block, writes message_delta
 * (stop_reason, usage) and message_stop. */
int anth_conv_end(struct anth_conv *s, struct err *e);
/* A failure after the start: an `event: error` with the classified type. */
int anth_conv_fail(struct anth_conv *s, const struct err *failure, struct err *e);
/* A Converse answer body -> the Anthropic message object. Errors as
 * conv_parse_response (ERR_SERVICE, ERR_PROTO), ERR_OTHER for the limit. */
int anth_conv_message(const uint8_t *body, size_t n, const char *id, const char *model,
		      struct buf *out, struct err *e);

/* ---- errors ---- */

struct anth_error {
	int status;
	const char *type; /* invalid_request_error, authentication_error, permission_error,
			   * not_found_error, request_too_large, rate_limit_error,
			   * api_error, overloaded_error */
};

/* Like oai_error_classify (same statuses), with Anthropic's types:
 * 400 invalid_request_error, 401 authentication_error, 403
 * permission_error, 404 not_found_error, 413 request_too_large, 429
 * rate_limit_error, 503/529 overloaded_error, anything else api_error. */
void anth_error_classify(const struct err *e, int upstream_status, const char *upstream_type,
			 struct anth_error *out);
/* The type for a status the gateway itself answers with (401 bad key, ...;
 * other 4xx: invalid_request_error, other 5xx: api_error). */
const char *anth_error_type(int status);
/* {"type":"error","error":{"type":...,"message":...}} (invalid UTF-8 in
 * message replaced). */
int anth_error_body(struct buf *out, const char *type, const char *message);
/* The same as an SSE event: "event: error\ndata: {...}\n\n". */
int anth_error_event(struct buf *out, const char *type, const char *message);

/* ---- /v1/models in Anthropic's shape ---- */

struct anth_model {
	const char *id;
	const char *display_name; /* NULL: id */
	int64_t created;          /* Unix seconds; 0: the epoch */
};

/* {"data":[{"type":"model","id","display_name","created_at"}],"has_more":false,
 * "first_id","last_id"} (null ids when empty). */
int anth_models_list(struct buf *out, const struct anth_model *m, size_t n);

#endif
