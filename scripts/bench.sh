#!/usr/bin/env bash
# Runs one benchmark in the scripts' shared build directory and prints its figures.
#   scripts/bench.sh fanout [-- ARGS]     the engine's fan-out (optimised build of the streaming crate)
#   scripts/bench.sh vouchers [-- ARGS]   the node's voucher intake (the dev build the tests use)
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
vouchers)
	# The node's own code as the tests build it (dev profile, the same build as the tests).
	exec cargo bench --locked --workspace --bench vouchers --profile dev -- "$@"
	;;
*)
	echo "usage: scripts/bench.sh fanout|vouchers [-- ARGS]" >&2
	exit 2
	;;
esac
