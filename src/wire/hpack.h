/* hpack: HTTP/2 header compression (RFC 7541). No I/O, no allocation.
 *
 * Decoder. A header block (the payload of HEADERS plus its CONTINUATIONs,
 * assembled by wire/h2) is decoded one field at a time:
 *
 *     hpack_block_begin(&d, block, n);
 *     while ((r = hpack_next(&d, &f)) == 1)
 *         use(f.name, f.value);             // views, valid until the next call
 *     if (r == HPACK_E_LIST_SIZE) refuse the stream (the connection is fine);
 *     else if (r < 0) connection error COMPRESSION_ERROR (sticky);
 *
 * Always run a block to the end (0 or an error), even for a stream being
 * refused: the dynamic table is updated as fields are decoded, and a block
 * left half-way leaves the table out of step with the peer's encoder.
 * A field's name and value view the block itself (plain literals), the static
 * table, the dynamic table (indexed fields) or the caller's scratch buffer
 * (Huffman-coded strings, and names copied before an insertion could evict
 * them). The only bytes ever copied are those inserted into the dynamic table.
 *
 * The dynamic table lives inside the decoder: at most HPACK_TABLE_CAP bytes by
 * the RFC's accounting (name + value + 32 per entry). Its limit is the
 * SETTINGS_HEADER_TABLE_SIZE we advertise; size updates above it are errors,
 * and after hpack_decoder_set_limit lowers it below the table's current size
 * the next block must start with a size update (RFC 7541 section 4.2).
 *
 * Encoder. Fields are written as indexed (whole match in the static or the
 * dynamic table), or as literals with or without incremental indexing or
 * never indexed, as each field asks; names use static/dynamic indexes when
 * they can. Strings are Huffman-coded when that is shorter (option). */
#ifndef BROCK_HPACK_H
#define BROCK_HPACK_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct err;

#define HPACK_TABLE_CAP 4096        /* largest dynamic table kept (and the default setting) */
#define HPACK_ENTRY_OVERHEAD 32     /* RFC 7541 section 4.1 */
#define HPACK_MAX_ENTRIES (HPACK_TABLE_CAP / HPACK_ENTRY_OVERHEAD)
#define HPACK_STATIC_LEN 61         /* entries of the static table (Appendix A) */
#define HPACK_INT_MAX 0xffffffffu   /* largest integer accepted on the wire */

/* Errors (negative; hpack_strerror names them). All decoder errors but
 * HPACK_E_LIST_SIZE are sticky and mean COMPRESSION_ERROR for the connection. */
enum hpack_error {
	HPACK_E_TRUNCATED = -1,      /* block ends inside a representation */
	HPACK_E_INTEGER = -2,        /* integer above HPACK_INT_MAX or too many bytes */
	HPACK_E_INDEX = -3,          /* index 0 or beyond the static + dynamic table */
	HPACK_E_HUFF_EOS = -4,       /* Huffman string contains EOS */
	HPACK_E_HUFF_PADDING = -5,   /* padding longer than 7 bits or not all ones */
	HPACK_E_STRING_TOO_BIG = -6, /* a decoded string does not fit the scratch buffer */
	HPACK_E_SIZE_UPDATE = -7,    /* size update after a field, or missing when required */
	HPACK_E_SIZE_LIMIT = -8,     /* size update above the advertised limit */
	HPACK_E_LIST_SIZE = -9,      /* header list above the limit (block fully decoded) */
	HPACK_E_NOMEM = -10,         /* encoder: output buffer limit reached */
	HPACK_E_ARG = -11            /* bad argument (limit above HPACK_TABLE_CAP, ...) */
};

/* How a field is (to be) represented. The decoder reports it, the encoder
 * obeys it: NEVER for secrets (authorization, cookies) so no intermediary
 * indexes them. Zero is the safe default. */
enum hpack_rep {
	HPACK_REP_NOINDEX = 0, /* literal without indexing (or indexed: static match) */
	HPACK_REP_INDEX = 1,   /* may enter the dynamic table (incremental indexing) */
	HPACK_REP_NEVER = 2    /* literal never indexed */
};

struct hpack_field {
	struct slice name;
	struct slice value;
	int rep; /* enum hpack_rep */
};

/* The dynamic table: entry bytes oldest first in data[start..end), entry
 * descriptors in a ring. Private to hpack.c. */
struct hpack_table {
	uint8_t data[HPACK_TABLE_CAP];
	struct {
		uint16_t off, nlen, vlen;
	} ent[HPACK_MAX_ENTRIES];
	size_t first, count; /* ring: oldest entry, number of entries */
	size_t start, end;   /* live bytes in data */
	size_t size;         /* RFC size: sum of nlen + vlen + 32 */
	size_t max;          /* current maximum size (<= HPACK_TABLE_CAP) */
};

struct hpack_decoder {
	struct hpack_table t;
	size_t limit;    /* SETTINGS_HEADER_TABLE_SIZE we advertise */
	size_t max_list; /* header list size limit (sum of name + value + 32) */
	uint8_t *scratch;
	size_t scratch_cap;
	int need_update; /* the next block must start with a size update */
	int err;         /* sticky error, 0 while healthy */
	/* the block being decoded */
	const uint8_t *p;
	size_t n, off, list;
	int fields, over;
};

/* table_limit: the SETTINGS_HEADER_TABLE_SIZE we advertise (<= HPACK_TABLE_CAP),
 * taken as the table's size from the start, with no size update required.
 * Keep the protocol default 4096 there: a peer may encode its first block
 * before it has read our SETTINGS. max_list: header list size limit (what we
 * advertise as SETTINGS_MAX_HEADER_LIST_SIZE). scratch: where Huffman strings
 * are decoded, owned by the caller; give it max_list bytes and no field of an
 * acceptable list fails for lack of room. Returns 0 or HPACK_E_ARG. */
int hpack_decoder_init(struct hpack_decoder *d, size_t table_limit, size_t max_list,
		       uint8_t *scratch, size_t scratch_cap);
/* Call when the peer acknowledges a new SETTINGS_HEADER_TABLE_SIZE. */
int hpack_decoder_set_limit(struct hpack_decoder *d, size_t limit);

/* Starts decoding block p[0..n); p must stay valid until the block is done. */
void hpack_block_begin(struct hpack_decoder *d, const uint8_t *p, size_t n);
/* 1 with *f filled (views valid until the next call), 0 at the end of the
 * block, or a negative enum hpack_error. */
int hpack_next(struct hpack_decoder *d, struct hpack_field *f);

/* Dynamic table inspection (tests, debugging): the number of entries and the
 * RFC size; entry i (1 = newest) as name/value views. Returns 0 or HPACK_E_INDEX. */
size_t hpack_table_count(const struct hpack_table *t);
size_t hpack_table_size(const struct hpack_table *t);
int hpack_table_entry(const struct hpack_table *t, size_t i, struct slice *name,
		      struct slice *value);

struct hpack_encoder {
	struct hpack_table t;
	size_t update_min; /* smallest size since the last block (signalled first) */
	int update;        /* a size update is due at the next block */
	int huffman;       /* 1: Huffman-code strings when shorter (default 1) */
};

/* peer_setting: the peer's SETTINGS_HEADER_TABLE_SIZE (4096 until its SETTINGS
 * arrive); the table used is min(peer_setting, HPACK_TABLE_CAP), announced
 * by a size update in the first block when it is smaller. */
void hpack_encoder_init(struct hpack_encoder *e, uint32_t peer_setting);
/* The peer's SETTINGS_HEADER_TABLE_SIZE changed: the table is resized to
 * min(setting, HPACK_TABLE_CAP) and the next block starts with size updates. */
void hpack_encoder_set_peer_limit(struct hpack_encoder *e, uint32_t setting);
/* Appends one header block for fields f[0..n) to out. Returns 0, or
 * HPACK_E_NOMEM when out's limit is reached (out is then left as it was, but
 * the encoder's table may be ahead: treat it as fatal for the connection). */
int hpack_encode(struct hpack_encoder *e, struct buf *out, const struct hpack_field *f, size_t n);

/* Primitive representations (RFC 7541 section 5), for tests and fuzzing.
 * hpack_int_decode reads an integer with an n-bit prefix (1..8) from p[0..len):
 * returns the bytes used, or HPACK_E_TRUNCATED / HPACK_E_INTEGER. */
int hpack_int_decode(const uint8_t *p, size_t len, unsigned prefix, uint32_t *v);
/* Writes an integer with an n-bit prefix; first holds the bits above the
 * prefix. Returns the bytes written (at most 6), 0 when cap is too small. */
size_t hpack_int_encode(uint8_t *out, size_t cap, unsigned prefix, uint8_t first, uint32_t v);

/* Huffman code of Appendix B (hpack_huff.c). */
size_t hpack_huff_encoded_len(const uint8_t *p, size_t n);
/* Writes hpack_huff_encoded_len(p, n) bytes to out. */
void hpack_huff_encode(uint8_t *out, const uint8_t *p, size_t n);
/* Decodes in[0..n) into out[0..cap): 0 and *outlen, or HPACK_E_HUFF_EOS,
 * HPACK_E_HUFF_PADDING, HPACK_E_STRING_TOO_BIG. */
int hpack_huff_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);
/* The code of symbol sym (0..256) and its length in bits (tests). */
uint32_t hpack_huff_code(unsigned sym, unsigned *bits);

const char *hpack_strerror(int code);
/* Fills e (ERR_PROTO; ERR_OTHER for HPACK_E_NOMEM) with "hpack: <name>"; returns -1. */
int hpack_err(struct err *e, int code);

#endif
