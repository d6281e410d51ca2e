//! A WHIP publisher that sends a VP8 or VP9 IVF file at real-time pace, looping it if asked.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtc::media::io::ivf_reader::IVFReader;
use rtc::media::Sample;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RtpCodecKind};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::{
	PeerConnection, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
};

use super::signalling::Signalling;
use super::ConnectionSignals;
use crate::engine::media_track;
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
		let (source, reader) = IvfSource::open(&options.file)?;
		let signalling = Signalling::new()?;
		let (signals, watch) = ConnectionSignals::new();
		let peer = super::client_peer(&options.endpoint, Arc::new(Events(signals))).await?;

		let ssrc: u32 = rand::random();
		let track = Arc::new(TrackLocalStaticSample::new(
			Instant::now(),
			media_track(
				"sutantra-publish",
				"video",
				RtpCodecKind::Video,
				ssrc,
				source.codec.clone(),
			),
		)?);
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
		tracing::info!(target: LOG_TARGET, %resource, "publishing {}", source.path.display());

		let frames_sent = Arc::new(AtomicU64::new(0));
		let cancel = CancellationToken::new();
		// Like a live encoder, answer a keyframe request (a viewer joined, or lost packets) with
		// a keyframe: the next one in the file, at once.
		let keyframe_wanted = Arc::new(AtomicBool::new(false));
		tokio::spawn(watch_keyframe_requests(track.clone(), keyframe_wanted.clone(), cancel.clone()));
		let sender_task = tokio::spawn(send_frames(
			source,
			reader,
			track,
			ssrc,
			payload_type,
			options.looped,
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

#[allow(clippy::too_many_arguments)]
async fn send_frames(
	source: IvfSource,
	mut reader: IVFReader<BufReader<File>>,
	track: Arc<TrackLocalStaticSample>,
	ssrc: u32,
	payload_type: u8,
	looped: bool,
	frames_sent: Arc<AtomicU64>,
	keyframe_wanted: Arc<AtomicBool>,
	cancel: CancellationToken,
) -> Result<()> {
	let mut ticker = tokio::time::interval(source.frame_interval);
	ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
	let mut frames_in_file = 0u64;
	loop {
		tokio::select! {
			_ = cancel.cancelled() => return Ok(()),
			_ = ticker.tick() => {},
		}
		let mut frame = match reader.parse_next_frame() {
			Ok((frame, _)) => frame,
			Err(_) if frames_in_file > 0 && looped => {
				reader = source.reopen()?;
				frames_in_file = 0;
				continue;
			},
			Err(_) if frames_in_file > 0 => return Ok(()),
			Err(error) => {
				return Err(Error::Client(format!(
					"{}: no frame could be read ({error})",
					source.path.display()
				)))
			},
		};
		frames_in_file += 1;
		if keyframe_wanted.swap(false, Ordering::Relaxed) && !source.is_keyframe(&frame) {
			// Skip ahead to the file's next keyframe (its first frame is one).
			match next_keyframe(&source, &mut reader, looped)? {
				Some((keyframe, reopened)) => {
					if reopened {
						frames_in_file = 1;
					}
					frame = keyframe;
				},
				None => return Ok(()),
			}
		}
		let sample = Sample {
			data: frame.freeze(),
			duration: source.frame_interval,
			..Sample::new(Instant::now())
		};
		if let Err(error) = track.sample_writer(ssrc, payload_type).write_sample(&sample).await {
			if cancel.is_cancelled() {
				return Ok(());
			}
			return Err(Error::WebRtc(error.to_string()));
		}
		frames_sent.fetch_add(1, Ordering::Relaxed);
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

/// Sets `wanted` whenever the server asks the track for a keyframe (PLI or FIR).
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
				if packets.iter().any(|packet| crate::engine::is_keyframe_request(packet.as_ref())) {
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
