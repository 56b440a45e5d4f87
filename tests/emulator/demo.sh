#!/bin/sh
# The Quick-start demo: starts the local Bedrock emulator on loopback and runs
# `brock chat` and `brock models list` against it, with throwaway credentials,
# a throwaway CA and a clean environment. No AWS account, no network.
# usage: tests/emulator/demo.sh [path/to/brock] [prompt]
set -eu
brock=${1:-build/brock}
prompt=${2:-Hello from the edge. What can you do?}
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

tests/emulator/mkcerts.sh "$tmp/certs" >/dev/null 2>&1
python3 tests/emulator/emulator.py --certs "$tmp/certs" --state-file "$tmp/emu.json" \
	--max-lifetime 300 >/dev/null 2>"$tmp/emu.err" &
pid=$!
i=0
while ! [ -s "$tmp/emu.json" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "demo: the emulator did not start:" >&2; cat "$tmp/emu.err" >&2; exit 1; }
	sleep 0.1
done
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["https"])' "$tmp/emu.json")
mkdir -p "$tmp/home"

run() {
	echo "\$ brock $*" >&2
	env -i PATH="$PATH" HOME="$tmp/home" AWS_CA_BUNDLE="$tmp/certs/ca.crt" \
		AWS_EC2_METADATA_DISABLED=true \
		AWS_ENDPOINT_URL_BEDROCK_RUNTIME="$url" AWS_ENDPOINT_URL_BEDROCK="$url" \
		AWS_ENDPOINT_URL_STS="$url" AWS_ENDPOINT_URL_SSO="$url" AWS_ENDPOINT_URL_SSO_OIDC="$url" \
		AWS_ACCESS_KEY_ID=AKIAEMULATORTEST0001 \
		AWS_SECRET_ACCESS_KEY=emuSecretKey/0001+abcdefghijklmnopqrstuvw \
		AWS_REGION=us-east-1 BROCK_CACHE_DIR="$tmp/cache" "$brock" "$@"
}

echo "emulator at $url (loopback, throwaway CA)" >&2
run chat -m amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0 "$prompt"
echo >&2
run models list
