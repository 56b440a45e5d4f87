/* policy: the pure arithmetic of the gateway's per-key policy (SPEC 7.4),
 * no I/O, no clock (every function takes the time it needs):
 *
 * - model globs: '*' any run of characters (also none, also '/'), '?' one
 *   character, everything else literal and case-sensitive; a glob allows a
 *   model when it matches the bare id or its "amazon-bedrock/<id>" ref;
 * - sliding 60-second windows of one-second buckets (rpm, tpm);
 * - UTC days and months (budget periods) and how long until one resets;
 * - what an answer costs, from the configured USD per 1M tokens, in
 *   nano-dollars so that sums stay exact integers. */
#ifndef BROCK_POLICY_H
#define BROCK_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "bedrock/config.h"
#include "bedrock/converse.h"

#define POLICY_WINDOW_S 60

/* 1 when glob matches all of s. */
int policy_glob(const char *glob, const char *s);
/* 1 when one of the globs packed in globs[0..n) ("a\0b*\0", each one
 * NUL-terminated) matches model_id or "amazon-bedrock/<model_id>". An
 * empty list allows every model. */
int policy_model_allowed(const char *globs, size_t n, const char *model_id);

/* Counts per second over the last POLICY_WINDOW_S seconds. Seconds are any
 * monotonic count (clock_ms() / 1000); zeroed memory is an empty window. */
struct policy_window {
	int64_t sec[POLICY_WINDOW_S];
	int64_t n[POLICY_WINDOW_S];
};

void policy_window_add(struct policy_window *w, int64_t now_s, int64_t v);
/* The sum of the buckets of the seconds now_s-59 .. now_s. */
int64_t policy_window_sum(const struct policy_window *w, int64_t now_s);
/* Whole seconds until the sum falls below limit as old buckets leave the
 * window (1..60); 0 when it already is below. */
int64_t policy_window_wait(const struct policy_window *w, int64_t now_s, int64_t limit);

enum policy_period { POLICY_NONE = 0, POLICY_DAY = 1, POLICY_MONTH = 2 };

/* The first UTC day (days since 1970-01-01) of the period that holds the
 * time t (seconds since the epoch): t's own day, or the 1st of its month. */
int64_t policy_period_start(int64_t t, enum policy_period p);
/* Seconds from t until the next period starts (>= 1). */
int64_t policy_period_left(int64_t t, enum policy_period p);

/* USD nano-dollars for usage at the configured cost (USD per 1M tokens):
 * cache reads and writes at their own prices; rounded to the nearest;
 * negative counts count as 0. */
int64_t policy_cost_nanos(const struct config_cost *c, const struct conv_usage *u);

#endif
