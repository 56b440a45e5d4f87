/* cmd_serve_err: the error answers of serve mode, in the dialect of the
 * request's route (serve_req.dialect): OpenAI error objects, Anthropic error
 * objects, or Bedrock's {"message"} with x-amzn-ErrorType. Every refusal
 * (the gate's, the key check's, the server's own) and every failed Bedrock
 * call goes through cmd_serve_error or cmd_serve_fail. */
#include <string.h>

#include "bedrock/anthropic.h"
#include "bedrock/openai.h"
#include "cmd/serve.h"

enum serve_dialect cmd_serve_dialect(enum serve_route route, const struct server_request *rq)
{
	if (route == ROUTE_MESSAGES || route == ROUTE_COUNT_TOKENS ||
	    (route == ROUTE_MODELS && http_header(rq->p, "anthropic-version", NULL)))
		return DIALECT_ANTHROPIC;
	if (route >= ROUTE_PT_CONVERSE && route <= ROUTE_PT_COUNT_TOKENS)
		return DIALECT_BEDROCK;
	return DIALECT_OPENAI;
}

struct serve_req *cmd_serve_req(struct server_conn *c)
{
	return *server_udata(c);
}

void cmd_serve_error(struct server_conn *c, int status, const char *type, const char *param,
		     const char *code, const char *msg, const char *extra)
{
	const struct serve_req *q = cmd_serve_req(c);
	struct buf b;

	if (q && q->dialect == DIALECT_BEDROCK) {
		cmd_serve_pt_error(c, status, NULL, msg, extra);
		return;
	}
	buf_init(&b, 16384);
	if (q && q->dialect == DIALECT_ANTHROPIC) {
		if (anth_error_body(&b, anth_error_type(status), msg) < 0) {
			buf_reset(&b);
			buf_append_str(&b, "{\"type\":\"error\",\"error\":{\"type\":\"api_error\","
					   "\"message\":\"internal error\"}}");
		}
	} else if (oai_error_body(&b, msg, type, param, code) < 0) {
		buf_reset(&b);
		buf_append_str(&b, "{\"error\":{\"message\":\"internal error\",\"type\":"
				   "\"server_error\",\"param\":null,\"code\":null}}");
	}
	server_reply(c, status, "application/json", extra, b.p, b.len);
	buf_free(&b);
}

void cmd_serve_fail(struct server_conn *c, const struct err *e, int up_status,
		    const char *up_type)
{
	const struct serve_req *q = cmd_serve_req(c);
	struct oai_error oe;

	if (q && q->dialect == DIALECT_ANTHROPIC) {
		struct anth_error ae;
		struct buf b;

		anth_error_classify(e, up_status, up_type, &ae);
		buf_init(&b, 16384);
		if (anth_error_body(&b, ae.type, e->msg[0] ? e->msg : "error") == 0)
			server_reply(c, ae.status, "application/json",
				     ae.status == 429 ? "Retry-After: 1\r\n" : NULL, b.p, b.len);
		else
			cmd_serve_error(c, 500, "server_error", NULL, NULL, "internal error", NULL);
		buf_free(&b);
		return;
	}
	oai_error_classify(e, up_status, up_type, &oe);
	if (q && q->dialect == DIALECT_BEDROCK) {
		cmd_serve_pt_error(c, oe.status, NULL, e->msg[0] ? e->msg : "error", NULL);
		return;
	}
	cmd_serve_error(c, oe.status, oe.type, NULL, oe.code, e->msg[0] ? e->msg : "error",
			oe.status == 429 ? "Retry-After: 1\r\n" : NULL);
}
