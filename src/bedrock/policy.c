/* policy: globs, windows, periods and costs of the per-key policy (see
 * policy.h). */
#include "bedrock/policy.h"

#include <math.h>
#include <string.h>

#include "base/timefmt.h"
#include "bedrock/catalog.h"

/* Iterative matcher: on a mismatch after a '*', the star takes one more
 * character and matching resumes there. Linear space, no recursion. */
int policy_glob(const char *g, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*g == '*') {
			star = g++;
			resume = s;
		} else if (*g && (*g == '?' || *g == *s)) {
			g++;
			s++;
		} else if (star) {
			g = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*g == '*')
		g++;
	return *g == '\0';
}

int policy_model_allowed(const char *globs, size_t n, const char *model_id)
{
	static const char pfx[] = CATALOG_PROVIDER "/";
	char ref[1024];
	size_t i = 0, idn = strlen(model_id);
	int have_ref = sizeof pfx - 1 + idn < sizeof ref;

	if (n == 0)
		return 1;
	if (have_ref) {
		memcpy(ref, pfx, sizeof pfx - 1);
		memcpy(ref + sizeof pfx - 1, model_id, idn + 1);
	}
	while (i < n) {
		const char *g = globs + i;
		size_t gl = strnlen(g, n - i);

		if (gl == n - i)
			return 0; /* not NUL-terminated: the packing is broken */
		if (policy_glob(g, model_id) || (have_ref && policy_glob(g, ref)))
			return 1;
		i += gl + 1;
	}
	return 0;
}

void policy_window_add(struct policy_window *w, int64_t now_s, int64_t v)
{
	size_t k = (size_t)(((now_s % POLICY_WINDOW_S) + POLICY_WINDOW_S) % POLICY_WINDOW_S);

	if (w->sec[k] != now_s) {
		w->sec[k] = now_s;
		w->n[k] = 0;
	}
	if (v > 0 && w->n[k] <= INT64_MAX - v)
		w->n[k] += v;
}

/* The sum of the buckets that are still inside the window at time at. */
static int64_t window_sum_at(const struct policy_window *w, int64_t at)
{
	int64_t sum = 0;
	size_t i;

	for (i = 0; i < POLICY_WINDOW_S; i++) {
		int64_t age = at - w->sec[i];

		if (w->n[i] > 0 && age >= 0 && age < POLICY_WINDOW_S && sum <= INT64_MAX - w->n[i])
			sum += w->n[i];
	}
	return sum;
}

int64_t policy_window_sum(const struct policy_window *w, int64_t now_s)
{
	return window_sum_at(w, now_s);
}

int64_t policy_window_wait(const struct policy_window *w, int64_t now_s, int64_t limit)
{
	int64_t t;

	if (window_sum_at(w, now_s) < limit)
		return 0;
	for (t = 1; t < POLICY_WINDOW_S; t++)
		if (window_sum_at(w, now_s + t) < limit)
			return t;
	return POLICY_WINDOW_S;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t policy_period_start(int64_t t, enum policy_period p)
{
	int64_t day = floor_div(t, 86400), y;
	int m, d;

	if (p != POLICY_MONTH)
		return day;
	timefmt_civil_from_days(day, &y, &m, &d);
	return day - (d - 1);
}

int64_t policy_period_left(int64_t t, enum policy_period p)
{
	int64_t start = policy_period_start(t, p), next, y;
	int m, d;

	if (p != POLICY_MONTH) {
		next = start + 1;
	} else {
		timefmt_civil_from_days(start, &y, &m, &d);
		next = start + timefmt_days_in_month(y, m);
	}
	return next * 86400 - t;
}

int64_t policy_cost_nanos(const struct config_cost *c, const struct conv_usage *u)
{
	/* tokens x USD per 1M tokens / 1e6 = USD; x 1e9 = nano-dollars */
	double v = 0;

	if (u->input_tokens > 0)
		v += (double)u->input_tokens * c->input;
	if (u->output_tokens > 0)
		v += (double)u->output_tokens * c->output;
	if (u->cache_read > 0)
		v += (double)u->cache_read * c->cache_read;
	if (u->cache_write > 0)
		v += (double)u->cache_write * c->cache_write;
	v *= 1000.0;
	if (!(v >= 0) || v > 9.0e18)
		return v > 0 ? INT64_MAX : 0;
	return (int64_t)llround(v);
}
