//! Genesis presets: the starting state of the dev and local test networks.
//!
//! The node builds its `dev` and `local` chain specs from these presets; there is no genesis
//! logic in the node.

use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

use crate::{
	AccountId, Balance, BalancesConfig, BlockNumber, CollatorSelection, CollatorSelectionConfig,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig, ValidatorsConfig,
	EXISTENTIAL_DEPOSIT, UNIT,
};

/// What every endowed development account starts with: one million SUT.
pub const ENDOWMENT: Balance = 1_000_000 * UNIT;
/// What a validator candidate bonds on the test networks.
pub const CANDIDACY_BOND: Balance = 1_000 * UNIT;
/// Minted to each block's author on the test networks.
pub const BLOCK_REWARD: Balance = UNIT;
/// Blocks per session on the test networks: a minute of six-second blocks, so a validator that
/// bonds is authoring within two or three minutes.
pub const SESSION_LENGTH: BlockNumber = 10;
/// Bonded candidates chosen next to the invulnerables.
pub const DESIRED_CANDIDATES: u32 = 4;

/// A genesis validator: its account and its session keys (Aura and GRANDPA).
fn validator(sr: Sr25519Keyring, ed: Ed25519Keyring) -> (AccountId, SessionKeys) {
	let aura: AuraId = sr.public().into();
	let grandpa: GrandpaId = ed.public().into();
	(sr.to_account_id(), SessionKeys { aura, grandpa })
}

/// Aura's and GRANDPA's authorities are not in their own genesis sections: the session pallet
/// hands them the validators' keys, and the validators are collator selection's invulnerables.
fn testnet_genesis(
	validators: Vec<(AccountId, SessionKeys)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	// Collator selection pays authors from its pot and keeps the pot alive.
	let pot = CollatorSelection::account_id();
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.iter()
				.cloned()
				.map(|k| (k, ENDOWMENT))
				.chain([(pot, EXISTENTIAL_DEPOSIT)])
				.collect::<Vec<_>>(),
		},
		collator_selection: CollatorSelectionConfig {
			invulnerables: validators.iter().map(|(account, _)| account.clone()).collect::<Vec<_>>(),
			candidacy_bond: CANDIDACY_BOND,
			desired_candidates: DESIRED_CANDIDATES,
		},
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|(account, keys)| (account.clone(), account, keys))
				.collect::<Vec<_>>(),
		},
		validators: ValidatorsConfig { session_length: SESSION_LENGTH, block_reward: BLOCK_REWARD },
		sudo: SudoConfig { key: Some(root) },
	})
}

/// A one-validator chain: Alice produces and finalises every block; others may bond and join.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// A two-validator chain: Alice and Bob take turns; both are needed for finality. Others may
/// bond and join.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			validator(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		],
		Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// Provides the JSON representation of the named preset.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	serde_json::to_string(&patch).ok().map(|json| json.into_bytes())
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
