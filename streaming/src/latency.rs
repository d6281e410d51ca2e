//! A lock-free latency histogram: the engine records how long each forwarded packet spent
//! inside it, the benchmark and the node's metrics read percentiles.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Buckets per doubling: 4 gives percentiles within ±10 %.
const STEPS_PER_DOUBLING: f64 = 4.0;
const BUCKETS: usize = 128;

/// Durations from 1 µs to hours in logarithmic buckets.
pub struct LatencyHistogram {
	buckets: [AtomicU64; BUCKETS],
}

impl Default for LatencyHistogram {
	fn default() -> Self {
		Self { buckets: std::array::from_fn(|_| AtomicU64::new(0)) }
	}
}

/// Percentiles of what a histogram recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
	/// How many durations were recorded.
	pub count: u64,
	/// Median, in microseconds.
	pub p50_us: f64,
	/// 99th percentile, in microseconds.
	pub p99_us: f64,
}

impl LatencyHistogram {
	/// Records one duration.
	pub fn record(&self, duration: Duration) {
		let micros = duration.as_micros().min(u64::MAX as u128) as f64;
		let index = ((micros + 1.0).log2() * STEPS_PER_DOUBLING) as usize;
		self.buckets[index.min(BUCKETS - 1)].fetch_add(1, Ordering::Relaxed);
	}

	/// The median and 99th percentile so far (each the upper edge of its bucket).
	pub fn summary(&self) -> LatencySummary {
		let counts: Vec<u64> =
			self.buckets.iter().map(|bucket| bucket.load(Ordering::Relaxed)).collect();
		let count: u64 = counts.iter().sum();
		let quantile = |q: f64| {
			let rank = (q * count as f64).ceil().max(1.0) as u64;
			let mut seen = 0;
			for (index, bucket) in counts.iter().enumerate() {
				seen += bucket;
				if seen >= rank {
					return 2f64.powf((index + 1) as f64 / STEPS_PER_DOUBLING) - 1.0;
				}
			}
			0.0
		};
		if count == 0 {
			return LatencySummary::default();
		}
		LatencySummary { count, p50_us: quantile(0.5), p99_us: quantile(0.99) }
	}

	/// Forgets everything recorded.
	pub fn reset(&self) {
		for bucket in &self.buckets {
			bucket.store(0, Ordering::Relaxed);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn percentiles_are_within_a_bucket() {
		let histogram = LatencyHistogram::default();
		assert_eq!(histogram.summary(), LatencySummary::default());
		for _ in 0..98 {
			histogram.record(Duration::from_micros(100));
		}
		histogram.record(Duration::from_millis(10));
		histogram.record(Duration::from_millis(10));
		let summary = histogram.summary();
		assert_eq!(summary.count, 100);
		assert!((90.0..=120.0).contains(&summary.p50_us), "{summary:?}");
		assert!((9_000.0..=12_000.0).contains(&summary.p99_us), "{summary:?}");
		histogram.reset();
		assert_eq!(histogram.summary().count, 0);
	}
}
