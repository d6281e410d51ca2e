//! Building the engine's peer connections: media sockets from the configured port range, NAT
//! and ICE server settings, and the event handler that routes WebRTC callbacks to the engine.

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::{RTCIceCandidateType, RTCIceServer};
use rtc::rtp_transceiver::rtp_sender::{
	RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::watch;
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
	PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
	RTCPeerConnectionState,
};

use super::{Inner, LOG_TARGET};
use crate::config::StreamingConfig;
use crate::error::{Error, Result};
use crate::types::SessionId;

/// How long an answer waits for ICE candidate gathering (host candidates take milliseconds;
/// STUN and TURN take a round trip).
const GATHER_TIMEOUT: Duration = Duration::from_secs(5);

/// Makes peer connections with the engine's network settings.
pub(crate) struct PeerFactory {
	bind_ip: IpAddr,
	ports: RangeInclusive<u16>,
	next_port: AtomicU32,
	ice_servers: Vec<RTCIceServer>,
	public_ip: Option<IpAddr>,
}

impl PeerFactory {
	pub(crate) fn new(config: &StreamingConfig) -> Self {
		let mut ice_servers = Vec::new();
		if !config.stun_servers.is_empty() {
			ice_servers
				.push(RTCIceServer { urls: config.stun_servers.clone(), ..Default::default() });
		}
		for turn in &config.turn_servers {
			ice_servers.push(RTCIceServer {
				urls: vec![turn.url.clone()],
				username: turn.username.clone(),
				credential: turn.credential.clone(),
			});
		}
		Self {
			bind_ip: config.udp_bind_ip,
			ports: config.udp_ports.clone(),
			next_port: AtomicU32::new(0),
			ice_servers,
			public_ip: config.public_ip,
		}
	}

	/// A new peer connection bound to the next free port of the range.
	pub(crate) async fn build(
		&self,
		handler: Arc<dyn PeerConnectionEventHandler>,
	) -> Result<Arc<dyn PeerConnection>> {
		let span = u32::from(*self.ports.end() - *self.ports.start()) + 1;
		let mut last_error = String::new();
		for _ in 0..span {
			let offset = self.next_port.fetch_add(1, Ordering::Relaxed) % span;
			let port = *self.ports.start() + offset as u16;
			match self.build_on(SocketAddr::new(self.bind_ip, port), handler.clone()).await {
				Ok(peer) => return Ok(peer),
				Err(error) if is_address_in_use(&error) => last_error = error,
				Err(error) => return Err(Error::WebRtc(error)),
			}
		}
		tracing::warn!(target: LOG_TARGET, ports = ?self.ports, %last_error, "UDP port range exhausted");
		Err(Error::NoFreePort(format!("{}-{}", self.ports.start(), self.ports.end())))
	}

	async fn build_on(
		&self,
		address: SocketAddr,
		handler: Arc<dyn PeerConnectionEventHandler>,
	) -> std::result::Result<Arc<dyn PeerConnection>, String> {
		let mut settings = ice_pacing(SettingEngineBuilder::new());
		if address.ip().is_loopback() {
			settings = settings.with_include_loopback_candidate(true);
		}
		if let Some(public_ip) = self.public_ip {
			settings =
				settings.with_nat_1to1_ips(vec![public_ip.to_string()], RTCIceCandidateType::Host);
		}
		let configuration =
			RTCConfigurationBuilder::new().with_ice_servers(self.ice_servers.clone()).build();
		let peer = new_peer(configuration, settings, handler, address).await?;
		Ok(peer)
	}
}

/// ICE connectivity checks every 50 ms, the pacing RFC 8445 recommends and browsers use, instead
/// of webrtc-rs' 200 ms; as many attempts as fit in its 1.4 s window. A connection comes up
/// one check round sooner.
pub(crate) fn ice_pacing(settings: SettingEngineBuilder) -> SettingEngineBuilder {
	settings.with_ice_connection_attempts(Some(Duration::from_millis(50)), Some(28))
}

/// A peer connection with the default codecs and interceptors (NACK, RTCP reports, TWCC).
pub(crate) async fn new_peer(
	configuration: rtc::peer_connection::configuration::RTCConfiguration,
	settings: SettingEngineBuilder,
	handler: Arc<dyn PeerConnectionEventHandler>,
	address: SocketAddr,
) -> std::result::Result<Arc<dyn PeerConnection>, String> {
	let mut media_engine = MediaEngine::default();
	media_engine.register_default_codecs().map_err(|e| e.to_string())?;
	let registry = register_default_interceptors(Registry::new(), &mut media_engine)
		.map_err(|e| e.to_string())?
		.with(
			rtc::interceptor::Slot::from(super::keyframes::SLOT),
			super::keyframes::KeyframeRequests::default(),
		);
	let peer = PeerConnectionBuilder::new()
		.with_configuration(configuration)
		.with_media_engine(media_engine)
		.with_setting_engine(settings.build())
		.with_interceptor_registry(registry)
		.with_handler(handler)
		.with_udp_addrs(vec![address])
		.build()
		.await
		.map_err(|e| e.to_string())?;
	Ok(Arc::new(peer))
}

/// Whether building failed because the port is taken. webrtc-rs skips an address it cannot
/// bind and then reports that it has no socket at all; we give it exactly one address.
fn is_address_in_use(error: &str) -> bool {
	let error = error.to_ascii_lowercase();
	error.contains("in use") || error.contains("os error 98") || error.contains("no udp_sockets")
}

/// Resolves once ICE gathering is complete, or after [`GATHER_TIMEOUT`] (the answer then
/// carries the candidates found so far).
async fn gathered(mut complete: watch::Receiver<bool>) {
	let _ = tokio::time::timeout(GATHER_TIMEOUT, complete.wait_for(|done| *done)).await;
}

/// Answers an offer: applies it, creates and applies the answer, waits for gathering and
/// returns the answer as SDP text.
pub(crate) async fn answer(
	peer: &Arc<dyn PeerConnection>,
	offer: RTCSessionDescription,
	gathering: watch::Receiver<bool>,
) -> Result<String> {
	peer.set_remote_description(offer).await.map_err(|e| Error::BadOffer(e.to_string()))?;
	let answer = peer.create_answer(None).await?;
	peer.set_local_description(answer).await?;
	gathered(gathering).await;
	peer.local_description()
		.await
		.map(|description| description.sdp)
		.ok_or_else(|| Error::WebRtc("no local description after the answer was set".into()))
}

/// A track with one encoding: `ssrc` in `codec`.
pub(crate) fn media_track(
	stream_id: &str,
	track_id: &str,
	kind: RtpCodecKind,
	ssrc: u32,
	codec: RTCRtpCodec,
) -> MediaStreamTrack {
	MediaStreamTrack::new(
		stream_id.to_owned(),
		track_id.to_owned(),
		kind.to_string(),
		kind,
		vec![RTCRtpEncodingParameters {
			rtp_coding_parameters: RTCRtpCodingParameters {
				ssrc: Some(ssrc),
				..Default::default()
			},
			codec,
			..Default::default()
		}],
	)
}

/// Routes one session's WebRTC callbacks to the engine. The callbacks run on the connection's
/// driver, so each one only records or spawns: anything that waits on the connection itself
/// would stall the driver that must make progress for it.
pub(crate) struct SessionEvents {
	pub(crate) inner: Weak<Inner>,
	pub(crate) session: SessionId,
	pub(crate) gathering: watch::Sender<bool>,
}

impl SessionEvents {
	pub(crate) fn new(
		inner: &Arc<Inner>,
		session: SessionId,
	) -> (Arc<Self>, watch::Receiver<bool>) {
		let (gathering, complete) = watch::channel(false);
		(Arc::new(Self { inner: Arc::downgrade(inner), session, gathering }), complete)
	}
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for SessionEvents {
	async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
		if state == RTCIceGatheringState::Complete {
			let _ = self.gathering.send(true);
		}
	}

	async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
		let Some(inner) = self.inner.upgrade() else { return };
		let session = self.session;
		tracing::debug!(target: LOG_TARGET, %session, %state, "connection state");
		match state {
			RTCPeerConnectionState::Connected => {
				tokio::spawn(async move { super::on_connected(&inner, session).await });
			},
			RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
				super::close_session(&inner, session, crate::types::LeaveReason::ConnectionLost);
			},
			_ => {},
		}
	}

	async fn on_track(&self, track: Arc<dyn TrackRemote>) {
		let Some(inner) = self.inner.upgrade() else { return };
		let session = self.session;
		tokio::spawn(async move { super::publisher::on_track(&inner, session, track).await });
	}

	async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
		let Some(inner) = self.inner.upgrade() else { return };
		let session = self.session;
		tokio::spawn(async move { super::viewer::on_data_channel(&inner, session, channel).await });
	}
}
