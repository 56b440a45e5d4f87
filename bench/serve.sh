#!/bin/sh
# bench/serve.sh BROCK BENCHDIR [N...]: brock serve against the C upstream
# stub, N concurrent streams of DELTAS deltas CADENCE ms apart (default
# 1000 and 10000 streams, 100 deltas, 50 ms). Three processes, each with its
# own descriptor limit. Prints one result line per N. Numbers, not a test.
#
# UPSTREAM picks how brock reaches the stub: h2 (default: TLS, ALPN h2, the
# async HTTP/2 path), tls-h1 (TLS, the stub offers http/1.1 only), plain
# (http://, HTTP/1.1). TLS uses a throwaway EC P-256 CA and server
# certificate made here with openssl; brock trusts the CA via AWS_CA_BUNDLE.
# MAX_STREAMS: the stub's SETTINGS_MAX_CONCURRENT_STREAMS (default 100).
# KEEP_ERR=PREFIX copies brock's stderr of each run to PREFIX.N.
# PROTO: the route the clients use, openai (default), anthropic or bedrock
# (serve_load --proto).
set -eu
brock=$1 dir=$2
shift 2
ns=${*:-1000 10000}
deltas=${DELTAS:-100} cadence=${CADENCE:-50} upstream=${UPSTREAM:-h2}
tmp=$(mktemp -d)
stub='' srv=''
trap 'kill $stub $srv 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
ulimit -n "$(ulimit -Hn)"
case $upstream in
plain) flags='' scheme=http ;;
tls-h1) flags="--tls $tmp --no-h2" scheme=https ;;
h2) flags="--tls $tmp" scheme=https ;;
*) echo "UPSTREAM must be plain, tls-h1 or h2" >&2; exit 2 ;;
esac
ca=''
if [ "$scheme" = https ]; then
	ca=$tmp/ca.crt
	(
		cd "$tmp"
		openssl ecparam -name prime256v1 -genkey -noout -out ca.key
		openssl req -x509 -new -key ca.key -subj /CN=serve-stub-ca -days 2 -out ca.crt \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
		openssl ecparam -name prime256v1 -genkey -noout -out srv.key
		openssl req -new -key srv.key -subj /CN=127.0.0.1 -out srv.csr
		# BearSSL matches host names against dNSName only: the IP goes there too
		printf 'subjectAltName=DNS:127.0.0.1,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n' >ext
		openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -set_serial 1 -days 2 \
			-extfile ext -out srv.crt
		openssl x509 -in srv.crt -outform DER -out cert.der
		openssl ec -in srv.key -outform DER -out key.der
	) 2>"$tmp/openssl.log" || { cat "$tmp/openssl.log" >&2; exit 1; }
fi
# shellcheck disable=SC2086 # flags is a word list
"$dir/serve_stub" $flags ${MAX_STREAMS:+--max-streams "$MAX_STREAMS"} 0 "$deltas" "$cadence" >"$tmp/stub" &
stub=$!
while ! grep -q ready "$tmp/stub" 2>/dev/null; do sleep 0.05; done
sport=$(sed -n 's/ready //p' "$tmp/stub")
mkdir -p "$tmp/home/.config/brock"
echo '{serve: {maxConnectionsPerIp: 20000, maxConnections: 20000}}' >"$tmp/home/.config/brock/config.json5"
for n in $ns; do
	env -i HOME="$tmp/home" PATH=/usr/bin:/bin AWS_EC2_METADATA_DISABLED=true \
		AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1 \
		AWS_ENDPOINT_URL_BEDROCK_RUNTIME="$scheme://127.0.0.1:$sport" ${ca:+AWS_CA_BUNDLE="$ca"} \
		"$brock" serve --listen 127.0.0.1:0 2>"$tmp/err" &
	srv=$!
	i=0 port=''
	while [ -z "$port" ] && [ $i -lt 200 ]; do # a loaded box may take seconds
		sleep 0.05
		i=$((i + 1))
		port=$(sed -n 's/.*on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/err")
	done
	[ -n "$port" ] || { echo "brock serve did not start:" >&2; head -3 "$tmp/err" >&2; exit 1; }
	printf 'upstream=%s proto=%s N=%s deltas=%s cadence_ms=%s: ' "$upstream" "${PROTO:-openai}" "$n" "$deltas" "$cadence"
	"$dir/serve_load" --proto "${PROTO:-openai}" "$port" "$n" "$deltas" "$cadence" "$srv" | tr -d '\n' || true
	kill "$srv"; wait "$srv" 2>/dev/null || true
	[ -z "${KEEP_ERR:-}" ] || cp "$tmp/err" "$KEEP_ERR.$n"
	# the stub's counters for this run (it resets them on each report)
	before=$(grep -c '^stub:' "$tmp/stub" || true)
	kill -USR1 "$stub"
	while [ "$(grep -c '^stub:' "$tmp/stub" || true)" = "$before" ]; do sleep 0.05; done
	grep '^stub:' "$tmp/stub" | tail -1 |
		sed 's/^stub: connections \([0-9]*\).*streams \([0-9]*\) completed \([0-9]*\).*peak \([0-9]*\) cpu_s \([0-9.]*\).*/ upstream_conns=\1 upstream_streams=\2 upstream_completed=\3 upstream_peak_open=\4 stub_cpu_s=\5/'
done
