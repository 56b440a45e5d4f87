/* json5: a JSON5 reader (https://spec.json5.org) that builds a flat tree of
 * nodes, each knowing its exact byte span in the source. The spans make
 * comment-preserving text edits possible (config.c). The parser does no I/O
 * and never copies the source; strings and keys are decoded on demand.
 *
 * Limits: J5_MAX_SIZE bytes of input, J5_MAX_DEPTH nesting, J5_MAX_NODES
 * values, J5_MAX_NUMLEN bytes for one number literal. Beyond them: an error.
 *
 * Accepted beyond strict JSON: // and block comments, unquoted ES5
 * identifier keys ($, _, \uXXXX escapes; any non-ASCII, non-space code point
 * counts as a letter), 'single-quoted' strings, all ES5 escapes and line
 * continuations, trailing commas, hex numbers, leading/trailing '.', leading
 * '+', Infinity and NaN, the ES5 white space set (BOM, NBSP, U+2028, ...).
 * Rejected on purpose: invalid UTF-8, lone surrogate escapes (a config value
 * cannot carry them), legacy octal escapes and numbers. */
#ifndef BROCK_JSON5_H
#define BROCK_JSON5_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define J5_MAX_SIZE (4u << 20)
#define J5_MAX_DEPTH 64
#define J5_MAX_NODES 262144u
#define J5_MAX_NUMLEN 256u
#define J5_NONE UINT32_MAX

enum j5_type { J5_NULL, J5_BOOL, J5_NUMBER, J5_STRING, J5_OBJECT, J5_ARRAY };

#define J5_F_MEMBER 1u /* the value of an object member: key_* are valid */

/* One value. Nodes are stored in document order (pre-order): the first child
 * of a container is at index+1, the next sibling at `next`. */
struct j5_node {
	uint8_t type;               /* enum j5_type */
	uint8_t flags;              /* J5_F_* */
	uint32_t start, end;        /* the value's bytes [start, end) */
	uint32_t key_start, key_end; /* the key as written, quotes included */
	uint32_t comma;             /* offset of the ',' after this item, or J5_NONE */
	uint32_t next;              /* one past this subtree */
	uint32_t parent;            /* J5_NONE for the root */
	uint32_t count;             /* children (containers) */
};

struct j5_doc {
	const char *src;
	size_t n;
	struct j5_node *nodes; /* nodes[0] is the root */
	uint32_t count, cap;
	/* on a parse error: position (1-based, columns count code points) */
	uint32_t err_line, err_col, err_off;
	char err_msg[128];
};

/* Parses src[0..n). On error fills e (ERR_USAGE, "LINE:COL: message") and
 * the err_* fields of d, and returns -1. j5_free releases d in every case. */
int j5_parse(struct j5_doc *d, const char *src, size_t n, struct err *e);
void j5_free(struct j5_doc *d);

/* True when src holds nothing but white space and comments (a blank file). */
int j5_is_blank(const char *src, size_t n);

/* Item span: where an object member (its key) or array element starts, and
 * where it ends including the following comma when there is one. */
uint32_t j5_item_start(const struct j5_doc *d, uint32_t i);
uint32_t j5_item_end(const struct j5_doc *d, uint32_t i);

/* Lookups; J5_NONE when absent or when the node has the wrong type. With
 * duplicate keys the last one wins (as in JavaScript). */
uint32_t j5_member(const struct j5_doc *d, uint32_t obj, const char *key, size_t keylen);
uint32_t j5_member_str(const struct j5_doc *d, uint32_t obj, const char *key);
uint32_t j5_elem(const struct j5_doc *d, uint32_t arr, size_t idx);

/* Decoded text of a string node or of a member's key, appended to out (UTF-8,
 * may contain NUL from \0 escapes). 0, or -1 when out is full. */
int j5_string(const struct j5_doc *d, uint32_t i, struct buf *out);
int j5_key(const struct j5_doc *d, uint32_t i, struct buf *out);
/* Compares a member's decoded key with key[0..keylen). */
int j5_key_eq(const struct j5_doc *d, uint32_t i, const char *key, size_t keylen);

/* The value of a number node (hex, Infinity and NaN included). 0 or -1. */
int j5_number(const struct j5_doc *d, uint32_t i, double *out);
/* True when a number node is written as plain JSON would write it. */
int j5_number_is_json(const struct j5_doc *d, uint32_t i);
/* 1 for true, 0 for false (bool nodes). */
int j5_bool(const struct j5_doc *d, uint32_t i);

/* A path into a document: dot and bracket notation,
 *   models.providers["amazon-bedrock"].baseUrl   a.b[0]   ['x.y']
 * Bracket strings take JSON5 string syntax (either quote, escapes). */
struct j5_seg {
	int is_index;
	size_t index;
	char *key; /* decoded, NUL-terminated, may contain NUL: use keylen */
	size_t keylen;
};

struct j5_path {
	struct j5_seg seg[J5_MAX_DEPTH];
	size_t n;
};

/* An empty expression is the empty path (the root). ERR_USAGE on bad syntax. */
int j5_path_parse(struct j5_path *p, const char *expr, struct err *e);
void j5_path_free(struct j5_path *p);
/* Writes the first `upto` segments in canonical form (identifier keys with
 * dots, others as ["..."]) into out, e.g. for error messages. */
int j5_path_format(const struct j5_path *p, size_t upto, struct buf *out);

/* Follows path from node `from`. Returns the node at the end of the path or
 * J5_NONE; *matched is the number of segments resolved and *last the deepest
 * node reached (both optional). */
uint32_t j5_lookup(const struct j5_doc *d, uint32_t from, const struct j5_path *p,
		   size_t *matched, uint32_t *last);

/* True when key[0..n) is an ASCII ES5 identifier (can be written unquoted). */
int j5_is_ident(const char *key, size_t n);

#endif
