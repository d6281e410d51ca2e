//! The committed chain specs are exactly what the runtime's presets generate today.

use std::{path::Path, process::Command};

fn generated_spec(chain: &str) -> serde_json::Value {
	let output = Command::new(env!("CARGO_BIN_EXE_sutantra-node"))
		.args(["build-spec", "--chain", chain, "--disable-default-bootnode"])
		.output()
		.expect("sutantra-node runs");
	assert!(
		output.status.success(),
		"build-spec --chain {chain} failed:\n{}",
		String::from_utf8_lossy(&output.stderr)
	);
	serde_json::from_slice(&output.stdout).expect("build-spec prints JSON")
}

fn committed_spec(chain: &str) -> serde_json::Value {
	let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../chain-specs").join(format!("{chain}.json"));
	let text = std::fs::read_to_string(&path)
		.unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
	serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn assert_up_to_date(chain: &str) {
	let (generated, committed) = (generated_spec(chain), committed_spec(chain));
	if generated != committed {
		let differing: Vec<_> = generated
			.as_object()
			.unwrap()
			.iter()
			.filter(|(key, value)| committed.get(key.as_str()) != Some(value))
			.map(|(key, _)| key.clone())
			.collect();
		panic!(
			"chain-specs/{chain}.json is out of date (fields {differing:?} differ): \
			 run scripts/generate-chain-specs.sh and commit the result"
		);
	}
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
