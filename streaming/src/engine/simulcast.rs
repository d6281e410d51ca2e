//! Simulcast: a publisher sends its video as up to three layers (the same picture encoded at
//! different sizes and bitrates, RFC 8853 `a=simulcast` with `a=rid`), and each viewer is sent the
//! one layer its link carries.
//!
//! - [`Layers`] is what a published video track shares with its viewers: each layer's bitrate as
//!   the engine measures it arriving, and which layers viewers want a keyframe of.
//! - [`LayerSwitch`] is one viewer's view of a track: the layer it is sent, the layer it should
//!   be sent, and the rewriting that makes a switch invisible to its decoder. A switch happens
//!   only at a keyframe of the new layer, and every packet's sequence number and timestamp are
//!   rewritten so the viewer sees one continuous stream: sequence numbers carry on from the last
//!   one sent, and the timestamp from the last one plus the time that passed.
//! - [`Adaptation`] chooses the layer from the viewer's bandwidth estimate (GCC on its TWCC
//!   feedback, see [`Adaptation::on_estimate`]) and its receiver reports' loss (see
//!   [`Adaptation::on_report`]).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The most layers a simulcast track may have; further ones in an offer are not forwarded.
pub(crate) const MAX_LAYERS: usize = 3;
/// The span over which a layer's arriving bitrate is measured.
const RATE_WINDOW: Duration = Duration::from_millis(1000);
/// A layer that sent nothing for 400 ms (or four of its own packet intervals, if longer) while
/// another arrives steadily has stopped (a publisher turns layers off when its CPU or uplink
/// cannot carry them): its rate drops to 0 at once, so that its viewers move to a layer that
/// arrives.
const SILENT_LAYER: Duration = Duration::from_millis(400);
/// A layer whose packets came this close together arrives steadily: a pause of every layer (a
/// camera turned off, a network stall) is not taken for one layer stopping.
const STEADY: Duration = Duration::from_millis(100);

/// A published video track's layers, shared by the publisher's session and the viewers'.
#[derive(Default)]
pub(crate) struct Layers {
	/// How many layers arrived (1 for a track that is not simulcast).
	count: AtomicUsize,
	/// Each layer's bitrate over the last [`RATE_WINDOW`], bits/s (0: nothing arrives).
	bps: [AtomicU64; MAX_LAYERS],
	/// Layers (bit per layer) a viewer asked a keyframe of since the publisher last asked.
	wanted: AtomicU8,
	/// Whether the publisher sends the track as simulcast (its first layer came with a rid),
	/// however many of its layers arrived yet.
	simulcast: AtomicBool,
}

impl Layers {
	/// A track of `count` layers.
	pub(crate) fn new(count: usize) -> Self {
		let layers = Self::default();
		layers.count.store(count.clamp(1, MAX_LAYERS), Ordering::Relaxed);
		layers
	}

	pub(crate) fn count(&self) -> usize {
		self.count.load(Ordering::Relaxed)
	}

	/// The publisher sends this track as simulcast.
	pub(crate) fn set_simulcast(&self) {
		self.simulcast.store(true, Ordering::Relaxed);
	}

	pub(crate) fn is_simulcast(&self) -> bool {
		self.simulcast.load(Ordering::Relaxed)
	}

	/// One more layer arrived; its index, or `None` past [`MAX_LAYERS`].
	pub(crate) fn add(&self) -> Option<u8> {
		let index = self.count.load(Ordering::Relaxed);
		(index < MAX_LAYERS).then(|| {
			self.count.store(index + 1, Ordering::Relaxed);
			index as u8
		})
	}

	pub(crate) fn set_rate(&self, layer: u8, bps: u64) {
		if let Some(rate) = self.bps.get(usize::from(layer)) {
			rate.store(bps, Ordering::Relaxed);
		}
	}

	/// The layer's measured bitrate, bits/s.
	pub(crate) fn rate(&self, layer: u8) -> u64 {
		self.bps.get(usize::from(layer)).map_or(0, |rate| rate.load(Ordering::Relaxed))
	}

	/// The layers that arrive, lowest bitrate first. Layers are ranked by what is measured, not
	/// by their rids, whose names and order publishers choose freely.
	pub(crate) fn ranked(&self) -> Vec<u8> {
		let mut layers: Vec<u8> =
			(0..self.count() as u8).filter(|layer| self.rate(*layer) > 0).collect();
		layers.sort_by_key(|layer| self.rate(*layer));
		layers
	}

	/// A viewer wants a keyframe of `layer`.
	pub(crate) fn want_keyframe(&self, layer: u8) {
		self.wanted.fetch_or(1 << layer.min(7), Ordering::Relaxed);
	}

	/// The layers whose keyframe was asked for since the last call (all, if none was named).
	pub(crate) fn take_wanted(&self) -> u8 {
		match self.wanted.swap(0, Ordering::Relaxed) {
			0 => u8::MAX,
			wanted => wanted,
		}
	}
}

/// Of `ranked` (lowest bitrate first), the best layer whose rate is within `estimate`, bits/s
/// (any, without an estimate); the lowest if none is.
pub(crate) fn best_within(
	ranked: &[u8],
	rate: impl Fn(u8) -> u64,
	estimate: Option<f64>,
) -> Option<u8> {
	let fits = |layer: &&u8| estimate.is_none_or(|bps| rate(**layer) as f64 <= bps);
	ranked.iter().rev().find(fits).or(ranked.first()).copied()
}

/// Measures each layer's arriving bitrate for [`Layers`], on the publisher's session.
pub(crate) struct RateMeter {
	bytes: [u64; MAX_LAYERS],
	packets: [u32; MAX_LAYERS],
	since: Instant,
	/// When each layer's latest packet arrived; `None` before its first or once it fell silent.
	last: [Option<Instant>; MAX_LAYERS],
	/// Each layer's silence: [`SILENT_LAYER`], or four of its packet intervals in the last
	/// window if that is longer (a layer sent at a few frames a second).
	silent_after: [Duration; MAX_LAYERS],
}

impl RateMeter {
	pub(crate) fn new(now: Instant) -> Self {
		Self {
			bytes: [0; MAX_LAYERS],
			packets: [0; MAX_LAYERS],
			since: now,
			last: [None; MAX_LAYERS],
			silent_after: [SILENT_LAYER; MAX_LAYERS],
		}
	}

	/// Counts a packet of `size` bytes on `layer`; publishes the rates every [`RATE_WINDOW`],
	/// and a layer's rate of 0 as soon as it fell silent while this one arrives steadily.
	pub(crate) fn count(&mut self, layers: &Layers, layer: u8, size: usize, now: Instant) {
		let index = usize::from(layer);
		if index >= MAX_LAYERS {
			return;
		}
		self.bytes[index] += size as u64;
		self.packets[index] += 1;
		let steady =
			self.last[index].is_some_and(|last| now.saturating_duration_since(last) <= STEADY);
		self.last[index] = Some(now);
		if steady {
			for other in 0..MAX_LAYERS {
				let silent = self.last[other].is_some_and(|last| {
					now.saturating_duration_since(last) >= self.silent_after[other]
				});
				if silent {
					self.last[other] = None;
					self.bytes[other] = 0;
					layers.set_rate(other as u8, 0);
				}
			}
		}
		let span = now.saturating_duration_since(self.since);
		if span >= RATE_WINDOW {
			for layer in 0..MAX_LAYERS {
				let bytes = std::mem::take(&mut self.bytes[layer]);
				let packets = std::mem::take(&mut self.packets[layer]);
				layers.set_rate(layer as u8, (bytes as f64 * 8.0 / span.as_secs_f64()) as u64);
				self.silent_after[layer] = match packets {
					0 => SILENT_LAYER,
					packets => SILENT_LAYER.max(span * 4 / packets),
				};
			}
			self.since = now;
		}
	}
}

/// VP8's picture ids and TL0PICIDX, carried on across a viewer's layer switches as its sequence
/// numbers are. Each layer numbers its pictures on its own; a receiver that sees the numbers
/// jump back at a switch (Chromium's frame reference finder) took the new layer's frames after
/// its keyframe for old ones and stopped decoding until it asked for a keyframe again, about
/// three seconds later.
#[derive(Default)]
pub(crate) struct Vp8Numbering {
	/// Added to the layer's own numbers since the last switch.
	picture_offset: u16,
	tl0_offset: u8,
	/// The numbers last sent.
	last: (Option<u16>, Option<u8>),
}

impl Vp8Numbering {
	/// `payload` is about to be sent to the viewer; `switched` if it starts the keyframe of a
	/// switch. Returns the payload to send instead when its numbers are moved on.
	pub(crate) fn renumber(&mut self, payload: &[u8], switched: bool) -> Option<Vec<u8>> {
		let ids = crate::codec::Vp8Ids::find(payload);
		let picture_id = ids.picture_id(payload);
		let tl0_index = ids.tl0_index(payload);
		if switched {
			if let (Some(last), Some(picture_id)) = (self.last.0, picture_id) {
				self.picture_offset = last.wrapping_add(1).wrapping_sub(picture_id);
			}
			if let (Some(last), Some(tl0_index)) = (self.last.1, tl0_index) {
				self.tl0_offset = last.wrapping_add(1).wrapping_sub(tl0_index);
			}
		}
		let picture_id = picture_id.map(|id| id.wrapping_add(self.picture_offset));
		let tl0_index = tl0_index.map(|index| index.wrapping_add(self.tl0_offset));
		self.last = (picture_id.or(self.last.0), tl0_index.or(self.last.1));
		if self.picture_offset == 0 && self.tl0_offset == 0 {
			return None;
		}
		let mut renumbered = payload.to_vec();
		ids.write(&mut renumbered, picture_id.unwrap_or(0), tl0_index.unwrap_or(0));
		Some(renumbered)
	}
}

/// What a viewer's track does with a packet of some layer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admit {
	/// Send it, with this sequence number and timestamp.
	Send { sequence_number: u16, timestamp: u32 },
	/// Not for this viewer (another layer, or before the keyframe it waits for).
	Skip,
}

/// One viewer's layer of one video track, and the rewriting that hides switches.
pub(crate) struct LayerSwitch {
	/// The layer being sent; `None` while waiting for a keyframe (after joining or falling
	/// behind).
	current: Option<u8>,
	/// The layer to send: switched to at its next keyframe.
	target: u8,
	/// Added to a packet's sequence number and timestamp (wrapping) to rewrite it.
	sequence_offset: u16,
	timestamp_offset: u32,
	/// The last packet sent: its rewritten sequence number and timestamp, and when.
	last: Option<(u16, u32, Instant)>,
	/// The current layer's sequence number (as published) where sending it began: its packets
	/// from before (late, reordered or retransmitted) would reuse sequence numbers already sent.
	start: u16,
	clock_rate: u32,
	switches: u64,
	/// The current layer is no longer sent while the switch waits: the link did not carry it,
	/// and what more of it went out would queue in front of the new layer's keyframe (and be
	/// dropped with it).
	holding: bool,
}

impl LayerSwitch {
	pub(crate) fn new(target: u8, clock_rate: u32) -> Self {
		Self {
			current: None,
			target,
			sequence_offset: 0,
			timestamp_offset: 0,
			last: None,
			start: 0,
			clock_rate: clock_rate.max(1),
			switches: 0,
			holding: false,
		}
	}

	pub(crate) fn current(&self) -> Option<u8> {
		self.current
	}

	pub(crate) fn target(&self) -> u8 {
		self.target
	}

	/// When the last packet sent to the viewer reached the engine.
	pub(crate) fn last_sent_at(&self) -> Option<Instant> {
		self.last.map(|(_, _, at)| at)
	}

	/// Layer switches made (the first layer after joining is not one).
	pub(crate) fn switches(&self) -> u64 {
		self.switches
	}

	/// Send `layer` from its next keyframe on; the current layer goes on until then.
	pub(crate) fn retarget(&mut self, layer: u8) {
		self.target = layer;
		self.holding = false;
	}

	/// Switch to `layer` at its next keyframe and send nothing of the current one meanwhile
	/// (the viewer's link is congested).
	pub(crate) fn retarget_holding(&mut self, layer: u8) {
		self.target = layer;
		self.holding = self.current.is_some_and(|current| current != layer);
	}

	/// Wait for a keyframe of the target layer (the viewer joined or fell behind).
	pub(crate) fn wait_for_keyframe(&mut self) {
		self.current = None;
	}

	/// Whether the viewer waits for a keyframe of some layer.
	pub(crate) fn waits(&self) -> bool {
		self.current != Some(self.target)
	}

	/// Decides about a packet of `layer` (`starts_keyframe`: it begins a keyframe) with
	/// `sequence_number` and `timestamp`, arriving at `now`.
	pub(crate) fn admit(
		&mut self,
		layer: u8,
		starts_keyframe: bool,
		sequence_number: u16,
		timestamp: u32,
		now: Instant,
	) -> Admit {
		if layer == self.target && self.current != Some(layer) {
			if !starts_keyframe {
				return Admit::Skip;
			}
			// The switch: carry on from the last packet sent, as if this layer had always been
			// the one.
			if let Some((last_sequence, last_timestamp, at)) = self.last {
				let elapsed = now.saturating_duration_since(at).as_secs_f64();
				let ticks = ((elapsed * f64::from(self.clock_rate)) as u32).max(1);
				self.sequence_offset = last_sequence.wrapping_add(1).wrapping_sub(sequence_number);
				self.timestamp_offset = last_timestamp.wrapping_add(ticks).wrapping_sub(timestamp);
				if self.current.is_some() {
					self.switches += 1;
				}
			}
			self.current = Some(layer);
			self.start = sequence_number;
			self.holding = false;
			return self.send(sequence_number, timestamp, now);
		}
		if self.current == Some(layer)
			&& !self.holding
			&& sequence_number.wrapping_sub(self.start) < 0x8000
		{
			// The window of acceptable numbers follows what is sent: 32,768 packets after the
			// switch they would otherwise all read as older than it.
			if sequence_number.wrapping_sub(self.start) > REORDER_WINDOW {
				self.start = sequence_number.wrapping_sub(REORDER_WINDOW);
			}
			return self.send(sequence_number, timestamp, now);
		}
		Admit::Skip
	}

	fn send(&mut self, sequence_number: u16, timestamp: u32, now: Instant) -> Admit {
		let sequence_number = sequence_number.wrapping_add(self.sequence_offset);
		let timestamp = timestamp.wrapping_add(self.timestamp_offset);
		self.last = Some((sequence_number, timestamp, now));
		Admit::Send { sequence_number, timestamp }
	}
}

/// How far behind the latest packet sent a late one (reordered, or retransmitted by the
/// publisher) may be and still be sent, once the switch it followed is that far back.
const REORDER_WINDOW: u16 = 4096;

/// Loss at or above this in a receiver report means the link does not carry the layer.
const CONGESTED_LOSS: f64 = 0.10;
/// Loss below this is a clean report.
const CLEAN_LOSS: f64 = 0.02;
/// After a switch down, the next one waits this long (the first reports after a switch still
/// describe the old layer).
const DOWN_HOLD: Duration = Duration::from_millis(1500);
/// Clean reports for this long before trying the next layer up.
const FIRST_UP_AFTER: Duration = Duration::from_secs(4);
/// The longest wait between attempts to go up after failed ones.
const MAX_UP_AFTER: Duration = Duration::from_secs(16);
/// Loss within this long after going up means the attempt failed.
const TRIAL: Duration = Duration::from_secs(4);

/// Chooses a viewer's layer from its bandwidth estimate and its receiver reports.
///
/// Down: when the congestion controller lowers its estimate (the viewer's TWCC feedback shows
/// delay building up, or loss) below the bitrate of the layer the viewer is sent, the viewer
/// goes to the best layer within the new estimate, or the lowest. Viewers whose feedback does
/// not come (no TWCC negotiated) still go one layer down when a receiver report says 10 % loss
/// or more.
///
/// Up: a viewer is only sent what it receives, so its estimate cannot tell how much more its
/// link would carry (a controller learns that by sending more). After [`FIRST_UP_AFTER`]
/// without a lowered estimate and with clean receiver reports (under 2 % loss), the viewer
/// tries the next layer up; an attempt that lowers the estimate below the new layer, or brings
/// loss, within [`TRIAL`] goes back down and doubles the wait before the next one (up to
/// [`MAX_UP_AFTER`]), so a link at its limit is probed rarely.
pub(crate) struct Adaptation {
	last_change: Instant,
	clean_since: Option<Instant>,
	up_after: Duration,
	trial_until: Option<Instant>,
	/// The last estimate, in bits per second.
	estimate: Option<f64>,
}

impl Adaptation {
	pub(crate) fn new(now: Instant) -> Self {
		Self {
			last_change: now,
			clean_since: None,
			up_after: FIRST_UP_AFTER,
			trial_until: None,
			estimate: None,
		}
	}

	/// The layer a viewer sent `target` should get after its congestion controller's estimate
	/// changed to `estimate` bits per second, from `ranked` (the arriving layers, lowest bitrate
	/// first, each one's bitrate by `rate`); `None` to stay.
	pub(crate) fn on_estimate(
		&mut self,
		target: u8,
		pending: bool,
		ranked: &[u8],
		rate: impl Fn(u8) -> u64,
		estimate: f64,
		now: Instant,
	) -> Option<u8> {
		// The first estimate counts as lowered: it is the controller's first change from where
		// it started, above every layer.
		let lowered = self.estimate.replace(estimate).is_none_or(|before| estimate < before);
		if !lowered {
			return None;
		}
		// The path pushed back: no step up for a while, whatever the receiver reports say.
		self.clean_since = None;
		let position = ranked.iter().position(|layer| *layer == target)?;
		if position == 0 || pending || rate(target) as f64 <= estimate {
			return None;
		}
		// A step up on trial that the estimate does not carry ends at once (the estimate is about
		// the new layer: it was lowered since the switch); otherwise the hold after a switch.
		let in_trial = self.trial_until.is_some_and(|until| now <= until);
		if !in_trial && now.saturating_duration_since(self.last_change) < DOWN_HOLD {
			return None;
		}
		let layer = best_within(&ranked[..position], rate, Some(estimate))?;
		self.step_down(now);
		Some(layer)
	}

	/// A step down now: a step up on trial failed, and the next attempt waits longer.
	fn step_down(&mut self, now: Instant) {
		if self.trial_until.is_some_and(|until| now <= until) {
			self.up_after = (self.up_after * 2).min(MAX_UP_AFTER);
		}
		self.trial_until = None;
		self.last_change = now;
	}

	/// The switch to a new layer happened (its keyframe was sent): the hold before the next
	/// step, and a step up's trial, count from now.
	pub(crate) fn on_switched(&mut self, now: Instant) {
		self.last_change = now;
		if self.trial_until.is_some() {
			self.trial_until = Some(now + TRIAL);
		}
	}

	/// The layer a viewer sent `target` should get after a receiver report of `fraction_lost`,
	/// from `ranked` (the arriving layers, lowest bitrate first); `None` to stay. While a switch
	/// is `pending` the reports still describe the old layer, and nothing changes.
	pub(crate) fn on_report(
		&mut self,
		target: u8,
		pending: bool,
		ranked: &[u8],
		fraction_lost: f64,
		now: Instant,
	) -> Option<u8> {
		let Some(position) = ranked.iter().position(|layer| *layer == target) else {
			// The layer stopped arriving (or none is measured yet): the best that arrives.
			self.last_change = now;
			return ranked.last().copied();
		};
		if ranked.len() < 2 || pending {
			return None;
		}
		if self.trial_until.is_some_and(|until| now > until) {
			// The last step up held.
			self.trial_until = None;
			self.up_after = FIRST_UP_AFTER;
		}
		if fraction_lost >= CONGESTED_LOSS {
			self.clean_since = None;
			if position == 0 || now.saturating_duration_since(self.last_change) < DOWN_HOLD {
				return None;
			}
			self.step_down(now);
			return Some(ranked[position - 1]);
		}
		if fraction_lost >= CLEAN_LOSS {
			self.clean_since = None;
			return None;
		}
		let clean_since = *self.clean_since.get_or_insert(now);
		let waited = now
			.saturating_duration_since(clean_since)
			.min(now.saturating_duration_since(self.last_change));
		if position + 1 < ranked.len() && waited >= self.up_after {
			self.last_change = now;
			self.trial_until = Some(now + TRIAL);
			return Some(ranked[position + 1]);
		}
		None
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const SECOND: Duration = Duration::from_secs(1);

	#[test]
	fn layers_are_ranked_by_what_arrives_and_keyframe_wishes_are_taken_once() {
		let layers = Layers::new(1);
		assert_eq!(layers.add(), Some(1));
		assert_eq!(layers.add(), Some(2));
		assert_eq!(layers.add(), None, "at most three layers");
		let start = Instant::now();
		let mut meter = RateMeter::new(start);
		// A packet of each layer every 100 ms.
		for tick in 0..=10 {
			if tick == 10 {
				assert!(layers.ranked().is_empty(), "no rate before a whole window");
			}
			for (layer, size) in [(0u8, 1_000usize), (1, 100), (2, 10)] {
				meter.count(&layers, layer, size, start + SECOND / 10 * tick);
			}
		}
		assert_eq!(layers.rate(0), 88_000);
		assert_eq!(layers.ranked(), vec![2, 1, 0], "lowest bitrate first, whatever the order");
		assert_eq!(layers.take_wanted(), u8::MAX, "no layer named: all of them");
		layers.want_keyframe(2);
		layers.want_keyframe(0);
		assert_eq!(layers.take_wanted(), 0b101);
		assert_eq!(layers.take_wanted(), u8::MAX);
	}

	#[test]
	fn a_layer_that_falls_silent_while_others_arrive_is_at_once_measured_at_nothing() {
		let layers = Layers::new(2);
		let start = Instant::now();
		let mut meter = RateMeter::new(start);
		let frame = SECOND / 30;
		let mut now = start;
		for _ in 0..32 {
			meter.count(&layers, 0, 100, now);
			meter.count(&layers, 1, 1_000, now);
			now += frame;
		}
		assert_eq!(layers.ranked(), vec![0, 1]);
		// Layer 1 stops; layer 0 goes on. Not yet after a few frames' gap...
		for _ in 0..6 {
			meter.count(&layers, 0, 100, now);
			now += frame;
		}
		assert!(layers.rate(1) > 0, "a gap of a few frames is not silence");
		// ...but within SILENT_LAYER, long before the window ends.
		for _ in 0..7 {
			meter.count(&layers, 0, 100, now);
			now += frame;
		}
		assert_eq!(layers.rate(1), 0);
		assert_eq!(layers.ranked(), vec![0]);
		// It comes back: measured again from the next window on.
		for _ in 0..40 {
			meter.count(&layers, 0, 100, now);
			meter.count(&layers, 1, 1_000, now);
			now += frame;
		}
		assert_eq!(layers.ranked(), vec![0, 1]);
	}

	#[test]
	fn a_pause_of_every_layer_or_a_layer_of_few_frames_is_not_silence() {
		let layers = Layers::new(3);
		let start = Instant::now();
		let mut meter = RateMeter::new(start);
		let frame = SECOND / 30;
		let mut now = start;
		// Layers 1 and 2 at 30 frames a second, layer 0 at two.
		for tick in 0..64u32 {
			if tick % 15 == 0 {
				meter.count(&layers, 0, 100, now);
			}
			meter.count(&layers, 1, 1_000, now);
			meter.count(&layers, 2, 2_000, now);
			now += frame;
		}
		assert_eq!(layers.ranked(), vec![0, 1, 2], "a layer of two frames a second arrives");
		// Every layer pauses for half a second (a network stall), then they come back: the
		// first packet after the pause does not make the others silent.
		now += SECOND / 2;
		meter.count(&layers, 1, 1_000, now);
		meter.count(&layers, 2, 2_000, now);
		meter.count(&layers, 0, 100, now);
		assert_eq!(layers.ranked(), vec![0, 1, 2]);
		// Layer 2 stops while layer 1 goes on steadily: silent within 400 ms.
		for _ in 0..14 {
			now += frame;
			meter.count(&layers, 1, 1_000, now);
		}
		assert_eq!(layers.rate(2), 0);
		assert!(layers.rate(0) > 0, "two frames a second, the last under a second ago");
	}

	#[test]
	fn vp8_picture_ids_and_tl0_indices_carry_on_across_a_switch() {
		// X, S; I and L; a 15-bit picture id; a TL0PICIDX; the VP8 header.
		let vp8 = |picture_id: u16, tl0_index: u8| {
			let [high, low] = picture_id.to_be_bytes();
			vec![0x90, 0xc0, 0x80 | high, low, tl0_index, 0x00]
		};
		let read = |payload: &[u8]| {
			let ids = crate::codec::Vp8Ids::find(payload);
			(ids.picture_id(payload), ids.tl0_index(payload))
		};
		let mut numbering = Vp8Numbering::default();
		// The first layer goes out as it is.
		assert_eq!(numbering.renumber(&vp8(30_000, 200), false), None);
		assert_eq!(numbering.renumber(&vp8(30_001, 200), false), None);
		// A switch to a layer whose numbers are lower: they carry on from the last ones sent...
		let switched = numbering.renumber(&vp8(12, 250), true).expect("renumbered");
		assert_eq!(read(&switched), (Some(30_002), Some(201)));
		let next = numbering.renumber(&vp8(13, 251), false).expect("renumbered");
		assert_eq!(read(&next), (Some(30_003), Some(202)));
		// ...and wrap around within their widths.
		let mut numbering = Vp8Numbering::default();
		numbering.renumber(&vp8(0x7fff, 255), false);
		let switched = numbering.renumber(&vp8(5, 9), true).expect("renumbered");
		assert_eq!(read(&switched), (Some(0), Some(0)));
	}

	#[test]
	fn a_switch_waits_for_a_keyframe_and_the_viewer_sees_one_continuous_stream() {
		let start = Instant::now();
		let mut switch = LayerSwitch::new(0, 90_000);
		// Joining: nothing before a keyframe of the target layer.
		assert_eq!(switch.admit(0, false, 100, 5_000, start), Admit::Skip);
		assert_eq!(switch.admit(1, true, 900, 70_000, start), Admit::Skip);
		// The first keyframe is sent as it is.
		assert_eq!(
			switch.admit(0, true, 101, 6_000, start),
			Admit::Send { sequence_number: 101, timestamp: 6_000 }
		);
		assert_eq!(
			switch.admit(0, false, 102, 9_000, start + SECOND / 30),
			Admit::Send { sequence_number: 102, timestamp: 9_000 }
		);
		// Retargeted: layer 0 goes on until layer 1's keyframe.
		switch.retarget(1);
		assert!(switch.waits());
		assert_eq!(switch.admit(1, false, 901, 71_000, start + SECOND / 15), Admit::Skip);
		assert_eq!(
			switch.admit(0, false, 103, 12_000, start + SECOND / 15),
			Admit::Send { sequence_number: 103, timestamp: 12_000 }
		);
		// Layer 1's keyframe 1/30 s later: its numbers carry on from layer 0's.
		let Admit::Send { sequence_number, timestamp } =
			switch.admit(1, true, 905, 80_000, start + SECOND / 10)
		else {
			panic!("the keyframe is sent");
		};
		assert_eq!(sequence_number, 104);
		assert_eq!(timestamp, 12_000 + 3_000);
		assert_eq!(switch.switches(), 1);
		assert_eq!(switch.admit(0, false, 104, 15_000, start + SECOND / 10), Admit::Skip);
		assert_eq!(
			switch.admit(1, false, 906, 83_000, start + SECOND / 9),
			Admit::Send { sequence_number: 105, timestamp: 18_000 }
		);
		// Falling behind: the next packet sent starts a keyframe, still continuous.
		switch.wait_for_keyframe();
		assert_eq!(switch.admit(1, false, 907, 86_000, start + SECOND / 8), Admit::Skip);
		let Admit::Send { sequence_number, .. } =
			switch.admit(1, true, 950, 99_000, start + SECOND / 2)
		else {
			panic!("the keyframe is sent");
		};
		assert_eq!(sequence_number, 106);
		assert_eq!(switch.switches(), 1, "catching up is not a switch");
		// A late packet of the layer from before the keyframe it resumed at is not sent: its
		// number would repeat one already sent.
		assert_eq!(switch.admit(1, false, 949, 98_000, start + SECOND / 2), Admit::Skip);
		assert_eq!(
			switch.admit(1, false, 951, 99_000, start + SECOND / 2),
			Admit::Send {
				sequence_number: 107,
				timestamp: 99_000u32.wrapping_add(switch.timestamp_offset)
			}
		);
	}

	#[test]
	fn a_switch_away_from_a_congested_layer_sends_nothing_of_it_until_the_new_keyframe() {
		let start = Instant::now();
		let mut switch = LayerSwitch::new(2, 90_000);
		switch.admit(2, true, 10, 1_000, start);
		switch.retarget_holding(1);
		assert!(switch.waits());
		assert_eq!(switch.admit(2, false, 11, 4_000, start), Admit::Skip);
		assert_eq!(switch.admit(1, false, 300, 4_000, start), Admit::Skip);
		assert!(matches!(
			switch.admit(1, true, 301, 7_000, start + SECOND / 10),
			Admit::Send { sequence_number: 11, .. }
		));
		assert_eq!(switch.switches(), 1);
		// Holding was for that switch only: a later one sends the old layer until it happens.
		switch.retarget(2);
		assert!(matches!(
			switch.admit(1, false, 302, 10_000, start + SECOND / 5),
			Admit::Send { .. }
		));
		// Holding on the layer being sent already is no hold.
		switch.retarget_holding(1);
		assert!(!switch.waits());
		assert!(matches!(
			switch.admit(1, false, 303, 13_000, start + SECOND / 4),
			Admit::Send { .. }
		));
	}

	#[test]
	fn a_layer_is_sent_on_past_its_sequence_numbers_wrapping_around() {
		let start = Instant::now();
		let mut switch = LayerSwitch::new(0, 90_000);
		assert!(matches!(switch.admit(0, true, 60_000, 0, start), Admit::Send { .. }));
		// 200,000 packets: past 32,768 after the keyframe, and three wraps of the numbers.
		for n in 1..200_000u32 {
			let sequence_number = 60_000u16.wrapping_add(n as u16);
			let sent = switch.admit(0, false, sequence_number, n, start);
			assert!(matches!(sent, Admit::Send { .. }), "packet {n} was not sent");
		}
		// A late packet from within the window is still sent; one from far behind is not.
		let latest = 60_000u16.wrapping_add((200_000 - 1) as u16);
		assert!(matches!(
			switch.admit(0, false, latest.wrapping_sub(100), 0, start),
			Admit::Send { .. }
		));
		assert_eq!(switch.admit(0, false, latest.wrapping_sub(20_000), 0, start), Admit::Skip);
	}

	#[test]
	fn packets_of_the_new_layer_from_before_its_keyframe_are_not_sent() {
		let start = Instant::now();
		let mut switch = LayerSwitch::new(0, 90_000);
		switch.admit(0, true, 10, 1_000, start);
		switch.admit(0, false, 11, 1_000, start);
		switch.retarget(1);
		assert!(matches!(
			switch.admit(1, true, 500, 9_000, start),
			Admit::Send { sequence_number: 12, .. }
		));
		// Reordered, or a retransmission of what came before the keyframe.
		assert_eq!(switch.admit(1, false, 499, 8_000, start), Admit::Skip);
		assert_eq!(switch.admit(1, false, 460, 8_000, start), Admit::Skip);
		assert!(matches!(
			switch.admit(1, false, 501, 9_000, start),
			Admit::Send { sequence_number: 13, .. }
		));
	}

	#[test]
	fn rewriting_wraps_around() {
		let start = Instant::now();
		let mut switch = LayerSwitch::new(0, 90_000);
		switch.admit(0, true, 65_535, u32::MAX - 10, start);
		switch.retarget(1);
		assert_eq!(
			switch.admit(1, true, 7, 50, start + SECOND),
			Admit::Send { sequence_number: 0, timestamp: (u32::MAX - 10).wrapping_add(90_000) }
		);
	}

	#[test]
	fn adaptation_goes_down_on_loss_and_probes_up_ever_more_rarely() {
		let start = Instant::now();
		let ranked = [2u8, 1, 0];
		let mut adaptation = Adaptation::new(start);
		let at = |seconds: f64| start + Duration::from_secs_f64(seconds);
		// Heavy loss on the top layer: one step down, then a pause before the next.
		assert_eq!(adaptation.on_report(0, false, &ranked, 0.4, at(2.0)), Some(1));
		assert_eq!(adaptation.on_report(1, false, &ranked, 0.4, at(3.0)), None, "held");
		assert_eq!(adaptation.on_report(1, false, &ranked, 0.3, at(4.0)), Some(2));
		assert_eq!(adaptation.on_report(2, false, &ranked, 0.5, at(6.0)), None, "no layer lower");
		// Clean reports: up after FIRST_UP_AFTER.
		for second in 7..11 {
			assert_eq!(adaptation.on_report(2, false, &ranked, 0.0, at(second as f64)), None);
		}
		assert_eq!(adaptation.on_report(2, false, &ranked, 0.0, at(11.0)), Some(1));
		// The step up brings loss within the trial: back down, and the next try waits twice as long.
		assert_eq!(adaptation.on_report(1, false, &ranked, 0.2, at(13.0)), Some(2));
		for second in 14..22 {
			assert_eq!(
				adaptation.on_report(2, false, &ranked, 0.01, at(second as f64)),
				None,
				"{second}"
			);
		}
		assert_eq!(adaptation.on_report(2, false, &ranked, 0.0, at(22.0)), Some(1));
		// This one holds: after the trial the wait is short again.
		for second in 23..27 {
			assert_eq!(
				adaptation.on_report(1, false, &ranked, 0.0, at(second as f64)),
				None,
				"{second}"
			);
		}
		assert_eq!(adaptation.on_report(1, false, &ranked, 0.0, at(27.0)), Some(0));
		// Moderate loss neither climbs nor falls.
		let mut steady = Adaptation::new(start);
		for second in 1..30 {
			assert_eq!(steady.on_report(1, false, &ranked, 0.05, at(second as f64)), None);
		}
		// One layer: nothing to choose; a layer that stopped arriving: the lowest that arrives.
		assert_eq!(Adaptation::new(start).on_report(0, false, &[0], 0.9, at(5.0)), None);
		assert_eq!(Adaptation::new(start).on_report(0, false, &[2, 1], 0.0, at(5.0)), Some(1));
		// While a switch waits for its keyframe, reports describe the old layer: nothing moves,
		// and the hold counts from the switch itself.
		let mut pending = Adaptation::new(start);
		assert_eq!(pending.on_report(0, true, &ranked, 0.5, at(3.0)), None);
		pending.on_switched(at(4.0));
		assert_eq!(
			pending.on_report(0, false, &ranked, 0.5, at(5.0)),
			None,
			"held after the switch"
		);
		assert_eq!(pending.on_report(0, false, &ranked, 0.5, at(5.6)), Some(1));
	}

	#[test]
	fn adaptation_follows_a_lowered_estimate_to_the_layer_it_carries() {
		let start = Instant::now();
		let at = |seconds: f64| start + Duration::from_secs_f64(seconds);
		// Layers 2, 1, 0 at 150 kbit/s, 400 kbit/s and 1.2 Mbit/s.
		let ranked = [2u8, 1, 0];
		let rate = |layer: u8| [1_200_000u64, 400_000, 150_000][usize::from(layer)];
		let mut adaptation = Adaptation::new(start);
		let estimate = |adaptation: &mut Adaptation, target, value, seconds| {
			adaptation.on_estimate(target, false, &ranked, rate, value, at(seconds))
		};
		// A rising estimate moves nothing, nor does a lowered one that still carries the layer.
		assert_eq!(estimate(&mut adaptation, 0, 2_000_000.0, 2.0), None);
		assert_eq!(estimate(&mut adaptation, 0, 2_100_000.0, 2.1), None);
		assert_eq!(estimate(&mut adaptation, 0, 1_300_000.0, 2.2), None);
		// Lowered below it: straight to the best layer within the estimate, past one in between.
		assert_eq!(estimate(&mut adaptation, 0, 300_000.0, 2.3), Some(2));
		adaptation.on_switched(at(2.4));
		// A lowered estimate is congestion: clean receiver reports do not take it up for
		// FIRST_UP_AFTER from the last one.
		assert_eq!(estimate(&mut adaptation, 2, 250_000.0, 3.0), None);
		for second in 4..7 {
			assert_eq!(adaptation.on_report(2, false, &ranked, 0.0, at(second as f64)), None);
		}
		assert_eq!(adaptation.on_report(2, false, &ranked, 0.0, at(7.0)), None);
		assert_eq!(adaptation.on_report(2, false, &ranked, 0.0, at(8.0)), Some(1));
		adaptation.on_switched(at(8.1));
		// The trial: a lowered estimate ends it at once (no hold after the switch), and the next
		// attempt waits twice as long.
		assert_eq!(estimate(&mut adaptation, 1, 600_000.0, 8.2), None, "grown meanwhile");
		assert_eq!(estimate(&mut adaptation, 1, 350_000.0, 8.3), Some(2));
		adaptation.on_switched(at(8.4));
		for second in 9..16 {
			assert_eq!(adaptation.on_report(2, false, &ranked, 0.0, at(second as f64)), None);
		}
		assert_eq!(adaptation.on_report(2, false, &ranked, 0.0, at(17.0)), Some(1));
		// Outside a trial, a switch is held before the next.
		let mut held = Adaptation::new(start);
		assert_eq!(estimate(&mut held, 0, 2_000_000.0, 0.5), None);
		assert_eq!(estimate(&mut held, 0, 300_000.0, 1.0), None, "held after joining");
		assert_eq!(estimate(&mut held, 0, 290_000.0, 1.6), Some(2));
		// While a switch waits for its keyframe, nothing moves.
		let mut pending = Adaptation::new(start);
		pending.on_estimate(0, false, &ranked, rate, 2_000_000.0, at(2.0));
		assert_eq!(pending.on_estimate(0, true, &ranked, rate, 300_000.0, at(2.5)), None);
	}
}
