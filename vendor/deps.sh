#!/bin/sh
# Install the build and test tools brock needs on Debian (idempotent; fast when done), then the
# official clients the integration tests drive (npm ci in tests/clients, pinned by its lock file).
# Usage: vendor/deps.sh [cross]
set -eu
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
# python3-h2: the emulator's HTTP/2 front and the h2 listener tests; chromium (+ a font):
# tests/integration/test_status.py renders GET /status in it, headless; nginx-light and haproxy:
# the fleet test (contrib/)
pkgs="make gcc musl-tools musl-dev dpkg-dev xz-utils clang libclang-rt-14-dev python3 python3-h2 openssl zlib1g-dev libdeflate-dev file ca-certificates cppcheck systemd chromium fonts-dejavu-core nginx-light haproxy"
case "${1:-}" in cross) pkgs="$pkgs gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf musl-dev:arm64 musl-dev:armhf qemu-user-static" ;; esac
src=/etc/apt/sources.list.d/brock-deb-src.sources
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
for p in $pkgs; do have "$p" || need="$need $p"; done
# node and npm from Debian unless some node (e.g. NodeSource's, which bundles npm) is there already
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || need="$need nodejs npm"

# tests/clients/node_modules as its package-lock.json says: npm ci when missing or stale
clients() {
	dir="$(dirname "$0")/../tests/clients"
	sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
	[ "$(cat "$dir/node_modules/.brock-lock" 2>/dev/null)" = "$sum" ] && return 0
	echo "deps: npm ci in tests/clients" >&2
	for i in 1 2 3; do
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) && break
		# no registry: the client tests skip and say so (the build needs none of it); under CI
		# they must run, so it is an error there
		[ $i = 3 ] && [ "${CI:-}" = true ] && { echo "deps: npm ci in tests/clients failed" >&2; exit 1; }
		[ $i = 3 ] && { echo "deps: npm ci in tests/clients failed: the client tests will be skipped" >&2; return 0; }
		sleep 5
	done
	echo "$sum" >"$dir/node_modules/.brock-lock"
}

# Everything installed and the vendor tree fetched: apt is not touched.
[ -z "$need" ] && [ -f "${VENDOR:-build/vendor}/.stamp" ] && { clients; exit 0; }
if [ "${1:-}" = cross ]; then
	for a in arm64 armhf; do
		dpkg --print-foreign-architectures | grep -qx $a || { $SUDO dpkg --add-architecture $a; rm -f /tmp/.brock-apt-updated; }
	done
fi
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
	printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"$(. /etc/os-release && echo "$VERSION_CODENAME")" | $SUDO tee $src >/dev/null
	rm -f /tmp/.brock-apt-updated
fi
if [ -n "$need" ] || ! [ -f /tmp/.brock-apt-updated ]; then
	if [ -n "$need" ] || ! apt-cache showsrc bearssl >/dev/null 2>&1; then
		# a mirror mid-sync can fail one index; retry, then go on with what we have
		for i in 1 2 3; do $SUDO apt-get update -qq && break; sleep 5; done || true
		touch /tmp/.brock-apt-updated
	fi
fi
if [ -n "$need" ]; then
	echo "deps: installing$need" >&2
	for i in 1 2 3; do
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null && break
		[ $i = 3 ] && { echo "deps: apt-get install$need failed" >&2; exit 1; }
		sleep 5; $SUDO apt-get update -qq || true
	done
fi
clients
