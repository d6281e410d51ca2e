//! A WHEP viewer: receives a stream, counts frames and keyframes, can save the video to an
//! IVF file, and exchanges messages with the node on the `sutantra-pay` data channel.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rtc::media::io::ivf_reader::IVFFileHeader;
use rtc::media::io::ivf_writer::IVFWriter;
use rtc::media::io::Writer;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
	PeerConnection, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};

use super::signalling::Signalling;
use super::{ConnectionSignals, CONNECT_TIMEOUT};
use crate::codec::VideoCodec;
use crate::engine::PAY_CHANNEL_LABEL;
use crate::error::{Error, Result};

const LOG_TARGET: &str = "streaming::viewer";

/// What to watch.
#[derive(Clone, Debug)]
pub struct WatchOptions {
	/// The WHEP endpoint, e.g. `http://127.0.0.1:8088/whep/1`.
	pub endpoint: String,
	/// The bearer token the node's access policy expects.
	pub token: Option<String>,
	/// Save the video here (IVF; VP8 or VP9 streams).
	pub output: Option<PathBuf>,
}

/// What a viewer has received so far.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ViewerStats {
	/// Video RTP packets received.
	pub packets: u64,
	/// Video payload bytes received.
	pub payload_bytes: u64,
	/// Complete video frames received.
	pub frames: u64,
	/// Keyframes among them.
	pub keyframes: u64,
	/// Video packets that never arrived: the span of sequence numbers seen minus the packets
	/// received (as RTCP receiver reports count them; a retransmission that filled a gap counts
	/// as received).
	pub packets_lost: u64,
	/// Frames that arrived whole: no gap in sequence numbers within the frame. (The viewer does
	/// not decode: a whole frame is one its decoder could decode.)
	pub frames_complete: u64,
	/// Whether the first video packet began a keyframe (the picture can start at once).
	pub started_with_keyframe: Option<bool>,
	/// Time from the start of [`Viewer::connect`] (building the connection, its offer with
	/// ICE gathering, the WHEP request) to the end of the first frame.
	pub first_frame_after: Option<Duration>,
}

/// A running viewer.
pub struct Viewer {
	resource: String,
	token: Option<String>,
	signalling: Signalling,
	peer: Arc<dyn PeerConnection>,
	shared: Arc<Shared>,
	channel: Arc<dyn DataChannel>,
	channel_open: watch::Receiver<bool>,
	messages: mpsc::UnboundedReceiver<Bytes>,
	ended: watch::Receiver<Option<String>>,
}

struct Shared {
	started: Instant,
	output: Option<PathBuf>,
	packets: AtomicU64,
	payload_bytes: AtomicU64,
	frames: watch::Sender<u64>,
	keyframes: AtomicU64,
	reception: Mutex<Reception>,
	first: Mutex<(Option<bool>, Option<Duration>)>,
	ended: watch::Sender<Option<String>>,
	receivers: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
	fn end(&self, reason: &str) {
		self.ended.send_if_modified(|ended| {
			if ended.is_none() {
				*ended = Some(reason.to_owned());
				true
			} else {
				false
			}
		});
	}
}

struct Events {
	shared: Arc<Shared>,
	signals: ConnectionSignals,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
	async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
		self.signals.gathering(state);
	}

	async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
		self.signals.connection(state);
		if matches!(state, RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed) {
			self.shared.end(&format!("connection {state}"));
		}
	}

	async fn on_track(&self, track: Arc<dyn TrackRemote>) {
		let shared = self.shared.clone();
		let task = tokio::spawn(receive(track, shared.clone()));
		shared.receivers.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(task);
	}
}

impl Viewer {
	/// Sends a WHEP offer and waits until the media connection is up.
	pub async fn connect(options: WatchOptions) -> Result<Viewer> {
		let started = Instant::now();
		let signalling = Signalling::new()?;
		let (frames, _) = watch::channel(0);
		let (ended_tx, ended) = watch::channel(None);
		let shared = Arc::new(Shared {
			started,
			output: options.output.clone(),
			packets: AtomicU64::new(0),
			payload_bytes: AtomicU64::new(0),
			frames,
			keyframes: AtomicU64::new(0),
			reception: Mutex::new(Reception::default()),
			first: Mutex::new((None, None)),
			ended: ended_tx,
			receivers: Mutex::new(Vec::new()),
		});
		let (signals, watch) = ConnectionSignals::new();
		let events = Arc::new(Events { shared: shared.clone(), signals });
		let peer = super::client_peer(&options.endpoint, events).await?;

		crate::engine::receive_video_and_audio(&peer).await?;
		let channel = peer.create_data_channel(PAY_CHANNEL_LABEL, None).await?;
		let (open_tx, channel_open) = watch::channel(false);
		let (message_tx, messages) = mpsc::unbounded_channel();
		tokio::spawn(read_channel(channel.clone(), open_tx, message_tx, shared.clone()));

		let resource = super::negotiate(
			&peer,
			&signalling,
			&options.endpoint,
			options.token.as_deref(),
			watch,
		)
		.await?;
		tracing::info!(target: LOG_TARGET, %resource, "watching");
		Ok(Viewer {
			resource,
			token: options.token,
			signalling,
			peer,
			shared,
			channel,
			channel_open,
			messages,
			ended,
		})
	}

	/// The session's resource URL on the server.
	pub fn resource(&self) -> &str {
		&self.resource
	}

	/// What has been received so far.
	pub fn stats(&self) -> ViewerStats {
		let shared = &self.shared;
		let (started_with_keyframe, first_frame_after) =
			*shared.first.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let reception = shared.reception.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		ViewerStats {
			packets: shared.packets.load(Ordering::Relaxed),
			payload_bytes: shared.payload_bytes.load(Ordering::Relaxed),
			frames: *shared.frames.borrow(),
			keyframes: shared.keyframes.load(Ordering::Relaxed),
			packets_lost: reception.lost(),
			frames_complete: reception.frames_complete,
			started_with_keyframe,
			first_frame_after,
		}
	}

	/// Waits until `frames` frames have arrived; fails if the session ends or time runs out.
	pub async fn wait_for_frames(&self, frames: u64, timeout: Duration) -> Result<ViewerStats> {
		let mut count = self.shared.frames.subscribe();
		let mut ended = self.ended.clone();
		let reached = tokio::time::timeout(timeout, async {
			tokio::select! {
				reached = count.wait_for(|count| *count >= frames) => reached.is_ok(),
				_ = ended.wait_for(Option::is_some) => false,
			}
		})
		.await;
		let stats = self.stats();
		match reached {
			Ok(true) => Ok(stats),
			Ok(false) => Err(Error::Client(format!(
				"the session ended ({}) after {} of {frames} frames",
				self.ended_reason().unwrap_or_default(),
				stats.frames
			))),
			Err(_) => Err(Error::Client(format!(
				"only {} of {frames} frames arrived within {} s",
				stats.frames,
				timeout.as_secs_f32()
			))),
		}
	}

	/// Sends a message on `sutantra-pay`, once the channel is open.
	pub async fn send(&self, data: &[u8]) -> Result<()> {
		let mut open = self.channel_open.clone();
		tokio::time::timeout(CONNECT_TIMEOUT, open.wait_for(|open| *open))
			.await
			.map_err(|_| {
				Error::Client(format!("the {PAY_CHANNEL_LABEL} data channel did not open"))
			})?
			.map_err(|_| Error::Client(format!("the {PAY_CHANNEL_LABEL} data channel closed")))?;
		self.channel.send(BytesMut::from(data)).await?;
		Ok(())
	}

	/// The next message from the node on `sutantra-pay`; `None` once the channel is gone.
	pub async fn next_message(&mut self) -> Option<Bytes> {
		self.messages.recv().await
	}

	/// Why the session ended, if it has: the node's reason (its `bye` message) or the
	/// connection's end.
	pub fn ended_reason(&self) -> Option<String> {
		self.ended.borrow().clone()
	}

	/// Waits up to `timeout` for the session to end; returns the reason.
	pub async fn wait_ended(&self, timeout: Duration) -> Option<String> {
		let mut ended = self.ended.clone();
		let _ = tokio::time::timeout(timeout, ended.wait_for(Option::is_some)).await;
		self.ended_reason()
	}

	/// Leaves: deletes the session on the server, closes the connection and finishes the
	/// output file.
	pub async fn stop(self) -> Result<()> {
		let deleted = if self.ended_reason().is_none() {
			self.signalling.delete(&self.resource, self.token.as_deref()).await
		} else {
			Ok(())
		};
		self.finish().await;
		deleted
	}

	/// Closes the connection without telling the server (as a crashed viewer would).
	pub async fn abandon(self) {
		self.finish().await;
	}

	async fn finish(self) {
		let _ = self.peer.close().await;
		let receivers =
			std::mem::take(&mut *self.shared.receivers.lock().unwrap_or_else(|p| p.into_inner()));
		for receiver in receivers {
			let _ = tokio::time::timeout(Duration::from_secs(2), receiver).await;
		}
	}
}

async fn read_channel(
	channel: Arc<dyn DataChannel>,
	open: watch::Sender<bool>,
	messages: mpsc::UnboundedSender<Bytes>,
	shared: Arc<Shared>,
) {
	while let Some(event) = channel.poll().await {
		match event {
			DataChannelEvent::OnOpen => {
				let _ = open.send(true);
			},
			DataChannelEvent::OnMessage(message) => {
				let data = message.data.freeze();
				if let Some(reason) = bye_reason(&data) {
					shared.end(&reason);
				}
				let _ = messages.send(data);
			},
			DataChannelEvent::OnClose => break,
			_ => {},
		}
	}
}

/// The reason of the node's `{"type":"bye","reason":...}` message.
pub(crate) fn bye_reason(data: &[u8]) -> Option<String> {
	let message: serde_json::Value = serde_json::from_slice(data).ok()?;
	if message.get("type")?.as_str()? != "bye" {
		return None;
	}
	Some(message.get("reason").and_then(|reason| reason.as_str()).unwrap_or("ended").to_owned())
}

async fn receive(track: Arc<dyn TrackRemote>, shared: Arc<Shared>) {
	let kind = track.kind().await;
	if kind != RtpCodecKind::Video {
		// Audio is received (so the connection stays healthy) but not counted.
		while track.poll().await.is_some() {}
		return;
	}
	let Some(&ssrc) = track.ssrcs().await.first() else { return };
	let mime = track.codec(ssrc).await.map(|codec| codec.mime_type).unwrap_or_default();
	let codec = VideoCodec::from_mime(&mime);
	let mut output = match open_output(&shared, &mime) {
		Ok(output) => output,
		Err(error) => {
			tracing::warn!(target: LOG_TARGET, %error, "not saving the video");
			None
		},
	};
	while let Some(event) = track.poll().await {
		let TrackRemoteEvent::OnRtpPacket(packet) = event else { continue };
		shared
			.reception
			.lock()
			.unwrap_or_else(|poisoned| poisoned.into_inner())
			.packet(packet.header.sequence_number, packet.header.marker);
		let first_packet = shared.packets.fetch_add(1, Ordering::Relaxed) == 0;
		shared.payload_bytes.fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
		let is_keyframe = codec.detects_keyframes() && codec.starts_keyframe(&packet.payload);
		if is_keyframe {
			shared.keyframes.fetch_add(1, Ordering::Relaxed);
		}
		if first_packet {
			shared.first.lock().unwrap_or_else(|p| p.into_inner()).0 = Some(is_keyframe);
		}
		if packet.header.marker {
			let mut first = shared.first.lock().unwrap_or_else(|p| p.into_inner());
			if first.1.is_none() {
				first.1 = Some(shared.started.elapsed());
			}
			drop(first);
			shared.frames.send_modify(|frames| *frames += 1);
		}
		if let Some(writer) = output.as_mut() {
			if let Err(error) = writer.write_rtp(&packet) {
				tracing::warn!(target: LOG_TARGET, %error, "writing the video failed; no longer saving");
				output = None;
			}
		}
	}
	if let Some(mut writer) = output {
		if let Err(error) = writer.close() {
			tracing::warn!(target: LOG_TARGET, %error, "finishing the video file");
		}
	}
}

/// What a track's sequence numbers say about delivery (RFC 3550, appendix A.1).
#[derive(Default)]
struct Reception {
	/// The first sequence number and the highest one seen (extended with wrap-arounds).
	span: Option<(u64, u64)>,
	received: u64,
	/// Whether a gap opened since the last frame ended.
	frame_damaged: bool,
	frames_complete: u64,
}

impl Reception {
	fn packet(&mut self, sequence: u16, marker: bool) {
		self.received += 1;
		let Some((first, highest)) = self.span else {
			// Room below the first for packets that arrive late.
			let start = (1 << 16) + u64::from(sequence);
			self.span = Some((start, start));
			// The engine starts a viewer at the beginning of a frame.
			self.frames_complete += u64::from(marker);
			return;
		};
		let ahead = sequence.wrapping_sub(highest as u16);
		if ahead == 0 || ahead >= 0x8000 {
			// A duplicate or a late packet (a retransmission): it fills a gap counted already.
			let behind = u64::from(0u16.wrapping_sub(ahead));
			if highest.saturating_sub(behind) < first {
				self.span = Some((highest - behind, highest));
			}
			return;
		}
		if ahead > 1 {
			self.frame_damaged = true;
		}
		self.span = Some((first, highest + u64::from(ahead)));
		if marker {
			if !self.frame_damaged {
				self.frames_complete += 1;
			}
			self.frame_damaged = false;
		}
	}

	fn lost(&self) -> u64 {
		self.span.map_or(0, |(first, highest)| (highest - first + 1).saturating_sub(self.received))
	}
}

fn open_output(shared: &Shared, mime: &str) -> Result<Option<IVFWriter<BufWriter<File>>>> {
	let Some(path) = &shared.output else { return Ok(None) };
	let four_cc = match VideoCodec::from_mime(mime) {
		VideoCodec::Vp8 => *b"VP80",
		VideoCodec::Vp9 => *b"VP90",
		_ => return Err(Error::Client(format!("{mime} cannot be saved as IVF (VP8 and VP9 can)"))),
	};
	let file = File::create(path)
		.map_err(|source| Error::File { path: path.display().to_string(), source })?;
	let header = IVFFileHeader {
		signature: *b"DKIF",
		version: 0,
		header_size: 32,
		four_cc,
		width: 0,
		height: 0,
		timebase_denominator: 90_000,
		timebase_numerator: 1,
		num_frames: 0,
		unused: 0,
	};
	IVFWriter::new(BufWriter::new(file), &header)
		.map(Some)
		.map_err(|e| Error::Client(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn counts_losses_and_whole_frames_across_a_wrap() {
		let mut reception = Reception::default();
		// Frame 1: 65534, 65535, 0 (marker). Frame 2: 1, [2 lost], 3 (marker). Frame 3: 4 (marker).
		for (sequence, marker) in [(65534, false), (65535, false), (0, true), (1, false), (3, true)]
		{
			reception.packet(sequence, marker);
		}
		reception.packet(4, true);
		assert_eq!(reception.lost(), 1);
		assert_eq!(reception.frames_complete, 2);
		// The lost packet arrives late (a retransmission): nothing is missing any more.
		reception.packet(2, false);
		assert_eq!(reception.lost(), 0);
		// A packet from before the first one seen widens the span.
		reception.packet(65532, false);
		assert_eq!(reception.lost(), 1, "65533 never came");
	}

	#[test]
	fn reads_bye_messages() {
		assert_eq!(
			bye_reason(br#"{"type":"bye","reason":"payment required"}"#).as_deref(),
			Some("payment required")
		);
		assert_eq!(bye_reason(br#"{"type":"ack","total":5}"#), None);
		assert_eq!(bye_reason(b"not json"), None);
	}
}
