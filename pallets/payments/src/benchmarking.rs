//! Benchmarks of every call, each in its worst case. Vouchers are signed in the wallet-wrapped
//! form, which costs two signature checks to accept (see `KeystoreBenchmarkHelper`).

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Authorize, Get};
use frame_system::RawOrigin;
use sp_runtime::traits::Bounded;

fn fund<T: Config>(who: &T::AccountId) {
	T::Currency::set_balance(who, BalanceOf::<T>::max_value() / 4u32.into());
}

/// A funded payer whose voucher signatures the benchmark helper can make.
fn payer<T: Config>() -> T::AccountId {
	let payer = T::BenchmarkHelper::payer(0);
	fund::<T>(&payer);
	payer
}

fn payee<T: Config>() -> T::AccountId {
	let payee: T::AccountId = account("payee", 0, 0);
	fund::<T>(&payee);
	payee
}

fn deposit<T: Config>() -> BalanceOf<T> {
	T::MinDeposit::get().saturating_mul(1_000u32.into())
}

/// Opens channels from `payer` to others until its index is one short of full.
fn fill_payer_index<T: Config>(payer: &T::AccountId) {
	for i in 1..T::MaxChannelsPerPayer::get() {
		let other: T::AccountId = account("other", i, 0);
		Pallet::<T>::open_channel(
			RawOrigin::Signed(payer.clone()).into(),
			T::Lookup::unlookup(other),
			None,
			T::MinDeposit::get(),
		)
		.expect("room in the payer's index");
	}
}

/// Fills the payer's index, then opens the benchmarked channel (last in the index); returns
/// its id.
fn full_payer_channel<T: Config>(payer: &T::AccountId, payee: &T::AccountId) -> ChannelId {
	fill_payer_index::<T>(payer);
	let id = NextChannelId::<T>::get();
	Pallet::<T>::open_channel(
		RawOrigin::Signed(payer.clone()).into(),
		T::Lookup::unlookup(payee.clone()),
		Some(0),
		deposit::<T>(),
	)
	.expect("room for the last channel");
	id
}

/// A voucher for half the deposit on `channel_id`, signed by `payer`.
fn half_voucher<T: Config>(
	payer: &T::AccountId,
	channel_id: ChannelId,
) -> (VoucherOf<T>, T::Signature) {
	let voucher = Voucher {
		channel_id,
		lane: account("lane", 0, 0),
		cumulative_amount: deposit::<T>() / 2u32.into(),
	};
	let signature = T::BenchmarkHelper::sign(payer, &Pallet::<T>::voucher_payload(&voucher));
	(voucher, signature)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Worst case: the payer's index one short of full.
	#[benchmark]
	fn open_channel() {
		let payer = payer::<T>();
		let payee = payee::<T>();
		fill_payer_index::<T>(&payer);

		#[extrinsic_call]
		_(RawOrigin::Signed(payer.clone()), T::Lookup::unlookup(payee), Some(0), deposit::<T>());

		assert_eq!(ChannelsByPayer::<T>::get(&payer).len() as u32, T::MaxChannelsPerPayer::get());
	}

	#[benchmark]
	fn top_up() {
		let payer = payer::<T>();
		let id = full_payer_channel::<T>(&payer, &payee::<T>());

		#[extrinsic_call]
		_(RawOrigin::Signed(payer), id, deposit::<T>());

		assert_eq!(Channels::<T>::get(id).map(|c| c.deposit), Some(deposit::<T>() * 2u32.into()));
	}

	/// Worst case: a wallet-wrapped signature (two checks), the payee's first payment.
	#[benchmark]
	fn claim() {
		let payer = payer::<T>();
		let payee: T::AccountId = account("payee", 0, 0);
		let id = full_payer_channel::<T>(&payer, &payee);
		let (voucher, signature) = half_voucher::<T>(&payer, id);
		let amount = voucher.cumulative_amount;
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), voucher, signature);

		assert_eq!(Channels::<T>::get(id).map(|c| c.paid), Some(amount));
	}

	/// The transaction-pool check of an authorized claim (the same voucher checks).
	#[benchmark]
	fn authorize_claim() -> Result<(), BenchmarkError> {
		let payer = payer::<T>();
		let id = full_payer_channel::<T>(&payer, &payee::<T>());
		let (voucher, signature) = half_voucher::<T>(&payer, id);
		let call = Call::<T>::claim { voucher, signature };

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("claim must be authorizable")?
				.map_err(|_| "the voucher must authorize the claim")?;
		}

		Ok(())
	}

	/// Worst case: the payee closes at once (release, three removals), the payer's index full.
	#[benchmark]
	fn close() {
		let payer = payer::<T>();
		let payee = payee::<T>();
		let id = full_payer_channel::<T>(&payer, &payee);

		#[extrinsic_call]
		_(RawOrigin::Signed(payee), id);

		assert!(!Channels::<T>::contains_key(id));
	}

	#[benchmark]
	fn finalize_close() {
		let payer = payer::<T>();
		let id = full_payer_channel::<T>(&payer, &payee::<T>());
		Pallet::<T>::close(RawOrigin::Signed(payer.clone()).into(), id).expect("the payer closes");
		let after = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::ChallengePeriod::get())
			.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(after);
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert!(!Channels::<T>::contains_key(id));
	}

	/// Worst case: a wallet-wrapped signature, a payment, then the close.
	#[benchmark]
	fn settle_and_close() {
		let payer = payer::<T>();
		let payee = payee::<T>();
		let id = full_payer_channel::<T>(&payer, &payee);
		let (voucher, signature) = half_voucher::<T>(&payer, id);

		#[extrinsic_call]
		_(RawOrigin::Signed(payee), voucher, signature);

		assert!(!Channels::<T>::contains_key(id));
	}

	impl_benchmark_test_suite!(Pallet, mock::ExtBuilder.build(), mock::Test);
}
