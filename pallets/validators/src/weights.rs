//! Weights for `pallet_validators`.
//!
//! Not yet measured: these are upper estimates from the storage each call touches (reads and
//! writes at ParityDB's weights, plus 25 µs of execution each), until
//! `scripts/benchmark-pallets.sh pallet_validators` replaces this file with measured weights.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};
use core::marker::PhantomData;

/// The weight of each call and hook of `pallet_validators`.
pub trait WeightInfo {
	fn set_session_length() -> Weight;
	fn set_block_reward() -> Weight;
	fn note_author() -> Weight;
	fn purge_keys() -> Weight;
	fn leave() -> Weight;
	fn update_bond() -> Weight;
	fn take_candidate_slot() -> Weight;
	fn withdraw_unbonded() -> Weight;
}

/// Weights for `pallet_validators` in a runtime, with its own database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn set_session_length() -> Weight {
		Weight::from_parts(25_000_000, 1_500)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn set_block_reward() -> Weight {
		Weight::from_parts(25_000_000, 1_500)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn note_author() -> Weight {
		Weight::from_parts(25_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn purge_keys() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(9_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn leave() -> Weight {
		Weight::from_parts(60_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn update_bond() -> Weight {
		Weight::from_parts(60_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn take_candidate_slot() -> Weight {
		Weight::from_parts(120_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(10_u64))
			.saturating_add(T::DbWeight::get().writes(8_u64))
	}
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(30_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
}

/// The same estimates with ParityDB's weights, for tests.
impl WeightInfo for () {
	fn set_session_length() -> Weight {
		Weight::from_parts(25_000_000, 1_500)
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn set_block_reward() -> Weight {
		Weight::from_parts(25_000_000, 1_500)
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn note_author() -> Weight {
		Weight::from_parts(25_000_000, 3_600)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn purge_keys() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(9_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
	}
	fn leave() -> Weight {
		Weight::from_parts(60_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
	}
	fn update_bond() -> Weight {
		Weight::from_parts(60_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
	}
	fn take_candidate_slot() -> Weight {
		Weight::from_parts(120_000_000, 12_000)
			.saturating_add(ParityDbWeight::get().reads(10_u64))
			.saturating_add(ParityDbWeight::get().writes(8_u64))
	}
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(30_000_000, 3_600)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
}
