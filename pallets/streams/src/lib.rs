//! # Streams pallet
//!
//! The chain's registry of live video streams: which streams exist, who owns them, whether they
//! are live, and who may watch them.
//!
//! ## Overview
//!
//! A creator registers a stream ([`Pallet::register_stream`]), which holds a deposit
//! ([`Config::StreamDeposit`]) so the registry cannot be spammed for free. The creator starts it
//! ([`Pallet::start_stream`]) when publishing begins and ends it ([`Pallet::end_stream`]) for
//! good; an ended stream can be removed ([`Pallet::remove_stream`]), which returns the deposit.
//!
//! Viewers get access in one of these ways:
//! - the creator grants it ([`Pallet::grant_access`]) until a block, or without end;
//! - the viewer buys it ([`Pallet::buy_access`]): `price_per_second × seconds` is paid to the
//!   creator at once and the viewer's token is extended by that many seconds (in blocks);
//! - the viewer has an open, funded payment channel to the creator ([`Config::ChannelAccess`],
//!   implemented by the payments pallet);
//! - the stream is free (price zero), or the viewer is its creator.
//!
//! Streaming nodes ask one question before they let media flow:
//! [`Pallet::access`] (exposed as the `StreamsApi::access` runtime API).
//!
//! ### Time
//!
//! Token validity is measured in **block numbers**: a token is valid through the end of block
//! `valid_until`. Block numbers are what every node agrees on cheaply and exactly, and they keep
//! working where timestamps do not (the node's fast sealing modes run chain time ahead of the
//! wall clock). `buy_access` takes seconds and converts them at the chain's target block time
//! ([`Config::MillisecsPerBlock`]), rounding up, so a viewer never gets less than paid for.
//! Clients show users times by converting blocks back at the same rate.
//!
//! ## Invariants (checked by `try_state`)
//!
//! - every stream appears exactly once in its creator's index, and the index names nothing else;
//! - the funds held from each creator equal the deposits of that creator's streams;
//! - stored tokens belong to existing streams, are `Granted` or `Bought`, and are counted;
//! - the live index holds exactly the streams whose status is `Live`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

use alloc::vec::Vec;
use frame_support::{
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		tokens::{Precision, Preservation},
		Get,
	},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Bounded, CheckedMul, Saturating, StaticLookup, Zero},
	SaturatedConversion,
};

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A stream as this runtime stores it.
pub type StreamInfoOf<T> = StreamInfo<
	<T as frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	<T as Config>::MaxTitleLength,
	<T as Config>::MaxDescriptionLength,
	<T as Config>::MaxOriginLength,
>;
type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;

const LOG_TARGET: &str = "runtime::streams";

// The pallet macros expand to fully qualified paths.
#[allow(unused_qualifications)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The pallet's configuration.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The currency deposits are held in and access is paid with.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Whether a viewer pays through a payment channel (the payments pallet; `()` for none).
		type ChannelAccess: ChannelAccess<Self::AccountId, BalanceOf<Self>>;

		/// Who may end any stream (abuse handling): root in our runtime.
		type ForceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Held from the creator for each registered stream, returned when it is removed.
		#[pallet::constant]
		type StreamDeposit: Get<BalanceOf<Self>>;

		/// The longest title, in bytes.
		#[pallet::constant]
		type MaxTitleLength: Get<u32>;

		/// The longest description or metadata URI, in bytes.
		#[pallet::constant]
		type MaxDescriptionLength: Get<u32>;

		/// The longest origin endpoint, in bytes.
		#[pallet::constant]
		type MaxOriginLength: Get<u32>;

		/// How many streams one creator may have registered at once.
		#[pallet::constant]
		type MaxStreamsPerCreator: Get<u32>;

		/// How many viewers may hold a stored token for one stream.
		#[pallet::constant]
		type MaxTokensPerStream: Get<u32>;

		/// The chain's target block time, to convert bought seconds into blocks.
		#[pallet::constant]
		type MillisecsPerBlock: Get<u64>;

		/// Weights of the calls, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit of a registered stream.
		#[codec(index = 0)]
		StreamDeposit,
	}

	/// The id the next registered stream gets.
	#[pallet::storage]
	pub type NextStreamId<T> = StorageValue<_, StreamId, ValueQuery>;

	/// Every registered stream. Twox64Concat: ids are allocated in order by the pallet, so
	/// nobody can choose keys to unbalance the trie.
	#[pallet::storage]
	pub type Streams<T: Config> = StorageMap<_, Twox64Concat, StreamId, StreamInfoOf<T>>;

	/// Each creator's streams, in registration order. Blake2_128Concat: account ids are chosen
	/// by users.
	#[pallet::storage]
	pub type StreamsByCreator<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<StreamId, T::MaxStreamsPerCreator>,
		ValueQuery,
	>;

	/// Viewers' stored access tokens, by stream then viewer.
	#[pallet::storage]
	pub type AccessTokens<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		StreamId,
		Blake2_128Concat,
		T::AccountId,
		AccessToken<BlockNumberFor<T>>,
	>;

	/// How many tokens each stream has (bounds the work of removing it).
	#[pallet::storage]
	pub type TokenCount<T> = StorageMap<_, Twox64Concat, StreamId, u32, ValueQuery>;

	/// The streams that are live, for listing them without reading every stream.
	#[pallet::storage]
	pub type LiveStreams<T> = StorageMap<_, Twox64Concat, StreamId, ()>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A stream was registered and its deposit held.
		StreamRegistered { stream_id: StreamId, creator: T::AccountId, deposit: BalanceOf<T> },
		/// A stream's details were changed.
		StreamUpdated { stream_id: StreamId },
		/// A stream went live.
		StreamStarted { stream_id: StreamId },
		/// A stream ended (`forced`: by the force origin, not its creator).
		StreamEnded { stream_id: StreamId, forced: bool },
		/// An ended stream was removed and its deposit released.
		StreamRemoved { stream_id: StreamId, deposit_released: BalanceOf<T> },
		/// The creator granted a viewer access through block `valid_until`.
		AccessGranted { stream_id: StreamId, viewer: T::AccountId, valid_until: BlockNumberFor<T> },
		/// The creator revoked a viewer's granted access.
		AccessRevoked { stream_id: StreamId, viewer: T::AccountId },
		/// A viewer bought `seconds` of access for `paid`, now valid through `valid_until`.
		AccessBought {
			stream_id: StreamId,
			viewer: T::AccountId,
			seconds: u32,
			paid: BalanceOf<T>,
			valid_until: BlockNumberFor<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No stream has this id; check the id (streams are listed by `StreamsApi`).
		UnknownStream,
		/// Only the stream's creator may do this.
		NotCreator,
		/// The stream has ended; register a new one.
		StreamEnded,
		/// Only an ended stream can be removed; end it first.
		StreamNotEnded,
		/// The stream is already live.
		AlreadyLive,
		/// The title is empty; give the stream a title.
		EmptyTitle,
		/// The title is longer than `MaxTitleLength` bytes; shorten it.
		TitleTooLong,
		/// The description is longer than `MaxDescriptionLength` bytes; shorten it or link to it.
		DescriptionTooLong,
		/// The origin endpoint is longer than `MaxOriginLength` bytes.
		OriginTooLong,
		/// The creator already has `MaxStreamsPerCreator` streams; remove an ended one first.
		TooManyStreams,
		/// The stream already has `MaxTokensPerStream` viewers with tokens.
		TooManyTokens,
		/// `price_per_second × seconds` does not fit in a balance; buy fewer seconds.
		PriceOverflow,
		/// The account cannot pay this (free balance, less what must stay, is too low).
		InsufficientBalance,
		/// Buy at least one second.
		ZeroSeconds,
		/// The access costs more than `max_total` at the stream's price now (the creator may
		/// have raised it); look at the price and buy again with a higher `max_total`.
		PriceAboveMax,
		/// The stream is free to watch: nothing to buy.
		FreeStream,
		/// The creator always has access to their own stream.
		CreatorHasAccess,
		/// The viewer has no token for this stream.
		NoToken,
		/// The viewer paid for this access; it cannot be revoked (it ends by itself).
		CannotRevokeBought,
		/// The expiry block has already passed; grant until a future block.
		ExpiryInPast,
		/// Stream ids are exhausted.
		NoMoreStreamIds,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxTitleLength::get() > 0, "MaxTitleLength must allow a title");
			assert!(T::MaxStreamsPerCreator::get() > 0, "MaxStreamsPerCreator must allow a stream");
			assert!(T::MaxTokensPerStream::get() > 0, "MaxTokensPerStream must allow a token");
			assert!(T::MillisecsPerBlock::get() > 0, "MillisecsPerBlock must be positive");
			assert!(
				!T::StreamDeposit::get().is_zero(),
				"StreamDeposit must be positive, or the registry can be spammed for free"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Registers a stream owned by the caller and holds [`Config::StreamDeposit`] from them.
		///
		/// - origin: signed, the creator.
		/// - `title` (1 to `MaxTitleLength` bytes), `description` (a description or a metadata
		///   URI, up to `MaxDescriptionLength` bytes), `price_per_second` (zero for a free
		///   stream), `max_viewers` (zero for no limit).
		///
		/// Errors: `EmptyTitle`, `TitleTooLong`, `DescriptionTooLong`, `TooManyStreams`,
		/// `InsufficientBalance` (the deposit cannot be held), `NoMoreStreamIds`.
		///
		/// Emits `StreamRegistered`.
		#[pallet::call_index(0)]
		pub fn register_stream(
			origin: OriginFor<T>,
			title: Vec<u8>,
			description: Vec<u8>,
			price_per_second: BalanceOf<T>,
			max_viewers: u32,
		) -> DispatchResult {
			let creator = ensure_signed(origin)?;
			ensure!(!title.is_empty(), Error::<T>::EmptyTitle);
			let title: BoundedVec<_, _> = title.try_into().map_err(|_| Error::<T>::TitleTooLong)?;
			let description: BoundedVec<_, _> =
				description.try_into().map_err(|_| Error::<T>::DescriptionTooLong)?;
			let stream_id = NextStreamId::<T>::get();
			let next = stream_id.checked_add(1).ok_or(Error::<T>::NoMoreStreamIds)?;
			let mut index = StreamsByCreator::<T>::get(&creator);
			index.try_push(stream_id).map_err(|_| Error::<T>::TooManyStreams)?;
			let deposit = T::StreamDeposit::get();
			T::Currency::hold(&HoldReason::StreamDeposit.into(), &creator, deposit)
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			let info = StreamInfo {
				creator: creator.clone(),
				title,
				description,
				price_per_second,
				max_viewers,
				status: StreamStatus::Registered,
				created_at: frame_system::Pallet::<T>::block_number(),
				started_at: None,
				ended_at: None,
				origin: None,
				deposit,
			};
			Streams::<T>::insert(stream_id, info);
			StreamsByCreator::<T>::insert(&creator, index);
			NextStreamId::<T>::put(next);
			Self::deposit_event(Event::StreamRegistered { stream_id, creator, deposit });
			Ok(())
		}

		/// Changes a stream's details; each `None` leaves that detail as it is.
		///
		/// - origin: signed, the stream's creator.
		/// - `origin_endpoint`: the streaming endpoint of the ingest node; empty clears it.
		///
		/// Errors: `UnknownStream`, `NotCreator`, `StreamEnded` (ended streams are final),
		/// `EmptyTitle`, `TitleTooLong`, `DescriptionTooLong`, `OriginTooLong`.
		///
		/// Emits `StreamUpdated`.
		#[pallet::call_index(1)]
		pub fn update_stream(
			origin: OriginFor<T>,
			stream_id: StreamId,
			title: Option<Vec<u8>>,
			description: Option<Vec<u8>>,
			price_per_second: Option<BalanceOf<T>>,
			max_viewers: Option<u32>,
			origin_endpoint: Option<Vec<u8>>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::creators_stream(stream_id, &who)?;
			ensure!(info.status != StreamStatus::Ended, Error::<T>::StreamEnded);
			if let Some(title) = title {
				ensure!(!title.is_empty(), Error::<T>::EmptyTitle);
				info.title = title.try_into().map_err(|_| Error::<T>::TitleTooLong)?;
			}
			if let Some(description) = description {
				info.description =
					description.try_into().map_err(|_| Error::<T>::DescriptionTooLong)?;
			}
			if let Some(price) = price_per_second {
				info.price_per_second = price;
			}
			if let Some(max_viewers) = max_viewers {
				info.max_viewers = max_viewers;
			}
			if let Some(endpoint) = origin_endpoint {
				info.origin = if endpoint.is_empty() {
					None
				} else {
					Some(endpoint.try_into().map_err(|_| Error::<T>::OriginTooLong)?)
				};
			}
			Streams::<T>::insert(stream_id, info);
			Self::deposit_event(Event::StreamUpdated { stream_id });
			Ok(())
		}

		/// Marks a registered stream live: from now on viewers with access may watch it.
		///
		/// - origin: signed, the stream's creator.
		///
		/// Errors: `UnknownStream`, `NotCreator`, `AlreadyLive`, `StreamEnded`.
		///
		/// Emits `StreamStarted`.
		#[pallet::call_index(2)]
		pub fn start_stream(origin: OriginFor<T>, stream_id: StreamId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Self::creators_stream(stream_id, &who)?;
			match info.status {
				StreamStatus::Registered => {},
				StreamStatus::Live => return Err(Error::<T>::AlreadyLive.into()),
				StreamStatus::Ended => return Err(Error::<T>::StreamEnded.into()),
			}
			info.status = StreamStatus::Live;
			info.started_at = Some(frame_system::Pallet::<T>::block_number());
			Streams::<T>::insert(stream_id, info);
			LiveStreams::<T>::insert(stream_id, ());
			Self::deposit_event(Event::StreamStarted { stream_id });
			Ok(())
		}

		/// Ends a stream for good (live or not yet started). Nodes close its sessions.
		///
		/// - origin: signed, the stream's creator.
		///
		/// Errors: `UnknownStream`, `NotCreator`, `StreamEnded`.
		///
		/// Emits `StreamEnded { forced: false }`.
		#[pallet::call_index(3)]
		pub fn end_stream(origin: OriginFor<T>, stream_id: StreamId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Self::creators_stream(stream_id, &who)?;
			Self::do_end(stream_id, info, false)
		}

		/// Removes an ended stream, its viewers' tokens, and releases its deposit.
		///
		/// - origin: signed, the stream's creator.
		///
		/// Errors: `UnknownStream`, `NotCreator`, `StreamNotEnded`.
		///
		/// Emits `StreamRemoved`. Weight: charged for `MaxTokensPerStream` tokens, refunded to
		/// the tokens actually removed.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::remove_stream(T::MaxTokensPerStream::get()))]
		pub fn remove_stream(
			origin: OriginFor<T>,
			stream_id: StreamId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let info = Self::creators_stream(stream_id, &who)?;
			ensure!(info.status == StreamStatus::Ended, Error::<T>::StreamNotEnded);
			let tokens = TokenCount::<T>::take(stream_id);
			let _ = AccessTokens::<T>::clear_prefix(stream_id, tokens.saturating_add(1), None);
			StreamsByCreator::<T>::mutate(&who, |index| index.retain(|id| *id != stream_id));
			Streams::<T>::remove(stream_id);
			let released = T::Currency::release(
				&HoldReason::StreamDeposit.into(),
				&who,
				info.deposit,
				Precision::BestEffort,
			)?;
			Self::deposit_event(Event::StreamRemoved { stream_id, deposit_released: released });
			Ok(Some(T::WeightInfo::remove_stream(tokens)).into())
		}

		/// Gives a viewer access through block `valid_until` (`None`: without end). A viewer's
		/// existing access is never shortened by a grant.
		///
		/// - origin: signed, the stream's creator.
		///
		/// Errors: `UnknownStream`, `NotCreator`, `StreamEnded`, `CreatorHasAccess`,
		/// `ExpiryInPast`, `TooManyTokens`.
		///
		/// Emits `AccessGranted`. Weight: charged for reaping every expired token of a full
		/// stream, refunded to the tokens actually reaped.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::grant_access().saturating_add(Pallet::<T>::reap_weight(T::MaxTokensPerStream::get())))]
		pub fn grant_access(
			origin: OriginFor<T>,
			stream_id: StreamId,
			viewer: AccountIdLookupOf<T>,
			valid_until: Option<BlockNumberFor<T>>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let viewer = T::Lookup::lookup(viewer)?;
			let info = Self::creators_stream(stream_id, &who)?;
			ensure!(info.status != StreamStatus::Ended, Error::<T>::StreamEnded);
			ensure!(viewer != who, Error::<T>::CreatorHasAccess);
			let now = frame_system::Pallet::<T>::block_number();
			let requested = valid_until.unwrap_or_else(BlockNumberFor::<T>::max_value);
			ensure!(requested >= now, Error::<T>::ExpiryInPast);
			let mut reaped = 0;
			let token = match AccessTokens::<T>::get(stream_id, &viewer) {
				Some(existing) if existing.valid_until >= requested => existing,
				Some(_) => AccessToken { valid_until: requested, source: AccessSource::Granted },
				None => {
					reaped = Self::count_new_token(stream_id)?;
					AccessToken { valid_until: requested, source: AccessSource::Granted }
				},
			};
			AccessTokens::<T>::insert(stream_id, &viewer, token);
			Self::deposit_event(Event::AccessGranted {
				stream_id,
				viewer,
				valid_until: token.valid_until,
			});
			Ok(Some(T::WeightInfo::grant_access().saturating_add(Self::reap_weight(reaped))).into())
		}

		/// Takes back access the creator granted. Bought access cannot be revoked: the viewer
		/// paid for it.
		///
		/// - origin: signed, the stream's creator.
		///
		/// Errors: `UnknownStream`, `NotCreator`, `NoToken`, `CannotRevokeBought`.
		///
		/// Emits `AccessRevoked`. Nodes drop the viewer.
		#[pallet::call_index(6)]
		pub fn revoke_access(
			origin: OriginFor<T>,
			stream_id: StreamId,
			viewer: AccountIdLookupOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let viewer = T::Lookup::lookup(viewer)?;
			Self::creators_stream(stream_id, &who)?;
			let token = AccessTokens::<T>::get(stream_id, &viewer).ok_or(Error::<T>::NoToken)?;
			ensure!(token.source != AccessSource::Bought, Error::<T>::CannotRevokeBought);
			AccessTokens::<T>::remove(stream_id, &viewer);
			TokenCount::<T>::mutate(stream_id, |count| *count = count.saturating_sub(1));
			Self::deposit_event(Event::AccessRevoked { stream_id, viewer });
			Ok(())
		}

		/// Buys `seconds` of access: pays `price_per_second × seconds` to the creator now and
		/// extends the caller's token by `seconds` (converted to blocks, rounded up), from its
		/// current end if it is still valid, else from now. Buying never shortens access.
		///
		/// - origin: signed, the viewer.
		/// - `max_total`: the most the viewer will pay. A creator who raises the price in the
		///   same block cannot take more: the purchase fails with `PriceAboveMax` instead.
		///
		/// Errors: `UnknownStream`, `StreamEnded`, `FreeStream`, `CreatorHasAccess`,
		/// `ZeroSeconds`, `PriceOverflow`, `PriceAboveMax`, `InsufficientBalance`,
		/// `TooManyTokens`.
		///
		/// Emits `AccessBought`. Weight: charged for reaping every expired token of a full
		/// stream, refunded to the tokens actually reaped.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::buy_access().saturating_add(Pallet::<T>::reap_weight(T::MaxTokensPerStream::get())))]
		pub fn buy_access(
			origin: OriginFor<T>,
			stream_id: StreamId,
			seconds: u32,
			max_total: BalanceOf<T>,
		) -> DispatchResultWithPostInfo {
			let viewer = ensure_signed(origin)?;
			let info = Streams::<T>::get(stream_id).ok_or(Error::<T>::UnknownStream)?;
			ensure!(info.status != StreamStatus::Ended, Error::<T>::StreamEnded);
			ensure!(!info.price_per_second.is_zero(), Error::<T>::FreeStream);
			ensure!(viewer != info.creator, Error::<T>::CreatorHasAccess);
			ensure!(seconds > 0, Error::<T>::ZeroSeconds);
			let paid = info
				.price_per_second
				.checked_mul(&BalanceOf::<T>::from(seconds))
				.ok_or(Error::<T>::PriceOverflow)?;
			ensure!(paid <= max_total, Error::<T>::PriceAboveMax);

			let now = frame_system::Pallet::<T>::block_number();
			let existing = AccessTokens::<T>::get(stream_id, &viewer);
			let from = match existing {
				Some(token) if token.valid_until >= now => token.valid_until,
				_ => now,
			};
			let valid_until = from.saturating_add(Self::blocks_for(seconds));
			let reaped = if existing.is_none() { Self::count_new_token(stream_id)? } else { 0 };
			T::Currency::transfer(&viewer, &info.creator, paid, Preservation::Preserve)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			// A granted token that outlasts what was bought keeps its longer validity.
			let token = match existing {
				Some(token) if token.valid_until > valid_until => token,
				_ => AccessToken { valid_until, source: AccessSource::Bought },
			};
			AccessTokens::<T>::insert(stream_id, &viewer, token);
			Self::deposit_event(Event::AccessBought {
				stream_id,
				viewer,
				seconds,
				paid,
				valid_until: token.valid_until,
			});
			Ok(Some(T::WeightInfo::buy_access().saturating_add(Self::reap_weight(reaped))).into())
		}

		/// Ends any stream (abuse handling).
		///
		/// - origin: [`Config::ForceOrigin`] (root).
		///
		/// Errors: `UnknownStream`, `StreamEnded`.
		///
		/// Emits `StreamEnded { forced: true }`.
		#[pallet::call_index(8)]
		pub fn force_end_stream(origin: OriginFor<T>, stream_id: StreamId) -> DispatchResult {
			T::ForceOrigin::ensure_origin(origin)?;
			let info = Streams::<T>::get(stream_id).ok_or(Error::<T>::UnknownStream)?;
			Self::do_end(stream_id, info, true)
		}
	}
}

impl<T: Config> Pallet<T> {
	/// May `viewer` watch `stream_id` now? The question streaming nodes ask before media flows.
	pub fn access(stream_id: StreamId, viewer: &T::AccountId) -> AccessStatus<BlockNumberFor<T>> {
		let Some(info) = Streams::<T>::get(stream_id) else { return AccessStatus::UnknownStream };
		if info.status != StreamStatus::Live {
			return AccessStatus::StreamNotLive;
		}
		if *viewer == info.creator {
			return AccessStatus::Allowed { until: None, source: AccessSource::Creator };
		}
		if info.price_per_second.is_zero() {
			return AccessStatus::Allowed { until: None, source: AccessSource::Free };
		}
		let now = frame_system::Pallet::<T>::block_number();
		let token = AccessTokens::<T>::get(stream_id, viewer);
		if let Some(token) = token {
			if token.valid_until >= now {
				let until = (token.valid_until != BlockNumberFor::<T>::max_value())
					.then_some(token.valid_until);
				return AccessStatus::Allowed { until, source: token.source };
			}
		}
		if T::ChannelAccess::has_funded_channel(
			stream_id,
			viewer,
			&info.creator,
			info.price_per_second,
		) {
			return AccessStatus::Allowed { until: None, source: AccessSource::Channel };
		}
		match token {
			Some(token) => AccessStatus::Expired { at: token.valid_until },
			None => AccessStatus::NoAccess,
		}
	}

	/// A stream, if it exists.
	pub fn stream(stream_id: StreamId) -> Option<StreamInfoOf<T>> {
		Streams::<T>::get(stream_id)
	}

	/// A creator's streams, in registration order.
	pub fn streams_by_creator(creator: &T::AccountId) -> Vec<(StreamId, StreamInfoOf<T>)> {
		StreamsByCreator::<T>::get(creator)
			.into_iter()
			.filter_map(|id| Streams::<T>::get(id).map(|info| (id, info)))
			.collect()
	}

	/// Up to `limit` live streams after `cursor` (exclusive), and the cursor for the next page.
	/// Pass `None` to start; the order is stable but not by id.
	pub fn live_streams(
		cursor: Option<StreamId>,
		limit: u32,
	) -> (Vec<(StreamId, StreamInfoOf<T>)>, Option<StreamId>) {
		let limit = limit.min(1000) as usize;
		let ids = match cursor {
			Some(after) => {
				LiveStreams::<T>::iter_keys_from(LiveStreams::<T>::hashed_key_for(after))
			},
			None => LiveStreams::<T>::iter_keys(),
		};
		let page: Vec<_> = ids
			.filter_map(|id| Streams::<T>::get(id).map(|info| (id, info)))
			.take(limit.saturating_add(1))
			.collect();
		let mut page = page;
		let next = if page.len() > limit {
			page.truncate(limit);
			page.last().map(|(id, _)| *id)
		} else {
			None
		};
		(page, next)
	}

	/// The number of blocks that cover `seconds` at the target block time (rounded up).
	pub fn blocks_for(seconds: u32) -> BlockNumberFor<T> {
		let millis = u64::from(seconds).saturating_mul(1000);
		let per_block = T::MillisecsPerBlock::get().max(1);
		millis.div_ceil(per_block).saturated_into()
	}

	fn creators_stream(
		stream_id: StreamId,
		who: &T::AccountId,
	) -> Result<StreamInfoOf<T>, Error<T>> {
		let info = Streams::<T>::get(stream_id).ok_or(Error::<T>::UnknownStream)?;
		if info.creator != *who {
			return Err(Error::<T>::NotCreator);
		}
		Ok(info)
	}

	/// Counts a new token of `stream_id`. When the stream is full, first removes its expired
	/// tokens (they give no access, and would otherwise lock newcomers out until the stream is
	/// removed); returns how many tokens it read to do so.
	fn count_new_token(stream_id: StreamId) -> Result<u32, Error<T>> {
		let mut scanned = 0;
		if TokenCount::<T>::get(stream_id) >= T::MaxTokensPerStream::get() {
			let now = frame_system::Pallet::<T>::block_number();
			let expired: Vec<T::AccountId> = AccessTokens::<T>::iter_prefix(stream_id)
				.inspect(|_| scanned += 1)
				.filter(|(_, token)| token.valid_until < now)
				.map(|(viewer, _)| viewer)
				.collect();
			for viewer in &expired {
				AccessTokens::<T>::remove(stream_id, viewer);
			}
			TokenCount::<T>::mutate(stream_id, |count| {
				*count = count.saturating_sub(expired.len() as u32)
			});
			log::debug!(target: LOG_TARGET, "stream {stream_id}: reaped {} expired tokens", expired.len());
		}
		TokenCount::<T>::try_mutate(stream_id, |count| {
			if *count >= T::MaxTokensPerStream::get() {
				return Err(Error::<T>::TooManyTokens);
			}
			*count += 1;
			Ok(())
		})?;
		Ok(scanned)
	}

	/// The weight of reading `tokens` tokens of a full stream and removing them all (the worst
	/// case of [`Self::count_new_token`]).
	pub fn reap_weight(tokens: u32) -> frame_support::weights::Weight {
		T::DbWeight::get().reads_writes(tokens.into(), tokens.into())
	}

	fn do_end(
		stream_id: StreamId,
		mut info: StreamInfoOf<T>,
		forced: bool,
	) -> frame_support::dispatch::DispatchResult {
		frame_support::ensure!(info.status != StreamStatus::Ended, Error::<T>::StreamEnded);
		info.status = StreamStatus::Ended;
		info.ended_at = Some(frame_system::Pallet::<T>::block_number());
		Streams::<T>::insert(stream_id, info);
		LiveStreams::<T>::remove(stream_id);
		log::debug!(target: LOG_TARGET, "stream {stream_id} ended (forced: {forced})");
		Self::deposit_event(Event::StreamEnded { stream_id, forced });
		Ok(())
	}

	/// Checks the pallet's storage invariants (see the crate docs).
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::ensure;

		let next_id = NextStreamId::<T>::get();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (id, info) in Streams::<T>::iter() {
			ensure!(id < next_id, "a stream id is not below NextStreamId");
			let index = StreamsByCreator::<T>::get(&info.creator);
			ensure!(
				index.iter().filter(|listed| **listed == id).count() == 1,
				"a stream is not listed exactly once in its creator's index"
			);
			ensure!(
				LiveStreams::<T>::contains_key(id) == (info.status == StreamStatus::Live),
				"the live index disagrees with a stream's status"
			);
			let total = deposits.entry(info.creator.clone()).or_default();
			*total = total.saturating_add(info.deposit);
		}
		for (creator, index) in StreamsByCreator::<T>::iter() {
			for id in index.iter() {
				let info =
					Streams::<T>::get(id).ok_or("a creator's index names a missing stream")?;
				ensure!(info.creator == creator, "a creator's index names another's stream");
			}
		}
		for (creator, total) in &deposits {
			let held = T::Currency::balance_on_hold(&HoldReason::StreamDeposit.into(), creator);
			ensure!(held == *total, "held deposits differ from the creator's streams' deposits");
		}
		for id in LiveStreams::<T>::iter_keys() {
			ensure!(Streams::<T>::contains_key(id), "the live index names a missing stream");
		}
		let mut counted: BTreeMap<StreamId, u32> = BTreeMap::new();
		for (id, _, token) in AccessTokens::<T>::iter() {
			ensure!(Streams::<T>::contains_key(id), "a token belongs to a missing stream");
			ensure!(
				matches!(token.source, AccessSource::Granted | AccessSource::Bought),
				"a stored token has a source other than Granted or Bought"
			);
			*counted.entry(id).or_default() += 1;
		}
		for (id, count) in TokenCount::<T>::iter() {
			ensure!(counted.get(&id).copied().unwrap_or(0) == count, "TokenCount is wrong");
		}
		for (id, count) in counted {
			ensure!(TokenCount::<T>::get(id) == count, "tokens are not counted");
		}
		Ok(())
	}
}
