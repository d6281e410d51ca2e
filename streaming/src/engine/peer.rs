//! Building the engine's peer connections: the sans-IO connections of the sessions it serves
//! (ICE-lite on the shared media socket, one certificate), and the outgoing connections of its
//! relay pulls (full ICE on a port of their own, NAT and ICE server settings), with the event
//! handler that routes a pull's WebRTC callbacks to the engine.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use rtc::crypto::{RTCCryptoProvider, SignatureScheme};
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::certificate::{CertificateParams, RTCCertificate};
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::{
	SctpMaxMessageSize, SettingEngineBuilder,
};
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::{
	CandidateConfig, CandidateHostConfig, RTCIceCandidate, RTCIceCandidateType, RTCIceServer,
};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::rtp_sender::{
	RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::watch;
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
	PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceGatheringState,
	RTCPeerConnectionState,
};

use super::media_socket::MediaSocket;
use super::{Inner, LOG_TARGET};
use crate::config::StreamingConfig;
use crate::error::{Error, Result};
use crate::types::SessionId;

/// Makes the peer connections the node opens itself (a relay's pull from an origin): full ICE,
/// an ephemeral port of their own, the configured STUN and TURN servers.
pub(crate) struct PeerFactory {
	bind_ip: IpAddr,
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
		Self { bind_ip: config.udp_bind_ip, ice_servers, public_ip: config.public_ip }
	}

	/// A new outgoing peer connection on an ephemeral port.
	pub(crate) async fn build(
		&self,
		handler: Arc<dyn PeerConnectionEventHandler>,
	) -> Result<Arc<dyn PeerConnection>> {
		let address = SocketAddr::new(self.bind_ip, 0);
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
		new_peer(configuration, settings, handler, address).await.map_err(Error::WebRtc)
	}
}

/// The node's DTLS identity: one certificate for every session it serves, and the crypto
/// provider every session shares.
#[derive(Clone)]
pub(crate) struct Identity {
	certificate: RTCCertificate,
	pub(crate) crypto: Arc<dyn RTCCryptoProvider>,
}

impl Identity {
	pub(crate) fn generate() -> Result<Self> {
		let crypto = rtc::crypto::default_provider()
			.map_err(|e| Error::WebRtc(format!("no crypto provider: {e}")))?;
		let params = CertificateParams::new(vec!["sutantra".to_owned()])
			.map_err(|e| Error::WebRtc(format!("certificate parameters: {e}")))?;
		let certificate =
			RTCCertificate::generate(crypto.crypto(), SignatureScheme::EcdsaP256Sha256, params)?;
		Ok(Self { certificate, crypto })
	}
}

/// The largest data channel message a session's SCTP association takes (the answer announces it
/// as `a=max-message-size`). Above [`super::limits::MAX_DATA_MESSAGE_BYTES`] the engine drops
/// the message and counts it against the sender; above this the stack refuses it unread.
pub(crate) const MAX_SCTP_MESSAGE_BYTES: u32 = 16 * 1024;
/// How much unread data channel data a peer may have in flight to a session (SCTP's receive
/// window): four of the largest messages.
pub(crate) const SCTP_RECEIVE_WINDOW_BYTES: u32 = 4 * MAX_SCTP_MESSAGE_BYTES;

/// A session's ICE credentials; the username fragment routes its datagrams.
pub(crate) struct Credentials {
	pub(crate) ufrag: String,
	pub(crate) pwd: String,
}

/// A new connection for a session this node serves: ICE-lite (it answers checks and never sends
/// them), the node's certificate, the default codecs and interceptors.
/// With `congestion_control`, what the session sends is numbered for the peer's TWCC feedback
/// and the feedback read into an estimate (see `congestion.rs`); it costs every packet sent and
/// is only of use to choose a simulcast layer.
pub(crate) fn server_peer(
	inner: &Inner,
	congestion_control: bool,
) -> Result<(RTCPeerConnection, Credentials, Arc<super::keyframes::Estimate>)> {
	let credentials = Credentials {
		ufrag: super::media_socket::ice_credential(16),
		pwd: super::media_socket::ice_credential(32),
	};
	// The lite agent's timer (webrtc-rs checks every 200 ms) paces when it sees the client's
	// nomination and starts DTLS: at 50 ms a session is up about 150 ms sooner.
	let settings = ice_pacing(SettingEngineBuilder::new())
		.with_lite(true)
		.with_ice_credentials(credentials.ufrag.clone(), credentials.pwd.clone())
		.with_crypto_provider(inner.identity.crypto.clone())
		// A `.local` candidate would make the node multicast queries on its own network.
		.with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
		// The data channel carries payment messages of a few hundred bytes. The stack keeps a
		// buffer of the negotiated message size per connection (64 KiB by default, a fifth of a
		// viewer's memory) and a receive window a peer may fill (1 MiB by default).
		.with_sctp_max_message_size(SctpMaxMessageSize::Bounded(MAX_SCTP_MESSAGE_BYTES))
		.with_sctp_max_receive_buffer_size(SCTP_RECEIVE_WINDOW_BYTES)
		.build();
	let mut media_engine = MediaEngine::default();
	media_engine.register_default_codecs()?;
	let (registry, estimate) = server_interceptors(&mut media_engine, congestion_control)?;
	let configuration = RTCConfigurationBuilder::new()
		.with_certificates(vec![inner.identity.certificate.clone()])
		.build();
	let peer = RTCPeerConnectionBuilder::new()
		.with_configuration(configuration)
		.with_setting_engine(settings)
		.with_media_engine(media_engine)
		.with_interceptor_registry(registry)
		.build(Instant::now())?;
	Ok((peer, credentials, estimate))
}

/// Packets of each outgoing stream a session keeps for retransmission when its viewer reports
/// them lost (NACK): 256 covers about 1.5 s of a 1.4 Mbit/s stream and half a second at
/// 5 Mbit/s, longer than a retransmission is worth. (webrtc-rs keeps 1,024, about 140 KiB per
/// stream: most of a viewer's memory.)
const RETRANSMISSION_HISTORY: u16 = 256;

/// Where a viewer's bandwidth estimate starts, before its first feedback: above any simulcast
/// layer a browser sends (2.5 Mbit/s at 720p), so a viewer starts on the best layer and only
/// the feedback brings it down.
const INITIAL_ESTIMATE: f64 = 5_000_000.0;
/// The estimate's floor and ceiling.
const ESTIMATE_RANGE: (f64, f64) = (50_000.0, 100_000_000.0);

/// The interceptors of a session this node serves: webrtc-rs' defaults (NACK both ways, RTCP
/// reports, TWCC feedback for what it receives, the simulcast header extensions) with a shorter
/// retransmission history; transport-wide sequence numbers on what it sends and webrtc-rs'
/// congestion control interceptor reading the peer's feedback on them into our estimator (see
/// `congestion.rs`), without a pacer (the node forwards what the publisher sends and adapts by
/// choosing simulcast layers, see `simulcast.rs`); and our keyframe-request interceptor last,
/// which also hands on the estimate.
fn server_interceptors(
	media_engine: &mut MediaEngine,
	congestion_control: bool,
) -> Result<(Registry, Arc<super::keyframes::Estimate>)> {
	use rtc::interceptor::{
		CongestionControlBuilder, NackGeneratorBuilder, NackResponderBuilder, Slot,
	};
	use rtc::peer_connection::configuration::interceptor_registry::{
		configure_rtcp_reports, configure_simulcast_extension_headers, configure_twcc,
		configure_twcc_receiver_only,
	};
	use rtc::rtp_transceiver::rtp_sender::{RTCPFeedback, TYPE_RTCP_FB_NACK};
	// What `configure_nack` does, with our history.
	for parameter in ["", "pli"] {
		media_engine.register_feedback(
			RTCPFeedback { typ: TYPE_RTCP_FB_NACK.to_owned(), parameter: parameter.to_owned() },
			RtpCodecKind::Video,
		);
	}
	let registry = Registry::new()
		.with(
			Slot::NackResponder,
			NackResponderBuilder::new().with_size(RETRANSMISSION_HISTORY).build(),
		)
		.with(Slot::NackGenerator, NackGeneratorBuilder::new().build());
	configure_simulcast_extension_headers(media_engine)?;
	let registry = if congestion_control {
		// Numbers what leaves and reports what arrives.
		let registry = configure_twcc(registry, media_engine)?;
		let (min, max) = ESTIMATE_RANGE;
		let estimator = super::congestion::DelayTrend::new(INITIAL_ESTIMATE, min, max);
		registry
			.with(
				Slot::from(super::congestion::GUARD_SLOT),
				super::congestion::FeedbackGuard::default(),
			)
			.with(Slot::CongestionControl, CongestionControlBuilder::new(estimator).build())
	} else {
		// Reports what arrives (a publisher's own congestion control reads it).
		configure_twcc_receiver_only(registry, media_engine)?
	};
	let registry = configure_rtcp_reports(registry);
	let (requests, estimate) = super::keyframes::KeyframeRequests::new();
	Ok((registry.with(Slot::from(super::keyframes::SLOT), requests), estimate))
}

/// Answers an offer on a session's connection: the node's host candidates (the media socket's
/// addresses) are in the answer, which is complete at once (nothing to gather).
pub(crate) fn answer_offer(
	peer: &mut RTCPeerConnection,
	socket: &MediaSocket,
	offer: RTCSessionDescription,
) -> Result<String> {
	// An ICE-lite server learns its peer's addresses from the checks it receives; the offer's
	// candidates would only be addresses of the offerer's choosing to send to.
	let offer = RTCSessionDescription::offer(without_candidates(&offer.sdp))
		.map_err(|e| Error::BadOffer(e.to_string()))?;
	peer.set_remote_description(Instant::now(), offer)
		.map_err(|e| Error::BadOffer(e.to_string()))?;
	for address in socket.candidates() {
		let candidate = CandidateHostConfig {
			base_config: CandidateConfig {
				network: "udp".to_owned(),
				address: address.ip().to_string(),
				port: address.port(),
				component: 1,
				..Default::default()
			},
			..Default::default()
		}
		.new_candidate_host()?;
		peer.add_local_candidate(RTCIceCandidate::from(&candidate).to_json()?)?;
	}
	let answer = peer.create_answer(None)?;
	peer.set_local_description(Instant::now(), answer)?;
	peer.local_description()
		.map(|description| description.sdp)
		.ok_or_else(|| Error::WebRtc("no local description after the answer was set".into()))
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

/// An SDP description without its `a=candidate` lines.
fn without_candidates(sdp: &str) -> String {
	sdp.split_inclusive('\n').filter(|line| !line.starts_with("a=candidate:")).collect()
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

/// A video track sent as simulcast layers: one encoding per `(rid, ssrc)`, lowest quality first.
pub(crate) fn simulcast_track(
	stream_id: &str,
	track_id: &str,
	layers: &[(String, u32)],
	codec: RTCRtpCodec,
) -> MediaStreamTrack {
	let encodings = layers
		.iter()
		.map(|(rid, ssrc)| RTCRtpEncodingParameters {
			rtp_coding_parameters: RTCRtpCodingParameters {
				rid: rid.clone(),
				ssrc: Some(*ssrc),
				..Default::default()
			},
			codec: codec.clone(),
			..Default::default()
		})
		.collect();
	MediaStreamTrack::new(
		stream_id.to_owned(),
		track_id.to_owned(),
		"video".to_owned(),
		RtpCodecKind::Video,
		encodings,
	)
}

/// Routes a relay pull's WebRTC callbacks to the engine. The callbacks run on the connection's
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
		tracing::debug!(target: LOG_TARGET, %session, %state, "relay pull connection state");
		match state {
			RTCPeerConnectionState::Connected => {
				if let Some(entry) = inner.state().sessions.get_mut(&session) {
					entry.connected = true;
				}
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
		tokio::spawn(
			async move { super::publisher::on_relayed_track(&inner, session, track).await },
		);
	}
}
