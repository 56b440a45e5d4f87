/* aws_endpoint: where each AWS service is reached (SPEC section 2) and the
 * region a standard AWS host name names. */
#include <stdio.h>
#include <string.h>

#include "aws/aws.h"
#include "wire/url.h"

struct aws_svc_info {
	const char *env;    /* AWS_ENDPOINT_URL_<SVC> */
	const char *prefix; /* host prefix of the standard endpoint */
	const char *signing_name;
};

static const struct aws_svc_info aws_svcs[AWS_SVC_COUNT] = {
	[AWS_SVC_RUNTIME] = {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "bedrock-runtime", "bedrock"},
	[AWS_SVC_CONTROL] = {"AWS_ENDPOINT_URL_BEDROCK", "bedrock", "bedrock"},
	[AWS_SVC_STS] = {"AWS_ENDPOINT_URL_STS", "sts", "sts"},
	[AWS_SVC_SSO] = {"AWS_ENDPOINT_URL_SSO", "portal.sso", "awsssoportal"},
	[AWS_SVC_SSO_OIDC] = {"AWS_ENDPOINT_URL_SSO_OIDC", "oidc", "sso-oauth"},
};

/* A region name as AWS spells them: "us-east-1", "us-gov-west-1",
 * "cn-north-1", "eu-central-2": lower-case words joined by '-', the last
 * one a number, at least three parts. */
static int aws_region_valid(const char *s, size_t n)
{
	size_t i, parts = 1, last = 0;

	if (n < 4 || n >= AWS_REGION_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '-') {
			if (i == 0 || i + 1 == n || s[i - 1] == '-')
				return 0;
			parts++;
			last = i + 1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			return 0;
		}
	}
	if (parts < 3)
		return 0;
	for (i = last; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int aws_ends_with(const char *s, size_t n, const char *suf, size_t *stem)
{
	size_t k = strlen(suf);

	if (n < k || memcmp(s + n - k, suf, k) != 0)
		return 0;
	*stem = n - k;
	return 1;
}

int aws_host_region(const char *host, char *out, size_t n)
{
	static const char *const prefixes[] = {"bedrock-runtime", "bedrock", "sts",
					       "portal.sso", "oidc", NULL};
	size_t len = strlen(host), stem, i;
	const char *dot;

	if (n)
		out[0] = '\0';
	if (len && host[len - 1] == '.')
		len--; /* a fully qualified name */
	if (!aws_ends_with(host, len, ".amazonaws.com", &stem) &&
	    !aws_ends_with(host, len, ".amazonaws.com.cn", &stem))
		return 0;
	/* host[0..stem) = "<prefix>[-fips].<region>" */
	dot = NULL;
	for (i = stem; i > 0; i--)
		if (host[i - 1] == '.') {
			dot = host + i - 1;
			break;
		}
	if (!dot)
		return 0;
	for (i = 0; prefixes[i]; i++) {
		size_t pl = strlen(prefixes[i]), hl = (size_t)(dot - host);

		if ((hl == pl && memcmp(host, prefixes[i], pl) == 0) ||
		    (hl == pl + 5 && memcmp(host, prefixes[i], pl) == 0 &&
		     memcmp(host + pl, "-fips", 5) == 0))
			break;
	}
	if (!prefixes[i])
		return 0;
	{
		const char *reg = dot + 1;
		size_t rl = (size_t)(host + stem - reg);

		if (!aws_region_valid(reg, rl) || rl + 1 > n)
			return 0;
		memcpy(out, reg, rl);
		out[rl] = '\0';
	}
	return 1;
}

/* Copies an endpoint URL into out->base without a trailing '/', after
 * checking that it parses and carries nothing a base cannot have. */
static int aws_endpoint_set(struct aws_endpoint *out, const char *url, const char *what,
			    struct err *e)
{
	struct url u;
	size_t n = strlen(url);

	if (url_parse(&u, url, e) < 0)
		return err_wrap(e, "%s", what);
	if (u.has_userinfo || u.has_query || memchr(url, '#', n)) {
		url_wipe(&u);
		return err_set(e, ERR_USAGE, "%s: an endpoint URL takes no user, query or fragment",
			       what);
	}
	while (n && url[n - 1] == '/')
		n--;
	if (n >= sizeof out->base) {
		url_wipe(&u);
		return err_set(e, ERR_USAGE, "%s: URL too long", what);
	}
	memcpy(out->base, url, n);
	out->base[n] = '\0';
	if (!aws_host_region(u.host, out->signing_region, sizeof out->signing_region))
		out->signing_region[0] = '\0';
	url_wipe(&u);
	return 0;
}

static int aws_endpoint_for(const struct aws *a, enum aws_service svc, const char *region,
			    struct aws_endpoint *out, struct err *e)
{
	const struct aws_svc_info *si;
	const char *v;
	char url[AWS_URL_MAX];
	int r;

	memset(out, 0, sizeof *out);
	if ((unsigned)svc >= AWS_SVC_COUNT)
		return err_set(e, ERR_OTHER, "aws: bad service");
	si = &aws_svcs[svc];
	out->signing_name = si->signing_name;
	if (!region || !region[0])
		region = a->region;
	if ((v = env_get(a->env, si->env)) != NULL)
		r = aws_endpoint_set(out, v, si->env, e);
	else if ((v = env_get(a->env, "AWS_ENDPOINT_URL")) != NULL)
		r = aws_endpoint_set(out, v, "AWS_ENDPOINT_URL", e);
	else if (svc == AWS_SVC_RUNTIME && a->runtime_base_url && a->runtime_base_url[0])
		r = aws_endpoint_set(out, a->runtime_base_url,
				     "models.providers[\"amazon-bedrock\"].baseUrl", e);
	else {
		int cn = strncmp(region, "cn-", 3) == 0;

		if (!aws_region_valid(region, strlen(region)))
			return err_set(e, ERR_USAGE, "invalid region '%.64s'", region);
		snprintf(url, sizeof url, "https://%s.%s.amazonaws.com%s", si->prefix, region,
			 cn ? ".cn" : "");
		r = aws_endpoint_set(out, url, "endpoint", e);
	}
	if (r < 0)
		return -1;
	if (!out->signing_region[0]) {
		size_t rl = strlen(region);

		if (rl >= sizeof out->signing_region)
			return err_set(e, ERR_USAGE, "invalid region");
		memcpy(out->signing_region, region, rl + 1);
	}
	return 0;
}

int aws_endpoint(const struct aws *a, enum aws_service svc, struct aws_endpoint *out,
		 struct err *e)
{
	return aws_endpoint_for(a, svc, NULL, out, e);
}

int aws_endpoint_region(const struct aws *a, enum aws_service svc, const char *region,
			struct aws_endpoint *out, struct err *e)
{
	return aws_endpoint_for(a, svc, region, out, e);
}

