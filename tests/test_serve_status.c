/* test_serve_status: the counters behind GET /status (cmd_serve_status.c)
 * and the histogram quantile of cmd_serve_obs.c, on a serve struct built
 * here (no server runs): the per-minute ring skips slots of another hour,
 * quantiles are bucket bounds, the error-type table is bounded, the tables
 * by model and by key sum the policy's (key, model) rows, and a model name
 * that is not UTF-8 still gives valid JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cmd/serve.h"
#include "t.h"
#include "wire/json.h"

static struct serve *mk(void)
{
	struct serve *sv = calloc(1, sizeof *sv);

	pthread_mutex_init(&sv->m.mu, NULL);
	pthread_mutex_init(&sv->keys_mu, NULL);
	pthread_rwlock_init(&sv->cfg_mu, NULL);
	sv->keys = calloc(1, sizeof *sv->keys);
	sv->m.st.started_ms = clock_ms();
	snprintf(sv->ctx.aws.region, sizeof sv->ctx.aws.region, "us-east-1");
	return sv;
}

static void rm(struct serve *sv)
{
	free(sv->keys);
	free(sv);
}

/* The status JSON of sv, parsed into d (the caller frees d and b). */
static int render(struct serve *sv, struct buf *b, struct json_doc *d)
{
	struct err e;

	buf_init(b, 1u << 20);
	if (cmd_serve_status_json(sv, b) < 0)
		return -1;
	return json_parse_alloc(d, (const char *)b->p, b->len, 4096, &e);
}

static int64_t num(const struct json_doc *d, const char *path)
{
	int64_t v = -12345;
	struct err e;

	json_int64(d, json_path(d, 0, path), &v, &e);
	return v;
}

static void test_quantile_is_a_bucket_bound(void)
{
	/* cumulative buckets: 0.1 0.25 0.5 1 2.5 5 10 30 60 120 */
	unsigned long long b[SERVE_NBUCKETS] = {0};
	unsigned long long c[SERVE_NBUCKETS] = {2, 5, 9, 10, 10, 10, 10, 10, 10, 10};
	unsigned long long over[SERVE_NBUCKETS] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

	CHECK(cmd_serve_quantile(b, 0, 0.5) == -1);
	CHECK(cmd_serve_quantile(c, 10, 0.2) == 0.1);
	CHECK(cmd_serve_quantile(c, 10, 0.21) == 0.25);
	CHECK(cmd_serve_quantile(c, 10, 0.5) == 0.25);
	CHECK(cmd_serve_quantile(c, 10, 0.9) == 0.5);
	CHECK(cmd_serve_quantile(c, 10, 0.99) == 1);
	CHECK(cmd_serve_quantile(c, 10, 1) == 1);
	/* 1 of 4 within 0.1 s, 3 beyond 120 s */
	CHECK(cmd_serve_quantile(over, 4, 0.25) == 0.1);
	CHECK(cmd_serve_quantile(over, 4, 0.5) == -1);
}

static void test_ring_counts_this_hour_only(void)
{
	struct serve *sv = mk();
	int64_t minute = clock_ms() / 60000;
	struct json_doc d;
	struct buf b;
	int arr, i, n, sum = 0;
	size_t slot;

	pthread_mutex_lock(&sv->m.mu);
	cmd_serve_status_tally(&sv->m, 1, 0);
	cmd_serve_status_tally(&sv->m, 1, 1);
	cmd_serve_status_tally(&sv->m, 0, 1); /* a stream that failed late */
	/* the slot of 30 minutes ago still holds the minute an hour before
	 * that, and the slot of 59 minutes ago is current */
	slot = (size_t)((minute - 30) % SERVE_MINUTES);
	sv->m.st.ring[slot].minute = minute - 30 - SERVE_MINUTES;
	sv->m.st.ring[slot].req = 1000;
	slot = (size_t)((minute - 59) % SERVE_MINUTES);
	sv->m.st.ring[slot].minute = minute - 59;
	sv->m.st.ring[slot].req = 7;
	pthread_mutex_unlock(&sv->m.mu);
	CHECK(render(sv, &b, &d) == 0);
	arr = json_path(&d, 0, "per_minute.requests");
	CHECK(json_size(&d, arr) == SERVE_MINUTES);
	for (i = 0; i < SERVE_MINUTES; i++) {
		int64_t v = -1;
		struct err e;

		json_int64(&d, json_at(&d, arr, (size_t)i), &v, &e);
		sum += (int)v;
	}
	/* unless the minute turned between the tally and the render */
	n = (int)num(&d, "per_minute.requests[59]");
	CHECK(sum == 9 || (sum == 7 && n == 0));
	CHECK(num(&d, "per_minute.requests[0]") == 7 || n == 0);
	CHECK(num(&d, "per_minute.errors[59]") == 2 || n == 0);
	CHECK(num(&d, "requests.total") == 2);
	CHECK(num(&d, "requests.errors") == 2);
	json_doc_free(&d);
	buf_free(&b);
	rm(sv);
}

static void test_upstream_error_types_are_bounded(void)
{
	struct serve *sv = mk();
	struct err e;
	char type[32];
	int i;

	err_set(&e, ERR_NET, "connect: refused");
	cmd_serve_count_upstream_error(sv, NULL, &e);
	cmd_serve_count_upstream_error(sv, NULL, &e);
	cmd_serve_count_upstream_error(sv, "ThrottlingException", &e);
	for (i = 0; i < 40; i++) {
		snprintf(type, sizeof type, "Type%dException", i);
		cmd_serve_count_upstream_error(sv, type, NULL);
	}
	CHECK(sv->m.st.nuperr == SERVE_UPERR_MAX);
	CHECK_STR(sv->m.st.uperr[0].type, "network");
	CHECK(sv->m.st.uperr[0].n == 2);
	CHECK_STR(sv->m.st.uperr[1].type, "ThrottlingException");
	/* the types past the table count in its last slot: nothing is lost */
	CHECK(sv->m.st.uperr[SERVE_UPERR_MAX - 1].n == 40 - (SERVE_UPERR_MAX - 2) + 1);
	rm(sv);
}

static void test_json_sums_the_key_rows(void)
{
	struct serve *sv = mk();
	struct serve_kstate ks;
	struct serve_pair *x;
	struct json_doc d;
	struct buf b;
	struct err e;
	char model[64];

	memset(&ks, 0, sizeof ks);
	snprintf(ks.name, sizeof ks.name, "team-a");
	sv->pol.pairs = calloc(4, sizeof *sv->pol.pairs);
	sv->pol.ks[0] = &ks;
	sv->pol.nks = 1;
	x = sv->pol.pairs;
	/* (team-a, m1), (no key, a name that is not UTF-8), (team-a, m2), (no key, m1) */
	x[0].ks = &ks, x[0].in = 10, x[0].out = 1, x[0].nanos = 1500000000;
	x[0].codes[0].code = 200, x[0].codes[0].n = 2, x[0].codes[1].code = 429, x[0].codes[1].n = 1;
	snprintf(x[0].model, sizeof x[0].model, "m1");
	x[1].in = 5, x[1].codes[0].code = 200, x[1].codes[0].n = 1;
	snprintf(x[1].model, sizeof x[1].model, "bad\xff\xfe-model");
	x[2].ks = &ks, x[2].out = 7, x[2].codes[0].code = 200, x[2].codes[0].n = 4;
	snprintf(x[2].model, sizeof x[2].model, "m2");
	x[3].in = 100, x[3].nanos = 250000000, x[3].codes[0].code = 200, x[3].codes[0].n = 1;
	snprintf(x[3].model, sizeof x[3].model, "m1");
	sv->pol.npairs = 4;
	cmd_serve_status_creds(sv, NULL, (err_set(&e, ERR_CREDS, "no AWS credentials found"), &e));
	CHECK(render(sv, &b, &d) == 0);
	CHECK(json_size(&d, json_path(&d, 0, "models")) == 3);
	CHECK(json_str_eq(&d, json_path(&d, 0, "models[0].model"), "m1"));
	CHECK(num(&d, "models[0].requests") == 4);
	CHECK(num(&d, "models[0].input") == 110);
	CHECK(json_raw(&d, json_path(&d, 0, "models[0].usd")).n == 4); /* 1.75 */
	CHECK(json_strz(&d, json_path(&d, 0, "models[1].model"), model, sizeof model, &e) == 0);
	CHECK(strncmp(model, "bad", 3) == 0 && json_utf8_valid(model, strlen(model), NULL));
	CHECK(json_is_null(&d, json_path(&d, 0, "models[1].usd")));
	CHECK(json_str_eq(&d, json_path(&d, 0, "models[2].model"), "m2"));
	CHECK(json_size(&d, json_path(&d, 0, "keys")) == 2);
	CHECK(json_str_eq(&d, json_path(&d, 0, "keys[0].key"), "team-a"));
	CHECK(num(&d, "keys[0].requests") == 7);
	CHECK(num(&d, "keys[0].input") == 10);
	CHECK(num(&d, "keys[0].output") == 8);
	CHECK(json_str_eq(&d, json_path(&d, 0, "keys[1].key"), "(no key)"));
	CHECK(num(&d, "keys[1].requests") == 2);
	CHECK(num(&d, "keys[1].input") == 105);
	CHECK(json_is_null(&d, json_path(&d, 0, "credentials.source")));
	CHECK(json_str_eq(&d, json_path(&d, 0, "credentials.error"), "no AWS credentials found"));
	CHECK(json_is_null(&d, json_path(&d, 0, "ttft.p50")));
	CHECK(num(&d, "ttft.count") == 0);
	json_doc_free(&d);
	buf_free(&b);
	free(sv->pol.pairs);
	rm(sv);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_quantile_is_a_bucket_bound);
	T_RUN(test_ring_counts_this_hour_only);
	T_RUN(test_upstream_error_types_are_bounded);
	T_RUN(test_json_sums_the_key_rows);
	return t_done(argv[0]);
}
