//! The payments pallet's stored and exchanged types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use pallet_streams::StreamId;
use scale_info::TypeInfo;
use sp_runtime::traits::Saturating;

pub use sutantra_payments_primitives::{
	ChannelId, SignedVoucher, Voucher, VoucherError, VoucherSignature, VoucherSigner,
};

/// A one-way payment channel: the payer's deposit, held by the chain, from which the payee is
/// paid by settling the payer's vouchers.
#[derive(
	Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Debug,
)]
pub struct Channel<AccountId, Balance, BlockNumber> {
	/// Who pays (the viewer); their deposit is held.
	pub payer: AccountId,
	/// Who is paid (the creator).
	pub payee: AccountId,
	/// The stream the channel pays for; `None`: any of the payee's streams.
	pub stream_id: Option<StreamId>,
	/// Everything the payer has put in (opening deposit plus top-ups).
	pub deposit: Balance,
	/// Everything paid to the payee so far: the sum of what each lane was paid.
	pub paid: Balance,
	/// How many lanes have been paid from the channel (at most `MaxLanesPerChannel`).
	pub lanes: u32,
	/// The block the channel was opened in.
	pub opened_at: BlockNumber,
	/// The last block the channel was opened, topped up or claimed from.
	pub last_activity: BlockNumber,
	/// When the payer asked to close: the last block of the challenge period, during which the
	/// payee can still claim. `None` while the channel is open.
	pub closes_at: Option<BlockNumber>,
}

impl<AccountId, Balance: Saturating + Copy, BlockNumber> Channel<AccountId, Balance, BlockNumber> {
	/// What the payer's deposit still covers: `deposit - paid`.
	pub fn remaining(&self) -> Balance {
		self.deposit.saturating_sub(self.paid)
	}

	/// Whether the payer has asked to close the channel.
	pub fn is_closing(&self) -> bool {
		self.closes_at.is_some()
	}
}
