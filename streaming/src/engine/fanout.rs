//! A stream's packets on their way to its viewers, and the latest keyframe of each video layer.
//!
//! A viewer can start only at a keyframe. One that joins shortly after a keyframe went by would
//! ask the publisher for another, and the requests are rate-limited per stream (a crowd joining
//! costs the publisher at most five keyframes a second), so viewers joining one after another
//! each waited up to that limit for their picture. Instead each video layer's latest keyframe,
//! and what followed it, is kept: a viewer that joins within [`RECENT_KEYFRAME`] of it starts
//! from it at once and asks for nothing, at most that much behind the live edge. A viewer whose
//! layer stopped switches on the next layer's kept keyframe if it came after what the viewer was
//! last sent (a browser that turns a layer off sends one on the others as it does), for up to
//! [`KEPT_FOR_SWITCH`].

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::Relayed;

/// How old a kept keyframe may be for a joining viewer to start from it.
pub(crate) const RECENT_KEYFRAME: Duration = Duration::from_millis(300);

/// How long a keyframe, and what followed it, is kept: for a viewer whose layer stopped, which
/// notices only after 400 ms of silence.
pub(crate) const KEPT_FOR_SWITCH: Duration = Duration::from_millis(600);

/// At most this many packets are kept per layer: half of what a viewer holds while it connects,
/// so that what it starts from leaves room for what arrives meanwhile.
const RECENT_PACKETS: usize = super::viewer::EARLY_PACKETS / 2;

/// A stream's packets for its viewers.
pub(crate) struct Fanout {
	sender: broadcast::Sender<Relayed>,
	recent: Mutex<Vec<Recent>>,
}

/// One video layer's latest keyframe and the packets after it, while they are recent.
struct Recent {
	track: usize,
	layer: u8,
	/// The keyframe's RTP timestamp: every packet that starts a keyframe with it (H.264's
	/// parameter sets, then each slice of the picture) belongs to the same picture.
	timestamp: u32,
	since: Instant,
	packets: Vec<Relayed>,
}

impl Fanout {
	/// A stream whose slowest viewer may fall `capacity` packets behind before it skips ahead.
	pub(crate) fn new(capacity: usize) -> Self {
		Self { sender: broadcast::channel(capacity).0, recent: Mutex::new(Vec::new()) }
	}

	fn recent(&self) -> MutexGuard<'_, Vec<Recent>> {
		// Every update is a push, a clear or a removal that cannot panic halfway.
		self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Sends `relayed` to the viewers. `keyframe` says whether it starts a keyframe of its
	/// video layer; `None` for a track whose keyframes are not found (audio).
	pub(crate) fn send(&self, relayed: Relayed, keyframe: Option<bool>) {
		let mut recent = self.recent();
		// What is no longer of use goes, whichever layer it is of (a layer that stopped too).
		recent.retain(|kept| {
			relayed.arrived.saturating_duration_since(kept.since) <= KEPT_FOR_SWITCH
				&& kept.packets.len() < RECENT_PACKETS
		});
		if let Some(starts) = keyframe {
			let timestamp = relayed.packet.header.timestamp;
			let kept = recent
				.iter()
				.position(|kept| kept.track == relayed.track && kept.layer == relayed.layer);
			match kept {
				// A new picture: it replaces what was kept.
				Some(index) if starts && recent[index].timestamp != timestamp => {
					let kept = &mut recent[index];
					kept.timestamp = timestamp;
					kept.since = relayed.arrived;
					kept.packets.clear();
					kept.packets.push(relayed.clone());
				},
				Some(index) => recent[index].packets.push(relayed.clone()),
				None if starts => recent.push(Recent {
					track: relayed.track,
					layer: relayed.layer,
					timestamp,
					since: relayed.arrived,
					packets: vec![relayed.clone()],
				}),
				None => {},
			}
		}
		// No viewers is not an error: the packet is simply not needed. Sent under the lock, so
		// that a viewer subscribing gets each packet once: kept, or sent after it subscribed.
		let _ = self.sender.send(relayed);
	}

	/// The packets from now on, and before them the keyframe of the last [`RECENT_KEYFRAME`]
	/// of each of the `wanted` (track, layer) pairs, with what followed it (in arrival order).
	pub(crate) fn subscribe(
		&self,
		wanted: &[(usize, u8)],
		now: Instant,
	) -> (broadcast::Receiver<Relayed>, Vec<Relayed>) {
		let recent = self.recent();
		let receiver = self.sender.subscribe();
		let packets = recent
			.iter()
			.filter(|kept| wanted.contains(&(kept.track, kept.layer)))
			.filter(|kept| now.saturating_duration_since(kept.since) <= RECENT_KEYFRAME)
			.flat_map(|kept| kept.packets.iter().cloned())
			.collect();
		(receiver, packets)
	}

	/// What is kept of `track`'s `layer`, if its keyframe arrived after `after` (so a viewer
	/// sent packets up to then sees nothing twice), up to the packets that arrived by `until`:
	/// what a viewer that has passed them by needs to switch to that layer at once.
	pub(crate) fn kept(
		&self,
		track: usize,
		layer: u8,
		after: Option<Instant>,
		until: Instant,
	) -> Vec<Relayed> {
		self.recent()
			.iter()
			.filter(|kept| kept.track == track && kept.layer == layer)
			.filter(|kept| after.is_none_or(|after| kept.since > after))
			.flat_map(|kept| {
				kept.packets.iter().filter(|relayed| relayed.arrived <= until).cloned()
			})
			.collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A packet of `track`'s `layer`, numbered `sequence_number`, of the picture at `timestamp`.
	fn packet(
		track: usize,
		layer: u8,
		sequence_number: u16,
		timestamp: u32,
		arrived: Instant,
	) -> Relayed {
		let mut packet = rtc::rtp::Packet::default();
		packet.header.sequence_number = sequence_number;
		packet.header.timestamp = timestamp;
		Relayed { track, layer, arrived, packet }
	}

	fn numbers(packets: &[Relayed]) -> Vec<(u8, u16)> {
		packets
			.iter()
			.map(|relayed| (relayed.layer, relayed.packet.header.sequence_number))
			.collect()
	}

	const ALL: &[(usize, u8)] = &[(0, 0), (0, 1), (1, 0)];

	#[test]
	fn a_viewer_joining_after_a_keyframe_gets_it_and_what_followed_once() {
		let fanout = Fanout::new(16);
		let start = Instant::now();
		let frame = Duration::from_millis(33);
		// Audio and video before any keyframe: nothing kept.
		fanout.send(packet(1, 0, 1, 0, start), None);
		fanout.send(packet(0, 0, 10, 0, start), Some(false));
		assert!(fanout.subscribe(ALL, start).1.is_empty());
		// A keyframe of layer 0, then two more packets; a keyframe of layer 1.
		fanout.send(packet(0, 0, 11, 3000, start + frame), Some(true));
		fanout.send(packet(0, 0, 12, 3000, start + frame), Some(false));
		fanout.send(packet(1, 0, 2, 0, start + frame), None);
		fanout.send(packet(0, 1, 50, 3000, start + frame), Some(true));
		fanout.send(packet(0, 0, 13, 6000, start + frame * 2), Some(false));
		let (mut receiver, recent) = fanout.subscribe(ALL, start + frame * 2);
		assert_eq!(numbers(&recent), vec![(0, 11), (0, 12), (0, 13), (1, 50)]);
		// Only what the viewer takes.
		assert_eq!(numbers(&fanout.subscribe(&[(0, 1)], start + frame * 2).1), vec![(1, 50)]);
		// What comes next arrives on the receiver only.
		fanout.send(packet(0, 0, 14, 9000, start + frame * 3), Some(false));
		assert_eq!(receiver.try_recv().unwrap().packet.header.sequence_number, 14);
		assert!(receiver.try_recv().is_err());
	}

	#[test]
	fn every_part_of_a_keyframe_that_starts_it_is_kept() {
		// H.264: the parameter sets, then the picture in two slices, each packet "starting a
		// keyframe", all with the picture's timestamp.
		let fanout = Fanout::new(16);
		let start = Instant::now();
		for (number, starts) in [(1, true), (2, true), (3, true), (4, false), (5, true), (6, false)]
		{
			fanout.send(packet(0, 0, number, 3000, start), Some(starts));
		}
		assert_eq!(numbers(&fanout.subscribe(ALL, start).1).len(), 6);
		// The next picture that starts a keyframe replaces them.
		fanout.send(packet(0, 0, 7, 6000, start), Some(true));
		assert_eq!(numbers(&fanout.subscribe(ALL, start).1), vec![(0, 7)]);
	}

	#[test]
	fn a_layer_switched_to_gets_what_is_kept_of_it_if_it_came_after_what_the_viewer_saw() {
		let fanout = Fanout::new(16);
		let start = Instant::now();
		let frame = Duration::from_millis(33);
		fanout.send(packet(0, 1, 20, 3000, start + frame), Some(true));
		fanout.send(packet(0, 0, 5, 3000, start + frame), Some(true));
		fanout.send(packet(0, 1, 21, 6000, start + frame * 2), Some(false));
		fanout.send(packet(0, 1, 22, 9000, start + frame * 3), Some(false));
		let until = start + frame * 2;
		assert_eq!(numbers(&fanout.kept(0, 1, Some(start), until)), vec![(1, 20), (1, 21)]);
		let now = start + frame * 3;
		assert_eq!(numbers(&fanout.kept(0, 1, None, now)), vec![(1, 20), (1, 21), (1, 22)]);
		assert!(fanout.kept(1, 1, None, now).is_empty(), "another track");
		// A keyframe from before what the viewer was last sent would show it the past again.
		assert!(fanout.kept(0, 1, Some(start + frame), now).is_empty());
	}

	#[test]
	fn a_keyframe_is_kept_only_while_it_is_of_use() {
		let fanout = Fanout::new(16);
		let start = Instant::now();
		fanout.send(packet(0, 0, 1, 3000, start), Some(true));
		fanout.send(packet(0, 1, 1, 3000, start), Some(true));
		// Too old for a joining viewer, not yet for a switch.
		let later = start + RECENT_KEYFRAME + Duration::from_millis(1);
		assert!(fanout.subscribe(ALL, later).1.is_empty());
		assert_eq!(fanout.kept(0, 0, None, later).len(), 1);
		// Any packet after KEPT_FOR_SWITCH drops what was kept of every layer.
		fanout.send(packet(0, 0, 2, 6000, start + KEPT_FOR_SWITCH * 2), Some(false));
		assert!(fanout.kept(0, 0, None, start + KEPT_FOR_SWITCH * 2).is_empty());
		assert!(fanout.kept(0, 1, None, start + KEPT_FOR_SWITCH * 2).is_empty());
	}

	#[test]
	fn at_most_half_a_connecting_viewers_worth_of_packets_is_kept() {
		let fanout = Fanout::new(16);
		let start = Instant::now();
		fanout.send(packet(0, 0, 0, 3000, start), Some(true));
		for number in 1..RECENT_PACKETS as u16 {
			fanout.send(packet(0, 0, number, 3000 + u32::from(number), start), Some(false));
		}
		assert_eq!(fanout.subscribe(ALL, start).1.len(), RECENT_PACKETS);
		fanout.send(packet(0, 0, RECENT_PACKETS as u16, 9000, start), Some(false));
		assert!(fanout.subscribe(ALL, start).1.is_empty());
	}
}
