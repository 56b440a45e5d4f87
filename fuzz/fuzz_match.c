/* fuzz_match: the small matchers that decide where a request may go: the
 * per-key model globs (policy_glob, policy_model_allowed), the region of an
 * endpoint host (aws_host_region) and of a model ARN (conv_arn_region).
 * Input: byte 0 picks the matcher (low 2 bits) and the destination size (the
 * rest), then NUL-separated strings. Oracles: policy_glob agrees with
 * fnmatch(3) on every glob without '[' or '\' (the only syntax they do not
 * share); a model is allowed exactly when a glob matches its id or
 * "amazon-bedrock/<id>", and an empty list allows all; a region found is
 * lower-case letters, digits and '-', fits, and sits in the host between
 * the service and ".amazonaws.com"; an ARN's region is its fourth field. */
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "bedrock/converse.h"
#include "bedrock/policy.h"

static void must(int cond)
{
	if (!cond)
		abort();
}

static void globs(const char *g, const char *s)
{
	int ours = policy_glob(g, s);

	if (!strpbrk(g, "[\\"))
		must(ours == (fnmatch(g, s, 0) == 0));
}

/* list: NUL-terminated globs packed in list[0..n). */
static void allowed(const char *list, size_t n, const char *id)
{
	char ref[1024];
	int any = n == 0, have_ref = strlen(id) + sizeof "amazon-bedrock/" <= sizeof ref;

	if (have_ref) {
		memcpy(ref, "amazon-bedrock/", 15);
		memcpy(ref + 15, id, strlen(id) + 1);
	}
	for (size_t i = 0; i < n; i += strlen(list + i) + 1)
		any = any || policy_glob(list + i, id) || (have_ref && policy_glob(list + i, ref));
	must(policy_model_allowed(list, n, id) == any);
}

static void host_region(const char *host, size_t cap)
{
	char *out = malloc(cap ? cap : 1); /* exact size */
	char needle[80];

	if (!out)
		return;
	if (aws_host_region(host, out, cap)) {
		must(memchr(out, 0, cap) != NULL && out[0] != 0);
		for (const char *c = out; *c; c++) /* it goes into URLs and the signing scope */
			must((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-');
		must(strlen(out) + sizeof ".amazonaws.com" + 1 <= sizeof needle);
		strcpy(needle, ".");
		strcat(needle, out);
		strcat(needle, ".amazonaws.com");
		must(strstr(host, needle) != NULL);
	}
	free(out);
}

static void arn_region(const char *id, size_t cap)
{
	char *out = malloc(cap ? cap : 1);
	const char *p = id, *r;

	if (!out)
		return;
	r = conv_arn_region(id, out, cap);
	if (r) {
		must(r == out && strncmp(id, "arn:", 4) == 0);
		for (int i = 0; i < 3; i++)
			p = strchr(p, ':') + 1;
		must(strlen(out) > 0 && strlen(out) < cap && strncmp(p, out, strlen(out)) == 0 &&
		     p[strlen(out)] == ':');
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t n, cap;

	if (size < 1 || size > 4096)
		return 0;
	n = size - 1;
	s = malloc(n + 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = 0;
	cap = (size_t)(data[0] >> 2);
	switch (data[0] & 3) {
	case 0: /* glob NUL subject */
		globs(s, strlen(s) < n ? s + strlen(s) + 1 : "");
		break;
	case 1: { /* glob NUL glob NUL ... NUL id: the id is after the last NUL */
		size_t list = n;

		while (list && s[list - 1] != 0)
			list--;

		allowed(s, list, s + list);
		break;
	}
	case 2:
		host_region(s, cap);
		break;
	default:
		arn_region(s, cap);
		break;
	}
	free(s);
	return 0;
}
