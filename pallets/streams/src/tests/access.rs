//! Granting, revoking and buying access, and the access question nodes ask.

use frame_support::{assert_noop, assert_ok};

use super::registry::{live, register};
use crate::{
	mock::*, AccessSource, AccessStatus, AccessToken, AccessTokens, Error, Event, StreamId,
	TokenCount,
};

fn token(stream: StreamId, viewer: AccountId) -> Option<AccessToken<u64>> {
	AccessTokens::<Test>::get(stream, viewer)
}

#[test]
fn the_creator_grants_and_revokes_access() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		assert_eq!(Streams::access(id, &BOB), AccessStatus::NoAccess);

		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, BOB, Some(20)));
		System::assert_last_event(
			Event::AccessGranted { stream_id: id, viewer: BOB, valid_until: 20 }.into(),
		);
		assert_eq!(
			Streams::access(id, &BOB),
			AccessStatus::Allowed { until: Some(20), source: AccessSource::Granted }
		);
		// A grant without end.
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, CHARLIE, None));
		assert_eq!(
			Streams::access(id, &CHARLIE),
			AccessStatus::Allowed { until: None, source: AccessSource::Granted }
		);
		assert_eq!(TokenCount::<Test>::get(id), 2);

		assert_noop!(
			Streams::revoke_access(RuntimeOrigin::signed(BOB), id, CHARLIE),
			Error::<Test>::NotCreator
		);
		assert_ok!(Streams::revoke_access(RuntimeOrigin::signed(ALICE), id, BOB));
		System::assert_last_event(Event::AccessRevoked { stream_id: id, viewer: BOB }.into());
		assert_eq!(Streams::access(id, &BOB), AccessStatus::NoAccess);
		assert_eq!(TokenCount::<Test>::get(id), 1);
		assert_noop!(
			Streams::revoke_access(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::NoToken
		);
	});
}

#[test]
fn grants_are_checked() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		let grant = |who, viewer, until| {
			Streams::grant_access(RuntimeOrigin::signed(who), id, viewer, until)
		};
		assert_noop!(grant(BOB, CHARLIE, None), Error::<Test>::NotCreator);
		assert_noop!(grant(ALICE, ALICE, None), Error::<Test>::CreatorHasAccess);
		run_to_block(10);
		assert_noop!(grant(ALICE, BOB, Some(9)), Error::<Test>::ExpiryInPast);
		// Valid through the current block is allowed.
		assert_ok!(grant(ALICE, BOB, Some(10)));
		assert_noop!(
			Streams::grant_access(RuntimeOrigin::signed(ALICE), 99, BOB, None),
			Error::<Test>::UnknownStream
		);
		assert_ok!(Streams::end_stream(RuntimeOrigin::signed(ALICE), id));
		assert_noop!(grant(ALICE, CHARLIE, None), Error::<Test>::StreamEnded);
	});
}

#[test]
fn a_grant_never_shortens_access() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, BOB, Some(100)));
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, BOB, Some(50)));
		assert_eq!(token(id, BOB).unwrap().valid_until, 100);
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, BOB, Some(150)));
		assert_eq!(token(id, BOB).unwrap().valid_until, 150);
		assert_eq!(TokenCount::<Test>::get(id), 1);
	});
}

#[test]
fn tokens_expire_after_their_last_block() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, BOB, Some(20)));
		run_to_block(20);
		assert!(matches!(Streams::access(id, &BOB), AccessStatus::Allowed { .. }));
		run_to_block(21);
		assert_eq!(Streams::access(id, &BOB), AccessStatus::Expired { at: 20 });
	});
}

#[test]
fn buying_pays_the_creator_and_extends_the_token() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		let (alice, bob) = (Balances::free_balance(ALICE), Balances::free_balance(BOB));

		// 60 s at 6 s per block = 10 blocks, from block 1.
		assert_ok!(Streams::buy_access(RuntimeOrigin::signed(BOB), id, 60, Balance::MAX));
		System::assert_last_event(
			Event::AccessBought {
				stream_id: id,
				viewer: BOB,
				seconds: 60,
				paid: 300,
				valid_until: 11,
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(ALICE), alice + 300);
		assert_eq!(Balances::free_balance(BOB), bob - 300);
		assert_eq!(
			Streams::access(id, &BOB),
			AccessStatus::Allowed { until: Some(11), source: AccessSource::Bought }
		);

		// A second purchase extends from the current end, not from now.
		run_to_block(5);
		assert_ok!(Streams::buy_access(RuntimeOrigin::signed(BOB), id, 7, Balance::MAX));
		// 7 s rounds up to 2 blocks.
		assert_eq!(token(id, BOB).unwrap().valid_until, 13);

		// After expiry, buying starts again from now.
		run_to_block(30);
		assert_eq!(Streams::access(id, &BOB), AccessStatus::Expired { at: 13 });
		assert_ok!(Streams::buy_access(RuntimeOrigin::signed(BOB), id, 6, Balance::MAX));
		assert_eq!(token(id, BOB).unwrap().valid_until, 31);
		assert_eq!(TokenCount::<Test>::get(id), 1);
	});
}

#[test]
fn access_can_be_bought_before_the_stream_starts() {
	ExtBuilder.build_and_execute(|| {
		let id = register(ALICE, 5);
		assert_ok!(Streams::buy_access(RuntimeOrigin::signed(BOB), id, 60, Balance::MAX));
		assert_eq!(Streams::access(id, &BOB), AccessStatus::StreamNotLive);
		assert_ok!(Streams::start_stream(RuntimeOrigin::signed(ALICE), id));
		assert!(matches!(Streams::access(id, &BOB), AccessStatus::Allowed { .. }));
	});
}

#[test]
fn buying_is_checked() {
	ExtBuilder.build_and_execute(|| {
		let paid = live(ALICE, 5);
		let free = live(ALICE, 0);
		let buy =
			|who, stream, seconds| Streams::buy_access(RuntimeOrigin::signed(who), stream, seconds, Balance::MAX);
		assert_noop!(buy(BOB, 42, 1), Error::<Test>::UnknownStream);
		assert_noop!(buy(BOB, free, 1), Error::<Test>::FreeStream);
		assert_noop!(buy(ALICE, paid, 1), Error::<Test>::CreatorHasAccess);
		assert_noop!(buy(BOB, paid, 0), Error::<Test>::ZeroSeconds);
		assert_noop!(buy(POOR, paid, 1), Error::<Test>::InsufficientBalance);
		// Bob can pay for at most what keeps his account alive.
		assert_noop!(buy(BOB, paid, 200_000), Error::<Test>::InsufficientBalance);
		assert_ok!(Streams::end_stream(RuntimeOrigin::signed(ALICE), paid));
		assert_noop!(buy(BOB, paid, 1), Error::<Test>::StreamEnded);
	});
}

#[test]
fn a_price_that_overflows_is_refused() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, Balance::MAX / 2);
		assert_noop!(
			Streams::buy_access(RuntimeOrigin::signed(BOB), id, 3, Balance::MAX),
			Error::<Test>::PriceOverflow
		);
	});
}

#[test]
fn bought_access_cannot_be_revoked_but_outlives_a_shorter_grant() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		assert_ok!(Streams::buy_access(RuntimeOrigin::signed(BOB), id, 600, Balance::MAX)); // until 101
		assert_noop!(
			Streams::revoke_access(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::CannotRevokeBought
		);
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, BOB, Some(50)));
		assert_eq!(
			token(id, BOB).unwrap(),
			AccessToken { valid_until: 101, source: AccessSource::Bought }
		);

		// A longer grant is kept when the viewer then buys less than it covers.
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, CHARLIE, Some(500)));
		assert_ok!(Streams::buy_access(RuntimeOrigin::signed(CHARLIE), id, 6, Balance::MAX));
		assert_eq!(token(id, CHARLIE).unwrap().valid_until, 501);
	});
}

#[test]
fn tokens_per_stream_are_bounded() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		for viewer in 10..10 + u64::from(MAX_TOKENS_PER_STREAM) {
			assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, viewer, None));
		}
		assert_noop!(
			Streams::grant_access(RuntimeOrigin::signed(ALICE), id, BOB, None),
			Error::<Test>::TooManyTokens
		);
		assert_noop!(
			Streams::buy_access(RuntimeOrigin::signed(BOB), id, 6, Balance::MAX),
			Error::<Test>::TooManyTokens
		);
		// Extending an existing token needs no room.
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, 10, Some(5)));
	});
}

#[test]
fn the_access_answer_covers_every_case() {
	ExtBuilder.build_and_execute(|| {
		assert_eq!(Streams::access(7, &BOB), AccessStatus::UnknownStream);
		let id = register(ALICE, 5);
		assert_eq!(Streams::access(id, &BOB), AccessStatus::StreamNotLive);
		assert_ok!(Streams::start_stream(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(
			Streams::access(id, &ALICE),
			AccessStatus::Allowed { until: None, source: AccessSource::Creator }
		);
		assert_eq!(Streams::access(id, &BOB), AccessStatus::NoAccess);

		// A funded payment channel to the creator for this stream is access.
		TestChannels::open(id, BOB, ALICE);
		assert_eq!(
			Streams::access(id, &BOB),
			AccessStatus::Allowed { until: None, source: AccessSource::Channel }
		);
		// A channel for another stream, or to someone else, is not.
		TestChannels::open(id + 1, CHARLIE, ALICE);
		TestChannels::open(id, CHARLIE, BOB);
		assert_eq!(Streams::access(id, &CHARLIE), AccessStatus::NoAccess);

		let free = live(BOB, 0);
		assert_eq!(
			Streams::access(free, &CHARLIE),
			AccessStatus::Allowed { until: None, source: AccessSource::Free }
		);
		assert_ok!(Streams::end_stream(RuntimeOrigin::signed(ALICE), id));
		assert_eq!(Streams::access(id, &ALICE), AccessStatus::StreamNotLive);
	});
}

#[test]
fn seconds_convert_to_whole_blocks_rounding_up() {
	ExtBuilder.build_and_execute(|| {
		assert_eq!(Streams::blocks_for(1), 1);
		assert_eq!(Streams::blocks_for(6), 1);
		assert_eq!(Streams::blocks_for(7), 2);
		assert_eq!(Streams::blocks_for(60), 10);
		assert_eq!(Streams::blocks_for(u32::MAX), (u64::from(u32::MAX) * 1000).div_ceil(6000));
	});
}

#[test]
fn a_price_raised_in_the_same_block_cannot_take_more_than_the_buyer_allowed() {
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		let set_price = |price| {
			Streams::update_stream(RuntimeOrigin::signed(ALICE), id, None, None, Some(price), None, None)
		};
		let before = Balances::free_balance(BOB);
		// Bob agrees to 60 s at 5 a second; Alice's price rise lands in the same block first.
		assert_ok!(set_price(500));
		assert_noop!(
			Streams::buy_access(RuntimeOrigin::signed(BOB), id, 60, 300),
			Error::<Test>::PriceAboveMax
		);
		assert_eq!(Balances::free_balance(BOB), before);
		// At the price he agreed to, the purchase goes through and takes exactly that.
		assert_ok!(set_price(5));
		assert_ok!(Streams::buy_access(RuntimeOrigin::signed(BOB), id, 60, 300));
		assert_eq!(Balances::free_balance(BOB), before - 300);
	});
}

#[test]
fn expired_tokens_are_reaped_when_a_stream_is_full() {
	use frame_support::traits::fungible::Mutate;
	ExtBuilder.build_and_execute(|| {
		let id = live(ALICE, 5);
		// An attacker fills the stream with one-second purchases from throwaway accounts.
		for viewer in 10..10 + u64::from(MAX_TOKENS_PER_STREAM) {
			let _ = Balances::mint_into(&viewer, 1_000);
			assert_ok!(Streams::buy_access(RuntimeOrigin::signed(viewer), id, 1, Balance::MAX));
		}
		assert_noop!(
			Streams::buy_access(RuntimeOrigin::signed(BOB), id, 60, Balance::MAX),
			Error::<Test>::TooManyTokens
		);
		// Once they run out they no longer hold seats: an honest viewer gets in.
		run_to_block(System::block_number() + Streams::blocks_for(1) + 1);
		assert_ok!(Streams::buy_access(RuntimeOrigin::signed(BOB), id, 60, Balance::MAX));
		assert_eq!(TokenCount::<Test>::get(id), 1);
		assert!(token(id, 10).is_none());
		assert_eq!(Streams::access(id, &BOB), AccessStatus::Allowed {
			until: Some(token(id, BOB).unwrap().valid_until),
			source: AccessSource::Bought
		});
		// Valid tokens are never reaped.
		assert_ok!(Streams::grant_access(RuntimeOrigin::signed(ALICE), id, CHARLIE, None));
		assert!(token(id, CHARLIE).is_some() && token(id, BOB).is_some());
	});
}
