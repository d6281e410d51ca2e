//! A stream's packets on their way to its viewers, and the latest keyframe of each video layer.
//!
//! A viewer can start only at a keyframe. One that joins shortly after a keyframe went by would
//! ask the publisher for another, and the requests are rate-limited per stream (a crowd joining
//! costs the publisher at most five keyframes a second), so viewers joining one after another
//! each waited up to that limit for their picture. Instead each video layer's latest keyframe,
//! and what followed it, is kept for [`RECENT_KEYFRAME`]: a viewer that joins meanwhile starts
//! from it at once and asks for nothing. It starts at most that much behind the live edge, which
//! its jitter buffer absorbs in the first seconds.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::Relayed;

/// How long a keyframe, and what followed it, is kept for viewers that join.
pub(crate) const RECENT_KEYFRAME: Duration = Duration::from_millis(300);

/// At most this many packets are kept per layer: as many as a viewer holds while it connects.
const RECENT_PACKETS: usize = super::viewer::EARLY_PACKETS;

/// A stream's packets for its viewers.
pub(crate) struct Fanout {
	sender: broadcast::Sender<Relayed>,
	recent: Mutex<Vec<Recent>>,
}

/// One video layer's latest keyframe and the packets after it, while they are recent.
struct Recent {
	track: usize,
	layer: u8,
	since: Instant,
	packets: Vec<Relayed>,
}

impl Fanout {
	/// A stream whose slowest viewer may fall `capacity` packets behind before it skips ahead.
	pub(crate) fn new(capacity: usize) -> Self {
		Self { sender: broadcast::channel(capacity).0, recent: Mutex::new(Vec::new()) }
	}

	fn recent(&self) -> MutexGuard<'_, Vec<Recent>> {
		// Every update is a push or a clear that cannot panic halfway.
		self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Sends `relayed` to the viewers. `keyframe` says whether it starts a keyframe of its
	/// video layer; `None` for a track whose keyframes are not found (audio).
	pub(crate) fn send(&self, relayed: Relayed, keyframe: Option<bool>) {
		let mut recent = self.recent();
		if let Some(starts) = keyframe {
			let kept = recent
				.iter()
				.position(|kept| kept.track == relayed.track && kept.layer == relayed.layer);
			match kept {
				Some(index) if starts => {
					let kept = &mut recent[index];
					kept.since = relayed.arrived;
					kept.packets.clear();
					kept.packets.push(relayed.clone());
				},
				None if starts => recent.push(Recent {
					track: relayed.track,
					layer: relayed.layer,
					since: relayed.arrived,
					packets: vec![relayed.clone()],
				}),
				Some(index) => {
					let kept = &mut recent[index];
					let age = relayed.arrived.saturating_duration_since(kept.since);
					if age > RECENT_KEYFRAME || kept.packets.len() >= RECENT_PACKETS {
						recent.swap_remove(index);
					} else {
						kept.packets.push(relayed.clone());
					}
				},
				None => {},
			}
		}
		// No viewers is not an error: the packet is simply not needed. Sent under the lock, so
		// that a viewer subscribing gets each packet once: kept, or sent after it subscribed.
		let _ = self.sender.send(relayed);
	}

	/// The packets from now on, and before them each video layer's keyframe of the last
	/// [`RECENT_KEYFRAME`] with what followed it (each layer's in the order they arrived).
	pub(crate) fn subscribe(&self, now: Instant) -> (broadcast::Receiver<Relayed>, Vec<Relayed>) {
		let recent = self.recent();
		let receiver = self.sender.subscribe();
		let packets = recent
			.iter()
			.filter(|kept| now.saturating_duration_since(kept.since) <= RECENT_KEYFRAME)
			.flat_map(|kept| kept.packets.iter().cloned())
			.collect();
		(receiver, packets)
	}
}

impl Fanout {
	/// What is kept of `track`'s `layer` (its keyframe of the last [`RECENT_KEYFRAME`] and what
	/// followed), up to the packets that arrived by `until`: what a viewer that has passed
	/// them by needs to switch to that layer at once.
	pub(crate) fn kept(
		&self,
		track: usize,
		layer: u8,
		until: Instant,
		now: Instant,
	) -> Vec<Relayed> {
		self.recent()
			.iter()
			.filter(|kept| kept.track == track && kept.layer == layer)
			.filter(|kept| now.saturating_duration_since(kept.since) <= RECENT_KEYFRAME)
			.flat_map(|kept| {
				kept.packets.iter().filter(|relayed| relayed.arrived <= until).cloned()
			})
			.collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn packet(track: usize, layer: u8, sequence_number: u16, arrived: Instant) -> Relayed {
		let mut packet = rtc::rtp::Packet::default();
		packet.header.sequence_number = sequence_number;
		Relayed { track, layer, arrived, packet }
	}

	fn numbers(packets: &[Relayed]) -> Vec<(u8, u16)> {
		packets
			.iter()
			.map(|relayed| (relayed.layer, relayed.packet.header.sequence_number))
			.collect()
	}

	#[test]
	fn a_viewer_joining_after_a_keyframe_gets_it_and_what_followed_once() {
		let fanout = Fanout::new(16);
		let start = Instant::now();
		let frame = Duration::from_millis(33);
		// Audio and video before any keyframe: nothing kept.
		fanout.send(packet(1, 0, 1, start), None);
		fanout.send(packet(0, 0, 10, start), Some(false));
		assert!(fanout.subscribe(start).1.is_empty());
		// A keyframe of layer 0, then two more packets; a keyframe of layer 1.
		fanout.send(packet(0, 0, 11, start + frame), Some(true));
		fanout.send(packet(0, 0, 12, start + frame), Some(false));
		fanout.send(packet(1, 0, 2, start + frame), None);
		fanout.send(packet(0, 1, 50, start + frame), Some(true));
		fanout.send(packet(0, 0, 13, start + frame * 2), Some(false));
		let (mut receiver, recent) = fanout.subscribe(start + frame * 2);
		assert_eq!(numbers(&recent), vec![(0, 11), (0, 12), (0, 13), (1, 50)]);
		// What comes next arrives on the receiver only.
		fanout.send(packet(0, 0, 14, start + frame * 3), Some(false));
		assert_eq!(receiver.try_recv().unwrap().packet.header.sequence_number, 14);
		assert!(receiver.try_recv().is_err());
	}

	#[test]
	fn a_layer_switched_to_gets_what_is_kept_of_it_up_to_where_the_viewer_is() {
		let fanout = Fanout::new(16);
		let start = Instant::now();
		let frame = Duration::from_millis(33);
		fanout.send(packet(0, 1, 20, start), Some(true));
		fanout.send(packet(0, 0, 5, start), Some(true));
		fanout.send(packet(0, 1, 21, start + frame), Some(false));
		fanout.send(packet(0, 1, 22, start + frame * 2), Some(false));
		let now = start + frame * 2;
		assert_eq!(numbers(&fanout.kept(0, 1, start + frame, now)), vec![(1, 20), (1, 21)]);
		assert_eq!(numbers(&fanout.kept(0, 1, now, now)), vec![(1, 20), (1, 21), (1, 22)]);
		assert!(fanout.kept(1, 1, now, now).is_empty(), "another track");
		assert!(fanout.kept(0, 1, now, start + RECENT_KEYFRAME * 2).is_empty(), "too old");
	}

	#[test]
	fn a_keyframe_is_kept_only_while_it_is_recent() {
		let fanout = Fanout::new(16);
		let start = Instant::now();
		fanout.send(packet(0, 0, 1, start), Some(true));
		// Asked after the keyframe aged: nothing, even before the next packet.
		assert!(fanout.subscribe(start + RECENT_KEYFRAME + Duration::from_millis(1)).1.is_empty());
		// The next packet after that age drops what was kept.
		fanout.send(packet(0, 0, 2, start + RECENT_KEYFRAME * 2), Some(false));
		assert!(fanout.subscribe(start).1.is_empty());
		// A newer keyframe replaces an older one.
		fanout.send(packet(0, 0, 3, start), Some(true));
		fanout.send(packet(0, 0, 4, start), Some(true));
		assert_eq!(numbers(&fanout.subscribe(start).1), vec![(0, 4)]);
	}

	#[test]
	fn at_most_a_connecting_viewers_worth_of_packets_is_kept() {
		let fanout = Fanout::new(16);
		let start = Instant::now();
		fanout.send(packet(0, 0, 0, start), Some(true));
		for number in 1..RECENT_PACKETS as u16 {
			fanout.send(packet(0, 0, number, start), Some(false));
		}
		assert_eq!(fanout.subscribe(start).1.len(), RECENT_PACKETS);
		fanout.send(packet(0, 0, RECENT_PACKETS as u16, start), Some(false));
		assert!(fanout.subscribe(start).1.is_empty());
	}
}
