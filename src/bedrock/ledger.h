/* ledger: the gateway's usage and spend per key and UTC day (SPEC 7.4), as
 * a table in memory and as text; pure (no I/O: cmd_serve_ledger.c owns the
 * file).
 *
 * The file is a sum of records: one line per (day, key name) with counts
 * to add. The server appends delta lines as it charges requests and now
 * and then rewrites the file with one line per (day, key) holding the
 * totals (a compaction); both are the same kind of line, so the reader just
 * adds up every line it accepts:
 *
 *   # brock ledger 1
 *   2026-12-05\tteam-a\t12\t3400\t900\t0\t0\t81000000\t1c291ca3
 *
 * fields (tab-separated): UTC date, key name ([A-Za-z0-9._-], 1..64
 * bytes), requests, input tokens, output tokens, cache-read tokens,
 * cache-write tokens, spend in nano-dollars (all decimal, no sign, at most
 * 18 digits), then the CRC-32 (lowercase hex, 8 digits) of the line up to
 * the tab before it. Lines starting with '#' are comments. Any other line
 * (torn by a crash, edited, foreign) is skipped and reported, never an
 * error; a last line without its '\n' is treated the same. */
#ifndef BROCK_LEDGER_H
#define BROCK_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define LEDGER_NAME_MAX 64      /* bytes of a key name */
#define LEDGER_LINE_MAX 512     /* longer lines are foreign */
#define LEDGER_MAX_RECS 65536   /* (day, key) pairs held */
#define LEDGER_HEADER "# brock ledger 1\n"

struct ledger_rec {
	int64_t day; /* days since 1970-01-01 (UTC) */
	char name[LEDGER_NAME_MAX + 1];
	int64_t requests, in, out, cache_read, cache_write, nanos;
};

struct ledger {
	struct ledger_rec *v;
	size_t n, cap;
};

/* Called for each skipped line: its number (1-based) and why. */
typedef void (*ledger_warn_fn)(void *user, size_t line, const char *why);

/* 1 when name is a valid key name for the ledger (and for metric labels). */
int ledger_name_ok(const char *name, size_t n);

/* Adds every valid line of text[0..n) whose day is >= from_day to l.
 * Returns the number of lines skipped (each reported through warn, which
 * may be NULL), or -1 with e set when memory or LEDGER_MAX_RECS runs out. */
long ledger_parse(struct ledger *l, const char *text, size_t n, int64_t from_day,
		  ledger_warn_fn warn, void *user, struct err *e);
/* Adds r's counts to the record of (r->day, r->name) (saturating at 18 digits; negative counts add nothing). */
int ledger_add(struct ledger *l, const struct ledger_rec *r, struct err *e);
/* Drops the records of days before from_day. */
void ledger_prune(struct ledger *l, int64_t from_day);
/* The sums of name's records of the days from_day..to_day into out. */
void ledger_sum(const struct ledger *l, const char *name, int64_t from_day, int64_t to_day,
		struct ledger_rec *out);
void ledger_free(struct ledger *l);

/* One record as a line (with its '\n'); -1 when out is full or the record
 * cannot be written (bad name, negative count, year outside 0000..9999). */
int ledger_format_rec(const struct ledger_rec *r, struct buf *out);
/* The whole table: LEDGER_HEADER, then one line per record. */
int ledger_format(const struct ledger *l, struct buf *out);

#endif
