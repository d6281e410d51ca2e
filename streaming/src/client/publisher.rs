//! A WHIP publisher that sends a VP8 or VP9 IVF file at real-time pace, looping it if asked, or
//! several encodings of the same picture as simulcast layers.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtc::media::io::ivf_reader::IVFReader;
use rtc::media::Sample;
use rtc::rtp::extension::HeaderExtension;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RtpCodecKind};
use rtc::shared::marshal::{Marshal, MarshalSize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::{
	PeerConnection, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};

use super::signalling::Signalling;
use super::ConnectionSignals;
use crate::engine::{media_track, simulcast_track};
use crate::error::{Error, Result};

const LOG_TARGET: &str = "streaming::publisher";

/// What to publish and where.
#[derive(Clone, Debug)]
pub struct PublishOptions {
	/// The WHIP endpoint, e.g. `http://127.0.0.1:8088/whip/1`.
	pub endpoint: String,
	/// The bearer token the node's access policy expects.
	pub token: Option<String>,
	/// A VP8 or VP9 IVF file.
	pub file: PathBuf,
	/// Start again at the end of the file (a continuous test source).
	pub looped: bool,
	/// Simulcast: up to two more encodings of the same picture at lower quality (same codec and
	/// frame rate, keyframes at the same frames), lowest first. With them the video is sent as
	/// layers `q`, `h`, `f` (RFC 8853), `file` the best; without them, as one encoding.
	pub lower_layers: Vec<PathBuf>,
}

/// The rids of up to three simulcast layers, lowest quality first.
const RIDS: [&str; 3] = ["q", "h", "f"];
const SDES_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
const SDES_RTP_STREAM_ID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";

/// An RTP header extension whose value is a short string (RFC 7941 SDES items: the mid and the
/// rid that tell the receiver which transceiver and which simulcast layer a packet is).
struct SdesItem(bytes::Bytes);

impl MarshalSize for SdesItem {
	fn marshal_size(&self) -> usize {
		self.0.len()
	}
}

impl Marshal for SdesItem {
	fn marshal_to(&self, buf: &mut [u8]) -> rtc::shared::error::Result<usize> {
		let into = buf.get_mut(..self.0.len()).ok_or(rtc::shared::error::Error::BufferTooShort)?;
		into.copy_from_slice(&self.0);
		Ok(self.0.len())
	}
}

/// The media section id of the offer's video, which simulcast packets carry.
fn video_mid(sdp: &str) -> Option<String> {
	let video = sdp.split("\nm=").find(|section| section.starts_with("video"))?;
	video.lines().find_map(|line| line.trim_end().strip_prefix("a=mid:").map(str::to_owned))
}

/// A running publish. Dropping it without [`Publisher::stop`] leaves the session to time out.
pub struct Publisher {
	resource: String,
	token: Option<String>,
	signalling: Signalling,
	peer: Arc<dyn PeerConnection>,
	frames_sent: Arc<AtomicU64>,
	cancel: CancellationToken,
	sender: JoinHandle<Result<()>>,
}

struct Events(ConnectionSignals);

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
	async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
		self.0.gathering(state);
	}

	async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
		self.0.connection(state);
	}
}

/// An IVF video file, checked before anything is sent.
struct IvfSource {
	path: PathBuf,
	codec: RTCRtpCodec,
	frame_interval: Duration,
}

impl IvfSource {
	fn open(path: &Path) -> Result<(Self, IVFReader<BufReader<File>>)> {
		let file = File::open(path)
			.map_err(|source| Error::File { path: path.display().to_string(), source })?;
		let (reader, header) = IVFReader::new(BufReader::new(file)).map_err(|e| {
			Error::Client(format!(
				"{}: not an IVF video file ({e}); make one with ffmpeg -c:v libvpx",
				path.display()
			))
		})?;
		let mime = match &header.four_cc {
			b"VP80" => "video/VP8",
			b"VP90" => "video/VP9",
			other => {
				return Err(Error::Client(format!(
					"{}: the IVF file holds '{}', but only VP8 and VP9 can be published",
					path.display(),
					String::from_utf8_lossy(other)
				)))
			},
		};
		if header.timebase_denominator == 0 || header.timebase_numerator == 0 {
			return Err(Error::Client(format!(
				"{}: the IVF header has no frame rate",
				path.display()
			)));
		}
		let frame_interval = Duration::from_secs_f64(
			f64::from(header.timebase_numerator) / f64::from(header.timebase_denominator),
		);
		let codec = RTCRtpCodec {
			mime_type: mime.into(),
			clock_rate: 90_000,
			channels: 0,
			sdp_fmtp_line: String::new(),
			rtcp_feedback: Vec::new(),
		};
		Ok((Self { path: path.to_owned(), codec, frame_interval }, reader))
	}

	/// Whether a frame of this file is a keyframe (decodable on its own).
	fn is_keyframe(&self, frame: &[u8]) -> bool {
		let Some(&first) = frame.first() else { return false };
		match self.codec.mime_type.as_str() {
			// VP8 (RFC 6386): the frame tag's lowest bit is 0 on a key frame.
			"video/VP8" => first & 0x01 == 0,
			// VP9: frame marker (2 bits), profile (2 bits, low bit first), a reserved bit in
			// profile 3, show_existing_frame, then frame_type (0 is a key frame).
			_ => {
				let profile = ((first >> 5) & 1) | (((first >> 4) & 1) << 1);
				let shift = if profile == 3 { 1 } else { 0 };
				let show_existing = (first >> (3 - shift)) & 1 == 1;
				first >> 6 == 0b10 && !show_existing && (first >> (2 - shift)) & 1 == 0
			},
		}
	}

	fn reopen(&self) -> Result<IVFReader<BufReader<File>>> {
		Ok(Self::open(&self.path)?.1)
	}
}

impl Publisher {
	/// Connects to the WHIP endpoint and starts sending once the connection is up.
	pub async fn start(options: PublishOptions) -> Result<Publisher> {
		if options.lower_layers.len() >= RIDS.len() {
			return Err(Error::Client(format!(
				"at most {} simulcast layers: give at most {} lower ones",
				RIDS.len(),
				RIDS.len() - 1
			)));
		}
		let mut layers = Vec::new();
		for path in options.lower_layers.iter().chain([&options.file]) {
			layers.push(IvfSource::open(path)?);
		}
		let source = &layers[layers.len() - 1].0;
		for (lower, _) in &layers {
			if lower.codec.mime_type != source.codec.mime_type
				|| lower.frame_interval != source.frame_interval
			{
				return Err(Error::Client(format!(
					"{}: a simulcast layer must have the codec and frame rate of {}",
					lower.path.display(),
					source.path.display()
				)));
			}
		}
		let signalling = Signalling::new()?;
		let (signals, watch) = ConnectionSignals::new();
		let peer = super::client_peer(&options.endpoint, Arc::new(Events(signals))).await?;

		let ssrcs: Vec<u32> = layers.iter().map(|_| rand::random()).collect();
		let simulcast = layers.len() > 1;
		let media = if simulcast {
			let rids = &RIDS[RIDS.len() - layers.len()..];
			let encodings: Vec<(String, u32)> =
				rids.iter().map(|rid| rid.to_string()).zip(ssrcs.iter().copied()).collect();
			simulcast_track("sutantra-publish", "video", &encodings, source.codec.clone())
		} else {
			media_track(
				"sutantra-publish",
				"video",
				RtpCodecKind::Video,
				ssrcs[0],
				source.codec.clone(),
			)
		};
		let track = Arc::new(TrackLocalStaticSample::new(Instant::now(), media)?);
		let sender = peer.add_track(track.clone() as Arc<dyn TrackLocal>).await?;

		let resource = super::negotiate(
			&peer,
			&signalling,
			&options.endpoint,
			options.token.as_deref(),
			watch,
		)
		.await?;
		let payload_type = match sender.get_parameters().await {
			Ok(parameters) => {
				parameters.rtp_parameters.codecs.first().map(|codec| codec.payload_type)
			},
			Err(_) => None,
		};
		let Some(payload_type) = payload_type else {
			let _ = signalling.delete(&resource, options.token.as_deref()).await;
			let _ = peer.close().await;
			return Err(Error::Client("the server accepted no codec of the offer".into()));
		};
		// Simulcast packets say which transceiver (mid) and which layer (rid) they are.
		let mid = match simulcast {
			true => peer.local_description().await.and_then(|offer| video_mid(&offer.sdp)),
			false => None,
		};
		if simulcast && mid.is_none() {
			let _ = signalling.delete(&resource, options.token.as_deref()).await;
			let _ = peer.close().await;
			return Err(Error::Client(
				"the offer has no video section to send simulcast on".into(),
			));
		}
		tracing::info!(target: LOG_TARGET, %resource, layers = layers.len(), "publishing {}", source.path.display());
		let rids = &RIDS[RIDS.len() - layers.len()..];
		let layers: Vec<Layer> = layers
			.into_iter()
			.zip(ssrcs)
			.zip(rids)
			.map(|(((source, reader), ssrc), rid)| Layer {
				source,
				reader,
				ssrc,
				rid: simulcast.then(|| rid.to_string()),
				frames_in_file: 0,
			})
			.collect();

		let frames_sent = Arc::new(AtomicU64::new(0));
		let cancel = CancellationToken::new();
		// Like a live encoder, answer a keyframe request (a viewer joined, or lost packets) with
		// a keyframe: the next one in the file, at once.
		let keyframe_wanted = Arc::new(AtomicBool::new(false));
		tokio::spawn(watch_keyframe_requests(
			track.clone(),
			keyframe_wanted.clone(),
			cancel.clone(),
		));
		let sending = Sending { track, payload_type, mid, looped: options.looped };
		let sender_task = tokio::spawn(send_frames(
			sending,
			layers,
			frames_sent.clone(),
			keyframe_wanted,
			cancel.clone(),
		));
		Ok(Publisher {
			resource,
			token: options.token,
			signalling,
			peer,
			frames_sent,
			cancel,
			sender: sender_task,
		})
	}

	/// The session's resource URL on the server.
	pub fn resource(&self) -> &str {
		&self.resource
	}

	/// Frames sent so far.
	pub fn frames_sent(&self) -> u64 {
		self.frames_sent.load(Ordering::Relaxed)
	}

	/// Waits until the file has been sent (never, when looping) or sending failed.
	pub async fn finished(&mut self) -> Result<()> {
		match (&mut self.sender).await {
			Ok(result) => result,
			Err(error) => Err(Error::Client(format!("the sending task failed: {error}"))),
		}
	}

	/// Stops sending, ends the session on the server (DELETE) and closes the connection.
	pub async fn stop(self) -> Result<()> {
		self.cancel.cancel();
		let deleted = self.signalling.delete(&self.resource, self.token.as_deref()).await;
		let _ = self.peer.close().await;
		deleted
	}

	/// Closes the connection without telling the server (as a crashed or disconnected
	/// publisher would); the server notices when the connection fails.
	pub async fn abandon(self) {
		self.cancel.cancel();
		let _ = self.peer.close().await;
	}
}

/// One encoding being sent: its file, and its SSRC and rid (simulcast).
struct Layer {
	source: IvfSource,
	reader: IVFReader<BufReader<File>>,
	ssrc: u32,
	rid: Option<String>,
	frames_in_file: u64,
}

/// Where and how the frames go.
struct Sending {
	track: Arc<TrackLocalStaticSample>,
	payload_type: u8,
	mid: Option<String>,
	looped: bool,
}

/// Sends a frame of every layer each frame interval. A keyframe request for any layer skips every
/// layer ahead to its next keyframe, so the layers stay in step (the same picture at the same
/// moment: a viewer switched between them sees no jump in time). Ends with the shortest file
/// (unless looping).
async fn send_frames(
	sending: Sending,
	mut layers: Vec<Layer>,
	frames_sent: Arc<AtomicU64>,
	keyframe_wanted: Arc<AtomicBool>,
	cancel: CancellationToken,
) -> Result<()> {
	let interval = layers[0].source.frame_interval;
	let mut ticker = tokio::time::interval(interval);
	ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
	loop {
		tokio::select! {
			_ = cancel.cancelled() => return Ok(()),
			_ = ticker.tick() => {},
		}
		let keyframe = keyframe_wanted.swap(false, Ordering::Relaxed);
		let now = Instant::now();
		for layer in layers.iter_mut() {
			let Some(frame) = layer.next_frame(sending.looped, keyframe)? else {
				return Ok(());
			};
			let sample = Sample { data: frame.freeze(), duration: interval, ..Sample::new(now) };
			let mut writer = sending.track.sample_writer(layer.ssrc, sending.payload_type);
			if let (Some(mid), Some(rid)) = (&sending.mid, &layer.rid) {
				for (uri, value) in [(SDES_MID, mid), (SDES_RTP_STREAM_ID, rid)] {
					writer = writer.with_extension(HeaderExtension::Custom {
						uri: uri.into(),
						extension: Box::new(SdesItem(bytes::Bytes::from(
							value.clone().into_bytes(),
						))),
					});
				}
			}
			if let Err(error) = writer.write_sample(&sample).await {
				if cancel.is_cancelled() {
					return Ok(());
				}
				return Err(Error::WebRtc(error.to_string()));
			}
		}
		frames_sent.fetch_add(1, Ordering::Relaxed);
	}
}

impl Layer {
	/// The layer's next frame (its next keyframe if `keyframe`); `None` at the end of a file that
	/// does not loop.
	fn next_frame(&mut self, looped: bool, keyframe: bool) -> Result<Option<bytes::BytesMut>> {
		let mut frame = match self.reader.parse_next_frame() {
			Ok((frame, _)) => frame,
			Err(_) if self.frames_in_file > 0 && looped => {
				self.reader = self.source.reopen()?;
				self.frames_in_file = 0;
				match self.reader.parse_next_frame() {
					Ok((frame, _)) => frame,
					Err(error) => return Err(self.unreadable(error)),
				}
			},
			Err(_) if self.frames_in_file > 0 => return Ok(None),
			Err(error) => return Err(self.unreadable(error)),
		};
		self.frames_in_file += 1;
		if keyframe && !self.source.is_keyframe(&frame) {
			// Skip ahead to the file's next keyframe (its first frame is one).
			match next_keyframe(&self.source, &mut self.reader, looped)? {
				Some((keyframe, reopened)) => {
					if reopened {
						self.frames_in_file = 1;
					}
					frame = keyframe;
				},
				None => return Ok(None),
			}
		}
		Ok(Some(frame))
	}

	fn unreadable(&self, error: impl std::fmt::Display) -> Error {
		Error::Client(format!("{}: no frame could be read ({error})", self.source.path.display()))
	}
}

/// The file's next keyframe, reading on from `reader` (and from the start again when looping);
/// whether the file was reopened to find it. `None` at the end of a file that does not loop.
fn next_keyframe(
	source: &IvfSource,
	reader: &mut IVFReader<BufReader<File>>,
	looped: bool,
) -> Result<Option<(bytes::BytesMut, bool)>> {
	let mut reopened = false;
	loop {
		match reader.parse_next_frame() {
			Ok((frame, _)) if source.is_keyframe(&frame) => return Ok(Some((frame, reopened))),
			Ok(_) => {},
			Err(_) if looped && !reopened => {
				*reader = source.reopen()?;
				reopened = true;
			},
			Err(_) => return Ok(None),
		}
	}
}

/// Sets `wanted` whenever the server asks the track for a keyframe (PLI or FIR), of any layer:
/// every layer skips to its next keyframe together.
async fn watch_keyframe_requests(
	track: Arc<TrackLocalStaticSample>,
	wanted: Arc<AtomicBool>,
	cancel: CancellationToken,
) {
	loop {
		let event = tokio::select! {
			_ = cancel.cancelled() => return,
			event = track.poll() => event,
		};
		match event {
			Some(TrackLocalEvent::OnRtcpPacket(packets)) => {
				if packets.iter().any(|packet| crate::engine::is_keyframe_request(packet.as_ref()))
				{
					wanted.store(true, Ordering::Relaxed);
				}
			},
			Some(_) => {},
			None => return,
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn reads_the_fixture_and_refuses_other_files() {
		let fixture =
			Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/testsrc-640x360-30fps-vp8.ivf");
		let (source, _) = IvfSource::open(&fixture).unwrap();
		assert_eq!(source.codec.mime_type, "video/VP8");
		assert!((source.frame_interval.as_secs_f64() - 1.0 / 30.0).abs() < 1e-6);

		let not_video = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
		assert!(IvfSource::open(&not_video).err().unwrap().to_string().contains("not an IVF"));
		assert!(matches!(IvfSource::open(Path::new("/nonexistent.ivf")), Err(Error::File { .. })));
	}

	#[test]
	fn finds_the_fixtures_keyframes() {
		let fixture =
			Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/testsrc-640x360-30fps-vp8.ivf");
		let (source, mut reader) = IvfSource::open(&fixture).unwrap();
		let mut keyframes = Vec::new();
		let mut index = 0;
		while let Ok((frame, _)) = reader.parse_next_frame() {
			if source.is_keyframe(&frame) {
				keyframes.push(index);
			}
			index += 1;
		}
		// 4 s at 30 frames/s with a keyframe every second (`fixtures/README.md`).
		assert_eq!(index, 120);
		assert_eq!(keyframes, vec![0, 30, 60, 90]);

		let (source, mut reader) = IvfSource::open(&fixture).unwrap();
		reader.parse_next_frame().unwrap();
		let (keyframe, reopened) = next_keyframe(&source, &mut reader, true).unwrap().unwrap();
		assert!(source.is_keyframe(&keyframe) && !reopened);
	}
}
