//! Viewers: accepting a WHEP offer, forwarding the stream's RTP to it, and its payment data
//! channel.

use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::PeerConnection;
use webrtc::rtp_transceiver::RtpSender;

use super::limits::{check_room, ClientAddress, MessageAllowance, Verdict};
use super::peer::{answer, SessionEvents};
use super::{
	media_track, Answer, Counters, Inner, PublishedTrack, Relayed, SessionEntry, StreamPhase,
	LOG_TARGET, PAY_CHANNEL_LABEL,
};
use crate::codec::VideoCodec;
use crate::error::{Error, Result};
use crate::event::EngineEvent;
use crate::policy::Credentials;
use crate::sdp::{parse_offer, Offer};
use crate::types::{Role, SessionId, StreamId};

/// One published track as sent to one viewer: started once the viewer's connection is up.
pub(crate) struct Forward {
	local: Arc<TrackLocalStaticRTP>,
	ssrc: u32,
	payload_type: u8,
	track: PublishedTrack,
}

pub(super) async fn watch(
	inner: &Arc<Inner>,
	client: Option<ClientAddress>,
	stream: StreamId,
	credentials: Credentials,
	offer: String,
) -> Result<Answer> {
	// The address's limits first: a flood of offers costs no access check.
	check_room(inner, &inner.state(), client, None, 0)?;
	// A useless offer costs no access check (nor uses up the client's credentials).
	let offer = parse_offer(offer)?;
	let admission = inner.policy.authorize_viewer(&stream, &credentials).await.allowed()?;
	super::relay::ensure_live(inner, &stream).await?;

	let session = SessionId::random();
	let principal = admission.principal;
	let (tracks, replaced) = {
		let mut state = inner.state();
		// One account, a bounded number of seats: its oldest sessions of this stream give way.
		let mut replaced: Vec<(SessionId, std::time::SystemTime)> = match &principal {
			Some(principal) => state
				.sessions
				.iter()
				.filter(|(_, entry)| {
					entry.role == Role::Viewer
						&& entry.stream == stream
						&& entry.principal.as_ref() == Some(principal)
				})
				.map(|(id, entry)| (*id, entry.created_at))
				.collect(),
			None => Vec::new(),
		};
		replaced.sort_by_key(|(_, created)| *created);
		let keep = inner.config.max_sessions_per_viewer.saturating_sub(1) as usize;
		replaced.truncate(replaced.len().saturating_sub(keep));
		let entry =
			state.streams.get_mut(&stream).ok_or_else(|| Error::StreamNotLive(stream.clone()))?;
		if matches!(entry.phase, StreamPhase::Starting) {
			return Err(Error::StreamStarting(stream));
		}
		let max = admission
			.audience_cap
			.map_or(inner.config.max_viewers_per_stream, |cap| {
				cap.min(inner.config.max_viewers_per_stream)
			});
		if entry.viewers.len().saturating_sub(replaced.len()) >= max as usize {
			return Err(Error::StreamFull { stream, max });
		}
		for track in &entry.tracks {
			if track.kind == rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Video
				&& !offer.receives(track.kind, &track.codec.mime_type)
			{
				return Err(Error::CodecNotOffered(track.codec.mime_type.clone()));
			}
		}
		let tracks = entry.tracks.clone();
		entry.viewers.insert(session);
		if let Err(refused) = check_room(inner, &state, client, principal.as_deref(), replaced.len())
		{
			if let Some(entry) = state.streams.get_mut(&stream) {
				entry.viewers.remove(&session);
			}
			return Err(refused);
		}
		let mut entry = SessionEntry::new(stream.clone(), Role::Viewer, principal);
		entry.client = client;
		state.sessions.insert(session, entry);
		(tracks, replaced)
	};
	// From here on the session holds a place: it is reaped if it is not up in time, however
	// its negotiation ends.
	super::limits::reap_if_not_up(inner, session);
	for (old, _) in replaced {
		let reason = "replaced: the same account joined this stream again (one seat per account)";
		super::close_session(inner, old, crate::types::LeaveReason::Dropped(reason.into()));
	}

	let negotiated = negotiate(inner, session, &stream, offer, tracks).await;
	super::conclude(inner, session, stream, negotiated).await
}

async fn negotiate(
	inner: &Arc<Inner>,
	session: SessionId,
	stream: &StreamId,
	offer: Offer,
	tracks: Vec<PublishedTrack>,
) -> Result<(Arc<dyn PeerConnection>, String, Vec<Forward>)> {
	let (events, gathering) = SessionEvents::new(inner, session);
	let peer = inner.peers.build(events).await?;
	let result = async {
		let mut senders = Vec::new();
		for track in tracks {
			let ssrc: u32 = rand::random();
			let kind = track.kind;
			let local = Arc::new(TrackLocalStaticRTP::new(media_track(
				&format!("sutantra-{stream}"),
				&format!("{kind}-{session}"),
				kind,
				ssrc,
				track.codec.clone(),
			)));
			let sender = peer.add_track(local.clone() as Arc<dyn TrackLocal>).await?;
			senders.push((local, sender, ssrc, track));
		}
		let sdp = answer(&peer, offer.description, gathering).await?;
		let mut forwards = Vec::new();
		for (local, sender, ssrc, track) in senders {
			let payload_type = negotiated_payload_type(&sender).await?;
			forwards.push(Forward { local, ssrc, payload_type, track });
		}
		Ok((sdp, forwards))
	}
	.await;
	match result {
		Ok((sdp, forwards)) => Ok((peer, sdp, forwards)),
		Err(error) => {
			let _ = peer.close().await;
			Err(error)
		},
	}
}

async fn negotiated_payload_type(sender: &Arc<dyn RtpSender>) -> Result<u8> {
	sender
		.get_parameters()
		.await?
		.rtp_parameters
		.codecs
		.first()
		.map(|codec| codec.payload_type)
		.ok_or_else(|| {
			Error::BadOffer("no codec of the stream could be negotiated with the offer".into())
		})
}

/// The viewer's connection is up: start its forwarders and ask the publisher for a keyframe
/// so its picture starts at once.
pub(super) async fn start(inner: &Arc<Inner>, session: SessionId) {
	let (stream, forwards, counters, cancel) = {
		let mut state = inner.state();
		let Some(entry) = state.sessions.get_mut(&session) else { return };
		entry.connected = true;
		(
			entry.stream.clone(),
			std::mem::take(&mut entry.forwards),
			entry.counters.clone(),
			entry.cancel.clone(),
		)
	};
	if forwards.is_empty() {
		return;
	}
	for forward in forwards {
		// Subscribe before asking for the keyframe, so the keyframe cannot pass by unseen.
		let packets = forward.track.packets.subscribe();
		tokio::spawn(run_forward(
			inner.clone(),
			stream.clone(),
			forward,
			packets,
			counters.clone(),
			cancel.clone(),
		));
	}
	super::request_keyframe(inner, &stream);
	tracing::info!(target: LOG_TARGET, %stream, %session, "viewer connected");
	inner.emit(EngineEvent::ViewerJoined { stream, session }).await;
}

async fn run_forward(
	inner: Arc<Inner>,
	stream: StreamId,
	forward: Forward,
	mut packets: broadcast::Receiver<Relayed>,
	counters: Arc<Counters>,
	cancel: CancellationToken,
) {
	let Forward { local, ssrc, payload_type, track } = forward;
	let codec = track.video_codec();
	let gated = codec.is_some_and(VideoCodec::detects_keyframes);
	let mut waiting_for_keyframe = gated;
	let mut feedback_open = true;
	loop {
		let received = tokio::select! {
			_ = cancel.cancelled() => return,
			received = packets.recv() => received,
			// The viewer's own keyframe requests (it lost packets, its decoder failed) go to the
			// publisher, coalesced with everyone else's.
			event = local.poll(), if feedback_open => {
				match event {
					Some(TrackLocalEvent::OnRtcpPacket(rtcp)) => {
						if rtcp.iter().any(|packet| super::is_keyframe_request(packet.as_ref())) {
							super::request_keyframe(&inner, &stream);
						}
					},
					Some(_) => {},
					None => feedback_open = false,
				}
				continue;
			},
		};
		let Relayed { arrived, mut packet } = match received {
			Ok(relayed) => relayed,
			Err(RecvError::Lagged(skipped)) => {
				// This viewer fell behind the live edge: skip to the next keyframe rather than
				// slow the stream down for everyone.
				counters.skipped(skipped);
				if gated {
					waiting_for_keyframe = true;
					super::request_keyframe(&inner, &stream);
				}
				continue;
			},
			Err(RecvError::Closed) => return,
		};
		if waiting_for_keyframe {
			if !codec.is_some_and(|codec| codec.starts_keyframe(&packet.payload)) {
				continue;
			}
			waiting_for_keyframe = false;
		}
		packet.header.ssrc = ssrc;
		packet.header.payload_type = payload_type;
		// Header extension ids were negotiated with the publisher, not with this viewer.
		packet.header.extension = false;
		packet.header.extensions.clear();
		counters.count_packet(&packet, codec);
		if local.write_rtp(packet).await.is_err() {
			return;
		}
		inner.forwarding_latency.record(arrived.elapsed());
	}
}

/// A viewer opened a data channel: keep the payment channel, surface its messages.
pub(super) async fn on_data_channel(
	inner: &Arc<Inner>,
	session: SessionId,
	channel: Arc<dyn DataChannel>,
) {
	let label = channel.label().await.unwrap_or_default();
	if label != PAY_CHANNEL_LABEL {
		// Closed rather than left unread: nothing it sends may pile up here.
		tracing::debug!(target: LOG_TARGET, %session, %label, "closing a data channel that is not {PAY_CHANNEL_LABEL}");
		let _ = channel.close().await;
		return;
	}
	let (stream, cancel, counters) = {
		let mut state = inner.state();
		let Some(entry) = state.sessions.get_mut(&session) else { return };
		if entry.role != Role::Viewer || entry.data_channel.is_some() {
			return;
		}
		entry.data_channel = Some(channel.clone());
		(entry.stream.clone(), entry.cancel.clone(), entry.counters.clone())
	};
	inner.emit(EngineEvent::DataChannelOpen { stream: stream.clone(), session }).await;
	let mut allowance = MessageAllowance::new(std::time::Instant::now());
	loop {
		let event = tokio::select! {
			_ = cancel.cancelled() => return,
			event = channel.poll() => event,
		};
		match event {
			Some(DataChannelEvent::OnMessage(message)) => {
				match allowance.admit(message.data.len(), std::time::Instant::now()) {
					Verdict::Take => {},
					Verdict::Drop => {
						counters.dropped_message();
						continue;
					},
					Verdict::Disconnect => {
						counters.dropped_message();
						tracing::info!(target: LOG_TARGET, %stream, %session, "viewer disconnected for flooding its data channel");
						let reason = format!(
							"flooding: more than {} messages a second, or messages over {} bytes, on the payment channel",
							super::limits::DATA_MESSAGES_PER_SECOND,
							super::limits::MAX_DATA_MESSAGE_BYTES,
						);
						super::close_session(inner, session, crate::types::LeaveReason::Dropped(reason));
						return;
					},
				}
				let data = message.data.freeze();
				inner
					.emit(EngineEvent::DataMessage { stream: stream.clone(), session, data })
					.await;
			},
			Some(DataChannelEvent::OnClose) | None => return,
			Some(_) => {},
		}
	}
}
