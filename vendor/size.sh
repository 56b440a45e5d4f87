#!/bin/sh
# make size: where the bytes of the static binary go, from the linker's map file.
#   vendor/size.sh MAP BINARY BUDGET_FILE [STRIP]
# Prints the bytes each src module, BearSSL (by folder) and libc put into the
# loaded image (every allocated section but .bss/.tbss, as linked: sections
# --gc-sections dropped are not counted), then the stripped size of BINARY
# against the budget in BUDGET_FILE (first number on a line not starting with #).
# Exits 1 when the stripped binary is larger than the budget.
set -eu
map=$1 bin=$2 budget_file=$3 strip=${4:-strip}

budget=$(sed -n '/^[[:space:]]*[0-9]/{s/^[[:space:]]*\([0-9]*\).*/\1/p;q;}' "$budget_file")
[ -n "$budget" ] || { echo "size: no budget in $budget_file" >&2; exit 2; }

# One line per input section kept in the image: "<group> <bytes>".
# A map line is " .section 0xADDR 0xSIZE file", or the name alone on one line
# and "0xADDR 0xSIZE file" on the next when the name is long.
mods=$(cd src 2>/dev/null && ls */*.c | sed 's/\.c$//' | tr '\n' ' ')
awk -v mods="$mods" '
BEGIN { n = split(mods, a, " "); for (i = 1; i <= n; i++) { m = a[i]; sub(/.*\//, "", m); path[m] = a[i] } }
function hex(s,   i, c, v) {
	v = 0; s = tolower(substr(s, 3))
	for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
	return v
}
function group(f,   m) {
	if (f ~ /libbearssl\.a\(/) {
		m = f; sub(/.*bearssl_src_/, "", m); sub(/_.*/, "", m)
		return "bearssl/" m
	}
	if (f ~ /libc\.a\(|crt[1in]\.o$/) return "libc"
	if (f ~ /libgcc|crtbegin|crtend/) return "libgcc"
	if (f ~ /libbrock\.a\(/) { m = f; sub(/.*\(/, "", m); sub(/\.o\)$/, "", m); return "src/" (m in path ? path[m] : m) }
	if (f ~ /\/obj\//) { m = f; sub(/.*\/obj\//, "", m); sub(/\.o$/, "", m); return "src/" m }
	return "other"
}
function take(sec, addr, size, file) {
	if (out == "" || out ~ /^\.(t?bss|comment|debug|note\.GNU-stack|shstrtab|symtab|strtab)/) return
	if (addr !~ /^0x/ || size !~ /^0x/ || file == "") return
	if (hex(addr) == 0) return
	print group(file), hex(size)
}
/^Linker script and memory map/ { on = 1; next }
!on { next }
/^\.[A-Za-z_.]/ { out = $1; pending = ""; next }
/^ \.[A-Za-z_]/ {
	if (NF >= 4) { take($1, $2, $3, $4); pending = "" }
	else if (NF == 1) pending = $1
	next
}
/^ \*fill\*/ { next }
pending != "" && /^ +0x/ { take(pending, $1, $2, $3); pending = ""; next }
{ pending = "" }
' "$map" | awk -v bin="$bin" '
{ b[$1] += $2; tot += $2
  if ($1 ~ /^src\//) src += $2; else if ($1 ~ /^bearssl\//) br += $2; else if ($1 == "libc") libc += $2; else oth += $2 }
END {
	printf "bytes in the loaded image of %s, by input (text+rodata+data, as linked)\n", bin
	n = 0; for (k in b) keys[++n] = k
	for (i = 2; i <= n; i++) { k = keys[i]; for (j = i - 1; j >= 1 && keys[j] > k; j--) keys[j + 1] = keys[j]; keys[j + 1] = k }
	for (i = 1; i <= n; i++) if (keys[i] ~ /^src\//) printf "  %-28s %8d\n", keys[i], b[keys[i]]
	printf "  %-28s %8d\n", "= src (brock)", src
	for (i = 1; i <= n; i++) if (keys[i] ~ /^bearssl\//) printf "  %-28s %8d\n", keys[i], b[keys[i]]
	printf "  %-28s %8d\n", "= BearSSL", br
	printf "  %-28s %8d\n", "= libc (musl)", libc
	printf "  %-28s %8d\n", "= other (libgcc, linker)", oth
	printf "  %-28s %8d\n", "= total", tot
}'

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
"$strip" --strip-all -R .comment -o "$tmp" "$bin"
got=$(wc -c <"$tmp")
echo "stripped $bin: $got bytes; budget $budget bytes ($budget_file); $((budget - got)) to spare"
if [ "$got" -gt "$budget" ]; then
	echo "size: the stripped binary is $((got - budget)) bytes over the budget in $budget_file" >&2
	exit 1
fi
