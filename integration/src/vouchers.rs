//! Vouchers in flight: the node's side of a viewer's payments.
//!
//! A viewer sends a voucher every few seconds over the `sutantra-pay` data channel. Every
//! voucher names a lane of its channel; a node takes vouchers only for its own lane (its
//! account, [`VoucherBook::lane`]), so one voucher can never pay two nodes. The node checks each
//! one locally against the channel as the chain last showed it (signature, lane, payer, payee,
//! the stream the channel is for, newer than anything accepted or settled on the lane, what is
//! left of the deposit), keeps the best per channel durably in offchain storage (where the
//! payments pallet's offchain worker finds and claims it) and answers with the total it has
//! accepted. The write is made durable, through the [`VoucherJournal`], before the answer, so a
//! crash never loses a payment the viewer was told was accepted.

use std::{
	collections::{BTreeSet, HashMap, HashSet},
	fs::File,
	io::{self, Read, Write},
	path::{Path, PathBuf},
	sync::Mutex,
};

use codec::{Decode, Encode};
use sp_runtime::AccountId32;
use sutantra_payments_primitives::{
	offchain_voucher_key, verify_voucher, ChannelId, OFFCHAIN_PENDING_KEY, SignedVoucher, Voucher, VoucherSignature,
};

/// A channel's balance, in plancks.
pub type Balance = u128;
/// A voucher as the node takes it: lanes are accounts, amounts plancks.
pub type NodeVoucher = SignedVoucher<AccountId32, Balance>;

/// What the node knows of a channel from the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelState {
	/// Who pays; vouchers must be signed by this account.
	pub payer: AccountId32,
	/// Who is paid.
	pub payee: AccountId32,
	/// The stream the channel pays for; `None`: any of the payee's streams.
	pub stream_id: Option<u64>,
	/// Everything the payer has deposited.
	pub deposit: Balance,
	/// What has been settled on chain so far, over all lanes.
	pub paid: Balance,
	/// What has been settled on chain on this node's lane.
	pub lane_paid: Balance,
	/// Whether the channel has no room for a lane it has not paid yet.
	pub lanes_full: bool,
	/// Whether the payer has asked to close.
	pub closing: bool,
}

/// Why a voucher was refused; sent back to the viewer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
	/// The chain has no such channel (or it is closed).
	#[error("channel {0} is not open on chain")]
	UnknownChannel(ChannelId),
	/// The voucher is for another node's lane.
	#[error("the voucher is for another node's lane; this node's lane is {0} (GET /node)")]
	WrongLane(String),
	/// The channel pays someone other than this stream's creator.
	#[error("channel {0} does not pay this stream's creator")]
	WrongPayee(ChannelId),
	/// The channel's payer is not the viewer who is watching.
	#[error("channel {0} is not the viewer's")]
	WrongPayer(ChannelId),
	/// The channel was opened for another stream of the creator.
	#[error("channel {channel} pays for stream {paid_for} only, not this one; open a channel for this stream")]
	WrongStream {
		/// The channel.
		channel: ChannelId,
		/// The stream it pays for.
		paid_for: u64,
	},
	/// The signature is not the payer's over this voucher on this chain.
	#[error("the voucher's signature is not the payer's for this chain")]
	BadSignature,
	/// Not above the best voucher already accepted or settled on this lane.
	#[error("the voucher is not newer than {amount} on this lane; send a higher amount")]
	NotNewer {
		/// The best amount accepted or settled on the lane.
		amount: Balance,
		/// The payer's signature of the voucher for that amount, when the node holds one: the
		/// payer's own proof of what it signed (absent when the floor is what the chain settled).
		proof: Option<VoucherSignature>,
	},
	/// More than the channel's deposit could pay this lane now.
	#[error("the voucher asks this lane for more than the {0} left in the channel; top the channel up")]
	ExceedsDeposit(Balance),
	/// The voucher pays further ahead of the time watched than the node takes.
	#[error("the voucher pays more than {most} ahead of what you owe this node; pay as you watch")]
	TooFarAhead {
		/// The most the voucher could have added.
		most: Balance,
	},
	/// The channel's lanes are all taken by other nodes.
	#[error("channel {0} has no lane left for this node; pay on another channel")]
	LanesFull(ChannelId),
	/// The payer is closing the channel: it no longer pays for watching.
	#[error("channel {0} is closing; open a new channel to keep watching")]
	Closing(ChannelId),
	/// The node could not make the voucher durable; it was not accepted.
	#[error("the node could not store the voucher ({0}); send it again")]
	Storage(String),
}

impl Rejection {
	/// A short label for metrics.
	pub fn label(&self) -> &'static str {
		match self {
			Self::UnknownChannel(_) => "unknown_channel",
			Self::WrongLane(_) => "wrong_lane",
			Self::WrongPayee(_) => "wrong_payee",
			Self::WrongPayer(_) => "wrong_payer",
			Self::WrongStream { .. } => "wrong_stream",
			Self::BadSignature => "bad_signature",
			Self::NotNewer { .. } => "not_newer",
			Self::ExceedsDeposit(_) => "exceeds_deposit",
			Self::LanesFull(_) => "lanes_full",
			Self::TooFarAhead { .. } => "too_far_ahead",
			Self::Closing(_) => "closing",
			Self::Storage(_) => "storage",
		}
	}
}

/// Where accepted vouchers are kept durably: the node's offchain persistent storage behind a
/// [`VoucherJournal`] in production, memory in tests.
pub trait VoucherStore: Send + Sync {
	/// The stored bytes under `key`.
	fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
	/// Stores `value` under `key`; when it returns `Ok`, the value survives the process being
	/// killed.
	fn set(&self, key: &[u8], value: &[u8]) -> io::Result<()>;
}

/// A voucher accepted: the lane's new accepted total and what this voucher added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
	/// Everything accepted on the lane (the voucher's cumulative amount).
	pub total: Balance,
	/// What this voucher added to the best before it.
	pub increase: Balance,
}

/// What a voucher is checked against besides its channel: who watches and for which stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewing {
	/// The account the node admitted; the channel must be theirs.
	pub viewer: AccountId32,
	/// The stream's creator; the channel must pay them.
	pub creator: AccountId32,
	/// The stream watched, if the voucher came from a viewer's session; a channel restricted to
	/// a stream pays only for watching that one.
	pub stream: Option<u64>,
	/// What a second of the stream costs (bounds how far ahead of the time watched a voucher
	/// may pay).
	pub price: Balance,
}

/// Checks vouchers for this node's lane and keeps the best per channel.
pub struct VoucherBook<S> {
	genesis_hash: Vec<u8>,
	lane: AccountId32,
	store: S,
	/// The best accepted amount per channel, mirrored from the store.
	best: Mutex<HashMap<ChannelId, Balance>>,
	/// The channels whose stored voucher may be unclaimed, mirrored from the store
	/// ([`OFFCHAIN_PENDING_KEY`]); loaded on first use. Locked after `best` when both are.
	pending: Mutex<Option<BTreeSet<ChannelId>>>,
}

impl<S: VoucherStore> VoucherBook<S> {
	/// A book for the chain with `genesis_hash` taking vouchers for `lane`, keeping them in
	/// `store`.
	pub fn new(genesis_hash: &[u8], lane: AccountId32, store: S) -> Self {
		Self {
			genesis_hash: genesis_hash.to_vec(),
			lane,
			store,
			best: Mutex::default(),
			pending: Mutex::default(),
		}
	}

	/// The channels whose stored voucher may still be unclaimed, ascending.
	pub fn pending(&self) -> Vec<ChannelId> {
		let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		self.loaded(&mut pending).iter().copied().collect()
	}

	/// The chain paid this node's lane of `channel_id` up to `lane_paid`, or (`None`) closed
	/// the channel: once the stored voucher is paid, the offchain worker need not visit the
	/// channel any more.
	pub fn settled(&self, channel_id: ChannelId, lane_paid: Option<Balance>) -> io::Result<()> {
		let best = self.best.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let stored = match best.get(&channel_id) {
			Some(amount) => Some(*amount),
			None => self.best(channel_id).map(|s| s.voucher.cumulative_amount),
		};
		let paid = match (lane_paid, stored) {
			(None, _) | (Some(_), None) => true,
			(Some(paid), Some(stored)) => paid >= stored,
		};
		if !paid {
			return Ok(());
		}
		let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let list = self.loaded(&mut pending);
		if list.remove(&channel_id) {
			self.store.set(OFFCHAIN_PENDING_KEY, &list.iter().copied().collect::<Vec<_>>().encode())?;
		}
		Ok(())
	}

	/// Lists `channel_id` again if a voucher is stored for it: a claim or close that took it off
	/// was in a branch the chain abandoned.
	pub fn relist(&self, channel_id: ChannelId) -> io::Result<()> {
		let _best = self.best.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if self.best(channel_id).is_none() {
			return Ok(());
		}
		let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let list = self.loaded(&mut pending);
		if list.insert(channel_id) {
			self.store.set(OFFCHAIN_PENDING_KEY, &list.iter().copied().collect::<Vec<_>>().encode())?;
		}
		Ok(())
	}

	/// The pending list, read from the store the first time.
	fn loaded<'a>(
		&self,
		pending: &'a mut Option<BTreeSet<ChannelId>>,
	) -> &'a mut BTreeSet<ChannelId> {
		pending.get_or_insert_with(|| {
			self.store
				.get(OFFCHAIN_PENDING_KEY)
				.and_then(|bytes| Vec::<ChannelId>::decode(&mut &bytes[..]).ok())
				.unwrap_or_default()
				.into_iter()
				.collect()
		})
	}

	/// The lane this node takes vouchers for.
	pub fn lane(&self) -> &AccountId32 {
		&self.lane
	}

	/// The best voucher accepted for `channel_id` on this lane, if any (from the durable store).
	pub fn best(&self, channel_id: ChannelId) -> Option<NodeVoucher> {
		let bytes = self.store.get(&offchain_voucher_key(channel_id))?;
		NodeVoucher::decode(&mut &bytes[..]).ok().filter(|signed| signed.voucher.lane == self.lane)
	}

	/// Checks `signed` from the viewer of `viewing` against `channel` as the chain shows it,
	/// taking at most `most` more than the lane's best so far; stores it durably if it is the
	/// best so far.
	pub fn accept(
		&self,
		signed: &NodeVoucher,
		channel: &ChannelState,
		viewing: &Viewing,
		most: Balance,
	) -> Result<Accepted, Rejection> {
		let Voucher { channel_id, ref lane, cumulative_amount } = signed.voucher;
		if *lane != self.lane {
			return Err(Rejection::WrongLane(to_hex(self.lane.as_ref())));
		}
		if channel.payee != viewing.creator {
			return Err(Rejection::WrongPayee(channel_id));
		}
		if channel.payer != viewing.viewer {
			return Err(Rejection::WrongPayer(channel_id));
		}
		if let (Some(paid_for), Some(watched)) = (channel.stream_id, viewing.stream) {
			if paid_for != watched {
				return Err(Rejection::WrongStream { channel: channel_id, paid_for });
			}
		}
		if channel.closing {
			return Err(Rejection::Closing(channel_id));
		}
		// The signature first: nothing about the lane is told to anyone but its payer.
		if !verify_voucher(&self.genesis_hash, &signed.voucher, &signed.signature, &channel.payer) {
			return Err(Rejection::BadSignature);
		}
		let mut best = self.best.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let stored = match best.get(&channel_id) {
			Some(amount) => Some(*amount),
			None => self.best(channel_id).map(|s| s.voucher.cumulative_amount),
		};
		let floor = stored.filter(|amount| *amount > channel.lane_paid);
		if let Some(amount) = floor.filter(|amount| cumulative_amount <= *amount) {
			let proof = self.best(channel_id).map(|stored| stored.signature);
			return Err(Rejection::NotNewer { amount, proof });
		}
		if cumulative_amount <= channel.lane_paid {
			return Err(Rejection::NotNewer { amount: channel.lane_paid, proof: None });
		}
		let floor = floor.unwrap_or(channel.lane_paid);
		// What the chain would pay this lane for the voucher must still be in the deposit.
		let left = channel.deposit.saturating_sub(channel.paid);
		if cumulative_amount > channel.deposit || cumulative_amount - channel.lane_paid > left {
			return Err(Rejection::ExceedsDeposit(left));
		}
		if channel.lane_paid == 0 && channel.lanes_full {
			return Err(Rejection::LanesFull(channel_id));
		}
		if cumulative_amount - floor > most {
			return Err(Rejection::TooFarAhead { most });
		}
		self.store
			.set(&offchain_voucher_key(channel_id), &signed.encode())
			.map_err(|error| Rejection::Storage(error.to_string()))?;
		best.insert(channel_id, cumulative_amount);
		let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let list = self.loaded(&mut pending);
		if list.insert(channel_id) {
			self.store
				.set(OFFCHAIN_PENDING_KEY, &list.iter().copied().collect::<Vec<_>>().encode())
				.map_err(|error| Rejection::Storage(error.to_string()))?;
		}
		Ok(Accepted { total: cumulative_amount, increase: cumulative_amount - floor })
	}
}

/// The node's offchain persistent storage, where the payments pallet's offchain worker reads.
///
/// Alone it is not durable at once: the database queues a commit and flushes it from a
/// background thread, so a value it took can be lost if the process is killed right after.
/// [`VoucherJournal`] makes it so.
#[derive(Clone)]
pub struct OffchainVoucherStore<S>(pub S);

impl<S: sp_core::offchain::OffchainStorage> VoucherStore for OffchainVoucherStore<S> {
	fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
		self.0.get(sp_core::offchain::STORAGE_PREFIX, key)
	}

	fn set(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
		self.0.clone().set(sp_core::offchain::STORAGE_PREFIX, key, value);
		Ok(())
	}
}

/// A journal file that makes a store's writes durable before they return: each write is
/// appended and flushed to disk (`fdatasync`) after it is handed to the store. On start the
/// journal is replayed into the store (so what a killed node acknowledged is there for the
/// offchain worker) and rewritten with the latest value of each key; it is rewritten the same
/// way whenever it grows past [`VoucherJournal::COMPACT_BYTES`].
///
/// A record is `u32` key length, key, `u32` value length, value (lengths little endian); a torn
/// record at the end (a crash in the middle of a write) is ignored, as it was never
/// acknowledged.
pub struct VoucherJournal<S> {
	store: S,
	path: PathBuf,
	file: Mutex<JournalFile>,
}

/// The open journal: the file, its size, the size it had when last rewritten, and the keys in it.
struct JournalFile {
	file: File,
	size: u64,
	compacted: u64,
	keys: HashSet<Vec<u8>>,
}

impl<S: VoucherStore> VoucherJournal<S> {
	/// The size past which the journal is rewritten with only the latest value of each key
	/// (or twice the size it had after the last rewrite, if that is more).
	pub const COMPACT_BYTES: u64 = 8 * 1024 * 1024;

	/// Opens (or creates) the journal at `path` over `store`, replaying what it holds into the
	/// store first.
	pub fn open(path: &Path, store: S) -> io::Result<Self> {
		if let Some(dir) = path.parent() {
			std::fs::create_dir_all(dir)?;
		}
		let mut keys = HashSet::new();
		if let Ok(mut file) = File::open(path) {
			let mut bytes = Vec::new();
			file.read_to_end(&mut bytes)?;
			for (key, value) in records(&bytes) {
				store.set(key, value)?;
				keys.insert(key.to_vec());
			}
		}
		let (file, size) = rewrite(path, &store, &keys)?;
		let journal = JournalFile { file, size, compacted: size, keys };
		Ok(Self { store, path: path.to_path_buf(), file: Mutex::new(journal) })
	}
}

impl<S: VoucherStore> VoucherStore for VoucherJournal<S> {
	fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
		self.store.get(key)
	}

	fn set(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
		let mut journal = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let record = record(key, value);
		let written = journal.file.write_all(&record).and_then(|()| journal.file.sync_data());
		if let Err(error) = written {
			// A torn record would hide every later one from the replay: cut it off.
			let size = journal.size;
			let _ = journal.file.set_len(size);
			return Err(error);
		}
		journal.size += record.len() as u64;
		journal.keys.insert(key.to_vec());
		self.store.set(key, value)?;
		if journal.size > Self::COMPACT_BYTES.max(2 * journal.compacted) {
			let (fresh, size) = rewrite(&self.path, &self.store, &journal.keys)?;
			journal.file = fresh;
			journal.size = size;
			journal.compacted = size;
		}
		Ok(())
	}
}

fn record(key: &[u8], value: &[u8]) -> Vec<u8> {
	let mut record = Vec::with_capacity(8 + key.len() + value.len());
	record.extend_from_slice(&(key.len() as u32).to_le_bytes());
	record.extend_from_slice(key);
	record.extend_from_slice(&(value.len() as u32).to_le_bytes());
	record.extend_from_slice(value);
	record
}

/// The whole records in `bytes`, in order.
fn records(mut bytes: &[u8]) -> Vec<(&[u8], &[u8])> {
	fn field<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
		let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
		let field = bytes.get(4..4usize.checked_add(len)?)?;
		*bytes = &bytes[4 + len..];
		Some(field)
	}
	let mut out = Vec::new();
	while let (Some(key), Some(value)) = (field(&mut bytes), field(&mut bytes)) {
		out.push((key, value));
	}
	out
}

/// Writes the latest value of each of `keys` to a fresh journal beside `path`, flushes it and
/// puts it in place; returns it open for appending, and its size.
fn rewrite<S: VoucherStore>(path: &Path, store: &S, keys: &HashSet<Vec<u8>>) -> io::Result<(File, u64)> {
	let fresh = path.with_extension("new");
	let mut file = File::create(&fresh)?;
	let mut size = 0u64;
	for key in keys {
		if let Some(value) = store.get(key) {
			let record = record(key, &value);
			file.write_all(&record)?;
			size += record.len() as u64;
		}
	}
	file.sync_all()?;
	std::fs::rename(&fresh, path)?;
	if let Some(dir) = path.parent() {
		File::open(dir)?.sync_all()?;
	}
	let file = std::fs::OpenOptions::new().append(true).open(path)?;
	Ok((file, size))
}

/// A message on the `sutantra-pay` data channel, either way. JSON; amounts are decimal strings
/// (they do not fit a JavaScript number), lanes and signatures `0x`-prefixed hex.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PayMessage {
	/// Viewer to node: a voucher and the payer's signature (hex, 64 bytes).
	Voucher {
		/// The channel it draws on.
		channel_id: ChannelId,
		/// The lane: the node's account id, 32 bytes as hex (`GET /node` gives it).
		lane: String,
		/// The cumulative amount on the lane, in plancks.
		amount: String,
		/// The payer's sr25519 signature over the voucher payload, `0x`-prefixed hex.
		signature: String,
	},
	/// Node to viewer: the voucher was accepted; `accepted` is the lane's accepted total.
	Ack {
		/// The channel.
		channel_id: ChannelId,
		/// Everything accepted on the channel's lane of this node, in plancks.
		accepted: String,
	},
	/// Node to viewer: the voucher was refused, and why.
	Reject {
		/// The channel.
		channel_id: ChannelId,
		/// What was wrong and what to do.
		reason: String,
		/// When the voucher was not newer: the best amount accepted or settled on the lane, in
		/// plancks, which the next voucher must exceed.
		#[serde(default, skip_serializing_if = "Option::is_none")]
		accepted: Option<String>,
		/// With `accepted`, when the node holds the voucher for that amount: the payer's
		/// signature of it, so a client can check that it signed that amount before building
		/// on it. A client never builds on an amount it cannot prove.
		#[serde(default, skip_serializing_if = "Option::is_none")]
		signature: Option<String>,
	},
	/// Node to viewer: payment is falling behind; the viewer will be dropped if it does not
	/// catch up.
	Warning {
		/// What to do.
		reason: String,
	},
}

/// `0x`-prefixed hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// The bytes of `0x`-prefixed (or bare) hex of exactly `N` bytes.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
	hex::decode(text.trim_start_matches("0x")).ok()?.try_into().ok()
}

impl PayMessage {
	/// The voucher this message carries, if it is a well-formed voucher message.
	pub fn signed_voucher(&self) -> Option<NodeVoucher> {
		let PayMessage::Voucher { channel_id, lane, amount, signature } = self else {
			return None;
		};
		let cumulative_amount: Balance = amount.parse().ok()?;
		let lane = AccountId32::new(from_hex::<32>(lane)?);
		let raw = from_hex::<64>(signature)?;
		Some(SignedVoucher {
			voucher: Voucher { channel_id: *channel_id, lane, cumulative_amount },
			signature: VoucherSignature(sp_core::sr25519::Signature::from_raw(raw)),
		})
	}

	/// The refusal of a voucher on `channel_id`, with the floor to build on when it was not newer.
	pub fn reject(channel_id: ChannelId, rejection: &Rejection) -> Self {
		let (accepted, signature) = match rejection {
			Rejection::NotNewer { amount, proof } => {
				(Some(amount.to_string()), proof.map(|proof| to_hex(&proof.0 .0)))
			},
			_ => (None, None),
		};
		PayMessage::Reject { channel_id, reason: rejection.to_string(), accepted, signature }
	}

	/// A refusal that is not about a particular voucher's standing.
	pub fn refuse(channel_id: ChannelId, reason: impl Into<String>) -> Self {
		PayMessage::Reject { channel_id, reason: reason.into(), accepted: None, signature: None }
	}

	/// The voucher message for `signed`.
	pub fn voucher(signed: &NodeVoucher) -> Self {
		PayMessage::Voucher {
			channel_id: signed.voucher.channel_id,
			lane: to_hex(signed.voucher.lane.as_ref()),
			amount: signed.voucher.cumulative_amount.to_string(),
			signature: to_hex(&signed.signature.0 .0),
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
	/// No limit on how far ahead a voucher pays.
	const ANY: Balance = Balance::MAX;

	#[derive(Clone, Default)]
	struct Memory(Arc<Mutex<HashMap<Vec<u8>, Vec<u8>>>>);

	impl VoucherStore for Memory {
		fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
			self.0.lock().unwrap().get(key).cloned()
		}
		fn set(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
			self.0.lock().unwrap().insert(key.to_vec(), value.to_vec());
			Ok(())
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
			stream_id: Some(4),
			deposit: 1_000,
			paid: 100,
			lane_paid: 100,
			lanes_full: false,
			closing: false,
		}
	}

	fn viewing() -> Viewing {
		Viewing { viewer: id("Bob"), creator: id("Alice"), stream: Some(4), price: 1 }
	}

	fn on_lane(by: &str, lane: &str, amount: Balance) -> NodeVoucher {
		let voucher = Voucher { channel_id: 9, lane: id(lane), cumulative_amount: amount };
		SignedVoucher { signature: sign_voucher(&pair(by), &GENESIS, &voucher), voucher }
	}

	fn signed(by: &str, amount: Balance) -> NodeVoucher {
		on_lane(by, "Node", amount)
	}

	fn book(store: Memory) -> VoucherBook<Memory> {
		VoucherBook::new(&GENESIS, id("Node"), store)
	}

	#[test]
	fn newer_vouchers_are_accepted_and_kept_durably() {
		let store = Memory::default();
		let book = book(store.clone());
		let accept = |v: &NodeVoucher| book.accept(v, &channel(), &viewing(), ANY);
		assert_eq!(accept(&signed("Bob", 150)), Ok(Accepted { total: 150, increase: 50 }));
		assert_eq!(accept(&signed("Bob", 400)), Ok(Accepted { total: 400, increase: 250 }));
		assert_eq!(book.best(9).map(|s| s.voucher), Some(signed("Bob", 400).voucher));
		// What a restarted node finds: the store, read back with no memory of its own. The
		// refusal proves the floor with the payer's own signature of it.
		let restarted = VoucherBook::new(&GENESIS, id("Node"), store);
		let stored = restarted.best(9).unwrap().signature;
		assert_eq!(
			restarted.accept(&signed("Bob", 300), &channel(), &viewing(), ANY),
			Err(Rejection::NotNewer { amount: 400, proof: Some(stored) })
		);
		assert_eq!(
			restarted.accept(&signed("Bob", 500), &channel(), &viewing(), ANY),
			Ok(Accepted { total: 500, increase: 100 })
		);
	}

	#[test]
	fn channels_with_unpaid_vouchers_are_listed_for_the_offchain_worker_until_paid() {
		let store = Memory::default();
		let book = book(store.clone());
		let listed = |store: &Memory| {
			store
				.get(OFFCHAIN_PENDING_KEY)
				.map(|bytes| Vec::<ChannelId>::decode(&mut &bytes[..]).unwrap())
				.unwrap_or_default()
		};
		assert!(listed(&store).is_empty());
		book.accept(&signed("Bob", 400), &channel(), &viewing(), ANY).unwrap();
		assert_eq!(listed(&store), vec![9]);
		// The chain paid part of it: still listed. All of it: taken off, durably.
		book.settled(9, Some(300)).unwrap();
		assert_eq!(listed(&store), vec![9]);
		book.settled(9, Some(400)).unwrap();
		assert!(listed(&store).is_empty());
		assert!(book.pending().is_empty());
		// A newer voucher lists it again; the channel closing takes it off.
		let paid = ChannelState { lane_paid: 400, paid: 400, ..channel() };
		book.accept(&signed("Bob", 500), &paid, &viewing(), ANY).unwrap();
		let restarted = VoucherBook::new(&GENESIS, id("Node"), store.clone());
		assert_eq!(restarted.pending(), vec![9]);
		restarted.settled(9, None).unwrap();
		assert!(listed(&store).is_empty());
	}

	#[test]
	fn a_node_takes_vouchers_for_its_own_lane_only() {
		let book = book(Memory::default());
		// The same payer's voucher for another node: refused here, whatever it is worth.
		let elsewhere = on_lane("Bob", "Relay", 500);
		assert!(matches!(
			book.accept(&elsewhere, &channel(), &viewing(), ANY),
			Err(Rejection::WrongLane(_))
		));
		// A voucher for this lane with another lane's signature does not verify.
		let moved = NodeVoucher {
			voucher: Voucher { lane: id("Node"), ..elsewhere.voucher.clone() },
			signature: elsewhere.signature,
		};
		assert_eq!(book.accept(&moved, &channel(), &viewing(), ANY), Err(Rejection::BadSignature));
		assert_eq!(book.best(9), None);
	}

	#[test]
	fn a_voucher_far_ahead_of_what_is_owed_is_refused() {
		let book = book(Memory::default());
		assert_eq!(
			book.accept(&signed("Bob", 400), &channel(), &viewing(), 200),
			Err(Rejection::TooFarAhead { most: 200 })
		);
		assert!(book.accept(&signed("Bob", 300), &channel(), &viewing(), 200).is_ok());
		assert_eq!(book.best(9).map(|s| s.voucher.cumulative_amount), Some(300));
	}

	#[test]
	fn a_channel_for_one_stream_does_not_pay_for_another() {
		let book = book(Memory::default());
		let other_stream = Viewing { stream: Some(5), ..viewing() };
		assert_eq!(
			book.accept(&signed("Bob", 150), &channel(), &other_stream, ANY),
			Err(Rejection::WrongStream { channel: 9, paid_for: 4 })
		);
		let any_stream = ChannelState { stream_id: None, ..channel() };
		assert!(book.accept(&signed("Bob", 150), &any_stream, &other_stream, ANY).is_ok());
	}

	#[test]
	fn a_refusal_carries_the_floor_and_its_proof_only_when_the_voucher_was_not_newer() {
		let proof = signed("Bob", 400).signature;
		let stale = PayMessage::reject(9, &Rejection::NotNewer { amount: 400, proof: Some(proof) });
		let json = serde_json::to_string(&stale).unwrap();
		assert!(json.contains(r#","accepted":"400","signature":"0x"#), "{json}");
		assert_eq!(serde_json::from_str::<PayMessage>(&json).unwrap(), stale);
		let forged =
			serde_json::to_string(&PayMessage::reject(9, &Rejection::BadSignature)).unwrap();
		assert!(!forged.contains(r#""accepted""#) && !forged.contains(r#""signature""#), "{forged}");
		let plain = r#"{"type":"reject","channel_id":9,"reason":"x"}"#;
		assert_eq!(serde_json::from_str::<PayMessage>(plain).unwrap(), PayMessage::refuse(9, "x"));
	}

	#[test]
	fn voucher_messages_round_trip_as_json() {
		let signed = signed("Bob", 150);
		let json = serde_json::to_string(&PayMessage::voucher(&signed)).unwrap();
		assert!(json.starts_with(r#"{"type":"voucher","channel_id":9,"lane":"0x"#), "{json}");
		let back: PayMessage = serde_json::from_str(&json).unwrap();
		assert_eq!(back.signed_voucher(), Some(signed));
		for bad in [
			r#"{"type":"voucher","channel_id":9,"lane":"0x00","amount":"1","signature":"0x00"}"#,
			r#"{"type":"voucher","channel_id":9,"lane":"zz","amount":"x","signature":"0x00"}"#,
		] {
			assert_eq!(serde_json::from_str::<PayMessage>(bad).unwrap().signed_voucher(), None);
		}
		// v1 messages (with a nonce, without a lane) are not vouchers any more.
		let v1 = r#"{"type":"voucher","channel_id":9,"amount":"1","nonce":2,"signature":"0x00"}"#;
		assert!(serde_json::from_str::<PayMessage>(v1).is_err());
	}

	#[test]
	fn what_the_chain_settled_on_the_lane_is_the_floor() {
		let book = book(Memory::default());
		assert_eq!(
			book.accept(&signed("Bob", 100), &channel(), &viewing(), ANY),
			Err(Rejection::NotNewer { amount: 100, proof: None })
		);
	}

	#[test]
	fn a_lane_is_never_promised_more_than_the_deposit_has_left() {
		let book = book(Memory::default());
		// Other lanes were paid 600 of the 1,000: this lane (paid 100) can take 300 more.
		let busy = ChannelState { paid: 700, ..channel() };
		assert_eq!(
			book.accept(&signed("Bob", 401), &busy, &viewing(), ANY),
			Err(Rejection::ExceedsDeposit(300))
		);
		assert!(book.accept(&signed("Bob", 400), &busy, &viewing(), ANY).is_ok());
		// A channel whose lanes are all taken by other nodes has no room for this one.
		let full = ChannelState { lane_paid: 0, lanes_full: true, ..channel() };
		assert_eq!(
			VoucherBook::new(&GENESIS, id("Node"), Memory::default()).accept(
				&signed("Bob", 150),
				&full,
				&viewing(),
				ANY
			),
			Err(Rejection::LanesFull(9))
		);
	}

	#[test]
	fn bad_vouchers_are_refused_and_not_stored() {
		let book = book(Memory::default());
		let ok = channel();
		assert_eq!(book.accept(&signed("Charlie", 150), &ok, &viewing(), ANY), Err(Rejection::BadSignature));
		assert_eq!(
			book.accept(&signed("Bob", 1_001), &ok, &viewing(), ANY),
			Err(Rejection::ExceedsDeposit(900))
		);
		let not_creator = Viewing { creator: id("Charlie"), ..viewing() };
		assert_eq!(
			book.accept(&signed("Bob", 150), &ok, &not_creator, ANY),
			Err(Rejection::WrongPayee(9))
		);
		let not_payer = Viewing { viewer: id("Charlie"), ..viewing() };
		assert_eq!(book.accept(&signed("Bob", 150), &ok, &not_payer, ANY), Err(Rejection::WrongPayer(9)));
		let closing = ChannelState { closing: true, ..channel() };
		assert_eq!(book.accept(&signed("Bob", 150), &closing, &viewing(), ANY), Err(Rejection::Closing(9)));
		assert_eq!(book.best(9), None);
	}

	#[test]
	fn the_journal_replays_what_the_store_lost_and_ignores_a_torn_record() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("vouchers.journal");
		let journal = VoucherJournal::open(&path, Memory::default()).unwrap();
		journal.set(b"a", b"1").unwrap();
		journal.set(b"b", b"2").unwrap();
		journal.set(b"a", b"3").unwrap();
		drop(journal);
		// A crash in the middle of the next write leaves part of a record.
		let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
		file.write_all(&record(b"c", b"4")[..6]).unwrap();
		drop(file);
		// The store behind it lost everything (its writes were still queued).
		let store = Memory::default();
		let journal = VoucherJournal::open(&path, store.clone()).unwrap();
		assert_eq!(store.get(b"a"), Some(b"3".to_vec()));
		assert_eq!(store.get(b"b"), Some(b"2".to_vec()));
		assert_eq!(store.get(b"c"), None);
		// Compacted: one record per key.
		assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 * (8 + 1 + 1));
		journal.set(b"c", b"5").unwrap();
		drop(journal);
		let again = Memory::default();
		VoucherJournal::open(&path, again.clone()).unwrap();
		assert_eq!(again.get(b"c"), Some(b"5".to_vec()));
	}
}
