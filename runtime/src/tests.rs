//! Runtime-level checks: every genesis preset builds a coherent state, the metadata describes
//! every pallet, and the constants that clients read agree with each other.
//!
//! `#[frame_support::runtime]` also generates `runtime_integrity_tests`, which runs every
//! pallet's `integrity_test` hook; it runs with these.

use frame_metadata::RuntimeMetadata;
use frame_support::traits::fungible::Inspect;
use sp_keyring::Sr25519Keyring;
use sp_runtime::BuildStorage;

use crate::{
	genesis_config_presets::{get_preset, preset_names, ENDOWMENT},
	Balances, CollatorSelection, Grandpa, Runtime, RuntimeGenesisConfig, Session,
	EXISTENTIAL_DEPOSIT, SS58_PREFIX, UNIT,
};

mod validators;

/// Builds the full state a preset describes, the way the node does: the preset is a patch
/// over the default genesis config.
pub(crate) fn genesis_state(preset: &str) -> sp_io::TestExternalities {
	let patch: serde_json::Value =
		serde_json::from_slice(&get_preset(&preset.into()).expect("preset exists")).unwrap();
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	sc_chain_spec::json_merge(&mut config, patch);
	let config: RuntimeGenesisConfig = serde_json::from_value(config)
		.unwrap_or_else(|e| panic!("preset {preset} is not a valid genesis config: {e}"));
	config.build_storage().unwrap().into()
}

#[test]
fn presets_are_listed_and_unknown_ones_are_refused() {
	assert_eq!(preset_names(), vec!["development".to_string(), "local_testnet".to_string()]);
	assert!(get_preset(&"mainnet".into()).is_none());
}

#[test]
fn development_preset_has_alice_alone_as_authority_and_sudo() {
	genesis_state("development").execute_with(|| {
		let aura = pallet_aura::Authorities::<Runtime>::get();
		assert_eq!(aura.len(), 1);
		assert_eq!(aura[0], Sr25519Keyring::Alice.public().into());
		assert_eq!(Grandpa::grandpa_authorities().len(), 1);
		assert_eq!(Session::validators(), vec![Sr25519Keyring::Alice.to_account_id()]);
		assert_eq!(
			pallet_collator_selection::Invulnerables::<Runtime>::get().to_vec(),
			vec![Sr25519Keyring::Alice.to_account_id()]
		);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Sr25519Keyring::Alice.to_account_id()));
		assert_eq!(u64::from(pallet_aura::CurrentSlot::<Runtime>::get()), 0);
	});
}

#[test]
fn local_testnet_preset_has_alice_and_bob_as_authorities() {
	genesis_state("local_testnet").execute_with(|| {
		let aura = pallet_aura::Authorities::<Runtime>::get();
		// Collator selection keeps its invulnerables sorted by account.
		let expected: Vec<sp_consensus_aura::sr25519::AuthorityId> =
			vec![Sr25519Keyring::Bob.public().into(), Sr25519Keyring::Alice.public().into()];
		assert_eq!(aura.into_inner(), expected);
		assert_eq!(Grandpa::grandpa_authorities().len(), 2);
		assert_eq!(Session::validators().len(), 2);
	});
}

#[test]
fn presets_endow_every_dev_account_and_issuance_adds_up() {
	for preset in ["development", "local_testnet"] {
		genesis_state(preset).execute_with(|| {
			let accounts: Vec<_> = Sr25519Keyring::well_known().collect();
			for account in &accounts {
				assert_eq!(Balances::balance(&account.to_account_id()), ENDOWMENT, "{preset}");
			}
			// And collator selection's pot holds the existential deposit.
			let pot = CollatorSelection::account_id();
			assert_eq!(Balances::balance(&pot), EXISTENTIAL_DEPOSIT);
			assert_eq!(
				Balances::total_issuance(),
				ENDOWMENT * accounts.len() as u128 + EXISTENTIAL_DEPOSIT
			);
			assert_eq!(ENDOWMENT, 1_000_000 * UNIT);
		});
	}
}

#[test]
fn metadata_lists_every_pallet() {
	let prefixed = Runtime::metadata();
	let RuntimeMetadata::V14(metadata) = prefixed.1 else { panic!("default metadata is V14") };
	let names: Vec<_> = metadata.pallets.iter().map(|p| p.name.clone()).collect();
	assert_eq!(
		names,
		[
			"System",
			"Timestamp",
			"Aura",
			"Grandpa",
			"Balances",
			"TransactionPayment",
			"Sudo",
			"Streams",
			"Payments",
			"Authorship",
			"CollatorSelection",
			"Session",
			"Historical",
			"Offences",
			"Validators"
		]
	);
	// Wallets and apps read V15/V16 for runtime APIs and view functions.
	let versions = Runtime::metadata_versions();
	assert!(versions.contains(&15) && versions.contains(&16), "{versions:?}");
	for version in [15, 16] {
		assert!(Runtime::metadata_at_version(version).is_some());
	}
}

#[test]
fn address_format_matches_the_system_pallet() {
	assert_eq!(<Runtime as frame_system::Config>::SS58Prefix::get(), SS58_PREFIX);
}
