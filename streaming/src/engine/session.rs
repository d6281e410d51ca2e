//! One session's driver: the task that owns its sans-IO peer connection.
//!
//! Each publisher and viewer the node serves is an `rtc` peer connection (webrtc-rs' sans-IO
//! core) with no socket of its own. Its driver feeds it the datagrams the media socket routed to
//! it, the stream's packets (a viewer) and the clock, and sends what it writes through the
//! node's one media socket. Role-specific work (a publisher's tracks, a viewer's forwarding and
//! payment channel) is in [`super::publisher`] and [`super::viewer`]; this module is the loop.
//!
//! The driver never waits for the engine's owner: what it reports (a viewer joined, a payment
//! message) waits in its own outbox until the owner's queue has room, so an owner that asks a
//! driver something while its queue is full cannot deadlock with it. What it accepts from the
//! peer is bounded before the connection sees it: datagrams only from addresses the router
//! learned, RTP and RTCP only for a bounded set of SSRCs (none of a viewer's RTP), and it sends
//! only to addresses it heard from.
//!
//! Ending: the engine cancels the session's token (after leaving a goodbye for a viewer that did
//! not leave by itself). The driver stops forwarding at once, sends the goodbye on the payment
//! channel, waits up to [`GOODBYE_GRACE`] for it to be delivered, closes the connection (a DTLS
//! close notify) and returns. However it returns, the session leaves the engine's tables.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::RTCMessage;
use rtc::peer_connection::state::RTCPeerConnectionState;
use rtc::peer_connection::RTCPeerConnection;
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use rtc::statistics::report::{RTCStatsReport, RTCStatsReportEntry};
use rtc::statistics::StatsSelector;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::media_socket::Inbox;
use super::{publisher, viewer, Counters, Inner, LOG_TARGET};

use crate::error::{Error, Result};
use crate::types::{LeaveReason, SessionId, StreamId};

/// How long an ending session waits for its goodbye to be delivered.
const GOODBYE_GRACE: Duration = Duration::from_millis(500);
/// The longest the driver sleeps without looking at its connection's timers.
const MAX_IDLE: Duration = Duration::from_secs(1);
/// Requests (payments out, statistics) waiting for a driver.
pub(crate) const COMMAND_DEPTH: usize = 32;
/// Events a driver holds for the owner while the owner's queue is full; payment messages beyond
/// it are dropped (and counted), as a lossy network would drop them.
pub(crate) const MAX_OUTBOX: usize = 64;
/// Distinct SSRCs a session may send RTP, or RTCP, from (SRTP keeps state for each one): a
/// publisher's tracks with their retransmission streams and simulcast layers fit.
const MAX_SSRCS: usize = 16;

/// What the engine asks of a running session.
pub(crate) enum Command {
	/// Send a message on the viewer's payment channel.
	Send { data: Bytes, done: oneshot::Sender<Result<()>> },
	/// Report the connection's figures.
	Stats(oneshot::Sender<PeerFigures>),
}

/// What a session's connection reports about its path and its peer.
#[derive(Clone, Debug, Default)]
pub(crate) struct PeerFigures {
	/// Where the session's media goes: the addresses its peer's checks came from.
	pub(crate) addresses: Vec<SocketAddr>,
	pub(crate) rtt_ms: Option<f64>,
	pub(crate) packets_lost: Option<i64>,
	pub(crate) jitter_ms: Option<f64>,
	pub(crate) estimated_bps: Option<f64>,
}

impl PeerFigures {
	/// What a connection's statistics say: for a publisher, what arrived from it; the round trip
	/// is the nominated ICE pair's. (webrtc-rs does not follow a viewer's receiver reports in
	/// its statistics; the driver reads them itself, see `quality.rs`.)
	pub(crate) fn of(report: &RTCStatsReport, is_viewer: bool) -> Self {
		let mut figures = PeerFigures::default();
		for entry in report.iter() {
			match entry {
				RTCStatsReportEntry::InboundRtp(inbound) if !is_viewer => {
					let received = &inbound.received_rtp_stream_stats;
					figures.packets_lost =
						Some(figures.packets_lost.unwrap_or(0) + received.packets_lost);
					figures.jitter_ms = Some(received.jitter * 1000.0);
				},
				_ => {},
			}
		}
		if figures.rtt_ms.is_none() {
			figures.rtt_ms = report
				.candidate_pairs()
				.filter(|pair| pair.nominated)
				.map(|pair| pair.current_round_trip_time)
				.find(|rtt| *rtt > 0.0)
				.map(|rtt| rtt * 1000.0);
		}
		figures
	}
}

/// The role-specific half of a session.
pub(crate) enum Media {
	Publisher(publisher::Receiving),
	Viewer(viewer::Forwarding),
}

/// The handles the engine keeps to a running session.
pub(crate) struct Handles {
	pub(crate) commands: mpsc::Sender<Command>,
	pub(crate) goodbye: Arc<OnceLock<String>>,
	pub(crate) task: tokio::task::JoinHandle<()>,
}

pub(crate) struct Driver {
	pub(crate) inner: Arc<Inner>,
	pub(crate) session: SessionId,
	pub(crate) stream: StreamId,
	/// Boxed: the connection is most of a driver's size, and the spawned task would otherwise
	/// hold it more than once (the driver moved into the task, then into `run`).
	pub(crate) peer: Box<RTCPeerConnection>,
	pub(crate) counters: Arc<Counters>,
	inbox: Inbox,
	/// Remote addresses this session heard from, and the socket each one reached.
	heard: Vec<(SocketAddr, usize)>,
	/// SSRCs the peer sent RTP or RTCP from.
	ssrcs: HashSet<u32>,
	commands: mpsc::Receiver<Command>,
	commands_open: bool,
	cancel: CancellationToken,
	goodbye: Arc<OnceLock<String>>,
	/// When the goodbye's grace ends, once the session is ending.
	ending: Option<Instant>,
	/// The latest time given to the connection (its clock must not run backwards).
	now: Instant,
	pub(crate) outbox: VecDeque<crate::event::EngineEvent>,
	media: Option<Media>,
}

/// What woke the driver.
enum Wake {
	Cancelled,
	Emit(mpsc::OwnedPermit<crate::event::EngineEvent>),
	/// The owner dropped its end of the event queue: nobody to tell.
	OwnerGone,
	Command(Option<Command>),
	Datagram(Option<super::media_socket::Datagram>),
	Media(viewer::Delivery),
	KeyframeRequest(Option<()>),
	Timer,
}

/// Waits for what a session's media half needs to act on: a viewer's next packet, a publisher's
/// next keyframe request.
async fn media_input(media: &mut Option<Media>) -> Wake {
	match media {
		Some(Media::Viewer(forwarding)) => Wake::Media(forwarding.next().await),
		Some(Media::Publisher(receiving)) => Wake::KeyframeRequest(receiving.next_request().await),
		None => std::future::pending().await,
	}
}

impl Driver {
	/// Starts driving `peer` (answered, its credentials registered as `inbox`).
	#[allow(clippy::too_many_arguments)]
	pub(crate) fn spawn(
		inner: Arc<Inner>,
		session: SessionId,
		stream: StreamId,
		peer: RTCPeerConnection,
		inbox: Inbox,
		media: Media,
		counters: Arc<Counters>,
		cancel: CancellationToken,
	) -> Handles {
		let (commands, receiver) = mpsc::channel(COMMAND_DEPTH);
		let goodbye = Arc::new(OnceLock::new());
		let driver = Driver {
			inner,
			session,
			stream,
			peer: Box::new(peer),
			counters,
			inbox,
			heard: Vec::new(),
			ssrcs: HashSet::new(),
			commands: receiver,
			commands_open: true,
			cancel,
			goodbye: goodbye.clone(),
			ending: None,
			now: Instant::now(),
			outbox: VecDeque::new(),
			media: Some(media),
		};
		let task = tokio::spawn(async move {
			let inner = driver.inner.clone();
			let _leaves = LeavesTables { inner, session };
			driver.run().await
		});
		Handles { commands, goodbye, task }
	}

	async fn run(mut self) {
		if let Some(Media::Viewer(forwarding)) = self.media.as_mut() {
			forwarding.prepare(&self.inner, &self.stream);
		}
		loop {
			self.flush().await;
			if let Err(error) = self.take_output().await {
				tracing::debug!(target: LOG_TARGET, session = %self.session, %error, "session error");
				break;
			}
			self.flush().await;
			if let Some(deadline) = self.ending {
				if self.clock() >= deadline || !self.goodbye_pending() {
					break;
				}
			}
			let wake = self.wait().await;
			let now = self.clock();
			let result = match wake {
				Wake::Cancelled => {
					self.ending = Some(now + GOODBYE_GRACE);
					self.say_goodbye(now);
					Ok(())
				},
				Wake::Emit(permit) => {
					if let Some(event) = self.outbox.pop_front() {
						permit.send(event);
					}
					Ok(())
				},
				Wake::OwnerGone => {
					self.outbox.clear();
					Ok(())
				},
				Wake::Command(Some(command)) => {
					self.on_command(command, now);
					Ok(())
				},
				Wake::Command(None) => {
					self.commands_open = false;
					Ok(())
				},
				Wake::Datagram(Some(datagram)) => {
					let read = self.on_datagram(datagram);
					if let Some(Media::Viewer(forwarding)) = self.media.as_mut() {
						// The datagram may have been feedback that moved the viewer's estimate.
						forwarding.follow_estimate(&self.inner, &self.stream, now);
					}
					read
				},
				Wake::Datagram(None) => break,
				Wake::Media(delivery) => {
					if let Some(Media::Viewer(forwarding)) = self.media.as_mut() {
						let arrived = forwarding.deliver(
							&self.inner,
							&self.stream,
							&mut self.peer,
							&self.counters,
							delivery,
							now,
						);
						if let Some(arrived) = arrived {
							// Forwarding latency ends when the packet is handed to the socket.
							self.flush().await;
							self.inner.forwarding_latency.record(arrived.elapsed());
						}
					}
					Ok(())
				},
				Wake::KeyframeRequest(request) => {
					if let Some(Media::Publisher(receiving)) = self.media.as_mut() {
						receiving.on_keyframe_request(request, &mut self.peer, now);
					}
					Ok(())
				},
				Wake::Timer => {
					if let Some(Media::Publisher(receiving)) = self.media.as_mut() {
						receiving.on_timer(&mut self.peer, now);
					}
					self.peer.handle_timeout(now)
				},
			};
			if let Err(error) = result {
				tracing::trace!(target: LOG_TARGET, session = %self.session, %error, "connection input refused");
			}
		}
		if let Err(error) = self.peer.close() {
			tracing::trace!(target: LOG_TARGET, session = %self.session, %error, "closing the connection");
		}
		self.flush().await;
		// What the owner has not been told yet is told without waiting (its queue may be full;
		// then the rest is dropped: the session is gone anyway).
		for event in self.outbox.drain(..) {
			let _ = self.inner.events.try_send(event);
		}
	}

	/// The time now, never earlier than a time the connection was already given.
	fn clock(&mut self) -> Instant {
		self.now = self.now.max(Instant::now());
		self.now
	}

	/// A datagram from the router: remembered as a place to answer, and given to the connection
	/// unless it is RTP or RTCP beyond the session's SSRC allowance.
	fn on_datagram(
		&mut self,
		datagram: super::media_socket::Datagram,
	) -> rtc::shared::error::Result<()> {
		if !self.heard.iter().any(|(address, _)| *address == datagram.from)
			&& self.heard.len() < super::media_socket::MAX_ADDRESSES_PER_SESSION
		{
			self.heard.push((datagram.from, datagram.local));
		}
		if !self.admits_srtp(&datagram.data) {
			self.counters.dropped_datagram();
			return Ok(());
		}
		let now = self.now.max(datagram.at);
		self.now = now;
		self.peer.handle_read(TaggedBytesMut {
			now,
			transport: TransportContext {
				local_addr: self.inbox.socket().announced(datagram.local),
				peer_addr: datagram.from,
				ecn: None,
				transport_protocol: TransportProtocol::UDP,
			},
			message: datagram.data,
		})
	}

	/// Whether an RTP or RTCP datagram (RFC 7983: first byte 128-191) comes from an SSRC within
	/// the session's allowance. A viewer sends no RTP at all. Everything else passes.
	fn admits_srtp(&mut self, data: &[u8]) -> bool {
		if !(128..=191).contains(&data.first().copied().unwrap_or(0)) || data.len() < 12 {
			return true;
		}
		// RTCP packet types 192-223 sit where RTP's marker bit and payload type are (RFC 5761).
		let is_rtcp = (192..=223).contains(&data[1]);
		if !is_rtcp && matches!(self.media, Some(Media::Viewer(_))) {
			return false;
		}
		let at = if is_rtcp { 4 } else { 8 };
		let ssrc = u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
		if self.ssrcs.contains(&ssrc) {
			return true;
		}
		if self.ssrcs.len() >= MAX_SSRCS {
			return false;
		}
		self.ssrcs.insert(ssrc);
		true
	}

	async fn wait(&mut self) -> Wake {
		let ending = self.ending.is_some();
		let mut deadline = self.peer.poll_timeout().unwrap_or_else(|| Instant::now() + MAX_IDLE);
		if let Some(Media::Publisher(receiving)) = &self.media {
			if let Some(at) = receiving.next_timer() {
				deadline = deadline.min(at);
			}
		}
		if let Some(at) = self.ending {
			deadline = deadline.min(at);
		}
		let deadline = deadline.min(Instant::now() + MAX_IDLE);
		let forwarding = !ending
			&& matches!(&self.media, Some(Media::Viewer(forwarding)) if forwarding.is_subscribed());
		let asks_keyframes = !ending
			&& matches!(&self.media, Some(Media::Publisher(receiving)) if receiving.asks_keyframes());
		let commands_open = self.commands_open;
		let has_events = !self.outbox.is_empty();
		let events = self.inner.events.clone();
		let Driver { cancel, commands, inbox, media, .. } = self;
		tokio::select! {
			_ = cancel.cancelled(), if !ending => Wake::Cancelled,
			permit = events.reserve_owned(), if has_events => match permit {
				Ok(permit) => Wake::Emit(permit),
				Err(_) => Wake::OwnerGone,
			},
			command = commands.recv(), if commands_open => Wake::Command(command),
			datagram = inbox.recv() => Wake::Datagram(datagram),
			wake = media_input(media), if forwarding || asks_keyframes => wake,
			_ = tokio::time::sleep_until(deadline.into()) => Wake::Timer,
		}
	}

	/// Sends everything the connection has written, to addresses the session heard from (an
	/// ICE-lite server answers; it never sends to an address of the peer's choosing).
	async fn flush(&mut self) {
		while let Some(datagram) = self.peer.poll_write() {
			let to = datagram.transport.peer_addr;
			let Some(&(_, local)) = self.heard.iter().find(|(address, _)| *address == to) else {
				continue;
			};
			self.inbox.socket().send(local, to, &datagram.message).await;
		}
	}

	/// Handles the connection's events and what it read.
	async fn take_output(&mut self) -> Result<()> {
		while let Some(event) = self.peer.poll_event() {
			match event {
				RTCPeerConnectionEvent::OnConnectionStateChangeEvent(state) => {
					tracing::debug!(target: LOG_TARGET, session = %self.session, %state, "connection state");
					match state {
						RTCPeerConnectionState::Connected => self.on_connected().await,
						RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
							return Err(Error::WebRtc(format!("the connection is {state}")));
						},
						_ => {},
					}
				},
				RTCPeerConnectionEvent::OnTrack(event) => {
					if let Some(Media::Publisher(receiving)) = self.media.as_mut() {
						let live = receiving
							.on_track_event(&self.inner, self.session, &mut self.peer, event)
							.await;
						self.outbox.extend(live);
					}
				},
				RTCPeerConnectionEvent::OnDataChannel(event) => {
					if let Some(Media::Viewer(forwarding)) = self.media.as_mut() {
						forwarding.on_data_channel_event(
							&self.inner,
							self.session,
							&self.stream,
							&mut self.peer,
							event,
							&mut self.outbox,
						);
					}
				},
				_ => {},
			}
		}
		while let Some(read) = self.peer.poll_read() {
			match read.message {
				RTCMessage::RtpPacket(track, packet) => {
					if let Some(Media::Publisher(receiving)) = self.media.as_mut() {
						receiving.on_rtp(&track, packet, &self.counters);
					}
				},
				RTCMessage::RtcpPacket(_, packets) => {
					let Some(Media::Viewer(forwarding)) = self.media.as_mut() else { continue };
					let reports = packets.iter().filter_map(|packet| {
						packet.as_any().downcast_ref::<rtc::rtcp::receiver_report::ReceiverReport>()
					});
					for report in reports {
						let sent = self.counters.payload_bytes();
						let fraction_lost = self.counters.reception().on_report(
							report,
							|ssrc| forwarding.clock(ssrc),
							sent,
							self.now,
							std::time::SystemTime::now(),
						);
						if let Some(fraction_lost) = fraction_lost {
							// The viewer's link may call for another simulcast layer.
							forwarding.adapt(&self.inner, &self.stream, fraction_lost, self.now);
						}
					}
					if packets.iter().any(|packet| super::is_keyframe_request(packet.as_ref())) {
						// The viewer lost packets or its decoder failed: ask the publisher for
						// the layer it is sent, coalesced with everyone else's requests.
						forwarding.request_keyframes(&self.inner, &self.stream);
					}
				},
				RTCMessage::DataChannelMessage(channel, message) => {
					if self.ending.is_some() {
						// The session has left the tables: its messages are not heard.
						continue;
					}
					if let Some(Media::Viewer(forwarding)) = self.media.as_mut() {
						forwarding.on_message(
							&self.inner,
							self.session,
							&self.stream,
							&self.counters,
							channel,
							message.data,
							&mut self.outbox,
						);
					}
				},
				_ => {},
			}
		}
		Ok(())
	}

	async fn on_connected(&mut self) {
		let is_viewer = {
			let mut state = self.inner.state();
			let Some(entry) = state.sessions.get_mut(&self.session) else { return };
			entry.connected = true;
			entry.role == crate::types::Role::Viewer
		};
		if !is_viewer {
			return;
		}
		if let Some(Media::Viewer(forwarding)) = self.media.as_mut() {
			let joined = forwarding.start(&self.inner, self.session, &self.stream);
			self.outbox.extend(joined);
		}
		// What arrived while the connection came up goes out one packet at a time, each onto
		// the socket before the next: a burst would grow the connection's queues for good.
		loop {
			let now = self.clock();
			let Some(Media::Viewer(forwarding)) = self.media.as_mut() else { break };
			let Some((track, packet)) = forwarding.take_held() else { break };
			forwarding.send_rtp(track, packet, &mut self.peer, &self.counters, now);
			self.flush().await;
		}
	}

	fn on_command(&mut self, command: Command, now: Instant) {
		match command {
			Command::Send { data, done } => {
				let sent = match self.media.as_mut() {
					Some(Media::Viewer(forwarding)) => forwarding.send(
						&mut self.peer,
						self.session,
						BytesMut::from(&data[..]),
						now,
					),
					_ => Err(Error::NoDataChannel(self.session)),
				};
				let _ = done.send(sent);
			},
			Command::Stats(reply) => {
				let _ = reply.send(self.figures(now));
			},
		}
	}

	fn say_goodbye(&mut self, now: Instant) {
		let Some(text) = self.goodbye.get() else { return };
		if let Some(Media::Viewer(forwarding)) = self.media.as_mut() {
			forwarding.say_goodbye(&mut self.peer, text, now);
		}
	}

	fn goodbye_pending(&mut self) -> bool {
		match self.media.as_mut() {
			Some(Media::Viewer(forwarding)) if self.goodbye.get().is_some() => {
				forwarding.goodbye_pending(&mut self.peer)
			},
			_ => false,
		}
	}

	fn figures(&mut self, now: Instant) -> PeerFigures {
		let is_viewer = matches!(self.media, Some(Media::Viewer(_)));
		let mut figures =
			PeerFigures::of(&self.peer.get_stats(now, StatsSelector::None), is_viewer);
		figures.addresses = self.heard.iter().map(|(address, _)| *address).collect();
		if let Some(Media::Viewer(forwarding)) = &self.media {
			figures.estimated_bps = forwarding.estimate();
		}
		figures
	}
}

/// Takes a session out of the engine's tables when its driver ends, however it ends (the
/// connection failed, the driver returned or panicked); a no-op when the engine ended it first.
struct LeavesTables {
	inner: Arc<Inner>,
	session: SessionId,
}

impl Drop for LeavesTables {
	fn drop(&mut self) {
		super::close_session(&self.inner, self.session, LeaveReason::ConnectionLost);
	}
}
