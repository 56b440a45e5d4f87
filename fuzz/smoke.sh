#!/bin/sh
# Runs each libFuzzer target for a bounded time on its committed corpus.
# usage: smoke.sh BINDIR SECONDS NAME...
set -eu
bin=$1 secs=$2; shift 2
# a small ASan quarantine: see fuzz/long.sh
ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS
for n in "$@"; do
	c=fuzz/corpus/${n#fuzz_}
	work=$(mktemp -d)
	cp -r "$c"/. "$work"/ 2>/dev/null || true
	echo "fuzz-smoke: $n for ${secs}s"
	"$bin/$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 "$work" 2>"$work.log" || { tail -n 60 "$work.log"; exit 1; }
	grep -E 'stat::number_of_executed_units|cov:' "$work.log" | tail -n 2
	rm -rf "$work" "$work.log"
done
