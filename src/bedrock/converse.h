/* converse: the Bedrock Converse / ConverseStream wire format (SPEC 3).
 *
 * Requests: conv_build_body writes the JSON body from a plain request struct
 * with the one JSON writer (strings escaped for any UTF-8; invalid UTF-8 in
 * user input is ERR_USAGE). Attachments are classified from their bytes
 * (images: magic only; documents: extension and magic) and named the way
 * Bedrock accepts.
 *
 * Responses: conv_stream is a push decoder for the event stream body: bytes
 * in any split go through evstream.h, each verified message is dispatched on
 * :message-type / :event-type, its JSON payload parsed (json.h) and handed to
 * typed callbacks. Text deltas without escapes are views into the receive
 * buffer (no copy). Exception and error frames become ERR_SERVICE; unknown
 * event types and unknown keys are ignored. In JSON mode each event is also
 * re-emitted as one line {"<eventType>": <payload without "p">}.
 * conv_parse_response does the same for a Converse (non-stream) answer.
 *
 * Limits: one event-stream message <= EVS_MAX_MESSAGE; JSON tokens of one
 * payload <= CONV_MAX_TOKENS.
 *
 * Files: converse_body.c (requests, attachments), converse.c (stream,
 * answers, the call), converse_fast.c (the text-delta fast path of
 * conv_stream, converse_fast.h). */
#ifndef BROCK_CONVERSE_H
#define BROCK_CONVERSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "wire/evstream.h"
#include "wire/json.h"

#define CONV_MAX_TOKENS (1 << 20)
#define CONV_NAME_MAX 128 /* document name after sanitising */
#define CONV_THINKING_MIN 1024    /* smallest extended-thinking budget Anthropic takes */
#define CONV_THINKING_ANSWER 4096 /* maxTokens = budget + this when --max-tokens is not given */

enum conv_kind { CONV_IMAGE = 1, CONV_DOCUMENT = 2 };

struct conv_attachment {
	int kind;                  /* enum conv_kind */
	const char *format;        /* "png", "pdf", ... (conv_image_format / conv_document_format) */
	char name[CONV_NAME_MAX];  /* documents: sanitised name (conv_document_name) */
	const uint8_t *data;
	size_t n;
};

struct conv_request {
	const char *model_id;       /* decides model-native fields (thinking) */
	const char *system;         /* NULL: none */
	const uint8_t *text;        /* the user prompt (UTF-8) */
	size_t text_len;
	const struct conv_attachment *att;
	size_t natt;
	long long max_tokens;       /* 0: not sent */
	int has_temperature;
	double temperature;
	int has_top_p;
	double top_p;
	const char *const *stop;    /* stop sequences */
	size_t nstop;
	long long thinking;         /* budget tokens; 0: off (maxTokens defaults to
	                               thinking + CONV_THINKING_ANSWER) */
	const char *effort;         /* "low", "medium", "high"; NULL: from thinking */
	int thinking_shape;         /* enum known_think; 0: known_thinking(model_id) */
	int cache;                  /* 1: cache points after the system prompt and the prompt */
	const char *cache_ttl;      /* "5m" or "1h"; NULL: the default (5m, no ttl field) */
	const char *service_tier;   /* serviceTier.type; NULL: not sent */
	const char *latency;        /* performanceConfig.latency; NULL: not sent */
	const char *guardrail_id;   /* guardrailConfig; NULL: none */
	const char *guardrail_version; /* NULL: "DRAFT" */
	int guardrail_trace;        /* 1: "trace":"enabled" */
	const char *const *meta_keys; /* requestMetadata */
	const char *const *meta_values;
	size_t nmeta;
	const char *extra;          /* a JSON object merged into additionalModelRequestFields */
};

/* Appends the request body to out. ERR_USAGE for invalid UTF-8 in any user
 * text ("prompt is not valid UTF-8 (byte N)"), for a document without text,
 * or --thinking on a model without extended thinking; ERR_OTHER when out's
 * limit is reached.
 *
 * Thinking (SPEC 3.5): with thinking or effort set, a model that takes
 * adaptive thinking only (known.h) gets {"thinking":{"type":"adaptive"},
 * "output_config":{"effort":E}} (E = effort, else mapped from the budget);
 * the others {"thinking":{"type":"enabled","budget_tokens":N}} (N = the
 * budget, else mapped from the effort), with maxTokens above N.
 *
 * Prompt caching: {"cachePoint":{"type":"default"[,"ttl":"1h"]}} after the
 * system prompt and after the prompt; ERR_USAGE on a model known not to take
 * it (known.h). serviceTier {"type"}, performanceConfig {"latency"},
 * guardrailConfig {guardrailIdentifier, guardrailVersion, trace},
 * requestMetadata {k: v}. extra must be a JSON object (ERR_USAGE); its
 * members are written into additionalModelRequestFields, except thinking /
 * output_config when a thinking flag writes those (the flag wins). */
int conv_build_body(const struct conv_request *rq, struct buf *out, struct err *e);

/* Writes rq's serviceTier {type}, performanceConfig {latency},
 * guardrailConfig and requestMetadata members (those set) into the open
 * request object; the one writer of them for chat and the gateway. */
void conv_write_features(struct jw *w, const struct conv_request *rq);

/* "png", "jpeg", "gif", "webp" from the magic bytes, or NULL. */
const char *conv_image_format(const uint8_t *p, size_t n);
/* The document format of a file from its name's extension (case-insensitive)
 * checked against the magic bytes: "pdf", "csv", "txt", "md", "html", "doc",
 * "docx", "xls", "xlsx". ERR_USAGE when unknown or when they disagree. */
int conv_document_format(const char *path, const uint8_t *p, size_t n, const char **format,
			 struct err *e);
/* The base name of path without its extension reduced to letters, digits,
 * single spaces and -()[] ; "document" when nothing is left. */
void conv_document_name(const char *path, char out[CONV_NAME_MAX]);
/* 1 when the model takes Anthropic's native fields (extended thinking). */
int conv_model_is_anthropic(const char *model_id);

/* ---- responses ---- */

struct conv_usage {
	int64_t input_tokens, output_tokens, cache_read, cache_write, latency_ms;
	int has_usage, has_latency;
};

/* Callbacks (any may be NULL). A callback returning < 0 stops the stream
 * with its error. Slices are valid during the call only. index is the
 * contentBlockIndex. */
struct conv_handler {
	void *user;
	int (*message_start)(void *user, struct slice role, struct err *e);
	int (*text)(void *user, int index, struct slice text, struct err *e);
	int (*reasoning_text)(void *user, int index, struct slice text, struct err *e);
	int (*reasoning_signature)(void *user, int index, struct slice sig, struct err *e);
	int (*reasoning_redacted)(void *user, int index, struct slice data, struct err *e);
	int (*tool_start)(void *user, int index, struct slice id, struct slice name,
			  struct err *e);
	int (*tool_input)(void *user, int index, struct slice fragment, struct err *e);
	int (*block_stop)(void *user, int index, struct err *e);
	int (*message_stop)(void *user, struct slice stop_reason, struct err *e);
	int (*metadata)(void *user, const struct conv_usage *u, struct err *e);
	/* JSON mode: one complete line (with its '\n') per event or exception. */
	int (*json_line)(void *user, struct slice line, struct err *e);
};

struct conv_stream {
	struct conv_handler h;
	int json_mode;
	struct evs_decoder dec;
	struct json_tok *tok; /* payload tokens, grown on demand */
	int tok_cap;
	struct buf scratch; /* strings with escapes, decoded */
	struct buf scratch2;
	struct buf line;    /* JSON mode output line */
	int got_start, got_stop, got_metadata;
	char stop_reason[64];
	struct conv_usage usage;
	unsigned long events; /* messages dispatched */
	int no_fast;          /* 1: every payload through the full JSON reader
			       * (the fuzzer's differential check; tests) */
};

void conv_stream_init(struct conv_stream *s, const struct conv_handler *h, int json_mode);
void conv_stream_free(struct conv_stream *s);
/* Decodes and dispatches bytes as they arrive. ERR_PROTO for bad framing,
 * CRC or JSON; ERR_SERVICE for an exception or error frame; or the error of
 * a callback. */
int conv_stream_feed(struct conv_stream *s, const uint8_t *p, size_t n, struct err *e);
/* One decoded message (conv_stream_feed calls this; tests and the fuzzer
 * use it directly). */
int conv_stream_message(struct conv_stream *s, const struct evs_msg *m, struct err *e);
/* The body ended: ERR_PROTO when it stopped inside a message, ERR_NET when
 * it ended before messageStop ("stream ended early"). */
int conv_stream_finish(struct conv_stream *s, struct err *e);

/* A Converse (non-stream) answer: calls the same callbacks (text,
 * reasoning, tool use with the whole input as one fragment, message_stop,
 * metadata); in JSON mode json_line gets the whole object on one line.
 * ERR_PROTO for malformed JSON or a missing output message; ERR_SERVICE
 * when it is an error object (__type / code). */
int conv_parse_response(const struct conv_handler *h, int json_mode, const uint8_t *body,
			size_t n, struct err *e);

/* Appends the JSON text p[0..n) with insignificant whitespace removed (input
 * must be valid JSON). */
int conv_json_compact(struct buf *out, const uint8_t *p, size_t n);

/* ---- the call ---- */

struct aws;
struct aws_creds;
struct aws_response;

#define CONV_OTHER_MAX (1u << 20) /* a 2xx body that is not an event stream */

struct conv_call {
	const char *model_id;       /* the path segment /model/<id>/, %-encoded here */
	int stream;                 /* 1: ConverseStream, 0: Converse */
	const void *body;           /* conv_build_body's JSON */
	size_t body_len;
	struct conv_stream *cs;     /* stream: fed with the event stream as it arrives */
	size_t max_answer;          /* non-stream: largest answer collected into r->body */
	int gateway;                /* serve's texts: errors say "from Bedrock", no request id */
	int64_t t0_ms;              /* clock_ms() at the start of the -v times; 0: now */
	const char *operation;      /* NULL: converse(-stream); "count-tokens" (stream 0) */
};

/* One POST /model/<id>/converse(-stream) (or /<operation>), SigV4-signed to
 * the runtime; a model id that is an ARN is called in the ARN's region
 * (SPEC 3.5). r is
 * initialised here: aws_response_free it after, whatever this returned.
 * Stream: a 2xx event stream goes through c->cs (a callback's error aborts
 * the call) and ends with conv_stream_finish; a 2xx answer of another type
 * (kept up to CONV_OTHER_MAX) is ERR_SERVICE when it decodes to an AWS error
 * type, else ERR_PROTO. Non-stream: the 2xx answer is left in r->body for
 * conv_parse_response. With a->log set, a stream logs "HTTP <status>
 * <content-type> after N ms" and "first body byte after N ms". Errors of
 * aws_call as they are; ERR_USAGE when the model id is too long. */
int conv_call(struct aws *a, const struct aws_creds *creds, const struct conv_call *c,
	      struct aws_response *r, struct err *e);
/* The region of an ARN model ref (arn:<partition>:bedrock:<region>:...),
 * copied into out[0..n); NULL for anything else (the client's region). The
 * gateway's other runtime calls (InvokeModel, the pass-through) use it. */
const char *conv_arn_region(const char *id, char *out, size_t n);

/* The aws_request of that call (path in *path, which the caller frees; the
 * ARN's region in arn_region): conv_call sends it with aws_call, the
 * gateway's HTTP/2 path signs it with aws_wire_sign and sends it itself. */
#define CONV_REGION_MAX 64
struct aws_request;
struct buf;
int conv_request(const struct conv_call *c, struct aws_request *rq, struct buf *path,
		 char arn_region[CONV_REGION_MAX], struct err *e);

#endif
