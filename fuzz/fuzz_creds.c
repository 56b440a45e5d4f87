/* fuzz_creds: what the credential chain reads from outside brock, short of
 * the transport: the JSON of credential_process, the container endpoint and
 * IMDS (creds_json_creds), IMDS's role listing and session token, and every
 * timestamp form an expiration may take (timefmt_parse_*).
 * Input: byte 0 picks the reader (low 3 bits) and, for the IMDS readers, the
 * destination size (the rest of the byte); the rest is the answer.
 * Oracles: a reader that fails says why (credentials class); a reader that
 * succeeds hands out C strings that fit their fields; the IMDS readers accept
 * exactly the usable answers (a role of IAM's alphabet, a visible-ASCII
 * token) and copy them whole; at most one timestamp form parses, its time
 * formats back to itself (byte for byte for the fixed and canonical forms),
 * and timefmt_parse_any finds the same time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/creds_int.h"
#include "base/timefmt.h"

static void must(int cond)
{
	if (!cond)
		abort();
}

static void fits(const char *s, size_t cap)
{
	must(memchr(s, 0, cap) != NULL);
}

static void json_creds(const uint8_t *p, size_t n, int process)
{
	struct aws_creds c;
	struct err e;
	struct buf b;

	memset(&c, 0, sizeof c);
	memset(&e, 0, sizeof e);
	/* the input itself, exact size: ASan sees a read past the answer */
	b.p = (uint8_t *)(uintptr_t)p;
	b.len = b.cap = b.max = n;
	if (creds_json_creds("fuzz", &b, process ? &creds_keys_process : &creds_keys_meta, process,
			     &c, &e) != 0) {
		must(e.cls == ERR_CREDS && e.msg[0] != 0);
	} else {
		fits(c.akid, sizeof c.akid);
		fits(c.secret, sizeof c.secret);
		fits(c.token, sizeof c.token);
		must(c.akid[0] != 0 && c.secret[0] != 0);
	}
	aws_creds_wipe(&c);
}

static int iam_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("+=,.@_-", c) != NULL);
}

/* Accepted exactly when usable: the role is the whole first line, 1 to
 * cap-1 bytes of IAM's alphabet; the token is the body less trailing white
 * space, 1 to cap-1 visible ASCII bytes. */
static void imds(const uint8_t *p, size_t n, int token, size_t cap)
{
	char *dst = malloc(cap); /* exact size: ASan sees a write past cap */
	size_t k = 0;
	int usable, r;

	if (!dst)
		return;
	if (!token) {
		while (k < n && p[k] != '\n' && p[k] != '\r')
			k++;
		usable = k > 0 && k < cap;
		for (size_t i = 0; i < k; i++)
			usable = usable && iam_byte(p[i]);
		r = creds_imds_role(p, n, dst, cap);
	} else {
		k = n;
		while (k && (p[k - 1] == ' ' || p[k - 1] == '\t' || p[k - 1] == '\r' ||
			     p[k - 1] == '\n'))
			k--;
		usable = k > 0 && k < cap;
		for (size_t i = 0; i < k; i++)
			usable = usable && p[i] > 0x20 && p[i] < 0x7f;
		r = creds_imds_token(p, n, dst, cap);
	}
	must(usable ? r == 0 : r != 0);
	if (r == 0)
		must(memchr(dst, 0, cap) == dst + k && memcmp(dst, p, k) == 0);
	free(dst);
}

/* t formats back into a text that parse reads as t again; for the fixed-width
 * forms that text is the input itself. */
static void formats_back(time_t t, int form, const char *s, size_t n)
{
	char out[TIMEFMT_RFC1123_LEN + TIMEFMT_EPOCH_MAX + 2];
	struct timefmt_tm tm;
	int64_t again;
	time_t u = 0;
	size_t len;

	timefmt_split((int64_t)t, &tm);
	if (tm.year >= -1000000000 && tm.year <= 1000000000) /* timefmt_join's bound */
		must(timefmt_join(&tm, &again) == 0 && again == (int64_t)t);
	switch (form) {
	case 0:
		len = timefmt_iso8601(out, t);
		must(len == 0 ? tm.year < 0 || tm.year > 9999 : len == TIMEFMT_ISO_LEN);
		if (len)
			must(timefmt_parse_iso8601(out, len, &u, NULL) == 0 && u == t);
		if (n == TIMEFMT_ISO_LEN && s[10] == 'T' && s[19] == 'Z') /* the canonical form */
			must(len == n && memcmp(out, s, n) == 0);
		break;
	case 1:
		len = timefmt_amz(out, t);
		must(len == n && memcmp(out, s, n) == 0);
		break;
	case 2:
		len = timefmt_rfc1123(out, t);
		must(len == n && memcmp(out, s, n) == 0);
		break;
	default:
		len = timefmt_epoch(out, t);
		must(len > 0 && timefmt_parse_epoch(out, len, &u) == 0 && u == t);
		break;
	}
}

static void times(const uint8_t *p, size_t n)
{
	const char *s = (const char *)p;
	time_t t[4] = {0}, any = 0;
	int ok[4], first = -1;

	ok[0] = timefmt_parse_iso8601(s, n, &t[0], NULL) == 0;
	ok[1] = timefmt_parse_amz(s, n, &t[1]) == 0;
	ok[2] = timefmt_parse_rfc1123(s, n, &t[2]) == 0;
	ok[3] = timefmt_parse_epoch(s, n, &t[3]) == 0;
	for (int i = 0; i < 4; i++) {
		if (!ok[i])
			continue;
		if (first < 0)
			first = i;
		formats_back(t[i], i, s, n);
	}
	must(ok[0] + ok[1] + ok[2] + ok[3] <= 1); /* the forms never overlap */
	if (timefmt_parse_any(s, n, &any) == 0)
		must(first >= 0 && any == t[first]);
	else
		must(first < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 7) {
	case 0:
	case 1:
		json_creds(data + 1, size - 1, data[0] & 1);
		break;
	case 2:
	case 3:
		imds(data + 1, size - 1, data[0] & 1, (size_t)(data[0] >> 3) * 8 + 1);
		break;
	default:
		times(data + 1, size - 1);
		break;
	}
	return 0;
}
