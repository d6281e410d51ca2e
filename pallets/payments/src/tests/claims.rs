//! Settling vouchers: payment of the difference, replay protection, cooperative close, and the
//! authorized (account-less) transaction path.

use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	dispatch::GetDispatchInfo,
	pallet_prelude::{InvalidTransaction, TransactionSource, TransactionValidityError},
	traits::{fungible::InspectHold, Authorize},
};
use sp_core::Pair;
use sp_runtime::{
	traits::{Applyable, Checkable},
	DispatchError,
};
use sutantra_payments_primitives::voucher_payload;

use super::channels::open;
use crate::{
	invalid,
	mock::{
		account, alice, bob, charlie, lane, nobody, pair, payment_events, sign, AccountId, Balances, ExtBuilder, Extrinsic,
		Payments, RuntimeCall, RuntimeHoldReason, RuntimeOrigin, System, Test, CLAIM_PRIORITY,
		ENDOWMENT, EXISTENTIAL_DEPOSIT, MIN_AUTHORIZED_CLAIM,
	},
	Call, Error, Event, HoldReason, Voucher, VoucherError, VoucherSignature,
};

fn free(who: &AccountId) -> u128 {
	pallet_balances::Pallet::<Test>::free_balance(who)
}

fn held(who: &AccountId) -> u128 {
	Balances::balance_on_hold(&RuntimeHoldReason::Payments(HoldReason::ChannelDeposit), who)
}

fn voucher(channel_id: u64, cumulative_amount: u128) -> Voucher<AccountId, u128> {
	Voucher { channel_id, lane: lane(), cumulative_amount }
}

fn voucher_on(node: &str, channel_id: u64, cumulative_amount: u128) -> Voucher<AccountId, u128> {
	Voucher { channel_id, lane: account(node), cumulative_amount }
}

fn claim(voucher: Voucher<AccountId, u128>, signature: VoucherSignature) -> sp_runtime::DispatchResult {
	Payments::claim(RuntimeOrigin::signed(charlie()), voucher, signature)
}

#[test]
fn claims_pay_the_difference_to_what_was_paid() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let first = voucher(id, 300);
		assert_eq!(Payments::check_voucher(&first, &sign("Bob", &first)), Ok(300));
		assert_ok!(claim(first.clone(), sign("Bob", &first)));
		assert_eq!(free(&alice()), ENDOWMENT + 300);
		assert_eq!(held(&bob()), 700);
		assert_eq!(
			payment_events().last(),
			Some(&Event::Claimed {
				channel_id: id,
				lane: lane(),
				payee: alice(),
				amount: 300,
				lane_paid: 300,
				total_paid: 300,
			})
		);
		// Vouchers are cumulative: the next pays only what it adds.
		let second = voucher(id, 750);
		assert_eq!(Payments::check_voucher(&second, &sign("Bob", &second)), Ok(450));
		assert_ok!(claim(second.clone(), sign("Bob", &second)));
		assert_eq!(free(&alice()), ENDOWMENT + 750);
		assert_eq!(held(&bob()), 250);
		let channel = Payments::channel(id).unwrap();
		assert_eq!((channel.paid, channel.lanes), (750, 1));
		// The whole deposit can be paid out.
		let all = voucher(id, 1_000);
		assert_ok!(claim(all.clone(), sign("Bob", &all)));
		assert_eq!(held(&bob()), 0);
		assert_eq!(free(&alice()), ENDOWMENT + 1_000);
	});
}

#[test]
fn the_same_voucher_pays_once() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300);
		assert_ok!(claim(v.clone(), sign("Bob", &v)));
		assert_noop!(claim(v.clone(), sign("Bob", &v)), Error::<Test>::NotNewer);
		assert_eq!(Payments::check_voucher(&v, &sign("Bob", &v)), Err(VoucherError::NotNewer));
		assert_eq!(free(&alice()), ENDOWMENT + 300);
	});
}

#[test]
fn stale_vouchers_are_refused() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let newer = voucher(id, 500);
		assert_ok!(claim(newer.clone(), sign("Bob", &newer)));
		// An older voucher (a lower amount), and the same amount again.
		let older = voucher(id, 300);
		assert_noop!(claim(older.clone(), sign("Bob", &older)), Error::<Test>::NotNewer);
		let same_amount = voucher(id, 500);
		assert_noop!(claim(same_amount.clone(), sign("Bob", &same_amount)), Error::<Test>::NotNewer);
		// A higher amount is newer: vouchers are ordered by amount alone.
		let higher = voucher(id, 600);
		assert_ok!(claim(higher.clone(), sign("Bob", &higher)));
		assert_eq!(free(&alice()), ENDOWMENT + 600);
	});
}

#[test]
fn vouchers_cannot_exceed_the_deposit() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 1_001);
		assert_noop!(claim(v.clone(), sign("Bob", &v)), Error::<Test>::ExceedsDeposit);
		assert_eq!(
			Payments::check_voucher(&v, &sign("Bob", &v)),
			Err(VoucherError::ExceedsDeposit)
		);
		// After a top-up it is good.
		assert_ok!(Payments::top_up(RuntimeOrigin::signed(bob()), id, 1));
		assert_ok!(claim(v.clone(), sign("Bob", &v)));
		assert_eq!(free(&alice()), ENDOWMENT + 1_001);
	});
}

#[test]
fn a_voucher_is_valid_on_its_own_channel_only() {
	ExtBuilder.build_and_execute(|| {
		let first = open(1_000);
		let second = open(1_000);
		let v = voucher(first, 300);
		let signature = sign("Bob", &v);
		// The same signature presented for another channel of the same payer.
		let moved = voucher(second, 300);
		assert_noop!(claim(moved.clone(), signature), Error::<Test>::BadSignature);
		assert_eq!(Payments::check_voucher(&moved, &signature), Err(VoucherError::BadSignature));
		assert_ok!(claim(v.clone(), signature));
	});
}

#[test]
fn a_voucher_signed_for_another_chain_is_refused() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300);
		let other_genesis = [0x42u8; 32];
		assert_ne!(System::block_hash(0).as_ref(), &other_genesis[..]);
		let signature = VoucherSignature(pair("Bob").sign(&voucher_payload(&other_genesis, &v)));
		assert_noop!(claim(v.clone(), signature), Error::<Test>::BadSignature);
		// Without the domain tag (a bare SCALE voucher) it is refused too.
		let bare = VoucherSignature(pair("Bob").sign(&v.encode()));
		assert_noop!(claim(v.clone(), bare), Error::<Test>::BadSignature);
	});
}

#[test]
fn only_the_payer_can_sign() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300);
		assert_noop!(claim(v.clone(), sign("Alice", &v)), Error::<Test>::BadSignature);
		assert_noop!(claim(v.clone(), sign("Charlie", &v)), Error::<Test>::BadSignature);
		assert_noop!(claim(voucher(99, 300), sign("Bob", &v)), Error::<Test>::UnknownChannel);
	});
}

#[test]
fn wallet_wrapped_signatures_are_accepted() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300);
		let wrapped = [&b"<Bytes>"[..], &Payments::voucher_payload(&v), &b"</Bytes>"[..]].concat();
		assert_ok!(claim(v.clone(), VoucherSignature(pair("Bob").sign(&wrapped))));
	});
}

#[test]
fn claims_need_a_signed_or_authorized_origin() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300);
		assert_noop!(
			Payments::claim(RuntimeOrigin::none(), v.clone(), sign("Bob", &v)),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Payments::claim(RuntimeOrigin::root(), v.clone(), sign("Bob", &v)),
			DispatchError::BadOrigin
		);
		assert_ok!(Payments::claim(frame_system::RawOrigin::Authorized.into(), v.clone(), sign("Bob", &v)));
	});
}

#[test]
fn a_new_payee_must_receive_at_least_the_existential_deposit() {
	ExtBuilder.build_and_execute(|| {
		assert_ok!(Payments::open_channel(RuntimeOrigin::signed(bob()), nobody(), None, 1_000));
		let first = voucher(0, MIN_AUTHORIZED_CLAIM);
		assert_ok!(claim(first.clone(), sign("Bob", &first)));
		// The payee empties its account, which is reaped; a dust increase cannot recreate it.
		assert_ok!(pallet_balances::Pallet::<Test>::transfer_all(
			RuntimeOrigin::signed(nobody()),
			alice(),
			false
		));
		let dust = voucher(0, MIN_AUTHORIZED_CLAIM + EXISTENTIAL_DEPOSIT - 1);
		assert_noop!(claim(dust.clone(), sign("Bob", &dust)), Error::<Test>::PayeeCannotReceive);
		let enough = voucher(0, MIN_AUTHORIZED_CLAIM + EXISTENTIAL_DEPOSIT);
		assert_ok!(claim(enough.clone(), sign("Bob", &enough)));
		assert_eq!(free(&nobody()), EXISTENTIAL_DEPOSIT);
	});
}

#[test]
fn opening_a_lane_costs_at_least_a_free_claim() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		// Filling a channel's lanes with one-planck claims, to lock a node out, is refused.
		let tiny = voucher_on("Fake", id, MIN_AUTHORIZED_CLAIM - 1);
		assert_noop!(
			Payments::claim(RuntimeOrigin::signed(bob()), tiny.clone(), sign("Bob", &tiny)),
			Error::<Test>::NewLaneTooSmall
		);
		assert_eq!(
			authorize(tiny.clone(), sign("Bob", &tiny)),
			Err(InvalidTransaction::Custom(invalid::NEW_LANE_TOO_SMALL).into())
		);
		// On a lane it already has, any increase settles.
		let opened = voucher(id, MIN_AUTHORIZED_CLAIM);
		assert_ok!(claim(opened.clone(), sign("Bob", &opened)));
		let more = voucher(id, MIN_AUTHORIZED_CLAIM + 1);
		assert_ok!(claim(more.clone(), sign("Bob", &more)));
	});
}

#[test]
fn settle_and_close_pays_the_payee_and_refunds_the_payer() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 400);
		assert_noop!(
			Payments::settle_and_close(RuntimeOrigin::signed(bob()), v.clone(), sign("Bob", &v)),
			Error::<Test>::NotPayee
		);
		assert_noop!(
			Payments::settle_and_close(RuntimeOrigin::signed(alice()), v.clone(), sign("Charlie", &v)),
			Error::<Test>::BadSignature
		);
		let too_much = voucher(id, 1_001);
		assert_noop!(
			Payments::settle_and_close(
				RuntimeOrigin::signed(alice()),
				too_much.clone(),
				sign("Bob", &too_much)
			),
			Error::<Test>::ExceedsDeposit
		);
		assert_ok!(Payments::settle_and_close(RuntimeOrigin::signed(alice()), v.clone(), sign("Bob", &v)));
		assert_eq!(free(&alice()), ENDOWMENT + 400);
		assert_eq!(free(&bob()), ENDOWMENT - 400);
		assert_eq!(held(&bob()), 0);
		assert_eq!(Payments::channel(id), None);
		let events = payment_events();
		assert!(matches!(events[events.len() - 2], Event::Claimed { amount: 400, .. }));
		assert_eq!(
			events.last(),
			Some(&Event::ChannelClosed {
				channel_id: id,
				payer: bob(),
				payee: alice(),
				paid: 400,
				refunded: 600
			})
		);
	});
}

#[test]
fn settle_and_close_with_an_already_settled_voucher_just_closes() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 400);
		assert_ok!(claim(v.clone(), sign("Bob", &v)));
		assert_ok!(Payments::settle_and_close(RuntimeOrigin::signed(alice()), v.clone(), sign("Bob", &v)));
		assert_eq!(free(&alice()), ENDOWMENT + 400);
		assert_eq!(free(&bob()), ENDOWMENT - 400);
	});
}

fn authorize(
	v: Voucher<AccountId, u128>,
	signature: VoucherSignature,
) -> Result<(), TransactionValidityError> {
	let provides = ("SutantraPaymentsClaim", (v.channel_id, &v.lane)).encode();
	let call = Call::<Test>::claim { voucher: v, signature };
	call.authorize(TransactionSource::External).expect("claim is an authorized call").map(
		|(validity, _)| {
			assert_eq!(validity.priority, CLAIM_PRIORITY);
			assert_eq!(validity.provides, vec![provides]);
		},
	)
}

#[test]
fn authorization_accepts_valid_vouchers_worth_a_free_claim() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, MIN_AUTHORIZED_CLAIM);
		assert_ok!(authorize(v.clone(), sign("Bob", &v)));
		let small = voucher(id, MIN_AUTHORIZED_CLAIM - 1);
		assert_eq!(
			authorize(small.clone(), sign("Bob", &small)),
			Err(InvalidTransaction::Custom(invalid::NEW_LANE_TOO_SMALL).into())
		);
		assert_eq!(authorize(v.clone(), sign("Alice", &v)), Err(InvalidTransaction::BadProof.into()));
		let unknown = voucher(9, 100);
		assert_eq!(
			authorize(unknown.clone(), sign("Bob", &unknown)),
			Err(InvalidTransaction::Custom(invalid::UNKNOWN_CHANNEL).into())
		);
		let too_much = voucher(id, 1_001);
		assert_eq!(
			authorize(too_much.clone(), sign("Bob", &too_much)),
			Err(InvalidTransaction::Custom(invalid::EXCEEDS_DEPOSIT).into())
		);
		assert_ok!(claim(v.clone(), sign("Bob", &v)));
		assert_eq!(authorize(v.clone(), sign("Bob", &v)), Err(InvalidTransaction::Stale.into()));
		// On the lane it opened, an increase below `MinAuthorizedClaim` is not worth a free claim.
		let small = voucher(id, 2 * MIN_AUTHORIZED_CLAIM - 1);
		assert_eq!(
			authorize(small.clone(), sign("Bob", &small)),
			Err(InvalidTransaction::Custom(invalid::CLAIM_TOO_SMALL).into())
		);
		// Once the payer is closing, any increase is worth claiming.
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), id));
		let last = voucher(id, MIN_AUTHORIZED_CLAIM + 1);
		assert_ok!(authorize(last.clone(), sign("Bob", &last)));
	});
}

#[test]
fn an_authorized_claim_applies_without_an_account_or_fee() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 500);
		let call = RuntimeCall::Payments(Call::claim { voucher: v.clone(), signature: sign("Bob", &v) });
		let xt = Extrinsic::new_transaction(call, (frame_system::AuthorizeCall::new(),));
		let info = xt.get_dispatch_info();
		let len = xt.encoded_size();
		let checked = Checkable::check(xt, &frame_system::ChainContext::<Test>::default())
			.expect("a general transaction has no signature to check");
		checked
			.validate::<Test>(TransactionSource::External, &info, len)
			.expect("the voucher authorizes the claim");
		let result = checked.apply::<Test>(&info, len).expect("the transaction is valid");
		assert_ok!(result);
		assert_eq!(free(&alice()), ENDOWMENT + 500);

		// The same transaction again is stale, before it could be dispatched.
		let call = RuntimeCall::Payments(Call::claim { voucher: v.clone(), signature: sign("Bob", &v) });
		let xt = Extrinsic::new_transaction(call, (frame_system::AuthorizeCall::new(),));
		let checked = Checkable::check(xt, &frame_system::ChainContext::<Test>::default()).unwrap();
		assert_eq!(
			checked.apply::<Test>(&info, len).unwrap_err(),
			TransactionValidityError::Invalid(InvalidTransaction::Stale)
		);
		assert_eq!(free(&alice()), ENDOWMENT + 500);
	});
}

#[test]
fn each_lane_is_settled_on_its_own_and_together_they_never_exceed_the_deposit() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		// Two nodes each took vouchers on their own lane; each is settled for its own amount.
		let origin = voucher_on("Origin", id, 300);
		let relay = voucher_on("Relay", id, 500);
		assert_ok!(claim(origin.clone(), sign("Bob", &origin)));
		assert_ok!(claim(relay.clone(), sign("Bob", &relay)));
		assert_eq!(free(&alice()), ENDOWMENT + 800);
		assert_eq!(Payments::lane_paid(id, &account("Origin")), 300);
		assert_eq!(Payments::lane_paid(id, &account("Relay")), 500);
		let channel = Payments::channel(id).unwrap();
		assert_eq!((channel.paid, channel.lanes), (800, 2));
		// The same voucher is not newer on its own lane, and signed for one lane it is not valid
		// on another.
		assert_noop!(claim(origin.clone(), sign("Bob", &origin)), Error::<Test>::NotNewer);
		let moved = voucher_on("Relay", id, 600);
		assert_noop!(claim(moved, sign("Bob", &origin)), Error::<Test>::BadSignature);
		// The lanes over-commit the deposit: a claim pays what is left, and the rest of the
		// voucher stays claimable after a top-up.
		let more = voucher_on("Origin", id, 700);
		assert_eq!(Payments::check_voucher(&more, &sign("Bob", &more)), Ok(200));
		assert_ok!(claim(more.clone(), sign("Bob", &more)));
		assert_eq!(free(&alice()), ENDOWMENT + 1_000);
		assert_eq!(Payments::lane_paid(id, &account("Origin")), 500);
		assert_noop!(claim(more.clone(), sign("Bob", &more)), Error::<Test>::DepositExhausted);
		assert_ok!(Payments::top_up(RuntimeOrigin::signed(bob()), id, 500));
		assert_ok!(claim(more.clone(), sign("Bob", &more)));
		assert_eq!(Payments::lane_paid(id, &account("Origin")), 700);
		assert_eq!(free(&alice()), ENDOWMENT + 1_200);
		assert_eq!(held(&bob()), 300);
	});
}

#[test]
fn a_channel_has_a_bounded_number_of_lanes() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		for node in ["One", "Two", "Three"] {
			let v = voucher_on(node, id, MIN_AUTHORIZED_CLAIM);
			assert_ok!(claim(v.clone(), sign("Bob", &v)));
		}
		let fourth = voucher_on("Four", id, MIN_AUTHORIZED_CLAIM);
		assert_noop!(claim(fourth.clone(), sign("Bob", &fourth)), Error::<Test>::TooManyLanes);
		assert_eq!(
			authorize(fourth.clone(), sign("Bob", &fourth)),
			Err(InvalidTransaction::Custom(invalid::TOO_MANY_LANES).into())
		);
		// The lanes it has still settle, and closing removes them all.
		let again = voucher_on("Two", id, MIN_AUTHORIZED_CLAIM + 20);
		assert_ok!(claim(again.clone(), sign("Bob", &again)));
		assert_ok!(Payments::close(RuntimeOrigin::signed(alice()), id));
		assert_eq!(Payments::lane_paid(id, &account("Two")), 0);
	});
}

#[test]
fn a_payers_own_claim_cannot_make_a_nodes_voucher_unclaimable() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		// The node holds a voucher for 400 on its lane.
		let held_by_node = voucher(id, 400);
		// The payer settles a small voucher on that lane first (v1's nonce poisoning: a huge
		// nonce with a tiny amount). Vouchers carry no nonce now; the amount alone orders them.
		let tiny = voucher(id, MIN_AUTHORIZED_CLAIM);
		assert_ok!(Payments::claim(RuntimeOrigin::signed(bob()), tiny.clone(), sign("Bob", &tiny)));
		// The node's voucher still pays the rest of what it is worth.
		assert_eq!(
			Payments::check_voucher(&held_by_node, &sign("Bob", &held_by_node)),
			Ok(400 - MIN_AUTHORIZED_CLAIM)
		);
		assert_ok!(authorize(held_by_node.clone(), sign("Bob", &held_by_node)));
		assert_ok!(claim(held_by_node.clone(), sign("Bob", &held_by_node)));
		assert_eq!(free(&alice()), ENDOWMENT + 400);
	});
}

/// Applies an authorized (free) claim as a block would include it.
fn apply_free(v: Voucher<AccountId, u128>, payer: &str) -> Result<(), TransactionValidityError> {
	let call = RuntimeCall::Payments(Call::claim { signature: sign(payer, &v), voucher: v });
	let xt = Extrinsic::new_transaction(call, (frame_system::AuthorizeCall::new(),));
	let info = xt.get_dispatch_info();
	let len = xt.encoded_size();
	let checked = Checkable::check(xt, &frame_system::ChainContext::<Test>::default()).unwrap();
	checked.apply::<Test>(&info, len).map(|result| {
		assert_ok!(result);
	})
}

#[test]
fn a_channel_gets_one_free_claim_per_gap_and_a_block_a_bounded_number() {
	use crate::mock::{run_to_block, AUTHORIZED_CLAIM_GAP, MAX_AUTHORIZED_CLAIMS_PER_BLOCK};
	ExtBuilder.build_and_execute(|| {
		// A payer paying an account of its own: every claim is free to it and moves nothing.
		let id = open(10_000);
		assert_ok!(apply_free(voucher(id, 100), "Bob"));
		// Within the gap the channel gets no second free claim, on this lane or another...
		let soon = Err(InvalidTransaction::Custom(invalid::CLAIM_TOO_SOON).into());
		assert_eq!(apply_free(voucher(id, 200), "Bob"), soon);
		assert_eq!(apply_free(voucher_on("Node2", id, 100), "Bob"), soon);
		// ... though a signed claim, which pays its fee, settles it at once.
		assert_ok!(claim(voucher(id, 200), sign("Bob", &voucher(id, 200))));
		run_to_block(1 + AUTHORIZED_CLAIM_GAP - 1);
		assert_eq!(apply_free(voucher(id, 300), "Bob"), soon);
		run_to_block(1 + AUTHORIZED_CLAIM_GAP);
		assert_ok!(apply_free(voucher(id, 300), "Bob"));

		// One block takes at most MAX_AUTHORIZED_CLAIMS_PER_BLOCK free claims; the next waits
		// for a later block (ExhaustsResources: the block builder keeps it in the pool).
		run_to_block(100);
		let mut channels = vec![id, open(10_000), open(10_000)];
		for _ in 0..2 {
			let next = crate::NextChannelId::<Test>::get();
			assert_ok!(Payments::open_channel(RuntimeOrigin::signed(charlie()), alice(), None, 10_000));
			channels.push(next);
		}
		let payer = |channel: u64| if channel < channels[3] { "Bob" } else { "Charlie" };
		for channel in &channels[..MAX_AUTHORIZED_CLAIMS_PER_BLOCK as usize] {
			assert_ok!(apply_free(voucher(*channel, 1_000), payer(*channel)));
		}
		let last = channels[MAX_AUTHORIZED_CLAIMS_PER_BLOCK as usize];
		assert_eq!(
			apply_free(voucher(last, 1_000), payer(last)),
			Err(InvalidTransaction::ExhaustsResources.into())
		);
		// The transaction pool checks it for the next block (the count of this one is stale
		// there), where it is included.
		run_to_block(101);
		assert_ok!(authorize(voucher(last, 1_000), sign(payer(last), &voucher(last, 1_000))));
		assert_ok!(apply_free(voucher(last, 1_000), payer(last)));
	});
}

#[test]
fn a_closing_channel_keeps_the_gap_and_a_claim_that_cannot_pay_is_not_free() {
	use crate::mock::{run_to_block, AUTHORIZED_CLAIM_GAP};
	ExtBuilder.build_and_execute(|| {
		let id = open(10_000);
		assert_ok!(apply_free(voucher(id, 100), "Bob"));
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), id));
		// Closing waives the minimum amount, not the gap.
		assert_eq!(
			apply_free(voucher(id, 101), "Bob"),
			Err(InvalidTransaction::Custom(invalid::CLAIM_TOO_SOON).into())
		);
		run_to_block(1 + AUTHORIZED_CLAIM_GAP);
		assert_ok!(apply_free(voucher(id, 101), "Bob"));
		assert_eq!(free(&alice()), ENDOWMENT + 101);

		// A payee that cannot take the amount: it emptied its account, and the increase is below
		// the existential deposit. The claim would fail when dispatched (and undo its own count),
		// so it is not valid as a free one.
		let next = crate::NextChannelId::<Test>::get();
		assert_ok!(Payments::open_channel(RuntimeOrigin::signed(bob()), nobody(), None, 10_000));
		assert_ok!(claim(voucher(next, 60), sign("Bob", &voucher(next, 60))));
		assert_ok!(Balances::transfer_all(RuntimeOrigin::signed(nobody()), alice(), false));
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), next));
		let tiny = voucher(next, 60 + EXISTENTIAL_DEPOSIT - 1);
		assert_eq!(
			apply_free(tiny, "Bob"),
			Err(InvalidTransaction::Custom(invalid::PAYEE_CANNOT_RECEIVE).into())
		);
	});
}
