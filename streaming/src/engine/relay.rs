//! Relaying: a stream published on another node, pulled from it once over WHEP and fanned out
//! here as if it were published locally.
//!
//! A viewer asks this node for a stream nobody publishes here. With relaying on, the engine asks
//! its [`UpstreamLocator`] where the stream is (the chain knows each stream's origin node) and
//! pulls it as one WHEP viewer of that node. The pull is an ordinary publisher session of this
//! engine: its tracks are fanned out to every local viewer, it counts towards `max_streams`, and
//! when it ends (the origin ends the stream, the connection drops, the owner ends the stream
//! here) its viewers end with it. At most `relay_capacity` streams are relayed at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rtc::peer_connection::sdp::RTCSessionDescription;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::peer_connection::PeerConnection;

use super::peer::SessionEvents;
use super::{Inner, SessionEntry, StreamEntry, StreamPhase, LOG_TARGET, PAY_CHANNEL_LABEL};
use crate::client::{Reach, Signalling};
use crate::error::{Error, Result};
use crate::types::{LeaveReason, Role, SessionId, StreamId};

/// How long a viewer waits for a relayed stream's first media before it is told to retry.
const RELAY_START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the offer waits for this node's ICE candidates.
const GATHER_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a stream that is not published on this node can be pulled from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
	/// The stream's WHEP endpoint on the node that has it, e.g. `https://origin:8088/whep/7`.
	pub endpoint: String,
	/// The bearer token to present there.
	pub token: Option<String>,
}

/// Finds the node a stream is published on. The node implements it over the chain's registry.
#[async_trait]
pub trait UpstreamLocator: Send + Sync {
	/// Where to pull `stream` from, or `None` when no other node is known to have it.
	async fn locate(&self, stream: &StreamId) -> Option<Upstream>;
}

/// A stream another node announces, as the engine's directory lists it (`GET /directory`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DirectoryEntry {
	/// The stream.
	pub stream: StreamId,
	/// Its title.
	pub title: String,
	/// The streaming endpoint of the node that ingests it, if it announced one.
	pub origin: Option<String>,
	/// Whether it is live on this node now (published here or relayed).
	pub here: bool,
}

/// Makes sure `stream` is live here if it can be: when nobody publishes it on this node and
/// relaying is on, pulls it from its upstream and waits for its media. Returns without error
/// when there is nothing to relay; the caller then refuses as it would have.
pub(super) async fn ensure_live(inner: &Arc<Inner>, stream: &StreamId) -> Result<()> {
	if !inner.config.enable_relay {
		return Ok(());
	}
	if inner.state().streams.contains_key(stream) {
		return wait_live(inner, stream).await;
	}
	let Some(locator) = inner.upstreams.get().cloned() else { return Ok(()) };
	// No lookup at the origin (a request to wherever the chain says) when there is no room to
	// relay anyway.
	let relayed = inner.state().sessions.values().filter(|e| e.relayed_from.is_some()).count();
	if relayed >= inner.config.relay_capacity as usize {
		return Err(Error::RelayFull(inner.config.relay_capacity));
	}
	let Some(upstream) = locator.locate(stream).await else { return Ok(()) };

	let session = SessionId::random();
	// Reserve the stream for the pull, unless another viewer's request started one meanwhile.
	let started_elsewhere = {
		let mut state = inner.state();
		if state.streams.contains_key(stream) {
			true
		} else {
			let relayed =
				state.sessions.values().filter(|entry| entry.relayed_from.is_some()).count();
			if relayed >= inner.config.relay_capacity as usize {
				return Err(Error::RelayFull(inner.config.relay_capacity));
			}
			if state.streams.len() >= inner.config.max_streams as usize {
				return Err(Error::TooManyStreams(inner.config.max_streams));
			}
			super::limits::check_room(inner, &state, None, None, 0)?;
			state.streams.insert(stream.clone(), StreamEntry::starting(session, 1));
			let mut entry = SessionEntry::new(stream.clone(), Role::Publisher, None);
			entry.relayed_from = Some(upstream.endpoint.clone());
			state.sessions.insert(session, entry);
			false
		}
	};
	if started_elsewhere {
		return wait_relayed(inner, stream).await;
	}
	// The pull holds a place from now on: reaped if its media is not here in time.
	super::limits::reap_if_not_up(inner, session);
	tracing::info!(target: LOG_TARGET, %stream, %session, upstream = %upstream.endpoint, "relaying");

	match pull(inner, session, &upstream).await {
		Ok((peer, expected_tracks, resource, channel)) => {
			let cancel = {
				let mut state = inner.state();
				match state.sessions.get_mut(&session) {
					Some(entry) => {
						entry.peer = Some(peer.clone());
						let cancel = entry.cancel.clone();
						if let Some(stream_entry) = state.streams.get_mut(stream) {
							stream_entry.expected_tracks = expected_tracks;
						}
						Some(cancel)
					},
					None => None,
				}
			};
			let Some(cancel) = cancel else {
				// Ended while we negotiated (the stream was ended here meanwhile).
				let _ = peer.close().await;
				let _ = origin_client(inner)?.delete(&resource, upstream.token.as_deref()).await;
				return Err(Error::StreamNotLive(stream.clone()));
			};
			// Leave the origin politely when the relay ends, whoever ends it.
			let token = upstream.token.clone();
			let leave = cancel.clone();
			let signalling = origin_client(inner);
			tokio::spawn(async move {
				leave.cancelled().await;
				if let Ok(signalling) = signalling {
					let _ = signalling.delete(&resource, token.as_deref()).await;
				}
			});
			tokio::spawn(follow_origin(inner.clone(), session, channel, cancel.clone()));
			tokio::spawn(release_when_idle(inner.clone(), session, stream.clone(), cancel));
		},
		Err(error) => {
			tracing::info!(target: LOG_TARGET, %stream, upstream = %upstream.endpoint, %error, "relay failed");
			super::close_session(inner, session, LeaveReason::ConnectionLost);
			return Err(Error::Upstream { stream: stream.clone(), reason: error.to_string() });
		},
	}
	wait_relayed(inner, stream).await
}

/// Waits until a relayed `stream` is live here; a pull that ended before its media came (its
/// connection failed, or it was reaped for not coming up in time) is the origin's failure.
async fn wait_relayed(inner: &Arc<Inner>, stream: &StreamId) -> Result<()> {
	wait_live(inner, stream).await.map_err(|error| match error {
		Error::StreamNotLive(stream) => Error::Upstream {
			stream,
			reason: "its origin did not deliver it; try again later or watch it at its origin"
				.into(),
		},
		other => other,
	})
}

/// The client a relay reaches origins with: public addresses only unless the operator allows
/// private ones.
fn origin_client(inner: &Inner) -> Result<Signalling> {
	let reach = if inner.config.relay_private_origins { Reach::Anywhere } else { Reach::PublicOnly };
	Signalling::for_node(reach)
}

/// Offers to receive the stream from its upstream, as a WHEP client: returns the connection,
/// how many tracks the origin sends, the session's resource there and the data channel on which
/// the origin says goodbye.
async fn pull(
	inner: &Arc<Inner>,
	session: SessionId,
	upstream: &Upstream,
) -> Result<(Arc<dyn PeerConnection>, usize, String, Arc<dyn DataChannel>)> {
	let (events, mut gathered) = SessionEvents::new(inner, session);
	let peer = inner.peers.build(events).await?;
	let result = async {
		super::receive_video_and_audio(&peer).await?;
		let channel = peer.create_data_channel(PAY_CHANNEL_LABEL, None).await?;
		let offer = peer.create_offer(None).await?;
		peer.set_local_description(offer).await?;
		let _ = tokio::time::timeout(GATHER_TIMEOUT, gathered.wait_for(|done| *done)).await;
		let offer = peer
			.local_description()
			.await
			.ok_or_else(|| Error::WebRtc("no local description after the offer was set".into()))?;
		let answered = origin_client(inner)?
			.offer(&upstream.endpoint, upstream.token.as_deref(), offer.sdp)
			.await?;
		let expected_tracks = sent_tracks(&answered.sdp);
		if expected_tracks == 0 {
			return Err(Error::Client(format!("{} sends no media", upstream.endpoint)));
		}
		let answer = RTCSessionDescription::answer(answered.sdp)
			.map_err(|e| Error::Client(format!("the origin's answer is not SDP: {e}")))?;
		peer.set_remote_description(answer).await?;
		Ok((expected_tracks, answered.resource, channel))
	}
	.await;
	match result {
		Ok((expected, resource, channel)) => Ok((peer, expected, resource, channel)),
		Err(error) => {
			let _ = peer.close().await;
			Err(error)
		},
	}
}

/// How many media sections of an answer send to us.
fn sent_tracks(answer: &str) -> usize {
	answer.lines().filter(|line| line.trim_end() == "a=sendonly").count()
}

/// Reads the origin's messages to the relay: a `bye` ends the relayed stream here with the
/// origin's reason, so local viewers learn why at once.
async fn follow_origin(
	inner: Arc<Inner>,
	session: SessionId,
	channel: Arc<dyn DataChannel>,
	cancel: tokio_util::sync::CancellationToken,
) {
	loop {
		let event = tokio::select! {
			_ = cancel.cancelled() => return,
			event = channel.poll() => event,
		};
		match event {
			Some(DataChannelEvent::OnMessage(message)) => {
				if let Some(reason) = crate::client::bye_reason(&message.data) {
					super::close_session(&inner, session, LeaveReason::StreamEnded(reason));
					return;
				}
			},
			Some(DataChannelEvent::OnClose) | None => return,
			Some(_) => {},
		}
	}
}

/// Ends the relay of `stream` once nobody has watched it here for
/// [`crate::StreamingConfig::relay_idle_timeout`]: its place among the relayed streams and the
/// origin's seat are given back.
async fn release_when_idle(
	inner: Arc<Inner>,
	session: SessionId,
	stream: StreamId,
	cancel: tokio_util::sync::CancellationToken,
) {
	let idle_timeout = inner.config.relay_idle_timeout;
	let check_every = (idle_timeout / 4).max(Duration::from_millis(250));
	let mut idle_since = Instant::now();
	loop {
		tokio::select! {
			_ = cancel.cancelled() => return,
			_ = tokio::time::sleep(check_every) => {},
		}
		let watched = match inner.state().streams.get(&stream) {
			Some(entry) if entry.publisher == session => !entry.viewers.is_empty(),
			_ => return,
		};
		if watched {
			idle_since = Instant::now();
		} else if idle_since.elapsed() >= idle_timeout {
			tracing::info!(target: LOG_TARGET, %stream, "releasing a relayed stream nobody watches here");
			super::close_session(&inner, session, LeaveReason::Idle);
			return;
		}
	}
}

/// Waits until `stream` is live here: its first media arrived.
async fn wait_live(inner: &Arc<Inner>, stream: &StreamId) -> Result<()> {
	let deadline = Instant::now() + RELAY_START_TIMEOUT;
	loop {
		match inner.state().streams.get(stream).map(|entry| &entry.phase) {
			None => return Err(Error::StreamNotLive(stream.clone())),
			Some(StreamPhase::Live { .. }) => return Ok(()),
			Some(StreamPhase::Starting) if Instant::now() >= deadline => {
				return Err(Error::StreamStarting(stream.clone()))
			},
			Some(StreamPhase::Starting) => {},
		}
		tokio::time::sleep(Duration::from_millis(25)).await;
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn counts_the_sections_an_answer_sends() {
		let answer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n\
			m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=inactive\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
		assert_eq!(sent_tracks(answer), 1);
		assert_eq!(sent_tracks("v=0\r\n"), 0);
	}
}
