/* ledger: the usage ledger's table and its text form (see ledger.h). */
#include "bedrock/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/timefmt.h"
#include "wire/crc32.h"

#define LEDGER_FIELDS 9

int ledger_name_ok(const char *name, size_t n)
{
	size_t i;

	if (n == 0 || n > LEDGER_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Sums stop at the largest number a line can hold (18 digits). */
#define LEDGER_NUM_MAX 999999999999999999LL

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b < 0)
		b = 0;
	return a > LEDGER_NUM_MAX - b ? LEDGER_NUM_MAX : a + b;
}

static struct ledger_rec *find(struct ledger *l, int64_t day, const char *name)
{
	size_t i = l->n;

	while (i-- > 0) /* newest days are appended last */
		if (l->v[i].day == day && strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

int ledger_add(struct ledger *l, const struct ledger_rec *r, struct err *e)
{
	struct ledger_rec *x = find(l, r->day, r->name);

	if (!x) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 64;
			struct ledger_rec *v;

			if (l->n >= LEDGER_MAX_RECS)
				return err_set(e, ERR_OTHER, "ledger: more than %d (day, key) records",
					       LEDGER_MAX_RECS);
			v = realloc(l->v, cap * sizeof *v);
			if (!v)
				return err_set(e, ERR_OTHER, "out of memory");
			l->v = v;
			l->cap = cap;
		}
		x = &l->v[l->n++];
		memset(x, 0, sizeof *x);
		x->day = r->day;
		memcpy(x->name, r->name, sizeof x->name);
	}
	x->requests = sat_add(x->requests, r->requests);
	x->in = sat_add(x->in, r->in);
	x->out = sat_add(x->out, r->out);
	x->cache_read = sat_add(x->cache_read, r->cache_read);
	x->cache_write = sat_add(x->cache_write, r->cache_write);
	x->nanos = sat_add(x->nanos, r->nanos);
	return 0;
}

void ledger_prune(struct ledger *l, int64_t from_day)
{
	size_t i, k = 0;

	for (i = 0; i < l->n; i++)
		if (l->v[i].day >= from_day)
			l->v[k++] = l->v[i];
	l->n = k;
}

void ledger_sum(const struct ledger *l, const char *name, int64_t from_day, int64_t to_day,
		struct ledger_rec *out)
{
	size_t i;

	memset(out, 0, sizeof *out);
	for (i = 0; i < l->n; i++) {
		const struct ledger_rec *r = &l->v[i];

		if (r->day < from_day || r->day > to_day || strcmp(r->name, name) != 0)
			continue;
		out->requests = sat_add(out->requests, r->requests);
		out->in = sat_add(out->in, r->in);
		out->out = sat_add(out->out, r->out);
		out->cache_read = sat_add(out->cache_read, r->cache_read);
		out->cache_write = sat_add(out->cache_write, r->cache_write);
		out->nanos = sat_add(out->nanos, r->nanos);
	}
}

void ledger_free(struct ledger *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* ---- text ---- */

static int num_ok(int64_t v)
{
	return v >= 0 && v <= LEDGER_NUM_MAX;
}

int ledger_format_rec(const struct ledger_rec *r, struct buf *out)
{
	char line[LEDGER_LINE_MAX];
	int64_t y;
	int m, d, n;

	timefmt_civil_from_days(r->day, &y, &m, &d);
	if (y < 0 || y > 9999 || !ledger_name_ok(r->name, strnlen(r->name, sizeof r->name)) ||
	    !num_ok(r->requests) || !num_ok(r->in) || !num_ok(r->out) || !num_ok(r->cache_read) ||
	    !num_ok(r->cache_write) || !num_ok(r->nanos))
		return -1;
	n = snprintf(line, sizeof line, "%04d-%02d-%02d\t%s\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld",
		     (int)y, m, d, r->name, (long long)r->requests, (long long)r->in,
		     (long long)r->out, (long long)r->cache_read, (long long)r->cache_write,
		     (long long)r->nanos);
	if (n < 0 || (size_t)n >= sizeof line - 12)
		return -1;
	return buf_appendf(out, "%s\t%08x\n", line, (unsigned)crc32_update(0, line, (size_t)n));
}

int ledger_format(const struct ledger *l, struct buf *out)
{
	size_t i;

	if (buf_append_str(out, LEDGER_HEADER) < 0)
		return -1;
	for (i = 0; i < l->n; i++)
		if (ledger_format_rec(&l->v[i], out) < 0)
			return -1;
	return 0;
}

static int parse_digits(const char *p, size_t n, int64_t *v)
{
	size_t i;

	if (n == 0 || n > 18 || (n > 1 && p[0] == '0'))
		return -1;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

static int parse_date(const char *p, size_t n, int64_t *day)
{
	int64_t y, m, d;

	if (n != 10 || p[4] != '-' || p[7] != '-')
		return -1;
	/* fixed widths: leading zeros belong to the format here */
	y = m = d = 0;
	for (size_t i = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (i < 4)
			y = y * 10 + (p[i] - '0');
		else if (i < 7)
			m = m * 10 + (p[i] - '0');
		else
			d = d * 10 + (p[i] - '0');
	}
	if (m < 1 || m > 12 || d < 1 || d > timefmt_days_in_month(y, (int)m))
		return -1;
	*day = timefmt_days_from_civil(y, (int)m, (int)d);
	return 0;
}

/* One line without its '\n': NULL and r filled, or why it is refused. */
static const char *parse_line(const char *p, size_t n, struct ledger_rec *r)
{
	const char *f[LEDGER_FIELDS];
	size_t fl[LEDGER_FIELDS], k = 0, i, start = 0;
	int64_t *nums[6] = {&r->requests, &r->in, &r->out, &r->cache_read, &r->cache_write,
			    &r->nanos};
	uint8_t crc[4];
	size_t got;

	if (n > LEDGER_LINE_MAX)
		return "line too long";
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '\t')
			continue;
		if (k == LEDGER_FIELDS)
			return "too many fields";
		f[k] = p + start;
		fl[k++] = i - start;
		start = i + 1;
	}
	if (k != LEDGER_FIELDS)
		return "too few fields";
	memset(r, 0, sizeof *r);
	if (fl[8] != 8 || hex_decode(crc, sizeof crc, f[8], 8, &got) < 0)
		return "bad checksum field";
	for (i = 0; i < 8; i++)
		if (f[8][i] >= 'A' && f[8][i] <= 'F')
			return "bad checksum field";
	if (crc32_update(0, p, (size_t)(f[8] - 1 - p)) !=
	    ((uint32_t)crc[0] << 24 | (uint32_t)crc[1] << 16 | (uint32_t)crc[2] << 8 | crc[3]))
		return "checksum mismatch";
	if (parse_date(f[0], fl[0], &r->day) < 0)
		return "bad date";
	if (!ledger_name_ok(f[1], fl[1]))
		return "bad key name";
	memcpy(r->name, f[1], fl[1]);
	r->name[fl[1]] = '\0';
	for (i = 0; i < 6; i++)
		if (parse_digits(f[2 + i], fl[2 + i], nums[i]) < 0)
			return "bad number";
	return NULL;
}

long ledger_parse(struct ledger *l, const char *text, size_t n, int64_t from_day,
		  ledger_warn_fn warn, void *user, struct err *e)
{
	size_t pos = 0, line = 0;
	long skipped = 0;

	while (pos < n) {
		const char *p = text + pos, *nl = memchr(p, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - p) : n - pos;
		struct ledger_rec r;
		const char *why;

		line++;
		pos += len + (nl != NULL);
		if (len > 0 && p[0] == '#' && nl)
			continue;
		why = !nl ? "incomplete last line" : parse_line(p, len, &r);
		if (why) {
			skipped++;
			if (warn)
				warn(user, line, why);
			continue;
		}
		if (r.day >= from_day && ledger_add(l, &r, e) < 0)
			return -1;
	}
	return skipped;
}
