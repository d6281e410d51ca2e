//! `PaymentsApi`: what streaming nodes, the command line and wallets ask the runtime about
//! payment channels and vouchers. Every call reads state at the block it is called at.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_payments::{Channel, ChannelId, Voucher, VoucherError, VoucherSignature};

sp_api::decl_runtime_apis! {
	/// Payment channels and vouchers.
	#[api_version(1)]
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
		fn check_voucher(voucher: Voucher<Balance>, signature: Signature) -> Result<Balance, VoucherError>;
		/// The exact bytes the payer signs for `voucher` on this chain.
		fn voucher_payload(voucher: Voucher<Balance>) -> Vec<u8>;
	}
}
