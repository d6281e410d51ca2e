//! The crate's errors. Each says what went wrong and what to do about it.

use crate::types::{SessionId, StreamId};

/// A setting of [`crate::StreamingConfig`] that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("streaming setting `{setting}`: {problem}")]
pub struct ConfigError {
	/// The setting's name.
	pub setting: &'static str,
	/// What is wrong with it and what to use instead.
	pub problem: String,
}

/// Why the engine refused or failed a request. Each maps to one HTTP status for signalling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The engine's settings are invalid.
	#[error(transparent)]
	Config(#[from] ConfigError),
	/// The access policy denied the request.
	#[error("{reason}")]
	Denied {
		/// 401, 402, 403 or 404.
		status: u16,
		/// The policy's reason, shown to the client.
		reason: String,
	},
	/// A stream id in a URL is not valid.
	#[error("invalid stream id '{0}': use 1 to 64 letters, digits, '-' or '_'")]
	InvalidStreamId(String),
	/// Nobody is publishing this stream on this node.
	#[error("stream {0} is not live on this node")]
	StreamNotLive(StreamId),
	/// The stream's publisher is connected but its media has not arrived yet.
	#[error("stream {0} is starting; retry in a second")]
	StreamStarting(StreamId),
	/// Someone else is already publishing this stream.
	#[error("stream {0} already has a publisher; end that publish (DELETE its resource) first")]
	AlreadyPublishing(StreamId),
	/// The node serves as many live streams as it is configured for.
	#[error(
		"this node serves its maximum of {0} live streams; try again later or use another node"
	)]
	TooManyStreams(u32),
	/// The stream has as many viewers as the node allows.
	#[error(
		"stream {stream} is full ({max} viewers on this node); try again later or use another node"
	)]
	StreamFull {
		/// The stream.
		stream: StreamId,
		/// The configured limit.
		max: u32,
	},
	/// The node relays as many streams as it is configured for.
	#[error(
		"this node relays its maximum of {0} streams from other nodes; watch this stream at its origin node"
	)]
	RelayFull(u32),
	/// The stream's origin node could not be pulled from.
	#[error("stream {stream} is published on another node, which refused or failed to relay it here: {reason}")]
	Upstream {
		/// The stream.
		stream: StreamId,
		/// What the origin said or what failed.
		reason: String,
	},
	/// A client (a source address, or an account) holds as many sessions as the node allows it.
	#[error(
		"{who} already has {max} sessions {state} on this node; {advice}",
		state = if *connecting { "still connecting" } else { "open" },
		advice = if *connecting {
			"let them connect (or end them) before offering again"
		} else {
			"end one (DELETE its resource) before starting another"
		}
	)]
	TooManySessions {
		/// Whose sessions: `address 192.0.2.7`, `network 2001:db8::/64` or `account 5Grw…`.
		who: String,
		/// The limit.
		max: u32,
		/// Whether the limit is on sessions still connecting.
		connecting: bool,
		/// Seconds after which a retry may succeed.
		retry_after: u32,
	},
	/// A client sends requests faster than the node serves one client.
	#[error("{who} sends more than {per_second} requests a second; slow down")]
	TooManyRequests {
		/// `address 192.0.2.7` or `network 2001:db8::/64`.
		who: String,
		/// The sustained rate allowed.
		per_second: u32,
	},
	/// The node has as many sessions still connecting as it allows.
	#[error("this node has {pending} sessions still connecting; retry in {retry_after} s or use another node")]
	Busy {
		/// Sessions connecting now.
		pending: u32,
		/// Seconds after which a retry may succeed.
		retry_after: u32,
	},
	/// The media socket could not be bound.
	#[error("cannot use UDP {address} for WebRTC media: {reason}")]
	MediaSocket {
		/// The address it was to bind.
		address: std::net::SocketAddr,
		/// Why not, and what to do.
		reason: String,
	},
	/// The SDP offer could not be used.
	#[error("bad SDP offer: {0}")]
	BadOffer(String),
	/// The offer cannot receive the codec the stream is published in.
	#[error("the offer cannot receive {0}, the codec this stream is published in; offer it")]
	CodecNotOffered(String),
	/// No session with that id (it ended, or never existed).
	#[error("no session {0}: it has ended or never existed")]
	UnknownSession(SessionId),
	/// The session exists but is not of the expected kind or stream.
	#[error("session {0} does not belong to that stream or role")]
	SessionMismatch(SessionId),
	/// The viewer has not opened the `sutantra-pay` data channel.
	#[error("session {0} has no open data channel")]
	NoDataChannel(SessionId),
	/// The HTTP server could not start.
	#[error(
		"cannot listen on {addr}: {source}; pick another streaming HTTP address or free that port"
	)]
	Listen {
		/// The address.
		addr: std::net::SocketAddr,
		/// The operating system's error.
		source: std::io::Error,
	},
	/// The TLS certificate or key cannot be used.
	#[error("streaming TLS: {0}")]
	Tls(String),
	/// WebRTC failed underneath us.
	#[error("WebRTC: {0}")]
	WebRtc(String),
	/// A client-side failure (the WHIP/WHEP clients).
	#[error("{0}")]
	Client(String),
	/// A file could not be read or written.
	#[error("{path}: {source}")]
	File {
		/// The file.
		path: String,
		/// The operating system's error.
		source: std::io::Error,
	},
}

impl Error {
	/// The HTTP status a signalling request that failed with this error answers with.
	pub fn http_status(&self) -> u16 {
		match self {
			Error::Denied { status, .. } => *status,
			Error::InvalidStreamId(_) | Error::BadOffer(_) => 400,
			Error::StreamNotLive(_) | Error::UnknownSession(_) | Error::SessionMismatch(_) => 404,
			Error::CodecNotOffered(_) => 406,
			Error::AlreadyPublishing(_) => 409,
			Error::StreamStarting(_)
			| Error::TooManyStreams(_)
			| Error::StreamFull { .. }
			| Error::RelayFull(_) => 503,
			Error::Upstream { .. } => 502,
			Error::NoDataChannel(_) => 409,
			Error::TooManySessions { .. } | Error::TooManyRequests { .. } => 429,
			Error::Busy { .. } => 503,
			Error::Config(_)
			| Error::Listen { .. }
			| Error::MediaSocket { .. }
			| Error::Tls(_)
			| Error::WebRtc(_)
			| Error::Client(_)
			| Error::File { .. } => 500,
		}
	}
}

impl Error {
	/// Seconds a refused client should wait before it retries (`Retry-After`), for refusals that
	/// pass with time.
	pub fn retry_after(&self) -> Option<u32> {
		match self {
			Error::TooManySessions { retry_after, .. } | Error::Busy { retry_after, .. } => {
				Some(*retry_after)
			},
			Error::TooManyRequests { .. } => Some(1),
			_ if self.http_status() == 503 => Some(1),
			_ => None,
		}
	}
}

impl From<webrtc::error::Error> for Error {
	fn from(error: webrtc::error::Error) -> Self {
		Error::WebRtc(error.to_string())
	}
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
