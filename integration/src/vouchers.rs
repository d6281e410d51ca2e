//! Vouchers in flight: the node's side of a viewer's payments.
//!
//! A viewer sends a voucher every few seconds over the `sutantra-pay` data channel. The node
//! checks each one locally against the channel as the chain last showed it (signature, channel,
//! payee, newer than anything accepted, within the deposit), keeps the best per channel durably
//! in offchain storage (where the payments pallet's offchain worker finds and claims it) and
//! answers with the total it has accepted. The durable write happens before the answer, so a
//! crash never loses a payment the viewer was told was accepted.

use std::{collections::HashMap, sync::Mutex};

use codec::{Decode, Encode};
use sp_runtime::AccountId32;
use sutantra_payments_primitives::{
	offchain_voucher_key, verify_voucher, ChannelId, SignedVoucher, Voucher,
};

/// A channel's balance, in plancks.
pub type Balance = u128;

/// What the node knows of a channel from the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelState {
	/// Who pays; vouchers must be signed by this account.
	pub payer: AccountId32,
	/// Who is paid.
	pub payee: AccountId32,
	/// Everything the payer has deposited.
	pub deposit: Balance,
	/// What has been settled on chain so far.
	pub paid: Balance,
	/// The nonce of the last settled voucher.
	pub nonce: u64,
	/// Whether the payer has asked to close.
	pub closing: bool,
}

/// Why a voucher was refused; sent back to the viewer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
	/// The chain has no such channel (or it is closed).
	#[error("channel {0} is not open on chain")]
	UnknownChannel(ChannelId),
	/// The channel pays someone other than this stream's creator.
	#[error("channel {0} does not pay this stream's creator")]
	WrongPayee(ChannelId),
	/// The channel's payer is not the viewer who is watching.
	#[error("channel {0} is not the viewer's")]
	WrongPayer(ChannelId),
	/// The signature is not the payer's over this voucher on this chain.
	#[error("the voucher's signature is not the payer's for this chain")]
	BadSignature,
	/// Not above the best voucher already accepted or settled.
	#[error(
		"the voucher is not newer than {amount} at nonce {nonce}; send a higher amount and nonce"
	)]
	NotNewer {
		/// The best amount accepted so far.
		amount: Balance,
		/// Its nonce.
		nonce: u64,
	},
	/// More than the channel's deposit.
	#[error("the voucher's amount is more than the channel's deposit of {0}; top the channel up")]
	ExceedsDeposit(Balance),
	/// The payer is closing the channel: it no longer pays for watching.
	#[error("channel {0} is closing; open a new channel to keep watching")]
	Closing(ChannelId),
}

impl Rejection {
	/// A short label for metrics.
	pub fn label(&self) -> &'static str {
		match self {
			Self::UnknownChannel(_) => "unknown_channel",
			Self::WrongPayee(_) => "wrong_payee",
			Self::WrongPayer(_) => "wrong_payer",
			Self::BadSignature => "bad_signature",
			Self::NotNewer { .. } => "not_newer",
			Self::ExceedsDeposit(_) => "exceeds_deposit",
			Self::Closing(_) => "closing",
		}
	}
}

/// Where accepted vouchers are kept durably: the node's offchain persistent storage in
/// production, memory in tests.
pub trait VoucherStore: Send + Sync {
	/// The stored bytes under `key`.
	fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
	/// Stores `value` under `key`, durably, before returning.
	fn set(&self, key: &[u8], value: &[u8]);
}

/// A voucher accepted: the channel's new accepted total and what this voucher added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
	/// Everything accepted on the channel (the voucher's cumulative amount).
	pub total: Balance,
	/// What this voucher added to the best before it.
	pub increase: Balance,
}

/// Checks vouchers and keeps the best per channel.
pub struct VoucherBook<S> {
	genesis_hash: Vec<u8>,
	store: S,
	/// The best accepted (amount, nonce) per channel, mirrored from the store.
	best: Mutex<HashMap<ChannelId, (Balance, u64)>>,
}

impl<S: VoucherStore> VoucherBook<S> {
	/// A book for the chain with `genesis_hash`, keeping vouchers in `store`.
	pub fn new(genesis_hash: &[u8], store: S) -> Self {
		Self { genesis_hash: genesis_hash.to_vec(), store, best: Mutex::default() }
	}

	/// The best voucher accepted for `channel_id`, if any (from the durable store).
	pub fn best(&self, channel_id: ChannelId) -> Option<SignedVoucher<Balance>> {
		let bytes = self.store.get(&offchain_voucher_key(channel_id))?;
		SignedVoucher::decode(&mut &bytes[..]).ok()
	}

	/// Checks `signed` from `viewer`, paying `payee`, against `channel` as the chain shows it;
	/// stores it durably if it is the best so far.
	pub fn accept(
		&self,
		signed: &SignedVoucher<Balance>,
		channel: &ChannelState,
		viewer: &AccountId32,
		payee: &AccountId32,
	) -> Result<Accepted, Rejection> {
		let Voucher { channel_id, cumulative_amount, nonce } = signed.voucher;
		if channel.payee != *payee {
			return Err(Rejection::WrongPayee(channel_id));
		}
		if channel.payer != *viewer {
			return Err(Rejection::WrongPayer(channel_id));
		}
		if channel.closing {
			return Err(Rejection::Closing(channel_id));
		}
		if cumulative_amount > channel.deposit {
			return Err(Rejection::ExceedsDeposit(channel.deposit));
		}
		let mut best = self.best.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let stored = match best.get(&channel_id) {
			Some(known) => Some(*known),
			None => self.best(channel_id).map(|s| (s.voucher.cumulative_amount, s.voucher.nonce)),
		};
		let (floor_amount, floor_nonce) = match stored {
			Some((amount, nonce)) if amount > channel.paid => (amount, nonce),
			_ => (channel.paid, channel.nonce),
		};
		if cumulative_amount <= floor_amount || nonce <= floor_nonce {
			return Err(Rejection::NotNewer { amount: floor_amount, nonce: floor_nonce });
		}
		if !verify_voucher(&self.genesis_hash, &signed.voucher, &signed.signature, &channel.payer) {
			return Err(Rejection::BadSignature);
		}
		self.store.set(&offchain_voucher_key(channel_id), &signed.encode());
		best.insert(channel_id, (cumulative_amount, nonce));
		Ok(Accepted { total: cumulative_amount, increase: cumulative_amount - floor_amount })
	}
}

/// The node's offchain persistent storage, where the payments pallet's offchain worker reads.
#[derive(Clone)]
pub struct OffchainVoucherStore<S>(pub S);

impl<S: sp_core::offchain::OffchainStorage> VoucherStore for OffchainVoucherStore<S> {
	fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
		self.0.get(sp_core::offchain::STORAGE_PREFIX, key)
	}

	fn set(&self, key: &[u8], value: &[u8]) {
		self.0.clone().set(sp_core::offchain::STORAGE_PREFIX, key, value)
	}
}

/// A message on the `sutantra-pay` data channel, either way. JSON; amounts are decimal strings
/// (they do not fit a JavaScript number).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PayMessage {
	/// Viewer to node: a voucher and the payer's signature (hex, 64 bytes).
	Voucher {
		/// The channel it draws on.
		channel_id: ChannelId,
		/// The cumulative amount, in plancks.
		amount: String,
		/// The voucher's nonce.
		nonce: u64,
		/// The payer's sr25519 signature over the voucher payload, `0x`-prefixed hex.
		signature: String,
	},
	/// Node to viewer: the voucher was accepted; `accepted` is the channel's accepted total.
	Ack {
		/// The channel.
		channel_id: ChannelId,
		/// Everything accepted on the channel, in plancks.
		accepted: String,
	},
	/// Node to viewer: the voucher was refused, and why.
	Reject {
		/// The channel.
		channel_id: ChannelId,
		/// What was wrong and what to do.
		reason: String,
		/// When the voucher was not newer: the best amount accepted or settled on the channel, in
		/// plancks, which the next voucher must exceed.
		#[serde(default, skip_serializing_if = "Option::is_none")]
		accepted: Option<String>,
		/// When the voucher was not newer: the nonce the next voucher must exceed.
		#[serde(default, skip_serializing_if = "Option::is_none")]
		nonce: Option<u64>,
	},
	/// Node to viewer: payment is falling behind; the viewer will be dropped if it does not
	/// catch up.
	Warning {
		/// What to do.
		reason: String,
	},
}

impl PayMessage {
	/// The voucher this message carries, if it is a well-formed voucher message.
	pub fn signed_voucher(&self) -> Option<SignedVoucher<Balance>> {
		let PayMessage::Voucher { channel_id, amount, nonce, signature } = self else {
			return None;
		};
		let cumulative_amount: Balance = amount.parse().ok()?;
		let bytes = hex::decode(signature.trim_start_matches("0x")).ok()?;
		let raw: [u8; 64] = bytes.try_into().ok()?;
		Some(SignedVoucher {
			voucher: Voucher { channel_id: *channel_id, cumulative_amount, nonce: *nonce },
			signature: sutantra_payments_primitives::VoucherSignature(
				sp_core::sr25519::Signature::from_raw(raw),
			),
		})
	}

	/// The refusal of a voucher on `channel_id`, with the floor to build on when it was not newer.
	pub fn reject(channel_id: ChannelId, rejection: &Rejection) -> Self {
		let (accepted, nonce) = match rejection {
			Rejection::NotNewer { amount, nonce } => (Some(amount.to_string()), Some(*nonce)),
			_ => (None, None),
		};
		PayMessage::Reject { channel_id, reason: rejection.to_string(), accepted, nonce }
	}

	/// A refusal that is not about a particular voucher's standing.
	pub fn refuse(channel_id: ChannelId, reason: impl Into<String>) -> Self {
		PayMessage::Reject { channel_id, reason: reason.into(), accepted: None, nonce: None }
	}

	/// The voucher message for `signed`.
	pub fn voucher(signed: &SignedVoucher<Balance>) -> Self {
		PayMessage::Voucher {
			channel_id: signed.voucher.channel_id,
			amount: signed.voucher.cumulative_amount.to_string(),
			nonce: signed.voucher.nonce,
			signature: format!("0x{}", hex::encode(signed.signature.0 .0)),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::{sr25519, Pair};
	use std::sync::Arc;
	use sutantra_payments_primitives::sign_voucher;

	const GENESIS: [u8; 32] = [3; 32];

	#[derive(Clone, Default)]
	struct Memory(Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>);

	impl VoucherStore for Memory {
		fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
			self.0.lock().unwrap().get(key).cloned()
		}
		fn set(&self, key: &[u8], value: &[u8]) {
			self.0.lock().unwrap().insert(key.to_vec(), value.to_vec());
		}
	}

	fn pair(name: &str) -> sr25519::Pair {
		sr25519::Pair::from_string(&format!("//{name}"), None).unwrap()
	}

	fn id(name: &str) -> AccountId32 {
		AccountId32::new(pair(name).public().0)
	}

	fn channel() -> ChannelState {
		ChannelState {
			payer: id("Bob"),
			payee: id("Alice"),
			deposit: 1_000,
			paid: 100,
			nonce: 1,
			closing: false,
		}
	}

	fn signed(by: &str, amount: Balance, nonce: u64) -> SignedVoucher<Balance> {
		let voucher = Voucher { channel_id: 9, cumulative_amount: amount, nonce };
		SignedVoucher { voucher, signature: sign_voucher(&pair(by), &GENESIS, &voucher) }
	}

	#[test]
	fn newer_vouchers_are_accepted_and_kept_durably() {
		let store = Memory::default();
		let book = VoucherBook::new(&GENESIS, store.clone());
		let accept =
			|v: &SignedVoucher<Balance>| book.accept(v, &channel(), &id("Bob"), &id("Alice"));
		assert_eq!(accept(&signed("Bob", 150, 2)), Ok(Accepted { total: 150, increase: 50 }));
		assert_eq!(accept(&signed("Bob", 400, 3)), Ok(Accepted { total: 400, increase: 250 }));
		assert_eq!(book.best(9).map(|s| s.voucher), Some(signed("Bob", 400, 3).voucher));
		// What a restarted node finds: the store, read back with no memory of its own.
		let restarted = VoucherBook::new(&GENESIS, store);
		assert_eq!(
			restarted.accept(&signed("Bob", 300, 4), &channel(), &id("Bob"), &id("Alice")),
			Err(Rejection::NotNewer { amount: 400, nonce: 3 })
		);
		assert_eq!(
			restarted.accept(&signed("Bob", 500, 4), &channel(), &id("Bob"), &id("Alice")),
			Ok(Accepted { total: 500, increase: 100 })
		);
	}

	#[test]
	fn a_refusal_carries_the_floor_only_when_the_voucher_was_not_newer() {
		let stale = PayMessage::reject(9, &Rejection::NotNewer { amount: 400, nonce: 3 });
		let json = serde_json::to_string(&stale).unwrap();
		assert!(json.ends_with(r#","accepted":"400","nonce":3}"#), "{json}");
		assert_eq!(serde_json::from_str::<PayMessage>(&json).unwrap(), stale);
		let forged =
			serde_json::to_string(&PayMessage::reject(9, &Rejection::BadSignature)).unwrap();
		assert!(!forged.contains("accepted") && !forged.contains("nonce"), "{forged}");
		// Older clients' messages, without the fields, still parse.
		let plain = r#"{"type":"reject","channel_id":9,"reason":"x"}"#;
		assert_eq!(serde_json::from_str::<PayMessage>(plain).unwrap(), PayMessage::refuse(9, "x"));
	}

	#[test]
	fn voucher_messages_round_trip_as_json() {
		let signed = signed("Bob", 150, 2);
		let json = serde_json::to_string(&PayMessage::voucher(&signed)).unwrap();
		assert!(json.starts_with(r#"{"type":"voucher","channel_id":9,"amount":"150","nonce":2,"#));
		let back: PayMessage = serde_json::from_str(&json).unwrap();
		assert_eq!(back.signed_voucher(), Some(signed));
		let bad = r#"{"type":"voucher","channel_id":9,"amount":"x","nonce":2,"signature":"0x00"}"#;
		assert_eq!(serde_json::from_str::<PayMessage>(bad).unwrap().signed_voucher(), None);
	}

	#[test]
	fn what_the_chain_settled_is_the_floor() {
		let book = VoucherBook::new(&GENESIS, Memory::default());
		let accept =
			|v: &SignedVoucher<Balance>| book.accept(v, &channel(), &id("Bob"), &id("Alice"));
		assert_eq!(
			accept(&signed("Bob", 100, 2)),
			Err(Rejection::NotNewer { amount: 100, nonce: 1 })
		);
		assert_eq!(
			accept(&signed("Bob", 150, 1)),
			Err(Rejection::NotNewer { amount: 100, nonce: 1 })
		);
	}

	#[test]
	fn bad_vouchers_are_refused_and_not_stored() {
		let book = VoucherBook::new(&GENESIS, Memory::default());
		let ok = channel();
		assert_eq!(
			book.accept(&signed("Charlie", 150, 2), &ok, &id("Bob"), &id("Alice")),
			Err(Rejection::BadSignature)
		);
		assert_eq!(
			book.accept(&signed("Bob", 1_001, 2), &ok, &id("Bob"), &id("Alice")),
			Err(Rejection::ExceedsDeposit(1_000))
		);
		assert_eq!(
			book.accept(&signed("Bob", 150, 2), &ok, &id("Bob"), &id("Charlie")),
			Err(Rejection::WrongPayee(9))
		);
		assert_eq!(
			book.accept(&signed("Bob", 150, 2), &ok, &id("Charlie"), &id("Alice")),
			Err(Rejection::WrongPayer(9))
		);
		let closing = ChannelState { closing: true, ..channel() };
		assert_eq!(
			book.accept(&signed("Bob", 150, 2), &closing, &id("Bob"), &id("Alice")),
			Err(Rejection::Closing(9))
		);
		assert_eq!(book.best(9), None);
	}
}
