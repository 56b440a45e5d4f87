#!/bin/sh
# Code-quality gates over src/. Prints one line per check and "lint: N passed, M failed".
#   banned     no sprintf/strcpy/atoi/gmtime/system/... (comments and strings ignored)
#   cppcheck   cppcheck --enable=warning,portability (skipped, not failed, if not installed;
#              set BROCK_LINT_STRICT=1 to fail instead, as CI does after `make deps`)
#   guards     every src/<layer>/<name>.h has the include guard BROCK_<NAME>_H
#   prefixes   every non-static function in src/<layer>/<m>.c carries its module's prefix
#   layers     a file in src/<layer>/ includes headers of its own layer or below only:
#              base < wire < net < aws < bedrock < cmd (docs/ARCHITECTURE.md)
# Run from the repository root: sh tests/lint.sh
set -u
cd "$(dirname "$0")/.." || exit 2
pass=0 fail=0
out=$(mktemp); trap 'rm -f "$out"' EXIT

result() { # name ok(0/1) [detail file]
	if [ "$2" = 0 ]; then
		pass=$((pass + 1)); echo "  ok   $1"
	else
		fail=$((fail + 1)); echo "  FAIL $1"
		[ -n "${3:-}" ] && sed 's/^/       /' "$3"
	fi
	return 0
}

# Source text with comments, string and character literals blanked and line numbers
# kept, as "file:line:text" (so a word inside a comment or a message is never flagged).
strip_c() {
	awk '
	FNR == 1 { inc = 0 }
	{
		s = $0; o = ""; i = 1; n = length(s)
		while (i <= n) {
			c = substr(s, i, 1); d = substr(s, i, 2)
			if (inc) {
				if (d == "*/") { inc = 0; i += 2 } else i++
				continue
			}
			if (d == "/*") { inc = 1; i += 2; o = o " "; continue }
			if (d == "//") break
			if (c == "\"" || c == "\047") {
				q = c; i++
				while (i <= n && substr(s, i, 1) != q) i += (substr(s, i, 1) == "\\") ? 2 : 1
				i++; o = o q q; continue
			}
			o = o c; i++
		}
		print FILENAME ":" FNR ":" o
	}' "$@"
}

# (a) banned functions. credential_process runs /bin/sh through fork/exec, never system().
banned='sprintf|vsprintf|strcpy|stpcpy|strcat|strncpy|strncat|strtok|strtok_r|atoi|atol|atoll|atof|sscanf|vsscanf|gmtime|localtime|asctime|ctime|gets|rand|srand|random|system|popen|alloca|tmpnam|tempnam|mktemp'
strip_c src/*/*.c |
	grep -E "^[^:]+:[0-9]+:(.*[^A-Za-z0-9_.>])?($banned)[ 	]*\\(" |
	sed -E 's/^([^:]+:[0-9]+):.*/\1/' >"$out"
# name the offending function on each line of the report
if [ -s "$out" ]; then
	while IFS=: read -r f l; do
		w=$(sed -n "${l}p" "$f" | grep -oE "(^|[^A-Za-z0-9_.>])($banned)[ 	]*\\(" | head -n 1 |
			sed -E 's/^[^A-Za-z]*//; s/[ 	(]*$//')
		echo "$f:$l: banned function $w()"
	done <"$out" >"$out.r"
	mv "$out.r" "$out"
fi
result "banned functions" "$([ -s "$out" ] && echo 1 || echo 0)" "$out"

# (b) cppcheck
if command -v cppcheck >/dev/null 2>&1; then
	cppcheck --enable=warning,portability --error-exitcode=1 --inline-suppr -q \
		--std=c11 -Isrc src/*/*.c >"$out" 2>&1
	result "cppcheck" $? "$out"
elif [ -n "${BROCK_LINT_STRICT:-}" ]; then
	echo "cppcheck not installed (make deps)" >"$out"
	result "cppcheck" 1 "$out"
else
	echo "  skip cppcheck (not installed; make deps)"
fi

# (c) include guards: #ifndef BROCK_<NAME>_H / #define BROCK_<NAME>_H first, #endif last
: >"$out"
for h in src/*/*.h; do
	g=BROCK_$(basename "$h" .h | tr 'a-z' 'A-Z')_H
	first=$(grep -E '^[ 	]*#' "$h" | head -n 2 | tr -s ' \t' ' ' | tr '\n' '|')
	last=$(grep -E '^[ 	]*#' "$h" | tail -n 1 | tr -s ' \t' ' ')
	[ "$first" = "#ifndef $g|#define $g|" ] || echo "$h: include guard is not $g" >>"$out"
	case $last in "#endif"*) ;; *) echo "$h: does not end with #endif" >>"$out" ;; esac
done
result "include guards" "$([ -s "$out" ] && echo 1 || echo 0)" "$out"

# (d) module prefixes on external functions. A definition starts at column 0 with a name
# followed by '(' and reaches a '{' before any ';'; static ones are skipped. Modules whose
# prefix is not "<module>_" are listed here; buf.h also owns slice_*, str_* and secure_zero.
# aws_*.c files share the prefix aws_, the files of the credential chain (creds_*.c) creds_,
# http_*.c http_ and json5_*.c j5_.
prefixes() {
	case $1 in
	base64) echo 'base64_|hex_' ;;
	buf) echo 'buf_|slice_|str_|secure_zero$|secure_equal$' ;;
	cmd_*) echo 'cmd_' ;;
	aws_*) echo 'aws_' ;;
	creds_*) echo 'creds_' ;;
	config_edit | config_serve) echo 'config_' ;;
	converse | converse_body) echo 'conv_' ;;
	converse_fast) echo 'conv_fast_' ;;
	discovery | discovery_*) echo 'disc_' ;;
	evstream) echo 'evs_' ;;
	json) echo 'json_|jw_' ;;
	json_get) echo 'json_' ;;
	json_write) echo 'jw_' ;;
	http_*) echo 'http_' ;;
	json5 | json5_*) echo 'j5_' ;;
	openai | openai_*) echo 'oai_' ;;
	anthropic | anthropic_*) echo 'anth_' ;;
	passthrough) echo 'pt_' ;;
	embeddings) echo 'emb_' ;;
	main) echo 'main$' ;;
	pctenc) echo 'pct_' ;;
	server_*) echo 'server_' ;;
	h2c_conn) echo 'h2c_' ;;
	*) echo "$1_" ;;
	esac
}
: >"$out"
for c in src/*/*.c; do
	m=$(basename "$c" .c)
	strip_c "$c" | awk '
	{
		at = $0; sub(/:[^:]*$/, "", at); t = $0; sub(/^[^:]*:[^:]*:/, "", t)
	}
	!cand && t ~ /^[A-Za-z_][A-Za-z0-9_ \t*]*\(/ && t !~ /^(static|extern|typedef)[ \t]/ {
		cand = 1; where = at; name = t
		sub(/[ \t]*\(.*/, "", name); sub(/.*[ \t*]/, "", name)
	}
	cand && t ~ /;/ && t !~ /^\{/ { cand = 0; next }
	cand && t ~ /^\{/ { print where " " name; cand = 0; next }
	cand && t ~ /\{[ \t]*$/ { print where " " name; cand = 0 }
	' | while read -r at name; do
		echo "$name" | grep -qE "^($(prefixes "$m"))" ||
			echo "$at: external function $name() lacks the prefix of module $m"
	done >>"$out"
done
result "module prefixes" "$([ -s "$out" ] && echo 1 || echo 0)" "$out"

# (e) include direction. A layer's rank is its place in this list; a quoted include
# "<layer>/x.h" from a file of a lower rank reaches up and fails. Files directly in src/
# or in a folder not listed fail too: every module lives in one layer.
layers="base wire net aws bedrock cmd"
rank() { # layer -> 0..5, or empty
	i=0
	for l in $layers; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done
}
: >"$out"
for f in src/*; do
	[ -d "$f" ] || { echo "$f: outside any layer folder" >>"$out"; continue; }
	[ -n "$(rank "$(basename "$f")")" ] || echo "$f: not a layer ($layers)" >>"$out"
done
for f in src/*/*.c src/*/*.h; do
	own=$(rank "$(basename "$(dirname "$f")")")
	[ -n "$own" ] || continue
	grep -nE '^[ 	]*#[ 	]*include[ 	]*"' "$f" | while IFS= read -r line; do
		inc=$(echo "$line" | sed -E 's/^[0-9]+:[^"]*"([^"]*)".*/\1/')
		case $inc in
		*/*) l=${inc%%/*}; r=$(rank "$l")
			if [ -z "$r" ]; then
				echo "$f:${line%%:*}: includes \"$inc\" from no layer"
			elif [ "$r" -gt "$own" ]; then
				echo "$f:${line%%:*}: includes \"$inc\" from layer $l, above its own"
			fi ;;
		esac
	done >>"$out"
done
result "include direction" "$([ -s "$out" ] && echo 1 || echo 0)" "$out"

echo "lint: $pass passed, $fail failed"
[ "$fail" = 0 ]
