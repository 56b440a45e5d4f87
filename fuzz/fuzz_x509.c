/* fuzz_x509: a DER certificate -> a trust anchor (tls_trust_add_der, brock's
 * own DER walker), differential against BearSSL's X.509 decoder, which
 * brock used before: whatever BearSSL decodes must give the same anchor
 * (subject name bytes, key type, RSA modulus and exponent or EC curve and
 * point, CA flag), except a key of zero length, which brock skips. The
 * walker may accept more than BearSSL where it reads less (the validity
 * dates: an anchor's are never checked). */
#include <bearssl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "net/tls.h"

struct dn {
	uint8_t b[8192];
	size_t n;
	int over;
};

static void dn_append(void *ctx, const void *p, size_t n)
{
	struct dn *d = ctx;

	if (d->over || n > sizeof d->b - d->n) {
		d->over = 1;
		return;
	}
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

static int same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static br_x509_decoder_context dc; /* 1.4 KiB of stacks: off the fuzzer's stack */
	static struct dn dn;
	struct tls_trust t = {0};
	struct err e = {0};
	const br_x509_pkey *pk;
	const br_x509_trust_anchor *ta;
	int r = tls_trust_add_der(&t, data, size, &e);

	if (r < 0 || (r == 1) != (t.n == 1))
		abort();
	dn.n = 0;
	dn.over = 0;
	br_x509_decoder_init(&dc, dn_append, &dn);
	br_x509_decoder_push(&dc, data, size);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk && br_x509_decoder_last_error(&dc) == 0 && !dn.over && dn.n > 0 &&
	    (pk->key_type == BR_KEYTYPE_RSA ? pk->key.rsa.nlen && pk->key.rsa.elen
					    : pk->key.ec.qlen)) {
		if (r != 1)
			abort(); /* BearSSL took it, brock skipped it */
		ta = t.ta;
		if (!same(ta->dn.data, ta->dn.len, dn.b, dn.n) || ta->pkey.key_type != pk->key_type ||
		    !(ta->flags & BR_X509_TA_CA) != !br_x509_decoder_isCA(&dc))
			abort();
		if (pk->key_type == BR_KEYTYPE_RSA &&
		    (!same(ta->pkey.key.rsa.n, ta->pkey.key.rsa.nlen, pk->key.rsa.n, pk->key.rsa.nlen) ||
		     !same(ta->pkey.key.rsa.e, ta->pkey.key.rsa.elen, pk->key.rsa.e, pk->key.rsa.elen)))
			abort();
		if (pk->key_type == BR_KEYTYPE_EC &&
		    (ta->pkey.key.ec.curve != pk->key.ec.curve ||
		     !same(ta->pkey.key.ec.q, ta->pkey.key.ec.qlen, pk->key.ec.q, pk->key.ec.qlen)))
			abort();
	}
	tls_trust_free(&t);
	return 0;
}
