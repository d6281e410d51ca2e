//! The validator set in the real runtime, block by block with Aura slots: an account that bonds
//! becomes an Aura and GRANDPA authority; a proven GRANDPA equivocation is reported, checked
//! against the historical session, and slashed; forged and replayed reports are refused.

use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Inspect, KeyOwnerProofSystem, OnFinalize, OnInitialize},
};
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use sp_consensus_grandpa::{AuthorityId as GrandpaId, EquivocationProof, KEY_TYPE};
use sp_core::H256;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_keystore::{testing::MemoryKeystore, KeystoreExt};
use sp_runtime::{
	transaction_validity::TransactionSource, AccountId32, Digest, DigestItem, Perbill,
};

use super::genesis_state;
use crate::{
	genesis_config_presets::{BLOCK_REWARD, CANDIDACY_BOND, SESSION_LENGTH},
	AllPalletsWithSystem, Balances, BlockNumber, CollatorSelection, Grandpa, Historical, Runtime,
	RuntimeEvent, RuntimeOrigin, Session, SessionKeys, System, Timestamp, Validators,
	SLOT_DURATION, UNIT,
};

/// Finishes the open block and runs blocks up to `n`, leaving `n` open (initialized, with its
/// timestamp set, not finalized), so calls can be dispatched in it. Block `b` has Aura slot `b`.
fn run_to_block(n: BlockNumber) {
	while System::block_number() < n {
		let now = System::block_number();
		if now > 0 {
			AllPalletsWithSystem::on_finalize(now);
		}
		let next = now + 1;
		let slot = Slot::from(u64::from(next));
		let digest = Digest { logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, slot.encode())] };
		System::initialize(&next, &H256::repeat_byte(next as u8), &digest);
		AllPalletsWithSystem::on_initialize(next);
		assert_ok!(Timestamp::set(RuntimeOrigin::none(), u64::from(next) * SLOT_DURATION));
	}
}

fn account(who: Sr25519Keyring) -> AccountId32 {
	who.to_account_id()
}

/// Charlie generates session keys in the keystore (as `author_rotateKeysWithOwner` does), sets
/// them with the proof of owning them, and bonds as a candidate.
fn charlie_joins() {
	let charlie = account(Sr25519Keyring::Charlie);
	let generated = SessionKeys::generate(&charlie.encode(), Some(b"//Charlie".to_vec()));
	assert_ok!(Session::set_keys(
		RuntimeOrigin::signed(charlie.clone()),
		generated.keys,
		generated.proof.encode()
	));
	assert_ok!(CollatorSelection::register_as_candidate(RuntimeOrigin::signed(charlie)));
}

fn local_testnet() -> sp_io::TestExternalities {
	let mut ext = genesis_state("local_testnet");
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext
}

fn grandpa_authorities() -> Vec<GrandpaId> {
	Grandpa::grandpa_authorities().into_iter().map(|(id, _)| id).collect()
}

/// Two prevotes by `voter` in one round of `set_id` for different blocks, each signed by
/// `signer` (the voter itself, unless forged).
fn equivocation(
	set_id: u64,
	voter: Ed25519Keyring,
	signer: Ed25519Keyring,
) -> EquivocationProof<H256, BlockNumber> {
	let round = 1;
	let vote = |target: u8| {
		let prevote =
			finality_grandpa::Prevote { target_hash: H256::repeat_byte(target), target_number: 7 };
		let payload = sp_consensus_grandpa::localized_payload(
			round,
			set_id,
			&finality_grandpa::Message::Prevote(prevote.clone()),
		);
		(prevote, signer.sign(&payload).into())
	};
	EquivocationProof::new(
		set_id,
		sp_consensus_grandpa::Equivocation::Prevote(finality_grandpa::Equivocation {
			round_number: round,
			identity: voter.public().into(),
			first: vote(1),
			second: vote(2),
		}),
	)
}

fn report_call(
	proof: EquivocationProof<H256, BlockNumber>,
	key_owner_proof: sp_session::MembershipProof,
) -> pallet_grandpa::Call<Runtime> {
	pallet_grandpa::Call::report_equivocation_unsigned {
		equivocation_proof: Box::new(proof),
		key_owner_proof,
	}
}

#[test]
fn an_account_that_bonds_becomes_an_aura_and_grandpa_authority() {
	local_testnet().execute_with(|| {
		let charlie = account(Sr25519Keyring::Charlie);
		charlie_joins();
		// The bond and the session-key deposit.
		assert_eq!(Balances::reserved_balance(&charlie), CANDIDACY_BOND + UNIT);
		run_to_block(SESSION_LENGTH + 1);
		assert_eq!(Session::current_index(), 1);
		assert!(!Session::validators().contains(&charlie));
		run_to_block(2 * SESSION_LENGTH + 1);
		assert_eq!(Session::current_index(), 2);
		assert!(Session::validators().contains(&charlie));
		let aura: sp_consensus_aura::sr25519::AuthorityId = Sr25519Keyring::Charlie.public().into();
		assert!(pallet_aura::Authorities::<Runtime>::get().contains(&aura));
		assert!(grandpa_authorities().contains(&Ed25519Keyring::Charlie.public().into()));
		// Charlie authors its slots, is counted and rewarded.
		let before = Balances::balance(&charlie);
		run_to_block(2 * SESSION_LENGTH + 4);
		let status = Validators::validator_status(charlie.clone());
		assert!(status.active && status.authored_this_session >= 1, "{status:?}");
		assert!(Balances::balance(&charlie) >= before + BLOCK_REWARD);
	});
}

#[test]
fn keys_proven_for_another_account_are_refused() {
	local_testnet().execute_with(|| {
		let charlie = account(Sr25519Keyring::Charlie);
		let dave = account(Sr25519Keyring::Dave);
		// Dave replays the keys and proof Charlie published.
		let generated = SessionKeys::generate(&charlie.encode(), Some(b"//Charlie".to_vec()));
		assert_noop!(
			Session::set_keys(
				RuntimeOrigin::signed(dave.clone()),
				generated.keys,
				generated.proof.encode()
			),
			pallet_session::Error::<Runtime>::InvalidProof
		);
		// Without keys there is no candidacy.
		assert_noop!(
			CollatorSelection::register_as_candidate(RuntimeOrigin::signed(dave)),
			pallet_collator_selection::Error::<Runtime>::ValidatorNotRegistered
		);
	});
}

#[test]
fn a_proven_grandpa_equivocation_is_slashed_and_the_offender_removed() {
	local_testnet().execute_with(|| {
		let charlie = account(Sr25519Keyring::Charlie);
		charlie_joins();
		run_to_block(2 * SESSION_LENGTH + 1);
		assert!(Session::validators().contains(&charlie));
		let set_id = Grandpa::current_set_id();
		let key_owner_proof =
			Historical::prove((KEY_TYPE, GrandpaId::from(Ed25519Keyring::Charlie.public())))
				.expect("Charlie is in the current session");
		let proof = equivocation(set_id, Ed25519Keyring::Charlie, Ed25519Keyring::Charlie);
		let call = report_call(proof.clone(), key_owner_proof.clone());

		// Only the node that saw the votes submits the report (not gossiped).
		assert!(Grandpa::validate_unsigned(TransactionSource::External, &call).is_err());
		assert_ok!(Grandpa::validate_unsigned(TransactionSource::Local, &call));

		let issuance = Balances::total_issuance();
		assert_ok!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(proof.clone()),
			key_owner_proof.clone()
		));
		// One offender of three: (3/3)² = 100 % of the bond, burnt.
		assert_eq!(Balances::reserved_balance(&charlie), UNIT);
		assert_eq!(Balances::total_issuance(), issuance - CANDIDACY_BOND);
		assert!(pallet_collator_selection::CandidateList::<Runtime>::get().is_empty());
		let events: Vec<_> = System::events().into_iter().map(|r| r.event).collect();
		assert!(events.iter().any(|e| matches!(e, RuntimeEvent::Offences(_))), "{events:?}");
		assert!(events.contains(&RuntimeEvent::Validators(pallet_validators::Event::Slashed {
			who: charlie.clone(),
			session: 2,
			fraction: Perbill::one(),
			amount: CANDIDACY_BOND,
		})));

		// The same report again is stale, in the pool and in a block.
		assert!(Grandpa::validate_unsigned(TransactionSource::Local, &call).is_err());
		assert_noop!(
			Grandpa::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(proof),
				key_owner_proof
			),
			pallet_grandpa::Error::<Runtime>::DuplicateOffenceReport
		);

		// Two sessions later Charlie is no authority any more.
		run_to_block(4 * SESSION_LENGTH + 1);
		assert!(!Session::validators().contains(&charlie));
		assert!(!grandpa_authorities().contains(&Ed25519Keyring::Charlie.public().into()));
	});
}

#[test]
fn forged_equivocation_reports_are_refused() {
	local_testnet().execute_with(|| {
		charlie_joins();
		run_to_block(2 * SESSION_LENGTH + 1);
		let set_id = Grandpa::current_set_id();
		let charlie_proof =
			Historical::prove((KEY_TYPE, GrandpaId::from(Ed25519Keyring::Charlie.public())))
				.unwrap();
		let bob_proof =
			Historical::prove((KEY_TYPE, GrandpaId::from(Ed25519Keyring::Bob.public()))).unwrap();
		let bond_before = Balances::reserved_balance(account(Sr25519Keyring::Charlie));

		// Votes "by Charlie" signed by Dave.
		let forged = equivocation(set_id, Ed25519Keyring::Charlie, Ed25519Keyring::Dave);
		assert_noop!(
			Grandpa::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(forged.clone()),
				charlie_proof.clone()
			),
			pallet_grandpa::Error::<Runtime>::InvalidEquivocationProof
		);

		// A real equivocation proven with someone else's membership.
		let real = equivocation(set_id, Ed25519Keyring::Charlie, Ed25519Keyring::Charlie);
		assert_noop!(
			Grandpa::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(real.clone()),
				bob_proof
			),
			pallet_grandpa::Error::<Runtime>::InvalidKeyOwnershipProof
		);

		// An equivocation in a set that is not the current one.
		let old = equivocation(set_id + 5, Ed25519Keyring::Charlie, Ed25519Keyring::Charlie);
		assert!(Grandpa::report_equivocation_unsigned(
			RuntimeOrigin::none(),
			Box::new(old),
			charlie_proof
		)
		.is_err());

		// A stranger's keys prove no membership: its equivocation cannot be reported.
		let stranger_proof =
			Historical::prove((KEY_TYPE, GrandpaId::from(Ed25519Keyring::Ferdie.public())))
				.unwrap();
		let stranger = equivocation(set_id, Ed25519Keyring::Ferdie, Ed25519Keyring::Ferdie);
		assert_noop!(
			Grandpa::report_equivocation_unsigned(
				RuntimeOrigin::none(),
				Box::new(stranger),
				stranger_proof
			),
			pallet_grandpa::Error::<Runtime>::InvalidKeyOwnershipProof
		);
		assert_eq!(Balances::reserved_balance(account(Sr25519Keyring::Charlie)), bond_before);
	});
}

#[test]
fn a_validator_cannot_remove_its_keys_while_chosen() {
	use sp_runtime::traits::Dispatchable;
	local_testnet().execute_with(|| {
		let alice = account(Sr25519Keyring::Alice);
		// The session pallet's own purge is closed to everyone.
		let purge = crate::RuntimeCall::Session(pallet_session::Call::purge_keys {});
		let refused = purge.dispatch(RuntimeOrigin::signed(alice.clone())).unwrap_err();
		assert_eq!(refused.error, frame_system::Error::<Runtime>::CallFiltered.into());
		// Ours refuses while the account validates.
		assert_noop!(
			Validators::purge_keys(RuntimeOrigin::signed(alice.clone())),
			pallet_validators::Error::<Runtime>::StillValidating
		);
		assert!(pallet_session::NextKeys::<Runtime>::get(&alice).is_some());
		// Collator selection's calls that return a bond at once are closed too.
		let leave =
			crate::RuntimeCall::CollatorSelection(pallet_collator_selection::Call::leave_intent {});
		let refused = leave.dispatch(RuntimeOrigin::signed(alice)).unwrap_err();
		assert_eq!(refused.error, frame_system::Error::<Runtime>::CallFiltered.into());
	});
}
