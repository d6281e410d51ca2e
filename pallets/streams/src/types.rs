//! The pallet's types: streams, access tokens and the answer to "may this viewer watch?".

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;

/// A stream's id, allocated by the pallet in order from 0.
pub type StreamId = u64;

/// Where a stream is in its life.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum StreamStatus {
	/// Registered, not yet started: viewers may buy access ahead of time.
	Registered,
	/// Live: its creator publishes and viewers with access may watch.
	Live,
	/// Ended for good; it can only be removed (which returns the deposit).
	Ended,
}

/// A registered stream.
#[derive(
	CloneNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxTitle, MaxDescription, MaxOrigin))]
#[codec(mel_bound(AccountId: MaxEncodedLen, Balance: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct StreamInfo<
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	Balance: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxTitle: Get<u32>,
	MaxDescription: Get<u32>,
	MaxOrigin: Get<u32>,
> {
	/// Who registered it; the only account that may start, end, update or publish it.
	pub creator: AccountId,
	/// Its title (UTF-8).
	pub title: BoundedVec<u8, MaxTitle>,
	/// A description or a metadata URI (UTF-8).
	pub description: BoundedVec<u8, MaxDescription>,
	/// What a viewer pays per second of access; zero makes the stream free to watch.
	pub price_per_second: Balance,
	/// The most viewers the creator wants at once (enforced by the streaming nodes); zero for no
	/// limit.
	pub max_viewers: u32,
	/// Registered, live or ended.
	pub status: StreamStatus,
	/// The block it was registered in.
	pub created_at: BlockNumber,
	/// The block it went live in.
	pub started_at: Option<BlockNumber>,
	/// The block it ended in.
	pub ended_at: Option<BlockNumber>,
	/// The streaming endpoint of the node that ingests it (e.g. `https://node.example:8088`).
	pub origin: Option<BoundedVec<u8, MaxOrigin>>,
	/// The deposit held from the creator while the stream is registered.
	pub deposit: Balance,
}

/// How a viewer came to have access.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum AccessSource {
	/// The creator granted it.
	Granted,
	/// The viewer bought it with `buy_access`.
	Bought,
	/// The viewer pays through an open payment channel to the creator (never stored: the
	/// channel is the right, checked when asked).
	Channel,
	/// The viewer is the stream's creator.
	Creator,
	/// The stream is free (price zero).
	Free,
}

/// A viewer's stored right to watch a stream.
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub struct AccessToken<BlockNumber> {
	/// The last block at which the token is valid; access ends after it.
	pub valid_until: BlockNumber,
	/// `Granted` or `Bought`.
	pub source: AccessSource,
}

/// The answer to "may this viewer watch this stream now?" (the runtime API's `access`).
#[derive(
	Clone,
	Copy,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	PartialEq,
	Eq,
	Debug,
)]
pub enum AccessStatus<BlockNumber> {
	/// Yes, until the end of block `until` (`None`: as long as the source lasts).
	Allowed {
		/// The last block of access, if it ends at a known block.
		until: Option<BlockNumber>,
		/// Why.
		source: AccessSource,
	},
	/// The viewer's token ran out at the end of block `at`; buy more or ask the creator.
	Expired {
		/// The token's last valid block.
		at: BlockNumber,
	},
	/// No token and no payment channel: the viewer must pay.
	NoAccess,
	/// The stream is registered but not live, or ended.
	StreamNotLive,
	/// No such stream.
	UnknownStream,
}

/// Tells pallet-streams whether a viewer pays for a stream through a payment channel. Implemented
/// by pallet-payments; `()` means no channels exist.
pub trait ChannelAccess<AccountId, Balance> {
	/// Whether `viewer` has an open, sufficiently funded channel paying `creator` for `stream`
	/// at `price_per_second`.
	fn has_funded_channel(
		stream: StreamId,
		viewer: &AccountId,
		creator: &AccountId,
		price_per_second: Balance,
	) -> bool;
}

impl<AccountId, Balance> ChannelAccess<AccountId, Balance> for () {
	fn has_funded_channel(_: StreamId, _: &AccountId, _: &AccountId, _: Balance) -> bool {
		false
	}
}
