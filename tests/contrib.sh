#!/bin/sh
# Checks of contrib/: the systemd unit passes `systemd-analyze verify` (with
# ExecStart pointed at the binary under test, which verify requires to exist).
# Prints "contrib: N passed, M failed". Usage: sh tests/contrib.sh build/brock
set -u
brock=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
pass=0 fail=0
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/local/bin/brock|$brock|" contrib/brock.service >"$d/brock.service"
	# verify prints nothing and exits 0 when the unit is clean
	if (cd "$d" && systemd-analyze verify "$d/brock.service") >"$d/out" 2>&1 && ! [ -s "$d/out" ]; then
		pass=$((pass + 1)); echo "  ok   systemd-analyze verify contrib/brock.service"
	else
		fail=$((fail + 1)); echo "  FAIL systemd-analyze verify contrib/brock.service"; sed 's/^/       /' "$d/out"
	fi
	for k in DynamicUser StateDirectory CacheDirectory NoNewPrivileges ProtectSystem=strict ProtectHome PrivateTmp \
		'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' MemoryDenyWriteExecute SystemCallFilter=@system-service \
		LimitNOFILE=65536 'ExecReload=/bin/kill -HUP'; do
		if grep -q "^$k" contrib/brock.service; then pass=$((pass + 1)); else
			fail=$((fail + 1)); echo "  FAIL contrib/brock.service lacks $k"; fi
	done
elif [ -n "${BROCK_LINT_STRICT:-}" ]; then
	fail=$((fail + 1)); echo "  FAIL systemd-analyze not installed (make deps)"
else
	echo "  skip systemd-analyze not installed"
fi
echo "contrib: $pass passed, $fail failed"
[ "$fail" = 0 ]
