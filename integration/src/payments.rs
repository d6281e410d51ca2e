//! The node's payment desk: every voucher a viewer sends, on its data channel or with
//! `POST /pay`, is checked here against the chain, kept by the [`VoucherBook`], counted in the
//! [`Ledger`] and answered.

use std::sync::Arc;

use async_trait::async_trait;
use pallet_payments_runtime_api::PaymentsApi;
use pallet_streams_runtime_api::StreamsApi;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sutantra_runtime::{apis::StreamInfo, opaque::Block, AccountId, Balance, BlockNumber};

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

/// Checks vouchers against the chain at the best block and answers them.
pub struct PaymentDesk<C, V, L> {
	client: Arc<C>,
	book: VoucherBook<V>,
	ledger: Arc<Ledger<L>>,
	metrics: Option<crate::metrics::Metrics>,
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
		Self { client, book, ledger, metrics }
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
		let api = self.client.runtime_api();
		let (channel, lane_paid) = match (
			api.channel(best, channel_id),
			api.lane_paid(best, channel_id, self.book.lane().clone()),
		) {
			(Ok(Some(channel)), Ok(lane_paid)) => (channel, lane_paid),
			(Ok(None), _) => return (self.refused(channel_id, Rejection::UnknownChannel(channel_id)), None),
			(Err(error), _) | (_, Err(error)) => {
				log::warn!(target: LOG_TARGET, "reading channel {channel_id}: {error}");
				let reason = "the node could not read the channel from the chain; send it again";
				return (PayMessage::refuse(channel_id, reason), None);
			},
		};
		let state = ChannelState {
			payer: channel.payer.clone(),
			payee: channel.payee.clone(),
			stream_id: channel.stream_id,
			deposit: channel.deposit,
			paid: channel.paid,
			lane_paid,
			lanes_full: channel.lanes >= max_lanes(),
			closing: channel.closes_at.is_some(),
		};
		let viewing = viewing.cloned().unwrap_or_else(|| Viewing {
			viewer: channel.payer.clone(),
			creator: channel.payee.clone(),
			stream: None,
			// Over HTTP, a channel for one stream may pay ahead at that stream's price; one for
			// any stream only pays what is owed.
			price: channel
				.stream_id
				.and_then(|id| api.stream(best, id).ok().flatten())
				.map_or(0, |info| info.price_per_second),
		});
		let standing = self.ledger.standing(&channel.payer, &channel.payee);
		let ahead = viewing.price.saturating_mul(PREPAY_SECS.into());
		let most = standing.owed.saturating_add(ahead).saturating_sub(standing.paid);
		match self.book.accept(&signed, &state, &viewing, most) {
			Ok(accepted) => {
				if let Some(metrics) = &self.metrics {
					metrics.vouchers_accepted.inc();
					metrics.amount_accepted.inc_by(accepted.increase as f64);
				}
				self.ledger.record(&channel.payer, &channel.payee, 0, accepted.increase);
				let payment = Payment {
					payer: channel.payer,
					payee: channel.payee,
					increase: accepted.increase,
				};
				let ack = PayMessage::Ack { channel_id, accepted: accepted.total.to_string() };
				(ack, Some(payment))
			},
			Err(rejection) => (self.refused(channel_id, rejection), None),
		}
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
