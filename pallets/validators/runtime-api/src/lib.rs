//! `ValidatorsApi`: where the session stands and each account's place in the validator set, for
//! `sutantra-node status` and apps. Every call reads state at the block it is called at.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_validators::{SessionStatus, SlashRecord, ValidatorStatus};

sp_api::decl_runtime_apis! {
	/// The session and the validator set.
	#[api_version(1)]
	pub trait ValidatorsApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// The current session: index, start, length and the block that starts the next one.
		fn session() -> SessionStatus<BlockNumber>;
		/// One account's place: active, queued, invulnerable, bond, blocks authored, disabled,
		/// last slash.
		fn validator(who: AccountId) -> ValidatorStatus<AccountId, Balance>;
		/// Every validator of this and the next session, every invulnerable and candidate.
		fn validators() -> Vec<ValidatorStatus<AccountId, Balance>>;
	}
}
