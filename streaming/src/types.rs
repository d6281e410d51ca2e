//! Identifiers and small shared types.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A stream's id as it appears in signalling URLs (`/whip/{stream}`): 1 to 64 ASCII letters,
/// digits, `-` or `_`. The chain's numeric stream ids are written in decimal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(String);

impl StreamId {
	/// The id as text.
	pub fn as_str(&self) -> &str {
		&self.0
	}
}

impl FromStr for StreamId {
	type Err = Error;

	fn from_str(text: &str) -> Result<Self, Error> {
		let valid = !text.is_empty()
			&& text.len() <= 64
			&& text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
		if valid {
			Ok(Self(text.to_owned()))
		} else {
			Err(Error::InvalidStreamId(text.chars().take(80).collect()))
		}
	}
}

impl TryFrom<String> for StreamId {
	type Error = Error;

	fn try_from(text: String) -> Result<Self, Error> {
		text.parse()
	}
}

impl From<StreamId> for String {
	fn from(id: StreamId) -> String {
		id.0
	}
}

impl From<u64> for StreamId {
	fn from(id: u64) -> Self {
		Self(id.to_string())
	}
}

impl fmt::Display for StreamId {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(&self.0)
	}
}

/// One WebRTC session (a publisher's or a viewer's peer connection); random, unguessable, and
/// part of the resource URL the client deletes to leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(u128);

impl SessionId {
	pub(crate) fn random() -> Self {
		Self(rand::random())
	}
}

impl fmt::Display for SessionId {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "{:032x}", self.0)
	}
}

impl FromStr for SessionId {
	type Err = Error;

	fn from_str(text: &str) -> Result<Self, Error> {
		if text.len() == 32 {
			if let Ok(value) = u128::from_str_radix(text, 16) {
				return Ok(Self(value));
			}
		}
		Err(Error::Client(format!("'{text}' is not a session id (32 hexadecimal digits)")))
	}
}

impl TryFrom<String> for SessionId {
	type Error = Error;

	fn try_from(text: String) -> Result<Self, Error> {
		text.parse()
	}
}

impl From<SessionId> for String {
	fn from(id: SessionId) -> String {
		id.to_string()
	}
}

/// Whether a session publishes or watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
	/// Sends the stream's media (WHIP).
	Publisher,
	/// Receives it (WHEP).
	Viewer,
}

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum LeaveReason {
	/// The client deleted its WHIP/WHEP resource.
	ClientLeft,
	/// The peer connection failed or was closed by the peer.
	ConnectionLost,
	/// The stream's publisher left, so its viewers were ended.
	PublisherLeft,
	/// The owner dropped this viewer (the reason was sent on the data channel first).
	Dropped(String),
	/// The owner ended the whole stream.
	StreamEnded(String),
	/// The engine is shutting down.
	Shutdown,
	/// The connection (or, for a publisher, its media) did not come up within this many seconds.
	HandshakeTimedOut(u64),
	/// A relayed stream nobody watched here for a while was released.
	Idle,
}

impl fmt::Display for LeaveReason {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			LeaveReason::ClientLeft => f.write_str("the client left"),
			LeaveReason::ConnectionLost => f.write_str("the connection was lost"),
			LeaveReason::PublisherLeft => f.write_str("the publisher left"),
			LeaveReason::Dropped(reason) => write!(f, "dropped: {reason}"),
			LeaveReason::StreamEnded(reason) => write!(f, "stream ended: {reason}"),
			LeaveReason::Shutdown => f.write_str("the node is shutting down"),
			LeaveReason::HandshakeTimedOut(seconds) => {
				write!(f, "the connection did not come up within {seconds} s")
			},
			LeaveReason::Idle => f.write_str("nobody watched it here"),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn stream_ids_are_checked() {
		assert_eq!("42".parse::<StreamId>().unwrap().as_str(), "42");
		assert_eq!(StreamId::from(7).as_str(), "7");
		"live_stream-1".parse::<StreamId>().unwrap();
		for bad in ["", "a/b", "../x", "é", &"x".repeat(65)] {
			assert!(matches!(bad.parse::<StreamId>(), Err(Error::InvalidStreamId(_))), "{bad}");
		}
	}

	#[test]
	fn session_ids_round_trip() {
		let id = SessionId::random();
		assert_eq!(id.to_string().parse::<SessionId>().unwrap(), id);
		assert!("xyz".parse::<SessionId>().is_err());
	}
}
