//! `StreamsApi`: what streaming nodes, the command line and apps ask the runtime about streams.
//! Every call reads state at the block it is called at.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_streams::{AccessSource, AccessStatus, StreamId, StreamInfo, StreamStatus};

sp_api::decl_runtime_apis! {
	/// Streams, their listings, and whether a viewer may watch.
	#[api_version(1)]
	pub trait StreamsApi<AccountId, Info, BlockNumber>
	where
		AccountId: Codec,
		Info: Codec,
		BlockNumber: Codec,
	{
		/// A stream, if it exists.
		fn stream(id: StreamId) -> Option<Info>;
		/// A creator's streams, in registration order.
		fn streams_by_creator(creator: AccountId) -> Vec<(StreamId, Info)>;
		/// Up to `limit` (at most 1000) live streams after `cursor`, and the cursor of the next
		/// page (`None`: this was the last).
		fn live_streams(cursor: Option<StreamId>, limit: u32) -> (Vec<(StreamId, Info)>, Option<StreamId>);
		/// May `viewer` watch `stream` now? The question a node asks before media flows.
		fn access(stream: StreamId, viewer: AccountId) -> AccessStatus<BlockNumber>;
	}
}
