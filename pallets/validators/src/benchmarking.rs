//! Benchmarks of the calls and of the per-block author hook, each in its worst case.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::EnsureOrigin;
use frame_system::RawOrigin;
use pallet_authorship::EventHandler;
use pallet_collator_selection::CandidacyBond;
use pallet_session::SessionInterface;
use sp_runtime::traits::{BlakeTwo256, Get, Hash, TrailingZeroInput};

type CollatorSelection<T> = pallet_collator_selection::Pallet<T>;

/// A funded account with session keys of its own (set as a node's keys would be, without the
/// ownership proof a generic benchmark cannot make).
fn with_keys<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let plenty = CandidacyBond::<T>::get()
		.saturating_mul(100u32.into())
		.saturating_add(Bonds::<T>::minimum_balance().saturating_mul(1_000u32.into()));
	Bonds::<T>::make_free_balance_be(&who, plenty);
	// Keys unique to the account: every key type gets bytes of its own.
	let mut seed = Vec::new();
	for part in 0u8..8 {
		seed.extend_from_slice(BlakeTwo256::hash(&(&who, part).encode()).as_ref());
	}
	let keys = <T as pallet_session::Config>::Keys::decode(&mut TrailingZeroInput::new(&seed))
		.expect("zero-padded input decodes");
	<pallet_session::Pallet<T> as SessionInterface>::set_keys(&who, keys).expect("fresh keys");
	who
}

/// Fills the candidate list to `MaxCandidates`, each bond above the last (the first one
/// `CandidacyBond + step`); returns the candidates from the smallest bond to the largest.
fn fill_candidates<T: Config>() -> Vec<T::AccountId> {
	let max: u32 = <T as pallet_collator_selection::Config>::MaxCandidates::get();
	let bond = CandidacyBond::<T>::get();
	let step = Bonds::<T>::minimum_balance().max(1u32.into());
	(0..max)
		.map(|i| {
			let who = with_keys::<T>("candidate", i);
			CollatorSelection::<T>::register_as_candidate(RawOrigin::Signed(who.clone()).into())
				.expect("room in the list");
			let raised = bond.saturating_add(step.saturating_mul((i + 1).into()));
			CollatorSelection::<T>::update_bond(RawOrigin::Signed(who.clone()).into(), raised)
				.expect("a raise is allowed");
			who
		})
		.collect()
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_session_length() -> Result<(), BenchmarkError> {
		let origin = <T as Config>::AdminOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let length = T::MaxSessionLength::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, length);
		assert_eq!(SessionLength::<T>::get(), length);
		Ok(())
	}

	#[benchmark]
	fn set_block_reward() -> Result<(), BenchmarkError> {
		let origin = <T as Config>::AdminOrigin::try_successful_origin()
			.map_err(|_| BenchmarkError::Weightless)?;
		let amount = T::RewardCurrency::minimum_balance();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, amount);
		assert_eq!(BlockReward::<T>::get(), amount);
		Ok(())
	}

	/// A reward minted to an author whose account does not exist yet.
	#[benchmark]
	fn note_author() {
		let reward = T::RewardCurrency::minimum_balance().saturating_mul(10u32.into());
		BlockReward::<T>::put(reward);
		let author: T::AccountId = account("author", 0, 0);
		#[block]
		{
			<Pallet<T> as EventHandler<_, _>>::note_author(author.clone());
		}
		assert_eq!(T::RewardCurrency::balance(&author), reward);
	}

	/// Keys removed by an account that is no longer chosen.
	#[benchmark]
	fn purge_keys() {
		let who = with_keys::<T>("former", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(pallet_session::NextKeys::<T>::get(&who).is_none());
	}

	/// The candidate with the largest bond leaves a full list: found at the end, its bond
	/// unbonds.
	#[benchmark]
	fn leave() {
		let candidates = fill_candidates::<T>();
		let who = candidates.last().expect("a full list").clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Unbonding::<T>::get(&who).is_some());
		assert!(Pallet::<T>::bond_of(&who).is_none());
	}

	/// The smallest bond of a full list cut to the minimum: the cut unbonds.
	#[benchmark]
	fn update_bond() {
		let candidates = fill_candidates::<T>();
		let who = candidates[0].clone();
		let bond = CandidacyBond::<T>::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), bond);
		assert_eq!(Pallet::<T>::bond_of(&who), Some(bond));
		assert!(Unbonding::<T>::get(&who).is_some());
	}

	/// A newcomer with the largest bond takes the smallest one's place in a full list; the
	/// target's bond unbonds.
	#[benchmark]
	fn take_candidate_slot() {
		let candidates = fill_candidates::<T>();
		let target = candidates[0].clone();
		let who = with_keys::<T>("newcomer", 0);
		let bond = Pallet::<T>::bond_of(candidates.last().expect("a full list"))
			.expect("a candidate")
			.saturating_add(Bonds::<T>::minimum_balance().max(1u32.into()));
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), bond, target.clone());
		assert_eq!(Pallet::<T>::bond_of(&who), Some(bond));
		assert!(Unbonding::<T>::get(&target).is_some());
	}

	/// A bond whose unbonding is over comes back.
	#[benchmark]
	fn withdraw_unbonded() {
		let candidates = fill_candidates::<T>();
		let who = candidates.last().expect("a full list").clone();
		Pallet::<T>::leave(RawOrigin::Signed(who.clone()).into()).expect("a candidate leaves");
		let until = Unbonding::<T>::get(&who).expect("unbonding").until;
		pallet_session::CurrentIndex::<T>::put(until);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Unbonding::<T>::get(&who).is_none());
	}

	impl_benchmark_test_suite!(Pallet, mock::ExtBuilder::default().build(), mock::Test);
}
