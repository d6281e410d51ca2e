#!/usr/bin/env bash
# Prints the node's start-up and idle figures: time from process start to the first block and
# to the first finalised block of a `--dev` chain, and resident memory after one idle minute.
# Usage: scripts/bench-node.sh [seconds idle, default 60]
# SUTANTRA_NODE=<binary> measures that binary (e.g. a release build) instead of building one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$root"
idle="${1:-60}"

if [ -n "${SUTANTRA_NODE:-}" ]; then
	node_bin="$SUTANTRA_NODE"
else
	build_workspace 2>&1 | tail -n 1
	node_bin="$CARGO_TARGET_DIR/debug/sutantra-node"
fi
base="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
p2p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

rpc() {
	curl -s -H 'Content-Type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$1\",\"params\":[]}" "http://127.0.0.1:$port" || true
}
number() { python3 -c 'import json,sys; print(int(json.load(sys.stdin)["result"]["number"], 16))' 2>/dev/null || echo 0; }

start=$(date +%s.%N)
"$node_bin" --dev --base-path "$base" --rpc-port "$port" --listen-addr "/ip4/127.0.0.1/tcp/$p2p" \
	--no-mdns --no-telemetry --prometheus-port 0 --streaming-addr 127.0.0.1:0 --webrtc-port 0 >"$base/node.log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$base"' EXIT

first_block="" first_final=""
while [ -z "$first_final" ]; do
	kill -0 $pid 2>/dev/null || { tail -n 30 "$base/node.log"; exit 1; }
	now=$(date +%s.%N)
	if [ -z "$first_block" ] && [ "$(rpc chain_getHeader | number)" -ge 1 ]; then
		first_block=$(awk "BEGIN { print $now - $start }")
	fi
	if [ -n "$first_block" ]; then
		hash=$(rpc chain_getFinalizedHead | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])')
		n=$(curl -s -H 'Content-Type: application/json' \
			-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"chain_getHeader\",\"params\":[\"$hash\"]}" \
			"http://127.0.0.1:$port" | number)
		[ "$n" -ge 1 ] && first_final=$(awk "BEGIN { print $now - $start }")
	fi
	sleep 0.1
done
sleep "$idle"
rss_kib=$(awk '/VmRSS/ { print $2 }' /proc/$pid/status)
anon_kib=$(awk '/RssAnon/ { print $2 }' /proc/$pid/status)
file_kib=$(awk '/RssFile/ { print $2 }' /proc/$pid/status)
best=$(rpc chain_getHeader | number)

printf 'start -> first block:            %.1f s\n' "$first_block"
printf 'start -> first finalised block:  %.1f s\n' "$first_final"
printf 'RSS after %s s idle (block %s):  %d MiB (heap and stacks %d MiB, mapped files %d MiB)\n' \
	"$idle" "$best" $((rss_kib / 1024)) $((anon_kib / 1024)) $((file_kib / 1024))
