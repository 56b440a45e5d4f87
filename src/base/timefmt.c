/* timefmt: UTC timestamp formatting and parsing (see timefmt.h). */
#include "base/timefmt.h"

#include <string.h>

static const char wday_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char mon_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

#define DAY 86400

/* Floor division for negative numerators (C division truncates toward 0). */
static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The calendar repeats every 400 years (146097 days). Counting years from
 * March makes the leap day the last day of the year, so the day of the year
 * follows from the month by one linear formula. */
int64_t timefmt_days_from_civil(int64_t year, int mon, int day)
{
	int64_t y = year - (mon <= 2);
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;                                   /* 0..399 */
	int64_t doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + day - 1; /* 0..365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* 0..146096 */

	return era * 146097 + doe - 719468; /* 719468: 0000-03-01 to 1970-01-01 */
}

void timefmt_civil_from_days(int64_t days, int64_t *year, int *mon, int *day)
{
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153; /* month from March, 0..11 */

	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*mon <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int timefmt_days_in_month(int64_t year, int mon)
{
	static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (mon < 1 || mon > 12)
		return 0;
	return len[mon - 1] + (mon == 2 && is_leap(year));
}

void timefmt_split(int64_t t, struct timefmt_tm *tm)
{
	int64_t days = t / DAY, secs = t % DAY; /* no multiplication: INT64_MIN works */

	if (secs < 0) {
		secs += DAY;
		days--;
	}

	timefmt_civil_from_days(days, &tm->year, &tm->mon, &tm->day);
	tm->hour = (int)(secs / 3600);
	tm->min = (int)(secs / 60 % 60);
	tm->sec = (int)(secs % 60);
	tm->wday = (int)(days - floor_div(days + 4, 7) * 7 + 4) % 7; /* 1970-01-01: Thursday */
}

int timefmt_join(const struct timefmt_tm *tm, int64_t *t)
{
	/* the year bound keeps every product below far inside int64 */
	if (tm->year < -1000000000 || tm->year > 1000000000 || tm->mon < 1 || tm->mon > 12 ||
	    tm->day < 1 || tm->day > timefmt_days_in_month(tm->year, tm->mon) || tm->hour < 0 ||
	    tm->hour > 23 || tm->min < 0 || tm->min > 59 || tm->sec < 0 || tm->sec > 59)
		return -1;
	*t = timefmt_days_from_civil(tm->year, tm->mon, tm->day) * DAY + tm->hour * 3600 +
	     tm->min * 60 + tm->sec;
	return 0;
}

/* ---------------------------------------------------------------- format */

static char *put_num(char *w, int64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		w[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return w + width;
}

/* Splits t and checks the year fits four digits. */
static int split4(time_t t, struct timefmt_tm *tm, char *out)
{
	timefmt_split((int64_t)t, tm);
	out[0] = 0;
	return tm->year >= 0 && tm->year <= 9999 ? 0 : -1;
}

size_t timefmt_amz(char out[static TIMEFMT_AMZ_LEN + 1], time_t t)
{
	struct timefmt_tm tm;
	char *w = out;

	if (split4(t, &tm, out))
		return 0;
	w = put_num(w, tm.year, 4);
	w = put_num(w, tm.mon, 2);
	w = put_num(w, tm.day, 2);
	*w++ = 'T';
	w = put_num(w, tm.hour, 2);
	w = put_num(w, tm.min, 2);
	w = put_num(w, tm.sec, 2);
	*w++ = 'Z';
	*w = 0;
	return (size_t)(w - out);
}

size_t timefmt_iso8601(char out[static TIMEFMT_ISO_LEN + 1], time_t t)
{
	struct timefmt_tm tm;
	char *w = out;

	if (split4(t, &tm, out))
		return 0;
	w = put_num(w, tm.year, 4);
	*w++ = '-';
	w = put_num(w, tm.mon, 2);
	*w++ = '-';
	w = put_num(w, tm.day, 2);
	*w++ = 'T';
	w = put_num(w, tm.hour, 2);
	*w++ = ':';
	w = put_num(w, tm.min, 2);
	*w++ = ':';
	w = put_num(w, tm.sec, 2);
	*w++ = 'Z';
	*w = 0;
	return (size_t)(w - out);
}

size_t timefmt_rfc1123(char out[static TIMEFMT_RFC1123_LEN + 1], time_t t)
{
	struct timefmt_tm tm;
	char *w = out;

	if (split4(t, &tm, out))
		return 0;
	memcpy(w, wday_names[tm.wday], 3);
	w += 3;
	*w++ = ',';
	*w++ = ' ';
	w = put_num(w, tm.day, 2);
	*w++ = ' ';
	memcpy(w, mon_names[tm.mon - 1], 3);
	w += 3;
	*w++ = ' ';
	w = put_num(w, tm.year, 4);
	*w++ = ' ';
	w = put_num(w, tm.hour, 2);
	*w++ = ':';
	w = put_num(w, tm.min, 2);
	*w++ = ':';
	w = put_num(w, tm.sec, 2);
	memcpy(w, " GMT", 5);
	return (size_t)(w + 4 - out);
}

size_t timefmt_epoch(char out[static TIMEFMT_EPOCH_MAX + 1], time_t t)
{
	char tmp[TIMEFMT_EPOCH_MAX];
	int64_t v = (int64_t)t;
	size_t n = 0, len = 0;
	/* work with the negative value: INT64_MIN has no positive counterpart */
	int neg = v < 0;

	if (!neg)
		v = -v;
	do {
		tmp[n++] = (char)('0' - v % 10);
		v /= 10;
	} while (v);
	if (neg)
		out[len++] = '-';
	while (n)
		out[len++] = tmp[--n];
	out[len] = 0;
	return len;
}

/* ---------------------------------------------------------------- parse */

/* Reads exactly `width` digits at *s; -1 if any is not a digit. */
static int get_num(const char *s, int width, int *v)
{
	*v = 0;
	for (int i = 0; i < width; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* Joins tm (minus an offset in seconds) and stores it if it fits time_t. */
static int store(const struct timefmt_tm *tm, int64_t offset, time_t *t)
{
	int64_t v;

	if (timefmt_join(tm, &v))
		return -1;
	v -= offset;
	if ((int64_t)(time_t)v != v)
		return -1; /* 32-bit time_t */
	*t = (time_t)v;
	return 0;
}

int timefmt_parse_amz(const char *s, size_t n, time_t *t)
{
	struct timefmt_tm tm = {0};
	int y;

	if (n != TIMEFMT_AMZ_LEN || s[8] != 'T' || s[15] != 'Z' || get_num(s, 4, &y) ||
	    get_num(s + 4, 2, &tm.mon) || get_num(s + 6, 2, &tm.day) ||
	    get_num(s + 9, 2, &tm.hour) || get_num(s + 11, 2, &tm.min) ||
	    get_num(s + 13, 2, &tm.sec))
		return -1;
	tm.year = y;
	return store(&tm, 0, t);
}

/* The zone designator of an extended timestamp: offset seconds east of UTC. */
static int parse_zone(const char *s, size_t n, int64_t *offset)
{
	int hh, mm;

	*offset = 0;
	if (n == 1 && (s[0] == 'Z' || s[0] == 'z'))
		return 0;
	if (n == 3 && memcmp(s, "UTC", 3) == 0)
		return 0;
	if ((n != 6 && n != 5) || (s[0] != '+' && s[0] != '-'))
		return -1;
	if (get_num(s + 1, 2, &hh) || (n == 6 && s[3] != ':') || get_num(s + n - 2, 2, &mm) ||
	    hh > 23 || mm > 59)
		return -1;
	*offset = (int64_t)(hh * 3600 + mm * 60) * (s[0] == '-' ? -1 : 1);
	return 0;
}

int timefmt_parse_iso8601(const char *s, size_t n, time_t *t, long *nsec)
{
	struct timefmt_tm tm = {0};
	int64_t offset;
	long frac = 0;
	size_t i = 19;
	int y;

	if (n < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':' ||
	    get_num(s, 4, &y) || get_num(s + 5, 2, &tm.mon) || get_num(s + 8, 2, &tm.day) ||
	    get_num(s + 11, 2, &tm.hour) || get_num(s + 14, 2, &tm.min) ||
	    get_num(s + 17, 2, &tm.sec))
		return -1;
	tm.year = y;
	if (s[i] == '.' || s[i] == ',') {
		size_t digits = 0;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
			if (digits < 9)
				frac = frac * 10 + (s[i] - '0');
		if (digits == 0)
			return -1;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (i >= n || parse_zone(s + i, n - i, &offset) || store(&tm, offset, t))
		return -1;
	if (nsec)
		*nsec = frac;
	return 0;
}

static int find_name(const char (*names)[4], int count, const char *s)
{
	for (int i = 0; i < count; i++)
		if (memcmp(names[i], s, 3) == 0)
			return i;
	return -1;
}

int timefmt_parse_rfc1123(const char *s, size_t n, time_t *t)
{
	struct timefmt_tm tm = {0};
	int64_t v;
	int y, wday, mon;

	/* Tue, 24 Nov 2026 23:02:43 GMT */
	if (n != TIMEFMT_RFC1123_LEN || s[3] != ',' || s[4] != ' ' || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    memcmp(s + 25, " GMT", 4) != 0 || get_num(s + 5, 2, &tm.day) ||
	    get_num(s + 12, 4, &y) || get_num(s + 17, 2, &tm.hour) ||
	    get_num(s + 20, 2, &tm.min) || get_num(s + 23, 2, &tm.sec))
		return -1;
	wday = find_name(wday_names, 7, s);
	mon = find_name(mon_names, 12, s + 8);
	if (wday < 0 || mon < 0)
		return -1;
	tm.year = y;
	tm.mon = mon + 1;
	if (timefmt_join(&tm, &v))
		return -1;
	timefmt_split(v, &tm);
	if (tm.wday != wday)
		return -1;
	return store(&tm, 0, t);
}

int timefmt_parse_epoch(const char *s, size_t n, time_t *t)
{
	int64_t v = 0;
	size_t i = 0;
	int neg = n > 0 && s[0] == '-';

	i = (size_t)neg;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return -1;
	/* accumulate negatively so that INT64_MIN parses */
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		int d = s[i] - '0';
		if (v < (INT64_MIN + d) / 10)
			return -1;
		v = v * 10 - d;
	}
	if (i < n && s[i] == '.') {
		size_t start = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return -1;
	}
	if (i != n || (!neg && v == INT64_MIN))
		return -1;
	if (!neg)
		v = -v;
	if ((int64_t)(time_t)v != v)
		return -1;
	*t = (time_t)v;
	return 0;
}

int timefmt_parse_any(const char *s, size_t n, time_t *t)
{
	if (timefmt_parse_iso8601(s, n, t, NULL) == 0 || timefmt_parse_amz(s, n, t) == 0 ||
	    timefmt_parse_rfc1123(s, n, t) == 0 || timefmt_parse_epoch(s, n, t) == 0)
		return 0;
	return -1;
}
