use frame_support::{
	assert_noop, assert_ok,
	traits::{Get, ReservableCurrency},
};
use pallet_collator_selection::{CandidateList, Invulnerables, LastAuthoredBlock};
use sp_runtime::{traits::BadOrigin, Perbill};
use sp_staking::{
	offence::{Kind, Offence, OffenceError, ReportOffence},
	SessionIndex,
};

use crate::{
	mock::*, AuthoredBlocks, Error, Event, SessionLength, SessionStart, SessionStatus, SlashRecord,
	Slashes, Unbonding, UnbondingInfo,
};

/// An offence as GRANDPA reports one: its fraction is `(3k/n)²`, so one offender of many gets
/// less than the floor.
struct Equivocation {
	offender: AccountId,
	session: SessionIndex,
	round: u64,
}

impl Offence<(AccountId, ())> for Equivocation {
	const ID: Kind = *b"test:equivocatio";
	type Slot = u64;

	fn offenders(&self) -> Vec<(AccountId, ())> {
		vec![(self.offender, ())]
	}
	fn session_index(&self) -> SessionIndex {
		self.session
	}
	fn validator_set_count(&self) -> u32 {
		Session::validators().len() as u32
	}
	fn slot(&self) -> u64 {
		self.round
	}
	fn slash_fraction(&self, offenders: u32) -> Perbill {
		let x = Perbill::from_rational(3 * offenders, self.validator_set_count());
		x.square()
	}
}

fn report(offender: AccountId, round: u64) -> Result<(), OffenceError> {
	let session = Session::current_index();
	<Offences as ReportOffence<_, _, _>>::report_offence(
		vec![9],
		Equivocation { offender, session, round },
	)
}

/// `who` sets session keys (with a proof of owning them) and bonds as a candidate.
fn join(who: AccountId) {
	assert_ok!(Session::set_keys(RuntimeOrigin::signed(who), keys(who), proof(who)));
	assert_ok!(CollatorSelection::register_as_candidate(RuntimeOrigin::signed(who)));
}

fn session_events() -> Vec<pallet_session::Event<Test>> {
	System::read_events_for_pallet::<pallet_session::Event<Test>>()
}

#[test]
fn genesis_starts_with_the_invulnerables() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Session::validators(), vec![1, 2]);
		assert_eq!(Authorities::get(), vec![1, 2]);
		assert_eq!(SessionLength::<Test>::get(), SESSION_LENGTH);
		assert_eq!(Validators::session_end(), SESSION_LENGTH);
	});
}

#[test]
fn genesis_without_invulnerables_adopts_the_session_key_holders() {
	ExtBuilder::default().without_invulnerables().build_and_execute(|| {
		assert_eq!(Invulnerables::<Test>::get().to_vec(), vec![1, 2, 3, 4]);
		assert_eq!(Session::validators(), vec![1, 2, 3, 4]);
		assert_eq!(Authorities::get(), vec![1, 2, 3, 4]);
		// And they stay, rotation after rotation.
		run_to_session(3);
		assert_eq!(Session::validators(), vec![1, 2, 3, 4]);
	});
}

#[test]
fn sessions_rotate_every_session_length_blocks() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_block(SESSION_LENGTH - 1);
		assert_eq!(Session::current_index(), 0);
		run_to_block(SESSION_LENGTH);
		assert_eq!(Session::current_index(), 1);
		assert_eq!(SessionStart::<Test>::get(), SESSION_LENGTH);
		run_to_block(2 * SESSION_LENGTH);
		assert_eq!(Session::current_index(), 2);
	});
}

#[test]
fn a_new_session_length_applies_to_the_current_session() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_block(SESSION_LENGTH + 1);
		assert_eq!(Session::current_index(), 1);
		System::reset_events();
		assert_ok!(Validators::set_session_length(RuntimeOrigin::root(), 3));
		assert_eq!(validator_events(), vec![Event::SessionLengthSet { length: 3 }]);
		run_to_block(SESSION_LENGTH + 2);
		assert_eq!(Session::current_index(), 1);
		run_to_block(SESSION_LENGTH + 3);
		assert_eq!(Session::current_index(), 2);
		// Already past a shorter length: the session ends at the next block.
		run_to_block(SESSION_LENGTH + 5);
		assert_ok!(Validators::set_session_length(RuntimeOrigin::root(), 2));
		run_to_block(SESSION_LENGTH + 6);
		assert_eq!(Session::current_index(), 3);
	});
}

#[test]
fn only_the_admin_sets_the_session_length_and_never_below_the_minimum() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Validators::set_session_length(RuntimeOrigin::signed(1), 50), BadOrigin);
		assert_noop!(
			Validators::set_session_length(RuntimeOrigin::root(), 1),
			Error::<Test>::SessionTooShort
		);
		assert_noop!(
			Validators::set_session_length(RuntimeOrigin::root(), MAX_SESSION_LENGTH + 1),
			Error::<Test>::SessionTooLong
		);
		assert_noop!(Validators::set_block_reward(RuntimeOrigin::signed(1), 1_000), BadOrigin);
	});
}

#[test]
fn a_bonded_candidate_becomes_an_authority_two_sessions_later() {
	ExtBuilder::default().build_and_execute(|| {
		join(5);
		assert_eq!(Balances::reserved_balance(5), BOND);
		run_to_session(1);
		// Queued for the next session, not yet an authority.
		assert_eq!(
			Session::queued_keys().iter().map(|(v, _)| *v).collect::<Vec<_>>(),
			vec![1, 2, 5]
		);
		assert_eq!(Authorities::get(), vec![1, 2]);
		run_to_session(2);
		assert_eq!(Session::validators(), vec![1, 2, 5]);
		assert_eq!(Authorities::get(), vec![1, 2, 5]);
	});
}

#[test]
fn the_largest_bonds_win_the_candidate_seats() {
	ExtBuilder::default().build_and_execute(|| {
		// Two seats; three candidates; 7 outbids 5.
		join(5);
		join(6);
		join(7);
		assert_ok!(Validators::update_bond(RuntimeOrigin::signed(7), BOND * 2));
		assert_ok!(Validators::update_bond(RuntimeOrigin::signed(6), BOND + 1));
		assert_eq!(Balances::reserved_balance(7), BOND * 2);
		run_to_session(2);
		let mut set = Session::validators();
		set.sort();
		assert_eq!(set, vec![1, 2, 6, 7]);
	});
}

#[test]
fn an_unchanged_set_is_not_queued_again() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_session(2);
		System::reset_events();
		run_to_session(3);
		let events = session_events();
		assert!(events.contains(&pallet_session::Event::NewSession { session_index: 3 }));
		assert!(!events.contains(&pallet_session::Event::NewQueued), "{events:?}");
		assert!(!AuthoritiesChanged::get());
		// The historical root of the unchanged set is still recorded for the new session.
		assert_eq!(Historical::historical_root(4), Historical::historical_root(3));
		assert!(Historical::historical_root(4).is_some());
	});
}

#[test]
fn a_candidate_without_session_keys_is_not_chosen() {
	ExtBuilder::default().build_and_execute(|| {
		join(5);
		assert_ok!(Session::purge_keys(RuntimeOrigin::signed(5)));
		run_to_session(3);
		assert_eq!(Session::validators(), vec![1, 2]);
	});
}

#[test]
fn a_validator_that_gives_up_its_keys_leaves_the_set() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Session::purge_keys(RuntimeOrigin::signed(2)));
		run_to_session(2);
		assert_eq!(Session::validators(), vec![1]);
		assert_eq!(Authorities::get(), vec![1]);
	});
}

#[test]
fn a_candidate_that_authors_nothing_is_kicked_and_refunded() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(
			<Test as pallet_collator_selection::Config>::KickThreshold::get(),
			3 * MAX_SESSION_LENGTH
		);
		join(5);
		// Registered at block 1: counted from block 1 + threshold, kicked at the first session
		// change a threshold after that.
		run_to_block(1 + 2 * 3 * MAX_SESSION_LENGTH + SESSION_LENGTH);
		assert!(CandidateList::<Test>::get().is_empty());
		// The bond unbonds like any other given up.
		assert_eq!(Balances::reserved_balance(5), BOND);
		let until = Unbonding::<Test>::get(5).unwrap().until;
		run_to_session(Session::current_index() + 2);
		assert_eq!(Session::validators(), vec![1, 2]);
		run_to_session(until);
		assert_ok!(Validators::withdraw_unbonded(RuntimeOrigin::signed(5)));
		assert_eq!(Balances::reserved_balance(5), 0);
	});
}

#[test]
fn authors_are_counted_per_session_and_rewarded() {
	ExtBuilder::default().build_and_execute(|| {
		Author::set(2);
		let before = Balances::free_balance(2);
		run_to_block(3);
		assert_eq!(Validators::authored(0, &2), 2);
		assert_eq!(Validators::authored(0, &1), 0);
		assert_eq!(Balances::free_balance(2), before + 2 * REWARD);
		assert_eq!(validator_events(), vec![Event::BlockRewarded { author: 2, amount: REWARD }; 2]);
		// Collator selection also notes the author.
		assert_eq!(LastAuthoredBlock::<Test>::get(2), 3);
		// Block 5 starts session 1, but its author was chosen from session 0's set, so it
		// counts there (authorship notes the author before the session rotates).
		Author::set(1);
		run_to_block(SESSION_LENGTH + 1);
		assert_eq!(Validators::authored(0, &1), 2);
		assert_eq!(Validators::authored(1, &1), 1);
		// The previous session is kept, older ones are forgotten.
		run_to_session(2);
		assert_eq!(Validators::authored(0, &2), 0);
		// Blocks 6 to 10 (the block that started session 2).
		assert_eq!(Validators::authored(1, &1), 5);
		assert_eq!(AuthoredBlocks::<Test>::iter_prefix(0).count(), 0);
	});
}

#[test]
fn fees_in_the_pot_go_half_to_the_author() {
	ExtBuilder::default().build_and_execute(|| {
		let pot = CollatorSelection::account_id();
		assert_ok!(Balances::transfer_allow_death(RuntimeOrigin::signed(9), pot, 100));
		Author::set(1);
		let before = Balances::free_balance(1);
		run_to_block(2);
		assert_eq!(Balances::free_balance(1), before + 50 + REWARD);
		assert_eq!(Balances::free_balance(pot), EXISTENTIAL_DEPOSIT + 50);
	});
}

#[test]
fn a_zero_reward_mints_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Validators::set_block_reward(RuntimeOrigin::root(), 0));
		System::reset_events();
		let issuance = Balances::total_issuance();
		run_to_block(4);
		assert_eq!(Balances::total_issuance(), issuance);
		assert!(validator_events().is_empty());
		assert_eq!(Validators::authored(0, &1), 3);
	});
}

#[test]
fn an_equivocating_candidate_loses_its_bond_its_seat_and_its_slots() {
	ExtBuilder::default().without_invulnerables().build_and_execute(|| {
		join(5);
		run_to_session(2);
		assert_eq!(Session::validators(), vec![1, 2, 3, 4, 5]);
		let issuance = Balances::total_issuance();
		// One offender of five: (3/5)² = 36 %.
		assert_ok!(report(5, 7));
		let fraction = Perbill::from_percent(36);
		let slash = fraction * BOND;
		assert_eq!(Balances::reserved_balance(5), 0);
		assert_eq!(Balances::free_balance(5), 1_000 - slash);
		assert_eq!(Balances::total_issuance(), issuance - slash);
		assert!(CandidateList::<Test>::get().is_empty());
		// Disabled at once (a fifth of the set is within the strategy's limit of a third).
		assert_eq!(Session::disabled_validators(), vec![4]);
		assert_eq!(
			Slashes::<Test>::get(5),
			Some(SlashRecord { session: 2, punished_in: 2, fraction, amount: slash })
		);
		assert!(validator_events().contains(&Event::Slashed {
			who: 5,
			session: 2,
			fraction,
			amount: slash
		}));
		// Out of the set two sessions later.
		run_to_session(4);
		assert_eq!(Session::validators(), vec![1, 2, 3, 4]);
		assert_eq!(Authorities::get(), vec![1, 2, 3, 4]);
	});
}

#[test]
fn a_small_offence_fraction_is_raised_to_the_floor_and_the_rest_returned() {
	ExtBuilder::default().without_invulnerables().build_and_execute(|| {
		// Seven validators: (3/7)² ≈ 18 %; with a larger set it falls below the floor.
		for who in [5, 6] {
			join(who);
		}
		assert_ok!(CollatorSelection::set_desired_candidates(RuntimeOrigin::root(), 2));
		run_to_session(2);
		assert_eq!(Session::validators().len(), 6);
		// (3/6)² = 25 % > 10 %: the offence's own fraction applies.
		assert_ok!(report(6, 1));
		assert_eq!(Balances::free_balance(6), 1_000 - BOND / 4);
		assert_eq!(Balances::reserved_balance(6), 0);
		assert_eq!(Slashes::<Test>::get(6).map(|s| s.amount), Some(BOND / 4));
	});
}

#[test]
fn a_replayed_report_punishes_once() {
	ExtBuilder::default().build_and_execute(|| {
		join(5);
		run_to_session(2);
		assert_ok!(report(5, 7));
		// The same offence again: the offences pallet refuses it.
		assert_eq!(report(5, 7), Err(OffenceError::DuplicateReport));
		// Another round in the same session: punished once per session.
		let balance = Balances::free_balance(5);
		assert_ok!(report(5, 8));
		assert_eq!(Balances::free_balance(5), balance);
		assert_eq!(
			validator_events().iter().filter(|e| matches!(e, Event::Slashed { .. })).count(),
			1
		);
	});
}

#[test]
fn an_equivocating_invulnerable_is_removed_while_enough_validators_remain() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_session(1);
		assert_ok!(report(2, 1));
		assert_eq!(Invulnerables::<Test>::get().to_vec(), vec![1]);
		assert_eq!(Slashes::<Test>::get(2).map(|s| s.amount), Some(0));
		run_to_session(3);
		assert_eq!(Session::validators(), vec![1]);
		// The last one stays: the chain needs at least one validator.
		assert_ok!(report(1, 2));
		assert_eq!(Invulnerables::<Test>::get().to_vec(), vec![1]);
		run_to_session(5);
		assert_eq!(Session::validators(), vec![1]);
	});
}

#[test]
fn an_offence_by_a_stranger_changes_nothing_but_is_recorded() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(report(8, 1));
		assert_eq!(Balances::free_balance(8), 1_000);
		assert_eq!(Session::validators(), vec![1, 2]);
		assert!(Session::disabled_validators().is_empty());
	});
}

#[test]
fn old_historical_roots_are_pruned() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_session(8);
		let (first, end) = pallet_session::historical::StoredRange::<Test>::get().unwrap();
		assert_eq!(first, 8 - KEEP_SESSIONS);
		assert_eq!(end, 10);
		assert!(Historical::historical_root(first - 1).is_none());
		assert!(Historical::historical_root(first).is_some());
	});
}

#[test]
fn try_state_finds_broken_invariants() {
	ExtBuilder::default().build().execute_with(|| {
		run_to_session(3);
		assert_ok!(Validators::do_try_state());
		AuthoredBlocks::<Test>::insert(0, 1, 1);
		assert!(Validators::do_try_state().is_err());
		AuthoredBlocks::<Test>::remove(0, 1);
		join(5);
		assert_ok!(Validators::do_try_state());
		Balances::unreserve(&5, 1);
		assert!(Validators::do_try_state().is_err());
	});
}

#[test]
fn integrity() {
	use frame_support::traits::Hooks;
	<Validators as Hooks<u64>>::integrity_test();
}

#[test]
fn status_tells_each_account_its_place() {
	use codec::Encode;
	ExtBuilder::default().without_invulnerables().build_and_execute(|| {
		join(5);
		Author::set(3);
		run_to_session(1);
		run_to_block(SESSION_LENGTH + 2);
		assert_eq!(
			Validators::session_status(),
			SessionStatus { index: 1, start: SESSION_LENGTH, length: SESSION_LENGTH, end: 10 }
		);
		let three = Validators::validator_status(3);
		assert!(three.active && three.queued && three.invulnerable && !three.disabled);
		assert_eq!(three.bond, None);
		assert_eq!(three.keys, Some(keys(3).encode()));
		assert_eq!((three.authored_this_session, three.authored_last_session), (2, 4));
		let five = Validators::validator_status(5);
		assert!(!five.active && five.queued && !five.invulnerable);
		assert_eq!(five.bond, Some(BOND));
		let stranger = Validators::validator_status(8);
		assert!(!stranger.active && !stranger.queued && stranger.bond.is_none());
		assert_eq!(stranger.keys, None);
		let listed: Vec<_> =
			Validators::validators_status().into_iter().map(|v| v.account).collect();
		assert_eq!(listed, vec![1, 2, 3, 4, 5]);
		// Disabled and slashed.
		run_to_session(2);
		assert_ok!(report(5, 1));
		let five = Validators::validator_status(5);
		assert!(five.active && five.disabled && five.bond.is_none());
		assert_eq!(five.last_slash.map(|s| s.session), Some(2));
	});
}

#[test]
fn keys_are_purged_only_once_out_of_the_set() {
	ExtBuilder::default().build_and_execute(|| {
		// An invulnerable, a candidate, and a queued or active validator keep their keys.
		assert_noop!(
			Validators::purge_keys(RuntimeOrigin::signed(1)),
			Error::<Test>::StillValidating
		);
		join(5);
		assert_noop!(
			Validators::purge_keys(RuntimeOrigin::signed(5)),
			Error::<Test>::StillValidating
		);
		run_to_session(2);
		assert_ok!(Validators::leave(RuntimeOrigin::signed(5)));
		// Still in this session's set and the next one's.
		assert_noop!(
			Validators::purge_keys(RuntimeOrigin::signed(5)),
			Error::<Test>::StillValidating
		);
		run_to_session(3);
		assert_noop!(
			Validators::purge_keys(RuntimeOrigin::signed(5)),
			Error::<Test>::StillValidating
		);
		run_to_session(4);
		assert_eq!(Session::validators(), vec![1, 2]);
		assert_ok!(Validators::purge_keys(RuntimeOrigin::signed(5)));
		assert!(pallet_session::NextKeys::<Test>::get(5).is_none());
		// A stranger with keys may purge them.
		assert_ok!(Session::set_keys(RuntimeOrigin::signed(6), keys(6), proof(6)));
		assert_ok!(Validators::purge_keys(RuntimeOrigin::signed(6)));
	});
}

#[test]
fn an_offender_is_punished_once_per_reporting_window() {
	ExtBuilder::default().without_invulnerables().build_and_execute(|| {
		join(5);
		run_to_session(2);
		assert_ok!(report(5, 1));
		let first = Slashes::<Test>::get(5).unwrap();
		// It bonds again; a report of another round, sessions later but within the window,
		// does not punish it a second time.
		assert_ok!(CollatorSelection::register_as_candidate(RuntimeOrigin::signed(5)));
		run_to_session(2 + KEEP_SESSIONS - 1);
		assert_ok!(report(5, 2));
		assert_eq!(Slashes::<Test>::get(5), Some(first));
		assert_eq!(Balances::reserved_balance(5), BOND);
		// After the window a new offence is punished again.
		run_to_session(2 + KEEP_SESSIONS);
		assert_ok!(report(5, 3));
		assert_eq!(Slashes::<Test>::get(5).map(|s| s.punished_in), Some(2 + KEEP_SESSIONS));
	});
}

#[test]
fn new_keys_under_an_unchanged_set_give_a_new_historical_root() {
	use codec::Encode;
	use sp_runtime::testing::UintAuthorityId;
	ExtBuilder::default().build_and_execute(|| {
		run_to_session(2);
		let mut new_keys = TestKeys { aura: UintAuthorityId(11) };
		let proof = new_keys.create_ownership_proof(&1u64.encode()).unwrap().encode();
		assert_ok!(Session::set_keys(RuntimeOrigin::signed(1), new_keys, proof));
		run_to_session(3);
		assert_eq!(Session::validators(), vec![1, 2]);
		assert_ne!(Historical::historical_root(4), Historical::historical_root(3));
		assert!(Historical::historical_root(4).is_some());
	});
}

#[test]
fn a_bond_given_up_stays_reserved_until_the_unbonding_period_is_over() {
	ExtBuilder::default().build_and_execute(|| {
		join(5);
		run_to_session(2);
		System::reset_events();
		assert_ok!(Validators::leave(RuntimeOrigin::signed(5)));
		let until = 2 + UNBONDING_SESSIONS;
		assert_eq!(Unbonding::<Test>::get(5), Some(UnbondingInfo { amount: BOND, until }));
		assert!(validator_events().contains(&Event::Unbonding { who: 5, amount: BOND, until }));
		assert!(CandidateList::<Test>::get().is_empty());
		assert_eq!(Balances::reserved_balance(5), BOND);
		// Not before its time.
		run_to_session(until - 1);
		assert_noop!(
			Validators::withdraw_unbonded(RuntimeOrigin::signed(5)),
			Error::<Test>::StillUnbonding
		);
		run_to_session(until);
		assert_ok!(Validators::withdraw_unbonded(RuntimeOrigin::signed(5)));
		assert_eq!(Balances::reserved_balance(5), 0);
		assert_eq!(Balances::free_balance(5), 1_000);
		assert!(validator_events().contains(&Event::Withdrawn { who: 5, amount: BOND }));
		assert_noop!(
			Validators::withdraw_unbonded(RuntimeOrigin::signed(5)),
			Error::<Test>::NothingUnbonding
		);
		assert_noop!(Validators::leave(RuntimeOrigin::signed(5)), Error::<Test>::NotCandidate);
	});
}

#[test]
fn leaving_right_after_an_offence_does_not_save_the_bond() {
	ExtBuilder::default().without_invulnerables().build_and_execute(|| {
		join(5);
		run_to_session(2);
		// It leaves before the report lands.
		assert_ok!(Validators::leave(RuntimeOrigin::signed(5)));
		assert_ok!(report(5, 1));
		let slash = Perbill::from_percent(36) * BOND;
		assert_eq!(Slashes::<Test>::get(5).map(|s| s.amount), Some(slash));
		assert_eq!(Unbonding::<Test>::get(5).map(|u| u.amount), Some(BOND - slash));
		assert_eq!(Balances::reserved_balance(5), BOND - slash);
		assert_eq!(Balances::free_balance(5), 1_000 - BOND);
	});
}

#[test]
fn a_lower_bond_unbonds_the_difference_and_an_outbid_candidate_its_bond() {
	ExtBuilder::default().build_and_execute(|| {
		// A full list (four); 5 has the smallest bond, the others are above it.
		for who in [5, 6, 7, 8] {
			join(who);
		}
		for (who, bond) in [(6, BOND + 3), (7, BOND + 3), (8, BOND + 4), (5, BOND + 2)] {
			assert_ok!(Validators::update_bond(RuntimeOrigin::signed(who), bond));
		}
		assert_eq!(Balances::reserved_balance(5), BOND + 2);
		// A cut unbonds the difference (collator selection allows it below the chosen seats).
		assert_ok!(Validators::update_bond(RuntimeOrigin::signed(5), BOND));
		assert_eq!(Unbonding::<Test>::get(5).map(|u| u.amount), Some(2));
		assert_eq!(Balances::reserved_balance(5), BOND + 2);
		// 9 takes the place of the smallest bond, 5's, which unbonds.
		assert_eq!(CandidateList::<Test>::get().len() as u32, MAX_CANDIDATES);
		assert_ok!(Session::set_keys(RuntimeOrigin::signed(9), keys(9), proof(9)));
		assert_ok!(Validators::take_candidate_slot(RuntimeOrigin::signed(9), BOND + 1, 5));
		assert_eq!(Unbonding::<Test>::get(5).map(|u| u.amount), Some(BOND + 2));
		assert_eq!(Balances::reserved_balance(5), BOND + 2);
		assert_noop!(
			Validators::update_bond(RuntimeOrigin::signed(5), BOND),
			Error::<Test>::NotCandidate
		);
	});
}
