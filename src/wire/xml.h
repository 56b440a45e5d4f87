/* xml: a tiny, safe pull reader for the XML that AWS query APIs (STS)
 * return: AssumeRoleResponse, AssumeRoleWithWebIdentityResponse,
 * ErrorResponse. Elements (namespace prefixes are kept in name, dropped in
 * local), attributes (checked for well-formedness, then skipped), text with
 * the five predefined entities and numeric character references, CDATA,
 * comments, processing instructions and the XML declaration.
 *
 * Refused (ERR_PROTO): any DTD (<!DOCTYPE ...>, so no entity can be
 * defined and none is ever fetched), unknown entities, control characters,
 * unclosed or mismatched tags, text or a second element outside the root,
 * nesting deeper than XML_MAX_DEPTH, documents over XML_MAX_DOC bytes.
 * No allocation: the reader is a small struct over the caller's bytes and
 * events are views into them. Never does I/O. */
#ifndef BROCK_XML_H
#define BROCK_XML_H

#include "base/buf.h"
#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define XML_MAX_DOC (1u << 20) /* bytes */
#define XML_MAX_DEPTH 32       /* open elements */

enum xml_type {
	XML_EOF = 0,
	XML_START = 1, /* <name ...> or <name .../> (then an XML_END follows) */
	XML_END = 2,
	XML_TEXT = 3,  /* raw character data: pass text to xml_decode() */
	XML_CDATA = 4  /* contents of <![CDATA[...]]>, taken literally */
};

struct xml_event {
	int type;          /* enum xml_type */
	int depth;         /* START/END: 1 for the root; TEXT/CDATA: of the parent */
	struct slice name; /* START/END: qualified name, e.g. "sts:Credentials" */
	struct slice local; /* START/END: the part after the prefix, "Credentials" */
	struct slice text; /* TEXT (undecoded, references already checked), CDATA */
};

struct xml_reader {
	const uint8_t *p;
	size_t n, pos;
	int depth;
	int state; /* internal: 0 fresh, 1 running, 2 root closed, 3 failed */
	int pending_end;
	struct slice open[XML_MAX_DEPTH]; /* names of the open elements */
};

void xml_init(struct xml_reader *r, const void *doc, size_t n);
/* Next event: 1 with *ev filled, 0 at the end of a well-formed document,
 * -1 (ERR_PROTO) on malformed input; the error is sticky. */
int xml_next(struct xml_reader *r, struct xml_event *ev, struct err *e);

/* Appends character data with references decoded and line ends normalised
 * ("\r\n" and "\r" become "\n"). out may be NULL to only check. Returns 0,
 * or -1: ERR_PROTO for a bad reference, ERR_PROTO "too long" when out's
 * limit is reached. */
int xml_decode(struct slice raw, struct buf *out, struct err *e);

/* The text of the first element reached by path, a NULL-terminated list of
 * local names from the root, e.g. {"AssumeRoleResponse",
 * "AssumeRoleResult", "Credentials", "AccessKeyId", NULL}. The element's
 * own character data (text and CDATA, not that of child elements) is
 * decoded and appended to out, untrimmed. The whole document is checked.
 * Returns 1 found, 0 no such element, -1 malformed (ERR_PROTO) or the
 * text is over out's limit. */
int xml_find_text(const void *doc, size_t n, const char *const *path, struct buf *out,
		  struct err *e);

#endif
