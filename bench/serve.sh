#!/bin/sh
# bench/serve.sh BROCK BENCHDIR [N...]: brock serve against the C upstream
# stub, N concurrent streams of DELTAS deltas CADENCE ms apart (default
# 1000 and 10000 streams, 100 deltas, 50 ms). Three processes, each with its
# own descriptor limit. Prints one result line per N. Numbers, not a test.
set -eu
brock=$1 dir=$2
shift 2
ns=${*:-1000 10000}
deltas=${DELTAS:-100} cadence=${CADENCE:-50}
tmp=$(mktemp -d)
trap 'kill $stub $srv 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
ulimit -n "$(ulimit -Hn)"
"$dir/serve_stub" 0 "$deltas" "$cadence" >"$tmp/stub" &
stub=$!
while ! grep -q ready "$tmp/stub" 2>/dev/null; do sleep 0.05; done
sport=$(sed -n 's/ready //p' "$tmp/stub")
mkdir -p "$tmp/home/.config/brock"
echo '{serve: {maxConnectionsPerIp: 20000, maxConnections: 20000}}' >"$tmp/home/.config/brock/config.json5"
for n in $ns; do
	env -i HOME="$tmp/home" PATH=/usr/bin:/bin AWS_EC2_METADATA_DISABLED=true \
		AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1 \
		AWS_ENDPOINT_URL_BEDROCK_RUNTIME="http://127.0.0.1:$sport" \
		"$brock" serve --listen 127.0.0.1:0 2>"$tmp/err" &
	srv=$!
	sleep 0.5
	port=$(sed -n 's/.*on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/err")
	[ -n "$port" ] || { env -i HOME="$tmp/home" "$brock" serve --listen 127.0.0.1:0 2>&1 | head -3; exit 1; }
	printf 'N=%s deltas=%s cadence_ms=%s: ' "$n" "$deltas" "$cadence"
	"$dir/serve_load" "$port" "$n" "$deltas" "$cadence" "$srv" || true
	kill "$srv"; wait "$srv" 2>/dev/null || true
done
