#!/bin/sh
# Runs every test pass and prints one summary line "N passed, M failed".
#   $1               build dir (build, build/aarch64, ...)
#   BROCK_QEMU       emulator prefix for cross-built unit tests
#   BROCK_UNIT_ONLY  only the unit tests of $1
#   BROCK_SKIP_ASAN  skip the sanitizer pass and corpus replay
# Unit tests run from the repository root (they read tests/vectors/...).
set -u
b=${1:-build}
pass=0 fail=0 broken=""
log=$(mktemp); trap 'rm -f "$log"' EXIT

count() { # name, output file, exit code
	line=$(grep -E '^([A-Za-z0-9_.-]+: )?[0-9]+ passed, [0-9]+ failed' "$2" | tail -n 1)
	p=$(echo "$line" | sed -E 's/.*\b([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	if [ -z "$line" ]; then
		p=0; f=1
	elif [ "$3" != 0 ] && [ "$f" = 0 ]; then
		f=1 # died after printing a clean summary
	fi
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" = 0 ] || broken="$broken $1"
	printf '%-34s %s passed, %s failed\n' "$1" "$p" "$f" | sed 's/^/  /'
}

run_unit() { # dir label
	for t in "$1"/tests/test_*; do
		[ -x "$t" ] || continue
		BROCK_CROSS=${BROCK_QEMU:+1} ${BROCK_QEMU:-} "$t" >"$log" 2>&1; rc=$?
		[ $rc = 0 ] || cat "$log" >&2
		count "$2$(basename "$t")" "$log" $rc
	done
}

run_replay() { # dir
	for r in "$1"/replay/fuzz_*; do
		[ -x "$r" ] || continue
		n=$(basename "$r")
		"$r" fuzz/corpus/"${n#fuzz_}" >"$log" 2>&1; rc=$?
		[ $rc = 0 ] || cat "$log" >&2
		count "replay/$n" "$log" $rc
	done
}

echo "unit tests ($b${BROCK_QEMU:+, under $BROCK_QEMU}):"
run_unit "$b" ""
if [ -z "${BROCK_UNIT_ONLY:-}" ]; then
	if [ -z "${BROCK_SKIP_ASAN:-}" ]; then
		echo "unit tests under ASan+UBSan:"
		run_unit "$b/asan" "asan/"
		echo "fuzz corpus replay (ASan+UBSan):"
		run_replay "$b/asan"
	fi
	echo "lint (tests/lint.sh):"
	sh tests/lint.sh >"$log" 2>&1; rc=$?
	[ $rc = 0 ] || cat "$log" >&2
	count lint "$log" $rc
	# tests/vectors holds a copy of the shared conformance vectors (plus our own
	# bedrock/ cases): keep the copy identical
	if [ -d ../shared/vectors ]; then
		if diff -r -x bedrock ../shared/vectors tests/vectors >"$log" 2>&1; then
			echo "vectors: 1 passed, 0 failed" >"$log"; rc=0
		else
			cat "$log" >&2; echo "vectors: 0 passed, 1 failed" >"$log"; rc=1
		fi
		count "vectors-match-shared" "$log" $rc
	fi
	echo "contrib (tests/contrib.sh):"
	sh tests/contrib.sh "$b/brock" >"$log" 2>&1; rc=$?
	[ $rc = 0 ] || cat "$log" >&2
	count contrib "$log" $rc
	if [ -f tests/integration/run.py ]; then
		echo "integration tests ($b/brock against tests/emulator):"
		python3 tests/integration/run.py --brock "$b/brock" >"$log" 2>&1; rc=$?
		[ $rc = 0 ] || cat "$log" >&2
		grep -E '^(ok|FAIL|SKIP) ' "$log" | sed 's/^/    /'
		count integration "$log" $rc
		# the same scenarios with the ASan+UBSan binary (leaks, overflows,
		# undefined behaviour on every path the tests drive)
		if [ -z "${BROCK_SKIP_ASAN:-}" ] && [ -x "$b/asan/brock" ]; then
			echo "integration tests under ASan+UBSan ($b/asan/brock):"
			python3 tests/integration/run.py --brock "$b/asan/brock" >"$log" 2>&1; rc=$?
			[ $rc = 0 ] || cat "$log" >&2
			grep -E '^(FAIL|SKIP) ' "$log" | sed 's/^/    /'
			count asan/integration "$log" $rc
		fi
	fi
fi
[ -z "$broken" ] || echo "failing:$broken" >&2
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
