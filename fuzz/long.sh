#!/bin/sh
# make fuzz-long: runs each libFuzzer target for SECONDS on a copy of its
# committed corpus, then merges what found new coverage back into
# fuzz/corpus/<name>/ (-merge=1: minimised, only inputs that add coverage),
# so every long run makes the CI replay stronger. Appends one line per target
# to fuzz/RESULTS.md: date, commit, seconds, executions, coverage, corpus
# size before/after, crashes. A crash stops the run (exit 1) and leaves the
# reproducer in fuzz/crashes/ (not committed).
# With FUZZ_RUNS=N in the environment (make fuzz-long FUZZ_RUNS=10000000) each
# target runs until N executions (-runs=N), SECONDS still capping the time, so
# a slow target cannot hold the others back; the seconds column then shows the
# time the target actually took. Run it niced on a shared machine:
#   nice -n 19 make fuzz-long FUZZ_RUNS=10000000 FUZZ_SECONDS=3600
# usage: long.sh BINDIR SECONDS NAME...
set -eu
bin=$1 secs=$2; shift 2
# ASan's quarantine (freed memory held back so that a use after free is
# caught) is 256 MB by default: each execution then writes to memory not
# touched for a long while (page faults, cache misses), which costs the
# allocating targets 2-4x their executions (CPU time). A use after free inside
# one execution is still caught unless it freed 16 MB in between (inputs are
# at most 64 KiB). Settings of one's own in ASAN_OPTIONS come later and win.
ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS
runs=${FUZZ_RUNS:-}
case $runs in ''|*[!0-9]*) [ -z "$runs" ] || { echo "FUZZ_RUNS: not a number: $runs" >&2; exit 2; } ;; esac
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
day=$(date -u +%Y-%m-%d)
mkdir -p fuzz/crashes
if ! grep -q '^| date ' fuzz/RESULTS.md 2>/dev/null; then
	{
		echo "# Fuzzing results"
		echo
		echo "One line per target and run of \`make fuzz-long FUZZ_SECONDS=N\` (fuzz/long.sh), newest last."
		echo "execs: executions in the run; cov: libFuzzer edge coverage at the end; corpus: committed"
		echo "inputs before -> after the minimising merge."
		echo
		echo "| date | commit | target | seconds | execs | cov | corpus | crashes |"
		echo "|---|---|---|---|---|---|---|---|"
	} >fuzz/RESULTS.md
fi
for n in "$@"; do
	c=fuzz/corpus/${n#fuzz_}
	mkdir -p "$c"
	work=$(mktemp -d)
	cp -r "$c"/. "$work"/ 2>/dev/null || true
	before=$(find "$c" -type f | wc -l)
	echo "fuzz-long: $n for ${secs}s${runs:+ or $runs runs}"
	t0=$(date +%s)
	rc=0
	"$bin/$n" ${runs:+-runs=$runs} -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix=fuzz/crashes/"$n"- "$work" 2>"$work.log" || rc=$?
	# 72: libFuzzer's exit after SIGINT. A run stopped early that way (kill -INT
	# on the fuzzer's pid) ends like one out of time: its row shows what it
	# did, and its corpus is merged.
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 72 ]; then
		tail -n 60 "$work.log"
		echo "| $day | $commit | $n | $secs | - | - | $before | CRASH (fuzz/crashes/) |" >>fuzz/RESULTS.md
		exit 1
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log" | tail -n 1)
	took=$(($(date +%s) - t0))
	cov=$(grep -oE 'cov: [0-9]+' "$work.log" | tail -n 1 | cut -d' ' -f2)
	# merge: keep the committed inputs, add those of the run that bring new coverage
	"$bin/$n" -merge=1 -timeout=10 -rss_limit_mb=2048 -max_len=65536 "$c" "$work" >/dev/null 2>"$work.merge" ||
		{ tail -n 20 "$work.merge"; exit 1; }
	after=$(find "$c" -type f | wc -l)
	echo "  execs $execs, cov $cov, corpus $before -> $after"
	echo "| $day | $commit | $n | $took | $execs | $cov | $before -> $after | 0 |" >>fuzz/RESULTS.md
	rm -rf "$work" "$work.log" "$work.merge"
done
