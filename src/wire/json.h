/* json: strict RFC 8259 JSON for the wire. A reader (json.c: validation and
 * tokens in one pass; json_get.c: navigation and typed getters) and a writer
 * (json_write.c: struct jw over a buf).
 *
 * Reader. json_parse checks the whole input strictly (grammar, numbers,
 * literals, escapes, control characters, UTF-8 everywhere, nesting depth,
 * exactly one value with optional surrounding whitespace) and writes the
 * tokens into a caller-owned array in the same pass; the tokens have jsmn's
 * layout (jsmntok_t with parent links, the last field holding next-sibling
 * links instead). Nothing is reported until the whole input has been checked.
 * It never allocates (only json_parse_alloc does, exactly once). The document
 * keeps pointers into the caller's text: the text must outlive the doc.
 * Tokens are addressed by int index (0 = the root); every navigation function
 * returns -1 for "absent" and accepts -1 as input (returning -1 / JSON_NONE /
 * an error), so lookups chain without checks in between:
 *     int d = json_get(&doc, 0, "delta");
 *     int t = json_get(&doc, d, "text");            or json_path(&doc, 0, "delta.text")
 * Objects: a member is a key token (a string) immediately followed by its
 * value token (key + 1). Iterating children (keys of an object, elements of an
 * array) is O(1) per step through next-sibling links:
 *     for (int k = json_child(&doc, obj); k >= 0; k = json_next(&doc, k))
 *         ... key k, value k + 1 ...
 * Strings with lone surrogate escapes (\ud800) are accepted by json_parse (the
 * RFC grammar allows them) but fail to decode.
 *
 * Writer. jw_* calls append to a struct buf; commas are automatic, misuse
 * (value without key in an object, unbalanced end, too deep), invalid UTF-8 in
 * a string, NaN/Inf and the buf limit are sticky errors reported once by
 * jw_finish. Strings are validated UTF-8; `"` `\` and control characters are
 * escaped (\n \t \r \b \f, else \u00XX), U+2028/U+2029 become \u2028/\u2029,
 * everything else is written raw.
 *
 * Limits: input <= JSON_MAX_LEN bytes, nesting <= JSON_MAX_DEPTH (reader and
 * writer), tokens <= the array given (or max_tok for json_parse_alloc). */
#ifndef BROCK_JSON_H
#define BROCK_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct err;

#define JSON_MAX_LEN (1u << 30) /* jsmn keeps offsets in int */
#define JSON_MAX_DEPTH 256      /* containers nested in one another */

enum json_type {
	JSON_NONE = 0, /* absent (index -1) */
	JSON_OBJECT = 1,
	JSON_ARRAY = 2,
	JSON_STRING = 3,
	JSON_NUMBER = 4,
	JSON_BOOL = 5,
	JSON_NULL = 6
};

/* One token. Read-only for callers; prefer the accessors below. The layout is
 * jsmn's (jsmntok_t with JSMN_PARENT_LINKS, checked in json.c); type is
 * refined (number/bool/null for jsmn's "primitive") and the last field links
 * siblings instead of parents. */
struct json_tok {
	int type;  /* enum json_type */
	int start; /* byte offset of the first byte (strings: after the quote) */
	int end;   /* byte offset after the last byte (strings: of the quote) */
	int size;  /* object: members; array: elements; key string: 1; else 0 */
	int next;  /* next sibling in the parent (for a member value: the next
		    * key), or -1 */
};

struct json_doc {
	const char *js; /* the text (not owned) */
	size_t len;
	struct json_tok *tok;
	int ntok;       /* tokens used (the root is tok[0]) */
	int cap;        /* tokens available */
	int owned;      /* tok was allocated by json_parse_alloc */
	size_t errpos;  /* byte offset of the last parse error */
};

/* Checks that js[0..len) is one valid JSON text; *ntok (may be NULL) gets the
 * number of tokens json_parse will need. Errors are ERR_PROTO, with the byte
 * offset in the message ("json: unexpected character at byte 7"). */
int json_validate(const char *js, size_t len, int *ntok, size_t *errpos, struct err *e);

/* Validates and tokenises into tok[0..cap) in one pass. Returns 0, or -1 with
 * ERR_PROTO (invalid JSON, or more than cap tokens needed: "json: too many
 * tokens (N needed, limit cap)"; a syntax error anywhere wins). On failure
 * tok[] may have been written to but the doc holds no tokens. Callers that want another
 * class (credential_process output -> ERR_CREDS) overwrite e->cls. */
int json_parse(struct json_doc *d, const char *js, size_t len, struct json_tok *tok, int cap,
	       struct err *e);

/* The same with a token array sized exactly (one malloc), refusing documents
 * that need more than max_tok tokens. Free with json_doc_free. */
int json_parse_alloc(struct json_doc *d, const char *js, size_t len, int max_tok, struct err *e);
void json_doc_free(struct json_doc *d); /* frees an owned array; safe on any parsed doc */

/* ---- navigation (t = token index; -1 in, -1 out) ---- */
int json_type(const struct json_doc *d, int t);  /* enum json_type; JSON_NONE for -1 */
int json_size(const struct json_doc *d, int t);  /* members/elements; 0 for scalars, -1 */
int json_child(const struct json_doc *d, int t); /* first key/element, or -1 (empty, scalar) */
int json_next(const struct json_doc *d, int t);  /* next sibling, or -1 */
int json_at(const struct json_doc *d, int arr, size_t idx);         /* idx-th element */
int json_get(const struct json_doc *d, int obj, const char *key);   /* value of member */
int json_getn(const struct json_doc *d, int obj, const char *key, size_t klen);
/* Dotted path from t: "a.b[2].c", "[0].id", "" = t itself. Keys containing
 * '.' or '[' need json_get. Returns -1 when absent or the path is malformed. */
int json_path(const struct json_doc *d, int t, const char *path);
/* Keys only, NULL-terminated: json_getv(&doc, 0, "delta", "text", (char *)NULL). */
int json_getv(const struct json_doc *d, int t, ...);

/* The exact source bytes of t: strings without their quotes (still escaped),
 * containers including their brackets. Empty slice for -1. */
struct slice json_raw(const struct json_doc *d, int t);
/* Like json_raw but a string keeps its quotes: always a valid JSON value. */
struct slice json_raw_value(const struct json_doc *d, int t);

/* ---- typed getters: 0 on success, -1 (ERR_PROTO) for a wrong type, a bad
 * value, or -1 input ---- */

/* Zero-copy view of a string without escapes: returns 0 and sets *out;
 * returns 1 if the string has escapes (decode it), -1 if t is not a string. */
int json_str_view(const struct json_doc *d, int t, struct slice *out);
/* Appends the decoded UTF-8 of a string to out (escapes, \uXXXX, surrogate
 * pairs; a lone surrogate is an error; \u0000 gives a NUL byte). */
int json_str_decode(const struct json_doc *d, int t, struct buf *out, struct err *e);
/* View when possible, else decodes into *scratch (reset first) and points
 * *out into it. The view is valid while doc text and scratch are. */
int json_str(const struct json_doc *d, int t, struct buf *scratch, struct slice *out,
	     struct err *e);
/* Decodes into dst[0..cap) as a C string; error if it does not fit or
 * contains a NUL. */
int json_strz(const struct json_doc *d, int t, char *dst, size_t cap, struct err *e);
/* 1 if t is a string equal (after decoding) to s, else 0. Decodes nothing
 * when the token has no escapes. */
int json_str_eq(const struct json_doc *d, int t, const char *s);
int json_str_eqn(const struct json_doc *d, int t, const char *s, size_t n);

/* Integer syntax only (no fraction or exponent), range-checked. */
int json_int64(const struct json_doc *d, int t, int64_t *out, struct err *e);
/* Any number; error if it overflows to infinity. */
int json_double(const struct json_doc *d, int t, double *out, struct err *e);
int json_bool(const struct json_doc *d, int t, int *out, struct err *e);
int json_is_null(const struct json_doc *d, int t); /* 1 / 0 */

/* 1 if s[0..n) is valid UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF); *bad (may be NULL) gets the first bad offset. */
int json_utf8_valid(const void *s, size_t n, size_t *bad);
/* Length of the valid UTF-8 sequence at p[0..n) (n >= 1), or 0. When the
 * bytes are a valid prefix cut short by n, *trunc is set (the writer then
 * waits for the next piece). */
size_t json_utf8_seq(const uint8_t *p, size_t n, int *trunc);
/* A byte a JSON string holds as is: not a control, quote, backslash or
 * non-ASCII byte (the fast path of every string loop). */
static inline int json_plain_byte(uint8_t c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* ---- writer ---- */

enum jw_error {
	JW_OK = 0,
	JW_E_NOMEM,  /* the buf limit (or memory) */
	JW_E_UTF8,   /* invalid UTF-8 in a string or key (ERR_USAGE) */
	JW_E_NUMBER, /* NaN or infinity */
	JW_E_DEPTH,  /* deeper than the depth limit */
	JW_E_STATE,  /* misuse: value where a key is due, unbalanced end, ... */
	JW_E_RAW     /* jw_raw given something that is not one JSON value */
};

struct jw {
	struct buf *b;
	int error;       /* enum jw_error, sticky */
	size_t errpos;   /* JW_E_UTF8: offset in the string; JW_E_RAW: in the raw text */
	int depth;
	int max_depth;   /* <= JSON_MAX_DEPTH */
	int first;       /* nothing written yet in the current container */
	int after_key;   /* a key was written, its value is due */
	int in_str;      /* between jw_str_begin and jw_str_end */
	int done;        /* a complete top-level value was written */
	size_t str_off;  /* bytes of the current string seen so far */
	uint8_t pend[4]; /* a UTF-8 sequence split across pieces */
	uint8_t npend;
	uint8_t stack[JSON_MAX_DEPTH / 8]; /* 1 bit per level: 1 = object */
};

/* Appends to b (existing content kept). Depth limit JSON_MAX_DEPTH. */
void jw_init(struct jw *w, struct buf *b);
void jw_set_max_depth(struct jw *w, int max_depth);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_keyn(struct jw *w, const char *k, size_t n);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_strn(struct jw *w, const void *s, size_t n);
/* A string from pieces, without an intermediate copy; a UTF-8 sequence may be
 * split between pieces. */
void jw_str_begin(struct jw *w);
void jw_str_piece(struct jw *w, const void *s, size_t n);
void jw_str_end(struct jw *w);
/* A string from text that may hold invalid UTF-8 (messages carrying bytes from
 * elsewhere): each bad byte becomes '?' instead of failing the document. */
void jw_str_lossy(struct jw *w, const char *s);
void jw_int(struct jw *w, int64_t v);
void jw_double(struct jw *w, double v); /* shortest repr that reads back exactly */
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* One JSON value given as text; it is validated (JW_E_RAW if not valid). */
void jw_raw(struct jw *w, const void *json, size_t n);
/* Copies token t of a parsed doc (its source span, no re-validation). */
void jw_tok(struct jw *w, const struct json_doc *d, int t);
/* Key + value shorthands. */
void jw_kstr(struct jw *w, const char *k, const char *v);
void jw_kstrn(struct jw *w, const char *k, const void *v, size_t n);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kbool(struct jw *w, const char *k, int v);

/* 0 if everything written is one complete, balanced value and no error
 * occurred; else -1 with the first error: ERR_USAGE for JW_E_UTF8, ERR_OTHER
 * otherwise ("json writer: invalid UTF-8 in string at byte 12"). */
int jw_finish(const struct jw *w, struct err *e);
const char *jw_strerror(int code);

#endif
