#!/bin/sh
# bench/serve_proto.sh BROCK BENCHDIR [BEFORE_BROCK]: `make bench-serve-proto`.
# Numbers, not a test. Three processes (stub, brock serve, serve_load), each
# with its own descriptor limit; a fresh brock per run, so peak RSS is that run's.
#  1. short: SHORT_CLIENTS (64) keep-alive clients sending non-stream requests
#     for SHORT_SECS (10) s: OpenAI chat, Anthropic messages, Bedrock converse;
#     with BEFORE_BROCK (an older build, e.g. the threaded server) its OpenAI
#     route too, on the same stub.
#  2. direct: N streams read from the stub itself (the latency baseline).
#  3. N (1000) concurrent streams of DELTAS (100) deltas CADENCE (50) ms apart
#     on each of PROTOS (openai anthropic bedrock).
# Env: N, DELTAS, CADENCE, SHORT_SECS, SHORT_CLIENTS, PROTOS, SKIP (short, direct,
# stream: parts to leave out).
set -eu
brock=$1 dir=$2 before=${3:-}
n=${N:-1000} deltas=${DELTAS:-100} cadence=${CADENCE:-50}
secs=${SHORT_SECS:-10} clients=${SHORT_CLIENTS:-64}
protos=${PROTOS:-openai anthropic bedrock} skip=${SKIP:-}
tmp=$(mktemp -d)
stub='' srv=''
trap 'kill $stub $srv 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
ulimit -n "$(ulimit -Hn)"
"$dir/serve_stub" 0 "$deltas" "$cadence" >"$tmp/stub" &
stub=$!
while ! grep -q ready "$tmp/stub" 2>/dev/null; do sleep 0.05; done
sport=$(sed -n 's/ready //p' "$tmp/stub")
mkdir -p "$tmp/new/.config/brock" "$tmp/old/.config/brock"
echo '{serve: {maxConnectionsPerIp: 20000, maxConnections: 20000}}' >"$tmp/new/.config/brock/config.json5"
echo '{}' >"$tmp/old/.config/brock/config.json5"

# start BIN HOME: brock serve in the background; sets srv and port
start() {
	rm -f "$tmp/err" # else the last server's port may be read before the shell truncates it
	env -i HOME="$2" PATH=/usr/bin:/bin AWS_EC2_METADATA_DISABLED=true \
		AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=benchsecret AWS_REGION=us-east-1 \
		AWS_ENDPOINT_URL_BEDROCK_RUNTIME="http://127.0.0.1:$sport" \
		"$1" serve --listen 127.0.0.1:0 2>"$tmp/err" &
	srv=$!
	port=''
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		port=$(sed -n 's/.*on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/err" 2>/dev/null)
		[ -n "$port" ] && return 0
		sleep 0.25
	done
	cat "$tmp/err" >&2
	exit 1
}
stop() { kill "$srv"; wait "$srv" 2>/dev/null || true; srv=''; }

echo "# $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')"
case $skip in *short*) ;; *)
	for p in openai anthropic bedrock; do
		start "$brock" "$tmp/new"
		printf 'short proto=%s: ' "$p"
		"$dir/serve_load" --proto "$p" --short "$secs" "$port" "$clients" 0 0 "$srv" || true
		stop
	done
	if [ -n "$before" ]; then
		start "$before" "$tmp/old"
		printf 'short proto=openai before: '
		"$dir/serve_load" --short "$secs" "$port" "$clients" 0 0 "$srv" || true
		stop
	fi
esac
case $skip in *direct*) ;; *)
	printf 'direct N=%s deltas=%s cadence_ms=%s: ' "$n" "$deltas" "$cadence"
	"$dir/serve_load" --direct "$sport" "$n" "$deltas" "$cadence" || true
esac
case $skip in *stream*) ;; *)
	for p in $protos; do
		start "$brock" "$tmp/new"
		printf 'stream proto=%s N=%s deltas=%s cadence_ms=%s: ' "$p" "$n" "$deltas" "$cadence"
		"$dir/serve_load" --proto "$p" "$port" "$n" "$deltas" "$cadence" "$srv" || true
		stop
	done
esac
echo "# $(date -u +%FT%TZ) $(uptime | sed 's/.*load/load/')"
