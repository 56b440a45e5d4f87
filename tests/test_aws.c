/* test_aws: the pure parts of the AWS call layer: error decoding, retry
 * classification, backoff bounds, host regions, endpoint resolution. */
#include <stdarg.h>

#include "t.h"

#include "aws/aws.h"

static void decode(const char *th, const char *mh, const char *body, const char *want_type,
		   const char *want_msg)
{
	char type[128], msg[256];

	aws_decode_error(th, mh, body, body ? strlen(body) : 0, type, sizeof type, msg, sizeof msg);
	CHECK_STR(type, want_type);
	CHECK_STR(msg, want_msg);
}

static void test_decode_error(void)
{
	/* header type (part before ':') wins; message from the body */
	decode("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/", NULL,
	       "{\"message\":\"Bad input.\"}", "ValidationException", "Bad input.");
	/* body __type with a namespace, "Message" spelling */
	decode(NULL, NULL, "{\"__type\":\"com.amazon.coral.service#ThrottlingException\",\"Message\":\"Slow\"}",
	       "ThrottlingException", "Slow");
	decode(NULL, NULL, "{\"code\":\"AccessDeniedException\",\"message\":\"no\"}",
	       "AccessDeniedException", "no");
	/* header message when the body has none, empty body */
	decode("ThrottlingException", "Rate exceeded", "", "ThrottlingException", "Rate exceeded");
	decode("ThrottlingException", "Rate exceeded", NULL, "ThrottlingException", "Rate exceeded");
	/* body message beats header message */
	decode(NULL, "header msg", "{\"message\":\"body msg\"}", "", "body msg");
	/* nothing at all */
	decode(NULL, NULL, "", "", "");
	decode(NULL, NULL, "not json", "", "");
	decode(NULL, NULL, "{\"message\":", "", "");
	/* escapes decoded, control characters and newlines flattened */
	decode(NULL, NULL, "{\"__type\":\"X\",\"message\":\"a\\nb\\u0001c \\\"q\\\"\"}", "X", "a b c \"q\"");
	/* STS XML */
	decode(NULL, NULL,
	       "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
	       "<Code>ExpiredToken</Code><Message>The security token included in the request is expired"
	       "</Message></Error><RequestId>x</RequestId></ErrorResponse>",
	       "ExpiredToken", "The security token included in the request is expired");
	/* whitespace before JSON */
	decode(NULL, NULL, "\n  {\"__type\":\"A\"}", "A", "");
}

static void test_decode_error_truncates(void)
{
	char type[8], msg[8];

	aws_decode_error("VeryLongExceptionName", NULL, "{\"message\":\"a long message\"}", 28, type,
			 sizeof type, msg, sizeof msg);
	CHECK(strlen(type) == 7);
	CHECK_STR(msg, "a long"); /* cut to the buffer, trailing space dropped */
	/* a destination of size 0 is never touched, not even read (JSON and XML) */
	strcpy(msg, "kept");
	aws_decode_error(NULL, NULL, "{\"__type\":\"T\",\"message\":\"m\"}", 28, NULL, 0, msg,
			 sizeof msg);
	CHECK_STR(msg, "m");
	strcpy(type, "kept");
	aws_decode_error(NULL, "hdr", "<ErrorResponse><Error><Code>C</Code></Error></ErrorResponse>", 60,
			 type, sizeof type, NULL, 0);
	CHECK_STR(type, "C");
}

static void test_retryable(void)
{
	CHECK(aws_retryable(429, ""));
	CHECK(aws_retryable(500, NULL));
	CHECK(aws_retryable(502, "InternalServerException"));
	CHECK(aws_retryable(503, "ServiceUnavailableException"));
	CHECK(aws_retryable(504, ""));
	CHECK(aws_retryable(400, "ThrottlingException"));
	CHECK(aws_retryable(400, "TooManyRequestsException"));
	CHECK(aws_retryable(429, "ModelNotReadyException"));
	CHECK(aws_retryable(400, "ModelNotReadyException"));
	CHECK(aws_retryable(400, "RequestTimeout"));
	CHECK(!aws_retryable(400, "ValidationException"));
	CHECK(!aws_retryable(403, "AccessDeniedException"));
	CHECK(!aws_retryable(404, "ResourceNotFoundException"));
	CHECK(!aws_retryable(200, "UnknownOperationException"));
	CHECK(!aws_retryable(403, "InvalidSignatureException"));
	CHECK(!aws_retryable(408, "ModelTimeoutException"));
}

static void test_creds_and_skew_errors(void)
{
	CHECK(aws_creds_error("UnrecognizedClientException"));
	CHECK(aws_creds_error("InvalidSignatureException"));
	CHECK(aws_creds_error("ExpiredTokenException"));
	CHECK(aws_creds_error("IncompleteSignatureException"));
	CHECK(aws_creds_error("InvalidClientTokenId"));
	CHECK(aws_creds_error("ExpiredToken"));
	CHECK(!aws_creds_error("AccessDeniedException"));
	CHECK(!aws_creds_error("ValidationException"));
	CHECK(!aws_creds_error(""));
	CHECK(!aws_creds_error(NULL));
	CHECK(aws_skew_error("InvalidSignatureException",
			     "Signature expired: 20240101T000000Z is now earlier than ..."));
	CHECK(aws_skew_error("InvalidSignatureException", "Signature not yet current: ..."));
	CHECK(aws_skew_error("RequestTimeTooSkewed", ""));
	CHECK(aws_skew_error("SignatureDoesNotMatch", "Signature expired: ..."));
	CHECK(!aws_skew_error("InvalidSignatureException",
			      "The request signature we calculated does not match the signature you provided."));
	CHECK(!aws_skew_error("ThrottlingException", "Signature expired"));
	CHECK(!aws_skew_error(NULL, NULL));
}

static void test_backoff_bounds(void)
{
	static const uint32_t rs[] = {0, 1, 999, 1000, 1001, 65535, 123456789, 0xFFFFFFFFu};
	size_t i;
	int n;

	for (n = 1; n <= 40; n++) {
		unsigned cap = n >= 6 ? 20000 : 1000u << (n - 1), max = 0;

		for (i = 0; i < sizeof rs / sizeof rs[0]; i++) {
			unsigned ms = aws_backoff_ms(n, rs[i]);

			CHECK(ms <= cap);
			if (ms > max)
				max = ms;
		}
		CHECK(aws_backoff_ms(n, 0) == 0);
		CHECK(aws_backoff_ms(n, cap) == cap); /* the bound itself is reachable */
		CHECK(max > cap / 4);
	}
	CHECK(aws_backoff_ms(0, 5000) <= 1000);
	CHECK(aws_backoff_ms(-3, 5000) <= 1000);
}

static void host(const char *h, const char *want)
{
	char out[64];
	int r = aws_host_region(h, out, sizeof out);

	if (want) {
		CHECK(r == 1);
		CHECK_STR(out, want);
	} else {
		CHECK(r == 0);
		CHECK_STR(out, "");
	}
}

static void test_host_region(void)
{
	host("bedrock-runtime.eu-west-1.amazonaws.com", "eu-west-1");
	host("bedrock.us-east-1.amazonaws.com", "us-east-1");
	host("bedrock-runtime-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1");
	host("bedrock-fips.us-east-2.amazonaws.com", "us-east-2");
	host("bedrock-runtime.cn-north-1.amazonaws.com.cn", "cn-north-1");
	host("sts.ap-southeast-2.amazonaws.com", "ap-southeast-2");
	host("portal.sso.eu-central-1.amazonaws.com", "eu-central-1");
	host("oidc.us-west-2.amazonaws.com", "us-west-2");
	host("bedrock-runtime.us-east-1.amazonaws.com.", "us-east-1");
	host("sts.amazonaws.com", NULL);
	host("bedrock-runtime.amazonaws.com", NULL);
	host("127.0.0.1", NULL);
	host("localhost", NULL);
	host("evil-bedrock-runtime.us-east-1.amazonaws.com", NULL);
	host("bedrock-runtime.us-east-1.example.com", NULL);
	host("x.bedrock-runtime.us-east-1.amazonaws.com", NULL);
	host("bedrock-runtime.US-EAST-1.amazonaws.com", NULL);
	host("bedrock-runtime.useast1.amazonaws.com", NULL);
	host("bedrock-runtime.us-east-x.amazonaws.com", NULL);
	host("bedrock-runtime..amazonaws.com", NULL);
	host("", NULL);
}

struct fake {
	char *vars[16];
	struct env env;
	struct aws a;
};

static void fake_init(struct fake *f, const char *region, const char *base_url, ...)
{
	va_list ap;
	const char *v;
	size_t n = 0;

	memset(f, 0, sizeof *f);
	va_start(ap, base_url);
	while ((v = va_arg(ap, const char *)) != NULL && n < 15)
		f->vars[n++] = (char *)v;
	va_end(ap);
	f->vars[n] = NULL;
	f->env.vars = f->vars;
	aws_init(&f->a, &f->env, NULL);
	snprintf(f->a.region, sizeof f->a.region, "%s", region);
	f->a.runtime_base_url = base_url;
}

static void ep(struct fake *f, enum aws_service svc, const char *base, const char *sreg,
	       const char *sname)
{
	struct aws_endpoint out;
	struct err e = {0, ""};

	CHECK(aws_endpoint(&f->a, svc, &out, &e) == 0);
	CHECK_STR(out.base, base);
	CHECK_STR(out.signing_region, sreg);
	CHECK_STR(out.signing_name, sname);
	aws_free(&f->a);
}

static void test_endpoints(void)
{
	struct fake f;
	struct aws_endpoint out;
	struct err e = {0, ""};

	fake_init(&f, "eu-west-3", NULL, (char *)NULL);
	ep(&f, AWS_SVC_RUNTIME, "https://bedrock-runtime.eu-west-3.amazonaws.com", "eu-west-3", "bedrock");
	fake_init(&f, "eu-west-3", NULL, (char *)NULL);
	ep(&f, AWS_SVC_CONTROL, "https://bedrock.eu-west-3.amazonaws.com", "eu-west-3", "bedrock");
	fake_init(&f, "eu-west-3", NULL, (char *)NULL);
	ep(&f, AWS_SVC_STS, "https://sts.eu-west-3.amazonaws.com", "eu-west-3", "sts");
	fake_init(&f, "eu-west-3", NULL, (char *)NULL);
	ep(&f, AWS_SVC_SSO, "https://portal.sso.eu-west-3.amazonaws.com", "eu-west-3", "awsssoportal");
	fake_init(&f, "cn-north-1", NULL, (char *)NULL);
	ep(&f, AWS_SVC_RUNTIME, "https://bedrock-runtime.cn-north-1.amazonaws.com.cn", "cn-north-1", "bedrock");

	/* the service variable beats the generic one, which beats baseUrl */
	fake_init(&f, "us-east-1", "https://bedrock-runtime.eu-west-1.amazonaws.com",
		  "AWS_ENDPOINT_URL=http://127.0.0.1:9000/", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME=http://[::1]:8443/base/",
		  (char *)NULL);
	ep(&f, AWS_SVC_RUNTIME, "http://[::1]:8443/base", "us-east-1", "bedrock");
	fake_init(&f, "us-east-1", "https://bedrock-runtime.eu-west-1.amazonaws.com",
		  "AWS_ENDPOINT_URL=http://127.0.0.1:9000/", (char *)NULL);
	ep(&f, AWS_SVC_RUNTIME, "http://127.0.0.1:9000", "us-east-1", "bedrock");
	fake_init(&f, "us-east-1", "https://bedrock-runtime.eu-west-1.amazonaws.com",
		  "AWS_ENDPOINT_URL=http://127.0.0.1:9000/", (char *)NULL);
	ep(&f, AWS_SVC_STS, "http://127.0.0.1:9000", "us-east-1", "sts");
	/* baseUrl: only for the runtime; its standard host names the signing region */
	fake_init(&f, "us-east-1", "https://bedrock-runtime.eu-west-1.amazonaws.com/", (char *)NULL);
	ep(&f, AWS_SVC_RUNTIME, "https://bedrock-runtime.eu-west-1.amazonaws.com", "eu-west-1", "bedrock");
	fake_init(&f, "us-east-1", "https://bedrock-runtime.eu-west-1.amazonaws.com/", (char *)NULL);
	ep(&f, AWS_SVC_CONTROL, "https://bedrock.us-east-1.amazonaws.com", "us-east-1", "bedrock");
	/* whitespace-only variables are unset */
	fake_init(&f, "us-west-2", NULL, "AWS_ENDPOINT_URL_BEDROCK=   ", (char *)NULL);
	ep(&f, AWS_SVC_CONTROL, "https://bedrock.us-west-2.amazonaws.com", "us-west-2", "bedrock");
	/* an override that is a standard host signs for its own region */
	fake_init(&f, "us-east-1", NULL, "AWS_ENDPOINT_URL_BEDROCK=https://bedrock-fips.us-gov-east-1.amazonaws.com",
		  (char *)NULL);
	ep(&f, AWS_SVC_CONTROL, "https://bedrock-fips.us-gov-east-1.amazonaws.com", "us-gov-east-1", "bedrock");

	/* errors */
	fake_init(&f, "us-east-1", NULL, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME=ftp://x", (char *)NULL);
	CHECK(aws_endpoint(&f.a, AWS_SVC_RUNTIME, &out, &e) < 0 && e.cls == ERR_USAGE);
	CHECK(strstr(e.msg, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME") != NULL);
	aws_free(&f.a);
	fake_init(&f, "us-east-1", NULL, "AWS_ENDPOINT_URL=https://u:p@host", (char *)NULL);
	CHECK(aws_endpoint(&f.a, AWS_SVC_RUNTIME, &out, &e) < 0 && e.cls == ERR_USAGE);
	CHECK(strstr(e.msg, ":p@") == NULL);
	aws_free(&f.a);
	fake_init(&f, "us-east-1", NULL, "AWS_ENDPOINT_URL=https://host/?x=1", (char *)NULL);
	CHECK(aws_endpoint(&f.a, AWS_SVC_RUNTIME, &out, &e) < 0 && e.cls == ERR_USAGE);
	aws_free(&f.a);
	fake_init(&f, "us-east-1/../evil", NULL, (char *)NULL);
	CHECK(aws_endpoint(&f.a, AWS_SVC_RUNTIME, &out, &e) < 0 && e.cls == ERR_USAGE);
	aws_free(&f.a);
	/* another region for one call (SSO) */
	fake_init(&f, "us-east-1", NULL, (char *)NULL);
	CHECK(aws_endpoint_region(&f.a, AWS_SVC_SSO, "ap-south-1", &out, &e) == 0);
	CHECK_STR(out.base, "https://portal.sso.ap-south-1.amazonaws.com");
	CHECK_STR(out.signing_region, "ap-south-1");
	aws_free(&f.a);
}

static void test_max_attempts(void)
{
	struct fake f;

	fake_init(&f, "us-east-1", NULL, (char *)NULL);
	CHECK(f.a.max_attempts == 3);
	aws_free(&f.a);
	fake_init(&f, "us-east-1", NULL, "AWS_MAX_ATTEMPTS=1", (char *)NULL);
	CHECK(f.a.max_attempts == 1);
	aws_free(&f.a);
	fake_init(&f, "us-east-1", NULL, "AWS_MAX_ATTEMPTS=7", (char *)NULL);
	CHECK(f.a.max_attempts == 7);
	aws_free(&f.a);
	fake_init(&f, "us-east-1", NULL, "AWS_MAX_ATTEMPTS=0", (char *)NULL);
	CHECK(f.a.max_attempts == 3);
	aws_free(&f.a);
	fake_init(&f, "us-east-1", NULL, "AWS_MAX_ATTEMPTS=abc", (char *)NULL);
	CHECK(f.a.max_attempts == 3);
	aws_free(&f.a);
}

static void test_response_header(void)
{
	struct aws_response r;
	struct slice v;

	aws_response_init(&r);
	buf_append_str(&r.headers, "Content-Type: application/json\nx-amzn-RequestId: abc-123\nDate: Tue, 24 Nov 2026 23:02:43 GMT\n");
	CHECK(aws_response_header(&r, "x-amzn-requestid", &v) == 1 && slice_eq_str(v, "abc-123"));
	CHECK(aws_response_header(&r, "date", &v) == 1 && slice_eq_str(v, "Tue, 24 Nov 2026 23:02:43 GMT"));
	CHECK(aws_response_header(&r, "x-amzn", &v) == 0 && v.n == 0);
	CHECK(aws_response_header(&r, "Content-Length", &v) == 0);
	aws_response_free(&r);
}

static time_t fixed_now(void)
{
	return 1440938160; /* 2015-08-30T12:36:00Z */
}

static const char *wire_get(const struct aws_wire *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nh; i++)
		if (strcmp(w->h[i].name, name) == 0)
			return w->h[i].value;
	return NULL;
}

/* The signed wire form the HTTP/2 path sends: the same headers aws_call
 * writes, a deterministic signature for a fixed clock, re-signable. */
static void test_wire_sign(void)
{
	static const char want_auth[] =
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, "
		"SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=";
	struct aws_request rq;
	struct aws_creds c;
	struct aws_wire w;
	struct fake f;
	struct err e = {0, ""};
	char first[256];
	const char *auth;

	fake_init(&f, "us-east-1", NULL, (char *)NULL);
	f.a.now = fixed_now;
	memset(&c, 0, sizeof c);
	snprintf(c.akid, sizeof c.akid, "AKIDEXAMPLE");
	snprintf(c.secret, sizeof c.secret, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	snprintf(c.token, sizeof c.token, "tok");
	memset(&rq, 0, sizeof rq);
	rq.svc = AWS_SVC_RUNTIME;
	rq.method = "POST";
	rq.path = "/model/m/converse-stream";
	rq.content_type = "application/json";
	rq.accept = "application/vnd.amazon.eventstream";
	rq.body = "{}";
	rq.body_len = 2;
	CHECK(aws_wire_open(&f.a, &rq, &w, &e) == 0);
	CHECK_STR((const char *)w.url.p, "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse-stream");
	CHECK(aws_wire_sign(&f.a, &c, &rq, &w, &e) == 0);
	CHECK_STR(wire_get(&w, "Host"), "bedrock-runtime.us-east-1.amazonaws.com");
	CHECK_STR(wire_get(&w, "X-Amz-Date"), "20150830T123600Z");
	CHECK_STR(wire_get(&w, "X-Amz-Security-Token"), "tok");
	CHECK_STR(wire_get(&w, "Accept"), "application/vnd.amazon.eventstream");
	auth = wire_get(&w, "Authorization");
	CHECK(auth && strncmp(auth, want_auth, sizeof want_auth - 1) == 0 &&
	      strlen(auth) == sizeof want_auth - 1 + 64);
	snprintf(first, sizeof first, "%s", auth ? auth : "");
	CHECK(aws_wire_sign(&f.a, &c, &rq, &w, &e) == 0); /* the next attempt */
	CHECK_STR(wire_get(&w, "Authorization"), first);
	rq.body = "{ }";
	rq.body_len = 3;
	CHECK(aws_wire_sign(&f.a, &c, &rq, &w, &e) == 0);
	CHECK(strcmp(wire_get(&w, "Authorization"), first) != 0);
	snprintf(c.bearer, sizeof c.bearer, "bk");
	CHECK(aws_wire_sign(&f.a, &c, &rq, &w, &e) == 0);
	CHECK_STR(wire_get(&w, "Authorization"), "Bearer bk");
	CHECK(wire_get(&w, "X-Amz-Date") == NULL);
	aws_wire_close(&w);
	aws_creds_wipe(&c);
	aws_free(&f.a);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_decode_error);
	T_RUN(test_decode_error_truncates);
	T_RUN(test_retryable);
	T_RUN(test_creds_and_skew_errors);
	T_RUN(test_backoff_bounds);
	T_RUN(test_host_region);
	T_RUN(test_endpoints);
	T_RUN(test_max_attempts);
	T_RUN(test_response_header);
	T_RUN(test_wire_sign);
	return t_done(argv[0]);
}
