#!/usr/bin/env bash
# Sets up the machine, builds everything once and runs every test suite: the Rust unit and
# end-to-end tests, the pallet benchmarks as tests, the polkadot.js compatibility tests and the
# five-node zombienet test.
#   scripts/test.sh            # everything CI runs
#   scripts/test.sh --network  # the ten-node network with faults (zombienet/local-10.zndsl,
#                              # about 25 minutes); prints its figures
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" || exit 1
cd "$root"

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
status=0

if [ "${1:-}" = --network ]; then
	say "building the node"
	build_workspace || exit 1
	say "zombienet: ten nodes with faults (zombienet/local-10.zndsl)"
	start=$(date +%s)
	export SUTANTRA_NETWORK_FIGURES="$logs/network-figures.md"
	if "$root/scripts/zombienet.sh" local-10.zndsl >"$logs/zombienet.log" 2>&1; then
		result=passed
	else
		result=failed
		status=1
		kept="${TMPDIR:-/tmp}/sutantra-network-$(date +%Y%m%d-%H%M%S).log"
		cp "$logs/zombienet.log" "$kept"
		tail -n 80 "$logs/zombienet.log"
		echo "the whole log: $kept"
	fi
	# The results, and what the js-scripts said on the way (joins, viewing, faults, the slash).
	grep -E "✅|❌|Result:|^(Ferdie|Charlie|Dave|twin|phase|finalised|in [0-9]+ s|#[0-9]+|by #|//)" "$logs/zombienet.log" |
		sed -E 's/\x1b\[[0-9;]*m//g; s/[│┃]//g; s/ +/ /g' || true
	echo
	[ -f "$SUTANTRA_NETWORK_FIGURES" ] && cat "$SUTANTRA_NETWORK_FIGURES"
	echo
	echo "zombienet (ten nodes): $result in $(($(date +%s) - start)) s"
	exit $status
fi

say "building the node and the tests"
start=$(date +%s)
# The node binary the end-to-end tests start is built here too, with the tests' artifacts, and
# so are the benchmarks (compiled, not run: `scripts/bench.sh` runs them).
if ! build_workspace --all-targets 2>&1 | tail -n 40; then
	echo "build failed" >&2
	exit 1
fi
echo "build took $(($(date +%s) - start)) s" >&2

say "Rust tests"
cargo test --locked --workspace --no-fail-fast 2>&1 | tee "$logs/cargo.log" || status=1

say "pallet benchmarks, run once each as tests (runtime-benchmarks)"
# The pallets alone, with their mock runtimes (no node, no wasm runtime to build); only the
# benchmark tests, the others ran above.
SKIP_WASM_BUILD=1 cargo test --locked -p pallet-payments -p pallet-streams -p pallet-validators \
	--features runtime-benchmarks --lib -- benchmarking:: 2>&1 | tee -a "$logs/cargo.log" || status=1

say "polkadot.js tests"
(cd tests/polkadot-js && SUTANTRA_NODE="$CARGO_TARGET_DIR/debug/sutantra-node" \
	node --test --test-reporter=spec --test-reporter-destination=stdout test/*.test.js) 2>&1 | tee "$logs/js.log" || status=1

say "zombienet: five nodes, one joining the validators by bonding, two relays (zombienet/local-5.zndsl)"
zn_start=$(date +%s)
zn_pass=0
zn_fail=0
if "$root/scripts/zombienet.sh" local-5.zndsl >"$logs/zombienet.log" 2>&1; then
	zn_pass=1
else
	zn_fail=1
	status=1
	tail -n 60 "$logs/zombienet.log"
fi
# zombienet draws boxes around its results; keep only the result lines.
grep -E "✅|❌|Result:|Charlie" "$logs/zombienet.log" | sed -E 's/\x1b\[[0-9;]*m//g; s/[│┃]//g; s/ +/ /g' || true
echo "zombienet took $(($(date +%s) - zn_start)) s"

# One summary line for the whole run.
read -r rust_pass rust_fail < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p+0, f+0 }' "$logs/cargo.log")
js_pass=$(awk '/^ℹ pass / { print $3 }' "$logs/js.log" | tail -n 1)
js_fail=$(awk '/^ℹ fail / { print $3 }' "$logs/js.log" | tail -n 1)
js_pass=${js_pass:-0}
js_fail=${js_fail:-0}
if [ "$js_pass" -eq 0 ] && [ "$js_fail" -eq 0 ]; then
	echo "the polkadot.js suite reported no tests" >&2
	status=1
fi
passed=$((rust_pass + js_pass + zn_pass))
failed=$((rust_fail + js_fail + zn_fail))
[ "$failed" -eq 0 ] || status=1

echo
echo "Rust: ${rust_pass} passed, ${rust_fail} failed; polkadot.js: ${js_pass} passed, ${js_fail} failed; zombienet: ${zn_pass} passed, ${zn_fail} failed"
echo "summary: ${passed} passed, ${failed} failed"
exit $status
