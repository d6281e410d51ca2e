#!/usr/bin/env bash
# Runs one benchmark in the scripts' shared build directory and prints its figures.
#   scripts/bench.sh fanout [-- ARGS]     the engine's fan-out (optimised build of the streaming crate)
#   scripts/bench.sh vouchers [-- ARGS]   the node's voucher intake (the dev build the tests use)
#   scripts/bench.sh idle [-- ARGS]       the node's release build idle on a dev chain: its memory
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" || exit 1
cd "$root"

bench="${1:-}"
shift || true
[ "${1:-}" = "--" ] && shift
case "$bench" in
fanout)
	# Throughput figures need an optimised engine: the bench profile (release settings), built
	# once into the shared target directory next to the dev build.
	exec cargo bench --locked -p sutantra-streaming --bench fanout -- "$@"
	;;
idle)
	# The node's release build idle on a dev chain (Alice authoring, streaming on, nobody
	# connected): its memory after it settles. ARGS: seconds to settle (default 60), then any
	# node flags to try (e.g. --no-streaming, --trie-cache-size 0).
	cargo build --locked --release -p sutantra-node >&2 || exit 1
	settle="${1:-60}"
	shift || true
	base="$(mktemp -d)"
	trap 'rm -rf "$base"' EXIT
	"$CARGO_TARGET_DIR/release/sutantra-node" --dev --base-path "$base" --port 0 --rpc-port 0 \
		--prometheus-port 0 --webrtc-port 0 --streaming-addr 127.0.0.1:0 "$@" >"$base/node.log" 2>&1 &
	pid=$!
	sleep "$settle"
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "the node stopped; its log:" >&2
		tail -20 "$base/node.log" >&2
		exit 1
	fi
	echo "sutantra-node (release) idle for ${settle} s on a dev chain, flags: ${*:-none}"
	grep -E '^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem|Threads)' "/proc/$pid/status"
	grep -o 'Imported #[0-9]*' "$base/node.log" | tail -1
	kill -INT "$pid"
	wait "$pid"
	exit 0
	;;
vouchers)
	# The node's own code as the tests build it (dev profile, the same build as the tests).
	exec cargo bench --locked --workspace --bench vouchers --profile dev -- "$@"
	;;
*)
	echo "usage: scripts/bench.sh fanout|vouchers|idle [-- ARGS]" >&2
	exit 2
	;;
esac
