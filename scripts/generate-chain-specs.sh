#!/usr/bin/env bash
# Regenerates chain-specs/dev.json and chain-specs/local.json from the runtime's genesis presets.
# Run it after any runtime change; the test suite fails while a committed spec is out of date.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$root"

build_workspace
for chain in dev local; do
	"$CARGO_TARGET_DIR/debug/sutantra-node" build-spec --chain "$chain" --disable-default-bootnode \
		>"chain-specs/$chain.json" 2>/dev/null
	say "wrote chain-specs/$chain.json"
done
