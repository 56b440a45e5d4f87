#!/bin/sh
# Per target, from the rows fuzz/long.sh appended to fuzz/RESULTS.md: how
# many long runs, the executions of the largest run and of all runs together
# (each run starts from the corpus the runs before it merged), the coverage
# the newest run ended with, the committed corpus now, and crashes. Targets
# with no row yet show 0, so a new target cannot hide. Prints a Markdown
# table; run from the top of the repo: sh fuzz/summary.sh
set -eu
for f in fuzz/fuzz_*.c; do
	n=${f#fuzz/}
	n=${n%.c}
	printf '%s %s\n' "$n" "$(find "fuzz/corpus/${n#fuzz_}" -type f 2>/dev/null | wc -l)"
done | awk -F'|' '
	FNR == NR { split($0, w, " "); order[++k] = w[1]; corpus[w[1]] = w[2]; next }
	NF >= 10 && $4 ~ /fuzz_/ {
		t = $4; gsub(/ /, "", t)
		e = $6; gsub(/ /, "", e)
		c = $7; gsub(/ /, "", c)
		if ($9 ~ /CRASH/) { crash[t]++; next }
		runs[t]++; total[t] += e
		if (e + 0 > best[t]) best[t] = e + 0
		if (c != "-") cov[t] = c
	}
	function group(x,  s) {
		s = sprintf("%.0f", x)
		while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s)
		return s
	}
	END {
		print "| target | runs | largest run | all runs | cov (newest) | corpus | crashes |"
		print "|---|---|---|---|---|---|---|"
		for (i = 1; i <= k; i++) {
			t = order[i]
			printf "| %s | %d | %s | %s | %s | %d | %d |\n", t, runs[t], group(best[t]),
			       group(total[t]), (t in cov) ? cov[t] : "-", corpus[t], crash[t]
		}
	}' - fuzz/RESULTS.md
