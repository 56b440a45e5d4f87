/* embeddings: POST /v1/embeddings (SPEC 7.1) over InvokeModel for Titan Text
 * Embeddings v1/v2 and Cohere Embed. Pure: no I/O.
 *
 * How the route uses it:
 *   1. emb_parse(body) -> struct emb_req (ERR_USAGE -> 400 with rq.param).
 *      The model ref goes through serve.modelAliases and the key's globs as
 *      for chat; rq.model_id is the Bedrock id ("amazon-bedrock/" stripped).
 *      emb_family(id) == 0 -> 400 "not an embeddings model" (emb_parse
 *      already refuses those ids it sees; an alias target needs
 *      emb_set_model).
 *   2. for k in 0..emb_ncalls(rq)-1: emb_call_body(rq, k) -> POST
 *      /model/<id>/invoke (content-type and accept application/json);
 *      a 2xx answer goes to emb_add_answer(rq, k, body, header_tokens, acc)
 *      where header_tokens is X-Amzn-Bedrock-Input-Token-Count (-1 when
 *      absent). Titan embeds one input per call, Cohere up to
 *      EMB_COHERE_BATCH per call.
 *   3. emb_finish(rq, acc, out): the OpenAI list object
 *      {"object":"list","data":[{"object":"embedding","index":i,
 *      "embedding":[...] | "<base64>"}],"model":...,"usage":{...}}.
 *   Errors upstream are answered as for chat (oai_error_classify/body).
 *   emb_req_free and emb_acc_free release both whatever happened. */
#ifndef BROCK_EMBEDDINGS_H
#define BROCK_EMBEDDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "wire/json.h"

#define EMB_MODEL_MAX 512
#define EMB_MAX_INPUTS 2048  /* inputs in one request (OpenAI's limit) */
#define EMB_COHERE_BATCH 96  /* texts in one Cohere call */
#define EMB_MAX_TOKENS (1 << 20)

enum emb_family { EMB_TITAN_V1 = 1, EMB_TITAN_V2 = 2, EMB_COHERE = 3 };

/* The family of a Bedrock model id (geo prefix allowed), or 0. */
int emb_family(const char *model_id);

struct emb_req {
	char model[EMB_MODEL_MAX];    /* as the client wrote it (echoed back) */
	char model_id[EMB_MODEL_MAX]; /* the Bedrock id */
	int family;                   /* enum emb_family */
	int base64;                   /* encoding_format "base64" */
	long long dimensions;         /* 0: not given */
	char input_type[32];          /* Cohere input_type (default search_document) */
	size_t ninputs;
	int inputs[EMB_MAX_INPUTS];   /* token indexes of the input strings */
	struct json_doc doc;          /* the request (views into the caller's body,
				       * which must outlive rq) */
	char param[64];               /* on ERR_USAGE: the offending field */
};

/* Parses the request: model, input (a non-empty string or a non-empty array
 * of non-empty strings; token arrays are refused), dimensions (Titan v2:
 * 256, 512 or 1024; Cohere embed-v4: 256, 512, 1024 or 1536; refused
 * elsewhere), encoding_format (float | base64), input_type (Cohere:
 * search_document, search_query, classification, clustering), user
 * (ignored). ERR_USAGE with rq->param, or ERR_OTHER (memory). */
int emb_parse(const uint8_t *body, size_t n, struct emb_req *rq, struct err *e);
/* Changes the Bedrock id after an alias (re-checks dimensions). */
int emb_set_model(struct emb_req *rq, const char *model_id, struct err *e);
void emb_req_free(struct emb_req *rq);

/* Number of InvokeModel calls the request needs. */
size_t emb_ncalls(const struct emb_req *rq);
/* The model-native body of call k, appended to out. Titan v1
 * {"inputText"}, Titan v2 {"inputText","dimensions"?}, Cohere
 * {"texts":[...],"input_type","truncate":"NONE","output_dimension"?}. */
int emb_call_body(const struct emb_req *rq, size_t k, struct buf *out, struct err *e);

/* The answers, accumulated. */
struct emb_acc {
	struct buf data;      /* the "data" array elements written so far */
	struct buf scratch;   /* base64: the float32 bytes of one vector */
	size_t next_index;
	int64_t tokens;
};

void emb_acc_init(struct emb_acc *a, size_t max);
void emb_acc_free(struct emb_acc *a);
/* The answer of call k. Titan: {"embedding":[...],"inputTextTokenCount":N};
 * Cohere: {"embeddings":[[...],...]} or {"embeddings":{"float":[[...]]}}
 * with one vector per text of the call. header_tokens: the input token
 * count header, or -1. ERR_PROTO for a malformed answer or a vector count
 * that does not match, ERR_OTHER for the limit. */
int emb_add_answer(const struct emb_req *rq, size_t k, const uint8_t *body, size_t n,
		   int64_t header_tokens, struct emb_acc *a, struct err *e);
/* Appends the OpenAI list object. */
int emb_finish(const struct emb_req *rq, const struct emb_acc *a, struct buf *out,
	       struct err *e);

#endif
