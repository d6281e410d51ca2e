//! What viewers' receiver reports say about the media the node sends them.
//!
//! A viewer's WebRTC stack sends an RTCP receiver report about once a second for each stream it
//! receives: the fraction of packets lost since the last report, the cumulative loss, the
//! interarrival jitter (in the stream's RTP clock) and, echoing the node's last sender report, the
//! time that report arrived and how long the viewer held it, from which the node derives the
//! round trip. webrtc-rs keeps none of this for a sending connection, so the session's driver
//! reads the reports itself ([`ReceptionTracker`]) and the engine summarises them per stream
//! ([`StreamQuality`]).
//!
//! A viewer reports on itself: a lying viewer can only misstate its own figures, and each figure
//! is bounded (a round trip of at most a minute, jitter of at most ten seconds), so one report
//! cannot push a stream's summary past what a real viewer could show.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use rtc::rtcp::receiver_report::ReceiverReport;
use serde::Serialize;

/// The longest round trip a report may show; anything longer is taken to be a bogus echo.
const MAX_RTT: Duration = Duration::from_secs(60);
/// The most jitter a report may show.
const MAX_JITTER_MS: f64 = 10_000.0;
/// The shortest span over which the sent bitrate is measured.
const MIN_BITRATE_SPAN: Duration = Duration::from_millis(500);
/// Reports older than this no longer describe the viewer.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(5);
/// The most media streams (SSRCs) a viewer's reports are followed for: one per track sent.
const MAX_REPORTED_STREAMS: usize = 16;

/// A viewer's reception, as its latest receiver reports describe it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reception {
	/// The round trip to the viewer, from its echo of the node's sender report; `None` until it
	/// has echoed one.
	pub rtt_ms: Option<f64>,
	/// The fraction of packets lost (0 to 1) over the latest report's interval, the worst of the
	/// tracks.
	pub fraction_lost: f64,
	/// Packets lost since the session began, over all tracks, as the viewer counts them.
	pub packets_lost: i64,
	/// Interarrival jitter of the video (else the audio), in milliseconds.
	pub jitter_ms: f64,
	/// Media payload bitrate sent to the viewer over the span between its last two reports,
	/// times one less the fraction it reports lost: what arrived.
	pub delivered_bps: Option<f64>,
	/// Receiver reports taken.
	pub reports: u64,
}

/// Follows one viewer's receiver reports.
#[derive(Default)]
pub(crate) struct ReceptionTracker {
	latest: Reception,
	at: Option<Instant>,
	/// When the round trip was last measured.
	rtt_at: Option<Instant>,
	/// The wall clock at a monotonic instant, taken at the first report: the wall clock "now"
	/// is derived from it and the monotonic clock (as sender reports' NTP times are), so a step
	/// of the system clock does not skew round trips.
	wall_base: Option<(Instant, SystemTime)>,
	/// Per reported SSRC: its cumulative loss and its jitter in milliseconds.
	streams: HashMap<u32, (i64, f64, bool)>,
	/// Payload bytes sent and when, at the start of the current bitrate span.
	sent: Option<(u64, Instant)>,
}

impl ReceptionTracker {
	/// Takes a receiver report. `clock` gives the RTP clock rate and whether it is video for
	/// each SSRC the node sends the viewer (others are ignored); `payload_bytes` is what was
	/// sent so far; `wall` is the wall clock now (sender reports carry wall-clock time). Returns
	/// the report's fraction lost (the worst of the viewer's tracks), if it was about them.
	pub(crate) fn on_report(
		&mut self,
		report: &ReceiverReport,
		clock: impl Fn(u32) -> Option<(u32, bool)>,
		payload_bytes: u64,
		now: Instant,
		wall: SystemTime,
	) -> Option<f64> {
		let mut fraction_lost: Option<f64> = None;
		for block in &report.reports {
			let Some((rate, is_video)) = clock(block.ssrc).filter(|(rate, _)| *rate > 0) else {
				continue;
			};
			if !self.streams.contains_key(&block.ssrc) && self.streams.len() >= MAX_REPORTED_STREAMS
			{
				continue;
			}
			let jitter_ms = (f64::from(block.jitter) * 1000.0 / f64::from(rate)).min(MAX_JITTER_MS);
			self.streams
				.insert(block.ssrc, (cumulative_lost(block.total_lost), jitter_ms, is_video));
			let fraction = f64::from(block.fraction_lost) / 256.0;
			fraction_lost = Some(fraction_lost.map_or(fraction, |worst: f64| worst.max(fraction)));
			let (base_at, base_wall) = *self.wall_base.get_or_insert((now, wall));
			let wall_now = base_wall + now.saturating_duration_since(base_at);
			if let Some(rtt) = round_trip(block.last_sender_report, block.delay, wall_now) {
				self.latest.rtt_ms = Some(rtt.as_secs_f64() * 1000.0);
				self.rtt_at = Some(now);
			}
		}
		let fraction_lost = fraction_lost?;
		self.latest.fraction_lost = fraction_lost;
		self.latest.packets_lost = self.streams.values().map(|(lost, _, _)| lost).sum();
		self.latest.jitter_ms = self
			.streams
			.values()
			.filter(|(_, _, video)| *video)
			.chain(self.streams.values())
			.map(|(_, jitter, _)| *jitter)
			.next()
			.unwrap_or_default();
		match self.sent {
			Some((bytes, since)) if now.duration_since(since) >= MIN_BITRATE_SPAN => {
				let span = now.duration_since(since).as_secs_f64();
				let sent = payload_bytes.saturating_sub(bytes) as f64 * 8.0 / span;
				self.latest.delivered_bps = Some(sent * (1.0 - fraction_lost));
				self.sent = Some((payload_bytes, now));
			},
			Some(_) => {},
			None => self.sent = Some((payload_bytes, now)),
		}
		self.latest.reports += 1;
		self.at = Some(now);
		Some(fraction_lost)
	}

	/// The viewer's reception, if it reported within [`STALE_AFTER`] of `now`.
	pub(crate) fn current(&self, now: Instant) -> Option<Reception> {
		let fresh = |at: &Instant| now.saturating_duration_since(*at) <= STALE_AFTER;
		let mut reception = self.at.filter(fresh).map(|_| self.latest)?;
		if !self.rtt_at.as_ref().is_some_and(fresh) {
			reception.rtt_ms = None;
		}
		Some(reception)
	}
}

/// A report block's cumulative loss: a 24-bit signed count (duplicates make it negative), which
/// the parser hands over unsigned.
fn cumulative_lost(total_lost: u32) -> i64 {
	let total_lost = i64::from(total_lost & 0x00ff_ffff);
	if total_lost & 0x0080_0000 != 0 {
		total_lost - 0x0100_0000
	} else {
		total_lost
	}
}

/// The round trip a report block's echo shows: the wall clock now, less when the echoed sender
/// report was sent (its NTP time, middle 32 bits), less how long the viewer held it; `None` when
/// the viewer has not echoed a report or the result is not a plausible round trip.
fn round_trip(last_sender_report: u32, delay: u32, wall: SystemTime) -> Option<Duration> {
	if last_sender_report == 0 {
		return None;
	}
	let since_unix = wall.duration_since(SystemTime::UNIX_EPOCH).ok()?;
	let now = (rtc::shared::time::SystemInstant::unix2ntp(since_unix) >> 16) as u32;
	let rtt = now.wrapping_sub(last_sender_report).wrapping_sub(delay);
	// In units of 1/65536 s; a "negative" result wraps to a huge one.
	let rtt = Duration::from_secs_f64(f64::from(rtt) / 65_536.0);
	(rtt <= MAX_RTT).then_some(rtt)
}

/// Quantiles of one figure over a stream's reporting viewers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Spread {
	/// Viewers the figure is known for.
	pub viewers: usize,
	/// Median.
	pub p50: f64,
	/// 95th percentile.
	pub p95: f64,
	/// Largest.
	pub max: f64,
}

impl Spread {
	fn of(mut values: Vec<f64>) -> Option<Self> {
		values.retain(|value| value.is_finite());
		if values.is_empty() {
			return None;
		}
		values.sort_by(f64::total_cmp);
		let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
		Some(Self {
			viewers: values.len(),
			p50: at(0.5),
			p95: at(0.95),
			max: values[values.len() - 1],
		})
	}
}

/// A stream's delivery quality on this node, from its viewers' latest receiver reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StreamQuality {
	/// Viewers connected to the stream on this node.
	pub viewers: usize,
	/// Those whose receiver reports are current (within the last 5 s).
	pub reporting: usize,
	/// Round trip to the viewers, milliseconds.
	pub rtt_ms: Option<Spread>,
	/// Fraction of packets lost over each viewer's latest report (0 to 1).
	pub fraction_lost: Option<Spread>,
	/// Interarrival jitter, milliseconds.
	pub jitter_ms: Option<Spread>,
	/// Payload bitrate delivered to each viewer, kbit/s.
	pub delivered_kbps: Option<Spread>,
}

impl StreamQuality {
	/// The summary of `viewers` connected viewers, of whom `receptions` reported.
	pub(crate) fn of(viewers: usize, receptions: &[Reception]) -> Self {
		let figure = |pick: fn(&Reception) -> Option<f64>| {
			Spread::of(receptions.iter().filter_map(pick).collect())
		};
		Self {
			viewers,
			reporting: receptions.len(),
			rtt_ms: figure(|reception| reception.rtt_ms),
			fraction_lost: figure(|reception| Some(reception.fraction_lost)),
			jitter_ms: figure(|reception| Some(reception.jitter_ms)),
			delivered_kbps: figure(|reception| reception.delivered_bps.map(|bps| bps / 1000.0)),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use rtc::rtcp::reception_report::ReceptionReport;

	const VIDEO: u32 = 1111;
	const AUDIO: u32 = 2222;

	fn clock(ssrc: u32) -> Option<(u32, bool)> {
		match ssrc {
			VIDEO => Some((90_000, true)),
			AUDIO => Some((48_000, false)),
			_ => None,
		}
	}

	fn ntp_middle(wall: SystemTime) -> u32 {
		let since = wall.duration_since(SystemTime::UNIX_EPOCH).unwrap();
		(rtc::shared::time::SystemInstant::unix2ntp(since) >> 16) as u32
	}

	fn block(
		ssrc: u32,
		fraction_lost: u8,
		total_lost: u32,
		jitter: u32,
		lsr: u32,
		dlsr: u32,
	) -> ReceptionReport {
		ReceptionReport {
			ssrc,
			fraction_lost,
			total_lost,
			last_sequence_number: 1000,
			jitter,
			last_sender_report: lsr,
			delay: dlsr,
		}
	}

	fn report(blocks: Vec<ReceptionReport>) -> ReceiverReport {
		ReceiverReport { ssrc: 9, reports: blocks, ..Default::default() }
	}

	#[test]
	fn a_report_gives_loss_jitter_round_trip_and_bitrate() {
		let wall = SystemTime::now();
		let start = Instant::now();
		// The node's sender report left 120 ms before the second report (1 s after the first);
		// the viewer held it 20 ms: 100 ms round trip.
		let sent = ntp_middle(wall + Duration::from_secs(1) - Duration::from_millis(120));
		let held = (0.020 * 65_536.0) as u32;
		let mut tracker = ReceptionTracker::default();
		assert_eq!(tracker.current(start), None, "nothing before a report");
		tracker.on_report(&report(vec![block(VIDEO, 0, 0, 900, 0, 0)]), clock, 0, start, wall);
		let first = tracker.current(start).unwrap();
		assert_eq!(first.rtt_ms, None, "no echo yet, no round trip");
		assert_eq!(first.delivered_bps, None, "one report is no span");
		assert!((first.jitter_ms - 10.0).abs() < 1e-9, "900 ticks of 90 kHz are 10 ms");

		let later = start + Duration::from_secs(1);
		let report2 =
			report(vec![block(VIDEO, 64, 12, 1800, sent, held), block(AUDIO, 0, 3, 480, 0, 0)]);
		tracker.on_report(&report2, clock, 125_000, later, wall);
		let second = tracker.current(later).unwrap();
		let rtt = second.rtt_ms.unwrap();
		assert!((rtt - 100.0).abs() < 1.0, "round trip {rtt} ms");
		assert_eq!(second.fraction_lost, 0.25);
		assert_eq!(second.packets_lost, 15);
		assert!((second.jitter_ms - 20.0).abs() < 1e-9, "the video's jitter is the one shown");
		// 125,000 bytes in 1 s is 1 Mbit/s sent, of which a quarter was lost.
		assert!((second.delivered_bps.unwrap() - 750_000.0).abs() < 1.0);
		assert_eq!(second.reports, 2);
		assert_eq!(tracker.current(later + STALE_AFTER + Duration::from_millis(1)), None, "stale");
		// Reports that stop echoing a sender report leave no stale round trip.
		let much_later = later + STALE_AFTER;
		tracker.on_report(
			&report(vec![block(VIDEO, 0, 12, 1800, 0, 0)]),
			clock,
			125_000,
			much_later + Duration::from_secs(1),
			wall,
		);
		assert_eq!(tracker.current(much_later + Duration::from_secs(1)).unwrap().rtt_ms, None);
	}

	#[test]
	fn a_lying_viewer_cannot_show_figures_no_viewer_could_have() {
		let wall = SystemTime::now();
		let now = Instant::now();
		let mut tracker = ReceptionTracker::default();
		// An echo from the future (a negative round trip), huge jitter, and reports about SSRCs
		// the node never sent this viewer.
		let future = ntp_middle(wall + Duration::from_secs(3));
		let mut blocks = vec![block(VIDEO, 0, 0, u32::MAX, future, 0)];
		blocks.extend((0..100).map(|ssrc| block(50_000 + ssrc, 255, u32::MAX >> 8, 1, 0, 0)));
		tracker.on_report(&report(blocks), clock, 0, now, wall);
		let reception = tracker.current(now).unwrap();
		assert_eq!(reception.rtt_ms, None, "an echo from the future is no round trip");
		assert_eq!(reception.jitter_ms, MAX_JITTER_MS);
		assert_eq!(reception.fraction_lost, 0.0, "unknown SSRCs are not the viewer's streams");
		assert_eq!(tracker.streams.len(), 1);
		// A negative cumulative loss (duplicates) is negative, not 16 million.
		let mut duplicates = ReceptionTracker::default();
		duplicates.on_report(
			&report(vec![block(VIDEO, 0, 0x00ff_fffe, 0, 0, 0)]),
			clock,
			0,
			now,
			wall,
		);
		assert_eq!(duplicates.current(now).unwrap().packets_lost, -2);

		// A report about nothing the node sends changes nothing.
		let mut quiet = ReceptionTracker::default();
		quiet.on_report(&report(vec![block(7, 255, 9, 9, 0, 0)]), clock, 0, now, wall);
		assert_eq!(quiet.current(now), None);
	}

	#[test]
	fn a_stream_summary_spreads_its_viewers() {
		let receptions: Vec<Reception> = (1..=20)
			.map(|i| Reception {
				rtt_ms: (i % 2 == 0).then_some(f64::from(i)),
				fraction_lost: f64::from(i) / 100.0,
				jitter_ms: 1.0,
				delivered_bps: Some(f64::from(i) * 1000.0),
				packets_lost: 0,
				reports: 1,
			})
			.collect();
		let quality = StreamQuality::of(25, &receptions);
		assert_eq!((quality.viewers, quality.reporting), (25, 20));
		let rtt = quality.rtt_ms.unwrap();
		assert_eq!((rtt.viewers, rtt.max), (10, 20.0));
		let loss = quality.fraction_lost.unwrap();
		assert_eq!((loss.p50, loss.p95, loss.max), (0.11, 0.19, 0.2));
		assert_eq!(quality.delivered_kbps.unwrap().max, 20.0);
		assert_eq!(StreamQuality::of(3, &[]).rtt_ms, None);
	}
}
