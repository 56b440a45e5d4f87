/* converse_fast: the text-delta fast path (converse_fast.h). */
#include "bedrock/converse_fast.h"

#include "wire/json.h"

/* ---- the text-delta fast path ----
 * Nearly every event of a reply is a contentBlockDelta with a text piece:
 *     {"contentBlockIndex":N,"delta":{"text":"..."},"p":"..."}
 * Validating, tokenising and walking that costs thousands of instructions
 * per event for a few bytes of text. conv_fast_delta reads exactly this
 * shape in one pass (members in any order, "contentBlockIndex" and "p"
 * optional, JSON whitespace anywhere) with the validator's rules for the
 * strings, and gives up (returns 0, nothing done) on anything else: another
 * key, a key twice, an escaped key, an index that is not a small plain
 * integer, a "p" that is not a string, invalid JSON. The full path then runs
 * and decides, so the fast path only ever answers where the full path would
 * have given the same callbacks and the same JSON line (fuzz_converse checks
 * this differentially).
 * It earns its place end to end, not only in the decoder bench: `brock chat`
 * streaming 20,000 deltas spends 1.86 ms of CPU (user+sys) per 1,000 deltas
 * with it and 2.53 ms without (stdout to /dev/null; 2.70 vs 3.48 ms into a
 * pipe), 2.9 vs 8.5 million user-space instructions (callgrind): a quarter
 * of the process's CPU. Over HTTPS, with TLS decryption in every delta, 2.19
 * vs 3.04 ms (3.8 vs 9.4 million instructions). bench/chat_cpu.py measures
 * it again; the numbers and the machine are in bench/RESULTS.md. */

/* 1 for the bytes a string cannot hold as is: '"', '\\', controls, non-ASCII. */
#define CONV_R1 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define CONV_R0 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const uint8_t conv_special[256] = {
	CONV_R1, CONV_R1,                                         /* 0x00-0x1f */
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,           /* 0x20: '"' */
	CONV_R0, CONV_R0,                                         /* 0x30-0x4f */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,           /* 0x50: '\\' */
	CONV_R0, CONV_R0,                                         /* 0x60-0x7f */
	CONV_R1, CONV_R1, CONV_R1, CONV_R1, CONV_R1, CONV_R1, CONV_R1, CONV_R1,
};

/* Whether any of the 8 bytes at p is special. When no byte has its high bit
 * set, x - 0x20.., (x ^ '"') - 0x01.. and (x ^ '\\') - 0x01.. set a high bit
 * exactly when some byte is below 0x20, a quote or a backslash (a borrow
 * starts only at such a byte); a high bit in x itself is special anyway. */
static CONV_FAST_INLINE int conv_special8(const uint8_t *p)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t x;

	memcpy(&x, p, 8);
	return ((x | (x - ones * 0x20) | ((x ^ (ones * '"')) - ones) |
		 ((x ^ (ones * '\\')) - ones)) & high) != 0;
}

static int conv_is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static CONV_FAST_INLINE size_t conv_skip_ws(const uint8_t *p, size_t n, size_t i)
{
	if (i < n && p[i] > ' ')
		return i; /* the usual case: compact JSON */
	while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
		i++;
	return i;
}

/* The string whose opening quote is p[*pi], by json_validate's rules: 1 with
 * *pi just past the closing quote (*esc |= it has escapes), or 0. */
static int conv_fast_str(const uint8_t *p, size_t n, size_t *pi, int *esc)
{
	size_t i = *pi + 1, j;

	for (;;) {
		while (n - i >= 8 && !conv_special8(p + i))
			i += 8;
		while (i < n && !conv_special[p[i]])
			i++;
		if (i >= n)
			return 0;
		if (p[i] == '"') {
			*pi = i + 1;
			return 1;
		}
		if (p[i] == '\\') {
			if (i + 1 >= n)
				return 0;
			*esc = 1;
			switch (p[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u':
				if (n - i < 6 || !conv_is_hex(p[i + 2]) || !conv_is_hex(p[i + 3]) ||
				    !conv_is_hex(p[i + 4]) || !conv_is_hex(p[i + 5]))
					return 0;
				i += 6;
				continue;
			default:
				return 0;
			}
		}
		if (p[i] < 0x20)
			return 0;
		/* a UTF-8 sequence is made of bytes >= 0x80 only: checking the
		 * whole run at once is checking each sequence */
		for (j = i; j < n && p[j] >= 0x80; j++)
			;
		if (!json_utf8_valid(p + i, j - i, NULL))
			return 0;
		i = j;
	}
}

/* 1 when p[*pi] starts the key "name" (no escapes); *pi goes past it. */
static CONV_FAST_INLINE int conv_fast_key(const uint8_t *p, size_t n, size_t *pi, const char *name,
					  size_t len)
{
	size_t i = *pi;

	if (n - i < len + 2 || p[i] != '"' || !conv_fast_eq(p + i + 1, name, len) ||
	    p[i + 1 + len] != '"')
		return 0;
	*pi = i + len + 2;
	return 1;
}

struct conv_fast {
	size_t i0, i1; /* the index digits (i0 == i1: no index member) */
	size_t t0, t1; /* the text between its quotes */
	int idx, esc;
	int idx_first; /* the index member comes before "delta" (JSON mode order) */
};

/* {"text":"..."} at p[*pi] (whitespace allowed between the tokens). */
static int conv_fast_delta_obj(const uint8_t *p, size_t n, size_t *pi, struct conv_fast *f)
{
	size_t i = *pi;

	if (p[i] != '{')
		return 0;
	i = conv_skip_ws(p, n, i + 1);
	if (i >= n || !conv_fast_key(p, n, &i, "text", 4))
		return 0;
	i = conv_skip_ws(p, n, i);
	if (i >= n || p[i] != ':')
		return 0;
	i = conv_skip_ws(p, n, i + 1);
	if (i >= n || p[i] != '"')
		return 0;
	f->t0 = i + 1;
	if (!conv_fast_str(p, n, &i, &f->esc))
		return 0;
	f->t1 = i - 1;
	i = conv_skip_ws(p, n, i);
	if (i >= n || p[i] != '}')
		return 0;
	*pi = i + 1;
	return 1;
}

/* 0 or [1-9][0-9]* up to 1000000 (what conv_index takes as is). */
static int conv_fast_index(const uint8_t *p, size_t n, size_t *pi, struct conv_fast *f)
{
	size_t i = *pi;
	int v = 0;

	if (p[i] == '0') {
		i++;
	} else {
		while (i < n && p[i] >= '0' && p[i] <= '9' && i - *pi < 7)
			v = v * 10 + (p[i++] - '0');
	}
	if (i == *pi || v > 1000000)
		return 0;
	f->i0 = *pi;
	f->i1 = i;
	f->idx = v;
	*pi = i; /* a digit, '.', 'e' right after fails the ',' / '}' test */
	return 1;
}

/* Parses the payload; 1 when it has exactly the common shape. */
static int conv_fast_parse(const uint8_t *p, size_t n, struct conv_fast *f)
{
	size_t i = conv_skip_ws(p, n, 0);
	int seen_idx = 0, seen_delta = 0, seen_p = 0, esc = 0;

	f->i0 = f->i1 = 0;
	f->idx = f->esc = f->idx_first = 0;
	if (i >= n || p[i] != '{')
		return 0;
	for (;;) {
		i = conv_skip_ws(p, n, i + 1); /* past '{' or ',' */
		if (i >= n || p[i] != '"')
			return 0;
		if (!seen_idx && conv_fast_key(p, n, &i, "contentBlockIndex", 17)) {
			seen_idx = 1;
			f->idx_first = !seen_delta;
			i = conv_skip_ws(p, n, i);
			if (i >= n || p[i] != ':')
				return 0;
			i = conv_skip_ws(p, n, i + 1);
			if (i >= n || !conv_fast_index(p, n, &i, f))
				return 0;
		} else if (!seen_delta && conv_fast_key(p, n, &i, "delta", 5)) {
			seen_delta = 1;
			i = conv_skip_ws(p, n, i);
			if (i >= n || p[i] != ':')
				return 0;
			i = conv_skip_ws(p, n, i + 1);
			if (i >= n || !conv_fast_delta_obj(p, n, &i, f))
				return 0;
		} else if (!seen_p && conv_fast_key(p, n, &i, "p", 1)) {
			seen_p = 1;
			i = conv_skip_ws(p, n, i);
			if (i >= n || p[i] != ':')
				return 0;
			i = conv_skip_ws(p, n, i + 1);
			if (i >= n || p[i] != '"' || !conv_fast_str(p, n, &i, &esc))
				return 0;
		} else {
			return 0;
		}
		i = conv_skip_ws(p, n, i);
		if (i >= n)
			return 0;
		if (p[i] == '}')
			break;
		if (p[i] != ',')
			return 0;
	}
	return seen_delta && conv_skip_ws(p, n, i + 1) == n;
}

/* JSON mode: the line the full path writes for this payload. */
static int conv_fast_json(struct conv_stream *s, const uint8_t *p, const struct conv_fast *f,
			  struct err *e)
{
	struct buf *b = &s->scratch2;
	int bad = 0;

	buf_reset(b);
	bad |= buf_append_str(b, "{\"contentBlockDelta\":{");
	if (f->i1 > f->i0 && f->idx_first) {
		bad |= buf_append_str(b, "\"contentBlockIndex\":");
		bad |= buf_append(b, p + f->i0, f->i1 - f->i0);
		bad |= buf_append_byte(b, ',');
	}
	bad |= buf_append_str(b, "\"delta\":{\"text\":\"");
	bad |= buf_append(b, p + f->t0, f->t1 - f->t0);
	bad |= buf_append_str(b, "\"}");
	if (f->i1 > f->i0 && !f->idx_first) {
		bad |= buf_append_str(b, ",\"contentBlockIndex\":");
		bad |= buf_append(b, p + f->i0, f->i1 - f->i0);
	}
	bad |= buf_append_str(b, "}}\n");
	if (bad)
		return err_set(e, ERR_OTHER, "out of memory");
	return s->h.json_line(s->h.user, buf_slice(b), e);
}

/* 1 when the payload was handled here (r: its result), 0 to take the full path. */
int conv_fast_delta(struct conv_stream *s, const uint8_t *p, size_t n, int *r,
			   struct err *e)
{
	const struct conv_handler *h = &s->h;
	struct conv_fast f;
	struct slice v;

	if (s->no_fast || n > JSON_MAX_LEN || !conv_fast_parse(p, n, &f))
		return 0;
	v.p = p + f.t0;
	v.n = f.t1 - f.t0;
	if (f.esc) {
		/* rare enough: the string alone through the real reader, so
		 * decoding (and refusing lone surrogates) is the same code */
		struct json_tok tk;
		struct json_doc d;
		struct err e2;

		if (json_parse(&d, (const char *)p + f.t0 - 1, v.n + 2, &tk, 1, &e2) < 0 ||
		    json_str(&d, 0, &s->scratch, &v, &e2) < 0)
			return 0;
	}
	/* the order of the full path: the JSON line, then the callback */
	*r = 0;
	if (s->json_mode && h->json_line && conv_fast_json(s, p, &f, e) < 0)
		*r = -1;
	if (*r == 0 && h->text && v.n)
		*r = h->text(h->user, f.idx, v, e);
	return 1;
}
