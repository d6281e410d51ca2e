//! Viewers: accepting a WHEP offer, forwarding the stream's RTP to it, and its payment data
//! channel.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rtc::data_channel::RTCDataChannelId;
use rtc::peer_connection::event::RTCDataChannelEvent;
use rtc::peer_connection::RTCPeerConnection;
use rtc::rtp_transceiver::RTCRtpSenderId;
use tokio::sync::broadcast::{self, error::RecvError};

use super::limits::{check_room, ClientAddress, MessageAllowance, Verdict};
use super::peer::{answer_offer, server_peer};
use super::session::Media;
use super::simulcast::{best_within, Adaptation, Admit, LayerSwitch, Layers};
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
		let max = admission.audience_cap.map_or(inner.config.max_viewers_per_stream, |cap| {
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
		if let Err(refused) =
			check_room(inner, &state, client, principal.as_deref(), replaced.len())
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

	let negotiated = negotiate(inner, session, &stream, offer, tracks);
	super::conclude(inner, session, stream, negotiated).await
}

fn negotiate(
	inner: &Arc<Inner>,
	session: SessionId,
	stream: &StreamId,
	offer: Offer,
	tracks: Vec<PublishedTrack>,
) -> Result<super::Negotiated> {
	// The estimate chooses a simulcast layer; a stream of one layer has nothing to choose.
	let adaptive = tracks.iter().any(|track| track.layers.is_simulcast());
	let (mut peer, credentials, estimate) = server_peer(inner, adaptive)?;
	let mut senders = Vec::new();
	for track in tracks {
		let ssrc: u32 = rand::random();
		let kind = track.kind;
		let sender = peer.add_track(media_track(
			&format!("sutantra-{stream}"),
			&format!("{kind}-{session}"),
			kind,
			ssrc,
			track.codec.clone(),
		))?;
		senders.push((sender, ssrc, track));
	}
	let sdp = answer_offer(&mut peer, &inner.media, offer.description)?;
	let mut forwards = Vec::new();
	for (sender, ssrc, track) in senders {
		// A track the viewer cannot take (audio it did not offer to receive) is not sent; the
		// video it must take was checked against the offer before.
		let payload_type = peer.rtp_sender(sender).and_then(|mut sender| {
			sender.get_parameters().rtp_parameters.codecs.first().map(|codec| codec.payload_type)
		});
		let codec = track.video_codec();
		// Video whose keyframes are found can switch layers; it starts on the best that
		// arrives (the receiver reports bring it down if the link does not carry it).
		let switch = codec.is_some_and(VideoCodec::detects_keyframes).then(|| {
			let best = track.layers.ranked().last().copied().unwrap_or(0);
			LayerSwitch::new(best, track.codec.clock_rate)
		});
		let vp8 = (codec == Some(VideoCodec::Vp8) && switch.is_some())
			.then(super::simulcast::Vp8Numbering::default);
		forwards.push(payload_type.map(|payload_type| Forward {
			sender,
			ssrc,
			payload_type,
			codec,
			clock_rate: track.codec.clock_rate,
			layers: track.layers.clone(),
			switch,
			adaptation: Adaptation::new(Instant::now()),
			checked_at: Instant::now(),
			asked_at: None,
			vp8,
		}));
	}
	if forwards.iter().all(Option::is_none) {
		return Err(Error::BadOffer(
			"no codec of the stream could be negotiated with the offer".into(),
		));
	}
	let forwarding = Forwarding {
		forwards,
		packets: None,
		recent: VecDeque::new(),
		replaying: false,
		connected: false,
		early: VecDeque::new(),
		estimate,
		pay_channel: None,
		pay_channel_opened: false,
		allowance: MessageAllowance::new(Instant::now()),
	};
	Ok(super::Negotiated { peer, credentials, sdp, media: Media::Viewer(forwarding) })
}

/// One published track as sent to one viewer.
struct Forward {
	sender: RTCRtpSenderId,
	ssrc: u32,
	payload_type: u8,
	codec: Option<VideoCodec>,
	/// The RTP clock of the track (its receiver reports' jitter is in it).
	clock_rate: u32,
	/// The track's simulcast layers.
	layers: Arc<Layers>,
	/// Video whose keyframes are found: the layer sent, switched at keyframes. After joining or
	/// falling behind it waits for a keyframe (a decoder could not use anything before one).
	/// Other tracks send their first layer as it comes.
	switch: Option<LayerSwitch>,
	adaptation: Adaptation,
	/// When the viewer last checked that its layer still arrives.
	checked_at: Instant,
	/// When this track last asked the publisher for a keyframe of the layer it switches to.
	asked_at: Option<Instant>,
	/// A VP8 track's picture numbering across layer switches (`None` for other tracks).
	vp8: Option<super::simulcast::Vp8Numbering>,
}

impl Forward {
	/// If the layer this track is sent stopped arriving (the publisher dropped it), which would
	/// leave the viewer without a picture: switches to the best layer that arrives within the
	/// viewer's bandwidth estimate (the lowest if none does). A publisher that turns a layer off
	/// sends a keyframe of the others as it reconfigures; if that came after what this viewer was
	/// last sent, the switch needs no request (which a browser may pass over so soon after that
	/// keyframe): returns the kept packets from it, which this viewer passed by and which are to
	/// follow the packet of `arrived`.
	fn leave_dead_layer(
		&mut self,
		inner: &Inner,
		stream: &StreamId,
		track: usize,
		estimate: Option<f64>,
		arrived: Instant,
		now: Instant,
	) -> Vec<Relayed> {
		let Some(switch) = self.switch.as_mut() else { return Vec::new() };
		if self.layers.count() < 2 || self.layers.rate(switch.target()) != 0 {
			return Vec::new();
		}
		let layers = &self.layers;
		let Some(best) = best_within(&layers.ranked(), |layer| layers.rate(layer), estimate) else {
			return Vec::new();
		};
		switch.retarget(best);
		if !switch.waits() {
			return Vec::new();
		}
		self.asked_at = Some(now);
		let fanout = inner.state().streams.get(stream).map(|entry| entry.packets.clone());
		let kept = fanout
			.map(|fanout| fanout.kept(track, best, switch.last_sent_at(), arrived))
			.unwrap_or_default();
		if kept.is_empty() {
			super::request_layer_keyframes(inner, stream, &[best]);
		}
		kept
	}
}

/// How often a viewer checks that its layer still arrives (the publisher's rate meter tells
/// within 400 ms that a layer stopped).
const DEAD_LAYER_CHECK: std::time::Duration = std::time::Duration::from_millis(100);

/// A switch still waiting for its keyframe this long after asking asks again: the request, or
/// the keyframe, may have been lost, or come while the publisher reconfigured its encoder.
const KEYFRAME_ASK_AGAIN: std::time::Duration = std::time::Duration::from_millis(500);

/// Packets a viewer may hold while its connection comes up: the latest keyframe and what
/// follows it, up to about half a second of 1080p (more than six seconds at 300 kbit/s).
pub(crate) const EARLY_PACKETS: usize = 256;

/// What a viewer's driver takes from its stream: the next packet, or how many it missed.
pub(crate) type Delivery = std::result::Result<Relayed, RecvError>;

/// The viewer's half of a session: the stream's packets rewritten for this viewer, and its
/// payment data channel.
pub(crate) struct Forwarding {
	/// By the stream's track index; `None` for a track this viewer does not take.
	forwards: Vec<Option<Forward>>,
	/// The stream's packets, from the moment the offer is answered.
	packets: Option<broadcast::Receiver<Relayed>>,
	/// Before those, the stream's recent keyframes and what followed them (see
	/// [`super::fanout`]), taken one by one as if they had just arrived.
	recent: VecDeque<Relayed>,
	/// The packet being delivered came from `recent`: it waited in the engine, and its
	/// forwarding latency is not counted.
	replaying: bool,
	/// Whether the connection is up (ICE and DTLS): packets can be sent.
	connected: bool,
	/// Until then, the packets admitted (by track index), from the keyframe asked for when the
	/// offer was answered: sent the moment the connection is up, so the picture starts then
	/// rather than a round trip to the publisher later. At most [`EARLY_PACKETS`].
	early: VecDeque<(usize, rtc::rtp::Packet)>,
	/// The connection's bandwidth estimate, from the viewer's TWCC feedback.
	estimate: Arc<super::keyframes::Estimate>,
	pay_channel: Option<RTCDataChannelId>,
	/// The payment channel opens once per session (a reopened one is closed).
	pay_channel_opened: bool,
	allowance: MessageAllowance,
}

impl Forwarding {
	pub(crate) fn is_subscribed(&self) -> bool {
		self.packets.is_some()
	}

	/// The RTP clock rate of the track sent to this viewer as `ssrc`, and whether it is video.
	pub(crate) fn clock(&self, ssrc: u32) -> Option<(u32, bool)> {
		self.forwards
			.iter()
			.flatten()
			.find(|forward| forward.ssrc == ssrc)
			.map(|forward| (forward.clock_rate, forward.codec.is_some()))
	}

	pub(crate) async fn next(&mut self) -> Delivery {
		self.replaying = !self.recent.is_empty();
		if let Some(recent) = self.recent.pop_front() {
			if self.recent.is_empty() {
				// Used once or twice per session: its capacity is not kept for good.
				self.recent = VecDeque::new();
			}
			return Ok(recent);
		}
		match self.packets.as_mut() {
			Some(packets) => packets.recv().await,
			None => std::future::pending().await,
		}
	}

	/// Holds every video track until its next keyframe and asks the publisher for one.
	fn wait_for_keyframes(&mut self, inner: &Inner, stream: &StreamId) {
		let layers = self.hold_for_keyframes();
		if !layers.is_empty() {
			super::request_layer_keyframes(inner, stream, &layers);
		}
	}

	/// Holds every video track until its next keyframe; returns the layers waited for.
	fn hold_for_keyframes(&mut self) -> Vec<u8> {
		let mut layers = Vec::new();
		let now = Instant::now();
		for forward in self.forwards.iter_mut().flatten() {
			let Some(switch) = forward.switch.as_mut() else { continue };
			switch.wait_for_keyframe();
			forward.asked_at = Some(now);
			layers.push(switch.target());
		}
		layers
	}

	/// While the connection is not up, nothing held is of use any more (too much arrived, or the
	/// viewer fell behind): start again from the publisher's next keyframe, asked for once the
	/// connection is up if it has not come by then.
	fn start_over(&mut self) {
		self.early = VecDeque::new();
		self.recent = VecDeque::new();
		self.hold_for_keyframes();
	}

	/// Asks the publisher for a keyframe of the layers this viewer is sent (the viewer lost
	/// packets it could not recover, or its decoder failed).
	pub(crate) fn request_keyframes(&self, inner: &Inner, stream: &StreamId) {
		let layers: Vec<u8> = self
			.forwards
			.iter()
			.flatten()
			.filter_map(|forward| forward.switch.as_ref())
			.flat_map(|switch| [switch.current(), Some(switch.target())])
			.flatten()
			.collect();
		super::request_layer_keyframes(inner, stream, &layers);
	}

	/// The connection's congestion controller changed its estimate, if it did since the last
	/// call: each simulcast track may change layer, from its next keyframe (asked for at once).
	pub(crate) fn follow_estimate(&mut self, inner: &Inner, stream: &StreamId, now: Instant) {
		let Some(estimate) = self.estimate.take() else { return };
		self.change_layers(inner, stream, false, now, |forward, target, pending, ranked| {
			let layers = &forward.layers;
			let rate = |layer| layers.rate(layer);
			forward.adaptation.on_estimate(target, pending, ranked, rate, estimate, now)
		});
	}

	/// The connection's latest bandwidth estimate, in bits per second.
	pub(crate) fn estimate(&self) -> Option<f64> {
		self.estimate.latest()
	}

	/// A receiver report said `fraction_lost`: each simulcast track may change layer, from its
	/// next keyframe (asked for at once).
	pub(crate) fn adapt(
		&mut self,
		inner: &Inner,
		stream: &StreamId,
		fraction_lost: f64,
		now: Instant,
	) {
		// A switch still waiting for its keyframe asks again: the request (or the keyframe) may
		// have been lost (the publisher's requests stay rate-limited).
		self.change_layers(inner, stream, true, now, |forward, target, pending, ranked| {
			forward.adaptation.on_report(target, pending, ranked, fraction_lost, now)
		});
	}

	/// Each simulcast track asks `choose` (given its layer sent or switched to, whether that
	/// switch still waits for a keyframe, and its layers lowest bitrate first) which layer it should send,
	/// and switches from that layer's next keyframe, asked for at once. A switch down stops the
	/// congested layer at once; a switch up keeps sending the lower layer until the keyframe.
	/// With `ask_again`, a switch still waiting for its keyframe asks for it again.
	fn change_layers(
		&mut self,
		inner: &Inner,
		stream: &StreamId,
		ask_again: bool,
		now: Instant,
		mut choose: impl FnMut(&mut Forward, u8, bool, &[u8]) -> Option<u8>,
	) {
		let mut wanted = Vec::new();
		for forward in self.forwards.iter_mut().flatten() {
			let Some(switch) = &forward.switch else { continue };
			if forward.layers.count() < 2 {
				continue;
			}
			let (target, pending) = (switch.target(), switch.waits());
			let ranked = forward.layers.ranked();
			let chosen = choose(forward, target, pending, &ranked);
			let Some(switch) = forward.switch.as_mut() else { continue };
			match chosen {
				Some(layer) if layer != target => {
					tracing::debug!(target: LOG_TARGET, %stream, from = target, to = layer, "viewer changes simulcast layer");
					// `ranked` is lowest first.
					let rank = |of: u8| ranked.iter().position(|layer| *layer == of);
					if rank(layer) < rank(target) {
						switch.retarget_holding(layer);
					} else {
						switch.retarget(layer);
					}
					forward.asked_at = Some(now);
					wanted.push(layer);
				},
				_ if pending && ask_again => wanted.push(target),
				_ => {},
			}
		}
		if !wanted.is_empty() {
			super::request_layer_keyframes(inner, stream, &wanted);
		}
	}

	/// The offer is answered: take the stream's packets from now on, from its latest keyframes if
	/// they are recent, and ask the publisher for a keyframe of each layer that has none. It
	/// arrives while the connection comes up and is held for it.
	pub(crate) fn prepare(&mut self, inner: &Inner, stream: &StreamId) {
		// Subscribe before asking for the keyframe, so the keyframe cannot pass by unseen.
		let Some(fanout) = inner.state().streams.get(stream).map(|entry| entry.packets.clone())
		else {
			return;
		};
		self.hold_for_keyframes();
		let wanted: Vec<(usize, u8)> = self
			.forwards
			.iter()
			.enumerate()
			.filter_map(|(track, forward)| {
				Some((track, forward.as_ref()?.switch.as_ref()?.target()))
			})
			.collect();
		let (packets, recent) = fanout.subscribe(&wanted, Instant::now());
		self.packets = Some(packets);
		// What is kept of a layer starts with its keyframe.
		let missing: Vec<u8> = wanted
			.iter()
			.filter(|(track, layer)| {
				!recent.iter().any(|kept| kept.track == *track && kept.layer == *layer)
			})
			.map(|(_, layer)| *layer)
			.collect();
		self.recent = recent.into();
		if !missing.is_empty() {
			super::request_layer_keyframes(inner, stream, &missing);
		}
	}

	/// The viewer's connection is up: what arrived for it meanwhile is to be sent now (see
	/// [`Forwarding::take_held`]), from the keyframe on; if that keyframe has not come yet, the
	/// publisher is asked again.
	pub(crate) fn start(
		&mut self,
		inner: &Arc<Inner>,
		session: SessionId,
		stream: &StreamId,
	) -> Option<EngineEvent> {
		if self.connected {
			// Up again after an interruption (ICE disconnected, then back): the viewer is
			// already being sent the stream, and joined once.
			return None;
		}
		if self.packets.is_none() {
			self.prepare(inner, stream);
		}
		self.packets.as_ref()?;
		self.connected = true;
		let held = self.early.len();
		let now = Instant::now();
		let waiting: Vec<u8> = self
			.forwards
			.iter_mut()
			.flatten()
			.filter(|forward| forward.switch.as_ref().is_some_and(LayerSwitch::waits))
			.filter_map(|forward| {
				forward.asked_at = Some(now);
				forward.switch.as_ref().map(LayerSwitch::target)
			})
			.collect();
		if !waiting.is_empty() {
			super::request_layer_keyframes(inner, stream, &waiting);
		}
		tracing::info!(target: LOG_TARGET, %stream, %session, held, "viewer connected");
		Some(EngineEvent::ViewerJoined { stream: stream.clone(), session })
	}

	/// Sends one of the stream's packets on (or catches up after missing some). Returns when
	/// the packet reached the engine, for the forwarding latency, if it was sent.
	pub(crate) fn deliver(
		&mut self,
		inner: &Inner,
		stream: &StreamId,
		peer: &mut RTCPeerConnection,
		counters: &Counters,
		delivery: Delivery,
		now: Instant,
	) -> Option<Instant> {
		let Relayed { track, layer, arrived, mut packet } = match delivery {
			Ok(relayed) => relayed,
			Err(RecvError::Lagged(skipped)) => {
				// This viewer fell behind the live edge: skip to the next keyframe rather than
				// slow the stream down for everyone.
				counters.skipped(skipped);
				if self.connected {
					self.wait_for_keyframes(inner, stream);
				} else {
					self.start_over();
				}
				return None;
			},
			Err(RecvError::Closed) => {
				self.packets = None;
				return None;
			},
		};
		let forward = self.forwards.get_mut(track)?.as_mut()?;
		match forward.switch.as_mut() {
			Some(switch) => {
				// Only a packet that could end a wait is looked into.
				let starts_keyframe = switch.waits()
					&& layer == switch.target()
					&& forward.codec.is_some_and(|codec| codec.starts_keyframe(&packet.payload));
				if layer != switch.target()
					&& now.saturating_duration_since(forward.checked_at) >= DEAD_LAYER_CHECK
				{
					forward.checked_at = now;
					let estimate = self.estimate.latest();
					let kept =
						forward.leave_dead_layer(inner, stream, track, estimate, arrived, now);
					self.recent.extend(kept);
				}
				let switch = forward.switch.as_mut()?;
				if switch.waits()
					&& forward.asked_at.is_some_and(|asked| {
						now.saturating_duration_since(asked) >= KEYFRAME_ASK_AGAIN
					}) {
					forward.asked_at = Some(now);
					super::request_layer_keyframes(inner, stream, &[switch.target()]);
				}
				let (before, switches) = (switch.current(), switch.switches());
				let header = &mut packet.header;
				// Timed by arrival: a switch's timestamps follow the time between the packets
				// reaching the engine, however late this viewer handles them.
				match switch.admit(
					layer,
					starts_keyframe,
					header.sequence_number,
					header.timestamp,
					arrived,
				) {
					Admit::Send { sequence_number, timestamp } => {
						header.sequence_number = sequence_number;
						header.timestamp = timestamp;
					},
					Admit::Skip => return None,
				}
				let switched = switch.switches() != switches;
				if switch.current() != before || switched {
					counters.on_layer(switch.current(), switch.switches());
					forward.adaptation.on_switched(now);
				}
				if let Some(numbering) = forward.vp8.as_mut() {
					if let Some(payload) = numbering.renumber(&packet.payload, switched) {
						packet.payload = payload.into();
					}
				}
			},
			None if layer != 0 => return None,
			None => {},
		}
		if !self.connected {
			// A newer keyframe while the connection comes up: what is held from before it is
			// of no use, and the viewer starts no further behind than it must.
			// (Every part of a picture that "starts a keyframe", as H.264's parameter sets and
			// each slice do, has the picture's timestamp.)
			let newer_keyframe = forward.switch.is_some()
				&& forward.codec.is_some_and(|codec| codec.starts_keyframe(&packet.payload))
				&& self
					.early
					.iter()
					.find(|(held, _)| *held == track)
					.is_none_or(|(_, held)| held.header.timestamp != packet.header.timestamp);
			if newer_keyframe {
				self.early.clear();
			}
			if self.early.len() >= EARLY_PACKETS {
				self.start_over();
			} else {
				self.early.push_back((track, packet));
			}
			return None;
		}
		let sent = self.send_rtp(track, packet, peer, counters, now);
		(sent && !self.replaying).then_some(arrived)
	}

	/// The next packet held while the connection came up, to be sent with
	/// [`Forwarding::send_rtp`]. They are not counted in the forwarding latency: they waited for
	/// the connection.
	pub(crate) fn take_held(&mut self) -> Option<(usize, rtc::rtp::Packet)> {
		let held = self.early.pop_front();
		if held.is_none() && self.early.capacity() > 0 {
			self.early = VecDeque::new();
		}
		held
	}

	/// Sends a packet admitted for `track` to the viewer, as this viewer's.
	pub(crate) fn send_rtp(
		&self,
		track: usize,
		mut packet: rtc::rtp::Packet,
		peer: &mut RTCPeerConnection,
		counters: &Counters,
		now: Instant,
	) -> bool {
		let Some(Some(forward)) = self.forwards.get(track) else { return false };
		packet.header.ssrc = forward.ssrc;
		packet.header.payload_type = forward.payload_type;
		without_extensions(&mut packet.header);
		counters.count_packet(&packet, forward.codec);
		let Some(mut sender) = peer.rtp_sender(forward.sender) else { return false };
		sender.write_rtp(now, packet).is_ok()
	}

	/// A data channel opened: the payment channel is kept, any other one closed (nothing it
	/// sends may pile up here), and so is a second payment channel.
	pub(crate) fn on_data_channel_event(
		&mut self,
		inner: &Arc<Inner>,
		session: SessionId,
		stream: &StreamId,
		peer: &mut RTCPeerConnection,
		event: RTCDataChannelEvent,
		outbox: &mut VecDeque<EngineEvent>,
	) {
		match event {
			RTCDataChannelEvent::OnOpen(id) => {
				let Some(mut channel) = peer.data_channel(id) else { return };
				if channel.label() != PAY_CHANNEL_LABEL || self.pay_channel_opened {
					tracing::debug!(target: LOG_TARGET, %session, label = %channel.label(), "closing a data channel that is not the session's payment channel");
					let _ = channel.close();
					return;
				}
				self.pay_channel = Some(id);
				self.pay_channel_opened = true;
				if let Some(entry) = inner.state().sessions.get_mut(&session) {
					entry.has_data_channel = true;
				}
				outbox.push_back(EngineEvent::DataChannelOpen { stream: stream.clone(), session });
			},
			RTCDataChannelEvent::OnClose(id) if self.pay_channel == Some(id) => {
				self.pay_channel = None;
			},
			_ => {},
		}
	}

	/// A message on a data channel: the payment channel's go to the owner within the viewer's
	/// allowance and the driver's outbox; a flood ends the session.
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn on_message(
		&mut self,
		inner: &Arc<Inner>,
		session: SessionId,
		stream: &StreamId,
		counters: &Counters,
		channel: RTCDataChannelId,
		data: bytes::BytesMut,
		outbox: &mut VecDeque<EngineEvent>,
	) {
		if self.pay_channel != Some(channel) {
			return;
		}
		match self.allowance.admit(data.len(), Instant::now()) {
			Verdict::Take => {},
			Verdict::Drop => {
				counters.dropped_message();
				return;
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
		if outbox.len() >= super::session::MAX_OUTBOX {
			// The owner has not taken this session's events for a while: as if lost on the way.
			counters.dropped_message();
			return;
		}
		let data = data.freeze();
		outbox.push_back(EngineEvent::DataMessage { stream: stream.clone(), session, data });
	}

	pub(crate) fn send(
		&mut self,
		peer: &mut RTCPeerConnection,
		session: SessionId,
		data: bytes::BytesMut,
		now: Instant,
	) -> Result<()> {
		let channel = self.pay_channel.ok_or(Error::NoDataChannel(session))?;
		let mut channel = peer.data_channel(channel).ok_or(Error::NoDataChannel(session))?;
		channel.send(now, data)?;
		Ok(())
	}

	/// Tells the viewer why its session ends.
	pub(crate) fn say_goodbye(&mut self, peer: &mut RTCPeerConnection, reason: &str, now: Instant) {
		let Some(mut channel) = self.pay_channel.and_then(|id| peer.data_channel(id)) else {
			return;
		};
		let Ok(message) = serde_json::to_string(&Bye { r#type: "bye", reason }) else { return };
		let _ = channel.send_text(now, message);
	}

	/// Whether a goodbye is still on its way.
	pub(crate) fn goodbye_pending(&mut self, peer: &mut RTCPeerConnection) -> bool {
		self.pay_channel
			.and_then(|id| peer.data_channel(id))
			.is_some_and(|channel| channel.outstanding_bytes() > 0)
	}
}

/// The message a viewer gets on its data channel before the engine ends its session.
#[derive(serde::Serialize)]
struct Bye<'a> {
	r#type: &'static str,
	reason: &'a str,
}

/// Takes a forwarded packet's header extensions off: their ids were negotiated with the
/// publisher, not with the viewer. All of the extension's state goes: the transport-wide
/// sequence number is added to what is left, and a stale padding would corrupt the header.
fn without_extensions(header: &mut rtc::rtp::header::Header) {
	header.extension = false;
	header.extension_profile = 0;
	header.extensions.clear();
	header.extensions_padding = 0;
}

#[cfg(test)]
mod tests {
	use rtc::shared::marshal::{Marshal, Unmarshal};

	#[test]
	fn a_forwarded_packet_takes_a_new_extension_with_a_sound_header() {
		let mut packet = rtc::rtp::Packet::default();
		packet.header.version = 2;
		packet.payload = bytes::Bytes::from_static(b"frame");
		// The publisher's extensions: a mid of two bytes (one byte of padding).
		packet.header.set_extension(1, bytes::Bytes::from_static(b"ab")).unwrap();
		super::without_extensions(&mut packet.header);
		// What the TWCC sender then adds: two bytes.
		packet.header.set_extension(5, bytes::Bytes::from_static(&[0, 7])).unwrap();
		let wire = packet.marshal().unwrap();
		let parsed = rtc::rtp::Packet::unmarshal(&mut &wire[..]).unwrap();
		assert_eq!(parsed.header.extensions.len(), 1);
		assert_eq!(parsed.header.get_extension(5).as_deref(), Some(&[0u8, 7][..]));
		assert_eq!(&parsed.payload[..], b"frame");
	}
}
