/* test_ledger: the ledger's lines (format, checksum, strict fields), a
 * file that mixes appended deltas and compacted totals, torn, corrupt and
 * foreign lines skipped with a reason, pruning by day and the sums a
 * budget reads. */
#include "bedrock/ledger.h"
#include "t.h"

#include <stdint.h>

#include "base/timefmt.h"
#include "wire/crc32.h"

struct warns {
	int n;
	size_t last_line;
	char last_why[64];
};

static void on_warn(void *user, size_t line, const char *why)
{
	struct warns *w = user;

	w->n++;
	w->last_line = line;
	snprintf(w->last_why, sizeof w->last_why, "%s", why);
}

static struct ledger_rec rec(int64_t day, const char *name, int64_t req, int64_t nanos)
{
	struct ledger_rec r;

	memset(&r, 0, sizeof r);
	r.day = day;
	snprintf(r.name, sizeof r.name, "%s", name);
	r.requests = req;
	r.in = req * 10;
	r.out = req * 3;
	r.nanos = nanos;
	return r;
}

static void test_format_line(void)
{
	struct ledger_rec r = rec(timefmt_days_from_civil(2026, 12, 5), "team-a", 12, 81000000);
	struct buf b;

	buf_init(&b, 4096);
	r.in = 3400;
	r.out = 900;
	CHECK(ledger_format_rec(&r, &b) == 0);
	/* the CRC-32 of the text before the last tab (zlib's crc32) */
	CHECK_STR((const char *)b.p, "2026-12-05\tteam-a\t12\t3400\t900\t0\t0\t81000000\tec1f4039\n");
	buf_reset(&b);
	r.nanos = -1;
	CHECK(ledger_format_rec(&r, &b) < 0);
	r.nanos = 0;
	snprintf(r.name, sizeof r.name, "has space");
	CHECK(ledger_format_rec(&r, &b) < 0);
	buf_free(&b);
}

static void test_round_trip(void)
{
	int64_t d0 = timefmt_days_from_civil(2026, 12, 1);
	struct ledger l, l2;
	struct ledger_rec a = rec(d0, "a", 1, 100), b = rec(d0 + 4, "b.x_Y-9", 2, 5);
	struct buf f1, f2;
	struct err e;

	memset(&l, 0, sizeof l);
	memset(&l2, 0, sizeof l2);
	CHECK(ledger_add(&l, &a, &e) == 0);
	CHECK(ledger_add(&l, &b, &e) == 0);
	CHECK(ledger_add(&l, &a, &e) == 0); /* merged: (d0, a) twice */
	CHECK(l.n == 2 && l.v[0].requests == 2 && l.v[0].nanos == 200);
	buf_init(&f1, 1 << 16);
	buf_init(&f2, 1 << 16);
	CHECK(ledger_format(&l, &f1) == 0);
	CHECK(strncmp((const char *)f1.p, LEDGER_HEADER, strlen(LEDGER_HEADER)) == 0);
	CHECK(ledger_parse(&l2, (const char *)f1.p, f1.len, 0, NULL, NULL, &e) == 0);
	CHECK(ledger_format(&l2, &f2) == 0);
	CHECK_MEM(f1.p, f1.len, f2.p, f2.len);
	ledger_free(&l);
	ledger_free(&l2);
	buf_free(&f1);
	buf_free(&f2);
}

/* A compacted file, then appended deltas: the reader adds them up. */
static void test_sums_and_prune(void)
{
	int64_t d = timefmt_days_from_civil(2026, 12, 5);
	struct ledger l;
	struct ledger_rec s;
	struct buf f;
	struct err e;

	memset(&l, 0, sizeof l);
	buf_init(&f, 1 << 16);
	buf_append_str(&f, LEDGER_HEADER);
	{
		struct ledger_rec r[] = {rec(d - 40, "k", 9, 9000), rec(d - 4, "k", 1, 1000),
					 rec(d, "k", 2, 2000),       rec(d, "other", 5, 5),
					 rec(d, "k", 3, 3000),       rec(d - 1, "k", 1, 7)};
		for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
			CHECK(ledger_format_rec(&r[i], &f) == 0);
	}
	/* from the first of the month (d - 4): the line of d - 40 is dropped */
	CHECK(ledger_parse(&l, (const char *)f.p, f.len, d - 4, NULL, NULL, &e) == 0);
	CHECK(l.n == 4);
	ledger_sum(&l, "k", d, d, &s);
	CHECK(s.requests == 5 && s.nanos == 5000 && s.in == 50 && s.out == 15);
	ledger_sum(&l, "k", d - 4, d, &s);
	CHECK(s.requests == 7 && s.nanos == 6007);
	ledger_sum(&l, "nobody", d - 4, d, &s);
	CHECK(s.requests == 0 && s.nanos == 0);
	ledger_prune(&l, d);
	CHECK(l.n == 2);
	ledger_sum(&l, "k", 0, d, &s);
	CHECK(s.requests == 5);
	ledger_free(&l);
	buf_free(&f);
}

static void test_bad_lines(void)
{
	int64_t d = timefmt_days_from_civil(2026, 12, 5);
	struct ledger_rec good = rec(d, "k", 1, 10), s;
	struct ledger l;
	struct warns w;
	struct buf f, one;
	struct err e;
	static const char *const bad[] = {
		"hello world\n",
		"2026-12-05\tk\t1\t10\t3\t0\t0\t10\n",             /* no checksum */
		"2026-12-05\tk\t1\t10\t3\t0\t0\t10\t00000000\n",   /* wrong checksum */
		"2026-12-05\tk\t1\t10\t3\t0\t0\t10\t0\t00000000\n", /* too many fields */
		"\n",
		"\t\t\t\t\t\t\t\t\n",
	};

	memset(&l, 0, sizeof l);
	memset(&w, 0, sizeof w);
	buf_init(&f, 1 << 16);
	buf_init(&one, 4096);
	CHECK(ledger_format_rec(&good, &one) == 0);
	buf_append(&f, one.p, one.len);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		buf_append_str(&f, bad[i]);
	/* a bit flipped inside a good line: the checksum catches it */
	buf_append(&f, one.p, one.len);
	f.p[f.len - one.len + 13] ^= 1;
	/* a good line whose checksum is in uppercase: not our own output */
	buf_append(&f, one.p, one.len);
	for (size_t i = f.len - 9; i < f.len - 1; i++)
		if (f.p[i] >= 'a' && f.p[i] <= 'f')
			f.p[i] -= 32;
	buf_append(&f, one.p, one.len);
	/* torn by a crash: no '\n' at the end */
	buf_append(&f, one.p, one.len - 5);
	CHECK(ledger_parse(&l, (const char *)f.p, f.len, 0, on_warn, &w, &e) == 9);
	CHECK(w.n == 9);
	CHECK(w.last_line == 11);
	CHECK_STR(w.last_why, "incomplete last line");
	ledger_sum(&l, "k", 0, d, &s);
	CHECK(s.requests == 2 && s.nanos == 20); /* the two good lines */
	ledger_free(&l);
	buf_free(&f);
	buf_free(&one);
}

/* Each field refused on its own: the line is made valid but for one field,
 * with a correct checksum, so only the field check can refuse it. */
static void test_strict_fields(void)
{
	static const char *const lines[] = {
		"2026-02-30\tk\t1\t0\t0\t0\t0\t0", "2026-13-01\tk\t1\t0\t0\t0\t0\t0",
		"26-12-05\tk\t1\t0\t0\t0\t0\t0",   "2026-12-5x\tk\t1\t0\t0\t0\t0\t0",
		"2026-12-05\t\t1\t0\t0\t0\t0\t0",  "2026-12-05\tk k\t1\t0\t0\t0\t0\t0",
		"2026-12-05\tk\t-1\t0\t0\t0\t0\t0", "2026-12-05\tk\t01\t0\t0\t0\t0\t0",
		"2026-12-05\tk\t1\t0\t0\t0\t0\t1000000000000000000",
		"2026-12-05\tk\t1\t0\t0\t0\t0\t",  "2026-12-05\tk\t1 \t0\t0\t0\t0\t0",
		"2026-12-05\tk/x\t1\t0\t0\t0\t0\t0",
	};
	char name[80];
	struct buf f;
	struct err e;

	memset(name, 'n', sizeof name);
	name[65] = '\0';
	buf_init(&f, 1 << 16);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0] + 2; i++) {
		struct ledger l;
		char line[256];
		const char *t = i < sizeof lines / sizeof lines[0] ? lines[i] : NULL;
		int n;

		if (!t) { /* a 65-byte name; then the same line with a 64-byte name is fine */
			if (i == sizeof lines / sizeof lines[0] + 1)
				name[64] = '\0';
			n = snprintf(line, sizeof line, "2026-12-05\t%s\t1\t0\t0\t0\t0\t0", name);
		} else {
			n = snprintf(line, sizeof line, "%s", t);
		}
		memset(&l, 0, sizeof l);
		buf_reset(&f);
		buf_appendf(&f, "%s\t%08x\n", line, (unsigned)crc32_update(0, line, (size_t)n));
		if (i == sizeof lines / sizeof lines[0] + 1)
			CHECK(ledger_parse(&l, (const char *)f.p, f.len, 0, NULL, NULL, &e) == 0 &&
			      l.n == 1);
		else
			t_case(line, ledger_parse(&l, (const char *)f.p, f.len, 0, NULL, NULL, &e) ==
					     1 && l.n == 0);
		ledger_free(&l);
	}
	buf_free(&f);
}

static void test_names(void)
{
	CHECK(ledger_name_ok("key1", 4));
	CHECK(ledger_name_ok("Team_A.prod-2", 13));
	CHECK(!ledger_name_ok("", 0));
	CHECK(!ledger_name_ok("a\"b", 3));
	CHECK(!ledger_name_ok("a\\b", 3));
	CHECK(!ledger_name_ok("\xc3\xa9", 2));
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_format_line);
	T_RUN(test_round_trip);
	T_RUN(test_sums_and_prune);
	T_RUN(test_bad_lines);
	T_RUN(test_strict_fields);
	T_RUN(test_names);
	return t_done(argv[0]);
}
