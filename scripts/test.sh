#!/usr/bin/env bash
# Sets up the machine, builds everything once and runs every test suite:
# the Rust unit and end-to-end tests, then the polkadot.js compatibility tests.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh" || exit 1
cd "$root"

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
status=0

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
