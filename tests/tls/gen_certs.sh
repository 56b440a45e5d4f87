#!/bin/sh
# Throwaway PKI for test_tls/test_httpc: gen_certs.sh DIR
#   ca.crt           the test CA (the bundle the tests trust)
#   good.{crt,key}   localhost + 127.0.0.1, EC P-256, from ca
#   rsa.{crt,key}    the same with an RSA-2048 key
#   expired.*        from ca, valid only in 2020
#   wronghost.*      from ca, for wrong.example only
#   unknown.*        localhost, from a CA nobody trusts
set -eu
d=$1
mkdir -p "$d"
cd "$d"
cat > ca.cnf <<'CNF'
[ca]
default_ca = tca
[tca]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = CA:false
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
CNF
: > index.txt
echo 1000 > serial
mkca() { # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
		-out "$1.crt" -days 30 -subj "/CN=brock test $1" -config ca.cnf -extensions v3_ca 2>/dev/null
}
leaf() { # name ca san keyopts... [-startdate X -enddate Y]
	n=$1 ca=$2 san=$3
	shift 3
	kt=$1
	shift
	if [ "$kt" = rsa ]; then ko="-newkey rsa:2048"; else ko="-newkey ec -pkeyopt ec_paramgen_curve:P-256"; fi
	openssl req $ko -nodes -keyout "$n.key" -out "$n.csr" -subj "/CN=$n" \
		-addext "subjectAltName=$san" 2>/dev/null
	openssl ca -batch -config ca.cnf -cert "$ca.crt" -keyfile "$ca.key" -in "$n.csr" \
		-out "$n.crt" -extensions leaf -notext "$@" 2>/dev/null
}
mkca ca
mkca other
leaf good ca "DNS:localhost,IP:127.0.0.1" ec -days 30
leaf rsa ca "DNS:localhost,IP:127.0.0.1" rsa -days 30
leaf expired ca "DNS:localhost,IP:127.0.0.1" ec -startdate 20200101000000Z -enddate 20200201000000Z
leaf wronghost ca "DNS:wrong.example" ec -days 30
leaf unknown other "DNS:localhost,IP:127.0.0.1" ec -days 30
