/* test_timefmt: known timestamps in every format, leap years, 2038 and
 * beyond, invalid dates and malformed text, and the civil arithmetic against
 * the C library (gmtime_r) over every day of years 0..9999. */
#include "base/timefmt.h"
#include "t.h"

#include <stdint.h>
#include <time.h>

#define S(lit) lit, sizeof(lit) - 1

struct known {
	int64_t t;
	const char *amz, *iso, *rfc;
};

static const struct known known[] = {
	{0, "19700101T000000Z", "1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT"},
	{-1, "19691231T235959Z", "1969-12-31T23:59:59Z", "Wed, 31 Dec 1969 23:59:59 GMT"},
	{1440938160, "20150830T123600Z", "2015-08-30T12:36:00Z", "Sun, 30 Aug 2015 12:36:00 GMT"},
	{951782400, "20000229T000000Z", "2000-02-29T00:00:00Z", "Tue, 29 Feb 2000 00:00:00 GMT"},
	{1709251199, "20240229T235959Z", "2024-02-29T23:59:59Z", "Thu, 29 Feb 2024 23:59:59 GMT"},
	{1795561363, "20261124T230243Z", "2026-11-24T23:02:43Z", "Tue, 24 Nov 2026 23:02:43 GMT"},
	{2147483647, "20380119T031407Z", "2038-01-19T03:14:07Z", "Tue, 19 Jan 2038 03:14:07 GMT"},
	{2147483648, "20380119T031408Z", "2038-01-19T03:14:08Z", "Tue, 19 Jan 2038 03:14:08 GMT"},
	{4102444800, "21000101T000000Z", "2100-01-01T00:00:00Z", "Fri, 01 Jan 2100 00:00:00 GMT"},
	{4107542400, "21000301T000000Z", "2100-03-01T00:00:00Z", "Mon, 01 Mar 2100 00:00:00 GMT"},
	{253402300799, "99991231T235959Z", "9999-12-31T23:59:59Z", "Fri, 31 Dec 9999 23:59:59 GMT"},
	{-62167219200, "00000101T000000Z", "0000-01-01T00:00:00Z", "Sat, 01 Jan 0000 00:00:00 GMT"},
	{-2208988800, "19000101T000000Z", "1900-01-01T00:00:00Z", "Mon, 01 Jan 1900 00:00:00 GMT"},
};

static void test_known(void)
{
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		const struct known *k = &known[i];
		char a[TIMEFMT_AMZ_LEN + 1], o[TIMEFMT_ISO_LEN + 1], r[TIMEFMT_RFC1123_LEN + 1];
		char e[TIMEFMT_EPOCH_MAX + 1];
		time_t t = (time_t)k->t, ta = 1, to = 1, tr = 1, te = 1, any = 1;
		long ns = 99;
		int ok;

		if ((int64_t)t != k->t) { /* 32-bit time_t host */
			t_case(k->amz, 1);
			continue;
		}
		ok = timefmt_amz(a, t) == 16 && strcmp(a, k->amz) == 0 &&
		     timefmt_iso8601(o, t) == 20 && strcmp(o, k->iso) == 0 &&
		     timefmt_rfc1123(r, t) == 29 && strcmp(r, k->rfc) == 0 &&
		     timefmt_epoch(e, t) == strlen(e) &&
		     timefmt_parse_amz(k->amz, 16, &ta) == 0 && ta == t &&
		     timefmt_parse_iso8601(k->iso, 20, &to, &ns) == 0 && to == t && ns == 0 &&
		     timefmt_parse_rfc1123(k->rfc, 29, &tr) == 0 && tr == t &&
		     timefmt_parse_epoch(e, strlen(e), &te) == 0 && te == t &&
		     timefmt_parse_any(k->rfc, 29, &any) == 0 && any == t;
		if (!ok)
			fprintf(stderr, "  %s: %s %s %s %s\n", k->amz, a, o, r, e);
		t_case(k->amz, ok);
	}
}

static void test_iso_variants(void)
{
	time_t t = 0;
	long ns = 0;

	CHECK(timefmt_parse_iso8601(S("2026-11-24T10:00:00.123+01:00"), &t, &ns) == 0);
	CHECK(t == 1795510800 && ns == 123000000);
	CHECK(timefmt_parse_iso8601(S("2026-11-24T10:00:00-05:30"), &t, &ns) == 0);
	CHECK(t == 1795534200 && ns == 0);
	CHECK(timefmt_parse_iso8601(S("2026-11-24T10:00:00+0100"), &t, NULL) == 0);
	CHECK(t == 1795510800);
	CHECK(timefmt_parse_iso8601(S("2026-11-24t10:00:00z"), &t, NULL) == 0 && t == 1795514400);
	CHECK(timefmt_parse_iso8601(S("2026-11-24 10:00:00Z"), &t, NULL) == 0 && t == 1795514400);
	CHECK(timefmt_parse_iso8601(S("2026-11-24T10:00:00UTC"), &t, NULL) == 0 &&
	      t == 1795514400);
	CHECK(timefmt_parse_iso8601(S("2026-11-24T10:00:00.5Z"), &t, &ns) == 0 && ns == 500000000);
	CHECK(timefmt_parse_iso8601(S("2026-11-24T10:00:00.123456789123Z"), &t, &ns) == 0 &&
	      ns == 123456789 && t == 1795514400);
	CHECK(timefmt_parse_iso8601(S("2026-11-24T10:00:00,25Z"), &t, &ns) == 0 && ns == 250000000);
	/* an offset can move the date across a year boundary */
	CHECK(timefmt_parse_iso8601(S("2027-01-01T00:30:00+01:00"), &t, NULL) == 0 &&
	      t == 1798759800);
}

static void test_rejects(void)
{
	static const char *const iso_bad[] = {
		"2026-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
		"2100-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z",
		"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z",
		"2026-01-32T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T23:60:00Z",
		"2026-11-24T23:59:60Z", "2026-11-24T10:00:00",  "2026-11-24T10:00:00.Z",
		"2026-11-24T10:00:00+24:00", "2026-11-24T10:00:00+01:60", "2026-11-24T10:00:00+1:00",
		"2026-11-24T10:00:00+01:0", "2026-11-24T10:00:00+01:00Z", "2026-11-24T10:00:00ZZ",
		"2026-11-24T10:00:00 Z", "2026-11-24X10:00:00Z", "2026/11/24T10:00:00Z",
		"26-11-24T10:00:00Z",   "2026-11-24T10:00Z",     " 2026-11-24T10:00:00Z",
		"2026-11-24T10:00:00Z ", "2026-1-24T10:00:00Z",  "+2026-11-24T10:00:0Z",
		"2026-11-24T1a:00:00Z", "2026-11-24T10:00:00.1a", "2026-11-24T10:00:00GMT",
		"", "2026-11-24T10:00:00utc",
	};
	static const char *const amz_bad[] = {
		"20260229T000000Z", "20261124T240000Z", "20261124T236000Z", "20261124T235960Z",
		"20261124T230243",  "20261124 230243Z", "2026-11-24T230243Z", "20261124T230243z",
		"20261124T2302431Z", "20261324T000000Z", "20261100T000000Z", "2026112T230243Z",
	};
	static const char *const rfc_bad[] = {
		"Mon, 24 Nov 2026 23:02:43 GMT", /* 24 Nov 2026 is a Tuesday */
		"Tue, 24 nov 2026 23:02:43 GMT", "tue, 24 Nov 2026 23:02:43 GMT",
		"Tue, 24 Nov 2026 23:02:43 UTC", "Tue, 24 Nov 2026 23:02:43",
		"Tue,  4 Nov 2026 23:02:43 GMT", "Tue, 4 Nov 2026 23:02:43 GMT",
		"Tue, 31 Nov 2026 23:02:43 GMT", "Tue, 24 Nov 2026 24:02:43 GMT",
		"Tuesday, 24-Nov-26 23:02:43 GMT", "Tue 24 Nov 2026 23:02:43 GMT ",
		"Tue, 24 Nov 2026 23:02:43 GMTX", "Tue, 24 Xyz 2026 23:02:43 GMT",
		"Tue Nov 24 23:02:43 2026",
	};
	static const char *const epoch_bad[] = {
		"", "-", "+1", "1.", ".5", "1e9", " 1", "1 ", "0x10", "9223372036854775808",
		"-9223372036854775809", "99999999999999999999", "1.2.3", "--1",
	};
	time_t t = 12345;

	for (size_t i = 0; i < sizeof iso_bad / sizeof iso_bad[0]; i++) {
		int r = timefmt_parse_iso8601(iso_bad[i], strlen(iso_bad[i]), &t, NULL);
		if (r != -1)
			fprintf(stderr, "  accepted iso \"%s\"\n", iso_bad[i]);
		CHECK(r == -1);
	}
	for (size_t i = 0; i < sizeof amz_bad / sizeof amz_bad[0]; i++) {
		int r = timefmt_parse_amz(amz_bad[i], strlen(amz_bad[i]), &t);
		if (r != -1)
			fprintf(stderr, "  accepted amz \"%s\"\n", amz_bad[i]);
		CHECK(r == -1);
	}
	for (size_t i = 0; i < sizeof rfc_bad / sizeof rfc_bad[0]; i++) {
		int r = timefmt_parse_rfc1123(rfc_bad[i], strlen(rfc_bad[i]), &t);
		if (r != -1)
			fprintf(stderr, "  accepted rfc \"%s\"\n", rfc_bad[i]);
		CHECK(r == -1);
	}
	for (size_t i = 0; i < sizeof epoch_bad / sizeof epoch_bad[0]; i++) {
		int r = timefmt_parse_epoch(epoch_bad[i], strlen(epoch_bad[i]), &t);
		if (r != -1)
			fprintf(stderr, "  accepted epoch \"%s\"\n", epoch_bad[i]);
		CHECK(r == -1);
		CHECK(timefmt_parse_any(epoch_bad[i], strlen(epoch_bad[i]), &t) == -1);
	}
	CHECK(t == 12345); /* untouched by failures */
	/* parsers never read beyond n */
	CHECK(timefmt_parse_amz("20150830T123600Z", 15, &t) == -1);
	CHECK(timefmt_parse_iso8601("2026-11-24T10:00:00Z", 19, &t, NULL) == -1);
	CHECK(timefmt_parse_rfc1123("Tue, 24 Nov 2026 23:02:43 GMT", 28, &t) == -1);
}

static void test_epoch(void)
{
	char out[TIMEFMT_RFC1123_LEN + 1]; /* the largest of the four */
	time_t t = 0;

	CHECK(timefmt_parse_epoch(S("0"), &t) == 0 && t == 0);
	CHECK(timefmt_parse_epoch(S("-1"), &t) == 0 && t == -1);
	CHECK(timefmt_parse_epoch(S("1440938160.999"), &t) == 0 && t == 1440938160);
	CHECK(timefmt_parse_epoch(S("-1.5"), &t) == 0 && t == -1); /* toward zero */
	CHECK(timefmt_parse_epoch(S("007"), &t) == 0 && t == 7);
	CHECK(timefmt_parse_any(S("1440938160"), &t) == 0 && t == 1440938160);
	CHECK(timefmt_parse_any(S("20150830T123600Z"), &t) == 0 && t == 1440938160);
	CHECK(timefmt_parse_any(S("2015-08-30T12:36:00Z"), &t) == 0 && t == 1440938160);
	if (sizeof(time_t) == 8) {
		CHECK(timefmt_parse_epoch(S("9223372036854775807"), &t) == 0 && t == INT64_MAX);
		CHECK(timefmt_parse_epoch(S("-9223372036854775808"), &t) == 0 && t == INT64_MIN);
		CHECK(timefmt_epoch(out, (time_t)INT64_MIN) == 20);
		CHECK_STR(out, "-9223372036854775808");
		CHECK(timefmt_epoch(out, (time_t)INT64_MAX) == 19);
		CHECK_STR(out, "9223372036854775807");
		/* years beyond 9999 do not format */
		CHECK(timefmt_amz(out, (time_t)253402300800) == 0 && out[0] == 0);
		CHECK(timefmt_iso8601(out, (time_t)-62167219201) == 0 && out[0] == 0);
		CHECK(timefmt_rfc1123(out, (time_t)INT64_MAX) == 0 && out[0] == 0);
		CHECK(timefmt_iso8601(out, (time_t)INT64_MIN) == 0 && out[0] == 0);
	} else {
		CHECK(timefmt_parse_iso8601(S("2038-01-19T03:14:08Z"), &t, NULL) == -1);
	}
	CHECK(timefmt_epoch(out, 0) == 1);
	CHECK_STR(out, "0");
	CHECK(timefmt_epoch(out, -42) == 3);
	CHECK_STR(out, "-42");
}

static void test_calendar(void)
{
	int64_t y = 99;
	int m = 99, d = 99, bad = 0;
	struct timefmt_tm tm = {0};
	int64_t t;

	CHECK(timefmt_days_from_civil(1970, 1, 1) == 0);
	CHECK(timefmt_days_from_civil(2000, 3, 1) == 11017);
	CHECK(timefmt_days_from_civil(1969, 12, 31) == -1);
	timefmt_civil_from_days(-1, &y, &m, &d);
	CHECK(y == 1969 && m == 12 && d == 31);
	CHECK(timefmt_days_in_month(2000, 2) == 29 && timefmt_days_in_month(1900, 2) == 28);
	CHECK(timefmt_days_in_month(2024, 2) == 29 && timefmt_days_in_month(2023, 2) == 28);
	CHECK(timefmt_days_in_month(2026, 0) == 0 && timefmt_days_in_month(2026, 13) == 0);
	/* negative years follow the proleptic calendar too: -4 is a leap year */
	CHECK(timefmt_days_in_month(-4, 2) == 29 && timefmt_days_in_month(-100, 2) == 28);
	CHECK(timefmt_days_from_civil(-4, 3, 1) - timefmt_days_from_civil(-4, 2, 28) == 2);

	/* every day of years 0..9999: round trip and one day per step */
	{
		int64_t first = timefmt_days_from_civil(0, 1, 1);
		int64_t last = timefmt_days_from_civil(9999, 12, 31);
		int64_t py = -1;
		int pm = 12, pd = 31;
		for (int64_t day = first; day <= last; day++) {
			timefmt_civil_from_days(day, &y, &m, &d);
			if (timefmt_days_from_civil(y, m, d) != day)
				bad++;
			/* successor of (py, pm, pd) */
			if (pd < timefmt_days_in_month(py, pm))
				bad += !(y == py && m == pm && d == pd + 1);
			else if (pm < 12)
				bad += !(y == py && m == pm + 1 && d == 1);
			else
				bad += !(y == py + 1 && m == 1 && d == 1);
			py = y, pm = m, pd = d;
		}
	}
	CHECK(bad == 0);

	tm.year = 2026, tm.mon = 2, tm.day = 29;
	CHECK(timefmt_join(&tm, &t) == -1);
	tm.day = 28, tm.hour = 23, tm.min = 59, tm.sec = 59;
	CHECK(timefmt_join(&tm, &t) == 0 && t == 1772323199);
	tm.sec = -1;
	CHECK(timefmt_join(&tm, &t) == -1);
}

/* Our split against the C library's gmtime_r at pseudo-random seconds across
 * years 0..9999 plus the edges of every 400-year cycle near the epoch. */
static void test_against_libc(void)
{
	uint64_t x = 88172645463325252ull;
	int bad = 0, n = 0;

	if (sizeof(time_t) < 8)
		return;
	for (int i = 0; i < 200000; i++) {
		int64_t lo = -62167219200, span = 253402300800 - lo, t;
		struct timefmt_tm mine;
		struct tm ref;
		time_t tt, back;
		char iso[TIMEFMT_ISO_LEN + 1];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		t = lo + (int64_t)(x % (uint64_t)span);
		if (i < 4000) /* near day edges in 1600..2400 */
			t = -11676096000 + (int64_t)(i / 4) * 777600 * 31 + (i % 4) - 2;
		tt = (time_t)t;
		if (!gmtime_r(&tt, &ref))
			continue;
		n++;
		timefmt_split(t, &mine);
		if (mine.year != (int64_t)ref.tm_year + 1900 || mine.mon != ref.tm_mon + 1 ||
		    mine.day != ref.tm_mday || mine.hour != ref.tm_hour || mine.min != ref.tm_min ||
		    mine.sec != ref.tm_sec || mine.wday != ref.tm_wday)
			bad++;
		if (timefmt_iso8601(iso, tt) != 20 ||
		    timefmt_parse_iso8601(iso, 20, &back, NULL) != 0 || back != tt)
			bad++;
	}
	CHECK(n > 190000);
	CHECK(bad == 0);
}

int main(int argc, char **argv)
{
	(void)argc;
	T_RUN(test_known);
	T_RUN(test_iso_variants);
	T_RUN(test_rejects);
	T_RUN(test_epoch);
	T_RUN(test_calendar);
	T_RUN(test_against_libc);
	return t_done(argv[0]);
}
