//! What the engine reports to its owner.

use bytes::Bytes;

use crate::types::{LeaveReason, SessionId, StreamId};

/// Something that happened in the engine. Read them from [`crate::EngineEvents`]; the engine
/// waits for the reader when it falls behind rather than lose one (data channel messages carry
/// payments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineEvent {
	/// A publisher's media arrived: the stream is live and viewers may join.
	StreamLive {
		/// The stream.
		stream: StreamId,
		/// The publisher's session.
		session: SessionId,
	},
	/// A stream stopped being live (its publisher left or it was ended).
	StreamEnded {
		/// The stream.
		stream: StreamId,
		/// Why.
		reason: LeaveReason,
	},
	/// A viewer's connection is up and media flows to it.
	ViewerJoined {
		/// The stream.
		stream: StreamId,
		/// The viewer's session.
		session: SessionId,
	},
	/// A viewer's session ended.
	ViewerLeft {
		/// The stream.
		stream: StreamId,
		/// The viewer's session.
		session: SessionId,
		/// Why.
		reason: LeaveReason,
	},
	/// A viewer opened the `sutantra-pay` data channel.
	DataChannelOpen {
		/// The stream.
		stream: StreamId,
		/// The viewer's session.
		session: SessionId,
	},
	/// A message arrived on a viewer's `sutantra-pay` data channel.
	DataMessage {
		/// The stream.
		stream: StreamId,
		/// The viewer's session.
		session: SessionId,
		/// The message, as sent.
		data: Bytes,
	},
}
