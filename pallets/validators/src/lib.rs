//! # Validators pallet
//!
//! Who produces and finalises Sutantra's blocks, and what they earn and risk. The set is open to
//! anyone who bonds stake; it is chosen by `pallet-collator-selection` (invulnerables from
//! genesis, plus the candidates with the largest bonds) and rotated by `pallet-session`. This
//! pallet joins the two and adds what a standalone proof-of-stake chain needs on top:
//!
//! - **Session length** ([`SessionLength`]): a session ends when this many blocks have passed
//!   since it started ([`Pallet`] is the session pallet's `ShouldEndSession` and
//!   `NextSessionRotation`). The genesis preset chooses it (a few blocks on a dev chain, a minute
//!   on the local testnet); [`Pallet::set_session_length`] changes it, from the current session.
//! - **The session manager** ([`Pallet`] implements `pallet_session::SessionManager` and its
//!   historical variant, with `()` as the full identification): it asks collator selection for
//!   the next set, drops accounts without session keys, keeps the current set when the answer is
//!   empty or unchanged (so GRANDPA changes its authority set only when the set really changes),
//!   and prunes historical session roots older than [`Config::KeepHistoricalSessions`]. At
//!   genesis, when no invulnerables are configured but session keys are (a chain spec whose
//!   tooling set only session keys), the key holders become the invulnerables.
//! - **Blocks authored** ([`AuthoredBlocks`], per session, kept for the current and the previous
//!   session) and a **block reward** ([`BlockReward`], minted to the author; zero mints nothing).
//!   Fees go to collator selection's pot, half of which it pays to each author.
//! - **Accountability** ([`Pallet`] is the offences pallet's `OnOffenceHandler`): an offender
//!   (e.g. a proven GRANDPA equivocation) loses `max(fraction, MinSlash)` of its candidacy bond
//!   (burnt), the rest is returned, it stops being a candidate, and the session pallet disables
//!   it at once (within the disabling strategy's limit). An invulnerable has no bond; it is
//!   removed from the invulnerables while enough eligible validators remain. An offender is
//!   punished once per session whatever the number of reports.
//!
//! ## Invariants (checked by `try_state`)
//!
//! - [`SessionLength`] is at least [`Config::MinSessionLength`], and the session started no later
//!   than now;
//! - every candidate's bond is reserved from its account;
//! - [`AuthoredBlocks`] holds nothing older than the previous session;
//! - every validator of the current session has session keys.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::marker::PhantomData;
use frame_support::{
	dispatch::DispatchClass,
	ensure,
	traits::{
		fungible::{Inspect, Mutate},
		Currency, EstimateNextSessionRotation, Get, ReservableCurrency,
	},
	weights::Weight,
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_collator_selection::{CandidateList, Invulnerables, LastAuthoredBlock};
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{Convert, Saturating, Zero},
	Perbill, Permill,
};
use sp_staking::{
	offence::{OffenceDetails, OffenceSeverity, OnOffenceHandler},
	SessionIndex,
};

const LOG_TARGET: &str = "runtime::validators";

type AccountIdOf<T> = <T as frame_system::Config>::AccountId;
/// The balance of a block reward.
pub type RewardOf<T> = <<T as Config>::RewardCurrency as Inspect<AccountIdOf<T>>>::Balance;
/// The balance of a candidacy bond.
pub type BondOf<T> =
	<<T as pallet_collator_selection::Config>::Currency as Currency<AccountIdOf<T>>>::Balance;

/// What an offender lost, and in which session it offended.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct SlashRecord<Bond> {
	/// The session of the offence.
	pub session: SessionIndex,
	/// The share of the bond taken (after the [`Config::MinSlash`] floor).
	pub fraction: Perbill,
	/// How much was burnt from the candidacy bond (zero for an invulnerable).
	pub amount: Bond,
}

/// Turns a validator into its full identification for historical session proofs. Validators
/// here are identified by their account alone, so the identification is `()`, for every account.
pub struct UnitIdentification;
impl<AccountId> Convert<AccountId, Option<()>> for UnitIdentification {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}

/// Collator selection's kick threshold: a candidate that authored nothing for three sessions is
/// removed (and its bond returned) at the next session change.
pub struct KickThreshold<T>(PhantomData<T>);
impl<T: Config> Get<BlockNumberFor<T>> for KickThreshold<T> {
	fn get() -> BlockNumberFor<T> {
		SessionLength::<T>::get().saturating_mul(3u32.into())
	}
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

	#[pallet::config]
	pub trait Config:
		frame_system::Config
		+ pallet_session::Config<ValidatorId = AccountIdOf<Self>>
		+ pallet_session::historical::Config<FullIdentification = ()>
		+ pallet_collator_selection::Config
		+ pallet_authorship::Config
	{
		/// The currency block rewards are minted in.
		type RewardCurrency: Mutate<Self::AccountId>;
		/// Who may change the session length and the block reward.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The least share of its bond an offender loses, whatever the offence's own fraction
		/// (GRANDPA's is `(3k/n)²`: 1/36 for one offender of six).
		#[pallet::constant]
		type MinSlash: Get<Perbill>;
		/// How many past sessions' validator sets stay provable (historical session roots). Must
		/// cover the sessions in which an offence can still be reported (GRANDPA's
		/// `MaxSetIdSessionEntries`).
		#[pallet::constant]
		type KeepHistoricalSessions: Get<SessionIndex>;
		/// The shortest session allowed.
		#[pallet::constant]
		type MinSessionLength: Get<BlockNumberFor<Self>>;
		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;
	}

	/// Blocks per session.
	#[pallet::storage]
	pub type SessionLength<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// The block the current session started at.
	#[pallet::storage]
	pub type SessionStart<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Minted to the author of every block.
	#[pallet::storage]
	pub type BlockReward<T: Config> = StorageValue<_, RewardOf<T>, ValueQuery>;

	/// Blocks authored per session and author; the current and the previous session only.
	#[pallet::storage]
	pub type AuthoredBlocks<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SessionIndex,
		Blake2_128Concat,
		T::AccountId,
		u32,
		ValueQuery,
	>;

	/// The last punishment of each offender.
	#[pallet::storage]
	pub type Slashes<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, SlashRecord<BondOf<T>>, OptionQuery>;

	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// Blocks per session (at least [`Config::MinSessionLength`]).
		pub session_length: BlockNumberFor<T>,
		/// Minted to each block's author.
		pub block_reward: RewardOf<T>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		/// Sessions of 600 blocks (an hour of six-second blocks), no block reward.
		fn default() -> Self {
			Self {
				session_length: T::MinSessionLength::get().max(600u32.into()),
				block_reward: Zero::zero(),
			}
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(
				self.session_length >= T::MinSessionLength::get(),
				"validators.sessionLength must be at least the runtime's MinSessionLength"
			);
			SessionLength::<T>::put(self.session_length);
			BlockReward::<T>::put(self.block_reward);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A block's author was rewarded.
		BlockRewarded { author: T::AccountId, amount: RewardOf<T> },
		/// An offender was punished: `amount` of its bond was burnt and it is no longer a
		/// candidate (or an invulnerable); the rest of its bond was returned.
		Slashed { who: T::AccountId, session: SessionIndex, fraction: Perbill, amount: BondOf<T> },
		/// The session length changed; it applies to the current session.
		SessionLengthSet { length: BlockNumberFor<T> },
		/// The block reward changed.
		BlockRewardSet { amount: RewardOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The session length is below the runtime's `MinSessionLength`; choose a longer one.
		SessionTooShort,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				!T::MinSessionLength::get().is_zero(),
				"MinSessionLength must be at least one block"
			);
			assert!(T::KeepHistoricalSessions::get() >= 1, "keep at least one historical session");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Sets the number of blocks per session. It applies to the current session: if it is
		/// already longer than `length`, it ends at the next block.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::set_session_length())]
		pub fn set_session_length(
			origin: OriginFor<T>,
			length: BlockNumberFor<T>,
		) -> DispatchResult {
			<T as Config>::AdminOrigin::ensure_origin(origin)?;
			ensure!(length >= T::MinSessionLength::get(), Error::<T>::SessionTooShort);
			SessionLength::<T>::put(length);
			Self::deposit_event(Event::SessionLengthSet { length });
			Ok(())
		}

		/// Sets the reward minted to each block's author (zero: none).
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::set_block_reward())]
		pub fn set_block_reward(origin: OriginFor<T>, amount: RewardOf<T>) -> DispatchResult {
			<T as Config>::AdminOrigin::ensure_origin(origin)?;
			BlockReward::<T>::put(amount);
			Self::deposit_event(Event::BlockRewardSet { amount });
			Ok(())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The block at which the current session ends (the first block of the next one).
	pub fn session_end() -> BlockNumberFor<T> {
		SessionStart::<T>::get().saturating_add(SessionLength::<T>::get())
	}

	/// Blocks `who` authored in `session` (the current or the previous one; older ones are
	/// forgotten).
	pub fn authored(session: SessionIndex, who: &T::AccountId) -> u32 {
		AuthoredBlocks::<T>::get(session, who)
	}

	/// The next validator set collator selection chose, without accounts that have no session
	/// keys; `None` to keep the current set (the choice is empty or the same).
	fn next_set(index: SessionIndex) -> Option<Vec<T::AccountId>> {
		let chosen =
			<pallet_collator_selection::Pallet<T> as pallet_session::SessionManager<_>>::new_session(
				index,
			)?;
		let next: Vec<_> = chosen
			.into_iter()
			.filter(|who| pallet_session::NextKeys::<T>::contains_key(who))
			.collect();
		if next.is_empty() {
			log::warn!(
				target: LOG_TARGET,
				"no validator with session keys for session {index}; keeping the current set"
			);
			return None;
		}
		let mut current = pallet_session::Validators::<T>::get();
		let mut sorted = next.clone();
		current.sort();
		sorted.sort();
		(sorted != current).then_some(next)
	}

	/// At genesis: with no invulnerables configured, those who hold session keys become the
	/// invulnerables (sorted, at most `MaxInvulnerables`).
	fn genesis_set(index: SessionIndex) -> Option<Vec<T::AccountId>> {
		if Invulnerables::<T>::get().is_empty() && CandidateList::<T>::get().is_empty() {
			let mut holders: Vec<_> = pallet_session::NextKeys::<T>::iter_keys().collect();
			holders.sort();
			holders.truncate(
				<T as pallet_collator_selection::Config>::MaxInvulnerables::get() as usize
			);
			if !holders.is_empty() {
				log::info!(
					target: LOG_TARGET,
					"no invulnerables in genesis: the {} session key holders become them",
					holders.len()
				);
				Invulnerables::<T>::put(BoundedVec::truncate_from(holders));
			}
		}
		let chosen =
			<pallet_collator_selection::Pallet<T> as pallet_session::SessionManager<_>>::new_session_genesis(
				index,
			)?;
		let next: Vec<_> = chosen
			.into_iter()
			.filter(|who| pallet_session::NextKeys::<T>::contains_key(who))
			.collect();
		(!next.is_empty()).then_some(next)
	}

	/// Punishes one offender for an offence in `session`; returns the storage reads and writes.
	fn punish(who: &T::AccountId, fraction: Perbill, session: SessionIndex) -> (u64, u64) {
		if Slashes::<T>::get(who).is_some_and(|last| last.session == session) {
			// Offences re-reports earlier offenders of the same kind and time slot.
			return (1, 0);
		}
		let fraction = fraction.max(T::MinSlash::get());
		let mut amount = BondOf::<T>::zero();
		let (mut reads, mut writes) = (3u64, 2u64);
		let mut candidates = CandidateList::<T>::get();
		if let Some(at) = candidates.iter().position(|c| &c.who == who) {
			let deposit = candidates.remove(at).deposit;
			let cut = fraction * deposit;
			type Bonds<T> = <T as pallet_collator_selection::Config>::Currency;
			let (burnt, _) = Bonds::<T>::slash_reserved(who, cut);
			amount = frame_support::traits::Imbalance::peek(&burnt);
			drop(burnt);
			Bonds::<T>::unreserve(who, deposit.saturating_sub(amount));
			CandidateList::<T>::put(candidates);
			LastAuthoredBlock::<T>::remove(who);
			writes += 4;
		} else {
			let mut invulnerables = Invulnerables::<T>::get();
			if let Some(at) = invulnerables.iter().position(|v| v == who) {
				let eligible = invulnerables.len().saturating_add(candidates.len());
				let min = <T as pallet_collator_selection::Config>::MinEligibleCollators::get();
				if eligible > min as usize {
					invulnerables.remove(at);
					Invulnerables::<T>::put(invulnerables);
					writes += 1;
				} else {
					log::warn!(
						target: LOG_TARGET,
						"offender {who:?} stays an invulnerable: the chain needs {min} validators"
					);
				}
			}
		}
		pallet_session::Pallet::<T>::report_offence(who.clone(), OffenceSeverity(fraction));
		Slashes::<T>::insert(who, SlashRecord { session, fraction, amount });
		Self::deposit_event(Event::Slashed { who: who.clone(), session, fraction, amount });
		reads += 2;
		writes += 2;
		(reads, writes)
	}

	/// Checks the invariants listed in the pallet's documentation.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(
			SessionLength::<T>::get() >= T::MinSessionLength::get(),
			"session length below the minimum"
		);
		ensure!(
			SessionStart::<T>::get() <= frame_system::Pallet::<T>::block_number(),
			"the session starts in the future"
		);
		type Bonds<T> = <T as pallet_collator_selection::Config>::Currency;
		for candidate in CandidateList::<T>::get() {
			ensure!(
				Bonds::<T>::reserved_balance(&candidate.who) >= candidate.deposit,
				"a candidate's bond is not reserved"
			);
		}
		let current = pallet_session::CurrentIndex::<T>::get();
		for session in AuthoredBlocks::<T>::iter_keys().map(|(session, _)| session) {
			ensure!(session.saturating_add(1) >= current, "authored blocks of a forgotten session");
		}
		for validator in pallet_session::Validators::<T>::get() {
			ensure!(
				pallet_session::NextKeys::<T>::contains_key(&validator),
				"a validator without session keys"
			);
		}
		Ok(())
	}
}

impl<T: Config> pallet_session::ShouldEndSession<BlockNumberFor<T>> for Pallet<T> {
	fn should_end_session(now: BlockNumberFor<T>) -> bool {
		now >= Self::session_end()
	}
}

impl<T: Config> EstimateNextSessionRotation<BlockNumberFor<T>> for Pallet<T> {
	fn average_session_length() -> BlockNumberFor<T> {
		SessionLength::<T>::get()
	}

	fn estimate_current_session_progress(now: BlockNumberFor<T>) -> (Option<Permill>, Weight) {
		let length = SessionLength::<T>::get();
		let done = now.saturating_sub(SessionStart::<T>::get()).saturating_add(1u32.into());
		let progress = if length.is_zero() {
			None
		} else {
			Some(Permill::from_rational(done.min(length), length))
		};
		(progress, T::DbWeight::get().reads(2))
	}

	fn estimate_next_session_rotation(
		now: BlockNumberFor<T>,
	) -> (Option<BlockNumberFor<T>>, Weight) {
		(Some(Self::session_end().max(now)), T::DbWeight::get().reads(2))
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(index: SessionIndex) -> Option<Vec<T::AccountId>> {
		Self::next_set(index)
	}

	fn new_session_genesis(index: SessionIndex) -> Option<Vec<T::AccountId>> {
		Self::genesis_set(index)
	}

	fn start_session(index: SessionIndex) {
		SessionStart::<T>::put(frame_system::Pallet::<T>::block_number());
		if let Some(forget) = index.checked_sub(2) {
			let _ = AuthoredBlocks::<T>::clear_prefix(forget, u32::MAX, None);
		}
		let keep = T::KeepHistoricalSessions::get();
		if index > keep {
			pallet_session::historical::Pallet::<T>::prune_up_to(index - keep);
		}
		<pallet_collator_selection::Pallet<T> as pallet_session::SessionManager<_>>::start_session(
			index,
		);
	}

	fn end_session(index: SessionIndex) {
		<pallet_collator_selection::Pallet<T> as pallet_session::SessionManager<_>>::end_session(
			index,
		);
	}
}

impl<T: Config> pallet_session::historical::SessionManager<T::AccountId, ()> for Pallet<T> {
	fn new_session(index: SessionIndex) -> Option<Vec<(T::AccountId, ())>> {
		Self::next_set(index).map(|set| set.into_iter().map(|who| (who, ())).collect())
	}

	fn new_session_genesis(index: SessionIndex) -> Option<Vec<(T::AccountId, ())>> {
		Self::genesis_set(index).map(|set| set.into_iter().map(|who| (who, ())).collect())
	}

	fn start_session(index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::start_session(index)
	}

	fn end_session(index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::end_session(index)
	}
}

impl<T: Config> pallet_authorship::EventHandler<T::AccountId, BlockNumberFor<T>> for Pallet<T> {
	fn note_author(author: T::AccountId) {
		let session = pallet_session::CurrentIndex::<T>::get();
		AuthoredBlocks::<T>::mutate(session, &author, |count| *count = count.saturating_add(1));
		let reward = BlockReward::<T>::get();
		if !reward.is_zero() {
			match T::RewardCurrency::mint_into(&author, reward) {
				Ok(amount) => Self::deposit_event(Event::BlockRewarded { author, amount }),
				Err(e) => log::warn!(
					target: LOG_TARGET,
					"block reward for {author:?} not minted: {e:?}"
				),
			}
		}
		frame_system::Pallet::<T>::register_extra_weight_unchecked(
			<T as Config>::WeightInfo::note_author(),
			DispatchClass::Mandatory,
		);
	}
}

impl<T: Config> OnOffenceHandler<T::AccountId, (T::AccountId, ()), Weight> for Pallet<T> {
	fn on_offence(
		offenders: &[OffenceDetails<T::AccountId, (T::AccountId, ())>],
		slash_fraction: &[Perbill],
		session: SessionIndex,
	) -> Weight {
		let (mut reads, mut writes) = (0u64, 0u64);
		for (details, fraction) in offenders.iter().zip(slash_fraction) {
			let (r, w) = Self::punish(&details.offender.0, *fraction, session);
			reads += r;
			writes += w;
		}
		T::DbWeight::get().reads_writes(reads, writes)
	}
}
