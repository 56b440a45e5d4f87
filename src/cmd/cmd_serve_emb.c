/* cmd_serve_emb: POST /v1/embeddings of serve mode (SPEC 7.1), on a helper
 * thread: Titan Text Embeddings v1/v2 get one InvokeModel per input, Cohere
 * Embed one per batch of EMB_COHERE_BATCH texts (embeddings.h has the pure
 * half: request, bodies, answers, the OpenAI list). Errors are OpenAI
 * error objects; the first failed call ends the request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "base/clock.h"
#include "bedrock/embeddings.h"
#include "cmd/serve.h"

#define EMB_REPLY_MAX (64u << 20)
#define EMB_CALL_BODY_MAX (8u << 20)

/* The input token count Bedrock reports in a header, or -1. */
static int64_t emb_header_tokens(const struct aws_response *r)
{
	struct slice v;
	int64_t n = 0;
	size_t i;

	if (!aws_response_header(r, "x-amzn-bedrock-input-token-count", &v) || v.n == 0 ||
	    v.n > 15)
		return -1;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (v.p[i] - '0');
	}
	return n;
}

/* Every call of the request, in order; answers the client on failure. */
static int emb_calls(struct serve *sv, struct server_conn *c, const struct emb_req *er,
		     struct emb_acc *acc, char *request_id, size_t ridn)
{
	struct aws_request up;
	struct aws_response r;
	struct buf cb;
	struct err e;
	size_t k, n = emb_ncalls(er);
	int rc = 0;

	buf_init(&cb, EMB_CALL_BODY_MAX);
	for (k = 0; k < n && rc == 0; k++) {
		buf_reset(&cb);
		if (emb_call_body(er, k, &cb, &e) < 0) {
			cmd_serve_fail(c, &e, 0, NULL);
			rc = -1;
			break;
		}
		memset(&up, 0, sizeof up);
		up.content_type = "application/json";
		up.accept = "application/json";
		up.body = cb.p;
		up.body_len = cb.len;
		up.max_body = EMB_REPLY_MAX;
		rc = cmd_serve_runtime(sv, er->model_id, "invoke", &up, &r, &e);
		if (rc < 0 && !server_client_gone(c))
			cmd_serve_count_upstream_error(sv, r.error_type[0] ? r.error_type : NULL, &e);
		if (rc < 0)
			cmd_serve_fail(c, &e, r.status >= 300 ? r.status : 0,
				       r.error_type[0] ? r.error_type : NULL);
		else if ((rc = emb_add_answer(er, k, r.body.p, r.body.len, emb_header_tokens(&r), acc,
					      &e)) < 0)
			cmd_serve_fail(c, &e, 0, NULL);
		snprintf(request_id, ridn, "%s", r.request_id);
		aws_response_free(&r);
	}
	buf_free(&cb);
	return rc;
}

/* The body parsed, its model through serve.modelAliases (an alias's target
 * need not look like an embeddings model's name to the client). 0, or -1
 * when answered. */
static int emb_request(struct serve *sv, struct server_conn *c, const struct server_request *rq,
		       struct emb_req *er)
{
	char mid[SERVE_MODEL_MAX], msg[EMB_MODEL_MAX + 80];
	const char *id;
	struct err e;
	int rc = emb_parse(rq->body, rq->body_len, er, &e);

	/* a model that fails emb_parse was its last check: the rest is parsed */
	if ((rc == 0 || strcmp(er->param, "model") == 0) && er->model[0] &&
	    cmd_serve_resolve(sv, er->model, mid))
		rc = emb_set_model(er, mid, &e);
	if (rc == 0)
		return 0;
	if (er->model[0] && cmd_serve_bedrock_id(er->model, &id) < 0 &&
	    !cmd_serve_resolve(sv, er->model, mid)) {
		/* "openai/text-embedding-3-small": never sent upstream */
		snprintf(msg, sizeof msg, "The model '%s' does not exist (not an "
			 "amazon-bedrock model)", er->model);
		cmd_serve_error(c, 404, "invalid_request_error", "model", "model_not_found", msg,
				NULL);
	} else if (e.cls == ERR_USAGE) {
		cmd_serve_error(c, 400, "invalid_request_error", er->param[0] ? er->param : NULL,
				NULL, e.msg, NULL);
	} else {
		cmd_serve_fail(c, &e, 0, NULL);
	}
	return -1;
}

void cmd_serve_embeddings(struct serve *sv, struct server_conn *c,
			  const struct server_request *rq)
{
	struct emb_req *er = calloc(1, sizeof *er); /* the input table is large */
	struct serve_req *q = cmd_serve_req(c);
	struct serve_refusal ref;
	struct emb_acc acc;
	struct conv_usage u;
	struct buf out;
	struct err e;
	int64_t t0;
	int rc;

	if (!er) {
		cmd_serve_error(c, 500, "server_error", NULL, NULL, "out of memory", NULL);
		return;
	}
	if (emb_request(sv, c, rq, er) < 0) {
		emb_req_free(er);
		free(er);
		return;
	}
	if (q)
		snprintf(q->model, sizeof q->model, "%.150s", er->model_id);
	if (cmd_serve_admit(sv, q, er->model_id, &ref) < 0) {
		cmd_serve_refuse(c, &ref);
		emb_req_free(er);
		free(er);
		return;
	}
	emb_acc_init(&acc, EMB_REPLY_MAX);
	buf_init(&out, EMB_REPLY_MAX);
	t0 = clock_ms();
	rc = emb_calls(sv, c, er, &acc, q ? q->request_id : NULL, q ? sizeof q->request_id : 0);
	if (rc == 0 && emb_finish(er, &acc, &out, &e) < 0) {
		cmd_serve_fail(c, &e, 0, NULL);
		rc = -1;
	}
	if (rc == 0)
		server_reply(c, 200, "application/json", NULL, out.p, out.len);
	memset(&u, 0, sizeof u); /* the input tokens of the calls that answered */
	u.input_tokens = acc.tokens;
	u.has_usage = rc == 0 || acc.tokens > 0;
	if (q) {
		q->upstream = 1;
		q->tokens_in = acc.tokens;
	}
	cmd_serve_charge(sv, q, er->model_id, &u);
	cmd_serve_count_upstream(sv, (double)(clock_ms() - t0) / 1e3, &u, 0,
				 server_client_gone(c));
	cmd_serve_release(sv, q);
	buf_free(&out);
	emb_acc_free(&acc);
	emb_req_free(er);
	free(er);
}
