//! The bridge's figures on the node's Prometheus registry.

use substrate_prometheus_endpoint::{
	register, Counter, CounterVec, Gauge, HistogramOpts, HistogramVec, Opts, PrometheusError,
	Registry, F64, U64,
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
	/// Viewers' delivery quality per stream, sampled once a second from each viewer's latest
	/// receiver reports.
	pub quality: QualityMetrics,
}

/// Histograms of what viewers' receiver reports say, labelled by stream; each reporting viewer
/// adds one sample per metric each second.
#[derive(Clone)]
pub struct QualityMetrics {
	/// Round trip to the viewer, seconds.
	pub rtt: HistogramVec,
	/// Fraction of packets lost over the viewer's latest report.
	pub loss: HistogramVec,
	/// Interarrival jitter, seconds.
	pub jitter: HistogramVec,
	/// Media payload bitrate delivered (sent, less what the viewer reports lost), bits/s.
	pub delivered: HistogramVec,
}

impl QualityMetrics {
	fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
			register(
				HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), &["stream"])?,
				registry,
			)
		};
		Ok(Self {
			rtt: histogram(
				"sutantra_streaming_viewer_rtt_seconds",
				"Round trip to each viewer, from its receiver reports, sampled each second",
				vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2],
			)?,
			loss: histogram(
				"sutantra_streaming_viewer_loss_ratio",
				"Fraction of packets each viewer reports lost, sampled each second",
				vec![0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0],
			)?,
			jitter: histogram(
				"sutantra_streaming_viewer_jitter_seconds",
				"Interarrival jitter each viewer reports, sampled each second",
				vec![0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 1.0],
			)?,
			delivered: histogram(
				"sutantra_streaming_viewer_delivered_bits_per_second",
				"Media payload bitrate delivered to each viewer (sent, less reported loss), sampled each second",
				vec![1e5, 2.5e5, 5e5, 1e6, 1.5e6, 2.5e6, 4e6, 6e6, 1e7, 2e7],
			)?,
		})
	}

	/// Adds one sample per reporting viewer of `stream`.
	pub fn observe(&self, stream: &str, receptions: &[sutantra_streaming::Reception]) {
		let labels = [stream];
		for reception in receptions {
			if let Some(rtt) = reception.rtt_ms {
				self.rtt.with_label_values(&labels).observe(rtt / 1000.0);
			}
			self.loss.with_label_values(&labels).observe(reception.fraction_lost);
			self.jitter.with_label_values(&labels).observe(reception.jitter_ms / 1000.0);
			if let Some(bps) = reception.delivered_bps {
				self.delivered.with_label_values(&labels).observe(bps);
			}
		}
	}

	/// Forgets a stream that ended (its series would otherwise be kept for ever).
	pub fn forget(&self, stream: &str) {
		for histogram in [&self.rtt, &self.loss, &self.jitter, &self.delivered] {
			let _ = histogram.remove_label_values(&[stream]);
		}
	}
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
			quality: QualityMetrics::register(registry)?,
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

#[cfg(test)]
mod tests {
	use std::collections::HashSet;

	use substrate_prometheus_endpoint::prometheus::proto::MetricType;
	use sutantra_streaming::Reception;

	use super::*;

	/// The operators' dashboard in `docs/grafana/` queries only what the node exports.
	#[test]
	fn the_grafana_dashboard_queries_only_metrics_the_node_exports() {
		let registry = Registry::new();
		let metrics = Metrics::register(&registry).unwrap();
		// Labelled series appear once they have a value.
		metrics.vouchers_rejected.with_label_values(&["stale"]).inc();
		let reception =
			Reception { rtt_ms: Some(20.0), delivered_bps: Some(1e6), ..Default::default() };
		metrics.quality.observe("7", &[reception]);
		let mut exported = HashSet::new();
		for family in registry.gather() {
			let name = family.get_name().to_owned();
			if family.get_field_type() == MetricType::HISTOGRAM {
				for suffix in ["_bucket", "_sum", "_count"] {
					exported.insert(format!("{name}{suffix}"));
				}
			} else {
				exported.insert(name);
			}
		}
		let dashboard = include_str!("../../docs/grafana/sutantra-streaming.json");
		let queried: HashSet<&str> = dashboard
			.match_indices("sutantra_")
			.map(|(at, _)| {
				let rest = &dashboard[at..];
				let end = rest
					.find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
					.unwrap_or(rest.len());
				&rest[..end]
			})
			.collect();
		assert!(queried.len() >= 10, "{queried:?}");
		for name in &queried {
			assert!(
				exported.contains(*name),
				"the dashboard queries {name}, which the node does not export"
			);
		}
		// Forgetting an ended stream drops its series.
		metrics.quality.forget("7");
		assert!(registry.gather().iter().all(|family| !family.get_name().contains("viewer_rtt")));
	}
}
