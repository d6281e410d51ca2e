#!/usr/bin/env bash
# Installs what building and testing Sutantra needs; safe to run again (it skips what is there).
# Sourced by dev.sh and test.sh; run it alone to prepare a machine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds live outside the work tree so they survive fresh clones and are shared by every script.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sutantra/target}"
mkdir -p "$CARGO_TARGET_DIR"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if ! command -v cargo >/dev/null || ! command -v rustup >/dev/null; then
	echo "Rust is not installed: install it with rustup (https://rustup.rs), then run this again." >&2
	exit 1
fi

# The runtime is compiled to WebAssembly as well as natively.
if ! rustup target list --installed | grep -qx wasm32v1-none; then
	say "adding the wasm32v1-none Rust target"
	rustup target add wasm32v1-none
fi
if ! rustup component list --installed | grep -q '^rust-src'; then
	say "adding the rust-src component"
	rustup component add rust-src
fi

# protoc: the networking crates compile protobuf schemas at build time.
missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v curl >/dev/null || missing+=(curl)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# The streaming tests play a stream in a real browser: Debian's Chromium, headless.
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The throttled-link test shapes traffic in a network namespace of its own: ip and tc.
{ command -v ip >/dev/null && command -v tc >/dev/null; } || missing+=(iproute2)
if ((${#missing[@]})); then
	say "installing ${missing[*]} (Debian packages)"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# The JavaScript test suites (polkadot.js, the browser driver, zombienet): exactly the locked
# packages. zombienet's own `setup` downloads binaries and is never used: the networks run our
# node binary with the native provider.
for js in "$root/tests/polkadot-js" "$root/tests/browser" "$root/zombienet"; do
	if [ -f "$js/package-lock.json" ] && { [ ! -d "$js/node_modules" ] || [ "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ]; }; then
		say "installing the test packages of ${js#"$root"/} (npm ci)"
		(cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
	fi
done

# Builds the node and every test in one command. The dev chain, the chain-spec generator and the
# tests all use it: a plain `cargo build -p sutantra-node` unifies dependency features over the
# node alone rather than the whole workspace, so it would compile much of the tree a second time.
build_workspace() {
	cargo test --locked --workspace --no-run "$@"
}
