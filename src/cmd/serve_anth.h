/* serve_anth: what cmd_serve_anth.c (the Anthropic Messages API on helper
 * threads) and cmd_serve_anth_h2.c (/v1/messages on the loop) share. */
#ifndef BROCK_SERVE_ANTH_H
#define BROCK_SERVE_ANTH_H

#include "bedrock/anthropic.h"
#include "cmd/serve.h"

#define ANTH_PING_MS 10000            /* silence before a ping (SPEC: at most 15 s) */
#define ANTH_PING_EVERY_MS 1000       /* how often the tick looks */
#define ANTH_BODY_OUT_MAX (64u << 20) /* the upstream request body */
#define ANTH_ANSWER_MAX (32u << 20)   /* a non-stream answer */
#define ANTH_SSE_HEAD "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"

/* One call */
struct anth_call {
	struct serve *sv;
	struct server_conn *c;
	struct serve_req *q;
	struct serve_ping ping;
	char model[ANTH_MODEL_MAX];  /* the Bedrock id called */
	char name[ANTH_MODEL_MAX];   /* the model as the client named it (echoed) */
	char id[64];                 /* msg_... for the Converse path */
	struct anth_relay rl;        /* Claude: InvokeModelWithResponseStream */
	struct anth_conv cv;         /* others: ConverseStream */
	struct conv_stream cs;
	struct conv_usage usage;     /* what the answer reported */
	int last;                    /* the last model to try: every error is answered */
	int next;                    /* failed before any byte, worth the next model */
};

/* The usage of an Anthropic answer as the gateway counts it. */
void cmd_serve_anth_usage(const struct anth_usage *a, struct conv_usage *u);
/* A failure after the stream's head: an `event: error` through w. */
void cmd_serve_anth_late_error(const struct err *e, int status, const char *type, anth_write_fn w,
			       void *user);
/* A Converse answer (body) as the message object, answered; ac->usage set. */
int cmd_serve_anth_conv_answer(struct anth_call *ac, const struct buf *body, struct err *e);
/* The client's anthropic-beta header(s), joined; "" when none. */
void cmd_serve_anth_betas(const struct server_request *rq, struct buf *b);
/* The map error of a client's body: 400 invalid_request_error, or ours. */
void cmd_serve_anth_map_failed(struct server_conn *c, const struct anth_req *ar,
			       const struct err *e);
/* The Bedrock id for a client's model name (aliases first): 0 with out
 * set; -1 answered (404, the catalog's error); 1 when loop is set and the
 * name needs the catalog (discovery may call out). */
int cmd_serve_anth_model(struct serve *sv, struct server_conn *c, const char *name,
			 char out[ANTH_MODEL_MAX], int loop);
/* The body for ac->model: the Anthropic body for Claude (InvokeModel),
 * Converse's for the others. */
int cmd_serve_anth_body(struct anth_call *ac, const struct server_request *rq, const char *beta,
			struct anth_req *ar, struct buf *body, struct err *e);
void cmd_serve_anth_msg_id(char *out, size_t n);

#endif
