//! Weights for `pallet_payments`, measured by its benchmarks; do not edit by hand.
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

/// The weight of each call of `pallet_payments`.
pub trait WeightInfo {
	fn open_channel() -> Weight;
	fn top_up() -> Weight;
	fn claim() -> Weight;
	fn authorize_claim() -> Weight;
	fn close() -> Weight;
	fn finalize_close() -> Weight;
	fn settle_and_close() -> Weight;
}

/// Weights for `pallet_payments` in a runtime, with its own database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Payments::NextChannelId` (r:1 w:1)
	/// Proof: `Payments::NextChannelId` (`max_values`: Some(1), `max_size`: Some(8), added: 503, mode: `MaxEncodedLen`)
	/// Storage: `Payments::ChannelsByPayer` (r:1 w:1)
	/// Proof: `Payments::ChannelsByPayer` (`max_values`: None, `max_size`: Some(305), added: 2780, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `Payments::ChannelsByPayee` (r:0 w:1)
	/// Proof: `Payments::ChannelsByPayee` (`max_values`: None, `max_size`: Some(64), added: 2539, mode: `MaxEncodedLen`)
	/// Storage: `Payments::Channels` (r:0 w:1)
	/// Proof: `Payments::Channels` (`max_values`: None, `max_size`: Some(142), added: 2617, mode: `MaxEncodedLen`)
	fn open_channel() -> Weight {
		// Proof size: measured `583`, estimated `3770` bytes.
		// Minimum execution time: 55_823_000 picoseconds.
		Weight::from_parts(64_089_000, 3770)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	/// Storage: `Payments::Channels` (r:1 w:1)
	/// Proof: `Payments::Channels` (`max_values`: None, `max_size`: Some(142), added: 2617, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	fn top_up() -> Weight {
		// Proof size: measured `927`, estimated `3607` bytes.
		// Minimum execution time: 52_584_000 picoseconds.
		Weight::from_parts(60_583_000, 3607)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Payments::Channels` (r:1 w:1)
	/// Proof: `Payments::Channels` (`max_values`: None, `max_size`: Some(142), added: 2617, mode: `MaxEncodedLen`)
	/// Storage: `System::BlockHash` (r:1 w:0)
	/// Proof: `System::BlockHash` (`max_values`: None, `max_size`: Some(44), added: 2519, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	fn claim() -> Weight {
		// Proof size: measured `981`, estimated `6196` bytes.
		// Minimum execution time: 138_999_000 picoseconds.
		Weight::from_parts(159_467_000, 6196)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Payments::Channels` (r:1 w:0)
	/// Proof: `Payments::Channels` (`max_values`: None, `max_size`: Some(142), added: 2617, mode: `MaxEncodedLen`)
	/// Storage: `System::BlockHash` (r:1 w:0)
	/// Proof: `System::BlockHash` (`max_values`: None, `max_size`: Some(44), added: 2519, mode: `MaxEncodedLen`)
	fn authorize_claim() -> Weight {
		// Proof size: measured `823`, estimated `3607` bytes.
		// Minimum execution time: 82_269_000 picoseconds.
		Weight::from_parts(96_832_000, 3607)
			.saturating_add(T::DbWeight::get().reads(2_u64))
	}
	/// Storage: `Payments::Channels` (r:1 w:1)
	/// Proof: `Payments::Channels` (`max_values`: None, `max_size`: Some(142), added: 2617, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `Payments::ChannelsByPayer` (r:1 w:1)
	/// Proof: `Payments::ChannelsByPayer` (`max_values`: None, `max_size`: Some(305), added: 2780, mode: `MaxEncodedLen`)
	/// Storage: `Payments::ChannelsByPayee` (r:0 w:1)
	/// Proof: `Payments::ChannelsByPayee` (`max_values`: None, `max_size`: Some(64), added: 2539, mode: `MaxEncodedLen`)
	fn close() -> Weight {
		// Proof size: measured `1224`, estimated `3770` bytes.
		// Minimum execution time: 50_989_000 picoseconds.
		Weight::from_parts(59_853_000, 3770)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Payments::Channels` (r:1 w:1)
	/// Proof: `Payments::Channels` (`max_values`: None, `max_size`: Some(142), added: 2617, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:1 w:1)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `Payments::ChannelsByPayer` (r:1 w:1)
	/// Proof: `Payments::ChannelsByPayer` (`max_values`: None, `max_size`: Some(305), added: 2780, mode: `MaxEncodedLen`)
	/// Storage: `Payments::ChannelsByPayee` (r:0 w:1)
	/// Proof: `Payments::ChannelsByPayee` (`max_values`: None, `max_size`: Some(64), added: 2539, mode: `MaxEncodedLen`)
	fn finalize_close() -> Weight {
		// Proof size: measured `1228`, estimated `3770` bytes.
		// Minimum execution time: 51_971_000 picoseconds.
		Weight::from_parts(58_307_000, 3770)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Payments::Channels` (r:1 w:1)
	/// Proof: `Payments::Channels` (`max_values`: None, `max_size`: Some(142), added: 2617, mode: `MaxEncodedLen`)
	/// Storage: `System::BlockHash` (r:1 w:0)
	/// Proof: `System::BlockHash` (`max_values`: None, `max_size`: Some(44), added: 2519, mode: `MaxEncodedLen`)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Proof: `Balances::Holds` (`max_values`: None, `max_size`: Some(85), added: 2560, mode: `MaxEncodedLen`)
	/// Storage: `System::Account` (r:2 w:2)
	/// Proof: `System::Account` (`max_values`: None, `max_size`: Some(128), added: 2603, mode: `MaxEncodedLen`)
	/// Storage: `Payments::ChannelsByPayer` (r:1 w:1)
	/// Proof: `Payments::ChannelsByPayer` (`max_values`: None, `max_size`: Some(305), added: 2780, mode: `MaxEncodedLen`)
	/// Storage: `Payments::ChannelsByPayee` (r:0 w:1)
	/// Proof: `Payments::ChannelsByPayee` (`max_values`: None, `max_size`: Some(64), added: 2539, mode: `MaxEncodedLen`)
	fn settle_and_close() -> Weight {
		// Proof size: measured `1381`, estimated `6196` bytes.
		// Minimum execution time: 168_916_000 picoseconds.
		Weight::from_parts(193_876_000, 6196)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
}

/// The same weights with ParityDB's database weights, for tests and tools without a runtime.
impl WeightInfo for () {
	fn open_channel() -> Weight {
		Weight::from_parts(64_089_000, 3770)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
	}
	fn top_up() -> Weight {
		Weight::from_parts(60_583_000, 3607)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn claim() -> Weight {
		Weight::from_parts(159_467_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn authorize_claim() -> Weight {
		Weight::from_parts(96_832_000, 3607)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
	}
	fn close() -> Weight {
		Weight::from_parts(59_853_000, 3770)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn finalize_close() -> Weight {
		Weight::from_parts(58_307_000, 3770)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn settle_and_close() -> Weight {
		Weight::from_parts(193_876_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(6_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
	}
}
