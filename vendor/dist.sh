#!/bin/sh
# make dist: one tarball per architecture and SHA256SUMS in dist/.
#   dist/brock-VERSION-ARCH-linux-musl.tar.gz: brock (static, stripped), README.md,
#   LICENSE, NOTICE (BearSSL's and jsmn's licences), brock.service
# Reproducible: file times are the commit's time, owners are 0, entries are sorted
# and gzip stores no name or time, so building one commit twice (anywhere, at any
# time) gives the same bytes. Usage: BUILD=build DIST_ARCHES="x86_64 aarch64 armv7" vendor/dist.sh VERSION
set -eu
ver=$1
b=${BUILD:-build}
arches=${DIST_ARCHES:-x86_64 aarch64 armv7}
epoch=$(git log -1 --format=%ct 2>/dev/null || echo "${SOURCE_DATE_EPOCH:-0}")
out=dist
rm -rf "$out"; mkdir -p "$out/stage"
notice() {
	echo "brock includes BearSSL and jsmn, both under the MIT licence."
	echo
	echo "==== BearSSL $(awk '$1 == "bearssl" { print $2; exit }' vendor/lock) ===="
	cat "$b/vendor/src/bearssl/LICENSE.txt"
	echo
	echo "==== jsmn $(awk '$1 == "jsmn" { print $2; exit }' vendor/lock) (Debian copyright file) ===="
	dpkg-deb --fsys-tarfile "$b/vendor/dl/libjsmn-dev_1.1.0-2_all.deb" |
		tar -xO ./usr/share/doc/libjsmn-dev/copyright
}
for a in $arches; do
	case $a in
	x86_64) bin=$b/brock strip=strip ;;
	aarch64) bin=$b/aarch64/brock strip=aarch64-linux-gnu-strip ;;
	armv7) bin=$b/armhf/brock strip=arm-linux-gnueabihf-strip ;;
	*) echo "dist: unknown architecture $a" >&2; exit 2 ;;
	esac
	name=brock-$ver-$a-linux-musl
	d=$out/stage/$name
	mkdir -p "$d"
	cp "$bin" "$d/brock"
	$strip --strip-all -R .comment "$d/brock"
	cp README.md LICENSE contrib/brock.service "$d/"
	notice >"$d/NOTICE"
	chmod 755 "$d" "$d/brock"; chmod 644 "$d/README.md" "$d/LICENSE" "$d/NOTICE" "$d/brock.service"
	(cd "$out/stage" && tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
		--format=gnu -cf - "$name") | gzip -n -9 >"$out/$name.tar.gz"
done
rm -rf "$out/stage"
(cd "$out" && sha256sum ./*.tar.gz | sed 's| \./| |' >SHA256SUMS)
cat "$out/SHA256SUMS"
