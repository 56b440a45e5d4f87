/* creds_region: the region chain (creds.h: creds_region). */
#include <stdio.h>
#include <string.h>

#include "aws/creds_int.h"
#include "wire/url.h"

static int region_valid(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n >= AWS_REGION_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = r[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
	}
	return 1;
}

static int region_set(const char *val, const char *src, char *out, size_t n, char *source,
		      size_t sn, struct err *e)
{
	if (!region_valid(val))
		return err_set(e, ERR_USAGE, "invalid region \"%.64s\" (from %s)", val, src);
	if (creds_copy_str(out, n, val, strlen(val)) != 0)
		return err_set(e, ERR_USAGE, "region too long (from %s)", src);
	snprintf(source, sn, "%s", src);
	return 1;
}

/* The profile's region from the config (and credentials) file. */
static int region_from_profile(const struct env *env, const char *profile, char *out, size_t n,
			       char *source, size_t sn, struct err *e)
{
	struct aws_files f;
	char val[AWS_REGION_MAX];
	char src[300];
	int r;

	if (creds_files_load(env, &f, e) != 0)
		return -1;
	r = profile_get_str(&f.set, profile, "region", val, sizeof val);
	creds_files_free(&f);
	if (r < 0)
		return err_set(e, ERR_USAGE, "profile %s: invalid region (too long)", profile);
	if (r == 0 || val[0] == '\0')
		return 0;
	snprintf(src, sizeof src, "profile:%s", profile);
	return region_set(val, src, out, n, source, sn, e);
}

int creds_region(const struct env *env, const char *flag, const char *profile,
		 const char *discovery_region, const char *base_url, char *out, size_t n,
		 char *source, size_t sn, struct err *e)
{
	static const char *const vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
	char host_region[AWS_REGION_MAX];
	int r;

	if (flag && flag[0])
		return region_set(flag, "--region", out, n, source, sn, e) < 0 ? -1 : 0;
	for (size_t i = 0; i < 2; i++) {
		const char *v = env_get(env, vars[i]);
		char val[AWS_REGION_MAX];

		if (!v)
			continue;
		if (env_get_buf(env, vars[i], val, sizeof val) < 0)
			return err_set(e, ERR_USAGE, "%s is too long", vars[i]);
		return region_set(val, vars[i], out, n, source, sn, e) < 0 ? -1 : 0;
	}
	r = region_from_profile(env, creds_profile_name(env, profile), out, n, source, sn, e);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (discovery_region && discovery_region[0])
		return region_set(discovery_region, "config discovery region", out, n, source, sn,
				  e) < 0
			       ? -1
			       : 0;
	if (base_url && base_url[0]) {
		struct url u;
		struct err ue;

		if (url_parse(&u, base_url, &ue) == 0 &&
		    aws_host_region(u.host, host_region, sizeof host_region))
			return region_set(host_region, "baseUrl", out, n, source, sn, e) < 0 ? -1
											     : 0;
	}
	return region_set("us-east-1", "default", out, n, source, sn, e) < 0 ? -1 : 0;
}
