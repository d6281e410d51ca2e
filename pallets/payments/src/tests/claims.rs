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
		alice, bob, charlie, nobody, pair, payment_events, sign, Balances, ExtBuilder, Extrinsic,
		Payments, RuntimeCall, RuntimeHoldReason, RuntimeOrigin, System, Test, CLAIM_PRIORITY,
		ENDOWMENT, EXISTENTIAL_DEPOSIT, MIN_AUTHORIZED_CLAIM,
	},
	Call, Error, Event, HoldReason, Voucher, VoucherError, VoucherSignature,
};

fn free(who: &crate::mock::AccountId) -> u128 {
	pallet_balances::Pallet::<Test>::free_balance(who)
}

fn held(who: &crate::mock::AccountId) -> u128 {
	Balances::balance_on_hold(&RuntimeHoldReason::Payments(HoldReason::ChannelDeposit), who)
}

fn voucher(channel_id: u64, cumulative_amount: u128, nonce: u64) -> Voucher<u128> {
	Voucher { channel_id, cumulative_amount, nonce }
}

fn claim(voucher: Voucher<u128>, signature: VoucherSignature) -> sp_runtime::DispatchResult {
	Payments::claim(RuntimeOrigin::signed(charlie()), voucher, signature)
}

#[test]
fn claims_pay_the_difference_to_what_was_paid() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let first = voucher(id, 300, 1);
		assert_eq!(Payments::check_voucher(&first, &sign("Bob", &first)), Ok(300));
		assert_ok!(claim(first, sign("Bob", &first)));
		assert_eq!(free(&alice()), ENDOWMENT + 300);
		assert_eq!(held(&bob()), 700);
		assert_eq!(
			payment_events().last(),
			Some(&Event::Claimed {
				channel_id: id,
				payee: alice(),
				amount: 300,
				total_paid: 300,
				nonce: 1
			})
		);
		// Vouchers are cumulative: the next pays only what it adds.
		let second = voucher(id, 750, 5);
		assert_eq!(Payments::check_voucher(&second, &sign("Bob", &second)), Ok(450));
		assert_ok!(claim(second, sign("Bob", &second)));
		assert_eq!(free(&alice()), ENDOWMENT + 750);
		assert_eq!(held(&bob()), 250);
		let channel = Payments::channel(id).unwrap();
		assert_eq!((channel.paid, channel.nonce), (750, 5));
		// The whole deposit can be paid out.
		let all = voucher(id, 1_000, 6);
		assert_ok!(claim(all, sign("Bob", &all)));
		assert_eq!(held(&bob()), 0);
		assert_eq!(free(&alice()), ENDOWMENT + 1_000);
	});
}

#[test]
fn the_same_voucher_pays_once() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300, 1);
		assert_ok!(claim(v, sign("Bob", &v)));
		assert_noop!(claim(v, sign("Bob", &v)), Error::<Test>::NotNewer);
		assert_eq!(Payments::check_voucher(&v, &sign("Bob", &v)), Err(VoucherError::NotNewer));
		assert_eq!(free(&alice()), ENDOWMENT + 300);
	});
}

#[test]
fn stale_vouchers_are_refused() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let newer = voucher(id, 500, 4);
		assert_ok!(claim(newer, sign("Bob", &newer)));
		// An older voucher (lower nonce and amount).
		let older = voucher(id, 300, 2);
		assert_noop!(claim(older, sign("Bob", &older)), Error::<Test>::NotNewer);
		// A higher nonce must also raise the amount, and a higher amount needs a higher nonce.
		let same_amount = voucher(id, 500, 5);
		assert_noop!(claim(same_amount, sign("Bob", &same_amount)), Error::<Test>::NotNewer);
		let same_nonce = voucher(id, 600, 4);
		assert_noop!(claim(same_nonce, sign("Bob", &same_nonce)), Error::<Test>::NotNewer);
		let lower_amount = voucher(id, 400, 9);
		assert_noop!(claim(lower_amount, sign("Bob", &lower_amount)), Error::<Test>::NotNewer);
	});
}

#[test]
fn vouchers_cannot_exceed_the_deposit() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 1_001, 1);
		assert_noop!(claim(v, sign("Bob", &v)), Error::<Test>::ExceedsDeposit);
		assert_eq!(
			Payments::check_voucher(&v, &sign("Bob", &v)),
			Err(VoucherError::ExceedsDeposit)
		);
		// After a top-up it is good.
		assert_ok!(Payments::top_up(RuntimeOrigin::signed(bob()), id, 1));
		assert_ok!(claim(v, sign("Bob", &v)));
		assert_eq!(free(&alice()), ENDOWMENT + 1_001);
	});
}

#[test]
fn a_voucher_is_valid_on_its_own_channel_only() {
	ExtBuilder.build_and_execute(|| {
		let first = open(1_000);
		let second = open(1_000);
		let v = voucher(first, 300, 1);
		let signature = sign("Bob", &v);
		// The same signature presented for another channel of the same payer.
		let moved = voucher(second, 300, 1);
		assert_noop!(claim(moved, signature), Error::<Test>::BadSignature);
		assert_eq!(Payments::check_voucher(&moved, &signature), Err(VoucherError::BadSignature));
		assert_ok!(claim(v, signature));
	});
}

#[test]
fn a_voucher_signed_for_another_chain_is_refused() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300, 1);
		let other_genesis = [0x42u8; 32];
		assert_ne!(System::block_hash(0).as_ref(), &other_genesis[..]);
		let signature = VoucherSignature(pair("Bob").sign(&voucher_payload(&other_genesis, &v)));
		assert_noop!(claim(v, signature), Error::<Test>::BadSignature);
		// Without the domain tag (a bare SCALE voucher) it is refused too.
		let bare = VoucherSignature(pair("Bob").sign(&v.encode()));
		assert_noop!(claim(v, bare), Error::<Test>::BadSignature);
	});
}

#[test]
fn only_the_payer_can_sign() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300, 1);
		assert_noop!(claim(v, sign("Alice", &v)), Error::<Test>::BadSignature);
		assert_noop!(claim(v, sign("Charlie", &v)), Error::<Test>::BadSignature);
		assert_noop!(claim(voucher(99, 300, 1), sign("Bob", &v)), Error::<Test>::UnknownChannel);
	});
}

#[test]
fn wallet_wrapped_signatures_are_accepted() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300, 1);
		let wrapped = [&b"<Bytes>"[..], &Payments::voucher_payload(&v), &b"</Bytes>"[..]].concat();
		assert_ok!(claim(v, VoucherSignature(pair("Bob").sign(&wrapped))));
	});
}

#[test]
fn claims_need_a_signed_or_authorized_origin() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 300, 1);
		assert_noop!(
			Payments::claim(RuntimeOrigin::none(), v, sign("Bob", &v)),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Payments::claim(RuntimeOrigin::root(), v, sign("Bob", &v)),
			DispatchError::BadOrigin
		);
		assert_ok!(Payments::claim(frame_system::RawOrigin::Authorized.into(), v, sign("Bob", &v)));
	});
}

#[test]
fn a_new_payee_must_receive_at_least_the_existential_deposit() {
	ExtBuilder.build_and_execute(|| {
		assert_ok!(Payments::open_channel(RuntimeOrigin::signed(bob()), nobody(), None, 1_000));
		let dust = voucher(0, EXISTENTIAL_DEPOSIT - 1, 1);
		assert_noop!(claim(dust, sign("Bob", &dust)), Error::<Test>::PayeeCannotReceive);
		let enough = voucher(0, EXISTENTIAL_DEPOSIT, 2);
		assert_ok!(claim(enough, sign("Bob", &enough)));
		assert_eq!(free(&nobody()), EXISTENTIAL_DEPOSIT);
	});
}

#[test]
fn settle_and_close_pays_the_payee_and_refunds_the_payer() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 400, 3);
		assert_noop!(
			Payments::settle_and_close(RuntimeOrigin::signed(bob()), v, sign("Bob", &v)),
			Error::<Test>::NotPayee
		);
		assert_noop!(
			Payments::settle_and_close(RuntimeOrigin::signed(alice()), v, sign("Charlie", &v)),
			Error::<Test>::BadSignature
		);
		let too_much = voucher(id, 1_001, 3);
		assert_noop!(
			Payments::settle_and_close(
				RuntimeOrigin::signed(alice()),
				too_much,
				sign("Bob", &too_much)
			),
			Error::<Test>::ExceedsDeposit
		);
		assert_ok!(Payments::settle_and_close(RuntimeOrigin::signed(alice()), v, sign("Bob", &v)));
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
		let v = voucher(id, 400, 3);
		assert_ok!(claim(v, sign("Bob", &v)));
		assert_ok!(Payments::settle_and_close(RuntimeOrigin::signed(alice()), v, sign("Bob", &v)));
		assert_eq!(free(&alice()), ENDOWMENT + 400);
		assert_eq!(free(&bob()), ENDOWMENT - 400);
	});
}

fn authorize(
	v: Voucher<u128>,
	signature: VoucherSignature,
) -> Result<(), TransactionValidityError> {
	let call = Call::<Test>::claim { voucher: v, signature };
	call.authorize(TransactionSource::External).expect("claim is an authorized call").map(
		|(validity, _)| {
			assert_eq!(validity.priority, CLAIM_PRIORITY);
			assert_eq!(validity.provides, vec![("SutantraPaymentsClaim", v.channel_id).encode()]);
		},
	)
}

#[test]
fn authorization_accepts_valid_vouchers_worth_a_free_claim() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, MIN_AUTHORIZED_CLAIM, 1);
		assert_ok!(authorize(v, sign("Bob", &v)));
		let small = voucher(id, MIN_AUTHORIZED_CLAIM - 1, 1);
		assert_eq!(
			authorize(small, sign("Bob", &small)),
			Err(InvalidTransaction::Custom(invalid::CLAIM_TOO_SMALL).into())
		);
		assert_eq!(authorize(v, sign("Alice", &v)), Err(InvalidTransaction::BadProof.into()));
		let unknown = voucher(9, 100, 1);
		assert_eq!(
			authorize(unknown, sign("Bob", &unknown)),
			Err(InvalidTransaction::Custom(invalid::UNKNOWN_CHANNEL).into())
		);
		let too_much = voucher(id, 1_001, 1);
		assert_eq!(
			authorize(too_much, sign("Bob", &too_much)),
			Err(InvalidTransaction::Custom(invalid::EXCEEDS_DEPOSIT).into())
		);
		assert_ok!(claim(v, sign("Bob", &v)));
		assert_eq!(authorize(v, sign("Bob", &v)), Err(InvalidTransaction::Stale.into()));
		// Once the payer is closing, any increase is worth claiming.
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), id));
		let last = voucher(id, MIN_AUTHORIZED_CLAIM + 1, 2);
		assert_ok!(authorize(last, sign("Bob", &last)));
	});
}

#[test]
fn an_authorized_claim_applies_without_an_account_or_fee() {
	ExtBuilder.build_and_execute(|| {
		let id = open(1_000);
		let v = voucher(id, 500, 1);
		let call = RuntimeCall::Payments(Call::claim { voucher: v, signature: sign("Bob", &v) });
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
		let call = RuntimeCall::Payments(Call::claim { voucher: v, signature: sign("Bob", &v) });
		let xt = Extrinsic::new_transaction(call, (frame_system::AuthorizeCall::new(),));
		let checked = Checkable::check(xt, &frame_system::ChainContext::<Test>::default()).unwrap();
		assert_eq!(
			checked.apply::<Test>(&info, len).unwrap_err(),
			TransactionValidityError::Invalid(InvalidTransaction::Stale)
		);
		assert_eq!(free(&alice()), ENDOWMENT + 500);
	});
}
