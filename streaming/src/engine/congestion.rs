//! A viewer's bandwidth estimate from its transport-wide congestion control feedback (TWCC).
//!
//! Every packet the node sends a viewer carries a transport-wide sequence number; the viewer
//! reports when each one arrived, and webrtc-rs' congestion control interceptor joins each report
//! with the packet's departure ([`PacketReport`]). [`DelayTrend`] reads those reports the way
//! GCC's trendline filter does: a link that carries less than it is sent queues the rest, so the
//! one-way delay grows while it is overloaded. A growing delay, or one that stays far above the
//! lowest seen (a full queue in front of the link, which grows no more but drops what does not
//! fit), lowers the estimate to a little under what actually arrived; otherwise it grows. Loss
//! is also left to the receiver reports (see `simulcast.rs`): a queue grows before it
//! overflows, so the delay speaks first.
//!
//! webrtc-rs' own GCC did not do here: on a 600 kbit/s link sent 1.2 Mbit/s, with the reported
//! delay growing by about 60 ms every 100 ms, only its loss half ever lowered its estimate (see
//! `docs/decisions.md`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rtc::interceptor::{BandwidthEstimator, PacketReport};

/// Packets the trend is drawn through (about a second of 300 kbit/s video; a third of a second
/// at 1.4 Mbit/s).
const TREND_PACKETS: usize = 40;
/// The trend needs this much time between its first and last packet to mean anything.
const TREND_SPAN: Duration = Duration::from_millis(100);
/// A delay growing faster than this, in milliseconds per second, is a queue building up (5 %
/// more sent than the link carries).
const OVERUSE_MS_PER_S: f64 = 50.0;
/// Delay this far above the lowest seen is a standing queue: the link is full.
const QUEUED_MS: f64 = 150.0;
/// The delay the standing-queue test reads: the mean of this many latest packets'.
const RECENT_PACKETS: usize = 5;
/// What arrived over this long is the received rate (short, so that it is what arrives since
/// the link filled up rather than before).
const RECEIVED_WINDOW: Duration = Duration::from_millis(250);
/// On overuse the estimate is this much of what arrived (GCC's factor).
const DECREASE: f64 = 0.85;
/// After lowering the estimate, the reports wait this long before lowering it again (what was
/// queued before the viewer's layer changed still drains).
const DECREASE_HOLD: Duration = Duration::from_millis(500);
/// Without overuse the estimate grows by this factor a second (GCC's).
const INCREASE_PER_S: f64 = 1.08;

/// The delay-based estimate: see the module documentation.
pub(crate) struct DelayTrend {
	target: f64,
	min: f64,
	max: f64,
	/// The first arrived packet's departure and arrival: delays are relative to its.
	origin: Option<(Instant, Duration)>,
	/// The latest packets' departure (seconds after the origin's) and relative delay (ms).
	trend: VecDeque<(f64, f64)>,
	/// The lowest relative delay seen (ms): the path with no queue.
	floor: f64,
	/// The latest packets' arrival and size, for the received rate.
	arrivals: VecDeque<(Duration, usize)>,
	decreased_at: Option<Instant>,
	updated_at: Option<Instant>,
}

impl DelayTrend {
	pub(crate) fn new(initial: f64, min: f64, max: f64) -> Self {
		Self {
			target: initial.clamp(min, max),
			min,
			max,
			origin: None,
			trend: VecDeque::with_capacity(TREND_PACKETS),
			floor: f64::MAX,
			arrivals: VecDeque::new(),
			decreased_at: None,
			updated_at: None,
		}
	}

	/// The slope of the relative delay over departure time, in ms per second, once the trend
	/// spans enough.
	fn slope(&self) -> Option<f64> {
		let (first, last) = (self.trend.front()?, self.trend.back()?);
		if self.trend.len() < 3 || last.0 - first.0 < TREND_SPAN.as_secs_f64() {
			return None;
		}
		let n = self.trend.len() as f64;
		let mean_x = self.trend.iter().map(|(x, _)| x).sum::<f64>() / n;
		let mean_y = self.trend.iter().map(|(_, y)| y).sum::<f64>() / n;
		let (mut covariance, mut variance) = (0.0, 0.0);
		for (x, y) in &self.trend {
			covariance += (x - mean_x) * (y - mean_y);
			variance += (x - mean_x) * (x - mean_x);
		}
		(variance > 0.0).then(|| covariance / variance)
	}

	/// How far the latest packets' delay is above the lowest seen, in ms.
	fn queued(&self) -> Option<f64> {
		if self.trend.len() < RECENT_PACKETS {
			return None;
		}
		let recent = self.trend.iter().rev().take(RECENT_PACKETS).map(|(_, delay)| delay);
		Some(recent.sum::<f64>() / RECENT_PACKETS as f64 - self.floor)
	}

	/// What arrived over the last [`RECEIVED_WINDOW`] of arrivals, in bits per second.
	fn received(&self) -> Option<f64> {
		let (first, last) = (self.arrivals.front()?.0, self.arrivals.back()?.0);
		let span = last.saturating_sub(first);
		if span < RECEIVED_WINDOW / 2 {
			return None;
		}
		let bytes: usize = self.arrivals.iter().map(|(_, size)| size).sum();
		Some(bytes as f64 * 8.0 / span.as_secs_f64())
	}
}

impl BandwidthEstimator for DelayTrend {
	fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
		for report in reports {
			let Some(arrival) = report.arrival.filter(|_| report.arrived) else { continue };
			let (departed, arrived) = *self.origin.get_or_insert((report.departure, arrival));
			let sent = report.departure.saturating_duration_since(departed).as_secs_f64();
			let delay = (arrival.as_secs_f64() - arrived.as_secs_f64()) - sent;
			if self.trend.len() == TREND_PACKETS {
				self.trend.pop_front();
			}
			self.trend.push_back((sent, delay * 1000.0));
			self.floor = self.floor.min(delay * 1000.0);
			self.arrivals.push_back((arrival, report.size));
			while self
				.arrivals
				.front()
				.is_some_and(|(at, _)| arrival.saturating_sub(*at) > RECEIVED_WINDOW)
			{
				self.arrivals.pop_front();
			}
		}
		let elapsed =
			self.updated_at.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
		self.updated_at = Some(now);
		let overused = self.slope().is_some_and(|slope| slope > OVERUSE_MS_PER_S)
			|| self.queued().is_some_and(|queued| queued > QUEUED_MS);
		if overused {
			let held = self
				.decreased_at
				.is_some_and(|at| now.saturating_duration_since(at) < DECREASE_HOLD);
			if let (false, Some(received)) = (held, self.received()) {
				self.target = (received * DECREASE).clamp(self.min, self.max);
				self.decreased_at = Some(now);
			}
		} else {
			let growth = INCREASE_PER_S.powf(elapsed.as_secs_f64().min(1.0));
			self.target = (self.target * growth).clamp(self.min, self.max);
		}
	}

	fn target_bitrate(&self) -> f64 {
		self.target
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn report(departure: Instant, arrival: Duration, size: usize) -> PacketReport {
		PacketReport {
			ssrc: 1,
			id: 0,
			rtp_sequence_number: 0,
			is_twcc: true,
			twcc_sequence_number: 0,
			size,
			arrived: true,
			departure,
			arrival: Some(arrival),
			ecn: Default::default(),
		}
	}

	/// `seconds` of 30 frames a second, 4 packets of 1,200 bytes each (1.15 Mbit/s), over a link
	/// of `link` bits per second (a queue in front of it) or an open one; reported every 100 ms.
	fn feed(trend: &mut DelayTrend, start: Instant, seconds: u64, link: Option<f64>) -> Vec<f64> {
		let mut targets = Vec::new();
		let mut batch = Vec::new();
		let mut link_free = 0.0f64;
		for frame in 0..seconds * 30 {
			let sent = frame as f64 / 30.0;
			for _ in 0..4 {
				let arrival = match link {
					Some(bits) => {
						link_free = link_free.max(sent) + 1_200.0 * 8.0 / bits;
						link_free
					},
					None => sent + 0.002,
				};
				batch.push(report(
					start + Duration::from_secs_f64(sent),
					Duration::from_secs_f64(arrival),
					1_200,
				));
			}
			if frame % 3 == 2 {
				let now = start + Duration::from_secs_f64(sent + 0.05);
				trend.on_reports(now, &std::mem::take(&mut batch));
				targets.push(trend.target_bitrate());
			}
		}
		targets
	}

	#[test]
	fn an_open_link_lets_the_estimate_grow() {
		let mut trend = DelayTrend::new(1_000_000.0, 50_000.0, 10_000_000.0);
		let targets = feed(&mut trend, Instant::now(), 5, None);
		assert!(targets.windows(2).all(|pair| pair[1] >= pair[0]), "{targets:?}");
		assert!(trend.target_bitrate() > 1_300_000.0, "{}", trend.target_bitrate());
	}

	#[test]
	fn a_link_that_carries_less_lowers_it_to_what_arrives_within_a_third_of_a_second() {
		let mut trend = DelayTrend::new(5_000_000.0, 50_000.0, 100_000_000.0);
		let targets = feed(&mut trend, Instant::now(), 2, Some(600_000.0));
		let lowered = targets.iter().position(|target| *target < 1_000_000.0).expect("lowered");
		assert!(lowered <= 3, "lowered after {lowered} reports: {targets:?}");
		let last = *targets.last().unwrap();
		assert!((450_000.0..=600_000.0).contains(&last), "{targets:?}");
	}

	#[test]
	fn a_full_queue_that_drops_what_does_not_fit_keeps_it_down() {
		let mut trend = DelayTrend::new(5_000_000.0, 50_000.0, 100_000_000.0);
		let start = Instant::now();
		feed(&mut trend, start, 2, None);
		// The link's queue is full: every packet waits 400 ms more than before, none longer.
		let mut batch = Vec::new();
		let mut targets = Vec::new();
		for packet in 0..240u64 {
			let sent = 2.0 + packet as f64 / 60.0;
			batch.push(report(
				start + Duration::from_secs_f64(sent),
				Duration::from_secs_f64(sent + 0.402),
				1_200,
			));
			if packet % 6 == 5 {
				trend
					.on_reports(start + Duration::from_secs_f64(sent), &std::mem::take(&mut batch));
				targets.push(trend.target_bitrate());
			}
		}
		// 60 packets of 1,200 bytes a second arrive: 576 kbit/s.
		assert!(targets[5..].iter().all(|target| *target < 576_000.0), "{targets:?}");
	}

	#[test]
	fn a_jittery_link_that_carries_everything_does_not_lower_it() {
		let mut trend = DelayTrend::new(1_000_000.0, 50_000.0, 10_000_000.0);
		let start = Instant::now();
		let mut batch = Vec::new();
		for packet in 0..600u64 {
			let sent = packet as f64 / 120.0;
			// Up to 20 ms of jitter, with no trend.
			let jitter = ((packet * 7919) % 21) as f64 / 1000.0;
			batch.push(report(
				start + Duration::from_secs_f64(sent),
				Duration::from_secs_f64(sent + jitter),
				1_200,
			));
			if packet % 12 == 11 {
				let before = trend.target_bitrate();
				trend
					.on_reports(start + Duration::from_secs_f64(sent), &std::mem::take(&mut batch));
				assert!(trend.target_bitrate() >= before, "lowered at packet {packet}");
			}
		}
	}
}
