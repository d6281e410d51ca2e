//! Clients of a streaming node: a WHIP publisher that sends a video file at real-time pace, and
//! a WHEP viewer that counts what it receives, can save it, and talks on `sutantra-pay`.
//! The `sutantra-node stream publish` and `stream watch` commands are built on these.

mod guard;
mod publisher;
mod signalling;
mod viewer;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use tokio::sync::watch;
use webrtc::peer_connection::{
	PeerConnection, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};

pub use publisher::{PublishOptions, Publisher};
pub use guard::{is_public, Reach};
pub use signalling::{Signalling, MAX_ANSWER_BYTES};
pub use viewer::{Viewer, ViewerStats, WatchOptions};
pub(crate) use viewer::bye_reason;

use crate::error::{Error, Result};

/// How long a client waits for its media connection to come up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a client waits for its ICE candidates before it sends the offer.
const GATHER_TIMEOUT: Duration = Duration::from_secs(5);

/// What a client's connection handler reports, for [`negotiate`] to wait on.
pub(crate) struct ConnectionSignals {
	gathered: watch::Sender<bool>,
	state: watch::Sender<RTCPeerConnectionState>,
}

/// The receiving end of [`ConnectionSignals`].
pub(crate) struct ConnectionWatch {
	gathered: watch::Receiver<bool>,
	state: watch::Receiver<RTCPeerConnectionState>,
}

impl ConnectionSignals {
	pub(crate) fn new() -> (Self, ConnectionWatch) {
		let (gathered, gathered_rx) = watch::channel(false);
		let (state, state_rx) = watch::channel(RTCPeerConnectionState::New);
		(Self { gathered, state }, ConnectionWatch { gathered: gathered_rx, state: state_rx })
	}

	pub(crate) fn gathering(&self, state: RTCIceGatheringState) {
		if state == RTCIceGatheringState::Complete {
			let _ = self.gathered.send(true);
		}
	}

	pub(crate) fn connection(&self, state: RTCPeerConnectionState) {
		let _ = self.state.send(state);
	}
}

/// The WHIP/WHEP exchange from the client's side: offers once the candidates are gathered,
/// posts the offer, applies the answer and waits for the media connection. On failure the
/// session is deleted and the connection closed. Returns the session's resource URL.
pub(crate) async fn negotiate(
	peer: &Arc<dyn PeerConnection>,
	signalling: &Signalling,
	endpoint: &str,
	token: Option<&str>,
	mut watch: ConnectionWatch,
) -> Result<String> {
	let offer = peer.create_offer(None).await?;
	peer.set_local_description(offer).await?;
	let _ = tokio::time::timeout(GATHER_TIMEOUT, watch.gathered.wait_for(|done| *done)).await;
	let offer = peer
		.local_description()
		.await
		.ok_or_else(|| Error::WebRtc("no local description after the offer was set".into()))?;
	let answered = match signalling.offer(endpoint, token, offer.sdp).await {
		Ok(answered) => answered,
		Err(error) => {
			let _ = peer.close().await;
			return Err(error);
		},
	};
	let connected = async {
		let answer = RTCSessionDescription::answer(answered.sdp)
			.map_err(|e| Error::Client(format!("the server's answer is not SDP: {e}")))?;
		peer.set_remote_description(answer).await?;
		let settled = tokio::time::timeout(
			CONNECT_TIMEOUT,
			watch.state.wait_for(|state| {
				matches!(
					state,
					RTCPeerConnectionState::Connected
						| RTCPeerConnectionState::Failed
						| RTCPeerConnectionState::Closed
				)
			}),
		)
		.await;
		match settled {
			Ok(Ok(state)) if *state == RTCPeerConnectionState::Connected => Ok(()),
			_ => Err(Error::Client(format!(
				"the media connection to {endpoint} did not come up within {} s; check that its \
				 UDP ports are reachable",
				CONNECT_TIMEOUT.as_secs()
			))),
		}
	}
	.await;
	if let Err(error) = connected {
		let _ = signalling.delete(&answered.resource, token).await;
		let _ = peer.close().await;
		return Err(error);
	}
	Ok(answered.resource)
}

/// A client peer connection whose media socket suits the server at `endpoint`: on loopback
/// when the server is, else on every interface.
async fn client_peer(
	endpoint: &str,
	handler: Arc<dyn PeerConnectionEventHandler>,
) -> Result<Arc<dyn PeerConnection>> {
	let server_is_loopback = signalling::host_of(endpoint)?
		.parse::<IpAddr>()
		.map(|ip| ip.is_loopback())
		.unwrap_or_else(|_| signalling::host_of(endpoint).is_ok_and(|host| host == "localhost"));
	let (address, settings) = if server_is_loopback {
		(
			SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
			crate::engine::ice_pacing(SettingEngineBuilder::new())
				.with_include_loopback_candidate(true),
		)
	} else {
		(
			SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
			crate::engine::ice_pacing(SettingEngineBuilder::new()),
		)
	};
	crate::engine::new_peer(RTCConfigurationBuilder::new().build(), settings, handler, address)
		.await
		.map_err(Error::WebRtc)
}
