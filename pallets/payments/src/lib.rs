//! # Payments pallet
//!
//! One-way payment channels: a viewer pays a creator per second of video with off-chain
//! vouchers, and the chain settles only now and then.
//!
//! ## Overview
//!
//! The payer opens a channel to a payee ([`Pallet::open_channel`]), which holds a deposit from
//! the payer ([`HoldReason::ChannelDeposit`]); [`Pallet::top_up`] adds to it. While watching,
//! the payer signs [`Voucher`]s with a growing `cumulative_amount` and sends them to the node
//! over the WebRTC data channel. Each voucher names a **lane**: the account of the node the payer
//! watches at, which takes vouchers only for its own lane. Anyone may settle a voucher
//! ([`Pallet::claim`]): the payee is paid `cumulative_amount` less what the lane was already
//! paid, from the hold, so settling a lane's newest voucher pays for every older one, and
//! settling a voucher twice pays nothing the second time (it is refused as not newer). The sum
//! paid over all lanes never exceeds the deposit: a claim pays at most what is left of it. The
//! node's offchain worker settles the vouchers the node accepted, as authorized transactions
//! that need no account or fee: the payer's signature is the authority.
//!
//! Closing:
//! - the payer calls [`Pallet::close`], which starts a challenge period
//!   ([`Config::ChallengePeriod`]) during which the payee can still claim; after it anyone may
//!   call [`Pallet::finalize_close`], which returns the rest of the deposit to the payer;
//! - the payee can close at once with its best voucher ([`Pallet::settle_and_close`]), or with
//!   none ([`Pallet::close`] by the payee), refunding the rest to the payer immediately;
//! - no channel locks funds forever: after [`Config::InactivityPeriod`] blocks without a
//!   top-up or claim, [`Pallet::finalize_close`] closes it without a challenge period.
//!
//! ## Vouchers
//!
//! The voucher, its signed payload (domain tag, genesis hash, SCALE of the voucher) and the
//! signature live in `sutantra-payments-primitives`, shared with the node and the command line.
//! A voucher is settled only if it names an existing channel, is signed by that channel's payer
//! on this chain, has an amount above what its lane was paid, does not exceed the deposit, and
//! the deposit is not used up. Vouchers are ordered by amount alone (there is no nonce), so the
//! node and the runtime agree on which of two vouchers is newer, and a payer's own claim can
//! never make a voucher the node holds unclaimable: it can only pay that lane part of what the
//! node's voucher would. Channel ids are never reused, so a voucher can never be valid on
//! another channel, and the genesis hash in the payload keeps it off other chains.
//!
//! ## Access
//!
//! The pallet implements [`pallet_streams::ChannelAccess`]: an open (not closing) channel from
//! the viewer to the stream's creator, for that stream or for any stream, whose remaining
//! deposit covers [`Config::AccessGraceSeconds`] of the stream's price, gives access.
//!
//! ## Offchain worker
//!
//! The node stores, per channel, the best voucher it accepted in offchain persistent storage
//! under [`sutantra_payments_primitives::offchain_voucher_key`] as SCALE([`SignedVoucher`]), and
//! lists the channels whose voucher may still be unclaimed under
//! [`sutantra_payments_primitives::OFFCHAIN_PENDING_KEY`]. Each block the offchain worker visits
//! at most [`Config::MaxOffchainClaimChecks`] of the listed channels (round robin, from where
//! the last block stopped; never the whole channel table, which anyone can grow) and submits
//! `claim` when the unclaimed amount is at least [`Config::MinAuthorizedClaim`] or the channel
//! is closing; it records what it submitted so that it does not submit the same claim again for
//! [`Config::ClaimRetryBlocks`] blocks.
//!
//! ## Free claims are bounded
//!
//! Authorized claims pay no fee, so a payer paying a second account of its own could otherwise
//! fill blocks with them. They are bounded three ways: a block includes at most
//! [`Config::MaxAuthorizedClaimsPerBlock`] (the rest wait for later blocks); a channel has at
//! most one every [`Config::AuthorizedClaimGap`] blocks; only claims whose payee can receive
//! the amount are valid (a failing claim would still take a place); and their pool
//! priority ([`Config::ClaimPriority`]) is meant to be below every signed transaction's, so
//! paying transactions are always included first.
//!
//! ## Invariants (checked by `try_state`)
//!
//! - the funds held from each payer equal Σ (deposit − paid) over that payer's channels, and no
//!   other account has funds held by this pallet;
//! - every channel is listed once in its payer's and its payee's index, and the indexes name
//!   nothing else; every channel id is below `NextChannelId`; `paid <= deposit`;
//! - a channel's `paid` is the sum of what its lanes were paid, and `lanes` counts them.

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
	pallet_prelude::{
		InvalidTransaction, TransactionSource, TransactionValidityError, ValidTransaction,
	},
	traits::{
		fungible::{Inspect, InspectHold, Mutate, MutateHold},
		tokens::{DepositConsequence, Fortitude, Precision, Provenance, Restriction},
		Get,
	},
	weights::Weight,
};
use frame_system::{
	offchain::{CreateAuthorizedTransaction, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use pallet_streams::StreamId;
use sp_runtime::{
	offchain::{
		storage::{MutateStorageError, StorageRetrievalError, StorageValueRef},
		storage_lock::{StorageLock, Time},
		Duration,
	},
	traits::{CheckedAdd, IdentifyAccount, One, Saturating, StaticLookup, Verify, Zero},
	transaction_validity::TransactionValidityWithRefund,
};
use sutantra_payments_primitives::OFFCHAIN_PENDING_KEY;

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// A channel as this runtime stores it.
pub type ChannelOf<T> =
	Channel<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
/// A voucher in this runtime's balance.
pub type VoucherOf<T> = Voucher<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;

const LOG_TARGET: &str = "runtime::payments";

/// Offchain storage: the claims the offchain worker submitted, per channel (see
/// [`claim_record_key`]).
pub const OFFCHAIN_CLAIM_PREFIX: &[u8] = b"sutantra/payments/claimed/";
/// Offchain storage: the lock that keeps two offchain workers from claiming at once.
pub const OFFCHAIN_LOCK_KEY: &[u8] = b"sutantra/payments/ocw-lock";
/// The offchain storage key where the offchain worker keeps the pending channel it visits next:
/// SCALE(ChannelId).
pub const OFFCHAIN_CURSOR_KEY: &[u8] = b"sutantra/payments/ocw-cursor";

/// The offchain storage key under which the offchain worker records the claim it submitted for
/// a channel: SCALE((voucher amount, block number)).
pub fn claim_record_key(channel_id: ChannelId) -> Vec<u8> {
	[OFFCHAIN_CLAIM_PREFIX, &channel_id.to_le_bytes()[..]].concat()
}

/// Why an authorized `claim` is not valid, as `InvalidTransaction::Custom` codes. A bad
/// signature is `BadProof` and a voucher that is not newer is `Stale`.
pub mod invalid {
	/// No channel has the voucher's id.
	pub const UNKNOWN_CHANNEL: u8 = 1;
	/// The voucher's amount is more than the deposit.
	pub const EXCEEDS_DEPOSIT: u8 = 2;
	/// The amount due is below `MinAuthorizedClaim` and the channel is not closing: submit it
	/// as a signed transaction, or wait until it is worth a free one.
	pub const CLAIM_TOO_SMALL: u8 = 3;
	/// The deposit is used up by what the lanes were paid.
	pub const DEPOSIT_EXHAUSTED: u8 = 4;
	/// The channel already has `MaxLanesPerChannel` lanes and this voucher opens another.
	pub const TOO_MANY_LANES: u8 = 5;
	/// The voucher opens a lane with less than `MinAuthorizedClaim`.
	pub const NEW_LANE_TOO_SMALL: u8 = 6;
	/// The channel had a free claim less than `AuthorizedClaimGap` blocks ago: submit this one
	/// later, or as a signed transaction.
	pub const CLAIM_TOO_SOON: u8 = 7;
	/// The payee cannot receive the amount due (it would fall below the existential deposit,
	/// or the account cannot take funds).
	pub const PAYEE_CANNOT_RECEIVE: u8 = 8;
}

/// Signs voucher payloads in benchmarks, where the runtime's signature scheme is not known.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Signature> {
	/// A payer account able to sign vouchers, different for each `seed`.
	fn payer(seed: u32) -> AccountId;
	/// `payer`'s signature of `message` in the form that costs the most to verify.
	fn sign(payer: &AccountId, message: &[u8]) -> Signature;
}

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
	pub trait Config: frame_system::Config + CreateAuthorizedTransaction<Call<Self>> {
		/// The currency deposits are held in and payees are paid in.
		type Currency: Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ InspectHold<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// A payer's signature over a voucher payload.
		type Signature: Verify<Signer = Self::Signer> + Parameter + MaxEncodedLen;

		/// The key behind a signature; identifies the payer's account.
		type Signer: IdentifyAccount<AccountId = Self::AccountId>;

		/// The smallest deposit a channel can be opened with (channels are stored: no dust).
		#[pallet::constant]
		type MinDeposit: Get<BalanceOf<Self>>;

		/// How many blocks after the payer asks to close the payee may still claim.
		#[pallet::constant]
		type ChallengePeriod: Get<BlockNumberFor<Self>>;

		/// After this many blocks without a top-up or claim, a channel can be closed at once.
		#[pallet::constant]
		type InactivityPeriod: Get<BlockNumberFor<Self>>;

		/// How many channels one payer may have open at once.
		#[pallet::constant]
		type MaxChannelsPerPayer: Get<u32>;

		/// How many lanes (nodes paid through vouchers) one channel may have. Bounds the work
		/// of closing a channel; a node refuses vouchers on a channel whose lanes are all taken
		/// by others.
		#[pallet::constant]
		type MaxLanesPerChannel: Get<u32>;

		/// An open channel grants access to a stream while its remaining deposit covers this
		/// many seconds at the stream's price.
		#[pallet::constant]
		type AccessGraceSeconds: Get<u32>;

		/// The smallest amount worth a free (authorized) claim. Smaller increases are claimed
		/// when the channel closes, or by a signed claim.
		#[pallet::constant]
		type MinAuthorizedClaim: Get<BalanceOf<Self>>;

		/// How many blocks the offchain worker waits before submitting the same claim again.
		#[pallet::constant]
		type ClaimRetryBlocks: Get<BlockNumberFor<Self>>;

		/// The priority of authorized claims in the transaction pool: set it below what signed
		/// transactions get, so free claims never push out paying ones.
		#[pallet::constant]
		type ClaimPriority: Get<TransactionPriority>;

		/// How many authorized (free) claims one block may include; the rest wait for later
		/// blocks.
		#[pallet::constant]
		type MaxAuthorizedClaimsPerBlock: Get<u32>;

		/// How many blocks must pass after an authorized claim on a channel before the next one
		/// on that channel.
		#[pallet::constant]
		type AuthorizedClaimGap: Get<BlockNumberFor<Self>>;

		/// How many pending channels the offchain worker visits per block at most.
		#[pallet::constant]
		type MaxOffchainClaimChecks: Get<u32>;

		/// Weights of the calls, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;

		/// Makes payer keys and signatures for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, Self::Signature>;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A payment channel's deposit, less what was paid from it.
		#[codec(index = 0)]
		ChannelDeposit,
	}

	/// The id the next channel gets. Ids are never reused.
	#[pallet::storage]
	pub type NextChannelId<T> = StorageValue<_, ChannelId, ValueQuery>;

	/// Every open or closing channel. Twox64Concat: ids are allocated in order by the pallet.
	#[pallet::storage]
	pub type Channels<T: Config> = StorageMap<_, Twox64Concat, ChannelId, ChannelOf<T>>;

	/// Each payer's channels, in opening order (bounded: the payer chooses how many).
	#[pallet::storage]
	pub type ChannelsByPayer<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<ChannelId, T::MaxChannelsPerPayer>,
		ValueQuery,
	>;

	/// What each lane of a channel was paid so far. Twox64Concat for the channel (allocated in
	/// order by the pallet), Blake2_128Concat for the lane (an account the payer chooses).
	#[pallet::storage]
	pub type LanePaid<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		ChannelId,
		Blake2_128Concat,
		T::AccountId,
		BalanceOf<T>,
		ValueQuery,
	>;

	/// The block of each channel's last authorized (free) claim.
	#[pallet::storage]
	pub type LastAuthorizedClaim<T: Config> =
		StorageMap<_, Twox64Concat, ChannelId, BlockNumberFor<T>>;

	/// How many authorized claims the block numbered here included (a count for an earlier
	/// block is zero for this one).
	#[pallet::storage]
	pub type AuthorizedClaimsInBlock<T: Config> =
		StorageValue<_, (BlockNumberFor<T>, u32), ValueQuery>;

	/// Each payee's channels. A map, not a list: others open channels to a payee, so no bound
	/// on them may stop anyone from paying.
	#[pallet::storage]
	pub type ChannelsByPayee<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, ChannelId, ()>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A channel was opened and its deposit held from the payer.
		ChannelOpened {
			channel_id: ChannelId,
			payer: T::AccountId,
			payee: T::AccountId,
			stream_id: Option<StreamId>,
			deposit: BalanceOf<T>,
		},
		/// The payer added `amount`; the deposit is now `deposit`.
		ChannelToppedUp { channel_id: ChannelId, amount: BalanceOf<T>, deposit: BalanceOf<T> },
		/// A voucher on `lane` was settled: `amount` was paid to the payee, `lane_paid` on the
		/// lane and `total_paid` from the channel in all.
		Claimed {
			channel_id: ChannelId,
			lane: T::AccountId,
			payee: T::AccountId,
			amount: BalanceOf<T>,
			lane_paid: BalanceOf<T>,
			total_paid: BalanceOf<T>,
		},
		/// The payer asked to close; the payee may claim through block `closes_at`.
		CloseRequested { channel_id: ChannelId, closes_at: BlockNumberFor<T> },
		/// The channel is gone: the payee was paid `paid` in all, the payer got `refunded` back.
		ChannelClosed {
			channel_id: ChannelId,
			payer: T::AccountId,
			payee: T::AccountId,
			paid: BalanceOf<T>,
			refunded: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No open channel has this id (it never existed or has been closed).
		UnknownChannel,
		/// Only the channel's payer may do this.
		NotPayer,
		/// Only the channel's payee may do this.
		NotPayee,
		/// Neither the channel's payer nor its payee.
		NotParticipant,
		/// A channel to yourself pays nothing; choose another payee.
		SelfChannel,
		/// The deposit is below `MinDeposit`; deposit more.
		DepositTooLow,
		/// Top up by more than zero.
		ZeroAmount,
		/// The account cannot hold this much (free balance, less what must stay, is too low).
		InsufficientBalance,
		/// The payer already has `MaxChannelsPerPayer` channels; close one first.
		TooManyChannels,
		/// The channel is closing: it cannot be topped up or closed again.
		ChannelClosing,
		/// The channel is open and active: the payer must `close` it first (or wait for the
		/// inactivity period).
		NotClosing,
		/// The challenge period has not ended; wait until after block `closes_at`.
		ChallengePeriodActive,
		/// The voucher's signature is not the channel payer's over this voucher on this chain.
		BadSignature,
		/// The voucher is not newer than what its lane was paid (its amount must be above).
		NotNewer,
		/// The voucher's amount is more than the channel's deposit.
		ExceedsDeposit,
		/// The deposit is used up by what the channel's lanes were paid; the payer must top up.
		DepositExhausted,
		/// The channel already has `MaxLanesPerChannel` lanes; settle on one of them.
		TooManyLanes,
		/// A voucher that opens a lane must pay at least `MinAuthorizedClaim` (so filling a
		/// channel's lanes to lock a node out costs real money); settle a larger voucher.
		NewLaneTooSmall,
		/// The payee's account cannot receive this amount (a new account needs at least the
		/// existential deposit); settle a larger voucher.
		PayeeCannotReceive,
		/// The deposit would overflow the balance type.
		Overflow,
		/// Channel ids are exhausted.
		NoMoreChannelIds,
	}

	impl<T> From<VoucherError> for Error<T> {
		fn from(error: VoucherError) -> Self {
			match error {
				VoucherError::UnknownChannel => Error::UnknownChannel,
				VoucherError::BadSignature => Error::BadSignature,
				VoucherError::NotNewer => Error::NotNewer,
				VoucherError::ExceedsDeposit => Error::ExceedsDeposit,
				VoucherError::DepositExhausted => Error::DepositExhausted,
				VoucherError::TooManyLanes => Error::TooManyLanes,
				VoucherError::NewLaneTooSmall => Error::NewLaneTooSmall,
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(!T::MinDeposit::get().is_zero(), "MinDeposit must be positive");
			assert!(!T::ChallengePeriod::get().is_zero(), "ChallengePeriod must be positive");
			assert!(
				T::InactivityPeriod::get() > T::ChallengePeriod::get(),
				"InactivityPeriod must be longer than ChallengePeriod"
			);
			assert!(T::MaxChannelsPerPayer::get() > 0, "MaxChannelsPerPayer must allow a channel");
			assert!(T::MaxLanesPerChannel::get() > 0, "MaxLanesPerChannel must allow a lane");
			assert!(
				!T::MinAuthorizedClaim::get().is_zero(),
				"MinAuthorizedClaim must be positive, or free claims can fill blocks"
			);
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			// Offchain workers of consecutive blocks may overlap; one claims at a time.
			let mut lock = StorageLock::<Time>::with_deadline(
				OFFCHAIN_LOCK_KEY,
				Duration::from_millis(OFFCHAIN_LOCK_MILLIS),
			);
			let Ok(_guard) = lock.try_lock() else {
				log::debug!(target: LOG_TARGET, "another offchain worker is claiming");
				return;
			};
			let (_, submitted) = Self::submit_claims(now);
			if submitted > 0 {
				log::info!(target: LOG_TARGET, "submitted {submitted} voucher claim(s)");
			}
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Opens a channel from the caller to `payee` and holds `deposit` from the caller.
		///
		/// - origin: signed, the payer.
		/// - `stream_id`: the stream the channel pays for, or `None` for any of the payee's.
		///
		/// Errors: `SelfChannel`, `DepositTooLow`, `TooManyChannels`, `InsufficientBalance`,
		/// `NoMoreChannelIds`.
		///
		/// Emits `ChannelOpened`.
		#[pallet::call_index(0)]
		pub fn open_channel(
			origin: OriginFor<T>,
			payee: AccountIdLookupOf<T>,
			stream_id: Option<StreamId>,
			deposit: BalanceOf<T>,
		) -> DispatchResult {
			let payer = ensure_signed(origin)?;
			let payee = T::Lookup::lookup(payee)?;
			ensure!(payer != payee, Error::<T>::SelfChannel);
			ensure!(deposit >= T::MinDeposit::get(), Error::<T>::DepositTooLow);
			let channel_id = NextChannelId::<T>::get();
			let next = channel_id.checked_add(1).ok_or(Error::<T>::NoMoreChannelIds)?;
			let mut index = ChannelsByPayer::<T>::get(&payer);
			index.try_push(channel_id).map_err(|_| Error::<T>::TooManyChannels)?;
			T::Currency::hold(&HoldReason::ChannelDeposit.into(), &payer, deposit)
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			let now = frame_system::Pallet::<T>::block_number();
			let channel = Channel {
				payer: payer.clone(),
				payee: payee.clone(),
				stream_id,
				deposit,
				paid: Zero::zero(),
				lanes: 0,
				opened_at: now,
				last_activity: now,
				closes_at: None,
			};
			Channels::<T>::insert(channel_id, channel);
			ChannelsByPayer::<T>::insert(&payer, index);
			ChannelsByPayee::<T>::insert(&payee, channel_id, ());
			NextChannelId::<T>::put(next);
			Self::deposit_event(Event::ChannelOpened {
				channel_id,
				payer,
				payee,
				stream_id,
				deposit,
			});
			Ok(())
		}

		/// Adds `amount` to an open channel's deposit.
		///
		/// - origin: signed, the channel's payer.
		///
		/// Errors: `UnknownChannel`, `NotPayer`, `ChannelClosing`, `ZeroAmount`, `Overflow`,
		/// `InsufficientBalance`.
		///
		/// Emits `ChannelToppedUp`.
		#[pallet::call_index(1)]
		pub fn top_up(
			origin: OriginFor<T>,
			channel_id: ChannelId,
			amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut channel = Channels::<T>::get(channel_id).ok_or(Error::<T>::UnknownChannel)?;
			ensure!(channel.payer == who, Error::<T>::NotPayer);
			ensure!(!channel.is_closing(), Error::<T>::ChannelClosing);
			ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
			channel.deposit = channel.deposit.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
			T::Currency::hold(&HoldReason::ChannelDeposit.into(), &who, amount)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			channel.last_activity = frame_system::Pallet::<T>::block_number();
			let deposit = channel.deposit;
			Channels::<T>::insert(channel_id, channel);
			Self::deposit_event(Event::ChannelToppedUp { channel_id, amount, deposit });
			Ok(())
		}

		/// Settles a voucher: pays the payee `voucher.cumulative_amount` less what the voucher's
		/// lane was paid, from the payer's deposit, but no more than is left of it (the rest of
		/// the voucher stays claimable after a top-up).
		///
		/// - origin: signed by anyone (who pays the fee), or an authorized transaction (no
		///   account, no fee; see the crate docs) when the amount due is at least
		///   `MinAuthorizedClaim` or the channel is closing.
		///
		/// Errors: `UnknownChannel`, `NotNewer` (this or a newer voucher was settled on the
		/// lane), `ExceedsDeposit`, `DepositExhausted`, `TooManyLanes`, `NewLaneTooSmall`,
		/// `BadSignature`, `PayeeCannotReceive`.
		///
		/// Emits `Claimed`.
		#[pallet::call_index(2)]
		#[pallet::authorize(Self::authorize_claim)]
		// The benchmarked claim, plus what a free claim keeps for its bounds: this block's count
		// (read, written) and the channel's last free claim (written); its authorization reads
		// both.
		#[pallet::weight(
			T::WeightInfo::claim().saturating_add(T::DbWeight::get().reads_writes(1, 2))
		)]
		#[pallet::weight_of_authorize(
			T::WeightInfo::authorize_claim().saturating_add(T::DbWeight::get().reads(2))
		)]
		pub fn claim(
			origin: OriginFor<T>,
			voucher: VoucherOf<T>,
			signature: T::Signature,
		) -> DispatchResult {
			let origin: Result<frame_system::RawOrigin<T::AccountId>, OriginFor<T>> = origin.into();
			let free = match origin {
				Ok(frame_system::RawOrigin::Signed(_)) => false,
				Ok(frame_system::RawOrigin::Authorized) => true,
				_ => return Err(DispatchError::BadOrigin),
			};
			let (channel, due) =
				Self::validate_voucher(&voucher, &signature).map_err(Error::<T>::from)?;
			if free {
				let now = frame_system::Pallet::<T>::block_number();
				LastAuthorizedClaim::<T>::insert(voucher.channel_id, now);
				AuthorizedClaimsInBlock::<T>::put((now, Self::authorized_claims_in(now) + 1));
			}
			Self::pay(voucher, channel, due)
		}

		/// Asks to close a channel.
		///
		/// - origin: signed, the payer or the payee. The payer starts the challenge period
		///   (`ChallengePeriod` blocks) during which the payee can still claim, then
		///   `finalize_close` refunds the rest. The payee closes at once, refunding the rest of
		///   the deposit to the payer now (to be paid first, use `settle_and_close`).
		///
		/// Errors: `UnknownChannel`, `NotParticipant`, `ChannelClosing` (the payer already
		/// asked).
		///
		/// Emits `CloseRequested` (payer) or `ChannelClosed` (payee).
		#[pallet::call_index(3)]
		pub fn close(origin: OriginFor<T>, channel_id: ChannelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut channel = Channels::<T>::get(channel_id).ok_or(Error::<T>::UnknownChannel)?;
			if who == channel.payee {
				return Self::do_close(channel_id, channel);
			}
			ensure!(who == channel.payer, Error::<T>::NotParticipant);
			ensure!(!channel.is_closing(), Error::<T>::ChannelClosing);
			let closes_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::ChallengePeriod::get());
			channel.closes_at = Some(closes_at);
			Channels::<T>::insert(channel_id, channel);
			Self::deposit_event(Event::CloseRequested { channel_id, closes_at });
			Ok(())
		}

		/// Closes a channel whose challenge period is over, or that has been inactive (no
		/// top-up or claim) for `InactivityPeriod` blocks: returns the rest of the deposit to
		/// the payer and removes the channel.
		///
		/// - origin: signed, anyone (it only returns the payer's own funds).
		///
		/// Errors: `UnknownChannel`, `ChallengePeriodActive`, `NotClosing`.
		///
		/// Emits `ChannelClosed`.
		#[pallet::call_index(4)]
		pub fn finalize_close(origin: OriginFor<T>, channel_id: ChannelId) -> DispatchResult {
			ensure_signed(origin)?;
			let channel = Channels::<T>::get(channel_id).ok_or(Error::<T>::UnknownChannel)?;
			let now = frame_system::Pallet::<T>::block_number();
			match channel.closes_at {
				Some(closes_at) => ensure!(now > closes_at, Error::<T>::ChallengePeriodActive),
				None => ensure!(
					now > channel.last_activity.saturating_add(T::InactivityPeriod::get()),
					Error::<T>::NotClosing
				),
			}
			Self::do_close(channel_id, channel)
		}

		/// The payee settles its best voucher and closes the channel at once, refunding the
		/// rest of the deposit to the payer. A voucher that is not newer than the last settled
		/// one pays nothing but still closes.
		///
		/// - origin: signed, the channel's payee.
		///
		/// Errors: `UnknownChannel`, `NotPayee`, `ExceedsDeposit`, `TooManyLanes`,
		/// `BadSignature`, `PayeeCannotReceive`.
		///
		/// Emits `Claimed` (if anything was due) and `ChannelClosed`.
		#[pallet::call_index(5)]
		pub fn settle_and_close(
			origin: OriginFor<T>,
			voucher: VoucherOf<T>,
			signature: T::Signature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let channel_id = voucher.channel_id;
			let channel = Channels::<T>::get(channel_id).ok_or(Error::<T>::UnknownChannel)?;
			ensure!(channel.payee == who, Error::<T>::NotPayee);
			let channel = match Self::validate_voucher(&voucher, &signature) {
				Ok((channel, due)) => {
					Self::pay(voucher, channel, due)?;
					Channels::<T>::get(channel_id).ok_or(Error::<T>::UnknownChannel)?
				},
				Err(VoucherError::NotNewer | VoucherError::DepositExhausted) => channel,
				Err(error) => return Err(Error::<T>::from(error).into()),
			};
			Self::do_close(channel_id, channel)
		}
	}
}

/// How long the offchain worker's claim lock lasts at most.
const OFFCHAIN_LOCK_MILLIS: u64 = 20_000;

impl<T: Config> Pallet<T> {
	/// The bytes a payer signs for `voucher` on this chain.
	pub fn voucher_payload(voucher: &VoucherOf<T>) -> Vec<u8> {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		sutantra_payments_primitives::voucher_payload(genesis.as_ref(), voucher)
	}

	/// What settling `voucher` would pay now, or why it cannot be settled.
	pub fn check_voucher(
		voucher: &VoucherOf<T>,
		signature: &T::Signature,
	) -> Result<BalanceOf<T>, VoucherError> {
		Self::validate_voucher(voucher, signature).map(|(_, due)| due)
	}

	/// A channel, if it is open or closing.
	pub fn channel(channel_id: ChannelId) -> Option<ChannelOf<T>> {
		Channels::<T>::get(channel_id)
	}

	/// What `lane` of `channel_id` was paid so far.
	pub fn lane_paid(channel_id: ChannelId, lane: &T::AccountId) -> BalanceOf<T> {
		LanePaid::<T>::get(channel_id, lane)
	}

	/// The channels `account` pays into or is paid from, by id.
	pub fn channels_of(account: &T::AccountId) -> Vec<(ChannelId, ChannelOf<T>)> {
		let mut ids: Vec<ChannelId> = ChannelsByPayer::<T>::get(account).into_inner();
		ids.extend(ChannelsByPayee::<T>::iter_key_prefix(account));
		ids.sort_unstable();
		ids.dedup();
		ids.into_iter()
			.filter_map(|id| Channels::<T>::get(id).map(|channel| (id, channel)))
			.collect()
	}

	/// Checks a voucher against its channel: above what its lane was paid, within the deposit,
	/// on a lane the channel can take, signed by the payer on this chain. Returns the channel and
	/// the amount due: the voucher's increase on its lane, at most what is left of the deposit.
	fn validate_voucher(
		voucher: &VoucherOf<T>,
		signature: &T::Signature,
	) -> Result<(ChannelOf<T>, BalanceOf<T>), VoucherError> {
		let channel = Channels::<T>::get(voucher.channel_id).ok_or(VoucherError::UnknownChannel)?;
		let lane_paid = LanePaid::<T>::get(voucher.channel_id, &voucher.lane);
		if voucher.cumulative_amount <= lane_paid {
			return Err(VoucherError::NotNewer);
		}
		if voucher.cumulative_amount > channel.deposit {
			return Err(VoucherError::ExceedsDeposit);
		}
		if channel.remaining().is_zero() {
			return Err(VoucherError::DepositExhausted);
		}
		let new_lane = !LanePaid::<T>::contains_key(voucher.channel_id, &voucher.lane);
		if new_lane && channel.lanes >= T::MaxLanesPerChannel::get() {
			return Err(VoucherError::TooManyLanes);
		}
		if !signature.verify(&Self::voucher_payload(voucher)[..], &channel.payer) {
			return Err(VoucherError::BadSignature);
		}
		let due = voucher.cumulative_amount.saturating_sub(lane_paid).min(channel.remaining());
		if new_lane && due < T::MinAuthorizedClaim::get() {
			return Err(VoucherError::NewLaneTooSmall);
		}
		Ok((channel, due))
	}

	/// The transaction-pool check of an authorized `claim`: a valid voucher, worth a free
	/// transaction. One claim per channel is in the pool at a time.
	fn authorize_claim(
		_source: TransactionSource,
		voucher: &VoucherOf<T>,
		signature: &T::Signature,
	) -> TransactionValidityWithRefund {
		let (channel, due) = Self::validate_voucher(voucher, signature).map_err(|error| {
			TransactionValidityError::Invalid(match error {
				VoucherError::UnknownChannel => {
					InvalidTransaction::Custom(invalid::UNKNOWN_CHANNEL)
				},
				VoucherError::BadSignature => InvalidTransaction::BadProof,
				VoucherError::NotNewer => InvalidTransaction::Stale,
				VoucherError::ExceedsDeposit => {
					InvalidTransaction::Custom(invalid::EXCEEDS_DEPOSIT)
				},
				VoucherError::DepositExhausted => {
					InvalidTransaction::Custom(invalid::DEPOSIT_EXHAUSTED)
				},
				VoucherError::TooManyLanes => InvalidTransaction::Custom(invalid::TOO_MANY_LANES),
				VoucherError::NewLaneTooSmall => {
					InvalidTransaction::Custom(invalid::NEW_LANE_TOO_SMALL)
				},
			})
		})?;
		if due < T::MinAuthorizedClaim::get() && !channel.is_closing() {
			return Err(InvalidTransaction::Custom(invalid::CLAIM_TOO_SMALL).into());
		}
		let now = frame_system::Pallet::<T>::block_number();
		if Self::claimed_too_recently(voucher.channel_id, now) {
			return Err(InvalidTransaction::Custom(invalid::CLAIM_TOO_SOON).into());
		}
		// A free claim that would fail when dispatched would still take a place in the block
		// (and its failure would undo its own count): only one that pays is valid.
		if T::Currency::can_deposit(&channel.payee, due, Provenance::Extant) !=
			DepositConsequence::Success
		{
			return Err(InvalidTransaction::Custom(invalid::PAYEE_CANNOT_RECEIVE).into());
		}
		if Self::authorized_claims_in(now) >= T::MaxAuthorizedClaimsPerBlock::get() {
			// This block has its share of free claims: the claim waits for the next one.
			return Err(InvalidTransaction::ExhaustsResources.into());
		}
		let validity = ValidTransaction::with_tag_prefix("SutantraPaymentsClaim")
			.priority(T::ClaimPriority::get())
			.and_provides((voucher.channel_id, &voucher.lane))
			.longevity(64)
			.propagate(true)
			.build()?;
		Ok((validity, Weight::zero()))
	}

	/// How many authorized claims block `now` included so far.
	fn authorized_claims_in(now: BlockNumberFor<T>) -> u32 {
		match AuthorizedClaimsInBlock::<T>::get() {
			(block, count) if block == now => count,
			_ => 0,
		}
	}

	/// Whether channel `channel_id` had an authorized claim less than `AuthorizedClaimGap`
	/// blocks before `now`.
	fn claimed_too_recently(channel_id: ChannelId, now: BlockNumberFor<T>) -> bool {
		LastAuthorizedClaim::<T>::get(channel_id)
			.is_some_and(|last| now < last.saturating_add(T::AuthorizedClaimGap::get()))
	}

	/// Pays `due` to the payee and adds it to what the voucher's lane and the channel were paid.
	fn pay(
		voucher: VoucherOf<T>,
		mut channel: ChannelOf<T>,
		due: BalanceOf<T>,
	) -> frame_support::dispatch::DispatchResult {
		T::Currency::transfer_on_hold(
			&HoldReason::ChannelDeposit.into(),
			&channel.payer,
			&channel.payee,
			due,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		)
		.map_err(|_| Error::<T>::PayeeCannotReceive)?;
		let channel_id = voucher.channel_id;
		if !LanePaid::<T>::contains_key(channel_id, &voucher.lane) {
			channel.lanes = channel.lanes.saturating_add(1);
		}
		let lane_paid = LanePaid::<T>::get(channel_id, &voucher.lane).saturating_add(due);
		LanePaid::<T>::insert(channel_id, &voucher.lane, lane_paid);
		channel.paid = channel.paid.saturating_add(due);
		channel.last_activity = frame_system::Pallet::<T>::block_number();
		let payee = channel.payee.clone();
		let total_paid = channel.paid;
		Channels::<T>::insert(channel_id, channel);
		Self::deposit_event(Event::Claimed {
			channel_id,
			lane: voucher.lane,
			payee,
			amount: due,
			lane_paid,
			total_paid,
		});
		Ok(())
	}

	/// Refunds what is left to the payer and removes the channel.
	fn do_close(
		channel_id: ChannelId,
		channel: ChannelOf<T>,
	) -> frame_support::dispatch::DispatchResult {
		let refunded = T::Currency::release(
			&HoldReason::ChannelDeposit.into(),
			&channel.payer,
			channel.remaining(),
			Precision::BestEffort,
		)?;
		Channels::<T>::remove(channel_id);
		LastAuthorizedClaim::<T>::remove(channel_id);
		let _ = LanePaid::<T>::clear_prefix(channel_id, channel.lanes.saturating_add(1), None);
		let mut ids = ChannelsByPayer::<T>::get(&channel.payer);
		ids.retain(|id| *id != channel_id);
		if ids.is_empty() {
			ChannelsByPayer::<T>::remove(&channel.payer);
		} else {
			ChannelsByPayer::<T>::insert(&channel.payer, ids);
		}
		ChannelsByPayee::<T>::remove(&channel.payee, channel_id);
		log::debug!(target: LOG_TARGET, "channel {channel_id} closed, {refunded:?} refunded");
		Self::deposit_event(Event::ChannelClosed {
			channel_id,
			payer: channel.payer,
			payee: channel.payee,
			paid: channel.paid,
			refunded,
		});
		Ok(())
	}

	/// Offchain worker: visits at most `MaxOffchainClaimChecks` of the channels the node lists
	/// as pending, from where the previous block stopped, and submits an authorized `claim` for
	/// each stored voucher worth claiming that was not just submitted. Returns how many channels
	/// it visited and how many claims it submitted.
	pub fn submit_claims(now: BlockNumberFor<T>) -> (u32, u32) {
		let pending = match StorageValueRef::persistent(OFFCHAIN_PENDING_KEY).get::<Vec<ChannelId>>() {
			Ok(Some(pending)) => pending,
			Ok(None) => return (0, 0),
			Err(StorageRetrievalError::Undecodable) => {
				log::warn!(target: LOG_TARGET, "the node's list of pending channels cannot be decoded");
				return (0, 0);
			},
		};
		if pending.is_empty() {
			return (0, 0);
		}
		let cursor = StorageValueRef::persistent(OFFCHAIN_CURSOR_KEY);
		let next: ChannelId = cursor.get().ok().flatten().unwrap_or(0);
		// Round robin over the (ascending) list, starting at the first channel not below `next`.
		let start = pending.partition_point(|id| *id < next);
		let visits = (T::MaxOffchainClaimChecks::get() as usize).min(pending.len());
		let (mut visited, mut submitted) = (0, 0);
		for channel_id in pending.iter().cycle().skip(start).take(visits).copied() {
			visited += 1;
			if Self::submit_claim(channel_id, now) {
				submitted += 1;
			}
		}
		let after = pending[(start + visits) % pending.len()];
		cursor.set(&after);
		(visited, submitted)
	}

	/// Submits the claim of the voucher the node stored for `channel_id`, if it is due.
	fn submit_claim(channel_id: ChannelId, now: BlockNumberFor<T>) -> bool {
		let Some(channel) = Channels::<T>::get(channel_id) else { return false };
		let key = sutantra_payments_primitives::offchain_voucher_key(channel_id);
		let stored = StorageValueRef::persistent(&key);
		let signed = match stored.get::<SignedVoucher<T::AccountId, BalanceOf<T>, T::Signature>>() {
			Ok(Some(signed)) => signed,
			Ok(None) => return false,
			Err(StorageRetrievalError::Undecodable) => {
				log::warn!(
					target: LOG_TARGET,
					"the stored voucher of channel {channel_id} cannot be decoded; skipped"
				);
				return false;
			},
		};
		let voucher = signed.voucher;
		let amount = voucher.cumulative_amount;
		if voucher.channel_id != channel_id {
			log::warn!(target: LOG_TARGET, "the voucher stored for channel {channel_id} names another channel");
			return false;
		}
		let due = match Self::validate_voucher(&voucher, &signed.signature) {
			Ok((_, due)) => due,
			Err(VoucherError::NotNewer) => return false,
			Err(error) => {
				log::warn!(
					target: LOG_TARGET,
					"the voucher stored for channel {channel_id} cannot be claimed: {}",
					error.describe()
				);
				return false;
			},
		};
		if due < T::MinAuthorizedClaim::get() && !channel.is_closing() {
			return false;
		}
		// The claim would be included in the next block at the earliest.
		if Self::claimed_too_recently(channel_id, now.saturating_add(One::one())) {
			return false;
		}
		let record_key = claim_record_key(channel_id);
		let record = StorageValueRef::persistent(&record_key);
		let retry = T::ClaimRetryBlocks::get();
		let noted = record.mutate(
			|last: Result<Option<(BalanceOf<T>, BlockNumberFor<T>)>, StorageRetrievalError>| {
				match last {
					Ok(Some((claimed, at))) if claimed >= amount && now < at.saturating_add(retry) => {
						Err(())
					},
					_ => Ok((amount, now)),
				}
			},
		);
		match noted {
			Ok(_) => {},
			Err(MutateStorageError::ValueFunctionFailed(())) => return false,
			Err(MutateStorageError::ConcurrentModification(_)) => return false,
		}
		let call = Call::<T>::claim { voucher, signature: signed.signature };
		let xt = T::create_authorized_transaction(call.into());
		match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
			Ok(()) => true,
			Err(()) => {
				log::warn!(
					target: LOG_TARGET,
					"the transaction pool refused the claim of channel {channel_id} (amount {amount:?})"
				);
				false
			},
		}
	}

	/// Checks the pallet's storage invariants (see the crate docs).
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::ensure;

		let next_id = NextChannelId::<T>::get();
		let mut owed: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (id, channel) in Channels::<T>::iter() {
			ensure!(id < next_id, "a channel id is not below NextChannelId");
			ensure!(channel.paid <= channel.deposit, "a channel paid out more than its deposit");
			let (mut lanes, mut lanes_paid) = (0u32, BalanceOf::<T>::zero());
			for paid in LanePaid::<T>::iter_prefix_values(id) {
				lanes += 1;
				lanes_paid = lanes_paid.saturating_add(paid);
			}
			ensure!(lanes == channel.lanes, "a channel's lane count is wrong");
			ensure!(lanes <= T::MaxLanesPerChannel::get(), "a channel has too many lanes");
			ensure!(lanes_paid == channel.paid, "a channel's lanes were not paid its paid");
			let listed = ChannelsByPayer::<T>::get(&channel.payer);
			ensure!(
				listed.iter().filter(|listed| **listed == id).count() == 1,
				"a channel is not listed exactly once in its payer's index"
			);
			ensure!(
				ChannelsByPayee::<T>::contains_key(&channel.payee, id),
				"a channel is missing from its payee's index"
			);
			let total = owed.entry(channel.payer.clone()).or_default();
			*total = total.saturating_add(channel.remaining());
		}
		for (payer, ids) in ChannelsByPayer::<T>::iter() {
			ensure!(!ids.is_empty(), "an empty payer index is stored");
			for id in ids.iter() {
				let channel =
					Channels::<T>::get(id).ok_or("a payer's index names a missing channel")?;
				ensure!(channel.payer == payer, "a payer's index names another's channel");
			}
		}
		for id in LanePaid::<T>::iter_keys().map(|(id, _)| id) {
			ensure!(Channels::<T>::contains_key(id), "a closed channel's lanes are still stored");
		}
		for (payee, id, ()) in ChannelsByPayee::<T>::iter() {
			let channel =
				Channels::<T>::get(id).ok_or("a payee's index names a missing channel")?;
			ensure!(channel.payee == payee, "a payee's index names another's channel");
		}
		let reason = HoldReason::ChannelDeposit.into();
		for account in frame_system::Account::<T>::iter_keys() {
			let held = T::Currency::balance_on_hold(&reason, &account);
			let expected = owed.get(&account).copied().unwrap_or_else(Zero::zero);
			ensure!(
				held == expected,
				"held funds differ from Σ (deposit − paid) of the payer's channels"
			);
		}
		Ok(())
	}
}

impl<T: Config> pallet_streams::ChannelAccess<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn has_funded_channel(
		stream: StreamId,
		viewer: &T::AccountId,
		creator: &T::AccountId,
		price_per_second: BalanceOf<T>,
	) -> bool {
		let needed = price_per_second.saturating_mul(T::AccessGraceSeconds::get().into());
		ChannelsByPayer::<T>::get(viewer).iter().filter_map(Channels::<T>::get).any(
			|channel| {
				channel.payee == *creator
					&& !channel.is_closing()
					&& channel.stream_id.is_none_or(|id| id == stream)
					&& channel.remaining() >= needed
			},
		)
	}
}

/// Benchmark payers whose keys live in the keystore the benchmarking host provides, signing the
/// wallet-wrapped form of a payload (the form that costs two signature checks to accept).
#[cfg(feature = "runtime-benchmarks")]
pub struct KeystoreBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl BenchmarkHelper<sp_runtime::AccountId32, VoucherSignature> for KeystoreBenchmarkHelper {
	fn payer(seed: u32) -> sp_runtime::AccountId32 {
		let phrase = alloc::format!("//sutantra-benchmark-payer-{seed}");
		let public = sp_io::crypto::sr25519_generate(BENCHMARK_KEY_TYPE, Some(phrase.into_bytes()));
		sp_runtime::AccountId32::new(public.0)
	}

	fn sign(payer: &sp_runtime::AccountId32, message: &[u8]) -> VoucherSignature {
		use sutantra_payments_primitives::{WRAP_PREFIX, WRAP_SUFFIX};
		let public = sp_core::sr25519::Public::from_raw(*payer.as_ref());
		let wrapped = [WRAP_PREFIX, message, WRAP_SUFFIX].concat();
		let signature = sp_io::crypto::sr25519_sign(BENCHMARK_KEY_TYPE, &public, &wrapped)
			.expect("benchmark payers are generated in the keystore by `payer`");
		VoucherSignature(signature)
	}
}

#[cfg(feature = "runtime-benchmarks")]
const BENCHMARK_KEY_TYPE: sp_runtime::KeyTypeId = sp_runtime::KeyTypeId(*b"sbpy");
