#!/bin/sh
# Throwaway PKI for the emulator's HTTPS ports.   usage: mkcerts.sh DIR
#   ca.crt / ca.key                 test CA (give ca.crt to brock as AWS_CA_BUNDLE)
#   server.crt / server.key         good: localhost, 127.0.0.1, ::1; valid now (the IPs also as
#                                   dNSName entries: BearSSL matches server names against dNSName only)
#   expired.crt / expired.key       same names, validity ended in 2020
#   wronghost.crt / wronghost.key   valid now, but only for wrong-host.invalid
# RSA-2048 / SHA-256 everywhere (accepted by every TLS stack, BearSSL included).
set -eu
d=${1:?usage: mkcerts.sh DIR}
mkdir -p "$d"
cd "$d"
rm -rf ca.db && mkdir ca.db
: >ca.db/index.txt
echo 1000 >ca.db/serial
cat >ca.cnf <<'CNF'
[ca]
default_ca = emu
[emu]
dir = ./ca.db
database = $dir/index.txt
serial = $dir/serial
new_certs_dir = $dir
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = brock emulator test CA
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[good]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1, DNS:127.0.0.1, DNS:::1
authorityKeyIdentifier = keyid
[wrong]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong-host.invalid
authorityKeyIdentifier = keyid
CNF
q() { "$@" >/dev/null 2>&1 || { echo "mkcerts: failed: $*" >&2; "$@" >&2; exit 1; }; }
q openssl req -x509 -new -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt \
	-days 30 -config ca.cnf -extensions ca_ext
leaf() { # name CN extensions startdate enddate
	q openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
	q openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in "$1.csr" -out "$1.crt" \
		-notext -extensions "$3" -startdate "$4" -enddate "$5"
	rm -f "$1.csr"
}
now=$(date -u +%s)
start=$(date -u -d "@$((now - 86400))" +%Y%m%d%H%M%SZ)
end=$(date -u -d "@$((now + 30 * 86400))" +%Y%m%d%H%M%SZ)
leaf server localhost good "$start" "$end"
leaf expired localhost good 20190101000000Z 20200101000000Z
leaf wronghost wrong-host.invalid wrong "$start" "$end"
chmod 600 ./*.key
