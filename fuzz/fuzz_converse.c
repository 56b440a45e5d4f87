/* fuzz_converse: stream-event payload handling (converse.c) on arbitrary
 * payloads. Input: byte 0 = flags (bit 0: JSON mode; bits 1-7: feed piece
 * size, 0 = all at once), then records [kind:1][len:2 BE][payload:len]; each
 * record becomes one well-framed event-stream message (kind picks the event
 * type, an exception, an error frame or an unknown type) so the fuzzer spends
 * its time in the dispatcher and the JSON walk, not on CRCs. The payload is
 * also given to conv_parse_response as a Converse answer.
 * Oracles: no crash or leak; every JSON-mode line is one valid JSON object
 * ending in its only newline, with one key whose value has no "p" member;
 * text handed to callbacks is valid UTF-8; errors carry a class; and the
 * stream decoded with the text-delta fast path gives exactly the callbacks,
 * lines and error of the same stream through the full JSON reader
 * (conv_stream.no_fast). The same stream also drives the Anthropic renderer
 * (anth_conv, as `brock serve` does for /v1/messages on ConverseStream):
 * every SSE event it writes is "event: <type>\ndata: <one JSON object>\n\n",
 * and it ends with message_stop or an error event. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/anthropic.h"
#include "bedrock/converse.h"
#include "wire/evstream.h"
#include "wire/json.h"

static const char *const kinds[] = {"messageStart",    "contentBlockStart", "contentBlockDelta",
				    "contentBlockStop", "messageStop",       "metadata",
				    "futureEvent",      "!exception",        "!error",
				    "!future"};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static void check_line(struct slice line, int event)
{
	static struct json_tok tok[4096]; /* not on the stack: ASan poisons a frame that size per call */
	struct json_doc d;
	struct err e;
	int k;

	if (line.n < 2 || line.p[line.n - 1] != '\n' || memchr(line.p, '\n', line.n - 1))
		abort();
	if (json_parse(&d, (const char *)line.p, line.n - 1, tok, 4096, &e) < 0) {
		/* too many tokens for our check array is fine; invalid JSON is not */
		if (json_validate((const char *)line.p, line.n - 1, NULL, NULL, &e) < 0)
			abort();
		return;
	}
	if (json_type(&d, 0) != JSON_OBJECT)
		abort();
	if (!event)
		return; /* a Converse answer: the object as it came */
	if (json_size(&d, 0) != 1)
		abort();
	k = json_child(&d, 0);
	if (json_type(&d, k + 1) == JSON_OBJECT && json_get(&d, k + 1, "p") >= 0)
		abort();
}

/* Appends one callback to the transcript (user), tagged. */
static void note(void *u, char tag, int i, struct slice v)
{
	struct buf *t = u;

	uint8_t h[2 + 2 * sizeof(size_t) * 3];
	size_t k = 0;

	if (!t)
		return;
	/* tag, index, length, then the bytes: no printf (slow under ASan) */
	h[k++] = (uint8_t)tag;
	memcpy(h + k, &i, sizeof i);
	k += sizeof i;
	memcpy(h + k, &v.n, sizeof v.n);
	k += sizeof v.n;
	buf_append(t, h, k);
	buf_append(t, v.p, v.n);
}

static int on_json(void *u, struct slice line, struct err *e)
{
	(void)e;
	check_line(line, 1);
	note(u, 'J', 0, line);
	return 0;
}

static int on_json_answer(void *u, struct slice line, struct err *e)
{
	(void)u;
	(void)e;
	check_line(line, 0);
	return 0;
}

static int on_text(void *u, int i, struct slice t, struct err *e)
{
	(void)e;
	if (!t.n || !json_utf8_valid(t.p, t.n, NULL))
		abort();
	note(u, 'T', i, t);
	return 0;
}

static int on_reasoning(void *u, int i, struct slice t, struct err *e)
{
	note(u, 'R', i, t);
	return on_text(NULL, i, t, e);
}

static int on_input(void *u, int i, struct slice t, struct err *e)
{
	note(u, 'I', i, t);
	return on_text(NULL, i, t, e);
}

static int on_tool(void *u, int i, struct slice id, struct slice name, struct err *e)
{
	(void)e;
	if (!json_utf8_valid(id.p, id.n, NULL) || !json_utf8_valid(name.p, name.n, NULL))
		abort();
	note(u, 'U', i, id);
	note(u, 'N', i, name);
	return 0;
}

static int on_stop(void *u, struct slice r, struct err *e)
{
	(void)e;
	if (!json_utf8_valid(r.p, r.n, NULL))
		abort();
	note(u, 'S', 0, r);
	return 0;
}

static int on_block_stop(void *u, int i, struct err *e)
{
	(void)e;
	note(u, 'B', i, SLICE_LIT(""));
	return 0;
}

/* Decodes the stream in pieces (0: at once); the transcript goes to tr. */
static int run(const struct conv_handler *h, int json, int no_fast, const struct buf *stream,
	       size_t piece, struct buf *tr, struct err *e)
{
	struct conv_handler hh = *h;
	struct conv_stream cs;
	int rc = 0;

	hh.user = tr;
	conv_stream_init(&cs, &hh, json);
	cs.no_fast = no_fast;
	memset(e, 0, sizeof *e);
	if (!piece) {
		rc = conv_stream_feed(&cs, stream->p, stream->len, e);
	} else {
		size_t i;

		for (i = 0; i < stream->len && rc == 0; i += piece)
			rc = conv_stream_feed(&cs, stream->p + i,
					      stream->len - i < piece ? stream->len - i : piece, e);
	}
	if (rc == 0)
		rc = conv_stream_finish(&cs, e);
	if (rc < 0 && !e->cls)
		abort();
	conv_stream_free(&cs);
	return rc;
}

static int sse_collect(void *user, const uint8_t *p, size_t n, struct err *e)
{
	(void)e;
	return buf_append(user, p, n) < 0 ? -1 : 0;
}

/* out holds whole SSE events; each one's data line is one JSON object.
 * Returns the type of the last event (a view into out). */
static struct slice check_sse(const struct buf *out)
{
	static struct json_tok tok[1u << 16];
	struct slice last = {NULL, 0};
	size_t i = 0;

	while (i < out->len) {
		const uint8_t *ev = out->p + i, *nl, *end;
		size_t left = out->len - i;
		struct json_doc d;
		struct err e;

		end = NULL;
		for (size_t k = 0; k + 1 < left; k++)
			if (ev[k] == '\n' && ev[k + 1] == '\n') {
				end = ev + k;
				break;
			}
		if (!end || left < 7 || memcmp(ev, "event: ", 7) != 0)
			abort();
		nl = memchr(ev, '\n', (size_t)(end - ev));
		if (!nl || end - nl < 7 || memcmp(nl, "\ndata: ", 7) != 0)
			abort();
		last.p = ev + 7;
		last.n = (size_t)(nl - ev) - 7;
		if (json_parse(&d, (const char *)nl + 7, (size_t)(end - nl) - 7, tok,
			       (int)(sizeof tok / sizeof tok[0]), &e) < 0 ||
		    json_type(&d, 0) != JSON_OBJECT)
			abort();
		i += (size_t)(end - ev) + 2;
	}
	return last;
}

/* The stream through the Anthropic renderer, in pieces as run() does. */
static void run_anthropic(const struct buf *stream, size_t piece)
{
	struct anth_conv ac;
	struct conv_handler h;
	struct conv_stream cs;
	struct buf out;
	struct err e, e2;
	struct slice last;
	int rc = 0;

	buf_init(&out, 1u << 26);
	anth_conv_init(&ac, "msg_fuzz", "anthropic.claude-sonnet-4-5", sse_collect, &out);
	anth_conv_handler(&ac, &h);
	conv_stream_init(&cs, &h, 0);
	memset(&e, 0, sizeof e);
	for (size_t i = 0; rc == 0 && i < stream->len; i += piece ? piece : stream->len)
		rc = conv_stream_feed(&cs, stream->p + i,
				      piece && stream->len - i > piece ? piece : stream->len - i, &e);
	if (rc == 0)
		rc = conv_stream_finish(&cs, &e);
	memset(&e2, 0, sizeof e2);
	if (rc == 0)
		rc = anth_conv_end(&ac, &e2);
	else
		rc = anth_conv_fail(&ac, &e, &e2);
	conv_stream_free(&cs);
	if (rc == 0) {
		last = check_sse(&out);
		if (!slice_eq_str(last, "message_stop") && !slice_eq_str(last, "error"))
			abort();
	} else if (!e2.cls) {
		abort();
	}
	anth_conv_free(&ac);
	buf_free(&out);
}

static void encode(struct buf *out, size_t kind, const uint8_t *p, size_t n)
{
	struct evs_header h[3];
	const char *k = kinds[kind];

	if (strcmp(k, "!exception") == 0) {
		h[0] = evs_hdr_string(":message-type", "exception");
		h[1] = evs_hdr_string(":exception-type", "throttlingException");
		evs_encode(out, h, 2, p, n);
	} else if (strcmp(k, "!error") == 0) {
		h[0] = evs_hdr_string(":message-type", "error");
		h[1] = evs_hdr_bytes(":error-code", EVS_STRING, p, n > 200 ? 200 : n);
		h[2] = evs_hdr_string(":error-message", "m");
		evs_encode(out, h, 3, "", 0);
	} else if (strcmp(k, "!future") == 0) {
		h[0] = evs_hdr_string(":message-type", "future");
		evs_encode(out, h, 1, p, n);
	} else {
		h[0] = evs_hdr_string(":message-type", "event");
		h[1] = evs_hdr_string(":event-type", k);
		evs_encode(out, h, 2, p, n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conv_handler h, ha;
	struct buf stream, tr_fast, tr_full;
	struct err e, e_full;
	size_t off = 1, piece;
	int json, rc, rc_full;

	if (size < 1)
		return 0;
	json = data[0] & 1;
	piece = data[0] >> 1;
	memset(&h, 0, sizeof h);
	h.json_line = on_json;
	h.text = on_text;
	h.reasoning_text = on_reasoning;
	h.tool_start = on_tool;
	h.tool_input = on_input;
	h.block_stop = on_block_stop;
	h.message_stop = on_stop;
	ha = h;
	ha.json_line = on_json_answer;
	buf_init(&stream, 1u << 22);
	while (off + 3 <= size) {
		size_t kind = data[off] % NKINDS, n = ((size_t)data[off + 1] << 8) | data[off + 2];

		off += 3;
		if (n > size - off)
			n = size - off;
		encode(&stream, kind, data + off, n);
		/* each payload is also a candidate Converse answer */
		memset(&e, 0, sizeof e);
		if (conv_parse_response(&ha, json, data + off, n, &e) < 0 && !e.cls)
			abort();
		off += n;
	}
	buf_init(&tr_fast, 1u << 24);
	buf_init(&tr_full, 1u << 24);
	rc = run(&h, json, 0, &stream, piece, &tr_fast, &e);
	rc_full = run(&h, json, 1, &stream, piece, &tr_full, &e_full);
	/* the fast path is an optimisation, never a behaviour */
	if (rc != rc_full || tr_fast.len != tr_full.len ||
	    (tr_fast.len && memcmp(tr_fast.p, tr_full.p, tr_fast.len) != 0) ||
	    (rc < 0 && (e.cls != e_full.cls || strcmp(e.msg, e_full.msg) != 0)))
		abort();
	run_anthropic(&stream, piece);
	buf_free(&tr_fast);
	buf_free(&tr_full);
	buf_free(&stream);
	return 0;
}
