//! Benchmarks of every call, each in its worst case.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get};
use frame_system::RawOrigin;
use sp_runtime::traits::Bounded;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4u32.into());
	who
}

fn bytes(len: u32) -> Vec<u8> {
	alloc::vec![b'x'; len as usize]
}

/// Registers the creator's streams until one slot is left, then one more; returns its id.
fn full_creator_stream<T: Config>(creator: &T::AccountId, live: bool) -> StreamId {
	let price: BalanceOf<T> = 1_000u32.into();
	for _ in 1..T::MaxStreamsPerCreator::get() {
		Pallet::<T>::register_stream(
			RawOrigin::Signed(creator.clone()).into(),
			bytes(T::MaxTitleLength::get()),
			Vec::new(),
			price,
			0,
		)
		.expect("room for the creator's streams");
	}
	let id = NextStreamId::<T>::get();
	Pallet::<T>::register_stream(
		RawOrigin::Signed(creator.clone()).into(),
		bytes(T::MaxTitleLength::get()),
		bytes(T::MaxDescriptionLength::get()),
		price,
		0,
	)
	.expect("room for the last stream");
	if live {
		Pallet::<T>::start_stream(RawOrigin::Signed(creator.clone()).into(), id)
			.expect("a registered stream starts");
	}
	id
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Worst case: the longest title and description, the creator's index one short of full.
	#[benchmark]
	fn register_stream() {
		let creator = funded::<T>("creator", 0);
		for _ in 1..T::MaxStreamsPerCreator::get() {
			Pallet::<T>::register_stream(
				RawOrigin::Signed(creator.clone()).into(),
				bytes(1),
				Vec::new(),
				1u32.into(),
				0,
			)
			.expect("room");
		}
		let title = bytes(T::MaxTitleLength::get());
		let description = bytes(T::MaxDescriptionLength::get());

		#[extrinsic_call]
		_(RawOrigin::Signed(creator.clone()), title, description, 1_000u32.into(), 100);

		assert_eq!(
			StreamsByCreator::<T>::get(&creator).len() as u32,
			T::MaxStreamsPerCreator::get()
		);
	}

	/// Worst case: every field changed to its longest value.
	#[benchmark]
	fn update_stream() {
		let creator = funded::<T>("creator", 0);
		let id = full_creator_stream::<T>(&creator, false);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(creator),
			id,
			Some(bytes(T::MaxTitleLength::get())),
			Some(bytes(T::MaxDescriptionLength::get())),
			Some(2_000u32.into()),
			Some(500),
			Some(bytes(T::MaxOriginLength::get())),
		);

		assert!(Streams::<T>::get(id).unwrap().origin.is_some());
	}

	#[benchmark]
	fn start_stream() {
		let creator = funded::<T>("creator", 0);
		let id = full_creator_stream::<T>(&creator, false);

		#[extrinsic_call]
		_(RawOrigin::Signed(creator), id);

		assert!(LiveStreams::<T>::contains_key(id));
	}

	#[benchmark]
	fn end_stream() {
		let creator = funded::<T>("creator", 0);
		let id = full_creator_stream::<T>(&creator, true);

		#[extrinsic_call]
		_(RawOrigin::Signed(creator), id);

		assert_eq!(Streams::<T>::get(id).unwrap().status, StreamStatus::Ended);
	}

	/// Worst case: `t` viewers hold tokens that must go too, in a full creator index.
	#[benchmark]
	fn remove_stream(t: Linear<0, { T::MaxTokensPerStream::get() }>) {
		let creator = funded::<T>("creator", 0);
		let id = full_creator_stream::<T>(&creator, true);
		for index in 0..t {
			let viewer: T::AccountId = account("viewer", index, 0);
			Pallet::<T>::grant_access(
				RawOrigin::Signed(creator.clone()).into(),
				id,
				T::Lookup::unlookup(viewer),
				None,
			)
			.expect("room for tokens");
		}
		Pallet::<T>::end_stream(RawOrigin::Signed(creator.clone()).into(), id).expect("ends");

		#[extrinsic_call]
		_(RawOrigin::Signed(creator), id);

		assert!(Streams::<T>::get(id).is_none());
		assert_eq!(AccessTokens::<T>::iter_prefix(id).count(), 0);
	}

	/// Worst case: a new token (counted) for a viewer.
	#[benchmark]
	fn grant_access() {
		let creator = funded::<T>("creator", 0);
		let id = full_creator_stream::<T>(&creator, true);
		let viewer: T::AccountId = account("viewer", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(creator), id, T::Lookup::unlookup(viewer.clone()), None);

		assert!(AccessTokens::<T>::contains_key(id, &viewer));
	}

	#[benchmark]
	fn revoke_access() {
		let creator = funded::<T>("creator", 0);
		let id = full_creator_stream::<T>(&creator, true);
		let viewer: T::AccountId = account("viewer", 0, 0);
		Pallet::<T>::grant_access(
			RawOrigin::Signed(creator.clone()).into(),
			id,
			T::Lookup::unlookup(viewer.clone()),
			None,
		)
		.expect("grants");

		#[extrinsic_call]
		_(RawOrigin::Signed(creator), id, T::Lookup::unlookup(viewer.clone()));

		assert!(!AccessTokens::<T>::contains_key(id, &viewer));
	}

	/// Worst case: a viewer extending a still-valid token (read, transfer, write).
	#[benchmark]
	fn buy_access() {
		let creator = funded::<T>("creator", 0);
		let id = full_creator_stream::<T>(&creator, true);
		let viewer = funded::<T>("viewer", 0);
		Pallet::<T>::buy_access(
			RawOrigin::Signed(viewer.clone()).into(),
			id,
			60,
			BalanceOf::<T>::max_value(),
		)
		.expect("buys");
		let before = AccessTokens::<T>::get(id, &viewer).unwrap().valid_until;

		#[extrinsic_call]
		_(RawOrigin::Signed(viewer.clone()), id, 3_600, BalanceOf::<T>::max_value());

		assert!(AccessTokens::<T>::get(id, &viewer).unwrap().valid_until > before);
	}

	#[benchmark]
	fn force_end_stream() -> Result<(), BenchmarkError> {
		let creator = funded::<T>("creator", 0);
		let id = full_creator_stream::<T>(&creator, true);
		let origin =
			T::ForceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);

		assert_eq!(Streams::<T>::get(id).unwrap().status, StreamStatus::Ended);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		mock::ExtBuilder.build(),
		mock::Test
	);
}
