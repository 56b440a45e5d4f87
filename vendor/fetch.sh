#!/bin/sh
# Fetch and verify brock's third-party inputs into $1 (default build/vendor).
#   src/bearssl/      BearSSL 0.6 source tree (Debian source package, patches applied)
#   include/jsmn.h    jsmn 1.1.0 (Debian libjsmn-dev)
# Offline machines: BEARSSL_TARBALL=/path/bearssl-0.6*.tar.{gz,xz} JSMN_H=/path/jsmn.h
# skip the download (a tarball is checked against the lock only when it is the
# Debian orig tarball; otherwise it is used as given and its sum printed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-build/vendor}
mkdir -p "$out/dl" "$out/include"
out=$(cd "$out" && pwd)
lock="$here/lock"

sum_of() { sha256sum "$1" | cut -d' ' -f1; }
want_sum() { awk -v f="$1" '$1 !~ /^#/ && $3 == f { print $4 }' "$lock"; }
verify() { # file
	w=$(want_sum "$(basename "$1")")
	[ -n "$w" ] || { echo "vendor: $(basename "$1") is not in vendor/lock" >&2; exit 1; }
	g=$(sum_of "$1")
	[ "$g" = "$w" ] || { echo "vendor: SHA-256 mismatch for $(basename "$1"): got $g, want $w" >&2; exit 1; }
}

if [ -f "$out/src/bearssl/inc/bearssl.h" ] && [ -f "$out/include/jsmn.h" ]; then
	exit 0
fi

cd "$out/dl"
# --- BearSSL -----------------------------------------------------------------
rm -rf "$out/src/bearssl"; mkdir -p "$out/src"
if [ -n "${BEARSSL_TARBALL:-}" ]; then
	case "$(basename "$BEARSSL_TARBALL")" in
	bearssl_0.6+dfsg.1.orig.tar.xz) verify "$BEARSSL_TARBALL" ;;
	*) echo "vendor: using $BEARSSL_TARBALL (sha256 $(sum_of "$BEARSSL_TARBALL"))" >&2 ;;
	esac
	mkdir -p "$out/src/bearssl"
	tar -xf "$BEARSSL_TARBALL" -C "$out/src/bearssl" --strip-components=1
else
	for f in $(awk '$1 == "bearssl" { print $3 }' "$lock"); do
		[ -f "$f" ] && [ "$(sum_of "$f")" = "$(want_sum "$f")" ] && continue
		rm -f "$f"
		apt-get source --download-only -qq bearssl=0.6+dfsg.1-3 >/dev/null 2>&1 || {
			echo "vendor: 'apt-get source bearssl' failed; run 'make deps' (enables deb-src) or set BEARSSL_TARBALL" >&2
			exit 1
		}
		break
	done
	for f in $(awk '$1 == "bearssl" { print $3 }' "$lock"); do verify "$f"; done
	rm -rf bearssl-0.6
	dpkg-source --no-check -q -x bearssl_0.6+dfsg.1-3.dsc bearssl-0.6 >/dev/null
	mv bearssl-0.6 "$out/src/bearssl"
fi
# --- jsmn --------------------------------------------------------------------
if [ -n "${JSMN_H:-}" ]; then
	echo "vendor: using $JSMN_H (sha256 $(sum_of "$JSMN_H"))" >&2
	cp "$JSMN_H" "$out/include/jsmn.h"
else
	deb=libjsmn-dev_1.1.0-2_all.deb
	if ! [ -f "$deb" ] || [ "$(sum_of "$deb")" != "$(want_sum "$deb")" ]; then
		rm -f "$deb"
		apt-get download -qq libjsmn-dev=1.1.0-2 >/dev/null 2>&1 || {
			echo "vendor: 'apt-get download libjsmn-dev' failed; set JSMN_H=/path/jsmn.h" >&2
			exit 1
		}
	fi
	verify "$deb"
	rm -rf jsmn-x; dpkg-deb -x "$deb" jsmn-x
	cp jsmn-x/usr/include/jsmn.h "$out/include/jsmn.h"
	rm -rf jsmn-x
fi
