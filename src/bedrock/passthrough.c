/* passthrough: Bedrock-native pass-through paths, headers and the verified
 * frame relay (see passthrough.h). */
#include "bedrock/passthrough.h"

#include <string.h>

#include "base/pctenc.h"

static const struct {
	const char *action;
	int op, stream;
} pt_actions[] = {
	{"converse", PT_CONVERSE, 0},
	{"converse-stream", PT_CONVERSE_STREAM, 1},
	{"invoke", PT_INVOKE, 0},
	{"invoke-with-response-stream", PT_INVOKE_STREAM, 1},
	{"count-tokens", PT_COUNT_TOKENS, 0},
};

static int pt_id_ok(const struct buf *id)
{
	if (id->len == 0 || id->len >= PT_MODEL_MAX)
		return 0;
	for (size_t i = 0; i < id->len; i++)
		if (id->p[i] <= 0x20 || id->p[i] >= 0x7f)
			return 0;
	return 1;
}

int pt_parse_path(const char *target, size_t n, struct pt_route *r, struct err *e)
{
	const char *q = memchr(target, '?', n), *seg, *slash;
	struct slice action;
	struct buf id;
	size_t i;

	memset(r, 0, sizeof *r);
	if (q)
		n = (size_t)(q - target);
	if (n < 7 || memcmp(target, "/model/", 7) != 0)
		return err_set(e, ERR_USAGE, "not a /model/{modelId}/{action} path");
	seg = target + 7;
	slash = memchr(seg, '/', n - 7);
	if (!slash)
		return err_set(e, ERR_USAGE, "no action after the model id");
	action = (struct slice){(const uint8_t *)slash + 1, (size_t)(target + n - slash - 1)};
	for (i = 0; i < sizeof pt_actions / sizeof pt_actions[0]; i++)
		if (slice_eq_str(action, pt_actions[i].action))
			break;
	if (i == sizeof pt_actions / sizeof pt_actions[0])
		return err_set(e, ERR_USAGE,
			       "unknown action '%.*s' (converse, converse-stream, invoke, "
			       "invoke-with-response-stream, count-tokens)",
			       (int)(action.n > 64 ? 64 : action.n), (const char *)action.p);
	buf_init(&id, PT_MODEL_MAX);
	if (pct_decode(&id, (const uint8_t *)seg, (size_t)(slash - seg), 0) != 0 ||
	    !pt_id_ok(&id)) {
		buf_free(&id);
		return err_set(e, ERR_USAGE, "bad model id in the path");
	}
	memcpy(r->model_id, id.p, id.len);
	r->model_id[id.len] = '\0';
	buf_free(&id);
	r->op = pt_actions[i].op;
	r->stream = pt_actions[i].stream;
	r->action = pt_actions[i].action;
	r->response_type = r->stream ? "application/vnd.amazon.eventstream" : "application/json";
	return 0;
}

int pt_upstream_path(const struct pt_route *r, struct buf *out)
{
	size_t len0 = out->len;

	if (buf_append_str(out, "/model/") < 0 || pct_encode_str(out, r->model_id, 0) != 0 ||
	    buf_append_byte(out, '/') < 0 || buf_append_str(out, r->action) < 0) {
		out->len = len0;
		return -1;
	}
	return 0;
}

int pt_forward_header(struct slice name)
{
	static const char pfx[] = "x-amzn-bedrock-";
	size_t pl = sizeof pfx - 1;

	if (slice_eq_nocase(name, "content-type") || slice_eq_nocase(name, "accept"))
		return 1;
	return name.n > pl && slice_eq_nocase((struct slice){name.p, pl}, pfx);
}

void pt_relay_init(struct pt_relay *r)
{
	memset(r, 0, sizeof *r);
	evs_init(&r->dec, 0);
}

void pt_relay_free(struct pt_relay *r)
{
	evs_free(&r->dec);
}

int pt_relay_feed(struct pt_relay *r, const uint8_t *p, size_t n, struct buf *out,
		  struct err *e)
{
	if (r->failed)
		return err_set(e, ERR_PROTO, "event stream relay: failed earlier");
	while (n) {
		struct evs_msg m;
		size_t used = 0;
		int rc = evs_feed(&r->dec, p, n, &used, &m);
		struct slice mt;

		if (rc < 0) {
			r->failed = 1;
			return evs_err(e, rc);
		}
		p += used;
		n -= used;
		if (rc == 0)
			continue;
		if (buf_append(out, m.raw.p, m.raw.n) < 0) {
			r->failed = 1;
			return err_set(e, ERR_OTHER, "event stream relay: output limit");
		}
		mt = evs_msg_str(&m, ":message-type");
		r->exception |= slice_eq_str(mt, "exception") || slice_eq_str(mt, "error");
		r->frames++;
	}
	return 0;
}

int pt_relay_finish(struct pt_relay *r, struct err *e)
{
	int rc;

	if (r->failed)
		return err_set(e, ERR_PROTO, "event stream relay: failed earlier");
	rc = evs_finish(&r->dec);
	return rc < 0 ? evs_err(e, rc) : 0;
}
