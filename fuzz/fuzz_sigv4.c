/* fuzz_sigv4: a raw HTTP/1.1 request (as in the aws-c-auth suite's
 * request.txt) -> canonical request, and a full signature in both forms.
 * The first byte picks the options. Also checks properties: the canonical
 * path only holds unreserved bytes, '%' and '/' under double encoding, and
 * pct_decode(pct_encode(x)) == x for the path bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/pctenc.h"
#include "wire/sigv4.h"

#define FZ_MAXH (SIGV4_MAX_HEADERS + 8)

struct fz_req {
	struct slice method, path, query, body;
	struct sigv4_header h[FZ_MAXH];
	size_t nh;
};

static size_t fz_eol(const uint8_t *s, size_t n, size_t i)
{
	while (i < n && s[i] != '\n')
		i++;
	return i;
}

/* Lenient: whatever it cannot read as a request line or a header ends the
 * headers; the signer sees whatever we could make of it. */
static void fz_parse(const uint8_t *s, size_t n, struct fz_req *r)
{
	size_t e = fz_eol(s, n, 0), sp1 = 0, sp2, ts, te, q, i;

	memset(r, 0, sizeof(*r));
	while (sp1 < e && s[sp1] != ' ')
		sp1++;
	for (sp2 = e; sp2 > sp1 && s[sp2 - 1] != ' '; sp2--)
		;
	r->method = (struct slice){s, sp1};
	ts = sp1 < e ? sp1 + 1 : e;
	te = sp2 > ts ? sp2 - 1 : e;
	for (q = ts; q < te && s[q] != '?'; q++)
		;
	r->path = (struct slice){s + ts, q - ts};
	r->query = (struct slice){s + (q < te ? q + 1 : te), q < te ? te - q - 1 : 0};
	for (i = e + 1; i < n;) {
		size_t c;

		e = fz_eol(s, n, i);
		if (e == i || (e == i + 1 && s[i] == '\r')) {
			i = e + 1;
			break;
		}
		if ((s[i] == ' ' || s[i] == '\t') && r->nh) {
			struct sigv4_header *last = &r->h[r->nh - 1];
			last->value.n = (size_t)(s + e - last->value.p);
		} else if (r->nh < FZ_MAXH) {
			for (c = i; c < e && s[c] != ':'; c++)
				;
			r->h[r->nh].name = (struct slice){s + i, c - i};
			r->h[r->nh].value = (struct slice){s + (c < e ? c + 1 : e), c < e ? e - c - 1 : 0};
			r->nh++;
		}
		i = e + 1;
	}
	r->body = i < n ? (struct slice){s + i, n - i} : (struct slice){s, 0};
}

static void fz_path_props(const struct fz_req *r)
{
	struct buf enc, dec;

	buf_init(&enc, 3 * r->path.n + 1);
	buf_init(&dec, r->path.n + 1);
	if (pct_encode(&enc, r->path.p, r->path.n, PCT_KEEP_SLASH) != 0)
		abort();
	for (size_t i = 0; i < enc.len; i++)
		if (!pct_is_unreserved(enc.p[i]) && enc.p[i] != '%' && enc.p[i] != '/')
			abort();
	if (pct_decode(&dec, enc.p, enc.len, 0) != 0 || !slice_eq(buf_slice(&dec), r->path))
		abort();
	/* lenient decoding never fails on size or syntax */
	buf_reset(&dec);
	if (pct_decode(&dec, r->path.p, r->path.n, PCT_LENIENT | PCT_PLUS_SPACE) != 0)
		abort();
	buf_free(&enc);
	buf_free(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sigv4_creds creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
						 "TOKEN/+="};
	struct fz_req *r;
	struct sigv4_request req;
	struct sigv4_params p = {&creds, "us-east-1", "service", 1440938160, 0, 3600};
	struct sigv4_result res;
	struct sigv4_ctx ctx;
	struct buf canon, sh;
	struct err e;
	unsigned opt;

	if (size < 1)
		return 0;
	opt = data[0];
	data++;
	size--;
	r = malloc(sizeof(*r));
	if (!r)
		return 0;
	fz_parse(data, size, r);
	fz_path_props(r);
	req = (struct sigv4_request){r->method, r->path, r->query, r->h, r->nh, r->body, NULL};
	if (opt & 0x80)
		req.payload_hash = "UNSIGNED-PAYLOAD";

	buf_init(&canon, SIGV4_MAX_CANON);
	buf_init(&sh, 8192);
	if (sigv4_canonical_request(&req, opt & 0x03u, &canon, &sh, &e) == 0) {
		if (canon.len == 0 || canon.p[canon.len] != 0)
			abort();
	}
	buf_free(&canon);
	buf_free(&sh);

	p.flags = opt & 0x1fu;
	if (!(opt & 0x40))
		p.now = (time_t)(opt * 86400L * 37);
	sigv4_ctx_init(&ctx);
	sigv4_result_init(&res);
	if (sigv4_sign(&ctx, &req, &p, &res, &e) == 0) {
		struct sigv4_header add[SIGV4_MAX_ADDED];
		size_t na = sigv4_added_headers(&res, add);

		if (strlen(res.signature) != 64 || res.string_to_sign.len == 0)
			abort();
		if ((p.flags & SIGV4_PRESIGN) ? na != 0 : (na < 2 || res.authorization.len == 0))
			abort();
		/* a second signing hits the cache and gives the same signature */
		{
			char sig[65];
			memcpy(sig, res.signature, sizeof(sig));
			if (sigv4_sign(&ctx, &req, &p, &res, &e) != 0 || strcmp(sig, res.signature) != 0 ||
			    ctx.derivations != 1)
				abort();
		}
	}
	sigv4_result_free(&res);
	sigv4_ctx_release(&ctx);
	free(r);
	return 0;
}
