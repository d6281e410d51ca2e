//! Opening, topping up, closing and finalizing channels.

use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};
use sp_runtime::DispatchError;

use crate::{
	mock::{
		account, alice, bob, charlie, lane, nobody, payment_events, run_to_block, sign, Balances,
		ExtBuilder, Payments, RuntimeHoldReason, RuntimeOrigin, Test, CHALLENGE_PERIOD, ENDOWMENT,
		INACTIVITY_PERIOD, MAX_CHANNELS_PER_PAYER, MIN_DEPOSIT,
	},
	ChannelsByPayee, ChannelsByPayer, Error, Event, HoldReason, Voucher,
};

fn held(who: &crate::mock::AccountId) -> u128 {
	Balances::balance_on_hold(&RuntimeHoldReason::Payments(HoldReason::ChannelDeposit), who)
}

fn free(who: &crate::mock::AccountId) -> u128 {
	pallet_balances::Pallet::<Test>::free_balance(who)
}

/// Bob opens a channel to Alice with `deposit`; returns its id.
pub fn open(deposit: u128) -> u64 {
	let id = crate::NextChannelId::<Test>::get();
	assert_ok!(Payments::open_channel(RuntimeOrigin::signed(bob()), alice(), Some(7), deposit));
	id
}

#[test]
fn opening_holds_the_deposit_and_indexes_the_channel() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		assert_eq!(id, 0);
		assert_eq!(held(&bob()), 1_000);
		assert_eq!(free(&bob()), ENDOWMENT - 1_000);
		let channel = Payments::channel(id).unwrap();
		assert_eq!((channel.payer, channel.payee), (bob(), alice()));
		assert_eq!((channel.deposit, channel.paid, channel.lanes), (1_000, 0, 0));
		assert_eq!(channel.stream_id, Some(7));
		assert_eq!(channel.closes_at, None);
		assert_eq!(ChannelsByPayer::<Test>::get(bob()).into_inner(), vec![0]);
		assert!(ChannelsByPayee::<Test>::contains_key(alice(), 0));
		assert_eq!(Payments::channels_of(&bob()).len(), 1);
		assert_eq!(Payments::channels_of(&alice()).len(), 1);
		assert!(Payments::channels_of(&charlie()).is_empty());
		assert_eq!(
			payment_events(),
			vec![Event::ChannelOpened {
				channel_id: 0,
				payer: bob(),
				payee: alice(),
				stream_id: Some(7),
				deposit: 1_000
			}]
		);
		// Ids are never reused.
		assert_eq!(open(MIN_DEPOSIT), 1);
	});
}

#[test]
fn opening_rejects_bad_requests() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Payments::open_channel(RuntimeOrigin::signed(bob()), bob(), None, 1_000),
			Error::<Test>::SelfChannel
		);
		assert_noop!(
			Payments::open_channel(RuntimeOrigin::signed(bob()), alice(), None, MIN_DEPOSIT - 1),
			Error::<Test>::DepositTooLow
		);
		assert_noop!(
			Payments::open_channel(RuntimeOrigin::signed(bob()), alice(), None, ENDOWMENT),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Payments::open_channel(RuntimeOrigin::signed(nobody()), alice(), None, MIN_DEPOSIT),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Payments::open_channel(RuntimeOrigin::none(), alice(), None, MIN_DEPOSIT),
			DispatchError::BadOrigin
		);
		for _ in 0..MAX_CHANNELS_PER_PAYER {
			open(MIN_DEPOSIT);
		}
		assert_noop!(
			Payments::open_channel(RuntimeOrigin::signed(bob()), charlie(), None, MIN_DEPOSIT),
			Error::<Test>::TooManyChannels
		);
		// Anyone else can still pay Alice: payees are not bounded.
		assert_ok!(Payments::open_channel(
			RuntimeOrigin::signed(charlie()),
			alice(),
			None,
			MIN_DEPOSIT
		));
	});
}

#[test]
fn top_up_adds_to_the_deposit() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		run_to_block(5);
		assert_ok!(Payments::top_up(RuntimeOrigin::signed(bob()), id, 500));
		let channel = Payments::channel(id).unwrap();
		assert_eq!((channel.deposit, channel.last_activity), (1_500, 5));
		assert_eq!(held(&bob()), 1_500);
		assert_eq!(
			payment_events().last(),
			Some(&Event::ChannelToppedUp { channel_id: id, amount: 500, deposit: 1_500 })
		);
		assert_noop!(
			Payments::top_up(RuntimeOrigin::signed(alice()), id, 500),
			Error::<Test>::NotPayer
		);
		assert_noop!(
			Payments::top_up(RuntimeOrigin::signed(bob()), id, 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Payments::top_up(RuntimeOrigin::signed(bob()), 99, 500),
			Error::<Test>::UnknownChannel
		);
		assert_noop!(
			Payments::top_up(RuntimeOrigin::signed(bob()), id, ENDOWMENT),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Payments::top_up(RuntimeOrigin::signed(bob()), id, u128::MAX),
			Error::<Test>::Overflow
		);
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), id));
		assert_noop!(
			Payments::top_up(RuntimeOrigin::signed(bob()), id, 500),
			Error::<Test>::ChannelClosing
		);
	});
}

#[test]
fn payer_close_waits_out_the_challenge_period() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		run_to_block(3);
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), id));
		let closes_at = 3 + CHALLENGE_PERIOD;
		assert_eq!(Payments::channel(id).unwrap().closes_at, Some(closes_at));
		assert_eq!(
			payment_events().last(),
			Some(&Event::CloseRequested { channel_id: id, closes_at })
		);
		assert_noop!(
			Payments::close(RuntimeOrigin::signed(bob()), id),
			Error::<Test>::ChannelClosing
		);
		assert_noop!(
			Payments::finalize_close(RuntimeOrigin::signed(bob()), id),
			Error::<Test>::ChallengePeriodActive
		);
		// The payee can still claim in the last block of the challenge period.
		run_to_block(closes_at);
		assert_noop!(
			Payments::finalize_close(RuntimeOrigin::signed(charlie()), id),
			Error::<Test>::ChallengePeriodActive
		);
		let voucher = Voucher { channel_id: id, lane: lane(), cumulative_amount: 300 };
		assert_ok!(Payments::claim(RuntimeOrigin::signed(alice()), voucher.clone(), sign("Bob", &voucher)));
		run_to_block(closes_at + 1);
		// Anyone may finalize: it only returns the payer's own funds.
		assert_ok!(Payments::finalize_close(RuntimeOrigin::signed(charlie()), id));
		assert_eq!(held(&bob()), 0);
		assert_eq!(free(&bob()), ENDOWMENT - 300);
		assert_eq!(free(&alice()), ENDOWMENT + 300);
		assert_eq!(Payments::channel(id), None);
		assert!(ChannelsByPayer::<Test>::get(bob()).is_empty());
		assert!(!ChannelsByPayer::<Test>::contains_key(bob()));
		assert!(!ChannelsByPayee::<Test>::contains_key(alice(), id));
		assert_eq!(
			payment_events().last(),
			Some(&Event::ChannelClosed {
				channel_id: id,
				payer: bob(),
				payee: alice(),
				paid: 300,
				refunded: 700
			})
		);
		// A voucher for the closed channel is worthless, even a newer one.
		let voucher = Voucher { channel_id: id, lane: lane(), cumulative_amount: 400 };
		assert_noop!(
			Payments::claim(RuntimeOrigin::signed(alice()), voucher.clone(), sign("Bob", &voucher)),
			Error::<Test>::UnknownChannel
		);
	});
}

#[test]
fn payee_close_refunds_at_once() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		assert_noop!(
			Payments::close(RuntimeOrigin::signed(charlie()), id),
			Error::<Test>::NotParticipant
		);
		assert_ok!(Payments::close(RuntimeOrigin::signed(alice()), id));
		assert_eq!(Payments::channel(id), None);
		assert_eq!(free(&bob()), ENDOWMENT);
		assert_noop!(
			Payments::close(RuntimeOrigin::signed(alice()), id),
			Error::<Test>::UnknownChannel
		);
	});
}

#[test]
fn payee_can_close_a_closing_channel_at_once() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), id));
		assert_ok!(Payments::close(RuntimeOrigin::signed(alice()), id));
		assert_eq!(free(&bob()), ENDOWMENT);
	});
}

#[test]
fn an_inactive_channel_can_always_be_recovered() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		assert_noop!(
			Payments::finalize_close(RuntimeOrigin::signed(bob()), id),
			Error::<Test>::NotClosing
		);
		// A claim is activity: it restarts the inactivity period.
		run_to_block(500);
		let voucher = Voucher { channel_id: id, lane: lane(), cumulative_amount: 100 };
		assert_ok!(Payments::claim(RuntimeOrigin::signed(alice()), voucher.clone(), sign("Bob", &voucher)));
		run_to_block(500 + INACTIVITY_PERIOD);
		assert_noop!(
			Payments::finalize_close(RuntimeOrigin::signed(bob()), id),
			Error::<Test>::NotClosing
		);
		run_to_block(500 + INACTIVITY_PERIOD + 1);
		assert_ok!(Payments::finalize_close(RuntimeOrigin::signed(bob()), id));
		assert_eq!(free(&bob()), ENDOWMENT - 100);
		assert_eq!(held(&bob()), 0);
	});
}

#[test]
fn finalize_needs_a_signed_origin_and_a_channel() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Payments::finalize_close(RuntimeOrigin::signed(bob()), 5),
			Error::<Test>::UnknownChannel
		);
		let id = open(1_000);
		assert_noop!(Payments::finalize_close(RuntimeOrigin::none(), id), DispatchError::BadOrigin);
	});
}

#[test]
fn a_payer_with_several_channels_keeps_the_others() {
	ExtBuilder.build_and_execute(|| {
		let first = open(1_000);
		assert_ok!(Payments::open_channel(
			RuntimeOrigin::signed(bob()),
			account("Dave"),
			None,
			2_000
		));
		assert_ok!(Payments::close(RuntimeOrigin::signed(alice()), first));
		assert_eq!(ChannelsByPayer::<Test>::get(bob()).into_inner(), vec![1]);
		assert_eq!(held(&bob()), 2_000);
		assert_eq!(Payments::channels_of(&account("Dave")).len(), 1);
	});
}
