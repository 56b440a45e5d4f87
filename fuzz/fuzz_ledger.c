/* fuzz_ledger: the usage ledger reader (ledger_parse, bedrock/ledger.c).
 * Any input is read without a crash; what it accepts must format, and the
 * formatted table must read back to the same text (the compacted file is
 * canonical), with nothing skipped. The first byte picks the first day
 * kept (pruning while reading). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock/ledger.h"

static void must(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger l, l2;
	struct buf f1, f2;
	struct err e;
	int64_t from;
	long skipped;

	if (size < 1)
		return 0;
	from = data[0] < 128 ? 0 : 20400 + (int64_t)(data[0] - 128) * 4; /* 2025-11-08 on */
	memset(&l, 0, sizeof l);
	memset(&l2, 0, sizeof l2);
	skipped = ledger_parse(&l, (const char *)data + 1, size - 1, from, NULL, NULL, &e);
	must(skipped >= -1 && (size_t)(skipped < 0 ? 0 : skipped) <= size);
	buf_init(&f1, 64u << 20);
	buf_init(&f2, 64u << 20);
	if (skipped >= 0) {
		for (size_t i = 0; i < l.n; i++)
			must(l.v[i].day >= from && ledger_name_ok(l.v[i].name, strlen(l.v[i].name)));
		must(ledger_format(&l, &f1) == 0);
		must(ledger_parse(&l2, (const char *)f1.p, f1.len, from, NULL, NULL, &e) == 0);
		must(l2.n == l.n);
		must(ledger_format(&l2, &f2) == 0);
		must(f1.len == f2.len && memcmp(f1.p, f2.p, f1.len) == 0);
	}
	buf_free(&f1);
	buf_free(&f2);
	ledger_free(&l);
	ledger_free(&l2);
	return 0;
}
