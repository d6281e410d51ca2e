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

use rtc::interceptor::{
	BandwidthEstimator, Interceptor, Packet, PacketReport, StreamInfo, TaggedPacket,
};
use rtc::rtcp::transport_feedbacks::transport_layer_cc::{PacketStatusChunk, TransportLayerCc};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

/// The trend is drawn through the packets sent over this long (seconds): long enough that
/// jitter without a trend (up to 20 ms on a packet, about 6 ms standard deviation) stays far
/// under [`OVERUSE_MS_PER_S`], short enough that a queue growing by a second a second shows
/// within about 100 ms.
const TREND_WINDOW: f64 = 0.5;
/// ... and through at most this many (a second of a 5 Mbit/s stream).
const TREND_PACKETS: usize = 512;
/// The trend needs this many packets, this far apart, to mean anything.
const TREND_MIN_PACKETS: usize = 10;
const TREND_SPAN: Duration = Duration::from_millis(100);
/// A delay growing faster than this, in milliseconds per second, is a queue building up (5 %
/// more sent than the link carries).
const OVERUSE_MS_PER_S: f64 = 50.0;
/// Delay this far above the lowest seen is a standing queue: the link is full.
const QUEUED_MS: f64 = 150.0;
/// The lowest delay is the lowest of this many seconds (of departures): the path's own delay
/// may change (a new route) and the two ends' clocks drift apart, so an older lowest would
/// read as a queue for ever. A queue that stands longer than this is taken for the path (the
/// receiver reports' loss still moves the viewer if it overflows).
const FLOOR_SECONDS: u64 = 30;
/// The delay the standing-queue test reads: the mean of this many latest packets'.
const RECENT_PACKETS: usize = 5;
/// What arrived over this long is the received rate (short, so that it is what arrives since
/// the link filled up rather than before).
const RECEIVED_WINDOW: Duration = Duration::from_millis(250);
/// At most this many arrivals are kept for it, whatever times a peer reports.
const ARRIVALS: usize = 2048;
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
	/// The lowest relative delay (ms) of each second of departures, the last
	/// [`FLOOR_SECONDS`]: the path with no queue.
	floors: VecDeque<(u64, f64)>,
	/// The latest packets' arrival and size, for the received rate.
	arrivals: VecDeque<(Duration, usize)>,
	/// The latest arrival reported.
	latest_arrival: Duration,
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
			trend: VecDeque::new(),
			floors: VecDeque::new(),
			arrivals: VecDeque::new(),
			latest_arrival: Duration::ZERO,
			decreased_at: None,
			updated_at: None,
		}
	}

	/// The slope of the relative delay over departure time, in ms per second, once the trend
	/// spans enough.
	fn slope(&self) -> Option<f64> {
		let (first, last) = (self.trend.front()?, self.trend.back()?);
		if self.trend.len() < TREND_MIN_PACKETS || last.0 - first.0 < TREND_SPAN.as_secs_f64() {
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
		let floor = self.floors.iter().map(|(_, lowest)| *lowest).fold(f64::MAX, f64::min);
		Some(recent.sum::<f64>() / RECENT_PACKETS as f64 - floor)
	}

	/// What arrived over the last [`RECEIVED_WINDOW`] of arrivals, in bits per second.
	fn received(&self) -> Option<f64> {
		let first = self.arrivals.iter().map(|(at, _)| *at).min()?;
		let span = self.latest_arrival.saturating_sub(first);
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
			self.trend.push_back((sent, delay * 1000.0));
			while self.trend.len() > TREND_PACKETS
				|| self.trend.front().is_some_and(|(at, _)| sent - at > TREND_WINDOW)
			{
				self.trend.pop_front();
			}
			let second = sent as u64;
			match self.floors.back_mut() {
				Some((at, lowest)) if *at == second => *lowest = lowest.min(delay * 1000.0),
				_ => self.floors.push_back((second, delay * 1000.0)),
			}
			while self.floors.front().is_some_and(|(at, _)| at + FLOOR_SECONDS < second) {
				self.floors.pop_front();
			}
			self.latest_arrival = self.latest_arrival.max(arrival);
			self.arrivals.push_back((arrival, report.size));
			while self.arrivals.len() > ARRIVALS
				|| self.arrivals.front().is_some_and(|(at, _)| {
					self.latest_arrival.saturating_sub(*at) > RECEIVED_WINDOW
				}) {
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

/// Where [`FeedbackGuard`] sits: nearer the wire than webrtc-rs' congestion control interceptor
/// (1,000), so it reads inbound RTCP first.
pub(crate) const GUARD_SLOT: usize = 500;
/// The most packets one TWCC feedback may report on: a honest one covers what was sent since
/// the last (about 100 ms); this is over four seconds of a 4 Mbit/s stream.
pub(crate) const MAX_REPORTED: usize = 2048;
/// TWCC feedbacks a peer may send a second, sustained (browsers send 10-20), and in a burst.
const FEEDBACKS_PER_SECOND: f64 = 50.0;
const FEEDBACK_BURST: f64 = 50.0;

/// Drops TWCC feedback that would cost the node more than honest feedback does, before webrtc-rs
/// reads it: a feedback of a few bytes can claim up to 8,191 packets a status chunk (and tens of
/// such feedbacks fit a datagram), each of which the congestion control interceptor turns into
/// an entry and looks up. Feedback reporting on more than [`MAX_REPORTED`] packets, or beyond
/// [`FEEDBACKS_PER_SECOND`], is dropped (the estimate then holds; the viewer's receiver reports
/// still count).
#[derive(Default)]
pub(crate) struct FeedbackGuard {
	read: VecDeque<TaggedPacket>,
	write: VecDeque<TaggedPacket>,
	tokens: f64,
	refilled: Option<Instant>,
	dropped: u64,
}

/// How many packets a TWCC feedback reports on, as webrtc-rs reads it (chunk by chunk).
pub(crate) fn reported(feedback: &TransportLayerCc) -> usize {
	feedback
		.packet_chunks
		.iter()
		.map(|chunk| match chunk {
			PacketStatusChunk::RunLengthChunk(run) => usize::from(run.run_length),
			PacketStatusChunk::StatusVectorChunk(vector) => vector.symbol_list.len(),
		})
		.sum()
}

impl FeedbackGuard {
	/// Whether a feedback may go on at `now`.
	fn admit(&mut self, feedback: &TransportLayerCc, now: Instant) -> bool {
		let elapsed = self.refilled.map_or(FEEDBACK_BURST / FEEDBACKS_PER_SECOND, |at| {
			now.saturating_duration_since(at).as_secs_f64()
		});
		self.refilled = Some(now);
		self.tokens = (self.tokens + elapsed * FEEDBACKS_PER_SECOND).min(FEEDBACK_BURST);
		if reported(feedback) > MAX_REPORTED || self.tokens < 1.0 {
			self.dropped += 1;
			return false;
		}
		self.tokens -= 1.0;
		true
	}
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for FeedbackGuard {
	type Rout = TaggedPacket;
	type Wout = TaggedPacket;
	type Eout = ();
	type Error = Error;
	type Time = Instant;

	fn handle_read(&mut self, mut message: TaggedPacket) -> Result<(), Error> {
		let now = message.now;
		if let Packet::Rtcp(packets) = &mut message.message.packet {
			let before = packets.len();
			packets.retain(|packet| match packet.as_any().downcast_ref::<TransportLayerCc>() {
				Some(feedback) => self.admit(feedback, now),
				None => true,
			});
			if packets.is_empty() && before > 0 {
				if self.dropped.is_power_of_two() {
					tracing::debug!(target: super::LOG_TARGET, dropped = self.dropped, "congestion feedback dropped");
				}
				return Ok(());
			}
		}
		self.read.push_back(message);
		Ok(())
	}

	fn poll_read(&mut self) -> Option<TaggedPacket> {
		self.read.pop_front()
	}

	fn handle_write(&mut self, message: TaggedPacket) -> Result<(), Error> {
		self.write.push_back(message);
		Ok(())
	}

	fn poll_write(&mut self) -> Option<TaggedPacket> {
		self.write.pop_front()
	}
}

impl Interceptor for FeedbackGuard {
	fn bind_local_stream(&mut self, _: &StreamInfo) {}
	fn unbind_local_stream(&mut self, _: &StreamInfo) {}
	fn bind_remote_stream(&mut self, _: &StreamInfo) {}
	fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
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
	fn a_path_that_became_slower_for_good_is_taken_as_it_is_once_its_old_delay_is_forgotten() {
		let mut trend = DelayTrend::new(1_000_000.0, 50_000.0, 10_000_000.0);
		let start = Instant::now();
		let mut batch = Vec::new();
		let mut lowered_after = None;
		// 60 packets a second of 1,200 bytes; after 5 s, the route takes 200 ms longer.
		for packet in 0..60 * 60u64 {
			let sent = packet as f64 / 60.0;
			let extra = if sent >= 5.0 { 0.2 } else { 0.0 };
			batch.push(report(
				start + Duration::from_secs_f64(sent),
				Duration::from_secs_f64(sent + 0.01 + extra),
				1_200,
			));
			if packet % 6 == 5 {
				let before = trend.target_bitrate();
				trend
					.on_reports(start + Duration::from_secs_f64(sent), &std::mem::take(&mut batch));
				if trend.target_bitrate() < before {
					lowered_after = Some(sent);
				}
			}
		}
		let lowered_after = lowered_after.expect("a 200 ms step reads as a queue at first");
		assert!(
			lowered_after < 5.0 + FLOOR_SECONDS as f64 + 2.0,
			"still lowered at {lowered_after} s"
		);
		assert!(trend.target_bitrate() > 1_000_000.0, "{}", trend.target_bitrate());
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

	fn feedback(run_length: u16, chunks: usize) -> TransportLayerCc {
		use rtc::rtcp::transport_feedbacks::transport_layer_cc::{
			RunLengthChunk, StatusChunkTypeTcc, SymbolTypeTcc,
		};
		TransportLayerCc {
			packet_chunks: vec![
				PacketStatusChunk::RunLengthChunk(RunLengthChunk {
					type_tcc: StatusChunkTypeTcc::RunLengthChunk,
					packet_status_symbol: SymbolTypeTcc::PacketNotReceived,
					run_length,
				});
				chunks
			],
			..Default::default()
		}
	}

	#[test]
	fn feedback_claiming_too_many_packets_or_coming_too_often_is_dropped() {
		let mut guard = FeedbackGuard::default();
		let start = Instant::now();
		// A feedback of a few bytes claiming 8,191 packets in each of 29 chunks.
		let hostile = feedback(8_191, 29);
		assert_eq!(reported(&hostile), 237_539);
		assert!(!guard.admit(&hostile, start));
		// An honest one is taken, up to a burst of 50 at once, then 50 a second.
		let honest = feedback(20, 1);
		let taken = (0..100).filter(|_| guard.admit(&honest, start)).count();
		assert_eq!(taken, 50);
		let later = start + Duration::from_millis(100);
		assert_eq!((0..100).filter(|_| guard.admit(&honest, later)).count(), 5);
		assert!(guard.admit(&feedback(2_048, 1), later + Duration::from_secs(1)));
		assert!(!guard.admit(&feedback(2_049, 1), later + Duration::from_secs(2)));
	}
}
