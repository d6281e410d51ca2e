//! Publishers: accepting a WHIP offer, receiving its tracks and fanning their RTP out.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::PeerConnection;

use super::limits::{check_room, ClientAddress};
use super::peer::{answer, SessionEvents};
use super::{
	Answer, Counters, Inner, PublishedTrack, Relayed, SessionEntry, StreamEntry, StreamPhase,
	LOG_TARGET, TRACK_BUFFER,
};
use crate::error::{Error, Result};
use crate::event::EngineEvent;
use crate::policy::Credentials;
use crate::sdp::{parse_offer, Offer};
use crate::types::{Role, SessionId, StreamId};

/// A stream whose publisher offered several tracks goes live this long after the first one
/// arrives even if the others have not (a publisher may offer audio it never sends).
const REMAINING_TRACKS_WAIT: Duration = Duration::from_secs(1);
/// At most one keyframe request to a publisher per this interval, however many viewers join.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(500);

pub(super) async fn publish(
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
	let principal = inner.policy.authorize_publisher(&stream, &credentials).await.allowed()?.principal;
	let sent = offer.sent_kinds();
	if sent.is_empty() {
		return Err(Error::BadOffer(
			"the offer sends no audio or video; a WHIP offer sends its tracks (sendonly)".into(),
		));
	}

	let session = SessionId::random();
	{
		let mut state = inner.state();
		if state.streams.contains_key(&stream) {
			return Err(Error::AlreadyPublishing(stream));
		}
		if state.streams.len() >= inner.config.max_streams as usize {
			return Err(Error::TooManyStreams(inner.config.max_streams));
		}
		check_room(inner, &state, client, principal.as_deref(), 0)?;
		state.streams.insert(
			stream.clone(),
			StreamEntry::starting(session, sent.len()),
		);
		let mut entry = SessionEntry::new(stream.clone(), Role::Publisher, principal);
		entry.client = client;
		state.sessions.insert(session, entry);
	}
	super::limits::reap_if_not_up(inner, session);

	let negotiated = negotiate(inner, session, offer, &sent).await;
	super::conclude(inner, session, stream, negotiated).await
}

async fn negotiate(
	inner: &Arc<Inner>,
	session: SessionId,
	offer: Offer,
	sent: &[RtpCodecKind],
) -> Result<(Arc<dyn PeerConnection>, String, Vec<super::viewer::Forward>)> {
	let (events, gathering) = SessionEvents::new(inner, session);
	let peer = inner.peers.build(events).await?;
	let result = async {
		for kind in sent {
			let init = RTCRtpTransceiverInit {
				direction: RTCRtpTransceiverDirection::Recvonly,
				..Default::default()
			};
			peer.add_transceiver_from_kind(*kind, Some(init)).await?;
		}
		answer(&peer, offer.description, gathering).await
	}
	.await;
	match result {
		Ok(sdp) => Ok((peer, sdp, Vec::new())),
		Err(error) => {
			let _ = peer.close().await;
			Err(error)
		},
	}
}

/// A publisher's track arrived: register it for viewers and pump its packets.
pub(super) async fn on_track(inner: &Arc<Inner>, session: SessionId, track: Arc<dyn TrackRemote>) {
	let Some(&ssrc) = track.ssrcs().await.first() else { return };
	let Some(codec) = track.codec(ssrc).await else { return };
	let kind = track.kind().await;
	let (packets, _) = broadcast::channel(TRACK_BUFFER);
	let published = PublishedTrack { kind, codec, packets: packets.clone() };
	let video_codec = published.video_codec();

	let (stream, cancel, counters, went_live, first_of_several) = {
		let mut state = inner.state();
		let Some(entry) = state.sessions.get(&session) else { return };
		if entry.role != Role::Publisher {
			return;
		}
		let (stream, cancel, counters) =
			(entry.stream.clone(), entry.cancel.clone(), entry.counters.clone());
		let Some(stream_entry) = state.streams.get_mut(&stream) else { return };
		stream_entry.tracks.push(published);
		let arrived = stream_entry.tracks.len();
		let went_live = arrived >= stream_entry.expected_tracks && go_live(stream_entry);
		(stream, cancel, counters, went_live, arrived == 1 && !went_live)
	};
	tracing::info!(target: LOG_TARGET, %stream, %session, %kind, ssrc, "publisher track arrived");

	if kind == RtpCodecKind::Video {
		let (requests, pending) = mpsc::channel(1);
		if let Some(entry) = inner.state().streams.get_mut(&stream) {
			entry.keyframe_requests = Some(requests);
		}
		tokio::spawn(answer_keyframe_requests(track.clone(), ssrc, pending, cancel.clone()));
	}
	if went_live {
		inner.emit(EngineEvent::StreamLive { stream: stream.clone(), session }).await;
	}
	if first_of_several {
		let inner = inner.clone();
		let stream = stream.clone();
		tokio::spawn(async move {
			tokio::time::sleep(REMAINING_TRACKS_WAIT).await;
			let went_live = inner
				.state()
				.streams
				.get_mut(&stream)
				.is_some_and(|entry| entry.publisher == session && go_live(entry));
			if went_live {
				inner.emit(EngineEvent::StreamLive { stream, session }).await;
			}
		});
	}

	pump(track, packets, counters, video_codec, cancel).await;
}

/// Marks a stream live; false if it already was.
fn go_live(entry: &mut StreamEntry) -> bool {
	if matches!(entry.phase, StreamPhase::Live { .. }) {
		return false;
	}
	entry.phase = StreamPhase::Live { since: SystemTime::now() };
	true
}

async fn pump(
	track: Arc<dyn TrackRemote>,
	packets: broadcast::Sender<Relayed>,
	counters: Arc<Counters>,
	video_codec: Option<crate::codec::VideoCodec>,
	cancel: CancellationToken,
) {
	loop {
		let event = tokio::select! {
			_ = cancel.cancelled() => return,
			event = track.poll() => event,
		};
		match event {
			Some(TrackRemoteEvent::OnRtpPacket(packet)) => {
				counters.count_packet(&packet, video_codec);
				// No viewers is not an error: the packet is simply not needed.
				let _ = packets.send(Relayed { arrived: Instant::now(), packet });
			},
			Some(TrackRemoteEvent::OnEnded) | None => return,
			Some(_) => {},
		}
	}
}

async fn answer_keyframe_requests(
	track: Arc<dyn TrackRemote>,
	media_ssrc: u32,
	mut requests: mpsc::Receiver<()>,
	cancel: CancellationToken,
) {
	loop {
		tokio::select! {
			_ = cancel.cancelled() => return,
			request = requests.recv() => if request.is_none() { return },
		}
		let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc };
		if let Err(error) = track.write_rtcp(vec![Box::new(pli)]).await {
			tracing::debug!(target: LOG_TARGET, %error, "keyframe request not sent");
		}
		tokio::time::sleep(KEYFRAME_REQUEST_INTERVAL).await;
	}
}
