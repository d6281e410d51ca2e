//! What one client may cost a node: sessions per source address and per account, sessions still
//! connecting, the time a connection has to come up, and the messages a viewer may send on its
//! data channel. Nothing a remote peer does can hold a shared resource (UDP ports, the event
//! queue, the owner's attention) beyond these bounds.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Inner, State, StreamPhase, LOG_TARGET};
use crate::error::{Error, Result};
use crate::types::{LeaveReason, Role, SessionId};

/// The largest message a viewer may send on its data channel (a voucher message is about
/// 500 bytes).
pub(crate) const MAX_DATA_MESSAGE_BYTES: usize = 4096;
/// Data channel messages a viewer may send per second, sustained (an honest client sends one
/// voucher every few seconds). Each one costs the owner's single payment desk a runtime call and
/// possibly an fsync, so this bounds what many viewers together can ask of it.
pub(crate) const DATA_MESSAGES_PER_SECOND: f64 = 2.0;
/// ... and in a burst.
pub(crate) const DATA_MESSAGE_BURST: f64 = 10.0;
/// A viewer whose messages are dropped this many times within [`FLOOD_WINDOW`] (too many, or
/// too large) is flooding, and is disconnected.
pub(crate) const FLOOD_STRIKES: u32 = 100;
/// See [`FLOOD_STRIKES`].
pub(crate) const FLOOD_WINDOW: Duration = Duration::from_secs(10);

/// Who a limit counts against: a source address (IPv6 by its /64, the block one host gets) or an
/// admitted account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ClientAddress(IpAddr);

impl ClientAddress {
	pub(crate) fn of(ip: IpAddr) -> Self {
		match ip {
			IpAddr::V4(_) => Self(ip),
			IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
				Some(v4) => Self(IpAddr::V4(v4)),
				None => {
					let prefix = u128::from(v6) & !((1u128 << 64) - 1);
					Self(IpAddr::V6(prefix.into()))
				},
			},
		}
	}
}

impl std::fmt::Display for ClientAddress {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self.0 {
			IpAddr::V4(ip) => write!(f, "address {ip}"),
			IpAddr::V6(ip) => write!(f, "network {ip}/64"),
		}
	}
}

/// Whether a session is up: a viewer's connection is, a publisher's media arrived.
pub(crate) fn is_up(state: &State, entry: &super::SessionEntry) -> bool {
	match entry.role {
		Role::Viewer => entry.connected,
		Role::Publisher => state.streams.get(&entry.stream).is_some_and(|stream| {
			matches!(stream.phase, StreamPhase::Live { .. })
		}),
	}
}

/// Whether the node may open one more session for `client` and `account` (the account's own
/// sessions being `replacing` fewer, when its new session replaces them). The answer says which
/// limit was reached and when to retry.
pub(crate) fn check_room(
	inner: &Inner,
	state: &State,
	client: Option<ClientAddress>,
	account: Option<&str>,
	replacing: usize,
) -> Result<()> {
	let config = &inner.config;
	let retry_after = config.handshake_timeout.as_secs().max(1) as u32;
	let (mut pending, mut client_open, mut client_pending, mut account_open, mut account_pending) =
		(0u32, 0u32, 0u32, 0u32, 0u32);
	for entry in state.sessions.values() {
		let up = is_up(state, entry);
		pending += u32::from(!up);
		if client.is_some() && entry.client == client {
			client_open += 1;
			client_pending += u32::from(!up);
		}
		if account.is_some() && entry.principal.as_deref() == account {
			account_open += 1;
			account_pending += u32::from(!up);
		}
	}
	let account_open = account_open.saturating_sub(replacing as u32);
	if pending >= config.max_pending_sessions {
		return Err(Error::Busy { pending, retry_after });
	}
	let too_many = |who: String, max: u32, connecting: bool| {
		Err(Error::TooManySessions { who, max, connecting, retry_after })
	};
	if let Some(client) = client {
		if client_pending >= config.max_pending_per_client {
			return too_many(client.to_string(), config.max_pending_per_client, true);
		}
		if client_open >= config.max_sessions_per_client {
			return too_many(client.to_string(), config.max_sessions_per_client, false);
		}
	}
	if let Some(account) = account {
		if account_pending >= config.max_pending_per_client {
			return too_many(format!("account {account}"), config.max_pending_per_client, true);
		}
		if account_open >= config.max_sessions_per_client {
			return too_many(format!("account {account}"), config.max_sessions_per_client, false);
		}
	}
	Ok(())
}

/// Ends `session` if it is not up [`crate::StreamingConfig::handshake_timeout`] from now: a
/// connection that never completes ICE and DTLS, or a publisher (a relay's pull too) whose media
/// never arrives, gives its port and its place back.
pub(crate) fn reap_if_not_up(inner: &Arc<Inner>, session: SessionId) {
	let Some(cancel) = inner.state().sessions.get(&session).map(|entry| entry.cancel.clone())
	else {
		return;
	};
	let inner = inner.clone();
	tokio::spawn(async move {
		tokio::select! {
			_ = cancel.cancelled() => return,
			_ = tokio::time::sleep(inner.config.handshake_timeout) => {},
		}
		let up = {
			let state = inner.state();
			match state.sessions.get(&session) {
				Some(entry) => is_up(&state, entry),
				None => return,
			}
		};
		if !up {
			tracing::debug!(target: LOG_TARGET, %session, "not up in time: reaped");
			super::close_session(
				&inner,
				session,
				LeaveReason::HandshakeTimedOut(inner.config.handshake_timeout.as_secs()),
			);
		}
	});
}

/// What to do with a data channel message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
	/// Take it.
	Take,
	/// Drop it: too large, or too soon after the others.
	Drop,
	/// Drop it and disconnect its sender: it keeps flooding.
	Disconnect,
}

/// A token bucket: `burst` tokens, refilled at `rate` a second.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokenBucket {
	tokens: f64,
	refilled: Instant,
	rate: f64,
	burst: f64,
}

impl TokenBucket {
	pub(crate) fn full(rate: f64, burst: f64, now: Instant) -> Self {
		Self { tokens: burst, refilled: now, rate, burst }
	}

	/// Takes a token if there is one.
	pub(crate) fn take(&mut self, now: Instant) -> bool {
		self.refill(now);
		if self.tokens >= 1.0 {
			self.tokens -= 1.0;
			true
		} else {
			false
		}
	}

	/// Whether the bucket is full again (its owner has been quiet).
	fn is_full(&mut self, now: Instant) -> bool {
		self.refill(now);
		self.tokens >= self.burst
	}

	fn refill(&mut self, now: Instant) {
		let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
		self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
		self.refilled = now;
	}
}

/// A viewer's allowance of data channel messages: a [`TokenBucket`] of [`DATA_MESSAGE_BURST`]
/// refilled at [`DATA_MESSAGES_PER_SECOND`], and the strikes it earned for dropped messages.
pub(crate) struct MessageAllowance {
	bucket: TokenBucket,
	strikes: u32,
	window: Instant,
}

impl MessageAllowance {
	pub(crate) fn new(now: Instant) -> Self {
		Self {
			bucket: TokenBucket::full(DATA_MESSAGES_PER_SECOND, DATA_MESSAGE_BURST, now),
			strikes: 0,
			window: now,
		}
	}

	/// The verdict on a message of `len` bytes arriving at `now`.
	pub(crate) fn admit(&mut self, len: usize, now: Instant) -> Verdict {
		if now.saturating_duration_since(self.window) >= FLOOD_WINDOW {
			self.window = now;
			self.strikes = 0;
		}
		if len <= MAX_DATA_MESSAGE_BYTES && self.bucket.take(now) {
			return Verdict::Take;
		}
		self.strikes += 1;
		if self.strikes >= FLOOD_STRIKES {
			Verdict::Disconnect
		} else {
			Verdict::Drop
		}
	}
}

/// Clients the request limiter remembers at most; beyond, quiet ones are forgotten first, and
/// if none is quiet the request is refused (the node is under a spread-out flood).
const MAX_TRACKED_CLIENTS: usize = 65_536;

/// Each client's allowance of requests that cost the node work (offers and payments): a
/// [`TokenBucket`] per source address, of twice
/// [`crate::StreamingConfig::requests_per_second_per_client`].
pub(crate) struct RequestRates {
	rate: f64,
	clients: std::sync::Mutex<Clients>,
}

#[derive(Default)]
pub(crate) struct Clients {
	buckets: std::collections::HashMap<ClientAddress, TokenBucket>,
	/// When the table was last swept of quiet clients (at most once a second, so a spread-out
	/// flood cannot make every request walk it).
	swept: Option<Instant>,
}

impl RequestRates {
	pub(crate) fn new(per_second: u32) -> Self {
		Self { rate: f64::from(per_second), clients: Default::default() }
	}

	/// `Ok` if `client` may make a request now; the refusal says when to retry otherwise.
	pub(crate) fn admit(&self, client: ClientAddress, now: Instant) -> Result<()> {
		let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let Clients { buckets, swept } = &mut *clients;
		if buckets.len() >= MAX_TRACKED_CLIENTS && !buckets.contains_key(&client) {
			if swept.is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(1)) {
				*swept = Some(now);
				buckets.retain(|_, bucket| !bucket.is_full(now));
			}
			if buckets.len() >= MAX_TRACKED_CLIENTS {
				return Err(Error::Busy { pending: buckets.len() as u32, retry_after: 1 });
			}
		}
		let bucket = buckets
			.entry(client)
			.or_insert_with(|| TokenBucket::full(self.rate, self.rate * 2.0, now));
		if bucket.take(now) {
			Ok(())
		} else {
			Err(Error::TooManyRequests { who: client.to_string(), per_second: self.rate as u32 })
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn an_honest_payer_is_never_limited() {
		let start = Instant::now();
		let mut allowance = MessageAllowance::new(start);
		// A voucher every 2 s for an hour, and a burst of 10 messages at the start.
		for _ in 0..10 {
			assert_eq!(allowance.admit(600, start), Verdict::Take);
		}
		for second in (2..3600).step_by(2) {
			let now = start + Duration::from_secs(second);
			assert_eq!(allowance.admit(600, now), Verdict::Take);
		}
	}

	#[test]
	fn a_flood_is_dropped_then_disconnected() {
		let start = Instant::now();
		let mut allowance = MessageAllowance::new(start);
		let verdicts: Vec<_> = (0..200).map(|_| allowance.admit(100, start)).collect();
		assert!(verdicts[..10].iter().all(|v| *v == Verdict::Take));
		assert!(verdicts[10..109].iter().all(|v| *v == Verdict::Drop));
		assert_eq!(verdicts[109], Verdict::Disconnect);
	}

	#[test]
	fn oversized_messages_are_dropped_and_strikes_expire() {
		let start = Instant::now();
		let mut allowance = MessageAllowance::new(start);
		for _ in 0..FLOOD_STRIKES - 1 {
			assert_eq!(allowance.admit(MAX_DATA_MESSAGE_BYTES + 1, start), Verdict::Drop);
		}
		// A window later the strikes are forgiven; a message of the largest size passes.
		let later = start + FLOOD_WINDOW;
		assert_eq!(allowance.admit(MAX_DATA_MESSAGE_BYTES, later), Verdict::Take);
		assert_eq!(allowance.admit(MAX_DATA_MESSAGE_BYTES + 1, later), Verdict::Drop);
	}

	#[test]
	fn requests_are_limited_per_client() {
		let rates = RequestRates::new(5);
		let start = Instant::now();
		let (a, b) = (
			ClientAddress::of("192.0.2.1".parse().unwrap()),
			ClientAddress::of("192.0.2.2".parse().unwrap()),
		);
		for _ in 0..10 {
			rates.admit(a, start).unwrap();
		}
		let refused = rates.admit(a, start).unwrap_err();
		assert_eq!(refused.http_status(), 429);
		assert_eq!(refused.retry_after(), Some(1));
		// Another client is not affected; the first may go on a fifth of a second later.
		rates.admit(b, start).unwrap();
		rates.admit(a, start + Duration::from_millis(200)).unwrap();
	}

	#[test]
	fn ipv6_clients_count_by_their_64_bit_prefix() {
		let a = ClientAddress::of("2001:db8:1:2:aaaa::1".parse().unwrap());
		let b = ClientAddress::of("2001:db8:1:2:bbbb::9".parse().unwrap());
		let c = ClientAddress::of("2001:db8:1:3::1".parse().unwrap());
		assert_eq!(a, b);
		assert_ne!(a, c);
		assert_eq!(a.to_string(), "network 2001:db8:1:2::/64");
		let mapped = ClientAddress::of("::ffff:192.0.2.7".parse().unwrap());
		assert_eq!(mapped, ClientAddress::of("192.0.2.7".parse().unwrap()));
	}
}
