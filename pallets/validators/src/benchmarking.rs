//! Benchmarks of the calls and of the per-block author hook, each in its worst case.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::EnsureOrigin;
use pallet_authorship::EventHandler;

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

	impl_benchmark_test_suite!(Pallet, mock::ExtBuilder::default().build(), mock::Test);
}
