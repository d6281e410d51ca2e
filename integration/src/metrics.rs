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
		})
	}
}
