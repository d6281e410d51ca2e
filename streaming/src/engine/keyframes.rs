//! Keyframe requests (PLI, FIR) and receiver reports for the application.
//!
//! webrtc-rs hands inbound RTCP to its interceptors and stops it there unless one of them marks a
//! packet for the application. This interceptor, last in the chain, marks the compound packets
//! that ask for a keyframe, so they arrive as `TrackLocalEvent::OnRtcpPacket` on the track they
//! are about: the engine forwards a viewer's request to the stream's publisher, and the built-in
//! publisher answers one by starting at its next keyframe. It also marks receiver reports: a
//! viewer's say how the media sent to it arrives (see `quality.rs`). And it passes on the
//! congestion controller's estimate, which rides the feedback that produced it (see
//! [`Estimate`]).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

/// Where the interceptor sits: after every default interceptor (they have all read the RTCP).
pub(crate) const SLOT: usize = 14_000;

/// Marks inbound RTCP that asks for a keyframe, or reports reception, for the application, and
/// notes the congestion controller's estimate in `estimate`.
#[derive(Default)]
pub(crate) struct KeyframeRequests {
	read: VecDeque<TaggedPacket>,
	write: VecDeque<TaggedPacket>,
	estimate: Arc<Estimate>,
}

impl KeyframeRequests {
	/// The interceptor, and where it leaves the connection's bandwidth estimate.
	pub(crate) fn new() -> (Self, Arc<Estimate>) {
		let requests = Self::default();
		let estimate = requests.estimate.clone();
		(requests, estimate)
	}
}

/// The congestion controller's (GCC's) latest estimate of what the path to the peer carries, in
/// bits per second: from the peer's transport-wide congestion control feedback (TWCC), the
/// delay trend and the loss it reports. Left here by the interceptor and taken by the session's
/// driver, both on the session's own task.
#[derive(Default)]
pub(crate) struct Estimate {
	bits_per_second: AtomicU64,
	fresh: AtomicBool,
}

impl Estimate {
	fn set(&self, bits_per_second: f64) {
		self.bits_per_second.store(bits_per_second.to_bits(), Ordering::Relaxed);
		self.fresh.store(true, Ordering::Relaxed);
	}

	/// A new estimate since the last call, if there is one.
	pub(crate) fn take(&self) -> Option<f64> {
		self.fresh.swap(false, Ordering::Relaxed).then(|| self.latest()).flatten()
	}

	/// The latest estimate; `None` before the first feedback.
	pub(crate) fn latest(&self) -> Option<f64> {
		let bits_per_second = f64::from_bits(self.bits_per_second.load(Ordering::Relaxed));
		(bits_per_second > 0.0).then_some(bits_per_second)
	}
}

/// Whether an RTCP packet asks the sender for a keyframe.
pub(crate) fn is_keyframe_request(packet: &dyn rtc::rtcp::Packet) -> bool {
	let packet = packet.as_any();
	packet.is::<PictureLossIndication>() || packet.is::<FullIntraRequest>()
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
	type Rout = TaggedPacket;
	type Wout = TaggedPacket;
	type Eout = ();
	type Error = Error;
	type Time = Instant;

	fn handle_read(&mut self, mut message: TaggedPacket) -> Result<(), Error> {
		if let Some(Attribute::TargetBitrateChanged { bits_per_second }) =
			message.message.get(&Attribute::TargetBitrateChanged { bits_per_second: 0.0 })
		{
			self.estimate.set(*bits_per_second);
		}
		if let Packet::Rtcp(packets) = &message.message.packet {
			let for_application = |packet: &dyn rtc::rtcp::Packet| {
				is_keyframe_request(packet)
					|| packet.as_any().is::<rtc::rtcp::receiver_report::ReceiverReport>()
			};
			if packets.iter().any(|packet| for_application(packet.as_ref())) {
				message.message.add(Attribute::DeliverToApplication);
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

impl Interceptor for KeyframeRequests {
	fn bind_local_stream(&mut self, _: &StreamInfo) {}
	fn unbind_local_stream(&mut self, _: &StreamInfo) {}
	fn bind_remote_stream(&mut self, _: &StreamInfo) {}
	fn unbind_remote_stream(&mut self, _: &StreamInfo) {}
}
