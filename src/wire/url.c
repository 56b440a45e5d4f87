/* url: absolute http/https URL parsing, authority/target helpers and
 * NO_PROXY matching. See url.h. */
#include "wire/url.h"

#include <arpa/inet.h>
#include <string.h>

#include "base/pctenc.h"

static int is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int eq_nocase(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i;

	if (an != bn)
		return 0;
	for (i = 0; i < an; i++)
		if (str_lower_ch((unsigned char)a[i]) != str_lower_ch((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Decimal port 1..65535 from s[0..n); -1 when invalid. */
static long parse_port(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > 65535)
			return -1;
	}
	return v == 0 ? -1 : v;
}

/* Percent-decodes s[0..n) into dst (NUL-terminated, at most URL_CRED_MAX). */
static int decode_cred(char dst[static URL_CRED_MAX + 1], const char *s, size_t n,
		       const char *what, struct err *e)
{
	struct buf b;
	int r;

	buf_init(&b, URL_CRED_MAX);
	r = pct_decode(&b, (const uint8_t *)s, n, 0);
	if (r == PCT_ERR_BAD) {
		buf_free(&b);
		return err_set(e, ERR_USAGE, "URL %s has a bad %%-escape", what);
	}
	if (r < 0) {
		buf_free(&b);
		return err_set(e, ERR_USAGE, "URL %s is longer than %d bytes", what, URL_CRED_MAX);
	}
	if (b.len && memchr(b.p, 0, b.len)) {
		buf_free(&b);
		return err_set(e, ERR_USAGE, "URL %s contains a NUL byte", what);
	}
	if (b.len)
		memcpy(dst, b.p, b.len);
	dst[b.len] = 0;
	buf_free(&b);
	return 0;
}

static int parse_userinfo(struct url *u, const char *s, size_t n, struct err *e)
{
	const char *colon = memchr(s, ':', n);
	size_t un = colon ? (size_t)(colon - s) : n;

	u->has_userinfo = 1;
	if (decode_cred(u->user, s, un, "user name", e) < 0)
		return -1;
	if (strchr(u->user, ':'))
		return err_set(e, ERR_USAGE, "URL user name contains ':'");
	if (colon && decode_cred(u->pass, colon + 1, n - un - 1, "password", e) < 0)
		return -1;
	return 0;
}

/* host[:port] or [v6][:port] in s[0..n). */
static int parse_hostport(struct url *u, const char *s, size_t n, struct err *e)
{
	const char *hs = s, *ps = NULL;
	size_t hn, pn = 0, i;

	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		struct in6_addr a6;

		if (!rb)
			return err_set(e, ERR_USAGE, "URL has an unterminated IPv6 literal");
		hs = s + 1;
		hn = (size_t)(rb - hs);
		if (hn == 0 || hn > URL_HOST_MAX)
			return err_set(e, ERR_USAGE, "URL has a bad IPv6 literal");
		memcpy(u->host, hs, hn);
		u->host[hn] = 0;
		if (inet_pton(AF_INET6, u->host, &a6) != 1)
			return err_set(e, ERR_USAGE, "URL has a bad IPv6 literal");
		u->ipv6 = 1;
		if (rb + 1 < s + n) {
			if (rb[1] != ':')
				return err_set(e, ERR_USAGE, "URL has junk after the IPv6 literal");
			ps = rb + 2;
			pn = (size_t)(s + n - ps);
		}
	} else {
		const char *colon = memchr(s, ':', n);

		hn = colon ? (size_t)(colon - s) : n;
		if (colon) {
			ps = colon + 1;
			pn = n - hn - 1;
		}
		if (hn == 0)
			return err_set(e, ERR_USAGE, "URL has an empty host");
		if (hn > URL_HOST_MAX)
			return err_set(e, ERR_USAGE, "URL host is longer than %d bytes", URL_HOST_MAX);
		for (i = 0; i < hn; i++)
			if (!is_alnum((unsigned char)hs[i]) && hs[i] != '-' && hs[i] != '.' && hs[i] != '_')
				return err_set(e, ERR_USAGE, "URL host has an invalid character");
		memcpy(u->host, hs, hn);
		u->host[hn] = 0;
	}
	for (i = 0; u->host[i]; i++)
		u->host[i] = (char)str_lower_ch((unsigned char)u->host[i]);
	u->port = u->https ? 443 : 80;
	if (ps && pn) { /* "host:" means the default port (RFC 3986 3.2.3) */
		long port = parse_port(ps, pn);

		if (port < 0)
			return err_set(e, ERR_USAGE, "URL port is not a number in 1..65535");
		u->port = (uint16_t)port;
		u->port_explicit = 1;
	}
	return 0;
}

int url_parse(struct url *u, const char *s, struct err *e)
{
	const char *p, *auth, *end, *at, *q;
	size_t i, n;

	memset(u, 0, sizeof(*u));
	if (!s)
		return err_set(e, ERR_USAGE, "empty URL");
	n = strlen(s);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return err_set(e, ERR_USAGE, "URL contains a space, control or non-ASCII byte");
	p = strstr(s, "://");
	if (!p)
		return err_set(e, ERR_USAGE, "URL has no scheme (want http:// or https://)");
	if (eq_nocase(s, (size_t)(p - s), "https", 5)) {
		u->https = 1;
		memcpy(u->scheme, "https", 6);
	} else if (eq_nocase(s, (size_t)(p - s), "http", 4)) {
		memcpy(u->scheme, "http", 5);
	} else {
		return err_set(e, ERR_USAGE, "URL scheme is not http or https");
	}
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	/* the last '@' ends the userinfo: proxy passwords do contain '@' */
	at = NULL;
	for (q = auth; q < end; q++)
		if (*q == '@')
			at = q;
	if (at) {
		if (parse_userinfo(u, auth, (size_t)(at - auth), e) < 0) {
			url_wipe(u);
			return -1;
		}
		auth = at + 1;
	}
	if (parse_hostport(u, auth, (size_t)(end - auth), e) < 0) {
		url_wipe(u);
		return -1;
	}
	p = end;
	q = p + strcspn(p, "?#");
	u->path = (struct slice){(const uint8_t *)p, (size_t)(q - p)};
	if (*q == '?') {
		const char *qe = q + 1 + strcspn(q + 1, "#");

		u->has_query = 1;
		u->query = (struct slice){(const uint8_t *)q + 1, (size_t)(qe - q - 1)};
	}
	return 0;
}

void url_wipe(struct url *u)
{
	secure_zero(u->user, sizeof(u->user));
	secure_zero(u->pass, sizeof(u->pass));
}

int url_authority(const struct url *u, int always_port, struct buf *out)
{
	const char *lb = u->ipv6 ? "[" : "", *rb = u->ipv6 ? "]" : "";

	if (always_port || u->port != (u->https ? 443 : 80))
		return buf_appendf(out, "%s%s%s:%u", lb, u->host, rb, (unsigned)u->port);
	return buf_appendf(out, "%s%s%s", lb, u->host, rb);
}

int url_request_target(const struct url *u, struct buf *out)
{
	if (u->path.n ? buf_append(out, u->path.p, u->path.n) : buf_append_byte(out, '/'))
		return -1;
	if (u->has_query &&
	    (buf_append_byte(out, '?') < 0 || buf_append(out, u->query.p, u->query.n) < 0))
		return -1;
	return 0;
}

int url_path_append_segment(struct buf *out, struct slice seg)
{
	size_t len = out->len;

	if (buf_append_byte(out, '/') < 0 || pct_encode_slice(out, seg, 0) != 0) {
		out->len = len;
		if (out->p)
			out->p[len] = 0;
		return -1;
	}
	return 0;
}

/* ---- NO_PROXY ----------------------------------------------------------- */

struct ipaddr {
	int family; /* 0 = not an IP literal */
	uint8_t b[16];
};

static struct ipaddr parse_ip(const char *s)
{
	struct ipaddr a;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.b) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.b) == 1)
		a.family = AF_INET6;
	return a;
}

static int prefix_match(const struct ipaddr *net, const struct ipaddr *ip, unsigned bits)
{
	size_t whole = bits / 8;
	unsigned rest = bits % 8;
	uint8_t mask;

	if (memcmp(net->b, ip->b, whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (net->b[whole] & mask) == (ip->b[whole] & mask);
}

/* The host as compared: brackets and one trailing dot removed. */
static size_t norm_host(const char *host, char out[static URL_HOST_MAX + 1])
{
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n && host[n - 1] == '.')
		n--;
	if (n > URL_HOST_MAX)
		return 0;
	memcpy(out, host, n);
	out[n] = 0;
	return n;
}

/* A CIDR entry: network net (an IP literal) and prefix length bits (decimal). */
static int cidr_matches(const char *net_s, const char *bits_s, const struct ipaddr *hip)
{
	struct ipaddr net = parse_ip(net_s);
	long bits = 0;
	const char *b;

	if (!net.family || net.family != hip->family || !bits_s[0])
		return 0;
	for (b = bits_s; *b; b++) {
		if (*b < '0' || *b > '9' || (bits = bits * 10 + (*b - '0')) > 128)
			return 0;
	}
	if (bits > (net.family == AF_INET ? 32 : 128))
		return 0;
	return prefix_match(&net, hip, (unsigned)bits);
}

/* A domain entry ent[0..nn): "example.com", ".example.com" and
 * "*.example.com" all match example.com and its subdomains. */
static int domain_matches(const char *ent, size_t nn, const char *host, size_t hn)
{
	if (nn >= 2 && ent[0] == '*' && ent[1] == '.') {
		ent += 2;
		nn -= 2;
	} else if (nn >= 1 && ent[0] == '.') {
		ent++;
		nn--;
	}
	if (nn && ent[nn - 1] == '.')
		nn--;
	if (nn == 0)
		return 0;
	if (eq_nocase(host, hn, ent, nn))
		return 1;
	return hn > nn && host[hn - nn - 1] == '.' && eq_nocase(host + hn - nn, nn, ent, nn);
}

/* One NO_PROXY entry e[0..n) (no separators) against the host. */
static int entry_matches(const char *ent, size_t n, const char *host, size_t hn,
			 const struct ipaddr *hip, unsigned port)
{
	char name[URL_HOST_MAX + 8];
	const char *colon, *slash;
	long eport = -1;

	if (n == 1 && ent[0] == '*')
		return 1;
	if (n >= sizeof(name))
		return 0;
	if (ent[0] == '[') { /* [v6] or [v6]:port */
		const char *rb = memchr(ent, ']', n);

		if (!rb)
			return 0;
		if (rb + 1 < ent + n) {
			if (rb[1] != ':' || (eport = parse_port(rb + 2, (size_t)(ent + n - rb - 2))) < 0)
				return 0;
		}
		ent++;
		n = (size_t)(rb - ent);
	} else {
		colon = memchr(ent, ':', n);
		/* exactly one ':' is host:port; more is a bare IPv6 literal */
		if (colon && !memchr(colon + 1, ':', (size_t)(ent + n - colon - 1))) {
			if ((eport = parse_port(colon + 1, (size_t)(ent + n - colon - 1))) < 0)
				return 0;
			n = (size_t)(colon - ent);
		}
	}
	if (eport >= 0 && (unsigned)eport != port)
		return 0;
	memcpy(name, ent, n);
	name[n] = 0;

	slash = strchr(name, '/');
	if (slash) {
		name[slash - name] = 0;
		return cidr_matches(name, slash + 1, hip);
	}
	{
		struct ipaddr eip = parse_ip(name);

		if (eip.family || hip->family)
			return eip.family == hip->family && memcmp(eip.b, hip->b, 16) == 0;
	}
	return domain_matches(name, n, host, hn);
}

int url_no_proxy_match(const char *no_proxy, const char *host, unsigned port)
{
	char h[URL_HOST_MAX + 1];
	struct ipaddr hip;
	size_t hn;
	const char *p = no_proxy;

	if (!no_proxy || !host)
		return 0;
	hn = norm_host(host, h);
	if (hn == 0)
		return 0;
	hip = parse_ip(h);
	while (*p) {
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n && entry_matches(p, n, h, hn, &hip, port))
			return 1;
		p += n;
	}
	return 0;
}
