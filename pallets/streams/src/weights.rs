//! Weights for `pallet_streams`, measured by its benchmarks; do not edit by hand.
//!
//! Regenerate with `scripts/benchmark-pallets.sh` (frame-benchmarking-cli 64.0.0).
//! Measured 2026-11-23 on Intel(R) Xeon(R) Processor: 50 steps, 20 repeats, wasm execution
//! `Compiled`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};
use core::marker::PhantomData;

/// The weight of each call of `pallet_streams`.
pub trait WeightInfo {
	fn register_stream() -> Weight;
	fn update_stream() -> Weight;
	fn start_stream() -> Weight;
	fn end_stream() -> Weight;
	fn remove_stream(t: u32, ) -> Weight;
	fn grant_access() -> Weight;
	fn revoke_access() -> Weight;
	fn buy_access() -> Weight;
	fn force_end_stream() -> Weight;
}

/// Weights for `pallet_streams` in a runtime, with its own database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Streams::NextStreamId` (r:1 w:1)
	/// Proof: `Streams::NextStreamId` (`max_values`: Some(1), `max_size`: Some(8), added: 503, mode: `MaxEncodedLen`)
	/// Storage: `Streams::StreamsByCreator` (r:1 w:1)
	/// Proof: `Streams::StreamsByCreator` (`max_values`: None, `max_size`: Some(562), added: 3037, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `Streams::Streams` (r:0 w:1)
	/// Proof: `Streams::Streams` (`max_values`: None, `max_size`: Some(1002), added: 3477, mode: `MaxEncodedLen`)
	fn register_stream() -> Weight {
		// Proof size: measured `810`, estimated `4027` bytes.
		// Minimum execution time: 54_147_000 picoseconds.
		Weight::from_parts(61_417_000, 4027)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Streams::Streams` (r:1 w:1)
	/// Proof: `Streams::Streams` (`max_values`: None, `max_size`: Some(1002), added: 3477, mode: `MaxEncodedLen`)
	fn update_stream() -> Weight {
		// Proof size: measured `1338`, estimated `4467` bytes.
		// Minimum execution time: 16_172_000 picoseconds.
		Weight::from_parts(20_083_000, 4467)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Streams::Streams` (r:1 w:1)
	/// Proof: `Streams::Streams` (`max_values`: None, `max_size`: Some(1002), added: 3477, mode: `MaxEncodedLen`)
	/// Storage: `Streams::LiveStreams` (r:0 w:1)
	/// Proof: `Streams::LiveStreams` (`max_values`: None, `max_size`: Some(16), added: 2491, mode: `MaxEncodedLen`)
	fn start_stream() -> Weight {
		// Proof size: measured `1338`, estimated `4467` bytes.
		// Minimum execution time: 17_321_000 picoseconds.
		Weight::from_parts(21_245_000, 4467)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Streams::Streams` (r:1 w:1)
	/// Proof: `Streams::Streams` (`max_values`: None, `max_size`: Some(1002), added: 3477, mode: `MaxEncodedLen`)
	/// Storage: `Streams::LiveStreams` (r:0 w:1)
	/// Proof: `Streams::LiveStreams` (`max_values`: None, `max_size`: Some(16), added: 2491, mode: `MaxEncodedLen`)
	fn end_stream() -> Weight {
		// Proof size: measured `1375`, estimated `4467` bytes.
		// Minimum execution time: 16_886_000 picoseconds.
		Weight::from_parts(20_154_000, 4467)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Streams::Streams` (r:1 w:1)
	/// Proof: `Streams::Streams` (`max_values`: None, `max_size`: Some(1002), added: 3477, mode: `MaxEncodedLen`)
	/// Storage: `Streams::TokenCount` (r:1 w:1)
	/// Proof: `Streams::TokenCount` (`max_values`: None, `max_size`: Some(20), added: 2495, mode: `MaxEncodedLen`)
	/// Storage: `Streams::AccessTokens` (r:1000 w:1000)
	/// Proof: `Streams::AccessTokens` (`max_values`: None, `max_size`: Some(69), added: 2544, mode: `MaxEncodedLen`)
	/// Storage: `Streams::StreamsByCreator` (r:1 w:1)
	/// Proof: `Streams::StreamsByCreator` (`max_values`: None, `max_size`: Some(562), added: 3037, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// The range of component `t` is `[0, 1000]`.
	fn remove_stream(t: u32, ) -> Weight {
		// Proof size: measured `2173 + t * (58 ±0)`, estimated `4467 + t * (2544 ±0)` bytes.
		// Minimum execution time: 55_317_000 picoseconds.
		Weight::from_parts(33_759_144, 4467)
			// Standard error: 5_184
			.saturating_add(Weight::from_parts(1_177_669, 0).saturating_mul(t.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(t.into())))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(t.into())))
			.saturating_add(Weight::from_parts(0, 2544).saturating_mul(t.into()))
	}
	/// Storage: `Streams::Streams` (r:1 w:0)
	/// Proof: `Streams::Streams` (`max_values`: None, `max_size`: Some(1002), added: 3477, mode: `MaxEncodedLen`)
	/// Storage: `Streams::AccessTokens` (r:1 w:1)
	/// Proof: `Streams::AccessTokens` (`max_values`: None, `max_size`: Some(69), added: 2544, mode: `MaxEncodedLen`)
	/// Storage: `Streams::TokenCount` (r:1 w:1)
	/// Proof: `Streams::TokenCount` (`max_values`: None, `max_size`: Some(20), added: 2495, mode: `MaxEncodedLen`)
	fn grant_access() -> Weight {
		// Proof size: measured `1375`, estimated `4467` bytes.
		// Minimum execution time: 20_270_000 picoseconds.
		Weight::from_parts(24_443_000, 4467)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Streams::Streams` (r:1 w:0)
	/// Proof: `Streams::Streams` (`max_values`: None, `max_size`: Some(1002), added: 3477, mode: `MaxEncodedLen`)
	/// Storage: `Streams::AccessTokens` (r:1 w:1)
	/// Proof: `Streams::AccessTokens` (`max_values`: None, `max_size`: Some(69), added: 2544, mode: `MaxEncodedLen`)
	/// Storage: `Streams::TokenCount` (r:1 w:1)
	/// Proof: `Streams::TokenCount` (`max_values`: None, `max_size`: Some(20), added: 2495, mode: `MaxEncodedLen`)
	fn revoke_access() -> Weight {
		// Proof size: measured `1511`, estimated `4467` bytes.
		// Minimum execution time: 23_015_000 picoseconds.
		Weight::from_parts(26_247_000, 4467)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Streams::Streams` (r:1 w:0)
	/// Proof: `Streams::Streams` (`max_values`: None, `max_size`: Some(1002), added: 3477, mode: `MaxEncodedLen`)
	/// Storage: `Streams::AccessTokens` (r:1 w:1)
	/// Proof: `Streams::AccessTokens` (`max_values`: None, `max_size`: Some(69), added: 2544, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	fn buy_access() -> Weight {
		// Proof size: measured `1746`, estimated `6196` bytes.
		// Minimum execution time: 56_188_000 picoseconds.
		Weight::from_parts(65_846_000, 6196)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Streams::Streams` (r:1 w:1)
	/// Proof: `Streams::Streams` (`max_values`: None, `max_size`: Some(1002), added: 3477, mode: `MaxEncodedLen`)
	/// Storage: `Streams::LiveStreams` (r:0 w:1)
	/// Proof: `Streams::LiveStreams` (`max_values`: None, `max_size`: Some(16), added: 2491, mode: `MaxEncodedLen`)
	fn force_end_stream() -> Weight {
		// Proof size: measured `1375`, estimated `4467` bytes.
		// Minimum execution time: 16_810_000 picoseconds.
		Weight::from_parts(20_624_000, 4467)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
}

/// The same weights with ParityDB's database weights, for tests and tools without a runtime.
impl WeightInfo for () {
	fn register_stream() -> Weight {
		Weight::from_parts(61_417_000, 4027)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn update_stream() -> Weight {
		Weight::from_parts(20_083_000, 4467)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn start_stream() -> Weight {
		Weight::from_parts(21_245_000, 4467)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn end_stream() -> Weight {
		Weight::from_parts(20_154_000, 4467)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn remove_stream(t: u32, ) -> Weight {
		Weight::from_parts(33_759_144, 4467)
			.saturating_add(Weight::from_parts(1_177_669, 0).saturating_mul(t.into()))
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().reads((1_u64).saturating_mul(t.into())))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
			.saturating_add(ParityDbWeight::get().writes((1_u64).saturating_mul(t.into())))
			.saturating_add(Weight::from_parts(0, 2544).saturating_mul(t.into()))
	}
	fn grant_access() -> Weight {
		Weight::from_parts(24_443_000, 4467)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn revoke_access() -> Weight {
		Weight::from_parts(26_247_000, 4467)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn buy_access() -> Weight {
		Weight::from_parts(65_846_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn force_end_stream() -> Weight {
		Weight::from_parts(20_624_000, 4467)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
}
