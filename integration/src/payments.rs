//! The node's payment desk: every voucher a viewer sends, on its data channel or with
//! `POST /pay`, is checked here against the chain, kept by the [`VoucherBook`], counted in the
//! [`Ledger`] and answered.

use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};

use async_trait::async_trait;
use pallet_payments_runtime_api::PaymentsApi;
use pallet_streams_runtime_api::StreamsApi;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sutantra_runtime::{apis::StreamInfo, opaque::Block, AccountId, Balance, BlockNumber, Hash};

use crate::{
	bridge::PREPAY_SECS,
	ledger::Ledger,
	vouchers::{ChannelState, PayMessage, Rejection, Viewing, VoucherBook, VoucherStore},
	LOG_TARGET,
};

/// The most lanes a channel may have (the runtime's `MaxLanesPerChannel`).
fn max_lanes() -> u32 {
	use sp_runtime::traits::Get;
	<<sutantra_runtime::Runtime as pallet_payments::Config>::MaxLanesPerChannel as Get<u32>>::get()
}

/// A voucher accepted at the desk: who paid whom, and how much it added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
	/// The payer.
	pub payer: AccountId,
	/// The payee (the creator).
	pub payee: AccountId,
	/// What the voucher added to the lane.
	pub increase: Balance,
}

/// How many channels the desk remembers reading at the best block (see [`ChainReads`]).
pub const CHANNELS_READ_PER_BLOCK: usize = 16_384;

/// The channels the desk read from the chain at one block. A block's state never changes, so
/// what was read at the best block is exact until the best block moves, when all of it is
/// forgotten: a viewer paying every 2 s on a chain with 6 s blocks costs one read of the
/// runtime in three vouchers instead of one in each. Unknown channels are remembered too, so
/// vouchers for made-up channel ids cost a read each only once per block; past `capacity`
/// entries in one block, the reads start over.
struct ChainReads {
	block: Option<Hash>,
	channels: HashMap<u64, Option<ChannelState>>,
	capacity: usize,
}

impl ChainReads {
	fn get(&mut self, block: Hash, channel_id: u64) -> Option<Option<ChannelState>> {
		if self.block != Some(block) {
			self.block = Some(block);
			self.channels.clear();
		}
		self.channels.get(&channel_id).cloned()
	}

	fn keep(&mut self, block: Hash, channel_id: u64, state: Option<ChannelState>) {
		if self.block != Some(block) || self.capacity == 0 {
			return;
		}
		if self.channels.len() >= self.capacity {
			self.channels.clear();
		}
		self.channels.insert(channel_id, state);
	}
}

/// Checks vouchers against the chain at the best block and answers them.
pub struct PaymentDesk<C, V, L> {
	client: Arc<C>,
	book: VoucherBook<V>,
	ledger: Arc<Ledger<L>>,
	metrics: Option<crate::metrics::Metrics>,
	reads: Mutex<ChainReads>,
}

impl<C, V, L> PaymentDesk<C, V, L>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: PaymentsApi<Block, AccountId, Balance, BlockNumber, pallet_payments::VoucherSignature>
		+ StreamsApi<Block, AccountId, StreamInfo, BlockNumber>,
	V: VoucherStore,
	L: VoucherStore,
{
	/// A desk over `client`'s chain, keeping vouchers in `book` and standings in `ledger`.
	pub fn new(
		client: Arc<C>,
		book: VoucherBook<V>,
		ledger: Arc<Ledger<L>>,
		metrics: Option<crate::metrics::Metrics>,
	) -> Self {
		let reads =
			ChainReads { block: None, channels: HashMap::new(), capacity: CHANNELS_READ_PER_BLOCK };
		Self { client, book, ledger, metrics, reads: Mutex::new(reads) }
	}

	/// Remembers at most `capacity` channels read at the best block; `0` reads the chain for
	/// every voucher (the benchmark's figure for a voucher in a block of its own).
	pub fn with_channels_read_per_block(self, capacity: usize) -> Self {
		self.reads.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).capacity = capacity;
		self
	}

	/// The book the desk keeps vouchers in.
	pub fn book(&self) -> &VoucherBook<V> {
		&self.book
	}

	/// The ledger the desk counts payments in.
	pub fn ledger(&self) -> &Arc<Ledger<L>> {
		&self.ledger
	}

	/// Takes a payment message. `viewing` is the session it came from (a data channel), or
	/// `None` for a voucher sent over HTTP, which must then only be the channel payer's own.
	/// Returns the answer for the payer, and the payment when a voucher was accepted.
	pub fn take(&self, message: &[u8], viewing: Option<&Viewing>) -> (PayMessage, Option<Payment>) {
		let message = serde_json::from_slice::<PayMessage>(message).ok();
		let Some(signed) = message.as_ref().and_then(PayMessage::signed_voucher) else {
			return (PayMessage::refuse(0, "not a voucher message (see docs/payments.md)"), None);
		};
		let channel_id = signed.voucher.channel_id;
		let best = self.client.info().best_hash;
		let state = match self.channel_at(best, channel_id) {
			Ok(Some(state)) => state,
			Ok(None) => {
				return (self.refused(channel_id, Rejection::UnknownChannel(channel_id)), None)
			},
			Err(error) => {
				log::warn!(target: LOG_TARGET, "reading channel {channel_id}: {error}");
				let reason = "the node could not read the channel from the chain; send it again";
				return (PayMessage::refuse(channel_id, reason), None);
			},
		};
		let viewing = viewing.cloned().unwrap_or_else(|| Viewing {
			viewer: state.payer.clone(),
			creator: state.payee.clone(),
			stream: None,
			// Over HTTP, a channel for one stream may pay ahead at that stream's price; one for
			// any stream only pays what is owed.
			price: state
				.stream_id
				.and_then(|id| self.client.runtime_api().stream(best, id).ok().flatten())
				.map_or(0, |info| info.price_per_second),
		});
		let standing = self.ledger.standing(&state.payer, &state.payee);
		let ahead = viewing.price.saturating_mul(PREPAY_SECS.into());
		let most = standing.owed.saturating_add(ahead).saturating_sub(standing.paid);
		match self.book.accept(&signed, &state, &viewing, most) {
			Ok(accepted) => {
				if let Some(metrics) = &self.metrics {
					metrics.vouchers_accepted.inc();
					metrics.amount_accepted.inc_by(accepted.increase as f64);
				}
				self.ledger.record(&state.payer, &state.payee, 0, accepted.increase);
				let payment = Payment {
					payer: state.payer.clone(),
					payee: state.payee.clone(),
					increase: accepted.increase,
				};
				let ack = PayMessage::Ack { channel_id, accepted: accepted.total.to_string() };
				(ack, Some(payment))
			},
			Err(rejection) => (self.refused(channel_id, rejection), None),
		}
	}

	/// Channel `channel_id` with this node's lane's settled amount, as the chain has it at
	/// `block`: remembered for the block, or read from the runtime.
	fn channel_at(
		&self,
		block: Hash,
		channel_id: u64,
	) -> Result<Option<ChannelState>, sp_api::ApiError> {
		let lock = || self.reads.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if let Some(known) = lock().get(block, channel_id) {
			return Ok(known);
		}
		let api = self.client.runtime_api();
		let state = match api.channel(block, channel_id)? {
			None => None,
			Some(channel) => Some(ChannelState {
				lane_paid: api.lane_paid(block, channel_id, self.book.lane().clone())?,
				lanes_full: channel.lanes >= max_lanes(),
				closing: channel.closes_at.is_some(),
				payer: channel.payer,
				payee: channel.payee,
				stream_id: channel.stream_id,
				deposit: channel.deposit,
				paid: channel.paid,
			}),
		};
		lock().keep(block, channel_id, state.clone());
		Ok(state)
	}

	fn refused(&self, channel_id: u64, rejection: Rejection) -> PayMessage {
		if let Some(metrics) = &self.metrics {
			metrics.vouchers_rejected.with_label_values(&[rejection.label()]).inc();
		}
		PayMessage::reject(channel_id, &rejection)
	}
}

/// The desk as the engine's `POST /pay` endpoint sees it: each payment is taken off the async
/// executor (it asks the runtime and waits for the journal's fsync).
pub struct HttpDesk<C, V, L>(pub Arc<PaymentDesk<C, V, L>>);

#[async_trait]
impl<C, V, L> sutantra_streaming::PaymentDesk for HttpDesk<C, V, L>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: PaymentsApi<Block, AccountId, Balance, BlockNumber, pallet_payments::VoucherSignature>
		+ StreamsApi<Block, AccountId, StreamInfo, BlockNumber>,
	V: VoucherStore + 'static,
	L: VoucherStore + 'static,
{
	async fn pay(&self, message: &[u8]) -> Vec<u8> {
		let (desk, message) = (self.0.clone(), message.to_vec());
		let answer = crate::off_executor(move || desk.take(&message, None).0)
			.await
			.unwrap_or_else(|reason| PayMessage::refuse(0, &reason));
		serde_json::to_vec(&answer).unwrap_or_default()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn state(paid: Balance) -> Option<ChannelState> {
		Some(ChannelState {
			payer: AccountId::new([1; 32]),
			payee: AccountId::new([2; 32]),
			stream_id: None,
			deposit: 1_000,
			paid,
			lane_paid: paid,
			lanes_full: false,
			closing: false,
		})
	}

	fn reads(capacity: usize) -> ChainReads {
		ChainReads { block: None, channels: HashMap::new(), capacity }
	}

	#[test]
	fn a_channel_read_at_one_block_is_never_served_at_another() {
		let (first, second) = (Hash::repeat_byte(1), Hash::repeat_byte(2));
		let mut reads = reads(CHANNELS_READ_PER_BLOCK);
		assert_eq!(reads.get(first, 7), None, "nothing is known before a read");
		reads.keep(first, 7, state(100));
		reads.keep(first, 8, None);
		assert_eq!(reads.get(first, 7), Some(state(100)));
		assert_eq!(reads.get(first, 8), Some(None), "an unknown channel is remembered as unknown");
		// The best block moves (a new block, or a reorg back to an older one): everything read
		// before is forgotten, even when the channel did not change.
		assert_eq!(reads.get(second, 7), None);
		assert_eq!(reads.get(second, 8), None);
		reads.keep(second, 7, state(300));
		assert_eq!(reads.get(first, 7), None, "a read at the new block is not served at the old one");
		// A read that finished after the best block moved is not kept for the new block.
		reads.keep(second, 9, state(5));
		assert_eq!(reads.get(second, 9), None);
	}

	#[test]
	fn the_reads_of_one_block_are_bounded() {
		let block = Hash::repeat_byte(3);
		let mut none = reads(0);
		assert_eq!(none.get(block, 1), None);
		none.keep(block, 1, state(1));
		assert_eq!(none.get(block, 1), None, "capacity 0 reads the chain for every voucher");

		let mut few = reads(2);
		assert_eq!(few.get(block, 1), None);
		few.keep(block, 1, state(1));
		few.keep(block, 2, state(2));
		few.keep(block, 3, state(3));
		assert!(few.channels.len() <= 2, "made-up channel ids cannot grow the reads past capacity");
		assert_eq!(few.get(block, 3), Some(state(3)));
	}
}
