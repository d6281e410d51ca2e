//! The bridge's figures on the node's Prometheus registry.

use substrate_prometheus_endpoint::{
	register, Counter, CounterVec, Gauge, Opts, PrometheusError, Registry, F64, U64,
};

/// What the node reports about streaming and payments in flight.
#[derive(Clone)]
pub struct Metrics {
	/// Streams live on this node.
	pub live_streams: Gauge<U64>,
	/// Viewers connected to this node.
	pub viewers: Gauge<U64>,
	/// Media payload bytes sent to viewers.
	pub bytes_sent: Counter<U64>,
	/// Vouchers accepted.
	pub vouchers_accepted: Counter<U64>,
	/// Vouchers refused, by reason.
	pub vouchers_rejected: CounterVec<U64>,
	/// The amount the accepted vouchers added, in plancks.
	pub amount_accepted: Counter<F64>,
	/// Voucher claims that landed on chain (`Payments::Claimed` in imported best blocks).
	pub claims: Counter<U64>,
	/// Voucher claims submitted to this node's transaction pool (by its offchain worker, or by
	/// anyone over RPC or the network).
	pub claims_submitted: Counter<U64>,
}

impl Metrics {
	/// Registers the metrics.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		Ok(Self {
			live_streams: register(
				Gauge::new("sutantra_streaming_live_streams", "Streams live on this node")?,
				registry,
			)?,
			viewers: register(
				Gauge::new("sutantra_streaming_viewers", "Viewers connected to this node")?,
				registry,
			)?,
			bytes_sent: register(
				Counter::new(
					"sutantra_streaming_bytes_sent_total",
					"Media payload bytes sent to viewers",
				)?,
				registry,
			)?,
			vouchers_accepted: register(
				Counter::new("sutantra_vouchers_accepted_total", "Vouchers accepted")?,
				registry,
			)?,
			vouchers_rejected: register(
				CounterVec::new(
					Opts::new("sutantra_vouchers_rejected_total", "Vouchers refused, by reason"),
					&["reason"],
				)?,
				registry,
			)?,
			amount_accepted: register(
				Counter::new(
					"sutantra_vouchers_amount_accepted_total",
					"What accepted vouchers added, in plancks",
				)?,
				registry,
			)?,
			claims: register(
				Counter::new(
					"sutantra_payments_claims_total",
					"Voucher claims settled on chain (Payments::Claimed in best blocks)",
				)?,
				registry,
			)?,
			claims_submitted: register(
				Counter::new(
					"sutantra_payments_claims_submitted_total",
					"Voucher claims submitted to this node's transaction pool",
				)?,
				registry,
			)?,
		})
	}
}

/// Counts the `Payments::claim` transactions the node's pool takes in, for ever.
pub async fn count_submitted_claims<P>(pool: std::sync::Arc<P>, counter: Counter<U64>)
where
	P: sc_transaction_pool_api::TransactionPool<Block = sutantra_runtime::opaque::Block>,
{
	use codec::{Decode, Encode};
	use futures::StreamExt;
	use sc_transaction_pool_api::InPoolTransaction;

	let mut imported = pool.import_notification_stream();
	while let Some(hash) = imported.next().await {
		let Some(transaction) = pool.ready_transaction(&hash) else { continue };
		let bytes = transaction.data().encode();
		let Ok(extrinsic) = sutantra_runtime::UncheckedExtrinsic::decode(&mut &bytes[..]) else {
			continue;
		};
		if is_claim(&extrinsic.function) {
			counter.inc();
		}
	}
}

/// Whether a call settles a voucher.
pub fn is_claim(call: &sutantra_runtime::RuntimeCall) -> bool {
	matches!(
		call,
		sutantra_runtime::RuntimeCall::Payments(
			pallet_payments::Call::claim { .. } | pallet_payments::Call::settle_and_close { .. }
		)
	)
}
