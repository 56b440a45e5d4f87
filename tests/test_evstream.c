/* test_evstream: the conformance vectors (decoded fields compared with the
 * JSON of tests/vectors/eventstream/decoded, negative vectors mapped to our
 * CRC errors), each fed whole, at every split point and byte by byte, several
 * messages back to back, encoder round trips, and malformed input of every
 * kind with correct CRCs so that the length and header checks are reached. */
#define JSMN_STATIC
#include "jsmn.h"

#include "base/base64.h"
#include "wire/crc32.h"
#include "base/err.h"
#include "wire/evstream.h"
#include "t.h"

#include <stdint.h>

#define VEC "tests/vectors/eventstream/"

static const char *const positive[] = {"all_headers", "empty_message", "int32_header",
				       "payload_no_headers", "payload_one_str_header"};
static const char *const negative[] = {"corrupted_header_len", "corrupted_headers",
				       "corrupted_length", "corrupted_payload"};

/* ------------------------------------------------------------ tiny JSON */

struct json {
	char *text;
	jsmntok_t tok[256];
	int n;
};

static int json_load(struct json *j, const char *path)
{
	jsmn_parser p;
	size_t len;

	j->text = t_slurp(path, &len);
	if (!j->text)
		return -1;
	jsmn_init(&p);
	j->n = jsmn_parse(&p, j->text, len, j->tok, 256);
	return j->n > 0 && j->tok[0].type == JSMN_OBJECT ? 0 : -1;
}

/* Index of the token after the value starting at i. */
static int json_skip(const struct json *j, int i)
{
	int k = j->tok[i].size, type = j->tok[i].type;

	i++;
	if (type == JSMN_OBJECT) {
		while (k--)
			i = json_skip(j, i + 1);
	} else if (type == JSMN_ARRAY) {
		while (k--)
			i = json_skip(j, i);
	}
	return i;
}

static int json_eq(const struct json *j, int i, const char *s)
{
	const jsmntok_t *t = &j->tok[i];
	size_t n = strlen(s);

	return (size_t)(t->end - t->start) == n && memcmp(j->text + t->start, s, n) == 0;
}

static int json_get(const struct json *j, int obj, const char *key)
{
	int i = obj + 1;

	for (int k = 0; k < j->tok[obj].size; k++) {
		if (json_eq(j, i, key))
			return i + 1;
		i = json_skip(j, i + 1);
	}
	return -1;
}

static int64_t json_int(const struct json *j, int i)
{
	return i < 0 ? INT64_MIN : strtoll(j->text + j->tok[i].start, NULL, 10);
}

/* Decodes the base64 string token i into out (at most cap bytes). */
static size_t json_b64(const struct json *j, int i, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (i < 0 || base64_decode(out, cap, j->text + j->tok[i].start,
				   (size_t)(j->tok[i].end - j->tok[i].start), 0, &n))
		return (size_t)-1;
	return n;
}

/* Every field of m against the decoded vector. */
static int msg_matches(const struct evs_msg *m, const struct json *j)
{
	uint8_t want[1024];
	struct evs_iter it;
	struct evs_header h;
	int hs = json_get(j, 0, "headers"), i;
	size_t n;

	if (m->total_length != json_int(j, json_get(j, 0, "total_length")) ||
	    m->headers_length != json_int(j, json_get(j, 0, "headers_length")) ||
	    m->prelude_crc != (uint32_t)json_int(j, json_get(j, 0, "prelude_crc")) ||
	    m->message_crc != (uint32_t)json_int(j, json_get(j, 0, "message_crc")))
		return 0;
	if (m->raw.n != m->total_length || m->headers.n != m->headers_length)
		return 0;
	n = json_b64(j, json_get(j, 0, "payload"), want, sizeof want);
	if (n == (size_t)-1 || n != m->payload.n || memcmp(want, m->payload.p, n) != 0)
		return 0;
	if (hs < 0 || j->tok[hs].type != JSMN_ARRAY)
		return 0;
	evs_iter_init(&it, m->headers);
	i = hs + 1;
	for (int k = 0; k < j->tok[hs].size; k++) {
		int v = json_get(j, i, "value"), type = (int)json_int(j, json_get(j, i, "type"));
		int nm = json_get(j, i, "name");
		if (evs_iter_next(&it, &h) != 1 || h.type != type || nm < 0)
			return 0;
		if ((size_t)(j->tok[nm].end - j->tok[nm].start) != h.name.n ||
		    memcmp(j->text + j->tok[nm].start, h.name.p, h.name.n) != 0)
			return 0;
		switch (type) {
		case EVS_BOOL_TRUE:
		case EVS_BOOL_FALSE:
			if (!json_eq(j, v, h.i ? "true" : "false") || h.i != (type == EVS_BOOL_TRUE))
				return 0;
			break;
		case EVS_BYTES:
		case EVS_STRING:
		case EVS_UUID:
			n = json_b64(j, v, want, sizeof want);
			if (n == (size_t)-1 || n != h.v.n || memcmp(want, h.v.p, n) != 0)
				return 0;
			break;
		default:
			if (h.i != json_int(j, v))
				return 0;
		}
		i = json_skip(j, i);
	}
	return evs_iter_next(&it, &h) == 0;
}

/* ------------------------------------------------------------ feeding */

struct want {
	struct json *json;  /* expected messages in order, or NULL */
	size_t njson;
	size_t got;          /* messages delivered */
	int bad;             /* a delivered message did not match */
	int zero_copy;       /* messages delivered as views of the input */
	const uint8_t *piece;
	size_t piece_n;
};

static void on_msg(struct want *w, const struct evs_msg *m)
{
	if (m->raw.p >= w->piece && m->raw.p < w->piece + w->piece_n)
		w->zero_copy++;
	if (w->json && (w->got >= w->njson || !msg_matches(m, &w->json[w->got])))
		w->bad = 1;
	w->got++;
}

/* Feeds in[0..n) cut at cuts[0..ncuts) (ascending), each piece in its own
 * exact-size allocation so that ASan sees any read beyond it. Returns the
 * final status: 0, or the error of evs_feed/evs_finish. */
static int feed_cuts(struct evs_decoder *d, const uint8_t *in, size_t n, const size_t *cuts,
		     size_t ncuts, struct want *w)
{
	size_t start = 0;

	for (size_t c = 0; c <= ncuts; c++) {
		size_t end = c < ncuts ? cuts[c] : n, len = end - start, used;
		uint8_t *piece = malloc(len ? len : 1);
		const uint8_t *p = piece;
		int r = 0;

		memcpy(piece, in + start, len);
		w->piece = piece;
		w->piece_n = len;
		while (len) {
			struct evs_msg m;
			r = evs_feed(d, p, len, &used, &m);
			if (used > len)
				r = -100;
			if (r < 0)
				break;
			p += used;
			len -= used;
			if (r == 1)
				on_msg(w, &m);
			else if (len) /* 0 must mean "all consumed" */
				r = -101;
		}
		free(piece);
		if (r < 0)
			return r;
		start = end;
	}
	return evs_finish(d);
}

enum { MODE_WHOLE = -1, MODE_BYTES = -2 };

/* mode: MODE_WHOLE, MODE_BYTES, or k >= 0 to cut once at k. */
static int feed_mode(const uint8_t *in, size_t n, long mode, struct want *w)
{
	struct evs_decoder d;
	size_t one = (size_t)mode, *cuts = NULL, ncuts = 0;
	int r;

	evs_init(&d, 0);
	if (mode >= 0) {
		cuts = &one;
		ncuts = 1;
	} else if (mode == MODE_BYTES && n > 1) {
		cuts = malloc((n - 1) * sizeof *cuts);
		for (size_t i = 1; i < n; i++)
			cuts[i - 1] = i;
		ncuts = n - 1;
	}
	r = feed_cuts(&d, in, n, cuts, ncuts, w);
	if (mode == MODE_BYTES)
		free(cuts);
	evs_free(&d);
	return r;
}

static uint8_t *load(const char *dir, const char *name, size_t *n)
{
	char path[256];

	snprintf(path, sizeof path, VEC "%s/%s", dir, name);
	return (uint8_t *)t_slurp(path, n);
}

static int load_json(struct json *j, const char *name)
{
	char path[256];

	snprintf(path, sizeof path, VEC "decoded/positive/%s", name);
	return json_load(j, path);
}

/* ------------------------------------------------------------ vectors */

static void test_positive_vectors(void)
{
	for (size_t v = 0; v < sizeof positive / sizeof positive[0]; v++) {
		struct json j;
		size_t n;
		uint8_t *in = load("encoded/positive", positive[v], &n);
		char name[128];

		if (!in || load_json(&j, positive[v]) != 0) {
			t_case(positive[v], 0);
			free(in);
			continue;
		}
		for (long mode = MODE_BYTES; mode <= (long)n; mode++) {
			struct want w = {&j, 1, 0, 0, 0, NULL, 0};
			int r = feed_mode(in, n, mode, &w);
			int ok = r == 0 && w.got == 1 && !w.bad;
			/* zero-copy exactly when the message lies whole in one piece */
			if (mode == MODE_WHOLE || mode == 0 || mode == (long)n)
				ok = ok && w.zero_copy == 1;
			else
				ok = ok && w.zero_copy == 0;
			snprintf(name, sizeof name, "%s mode %ld", positive[v], mode);
			t_case(name, ok);
		}
		free(j.text);
		free(in);
	}
}

static int expected_error(const char *name)
{
	char path[256];
	char *text;
	int code = 0;

	snprintf(path, sizeof path, VEC "decoded/negative/%s", name);
	text = t_slurp(path, NULL);
	if (!text)
		return 0;
	if (strstr(text, "Prelude checksum mismatch"))
		code = EVS_E_PRELUDE_CRC;
	else if (strstr(text, "Message checksum mismatch"))
		code = EVS_E_MESSAGE_CRC;
	free(text);
	return code;
}

static void test_negative_vectors(void)
{
	for (size_t v = 0; v < sizeof negative / sizeof negative[0]; v++) {
		size_t n;
		uint8_t *in = load("encoded/negative", negative[v], &n);
		int want = expected_error(negative[v]);
		char name[128];

		CHECK(want != 0);
		if (!in) {
			t_case(negative[v], 0);
			continue;
		}
		for (long mode = MODE_BYTES; mode <= (long)n; mode++) {
			struct want w = {NULL, 0, 0, 0, 0, NULL, 0};
			int r = feed_mode(in, n, mode, &w);
			snprintf(name, sizeof name, "%s mode %ld", negative[v], mode);
			if (r != want)
				fprintf(stderr, "  %s: got %d (%s), want %d\n", name, r,
					evs_strerror(r), want);
			t_case(name, r == want && w.got == 0);
		}
		free(in);
	}
	CHECK_STR(evs_strerror(EVS_E_PRELUDE_CRC), "prelude checksum mismatch");
	CHECK_STR(evs_strerror(EVS_E_MESSAGE_CRC), "message checksum mismatch");
}

static uint32_t xs = 0x9e3779b9u;
static uint32_t rnd(void)
{
	xs ^= xs << 13, xs ^= xs >> 17, xs ^= xs << 5;
	return xs;
}

/* All positive vectors back to back, then repeated three times: every split
 * point, byte by byte, and random splits. */
static void test_concatenated(void)
{
	enum { NV = sizeof positive / sizeof positive[0], REP = 3 };
	struct json j[NV * REP];
	struct buf all;
	size_t n;

	buf_init(&all, 1 << 20);
	for (size_t r = 0; r < REP; r++) {
		for (size_t v = 0; v < NV; v++) {
			uint8_t *in = load("encoded/positive", positive[v], &n);
			CHECK(in && buf_append(&all, in, n) == 0);
			CHECK(load_json(&j[r * NV + v], positive[v]) == 0);
			free(in);
		}
	}
	for (long mode = MODE_BYTES; mode <= (long)all.len; mode++) {
		struct want w = {j, NV * REP, 0, 0, 0, NULL, 0};
		char name[64];
		int r = feed_mode(all.p, all.len, mode, &w);
		snprintf(name, sizeof name, "concatenated mode %ld", mode);
		t_case(name, r == 0 && w.got == NV * REP && !w.bad);
	}
	for (int round = 0; round < 200; round++) {
		struct evs_decoder d;
		size_t cuts[400], nc = 0, at = 0;
		struct want w = {j, NV * REP, 0, 0, 0, NULL, 0};
		for (;;) {
			at += 1 + rnd() % 64;
			if (at >= all.len || nc == 400)
				break;
			cuts[nc++] = at;
		}
		evs_init(&d, 0);
		CHECK(feed_cuts(&d, all.p, all.len, cuts, nc, &w) == 0);
		CHECK(w.got == NV * REP && !w.bad);
		evs_free(&d);
	}
	for (size_t i = 0; i < NV * REP; i++)
		free(j[i].text);
	buf_free(&all);
}

/* Encoding the headers and payload of each decoded vector (read from the
 * JSON, not from our decoder) reproduces the vector bytes. */
static void test_encode_vectors(void)
{
	for (size_t v = 0; v < sizeof positive / sizeof positive[0]; v++) {
		struct json j;
		struct evs_header h[16];
		uint8_t vals[16][128], payload[256];
		size_t n, nh = 0, pn;
		uint8_t *in = load("encoded/positive", positive[v], &n);
		struct buf out;
		int hs, i, ok = 1;

		if (!in || load_json(&j, positive[v]) != 0) {
			t_case(positive[v], 0);
			free(in);
			continue;
		}
		hs = json_get(&j, 0, "headers");
		i = hs + 1;
		for (int k = 0; k < j.tok[hs].size && nh < 16; k++, nh++) {
			int nm = json_get(&j, i, "name"), val = json_get(&j, i, "value");
			int type = (int)json_int(&j, json_get(&j, i, "type"));
			h[nh].name.p = (const uint8_t *)j.text + j.tok[nm].start;
			h[nh].name.n = (size_t)(j.tok[nm].end - j.tok[nm].start);
			h[nh].type = type;
			h[nh].i = 0;
			h[nh].v.p = NULL;
			h[nh].v.n = 0;
			if (type == EVS_BYTES || type == EVS_STRING || type == EVS_UUID) {
				h[nh].v.n = json_b64(&j, val, vals[nh], sizeof vals[nh]);
				h[nh].v.p = vals[nh];
				ok = ok && h[nh].v.n != (size_t)-1;
			} else if (type > EVS_BOOL_FALSE) {
				h[nh].i = json_int(&j, val);
			}
			i = json_skip(&j, i);
		}
		pn = json_b64(&j, json_get(&j, 0, "payload"), payload, sizeof payload);
		buf_init(&out, 4096);
		CHECK(buf_append(&out, "x", 1) == 0); /* appends after what is there */
		ok = ok && pn != (size_t)-1 && evs_encode(&out, h, nh, payload, pn) == 0;
		t_case(positive[v], ok && out.len == n + 1 && memcmp(out.p + 1, in, n) == 0);
		buf_free(&out);
		free(j.text);
		free(in);
	}
}

/* ------------------------------------------------------------ malformed */

/* Builds a message with the given (possibly inconsistent) lengths and header
 * bytes, always with correct CRCs. Returns its size. */
static size_t mk(uint8_t *m, uint32_t total, uint32_t hl, const void *hdr, size_t hn,
		 const void *payload, size_t pn)
{
	size_t len = 12 + hn + pn + 4;
	uint32_t crc;

	for (int i = 0; i < 4; i++) {
		m[i] = (uint8_t)(total >> (24 - 8 * i));
		m[4 + i] = (uint8_t)(hl >> (24 - 8 * i));
	}
	crc = crc32_update(0, m, 8);
	for (int i = 0; i < 4; i++)
		m[8 + i] = (uint8_t)(crc >> (24 - 8 * i));
	if (hn)
		memcpy(m + 12, hdr, hn);
	if (pn)
		memcpy(m + 12 + hn, payload, pn);
	crc = crc32_update(0, m, len - 4);
	for (int i = 0; i < 4; i++)
		m[len - 4 + i] = (uint8_t)(crc >> (24 - 8 * i));
	return len;
}

/* A consistent message around a header block. */
static size_t mk_hdr(uint8_t *m, const void *hdr, size_t hn)
{
	return mk(m, (uint32_t)(16 + hn + 2), (uint32_t)hn, hdr, hn, "{}", 2);
}

/* Feeds m whole, at every split and byte by byte; each must give `want`. */
static void expect_all_modes(const char *what, const uint8_t *m, size_t n, int want)
{
	int ok = 1;

	for (long mode = MODE_BYTES; mode <= (long)n; mode++) {
		struct want w = {NULL, 0, 0, 0, 0, NULL, 0};
		int r;
		/* big inputs: every split near the ends, a sample in between */
		if (n > 1024 && mode > 300 && mode < (long)n - 300 && mode % 61)
			continue;
		r = feed_mode(m, n, mode, &w);
		if (r != want || (want < 0 && w.got != 0) || (want == 0 && w.got != 1)) {
			fprintf(stderr, "  %s mode %ld: got %d (%s), want %d\n", what, mode, r,
				evs_strerror(r), want);
			ok = 0;
			break;
		}
	}
	t_case(what, ok);
}

static void test_malformed_lengths(void)
{
	static uint8_t m[70000];
	size_t n;

	n = mk(m, 0, 0, NULL, 0, NULL, 0);
	expect_all_modes("total_length 0", m, n, EVS_E_LENGTH);
	n = mk(m, 15, 0, NULL, 0, NULL, 0);
	expect_all_modes("total_length 15", m, n, EVS_E_LENGTH);
	n = mk(m, 16, 0, NULL, 0, NULL, 0);
	expect_all_modes("total_length 16", m, n, 0);
	n = mk(m, EVS_MAX_MESSAGE + 1, 0, NULL, 0, NULL, 0);
	expect_all_modes("total_length 24MiB+1", m, 12, EVS_E_TOO_LARGE);
	n = mk(m, 0xffffffffu, 0, NULL, 0, NULL, 0);
	expect_all_modes("total_length 4GiB-1", m, 12, EVS_E_TOO_LARGE);
	n = mk(m, 20, 5, NULL, 0, "abcd", 4);
	expect_all_modes("headers_length total-15", m, n, EVS_E_LENGTH);
	n = mk(m, 20, 0xffffffffu, NULL, 0, "abcd", 4);
	expect_all_modes("headers_length 4GiB-1", m, n, EVS_E_LENGTH);
	n = mk(m, 16, 1, NULL, 0, NULL, 0);
	expect_all_modes("headers_length 1 in empty message", m, n, EVS_E_LENGTH);
	/* total_length larger than the bytes given: truncated at evs_finish */
	n = mk(m, 40, 0, NULL, 0, "abcd", 4);
	expect_all_modes("total_length beyond input", m, n, EVS_E_TRUNCATED);
	/* total_length shorter than the bytes: the CRC lands in the payload */
	n = mk(m, 18, 0, NULL, 0, "abcd", 4);
	expect_all_modes("total_length short", m, n, EVS_E_MESSAGE_CRC);
	/* prelude CRC wrong */
	n = mk(m, 20, 0, NULL, 0, "abcd", 4);
	m[11] ^= 1;
	expect_all_modes("prelude crc flipped", m, n, EVS_E_PRELUDE_CRC);
	m[11] ^= 1;
	m[n - 1] ^= 0x80;
	expect_all_modes("message crc flipped", m, n, EVS_E_MESSAGE_CRC);
	/* garbage that happens to be short */
	expect_all_modes("11 bytes", m, 11, EVS_E_TRUNCATED);
	expect_all_modes("1 byte", m, 1, EVS_E_TRUNCATED);
}

static void test_malformed_headers(void)
{
	static const struct {
		const char *what;
		const char *hdr;
		size_t n;
		int want;
	} c[] = {
		{"name length 0", "\x00\x07\x00\x01x", 5, EVS_E_HEADER_NAME},
		{"name overruns", "\x0a" "abc", 4, EVS_E_HEADER_TRUNCATED},
		{"no type byte", "\x03" "abc", 4, EVS_E_HEADER_TRUNCATED},
		{"type 10", "\x01" "a\x0a", 3, EVS_E_HEADER_TYPE},
		{"type 255", "\x01" "a\xff", 3, EVS_E_HEADER_TYPE},
		{"byte missing", "\x01" "a\x02", 3, EVS_E_HEADER_TRUNCATED},
		{"int16 short", "\x01" "a\x03\x00", 4, EVS_E_HEADER_TRUNCATED},
		{"int32 short", "\x01" "a\x04\x00\x00\x00", 6, EVS_E_HEADER_TRUNCATED},
		{"int64 short", "\x01" "a\x05\x00\x00\x00\x00\x00\x00\x00", 10, EVS_E_HEADER_TRUNCATED},
		{"timestamp short", "\x01" "a\x08\x00\x00\x00", 6, EVS_E_HEADER_TRUNCATED},
		{"uuid short", "\x01" "a\x09" "0123456789abcde", 18, EVS_E_HEADER_TRUNCATED},
		{"string len missing", "\x01" "a\x07", 3, EVS_E_HEADER_TRUNCATED},
		{"string len half", "\x01" "a\x07\x00", 4, EVS_E_HEADER_TRUNCATED},
		{"string overruns", "\x01" "a\x07\x00\x05" "abcd", 8, EVS_E_HEADER_TRUNCATED},
		{"bytes overruns", "\x01" "a\x06\x00\x01", 5, EVS_E_HEADER_TRUNCATED},
		{"string 32768", "\x01" "a\x07\x80\x00" "abcd", 8, EVS_E_HEADER_VALUE},
		{"bytes 65535", "\x01" "a\x06\xff\xff" "abcd", 8, EVS_E_HEADER_VALUE},
		{"good then zero name", "\x01" "a\x00\x00", 4, EVS_E_HEADER_NAME},
		{"good then stray byte", "\x01" "a\x01\x05", 4, EVS_E_HEADER_TRUNCATED},
		{"two good", "\x01" "a\x00\x01" "b\x02\x7f", 7, 0},
		{"empty string", "\x01" "a\x07\x00\x00", 5, 0},
	};
	uint8_t m[256];

	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		size_t n = mk_hdr(m, c[i].hdr, c[i].n);
		expect_all_modes(c[i].what, m, n, c[i].want);
	}
}

/* Value limits at their edges, 255-byte names, and the 24 MiB message. */
static void test_limits(void)
{
	static uint8_t hdr[2 + 255 + 1 + 2 + 32768], m[sizeof hdr + 64];
	struct evs_decoder d;
	struct evs_msg msg;
	struct buf out;
	size_t n, used;

	hdr[0] = 255;
	memset(hdr + 1, 'n', 255);
	hdr[256] = EVS_STRING;
	hdr[257] = 0x7f;
	hdr[258] = 0xff;
	memset(hdr + 259, 's', 32767);
	n = mk_hdr(m, hdr, 259 + 32767);
	expect_all_modes("name 255 string 32767", m, n, 0);
	hdr[257] = 0x80;
	hdr[258] = 0x00;
	memset(hdr + 259, 's', 32768);
	n = mk_hdr(m, hdr, 259 + 32768);
	evs_init(&d, 0);
	CHECK(evs_feed(&d, m, n, &used, &msg) == EVS_E_HEADER_VALUE);
	evs_free(&d);

	/* exactly 24 MiB decodes, whole and split; one more byte does not */
	buf_init(&out, EVS_MAX_MESSAGE);
	{
		uint8_t *payload = calloc(1, EVS_MAX_MESSAGE);
		struct evs_header h = evs_hdr_string(":event-type", "big");
		size_t pn = EVS_MAX_MESSAGE - 16 - (1 + 11 + 1 + 2 + 3);
		CHECK(evs_encode(&out, &h, 1, payload, pn + 1) == EVS_E_TOO_LARGE);
		CHECK(out.len == 0);
		CHECK(evs_encode(&out, &h, 1, payload, pn) == 0);
		CHECK(out.len == EVS_MAX_MESSAGE);
		free(payload);
	}
	evs_init(&d, 0);
	CHECK(evs_feed(&d, out.p, out.len, &used, &msg) == 1 && used == out.len);
	CHECK(msg.raw.p == out.p && msg.payload.n == out.len - 34);
	CHECK(evs_feed(&d, out.p, 100, &used, &msg) == 0 && used == 100);
	CHECK(evs_buffered(&d) == 100);
	CHECK(evs_feed(&d, out.p + 100, out.len - 100, &used, &msg) == 1);
	CHECK(used == out.len - 100 && msg.raw.p != out.p && msg.raw.n == out.len);
	CHECK(slice_eq_str(evs_msg_str(&msg, ":event-type"), "big"));
	CHECK(evs_finish(&d) == 0);
	evs_free(&d);

	/* a smaller limit given at init */
	evs_init(&d, 45);
	{
		size_t vn;
		uint8_t *in = load("encoded/positive", "int32_header", &vn); /* 45 bytes */
		CHECK(in && vn == 45);
		if (in) {
			CHECK(evs_feed(&d, in, vn, &used, &msg) == 1);
			evs_free(&d);
			evs_init(&d, 44);
			CHECK(evs_feed(&d, in, vn, &used, &msg) == EVS_E_TOO_LARGE);
		}
		free(in);
	}
	evs_free(&d);
	buf_free(&out);
}

static void test_sticky_and_reset(void)
{
	struct evs_decoder d;
	struct evs_msg m;
	uint8_t good[64], bad[64];
	size_t gn, bn, used;
	struct err e;

	gn = mk(good, 20, 0, NULL, 0, "abcd", 4);
	bn = mk(bad, 20, 0, NULL, 0, "abcd", 4);
	bad[15] ^= 1;
	evs_init(&d, 0);
	CHECK(evs_feed(&d, bad, bn, &used, &m) == EVS_E_MESSAGE_CRC);
	CHECK(used == 0);
	CHECK(evs_feed(&d, good, gn, &used, &m) == EVS_E_MESSAGE_CRC);
	CHECK(evs_feed(&d, good, 0, &used, &m) == EVS_E_MESSAGE_CRC);
	CHECK(evs_finish(&d) == EVS_E_MESSAGE_CRC);
	evs_reset(&d);
	CHECK(evs_feed(&d, good, gn, &used, &m) == 1 && used == gn);
	/* an error found while gathering a split message is sticky too */
	CHECK(evs_feed(&d, bad, 13, &used, &m) == 0 && used == 13);
	CHECK(evs_feed(&d, bad + 13, bn - 13, &used, &m) == EVS_E_MESSAGE_CRC);
	CHECK(evs_feed(&d, good, gn, &used, &m) == EVS_E_MESSAGE_CRC);
	evs_reset(&d);
	CHECK(evs_feed(&d, good, 5, &used, &m) == 0 && evs_buffered(&d) == 5);
	CHECK(evs_finish(&d) == EVS_E_TRUNCATED);
	CHECK(evs_feed(&d, good + 5, gn - 5, &used, &m) == EVS_E_TRUNCATED);
	evs_free(&d);

	CHECK(evs_err(&e, EVS_E_PRELUDE_CRC) == -1);
	CHECK(e.cls == ERR_PROTO);
	CHECK_STR(e.msg, "event stream: prelude checksum mismatch");
	evs_err(&e, EVS_E_NOMEM);
	CHECK(e.cls == ERR_OTHER);
	for (int c = 0; c >= -10; c--)
		CHECK(strcmp(evs_strerror(c), "unknown event stream error") != 0);
	CHECK_STR(evs_strerror(-11), "unknown event stream error");
	CHECK_STR(evs_strerror(1), "unknown event stream error");
}

/* Two messages in one buffer come out one per call, as views; the view of a
 * gathered message stays valid until the next call. */
static void test_consumed_and_views(void)
{
	struct evs_decoder d;
	struct evs_msg m;
	uint8_t two[128];
	size_t a, b, used;

	a = mk(two, 20, 0, NULL, 0, "abcd", 4);
	b = mk(two + a, 18, 0, NULL, 0, "xy", 2);
	evs_init(&d, 0);
	CHECK(evs_feed(&d, two, a + b, &used, &m) == 1 && used == a);
	CHECK(m.raw.p == two && slice_eq_str(m.payload, "abcd"));
	CHECK(evs_feed(&d, two + a, b, &used, &m) == 1 && used == b);
	CHECK(m.raw.p == two + a && slice_eq_str(m.payload, "xy"));
	CHECK(evs_feed(&d, two, 0, &used, &m) == 0 && used == 0);
	/* split: first part gathered, the rest completes it and stops there */
	CHECK(evs_feed(&d, two, a - 1, &used, &m) == 0 && used == a - 1);
	CHECK(evs_feed(&d, two + a - 1, b + 1, &used, &m) == 1 && used == 1);
	CHECK(slice_eq_str(m.payload, "abcd") && m.raw.p != two);
	CHECK(evs_buffered(&d) == 0 && evs_finish(&d) == 0);
	CHECK(evs_feed(&d, two + a, b, &used, &m) == 1 && used == b && m.raw.p == two + a);
	evs_free(&d);
}

static void test_header_access(void)
{
	static const uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct evs_header h[] = {
		evs_hdr_string(":message-type", "event"),
		evs_hdr_string(":event-type", "contentBlockDelta"),
		evs_hdr_int("t", EVS_BOOL_TRUE, 0),
		evs_hdr_int("f", EVS_BOOL_FALSE, 0),
		evs_hdr_int("b", EVS_BYTE, -128),
		evs_hdr_int("s", EVS_INT16, -1),
		evs_hdr_int("i", EVS_INT32, INT32_MIN),
		evs_hdr_int("l", EVS_INT64, INT64_MIN),
		evs_hdr_int("L", EVS_INT64, INT64_MAX),
		evs_hdr_int("ts", EVS_TIMESTAMP, -1000),
		evs_hdr_bytes("u", EVS_UUID, uuid, 16),
		evs_hdr_bytes("raw", EVS_BYTES, "\0\1", 2),
	};
	static const int64_t ivals[] = {0, 0, 1, 0, -128, -1, INT32_MIN, INT64_MIN, INT64_MAX, -1000,
					0, 0};
	struct evs_decoder d;
	struct evs_msg m;
	struct evs_header g;
	struct evs_iter it;
	struct buf out;
	size_t used, k = 0;

	buf_init(&out, 4096);
	CHECK(evs_encode(&out, h, sizeof h / sizeof h[0], "{}", 2) == 0);
	evs_init(&d, 0);
	CHECK(evs_feed(&d, out.p, out.len, &used, &m) == 1);
	CHECK(slice_eq_str(evs_msg_str(&m, ":message-type"), "event"));
	CHECK(slice_eq_str(evs_msg_str(&m, ":event-type"), "contentBlockDelta"));
	CHECK(evs_msg_str(&m, ":exception-type").p == NULL);
	CHECK(evs_msg_str(&m, "i").p == NULL); /* not a string */
	CHECK(slice_eq(evs_msg_str(&m, "raw"), (struct slice){(const uint8_t *)"\0\1", 2}));
	CHECK(evs_msg_header(&m, "ts", &g) == 1 && g.type == EVS_TIMESTAMP && g.i == -1000);
	CHECK(evs_msg_header(&m, ":message", &g) == 0); /* prefix is not a match */
	evs_iter_init(&it, m.headers);
	while (evs_iter_next(&it, &g) == 1) {
		CHECK(k < sizeof h / sizeof h[0]);
		if (k >= sizeof h / sizeof h[0])
			break;
		CHECK(slice_eq(g.name, h[k].name) && g.type == h[k].type);
		if (g.type != EVS_STRING && g.type != EVS_BYTES && g.type != EVS_UUID)
			CHECK(g.i == ivals[k]);
		else
			CHECK(slice_eq(g.v, h[k].v));
		k++;
	}
	CHECK(k == sizeof h / sizeof h[0]);
	evs_free(&d);
	buf_free(&out);
}

static void test_encode_errors(void)
{
	static char name256[257], val[32769];
	struct buf out;
	struct evs_header h;

	memset(name256, 'n', 256);
	memset(val, 'v', 32768);
	buf_init(&out, 40000);
	CHECK(buf_append_str(&out, "keep") == 0);
	h = evs_hdr_string("", "x");
	CHECK(evs_encode(&out, &h, 1, NULL, 0) == EVS_E_HEADER_NAME);
	h = evs_hdr_string(name256, "x");
	CHECK(evs_encode(&out, &h, 1, NULL, 0) == EVS_E_HEADER_NAME);
	h = evs_hdr_string("a", val);
	CHECK(evs_encode(&out, &h, 1, NULL, 0) == EVS_E_HEADER_VALUE);
	h = evs_hdr_bytes("u", EVS_UUID, "0123456789abcde", 15);
	CHECK(evs_encode(&out, &h, 1, NULL, 0) == EVS_E_HEADER_VALUE);
	h = evs_hdr_int("a", 10, 0);
	CHECK(evs_encode(&out, &h, 1, NULL, 0) == EVS_E_HEADER_TYPE);
	h = evs_hdr_int("a", -1, 0);
	CHECK(evs_encode(&out, &h, 1, NULL, 0) == EVS_E_HEADER_TYPE);
	CHECK(out.len == 4 && strcmp((char *)out.p, "keep") == 0);
	name256[255] = 0;
	val[32767] = 0;
	h = evs_hdr_string(name256, val);
	CHECK(evs_encode(&out, &h, 1, NULL, 0) == 0);
	CHECK(out.len == 4 + 16 + 2 + 255 + 2 + 32767);
	/* output limit */
	buf_free(&out);
	buf_init(&out, 20);
	CHECK(evs_encode(&out, NULL, 0, "abcd", 4) == 0); /* exactly 20 */
	CHECK(evs_encode(&out, NULL, 0, NULL, 0) == EVS_E_NOMEM);
	CHECK(out.len == 20);
	buf_free(&out);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_positive_vectors);
	T_RUN(test_negative_vectors);
	T_RUN(test_concatenated);
	T_RUN(test_encode_vectors);
	T_RUN(test_malformed_lengths);
	T_RUN(test_malformed_headers);
	T_RUN(test_limits);
	T_RUN(test_sticky_and_reset);
	T_RUN(test_consumed_and_views);
	T_RUN(test_header_access);
	T_RUN(test_encode_errors);
	return t_done(argv[0]);
}
