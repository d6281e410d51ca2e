//! The SFU: publishers' tracks fanned out to viewers as RTP, sessions and their lifecycle, and
//! the control handle the owner drives it with.
//!
//! Locking: one `std::sync::Mutex` over the engine's tables, held only for short, synchronous
//! updates and never across an `.await`. Everything that waits (WebRTC calls, data channel
//! sends, the event channel) happens after the guard is dropped.

mod congestion;
mod fanout;
mod keyframes;
pub(crate) mod limits;
mod media_socket;
mod peer;
mod publisher;
mod quality;
mod relay;
mod session;
mod simulcast;
mod viewer;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use webrtc::peer_connection::{PeerConnection, StatsSelector};

use crate::codec::VideoCodec;
use crate::config::StreamingConfig;
use crate::error::{Error, Result};
use crate::event::EngineEvent;
use crate::latency::{LatencyHistogram, LatencySummary};
use crate::policy::{AccessPolicy, Credentials};
use crate::types::{LeaveReason, Role, SessionId, StreamId};

pub(crate) use keyframes::is_keyframe_request;
pub use media_socket::MediaSocketStats;
pub(crate) use peer::{ice_pacing, media_track, new_peer, simulcast_track, PeerFactory};
pub use quality::{Reception, Spread, StreamQuality};
pub use relay::{DirectoryEntry, Upstream, UpstreamLocator};

pub(crate) const LOG_TARGET: &str = "streaming";
/// Events buffered for the owner before the engine waits for it.
const EVENT_BUFFER: usize = 1024;
/// RTP packets buffered per stream for viewers; a viewer further behind skips ahead to the next
/// keyframe instead of slowing the others.
const STREAM_BUFFER: usize = 1024;
/// How long the engine waits for a session's driver to take a message or report its figures.
const DRIVER_ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// How long [`Engine::shutdown`] waits for sessions to be told and closed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// The label of the viewer's payment data channel.
pub const PAY_CHANNEL_LABEL: &str = "sutantra-pay";

/// The running engine's control handle. Cheap to clone; all clones drive the same engine.
#[derive(Clone)]
pub struct Engine {
	pub(crate) inner: Arc<Inner>,
}

/// The owner's end of the engine's event stream.
pub struct EngineEvents(mpsc::Receiver<EngineEvent>);

impl EngineEvents {
	/// The next event; `None` once the engine has shut down.
	pub async fn recv(&mut self) -> Option<EngineEvent> {
		self.0.recv().await
	}
}

/// The SDP answer to an accepted offer and the session it created.
#[derive(Clone, Debug)]
pub struct Answer {
	/// The new session (the last segment of its resource URL).
	pub session: SessionId,
	/// The SDP answer.
	pub sdp: String,
}

/// One session as the control handle lists it.
#[derive(Clone, Debug, Serialize)]
pub struct SessionInfo {
	/// The session.
	pub session: SessionId,
	/// Its stream.
	pub stream: StreamId,
	/// Publisher or viewer.
	pub role: Role,
	/// Who the access policy admitted (see [`crate::Admission`]).
	pub principal: Option<String>,
	/// Whether its peer connection is up.
	pub connected: bool,
	/// Seconds since the Unix epoch when it was created.
	pub created_at: u64,
}

/// A live stream as `/streams` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct StreamSummary {
	/// The stream.
	pub stream: StreamId,
	/// The publisher's session: the secret part of its resource URL, which ends the stream, so
	/// never listed (`GET /streams` leaves it out).
	#[serde(skip)]
	pub publisher: SessionId,
	/// Viewers currently connected or connecting.
	pub viewers: usize,
	/// The published tracks.
	pub tracks: Vec<TrackSummary>,
	/// Seconds since the Unix epoch when it went live.
	pub live_since: u64,
	/// The WHEP endpoint it is relayed from, when it is published on another node.
	pub relayed_from: Option<String>,
}

/// One published track.
#[derive(Clone, Debug, Serialize)]
pub struct TrackSummary {
	/// `audio` or `video`.
	pub kind: String,
	/// The RTP mime type, e.g. `video/VP8`.
	pub codec: String,
	/// A simulcast track's layers: each one's arriving bitrate as measured, bits/s, by layer
	/// index (in the order they arrived); one entry for a track that is not simulcast.
	pub layers: Vec<u64>,
}

/// A session's figures: the engine's own counters plus what WebRTC's statistics report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SessionStats {
	/// RTP packets forwarded to this viewer, or received from this publisher.
	pub packets: u64,
	/// RTP payload bytes forwarded to this viewer, or received from this publisher.
	pub payload_bytes: u64,
	/// Complete video frames forwarded (viewer) or received (publisher).
	pub frames: u64,
	/// Keyframes among them.
	pub keyframes: u64,
	/// Packets a slow viewer skipped to catch up with the live edge.
	pub skipped_packets: u64,
	/// Data channel messages of this viewer dropped for coming too fast or being too large, or
	/// because the owner was not taking events.
	pub dropped_messages: u64,
	/// Datagrams dropped before its connection saw them: RTP from a viewer, or from more SSRCs
	/// than a session may use.
	pub dropped_datagrams: u64,
	/// Round-trip time to the peer, from ICE and RTCP, in milliseconds.
	pub rtt_ms: Option<f64>,
	/// Packets lost: reported by the viewer's receiver reports, or counted on the publisher's
	/// stream.
	pub packets_lost: Option<i64>,
	/// The latest fraction of packets lost (0 to 1) a viewer reported.
	pub fraction_lost: Option<f64>,
	/// Interarrival jitter in milliseconds.
	pub jitter_ms: Option<f64>,
	/// A viewer's delivered media payload bitrate (what was sent, less what it reports lost).
	pub delivered_bps: Option<f64>,
	/// What the node estimates the path to this viewer carries, in bits per second, from the
	/// viewer's transport-wide congestion control feedback (TWCC); `None` before the first
	/// feedback, or from a viewer that sends none.
	pub estimated_bps: Option<f64>,
	/// The simulcast layer of the video sent to this viewer (by layer index, see
	/// [`TrackSummary::layers`]); `None` while it waits for a keyframe.
	pub video_layer: Option<u8>,
	/// How often this viewer's video switched layers.
	pub layer_switches: u64,
	/// Where the session's media goes: the addresses its peer's ICE checks came from (at most
	/// four); empty for a relay's pull, and when the session's driver did not answer in time.
	pub media_addresses: Vec<SocketAddr>,
}

/// Counters a session's tasks update without taking the engine's lock.
#[derive(Default)]
pub(crate) struct Counters {
	packets: AtomicU64,
	payload_bytes: AtomicU64,
	frames: AtomicU64,
	keyframes: AtomicU64,
	skipped_packets: AtomicU64,
	dropped_messages: AtomicU64,
	dropped_datagrams: AtomicU64,
	/// A viewer's receiver reports.
	reception: Mutex<quality::ReceptionTracker>,
	/// The simulcast layer of a viewer's video plus one (0: none yet).
	video_layer: AtomicU64,
	layer_switches: AtomicU64,
}

impl Counters {
	pub(crate) fn count_packet(&self, packet: &rtc::rtp::Packet, codec: Option<VideoCodec>) {
		self.packets.fetch_add(1, Ordering::Relaxed);
		self.payload_bytes.fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
		if let Some(codec) = codec {
			if packet.header.marker {
				self.frames.fetch_add(1, Ordering::Relaxed);
			}
			if codec.detects_keyframes() && codec.starts_keyframe(&packet.payload) {
				self.keyframes.fetch_add(1, Ordering::Relaxed);
			}
		}
	}

	pub(crate) fn skipped(&self, packets: u64) {
		self.skipped_packets.fetch_add(packets, Ordering::Relaxed);
	}

	pub(crate) fn dropped_message(&self) {
		self.dropped_messages.fetch_add(1, Ordering::Relaxed);
	}

	pub(crate) fn dropped_datagram(&self) {
		self.dropped_datagrams.fetch_add(1, Ordering::Relaxed);
	}

	pub(crate) fn on_layer(&self, layer: Option<u8>, switches: u64) {
		self.video_layer.store(layer.map_or(0, |layer| u64::from(layer) + 1), Ordering::Relaxed);
		self.layer_switches.store(switches, Ordering::Relaxed);
	}

	pub(crate) fn payload_bytes(&self) -> u64 {
		self.payload_bytes.load(Ordering::Relaxed)
	}

	/// The viewer's receiver reports, to take a new one or read the latest.
	pub(crate) fn reception(&self) -> MutexGuard<'_, quality::ReceptionTracker> {
		self.reception.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}
}

/// A published track: what viewers are offered.
#[derive(Clone)]
pub(crate) struct PublishedTrack {
	pub(crate) kind: rtc::rtp_transceiver::rtp_sender::RtpCodecKind,
	pub(crate) codec: rtc::rtp_transceiver::rtp_sender::RTCRtpCodec,
	/// Its simulcast layers (one for a track that is not simulcast).
	pub(crate) layers: Arc<simulcast::Layers>,
}

/// A publisher's packet on its way to viewers: its track's index in the stream and its simulcast
/// layer (0 for a track that is not simulcast), stamped when it reached the engine.
#[derive(Clone)]
pub(crate) struct Relayed {
	pub(crate) track: usize,
	pub(crate) layer: u8,
	pub(crate) arrived: Instant,
	pub(crate) packet: rtc::rtp::Packet,
}

impl PublishedTrack {
	pub(crate) fn video_codec(&self) -> Option<VideoCodec> {
		(self.kind == rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Video)
			.then(|| VideoCodec::from_mime(&self.codec.mime_type))
	}
}

pub(crate) enum StreamPhase {
	/// A publisher's offer was accepted; its media has not arrived yet.
	Starting,
	/// Media flows; viewers may join.
	Live { since: SystemTime },
}

pub(crate) struct StreamEntry {
	pub(crate) publisher: SessionId,
	pub(crate) phase: StreamPhase,
	pub(crate) tracks: Vec<PublishedTrack>,
	/// How many tracks the publisher's offer sends.
	pub(crate) expected_tracks: usize,
	pub(crate) viewers: HashSet<SessionId>,
	/// Every track's packets, in arrival order, for the viewers, and the latest keyframes.
	pub(crate) packets: Arc<fanout::Fanout>,
	/// Asks the publisher for a keyframe, rate-limited across viewers (once video arrived).
	pub(crate) keyframe_requests: Option<mpsc::Sender<()>>,
}

impl StreamEntry {
	/// A stream whose publisher session `publisher` was accepted and whose `expected_tracks`
	/// have not arrived yet.
	pub(crate) fn starting(publisher: SessionId, expected_tracks: usize) -> Self {
		Self {
			publisher,
			phase: StreamPhase::Starting,
			tracks: Vec::new(),
			expected_tracks,
			viewers: Default::default(),
			packets: Arc::new(fanout::Fanout::new(STREAM_BUFFER)),
			keyframe_requests: None,
		}
	}
}

/// Asks a peer connection to receive video and audio (a WHEP client's offer).
pub(crate) async fn receive_video_and_audio(peer: &Arc<dyn PeerConnection>) -> Result<()> {
	use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
	use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
	for kind in [RtpCodecKind::Video, RtpCodecKind::Audio] {
		let init = RTCRtpTransceiverInit {
			direction: RTCRtpTransceiverDirection::Recvonly,
			..Default::default()
		};
		peer.add_transceiver_from_kind(kind, Some(init)).await?;
	}
	Ok(())
}

pub(crate) struct SessionEntry {
	pub(crate) stream: StreamId,
	pub(crate) role: Role,
	pub(crate) principal: Option<String>,
	pub(crate) created_at: SystemTime,
	/// The driver of a session this node serves, once its offer is answered.
	pub(crate) driver: Option<session::Handles>,
	/// A relay pull's outgoing connection.
	pub(crate) peer: Option<Arc<dyn PeerConnection>>,
	/// Whether a viewer opened its payment channel.
	pub(crate) has_data_channel: bool,
	pub(crate) connected: bool,
	pub(crate) counters: Arc<Counters>,
	/// Cancelled when the session ends: stops its driver's media and its other tasks.
	pub(crate) cancel: CancellationToken,
	/// For a relayed stream's publisher session: the upstream WHEP endpoint it pulls from.
	pub(crate) relayed_from: Option<String>,
	/// Where its offer came from, for the per-client limits (`None`: not over HTTP).
	pub(crate) client: Option<limits::ClientAddress>,
}

impl SessionEntry {
	pub(crate) fn new(stream: StreamId, role: Role, principal: Option<String>) -> Self {
		Self {
			stream,
			role,
			principal,
			created_at: SystemTime::now(),
			driver: None,
			peer: None,
			has_data_channel: false,
			connected: false,
			counters: Default::default(),
			cancel: CancellationToken::new(),
			relayed_from: None,
			client: None,
		}
	}
}

#[derive(Default)]
pub(crate) struct State {
	pub(crate) streams: HashMap<StreamId, StreamEntry>,
	pub(crate) sessions: HashMap<SessionId, SessionEntry>,
}

pub(crate) struct Inner {
	pub(crate) config: StreamingConfig,
	pub(crate) policy: Arc<dyn AccessPolicy>,
	pub(crate) events: mpsc::Sender<EngineEvent>,
	state: Mutex<State>,
	/// The one UDP socket every session's media goes through.
	pub(crate) media: Arc<media_socket::MediaSocket>,
	/// The DTLS certificate of every session.
	pub(crate) identity: peer::Identity,
	/// Outgoing connections (relay pulls).
	pub(crate) peers: PeerFactory,
	pub(crate) shutdown: CancellationToken,
	/// Stops the media socket's routing, after the sessions' goodbyes at shutdown.
	media_stop: CancellationToken,
	pub(crate) http_addr: OnceLock<SocketAddr>,
	/// Time from a packet's arrival from a publisher to its hand-over to a viewer's connection.
	pub(crate) forwarding_latency: LatencyHistogram,
	/// Where streams published on other nodes are found, for relaying.
	pub(crate) upstreams: OnceLock<Arc<dyn UpstreamLocator>>,
	/// Where payments sent over HTTP go.
	pub(crate) payments: OnceLock<Arc<dyn crate::policy::PaymentDesk>>,
	/// Streams live elsewhere on the network, as the owner last discovered them.
	directory: Mutex<Vec<DirectoryEntry>>,
	/// Each client's allowance of offers and payments over HTTP.
	requests: limits::RequestRates,
}

impl Drop for Inner {
	fn drop(&mut self) {
		// An engine dropped without `shutdown` stops reading its media sockets too.
		self.media_stop.cancel();
	}
}

impl Inner {
	pub(crate) fn state(&self) -> MutexGuard<'_, State> {
		// A panic while holding the lock cannot leave the tables half-updated (every update is
		// a single insert or remove), so a poisoned lock is still consistent.
		self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	pub(crate) async fn emit(&self, event: EngineEvent) {
		// An owner that dropped its receiver does not want events; that is not an error.
		let _ = self.events.send(event).await;
	}
}

/// A session's connection with its offer answered, ready to be driven.
pub(crate) struct Negotiated {
	pub(crate) peer: rtc::peer_connection::RTCPeerConnection,
	pub(crate) credentials: peer::Credentials,
	pub(crate) sdp: String,
	pub(crate) media: session::Media,
}

/// Concludes an offer: on success makes the session reachable on the media socket, starts its
/// driver and returns the answer; on failure, or if the session ended meanwhile, ends it.
pub(crate) async fn conclude(
	inner: &Arc<Inner>,
	session: SessionId,
	stream: StreamId,
	negotiated: Result<Negotiated>,
) -> Result<Answer> {
	let Negotiated { peer, credentials, sdp, media } = match negotiated {
		Ok(negotiated) => negotiated,
		Err(error) => {
			close_session(inner, session, LeaveReason::ConnectionLost);
			return Err(error);
		},
	};
	let role = {
		let mut state = inner.state();
		let Some(entry) = state.sessions.get_mut(&session) else {
			return Err(Error::StreamNotLive(stream));
		};
		let inbox = inner.media.register(session, credentials.ufrag, &credentials.pwd);
		entry.driver = Some(session::Driver::spawn(
			inner.clone(),
			session,
			stream.clone(),
			peer,
			inbox,
			media,
			entry.counters.clone(),
			entry.cancel.clone(),
		));
		entry.role
	};
	tracing::info!(target: LOG_TARGET, %stream, %session, ?role, "offer accepted");
	Ok(Answer { session, sdp })
}

/// Asks the publisher of `stream` for a keyframe of the video's simulcast `layers` (layer 0 for
/// video that is not simulcast), at most once per `KEYFRAME_REQUEST_INTERVAL` however many
/// viewers ask.
pub(crate) fn request_layer_keyframes(inner: &Inner, stream: &StreamId, layers: &[u8]) {
	let requests = {
		let state = inner.state();
		let Some(entry) = state.streams.get(stream) else { return };
		if let Some(video) = entry.tracks.iter().find(|track| track.video_codec().is_some()) {
			for layer in layers {
				video.layers.want_keyframe(*layer);
			}
		}
		entry.keyframe_requests.clone()
	};
	if let Some(requests) = requests {
		let _ = requests.try_send(());
	}
}

fn unix_seconds(time: SystemTime) -> u64 {
	time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Engine {
	/// Creates an engine and binds its media socket, without starting its HTTP server (see
	/// [`Engine::serve`]); the events must be read, or the engine stalls once [`EVENT_BUFFER`] of
	/// them are waiting. Must be called within a Tokio runtime.
	pub fn new(
		config: StreamingConfig,
		policy: Arc<dyn AccessPolicy>,
	) -> Result<(Engine, EngineEvents)> {
		config.validate()?;
		let (events, receiver) = mpsc::channel(EVENT_BUFFER);
		let identity = peer::Identity::generate()?;
		let media = media_socket::MediaSocket::bind(
			config.udp_bind_ip,
			config.udp_port,
			config.public_ip,
			identity.crypto.clone(),
		)?;
		let peers = PeerFactory::new(&config);
		let requests = limits::RequestRates::new(config.requests_per_second_per_client);
		let inner = Inner {
			config,
			policy,
			events,
			state: Mutex::new(State::default()),
			media,
			identity,
			peers,
			shutdown: CancellationToken::new(),
			media_stop: CancellationToken::new(),
			http_addr: OnceLock::new(),
			forwarding_latency: LatencyHistogram::default(),
			upstreams: OnceLock::new(),
			payments: OnceLock::new(),
			directory: Mutex::new(Vec::new()),
			requests,
		};
		let inner = Arc::new(inner);
		inner.media.spawn_routing(inner.media_stop.clone());
		Ok((Engine { inner }, EngineEvents(receiver)))
	}

	/// Creates an engine and starts its HTTP signalling server.
	pub async fn start(
		config: StreamingConfig,
		policy: Arc<dyn AccessPolicy>,
	) -> Result<(Engine, EngineEvents)> {
		let (engine, events) = Engine::new(config, policy)?;
		engine.serve().await?;
		Ok((engine, events))
	}

	/// Counts a request that costs the node work (an offer, a payment) against its client's
	/// allowance; the refusal says when to retry.
	pub(crate) fn admit_request(&self, remote: Option<IpAddr>) -> Result<()> {
		match remote {
			Some(ip) => self.inner.requests.admit(limits::ClientAddress::of(ip), Instant::now()),
			None => Ok(()),
		}
	}

	/// The settings the engine runs with.
	pub fn config(&self) -> &StreamingConfig {
		&self.inner.config
	}

	/// Lets the engine relay streams published on other nodes (when `enable_relay` is set):
	/// `locator` says where each one is. Only the first call takes effect.
	pub fn set_upstreams(&self, locator: Arc<dyn UpstreamLocator>) {
		let _ = self.inner.upstreams.set(locator);
	}

	/// Takes payments sent over HTTP (`POST /pay`) at `desk`. Only the first call takes effect.
	pub fn set_payments(&self, desk: Arc<dyn crate::policy::PaymentDesk>) {
		let _ = self.inner.payments.set(desk);
	}

	/// Replaces the directory of streams live on the network (`GET /directory`); the owner
	/// refreshes it every `discovery_interval_seconds`.
	pub fn set_directory(&self, entries: Vec<DirectoryEntry>) {
		*self.inner.directory.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = entries;
	}

	/// The streams live on the network as last discovered, each marked with whether it is live
	/// on this node now.
	pub fn directory(&self) -> Vec<DirectoryEntry> {
		let mut entries =
			self.inner.directory.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
		let state = self.inner.state();
		for entry in &mut entries {
			entry.here = state
				.streams
				.get(&entry.stream)
				.is_some_and(|stream| matches!(stream.phase, StreamPhase::Live { .. }));
		}
		entries
	}

	/// Where the media socket is bound (every session's WebRTC traffic goes through it).
	pub fn media_addr(&self) -> SocketAddr {
		self.inner.media.bound()
	}

	/// What the media socket has dropped.
	pub fn media_socket_stats(&self) -> MediaSocketStats {
		self.inner.media.stats()
	}

	/// Where the HTTP server listens, once [`Engine::serve`] has bound it.
	pub fn http_addr(&self) -> Option<SocketAddr> {
		self.inner.http_addr.get().copied()
	}

	/// Accepts a publisher's WHIP offer for `stream`.
	pub async fn publish(
		&self,
		stream: StreamId,
		credentials: Credentials,
		offer: String,
	) -> Result<Answer> {
		self.publish_from(None, stream, credentials, offer).await
	}

	/// Accepts a publisher's WHIP offer for `stream` from a client at `remote`, which the
	/// per-client limits count it against.
	pub async fn publish_from(
		&self,
		remote: Option<IpAddr>,
		stream: StreamId,
		credentials: Credentials,
		offer: String,
	) -> Result<Answer> {
		let client = remote.map(limits::ClientAddress::of);
		publisher::publish(&self.inner, client, stream, credentials, offer).await
	}

	/// Accepts a viewer's WHEP offer for `stream`.
	pub async fn watch(
		&self,
		stream: StreamId,
		credentials: Credentials,
		offer: String,
	) -> Result<Answer> {
		self.watch_from(None, stream, credentials, offer).await
	}

	/// Accepts a viewer's WHEP offer for `stream` from a client at `remote`, which the per-client
	/// limits count it against.
	pub async fn watch_from(
		&self,
		remote: Option<IpAddr>,
		stream: StreamId,
		credentials: Credentials,
		offer: String,
	) -> Result<Answer> {
		let client = remote.map(limits::ClientAddress::of);
		viewer::watch(&self.inner, client, stream, credentials, offer).await
	}

	/// Ends a session at its client's request (the DELETE of its resource). The role and
	/// stream must match the resource URL.
	pub async fn leave(&self, role: Role, stream: &StreamId, session: SessionId) -> Result<()> {
		{
			let state = self.inner.state();
			let entry = state.sessions.get(&session).ok_or(Error::UnknownSession(session))?;
			if entry.role != role || &entry.stream != stream {
				return Err(Error::SessionMismatch(session));
			}
		}
		close_session(&self.inner, session, LeaveReason::ClientLeft);
		Ok(())
	}

	/// Every session, publishers and viewers.
	pub fn sessions(&self) -> Vec<SessionInfo> {
		let state = self.inner.state();
		let mut sessions: Vec<_> = state
			.sessions
			.iter()
			.map(|(id, entry)| SessionInfo {
				session: *id,
				stream: entry.stream.clone(),
				role: entry.role,
				principal: entry.principal.clone(),
				connected: entry.connected,
				created_at: unix_seconds(entry.created_at),
			})
			.collect();
		sessions.sort_by(|a, b| (&a.stream, a.created_at).cmp(&(&b.stream, b.created_at)));
		sessions
	}

	/// The live streams with their viewer counts.
	pub fn live_streams(&self) -> Vec<StreamSummary> {
		let state = self.inner.state();
		let mut streams: Vec<_> = state
			.streams
			.iter()
			.filter_map(|(id, entry)| match entry.phase {
				StreamPhase::Live { since } => Some(StreamSummary {
					stream: id.clone(),
					publisher: entry.publisher,
					viewers: entry.viewers.len(),
					tracks: entry
						.tracks
						.iter()
						.map(|track| TrackSummary {
							kind: track.kind.to_string(),
							codec: track.codec.mime_type.clone(),
							layers: (0..track.layers.count() as u8)
								.map(|layer| track.layers.rate(layer))
								.collect(),
						})
						.collect(),
					live_since: unix_seconds(since),
					relayed_from: state
						.sessions
						.get(&entry.publisher)
						.and_then(|publisher| publisher.relayed_from.clone()),
				}),
				StreamPhase::Starting => None,
			})
			.collect();
		streams.sort_by(|a, b| a.stream.cmp(&b.stream));
		streams
	}

	/// Drops one viewer: `reason` is sent on its data channel first, then its session ends.
	pub async fn drop_viewer(&self, session: SessionId, reason: &str) -> Result<()> {
		{
			let state = self.inner.state();
			let entry = state.sessions.get(&session).ok_or(Error::UnknownSession(session))?;
			if entry.role != Role::Viewer {
				return Err(Error::SessionMismatch(session));
			}
		}
		close_session(&self.inner, session, LeaveReason::Dropped(reason.to_owned()));
		Ok(())
	}

	/// Ends a stream: its viewers are told `reason`, then every session of it ends.
	pub async fn end_stream(&self, stream: &StreamId, reason: &str) -> Result<()> {
		let publisher = self
			.inner
			.state()
			.streams
			.get(stream)
			.map(|entry| entry.publisher)
			.ok_or_else(|| Error::StreamNotLive(stream.clone()))?;
		close_session(&self.inner, publisher, LeaveReason::StreamEnded(reason.to_owned()));
		Ok(())
	}

	/// Sends a message to a viewer on its `sutantra-pay` data channel.
	pub async fn send_data(&self, session: SessionId, data: Bytes) -> Result<()> {
		let commands = {
			let state = self.inner.state();
			let entry = state.sessions.get(&session).ok_or(Error::UnknownSession(session))?;
			match &entry.driver {
				Some(driver) if entry.has_data_channel => driver.commands.clone(),
				_ => return Err(Error::NoDataChannel(session)),
			}
		};
		let (done, sent) = tokio::sync::oneshot::channel();
		let asked = async {
			commands.send(session::Command::Send { data, done }).await.ok()?;
			sent.await.ok()
		};
		match tokio::time::timeout(DRIVER_ANSWER_TIMEOUT, asked).await {
			Ok(Some(sent)) => sent,
			Ok(None) => Err(Error::UnknownSession(session)),
			Err(_) => {
				Err(Error::WebRtc(format!("session {session} did not take the message in time")))
			},
		}
	}

	/// A session's figures.
	pub async fn session_stats(&self, session: SessionId) -> Result<SessionStats> {
		let (driver, peer, counters, role) = {
			let state = self.inner.state();
			let entry = state.sessions.get(&session).ok_or(Error::UnknownSession(session))?;
			let driver = entry.driver.as_ref().map(|driver| driver.commands.clone());
			(driver, entry.peer.clone(), entry.counters.clone(), entry.role)
		};
		let mut stats = SessionStats {
			packets: counters.packets.load(Ordering::Relaxed),
			payload_bytes: counters.payload_bytes.load(Ordering::Relaxed),
			frames: counters.frames.load(Ordering::Relaxed),
			keyframes: counters.keyframes.load(Ordering::Relaxed),
			skipped_packets: counters.skipped_packets.load(Ordering::Relaxed),
			dropped_messages: counters.dropped_messages.load(Ordering::Relaxed),
			dropped_datagrams: counters.dropped_datagrams.load(Ordering::Relaxed),
			video_layer: match counters.video_layer.load(Ordering::Relaxed) {
				0 => None,
				layer => u8::try_from(layer - 1).ok(),
			},
			layer_switches: counters.layer_switches.load(Ordering::Relaxed),
			..SessionStats::default()
		};
		let figures = if let Some(driver) = driver {
			let (reply, figures) = tokio::sync::oneshot::channel();
			let asked = async {
				driver.send(session::Command::Stats(reply)).await.ok()?;
				figures.await.ok()
			};
			// A driver that does not answer in time leaves the connection's figures out.
			tokio::time::timeout(DRIVER_ANSWER_TIMEOUT, asked).await.ok().flatten()
		} else if let Some(peer) = peer {
			let report = peer.get_stats(Instant::now(), StatsSelector::None).await;
			Some(session::PeerFigures::of(&report, role == Role::Viewer))
		} else {
			None
		};
		if let Some(figures) = figures {
			stats.media_addresses = figures.addresses;
			stats.rtt_ms = figures.rtt_ms;
			stats.packets_lost = figures.packets_lost;
			stats.jitter_ms = figures.jitter_ms;
			stats.estimated_bps = figures.estimated_bps;
		}
		if role == Role::Viewer {
			// What the viewer's receiver reports say (the connection's own statistics do not
			// follow them for media it sends).
			if let Some(reception) = counters.reception().current(Instant::now()) {
				stats.rtt_ms = reception.rtt_ms.or(stats.rtt_ms);
				stats.packets_lost = Some(reception.packets_lost);
				stats.fraction_lost = Some(reception.fraction_lost);
				stats.jitter_ms = Some(reception.jitter_ms);
				stats.delivered_bps = reception.delivered_bps;
			}
		}
		Ok(stats)
	}

	/// The latest receiver reports of `stream`'s viewers on this node: how many viewers it has,
	/// and the reception of each that reported in the last 5 s; `None` for a stream not here.
	pub fn stream_receptions(&self, stream: &StreamId) -> Option<(usize, Vec<Reception>)> {
		let state = self.inner.state();
		let entry = state.streams.get(stream)?;
		let now = Instant::now();
		let viewers: Vec<_> = entry
			.viewers
			.iter()
			.filter_map(|session| state.sessions.get(session))
			.map(|entry| entry.counters.clone())
			.collect();
		drop(state);
		let receptions =
			viewers.iter().filter_map(|counters| counters.reception().current(now)).collect();
		Some((viewers.len(), receptions))
	}

	/// `stream`'s delivery quality on this node (`GET /streams/{id}/quality`).
	pub fn stream_quality(&self, stream: &StreamId) -> Option<StreamQuality> {
		let (viewers, receptions) = self.stream_receptions(stream)?;
		Some(StreamQuality::of(viewers, &receptions))
	}

	/// How long forwarded packets spent in the engine: from arriving on a publisher's track to
	/// being handed to a viewer's connection for encryption and sending.
	pub fn forwarding_latency(&self) -> LatencySummary {
		self.inner.forwarding_latency.summary()
	}

	/// Starts [`Engine::forwarding_latency`] afresh (benchmarks measure one phase at a time).
	pub fn reset_forwarding_latency(&self) {
		self.inner.forwarding_latency.reset()
	}

	/// Ends every session and stops the HTTP server; waits (a few seconds at most) until viewers
	/// have been told and connections closed.
	pub async fn shutdown(&self) {
		self.inner.shutdown.cancel();
		let publishers: Vec<SessionId> =
			self.inner.state().streams.values().map(|s| s.publisher).collect();
		let mut ending: Vec<_> = publishers
			.into_iter()
			.filter_map(|publisher| close_session(&self.inner, publisher, LeaveReason::Shutdown))
			.collect();
		let rest: Vec<SessionId> = self.inner.state().sessions.keys().copied().collect();
		ending.extend(
			rest.into_iter()
				.filter_map(|session| close_session(&self.inner, session, LeaveReason::Shutdown)),
		);
		let _ = tokio::time::timeout(SHUTDOWN_GRACE, futures::future::join_all(ending)).await;
		// Last, once the goodbyes had their chance to be acknowledged.
		self.inner.media_stop.cancel();
	}
}

/// Ends a session once, whoever asks first. Before it returns, the session (and, for a
/// publisher, its stream and every viewer of it) has left the tables and its tasks are stopped,
/// so no more media flows. Telling viewers why on their data channels, closing the peer
/// connections and reporting the end to the owner happen on a task of their own, which is
/// returned: nobody who ends a session waits on a peer or on the event queue (the owner that
/// drains that queue is often the one ending it).
pub(crate) fn close_session(
	inner: &Arc<Inner>,
	session: SessionId,
	reason: LeaveReason,
) -> Option<tokio::task::JoinHandle<()>> {
	let (entry, orphaned, stream_was_live) = {
		let mut state = inner.state();
		let entry = state.sessions.remove(&session)?;
		let mut orphaned = Vec::new();
		let mut was_live = false;
		match entry.role {
			Role::Viewer => {
				if let Some(stream) = state.streams.get_mut(&entry.stream) {
					stream.viewers.remove(&session);
				}
			},
			Role::Publisher => {
				let owns_stream = state
					.streams
					.get(&entry.stream)
					.is_some_and(|stream| stream.publisher == session);
				if owns_stream {
					if let Some(stream) = state.streams.remove(&entry.stream) {
						was_live = matches!(stream.phase, StreamPhase::Live { .. });
						for viewer in stream.viewers {
							if let Some(viewer_entry) = state.sessions.remove(&viewer) {
								orphaned.push((viewer, viewer_entry));
							}
						}
					}
				}
			},
		}
		(entry, orphaned, was_live)
	};
	let viewer_reason = match &reason {
		LeaveReason::StreamEnded(_) | LeaveReason::Shutdown => reason.clone(),
		_ => LeaveReason::PublisherLeft,
	};
	if entry.role == Role::Viewer {
		leave_goodbye(&entry, &reason);
	}
	entry.cancel.cancel();
	for (_, viewer) in &orphaned {
		leave_goodbye(viewer, &viewer_reason);
		viewer.cancel.cancel();
	}
	tracing::debug!(target: LOG_TARGET, %session, stream = %entry.stream, role = ?entry.role, %reason, "session ends");
	let inner = inner.clone();
	Some(tokio::spawn(async move {
		match entry.role {
			Role::Viewer => finish_viewer(&inner, session, entry, reason).await,
			Role::Publisher => {
				let viewers = orphaned.into_iter().map(|(viewer, viewer_entry)| {
					finish_viewer(&inner, viewer, viewer_entry, viewer_reason.clone())
				});
				futures::future::join_all(viewers).await;
				close_peer(session, entry.driver, entry.peer).await;
				if stream_was_live {
					inner
						.emit(EngineEvent::StreamEnded { stream: entry.stream.clone(), reason })
						.await;
				}
			},
		}
	}))
}

/// The end of a viewer that has left the tables: its driver says goodbye (unless it left itself)
/// and closes its connection; then the owner is told.
async fn finish_viewer(
	inner: &Arc<Inner>,
	session: SessionId,
	entry: SessionEntry,
	reason: LeaveReason,
) {
	let stream = entry.stream.clone();
	close_peer(session, entry.driver, entry.peer).await;
	inner.emit(EngineEvent::ViewerLeft { stream, session, reason }).await;
}

/// Waits for a session's driver to finish, or closes a relay pull's connection.
async fn close_peer(
	session: SessionId,
	driver: Option<session::Handles>,
	peer: Option<Arc<dyn PeerConnection>>,
) {
	if let Some(driver) = driver {
		let _ = driver.task.await;
	}
	if let Some(peer) = peer {
		if let Err(error) = peer.close().await {
			tracing::debug!(target: LOG_TARGET, %session, %error, "closing the peer connection");
		}
	}
}

/// Leaves the reason for a viewer's driver to send before it closes, unless the viewer ended
/// the session itself.
fn leave_goodbye(entry: &SessionEntry, reason: &LeaveReason) {
	if !reason_is_told(reason) {
		return;
	}
	if let Some(driver) = &entry.driver {
		let _ = driver.goodbye.set(reason.to_string());
	}
}

/// Whether the viewer is told the reason before its session ends (it did not end it itself).
fn reason_is_told(reason: &LeaveReason) -> bool {
	!matches!(reason, LeaveReason::ClientLeft | LeaveReason::ConnectionLost)
}
