//! Just enough of each video payload format to forward it well without decoding: where a
//! keyframe starts (a new viewer starts there) and where a frame ends (the RTP marker bit).

/// The video codecs the engine understands for keyframe detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoCodec {
	/// VP8 (RFC 7741).
	Vp8,
	/// VP9 (RFC 9628).
	Vp9,
	/// H.264 (RFC 6184).
	H264,
	/// Anything else: forwarded as is, without keyframe detection.
	Other,
}

impl VideoCodec {
	/// The codec of an RTP mime type such as `video/VP8`.
	pub fn from_mime(mime: &str) -> Self {
		match mime.to_ascii_lowercase().as_str() {
			"video/vp8" => VideoCodec::Vp8,
			"video/vp9" => VideoCodec::Vp9,
			"video/h264" => VideoCodec::H264,
			_ => VideoCodec::Other,
		}
	}

	/// Whether this RTP payload is the first packet of a keyframe. For [`VideoCodec::Other`]
	/// every packet counts as a possible start, so nothing is held back.
	pub fn starts_keyframe(self, payload: &[u8]) -> bool {
		match self {
			VideoCodec::Vp8 => vp8_starts_keyframe(payload),
			VideoCodec::Vp9 => vp9_starts_keyframe(payload),
			VideoCodec::H264 => h264_starts_keyframe(payload),
			VideoCodec::Other => true,
		}
	}

	/// Whether keyframes can be found in this codec's packets.
	pub fn detects_keyframes(self) -> bool {
		self != VideoCodec::Other
	}
}

fn vp8_starts_keyframe(payload: &[u8]) -> bool {
	let Some(&first) = payload.first() else { return false };
	let extended = first & 0x80 != 0;
	let start_of_partition = first & 0x10 != 0;
	let partition_index = first & 0x07;
	if !start_of_partition || partition_index != 0 {
		return false;
	}
	let mut offset = 1;
	if extended {
		let Some(&flags) = payload.get(1) else { return false };
		offset = 2;
		if flags & 0x80 != 0 {
			// PictureID: one byte, or two when its top bit is set.
			let Some(&picture_id) = payload.get(offset) else { return false };
			offset += if picture_id & 0x80 != 0 { 2 } else { 1 };
		}
		if flags & 0x40 != 0 {
			offset += 1; // TL0PICIDX
		}
		if flags & 0x30 != 0 {
			offset += 1; // TID / KEYIDX
		}
	}
	// The VP8 payload header's lowest bit is the inverse key frame flag.
	payload.get(offset).is_some_and(|header| header & 0x01 == 0)
}

/// Where a VP8 payload descriptor (RFC 7741, section 4.2) carries its picture id (at an offset,
/// 7 or 15 bits wide) and its TL0PICIDX (at an offset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Vp8Ids {
	picture_id: Option<(usize, bool)>,
	tl0_index: Option<usize>,
}

impl Vp8Ids {
	/// Finds them in `payload` (nothing in a descriptor without them, or one cut short).
	pub(crate) fn find(payload: &[u8]) -> Self {
		let mut ids = Self::default();
		let (Some(&first), Some(&flags)) = (payload.first(), payload.get(1)) else { return ids };
		if first & 0x80 == 0 {
			return ids;
		}
		let mut offset = 2;
		if flags & 0x80 != 0 {
			let Some(&picture_id) = payload.get(offset) else { return ids };
			let long = picture_id & 0x80 != 0;
			if payload.len() < offset + if long { 2 } else { 1 } {
				return ids;
			}
			ids.picture_id = Some((offset, long));
			offset += if long { 2 } else { 1 };
		}
		if flags & 0x40 != 0 && payload.len() > offset {
			ids.tl0_index = Some(offset);
		}
		ids
	}

	/// The picture id, if there is one.
	pub(crate) fn picture_id(&self, payload: &[u8]) -> Option<u16> {
		let (offset, long) = self.picture_id?;
		Some(if long {
			u16::from_be_bytes([payload[offset] & 0x7f, payload[offset + 1]])
		} else {
			u16::from(payload[offset] & 0x7f)
		})
	}

	/// The TL0PICIDX, if there is one.
	pub(crate) fn tl0_index(&self, payload: &[u8]) -> Option<u8> {
		self.tl0_index.map(|offset| payload[offset])
	}

	/// Sets the picture id (kept to its width) and the TL0PICIDX, where there are ones.
	pub(crate) fn write(&self, payload: &mut [u8], picture_id: u16, tl0_index: u8) {
		if let Some((offset, long)) = self.picture_id {
			if long {
				let [high, low] = (picture_id & 0x7fff).to_be_bytes();
				payload[offset] = 0x80 | high;
				payload[offset + 1] = low;
			} else {
				payload[offset] = (picture_id & 0x7f) as u8;
			}
		}
		if let Some(offset) = self.tl0_index {
			payload[offset] = tl0_index;
		}
	}
}

fn vp9_starts_keyframe(payload: &[u8]) -> bool {
	let Some(&first) = payload.first() else { return false };
	let inter_predicted = first & 0x40 != 0;
	let start_of_frame = first & 0x08 != 0;
	start_of_frame && !inter_predicted
}

const H264_IDR: u8 = 5;
const H264_SPS: u8 = 7;
const H264_STAP_A: u8 = 24;
const H264_FU_A: u8 = 28;

fn h264_starts_keyframe(payload: &[u8]) -> bool {
	let Some(&header) = payload.first() else { return false };
	let is_key = |nal_type: u8| nal_type == H264_IDR || nal_type == H264_SPS;
	match header & 0x1f {
		H264_STAP_A => {
			let mut rest = &payload[1..];
			while rest.len() > 2 {
				let size = u16::from_be_bytes([rest[0], rest[1]]) as usize;
				let Some(nal) = rest.get(2..2 + size) else { return false };
				if nal.first().is_some_and(|nal_header| is_key(nal_header & 0x1f)) {
					return true;
				}
				rest = &rest[2 + size..];
			}
			false
		},
		H264_FU_A => payload.get(1).is_some_and(|fu| fu & 0x80 != 0 && is_key(fu & 0x1f)),
		nal_type => is_key(nal_type),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn vp8_picture_ids_and_tl0_indices_are_found_and_rewritten_in_place() {
		// X, S; I and L; a 15-bit picture id 0x1234; TL0PICIDX 7; then the VP8 header.
		let mut long = vec![0x90, 0xc0, 0x80 | 0x12, 0x34, 7, 0x00];
		let ids = Vp8Ids::find(&long);
		assert_eq!(ids.picture_id(&long), Some(0x1234));
		assert_eq!(ids.tl0_index(&long), Some(7));
		ids.write(&mut long, 0x8001, 255);
		assert_eq!(long, vec![0x90, 0xc0, 0x80, 0x01, 255, 0x00], "kept to 15 bits");
		// A 7-bit picture id and no TL0PICIDX.
		let mut short = vec![0x90, 0x80, 0x05, 0x00];
		let ids = Vp8Ids::find(&short);
		assert_eq!((ids.picture_id(&short), ids.tl0_index(&short)), (Some(5), None));
		ids.write(&mut short, 200, 1);
		assert_eq!(short, vec![0x90, 0x80, 200 & 0x7f, 0x00]);
		// No extension, or one cut short: nothing found, nothing written.
		assert_eq!(Vp8Ids::find(&[0x10, 0x00]), Vp8Ids::default());
		assert_eq!(Vp8Ids::find(&[0x90, 0x80, 0x81]), Vp8Ids::default());
		assert_eq!(Vp8Ids::find(&[]), Vp8Ids::default());
	}

	#[test]
	fn vp8_keyframes() {
		// S=1, PID=0, no extension; payload header with P=0 (key) and P=1 (delta).
		assert!(VideoCodec::Vp8.starts_keyframe(&[0x10, 0x00, 0x9d]));
		assert!(!VideoCodec::Vp8.starts_keyframe(&[0x10, 0x01, 0x9d]));
		// Continuation packet (S=0).
		assert!(!VideoCodec::Vp8.starts_keyframe(&[0x00, 0x00]));
		// Extended: I=1 with a 15-bit picture id, then the payload header.
		assert!(VideoCodec::Vp8.starts_keyframe(&[0x90, 0x80, 0x81, 0x23, 0x00]));
		assert!(!VideoCodec::Vp8.starts_keyframe(&[0x90, 0x80, 0x81, 0x23, 0x01]));
		// Truncated packets are never keyframes.
		assert!(!VideoCodec::Vp8.starts_keyframe(&[0x90, 0x80]));
		assert!(!VideoCodec::Vp8.starts_keyframe(&[]));
	}

	#[test]
	fn vp9_keyframes() {
		assert!(VideoCodec::Vp9.starts_keyframe(&[0x08]));
		assert!(!VideoCodec::Vp9.starts_keyframe(&[0x48]));
		assert!(!VideoCodec::Vp9.starts_keyframe(&[0x00]));
	}

	#[test]
	fn h264_keyframes() {
		assert!(VideoCodec::H264.starts_keyframe(&[0x65, 0x88])); // IDR
		assert!(VideoCodec::H264.starts_keyframe(&[0x67, 0x42])); // SPS
		assert!(!VideoCodec::H264.starts_keyframe(&[0x41, 0x9a])); // non-IDR slice
															 // STAP-A carrying SPS + PPS.
		assert!(VideoCodec::H264
			.starts_keyframe(&[0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce]));
		assert!(!VideoCodec::H264.starts_keyframe(&[0x78, 0x00, 0x02, 0x41, 0x42]));
		assert!(!VideoCodec::H264.starts_keyframe(&[0x78, 0x00, 0x09, 0x67])); // truncated
																		 // FU-A: start of an IDR, then its middle.
		assert!(VideoCodec::H264.starts_keyframe(&[0x7c, 0x85, 0x00]));
		assert!(!VideoCodec::H264.starts_keyframe(&[0x7c, 0x05, 0x00]));
	}

	#[test]
	fn mime_types() {
		assert_eq!(VideoCodec::from_mime("video/VP8"), VideoCodec::Vp8);
		assert_eq!(VideoCodec::from_mime("video/h264"), VideoCodec::H264);
		assert_eq!(VideoCodec::from_mime("video/AV1"), VideoCodec::Other);
		assert!(VideoCodec::Other.starts_keyframe(&[]));
	}
}
