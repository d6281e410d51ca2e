#!/usr/bin/env bash
# Runs a zombienet test of zombienet/ (default: local-5.zndsl, five nodes, one of which joins
# the validators by bonding) with the native provider against the built sutantra-node; or, with
# `spawn`, starts a network and keeps it running:
#   scripts/zombienet.sh                     # test local-5.zndsl (CI runs this)
#   scripts/zombienet.sh local-2.zndsl       # test the two-node network
#   scripts/zombienet.sh spawn local-5.toml  # run it until Ctrl-C
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

export SUTANTRA_NODE="${SUTANTRA_NODE:-$CARGO_TARGET_DIR/debug/sutantra-node}"
if [ ! -x "$SUTANTRA_NODE" ]; then
	say "building the node"
	(cd "$root" && build_workspace)
fi

cd "$root/zombienet"
if [ "${1:-}" = spawn ]; then
	exec npx --no-install zombienet --provider native spawn "${2:-local-2.toml}"
fi
exec npx --no-install zombienet --provider native test "${1:-local-5.zndsl}"
