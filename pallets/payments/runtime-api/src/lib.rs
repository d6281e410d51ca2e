//! `PaymentsApi`: what streaming nodes, the command line and wallets ask the runtime about
//! payment channels and vouchers. Every call reads state at the block it is called at.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_payments::{Channel, ChannelId, Voucher, VoucherError, VoucherSignature};

sp_api::decl_runtime_apis! {
	/// Payment channels and vouchers.
	///
	/// Version 2: vouchers name a lane and are ordered by amount (voucher protocol v2); `lane_paid`.
	#[api_version(2)]
	pub trait PaymentsApi<AccountId, Balance, BlockNumber, Signature>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
		Signature: Codec,
	{
		/// A channel, if it is open or closing.
		fn channel(id: ChannelId) -> Option<Channel<AccountId, Balance, BlockNumber>>;
		/// The channels `account` pays into or is paid from, by id.
		fn channels_of(account: AccountId) -> Vec<(ChannelId, Channel<AccountId, Balance, BlockNumber>)>;
		/// What settling `voucher` would pay the payee now, or why it cannot be settled.
		fn check_voucher(voucher: Voucher<AccountId, Balance>, signature: Signature) -> Result<Balance, VoucherError>;
		/// The exact bytes the payer signs for `voucher` on this chain.
		fn voucher_payload(voucher: Voucher<AccountId, Balance>) -> Vec<u8>;
		/// What lane `lane` of channel `id` has been paid so far (zero for a lane never paid).
		fn lane_paid(id: ChannelId, lane: AccountId) -> Balance;
	}
}
