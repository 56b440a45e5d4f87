#!/bin/sh
# Runs each libFuzzer target for a bounded time on its committed corpus, two
# at a time (FUZZ_JOBS, default 2: CI's two cores), each output printed whole
# when its half of the list is done.
# usage: smoke.sh BINDIR SECONDS NAME...
set -eu
bin=$1 secs=$2; shift 2
jobs=${FUZZ_JOBS:-2}
case $jobs in 1 | 2) ;; *) echo "FUZZ_JOBS: 1 or 2" >&2; exit 2 ;; esac
# a small ASan quarantine: see fuzz/long.sh
ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

one() {
	n=$1
	c=fuzz/corpus/${n#fuzz_}
	work=$(mktemp -d)
	cp -r "$c"/. "$work"/ 2>/dev/null || true
	echo "fuzz-smoke: $n for ${secs}s"
	if ! "$bin/$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 "$work" 2>"$work.log"; then
		tail -n 60 "$work.log"
		rm -rf "$work" "$work.log"
		return 1
	fi
	grep -E 'stat::number_of_executed_units|cov:' "$work.log" | tail -n 2
	rm -rf "$work" "$work.log"
}

# targets 1, 3, 5... (half 1) or 2, 4, 6... (half 0) of the list; all with one job
half() {
	h=$1 i=0
	shift
	for n in "$@"; do
		i=$((i + 1))
		[ "$jobs" = 1 ] || [ $((i % 2)) = "$h" ] || continue
		one "$n" || return 1
	done
}

if [ "$jobs" = 1 ]; then
	half 1 "$@"
	exit
fi
out=$(mktemp -d)
half 1 "$@" >"$out/1" 2>&1 &
p1=$!
half 0 "$@" >"$out/0" 2>&1 &
p0=$!
rc=0
wait $p1 || rc=1
wait $p0 || rc=1
cat "$out/1" "$out/0"
rm -rf "$out"
exit $rc
