//! Payment-channel vouchers, shared by the runtime (which settles them), the node (which takes
//! them from viewers over the WebRTC data channel) and the command line (which signs them).
//!
//! A [`Voucher`] says "on lane `lane` of channel `channel_id`, the payer owes the payee
//! `cumulative_amount` in total". A channel has one **lane** per node that delivers video (the
//! node's account): each node takes vouchers only for its own lane, so the same voucher can never
//! buy watching at two nodes, and the chain settles each lane on its own, bounding the sum over
//! lanes by the deposit. On a lane each new voucher replaces the last, and settling one pays only
//! the difference to what the lane was already paid. Vouchers on a lane are ordered by their
//! amount alone: a higher amount is newer. The payer signs with sr25519 over
//! [`voucher_payload`]:
//!
//! ```text
//! "sutantra/voucher/v2"   19 bytes, ASCII, the domain tag (VOUCHER_DOMAIN)
//! genesis hash            32 bytes, the chain's genesis block hash
//! channel_id              8 bytes, u64 little endian        ┐
//! lane                    32 bytes, the node's account id   │ SCALE(Voucher)
//! cumulative_amount       16 bytes, u128 little endian      ┘
//! ```
//!
//! 107 bytes in all for this chain's 32-byte accounts and `u128` balance. The domain tag keeps a
//! voucher signature from meaning anything else (a transaction, a login statement, a v1
//! voucher); the genesis hash keeps it from being valid on another chain; the channel id (never
//! reused) keeps it from being valid on another channel; the lane keeps it from being valid at
//! another node.
//!
//! Browser wallets that only sign "raw bytes" (the polkadot.js extension's `signRaw`) sign
//! `<Bytes>` + payload + `</Bytes>`; [`VoucherSignature`] accepts that form too, so a viewer
//! in a browser can pay with the wallet they already have.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::sr25519;
use sp_runtime::{
	traits::{IdentifyAccount, Lazy, Verify},
	AccountId32,
};

/// A payment channel's id: allocated in order by the payments pallet and never reused.
pub type ChannelId = u64;

/// The domain tag every voucher payload starts with.
pub const VOUCHER_DOMAIN: &[u8; 19] = b"sutantra/voucher/v2";

/// What wallets that sign "raw bytes" put before the message.
pub const WRAP_PREFIX: &[u8] = b"<Bytes>";
/// What wallets that sign "raw bytes" put after the message.
pub const WRAP_SUFFIX: &[u8] = b"</Bytes>";

/// Where the node keeps the best voucher it accepted for a channel (on its own lane), in offchain
/// persistent local storage: this prefix followed by the channel id as 8 bytes little endian. The
/// value is SCALE([`SignedVoucher`]). The payments pallet's offchain worker reads it and claims it.
pub const OFFCHAIN_VOUCHER_PREFIX: &[u8] = b"sutantra/payments/voucher/";

/// The key, in the node's offchain persistent storage, of the channels whose stored voucher may
/// still be unclaimed: SCALE(`Vec<ChannelId>`), ascending. The node adds a channel when it stores
/// a voucher for it and removes it once the chain paid the node's lane that much or the channel
/// closed; the offchain worker only reads it, so it visits those channels and no others.
pub const OFFCHAIN_PENDING_KEY: &[u8] = b"sutantra/payments/pending";

/// The offchain storage key of the best voucher accepted for `channel_id`.
pub fn offchain_voucher_key(channel_id: ChannelId) -> Vec<u8> {
	let mut key = Vec::with_capacity(OFFCHAIN_VOUCHER_PREFIX.len() + 8);
	key.extend_from_slice(OFFCHAIN_VOUCHER_PREFIX);
	key.extend_from_slice(&channel_id.to_le_bytes());
	key
}

/// A payer's promise: on lane `lane` of channel `channel_id`, the payer owes the payee
/// `cumulative_amount` in total.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct Voucher<AccountId, Balance> {
	/// The channel the voucher draws on.
	pub channel_id: ChannelId,
	/// The lane: the account of the node the payer watches at (the only node that takes it).
	pub lane: AccountId,
	/// Everything the payer owes on this lane so far (not an increment). A higher amount is a
	/// newer voucher.
	pub cumulative_amount: Balance,
}

/// The exact bytes a payer signs for `voucher` on the chain with `genesis_hash`.
pub fn voucher_payload<AccountId: Encode, Balance: Encode>(
	genesis_hash: &[u8],
	voucher: &Voucher<AccountId, Balance>,
) -> Vec<u8> {
	let mut payload = Vec::with_capacity(VOUCHER_DOMAIN.len() + 32 + voucher.size_hint());
	payload.extend_from_slice(VOUCHER_DOMAIN);
	payload.extend_from_slice(genesis_hash);
	voucher.encode_to(&mut payload);
	payload
}

/// A voucher and the payer's signature, as a viewer sends it and the node stores it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct SignedVoucher<AccountId, Balance, Signature = VoucherSignature> {
	/// The voucher.
	pub voucher: Voucher<AccountId, Balance>,
	/// The payer's signature over [`voucher_payload`].
	pub signature: Signature,
}

/// A payer's sr25519 signature over a voucher payload (64 bytes on the wire).
///
/// It verifies against an account id whose 32 bytes are the payer's sr25519 public key. It is
/// valid over the payload itself or over the payload wrapped in `<Bytes>`..`</Bytes>` (the form
/// browser wallets sign), nothing else.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub struct VoucherSignature(pub sr25519::Signature);

impl From<sr25519::Signature> for VoucherSignature {
	fn from(signature: sr25519::Signature) -> Self {
		Self(signature)
	}
}

/// The public key behind a voucher signature; it identifies the payer's account.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct VoucherSigner(pub sr25519::Public);

impl IdentifyAccount for VoucherSigner {
	type AccountId = AccountId32;

	fn into_account(self) -> AccountId32 {
		AccountId32::new(self.0 .0)
	}
}

impl Verify for VoucherSignature {
	type Signer = VoucherSigner;

	fn verify<L: Lazy<[u8]>>(&self, mut msg: L, signer: &AccountId32) -> bool {
		let public = sr25519::Public::from_raw(*signer.as_ref());
		let msg = msg.get();
		if sp_io::crypto::sr25519_verify(&self.0, msg, &public) {
			return true;
		}
		let mut wrapped = Vec::with_capacity(WRAP_PREFIX.len() + msg.len() + WRAP_SUFFIX.len());
		wrapped.extend_from_slice(WRAP_PREFIX);
		wrapped.extend_from_slice(msg);
		wrapped.extend_from_slice(WRAP_SUFFIX);
		sp_io::crypto::sr25519_verify(&self.0, &wrapped, &public)
	}
}

/// Whether `signature` is `payer`'s signature of `voucher` on the chain with `genesis_hash`.
pub fn verify_voucher<Balance: Encode>(
	genesis_hash: &[u8],
	voucher: &Voucher<AccountId32, Balance>,
	signature: &VoucherSignature,
	payer: &AccountId32,
) -> bool {
	signature.verify(&voucher_payload(genesis_hash, voucher)[..], payer)
}

/// Signs `voucher` for the chain with `genesis_hash` (payers' tools: the node's viewer, the CLI).
#[cfg(feature = "std")]
pub fn sign_voucher<Balance: Encode>(
	pair: &sr25519::Pair,
	genesis_hash: &[u8],
	voucher: &Voucher<AccountId32, Balance>,
) -> VoucherSignature {
	use sp_core::Pair as _;
	VoucherSignature(pair.sign(&voucher_payload(genesis_hash, voucher)))
}

/// Why a voucher cannot be settled now.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Debug,
)]
pub enum VoucherError {
	/// No open or closing channel has this id (it never existed or was closed).
	UnknownChannel,
	/// The signature is not the channel payer's over this voucher on this chain.
	BadSignature,
	/// The voucher is not newer than the last one settled on its lane: its amount is not above.
	NotNewer,
	/// The voucher's amount is more than the channel's deposit.
	ExceedsDeposit,
	/// The deposit is used up by what the channel's lanes were paid: top the channel up.
	DepositExhausted,
	/// The channel already has its most lanes, and this voucher's lane is not one of them.
	TooManyLanes,
	/// A voucher that opens a lane must pay at least the smallest free claim.
	NewLaneTooSmall,
}

impl VoucherError {
	/// A short explanation for people.
	pub fn describe(&self) -> &'static str {
		match self {
			Self::UnknownChannel => "no open channel has this id",
			Self::BadSignature => "the signature is not the channel payer's over this voucher",
			Self::NotNewer => "the voucher is not newer than the last one settled on its lane",
			Self::ExceedsDeposit => "the voucher's amount is more than the channel's deposit",
			Self::DepositExhausted => "the channel's deposit is used up by what its lanes were paid",
			Self::TooManyLanes => "the channel has no lane left for this voucher's node",
			Self::NewLaneTooSmall => "a voucher that opens a lane must pay at least the smallest free claim",
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::Pair;

	fn voucher() -> Voucher<AccountId32, u128> {
		Voucher { channel_id: 7, lane: AccountId32::new([0x5a; 32]), cumulative_amount: 1_000 }
	}

	#[test]
	fn payload_layout_is_as_documented() {
		let genesis = [0xab; 32];
		let payload = voucher_payload(&genesis, &voucher());
		assert_eq!(payload.len(), 19 + 32 + 8 + 32 + 16);
		assert_eq!(&payload[..19], b"sutantra/voucher/v2");
		assert_eq!(&payload[19..51], &genesis);
		assert_eq!(&payload[51..59], &7u64.to_le_bytes());
		assert_eq!(&payload[59..91], &[0x5a; 32]);
		assert_eq!(&payload[91..], &1_000u128.to_le_bytes());
	}

	#[test]
	fn signed_vouchers_verify_for_their_payer_chain_and_channel_only() {
		let payer = sr25519::Pair::from_string("//Alice", None).unwrap();
		let other = sr25519::Pair::from_string("//Bob", None).unwrap();
		let payer_id = AccountId32::new(payer.public().0);
		let genesis = [1u8; 32];
		let signature = sign_voucher(&payer, &genesis, &voucher());
		assert!(verify_voucher(&genesis, &voucher(), &signature, &payer_id));
		assert!(!verify_voucher(&[2u8; 32], &voucher(), &signature, &payer_id));
		let moved = Voucher { channel_id: 8, ..voucher() };
		assert!(!verify_voucher(&genesis, &moved, &signature, &payer_id));
		let more = Voucher { cumulative_amount: 1_001, ..voucher() };
		assert!(!verify_voucher(&genesis, &more, &signature, &payer_id));
		let other_lane = Voucher { lane: AccountId32::new([0x5b; 32]), ..voucher() };
		assert!(!verify_voucher(&genesis, &other_lane, &signature, &payer_id));
		assert!(!verify_voucher(
			&genesis,
			&voucher(),
			&signature,
			&AccountId32::new(other.public().0)
		));
	}

	#[test]
	fn wallet_wrapped_signatures_verify_and_nothing_else_does() {
		let payer = sr25519::Pair::from_string("//Alice", None).unwrap();
		let payer_id = AccountId32::new(payer.public().0);
		let genesis = [1u8; 32];
		let payload = voucher_payload(&genesis, &voucher());
		let wrapped = [WRAP_PREFIX, &payload[..], WRAP_SUFFIX].concat();
		let signature = VoucherSignature(payer.sign(&wrapped));
		assert!(verify_voucher(&genesis, &voucher(), &signature, &payer_id));
		let half_wrapped = [WRAP_PREFIX, &payload[..]].concat();
		let signature = VoucherSignature(payer.sign(&half_wrapped));
		assert!(!verify_voucher(&genesis, &voucher(), &signature, &payer_id));
	}

	#[test]
	fn signed_voucher_round_trips_and_keys_are_per_channel() {
		let payer = sr25519::Pair::from_string("//Alice", None).unwrap();
		let signed = SignedVoucher {
			voucher: voucher(),
			signature: sign_voucher(&payer, &[0; 32], &voucher()),
		};
		let bytes = signed.encode();
		assert_eq!(bytes.len(), 56 + 64);
		assert_eq!(SignedVoucher::<AccountId32, u128>::decode(&mut &bytes[..]).unwrap(), signed);
		assert_eq!(
			offchain_voucher_key(1),
			b"sutantra/payments/voucher/\x01\0\0\0\0\0\0\0".to_vec()
		);
		assert_ne!(offchain_voucher_key(1), offchain_voucher_key(256));
	}
}
