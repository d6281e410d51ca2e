//! An open, funded channel to a stream's creator is an access right for that stream.

use frame_support::assert_ok;
use pallet_streams::{AccessSource, AccessStatus};

use crate::{
	mock::{
		alice, bob, charlie, lane, sign, ExtBuilder, Payments, RuntimeOrigin, Streams,
		ACCESS_GRACE_SECONDS,
	},
	Voucher,
};

const PRICE: u128 = 2;
/// What the grace window costs at `PRICE`.
const GRACE: u128 = PRICE * ACCESS_GRACE_SECONDS as u128;

/// Alice registers and starts a priced stream; returns its id.
fn live_stream() -> u64 {
	let id = pallet_streams::NextStreamId::<crate::mock::Test>::get();
	assert_ok!(Streams::register_stream(
		RuntimeOrigin::signed(alice()),
		b"show".to_vec(),
		vec![],
		PRICE,
		0
	));
	assert_ok!(Streams::start_stream(RuntimeOrigin::signed(alice()), id));
	id
}

fn channel_allowed() -> AccessStatus<u64> {
	AccessStatus::Allowed { until: None, source: AccessSource::Channel }
}

#[test]
fn a_funded_channel_to_the_creator_gives_access() {
	ExtBuilder.build_and_execute(|| {
		let stream = live_stream();
		assert_eq!(Streams::access(stream, &bob()), AccessStatus::NoAccess);
		assert_ok!(Payments::open_channel(
			RuntimeOrigin::signed(bob()),
			alice(),
			Some(stream),
			GRACE + 100
		));
		assert_eq!(Streams::access(stream, &bob()), channel_allowed());
		// Not Charlie's: the channel is Bob's.
		assert_eq!(Streams::access(stream, &charlie()), AccessStatus::NoAccess);
	});
}

#[test]
fn access_ends_when_the_channel_runs_low_or_closes() {
	ExtBuilder.build_and_execute(|| {
		let stream = live_stream();
		assert_ok!(Payments::open_channel(
			RuntimeOrigin::signed(bob()),
			alice(),
			None,
			GRACE + 100
		));
		// Paid down to exactly the grace window: still watching.
		let v = Voucher { channel_id: 0, lane: lane(), cumulative_amount: 100 };
		assert_ok!(Payments::claim(RuntimeOrigin::signed(alice()), v.clone(), sign("Bob", &v)));
		assert_eq!(Streams::access(stream, &bob()), channel_allowed());
		// One unit less than the grace window: payment required.
		let v = Voucher { channel_id: 0, lane: lane(), cumulative_amount: 101 };
		assert_ok!(Payments::claim(RuntimeOrigin::signed(alice()), v.clone(), sign("Bob", &v)));
		assert_eq!(Streams::access(stream, &bob()), AccessStatus::NoAccess);
		// A top-up restores it; asking to close ends it.
		assert_ok!(Payments::top_up(RuntimeOrigin::signed(bob()), 0, 1));
		assert_eq!(Streams::access(stream, &bob()), channel_allowed());
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), 0));
		assert_eq!(Streams::access(stream, &bob()), AccessStatus::NoAccess);
	});
}

#[test]
fn a_channel_pays_for_its_stream_or_for_any_of_the_payee() {
	ExtBuilder.build_and_execute(|| {
		let first = live_stream();
		let second = live_stream();
		assert_ok!(Payments::open_channel(
			RuntimeOrigin::signed(bob()),
			alice(),
			Some(first),
			GRACE + 100
		));
		assert_eq!(Streams::access(first, &bob()), channel_allowed());
		assert_eq!(Streams::access(second, &bob()), AccessStatus::NoAccess);
		assert_ok!(Payments::open_channel(
			RuntimeOrigin::signed(bob()),
			alice(),
			None,
			GRACE + 100
		));
		assert_eq!(Streams::access(second, &bob()), channel_allowed());
	});
}

#[test]
fn a_channel_to_someone_else_gives_no_access() {
	ExtBuilder.build_and_execute(|| {
		let stream = live_stream();
		assert_ok!(Payments::open_channel(
			RuntimeOrigin::signed(bob()),
			charlie(),
			Some(stream),
			GRACE * 10
		));
		assert_eq!(Streams::access(stream, &bob()), AccessStatus::NoAccess);
	});
}
