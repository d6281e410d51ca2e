//! Builds the runtime's wasm blob.
//!
//! The blob goes on chain and into the committed chain specs, so it must not depend on where
//! the sources, the crates cache or the toolchain sit on the building machine: panic locations
//! would otherwise carry those paths, and two clones would build different runtimes.

#[cfg(feature = "std")]
fn main() {
	remap_paths_in_the_wasm_build();
	build_wasm();
}

#[cfg(all(feature = "std", feature = "metadata-hash"))]
fn build_wasm() {
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.enable_metadata_hash("SUT", 12)
		.build();
}

#[cfg(all(feature = "std", not(feature = "metadata-hash")))]
fn build_wasm() {
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

/// Adds `--remap-path-prefix` flags for the workspace, the cargo home and the Rust sysroot to
/// the flags the wasm builder passes to rustc.
#[cfg(feature = "std")]
fn remap_paths_in_the_wasm_build() {
	use std::{env, path::PathBuf, process::Command};

	let mut remaps: Vec<(PathBuf, &str)> = Vec::new();
	if let Some(workspace) = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent() {
		remaps.push((workspace.to_path_buf(), "/sutantra"));
	}
	let cargo_home = env::var_os("CARGO_HOME")
		.map(PathBuf::from)
		.or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
	if let Some(cargo_home) = cargo_home {
		remaps.push((cargo_home, "/cargo"));
	}
	let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
	if let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() {
		let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
		if !sysroot.is_empty() {
			remaps.push((PathBuf::from(sysroot), "/rustc"));
		}
	}

	let mut flags = env::var("WASM_BUILD_RUSTFLAGS").unwrap_or_default();
	for (from, to) in remaps {
		flags.push_str(&format!(" --remap-path-prefix={}={to}", from.display()));
	}
	// Safe in edition 2021: the build script is single-threaded here.
	env::set_var("WASM_BUILD_RUSTFLAGS", flags.trim());
}

/// The wasm builder is deactivated when compiling this crate for wasm itself.
#[cfg(not(feature = "std"))]
fn main() {}
