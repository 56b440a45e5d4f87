/* fuzz_aws_error: the decoder of AWS error answers (aws_decode_error: the
 * x-amzn-ErrorType and message headers, a JSON or XML body, SPEC 3.3) and
 * the classifiers that read its result (credentials, clock skew, retry).
 * Input: byte 0 sizes the two destinations (low 4 bits: type, 8 bytes a step;
 * high 4 bits: message, 32 bytes a step; 0 is a real case: nothing may be
 * read or written), then "type header NUL message header NUL body" (a missing
 * part: no header, no body). Oracles: what is written fits (exact-size
 * buffers), is one printable line with no leading, trailing or doubled space,
 * a type holds no '#' or ':' (namespaces and URLs are cut off), and nothing
 * in gives nothing out. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"

static void must(int cond)
{
	if (!cond)
		abort();
}

static void one_line(const char *s, size_t cap, int is_type)
{
	const char *z = memchr(s, 0, cap);
	size_t n;

	must(z != NULL);
	n = (size_t)(z - s);
	must(n == 0 || (s[0] != ' ' && s[n - 1] != ' '));
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		must(c >= 0x20 && c != 0x7f);
		must(c != ' ' || s[i + 1] != ' ');
		must(!is_type || (c != '#' && c != ':'));
	}
}

/* The next NUL-terminated part of [*p, end), or NULL when none is left. */
static char *part(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *z;
	char *s;

	if (*p >= end)
		return NULL;
	z = memchr(*p, 0, (size_t)(end - *p));
	if (!z)
		return NULL;
	s = malloc((size_t)(z - *p) + 1);
	if (s)
		memcpy(s, *p, (size_t)(z - *p) + 1);
	*p = z + 1;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1, *end = data + size;
	size_t typen, msgn;
	char *th, *mh, *type, *msg;

	if (size < 1)
		return 0;
	typen = (size_t)(data[0] & 15) * 8;
	msgn = (size_t)(data[0] >> 4) * 32;
	th = part(&p, end);
	mh = th ? part(&p, end) : NULL;
	/* exact sizes; a size of 0 gets the end of a 1-byte block (ASan's malloc(0)
	 * is one usable byte), so any access at all is reported */
	type = malloc(typen ? typen : 1);
	msg = malloc(msgn ? msgn : 1);
	if (type && msg) {
		aws_decode_error(th, mh, p < end ? p : NULL, (size_t)(end - p),
				 typen ? type : type + 1, typen, msgn ? msg : msg + 1, msgn);
		if (typen)
			one_line(type, typen, 1);
		if (msgn)
			one_line(msg, msgn, 0);
		if (!th && p == end) /* nothing to decode: nothing decoded */
			must((!typen || !type[0]) && (!msgn || !msg[0]));
		if (typen && msgn) {
			(void)aws_creds_error(type);
			(void)aws_skew_error(type, msg);
			(void)aws_retryable(400 + (data[0] & 0x7f), type);
		}
	}
	free(type);
	free(msg);
	free(th);
	free(mh);
	return 0;
}
