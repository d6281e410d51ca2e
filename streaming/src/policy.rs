//! The access gate: the engine asks an [`AccessPolicy`] before it answers any offer.

use async_trait::async_trait;

use crate::types::StreamId;

/// What a client presented: the token of its `Authorization: Bearer` header, untouched.
/// `None` when the request carried no bearer token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials(pub Option<String>);

impl Credentials {
	/// Credentials from a bearer token.
	pub fn bearer(token: impl Into<String>) -> Self {
		Self(Some(token.into()))
	}

	/// The token, if any.
	pub fn token(&self) -> Option<&str> {
		self.0.as_deref()
	}
}

/// Who a policy let in, and the limits its authority sets on them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Admission {
	/// Who was admitted (an account, a user name): the engine keeps it with the session
	/// ([`crate::SessionInfo::principal`]) so its owner can act on that peer later, and holds
	/// each principal to [`crate::StreamingConfig::max_sessions_per_viewer`] sessions per stream.
	pub principal: Option<String>,
	/// For a viewer: the most concurrent viewers the stream's owner allows (on a chain, the
	/// stream's `max_viewers`); this node never admits more. `None`: only the node's own limit.
	pub audience_cap: Option<u32>,
}

impl Admission {
	/// An admission of `principal` with no limit of the stream's own.
	pub fn of(principal: impl Into<String>) -> Self {
		Self { principal: Some(principal.into()), audience_cap: None }
	}
}

/// A policy's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
	/// Let the peer in.
	Allow,
	/// Let the peer in as [`Admission`] says.
	Admit(Admission),
	/// Refuse it: the client gets `status` and `reason`, and no media, ever.
	Deny {
		/// The HTTP status: 401 (who are you?), 402 (payment required), 403 (not allowed), 404
		/// (no such stream) or 503 (cannot decide now).
		status: DenyStatus,
		/// Shown to the client; say what to do.
		reason: String,
	},
}

impl Decision {
	/// A denial.
	pub fn deny(status: DenyStatus, reason: impl Into<String>) -> Self {
		Decision::Deny { status, reason: reason.into() }
	}

	/// `Ok` (with whom and on what terms) for an admission, the refusal the client gets
	/// otherwise.
	pub(crate) fn allowed(self) -> crate::Result<Admission> {
		match self {
			Decision::Allow => Ok(Admission::default()),
			Decision::Admit(admission) => Ok(admission),
			Decision::Deny { status, reason } => {
				Err(crate::Error::Denied { status: status.code(), reason })
			},
		}
	}
}

/// The statuses a policy may deny with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenyStatus {
	/// 401: the credentials are missing, malformed, forged or replayed.
	Unauthorized,
	/// 402: the viewer must pay (buy access or open a payment channel).
	PaymentRequired,
	/// 403: known, but not allowed (not the creator, access revoked, stream ended).
	Forbidden,
	/// 404: no such stream.
	NotFound,
	/// 503: the node cannot decide now (it is overloaded, or cannot reach its authority); the
	/// client may retry.
	Unavailable,
}

impl DenyStatus {
	/// The HTTP status code.
	pub fn code(self) -> u16 {
		match self {
			DenyStatus::Unauthorized => 401,
			DenyStatus::PaymentRequired => 402,
			DenyStatus::Forbidden => 403,
			DenyStatus::NotFound => 404,
			DenyStatus::Unavailable => 503,
		}
	}
}

/// Whom the engine admits. The node implements it over the chain; tests implement it over a list.
#[async_trait]
pub trait AccessPolicy: Send + Sync + 'static {
	/// May these credentials publish `stream`?
	async fn authorize_publisher(&self, stream: &StreamId, credentials: &Credentials) -> Decision;
	/// May these credentials watch `stream`?
	async fn authorize_viewer(&self, stream: &StreamId, credentials: &Credentials) -> Decision;
}

/// Where payments sent over HTTP (`POST /pay`) go: a viewer who is not connected (say, one
/// refused for being behind on payment) pays there.
#[async_trait]
pub trait PaymentDesk: Send + Sync + 'static {
	/// Takes a payment message (the JSON a viewer sends on its data channel) and returns the
	/// answer, the JSON it would have got there.
	async fn pay(&self, message: &[u8]) -> Vec<u8>;
}

/// Admits everyone. For local tools and benchmarks, never for a node that serves the public.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

#[async_trait]
impl AccessPolicy for AllowAll {
	async fn authorize_publisher(&self, _: &StreamId, _: &Credentials) -> Decision {
		Decision::Allow
	}

	async fn authorize_viewer(&self, _: &StreamId, _: &Credentials) -> Decision {
		Decision::Allow
	}
}
