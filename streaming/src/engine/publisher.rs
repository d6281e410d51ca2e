//! Publishers: accepting a WHIP offer, receiving its tracks and fanning their RTP out (and a
//! relayed stream's tracks, which arrive on the pull's connection).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rtc::media_stream::MediaStreamTrackId;
use rtc::peer_connection::event::RTCTrackEvent;
use rtc::peer_connection::RTCPeerConnection;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::rtp_transceiver::{RTCRtpReceiverId, RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::limits::{check_room, ClientAddress};
use super::peer::{answer_offer, server_peer};
use super::session::Media;
use super::simulcast::{Layers, RateMeter};
use super::{
	Answer, Counters, Inner, PublishedTrack, Relayed, SessionEntry, StreamEntry, StreamPhase,
	LOG_TARGET,
};
use crate::error::{Error, Result};
use crate::event::EngineEvent;
use crate::policy::Credentials;
use crate::sdp::{parse_offer, Offer};
use crate::types::{Role, SessionId, StreamId};

/// A stream whose publisher offered several tracks goes live this long after the first one
/// arrives even if the others have not (a publisher may offer audio it never sends).
const REMAINING_TRACKS_WAIT: Duration = Duration::from_secs(1);
/// At most one keyframe request to a publisher per this interval, however many viewers join: a
/// joining viewer waits for it, and viewers joining together share one keyframe. At 200 ms a
/// crowd costs the publisher at most five keyframes a second (LiveKit and Janus throttle at
/// 500 ms to 1 s; a viewer then waits up to that long for its first picture).
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(200);

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
	let principal =
		inner.policy.authorize_publisher(&stream, &credentials).await.allowed()?.principal;
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
		state.streams.insert(stream.clone(), StreamEntry::starting(session, sent.len()));
		let mut entry = SessionEntry::new(stream.clone(), Role::Publisher, principal);
		entry.client = client;
		state.sessions.insert(session, entry);
	}
	super::limits::reap_if_not_up(inner, session);

	let negotiated = negotiate(inner, session, offer, &sent);
	super::conclude(inner, session, stream, negotiated).await
}

fn negotiate(
	inner: &Arc<Inner>,
	session: SessionId,
	offer: Offer,
	sent: &[RtpCodecKind],
) -> Result<super::Negotiated> {
	// A publisher is sent no media: nothing to estimate.
	let (mut peer, credentials, _) = server_peer(inner, false)?;
	for kind in sent {
		let init = RTCRtpTransceiverInit {
			direction: RTCRtpTransceiverDirection::Recvonly,
			..Default::default()
		};
		peer.add_transceiver_from_kind(*kind, Some(init))?;
	}
	let sdp = answer_offer(&mut peer, &inner.media, offer.description)?;
	let (requests_sender, requests) = mpsc::channel(1);
	let packets = inner
		.state()
		.streams
		.values()
		.find(|entry| entry.publisher == session)
		.map(|entry| entry.packets.clone())
		.ok_or(Error::UnknownSession(session))?;
	let receiving = Receiving {
		tracks: HashMap::new(),
		packets,
		video: None,
		requests_sender: Some(requests_sender),
		requests,
		requests_open: true,
		next_request_at: Instant::now(),
		request_pending: false,
	};
	Ok(super::Negotiated { peer, credentials, sdp, media: Media::Publisher(receiving) })
}

/// A publisher's track as its session receives it.
struct Incoming {
	index: usize,
	video_codec: Option<crate::codec::VideoCodec>,
	/// Its layers' SSRCs and rids, by layer index (one for a track that is not simulcast).
	ssrcs: Vec<u32>,
	rids: Vec<Option<String>>,
	layers: Arc<Layers>,
	meter: RateMeter,
}

/// The publisher's half of a session: its tracks, fanned out to the stream's viewers, and the
/// viewers' keyframe requests, passed on at most once per [`KEYFRAME_REQUEST_INTERVAL`].
pub(crate) struct Receiving {
	tracks: HashMap<MediaStreamTrackId, Incoming>,
	packets: Arc<super::fanout::Fanout>,
	/// The video track's receiver, which keyframe requests are about.
	video: Option<(RTCRtpReceiverId, MediaStreamTrackId)>,
	/// Handed to the stream when the video track arrives.
	requests_sender: Option<mpsc::Sender<()>>,
	requests: mpsc::Receiver<()>,
	requests_open: bool,
	next_request_at: Instant,
	request_pending: bool,
}

impl Receiving {
	/// A track opened: it joins the stream. Returns the event to report if the stream went live.
	pub(crate) async fn on_track_event(
		&mut self,
		inner: &Arc<Inner>,
		session: SessionId,
		peer: &mut RTCPeerConnection,
		event: RTCTrackEvent,
	) -> Option<EngineEvent> {
		let RTCTrackEvent::OnOpen(init) = event else { return None };
		if let Some(incoming) = self.tracks.get_mut(&init.track_id) {
			// Another simulcast layer of a track already here (webrtc-rs opens each layer's SSRC
			// on the one track).
			if init.rid.is_none() || incoming.ssrcs.contains(&init.ssrc) {
				return None;
			}
			if let Some(layer) = incoming.rids.iter().position(|rid| *rid == init.rid) {
				// A layer the publisher restarted under a new SSRC keeps its place.
				incoming.ssrcs[layer] = init.ssrc;
				tracing::info!(target: LOG_TARGET, %session, ssrc = init.ssrc, rid = ?init.rid, layer, "simulcast layer has a new SSRC");
				return None;
			}
			match incoming.layers.add() {
				Some(layer) => {
					incoming.ssrcs.push(init.ssrc);
					incoming.rids.push(init.rid.clone());
					tracing::info!(target: LOG_TARGET, %session, ssrc = init.ssrc, rid = ?init.rid, layer, "simulcast layer arrived");
				},
				None => {
					tracing::info!(target: LOG_TARGET, %session, ssrc = init.ssrc, rid = ?init.rid, "simulcast layer beyond the third not forwarded");
				},
			}
			return None;
		}
		let receiver = peer.rtp_receiver(init.receiver_id)?;
		let track = receiver.track();
		let kind = track.kind();
		let ssrc = init.ssrc;
		let codec = track
			.codec(ssrc)
			.or_else(|| track.ssrcs().next().and_then(|first| track.codec(first)))?
			.clone();
		let keyframes =
			if kind == RtpCodecKind::Video { self.requests_sender.take() } else { None };
		let layers = Arc::new(Layers::new(1));
		if init.rid.is_some() {
			layers.set_simulcast();
		}
		let (index, live) =
			add_track(inner, session, kind, codec.clone(), ssrc, keyframes, layers.clone())?;
		if kind == RtpCodecKind::Video && self.video.is_none() {
			self.video = Some((init.receiver_id, init.track_id.clone()));
		}
		let video_codec = PublishedTrack { kind, codec, layers: layers.clone() }.video_codec();
		let incoming = Incoming {
			index,
			video_codec,
			ssrcs: vec![ssrc],
			rids: vec![init.rid.clone()],
			layers,
			meter: RateMeter::new(Instant::now()),
		};
		self.tracks.insert(init.track_id, incoming);
		live
	}

	pub(crate) fn on_rtp(
		&mut self,
		track: &MediaStreamTrackId,
		packet: rtc::rtp::Packet,
		counters: &Counters,
	) {
		let Some(incoming) = self.tracks.get_mut(track) else { return };
		let layer = match incoming.ssrcs.iter().position(|ssrc| *ssrc == packet.header.ssrc) {
			Some(layer) => layer as u8,
			// A track that is not simulcast may change its SSRC; a fourth layer is not taken.
			None if incoming.ssrcs.len() == 1 => 0,
			None => return,
		};
		let now = Instant::now();
		incoming.meter.count(&incoming.layers, layer, packet.payload.len(), now);
		counters.count_packet(&packet, incoming.video_codec);
		let keyframe = starts_keyframe(incoming.video_codec, &packet);
		self.packets.send(Relayed { track: incoming.index, layer, arrived: now, packet }, keyframe);
	}

	pub(crate) fn asks_keyframes(&self) -> bool {
		self.requests_open && self.video.is_some()
	}

	pub(crate) async fn next_request(&mut self) -> Option<()> {
		self.requests.recv().await
	}

	pub(crate) fn on_keyframe_request(
		&mut self,
		request: Option<()>,
		peer: &mut RTCPeerConnection,
		now: Instant,
	) {
		if request.is_none() {
			self.requests_open = false;
			return;
		}
		self.request_pending = true;
		self.on_timer(peer, now);
	}

	pub(crate) fn next_timer(&self) -> Option<Instant> {
		self.request_pending.then_some(self.next_request_at)
	}

	pub(crate) fn on_timer(&mut self, peer: &mut RTCPeerConnection, now: Instant) {
		if !self.request_pending || now < self.next_request_at {
			return;
		}
		self.request_pending = false;
		self.next_request_at = now + KEYFRAME_REQUEST_INTERVAL;
		let Some((receiver, track)) = &self.video else { return };
		let Some(incoming) = self.tracks.get(track) else { return };
		// The layers viewers asked a keyframe of (each layer is its own encoding).
		let wanted = incoming.layers.take_wanted();
		let requests: Vec<Box<dyn rtc::rtcp::Packet>> = incoming
			.ssrcs
			.iter()
			.enumerate()
			.filter(|(layer, _)| wanted & (1 << layer) != 0)
			.map(|(_, &media_ssrc)| {
				Box::new(PictureLossIndication { sender_ssrc: 0, media_ssrc })
					as Box<dyn rtc::rtcp::Packet>
			})
			.collect();
		let Some(mut receiver) = peer.rtp_receiver(*receiver) else { return };
		if let Err(error) = receiver.write_rtcp(now, requests) {
			tracing::debug!(target: LOG_TARGET, %error, "keyframe request not sent");
		}
	}
}

/// A publisher's track arrived (`ssrc` in `codec`): adds it to the stream, which goes live once
/// every offered track is here (or [`REMAINING_TRACKS_WAIT`] after the first). A video track
/// takes the stream's keyframe requests at `keyframes`. Returns the track's index in the stream.
pub(super) fn add_track(
	inner: &Arc<Inner>,
	session: SessionId,
	kind: RtpCodecKind,
	codec: rtc::rtp_transceiver::rtp_sender::RTCRtpCodec,
	ssrc: u32,
	keyframes: Option<mpsc::Sender<()>>,
	layers: Arc<Layers>,
) -> Option<(usize, Option<EngineEvent>)> {
	let (stream, index, went_live, first_of_several) = {
		let mut state = inner.state();
		let entry = state.sessions.get(&session)?;
		if entry.role != Role::Publisher {
			return None;
		}
		let stream = entry.stream.clone();
		let stream_entry = state.streams.get_mut(&stream)?;
		if stream_entry.publisher != session {
			return None;
		}
		stream_entry.tracks.push(PublishedTrack { kind, codec, layers });
		if keyframes.is_some() {
			stream_entry.keyframe_requests = keyframes;
		}
		let arrived = stream_entry.tracks.len();
		let went_live = arrived >= stream_entry.expected_tracks && go_live(stream_entry);
		(stream, arrived - 1, went_live, arrived == 1 && !went_live)
	};
	tracing::info!(target: LOG_TARGET, %stream, %session, %kind, ssrc, "publisher track arrived");
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
	let live = went_live.then(|| EngineEvent::StreamLive { stream, session });
	Some((index, live))
}

/// A relayed stream's track arrived on the pull's connection: register it and pump its packets.
pub(super) async fn on_relayed_track(
	inner: &Arc<Inner>,
	session: SessionId,
	track: Arc<dyn TrackRemote>,
) {
	let Some(&ssrc) = track.ssrcs().await.first() else { return };
	let Some(codec) = track.codec(ssrc).await else { return };
	let kind = track.kind().await;
	// A relay pulls one layer: what its upstream chose to send it.
	let layers = Arc::new(Layers::new(1));
	let video_codec =
		PublishedTrack { kind, codec: codec.clone(), layers: layers.clone() }.video_codec();
	let (requests, pending) = mpsc::channel(1);
	let keyframes = (kind == RtpCodecKind::Video).then_some(requests);
	let Some((index, live)) =
		add_track(inner, session, kind, codec, ssrc, keyframes, layers.clone())
	else {
		return;
	};
	if let Some(live) = live {
		inner.emit(live).await;
	}
	let (packets, cancel, counters) = {
		let state = inner.state();
		let Some(entry) = state.sessions.get(&session) else { return };
		let Some(stream) = state.streams.get(&entry.stream) else { return };
		(stream.packets.clone(), entry.cancel.clone(), entry.counters.clone())
	};
	if kind == RtpCodecKind::Video {
		tokio::spawn(answer_keyframe_requests(track.clone(), ssrc, pending, cancel.clone()));
	}
	pump(track, index, packets, counters, video_codec, layers, cancel).await;
}

/// Marks a stream live; false if it already was.
fn go_live(entry: &mut StreamEntry) -> bool {
	if matches!(entry.phase, StreamPhase::Live { .. }) {
		return false;
	}
	entry.phase = StreamPhase::Live { since: SystemTime::now() };
	true
}

/// Whether `packet` starts a keyframe; `None` for a track whose keyframes are not found.
fn starts_keyframe(
	codec: Option<crate::codec::VideoCodec>,
	packet: &rtc::rtp::Packet,
) -> Option<bool> {
	codec
		.filter(|codec| codec.detects_keyframes())
		.map(|codec| codec.starts_keyframe(&packet.payload))
}

async fn pump(
	track: Arc<dyn TrackRemote>,
	index: usize,
	packets: Arc<super::fanout::Fanout>,
	counters: Arc<Counters>,
	video_codec: Option<crate::codec::VideoCodec>,
	layers: Arc<Layers>,
	cancel: CancellationToken,
) {
	let mut meter = RateMeter::new(Instant::now());
	loop {
		let event = tokio::select! {
			_ = cancel.cancelled() => return,
			event = track.poll() => event,
		};
		match event {
			Some(TrackRemoteEvent::OnRtpPacket(packet)) => {
				let now = Instant::now();
				meter.count(&layers, 0, packet.payload.len(), now);
				counters.count_packet(&packet, video_codec);
				let keyframe = starts_keyframe(video_codec, &packet);
				packets.send(Relayed { track: index, layer: 0, arrived: now, packet }, keyframe);
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
