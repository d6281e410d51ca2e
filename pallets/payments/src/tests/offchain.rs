//! The offchain worker: claims the vouchers the node stored, as authorized transactions.

use codec::{Decode, Encode};
use frame_support::{
	assert_ok, dispatch::GetDispatchInfo, pallet_prelude::TransactionSource, traits::Hooks,
};
use sp_core::offchain::{
	testing::{PoolState, TestOffchainExt, TestTransactionPoolExt},
	OffchainDbExt, OffchainWorkerExt, StorageKind, TransactionPoolExt,
};
use sp_runtime::traits::{Applyable, Checkable};
use std::sync::Arc;
use sutantra_payments_primitives::offchain_voucher_key;

use super::channels::open;
use crate::{
	mock::{
		alice, bob, lane, run_to_block, sign, AccountId, ExtBuilder, Extrinsic, Payments, RuntimeCall,
		RuntimeOrigin, Test, CLAIM_RETRY_BLOCKS, ENDOWMENT, MIN_AUTHORIZED_CLAIM,
	},
	Call, SignedVoucher, Voucher,
};

fn run_worker(block: u64) {
	<Payments as Hooks<u64>>::offchain_worker(block);
}

/// Test state with an offchain database and a transaction pool the worker submits to.
fn offchain_ext() -> (sp_io::TestExternalities, Arc<parking_lot::RwLock<PoolState>>) {
	let (offchain, _) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let mut ext = ExtBuilder.build();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	(ext, pool_state)
}

/// What the node does when it accepts a voucher: store it under the documented key.
fn store(voucher: Voucher<AccountId, u128>) -> SignedVoucher<AccountId, u128> {
	let key = offchain_voucher_key(voucher.channel_id);
	let signed = SignedVoucher { signature: sign("Bob", &voucher), voucher };
	sp_io::offchain::local_storage_set(StorageKind::PERSISTENT, &key, &signed.encode());
	signed
}

/// The exact transaction the worker should submit for `signed`.
fn expected_claim(signed: &SignedVoucher<AccountId, u128>) -> Extrinsic {
	let call = RuntimeCall::Payments(Call::claim {
		voucher: signed.voucher.clone(),
		signature: signed.signature,
	});
	Extrinsic::new_transaction(call, (frame_system::AuthorizeCall::new(),))
}

fn submitted(pool: &Arc<parking_lot::RwLock<PoolState>>) -> Vec<Vec<u8>> {
	pool.read().transactions.clone()
}

#[test]
fn the_worker_submits_exactly_the_claim_of_the_stored_voucher() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		let id = open(1_000);
		let signed = store(Voucher { channel_id: id, lane: lane(), cumulative_amount: 400 });
		run_worker(2);
		let txs = submitted(&pool);
		assert_eq!(txs, vec![expected_claim(&signed).encode()]);

		// The submitted transaction is a general (account-less) one that pays Alice.
		let xt = Extrinsic::decode(&mut &txs[0][..]).unwrap();
		assert!(matches!(xt.preamble, sp_runtime::generic::Preamble::General(..)));
		let info = xt.get_dispatch_info();
		let len = txs[0].len();
		let checked = Checkable::check(xt, &frame_system::ChainContext::<Test>::default()).unwrap();
		checked.validate::<Test>(TransactionSource::Local, &info, len).unwrap();
		assert_ok!(checked.apply::<Test>(&info, len).unwrap());
		assert_eq!(pallet_balances::Pallet::<Test>::free_balance(alice()), ENDOWMENT + 400);

		// Claimed: the stored voucher is now stale, nothing more is submitted.
		run_to_block(2 + CLAIM_RETRY_BLOCKS);
		run_worker(2 + CLAIM_RETRY_BLOCKS);
		assert_eq!(submitted(&pool).len(), 1);
	});
}

#[test]
fn the_worker_does_not_resubmit_a_pending_claim_every_block() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		let id = open(1_000);
		let signed = store(Voucher { channel_id: id, lane: lane(), cumulative_amount: 400 });
		run_worker(2);
		run_worker(3);
		run_worker(1 + CLAIM_RETRY_BLOCKS);
		assert_eq!(submitted(&pool).len(), 1);
		// Not included after `ClaimRetryBlocks`: submitted again.
		run_worker(2 + CLAIM_RETRY_BLOCKS);
		assert_eq!(submitted(&pool), vec![expected_claim(&signed).encode(); 2]);
		// A newer voucher is submitted at once.
		let newer = store(Voucher { channel_id: id, lane: lane(), cumulative_amount: 600 });
		run_worker(3 + CLAIM_RETRY_BLOCKS);
		assert_eq!(submitted(&pool).last(), Some(&expected_claim(&newer).encode()));
		assert_eq!(submitted(&pool).len(), 3);
	});
}

#[test]
fn small_amounts_wait_until_the_channel_closes() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		let id = open(1_000);
		// The lane was opened by an earlier claim; the node now holds a small increase on it.
		let first = Voucher { channel_id: id, lane: lane(), cumulative_amount: MIN_AUTHORIZED_CLAIM };
		assert_ok!(Payments::claim(
			RuntimeOrigin::signed(alice()),
			first.clone(),
			sign("Bob", &first)
		));
		let signed = store(Voucher {
			channel_id: id,
			lane: lane(),
			cumulative_amount: 2 * MIN_AUTHORIZED_CLAIM - 1,
		});
		run_worker(2);
		assert!(submitted(&pool).is_empty());
		assert_ok!(Payments::close(RuntimeOrigin::signed(bob()), id));
		run_worker(3);
		assert_eq!(submitted(&pool), vec![expected_claim(&signed).encode()]);
	});
}

#[test]
fn unusable_stored_vouchers_are_skipped() {
	let (mut ext, pool) = offchain_ext();
	ext.execute_with(|| {
		let set = |channel: u64, value: &[u8]| {
			sp_io::offchain::local_storage_set(
				StorageKind::PERSISTENT,
				&offchain_voucher_key(channel),
				value,
			)
		};
		let first = open(1_000);
		let second = open(1_000);
		let third = open(1_000);
		// Badly signed (by Alice, not the payer).
		let bad = Voucher { channel_id: first, lane: lane(), cumulative_amount: 400 };
		set(first, &SignedVoucher { voucher: bad.clone(), signature: sign("Alice", &bad) }.encode());
		// A good voucher of the first channel, stored under the second's key.
		let moved = Voucher { channel_id: first, lane: lane(), cumulative_amount: 400 };
		set(second, &SignedVoucher { voucher: moved.clone(), signature: sign("Bob", &moved) }.encode());
		// Not decodable.
		set(third, b"garbage");
		// More than the deposit, on Charlie's channel, signed by Charlie.
		let fourth = crate::NextChannelId::<Test>::get();
		assert_ok!(Payments::open_channel(
			RuntimeOrigin::signed(crate::mock::charlie()),
			alice(),
			None,
			1_000
		));
		let greedy = Voucher { channel_id: fourth, lane: lane(), cumulative_amount: 1_001 };
		set(
			fourth,
			&SignedVoucher { voucher: greedy.clone(), signature: sign("Charlie", &greedy) }.encode(),
		);
		run_worker(2);
		assert!(submitted(&pool).is_empty());
	});
}
