/* test_tls: trust anchors from PEM bundles and the environment; handshakes
 * against openssl s_server on 127.0.0.1 with a throwaway PKI (good, RSA,
 * unknown CA, expired, wrong host, TLS 1.0 only). The server tests are
 * skipped under BROCK_CROSS. */
#include "t.h"
#include "tls/spawn.h"

#include "net/conn.h"
#include "net/httpc.h"
#include "net/tls.h"
#include "base/base64.h"
#include "amazon_roots.h"

#include <arpa/inet.h>
#include <bearssl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static char dir[128];
static char path_ca[300], path_other[300];

static char *ca_pem(size_t *n)
{
	return t_slurp(path_ca, n);
}

static void test_pem_single(void)
{
	struct tls_trust t = {0};
	struct err e = {0};
	size_t n, added = 9;
	char *pem = ca_pem(&n);

	CHECK(pem != NULL);
	CHECK(tls_trust_add_pem(&t, pem, n, &added, &e) == 0);
	CHECK(added == 1 && t.n == 1);
	tls_trust_free(&t);
	/* without the final newline */
	while (n && (pem[n - 1] == '\n' || pem[n - 1] == '\r'))
		n--;
	CHECK(tls_trust_add_pem(&t, pem, n, &added, &e) == 0);
	CHECK(added == 1);
	tls_trust_free(&t);
	free(pem);
}

static void test_pem_mixed(void)
{
	struct tls_trust t = {0};
	struct err e = {0};
	struct buf b;
	size_t n1, n2, nk, added = 0;
	char *ca = ca_pem(&n1), *other = t_slurp(path_other, &n2), *key;
	char kp[300];

	snprintf(kp, sizeof kp, "%s/good.key", dir);
	key = t_slurp(kp, &nk);
	CHECK(ca && other && key);
	buf_init(&b, 1 << 20);
	buf_append_str(&b, "junk before\n");
	buf_append(&b, ca, n1);
	buf_append_str(&b, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
	buf_append(&b, key, nk); /* a private key is not an anchor */
	buf_append_str(&b, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
	buf_append(&b, other, n2);
	CHECK(tls_trust_add_pem(&t, b.p, b.len, &added, &e) == 0);
	CHECK(added == 2);
	tls_trust_free(&t);
	CHECK(tls_trust_add_pem(&t, "", 0, &added, &e) == 0 && added == 0);
	CHECK(tls_trust_add_pem(&t, "hello\n", 6, &added, &e) == 0 && added == 0);
	tls_trust_free(&t);
	buf_free(&b);
	free(ca);
	free(other);
	free(key);
}

/* The anchors of t[from..from+n) equal the built-in ones, in order. */
static int same_as_builtin(const struct tls_trust *t, size_t from)
{
	struct tls_trust b = {0};
	struct err e = {0};
	size_t i;
	int ok = tls_trust_add_builtin(&b, NULL, &e) == 0 && t->n >= from + b.n;

	for (i = 0; ok && i < b.n; i++) {
		const br_x509_trust_anchor *x = (const br_x509_trust_anchor *)t->ta + from + i;
		const br_x509_trust_anchor *y = (const br_x509_trust_anchor *)b.ta + i;

		ok = x->flags == y->flags && x->pkey.key_type == y->pkey.key_type &&
		     x->dn.len == y->dn.len && memcmp(x->dn.data, y->dn.data, x->dn.len) == 0;
		if (ok && y->pkey.key_type == BR_KEYTYPE_RSA)
			ok = x->pkey.key.rsa.nlen == y->pkey.key.rsa.nlen &&
			     memcmp(x->pkey.key.rsa.n, y->pkey.key.rsa.n, y->pkey.key.rsa.nlen) == 0 &&
			     x->pkey.key.rsa.elen == y->pkey.key.rsa.elen &&
			     memcmp(x->pkey.key.rsa.e, y->pkey.key.rsa.e, y->pkey.key.rsa.elen) == 0;
		else if (ok)
			ok = x->pkey.key.ec.curve == y->pkey.key.ec.curve &&
			     x->pkey.key.ec.qlen == y->pkey.key.ec.qlen &&
			     memcmp(x->pkey.key.ec.q, y->pkey.key.ec.q, y->pkey.key.ec.qlen) == 0;
	}
	tls_trust_free(&b);
	return ok;
}

/* One root as PEM: label, base64 lines of width w (0: one line), line end
 * eol, pad: trailing white space after the boundary lines. */
static void pem_obj(struct buf *o, const uint8_t *der, size_t n, const char *label, size_t w,
		    const char *eol, const char *pad)
{
	char *b64 = malloc(base64_encoded_len(n) + 1);
	size_t len = base64_encode(b64, der, n), i;

	buf_appendf(o, "-----BEGIN %s-----%s%s", label, pad, eol);
	for (i = 0; i < len; i += w ? w : len) {
		size_t k = w && len - i > w ? w : len - i;

		buf_append(o, b64 + i, k);
		buf_append_str(o, eol);
	}
	buf_appendf(o, "-----END %s-----%s%s", label, pad, eol);
	free(b64);
}

/* The PEM scanner (RFC 7468): the built-in roots written as PEM in every
 * layout a bundle uses give exactly the built-in anchors; objects that are
 * not certificates, do not close, close under another label or are not
 * base64 are skipped without losing the ones around them. */
static void test_pem_layouts(void)
{
	static const char *const labels[] = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"};
	static const size_t widths[] = {64, 76, 0, 1};
	struct tls_trust t = {0};
	struct err e = {0};
	struct buf b;
	size_t i, off, added = 0, nroots = sizeof amazon_roots_len / sizeof amazon_roots_len[0];
	const uint8_t *der;

	buf_init(&b, 1 << 20);
	for (int v = 0; v < 8; v++) {
		buf_reset(&b);
		buf_append_str(&b, v & 1 ? "# Amazon roots\r\n\r\n" : "");
		for (i = 0, der = amazon_roots_der; i < nroots; der += amazon_roots_len[i++]) {
			pem_obj(&b, der, amazon_roots_len[i], labels[(i + (size_t)v) % 3],
				widths[(i + (size_t)v) % 4], v & 2 ? "\r\n" : "\n", v & 4 ? " \t" : "");
			buf_append_str(&b, v & 1 ? "explanatory text -----\n" : "");
		}
		if (v == 7) /* no final line end */
			b.len -= 2;
		CHECK(tls_trust_add_pem(&t, b.p, b.len, &added, &e) == 0);
		CHECK(added == nroots && t.n == nroots && same_as_builtin(&t, 0));
		tls_trust_free(&t);
	}
	/* skipped objects between good ones */
	buf_reset(&b);
	der = amazon_roots_der;
	pem_obj(&b, der, amazon_roots_len[0], "PUBLIC KEY", 64, "\n", "");
	pem_obj(&b, der, amazon_roots_len[0], "CERTIFICATE REQUEST", 64, "\n", "");
	buf_append_str(&b, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END X509 CERTIFICATE-----\n");
	buf_append_str(&b, "-----BEGIN CERTIFICATE-----\nMIIBIjAN\n"); /* never closed: */
	for (i = 0, off = 0; i < nroots; off += amazon_roots_len[i++]) {
		if (i == 2) {
			buf_append_str(&b, "-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n");
			buf_append_str(&b, "-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----\n");
			buf_append_str(&b, "----BEGIN CERTIFICATE-----\n");
		}
		pem_obj(&b, der + off, amazon_roots_len[i], "CERTIFICATE", 64, "\n", "");
	}
	buf_append_str(&b, "-----BEGIN CERTIFICATE-----\n");
	CHECK(tls_trust_add_pem(&t, b.p, b.len, &added, &e) == 0);
	CHECK(added == nroots && same_as_builtin(&t, 0));
	tls_trust_free(&t);
	/* a body over TLS_CERT_MAX is skipped, the next object is not */
	buf_reset(&b);
	buf_append_str(&b, "-----BEGIN CERTIFICATE-----\n");
	for (i = 0; i < TLS_CERT_MAX / 48 + 2; i++)
		buf_append_str(&b, "MIIBMIIBMIIBMIIBMIIBMIIBMIIBMIIBMIIBMIIBMIIBMIIBMIIBMIIBMIIBMIIB\n");
	buf_append_str(&b, "-----END CERTIFICATE-----\n");
	pem_obj(&b, der, amazon_roots_len[0], "CERTIFICATE", 64, "\n", "");
	CHECK(tls_trust_add_pem(&t, b.p, b.len, &added, &e) == 0 && added == 1);
	tls_trust_free(&t);
	buf_free(&b);
}

/* The DER walker: every proper prefix of a root and the root with a byte
 * after it are skipped (0), never read past; the root itself is added. */
static void test_der_cut(void)
{
	struct tls_trust t = {0};
	struct err e = {0};
	const uint8_t *der = amazon_roots_der;
	size_t i, k, bad = 0;

	for (i = 0; i < sizeof amazon_roots_len / sizeof amazon_roots_len[0]; der += amazon_roots_len[i++]) {
		size_t n = amazon_roots_len[i];
		uint8_t *p = malloc(n + 1);

		for (k = 0; k < n; k++) { /* an exact-size copy: ASan sees any over-read */
			uint8_t *q = malloc(k ? k : 1);

			memcpy(q, der, k);
			bad += tls_trust_add_der(&t, q, k, &e) != 0;
			free(q);
		}
		memcpy(p, der, n);
		p[n] = 0;
		bad += tls_trust_add_der(&t, p, n + 1, &e) != 0;
		bad += tls_trust_add_der(&t, p, n, &e) != 1;
		free(p);
	}
	CHECK(bad == 0 && t.n == 5 && same_as_builtin(&t, 0));
	tls_trust_free(&t);
}

static void test_builtin_roots(void)
{
	struct tls_trust t = {0};
	struct err e = {0};
	size_t added = 0;

	CHECK(tls_trust_add_builtin(&t, &added, &e) == 0);
	CHECK(added == 5); /* Amazon Root CA 1-4 and Starfield Services G2 */
	tls_trust_free(&t);
}

static void test_env_order(void)
{
	struct tls_trust t = {0};
	struct err e = {0};
	struct tenv te;
	char want[400];

	tenv_init(&te);
	tenv_set(&te, "AWS_CA_BUNDLE", "/nonexistent/bundle.pem");
	tenv_set(&te, "SSL_CERT_FILE", path_ca);
	CHECK(tls_trust_load(&t, &te.env, &e) < 0);
	CHECK(e.cls == ERR_USAGE);
	CHECK(strstr(e.msg, "AWS_CA_BUNDLE=/nonexistent/bundle.pem") != NULL);
	CHECK(strstr(e.msg, "No such file") != NULL);
	tls_trust_free(&t);

	tenv_init(&te);
	tenv_set(&te, "SSL_CERT_FILE", path_ca);
	err_clear(&e);
	CHECK(tls_trust_load(&t, &te.env, &e) == 0);
	snprintf(want, sizeof want, "SSL_CERT_FILE=%s", path_ca);
	CHECK_STR(t.source, want);
	CHECK(t.n == 1);
	CHECK(tls_trust_load(&t, &te.env, &e) == 0 && t.n == 1); /* loaded once */
	tls_trust_free(&t);

	/* a file without certificates names the variable too */
	tenv_init(&te);
	tenv_set(&te, "AWS_CA_BUNDLE", "tests/t.h");
	CHECK(tls_trust_load(&t, &te.env, &e) < 0);
	CHECK(strstr(e.msg, "AWS_CA_BUNDLE=tests/t.h: no usable certificate") != NULL);
	tls_trust_free(&t);

	/* empty environment: a system bundle or the built-in roots */
	tenv_init(&te);
	CHECK(tls_trust_load(&t, &te.env, &e) == 0);
	CHECK(t.n > 0);
	tls_trust_free(&t);
}

static void test_error_names(void)
{
	CHECK_STR(tls_error_name(62), "BR_ERR_X509_NOT_TRUSTED");
	CHECK_STR(tls_error_name(12345), "unknown error");
}

/* ---- against openssl s_server ---- */

/* Starts s_server with cert name and extra args, connects to
 * https://localhost:PORT/ with the given trust variable, and returns the
 * result of a GET (0) or -1 with e filled. */
static int try_server(const char *cert, const char *var, const char *const *extra,
		      struct err *e, struct httpc_result *res)
{
	char crt[300], key[300], url[64], acc[16];
	char *argv[24];
	struct conn_pool pool;
	struct tenv te;
	struct sp s;
	struct httpc_request req = {"GET", url, NULL, 0, NULL, 0};
	struct conn_opts o = {3000, 3000};
	int n = 0, rc;

	snprintf(crt, sizeof crt, "%s/%s.crt", dir, cert);
	snprintf(key, sizeof key, "%s/%s.key", dir, cert);
	argv[n++] = "openssl";
	argv[n++] = "s_server";
	argv[n++] = "-accept";
	snprintf(acc, sizeof acc, "%s", "127.0.0.1:0");
	argv[n++] = acc;
	argv[n++] = "-cert";
	argv[n++] = crt;
	argv[n++] = "-key";
	argv[n++] = key;
	argv[n++] = "-www";
	while (extra && *extra)
		argv[n++] = (char *)*extra++;
	argv[n] = NULL;
	if (sp_start(&s, dir, cert, argv) < 0)
		return err_set(e, ERR_OTHER, "could not start s_server");
	snprintf(url, sizeof url, "https://localhost:%d/", s.port);
	tenv_init(&te);
	tenv_set(&te, var, path_ca);
	conn_pool_init(&pool, &te.env);
	memset(res, 0, sizeof *res);
	rc = httpc_fetch(&pool, &req, &o, 1 << 20, res, e);
	conn_pool_free(&pool);
	sp_stop(&s);
	return rc;
}

/* final: a rejected certificate is a final error (no retry helps); a
 * failed negotiation is not. */
static void check_refused(const char *cert, const char *const *extra, const char *want, int final)
{
	struct err e = {0};
	struct httpc_result res;

	CHECK(try_server(cert, "AWS_CA_BUNDLE", extra, &e, &res) < 0);
	CHECK(e.cls == ERR_NET);
	if (getenv("T_VERBOSE"))
		fprintf(stderr, "  %s: %s\n", cert, e.msg);
	if (strstr(e.msg, want) == NULL)
		fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", cert, e.msg, want);
	CHECK(strstr(e.msg, want) != NULL);
	CHECK(res.info.got_response == 0);
	CHECK(e.final == final);
	httpc_result_free(&res);
}

static void test_good(void)
{
	struct err e = {0};
	struct httpc_result res;

	CHECK(try_server("good", "AWS_CA_BUNDLE", NULL, &e, &res) == 0);
	if (e.cls)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(res.status == 200);
	CHECK(res.body.p && strstr((const char *)res.body.p, "TLSv1.2") != NULL);
	httpc_result_free(&res);
}

static void test_good_rsa_ssl_cert_file(void)
{
	struct err e = {0};
	struct httpc_result res;

	CHECK(try_server("rsa", "SSL_CERT_FILE", NULL, &e, &res) == 0);
	if (e.cls)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(res.status == 200);
	CHECK(res.body.p && strstr((const char *)res.body.p, "ECDHE-RSA") != NULL);
	httpc_result_free(&res);
}

/* A server without X25519 gets P-256 for ECDHE (the generic prime-field code). */
static void test_p256_ecdhe(void)
{
	static const char *const p256[] = {"-groups", "P-256", "-tls1_2", NULL};
	struct err e = {0};
	struct httpc_result res;

	CHECK(try_server("good", "AWS_CA_BUNDLE", p256, &e, &res) == 0);
	if (e.cls)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(res.status == 200);
	CHECK(res.body.p && strstr((const char *)res.body.p, "ECDHE-ECDSA-AES128-GCM-SHA256") != NULL);
	httpc_result_free(&res);
}

/* ChaCha20-Poly1305 is not in the profile (AWS negotiates AES-GCM; issue 13). */
static void test_chacha_only_refused(void)
{
	static const char *const chacha[] = {"-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305", "-tls1_2", NULL};

	check_refused("good", chacha, "TLS handshake failed with localhost: ", 0);
}

static void test_unknown_ca(void)
{
	check_refused("unknown", NULL, "certificate not trusted (unknown CA) for localhost", 1);
}

static void test_expired(void)
{
	check_refused("expired", NULL, "certificate expired or not yet valid for localhost", 1);
}

static void test_wrong_host(void)
{
	check_refused("wronghost", NULL, "certificate does not match host name localhost", 1);
}

static void test_tls10_only(void)
{
	static const char *const tls1[] = {"-tls1", "-cipher", "DEFAULT@SECLEVEL=0", NULL};

	check_refused("good", tls1, "TLS handshake failed with localhost: ", 0);
}

static void test_cbc_only(void)
{
	static const char *const cbc[] = {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256", NULL};

	check_refused("good", cbc, "TLS handshake failed with localhost: ", 0);
}

/* ---- non-blocking sessions ---- */

static void trust_from_ca(struct tls_trust *tr)
{
	size_t n = 0;
	char *pem = ca_pem(&n);
	struct err e = {0};

	memset(tr, 0, sizeof *tr);
	CHECK(pem && tls_trust_add_pem(tr, pem, n, NULL, &e) == 0);
	free(pem);
}

/* No socket: the ClientHello waits in the engine and offers h2, then http/1.1. */
static void test_nb_client_hello(void)
{
	static const uint8_t alpn[] = "\x00\x10\x00\x0e\x00\x0c\x02h2\x08http/1.1";
	struct tls_trust tr = {0};
	struct tls *t = NULL;
	struct err e = {0};
	const uint8_t *p;
	size_t n = 0, i, found = 0;

	CHECK(tls_trust_add_builtin(&tr, NULL, &e) == 0);
	CHECK(tls_start(&t, &tr, "bedrock-runtime.us-east-1.amazonaws.com", 0, &e) == 0);
	CHECK(t && (tls_state(t) & (TLS_WANT_WRITE | TLS_UP | TLS_CLOSED)) == TLS_WANT_WRITE);
	p = tls_rec_out(t, &n);
	CHECK(p && n > 5 && p[0] == 22); /* a handshake record */
	for (i = 0; p && i + sizeof alpn - 1 <= n; i++)
		found += memcmp(p + i, alpn, sizeof alpn - 1) == 0;
	CHECK(found == 1);
	CHECK(tls_status(t, &e) == 0);
	tls_close(t);
	tls_trust_free(&tr);
}

/* No socket: a server answering with plain HTTP is a handshake error. */
static void test_nb_garbage(void)
{
	static const char junk[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	struct tls_trust tr = {0};
	struct tls *t = NULL;
	struct err e = {0};
	size_t n = 0, off = 0;
	uint8_t *in;

	CHECK(tls_trust_add_builtin(&tr, NULL, &e) == 0);
	CHECK(tls_start(&t, &tr, "localhost", 1, &e) == 0);
	tls_rec_out(t, &n);
	tls_rec_out_ack(t, n);
	/* the engine asks for a record header first, then the rest */
	while (off < sizeof junk - 1 && (tls_state(t) & TLS_WANT_READ)) {
		in = tls_rec_in(t, &n);
		if (n > sizeof junk - 1 - off)
			n = sizeof junk - 1 - off;
		memcpy(in, junk + off, n);
		tls_rec_in_ack(t, n);
		off += n;
	}
	CHECK((tls_state(t) & (TLS_CLOSED | TLS_UP)) == TLS_CLOSED);
	CHECK(tls_status(t, &e) < 0 && e.cls == ERR_NET);
	CHECK(strstr(e.msg, "TLS handshake failed with localhost") != NULL);
	tls_close(t);
	tls_trust_free(&tr);
}

static int nb_connect(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Moves records between the socket and the engine until nothing moves. */
static int nb_pump(struct tls *t, int fd)
{
	unsigned st = tls_state(t);
	struct pollfd pf = {fd, 0, 0};
	size_t n;
	ssize_t k;

	if (st & TLS_CLOSED)
		return -1;
	pf.events = (short)(((st & TLS_WANT_WRITE) ? POLLOUT : 0) | ((st & TLS_WANT_READ) ? POLLIN : 0));
	if (poll(&pf, 1, 3000) <= 0)
		return -1;
	if (pf.revents & POLLOUT) {
		const uint8_t *p = tls_rec_out(t, &n);
		k = write(fd, p, n);
		if (k > 0)
			tls_rec_out_ack(t, (size_t)k);
	} else if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
		uint8_t *p = tls_rec_in(t, &n);
		k = read(fd, p, n);
		if (k >= 0)
			tls_rec_in_ack(t, (size_t)k);
	}
	return 0;
}

/* Handshake over a non-blocking socket with s_server (alpn: its -alpn
 * list, or NULL), then a GET; *chosen gets the ALPN choice. */
static int nb_session(const char *cert, const char *alpn, char *chosen, size_t cn, struct err *e)
{
	char crt[300], key[300];
	char *argv[16];
	struct tls_trust tr;
	struct tls *t = NULL;
	struct sp s;
	int n = 0, fd, rc = -1, sent = 0;
	char got[4096] = "";
	size_t gl = 0;

	snprintf(crt, sizeof crt, "%s/%s.crt", dir, cert);
	snprintf(key, sizeof key, "%s/%s.key", dir, cert);
	argv[n++] = "openssl", argv[n++] = "s_server", argv[n++] = "-accept", argv[n++] = "127.0.0.1:0";
	argv[n++] = "-cert", argv[n++] = crt, argv[n++] = "-key", argv[n++] = key, argv[n++] = "-www";
	if (alpn)
		argv[n++] = "-alpn", argv[n++] = (char *)alpn;
	argv[n] = NULL;
	*chosen = 0;
	if (sp_start(&s, dir, cert, argv) < 0)
		return err_set(e, ERR_OTHER, "could not start s_server");
	trust_from_ca(&tr);
	fd = nb_connect(s.port);
	if (fd < 0 || tls_start(&t, &tr, "localhost", 0, e) < 0)
		goto out;
	while (nb_pump(t, fd) == 0) {
		unsigned st = tls_state(t);
		if ((st & TLS_UP) && !sent) {
			size_t room;
			uint8_t *w = tls_app_out(t, &room);
			static const char get[] = "GET / HTTP/1.0\r\n\r\n";
			snprintf(chosen, cn, "%s", tls_alpn(t) ? tls_alpn(t) : "");
			CHECK(w && room >= sizeof get);
			memcpy(w, get, sizeof get - 1);
			tls_app_out_ack(t, sizeof get - 1);
			tls_app_flush(t);
			sent = 1;
		}
		while (tls_state(t) & TLS_CAN_READ) {
			size_t k;
			const uint8_t *r = tls_app_in(t, &k);
			if (k > sizeof got - 1 - gl)
				k = sizeof got - 1 - gl;
			memcpy(got + gl, r, k);
			gl += k;
			got[gl] = 0;
			tls_app_in_ack(t, k);
			if (k == 0)
				break;
		}
		if (strstr(got, "TLSv1.2")) {
			rc = 0;
			break;
		}
	}
	if (rc < 0 && tls_status(t, e) >= 0)
		err_set(e, ERR_NET, "no answer");
out:
	tls_close(t);
	if (fd >= 0)
		close(fd);
	tls_trust_free(&tr);
	sp_stop(&s);
	return rc;
}

static void test_nb_alpn(void)
{
	char chosen[32];
	struct err e = {0};

	CHECK(nb_session("good", "h2,http/1.1", chosen, sizeof chosen, &e) == 0);
	CHECK(strcmp(chosen, "h2") == 0);
	CHECK(nb_session("good", "http/1.1", chosen, sizeof chosen, &e) == 0);
	CHECK(strcmp(chosen, "http/1.1") == 0);
	CHECK(nb_session("rsa", NULL, chosen, sizeof chosen, &e) == 0);
	CHECK(strcmp(chosen, "") == 0);
}

static void test_nb_wrong_host(void)
{
	char chosen[32];
	struct err e = {0};

	CHECK(nb_session("wronghost", "h2", chosen, sizeof chosen, &e) < 0);
	CHECK(strstr(e.msg, "certificate does not match host name localhost") != NULL);
	CHECK(e.final == 1);
	CHECK(nb_session("unknown", "h2", chosen, sizeof chosen, &e) < 0);
	CHECK(strstr(e.msg, "unknown CA") != NULL);
}

int main(int argc, char **argv)
{
	char *gen[] = {"sh", "tests/tls/gen_certs.sh", dir, NULL};
	int server_tests = getenv("BROCK_CROSS") == NULL || !*getenv("BROCK_CROSS");

	(void)argc;
	T_RUN(test_builtin_roots);
	T_RUN(test_pem_layouts);
	T_RUN(test_der_cut);
	T_RUN(test_error_names);
	T_RUN(test_nb_client_hello);
	T_RUN(test_nb_garbage);
	if (!server_tests) {
		printf("skipped: PKI and s_server tests (BROCK_CROSS)\n");
		return t_done(argv[0]);
	}
	if (sp_tmpdir(dir, sizeof dir) < 0 || sp_run(gen) != 0) {
		fprintf(stderr, "cannot generate the test PKI (openssl missing?)\n");
		t_case("gen_certs", 0);
		return t_done(argv[0]);
	}
	snprintf(path_ca, sizeof path_ca, "%s/ca.crt", dir);
	snprintf(path_other, sizeof path_other, "%s/other.crt", dir);
	T_RUN(test_pem_single);
	T_RUN(test_pem_mixed);
	T_RUN(test_env_order);
	T_RUN(test_good);
	T_RUN(test_good_rsa_ssl_cert_file);
	T_RUN(test_p256_ecdhe);
	T_RUN(test_chacha_only_refused);
	T_RUN(test_unknown_ca);
	T_RUN(test_expired);
	T_RUN(test_wrong_host);
	T_RUN(test_tls10_only);
	T_RUN(test_cbc_only);
	T_RUN(test_nb_alpn);
	T_RUN(test_nb_wrong_host);
	sp_rmdir(dir);
	return t_done(argv[0]);
}
