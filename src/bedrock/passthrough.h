/* passthrough: the Bedrock-native pass-through routes of serve mode (SPEC
 * 7.3), the pure parts. Pure: no I/O.
 *
 * How the gateway uses it, for a POST whose path starts with "/model/":
 *   1. pt_parse_path(target) -> struct pt_route (ERR_USAGE: answer 404 with
 *      the message; only POST is accepted: 405 otherwise).
 *   2. Check the gateway key (Bearer or x-api-key) and the key's model globs
 *      against route.model_id as for any route.
 *   3. Build the upstream request: POST pt_upstream_path(route) to the
 *      runtime endpoint, the client's body unchanged, forwarding only the
 *      headers pt_forward_header accepts (content-type, accept and the
 *      x-amzn-bedrock-* ones), then SigV4-sign with the box's credentials.
 *   4. Answer: status and content-type of the upstream (route.response_type
 *      is what a 2xx has); non-stream bodies are relayed as they are. For
 *      route.stream (converse-stream, invoke-with-response-stream), each
 *      body piece goes through pt_relay_feed, which appends the whole,
 *      CRC-verified frames to forward to `out`; send them at once. When it
 *      fails (bad CRC or framing) send what it appended, then close the
 *      client connection: nothing after the bad frame goes out. At the end
 *      pt_relay_finish tells whether the stream ended between frames.
 *      pt_relay.exception is set once an exception frame went by (metrics). */
#ifndef BROCK_PASSTHROUGH_H
#define BROCK_PASSTHROUGH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "wire/evstream.h"

#define PT_MODEL_MAX 2048 /* decoded model id (ARNs included), with its NUL */

enum pt_op { PT_CONVERSE = 1, PT_CONVERSE_STREAM, PT_INVOKE, PT_INVOKE_STREAM, PT_COUNT_TOKENS };

struct pt_route {
	int op;                    /* enum pt_op */
	int stream;                /* the answer is an event stream */
	const char *action;        /* "converse", "converse-stream", ... (static) */
	const char *response_type; /* content-type of a 2xx answer (static) */
	char model_id[PT_MODEL_MAX]; /* percent-decoded */
};

/* Parses a request target "/model/{id}/{action}" (an optional "?query" is
 * ignored). The id is percent-decoded strictly (a bad escape is an error)
 * and must be 1..PT_MODEL_MAX-1 bytes of printable ASCII without spaces
 * (ARNs keep their '/' and ':' once decoded); the action is one of
 * converse, converse-stream, invoke, invoke-with-response-stream,
 * count-tokens, and nothing may follow it. ERR_USAGE otherwise. */
int pt_parse_path(const char *target, size_t n, struct pt_route *r, struct err *e);

/* Appends "/model/<id %-encoded>/<action>" (the runtime path as SigV4
 * canonicalises it). 0, or -1 when out's limit is reached. */
int pt_upstream_path(const struct pt_route *r, struct buf *out);

/* 1 when a client request header is forwarded upstream: content-type,
 * accept, and x-amzn-bedrock-* (guardrails, trace, latency, service tier).
 * Never authorization, host, x-amz-*, x-api-key or hop-by-hop headers. */
int pt_forward_header(struct slice name);

/* The frame-by-frame relay of an event stream. */
struct pt_relay {
	struct evs_decoder dec;
	int failed;
	int exception;           /* an exception/error frame was relayed */
	unsigned long frames;    /* frames relayed */
};

void pt_relay_init(struct pt_relay *r);
void pt_relay_free(struct pt_relay *r);
/* Takes upstream bytes in any split; appends every complete, verified frame
 * (its exact bytes) to out. Returns 0, or -1 (ERR_PROTO for a bad CRC or
 * framing, ERR_OTHER for out's limit) after appending the frames verified
 * before the failure; every later call fails too. */
int pt_relay_feed(struct pt_relay *r, const uint8_t *p, size_t n, struct buf *out,
		  struct err *e);
/* End of the upstream body: ERR_PROTO when it stopped inside a frame. */
int pt_relay_finish(struct pt_relay *r, struct err *e);

#endif
