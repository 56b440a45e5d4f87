/* timefmt: UTC timestamps in the formats AWS and HTTP use, to and from
 * time_t, with our own days-from-civil arithmetic (no timegm, no TZ, no
 * locale). Parsers are strict: exact field widths, real calendar dates
 * (no Feb 30, no hour 24, no leap second 60), years 0000..9999.
 *
 *   ISO-8601 basic     20150830T123600Z                  SigV4 x-amz-date
 *   ISO-8601 extended  2026-11-24T10:00:00Z              credential expirations
 *                      2026-11-24T10:00:00.123+01:00
 *   RFC 1123           Tue, 24 Nov 2026 23:02:43 GMT     HTTP Date
 *   epoch seconds      1795647763                        */
#ifndef BROCK_TIMEFMT_H
#define BROCK_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TIMEFMT_AMZ_LEN 16     /* 20150830T123600Z */
#define TIMEFMT_ISO_LEN 20     /* 2026-11-24T10:00:00Z */
#define TIMEFMT_RFC1123_LEN 29 /* Tue, 24 Nov 2026 23:02:43 GMT */
#define TIMEFMT_EPOCH_MAX 20   /* -9223372036854775808 */

/* Broken-down UTC time. */
struct timefmt_tm {
	int64_t year; /* proleptic Gregorian, 0 = 1 BC */
	int mon;      /* 1..12 */
	int day;      /* 1..31 */
	int hour, min, sec;
	int wday;     /* 0 = Sunday (output of timefmt_split only) */
};

/* Days since 1970-01-01 of a (proleptic Gregorian) date, and back. */
int64_t timefmt_days_from_civil(int64_t year, int mon, int day);
void timefmt_civil_from_days(int64_t days, int64_t *year, int *mon, int *day);
int timefmt_days_in_month(int64_t year, int mon); /* 0 for a bad month */

/* Seconds since the epoch -> broken-down UTC (any int64 whose year fits). */
void timefmt_split(int64_t t, struct timefmt_tm *tm);
/* Broken-down UTC -> seconds; -1 when a field is out of range (Feb 30, ...). */
int timefmt_join(const struct timefmt_tm *tm, int64_t *t);

/* Formatters write the text and a NUL; they return its length, or 0 (and an
 * empty string) when the year is outside 0000..9999. */
size_t timefmt_amz(char out[static TIMEFMT_AMZ_LEN + 1], time_t t);
size_t timefmt_iso8601(char out[static TIMEFMT_ISO_LEN + 1], time_t t);
size_t timefmt_rfc1123(char out[static TIMEFMT_RFC1123_LEN + 1], time_t t);
size_t timefmt_epoch(char out[static TIMEFMT_EPOCH_MAX + 1], time_t t);

/* Parsers take exactly n bytes (no surrounding space) and return 0 with *t
 * set, or -1. */
int timefmt_parse_amz(const char *s, size_t n, time_t *t);
/* Extended form: date 'T' (or 't' or ' ') time, optional fraction of any
 * length (*nsec gets the first 9 digits; nsec may be NULL), then 'Z', 'z',
 * "UTC" (older AWS CLI SSO caches) or an offset +hh:mm / -hh:mm / +hhmm. */
int timefmt_parse_iso8601(const char *s, size_t n, time_t *t, long *nsec);
/* IMF-fixdate; the weekday must be the right one for the date. */
int timefmt_parse_rfc1123(const char *s, size_t n, time_t *t);
/* Optional '-', decimal digits, optional fraction (truncated toward zero). */
int timefmt_parse_epoch(const char *s, size_t n, time_t *t);
/* Any of the above (the form AWS APIs use for timestamps is not fixed). */
int timefmt_parse_any(const char *s, size_t n, time_t *t);

#endif
