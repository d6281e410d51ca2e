//! The committed chain specs match what the runtime's presets generate today.
//!
//! Everything in a spec is compared exactly except the wasm bytes: cargo's crate hashes (and so
//! symbol names and code layout) depend on where the sources are checked out, so two clones
//! build functionally identical runtimes with different bytes. For the code we check instead
//! that it is the same runtime version (spec name, spec/impl/transaction versions, APIs) and
//! that it builds exactly the same genesis state. Byte-identical runtimes need a build in a
//! fixed path (as srtool does), which is a release concern, not a dev-spec one.

use std::{collections::BTreeMap, path::Path, process::Command};

use sc_executor_common::runtime_blob::RuntimeBlob;
use serde_json::Value;

/// The raw storage key of the runtime code.
const CODE_KEY: &str = "0x3a636f6465";

fn build_spec(chain: &str, raw: bool) -> Value {
	let mut command = Command::new(env!("CARGO_BIN_EXE_sutantra-node"));
	command.args(["build-spec", "--chain", chain, "--disable-default-bootnode"]);
	if raw {
		command.arg("--raw");
	}
	let output = command.output().expect("sutantra-node runs");
	assert!(
		output.status.success(),
		"build-spec --chain {chain} failed:\n{}",
		String::from_utf8_lossy(&output.stderr)
	);
	serde_json::from_slice(&output.stdout).expect("build-spec prints JSON")
}

fn committed_path(chain: &str) -> String {
	Path::new(env!("CARGO_MANIFEST_DIR"))
		.join("../chain-specs")
		.join(format!("{chain}.json"))
		.to_string_lossy()
		.into_owned()
}

fn committed_spec(chain: &str) -> Value {
	let path = committed_path(chain);
	let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
	serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// Takes the runtime code out of a plain spec and returns it.
fn take_code(spec: &mut Value) -> Vec<u8> {
	let code = spec["genesis"]["runtimeGenesis"]
		.as_object_mut()
		.and_then(|genesis| genesis.remove("code"))
		.expect("a plain spec carries genesis.runtimeGenesis.code");
	let hex = code.as_str().expect("the code is a hex string");
	hex::decode(hex.trim_start_matches("0x")).expect("the code is valid hex")
}

/// The runtime's embedded version, with its API list sorted: the order of that list differs
/// between builds and means nothing.
fn runtime_version(code: &[u8]) -> sp_version::RuntimeVersion {
	let blob = RuntimeBlob::uncompress_if_needed(code).expect("the code is a wasm runtime");
	let mut version = sc_executor::read_embedded_version(&blob)
		.expect("the runtime version section decodes")
		.expect("the runtime embeds its version");
	version.apis.to_mut().sort();
	version
}

/// A raw spec's genesis storage without the code.
fn raw_state_without_code(spec: &Value) -> BTreeMap<String, Value> {
	let top = spec["genesis"]["raw"]["top"].as_object().expect("a raw spec has genesis.raw.top");
	top.iter().filter(|(key, _)| key.as_str() != CODE_KEY).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn assert_up_to_date(chain: &str) {
	let regenerate = "run scripts/generate-chain-specs.sh and commit the result";
	let (mut generated, mut committed) = (build_spec(chain, false), committed_spec(chain));
	let (generated_code, committed_code) = (take_code(&mut generated), take_code(&mut committed));

	let differing: Vec<_> = generated
		.as_object()
		.unwrap()
		.iter()
		.filter(|(key, value)| committed.get(key.as_str()) != Some(value))
		.map(|(key, _)| key.clone())
		.collect();
	assert!(differing.is_empty(), "chain-specs/{chain}.json: fields {differing:?} differ: {regenerate}");

	assert_eq!(
		runtime_version(&committed_code),
		runtime_version(&generated_code),
		"chain-specs/{chain}.json carries another runtime version: {regenerate}"
	);

	let committed_state = raw_state_without_code(&build_spec(&committed_path(chain), true));
	let generated_state = raw_state_without_code(&build_spec(chain, true));
	assert!(
		committed_state == generated_state,
		"chain-specs/{chain}.json builds another genesis state: {regenerate}"
	);
}

#[test]
fn dev_spec_is_up_to_date() {
	assert_up_to_date("dev");
}

#[test]
fn local_spec_is_up_to_date() {
	assert_up_to_date("local");
}

#[test]
fn specs_carry_the_token_properties() {
	for chain in ["dev", "local"] {
		let properties = &committed_spec(chain)["properties"];
		assert_eq!(properties["tokenSymbol"], "SUT", "{chain}");
		assert_eq!(properties["tokenDecimals"], 12, "{chain}");
		assert_eq!(properties["ss58Format"], 42, "{chain}");
	}
}

#[test]
fn an_unreadable_chain_spec_is_reported_with_what_to_do() {
	let output = Command::new(env!("CARGO_BIN_EXE_sutantra-node"))
		.args(["build-spec", "--chain", "no-such-spec.json"])
		.output()
		.expect("sutantra-node runs");
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("no-such-spec.json") && stderr.contains("use dev, local"), "{stderr}");
}
