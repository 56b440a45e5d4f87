/* test_xml: the STS XML reader. Real STS success and error documents, every
 * construct the reader accepts, a table of malformed documents, every
 * truncation of a real document, and each document placed against a
 * PROT_NONE page so that any over-read crashes. */
#include "wire/xml.h"
#include "t.h"

#include <sys/mman.h>
#include <unistd.h>

static const char assume_role[] =
	"<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	"  <AssumeRoleResult>\n"
	"  <SourceIdentity>Alice</SourceIdentity>\n"
	"    <AssumedRoleUser>\n"
	"      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>\n"
	"      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>\n"
	"    </AssumedRoleUser>\n"
	"    <Credentials>\n"
	"      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
	"      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
	"      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==</SessionToken>\n"
	"      <Expiration>2019-11-09T13:34:41Z</Expiration>\n"
	"    </Credentials>\n"
	"    <PackedPolicySize>6</PackedPolicySize>\n"
	"  </AssumeRoleResult>\n"
	"  <ResponseMetadata>\n"
	"    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n"
	"  </ResponseMetadata>\n"
	"</AssumeRoleResponse>\n";

static const char web_identity[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
	"<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\r\n"
	"  <AssumeRoleWithWebIdentityResult>\r\n"
	"    <SubjectFromWebIdentityToken>amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A</SubjectFromWebIdentityToken>\r\n"
	"    <Audience>client.5498841531868486423.1548@apps.example.com</Audience>\r\n"
	"    <AssumedRoleUser>\r\n"
	"      <Arn>arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1</Arn>\r\n"
	"      <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:app1</AssumedRoleId>\r\n"
	"    </AssumedRoleUser>\r\n"
	"    <Credentials>\r\n"
	"      <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>\r\n"
	"      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\r\n"
	"      <Expiration>2014-10-24T23:00:23Z</Expiration>\r\n"
	"      <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>\r\n"
	"    </Credentials>\r\n"
	"    <SourceIdentity>SourceIdentityValue</SourceIdentity>\r\n"
	"    <Provider>www.amazon.com</Provider>\r\n"
	"  </AssumeRoleWithWebIdentityResult>\r\n"
	"  <ResponseMetadata>\r\n"
	"    <RequestId>ad4156e6-bce2-11e4-9a6b-bd08e27e26fa</RequestId>\r\n"
	"  </ResponseMetadata>\r\n"
	"</AssumeRoleWithWebIdentityResponse>\r\n";

static const char error_doc[] =
	"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	"  <Error>\n"
	"    <Type>Sender</Type>\n"
	"    <Code>AccessDenied</Code>\n"
	"    <Message>User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
	"sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Admin &amp; more</Message>\n"
	"  </Error>\n"
	"  <RequestId>4e6ecaf1-8cbd-11e6-a53e-2d3e5a3aa3b1</RequestId>\n"
	"</ErrorResponse>\n";

/* Runs the finder on a copy of doc that ends exactly at a PROT_NONE page. */
static long page;

static int find_guarded(const char *doc, size_t n, const char *const *path, struct buf *out,
			struct err *e)
{
	size_t span = ((n + (size_t)page - 1) / (size_t)page + 1) * (size_t)page;
	uint8_t *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *end;
	int r;

	if (m == MAP_FAILED)
		return -2;
	end = m + span - (size_t)page;
	mprotect(end, (size_t)page, PROT_NONE);
	memcpy(end - n, doc, n);
	r = xml_find_text(end - n, n, path, out, e);
	munmap(m, span);
	return r;
}

/* 1 and the text, or 0, as wanted; want NULL means "not found". */
static int expect_text(const char *doc, size_t n, const char *const *path, const char *want)
{
	struct buf out;
	struct err e;
	int r, ok;

	buf_init(&out, 1 << 16);
	err_clear(&e);
	r = find_guarded(doc, n, path, &out, &e);
	if (want)
		ok = r == 1 && out.len == strlen(want) && (out.len == 0 || memcmp(out.p, want, out.len) == 0);
	else
		ok = r == 0 && out.len == 0;
	if (!ok)
		fprintf(stderr, "  r=%d got \"%.*s\" want \"%s\" (%s)\n", r, (int)out.len,
			out.p ? (const char *)out.p : "", want ? want : "(absent)", e.msg);
	buf_free(&out);
	return ok;
}

#define P(...) ((const char *const[]){__VA_ARGS__, NULL})
#define TXT(doc, path, want) CHECK(expect_text(doc, strlen(doc), path, want))

static void test_assume_role(void)
{
	TXT(assume_role, P("AssumeRoleResponse", "AssumeRoleResult", "Credentials", "AccessKeyId"),
	    "ASIAIOSFODNN7EXAMPLE");
	TXT(assume_role, P("AssumeRoleResponse", "AssumeRoleResult", "Credentials", "SecretAccessKey"),
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	TXT(assume_role, P("AssumeRoleResponse", "AssumeRoleResult", "Credentials", "Expiration"),
	    "2019-11-09T13:34:41Z");
	TXT(assume_role, P("AssumeRoleResponse", "AssumeRoleResult", "AssumedRoleUser", "Arn"),
	    "arn:aws:sts::123456789012:assumed-role/demo/TestAR");
	TXT(assume_role, P("AssumeRoleResponse", "ResponseMetadata", "RequestId"),
	    "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
	/* the token, whole */
	{
		struct buf out;
		struct err e;
		buf_init(&out, 4096);
		CHECK(xml_find_text(assume_role, strlen(assume_role),
				    P("AssumeRoleResponse", "AssumeRoleResult", "Credentials",
				      "SessionToken"),
				    &out, &e) == 1);
		CHECK(out.len == 336);
		CHECK(out.len > 0 && memcmp(out.p, "AQoDYXdz", 8) == 0 &&
		      memcmp(out.p + out.len - 4, "BA==", 4) == 0);
		buf_free(&out);
	}
	/* not there: wrong root, wrong order, too deep, a prefix of a path */
	TXT(assume_role, P("AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentityResult",
			   "Credentials", "AccessKeyId"), NULL);
	TXT(assume_role, P("AssumeRoleResult", "Credentials", "AccessKeyId"), NULL);
	TXT(assume_role, P("AssumeRoleResponse", "Credentials", "AccessKeyId"), NULL);
	TXT(assume_role, P("AssumeRoleResponse", "AssumeRoleResult", "Credentials", "AccessKeyId", "X"),
	    NULL);
	TXT(assume_role, P("AccessKeyId"), NULL);
	/* an element with children: only its own text (whitespace here) */
	TXT("<a>x<b>y</b>z</a>", P("a"), "xz");
	TXT("<a>x<b>y</b>z</a>", P("a", "b"), "y");
}

static void test_web_identity_and_error(void)
{
	TXT(web_identity, P("AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentityResult",
			    "Credentials", "AccessKeyId"), "ASgeIAIOSFODNN7EXAMPLE");
	TXT(web_identity, P("AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentityResult",
			    "Credentials", "SessionToken"), "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
	TXT(web_identity, P("AssumeRoleWithWebIdentityResponse", "AssumeRoleWithWebIdentityResult",
			    "Provider"), "www.amazon.com");
	TXT(error_doc, P("ErrorResponse", "Error", "Code"), "AccessDenied");
	TXT(error_doc, P("ErrorResponse", "Error", "Type"), "Sender");
	TXT(error_doc, P("ErrorResponse", "Error", "Message"),
	    "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
	    "sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Admin & more");
	TXT(error_doc, P("ErrorResponse", "RequestId"), "4e6ecaf1-8cbd-11e6-a53e-2d3e5a3aa3b1");
	TXT(error_doc, P("AssumeRoleResponse", "AssumeRoleResult", "Credentials", "AccessKeyId"), NULL);
	/* the root alone is found (its own text is the whitespace between children) */
	TXT("<ErrorResponse><Error/></ErrorResponse>", P("ErrorResponse"), "");
}

static void test_constructs(void)
{
	/* namespaces: prefixes are ignored for matching */
	TXT("<sts:R xmlns:sts=\"urn:x\"><sts:A>1</sts:A><B>2</B></sts:R>", P("R", "A"), "1");
	TXT("<sts:R xmlns:sts=\"urn:x\"><sts:A>1</sts:A><B>2</B></sts:R>", P("R", "B"), "2");
	TXT("<a:b:c>v</a:b:c>", P("b:c"), "v"); /* local = after the first ':' */
	/* entities and character references */
	TXT("<a>&lt;&gt;&amp;&apos;&quot;</a>", P("a"), "<>&'\"");
	TXT("<a>&#65;&#x42;&#0000067;</a>", P("a"), "ABC");
	TXT("<a>&#xe9;&#x20AC;&#x1F600;&#1114111;</a>", P("a"),
	    "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
	TXT("<a>&#9;&#10;&#13;</a>", P("a"), "\t\n\r");
	TXT("<a>a&amp;amp;b</a>", P("a"), "a&amp;b"); /* decoded once */
	/* CDATA, literal, mixed with text and comments */
	TXT("<a><![CDATA[x<y&z]]></a>", P("a"), "x<y&z");
	TXT("<a>1<![CDATA[&amp;]]>2<!-- c -->3</a>", P("a"), "1&amp;23");
	TXT("<a><![CDATA[]]]]><![CDATA[>]]></a>", P("a"), "]]>");
	TXT("<a><![CDATA[]]></a>", P("a"), "");
	/* declaration, BOM, PIs and comments around the root */
	TXT("\xEF\xBB\xBF<?xml version=\"1.0\"?><!-- c --><?pi x?><a>v</a><!-- d --><?e?>\n", P("a"), "v");
	/* whitespace everywhere it may be */
	TXT(" \n\t<a  x = 'q' \n y=\"r\" >v</a \n>\n", P("a"), "v");
	/* self-closing elements, attributes with references */
	TXT("<a><b/><c k=\"&lt;&#65;\"/></a>", P("a", "b"), "");
	TXT("<a><b k='\"'/></a>", P("a", "b"), "");
	TXT("<a><b k=\"'\">t</b></a>", P("a", "b"), "t");
	/* first match wins; siblings after a match are checked but ignored */
	TXT("<r><c><k>1</k></c><c><k>2</k></c></r>", P("r", "c", "k"), "1");
	TXT("<r><x><k>0</k></x><c><k>1</k></c></r>", P("r", "c", "k"), "1");
	TXT("<r><c><j>0</j></c><c><k>2</k></c></r>", P("r", "c", "k"), "2");
	/* line ends normalised in text and CDATA */
	TXT("<a>1\r\n2\r3</a>", P("a"), "1\n2\n3");
	TXT("<a><![CDATA[1\r\n2\r3]]></a>", P("a"), "1\n2\n3");
	/* text is not trimmed; '>' and "]]>" in text are tolerated */
	TXT("<a> v \n</a>", P("a"), " v \n");
	TXT("<a>x>y</a>", P("a"), "x>y");
	/* UTF-8 passes through */
	TXT("<a>caf\xC3\xA9</a>", P("a"), "caf\xC3\xA9");
	TXT("<\xC3\xA9l>v</\xC3\xA9l>", P("\xC3\xA9l"), "v");
	/* names with digits, dots, dashes */
	TXT("<a-b.c_1>v</a-b.c_1>", P("a-b.c_1"), "v");
}

static int expect_malformed(const char *doc, size_t n)
{
	struct buf out;
	struct err e;
	int r;

	buf_init(&out, 1 << 16);
	err_clear(&e);
	r = find_guarded(doc, n, P("a", "b"), &out, &e);
	buf_free(&out);
	if (r != -1 || e.cls != ERR_PROTO || !e.msg[0]) {
		fprintf(stderr, "  accepted: \"%.*s\" (r=%d)\n", (int)n, doc, r);
		return 0;
	}
	return 1;
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"",
		"   \n",
		"<!-- only a comment -->",
		"<?xml version=\"1.0\"?>",
		"<a>",
		"<a><b>v</b>",
		"<a></b>",
		"<a><b></a></b>",
		"<a></A>",
		"</a>",
		"<a></a></a>",
		"<a/><b/>",
		"<a></a><a></a>",
		"x<a></a>",
		"<a></a>x",
		"<a>&foo;</a>",
		"<a>&amp</a>",
		"<a>& </a>",
		"<a>&</a>",
		"<a>&#;</a>",
		"<a>&#x;</a>",
		"<a>&#0;</a>",
		"<a>&#x0;</a>",
		"<a>&#1;</a>",
		"<a>&#xD800;</a>",
		"<a>&#xDFFF;</a>",
		"<a>&#xFFFE;</a>",
		"<a>&#x110000;</a>",
		"<a>&#4294967361;</a>",
		"<a>&#x100000041;</a>",
		"<a>&#00000000065;</a>",
		"<a>&#x41</a>",
		"<a>&#a;</a>",
		"<a>&#xg;</a>",
		"<a>&AMP;</a>",
		"<a>&#X43;</a>", /* only a lowercase x */
		"<!DOCTYPE a><a></a>",
		"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
		"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><a>&lol2;</a>",
		"<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a>&xxe;</a>",
		"<a><!DOCTYPE a></a>",
		"<a><!ENTITY x \"y\"></a>",
		"<a><!ELEMENT x></a>",
		"<![CDATA[x]]><a></a>",
		"<a><![CDATA[x</a>",
		"<a><!-- x</a>",
		"<a><?pi x</a>",
		"<!-- x",
		"<a b></a>",
		"<a b=c></a>",
		"<a b=\"c></a>",
		"<a b=\"<\"></a>",
		"<a b=\"&x;\"></a>",
		"<a b=\"&\"></a>",
		"<a b=\"1\"c=\"2\"></a>",
		"<a =\"1\"></a>",
		"<a b=\"1\"",
		"<a",
		"<a/",
		"< a></a>",
		"<1a></1a>",
		"<-a></-a>",
		"<a></ a>",
		"<a></a",
		"<>",
		"<a><></a>",
		"<a>\x01</a>",
		"<a>\x1f</a>",
		"<a b=\"\x02\"></a>",
		"<a><!-- \x07 --></a>",
		"<a>\x0b</a>",
		"<a>x</a>\x0c",
		"<a></a><",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[64];
		snprintf(name, sizeof name, "malformed[%zu]", i);
		t_case(name, expect_malformed(bad[i], strlen(bad[i])));
	}
	/* NUL bytes */
	t_case("malformed NUL in text", expect_malformed("<a>x\0y</a>", 10));
	t_case("malformed NUL at end", expect_malformed("<a></a>\0", 8));
}

/* Every truncation of a real document is an error (until the root closes). */
static void test_truncations(void)
{
	const char *docs[] = {assume_role, web_identity, error_doc};

	for (size_t d = 0; d < 3; d++) {
		const char *doc = docs[d];
		size_t n = strlen(doc), root_end = n;
		int bad = 0;

		while (root_end > 0 && doc[root_end - 1] != '>')
			root_end--;
		for (size_t i = 0; i < root_end; i++)
			if (!expect_malformed(doc, i))
				bad++;
		t_case(d == 0 ? "truncations assume_role" : d == 1 ? "truncations web_identity"
								 : "truncations error",
		       bad == 0);
	}
}

static void test_limits(void)
{
	struct buf doc, out;
	struct err e;

	/* depth: 32 open elements fine, 33 not */
	buf_init(&doc, 1 << 21);
	for (int i = 0; i < XML_MAX_DEPTH; i++)
		CHECK(buf_append_str(&doc, "<a>") == 0);
	CHECK(buf_append_str(&doc, "v") == 0);
	for (int i = 0; i < XML_MAX_DEPTH; i++)
		CHECK(buf_append_str(&doc, "</a>") == 0);
	buf_init(&out, 16);
	{
		const char *path[XML_MAX_DEPTH + 1];
		for (int i = 0; i < XML_MAX_DEPTH; i++)
			path[i] = "a";
		path[XML_MAX_DEPTH] = NULL;
		CHECK(xml_find_text(doc.p, doc.len, path, &out, &e) == 1);
		CHECK(out.len == 1 && out.p[0] == 'v');
	}
	buf_reset(&doc);
	for (int i = 0; i <= XML_MAX_DEPTH; i++)
		CHECK(buf_append_str(&doc, "<a>") == 0);
	for (int i = 0; i <= XML_MAX_DEPTH; i++)
		CHECK(buf_append_str(&doc, "</a>") == 0);
	CHECK(xml_find_text(doc.p, doc.len, P("a"), &out, &e) == -1);
	CHECK(e.cls == ERR_PROTO && strstr(e.msg, "deeply") != NULL);

	/* output limit: 16 bytes fit, 17 do not */
	buf_reset(&out);
	CHECK(xml_find_text("<a>0123456789abcdef</a>", 23, P("a"), &out, &e) == 1);
	buf_reset(&out);
	CHECK(xml_find_text("<a>0123456789abcdefg</a>", 24, P("a"), &out, &e) == -1);
	CHECK(e.cls == ERR_PROTO);
	buf_reset(&out);
	CHECK(xml_find_text("<a>0123456789abcde&#xe9;</a>", 28, P("a"), &out, &e) == -1);
	buf_reset(&out);
	CHECK(xml_find_text("<a><![CDATA[0123456789abcdefg]]></a>", 36, P("a"), &out, &e) == -1);

	/* document size */
	buf_reset(&doc);
	CHECK(buf_append_str(&doc, "<a>") == 0);
	while (doc.len < XML_MAX_DOC - 4)
		CHECK(buf_append_byte(&doc, 'x') == 0);
	CHECK(buf_append_str(&doc, "</a>") == 0);
	buf_reset(&out);
	CHECK(xml_find_text(doc.p, doc.len, P("b"), &out, &e) == 0);
	CHECK(buf_append_byte(&doc, '\n') == 0);
	CHECK(xml_find_text(doc.p, doc.len, P("b"), &out, &e) == -1);
	CHECK(strstr(e.msg, "too large") != NULL);
	buf_free(&doc);
	buf_free(&out);
}

/* The pull API: the exact event sequence, and a sticky error. */
static void test_events(void)
{
	const char *doc = "<?xml version='1.0'?><p:r a='1'><x>t&amp;</x><y/><![CDATA[c]]></p:r>";
	struct xml_reader r;
	struct xml_event ev;
	struct err e;
	char seq[256];
	size_t len = 0;
	int k;

	xml_init(&r, doc, strlen(doc));
	while ((k = xml_next(&r, &ev, &e)) == 1) {
		const struct slice *s = ev.type == XML_START || ev.type == XML_END ? &ev.local : &ev.text;
		int w = snprintf(seq + len, sizeof seq - len, "%c%d:%.*s ", "?SETC"[ev.type], ev.depth,
				 (int)s->n, (const char *)s->p);
		if (w > 0 && (size_t)w < sizeof seq - len)
			len += (size_t)w;
	}
	CHECK(k == 0);
	seq[len] = 0;
	CHECK_STR(seq, "S1:r S2:x T2:t&amp; E2:x S2:y E2:y C1:c E1:r ");
	CHECK(xml_next(&r, &ev, &e) == 0); /* EOF stays EOF */

	xml_init(&r, "<a><b></a>", 10);
	CHECK(xml_next(&r, &ev, &e) == 1 && ev.type == XML_START);
	CHECK(xml_next(&r, &ev, &e) == 1 && ev.type == XML_START && slice_eq_str(ev.name, "b"));
	CHECK(xml_next(&r, &ev, &e) == -1 && strstr(e.msg, "mismatched") != NULL);
	CHECK(xml_next(&r, &ev, &e) == -1); /* sticky */

	{
		struct buf out;
		buf_init(&out, 64);
		CHECK(xml_decode(SLICE_LIT("a&lt;b&#x41;"), &out, &e) == 0);
		CHECK(out.len == 4 && memcmp(out.p, "a<bA", 4) == 0);
		CHECK(xml_decode(SLICE_LIT("a&lt"), NULL, &e) == -1);
		buf_free(&out);
	}
}

int main(int argc, char **argv)
{
	(void)argc;
	page = sysconf(_SC_PAGESIZE);
	T_RUN(test_assume_role);
	T_RUN(test_web_identity_and_error);
	T_RUN(test_constructs);
	T_RUN(test_malformed);
	T_RUN(test_truncations);
	T_RUN(test_limits);
	T_RUN(test_events);
	return t_done(argv[0]);
}
