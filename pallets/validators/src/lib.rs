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
//!   on the local testnet), between [`Config::MinSessionLength`] and [`Config::MaxSessionLength`];
//!   [`Pallet::set_session_length`] changes it, from the current session.
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
//!   removed from the invulnerables unless it is the last one. An offender is punished once per
//!   reporting window ([`Config::KeepHistoricalSessions`]) whatever the number of reports.
//! - **Unbonding**: a bond given up ([`Pallet::leave`], a cut by [`Pallet::update_bond`], a
//!   candidate outbid through [`Pallet::take_candidate_slot`] or dropped for not authoring)
//!   stays reserved and slashable for [`Config::UnbondingSessions`] sessions, then
//!   [`Pallet::withdraw_unbonded`] returns it. The runtime closes collator selection's own
//!   calls that return a bond at once.
//! - **Keys stay while chosen**: [`Pallet::purge_keys`] removes an account's session keys only
//!   once it is out of the set (the runtime closes the session pallet's own `purge_keys`).
//!
//! ## Invariants (checked by `try_state`)
//!
//! - [`SessionLength`] is within its bounds, and the session started no later
//!   than now;
//! - every candidate's bond, and every bond still unbonding, is reserved from its account;
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
/// The currency candidacy bonds are reserved in.
type Bonds<T> = <T as pallet_collator_selection::Config>::Currency;

/// What an offender lost, and in which session it offended.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct SlashRecord<Bond> {
	/// The session of the offence.
	pub session: SessionIndex,
	/// The session in which it was punished.
	pub punished_in: SessionIndex,
	/// The share of the bond taken (after the [`Config::MinSlash`] floor).
	pub fraction: Perbill,
	/// How much was burnt from the candidacy bond (zero for an invulnerable).
	pub amount: Bond,
}

/// A bond on its way back to its owner: reserved (and slashable) until session `until`.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct UnbondingInfo<Bond> {
	pub amount: Bond,
	/// The first session in which it can be withdrawn.
	pub until: SessionIndex,
}

/// Where the current session stands.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct SessionStatus<BlockNumber> {
	/// The current session.
	pub index: SessionIndex,
	/// The block it started at.
	pub start: BlockNumber,
	/// Blocks per session.
	pub length: BlockNumber,
	/// The block that starts the next session.
	pub end: BlockNumber,
}

/// One account's place in the validator set, as `sutantra-node status` and apps show it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct ValidatorStatus<AccountId, Bond> {
	pub account: AccountId,
	/// A validator of the current session.
	pub active: bool,
	/// A validator of the next session.
	pub queued: bool,
	/// Chosen without a bond (from genesis or by the admin).
	pub invulnerable: bool,
	/// Its candidacy bond, while it is a candidate.
	pub bond: Option<Bond>,
	/// Its registered session keys (SCALE of the runtime's session keys), if any.
	pub keys: Option<Vec<u8>>,
	/// Blocks it authored in the current session and in the previous one.
	pub authored_this_session: u32,
	pub authored_last_session: u32,
	/// Disabled in the current session for an offence.
	pub disabled: bool,
	/// Its last punishment.
	pub last_slash: Option<SlashRecord<Bond>>,
	/// A bond it gave up that is still reserved, and from when it can be withdrawn.
	pub unbonding: Option<UnbondingInfo<Bond>>,
}

/// Turns a validator into its full identification for historical session proofs. Validators
/// here are identified by their account alone, so the identification is `()`, for every account.
pub struct UnitIdentification;
impl<AccountId> Convert<AccountId, Option<()>> for UnitIdentification {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}

/// Collator selection's kick threshold: a candidate that authored nothing for three of the
/// longest sessions is removed (and its bond returned) at the next session change. A constant
/// (metadata publishes it), so it follows [`Config::MaxSessionLength`], not the current length.
pub struct KickThreshold<T>(PhantomData<T>);
impl<T: Config> Get<BlockNumberFor<T>> for KickThreshold<T> {
	fn get() -> BlockNumberFor<T> {
		T::MaxSessionLength::get().saturating_mul(3u32.into())
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
		/// How many sessions a bond stays reserved, and slashable, after its owner gave it up
		/// (left, lowered its bond, was outbid or dropped for not authoring).
		#[pallet::constant]
		type UnbondingSessions: Get<SessionIndex>;
		/// The shortest session allowed.
		#[pallet::constant]
		type MinSessionLength: Get<BlockNumberFor<Self>>;
		/// The longest session allowed. A candidate has three of these to author a block before
		/// it is dropped ([`KickThreshold`]).
		#[pallet::constant]
		type MaxSessionLength: Get<BlockNumberFor<Self>>;
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

	/// Bonds given up and still reserved, per account (several merge; the latest `until` holds).
	#[pallet::storage]
	pub type Unbonding<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, UnbondingInfo<BondOf<T>>, OptionQuery>;

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
		/// Sessions of the longest length allowed, no block reward.
		fn default() -> Self {
			Self { session_length: T::MaxSessionLength::get(), block_reward: Zero::zero() }
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(
				self.session_length >= T::MinSessionLength::get()
					&& self.session_length <= T::MaxSessionLength::get(),
				"validators.sessionLength must be within the runtime's MinSessionLength and \
				 MaxSessionLength"
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
		/// Part or all of a bond was given up: it stays reserved, and slashable, until session
		/// `until`.
		Unbonding { who: T::AccountId, amount: BondOf<T>, until: SessionIndex },
		/// An unbonded amount was returned to its owner.
		Withdrawn { who: T::AccountId, amount: BondOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The session length is below the runtime's `MinSessionLength`; choose a longer one.
		SessionTooShort,
		/// The session length is above the runtime's `MaxSessionLength`; choose a shorter one.
		SessionTooLong,
		/// The account is still an invulnerable, a candidate, or in this session's or the next
		/// one's set: leave first (`collatorSelection.leaveIntent`), and purge the keys once
		/// `ValidatorsApi::validator` says it is neither active nor queued.
		StillValidating,
		/// The account is not a candidate; bond first (`collatorSelection.registerAsCandidate`).
		NotCandidate,
		/// Nothing is unbonding for this account.
		NothingUnbonding,
		/// The unbonding period is not over: `ValidatorsApi::validator` says from which session
		/// the amount can be withdrawn.
		StillUnbonding,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				!T::MinSessionLength::get().is_zero(),
				"MinSessionLength must be at least one block"
			);
			assert!(
				T::MinSessionLength::get() <= T::MaxSessionLength::get(),
				"MinSessionLength must not exceed MaxSessionLength"
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
			ensure!(length <= T::MaxSessionLength::get(), Error::<T>::SessionTooLong);
			SessionLength::<T>::put(length);
			Self::deposit_event(Event::SessionLengthSet { length });
			Ok(())
		}

		/// Removes the caller's session keys and returns their deposit, once the caller is neither
		/// an invulnerable nor a candidate, and no longer in this session's or the next one's
		/// validator set. The session pallet's own `purge_keys` is closed in the runtime: a
		/// validator that removed its keys while chosen would leave the set without consensus
		/// keys, and a set whose members all did would be empty.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::purge_keys())]
		pub fn purge_keys(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(!Self::is_chosen(&who), Error::<T>::StillValidating);
			pallet_session::Pallet::<T>::purge_keys(frame_system::RawOrigin::Signed(who).into())
		}

		/// Leaves the candidates. The bond stays reserved, and slashable, for
		/// [`Config::UnbondingSessions`] sessions; then [`Pallet::withdraw_unbonded`] returns it.
		/// The account leaves the set two sessions later. Collator selection's own `leaveIntent`
		/// (which returns the bond at once) is closed in the runtime.
		#[pallet::call_index(3)]
		#[pallet::weight(<T as Config>::WeightInfo::leave())]
		pub fn leave(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let bond = Self::bond_of(&who).ok_or(Error::<T>::NotCandidate)?;
			pallet_collator_selection::Pallet::<T>::leave_intent(
				frame_system::RawOrigin::Signed(who.clone()).into(),
			)
			.map_err(|e| e.error)?;
			Self::start_unbonding(&who, bond);
			Ok(())
		}

		/// Changes the caller's candidacy bond. A raise is reserved at once; a cut unbonds (see
		/// [`Pallet::leave`]). Collator selection's own `updateBond` is closed in the runtime.
		#[pallet::call_index(4)]
		#[pallet::weight(<T as Config>::WeightInfo::update_bond())]
		pub fn update_bond(origin: OriginFor<T>, new_bond: BondOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let old = Self::bond_of(&who).ok_or(Error::<T>::NotCandidate)?;
			pallet_collator_selection::Pallet::<T>::update_bond(
				frame_system::RawOrigin::Signed(who.clone()).into(),
				new_bond,
			)
			.map_err(|e| e.error)?;
			Self::start_unbonding(&who, old.saturating_sub(new_bond));
			Ok(())
		}

		/// Takes the place of `target`, a candidate with a smaller bond, when the candidate list
		/// is full; `target`'s bond unbonds. Collator selection's own `takeCandidateSlot` is
		/// closed in the runtime.
		#[pallet::call_index(5)]
		#[pallet::weight(<T as Config>::WeightInfo::take_candidate_slot())]
		pub fn take_candidate_slot(
			origin: OriginFor<T>,
			bond: BondOf<T>,
			target: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let target_bond = Self::bond_of(&target).ok_or(Error::<T>::NotCandidate)?;
			pallet_collator_selection::Pallet::<T>::take_candidate_slot(
				frame_system::RawOrigin::Signed(who).into(),
				bond,
				target.clone(),
			)
			.map_err(|e| e.error)?;
			Self::start_unbonding(&target, target_bond);
			Ok(())
		}

		/// Returns what finished unbonding to the caller.
		#[pallet::call_index(6)]
		#[pallet::weight(<T as Config>::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let unbonding = Unbonding::<T>::get(&who).ok_or(Error::<T>::NothingUnbonding)?;
			ensure!(
				pallet_session::CurrentIndex::<T>::get() >= unbonding.until,
				Error::<T>::StillUnbonding
			);
			Bonds::<T>::unreserve(&who, unbonding.amount);
			Unbonding::<T>::remove(&who);
			Self::deposit_event(Event::Withdrawn { who, amount: unbonding.amount });
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

	/// Where the current session stands.
	pub fn session_status() -> SessionStatus<BlockNumberFor<T>> {
		SessionStatus {
			index: pallet_session::CurrentIndex::<T>::get(),
			start: SessionStart::<T>::get(),
			length: SessionLength::<T>::get(),
			end: Self::session_end(),
		}
	}

	/// `who`'s place in the validator set (all `false` and `None` for a stranger).
	pub fn validator_status(who: T::AccountId) -> ValidatorStatus<T::AccountId, BondOf<T>> {
		let session = pallet_session::CurrentIndex::<T>::get();
		let validators = pallet_session::Validators::<T>::get();
		let position = validators.iter().position(|v| v == &who);
		let disabled = position.is_some_and(|at| {
			pallet_session::Pallet::<T>::disabled_validators().contains(&(at as u32))
		});
		ValidatorStatus {
			active: position.is_some(),
			queued: pallet_session::QueuedKeys::<T>::get().iter().any(|(v, _)| v == &who),
			invulnerable: Invulnerables::<T>::get().contains(&who),
			bond: CandidateList::<T>::get().into_iter().find(|c| c.who == who).map(|c| c.deposit),
			keys: pallet_session::NextKeys::<T>::get(&who).map(|keys| keys.encode()),
			authored_this_session: AuthoredBlocks::<T>::get(session, &who),
			authored_last_session: session
				.checked_sub(1)
				.map_or(0, |last| AuthoredBlocks::<T>::get(last, &who)),
			disabled,
			last_slash: Slashes::<T>::get(&who),
			unbonding: Unbonding::<T>::get(&who),
			account: who,
		}
	}

	/// Every validator of the current and the next session, every invulnerable and every
	/// candidate, each once.
	pub fn validators_status() -> Vec<ValidatorStatus<T::AccountId, BondOf<T>>> {
		let mut accounts = pallet_session::Validators::<T>::get();
		accounts.extend(pallet_session::QueuedKeys::<T>::get().into_iter().map(|(v, _)| v));
		accounts.extend(Invulnerables::<T>::get());
		accounts.extend(CandidateList::<T>::get().into_iter().map(|c| c.who));
		let mut seen = Vec::with_capacity(accounts.len());
		for who in accounts {
			if !seen.contains(&who) {
				seen.push(who);
			}
		}
		seen.into_iter().map(Self::validator_status).collect()
	}

	/// `who`'s candidacy bond, if it is a candidate.
	pub fn bond_of(who: &T::AccountId) -> Option<BondOf<T>> {
		CandidateList::<T>::get().into_iter().find(|c| &c.who == who).map(|c| c.deposit)
	}

	/// Keeps `amount`, which collator selection has just returned to `who`, reserved until the
	/// unbonding period is over.
	fn start_unbonding(who: &T::AccountId, amount: BondOf<T>) {
		if amount.is_zero() {
			return;
		}
		if let Err(error) = Bonds::<T>::reserve(who, amount) {
			// The amount was unreserved a moment ago, in the same call or hook.
			log::error!(target: LOG_TARGET, "could not keep {who:?}'s bond reserved: {error:?}");
			return;
		}
		let until =
			pallet_session::CurrentIndex::<T>::get().saturating_add(T::UnbondingSessions::get());
		Unbonding::<T>::mutate(who, |unbonding| {
			let unbonding = unbonding.get_or_insert(UnbondingInfo { amount: Zero::zero(), until });
			unbonding.amount = unbonding.amount.saturating_add(amount);
			unbonding.until = until;
		});
		Self::deposit_event(Event::Unbonding { who: who.clone(), amount, until });
	}

	/// Whether `who` is an invulnerable, a candidate, or in the current or the next set.
	pub fn is_chosen(who: &T::AccountId) -> bool {
		Invulnerables::<T>::get().contains(who)
			|| CandidateList::<T>::get().iter().any(|c| &c.who == who)
			|| pallet_session::Validators::<T>::get().contains(who)
			|| pallet_session::QueuedKeys::<T>::get().iter().any(|(v, _)| v == who)
	}

	/// The next validator set collator selection chose, without accounts that have no session
	/// keys; `None` to keep the current set (the choice is empty or the same).
	fn next_set(index: SessionIndex) -> Option<Vec<T::AccountId>> {
		let before = CandidateList::<T>::get();
		let chosen =
			<pallet_collator_selection::Pallet<T> as pallet_session::SessionManager<_>>::new_session(
				index,
			);
		// Candidates collator selection dropped for not authoring got their bonds back: they
		// unbond like any other.
		let after = CandidateList::<T>::get();
		for dropped in before.into_iter().filter(|c| !after.iter().any(|a| a.who == c.who)) {
			Self::start_unbonding(&dropped.who, dropped.deposit);
		}
		let chosen = chosen?;
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
		// The same accounts, but one of them set new keys: the session pallet hands consensus
		// the new keys, so the historical root of the session must be made from them too
		// (`None` would copy the previous root, with the old keys, and proofs would fail).
		let keys_changed = pallet_session::QueuedKeys::<T>::get()
			.into_iter()
			.any(|(who, keys)| pallet_session::NextKeys::<T>::get(&who).as_ref() != Some(&keys));
		(sorted != current || keys_changed).then_some(next)
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
		// The offences pallet hands every earlier offender of the same kind and time slot to the
		// handler again, with the session of the latest report; and one misbehaving node may be
		// reported for several rounds. An offender is punished once per reporting window.
		let now = pallet_session::CurrentIndex::<T>::get();
		if Slashes::<T>::get(who).is_some_and(|last| {
			now < last.punished_in.saturating_add(T::KeepHistoricalSessions::get())
		}) {
			return (2, 0);
		}
		let fraction = fraction.max(T::MinSlash::get());
		let mut amount = BondOf::<T>::zero();
		let (mut reads, mut writes) = (3u64, 2u64);
		let mut candidates = CandidateList::<T>::get();
		if let Some(at) = candidates.iter().position(|c| &c.who == who) {
			let deposit = candidates.remove(at).deposit;
			let cut = fraction * deposit;
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
				// Candidates come and go (they may leave at once); only the invulnerables are
				// sure to stay, so the last one is never removed.
				if invulnerables.len() > 1 {
					invulnerables.remove(at);
					Invulnerables::<T>::put(invulnerables);
					writes += 1;
				} else {
					log::warn!(
						target: LOG_TARGET,
						"offender {who:?} stays: it is the last invulnerable validator"
					);
				}
			}
		}
		// A bond given up lately is still reserved, and answers for the offence too.
		if let Some(mut unbonding) = Unbonding::<T>::get(who) {
			let (burnt, _) = Bonds::<T>::slash_reserved(who, fraction * unbonding.amount);
			let taken = frame_support::traits::Imbalance::peek(&burnt);
			drop(burnt);
			unbonding.amount = unbonding.amount.saturating_sub(taken);
			amount = amount.saturating_add(taken);
			if unbonding.amount.is_zero() {
				Unbonding::<T>::remove(who);
			} else {
				Unbonding::<T>::insert(who, unbonding);
			}
			reads += 1;
			writes += 2;
		}
		pallet_session::Pallet::<T>::report_offence(who.clone(), OffenceSeverity(fraction));
		Slashes::<T>::insert(who, SlashRecord { session, punished_in: now, fraction, amount });
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
			SessionLength::<T>::get() <= T::MaxSessionLength::get(),
			"session length above the maximum"
		);
		ensure!(
			SessionStart::<T>::get() <= frame_system::Pallet::<T>::block_number(),
			"the session starts in the future"
		);
		let candidates = CandidateList::<T>::get();
		for candidate in &candidates {
			let unbonding = Unbonding::<T>::get(&candidate.who).map_or(Zero::zero(), |u| u.amount);
			ensure!(
				Bonds::<T>::reserved_balance(&candidate.who)
					>= candidate.deposit.saturating_add(unbonding),
				"a candidate's bond is not reserved"
			);
		}
		for (who, unbonding) in Unbonding::<T>::iter() {
			ensure!(!unbonding.amount.is_zero(), "an empty unbonding entry");
			ensure!(
				Bonds::<T>::reserved_balance(&who) >= unbonding.amount,
				"an unbonding amount is not reserved"
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
