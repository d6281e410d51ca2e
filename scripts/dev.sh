#!/usr/bin/env bash
# Sets up the machine, builds sutantra-node and starts a one-node development chain.
# Extra arguments go to the node, e.g. `scripts/dev.sh --consensus manual-seal-1000`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$root"

say "building sutantra-node (the first build takes a while)"
build_workspace
node_bin="$CARGO_TARGET_DIR/debug/sutantra-node"

rpc_port=9944
cat >&2 <<MSG

  Sutantra dev chain: Alice is the only validator; Alice, Bob, Charlie, Dave, Eve and
  Ferdie each hold 1,000,000 SUT. The chain is thrown away when the node stops.

  JSON-RPC (WebSocket):  ws://127.0.0.1:${rpc_port}
  polkadot.js apps:      https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A${rpc_port}#/explorer
  Prometheus metrics:    http://127.0.0.1:9615/metrics
  Streaming (WHIP/WHEP): http://127.0.0.1:8088/whip/<stream id>, http://127.0.0.1:8088/whep/<stream id>
  Browser player:        http://127.0.0.1:8088/watch/<stream id>?token=<statement>

  Try it from another terminal (docs/guide.md explains each step):
    sutantra-node stream create --title "My stream" --price-per-second 0.001 --start --suri //Alice
    sutantra-node stream publish 0 --test-source --suri //Alice
    sutantra-node stream watch 0 --suri //Bob
  (sutantra-node is ${node_bin})

  Stop with Ctrl-C.

MSG
exec "$node_bin" --dev --rpc-port "$rpc_port" "$@"
