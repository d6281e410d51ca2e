//! Registering, updating, starting, ending and removing streams.

use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use sp_runtime::traits::BadOrigin;

use crate::{
	mock::*, AccessTokens, Error, Event, HoldReason, LiveStreams, NextStreamId, StreamId,
	StreamStatus, StreamsByCreator, TokenCount,
};

pub fn register(creator: AccountId, price: Balance) -> StreamId {
	let id = NextStreamId::<Test>::get();
	assert_ok!(Streams::register_stream(
		RuntimeOrigin::signed(creator),
		b"My stream".to_vec(),
		b"ipfs://meta".to_vec(),
		price,
		100,
	));
	id
}

pub fn live(creator: AccountId, price: Balance) -> StreamId {
	let id = register(creator, price);
	assert_ok!(Streams::start_stream(RuntimeOrigin::signed(creator), id));
	id
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::StreamDeposit.into(), &who)
}

#[test]
fn register_stores_indexes_and_holds_the_deposit() {
	ExtBuilder.build_and_execute(|| {
		let free_before = Balances::free_balance(ALICE);
		let first = register(ALICE, 5);
		let second = register(ALICE, 0);
		assert_eq!((first, second), (0, 1));
		System::assert_last_event(
			Event::StreamRegistered { stream_id: 1, creator: ALICE, deposit: DEPOSIT }.into(),
		);
		let info = Streams::stream(0).unwrap();
		assert_eq!(info.creator, ALICE);
		assert_eq!(info.title.to_vec(), b"My stream".to_vec());
		assert_eq!(info.price_per_second, 5);
		assert_eq!(info.status, StreamStatus::Registered);
		assert_eq!(info.created_at, 1);
		assert_eq!(info.deposit, DEPOSIT);
		assert_eq!(StreamsByCreator::<Test>::get(ALICE).to_vec(), vec![0, 1]);
		assert_eq!(held(ALICE), 2 * DEPOSIT);
		assert_eq!(Balances::free_balance(ALICE), free_before - 2 * DEPOSIT);
	});
}

#[test]
fn register_checks_its_input() {
	ExtBuilder.build_and_execute(|| {
		let call = |title: &[u8], description: &[u8]| {
			Streams::register_stream(
				RuntimeOrigin::signed(ALICE),
				title.to_vec(),
				description.to_vec(),
				1,
				0,
			)
		};
		assert_noop!(call(b"", b""), Error::<Test>::EmptyTitle);
		assert_noop!(call(&[b'x'; 17], b""), Error::<Test>::TitleTooLong);
		assert_noop!(call(b"ok", &[b'x'; 33]), Error::<Test>::DescriptionTooLong);
		// Exactly at the bounds is fine.
		assert_ok!(call(&[b'x'; 16], &[b'y'; 32]));
		assert_noop!(
			Streams::register_stream(RuntimeOrigin::root(), b"t".to_vec(), vec![], 1, 0),
			BadOrigin
		);
		assert_noop!(
			Streams::register_stream(RuntimeOrigin::signed(POOR), b"t".to_vec(), vec![], 1, 0),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn a_creator_has_a_bounded_number_of_streams() {
	ExtBuilder.build_and_execute(|| {
		for _ in 0..MAX_STREAMS_PER_CREATOR {
			register(ALICE, 1);
		}
		assert_noop!(
			Streams::register_stream(RuntimeOrigin::signed(ALICE), b"t".to_vec(), vec![], 1, 0),
			Error::<Test>::TooManyStreams
		);
		// Removing an ended stream makes room.
		assert_ok!(Streams::end_stream(RuntimeOrigin::signed(ALICE), 0));
		assert_ok!(Streams::remove_stream(RuntimeOrigin::signed(ALICE), 0));
		register(ALICE, 1);
		// Others are not affected.
		register(BOB, 1);
	});
}

#[test]
fn update_changes_only_what_is_given() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, 5);
		assert_ok!(Streams::update_stream(
			RuntimeOrigin::signed(ALICE),
			id,
			Some(b"New title".to_vec()),
			None,
			Some(7),
			None,
			Some(b"https://node:8088".to_vec()),
		));
		System::assert_last_event(Event::StreamUpdated { stream_id: id }.into());
		let info = Streams::stream(id).unwrap();
		assert_eq!(info.title.to_vec(), b"New title".to_vec());
		assert_eq!(info.description.to_vec(), b"ipfs://meta".to_vec());
		assert_eq!((info.price_per_second, info.max_viewers), (7, 100));
		assert_eq!(info.origin.unwrap().to_vec(), b"https://node:8088".to_vec());

		// An empty origin clears it.
		assert_ok!(Streams::update_stream(
			RuntimeOrigin::signed(ALICE),
			id,
			None,
			None,
			None,
			Some(0),
			Some(vec![])
		));
		let info = Streams::stream(id).unwrap();
		assert_eq!((info.origin, info.max_viewers), (None, 0));

		let update = |who, title: Option<Vec<u8>>, origin: Option<Vec<u8>>| {
			Streams::update_stream(RuntimeOrigin::signed(who), id, title, None, None, None, origin)
		};
		assert_noop!(update(BOB, None, None), Error::<Test>::NotCreator);
		assert_noop!(update(ALICE, Some(vec![]), None), Error::<Test>::EmptyTitle);
		assert_noop!(update(ALICE, Some(vec![1; 17]), None), Error::<Test>::TitleTooLong);
		assert_noop!(update(ALICE, None, Some(vec![1; 25])), Error::<Test>::OriginTooLong);
		assert_noop!(
			Streams::update_stream(RuntimeOrigin::signed(ALICE), 9, None, None, None, None, None),
			Error::<Test>::UnknownStream
		);
		assert_ok!(Streams::end_stream(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(update(ALICE, None, None), Error::<Test>::StreamEnded);
	});
}

#[test]
fn the_lifecycle_goes_registered_live_ended_removed() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, 5);
		assert_noop!(
			Streams::start_stream(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotCreator
		);
		assert_noop!(
			Streams::remove_stream(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::StreamNotEnded
		);

		run_to_block(3);
		assert_ok!(Streams::start_stream(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(Event::StreamStarted { stream_id: id }.into());
		assert_eq!(Streams::stream(id).unwrap().started_at, Some(3));
		assert!(LiveStreams::<Test>::contains_key(id));
		assert_noop!(
			Streams::start_stream(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::AlreadyLive
		);

		run_to_block(5);
		assert_noop!(
			Streams::end_stream(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotCreator
		);
		assert_ok!(Streams::end_stream(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(Event::StreamEnded { stream_id: id, forced: false }.into());
		let info = Streams::stream(id).unwrap();
		assert_eq!((info.status, info.ended_at), (StreamStatus::Ended, Some(5)));
		assert!(!LiveStreams::<Test>::contains_key(id));
		assert_noop!(
			Streams::end_stream(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::StreamEnded
		);
		assert_noop!(
			Streams::start_stream(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::StreamEnded
		);

		assert_noop!(
			Streams::remove_stream(RuntimeOrigin::signed(BOB), id),
			Error::<Test>::NotCreator
		);
		let free_before = Balances::free_balance(ALICE);
		assert_ok!(Streams::remove_stream(RuntimeOrigin::signed(ALICE), id));
		System::assert_last_event(
			Event::StreamRemoved { stream_id: id, deposit_released: DEPOSIT }.into(),
		);
		assert_eq!(Balances::free_balance(ALICE), free_before + DEPOSIT);
		assert_eq!(held(ALICE), 0);
		assert!(Streams::stream(id).is_none());
		assert!(StreamsByCreator::<Test>::get(ALICE).is_empty());
		assert_noop!(
			Streams::remove_stream(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::UnknownStream
		);
	});
}

#[test]
fn a_registered_stream_can_end_without_going_live() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, 5);
		assert_ok!(Streams::end_stream(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(Streams::stream(id).unwrap().started_at, None);
	});
}

#[test]
fn removing_a_stream_removes_its_tokens() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, BOB, None));
		assert_ok!(Streams::buy_access(RuntimeOrigin::signed(CHARLIE), id, 60, Balance::MAX));
		assert_eq!(TokenCount::<Test>::get(id), 2);
		assert_ok!(Streams::end_stream(RuntimeOrigin::signed(ALICE), id));
		assert_ok!(Streams::remove_stream(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(AccessTokens::<Test>::iter_prefix(id).count(), 0);
		assert_eq!(TokenCount::<Test>::get(id), 0);
	});
}

#[test]
fn root_can_end_any_stream() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		assert_noop!(Streams::force_end_stream(RuntimeOrigin::signed(BOB), id), BadOrigin);
		assert_noop!(
			Streams::force_end_stream(RuntimeOrigin::root(), 7),
			Error::<Test>::UnknownStream
		);
		assert_ok!(Streams::force_end_stream(RuntimeOrigin::root(), id));
		System::assert_last_event(Event::StreamEnded { stream_id: id, forced: true }.into());
		assert_eq!(Streams::stream(id).unwrap().status, StreamStatus::Ended);
		assert_noop!(
			Streams::force_end_stream(RuntimeOrigin::root(), id),
			Error::<Test>::StreamEnded
		);
	});
}

#[test]
fn queries_list_streams_by_creator_and_live_streams_in_pages() {
	ExtBuilder.build_and_execute(|| {
		let a = live(ALICE, 1);
		let b = register(ALICE, 1);
		let c = live(BOB, 1);
		let d = live(BOB, 1);
		assert_ok!(Streams::end_stream(RuntimeOrigin::signed(BOB), d));
		let alices: Vec<_> =
			Streams::streams_by_creator(&ALICE).into_iter().map(|(id, _)| id).collect();
		assert_eq!(alices, vec![a, b]);

		let (all, next) = Streams::live_streams(None, 10);
		let mut ids: Vec<_> = all.iter().map(|(id, _)| *id).collect();
		ids.sort();
		assert_eq!((ids, next), (vec![a, c], None));

		let (first, next) = Streams::live_streams(None, 1);
		assert_eq!(first.len(), 1);
		let cursor = next.expect("a second page");
		let (second, next) = Streams::live_streams(Some(cursor), 1);
		assert_eq!(second.len(), 1);
		assert_eq!(next, None);
		assert_ne!(first[0].0, second[0].0);
		assert!(Streams::live_streams(None, 0).0.is_empty());
	});
}

#[test]
fn integrity_test_passes() {
	ExtBuilder.build().execute_with(|| {
		use frame_support::traits::Hooks;
		<Streams as Hooks<u64>>::integrity_test();
	});
}
