#!/usr/bin/env bash
# Measures our pallets' weights on this machine and writes each pallet's src/weights.rs.
# Builds an optimised node with `runtime-benchmarks` in a target dir of its own, so the ordinary
# build (tests, dev chain) is not rebuilt by the feature switch. It must be optimised: the
# benchmarks time the runtime together with the host's storage code, which in an unoptimised
# build is ten times slower and would overstate every weight. Usage:
#   scripts/benchmark-pallets.sh [pallet_streams ...]    (default: every pallet of ours)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$root"

target="${CARGO_TARGET_DIR}-benchmarks"
say "building sutantra-node --release with runtime-benchmarks (in $target)"
CARGO_TARGET_DIR="$target" cargo build --locked --release -p sutantra-node --features runtime-benchmarks
node_bin="$target/release/sutantra-node"
runtime="$target/release/wbuild/sutantra-runtime/sutantra_runtime.wasm"

pallets=("$@")
((${#pallets[@]})) || pallets=(pallet_streams pallet_payments)
for pallet in "${pallets[@]}"; do
	output="pallets/${pallet#pallet_}/src/weights.rs"
	say "benchmarking $pallet -> $output"
	"$node_bin" benchmark pallet \
		--runtime "$runtime" \
		--genesis-builder runtime \
		--genesis-builder-preset development \
		--pallet "$pallet" \
		--extrinsic '*' \
		--steps 50 \
		--repeat 20 \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/weight-template.hbs \
		--output "$output"
done
