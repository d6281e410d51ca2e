//! The little the engine reads from an SDP offer before handing it to WebRTC.

use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;

use crate::error::{Error, Result};

/// Parses an SDP offer, with an error that says what is wrong with it.
pub(crate) fn parse_offer(text: String) -> Result<Offer> {
	if !text.trim_start().starts_with("v=0") {
		return Err(Error::BadOffer("an SDP offer starts with the line v=0".into()));
	}
	let description =
		RTCSessionDescription::offer(text).map_err(|e| Error::BadOffer(e.to_string()))?;
	let parsed = description.unmarshal().map_err(|e| Error::BadOffer(e.to_string()))?;
	let mut media = Vec::new();
	for section in &parsed.media_descriptions {
		let kind = match section.media_name.media.as_str() {
			"audio" => RtpCodecKind::Audio,
			"video" => RtpCodecKind::Video,
			_ => continue,
		};
		let has = |key: &str| section.attributes.iter().any(|attribute| attribute.key == key);
		let direction = if has("sendonly") {
			Direction::SendOnly
		} else if has("recvonly") {
			Direction::RecvOnly
		} else if has("inactive") {
			Direction::Inactive
		} else {
			Direction::SendRecv
		};
		let codecs = section
			.attributes
			.iter()
			.filter(|attribute| attribute.key == "rtpmap")
			.filter_map(|attribute| attribute.value.as_deref())
			.filter_map(|value| value.split_whitespace().nth(1))
			.filter_map(|encoding| encoding.split('/').next())
			.map(str::to_ascii_lowercase)
			.collect();
		media.push(MediaSection { kind, direction, codecs });
	}
	Ok(Offer { description, media })
}

/// A parsed offer: the description WebRTC takes, and its media sections.
pub(crate) struct Offer {
	pub(crate) description: RTCSessionDescription,
	pub(crate) media: Vec<MediaSection>,
}

impl Offer {
	/// The kinds of the sections the offerer sends (a WHIP publisher's tracks).
	pub(crate) fn sent_kinds(&self) -> Vec<RtpCodecKind> {
		self.media
			.iter()
			.filter(|section| {
				matches!(section.direction, Direction::SendOnly | Direction::SendRecv)
			})
			.map(|section| section.kind)
			.collect()
	}

	/// Whether the offerer can receive `mime` (e.g. `video/VP8`) in a section of that kind.
	pub(crate) fn receives(&self, kind: RtpCodecKind, mime: &str) -> bool {
		let name = mime.rsplit('/').next().unwrap_or(mime).to_ascii_lowercase();
		self.media.iter().any(|section| {
			section.kind == kind
				&& matches!(section.direction, Direction::RecvOnly | Direction::SendRecv)
				&& section.codecs.contains(&name)
		})
	}
}

pub(crate) struct MediaSection {
	pub(crate) kind: RtpCodecKind,
	pub(crate) direction: Direction,
	/// Lower-case encoding names of its `a=rtpmap` lines.
	pub(crate) codecs: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
	SendRecv,
	SendOnly,
	RecvOnly,
	Inactive,
}

#[cfg(test)]
mod tests {
	use super::*;

	const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
		m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n\
		a=rtpmap:96 VP8/90000\r\na=rtpmap:102 H264/90000\r\n\
		m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n";

	#[test]
	fn reads_directions_and_codecs() {
		let offer = parse_offer(OFFER.into()).unwrap();
		assert_eq!(offer.sent_kinds(), vec![RtpCodecKind::Video]);
		assert!(offer.receives(RtpCodecKind::Audio, "audio/opus"));
		assert!(!offer.receives(RtpCodecKind::Video, "video/VP8"), "video is send-only");
	}

	#[test]
	fn rejects_what_is_not_sdp() {
		for bad in ["", "hello", "{\"type\":\"offer\"}"] {
			assert!(matches!(parse_offer(bad.into()), Err(Error::BadOffer(_))), "{bad}");
		}
	}
}
