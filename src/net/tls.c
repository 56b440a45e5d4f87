/* tls: BearSSL client with a hand-built minimal profile, and PEM trust
 * anchors. See tls.h for the policy. */
#include "net/tls.h"

#include <bearssl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/file.h"

/* The Amazon roots as DER, generated at build time (vendor/roots.sh). */
#include "amazon_roots.h"

/* ------------------------------------------------------------------------ */
/* Error names */

/* Indexed by code (BearSSL's codes are 0..62); the name is the macro's. */
#define TLS_ERRNAME(x) [BR_ERR_##x] = "BR_ERR_" #x
static const char *const tls_errnames[] = {
	TLS_ERRNAME(OK),
	TLS_ERRNAME(BAD_PARAM),
	TLS_ERRNAME(BAD_STATE),
	[BR_ERR_UNSUPPORTED_VERSION] = "BR_ERR_UNSUPPORTED_VERSION (server does not offer TLS 1.2)",
	TLS_ERRNAME(BAD_VERSION),
	TLS_ERRNAME(BAD_LENGTH),
	TLS_ERRNAME(TOO_LARGE),
	TLS_ERRNAME(BAD_MAC),
	[BR_ERR_NO_RANDOM] = "BR_ERR_NO_RANDOM (no entropy source)",
	TLS_ERRNAME(UNKNOWN_TYPE),
	TLS_ERRNAME(UNEXPECTED),
	TLS_ERRNAME(BAD_CCS),
	TLS_ERRNAME(BAD_ALERT),
	TLS_ERRNAME(BAD_HANDSHAKE),
	TLS_ERRNAME(OVERSIZED_ID),
	[BR_ERR_BAD_CIPHER_SUITE] = "BR_ERR_BAD_CIPHER_SUITE (no common cipher suite)",
	TLS_ERRNAME(BAD_COMPRESSION),
	TLS_ERRNAME(BAD_FRAGLEN),
	TLS_ERRNAME(BAD_SECRENEG),
	TLS_ERRNAME(EXTRA_EXTENSION),
	TLS_ERRNAME(BAD_SNI),
	TLS_ERRNAME(BAD_HELLO_DONE),
	TLS_ERRNAME(LIMIT_EXCEEDED),
	TLS_ERRNAME(BAD_FINISHED),
	TLS_ERRNAME(RESUME_MISMATCH),
	TLS_ERRNAME(INVALID_ALGORITHM),
	TLS_ERRNAME(BAD_SIGNATURE),
	TLS_ERRNAME(WRONG_KEY_USAGE),
	TLS_ERRNAME(NO_CLIENT_AUTH),
	TLS_ERRNAME(IO),
	TLS_ERRNAME(X509_INVALID_VALUE),
	TLS_ERRNAME(X509_TRUNCATED),
	TLS_ERRNAME(X509_EMPTY_CHAIN),
	TLS_ERRNAME(X509_INNER_TRUNC),
	TLS_ERRNAME(X509_BAD_TAG_CLASS),
	TLS_ERRNAME(X509_BAD_TAG_VALUE),
	TLS_ERRNAME(X509_INDEFINITE_LENGTH),
	TLS_ERRNAME(X509_EXTRA_ELEMENT),
	TLS_ERRNAME(X509_UNEXPECTED),
	TLS_ERRNAME(X509_NOT_CONSTRUCTED),
	TLS_ERRNAME(X509_NOT_PRIMITIVE),
	TLS_ERRNAME(X509_PARTIAL_BYTE),
	TLS_ERRNAME(X509_BAD_BOOLEAN),
	TLS_ERRNAME(X509_OVERFLOW),
	TLS_ERRNAME(X509_BAD_DN),
	TLS_ERRNAME(X509_BAD_TIME),
	TLS_ERRNAME(X509_UNSUPPORTED),
	TLS_ERRNAME(X509_LIMIT_EXCEEDED),
	TLS_ERRNAME(X509_WRONG_KEY_TYPE),
	TLS_ERRNAME(X509_BAD_SIGNATURE),
	TLS_ERRNAME(X509_TIME_UNKNOWN),
	TLS_ERRNAME(X509_EXPIRED),
	TLS_ERRNAME(X509_DN_MISMATCH),
	TLS_ERRNAME(X509_BAD_SERVER_NAME),
	TLS_ERRNAME(X509_CRITICAL_EXTENSION),
	TLS_ERRNAME(X509_NOT_CA),
	TLS_ERRNAME(X509_FORBIDDEN_KEY_USAGE),
	TLS_ERRNAME(X509_WEAK_PUBLIC_KEY),
	TLS_ERRNAME(X509_NOT_TRUSTED),
};
#undef TLS_ERRNAME

const char *tls_error_name(int code)
{
	if (code >= 0 && (size_t)code < sizeof tls_errnames / sizeof tls_errnames[0] && tls_errnames[code])
		return tls_errnames[code];
	return "unknown error";
}

/* TLS alert descriptions a server is likely to send us. */
static const char *tls_alert_name(int a)
{
	switch (a) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 47: return "illegal_parameter";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 112: return "unrecognized_name";
	default: return "alert";
	}
}

/* ------------------------------------------------------------------------ */
/* Trust anchors */

static void tls_ta_free(br_x509_trust_anchor *ta)
{
	free(ta->dn.data); /* one block holds the DN and the key bytes */
}

void tls_trust_free(struct tls_trust *t)
{
	br_x509_trust_anchor *v = t->ta;
	size_t i;

	for (i = 0; i < t->n; i++)
		tls_ta_free(&v[i]);
	free(v);
	t->ta = NULL;
	t->n = t->cap = 0;
	t->source[0] = 0;
}

/* ---- X.509: a certificate's subject and public key ----
 * An anchor needs only the subject name (as encoded), the public key and
 * the basicConstraints CA flag. They are read here with a DER walker;
 * BearSSL's X.509 decoder, an interpreter step per byte, took 85 M
 * instructions for a 144-certificate system bundle, 80% of a whole
 * `brock chat`. The walker accepts every certificate BearSSL's decoder
 * accepts, with the same result, but for a zero-length key (fuzz_x509 holds
 * it to that); it does not read the validity dates or the signature, which
 * an anchor never uses. */

struct der {
	const uint8_t *p, *end;
};

/* One element: its identifier byte (universal or context class, tag
 * number below 31) and a definite length within d. 0, or -1. */
static int der_next(struct der *d, unsigned *tag, struct der *v)
{
	size_t len, k;

	if (d->end - d->p < 2 || (d->p[0] & 0x40) || (d->p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = d->p[0];
	len = d->p[1];
	d->p += 2;
	if (len & 0x80) {
		k = len & 0x7f;
		if (k == 0 || (size_t)(d->end - d->p) < k)
			return -1; /* indefinite length, or cut */
		for (len = 0; k--; d->p++) {
			if (len > 0x7fffff)
				return -1;
			len = len << 8 | *d->p;
		}
	}
	if (len > (size_t)(d->end - d->p))
		return -1;
	v->p = d->p;
	v->end = d->p + len;
	d->p += len;
	return 0;
}

static int der_want(struct der *d, unsigned want, struct der *v)
{
	unsigned tag;

	return der_next(d, &tag, v) == 0 && tag == want ? 0 : -1;
}

static int der_is(const struct der *v, const uint8_t *val, size_t n)
{
	return (size_t)(v->end - v->p) == n && memcmp(v->p, val, n) == 0;
}

/* A non-negative INTEGER's magnitude, leading zeros dropped (empty for 0). */
static int der_uint(struct der *d, struct der *v)
{
	if (der_want(d, 0x02, v) < 0 || v->p == v->end || v->p[0] >= 0x80)
		return -1;
	while (v->p < v->end && v->p[0] == 0)
		v->p++;
	return 0;
}

/* A BIT STRING without unused bits: its bytes. */
static int der_bits(struct der *d, struct der *v)
{
	if (der_want(d, 0x03, v) < 0 || v->p == v->end || v->p[0] != 0)
		return -1;
	v->p++;
	return 0;
}

#define TLS_DN_MAX 8192
#define TLS_KEY_MAX 520 /* BearSSL's BR_X509_BUFSIZE_KEY: RSA n and e together, or an EC point */

struct tls_cert {
	struct der dn, n, e, q; /* n and e for RSA, q for EC */
	int key_type, curve, is_ca;
};

/* SubjectPublicKeyInfo: an RSA key, or an EC point on P-256, P-384, P-521
 * (a zero modulus or exponent, or an empty point, verifies nothing: skipped). */
static int der_spki(struct der *d, struct tls_cert *c)
{
	static const uint8_t rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
	static const uint8_t ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
	static const struct {
		uint8_t oid[8], n;
		int curve;
	} curves[] = {{{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 8, BR_EC_secp256r1},
		      {{0x2b, 0x81, 0x04, 0x00, 0x22}, 5, BR_EC_secp384r1},
		      {{0x2b, 0x81, 0x04, 0x00, 0x23}, 5, BR_EC_secp521r1}};
	struct der spki, alg, oid, bits, seq, par;
	size_t i;

	if (der_want(d, 0x30, &spki) < 0 || der_want(&spki, 0x30, &alg) < 0 ||
	    der_want(&alg, 0x06, &oid) < 0 || oid.end - oid.p > 255)
		return -1;
	if (der_is(&oid, rsa, sizeof rsa)) {
		if (der_bits(&spki, &bits) < 0 || der_want(&bits, 0x30, &seq) < 0 ||
		    bits.p != bits.end || der_uint(&seq, &c->n) < 0 || der_uint(&seq, &c->e) < 0 ||
		    seq.p != seq.end || c->n.p == c->n.end || c->e.p == c->e.end ||
		    (size_t)(c->n.end - c->n.p) + (size_t)(c->e.end - c->e.p) > TLS_KEY_MAX)
			return -1;
		c->key_type = BR_KEYTYPE_RSA;
	} else if (der_is(&oid, ec, sizeof ec)) {
		if (der_want(&alg, 0x06, &par) < 0 || alg.p != alg.end)
			return -1;
		for (i = 0; i < sizeof curves / sizeof curves[0]; i++)
			if (der_is(&par, curves[i].oid, curves[i].n))
				break;
		if (i == sizeof curves / sizeof curves[0] || der_bits(&spki, &c->q) < 0 ||
		    c->q.p == c->q.end || c->q.end - c->q.p > TLS_KEY_MAX)
			return -1;
		c->curve = curves[i].curve;
		c->key_type = BR_KEYTYPE_EC;
	} else {
		return -1;
	}
	return spki.p == spki.end ? 0 : -1;
}

/* Extensions: only basicConstraints' cA is read; each extension is
 * SEQUENCE { OID, BOOLEAN critical OPTIONAL, OCTET STRING }. */
static int der_extensions(struct der *x, struct tls_cert *c)
{
	static const uint8_t bc[] = {0x55, 0x1d, 0x13};
	struct der all, ext, oid, v, val;
	unsigned tag;

	if (der_want(x, 0x30, &all) < 0 || x->p != x->end)
		return -1;
	while (all.p < all.end) {
		if (der_want(&all, 0x30, &ext) < 0 || der_want(&ext, 0x06, &oid) < 0 ||
		    der_next(&ext, &tag, &v) < 0)
			return -1;
		if (tag == 0x01) { /* critical */
			if (v.end - v.p != 1 || der_next(&ext, &tag, &v) < 0)
				return -1;
		}
		if (tag != 0x04 || ext.p != ext.end)
			return -1;
		if (oid.end - oid.p <= 255 && der_is(&oid, bc, sizeof bc)) {
			if (der_want(&v, 0x30, &val) < 0 || v.p != v.end)
				return -1;
			/* BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, ... }:
			 * the first identifier must be one BearSSL reads; the
			 * rest is not parsed */
			if (val.p < val.end &&
			    ((val.p[0] & 0x40) || (val.p[0] & 0x1f) == 0x1f || val.p[0] == 0x21))
				return -1;
			if (val.p < val.end && val.p[0] == 0x01) {
				if (der_next(&val, &tag, &v) < 0 || v.end - v.p != 1)
					return -1;
				c->is_ca = v.p[0] != 0;
			}
		}
	}
	return 0;
}

/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }. */
static int tls_cert_read(const uint8_t *der, size_t n, struct tls_cert *c)
{
	struct der d = {der, der + n}, cert, tbs, v;
	const uint8_t *dn;
	unsigned tag;
	size_t i;

	memset(c, 0, sizeof *c);
	if (der_want(&d, 0x30, &cert) < 0 || d.p != d.end || der_want(&cert, 0x30, &tbs) < 0 ||
	    der_next(&tbs, &tag, &v) < 0)
		return -1;
	if (tag == 0xa0) { /* [0] version: v1 to v3 */
		struct der num;

		if (der_want(&v, 0x02, &num) < 0 || v.p != v.end || num.p == num.end ||
		    num.p[0] >= 0x80)
			return -1;
		for (i = 0; num.p + i + 1 < num.end; i++)
			if (num.p[i])
				return -1;
		if (num.end[-1] > 2 || der_next(&tbs, &tag, &v) < 0)
			return -1;
	}
	if (tag != 0x02 || der_want(&tbs, 0x30, &v) < 0 || der_want(&tbs, 0x30, &v) < 0 ||
	    der_want(&tbs, 0x30, &v) < 0) /* serial, signature, issuer, validity */
		return -1;
	dn = tbs.p;
	if (der_want(&tbs, 0x30, &v) < 0 || v.end - dn > TLS_DN_MAX)
		return -1;
	c->dn.p = dn;
	c->dn.end = v.end;
	if (der_spki(&tbs, c) < 0)
		return -1;
	/* [1] issuerUniqueID, [2] subjectUniqueID, [3] extensions, in order */
	for (i = 1; i <= 3 && tbs.p < tbs.end; i++) {
		if (der_next(&tbs, &tag, &v) < 0 || (tag & 0xc0) != 0x80 || (tag & 0x1f) < i ||
		    (tag & 0x1f) > 3)
			return -1;
		i = tag & 0x1f;
		if (i == 3 && (tag != 0xa3 || der_extensions(&v, c) < 0))
			return -1;
	}
	/* signatureAlgorithm (an OID first), signature */
	if (tbs.p != tbs.end || der_want(&cert, 0x30, &v) < 0 || der_want(&v, 0x06, &v) < 0 ||
	    der_bits(&cert, &v) < 0 || cert.p != cert.end)
		return -1;
	return 0;
}

int tls_trust_add_der(struct tls_trust *t, const void *der, size_t n, struct err *e)
{
	struct tls_cert c;
	br_x509_trust_anchor ta;
	size_t dl, k1, k2;
	uint8_t *blk;

	if (tls_cert_read(der, n, &c) < 0)
		return 0;
	dl = (size_t)(c.dn.end - c.dn.p);
	k1 = (size_t)(c.key_type == BR_KEYTYPE_RSA ? c.n.end - c.n.p : c.q.end - c.q.p);
	k2 = (size_t)(c.key_type == BR_KEYTYPE_RSA ? c.e.end - c.e.p : 0);
	if (t->n >= TLS_ANCHORS_MAX)
		return err_set(e, ERR_OTHER, "too many trust anchors (limit %u)", TLS_ANCHORS_MAX);
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		void *nv = realloc(t->ta, nc * sizeof(br_x509_trust_anchor));

		if (!nv)
			return err_set(e, ERR_OTHER, "out of memory loading trust anchors");
		t->ta = nv;
		t->cap = nc;
	}
	blk = malloc(dl + k1 + k2);
	if (!blk)
		return err_set(e, ERR_OTHER, "out of memory loading trust anchors");
	memset(&ta, 0, sizeof ta);
	memcpy(blk, c.dn.p, dl);
	ta.dn.data = blk;
	ta.dn.len = dl;
	ta.flags = c.is_ca ? BR_X509_TA_CA : 0;
	ta.pkey.key_type = (unsigned char)c.key_type;
	if (c.key_type == BR_KEYTYPE_RSA) {
		memcpy(blk + dl, c.n.p, k1);
		memcpy(blk + dl + k1, c.e.p, k2);
		ta.pkey.key.rsa.n = blk + dl;
		ta.pkey.key.rsa.nlen = k1;
		ta.pkey.key.rsa.e = blk + dl + k1;
		ta.pkey.key.rsa.elen = k2;
	} else {
		memcpy(blk + dl, c.q.p, k1);
		ta.pkey.key.ec.curve = c.curve;
		ta.pkey.key.ec.q = blk + dl;
		ta.pkey.key.ec.qlen = k1;
	}
	((br_x509_trust_anchor *)t->ta)[t->n++] = ta;
	return 1;
}

/* PEM (RFC 7468), scanned here rather than by BearSSL's decoder, which
 * took 78% of the 430 M instructions of loading a 144-certificate system
 * bundle (an interpreter step per byte). As strict as OpenSSL's reader,
 * which the AWS CLI and SDKs use, where BearSSL's was laxer: upper-case
 * BEGIN and END, five dashes, the END label the BEGIN one, space, tab, CR
 * and LF in the body. A boundary line is "-----BEGIN " or "-----END ", a
 * label, "-----", then at most white space (CR included); 1 with the label
 * when p..eol is one. */
static int pem_boundary(const uint8_t *p, const uint8_t *eol, const char *kw, const uint8_t **label,
			size_t *llen)
{
	size_t k = strlen(kw);

	while (eol > p && (eol[-1] == '\r' || eol[-1] == ' ' || eol[-1] == '\t'))
		eol--;
	if ((size_t)(eol - p) < k + 5 || memcmp(p, kw, k) != 0 || memcmp(eol - 5, "-----", 5) != 0)
		return 0;
	*label = p + k;
	*llen = (size_t)(eol - 5 - *label);
	return 1;
}

static int pem_is_cert(const uint8_t *label, size_t n)
{
	static const char *const names[] = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (n == strlen(names[i]) && memcmp(label, names[i], n) == 0)
			return 1;
	return 0;
}

int tls_trust_add_pem(struct tls_trust *t, const void *pem, size_t n, size_t *added,
		      struct err *e)
{
	const uint8_t *p = pem, *end = p + n, *label = NULL, *body = NULL;
	size_t llen = 0, count = 0;
	struct buf der;
	int rc = 0;

	if (added)
		*added = 0;
	buf_init(&der, TLS_CERT_MAX);
	while (p < end && rc == 0) {
		const uint8_t *eol = memchr(p, '\n', (size_t)(end - p)), *l;
		size_t ll;

		if (!eol)
			eol = end;
		if (pem_boundary(p, eol, "-----BEGIN ", &l, &ll)) {
			label = l; /* a BEGIN inside an object abandons that object */
			llen = ll;
			body = eol;
		} else if (label && pem_boundary(p, eol, "-----END ", &l, &ll)) {
			/* a body that is not base64 (or over TLS_CERT_MAX) is skipped */
			if (ll == llen && memcmp(l, label, ll) == 0 && pem_is_cert(label, llen)) {
				buf_reset(&der);
				if (base64_decode_buf(&der, (const char *)body, (size_t)(p - body),
						      BASE64_WS) == 0) {
					int r = tls_trust_add_der(t, der.p, der.len, e);

					if (r < 0)
						rc = -1;
					else
						count += (size_t)r;
				}
			}
			label = NULL;
		}
		p = eol < end ? eol + 1 : end;
	}
	buf_free(&der);
	if (added)
		*added = count;
	return rc;
}

/* Loads a bundle named by a variable (var != NULL) or a system path. */
static int tls_trust_load_file(struct tls_trust *t, const char *var, const char *path,
			       struct err *e)
{
	struct buf b;
	size_t added = 0;
	int got, rc;

	buf_init(&b, TLS_BUNDLE_MAX);
	got = file_read(path, TLS_BUNDLE_MAX, &b, e);
	if (got != 1)
		buf_free(&b);
	if (got == 0 && var)
		return err_set(e, ERR_USAGE, "%s=%s: cannot read CA bundle: %s", var, path,
			       strerror(ENOENT));
	if (got == 0)
		return err_set(e, ERR_OTHER, "%s: cannot read CA bundle: %s", path, strerror(ENOENT));
	if (got < 0) {
		err_wrap(e, "cannot read CA bundle");
		if (!var)
			return -1;
		e->cls = ERR_USAGE; /* the user named it */
		return err_wrap(e, "%s", var);
	}
	rc = tls_trust_add_pem(t, b.p, b.len, &added, e);
	buf_free(&b);
	if (rc < 0)
		return rc;
	if (added == 0) {
		if (var)
			return err_set(e, ERR_USAGE, "%s=%s: no usable certificate in CA bundle",
				       var, path);
		return err_set(e, ERR_OTHER, "%s: no usable certificate in CA bundle", path);
	}
	snprintf(t->source, sizeof t->source, "%s%s%s", var ? var : "", var ? "=" : "", path);
	return 0;
}

int tls_trust_add_builtin(struct tls_trust *t, size_t *added, struct err *e)
{
	const uint8_t *p = amazon_roots_der;
	size_t i, count = 0;
	int r = 0;

	for (i = 0; i < sizeof amazon_roots_len / sizeof amazon_roots_len[0]; i++) {
		r = tls_trust_add_der(t, p, amazon_roots_len[i], e);
		if (r < 0)
			break;
		count += (size_t)r;
		p += amazon_roots_len[i];
	}
	if (added)
		*added = count;
	return r < 0 ? -1 : 0;
}

static const char *const tls_system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
};

int tls_trust_load(struct tls_trust *t, const struct env *env, struct err *e)
{
	static const char *const vars[] = {"AWS_CA_BUNDLE", "SSL_CERT_FILE"};
	char path[4096];
	size_t i, added = 0;

	if (t->n > 0)
		return 0;
	for (i = 0; i < 2; i++) {
		int n = env_get_buf(env, vars[i], path, sizeof path);
		if (n < 0)
			return err_set(e, ERR_USAGE, "%s: path too long", vars[i]);
		if (n > 0)
			return tls_trust_load_file(t, vars[i], path, e);
	}
	for (i = 0; i < sizeof tls_system_bundles / sizeof tls_system_bundles[0]; i++) {
		const char *sys = tls_system_bundles[i];
		if (access(sys, R_OK) != 0)
			continue;
		/* An unusable system bundle is not fatal: the compiled-in roots
		 * follow. */
		if (tls_trust_load_file(t, NULL, sys, e) == 0)
			return 0;
		tls_trust_free(t);
		err_clear(e);
		break;
	}
	if (tls_trust_add_builtin(t, &added, e) < 0)
		return -1;
	if (added == 0)
		return err_set(e, ERR_OTHER, "built-in Amazon roots did not decode");
	snprintf(t->source, sizeof t->source, "built-in Amazon roots");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Sessions */

struct tls {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	const struct tls_io *io;
	char host[256];
	int eof;     /* the transport reached end of stream */
	int io_fail; /* the transport failed: the session is unusable */
	int up;      /* non-blocking: the handshake completed */
	size_t iolen;
	unsigned char iobuf[]; /* BR_SSL_BUFSIZE_BIDI, or _MONO for a one-way session */
};

/* What AWS endpoints negotiate: TLS 1.2, ECDHE with an RSA or ECDSA
 * certificate, AES-GCM. No ChaCha20-Poly1305: with AES-128-GCM offered
 * first, AWS never picks it, and it cost 6.3 KB of code (issue 13). */
static const uint16_t tls_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/* Elliptic curves: X25519 (offered first, what servers pick for ECDHE) with
 * the dedicated code, and P-256/P-384/P-521 (the fallback key exchange and
 * ECDSA certificate signatures) with BearSSL's generic prime-field code. The
 * dedicated P-256 code (br_ec_p256_m31, 7.8 KB) is left out: it is faster, but
 * a handshake does at most a few P-256 operations and connections are reused. */
static const br_ec_impl *tls_ec_for(int curve)
{
	return curve == BR_EC_curve25519 ? &br_ec_c25519_m31 : &br_ec_prime_i31;
}

static const unsigned char *tls_ec_generator(int curve, size_t *len)
{
	return tls_ec_for(curve)->generator(curve, len);
}

static const unsigned char *tls_ec_order(int curve, size_t *len)
{
	return tls_ec_for(curve)->order(curve, len);
}

static size_t tls_ec_xoff(int curve, size_t *len)
{
	return tls_ec_for(curve)->xoff(curve, len);
}

static uint32_t tls_ec_mul(unsigned char *g, size_t glen, const unsigned char *k, size_t klen, int curve)
{
	return tls_ec_for(curve)->mul(g, glen, k, klen, curve);
}

static size_t tls_ec_mulgen(unsigned char *r, const unsigned char *k, size_t klen, int curve)
{
	return tls_ec_for(curve)->mulgen(r, k, klen, curve);
}

static uint32_t tls_ec_muladd(unsigned char *a, const unsigned char *b, size_t len, const unsigned char *x,
			      size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
	return tls_ec_for(curve)->muladd(a, b, len, x, xlen, y, ylen, curve);
}

static const br_ec_impl tls_ec = {
	((uint32_t)1 << BR_EC_curve25519) | ((uint32_t)1 << BR_EC_secp256r1) | ((uint32_t)1 << BR_EC_secp384r1) |
		((uint32_t)1 << BR_EC_secp521r1),
	tls_ec_generator,
	tls_ec_order,
	tls_ec_xoff,
	tls_ec_mul,
	tls_ec_mulgen,
	tls_ec_muladd,
};

/* AES-GCM: AES-NI and PCLMULQDQ when the CPU has them (every x86_64 since
 * 2010), else constant-time software. The software AES is BearSSL's 32-bit
 * bitsliced code on every architecture (the 64-bit one, its default on 64-bit
 * CPUs, is about twice as fast and 1 KB larger; either is far above what a
 * model streams). GHASH in software: the 64-bit multiply where the CPU has one. */
static void tls_gcm(br_ssl_engine_context *eng)
{
	const br_block_ctr_class *ctr = br_aes_x86ni_ctr_get_vtable();
	br_ghash gh = br_ghash_pclmul_get();

	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_aes_ctr(eng, ctr ? ctr : &br_aes_ct_ctr_vtable);
#if UINTPTR_MAX > 0xffffffffu
	br_ssl_engine_set_ghash(eng, gh ? gh : br_ghash_ctmul64);
#else
	br_ssl_engine_set_ghash(eng, gh ? gh : br_ghash_ctmul);
#endif
}

/* The minimal profile: only what the suites above need, so that the static
 * binary links no CBC, CCM, ChaCha20, 3DES, MD5, SHA-1 PRF or RSA key
 * exchange. RSA signatures are checked with the 31-bit code (the 62-bit
 * default is faster at a cost of 2.5 KB; e = 65537 makes it cheap either way).
 * AES-GCM: see tls_gcm. */
static void tls_profile(struct tls *t, const struct tls_trust *trust)
{
	br_ssl_engine_context *eng = &t->cc.eng;

	br_ssl_client_zero(&t->cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, tls_suites, sizeof tls_suites / sizeof tls_suites[0]);

	br_x509_minimal_init(&t->xc, &br_sha256_vtable, trust->ta, trust->n);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
	br_x509_minimal_set_hash(&t->xc, br_sha256_ID, &br_sha256_vtable);
	br_x509_minimal_set_hash(&t->xc, br_sha384_ID, &br_sha384_vtable);
	br_x509_minimal_set_hash(&t->xc, br_sha512_ID, &br_sha512_vtable);

	br_ssl_engine_set_ec(eng, &tls_ec);
	br_ssl_engine_set_ecdsa(eng, br_ecdsa_i31_vrfy_asn1);
	br_ssl_engine_set_rsavrfy(eng, br_rsa_i31_pkcs1_vrfy);
	br_x509_minimal_set_rsa(&t->xc, br_rsa_i31_pkcs1_vrfy);
	br_x509_minimal_set_ecdsa(&t->xc, &tls_ec, br_ecdsa_i31_vrfy_asn1);
	br_ssl_engine_set_x509(eng, &t->xc.vtable);

	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	tls_gcm(eng);

	br_ssl_engine_set_buffer(eng, t->iobuf, t->iolen, t->iolen >= BR_SSL_BUFSIZE_BIDI);
}

/* Turns the engine's error into the message the user sees. */
static int tls_engine_message(const struct tls *t, int code, struct err *e)
{
	const char *h = t->host;

	switch (code) {
	case BR_ERR_X509_NOT_TRUSTED:
		return err_set(e, ERR_NET, "certificate not trusted (unknown CA) for %s", h);
	case BR_ERR_X509_EXPIRED:
		return err_set(e, ERR_NET, "certificate expired or not yet valid for %s", h);
	case BR_ERR_X509_BAD_SERVER_NAME:
		return err_set(e, ERR_NET, "certificate does not match host name %s", h);
	default:
		break;
	}
	if (code >= BR_ERR_RECV_FATAL_ALERT && code < BR_ERR_SEND_FATAL_ALERT)
		return err_set(e, ERR_NET, "TLS handshake failed with %s: received alert %d (%s)", h,
			       code - BR_ERR_RECV_FATAL_ALERT,
			       tls_alert_name(code - BR_ERR_RECV_FATAL_ALERT));
	if (code >= BR_ERR_SEND_FATAL_ALERT)
		return err_set(e, ERR_NET, "TLS handshake failed with %s: sent alert %d (%s)", h,
			       code - BR_ERR_SEND_FATAL_ALERT,
			       tls_alert_name(code - BR_ERR_SEND_FATAL_ALERT));
	return err_set(e, ERR_NET, "TLS handshake failed with %s: %s", h, tls_error_name(code));
}

/* The engine's error as an ERR_NET error. When the server's certificate
 * chain was rejected (BearSSL's X.509 codes) the error is final: the next
 * attempt meets the same chain, so retrying only delays the answer. */
static int tls_engine_error(const struct tls *t, int code, struct err *e)
{
	tls_engine_message(t, code, e);
	if (e && code > BR_ERR_X509_OK && code <= BR_ERR_X509_NOT_TRUSTED)
		e->final = 1;
	return -1;
}

/* Drives the engine until one of the target states is reached (the
 * br_sslio loop, with our transport and errors). Returns 0, 1 when the
 * stream ended cleanly (close_notify or transport EOF after the handshake),
 * or -1. */
static int tls_run_until(struct tls *t, unsigned target, struct err *e)
{
	br_ssl_engine_context *eng = &t->cc.eng;

	if (t->io_fail)
		return err_set(e, ERR_NET, "connection to %s already failed", t->host);
	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		unsigned char *b;
		size_t len, done;

		if (st & BR_SSL_CLOSED) {
			int code = br_ssl_engine_last_error(eng);
			if (code == BR_ERR_OK)
				return 1;
			t->io_fail = 1;
			return tls_engine_error(t, code, e);
		}
		if (st & BR_SSL_SENDREC) {
			b = br_ssl_engine_sendrec_buf(eng, &len);
			if (t->io->write(t->io->ctx, b, len, &done, e) < 0) {
				t->io_fail = 1;
				return -1;
			}
			br_ssl_engine_sendrec_ack(eng, done);
			continue;
		}
		if (st & target)
			return 0;
		if ((st & BR_SSL_RECVAPP) && (target & BR_SSL_SENDAPP)) {
			/* The peer sent data while we want to write: for
			 * HTTP/1.1 that is a protocol violation (or an early
			 * error response); report it rather than deadlock. */
			return err_set(e, ERR_PROTO, "%s sent data before the request was complete",
				       t->host);
		}
		if (st & BR_SSL_RECVREC) {
			if (t->eof)
				return 1;
			b = br_ssl_engine_recvrec_buf(eng, &len);
			if (t->io->read(t->io->ctx, b, len, &done, e) < 0) {
				t->io_fail = 1;
				return -1;
			}
			if (done == 0) {
				t->eof = 1;
				return 1;
			}
			br_ssl_engine_recvrec_ack(eng, done);
			continue;
		}
		br_ssl_engine_flush(eng, 0);
	}
}

/* Seeds the engine's generator from the kernel. BearSSL 0.6 seeds itself
 * only from RDRAND on x86 (it has no getentropy seeder and we build it
 * without /dev/urandom), so without this every handshake failed with
 * BR_ERR_NO_RANDOM on ARM and on x86 CPUs without RDRAND. With RDRAND, both
 * are mixed. */
static int tls_seed(struct tls *t, struct err *e)
{
	unsigned char seed[32];

	if (getentropy(seed, sizeof seed) != 0)
		return err_set(e, ERR_OTHER, "no entropy for TLS: getentropy: %s", strerror(errno));
	br_ssl_engine_inject_entropy(&t->cc.eng, seed, sizeof seed);
	secure_zero(seed, sizeof seed);
	return 0;
}

/* The protocols offered by ALPN (RFC 7301), most wanted first. BearSSL keeps
 * the pointer (and takes it as non-const), so the array is static. */
static const char *tls_alpn_names[] = {"h2", "http/1.1"};

/* Allocates and starts a session: profile, seed, ClientHello queued. */
static int tls_new(struct tls **out, const struct tls_trust *trust, const char *host, int mono,
		   int alpn, struct err *e)
{
	size_t hl = strlen(host), iolen = mono ? BR_SSL_BUFSIZE_MONO : BR_SSL_BUFSIZE_BIDI;
	struct tls *t;

	*out = NULL;
	if (hl == 0 || hl >= sizeof t->host)
		return err_set(e, ERR_USAGE, "bad TLS host name");
	if (!trust || trust->n == 0)
		return err_set(e, ERR_OTHER, "no trust anchors loaded");
	t = calloc(1, sizeof *t + iolen);
	if (!t)
		return err_set(e, ERR_OTHER, "out of memory");
	memcpy(t->host, host, hl + 1);
	t->iolen = iolen;
	tls_profile(t, trust);
	if (alpn)
		br_ssl_engine_set_protocol_names(&t->cc.eng, tls_alpn_names,
						 sizeof tls_alpn_names / sizeof tls_alpn_names[0]);
	if (tls_seed(t, e) < 0)
		goto fail;
	if (!br_ssl_client_reset(&t->cc, t->host, 0)) {
		tls_engine_error(t, br_ssl_engine_last_error(&t->cc.eng), e);
		goto fail;
	}
	*out = t;
	return 0;
fail:
	tls_close(t);
	return -1;
}

int tls_open(struct tls **out, const struct tls_trust *trust, const char *host,
	     const struct tls_io *io, struct err *e)
{
	struct tls *t;
	int r;

	if (tls_new(out, trust, host, 0, 0, e) < 0)
		return -1;
	t = *out;
	*out = NULL;
	t->io = io;
	r = tls_run_until(t, BR_SSL_SENDAPP | BR_SSL_RECVAPP, e);
	if (r == 1)
		r = err_set(e, ERR_NET, "connection closed by %s during the TLS handshake", host);
	if (r < 0) {
		tls_close(t);
		return -1;
	}
	*out = t;
	return 0;
}

int tls_read(struct tls *t, uint8_t *p, size_t n, size_t *got, struct err *e)
{
	unsigned char *b;
	size_t len;
	int r;

	*got = 0;
	if (n == 0)
		return 0;
	r = tls_run_until(t, BR_SSL_RECVAPP, e);
	if (r < 0)
		return -1;
	if (r == 1)
		return 0; /* end of stream; HTTP framing tells truncation apart */
	b = br_ssl_engine_recvapp_buf(&t->cc.eng, &len);
	if (len > n)
		len = n;
	memcpy(p, b, len);
	br_ssl_engine_recvapp_ack(&t->cc.eng, len);
	*got = len;
	return 0;
}

int tls_write(struct tls *t, const uint8_t *p, size_t n, struct err *e)
{
	while (n > 0) {
		unsigned char *b;
		size_t len;
		int r = tls_run_until(t, BR_SSL_SENDAPP, e);

		if (r == 1)
			return err_set(e, ERR_NET, "connection closed by %s", t->host);
		if (r < 0)
			return -1;
		b = br_ssl_engine_sendapp_buf(&t->cc.eng, &len);
		if (len > n)
			len = n;
		memcpy(b, p, len);
		br_ssl_engine_sendapp_ack(&t->cc.eng, len);
		p += len;
		n -= len;
	}
	return 0;
}

int tls_flush(struct tls *t, struct err *e)
{
	int r;

	br_ssl_engine_flush(&t->cc.eng, 0);
	r = tls_run_until(t, BR_SSL_SENDAPP | BR_SSL_RECVAPP, e);
	if (r == 1)
		return err_set(e, ERR_NET, "connection closed by %s", t->host);
	return r;
}

int tls_pending(const struct tls *t)
{
	return (br_ssl_engine_current_state(&t->cc.eng) & BR_SSL_RECVAPP) != 0;
}

void tls_close(struct tls *t)
{
	if (!t)
		return;
	secure_zero(t, sizeof *t + t->iolen); /* session keys, buffered plaintext */
	free(t);
}

/* ------------------------------------------------------------------------ */
/* Non-blocking sessions: the engine's four buffers handed to the caller. */

int tls_start(struct tls **out, const struct tls_trust *trust, const char *host, int mono,
	      struct err *e)
{
	return tls_new(out, trust, host, mono, 1, e);
}

unsigned tls_state(struct tls *t)
{
	unsigned st = br_ssl_engine_current_state(&t->cc.eng), r = 0;

	if (t->eof || (st & BR_SSL_CLOSED))
		r |= TLS_CLOSED;
	if (st & BR_SSL_SENDREC)
		r |= TLS_WANT_WRITE;
	if ((st & BR_SSL_RECVREC) && !t->eof)
		r |= TLS_WANT_READ;
	if (st & BR_SSL_RECVAPP)
		r |= TLS_CAN_READ;
	if (st & BR_SSL_SENDAPP)
		r |= TLS_CAN_WRITE;
	if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
		t->up = 1;
	if (t->up)
		r |= TLS_UP;
	return r;
}

int tls_status(const struct tls *t, struct err *e)
{
	unsigned st = br_ssl_engine_current_state(&t->cc.eng);
	int code = br_ssl_engine_last_error(&t->cc.eng);

	if (code != BR_ERR_OK)
		return tls_engine_error(t, code, e);
	if (t->eof && !t->up)
		return err_set(e, ERR_NET, "connection closed by %s during the TLS handshake", t->host);
	if (t->eof || (st & BR_SSL_CLOSED))
		return 1;
	return 0;
}

const uint8_t *tls_rec_out(struct tls *t, size_t *n)
{
	return br_ssl_engine_sendrec_buf(&t->cc.eng, n);
}

void tls_rec_out_ack(struct tls *t, size_t n)
{
	br_ssl_engine_sendrec_ack(&t->cc.eng, n);
}

uint8_t *tls_rec_in(struct tls *t, size_t *n)
{
	return br_ssl_engine_recvrec_buf(&t->cc.eng, n);
}

void tls_rec_in_ack(struct tls *t, size_t n)
{
	if (n == 0) {
		t->eof = 1;
		return;
	}
	br_ssl_engine_recvrec_ack(&t->cc.eng, n);
}

const uint8_t *tls_app_in(struct tls *t, size_t *n)
{
	return br_ssl_engine_recvapp_buf(&t->cc.eng, n);
}

void tls_app_in_ack(struct tls *t, size_t n)
{
	br_ssl_engine_recvapp_ack(&t->cc.eng, n);
}

uint8_t *tls_app_out(struct tls *t, size_t *n)
{
	return br_ssl_engine_sendapp_buf(&t->cc.eng, n);
}

void tls_app_out_ack(struct tls *t, size_t n)
{
	br_ssl_engine_sendapp_ack(&t->cc.eng, n);
}

void tls_app_flush(struct tls *t)
{
	br_ssl_engine_flush(&t->cc.eng, 0);
}

const char *tls_alpn(struct tls *t)
{
	return br_ssl_engine_get_selected_protocol(&t->cc.eng);
}
